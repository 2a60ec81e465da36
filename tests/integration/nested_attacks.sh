#!/bin/bash
# Attacks inside a mitigated prefix, and an outgoing attack from it (issue 13): a generated capture
# (tests/tools/mkattacks.py nested) bombs 10.50.5.0/24 with 200 hosts at 40 pps each (8000 pps over
# the /24, t = 1..5 s); inside the /24, from t = 2 s, once the /24 is mitigated, a DNS
# amplification hits 10.50.5.210 (2000 pps from source port 53) and 10.50.5.220 sends a SYN flood
# out (2000 pps). The customer is a hostgroup summed per /24 with a 3000 pps total and FlowSpec
# mitigation; it writes no per-host thresholds, so its hosts are checked with the top-level ones
# (500 pps each way). rampartd replays the capture at recorded speed in namespace na_rd, peers with
# a real BIRD 2 in na_rt (flow4) and stores into a real ClickHouse 18.16 in na_rd. Checks:
#   three attacks: the /24 (incoming), 10.50.5.210/32 (incoming, dns_amplification) and
#     10.50.5.220/32 (outgoing, syn_flood), each with its own FlowSpec rule at BIRD;
#   both host attacks carry the /24's attack id as parent_attack_id: in rampartctl attack, the
#     log, and every attack_events row in ClickHouse; the /24's own rows have 0.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=na_rd NS_RT=na_rt
CH_HTTP=24741 CH_TCP=24742
W=$LIB_TMP
/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$W/nested.pcap" nested >/dev/null ||
	die "the capture generator failed"
netns_pair $NS_RD $NS_RT "10.73.0.1/24" "10.73.0.2/24" || die "cannot create the namespaces"

ch() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; $*"; }
chq() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_query $CH_HTTP \"\$1\"" _ "$1"; }
ch "ch_start '$W/ch' $CH_HTTP $CH_TCP" || die "clickhouse-server did not start"
lib_on_exit "ip netns exec $NS_RD bash -c \". '$REPO/tests/lib/clickhouse.sh'; ch_stop '$W/ch'\""

mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.73.0.2;
log "$W/bird/bird.log" all;
protocol device { }
flow4 table fl4;
protocol bgp rampart4 {
	local 10.73.0.2 as 65002;
	neighbor 10.73.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
	flow4 { table fl4; import all; export none; };
}
CONF
bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24]
thresholds:
  incoming: { pps: 500 }
  outgoing: { pps: 500 }
hostgroups:
  - name: customer
    prefixes: [10.50.0.0/16]
    total: { incoming: { pps: 3000 } }
    total_scope: prefix
    total_prefix_length: { ipv4: 24 }
    mitigation: { action: flowspec }
detection:
  ban_time: 60
capture:
  pcap:
    interfaces: []
bgp:
  local_as: 65001
  router_id: 10.73.0.1
  connect_retry: 1
  peers:
    - address: 10.73.0.2
      remote_as: 65002
      families: [ipv4-unicast, ipv4-flowspec]
      local_address: 10.73.0.1
      hold_time: 30
storage:
  clickhouse:
    url: "http://127.0.0.1:$CH_HTTP"
    database: rampart_nested
  dir: $W/spool
  batch_ms: 200
api:
  socket: $SOCK
  http: ""
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --check-config || die "the test configuration does not validate"

ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" --pcap "$W/nested.pcap" --pcap-speed recorded \
	>"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID 2>/dev/null"

bad() { LIB_FAIL=$((LIB_FAIL + 1)); echo "FAIL $*"; }
rules() { birdc_in $NS_RT "$W/bird" show route table fl4 | grep -E '^flow4 \{' | sed 's/ *\[.*//'; }
check "BIRD session established" wait_for 20 sh -c \
	"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null"
# the host rules start from the class mix and are narrowed to the fingerprint a tick later
narrowed() {
	rules >"$W/rules.txt"
	grep -q 'sport 53;' "$W/rules.txt" && grep -Eq '^flow4 \{ dst 203\.0\.113\.0/24; src 10\.50\.5\.220/32;.*dport 80;' "$W/rules.txt"
}
check "FlowSpec rules at BIRD for the /24 and each inner attack, narrowed" wait_for 15 narrowed
cat "$W/rules.txt"
check "rule for the bombed /24" grep -q '^flow4 { dst 10\.50\.5\.0/24;' "$W/rules.txt"
check "rule for the amplification's victim: dst 10.50.5.210/32, UDP from port 53" \
	grep -Eq '^flow4 \{ dst 10\.50\.5\.210/32;.*proto 17;.*sport 53;' "$W/rules.txt"
# its destinations are random hosts of one /24, which gets all of it: proven heavy, so named
check "rule for the outgoing SYN flood: src 10.50.5.220/32 to the proven heavy 203.0.113.0/24, TCP SYN to port 80" \
	grep -Eq '^flow4 \{ dst 203\.0\.113\.0/24; src 10\.50\.5\.220/32;.*proto 6;.*dport 80;' "$W/rules.txt"
check "exactly three rules" test "$(wc -l <"$W/rules.txt")" -eq 3

wait_for 30 sh -c "\"$RAMPARTCTL\" -s $SOCK stats | grep -q finished" || bad "the replay did not finish"
"$RAMPARTCTL" -s "$SOCK" attacks >"$W/attacks.txt" || bad "rampartctl attacks"
cat "$W/attacks.txt"
id_of() { awk -v t="$1" -v d="$2" '$2 == t && $3 == d { print $1 }' "$W/attacks.txt"; }
P=$(id_of 10.50.5.0/24 incoming) AMP=$(id_of 10.50.5.210/32 incoming) SYN=$(id_of 10.50.5.220/32 outgoing)
check "three attacks: the /24, the amplification, the outgoing flood (ids '$P' '$AMP' '$SYN')" \
	test -n "$P" -a -n "$AMP" -a -n "$SYN" -a "$(awk '/^[0-9]+ attacks$/ { print $1 }' "$W/attacks.txt")" = 3
"$RAMPARTCTL" -s "$SOCK" attack "${AMP:-0}" >"$W/amp.txt" 2>&1
"$RAMPARTCTL" -s "$SOCK" attack "${SYN:-0}" >"$W/syn.txt" 2>&1
"$RAMPARTCTL" -s "$SOCK" attack "${P:-0}" >"$W/pfx.txt" 2>&1
check "the amplification is classified dns_amplification" grep -qx 'kind: dns_amplification' "$W/amp.txt"
check "the outgoing flood is classified syn_flood" grep -qx 'kind: syn_flood' "$W/syn.txt"
check "rampartctl attack: both inside the /24's attack" sh -c \
	"grep -qx 'inside attack $P (a covering prefix)' '$W/amp.txt' && grep -qx 'inside attack $P (a covering prefix)' '$W/syn.txt'"
check "rampartctl attack: the /24 inside nothing" sh -c "! grep -q '^inside attack' '$W/pfx.txt'"
check "log: the inner attacks are opened inside the /24's" sh -c \
	"grep -Eq 'attack $AMP: attack_detected 10\.50\.5\.210/32 incoming \(inside attack $P\)' '$W/rampartd.log' &&
	 grep -Eq 'attack $SYN: attack_detected 10\.50\.5\.220/32 outgoing \(inside attack $P\)' '$W/rampartd.log'"

# ClickHouse: attack_detected and ban rows for each, and a narrow row for each inner attack (its
# rule narrowed to the fingerprint), the inner ones pointing to the /24's attack
q="SELECT attack_id, event, parent_attack_id FROM rampart_nested.attack_events ORDER BY attack_id, event FORMAT TSV"
check "attack_events: eight rows stored" wait_for 20 sh -c \
	"[ \"\$(ip netns exec $NS_RD curl -sS 'http://127.0.0.1:$CH_HTTP/' --data-binary 'SELECT count() FROM rampart_nested.attack_events')\" -ge 8 ]"
chq "$q" >"$W/events.tsv"
cat "$W/events.tsv"
check "attack_events: the inner attacks' rows have parent_attack_id $P, the /24's 0" awk -v p="$P" -v a="$AMP" -v s="$SYN" '
	{ n++ }
	($1 == a || $1 == s) && $3 == p { inner++; if ($2 == "narrow") narrow++ }
	$1 == p && $3 == 0 { outer++ }
	END { exit !(n == 8 && inner == 6 && narrow == 2 && outer == 2) }' "$W/events.tsv"
check "attack_events schema 5 recorded" test "$(chq 'SELECT max(version) FROM rampart_nested.schema_migrations')" -ge 5

kill -TERM $RD_PID
for _ in $(seq 1 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
grep -q "ERROR: AddressSanitizer\|runtime error:" "$W/rampartd.log" && bad "sanitizer report in the daemon's log"
if ! lib_summary; then
	echo "--- rampartd log"; grep -v ' debug: ' "$W/rampartd.log" | tail -40
	exit 1
fi
