#!/usr/bin/env bash
# Mirror capture rate: the shared capture sent in a loop by bench/capture_send (PACKET_TX_RING,
# PACKET_QDISC_BYPASS) out of namespace cb_tx into a veth that rampartd reads in cb_rd, stepping
# the rate, for each capture source: pcap, afpacket x1, afpacket x2, afxdp (skb mode: veth has no
# zero-copy). For each step: sent (the sender's count), seen (frames the daemon's workers read),
# lost = sent - seen, and the loss the daemon counted (kernel/ring drops). Prints each source's
# highest rate with zero loss, and the sender's own top rate as the ceiling, all from this run.
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
run_source() { # run_source NAME CAPTURE_YAML
	local name=$1 capture=$2 rate best=0 out sent seen lost counted f0 d0 f1 d1
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
	sleep 0.5
	for rate in $RATES; do
		read -r f0 d0 < <(totals)
		out=$(ip netns exec cb_tx "$SEND" mirror0 "$PCAP" "$rate" "$STEP_S")
		sleep 1
		read -r f1 d1 < <(totals)
		sent=$(echo "$out" | awk '{ print $2 }')
		seen=$((f1 - f0)) counted=$((d1 - d0)) lost=$((sent - seen))
		printf 'capture_rate: %-12s rate %8s: %s; seen %d, lost %d, daemon counted %d\n' "$name" \
			"${rate/#0/max}" "$out" "$seen" "$lost" "$counted"
		[ "$lost" -eq 0 ] && [ "$counted" -eq 0 ] && best=$(echo "$out" | grep -oE '[0-9]+ pps' | cut -d' ' -f1)
	done
	kill -TERM $RD; wait $RD 2>/dev/null; RD=
	echo "$name $best" >>"$W/best"
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
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
while read -r name best; do
	printf 'capture_rate: %-12s highest zero-loss rate %8s pps = %s of the sender ceiling\n' "$name" "$best" \
		"$(awk -v b="$best" -v c="$ceiling" 'BEGIN { printf "%.2f", c ? b / c : 0 }')"
done <"$W/best"
say "FastNetMon is not in this run (not yet wired into this script); bench/vs_fastnetmon.sh compares detection"
