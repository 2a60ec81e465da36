#!/usr/bin/env bash
# The shutdown summary tells the real totals when the spool's disk fills (issue 17: it said
# "0 dropped" after 719 065 rows were dropped). rampartd replays the shared capture with
# ClickHouse unreachable and storage.spool_dir on a 256 KiB tmpfs, so the spool fills part way:
#   - rows were both spooled and dropped (the disk kept what it could);
#   - the summary's flow rows "in the spool" are exactly the rows in the spool's files (by their
#     names), its "spool refused" equals `rampartctl stats`' spool dropped, and written +
#     in the spool + dropped == the flow rows queued (nothing unaccounted for);
#   - the full disk is logged loudly once per episode ("DROPPING rows ... No space left").
# Root (mount). No network, no ports. Prints "spool_full_summary: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/rampart.sh
need_data
need_binaries
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
t() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
W=$(mktemp -d /tmp/rampart-faults-spoolsum.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	mountpoint -q "$W/spool" && umount "$W/spool"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/spool"
mount -t tmpfs -o size=256k tmpfs "$W/spool" || { echo "spool_full_summary: 0 passed, 1 failed (cannot mount a tmpfs: root needed)"; exit 2; }
SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds: { incoming: { pps: 500 } }
capture: { pcap: { interfaces: [], flow_active_timeout: 1, flow_inactive_timeout: 1 } }
storage: { dir: $W/data, spool_dir: $W/spool, batch_rows: 500, clickhouse: { url: "http://127.0.0.1:1" } }
api: { socket: $SOCK, http: "" }
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" >"$W/rd.log" 2>&1 &
PID=$!
wait_for 30 sh -c "'$RAMPARTCTL' -s '$SOCK' stats | grep -q finished" || { tail "$W/rd.log"; die "rampartd did not come up"; }
sleep 3 # the last flows expire (1 s timeouts) and are batched
st=$("$RAMPARTCTL" -s "$SOCK" stats)
queued=$(sed -n 's/.* flows queued \([0-9]*\).*/\1/p' <<<"$st" | head -1)
refused=$(sed -n 's/.*flows spooled [0-9]* replayed [0-9]* dropped \([0-9]*\).*/\1/p' <<<"$st" | head -1)
kill -TERM "$PID"; wait "$PID"; PID=
s=$(grep 'storage: flow rows:' "$W/rd.log" | tail -1)
echo "   stats: flows queued $queued, spool dropped $refused"
echo "   $s"
read -r fw fs fd fr fp <<<"$(sed -E 's/.*flow rows: ([0-9]+) written, ([0-9]+) in the spool, ([0-9]+) dropped \(([0-9]+) ring full, ([0-9]+) spool refused\).*/\1 \2 \3 \4 \5/' <<<"$s")"
files=$(ls "$W/spool" | sed -n 's/^[0-9a-f]\{16\}-flows-[0-9a-f]\{16\}-\([0-9]*\)\(-u\)\{0,1\}\.rowbinary$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
t "rows were spooled ($fs) and dropped ($fp): the disk kept what it could" test "$fs" -gt 0 -a "$fp" -gt 0
t "the summary's rows in the spool are the files' ($files)" test "$files" -eq "$fs"
t "the summary's spool refused ($fp) is at least what stats counted before the stop ($refused)" test "$fp" -ge "$refused" -a "$refused" -gt 0
t "written + in the spool + dropped == queued ($fw + $fs + $fd == $queued)" test $((fw + fs + fd)) -eq "$queued"
loud=$(grep -c 'DROPPING rows' "$W/rd.log") again=$(grep -c 'takes batches again' "$W/rd.log")
t "the full disk is logged loudly once per episode ($loud loud, $again recoveries)" test "$loud" -ge 1 -a "$loud" -le $((again + 1))
t "the log names the cause" grep -q "No space left on device" "$W/rd.log"
t "no .tmp file left in the spool" sh -c "! ls -A '$W/spool' | grep -q '\.tmp$'"
echo "spool_full_summary: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
