#!/bin/bash
# Read-back from ClickHouse: the shared capture is replayed with ClickHouse storage, then
#   rampartctl flows ID / talkers HOST and GET /api/v1/attack/ID/flows, /api/v1/host/IP/talkers
# must give what ClickHouse itself says (top rows by packets of the attack's target; top sources
# and ports of a host), clear errors (unknown attack 404, bad host 400, no ClickHouse), and the
# main loop must keep answering while a query waits on a hung ClickHouse (SIGSTOP).
# Ports (st4's range): ClickHouse HTTP 24301 / TCP 24302, API 24303 (24304 for the file-output daemon).
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/tests/lib/clickhouse.sh"
need_data
need_binaries
W=$(mktemp -d /tmp/rampart-readback.XXXXXX)
PID= PID2=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "$PID2" ] && kill -9 "$PID2" 2>/dev/null
	[ -f "$W/ch/pid" ] && kill -CONT "$(cat "$W/ch/pid")" 2>/dev/null
	ch_stop "$W/ch" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
API=24303
URL=http://127.0.0.1:$API
ch_start "$W/ch" 24301 24302 || die "clickhouse-server did not start"
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection: { ban_time: 3600 }
capture:
  pcap: { interfaces: [] }
storage:
  clickhouse: { url: "http://127.0.0.1:24301", database: readback }
  dir: $W/data
  batch_ms: 200
api: { socket: $W/rampart.sock, http: "127.0.0.1:$API" }
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" >"$W/rampartd.log" 2>&1 &
PID=$!
ctl() { "$RAMPARTCTL" -s "$W/rampart.sock" "$@"; }
wait_for 30 sh -c "curl -sf $URL/api/v1/stats | grep -q '\"finished\":true'" ||
	{ tail -20 "$W/rampartd.log"; die "the replay did not finish within 30 s"; }
written() { ctl stats | awk '/^storage ClickHouse/ { for (i = 1; i <= NF; i++) { if ($i == "queued" && !q) q = $(i + 1); if ($i == "written" && !w) w = $(i + 1) } } END { exit !(q > 0 && q == w) }'; }
# the mirror's flows reach storage as the flow table expires them, after the replay ends
has_all() { [ "$(ch_query "SELECT sum(packets) FROM readback.flows WHERE dst = toFixedString(IPv6StringToNum('::ffff:192.0.2.10'), 16)")" = 5000 ]; }
wait_for 40 has_all || fail "ClickHouse does not have the 5000 packets of 192.0.2.10"
wait_for 10 written || fail "storage did not write everything"

ID=$(ctl attacks | awk '$2 == "192.0.2.10/32" { print $1; exit }')
[ -n "$ID" ] || die "no attack on 192.0.2.10"
T=::ffff:192.0.2.10
V="IPv6StringToNum('$T')"
DST="toFixedString($V, 16)"
ctl flows "$ID" --limit 5 >"$W/flows" 2>&1 || fail "rampartctl flows failed: $(cat "$W/flows")"
sed "s/^/$T_NAME:   /" "$W/flows"
check "flows: header names attack $ID and its target" grep -q "^attack $ID target 192.0.2.10/32, flows from" "$W/flows"
check "flows: 5 rows, all to the target" sh -c "grep -c ' $T ' '$W/flows' | grep -qx 5 && grep -q '^5 rows$' '$W/flows'"
top=$(ch_query "SELECT max(packets * sampling_rate) FROM readback.flows WHERE dst = $DST")
check "flows: the first row has the most packets ClickHouse has for the target ($top)" \
	awk -v t="$top" '$3 == "'$T'" { exit !($8 == t) }' <(grep -m1 " $T " "$W/flows")

ctl talkers 192.0.2.10 --from 0 --limit 3 >"$W/talkers" 2>&1 || fail "rampartctl talkers failed: $(cat "$W/talkers")"
sed "s/^/$T_NAME:   /" "$W/talkers"
want=$(ch_query "SELECT IPv6NumToString(src) AS k, count(), sum(packets * sampling_rate) AS p FROM readback.flows WHERE dst = $DST GROUP BY k ORDER BY p DESC, k LIMIT 1 FORMAT TSV" | tr '\t' ' ')
check "talkers: top source is ClickHouse's ($want)" sh -c "awk '/^top sources/ { getline; getline; print \$1, \$2, \$3; exit }' '$W/talkers' | grep -qx '$want'"
wantp=$(ch_query "SELECT concat(toString(protocol), '/', toString(dst_port)) AS k, sum(packets) AS p FROM readback.flows WHERE dst = $DST GROUP BY k ORDER BY p DESC, k LIMIT 1 FORMAT TSV" | tr '\t' ' ')
check "talkers: top port is ClickHouse's ($wantp)" sh -c "awk '/^top ports/ { getline; getline; print \$1, \$3; exit }' '$W/talkers' | grep -qx '$wantp'"
check "talkers: default range (the last hour of the replay clock) finds the same rows" \
	sh -c "'$RAMPARTCTL' -s '$W/rampart.sock' talkers 192.0.2.10 --limit 3 | grep -A2 '^top sources' | tail -1 | awk '{print \$1, \$2, \$3}' | grep -qx '$want'"
check "talkers: an empty range is an error" sh -c "! '$RAMPARTCTL' -s '$W/rampart.sock' talkers 192.0.2.10 --from 100 --to 50"
check "flows: an unknown attack is an error" sh -c "'$RAMPARTCTL' -s '$W/rampart.sock' flows 999999 2>&1 | grep -q 'no attack 999999'"

json() { curl -sf "$URL$1" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$URL$1"; }
check "GET /api/v1/attack/$ID/flows?n=3: 3 flows to the target, the first with $top packets" \
	json "/api/v1/attack/$ID/flows?n=3" "d['attack_id'] == $ID and d['rows'] == 3 and all(f['dst'] == '$T' for f in d['flows']) and d['flows'][0]['packets'] * d['flows'][0]['sampling_rate'] == $top"
src=${want%% *}
check "GET /api/v1/host/192.0.2.10/talkers?from=0: top source $src, sources and ports" \
	json "/api/v1/host/192.0.2.10/talkers?from=0&n=3" "d['sources'][0]['key'] == '$src' and len(d['ports']) >= 1 and d['rows'] <= 6"
# a command goes as JSON (docs/API.md): {"command": LINE}
post() { curl -s -o "$W/post.out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "{\"command\":\"$1\"}" "$URL/api/v1/command"; }
export -f post; export W URL
# the header's range ends at the attack's end, or now (the capture clock goes on after the replay)
# while it is still active: the same header up to that bound, the same rows
check "POST /api/v1/command 'flows $ID --limit 5': 200 and rampartctl's text" \
	bash -c "[ \"\$(post 'flows $ID --limit 5')\" = 200 ] && diff <(sed '1s/ to [0-9]* (UNIX s/ (UNIX s/' '$W/flows') <(sed '1s/ to [0-9]* (UNIX s/ (UNIX s/' '$W/post.out')"
check "POST /api/v1/command 'talkers 192.0.2.10 --from 0 --limit 3': rampartctl's text" \
	bash -c "[ \"\$(post 'talkers 192.0.2.10 --from 0 --limit 3')\" = 200 ] && diff <(sed '1s/ to [0-9]* (UNIX s/ (UNIX s/' '$W/talkers') <(sed '1s/ to [0-9]* (UNIX s/ (UNIX s/' '$W/post.out')"
check "POST /api/v1/command 'flows 999999': 404 naming the attack" bash -c "[ \"\$(post 'flows 999999')\" = 404 ] && grep -q 'no attack 999999' '$W/post.out'"
check "POST /api/v1/command 'talkers 1.2.3': 400" test "$(post 'talkers 1.2.3')" = 400
check "GET an unknown attack's flows: 404" test "$(code /api/v1/attack/999999/flows)" = 404
check "GET talkers of a bad address: 400" test "$(code /api/v1/host/1.2.3/talkers)" = 400
check "GET talkers with a bad time: 400" test "$(code '/api/v1/host/192.0.2.10/talkers?from=yesterday')" = 400

# A hung ClickHouse: the query waits (10 s deadline) on the read-back thread; the loop answers.
CHPID=$(cat "$W/ch/pid")
kill -STOP "$CHPID"
t0=$(date +%s.%N)
ctl flows "$ID" >"$W/hung" 2>&1 &
Q=$!
curl -s -o "$W/hung.http" -w '%{http_code}' "$URL/api/v1/attack/$ID/flows" >"$W/hung.code" &
QH=$!
sleep 1
t1=$(date +%s.%N)
check "while ClickHouse hangs, stats answers at once" sh -c "'$RAMPARTCTL' -s '$W/rampart.sock' stats >/dev/null"
check "... and the HTTP API too" json /api/v1/bans "d['count'] == 5"
dt=$(echo "$(date +%s.%N) - $t1" | bc)
say "stats + bans answered in $dt s while queries waited"
check "answered within 1 s" test "$(echo "$dt < 1" | bc)" = 1
wait $Q; wait $QH
took=$(echo "$(date +%s.%N) - $t0" | bc)
kill -CONT "$CHPID"
say "the hung queries ended after $took s: $(head -c 200 "$W/hung")"
# one query thread: the two queries time out one after the other (10 s each)
check "the query against a hung ClickHouse ends in an error (10 s deadline each, 2 queued)" sh -c "grep -q 'ClickHouse: Timeout' '$W/hung' && test \$(echo '$took < 25' | bc) = 1"
check "... and HTTP gets a 502" test "$(cat "$W/hung.code")" = 502

# Without ClickHouse (file output) the commands say why they cannot answer.
sed -e '/clickhouse:/d' -e "s#$W/rampart.sock#$W/r2.sock#" -e "s#127.0.0.1:$API#127.0.0.1:24304#" -e "s#dir: $W/data#dir: $W/data2#" "$W/rampart.yaml" >"$W/r2.yaml"
"$RAMPARTD" -c "$W/r2.yaml" >"$W/r2.log" 2>&1 &
PID2=$!
wait_for 10 test -S "$W/r2.sock" || fail "second daemon"
check "file storage: flows is refused with a clear error" sh -c "'$RAMPARTCTL' -s '$W/r2.sock' flows 1 2>&1 | grep -q 'needs ClickHouse storage'"
check "file storage: HTTP 503" test "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:24304/api/v1/host/192.0.2.10/talkers)" = 503
say "took $SECONDS s"
finish
