#!/usr/bin/env bash
# Hostile and unlucky API clients (issue 17; docs/OPERATIONS.md, "The API's security model"):
#   1. a client pipelining GET /metrics without reading: the daemon stops reading it, its RSS
#      stays bounded (VmRSS before/after), and the connection is closed by the reply deadline;
#   2. connections over api.http_max_clients are closed at once and counted; the API answers
#      again once they go;
#   3. slowloris (a header byte every 0.5 s) is closed by api.http_request_timeout, which the
#      bytes do not renew; a body sent a byte every 0.5 s likewise;
#   4. ulimit -n low: accept hits EMFILE; the listeners pause instead of spinning (CPU bounded),
#      a bounded number of log lines, the API is reachable again after the clients close, and
#      detection goes on (ticks advance, the replay's bans are there).
# Port 18495 (HTTP). Prints "http_clients: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/lib/rampart.sh
need_data
need_binaries
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
t() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
WORK=$(mktemp -d /tmp/rampart-faults-http.XXXXXX)
PID=
CLIENTS=()
cleanup() {
	for c in "${CLIENTS[@]}"; do kill "$c" 2>/dev/null; done
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
PORT=18495
URL=http://127.0.0.1:$PORT
SOCK=$WORK/rampart.sock
PY=tests/faults/http_clients.py

# start MAX_CLIENTS [NOFILE]: rampartd replaying the shared capture (then idle, the clock going on)
start() {
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
  http: "127.0.0.1:$PORT"
  http_max_clients: $1
  http_request_timeout: 2
CONF
	if [ -n "${2:-}" ]; then
		bash -c 'ulimit -n "$1" && exec "$2" -c "$3" --pcap "$4"' _ "$2" "$RAMPARTD" "$WORK/rampart.yaml" \
			"$DATA/mirror-attack-mix.pcap" >"$WORK/rampartd.log" 2>&1 &
	else
		"$RAMPARTD" -c "$WORK/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" >"$WORK/rampartd.log" 2>&1 &
	fi
	PID=$!
	wait_for 30 sh -c "'$RAMPARTCTL' -s '$SOCK' stats | grep -q finished" || { tail "$WORK/rampartd.log"; die "rampartd did not come up"; }
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$PID"/status; }
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$PID"/stat; }

start 64
curl -s -o /dev/null "$URL/metrics"
before=$(rss_kb)
out=$(python3 $PY pipeline $PORT 4 20)
after=$(rss_kb)
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
echo "   pipelining client: $out; VmRSS ${before} kB -> ${after} kB"
t "the pipelining client is closed by the reply deadline" grep -q "closed=1" <<<"$out"
t "daemon RSS grew less than 16 MB while the client sent $sent bytes" test $((after - before)) -lt 16384

out=$(python3 $PY slowloris $PORT 8)
echo "   slowloris: $out"
t "a timeout is counted (slowloris)" test "$(metric 'rampart_api_connections_closed_total{reason="timeout"}')" -ge 1
t "slowloris is closed within 4 s (timeout 2 s, not renewed by each byte)" \
	awk -v o="$out" 'BEGIN { split(o, a, /[= ]/); exit !(a[2] == 1 && a[4] < 4.0) }'
out=$(python3 $PY slowbody $PORT 8)
echo "   slow body: $out"
t "a body a byte every 0.5 s is closed within 4 s too (the deadline covers headers and body)" \
	awk -v o="$out" 'BEGIN { split(o, a, /[= ]/); exit !(a[2] == 1 && a[4] < 4.0) }'
stop

start 8
python3 $PY hold $PORT 20 3 >"$WORK/hold.out" &
CLIENTS+=($!)
wait_for 10 grep -q opened "$WORK/hold.out"
out=$(cat "$WORK/hold.out")
echo "   connection cap 8: $out"
t "20 connections against a cap of 8: 12 closed at once" grep -q "opened=20 closed_at_once=12" <<<"$out"
wait "${CLIENTS[-1]}"
t "the API answers again after they close" wait_for 5 curl -sf -o /dev/null "$URL/api/v1/stats"
t "12 counted as max_clients" test "$(metric 'rampart_api_connections_closed_total{reason="max_clients"}')" = 12
stop

# out of descriptors: a low ulimit -n and 200 connections (each takes one descriptor)
start 1000 64
ticks0=$(ctl stats | sed -n 's/.*ticks \([0-9]*\).*/\1/p')
cpu0=$(cpu_ticks)
python3 $PY flood $PORT 200 5 >"$WORK/flood.out" &
CLIENTS+=($!)
sleep 5.5
cpu1=$(cpu_ticks)
wait "${CLIENTS[-1]}"
echo "   EMFILE: $(cat "$WORK/flood.out"), CPU $((cpu1 - cpu0)) ticks in ~5.5 s"
lines=$(grep -c "accept failed" "$WORK/rampartd.log")
t "accept failed and was logged, at most 2 lines per listener in ~6 s ($lines)" test "$lines" -ge 1 -a "$lines" -le 4
t "no libevent accept spin in the log" sh -c "! grep -q 'Error from accept' '$WORK/rampartd.log'"
t "the loop did not spin: under 2 s of CPU in 5.5 s ($((cpu1 - cpu0)) ticks)" test $((cpu1 - cpu0)) -lt 200
t "the API is reachable again after the clients close" wait_for 10 curl -sf -o /dev/null "$URL/api/v1/stats"
t "accept errors are counted" test "$(metric rampart_api_accept_errors_total)" -ge 1
ticks1=$(ctl stats | sed -n 's/.*ticks \([0-9]*\).*/\1/p')
t "detection went on (ticks $ticks0 -> $ticks1)" test "$ticks1" -gt "$ticks0"
t "the replay's five bans are there" test "$(curl -s "$URL/api/v1/bans" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" = 5
stop
echo "http_clients: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
