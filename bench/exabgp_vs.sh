#!/bin/bash
# ExaBGP drop-in speed: N /32 blackholes written as ExaBGP API lines ("announce route P next-hop NH
# community [65535:666 no-export]") to rampartd's named pipe, timed until BIRD 2 (another
# namespace) holds all of them, then the same for the withdrawals; the same lines fed to ExaBGP 4.2
# (Debian) through its process API (a process that cats a FIFO, acks off so it cannot stall)
# against the same BIRD. The ceiling, in the same run: bench_bgp_ceiling sends the same /32s as
# pre-encoded packed UPDATEs to the same BIRD (its own BGP session, the same capabilities). Every
# figure is timed by bench_bgp_ceiling the same way: clock started before the first byte is
# written, stopped at the first answer of BIRD's control socket (one connection, `show protocols
# all PROTO` every 2 ms: a counter, not a table walk) showing the protocol's imported count.
# ExaBGP runs 10 000 only unless EXA_BIG=1, not at all with EXA=0 (it needs tens of seconds per 100 000); the 100 000
# ratio is then against ExaBGP's 10 000 figure scaled linearly, labelled as such.
# ROUNDS (default 5): the ceiling and Rampart each run every size that many times, alternating
# announce and withdraw on the same session and the same daemon; the FIGURE is the median round,
# beside the first (a fresh process whose tables fault their memory in) and the spread. One round
# alone moved by 2x from run to run on this VM (the host backing fresh guest pages, the other
# core's load), so a single run is not a figure.
#   bash bench/exabgp_vs.sh [BUILD]          (run by bench/run.sh; needs root, bird2, exabgp)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
export BUILD
. interop/lib.sh
RAMPARTD=$BUILD/rampartd
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 2; }
command -v bird >/dev/null || { echo "needs bird2"; exit 2; }
[ -x "$RAMPARTD" ] || { echo "build $RAMPARTD first"; exit 2; }
HAVE_EXA=1
command -v exabgp >/dev/null || { echo "exabgp not installed (apt-get install exabgp): Rampart only"; HAVE_EXA=0; }
# EXA=0: ceiling and Rampart only (ExaBGP's start and its 10 000 leg cost ~20 s a run)
[ "${EXA:-1}" = 0 ] && HAVE_EXA=0
SIZES=${SIZES:-"10000 100000"}
ROUNDS=${ROUNDS:-5}
W=$LIB_TMP

netns_pair ex_bd ex_bt "10.79.0.1/24,10.79.0.3/24,10.79.0.4/24" "10.79.0.2/24" || { echo "FAIL: namespaces"; exit 1; }
mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
log "$W/bird/bird.log" { warning, error, fatal };
router id 10.79.0.2;
protocol device { scan time 10; }
template bgp t { local 10.79.0.2 as 65002; passive on; hold time 90; ipv4 { import all; export none; }; }
protocol bgp rampart from t { neighbor 10.79.0.1 as 65001; }
protocol bgp exabgp from t { neighbor 10.79.0.3 as 65001; }
protocol bgp ceiling from t { neighbor 10.79.0.4 as 65001; }
CONF
bird_start ex_bt "$W/bird" "$W/bird/bird.conf" || { echo "FAIL: BIRD did not start"; exit 1; }
bc() { birdc_in ex_bt "$W/bird" "$@"; }
established() { bc show protocols "$1" | grep -q Established; }

# lines N VERB: N ExaBGP lines for 100.64.0.0/10 hosts
lines() {
	awk -v n="$1" -v verb="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			a = 1 + int(i / 65536); b = int(i / 256) % 256; c = i % 256
			if (verb == "announce")
				printf "announce route 100.%d.%d.%d/32 next-hop 10.79.0.1 community [65535:666 no-export]\n", 64 + a, b, c
			else
				printf "withdraw route 100.%d.%d.%d/32\n", 64 + a, b, c
		}
	}'
}

# CEIL=PATH: a ceiling binary built elsewhere (to time another build's rampartd the same way)
if [ -z "${CEIL:-}" ]; then
	CEIL=$BUILD/bench/bench_bgp_ceiling
	make -s "$CEIL" >/dev/null || { echo "cannot build $CEIL"; exit 2; }
fi
# timed FILE FIFO PROTO WANT [LIMIT]: ms from writing FILE to FIFO until BIRD's protocol PROTO has
# imported WANT routes (-1 after LIMIT s)
timed() {
	"$CEIL" feed "$1" "$2" "$W/bird/bird.ctl" "$3" "$4" "${5:-60}"
}

for n in $SIZES; do
	lines "$n" announce >"$W/ann.$n"
	lines "$n" withdraw >"$W/wd.$n"
done

# ---- ceiling: pre-encoded packed UPDATEs, on rampartd's core ----
# median V...: the middle value (the lower middle of an even count)
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# spread V...: "min-max"
spread() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
declare -A C_ANN C_WD C_ANN_ALL C_WD_ALL
for n in $SIZES; do
	for ((r = 1; r <= ROUNDS; r++)); do
		out=$(ip netns exec ex_bd taskset -c 0 "$CEIL" blast 10.79.0.4 10.79.0.2 65001 65002 "$n" 10.79.0.1 \
			"$W/bird/bird.ctl" ceiling) || { echo "FAIL: ceiling: $out"; exit 1; }
		echo "round $r: $out"
		read -r a w < <(sed -E 's/.*announce (-?[0-9]+) ms, withdraw (-?[0-9]+) ms.*/\1 \2/' <<<"$out")
		C_ANN_ALL[$n]+="$a " C_WD_ALL[$n]+="$w "
	done
	C_ANN[$n]=$(median ${C_ANN_ALL[$n]}) C_WD[$n]=$(median ${C_WD_ALL[$n]})
done
bc disable ceiling >/dev/null

# ---- Rampart ----
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
capture: { pcap: { interfaces: [] } }
bgp:
  local_as: 65001
  router_id: 10.79.0.1
  connect_retry: 1
  peers: [ { address: 10.79.0.2, remote_as: 65002, families: [ipv4-unicast], local_address: 10.79.0.1 } ]
storage: { dir: $W/spool }
api: { socket: $W/rampart.sock, http: "", exabgp_pipe: $W/rampart.fifo }
CONF
ip netns exec ex_bd taskset -c 0 "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD=$!
lib_on_exit "kill $RD"
wait_for 15 established rampart || { echo "FAIL: rampart session"; tail "$W/rampartd.log"; exit 1; }
# cpu_ms PID: user + system CPU time of a process so far, ms (fields 14 and 15 of /proc/PID/stat)
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1000 / hz }' "/proc/$1/stat"
}
declare -A R_ANN R_WD R_ANN_ALL R_WD_ALL R_FIRST E_ANN E_WD
for n in $SIZES; do
	for ((r = 1; r <= ROUNDS; r++)); do
		c0=$(cpu_ms $RD)
		a=$(timed "$W/ann.$n" "$W/rampart.fifo" rampart "$n")
		c1=$(cpu_ms $RD)
		w=$(timed "$W/wd.$n" "$W/rampart.fifo" rampart 0)
		c2=$(cpu_ms $RD)
		echo "rampart  $n round $r: announce $a ms, withdraw $w ms (to all in / all out of BIRD);" \
			"rampartd CPU $((c1 - c0)) ms / $((c2 - c1)) ms"
		R_ANN_ALL[$n]+="$a " R_WD_ALL[$n]+="$w "
		[ "$r" = 1 ] && R_FIRST[$n]="$a / $w"
	done
	R_ANN[$n]=$(median ${R_ANN_ALL[$n]}) R_WD[$n]=$(median ${R_WD_ALL[$n]})
done
kill $RD
wait $RD 2>/dev/null
bc disable rampart >/dev/null

# ---- ExaBGP 4.2 ----
if [ $HAVE_EXA = 1 ]; then
	mkfifo "$W/exa.fifo"
	cat >"$W/feed.sh" <<EOF
#!/bin/bash
exec 3<>"$W/exa.fifo"   # read-write: never EOF between writers
exec cat <&3
EOF
	chmod +x "$W/feed.sh"
	cat >"$W/exabgp.conf" <<CONF
process feed {
	run $W/feed.sh;
	encoder text;
}
neighbor 10.79.0.2 {
	router-id 10.79.0.3;
	local-address 10.79.0.3;
	local-as 65001;
	peer-as 65002;
	family { ipv4 unicast; }
	api { processes [ feed ]; }
}
CONF
	ip netns exec ex_bd env exabgp.daemon.user=root exabgp.daemon.drop=false exabgp.api.ack=false \
		exabgp.log.destination="$W/exabgp.log" exabgp.log.level=WARNING exabgp.daemon.daemonize=false \
		exabgp.api.pipename=bench-$$ taskset -c 0 exabgp "$W/exabgp.conf" >"$W/exabgp.out" 2>&1 &
	EX=$!
	lib_on_exit "kill $EX"
	if wait_for 30 established exabgp; then
		for n in $SIZES; do
			if [ "$n" -gt 10000 ] && [ -z "${EXA_BIG:-}" ]; then
				continue
			fi
			E_ANN[$n]=$(timed "$W/ann.$n" "$W/exa.fifo" exabgp "$n" 120)
			E_WD[$n]=$(timed "$W/wd.$n" "$W/exa.fifo" exabgp 0 120)
			echo "exabgp   $n: announce ${E_ANN[$n]} ms, withdraw ${E_WD[$n]} ms (to all in / all out of BIRD)"
		done
	else
		echo "exabgp session did not come up:"
		tail -5 "$W/exabgp.out" "$W/exabgp.log" 2>/dev/null
	fi
fi

# ---- figures ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.0fx", a / b; else printf "n/a" }'; }
ratio1() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else printf "n/a" }'; }
for n in $SIZES; do
	ea=${E_ANN[$n]:-} ew=${E_WD[$n]:-} label=""
	if [ -z "$ea" ] && [ -n "${E_ANN[10000]:-}" ] && [ "${E_ANN[10000]}" -gt 0 ]; then
		ea=$((E_ANN[10000] * n / 10000)) ew=$((E_WD[10000] * n / 10000)) label=" (ExaBGP extrapolated linearly from 10 000, not measured)"
	fi
	echo "FIGURE: $n /32 via ExaBGP API lines -> BIRD, median of $ROUNDS rounds: ceiling announce ${C_ANN[$n]} ms" \
		"withdraw ${C_WD[$n]} ms (rounds $(spread ${C_ANN_ALL[$n]}) / $(spread ${C_WD_ALL[$n]}));" \
		"Rampart announce ${R_ANN[$n]} ms withdraw ${R_WD[$n]} ms (rounds $(spread ${R_ANN_ALL[$n]}) /" \
		"$(spread ${R_WD_ALL[$n]}); first round ${R_FIRST[$n]});" \
		"Rampart/ceiling announce $(ratio1 "${R_ANN[$n]}" "${C_ANN[$n]}") withdraw $(ratio1 "${R_WD[$n]}" "${C_WD[$n]}");" \
		"ExaBGP 4.2 announce ${ea:-n/a} ms withdraw ${ew:-n/a} ms; ExaBGP/Rampart announce $(ratio "${ea:-0}" "${R_ANN[$n]}")" \
		"withdraw $(ratio "${ew:-0}" "${R_WD[$n]}")$label"
done
if [ "${R_ANN[100000]:-0}" -gt 250 ] 2>/dev/null || [ "${R_WD[100000]:-0}" -gt 250 ] 2>/dev/null; then
	echo "BUDGET: 100 000 took ${R_ANN[100000]} ms (announce) / ${R_WD[100000]} ms (withdraw), over the 250 ms budget"
fi
