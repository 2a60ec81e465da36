#!/usr/bin/env bash
# The storage writer against a real ClickHouse (Debian's 18.16, run here as a plain process):
#   1. 1 000 000 flow rows + 100 events queued, then the writer started: exact count, no
#      duplicates, every column of known rows, nothing dropped; prints the writer's rows/s (the
#      figure is bench/flows_to_clickhouse.sh's, never a pass/fail here: speed is a benchmark).
#   2. 1 000 000 rows from 2 producers paced at 500 000 rows/s with the default queue: every row
#      in ClickHouse exactly once or counted as a ring drop; with no drop, every column exact.
#   3. ClickHouse stopped and started again while rows flow: counts still exact, the outage
#      seen (failed posts, rows spooled and replayed), nothing dropped.
#   3b. The same with a spool budget too small for the outage, twice: the writer survives, every
#      row is either in ClickHouse exactly once or counted as dropped (written + spool_dropped ==
#      pushed), and "written" is exactly what ClickHouse holds, inserts cut by the kill included.
#   4. File output (no ClickHouse configured) loaded with the commands docs/STORAGE.md gives,
#      with clickhouse-client and with an HTTP INSERT.
#   5. ClickHouse unreachable at stop: the rows stay in the spool, none lost, and the spool files
#      load by hand with clickhouse-client as docs/STORAGE.md says.
#   6. Retention on 18.16 (no TTL): with retention_days 30, partitions older than that are
#      dropped at start (flows by day, attack_events by month), today's rows stay.
#   7. compression: gzip, in Native and RowBinary, ClickHouse killed for a moment: exact rows
#      and events (posts in flight and spool replays both gzip'd), far fewer bytes on the wire.
# Ports: HTTP 18330, TCP 19330 (the storage helper's range).
# The driver is bench/bench_storage (built by the Makefile, like every bench/bench_*.c); set
# BUILD/OPT/EXTRA_CFLAGS/EXTRA_LDFLAGS as for make to run it under the sanitizers.
# Prints "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/clickhouse.sh

BUILD=${BUILD:-build}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { # description expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
finish() {
	echo "storage_clickhouse: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }

work=$(mktemp -d /tmp/rampart-st-it.XXXXXX)
cleanup() {
	[ -n "${loader:-}" ] && kill "$loader" 2>/dev/null
	ch_stop "$work/ch"
	[ -n "${loader:-}" ] && wait "$loader" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

LOAD=$BUILD/bench/bench_storage
echo "# building $LOAD"
make -s "$LOAD" || { bad "make $LOAD"; finish; }

HTTP=${ST_HTTP:-18330}
TCP=${ST_TCP:-19330}
URL=http://127.0.0.1:$HTTP
echo "# $(ch_server_cmd) on 127.0.0.1:$HTTP (http) / $TCP (tcp), data in $work/ch"
if ! ch_start "$work/ch" "$HTTP" "$TCP"; then
	bad "clickhouse-server did not start"
	finish
fi
ok "clickhouse-server $(ch_query 'SELECT version()') started"
q() { ch_query "$1"; }

ROWQ="IPv6NumToString(src), IPv6NumToString(dst), src_port, dst_port, protocol,
 toUnixTimestamp(start_time), start_nsec, toUnixTimestamp(end_time), end_nsec, packets, bytes,
 sampling_rate, IPv6NumToString(exporter), in_if, out_if, vlan, source, ip_version, tcp_flags, tos,
 flags, toString(date)"

# The table DB.flows holds rows FIRST..FIRST+N-1, each once.
check_rows() { # label db first n
	local label=$1 db=$2 first=$3 n=$4
	check "$label: rows in $db.flows" "$n" "$(q "SELECT count() FROM $db.flows")"
	check "$label: no duplicates, no gaps, sum(packets)" \
		"$n	$first	$((first + n - 1))	$((n * first + n * (n - 1) / 2))" \
		"$(q "SELECT uniqExact(packets), min(packets), max(packets), sum(packets) FROM $db.flows")"
	local id
	for id in $first $((first + 9)) $((first + n / 2 + 3)) $((first + n - 1)); do
		check "$label: every column of row $id" "$($LOAD --print-row "$id")" \
			"$(q "SELECT $ROWQ FROM $db.flows WHERE packets = $id FORMAT TabSeparated")"
	done
}

# ---- 1. throughput: everything queued, then the writer alone, timed -----------------------
echo "# 1. 1 000 000 rows queued before start, writer timed"
check "1: no database before the writer" "0" "$(q "SELECT count() FROM system.databases WHERE name = 'rampart'")"
out=$($LOAD "$URL" --db rampart --rows 1000000 --events 100 --prefill --queue 1048576 2>"$work/load1.err") ||
	bad "1: bench_storage exit status $?"
echo "#    $out"
check "1: database, both tables, ledger, rollup and migrations created" "attack_events
attack_events_batches
batches
flows
flows_batches
host_traffic
host_traffic_mv
operator_events
operator_events_batches
schema_migrations" "$(q "SELECT name FROM system.tables WHERE database = 'rampart' ORDER BY name")"
check "1: schema at version 7, each migration once" "1,2,3,4,5,6,7" \
	"$(q "SELECT arrayStringConcat(groupArray(toString(version)), ',') FROM (SELECT version FROM rampart.schema_migrations ORDER BY version)")"
check "1: writer says all written" "1000000 0 0" "$(kv written "$out") $(kv dropped "$out") $(kv lost "$out")"
check_rows 1 rampart 0 1000000
# values spelled out here, not only by st_load: row 123457 (an IPv4 row) and 999999 (IPv6)
check "1: row 123457 addresses, ports, times" \
	"::ffff:10.1.226.65	::ffff:192.0.2.65	57921	12231	2023-11-14 22:13:20	123457000	2023-11-14" \
	"$(q "SELECT IPv6NumToString(src), IPv6NumToString(dst), src_port, dst_port, start_time, start_nsec, date FROM rampart.flows WHERE packets = 123457 FORMAT TabSeparated")"
check "1: row 999999 IPv6 addresses" "2001:db8:ffff::f:423f	2001:db8:10::63	6" \
	"$(q "SELECT IPv6NumToString(src), IPv6NumToString(dst), ip_version FROM rampart.flows WHERE packets = 999999 FORMAT TabSeparated")"
check "1: events" "100	100	0	99" "$(q "SELECT count(), uniqExact(attack_id), min(attack_id), max(attack_id) FROM rampart.attack_events")"
EVQ="date, time, time_nsec, attack_id, event, IPv6NumToString(target), target_len, direction, manual,
 hostgroup, trigger, trigger_value, trigger_limit, pps, bps, flows, ban_seconds, action, reason"
check "1: event 7, every column" \
	"2023-11-14	2023-11-14 22:13:27	7	7	unban	::ffff:192.0.2.7	32	1	0	group-3	udp_pps	10.5	1000	70	56000	3.25	600	blackhole	udp_pps 10.5 > 1000 (attack 7)" \
	"$(q "SELECT $EVQ FROM rampart.attack_events WHERE attack_id = 7 FORMAT TabSeparated")"
check "1: event 98 (IPv6 target), every column" \
	"2023-11-14	2023-11-14 22:14:58	7	98	ban	2001:db8:ee::62	128	0	0	group-2	udp_pps	147	1000	980	784000	3.25	600	blackhole	udp_pps 147.0 > 1000 (attack 98)" \
	"$(q "SELECT $EVQ FROM rampart.attack_events WHERE attack_id = 98 FORMAT TabSeparated")"
rate1=$(kv rows_per_s "$out")
echo "# writer throughput: $rate1 rows/s (1 000 000 rows, batches of 100 000, $(nproc) cores shared with ClickHouse)"

# ---- 2. the budget, sustained: 500 000 rows/s from two producers, default queue ------------
echo "# 2. 1 000 000 rows at 500 000 rows/s from 2 producers, default queue"
out=$($LOAD "$URL" --db rampart2 --rows 1000000 --first 5000000 --events 50 --producers 2 --rate 500000 2>"$work/load2.err")
echo "#    $out"
written2=$(kv written "$out") dropped2=$(kv dropped "$out")
echo "#    ring drops at 500 000 rows/s on this machine: $dropped2 (the rate budget is bench/flows_to_clickhouse.sh's)"
check "2: written + ring drops == 1 000 000" "1000000" "$((written2 + dropped2))"
check "2: ClickHouse holds exactly the written rows, once each" "$written2	$written2" \
	"$(q "SELECT count(), uniqExact(packets) FROM rampart2.flows")"
if [ "$dropped2" -eq 0 ]; then check_rows 2 rampart2 5000000 1000000; fi
check "2: events" "50" "$(q "SELECT count() FROM rampart2.attack_events")"

# ---- 3. ClickHouse stopped and started while writing ---------------------------------------
echo "# 3. 600 000 rows at 100 000 rows/s; ClickHouse killed at 2 s, started again 2 s later"
$LOAD "$URL" --db rampart3 --rows 600000 --first 10000000 --events 200 --rate 100000 \
	--spool "$work/spool3" >"$work/load3.out" 2>"$work/load3.err" &
loader=$!
sleep 2
ch_kill "$work/ch" # a crash: a SIGTERMed 18.16 keeps serving the open connection for seconds
echo "#    killed ClickHouse"
sleep 2
ch_start "$work/ch" "$HTTP" "$TCP" || bad "3: ClickHouse did not come back"
echo "#    started ClickHouse again"
wait "$loader"
loader=
out=$(tr '\n' ' ' <"$work/load3.out")
echo "#    $out"
check "3: nothing dropped or lost" "0 0 0 0" "$(kv dropped "$out") $(kv spool_dropped "$out") $(kv lost "$out") $(kv events_dropped "$out")"
spooled=$(kv spooled "$out")
if [ "${spooled:-0}" -gt 0 ]; then ok "3: the outage went to the spool ($spooled rows)"; else bad "3: nothing spooled"; fi
check "3: all of it replayed" "$spooled" "$(kv replayed "$out")"
check "3: writer says all written" "600000 200" "$(kv written "$out") $(kv events_written "$out")"
failed=$(kv batches_failed "$out")
if [ "${failed:-0}" -gt 0 ]; then ok "3: the outage was seen and retried ($failed failed posts)"; else bad "3: no failed post: was ClickHouse really down?"; fi
check_rows 3 rampart3 10000000 600000
check "3: events" "200	200" "$(q "SELECT count(), uniqExact(attack_id) FROM rampart3.attack_events")"

# Twice: the kill lands at a different point of the inserts in flight each time (before, inside,
# after ClickHouse stores one), and before the writer asked ClickHouse about unanswered inserts
# one run in three held a batch more than "written" (a batch stored without its ledger row, or
# one libcurl sent again after the kept-alive connection died, taken for never sent).
for round in 1 2; do
	db=rampart3b_$round
	echo "# 3b.$round. 800 000 rows at 100 000 rows/s (8 s, so rows come after even a slow restart), a 2 MB spool budget (~17 000 rows); ClickHouse killed for 2 s"
	$LOAD "$URL" --db $db --rows 800000 --first 40000000 --events 0 --rate 100000 \
		--batch 10000 --spool "$work/spool3b$round" --spool-max 2000000 >"$work/load3b.out" 2>"$work/load3b.err" &
	loader=$!
	sleep 1
	ch_kill "$work/ch"
	sleep 2
	ch_start "$work/ch" "$HTTP" "$TCP" || bad "3b: ClickHouse did not come back"
	wait "$loader"
	rc=$?
	loader=
	out=$(tr '\n' ' ' <"$work/load3b.out")
	echo "#    $out"
	check "3b.$round: the writer survived and accounted for every row (exit status)" 0 "$rc"
	pushed=$(kv pushed "$out") written=$(kv written "$out") dropped=$(kv spool_dropped "$out")
	check "3b.$round: written + spool_dropped == pushed, ring drops 0, none left in doubt" "$pushed 0 0" \
		"$((written + dropped)) $(kv dropped "$out") $(kv in_doubt "$out")"
	if [ "${dropped:-0}" -gt 0 ]; then ok "3b.$round: the full spool was counted as drops ($dropped)"; else bad "3b.$round: no drops with a spool smaller than the outage"; fi
	grep -q "DROPPING rows" "$work/load3b.err" && ok "3b.$round: the drops are logged loudly" || bad "3b.$round: no DROPPING line"
	check "3b.$round: ClickHouse holds exactly the rows the writer says it wrote, each once" "$written	$written" \
		"$(q "SELECT count(), uniqExact(packets) FROM $db.flows")"
	grep -h "in doubt: ClickHouse\|found in the table" "$work/load3b.err" | sed 's/^/#    /'
	check "3b.$round: rows written after the restart arrived" 1 \
		"$(q "SELECT max(packets) = $((40000000 + 800000 - 1)) FROM $db.flows")"
done

# ---- 4. file output, loaded the way docs/STORAGE.md says -----------------------------------
echo "# 4. file output, then clickhouse-client loads schema.sql and the files"
out=$($LOAD --dir "$work/files" --db rampart_files --rows 50000 --first 20000000 --events 10 --batch 7000 2>"$work/load4.err")
echo "#    $out"
check "4: writer says all written" "50000 0" "$(kv written "$out") $(kv dropped "$out")"
ls "$work/files"/flows-*.rowbinary >/dev/null 2>&1 && ok "4: flows-YYYYMMDDHH.rowbinary written" || bad "4: no flows file"
ch_client --multiquery <"$work/files/schema.sql" && ok "4: schema.sql accepted" || bad "4: schema.sql rejected"
for f in "$work/files"/flows-*.rowbinary; do
	ch_client --query "INSERT INTO rampart_files.flows FORMAT RowBinary" <"$f" || bad "4: loading $f"
done
# the other table over HTTP, as docs/STORAGE.md also shows
for f in "$work/files"/attack_events-*.rowbinary; do
	curl -sS --fail-with-body "$URL/?query=INSERT%20INTO%20rampart_files.attack_events%20FORMAT%20RowBinary" \
		--data-binary @"$f" || bad "4: loading $f over HTTP"
done
check_rows 4 rampart_files 20000000 50000
check "4: events, IPv6 target included" "10	2" \
	"$(q "SELECT count(), countIf(IPv6NumToString(target) IN ('2001:db8:ee::2d02', '2001:db8:ee::2d06') AND target_len = 128) FROM rampart_files.attack_events")"

# ---- 5. ClickHouse unreachable through stop: left in the spool, loadable by hand -----------
echo "# 5. ClickHouse unreachable; stop leaves the rows in the spool (takes the 10 s stop retry)"
out=$($LOAD "http://127.0.0.1:1" --spool "$work/spool5" --db rampart_spool --rows 10000 --first 30000000 \
	--events 5 --wait 0 2>"$work/load5.err" | tr '\n' ' ')
echo "#    $out"
check "5: spooled, none written, dropped or lost" "10000 5 0 0 0" \
	"$(kv spooled "$out") $(kv events_spooled "$out") $(kv written "$out") $(kv spool_dropped "$out") $(kv lost "$out")"
grep -q "replayed at the next start" "$work/load5.err" && ok "5: the leftover spool is logged" || bad "5: no spool line in the log"
# the schema comes from a writer that reached the server (its migrations); then load by hand
$LOAD "$URL" --db rampart_spool --rows 0 --events 0 --spool "$work/spool5-empty" >/dev/null 2>&1 || bad "5: schema"
cat "$work/spool5"/*-flows-*.rowbinary | ch_client --query "INSERT INTO rampart_spool.flows FORMAT RowBinary" || bad "5: loading the spool"
check_rows 5 rampart_spool 30000000 10000
# 5b. a batch an older Rampart spooled (attack_events of schema 3: no pcap columns) is replayed
# by this one with its columns named; the pcap columns take their defaults
mkdir -p "$work/spool5b"
f=$(ls "$work/spool5"/*-attack_events-*.rowbinary | head -1)
python3 - "$f" "$work/spool5b/$(basename "$f")" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
# attack_events of schema 7, per row: fixed widths, 'S' a String; pcap_file, pcap_packets (4),
# parent_attack_id (5) and the four distinct counts (7) before batch_id, all cut
cols = [2, 4, 4, 8, 'S', 16, 1, 1, 1, 'S', 'S', 8, 8, 8, 8, 8, 4, 'S', 'S', 'P', 'Q', 'Q', 'Q', 'Q', 'Q', 'Q', 8]
out, p = bytearray(), 0
while p < len(b):
	for c in cols:
		if c in ('S', 'P'):
			n, sh, q = 0, 0, p
			while True:
				n |= (b[q] & 0x7f) << sh; sh += 7; q += 1
				if not b[q - 1] & 0x80: break
			end = q + n
		else:
			end = p + (8 if c == 'Q' else c)
		if c not in ('P', 'Q'):
			out += b[p:end]
		p = end
open(sys.argv[2], 'wb').write(out)
PY
before=$(q "SELECT count() FROM rampart_spool.attack_events")
$LOAD "$URL" --db rampart_spool --rows 0 --events 0 --spool "$work/spool5b" >/dev/null 2>"$work/load5b.err" || bad "5b: writer"
check "5b: a schema-3 attack_events batch replayed: 5 more rows, pcap columns at their defaults" \
	"$((before + 5)) $((before + 5))" \
	"$(q "SELECT count() FROM rampart_spool.attack_events") $(q "SELECT count() FROM rampart_spool.attack_events WHERE pcap_file = '' AND pcap_packets = 0 AND hostgroup LIKE 'group-%' AND action = 'blackhole'")"
grep -q "has the rows of schema version 3" "$work/load5b.err" && ok "5b: logged" || bad "5b: no schema-3 line in the log"
# ---- 6. retention without TTL: old partitions dropped ---------------------------------------
echo "# 6. retention_days 30 on 18.16: partitions older than 30 days dropped at start"
q "INSERT INTO rampart_spool.flows (date, start_time, packets) VALUES ('2020-01-01', '2020-01-01 10:00:00', 1), ('2020-01-02', '2020-01-02 10:00:00', 2)" || bad "6: old rows"
q "INSERT INTO rampart_spool.attack_events (date, time, attack_id) VALUES ('2020-01-01', '2020-01-01 10:00:00', 77)" || bad "6: old event"
q "INSERT INTO rampart_spool.flows (date, start_time, packets) VALUES (today(), now(), 3), (today() - 29, now() - 29 * 86400, 4)" || bad "6: recent rows"
check "6: old rows there before" "2 1" "$(q "SELECT count() FROM rampart_spool.flows WHERE date < '2021-01-01'") $(q "SELECT count() FROM rampart_spool.attack_events WHERE attack_id = 77")"
out=$($LOAD "$URL" --db rampart_spool --rows 0 --events 0 --retention 30 --spool "$work/spool6" 2>"$work/load6.err" | tr '\n' ' ')
check "6: old partitions dropped" "0 0" "$(q "SELECT count() FROM rampart_spool.flows WHERE date < '2021-01-01'") $(q "SELECT count() FROM rampart_spool.attack_events WHERE attack_id = 77")"
# (bench rows are dated 2023-11-14: older than 30 days, dropped as well)
check "6: rows of the last 30 days kept, nothing else" "2	3,4" \
	"$(q "SELECT count(), arrayStringConcat(arraySort(groupArray(toString(packets))), ',') FROM rampart_spool.flows")"
grep -q "retention dropped [0-9]* partitions older than 30 days" "$work/load6.err" && ok "6: logged" || bad "6: no retention line"

# ---- 7. compression: gzip ------------------------------------------------------------------
for fmt in native rowbinary; do
	echo "# 7. $fmt gzip'd: 300 000 rows at 100 000 rows/s; ClickHouse killed at 1 s for 1 s"
	$LOAD "$URL" --db rampart_gz_$fmt --rows 300000 --first 60000000 --events 30 --rate 100000 \
		--format $fmt --gzip --spool "$work/spool7$fmt" >"$work/load7$fmt.out" 2>"$work/load7$fmt.err" &
	loader=$!
	sleep 1
	ch_kill "$work/ch"
	sleep 1
	ch_start "$work/ch" "$HTTP" "$TCP" || bad "7: ClickHouse did not come back"
	wait "$loader"
	loader=
	out=$(tr '\n' ' ' <"$work/load7$fmt.out")
	echo "#    $out"
	check "7 $fmt: writer says all written, nothing dropped or lost" "300000 30 0 0" \
		"$(kv written "$out") $(kv events_written "$out") $(kv dropped "$out") $(kv lost "$out")"
	spooled=$(kv spooled "$out")
	if [ "${spooled:-0}" -gt 0 ] && [ "$(kv replayed "$out")" = "$spooled" ]; then
		ok "7 $fmt: the outage's rows spooled and replayed gzip'd ($spooled)"
	else
		bad "7 $fmt: spooled ${spooled:-?}, replayed $(kv replayed "$out")"
	fi
	check_rows "7 $fmt" rampart_gz_$fmt 60000000 300000
	check "7 $fmt: events" "30	30" "$(q "SELECT count(), uniqExact(attack_id) FROM rampart_gz_$fmt.attack_events")"
	enc=$(kv insert_bytes "$out") wire=$(kv insert_wire_bytes "$out")
	echo "#    insert bodies: $enc bytes encoded, $wire bytes on the wire"
	if [ "${wire:-0}" -gt 0 ] && [ $((wire * 2)) -lt "${enc:-0}" ]; then
		ok "7 $fmt: gzip at least halves the bytes sent ($enc -> $wire)"
	else
		bad "7 $fmt: bytes sent not halved ($enc -> $wire)"
	fi
done

finish
