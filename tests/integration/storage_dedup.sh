#!/usr/bin/env bash
# A batch whose answer is lost is stored once, not twice (issue 6: idempotent replays on a
# ClickHouse without insert deduplication). tests/integration/lossy_proxy.py sits between the
# writer and a real ClickHouse 18.16 and, for the 2nd and 4th INSERT, forwards the batch (so
# ClickHouse stores it) but drops the answer. The writer cannot know the outcome: it spools the
# batch marked unknown, and before replaying it asks the batches ledger, which says stored.
#   1. through the proxy: count() == rows pushed == uniqExact(packets); 2 batches deduplicated.
#   2. control: the same lost answers replayed blindly would have duplicated them, i.e. the
#      proxy really let both batches through (the ledger holds all 5 batches once).
#   3. ClickHouse down through stop: the batches stay in the spool; the next start (a new
#      writer, no new rows) replays them: exactly once.
# Ports: ClickHouse HTTP 18320 / TCP 19320, proxy 18321.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/clickhouse.sh

BUILD=${BUILD:-build}
HTTP=18320 TCP=19320 PROXY=18321
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }
finish() {
	echo "storage_dedup: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
work=$(mktemp -d /tmp/rampart-st-dedup.XXXXXX)
cleanup() {
	[ -n "${proxy:-}" ] && kill "$proxy" 2>/dev/null && wait "$proxy" 2>/dev/null
	ch_stop "$work/ch"
	rm -rf "$work"
}
trap cleanup EXIT

LOAD=$BUILD/bench/bench_storage
make -s "$LOAD" || { bad "make $LOAD"; finish; }
ch_start "$work/ch" "$HTTP" "$TCP" || { bad "clickhouse-server did not start"; finish; }
q() { ch_query "$1"; }

echo "# 1. 50 000 rows in batches of 10 000 through a proxy that loses the answers of inserts 2 and 4"
python3 tests/integration/lossy_proxy.py $PROXY $HTTP 2,4 >"$work/proxy.log" 2>&1 &
proxy=$!
for i in $(seq 50); do curl -s "http://127.0.0.1:$PROXY/?query=SELECT%201" >/dev/null && break; sleep 0.1; done
out=$($LOAD "http://127.0.0.1:$PROXY" --db dedup --rows 50000 --events 0 --batch 10000 --prefill \
	--spool "$work/spool1" 2>"$work/load1.err" | tr '\n' ' ')
echo "#    $out"
sed 's/^/#    /' "$work/proxy.log"
check "the proxy lost two answers" 2 "$(grep -c 'answer dropped' "$work/proxy.log")"
# (batches made while the writer waited for its probe go to the spool too: spooled >= 20 000)
check "the writer saw both fail and found both in the ledger" "2 2" \
	"$(kv batches_failed "$out") $(kv deduplicated "$out")"
spooled=$(kv spooled "$out")
if [ "${spooled:-0}" -ge 20000 ]; then ok "both spooled ($spooled rows)"; else bad "spooled $spooled < 20000"; fi
check "everything spooled was replayed or found" "$spooled 0" "$(kv replayed "$out") $(kv spool_batches "$out")"
check "written == pushed, nothing dropped" "50000 50000 0 0" \
	"$(kv pushed "$out") $(kv written "$out") $(kv dropped "$out") $(kv spool_dropped "$out")"
check "ClickHouse holds each row once" "50000	50000	0	49999" \
	"$(q "SELECT count(), uniqExact(packets), min(packets), max(packets) FROM dedup.flows")"
echo "# 2. the lost answers were for stored batches: a blind retry would have doubled them"
check "ledger: 5 batches of 10 000, each once" "5	50000	1" \
	"$(q "SELECT count(), sum(rows), max(n) FROM (SELECT batch_id, sum(rows) AS rows, count() AS n FROM dedup.batches GROUP BY batch_id)")"
check "the unknown-outcome batches are in ClickHouse under their ids" 5 \
	"$(q "SELECT uniqExact(batch_id) FROM dedup.flows")"

echo "# 3. ClickHouse unreachable through stop, then a new writer replays the spool"
out=$($LOAD "http://127.0.0.1:1" --db dedup3 --rows 30000 --first 1000000 --events 7 --batch 10000 \
	--prefill --spool "$work/spool3" --wait 0 2>"$work/load3.err" | tr '\n' ' ')
echo "#    $out"
# 3 flow batches + 1 of events
check "stop leaves the rows in the spool, none dropped or lost" "30000 0 0 0 4" \
	"$(kv spooled "$out") $(kv written "$out") $(kv spool_dropped "$out") $(kv lost "$out") $(kv spool_batches "$out")"
grep -q "replayed at the next start" "$work/load3.err" && ok "the leftover spool is logged" || bad "no leftover line"
ls "$work/spool3" | grep -q -- '-flows-' && ok "spool files on disk" || bad "no spool files"
out=$($LOAD "http://127.0.0.1:$HTTP" --db dedup3 --rows 0 --events 0 --spool "$work/spool3" 2>"$work/load3b.err" | tr '\n' ' ')
echo "#    $out"
check "the next start replays all of it" "30000 30000 7 0" \
	"$(kv written "$out") $(kv replayed "$out") $(kv events_replayed "$out") $(kv spool_batches "$out")"
check "ClickHouse holds each row once" "30000	30000	1000000	1029999	7" \
	"$(q "SELECT count(), uniqExact(packets), min(packets), max(packets), (SELECT count() FROM dedup3.attack_events) FROM dedup3.flows")"
finish
