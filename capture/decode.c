/* Packet decoder: Ethernet / VLAN / MPLS / IPv4 / IPv6 / TCP / UDP / ICMP into one flow record.
 *
 * This is the per-packet hot path (budget: >= 10 Mpps on one core with counting), so each header
 * is bounds-checked once with rbuf_take() and then read through the returned pointer; nothing is
 * allocated, nothing is logged. Errors come back as a result code and a static reason string
 * that only the caller's (cold) error path looks at.
 *
 * What counts as an error: a frame whose IP header is not all there (TRUNCATED) or impossible
 * (MALFORMED). A transport or IPv6 extension header that is cut short is not: mirror ports often
 * capture with a small snap length, and a packet with a readable IP header still counts toward
 * its destination's rates, which is what detection needs. Such a record has ports zero. */
#include <stdio.h>
#include <string.h>

#include "../lib/buf.h"
#include "cap_int.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ 0x9100 /* the pre-802.1ad QinQ outer tag some switches still send */
#define ETHERTYPE_MPLS_UC 0x8847
#define ETHERTYPE_MPLS_MC 0x8848

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_DCCP 33
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132
#define PROTO_UDPLITE 136

/* Real networks use one or two VLAN tags and a handful of MPLS labels; the bounds only stop a
 * crafted frame from making the decoder walk its whole length. */
#define MAX_VLAN_TAGS 4
#define MAX_MPLS_LABELS 16
#define MAX_IPV6_EXT_HEADERS 8

static const char *const result_names[CAP_DECODE_RESULT_COUNT] = {
	[CAP_DECODE_OK] = "ok",
	[CAP_DECODE_TRUNCATED] = "truncated",
	[CAP_DECODE_MALFORMED] = "malformed",
	[CAP_DECODE_NOT_IP] = "not IP",
};

const char *cap_decode_strerror(enum cap_decode_result r)
{
	if ((unsigned)r >= CAP_DECODE_RESULT_COUNT)
		return "unknown decode result";
	return result_names[r];
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Every field is written so a record never carries a previous packet's values. */
static inline void record_init(struct flow_record *out, uint64_t ts_ns)
{
	memset(out, 0, sizeof *out);
	out->start_ns = ts_ns;
	out->end_ns = ts_ns;
	out->packets = 1;
	out->sampling_rate = 1;
	out->source = FLOW_SRC_MIRROR;
}

/* Ports and TCP flags, when the transport header is in l4 (which ends where the IP packet
 * ends). Otherwise the record stays IP-level, ports zero. */
static inline void decode_transport(struct rbuf *l4, uint8_t proto, struct flow_record *out)
{
	const uint8_t *h;
	switch (proto) {
	case PROTO_TCP:
		if ((h = rbuf_take(l4, 14)) != NULL) {
			out->src_port = be16(h);
			out->dst_port = be16(h + 2);
			out->tcp_flags = h[13];
		}
		break;
	case PROTO_UDP:
	case PROTO_SCTP:
	case PROTO_DCCP:
	case PROTO_UDPLITE:
		if ((h = rbuf_take(l4, 4)) != NULL) {
			out->src_port = be16(h);
			out->dst_port = be16(h + 2);
		}
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		/* type << 8 | code in the destination port, as NetFlow exporters encode it */
		if ((h = rbuf_take(l4, 2)) != NULL)
			out->dst_port = be16(h);
		break;
	default:
		break;
	}
}

static enum cap_decode_result decode_ipv4(struct rbuf *r, struct flow_record *out, const char **why)
{
	const uint8_t *h = rbuf_take(r, 20);
	if (!h) {
		*why = "IPv4 header cut short (fewer than 20 bytes captured)";
		return CAP_DECODE_TRUNCATED;
	}
	if (h[0] >> 4 != 4) {
		*why = "IPv4 header with a version other than 4";
		return CAP_DECODE_MALFORMED;
	}
	size_t ihl = (size_t)(h[0] & 0x0f) * 4;
	if (ihl < 20) {
		*why = "IPv4 header length (IHL) below 5 words";
		return CAP_DECODE_MALFORMED;
	}
	size_t total = be16(h + 2);
	if (total < ihl) {
		*why = "IPv4 total length shorter than its own header";
		return CAP_DECODE_MALFORMED;
	}
	if (!rbuf_skip(r, ihl - 20)) {
		*why = "IPv4 options cut short";
		return CAP_DECODE_TRUNCATED;
	}
	out->ip_version = 4;
	out->tos = h[1];
	out->protocol = h[9];
	out->bytes = total;
	ip_from_v4(&out->src, h + 12);
	ip_from_v4(&out->dst, h + 16);

	uint16_t frag = be16(h + 6);
	if (frag & 0x3fff) { /* MF or an offset: DF alone is not a fragment */
		out->flags |= FLOW_F_FRAGMENT;
		if (frag & 0x1fff) {
			out->flags |= FLOW_F_LATER_FRAGMENT;
			return CAP_DECODE_OK;
		}
	}
	/* The transport ends where the IP packet does, not at Ethernet padding. */
	size_t left = rbuf_left(r), payload = total - ihl;
	struct rbuf l4 = rbuf_init(r->p + r->off, left < payload ? left : payload);
	decode_transport(&l4, h[9], out);
	return CAP_DECODE_OK;
}

static enum cap_decode_result decode_ipv6(struct rbuf *r, struct flow_record *out, const char **why)
{
	const uint8_t *h = rbuf_take(r, 40);
	if (!h) {
		*why = "IPv6 header cut short (fewer than 40 bytes captured)";
		return CAP_DECODE_TRUNCATED;
	}
	if (h[0] >> 4 != 6) {
		*why = "IPv6 header with a version other than 6";
		return CAP_DECODE_MALFORMED;
	}
	size_t plen = be16(h + 4);
	out->ip_version = 6;
	out->tos = (uint8_t)(h[0] << 4 | h[1] >> 4);
	out->bytes = 40 + plen;
	memcpy(out->src.b, h + 8, 16);
	memcpy(out->dst.b, h + 24, 16);

	/* Payload length 0 is a jumbogram (its length is in a hop-by-hop option): read what was
	 * captured. Otherwise the payload ends at the payload length, not at Ethernet padding. */
	size_t left = rbuf_left(r);
	struct rbuf pl = rbuf_init(r->p + r->off, plen && plen < left ? plen : left);
	uint8_t nh = h[6];
	const uint8_t *e;
	for (unsigned n = 0;; n++) {
		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (n == MAX_IPV6_EXT_HEADERS)
				goto too_long;
			/* length in 8-byte units, not counting the first 8 */
			if (!(e = rbuf_take(&pl, 2)) || !rbuf_skip(&pl, (size_t)e[1] * 8 + 6))
				goto cut_short;
			nh = e[0];
			break;
		case PROTO_AH:
			if (n == MAX_IPV6_EXT_HEADERS)
				goto too_long;
			/* length in 4-byte units, not counting the first 8 */
			if (!(e = rbuf_take(&pl, 2)) || !rbuf_skip(&pl, (size_t)e[1] * 4 + 6))
				goto cut_short;
			nh = e[0];
			break;
		case PROTO_FRAGMENT:
			if (n == MAX_IPV6_EXT_HEADERS)
				goto too_long;
			if (!(e = rbuf_take(&pl, 8)))
				goto cut_short;
			out->flags |= FLOW_F_FRAGMENT;
			nh = e[0];
			if (be16(e + 2) & 0xfff8) {
				out->flags |= FLOW_F_LATER_FRAGMENT;
				out->protocol = nh;
				return CAP_DECODE_OK;
			}
			break;
		default:
			/* a transport, or ESP / no next header (their protocol, no ports) */
			out->protocol = nh;
			decode_transport(&pl, nh, out);
			return CAP_DECODE_OK;
		}
	}
too_long:
	*why = "IPv6 extension header chain longer than 8 headers";
	return CAP_DECODE_MALFORMED;
cut_short:
	/* An extension header the capture (or the payload length) cut short: the IP-level record,
	 * protocol being the header we could not get past. */
	out->protocol = nh;
	return CAP_DECODE_OK;
}

static enum cap_decode_result decode_ethertype_in(uint16_t type, struct rbuf *r,
						  struct flow_record *out, const char **why,
						  bool in_pw);

/* An Ethernet pseudowire (RFC 4448, EVPN): after the stack, a control word whose first nibble is
 * 0 (RFC 4385 section 3), then the customer's Ethernet frame. The word's flags, fragment bits and
 * length are 0 for Ethernet (RFC 4448 section 4.6); its sequence number may be anything. */
static enum cap_decode_result decode_pw_ethernet(struct rbuf *r, struct flow_record *out,
						 const char **why)
{
	const uint8_t *cw = rbuf_take(r, 4);
	if (!cw) {
		*why = "pseudowire control word cut short";
		return CAP_DECODE_TRUNCATED;
	}
	if (cw[0] != 0 || cw[1] != 0) {
		*why = "MPLS pseudowire control word with flags, fragment bits or a length";
		return CAP_DECODE_NOT_IP;
	}
	const uint8_t *eth = rbuf_take(r, ETH_HLEN);
	if (!eth) {
		*why = "pseudowire Ethernet header cut short";
		return CAP_DECODE_TRUNCATED;
	}
	return decode_ethertype_in(be16(eth + 12), r, out, why, true);
}

static enum cap_decode_result decode_mpls(struct rbuf *r, struct flow_record *out, const char **why,
					  bool in_pw)
{
	for (unsigned n = 0;; n++) {
		if (n == MAX_MPLS_LABELS) {
			*why = "MPLS label stack deeper than 16 labels";
			return CAP_DECODE_MALFORMED;
		}
		const uint8_t *l = rbuf_take(r, 4);
		if (!l) {
			*why = "MPLS label stack cut short";
			return CAP_DECODE_TRUNCATED;
		}
		if (l[2] & 0x01) /* bottom of stack */
			break;
	}
	/* MPLS does not say what it carries: guess from the IP version nibble. */
	if (rbuf_left(r) == 0) {
		*why = "nothing captured after the MPLS label stack";
		return CAP_DECODE_TRUNCATED;
	}
	switch (r->p[r->off] >> 4) {
	case 4:
		return decode_ipv4(r, out, why);
	case 6:
		return decode_ipv6(r, out, why);
	case 0:
		/* One pseudowire deep: a frame nesting them could make the decoder recurse as
		 * often as the packet is long. */
		if (in_pw) {
			*why = "pseudowire inside a pseudowire";
			return CAP_DECODE_NOT_IP;
		}
		return decode_pw_ethernet(r, out, why);
	default:
		*why = "MPLS payload is neither IPv4, IPv6 nor a pseudowire control word";
		return CAP_DECODE_NOT_IP;
	}
}

static enum cap_decode_result decode_ethertype_in(uint16_t type, struct rbuf *r,
						  struct flow_record *out, const char **why,
						  bool in_pw)
{
	for (unsigned tags = 0;
	     type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ; tags++) {
		if (tags == MAX_VLAN_TAGS) {
			*why = "more than 4 VLAN tags";
			return CAP_DECODE_MALFORMED;
		}
		const uint8_t *t = rbuf_take(r, 4);
		if (!t) {
			*why = "VLAN tag cut short";
			return CAP_DECODE_TRUNCATED;
		}
		if (tags == 0)
			out->vlan = be16(t) & 0x0fff;
		type = be16(t + 2);
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(r, out, why);
	case ETHERTYPE_IPV6:
		return decode_ipv6(r, out, why);
	case ETHERTYPE_MPLS_UC:
	case ETHERTYPE_MPLS_MC:
		return decode_mpls(r, out, why, in_pw);
	default:
		*why = "EtherType is not IPv4, IPv6, VLAN or MPLS";
		return CAP_DECODE_NOT_IP;
	}
}

static inline enum cap_decode_result decode_ethertype(uint16_t type, struct rbuf *r,
						      struct flow_record *out, const char **why)
{
	return decode_ethertype_in(type, r, out, why, false);
}

enum cap_decode_result cap_decode_ethertype_why(uint16_t ethertype, const uint8_t *p, size_t len,
						uint64_t ts_ns, struct flow_record *out,
						const char **why)
{
	struct rbuf r = rbuf_init(p, len);
	record_init(out, ts_ns);
	return decode_ethertype(ethertype, &r, out, why);
}

enum cap_decode_result cap_decode_ethernet_why(const uint8_t *frame, size_t caplen, uint64_t ts_ns,
					       struct flow_record *out, const char **why)
{
	struct rbuf r = rbuf_init(frame, caplen);
	const uint8_t *eth = rbuf_take(&r, ETH_HLEN);
	if (!eth) {
		*why = "Ethernet header cut short";
		return CAP_DECODE_TRUNCATED;
	}
	record_init(out, ts_ns);
	return decode_ethertype(be16(eth + 12), &r, out, why);
}

enum cap_decode_result cap_decode_ip_why(const uint8_t *pkt, size_t caplen, uint64_t ts_ns,
					 struct flow_record *out, const char **why)
{
	if (caplen == 0) {
		*why = "empty packet";
		return CAP_DECODE_TRUNCATED;
	}
	struct rbuf r = rbuf_init(pkt, caplen);
	record_init(out, ts_ns);
	switch (pkt[0] >> 4) {
	case 4:
		return decode_ipv4(&r, out, why);
	case 6:
		return decode_ipv6(&r, out, why);
	default:
		*why = "IP version is neither 4 nor 6";
		return CAP_DECODE_MALFORMED;
	}
}

enum cap_decode_result cap_decode_ethernet(const uint8_t *frame, size_t caplen, uint64_t ts_ns,
					   struct flow_record *out)
{
	const char *why;
	return cap_decode_ethernet_why(frame, caplen, ts_ns, out, &why);
}

enum cap_decode_result cap_decode_ip(const uint8_t *pkt, size_t caplen, uint64_t ts_ns,
				     struct flow_record *out)
{
	const char *why;
	return cap_decode_ip_why(pkt, caplen, ts_ns, out, &why);
}

struct cap_hex cap_hex_head(const uint8_t *data, size_t caplen)
{
	struct cap_hex h = {""};
	size_t n = caplen < CAP_HEX_HEAD ? caplen : CAP_HEX_HEAD, off = 0;
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(h.s + off, sizeof h.s - off, "%s%02x", i ? " " : "", data[i]);
	return h;
}
