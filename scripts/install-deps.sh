#!/usr/bin/env bash
# Installs the Debian 12 packages of the named sets, and only what is missing:
#
#   scripts/install-deps.sh run      build and run the daemon (what `make run` needs; `make install`
#                                    and `make deb` need no more: dpkg-deb is in dpkg)
#   scripts/install-deps.sh test     run, plus the test tools (cmocka, clang for the fuzz targets) and
#                                    the real peers the integration tests run against
#   scripts/install-deps.sh bench    test, plus what the benchmarks compare against
#   scripts/install-deps.sh deb      what `make deb` adds to run: dpkg-shlibdeps for the Depends line
#
# Several sets may be named; none = test. Idempotent: with everything present it installs nothing
# and says so. Run as root.
set -euo pipefail

# The compiler and the libraries rampartd and rampartctl link (their -dev packages pull the
# runtime libraries; libdpdk-dev pulls DPDK's poll-mode drivers, dpdk adds dpdk-devbind.py and
# dpdk-hugepages.py for binding a NIC and reserving hugepages, docs/CAPTURE.md).
RUN_PKGS=(gcc make pkg-config
	libpcap-dev libevent-dev libyaml-dev libcurl4-openssl-dev libnl-3-dev libnl-route-3-dev
	zlib1g-dev libcap-ng-dev libxdp-dev libbpf-dev libdpdk-dev dpdk)
# Unit tests, fuzz targets, and the real peers and tools the integration tests run against
# (systemd for `systemd-analyze verify` of the unit, libcap2-bin for capsh).
TEST_PKGS=(clang libclang-rt-14-dev libcmocka-dev dpkg-dev
	bird2 gobgpd clickhouse-server clickhouse-client tshark tcpreplay python3-scapy iproute2 procps
	curl socat frr exabgp fastnetmon systemd libcap2-bin)
BENCH_PKGS=(exabgp fastnetmon)
DEB_PKGS=(dpkg-dev)

want=()
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(test)
for s in "${sets[@]}"; do
	case $s in
	run) want+=("${RUN_PKGS[@]}") ;;
	test) want+=("${RUN_PKGS[@]}" "${TEST_PKGS[@]}") ;;
	bench) want+=("${RUN_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
	deb) want+=("${RUN_PKGS[@]}" "${DEB_PKGS[@]}") ;;
	*) echo "usage: $0 [run|test|bench|deb]..." >&2; exit 2 ;;
	esac
done
want+=(${RAMPART_EXTRA_PKGS:-})

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all dependencies of ${sets[*]} present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install packages (run as root or with sudo)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services it installs; the tests start their own instances, in their own
# namespaces and on their own ports, and a router daemon left running in the root namespace would
# only cost memory and CPU.
for svc in bird clickhouse-server frr exabgp fastnetmon gobgpd; do
	if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
		echo "install-deps: stopping and disabling the $svc service"
		systemctl stop "$svc" || true
		systemctl disable "$svc" >/dev/null 2>&1 || true
	elif [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" status >/dev/null 2>&1; then
		echo "install-deps: stopping the $svc service"
		"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
	fi
done
echo "install-deps: done"
