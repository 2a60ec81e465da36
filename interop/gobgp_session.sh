#!/usr/bin/env bash
# Session features of rampartd against a real GoBGP (gobgpd 3.10): TCP MD5, IPv4 and IPv6
# transport, eBGP and iBGP, graceful restart of rampartd, restart of the peer, route refresh.
#
#   bi_gr: rampartd A (AS65001, eBGP)                 ==veth==   bi_gg: gobgpd AS65002, passive,
#            10.235.0.1 -> .2       MD5 "s3cret"                        GR helper
#            2001:db8:235::1 -> ::2 MD5 "v6key"                          10.235.0.2, 10.235.0.4,
#          rampartd B (AS65002, iBGP)                                    2001:db8:235::2
#            10.235.0.5 -> .2, 2001:db8:235::5 -> ::2  no MD5
#            10.235.0.3 -> .4       MD5 "s3cret", GoBGP has "wrong"
#
# Asserts: the MD5 sessions over v4 and v6 transport (GoBGP requires the key) and the plain iBGP
# ones are Established; the wrong key never establishes and GoBGP's kernel counts MD5 failures;
# bans made with rampartctl are in "gobgp global rib" with BLACKHOLE + NO_EXPORT, AS_PATH 65001
# (eBGP) or LOCAL_PREF 100 and an empty AS_PATH (iBGP); "gobgp neighbor X softresetin" keeps
# the routes and the session and sends no ROUTE-REFRESH (GoBGP re-reads its Adj-RIB-In); GoBGP shows
# our graceful-restart capability; rampartd A killed -9: GoBGP keeps A's routes, stale; A back
# with one of its two IPv4 bans re-made within bgp.end_of_rib_delay: that one is no longer stale
# and was in the RIB all along, the other goes on A's End-of-RIB; gobgpd killed -9 and started
# again: every route is announced again.
# Usage: interop/gobgp_session.sh   (root; BUILD selects the binaries; exit 0 = all passed)
set -u
cd "$(dirname "$0")/.."
. tests/lib/rampart.sh
. interop/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 2; }
# install-deps.sh installs gobgpd: missing, it is a broken test machine, not a reason to skip
command -v gobgpd >/dev/null && command -v gobgp >/dev/null ||
	{ echo "FAIL: gobgpd is not installed (scripts/install-deps.sh installs it)"; exit 1; }
need_binaries
SECONDS=0

netns_pair bi_gr bi_gg "10.235.0.1/24,10.235.0.3/24,10.235.0.5/24,2001:db8:235::1/64,2001:db8:235::5/64" \
	"10.235.0.2/24,10.235.0.4/24,2001:db8:235::2/64" || { echo "FAIL: namespaces"; exit 1; }

G=$LIB_TMP/gobgp
mkdir -p "$G"
# nbr ADDRESS AS FAMILY [PASSWORD]
nbr() {
	cat <<CONF
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$1"
    peer-as = $2
${4:+    auth-password = \"$4\"}
  [neighbors.transport.config]
    passive-mode = true
  [neighbors.timers.config]
    hold-time = 9
  [neighbors.graceful-restart.config]
    enabled = true
    helper-only = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "$3"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
CONF
}
{
	cat <<CONF
[global.config]
  as = 65002
  router-id = "10.235.0.2"
CONF
	nbr 10.235.0.1 65001 ipv4-unicast s3cret
	nbr 2001:db8:235::1 65001 ipv6-unicast v6key
	nbr 10.235.0.3 65002 ipv4-unicast wrong
	nbr 10.235.0.5 65002 ipv4-unicast
	nbr 2001:db8:235::5 65002 ipv6-unicast
} >"$G/gobgpd.toml"
API=127.0.0.1:23450
gobgpd_start() {
	ip netns exec bi_gg gobgpd -f "$G/gobgpd.toml" --api-hosts $API >>"$G/gobgpd.log" 2>&1 &
	GPID=$!
	lib_on_exit "kill -9 $GPID"
}
gb() { ip netns exec bi_gg gobgp -u 127.0.0.1 -p 23450 "$@"; }
gobgpd_start
wait_for 10 gb global || { echo "FAIL: gobgpd did not start"; cat "$G/gobgpd.log"; exit 1; }

# rampartd A and B (pids in RD_A, RD_B); rd_start NAME starts one again
rd_start() { rd_session_start bi_gr "$1"; }
ctl() { rd_ctl "$@"; }
rd_session_pair bi_gr 235

# up N...: GoBGP has each neighbor Established
up() {
	local out n
	out=$(gb neighbor) || return 1
	for n; do grep -E "^ *$n " <<<"$out" | grep -q Establ || return 1; done
}
check "eBGP, IPv4 transport, MD5: Established" wait_for 20 up 10.235.0.1
check "eBGP, IPv6 transport, MD5: Established" wait_for 10 up 2001:db8:235::1
check "iBGP, IPv4 and IPv6 transport, no MD5: Established" wait_for 10 up 10.235.0.5 2001:db8:235::5

# rib AF PREFIX PATTERN...: the path of PREFIX in "gobgp global rib -a AF PREFIX -j" has every PATTERN
rib() {
	local af=$1 p=$2 out pat
	shift 2
	out=$(gb global rib -a "$af" "$p" -j | tr -d ' \n') || return 1
	grep -qF "\"$p\"" <<<"$out" || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || { echo "  missing: $pat in $out" >&2; return 1; }; done
}
gone() { ! gb global rib -a "$1" "$2" -j | grep -qF "\"$2\""; }
stale() { gb global rib -a "$1" "$2" -j | grep -qF '"stale":true'; }

ctl A ban 192.0.2.10 >/dev/null
ctl A ban 192.0.2.11 >/dev/null
ctl A ban 2001:db8:10::10 >/dev/null
ctl B ban 192.0.2.20 >/dev/null
ctl B ban 2001:db8:10::20 >/dev/null
BH='"communities":[4294902426,4294967041]'
EB='"as_paths":[{"segment_type":2,"num":1,"asns":[65001]}]'
LP='{"type":5,"value":100}'
check "eBGP v4 (MD5): 192.0.2.10/32, .11/32 BLACKHOLE NO_EXPORT, AS_PATH 65001, next hop 10.235.0.1" \
	wait_for 10 eval 'rib ipv4 192.0.2.10/32 "$BH" "$EB" "\"nexthop\":\"10.235.0.1\"" && rib ipv4 192.0.2.11/32 "$BH"'
check "eBGP v6 (MD5): 2001:db8:10::10/128 BLACKHOLE NO_EXPORT, AS_PATH 65001, next hop 2001:db8:235::1" \
	wait_for 10 rib ipv6 2001:db8:10::10/128 "$BH" "$EB" '"nexthop":"2001:db8:235::1"'
check "iBGP v4: 192.0.2.20/32 LOCAL_PREF 100, AS_PATH empty, BLACKHOLE" \
	wait_for 10 eval 'rib ipv4 192.0.2.20/32 "$BH" "$LP" "\"as_paths\":[]"'
check "iBGP v6: 2001:db8:10::20/128 LOCAL_PREF 100, AS_PATH empty, BLACKHOLE" \
	wait_for 10 eval 'rib ipv6 2001:db8:10::20/128 "$BH" "$LP" "\"as_paths\":[]"'

# route refresh: GoBGP 3.10 keeps every Adj-RIB-In, and "softresetin" re-applies its policy to it
# without sending ROUTE-REFRESH (server.go softResetIn). What it does do is asserted; our answer to
# a ROUTE-REFRESH is proven against FRR and BIRD (frr_session.sh, bird_session.sh).
wait_for 5 grep -q "peer 10.235.0.2: End-of-RIB after" "$LIB_TMP/A/rampartd.log"
updates() { ctl A peers | awk -v p="$1" '$1 == p { print $5 }'; }
u0=$(updates 10.235.0.2)
gb neighbor 10.235.0.1 softresetin >/dev/null
gb neighbor 2001:db8:235::1 softresetin >/dev/null
sleep 1
check "softresetin: no ROUTE-REFRESH reaches us, nothing resent (UPDATEs sent stay $u0)" eval \
	'! grep -q "ROUTE-REFRESH" "$LIB_TMP/A/rampartd.log" && [ "$(updates 10.235.0.2)" -eq "$u0" ] &&
	 gb neighbor 10.235.0.1 | grep -qE "Route Refresh: +0 +0"'
check "softresetin: routes still there, session not reset (GoBGP: 0 flops)" eval \
	'rib ipv4 192.0.2.10/32 "$BH" && rib ipv6 2001:db8:10::10/128 "$BH" && gb neighbor 10.235.0.1 | grep -q "Flops = 0"'
gb neighbor 10.235.0.1 >"$LIB_TMP/neighbor.txt"

check "GoBGP saw our graceful-restart capability: restart time 120 s, forwarding bit for ipv4-unicast" eval \
	'grep -A2 "graceful-restart:.*advertised and received" "$LIB_TMP/neighbor.txt" | tr -d "\n" |
	 grep -q "Remote: restart time 120 sec.*ipv4-unicast, forward flag set"'
: >"$LIB_TMP/missing"
( while [ ! -e "$LIB_TMP/stopwatch" ]; do gone ipv4 192.0.2.10/32 && date +%T.%N >>"$LIB_TMP/missing"; sleep 0.2; done ) 2>/dev/null &
lib_on_exit "touch $LIB_TMP/stopwatch"
disown "$RD_A"
kill -9 "$RD_A"
check "session down after the kill" wait_for 5 eval '! up 10.235.0.1'
check "GoBGP keeps A's routes, marked stale (v4 + v6)" wait_for 3 eval \
	'stale ipv4 192.0.2.10/32 && stale ipv4 192.0.2.11/32 && stale ipv6 2001:db8:10::10/128'
sleep 2
check "still there 2 s later" eval 'stale ipv4 192.0.2.10/32 && stale ipv6 2001:db8:10::10/128'
rd_start A || echo "rampartd A did not start again"
sleep 1 # as detection would: it needs about detection.average_s of traffic to ban again
ctl A ban 192.0.2.10 >/dev/null
ctl A ban 2001:db8:10::10 >/dev/null
check "A back: eBGP v4 + v6 Established again" wait_for 15 up 10.235.0.1 2001:db8:235::1
check "re-made bans refreshed: no longer stale (v4 + v6)" wait_for 10 eval \
	'rib ipv4 192.0.2.10/32 "$BH" && ! stale ipv4 192.0.2.10/32 && rib ipv6 2001:db8:10::10/128 && ! stale ipv6 2001:db8:10::10/128'
check "ban not re-made (192.0.2.11) flushed after A's End-of-RIB" wait_for 10 gone ipv4 192.0.2.11/32
check "rampartd logged the End-of-RIB after the start delay" grep -q "peer 10.235.0.2: End-of-RIB after the 3s start delay" "$LIB_TMP/A/rampartd.log"
touch "$LIB_TMP/stopwatch"
check "192.0.2.10/32 was in GoBGP's RIB the whole time (no gap)" test ! -s "$LIB_TMP/missing"

# peer restart
disown "$GPID"
kill -9 "$GPID"
wait_for 5 eval '! kill -0 $GPID 2>/dev/null'
gobgpd_start
wait_for 10 gb global >/dev/null
check "gobgpd back: all four sessions Established again" wait_for 20 up 10.235.0.1 2001:db8:235::1 10.235.0.5 2001:db8:235::5
check "every ban announced again (eBGP + iBGP, v4 + v6)" wait_for 10 eval \
	'rib ipv4 192.0.2.10/32 "$BH" "$EB" && rib ipv6 2001:db8:10::10/128 "$BH" "$EB" &&
	 rib ipv4 192.0.2.20/32 "$LP" && rib ipv6 2001:db8:10::20/128 "$LP"'

md5_failures() { ip netns exec bi_gg nstat -az TcpExtTCPMD5Failure | awk '/TCPMD5Failure/ { print $2 }'; }
check "wrong MD5 key: never Established at GoBGP" eval '! up 10.235.0.3'
check "wrong MD5 key: GoBGP's kernel dropped our signed segments (TcpExtTCPMD5Failure $(md5_failures))" \
	test "$(md5_failures)" -gt 0
check "wrong MD5 key: rampartd shows the peer not Established" eval \
	'ctl B peers | grep -E "^10.235.0.4 " | grep -qvE "Established"'
check "rampartd A and B still running" eval 'kill -0 $RD_A && kill -0 $RD_B'
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	gb neighbor; gb global rib -a ipv4; gb global rib -a ipv6
	echo "--- missing 192.0.2.10 at"; cat "$LIB_TMP/missing"
	tail -n 25 "$LIB_TMP/A/rampartd.log" "$LIB_TMP/B/rampartd.log" "$G/gobgpd.log"
fi
lib_summary
