#!/bin/bash
# The ban state file across restarts, against a real BIRD 2 (graceful restart helper, the default):
# rampartd (namespace pe_rd, capturing on its veth) peers with BIRD (pe_rt, ipv4 + flow4). A
# detection ban (tcpreplay of the shared capture, 4x), a detection ban mitigated by FlowSpec (the ICMP
# flood's victim is in a hostgroup with mitigation flowspec), a manual `rampartctl ban`, a short manual
# ban, a pipe route (and one for one of BIRD's two sessions only), a socket flow route and a
# `rampartctl flowspec add` rule are at BIRD. Round 1:
# rampartd is killed with SIGKILL; BIRD keeps everything stale; rampartd restarts with no attack
# traffic, and after its End-of-RIB BIRD still has every ban and route (re-announced, not
# flushed) except the short ban, which ended while rampartd was down; rampartd lists the bans
# with the same attack ids and the ban time left, not reset; the FlowSpec ban's exact flow4 rule
# stays at BIRD (and no blackhole beside it). BIRD shows the Restart State bit of our OPEN
# ("Restart recovery" in the neighbor's capabilities) after the restart, not after the first start;
# `rampartctl stats` shows what the start restored. Round 2: SIGTERM (a clean stop: BIRD flushes
# at once on our CEASE), start again: all back, same ids. About 40 s.
set -u
cd "$(dirname "$0")/../.."
export RAMPART_DATA=${RAMPART_DATA:-/work/shared/data}
. tests/lib/rampart.sh
. interop/lib.sh
need_data
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed"
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make deps"

W=$LIB_TMP
netns_pair pe_rd pe_rt "10.245.0.1/24,10.245.0.4/24" "10.245.0.2/24,10.245.0.3/24" || die "cannot create the namespaces"

mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
log "$W/bird/bird.log" all;
router id 10.245.0.2;
protocol device { scan time 1; }
flow4 table fl4;
protocol bgp r4 {
	local 10.245.0.2 as 65002; neighbor 10.245.0.1 as 65001; passive on;
	hold time 9; connect retry time 1; error wait time 1, 2;
	ipv4 { import all; export none; };
	flow4 { table fl4; import all; export none; };
	debug { states, events };
}
protocol bgp r4b {
	local 10.245.0.3 as 65003; neighbor 10.245.0.4 as 65001; passive on;
	hold time 9; connect retry time 1; error wait time 1, 2;
	ipv4 { import all; export none; };
	debug { states, events };
}
CONF
bird_start pe_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
PIPE=$W/exabgp.cmd
STATE=$W/data/bans.state
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds: { incoming: { pps: 500 } }
hostgroups:
  - { name: fsgroup, prefixes: [192.0.2.30/32], thresholds: { incoming: { pps: 500 } }, mitigation: { action: flowspec } }
detection: { ban_time: 3600 }
capture: { pcap: { interfaces: [veth0] } }
bgp:
  local_as: 65001
  router_id: 10.245.0.1
  connect_retry: 1
  end_of_rib_delay: 3
  peers:
    - { address: 10.245.0.2, remote_as: 65002, families: [ipv4-unicast, ipv4-flowspec], hold_time: 9 }
    - { address: 10.245.0.3, remote_as: 65003, families: [ipv4-unicast], hold_time: 9, local_address: 10.245.0.4 }
storage: { dir: $W/data }
api: { socket: $SOCK, http: "", exabgp_pipe: $PIPE }
CONF

RD_PID=
start_rd() {
	ip netns exec pe_rd "$RAMPARTD" -c "$W/rampart.yaml" >>"$W/rampartd.log" 2>&1 &
	RD_PID=$!
}
lib_on_exit 'kill -9 $RD_PID'

ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
bc() { birdc_in pe_rt "$W/bird" "$@"; }
established() { bc show protocols r4 | grep -q Established && bc show protocols r4b | grep -q Established; }
at() { bc show route "$2" protocol "$1" | grep -q "$2"; } # at PROTOCOL PREFIX
has() { bc show route all "$1" | grep -qF -- "$2"; }
gone() { ! bc show route "$1" | grep -q "$1"; }
rules() { bc show route table fl4; }
has_rule() { rules | grep -qF -- "$1"; }
# "ID LEFT" of the active ban of $1
ban_of() { ctl bans | awk -v t="$1" '$2 == t { sub("s", "", $4); print $1, $4 }'; }
# the Restart State bit of our last OPEN, as BIRD shows the neighbor's capabilities
restart_bit() { bc show protocols all r4 | sed -n '/Neighbor capabilities/,/Session:/p' | grep -q 'Restart recovery'; }
gr_done() { [ "$(grep -c "$1: Neighbor graceful restart done" "$W/bird/bird.log")" -ge 1 ]; }

V=192.0.2.10/32 M=192.0.2.50/32 S=192.0.2.51/32 R=198.51.100.7/32 R1=198.51.100.8/32
F=192.0.2.30/32 FRULE="flow4 { dst 192.0.2.30/32; proto 1; }"
OPRULE="flow4 { dst 192.0.2.60/32; proto 17; dport 53; }"
APIRULE="flow4 { dst 192.0.2.61/32; proto 6; }"

start_rd
check "session Established" wait_for 15 established
bc show protocols all r4 >"$W/r4.first"
check "first start: no Restart State bit in our OPEN (BIRD: no 'Restart recovery')" eval "! restart_bit"
# a short attack: the capture at 4x its speed (~2.5 s); its victims are detected and banned
ip netns exec pe_rt tcpreplay -q -i veth0 --multiplier 4 "$DATA/mirror-attack-mix.pcap" >"$W/tcpreplay.log" 2>&1 ||
	{ cat "$W/tcpreplay.log"; die "tcpreplay failed"; }
check "detection ban of $V at BIRD (blackhole)" wait_for 10 has $V "(65535,666)"
check "detection ban of $F at BIRD as its FlowSpec rule, no blackhole" wait_for 10 eval "has_rule '$FRULE' && gone $F"
ctl ban 192.0.2.50 --for 300 >/dev/null
ctl ban 192.0.2.51 --for 8 >/dev/null
SHORT_END=$((SECONDS + 8))
echo "announce route $R next-hop 10.245.0.66 community 65001:7" >"$PIPE"
echo "neighbor 10.245.0.2 announce route $R1 next-hop 10.245.0.66 as-path [65077] community 65001:8" >"$PIPE"
ctl flowspec add "destination 192.0.2.60/32; protocol udp; destination-port =53 then discard" >/dev/null
ctl "announce flow route destination 192.0.2.61/32; protocol tcp then discard" >/dev/null
check "manual bans at BIRD" wait_for 5 eval "has $M '(65535,666)' && has $S '(65535,666)'"
check "pipe route at BIRD with its community and next hop" \
	wait_for 5 eval "has $R '(65001,7)' && has $R 'BGP.next_hop: 10.245.0.66'"
check "pipe route for one peer: at r4 only, with its AS path" \
	wait_for 5 eval "at r4 $R1 && has $R1 'BGP.as_path: 65001 65077' && ! at r4b $R1"
check "operator and API flow rules at BIRD" wait_for 5 eval "has_rule '$OPRULE' && has_rule '$APIRULE'"
read -r V_ID V_LEFT <<<"$(ban_of $V)"
read -r M_ID M_LEFT <<<"$(ban_of $M)"
read -r F_ID F_LEFT <<<"$(ban_of $F)"
T_KILL=$SECONDS
check "the state file has them all" wait_for 3 eval \
	"grep -q ' $V in default detected ' $STATE && grep -q ' $M in default manual ' $STATE && \
	 grep -q ' $S ' $STATE && grep -q '^route pipe announce route $R ' $STATE && \
	 grep -q '^ban $F_ID $F in fsgroup detected .* flowspec destination $F' $STATE && \
	 grep -q '^route pipe neighbor 10.245.0.2 announce route $R1 ' $STATE && \
	 grep -q '^rule destination 192.0.2.60/32' $STATE && grep -q '^flow socket announce flow route destination 192.0.2.61/32' $STATE"

check "stats before the kill: a first start, the file written, no failure" eval \
	"ctl stats | grep -qE '^ban state $STATE: writes [1-9][0-9]* failed 0 \(no space 0\) last [0-9.]+ ms \(serialise [0-9.]+ ms\) [1-9][0-9]* bytes; at start: first start, restored 0 '"

# ---- round 1: SIGKILL --------------------------------------------------------------------------
kill -9 "$RD_PID"
wait "$RD_PID" 2>/dev/null
check "kill -9: BIRD keeps the bans, route and rules (graceful restart)" \
	wait_for 5 eval "grep -q 'r4: Neighbor graceful restart detected' $W/bird/bird.log && has $V '(65535,666)' && has $R '(65001,7)' && has_rule '$OPRULE' && has_rule '$FRULE'"
# the short ban ends while rampartd is down
while [ $SECONDS -le $SHORT_END ]; do sleep 0.5; done
T_START=$SECONDS
start_rd
check "restarted: End-of-RIB reached BIRD on both sessions" wait_for 15 eval "gr_done r4 && gr_done r4b"
check "after End-of-RIB: the detection ban is still at BIRD" has $V "(65535,666)"
check "after End-of-RIB: the manual ban is still at BIRD" has $M "(65535,666)"
check "after End-of-RIB: the pipe route, with its attributes" eval "has $R '(65001,7)' && has $R 'BGP.next_hop: 10.245.0.66'"
check "after End-of-RIB: the one-peer route at r4 only" eval "at r4 $R1 && ! at r4b $R1"
check "after End-of-RIB: the flowspec rule and the API flow rule" eval "has_rule '$OPRULE' && has_rule '$APIRULE'"
check "after End-of-RIB: the FlowSpec ban's exact rule, once, no blackhole" eval \
	"has_rule '$FRULE' && [ \$(rules | grep -c 'dst $F;') -eq 1 ] && gone $F"
bc show protocols all r4 >"$W/r4.restart"
check "restart: our OPEN had the Restart State bit (BIRD: 'Restart recovery')" restart_bit
check "the ban that ended while down is gone from BIRD" gone $S
read -r V_ID2 V_LEFT2 <<<"$(ban_of $V)"
read -r M_ID2 M_LEFT2 <<<"$(ban_of $M)"
check "rampartd lists the detection ban with its attack id ($V_ID)" test "${V_ID2:-x}" = "$V_ID"
check "rampartd lists the manual ban with its attack id ($M_ID)" test "${M_ID2:-x}" = "$M_ID"
check "rampartd lists the FlowSpec ban with its attack id ($F_ID)" test "$(ban_of $F | cut -d' ' -f1)" = "${F_ID:-x}"
ELAPSED=$((SECONDS - T_KILL))
check "ban time left not reset: $M_LEFT s before, ${M_LEFT2:-?} s after $ELAPSED s" \
	test "${M_LEFT2:-9999}" -le $((M_LEFT - ELAPSED + 2)) -a "${M_LEFT2:-0}" -ge $((M_LEFT - ELAPSED - 3))
check "detection ban: ${V_LEFT2:-?} s left of $V_LEFT" test "${V_LEFT2:-9999}" -le $((V_LEFT - ELAPSED + 2))
check "the short ban is not listed" test -z "$(ban_of $S)"
check "the log says what was restored" grep -q "ban state: .*: [0-9]* bans restored, 1 ended while down, 0 dropped; 2 routes, 1 flow routes, 1 flowspec rules; 0 bad lines" "$W/rampartd.log"
ctl stats | grep '^ban state' >"$W/stats.restart"
check "stats: a restart, every record restored, 1 expired, none refused or skipped" \
	grep -qE '^ban state .*: writes [0-9]+ failed 0 .*; at start: restart, restored [0-9]+ \(bans [0-9]+\) expired 1 refused 0 skipped 0$' "$W/stats.restart"
BANS_BACK=$(grep -o '(bans [0-9]*)' "$W/stats.restart" | tr -dc 0-9)
check "stats: the restored bans are the log's (${BANS_BACK:-?})" grep -q "ban state: .*: ${BANS_BACK:-x} bans restored," "$W/rampartd.log"
check "stats: restored = those bans + 2 routes, 1 flow route, 1 rule" grep -q "restored $((${BANS_BACK:-0} + 4)) (bans" "$W/stats.restart"
check "routes lists the pipe route as the ExaBGP API's" eval "ctl routes | grep -q '^$R *api '"
ctl ban 192.0.2.52 >/dev/null
NEXT_ID=$(ban_of 192.0.2.52/32 | cut -d' ' -f1)
check "new attack ids continue after the restored ones ($NEXT_ID)" test "${NEXT_ID:-0}" -gt "$M_ID"

# ---- round 2: SIGTERM ----------------------------------------------------------------------------
kill -TERM "$RD_PID"
wait "$RD_PID"
check "SIGTERM: rampartd exits 0" test $? -eq 0
check "SIGTERM: BIRD flushed at once (CEASE)" wait_for 5 gone $V
start_rd
check "restarted after SIGTERM: sessions Established" wait_for 15 established
check "after SIGTERM and restart: bans, route and rules back at BIRD" wait_for 10 eval \
	"has $V '(65535,666)' && has $M '(65535,666)' && has 192.0.2.52/32 '(65535,666)' && has $R '(65001,7)' && has_rule '$OPRULE' && has_rule '$APIRULE' && has_rule '$FRULE' && at r4 $R1 && ! at r4b $R1"
check "same attack ids after SIGTERM" eval \
	"[ \"\$(ban_of $V | cut -d' ' -f1)\" = $V_ID ] && [ \"\$(ban_of $M | cut -d' ' -f1)\" = $M_ID ]"

if ! lib_summary; then
	tail -40 "$W/rampartd.log"; cat "$STATE"; exit 1
fi
