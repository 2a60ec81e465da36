#!/usr/bin/python3
"""Generated mirror-port captures for detection tests, written as raw pcap (no scapy: 100 k
packets in well under a second).

Usage: mkattacks.py OUT.pcap mix [seed]
       mkattacks.py OUT.pcap steady VICTIM PPS SECONDS [LEAD_S] [seed]
       mkattacks.py OUT.pcap carpet16 [seed]
       mkattacks.py OUT.pcap carpetmit [seed]
       mkattacks.py OUT.pcap nested [seed]
       mkattacks.py OUT.pcap handover [seed]
       mkattacks.py OUT.pcap churn [seed]
       mkattacks.py OUT.pcap spread [seed]

mix: every labelled attack below at 2000 pps for 2 s (t = 1..3 s), a carpet bombing, an outgoing
attack, light background to t = 6 s. Victims (monitored networks 192.0.2.0/24, 198.51.100.0/24,
2001:db8:10::/48):
  192.0.2.50 ack_rst_flood (TCP ACK)      192.0.2.51 ack_rst_flood (TCP RST)
  192.0.2.60 memcached_amplification      192.0.2.61 ssdp_amplification
  192.0.2.62 cldap_amplification          192.0.2.63 chargen_amplification
  192.0.2.64 snmp_amplification           192.0.2.65 wsd_amplification (WS-Discovery)
  192.0.2.66 dns_amplification            192.0.2.67 udp_flood
  2001:db8:10::11 memcached_amplification over IPv6
  198.51.100.1..200: carpet bombing, 40 pps each (8000 pps over the /24), t = 1..4 s
  192.0.2.77 -> 203.0.113.0/24: outgoing UDP flood, 3000 pps, t = 1..3 s
carpet16: carpet bombing of one /24 inside a /16 customer: 10.20.5.1..200 at 40 pps each (8000
pps over 10.20.5.0/24), t = 1..4 s; beside it 10.20.6.1..50 and 10.20.7.1..50 at 20 pps each
(1000 pps per /24, 2000 over the /16 without the bombed /24); background to t = 6 s.
carpetmit: carpet16's bombing (200 hosts at 40 pps, UDP to port 80, t = 1..4 s) of the .5 /24 of
three /16 customers at once, 10.20.0.0/16, 10.30.0.0/16 and 10.40.0.0/16 (one per mitigation in
tests/integration/carpet_mitigation.sh), and of the :5 /64 of two IPv6 /48s, 2001:db8:20::/48
and 2001:db8:30::/48 (hosts ::1..::200 of 2001:db8:20:5::/64, at 40 pps each); beside each bombed
prefix the .6 /24 (or :6 /64) of the same customer carries 1000 pps of TCP from 50 hosts, t =
0.5..5 s; background to t = 6 s.
nested: attacks inside a bombed prefix: carpet16's bombing of 10.50.5.0/24 (200 hosts at 40 pps,
UDP to port 80, t = 1..5 s), and inside it, once the /24 is mitigated, a DNS amplification on
10.50.5.210 (2000 pps from source port 53 of random reflectors, 1400-byte answers, t = 2..4.5 s)
and an outgoing SYN flood from 10.50.5.220 to random hosts of 203.0.113.0/24 port 80 (2000 pps,
t = 2..4.5 s); background to t = 6 s.
handover: a covering ban that ends before the attack inside it, and a host attacked and attacking
at once. 10.60.5.0/24 bombed by 200 hosts at 40 pps (UDP to port 80, t = 1..4 s); inside it a DNS
amplification on 10.60.5.210 (2000 pps from source port 53, t = 2..12 s), which outlasts the
bombing. 10.60.9.9 gets a UDP flood (2000 pps, t = 1..4 s) and sends a SYN flood to 203.0.113.0/24
port 80 (2000 pps, t = 1..10 s). Background to t = 20 s.
churn: a flood of distinct destinations: 5000 one-packet destinations per second in
2001:db8:10::/48 (each a new address), t = 0..6 s (30000 in all, far more than a 1024-host table),
and from t = 3 s a UDP flood of 5000 pps on 192.0.2.30, a host not yet seen, while the churn
goes on; background to t = 6 s.
spread: two floods whose sources a fingerprint can only count: a DNS amplification on 192.0.2.81
(2000 pps, t = 1..4 s, source port 53 to random ports) from random reflectors in the 50 /24s
198.18.0.0/24..198.18.49.0/24 (each packet a random host .1..254 of a random one of them), and a
UDP flood on 192.0.2.82 (2000 pps, t = 1..4 s, random source ports to port 80) from the 250
hosts of 203.0.113.0/24 (a random one per packet: none near a real share, the /24 all of it);
background to t = 6 s.
steady: a UDP flood on VICTIM at PPS for SECONDS, after LEAD_S (default 1) of background at
10 pps, evenly spaced (what a latency bench replays at recorded speed).
"""
import random
import socket
import struct
import sys

T0 = 1_700_000_000.0
ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, flags_frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, flags_frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return ETH + b"\x08\x00" + h + payload


def ip6(src, dst, nh, payload):
    h = struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
                    socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return ETH + b"\x86\xdd" + h + payload


def udp(sport, dport, size):
    return struct.pack("!HHHH", sport, dport, 8 + size, 0) + b"u" * size


def tcp(sport, dport, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 8192, 0, 0)


def icmp(size):
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"p" * size


class Capture:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.pk = []

    def add(self, t, frame):
        self.pk.append((t, frame))

    def rip(self):
        r = self.rnd
        return "%d.%d.%d.%d" % (r.randint(11, 99), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))

    def even(self, t0, t1, pps):
        n = int((t1 - t0) * pps)
        return [t0 + i / pps for i in range(n)]

    def write(self, out):
        self.pk.sort(key=lambda p: p[0])
        with open(out, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, fr in self.pk:
                us = int(round((t + T0) * 1e6))
                f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(fr), len(fr)))
                f.write(fr)
        return len(self.pk)


def background(c, t0, t1, pps=10):
    for t in c.even(t0, t1, pps):
        c.add(t, ip4("192.0.2.100", c.rip(), 6, tcp(40000, 443, 0x10)))


def mix(c):
    r = c.rnd
    hp = lambda: r.randint(1024, 65535)
    kinds = [
        ("192.0.2.50", lambda v: ip4(c.rip(), v, 6, tcp(hp(), 443, 0x10))),           # ACK
        ("192.0.2.51", lambda v: ip4(c.rip(), v, 6, tcp(hp(), 443, 0x04))),           # RST
        ("192.0.2.60", lambda v: ip4(c.rip(), v, 17, udp(11211, hp(), 1200))),
        ("192.0.2.61", lambda v: ip4(c.rip(), v, 17, udp(1900, hp(), 300))),
        ("192.0.2.62", lambda v: ip4(c.rip(), v, 17, udp(389, hp(), 1400))),
        ("192.0.2.63", lambda v: ip4(c.rip(), v, 17, udp(19, hp(), 1000))),
        ("192.0.2.64", lambda v: ip4(c.rip(), v, 17, udp(161, hp(), 600))),
        ("192.0.2.65", lambda v: ip4(c.rip(), v, 17, udp(3702, hp(), 800))),
        ("192.0.2.66", lambda v: ip4(c.rip(), v, 17, udp(53, hp(), 1400))),
        ("192.0.2.67", lambda v: ip4(c.rip(), v, 17, udp(hp(), r.randint(1, 65535), 100))),
        ("2001:db8:10::11", lambda v: ip6("2001:db8:ff::%x" % r.randint(1, 65535), v, 17, udp(11211, hp(), 1200))),
    ]
    for victim, mk in kinds:
        for t in c.even(1, 3, 2000):
            c.add(t + r.uniform(0, 0.0005), mk(victim))
    for t in c.even(1, 4, 8000):                          # carpet: 200 hosts, 40 pps each
        c.add(t, ip4(c.rip(), "198.51.100.%d" % r.randint(1, 200), 17, udp(hp(), 80, 200)))
    for t in c.even(1, 3, 3000):                          # outgoing from a customer
        c.add(t, ip4("192.0.2.77", "203.0.113.%d" % r.randint(1, 254), 17, udp(hp(), 53, 100)))
    background(c, 0, 6)


def carpet16(c):
    r = c.rnd
    for t in c.even(1, 4, 8000):
        c.add(t, ip4(c.rip(), "10.20.5.%d" % r.randint(1, 200), 17, udp(r.randint(1024, 65535), 80, 200)))
    for net in (6, 7):
        for t in c.even(0.5, 5, 1000):
            c.add(t, ip4(c.rip(), "10.20.%d.%d" % (net, r.randint(1, 50)), 6, tcp(r.randint(1024, 65535), 443, 0x10)))
    background(c, 0, 6)


def carpetmit(c):
    r = c.rnd
    hp = lambda: r.randint(1024, 65535)
    for b in (20, 30, 40):
        for t in c.even(1, 4, 8000):
            c.add(t, ip4(c.rip(), "10.%d.5.%d" % (b, r.randint(1, 200)), 17, udp(hp(), 80, 200)))
        for t in c.even(0.5, 5, 1000):
            c.add(t, ip4(c.rip(), "10.%d.6.%d" % (b, r.randint(1, 50)), 6, tcp(hp(), 443, 0x10)))
    for b in (20, 30):
        for t in c.even(1, 4, 8000):
            c.add(t, ip6("2001:db8:ff::%x" % r.randint(1, 65535), "2001:db8:%d:5::%x" % (b, r.randint(1, 200)),
                         17, udp(hp(), 80, 200)))
        for t in c.even(0.5, 5, 1000):
            c.add(t, ip6("2001:db8:ff::%x" % r.randint(1, 65535), "2001:db8:%d:6::%x" % (b, r.randint(1, 50)),
                         6, tcp(hp(), 443, 0x10)))
    background(c, 0, 6)


def nested(c):
    r = c.rnd
    hp = lambda: r.randint(1024, 65535)
    for t in c.even(1, 5, 8000):
        c.add(t, ip4(c.rip(), "10.50.5.%d" % r.randint(1, 200), 17, udp(hp(), 80, 200)))
    for t in c.even(2, 4.5, 2000):
        c.add(t + r.uniform(0, 0.0002), ip4(c.rip(), "10.50.5.210", 17, udp(53, hp(), 1400)))
        c.add(t + r.uniform(0, 0.0002), ip4("10.50.5.220", "203.0.113.%d" % r.randint(1, 254), 6,
                                           tcp(hp(), 80, 0x02)))
    background(c, 0, 6)


def handover(c):
    r = c.rnd
    hp = lambda: r.randint(1024, 65535)
    for t in c.even(1, 4, 8000):
        c.add(t, ip4(c.rip(), "10.60.5.%d" % r.randint(1, 200), 17, udp(hp(), 80, 200)))
    for t in c.even(2, 12, 2000):
        c.add(t + r.uniform(0, 0.0002), ip4(c.rip(), "10.60.5.210", 17, udp(53, hp(), 1400)))
    for t in c.even(1, 4, 2000):
        c.add(t + r.uniform(0, 0.0002), ip4(c.rip(), "10.60.9.9", 17, udp(hp(), 80, 200)))
    for t in c.even(1, 10, 2000):
        c.add(t + r.uniform(0, 0.0002), ip4("10.60.9.9", "203.0.113.%d" % r.randint(1, 254), 6, tcp(hp(), 80, 0x02)))
    background(c, 0, 20)


def churn(c):
    r = c.rnd
    for i, t in enumerate(c.even(0, 6, 5000)):
        c.add(t, ip6("2001:db8:ff::1", "2001:db8:10::%x:%x" % (i >> 16, i & 0xFFFF), 17, udp(40000, 53, 60)))
    for t in c.even(3, 5, 5000):
        c.add(t + 0.00005, ip4(c.rip(), "192.0.2.30", 17, udp(r.randint(1024, 65535), 80, 100)))
    background(c, 0, 6)


def spread(c):
    r = c.rnd
    hp = lambda: r.randint(1024, 65535)
    for t in c.even(1, 4, 2000):
        c.add(t, ip4("198.18.%d.%d" % (r.randint(0, 49), r.randint(1, 254)), "192.0.2.81", 17,
                     udp(53, hp(), 500)))
        c.add(t + 0.0001, ip4("203.0.113.%d" % r.randint(1, 250), "192.0.2.82", 17, udp(hp(), 80, 200)))
    background(c, 0, 6)


def steady(c, victim, pps, secs, lead):
    background(c, 0, lead + secs + 0.5)
    v6 = ":" in victim
    for t in c.even(lead, lead + secs, pps):
        src = c.rip()
        if v6:
            c.add(t, ip6("2001:db8:ff::1", victim, 17, udp(c.rnd.randint(1024, 65535), 80, 100)))
        else:
            c.add(t, ip4(src, victim, 17, udp(c.rnd.randint(1024, 65535), 80, 100)))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, what = sys.argv[1], sys.argv[2]
    if what == "mix":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        mix(c)
    elif what == "carpet16":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        carpet16(c)
    elif what == "carpetmit":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        carpetmit(c)
    elif what == "nested":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        nested(c)
    elif what == "handover":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        handover(c)
    elif what == "churn":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        churn(c)
    elif what == "spread":
        c = Capture(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
        spread(c)
    elif what == "steady" and len(sys.argv) >= 6:
        lead = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
        c = Capture(int(sys.argv[7]) if len(sys.argv) > 7 else 7)
        steady(c, sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), lead)
    else:
        sys.exit(__doc__)
    print(out, c.write(out), "packets")


main()
