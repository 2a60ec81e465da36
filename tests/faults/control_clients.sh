#!/usr/bin/env bash
# Hostile control socket clients (issue 17; docs/OPERATIONS.md, "The API's security model"), on
# rampartd with no capture:
#   1. connections over api.control_max_clients are closed at once and counted; rampartctl
#      works again once they go;
#   2. a client sending commands without reading a byte of the replies is closed (8 MiB of
#      replies), counted, and the daemon's RSS stays bounded;
#   3. a line longer than 4096 bytes gets its error line and the client is closed;
#   4. a line that trickles in (a byte every 0.5 s, no newline) is closed by the line's 10 s
#      deadline, which its bytes do not renew (the idle timeout they do renew is 300 s);
#   5. ulimit -n low (64) and 200 connections: accept hits EMFILE, the listener pauses instead of
#      spinning (CPU bounded), one "accept failed ... N time(s)" line per 10 s, the failures
#      counted; rampartctl works again once the clients close.
# Port 18497 (HTTP, for /metrics). Prints "control_clients: N passed, N failed". KEEP=1 keeps the
# work directory (the daemon's log) for a look afterwards.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/rampart.sh
need_binaries
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
t() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
WORK=$(mktemp -d /tmp/rampart-faults-ctl.XXXXXX)
PID=
CLIENTS=()
cleanup() {
	for c in "${CLIENTS[@]}"; do kill "$c" 2>/dev/null; done
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
PORT=18497
URL=http://127.0.0.1:$PORT
SOCK=$WORK/rampart.sock
PY=tests/faults/control_clients.py

start() { # MAX_CLIENTS [NOFILE]
	cat >"$WORK/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
storage: { dir: $WORK/data }
api: { socket: $SOCK, http: "127.0.0.1:$PORT", control_max_clients: $1 }
CONF
	rm -f "$SOCK"
	if [ -n "${2:-}" ]; then
		bash -c 'ulimit -n "$1" && exec "$2" -c "$3"' _ "$2" "$RAMPARTD" "$WORK/rampart.yaml" >"$WORK/rampartd.log" 2>&1 &
	else
		"$RAMPARTD" -c "$WORK/rampart.yaml" >"$WORK/rampartd.log" 2>&1 &
	fi
	PID=$!
	wait_for 10 "$RAMPARTCTL" -s "$SOCK" stats || { tail "$WORK/rampartd.log"; die "rampartd did not come up"; }
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$PID"/status; }
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$PID"/stat; }
closed() { metric "rampart_control_clients_closed_total{reason=\"$1\"}"; }

start 4
python3 $PY hold "$SOCK" 10 3 >"$WORK/hold.out" &
CLIENTS+=($!)
wait_for 10 grep -q opened "$WORK/hold.out"
out=$(cat "$WORK/hold.out")
echo "   connection cap 4: $out"
t "1: 10 connections against a cap of 4: 6 closed at once" grep -q "opened=10 closed_at_once=6" <<<"$out"
t "1: 6 counted as max_clients" test "$(closed max_clients)" = 6
wait "${CLIENTS[-1]}"
t "1: rampartctl works again after they close" wait_for 5 "$RAMPARTCTL" -s "$SOCK" stats

before=$(rss_kb)
out=$(python3 $PY noread "$SOCK" 10)
after=$(rss_kb)
echo "   non-reading client: $out; VmRSS ${before} kB -> ${after} kB"
t "2: the client that does not read is closed" grep -q "closed=1" <<<"$out"
t "2: counted as output" test "$(closed output)" = 1
t "2: daemon RSS grew less than 24 MB ($((after - before)) kB)" test $((after - before)) -lt 24576
t "2: the closing is logged" grep -q "client is not reading its replies" "$WORK/rampartd.log"

out=$(python3 $PY longline "$SOCK" 5000)
echo "   long line: $out"
t "3: a 5000-byte line gets its error, then the client is closed" grep -q "closed=1 reply=error:_line_longer_than_4096_bytes" <<<"$out"

out=$(python3 $PY slowline "$SOCK" 0.5 15)
echo "   slow line: $out"
t "4: a trickling line is closed by its 10 s deadline, not renewed by its bytes" \
	awk -v o="$out" 'BEGIN { split(o, a, /[= ]/); exit !(a[2] == 1 && a[4] >= 9.5 && a[4] < 12.0) }'
t "4: counted as timeout" test "$(closed timeout)" = 1
t "4: rampartctl still works" sh -c "\"$RAMPARTCTL\" -s \"$SOCK\" stats >/dev/null"
stop

start 1000 64
cpu0=$(cpu_ticks)
python3 $PY flood "$SOCK" 200 5 >"$WORK/flood.out" &
CLIENTS+=($!)
sleep 5.5
cpu1=$(cpu_ticks)
wait "${CLIENTS[-1]}"
lines=$(grep -c "control socket: accept failed" "$WORK/rampartd.log")
echo "   EMFILE: $(cat "$WORK/flood.out"), CPU $((cpu1 - cpu0)) ticks in ~5.5 s, $lines log lines"
grep "control socket: accept failed" "$WORK/rampartd.log" | head -2 | sed 's/^/   /'
t "5: accept failed and was logged, one line per 10 s ($lines in ~6 s)" test "$lines" -eq 1
t "5: the line gives the count" grep -Eq "control socket: accept failed [0-9]+ time\(s\) in the last 10 s \((Too many open files)" "$WORK/rampartd.log"
t "5: no libevent accept spin in the log" sh -c "! grep -q 'Error from accept' '$WORK/rampartd.log'"
t "5: the loop did not spin: under 2 s of CPU in 5.5 s ($((cpu1 - cpu0)) ticks)" test $((cpu1 - cpu0)) -lt 200
t "5: rampartctl works again after the clients close" wait_for 10 "$RAMPARTCTL" -s "$SOCK" stats
t "5: accept errors are counted" test "$(metric rampart_control_accept_errors_total)" -ge 1
stop
echo "control_clients: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
