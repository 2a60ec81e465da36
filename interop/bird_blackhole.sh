#!/usr/bin/env bash
# Blackhole routes (RFC 7999) from our speaker to a real BIRD 2, over IPv4 and IPv6 transport.
#
#   rb_rd (bench_bgp_announce, AS65001)  ==veth==  rb_rt (BIRD 2, AS65002, passive)
#   10.77.0.1, .4, 2001:db8:77::1                     10.77.0.2 (r4), 2001:db8:77::2 (r6), 10.77.0.3 (bad)
#
# Asserts: both sessions Established; a /32 and a /128 reach BIRD with (65535,666) and NO_EXPORT
# and our next hop; withdrawing removes them; after BIRD is killed and restarted the routes come
# back without being announced again (replay on Established); a peer whose AS is not the one we
# expect gets a NOTIFICATION (logged on our side, seen by BIRD); 100 000 /32s reach BIRD (timed).
# Usage: interop/bird_blackhole.sh [BUILD_DIR]   (root; exit 0 = all passed)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
BULK=${BULK:-100000}
. interop/lib.sh

command -v bird >/dev/null || { echo "needs bird2"; exit 2; }
lib_driver
SECONDS=0

netns_pair rb_rd rb_rt "10.77.0.1/24,10.77.0.4/24,2001:db8:77::1/64" \
	"10.77.0.2/24,10.77.0.3/24,2001:db8:77::2/64" || { echo "FAIL: namespaces"; exit 1; }

B=$LIB_TMP/bird
mkdir -p "$B"
cat >"$B/bird.conf" <<CONF
log "$B/bird.log" all;
router id 10.77.0.2;
protocol device { scan time 1; }
template bgp rampart {
	local as 65002;
	passive on;
	hold time 9;
	connect retry time 1;
	error wait time 1, 2;
}
protocol bgp r4 from rampart {
	local 10.77.0.2;
	neighbor 10.77.0.1 as 65001;
	ipv4 { import all; export none; };
}
protocol bgp r6 from rampart {
	local 2001:db8:77::2;
	neighbor 2001:db8:77::1 as 65001;
	ipv6 { import all; export none; };
}
# we are configured to expect AS65099 here: our speaker must refuse this OPEN. Its own address
# pair, since BIRD matches an incoming connection by the neighbor's address.
protocol bgp bad from rampart {
	local 10.77.0.3;
	neighbor 10.77.0.4 as 65001;
	ipv4 { import all; export none; };
}
CONF
bird_start rb_rt "$B" "$B/bird.conf" || { echo "FAIL: BIRD did not start"; cat "$B/bird.log"; exit 1; }

# the driver reads commands from a FIFO and answers one line each into a file
mkfifo "$LIB_TMP/cmd"
: >"$LIB_TMP/out"
ip netns exec rb_rd "$DRV" -a 65001 -i 10.77.0.1 -r 1 \
	-p 10.77.0.2,65002,hold=9 -p 2001:db8:77::2,65002,hold=9 -p 10.77.0.3,65099,local=10.77.0.4 \
	<"$LIB_TMP/cmd" >"$LIB_TMP/out" 2>"$LIB_TMP/drv.log" &
DRV_PID=$!
lib_on_exit "kill $DRV_PID"
exec 3>"$LIB_TMP/cmd"
lib_on_exit "exec 3>&-"

cmd() { echo "$*" >&3; }
out_has() { grep -q -- "$1" "$LIB_TMP/out"; }
bc() { birdc_in rb_rt "$B" "$@"; }
established() { bc show protocols "$1" | grep -q Established; }
# route_has PREFIX PATTERN...: BIRD has the route and "show route all" shows every PATTERN
route_has() {
	local p=$1 out
	shift
	out=$(bc show route all "$p") || return 1
	grep -q "$p" <<<"$out" || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
route_gone() { ! bc show route "$1" | grep -q "$1"; }
route_count() { bc show route count | awk '/routes/ {print $1; exit}'; }

V4=203.0.113.7/32
V6=2001:db8:1::7/128
NH4=10.77.0.254
NH6=2001:db8:77::254

wait_for 5 out_has ready || { echo "FAIL: driver did not start"; cat "$LIB_TMP/drv.log"; exit 1; }
check "IPv4 session Established" wait_for 15 established r4
check "IPv6 session Established" wait_for 15 established r6

cmd announce $V4 $NH4
cmd announce $V6 $NH6
check "/32 at BIRD with blackhole + no-export + next hop" \
	wait_for 5 route_has $V4 "(65535,666)" "(65535,65281)" "BGP.next_hop: $NH4" "AS65001"
check "/128 at BIRD with blackhole + no-export + next hop" \
	wait_for 5 route_has $V6 "(65535,666)" "(65535,65281)" "BGP.next_hop: $NH6" "AS65001"

cmd withdraw $V4
cmd withdraw $V6
check "/32 withdrawn" wait_for 5 route_gone $V4
check "/128 withdrawn" wait_for 5 route_gone $V6

cmd announce $V4 $NH4
cmd announce $V6 $NH6
check "re-announced" wait_for 5 route_has $V6 "(65535,666)"
bird_kill "$B"
ip netns exec rb_rt bird -c "$B/bird.conf" -s "$B/bird.ctl" -P "$B/bird.pid" || echo "FAIL: BIRD restart"
wait_for 5 bc show status
check "sessions back after BIRD crash" wait_for 20 established r4
check "IPv6 session back" wait_for 20 established r6
check "/32 replayed on session up" wait_for 5 route_has $V4 "(65535,666)" "(65535,65281)" "BGP.next_hop: $NH4"
check "/128 replayed on session up" wait_for 5 route_has $V6 "(65535,666)" "(65535,65281)" "BGP.next_hop: $NH6"

check "wrong peer AS: we send NOTIFICATION (logged)" \
	wait_for 10 grep -q "10.77.0.3.*sent NOTIFICATION 2/2" "$LIB_TMP/drv.log"
check "wrong peer AS: BIRD received it" wait_for 5 eval 'bc show protocols all bad | grep -qi "Received: Bad peer AS"'
check "bad session never Established" eval '! bc show protocols bad | grep -q Established'

# 100 000 /32s: time from the first bgp_announce to BIRD holding all of them
base=$(route_count)
want=$((base + BULK))
t0=$(date +%s%N)
cmd bulk "$BULK" 198.18.0.0 $NH4
ok=0
for ((i = 0; i < 1000; i++)); do # birdc every ~20 ms, 20 s at most
	[ "$(route_count)" -ge "$want" ] && { ok=1; break; }
	sleep 0.01
done
if [ $ok = 1 ]; then
	t1=$(date +%s%N)
	wait_for 5 out_has '^bulk .* queued'
	check "$BULK routes at BIRD" true
	echo "FIGURE: $BULK /32 blackhole routes announced -> all in BIRD's table in $(((t1 - t0) / 1000000)) ms" \
		"(birdc polled every ~20 ms; driver handed all to the sessions in $(grep -m1 '^bulk .* queued' "$LIB_TMP/out" | sed 's/.* in //'))"
else
	check "$BULK routes at BIRD (have $(route_count), want $want)" false
fi
cmd unbulk "$BULK" 198.18.0.0
back() { [ "$(route_count)" -le "$base" ]; }
check "$BULK routes withdrawn" wait_for 20 back

cmd quit
# the speaker sends CEASE and frees everything; under ASan a leak or error makes this non-zero
gone() { ! kill -0 "$DRV_PID" 2>/dev/null; }
if wait_for 10 gone; then
	wait "$DRV_PID"
	check "driver exits cleanly" test $? -eq 0
else
	check "driver exits on quit" false
fi
check "BIRD saw our CEASE" wait_for 5 eval 'bc show protocols all r4 | grep -qi "Received: .*shutdown\|Received: Cease\|Received: Administrative"'
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	echo "--- driver log"; tail -30 "$LIB_TMP/drv.log"
	echo "--- BIRD log"; tail -30 "$B/bird.log"
fi
lib_summary
