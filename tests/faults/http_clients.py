#!/usr/bin/env python3
"""Hostile API clients for tests/faults/http_clients.sh. Each mode prints one line of key=value
results; bounded in time and count, loopback only."""
import socket, sys, time

def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s

def closed_within(s, seconds):
    """True when the peer closes (EOF or reset) within seconds; reads and drops what comes."""
    s.settimeout(0.2)
    end = time.time() + seconds
    while time.time() < end:
        try:
            d = s.recv(1 << 16)
            if not d:
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False

mode, port = sys.argv[1], int(sys.argv[2])
req = ("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port).encode()

if mode == "pipeline":
    # pipeline GET /metrics for SECONDS without reading a byte
    secs = float(sys.argv[3])
    s = conn(port)
    s.setblocking(False)
    chunk = req * 256
    sent, end = 0, time.time() + secs
    while time.time() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
        except (ConnectionResetError, BrokenPipeError):
            break
    print("sent=%d" % sent, flush=True)
    # the daemon must close it by its deadline; wait up to WAIT seconds
    wait = float(sys.argv[4])
    t0 = time.time()
    ok = closed_within(s, wait)
    print("closed=%d after=%.1f" % (ok, time.time() - t0))
elif mode == "hold":
    # open N connections, idle; report how many the daemon closed at once, then hold them
    n, hold = int(sys.argv[3]), float(sys.argv[4])
    socks = []
    for _ in range(n):
        try:
            socks.append(conn(port))
        except OSError:
            break
        time.sleep(0.01)
    time.sleep(0.5)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            d = s.recv(1)
            if not d:
                closed += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    print("opened=%d closed_at_once=%d" % (len(socks), closed), flush=True)
    time.sleep(hold)
    for s in socks:
        s.close()
elif mode == "flood":
    # connect N times without sending, at most SECONDS; keep them open for HOLD seconds
    n, hold = int(sys.argv[3]), float(sys.argv[4])
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=1))
        except OSError:
            pass
    print("connected=%d" % len(socks), flush=True)
    time.sleep(hold)
    for s in socks:
        s.close()
elif mode == "slowbody":
    # whole headers at once, then the body (Content-Length 200) a byte every 0.5 s: the request's
    # deadline covers the body too, and its bytes do not renew it
    wait = float(sys.argv[3])
    s = conn(port)
    s.sendall(b"POST /api/v1/command HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: text/plain\r\n"
              b"Content-Length: 200\r\n\r\n" % port)
    t0, closed = time.time(), False
    s.settimeout(0.5)
    while time.time() - t0 < wait:
        try:
            s.send(b"x")
            d = s.recv(1 << 16)
            if not d:
                closed = True
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
    print("closed=%d after=%.1f" % (closed, time.time() - t0))
elif mode == "slowloris":
    # one header byte every 0.5 s; the daemon must close it by its deadline, not at each byte
    wait = float(sys.argv[3])
    s = conn(port)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port)
    t0, closed = time.time(), False
    s.settimeout(0.5)
    while time.time() - t0 < wait:
        try:
            s.send(b"X")
            d = s.recv(1 << 16)
            if not d:
                closed = True
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
    print("closed=%d after=%.1f" % (closed, time.time() - t0))
