/* ExaBGP API text → struct bgp_exa_cmd. The grammar is at the top of exabgp.h; it follows
 * ExaBGP 4.2's reactor/api parser (exabgp/reactor/api/command/ and configuration/static/): a line
 * is words, '[' ']' group a list (glued to a word or not), ',' separates neighbor selectors.
 *
 * The line is split once into tokens, each remembering its column, so an error can say
 * "column 31: 'next-hopp': unknown attribute" and a flow route can hand the original text to
 * fs_text_parse. Nothing is allocated: the token store is sized for the longest line. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exabgp.h"
#include "exabgp_int.h"

#define MAX_TOKENS (BGP_EXA_LINE_MAX + 1)

struct tok {
	const char *s; /* NUL-terminated copy */
	unsigned col;  /* 1-based column in the line */
};

struct lexer {
	const char *line;
	char store[2 * BGP_EXA_LINE_MAX + 2]; /* every character plus a NUL per token at worst */
	struct tok t[MAX_TOKENS];
	size_t n, i;
	struct bgp_exa_err *err;
};

static bool fail(struct lexer *lx, const struct tok *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct lexer *lx, const struct tok *at, const char *fmt, ...)
{
	if (!lx->err)
		return false;
	char why[120];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (at)
		snprintf(lx->err->msg, sizeof lx->err->msg, "column %u: '%.40s': %.120s", at->col, at->s, why);
	else
		snprintf(lx->err->msg, sizeof lx->err->msg, "at the end of the line: %.120s", why);
	return false;
}

static bool is_sep(char c)
{
	return c == '[' || c == ']' || c == ',' || c == ';';
}

static bool lex(struct lexer *lx)
{
	size_t o = 0;
	const char *s = lx->line;
	for (size_t p = 0; s[p];) {
		char c = s[p];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p++;
			continue;
		}
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
			snprintf(lx->err->msg, sizeof lx->err->msg, "column %zu: byte 0x%02x is not printable ASCII",
				 p + 1, (unsigned char)c);
			return false;
		}
		struct tok *t = &lx->t[lx->n++];
		t->s = &lx->store[o];
		t->col = (unsigned)(p + 1);
		if (is_sep(c)) {
			lx->store[o++] = c;
			p++;
		} else {
			while (s[p] && !is_sep(s[p]) && s[p] != ' ' && s[p] != '\t' && s[p] != '\r' && s[p] != '\n')
				lx->store[o++] = s[p++];
		}
		lx->store[o++] = 0;
	}
	/* ExaBGP's configuration syntax ends statements with ';'; a trailing one on an API line is
	 * harmless, and so are ';' between attributes. Flow routes see the raw text, not these. */
	return true;
}

static const struct tok *peek(struct lexer *lx)
{
	while (lx->i < lx->n && !strcmp(lx->t[lx->i].s, ";"))
		lx->i++;
	return lx->i < lx->n ? &lx->t[lx->i] : NULL;
}

static const struct tok *next(struct lexer *lx)
{
	const struct tok *t = peek(lx);
	if (t)
		lx->i++;
	return t;
}

static bool is(const struct tok *t, const char *word)
{
	return t && !strcmp(t->s, word);
}

/* Unsigned decimal or 0x hex that fits max; no sign, no trailing bytes. */
static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_v4(const char *s, uint32_t *out);

/* "A:B[:C]" split into at most n unsigned parts; each part checked against max[i]. */
static bool parse_colon(const char *s, size_t n, const uint64_t *max, uint64_t *out)
{
	char buf[64];
	if (strlen(s) >= sizeof buf)
		return false;
	strcpy(buf, s);
	char *p = buf;
	size_t k = 0;
	for (char *part = strsep(&p, ":"); part; part = strsep(&p, ":")) {
		if (k == n || !parse_num(part, max[k], &out[k]))
			return false;
		k++;
	}
	return k == n;
}

/* A list value: one bare token, or '[' tokens ']'. Calls one() for each; returns false on the
 * first failure (one() has set the error). */
typedef bool (*item_fn)(struct lexer *lx, const struct tok *t, struct bgp_exa_attrs *a);

static bool list(struct lexer *lx, const struct tok *key, struct bgp_exa_attrs *a, item_fn one)
{
	const struct tok *t = next(lx);
	if (!t)
		return fail(lx, key, "expected a value after it");
	if (!is(t, "["))
		return is(t, "]") || is(t, ",") ? fail(lx, t, "expected a value for '%s'", key->s) : one(lx, t, a);
	size_t got = 0;
	for (;;) {
		t = next(lx);
		if (!t)
			return fail(lx, key, "list not closed with ']'");
		if (is(t, "]"))
			return got ? true : fail(lx, t, "empty list for '%s'", key->s);
		if (is(t, ",") )
			continue;
		if (is(t, "["))
			return fail(lx, t, "nested list");
		if (!one(lx, t, a))
			return false;
		got++;
	}
}

static const struct {
	const char *name;
	uint32_t v;
} community_names[] = {
	{"no-export", 0xFFFFFF01u}, {"no-advertise", 0xFFFFFF02u}, {"no-export-subconfed", 0xFFFFFF03u},
	{"nopeer", 0xFFFFFF04u}, {"blackhole", BGP_COMMUNITY_BLACKHOLE}, {"graceful-shutdown", 0xFFFF0000u},
	{"accept-own", 0xFFFF0001u}, {NULL, 0},
};

static bool one_community(struct lexer *lx, const struct tok *t, struct bgp_exa_attrs *a)
{
	uint32_t v = 0;
	uint64_t parts[2], w;
	static const uint64_t max[2] = {0xFFFF, 0xFFFF};
	bool ok = false;
	for (size_t i = 0; community_names[i].name && !ok; i++)
		if (!strcmp(t->s, community_names[i].name))
			v = community_names[i].v, ok = true;
	if (!ok && strchr(t->s, ':')) {
		if (!parse_colon(t->s, 2, max, parts))
			return fail(lx, t, "community must be ASN:VALUE, each 0..65535");
		v = (uint32_t)(parts[0] << 16 | parts[1]);
		ok = true;
	}
	if (!ok && parse_num(t->s, UINT32_MAX, &w))
		v = (uint32_t)w, ok = true;
	if (!ok)
		return fail(lx, t, "not a community (ASN:VALUE, a number, or no-export, no-advertise, "
				   "no-export-subconfed, nopeer, blackhole)");
	struct bgp_route_attrs *r = &a->attrs;
	for (size_t i = 0; i < r->n_communities; i++)
		if (r->communities[i] == v)
			return true; /* a set: a repeat says nothing new */
	if (r->n_communities == BGP_MAX_COMMUNITIES)
		return fail(lx, t, "more than %d communities", BGP_MAX_COMMUNITIES);
	r->communities[r->n_communities++] = v;
	return true;
}

static bool one_large(struct lexer *lx, const struct tok *t, struct bgp_exa_attrs *a)
{
	uint64_t p[3];
	static const uint64_t max[3] = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
	if (!parse_colon(t->s, 3, max, p))
		return fail(lx, t, "large community must be GLOBAL:LOCAL1:LOCAL2, each 0..4294967295");
	for (size_t i = 0; i < a->n_large; i++)
		if (a->large[i].global == p[0] && a->large[i].local1 == p[1] && a->large[i].local2 == p[2])
			return true; /* RFC 8092 3: duplicates SHOULD NOT be sent; a set, as communities */
	if (a->n_large == BGP_EXA_MAX_LIST)
		return fail(lx, t, "more than %d large communities", BGP_EXA_MAX_LIST);
	a->large[a->n_large++] = (struct bgp_exa_large_community){(uint32_t)p[0], (uint32_t)p[1], (uint32_t)p[2]};
	return true;
}

/* The local part of an AS-specific extended community: a number up to max, or, for the 4-octet
 * local part of a 2-octet-AS community, a dotted quad (ExaBGP's origin:9000:9.9.9.9). */
static bool parse_local(const char *s, uint64_t max, uint64_t *out)
{
	uint32_t v4;
	if (max == UINT32_MAX && parse_v4(s, &v4)) {
		*out = v4;
		return true;
	}
	return parse_num(s, max, out);
}

/* target:/origin:/redirect: (RFC 4360 route target and origin, RFC 5575 redirect), target4:/
 * origin4: (the same, always the 4-octet-AS form of RFC 5668), l2info:ENCAPS:CONTROL:MTU:RESERVED
 * (RFC 4761 3.2.4 Layer2 Info), rate-limit: (RFC 5575 traffic-rate), or the raw 8 octets as 0x
 * and 16 hex digits. A bare A:B is a route target, as in ExaBGP. */
static bool one_extended(struct lexer *lx, const struct tok *t, struct bgp_exa_attrs *a)
{
	uint64_t v = 0;
	const char *colon = strchr(t->s, ':');
	if (!strncmp(t->s, "0x", 2) && strlen(t->s) == 18) {
		if (!parse_num(t->s, UINT64_MAX, &v))
			return fail(lx, t, "not 16 hex digits");
	} else if (colon) {
		size_t kl = (size_t)(colon - t->s);
		const char *rest = colon + 1;
		if (!strchr(rest, ':') && strncmp(t->s, "rate-limit:", 11)) { /* "A:B" is a route target, as in ExaBGP */
			kl = 6;
			rest = t->s;
			colon = "target";
		}
		uint64_t p[4];
		ip_addr ip;
		if (kl == 6 && !strncmp(t->s, "l2info", kl)) {
			static const uint64_t max[4] = {0xFF, 0xFF, 0xFFFF, 0xFFFF};
			if (!parse_colon(rest, 4, max, p))
				return fail(lx, t, "l2info is l2info:ENCAPS:CONTROL:MTU:RESERVED (0..255, 0..255, "
						   "0..65535, 0..65535)");
			v = 0x800Aull << 48 | p[0] << 40 | p[1] << 32 | p[2] << 16 | p[3];
		} else if (kl == 10 && !strncmp(t->s, "rate-limit", kl)) {
			char *end;
			errno = 0;
			float rate = strtof(rest, &end);
			if (errno || end == rest || *end || !(rate >= 0) || isinf(rate))
				return fail(lx, t, "rate-limit needs a rate in bytes/s");
			uint32_t bits;
			memcpy(&bits, &rate, 4);
			v = 0x8006ull << 48 | bits;
		} else {
			uint64_t sub;
			bool as4 = kl == 7 && (!strncmp(t->s, "target4", kl) || !strncmp(t->s, "origin4", kl));
			if (kl == 6 && (colon[0] == 't' || !strncmp(t->s, "target", kl)))
				sub = 0x02;
			else if (kl == 6 && !strncmp(t->s, "origin", kl))
				sub = 0x03;
			else if (as4)
				sub = t->s[0] == 't' ? 0x02 : 0x03;
			else if (kl == 8 && !strncmp(t->s, "redirect", kl))
				sub = 0x08; /* type 0x80 below */
			else
				return fail(lx, t, "unknown extended community kind (target:, origin:, target4:, "
						   "origin4:, redirect:, l2info:, rate-limit: or 0x + 16 hex digits)");
			const char *c2 = strrchr(rest, ':');
			char head[48];
			if (!c2 || (size_t)(c2 - rest) >= sizeof head)
				return fail(lx, t, "expected KIND:ASN:N or KIND:IP:N");
			memcpy(head, rest, (size_t)(c2 - rest));
			head[c2 - rest] = 0;
			uint64_t type_hi = sub == 0x08 ? 0x80 : 0x00;
			if (as4) {
				if (!parse_num(head, UINT32_MAX, &p[0]) || !parse_num(c2 + 1, 0xFFFF, &p[1]))
					return fail(lx, t, "%.7s is ASN:N, ASN 0..4294967295, N 0..65535", t->s);
				v = 0x02ull << 56 | sub << 48 | p[0] << 16 | p[1];
			} else if (ip_parse(head, &ip) && ip_is_v4(&ip)) {
				if (!parse_num(c2 + 1, 0xFFFF, &p[1]))
					return fail(lx, t, "local part after an IPv4 address is 0..65535");
				v = (type_hi | 0x01) << 56 | sub << 48 | (uint64_t)ip_v4_u32(&ip) << 16 | p[1];
			} else if (parse_num(head, UINT32_MAX, &p[0])) {
				if (p[0] <= 0xFFFF) {
					if (!parse_local(c2 + 1, UINT32_MAX, &p[1]))
						return fail(lx, t, "local part after a 2-byte ASN is 0..4294967295 "
								   "or an IPv4 address");
					v = type_hi << 56 | sub << 48 | p[0] << 32 | p[1];
				} else {
					if (!parse_num(c2 + 1, 0xFFFF, &p[1]))
						return fail(lx, t, "local part after a 4-byte ASN is 0..65535");
					v = (type_hi | 0x02) << 56 | sub << 48 | p[0] << 16 | p[1];
				}
			} else {
				return fail(lx, t, "expected an ASN or IPv4 address before the last ':'");
			}
		}
	} else {
		return fail(lx, t, "not an extended community (target:A:B, origin:A:B, redirect:A:B, "
				   "rate-limit:N, 0x + 16 hex digits)");
	}
	if (a->n_extended == BGP_EXA_MAX_LIST)
		return fail(lx, t, "more than %d extended communities", BGP_EXA_MAX_LIST);
	a->extended[a->n_extended++] = v;
	return true;
}

static bool one_asn(struct lexer *lx, const struct tok *t, struct bgp_exa_attrs *a)
{
	uint64_t v;
	if (is(t, "(") || t->s[0] == '(')
		return fail(lx, t, "AS_SET in as-path is not supported (deprecated by RFC 6472)");
	if (!parse_num(t->s, UINT32_MAX, &v))
		return fail(lx, t, "not an AS number (0..4294967295)");
	/* RFC 7607: AS 0 must not be originated, and every peer (and our own decoder) treats an
	 * AS_PATH holding it as withdraw: the route would never be installed. */
	if (v == 0)
		return fail(lx, t, "AS 0 is not allowed in an as-path (RFC 7607)");
	if (a->n_as_path == BGP_EXA_MAX_LIST)
		return fail(lx, t, "as-path longer than %d", BGP_EXA_MAX_LIST);
	a->as_path[a->n_as_path++] = (uint32_t)v;
	return true;
}

/* A dotted-quad IPv4 address, host order. */
static bool parse_v4(const char *s, uint32_t *out)
{
	ip_addr ip;
	if (!strchr(s, '.') || !ip_parse(s, &ip) || !ip_is_v4(&ip))
		return false;
	*out = ip_v4_u32(&ip);
	return true;
}

static bool one_cluster(struct lexer *lx, const struct tok *t, struct bgp_exa_attrs *a)
{
	uint32_t id;
	if (!parse_v4(t->s, &id))
		return fail(lx, t, "cluster id is an IPv4 address");
	if (a->attrs.n_cluster_list == BGP_MAX_CLUSTER_LIST)
		return fail(lx, t, "cluster-list longer than %d", BGP_MAX_CLUSTER_LIST);
	a->attrs.cluster_list[a->attrs.n_cluster_list++] = id;
	return true;
}

/* aggregator ( ASN:IPV4 ), the parentheses optional and glued or not, as ExaBGP takes it */
static bool aggregator(struct lexer *lx, const struct tok *k, struct bgp_exa_attrs *a)
{
	const struct tok *t = next(lx);
	if (!t)
		return fail(lx, k, "expected ( ASN:IPV4 ) after it");
	char buf[64];
	const char *s = t->s;
	bool open = false, closed = false;
	if (!strcmp(s, "(")) {
		open = true;
		if (!(t = next(lx)))
			return fail(lx, k, "expected ASN:IPV4 after '('");
		s = t->s;
	} else if (s[0] == '(') {
		open = true;
		s++;
	}
	size_t n = strlen(s);
	if (n >= sizeof buf)
		return fail(lx, t, "aggregator is ASN:IPV4");
	memcpy(buf, s, n + 1);
	if (n && buf[n - 1] == ')') {
		buf[--n] = 0;
		closed = true;
	}
	if (closed && !open)
		return fail(lx, t, "')' without '('");
	char *colon = strchr(buf, ':');
	uint64_t as;
	uint32_t id;
	if (!colon)
		return fail(lx, t, "aggregator is ASN:IPV4");
	*colon = 0;
	if (!parse_num(buf, UINT32_MAX, &as) || !parse_v4(colon + 1, &id))
		return fail(lx, t, "aggregator is ASN:IPV4 (an AS number, then an IPv4 address)");
	if (open && !closed) {
		const struct tok *c = next(lx);
		if (!is(c, ")"))
			return fail(lx, c ? c : k, "aggregator: expected ')'");
	}
	a->attrs.has_aggregator = true;
	a->attrs.aggregator_as = (uint32_t)as;
	a->attrs.aggregator_id = id;
	return true;
}

/* attribute [ 0xCODE 0xFLAGS 0xVALUE ], ExaBGP's generic attribute (its configuration/static/
 * parser.py `attribute`): the three 0x numbers, then bgp_exa_generic (exabgp_generic.c) decides. */
static bool generic(struct lexer *lx, const struct tok *k, struct bgp_exa_attrs *a)
{
	const struct tok *t[5];
	for (int i = 0; i < 5; i++) {
		if (!(t[i] = next(lx)))
			return fail(lx, i ? t[i - 1] : k, "expected attribute [ 0xCODE 0xFLAGS 0xVALUE ]");
		if (i == 0 && !is(t[0], "["))
			return fail(lx, t[0], "expected '[' (attribute [ 0xCODE 0xFLAGS 0xVALUE ])");
	}
	if (!is(t[4], "]"))
		return fail(lx, t[4], "expected ']' after the value (attribute [ 0xCODE 0xFLAGS 0xVALUE ])");
	uint64_t code, flags;
	if (strncasecmp(t[1]->s, "0x", 2) || !parse_num(t[1]->s, 255, &code))
		return fail(lx, t[1], "attribute code is 0x00..0xff");
	if (strncasecmp(t[2]->s, "0x", 2) || !parse_num(t[2]->s, 255, &flags))
		return fail(lx, t[2], "attribute flags are 0x00..0xff");
	char why[120];
	int bad = bgp_exa_generic((uint8_t)code, (uint8_t)flags, t[3]->s, a, why, sizeof why);
	return bad ? fail(lx, t[bad], "%s", why) : true;
}

/* One attribute at the cursor; false (with the error) if the token is not one. */
static bool attribute(struct lexer *lx, struct bgp_exa_attrs *a)
{
	const struct tok *k = next(lx);
	const struct tok *v;
	uint64_t n;
	if (is(k, "next-hop")) {
		if (!(v = next(lx)))
			return fail(lx, k, "expected an address or 'self' after it");
		if (is(v, "self"))
			memset(&a->attrs.next_hop, 0, sizeof a->attrs.next_hop);
		else if (!ip_parse(v->s, &a->attrs.next_hop) || ip_is_zero(&a->attrs.next_hop))
			return fail(lx, v, "next-hop is not an IP address or 'self'");
		a->has_next_hop = true;
		return true;
	}
	if (is(k, "origin")) {
		if (!(v = next(lx)))
			return fail(lx, k, "expected igp, egp or incomplete after it");
		if (is(v, "igp"))
			a->origin = BGP_EXA_ORIGIN_IGP;
		else if (is(v, "egp"))
			a->origin = BGP_EXA_ORIGIN_EGP;
		else if (is(v, "incomplete"))
			a->origin = BGP_EXA_ORIGIN_INCOMPLETE;
		else
			return fail(lx, v, "origin is igp, egp or incomplete");
		a->has_origin = true;
		return true;
	}
	if (is(k, "med") || is(k, "local-preference")) {
		if (!(v = next(lx)))
			return fail(lx, k, "expected a number after it");
		if (!parse_num(v->s, UINT32_MAX, &n))
			return fail(lx, v, "%s is a number 0..4294967295", k->s);
		if (is(k, "med"))
			a->attrs.med = (uint32_t)n, a->attrs.has_med = true;
		else
			a->attrs.local_pref = (uint32_t)n, a->has_local_pref = true;
		return true;
	}
	if (is(k, "community"))
		return list(lx, k, a, one_community);
	if (is(k, "large-community"))
		return list(lx, k, a, one_large);
	if (is(k, "extended-community"))
		return list(lx, k, a, one_extended);
	if (is(k, "as-path"))
		return list(lx, k, a, one_asn);
	if (is(k, "atomic-aggregate")) {
		a->atomic_aggregate = true;
		return true;
	}
	if (is(k, "aggregator"))
		return aggregator(lx, k, a);
	if (is(k, "originator-id")) {
		uint32_t id;
		if (!(v = next(lx)) || !parse_v4(v->s, &id))
			return fail(lx, v ? v : k, "originator-id is an IPv4 address");
		a->attrs.has_originator_id = true;
		a->attrs.originator_id = id;
		return true;
	}
	if (is(k, "cluster-list"))
		return list(lx, k, a, one_cluster);
	if (is(k, "attribute"))
		return generic(lx, k, a);
	if (!k)
		return fail(lx, NULL, "expected an attribute");
	static const char *const unsupported[] = {"path-information",
						  "label", "rd", "route-distinguisher", "split", "aigp", "bgp-prefix-sid", NULL};
	for (size_t i = 0; unsupported[i]; i++)
		if (is(k, unsupported[i]))
			return fail(lx, k, "ExaBGP attribute not supported by Rampart");
	return fail(lx, k, "unknown attribute (next-hop, origin, as-path, med, local-preference, community, "
			   "large-community, extended-community, atomic-aggregate, aggregator, originator-id, "
			   "cluster-list, attribute)");
}

static bool add_nlri(struct lexer *lx, const struct tok *t, struct bgp_exa_cmd *c)
{
	if (!t)
		return fail(lx, NULL, "expected a prefix");
	ip_prefix p;
	if (!ip_prefix_parse(t->s, &p))
		return fail(lx, t, "not a prefix (ADDRESS/LEN without host bits, or an address)");
	if (c->n_nlri == BGP_EXA_MAX_NLRI)
		return fail(lx, t, "more than %d prefixes in one command", BGP_EXA_MAX_NLRI);
	c->nlri[c->n_nlri++] = p;
	return true;
}

/* The next hop must be of the prefixes' family, except an IPv6 one for IPv4 prefixes (RFC 8950,
 * which the daemon checks against its peers' extended_next_hop). An IPv4 next hop for an IPv6
 * prefix has no encoding (RFC 2545 3: 16 or 32 octets). */
static bool check_families(struct lexer *lx, struct bgp_exa_cmd *c)
{
	const ip_addr *nh = &c->a.attrs.next_hop;
	if (c->verb != BGP_EXA_ANNOUNCE || ip_is_zero(nh))
		return true;
	for (size_t i = 0; i < c->n_nlri; i++)
		if (ip_is_v4(nh) && !ip_is_v4(&c->nlri[i].addr)) {
			char a[IP_STRLEN], p[IP_PREFIX_STRLEN];
			snprintf(lx->err->msg, sizeof lx->err->msg, "next-hop %s is not of the family of %s (an IPv6 "
				 "route needs an IPv6 next hop, RFC 2545 3)", ip_format(nh, a), ip_prefix_format(&c->nlri[i], p));
			return false;
		}
	return true;
}

/* A watchdog group's name: one word of at most BGP_EXA_NAME_MAX - 1 bytes, not a verb (ExaBGP
 * refuses those too: `announce watchdog withdraw` would be ambiguous). */
static bool watchdog_name(struct lexer *lx, const struct tok *v, struct bgp_exa_cmd *c)
{
	if (is(v, "announce") || is(v, "withdraw"))
		return fail(lx, v, "'%s' is not a watchdog name", v->s);
	size_t n = strlen(v->s);
	if (n >= sizeof c->a.watchdog)
		return fail(lx, v, "watchdog name longer than %zu bytes", sizeof c->a.watchdog - 1);
	memcpy(c->a.watchdog, v->s, n + 1);
	return true;
}

/* ExaBGP's per-route words that are not path attributes: `name NAME` (a label for its logs) is
 * accepted and not sent; `watchdog NAME` puts the route in that group (ExaBGP's rib/outgoing.py:
 * `withdraw watchdog NAME` withdraws the group's routes, `announce watchdog NAME` brings them
 * back); `withdraw` makes the route start withdrawn (route_end says what that does).
 * True if the word at the cursor was one of them (and is consumed). */
static bool route_word(struct lexer *lx, struct bgp_exa_cmd *c, bool *ok)
{
	const struct tok *k = peek(lx);
	*ok = true;
	if (is(k, "withdraw")) {
		next(lx);
		c->a.watchdog_withdrawn = true;
		return true;
	}
	bool wd = is(k, "watchdog");
	if (!is(k, "name") && !wd)
		return false;
	next(lx);
	const struct tok *v = next(lx);
	if (!v || is(v, "[") || is(v, "]") || is(v, ","))
		*ok = fail(lx, v ? v : k, "expected a name after '%s'", k->s);
	else if (wd && !watchdog_name(lx, v, c))
		*ok = false;
	return true;
}

/* After a route's words: `withdraw` without a watchdog makes the command a withdraw, as ExaBGP
 * leaves such a route unannounced; with one the route is announced into its group, held back. */
static bool route_end(struct lexer *lx, struct bgp_exa_cmd *c)
{
	if (c->a.watchdog_withdrawn && !c->a.watchdog[0]) {
		c->verb = BGP_EXA_WITHDRAW;
		c->a.watchdog_withdrawn = false;
	}
	return check_families(lx, c);
}

/* announce|withdraw route P ATTR...  (also ipv4|ipv6 unicast P ATTR...) */
static bool route(struct lexer *lx, struct bgp_exa_cmd *c, const struct tok *key, bool v6)
{
	if (!add_nlri(lx, next(lx), c))
		return false;
	if (key && ip_is_v4(&c->nlri[0].addr) == v6)
		return fail(lx, key, "prefix %s is not of this family", lx->t[lx->i - 1].s);
	bool ok;
	while (peek(lx))
		if (route_word(lx, c, &ok) ? !ok : !attribute(lx, &c->a))
			return false;
	return route_end(lx, c);
}

/* announce|withdraw attributes ATTR... nlri P... */
static bool attributes(struct lexer *lx, struct bgp_exa_cmd *c)
{
	bool ok;
	while (peek(lx) && !is(peek(lx), "nlri"))
		if (route_word(lx, c, &ok) ? !ok : !attribute(lx, &c->a))
			return false;
	const struct tok *k = next(lx);
	if (!k)
		return fail(lx, NULL, "expected 'nlri' and prefixes after the attributes");
	if (!peek(lx))
		return fail(lx, k, "expected at least one prefix after it");
	while (peek(lx))
		if (!add_nlri(lx, next(lx), c))
			return false;
	return route_end(lx, c);
}

/* announce|withdraw watchdog NAME */
static bool watchdog(struct lexer *lx, struct bgp_exa_cmd *c, const struct tok *k)
{
	const struct tok *v = next(lx);
	if (!v)
		return fail(lx, k, "expected a watchdog name after it");
	if (!watchdog_name(lx, v, c))
		return false;
	return peek(lx) ? fail(lx, peek(lx), "nothing may follow the watchdog name") : true;
}

static bool eor(struct lexer *lx, struct bgp_exa_cmd *c)
{
	const struct tok *afi = next(lx), *safi;
	if (!afi)
		return true;
	if (is(afi, "ipv4"))
		c->eor_afi = 1;
	else if (is(afi, "ipv6"))
		c->eor_afi = 2;
	else
		return fail(lx, afi, "AFI is ipv4 or ipv6");
	if (!(safi = next(lx)))
		return fail(lx, afi, "expected a SAFI (unicast, multicast, flow) after it");
	static const struct {
		const char *n;
		uint8_t v;
	} safis[] = {{"unicast", 1}, {"multicast", 2}, {"nlri-mpls", 4}, {"mpls-vpn", 128}, {"flow", 133}, {"flow-vpn", 134}, {NULL, 0}};
	for (size_t i = 0; safis[i].n; i++)
		if (is(safi, safis[i].n))
			c->eor_safi = safis[i].v;
	if (!c->eor_safi)
		return fail(lx, safi, "SAFI is unicast, multicast, nlri-mpls, mpls-vpn, flow or flow-vpn");
	return peek(lx) ? fail(lx, peek(lx), "nothing may follow the SAFI") : true;
}

static bool flow(struct lexer *lx, struct bgp_exa_cmd *c, const struct tok *kw)
{
	struct fs_err fe = {{0}};
	/* fs_text_parse takes "[flow route] [match {] ... then ..." as ExaBGP writes it. */
	if (!fs_text_parse(lx->line + kw->col - 1, &c->flow, &c->flow_actions, &fe)) {
		snprintf(lx->err->msg, sizeof lx->err->msg, "flow route (from column %u): %s", kw->col, fe.msg);
		return false;
	}
	/* ExaBGP takes a rule whose then block holds only communities (an extended one may be the
	 * redirect, as in its conf-flow example): announced as given */
	if (c->verb == BGP_EXA_ANNOUNCE && !c->flow_actions.present && !c->flow_actions.n_ext &&
	    !c->flow_actions.n_comm)
		return fail(lx, kw, "an announced flow route needs an action (then { discard; } or rate-limit N)");
	return true;
}

/* ExaBGP's family names in `family-allowed` (AFI-SAFI joined by '/'), or in-open */
static bool families(struct lexer *lx, const struct tok *v, struct bgp_exa_neighbor *sel)
{
	if (is(v, "in-open")) {
		sel->in_open = true;
		return true;
	}
	static const struct {
		const char *n;
		uint32_t fam;
	} names[] = {{"ipv4-unicast", BGP_FAM_IPV4_UNICAST}, {"ipv6-unicast", BGP_FAM_IPV6_UNICAST},
		     {"ipv4-flow", BGP_FAM_IPV4_FLOWSPEC}, {"ipv6-flow", BGP_FAM_IPV6_FLOWSPEC},
		     {"ipv4-flowspec", BGP_FAM_IPV4_FLOWSPEC}, {"ipv6-flowspec", BGP_FAM_IPV6_FLOWSPEC},
		     {NULL, 0}};
	const char *p = v->s;
	while (*p) {
		size_t n = strcspn(p, "/"), i;
		for (i = 0; names[i].n; i++)
			if (strlen(names[i].n) == n && !strncmp(p, names[i].n, n))
				break;
		if (!names[i].n)
			return fail(lx, v, "family-allowed is in-open or AFI-SAFI[/AFI-SAFI...] of ipv4-unicast, "
					   "ipv6-unicast, ipv4-flow, ipv6-flow");
		sel->families |= names[i].fam;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static bool selector(struct lexer *lx, const struct tok *k, const struct tok *v, struct bgp_exa_neighbor *sel)
{
	uint64_t n;
	if (is(k, "local-ip")) {
		if (!ip_parse(v->s, &sel->local_ip))
			return fail(lx, v, "local-ip is an IP address");
		sel->has_local_ip = true;
	} else if (is(k, "local-as") || is(k, "peer-as")) {
		if (!parse_num(v->s, UINT32_MAX, &n))
			return fail(lx, v, "%s is an AS number", k->s);
		if (is(k, "local-as"))
			sel->local_as = (uint32_t)n, sel->has_local_as = true;
		else
			sel->peer_as = (uint32_t)n, sel->has_peer_as = true;
	} else if (is(k, "router-id")) {
		if (!parse_v4(v->s, &sel->router_id))
			return fail(lx, v, "router-id is an IPv4 address");
		sel->has_router_id = true;
	} else {
		sel->has_families = true;
		return families(lx, v, sel);
	}
	return true;
}

/* neighbor IP [local-ip IP | local-as N | peer-as N | router-id IP | family-allowed F]... [,] */
static bool neighbors(struct lexer *lx, struct bgp_exa_cmd *c)
{
	bool any = false;
	while (is(peek(lx), "neighbor")) {
		const struct tok *k = next(lx), *v = next(lx);
		if (!v)
			return fail(lx, k, "expected the neighbor's address after it");
		ip_addr a;
		if (is(v, "*")) {
			/* ExaBGP's every neighbor (its healthcheck writes it): as no selection at all */
			if (is(peek(lx), ","))
				next(lx);
			any = true;
			continue;
		}
		if (!ip_parse(v->s, &a))
			return fail(lx, v, "neighbor is not an IP address or '*'");
		if (c->n_neighbors == BGP_EXA_MAX_NEIGHBORS)
			return fail(lx, v, "more than %d neighbors", BGP_EXA_MAX_NEIGHBORS);
		struct bgp_exa_neighbor *sel = &c->sel[c->n_neighbors];
		memset(sel, 0, sizeof *sel);
		sel->address = a;
		c->neighbors[c->n_neighbors++] = a;
		for (;;) {
			const struct tok *s = peek(lx);
			if (is(s, ",")) {
				next(lx);
				if (!is(peek(lx), "neighbor"))
					return fail(lx, peek(lx), "expected 'neighbor' after ','");
				break;
			}
			if (is(s, "local-ip") || is(s, "local-as") || is(s, "peer-as") || is(s, "router-id") ||
			    is(s, "family-allowed")) {
				next(lx);
				const struct tok *val = next(lx);
				if (!val)
					return fail(lx, s, "expected a value after it");
				if (!selector(lx, s, val, sel))
					return false;
				continue;
			}
			break;
		}
	}
	if (any)
		c->n_neighbors = 0; /* '*' among others still means every peer */
	return true;
}

bool bgp_exa_is_command(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	static const char *const verbs[] = {"announce", "withdraw", "neighbor", NULL};
	for (size_t i = 0; verbs[i]; i++) {
		size_t n = strlen(verbs[i]);
		if (!strncmp(line, verbs[i], n) && (line[n] == ' ' || line[n] == '\t' || !line[n]))
			return true;
	}
	return false;
}

bool bgp_exa_parse(const char *line, struct bgp_exa_cmd *cmd, struct bgp_exa_err *err)
{
	static struct bgp_exa_err dummy;
	if (!err)
		err = &dummy; /* only ever written, never read: harmless to share */
	err->msg[0] = 0;
	size_t len = strnlen(line, BGP_EXA_LINE_MAX + 1);
	if (len > BGP_EXA_LINE_MAX) {
		snprintf(err->msg, sizeof err->msg, "line longer than %d bytes", BGP_EXA_LINE_MAX);
		return false;
	}
	/* on the stack (76 KiB, not zeroed): a pipe feeds 100 000 lines a second through here */
	struct lexer lexer, *lx = &lexer;
	lx->line = line;
	lx->n = lx->i = 0;
	lx->err = err;
	/* only what every command reads; the NLRI and flow arrays are written before they are read */
	cmd->verb = BGP_EXA_ANNOUNCE;
	cmd->kind = BGP_EXA_ROUTE;
	cmd->n_neighbors = cmd->n_nlri = 0;
	memset(&cmd->a, 0, sizeof cmd->a);
	cmd->eor_afi = 0;
	cmd->eor_safi = 0;
	bool ok = false;
	if (!lex(lx))
		goto out;
	if (!neighbors(lx, cmd))
		goto out;
	const struct tok *v = next(lx);
	if (is(v, "announce"))
		cmd->verb = BGP_EXA_ANNOUNCE;
	else if (is(v, "withdraw"))
		cmd->verb = BGP_EXA_WITHDRAW;
	else {
		ok = v ? fail(lx, v, "expected announce or withdraw") : fail(lx, NULL, "expected announce or withdraw");
		goto out;
	}
	const struct tok *k = next(lx);
	if (is(k, "route")) {
		cmd->kind = BGP_EXA_ROUTE;
		ok = route(lx, cmd, NULL, false);
	} else if (is(k, "ipv4") || is(k, "ipv6")) {
		const struct tok *safi = next(lx);
		if (is(safi, "unicast")) {
			cmd->kind = BGP_EXA_ROUTE;
			ok = route(lx, cmd, k, is(k, "ipv6"));
		} else {
			ok = safi ? fail(lx, safi, "only unicast is supported after %s (use 'flow route' for FlowSpec)", k->s)
				  : fail(lx, k, "expected unicast after it");
		}
	} else if (is(k, "attributes") || is(k, "attribute")) {
		cmd->kind = BGP_EXA_ROUTE;
		ok = attributes(lx, cmd);
	} else if (is(k, "flow")) {
		cmd->kind = BGP_EXA_FLOW;
		ok = flow(lx, cmd, k);
	} else if (is(k, "watchdog")) {
		cmd->kind = BGP_EXA_WATCHDOG;
		ok = watchdog(lx, cmd, k);
	} else if (is(k, "eor")) {
		cmd->kind = BGP_EXA_EOR;
		ok = cmd->verb == BGP_EXA_ANNOUNCE ? eor(lx, cmd) : fail(lx, k, "End-of-RIB is announced, not withdrawn");
	} else if (k) {
		ok = fail(lx, k, "expected route, attributes, flow, eor, watchdog, ipv4 or ipv6 after '%s'", v->s);
	} else {
		ok = fail(lx, NULL, "expected route, attributes, flow, eor or watchdog after '%s'", v->s);
	}
out:
	return ok;
}
