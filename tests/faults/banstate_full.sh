#!/bin/bash
# The ban state file on a full disk (docs/BGP.md, "Restart: the ban state file"). storage.dir is
# a 512 KiB tmpfs that holds the ban state file and the spool (ClickHouse unreachable, so the
# bans' attack_events rows go to the spool there too). No capture, no BGP: bans by rampartctl.
#   1. The disk filled (a file takes every free block, as a spool that fills it would), three
#      `rampartctl ban`s: each is written (the spare reserved their space), the file is whole;
#      kill -9, space freed, restart: all three bans are back, with the same attack ids.
#   2. No spare left (removed, its space filled too), a fourth ban: the write is refused, the
#      last good file stays byte for byte, "NO SPACE" is logged once (retries every second do not
#      repeat it), `rampartctl stats` says DISK FULL and counts it; space freed: within seconds the
#      file has the fourth ban, "space is back" is logged, the condition is cleared.
# Root (mount). Prints "banstate_full: N passed, N failed".
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries
T_PASS=0
ok() { say "ok: $*"; T_PASS=$((T_PASS + 1)); }
[ "$(id -u)" -eq 0 ] || { echo "banstate_full: needs root (mount -t tmpfs)"; exit 2; }

W=$(mktemp -d /tmp/rampart-bsfull.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && { kill -9 "$PID"; wait "$PID"; } 2>/dev/null
	mountpoint -q "$W/data" && umount "$W/data"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/data"
mount -t tmpfs -o size=512k tmpfs "$W/data" || die "cannot mount a tmpfs"
SOCK=$W/rampart.sock
STATE=$W/data/bans.state
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
thresholds: { incoming: { pps: 500 } }
capture: { pcap: { interfaces: [] } }
storage: { dir: $W/data, clickhouse: { url: "http://127.0.0.1:1" } }
api: { socket: $SOCK, http: "" }
CONF
start() {
	rm -f "$SOCK"
	"$RAMPARTD" -c "$W/rampart.yaml" >>"$W/rampartd.log" 2>&1 &
	PID=$!
	wait_for 10 "$RAMPARTCTL" -s "$SOCK" stats || { tail -30 "$W/rampartd.log"; die "rampartd did not start"; }
}
# fill NAME: NAME takes every free block of the tmpfs
fill() { dd if=/dev/zero of="$W/data/$1" bs=4k status=none 2>/dev/null; true; }
full() { ! dd if=/dev/zero of="$W/data/probe" bs=4k count=1 status=none 2>/dev/null; }
stats() { ctl stats | grep '^ban state'; }
ids() { ctl bans | awk '$2 ~ /^192\.0\.2\.1[1-4]\/32$/ { print $2, $1 }' | sort; }
HOSTS="192.0.2.11 192.0.2.12 192.0.2.13"

# 1 ---------------------------------------------------------------------------------------
start
check "1: the first write reserved a spare" wait_for 5 test -e "$STATE.spare"
fill filler
check "1: the disk is full" full
rm -f "$W/data/probe"
for h in $HOSTS; do ctl ban "$h" --for 600 >/dev/null || fail "1: rampartctl ban $h"; done
check "1: the state file holds the three bans" wait_for 5 eval \
	"grep -q ' 192.0.2.11/32 ' $STATE && grep -q ' 192.0.2.12/32 ' $STATE && grep -q ' 192.0.2.13/32 ' $STATE"
check "1: ... and is whole (its end line counts them)" eval "tail -1 $STATE | grep -qx 'end 3'"
check "1: the disk is still full (the writes used the spare)" full
rm -f "$W/data/probe"
check "1: no write failed" eval "stats | grep -q 'failed 0 (no space 0) last'"
before=$(ids)
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
rm -f "$W/data/filler"
start
after=$(ids)
check "1: after kill -9 and a restart all three bans are back ($(echo "$after" | wc -l) of 3)" \
	test "$(echo "$after" | wc -l)" -eq 3
check "1: with the same attack ids" test "$before" = "$after"
check "1: the start says so" eval "stats | grep -q 'restored 3 (bans 3)'"

# 2 ---------------------------------------------------------------------------------------
wait_for 5 test -e "$STATE.spare"
mark=$(wc -l <"$W/rampartd.log")
rm -f "$STATE.spare"
fill filler
sum=$(md5sum <"$STATE")
ctl ban 192.0.2.14 --for 600 >/dev/null || fail "2: rampartctl ban 192.0.2.14"
check "2: the refused write shows: DISK FULL in stats" wait_for 5 eval "stats | grep -q 'DISK FULL'"
check "2: ... counted as no space" eval "stats | grep -qE 'failed [1-9][0-9]* \(no space [1-9][0-9]*\)'"
sleep 3 # three retries
check "2: the last good file is kept byte for byte" test "$(md5sum <"$STATE")" = "$sum"
check "2: retries went on" eval "stats | grep -qE 'no space ([3-9]|[1-9][0-9]+)\)'"
n=$(tail -n +$((mark + 1)) "$W/rampartd.log" | grep -c 'ban state: NO SPACE')
check "2: NO SPACE logged once ($n)" test "$n" -eq 1
rm -f "$W/data/filler"
check "2: space back: the fourth ban is written" wait_for 5 grep -q ' 192.0.2.14/32 ' "$STATE"
check "2: ... the condition cleared" wait_for 3 eval "! stats | grep -q 'DISK FULL'"
check "2: ... and said so" grep -q 'ban state: space is back' "$W/rampartd.log"
check "2: the spare is back" test -e "$STATE.spare"
kill "$PID"; wait "$PID"; rc=$?; PID=
check "SIGTERM stops it cleanly (rc $rc)" test "$rc" -eq 0
[ "$T_FAILS" -eq 0 ] || tail -40 "$W/rampartd.log"
echo "banstate_full: $T_PASS passed, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
