#!/usr/bin/env bash
# NetFlow v9 and sFlow v5 through UDP, side by side with FastNetMon community 1.2.4 (Debian 12's
# `fastnetmon`): the same synthetic exporter (build/bench/bench_flows_udp send: NetFlow v9 with 45
# IPv4 records per datagram, sFlow with 13 raw-header samples per datagram at rate 1; correct
# sequence numbers; paced sendmmsg on core 1) feeds each collector on loopback inside a network
# namespace of our own (fs_fnm), rate stepped up, 2 s per step, until records are lost.
# FastNetMon's processed records come from its Prometheus counters and its kernel drops from
# /proc/net/udp; Rampart's from bench_flows_udp's own receiver (the daemon's listener path).
# Prints each step and the highest zero-loss rates as a ratio, per protocol.
# BUILD dir as $1. Ports, all inside fs_fnm: UDP 20901 (Rampart), 20902 (FastNetMon NetFlow),
# 20904 (FastNetMon sFlow); FastNetMon's Prometheus on TCP 20903.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
case $build in /*) ;; *) build=$PWD/$build ;; esac
B=$build/bench/bench_flows_udp
say() { echo "vs_fastnetmon_flows: $*"; }
die() { say "$*"; exit 1; }
[ -x "$B" ] || die "build $B first (make $B)"
[ -x /usr/sbin/fastnetmon ] || die "fastnetmon is not installed (RAMPART_EXTRA_PKGS=fastnetmon scripts/install-deps.sh)"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace)"

NS=fs_fnm
W=$(mktemp -d /tmp/rampart-vsfnm-flows.XXXXXX)
FPID=
cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null
ip netns add $NS || die "cannot create namespace $NS"
nsx() { ip netns exec $NS "$@"; }
nsx ip link set lo up

# The packaged configuration, with netflow on our port, the bench's hosts as networks, no ban, no
# capture interface, Prometheus on to read its counters.
printf '192.0.0.0/21\n' >"$W/networks"
: >"$W/whitelist"
sed -e "s|^netflow = .*|netflow = on|" -e "s|^sflow = .*|sflow = on|" -e "s|^sflow_port = .*|sflow_port = 20904|" \
	-e "s|^sflow_host = .*|sflow_host = 127.0.0.1|" -e "s|^netflow_port = .*|netflow_port = 20902|" \
	-e "s|^netflow_host = .*|netflow_host = 127.0.0.1|" -e "s|^interfaces = .*|interfaces = |" \
	-e "s|^networks_list_path = .*|networks_list_path = $W/networks|" \
	-e "s|^white_list_path = .*|white_list_path = $W/whitelist|" -e "s|^enable_api = .*|enable_api = off|" \
	-e "s|^prometheus = .*|prometheus = on|" -e "s|^prometheus_port = .*|prometheus_port = 20903|" \
	-e "s|^prometheus_host = .*|prometheus_host = 127.0.0.1|" -e "s|^pid_path = .*|pid_path = $W/pid|" \
	-e "s|^cli_stats_file_path = .*|cli_stats_file_path = $W/fnm.dat|" \
	-e "s|^cli_stats_ipv6_file_path = .*|cli_stats_ipv6_file_path = $W/fnm6.dat|" \
	-e "s|^disable_usage_report = .*|disable_usage_report = on|" -e "s|^enable_ban = .*|enable_ban = off|" \
	/etc/fastnetmon.conf >"$W/fastnetmon.conf"
nsx /usr/sbin/fastnetmon --configuration_file "$W/fastnetmon.conf" --log_file "$W/fastnetmon.log" \
	--disable_pid_logic >"$W/fastnetmon.out" 2>&1 &
FPID=$!
metric() { nsx curl -s --max-time 5 http://127.0.0.1:20903/metrics | awk -v k="$1" '$1 == k { print $2 }'; }
for _ in $(seq 1 50); do [ -n "$(metric fastnetmon_netflow_v9_total_flows)" ] && break; sleep 0.2; done
[ -n "$(metric fastnetmon_netflow_v9_total_flows)" ] || { tail "$W/fastnetmon.log"; die "FastNetMon did not come up"; }
# a socket's kernel drop counter (last column of /proc/net/udp) by port in hex
udp_drops() { nsx awk -v p=":$1\$" '$2 ~ p { print $NF }' /proc/net/udp; }

# fnm_steps PROTO PORT PORT_HEX METRIC: prints the steps, sets fnm_best
fnm_steps() {
	say "FastNetMon 1.2.4, $1 to port $2, 2 s per step (processed = $4)"
	printf '%12s %12s %12s %10s %12s\n' target/s sent/s processed lost kernel_drops
	fnm_best=0
	local r a b d0 d1 sent rate got lost drops
	for r in 100000 200000 300000 500000 750000 1000000 1500000 2000000 3000000; do
		a=$(metric $4) d0=$(udp_drops $3)
		read -r sent rate < <(nsx "$B" send $1 127.0.0.1 $2 $r 2)
		sleep 1.5 # FastNetMon's counters follow within a second
		b=$(metric $4) d1=$(udp_drops $3)
		got=$((b - a)) lost=$((sent - (b - a))) drops=$((d1 - d0))
		printf '%12s %12s %12s %10s %12s\n' $r $rate $got $lost $drops
		[ $lost -gt 0 ] || [ $drops -gt 0 ] && break
		fnm_best=$rate
	done
}
fnm_steps v9 20902 51A6 fastnetmon_netflow_v9_total_flows
fnm_v9=$fnm_best
# 1.2.4 exports no sFlow-specific counter: its processed-packets counter, during the sFlow steps only
fnm_steps sflow 20904 51A8 fastnetmon_total_simple_packets_processed
fnm_sflow=$fnm_best
kill "$FPID"; wait "$FPID" 2>/dev/null; FPID=

for p in v9 sflow; do
	say "Rampart (listener path, bench_flows_udp $p)"
	nsx "$B" $p 1 | tee "$W/rampart-$p.txt"
done
m() { awk -v x="$1" 'BEGIN { printf "%.2f", x / 1e6 }'; }
for p in v9 sflow; do
	rp=$(sed -n 's/^highest rate with zero records lost: \([0-9.]*\) M.*/\1/p' "$W/rampart-$p.txt" | awk '{ print $1 * 1e6 }')
	[ $p = v9 ] && f=$fnm_v9 || f=$fnm_sflow
	say "$p: highest zero-loss rate: Rampart $(m "$rp") M records/s, FastNetMon 1.2.4 $(m "$f") M records/s," \
		"ratio $(awk -v a="$rp" -v b="$f" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')"
done
