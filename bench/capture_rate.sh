#!/usr/bin/env bash
# Mirror capture rate: the shared capture sent in a loop by bench/capture_send (PACKET_TX_RING,
# PACKET_QDISC_BYPASS) out of namespace cb_tx into a veth that rampartd reads in cb_rd, stepping
# the rate, for each capture source: pcap, afpacket x1, afpacket x2, afxdp (skb mode: veth has no
# zero-copy), dpdk through net_tap (the veth's frames redirected into the tap by tc) and through
# net_af_packet (--no-huge: veth is no DPDK NIC, so this measures the PMDs, not DPDK on a NIC),
# and FastNetMon 1.2.4 (Debian's, AF_PACKET as packaged: one fanout worker per CPU) on the same
# veth.
#
# Receive is decoupled from send. On a plain veth, veth_xmit hands each frame to netif_rx on the
# sender's CPU and the sender's own softirq runs the whole receive path (packet taps, generic
# XDP), so a slow reader slows the sender instead of dropping and every reader "keeps up" with
# whatever the sender then manages. Here the receiving veth steers its frames by RPS
# (rx-0/rps_cpus) to READ_CPU's backlog, the sender is pinned to SEND_CPU and every reader
# (rampartd, FastNetMon) to READ_CPU: the sender runs at its own rate, the receive path and the
# reader share READ_CPU, and what they cannot take is dropped and counted, as on a mirror port.
# Where a frame can be dropped, per step:
#   backlog  READ_CPU's input queue was full (net.core.netdev_max_backlog, default 1000), before
#            any socket: /proc/net/softnet_stat column 2 over all CPUs (system-wide, so another
#            helper's traffic could add to it) and the sending veth's TX "dropped" (netif_rx
#            refused: this veth only); the same for every reader, no socket's loss
#   reader   the source's own loss, as the daemon counts it (PACKET_STATISTICS, XDP_STATISTICS,
#            DPDK's counters); FastNetMon exports none
# and the check: reader loss = sent - seen - backlog. seen is what the daemon's workers read
# (FastNetMon's fastnetmon_total_simple_packets_processed from its Prometheus endpoint), read
# when the sender stops ("queued" = sent - backlog - seen then, frames still in the ring) and
# again DRAIN_S later. A step counts as zero loss when nothing was lost anywhere (sent = seen)
# and the reader kept up: at most 0.1 s of the step's traffic still queued when the sender
# stopped (the rings' block retire timers are 10 ms for rampartd, 60 ms for FastNetMon), so a
# ring large enough to hold a whole step is not taken for speed.
# Per step also the reader process's own CPU time (user + system over its threads, /proc/PID/stat)
# per frame seen: a cost that does not depend on how fast the sender got, though softirq work is
# charged to whichever task it interrupts.
# Ring sizes as FastNetMon 1.2.4's afpacket_collector has them (64 blocks of 4 MiB per socket):
# afpacket ring_mb 256, block_kb 4096 per worker; libpcap's buffer 32 MiB (capture/pcap.c); AF_XDP
# 4096 UMEM chunks, RX ring 2048 (capture/afxdp.c).
# Prints each source's highest zero-loss rate, the sender's own top rate as the ceiling (same
# RPS setup, nothing reading), and the ratios to the ceiling and to FastNetMon, all from this run.
# BUILD dir as $1; STEP_S seconds per step (default 3); RATES (default "50000 100000 200000
# 300000 400000 0", 0 = as fast as the sender can); SOURCES (default all: pcap afpacket_x1
# afpacket_x2 afxdp_skb dpdk_tap dpdk_afpacket dpdk_mem fastnetmon); SEND_CPU 0, READ_CPU 1;
# NICE -15 for the sender and every reader (the machine is shared with other sessions).
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
REPO=$PWD
case $build in /*) ;; *) build=$REPO/$build ;; esac
DATA=${RAMPART_DATA:-$REPO/../shared/data}
PCAP=$DATA/mirror-attack-mix.pcap
STEP_S=${STEP_S:-3}
RATES=${RATES:-"50000 100000 200000 300000 400000 0"}
SOURCES=${SOURCES:-"pcap afpacket_x1 afpacket_x2 afxdp_skb dpdk_tap dpdk_afpacket dpdk_mem fastnetmon"}
SEND_CPU=${SEND_CPU:-0}
READ_CPU=${READ_CPU:-1}
DRAIN_S=${DRAIN_S:-1}
NICE=${NICE:--15} # sender and readers alike, so the other sessions on the machine take less of their CPUs
want() { case " $SOURCES " in *" $1 "*) return 0 ;; esac; return 1; }
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
# RPS: every frame the receiving veth gets is queued to READ_CPU's backlog and processed there
ip netns exec cb_rd sh -c "printf '%x' $((1 << READ_CPU)) >/sys/class/net/mirror0/queues/rx-0/rps_cpus" ||
	die "cannot set RPS on the receiving veth"

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
backlog_drops() { # frames refused before any socket: softnet_stat column 2 summed, the veth's TX dropped
	local sum=0 _cpu dropped _rest
	while read -r _cpu dropped _rest; do sum=$((sum + 16#$dropped)); done </proc/net/softnet_stat
	echo "$sum $(ip netns exec cb_tx cat /sys/class/net/mirror0/statistics/tx_dropped)"
}
reader_cpu_ms() { # user + system CPU time of the reader's process (all its threads), ms
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d\n", ($12 + $13) * 1000 / hz }' "/proc/$RD/stat"
}
send_step() { # send_step RATE: the sender on SEND_CPU; prints its line
	ip netns exec cb_tx taskset -c "$SEND_CPU" nice -n "$NICE" "$SEND" mirror0 "$PCAP" "$1" "$STEP_S"
}
steps() { # steps NAME TOTALS-FUNCTION: the rate steps against a running reader
	local name=$1 totals=$2 rate best=0 out sent pps seen lost counted queued f0 d0 f1 d1 fe s0 v0 s1 v1 c0 c1
	local cpu_ms=0 frames=0
	for rate in $RATES; do
		read -r f0 d0 < <($totals)
		c0=$(reader_cpu_ms)
		read -r s0 v0 < <(backlog_drops)
		out=$(send_step "$rate")
		read -r fe _ < <($totals)
		read -r s1 v1 < <(backlog_drops)
		sleep "$DRAIN_S"
		read -r f1 d1 < <($totals)
		c1=$(reader_cpu_ms)
		sent=$(echo "$out" | awk '{ print $2 }')
		pps=$(echo "$out" | grep -oE '[0-9]+ pps' | cut -d' ' -f1)
		seen=$((f1 - f0)) counted=$((d1 - d0)) lost=$((sent - seen)) queued=$((sent - (v1 - v0) - (fe - f0)))
		printf 'capture_rate: %-13s rate %8s: %s; seen %d, lost %d = backlog %d (softnet %d) + reader %d; reader counted %s; queued at stop %d\n' \
			"$name" "${rate/#0/max}" "$out" "$seen" "$lost" $((v1 - v0)) $((s1 - s0)) $((lost - (v1 - v0))) \
			"$([ "$totals" = fnm_totals ] && echo n/a || echo $counted)" "$queued"
		printf 'capture_rate: %-13s rate %8s: reader process CPU %d ms, %d ns per frame seen\n' "$name" "${rate/#0/max}" \
			$((c1 - c0)) $((seen > 0 ? (c1 - c0) * 1000000 / seen : 0))
		cpu_ms=$((cpu_ms + c1 - c0)) frames=$((frames + seen))
		[ "$lost" -eq 0 ] && [ "$counted" -eq 0 ] && [ "$queued" -le $((pps / 10)) ] && [ "$pps" -gt "$best" ] && best=$pps
	done
	echo "$name $best $((frames > 0 ? cpu_ms * 1000000 / frames : 0))" >>"$W/best"
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
	ip netns exec cb_rd taskset -c "$READ_CPU" nice -n "$NICE" "$build/rampartd" -c "$W/rampart.yaml" >"$W/$name.log" 2>&1 &
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
	ip netns exec cb_rd taskset -c "$READ_CPU" nice -n "$NICE" /usr/sbin/fastnetmon --configuration_file "$W/fastnetmon.conf" --log_file "$W/fnm.log" \
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

read -r s0 v0 < <(backlog_drops)
ceiling_out=$(send_step 0)
read -r s1 v1 < <(backlog_drops)
ceiling=$(echo "$ceiling_out" | grep -oE '[0-9]+ pps' | cut -d' ' -f1)
say "sender ceiling (sender on CPU $SEND_CPU, RPS to CPU $READ_CPU, nothing reading): $ceiling pps; backlog drops $((v1 - v0)) (softnet $((s1 - s0)))"
AFP_RING="ring_mb: 256, block_kb: 4096" # FastNetMon 1.2.4's 64 x 4 MiB per socket
want pcap && run_source pcap "  pcap: { interfaces: [mirror0] }"
want afpacket_x1 && run_source afpacket_x1 "  pcap: { interfaces: [] }
  afpacket: { interfaces: [mirror0], workers: 1, $AFP_RING }"
want afpacket_x2 && run_source afpacket_x2 "  pcap: { interfaces: [] }
  afpacket: { interfaces: [mirror0], workers: 2, $AFP_RING }"
want afxdp_skb && run_source afxdp_skb "  pcap: { interfaces: [] }
  afxdp: { interfaces: [mirror0], queues: [0], mode: skb }"
EAL='"--no-huge", "-m", "256", "--no-shconf", "--file-prefix=cbrate'$$'", "-l", "'$READ_CPU'", "--no-pci", "--no-telemetry"'
want dpdk_tap && run_source dpdk_tap "  pcap: { interfaces: [] }
  dpdk: { eal: [$EAL, \"--vdev=net_tap0,iface=cbtap0\"], ports: [net_tap0], rx_queues: 1, workers: 1 }" tap_mirror
want dpdk_afpacket && run_source dpdk_afpacket "  pcap: { interfaces: [] }
  dpdk: { eal: [$EAL, \"--vdev=net_af_packet0,iface=mirror0\"], ports: [net_af_packet0], rx_queues: 1, workers: 1 }"
# DPDK's own figure, no veth: net_pcap with infinite_rx=1 holds the capture in its mbuf pool and
# hands it over again and again; one worker decodes and counts (flow table, host counters) what
# it reads. Frames per second over MEM_S seconds.
if want dpdk_mem; then
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
fi
if ! want fastnetmon; then
	:
elif [ -x /usr/sbin/fastnetmon ]; then
	run_fastnetmon
	kill -TERM $RD; wait $RD 2>/dev/null; RD=
else
	say "FastNetMon is not installed (make bench-deps): no fastnetmon row"
fi
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
fnm=$(awk '$1 == "fastnetmon" { print $2 }' "$W/best")
fnm_ns=$(awk '$1 == "fastnetmon" { print $3 }' "$W/best")
while read -r name best ns; do
	printf 'capture_rate: %-13s highest zero-loss rate %8s pps = %s of the sender ceiling%s\n' "$name" "$best" \
		"$(awk -v b="$best" -v c="$ceiling" 'BEGIN { printf "%.2f", c ? b / c : 0 }')" \
		"$([ -n "$fnm" ] && [ "$name" != fastnetmon ] && awk -v b="$best" -v f="$fnm" 'BEGIN { printf ", %s x FastNetMon", f ? sprintf("%.2f", b / f) : "n/a" }')"
	printf 'capture_rate: %-13s reader process CPU per frame over all steps %6s ns%s\n' "$name" "$ns" \
		"$([ -n "$fnm_ns" ] && [ "$name" != fastnetmon ] && awk -v n="$ns" -v f="$fnm_ns" 'BEGIN { printf ", FastNetMon / this = %s", n ? sprintf("%.2f", f / n) : "n/a" }')"
done <"$W/best"
say "DPDK here reads virtual devices on a veth without hugepages; net_af_packet's uncounted loss is the capture's fragments its DEFRAG fanout discards (docs/CAPTURE.md); DPDK's own per-core figure is bench_dpdk_ring (net_ring fed from memory)"
