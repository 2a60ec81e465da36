#!/bin/bash
# The HTTP API cannot be driven from a web page (issue 16; docs/OPERATIONS.md, "The API's
# security model"). The cross-site posts a browser sends without asking (text/plain, a form,
# multipart) with the body "ban 192.0.2.61 --for 60" are refused with 415 and ban nothing; a
# request with a foreign Host (DNS rebinding) gets 421; the JSON form works. With api.token_file,
# commands that change state need the bearer token while reading needs none on loopback; off
# loopback (an address in namespace hs_api) every request needs it, and rampartd refuses to
# listen there without one or with a token file others can read. The control socket is 0660,
# group rampart (when it exists), owner root.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_data
need_binaries

WORK=$(mktemp -d /tmp/rampart-httpsafe.XXXXXX)
PID=
NS=hs_api
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	ip netns del $NS 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

PORT=18490
URL=http://127.0.0.1:$PORT
SOCK=$WORK/rampart.sock
VICTIM=192.0.2.61

# start [EXTRA-API-YAML] [ADDRESS] [COMMAND...]: rampartd replaying the shared capture, the API on
# ADDRESS:$PORT (127.0.0.1 by default), waits until its control socket answers
start() {
	local extra=${1:-} addr=${2:-127.0.0.1}
	shift 2 2>/dev/null || shift $#
	cat >"$WORK/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
thresholds:
  incoming: { pps: 500 }
capture:
  pcap:
    interfaces: []
storage:
  dir: $WORK/data
api:
  socket: $SOCK
  http: "$addr:$PORT"
$extra
CONF
	"$@" "$RAMPARTD" -c "$WORK/rampart.yaml" --pcap "$DATA/mirror-attack-mix.pcap" >"$WORK/rampartd.log" 2>&1 &
	PID=$!
	wait_for 30 sh -c "'$RAMPARTCTL' -s '$SOCK' stats | grep -q finished" ||
		{ tail -20 "$WORK/rampartd.log"; die "rampartd did not come up"; }
}
stop() {
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
}
# code ARGS...: curl's HTTP status for ARGS (the body in $WORK/body)
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
banned() { "$RAMPARTCTL" -s "$SOCK" bans | grep -q "$VICTIM/32"; }
json_ban='{"command":"ban 192.0.2.61 --for 60"}'

start
# the socket: mode 0660, owner root, group rampart when the group exists (else root's)
group=root
getent group rampart >/dev/null && group=rampart
check "control socket is mode 0660" test "$(stat -c %a "$SOCK")" = 660
check "control socket is owned by root:$group" test "$(stat -c %U:%G "$SOCK")" = "root:$group"

# the cross-site forms of issue 16
check "text/plain POST of 'ban $VICTIM --for 60': 415" \
	test "$(code -H 'Content-Type: text/plain' --data-binary "ban $VICTIM --for 60" "$URL/api/v1/command")" = 415
check "form POST (x-www-form-urlencoded): 415" \
	test "$(code --data-urlencode "command=ban $VICTIM --for 60" "$URL/api/v1/command")" = 415
check "multipart/form-data POST: 415" \
	test "$(code -F "command=ban $VICTIM --for 60" "$URL/api/v1/command")" = 415
check "curl's default POST (form type), raw command body: 415" \
	test "$(code --data-binary "ban $VICTIM --for 60" "$URL/api/v1/command")" = 415
check "JSON body sent as text/plain: 415" \
	test "$(code -H 'Content-Type: text/plain' --data-binary "$json_ban" "$URL/api/v1/command")" = 415
check "a POST without Content-Type: 415" \
	test "$(code -H 'Content-Type:' --data-binary "$json_ban" "$URL/api/v1/command")" = 415
check "none of them banned $VICTIM" sh -c "! '$RAMPARTCTL' -s '$SOCK' bans | grep -q '$VICTIM/32'"

# DNS rebinding: a foreign name resolving to 127.0.0.1
check "GET with Host: evil.example:$PORT: 421" \
	test "$(code -H "Host: evil.example:$PORT" "$URL/api/v1/bans")" = 421
check "JSON ban with Host: evil.example: 421" \
	test "$(code -H "Host: evil.example" -H 'Content-Type: application/json' --data-binary "$json_ban" "$URL/api/v1/command")" = 421
check "Host with another port: 421" test "$(code -H "Host: 127.0.0.1:80" "$URL/api/v1/bans")" = 421
check "an absolute URI naming another host: 421" \
	test "$(code --request-target "http://evil.example:$PORT/api/v1/bans" "$URL/api/v1/bans")" = 421
check "still nothing banned" sh -c "! '$RAMPARTCTL' -s '$SOCK' bans | grep -q '$VICTIM/32'"
check "Host: localhost:$PORT is served on loopback" test "$(code -H "Host: localhost:$PORT" "$URL/api/v1/bans")" = 200
check "Host: [::1]:$PORT is served on loopback" test "$(code -H "Host: [::1]:$PORT" "$URL/api/v1/bans")" = 200
check "Host: LOCALHOST. (case, trailing dot) is served" test "$(code -H "Host: LOCALHOST." "$URL/api/v1/bans")" = 200
curl -s "$URL/metrics" | grep rampart_api_ >"$WORK/api.metrics"
check "/metrics counts the refusals" sh -c "curl -s '$URL/metrics' | grep -q '^rampart_api_requests_refused_total{reason=\"host\"} 4$' &&
	curl -s '$URL/metrics' | grep -q '^rampart_api_requests_refused_total{reason=\"content_type\"} 6$'"

# the JSON form works
check "JSON POST of the ban: 200 'banned $VICTIM/32'" sh -c "[ \"\$(curl -s -o '$WORK/body' -w '%{http_code}' -H 'Content-Type: application/json; charset=utf-8' --data-binary '$json_ban' '$URL/api/v1/command')\" = 200 ] && grep -qx 'banned $VICTIM/32' '$WORK/body'"
check "$VICTIM is banned" banned
check "a body that is not a JSON object: 400" \
	test "$(code -H 'Content-Type: application/json' --data-binary "ban $VICTIM" "$URL/api/v1/command")" = 400
check "audit line for the HTTP ban: client, token, command, result" grep -Eq 'audit: http client 127\.0\.0\.1:[0-9]+ token no: "ban 192\.0\.2\.61 --for 60": ok: banned 192\.0\.2\.61/32' "$WORK/rampartd.log"
"$RAMPARTCTL" -s "$SOCK" ban 192.0.2.62 >/dev/null
check "audit line for a socket ban: uid and pid (SO_PEERCRED)" grep -Eq 'audit: socket uid 0 pid [0-9]+: "ban 192\.0\.2\.62": ok: banned 192\.0\.2\.62/32' "$WORK/rampartd.log"
check "no audit line for reading" sh -c "! grep -q 'audit: .*\"bans\"' '$WORK/rampartd.log'"
check "JSON unban: 200" test "$(code -H 'Content-Type: application/json' --data-binary "{\"command\":\"unban $VICTIM\"}" "$URL/api/v1/command")" = 200
stop

# a token on loopback: reading needs none, changing state does
printf 'hs-secret-token-0123456789\n' >"$WORK/token"
chmod 600 "$WORK/token"
start "  token_file: $WORK/token"
check "token set, loopback: GET without token: 200" test "$(code "$URL/api/v1/bans")" = 200
check "token set: read-only command without token: 200" \
	test "$(code -H 'Content-Type: application/json' --data-binary '{"command":"bans"}' "$URL/api/v1/command")" = 200
check "token set: ban without token: 401" \
	test "$(code -H 'Content-Type: application/json' --data-binary "$json_ban" "$URL/api/v1/command")" = 401
check "token set: ban with a wrong token: 401" \
	test "$(code -H 'Authorization: Bearer hs-secret-token-0123456788' -H 'Content-Type: application/json' --data-binary "$json_ban" "$URL/api/v1/command")" = 401
check "token set: ban with a token prefix: 401" \
	test "$(code -H 'Authorization: Bearer hs-secret' -H 'Content-Type: application/json' --data-binary "$json_ban" "$URL/api/v1/command")" = 401
check "nothing banned without the token" sh -c "! '$RAMPARTCTL' -s '$SOCK' bans | grep -q '$VICTIM/32'"
check "token set: ban with the token: 200" \
	test "$(code -H 'Authorization: Bearer hs-secret-token-0123456789' -H 'Content-Type: application/json' --data-binary "$json_ban" "$URL/api/v1/command")" = 200
check "$VICTIM is banned with the token" banned
stop

# a token file others can read: refused at start
chmod 644 "$WORK/token"
cat >"$WORK/bad.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
storage: { dir: $WORK/data }
api: { socket: $WORK/bad.sock, http: "127.0.0.1:$PORT", token_file: $WORK/token }
CONF
check "a world-readable token file: rampartd refuses to start, naming it" sh -c \
	"! timeout 20 '$RAMPARTD' -c '$WORK/bad.yaml' --pcap '$DATA/mirror-attack-mix.pcap' >'$WORK/bad.log' 2>&1 && grep -q 'token_file.*others' '$WORK/bad.log'"
chmod 600 "$WORK/token"

# off loopback: an address in a namespace of our own
ip netns add $NS || die "cannot create namespace $NS"
ip -n $NS link set lo up
ip -n $NS link add hs0 type veth peer name hs1
ip -n $NS addr add 10.248.0.1/24 dev hs0
ip -n $NS link set hs1 up
ip -n $NS link set hs0 up
sed "s|http: \"127.0.0.1:$PORT\"|http: \"10.248.0.1:$PORT\"|; s|, token_file: [^ }]*||" "$WORK/bad.yaml" >"$WORK/off.yaml"
check "off loopback without a token: rampartd refuses to start" sh -c \
	"! timeout 20 ip netns exec $NS '$RAMPARTD' -c '$WORK/off.yaml' --pcap '$DATA/mirror-attack-mix.pcap' >'$WORK/off.log' 2>&1 && grep -q 'not a loopback address' '$WORK/off.log'"
start "  token_file: $WORK/token" 10.248.0.1 ip netns exec $NS
OFF=http://10.248.0.1:$PORT
incode() { ip netns exec $NS curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
check "off loopback: GET without token: 401" test "$(incode "$OFF/api/v1/bans")" = 401
check "off loopback: /metrics without token: 401" test "$(incode "$OFF/metrics")" = 401
check "off loopback: GET with the token: 200" \
	test "$(incode -H 'Authorization: Bearer hs-secret-token-0123456789' "$OFF/api/v1/bans")" = 200
check "off loopback: Host: localhost is not ours there: 421" \
	test "$(incode -H 'Authorization: Bearer hs-secret-token-0123456789' -H "Host: localhost:$PORT" "$OFF/api/v1/bans")" = 421
check "off loopback: JSON ban with the token: 200" \
	test "$(incode -H 'Authorization: Bearer hs-secret-token-0123456789' -H 'Content-Type: application/json' --data-binary "$json_ban" "$OFF/api/v1/command")" = 200
stop
finish
