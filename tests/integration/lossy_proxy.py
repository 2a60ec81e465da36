#!/usr/bin/env python3
"""An HTTP proxy in front of ClickHouse that loses answers: `lossy_proxy.py LISTEN_PORT CH_PORT
DROP` forwards every request whole to ClickHouse and reads its whole answer, but for the INSERTs
whose ordinal (1-based) is in DROP (comma-separated) it closes the client's connection instead of
answering. The client saw its request go out and no answer come back: the outcome it cannot
know, while ClickHouse did store the rows. Loopback only; stops when killed."""
import socket
import sys
import threading

listen_port, ch_port = int(sys.argv[1]), int(sys.argv[2])
drop = {int(x) for x in sys.argv[3].split(",") if x}
inserts = 0
lock = threading.Lock()


def read_request(conn, buf):
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        data = conn.recv(1 << 20)
        if not data:
            return None, b""
        rest += data
    return (head, rest[:length]), rest[length:]


def serve(conn):
    global inserts
    buf = b""
    try:
        while True:
            req, buf = read_request(conn, buf)
            if req is None:
                return
            head, body = req
            lines = head.split(b"\r\n")
            keep = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
            fwd = b"\r\n".join([lines[0]] + keep + [b"Connection: close"]) + b"\r\n\r\n" + body
            up = socket.create_connection(("127.0.0.1", ch_port))
            up.sendall(fwd)
            answer = b""
            while True:
                data = up.recv(1 << 20)
                if not data:
                    break
                answer += data
            up.close()
            lost = False
            if b"INSERT" in lines[0]:
                with lock:
                    inserts += 1
                    lost = inserts in drop
            if lost:
                print(f"lossy_proxy: insert {inserts} stored, answer dropped", flush=True)
                return
            # the upstream answer said close; tell our client to reconnect likewise
            conn.sendall(answer)
            return
    finally:
        conn.close()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
