#!/bin/bash
# A full host table still sees attacks (issue 13): a generated capture (tests/tools/mkattacks.py
# churn) sends one packet each to 30000 new IPv6 destinations over 6 s, 5000 per second, against a
# 1024-host table, and from t = 3 s floods 192.0.2.30 (never seen before) at 5000 pps, 10x its
# 500 pps limit, while the churn goes on. Checks: 192.0.2.30 is banned, nothing else; the engine
# pushed quiet hosts out (stats "pushed_out", /metrics rampart_hosts_pushed_out_total) and its
# table stayed at 1024; what found no room is in hosts_overflow per direction (stats and
# /metrics, with the direction label). No root, no network (~10 s).
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

work_dir ft

/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$WORK/churn.pcap" churn >/dev/null ||
	die "the capture generator failed"
SOCK=$WORK/rampart.sock
HTTP=127.0.0.1:24751
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 60
  max_hosts: 1024
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: "$HTTP"
CONF
"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
replay_max "$WORK/churn.pcap"
ctl bans >"$WORK/bans" || fail "bans"
ctl stats >"$WORK/stats" || fail "stats"
curl -sS "http://$HTTP/metrics" >"$WORK/metrics" || fail "metrics"
cat "$WORK/bans"
grep -E '^detect:|hosts_overflow' "$WORK/stats"
grep -E '^rampart_hosts_(overflow|pushed)' "$WORK/metrics"

check "192.0.2.30 banned while the churn goes on" awk '$2 == "192.0.2.30/32" { f = 1 } END { exit !f }' "$WORK/bans"
check "nothing else banned" test "$(awk '$2 ~ /\// { n++ } END { print n + 0 }' "$WORK/bans")" = 1
check "the table stayed at its size (1024)" grep -Eq '^detect: hosts 1024 of 1024 ' "$WORK/stats"
check "quiet hosts pushed out (stats)" awk '/^detect:/ { for (i = 1; i < NF; i++) if ($i == "pushed_out") n = $(i + 1) } END { exit !(n > 20000) }' "$WORK/stats"
check "pushed out in /metrics" awk '$1 == "rampart_hosts_pushed_out_total" { exit !($2 > 20000) }' "$WORK/metrics"
check "hosts_overflow per direction in stats" grep -Eq '^detect: .* hosts_overflow_in [0-9]+ hosts_overflow_out [0-9]+$' "$WORK/stats"
check "hosts_overflow per direction in /metrics" sh -c \
	"grep -q '^rampart_hosts_overflow_total{source=\"detect\",direction=\"incoming\"} [0-9]' '$WORK/metrics' &&
	 grep -q '^rampart_hosts_overflow_total{source=\"detect\",direction=\"outgoing\"} [0-9]' '$WORK/metrics'"

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log" && fail "sanitizer report in the daemon's log"
[ "$T_FAILS" -ne 0 ] && { echo "--- log"; grep -v ' debug: ' "$WORK/rampartd.log" | tail -20; }
finish
