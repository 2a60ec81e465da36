# Shell helpers for Rampart's integration tests. Source it; it sets REPO, BUILD, DATA.
#   BUILD   the build directory whose rampartd/rampartctl are tested (build, or build-asan)
#   DATA    the shared captures (../shared/data next to the repository, or $RAMPART_DATA)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
DATA=${RAMPART_DATA:-$REPO/../shared/data}
RAMPARTD=$BUILD/rampartd
RAMPARTCTL=$BUILD/rampartctl

T_FAILS=0
T_NAME=$(basename "$0" .sh)

say() { printf '%s: %s\n' "$T_NAME" "$*"; }
fail() { say "FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
ok() { say "ok: $*"; }
die() { say "FAIL: $*"; exit 1; }

# check DESCRIPTION COMMAND...: runs COMMAND, counts a failure when it fails.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; 1 on timeout.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}

need_data() {
	[ -r "$DATA/mirror-attack-mix.pcap" ] ||
		die "the shared captures are not at $DATA (set RAMPART_DATA to the directory)"
}

need_binaries() {
	[ -x "$RAMPARTD" ] && [ -x "$RAMPARTCTL" ] || die "build $RAMPARTD and $RAMPARTCTL first (make)"
}

# replay_max PCAP [COMMAND...]: rampartd on $WORK/rampart.yaml (control socket $SOCK) replays PCAP
# at full speed, run under COMMAND if given (e.g. ip netns exec NS); its pid in PID, its log in
# $WORK/rampartd.log. Returns once the replay finished and the tick after the file's end ran on
# the capture clock; dies after 30 s. ctl ARGS...: rampartctl on $SOCK.
replay_max() {
	local pcap=$1; shift
	"$@" "$RAMPARTD" -c "$WORK/rampart.yaml" --pcap "$pcap" --pcap-speed max >"$WORK/rampartd.log" 2>&1 &
	PID=$!
	wait_for 30 sh -c "\"$RAMPARTCTL\" -s $SOCK stats | grep -q finished" ||
		{ cat "$WORK/rampartd.log"; die "the replay did not finish within 30 s"; }
	sleep 1
}
ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }

# work_dir TAG: a fresh WORK=/tmp/rampart-TAG.XXXXXX, removed at exit, where the daemon started
# as PID is killed (-9) first; on_exit CMD adds a command run before that (last added, first run).
EXIT_CMDS=()
on_exit() { EXIT_CMDS+=("$*"); }
work_dir() {
	WORK=$(mktemp -d "/tmp/rampart-$1.XXXXXX")
	PID=
	trap work_cleanup EXIT
}
work_cleanup() {
	local i
	for ((i = ${#EXIT_CMDS[@]} - 1; i >= 0; i--)); do eval "${EXIT_CMDS[i]}" 2>/dev/null; done
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$WORK"
}

# The victims of mirror-attack-mix.pcap, from ../shared/data/README.md.
VICTIMS="192.0.2.10/32 192.0.2.20/32 192.0.2.30/32 192.0.2.40/32 2001:db8:10::53/128"

finish() {
	if [ "$T_FAILS" -eq 0 ]; then say "PASS"; exit 0; fi
	say "$T_FAILS check(s) failed"; exit 1
}
