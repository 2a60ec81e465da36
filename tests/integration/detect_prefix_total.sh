#!/bin/bash
# Per-prefix totals (issue 5, carpet bombing): a generated capture (tests/tools/mkattacks.py
# carpet16) bombs 10.20.5.0/24 inside the customer 10.20.0.0/16 with 200 hosts at 40 pps each
# (8000 pps over the /24, every host far under its 500 pps), while 10.20.6.0/24 and 10.20.7.0/24
# carry 1000 pps each. The group sums per /24 (total_scope: prefix, total_prefix_length 24) with a
# 3000 pps total: exactly 10.20.5.0/24 is banned, not the /16 (whose sum, 10 000 pps, a group
# scope would have banned), not the other /24s, and no single host is attacked.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

work_dir dp

/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$WORK/c16.pcap" carpet16 >/dev/null ||
	die "the capture generator failed"
SOCK=$WORK/rampart.sock
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, 10.20.0.0/16]
thresholds:
  incoming: { pps: 500 }
hostgroups:
  - name: customer
    prefixes: [10.20.0.0/16]
    thresholds: { incoming: { pps: 500 } }
    total: { incoming: { pps: 3000 } }
    total_scope: prefix
    total_prefix_length: { ipv4: 24 }
detection:
  ban_time: 60
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: ""
CONF

"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
replay_max "$WORK/c16.pcap"
ctl attacks >"$WORK/attacks" || fail "attacks"
ctl bans >"$WORK/bans" || fail "bans"

check "10.20.5.0/24 banned (incoming)" \
	awk '$2 == "10.20.5.0/24" && $3 == "incoming" { f = 1 } END { exit !f }' "$WORK/bans"
check "exactly one ban" test "$(awk '$2 ~ /\// { n++ } END { print n + 0 }' "$WORK/bans")" = 1
check "the /16 not banned" awk '$2 == "10.20.0.0/16" { f = 1 } END { exit f }' "$WORK/bans"
check "one attack in all (no host, no other prefix)" \
	test "$(awk '/^[0-9]+ attacks$/ { print $1 }' "$WORK/attacks")" = 1
check "the ban is logged as a prefix ban" grep -q "ban 10.20.5.0/24 incoming" "$WORK/rampartd.log"

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log" && fail "sanitizer report in the daemon's log"
[ "$T_FAILS" -ne 0 ] && { echo "--- bans"; cat "$WORK/bans"; echo "--- attacks"; cat "$WORK/attacks"; echo "--- log"; tail -30 "$WORK/rampartd.log"; }
finish
