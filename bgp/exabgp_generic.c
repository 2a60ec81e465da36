/* ExaBGP's generic path attribute, `attribute [ 0xCODE 0xFLAGS 0xVALUE ]` (its configuration/
 * static/parser.py `attribute`, bgp/message/update/attribute/generic.py GenericAttribute, which
 * sends code, flags and value as given).
 *
 * A code the speaker writes from a word of its own is taken as that word (attribute [0x04 0x80
 * 0x00000064] is med 100), once the flags' Optional and Transitive bits and the length agree with
 * the attribute's definition, as a receiver checks them (RFC 7606 3(c), 7): sent twice it would
 * make the UPDATE malformed (RFC 7606 3(g)), and a wrong category or length makes the route a
 * treat-as-withdraw at the peer. A code the speaker derives from the session (AS_PATH, NEXT_HOP,
 * AGGREGATOR, AS4_*, MP_*) is refused. Any other code is kept as given, flags included, and sent
 * to every peer; of those, the ones the speaker's own decoder knows (IPV6_EXTENDED_COMMUNITIES)
 * are checked the same way first. A code nobody here knows goes unchecked: with the Optional bit
 * clear it is an unrecognised well-known attribute to the receiver (RFC 4271 6.3; FRR treats
 * the route as withdrawn), which is what ExaBGP's QA sends (docs/EXABGP.md). */
#include <stdio.h>
#include <string.h>

#include "exabgp_int.h"
#include "msg.h"

static int bad(char *why, size_t n, int which, const char *text)
{
	snprintf(why, n, "%s", text);
	return which;
}

/* "0x" and an even number of hex digits (none: an empty value) into out; the octet count, or -1. */
static long hex_bytes(const char *s, uint8_t *out, size_t max)
{
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	size_t n = strlen(s);
	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return (long)(n / 2);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The codes the speaker derives from the session or the NLRI: AS_PATH (our AS first to eBGP,
 * AS4_PATH beside it to a 2-octet peer), NEXT_HOP per session, AGGREGATOR in the session's AS
 * size, MP_REACH / MP_UNREACH around the NLRI. 0 is reserved (RFC 4271 4.3). */
static const char *refused(unsigned code)
{
	switch (code) {
	case 0: return "attribute type 0 is reserved";
	case BGP_ATTR_AS_PATH: return "AS_PATH is written by Rampart for each session (use as-path)";
	case BGP_ATTR_NEXT_HOP: return "NEXT_HOP is written by Rampart for each session (use next-hop)";
	case BGP_ATTR_AGGREGATOR: return "AGGREGATOR is written by Rampart in the session's AS size (use aggregator)";
	case BGP_ATTR_MP_REACH: return "MP_REACH_NLRI is written by Rampart around the NLRI";
	case BGP_ATTR_MP_UNREACH: return "MP_UNREACH_NLRI is written by Rampart around withdrawn NLRI";
	case BGP_ATTR_AS4_PATH: return "AS4_PATH is written by Rampart for a 2-octet peer (use as-path)";
	case BGP_ATTR_AS4_AGGREGATOR: return "AS4_AGGREGATOR is written by Rampart for a 2-octet peer (use aggregator)";
	default: return NULL;
	}
}

static const struct {
	uint8_t code, category; /* category: the Optional and Transitive bits the definition has */
	uint8_t item;           /* the length, or for a list the size of each item */
	bool list;
	bool raw;               /* no word of the speaker's: checked, then kept as given */
} words[] = {
	{BGP_ATTR_ORIGIN, 0x40, 1, false, false},           {BGP_ATTR_MED, 0x80, 4, false, false},
	{BGP_ATTR_LOCAL_PREF, 0x40, 4, false, false},       {BGP_ATTR_ATOMIC_AGGREGATE, 0x40, 0, false, false},
	{BGP_ATTR_COMMUNITIES, 0xc0, 4, true, false},       {BGP_ATTR_ORIGINATOR_ID, 0x80, 4, false, false},
	{BGP_ATTR_CLUSTER_LIST, 0x80, 4, true, false},      {BGP_ATTR_EXT_COMMUNITIES, 0xc0, 8, true, false},
	{BGP_ATTR_LARGE_COMMUNITIES, 0xc0, 12, true, false},
	{BGP_ATTR_IPV6_EXT_COMMUNITIES, 0xc0, 20, true, true}, /* RFC 5701; unicast routes have no word for it */
};

/* A code with a word: into the fields that word fills, with the word's limits and sets. */
static int as_word(uint8_t code, const uint8_t *v, size_t n, struct bgp_exa_attrs *a, char *why, size_t wl)
{
	struct bgp_route_attrs *r = &a->attrs;
	switch (code) {
	case BGP_ATTR_ORIGIN:
		if (v[0] > BGP_EXA_ORIGIN_INCOMPLETE)
			return bad(why, wl, 3, "ORIGIN is 0 (igp), 1 (egp) or 2 (incomplete)");
		a->origin = v[0], a->has_origin = true;
		return 0;
	case BGP_ATTR_MED:
		r->med = get_u32(v), r->has_med = true;
		return 0;
	case BGP_ATTR_LOCAL_PREF:
		r->local_pref = get_u32(v), a->has_local_pref = true;
		return 0;
	case BGP_ATTR_ATOMIC_AGGREGATE:
		a->atomic_aggregate = true;
		return 0;
	case BGP_ATTR_ORIGINATOR_ID:
		r->originator_id = get_u32(v), r->has_originator_id = true;
		return 0;
	}
	for (size_t o = 0; o < n;) {
		if (code == BGP_ATTR_COMMUNITIES) {
			uint32_t c = get_u32(v + o);
			size_t i = 0;
			while (i < r->n_communities && r->communities[i] != c)
				i++;
			if (i == r->n_communities) { /* a set, as the community word keeps it */
				if (r->n_communities == BGP_MAX_COMMUNITIES)
					return bad(why, wl, 3, "more communities than the speaker carries");
				r->communities[r->n_communities++] = c;
			}
			o += 4;
		} else if (code == BGP_ATTR_CLUSTER_LIST) {
			if (r->n_cluster_list == BGP_MAX_CLUSTER_LIST)
				return bad(why, wl, 3, "cluster-list longer than the speaker carries");
			r->cluster_list[r->n_cluster_list++] = get_u32(v + o);
			o += 4;
		} else if (code == BGP_ATTR_EXT_COMMUNITIES) {
			if (a->n_extended == BGP_EXA_MAX_LIST)
				return bad(why, wl, 3, "too many extended communities");
			a->extended[a->n_extended++] = (uint64_t)get_u32(v + o) << 32 | get_u32(v + o + 4);
			o += 8;
		} else {
			struct bgp_exa_large_community l = {get_u32(v + o), get_u32(v + o + 4), get_u32(v + o + 8)};
			size_t i = 0;
			while (i < a->n_large && memcmp(&a->large[i], &l, sizeof l))
				i++;
			if (i == a->n_large) { /* RFC 8092 3: a repeat is not sent */
				if (a->n_large == BGP_EXA_MAX_LIST)
					return bad(why, wl, 3, "too many large communities");
				a->large[a->n_large++] = l;
			}
			o += 12;
		}
	}
	return 0;
}

int bgp_exa_generic(uint8_t code, uint8_t flags, const char *value, struct bgp_exa_attrs *a, char *why,
		    size_t why_len)
{
	uint8_t v[BGP_MAX_RAW_ATTRS];
	long got = hex_bytes(value, v, sizeof v);
	if (got < 0) {
		snprintf(why, why_len, "attribute value is 0x and an even number of hex digits, at most %d octets",
			 BGP_MAX_RAW_ATTRS);
		return 3;
	}
	size_t n = (size_t)got;
	if (flags & 0x0f)
		return bad(why, why_len, 2, "the low 4 flag bits are unused and must be 0 (RFC 4271 4.3)");
	const char *no = refused(code);
	if (no)
		return bad(why, why_len, 1, no);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (words[i].code != code)
			continue;
		if ((flags & 0xc0) != words[i].category) {
			snprintf(why, why_len, "flags 0x%02x do not match attribute %u (Optional/Transitive 0x%02x, RFC 7606 3(c))",
				 flags, code, words[i].category);
			return 2;
		}
		if (words[i].list ? (n == 0 || n % words[i].item) : n != words[i].item) {
			snprintf(why, why_len, "attribute %u is %s%u octets", code,
				 words[i].list ? "a non-empty multiple of " : "", words[i].item);
			return 3;
		}
		if (!words[i].raw)
			return as_word(code, v, n, a, why, why_len);
		break;
	}
	/* any other code: as on the wire, in type order among the others */
	struct bgp_route_attrs *r = &a->attrs;
	size_t hl = (flags & 0x10) ? 4 : 3;
	if (hl == 3 && n > 255)
		return bad(why, why_len, 3, "a value over 255 octets needs the extended length flag 0x10");
	size_t at = 0;
	while (at + 3 <= r->n_raw_attrs) {
		const uint8_t *p = r->raw_attrs + at;
		if (p[1] == code) {
			snprintf(why, why_len, "attribute 0x%02x given twice", code);
			return 1;
		}
		if (p[1] > code)
			break;
		at += (p[0] & 0x10) ? 4 + ((size_t)p[2] << 8 | p[3]) : 3 + (size_t)p[2];
	}
	if (r->n_raw_attrs + hl + n > BGP_MAX_RAW_ATTRS) {
		snprintf(why, why_len, "generic attributes over %d octets in all (headers included)", BGP_MAX_RAW_ATTRS);
		return 3;
	}
	memmove(r->raw_attrs + at + hl + n, r->raw_attrs + at, r->n_raw_attrs - at);
	uint8_t *p = r->raw_attrs + at;
	p[0] = flags;
	p[1] = code;
	if (hl == 4)
		p[2] = (uint8_t)(n >> 8), p[3] = (uint8_t)n;
	else
		p[2] = (uint8_t)n;
	memcpy(p + hl, v, n);
	r->n_raw_attrs += hl + n;
	return 0;
}
