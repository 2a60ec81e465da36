#!/bin/bash
# In replay the capture's timestamps are the clock, so detection must come out the same whatever
# the replay speed: this replays the shared capture at max speed and at its recorded speed (~10 s)
# and requires the same attacks, detected at the same capture time, with the same rates.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries

work_dir speed

SOCK=$WORK/rampart.sock
cat >"$WORK/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3600
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: ""
CONF

# replay SPEED: runs the daemon until the replay is over; leaves the decisions in $WORK/SPEED.*
replay() {
	local speed=$1
	"$RAMPARTD" -c "$WORK/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" --pcap-speed "$speed" \
		>"$WORK/$speed.log" 2>&1 &
	PID=$!
	wait_for 40 sh -c "\"$RAMPARTCTL\" -s $SOCK stats | grep -q finished" ||
		{ tail -20 "$WORK/$speed.log"; die "the $speed replay did not finish within 40 s"; }
	sleep 1
	# attack id, target, direction, since (capture clock), trigger: not the rates of now
	"$RAMPARTCTL" -s "$SOCK" attacks | awk 'NR > 1 && NF > 6 { print $1, $2, $3, $5, $6, $7, $8 }' >"$WORK/$speed.attacks"
	kill -TERM "$PID"; wait "$PID"; PID=
	# the decision lines without the wall-clock timestamp in front
	grep -E 'attack [0-9]+: (attack_detected|ban) ' "$WORK/$speed.log" | cut -d' ' -f2- >"$WORK/$speed.decisions"
}

start=$SECONDS
replay max
say "max speed: $((SECONDS - start)) s"
start=$SECONDS
replay recorded
took=$((SECONDS - start))
say "recorded speed: $took s"

check "the recorded-speed replay took the capture's own time (~10 s, took $took s)" test "$took" -ge 9
check "max speed found the 5 attacks" test "$(wc -l <"$WORK/max.attacks")" -eq 5
check "the same attacks at the same capture time at both speeds" diff "$WORK/max.attacks" "$WORK/recorded.attacks"
check "5 detections and 5 bans logged" test "$(wc -l <"$WORK/max.decisions")" -eq 10
check "the same decisions with the same rates at both speeds" diff "$WORK/max.decisions" "$WORK/recorded.decisions"
[ "$T_FAILS" -ne 0 ] && { cat "$WORK"/max.attacks "$WORK"/recorded.attacks; }
finish
