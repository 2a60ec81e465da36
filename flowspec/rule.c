/* The FlowSpec rule model: construction, comparison and the checks every encoder relies on. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flowspec/fs_int.h"

static const struct {
	const char *name;
	uint8_t width;  /* widest value on the wire, octets (BIRD refuses wider) */
	uint32_t max;
} types[FS_TYPE_MAX + 1] = {
	[FS_DST] = {"destination", 0, 0},
	[FS_SRC] = {"source", 0, 0},
	[FS_PROTO] = {"protocol", 1, 0xff},
	[FS_PORT] = {"port", 2, 0xffff},
	[FS_DPORT] = {"destination-port", 2, 0xffff},
	[FS_SPORT] = {"source-port", 2, 0xffff},
	[FS_ICMP_TYPE] = {"icmp-type", 1, 0xff},
	[FS_ICMP_CODE] = {"icmp-code", 1, 0xff},
	[FS_TCP_FLAGS] = {"tcp-flags", 2, 0x0fff}, /* the 12 bits after the data offset */
	[FS_PKT_LEN] = {"packet-length", 2, 0xffff},
	[FS_DSCP] = {"dscp", 1, 0x3f},
	[FS_FRAGMENT] = {"fragment", 1, 0x0f},
	[FS_FLOW_LABEL] = {"flow-label", 4, 0xfffff},
};

void fs_errf(struct fs_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

bool fs_type_valid(enum fs_afi afi, int type)
{
	return type >= FS_DST && type <= (afi == FS_AFI_IPV6 ? FS_FLOW_LABEL : FS_FRAGMENT);
}

const char *fs_type_name(int type)
{
	return type >= FS_DST && type <= FS_TYPE_MAX ? types[type].name : "unknown";
}

uint32_t fs_type_max(enum fs_afi afi, int type)
{
	/* RFC 8956: IPv6 has no DF bit; its place in the fragment bitmask is reserved. */
	if (type == FS_FRAGMENT && afi == FS_AFI_IPV6)
		return FS_FRAG_ISF | FS_FRAG_FF | FS_FRAG_LF;
	return type >= FS_DST && type <= FS_TYPE_MAX ? types[type].max : 0;
}

unsigned fs_type_width(int type)
{
	return type >= FS_DST && type <= FS_TYPE_MAX ? types[type].width : 0;
}

bool fs_type_is_bitmask(enum fs_type t)
{
	return t == FS_TCP_FLAGS || t == FS_FRAGMENT;
}

void fs_rule_init(struct fs_rule *r, enum fs_afi afi)
{
	memset(r, 0, sizeof *r);
	r->afi = (uint8_t)afi;
	if (afi == FS_AFI_IPV4) {
		/* ::ffff:0.0.0.0/0, so an absent prefix is still of the rule's family */
		static const uint8_t zero[4];
		ip_from_v4(&r->dst.p.addr, zero);
		ip_from_v4(&r->src.p.addr, zero);
	}
}

bool fs_rule_has(const struct fs_rule *r, enum fs_type t)
{
	return t >= FS_DST && t <= FS_TYPE_MAX && (r->present & (1u << t));
}

bool fs_rule_add(struct fs_rule *r, enum fs_type t, uint8_t op, uint32_t value)
{
	if (t < FS_PROTO || t > FS_TYPE_MAX)
		return false;
	struct fs_list *l = &r->c[t];
	if (!fs_rule_has(r, t))
		l->n = 0;
	if (l->n >= FS_MAX_TERMS)
		return false;
	/* The first term's AND bit means nothing (RFC 8955 4.2.1.1); keep it clear so rules compare. */
	if (l->n == 0)
		op &= (uint8_t)~FS_OP_AND;
	l->t[l->n++] = (struct fs_term){.op = op, .value = value};
	r->present |= (uint16_t)(1u << t);
	return true;
}

static bool prefix_equal(const struct fs_prefix *a, const struct fs_prefix *b)
{
	return a->offset == b->offset && ip_prefix_equal(&a->p, &b->p);
}

bool fs_rule_equal(const struct fs_rule *a, const struct fs_rule *b)
{
	if (a->afi != b->afi || a->present != b->present)
		return false;
	if (fs_rule_has(a, FS_DST) && !prefix_equal(&a->dst, &b->dst))
		return false;
	if (fs_rule_has(a, FS_SRC) && !prefix_equal(&a->src, &b->src))
		return false;
	for (int t = FS_PROTO; t <= FS_TYPE_MAX; t++) {
		if (!fs_rule_has(a, t))
			continue;
		const struct fs_list *x = &a->c[t], *y = &b->c[t];
		if (x->n != y->n)
			return false;
		for (unsigned i = 0; i < x->n; i++)
			if (x->t[i].op != y->t[i].op || x->t[i].value != y->t[i].value)
				return false;
	}
	return true;
}

static bool addr_bit(const ip_addr *a, unsigned i)
{
	return a->b[i / 8] >> (7 - i % 8) & 1;
}

static bool check_prefix(const struct fs_rule *r, int type, const struct fs_prefix *fp,
			 struct fs_err *err)
{
	const ip_addr *a = &fp->p.addr;
	bool v4 = r->afi == FS_AFI_IPV4;
	char buf[IP_PREFIX_STRLEN];
	if (ip_is_v4(a) != v4) {
		fs_errf(err, "%s %s is not an %s prefix", fs_type_name(type),
			ip_prefix_format(&fp->p, buf), v4 ? "IPv4" : "IPv6");
		return false;
	}
	unsigned max = v4 ? 32 : 128, base = v4 ? 96 : 0;
	if (fp->p.len > max || fp->offset > fp->p.len || (v4 && fp->offset)) {
		fs_errf(err, "%s: length %u offset %u invalid for %s", fs_type_name(type), fp->p.len,
			fp->offset, v4 ? "IPv4" : "IPv6");
		return false;
	}
	/* Bits outside [offset, len) are not sent, so they must be zero for decode to give them back. */
	for (unsigned i = 0; i < max; i++) {
		if ((i < fp->offset || i >= fp->p.len) && addr_bit(a, base + i)) {
			fs_errf(err, "%s %s: bit %u set outside offset %u..length %u",
				fs_type_name(type), ip_prefix_format(&fp->p, buf), i, fp->offset,
				fp->p.len);
			return false;
		}
	}
	return true;
}

bool fs_rule_check(const struct fs_rule *r, struct fs_err *err)
{
	if (r->afi != FS_AFI_IPV4 && r->afi != FS_AFI_IPV6) {
		fs_errf(err, "rule has no address family (afi %u)", r->afi);
		return false;
	}
	if (!r->present) {
		fs_errf(err, "rule has no component");
		return false;
	}
	for (int t = 0; t < 16; t++) {
		if ((r->present & (1u << t)) && !fs_type_valid((enum fs_afi)r->afi, t)) {
			fs_errf(err, "component type %d is not defined for %s", t,
				r->afi == FS_AFI_IPV4 ? "IPv4" : "IPv6");
			return false;
		}
	}
	if (fs_rule_has(r, FS_DST) && !check_prefix(r, FS_DST, &r->dst, err))
		return false;
	if (fs_rule_has(r, FS_SRC) && !check_prefix(r, FS_SRC, &r->src, err))
		return false;
	for (int t = FS_PROTO; t <= FS_TYPE_MAX; t++) {
		if (!fs_rule_has(r, t))
			continue;
		const struct fs_list *l = &r->c[t];
		bool bm = fs_type_is_bitmask(t);
		uint32_t max = fs_type_max((enum fs_afi)r->afi, t);
		if (l->n == 0 || l->n > FS_MAX_TERMS) {
			fs_errf(err, "%s: %u terms (1..%d)", fs_type_name(t), l->n, FS_MAX_TERMS);
			return false;
		}
		for (unsigned i = 0; i < l->n; i++) {
			uint8_t op = l->t[i].op;
			uint8_t allowed = FS_OP_AND | (bm ? FS_OP_NOT | FS_OP_MATCH : 0x07);
			if ((op & ~allowed) || (i == 0 && (op & FS_OP_AND))) {
				fs_errf(err, "%s: term %u: operator bits 0x%02x invalid", fs_type_name(t),
					i + 1, op);
				return false;
			}
			/* "true" and "false" ignore the value; strict routers refuse them. */
			if (!bm && ((op & 7) == 0 || (op & 7) == 7)) {
				fs_errf(err, "%s: term %u: operator is always %s", fs_type_name(t), i + 1,
					(op & 7) ? "true" : "false");
				return false;
			}
			uint32_t v = l->t[i].value;
			if (bm ? (v & ~max) != 0 : v > max) {
				fs_errf(err, "%s: term %u: value %u out of range (max %u)", fs_type_name(t),
					i + 1, l->t[i].value, max);
				return false;
			}
		}
	}
	return true;
}
