#!/bin/bash
# One rampartd per data directory: a second daemon on the same storage.dir exits non-zero at once
# with "storage.dir DIR is used by pid N" (N the first's pid), without touching the first's control
# socket or ban state; the lock file holds the owner's pid; a daemon killed with SIGKILL leaves no
# stale lock (the next one starts); a daemon on another directory runs beside it. No root needed.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
need_binaries

WORK=$(mktemp -d /tmp/rampart-lock.XXXXXX)
PID= PID3=
cleanup() {
	[ -n "$PID" ] && { kill -9 "$PID"; wait "$PID"; } 2>/dev/null
	[ -n "$PID3" ] && { kill -9 "$PID3"; wait "$PID3"; } 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# config NAME DATADIR: a daemon with no capture source, its own control socket
config() {
	cat >"$WORK/$1.yaml" <<CONF
networks: [192.0.2.0/24]
thresholds: { incoming: { pps: 500 } }
capture: { pcap: { interfaces: [] } }
storage: { dir: $2 }
api: { socket: $WORK/$1.sock, http: "" }
CONF
}
config a "$WORK/data"
config b "$WORK/data"
config c "$WORK/other"

start() { "$RAMPARTD" -c "$WORK/$1.yaml" >>"$WORK/$1.log" 2>&1 & }

start a; PID=$!
wait_for 10 "$RAMPARTCTL" -s "$WORK/a.sock" stats || { cat "$WORK/a.log"; die "the first daemon did not start"; }
"$RAMPARTCTL" -s "$WORK/a.sock" ban 192.0.2.9 --for 600 >/dev/null
check "the lock file holds the first daemon's pid" grep -qx "$PID" "$WORK/data/rampartd.pid"

timeout 10 "$RAMPARTD" -c "$WORK/b.yaml" >"$WORK/b.log" 2>&1
rc=$?
check "a second daemon on the same storage.dir exits non-zero (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "it says which directory and which pid" grep -q "storage.dir $WORK/data is used by pid $PID" "$WORK/b.log"
check "it did not bind its control socket" test ! -e "$WORK/b.sock"
check "it did not restore the first's bans (nothing about bans in its log)" sh -c "! grep -qi 'ban' '$WORK/b.log'"
check "the first daemon still runs and answers" sh -c "'$RAMPARTCTL' -s '$WORK/a.sock' stats >/dev/null"
check "the first daemon still has its ban" sh -c "'$RAMPARTCTL' -s '$WORK/a.sock' bans | grep -q 192.0.2.9"
check "the lock file still holds the first daemon's pid" grep -qx "$PID" "$WORK/data/rampartd.pid"

start c; PID3=$!
check "a daemon on another storage.dir runs beside it" wait_for 10 "$RAMPARTCTL" -s "$WORK/c.sock" stats

kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
rm -f "$WORK/a.sock"
start a; PID=$!
check "after a SIGKILL the lock is free: the next daemon starts" wait_for 10 "$RAMPARTCTL" -s "$WORK/a.sock" stats
check "and writes its own pid" grep -qx "$PID" "$WORK/data/rampartd.pid"
check "and restored the ban the killed one kept" sh -c "'$RAMPARTCTL' -s '$WORK/a.sock' bans | grep -q 192.0.2.9"
kill "$PID"; wait "$PID"; rc=$?; PID=
check "SIGTERM stops it cleanly (rc $rc)" test "$rc" -eq 0
finish
