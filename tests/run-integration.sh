#!/usr/bin/env bash
# Runs every integration test (tests/integration/*.sh) and interop test (interop/*.sh, except
# the library). Each prints its own "N passed, N failed" line; this adds up the scripts.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0; failed=()
for t in tests/integration/*.sh interop/*.sh; do
	[ -f "$t" ] || continue
	case "$(basename "$t")" in lib.sh|_*) continue ;; esac
	echo "=== $t"
	start=$(date +%s)
	if timeout 900 bash "$t"; then
		pass=$((pass + 1)); echo "=== $t: ok ($(( $(date +%s) - start )) s)"
	else
		fail=$((fail + 1)); failed+=("$t"); echo "=== $t: FAILED ($(( $(date +%s) - start )) s)"
	fi
done
echo "integration: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failing: ${failed[*]}"; exit 1; }
