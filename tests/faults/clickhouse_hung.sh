#!/bin/bash
# ClickHouse hung and killed under rampartd itself, while flows flow (the shared capture replayed
# at its recorded speed, ~10 s, so rows keep coming during the fault):
#   1. ClickHouse SIGSTOPped once rows reach it: detection goes on (the victims are banned), SIGTERM
#      to rampartd returns within 1 s, nothing dropped or lost, the spool holds exactly the rows
#      the shutdown summary says (flow rows by the files' names; the events the daemon did not
#      write); SIGCONT (the hung server may still take what was in flight: those batches are
#      spooled as unknown), rampartd started again without traffic: the spool drains and
#      ClickHouse has every flow row and event exactly once (written + spooled, no duplicate).
#   2. The same with ClickHouse SIGKILLed mid-replay, and started again for the replay.
# ClickHouse on 127.0.0.1:18476/19476. No namespaces; root only for ClickHouse as root. ~60 s.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/tests/lib/clickhouse.sh"
need_data
need_binaries
T_PASS=0
ok() { say "ok: $*"; T_PASS=$((T_PASS + 1)); }
W=$(mktemp -d /tmp/rampart-chhung.XXXXXX)
RD=
cleanup() {
	[ -f "$W/ch/pid" ] && kill -CONT "$(cat "$W/ch/pid")" 2>/dev/null
	[ -n "$RD" ] && { kill -9 "$RD"; wait "$RD"; } 2>/dev/null
	ch_kill "$W/ch" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
HTTP=18476 TCP=19476 DB=rampart_hung
ch_start "$W/ch" $HTTP $TCP || die "clickhouse-server did not start"
SOCK=$W/rampart.sock
SPOOL=$W/data/spool
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds: { incoming: { pps: 500 } }
capture: { pcap: { interfaces: [], flow_active_timeout: 1, flow_inactive_timeout: 1 } }
storage: { dir: $W/data, batch_ms: 200, clickhouse: { url: "http://127.0.0.1:$HTTP", database: $DB } }
api: { socket: $SOCK, http: "" }
CONF
count() { local n; n=$(ch_query "SELECT count() FROM $DB.$1" 2>/dev/null) && echo "$n" || echo -1; }
dups() { local n; n=$(ch_query "SELECT count() - uniqExact(batch_id, $2) FROM $DB.$1" 2>/dev/null) && echo "$n" || echo -1; }
# rows in the spool's files of TABLE, by their names (SEQ-TABLE-BATCHID-ROWS[-u].rowbinary)
spool_rows() {
	ls "$SPOOL" 2>/dev/null | sed -n "s/^[0-9a-f]\{16\}-$1-[0-9a-f]\{16\}-\([0-9]*\)\(-u\)\{0,1\}\.rowbinary\$/\1/p" |
		awk '{ s += $1 } END { print s + 0 }'
}
# the shutdown summary's figure NAME (e.g. "written" of "flow rows:" or "events:")
summary() { grep 'storage: flow rows:' "$W/rd.log" | tail -1; }
stop_rd() { # SIGTERM; sets STOP_MS
	local t0
	t0=$(date +%s%N)
	kill -TERM "$RD"
	wait "$RD"
	STOP_RC=$? STOP_MS=$((($(date +%s%N) - t0) / 1000000)) RD=
	cp "$W/rd.log" "${LOGS[-1]}"
}
start_rd() { # [--pcap FILE --pcap-speed recorded]
	rm -f "$SOCK"
	"$RAMPARTD" -c "$W/rampart.yaml" "$@" >"$W/rd.log" 2>&1 &
	LOGS+=("$W/rd.log.$((${#LOGS[@]} + 1))")
	RD=$!
	wait_for 10 "$RAMPARTCTL" -s "$SOCK" stats || { tail -20 "$W/rd.log"; die "rampartd did not start"; }
}
EXP_F=0 EXP_E=0 LOGS=()
# round NAME FAULT: FAULT (stop or kill) once rows reach ClickHouse, bans, SIGTERM, spool checks,
# recovery, replay, exact counts
round() {
	local n=$1 fault=$2 f0 s fw fs fd fl ew ed el sf se
	f0=$(count flows); [ "$f0" -ge 0 ] || f0=0
	start_rd --pcap "$DATA/mirror-attack-mix.pcap" --pcap-speed recorded
	wait_for 10 eval "[ \"\$(count flows)\" -gt $f0 ]" || fail "$n: no flow rows reached ClickHouse"
	if [ "$fault" = stop ]; then kill -STOP "$(cat "$W/ch/pid")"; else ch_kill "$W/ch"; fi
	check "$n: ClickHouse $([ $fault = stop ] && echo SIGSTOPped || echo SIGKILLed): detection goes on, the victim is banned" \
		wait_for 10 eval "ctl bans | grep -q '192.0.2.10/32'"
	sleep 2 # more rows, inserts in flight
	stop_rd
	# the 1 s budget, with the daemon's and the writer's own account of where the time went
	grep -h 'stopped in' "$W/rd.log" | sed "s/^/# $n: /"
	check "$n: SIGTERM returned in $STOP_MS ms (< 1000), rc $STOP_RC" test "$STOP_MS" -lt 1000 -a "$STOP_RC" -eq 0
	s=$(summary)
	say "$n: $s"
	read -r fw fs fd fl ew ed el <<<"$(sed -E 's/.*flow rows: ([0-9]+) written, ([0-9]+) in the spool, ([0-9]+) dropped .*, ([0-9]+) lost at stop; events: ([0-9]+) written, ([0-9]+) dropped .*, ([0-9]+) lost at stop;.*/\1 \2 \3 \4 \5 \6 \7/' <<<"$s")"
	check "$n: nothing dropped or lost (flows $fd $fl, events $ed $el)" test "$fd$fl$ed$el" = 0000
	sf=$(spool_rows flows) se=$(spool_rows attack_events)
	check "$n: the spool holds the $fs flow rows the summary says ($sf in its files)" test "$sf" -eq "$fs" -a "$fs" -gt 0
	check "$n: the ban's events the daemon could not write are in the spool ($se)" test "$se" -ge 1
	EXP_F=$((EXP_F + fw + fs)) EXP_E=$((EXP_E + ew + se))
	if [ "$fault" = stop ]; then kill -CONT "$(cat "$W/ch/pid")"; else ch_start "$W/ch" $HTTP $TCP || die "clickhouse-server did not start again"; fi
	start_rd
	check "$n: restarted without traffic, the spool drains" wait_for 20 eval "[ -z \"\$(ls $SPOOL)\" ]"
	check "$n: ClickHouse has every flow row: $EXP_F" wait_for 5 eval "[ \"\$(count flows)\" = $EXP_F ]"
	check "$n: ... and every event: $EXP_E" eval "[ \"\$(count attack_events)\" = $EXP_E ]"
	check "$n: no row twice" eval "[ \"\$(dups flows 'src, dst, src_port, dst_port, protocol, start_time, start_nsec, end_time, end_nsec, packets, bytes')\" = 0 ]"
	stop_rd
}
round 1 stop
round 2 kill
[ "$T_FAILS" -eq 0 ] || for l in "${LOGS[@]}"; do echo "== $l"; tail -15 "$l"; done
echo "clickhouse_hung: $T_PASS passed, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
