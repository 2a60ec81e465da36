#!/usr/bin/env bash
# RFC 7606 live: a misbehaving peer (a Python script speaking BGP over TCP) sends UPDATEs with
# malformed attributes that RFC 7606 says are treat-as-withdraw (the session stays up and the
# UPDATE's routes count as withdrawn), then attributes it says are discarded (the routes stand),
# then a ROUTE-REFRESH of 5 octets, which RFC 7313 5 answers with NOTIFICATION 7/1.
#
#   b3_s (bench_bgp_announce, AS65001, 10.86.0.1, passive)  ==veth==  b3_p (peer.py, AS65002, 10.86.0.2)
# Usage: interop/rfc7606_peer.sh [BUILD_DIR]   (root; exit 0 = all passed, 2 = cannot run)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
DRV=$BUILD/bench/bench_bgp_announce
. interop/lib.sh

lib_driver
SECONDS=0
netns_pair b3_s b3_p "10.86.0.1/24" "10.86.0.2/24" || { echo "FAIL: namespaces"; exit 1; }
W=$LIB_TMP

# peer.py: OPEN, then one step per "go.N" file the test creates, keepalives every 3 s meanwhile;
# prints each step and every message it receives
cat >"$W/peer.py" <<'PY'
import os, select, socket, struct, sys, time
W = sys.argv[1]
def msg(t, body=b""):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body
def attr(flags, t, v):
    return struct.pack("!BBB", flags, t, len(v)) + v
ORIGIN = attr(0x40, 1, b"\x00")
AS_PATH = attr(0x40, 2, b"\x02\x01" + struct.pack("!I", 65002))   # 4-octet AS session
NEXT_HOP = attr(0x40, 3, socket.inet_aton("10.86.0.2"))
NLRI = b"\x18\xc6\x33\x64" + b"\x20\xc6\x33\x64\x01"                # 198.51.100.0/24, .1/32
def update(attrs, nlri=NLRI, withdrawn=b""):
    a = b"".join(attrs)
    return msg(2, struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(a)) + a + nlri)
steps = {
    1: [("valid UPDATE, 2 prefixes", update([ORIGIN, AS_PATH, NEXT_HOP]))],
    # RFC 7606 7.1-7.8, each one treat-as-withdraw; every UPDATE carries the same 2 prefixes
    2: [("ORIGIN value 7", update([attr(0x40, 1, b"\x07"), AS_PATH, NEXT_HOP])),
        ("ORIGIN length 2", update([attr(0x40, 1, b"\x00\x00"), AS_PATH, NEXT_HOP])),
        ("AS_PATH segment type 9", update([ORIGIN, attr(0x40, 2, b"\x09\x01" + struct.pack("!I", 65002)), NEXT_HOP])),
        ("AS_PATH segment overruns", update([ORIGIN, attr(0x40, 2, b"\x02\x02" + struct.pack("!I", 65002)), NEXT_HOP])),
        ("NEXT_HOP length 5", update([ORIGIN, AS_PATH, attr(0x40, 3, b"\x0a\x56\x00\x02\x00")])),
        ("MED length 3", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0x80, 4, b"\x00\x00\x01")])),
        ("COMMUNITIES length 6", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0xc0, 8, b"\xfd\xea\x02\x9a\x00\x00")])),
        ("EXTENDED_COMMUNITIES length 7", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0xc0, 16, b"\x80\x06" + b"\x00" * 5)])),
        ("LARGE_COMMUNITY length 11", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0xc0, 32, b"\x00" * 11)])),
        # RFC 7606 7.14 on RFC 5701: IPv6-address-specific communities are 20 octets each
        ("IPV6_EXTENDED_COMMUNITIES length 19", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0xc0, 25, b"\x00\x0c" + b"\x20" * 17)])),
        ("NEXT_HOP missing", update([ORIGIN, AS_PATH])),
        # RFC 7606 4: the attribute list itself does not add up: treat-as-withdraw, not a reset
        ("attribute length past the path attributes", update([ORIGIN, AS_PATH, NEXT_HOP, b"\xc0\x08\x40\xfd\xea"])),
        ("2 octets left for an attribute header", update([ORIGIN, AS_PATH, NEXT_HOP, b"\x40\x01"])),
        # RFC 7606 3(c): flags in conflict with the type
        ("ORIGIN flagged optional", update([attr(0xc0, 1, b"\x00"), AS_PATH, NEXT_HOP])),
        ("COMMUNITIES length 0", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0xc0, 8, b"")])),
        ("NEXT_HOP 0.0.0.0", update([ORIGIN, AS_PATH, attr(0x40, 3, b"\x00" * 4)])),
        ("AS_PATH with AS 0 (RFC 7607)", update([ORIGIN, attr(0x40, 2, b"\x02\x01" + struct.pack("!I", 0)), NEXT_HOP])),
        ("AS_PATH confederation segment from an external peer", update([ORIGIN, attr(0x40, 2, b"\x03\x01" + struct.pack("!I", 65002)), NEXT_HOP]))],
    # RFC 7606 attribute discard: the routes stand, the attribute is ignored
    3: [("ATOMIC_AGGREGATE length 1", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0x40, 6, b"\x00")])),
        ("AGGREGATOR length 6 on a 4-octet session", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0xc0, 7, b"\xfd\xea\x0a\x56\x00\x02")])),
        ("LOCAL_PREF from an external peer", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0x40, 5, b"\x00\x00\x00\x64")])),
        ("ORIGIN twice", update([ORIGIN, AS_PATH, NEXT_HOP, attr(0x40, 1, b"\x07")]))],
    # RFC 7313 5: a ROUTE-REFRESH body of 5 octets is ROUTE-REFRESH Message Error / Invalid Length
    4: [("ROUTE-REFRESH of 5 octets", msg(5, b"\x00\x01\x00\x01\x00"))],
}
s = socket.create_connection(("10.86.0.1", 179), timeout=5)
caps = b"\x01\x04\x00\x01\x00\x01" + b"\x41\x04" + struct.pack("!I", 65002)
opt = b"\x02" + bytes([len(caps)]) + caps
s.sendall(msg(1, struct.pack("!BHH4sB", 4, 65002, 9, socket.inet_aton("10.86.0.2"), len(opt)) + opt))
s.sendall(msg(4))
buf, step, last_ka = b"", 0, time.time()
names = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}
deadline = time.time() + 40
while time.time() < deadline:
    if os.path.exists(f"{W}/go.{step + 1}"):
        step += 1
        for name, m in steps[step]:
            s.sendall(m)
            print(f"sent {step} {name}", flush=True)
    if time.time() - last_ka >= 3:
        s.sendall(msg(4))
        last_ka = time.time()
    r, _, _ = select.select([s], [], [], 0.1)
    if not r:
        continue
    d = s.recv(65536)
    if not d:
        print("closed", flush=True)
        break
    buf += d
    while len(buf) >= 19:
        ln, t = struct.unpack("!HB", buf[16:19])
        if len(buf) < ln:
            break
        m, buf = buf[:ln], buf[ln:]
        extra = f" {m[19]}/{m[20]}" if t == 3 else ""
        print(f"recv {names.get(t, t)}{extra}", flush=True)
PY

mkfifo "$W/cmd"
: >"$W/out"
ip netns exec b3_s "$DRV" -a 65001 -i 10.86.0.1 -r 1 -p 10.86.0.2,65002,passive,hold=9,fam=ipv4-unicast \
	<"$W/cmd" >"$W/out" 2>"$W/drv.log" &
lib_on_exit "kill $!"
exec 3>"$W/cmd"
lib_on_exit "exec 3>&-"
wait_for 5 grep -q ready "$W/out" || { echo "FAIL: driver did not start"; exit 1; }
ip netns exec b3_p python3 "$W/peer.py" "$W" >"$W/peer.out" 2>&1 &
lib_on_exit "kill $!"

# status_has PATTERN: the driver's status line for the peer matches PATTERN (extended regex)
status_has() {
	local n
	n=$(grep -ac '^peer ' "$W/out")
	echo status >&3
	wait_for 2 eval '[ "$(grep -ac "^peer " "$W/out")" -gt '"$n"' ]' &&
		grep -a '^peer ' "$W/out" | tail -n 1 | grep -qE -- "$1"
}
check "session Established" wait_for 10 status_has "state Established"
touch "$W/go.1"
check "valid UPDATE: 2 prefixes received, none withdrawn" \
	wait_for 5 status_has "updates_received [0-9]+ .*prefixes_received 2 withdrawn_received 0 taw_received 0"
touch "$W/go.2"
check "18 malformed UPDATEs: each treated as withdraw (36 prefixes withdrawn), still 2 announced" \
	wait_for 5 status_has "prefixes_received 2 withdrawn_received 36 taw_received 18 attrs_discarded 0"
check "the treat-as-withdraw is logged once under its own name, with peer, attribute and reason" \
	eval '[ "$(grep -c "peer 10.86.0.2 AS65002: UPDATE treated as withdraw (RFC 7606), attribute 1 ORIGIN: ORIGIN value undefined" "$W/drv.log")" = 1 ]'
sleep 10   # longer than the hold time: keepalives must keep flowing both ways
check "session still up past the hold time (Established once, no error, no NOTIFICATION)" \
	eval 'status_has "state Established .* established 1 error \"\"" && ! grep -q NOTIFICATION "$W/peer.out"'
check "the peer got our keepalives meanwhile" eval '[ "$(grep -c "recv KEEPALIVE" "$W/peer.out")" -ge 4 ]'
check "no treat-as-withdraw ended the session" eval '! grep -q "recv NOTIFICATION" "$W/peer.out"'
touch "$W/go.3"
check "4 UPDATEs with an attribute to discard: their 8 prefixes stand, 4 attributes discarded" \
	wait_for 5 status_has "prefixes_received 10 withdrawn_received 36 taw_received 18 attrs_discarded 4"
check "the attribute discard is logged under its own name, with peer and attribute" \
	grep -q "peer 10.86.0.2 AS65002: attribute discarded (RFC 7606), attribute 6 ATOMIC_AGGREGATE" "$W/drv.log"
touch "$W/go.4"
check "ROUTE-REFRESH of 5 octets: NOTIFICATION 7/1 (RFC 7313 ROUTE-REFRESH Message Error / Invalid Length)" \
	wait_for 5 grep -q "recv NOTIFICATION 7/1" "$W/peer.out"
check "our side logs why" wait_for 3 grep -qE "Established -> (Idle|Active): bad ROUTE-REFRESH length, sent NOTIFICATION 7/1" "$W/drv.log"
check "the driver is still running" status_has "^peer "
echo quit >&3
check "whole run under 60 s (${SECONDS} s)" test "$SECONDS" -lt 60
if [ "$LIB_FAIL" -ne 0 ]; then
	cat "$W/peer.out"; tail -n 20 "$W/drv.log"; cat "$W/out"
fi
lib_summary
