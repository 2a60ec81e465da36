#!/usr/bin/env bash
# Soak: the storage writer through a ClickHouse crash, nothing lost, nothing twice.
# bench/bench_storage pushes numbered flow rows (packets == row number, unique) at a steady
# SOAK_RATE rows/s (default 100 000) for ~40 s with the default queue; ClickHouse is SIGKILLed
# at 12 s and started again 15 s later. The writer must spool the batches of the outage to disk,
# replay them when ClickHouse is back, and end with:
#   count() == rows pushed, uniqExact(packets) == count() (no duplicates), nothing dropped,
#   rows spooled > 0 and all replayed, the spool empty, the batches ledger == the table,
#   the host_traffic rollup's flows == the table.
# (Once NetFlow reaches rampartd the same is redone through UDP.) Ports: HTTP 18310, TCP 19310.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/clickhouse.sh

BUILD=${BUILD:-build}
RATE=${SOAK_RATE:-100000}
SECONDS_RUN=${SOAK_SECONDS:-40}
HTTP=${SOAK_HTTP:-18310}
TCP=${SOAK_TCP:-19310}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }
finish() {
	echo "storage_soak: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

work=$(mktemp -d /tmp/rampart-st-soak.XXXXXX)
cleanup() {
	[ -n "${loader:-}" ] && kill "$loader" 2>/dev/null
	ch_stop "$work/ch"
	[ -n "${loader:-}" ] && wait "$loader" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

LOAD=$BUILD/bench/bench_storage
make -s "$LOAD" || { bad "make $LOAD"; finish; }
ch_start "$work/ch" "$HTTP" "$TCP" || { bad "clickhouse-server did not start"; finish; }
URL=http://127.0.0.1:$HTTP
q() { ch_query "$1"; }

ROWS=$((RATE * SECONDS_RUN))
echo "# $ROWS rows at $RATE rows/s; ClickHouse killed at 12 s for 15 s"
t0=$(date +%s.%N)
$LOAD "$URL" --db soak --rows "$ROWS" --events 300 --rate "$RATE" --spool "$work/spool" --wait 30 \
	>"$work/load.out" 2>"$work/load.err" &
loader=$!
sleep 12
ch_kill "$work/ch"
echo "#    $(date +%T) killed ClickHouse"
sleep 15
ch_start "$work/ch" "$HTTP" "$TCP" || bad "ClickHouse did not come back"
echo "#    $(date +%T) ClickHouse answers again"
wait "$loader"
rc=$?
loader=
echo "#    took $(echo "$(date +%s.%N) - $t0" | bc) s"
sed 's/^/#    /' "$work/load.out"
out=$(tr '\n' ' ' <"$work/load.out")
check "the writer accounted for every row (exit status)" 0 "$rc"
check "pushed all rows, none dropped (ring or spool budget)" "$ROWS 0 0 0" \
	"$(kv pushed "$out") $(kv dropped "$out") $(kv spool_dropped "$out") $(kv lost "$out")"
spooled=$(kv spooled "$out")
if [ "${spooled:-0}" -gt 0 ]; then ok "the outage went to the spool ($spooled rows)"; else bad "nothing spooled: was ClickHouse really down?"; fi
check "every spooled row replayed, spool empty" "$spooled 0" "$(kv replayed "$out") $(kv spool_batches "$out")"
check "writer says all written" "$ROWS 300" "$(kv written "$out") $(kv events_written "$out")"
check "ClickHouse has every row exactly once" "$ROWS	$ROWS	0	$((ROWS - 1))" \
	"$(q "SELECT count(), uniqExact(packets), min(packets), max(packets) FROM soak.flows")"
check "events exactly once" "300	300" "$(q "SELECT count(), uniqExact(attack_id) FROM soak.attack_events")"
check "ledger: one entry per batch, rows match the table" "$ROWS	1" \
	"$(q "SELECT sum(rows), max(n) FROM (SELECT batch_id, sum(rows) AS rows, count() AS n FROM soak.batches WHERE tbl = 'flows' GROUP BY batch_id)")"
check "rollup host_traffic counts every flow" "$ROWS" "$(q "SELECT sum(flows) FROM soak.host_traffic")"
ls "$work/spool" | grep -q rowbinary && bad "spool files left behind" || ok "no spool file left"
grep -q "spooling batches" "$work/load.err" && ok "the outage is logged" || bad "no outage line in the log"
grep -q "answers again" "$work/load.err" && ok "the recovery is logged" || bad "no recovery line in the log"
finish
