#!/bin/bash
# Reload (docs/OPERATIONS.md): rampartd captures on veth0 of namespace hup_rd and peers with a real
# BIRD 2 in hup_rt, which also sends ~2000 pps of UDP to 192.0.2.77. Started with a 100000 pps
# threshold the host is not banned; a broken file is refused by `rampartctl reload` with its
# file:line:col, the daemon keeps running and the old threshold stays (still no ban); a reload
# with 500 pps bans the host and BIRD gets the blackhole, with the BGP session's uptime unchanged;
# a reload adding a second peer brings it up with the route; SIGHUP with that peer removed closes
# it with CEASE "peer de-configured" while the first session still keeps its uptime and route.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

W=$LIB_TMP
netns_pair hup_rd hup_rt "10.249.0.1/24,10.249.0.4/24" "10.249.0.2/24,10.249.0.3/24" || die "cannot create the namespaces"
mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.249.0.2;
log "$W/bird/bird.log" all;
protocol device { }
protocol bgp peer_a {
	local 10.249.0.2 as 65002;
	neighbor 10.249.0.1 as 65001;
	hold time 30;
	connect retry time 1;
	ipv4 { import all; export none; };
}
protocol bgp peer_b {
	local 10.249.0.3 as 65002;
	neighbor 10.249.0.4 as 65001; # BIRD tells its two peers apart by their address
	hold time 30;
	connect retry time 1;
	ipv4 { import all; export none; };
}
CONF
bird_start hup_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
CONF=$W/rampart.yaml
write_conf() { # $1: incoming pps threshold, $2: "b" to configure the second peer too
	{
		cat <<YAML
networks: [192.0.2.0/24]
thresholds:
  incoming: { pps: $1 }
detection: { ban_time: 120 }
capture:
  pcap:
    interfaces: [veth0]
mitigation:
  state_file: ""
bgp:
  local_as: 65001
  router_id: 10.249.0.1
  connect_retry: 1
  peers:
    - { address: 10.249.0.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.249.0.1 }
YAML
		[ "${2:-}" = b ] &&
			echo "    - { address: 10.249.0.3, remote_as: 65002, families: [ipv4-unicast], local_address: 10.249.0.4 }"
		cat <<YAML
storage:
  dir: $W/data
api:
  socket: $SOCK
  http: ""
YAML
	} >"$CONF"
}
birdc() { ip netns exec hup_rt birdc -s "$W/bird/bird.ctl" "$@"; }
# "peer_a BGP --- up 10:21:07.123 Established": the session's since, which a flap resets
since() { birdc show protocols | awk -v p="$1" '$1 == p && $NF == "Established" { print $(NF-1) }'; }
established() { [ -n "$(since "$1")" ]; }
# a flap leaves a new since for good; one birdc read can come back empty while BIRD is busy
# importing, so a read is retried for a moment before it counts as a reset
kept_since() { [ "$(since "$1")" = "$2" ]; }
route_via() { birdc show route all 192.0.2.77/32 protocol "$1" | grep -q '65535,666'; }
ctl() { ip netns exec hup_rd "$RAMPARTCTL" -s "$SOCK" "$@"; }
banned() { ctl bans | grep -q '192.0.2.77/32'; }
not_banned() { ! banned; }
not_established() { ! established "$1"; }

# the traffic: UDP to 192.0.2.77 at ~2000 pps, to rampartd's MAC (its kernel drops it, the capture
# counts it)
MAC=$(ip -n hup_rd link show veth0 | awk '/link\/ether/ { print $2 }')
ip -n hup_rt route add 192.0.2.0/24 dev veth0
ip -n hup_rt neigh replace 192.0.2.77 lladdr "$MAC" dev veth0 nud permanent
ip netns exec hup_rt python3 - >"$W/sender.log" 2>&1 <<'PY' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.monotonic()
while True:
    for _ in range(20):
        s.sendto(b"x" * 64, ("192.0.2.77", 9999))
    t += 0.01
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
PY
SENDER=$!
lib_on_exit "kill $SENDER 2>/dev/null"

write_conf 100000
ip netns exec hup_rd "$RAMPARTD" -c "$CONF" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID 2>/dev/null"
wait_for 10 test -S "$SOCK" || die "rampartd did not open its socket"
check "peer_a established" wait_for 20 established peer_a
sleep 2
check "peer_b is not configured yet: not established" not_established peer_b
UP_A=$(since peer_a)
sleep 3
check "over 2000 pps but under 100000: no ban" not_banned
check "the host is seen by the capture" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' top | grep -q 192.0.2.77"

# a broken file: refused with file:line:col, nothing changes
write_conf 500
sed -i 's/pps: 500/pps: lots/' "$CONF"
ctl reload >"$W/reload-broken.out" 2>&1
RC=$?
check "broken file: rampartctl reload exits non-zero" [ "$RC" -ne 0 ]
check "broken file: the reply names file:line:col" grep -qE "rampart.yaml:3:[0-9]+:.*pps" "$W/reload-broken.out"
check "broken file: logged with file:line:col" grep -qE "reload: .*rampart.yaml:3:[0-9]+:" "$W/rampartd.log"
check "broken file: rampartd still runs" kill -0 $RD_PID
sleep 3
check "broken file: the old threshold stays (no ban)" not_banned

# the lower threshold: the host already over it is banned, the session does not flap
write_conf 500
check "reload with pps 500: rampartctl reload exits 0" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' reload >'$W/reload-500.out' 2>&1"
check "reload with pps 500: the reply says thresholds" grep -q "reloaded .*thresholds" "$W/reload-500.out"
check "reload with pps 500: the host is banned" wait_for 5 banned
check "reload with pps 500: BIRD has the blackhole" wait_for 5 route_via peer_a
check "reload with pps 500: peer_a's session did not reset" wait_for 3 kept_since peer_a "$UP_A"

# a second peer: it comes up and gets the route; the first keeps its session
write_conf 500 b
check "reload adding peer_b: exits 0" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' reload >'$W/reload-b.out' 2>&1"
check "reload adding peer_b: the reply says 1 added" grep -q "peers (1 added, 0 removed, 0 changed)" "$W/reload-b.out"
check "reload adding peer_b: peer_b established" wait_for 20 established peer_b
check "reload adding peer_b: peer_b has the blackhole" wait_for 5 route_via peer_b
check "reload adding peer_b: peer_a's session did not reset" wait_for 3 kept_since peer_a "$UP_A"

# SIGHUP with peer_b gone: CEASE "peer de-configured" (RFC 4486 subcode 3) to it only
write_conf 500
kill -HUP $RD_PID
check "SIGHUP removing peer_b: logged" wait_for 5 grep -q "reload: .*peers (0 added, 1 removed, 0 changed)" "$W/rampartd.log"
check "SIGHUP removing peer_b: BIRD got CEASE peer de-configured" wait_for 5 sh -c "ip netns exec hup_rt birdc -s '$W/bird/bird.ctl' show protocols all peer_b | grep -qi 'de-configured'"
check "SIGHUP removing peer_b: rampartd still runs" kill -0 $RD_PID
check "SIGHUP removing peer_b: peer_a's session did not reset" wait_for 3 kept_since peer_a "$UP_A"
check "SIGHUP removing peer_b: the ban and peer_a's route stay" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' bans | grep -q 192.0.2.77 && ip netns exec hup_rt birdc -s '$W/bird/bird.ctl' show route all 192.0.2.77/32 protocol peer_a | grep -q 65535,666"
check "peers shows peer_a only" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' peers | grep -q 10.249.0.2 && ! ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' peers | grep -q 10.249.0.3"

# a notify script added by a reload is called for the next ban
cat >"$W/notify.sh" <<'SH'
#!/bin/sh
echo "$@" >>"$(dirname "$0")/notify.calls"
SH
chmod +x "$W/notify.sh"
write_conf 500
sed -i "s|^mitigation:|actions: { notify_script: $W/notify.sh }\nmitigation:|" "$CONF"
check "reload adding a notify script: the reply says notify" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' reload | grep -q 'reloaded .*notify'"
ctl ban 192.0.2.99 --for 30 >/dev/null
check "reload adding a notify script: the next ban calls it" wait_for 5 grep -q "^192.0.2.99 .*ban" "$W/notify.calls"

# a key only a restart changes is reported, and the rest still applies
write_conf 400
sed -i 's/detection: { ban_time: 120 }/detection: { ban_time: 120, tick_ms: 200 }/' "$CONF"
check "reload with detection.tick_ms: exits 0 and says needs restart" sh -c "ip netns exec hup_rd '$RAMPARTCTL' -s '$SOCK' reload | grep -q 'needs restart: detection.tick_ms'"

kill -TERM $RD_PID
for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
wait $RD_PID
check "rampartd exits 0 after the reloads" [ $? -eq 0 ]

if ! lib_summary; then
	tail -40 "$W/rampartd.log"
	birdc show protocols all 2>/dev/null | tail -30
	exit 1
fi
