#!/usr/bin/env bash
# Session features of rampartd against ExaBGP 4.2 as a receiver: TCP MD5 over IPv4 and IPv6
# transport, the capability exchange, End-of-RIB, graceful restart of rampartd, peer restart.
#
#   bi_er: rampartd (AS65001)                  ==veth==   bi_ee: exabgp AS65002, connects to us
#            10.236.0.1, 2001:db8:236::1, passive          10.236.0.2, 2001:db8:236::2
#            MD5 "s3cret" (v4), "v6key" (v6)               its process API logs every message as JSON
#
# ExaBGP keeps no RIB of what it receives, so it cannot show routes kept stale; what it can show is
# asserted from its JSON log: both MD5 sessions up (ExaBGP requires the key); our OPEN offers
# graceful restart (120 s, forwarding bit per family), route refresh, 4-octet AS; bans made with
# rampartctl arrive with BLACKHOLE + NO_EXPORT, and one End-of-RIB per family; rampartd killed
# -9 and started again: the session comes back, the re-made ban arrives BEFORE the End-of-RIB
# (bgp.end_of_rib_delay), a ban not re-made is never announced again; ExaBGP killed and started
# again: every ban is announced again, then End-of-RIB.
# Usage: interop/exabgp_session.sh   (root; BUILD selects the binaries; exit 0 = all passed)
set -u
cd "$(dirname "$0")/.."
. tests/lib/rampart.sh
. interop/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 2; }
command -v exabgp >/dev/null || { echo "FAIL: exabgp is not installed (scripts/install-deps.sh installs it)"; exit 1; }
need_binaries
SECONDS=0

netns_pair bi_er bi_ee "10.236.0.1/24,2001:db8:236::1/64" "10.236.0.2/24,2001:db8:236::2/64" ||
	{ echo "FAIL: namespaces"; exit 1; }

E=$LIB_TMP/exabgp
mkdir -p "$E"
J=$E/msgs.json
: >"$J"
cat >"$E/recv.sh" <<SH
#!/bin/sh
while IFS= read -r line; do printf '%s\\n' "\$line" >>"$J"; done
SH
chmod +x "$E/recv.sh"
{
	echo "process recv { run $E/recv.sh; encoder json; }"
	for n in "10.236.0.1 10.236.0.2 ipv4 s3cret" "2001:db8:236::1 2001:db8:236::2 ipv6 v6key"; do
		set -- $n
		cat <<CONF
neighbor $1 {
	router-id 10.236.0.2;
	local-address $2;
	local-as 65002;
	peer-as 65001;
	hold-time 9;
	md5-password "$4";
	family { $3 unicast; }
	capability { graceful-restart 60; route-refresh; }
	api { processes [ recv ]; receive { parsed; open; update; notification; } neighbor-changes; }
}
CONF
	done
} >"$E/exabgp.conf"
exa_start() {
	ip netns exec bi_ee env exabgp.daemon.user=root exabgp.daemon.drop=false exabgp.daemon.daemonize=false \
		exabgp.log.destination="$E/exabgp.log" exabgp.api.pipename=bi-$$ \
		exabgp "$E/exabgp.conf" >>"$E/exabgp.out" 2>&1 &
	EPID=$!
	lib_on_exit "kill -9 $EPID"
}
exa_start

W=$LIB_TMP/rd
mkdir -p "$W"
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, 2001:db8:10::/48]
capture: { pcap: { interfaces: [] } }
# no ban state file: this tests graceful restart alone (a ban not re-made after the restart is
# flushed at End-of-RIB); tests/integration/ban_persist.sh tests restarts with the file
mitigation: { action: blackhole, state_file: "" }
bgp:
  local_as: 65001
  router_id: 10.236.0.1
  connect_retry: 1
  end_of_rib_delay: 3
  peers:
    - { address: 10.236.0.2, remote_as: 65002, password: s3cret, passive: true, families: [ipv4-unicast], hold_time: 9 }
    - { address: "2001:db8:236::2", remote_as: 65002, password: v6key, passive: true, families: [ipv6-unicast], hold_time: 9 }
storage: { dir: $W/spool }
api: { socket: $W/rampart.sock, http: "" }
CONF
rd_start() {
	ip netns exec bi_er "$RAMPARTD" -c "$W/rampart.yaml" >>"$W/rampartd.log" 2>&1 &
	RD=$!
	lib_on_exit "kill -9 $RD"
	wait_for 5 "$RAMPARTCTL" -s "$W/rampart.sock" peers
}
ctl() { "$RAMPARTCTL" -s "$W/rampart.sock" "$@"; }
rd_start || { echo "FAIL: rampartd did not start"; cat "$W/rampartd.log"; exit 1; }

# x CHECK [ARG]: one question to ExaBGP's JSON log (below), exit 0 = yes
cat >"$E/check.py" <<'PY'
import json, sys
want, log = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""
msgs = []
for line in open(log):
    try:
        msgs.append(json.loads(line))
    except ValueError:
        pass
def peer(m):
    return m.get("neighbor", {}).get("address", {}).get("peer")
def ups(p):
    return sum(1 for m in msgs if m.get("type") == "state" and peer(m) == p and m["neighbor"]["state"] == "up")
def events(p, epoch):
    """(kind, key) in order for the epoch-th session (1-based) with peer p: announce/eor"""
    n, out = 0, []
    for m in msgs:
        if peer(m) != p:
            continue
        if m.get("type") == "state" and m["neighbor"]["state"] == "up":
            n += 1
        if n != epoch or m.get("type") != "update":
            continue
        u = m["neighbor"]["message"]
        if "eor" in u:
            out.append(("eor", u["eor"]["afi"] + " " + u["eor"]["safi"]))
            continue
        upd = u.get("update", {})
        for fam, by_nh in upd.get("announce", {}).items():
            for nh, nlris in by_nh.items():
                for x in nlris:
                    out.append(("announce", x["nlri"], nh, upd.get("attribute", {})))
    return out
def opn(p):
    for m in msgs:
        if m.get("type") == "open" and peer(m) == p and m["neighbor"].get("direction") == "receive":
            return m["neighbor"]["open"]
    return None
BH = [[65535, 666], [65535, 65281]]
def caps(p, fam):
    o = opn(p)
    if not o:
        return False
    c = {v.get("name"): v for v in o["capabilities"].values()}
    gr = c.get("graceful restart", {})
    # ExaBGP 4.2 names the per-family Forwarding State bit (RFC 4724 3) "restart"
    return (gr.get("time") == 120 and gr.get("address-family-flags", {}).get(fam) == ["restart"] and
            "route-refresh" in c and "asn4" in c and o.get("asn") == 65001)
def sess(p, epoch, want_nlri, nh, fam, absent=(), ordered=True):
    ev = events(p, epoch)
    ann = [e for e in ev if e[0] == "announce"]
    eor = [i for i, e in enumerate(ev) if e[0] == "eor" and e[1] == fam]
    ok = {e[1] for e in ann if e[2] == nh and e[3].get("community") == BH and e[3].get("as-path") == [65001]}
    if not set(want_nlri) <= ok or not eor or set(absent) & {e[1] for e in ann}:
        return False
    if not ordered:
        return True
    # every wanted route before the End-of-RIB
    last = max(i for i, e in enumerate(ev) if e[0] == "announce" and e[1] in want_nlri)
    return last < eor[0]
V4, V6 = "10.236.0.1", "2001:db8:236::1"
checks = {
    "up4": lambda: ups(V4) >= int(arg or 1),
    "up6": lambda: ups(V6) >= int(arg or 1),
    "caps4": lambda: caps(V4, "ipv4/unicast"),
    "caps6": lambda: caps(V6, "ipv6/unicast"),
    "s1v4": lambda: sess(V4, 1, ["192.0.2.10/32", "192.0.2.11/32"], V4, "ipv4 unicast", ordered=False),
    "s1v6": lambda: sess(V6, 1, ["2001:db8:10::10/128"], V6, "ipv6 unicast", ordered=False),
    "s2v4": lambda: sess(V4, 2, ["192.0.2.10/32"], V4, "ipv4 unicast", absent=["192.0.2.11/32"]),
    "s2v6": lambda: sess(V6, 2, ["2001:db8:10::10/128"], V6, "ipv6 unicast"),
    "s3v4": lambda: sess(V4, 3, ["192.0.2.10/32", "192.0.2.12/32"], V4, "ipv4 unicast"),
    "s3v6": lambda: sess(V6, 3, ["2001:db8:10::10/128"], V6, "ipv6 unicast"),
}
sys.exit(0 if checks[want]() else 1)
PY
x() { python3 "$E/check.py" "$1" "$J" "${2:-}"; }

check "IPv4 transport, MD5: session up" wait_for 30 x up4
check "IPv6 transport, MD5: session up" wait_for 10 x up6
check "our OPEN (v4): graceful restart 120 s + forwarding bit for ipv4 unicast, route refresh, 4-octet AS 65001" x caps4
check "our OPEN (v6): the same for ipv6 unicast" x caps6
ctl ban 192.0.2.10 >/dev/null
ctl ban 192.0.2.11 >/dev/null
ctl ban 2001:db8:10::10 >/dev/null
check "bans at ExaBGP (BLACKHOLE + NO_EXPORT, AS_PATH 65001) and End-of-RIB ipv4 unicast" wait_for 10 x s1v4
check "IPv6: ban and End-of-RIB ipv6 unicast" wait_for 5 x s1v6

# rampartd restarts: ExaBGP cannot keep routes, but the order of what it gets is the GR contract
disown "$RD"
kill -9 "$RD"
sleep 1
rd_start || echo "rampartd did not start again"
sleep 1 # as detection would: it needs about detection.average_s of traffic to ban again
ctl ban 192.0.2.10 >/dev/null
ctl ban 2001:db8:10::10 >/dev/null
check "rampartd back: both sessions up again" wait_for 20 eval 'x up4 2 && x up6 2'
check "after the restart: the re-made ban arrives BEFORE End-of-RIB; the ban not re-made never comes" wait_for 10 x s2v4
check "IPv6 too: re-made ban, then End-of-RIB" wait_for 5 x s2v6
check "rampartd logged the End-of-RIB after the start delay" grep -q "End-of-RIB after the 3s start delay" "$W/rampartd.log"

# peer restart
ctl ban 192.0.2.12 >/dev/null
disown "$EPID"
kill -9 "$EPID"
sleep 0.5
exa_start
check "ExaBGP back: both sessions up again" wait_for 30 eval 'x up4 3 && x up6 3'
check "every ban announced again, then End-of-RIB (v4)" wait_for 10 x s3v4
check "every ban announced again, then End-of-RIB (v6)" wait_for 5 x s3v6
# an unsigned connection from the peer's address, as from a router without the password: the
# kernel drops it (rampartd never sees it) and counts it, and rampartctl peers shows the count
md5_unsigned() { ctl peers | sed -n 's/^TCP MD5 drops .*, unsigned \([0-9]*\),.*/\1/p'; }
before=$(md5_unsigned)
ip netns exec bi_ee timeout 2 bash -c 'exec 3<>/dev/tcp/10.236.0.1/179' 2>/dev/null
check "an unsigned connection from a peer with a password: counted in rampartctl peers (${before:-?} -> $(md5_unsigned))" \
	test "$(md5_unsigned)" -gt "${before:-0}"
check "rampartd still running" kill -0 "$RD"
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	grep -E '"(open|update|state)"' "$J" | tail -n 30
	tail -n 20 "$W/rampartd.log" "$E/exabgp.log"
fi
lib_summary
