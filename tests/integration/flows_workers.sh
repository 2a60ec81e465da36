#!/bin/bash
# Several workers on one listen port (capture.udp_workers): each worker has its own SO_REUSEPORT
# socket on the same address and its own exporter state. The kernel picks the socket by a hash of
# the 4-tuple, so one exporter always reaches the same worker and its NetFlow v9 templates are
# where its data is.
#
# 16 synthetic NetFlow v9 exporters (127.0.0.2..17, each from its own source port) each send a
# template then 50 datagrams of 10 records to one daemon with udp_workers: 2 on 127.0.0.1:22000.
# Proven: both workers received datagrams; each exporter is known to exactly one worker; the sums
# over the workers are exactly 16 x 51 datagrams and 16 x 500 records, with no template miss, no
# sequence gap, no kernel drop and no malformed datagram; /api/v1/stats shows the same totals.
# Ports: UDP 22000, HTTP 22001.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

W=$(mktemp -d /tmp/rampart-workers.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
thresholds: { incoming: { pps: 100000000 } }
detection: { max_hosts: 65536 }
capture:
  pcap: { interfaces: [] }
  netflow: { listen: ["127.0.0.1:22000"] }
  udp_workers: 2
  flow_spread: 0
storage: { dir: $W/data, batch_ms: 200 }
api: { socket: $W/rampart.sock, http: "127.0.0.1:22001" }
CONF
"$RAMPARTD" -c "$W/rampart.yaml" >"$W/log" 2>&1 &
PID=$!
wait_for 10 sh -c "[ \$(grep -c listening '$W/log') -eq 2 ]" || { cat "$W/log"; die "two listeners did not start"; }

python3 - 22000 <<'PY' || fail "the sender failed"
import socket, struct, sys, time
port = int(sys.argv[1])
EXPORTERS, DGRAMS, RECS = 16, 50, 10
# IN_BYTES, IN_PKTS, PROTOCOL, L4_SRC_PORT, IPV4_SRC_ADDR, L4_DST_PORT, IPV4_DST_ADDR,
# LAST_SWITCHED, FIRST_SWITCHED
fields = [(1, 4), (2, 4), (4, 1), (7, 2), (8, 4), (11, 2), (12, 4), (21, 4), (22, 4)]
tmpl = struct.pack('>HH', 256, len(fields)) + b''.join(struct.pack('>HH', t, l) for t, l in fields)
tmpl_set = struct.pack('>HH', 0, 4 + len(tmpl)) + tmpl
socks = []
for e in range(EXPORTERS):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.%d' % (2 + e), 0))
    socks.append(s)
uptime = 1000000
def header(count, seq):
    now = time.time()
    return struct.pack('>HHIIII', 9, count, uptime, int(now), seq, 7)
for e, s in enumerate(socks):
    s.sendto(header(1, 0) + tmpl_set, ('127.0.0.1', port))
time.sleep(0.2)
for d in range(DGRAMS):
    for e, s in enumerate(socks):
        recs = b''.join(struct.pack('>IIBHIHIII', 1000, 10, 17, 40000 + r, 0xc6336400 + e,
                                    53, 0xc0000200 + r, uptime - 10, uptime - 10) for r in range(RECS))
        pad = (-(4 + len(recs))) % 4
        data_set = struct.pack('>HH', 256, 4 + len(recs) + pad) + recs + b'\0' * pad
        s.sendto(header(RECS, 1 + d) + data_set, ('127.0.0.1', port))
    time.sleep(0.005)
PY
sleep 1
"$RAMPARTCTL" -s "$W/rampart.sock" exporters >"$W/exporters" || fail "rampartctl exporters"
curl -s http://127.0.0.1:22001/api/v1/stats >"$W/stats.json" || fail "GET /api/v1/stats"
cat "$W/exporters"

for k in 1 2; do
	d=$(sed -n "s/^listener netflow 127.0.0.1:22000 #$k: datagrams \([0-9]*\) .*/\1/p" "$W/exporters")
	say "worker #$k: ${d:-0} datagrams"
	check "worker #$k received datagrams" test "${d:-0}" -gt 0
done
check "each of the 16 exporters on exactly one worker" \
	sh -c "[ \$(awk '\$1 ~ /^127\\.0\\.0\\./ { print \$1 }' '$W/exporters' | sort | uniq | wc -l) -eq 16 ] &&
	       [ \$(awk '\$1 ~ /^127\\.0\\.0\\./' '$W/exporters' | wc -l) -eq 16 ]"
sums=$(awk '$1 ~ /^127\.0\.0\./ { d += $5; r += $6; m += $7; t += $8; g += $9 } END { print d, r, m, t, g }' "$W/exporters")
say "exporter sums (datagrams records malformed tmpl_miss seq_gaps): $sums"
check "totals exact: 816 datagrams, 8000 records, nothing malformed, missed or lost" test "$sums" = "816 8000 0 0 0"
drops=$(sed -n 's/^listener .* kernel_drops \([0-9]*\) .*/\1/p' "$W/exporters" | paste -sd+ | bc)
check "no kernel drops (${drops:-?})" test "${drops:-1}" -eq 0
check "/api/v1/stats: listener datagrams sum to 816" python3 - "$W/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ls = [w for w in s['capture'] if 'listener' in w]
assert len(ls) == 2, ls
assert sum(w['listener']['datagrams'] for w in ls) == 816
assert sum(e['records'] for w in ls for e in w['listener']['exporters']) == 8000
assert all(w['listener']['kernel_drops'] == 0 for w in ls)
PY
kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
finish
