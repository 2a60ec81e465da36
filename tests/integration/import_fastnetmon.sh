#!/bin/bash
# rampartctl import-fastnetmon on Debian's shipped /etc/fastnetmon.conf (package fastnetmon) and
# variants of it (hostgroups with v4 and v6 prefixes, a whitelist, per-protocol thresholds,
# ExaBGP and GoBGP on, NetFlow/sFlow collectors and a mirror on, bans off, one direction off): every
# output passes rampartd --check-config, and --print-config shows FastNetMon's values where they
# belong. Without arguments it reads /etc/fastnetmon.conf and the lists it names; Debian's
# /etc/networks_list has no prefix, so it exits 1 saying so. No root, ~1 s.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries
FNM=/etc/fastnetmon.conf
[ -r "$FNM" ] || die "$FNM is missing: the fastnetmon package provides it (make test-deps)"
W=$(mktemp -d /tmp/rampart-fnm.XXXXXX)
trap 'rm -rf "$W"' EXIT

printf '# customers\n192.0.2.0/24\n198.51.100.7/24\n2001:db8:10::/48\n' >"$W/networks_list"
printf '192.0.2.1/32\n2001:db8:10::1\n' >"$W/networks_whitelist"

# import NAME CONF: converts CONF with the two lists into NAME.yaml, checks it, prints it effective
import() {
	"$RAMPARTCTL" import-fastnetmon "$2" "$W/networks_list" "$W/networks_whitelist" >"$W/$1.yaml" 2>"$W/$1.err"
	local rc=$?
	check "$1: converted (rc $rc)" test $rc -eq 0
	check "$1: the output passes rampartd --check-config" "$RAMPARTD" -c "$W/$1.yaml" --check-config
	"$RAMPARTD" -c "$W/$1.yaml" --print-config >"$W/$1.eff" 2>&1
}
eff() { grep -qF -- "$2" "$W/$1.eff" || { say "not in $1's effective configuration: $2"; return 1; }; }
out() { grep -qF -- "$2" "$W/$1.yaml" || { say "not in $1.yaml: $2"; return 1; }; }

# ---- Debian's file as shipped
import debian "$FNM"
check "debian: networks, host bits cleared" out debian 'networks: ["192.0.2.0/24", "198.51.100.0/24", "2001:db8:10::/48"]'
check "debian: loaded as such" sh -c "grep -qF -- '- \"198.51.100.0/24\"' '$W/debian.eff' && grep -qF -- '- \"2001:db8:10::/48\"' '$W/debian.eff'"
check "debian: whitelist" out debian 'whitelist: ["192.0.2.1/32", "2001:db8:10::1/128"]'
check "debian: loaded as such" eff debian '- "2001:db8:10::1/128"'
check "debian: ban_time 1900 as shipped" eff debian "ban_time: $(sed -n 's/^ban_time = //p' "$FNM")"
check "debian: threshold_pps and threshold_mbps both ways" out debian "outgoing: { pps: $(sed -n 's/^threshold_pps = //p' "$FNM"), mbps: $(sed -n 's/^threshold_mbps = //p' "$FNM") }"
check "debian: the notify script" eff debian "notify_script: \"$(sed -n 's/^notify_script_path = //p' "$FNM")\""
check "debian: every other setting is a comment naming it (redis_host)" out debian "# redis_host = 127.0.0.1 (line"
n_settings=$(grep -cE '^[a-z_0-9]+ *=' "$FNM")
n_lines=$(grep -cE '^# [a-z_0-9]+ = .* \(line [0-9]+\)' "$W/debian.yaml")
n_used=$(grep -oE '[0-9]+ settings read' "$W/debian.err" | cut -d' ' -f1)
check "debian: all $n_settings settings read ($n_used)" test "$n_used" = "$n_settings"

# ---- a variant: the features on, hostgroups, v6
sed -e 's/^mirror_afpacket = off/mirror_afpacket = on/; s/^netflow = off/netflow = on/; s/^sflow = off/sflow = on/' \
	-e 's/^exabgp = off/exabgp = on/; s/^gobgp = off/gobgp = on/; s/^ban_for_tcp_pps = off/ban_for_tcp_pps = on/' \
	-e 's/^ban_for_udp_bandwidth = off/ban_for_udp_bandwidth = on/; s/^ban_for_flows = off/ban_for_flows = on/' \
	-e 's/^netflow_port = 2055/netflow_port = 2055,2056/; s/^process_outgoing_traffic = on/process_outgoing_traffic = off/' \
	-e 's/^unban_only_if_attack_finished = on/unban_only_if_attack_finished = off/' "$FNM" >"$W/features.conf"
cat >>"$W/features.conf" <<'CONF'
hostgroup = my_hosts:192.0.2.128/25,2001:db8:10:1::/64
hostgroup = quiet:192.0.2.64/26
my_hosts_enable_ban = on
my_hosts_ban_for_pps = on
my_hosts_threshold_pps = 5000
quiet_enable_ban = off
CONF
import features "$W/features.conf"
check "features: mirror interfaces" sh -c "grep -qF -- '- \"eth3\"' '$W/features.eff' && grep -qF -- '- \"eth4\"' '$W/features.eff'"
check "features: NetFlow ports" sh -c "grep -qF -- '- \"0.0.0.0:2055\"' '$W/features.eff' && grep -qF -- '- \"0.0.0.0:2056\"' '$W/features.eff'"
check "features: sFlow port" eff features '"0.0.0.0:6343"'
check "features: ExaBGP community and next hop" sh -c "grep -qF '65001:666' '$W/features.eff' && grep -qF 'next_hop_ipv4: \"10.0.3.114\"' '$W/features.eff'"
check "features: GoBGP's IPv6 next hop" eff features 'next_hop_ipv6: "100::1"'
check "features: peers to fill in (bgp commented)" out features '# bgp:'
check "features: the ExaBGP pipe has no equivalent, said so" out features '# exabgp_command_pipe = /var/run/exabgp.cmd'
check "features: per-protocol thresholds, incoming only" out features 'incoming: { pps: 20000, mbps: 1000, flows: 3500, tcp_pps: 100000, udp_mbps: 100000 }'
check "features: no outgoing thresholds" sh -c "! grep -q '^  outgoing:' '$W/features.yaml'"
check "features: unban_only_if_attack_finished off" eff features 'unban_only_if_attack_finished: false'
check "features: hostgroup my_hosts with a v6 prefix" out features 'prefixes: ["192.0.2.128/25", "2001:db8:10:1::/64"]'
check "features: its threshold" out features 'incoming: { pps: 5000 }'
check "features: quiet has no thresholds" sh -c "grep -A3 'name: \"quiet\"' '$W/features.yaml' | grep -q 'thresholds: {}'"
check "features: both groups loaded" sh -c "grep -c '^  - name:' '$W/features.eff' | grep -qx 2"

# ---- bans off
sed 's/^enable_ban = on/enable_ban = off/' "$FNM" >"$W/noban.conf"
import noban "$W/noban.conf"
check "noban: enable_ban off is dry_run" eff noban 'dry_run: true'

# ---- no arguments: Debian's own lists (its networks_list holds no prefix)
if ! grep -qE '^[0-9a-fA-F:.]+/' /etc/networks_list 2>/dev/null; then
	"$RAMPARTCTL" import-fastnetmon >"$W/default.yaml" 2>"$W/default.err"
	rc=$?
	check "no arguments, Debian's empty networks_list: exit 1 (rc $rc)" test $rc -eq 1
	check "saying that no networks were found" grep -q "no networks found" "$W/default.err"
	check "still printing the rest" grep -q "^ban_time: 1900\|^  ban_time: " "$W/default.yaml"
fi
finish
