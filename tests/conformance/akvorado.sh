#!/usr/bin/env bash
# akvorado's flow-decoder fixtures (../shared/data/external/akvorado/) through Rampart's
# collectors and packet decoder: every field akvorado's Go tests assert that a Rampart flow record
# carries, for every case. Rows listed in tests/conformance/EXCEPTIONS (source `akvorado`) are
# reported but do not fail the run.
#   tests/conformance/akvorado.sh [-v]
# Prints `akvorado: N passed, N failed`; exits 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
data=../shared/data/external/akvorado
[ -d "$data" ] || data="$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/data/external/akvorado"
BUILD=${BUILD:-build}
make -s BUILD="$BUILD" "$BUILD/librampart.a" >/dev/null || { echo "build failed"; exit 1; }
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. ${EXTRA_CFLAGS:-} $(pkg-config --cflags libpcap) \
	-o "$BUILD/akvorado_dump" tests/conformance/akvorado_dump.c "$BUILD/librampart.a" \
	$(pkg-config --libs libpcap) -lm ${EXTRA_LDFLAGS:-} || { echo "akvorado_dump build failed"; exit 1; }
exec python3 tests/conformance/akvorado.py "$BUILD/akvorado_dump" "$data" tests/conformance/EXCEPTIONS "$@"
