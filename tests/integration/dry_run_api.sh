#!/bin/bash
# mitigation.dry_run on the ExaBGP API: `announce route` and `announce flow route` through the
# control socket are accepted (a malformed line is still refused) and logged as
# what would have gone, and a real BIRD 2 peer (namespace dr_rt) receives nothing: its unicast and
# flow tables stay empty while the session is up. Then the same lines with dry_run off reach BIRD,
# so the empty tables mean "not sent", not "could not send".
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

W=$LIB_TMP
netns_pair dr_rd dr_rt "10.247.0.1/24" "10.247.0.2/24" || die "cannot create the namespaces"
mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.247.0.2;
log "$W/bird/bird.log" all;
protocol device { }
flow4 table fl4;
protocol bgp rampart {
	local 10.247.0.2 as 65002;
	neighbor 10.247.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
	flow4 { table fl4; import all; export none; };
}
CONF
bird_start dr_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
write_conf() { # $1: dry_run true|false, $2: data dir
	cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture:
  pcap:
    interfaces: []
mitigation:
  dry_run: $1
  state_file: ""
bgp:
  local_as: 65001
  router_id: 10.247.0.1
  connect_retry: 1
  peers:
    - address: 10.247.0.2
      remote_as: 65002
      families: [ipv4-unicast, ipv4-flowspec]
      local_address: 10.247.0.1
storage:
  dir: $2
api:
  socket: $SOCK
  http: ""
CONF
}
established() { ip netns exec dr_rt birdc -s "$W/bird/bird.ctl" show protocols | grep -qE '^rampart .*Established'; }
unicast() { ip netns exec dr_rt birdc -s "$W/bird/bird.ctl" show route table master4 | grep -E '^[0-9]'; }
flows() { ip netns exec dr_rt birdc -s "$W/bird/bird.ctl" show route table fl4 | grep -E '^flow4'; }
ctl() { ip netns exec dr_rd "$RAMPARTCTL" -s "$SOCK" "$@"; }
ROUTE="announce route 192.0.2.61/32 next-hop self community [65535:666]"
FLOW="announce flow route { match { destination 192.0.2.62/32; protocol udp; destination-port 53; } then { discard; } }"
BAD="announce flow route { match { destination 192.0.2.63/32; protocol udp; } then { redirect 1:2:3; } }"

start() { # $1: dry_run
	write_conf "$1" "$W/data-$1"
	ip netns exec dr_rd "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd-$1.log" 2>&1 &
	RD_PID=$!
	lib_on_exit "kill -9 $RD_PID 2>/dev/null"
	wait_for 10 test -S "$SOCK"
}
stop() {
	kill -TERM $RD_PID
	for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
	wait $RD_PID
}

start true
check "dry run: session established" wait_for 20 established
check "dry run: announce route accepted" ctl "$ROUTE"
check "dry run: announce flow route accepted" ctl "$FLOW"
check "dry run: a malformed flow line is still refused" sh -c "! ip netns exec dr_rd '$RAMPARTCTL' -s '$SOCK' '$BAD'"
sleep 2 # the time a live speaker takes to deliver both (below: well under 1 s)
check "dry run: BIRD's unicast table is empty" sh -c "[ -z \"\$(ip netns exec dr_rt birdc -s '$W/bird/bird.ctl' show route table master4 | grep -E '^[0-9]')\" ]"
check "dry run: BIRD's flow table is empty" sh -c "[ -z \"\$(ip netns exec dr_rt birdc -s '$W/bird/bird.ctl' show route table fl4 | grep -E '^flow4')\" ]"
check "dry run: the route that would have gone is logged" grep -q "dry run: would announce 1 route (192.0.2.61/32)" "$W/rampartd-true.log"
check "dry run: the flow rule that would have gone is logged" grep -qE "dry run: would announce flow route .*192.0.2.62/32" "$W/rampartd-true.log"
check "dry run: a withdraw is logged too" sh -c "ip netns exec dr_rd '$RAMPARTCTL' -s '$SOCK' '${FLOW/announce/withdraw}' && grep -qE 'dry run: would withdraw flow route .*192.0.2.62/32' '$W/rampartd-true.log'"
check "dry run: rampartd exits 0" stop

start false
check "live: session established" wait_for 20 established
check "live: announce route accepted" ctl "$ROUTE"
check "live: announce flow route accepted" ctl "$FLOW"
check "live: the route is in BIRD" wait_for 10 sh -c "ip netns exec dr_rt birdc -s '$W/bird/bird.ctl' show route table master4 | grep -q '^192.0.2.61/32'"
check "live: the flow rule is in BIRD" wait_for 10 sh -c "ip netns exec dr_rt birdc -s '$W/bird/bird.ctl' show route table fl4 | grep -q 'dst 192.0.2.62/32'"
check "live: rampartd exits 0" stop

if ! lib_summary; then
	tail -30 "$W"/rampartd-*.log; exit 1
fi
