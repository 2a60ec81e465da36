#!/usr/bin/python3
# Writes the seed corpus of fuzz_decode (run from the repo root; needs python3-scapy and
# /work/shared/data). First byte of each seed: 0 Ethernet, 1 raw IP, 2 EtherType + payload.
import os, struct
from scapy.all import rdpcap, PcapReader, Ether, Dot1Q, Dot1AD, IP, IPv6, TCP, UDP, ICMP, Raw, raw
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, ICMPv6EchoRequest
from scapy.layers.ipsec import AH
from scapy.contrib.mpls import MPLS
out = 'tests/fuzz/corpus/decode'
for f in os.listdir(out): os.unlink(os.path.join(out, f))
def w(name, mode, b):
    open(os.path.join(out, name), 'wb').write(bytes([mode]) + bytes(b))
# real frames: the first of each kind in the shared capture
want = {}
for i, p in enumerate(PcapReader('/work/shared/data/mirror-attack-mix.pcap')):
    b = raw(p)
    if Dot1Q in p: k = 'vlan_syn'
    elif IPv6 in p: k = 'v6_udp53'
    elif IP in p and p[IP].flags.MF: k = 'v4_frag'
    elif ICMP in p: k = 'icmp_echo'
    elif UDP in p and p[UDP].sport == 123: k = 'ntp'
    elif UDP in p: k = 'udp53'
    elif TCP in p: k = 'tcp443'
    else: k = 'other'
    if k not in want: want[k] = b[:200]
    if len(want) >= 7: break
for k, b in want.items(): w('real_' + k, 0, b)
E = Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
v4 = IP(src='198.51.100.7', dst='192.0.2.10')
v6 = IPv6(src='2001:db8:ff::1', dst='2001:db8:10::53')
w('qinq_88a8', 0, raw(E/Dot1AD(vlan=300)/Dot1Q(vlan=100)/v4/TCP(sport=40000, dport=80, flags='SA')))
w('qinq_9100', 0, raw(E/Dot1Q(vlan=300, type=0x8100)/Dot1Q(vlan=7)/v4/UDP(sport=53, dport=5353)/b'xxxx')[:12] + b'\x91\x00' + raw(E/Dot1Q(vlan=300, type=0x8100)/Dot1Q(vlan=7)/v4/UDP(sport=53, dport=5353)/b'xxxx')[14:])
w('mpls3_v4', 0, raw(E/MPLS(label=100, s=0)/MPLS(label=200, s=0)/MPLS(label=300, s=1)/v4/UDP(sport=1, dport=2)))
w('mpls_v6', 0, raw(E/MPLS(label=16, s=1)/v6/TCP(sport=443, dport=5555, flags='FA')))
w('v4_options', 0, raw(E/IP(src='198.51.100.7', dst='192.0.2.10', options=b'\x94\x04\x00\x00\x01\x01\x01\x00')/UDP(sport=9, dport=10)))
w('v4_later_frag', 0, raw(E/IP(src='198.51.100.7', dst='192.0.2.40', proto=17, frag=185)/Raw(b'\xaa' * 32)))
w('v6_ext_chain', 0, raw(E/v6/IPv6ExtHdrHopByHop()/IPv6ExtHdrRouting(addresses=['2001:db8::1'])/IPv6ExtHdrDestOpt()/IPv6ExtHdrFragment(offset=0, m=1)/AH(spi=1, icv=b'\x00'*12)/UDP(sport=5, dport=53)))
w('v6_later_frag', 0, raw(E/v6/IPv6ExtHdrFragment(offset=100, nh=17)/Raw(b'\xbb' * 16)))
w('icmpv6_echo', 0, raw(E/v6/ICMPv6EchoRequest()))
w('icmp_unreach', 0, raw(E/v4/ICMP(type=3, code=3)/Raw(b'\x00' * 28)))
w('tcp_all_flags', 0, raw(E/v4/TCP(sport=1, dport=2, flags='FSRPAUEC')))
# hostile
w('trunc_eth', 0, raw(E/v4/UDP())[:13])
w('trunc_vlan', 0, raw(E/Dot1Q(vlan=5)/v4)[:16])
w('trunc_ext', 0, raw(E/v6/IPv6ExtHdrHopByHop(len=200)/UDP()))
w('ihl3', 0, bytearray(raw(E/v4/UDP()))[:14] + b'\x43' + raw(E/v4/UDP())[15:])
w('totlen_huge', 0, raw(E/IP(src='1.2.3.4', dst='5.6.7.8', len=65535)/TCP()))
w('vlan_x6', 0, raw(E/Dot1Q()/Dot1Q()/Dot1Q()/Dot1Q()/Dot1Q()/Dot1Q()/v4))
w('mpls_deep', 0, raw(E/(MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=0)/MPLS(s=1))/v4))
w('v6_dstopts_x9', 0, raw(E/v6/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/UDP()))
w('arp', 0, bytes.fromhex('ffffffffffff020000000001080600010800060400010200000000010a000001000000000000c0000201'))
# raw IP (mode 1) and EtherType + payload (mode 2)
w('raw_v4_udp', 1, raw(v4/UDP(sport=123, dport=4444)/b'12345678'))
w('raw_v6_tcp', 1, raw(v6/TCP(sport=1234, dport=80, flags='S')))
w('raw_bad_version', 1, b'\x55' + bytes(39))
w('et_v4', 2, b'\x08\x00' + raw(v4/UDP(sport=7, dport=8)))
w('et_vlan_v6', 2, b'\x81\x00' + raw(Dot1Q(vlan=9)/v6/UDP()))
print(len(os.listdir(out)))
