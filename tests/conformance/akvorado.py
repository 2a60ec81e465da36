"""Compares Rampart's decoders with akvorado's test assertions (see akvorado.sh).

expected_flows.json: each case's pcaps go, in order, through one decoder context; the records
are compared with `expected_flowdump` as the case's `compare` says. Every flowdump field is
checked; `vlan_soft` too (akvorado's SrcVlan, else DstVlan). Cases with compare `none` assert no
records: their template and timing assertions are checked on what Rampart has (the exporter's
template count and domain; record times against the NetFlow v9 header, RFC 3954 5.1).
expected_frames.json: each frame through the mirror-port decoder, compared with
`expected_record`, or no record where akvorado returns an L3 length of 0.
"""
import json
import os
import struct
import subprocess
import sys

FIELDS = ["src", "dst", "sport", "dport", "proto", "packets", "bytes", "tos", "tcp_flags",
          "in_if", "out_if", "rate"]


def load_exceptions(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) >= 3 and cols[0] == "akvorado":
            out[cols[1]] = cols[2]
    return out


def run(tool, args):
    p = subprocess.run([tool] + args, capture_output=True, text=True, check=True)
    recs, exps = [], []
    for line in p.stdout.splitlines():
        o = json.loads(line)
        (exps if "exporter" in o else recs).append(o)
    return recs, exps


def diff(want, got, ak=None):
    """The fields where got departs from want, as text; empty when they agree. The VLAN is
    compared loosely (the README's advice): Rampart's record has one VLAN, akvorado two
    (SrcVlan, DstVlan); Rampart's must be the flowdump mapping's or one of akvorado's."""
    bad = []
    for k in FIELDS:
        if want[k] != got[k]:
            bad.append("%s %s != %s" % (k, got[k], want[k]))
    vlans = {want.get("vlan_soft", 0)}
    if ak:
        vlans |= {ak[k] for k in ("SrcVlan", "DstVlan") if ak.get(k)}
    if got.get("vlan", 0) not in vlans:
        bad.append("vlan %s not in %s" % (got.get("vlan"), sorted(vlans)))
    return ", ".join(bad)


def udp_payloads(path):
    """(payload) of every Ethernet/IPv4/UDP frame of a classic pcap file."""
    data = open(path, "rb").read()
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if frame[12:14] == b"\x08\x00" and frame[23] == 17:
            ihl = (frame[14] & 15) * 4
            yield frame[14 + ihl + 8:]


def check_none(case, recs, exps, pcaps, base):
    """The counters-only cases: what akvorado asserts there, on Rampart's terms."""
    name = case["case"]
    if name == "TestTemplatesMixedWithData":
        # akvorado asserts one options template and one template for observation domain
        # 17170432 (the value it decodes from this PDU's header).
        hdr = next(udp_payloads(pcaps[0]))
        version, domain = struct.unpack(">H", hdr[:2])[0], None
        if version == 9:
            domain = struct.unpack(">I", hdr[16:20])[0]
        else:
            domain = struct.unpack(">I", hdr[12:16])[0]
        ex = [e for e in exps if e["domain"] == domain]
        if domain != 17170432 or len(ex) != 1 or ex[0]["templates"] != 2:
            return "exporters %s, domain in header %s" % (exps, domain)
        return ""
    # The timestamp cases (akvorado asserts its TimeReceived, from the header or from
    # FIRST_SWITCHED): 4 records, each starting at export time - (sysUptime - FIRST_SWITCHED) ms
    # (RFC 3954 5.1 and 8), FIRST_SWITCHED read by tshark (an independent decoder), the header
    # from the datagram; no record ends after the export time.
    hdrs = [p for f in pcaps for p in udp_payloads(f)]
    uptime, secs = struct.unpack(">II", hdrs[-1][4:12])
    if len(recs) != 4:
        return "%d records, not 4" % len(recs)
    out = subprocess.run(["tshark", "-r", os.path.join(base, case["combined_pcap"]), "-d", "udp.port==2055,cflow", "-T", "fields",
                          "-e", "cflow.timestart"], capture_output=True, text=True, check=True).stdout
    firsts = [f for line in out.split() for f in line.split(",") if f]
    if len(firsts) != 4:
        return "tshark found %d FIRST_SWITCHED values, not 4" % len(firsts)
    for r, first in zip(recs, firsts):
        first_ms = round(float(first) * 1000)
        want = secs * 10**9 - (uptime - first_ms) * 10**6
        if r["start_ns"] != want:
            return "record start %d, RFC 3954 start %d" % (r["start_ns"], want)
        if r["end_ns"] > secs * 10**9:
            return "record end %d after the export time %d s" % (r["end_ns"], secs)
    return ""


def check_flow_case(tool, base, case):
    pcaps = [os.path.join(base, "pcap", p) for p in case["pcaps"]]
    recs, exps = run(tool, ["flows", case["flowdump_proto"]] + pcaps)
    want = case["expected_flowdump"]
    ak = case.get("expected_akvorado") or []
    akv = lambda i: ak[i] if i < len(ak) else None
    cmp = case["compare"]
    if cmp == "none":
        return check_none(case, recs, exps, pcaps, base)
    if cmp == "all_in_order":
        if len(recs) != len(want):
            return "%d records, expected %d" % (len(recs), len(want))
        return "; ".join("#%d: %s" % (i, d) for i, d in
                         ((i, diff(w, g, akv(i))) for i, (w, g) in enumerate(zip(want, recs))) if d)
    if cmp.startswith("first_"):
        n = int(cmp.split("_")[1])
        if len(recs) < n:
            return "%d records, expected at least %d" % (len(recs), n)
        return "; ".join("#%d: %s" % (i, d) for i, d in
                         ((i, diff(w, g, akv(i))) for i, (w, g) in enumerate(zip(want, recs[:n]))) if d)
    if cmp.startswith("index_"):
        i = int(cmp.split("_")[1])
        if case.get("record_count") is not None and len(recs) != case["record_count"]:
            return "%d records, expected %d" % (len(recs), case["record_count"])
        if len(recs) <= i:
            return "%d records, no #%d" % (len(recs), i)
        d = diff(want[0], recs[i], akv(0))
        return "#%d: %s" % (i, d) if d else ""
    if cmp == "unordered":
        left = list(recs)
        missing = []
        for j, w in enumerate(want):
            m = next((g for g in left if not diff(w, g, akv(j))), None)
            if m is None:
                missing.append(w)
            else:
                left.remove(m)
        if missing or left:
            return "missing %s; extra %s" % (missing, left)
        return ""
    return "unknown compare %s" % cmp


def check_frame(tool, base, fr):
    recs, _ = run(tool, ["frames", os.path.join(base, "pcap", fr["pcap"])])
    # akvorado's test decodes the capture's first frame.
    recs = recs[:1]
    if not recs:
        return "no frame"
    want = fr["expected_record"]
    if want is None or fr.get("expected_l3_length", 0) == 0:
        return "" if not recs or "none" in recs[0] else "decoded %s, expected no record" % recs[0]
    if "none" in recs[0]:
        return "no record (%s)" % recs[0]["none"]
    return diff(want, recs[0], fr.get("expected_akvorado"))


def main():
    tool, base, exc_path = sys.argv[1:4]
    verbose = "-v" in sys.argv[4:]
    exceptions = load_exceptions(exc_path)
    flows = json.load(open(os.path.join(base, "expected_flows.json")))["cases"]
    frames = json.load(open(os.path.join(base, "expected_frames.json")))["frames"]
    rows = [("flow:" + c["case"], lambda c=c: check_flow_case(tool, base, c)) for c in flows]
    rows += [("frame:" + f["case"], lambda f=f: check_frame(tool, base, f)) for f in frames]
    passed = failed = excepted = 0
    for rid, check in rows:
        try:
            why = check()
        except subprocess.CalledProcessError as e:
            why = "akvorado_dump exited %d: %s" % (e.returncode, e.stderr.strip())
        if not why:
            passed += 1
            if rid in exceptions:
                print("PASS %s (listed in EXCEPTIONS: remove it)" % rid)
            elif verbose:
                print("PASS %s" % rid)
        elif rid in exceptions:
            excepted += 1
            print("EXCEPTED %s: %s (%s)" % (rid, exceptions[rid], why[:300]))
        else:
            failed += 1
            print("FAIL %s: %s" % (rid, why[:1500]))
    print("akvorado: %d passed, %d failed (%d more listed in EXCEPTIONS)" % (passed, failed, excepted))
    sys.exit(1 if failed else 0)


main()
