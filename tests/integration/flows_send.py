#!/usr/bin/python3
"""Sends the UDP payloads of a capture of flow export datagrams to HOST:PORT.

    flows_send.py PCAP HOST PORT [--speed recorded|max] [--repeat N]

At recorded speed each datagram leaves at its capture offset from the first one (the exporter's
pace, so flows exported at 2 s timeouts arrive in the bursts they came in). At max speed they go
as fast as one socket sends. Reads classic pcap with Ethernet (802.1Q tags allowed), IPv4 or IPv6
and UDP; any other frame is skipped. The payload is sent unchanged; the kernel supplies the
source address. Prints the number of datagrams sent.
"""
import socket
import struct
import sys
import time


def udp_payloads(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = '<'
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        end = '>'
    else:
        sys.exit(f'{path}: not a classic pcap file')
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    linktype = struct.unpack(end + 'I', data[20:24])[0]
    if linktype != 1:
        sys.exit(f'{path}: link type {linktype}, expected Ethernet')
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + 'IIII', data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts = sec + frac / (1e9 if nano else 1e6)
        p = 12
        etype = struct.unpack('>H', frame[p:p + 2])[0]
        while etype in (0x8100, 0x88a8):
            p += 4
            etype = struct.unpack('>H', frame[p:p + 2])[0]
        p += 2
        if etype == 0x0800:
            if frame[p + 9] != 17:
                continue
            p += (frame[p] & 0x0f) * 4
        elif etype == 0x86dd:
            if frame[p + 6] != 17:
                continue
            p += 40
        else:
            continue
        ulen = struct.unpack('>H', frame[p + 4:p + 6])[0]
        yield ts, frame[p + 8:p + ulen]


def main():
    args = sys.argv[1:]
    speed, repeat = 'recorded', 1
    if '--speed' in args:
        i = args.index('--speed')
        speed = args[i + 1]
        del args[i:i + 2]
    if '--repeat' in args:
        i = args.index('--repeat')
        repeat = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3 or speed not in ('recorded', 'max'):
        sys.exit(__doc__)
    path, host, port = args[0], args[1], int(args[2])
    pkts = list(udp_payloads(path))
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((host, port))
    sent = 0
    for _ in range(repeat):
        t0, w0 = pkts[0][0], time.monotonic()
        for ts, payload in pkts:
            if speed == 'recorded':
                delay = (ts - t0) - (time.monotonic() - w0)
                if delay > 0:
                    time.sleep(delay)
            s.send(payload)
            sent += 1
    print(sent)


if __name__ == '__main__':
    main()
