#!/usr/bin/env bash
# The fault-injection suite (docs/TESTING.md): every tests/faults/*.sh but this one, and the
# scripted RFC 7606 peer (interop/rfc7606_peer.sh): storage_faults (the writer alone),
# banstate_full (a full disk under the ban state file), bgp_malformed_bird (RFC 7606 at real
# BIRD), clickhouse_hung (ClickHouse hung and killed under rampartd), http_clients
# (hostile API clients, EMFILE), control_clients (hostile control socket clients, EMFILE), spool_full_summary (the shutdown
# summary on a full spool disk). Each script is one pass or one failure;
# prints "faults: N passed, N failed" and fails if any failed. Exit 2 from a script (cannot
# run here, e.g. not root) counts as a failure: the suite is part of make test.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0 failed=()
for t in tests/faults/*.sh interop/rfc7606_peer.sh; do
	[ "$(basename "$t")" = run.sh ] && continue
	out=$(bash "$t" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); failed+=("$t"); echo "$out" | tail -30
	fi
	echo "$(basename "$t"): $(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)"
done
echo "faults: $pass passed, $fail failed"
[ ${#failed[@]} -eq 0 ] || { echo "failing: ${failed[*]}"; exit 1; }
