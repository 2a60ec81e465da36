#!/usr/bin/env bash
# NetFlow v9 through UDP, side by side with FastNetMon community 1.2.4 (Debian 12's `fastnetmon`):
# the same synthetic exporter (build/bench/bench_flows_udp send: 45 IPv4 records per datagram,
# correct sequence numbers, paced sendmmsg on core 1) feeds each collector on loopback inside a
# network namespace of our own (fs_fnm), rate stepped up, 2 s per step, until records are lost.
# FastNetMon's processed flows come from its Prometheus counter fastnetmon_netflow_v9_total_flows
# and its kernel drops from /proc/net/udp; Rampart's from bench_flows_udp's own receiver (the
# daemon's listener path). Prints each step and the highest zero-loss rates as a ratio.
# BUILD dir as $1. Ports: UDP 20901/20902, FastNetMon's Prometheus TCP 20903, all inside fs_fnm.
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
sed -e "s|^netflow = .*|netflow = on|" -e "s|^netflow_port = .*|netflow_port = 20902|" \
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
# the socket's kernel drop counter (last column of /proc/net/udp), port 20902 = 0x51A6
udp_drops() { nsx awk '$2 ~ /:51A6$/ { print $NF }' /proc/net/udp; }

say "FastNetMon 1.2.4, NetFlow v9, 45 records/datagram, 2 s per step"
printf '%12s %12s %12s %10s %12s\n' target/s sent/s processed lost kernel_drops
fnm_best=0
for r in 100000 200000 300000 500000 750000 1000000 1500000 2000000 3000000; do
	a=$(metric fastnetmon_netflow_v9_total_flows) d0=$(udp_drops)
	read -r sent rate < <(nsx "$B" send v9 127.0.0.1 20902 $r 2)
	sleep 1.5 # FastNetMon's counters follow within a second
	b=$(metric fastnetmon_netflow_v9_total_flows) d1=$(udp_drops)
	got=$((b - a)) lost=$((sent - (b - a))) drops=$((d1 - d0))
	printf '%12s %12s %12s %10s %12s\n' $r $rate $got $lost $drops
	[ $lost -gt 0 ] || [ $drops -gt 0 ] && break
	fnm_best=$rate
done
kill "$FPID"; wait "$FPID" 2>/dev/null; FPID=

say "Rampart (listener path, bench_flows_udp v9)"
nsx "$B" v9 1 | tee "$W/rampart.txt"
rp_best=$(sed -n 's/^highest rate with zero records lost: \([0-9.]*\) M.*/\1/p' "$W/rampart.txt" | awk '{ print $1 * 1e6 }')
say "highest zero-loss rate: Rampart $(awk -v x="$rp_best" 'BEGIN { printf "%.2f", x / 1e6 }') M records/s," \
	"FastNetMon 1.2.4 $(awk -v x="$fnm_best" 'BEGIN { printf "%.2f", x / 1e6 }') M records/s," \
	"ratio $(awk -v a="$rp_best" -v b="$fnm_best" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')"
