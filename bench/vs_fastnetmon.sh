#!/usr/bin/env bash
# Side by side with FastNetMon community 1.2.4 (Debian 12's `fastnetmon`): same machine, same
# traffic, same threshold (500 pps incoming), same monitored networks. Both daemons capture live on
# one end of a veth pair inside a network namespace of our own; tcpreplay sends the shared mirror
# capture once, at its recorded speed (~10 s), into the other end. Prints, for each daemon, which of
# the 5 victims it banned, which background hosts it banned (false positives), the detection delay
# per victim (ban time minus the time the attack's first packet was sent) and the CPU seconds it
# used during the replay. BUILD dir as $1. FNM_CAPTURE=afpacket|pcap picks FastNetMon's engine
# (default afpacket, its recommended mirror engine); FNM_AVG overrides its average_calculation_time
# (default: the packaged /etc/fastnetmon.conf value, 5 s).
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
REPO=$PWD
case $build in /*) ;; *) build=$REPO/$build ;; esac
DATA=${RAMPART_DATA:-$REPO/../shared/data}
PCAP=$DATA/mirror-attack-mix.pcap
FNM_CAPTURE=${FNM_CAPTURE:-afpacket}
FNM_AVG=${FNM_AVG:-5}
say() { echo "vs_fastnetmon: $*"; }
die() { say "$*"; exit 1; }

[ -r "$PCAP" ] || die "no capture at $PCAP (set RAMPART_DATA)"
[ -x "$build/rampartd" ] || die "build $build/rampartd first (make)"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace, live capture)"
if ! [ -x /usr/sbin/fastnetmon ]; then
	RAMPART_EXTRA_PKGS=fastnetmon scripts/install-deps.sh || die "could not install fastnetmon"
fi
# The package starts its own instance under systemd (on /etc/fastnetmon.conf); ours runs alone.
if command -v systemctl >/dev/null && systemctl is-active --quiet fastnetmon 2>/dev/null; then
	systemctl stop fastnetmon || true
	systemctl disable fastnetmon >/dev/null 2>&1 || true
fi
for t in tcpreplay tshark python3 ip; do command -v $t >/dev/null || die "$t missing (scripts/install-deps.sh)"; done

NS=rpfnm$$
WORK=$(mktemp -d /tmp/rampart-vsfnm.XXXXXX)
RPID= FPID= SPID= TPID=
cleanup() {
	local p
	for p in $TPID $RPID $FPID $SPID; do
		kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	[ -n "${KEEP:-}" ] && say "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" || die "cannot create namespace $NS"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip link add cap0 type veth peer name rep0 || die "cannot create veth pair"
nsx ip link set cap0 up
nsx ip link set rep0 up
# no IPv6 autoconfiguration chatter on the wire the daemons watch
nsx sysctl -qw net.ipv6.conf.cap0.disable_ipv6=1 net.ipv6.conf.rep0.disable_ipv6=1

# --- FastNetMon: the packaged configuration with only what the comparison needs changed.
printf '192.0.2.0/24\n2001:db8:10::/48\n' >"$WORK/networks_list"
: >"$WORK/networks_whitelist"
cat >"$WORK/notify.sh" <<EOF
#!/bin/sh
# FastNetMon calls: notify.sh IP DIRECTION PPS ACTION (ban details on stdin for ban/attack_details)
echo "\$(date +%s%3N) \$1 \$4" >>"$WORK/fnm-bans"
cat >/dev/null
EOF
chmod +x "$WORK/notify.sh"
afp=off pc=off
[ "$FNM_CAPTURE" = pcap ] && pc=on || afp=on
sed -e "s|^enable_ban = .*|enable_ban = on|" \
	-e "s|^enable_ban_ipv6 = .*|enable_ban_ipv6 = on|" \
	-e "s|^process_incoming_traffic = .*|process_incoming_traffic = on|" \
	-e "s|^ban_details_records_count = .*|ban_details_records_count = 1|" \
	-e "s|^threshold_pps = .*|threshold_pps = 500|" \
	-e "s|^ban_for_pps = .*|ban_for_pps = on|" \
	-e "s|^ban_for_bandwidth = .*|ban_for_bandwidth = off|" \
	-e "s|^ban_for_flows = .*|ban_for_flows = off|" \
	-e "s|^mirror_afpacket = .*|mirror_afpacket = $afp|" \
	-e "s|^pcap = .*|pcap = $pc|" \
	-e "s|^interfaces = .*|interfaces = cap0|" \
	-e "s|^average_calculation_time = .*|average_calculation_time = $FNM_AVG|" \
	-e "s|^networks_list_path = .*|networks_list_path = $WORK/networks_list|" \
	-e "s|^white_list_path = .*|white_list_path = $WORK/networks_whitelist|" \
	-e "s|^notify_script_path = .*|notify_script_path = $WORK/notify.sh|" \
	-e "s|^monitor_local_ip_addresses = .*|monitor_local_ip_addresses = off|" \
	-e "s|^disable_usage_report = .*|disable_usage_report = on|" \
	-e "s|^enable_api = .*|enable_api = off|" \
	-e "s|^prometheus = .*|prometheus = off|" \
	-e "s|^pid_path = .*|pid_path = $WORK/fastnetmon.pid|" \
	-e "s|^cli_stats_file_path = .*|cli_stats_file_path = $WORK/fastnetmon.dat|" \
	-e "s|^cli_stats_ipv6_file_path = .*|cli_stats_ipv6_file_path = $WORK/fastnetmon_ipv6.dat|" \
	/etc/fastnetmon.conf >"$WORK/fastnetmon.conf"

# --- rampartd: defaults (tick 100 ms, average 1 s) and the same threshold and networks.
cat >"$WORK/rampart.yaml" <<CONF
log_level: info
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds:
  incoming: { pps: 500 }
detection:
  ban_time: 3600
capture:
  pcap:
    interfaces: [cap0]
storage:
  dir: $WORK/data
api:
  socket: $WORK/rampart.sock
  http: ""
CONF
"$build/rampartd" -c "$WORK/rampart.yaml" --check-config >/dev/null || die "rampartd rejects the bench configuration"

# ip netns exec execs the daemon, so $! is the daemon's own PID (for /proc/PID/stat)
ip netns exec "$NS" /usr/sbin/fastnetmon --configuration_file "$WORK/fastnetmon.conf" --log_file "$WORK/fastnetmon.log" \
	--disable_pid_logic >"$WORK/fastnetmon.out" 2>&1 &
FPID=$!
ip netns exec "$NS" "$build/rampartd" -c "$WORK/rampart.yaml" >"$WORK/rampartd.log" 2>&1 &
RPID=$!

# Both are up when their capture is open on cap0 (FastNetMon logs nothing we can rely on for that
# across engines, so: a few seconds, then check that both still run).
for _ in $(seq 1 40); do
	[ -S "$WORK/rampart.sock" ] && break
	sleep 0.1
done
sleep 2
kill -0 "$FPID" 2>/dev/null || { cat "$WORK/fastnetmon.out" "$WORK/fastnetmon.log" 2>/dev/null | tail -20; die "FastNetMon 1.2.4 exited at start (above)"; }
kill -0 "$RPID" 2>/dev/null || { tail -20 "$WORK/rampartd.log"; die "rampartd exited at start"; }

# utime + stime of every thread of the process, in clock ticks
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# wakeups: voluntary context switches summed over the process's threads
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {n += $2} END {print n + 0}'; }
# What each costs with no traffic at all (timers, polling), over the same kind of interval.
ri=$(cpu "$RPID") fi=$(cpu "$FPID")
sleep 5
r0=$(cpu "$RPID") f0=$(cpu "$FPID") rw0=$(wakeups "$RPID") fw0=$(wakeups "$FPID")
ri=$((r0 - ri)) fi=$((f0 - fi))
# tcpreplay takes a few hundred ms to start sending: the clock starts when the capture's first frame
# arrives on cap0, seen by a one-shot packet socket (wall clock at its receipt, in ms).
ip netns exec "$NS" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("cap0", 0))
print("ready", flush=True)
s.recv(64)
print(int(time.time() * 1000), flush=True)
' >"$WORK/first" 2>&1 &
SPID=$!
for _ in $(seq 1 50); do grep -q ready "$WORK/first" && break; sleep 0.1; done
tstart=$(date +%s%3N)
# in the background so that an interrupt (trap) is handled at once, not after the replay
ip netns exec "$NS" tcpreplay -q -i rep0 "$PCAP" >"$WORK/tcpreplay.log" 2>&1 &
TPID=$!
wait "$TPID" || { cat "$WORK/tcpreplay.log"; die "tcpreplay failed"; }
TPID=
t1=$(date +%s%3N)
wait "$SPID" 2>/dev/null
t0=$(tail -1 "$WORK/first")
case $t0 in *[!0-9]* | "") die "the first frame was not seen on cap0: $(cat "$WORK/first")" ;; esac
# FastNetMon recomputes once a second and averages over seconds: give both time to finish deciding.
sleep 4
r1=$(cpu "$RPID") f1=$(cpu "$FPID") rw1=$(wakeups "$RPID") fw1=$(wakeups "$FPID")
t2=$(date +%s%3N)

# Each victim's first packet, in ms from the start of the capture.
tshark -r "$PCAP" -T fields -e frame.time_relative -e ip.dst -e ipv6.dst 2>/dev/null >"$WORK/dst.txt"
grep -E ' ban |: ban ' "$WORK/rampartd.log" >"$WORK/rampart-bans.log" || true
[ -f "$WORK/fnm-bans" ] || : >"$WORK/fnm-bans"

grep -o "sent in [0-9.]* seconds" "$WORK/tcpreplay.log" | sed "s/^/tcpreplay: first frame $((t0 - tstart)) ms after start, /"
python3 - "$WORK" "$t0" "$t1" "$t2" "$r0" "$r1" "$f0" "$f1" "$(getconf CLK_TCK)" "$FNM_CAPTURE" "$FNM_AVG" "$ri" "$fi" "$tstart" "$((rw1 - rw0))" "$((fw1 - fw0))" <<'PY'
import sys, re, datetime, statistics, ipaddress
work, t0, t1, t2, r0, r1, f0, f1, hz, engine, avg, ri, fi, ts, rw, fw = sys.argv[1:]
t0, t1, t2 = int(t0), int(t1), int(t2)
hz = float(hz)
victims = ["192.0.2.10", "192.0.2.20", "192.0.2.30", "192.0.2.40", "2001:db8:10::53"]
first = {}
span = 0.0
for line in open(f"{work}/dst.txt"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 2:
        continue
    span = max(span, float(f[0]) * 1000.0)
    for d in f[1:]:
        for a in d.split(","):
            if a and a not in first:
                first[a] = float(f[0]) * 1000.0

def parse_rampart():
    bans = {}
    for line in open(f"{work}/rampart-bans.log"):
        m = re.match(r"(\S+)Z \w+: attack \d+: ban (\S+?)/\d+ ", line)
        if not m:
            continue
        ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        bans.setdefault(m.group(2), int(ts.timestamp() * 1000))
    return bans

def parse_fnm():
    bans = {}
    for line in open(f"{work}/fnm-bans"):
        f = line.split()
        if len(f) >= 3 and f[2] == "ban":
            bans.setdefault(str(ipaddress.ip_address(f[1])), int(f[0]))  # it prints 2001:0db8:...
    return bans

# tcpreplay runs a little slower than recorded (its "sent in" vs the capture's span): stretch the
# offsets by the same factor so a late victim is not charged for the replay's drift.
sent = re.search(r"sent in ([0-9.]+) seconds", open(f"{work}/tcpreplay.log").read())
stretch = float(sent.group(1)) * 1000.0 / span if sent and span > 0 else 1.0
first = {a: t * stretch for a, t in first.items()}
res = {"rampartd": (parse_rampart(), (int(r1) - int(r0)) / hz, int(ri) / hz, int(rw)),
       "fastnetmon": (parse_fnm(), (int(f1) - int(f0)) / hz, int(fi) / hz, int(fw))}
print(f"replay {t1 - t0} ms from the first frame (recorded: {span:.0f} ms; offsets stretched x{stretch:.4f}), CPU measured over {t2 - int(ts)} ms; "
      f"FastNetMon engine {engine}, average_calculation_time {avg} s; rampartd tick 100 ms, average 1 s")
print(f"{'victim':18} {'first pkt':>9} {'rampartd':>12} {'fastnetmon':>12}")
means = {}
for v in victims:
    row = f"{v:18} {first.get(v, float('nan'))/1000:8.3f}s"
    for name in res:
        b = res[name][0].get(v)
        if b is None or v not in first:
            row += f" {'not banned':>12}"
        else:
            d = b - (t0 + first[v])
            means.setdefault(name, []).append(d)
            row += f" {d:10.0f}ms"
    print(row)
summ = {}
for name, (bans, cpu, idle, wake) in res.items():
    found = [v for v in victims if v in bans]
    fp = sorted(a for a in bans if a not in victims)
    mean = statistics.mean(means[name]) if means.get(name) else float("nan")
    summ[name] = (mean, cpu)
    print(f"{name}: detected {len(found)}/5, false positives {len(fp)}{' ' + ' '.join(fp) if fp else ''}, "
          f"mean delay {mean:.0f} ms over its detections, CPU {cpu:.2f} s (idle, same length: {idle * (t2 - int(ts)) / 5000:.2f} s), {wake} thread wakeups")
both = [v for v in victims if all(v in res[n][0] for n in res)]
common = {n: statistics.mean(res[n][0][v] - (t0 + first[v]) for v in both) if both else float("nan") for n in res}
rm, rc = summ["rampartd"]
fm, fc = summ["fastnetmon"]
print(f"rampart/fastnetmon: mean delay {rm / fm if fm == fm and fm else float('nan'):.2f} "
      f"(on the {len(both)} victims both banned: {common['rampartd'] / common['fastnetmon'] if both else float('nan'):.2f}), "
      f"CPU {rc / fc if fc else float('nan'):.2f}")
PY
