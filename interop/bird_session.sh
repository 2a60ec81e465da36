#!/usr/bin/env bash
# Session features against a real BIRD 2: TCP MD5 (RFC 2385) both ways, passive peers, route
# refresh (RFC 2918, and enhanced: RFC 7313) and graceful restart (RFC 4724, with the Restart State bit).
#
#   bg_sd (bench_bgp_announce, AS65001)          ==veth==   bg_sr (BIRD 2, AS65002)
#   .1  -> m1: MD5 "s3cret", we connect (BIRD passive)         .2
#   .4  <- m2: MD5 "t0p", BIRD connects to our passive peer    .3
#   .6  -> bad: we use "s3cret", BIRD expects "wrong"          .5
#   .8  -> g:  unicast + flow4, graceful restart               .7
#
# Asserts: both MD5 sessions come up (active and passive/listener side) and the segments really
# carry the MD5 option (tshark shows the TCP MD5 signature option); a wrong key never establishes; "birdc reload in"
# makes BIRD send ROUTE-REFRESH and we answer with the RIB-out; when our speaker is killed -9
# BIRD keeps our routes and rule (stale) for the restart time we advertised; a new speaker that
# has only some of them again sends those plus End-of-RIB, and BIRD drops exactly the stale rest;
# without graceful restart (-g 0) the same kill removes the routes at once.
# Usage: interop/bird_session.sh [BUILD_DIR]   (root; exit 0 = all passed)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
. interop/lib.sh

command -v bird >/dev/null || { echo "needs bird2"; exit 2; }
lib_driver
SECONDS=0

netns_pair bg_sd bg_sr "10.79.0.1/24,10.79.0.4/24,10.79.0.6/24,10.79.0.8/24" \
	"10.79.0.2/24,10.79.0.3/24,10.79.0.5/24,10.79.0.7/24" || { echo "FAIL: namespaces"; exit 1; }

B=$LIB_TMP/bird
mkdir -p "$B"
cat >"$B/bird.conf" <<CONF
log "$B/bird.log" all;
router id 10.79.0.2;
protocol device { scan time 1; }
flow4 table fl4;
template bgp rampart {
	local as 65002;
	hold time 9;
	connect retry time 1;
	error wait time 1, 2;
	ipv4 { import all; export none; };
}
protocol bgp m1 from rampart { local 10.79.0.2; neighbor 10.79.0.1 as 65001; passive on; password "s3cret"; }
protocol bgp m2 from rampart { local 10.79.0.3; neighbor 10.79.0.4 as 65001; password "t0p"; }
protocol bgp bad from rampart { local 10.79.0.5; neighbor 10.79.0.6 as 65001; passive on; password "wrong"; }
protocol bgp g from rampart {
	local 10.79.0.7; neighbor 10.79.0.8 as 65001; passive on;
	flow4 { table fl4; import all; export none; };
	debug { states, packets, events };
}
CONF
bird_start bg_sr "$B" "$B/bird.conf" || { echo "FAIL: BIRD did not start"; cat "$B/bird.log"; exit 1; }

PEERS=(-p 10.79.0.2,65002,hold=9,md5=s3cret
	-p 10.79.0.3,65002,hold=9,passive,md5=t0p,local=10.79.0.4
	-p 10.79.0.5,65002,hold=9,md5=s3cret,local=10.79.0.6
	-p 10.79.0.7,65002,hold=9,local=10.79.0.8,fam=ipv4-unicast+ipv4-flowspec)
N=0
# drv ARGS...: a driver reading commands from a new FIFO; cmd sends to the latest one
drv() {
	N=$((N + 1))
	mkfifo "$LIB_TMP/cmd$N"
	: >"$LIB_TMP/out$N"
	ip netns exec bg_sd "$DRV" -a 65001 -i 10.79.0.1 -r 1 "$@" "${PEERS[@]}" \
		<"$LIB_TMP/cmd$N" >"$LIB_TMP/out$N" 2>"$LIB_TMP/drv$N.log" &
	DRV_PID=$!
	disown $DRV_PID # killing it -9 is the test, not news for the terminal
	lib_on_exit "kill -9 $DRV_PID"
	exec 3>"$LIB_TMP/cmd$N"
	wait_for 5 grep -q ready "$LIB_TMP/out$N"
}
cmd() { echo "$*" >&3; }
bc() { birdc_in bg_sr "$B" "$@"; }
established() { bc show protocols "$1" | grep -q Established; }
has() { bc show route all table "${2:-master4}" | grep -qF -- "$1"; }
gone() { ! has "$@"; }

ip netns exec bg_sr timeout 20 tshark -i veth0 -n -c 4 -f "tcp port 179 and host 10.79.0.1" -O tcp \
	>"$LIB_TMP/capture" 2>/dev/null &
TD=$!
lib_on_exit "kill $TD"
sleep 1.5

A=203.0.113.1/32
C=203.0.113.2/32
FLOW="destination 203.0.113.1/32; protocol udp; source-port =123"
drv -g 20
cmd route $A 10.79.0.254
cmd route $C 10.79.0.254
cmd "flow $FLOW then discard"
check "MD5 session up, we connect" wait_for 15 established m1
check "MD5 session up, BIRD connects to our listener (passive peer)" wait_for 15 established m2
check "MD5 option on the wire" wait_for 5 grep -q "TCP MD5 signature" "$LIB_TMP/capture"
check "graceful-restart session up" wait_for 15 established g
check "routes and rule at BIRD" wait_for 5 eval 'has $A && has $C && has "dst 203.0.113.1/32" fl4'
check "wrong MD5 key never establishes" eval '! established bad'

# route refresh: BIRD asks, we send the RIB-out of that family again
before=$(grep -c "g: Got UPDATE" "$B/bird.log")
log_at=$(wc -l <"$B/bird.log")
bc reload in g >/dev/null
check "ROUTE-REFRESH answered for IPv4 unicast" wait_for 5 grep -q "10.79.0.7: ROUTE-REFRESH AFI 1 SAFI 1," "$LIB_TMP/drv1.log"
check "ROUTE-REFRESH answered for IPv4 FlowSpec" wait_for 5 grep -q "10.79.0.7: ROUTE-REFRESH AFI 1 SAFI 133," "$LIB_TMP/drv1.log"
check "BIRD got the routes again" wait_for 5 eval '[ "$(grep -c "g: Got UPDATE" "$B/bird.log")" -ge $((before + 2)) ]'
check "session stayed up through the refresh" established g
# enhanced route refresh (RFC 7313): BIRD marks our routes stale at BoRR and keeps what came before EoRR
check "enhanced route refresh negotiated both ways" eval '[ "$(bc show protocols all g | grep -c "Enhanced refresh")" -ge 2 ]'
check "refresh sent between BEGIN-OF-RR and END-OF-RR, for both families" wait_for 5 eval \
	'tail -n +$((log_at + 1)) "$B/bird.log" | awk "/g: Got BEGIN-OF-RR/ { b++ } /g: Got UPDATE/ && b { u++ } /g: Got END-OF-RR/ && u { e++ } END { exit !(b >= 2 && e >= 2) }"'
check "routes and rule still at BIRD after the enhanced refresh" eval 'has $A && has $C && has "dst 203.0.113.1/32" fl4'
check "no Restart State bit on a fresh start" eval '! bc show protocols all g | grep -q "Restart recovery"'

# graceful restart: the speaker dies without a NOTIFICATION
kill -9 "$DRV_PID"
sleep 2
check "session down after the kill" eval '! established g'
check "BIRD keeps our route (stale) while we restart" eval 'has $A && has $C'
check "BIRD keeps our FlowSpec rule too" has "dst 203.0.113.1/32" fl4
check "BIRD in graceful restart for g" grep -q "g: Neighbor graceful restart detected" "$B/bird.log"
sleep 1
check "still there 3 s later" eval 'has $A && has "dst 203.0.113.1/32" fl4'

# the new speaker has A and the rule, not C: after its End-of-RIB, C (still stale) goes
drv -g 20 -S
cmd route $A 10.79.0.254
cmd "flow $FLOW then discard"
cmd start
check "session back" wait_for 15 established g
check "End-of-RIB received after the restart" wait_for 5 eval '[ "$(grep -c "g: Got END-OF-RIB" "$B/bird.log")" -ge 4 ]'
check "refreshed route kept" wait_for 5 has $A
check "route the new speaker did not have is flushed" wait_for 5 gone $C
check "refreshed rule kept" has "dst 203.0.113.1/32" fl4
check "BIRD ended the graceful restart on our End-of-RIB" grep -q "g: Neighbor graceful restart done" "$B/bird.log"
check "Restart State bit set: we came back with routes (RFC 4724 4.1)" eval 'bc show protocols all g | grep -q "Restart recovery"'

# control: without the capability the same kill flushes at once
cmd quit
wait_for 5 eval '! established g'
drv -g 0
cmd route $A 10.79.0.254
check "session up without graceful restart" wait_for 15 established g
check "route there" wait_for 5 has $A
kill -9 "$DRV_PID"
check "without graceful restart the route goes at once" wait_for 3 gone $A

check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	for f in "$LIB_TMP"/drv*.log; do echo "--- $f"; tail -15 "$f"; done
	echo "--- BIRD log"; grep -v KEEPALIVE "$B/bird.log" | tail -40
	echo "--- tcpdump"; head -8 "$LIB_TMP/capture"
	bc show protocols all g
fi
lib_summary
