#!/bin/bash
# A ClickHouse cluster: two clickhouse-server 18.16 on loopback, one shard each (remote_servers
# cluster "rc" in both configs), two rampartd writing through it with
# storage.clickhouse.cluster: rc, each to its own server (rampartd A posts Native, B RowBinary).
# Rampart's migrations make, on each server, the *_local MergeTree tables and the Distributed
# tables over them. Numbered NetFlow v9 records (nf9_soak_send.py; A's from 0, B's from 10^6,
# so every record is unique across both) go to the two daemons. Afterwards, through the
# Distributed tables:
#   - count() == uniqExact(packets) == records sent to both (nothing lost, nothing twice),
#   - both shards hold rows, their sum is the total, and no destination is on both shards
#     (flows are sharded by cityHash64(dst): one host's rows stay together),
#   - the batches ledger (per shard, summed by Distributed) and the host_traffic rollup agree,
#   - attack_events through Distributed == events both daemons wrote,
#   - read-back through Distributed: rampartctl talkers / flows ID answer what ClickHouse says,
#     rows sent by the other daemon included;
# and a rampartd without the cluster key is refused on the cluster's database, with the reason.
# Ports (st4's range): ClickHouse A 24201/24202, B 24203/24204; UDP 24210/24211/24214; API 24212/24213/24215.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/tests/lib/clickhouse.sh"
need_binaries
RATE=${CLUSTER_RATE:-20000}
DUR=${CLUSTER_SECONDS:-5}
W=$(mktemp -d /tmp/rampart-cluster.XXXXXX)
PA= PB= PC= SA= SB=
cleanup() {
	for p in $SA $SB; do kill "$p" 2>/dev/null; done
	for p in $PA $PB $PC; do kill -9 "$p" 2>/dev/null; done
	ch_stop "$W/a" >/dev/null 2>&1
	ch_stop "$W/b" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

export CH_EXTRA_CONFIG
CH_EXTRA_CONFIG=$(ch_cluster_xml rc 127.0.0.1:24202 127.0.0.1:24204)
ch_start "$W/b" 24203 24204 || die "clickhouse-server B did not start"
ch_start "$W/a" 24201 24202 || die "clickhouse-server A did not start"
qa() { ch_query 24201 "$1"; }
qb() { ch_query 24203 "$1"; }

daemon() { # NAME UDP API CH_HTTP FORMAT
	cat >"$W/$1.yaml" <<CONF
networks: [198.51.100.0/24]
thresholds:
  incoming: { pps: 1000 }
detection: { ban_time: 3600 }
mitigation: { dry_run: true }
capture:
  pcap: { interfaces: [] }
  netflow: { listen: ["127.0.0.1:$2"] }
storage:
  clickhouse: { url: "http://127.0.0.1:$4", database: cl, cluster: rc, format: $5 }
  dir: $W/$1.data
  batch_ms: 300
api: { socket: $W/$1.sock, http: "127.0.0.1:$3" }
CONF
	"$RAMPARTD" -c "$W/$1.yaml" >"$W/$1.log" 2>&1 &
}
daemon a 24210 24212 24201 native
PA=$!
daemon b 24211 24213 24203 rowbinary
PB=$!
wait_for 10 grep -q listening "$W/a.log" || { cat "$W/a.log"; die "daemon A"; }
wait_for 10 grep -q listening "$W/b.log" || { cat "$W/b.log"; die "daemon B"; }
ctl() { "$RAMPARTCTL" -s "$W/$1.sock" "${@:2}"; }
wait_for 10 sh -c "'$RAMPARTCTL' -s '$W/a.sock' stats | grep -q 'storage ClickHouse.*cluster rc (Native)'" ||
	fail "daemon A does not say it writes Native through cluster rc"
check "A made the local and the Distributed tables on server A" test \
	"$(qa "SELECT arrayStringConcat(groupArray(concat(name, ':', engine)), ' ') FROM (SELECT name, engine FROM system.tables WHERE database = 'cl' AND name IN ('flows', 'flows_local', 'batches', 'host_traffic', 'operator_events', 'operator_events_local') ORDER BY name)")" \
	= "batches:Distributed flows:Distributed flows_local:MergeTree host_traffic:Distributed operator_events:Distributed operator_events_local:MergeTree"
check "B made them on server B" test "$(qb "SELECT count() FROM system.tables WHERE database = 'cl' AND name LIKE '%_local'")" = 5

say "$RATE records/s for $DUR s into each daemon"
python3 "$REPO/tests/integration/nf9_soak_send.py" 127.0.0.1 24210 "$RATE" "$DUR" >"$W/sent.a" &
SA=$!
python3 "$REPO/tests/integration/nf9_soak_send.py" 127.0.0.1 24211 "$RATE" "$DUR" --first 1000000 >"$W/sent.b" &
SB=$!
wait "$SA" || fail "sender A"
wait "$SB" || fail "sender B"
SA= SB=
NA=$(awk '{ print $2 }' "$W/sent.a")
NB=$(awk '{ print $2 }' "$W/sent.b")
N=$((NA + NB))
say "sent $NA + $NB = $N records"
all_in() { [ "$(qa "SELECT count() FROM cl.flows")" = "$N" ]; }
wait_for 30 all_in || fail "the Distributed table does not show $N rows within 30 s: $(qa "SELECT count() FROM cl.flows")"
ctl a stats | grep '^storage' | sed "s/^/$T_NAME:   A /"
ctl b stats | grep '^storage' | sed "s/^/$T_NAME:   B /"

got=$(qa "SELECT count(), uniqExact(packets), min(packets), max(packets) FROM cl.flows FORMAT TSV")
check "through Distributed: every record exactly once ($N)" test "$got" = "$N	$N	1	$((1000000 + NB))"
check "the same seen from server B" test "$(qb "SELECT count(), uniqExact(packets) FROM cl.flows FORMAT TSV")" = "$N	$N"
# every column as sent (record k: packets k+1, bytes 100(k+1), src 10.0.0.0+k, ...): A's rows went
# in as Native, B's as RowBinary; both must read back equal to what nf9_soak_send.py put on the wire
bad=$(qa "SELECT countIf(NOT (bytes = 100 * packets AND src_port = 1024 + bitAnd(packets - 1, 32767) AND dst_port = 53
	AND protocol = 17 AND src = toFixedString(IPv6StringToNum(concat('::ffff:', IPv4NumToString(toUInt32(167772160 + packets - 1)))), 16)
	AND dst = toFixedString(IPv6StringToNum(concat('::ffff:198.51.100.', toString(1 + bitAnd(packets - 1, 63)))), 16)
	AND exporter = toFixedString(IPv6StringToNum('::ffff:127.0.0.1'), 16) AND sampling_rate = 1 AND source = 3
	AND ip_version = 4 AND tcp_flags = 0 AND vlan = 0 AND batch_id != 0)), countIf(packets <= $NA) FROM cl.flows FORMAT TSV")
check "every column of every row reads back as sent (A's $NA rows posted as Native, B's as RowBinary)" test "$bad" = "0	$NA"
la=$(qa "SELECT count() FROM cl.flows_local")
lb=$(qb "SELECT count() FROM cl.flows_local")
say "shard A holds $la rows, shard B $lb"
check "both shards hold rows, and together all of them" test "$((la > 0 && lb > 0))$((la + lb))" = "1$N"
qa "SELECT DISTINCT hex(dst) FROM cl.flows_local ORDER BY 1" >"$W/dst.a"
qb "SELECT DISTINCT hex(dst) FROM cl.flows_local ORDER BY 1" >"$W/dst.b"
check "no destination on both shards ($(wc -l <"$W/dst.a") + $(wc -l <"$W/dst.b") hosts)" \
	sh -c "[ -s '$W/dst.a' ] && [ -s '$W/dst.b' ] && [ -z \"\$(comm -12 '$W/dst.a' '$W/dst.b')\" ]"
check "ledger through Distributed: rows == table, every batch whole" test \
	"$(qa "SELECT sum(r), count() FROM (SELECT batch_id, sum(rows) AS r FROM cl.batches WHERE tbl = 'flows' GROUP BY batch_id)" | cut -f1)" = "$N"
check "host_traffic through Distributed counts every flow" test "$(qa "SELECT sum(flows) FROM cl.host_traffic")" = "$N"
ev_written() { ctl "$1" stats | sed -n 's/.*events queued [0-9]* written \([0-9]*\).*/\1/p'; }
evs_in() { [ "$(qa "SELECT count() FROM cl.attack_events")" = "$(($(ev_written a) + $(ev_written b)))" ]; }
wait_for 10 evs_in
check "attack_events through Distributed == events both daemons wrote ($(ev_written a) + $(ev_written b))" evs_in
# schema 4 (detection.attack_pcap) on every shard's table and on the Distributed one, in the same
# place (before batch_id), so the RowBinary and Native inserts above went through both
cols() { "$1" "SELECT arrayStringConcat(groupArray(concat(name, ' ', type)), ',') FROM system.columns WHERE database = 'cl' AND table = '$2' AND name IN ('reason', 'pcap_file', 'pcap_packets', 'batch_id')"; }
for srv in qa qb; do
	for t in attack_events attack_events_local; do
		check "$srv: $t has pcap_file, pcap_packets after reason, batch_id last" \
			test "$(cols $srv $t)" = "reason String,pcap_file String,pcap_packets UInt64,batch_id UInt64"
	done
done

# read-back through the Distributed table, rows of both daemons
T=::ffff:198.51.100.1
DST="toFixedString(IPv6StringToNum('$T'), 16)"
ctl a talkers 198.51.100.1 --from 0 --limit 3 >"$W/talkers" 2>&1 || fail "talkers: $(cat "$W/talkers")"
sed "s/^/$T_NAME:   /" "$W/talkers"
want=$(qa "SELECT IPv6NumToString(src) AS k, count(), sum(packets * sampling_rate) AS p FROM cl.flows WHERE dst = $DST GROUP BY k ORDER BY p DESC, k LIMIT 1 FORMAT TSV" | tr '\t' ' ')
check "talkers via A: top source is the Distributed table's ($want, a record sent to B)" \
	sh -c "awk '/^top sources/ { getline; getline; print \$1, \$2, \$3; exit }' '$W/talkers' | grep -qx '$want'"
ID=$(ctl a attacks | awk '$2 == "198.51.100.1/32" { print $1; exit }')
if [ -z "$ID" ]; then
	fail "no attack on 198.51.100.1 in daemon A"
else
	ctl a flows "$ID" --limit 4 >"$W/flows" 2>&1 || fail "flows: $(cat "$W/flows")"
	sed "s/^/$T_NAME:   /" "$W/flows"
	top=$(qa "SELECT max(packets * sampling_rate) FROM cl.flows WHERE dst = $DST")
	check "flows of attack $ID via A: 4 rows to the target, the first with the cluster's most packets ($top)" \
		sh -c "grep -c ' $T ' '$W/flows' | grep -qx 4 && grep -m1 ' $T ' '$W/flows' | awk '{ exit !(\$9 == $top) }'"
fi
for d in a b; do
	check "daemon $d: nothing dropped or spooled" sh -c "'$RAMPARTCTL' -s '$W/$d.sock' stats | grep -q 'flows spooled 0 replayed 0 dropped 0' &&
		'$RAMPARTCTL' -s '$W/$d.sock' stats | grep -Eq 'storage ClickHouse.* dropped 0 events'"
done
# a database stays in its mode: a rampartd without the cluster key on database cl is refused
sed -e 's/, cluster: rc//' -e "s#$W/a#$W/c#g" -e 's/24210/24214/' -e 's/24212/24215/' "$W/a.yaml" >"$W/c.yaml"
"$RAMPARTD" -c "$W/c.yaml" >"$W/c.log" 2>&1 &
PC=$!
check "a rampartd without storage.clickhouse.cluster on the cluster's database says why it cannot write" \
	wait_for 10 grep -q "cl.flows is Distributed but storage.clickhouse.cluster is not set" "$W/c.log"
{ kill -9 $PC; wait $PC; } 2>/dev/null; PC=
kill -TERM $PA $PB
for _ in $(seq 1 50); do kill -0 $PA 2>/dev/null || kill -0 $PB 2>/dev/null || break; sleep 0.2; done
PA= PB=
say "took $SECONDS s"
finish
