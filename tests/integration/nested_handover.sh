#!/bin/bash
# Blackholes held per attack (issue 13): a generated capture (tests/tools/mkattacks.py handover),
# replayed at recorded speed by rampartd in namespace hd_rd, peering with a real BIRD 2 in hd_rt
# and storing into a real ClickHouse 18.16. The customer 10.60.0.0/16 is summed per /24 (total
# 3000 pps) and mitigated by blackhole; hosts have the top-level 500 pps each way; ban_time 2 s.
#   10.60.9.9 is flooded (t = 1..4 s) and sends a SYN flood (t = 1..10 s): two attacks, incoming
#     and outgoing, two ban events, one /32 at BIRD held by both; when the incoming attack ends
#     the route stays for the outgoing one, and goes when that ends.
#   10.60.5.0/24 is bombed (t = 1..4 s) and 10.60.5.210 inside it gets a DNS amplification
#     (t = 2..12 s): the /24 is blackholed, the /32 is covered (not at BIRD; "covered by N" in
#     rampartctl bans, the API and the ban row's action in attack_events); when the /24's ban
#     ends first, the /32 is in BIRD's table before the /24 is withdrawn (BIRD's route log).
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=hd_rd NS_RT=hd_rt
CH_HTTP=24761 CH_TCP=24762 API=24763
W=$LIB_TMP
/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$W/handover.pcap" handover >/dev/null ||
	die "the capture generator failed"
netns_pair $NS_RD $NS_RT "10.74.0.1/24" "10.74.0.2/24" || die "cannot create the namespaces"

chq() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_query $CH_HTTP \"\$1\"" _ "$1"; }
ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_start '$W/ch' $CH_HTTP $CH_TCP" ||
	die "clickhouse-server did not start"
lib_on_exit "ip netns exec $NS_RD bash -c \". '$REPO/tests/lib/clickhouse.sh'; ch_stop '$W/ch'\""

mkdir -p "$W/bird"
# debug routes: BIRD logs every route it takes in or drops, in order, which is what the
# hand-over's order is checked on
cat >"$W/bird/bird.conf" <<CONF
router id 10.74.0.2;
log "$W/bird/bird.log" all;
protocol device { }
protocol bgp rampart4 {
	local 10.74.0.2 as 65002;
	neighbor 10.74.0.1 as 65001;
	hold time 30;
	debug { routes };
	ipv4 { import all; export none; };
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
    prefixes: [10.60.0.0/16]
    total: { incoming: { pps: 3000 } }
    total_scope: prefix
    total_prefix_length: { ipv4: 24 }
    mitigation: { action: blackhole }
detection:
  ban_time: 2
capture:
  pcap:
    interfaces: []
bgp:
  local_as: 65001
  router_id: 10.74.0.1
  connect_retry: 1
  peers:
    - address: 10.74.0.2
      remote_as: 65002
      families: [ipv4-unicast]
      local_address: 10.74.0.1
      hold_time: 30
storage:
  clickhouse:
    url: "http://127.0.0.1:$CH_HTTP"
    database: rampart_handover
  dir: $W/spool
  batch_ms: 200
api:
  socket: $SOCK
  http: "127.0.0.1:$API"
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --check-config || die "the test configuration does not validate"

ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" --pcap "$W/handover.pcap" --pcap-speed recorded \
	>"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID 2>/dev/null"

bad() { LIB_FAIL=$((LIB_FAIL + 1)); echo "FAIL $*"; }
routes() { birdc_in $NS_RT "$W/bird" show route | grep -oE '^10\.[0-9.]+/[0-9]+'; }
at_bird() { routes | grep -qx "$1"; }
bans() { "$RAMPARTCTL" -s "$SOCK" bans; }
banned() { bans | awk -v t="$1" -v d="$2" '$2 == t && $3 == d { f = 1 } END { exit !f }'; }
id_of() { bans | awk -v t="$1" -v d="$2" '$2 == t && $3 == d { print $1 }'; }

check "BIRD session established" wait_for 20 sh -c \
	"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null"

# ---- one host, two directions ----
both() { banned 10.60.9.9/32 incoming && banned 10.60.9.9/32 outgoing; }
check "10.60.9.9: an incoming and an outgoing attack, both banned" wait_for 15 both
IN=$(id_of 10.60.9.9/32 incoming) OUT=$(id_of 10.60.9.9/32 outgoing)
check "two attack ids ('$IN' '$OUT')" test -n "$IN" -a -n "$OUT" -a "$IN" != "$OUT"
check "10.60.9.9/32 at BIRD" wait_for 5 at_bird 10.60.9.9/32
bans | tee "$W/bans1.txt"
check "rampartctl bans: both directions' mitigation is the blackhole" sh -c \
	"awk '\$2 == \"10.60.9.9/32\" && \$NF == \"blackhole\" { n++ } END { exit n != 2 }' '$W/bans1.txt'"

# ---- covered inside the /24 ----
covered() { banned 10.60.5.0/24 incoming && banned 10.60.5.210/32 incoming; }
check "10.60.5.0/24 and 10.60.5.210 inside it banned" wait_for 15 covered
P=$(id_of 10.60.5.0/24 incoming) AMP=$(id_of 10.60.5.210/32 incoming)
bans >"$W/bans2.txt"
cat "$W/bans2.txt"
check "rampartctl bans: 10.60.5.210 covered by the /24's attack $P" grep -Eq "^$AMP +10\.60\.5\.210/32 .* covered by $P\$" "$W/bans2.txt"
routes >"$W/routes2.txt"
check "BIRD has the /24" grep -qx 10.60.5.0/24 "$W/routes2.txt"
check "BIRD has no 10.60.5.210/32 while it is covered" sh -c "! grep -qx 10.60.5.210/32 '$W/routes2.txt'"
ip netns exec $NS_RD curl -sS "http://127.0.0.1:$API/api/v1/bans" >"$W/bans.json"
check "API: the inner ban's mitigation is covered, by $P" grep -q \
	"\"attack_id\":$AMP,\"target\":\"10.60.5.210/32\".*\"parent_attack_id\":$P,\"mitigation\":\"covered\",\"covered_by\":$P" "$W/bans.json"
"$RAMPARTCTL" -s "$SOCK" attack "${AMP:-0}" >"$W/amp.txt" 2>&1
check "rampartctl attack: mitigation covered" grep -q "^mitigation: covered by $P" "$W/amp.txt"

# ---- the incoming attack on 10.60.9.9 ends; the outgoing one keeps the route ----
check "10.60.9.9's incoming attack ends" wait_for 20 grep -q "attack $IN: unban 10.60.9.9/32 incoming" "$W/rampartd.log"
check "its outgoing attack still banned" banned 10.60.9.9/32 outgoing
check "10.60.9.9/32 still at BIRD for the outgoing attack" at_bird 10.60.9.9/32
sleep 0.5 # past the two ticks a released route may wait
check "... and half a second later" at_bird 10.60.9.9/32

# ---- the /24 ends while 10.60.5.210's attack goes on: hand-over ----
check "the /24's ban ends" wait_for 20 grep -q "attack $P: unban 10.60.5.0/24 incoming" "$W/rampartd.log"
check "log: 10.60.5.210's own blackhole announced as the covering attack ends" grep -q \
	"attack $AMP: covering attack $P ends while it goes on: blackhole 10.60.5.210/32 announced" "$W/rampartd.log"
gone24() { ! at_bird 10.60.5.0/24; }
check "the /24 withdrawn at BIRD" wait_for 5 gone24
check "10.60.5.210/32 at BIRD" at_bird 10.60.5.210/32
check "10.60.5.210 still banned, now with its own blackhole" sh -c \
	"\"$RAMPARTCTL\" -s '$SOCK' bans | grep -Eq '^$AMP +10\.60\.5\.210/32 .* blackhole\$'"
# BIRD's route log: the /32 was added before the /24 was removed
grep -nE 'rampart4.*(added|removed).*10\.60\.5\.(210/32|0/24)' "$W/bird/bird.log" >"$W/order.txt"
cat "$W/order.txt"
added=$(grep -m1 'added.*10\.60\.5\.210/32' "$W/order.txt" | cut -d: -f1)
removed=$(grep -m1 'removed.*10\.60\.5\.0/24' "$W/order.txt" | cut -d: -f1)
check "BIRD: 10.60.5.210/32 in its table (line ${added:-none}) before 10.60.5.0/24 left it (line ${removed:-none})" \
	test -n "$added" -a -n "$removed" -a "${added:-0}" -lt "${removed:-0}"

# ---- the rest ends ----
check "10.60.9.9's outgoing attack ends" wait_for 20 grep -q "attack $OUT: unban 10.60.9.9/32 outgoing" "$W/rampartd.log"
gone99() { ! at_bird 10.60.9.9/32; }
check "10.60.9.9/32 withdrawn at BIRD with the last attack holding it" wait_for 5 gone99
check "10.60.5.210's attack ends" wait_for 20 grep -q "attack $AMP: unban 10.60.5.210/32 incoming" "$W/rampartd.log"
empty() { [ -z "$(routes)" ]; }
check "BIRD holds nothing at the end" wait_for 5 empty

# ---- attack_events ----
q="SELECT attack_id, event, direction, action, parent_attack_id FROM rampart_handover.attack_events WHERE event IN ('ban', 'unban') ORDER BY attack_id, event FORMAT TSV"
check "attack_events: ban and unban rows stored" wait_for 20 sh -c \
	"[ \"\$(ip netns exec $NS_RD curl -sS 'http://127.0.0.1:$CH_HTTP/' --data-binary \"SELECT count() FROM rampart_handover.attack_events WHERE event IN ('ban', 'unban')\")\" -ge 8 ]"
chq "$q" >"$W/events.tsv"
cat "$W/events.tsv"
check "attack_events: 10.60.9.9's two attacks banned as blackholes, one incoming, one outgoing" awk -v i="$IN" -v o="$OUT" '
	$2 == "ban" && $1 == i && $3 == 0 && $4 == "blackhole" { a++ }
	$2 == "ban" && $1 == o && $3 == 1 && $4 == "blackhole" { b++ }
	END { exit !(a == 1 && b == 1) }' "$W/events.tsv"
check "attack_events: 10.60.5.210's ban row says covered, inside $P" awk -v a="$AMP" -v p="$P" '
	$1 == a && $2 == "ban" && $4 == "covered" && $5 == p { f = 1 } END { exit !f }' "$W/events.tsv"

kill -TERM $RD_PID
for _ in $(seq 1 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
grep -q "ERROR: AddressSanitizer\|runtime error:" "$W/rampartd.log" && bad "sanitizer report in the daemon's log"
if ! lib_summary; then
	echo "--- rampartd log"; grep -v ' debug: ' "$W/rampartd.log" | tail -60
	exit 1
fi
