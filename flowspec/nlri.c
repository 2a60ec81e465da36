/* The FlowSpec NLRI on the wire (RFC 8955 section 4, RFC 8956 section 3).
 *
 *   length (1 octet, or 2 when >= 240: 0xfnnn) | component... in strictly increasing type order
 *   prefix component:  type | length | [IPv6: offset] | prefix (or pattern) bits, zero padded
 *   operator component: type | (op | value 1/2/4/8 octets)... the last op has end-of-list set
 *
 * Decode refuses what cannot be read (a truncated component, an unknown or repeated type, a value
 * wider than its component) and ignores, as the RFCs ask, bits that carry no meaning: prefix bits
 * after the prefix length (RFC 4271 4.3, RFC 8955 4.2.2.1), reserved operator bits (RFC 8955
 * 4.2.1: "MUST be ignored on receipt"), the first operator's AND bit (4.2.1.1), and bitmask bits
 * outside the field's defined set (fragment bits 4-7 and the IPv6 DF position, RFC 8955 4.2.2.12 /
 * RFC 8956 3.6; TCP flag bits in the data offset position, "don't care" per RFC 8955 4.2.2.9).
 * Those bits are cleared, so the decoded rule is the one that matches, encodes canonically and
 * compares equal to the repaired rule. Refusing them instead would reset the whole session
 * (a FlowSpec NLRI cannot be treated as withdrawn, RFC 7606 5.4) over bits nothing reads.
 * docs/FLOWS.md lists each case. The error names the component and the byte. */
#include <string.h>

#include "flowspec/fs_int.h"

#define OP_END 0x80
#define OP_LEN_MASK 0x30

static unsigned prefix_base(enum fs_afi afi)
{
	return afi == FS_AFI_IPV4 ? 96 : 0; /* IPv4 bits live in the last 32 of the mapped address */
}

/* ---- encode ---- */

static void put_prefix(struct wbuf *w, enum fs_afi afi, int type, const struct fs_prefix *fp)
{
	unsigned base = prefix_base(afi), len = fp->p.len, off = fp->offset;
	uint8_t pat[16] = {0};
	for (unsigned i = off; i < len; i++)
		if (fp->p.addr.b[(base + i) / 8] >> (7 - (base + i) % 8) & 1)
			pat[(i - off) / 8] |= (uint8_t)(0x80 >> ((i - off) % 8));
	wbuf_u8(w, (uint8_t)type);
	wbuf_u8(w, (uint8_t)len);
	if (afi == FS_AFI_IPV6)
		wbuf_u8(w, (uint8_t)off);
	wbuf_bytes(w, pat, (len - off + 7) / 8);
}

/* Smallest of 1, 2, 4 octets the value fits: strict peers refuse wider ones. */
static unsigned width_code(uint32_t v)
{
	return v <= 0xff ? 0 : v <= 0xffff ? 1 : 2;
}

static void put_list(struct wbuf *w, int type, const struct fs_list *l)
{
	wbuf_u8(w, (uint8_t)type);
	for (unsigned i = 0; i < l->n; i++) {
		unsigned wc = width_code(l->t[i].value);
		uint8_t op = (uint8_t)(l->t[i].op | wc << 4 | (i + 1 == l->n ? OP_END : 0));
		wbuf_u8(w, op);
		if (wc == 0)
			wbuf_u8(w, (uint8_t)l->t[i].value);
		else if (wc == 1)
			wbuf_u16(w, (uint16_t)l->t[i].value);
		else
			wbuf_u32(w, l->t[i].value);
	}
}

bool fs_nlri_encode(const struct fs_rule *r, struct wbuf *w, struct fs_err *err)
{
	if (!fs_rule_check(r, err))
		return false;
	enum fs_afi afi = (enum fs_afi)r->afi;
	uint8_t tmp[FS_NLRI_MAX + 1];
	struct wbuf body = wbuf_init(tmp, sizeof tmp);
	if (fs_rule_has(r, FS_DST))
		put_prefix(&body, afi, FS_DST, &r->dst);
	if (fs_rule_has(r, FS_SRC))
		put_prefix(&body, afi, FS_SRC, &r->src);
	for (int t = FS_PROTO; t <= FS_TYPE_MAX; t++)
		if (fs_rule_has(r, t))
			put_list(&body, t, &r->c[t]);
	if (body.err || body.len > FS_NLRI_MAX) {
		fs_errf(err, "rule longer than %d octets", FS_NLRI_MAX);
		return false;
	}
	if (body.len < 240)
		wbuf_u8(w, (uint8_t)body.len);
	else
		wbuf_u16(w, (uint16_t)(0xf000 | body.len));
	wbuf_bytes(w, tmp, body.len);
	if (w->err) {
		fs_errf(err, "no room for a %zu-octet NLRI", body.len + (body.len < 240 ? 1 : 2));
		return false;
	}
	return true;
}

/* ---- decode ---- */

static bool get_prefix(struct rbuf *r, enum fs_afi afi, int type, struct fs_prefix *fp,
		       struct fs_err *err)
{
	size_t at = r->off - 1;
	unsigned max = afi == FS_AFI_IPV4 ? 32 : 128, base = prefix_base(afi);
	unsigned len = rbuf_u8(r), off = afi == FS_AFI_IPV6 ? rbuf_u8(r) : 0;
	if (r->err) {
		fs_errf(err, "%s at octet %zu: truncated", fs_type_name(type), at);
		return false;
	}
	if (len > max || off > len) {
		fs_errf(err, "%s at octet %zu: length %u offset %u invalid (max /%u)", fs_type_name(type),
			at, len, off, max);
		return false;
	}
	size_t nbytes = (len - off + 7) / 8, left = rbuf_left(r);
	const uint8_t *pat = rbuf_take(r, nbytes);
	if (!pat) {
		fs_errf(err, "%s at octet %zu: /%u needs %zu octets, %zu left", fs_type_name(type), at,
			len, nbytes, left);
		return false;
	}
	memset(fp, 0, sizeof *fp);
	if (afi == FS_AFI_IPV4)
		fp->p.addr.b[10] = fp->p.addr.b[11] = 0xff;
	fp->p.len = (uint8_t)len;
	fp->offset = (uint8_t)off;
	/* bits after the length are padding, irrelevant (RFC 4271 4.3): not copied */
	for (unsigned i = 0; i < len - off; i++) {
		if (!(pat[i / 8] >> (7 - i % 8) & 1))
			continue;
		unsigned b = base + off + i;
		fp->p.addr.b[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	}
	return true;
}

static bool get_list(struct rbuf *r, enum fs_afi afi, int type, struct fs_list *l,
		     struct fs_err *err)
{
	bool bm = fs_type_is_bitmask(type);
	const char *name = fs_type_name(type);
	uint32_t max = fs_type_max(afi, type);
	l->n = 0;
	for (;;) {
		size_t at = r->off;
		uint8_t op = rbuf_u8(r);
		if (r->err) {
			fs_errf(err, "%s: operator list not ended (no end-of-list bit)", name);
			return false;
		}
		unsigned width = 1u << ((op & OP_LEN_MASK) >> 4);
		if (width > fs_type_width(type)) {
			fs_errf(err, "%s at octet %zu: %u-octet value, the component allows %u", name, at,
				width, fs_type_width(type));
			return false;
		}
		uint64_t v = rbuf_uint(r, width);
		if (r->err) {
			fs_errf(err, "%s at octet %zu: truncated %u-octet value", name, at, width);
			return false;
		}
		if (bm)
			v &= max; /* undefined bitmask bits: ignored, see the top of the file */
		else if (v > max) {
			fs_errf(err, "%s at octet %zu: value %llu out of range (max %u)", name, at,
				(unsigned long long)v, max);
			return false;
		}
		if (l->n == FS_MAX_TERMS) {
			fs_errf(err, "%s: more than %d terms", name, FS_MAX_TERMS);
			return false;
		}
		/* RFC 8955 4.2.1.1: the first AND bit MUST be treated as unset; reserved bits are
		 * dropped here too, since keep names only the defined ones. */
		uint8_t keep = (uint8_t)((l->n ? FS_OP_AND : 0) | (bm ? 0x03 : 0x07));
		l->t[l->n++] = (struct fs_term){.op = op & keep, .value = (uint32_t)v};
		if (op & OP_END)
			return true;
	}
}

bool fs_nlri_decode(struct rbuf *r, enum fs_afi afi, struct fs_rule *out, struct fs_err *err)
{
	if (afi != FS_AFI_IPV4 && afi != FS_AFI_IPV6) {
		fs_errf(err, "afi %d is not IPv4 or IPv6", afi);
		return false;
	}
	size_t left = rbuf_left(r);
	unsigned len = rbuf_u8(r);
	if (len >= 0xf0)
		len = (len & 0x0f) << 8 | rbuf_u8(r);
	if (r->err) {
		fs_errf(err, "NLRI length truncated (%zu octets)", left);
		return false;
	}
	struct rbuf b = rbuf_sub(r, len);
	if (b.err) {
		fs_errf(err, "NLRI length %u exceeds the %zu octets left", len, rbuf_left(r));
		r->err = true;
		return false;
	}
	if (len == 0) {
		fs_errf(err, "empty NLRI (no component)");
		return false;
	}
	fs_rule_init(out, afi);
	int last = 0;
	while (rbuf_left(&b)) {
		size_t at = b.off;
		int type = rbuf_u8(&b);
		if (!fs_type_valid(afi, type)) {
			fs_errf(err, "unknown component type %d at octet %zu for %s", type, at,
				afi == FS_AFI_IPV4 ? "IPv4" : "IPv6");
			return false;
		}
		if (type <= last) {
			fs_errf(err, "component %s (type %d) at octet %zu after type %d: types must "
				"strictly increase", fs_type_name(type), type, at, last);
			return false;
		}
		last = type;
		bool ok = type == FS_DST   ? get_prefix(&b, afi, type, &out->dst, err)
			  : type == FS_SRC ? get_prefix(&b, afi, type, &out->src, err)
					   : get_list(&b, afi, type, &out->c[type], err);
		if (!ok)
			return false;
		out->present |= (uint16_t)(1u << type);
	}
	return true;
}
