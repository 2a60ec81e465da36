# The rig of the live mirror-capture tests (live_afpacket.sh, live_afxdp.sh, capture_dpdk.sh):
# rampartd in namespace NS_RD reads a mirror veth (mirror0, no addresses, no IPv6) whose other end
# is in NS_RT, where tcpreplay plays the shared capture and a real BIRD peers with rampartd over a
# separate link (veth0, IPv4 and IPv6 transport); a real ClickHouse in NS_RD stores the flows.
# Source it after tests/lib/rampart.sh and interop/lib.sh, with set:
#   NS_RD NS_RT            the two namespaces (unique per test)
#   NET                    the second octet of the test's 10.NET.0.0/24 and 2001:db8:NET::/64
#   CH_HTTP CH_TCP HTTP    ClickHouse's ports and rampartd's HTTP API address (unique per test)
#   DB                     the ClickHouse database of the flows
# It uses W (the test's scratch directory) and sets SOCK (rampartd's control socket).
#
#   live_rig                         namespaces, mirror veth, ClickHouse and BIRD up (or dies)
#   live_conf 'CAPTURE LINE' [DIR]   rampartd's configuration with that line under capture:,
#                                    the storage spool in DIR (default $W/spool)
#   live_check_worker_cpus PID CPU.. checks capture worker k runs on the k-th CPU (capture.*.cpus)
#   live_bird_up                     checks both BIRD sessions come up
#   live_replay                      tcpreplay of the capture at its recorded speed into mirror0
#   live_check_bans                  checks the five victims, and nothing else, are at BIRD
#   live_check_flows                 checks ClickHouse holds every packet of the capture
#   live_check_drop_metrics SRC N    fetches /api/v1/stats and /metrics and checks the N sources
#                                    named by the regex SRC show ring and interface drops at 0
#   live_stop PID                    SIGTERM; checks rampartd exits 0

SOCK=$W/rampart.sock

chq() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_query $CH_HTTP \"\$1\"" _ "$1"; }

live_rig() {
	netns_pair $NS_RD $NS_RT "10.$NET.0.1/24,2001:db8:$NET::1/64" "10.$NET.0.2/24,2001:db8:$NET::2/64" ||
		die "cannot create the namespaces"
	# the mirror link: no addresses and no IPv6, so the only frames on it are the capture's
	ip link add ma$$ type veth peer name mb$$ || die "cannot create the mirror veth"
	ip link set ma$$ netns $NS_RD name mirror0
	ip link set mb$$ netns $NS_RT name mirror0
	local ns
	for ns in $NS_RD $NS_RT; do
		ip netns exec $ns sysctl -qw net.ipv6.conf.mirror0.disable_ipv6=1
		ip -n $ns link set mirror0 up
	done
	ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_start '$W/ch' $CH_HTTP $CH_TCP" ||
		die "clickhouse-server did not start"
	lib_on_exit "ip netns exec $NS_RD bash -c \". '$REPO/tests/lib/clickhouse.sh'; ch_stop '$W/ch'\""
	mkdir -p "$W/bird"
	cat >"$W/bird/bird.conf" <<CONF
router id 10.$NET.0.2;
log "$W/bird/bird.log" all;
protocol device { }
protocol bgp rampart4 {
	local 10.$NET.0.2 as 65002;
	neighbor 10.$NET.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
}
protocol bgp rampart6 {
	local 2001:db8:$NET::2 as 65002;
	neighbor 2001:db8:$NET::1 as 65001;
	hold time 30;
	ipv6 { import all; export none; };
}
CONF
	bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"
}

live_conf() {
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
  $1
bgp:
  local_as: 65001
  router_id: 10.$NET.0.1
  connect_retry: 1
  peers:
    - { address: 10.$NET.0.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.$NET.0.1 }
    - { address: "2001:db8:$NET::2", remote_as: 65002, families: [ipv6-unicast], local_address: "2001:db8:$NET::1" }
storage:
  clickhouse: { url: "http://127.0.0.1:$CH_HTTP", database: $DB }
  dir: ${2:-$W/spool}
  batch_ms: 200
api:
  socket: $SOCK
  http: "$HTTP"
CONF
}

# live_check_missing_interface KIND: a config naming a missing interface (conf nosuch0) stops the
# start with an error naming capture.KIND.interfaces, the interface and the reason, and no worker
# begins capturing.
live_check_missing_interface() {
	conf nosuch0 >"$W/bad.yaml"
	ip netns exec $NS_RD timeout 20 "$RAMPARTD" -c "$W/bad.yaml" >"$W/bad.log" 2>&1
	local rc=$?
	check "a missing interface stops the start (exit $rc)" test $rc -ne 0 -a $rc -ne 124
	check "the error names capture.$1.interfaces, the interface and the reason" \
		grep -q "capture.$1.interfaces: nosuch0: no such interface" "$W/bad.log"
	check "nothing half-started: no worker began capturing" sh -c "! grep -q capturing '$W/bad.log'"
}

# live_check_worker_cpus PID CPU...: capture worker k (thread rampart-capK, in start order) of
# rampartd PID may run only on the k-th CPU given (its affinity) and last ran there (field 39 of
# its /proc stat).
live_check_worker_cpus() {
	local pid=$1 k=0 cpu tid allowed last
	shift
	for cpu in "$@"; do
		tid=$(grep -lx "rampart-cap$k" /proc/$pid/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
		check "capture worker $k is a thread named rampart-cap$k" test -n "$tid"
		allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/$pid/task/${tid:-0}/status 2>/dev/null)
		last=$(sed 's/.*) //' /proc/$pid/task/${tid:-0}/stat 2>/dev/null | awk '{ print $37 }')
		check "capture worker $k may run only on CPU $cpu (Cpus_allowed_list ${allowed:-?})" test "$allowed" = "$cpu"
		check "capture worker $k last ran on CPU $cpu (stat field 39: ${last:-?})" test "$last" = "$cpu"
		k=$((k + 1))
	done
}

live_bird_up() {
	check "BIRD sessions established" wait_for 20 sh -c \
		"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null &&
		 ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart6 .*Established' >/dev/null"
}

live_replay() {
	local start=$SECONDS
	ip netns exec $NS_RT tcpreplay -q -i mirror0 "$DATA/mirror-attack-mix.pcap" >"$W/tcpreplay.log" 2>&1 ||
		{ cat "$W/tcpreplay.log"; die "tcpreplay failed"; }
	log "tcpreplay sent the capture in $((SECONDS - start)) s"
}

live_routes() { birdc_in $NS_RT "$W/bird" show route all; }
live_bird_has() {
	live_routes | awk -v p="$1" '
		$1 == p { inr = 1; next }
		/^[0-9a-f:.]+\/[0-9]+ / { inr = 0 }
		inr && /BGP\.community:/ { c = $0 }
		END { exit !(c ~ /\(65535,666\)/ && c ~ /\(65535,65281\)/) }'
}
live_all_victims_in_bird() {
	local v
	for v in $VICTIMS; do live_bird_has "$v" || return 1; done
}
live_route_count() { live_routes | grep -Ec '^[0-9a-f:.]+/[0-9]+ '; }

live_check_bans() {
	check "every victim announced to BIRD with (65535,666) and no-export" wait_for 20 live_all_victims_in_bird
	local n
	n=$(live_route_count)
	check "exactly the 5 victims at BIRD, no background host (saw $n routes)" test "$n" -eq 5
}

live_check_flows() {
	check "ClickHouse flows hold all 21000 packets" wait_for 30 sh -c \
		"[ \"\$(ip netns exec $NS_RD curl -sS 'http://127.0.0.1:$CH_HTTP/' --data-binary 'SELECT sum(packets) FROM $DB.flows')\" = 21000 ]"
	log "flows: $(chq "SELECT sum(packets) FROM $DB.flows") packets in $(chq "SELECT count() FROM $DB.flows") rows"
}

live_check_drop_metrics() {
	local src=$1 n=$2
	ip netns exec $NS_RD curl -sS "http://$HTTP/api/v1/stats" >"$W/api.json"
	ip netns exec $NS_RD curl -sS "http://$HTTP/metrics" >"$W/metrics"
	check "/api/v1/stats has $n source(s) with ring_drops 0" \
		test "$(grep -oE "\"source\":\"$src\"[^}]*\"ring_drops\":0" "$W/api.json" | wc -l)" -eq "$n"
	check "/metrics has ring and interface drops per source, all 0" sh -c \
		"[ \$(grep -cE '^rampart_capture_(ring|if)_drops_total\\{source=\"$src\"\\} 0\$' '$W/metrics') -eq $((2 * n)) ]"
}

live_stop() {
	kill -TERM "$1"
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1"
	local rc=$?
	check "rampartd exits 0 on SIGTERM" test $rc -eq 0
}
