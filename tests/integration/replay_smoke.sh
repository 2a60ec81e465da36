#!/bin/bash
# Replays the shared mirror capture through rampartd with no BGP and no ClickHouse (the `make run`
# situation), and checks through rampartctl what an operator would: every victim of the capture
# is banned and no background host is; manual ban and unban work and bad commands get an error;
# flow rows reach the files; SIGTERM stops the daemon cleanly. Runs under BUILD=build-asan too.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries

work_dir smoke

SOCK=$WORK/rampart.sock
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
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
storage:
  dir: $WORK/data
  batch_ms: 200
api:
  socket: $SOCK
  http: ""
CONF

"$RAMPARTD" -c "$WORK/rampart.yaml" --check-config || die "the test configuration does not validate"
replay_max "$DATA/mirror-attack-mix.pcap"
ctl stats >"$WORK/stats" || fail "stats"
grep -q "frames 21000 decoded 21000 " "$WORK/stats" && ok "21000 frames decoded" ||
	{ fail "frames decoded"; cat "$WORK/stats"; }

ctl bans >"$WORK/bans" || fail "bans"
for v in $VICTIMS; do
	check "victim $v banned" grep -q " $v " "$WORK/bans"
done
check "no background host banned" sh -c "! grep -Eq ' 192\.0\.2\.(1[0-4][0-9])/32 ' '$WORK/bans'"
check "exactly 5 active bans" grep -q "^5 active bans" "$WORK/bans"
ctl attacks >"$WORK/attacks" || fail "attacks"
check "5 attacks recorded" grep -q "^5 attacks" "$WORK/attacks"

check "manual ban" ctl ban 192.0.2.99 --for 60
check "manual ban listed" sh -c "\"$RAMPARTCTL\" -s $SOCK bans | grep -q ' 192.0.2.99/32 '"
check "manual unban" ctl unban 192.0.2.99
check "manual unban gone" sh -c "! \"$RAMPARTCTL\" -s $SOCK bans | grep -q ' 192.0.2.99/32 '"
check "unmonitored address refused" sh -c "! \"$RAMPARTCTL\" -s $SOCK ban 198.51.100.1"
check "unban of an address not banned fails" sh -c "! \"$RAMPARTCTL\" -s $SOCK unban 192.0.2.98"
out=$(ctl frobnicate 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -qi "unknown command" && ok "unknown command gets an error" ||
	fail "unknown command: rc $rc, '$out'"
check "top answers" sh -c "\"$RAMPARTCTL\" -s $SOCK top in pps 3 | grep -q 'hosts tracked'"
check "peers says there is no BGP" sh -c "\"$RAMPARTCTL\" -s $SOCK peers | grep -q 'no BGP peers'"

kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$PID" 2>/dev/null; then
	fail "rampartd still running 10 s after SIGTERM"
else
	wait "$PID"; rc=$?
	PID=
	[ $rc -eq 0 ] && ok "clean exit on SIGTERM" || fail "exit status $rc after SIGTERM"
fi
grep -Eq "storage: flow rows: [1-9][0-9]* written, [0-9]+ in the spool, 0 dropped .*, 0 lost at stop; events: [1-9][0-9]* written, 0 dropped .*, 0 lost at stop" "$WORK/rampartd.log" &&
	ok "flow rows and events written, none dropped" || fail "storage summary: $(grep 'storage:' "$WORK/rampartd.log" | tail -1)"
check "flow file written" sh -c "ls '$WORK'/data/flows-*.rowbinary >/dev/null 2>&1 && [ -s \"\$(ls '$WORK'/data/flows-*.rowbinary | head -1)\" ]"
check "schema.sql beside the files" test -s "$WORK/data/schema.sql"
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$WORK/rampartd.log"; then
	fail "sanitizer report in the daemon's log"; grep -A20 "Sanitizer\|runtime error" "$WORK/rampartd.log" | head -40
fi
[ "$T_FAILS" -ne 0 ] && { echo "--- rampartd log"; tail -50 "$WORK/rampartd.log"; }
finish
