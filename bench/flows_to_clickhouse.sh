#!/usr/bin/env bash
# make bench: NetFlow v9 over UDP into a running rampartd that stores every record in ClickHouse
# (Debian's 18.16, a plain process on this machine): the highest steady rate at which every
# record sent becomes a row, beside the ceiling (one curl INSERT of the writer's own rows).
#
# Per rate R (BENCH_RATES, records/s), a fresh rampartd (database ftcR) with one NetFlow listener
# on 127.0.0.1:$PORT (24410) gets `bench_flows_udp send v9` (45 records per datagram, correct sequence
# numbers, 1000 hosts; core 1) for BENCH_SECONDS (default 30; the brief asks 30-60). R passes with
# zero loss when ClickHouse's count() equals the records sent within DRAIN s (default 5) of the
# end of sending, the listener saw no kernel drop and no sequence gap, the storage dropped and
# spooled nothing, and the sender kept within 2 % of R. Stops at the first rate that fails.
# BENCH_FORMAT=rowbinary|native: storage.clickhouse.format (default native, as the daemon).
# Usage: bench/flows_to_clickhouse.sh [BUILD]. Ports: UDP 24410, HTTP 24411, ClickHouse 24412/24413.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
. tests/lib/clickhouse.sh
SECS=${BENCH_SECONDS:-30}
DRAIN=${BENCH_DRAIN:-5}
RATES=${BENCH_RATES:-"100000 200000 300000 400000 500000 600000 700000 800000 900000 1000000"}
CEIL_ROWS=${BENCH_ROWS:-2000000}
HTTP=${BENCH_HTTP:-24412}
TCP=${BENCH_TCP:-24413}
PORT=${BENCH_PORT:-24410}
FORMAT=${BENCH_FORMAT:-native}
SEND=$build/bench/bench_flows_udp
LOAD=$build/bench/bench_storage
for b in "$SEND" "$LOAD" "$build/rampartd" "$build/rampartctl"; do
	[ -x "$b" ] || make -s BUILD="$build" "$b" || exit 1
done
work=$(mktemp -d /tmp/rampart-ftc.XXXXXX)
RPID=
stop_daemon() { [ -n "$RPID" ] && { kill -TERM "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; }; RPID=; }
trap 'stop_daemon; ch_stop "$work/ch"; rm -rf "$work"' EXIT
ch_start "$work/ch" "$HTTP" "$TCP" >/dev/null || { echo "clickhouse-server did not start"; exit 1; }
URL=http://127.0.0.1:$HTTP
echo "ClickHouse $(ch_query 'SELECT version()') on 127.0.0.1:$HTTP; $(nproc) cores shared by sender, rampartd and server"

# the ceiling: the writer's own rows in one file, one INSERT (as bench/storage_vs_insert.sh)
$LOAD --dir "$work/files" --rows "$CEIL_ROWS" --events 0 --prefill --queue 4194304 >/dev/null 2>&1
cat "$work/files"/flows-*.rowbinary >"$work/flows.rowbinary"
rm -rf "$work/files"
$LOAD "$URL" --db ceil --rows 0 --events 0 --spool "$work/sp0" >/dev/null 2>&1 # schema only
t0=$(date +%s.%N)
curl -sS --fail --data-binary @"$work/flows.rowbinary" \
	"$URL/?query=INSERT%20INTO%20ceil.flows%20FORMAT%20RowBinary" || { echo "ceiling insert failed"; exit 1; }
t1=$(date +%s.%N)
n=$(ch_query "SELECT count() FROM ceil.flows")
ceiling=$(echo "$n / ($t1 - $t0)" | bc)
echo "ceiling: single INSERT of $n rows in $(echo "$t1 - $t0" | bc | cut -c1-5) s: $ceiling rows/s"
ch_query "DROP DATABASE ceil" >/dev/null
rm -f "$work/flows.rowbinary"

stat_of() { # JSON path in /api/v1/stats, summed over flow listeners where it is a listener field
	curl -s "http://127.0.0.1:$((PORT + 1))/api/v1/stats" | python3 -c "
import json, sys
s = json.load(sys.stdin); k = sys.argv[1]
if k.startswith('storage.'): print(s['storage'][k[8:]])
elif k.startswith('exp.'): print(sum(e[k[4:]] for w in s['capture'] if 'listener' in w for e in w['listener']['exporters']))
else: print(sum(w['listener'][k] for w in s['capture'] if 'listener' in w))" "$1"
}

best=0
for r in $RATES; do
	db=ftc$r
	d=$work/d$r
	mkdir -p "$d"
	cat >"$d/rampart.yaml" <<CONF
networks: [192.0.0.0/22]
thresholds: { incoming: { pps: 1000000000 } }
detection: { max_hosts: 65536 }
capture:
  pcap: { interfaces: [] }
  netflow: { listen: ["127.0.0.1:$PORT"] }
storage:
  clickhouse: { url: "$URL", database: $db, format: $FORMAT }
  dir: $d/data
  queue_rows: 4194304
api: { socket: $d/rampart.sock, http: "127.0.0.1:$((PORT + 1))" }
CONF
	"$build/rampartd" -c "$d/rampart.yaml" >"$d/log" 2>&1 &
	RPID=$!
	for _ in $(seq 100); do
		grep -qs listening "$d/log" && [ "$(ch_query "EXISTS TABLE $db.flows" 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
	out=$(taskset -c 1 "$SEND" send v9 127.0.0.1 $PORT "$r" "$SECS")
	sent=${out% *}
	got=${out#* }
	t_end=$(date +%s.%N)
	count=0
	while :; do
		count=$(ch_query "SELECT count() FROM $db.flows")
		[ "$count" -ge "$sent" ] && break
		[ "$(echo "$(date +%s.%N) - $t_end > $DRAIN" | bc)" = 1 ] && break
		sleep 0.2
	done
	lag=$(echo "$(date +%s.%N) - $t_end" | bc | cut -c1-4)
	drops=$(stat_of kernel_drops) gaps=$(stat_of exp.sequence_gaps) miss=$(stat_of exp.template_misses)
	sdrop=$(stat_of storage.flows_dropped)
	spooled=$("$build/rampartctl" -s "$d/rampart.sock" stats | sed -n 's/.*flows spooled \([0-9]*\) .*/\1/p')
	loss="sent=$sent rows=$count kernel_drops=$drops seq_gaps=$gaps tmpl_miss=$miss storage_dropped=$sdrop spooled=${spooled:-?}"
	if [ "$count" = "$sent" ] && [ "$drops" = 0 ] && [ "$gaps" = 0 ] && [ "$sdrop" = 0 ] && [ "${spooled:-1}" = 0 ] &&
		[ "${got%.*}" -ge $((r * 98 / 100)) ]; then
		echo "  $r records/s for $SECS s: zero loss, sent at $got/s, all rows in ClickHouse ${lag}s after the last datagram ($loss)"
		best=$r
		stop_daemon
	else
		# behind or lost? give the writer 30 s more to show which
		for _ in $(seq 150); do
			late=$(ch_query "SELECT count() FROM $db.flows")
			[ "$late" -ge "$sent" ] && break
			sleep 0.2
		done
		echo "  $r records/s for $SECS s: FAILS ($loss, sent at $got/s, waited ${lag}s; rows $late after 30 s more:" \
			"$([ "$late" = "$sent" ] && echo "a backlog, not lost" || echo "$((sent - late)) rows short, still rising: $([ "$late" -gt "$count" ] && echo yes || echo no)"))"
		stop_daemon
		break
	fi
	ch_query "DROP DATABASE $db" >/dev/null
done
echo "flows to ClickHouse ($FORMAT): highest zero-loss NetFlow v9 rate $best records/s over $SECS s (UDP -> rampartd -> ClickHouse rows); ceiling $ceiling rows/s; ratio $(echo "scale=2; $best / $ceiling" | bc)"
