#!/bin/bash
# The ExaBGP drop-in against a real BIRD 2: rampartd (namespace ex_rd, no capture) peers with BIRD
# (ex_rt); ExaBGP API lines written to rampartd's named pipe, as FastNetMon writes them, become
# routes at BIRD with the communities, next hop and MED the lines asked for, and go away on
# withdraw; the control socket takes the same lines and answers done/error; a detection ban on
# the same prefix as a pipe route takes over its attributes and its unban gives them back
# without withdrawing the pipe's route; a configured process's routes appear, it gets "done" on
# its stdin, and its routes are withdrawn when it exits. Runs in about 15 s.
set -u
cd "$(dirname "$0")/.."
export RAMPART_DATA=${RAMPART_DATA:-/work/shared/data}
. tests/lib/rampart.sh
. interop/lib.sh
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed"

W=$LIB_TMP
netns_pair ex_rd ex_rt "10.78.0.1/24,2001:db8:78::1/64" "10.78.0.2/24,2001:db8:78::2/64" ||
	die "cannot create the namespaces"

mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
log "$W/bird/bird.log" all;
router id 10.78.0.2;
protocol device { scan time 1; }
template bgp rampart { local as 65002; passive on; hold time 9; connect retry time 1; }
protocol bgp r4 from rampart {
	local 10.78.0.2; neighbor 10.78.0.1 as 65001;
	ipv4 { import all; export none; };
}
protocol bgp r6 from rampart {
	local 2001:db8:78::2; neighbor 2001:db8:78::1 as 65001;
	ipv6 { import all; export none; };
}
CONF
bird_start ex_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

# the process: announces one route, reports the reply it got, and exits when told to; when
# restarted it stays quiet (the routes it announced must be gone by then)
cat >"$W/feed.sh" <<EOF
#!/bin/bash
if [ -e "$W/fed" ]; then exec sleep 600; fi
touch "$W/fed"
echo "announce route 198.51.100.77/32 next-hop 10.78.0.66 community [65001:777]"
read -r reply; echo "\$reply" > "$W/reply"
echo "announce route bogus"
read -r reply; echo "\$reply" >> "$W/reply"
while [ ! -e "$W/go" ]; do sleep 0.1; done
EOF
chmod +x "$W/feed.sh"

SOCK=$W/rampart.sock
PIPE=$W/exabgp.cmd
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
mitigation: { action: blackhole }
bgp:
  local_as: 65001
  router_id: 10.78.0.1
  connect_retry: 1
  peers:
    - { address: 10.78.0.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.78.0.1, hold_time: 9 }
    - { address: "2001:db8:78::2", remote_as: 65002, families: [ipv6-unicast], local_address: "2001:db8:78::1", hold_time: 9 }
storage: { dir: $W/spool }
api:
  socket: $SOCK
  http: ""
  exabgp_pipe: $PIPE
  exabgp_process: $W/feed.sh
CONF
ip netns exec ex_rd "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill $RD_PID; sleep 0.3; kill -9 $RD_PID"

ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
bc() { birdc_in ex_rt "$W/bird" "$@"; }
established() { bc show protocols "$1" | grep -q Established; }
route_has() {
	local p=$1 out
	shift
	out=$(bc show route all "$p") || return 1
	grep -q "$p" <<<"$out" || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
route_lacks() { ! bc show route all "$1" | grep -qF -- "$2"; }
route_gone() { ! bc show route "$1" | grep -q "$1"; }

check "IPv4 session Established" wait_for 15 established r4
check "IPv6 session Established" wait_for 15 established r6
check "the FIFO was created" test -p "$PIPE"

# FastNetMon's line, and the other forms, written to the pipe by separate writers
echo "announce route 192.0.2.10/32 next-hop 10.78.0.66 community 65001:666" >"$PIPE"
printf '%s\n' "this is not a command" \
	"announce route 192.0.2.11/32 next-hop self community [65535:666 no-export] med 20" \
	"announce attributes next-hop 10.78.0.66 community 65001:999 nlri 203.0.113.1/32 203.0.113.2/32" \
	"announce route 2001:db8:10::99/128 next-hop 2001:db8:78::66 community 65001:666" >"$PIPE"
check "pipe: FastNetMon's /32 at BIRD with its community and next hop" \
	wait_for 5 route_has 192.0.2.10/32 "(65001,666)" "BGP.next_hop: 10.78.0.66" "AS65001"
check "pipe: next-hop self, two communities, MED" \
	wait_for 5 route_has 192.0.2.11/32 "(65535,666)" "(65535,65281)" "BGP.next_hop: 10.78.0.1" "BGP.med: 20"
check "pipe: announce attributes ... nlri: both prefixes" \
	wait_for 5 eval 'route_has 203.0.113.1/32 "(65001,999)" && route_has 203.0.113.2/32 "(65001,999)"'
check "pipe: IPv6 /128" wait_for 5 route_has 2001:db8:10::99/128 "(65001,666)" "BGP.next_hop: 2001:db8:78::66"
check "pipe: the bad line was logged with its reason" \
	wait_for 3 grep -q "exabgp pipe: 'this is not a command'.*expected announce or withdraw" "$W/rampartd.log"
check "routes lists them with their source (api: the ExaBGP API's pipe)" eval 'ctl routes | grep -q "^192.0.2.10/32 *api "'

# the control socket takes the same lines
check "socket: announce answers done" ctl announce route 192.0.2.12/32 next-hop 10.78.0.66
check "socket: route at BIRD" wait_for 5 route_has 192.0.2.12/32 "BGP.next_hop: 10.78.0.66"
check "socket: a bad line answers error naming the token" \
	eval 'out=$(ctl announce route 192.0.2.13/32 next-hopp 1.2.3.4 2>&1); [ $? = 1 ] && grep -q "next-hopp.: unknown attribute" <<<"$out"'
# (the rule reaching a FlowSpec peer is tests/integration/e2e_flowspec.sh; this BIRD has no flow channel)
check "socket: flow route accepted" ctl "announce flow route { match { destination 192.0.2.1/32; } then { discard; } }"
check "socket: a bad flow route answers error naming the token" \
	eval 'out=$(ctl "announce flow route { match { destination 192.0.2.1/32; protocol ufo; } then { discard; } }" 2>&1); [ $? = 1 ] && grep -q "ufo" <<<"$out"'
check "socket: flow withdraw answers done" ctl "withdraw flow route { match { destination 192.0.2.1/32; } then { discard; } }"
check "socket: withdraw answers done" ctl withdraw route 192.0.2.12/32
check "socket: route withdrawn" wait_for 5 route_gone 192.0.2.12/32

# a detection ban on a pipe's prefix: detection's attributes while it holds it; its unban does
# not withdraw the pipe's route
ctl ban 192.0.2.10 >/dev/null
check "ban on a pipe route: blackhole community now" wait_for 5 route_has 192.0.2.10/32 "(65535,666)" "(65535,65281)"
check "routes shows both owners" eval 'ctl routes | grep -q "^192.0.2.10/32 *detection,api "'
ctl unban 192.0.2.10 >/dev/null
check "unban: the pipe's route stays, with its own attributes" \
	wait_for 5 eval 'route_has 192.0.2.10/32 "(65001,666)" "BGP.next_hop: 10.78.0.66" && route_lacks 192.0.2.10/32 "(65535,666)"'
# and a pipe withdraw of a banned prefix leaves the ban
ctl ban 192.0.2.11 >/dev/null
echo "withdraw route 192.0.2.11/32" >"$PIPE"
sleep 0.5
check "pipe withdraw of a banned prefix: the ban stays" route_has 192.0.2.11/32 "(65535,666)"
ctl unban 192.0.2.11 >/dev/null
check "unban after the pipe let go: withdrawn" wait_for 5 route_gone 192.0.2.11/32

printf '%s\n' "withdraw route 192.0.2.10/32 next-hop 10.78.0.66" "withdraw attributes nlri 203.0.113.1/32 203.0.113.2/32" \
	"withdraw route 2001:db8:10::99/128" >"$PIPE"
check "pipe: withdraw removes the /32" wait_for 5 route_gone 192.0.2.10/32
check "pipe: withdraw attributes removes both" wait_for 5 eval 'route_gone 203.0.113.1/32 && route_gone 203.0.113.2/32'
check "pipe: withdraw removes the /128" wait_for 5 route_gone 2001:db8:10::99/128

# the process
check "process: its route at BIRD" wait_for 5 route_has 198.51.100.77/32 "(65001,777)" "BGP.next_hop: 10.78.0.66"
check "process: got done, then error, on its stdin" wait_for 5 eval '[ "$(cat "$W/reply" 2>/dev/null | tr "\n" " ")" = "done error " ]'
check "routes lists it as the process's" eval 'ctl routes | grep -q "^198.51.100.77/32 *process "'
touch "$W/go"
check "process exits: its route is withdrawn" wait_for 5 route_gone 198.51.100.77/32
check "process restarted" wait_for 5 eval 'ctl stats | grep -q "process_starts 2"'
check "rampartd still running" kill -0 $RD_PID
PID2=$(ctl stats | grep -o "process_pid [0-9]*" | awk '{print $2}')

kill $RD_PID
check "rampartd stops cleanly" wait_for 5 eval '! kill -0 $RD_PID 2>/dev/null'
check "no process left behind" eval '[ -n "$PID2" ] && [ "$PID2" != 0 ] && ! kill -0 $PID2 2>/dev/null'
[ -n "${VERBOSE:-}" ] && cat "$W/rampartd.log"
lib_summary
