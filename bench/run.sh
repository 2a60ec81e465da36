#!/usr/bin/env bash
# Runs every benchmark on one core (taskset -c 0) and prints its figures. BUILD dir as $1.
# The shared captures come from $RAMPART_DATA or ../shared/data next to the repository.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
data=${RAMPART_DATA:-../shared/data}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
for b in "$build"/bench/bench_*; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	args=()
	case $name in
	bench_pipeline) args=("$data/mirror-attack-mix.pcap" 3) ;;
	# the DPDK worker fed through net_ring0; it pins itself (worker CPU 1, feeder CPU 0)
	bench_dpdk_ring) args=("$data/mirror-attack-mix.pcap" 3) ;;
	bench_flows) args=("$data/flows") ;;
	# the writer's own speed: rows queued first, then written to files
	bench_storage) args=(--rows 1000000 --events 100 --prefill --queue 1048576) ;;
	# the ban state file: 100 000 API routes + 1 000 bans, written where a real one would be (disk)
	bench_banstate) args=(100000 1000 /tmp) ;;
	esac
	echo "=== $name ${args[*]}"
	taskset -c 0 "$b" "${args[@]}" || echo "$name failed"
done
for s in bench/*.sh; do
	[ -f "$s" ] || continue
	case "$(basename "$s")" in run.sh) continue ;; esac
	echo "=== $s"
	bash "$s" "$build" || echo "$s failed"
done
