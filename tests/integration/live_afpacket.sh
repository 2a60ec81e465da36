#!/bin/bash
# AF_PACKET capture with fanout, real traffic, real BIRD and ClickHouse: tcpreplay plays the shared
# capture at its recorded speed (~10 s) out of namespace cf_rt into a mirror veth (mirror0) that
# rampartd in cf_rd reads with capture.afpacket (2 workers, hash fanout). BIRD in cf_rt peers with
# rampartd over a separate link (veth0, IPv4 and IPv6 transport). Checks: both fanout members
# read frames and together every frame of the capture; no ring, interface or decode drop;
# exactly the five victims banned at BIRD as blackholes, no background host; every packet in
# ClickHouse flow rows; rampartctl stats, /api/v1/stats and /metrics show the per-worker drop
# counters at zero.
# Also: a config naming a missing interface fails at start naming the key, and nothing starts.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make deps"
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=cf_rd NS_RT=cf_rt NET=79 DB=rampart_afp
W=$LIB_TMP
CH_HTTP=24511 CH_TCP=24512 HTTP=127.0.0.1:24513
. "$REPO/tests/lib/capture_live.sh"
live_rig
# the workers pinned (capture.afpacket.cpus) the other way round from their order, so that a
# worker left where the scheduler put it, or pinned to the wrong entry, shows
if [ "$(nproc --all)" -ge 2 ]; then CPUS="1, 0"; else CPUS="0"; fi
conf() { live_conf "afpacket: { interfaces: [$1], workers: 2, fanout: hash, ring_mb: 16, block_kb: 256, cpus: [$CPUS] }"; }

# a missing interface: an error at start that names the key and the reason, and no daemon
live_check_missing_interface afpacket

conf mirror0 >"$W/rampart.yaml"
ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 10 sh -c "[ \$(grep -c 'afpacket mirror0 #[12]: capturing' '$W/rampartd.log') -eq 2 ]" ||
	{ cat "$W/rampartd.log"; die "rampartd did not start its two AF_PACKET workers"; }
live_bird_up

live_replay
# $CPUS as words: "1, 0" -> 1 0; one CPU: both workers on it
if [ "$CPUS" = 0 ]; then live_check_worker_cpus $RD_PID 0 0; else live_check_worker_cpus $RD_PID 1 0; fi
sleep 2
"$RAMPARTCTL" -s "$SOCK" stats >"$W/stats"
grep "^capture" "$W/stats"
field() { grep "^capture afpacket mirror0 #$1:" "$W/stats" | grep -oE " $2 [0-9]+" | awk '{ print $2 }'; }
f1=$(field 1 frames) f2=$(field 2 frames)
check "both fanout members read frames ($f1 + $f2)" test "${f1:-0}" -gt 0 -a "${f2:-0}" -gt 0
check "together they read all 21000 frames (read $((${f1:-0} + ${f2:-0})))" test $((${f1:-0} + ${f2:-0})) -eq 21000
for k in 1 2; do
	for c in kernel_drops ring_drops if_drops bad_blocks truncated malformed; do
		check "worker #$k: $c 0" test "$(field $k $c)" = 0
	done
done

live_check_bans
live_check_flows
live_check_drop_metrics "afpacket mirror0 #[12]" 2
live_stop $RD_PID
if ! lib_summary; then
	cat "$W/stats"; tail -40 "$W/rampartd.log"; exit 1
fi
