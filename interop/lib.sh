# Shell helpers for interop tests against real routing daemons in network namespaces.
# Source it from bash; it installs an EXIT trap that removes everything it created.
#
#   netns_pair NS_A NS_B ADDRS_A ADDRS_B   two namespaces joined by a veth pair; ADDRS are
#                                          comma-separated CIDRs, e.g. "10.77.0.1/24,2001:db8:77::1/64"
#   bird_start NS DIR CONF                 BIRD 2 in NS with config CONF; control socket, pid and
#                                          log in DIR; waits until it answers
#   bird_stop NS DIR                       stops it (and waits for it to be gone)
#   bird_kill DIR                          kills it with SIGKILL, as a crash would
#   birdc_in NS DIR CMD...                 runs a birdc command against that BIRD
#   wait_for SECONDS CMD...                retries CMD every 0.1 s until it succeeds or time is up
#   check NAME CMD...                      runs CMD, counts and prints PASS/FAIL
#   lib_summary                            prints "N passed, N failed"; returns 1 if any failed
#   lib_on_exit CMD                        adds a cleanup command (run in reverse order)
#   lib_driver                             needs root; DRV = $BUILD's speaker driver, built
#
# Interface names inside the namespaces are veth0 on both sides.

LIB_PASS=0
LIB_FAIL=0
LIB_CLEANUP=()
LIB_TMP=$(mktemp -d /tmp/rampart-interop.XXXXXX)

lib_on_exit() { LIB_CLEANUP+=("$*"); }

lib_cleanup() {
	local i
	for ((i = ${#LIB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${LIB_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	LIB_CLEANUP=()
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$LIB_TMP"
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

# The speaker driver of $BUILD (bench/bench_bgp_announce) as DRV, rebuilt when stale so a test
# never runs an old binary; exits 2 (not a failure: cannot run) without root or a build.
lib_driver() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 2; }
	DRV=$BUILD/bench/bench_bgp_announce
	make -s "$DRV" >/dev/null || { echo "cannot build $DRV"; exit 2; }
}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

netns_pair() {
	local a=$1 b=$2 addrs_a=$3 addrs_b=$4 ns addrs addr
	local tmp_a="vra$$" tmp_b="vrb$$"
	# a namespace left by a run that was killed -9 would make "add" fail
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	ip netns add "$a" || return 1
	lib_on_exit "ip netns del $a"
	ip netns add "$b" || return 1
	lib_on_exit "ip netns del $b"
	ip link add "$tmp_a" type veth peer name "$tmp_b" || return 1
	ip link set "$tmp_a" netns "$a" name veth0
	ip link set "$tmp_b" netns "$b" name veth0
	for ns in "$a" "$b"; do
		if [ "$ns" = "$a" ]; then addrs=$addrs_a; else addrs=$addrs_b; fi
		ip -n "$ns" link set lo up
		ip -n "$ns" link set veth0 up
		IFS=, read -ra list <<<"$addrs"
		for addr in "${list[@]}"; do
			if [[ $addr == *:* ]]; then
				ip -n "$ns" addr add "$addr" dev veth0 nodad || return 1
			else
				ip -n "$ns" addr add "$addr" dev veth0 || return 1
			fi
		done
	done
}

bird_start() {
	local ns=$1 dir=$2 conf=$3
	mkdir -p "$dir"
	ip netns exec "$ns" bird -c "$conf" -s "$dir/bird.ctl" -P "$dir/bird.pid" || return 1
	lib_on_exit "bird_stop $ns $dir"
	wait_for 10 birdc_in "$ns" "$dir" show status
}

bird_stop() {
	local ns=$1 dir=$2 pid
	[ -f "$dir/bird.pid" ] || return 0
	pid=$(cat "$dir/bird.pid")
	birdc_in "$ns" "$dir" down >/dev/null 2>&1 || kill "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$dir/bird.pid"
}

bird_kill() {
	local dir=$1 pid
	[ -f "$dir/bird.pid" ] || return 0
	pid=$(cat "$dir/bird.pid")
	kill -9 "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$dir/bird.pid" "$dir/bird.ctl"
}

birdc_in() {
	local ns=$1 dir=$2
	shift 2
	ip netns exec "$ns" birdc -s "$dir/bird.ctl" "$@"
}

wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

check() {
	local name=$1
	shift
	if "$@"; then
		LIB_PASS=$((LIB_PASS + 1)); echo "PASS $name"
	else
		LIB_FAIL=$((LIB_FAIL + 1)); echo "FAIL $name"
	fi
}

# Session tests run several rampartd with no capture, each named NAME under $LIB_TMP/NAME.
# rd_session_conf NAME AS ROUTER_ID PEERS_YAML writes its config (PEERS_YAML: the lines under
# bgp.peers); rd_session_start NS NAME starts it in namespace NS (pid in RD_NAME, killed on
# exit) and waits for its socket; rd_ctl NAME ARGS... is rampartctl on it.
rd_session_conf() {
	mkdir -p "$LIB_TMP/$1"
	cat >"$LIB_TMP/$1/rampart.yaml" <<CONF
networks: [192.0.2.0/24, 2001:db8:10::/48]
capture: { pcap: { interfaces: [] } }
# no ban state file: these tests re-make bans after a kill -9 (end_of_rib_delay); ban_persist.sh has the file
mitigation: { action: blackhole, state_file: "" }
bgp:
  local_as: $2
  router_id: $3
  connect_retry: 1
  end_of_rib_delay: 3
  peers:
$4
storage: { dir: $LIB_TMP/$1/spool }
api: { socket: $LIB_TMP/$1/rampart.sock, http: "" }
CONF
}
rd_session_start() {
	ip netns exec "$1" "$RAMPARTD" -c "$LIB_TMP/$2/rampart.yaml" >>"$LIB_TMP/$2/rampartd.log" 2>&1 &
	eval "RD_$2=$!"
	lib_on_exit "kill -9 $!"
	wait_for 5 "$RAMPARTCTL" -s "$LIB_TMP/$2/rampart.sock" peers
}
rd_ctl() { local n=$1; shift; "$RAMPARTCTL" -s "$LIB_TMP/$n/rampart.sock" "$@"; }

# rd_session_pair NS X: the two rampartd of the session tests, in namespace NS, on 10.X.0.0/24 and
# 2001:db8:X::/64 towards one peer router at .2 / ::2 (AS65002):
#   A  AS65001 (eBGP), 10.X.0.1 and 2001:db8:X::1, MD5 "s3cret" (v4) and "v6key" (v6)
#   B  AS65002 (iBGP), 10.X.0.5 and 2001:db8:X::5 without MD5, and 10.X.0.3 -> .4 with "s3cret"
#      (a neighbor the router has with another key)
# Both started; exits the test when one does not start.
rd_session_pair() {
	local ns=$1 x=$2 n
	rd_session_conf A 65001 10.$x.0.1 "\
    - { address: 10.$x.0.2, remote_as: 65002, password: s3cret, local_address: 10.$x.0.1, families: [ipv4-unicast], hold_time: 9 }
    - { address: \"2001:db8:$x::2\", remote_as: 65002, password: v6key, local_address: \"2001:db8:$x::1\", families: [ipv6-unicast], hold_time: 9 }"
	rd_session_conf B 65002 10.$x.0.5 "\
    - { address: 10.$x.0.2, remote_as: 65002, local_address: 10.$x.0.5, families: [ipv4-unicast], hold_time: 9 }
    - { address: \"2001:db8:$x::2\", remote_as: 65002, local_address: \"2001:db8:$x::5\", families: [ipv6-unicast], hold_time: 9 }
    - { address: 10.$x.0.4, remote_as: 65002, password: s3cret, local_address: 10.$x.0.3, families: [ipv4-unicast], hold_time: 9 }"
	for n in A B; do
		rd_session_start "$ns" $n || { echo "FAIL: rampartd $n did not start"; cat "$LIB_TMP/$n/rampartd.log"; exit 1; }
	done
}

lib_summary() {
	echo "$LIB_PASS passed, $LIB_FAIL failed"
	[ "$LIB_FAIL" -eq 0 ]
}
