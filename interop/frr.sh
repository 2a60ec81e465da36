#!/usr/bin/env bash
# Our speaker against a real FRR 8 (bgpd + zebra as plain processes in a namespace).
#
#   b3_r: driver A (AS65001, eBGP) from 10.83.0.1 / 2001:db8:83::1       ==veth==  b3_f: FRR bgpd + zebra
#         driver B (AS65002, iBGP) from 10.83.0.3 / 2001:db8:83::3                 AS65002, 10.83.0.2,
#                                                                                  2001:db8:83::2, passive
# IPv4 transport carries ipv4-unicast + ipv4-flowspec, IPv6 transport ipv6-unicast + ipv6-flowspec.
# Asserts: all four sessions Established; blackhole /32 and /128 with BLACKHOLE + NO_EXPORT (eBGP,
# AS_PATH 65001) and a /32 with a large community + /128 blackhole (iBGP, LOCAL_PREF 100, empty
# AS_PATH) are in "show bgp ipv4|ipv6 unicast X json"; IPv4 and IPv6 FlowSpec rules with every
# component and every action we encode are in "show bgp ipv4|ipv6 flowspec detail", over eBGP and
# iBGP (the IPv6 ones, redirect to an IPv6 next hop and rt-redirect-ipv6, in attribute 25, which
# FRR keeps but does not name); withdrawn routes and rules go; no session ever drops.
# Usage: interop/frr.sh [BUILD_DIR]   (root; exit 0 = all passed, 2 = cannot run)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
FRR=/usr/lib/frr
. interop/lib.sh

[ -x $FRR/bgpd ] && [ -x $FRR/zebra ] && command -v vtysh >/dev/null ||
	{ echo "needs FRR (apt-get install frr)"; exit 2; }
lib_driver
SECONDS=0

netns_pair b3_r b3_f "10.83.0.1/24,10.83.0.3/24,2001:db8:83::1/64,2001:db8:83::3/64" \
	"10.83.0.2/24,2001:db8:83::2/64" || { echo "FAIL: namespaces"; exit 1; }

# bgpd resets an IPv6 session while the interface has no link-local address yet (it wants one
# for the MP next hop): wait for it, not DAD-tentative, on both sides
ll_ready() { ip -n "$1" -6 addr show dev veth0 scope link | grep -q inet6 &&
	! ip -n "$1" -6 addr show dev veth0 scope link | grep -q tentative; }
wait_for 10 ll_ready b3_f && wait_for 10 ll_ready b3_r || { echo "FAIL: no IPv6 link-local address"; exit 1; }

# FRR drops privileges to user frr; its config, vty sockets, pid files and logs live in one
# directory of ours, so the system's /etc/frr and /var/run/frr are never touched.
F=$LIB_TMP/frr
mkdir -p "$F"
{
	echo "hostname b3frr"
	echo "log file $F/bgpd.log"
	echo "router bgp 65002"
	echo " bgp router-id 10.83.0.2"
	echo " no bgp ebgp-requires-policy"
	echo " no bgp default ipv4-unicast"
	for n in 10.83.0.1 2001:db8:83::1; do echo " neighbor $n remote-as 65001"; done
	for n in 10.83.0.3 2001:db8:83::3; do echo " neighbor $n remote-as 65002"; done
	for n in 10.83.0.1 10.83.0.3 2001:db8:83::1 2001:db8:83::3; do
		echo " neighbor $n passive"
		echo " neighbor $n timers 3 9"
	done
	for af in "ipv4 unicast" "ipv4 flowspec"; do
		echo " address-family $af"
		echo "  neighbor 10.83.0.1 activate"
		echo "  neighbor 10.83.0.3 activate"
		echo " exit-address-family"
	done
	for af in "ipv6 unicast" "ipv6 flowspec"; do
		echo " address-family $af"
		echo "  neighbor 2001:db8:83::1 activate"
		echo "  neighbor 2001:db8:83::3 activate"
		echo " exit-address-family"
	done
} >"$F/bgpd.conf"
echo "hostname b3frr" >"$F/zebra.conf"
: >"$F/vtysh.conf"
chown -R frr:frr "$F"
chmod o+x "$LIB_TMP"   # frr must reach $F; still not listable
frr_stop() {
	local p
	for p in bgpd zebra; do [ -f "$F/$p.pid" ] && kill "$(cat "$F/$p.pid")"; done
	sleep 0.3
	for p in bgpd zebra; do [ -f "$F/$p.pid" ] && kill -9 "$(cat "$F/$p.pid")"; done
}
lib_on_exit frr_stop
FRR_ARGS=(-d -u frr -g frr -z "$F/zserv.api" --vty_socket "$F" -A 127.0.0.1 -P 0)
ip netns exec b3_f $FRR/zebra "${FRR_ARGS[@]}" -f "$F/zebra.conf" -i "$F/zebra.pid" --log "file:$F/zebra.log" 2>>"$F/zebra.err" ||
	{ echo "FAIL: zebra did not start"; exit 1; }
wait_for 5 test -S "$F/zserv.api"
ip netns exec b3_f $FRR/bgpd "${FRR_ARGS[@]}" -f "$F/bgpd.conf" -i "$F/bgpd.pid" ||
	{ echo "FAIL: bgpd did not start"; exit 1; }
vty() { ip netns exec b3_f vtysh --vty_socket "$F" -c "$*"; }
wait_for 10 vty show bgp summary || { echo "FAIL: bgpd does not answer"; exit 1; }

# driver NAME AS ROUTER_ID V4 V6 [ARGS...]: one speaker with an IPv4 and an IPv6 session to FRR
driver() {
	local name=$1 as=$2 id=$3 v4=$4 v6=$5
	shift 5
	mkfifo "$LIB_TMP/cmd$name"
	: >"$LIB_TMP/out$name"
	ip netns exec b3_r "$DRV" -a "$as" -i "$id" -r 1 "$@" \
		-p "10.83.0.2,65002,hold=9,local=$v4,fam=ipv4-unicast+ipv4-flowspec" \
		-p "2001:db8:83::2,65002,hold=9,local=$v6,fam=ipv6-unicast+ipv6-flowspec" \
		<"$LIB_TMP/cmd$name" >"$LIB_TMP/out$name" 2>"$LIB_TMP/drv$name.log" &
	lib_on_exit "kill $!"
}
driver A 65001 10.83.0.1 10.83.0.1 2001:db8:83::1
driver B 65002 10.83.0.3 10.83.0.3 2001:db8:83::3 -l 1179   # own listen port: same namespace
exec 3>"$LIB_TMP/cmdA" 4>"$LIB_TMP/cmdB"
lib_on_exit "exec 3>&- 4>&-"
ebgp() { echo "$*" >&3; }
ibgp() { echo "$*" >&4; }
wait_for 5 grep -q ready "$LIB_TMP/outA" && wait_for 5 grep -q ready "$LIB_TMP/outB" ||
	{ echo "FAIL: drivers did not start"; exit 1; }

established() {
	local out
	out=$(vty show bgp summary) || return 1
	for n in 10.83.0.1 10.83.0.3 2001:db8:83::1 2001:db8:83::3; do
		# an Established row ends in prefix counts, not in a state name
		grep -E "^$n " <<<"$out" | grep -qE ' [0-9]+ +[0-9]+ N/A$' || return 1
	done
}
check "4 sessions Established (eBGP + iBGP, IPv4 + IPv6 transport)" wait_for 20 established

# has TEXT PATTERN...: every PATTERN (fixed string) is in TEXT, said once per miss
has() {
	local text=$1 pat
	shift
	for pat; do grep -qF -- "$pat" <<<"$text" || { echo "  missing: $pat" >&2; return 1; }; done
}
# uni AF PREFIX PATTERN...: FRR's JSON for that prefix has every PATTERN
uni() {
	local af=$1 p=$2 out
	shift 2
	out=$(vty show bgp "$af" unicast "$p" json | tr -d ' \n') || return 1
	has "$out" "\"prefix\":\"$p\"" "$@"
}
uni_gone() { ! vty show bgp "$1" unicast "$2" json | grep -q '"paths"'; }

ebgp "announce 192.0.2.10/32"
ebgp "announce 2001:db8:5::10/128"
ibgp "route 192.0.2.20/32 10.83.0.3 65002:666:1"
ibgp "announce 2001:db8:5::20/128"
BH='"community":{"string":"blackholeno-export"'
check "eBGP v4: 192.0.2.10/32 BLACKHOLE NO_EXPORT, AS_PATH 65001, next hop 10.83.0.1" \
	wait_for 10 uni ipv4 192.0.2.10/32 "$BH" '"aspath":{"string":"65001"' '"ip":"10.83.0.1"' '"type":"external"'
check "eBGP v6: 2001:db8:5::10/128 BLACKHOLE NO_EXPORT, next hop 2001:db8:83::1" \
	wait_for 10 uni ipv6 2001:db8:5::10/128 "$BH" '"aspath":{"string":"65001"' '"ip":"2001:db8:83::1"' '"type":"external"'
check "iBGP v4: 192.0.2.20/32 large community 65002:666:1, LOCAL_PREF 100, empty AS_PATH" \
	wait_for 10 uni ipv4 192.0.2.20/32 '"largeCommunity":{"string":"65002:666:1"' '"locPrf":100' \
	'"aspath":{"string":"Local"' '"type":"internal"'
check "iBGP v6: 2001:db8:5::20/128 BLACKHOLE NO_EXPORT, LOCAL_PREF 100" \
	wait_for 10 uni ipv6 2001:db8:5::20/128 "$BH" '"locPrf":100' '"ip":"2001:db8:83::3"' '"type":"internal"'

F1="destination 203.0.113.7/32; source 198.51.100.0/24; protocol =6; port =80; destination-port >=1024&<=2048; source-port =53 =123; icmp-type =8; icmp-code =0; tcp-flags =syn&!ack; packet-length >=64&<=1500; dscp =46; fragment dont-fragment is-fragment"
F2="destination 203.0.113.8/32; protocol =17; source-port =123"
F3="destination 203.0.113.9/32; protocol =17; destination-port =53"
F6="destination 2001:db8:1::7/128; source 2001:db8:99::/48; next-header =6; port =443; destination-port =443; source-port >=1024; icmp-type =128; icmp-code =0; tcp-flags syn; packet-length <=1280; dscp =0; fragment first-fragment; flow-label =12345"
ebgp "flow $F1 then discard"
ebgp "flow $F2 then rate-limit 125000 action sample-terminal mark 10 redirect 65001:100"
ebgp "flow $F3 then rate-limit-packets 1000 redirect 192.0.2.1:7"
ebgp "flow $F6 then discard redirect 4200000001:9"
ibgp "flow destination 203.0.113.50/32; protocol =1 then discard"
# the IPv6 actions, in attribute 25 (RFC 5701): redirect to an IPv6 next hop (0x000c) and
# rt-redirect-ipv6 (0x000d, RFC 8956 6.1), on an IPv4 and on an IPv6 rule
F8="destination 203.0.113.11/32; protocol =17"
F9="destination 2001:db8:1::8/128; next-header =17"
ebgp "flow $F8 then discard redirect-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100"
ebgp "flow $F9 then copy-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100"
# Not sent: an IPv6 prefix with a non-zero offset. FRR 8.4 rejects it ("Bad flowspec format or
# NLRI options not supported") with NOTIFICATION 3/9 and the session flaps on every replay;
# BIRD reads it as sent (bird_flowspec.sh).

# fs AF DEST PATTERN...: the "flowspec detail" entry whose destination is DEST has every PATTERN
fs() {
	local af=$1 dst=$2 out
	shift 2
	out=$(vty show bgp "$af" flowspec detail | awk -v d="Destination Address $dst" '
		/^BGP flowspec entry/ { if (hit) print blk; blk = ""; hit = 0 }
		{ blk = blk $0 "\n"; if (index($0, d) == 2) hit = 1 }
		END { if (hit) print blk }') || return 1
	[ -n "$out" ] || { echo "  no entry for $dst" >&2; return 1; }
	has "$out" "$@"
}
fs_gone() { ! vty show bgp "$1" flowspec detail | grep -qF "Destination Address $2"; }
# FRR 8.4 prints operators its own way: "TCP Flags = 2,&∋ ! 16" is =syn&!ack, "Packet Fragment
# ∋ 1,|∋ 2" is dont-fragment or is-fragment, "∋ 4" first-fragment; it has no name for
# traffic-rate-packets (0x800c: "UNK:128, 12") and prints traffic-action sample+terminal as
# "FS:action eval stops".
check "flow4 #1 (eBGP): every component, discard" wait_for 10 fs ipv4 203.0.113.7/32 \
	$'\tSource Address 198.51.100.0/24' $'\tIP Protocol = 6' $'\tPort = 80' \
	$'\tDestination Port >= 1024 , <= 2048' $'\tSource Port = 53 , = 123' $'\tICMP Type = 8' \
	$'\tICMP Code = 0' $'\tTCP Flags = 2,&∋ ! 16' $'\tPacket Length >= 64 , <= 1500' \
	$'\tDSCP field = 46' $'\tPacket Fragment ∋ 1,|∋ 2' $'\tFS:rate 0.000000\n'
check "flow4 #2: rate 125000 B/s, sample+terminal, redirect 65001:100, mark 10" fs ipv4 203.0.113.8/32 \
	$'\tIP Protocol = 17' $'\tSource Port = 123' \
	"FS:rate 125000.000000 FS:action eval stops FS:redirect VRF RT:65001:100 FS:marking 10"
check "flow4 #3: 1000 packets/s, redirect 192.0.2.1:7 (IPv4 RT)" fs ipv4 203.0.113.9/32 \
	$'\tDestination Port = 53' "UNK:128, 12 FS:redirect VRF RT:192.0.2.1:7"
check "flow4 (iBGP): ICMP discard" wait_for 5 fs ipv4 203.0.113.50/32 $'\tIP Protocol = 1' "FS:rate 0.000000"
check "flow6: every component incl. flow label; discard, redirect 4200000001:9 (AS4 RT)" \
	wait_for 10 fs ipv6 2001:db8:1::7/128/off 0 \
	$'\tSource Address 2001:db8:99::/48/off 0' $'\tIP Protocol = 6' $'\tPort = 443' \
	$'\tDestination Port = 443' $'\tSource Port >= 1024' $'\tICMP Type = 128' $'\tICMP Code = 0' \
	$'\tTCP Flags ∋ 2' $'\tPacket Length <= 1280' $'\tDSCP field = 0' $'\tPacket Fragment ∋ 4' \
	$'\tPacket Flow Label = 12345' "FS:rate 0.000000 FS:redirect VRF RT:4200000001:9"

# FRR 8.4 takes attribute 25 (RFC 5701) as its IPv6 extended community list but names neither
# sub-type in it: 0x000c (redirect to IPv6) and 0x000d (rt-redirect-ipv6) print as "UNK:0, 12"
# and "UNK:0, 13", next to the 8-octet actions; the rule is kept, the session stays
check "flow4 + attribute 25: kept, 0x000c and 0x000d shown as UNK:0, 12 / UNK:0, 13" \
	wait_for 10 fs ipv4 203.0.113.11/32 $'\tIP Protocol = 17' "FS:rate 0.000000 UNK:0, 12 UNK:0, 13"
check "flow4 + attribute 25 in FRR's JSON: ecom6list" eval \
	'vty show bgp ipv4 flowspec 203.0.113.11/32 json | grep -qF "\"ecom6list\":\"UNK:0, 12 UNK:0, 13\""'
check "flow6 + attribute 25 only: kept, UNK:0, 12 / UNK:0, 13" \
	wait_for 10 fs ipv6 2001:db8:1::8/128/off 0 $'\tIP Protocol = 17' $'\tUNK:0, 12 UNK:0, 13\n'
ebgp "withdraw 192.0.2.10/32"
ibgp "withdraw 2001:db8:5::20/128"
ebgp "unflow $F3"
ebgp "unflow $F6"
check "withdrawn /32 (eBGP) gone" wait_for 5 uni_gone ipv4 192.0.2.10/32
check "withdrawn /128 (iBGP) gone" wait_for 5 uni_gone ipv6 2001:db8:5::20/128
check "withdrawn flow4 rule gone" wait_for 5 fs_gone ipv4 203.0.113.9/32
check "withdrawn flow6 rule gone" wait_for 5 fs_gone ipv6 2001:db8:1::7/128
check "the others stay" eval 'uni ipv6 2001:db8:5::10/128 && uni ipv4 192.0.2.20/32 &&
	fs ipv4 203.0.113.7/32 "Port = 80" && fs ipv4 203.0.113.8/32 "Port = 123"'

never_dropped() {
	local n out
	for n in 10.83.0.1 10.83.0.3 2001:db8:83::1 2001:db8:83::3; do
		out=$(vty show bgp neighbors "$n" json | tr -d ' \n')
		has "$out" '"connectionsEstablished":1,' '"connectionsDropped":0,' || return 1
	done
	! grep -q NOTIFICATION "$LIB_TMP/drvA.log" "$LIB_TMP/drvB.log"
}
check "sessions never dropped (FRR: 1 established, 0 dropped each; no NOTIFICATION)" never_dropped
ebgp quit
ibgp quit
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	vty show bgp summary; vty show bgp ipv4 flowspec detail; vty show bgp ipv6 flowspec detail
	tail -n 20 "$LIB_TMP/drvA.log" "$LIB_TMP/drvB.log" "$F/bgpd.log"
fi
lib_summary
