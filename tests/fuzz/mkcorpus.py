# tests/fuzz/mkcorpus.py CAPTURE OUTDIR PROTO N  (needs python3-scapy)
# Extracts UDP payloads from a capture into a seed corpus directory: the datagrams holding
# templates (v9 flowset 0/1, IPFIX set 2/3) first, then a few data-only ones.
import sys, os, struct
from scapy.all import rdpcap, UDP
src, out, proto, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(out, exist_ok=True)
pl = [bytes(p[UDP].payload) for p in rdpcap(src) if UDP in p]
def has_template(d):
    off = 20 if proto == 'netflow9' else 16
    while off + 4 <= len(d):
        sid, slen = struct.unpack('>HH', d[off:off+4])
        if (proto == 'netflow9' and sid in (0, 1)) or (proto == 'ipfix' and sid in (2, 3)):
            return True
        if slen < 4: break
        off += slen
    return False
pick = []
if proto in ('netflow9', 'ipfix'):
    pick += [d for d in pl if has_template(d)][:n]
step = max(1, len(pl) // n)
pick += pl[::step][:n]
seen = set()
for i, d in enumerate(pick):
    if d in seen: continue
    seen.add(d)
    open(os.path.join(out, 'seed-%02d' % i), 'wb').write(d)
print(out, len(seen), 'seeds', sum(map(len, seen)), 'bytes')
