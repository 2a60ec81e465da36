#!/bin/bash
# The fingerprint's distinct counts and its shown keys, end to end, against a real ClickHouse 18.16
# (issue 13, "honest fingerprints"): a generated capture (tests/tools/mkattacks.py spread) with
#   192.0.2.81: a DNS amplification from random hosts of 50 /24s (no source, no /24 near 5 %);
#   192.0.2.82: a UDP flood from random hosts of 203.0.113.0/24 (no host heavy, the /24 all of it).
# rampartd replays it with ClickHouse storage and the HTTP API. Checks:
#   rampartctl attack: "spread over ~N sources (~M /24s)" for .81 with no source, /24 or port other
#     than 53 shown, N, M and the destination ports within 3 standard errors of the true counts of
#     the packets the fingerprint counted (the victim's last P, from the capture); for
#     .82 "proven heavy: 203.0.113.0/24 (no single address)", the /24 shown with its bounds, no host;
#   the API's attack objects carry the same counts and heavy network;
#   attack_events (schema 7): the ban row's distinct counts are 0 (no record yet), the unban row's
#     are those rampartctl shows.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/tests/lib/clickhouse.sh"
need_binaries
command -v clickhouse-server >/dev/null || command -v clickhouse >/dev/null || die "ClickHouse is not installed: make deps"

work_dir fpch
CH_HTTP=24761 CH_TCP=24762 API=24763
SOCK=$WORK/rampart.sock
/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$WORK/spread.pcap" spread >/dev/null || die "the capture generator failed"
ch_start "$WORK/ch" $CH_HTTP $CH_TCP || die "clickhouse-server did not start"
on_exit "ch_stop '$WORK/ch'"
chq() { ch_query $CH_HTTP "$1"; }

cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3
capture:
  pcap:
    interfaces: []
storage:
  clickhouse:
    url: "http://127.0.0.1:$CH_HTTP"
    database: rampart_fp
  dir: $WORK/spool
  batch_ms: 200
api:
  socket: $SOCK
  http: "127.0.0.1:$API"
CONF
"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
replay_max "$WORK/spread.pcap"

ctl attacks >"$WORK/attacks" || fail "rampartctl attacks"
id_of() { awk -v t="$1" '$2 == t { print $1; exit }' "$WORK/attacks"; }
A81=$(id_of 192.0.2.81/32) A82=$(id_of 192.0.2.82/32)
check "attacks on 192.0.2.81 and 192.0.2.82 (ids '$A81' '$A82')" test -n "$A81" -a -n "$A82"
ctl attack "${A81:-0}" >"$WORK/a81" 2>&1
ctl attack "${A82:-0}" >"$WORK/a82" 2>&1
cat "$WORK/a81" "$WORK/a82"
P81=$(sed -n 's/^packets: \([0-9]*\) .*/\1/p' "$WORK/a81") P82=$(sed -n 's/^packets: \([0-9]*\) .*/\1/p' "$WORK/a82")

# The truth, from the capture: a replay has one worker, which counts a victim's records from the
# tick after detection on, so the fingerprint's P packets are the victim's last P. Their distinct
# sources, source /24s and destination ports, per victim.
/usr/bin/python3 - "$WORK/spread.pcap" "${P81:-0}" "${P82:-0}" >"$WORK/truth" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
last = {"192.0.2.81": int(sys.argv[2]), "192.0.2.82": int(sys.argv[3])}
p, pk = 24, {v: [] for v in last}
while p < len(d):
    _, _, n, _ = struct.unpack_from("<IIII", d, p)
    f = d[p + 16:p + 16 + n]
    p += 16 + n
    v = ".".join(map(str, f[30:34]))
    if f[12:14] == b"\x08\x00" and v in pk:
        pk[v].append((f[26:30], f[36:38]))
for v in sorted(pk):
    tail = pk[v][len(pk[v]) - last[v]:] if last[v] else []
    print(v, len(tail), len({s for s, _ in tail}), len({s[:3] for s, _ in tail}), len({dp for _, dp in tail}))
PY
cat "$WORK/truth"

# an estimate X within 3 standard errors SE of the true T (and 1 for rounding)
near() { awk -v x="$1" -v t="$2" -v se="$3" 'BEGIN { d = x - t; if (d < 0) d = -d; exit !(d <= 3 * se * t + 1) }'; }
read -r _ n81 src81 nets81 dports81 < <(grep '^192.0.2.81 ' "$WORK/truth")
read -r _ n82 src82 nets82 dports82 < <(grep '^192.0.2.82 ' "$WORK/truth")
check "192.0.2.81: fingerprint of the last ${n81:-?} packets (of 6000), 192.0.2.82 of ${n82:-?}" \
	test "${n81:-0}" -ge 3000 -a "${n82:-0}" -ge 3000
line81=$(grep '^sources: ' "$WORK/a81")
N81=$(echo "$line81" | sed -n 's/^sources: ~\([0-9]*\) distinct, ~\([0-9]*\) \/24s; .*/\1/p')
M81=$(echo "$line81" | sed -n 's/^sources: ~\([0-9]*\) distinct, ~\([0-9]*\) \/24s; .*/\2/p')
check "192.0.2.81: dns_amplification" grep -qx 'kind: dns_amplification' "$WORK/a81"
check "192.0.2.81: 'none proven heavy: spread over ~$N81 sources (~$M81 /24s)'" \
	grep -qx "sources: ~$N81 distinct, ~$M81 /24s; none proven heavy: spread over ~$N81 sources (~$M81 /24s)" "$WORK/a81"
check "192.0.2.81: ~$N81 distinct sources, true $src81 (3 standard errors of 1.6 %)" near "${N81:-0}" "$src81" 0.016
check "192.0.2.81: ~$M81 /24s, true $nets81 (3 standard errors of 3.3 %)" near "${M81:-0}" "$nets81" 0.033
check "192.0.2.81: no source shown" grep -qx 'top sources (packets at least..at most): none with a proven 5% share' "$WORK/a81"
check "192.0.2.81: no /24 shown (each ~2 %)" \
	grep -qx 'top source /24s (packets at least..at most): none with a proven 5% share' "$WORK/a81"
check "192.0.2.81: source port 53 shown, exact" grep -Eq '^top source ports \(packets at least..at most\): 53 \(([0-9]+)\.\.\1\)$' "$WORK/a81"
DP81=$(sed -n 's/^ports: ~1 distinct source, ~\([0-9]*\) distinct destination$/\1/p' "$WORK/a81")
check "192.0.2.81: one distinct source port, ~$DP81 destination ports, true $dports81 (3 standard errors)" \
	near "${DP81:-0}" "$dports81" 0.033
check "192.0.2.81: no destination port shown" \
	grep -qx 'top destination ports (packets at least..at most): none with a proven 5% share' "$WORK/a81"

line82=$(grep '^sources: ' "$WORK/a82")
N82=$(echo "$line82" | sed -n 's/^sources: ~\([0-9]*\) distinct, ~\([0-9]*\) \/24s; .*/\1/p')
M82=$(echo "$line82" | sed -n 's/^sources: ~\([0-9]*\) distinct, ~\([0-9]*\) \/24s; .*/\2/p')
check "192.0.2.82: the /24 proven heavy, no single address" \
	grep -qx "sources: ~$N82 distinct, ~1 /24s; proven heavy: 203.0.113.0/24 (no single address)" "$WORK/a82"
check "192.0.2.82: ~$N82 distinct sources, true $src82 (3 standard errors)" near "${N82:-0}" "$src82" 0.016
check "192.0.2.82: no host shown" grep -qx 'top sources (packets at least..at most): none with a proven 5% share' "$WORK/a82"
check "192.0.2.82: the /24 shown with all of it guaranteed" \
	grep -Eq '^top source /24s \(packets at least..at most\): 203\.0\.113\.0/24 \(([0-9]+)\.\.\1\)$' "$WORK/a82"

curl -sS "http://127.0.0.1:$API/api/v1/attacks" >"$WORK/attacks.json" || fail "GET /api/v1/attacks"
check "API: the same distinct counts and heavy network" /usr/bin/python3 - "$WORK/attacks.json" "$N81" "$M81" "$N82" <<'PY'
import json, sys
a = {x["target"]: x["fingerprint"] for x in json.load(open(sys.argv[1]))["attacks"]}
f81, f82 = a["192.0.2.81/32"], a["192.0.2.82/32"]
assert f81["distinct_peers"] == int(sys.argv[2]) and f81["distinct_peer_prefixes"] == int(sys.argv[3]), f81
assert f81["peer_prefix_length"] == 24 and f81["peers"] == [] and f81["peer_prefixes"] == [], f81
assert f81["heavy_peer"] is None and f81["heavy_peer_prefix"] is None, f81
assert [p["port"] for p in f81["src_ports"]] == [53] and f81["distinct_src_ports"] == 1, f81
assert f82["distinct_peers"] == int(sys.argv[4]) and f82["heavy_peer_prefix"] == "203.0.113.0/24", f82
assert f82["heavy_peer"] is None and f82["peers"] == [], f82
assert [p["key"] for p in f82["peer_prefixes"]] == ["203.0.113.0/24"], f82
assert f82["peer_prefixes"][0]["at_least"] == f82["peer_prefixes"][0]["at_most"] == f82["packets"], f82
PY

# ClickHouse: both attacks unbanned (ban_time 3 s), their rows read back
q="SELECT count() FROM rampart_fp.attack_events WHERE event = 'unban'"
check "attack_events: both unban rows stored" wait_for 20 sh -c ". '$REPO/tests/lib/clickhouse.sh'; [ \"\$(ch_query $CH_HTTP \"$q\")\" -ge 2 ]"
chq "SELECT IPv6NumToString(target), event, distinct_peers, distinct_peer_prefixes, distinct_src_ports, distinct_dst_ports FROM rampart_fp.attack_events WHERE event IN ('ban', 'unban') ORDER BY target, event FORMAT TSV" >"$WORK/rows.tsv"
cat "$WORK/rows.tsv"
D81=$(sed -n 's/^ports: ~\([0-9]*\) distinct source, ~\([0-9]*\) distinct destination$/\1 \2/p' "$WORK/a81")
check "attack_events: the ban rows have no distinct counts yet (the ban does not wait for records)" \
	test "$(awk '$2 == "ban" && $3 == 0 && $4 == 0 && $5 == 0 && $6 == 0' "$WORK/rows.tsv" | wc -l)" -eq 2
check "attack_events: 192.0.2.81's unban row has rampartctl's counts ($N81 $M81 $D81)" \
	grep -qx "::ffff:192.0.2.81	unban	$N81	$M81	${D81/ /	}" "$WORK/rows.tsv"
check "attack_events: 192.0.2.82's unban row has rampartctl's counts ($N82 1 ...)" \
	grep -Eq "^::ffff:192\.0\.2\.82	unban	$N82	1	[0-9]{3,}	1$" "$WORK/rows.tsv"
check "schema 7 recorded" test "$(chq 'SELECT max(version) FROM rampart_fp.schema_migrations')" -ge 7
check "the distinct columns sit after parent_attack_id, before batch_id" test \
	"$(chq "SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.columns WHERE database = 'rampart_fp' AND table = 'attack_events' AND (name LIKE 'distinct%' OR name IN ('parent_attack_id', 'batch_id')))")" = \
	"parent_attack_id,distinct_peers,distinct_peer_prefixes,distinct_src_ports,distinct_dst_ports,batch_id"

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log" && fail "sanitizer report in the daemon's log"
[ "$T_FAILS" -ne 0 ] && { echo "--- rampartd log"; grep -v ' debug: ' "$WORK/rampartd.log" | tail -30; }
finish
