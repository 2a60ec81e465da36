#!/usr/bin/env bash
# Runs every cmocka test binary in DIR; prints one summary line; fails if any test failed.
set -u
dir=${1:-build/tests}
pass=0; fail=0; failed_bins=()
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | awk '{s+=$NF} END {print s+0}')
	f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' <<<"$out" | awk '{s+=$(NF-1)} END {print s+0}')
	pass=$((pass + p)); fail=$((fail + f))
	if [ $rc -ne 0 ]; then
		[ "$f" -gt 0 ] || fail=$((fail + 1))
		failed_bins+=("$(basename "$t")"); echo "$out" | tail -40
	fi
done
echo "unit: $pass passed, $fail failed"
[ ${#failed_bins[@]} -eq 0 ] || { echo "failing: ${failed_bins[*]}"; exit 1; }
