#!/bin/bash
# A flow record is counted over the time it lasted, not at the instant it arrives
# (capture.flow_spread): a router exporting a steady 1000 pps as one 2-s flow record every 2 s
# must read as 1000 pps, not as silence and a 20000-pps spike in one 100-ms tick.
#
# A synthetic NetFlow v5 exporter (python, below) sends, every 2 s for 10 s, one record per host
# covering the last 2 s (First = Last - 2000 ms): 192.0.2.50 at a steady 1000 pps and 192.0.2.60
# at 2500 pps. Threshold 1500 pps. Two daemons get the same datagrams:
#   - flow_spread 4 s: .60 is banned, .50 is not, and .50's peak measured rate stays within
#     1000 +- 30%;
#   - flow_spread 0 (the control: all at receipt): .50's 2000 packets land in one tick, its
#     measured rate overshoots the threshold and it is banned: the false positive spreading
#     prevents. If this ever stops happening the test no longer shows anything and fails.
# Ports: UDP 20060 and 20061.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

W=$(mktemp -d /tmp/rampart-spread.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

for spread in 4 0; do
	port=$((20060 + (spread == 0)))
	mkdir -p "$W/s$spread"
	cat >"$W/s$spread/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
thresholds: { incoming: { pps: 1500 } }
detection: { max_hosts: 65536 }
capture:
  pcap: { interfaces: [] }
  netflow: { listen: ["127.0.0.1:$port"] }
  flow_spread: $spread
storage: { dir: $W/s$spread/data, batch_ms: 200 }
api: { socket: $W/s$spread/rampart.sock, http: "" }
CONF
	"$RAMPARTD" -c "$W/s$spread/rampart.yaml" >"$W/s$spread/log" 2>&1 &
	PIDS+=($!)
done
for spread in 4 0; do
	wait_for 10 grep -q listening "$W/s$spread/log" || { cat "$W/s$spread/log"; die "no listener"; }
done

python3 - 20060 20061 <<'PY' &
import socket, struct, sys, time
ports = [int(p) for p in sys.argv[1:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
hosts = [(bytes([192, 0, 2, 50]), 1000), (bytes([192, 0, 2, 60]), 2500)]
t0 = time.monotonic()
seq = 0
for i in range(1, 6):
    time.sleep(max(0, t0 + 2 * i - time.monotonic()))
    uptime = 100000 + 2000 * i
    now = time.time()
    hdr = struct.pack('>HHIIIIBBH', 5, len(hosts), uptime, int(now), int(now % 1 * 1e9), seq, 0, 0, 0)
    recs = b''
    for n, (dst, pps) in enumerate(hosts):
        pk = pps * 2
        recs += struct.pack('>4s4s4sHHIIIIHHBBBBHHBBH', bytes([198, 51, 100, 1 + n]), dst, bytes(4), 1, 2,
                            pk, pk * 100, uptime - 2000, uptime, 40000, 80, 0, 0, 17, 0, 0, 0, 24, 24, 0)
    seq += len(hosts)
    for p in ports:
        s.sendto(hdr + recs, ('127.0.0.1', p))
PY
SENDER=$!
(
	while :; do
		for spread in 4 0; do
			"$RAMPARTCTL" -s "$W/s$spread/rampart.sock" top in pps 5 >>"$W/s$spread/top" 2>/dev/null
		done
		sleep 0.1
	done
) &
POLLER=$!
wait $SENDER || fail "the sender failed"
sleep 1
kill $POLLER; wait $POLLER 2>/dev/null

peak() { awk -v h="$2" '$1 == h && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$W/s$1/top"; }
for spread in 4 0; do
	"$RAMPARTCTL" -s "$W/s$spread/rampart.sock" bans >"$W/s$spread/bans"
	"$RAMPARTCTL" -s "$W/s$spread/rampart.sock" exporters >"$W/s$spread/exporters"
	say "flow_spread $spread: peak pps 192.0.2.50 $(peak $spread 192.0.2.50), 192.0.2.60 $(peak $spread 192.0.2.60)"
	check "flow_spread $spread: 5 datagrams, 10 records, no sequence gap" \
		awk '$1 == "127.0.0.1" { f = ($5 == 5 && $6 == 10 && $9 == 0) } END { exit !f }' "$W/s$spread/exporters"
	check "flow_spread $spread: 192.0.2.60 (2500 pps) banned" grep -q " 192.0.2.60/32 " "$W/s$spread/bans"
done
p=$(peak 4 192.0.2.50)
check "flow_spread 4: 192.0.2.50 (1000 pps) not banned" sh -c "! grep -q ' 192.0.2.50/32 ' '$W/s4/bans'"
check "flow_spread 4: 192.0.2.50 measured at most 1300 pps (peak $p)" test "$p" -le 1300
check "flow_spread 4: 192.0.2.50 measured at least 700 pps (peak $p)" test "$p" -ge 700
check "control, flow_spread 0: the same records read as a burst and ban 192.0.2.50" \
	grep -q " 192.0.2.50/32 " "$W/s0/bans"
for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null; done
PIDS=()
finish
