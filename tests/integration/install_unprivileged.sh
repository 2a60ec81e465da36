#!/bin/bash
# Installation and running without root, as the systemd unit runs it:
#  1. make install into a DESTDIR: the tree (sbin/rampartd, bin/rampartctl, the three man pages,
#     the unit, /etc/rampart/rampart.yaml), and a second install keeps an edited rampart.yaml.
#  2. systemd-analyze verify of the unit installed under a real PREFIX (skipped, said so, without
#     systemd-analyze).
#  3. make deb: dpkg-deb -c lists the same files, the configuration is a conffile, postinst
#     creates the rampart system user.
#  4. The installed rampartd run as user rampart with exactly the unit's AmbientCapabilities=
#     (setpriv: uid, gid, inheritable, ambient and bounding sets) in namespace ops_rd: READY=1 on
#     $NOTIFY_SOCKET only once the control socket answers; it captures a veth (tcpreplay from
#     ops_rt), BIRD 2 (ops_rt) connects to it on port 179 with TCP MD5, the victims' blackholes
#     reach BIRD, bans.state is written, owned by rampart; its capabilities are exactly the three;
#     it refuses a storage.dir only root may write and refuses -u (changing user needs root).
#  5. The same daemon started as root with -u rampart: it becomes rampart with the same three
#     capabilities, peers again on 179 with MD5, restores the bans from the state file the
#     unprivileged run wrote, and captures.
# Creates the system user rampart if missing (as the .deb's postinst does). About 30 s.
set -u
. "$(dirname "$0")/../lib/rampart.sh"
. "$REPO/interop/lib.sh"
need_data
command -v bird >/dev/null || die "bird (BIRD 2) is not installed"
command -v tcpreplay >/dev/null || die "tcpreplay is not installed: make test-deps"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"

W=$LIB_TMP
chmod 0755 "$W" # the rampart user reads its configuration and binary under it
cd "$REPO"

# ---- 1. make install into a DESTDIR
D=$W/dest
make -s install DESTDIR="$D" >"$W/install.log" 2>&1 || { cat "$W/install.log"; die "make install failed"; }
for f in usr/local/sbin/rampartd usr/local/bin/rampartctl; do
	check "installed $f, executable" test -x "$D/$f" -a -f "$D/$f"
done
for f in usr/local/share/man/man8/rampartd.8 usr/local/share/man/man8/rampartctl.8 \
	usr/local/share/man/man5/rampart.yaml.5 usr/local/lib/systemd/system/rampart.service etc/rampart/rampart.yaml; do
	check "installed $f" test -s "$D/$f"
done
check "the unit runs the installed rampartd" grep -q "^ExecStart=/usr/local/sbin/rampartd -c /etc/rampart/rampart.yaml$" \
	"$D/usr/local/lib/systemd/system/rampart.service"
check "the installed example configuration validates" "$D/usr/local/sbin/rampartd" -c "$D/etc/rampart/rampart.yaml" --check-config
check "the man pages render without warnings" sh -c "! LC_ALL=C groff -man -ww -z $D/usr/local/share/man/man*/* 2>&1 | grep -q ."
echo "# edited by the operator" >>"$D/etc/rampart/rampart.yaml"
make -s install DESTDIR="$D" >"$W/install2.log" 2>&1
check "a second make install keeps the operator's rampart.yaml" grep -q "^# edited by the operator" "$D/etc/rampart/rampart.yaml"
check "and says so" grep -q "keeping the existing" "$W/install2.log"

# ---- 2. systemd-analyze verify
if command -v systemd-analyze >/dev/null; then
	P=$W/prefix
	make -s install PREFIX="$P" SYSCONFDIR="$P/etc" >/dev/null 2>&1
	if MANPATH=$P/share/man systemd-analyze verify "$P/lib/systemd/system/rampart.service" >"$W/verify.log" 2>&1; then
		ok "systemd-analyze verify accepts the unit (binaries and man pages found)"
		LIB_PASS=$((LIB_PASS + 1))
	else
		cat "$W/verify.log"; LIB_FAIL=$((LIB_FAIL + 1)); say "FAIL: systemd-analyze verify"
	fi
else
	say "SKIP: systemd-analyze verify (systemd-analyze is not installed)"
fi

# ---- 3. make deb
make -s deb BUILD="$W/debbuild" >"$W/deb.log" 2>&1 || { cat "$W/deb.log"; die "make deb failed"; }
DEB=$(ls "$W"/debbuild/rampart_*.deb)
dpkg-deb -c "$DEB" | awk '{print $NF}' >"$W/deb.list"
for f in ./usr/sbin/rampartd ./usr/bin/rampartctl ./usr/share/man/man8/rampartd.8.gz ./usr/share/man/man8/rampartctl.8.gz \
	./usr/share/man/man5/rampart.yaml.5.gz ./lib/systemd/system/rampart.service ./etc/rampart/rampart.yaml; do
	check "the .deb holds $f" grep -qx "$f" "$W/deb.list"
done
check "in the .deb the unit runs /usr/sbin/rampartd" sh -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xO ./lib/systemd/system/rampart.service | grep -q '^ExecStart=/usr/sbin/rampartd '"
check "rampart.yaml is a conffile (dpkg keeps the operator's edits)" sh -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xO ./conffiles | grep -qx /etc/rampart/rampart.yaml"
check "postinst creates the rampart system user" sh -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xO ./postinst | grep -q 'adduser --system --group'"
check "Depends names libpcap and libcap-ng" sh -c "dpkg-deb -f '$DEB' Depends | grep -q 'libpcap0.8.*libcap-ng0\|libcap-ng0.*libpcap0.8'"

# ---- 4. as rampart with the unit's capabilities
[ "$(id -u)" -eq 0 ] || die "the rest needs root (namespaces, setpriv)"
if ! getent passwd rampart >/dev/null; then
	adduser --system --group --home /var/lib/rampart --no-create-home rampart >/dev/null || die "cannot create user rampart"
fi
UNIT=$D/usr/local/lib/systemd/system/rampart.service
CAPS=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_//g')
BOUND=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_//g')
check "the unit grants CAP_NET_RAW, CAP_NET_ADMIN, CAP_NET_BIND_SERVICE and no other ($CAPS)" \
	test "$(echo $CAPS | tr ' ' '\n' | sort | tr '\n' ' ')" = "net_admin net_bind_service net_raw "
check "its bounding set is the same" test "$CAPS" = "$BOUND"
CAPLIST=-all$(for c in $CAPS; do printf ',+%s' "$c"; done)
# 0x3400: bits 10 (net_bind_service), 12 (net_admin) and 13 (net_raw)
WANT_CAPS=0000000000003400

netns_pair ops_rd ops_rt "10.246.0.1/24" "10.246.0.2/24" || die "cannot create the namespaces"
mkdir -p "$W/bird" "$W/state" "$W/run"
chown rampart:rampart "$W/state" "$W/run" # StateDirectory= and RuntimeDirectory=
chmod 0750 "$W/state" "$W/run"
cat >"$W/bird/bird.conf" <<CONF
log "$W/bird/bird.log" all;
router id 10.246.0.2;
protocol device { scan time 1; }
protocol bgp rampart1 {
	local 10.246.0.2 as 65002; neighbor 10.246.0.1 port 179 as 65001;
	password "md5-ops-key";
	hold time 9; connect retry time 1; error wait time 1, 2;
	ipv4 { import all; export none; };
}
CONF
bird_start ops_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"
SOCK=$W/run/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24, "2001:db8:10::/48"]
thresholds: { incoming: { pps: 500 } }
detection: { ban_time: 3600 }
capture: { pcap: { interfaces: [veth0] } }
bgp:
  local_as: 65001
  router_id: 10.246.0.1
  end_of_rib_delay: 1
  peers:
    - { address: 10.246.0.2, remote_as: 65002, passive: true, password: md5-ops-key, hold_time: 9 }
storage: { dir: $W/state }
api: { socket: $SOCK, http: "" }
CONF
chmod 0644 "$W/rampart.yaml"
RAMPARTD=$D/usr/local/sbin/rampartd
RAMPARTCTL=$D/usr/local/bin/rampartctl
ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
bc() { birdc_in ops_rt "$W/bird" "$@"; }

# a notify socket like systemd's: records each datagram with the time the control socket answered or not
python3 - "$W/notify.sock" "$SOCK" "$W/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
with open(sys.argv[3], "a", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode()
        up = os.path.exists(sys.argv[2])
        log.write("%s socket=%s\n" % (msg, "up" if up else "down"))
PY
NOTIFY_PID=$!
lib_on_exit "kill $NOTIFY_PID"
wait_for 5 test -S "$W/notify.sock" || die "the notify listener did not start"

RD_PID=
lib_on_exit 'kill -9 $RD_PID'
ip netns exec ops_rd env NOTIFY_SOCKET="$W/notify.sock" setpriv --reuid=rampart --regid=rampart --clear-groups \
	--inh-caps="$CAPLIST" --ambient-caps="$CAPLIST" --bounding-set="$CAPLIST" --no-new-privs \
	"$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
wait_for 10 grep -q "capturing" "$W/rampartd.log" || { cat "$W/rampartd.log"; die "rampartd as rampart did not start capturing"; }
check "READY=1 sent to \$NOTIFY_SOCKET, after the control socket was up" wait_for 5 grep -qx "READY=1 socket=up" "$W/notify.log"
# the daemon's pid: setpriv execs it, so RD_PID is rampartd itself
check "it runs as rampart" sh -c "grep -q \"^Uid:[[:space:]]*$(id -u rampart)[[:space:]]\" /proc/$RD_PID/status"
check "its effective capabilities are exactly the unit's" grep -q "^CapEff:[[:space:]]*$WANT_CAPS$" /proc/$RD_PID/status
check "its bounding set too (nothing to regain through exec)" grep -q "^CapBnd:[[:space:]]*$WANT_CAPS$" /proc/$RD_PID/status
check "BIRD's session to port 179 with TCP MD5 is Established" wait_for 20 sh -c "ip netns exec ops_rt birdc -s '$W/bird/bird.ctl' show protocols rampart1 | grep -q Established"
check "the session is on port 179 of rampartd" sh -c "ip netns exec ops_rd ss -tnH state established | grep -qE '10\.246\.0\.1\]?:179 '"
ip netns exec ops_rt tcpreplay -q -i veth0 --multiplier 4 "$DATA/mirror-attack-mix.pcap" >"$W/tcpreplay.log" 2>&1 ||
	{ cat "$W/tcpreplay.log"; die "tcpreplay failed"; }
sleep 2
ctl bans >"$W/bans"
for v in $VICTIMS; do
	case $v in *:*) continue ;; esac
	check "captured and banned: $v" grep -q " $v " "$W/bans"
	check "its blackhole is at BIRD" wait_for 10 sh -c "ip netns exec ops_rt birdc -s '$W/bird/bird.ctl' show route $v | grep -q '$v'"
done
check "bans.state written in storage.dir" wait_for 5 test -s "$W/state/bans.state"
check "owned by rampart" test "$(stat -c %U "$W/state/bans.state")" = rampart

# refusals: a storage.dir only root may write; changing user without root
mkdir -p "$W/rootonly" && chmod 0700 "$W/rootonly"
sed "s|dir: $W/state|dir: $W/rootonly|; s|socket: $SOCK|socket: $W/run/second.sock|; s|interfaces: \[veth0\]|interfaces: []|; /^bgp:/,/^storage:/{/^storage:/!d}" \
	"$W/rampart.yaml" >"$W/rootonly.yaml"
chmod 0644 "$W/rootonly.yaml"
setpriv --reuid=rampart --regid=rampart --clear-groups --inh-caps="$CAPLIST" --ambient-caps="$CAPLIST" \
	--bounding-set="$CAPLIST" "$RAMPARTD" -c "$W/rootonly.yaml" >"$W/rootonly.log" 2>&1 &
p=$!
( sleep 10; kill -9 $p 2>/dev/null ) &
wait $p; rc=$?
check "as rampart, a storage.dir only root may write is refused (rc $rc)" test $rc -ne 0 -a $rc -ne 137
check "naming it: permission denied" grep -q "rootonly.*Permission denied" "$W/rootonly.log"
setpriv --reuid=rampart --regid=rampart --clear-groups --inh-caps="$CAPLIST" --ambient-caps="$CAPLIST" \
	--bounding-set="$CAPLIST" "$RAMPARTD" -c "$W/rootonly.yaml" -u nobody >"$W/user.log" 2>&1 &
p=$!
( sleep 10; kill -9 $p 2>/dev/null ) &
wait $p; rc=$?
check "as rampart, -u nobody is refused (rc $rc)" test $rc -ne 0 -a $rc -ne 137
check "because changing user needs root" grep -q "needs root" "$W/user.log"

kill -TERM "$RD_PID"; wait "$RD_PID"; rc=$?
check "SIGTERM stops it cleanly (rc $rc)" test $rc -eq 0
check "STOPPING=1 sent on the way out" grep -q "^STOPPING=1" "$W/notify.log"

# ---- 5. started as root, -u rampart
ip netns exec ops_rd "$RAMPARTD" -c "$W/rampart.yaml" -u rampart >"$W/rampartd-u.log" 2>&1 &
RD_PID=$!
wait_for 10 grep -q "capturing" "$W/rampartd-u.log" || { cat "$W/rampartd-u.log"; die "rampartd -u rampart did not start"; }
check "-u rampart: it runs as rampart" sh -c "grep -q \"^Uid:[[:space:]]*$(id -u rampart)[[:space:]]*$(id -u rampart)[[:space:]]*$(id -u rampart)\" /proc/$RD_PID/status"
check "-u rampart: no supplementary groups" grep -q "^Groups:[[:space:]]*$" /proc/$RD_PID/status
check "-u rampart: effective and permitted capabilities are exactly the unit's" \
	sh -c "grep -q '^CapEff:[[:space:]]*$WANT_CAPS$' /proc/$RD_PID/status && grep -q '^CapPrm:[[:space:]]*$WANT_CAPS$' /proc/$RD_PID/status"
check "-u rampart: empty bounding set" grep -q "^CapBnd:[[:space:]]*0000000000000000$" /proc/$RD_PID/status
check "-u rampart: every thread is rampart, none has more than the three" sh -c "
	for t in /proc/$RD_PID/task/*; do
		grep -q '^Uid:[[:space:]]*$(id -u rampart)[[:space:]]' \$t/status || exit 1
		e=\$(sed -n 's/^CapEff:[[:space:]]*//p' \$t/status)
		[ \$e = $WANT_CAPS ] || [ \$e = 0000000000000000 ] || exit 1
	done"
check "-u rampart: BIRD's MD5 session on 179 is Established again" wait_for 20 sh -c "ip netns exec ops_rt birdc -s '$W/bird/bird.ctl' show protocols rampart1 | grep -q Established"
check "-u rampart: the bans the unprivileged run wrote are restored" sh -c "'$RAMPARTCTL' -s '$SOCK' bans | grep -q ' 192.0.2.10/32 '"
check "-u rampart: and at BIRD" wait_for 10 sh -c "ip netns exec ops_rt birdc -s '$W/bird/bird.ctl' show route 192.0.2.10/32 | grep -q 192.0.2.10"
ip netns exec ops_rt tcpreplay -q -i veth0 --limit 2000 --multiplier 4 "$DATA/mirror-attack-mix.pcap" >/dev/null 2>&1
sleep 1
frames=$(ctl stats | grep -oE 'frames [0-9]+' | head -1 | cut -d' ' -f2)
check "-u rampart: it captures (saw ${frames:-0} frames of 2000)" test "${frames:-0}" -ge 2000
kill -TERM "$RD_PID"; wait "$RD_PID"; rc=$?
check "-u rampart: SIGTERM stops it cleanly (rc $rc)" test $rc -eq 0
RD_PID=
if ! lib_summary; then
	tail -20 "$W/rampartd.log"; tail -20 "$W/rampartd-u.log"; exit 1
fi
