/* The ExaBGP API's commonest lines, parsed without the lexer: what ban scripts and FastNetMon's
 * integration write by the hundred thousand,
 *   announce route A.B.C.D[/N] next-hop A.B.C.D [community C | community [C ...]]
 *   withdraw route A.B.C.D[/N] [the same attributes]
 * (next-hop and community in either order, either repeated). bgp_exa_parse splits a line into a
 * 76 KiB token store, compares every token against the keyword tables and parses numbers with
 * strtoull; this walks the bytes once. Anything else, including every error, is left to
 * bgp_exa_parse: this path only ever says "mine, and here is what bgp_exa_parse would have made
 * of it", or "not mine" (tests/unit/test_exabgp_fast.c and tests/fuzz/fuzz_exabgp.c compare the
 * two on the same lines). */
#include <string.h>

#include "exabgp.h"

/* A decimal of at most max_digits digits, no leading zero unless it is "0", at most max.
 * Inlined, with the cursor in a register: it runs about ten times a line. */
static inline __attribute__((always_inline)) bool dec(const char **sp, unsigned max_digits, uint64_t max,
						      uint64_t *out)
{
	const char *s = *sp, *start = s;
	uint64_t v = 0;
	while ((unsigned char)(*s - '0') <= 9) {
		if ((unsigned)(s - start) >= max_digits)
			return false;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (s == start || (s - start > 1 && *start == '0') || v > max)
		return false;
	*sp = s;
	*out = v;
	return true;
}

/* A dotted quad as inet_pton reads one (four decimal octets, no leading zeros). */
static inline bool quad(const char **sp, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t o;
		if (i && *(*sp)++ != '.')
			return false;
		if (!dec(sp, 3, 255, &o))
			return false;
		v = v << 8 | (uint32_t)o;
	}
	*out = v;
	return true;
}

/* the end of a word: a space or the end of the line */
static bool word_end(char c)
{
	return c == ' ' || c == 0;
}

/* `word` then a space or the end of the line. Byte by byte, inlined: a mismatch (the NUL ending
 * the line included) stops it, so it never reads past the line, and a keyword costs no strlen
 * and strncmp calls. */
static inline __attribute__((always_inline)) bool skip(const char **sp, const char *word)
{
	const char *s = *sp;
	size_t n = 0;
	for (; word[n]; n++)
		if (s[n] != word[n])
			return false;
	if (!word_end(s[n]))
		return false;
	*sp += n;
	return true;
}

static const struct {
	const char *name;
	uint32_t v;
} names[] = {
	{"no-export", 0xFFFFFF01u}, {"no-advertise", 0xFFFFFF02u}, {"no-export-subconfed", 0xFFFFFF03u},
	{"nopeer", 0xFFFFFF04u}, {"blackhole", BGP_COMMUNITY_BLACKHOLE}, {"graceful-shutdown", 0xFFFF0000u},
	{"accept-own", 0xFFFF0001u},
};

/* One community, ended by a space, ']' (in a list) or the end of the line. */
static bool community(const char **sp, bool in_list, struct bgp_route_attrs *r)
{
	const char *s = *sp;
	uint32_t v;
	uint64_t hi, lo;
	if (*s >= '0' && *s <= '9') {
		if (!dec(&s, 10, UINT32_MAX, &hi))
			return false;
		if (*s == ':') {
			s++;
			if (hi > 0xFFFF || !dec(&s, 5, 0xFFFF, &lo))
				return false;
			v = (uint32_t)(hi << 16 | lo);
		} else {
			v = (uint32_t)hi;
		}
	} else {
		size_t n = 0;
		while (s[n] == '-' || (s[n] >= 'a' && s[n] <= 'z')) /* every name is lower case and dashes */
			n++;
		size_t k = 0;
		while (k < sizeof names / sizeof names[0] && (strlen(names[k].name) != n || memcmp(s, names[k].name, n)))
			k++;
		if (k == sizeof names / sizeof names[0])
			return false;
		v = names[k].v;
		s += n;
	}
	if (!word_end(*s) && !(in_list && *s == ']'))
		return false;
	for (size_t i = 0; i < r->n_communities; i++)
		if (r->communities[i] == v) {
			*sp = s;
			return true; /* a set, as bgp_exa_parse keeps it */
		}
	if (r->n_communities == BGP_MAX_COMMUNITIES)
		return false; /* bgp_exa_parse says why */
	r->communities[r->n_communities++] = v;
	*sp = s;
	return true;
}

/* `community C` or `community [C ...]`, after the keyword and its space */
static bool communities(const char **sp, struct bgp_route_attrs *r)
{
	const char *s = *sp;
	if (*s != '[') {
		if (!community(&s, false, r))
			return false;
		*sp = s;
		return true;
	}
	s++;
	size_t got = 0;
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == ']')
			break;
		if (!community(&s, true, r))
			return false;
		got++;
	}
	if (!got || !word_end(s[1]))
		return false;
	*sp = s + 1;
	return true;
}

/* `announce|withdraw route A.B.C.D[/N]` up to the space or end after it: both paths' head. */
static bool head(const char **sp, enum bgp_exa_verb *verb, uint32_t *addr, uint64_t *len)
{
	const char *s = *sp;
	if (skip(&s, "announce"))
		*verb = BGP_EXA_ANNOUNCE;
	else if (skip(&s, "withdraw"))
		*verb = BGP_EXA_WITHDRAW;
	else
		return false;
	if (*s++ != ' ' || !skip(&s, "route") || *s++ != ' ')
		return false;
	*len = 32;
	if (!quad(&s, addr))
		return false;
	if (*s == '/' && (s++, !dec(&s, 2, 32, len)))
		return false;
	if (!word_end(*s) || (*len < 32 && (*addr & (0xFFFFFFFFu >> *len))))
		return false; /* host bits set: bgp_exa_parse refuses it with the reason */
	*sp = s;
	return true;
}

bool bgp_exa_route_prefix(const char *line, ip_prefix *out)
{
	const char *s = line;
	enum bgp_exa_verb verb;
	uint32_t addr;
	uint64_t len;
	if (!head(&s, &verb, &addr, &len))
		return false;
	ip_from_v4_u32(&out->addr, addr);
	out->len = (uint8_t)len;
	return true;
}

bool bgp_exa_parse_fast(const char *line, struct bgp_exa_cmd *cmd)
{
	if (strnlen(line, BGP_EXA_LINE_MAX + 1) > BGP_EXA_LINE_MAX)
		return false; /* refused by bgp_exa_parse, with the reason */
	const char *s = line;
	enum bgp_exa_verb verb;
	uint32_t addr;
	uint64_t len;
	if (!head(&s, &verb, &addr, &len))
		return false;
	memset(&cmd->a, 0, sizeof cmd->a);
	struct bgp_route_attrs *r = &cmd->a.attrs;
	while (*s) {
		if (*s++ != ' ')
			return false;
		if (skip(&s, "next-hop")) {
			uint32_t nh;
			if (*s++ != ' ' || !quad(&s, &nh) || !nh || !word_end(*s))
				return false;
			ip_from_v4_u32(&r->next_hop, nh);
			cmd->a.has_next_hop = true;
		} else if (skip(&s, "community")) {
			if (*s++ != ' ' || !communities(&s, r))
				return false;
		} else {
			return false;
		}
	}
	cmd->verb = verb;
	cmd->kind = BGP_EXA_ROUTE;
	cmd->n_neighbors = 0;
	cmd->n_nlri = 1;
	ip_from_v4_u32(&cmd->nlri[0].addr, addr);
	cmd->nlri[0].len = (uint8_t)len;
	cmd->eor_afi = 0;
	cmd->eor_safi = 0;
	return true;
}
