#!/usr/bin/env bash
# FastNetMon 1.2.4 (Debian's community edition) switched from ExaBGP to Rampart by configuration
# only: its ExaBGP integration (exabgp = on) writes its ban lines to rampartd's named pipe
# (api.exabgp_pipe), and the bans appear at a BIRD 2 peer of rampartd.
#
#   b3_m: FastNetMon (afpacket on cap0) <- tcpreplay on rep0 (veth cap0/rep0)
#         rampartd (no capture; AS65001, 10.85.0.1)  ==veth==  b3_b: BIRD 2 (AS65002, 10.85.0.2)
# The shared capture mirror-attack-mix.pcap is replayed once at its recorded speed (~10 s).
# Asserts: FastNetMon bans IPv4 victims (its notify script says which); each of them is at BIRD as
# a /32 with FastNetMon's exabgp_community and exabgp_next_hop, from AS65001, source "api" in
# rampartctl routes; no background host is announced; rampartd counted no bad pipe line.
# FastNetMon's ExaBGP integration is IPv4 only (IPv6 bans go to its GoBGP integration).
# Usage: interop/fastnetmon_pipe.sh [BUILD_DIR]   (root; exit 0 = all passed, 2 = cannot run)
set -u
cd "$(dirname "$0")/.."
[ -n "${1:-}" ] && export BUILD=$1
export RAMPART_DATA=${RAMPART_DATA:-/work/shared/data}
. tests/lib/rampart.sh
. interop/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 2; }
[ -x /usr/sbin/fastnetmon ] || { echo "needs fastnetmon (apt-get install fastnetmon)"; exit 2; }
for t in bird tcpreplay; do command -v $t >/dev/null || { echo "needs $t"; exit 2; }; done
need_binaries
need_data
PCAP=$DATA/mirror-attack-mix.pcap
SECONDS=0
# the package runs its own instance under systemd on /etc/fastnetmon.conf; ours runs alone
if command -v systemctl >/dev/null && systemctl is-active --quiet fastnetmon 2>/dev/null; then
	systemctl stop fastnetmon || true
fi

W=$LIB_TMP
netns_pair b3_m b3_b "10.85.0.1/24" "10.85.0.2/24" || { echo "FAIL: namespaces"; exit 1; }
ip -n b3_m link add cap0 type veth peer name rep0 || { echo "FAIL: veth"; exit 1; }
ip -n b3_m link set cap0 up
ip -n b3_m link set rep0 up
# no IPv6 autoconfiguration chatter on the wire FastNetMon watches
ip netns exec b3_m sysctl -qw net.ipv6.conf.cap0.disable_ipv6=1 net.ipv6.conf.rep0.disable_ipv6=1

mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
log "$W/bird/bird.log" all;
router id 10.85.0.2;
protocol device { scan time 1; }
protocol bgp rampart {
	local 10.85.0.2 as 65002; neighbor 10.85.0.1 as 65001; passive on; hold time 9;
	ipv4 { import all; export none; };
}
CONF
bird_start b3_b "$W/bird" "$W/bird/bird.conf" || { echo "FAIL: BIRD did not start"; exit 1; }
bc() { birdc_in b3_b "$W/bird" "$@"; }

PIPE=$W/exabgp.cmd
SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
bgp:
  local_as: 65001
  router_id: 10.85.0.1
  connect_retry: 1
  peers:
    - { address: 10.85.0.2, remote_as: 65002, families: [ipv4-unicast], hold_time: 9 }
storage: { dir: $W/spool }
api:
  socket: $SOCK
  http: ""
  exabgp_pipe: $PIPE
CONF
ip netns exec b3_m "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill $RD_PID; sleep 0.3; kill -9 $RD_PID"
ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
check "BIRD session with rampartd Established" wait_for 15 eval 'bc show protocols rampart | grep -q Established'
check "rampartd made the FIFO FastNetMon writes to" test -p "$PIPE"

# FastNetMon: the packaged configuration, with its ExaBGP integration pointed at our pipe
printf '192.0.2.0/24\n2001:db8:10::/48\n' >"$W/networks_list"
: >"$W/networks_whitelist"
cat >"$W/notify.sh" <<SH
#!/bin/sh
# FastNetMon calls: notify.sh IP DIRECTION PPS ACTION (details on stdin)
echo "\$1 \$4" >>"$W/fnm-bans"
cat >/dev/null
SH
chmod +x "$W/notify.sh"
: >"$W/fnm-bans"
sed -e "s|^enable_ban = .*|enable_ban = on|" \
	-e "s|^process_incoming_traffic = .*|process_incoming_traffic = on|" \
	-e "s|^threshold_pps = .*|threshold_pps = 500|" \
	-e "s|^ban_for_pps = .*|ban_for_pps = on|" \
	-e "s|^ban_for_bandwidth = .*|ban_for_bandwidth = off|" \
	-e "s|^ban_for_flows = .*|ban_for_flows = off|" \
	-e "s|^mirror_afpacket = .*|mirror_afpacket = on|" \
	-e "s|^pcap = .*|pcap = off|" \
	-e "s|^interfaces = .*|interfaces = cap0|" \
	-e "s|^average_calculation_time = .*|average_calculation_time = 2|" \
	-e "s|^networks_list_path = .*|networks_list_path = $W/networks_list|" \
	-e "s|^white_list_path = .*|white_list_path = $W/networks_whitelist|" \
	-e "s|^notify_script_path = .*|notify_script_path = $W/notify.sh|" \
	-e "s|^monitor_local_ip_addresses = .*|monitor_local_ip_addresses = off|" \
	-e "s|^disable_usage_report = .*|disable_usage_report = on|" \
	-e "s|^enable_api = .*|enable_api = off|" \
	-e "s|^prometheus = .*|prometheus = off|" \
	-e "s|^pid_path = .*|pid_path = $W/fastnetmon.pid|" \
	-e "s|^cli_stats_file_path = .*|cli_stats_file_path = $W/fastnetmon.dat|" \
	-e "s|^cli_stats_ipv6_file_path = .*|cli_stats_ipv6_file_path = $W/fastnetmon_ipv6.dat|" \
	-e "s|^exabgp = .*|exabgp = on|" \
	-e "s|^exabgp_command_pipe = .*|exabgp_command_pipe = $PIPE|" \
	-e "s|^exabgp_community = .*|exabgp_community = 65001:666|" \
	-e "s|^exabgp_next_hop = .*|exabgp_next_hop = 10.85.0.66|" \
	-e "s|^exabgp_announce_host = .*|exabgp_announce_host = on|" \
	-e "s|^exabgp_announce_whole_subnet = .*|exabgp_announce_whole_subnet = off|" \
	/etc/fastnetmon.conf >"$W/fastnetmon.conf"
ip netns exec b3_m /usr/sbin/fastnetmon --configuration_file "$W/fastnetmon.conf" \
	--log_file "$W/fastnetmon.log" --disable_pid_logic >"$W/fastnetmon.out" 2>&1 &
FNM_PID=$!
lib_on_exit "kill -9 $FNM_PID"
check "FastNetMon's ExaBGP integration is on" wait_for 10 grep -q "ExaBGP support initialized correctly" "$W/fastnetmon.log"
sleep 1   # its afpacket capture opens after the configuration is read

ip netns exec b3_m tcpreplay -q -i rep0 "$PCAP" >"$W/tcpreplay.log" 2>&1
check "tcpreplay sent the capture" grep -q "Actual: 21000 packets" "$W/tcpreplay.log"

fnm_banned_v4() { grep ' ban$' "$W/fnm-bans" | awk '{print $1}' | grep -v : | sort -u; }
check "FastNetMon banned IPv4 victims" wait_for 10 eval '[ -n "$(fnm_banned_v4)" ]'
# the four IPv4 victims of the capture (../shared/data/README.md); if FastNetMon misses one on a
# busy machine the rest of the test runs on the bans it did make
wait_for 10 eval '[ "$(fnm_banned_v4 | wc -l)" -ge 4 ]'
route_has() {
	local p=$1 out
	shift
	out=$(bc show route all "$p") || return 1
	grep -q "$p" <<<"$out" || return 1
	for pat; do grep -qF -- "$pat" <<<"$out" || return 1; done
}
BANNED=$(fnm_banned_v4 | tr '\n' ' ')
echo "FastNetMon banned: $BANNED"
for v in $BANNED; do
	check "$v/32 at BIRD with FastNetMon's community 65001:666 and next hop 10.85.0.66" \
		wait_for 5 route_has "$v/32" "(65001,666)" "BGP.next_hop: 10.85.0.66" "AS65001"
	check "rampartctl routes: $v/32 from the pipe" eval 'ctl routes | grep -q "^$v/32 *api "'
done
check "the NTP amplification victim 192.0.2.10 is among them" eval 'grep -qw 192.0.2.10 <<<"$BANNED"'
check "no background host (192.0.2.100-140) at BIRD" eval '! bc show route | grep -qE "192\.0\.2\.1[0-4][0-9]/32"'
check "BIRD holds exactly FastNetMon's IPv4 bans" eval \
	'[ "$(bc show route | grep -oE "^192\.0\.2\.[0-9]+" | sort -u | tr "\n" " ")" = "$BANNED" ]'
check "rampartd: no pipe line refused" eval 'ctl stats | grep -q "exabgp: lines [1-9][0-9]* errors 0 "'
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	cat "$W/fnm-bans"; bc show route all; ctl stats | grep exabgp
	tail -n 20 "$W/fastnetmon.log" "$W/rampartd.log"
fi
lib_summary
