#!/usr/bin/env bash
# Cross-checks the flow decoders against tshark on the shared captures: every flow record
# tshark finds must come out of our decoder with the same fields, and nothing else.
#   tests/integration/flows_vs_tshark.sh [DATA_DIR]
# Builds build/librampart.a and build/flowdump (tests/integration/flowdump.c), decodes each
# capture with both, compares the sorted record lines and the record counts per protocol.
set -u
cd "$(dirname "$0")/../.."
data=${1:-../shared/data/flows}
# From a worktree, ../shared is relative to the main checkout.
[ -d "$data" ] || data="$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/data/flows"
BUILD=${BUILD:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make -s BUILD="$BUILD" "$BUILD/librampart.a" >/dev/null || { echo "build failed"; exit 1; }
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. ${EXTRA_CFLAGS:-} $(pkg-config --cflags libpcap) \
	-o "$BUILD/flowdump" tests/integration/flowdump.c "$BUILD/librampart.a" \
	$(pkg-config --libs libpcap) -lm ${EXTRA_LDFLAGS:-} || { echo "flowdump build failed"; exit 1; }

# tshark's JSON (duplicate keys kept) -> the same line format as flowdump.
cat >"$work/oracle.py" <<'PY'
import json, sys, calendar, datetime

def pairs(p):
    return p

def walk(node, fn):
    if isinstance(node, list):
        fn(node)
        for k, v in node:
            walk(v, fn)

def get(node, key, default=None):
    for k, v in node:
        if k == key:
            return v
    return default

def find(node, key):
    """first value of key anywhere below node (depth first)"""
    if isinstance(node, list):
        for k, v in node:
            if k == key:
                return v
            r = find(v, key)
            if r is not None:
                return r
    return None

def ns_dec(s):
    """'1795411845.126061000' -> ns"""
    whole, _, frac = s.partition('.')
    return int(whole) * 10**9 + int((frac + '000000000')[:9])

def ns_abs(s):
    """'Nov 23, 2026 05:30:42.261000000 UTC' -> ns"""
    date, _, frac = s.replace(' UTC', '').partition('.')
    t = datetime.datetime.strptime(date, '%b %d, %Y %H:%M:%S')
    return calendar.timegm(t.timetuple()) * 10**9 + int((frac + '000000000')[:9])

def ms_dec(s):
    return ns_dec(s) // 10**6

out = []
def line(src, dst, sp, dp, proto, pk, by, tos, fl, i, o, rate, vlan, st, en):
    out.append('%s %s %d %d %d %d %d %d %d %d %d %d %d %d %d' %
               (src, dst, sp, dp, proto, pk, by, tos, fl, i, o, rate, vlan, st, en))

def cflow_pdu(node):
    c = get(node, 'cflow')
    if c is None:
        return
    ver = int(get(c, 'cflow.version'))
    if ver == 5:
        ts = get(c, 'cflow.timestamp_tree')
        now = int(get(ts, 'cflow.unix_secs')) * 10**9 + int(get(ts, 'cflow.unix_nsecs'))
        up = ms_dec(get(c, 'cflow.sysuptime'))
        rate = int(get(c, 'cflow.samplerate', '0')) or 1
    recs = []
    def collect(node):
        for k, v in node:
            if isinstance(v, list) and (k.startswith('pdu ') or k.startswith('Flow ')) \
                    and get(v, 'cflow.protocol') is not None:
                recs.append(v)
    walk(c, collect)
    for rec in recs:
        src = get(rec, 'cflow.srcaddr') or get(rec, 'cflow.srcaddrv6')
        dst = get(rec, 'cflow.dstaddr') or get(rec, 'cflow.dstaddrv6')
        td = get(rec, 'cflow.timedelta_tree')
        if ver == 5:
            st = now - (up - ms_dec(get(td, 'cflow.timestart'))) * 10**6
            en = now - (up - ms_dec(get(td, 'cflow.timeend'))) * 10**6
            r = rate
        else:
            st = ns_abs(get(td, 'cflow.abstimestart'))
            en = ns_abs(get(td, 'cflow.abstimeend'))
            r = 1
        line(src, dst, int(get(rec, 'cflow.srcport')), int(get(rec, 'cflow.dstport')),
             int(get(rec, 'cflow.protocol')), int(get(rec, 'cflow.packets')),
             int(get(rec, 'cflow.octets')), int(get(rec, 'cflow.tos'), 16),
             int(get(rec, 'cflow.tcpflags'), 16), int(get(rec, 'cflow.inputint')),
             int(get(rec, 'cflow.outputint')), r, 0, st, en)

def sflow_pdu(node, recv):
    s = get(node, 'sflow')
    if s is None:
        return
    for k, smp in s:
        if not (isinstance(smp, list) and k.startswith('Flow sample')):
            continue
        rate = int(get(smp, 'sflow.flow_sample.sampling_rate'))
        i = int(get(smp, 'sflow.flow_sample.input_interface'))
        o = int(find(smp, 'sflow.flow_sample.output_interface_value'))
        # 0x3FFFFFFF is the agent itself, not an interface (sflow_version_5.txt): interface 0
        i, o = (0 if x == 0x3fffffff else x for x in (i, o))
        vin = int(find(smp, 'sflow_245.vlan.in') or 0)
        hdr = find(smp, 'sflow_245.header_tree')
        ip4, ip6 = get(hdr, 'ip'), get(hdr, 'ipv6')
        vl = get(hdr, 'vlan')
        vlan = vin or (int(get(vl, 'vlan.id')) if vl else 0)
        if ip4:
            src, dst = get(ip4, 'ip.src'), get(ip4, 'ip.dst')
            proto, by = int(get(ip4, 'ip.proto')), int(get(ip4, 'ip.len'))
            tos = int(get(ip4, 'ip.dsfield'), 16)
        elif ip6:
            src, dst = get(ip6, 'ipv6.src'), get(ip6, 'ipv6.dst')
            proto, by = int(get(ip6, 'ipv6.nxt')), int(get(ip6, 'ipv6.plen')) + 40
            tos = int(get(ip6, 'ipv6.tclass'), 16)
        else:
            continue
        sp = dp = fl = 0
        t, u = get(hdr, 'tcp'), get(hdr, 'udp')
        ic = get(hdr, 'icmp') or get(hdr, 'icmpv6')
        if t:
            sp, dp = int(get(t, 'tcp.srcport')), int(get(t, 'tcp.dstport'))
            fl = int(get(t, 'tcp.flags'), 16) & 0xff
        elif u:
            sp, dp = int(get(u, 'udp.srcport')), int(get(u, 'udp.dstport'))
        elif ic:
            pre = 'icmp.' if get(hdr, 'icmp') else 'icmpv6.'
            dp = int(get(ic, pre + 'type')) << 8 | int(get(ic, pre + 'code'))
        line(src, dst, sp, dp, proto, 1, by, tos, fl, i, o, rate, vlan, recv, recv)

kind = sys.argv[1]
pkts = json.load(sys.stdin, object_pairs_hook=pairs)
for p in pkts:
    layers = get(get(p, '_source'), 'layers')
    if kind == 'sflow':
        recv = ns_dec(get(get(layers, 'frame'), 'frame.time_epoch'))
        sflow_pdu(layers, recv)
    else:
        cflow_pdu(layers)
print('\n'.join(out))
PY

pass=0; fail=0
check() { # name proto-arg file tshark-decode-as
	local name=$1 proto=$2 file=$3
	shift 3
	if [ ! -r "$file" ]; then echo "FAIL $name: $file missing"; fail=$((fail + 1)); return; fi
	"$BUILD/flowdump" "$proto" "$file" >"$work/$name.ours" 2>"$work/$name.stats" ||
		{ echo "FAIL $name: flowdump exited $?"; fail=$((fail + 1)); return; }
	tshark -r "$file" "$@" -o ip.defragment:FALSE -T json 2>/dev/null |
		python3 "$work/oracle.py" "$proto" >"$work/$name.tshark" ||
		{ echo "FAIL $name: tshark/oracle failed"; fail=$((fail + 1)); return; }
	sed -i '/^$/d' "$work/$name.tshark"
	# our line has vlan printed by flowdump after rate; cflow oracle prints vlan 0
	sort "$work/$name.ours" >"$work/$name.a"; sort "$work/$name.tshark" >"$work/$name.b"
	local n_ours n_tshark
	n_ours=$(wc -l <"$work/$name.a"); n_tshark=$(wc -l <"$work/$name.b")
	if [ "$n_tshark" -eq 0 ]; then echo "FAIL $name: tshark found no records"; fail=$((fail + 1)); return; fi
	local per_proto
	per_proto=$(awk '{c[$5]++} END {for (p in c) printf "proto%s=%d ", p, c[p]}' "$work/$name.a")
	if cmp -s "$work/$name.a" "$work/$name.b"; then
		echo "ok   $name: $n_ours records identical to tshark ($per_proto)"
		pass=$((pass + 1))
	else
		echo "FAIL $name: ours $n_ours records, tshark $n_tshark; first differences:"
		diff "$work/$name.a" "$work/$name.b" | head -10
		fail=$((fail + 1))
	fi
	sed 's/^/     /' "$work/$name.stats"
}

check netflow5 netflow "$data/netflow5.pcap" -d udp.port==2055,cflow
check netflow9 netflow "$data/netflow9.pcap" -d udp.port==2055,cflow
check ipfix ipfix "$data/ipfix.pcap" -d udp.port==4739,cflow
check sflow sflow "$data/sflow.pcap" -d udp.port==6343,sflow

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
