#!/bin/bash
# Extended Next Hop (RFC 8950) and ExaBGP watchdog groups against a real BIRD 2: rampartd
# (namespace xn_rd) peers over IPv6 with two BGP protocols of one BIRD (xn_bd, AS65002), both
# carrying IPv4 unicast: e1 with `extended next hop on`, e2 without.
#  - e1 negotiated the capability both ways; an IPv4 /32 blackhole with an IPv6 next hop (and
#    one with next-hop self, our IPv6 session address) is in BIRD's table with that next hop;
#    e2, which did not offer it, never gets those routes (rampartd logs it) but gets a route with
#    an IPv4 next hop sent after them; a withdraw removes it from e1
#  - `watchdog NAME` routes: one announced, one held back (`withdraw`); `withdraw watchdog NAME`
#    removes the announced one from both peers' tables, `announce watchdog NAME` brings both
# Runs in about 10 s. Needs root, bird2.
set -u
cd "$(dirname "$0")/.."
export RAMPART_DATA=${RAMPART_DATA:-/work/shared/data}
. tests/lib/rampart.sh
. interop/lib.sh
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed"

W=$LIB_TMP
netns_pair xn_rd xn_bd "10.91.0.1/24,2001:db8:91::1/64,2001:db8:91::3/64" \
	"10.91.0.2/24,2001:db8:91::2/64,2001:db8:91::4/64" || die "cannot create the namespaces"

mkdir -p "$W/b"
cat >"$W/b/bird.conf" <<CONF
log "$W/b/bird.log" all;
router id 10.91.0.2;
protocol device { scan time 1; }
template bgp rampart { local as 65002; passive on; hold time 9; connect retry time 1; }
protocol bgp e1 from rampart {
	local 2001:db8:91::2; neighbor 2001:db8:91::1 as 65001;
	ipv4 { import all; export none; extended next hop on; };
}
protocol bgp e2 from rampart {
	local 2001:db8:91::4; neighbor 2001:db8:91::3 as 65001;
	ipv4 { import all; export none; };
}
CONF
bird_start xn_bd "$W/b" "$W/b/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
bgp:
  local_as: 65001
  router_id: 10.91.0.1
  connect_retry: 1
  peers:
    - { address: "2001:db8:91::2", remote_as: 65002, families: [ipv4-unicast], local_address: "2001:db8:91::1", hold_time: 9 }
    - { address: "2001:db8:91::4", remote_as: 65002, families: [ipv4-unicast], local_address: "2001:db8:91::3", hold_time: 9 }
storage: { dir: $W/spool }
api: { socket: $SOCK, http: "" }
CONF
ip netns exec xn_rd "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill $RD_PID; sleep 0.3; kill -9 $RD_PID"

ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
bc() { birdc_in xn_bd "$W/b" "$@"; }
established() { bc show protocols "$1" | grep -q Established; }
# route_has PROTO PREFIX PATTERN...: BIRD has PREFIX from PROTO and `show route all` shows each PATTERN
route_has() {
	local pr=$1 p=$2 out
	shift 2
	out=$(bc show route all "$p" protocol "$pr") || return 1
	grep -q "$p" <<<"$out" || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
route_gone() { ! bc show route "$2" protocol "$1" | grep -q "$2"; }

check "e1 (extended next hop) Established" wait_for 15 established e1
check "e2 (without) Established" wait_for 15 established e2
check "e1 negotiated Extended Next Hop both ways (RFC 8950)" \
	eval '[ "$(bc show protocols all e1 | grep -ci "extended next hop")" -ge 2 ]'
check "e2: rampartd offered it, BIRD did not" \
	eval '[ "$(bc show protocols all e2 | grep -ci "extended next hop")" -eq 1 ]'

check "IPv4 /32 with an IPv6 next hop: done" \
	ctl announce route 198.51.100.7/32 next-hop 2001:db8:91::254 community [65535:666 no-export]
check "next-hop self: done" ctl announce route 198.51.100.9/32 next-hop self community 65535:666
ctl announce route 198.51.100.8/32 next-hop 10.91.0.254 >/dev/null # a marker, sent after them
check "e1: the /32 blackhole with its IPv6 next hop" wait_for 5 route_has e1 198.51.100.7/32 \
	"BGP.next_hop: 2001:db8:91::254" "(65535,666)" "(65535,65281)" "BGP.as_path: 65001"
check "e1: next-hop self is our IPv6 session address" wait_for 5 route_has e1 198.51.100.9/32 \
	"BGP.next_hop: 2001:db8:91::1"
check "e2 has the marker with its IPv4 next hop" wait_for 5 route_has e2 198.51.100.8/32 "BGP.next_hop: 10.91.0.254"
check "e2 never got the IPv6 next hop route" route_gone e2 198.51.100.7/32
check "e2 never got next-hop self (no IPv4 address on that session)" route_gone e2 198.51.100.9/32
check "rampartd logged the route it could not send to e2" grep -q "not sent: no usable next hop" "$W/rampartd.log"
check "withdraw: done" ctl withdraw route 198.51.100.7/32
check "e1: withdrawn" wait_for 5 route_gone e1 198.51.100.7/32

# ExaBGP watchdog groups
check "route in watchdog svc: done" ctl announce route 192.0.2.60/32 next-hop 10.91.0.254 watchdog svc
check "held route in watchdog svc: done" ctl announce route 192.0.2.61/32 next-hop 10.91.0.254 watchdog svc withdraw
check "e1 has the announced member" wait_for 5 route_has e1 192.0.2.60/32 "BGP.next_hop: 10.91.0.254"
check "e2 has the announced member" wait_for 5 route_has e2 192.0.2.60/32
check "the held member is not sent" route_gone e1 192.0.2.61/32
check "withdraw watchdog svc: done" ctl withdraw watchdog svc
check "e1: the member is withdrawn" wait_for 5 route_gone e1 192.0.2.60/32
check "e2: the member is withdrawn" wait_for 5 route_gone e2 192.0.2.60/32
check "the route table no longer has it" eval '! ctl routes | grep -q "^192.0.2.60/32"'
check "announce watchdog svc: done" ctl announce watchdog svc
check "e1: both members announced" wait_for 5 eval 'route_has e1 192.0.2.60/32 && route_has e1 192.0.2.61/32'
check "e2: both members announced" wait_for 5 eval 'route_has e2 192.0.2.60/32 && route_has e2 192.0.2.61/32'
check "rampartd still running" kill -0 $RD_PID
[ -n "${VERBOSE:-}" ] && cat "$W/rampartd.log"
if [ "$LIB_FAIL" -ne 0 ]; then
	echo "--- rampartd log"; tail -30 "$W/rampartd.log"
	echo "--- BIRD log"; tail -30 "$W/b/bird.log"
fi
lib_summary
