#!/bin/bash
# Rampart's schema, encoders and read-back SQL against ClickHouse 26.7 (chDB's libchdb.so, the
# engine as a library: no HTTP server, so the HTTP client and the writer are not in this test;
# storage_clickhouse.sh runs those against 18.16). tests/tools/chdb_storage.c, linked with the
# real storage/ and rampartd/ code, runs four ways in fresh data directories:
#   server shape   every migration as a 26.7 server gets it (IPv6, LowCardinality, CODEC), TTL
#   base shape     the 18.16 DDL on 26.7: a database made by 18.16, the server since upgraded
#   both again     cluster-shaped: the *_local tables (Distributed skipped: no remote_servers)
# each: column types and codecs in system.columns, TTL in engine_full, a batch of flows and one
# of attack events inserted as RowBinary and as Native from our encoders and read back byte for
# byte, the ledger and rollup views, readback.c's `flows` and `talkers` queries.
# Needs scripts/install-chdb.sh (make deps). No network, no ports.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
LIB=${RAMPART_CHDB_LIB:-${RAMPART_CHDB_DIR:-/var/cache/rampart/chdb}/26.7.3-stable.1/libchdb.so}
[ -r "$LIB" ] || die "no $LIB: run scripts/install-chdb.sh (make deps) first"
W=$(mktemp -d /tmp/rampart-chdb.XXXXXX)
trap 'rm -rf "$W"' EXIT
# libchdb.so brings its own allocator and crashes under AddressSanitizer (SEGV at start), so the
# tool is always linked with the plain build (make asan: build/ is made too); the storage code it
# exercises is covered under ASan by test_storage and fuzz_native.
PLAIN=$REPO/build
make -s -C "$REPO" BUILD=build EXTRA_CFLAGS= EXTRA_LDFLAGS= all >/dev/null || die "make all failed"
PKGS="libpcap libevent libevent_pthreads yaml-0.1 libcurl libnl-3.0 libnl-route-3.0"
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -D_GNU_SOURCE -I"$REPO" $(pkg-config --cflags $PKGS) \
	-o "$W/chdb_storage" "$REPO/tests/tools/chdb_storage.c" "$PLAIN/libdaemon.a" "$PLAIN/librampart.a" \
	$(pkg-config --libs $PKGS) -lm -lz -ldl || die "tests/tools/chdb_storage.c did not build"
for mode in "" "--base" "--cluster" "--base --cluster"; do
	rm -rf "$W/data" && mkdir -p "$W/data"
	say "--- chdb_storage ${mode:-(server shape)}"
	if timeout 50 "$W/chdb_storage" "$LIB" "$W/data" $mode >"$W/out" 2>"$W/err"; then
		ok "ClickHouse 26.7, ${mode:-server shape}: $(tail -1 "$W/out")"
	else
		fail "ClickHouse 26.7, ${mode:-server shape}"
	fi
	grep -v '^ok:' "$W/out" | sed 's/^/    /'
	grep -q '^FAIL' "$W/err" && sed 's/^/    /' "$W/err"
done
say "$(( 4 - T_FAILS )) passed, $T_FAILS failed"
[ $T_FAILS -eq 0 ]
