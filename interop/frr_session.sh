#!/usr/bin/env bash
# Session features of rampartd against a real FRR 8.4 (bgpd + zebra as plain processes): TCP MD5,
# IPv4 and IPv6 transport, eBGP and iBGP, graceful restart of rampartd, restart of the peer, route
# refresh.
#
#   bi_fr: rampartd A (AS65001, eBGP)                 ==veth==   bi_ff: FRR bgpd AS65002, passive,
#            10.234.0.1 -> .2       MD5 "s3cret"                        GR helper (its default)
#            2001:db8:234::1 -> ::2 MD5 "v6key"                          10.234.0.2, 10.234.0.4,
#          rampartd B (AS65002, iBGP)                                     2001:db8:234::2
#            10.234.0.5 -> .2, 2001:db8:234::5 -> ::2  no MD5
#            10.234.0.3 -> .4       MD5 "s3cret", FRR has "wrong"
#
# Asserts: the MD5 sessions (v4 and v6 transport; FRR requires the key, so Established proves we
# sign) and the plain iBGP ones come up; the wrong key never establishes, FRR's kernel counts MD5
# failures and rampartd reports the peer stuck in Connect, then "connect timed out"; bans made with
# rampartctl are at FRR with BLACKHOLE + NO_EXPORT, AS_PATH 65001 over eBGP, LOCAL_PREF 100 and an
# empty AS_PATH over iBGP; "clear bgp ... soft in" makes FRR send ROUTE-REFRESH, rampartd logs it,
# sends the RIB-out again (its UPDATE counter grows) and the session stays; rampartd A killed -9:
# FRR keeps its routes, marked stale; A started again with one of its two IPv4 bans re-made
# (rampartctl, within bgp.end_of_rib_delay): that route is refreshed (stale flag gone) and was at
# FRR all along, the other is flushed on A's End-of-RIB, FRR reports GR state for A; FRR's bgpd
# killed -9 and started again: every route is announced again over all four sessions.
# Usage: interop/frr_session.sh   (root; BUILD selects the binaries; exit 0 = all passed)
set -u
cd "$(dirname "$0")/.."
. tests/lib/rampart.sh
. interop/lib.sh
FRR=/usr/lib/frr
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 2; }
# install-deps.sh installs frr: a missing FRR is a broken test machine, not a reason to skip
[ -x $FRR/bgpd ] && [ -x $FRR/zebra ] && command -v vtysh >/dev/null ||
	{ echo "FAIL: FRR is not installed (scripts/install-deps.sh installs frr)"; exit 1; }
need_binaries
SECONDS=0

netns_pair bi_fr bi_ff "10.234.0.1/24,10.234.0.3/24,10.234.0.5/24,2001:db8:234::1/64,2001:db8:234::5/64" \
	"10.234.0.2/24,10.234.0.4/24,2001:db8:234::2/64" || { echo "FAIL: namespaces"; exit 1; }
# bgpd resets an IPv6 session while the interface has no link-local address yet (frr.sh)
ll_ready() { ip -n "$1" -6 addr show dev veth0 scope link | grep -q inet6 &&
	! ip -n "$1" -6 addr show dev veth0 scope link | grep -q tentative; }
wait_for 10 ll_ready bi_ff && wait_for 10 ll_ready bi_fr || { echo "FAIL: no IPv6 link-local address"; exit 1; }

F=$LIB_TMP/frr
mkdir -p "$F"
{
	echo "hostname bifrr"
	echo "log file $F/bgpd.log"
	echo "router bgp 65002"
	echo " bgp router-id 10.234.0.2"
	echo " no bgp ebgp-requires-policy"
	echo " no bgp default ipv4-unicast"
	echo " neighbor 10.234.0.1 remote-as 65001"
	echo " neighbor 10.234.0.1 password s3cret"
	echo " neighbor 2001:db8:234::1 remote-as 65001"
	echo " neighbor 2001:db8:234::1 password v6key"
	echo " neighbor 10.234.0.3 remote-as 65002"
	echo " neighbor 10.234.0.3 password wrong"
	echo " neighbor 10.234.0.5 remote-as 65002"
	echo " neighbor 2001:db8:234::5 remote-as 65002"
	for n in 10.234.0.1 10.234.0.3 10.234.0.5 2001:db8:234::1 2001:db8:234::5; do
		echo " neighbor $n passive"
		echo " neighbor $n timers 3 9"
	done
	echo " address-family ipv4 unicast"
	for n in 10.234.0.1 10.234.0.3 10.234.0.5; do echo "  neighbor $n activate"; done
	echo " exit-address-family"
	echo " address-family ipv6 unicast"
	for n in 2001:db8:234::1 2001:db8:234::5; do echo "  neighbor $n activate"; done
	echo " exit-address-family"
} >"$F/bgpd.conf"
echo "hostname bifrr" >"$F/zebra.conf"
: >"$F/vtysh.conf"
chown -R frr:frr "$F"
chmod o+x "$LIB_TMP"
frr_kill() { [ -f "$F/$1.pid" ] && kill "-${2:-TERM}" "$(cat "$F/$1.pid")"; }
lib_on_exit 'frr_kill bgpd; frr_kill zebra; sleep 0.3; frr_kill bgpd KILL; frr_kill zebra KILL'
FRR_ARGS=(-d -u frr -g frr -z "$F/zserv.api" --vty_socket "$F" -A 127.0.0.1 -P 0)
ip netns exec bi_ff $FRR/zebra "${FRR_ARGS[@]}" -f "$F/zebra.conf" -i "$F/zebra.pid" --log "file:$F/zebra.log" 2>>"$F/zebra.err" ||
	{ echo "FAIL: zebra did not start"; exit 1; }
wait_for 5 test -S "$F/zserv.api"
bgpd_start() { ip netns exec bi_ff $FRR/bgpd "${FRR_ARGS[@]}" -f "$F/bgpd.conf" -i "$F/bgpd.pid" 2>>"$F/bgpd.err"; }
bgpd_start || { echo "FAIL: bgpd did not start"; exit 1; }
vty() { ip netns exec bi_ff vtysh --vty_socket "$F" -c "$*"; }
wait_for 10 vty show bgp summary || { echo "FAIL: bgpd does not answer"; exit 1; }

# rampartd A and B (pids in RD_A, RD_B); rd_start NAME starts one again
rd_start() { rd_session_start bi_fr "$1"; }
ctl() { rd_ctl "$@"; }
rd_session_pair bi_fr 234

# up N...: FRR shows each neighbor Established (its summary row ends in prefix counts)
up() {
	local out n
	out=$(vty show bgp summary) || return 1
	for n; do grep -E "^$n " <<<"$out" | grep -qE ' [0-9]+ +[0-9]+ N/A$' || return 1; done
}
check "eBGP, IPv4 transport, MD5: Established" wait_for 20 up 10.234.0.1
check "eBGP, IPv6 transport, MD5: Established" wait_for 10 up 2001:db8:234::1
check "iBGP, IPv4 and IPv6 transport, no MD5: Established" wait_for 10 up 10.234.0.5 2001:db8:234::5

# has TEXT PATTERN...; uni AF PREFIX PATTERN...: FRR's JSON for PREFIX has every PATTERN
has() {
	local text=$1 pat
	shift
	for pat; do grep -qF -- "$pat" <<<"$text" || { echo "  missing: $pat" >&2; return 1; }; done
}
uni() {
	local af=$1 p=$2 out
	shift 2
	out=$(vty show bgp "$af" unicast "$p" json | tr -d ' \n') || return 1
	has "$out" "\"prefix\":\"$p\"" "$@"
}
uni_gone() { ! vty show bgp "$1" unicast "$2" json | grep -q '"paths"'; }
not_stale() { ! vty show bgp "$1" unicast "$2" json | tr -d ' \n' | grep -qF '"stale":true'; }

ctl A ban 192.0.2.10 >/dev/null
ctl A ban 192.0.2.11 >/dev/null
ctl A ban 2001:db8:10::10 >/dev/null
ctl B ban 192.0.2.20 >/dev/null
ctl B ban 2001:db8:10::20 >/dev/null
BH='"community":{"string":"blackholeno-export"'
EB=('"aspath":{"string":"65001"' '"type":"external"')
IB=('"locPrf":100' '"aspath":{"string":"Local"' '"type":"internal"')
check "eBGP v4 (MD5): 192.0.2.10/32, .11/32 BLACKHOLE NO_EXPORT, AS_PATH 65001, next hop 10.234.0.1" \
	wait_for 10 eval 'uni ipv4 192.0.2.10/32 "$BH" "${EB[@]}" "\"ip\":\"10.234.0.1\"" && uni ipv4 192.0.2.11/32 "$BH"'
check "eBGP v6 (MD5): 2001:db8:10::10/128 BLACKHOLE NO_EXPORT, AS_PATH 65001, next hop 2001:db8:234::1" \
	wait_for 10 uni ipv6 2001:db8:10::10/128 "$BH" "${EB[@]}" '"ip":"2001:db8:234::1"'
check "iBGP v4: 192.0.2.20/32 LOCAL_PREF 100, AS_PATH empty, BLACKHOLE" wait_for 10 uni ipv4 192.0.2.20/32 "$BH" "${IB[@]}"
check "iBGP v6: 2001:db8:10::20/128 LOCAL_PREF 100, AS_PATH empty, BLACKHOLE" wait_for 10 uni ipv6 2001:db8:10::20/128 "$BH" "${IB[@]}"

# route refresh: FRR asks (no soft-reconfiguration inbound, so it must), we send the RIB-out again
wait_for 5 grep -q "peer 10.234.0.2: End-of-RIB after" "$LIB_TMP/A/rampartd.log" # counted before
updates() { ctl A peers | awk -v p="$1" '$1 == p { print $5 }'; }
u0=$(updates 10.234.0.2)
vty clear bgp ipv4 unicast 10.234.0.1 soft in >/dev/null
check "ROUTE-REFRESH from FRR logged by rampartd" \
	wait_for 5 grep -q "peer 10.234.0.2: ROUTE-REFRESH AFI 1 SAFI 1, sending the RIB-out again" "$LIB_TMP/A/rampartd.log"
check "RIB-out sent again (UPDATEs sent $u0 -> more)" wait_for 5 eval '[ "$(updates 10.234.0.2)" -gt "$u0" ]'
vty clear bgp ipv6 unicast 2001:db8:234::1 soft in >/dev/null
check "ROUTE-REFRESH over IPv6 transport answered" \
	wait_for 5 grep -q "peer 2001:db8:234::2: ROUTE-REFRESH AFI 2 SAFI 1" "$LIB_TMP/A/rampartd.log"
check "routes still there, session not reset (1 established, 0 dropped)" eval \
	'uni ipv4 192.0.2.10/32 "$BH" && uni ipv6 2001:db8:10::10/128 "$BH" &&
	 has "$(vty show bgp neighbors 10.234.0.1 json | tr -d " \n")" "\"connectionsEstablished\":1," "\"connectionsDropped\":0,"'

# graceful restart of rampartd A: killed without a NOTIFICATION
check "FRR saw our GR capability (restart time 120)" eval \
	'vty show bgp neighbors 10.234.0.1 json | tr -d " \n" | grep -qE "\"gracefulRestartInfo\".*\"remoteGrMode\":\"Restart\""'
# a watcher notes every moment 192.0.2.10 is missing at FRR from now on
: >"$LIB_TMP/missing"
( while [ ! -e "$LIB_TMP/stopwatch" ]; do uni_gone ipv4 192.0.2.10/32 && echo "$(date +%T.%N)" >>"$LIB_TMP/missing"; sleep 0.2; done ) 2>/dev/null &
lib_on_exit "touch $LIB_TMP/stopwatch"
disown "$RD_A"; kill -9 "$RD_A"
check "session down after the kill" wait_for 5 eval '! up 10.234.0.1'
stale() { vty show bgp "$1" unicast "$2" json | tr -d ' \n' | grep -qF '"stale":true'; }
check "FRR keeps A's routes, marked stale (v4 + v6)" eval 'stale ipv4 192.0.2.10/32 && stale ipv4 192.0.2.11/32 && stale ipv6 2001:db8:10::10/128'
sleep 2
check "still there 2 s later" eval 'stale ipv4 192.0.2.10/32 && stale ipv6 2001:db8:10::10/128'
# rampartd keeps no ban state across a restart: the bans are made again (here by rampartctl, as a
# pipeline or detection would) a second after the start, within end_of_rib_delay; 192.0.2.11 is
# not. Without the delay, our End-of-RIB would reach FRR before the bans and it would flush them.
rd_start A || echo "rampartd A did not start again"
sleep 1 # as detection would: it needs about detection.average_s of traffic to ban again
ctl A ban 192.0.2.10 >/dev/null
ctl A ban 2001:db8:10::10 >/dev/null
check "A back: eBGP v4 + v6 Established again" wait_for 15 up 10.234.0.1 2001:db8:234::1
check "re-made bans refreshed: no longer stale (v4 + v6)" wait_for 10 eval \
	'uni ipv4 192.0.2.10/32 "$BH" && not_stale ipv4 192.0.2.10/32 && uni ipv6 2001:db8:10::10/128 && not_stale ipv6 2001:db8:10::10/128'
check "ban not re-made (192.0.2.11) flushed after A's End-of-RIB" wait_for 10 uni_gone ipv4 192.0.2.11/32
check "rampartd logged the End-of-RIB after the start delay" grep -q "peer 10.234.0.2: End-of-RIB after the 3s start delay" "$LIB_TMP/A/rampartd.log"
touch "$LIB_TMP/stopwatch"
check "192.0.2.10/32 was at FRR the whole time (no gap)" test ! -s "$LIB_TMP/missing"

# peer restart: FRR's bgpd dies and comes back; every route is announced again
frr_kill bgpd KILL
wait_for 5 eval '! kill -0 $(cat "$F/bgpd.pid") 2>/dev/null'
rm -f "$F/bgpd.pid"
bgpd_start || echo "bgpd did not start again"
check "bgpd back: all four sessions Established again" wait_for 20 up 10.234.0.1 2001:db8:234::1 10.234.0.5 2001:db8:234::5
check "every ban announced again (eBGP + iBGP, v4 + v6)" wait_for 10 eval \
	'uni ipv4 192.0.2.10/32 "$BH" "${EB[@]}" && uni ipv6 2001:db8:10::10/128 "$BH" "${EB[@]}" &&
	 uni ipv4 192.0.2.20/32 "${IB[@]}" && uni ipv6 2001:db8:10::20/128 "${IB[@]}"'

# the wrong key, now past our 30 s connect timeout
md5_failures() { ip netns exec bi_ff nstat -az TcpExtTCPMD5Failure | awk '/TCPMD5Failure/ { print $2 }'; }
check "wrong MD5 key: never Established at FRR" eval '! up 10.234.0.3'
check "wrong MD5 key: FRR's kernel dropped our signed segments (TcpExtTCPMD5Failure $(md5_failures))" \
	test "$(md5_failures)" -gt 0
wait_for $((42 - SECONDS)) grep -q "peer 10.234.0.4 AS65002: Connect -> Active: connect timed out" "$LIB_TMP/B/rampartd.log"
check "wrong MD5 key: rampartd logs 'connect timed out' and shows it in peers" eval \
	'grep -q "peer 10.234.0.4 AS65002: Connect -> Active: connect timed out" "$LIB_TMP/B/rampartd.log" &&
	 ctl B peers | grep -E "^10.234.0.4 " | grep -v Established | grep -q "connect timed out"'
check "rampartd A and B still running" eval 'kill -0 $RD_A && kill -0 $RD_B'

check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	vty show bgp summary; vty show bgp ipv4 unicast; vty show bgp ipv6 unicast
	echo "--- missing 192.0.2.10 at"; cat "$LIB_TMP/missing"
	tail -n 25 "$LIB_TMP/A/rampartd.log" "$LIB_TMP/B/rampartd.log" "$F/bgpd.log"
fi
lib_summary
