#!/usr/bin/python3
"""Sends numbered NetFlow v9 records to HOST:PORT at a steady rate.

    nf9_soak_send.py HOST PORT RATE SECONDS [--per N] [--first K]

Every record is unique: its IN_PKTS is its number + 1 (1, 2, 3, ...) and its source address
is 10.0.0.0 + number, so ClickHouse can check count() == uniqExact(packets) == records sent.
With --first K numbering starts at K (default 0), so two senders can share one table.
Destinations cycle over 198.51.100.1..64. Each datagram carries the template flowset and N
(default 40) data records, ~1.2 KB: a restarted collector learns the template at once.
The pace is kept per 10 ms slot (the schedule is absolute, so a late slot catches up).
Prints "records N datagrams D seconds S".
"""
import socket
import struct
import sys
import time

# IN_BYTES, IN_PKTS, PROTOCOL, L4_SRC_PORT, IPV4_SRC_ADDR, L4_DST_PORT, IPV4_DST_ADDR,
# LAST_SWITCHED, FIRST_SWITCHED
FIELDS = [(1, 4), (2, 4), (4, 1), (7, 2), (8, 4), (11, 2), (12, 4), (21, 4), (22, 4)]
REC = struct.Struct('>IIBHIHIII')
TID = 256


def main():
    a = sys.argv[1:]
    per = 40
    first = 0
    if '--per' in a:
        i = a.index('--per')
        per = int(a[i + 1])
        del a[i:i + 2]
    if '--first' in a:
        i = a.index('--first')
        first = int(a[i + 1])
        del a[i:i + 2]
    host, port, rate, seconds = a[0], int(a[1]), int(a[2]), float(a[3])
    total = int(rate * seconds)
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect((host, port))
    tmpl = struct.pack('>HH', TID, len(FIELDS)) + b''.join(struct.pack('>HH', t, l) for t, l in FIELDS)
    tmpl_fs = struct.pack('>HH', 0, 4 + len(tmpl)) + tmpl
    t0 = time.time()
    sent = seq = dgrams = 0
    slot = 0.01
    while sent < total:
        due = min(total, int(rate * ((time.time() - t0) + slot)))
        while sent < due:
            n = min(per, total - sent)
            now = time.time()
            up = int((now - t0) * 1000) + 1000
            recs = b''.join(REC.pack(100 * (k + 1), k + 1, 17, 1024 + (k & 0x7fff), 0x0a000000 + k, 53,
                                     0xc6336401 + (k & 63), up, up)
                            for k in range(first + sent, first + sent + n))
            pad = (-len(recs)) % 4
            data_fs = struct.pack('>HH', TID, 4 + len(recs) + pad) + recs + b'\0' * pad
            hdr = struct.pack('>HHIIII', 9, n + 1, up, int(now), seq, 0)
            s.send(hdr + tmpl_fs + data_fs)
            seq += 1
            dgrams += 1
            sent += n
        nxt = t0 + sent / rate
        d = nxt - time.time()
        if d > 0:
            time.sleep(min(d, slot))
    print(f'records {sent} datagrams {dgrams} seconds {time.time() - t0:.1f}')


if __name__ == '__main__':
    main()
