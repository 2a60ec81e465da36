#!/usr/bin/env python3
"""Hostile control socket clients for tests/faults/control_clients.sh. Each mode prints one line
of key=value results; bounded in time and count, one UNIX socket path."""
import socket, sys, time

def conn(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s

def closed_within(s, seconds):
    """True when the peer closes (EOF or reset) within seconds; reads and drops what comes.
    Returns (closed, bytes read)."""
    s.settimeout(0.1)
    got, end = b"", time.time() + seconds
    while time.time() < end:
        try:
            d = s.recv(1 << 16)
            if not d:
                return True, got
            got += d
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, got
    return False, got

mode, path = sys.argv[1], sys.argv[2]

if mode == "hold":
    # N connections, idle: how many the daemon closed at once; then hold the rest SECS
    n, hold = int(sys.argv[3]), float(sys.argv[4])
    socks = [conn(path) for _ in range(n)]
    time.sleep(0.5)
    closed = sum(1 for s in socks if closed_within(s, 0.05)[0])
    print("opened=%d closed_at_once=%d" % (len(socks), closed), flush=True)
    time.sleep(hold)
elif mode == "noread":
    # "stats" lines for SECS without reading a byte: the daemon must close it (8 MiB of replies)
    secs = float(sys.argv[3])
    s = conn(path)
    s.setblocking(False)
    chunk = b"stats\n" * 1000
    sent, closed, end = 0, 0, time.time() + secs
    while time.time() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
        except (ConnectionResetError, BrokenPipeError):
            closed = 1
            break
    if not closed:
        closed = int(closed_within(s, 2)[0])
    print("sent=%d closed=%d" % (sent, closed))
elif mode == "longline":
    # a line of N bytes: an error line, then the daemon closes
    n = int(sys.argv[3])
    s = conn(path)
    s.sendall(b"x" * n)
    closed, got = closed_within(s, 3)
    print("closed=%d reply=%s" % (closed, got.decode(errors="replace").strip().replace(" ", "_")))
elif mode == "slowline":
    # one byte every INTERVAL s, never a newline: the line's deadline closes it, bytes or not
    interval, limit = float(sys.argv[3]), float(sys.argv[4])
    s = conn(path)
    t0, closed = time.time(), 0
    while time.time() - t0 < limit:
        try:
            s.send(b"s")
        except (ConnectionResetError, BrokenPipeError):
            closed = 1
            break
        c, _ = closed_within(s, interval)
        if c:
            closed = 1
            break
    print("closed=%d after=%.1f" % (closed, time.time() - t0))
elif mode == "flood":
    # as many connections as will open, N at most, held SECS: the daemon runs out of descriptors
    # A full listen backlog (16) refuses a connect at once (EAGAIN) while the daemon has not yet
    # run its accept: each connect is retried for 0.3 s so that the flood outpaces the daemon only
    # once the daemon cannot accept any more; after three connects in a row fail, it is full.
    n, hold = int(sys.argv[3]), float(sys.argv[4])
    socks, failed, in_a_row = [], 0, 0
    for _ in range(n):
        if in_a_row >= 3:
            failed += 1
            continue
        end = time.time() + 0.3
        while True:
            try:
                socks.append(conn(path, 0.2))
                in_a_row = 0
                break
            except OSError:
                if time.time() >= end:
                    failed += 1
                    in_a_row += 1
                    break
                time.sleep(0.005)
    print("opened=%d failed=%d" % (len(socks), failed), flush=True)
    time.sleep(hold)
else:
    sys.exit("unknown mode " + mode)
