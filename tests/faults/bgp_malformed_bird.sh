#!/bin/bash
# RFC 7606 against a real BIRD: rampartd holds two blackholes at BIRD while, on the same session,
# "BIRD" sends an UPDATE that RFC 7606 section 4 says is treat-as-withdraw (an attribute whose
# length runs past the path attributes; the one the issue saw reset the session), 100 times, one
# every 50 ms. A proxy in the middle (proxy.py, in rampartd's namespace) passes BIRD's messages
# through whole and puts the malformed UPDATE between them, so to rampartd the router itself is
# the peer that repeats it; its NLRI are the banned /32s themselves.
#   rampartd (fm_rd, 10.248.0.1) -> proxy 10.248.0.3:1790 (fm_rd) ==veth== BIRD 10.248.0.2 (fm_rt)
# Asserts: BIRD's two blackhole routes are there in every one of the samples of `birdc show
# route` taken for 7 s from the first UPDATE (at least 30, ~10 a second; zero absences); the session
# never resets (BIRD: up once, never down; rampartd: established once); rampartd counts exactly
# the UPDATEs sent as treat-as-withdraw and as UPDATEs received; the event is logged under its own
# name with the peer and the attribute, rate-limited (not once per UPDATE). Then an unban: the
# sampler sees the route go (it can see an absence). Root. ~25 s.
set -u
cd "$(dirname "$0")/../.."
export RAMPART_DATA=${RAMPART_DATA:-/work/shared/data}
. tests/lib/rampart.sh
. interop/lib.sh
need_binaries
[ "$(id -u)" -eq 0 ] || { echo "bgp_malformed_bird: needs root (network namespaces)"; exit 2; }
command -v bird >/dev/null || die "bird (BIRD 2) is not installed"
N=100 GAP=0.05

W=$LIB_TMP
netns_pair fm_rd fm_rt "10.248.0.1/24,10.248.0.3/24" "10.248.0.2/24" || die "cannot create the namespaces"
mkdir -p "$W/bird"
cat >"$W/bird/bird.conf" <<CONF
log "$W/bird/bird.log" all;
router id 10.248.0.2;
protocol device { scan time 1; }
protocol bgp r4 {
	local 10.248.0.2 as 65002; neighbor 10.248.0.3 as 65001; passive on;
	hold time 9; connect retry time 1; error wait time 1, 2;
	ipv4 { import all; export none; };
	debug { states, events };
}
CONF
bird_start fm_rt "$W/bird" "$W/bird/bird.conf" || die "BIRD did not start"

cat >"$W/proxy.py" <<'PY'
"""proxy.py LISTEN_ADDR LISTEN_PORT BIRD_ADDR SOURCE_ADDR DIR N GAP: a TCP proxy for one BGP
session that, once DIR/go exists, puts N malformed UPDATEs (GAP s apart) into the stream from
BIRD, between BIRD's own messages (only whole messages are passed on). Prints "sent K" for each."""
import os, select, socket, struct, sys, threading, time
laddr, lport, bird, src, W, N, gap = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7])
def msg(t, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body
def attr(flags, t, v):
    return struct.pack("!BBB", flags, t, len(v)) + v
ORIGIN = attr(0x40, 1, b"\x00")
AS_PATH = attr(0x40, 2, b"\x02\x01" + struct.pack("!I", 65002))   # 4-octet AS session
NEXT_HOP = attr(0x40, 3, socket.inet_aton("10.248.0.2"))
# the banned /32s: 192.0.2.21, 192.0.2.22
NLRI = b"\x20\xc0\x00\x02\x15" + b"\x20\xc0\x00\x02\x16"
# RFC 7606 4: COMMUNITIES claims 64 octets, 2 are there: the attribute runs past the path attributes
a = ORIGIN + AS_PATH + NEXT_HOP + b"\xc0\x08\x40\xfd\xea"
BAD = msg(2, struct.pack("!H", 0) + struct.pack("!H", len(a)) + a + NLRI)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((laddr, lport))
srv.listen(4)
sent = 0
while True:
    c, _ = srv.accept()
    print("accepted", flush=True)
    b = socket.socket()
    b.bind((src, 0))
    try:
        b.connect((bird, 179))
    except OSError:
        c.close(); continue
    threading.Thread(target=pump, args=(c, b), daemon=True).start()
    buf, nxt = b"", None
    try:
        while True:
            if nxt is None and os.path.exists(W + "/go"):
                nxt = time.time()
            if nxt is not None and sent < N and time.time() >= nxt:
                c.sendall(BAD)
                sent += 1
                nxt += gap
                print(f"sent {sent}", flush=True)
            r, _, _ = select.select([b], [], [], 0.005)
            if not r:
                continue
            d = b.recv(65536)
            if not d:
                break
            buf += d
            while len(buf) >= 19:
                ln = struct.unpack("!H", buf[16:18])[0]
                if len(buf) < ln:
                    break
                c.sendall(buf[:ln])
                buf = buf[ln:]
    except OSError:
        pass
    print("closed", flush=True)
    c.close(); b.close()
PY
ip netns exec fm_rd python3 "$W/proxy.py" 10.248.0.3 1790 10.248.0.2 10.248.0.3 "$W" $N $GAP >"$W/proxy.out" 2>&1 &
lib_on_exit "kill $!"

SOCK=$W/rampart.sock
cat >"$W/rampart.yaml" <<CONF
networks: [192.0.2.0/24]
thresholds: { incoming: { pps: 500 } }
capture: { pcap: { interfaces: [] } }
bgp:
  local_as: 65001
  router_id: 10.248.0.1
  connect_retry: 1
  end_of_rib_delay: 0
  peers:
    - { address: 10.248.0.3, port: 1790, local_address: 10.248.0.1, remote_as: 65002, families: [ipv4-unicast], hold_time: 9 }
storage: { dir: $W/data }
api: { socket: $SOCK, http: "127.0.0.1:18080" }
CONF
ip netns exec fm_rd "$RAMPARTD" -c "$W/rampart.yaml" >"$W/rampartd.log" 2>&1 &
RD_PID=$!
lib_on_exit "kill -9 $RD_PID"
ctl() { "$RAMPARTCTL" -s "$SOCK" "$@"; }
bc() { birdc_in fm_rt "$W/bird" "$@"; }
peer_json() { ip netns exec fm_rd curl -s http://127.0.0.1:18080/api/v1/peers; }
field() { peer_json | python3 -c "import json,sys; print(json.load(sys.stdin)['peers'][0]['$1'])"; }
# the blackholes at BIRD now: how many of the two
# (birdc straight on the control socket, a file: no namespace to enter, ~10 samples a second)
present() { birdc -s "$W/bird/bird.ctl" show route | grep -cE '^192\.0\.2\.2[12]/32 '; }
check "session Established" wait_for 15 eval "bc show protocols r4 | grep -q Established"
ctl ban 192.0.2.21 --for 600 >/dev/null
ctl ban 192.0.2.22 --for 600 >/dev/null
check "both blackholes at BIRD, with BLACKHOLE" wait_for 10 eval \
	"[ \"\$(present)\" = 2 ] && bc show route all 192.0.2.21/32 | grep -q '(65535,666)'"
U0=$(field updates_received)
T0=$(field treat_as_withdraw)

touch "$W/go"
samples=0 absent=0 end=$((SECONDS + 7)) # the 5 s of UPDATEs and more
while [ $SECONDS -lt $end ]; do
	n=$(present)
	samples=$((samples + 1))
	[ "$n" = 2 ] || absent=$((absent + 1))
	sleep 0.02
done
check "the proxy sent all $N malformed UPDATEs ($(grep -c '^sent ' "$W/proxy.out"))" grep -q "^sent $N\$" "$W/proxy.out"
check "$samples samples of BIRD's routes through them (at least 30)" test "$samples" -ge 30
check "blackholes absent in $absent of $samples samples (0 allowed)" test "$absent" -eq 0
check "one TCP connection through the proxy (no reconnect)" test "$(grep -c accepted "$W/proxy.out")" -eq 1
check "BIRD: the session went up once and never down" eval \
	"[ \"\$(grep -c 'r4: State changed to up' $W/bird/bird.log)\" = 1 ] && ! grep -qE 'r4: State changed to (stop|down)' $W/bird/bird.log"
check "BIRD: still Established" eval "bc show protocols r4 | grep -q Established"
check "rampartd: established once, no error" eval "[ \"\$(field established_count)\" = 1 ] && [ -z \"\$(field last_error)\" ]"
T1=$(field treat_as_withdraw) U1=$(field updates_received)
check "rampartd counted $((T1 - T0)) treat-as-withdraw UPDATEs: the $N sent" test $((T1 - T0)) -eq $N
check "rampartd counted $((U1 - U0)) UPDATEs received: the $N sent" test $((U1 - U0)) -eq $N
check "/metrics says the same" eval "ip netns exec fm_rd curl -s http://127.0.0.1:18080/metrics | grep -q '^rampart_bgp_treat_as_withdraw_total{peer=\"10.248.0.3\"} $T1\$'"
nlog=$(grep -c 'UPDATE treated as withdraw (RFC 7606)' "$W/rampartd.log")
check "logged under its own name with peer and attribute, rate-limited ($nlog lines for $N)" eval \
	"grep -q 'peer 10.248.0.3 AS65002: UPDATE treated as withdraw (RFC 7606), attribute' $W/rampartd.log && [ $nlog -ge 1 ] && [ $nlog -lt 10 ]"
ctl unban 192.0.2.22 >/dev/null
check "the sampler sees an absence: the unbanned route leaves BIRD" wait_for 5 eval "[ \"\$(present)\" = 1 ]"
if [ "$LIB_FAIL" -ne 0 ]; then
	tail -20 "$W/rampartd.log"; tail -20 "$W/bird/bird.log"; tail -5 "$W/proxy.out"
fi
echo "bgp_malformed_bird: $LIB_PASS passed, $LIB_FAIL failed"
[ "$LIB_FAIL" -eq 0 ]
