#!/usr/bin/env bash
# Mirror capture rate: the shared capture sent in a loop by bench/capture_send (PACKET_TX_RING,
# PACKET_QDISC_BYPASS) out of namespace cb_tx into a veth that rampartd reads in cb_rd, stepping
# the rate, for each capture source: pcap, afpacket x1, afpacket x2, afxdp (skb mode: veth has no
# zero-copy), dpdk through net_tap (the veth's frames redirected into the tap by tc) and through
# net_af_packet (--no-huge: veth is no DPDK NIC, so this measures the PMDs, not DPDK on a NIC),
# and FastNetMon 1.2.4 (Debian's, AF_PACKET as packaged: one fanout worker per CPU) on the same
# veth. For each step: sent (the sender's count), seen (frames the daemon's workers read;
# FastNetMon's fastnetmon_total_simple_packets_processed from its Prometheus endpoint), lost =
# sent - seen, and the loss the daemon counted (kernel/ring drops, the DPDK virtual devices' kernel
# losses included; FastNetMon exports none).
# Prints each source's highest rate with zero loss, the sender's own top rate as the ceiling, and
# the ratios to the ceiling and to FastNetMon, all from this run.
# BUILD dir as $1; STEP_S seconds per step (default 3); RATES (default "50000 100000 200000
# 300000 400000 0", 0 = as fast as the sender can).
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
REPO=$PWD
case $build in /*) ;; *) build=$REPO/$build ;; esac
DATA=${RAMPART_DATA:-$REPO/../shared/data}
PCAP=$DATA/mirror-attack-mix.pcap
STEP_S=${STEP_S:-3}
RATES=${RATES:-"50000 100000 200000 300000 400000 0"}
say() { echo "capture_rate: $*"; }
die() { say "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ -r "$PCAP" ] || die "no capture at $PCAP (set RAMPART_DATA)"
SEND=$build/bench/capture_send
[ -x "$SEND" ] || die "build $SEND first (make bench)"

W=$(mktemp -d /tmp/rampart-caprate.XXXXXX)
RD=
cleanup() {
	[ -n "$RD" ] && kill -9 "$RD" 2>/dev/null
	ip netns del cb_rd 2>/dev/null
	ip netns del cb_tx 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
ip netns del cb_rd 2>/dev/null; ip netns del cb_tx 2>/dev/null
ip netns add cb_rd && ip netns add cb_tx || die "cannot create the namespaces"
ip link add cbr$$ type veth peer name cbt$$ || die "cannot create the veth"
ip link set cbr$$ netns cb_rd name mirror0
ip link set cbt$$ netns cb_tx name mirror0
# IPv6 off for interfaces made later too (the DPDK tap): the kernel's solicitations out of it
# would be frames nobody sent
ip netns exec cb_rd sysctl -qw net.ipv6.conf.default.disable_ipv6=1
for ns in cb_rd cb_tx; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.mirror0.disable_ipv6=1
	ip -n $ns link set lo up
	ip -n $ns link set mirror0 up
done

SOCK=$W/rampart.sock
totals() { # frames and counted drops over every capture worker
	"$build/rampartctl" -s "$SOCK" stats | awk '/^capture / {
		for (i = 1; i < NF; i++) { if ($i == "frames") f += $(i + 1); if ($i == "kernel_drops") d += $(i + 1) } }
		END { print f + 0, d + 0 }'
}
fnm_totals() { # FastNetMon's packets processed; it counts no drops
	ip netns exec cb_rd curl -s --max-time 2 http://127.0.0.1:9209/metrics |
		awk '$1 == "fastnetmon_total_simple_packets_processed" { p = $2 } END { print p + 0, 0 }'
}
steps() { # steps NAME TOTALS-FUNCTION: the rate steps against a running reader
	local name=$1 totals=$2 rate best=0 out sent seen lost counted f0 d0 f1 d1
	for rate in $RATES; do
		read -r f0 d0 < <($totals)
		out=$(ip netns exec cb_tx "$SEND" mirror0 "$PCAP" "$rate" "$STEP_S")
		sleep 1
		read -r f1 d1 < <($totals)
		sent=$(echo "$out" | awk '{ print $2 }')
		seen=$((f1 - f0)) counted=$((d1 - d0)) lost=$((sent - seen))
		printf 'capture_rate: %-13s rate %8s: %s; seen %d, lost %d, daemon counted %s\n' "$name" \
			"${rate/#0/max}" "$out" "$seen" "$lost" "$([ "$totals" = fnm_totals ] && echo n/a || echo $counted)"
		[ "$lost" -eq 0 ] && [ "$counted" -eq 0 ] && best=$(echo "$out" | grep -oE '[0-9]+ pps' | cut -d' ' -f1)
	done
	echo "$name $best" >>"$W/best"
}
run_source() { # run_source NAME CAPTURE_YAML [COMMAND once the daemon captures]
	local name=$1 capture=$2
	cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 1000000000 }
capture:
$capture
storage:
  dir: $W/data
api:
  socket: $SOCK
  http: ""
CONF
	ip netns exec cb_rd "$build/rampartd" -c "$W/rampart.yaml" >"$W/$name.log" 2>&1 &
	RD=$!
	for _ in $(seq 50); do grep -q capturing "$W/$name.log" && break; sleep 0.2; done
	grep -q capturing "$W/$name.log" || { tail -5 "$W/$name.log"; die "$name: rampartd did not start"; }
	[ $# -lt 3 ] || $3 || die "$name: $3 failed"
	sleep 0.5
	steps "$name" totals
	kill -TERM $RD; wait $RD 2>/dev/null; RD=
	ip netns exec cb_rd tc qdisc del dev mirror0 ingress 2>/dev/null
	true
}
tap_mirror() { # every frame arriving on mirror0 goes out of the DPDK tap, which the PMD reads
	ip -n cb_rd link set cbtap0 up &&
		ip netns exec cb_rd tc qdisc add dev mirror0 ingress &&
		ip netns exec cb_rd tc filter add dev mirror0 parent ffff: protocol all u32 match u32 0 0 \
			action mirred egress redirect dev cbtap0
}
run_fastnetmon() {
	printf '192.0.2.0/24\n2001:db8:10::/48\n' >"$W/networks_list"
	: >"$W/whitelist"
	sed -e "s|^mirror_afpacket = .*|mirror_afpacket = on|" -e "s|^pcap = .*|pcap = off|" \
		-e "s|^interfaces = .*|interfaces = mirror0|" -e "s|^enable_ban = .*|enable_ban = off|" \
		-e "s|^enable_ban_ipv6 = .*|enable_ban_ipv6 = off|" \
		-e "s|^networks_list_path = .*|networks_list_path = $W/networks_list|" \
		-e "s|^white_list_path = .*|white_list_path = $W/whitelist|" \
		-e "s|^monitor_local_ip_addresses = .*|monitor_local_ip_addresses = off|" \
		-e "s|^disable_usage_report = .*|disable_usage_report = on|" -e "s|^enable_api = .*|enable_api = off|" \
		-e "s|^prometheus = .*|prometheus = on|" -e "s|^prometheus_port = .*|prometheus_port = 9209|" \
		-e "s|^prometheus_host = .*|prometheus_host = 127.0.0.1|" -e "s|^pid_path = .*|pid_path = $W/fnm.pid|" \
		-e "s|^cli_stats_file_path = .*|cli_stats_file_path = $W/fnm.dat|" \
		-e "s|^cli_stats_ipv6_file_path = .*|cli_stats_ipv6_file_path = $W/fnm6.dat|" \
		/etc/fastnetmon.conf >"$W/fastnetmon.conf"
	ip netns exec cb_rd /usr/sbin/fastnetmon --configuration_file "$W/fastnetmon.conf" --log_file "$W/fnm.log" \
		--disable_pid_logic >"$W/fnm.out" 2>&1 &
	RD=$!
	for _ in $(seq 50); do
		ip netns exec cb_rd curl -s --max-time 1 http://127.0.0.1:9209/metrics | grep -q '^fastnetmon_total_simple' && break
		sleep 0.2
	done
	kill -0 $RD 2>/dev/null || { tail -5 "$W/fnm.out" "$W/fnm.log"; die "FastNetMon did not start"; }
	sleep 0.5
	steps fastnetmon fnm_totals
}

ceiling=$(ip netns exec cb_tx "$SEND" mirror0 "$PCAP" 0 "$STEP_S" | grep -oE '[0-9]+ pps' | cut -d' ' -f1)
say "sender ceiling (nothing reading): $ceiling pps"
run_source pcap "  pcap: { interfaces: [mirror0] }"
run_source afpacket_x1 "  pcap: { interfaces: [] }
  afpacket: { interfaces: [mirror0], workers: 1 }"
run_source afpacket_x2 "  pcap: { interfaces: [] }
  afpacket: { interfaces: [mirror0], workers: 2 }"
run_source afxdp_skb "  pcap: { interfaces: [] }
  afxdp: { interfaces: [mirror0], queues: [0], mode: skb }"
EAL='"--no-huge", "-m", "256", "--no-shconf", "--file-prefix=cbrate'$$'", "-l", "0", "--no-pci", "--no-telemetry"'
run_source dpdk_tap "  pcap: { interfaces: [] }
  dpdk: { eal: [$EAL, \"--vdev=net_tap0,iface=cbtap0\"], ports: [net_tap0], rx_queues: 1, workers: 1 }" tap_mirror
run_source dpdk_afpacket "  pcap: { interfaces: [] }
  dpdk: { eal: [$EAL, \"--vdev=net_af_packet0,iface=mirror0\"], ports: [net_af_packet0], rx_queues: 1, workers: 1 }"
# DPDK's own figure, no veth: net_pcap with infinite_rx=1 holds the capture in its mbuf pool and
# hands it over again and again; one worker decodes and counts (flow table, host counters) what
# it reads. Frames per second over MEM_S seconds.
MEM_S=${MEM_S:-5}
cat >"$W/mem.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 1000000000 }
capture:
  pcap: { interfaces: [] }
  dpdk: { eal: [$EAL, "--vdev=net_pcap0,rx_pcap=$PCAP,infinite_rx=1"], ports: [net_pcap0], rx_queues: 1, workers: 1 }
storage:
  dir: $W/data-mem
api:
  socket: $SOCK
  http: ""
CONF
"$build/rampartd" -c "$W/mem.yaml" >"$W/mem.log" 2>&1 &
RD=$!
for _ in $(seq 50); do grep -q capturing "$W/mem.log" && break; sleep 0.2; done
sleep 1
read -r m0 _ < <(totals)
sleep "$MEM_S"
read -r m1 _ < <(totals)
kill -TERM $RD; wait $RD 2>/dev/null; RD=
mem=$(((m1 - m0) / MEM_S))
say "dpdk_mem      net_pcap infinite_rx, decode + count on one worker: $mem frames/s ($((m1 - m0)) in $MEM_S s)"
if [ -x /usr/sbin/fastnetmon ]; then
	run_fastnetmon
	kill -TERM $RD; wait $RD 2>/dev/null; RD=
else
	say "FastNetMon is not installed (make bench-deps): no fastnetmon row"
fi
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
fnm=$(awk '$1 == "fastnetmon" { print $2 }' "$W/best")
while read -r name best; do
	printf 'capture_rate: %-13s highest zero-loss rate %8s pps = %s of the sender ceiling%s\n' "$name" "$best" \
		"$(awk -v b="$best" -v c="$ceiling" 'BEGIN { printf "%.2f", c ? b / c : 0 }')" \
		"$([ -n "$fnm" ] && [ "$name" != fastnetmon ] && awk -v b="$best" -v f="$fnm" 'BEGIN { printf ", %s x FastNetMon", f ? sprintf("%.2f", b / f) : "n/a" }')"
done <"$W/best"
say "DPDK here reads virtual devices on a veth without hugepages; net_af_packet's uncounted loss is the capture's fragments its DEFRAG fanout discards (docs/CAPTURE.md); DPDK's own per-core figure is bench_dpdk_ring (net_ring fed from memory)"
