#!/usr/bin/env bash
# make bench: the storage writer against a real ClickHouse (Debian's 18.16, a plain process on
# this machine), beside the ceiling, a plain single-stream INSERT of the same rows.
#   ceiling   curl --data-binary @flows.rowbinary 'INSERT INTO db.flows FORMAT RowBinary': the
#             same rows (batch_id column included) into the same schema (ledger and rollup views
#             too), one HTTP request, timed.
#   writer    bench_storage --prefill: the writer alone, rows already queued.
#   sustained bench_storage --rate R for BENCH_SECONDS (default 10; the issue's proof is 60):
#             R from BENCH_RATES (default 500k..1.2M); a rate passes with zero loss when every
#             pushed row is written, nothing is dropped or spooled, ClickHouse's count() equals
#             the rows pushed, the producers kept within 2 % of R, and the last row was written
#             within 2 s of the last push (no backlog). Prints the highest.
# BENCH_FORMAT=rowbinary|native (default native, as the daemon) is storage.clickhouse.format;
# the ceiling stays one RowBinary INSERT.
# Usage: bench/storage_vs_insert.sh [BUILD]. Ports: HTTP 24400, TCP 24401.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
. tests/lib/clickhouse.sh
SECS=${BENCH_SECONDS:-10}
RATES=${BENCH_RATES:-"500000 600000 700000 800000 900000 1000000 1100000 1200000"}
ROWS=${BENCH_ROWS:-2000000}
HTTP=${BENCH_HTTP:-24400}
TCP=${BENCH_TCP:-24401}
FORMAT=${BENCH_FORMAT:-native}
LOAD=$build/bench/bench_storage
[ -x "$LOAD" ] || make -s BUILD="$build" "$LOAD" || exit 1
work=$(mktemp -d /tmp/rampart-st-bench.XXXXXX)
trap 'ch_stop "$work/ch"; rm -rf "$work"' EXIT
ch_start "$work/ch" "$HTTP" "$TCP" >/dev/null || { echo "clickhouse-server did not start"; exit 1; }
URL=http://127.0.0.1:$HTTP
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }
echo "ClickHouse $(ch_query 'SELECT version()') on 127.0.0.1:$HTTP; $(nproc) cores shared by writer and server"

# the rows, as the writer encodes them, in one file
$LOAD --dir "$work/files" --rows "$ROWS" --events 0 --prefill --queue 4194304 >/dev/null 2>&1
cat "$work/files"/flows-*.rowbinary >"$work/flows.rowbinary"
bytes=$(stat -c %s "$work/flows.rowbinary")
$LOAD "$URL" --db ceil --rows 0 --events 0 --spool "$work/sp0" >/dev/null 2>&1 # schema only
t0=$(date +%s.%N)
curl -sS --fail --data-binary @"$work/flows.rowbinary" \
	"$URL/?query=INSERT%20INTO%20ceil.flows%20FORMAT%20RowBinary" || { echo "ceiling insert failed"; exit 1; }
t1=$(date +%s.%N)
n=$(ch_query "SELECT count() FROM ceil.flows")
ceiling=$(echo "$n / ($t1 - $t0)" | bc)
echo "ceiling: single INSERT of $n rows ($((bytes / 1048576)) MiB RowBinary) in $(echo "$t1 - $t0" | bc | cut -c1-5) s: $ceiling rows/s"

out=$($LOAD "$URL" --db alone --rows "$ROWS" --events 0 --prefill --queue 4194304 --spool "$work/sp1" --format "$FORMAT" 2>/dev/null | tr '\n' ' ')
alone=$(kv rows_per_s "$out")
echo "writer alone (prefilled, batches of 100 000, $FORMAT): $alone rows/s, written $(kv written "$out") of $ROWS"

best=0
for r in $RATES; do
	rows=$((r * SECS))
	db=rate$r
	out=$($LOAD "$URL" --db "$db" --rows "$rows" --events 0 --producers 2 --rate "$r" --spool "$work/sp$r" --format "$FORMAT" \
		2>/dev/null | tr '\n' ' ')
	got=$(echo "$(kv pushed "$out") / $(kv push_s "$out")" | bc)
	lag=$(kv lag_s "$out")
	count=$(ch_query "SELECT count() FROM $db.flows")
	loss="pushed=$(kv pushed "$out") written=$(kv written "$out") dropped=$(kv dropped "$out") spooled=$(kv spooled "$out") count=$count"
	if [ "$(kv pushed "$out")" = "$rows" ] && [ "$(kv written "$out")" = "$rows" ] && [ "$count" = "$rows" ] &&
		[ "$(kv dropped "$out")" = 0 ] && [ "$(kv spooled "$out")" = 0 ] && [ "$(kv spool_dropped "$out")" = 0 ] &&
		[ "${got%.*}" -ge $((r * 98 / 100)) ] && [ "$(echo "$lag < 2" | bc)" = 1 ]; then
		echo "  $r rows/s for $SECS s: zero loss, pushed at $got rows/s, last row written ${lag}s after the last push ($loss)"
		best=$r
	else
		echo "  $r rows/s for $SECS s: FAILS ($loss pushed at $got rows/s, lag ${lag}s)"
		break
	fi
	ch_query "DROP DATABASE $db" >/dev/null
done
echo "storage ($FORMAT): highest sustained zero-loss rate $best rows/s over $SECS s; ceiling $ceiling rows/s; ratio $(echo "scale=2; $best / $ceiling" | bc)"
