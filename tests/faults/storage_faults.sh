#!/usr/bin/env bash
# Storage faults through the real writer (bench/bench_storage drives st_writer, as rampartd does):
#   (1 s is the stop budget the issue asks; the writer waits on ClickHouse at most 250 ms,
#   storage/writer.c STOP_RETRY_MS, and not at all once it is down or hung; its "stopped in"
#   line, printed here, says where the time went)
#   1. ClickHouse unreachable: stop within 1 s, every row spooled, none lost.
#   2. ClickHouse hung (SIGSTOP) with inserts in flight: stop within 1 s; every row written or
#      spooled (in-flight ones as unknown), none lost.
#   2b. ClickHouse slow (SIGSTOPped 100 ms in every 150): stop within 1 s, nothing lost.
#   3. ClickHouse killed (SIGKILL) while rows flow: stop within 1 s; written + spooled == pushed.
#   4. The spool on a tmpfs that fills (mount -t tmpfs -o size=256k, private dir): nothing lost
#      that the disk could keep: written + spooled + spool_dropped == pushed, the loud line
#      logged once per episode, the driver's own accounting holds (exit 0).
# Ports: HTTP 18471, TCP 19471. Prints "storage_faults: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/clickhouse.sh
BUILD=${BUILD:-build}
LOAD=$BUILD/bench/bench_storage
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }
under1() { awk -v s="$1" 'BEGIN { exit !(s != "" && s < 1.0) }'; }
work=$(mktemp -d /tmp/rampart-faults-st.XXXXXX)
cleanup() {
	[ -f "$work/ch/pid" ] && kill -CONT "$(cat "$work/ch/pid")" 2>/dev/null
	ch_kill "$work/ch" 2>/dev/null
	mountpoint -q "$work/tmpfs" && umount "$work/tmpfs"
	rm -rf "$work"
}
trap cleanup EXIT
make -s "$LOAD" || { echo "storage_faults: 0 passed, 1 failed"; exit 1; }
HTTP=${FAULT_CH_HTTP:-18471}
TCP=${FAULT_CH_TCP:-19471}
URL=http://127.0.0.1:$HTTP

# 1 ---------------------------------------------------------------------------------------
out=$($LOAD "http://127.0.0.1:1" --spool "$work/spool1" --db rampart_f --rows 20000 --events 5 --wait 0 \
	2>"$work/l1.err" | tr '\n' ' ')
echo "# 1: $out"
grep -h 'storage: stopped in' "$work/l1.err"
under1 "$(kv stop_s "$out")" && ok "1: ClickHouse unreachable: stop in $(kv stop_s "$out") s" ||
	bad "1: stop took $(kv stop_s "$out") s"
check "1: every row and event spooled, none lost" "20000 5 0 0" \
	"$(kv spooled "$out") $(kv events_spooled "$out") $(kv spool_dropped "$out") $(kv lost "$out")"

ch_start "$work/ch" "$HTTP" "$TCP" || { bad "clickhouse-server did not start"; echo "storage_faults: $pass passed, $fail failed"; exit 1; }
ok "clickhouse-server started"
# 2 ---------------------------------------------------------------------------------------
$LOAD "$URL" --db rampart_f --rows 0 --events 0 --spool "$work/spool0" >/dev/null 2>&1 # schema
(sleep 1; kill -STOP "$(cat "$work/ch/pid")") &
bg=$!
out=$($LOAD "$URL" --spool "$work/spool2" --db rampart_f --rows 200000 --rate 100000 --events 5 --wait 0 \
	2>"$work/l2.err" | tr '\n' ' ')
wait "$bg"
echo "# 2: $out"
grep -h 'storage: stopped in' "$work/l2.err"
under1 "$(kv stop_s "$out")" && ok "2: ClickHouse hung (SIGSTOP): stop in $(kv stop_s "$out") s" ||
	bad "2: stop took $(kv stop_s "$out") s"
check "2: written + spooled == pushed, none lost or dropped" "200000 0 0 0" \
	"$(( $(kv written "$out") + $(kv spooled "$out") )) $(kv lost "$out") $(kv dropped "$out") $(kv spool_dropped "$out")"
kill -CONT "$(cat "$work/ch/pid")"
# 2b --------------------------------------------------------------------------------------
# slow, not hung: stopped 100 ms in every 150 from 1 s on, through the stop, so inserts answer
# late and irregularly and the writer waits for them up to its 250 ms stop deadline
touch "$work/slow"
(sleep 1; p=$(cat "$work/ch/pid"); while [ -f "$work/slow" ]; do
	kill -STOP "$p"; sleep 0.1; kill -CONT "$p"; sleep 0.05; done) &
bg=$!
out=$($LOAD "$URL" --spool "$work/spool2b" --db rampart_f --rows 200000 --first 2000000 --rate 100000 \
	--events 5 --wait 0 2>"$work/l2b.err" | tr '\n' ' ')
rm -f "$work/slow"
wait "$bg"
kill -CONT "$(cat "$work/ch/pid")"
echo "# 2b: $out"
grep -h 'storage: stopped in' "$work/l2b.err"
under1 "$(kv stop_s "$out")" && ok "2b: ClickHouse slow (stopped 100 ms in 150): stop in $(kv stop_s "$out") s" ||
	bad "2b: stop took $(kv stop_s "$out") s"
check "2b: written + spooled == pushed, none lost or dropped" "200000 0 0 0" \
	"$(( $(kv written "$out") + $(kv spooled "$out") )) $(kv lost "$out") $(kv dropped "$out") $(kv spool_dropped "$out")"
# 3 ---------------------------------------------------------------------------------------
(sleep 1; ch_kill "$work/ch") &
bg=$!
out=$($LOAD "$URL" --spool "$work/spool3" --db rampart_f --rows 200000 --first 1000000 --rate 100000 \
	--events 5 --wait 0 2>"$work/l3.err" | tr '\n' ' ')
wait "$bg"
echo "# 3: $out"
grep -h 'storage: stopped in' "$work/l3.err"
under1 "$(kv stop_s "$out")" && ok "3: ClickHouse killed: stop in $(kv stop_s "$out") s" ||
	bad "3: stop took $(kv stop_s "$out") s"
check "3: written + spooled == pushed, none lost or dropped" "200000 0 0 0" \
	"$(( $(kv written "$out") + $(kv spooled "$out") )) $(kv lost "$out") $(kv dropped "$out") $(kv spool_dropped "$out")"
# 4 ---------------------------------------------------------------------------------------
mkdir -p "$work/tmpfs"
if mount -t tmpfs -o size=256k tmpfs "$work/tmpfs"; then
	out=$($LOAD "http://127.0.0.1:1" --spool "$work/tmpfs/spool" --db rampart_f --rows 200000 --batch 2000 \
		--events 5 --wait 0 2>"$work/l4.err" | tr '\n' ' ')
	rc=$?
	echo "# 4: $out"
	check "4: the driver's accounting holds (exit 0)" 0 "$rc"
	sp=$(kv spooled "$out") sd=$(kv spool_dropped "$out")
	check "4: spooled + spool_dropped == pushed, none lost" "200000 0" "$((sp + sd)) $(kv lost "$out")"
	[ "$sp" -gt 0 ] && [ "$sd" -gt 0 ] && ok "4: the disk kept what it could ($sp rows), the rest counted ($sd)" ||
		bad "4: expected both spooled and dropped rows, got $sp / $sd"
	# once per episode: a smaller batch (events) that still fits ends one, the next refusal
	# starts another
	loud=$(grep -c 'DROPPING rows' "$work/l4.err") again=$(grep -c 'takes batches again' "$work/l4.err")
	[ "$loud" -ge 1 ] && [ "$loud" -le $((again + 1)) ] &&
		ok "4: the full disk is logged loudly once per episode ($loud loud lines, $again recoveries)" ||
		bad "4: $loud DROPPING lines for $again recoveries"
	grep -q "No space left on device" "$work/l4.err" && ok "4: the log names the cause (ENOSPC)" ||
		bad "4: no ENOSPC in the log"
	under1 "$(kv stop_s "$out")" && ok "4: stop in $(kv stop_s "$out") s" || bad "4: stop took $(kv stop_s "$out") s"
	ls -A "$work/tmpfs/spool" | grep -q '\.tmp$' && bad "4: a .tmp file left in the spool" || ok "4: no .tmp file left"
else
	bad "4: cannot mount a tmpfs (root needed)"
fi
echo "storage_faults: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
