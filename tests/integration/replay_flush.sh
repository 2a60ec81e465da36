#!/bin/bash
# Replay end flushes the mirror flow table (issue 13): rampartd replays the shared capture at full
# speed with the default flow timeouts (active 60 s, inactive 15 s, so no flow ends by itself
# during the replay) and file storage. Within a few seconds of the end, while the daemon still
# runs: the flow table is empty, every flow was exported and written, and the flow files hold
# all 21000 packets of the capture. Without the flush they waited for the inactive timeout or
# the shutdown. No root, no network (~5 s).
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries

work_dir rf

SOCK=$WORK/rampart.sock
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
  batch_ms: 200
api:
  socket: $SOCK
  http: ""
CONF
"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
start=$(date +%s)
replay_max "$DATA/mirror-attack-mix.pcap"

# flow rows of the files, 106 bytes each plus the writer's 8-byte batch_id: the packets they hold
packets() {
	/usr/bin/python3 - "$WORK"/data/flows-*.rowbinary <<'PY'
import struct, sys
n = 0
for f in sys.argv[1:]:
    b = open(f, 'rb').read()
    assert len(b) % 114 == 0, (f, len(b))
    for i in range(0, len(b), 114):
        n += struct.unpack_from('<Q', b, i + 58)[0]
print(n)
PY
}
all_stored() {
	ctl stats >"$WORK/stats" || return 1
	grep -q 'flows_active 0 flows_exported [1-9]' "$WORK/stats" || return 1
	exported=$(awk '/^capture / { for (i = 1; i < NF; i++) if ($i == "flows_exported") print $(i + 1) }' "$WORK/stats")
	written=$(awk '/^storage / { for (i = 1; i < NF; i++) if ($i == "written") { print $(i + 1); exit } }' "$WORK/stats")
	[ "$exported" = "$written" ] && [ "$(packets 2>/dev/null)" = 21000 ]
}
check "every flow of the replay stored while rampartd runs (21000 packets in the files)" wait_for 5 all_stored
cat "$WORK/stats" | grep -E '^capture|^storage '
check "within the inactive timeout of the end (not by expiry)" test $(($(date +%s) - start)) -lt 14
check "rampartd still running" kill -0 "$PID"
check "the flush is logged as the end of the replay" grep -q 'replay finished' "$WORK/rampartd.log"

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
check "no row written twice at stop (still 21000 packets)" test "$(packets)" = 21000
grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log" && fail "sanitizer report in the daemon's log"
[ "$T_FAILS" -ne 0 ] && { echo "--- log"; grep -v ' debug: ' "$WORK/rampartd.log" | tail -20; }
finish
