#!/usr/bin/env bash
# BIRD's FlowSpec NLRI vectors (../shared/data/external/bird/flowspec_nlri.tsv, from BIRD's
# lib/flowspec_test.c) through Rampart's FlowSpec decoder. A row passes when Rampart's verdict
# equals BIRD's: valid iff BIRD's strict check (bird_validate, or bird_decode where BIRD's test only
# ran the decoder) is FLOW_ST_VALID, and, where BIRD's decoder repaired the NLRI
# (bird_decode_result_hex), Rampart re-encodes what it decoded to exactly BIRD's repaired bytes
# (the same bits ignored); a rule Rampart decodes but never sends (a "true"/"false" operator) is
# compared by verdict only. Rows listed in tests/conformance/EXCEPTIONS (source `bird`)
# are reported but do not fail. Prints `bird: N passed, N failed`; exits 1 on any failure.
#   tests/conformance/bird.sh [-v]
set -u
cd "$(dirname "$0")/../.."
data=../shared/data/external/bird
[ -d "$data" ] || data="$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/data/external/bird"
BUILD=${BUILD:-build}
verbose=${1:-}
make -s BUILD="$BUILD" "$BUILD/librampart.a" >/dev/null || { echo "build failed"; exit 1; }
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. ${EXTRA_CFLAGS:-} \
	-o "$BUILD/bird_nlri" tests/conformance/bird_nlri.c "$BUILD/librampart.a" -lm ${EXTRA_LDFLAGS:-} \
	|| { echo "bird_nlri build failed"; exit 1; }
tsv="$data/flowspec_nlri.tsv"
got=$(awk -F'\t' 'NR > 1 { print $1 "\t" $3 "\t" $5 }' "$tsv" | "$BUILD/bird_nlri")
pass=0; fail=0; excepted=0
# a tab is whitespace to read, so empty columns would collapse: awk writes "-" for them
while IFS=$'\t' read -r id desc validate decode repaired; do
	state=$validate; [ "$state" = - ] && state=$decode
	[ "$repaired" = - ] && repaired=
	want=invalid; [ "$state" = FLOW_ST_VALID ] && want=valid
	line=$(grep -P "^\Q$id\E\t" <<<"$got")
	have=$(cut -f2 <<<"$line")
	if [ "$have" = valid ] && [ -n "$repaired" ] && [ "$(cut -f3 <<<"$line")" != - ] &&
		[ "$(cut -f3 <<<"$line")" != "${repaired^^}" ]; then
		have="valid, re-encoded $(cut -f3 <<<"$line") not BIRD's repaired $repaired"
	fi
	if [ "$have" = "$want" ]; then
		pass=$((pass + 1))
		[ -n "$verbose" ] && echo "ok   $id ($desc): $have $(cut -f3- <<<"$line")"
		grep -qP "^bird\t\Q$id\E\t" tests/conformance/EXCEPTIONS && echo "listed but passes: $id"
	elif grep -qP "^bird\t\Q$id\E\t" tests/conformance/EXCEPTIONS; then
		excepted=$((excepted + 1))
		echo "excepted $id ($desc): BIRD $state, Rampart $have: $(cut -f3- <<<"$line")"
	else
		fail=$((fail + 1))
		echo "FAIL $id ($desc): BIRD $state, Rampart ${have:-nothing}: $(cut -f3- <<<"$line")"
	fi
done < <(awk -F'\t' 'NR > 1 { for (i = 1; i <= 9; i++) if ($i == "") $i = "-"
	print $1 "\t" $4 "\t" $7 "\t" $8 "\t" $9 }' "$tsv")
echo "bird: $pass passed, $fail failed ($excepted excepted)"
[ $fail -eq 0 ]
