#!/bin/bash
# AF_XDP capture in SKB mode (veth has no zero-copy), real traffic, real BIRD and ClickHouse:
# tcpreplay plays the shared capture at its recorded speed (~10 s) out of namespace cx_rt into a
# mirror veth (mirror0) that rampartd in cx_rd reads with capture.afxdp (queue 0, mode skb). BIRD
# in cx_rt peers with rampartd over a separate link (veth0, IPv4 and IPv6 transport). Checks: the
# XSK socket read every frame of the capture; no ring, interface, descriptor or decode drop;
# exactly the five victims banned at BIRD as blackholes, no background host; every packet in
# ClickHouse flow rows; rampartctl stats, /api/v1/stats and /metrics show the per-worker drop
# counters at zero.
# Also: a config naming a missing interface, or native mode on a driver without native XDP, fails
# at start naming the key and the reason, and nothing starts.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make deps"
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=cx_rd NS_RT=cx_rt NET=81 DB=rampart_xdp
W=$LIB_TMP
CH_HTTP=24521 CH_TCP=24522 HTTP=127.0.0.1:24523
. "$REPO/tests/lib/capture_live.sh"
live_rig
conf() { live_conf "afxdp: { interfaces: [$1], queues: [0], mode: skb }"; }

# a missing interface: an error at start that names the key and the reason, and no daemon
live_check_missing_interface afxdp

# native mode on a driver without native XDP (loopback): an error naming the key, nothing left
conf lo | sed 's/mode: skb/mode: native/' >"$W/native.yaml"
ip netns exec $NS_RD timeout 20 "$RAMPARTD" -c "$W/native.yaml" >"$W/native.log" 2>&1
check "native mode on loopback stops the start naming capture.afxdp.mode and the reason" \
	grep -q "capture.afxdp.mode: native: lo: the driver cannot run XDP natively" "$W/native.log"
check "no XDP program left on loopback" sh -c "! ip -n $NS_RD link show lo | grep -q xdp"

conf mirror0 >"$W/rampart.yaml"
ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 10 grep -q 'afxdp mirror0 q0: capturing' "$W/rampartd.log" ||
	{ cat "$W/rampartd.log"; die "rampartd did not start its AF_XDP worker"; }
check "the start says which XDP mode it got" grep -q 'afxdp mirror0 q0: AF_XDP in skb (generic XDP), copy mode' "$W/rampartd.log"

live_bird_up

live_replay
sleep 2
"$RAMPARTCTL" -s "$SOCK" stats >"$W/stats"
grep "^capture" "$W/stats"
field() { grep "^capture afxdp mirror0 q0:" "$W/stats" | grep -oE " $1 [0-9]+" | awk '{ print $2 }'; }
f=$(field frames)
check "the XSK socket read all 21000 frames (read ${f:-0})" test "${f:-0}" -eq 21000
for c in kernel_drops ring_drops if_drops bad_blocks truncated malformed; do
	check "$c 0" test "$(field $c)" = 0
done

live_check_bans
live_check_flows
live_check_drop_metrics "afxdp mirror0 q0" 1
live_stop $RD_PID
if ! lib_summary; then
	cat "$W/stats"; tail -40 "$W/rampartd.log"; exit 1
fi
