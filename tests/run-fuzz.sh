#!/usr/bin/env bash
# Short libFuzzer run of every target in DIR, each from its seed corpus in tests/fuzz/corpus/NAME.
# A crash, leak or sanitizer report fails the run and leaves the reproducer in build/fuzz/.
set -u
dir=${1:-build/fuzz}; secs=${2:-20}
pass=0; fail=0
for t in "$dir"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
	if (cd "$dir" && ./"$name" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 "$work" >"$name.log" 2>&1); then
		pass=$((pass + 1)); echo "fuzz $name: ${secs}s clean ($(grep -oE 'Done [0-9]+ runs' "$dir/$name.log" | tail -1))"
	else
		fail=$((fail + 1)); echo "fuzz $name: FAILED"; tail -30 "$dir/$name.log"
	fi
	rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
