#!/usr/bin/env bash
# FlowSpec (RFC 8955 / 8956) from our speaker to a real BIRD 2, validation off and on.
#
#   bg_fd (bench_bgp_announce, AS65001)   ==veth==   bg_fr (BIRD 2, AS65002, passive)
#   10.78.0.1 -> "r" (flow4+flow6 only, validate off, tables fl4/fl6)
#   10.78.0.4 -> "v" (ipv4+ipv6 unicast + flow4+flow6, validate on, tables vf4/vf6)
#
# Asserts: both sessions negotiate the FlowSpec families; IPv4 and IPv6 rules with every
# component type (1-12, and 13 flow label for IPv6) and every action we encode (traffic-rate
# bytes incl. discard, traffic-rate packets, traffic-action, redirect in its three forms, DSCP
# marking; redirect to an IPv6 next hop and rt-redirect-ipv6 in attribute 25, which BIRD keeps as an
# unknown transitive attribute, byte for byte) arrive with exactly the match and the communities sent; with validate on a
# rule is not accepted until the unicast route for its destination arrives from the same peer,
# then it is; withdrawal removes a rule; after BIRD restarts every rule is replayed, with
# End-of-RIB; the sessions never drop (one Established each, no NOTIFICATION).
# Usage: interop/bird_flowspec.sh [BUILD_DIR]   (root; exit 0 = all passed)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
. interop/lib.sh

command -v bird >/dev/null || { echo "needs bird2"; exit 2; }
lib_driver
SECONDS=0

netns_pair bg_fd bg_fr "10.78.0.1/24,10.78.0.4/24,2001:db8:78::1/64" \
	"10.78.0.2/24,10.78.0.3/24,2001:db8:78::2/64" || { echo "FAIL: namespaces"; exit 1; }

B=$LIB_TMP/bird
mkdir -p "$B"
cat >"$B/bird.conf" <<CONF
log "$B/bird.log" all;
router id 10.78.0.2;
protocol device { scan time 1; }
ipv4 table master4 { trie on; };
ipv6 table master6 { trie on; };
flow4 table fl4;
flow6 table fl6;
flow4 table vf4;
flow6 table vf6;
template bgp rampart {
	local as 65002;
	passive on;
	hold time 9;
	connect retry time 1;
	error wait time 1, 2;
	debug { states, packets };
}
protocol bgp r from rampart {
	local 10.78.0.2;
	neighbor 10.78.0.1 as 65001;
	flow4 { table fl4; import all; export none; };
	flow6 { table fl6; import all; export none; };
}
protocol bgp v from rampart {
	local 10.78.0.3;
	neighbor 10.78.0.4 as 65001;
	ipv4 { import all; export none; };
	ipv6 { import all; export none; };
	flow4 { table vf4; validate on; base table master4; import all; export none; };
	flow6 { table vf6; validate on; base table master6; import all; export none; };
}
CONF
bird_start bg_fr "$B" "$B/bird.conf" || { echo "FAIL: BIRD did not start"; cat "$B/bird.log"; exit 1; }

mkfifo "$LIB_TMP/cmd"
: >"$LIB_TMP/out"
ip netns exec bg_fd "$DRV" -a 65001 -i 10.78.0.1 -r 1 \
	-p 10.78.0.2,65002,hold=9,fam=ipv4-flowspec+ipv6-flowspec \
	-p 10.78.0.3,65002,hold=9,local=10.78.0.4,fam=ipv4-unicast+ipv6-unicast+ipv4-flowspec+ipv6-flowspec \
	<"$LIB_TMP/cmd" >"$LIB_TMP/out" 2>"$LIB_TMP/drv.log" &
DRV_PID=$!
lib_on_exit "kill $DRV_PID"
exec 3>"$LIB_TMP/cmd"
lib_on_exit "exec 3>&-"

cmd() { echo "$*" >&3; }
out_has() { grep -q -- "$1" "$LIB_TMP/out"; }
bc() { birdc_in bg_fr "$B" "$@"; }
established() { bc show protocols "$1" | grep -q Established; }
# in_table TABLE PATTERN...: "show route all table TABLE" shows every PATTERN (fixed strings)
in_table() {
	local t=$1 out
	shift
	out=$(bc show route all table "$t") || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
not_in_table() { ! bc show route table "$1" | grep -qF -- "$2"; }
count_in() { bc show route table "$1" count | awk '/routes/ {print $1; exit}'; }

wait_for 5 out_has ready || { echo "FAIL: driver did not start"; cat "$LIB_TMP/drv.log"; exit 1; }
check "session r (flow only) Established" wait_for 15 established r
check "session v (unicast + flow, validate on) Established" wait_for 15 established v
check "r negotiated flow4 + flow6" eval 'bc show protocols all r | grep -A3 "Channel flow4" | grep -q "State: *UP" &&
	bc show protocols all r | grep -A3 "Channel flow6" | grep -q "State: *UP"'

# every IPv4 component (1-12); actions: discard (traffic-rate 0)
F1="destination 203.0.113.7/32; source 198.51.100.0/24; protocol =6; port =80; destination-port >=1024&<=2048; source-port =53 =123; icmp-type =8; icmp-code =0; tcp-flags =syn&!ack; packet-length >=64&<=1500; dscp =46; fragment dont-fragment is-fragment"
cmd "flow $F1 then discard"
# traffic-rate 125000 B/s, traffic-action sample+terminal, DSCP marking 10, redirect AS2 65001:100
F2="destination 203.0.113.8/32; protocol =17; source-port =123"
cmd "flow $F2 then rate-limit 125000 action sample-terminal mark 10 redirect 65001:100"
# traffic-rate 1000 packets/s, redirect IPv4 form 192.0.2.1:7
F3="destination 203.0.113.9/32; protocol =17; destination-port =53"
cmd "flow $F3 then rate-limit-packets 1000 redirect 192.0.2.1:7"
# IPv6: every RFC 8956 component incl. prefix offset and flow label; redirect 4-octet AS form
F6="destination 2001:db8:1::7/128; source 2001:db8:99::/48; next-header =6; port =443; destination-port =443; source-port >=1024; icmp-type =128; icmp-code =0; tcp-flags syn; packet-length <=1280; dscp =0; fragment first-fragment; flow-label =12345"
cmd "flow $F6 then discard redirect 4200000001:9"
F7="destination 2001:db8:1::/64/8; next-header =17"
cmd "flow $F7 then rate-limit 0"
# the IPv6 actions, in attribute 25 (RFC 5701): redirect to an IPv6 next hop (0x000c) and
# rt-redirect-ipv6 (0x000d, RFC 8956 6.1), on an IPv4 and on an IPv6 rule
F8="destination 203.0.113.11/32; protocol =17"
cmd "flow $F8 then discard redirect-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100"
F9="destination 2001:db8:1::8/128; next-header =17"
cmd "flow $F9 then copy-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100"
wait_for 5 eval '[ "$(grep -c "^done flow" "$LIB_TMP/out")" -ge 7 ]'
check "driver accepted all 7 rules" eval '[ "$(grep -c "^done flow" "$LIB_TMP/out")" -eq 7 ]'

# BIRD prints our match back in its own syntax; the actions as generic extended communities
check "flow4 #1: every component, discard" wait_for 10 in_table fl4 \
	"flow4 { dst 203.0.113.7/32; src 198.51.100.0/24; proto 6; port 80; dport 1024..2048; sport 53,123; icmp type 8; icmp code 0; tcp flags 0x2/0x2 && 0x0/0x10; length 64..1500; dscp 46; fragment !!dont_fragment || !!is_fragment; }" \
	"(generic, 0x80060000, 0x0)"
check "flow4 #2: rate 125000 B/s, sample+terminal, mark 10, redirect 65001:100" wait_for 5 in_table fl4 \
	"flow4 { dst 203.0.113.8/32; proto 17; sport 123; }" \
	"(generic, 0x80060000, 0x47f42400)" "(generic, 0x80070000, 0x3)" \
	"(generic, 0x8008fde9, 0x64)" "(generic, 0x80090000, 0xa)"
check "flow4 #3: 1000 packets/s, redirect 192.0.2.1:7" wait_for 5 in_table fl4 \
	"flow4 { dst 203.0.113.9/32; proto 17; dport 53; }" \
	"(generic, 0x800c0000, 0x447a0000)" "(generic, 0x8108c000, 0x2010007)"
check "flow6: every component incl. flow label, discard, redirect 4200000001:9" wait_for 5 in_table fl6 \
	"flow6 { dst 2001:db8:1::7/128; src 2001:db8:99::/48; next header 6; port 443; dport 443; sport >= 1024; icmp type 128; icmp code 0; tcp flags !0x0/0x2; length <= 1280; dscp 0; fragment !!first_fragment; label 12345; }" \
	"(generic, 0x80060000, 0x0)" "(generic, 0x8208fa56, 0xea010009)"
# BIRD 2.0 has no decoder for attribute 25: it keeps it as an unknown optional transitive
# attribute and shows the 20-octet communities as sent, byte for byte
A25="00 0c 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 0X 00 0d 20 01 0d b8 00 ff 00 00 00 00 00 00 00 00 00 02 00 64"
check "flow4 + IPv6 actions: attribute 25 kept as sent (redirect to 2001:db8::1, rt [2001:db8:ff::2]:100)" \
	wait_for 5 in_table fl4 "flow4 { dst 203.0.113.11/32; proto 17; }" "(generic, 0x80060000, 0x0)" "BGP.19 [t]: ${A25/0X/00}"
check "flow6 + IPv6 actions: attribute 25 kept as sent (copy to 2001:db8::1, rt [2001:db8:ff::2]:100)" \
	wait_for 5 in_table fl6 "flow6 { dst 2001:db8:1::8/128; next header 17; }" "BGP.19 [t]: ${A25/0X/01}"
# the bits before the offset are not matched: sent (and shown) as zero
check "flow6: destination with offset" wait_for 5 in_table fl6 "flow6 { dst 1:db8:1::/64 offset 8; next header 17; }"

[ -n "${DUMP:-}" ] && { bc show route all table fl4; bc show route all table fl6; bc show route all table vf4; bc show route all table vf6; }
# validate on: no unicast route from that peer yet -> the rule is not valid
sleep 1
# BIRD keeps a rule that fails validation but marks it unreachable (never installed)
valid_in() { bc show route table "$1" | grep -F -- "$2" | grep -qv unreachable; }
check "validate on: rule without a unicast route is held invalid (unreachable)" \
	wait_for 5 eval 'bc show route table vf4 | grep -F "dst 203.0.113.8/32" | grep -q unreachable'
check "validate on: IPv6 rule held invalid too" \
	eval 'bc show route table vf6 | grep -F "dst 2001:db8:1::7/128" | grep -q unreachable'
check "validate off: the same rule is valid" valid_in fl4 "dst 203.0.113.8/32"
cmd "route 203.0.113.0/24 10.78.0.254 65001:666:0"
cmd "route 2001:db8:1::/48 2001:db8:78::254"
check "unicast route at BIRD (with large community)" wait_for 5 in_table master4 "203.0.113.0/24" "(65001, 666, 0)"
check "validate on: rule valid once its destination's route is ours" wait_for 10 valid_in vf4 \
	"flow4 { dst 203.0.113.8/32; proto 17; sport 123; }"
check "validate on: its actions intact" in_table vf4 "(generic, 0x80060000, 0x47f42400)" "(generic, 0x8008fde9, 0x64)"
check "validate on: every-component rule valid" valid_in vf4 "dst 203.0.113.7/32; src 198.51.100.0/24"
check "validate on: IPv6 rule valid" wait_for 10 valid_in vf6 "flow6 { dst 2001:db8:1::7/128;"

cmd "unflow $F3"
check "withdrawn rule gone (validate off)" wait_for 5 not_in_table fl4 "dst 203.0.113.9/32"
check "withdrawn rule gone (validate on)" wait_for 5 not_in_table vf4 "dst 203.0.113.9/32"
check "other rules still there" in_table fl4 "dst 203.0.113.7/32" "dst 203.0.113.8/32"

# BIRD restarts: everything is replayed on the new sessions, End-of-RIB after it
bird_kill "$B"
ip netns exec bg_fr bird -c "$B/bird.conf" -s "$B/bird.ctl" -P "$B/bird.pid" || echo "FAIL: BIRD restart"
wait_for 5 bc show status
check "sessions back after BIRD restart" wait_for 20 established r
check "v back" wait_for 20 established v
check "flow4 replayed (3 rules)" wait_for 5 eval '[ "$(count_in fl4)" = 3 ]'
check "flow6 replayed (3 rules)" wait_for 5 eval '[ "$(count_in fl6)" = 3 ]'
check "attribute 25 replayed with them" in_table fl6 "BGP.19 [t]: ${A25/0X/01}"
check "validate-on rules replayed" wait_for 5 in_table vf4 "dst 203.0.113.8/32"
# BIRD does not name the channel; r has only flow4 + flow6, so its 2 per session are those
eors() { grep -c "$1: Got END-OF-RIB" "$B/bird.log"; }
check "End-of-RIB for flow4 + flow6 on each of r's 2 sessions ($(eors r))" test "$(eors r)" -eq 4
check "End-of-RIB for all 4 families on each of v's 2 sessions ($(eors v))" test "$(eors v)" -eq 8

cmd status
wait_for 3 out_has '^rib_out'
check "no session ever dropped on our side (no NOTIFICATION)" eval '! grep -q "NOTIFICATION" "$LIB_TMP/drv.log"'
check "BIRD logged no error for our updates" eval '! grep -qi "error\|malformed\|invalid" "$B/bird.log"'

cmd quit
gone() { ! kill -0 "$DRV_PID" 2>/dev/null; }
if wait_for 10 gone; then
	wait "$DRV_PID"
	check "driver exits cleanly" test $? -eq 0
else
	check "driver exits on quit" false
fi
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	echo "--- driver out"; tail -20 "$LIB_TMP/out"
	echo "--- driver log"; tail -30 "$LIB_TMP/drv.log"
	echo "--- BIRD log"; grep -v "KEEPALIVE" "$B/bird.log" | tail -40
	echo "--- BIRD tables"; bc show route all table fl4; bc show route all table fl6; bc show route all table vf4
fi
lib_summary
