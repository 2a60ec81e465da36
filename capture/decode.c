/* TEMPORARY stand-in for the packet decoder, only on the `flows` branch: enough of
 * cap_decode_ethernet / cap_decode_ip (Ethernet, 802.1Q/QinQ, IPv4, IPv6 with the common
 * extension headers, TCP, UDP, ICMP, ICMPv6) for the sFlow decoder and its tests to link.
 * The real capture/decode.c replaces this file when the branches merge. */
#include <string.h>

#include "../lib/buf.h"
#include "cap.h"

static const char *names[CAP_DECODE_RESULT_COUNT] = {
	[CAP_DECODE_OK] = "ok",
	[CAP_DECODE_TRUNCATED] = "truncated",
	[CAP_DECODE_MALFORMED] = "malformed",
	[CAP_DECODE_NOT_IP] = "not IP",
};

const char *cap_decode_strerror(enum cap_decode_result r)
{
	return (unsigned)r < CAP_DECODE_RESULT_COUNT ? names[r] : "unknown";
}

static enum cap_decode_result transport(struct rbuf *r, struct flow_record *out)
{
	if (out->flags & FLOW_F_LATER_FRAGMENT)
		return CAP_DECODE_OK;
	switch (out->protocol) {
	case 6:
		out->src_port = rbuf_u16(r);
		out->dst_port = rbuf_u16(r);
		rbuf_skip(r, 9);
		out->tcp_flags = rbuf_u8(r);
		break;
	case 17:
		out->src_port = rbuf_u16(r);
		out->dst_port = rbuf_u16(r);
		break;
	case 1:
	case 58: {
		uint8_t type = rbuf_u8(r);
		out->dst_port = (uint16_t)(type << 8 | rbuf_u8(r));
		break;
	}
	default:
		break;
	}
	return r->err ? CAP_DECODE_TRUNCATED : CAP_DECODE_OK;
}

static enum cap_decode_result ipv4(struct rbuf *r, struct flow_record *out)
{
	uint8_t vihl = rbuf_u8(r);
	out->tos = rbuf_u8(r);
	out->bytes = rbuf_u16(r);
	rbuf_skip(r, 2);
	uint16_t frag = rbuf_u16(r);
	rbuf_skip(r, 1);
	out->protocol = rbuf_u8(r);
	rbuf_skip(r, 2);
	const uint8_t *src = rbuf_take(r, 4);
	const uint8_t *dst = rbuf_take(r, 4);
	if (r->err)
		return CAP_DECODE_TRUNCATED;
	if (vihl >> 4 != 4 || (vihl & 15) < 5)
		return CAP_DECODE_MALFORMED;
	if (!rbuf_skip(r, ((size_t)(vihl & 15) - 5) * 4))
		return CAP_DECODE_TRUNCATED;
	ip_from_v4(&out->src, src);
	ip_from_v4(&out->dst, dst);
	out->ip_version = 4;
	if (frag & 0x3fff)
		out->flags |= FLOW_F_FRAGMENT;
	if (frag & 0x1fff)
		out->flags |= FLOW_F_LATER_FRAGMENT;
	return transport(r, out);
}

static enum cap_decode_result ipv6(struct rbuf *r, struct flow_record *out)
{
	uint32_t w = rbuf_u32(r);
	out->bytes = (uint64_t)rbuf_u16(r) + 40;
	uint8_t nh = rbuf_u8(r);
	rbuf_skip(r, 1);
	const uint8_t *src = rbuf_take(r, 16);
	const uint8_t *dst = rbuf_take(r, 16);
	if (r->err)
		return CAP_DECODE_TRUNCATED;
	if (w >> 28 != 6)
		return CAP_DECODE_MALFORMED;
	out->tos = (uint8_t)(w >> 20);
	ip_from_v6(&out->src, src);
	ip_from_v6(&out->dst, dst);
	out->ip_version = 6;
	for (int i = 0; i < 8; i++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			nh = rbuf_u8(r);
			uint8_t len = rbuf_u8(r);
			rbuf_skip(r, (size_t)len * 8 + 6);
		} else if (nh == 44) {
			nh = rbuf_u8(r);
			rbuf_skip(r, 1);
			uint16_t off = rbuf_u16(r);
			rbuf_skip(r, 4);
			out->flags |= FLOW_F_FRAGMENT;
			if (off & 0xfff8)
				out->flags |= FLOW_F_LATER_FRAGMENT;
		} else {
			break;
		}
		if (r->err)
			return CAP_DECODE_TRUNCATED;
	}
	out->protocol = nh;
	return transport(r, out);
}

static void init(struct flow_record *out, uint64_t ts_ns)
{
	memset(out, 0, sizeof *out);
	out->start_ns = out->end_ns = ts_ns;
	out->packets = 1;
	out->sampling_rate = 1;
	out->source = FLOW_SRC_MIRROR;
}

static enum cap_decode_result ip_any(struct rbuf *r, struct flow_record *out)
{
	if (!rbuf_need(r, 1))
		return CAP_DECODE_TRUNCATED;
	uint8_t v = r->p[r->off] >> 4;
	if (v == 4)
		return ipv4(r, out);
	if (v == 6)
		return ipv6(r, out);
	return CAP_DECODE_MALFORMED;
}

enum cap_decode_result cap_decode_ethernet(const uint8_t *frame, size_t caplen, uint64_t ts_ns,
					   struct flow_record *out)
{
	init(out, ts_ns);
	struct rbuf r = rbuf_init(frame, caplen);
	rbuf_skip(&r, 12);
	uint16_t type = rbuf_u16(&r);
	while (!r.err && (type == 0x8100 || type == 0x88a8 || type == 0x9100)) {
		uint16_t tci = rbuf_u16(&r);
		if (!out->vlan)
			out->vlan = tci & 0xfff;
		type = rbuf_u16(&r);
	}
	if (r.err)
		return CAP_DECODE_TRUNCATED;
	if (type == 0x0800 || type == 0x86dd)
		return ip_any(&r, out);
	return CAP_DECODE_NOT_IP;
}

enum cap_decode_result cap_decode_ip(const uint8_t *pkt, size_t caplen, uint64_t ts_ns,
				     struct flow_record *out)
{
	init(out, ts_ns);
	struct rbuf r = rbuf_init(pkt, caplen);
	return ip_any(&r, out);
}
