#!/usr/bin/env bash
# FlowSpec (RFC 8955 / 8956) from our speaker to a real GoBGP (gobgpd 3).
#
#   bg_gd (bench_bgp_announce, AS65001, 10.80.0.1)  ==veth==  bg_gr (gobgpd, AS65002, 10.80.0.2, passive)
#
# Asserts: the session negotiates ipv4-flowspec + ipv6-flowspec; IPv4 and IPv6 rules with every
# component (IPv6 prefix offsets aside, see below) and every action we encode are in "gobgp global rib -a ipv4-flowspec|ipv6-flowspec"
# as sent, the IPv6 ones (redirect to an IPv6 next hop, rt-redirect-ipv6) in attribute 25; a
# withdrawn rule goes; the session never drops.
# Usage: interop/gobgp_flowspec.sh [BUILD_DIR]   (root; exit 0 = all passed, 2 = cannot run)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
. interop/lib.sh

command -v gobgpd >/dev/null || { echo "needs gobgpd (apt-get install gobgpd)"; exit 2; }
lib_driver
SECONDS=0

netns_pair bg_gd bg_gr "10.80.0.1/24" "10.80.0.2/24" || { echo "FAIL: namespaces"; exit 1; }

G=$LIB_TMP/gobgp
mkdir -p "$G"
cat >"$G/gobgpd.toml" <<CONF
[global.config]
  as = 65002
  router-id = "10.80.0.2"
  local-address-list = ["10.80.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.80.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    passive-mode = true
  [neighbors.timers.config]
    hold-time = 9
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
CONF
ip netns exec bg_gr gobgpd -f "$G/gobgpd.toml" --api-hosts 127.0.0.1:50051 >"$G/gobgpd.log" 2>&1 &
GPID=$!
lib_on_exit "kill $GPID"
gb() { ip netns exec bg_gr gobgp -u 127.0.0.1 -p 50051 "$@"; }
wait_for 10 gb global >/dev/null || { echo "FAIL: gobgpd did not start"; cat "$G/gobgpd.log"; exit 1; }

mkfifo "$LIB_TMP/cmd"
: >"$LIB_TMP/out"
ip netns exec bg_gd "$DRV" -a 65001 -i 10.80.0.1 -r 1 -p 10.80.0.2,65002,hold=9,fam=ipv4-flowspec+ipv6-flowspec \
	<"$LIB_TMP/cmd" >"$LIB_TMP/out" 2>"$LIB_TMP/drv.log" &
DRV_PID=$!
lib_on_exit "kill $DRV_PID"
exec 3>"$LIB_TMP/cmd"
lib_on_exit "exec 3>&-"
cmd() { echo "$*" >&3; }
established() { gb neighbor | grep -q "Establ"; }
# in_rib FAMILY PATTERN...: the family's RIB shows every PATTERN (fixed strings)
in_rib() {
	local f=$1 out
	shift
	out=$(gb global rib -a $f) || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
not_in_rib() { ! gb global rib -a "$1" | grep -qF -- "$2"; }

wait_for 5 grep -q ready "$LIB_TMP/out" || { echo "FAIL: driver did not start"; exit 1; }
check "session Established" wait_for 15 established
F1="destination 203.0.113.7/32; source 198.51.100.0/24; protocol =6; port =80; destination-port >=1024&<=2048; source-port =53 =123; icmp-type =8; icmp-code =0; tcp-flags =syn&!ack; packet-length >=64&<=1500; dscp =46; fragment dont-fragment is-fragment"
cmd "flow $F1 then discard"
F2="destination 203.0.113.8/32; protocol =17; source-port =123"
cmd "flow $F2 then rate-limit 125000 action sample-terminal mark 10 redirect 65001:100"
F3="destination 203.0.113.9/32; protocol =17; destination-port =53"
cmd "flow $F3 then rate-limit-packets 1000 redirect 192.0.2.1:7"
F6="destination 2001:db8:1::7/128; source 2001:db8:99::/48; next-header =6; port =443; destination-port =443; source-port >=1024; icmp-type =128; icmp-code =0; tcp-flags syn; packet-length <=1280; dscp =0; fragment first-fragment; flow-label =12345"
cmd "flow $F6 then discard redirect 4200000001:9"
# the IPv6 actions, in attribute 25 (RFC 5701): redirect to an IPv6 next hop (0x000c) and
# rt-redirect-ipv6 (0x000d, RFC 8956 6.1), on an IPv4 and on an IPv6 rule
F8="destination 203.0.113.11/32; protocol =17"
cmd "flow $F8 then discard redirect-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100"
F9="destination 2001:db8:1::8/128; next-header =17"
cmd "flow $F9 then copy-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100"
# Not sent here: an IPv6 prefix with an offset. GoBGP 3.10 reads length/8 octets of pattern for it
# where RFC 8956 3.1 has (length - offset) bits (we send 7 octets for /64 offset 8, BIRD reads
# them as sent, see bird_flowspec.sh), so it takes the next component's type as pattern, and then
# its own CLI crashes printing the rule.

check "flow4 #1: every component, discard" wait_for 10 in_rib ipv4-flowspec \
	"[destination: 203.0.113.7/32][source: 198.51.100.0/24][protocol: ==tcp][port: ==80][destination-port: >=1024&<=2048][source-port: ==53 ==123][icmp-type: ==8][icmp-code: ==0][tcp-flags: =S&!A][packet-length: >=64&<=1500][dscp: ==46][fragment: dont-fragment is-fragment] fictitious           65001" \
	"{Extcomms: [discard]}"
check "flow4 #2: rate 125000, sample+terminal, redirect 65001:100, mark 10" in_rib ipv4-flowspec \
	"[destination: 203.0.113.8/32][protocol: ==udp][source-port: ==123]" \
	"{Extcomms: [rate: 125000.000000], [action: terminal-sample], [redirect: 65001:100], [remark: 10]}"
# GoBGP has no name for traffic-rate-packets (0x800c, RFC 8955 7.1): it prints the community as
# a number, 0x000c0000447a0000 = subtype 0x0c, id 0, 1000.0f
check "flow4 #3: 1000 packets/s, redirect 192.0.2.1:7" in_rib ipv4-flowspec \
	"[destination: 203.0.113.9/32][protocol: ==udp][destination-port: ==53]" \
	"{Extcomms: [redirect: 192.0.2.1:7], [3377700869373952]}"
check "flow6: every component incl. flow label; discard, redirect 4200000001:9 (asdot)" wait_for 5 in_rib ipv6-flowspec \
	"[destination: 2001:db8:1::7/128/0][source: 2001:db8:99::/48/0][protocol: ==tcp][port: ==443][destination-port: ==443][source-port: >=1024][icmp-type: ==128][icmp-code: ==0][tcp-flags: S][packet-length: <=1280][dscp: ==0][fragment: first-fragment][label: ==12345]" \
	"{Extcomms: [discard], [redirect: 64086.59905:9]}"

# GoBGP decodes attribute 25 (RFC 5701) but has no FlowSpec names for its sub-types 0x0c and 0x0d:
# the CLI prints each community as ADDRESS:LOCAL, the JSON type 0 (transitive IPv6-address-
# specific), the sub-type and the same string; the local part is the copy flag for 0x0c
check "flow4 + attribute 25: redirect to 2001:db8::1 (0x000c), rt-redirect-ipv6 [2001:db8:ff::2]:100 (0x000d)" \
	wait_for 5 in_rib ipv4-flowspec "[destination: 203.0.113.11/32][protocol: ==udp]" \
	"{Extcomms: [discard]} {Extcomms: [2001:db8::1:0],[2001:db8:ff::2:100]}"
check "flow4 + attribute 25 in GoBGP's JSON: type 25, sub-types 12 and 13" in_rib "ipv4-flowspec -j" \
	'{"type":25,"value":[{"type":0,"subtype":12,"value":"2001:db8::1:0"},{"type":0,"subtype":13,"value":"2001:db8:ff::2:100"}]}'
check "flow6 + attribute 25: copy to 2001:db8::1 (copy flag 1), rt-redirect-ipv6 [2001:db8:ff::2]:100" \
	wait_for 5 in_rib ipv6-flowspec "[destination: 2001:db8:1::8/128/0][protocol: ==udp]" \
	"{Extcomms: [2001:db8::1:1],[2001:db8:ff::2:100]}"
[ -n "${DUMP:-}" ] && { gb global rib -a ipv4-flowspec; gb global rib -a ipv6-flowspec; gb global rib -a ipv4-flowspec -j; gb global rib -a ipv6-flowspec -j; }
cmd "unflow $F3"
check "withdrawn rule gone" wait_for 5 not_in_rib ipv4-flowspec "203.0.113.9/32"
check "the others stay" in_rib ipv4-flowspec "203.0.113.7/32" "203.0.113.8/32"
cmd status
wait_for 3 grep -q "^rib_out" "$LIB_TMP/out"
check "session never dropped (established once, no NOTIFICATION)" \
	eval 'grep -q "state Established .* established 1 " "$LIB_TMP/out" && ! grep -q NOTIFICATION "$LIB_TMP/drv.log"'
cmd quit
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	gb global rib -a ipv4-flowspec; gb global rib -a ipv6-flowspec
	tail -20 "$LIB_TMP/drv.log"; tail -20 "$G/gobgpd.log"
fi
lib_summary
