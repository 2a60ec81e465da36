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


def tshark_fields(path, *fields):
    """Per frame, the values tshark's NetFlow/IPFIX dissector gives for fields (lists)."""
    args = ["tshark", "-r", path, "-d", "udp.port==2055,cflow", "-d", "udp.port==4739,cflow",
            "-T", "fields", "-E", "separator=|"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        rows.append([[v for v in col.split(",") if v] for col in line.split("|")])
    return rows


def check_none(case, recs, exps, pcaps, base):
    """The cases that assert counters, templates or times rather than records, checked on
    Rampart's terms against tshark (an independent decoder) and the RFCs, the same way for every
    such case: the exporter holds the templates tshark saw, under the domain the header carries;
    each NetFlow v9 record starts at export time - (sysUptime - FIRST_SWITCHED) ms (RFC 3954 5.1
    and 8), FIRST_SWITCHED as tshark reads it, and ends no later than the export time."""
    combined = os.path.join(base, case["combined_pcap"])
    rows = tshark_fields(combined, "cflow.template_id", "cflow.od_id", "cflow.source_id",
                         "cflow.timestart")
    templates = {t for r in rows for t in r[0]}
    domains = {int(d) for r in rows for d in r[1] + r[2]}
    if len(exps) != 1:
        return "%d exporters, expected 1" % len(exps)
    if exps[0]["templates"] != len(templates):
        return "%d templates held, tshark saw %s" % (exps[0]["templates"], sorted(templates))
    if exps[0]["domain"] not in domains:
        return "domain %d, the header says %s" % (exps[0]["domain"], sorted(domains))
    hdrs = [p for f in pcaps for p in udp_payloads(f)]
    if struct.unpack(">H", hdrs[-1][:2])[0] != 9:
        return ""
    uptime, secs = struct.unpack(">II", hdrs[-1][4:12])
    firsts = [f for r in rows for f in r[3]]
    if len(firsts) != len(recs):
        return "%d records, tshark decoded %d" % (len(recs), len(firsts))
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
