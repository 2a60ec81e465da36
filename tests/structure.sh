#!/bin/bash
# The module map, enforced: which module may include which, no reaching into another module's
# internal header (*_int.h, internal.h), no source file over 900 lines. Prints every module's size, then each
# violation with file:line, and exits 1 if there is any.
#
# A module is a top-level folder with C sources. Its allowed dependencies are listed below, one
# row per module; an include of a module not in the row is a violation. The table is the
# architecture (docs/ARCHITECTURE.md): capture -> detect -> mitigation -> bgp / storage / actions,
# api drives mitigation, only rampartd/ (the wiring) knows all.
set -u
cd "$(dirname "$0")/.."

MAX_LINES=${MAX_LINES:-900}
# rampartd/ is wiring only (main, the tick, the capture workers, reload): what grows past this
# belongs to a module. docs/ARCHITECTURE.md aims at about 1 000 lines.
RAMPARTD_MAX=${RAMPARTD_MAX:-1550}

declare -A ALLOW=(
	[lib]=""
	[flowspec]="lib"
	[capture]="lib"
	[detect]="lib capture"
	[bgp]="lib flowspec"
	[storage]="lib capture detect flowspec"
	[conf]="lib capture detect flowspec bgp storage"
	[migrate]="lib conf"
	[mitigation]="lib capture detect flowspec bgp storage conf"
	[actions]="lib capture detect flowspec bgp storage conf mitigation"
	[api]="lib capture detect flowspec bgp storage conf mitigation actions migrate"
	[ctl]="lib conf migrate"
	[rampartd]="*"
)

fail=0
violation() { echo "  VIOLATION $*"; fail=1; }

modules=()
for d in */; do
	d=${d%/}
	case $d in tests|bench|build*|docs|dist|scripts|interop) continue ;; esac
	compgen -G "$d/*.c" >/dev/null || continue
	modules+=("$d")
done

echo "module sizes (lines of .c and .h):"
total=0
for m in "${modules[@]}"; do
	n=$(cat "$m"/*.[ch] | wc -l)
	total=$((total + n))
	printf '  %-12s %6d  (%d files)\n' "$m" "$n" "$(ls "$m"/*.[ch] | wc -l)"
done
printf '  %-12s %6d\n' total "$total"

echo "checks:"
rd_lines=$(cat rampartd/*.[ch] | wc -l)
printf '  rampartd/ wiring: %d lines (budget %d)\n' "$rd_lines" "$RAMPARTD_MAX"
((rd_lines > RAMPARTD_MAX)) && violation "rampartd/: $rd_lines lines (more than $RAMPARTD_MAX): move what is not wiring into its module"
for m in "${modules[@]}"; do
	if [[ -z ${ALLOW[$m]+set} ]]; then
		violation "$m/: a module with no row in tests/structure.sh (say what it may include)"
		continue
	fi
	allow=" ${ALLOW[$m]} "
	for f in "$m"/*.[ch]; do
		lines=$(wc -l <"$f")
		((lines > MAX_LINES)) && violation "$f: $lines lines (more than $MAX_LINES)"
		# "../mod/x.h" and "mod/x.h" (the build passes -I.)
		while IFS=: read -r ln inc; do
			dep=${inc%%/*}
			[[ $dep == "$m" ]] && continue
			if [[ $inc == *_int.h || $inc == */internal.h ]]; then
				violation "$f:$ln includes $inc: another module's internal header"
			fi
			[[ ${ALLOW[$m]} == "*" ]] && continue
			[[ $allow == *" $dep "* ]] || violation "$f:$ln includes $inc: $m/ may not depend on $dep/"
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
			sed -E 's/^([0-9]+):[^"]*"(\.\.\/)?([^"]*)".*/\1:\3/' | grep '/')
	done
done

if ((fail)); then
	echo "structure: FAILED"
	exit 1
fi
echo "structure: ok (${#modules[@]} modules, no file over $MAX_LINES lines, rampartd/ $rd_lines of $RAMPARTD_MAX)"
