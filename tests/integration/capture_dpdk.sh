#!/bin/bash
# DPDK capture (capture.dpdk) on virtual devices, without hugepages, real BIRD and ClickHouse.
# (a) net_pcap: the shared capture is the port (rx_pcap=); rampartd reads it through the EAL on
#     the file's pace. (b) net_tap, 2 RX queues read by 2 workers: tcpreplay plays the capture at
#     its recorded speed (~10 s) out of namespace cd_rt into the veth mirror0, whose every
#     incoming frame tc mirrors (mirred redirect) out of the PMD's tap in cd_rd. For each: every frame of the capture read
#     (counted exactly: 21000), no ring, interface or decode drop; exactly the five victims banned
#     at BIRD as blackholes, no background host; every packet in ClickHouse flow rows; the drop
#     counters at zero in rampartctl stats, /api/v1/stats and /metrics; SIGTERM exits 0.
# Also: a port the EAL does not have, and more RX queues than the port has, fail at start naming
# the key and the reason, and nothing starts. The EAL runs with --no-huge -m 256 --no-shconf, so
# the test needs no hugepages and leaves no files in /var/run/dpdk.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make deps"
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"
grep -q 'dpdk port' "$RAMPARTD" 2>/dev/null || die "$RAMPARTD was built without DPDK: install libdpdk-dev (make deps) and rebuild"

NS_RD=cd_rd NS_RT=cd_rt NET=83 DB=rampart_dpdk_pcap
W=$LIB_TMP
CH_HTTP=24531 CH_TCP=24532 HTTP=127.0.0.1:24533
. "$REPO/tests/lib/capture_live.sh"
live_rig
PCAP=$DATA/mirror-attack-mix.pcap
EAL='"--no-huge", "-m", "256", "--no-shconf", "--file-prefix=rpdpdk'$$'", "-l", "0", "--no-pci", "--no-telemetry"'
conf() { # conf VDEV PORT RX_QUEUES WORKERS SPOOL
	live_conf "dpdk: { eal: [$EAL, \"--vdev=$1\"], ports: [$2], rx_queues: $3, workers: $4 }" "$5"
}
field() { grep "^capture $1:" "$W/stats" | grep -oE " $2 [0-9]+" | awk '{ print $2 }'; }
check_drops() { # check_drops SOURCE
	local c
	for c in kernel_drops ring_drops if_drops bad_blocks truncated malformed; do
		check "$1: $c 0" test "$(field "$1" $c)" = 0
	done
}
bad_start() { # bad_start NAME EXPECTED-TEXT
	ip netns exec $NS_RD timeout 30 "$RAMPARTD" -c "$W/$1.yaml" >"$W/$1.log" 2>&1
	local rc=$?
	check "$1: the start fails (exit $rc)" test $rc -ne 0 -a $rc -ne 124
	check "$1: the error says: $2" grep -qF "$2" "$W/$1.log"
	check "$1: nothing half-started: no worker began capturing" sh -c "! grep -q capturing '$W/$1.log'"
}

conf "net_pcap0,rx_pcap=$PCAP" net_pcap9 1 1 "$W/spool-bad" >"$W/noport.yaml"
bad_start noport "capture.dpdk.ports: net_pcap9: no such DPDK port (the EAL has: net_pcap0)"
conf "net_pcap0,rx_pcap=$PCAP" net_pcap0 2 1 "$W/spool-bad" >"$W/queues.yaml"
bad_start queues "capture.dpdk.rx_queues: 2 RX queues, but port net_pcap0 (net_pcap) has at most 1"

# (a) net_pcap: the file is the port
conf "net_pcap0,rx_pcap=$PCAP" net_pcap0 1 1 "$W/spool-pcap" >"$W/pcap.yaml"
ip netns exec $NS_RD "$RAMPARTD" -c "$W/pcap.yaml" >"$W/pcap.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 20 grep -q 'dpdk net_pcap0: replay finished' "$W/pcap.log" ||
	{ cat "$W/pcap.log"; die "rampartd did not read net_pcap0 to its end"; }
check "the port is a replay of the file" grep -q 'dpdk port net_pcap0 (net_pcap, replaying a file)' "$W/pcap.log"
live_bird_up
"$RAMPARTCTL" -s "$SOCK" stats >"$W/stats"
grep "^capture" "$W/stats"
f=$(field "dpdk net_pcap0" frames)
check "net_pcap0: read all 21000 frames of the file (read ${f:-0})" test "${f:-0}" -eq 21000
check "net_pcap0: decoded all 21000" test "$(field "dpdk net_pcap0" decoded)" = 21000
check_drops "dpdk net_pcap0"
live_check_bans
live_check_flows
live_check_drop_metrics "dpdk net_pcap0" 1
live_stop $RD_PID
check "BIRD drops the routes with the session" wait_for 30 sh -c "[ \$(birdc_in $NS_RT '$W/bird' show route all | grep -Ec '^[0-9a-f:.]+/[0-9]+ ') -eq 0 ]" ||
	live_routes

# (b) net_tap behind a tc mirror of the veth, 2 queues, 2 workers. Not net_af_packet: DPDK
# 22.11's AF_PACKET PMD joins its sockets with PACKET_FANOUT_FLAG_DEFRAG whatever qpairs is, so
# the kernel holds fragments for reassembly and drops the incomplete ones uncounted: the
# capture's fragment flood (2000 frames, 192.0.2.40) would never be seen (docs/CAPTURE.md).
DB=rampart_dpdk_tap
# the kernel sends IPv6 router solicitations and MLD reports out of an interface coming up, and
# out of a tap those are frames the PMD reads: the tap is made with IPv6 off
ip netns exec $NS_RD sysctl -qw net.ipv6.conf.default.disable_ipv6=1
conf "net_tap0,iface=dtap$$" net_tap0 2 2 "$W/spool-tap" >"$W/tap.yaml"
ip netns exec $NS_RD "$RAMPARTD" -c "$W/tap.yaml" >"$W/tap.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 20 sh -c "[ \$(grep -c 'dpdk net_tap0 #[12]: capturing' '$W/tap.log') -eq 2 ]" ||
	{ cat "$W/tap.log"; die "rampartd did not start its two DPDK workers"; }
# the mirror: every frame arriving on mirror0 is sent out of the tap, which the PMD reads
ip -n $NS_RD link set dtap$$ up
ip netns exec $NS_RD tc qdisc add dev mirror0 ingress &&
	ip netns exec $NS_RD tc filter add dev mirror0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev dtap$$ ||
	die "cannot mirror mirror0 to the tap"
live_bird_up
live_replay
sleep 2
"$RAMPARTCTL" -s "$SOCK" stats >"$W/stats"
grep "^capture" "$W/stats"
f1=$(field "dpdk net_tap0 #1" frames) f2=$(field "dpdk net_tap0 #2" frames)
check "both workers read frames ($f1 + $f2)" test "${f1:-0}" -gt 0 -a "${f2:-0}" -gt 0
check "together they read all 21000 frames (read $((${f1:-0} + ${f2:-0})))" test $((${f1:-0} + ${f2:-0})) -eq 21000
check_drops "dpdk net_tap0 #1"
check_drops "dpdk net_tap0 #2"
live_check_bans
live_check_flows
live_check_drop_metrics "dpdk net_tap0 #[12]" 2
live_stop $RD_PID
if ! lib_summary; then
	cat "$W/stats"; tail -n 40 "$W/pcap.log" "$W/tap.log"; exit 1
fi
