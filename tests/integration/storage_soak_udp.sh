#!/bin/bash
# Soak through UDP (issue 6's proof): numbered NetFlow v9 records (tests/integration/
# nf9_soak_send.py, every record unique: packets = its number) are sent at SOAK_RATE records/s
# (default 30 000) for SOAK_SECONDS (default 60) to a running rampartd writing to a real
# ClickHouse; ClickHouse is SIGKILLed in the middle (at 20 s) and started again 20 s later
# (SOAK_DOWN), the issue's words exactly. Afterwards:
#   - rampartd received every datagram (0 kernel drops, 0 sequence gaps, 0 malformed),
#   - it spooled the outage and replayed all of it, dropped nothing (ring or spool budget),
#   - ClickHouse flows: count() == uniqExact(packets) == records sent, min 1, max sent,
#     and the batches ledger and the host_traffic rollup agree with the table.
# /metrics must show the outage (clickhouse_down 1, spool bytes > 0) and then the replay.
# The one integration test allowed past 60 s (~100 s: 60 s of sending, ClickHouse's restart,
# the replay). Ports (this test's range): UDP 24000, ClickHouse HTTP 24001 / TCP 24002, API 24003.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/tests/lib/clickhouse.sh"
need_binaries
RATE=${SOAK_RATE:-30000}
DUR=${SOAK_SECONDS:-60}
DOWN=${SOAK_DOWN:-20}
KILL_AT=$(((DUR - DOWN) / 2))
UDP=24000
CH_HTTP=24001
CH_TCP=24002
API=24003
W=$(mktemp -d /tmp/rampart-soak-udp.XXXXXX)
RPID= SPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	[ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null
	ch_stop "$W/ch" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

ch_start "$W/ch" $CH_HTTP $CH_TCP || die "clickhouse-server did not start"
cat >"$W/rampart.yaml" <<CONF
log_level: info
networks: [198.51.100.0/24]
thresholds:
  incoming: { pps: 100000000 }
capture:
  pcap: { interfaces: [] }
  netflow: { listen: ["127.0.0.1:$UDP"] }
  udp_rcvbuf: 33554432
  flow_spread: 0
storage:
  clickhouse: { url: "http://127.0.0.1:$CH_HTTP", database: soak_udp }
  dir: $W/data
  batch_ms: 500
api: { socket: $W/rampart.sock, http: "127.0.0.1:$API" }
CONF
"$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RPID=$!
wait_for 30 grep -q "listening" "$W/rampartd.log" || { cat "$W/rampartd.log"; die "no listener"; }
ctl() { "$RAMPARTCTL" -s "$W/rampart.sock" "$@"; }
wait_for 10 sh -c "'$RAMPARTCTL' -s '$W/rampart.sock' stats | grep -q 'storage ClickHouse'" || die "no storage line"

say "$((RATE * DUR)) records at $RATE/s for $DUR s; ClickHouse killed at $KILL_AT s for $DOWN s"
python3 "$REPO/tests/integration/nf9_soak_send.py" 127.0.0.1 $UDP "$RATE" "$DUR" >"$W/sent" &
SPID=$!
T0=$(date +%s.%N)
sleep $KILL_AT
ch_kill "$W/ch"
T_KILL=$(date +%s.%N)
say "$(date +%T) killed ClickHouse $(echo "$T_KILL - $T0" | bc | cut -c1-4) s after the first record"
sleep 4
curl -sf "http://127.0.0.1:$API/metrics" >"$W/metrics.down" || fail "GET /metrics"
check "/metrics during the outage: clickhouse_down 1" grep -q '^rampart_storage_clickhouse_down 1$' "$W/metrics.down"
check "/metrics during the outage: spool bytes > 0" grep -Eq '^rampart_storage_spool_bytes [1-9][0-9]*$' "$W/metrics.down"
sleep $(echo "$T_KILL + $DOWN - $(date +%s.%N)" | bc)
say "$(date +%T) starting ClickHouse again, $(echo "$(date +%s.%N) - $T_KILL" | bc | cut -c1-4) s after the kill"
ch_start "$W/ch" $CH_HTTP $CH_TCP || fail "ClickHouse did not come back"
say "$(date +%T) ClickHouse answers again, down $(echo "$(date +%s.%N) - $T_KILL" | bc | cut -c1-4) s in all"
wait "$SPID" || fail "the sender failed"
SPID=
cat "$W/sent"
SENT=$(awk '{ print $2 }' "$W/sent")
DGRAMS=$(awk '{ print $4 }' "$W/sent")

# Everything queued is written once the spool is empty and written == queued.
drained() {
	ctl stats >"$W/stats" || return 1
	awk '/^storage ClickHouse/ { for (i = 1; i <= NF; i++) { if ($i == "queued" && !q) q = $(i + 1); if ($i == "written" && !w) w = $(i + 1) } }
	     /^storage spool:/ { b = $3 }
	     END { exit !(q > 0 && q == w && b == 0) }' "$W/stats"
}
wait_for 30 drained || fail "storage did not drain in 30 s"
ctl stats | grep -E "^(storage|listener)" | sed "s/^/$T_NAME:   /"
# a listener's figures are refreshed once per tick (100 ms): let the last datagrams' tick pass
all_in() { ctl exporters >"$W/exporters" && grep -Eq "^listener .*: datagrams $DGRAMS " "$W/exporters"; }
wait_for 5 all_in
cat "$W/exporters"
check "the listener received all $DGRAMS datagrams, 0 kernel drops" \
	grep -Eq "^listener .*: datagrams $DGRAMS kernel_drops 0 oversize 0 exporters 1$" "$W/exporters"
check "exporter: $SENT records, 0 malformed / template misses / sequence gaps" \
	awk -v r="$SENT" '$1 == "127.0.0.1" { f = ($6 == r && $7 == 0 && $8 == 0 && $9 == 0) } END { exit !f }' "$W/exporters"
st=$(tr '\n' ' ' <"$W/stats")
num() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$st" | head -n 1; }
check "storage queued every record, dropped none" test "$(num 'flows queued') $(num ' dropped')" = "$SENT 0"
spooled=$(sed -n 's/.*flows spooled \([0-9]*\) replayed \([0-9]*\) dropped \([0-9]*\).*/\1 \2 \3/p' <<<"$st")
say "spooled replayed spool_dropped: $spooled"
check "the outage was spooled (rows > 0), all replayed, none dropped" \
	awk '{ exit !($1 > 0 && $1 == $2 && $3 == 0) }' <<<"$spooled"
got=$(ch_query "SELECT count(), uniqExact(packets), min(packets), max(packets) FROM soak_udp.flows FORMAT TSV")
say "ClickHouse count uniq min max: $got"
check "ClickHouse has every record exactly once ($SENT)" test "$got" = "$SENT	$SENT	1	$SENT"
check "ledger rows == table, one entry per batch" test \
	"$(ch_query "SELECT sum(rows), max(n) FROM (SELECT batch_id, sum(rows) AS rows, count() AS n FROM soak_udp.batches WHERE tbl = 'flows' GROUP BY batch_id)")" = "$SENT	1"
check "host_traffic rollup counts every flow" test "$(ch_query "SELECT sum(flows) FROM soak_udp.host_traffic")" = "$SENT"
curl -sf "http://127.0.0.1:$API/metrics" >"$W/metrics.up" || fail "GET /metrics"
grep '^rampart_storage' "$W/metrics.up" | sed "s/^/$T_NAME:   /"
sp=${spooled%% *}
check "/metrics after: up, spool empty, flows spooled == replayed == $sp, spool_dropped 0" sh -c "
	grep -q '^rampart_storage_clickhouse_down 0\$' '$W/metrics.up' &&
	grep -q '^rampart_storage_spool_bytes 0\$' '$W/metrics.up' &&
	grep -q '^rampart_storage_rows_total{table=\"flows\",state=\"spooled\"} $sp\$' '$W/metrics.up' &&
	grep -q '^rampart_storage_rows_total{table=\"flows\",state=\"replayed\"} $sp\$' '$W/metrics.up' &&
	grep -q '^rampart_storage_rows_total{table=\"flows\",state=\"spool_dropped\"} 0\$' '$W/metrics.up'"
kill -TERM $RPID
for _ in $(seq 1 50); do kill -0 $RPID 2>/dev/null || break; sleep 0.2; done
RPID=
say "took $SECONDS s"
finish
