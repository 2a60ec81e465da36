#!/bin/bash
# Every key the configuration loader accepts is documented in rampart.yaml(5): the key names are
# taken from the loader's tables in conf/conf.c (the ckey macros, .name = "..." entries and the
# TH_CLASS threshold families), and each must appear in docs/man/rampart.yaml.5 in bold. A new
# key without documentation fails here. As a check of the extraction itself, every key that
# rampartd --print-config prints must be among the extracted ones. No root, ~1 s.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries
cd "$REPO"
PAGE=docs/man/rampart.yaml.5
W=$(mktemp -d /tmp/rampart-mankeys.XXXXXX)
trap 'rm -rf "$W"' EXIT

{
	grep -oE '\b(INT|DUR|BOOL|STR|TYPED|ENUM|MAP|LIST|TH)\("[a-z0-9_]+"' conf/conf.c | sed 's/.*("//; s/"$//'
	grep -oE '\.name = "[a-z0-9_]+"' conf/conf.c | sed 's/.*= "//; s/"$//'
	for c in $(grep -oE 'TH_CLASS\("[a-z]+"' conf/conf.c | sed 's/.*("//; s/"$//'); do
		printf '%s_pps\n%s_mbps\n%s_flows\n' "$c" "$c" "$c"
	done
} | sort -u >"$W/keys"
n=$(wc -l <"$W/keys")
check "extracted the loader's keys ($n)" test "$n" -ge 100

missing=()
for k in $(cat "$W/keys"); do
	# \fBkey\fR, or .B key / .BR key at the start of a line
	grep -qE "(\\\\fB|^\.BR? )([a-z0-9_]+\.)*$k(\\\\f|[ ,]|$)" "$PAGE" || missing+=("$k")
done
check "every key is in rampart.yaml(5)${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0

"$RAMPARTD" -c conf/examples/full.yaml --print-config >"$W/printed" 2>&1 || die "--print-config of conf/examples/full.yaml failed"
unknown=()
for k in $(grep -oE '^[[:space:]-]*[a-z0-9_]+:' "$W/printed" | sed 's/^[[:space:]-]*//; s/:$//' | sort -u); do
	grep -qx "$k" "$W/keys" || unknown+=("$k")
done
check "every key --print-config prints was extracted${unknown:+ (not: ${unknown[*]})}" test ${#unknown[@]} -eq 0
finish
