#!/usr/bin/env python3
"""ExaBGP's QA vectors (../shared/data/external/exabgp/*.tsv) through a running rampartd.

Starts three raw BGP listeners on loopback (the sessions ExaBGP's QA used: iBGP with 4-octet
ASNs, eBGP, iBGP without 4-octet ASNs), a rampartd peering with all three, then for every row
feeds the row's API line to rampartd's control socket and records the UPDATEs the row's peer
receives. A row passes when they carry what ExaBGP's UPDATE (raw_update_hex) carries:

  - NLRI and withdrawn routes as sets (ExaBGP sent one UPDATE per prefix, Rampart packs
    prefixes with equal attributes; both are the same routes);
  - every path attribute by type, flags and value, the extended-length flag aside (RFC 4271 4.3
    lets a sender use it for any length); COMMUNITIES, LARGE_COMMUNITY and (IPv6) EXTENDED_
    COMMUNITIES compared as sets (their order carries no meaning, RFC 1997 / 4360 / 8092);
  - MP_REACH_NLRI by AFI, SAFI, next hop and NLRI set; MP_UNREACH_NLRI by AFI, SAFI and set;
  - an End-of-RIB row: an End-of-RIB of that family.

A withdraw row is prepared by announcing the same line with the verb announce (and, for a flow
rule without actions, `then { discard; }`): a withdraw of a route never announced sends nothing,
in ExaBGP as in Rampart. After every row the routes it made are withdrawn the same way, so rows
do not see each other. Rows in EXCEPTIONS (source exabgp-flow / exabgp-unicast) are reported and
do not fail. Prints one line per source, `exabgp-flow: N passed, N failed (N excepted)`.

  exabgp_peer.py RAMPARTD DATA_DIR EXCEPTIONS WORKDIR [-v] [ID...]
"""
import csv
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

MARKER = b"\xff" * 16


def msg(mtype, body):
    return MARKER + struct.pack("!HB", 19 + len(body), mtype) + body


class Listener(threading.Thread):
    """One BGP peer: accepts rampartd's connection, answers its OPEN, records UPDATE bodies."""

    def __init__(self, addr, asn, asn4):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(1)
        self.addr, self.port = addr, self.sock.getsockname()[1]
        self.asn, self.asn4 = asn, asn4
        self.lock = threading.Lock()
        self.updates = []
        self.established = threading.Event()
        self.error = None

    def open_body(self):
        caps = b""
        for afi, safi in ((1, 1), (2, 1), (1, 133), (2, 133)):
            caps += struct.pack("!BBHBB", 1, 4, afi, 0, safi)
        # Extended Next Hop (RFC 8950) for IPv4 unicast over an IPv6 next hop, as a peer with it
        # configured offers it whatever the other side does (BIRD's 'extended next hop on', the
        # QA's extended-nexthop.conf): Rampart uses it only for IPv4 routes whose next hop is IPv6,
        # so the rows with IPv4 next hops are encoded as without it
        caps += struct.pack("!BBHHH", 5, 6, 1, 1, 2)
        if self.asn4:
            caps += struct.pack("!BBI", 65, 4, self.asn)
        opt = struct.pack("!BB", 2, len(caps)) + caps
        my_as = self.asn if self.asn < 65536 else 23456
        router_id = socket.inet_aton(self.addr)
        return struct.pack("!BHH4sB", 4, my_as, 0, router_id, len(opt)) + opt

    def run(self):
        try:
            conn, _ = self.sock.accept()
            buf = b""
            conn.sendall(msg(1, self.open_body()))
            while True:
                r, _, _ = select.select([conn], [], [], 5)
                if r:
                    data = conn.recv(65536)
                    if not data:
                        self.error = "rampartd closed the session"
                        return
                    buf += data
                while len(buf) >= 19:
                    length, mtype = struct.unpack("!HB", buf[16:19])
                    if len(buf) < length:
                        break
                    body, buf = buf[19:length], buf[length:]
                    if mtype == 1:
                        conn.sendall(msg(4, b""))
                    elif mtype == 4:
                        self.established.set()
                    elif mtype == 2:
                        with self.lock:
                            self.updates.append(body)
                    elif mtype == 3:
                        self.error = "NOTIFICATION %s" % body.hex()
                        return
                if not r:
                    conn.sendall(msg(4, b""))
        except OSError as e:
            self.error = str(e)

    def take(self):
        with self.lock:
            u, self.updates = self.updates, []
        return u

    def count(self):
        with self.lock:
            return len(self.updates)


def split_prefixes(b):
    out = []
    i = 0
    while i < len(b):
        n = (b[i] + 7) // 8
        out.append(b[i:i + 1 + n].hex())
        i += 1 + n
    return out


def split_flows(b):
    out = []
    i = 0
    while i < len(b):
        n, hl = b[i], 1
        if n >= 0xF0:
            n, hl = (n & 0x0F) << 8 | b[i + 1], 2
        out.append(b[i:i + hl + n].hex())
        i += hl + n
    return out


SET_ATTRS = {8: 4, 16: 8, 25: 20, 32: 12}  # communities by item size


def parse_update(body):
    """-> dict: withdrawn, nlri, attrs {type: (flags, value-or-set)}, mp_reach, mp_unreach."""
    wl = struct.unpack("!H", body[0:2])[0]
    withdrawn = body[2:2 + wl]
    al = struct.unpack("!H", body[2 + wl:4 + wl])[0]
    attrs_b = body[4 + wl:4 + wl + al]
    nlri = body[4 + wl + al:]
    u = {"withdrawn": set(split_prefixes(withdrawn)), "nlri": set(split_prefixes(nlri)),
         "attrs": {}, "reach": None, "unreach": None}
    i = 0
    while i < len(attrs_b):
        flags, t = attrs_b[i], attrs_b[i + 1]
        if flags & 0x10:
            ln, hl = struct.unpack("!H", attrs_b[i + 2:i + 4])[0], 4
        else:
            ln, hl = attrs_b[i + 2], 3
        v = attrs_b[i + hl:i + hl + ln]
        i += hl + ln
        if t in (14, 15):
            afi, safi = struct.unpack("!HB", v[0:3])
            if t == 14:
                nhl = v[3]
                nh, rest = v[4:4 + nhl].hex(), v[5 + nhl:]
            else:
                nh, rest = None, v[3:]
            items = split_flows(rest) if safi == 133 else split_prefixes(rest)
            u["reach" if t == 14 else "unreach"] = (afi, safi, nh, frozenset(items))
            continue
        if t in SET_ATTRS:
            k = SET_ATTRS[t]
            v = frozenset(v[j:j + k].hex() for j in range(0, len(v), k))
        else:
            v = v.hex()
        u["attrs"][t] = (flags & ~0x10, v)
    return u


def is_eor(u):
    if u["withdrawn"] or u["nlri"] or u["reach"]:
        return None
    if not u["attrs"] and not u["unreach"]:
        return (1, 1)
    if u["unreach"] and not u["unreach"][3] and not u["attrs"]:
        return u["unreach"][:2]
    return None


def summarize(updates):
    """The routes of a set of UPDATEs: (announced {family: {item: attrs}}, withdrawn, eors)."""
    ann, wd, eors = {}, set(), set()
    for u in updates:
        e = is_eor(u)
        if e:
            eors.add(e)
            continue
        attrs = tuple(sorted(u["attrs"].items()))
        for p in u["nlri"]:
            ann[("ipv4", p)] = (attrs, None)
        for p in u["withdrawn"]:
            wd.add(("ipv4", p))
        if u["reach"]:
            afi, safi, nh, items = u["reach"]
            for p in items:
                ann[((afi, safi), p)] = (attrs, nh)
        if u["unreach"]:
            afi, safi, _, items = u["unreach"]
            for p in items:
                wd.add(((afi, safi), p))
    return ann, wd, eors


def attr_text(attrs):
    out = []
    for t, (f, v) in attrs:
        if isinstance(v, frozenset):
            v = "{" + " ".join(sorted(v)) + "}"
        out.append("%d:%02x:%s" % (t, f, v))
    return " ".join(out)


def compare(expected, got):
    """'' when got carries the routes of expected, else what differs."""
    ea, ew, ee = summarize(expected)
    ga, gw, ge = summarize(got)
    why = []
    if ee and not ee <= ge:
        why.append("End-of-RIB %s expected, got %s" % (sorted(ee), sorted(ge) or "none"))
    if set(ea) != set(ga):
        miss, extra = set(ea) - set(ga), set(ga) - set(ea)
        if miss:
            why.append("missing NLRI %s" % " ".join(sorted(p for _, p in miss)))
        if extra:
            why.append("extra NLRI %s" % " ".join(sorted(p for _, p in extra)))
    for k in set(ea) & set(ga):
        (eat, enh), (gat, gnh) = ea[k], ga[k]
        if eat != gat:
            why.append("%s attributes: ExaBGP %s, Rampart %s" % (k[1], attr_text(eat), attr_text(gat)))
        if enh != gnh:
            why.append("%s MP next hop: ExaBGP %s, Rampart %s" % (k[1], enh, gnh))
        if why:
            break
    if ew != gw:
        miss, extra = ew - gw, gw - ew
        if miss:
            why.append("missing withdrawn %s" % " ".join(sorted(p for _, p in miss)))
        if extra:
            why.append("extra withdrawn %s" % " ".join(sorted(p for _, p in extra)))
    return "; ".join(why)


class Rampart:
    def __init__(self, binary, work, local_as, listeners):
        self.sock = os.path.join(work, "rampart.sock")
        conf = os.path.join(work, "rampart.yaml")
        peers = ""
        for lst, remote_as in listeners:
            peers += ("    - address: %s\n      port: %d\n      remote_as: %d\n"
                      "      local_address: 127.0.0.1\n      hold_time: 0\n"
                      "      families: [ipv4-unicast, ipv6-unicast, ipv4-flowspec, ipv6-flowspec]\n"
                      % (lst.addr, lst.port, remote_as))
        with open(conf, "w") as f:
            f.write("networks: [\"0.0.0.0/0\", \"::/0\"]\ncapture:\n  pcap:\n    interfaces: []\n"
                    "mitigation:\n  state_file: \"\"\n"
                    "bgp:\n  local_as: %d\n  router_id: 1.2.3.4\n  connect_retry: 1\n"
                    "  end_of_rib_delay: 0\n  peers:\n%s"
                    "storage:\n  dir: %s/data\napi:\n  socket: %s\n  http: \"\"\n"
                    % (local_as, peers, work, self.sock))
        self.log = open(os.path.join(work, "rampartd.log"), "w")
        self.proc = subprocess.Popen([binary, "-c", conf], stdout=self.log, stderr=subprocess.STDOUT)

    def command(self, line):
        """-> (True, '') on done, (False, why) on error."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.sock)
        s.sendall(line.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        lines = data.decode(errors="replace").splitlines()
        last = lines[-1] if lines else ""
        if last == "done":
            return True, ""
        return False, " / ".join(lines)[-300:] or "no reply"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def swap_verb(line, verb):
    """The same command with the verb announce/withdraw replaced (after any neighbor prefix)."""
    words = line.split(" ")
    for i, w in enumerate(words):
        if w in ("announce", "withdraw"):
            words[i] = verb
            break
    out = " ".join(words).rstrip()
    if verb == "announce" and " flow " in out and "then" not in out:
        out = out[:-1] + "then { discard; } }" if out.endswith("}") else out + " discard"
    return out


def wait_updates(lst, want_eor=False, first=1.5, quiet=0.15):
    """UPDATEs at lst until quiet for `quiet` s after the first (or `first` s with none)."""
    deadline = time.time() + first
    got = []
    while time.time() < deadline:
        got += [parse_update(b) for b in lst.take()]
        real = [u for u in got if want_eor or not is_eor(u)]
        if real:
            deadline = min(deadline, time.time() + quiet)
            n = lst.count()
            time.sleep(quiet)
            if lst.count() == n:
                got += [parse_update(b) for b in lst.take()]
                break
        time.sleep(0.01)
    return [u for u in got if want_eor or not is_eor(u)]


def run_row(rd, peers, lst, verb, line, raw, sibling):
    """'' when the row passes, else why not."""
    def drain():
        for p in peers.values():
            p.take()
    expected = [parse_update(raw[19:])]
    eor_row = bool(is_eor(expected[0]))
    drain()
    if verb == "withdraw":
        rd.command(swap_verb(line, "announce"))
        wait_updates(lst)
        drain()
    ok, why = rd.command(line)
    if not ok:
        return "refused: " + why
    got = wait_updates(lst, want_eor=eor_row)
    if verb == "announce" and not eor_row:
        rd.command(swap_verb(line, "withdraw"))
        wait_updates(lst)
    if not got:
        return "nothing sent"
    ann, wd, _ = summarize(got)
    # what the same command sent for its sibling rows is theirs to check
    ea, ew, _ = summarize(expected)
    keep = [u for u in got]
    for u in keep:
        u["nlri"] = {p for p in u["nlri"] if ("ipv4", p) in ea or ("ipv4", p) not in sibling[0]}
        u["withdrawn"] = {p for p in u["withdrawn"] if ("ipv4", p) in ew or ("ipv4", p) not in sibling[1]}
        for k in ("reach", "unreach"):
            if u[k]:
                afi, safi, nh, items = u[k]
                fam = (afi, safi)
                if k == "reach":
                    items = frozenset(p for p in items if (fam, p) in ea or (fam, p) not in sibling[0])
                else:
                    items = frozenset(p for p in items if (fam, p) in ew or (fam, p) not in sibling[1])
                u[k] = (afi, safi, nh, items) if items or k == "unreach" and not u[k][3] else None
    return compare(expected, keep)


def main():
    binary, data, exc_file, work = sys.argv[1:5]
    verbose = "-v" in sys.argv[5:]
    only = [a for a in sys.argv[5:] if a != "-v"]
    excepted = {}
    for ln in open(exc_file):
        if ln.startswith("#") or not ln.strip():
            continue
        src, row, reason = ln.rstrip("\n").split("\t", 2)
        excepted[(src, row)] = reason

    rows = []  # (local_as, source, id, verb, line, peer kind, raw UPDATE)
    for r in csv.DictReader(open(os.path.join(data, "flow_vectors.tsv")), delimiter="\t"):
        # ExaBGP's flow QA sessions are iBGP (AS 1, and AS 65500 for conf-flow-redirect)
        rows.append((1, "exabgp-flow", r["id"], r["verb"], r["api_line"], "ibgp", r["raw_update_hex"]))
    for r in csv.DictReader(open(os.path.join(data, "unicast_vectors.tsv")), delimiter="\t"):
        kind = "ebgp" if r["local_as"] != r["peer_as"] else "as2" if r["asn4"] == "false" else "ibgp"
        rows.append((int(r["local_as"] or 1), "exabgp-unicast", r["id"], r["verb"], r["primary_text"],
                     kind, r["raw_update_hex"], int(r["peer_as"] or 1)))
    rows = [r if len(r) == 8 else r + (r[0],) for r in rows]
    if only:
        rows = [r for r in rows if r[2] in only]
    # One command can make several UPDATEs (ExaBGP sent one per prefix; the vectors hold one row
    # per UPDATE): the routes of a row's siblings (same command, same session) are not extra.
    siblings = {}
    for r in rows:
        raw = bytes.fromhex(r[6])
        ann, wd, _ = summarize([parse_update(raw[19:])])
        sib = siblings.setdefault((r[0], r[4], r[5]), [set(), set()])
        sib[0] |= set(ann)
        sib[1] |= wd

    counts = {}
    for local_as in sorted(set(r[0] for r in rows)):
        group = [r for r in rows if r[0] == local_as]
        peers = {"ibgp": Listener("127.0.0.1", local_as, True)}
        for r in group:
            if r[5] == "ebgp":
                peers["ebgp"] = Listener("127.0.0.3", r[7], True)
            if r[5] == "as2":
                peers["as2"] = Listener("127.0.0.4", local_as, False)
        for lst in peers.values():
            lst.start()
        rd = Rampart(binary, work, local_as, [(lst, lst.asn) for lst in peers.values()])
        try:
            for lst in peers.values():
                if not lst.established.wait(20):
                    print("AS %d: session to %s not established: %s" % (local_as, lst.addr, lst.error))
                    return 2
            time.sleep(0.3)
            for lst in peers.values():
                lst.take()  # the sessions' own End-of-RIBs
            for _, src, rid, verb, line, kind, raw, _ in group:
                why = run_row(rd, peers, peers[kind], verb, line, bytes.fromhex(raw),
                              siblings[(local_as, line, kind)])
                c = counts.setdefault(src, [0, 0, 0])
                listed = (src, rid) in excepted
                if not why:
                    c[0] += 1
                    if verbose:
                        print("ok   %s %s" % (rid, line))
                    if listed:
                        print("listed but passes: %s %s" % (src, rid))
                elif listed:
                    c[2] += 1
                    print("excepted %s: %s: %s" % (rid, line, why))
                else:
                    c[1] += 1
                    print("FAIL %s: %s: %s" % (rid, line, why))
                for lst in peers.values():
                    if lst.error:
                        print("AS %d: session %s: %s" % (local_as, lst.addr, lst.error))
                        return 2
        finally:
            rd.stop()
            for lst in peers.values():
                lst.sock.close()
    failed = 0
    for src, (p, f, e) in counts.items():
        print("%s: %d passed, %d failed (%d excepted)" % (src, p, f, e))
        failed += f
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
