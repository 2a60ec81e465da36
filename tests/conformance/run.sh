#!/usr/bin/env bash
# Runs every conformance test (tests/conformance/*.sh but this one): other projects' own test
# vectors (../shared/data/external/) through Rampart. Each prints its own
# "SOURCE: N passed, N failed" line; rows in tests/conformance/EXCEPTIONS do not fail.
set -u
cd "$(dirname "$0")/../.."
pass=0; fail=0; failed=()
for t in tests/conformance/*.sh; do
	[ "$(basename "$t")" = run.sh ] && continue
	echo "=== $t"
	if timeout 900 bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
echo "conformance: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failing: ${failed[*]}"; exit 1; }
