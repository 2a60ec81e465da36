/* capture/decode.c: every encapsulation and protocol the decoder knows, with real frames from
 * the shared capture and frames assembled here from byte vectors; every prefix of every valid
 * frame (each in an exactly sized heap copy, so ASan sees a read past the end); garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/cap.h"

#define TS 1700000000123456789ull

/* frame 1572 of mirror-attack-mix.pcap: Ether / Dot1Q 100 / IP / TCP 38.38.143.78:7294 > 192.0.2.20:80 S */
static const uint8_t f_vlan_syn[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x00, 0x64,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x03, 0x47, 0x26, 0x26,
	0x8f, 0x4e, 0xc0, 0x00, 0x02, 0x14, 0x1c, 0x7e, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0xfb, 0x8b, 0x00, 0x00,
};
/* frame 4407: Ether / IP / ICMP 12.191.73.150 > 192.0.2.30 echo-request */
static const uint8_t f_icmp[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
	0x00, 0x54, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x62, 0x35, 0x0c, 0xbf, 0x49, 0x96, 0xc0, 0x00,
	0x02, 0x1e, 0x08, 0x00, 0xab, 0xb3, 0x00, 0x00, 0x00, 0x00, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70,
	0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70,
	0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70,
	0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70,
	0x70, 0x70,
};
/* frame 8875: Ether / IPv6 / UDP 2001:db8:ff::e54a:41732 > 2001:db8:10::53:53 */
static const uint8_t f_v6_udp[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x00,
	0x00, 0x00, 0x00, 0x44, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xe5, 0x4a, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x53, 0xa3, 0x04, 0x00, 0x35, 0x00, 0x44, 0xce, 0xc2, 0x71, 0x71,
	0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71,
	0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71,
	0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71,
	0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71, 0x71,
};

/* ---- frames assembled from byte vectors ---------------------------------------------------- */

static const uint8_t MACS[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
static const uint8_t V4_SRC[4] = {198, 51, 100, 7};
static const uint8_t V4_DST[4] = {192, 0, 2, 10};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
/* TCP 40000 -> 80, SYN|ACK, data offset 5 */
static const uint8_t TCP_HDR[20] = {0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0};
/* UDP 123 -> 4444, length 8 + payload */
static const uint8_t UDP_HDR[8] = {0x00, 0x7b, 0x11, 0x5c, 0x00, 0x10, 0, 0};
static const uint8_t PAYLOAD8[8] = {1, 2, 3, 4, 5, 6, 7, 8};

struct frame {
	uint8_t b[512];
	size_t n;
	size_t ip_hdr_end; /* prefixes shorter than this must be TRUNCATED, longer ones OK */
};

static void put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof f->b);
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(f, b, 2);
}

static void eth(struct frame *f, uint16_t type)
{
	put(f, MACS, 12);
	put16(f, type);
}

static void vlan_tag(struct frame *f, uint16_t tpid, uint16_t vid, uint16_t next)
{
	/* the TPID was written as the previous EtherType; write TCI and the next type */
	(void)tpid;
	put16(f, (uint16_t)(0x2000 | vid)); /* PCP 1 must not leak into the id */
	put16(f, next);
}

static void mpls(struct frame *f, uint32_t label, int bos)
{
	uint32_t v = label << 12 | (bos ? 0x100 : 0) | 64;
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(f, b, 4);
}

/* IPv4 header with ihl words (options zero-filled), total length, fragment field */
static void ipv4(struct frame *f, uint8_t proto, unsigned ihl, uint16_t total, uint16_t frag)
{
	uint8_t h[60] = {0};
	h[0] = (uint8_t)(0x40 | ihl);
	h[1] = 0xb8; /* DSCP EF */
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, V4_SRC, 4);
	memcpy(h + 16, V4_DST, 4);
	put(f, h, ihl * 4);
	f->ip_hdr_end = f->n;
}

static void ipv6(struct frame *f, uint8_t nh, uint16_t plen)
{
	uint8_t h[40] = {0x6a, 0xb0, 0x00, 0x01}; /* traffic class 0xab */
	h[4] = (uint8_t)(plen >> 8);
	h[5] = (uint8_t)plen;
	h[6] = nh;
	h[7] = 64;
	memcpy(h + 8, V6_SRC, 16);
	memcpy(h + 24, V6_DST, 16);
	put(f, h, 40);
	f->ip_hdr_end = f->n;
}

/* hop-by-hop / routing / destination options header of (len+1)*8 bytes */
static void ext_opts(struct frame *f, uint8_t nh, uint8_t len)
{
	uint8_t h[64] = {nh, len};
	put(f, h, (size_t)(len + 1) * 8);
}

static void ext_frag(struct frame *f, uint8_t nh, uint16_t offset_units, int more)
{
	uint16_t v = (uint16_t)(offset_units << 3 | (more ? 1 : 0));
	uint8_t h[8] = {nh, 0, (uint8_t)(v >> 8), (uint8_t)v, 0xde, 0xad, 0xbe, 0xef};
	put(f, h, 8);
}

static void ext_ah(struct frame *f, uint8_t nh)
{
	/* payload length 4: (4+2)*4 = 24 bytes (12 fixed + 12 ICV) */
	uint8_t h[24] = {nh, 4};
	put(f, h, 24);
}

static struct frame v4_udp_frame(void)
{
	struct frame f = {0};
	eth(&f, 0x0800);
	ipv4(&f, 17, 5, 20 + 8 + 8, 0);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	return f;
}

static enum cap_decode_result decode(const struct frame *f, struct flow_record *r)
{
	/* an exactly sized heap copy: a read past the end is an ASan report */
	uint8_t *copy = malloc(f->n ? f->n : 1);
	memcpy(copy, f->b, f->n);
	memset(r, 0xa5, sizeof *r); /* garbage in: every field must be written */
	enum cap_decode_result res = cap_decode_ethernet(copy, f->n, TS, r);
	free(copy);
	return res;
}

static void assert_v4(const ip_addr *a, const uint8_t v4[4])
{
	ip_addr want;
	ip_from_v4(&want, v4);
	assert_memory_equal(a->b, want.b, 16);
}

static void assert_common(const struct flow_record *r)
{
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->start_ns, TS);
	assert_int_equal(r->end_ns, TS);
	assert_int_equal(r->sampling_rate, 1);
	assert_int_equal(r->source, FLOW_SRC_MIRROR);
	assert_true(ip_is_zero(&r->exporter));
	assert_int_equal(r->in_if, 0);
	assert_int_equal(r->out_if, 0);
}

/* ---- real frames ---------------------------------------------------------------------------- */

static void test_real_vlan_syn(void **state)
{
	(void)state;
	struct frame f = {0};
	put(&f, f_vlan_syn, sizeof f_vlan_syn);
	struct flow_record r;
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_common(&r);
	assert_int_equal(r.vlan, 100);
	assert_int_equal(r.ip_version, 4);
	assert_v4(&r.src, (const uint8_t[]){38, 38, 143, 78});
	assert_v4(&r.dst, (const uint8_t[]){192, 0, 2, 20});
	assert_int_equal(r.protocol, 6);
	assert_int_equal(r.src_port, 7294);
	assert_int_equal(r.dst_port, 80);
	assert_int_equal(r.tcp_flags, TCP_SYN);
	assert_int_equal(r.bytes, 40);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.tos, 0);
}

static void test_real_icmp(void **state)
{
	(void)state;
	struct frame f = {0};
	put(&f, f_icmp, sizeof f_icmp);
	struct flow_record r;
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_common(&r);
	assert_int_equal(r.vlan, 0);
	assert_int_equal(r.protocol, 1);
	assert_int_equal(r.src_port, 0);
	assert_int_equal(r.dst_port, 8 << 8 | 0); /* echo request */
	assert_int_equal(r.bytes, 84);
	assert_int_equal(r.tcp_flags, 0);
	assert_v4(&r.dst, (const uint8_t[]){192, 0, 2, 30});
}

static void test_real_ipv6_udp(void **state)
{
	(void)state;
	struct frame f = {0};
	put(&f, f_v6_udp, sizeof f_v6_udp);
	struct flow_record r;
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_common(&r);
	ip_addr want;
	assert_true(ip_parse("2001:db8:10::53", &want));
	assert_memory_equal(r.dst.b, want.b, 16);
	assert_true(ip_parse("2001:db8:ff::e54a", &want));
	assert_memory_equal(r.src.b, want.b, 16);
	assert_int_equal(r.ip_version, 6);
	assert_int_equal(r.protocol, 17);
	assert_int_equal(r.src_port, 0xa304);
	assert_int_equal(r.dst_port, 53);
	assert_int_equal(r.bytes, 40 + 68);
}

/* ---- encapsulations ------------------------------------------------------------------------- */

static void test_ipv4_udp_fields(void **state)
{
	(void)state;
	struct frame f = v4_udp_frame();
	struct flow_record r;
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_common(&r);
	assert_v4(&r.src, V4_SRC);
	assert_v4(&r.dst, V4_DST);
	assert_int_equal(r.tos, 0xb8);
	assert_int_equal(r.protocol, 17);
	assert_int_equal(r.src_port, 123);
	assert_int_equal(r.dst_port, 4444);
	assert_int_equal(r.bytes, 36);
	assert_int_equal(r.vlan, 0);
	assert_int_equal(r.ip_version, 4);
}

static void test_vlan_tags(void **state)
{
	(void)state;
	static const uint16_t outer[] = {0x8100, 0x88a8, 0x9100};
	for (size_t i = 0; i < 3; i++) {
		/* outer tag vid 200 then an 802.1Q inner tag vid 100: the outer id is kept */
		struct frame f = {0};
		eth(&f, outer[i]);
		vlan_tag(&f, outer[i], 200, 0x8100);
		vlan_tag(&f, 0x8100, 100, 0x0800);
		ipv4(&f, 6, 5, 40, 0);
		put(&f, TCP_HDR, 20);
		struct flow_record r;
		assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
		assert_int_equal(r.vlan, 200);
		assert_int_equal(r.dst_port, 80);
		assert_int_equal(r.tcp_flags, TCP_SYN | TCP_ACK);
	}
	/* five tags is a crafted frame */
	struct frame f = {0};
	eth(&f, 0x8100);
	for (int i = 0; i < 5; i++)
		vlan_tag(&f, 0x8100, 1, 0x8100);
	vlan_tag(&f, 0x8100, 1, 0x0800);
	ipv4(&f, 17, 5, 28, 0);
	put(&f, UDP_HDR, 8);
	struct flow_record r;
	assert_int_equal(decode(&f, &r), CAP_DECODE_MALFORMED);
}

static void test_mpls(void **state)
{
	(void)state;
	struct flow_record r;
	/* two labels, IPv4 under the bottom one */
	struct frame f = {0};
	eth(&f, 0x8847);
	mpls(&f, 16001, 0);
	mpls(&f, 24, 1);
	ipv4(&f, 17, 5, 36, 0);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.ip_version, 4);
	assert_int_equal(r.src_port, 123);
	assert_v4(&r.dst, V4_DST);

	/* multicast MPLS in a VLAN, IPv6 under one label */
	f = (struct frame){0};
	eth(&f, 0x8100);
	vlan_tag(&f, 0x8100, 42, 0x8848);
	mpls(&f, 100, 1);
	ipv6(&f, 17, 16);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.vlan, 42);
	assert_int_equal(r.ip_version, 6);
	assert_int_equal(r.dst_port, 4444);
	assert_int_equal(r.bytes, 56);

	/* an Ethernet pseudowire (RFC 4448): control word with a sequence number, then the
	 * customer frame, in its VLAN */
	f = (struct frame){0};
	eth(&f, 0x8847);
	mpls(&f, 300012, 0);
	mpls(&f, 17, 1);
	put(&f, (const uint8_t[]){0, 0, 0, 1}, 4);
	put(&f, MACS, 12);
	put16(&f, 0x8100);
	vlan_tag(&f, 0x8100, 77, 0x0800);
	ipv4(&f, 17, 5, 36, 0);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.ip_version, 4);
	assert_int_equal(r.vlan, 77);
	assert_int_equal(r.src_port, 123);
	assert_int_equal(r.bytes, 36);
	assert_v4(&r.dst, V4_DST);

	/* a control word with flags or a length is not an Ethernet pseudowire */
	f = (struct frame){0};
	eth(&f, 0x8847);
	mpls(&f, 100, 1);
	put(&f, (const uint8_t[]){0x08, 0, 0, 0}, 4);
	put(&f, MACS, 12);
	put16(&f, 0x0800);
	ipv4(&f, 17, 5, 28, 0);
	put(&f, UDP_HDR, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_NOT_IP);

	/* the customer frame cut inside its Ethernet header */
	f = (struct frame){0};
	eth(&f, 0x8847);
	mpls(&f, 100, 1);
	put(&f, (const uint8_t[]){0, 0, 0, 0}, 4);
	put(&f, MACS, 12);
	assert_int_equal(decode(&f, &r), CAP_DECODE_TRUNCATED);

	/* a pseudowire inside a pseudowire: refused, not recursed into */
	f = (struct frame){0};
	eth(&f, 0x8847);
	mpls(&f, 100, 1);
	put(&f, (const uint8_t[]){0, 0, 0, 0}, 4);
	put(&f, MACS, 12);
	put16(&f, 0x8847);
	mpls(&f, 101, 1);
	put(&f, (const uint8_t[]){0, 0, 0, 0}, 4);
	put(&f, MACS, 12);
	put16(&f, 0x0800);
	ipv4(&f, 17, 5, 28, 0);
	put(&f, UDP_HDR, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_NOT_IP);

	/* a stack that never ends */
	f = (struct frame){0};
	eth(&f, 0x8847);
	for (int i = 0; i < 20; i++)
		mpls(&f, 100, 0);
	ipv4(&f, 17, 5, 28, 0);
	put(&f, UDP_HDR, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_MALFORMED);
}

static void test_not_ip(void **state)
{
	(void)state;
	struct flow_record r;
	struct frame f = {0};
	eth(&f, 0x0806); /* ARP request */
	put(&f, (const uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	put(&f, MACS, 12);
	put(&f, V4_SRC, 4);
	put(&f, V4_DST, 4);
	assert_int_equal(decode(&f, &r), CAP_DECODE_NOT_IP);

	f = (struct frame){0};
	eth(&f, 38); /* 802.3 length, LLC (STP) */
	put(&f, (const uint8_t[]){0x42, 0x42, 0x03, 0, 0, 0}, 6);
	assert_int_equal(decode(&f, &r), CAP_DECODE_NOT_IP);

	f = (struct frame){0};
	eth(&f, 0x8100); /* LLDP in a VLAN */
	vlan_tag(&f, 0x8100, 7, 0x88cc);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_NOT_IP);
}

/* ---- IPv4 ------------------------------------------------------------------------------------- */

/* The type and code both reach dst_port (type << 8 | code), for ICMP and ICMPv6 alike; every TCP
 * flag bit is kept as on the wire, ECE and CWR included. */
static void test_icmp_type_code_and_tcp_flags(void **state)
{
	(void)state;
	struct flow_record r;
	struct frame f = {0};
	eth(&f, 0x0800);
	ipv4(&f, 1, 5, 48, 0);
	put(&f, (const uint8_t[]){3, 3, 0xfc, 0xfc, 0, 0, 0, 0}, 8); /* port unreachable */
	put(&f, PAYLOAD8, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 1);
	assert_int_equal(r.dst_port, 3 << 8 | 3);
	assert_int_equal(r.src_port, 0);

	f = (struct frame){0};
	eth(&f, 0x86dd);
	ipv6(&f, 58, 8);
	put(&f, (const uint8_t[]){1, 4, 0, 0, 0, 0, 0, 0}, 8); /* unreachable, port unreachable */
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 58);
	assert_int_equal(r.dst_port, 1 << 8 | 4);

	/* ICMP with only the type captured: IP-level record, no half-read code */
	f = (struct frame){0};
	eth(&f, 0x0800);
	ipv4(&f, 1, 5, 28, 0);
	put(&f, (const uint8_t[]){8}, 1);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 1);
	assert_int_equal(r.dst_port, 0);

	static const uint8_t flags[] = {TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, 0x40, 0x80,
					TCP_SYN | TCP_ACK, TCP_FIN | TCP_PSH | TCP_URG, 0xff};
	for (size_t i = 0; i < sizeof flags; i++) {
		uint8_t tcp[20];
		memcpy(tcp, TCP_HDR, 20);
		tcp[13] = flags[i];
		f = (struct frame){0};
		eth(&f, 0x0800);
		ipv4(&f, 6, 5, 40, 0);
		put(&f, tcp, 20);
		assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
		assert_int_equal(r.protocol, 6);
		assert_int_equal(r.tcp_flags, flags[i]);
		assert_int_equal(r.src_port, 40000);
		assert_int_equal(r.dst_port, 80);
	}
}

static void test_ipv4_fragments(void **state)
{
	(void)state;
	struct flow_record r;
	/* first fragment: MF, offset 0: a fragment, but the UDP header is there */
	struct frame f = {0};
	eth(&f, 0x0800);
	ipv4(&f, 17, 5, 1020, 0x2000);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.flags, FLOW_F_FRAGMENT);
	assert_int_equal(r.src_port, 123);
	assert_int_equal(r.bytes, 1020);

	/* middle fragment: MF and an offset: no transport header, whatever the bytes say */
	f = (struct frame){0};
	eth(&f, 0x0800);
	ipv4(&f, 17, 5, 36, 0x2000 | 125);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.flags, FLOW_F_FRAGMENT | FLOW_F_LATER_FRAGMENT);
	assert_int_equal(r.protocol, 17);
	assert_int_equal(r.src_port, 0);
	assert_int_equal(r.dst_port, 0);

	/* last fragment: offset, no MF */
	f = (struct frame){0};
	eth(&f, 0x0800);
	ipv4(&f, 17, 5, 36, 250);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.flags, FLOW_F_FRAGMENT | FLOW_F_LATER_FRAGMENT);
	assert_int_equal(r.src_port, 0);

	/* DF alone is not a fragment */
	f = (struct frame){0};
	eth(&f, 0x0800);
	ipv4(&f, 17, 5, 36, 0x4000);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.src_port, 123);
}

static void test_ipv4_options_and_bad_headers(void **state)
{
	(void)state;
	struct flow_record r;
	/* IHL 6: the TCP header starts after 4 bytes of options */
	struct frame f = {0};
	eth(&f, 0x0800);
	ipv4(&f, 6, 6, 44, 0);
	put(&f, TCP_HDR, 20);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.src_port, 40000);
	assert_int_equal(r.dst_port, 80);
	assert_int_equal(r.bytes, 44);

	/* IHL 4 */
	f = v4_udp_frame();
	f.b[14] = 0x44;
	assert_int_equal(decode(&f, &r), CAP_DECODE_MALFORMED);
	/* version 6 under EtherType IPv4 */
	f = v4_udp_frame();
	f.b[14] = 0x65;
	assert_int_equal(decode(&f, &r), CAP_DECODE_MALFORMED);
	/* total length below the header length */
	f = v4_udp_frame();
	f.b[16] = 0;
	f.b[17] = 19;
	assert_int_equal(decode(&f, &r), CAP_DECODE_MALFORMED);
	/* IHL 15 (60 bytes) in a frame that has 20 + 16 */
	f = v4_udp_frame();
	f.b[14] = 0x4f;
	f.b[16] = 0;
	f.b[17] = 60;
	assert_int_equal(decode(&f, &r), CAP_DECODE_TRUNCATED);
}

static void test_ipv4_length_bounds_transport(void **state)
{
	(void)state;
	struct flow_record r;
	/* total length 24 says only 4 bytes of TCP exist; the rest of the frame is Ethernet
	 * padding, which must not be read as ports and flags */
	struct frame f = {0};
	eth(&f, 0x0800);
	ipv4(&f, 6, 5, 24, 0);
	put(&f, TCP_HDR, 20);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.bytes, 24);
	assert_int_equal(r.src_port, 0);
	assert_int_equal(r.tcp_flags, 0);

	/* a short UDP packet padded to 60 bytes: ports from the header, bytes from total length */
	f = (struct frame){0};
	eth(&f, 0x0800);
	ipv4(&f, 17, 5, 28, 0);
	put(&f, UDP_HDR, 8);
	while (f.n < 60)
		put(&f, (const uint8_t[]){0xee}, 1);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.bytes, 28);
	assert_int_equal(r.src_port, 123);
}

static void test_snaplen_keeps_ip_record(void **state)
{
	(void)state;
	struct flow_record r;
	/* a 1500-byte TCP packet captured with a 44-byte snap length: 10 bytes of TCP */
	struct frame f = {0};
	eth(&f, 0x0800);
	ipv4(&f, 6, 5, 1500, 0);
	put(&f, TCP_HDR, 10);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 6);
	assert_int_equal(r.bytes, 1500);
	assert_int_equal(r.src_port, 0);
	assert_int_equal(r.dst_port, 0);
	assert_v4(&r.dst, V4_DST);
}

/* ---- IPv6 ------------------------------------------------------------------------------------- */

static void test_ipv6_ext_chain(void **state)
{
	(void)state;
	struct flow_record r;
	/* hop-by-hop, routing (24 bytes), destination options, fragment (first), AH, UDP */
	struct frame f = {0};
	eth(&f, 0x86dd);
	ipv6(&f, 0, 8 + 24 + 8 + 8 + 24 + 16);
	ext_opts(&f, 43, 0);
	ext_opts(&f, 60, 2);
	ext_opts(&f, 44, 0);
	ext_frag(&f, 51, 0, 1);
	ext_ah(&f, 17);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_common(&r);
	assert_int_equal(r.ip_version, 6);
	assert_int_equal(r.tos, 0xab);
	assert_int_equal(r.protocol, 17);
	assert_int_equal(r.src_port, 123);
	assert_int_equal(r.dst_port, 4444);
	assert_int_equal(r.flags, FLOW_F_FRAGMENT);
	assert_int_equal(r.bytes, 40 + 88);

	/* a later fragment: protocol from the fragment header, no ports */
	f = (struct frame){0};
	eth(&f, 0x86dd);
	ipv6(&f, 0, 8 + 8 + 16);
	ext_opts(&f, 44, 0);
	ext_frag(&f, 6, 181, 1);
	put(&f, TCP_HDR, 16);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.flags, FLOW_F_FRAGMENT | FLOW_F_LATER_FRAGMENT);
	assert_int_equal(r.protocol, 6);
	assert_int_equal(r.src_port, 0);
	assert_int_equal(r.tcp_flags, 0);

	/* ESP: the protocol, nothing past it */
	f = (struct frame){0};
	eth(&f, 0x86dd);
	ipv6(&f, 60, 8 + 16);
	ext_opts(&f, 50, 0);
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 50);
	assert_int_equal(r.src_port, 0);

	/* no next header */
	f = (struct frame){0};
	eth(&f, 0x86dd);
	ipv6(&f, 59, 0);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 59);
	assert_int_equal(r.bytes, 40);

	/* ICMPv6 echo request */
	f = (struct frame){0};
	eth(&f, 0x86dd);
	ipv6(&f, 58, 8);
	put(&f, (const uint8_t[]){128, 0, 0x12, 0x34, 0, 1, 0, 1}, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 58);
	assert_int_equal(r.dst_port, 128 << 8);
	assert_int_equal(r.src_port, 0);
}

static void test_ipv6_chain_bounds(void **state)
{
	(void)state;
	struct flow_record r;
	/* eight destination options headers are allowed, nine are not */
	for (int n = 8; n <= 9; n++) {
		struct frame f = {0};
		eth(&f, 0x86dd);
		ipv6(&f, 60, (uint16_t)(n * 8 + 8));
		for (int i = 0; i < n; i++)
			ext_opts(&f, i + 1 < n ? 60 : 17, 0);
		put(&f, UDP_HDR, 8);
		assert_int_equal(decode(&f, &r), n == 8 ? CAP_DECODE_OK : CAP_DECODE_MALFORMED);
		if (n == 8)
			assert_int_equal(r.dst_port, 4444);
	}
	/* an extension header longer than the payload length: the IP-level record */
	struct frame f = {0};
	eth(&f, 0x86dd);
	ipv6(&f, 0, 16);
	ext_opts(&f, 17, 3); /* claims 32 bytes */
	put(&f, UDP_HDR, 8);
	put(&f, PAYLOAD8, 8);
	put(&f, PAYLOAD8, 8);
	assert_int_equal(decode(&f, &r), CAP_DECODE_OK);
	assert_int_equal(r.protocol, 0);
	assert_int_equal(r.src_port, 0);
	assert_int_equal(r.bytes, 56);
	/* version 4 under EtherType IPv6 */
	f = (struct frame){0};
	eth(&f, 0x86dd);
	ipv6(&f, 17, 8);
	put(&f, UDP_HDR, 8);
	f.b[14] = 0x40;
	assert_int_equal(decode(&f, &r), CAP_DECODE_MALFORMED);
}

static void test_decode_ip_raw(void **state)
{
	(void)state;
	struct flow_record r;
	struct frame f = v4_udp_frame();
	assert_int_equal(cap_decode_ip(f.b + 14, f.n - 14, TS, &r), CAP_DECODE_OK);
	assert_common(&r);
	assert_int_equal(r.src_port, 123);
	assert_int_equal(r.vlan, 0);
	assert_int_equal(cap_decode_ip(f_v6_udp + 14, sizeof f_v6_udp - 14, TS, &r), CAP_DECODE_OK);
	assert_int_equal(r.dst_port, 53);
	assert_int_equal(cap_decode_ip(f.b, 0, TS, &r), CAP_DECODE_TRUNCATED);
	uint8_t bad[20] = {0x15};
	assert_int_equal(cap_decode_ip(bad, sizeof bad, TS, &r), CAP_DECODE_MALFORMED);
	assert_int_equal(cap_decode_ip(f.b + 14, 19, TS, &r), CAP_DECODE_TRUNCATED);
}

static void test_no_stale_fields(void **state)
{
	(void)state;
	struct flow_record r;
	assert_int_equal(cap_decode_ethernet(f_vlan_syn, sizeof f_vlan_syn, TS, &r), CAP_DECODE_OK);
	assert_int_equal(r.vlan, 100);
	assert_int_equal(cap_decode_ethernet(f_icmp, sizeof f_icmp, TS + 1, &r), CAP_DECODE_OK);
	assert_int_equal(r.vlan, 0);
	assert_int_equal(r.tcp_flags, 0);
	assert_int_equal(r.start_ns, TS + 1);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int i = 0; i < CAP_DECODE_RESULT_COUNT; i++)
		assert_non_null(cap_decode_strerror((enum cap_decode_result)i));
	assert_string_equal(cap_decode_strerror(CAP_DECODE_TRUNCATED), "truncated");
	assert_non_null(cap_decode_strerror(CAP_DECODE_RESULT_COUNT));
}

/* ---- every prefix of every valid frame -------------------------------------------------------- */

static size_t valid_frames(struct frame *out)
{
	size_t n = 0;
	out[n] = (struct frame){0};
	put(&out[n], f_vlan_syn, sizeof f_vlan_syn);
	out[n++].ip_hdr_end = 18 + 20;
	out[n] = (struct frame){0};
	put(&out[n], f_icmp, sizeof f_icmp);
	out[n++].ip_hdr_end = 14 + 20;
	out[n] = (struct frame){0};
	put(&out[n], f_v6_udp, sizeof f_v6_udp);
	out[n++].ip_hdr_end = 14 + 40;
	out[n++] = v4_udp_frame();

	struct frame *f = &out[n++]; /* QinQ, IPv4 options, TCP */
	*f = (struct frame){0};
	eth(f, 0x88a8);
	vlan_tag(f, 0x88a8, 300, 0x8100);
	vlan_tag(f, 0x8100, 10, 0x0800);
	ipv4(f, 6, 7, 48, 0);
	put(f, TCP_HDR, 20);

	f = &out[n++]; /* MPLS x3, IPv4 first fragment */
	*f = (struct frame){0};
	eth(f, 0x8847);
	mpls(f, 1, 0);
	mpls(f, 2, 0);
	mpls(f, 3, 1);
	ipv4(f, 17, 5, 36, 0x2000);
	put(f, UDP_HDR, 8);
	put(f, PAYLOAD8, 8);

	f = &out[n++]; /* IPv6 in MPLS, full extension chain */
	*f = (struct frame){0};
	eth(f, 0x8848);
	mpls(f, 9, 1);
	ipv6(f, 0, 8 + 24 + 8 + 24 + 20);
	ext_opts(f, 43, 0);
	ext_opts(f, 44, 2);
	ext_frag(f, 51, 0, 1);
	ext_ah(f, 6);
	put(f, TCP_HDR, 20);

	f = &out[n++]; /* IPv6 later fragment */
	*f = (struct frame){0};
	eth(f, 0x86dd);
	ipv6(f, 44, 8 + 8);
	ext_frag(f, 17, 100, 0);
	put(f, PAYLOAD8, 8);

	f = &out[n++]; /* ICMPv6 in a VLAN */
	*f = (struct frame){0};
	eth(f, 0x8100);
	vlan_tag(f, 0x8100, 5, 0x86dd);
	ipv6(f, 58, 8);
	put(f, (const uint8_t[]){1, 4, 0, 0, 0, 0, 0, 0}, 8);
	return n;
}

static void test_every_prefix(void **state)
{
	(void)state;
	struct frame frames[16];
	size_t nf = valid_frames(frames);
	for (size_t i = 0; i < nf; i++) {
		struct frame *f = &frames[i];
		struct flow_record full, r;
		assert_int_equal(decode(f, &full), CAP_DECODE_OK);
		for (size_t len = 0; len < f->n; len++) {
			struct frame p = *f;
			p.n = len;
			enum cap_decode_result res = decode(&p, &r);
			if (len < f->ip_hdr_end) {
				if (res != CAP_DECODE_TRUNCATED)
					fail_msg("frame %zu cut at %zu: %s, want truncated", i, len,
						 cap_decode_strerror(res));
				continue;
			}
			if (res != CAP_DECODE_OK)
				fail_msg("frame %zu cut at %zu: %s, want ok", i, len, cap_decode_strerror(res));
			/* what the IP header says survives any cut after it */
			assert_memory_equal(r.src.b, full.src.b, 16);
			assert_memory_equal(r.dst.b, full.dst.b, 16);
			assert_int_equal(r.bytes, full.bytes);
			assert_int_equal(r.vlan, full.vlan);
			/* IPv4 fragment bits are in the base header; an IPv6 Fragment header may be
			 * cut off, but a flag is never made up */
			assert_int_equal(r.flags & ~full.flags, 0);
			if (full.ip_version == 4)
				assert_int_equal(r.flags, full.flags);
			assert_true(r.src_port == 0 || r.src_port == full.src_port);
			assert_true(r.dst_port == 0 || r.dst_port == full.dst_port);
		}
	}
}

/* Garbage and mutated frames: no crash, no read past the end (ASan), a known result. */
static void test_garbage(void **state)
{
	(void)state;
	struct frame frames[16];
	size_t nf = valid_frames(frames);
	srandom(12345);
	for (int it = 0; it < 200000; it++) {
		struct frame f = frames[(size_t)it % nf];
		int flips = 1 + (int)(random() % 4);
		for (int k = 0; k < flips; k++)
			f.b[(size_t)random() % f.n] = (uint8_t)random();
		f.n = (size_t)random() % (f.n + 1);
		struct flow_record r;
		enum cap_decode_result res = decode(&f, &r);
		assert_true(res < CAP_DECODE_RESULT_COUNT);
		if (res == CAP_DECODE_OK)
			assert_true(r.ip_version == 4 || r.ip_version == 6);
		uint8_t *copy = malloc(f.n ? f.n : 1);
		memcpy(copy, f.b, f.n);
		res = cap_decode_ip(copy, f.n, TS, &r);
		free(copy);
		assert_true(res < CAP_DECODE_RESULT_COUNT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_vlan_syn),
		cmocka_unit_test(test_real_icmp),
		cmocka_unit_test(test_real_ipv6_udp),
		cmocka_unit_test(test_ipv4_udp_fields),
		cmocka_unit_test(test_vlan_tags),
		cmocka_unit_test(test_mpls),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_icmp_type_code_and_tcp_flags),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv4_options_and_bad_headers),
		cmocka_unit_test(test_ipv4_length_bounds_transport),
		cmocka_unit_test(test_snaplen_keeps_ip_record),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_chain_bounds),
		cmocka_unit_test(test_decode_ip_raw),
		cmocka_unit_test(test_no_stale_fields),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
