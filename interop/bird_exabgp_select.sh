#!/bin/bash
# ExaBGP `neighbor X announce|withdraw`, per-route attributes and extended messages against two
# real BIRD 2 peers: rampartd (namespace sx_rd) peers with BIRD b1 (sx_b1, eBGP AS65002,
# `enable extended messages`) and BIRD b2 (sx_b2, iBGP AS65001, no extended messages).
#  - a route selected for one peer arrives only there; the same prefix goes to the other peer
#    with other attributes; a selective withdraw leaves the other peer's; a session that comes
#    back gets only what was selected for it
#  - ORIGIN, AS_PATH (after our AS on eBGP), MED, ATOMIC_AGGREGATE, AGGREGATOR, LOCAL_PREF,
#    ORIGINATOR_ID, CLUSTER_LIST as `birdc show route all` prints them
#  - 20 000 /32 through the named pipe, then both sessions replayed and captured: b1's UPDATEs go
#    beyond 4096 bytes (at most 65535), b2's never exceed 4096; both BIRDs hold all of them.
# Runs in about 20 s. Needs root, bird2, tshark.
set -u
cd "$(dirname "$0")/.."
export RAMPART_DATA=${RAMPART_DATA:-/work/shared/data}
. tests/lib/rampart.sh
. interop/lib.sh
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed"
command -v tshark >/dev/null || die "tshark is not installed"

W=$LIB_TMP
netns_pair sx_rd sx_b1 "10.84.1.1/24" "10.84.1.2/24" || die "cannot create the namespaces"
# the second peer on its own link
ip netns del sx_b2 2>/dev/null
ip netns add sx_b2 || die "cannot create sx_b2"
lib_on_exit "ip netns del sx_b2"
ip link add sxv$$ type veth peer name sxw$$ || die "cannot create the second veth"
ip link set sxv$$ netns sx_rd name veth1
ip link set sxw$$ netns sx_b2 name veth0
ip -n sx_rd addr add 10.84.2.1/24 dev veth1
ip -n sx_b2 addr add 10.84.2.2/24 dev veth0
ip -n sx_rd link set veth1 up
ip -n sx_b2 link set lo up
ip -n sx_b2 link set veth0 up

for b in 1 2; do
	mkdir -p "$W/b$b"
	if [ $b = 1 ]; then
		peer="local 10.84.1.2 as 65002; neighbor 10.84.1.1 as 65001; enable extended messages;" chan=""
	else
		peer="local 10.84.2.2 as 65001; neighbor 10.84.2.1 as 65001; direct;" chan="gateway direct;"
	fi
	cat >"$W/b$b/bird.conf" <<CONF
log "$W/b$b/bird.log" all;
router id 10.84.$b.2;
protocol device { scan time 1; }
protocol bgp rampart {
	$peer
	passive on; hold time 9; connect retry time 1;
	ipv4 { import all; export none; $chan };
}
CONF
	bird_start sx_b$b "$W/b$b" "$W/b$b/bird.conf" || die "BIRD b$b did not start"
done

SOCK=$W/rampart.sock
PIPE=$W/exabgp.cmd
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
bgp:
  local_as: 65001
  router_id: 10.84.1.1
  connect_retry: 1
  peers:
    - { address: 10.84.1.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.84.1.1, hold_time: 9 }
    - { address: 10.84.2.2, remote_as: 65001, families: [ipv4-unicast], local_address: 10.84.2.1, hold_time: 9 }
storage: { dir: $W/spool }
api: { socket: $SOCK, http: "", exabgp_pipe: $PIPE }
CONF
ip netns exec sx_rd "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill $RD_PID; sleep 0.3; kill -9 $RD_PID"

ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
bc() { local b=$1; shift; birdc_in sx_b$b "$W/b$b" "$@"; }
established() { bc "$1" show protocols rampart | grep -q Established; }
route_has() {
	local b=$1 p=$2 out
	shift 2
	out=$(bc "$b" show route all "$p") || return 1
	grep -q "$p" <<<"$out" || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
route_lacks() { ! bc "$1" show route all "$2" | grep -qF -- "$3"; }
route_gone() { ! bc "$1" show route "$2" | grep -q "$2"; }
count() { bc "$1" show route count | awk '/routes/ {print $1; exit}'; }

check "b1 (eBGP) Established" wait_for 15 established 1
check "b2 (iBGP) Established" wait_for 15 established 2
check "b1 negotiated extended messages (RFC 8654) both ways" \
	eval '[ "$(bc 1 show protocols all rampart | grep -c "Extended message")" -ge 2 ]'

# one prefix, one peer
check "neighbor b1 announce: done" ctl "neighbor 10.84.1.2 announce route 192.0.2.40/32 next-hop self origin egp" \
	"as-path [ 65010 65020 ] med 50 atomic-aggregate aggregator ( 65000:10.0.0.1 ) community [65535:666]"
ctl announce route 192.0.2.99/32 next-hop self >/dev/null # a marker to every peer, sent after it
check "b1: origin, as-path after our AS, med, atomic-aggregate, aggregator, community" \
	wait_for 5 route_has 1 192.0.2.40/32 "BGP.origin: EGP" "BGP.as_path: 65001 65010 65020" "BGP.med: 50" \
	"BGP.atomic_aggr:" "BGP.aggregator: 10.0.0.1 AS65000" "(65535,666)" "BGP.next_hop: 10.84.1.1"
check "b2 has the marker sent after it" wait_for 5 route_has 2 192.0.2.99/32 "BGP.next_hop: 10.84.2.1"
check "b2 does not have the route selected for b1" route_gone 2 192.0.2.40/32

# the same prefix to the other peer with its own attributes (iBGP: local-pref, reflection attributes)
check "neighbor b2 announce: done" ctl "neighbor 10.84.2.2 peer-as 65001 announce route 192.0.2.40/32 next-hop self" \
	"origin incomplete as-path [ 65030 ] local-preference 200 originator-id 10.0.0.9 cluster-list [ 10.0.0.1 10.0.0.2 ]" \
	"community 65001:2"
check "b2: origin, path as given (iBGP), local-pref, originator-id, cluster-list" \
	wait_for 5 route_has 2 192.0.2.40/32 "BGP.origin: Incomplete" "BGP.as_path: 65030" "BGP.local_pref: 200" \
	"BGP.originator_id: 10.0.0.9" "BGP.cluster_list: 10.0.0.1 10.0.0.2" "(65001,2)"
check "b1 keeps its own attributes" route_has 1 192.0.2.40/32 "BGP.origin: EGP" "(65535,666)"
check "b1 never saw b2's community" route_lacks 1 192.0.2.40/32 "(65001,2)"
check "a selector that does not match the peer: error" \
	eval 'out=$(ctl "neighbor 10.84.1.2 peer-as 65009 announce route 192.0.2.41/32 next-hop self" 2>&1); [ $? = 1 ] && grep -q "peer-as does not match" <<<"$out"'
check "routes marks it per peer" eval 'ctl routes | grep -q "^192.0.2.40/32 *operator (per peer)"'

# a selective withdraw
check "neighbor b1 withdraw: done" ctl "neighbor 10.84.1.2 withdraw route 192.0.2.40/32"
check "gone at b1" wait_for 5 route_gone 1 192.0.2.40/32
check "still at b2" route_has 2 192.0.2.40/32 "(65001,2)"

# replay: each session that comes back gets its own view
bc 1 disable rampart >/dev/null
bc 2 disable rampart >/dev/null
bc 1 enable rampart >/dev/null
bc 2 enable rampart >/dev/null
check "b1 back" wait_for 15 established 1
check "b2 back" wait_for 15 established 2
check "replay: b2 gets its route with its attributes" wait_for 5 route_has 2 192.0.2.40/32 "(65001,2)" "BGP.local_pref: 200"
check "replay: b1 gets the marker" wait_for 5 route_has 1 192.0.2.99/32
check "replay: b1 does not get the route withdrawn from it" route_gone 1 192.0.2.40/32

# extended messages: 20 000 /32 through the pipe, then both sessions replayed while captured
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "announce route 100.%d.%d.%d/32 next-hop self community [65535:666 no-export]\n", 64 + int(i / 65536), int(i / 256) % 256, i % 256 }' >"$W/bulk"
cat "$W/bulk" >"$PIPE"
check "b1 holds all 20 000" wait_for 20 eval '[ "$(count 1)" -ge $((20000 + 1)) ]'
check "b2 holds all 20 000" wait_for 20 eval '[ "$(count 2)" -ge $((20000 + 2)) ]'
ip netns exec sx_rd tshark -q -i veth0 -f "tcp port 179" -w "$W/b1.pcap" >"$W/tshark1.log" 2>&1 &
T1=$!
ip netns exec sx_rd tshark -q -i veth1 -f "tcp port 179" -w "$W/b2.pcap" >"$W/tshark2.log" 2>&1 &
T2=$!
lib_on_exit "kill $T1 $T2"
wait_for 10 grep -q "Capturing on" "$W/tshark1.log"
wait_for 10 grep -q "Capturing on" "$W/tshark2.log"
for b in 1 2; do bc $b disable rampart >/dev/null; bc $b enable rampart >/dev/null; done
check "b1 has all 20 000 again after the replay" wait_for 20 eval 'established 1 && [ "$(count 1)" -ge $((20000 + 1)) ]'
check "b2 has all 20 000 again after the replay" wait_for 20 eval 'established 2 && [ "$(count 2)" -ge $((20000 + 2)) ]'
sleep 0.5
kill -INT $T1 $T2
wait $T1 $T2 2>/dev/null
# The largest UPDATE rampartd (SRC) sent in a capture: its TCP streams reassembled and walked
# message by message by their BGP headers (Wireshark calls anything over 4096 bytes malformed).
maxlen() {
	tshark -r "$1" -Y "ip.src == $2 && tcp.len > 0" -T fields -e tcp.stream -e tcp.payload 2>/dev/null |
		python3 -c '
import sys
streams = {}
for line in sys.stdin:
    parts = line.split()
    if len(parts) == 2:
        streams.setdefault(parts[0], bytearray()).extend(bytes.fromhex(parts[1].replace(":", "")))
best = 0
for data in streams.values():
    i = 0
    while i + 19 <= len(data):
        if data[i:i + 16] != b"\xff" * 16:
            sys.exit("bad marker: framing lost")
        n = data[i + 16] << 8 | data[i + 17]
        if data[i + 18] == 2:
            best = max(best, n)
        i += n
print(best)'
}
M1=$(maxlen "$W/b1.pcap" 10.84.1.1)
M2=$(maxlen "$W/b2.pcap" 10.84.2.1)
echo "largest UPDATE: b1 (extended messages) ${M1:-none} bytes, b2 (without) ${M2:-none} bytes"
check "b1's UPDATEs go beyond 4096 bytes and stay within 65535" eval '[ -n "$M1" ] && [ "$M1" -gt 4096 ] && [ "$M1" -le 65535 ]'
check "b2's UPDATEs never exceed 4096 bytes" eval '[ -n "$M2" ] && [ "$M2" -le 4096 ] && [ "$M2" -gt 3000 ]'
check "rampartd still running" kill -0 $RD_PID
[ -n "${VERBOSE:-}" ] && cat "$W/rampartd.log"
lib_summary
