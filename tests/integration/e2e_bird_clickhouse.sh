#!/bin/bash
# The whole path, end to end, with real components: the shared mirror capture is replayed through
# rampartd (500 pps threshold) in namespace rp_rd, where clickhouse-server also runs; BIRD 2 in
# namespace rp_rt is the edge router, peering with rampartd over IPv4 and over IPv6 transport.
# Checks: every victim appears in BIRD as a /32 or /128 with BLACKHOLE (65535,666) and NO_EXPORT
# and no background host does; BIRD restarted mid-ban gets the active bans again; after the ban
# time BIRD has withdrawn them; ClickHouse holds every packet of the capture in flow rows and a
# ban and an unban event per victim; each victim's attack_events rows name its sample pcap
# (detection.attack_pcap, schema 4) and the unban row counts the packets the file holds;
# rampartd stops cleanly with nothing dropped.
# E2E_NS (default rp) prefixes the namespaces, E2E_CH_HTTP/E2E_CH_TCP (18123/19000) ClickHouse's
# ports, so a helper can run it in its own range.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"          # netns_pair, bird_*, check, wait_for, lib_summary (EXIT cleanup)
need_data
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"

NS_RD=${E2E_NS:-rp}_rd NS_RT=${E2E_NS:-rp}_rt
W=$LIB_TMP
CH_HTTP=${E2E_CH_HTTP:-18123}
CH_TCP=${E2E_CH_TCP:-19000}
SAMPLES=50
BAN_TIME=30

ip netns del $NS_RD 2>/dev/null; ip netns del $NS_RT 2>/dev/null
netns_pair $NS_RD $NS_RT "10.77.0.1/24,2001:db8:77::1/64" "10.77.0.2/24,2001:db8:77::2/64" ||
	die "cannot create the namespaces"

# ClickHouse on rp_rd's own loopback, so rampartd reaches it the way it would on a real host.
ch() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; $*"; }
chq() { ip netns exec $NS_RD bash -c ". '$REPO/tests/lib/clickhouse.sh'; ch_query $CH_HTTP \"\$1\"" _ "$1"; }
ch "ch_start '$W/ch' $CH_HTTP $CH_TCP" || die "clickhouse-server did not start"
lib_on_exit "ip netns exec $NS_RD bash -c \". '$REPO/tests/lib/clickhouse.sh'; ch_stop '$W/ch'\""

mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.77.0.2;
log "$W/bird/bird.log" all;
protocol device { }
protocol bgp rampart4 {
	local 10.77.0.2 as 65002;
	neighbor 10.77.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
}
protocol bgp rampart6 {
	local 2001:db8:77::2 as 65002;
	neighbor 2001:db8:77::1 as 65001;
	hold time 30;
	ipv6 { import all; export none; };
}
CONF
bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: $BAN_TIME
  unban_only_if_attack_finished: true
  attack_pcap: { enabled: true, dir: $W/attacks, packets: $SAMPLES, snaplen: 128 }
capture:
  pcap:
    interfaces: []
    flow_active_timeout: 2
    flow_inactive_timeout: 1
mitigation:
  action: blackhole
  blackhole:
    communities: ["65001:666"]
bgp:
  local_as: 65001
  router_id: 10.77.0.1
  connect_retry: 1
  peers:
    - address: 10.77.0.2
      remote_as: 65002
      families: [ipv4-unicast]
      local_address: 10.77.0.1
      hold_time: 30
    - address: "2001:db8:77::2"
      remote_as: 65002
      families: [ipv6-unicast]
      local_address: "2001:db8:77::1"
      hold_time: 30
storage:
  clickhouse:
    url: "http://127.0.0.1:$CH_HTTP"
    database: rampart_e2e
  dir: $W/spool
  batch_ms: 200
api:
  socket: $SOCK
  http: ""
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --check-config || die "the test configuration does not validate"

ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" \
	--pcap-speed max >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
START=$SECONDS

routes() { birdc_in $NS_RT "$W/bird" show route all; }
# bird_has PREFIX: the route is there and carries BLACKHOLE, NO_EXPORT and the configured community
bird_has() {
	routes | awk -v p="$1" '
		$1 == p { inr = 1; next }
		/^[0-9a-f:.]+\/[0-9]+ / { inr = 0 }
		inr && /BGP\.community:/ { c = $0 }
		END { exit !(c ~ /\(65535,666\)/ && c ~ /\(65535,65281\)/ && c ~ /\(65001,666\)/) }'
}
all_victims_in_bird() {
	local v
	for v in $VICTIMS; do bird_has "$v" || return 1; done
}
no_victim_in_bird() {
	local v
	for v in $VICTIMS; do routes | grep -q "^$v " && return 1; done
	return 0
}
route_count() { routes | grep -Ec '^[0-9a-f:.]+/[0-9]+ '; }

check "BIRD sessions established (IPv4 and IPv6 transport)" wait_for 20 sh -c \
	"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null &&
	 ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart6 .*Established' >/dev/null"
check "every victim announced with (65535,666), no-export and (65001,666)" wait_for 20 all_victims_in_bird
routes >"$W/routes-1.txt"
n=$(route_count)
check "exactly the 5 victims and no background host (saw $n routes)" test "$n" -eq 5
check "the /128 victim is in BIRD's IPv6 table" grep -q "^2001:db8:10::53/128 " "$W/routes-1.txt"

# BIRD restarts in the middle of the bans: the new sessions must get every active ban again.
log "restarting BIRD $(( SECONDS - START )) s after start"
bird_stop $NS_RT "$W/bird"
bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start again"
check "after BIRD's restart every active ban is announced again" wait_for 20 all_victims_in_bird
log "bans back in BIRD $(( SECONDS - START )) s after start"

# Ban time over and the attacks finished: the routes go.
check "BIRD has withdrawn every ban after the ban time" wait_for $((BAN_TIME + 30)) no_victim_in_bird
log "withdrawn $(( SECONDS - START )) s after start"
check "BIRD holds no route from rampartd" test "$(route_count)" -eq 0

# ClickHouse: every packet of the capture is in a flow row, and each victim has its events.
packets() { chq "SELECT sum(packets) FROM rampart_e2e.flows"; }
check "ClickHouse flows hold all 21000 packets of the capture" wait_for 20 sh -c "[ \"\$(ip netns exec $NS_RD curl -sS 'http://127.0.0.1:$CH_HTTP/' --data-binary 'SELECT sum(packets) FROM rampart_e2e.flows')\" = 21000 ]"
log "flows: $(packets) packets in $(chq 'SELECT count() FROM rampart_e2e.flows') rows"
# the last unban may still be in the writer's batch when BIRD already shows the withdrawal
wait_for 10 sh -c "[ \"\$(ip netns exec $NS_RD curl -sS 'http://127.0.0.1:$CH_HTTP/' --data-binary \"SELECT count() FROM rampart_e2e.attack_events WHERE event = 'unban'\")\" -ge 5 ]"
chq "SELECT IPv6NumToString(target), target_len, countIf(event = 'attack_detected'), countIf(event = 'ban'), countIf(event = 'unban'), uniqExact(attack_id) FROM rampart_e2e.attack_events GROUP BY target, target_len ORDER BY target FORMAT TSV" >"$W/events.tsv"
cat "$W/events.tsv"
for v in $VICTIMS; do
	a=${v%/*} len=${v#*/}
	case $a in *.*) a="::ffff:$a" ;; esac
	check "events for $v: one attack with attack_detected, ban and unban" \
		grep -q "^$a	$len	1	1	1	1$" "$W/events.tsv"
done
check "no events for background hosts" test "$(wc -l <"$W/events.tsv")" -eq 5
# the attack's sample pcap in its rows: every row of the attack names the same file, the unban
# row counts the samples written by then, which is what the file on disk holds
chq "SELECT IPv6NumToString(target), attack_id, uniqExact(pcap_file), any(pcap_file), maxIf(pcap_packets, event = 'unban') FROM rampart_e2e.attack_events GROUP BY target, attack_id ORDER BY target FORMAT TSV" >"$W/pcaps.tsv"
cat "$W/pcaps.tsv"
for v in $VICTIMS; do
	a=${v%/*}
	case $a in *.*) t="::ffff:$a" ;; *) t=$a ;; esac
	id=$(awk -v t="$t" '$1 == t { print $2 }' "$W/pcaps.tsv")
	check "attack_events of $v: pcap_file $W/attacks/$id-$a.pcap on every row, unban row: $SAMPLES packets" \
		grep -qx "$t	$id	1	$W/attacks/$id-$a.pcap	$SAMPLES" "$W/pcaps.tsv"
	check "$W/attacks/$id-$a.pcap holds the $SAMPLES packets the row says" \
		sh -c "[ \"\$(capinfos -c -M '$W/attacks/$id-$a.pcap' 2>/dev/null | awk '/Number of packets/ { print \$NF }')\" = $SAMPLES ]"
done

kill -TERM $RD_PID
for _ in $(seq 50); do kill -0 $RD_PID 2>/dev/null || break; sleep 0.2; done
wait $RD_PID; rc=$?
check "rampartd exits 0 on SIGTERM" test $rc -eq 0
check "storage dropped nothing" grep -Eq "storage: flow rows: [0-9]+ written, [0-9]+ in the spool, 0 dropped .*, 0 lost at stop; events: [0-9]+ written, 0 dropped .*, 0 lost at stop" "$W/rampartd.log"
if ! lib_summary; then
	echo "--- rampartd log"; tail -60 "$W/rampartd.log"
	echo "--- BIRD log"; tail -30 "$W/bird/bird.log"
	exit 1
fi
