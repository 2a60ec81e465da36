#!/usr/bin/env bash
# Runs every benchmark and prints its figures. BUILD dir as $1.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
for b in "$build"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "=== $(basename "$b")"
	taskset -c 0 "$b" || echo "$(basename "$b") failed"
done
for s in bench/*.sh; do
	[ -f "$s" ] || continue
	case "$(basename "$s")" in run.sh) continue ;; esac
	echo "=== $s"
	bash "$s" "$build" || echo "$s failed"
done
