#!/bin/bash
# Collectors an attacker cannot lock out (issue 13): a hostile exporter (flows_hostile.py: v9 and
# IPFIX template floods under random source ids from 4000 loopback addresses and from the real
# exporter's own address, zero-length and overlong sets, absurd counts, garbage) floods
# rampartd's NetFlow listener, at default table sizes, twice: the daemon's memory (VmRSS) must
# stay flat from the end of the first flood to the end of the second, the table at its bound.
# An sFlow listener gets its own flood (random agent addresses and sub-agents, absurd sample
# counts and lengths) beside it. Then, with a third flood running, the shared NetFlow v5 and
# sFlow captures are exported to the two listeners from 127.0.0.1: a real BIRD peer must receive
# every IPv4 victim and nothing else; the v5 exporter and the sFlow agent keep their entries,
# every datagram counted and decoded.
# Refusals are counted by reason (rampartctl exporters, /metrics) and logged with an address,
# without flooding the log.
#
# Namespaces hx_rd (rampartd, the senders) / hx_rt (BIRD), 10.91.0.0/24; UDP 25055 and HTTP 25080
# in hx_rd.
# HOSTILE_DATAGRAMS (default 40000) per flood.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
need_binaries
command -v bird >/dev/null || die "bird (BIRD 2) is not installed: make deps"
FLOWS=$DATA/flows
[ -r "$FLOWS/netflow5.pcap" ] || die "no flow captures in $FLOWS"
NS_RD=hx_rd NS_RT=hx_rt
W=$LIB_TMP
PORT=25055
SPORT=25343
N=${HOSTILE_DATAGRAMS:-40000}

netns_pair $NS_RD $NS_RT "10.91.0.1/24" "10.91.0.2/24" || die "cannot create the namespaces"
mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
router id 10.91.0.2;
log "$W/bird/bird.log" all;
protocol device { }
protocol bgp rampart4 {
	local 10.91.0.2 as 65002;
	neighbor 10.91.0.1 as 65001;
	hold time 30;
	ipv4 { import all; export none; };
}
CONF
bird_start $NS_RT "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection: { ban_time: 3600 }
capture:
  pcap: { interfaces: [] }
  netflow: { listen: ["127.0.0.1:$PORT"] }
  sflow: { listen: ["127.0.0.1:$SPORT"] }
  udp_rcvbuf: 8388608
mitigation: { action: blackhole }
bgp:
  local_as: 65001
  router_id: 10.91.0.1
  connect_retry: 1
  peers:
    - { address: 10.91.0.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.91.0.1, hold_time: 30 }
storage: { dir: $W/spool }
api: { socket: $SOCK, http: "127.0.0.1:25080" }
CONF
"$RAMPARTD" -c "$W/rampart.yaml" --check-config || die "the test configuration does not validate"
# Under make asan, ASan's quarantine holds every freed block (up to 256 MB) to catch use after
# free, which reads as growth to the memory-flat check below; this run turns it off, the other
# tests keep it. A binary without ASan ignores the variable.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0 \
	ip netns exec $NS_RD "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
wait_for 30 grep -q "sflow.*listening" "$W/rampartd.log" && wait_for 30 grep -q "netflow.*listening" "$W/rampartd.log" ||
	{ cat "$W/rampartd.log"; die "no listener"; }
check "BIRD session established" wait_for 20 sh -c \
	"ip netns exec $NS_RT birdc -s '$W/bird/bird.ctl' show protocols | grep -E '^rampart4 .*Established' >/dev/null"

rss() { awk '/^VmRSS:/ { print $2 }' /proc/$RD_PID/status; }
hostile() { ip netns exec $NS_RD python3 "$REPO/tests/integration/flows_hostile.py" 127.0.0.1 $PORT --datagrams $N --seed "$1" --sflow-port $SPORT; }
RSS0=$(rss)
hostile 1 >"$W/flood1" || die "the hostile sender failed"
sleep 1
RSS1=$(rss)
hostile 2 >"$W/flood2" || die "the hostile sender failed"
sleep 1
RSS2=$(rss)
ctl exporters >"$W/exporters-flood"
log "two floods of $N datagrams: VmRSS $RSS0 -> $RSS1 -> $RSS2 kB; $(grep refused: "$W/exporters-flood")"
growth=$((RSS2 - RSS1))
check "memory flat: VmRSS grew $growth kB (< 2048) over the second flood" test "$growth" -lt 2048
# per listener (netflow, then sflow): the table at its bound, evicting
bounded() {
	awk -v l="$1" '/^listener/ { on = index($0, "listener " l " ") == 1; if (on) for (i = 1; i < NF; i++) if ($i == "exporters") n = $(i + 1) }
	     on && /refused:/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
	     END { exit !(n == 256 && v["evicted"] > 1000 && v["template_bytes"] <= 16777216) }' "$W/exporters-flood"
}
check "the NetFlow table stayed at max_exporters (256) and kept evicting" bounded netflow
check "the sFlow table (random agents and sub-agents) too" bounded sflow

# A third flood runs while the real NetFlow v5 exporter sends its capture at the recorded pace
# and the sFlow agent its own to the sFlow listener.
hostile 3 >"$W/flood3" &
FLOOD=$!
ip netns exec $NS_RD python3 "$REPO/tests/integration/flows_send.py" "$FLOWS/sflow.pcap" 127.0.0.1 $SPORT >"$W/sents" &
SS=$!
ip netns exec $NS_RD python3 "$REPO/tests/integration/flows_send.py" "$FLOWS/netflow5.pcap" 127.0.0.1 $PORT >"$W/sent5" ||
	fail "the NetFlow v5 capture could not be sent"
wait $SS || fail "the sFlow capture could not be sent"
wait $FLOOD
sleep 2
ctl exporters >"$W/exporters"
routes() { birdc_in $NS_RT "$W/bird" show route; }
routes >"$W/routes"

V4=${VICTIMS% 2001:db8:10::53/128}
for v in $V4; do
	check "victim $v banned in BIRD despite the flood" grep -q "^$v " "$W/routes"
done
n=$(grep -Ec '^[0-9.]+/[0-9]+ ' "$W/routes")
check "exactly the 4 IPv4 victims in BIRD, no background or flood address (saw $n)" test "$n" -eq 4
sent=$(cat "$W/sent5")
check "the NetFlow v5 exporter kept its entry: all $sent datagrams, records, no sequence gap" \
	awk -v d="$sent" '$1 == "127.0.0.1" && $2 == "netflow5" && $5 == d && $6 > 0 && $9 == 0 { f = 1 } END { exit !f }' "$W/exporters"
sents=$(cat "$W/sents")
check "the sFlow agent kept its entry: all $sents datagrams, records, no sequence gap" \
	awk -v d="$sents" '$1 == "127.0.0.1" && $2 == "sflow" && $5 == d && $6 > 0 && $9 == 0 { f = 1 } END { exit !f }' "$W/exporters"
grep -E "^listener|refused:|127\.0\.0\.1 +(netflow5|sflow)" "$W/exporters"
check "refusals and bad datagrams logged with the exporter's address" \
	grep -Eq "exporter 127\.[0-9.]+ domain [0-9]+: |flow exporter 127\.[0-9.]+: " "$W/rampartd.log"
log_lines=$(grep -c "exporter" "$W/rampartd.log")
check "the floods did not flood the log (saw $log_lines exporter lines)" test "$log_lines" -lt 200
ip netns exec $NS_RD curl -s http://127.0.0.1:25080/metrics >"$W/metrics"
metrics_ok() {
	awk '/^rampart_flow_exporters_evicted_total\{/ && $NF > 1000 { e = 1 }
	     /^rampart_flow_refused_total\{.*reason="table_full"/ { r = 1 }
	     END { exit !(e && r) }' "$W/metrics"
}
check "/metrics has the evictions and the refusals by reason" metrics_ok
check "rampartd still running" kill -0 $RD_PID

if ! lib_summary; then
	cat "$W/exporters" | head -40
	echo "--- rampartd log"; tail -40 "$W/rampartd.log"
	exit 1
fi
