#!/bin/bash
# Replays the shared mirror capture and checks what an operator sees of each attack: the kind the
# fingerprint gives (`rampartctl attack ID`) for every victim, and, with a FastNetMon-style notify
# script configured, that the script is called on every ban and unban with FastNetMon's
# arguments (IP incoming|outgoing PPS ban|unban) and the details on stdin; and that the webhook
# gets every ban and unban as JSON, retried through a receiver that fails its first two POSTs.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries

WORK=$(mktemp -d /tmp/rampart-fp.XXXXXX)
PID=
HOOK=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "$HOOK" ] && kill "$HOOK" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

SOCK=$WORK/rampart.sock
mkdir -p "$WORK/calls"
cat >"$WORK/notify.sh" <<'SCRIPT'
#!/bin/sh
# one file per call: argv on the first line, stdin after it
f=$(mktemp "$NOTIFY_DIR/call.XXXXXX")
echo "$@" >"$f"
cat >>"$f"
SCRIPT
chmod +x "$WORK/notify.sh"
# The webhook receiver, on loopback at a port the kernel picks: 500 for the first two POSTs.
cat >"$WORK/hook.py" <<'PY'
import http.server, sys
out, portfile = sys.argv[1], sys.argv[2]
seen = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen[0] += 1
        code = 500 if seen[0] <= 2 else 200
        if code == 200:
            with open(out, "ab") as f:
                f.write(body + b"\n")
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
/usr/bin/python3 "$WORK/hook.py" "$WORK/hook.jsonl" "$WORK/hook.port" &
HOOK=$!
wait_for 10 test -s "$WORK/hook.port" || die "webhook receiver did not start"
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 5
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: ""
actions:
  notify_script: $WORK/notify.sh
  webhook_url: "http://127.0.0.1:$(cat "$WORK/hook.port")/rampart"
  webhook_retries: 3
  webhook_timeout: 2
CONF

"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
replay_max "$DATA/mirror-attack-mix.pcap" env NOTIFY_DIR="$WORK/calls"
ctl attacks >"$WORK/attacks" || fail "attacks"
# victim -> the kind its fingerprint must show
for pair in 192.0.2.10/32=ntp_amplification 192.0.2.20/32=syn_flood 192.0.2.30/32=icmp_flood \
	2001:db8:10::53/128=udp_flood 192.0.2.40/32=fragments; do
	v=${pair%%=*} kind=${pair#*=}
	id=$(awk -v v="$v" '$2 == v { print $1; exit }' "$WORK/attacks")
	[ -n "$id" ] || { fail "no attack on $v"; continue; }
	ctl attack "$id" >"$WORK/attack.$id" || { fail "attack $id"; continue; }
	check "$v: $kind" grep -q "^kind: $kind\$" "$WORK/attack.$id"
	case $kind in
	ntp_amplification) check "$v: top source port 123" grep -q "^top source ports (packets at least..at most): 123 " "$WORK/attack.$id" ;;
	udp_flood) check "$v: top destination port 53" grep -q "^top destination ports (packets at least..at most): 53 " "$WORK/attack.$id" ;;
	syn_flood) check "$v: top destination port 80" grep -q "^top destination ports (packets at least..at most): 80 " "$WORK/attack.$id" ;;
	esac
done
check "attack with a bad id is an error" sh -c "! \"$RAMPARTCTL\" -s $SOCK attack 999999"

if [ "${SKIP_NOTIFY:-}" = "" ]; then
	# ban_time 5 s: every victim is unbanned within 5 s of capture clock after the end of its attack
	wait_for 20 sh -c "[ \$(grep -l ' unban\$' '$WORK'/calls/call.* 2>/dev/null | wc -l) -ge 5 ]" ||
		fail "not every unban reached the script"
	for v in $VICTIMS; do
		ip=${v%/*}
		check "notify: $ip ban" sh -c "grep -Eq '^$ip incoming [0-9]+ ban\$' '$WORK'/calls/call.*"
		check "notify: $ip unban" sh -c "grep -Eq '^$ip incoming [0-9]+ unban\$' '$WORK'/calls/call.*"
	done
	n=$(cat "$WORK"/calls/call.* | grep -Ec '^[0-9a-f.:]+ (incoming|outgoing) [0-9]+ (ban|unban)$')
	[ "$n" -eq 10 ] && ok "10 calls (5 bans, 5 unbans)" || fail "$n script calls, want 10"
	f=$(grep -l '^192.0.2.10 incoming [0-9]* ban$' "$WORK"/calls/call.* | head -1)
	# at the ban the class mix of the rates is known, not yet the source ports
	check "details on stdin: address, kind, direction" sh -c "grep -q '^IP: 192.0.2.10\$' '$f' &&
		grep -q '^Attack type: udp_flood\$' '$f' && grep -q '^Attack direction: incoming\$' '$f'"
	wait_for 10 sh -c "[ \$(wc -l <'$WORK/hook.jsonl') -ge 10 ]" || fail "not every event reached the webhook"
	check "webhook: 10 JSON events, a ban and an unban for each victim" /usr/bin/python3 - "$WORK/hook.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
want = {(ip, a) for ip in ("192.0.2.10", "192.0.2.20", "192.0.2.30", "192.0.2.40", "2001:db8:10::53") for a in ("ban", "unban")}
got = {(e["ip"], e["action"]) for e in ev}
assert len(ev) == 10 and got == want, (len(ev), got ^ want)
assert all(e["direction"] == "incoming" and e["attack_id"] > 0 for e in ev)
PY
	check "webhook retried the failed POSTs" sh -c "\"$RAMPARTCTL\" -s $SOCK stats | grep -Eq 'webhook: queued 10 sent 10 retried [2-9] failed 0'"
	check "notify counters in stats" sh -c "\"$RAMPARTCTL\" -s $SOCK stats | grep -q 'notify: started 10 ok 10 failed 0'"
fi

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log"; then
	fail "sanitizer report in the daemon's log"
fi
[ "$T_FAILS" -ne 0 ] && { echo "--- rampartd log"; tail -40 "$WORK/rampartd.log"; ls "$WORK/calls"; head -3 "$WORK"/calls/* 2>/dev/null | head -40; }
finish
