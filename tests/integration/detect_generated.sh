#!/bin/bash
# Replays a capture generated at test time (tests/tools/mkattacks.py mix) and checks what
# detection must do beyond the shared capture: a carpet bombing over 198.51.100.0/24 (200 hosts at
# 40 pps each, every host far under its 500 pps, the /24 at 8000 pps over its 3000 pps total) bans
# the /24 and no single host; an outgoing flood from the customer 192.0.2.77 is detected as
# outgoing (and nothing incoming is invented for it); and every further attack kind (ACK and RST
# floods, the amplification kinds by source port, a plain UDP flood, IPv6) is classified right.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

work_dir dg

/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$WORK/mix.pcap" mix >/dev/null ||
	die "the capture generator failed"
SOCK=$WORK/rampart.sock
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, 198.51.100.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
  outgoing: { pps: 1000 }
hostgroups:
  - name: carpet
    prefixes: [198.51.100.0/24]
    thresholds: { incoming: { pps: 500 } }
    total: { incoming: { pps: 3000 } }
detection:
  ban_time: 60
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: ""
CONF

"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
replay_max "$WORK/mix.pcap"
ctl attacks >"$WORK/attacks" || fail "attacks"
ctl bans >"$WORK/bans" || fail "bans"

# (a) carpet bombing: the /24 banned from the group total, no host of it banned or attacked
check "carpet: 198.51.100.0/24 banned (incoming)" \
	awk '$2 == "198.51.100.0/24" && $3 == "incoming" { f = 1 } END { exit !f }' "$WORK/bans"
check "carpet: no single host of the /24 attacked" \
	awk '$2 ~ /^198\.51\.100\./ && $2 != "198.51.100.0/24" { f = 1 } END { exit f }' "$WORK/attacks"

# (b) outgoing attack from a customer
check "outgoing: 192.0.2.77 attacked outgoing" \
	awk '$2 == "192.0.2.77/32" && $3 == "outgoing" { f = 1 } END { exit !f }' "$WORK/attacks"
check "outgoing: no incoming attack on 192.0.2.77" \
	awk '$2 == "192.0.2.77/32" && $3 == "incoming" { f = 1 } END { exit f }' "$WORK/attacks"
check "outgoing: 192.0.2.77 banned" awk '$2 == "192.0.2.77/32" { f = 1 } END { exit !f }' "$WORK/bans"

# (c) every kind classified from the records
n=0
for pair in 192.0.2.50/32=ack_rst_flood 192.0.2.51/32=ack_rst_flood \
	192.0.2.60/32=memcached_amplification 192.0.2.61/32=ssdp_amplification \
	192.0.2.62/32=cldap_amplification 192.0.2.63/32=chargen_amplification \
	192.0.2.64/32=snmp_amplification 192.0.2.65/32=wsd_amplification \
	192.0.2.66/32=dns_amplification 192.0.2.67/32=udp_flood \
	2001:db8:10::11/128=memcached_amplification 192.0.2.77/32=udp_flood; do
	v=${pair%%=*} kind=${pair#*=}
	id=$(awk -v v="$v" '$2 == v { print $1; exit }' "$WORK/attacks")
	[ -n "$id" ] || { fail "no attack on $v"; continue; }
	ctl attack "$id" >"$WORK/attack.$id" || { fail "attack $id"; continue; }
	check "$v: $kind" grep -q "^kind: $kind\$" "$WORK/attack.$id"
	n=$((n + 1))
done
# 12 victims, the /24, nothing else (background and carpet hosts stay quiet)
total=$(awk '/^[0-9]+ attacks$/ { print $1 }' "$WORK/attacks")
check "13 attacks in all (got $total)" test "$total" = 13

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log" && fail "sanitizer report in the daemon's log"
[ "$T_FAILS" -ne 0 ] && { echo "--- attacks"; cat "$WORK/attacks"; echo "--- rampartd log"; tail -30 "$WORK/rampartd.log"; }
finish
