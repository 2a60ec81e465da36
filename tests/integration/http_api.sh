#!/bin/bash
# The HTTP API (api.http): replays the shared capture and reads it back the way a dashboard or
# Prometheus would: /metrics in valid exposition format with the right figures, the JSON API
# (bans, attacks, top, peers, stats) with exactly the five victims, commands over POST, and
# clear 400/404/405 answers for wrong requests.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries

work_dir http

PORT=18480
URL=http://127.0.0.1:$PORT
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
  http: "127.0.0.1:$PORT"
CONF
"$RAMPARTD" -c "$WORK/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" >"$WORK/rampartd.log" 2>&1 &
PID=$!
wait_for 30 sh -c "curl -sf $URL/api/v1/stats | grep -q '\"finished\":true'" ||
	{ tail -20 "$WORK/rampartd.log"; die "the replay did not finish within 30 s"; }
sleep 1

# status CODE METHOD PATH [BODY]: the HTTP status is CODE
status() {
	local want=$1 method=$2 path=$3 body=${4:-}
	local got
	if [ "$path" = /api/v1/command ]; then # a command goes as JSON: {"command": LINE}
		body=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"command": sys.argv[1]}))' "$body")
		got=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
			--data-binary "$body" "$URL$path")
	elif [ -n "$body" ]; then
		got=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$method" --data-binary "$body" "$URL$path")
	else
		got=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$method" "$URL$path")
	fi
	[ "$got" = "$want" ] || { say "$method $path: HTTP $got, wanted $want: $(head -c 300 "$WORK/body")"; return 1; }
}
# json PATH PYTHON-EXPR: fetches PATH and evaluates the expression on it as d; true if truthy
json() {
	curl -sf "$URL$1" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"
}

curl -sf "$URL/metrics" >"$WORK/metrics" || fail "GET /metrics"
check "/metrics is valid Prometheus text" /usr/bin/python3 - "$WORK/metrics" <<'PY'
import re, sys
ok = True
types = set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        types.add(line.split()[2]); continue
    if line.startswith("#") or not line: continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.eE+-]+)$', line)
    if not m or m.group(1) not in types:
        print("bad line:", line); ok = False
sys.exit(0 if ok else 1)
PY
check "/metrics: 21000 frames read" grep -Eq '^rampart_capture_frames_total\{source="[^"]*"\} 21000$' "$WORK/metrics"
check "/metrics: 21000 decoded" grep -Eq '^rampart_capture_decode_total\{source="[^"]*",result="ok"\} 21000$' "$WORK/metrics"
check "/metrics: 5 active bans" grep -q '^rampart_bans_active 5$' "$WORK/metrics"
check "/metrics: storage counters" grep -q '^rampart_storage_rows_total{table="attack_events",state="queued"} 10$' "$WORK/metrics"

victims=$(for v in $VICTIMS; do printf '"%s",' "$v"; done)
check "/api/v1/bans: exactly the five victims" json /api/v1/bans \
	"d['count'] == 5 and sorted(b['target'] for b in d['bans']) == sorted([${victims%,}])"
check "/api/v1/bans: trigger and rates" json /api/v1/bans \
	"all(b['trigger']['metric'] == 'pps' and b['trigger']['limit'] == 500 and b['trigger']['value'] > 500 and b['active'] for b in d['bans'])"
check "/api/v1/attacks: five attacks, each with its kind" json /api/v1/attacks "d['count'] == 5 and len(d['attacks']) == 5 and sorted(a['kind'] for a in d['attacks']) == sorted(['ntp_amplification','syn_flood','icmp_flood','udp_flood','fragments'])"
check "/api/v1/top: n=3 gives three hosts, busiest first" json "/api/v1/top?direction=incoming&metric=pps&n=3" \
	"len(d['top']) == 3 and d['top'][0]['rates']['pps'] >= d['top'][1]['rates']['pps'] >= d['top'][2]['rates']['pps']"
check "/api/v1/peers: no BGP" json /api/v1/peers "d['bgp'] is False and d['peers'] == []"
check "/api/v1/stats: capture and storage" json /api/v1/stats \
	"d['capture'][0]['frames'] == 21000 and d['storage']['flows_dropped'] == 0"

check "POST a ban" status 200 POST /api/v1/command "ban 192.0.2.99 --for 60"
check "the ban is listed" json /api/v1/bans "d['count'] == 6"
check "POST an unban" status 200 POST /api/v1/command "unban 192.0.2.99"
check "an unknown command is a 400" status 400 POST /api/v1/command "frobnicate"
check "two commands in one request are refused" status 400 POST /api/v1/command $'bans\nbans'
check "GET on the command resource is a 405" status 405 GET /api/v1/command
check "POST on /metrics is a 405" status 405 POST /metrics x
check "a bad query is a 400" status 400 GET "/api/v1/top?n=0"
check "a bad metric is a 400" status 400 GET "/api/v1/top?metric=furlongs"
check "an unknown path is a 404" status 404 GET /api/v2/nothing
check "the live page" sh -c "curl -sf $URL/ | grep -q '<title>Rampart</title>'"

kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
check "clean exit" test $rc -eq 0
[ "$T_FAILS" -ne 0 ] && tail -20 "$WORK/rampartd.log"
finish
