#!/usr/bin/env bash
# The same FlowSpec rules announced by GoBGP and by Rampart arrive at BIRD 2 identical.
#
#   bg_xa: bench_bgp_announce (AS65001, 10.81.0.1) + gobgpd (AS65003, 10.81.0.5)
#   bg_xb: BIRD 2 (AS65002, 10.81.0.2): protocol "ours" -> tables o4/o6, "theirs" -> t4/t6
#
# For each rule, BIRD's text of the match and the set of its extended communities from our
# session equal those from GoBGP's (the AS path and the protocol name differ, by design).
# Usage: interop/flowspec_same.sh [BUILD_DIR]   (root; exit 0 = all passed, 2 = cannot run)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
. interop/lib.sh

command -v bird >/dev/null || { echo "needs bird2"; exit 2; }
command -v gobgpd >/dev/null || { echo "needs gobgpd (apt-get install gobgpd)"; exit 2; }
lib_driver
SECONDS=0

netns_pair bg_xa bg_xb "10.81.0.1/24,10.81.0.5/24" "10.81.0.2/24" || { echo "FAIL: namespaces"; exit 1; }

B=$LIB_TMP/bird
mkdir -p "$B"
cat >"$B/bird.conf" <<CONF
log "$B/bird.log" all;
router id 10.81.0.2;
protocol device { scan time 1; }
flow4 table o4;
flow6 table o6;
flow4 table t4;
flow6 table t6;
template bgp peer {
	local 10.81.0.2 as 65002;
	passive on;
	hold time 9;
	connect retry time 1;
	error wait time 1, 2;
}
protocol bgp ours from peer {
	neighbor 10.81.0.1 as 65001;
	flow4 { table o4; import all; export none; };
	flow6 { table o6; import all; export none; };
}
protocol bgp theirs from peer {
	neighbor 10.81.0.5 as 65003;
	flow4 { table t4; import all; export none; };
	flow6 { table t6; import all; export none; };
}
CONF
bird_start bg_xb "$B" "$B/bird.conf" || { echo "FAIL: BIRD did not start"; cat "$B/bird.log"; exit 1; }
bc() { birdc_in bg_xb "$B" "$@"; }

G=$LIB_TMP/gobgp
mkdir -p "$G"
cat >"$G/gobgpd.toml" <<CONF
[global.config]
  as = 65003
  router-id = "10.81.0.5"
  port = -1
  local-address-list = ["10.81.0.5"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.81.0.2"
    peer-as = 65002
  [neighbors.transport.config]
    local-address = "10.81.0.5"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
CONF
ip netns exec bg_xa gobgpd -f "$G/gobgpd.toml" --api-hosts 127.0.0.1:50052 >"$G/gobgpd.log" 2>&1 &
GPID=$!
lib_on_exit "kill $GPID"
gb() { ip netns exec bg_xa gobgp -u 127.0.0.1 -p 50052 "$@"; }
wait_for 10 gb global || { echo "FAIL: gobgpd did not start"; cat "$G/gobgpd.log"; exit 1; }

mkfifo "$LIB_TMP/cmd"
: >"$LIB_TMP/out"
ip netns exec bg_xa "$DRV" -a 65001 -i 10.81.0.1 -r 1 -p 10.81.0.2,65002,hold=9,local=10.81.0.1,fam=ipv4-flowspec+ipv6-flowspec \
	<"$LIB_TMP/cmd" >"$LIB_TMP/out" 2>"$LIB_TMP/drv.log" &
DRV_PID=$!
lib_on_exit "kill $DRV_PID"
exec 3>"$LIB_TMP/cmd"
lib_on_exit "exec 3>&-"
cmd() { echo "$*" >&3; }
established() { bc show protocols "$1" | grep -q Established; }
check "our session up" wait_for 15 established ours
check "GoBGP's session up" wait_for 15 established theirs

# each rule twice: ours (flowspec/ text) | GoBGP's CLI words
R=(
"destination 203.0.113.7/32; protocol udp; source-port =123 then discard"
"match destination 203.0.113.7/32 protocol udp source-port ==123 then discard"
"destination 203.0.113.8/32; source 198.51.100.0/24; protocol tcp; destination-port >=1024&<=2048; tcp-flags =syn&!ack then rate-limit 125000"
"match destination 203.0.113.8/32 source 198.51.100.0/24 protocol tcp destination-port '>=1024&<=2048' tcp-flags '=S&!A' then rate-limit 125000"
"destination 203.0.113.9/32; packet-length >=512&<=1500; fragment is-fragment; dscp =46 then redirect 65001:100 mark 10 action sample-terminal"
"match destination 203.0.113.9/32 packet-length '>=512&<=1500' fragment is-fragment dscp ==46 then redirect 65001:100 mark 10 action terminal-sample"
"destination 203.0.113.10/32; port =80; icmp-type =8; icmp-code =0 then redirect 192.0.2.1:7"
"match destination 203.0.113.10/32 port ==80 icmp-type ==8 icmp-code ==0 then redirect 192.0.2.1:7"
"destination 2001:db8:1::7/128; next-header tcp; source-port >=1024; flow-label =12345 then discard"
"match destination 2001:db8:1::7/128 protocol tcp source-port '>=1024' label ==12345 then discard"
)
for ((i = 0; i < ${#R[@]}; i += 2)); do
	cmd "flow ${R[i]}"
	fam=ipv4-flowspec
	[[ ${R[i]} == *2001:* ]] && fam=ipv6-flowspec
	eval "gb global rib -a $fam add ${R[i + 1]}" || echo "gobgp refused: ${R[i + 1]}"
done

# canon TABLE: one line per rule: its match text, then its extended communities sorted
canon() {
	bc show route all table "$1" | /usr/bin/python3 -c '
import re, sys
rules, cur = [], None
for line in sys.stdin:
    if line.startswith("flow"):
        cur = [re.sub(r" *(unreachable)? *\[.*$", "", line.rstrip()), []]
        rules.append(cur)
    elif cur and "BGP.ext_community:" in line:
        cur[1] = sorted(re.findall(r"\(([^)]*)\)", line))
for m, e in sorted(rules):
    print(m, "|", " ".join("(%s)" % c for c in e))'
}
check "all 4 IPv4 rules from us" wait_for 10 eval '[ "$(canon o4 | wc -l)" = 4 ]'
check "all 4 IPv4 rules from GoBGP" wait_for 10 eval '[ "$(canon t4 | wc -l)" = 4 ]'
check "the IPv6 rule from both" wait_for 10 eval '[ "$(canon o6 | wc -l)" = 1 ] && [ "$(canon t6 | wc -l)" = 1 ]'
same() { local a b; a=$(canon "$1"); b=$(canon "$2"); [ -n "$a" ] && [ "$a" = "$b" ]; }
check "IPv4: BIRD sees the same rules with the same actions" same o4 t4
check "IPv6: the same" same o6 t6
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ] || [ -n "${DUMP:-}" ]; then
	canon o4; echo; canon t4; echo; canon o6; canon t6
	tail -5 "$G/gobgpd.log"
fi
cmd quit
lib_summary
