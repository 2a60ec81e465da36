#!/usr/bin/env bash
# The audit trail in ClickHouse: rampartd (no BGP peer, no capture) writes one operator_events
# row per state-changing command into a real ClickHouse 18.16, from each source:
#   - the control socket (rampartctl): a ban, its unban, a refused unban; source 'socket', the
#     caller's uid and rampartctl's pid (SO_PEERCRED)
#   - the HTTP API: a JSON POST with the bearer token; source 'http', client 127.0.0.1:PORT,
#     token 1
#   - the ExaBGP named pipe: an announce line, which is counted, not audited (no row)
# Reading commands (bans, stats) give no row. The stats line and the shutdown summary count the rows written.
# Ports: ClickHouse HTTP 18771, TCP 19771; rampartd's HTTP API 18772.
# Prints "N passed, N failed"; exits non-zero on any failure.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/tests/lib/clickhouse.sh"
need_binaries

pass=0
failed=0
t_ok() { pass=$((pass + 1)); echo "ok   - $*"; }
t_bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
expect() { # description expected actual
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_bad "$1: expected '$2', got '$3'"; fi
}

W=$(mktemp -d /tmp/rampart-opev.XXXXXX)
RD_PID=
cleanup() {
	[ -n "$RD_PID" ] && kill -9 "$RD_PID" 2>/dev/null
	ch_stop "$W/ch"
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

CH_HTTP=18771
CH_TCP=19771
API_PORT=18772
ch_start "$W/ch" $CH_HTTP $CH_TCP || { t_bad "clickhouse-server did not start"; exit 1; }

SOCK=$W/rampart.sock
PIPE=$W/exabgp.cmd
TOKEN=opev-$RANDOM$RANDOM
(umask 077; echo "$TOKEN" >"$W/token")
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture:
  pcap:
    interfaces: []
mitigation:
  state_file: ""
storage:
  clickhouse:
    url: "http://127.0.0.1:$CH_HTTP"
    database: rampart_opev
  dir: $W/spool
  batch_ms: 200
api:
  socket: $SOCK
  http: "127.0.0.1:$API_PORT"
  token_file: $W/token
  exabgp_pipe: $PIPE
CONF
"$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
wait_for 20 test -S "$SOCK" && wait_for 20 test -p "$PIPE" ||
	{ tail -20 "$W/rampartd.log"; t_bad "rampartd did not start"; exit 1; }
# the schema is made by the storage thread: wait for the table before counting on it
wait_for 30 sh -c "curl -sf 'http://127.0.0.1:$CH_HTTP/?query=EXISTS+TABLE+rampart_opev.operator_events' | grep -qx 1" ||
	t_bad "operator_events was not created"

ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
ctl ban 192.0.2.61 --for 60 >/dev/null && t_ok "socket: ban accepted" || t_bad "socket: ban refused"
ctl bans >/dev/null # a reader: no row
ctl unban 192.0.2.61 >/dev/null && t_ok "socket: unban accepted" || t_bad "socket: unban refused"
ctl unban 192.0.2.99 >/dev/null 2>&1 && t_bad "socket: unban of what is not banned accepted" ||
	t_ok "socket: unban of what is not banned refused"
code=$(curl -s -o "$W/post" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary '{"command": "ban 192.0.2.62 --for 60"}' \
	"http://127.0.0.1:$API_PORT/api/v1/command")
expect "http: JSON POST ban answered 200" 200 "$code"
echo "announce route 192.0.2.63/32 next-hop self" >"$PIPE"
wait_for 10 sh -c "'$RAMPARTCTL' -s '$SOCK' routes | grep -q 192.0.2.63/32" &&
	t_ok "pipe: the line ran (its route is held)" || t_bad "pipe: the line did not run"

q() { ch_query "$1" 2>&1; }
rows() { q "SELECT count() FROM rampart_opev.operator_events"; }
wait_for 20 sh -c "[ \"\$(curl -sf 'http://127.0.0.1:$CH_HTTP/?query=SELECT+count()+FROM+rampart_opev.operator_events')\" -ge 4 ]"
sleep 1 # a fifth row would come in the same batch: give it its time before counting
expect "four rows: ban, unban, refused unban, HTTP ban (no row for 'bans' or the pipe's line)" 4 "$(rows)"

sel() { # WHERE: source, client, uid, pid>0, token, ok, result non-empty, batch_id non-zero
	q "SELECT source, client, uid, pid > 0, token, ok, result != '', batch_id != 0 FROM rampart_opev.operator_events WHERE $1 FORMAT TSV"
}
me=$(id -u)
tab=$'\t'
expect "socket ban row" "socket${tab}${tab}$me${tab}1${tab}0${tab}1${tab}1${tab}1" \
	"$(sel "command = 'ban 192.0.2.61 --for 60'")"
expect "socket unban row" "socket${tab}${tab}$me${tab}1${tab}0${tab}1${tab}1${tab}1" \
	"$(sel "command = 'unban 192.0.2.61'")"
expect "refused unban row: ok 0" "socket${tab}${tab}$me${tab}1${tab}0${tab}0${tab}1${tab}1" \
	"$(sel "command = 'unban 192.0.2.99'")"
expect "http row: the client's address, the token, uid -1" \
	"http${tab}127.0.0.1${tab}-1${tab}0${tab}1${tab}1${tab}1${tab}1" \
	"$(q "SELECT source, substring(client, 1, position(client, ':') - 1), uid, pid > 0, token, ok, result != '', batch_id != 0 FROM rampart_opev.operator_events WHERE command = 'ban 192.0.2.62 --for 60' FORMAT TSV")"
expect "http row: client port is a number" 1 \
	"$(q "SELECT toUInt16OrZero(substring(client, position(client, ':') + 1)) > 0 FROM rampart_opev.operator_events WHERE source = 'http'")"
expect "no row for the pipe's line" 0 \
	"$(q "SELECT count() FROM rampart_opev.operator_events WHERE command LIKE 'announce route%'")"
expect "results: the reply's first line" "unban: 192.0.2.99 is not banned" \
	"$(q "SELECT result FROM rampart_opev.operator_events WHERE command = 'unban 192.0.2.99' FORMAT TSV")"
expect "the rows' time is now (within 5 minutes)" 4 \
	"$(q "SELECT count() FROM rampart_opev.operator_events WHERE abs(toInt64(time) - toInt64(now())) < 300 AND date = today()")"
expect "the batches ledger holds them" 4 \
	"$(q "SELECT sum(rows) FROM rampart_opev.batches WHERE tbl = 'operator_events'")"
expect "the audit log lines" 4 "$(grep -c 'audit: ' "$W/rampartd.log")"
expect "stats: operator events written 4" 1 \
	"$(ctl stats | grep -c 'storage operator events: queued 4 written 4 dropped 0')"

kill -TERM "$RD_PID"
wait "$RD_PID"
expect "rampartd exits 0" 0 "$?"
RD_PID=
expect "the shutdown summary counts the operator events" 1 \
	"$(grep -c 'operator events: 4 written, 0 dropped (0 ring full, 0 spool refused), 0 lost; in the spool also 0 events and 0 operator events; in doubt: 0 flow rows, 0 events, 0 operator events' "$W/rampartd.log")"
echo "operator_events: $pass passed, $failed failed"
[ "$failed" -eq 0 ] || { tail -30 "$W/rampartd.log"; exit 1; }
