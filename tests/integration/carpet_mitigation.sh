#!/bin/bash
# Carpet bombing mitigated end to end (issue 5): a generated capture (tests/tools/mkattacks.py
# carpetmit) bombs one /24 of three /16 customers and one /64 of two IPv6 /48 customers, 200 hosts
# at 40 pps each (8000 pps over the prefix, every host far under its 500 pps), while a neighbour
# /24 (/64) of each customer carries 1000 pps. Each customer is a hostgroup summed per /24 (/64)
# with a 3000 pps total and its own mitigation; rampartd replays the capture at recorded speed
# in namespace cb_rd and peers with a real BIRD 2 in cb_rt (IPv4 session: ipv4, flow4, flow6;
# IPv6 session: ipv6). At the router:
#   blackhole (10.20.0.0/16, 2001:db8:20::/48): master4 holds exactly 10.20.5.0/24 of the /16 and
#     master6 exactly 2001:db8:20:5::/64, with (65535,666) and no-export; both withdrawn after the
#     ban time;
#   flowspec (10.30.0.0/16, 2001:db8:30::/48): exactly one flow4 rule, dst 10.30.5.0/24 proto 17
#     (UDP: the class mix of the summed rates; a prefix has no host whose ports are counted), and
#     one flow6 rule, dst 2001:db8:30:5::/64 next header 17, both discard; no route for either;
#   flowspec-then-blackhole (10.40.0.0/16, escalate_after 1 s): the rule for 10.40.5.0/24, then,
#     as the bombing goes on, the blackhole of 10.40.5.0/24 as well;
# nothing for any neighbour /24 or /64. The notify script and the webhook get the prefix, and the
# escalation as an event of its own; a real ClickHouse (18.16, in cb_rd) gets every event row,
# the escalation's among them.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=cb_rd NS_RT=cb_rt
HOOK_PORT=24710
CH_HTTP=18761 CH_TCP=19761
W=$LIB_TMP
/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$W/carpet.pcap" carpetmit >/dev/null ||
	die "the capture generator failed"
netns_pair $NS_RD $NS_RT "10.78.0.1/24,2001:db8:78::1/64" "10.78.0.2/24,2001:db8:78::2/64" ||
	die "cannot create the namespaces"

# ClickHouse on cb_rd's own loopback, where rampartd reaches it
ch() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; $*"; }
chq() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_query $CH_HTTP \"\$1\"" _ "$1"; }
ch "ch_start '$W/ch' $CH_HTTP $CH_TCP" || die "clickhouse-server did not start"
lib_on_exit "ip netns exec $NS_RD bash -c \". '$REPO/tests/lib/clickhouse.sh'; ch_stop '$W/ch'\""

mkdir -p "$W/bird" "$W/calls"
cat >"$W/bird/bird.conf" <<CONF
router id 10.78.0.2;
log "$W/bird/bird.log" all;
protocol device { }
flow4 table fl4;
flow6 table fl6;
protocol bgp rampart4 {
	local 10.78.0.2 as 65002;
	neighbor 10.78.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
	flow4 { table fl4; import all; export none; };
	flow6 { table fl6; import all; export none; };
}
protocol bgp rampart6 {
	local 2001:db8:78::2 as 65002;
	neighbor 2001:db8:78::1 as 65001;
	hold time 30;
	ipv6 { import all; export none; };
}
CONF
bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

# notify: one file per call, argv on the first line; webhook: one JSON body per line
cat >"$W/notify.sh" <<'SCRIPT'
#!/bin/sh
f=$(mktemp "$NOTIFY_DIR/call.XXXXXX")
echo "$@" >"$f"
cat >>"$f"
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
ip netns exec $NS_RD /usr/bin/python3 "$W/hook.py" "$W/hook.jsonl" $HOOK_PORT &
lib_on_exit "kill $!"

SOCK=$W/rampart.sock
group() { # NAME PREFIXES ACTION
	cat <<G
  - name: $1
    prefixes: $2
    thresholds: { incoming: { pps: 500 } }
    total: { incoming: { pps: 3000 } }
    total_scope: prefix
    total_prefix_length: { ipv4: 24, ipv6: 64 }
    mitigation: { action: $3 }
G
}
cat >"$W/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24]
thresholds:
  incoming: { pps: 500 }
hostgroups:
$(group carpet-bh '[10.20.0.0/16, "2001:db8:20::/48"]' blackhole)
$(group carpet-fs '[10.30.0.0/16, "2001:db8:30::/48"]' flowspec)
$(group carpet-esc '[10.40.0.0/16]' flowspec-then-blackhole)
detection:
  ban_time: 6
  unban_only_if_attack_finished: true
capture:
  pcap:
    interfaces: []
mitigation:
  blackhole:
    communities: ["65001:666"]
  flowspec:
    escalate_after: 1
bgp:
  local_as: 65001
  router_id: 10.78.0.1
  connect_retry: 1
  peers:
    - address: 10.78.0.2
      remote_as: 65002
      families: [ipv4-unicast, ipv4-flowspec, ipv6-flowspec]
      local_address: 10.78.0.1
      hold_time: 30
    - address: "2001:db8:78::2"
      remote_as: 65002
      families: [ipv6-unicast]
      local_address: "2001:db8:78::1"
      hold_time: 30
storage:
  clickhouse:
    url: "http://127.0.0.1:$CH_HTTP"
    database: rampart_carpet
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
wait_for 10 ip netns exec $NS_RD bash -c "exec 3<>/dev/tcp/127.0.0.1/$HOOK_PORT" || die "webhook receiver did not start"

# Recorded speed (6 s): the sessions come up in well under the 1 s before the bombing starts, so
# BIRD sees each step as it happens.
NOTIFY_DIR=$W/calls ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" --pcap "$W/carpet.pcap" \
	--pcap-speed recorded >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"

bird() { birdc_in $NS_RT "$W/bird" "$@"; }
routes4() { bird show route table master4 all; }
routes6() { bird show route table master6 all; }
# the rules as BIRD prints them, without the trailing "[protocol time ...]"
rules() { { bird show route table fl4; bird show route table fl6; } | grep -E '^flow[46] \{' | sed 's/ *\[.*//'; }
# blackholed PREFIX: the route is there with BLACKHOLE, NO_EXPORT and the configured community
blackholed() {
	{ routes4; routes6; } | awk -v p="$1" '
		$1 == p { inr = 1; next }
		/^[0-9a-f:.]+\/[0-9]+ / { inr = 0 }
		inr && /BGP\.community:/ { c = $0 }
		END { exit !(c ~ /\(65535,666\)/ && c ~ /\(65535,65281\)/ && c ~ /\(65001,666\)/) }'
}
prefixes() { { routes4; routes6; } | awk '/^[0-9a-f:.]+\/[0-9]+ / { print $1 }' | sort | tr '\n' ' '; }
all_out() {
	blackholed 10.20.5.0/24 && blackholed 2001:db8:20:5::/64 && blackholed 10.40.5.0/24 &&
		[ "$(rules | wc -l)" -eq 3 ]
}

check "BIRD sessions established (IPv4 and IPv6)" wait_for 20 sh -c \
	"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null &&
	 ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart6 .*Established' >/dev/null"
# by the clock, not a count of tries (each try runs birdc four times): the snapshot below is then
# still inside the ban (t = 1.5 .. 7.5 s) when this fails, and shows what the router holds
within() { # SECONDS COMMAND...
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000)); shift
	until "$@" >/dev/null 2>&1; do
		[ "${EPOCHREALTIME/./}" -lt $end ] || return 1
		sleep 0.1
	done
}
check "every bombed prefix mitigated at the router" within 5 all_out
{ routes4; routes6; } >"$W/routes.txt"
rules >"$W/rules.txt"
cat "$W/rules.txt"
got=$(prefixes)
check "blackhole: 10.20.5.0/24 with (65535,666), no-export, (65001,666)" blackholed 10.20.5.0/24
check "blackhole: 2001:db8:20:5::/64 with (65535,666), no-export, (65001,666)" blackholed 2001:db8:20:5::/64
check "routes: exactly 10.20.5.0/24, 10.40.5.0/24 (escalated), 2001:db8:20:5::/64 (got: $got)" \
	test "$got" = "10.20.5.0/24 10.40.5.0/24 2001:db8:20:5::/64 "
check "flowspec: exactly one rule for 10.30.0.0/16: dst 10.30.5.0/24, UDP" \
	test "$(grep -c 'dst 10\.30\.' "$W/rules.txt")-$(grep -c '^flow4 { dst 10.30.5.0/24; proto 17; }$' "$W/rules.txt")" = 1-1
check "flowspec: exactly one rule for 2001:db8:30::/48: dst 2001:db8:30:5::/64, UDP" \
	test "$(grep -c 'dst 2001:db8:30:' "$W/rules.txt")-$(grep -c '^flow6 { dst 2001:db8:30:5::/64; next header 17; }$' "$W/rules.txt")" = 1-1
check "flowspec-then-blackhole: 10.40.5.0/24 escalated to a blackhole with the communities" blackholed 10.40.5.0/24
check "flowspec-then-blackhole: the rule for 10.40.5.0/24 as well" \
	grep -qx 'flow4 { dst 10.40.5.0/24; proto 17; }' "$W/rules.txt"
check "three rules in all (none for a blackhole group, none for a neighbour prefix)" test "$(wc -l <"$W/rules.txt")" -eq 3
{ bird show route table fl4 all; bird show route table fl6 all; } >"$W/flall.txt"
check "the three rules discard (traffic-rate 0)" \
	test "$(grep -c 'BGP.ext_community: (generic, 0x80060000, 0x0)' "$W/flall.txt")" -eq 3
check "escalation: the rule went out before the blackhole" awk '
	/flowspec rule announced: destination 10.40.5.0\/24/ && !r { r = NR }
	/10.40.5.0\/24 still over its threshold .* blackholing it too/ && !b { b = NR }
	END { exit !(r && b && r < b) }' "$W/rampartd.log"

# The bombing ends at t = 4 s, the ban time (6 s) passes: everything is withdrawn.
check "BIRD has withdrawn every route and rule after the ban time" wait_for 20 \
	sh -c "[ -z \"\$(ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show route table master4 | grep -E '^[0-9]')\" ] &&
	       [ -z \"\$(ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show route table master6 | grep -E '^[0-9a-f]+:')\" ] &&
	       [ \"\$(ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show route table fl4 | grep -c '^flow4')\" = 0 ] &&
	       [ \"\$(ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show route table fl6 | grep -c '^flow6')\" = 0 ]"

# notify and webhook: the prefix, where FastNetMon would pass an address
wait_for 10 sh -c "[ \$(ls '$W/calls' | wc -l) -ge 11 ] && [ \$(wc -l <'$W/hook.jsonl') -ge 11 ]"
head -qn1 "$W"/calls/call.* | sort >"$W/argv.txt"
cat "$W/argv.txt"
for p in 10.20.5.0/24 10.30.5.0/24 10.40.5.0/24 2001:db8:20:5::/64 2001:db8:30:5::/64; do
	check "notify: $p ban and unban" sh -c "grep -Eq '^$p incoming [0-9]+ ban\$' '$W/argv.txt' &&
		grep -Eq '^$p incoming [0-9]+ unban\$' '$W/argv.txt'"
done
# the escalation is a mitigation step like a ban: its own call, row and webhook event
check "notify: 10.40.5.0/24 escalate" grep -Eq '^10\.40\.5\.0/24 incoming [0-9]+ escalate$' "$W/argv.txt"
check "notify: eleven calls (five bans, five unbans, one escalation), nothing else" test "$(wc -l <"$W/argv.txt")" -eq 11
# ClickHouse: the escalation of 10.40.5.0/24 is a row of its own, of the attack whose ban row it follows
esc_stored() {
	[ "$(chq "SELECT count() FROM rampart_carpet.attack_events WHERE event = 'escalate'
	     AND IPv6NumToString(target) = '::ffff:10.40.5.0' AND target_len = 24
	     AND attack_id IN (SELECT attack_id FROM rampart_carpet.attack_events WHERE event = 'ban')")" = 1 ]
}
check "attack_events in ClickHouse: the escalation of 10.40.5.0/24, of the banned attack" wait_for 10 esc_stored
# the rows are written in batches (storage.batch_ms): the unbans' batch may follow the escalation's
events_stored() {
	[ "$(chq "SELECT event, count() FROM rampart_carpet.attack_events WHERE event IN ('ban', 'unban', 'escalate')
		  GROUP BY event ORDER BY event FORMAT CSV" | tr -d '"' | tr '\n' ' ')" = "ban,5 escalate,1 unban,5 " ]
}
check "attack_events in ClickHouse: five bans, five unbans, one escalation" wait_for 10 events_stored
check "log: the escalation" grep -Eq 'attack [0-9]+: escalate 10\.40\.5\.0/24 ' "$W/rampartd.log"
# each of the five bans: stdin names the prefix, the group-total trigger and the class mix
ban_details() {
	local f n=0
	for f in "$W"/calls/call.*; do
		set -- $(head -n1 "$f")
		[ "$4" = ban ] || continue
		grep -qx "IP: $1" "$f" && grep -qx 'Attack type: udp_flood' "$f" &&
			grep -q '^Trigger: total_pps [0-9]* over 3000$' "$f" || return 1
		n=$((n + 1))
	done
	[ $n -eq 5 ]
}
check "notify: each ban's details name the prefix, the total trigger and the class mix" ban_details
check "webhook: eleven events (the escalation too), ip and prefix are the banned prefix" /usr/bin/python3 - "$W/hook.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
want = {"10.20.5.0/24", "10.30.5.0/24", "10.40.5.0/24", "2001:db8:20:5::/64", "2001:db8:30:5::/64"}
got = sorted((e["prefix"], e["action"]) for e in ev)
assert got == sorted([(p, a) for p in want for a in ("ban", "unban")] + [("10.40.5.0/24", "escalate")]), got
assert all(e["ip"] == e["prefix"] for e in ev), ev
assert all(e["attack_type"] == "udp_flood" for e in ev if e["action"] == "ban"), ev
PY

check "no neighbour prefix or host was attacked" test "$(grep -c ': attack_detected ' "$W/rampartd.log")" -eq 5
kill -TERM $RD_PID
for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
wait $RD_PID; rc=$?
check "rampartd exits 0 on SIGTERM" test $rc -eq 0
grep -q "ERROR: AddressSanitizer\|runtime error:" "$W/rampartd.log" && check "no sanitizer report" false
if ! lib_summary; then
	echo "--- routes"; cat "$W/routes.txt"
	echo "--- rampartd log"; grep -Ev 'ban_extended' "$W/rampartd.log" | tail -50
	exit 1
fi
