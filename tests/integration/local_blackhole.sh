#!/bin/bash
# The local blackhole action (actions.local_blackhole): rampartd runs in a network namespace of
# its own and replays a generated capture; every victim, IPv4 and IPv6 and the carpet-bombed /24,
# gets a blackhole route in that namespace's table (`ip route show type blackhole`), a manual
# unban deletes its route at once, ban expiry deletes the rest (a route already deleted by hand
# is a logged, counted failure), and the routes of bans still
# active at shutdown are deleted when rampartd stops. A stale route of ours from a "previous run"
# is deleted at start; an operator's own blackhole route is never touched.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

NS=d3_lb
WORK=$(mktemp -d /tmp/rampart-lb.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null
ip netns add $NS || die "cannot create netns $NS"
ip -n $NS link set lo up
in_ns() { ip netns exec $NS "$@"; }
# a stale route of ours (protocol 201) and one of the operator's (static)
in_ns ip route add blackhole 192.0.2.99/32 proto 201 || die "cannot add the stale route"
in_ns ip route add blackhole 192.0.2.98/32 proto static || die "cannot add the operator's route"

/usr/bin/python3 "$REPO/tests/tools/mkattacks.py" "$WORK/mix.pcap" mix >/dev/null || die "the capture generator failed"
SOCK=$WORK/rampart.sock
cat >"$WORK/rampart.yaml" <<CONF
log_level: debug
networks: [192.0.2.0/24, 198.51.100.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
  outgoing: { pps: 1000 }
hostgroups:
  - name: carpet
    prefixes: [198.51.100.0/24]
    total: { incoming: { pps: 3000 } }
detection:
  ban_time: 8
  unban_only_if_attack_finished: false
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: ""
actions:
  local_blackhole: true
CONF
replay_max "$WORK/mix.pcap" ip netns exec $NS
bh4() { in_ns ip route show type blackhole; }
bh6() { in_ns ip -6 route show type blackhole; }
bh4 >"$WORK/r4"; bh6 >"$WORK/r6"
for v in 192.0.2.50 192.0.2.60 192.0.2.67 192.0.2.77 198.51.100.0/24; do
	check "route: blackhole $v" grep -q "^blackhole $v proto 201" "$WORK/r4"
done
check "route: blackhole 2001:db8:10::11 (IPv6)" grep -Eq "^blackhole 2001:db8:10::11 (dev lo )?proto 201" "$WORK/r6"
check "route: 12 IPv4 blackholes of ours (11 hosts + the /24)" test "$(grep -c 'proto 201' "$WORK/r4")" -eq 12
check "stale route of ours deleted at start" sh -c "! grep -q '^blackhole 192.0.2.99' '$WORK/r4'"
check "the operator's own blackhole untouched" grep -q "^blackhole 192.0.2.98 proto static" "$WORK/r4"
check "no route in the root namespace" sh -c "! ip route show type blackhole | grep -q 'proto 201'"

ctl unban 192.0.2.50 >/dev/null || fail "manual unban"
check "manual unban deletes the route" sh -c "! ip netns exec $NS ip route show type blackhole | grep -q '^blackhole 192.0.2.50 '"
ctl ban 192.0.2.201 --for 3600 >/dev/null || fail "manual ban"
check "manual ban adds a route" sh -c "ip netns exec $NS ip route show type blackhole | grep -q '^blackhole 192.0.2.201 '"
# an operator deletes one route by hand: its unban then fails, is logged and counted, no harm done
in_ns ip route del blackhole 192.0.2.51/32 || fail "cannot delete 192.0.2.51 by hand"
# ban_time 8 s of capture clock: the detected bans expire, the manual one (600 s) stays
wait_for 20 sh -c "! ip netns exec $NS ip -6 route show type blackhole | grep -q 'proto 201' &&
	[ \$(ip netns exec $NS ip route show type blackhole | grep -c 'proto 201') -eq 1 ]" ||
	fail "the routes did not go at ban expiry: $(bh4 | tr '\n' ';') $(bh6 | tr '\n' ';')"
check "stats: added 14 removed 12 failed 1" sh -c "\"$RAMPARTCTL\" -s $SOCK stats | grep -q 'local blackhole: added 14 removed 12 failed 1'"
check "the failed delete is logged" grep -q "local blackhole: cannot delete 192.0.2.51/32" "$WORK/rampartd.log"

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID" 2>/dev/null; PID=
check "routes of active bans deleted at shutdown" sh -c "! ip netns exec $NS ip route show | grep -q 'proto 201'"
check "the operator's route still there" sh -c "ip netns exec $NS ip route show type blackhole | grep -q '^blackhole 192.0.2.98'"
grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log" && fail "sanitizer report in the daemon's log"
[ "$T_FAILS" -ne 0 ] && { echo "--- rampartd log"; tail -15 "$WORK/rampartd.log"; in_ns ip route show; }
finish
