#!/usr/bin/env bash
# Installs what Rampart needs to build and test on Debian 12, and only what is missing.
# Idempotent: with everything present it installs nothing and says so. Run as root.
set -euo pipefail

BUILD_PKGS=(gcc make pkg-config clang libclang-rt-14-dev
	libpcap-dev libevent-dev libyaml-dev libcurl4-openssl-dev libnl-3-dev libnl-route-3-dev
	libcmocka-dev zlib1g-dev libxdp-dev libbpf-dev)
# Real peers and tools the tests run against.
TEST_PKGS=(bird2 gobgpd clickhouse-server clickhouse-client tshark tcpreplay python3-scapy iproute2 procps
	curl socat frr exabgp fastnetmon)

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" ${RAMPART_EXTRA_PKGS:-}; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all build and test dependencies present"
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
