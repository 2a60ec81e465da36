#!/bin/bash
# AF_PACKET capture with fanout, real traffic, real BIRD and ClickHouse: tcpreplay plays the shared
# capture at its recorded speed (~10 s) out of namespace cf_rt into a mirror veth (mirror0) that
# rampartd in cf_rd reads with capture.afpacket (2 workers, hash fanout). BIRD in cf_rt peers with
# rampartd over a separate link (veth0, IPv4 and IPv6 transport). Checks: both fanout members
# read frames and together every frame of the capture; no ring, interface or decode drop;
# exactly the five victims banned at BIRD as blackholes, no background host; every packet in
# ClickHouse flow rows; rampartctl stats, /api/v1/stats and /metrics show the per-worker drop
# counters at zero.
# Also: a config naming a missing interface fails at start naming the key, and nothing starts.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make deps"
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=cf_rd NS_RT=cf_rt
W=$LIB_TMP
CH_HTTP=24511 CH_TCP=24512 HTTP=127.0.0.1:24513
netns_pair $NS_RD $NS_RT "10.79.0.1/24,2001:db8:79::1/64" "10.79.0.2/24,2001:db8:79::2/64" ||
	die "cannot create the namespaces"
# the mirror link: no addresses and no IPv6, so the only frames on it are the capture's
ip link add cfa$$ type veth peer name cfb$$ || die "cannot create the mirror veth"
ip link set cfa$$ netns $NS_RD name mirror0
ip link set cfb$$ netns $NS_RT name mirror0
for ns in $NS_RD $NS_RT; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.mirror0.disable_ipv6=1
	ip -n $ns link set mirror0 up
done

ch() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; $*"; }
chq() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_query $CH_HTTP \"\$1\"" _ "$1"; }
ch "ch_start '$W/ch' $CH_HTTP $CH_TCP" || die "clickhouse-server did not start"
lib_on_exit "ip netns exec $NS_RD bash -c \". '$REPO/tests/lib/clickhouse.sh'; ch_stop '$W/ch'\""

mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.79.0.2;
log "$W/bird/bird.log" all;
protocol device { }
protocol bgp rampart4 {
	local 10.79.0.2 as 65002;
	neighbor 10.79.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
}
protocol bgp rampart6 {
	local 2001:db8:79::2 as 65002;
	neighbor 2001:db8:79::1 as 65001;
	hold time 30;
	ipv6 { import all; export none; };
}
CONF
bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
conf() { # conf INTERFACE
	cat <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3600
capture:
  pcap:
    interfaces: []
    flow_active_timeout: 2
    flow_inactive_timeout: 1
  afpacket: { interfaces: [$1], workers: 2, fanout: hash, ring_mb: 16, block_kb: 256 }
bgp:
  local_as: 65001
  router_id: 10.79.0.1
  connect_retry: 1
  peers:
    - { address: 10.79.0.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.79.0.1 }
    - { address: "2001:db8:79::2", remote_as: 65002, families: [ipv6-unicast], local_address: "2001:db8:79::1" }
storage:
  clickhouse: { url: "http://127.0.0.1:$CH_HTTP", database: rampart_afp }
  dir: $W/spool
  batch_ms: 200
api:
  socket: $SOCK
  http: "$HTTP"
CONF
}

# a missing interface: an error at start that names the key and the reason, and no daemon
conf nosuch0 >"$W/bad.yaml"
ip netns exec $NS_RD timeout 20 "$RAMPARTD" -c "$W/bad.yaml" >"$W/bad.log" 2>&1
rc=$?
check "a missing interface stops the start (exit $rc)" test $rc -ne 0 -a $rc -ne 124
check "the error names capture.afpacket.interfaces, the interface and the reason" \
	grep -q "capture.afpacket.interfaces: nosuch0: no such interface" "$W/bad.log"
check "nothing half-started: no worker began capturing" sh -c "! grep -q capturing '$W/bad.log'"

conf mirror0 >"$W/rampart.yaml"
ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 10 sh -c "[ \$(grep -c 'afpacket mirror0 #[12]: capturing' '$W/rampartd.log') -eq 2 ]" ||
	{ cat "$W/rampartd.log"; die "rampartd did not start its two AF_PACKET workers"; }
check "BIRD sessions established" wait_for 20 sh -c \
	"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null &&
	 ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart6 .*Established' >/dev/null"

start=$SECONDS
ip netns exec $NS_RT tcpreplay -q -i mirror0 "$DATA/mirror-attack-mix.pcap" >"$W/tcpreplay.log" 2>&1 ||
	{ cat "$W/tcpreplay.log"; die "tcpreplay failed"; }
log "tcpreplay sent the capture in $((SECONDS - start)) s"
sleep 2
"$RAMPARTCTL" -s "$SOCK" stats >"$W/stats"
grep "^capture" "$W/stats"
field() { grep "^capture afpacket mirror0 #$1:" "$W/stats" | grep -oE " $2 [0-9]+" | awk '{ print $2 }'; }
f1=$(field 1 frames) f2=$(field 2 frames)
check "both fanout members read frames ($f1 + $f2)" test "${f1:-0}" -gt 0 -a "${f2:-0}" -gt 0
check "together they read all 21000 frames (read $((${f1:-0} + ${f2:-0})))" test $((${f1:-0} + ${f2:-0})) -eq 21000
for k in 1 2; do
	for c in kernel_drops ring_drops if_drops bad_blocks truncated malformed; do
		check "worker #$k: $c 0" test "$(field $k $c)" = 0
	done
done

routes() { birdc_in $NS_RT "$W/bird" show route all; }
bird_has() {
	routes | awk -v p="$1" '
		$1 == p { inr = 1; next }
		/^[0-9a-f:.]+\/[0-9]+ / { inr = 0 }
		inr && /BGP\.community:/ { c = $0 }
		END { exit !(c ~ /\(65535,666\)/ && c ~ /\(65535,65281\)/) }'
}
all_victims_in_bird() {
	local v
	for v in $VICTIMS; do bird_has "$v" || return 1; done
}
check "every victim announced to BIRD with (65535,666) and no-export" wait_for 20 all_victims_in_bird
n=$(routes | grep -Ec '^[0-9a-f:.]+/[0-9]+ ')
check "exactly the 5 victims at BIRD, no background host (saw $n routes)" test "$n" -eq 5

check "ClickHouse flows hold all 21000 packets" wait_for 30 sh -c \
	"[ \"\$(ip netns exec $NS_RD curl -sS 'http://127.0.0.1:$CH_HTTP/' --data-binary 'SELECT sum(packets) FROM rampart_afp.flows')\" = 21000 ]"
log "flows: $(chq 'SELECT sum(packets) FROM rampart_afp.flows') packets in $(chq 'SELECT count() FROM rampart_afp.flows') rows"

ip netns exec $NS_RD curl -sS "http://$HTTP/api/v1/stats" >"$W/api.json"
ip netns exec $NS_RD curl -sS "http://$HTTP/metrics" >"$W/metrics"
check "/api/v1/stats has both workers with ring_drops 0" \
	test "$(grep -oE '"source":"afpacket mirror0 #[12]"[^}]*"ring_drops":0' "$W/api.json" | wc -l)" -eq 2
check "/metrics has ring and interface drops per worker, all 0" sh -c \
	"[ \$(grep -cE '^rampart_capture_(ring|if)_drops_total\\{source=\"afpacket mirror0 #[12]\"\\} 0\$' '$W/metrics') -eq 4 ]"

kill -TERM $RD_PID
for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.1; done
wait $RD_PID; rc=$?
check "rampartd exits 0 on SIGTERM" test $rc -eq 0
if ! lib_summary; then
	cat "$W/stats"; tail -40 "$W/rampartd.log"; exit 1
fi
