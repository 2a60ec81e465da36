#!/bin/bash
# FlowSpec mitigation end to end: the shared mirror capture is replayed through rampartd with
# mitigation.action flowspec, peering with BIRD 2 (flow4 and flow6 tables) in namespace rf_rt.
# Each victim must get the rule that matches its attack (README of the data) and nothing else:
# NTP amplification -> UDP from port 123, SYN flood -> TCP SYN without ACK to port 80, ICMP
# flood -> ICMP, fragments -> fragments, the IPv6 UDP flood -> UDP to port 53 from the one /64
# all its sources share (proven heavy, docs/DETECTION.md); no rule for a
# background host, no blackhole route. Each rule narrowed from the fingerprint is a `narrow`
# event like a ban: an attack_events row, a notify call and a webhook POST each. Then an
# operator's ExaBGP flow line through rampartctl reaches BIRD and is withdrawn again.
# Ports: webhook receiver 24731 (in rf_rd).
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

W=$LIB_TMP
netns_pair rf_rd rf_rt "10.76.0.1/24" "10.76.0.2/24" || die "cannot create the namespaces"
mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.76.0.2;
log "$W/bird/bird.log" all;
protocol device { }
flow4 table fl4;
flow6 table fl6;
protocol bgp rampart {
	local 10.76.0.2 as 65002;
	neighbor 10.76.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
	flow4 { table fl4; import all; export none; };
	flow6 { table fl6; import all; export none; };
}
CONF
bird_start rf_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

# notify: argv, one line per call; webhook: one JSON body per line
HOOK_PORT=24731
cat >"$W/notify.sh" <<SCRIPT
#!/bin/sh
echo "\$@" >>"$W/argv.txt"
cat >/dev/null
SCRIPT
chmod +x "$W/notify.sh"
cat >"$W/hook.py" <<'PY'
import http.server, sys
out, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
ip netns exec rf_rd /usr/bin/python3 "$W/hook.py" "$W/hook.jsonl" $HOOK_PORT &
lib_on_exit "kill $!"
wait_for 10 ip netns exec rf_rd bash -c "exec 3<>/dev/tcp/127.0.0.1/$HOOK_PORT" || die "webhook receiver did not start"

SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3600
capture:
  pcap:
    interfaces: []
mitigation:
  action: flowspec
  flowspec:
    rules: ["destination 192.0.2.200/32 protocol tcp destination-port 23 then discard"]
bgp:
  local_as: 65001
  router_id: 10.76.0.1
  connect_retry: 1
  peers:
    - address: 10.76.0.2
      remote_as: 65002
      families: [ipv4-unicast, ipv4-flowspec, ipv6-flowspec]
      local_address: 10.76.0.1
storage:
  dir: $W/data
  batch_ms: 200
api:
  socket: $SOCK
  http: ""
actions:
  notify_script: $W/notify.sh
  webhook_url: "http://127.0.0.1:$HOOK_PORT/rampart"
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --check-config || die "the test configuration does not validate"
ip netns exec rf_rd "$RAMPARTD" -c "$W/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"

flows() { birdc_in rf_rt "$W/bird" show route table fl4 all; birdc_in rf_rt "$W/bird" show route table fl6 all; }
rule_lines() { flows | grep -E '^flow[46] \{'; }
has_rule() { rule_lines | grep -qF "$1"; }
six_rules() { [ "$(rule_lines | wc -l)" -eq 6 ]; }

check "session established" wait_for 20 sh -c \
	"ip netns exec rf_rt birdc -s '$W/bird/bird.ctl' show protocols | grep -qE '^rampart .*Established'"
check "six rules: one per victim and the configured one" wait_for 20 six_rules
wait_for 5 has_rule "flow6 { dst 2001:db8:10::53/128; src 2001:db8:ff::/64; next header 17; dport 53; }"
flows >"$W/flows.txt"
rule_lines
check "NTP amplification: UDP from port 123 to 192.0.2.10" has_rule "flow4 { dst 192.0.2.10/32; proto 17; sport 123; }"
check "SYN flood: TCP SYN without ACK to 192.0.2.20 port 80" \
	sh -c "grep -F 'flow4 { dst 192.0.2.20/32; proto 6; dport 80; tcp flags 0x2/0x2 && 0x0/0x10; }' '$W/flows.txt' >/dev/null"
check "ICMP flood: ICMP to 192.0.2.30" has_rule "flow4 { dst 192.0.2.30/32; proto 1; }"
check "fragment flood: fragments to 192.0.2.40" sh -c "grep -E '^flow4 \\{ dst 192.0.2.40/32; fragment ' '$W/flows.txt' >/dev/null"
check "IPv6 UDP flood: UDP to 2001:db8:10::53 port 53 from its one proven heavy /64" has_rule "flow6 { dst 2001:db8:10::53/128; src 2001:db8:ff::/64; next header 17; dport 53; }"
check "every rule discards (traffic-rate 0)" sh -c \
	"[ \$(grep -c 'BGP.ext_community: (generic, 0x80060000, 0x0)' '$W/flows.txt') -eq 6 ]"
check "the configured rule" has_rule "flow4 { dst 192.0.2.200/32; proto 6; dport 23; }"
check "no rule for a background host" sh -c "! grep -E 'dst 192\\.0\\.2\\.1[0-4][0-9]/32' '$W/flows.txt'"
check "no blackhole route" sh -c "! ip netns exec rf_rt birdc -s '$W/bird/bird.ctl' show route table master4 | grep -q '/32'"
check "the narrowing was logged" grep -q "flowspec rule narrowed" "$W/rampartd.log"
# each narrowing is an event of its own: a row, a notify call, a webhook POST, for a banned victim
narrowed=$(grep -c "flowspec rule narrowed" "$W/rampartd.log")
echo "rules narrowed: $narrowed"
narrow_everywhere() {
	[ "$(grep -c ' narrow$' "$W/argv.txt" 2>/dev/null)" = "$narrowed" ] &&
		[ "$(grep -c '"action":"narrow"' "$W/hook.jsonl" 2>/dev/null)" = "$narrowed" ] &&
		/usr/bin/python3 - "$narrowed" "$W"/data/attack_events-*.rowbinary <<'PY'
import sys
# RowBinary: the event column is a String, its length (one byte here) then its bytes
rows = sum(open(f, "rb").read().count(b"\x06narrow") for f in sys.argv[2:])
sys.exit(0 if rows == int(sys.argv[1]) else 1)
PY
}
check "narrow: one attack_events row, notify call and webhook event per narrowed rule" wait_for 10 narrow_everywhere
check "narrow: only for the banned victims, once per attack" /usr/bin/python3 - "$W/hook.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
bans = {e["attack_id"] for e in ev if e["action"] == "ban"}
narrow = [e for e in ev if e["action"] == "narrow"]
assert narrow and all(e["attack_id"] in bans for e in narrow), ev
assert len({e["attack_id"] for e in narrow}) == len(narrow), narrow
PY

# An operator's ExaBGP line, through the control socket
ctl() { ip netns exec rf_rd "$RAMPARTCTL" -s "$SOCK" "$@"; }
check "ExaBGP flow line accepted" ctl "announce flow route { match { destination 192.0.2.99/32; protocol tcp; destination-port 22; } then { discard; } }"
check "ExaBGP flow rule in BIRD" wait_for 10 has_rule "flow4 { dst 192.0.2.99/32; proto 6; dport 22; }"
check "ExaBGP flow withdraw accepted" ctl "withdraw flow route { match { destination 192.0.2.99/32; protocol tcp; destination-port 22; } then { discard; } }"
check "ExaBGP flow rule gone" wait_for 10 sh -c "! ip netns exec rf_rt birdc -s '$W/bird/bird.ctl' show route table fl4 | grep -q '192.0.2.99'"

# Operator rules through rampartctl flowspec
check "flowspec add" ctl flowspec add destination 192.0.2.201/32 protocol udp destination-port 5060 then rate-limit 1000
check "the operator rule in BIRD" wait_for 10 has_rule "flow4 { dst 192.0.2.201/32; proto 17; dport 5060; }"
ctl flowspec list >"$W/list.txt"
cat "$W/list.txt"
check "flowspec list: config, operator and attack rules" sh -c "grep -q '^config ' '$W/list.txt' && grep -q '^operator ' '$W/list.txt' && [ \$(grep -c '^attack ' '$W/list.txt') -eq 5 ] && grep -q '^7 flowspec rules' '$W/list.txt'"
check "a rule for an address we do not protect is refused" sh -c "! ip netns exec rf_rd '$RAMPARTCTL' -s '$SOCK' flowspec add destination 198.51.100.1/32 then discard"
check "flowspec del" ctl flowspec del destination 192.0.2.201/32 protocol udp destination-port 5060
check "the operator rule is withdrawn" wait_for 10 sh -c "! ip netns exec rf_rt birdc -s '$W/bird/bird.ctl' show route table fl4 | grep -q '192.0.2.201'"

# An unban withdraws the attack's rule
check "manual unban of the NTP victim" ctl unban 192.0.2.10
check "its rule is withdrawn" wait_for 10 sh -c "! ip netns exec rf_rt birdc -s '$W/bird/bird.ctl' show route table fl4 | grep -q 'dst 192.0.2.10/32'"

kill -TERM $RD_PID
for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
wait $RD_PID; rc=$?
check "rampartd exits 0 on SIGTERM" test $rc -eq 0
if ! lib_summary; then
	cat "$W/flows.txt"; grep -E "flowspec|error|warn" "$W/rampartd.log" | tail -30; exit 1
fi
