#!/bin/bash
# Live capture through libpcap: tcpreplay plays the shared capture at its recorded speed (~10 s)
# out of namespace rl_tx into a veth whose other end rampartd captures in namespace rl_rd, as on
# a mirror port. Exactly the five victims must be banned, no background host; the capture must
# have seen every frame; the daemon stops promptly on SIGTERM even with the link quiet.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make deps"

W=$LIB_TMP
netns_pair rl_rd rl_tx "10.78.0.1/24" "10.78.0.2/24" || die "cannot create the namespaces"
SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3600
capture:
  pcap:
    interfaces: [veth0]
storage:
  dir: $W/data
api:
  socket: $SOCK
  http: ""
CONF
ip netns exec rl_rd "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 10 grep -q "capturing" "$W/rampartd.log" || die "rampartd did not start capturing"

start=$SECONDS
ip netns exec rl_tx tcpreplay -q -i veth0 "$DATA/mirror-attack-mix.pcap" >"$W/tcpreplay.log" 2>&1 ||
	{ cat "$W/tcpreplay.log"; die "tcpreplay failed"; }
log "tcpreplay sent the capture in $((SECONDS - start)) s"
sleep 2
"$RAMPARTCTL" -s "$SOCK" stats >"$W/stats"
"$RAMPARTCTL" -s "$SOCK" bans >"$W/bans"
cat "$W/bans"
# the interfaces' own IPv6 neighbour discovery adds a few frames to the capture's 21000
frames=$(grep -oE 'frames [0-9]+' "$W/stats" | cut -d' ' -f2)
check "the capture saw all 21000 frames (saw $frames), none dropped by the kernel" \
	sh -c "[ ${frames:-0} -ge 21000 ] && [ ${frames:-0} -le 21100 ] && grep -q 'kernel_drops 0 ' '$W/stats'"
for v in $VICTIMS; do
	check "victim $v banned" grep -q " $v " "$W/bans"
done
check "exactly 5 active bans, no background host" grep -q "^5 active bans" "$W/bans"

kill -TERM $RD_PID
t0=$SECONDS
for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.1; done
wait $RD_PID; rc=$?
check "rampartd exits 0 within 5 s of SIGTERM on a quiet link" test $rc -eq 0 -a $((SECONDS - t0)) -le 5
if ! lib_summary; then
	cat "$W/stats"; tail -30 "$W/rampartd.log"; exit 1
fi
