#!/usr/bin/env bash
# ExaBGP's QA vectors (../shared/data/external/exabgp/: 30 FlowSpec, 135 unicast rows, each an API
# line or config route and the UPDATE ExaBGP sent for it) through a running rampartd: its control
# socket takes each line, three raw BGP listeners on loopback (tests/conformance/exabgp_peer.py)
# record the UPDATEs it sends and compare them with ExaBGP's (attributes, NLRI and communities as
# sets). Prints `exabgp-flow: ...` and `exabgp-unicast: N passed, N failed (N excepted)`; exits 1
# on a failing row not listed in tests/conformance/EXCEPTIONS.
#   tests/conformance/exabgp.sh [-v] [ROW_ID...]
set -u
cd "$(dirname "$0")/../.."
data=../shared/data/external/exabgp
[ -d "$data" ] || data="$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/data/external/exabgp"
BUILD=${BUILD:-build}
make -s BUILD="$BUILD" "$BUILD/rampartd" >/dev/null || { echo "build failed"; exit 1; }
work=$(mktemp -d /tmp/rampart-conf-exabgp.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 tests/conformance/exabgp_peer.py "$BUILD/rampartd" "$data" tests/conformance/EXCEPTIONS "$work" "$@"
rc=$?
[ $rc -eq 2 ] && tail -20 "$work/rampartd.log"
exit $rc
