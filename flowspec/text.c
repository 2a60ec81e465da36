/* The text form of a rule, for operators, configs and ExaBGP-style pipelines.
 *
 *   [flow route] [match {] destination 192.0.2.10/32; protocol udp; source-port =53;
 *       packet-length >=512&<=1500; tcp-flags =syn&!ack; fragment is-fragment [}]
 *   then [{] discard | rate-limit BYTES/S | rate-limit-packets PPS | redirect AS:N | IP:N | ASL:N
 *       | redirect [IPv6]:N | redirect-to-nexthop-ietf IPv4|IPv6 | copy-to-nexthop-ietf IPv4|IPv6
 *       | mark DSCP | action sample|terminal|sample-terminal|none | redirect IPv4 | copy IPv4
 *       | community [A:B ...] | extended-community [KIND:G:L|0xHEX16 ...] [}]
 *
 * Braces, brackets and semicolons only separate. After a component keyword come one or more
 * values, ORed; inside a value '&' ANDs terms. Numeric terms take =, !=, <, <=, >, >= (bare means
 * =); bitmask terms take = (all bits), ! (none), != (not all), bare (any), with flag names joined
 * by '+' or a number. Names are read in any case (ExaBGP writes SYN); icmp-type and icmp-code
 * also take ExaBGP's names (echo-request, host-unreachable, ...); traffic-class is dscp.
 * IPv6 prefixes may carry an offset: 2001:db8::/64/8. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flowspec/fs_int.h"

struct name {
	const char *s;
	uint32_t v;
};

static const struct name protos[] = {
	{"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"ah", 51},
	{"icmpv6", 58}, {"ospf", 89}, {"pim", 103}, {"sctp", 132}, {NULL, 0},
};
static const struct name tcp_flags[] = {
	{"fin", FS_TCP_FIN}, {"syn", FS_TCP_SYN}, {"rst", FS_TCP_RST}, {"push", FS_TCP_PSH},
	{"ack", FS_TCP_ACK}, {"urgent", FS_TCP_URG}, {"ece", FS_TCP_ECE}, {"cwr", FS_TCP_CWR},
	{"psh", FS_TCP_PSH}, {"urg", FS_TCP_URG}, {NULL, 0}, /* aliases after the names we print */
};
static const struct name frags[] = {
	{"dont-fragment", FS_FRAG_DF}, {"is-fragment", FS_FRAG_ISF},
	{"first-fragment", FS_FRAG_FF}, {"last-fragment", FS_FRAG_LF}, {NULL, 0},
};

static const struct name *names_of(int type)
{
	return type == FS_PROTO ? protos : type == FS_TCP_FLAGS ? tcp_flags
					   : type == FS_FRAGMENT ? frags : NULL;
}

/* ExaBGP's ICMP type and code names (exabgp/protocol/ip/icmp.py, the IANA names): read, never
 * printed (a code's name depends on its type, and numbers are what routers show). */
static const struct name icmp_types[] = {
	{"echo-reply", 0}, {"unreachable", 3}, {"source-quench", 4}, {"redirect", 5},
	{"echo-request", 8}, {"router-advertisement", 9}, {"router-solicit", 10},
	{"time-exceeded", 11}, {"parameter-problem", 12}, {"timestamp", 13},
	{"timestamp-reply", 14}, {"info-request", 15}, {"info-reply", 16}, {"mask-request", 17},
	{"mask-reply", 18}, {"traceroute", 30}, {NULL, 0},
};
static const struct name icmp_codes[] = {
	{"network-unreachable", 0}, {"host-unreachable", 1}, {"protocol-unreachable", 2},
	{"port-unreachable", 3}, {"fragmentation-needed", 4}, {"source-route-failed", 5},
	{"destination-network-unknown", 6}, {"destination-host-unknown", 7},
	{"source-host-isolated", 8}, {"destination-network-prohibited", 9},
	{"destination-host-prohibited", 10}, {"network-unreachable-for-tos", 11},
	{"host-unreachable-for-tos", 12}, {"communication-prohibited-by-filtering", 13},
	{"host-precedence-violation", 14}, {"precedence-cutoff-in-effect", 15},
	{"redirect-for-network", 0}, {"redirect-for-host", 1}, {"redirect-for-tos-and-net", 2},
	{"redirect-for-tos-and-host", 3}, {"ttl-eq-zero-during-transit", 0},
	{"ttl-eq-zero-during-reassembly", 1}, {"required-option-missing", 1}, {"ip-header-bad", 2},
	{NULL, 0},
};

static const struct name *names_read(int type)
{
	return type == FS_ICMP_TYPE ? icmp_types : type == FS_ICMP_CODE ? icmp_codes : names_of(type);
}

static int keyword(const char *t)
{
	if (!strcmp(t, "next-header"))
		return FS_PROTO; /* RFC 8956's name for type 3 */
	if (!strcmp(t, "traffic-class"))
		return FS_DSCP; /* ExaBGP's IPv6 name for type 11: the traffic class's DSCP bits, RFC 8956 3.7 */
	for (int i = FS_DST; i <= FS_TYPE_MAX; i++)
		if (!strcmp(t, fs_type_name(i)))
			return i;
	return 0;
}

/* ---- parse ---- */

struct parser {
	const char *s;
	size_t pos, col; /* col: 1-based column of the current token */
	char tok[1024]; /* a value with 16 ANDed terms is long */
	struct fs_err *err;
};

/* Next token into p->tok; false at the end of the input (or on an over-long token). */
static bool next(struct parser *p)
{
	static const char *sep = " \t\r\n;{}[]";
	while (p->s[p->pos] && strchr(sep, p->s[p->pos]))
		p->pos++;
	if (!p->s[p->pos])
		return false;
	size_t n = strcspn(p->s + p->pos, sep);
	p->col = p->pos + 1;
	if (n >= sizeof p->tok) {
		fs_errf(p->err, "column %zu: token longer than %zu characters", p->col, sizeof p->tok - 1);
		p->tok[0] = 0;
		return false;
	}
	memcpy(p->tok, p->s + p->pos, n);
	p->tok[n] = 0;
	p->pos += n;
	return true;
}

static bool bad(struct parser *p, const char *why)
{
	fs_errf(p->err, "column %zu: '%s': %s", p->col, p->tok, why);
	return false;
}

static bool number(const char *s, uint64_t max, uint32_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A number or a name from the component's table; bitmask names may be joined with '+'. */
static bool term_value(int type, const char *s, uint32_t max, uint32_t *out)
{
	if (number(s, max, out))
		return true;
	const struct name *tab = names_read(type);
	if (!tab)
		return false;
	bool multi = fs_type_is_bitmask(type);
	uint32_t v = 0;
	while (*s) {
		size_t n = multi ? strcspn(s, "+") : strlen(s);
		const struct name *m = tab;
		/* any case: ExaBGP's own examples write SYN, RST, FIN */
		while (m->s && (strlen(m->s) != n || strncasecmp(m->s, s, n)))
			m++;
		if (!m->s)
			return false;
		v |= m->v;
		s += n;
		if (*s == '+' && *++s == 0)
			return false;
	}
	*out = v;
	return true;
}

static bool parse_value(struct parser *p, struct fs_rule *r, int type)
{
	bool bm = fs_type_is_bitmask(type);
	uint32_t max = fs_type_max(FS_AFI_IPV4, type) > fs_type_max(FS_AFI_IPV6, type)
			       ? fs_type_max(FS_AFI_IPV4, type) : fs_type_max(FS_AFI_IPV6, type);
	/* ExaBGP's spelling for "not a fragment" */
	if (type == FS_FRAGMENT && !strcmp(p->tok, "not-a-fragment")) {
		if (!fs_rule_add(r, type, FS_OP_NOT, FS_FRAG_ISF))
			return bad(p, "too many terms");
		return true;
	}
	size_t tl = strlen(p->tok);
	if (p->tok[0] == '&' || p->tok[tl - 1] == '&' || strstr(p->tok, "&&"))
		return bad(p, "empty term around '&'");
	char *save, *tok = p->tok;
	bool first = true;
	for (char *t = strtok_r(tok, "&", &save); t; t = strtok_r(NULL, "&", &save), first = false) {
		uint8_t op;
		if (bm) {
			op = !strncmp(t, "!=", 2) ? FS_OP_NOT | FS_OP_MATCH
			     : *t == '!'          ? FS_OP_NOT
			     : *t == '='          ? FS_OP_MATCH
						  : 0;
			t += op == (FS_OP_NOT | FS_OP_MATCH) ? 2 : op ? 1 : 0;
		} else {
			static const struct { const char *s; uint8_t op; } ops[] = {
				{"!=", FS_OP_LT | FS_OP_GT}, {"<=", FS_OP_LT | FS_OP_EQ},
				{">=", FS_OP_GT | FS_OP_EQ}, {"==", FS_OP_EQ}, {"=", FS_OP_EQ},
				{"<", FS_OP_LT}, {">", FS_OP_GT},
			};
			op = FS_OP_EQ;
			for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
				size_t n = strlen(ops[i].s);
				if (!strncmp(t, ops[i].s, n)) {
					op = ops[i].op;
					t += n;
					break;
				}
			}
		}
		uint32_t v;
		if (!term_value(type, t, max, &v)) {
			fs_errf(p->err, "column %zu: %s: '%s' is not a valid value (max %u)", p->col,
				fs_type_name(type), t, max);
			return false;
		}
		if (!first)
			op |= FS_OP_AND;
		if (!fs_rule_add(r, type, op, v)) {
			fs_errf(p->err, "column %zu: %s: more than %d terms", p->col, fs_type_name(type),
				FS_MAX_TERMS);
			return false;
		}
	}
	if (first)
		return bad(p, "empty value");
	return true;
}

static bool parse_prefix(struct parser *p, struct fs_rule *r, int type, int *afi)
{
	struct fs_prefix *fp = type == FS_DST ? &r->dst : &r->src;
	char *off = NULL, *slash = strchr(p->tok, '/');
	if (slash)
		off = strchr(slash + 1, '/');
	uint32_t offset = 0;
	if (off) {
		*off++ = 0;
		if (!number(off, 128, &offset))
			return bad(p, "bad prefix offset");
	}
	ip_prefix px;
	if (!ip_prefix_parse(p->tok, &px))
		return bad(p, "not a prefix (or host bits set)");
	int fam = ip_is_v4(&px.addr) ? FS_AFI_IPV4 : FS_AFI_IPV6;
	if (*afi && *afi != fam)
		return bad(p, "mixes IPv4 and IPv6 in one rule");
	if (fam == FS_AFI_IPV4 && off)
		return bad(p, "an offset is for IPv6 prefixes only");
	if (offset > px.len)
		return bad(p, "offset beyond the prefix length");
	/* bits before the offset are not matched; keep them zero, as decode returns them */
	for (unsigned i = 0; i < offset; i++)
		px.addr.b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	*afi = fam;
	fp->p = px;
	fp->offset = (uint8_t)offset;
	r->present |= (uint16_t)(1u << type);
	return true;
}

static bool parse_rate(struct parser *p, float *out)
{
	if (!next(p))
		return bad(p, "needs a rate");
	char *end;
	errno = 0;
	double d = strtod(p->tok, &end);
	if (errno || *end || !(d >= 0) || d > 3.4e38 || p->tok[0] == '-')
		return bad(p, "not a rate (a number >= 0)");
	*out = (float)d;
	return true;
}

/* An IPv6 route target, [ADDR]:N as ExaBGP writes it (RFC 8956 6.1, rt-redirect-ipv6). Brackets
 * separate tokens everywhere else, so this one is read from the raw input: 1 read, 0 the next
 * token is not bracketed (nothing consumed), -1 bad. */
static int parse_rt6(struct parser *p, struct fs_actions *a)
{
	size_t i = p->pos;
	while (p->s[i] == ' ' || p->s[i] == '\t')
		i++;
	if (p->s[i] != '[')
		return 0;
	size_t n = strcspn(p->s + i, " \t\r\n;{}");
	const char *close = memchr(p->s + i, ']', n);
	if (!close || close[1] != ':')
		return 0; /* "[ 65001:100 ]": brackets that only separate */
	p->col = i + 1;
	p->pos = i + n;
	if (n >= sizeof p->tok)
		n = sizeof p->tok - 1;
	memcpy(p->tok, p->s + i, n);
	p->tok[n] = 0;
	char addr[IP_STRLEN + 1];
	close = strchr(p->tok, ']');
	size_t al = close ? (size_t)(close - p->tok - 1) : 0;
	uint32_t l;
	ip_addr ip;
	if (!close || al == 0 || al >= sizeof addr)
		return bad(p, "an IPv6 route target is [IPv6]:N"), -1;
	memcpy(addr, p->tok + 1, al);
	addr[al] = 0;
	if (!ip_parse(addr, &ip) || ip_is_v4(&ip))
		return bad(p, "an IPv6 route target needs an IPv6 address (IPv4 is IP:N)"), -1;
	if (!number(close + 2, 0xffff, &l))
		return bad(p, "an IPv6 route target takes a local value 0..65535"), -1;
	memcpy(a->rt6_global, ip.b, 16);
	a->rt6_local = (uint16_t)l;
	return 1;
}

/* A route target in its 2-octet AS, IPv4 or 4-octet AS form (AS:N, IPv4:N, ASL:N). */
static bool parse_rt(struct parser *p, struct fs_actions *a)
{
	if (!next(p))
		return bad(p, "redirect needs AS:N, IPv4:N, ASL:N or [IPv6]:N");
	char *colon = strrchr(p->tok, ':');
	uint32_t g, l;
	ip_addr ip;
	if (!colon)
		return bad(p, "redirect needs AS:N, IPv4:N, ASL:N or [IPv6]:N");
	*colon = 0;
	size_t gl = strlen(p->tok);
	if (ip_parse(p->tok, &ip) && !ip_is_v4(&ip))
		return bad(p, "an IPv6 route target is written [IPv6]:N");
	if (ip_parse(p->tok, &ip) && ip_is_v4(&ip)) {
		a->rt_form = FS_RT_IPV4;
		a->rt_global = ip_v4_u32(&ip);
		if (!number(colon + 1, 0xffff, &l))
			return bad(p, "IPv4 form takes a local value 0..65535");
	} else if (gl > 1 && p->tok[gl - 1] == 'L') {
		p->tok[gl - 1] = 0;
		a->rt_form = FS_RT_AS4;
		if (!number(p->tok, 0xffffffff, &g) || !number(colon + 1, 0xffff, &l))
			return bad(p, "4-octet AS form is ASL:0..65535");
		a->rt_global = g;
	} else {
		if (!number(p->tok, 0xffffffff, &g) || !number(colon + 1, 0xffffffff, &l))
			return bad(p, "not AS:N");
		if (g > 0xffff && l > 0xffff)
			return bad(p, "a 4-octet AS takes a local value 0..65535");
		a->rt_form = g > 0xffff ? FS_RT_AS4 : FS_RT_AS2;
		a->rt_global = g;
	}
	a->rt_local = l;
	return true;
}

/* True when the next token is a bare IPv4 address (no :N): ExaBGP's old `redirect IPv4`. */
static bool next_is_v4(const struct parser *p)
{
	struct parser q = *p;
	ip_addr ip;
	q.err = NULL;
	if (!next(&q) || strchr(q.tok, ':') || !ip_parse(q.tok, &ip) || !ip_is_v4(&ip))
		return false;
	/* "[192.0.2.9]:100" is an (invalid) IPv6 route target, for parse_rt6 to refuse */
	bool bracketed = q.col >= 2 && q.s[q.col - 2] == '[';
	return !bracketed && q.s[q.pos] != ']' && q.s[q.pos] != ':';
}

/* One community of ExaBGP's then { community [...] }: A:B (each 0..65535), a number, or a
 * well-known name (RFC 1997, RFC 7999 blackhole). */
static bool community_value(const char *s, uint32_t *out)
{
	static const struct name wk[] = {
		{"no-export", 0xFFFFFF01u}, {"no-advertise", 0xFFFFFF02u},
		{"no-export-subconfed", 0xFFFFFF03u}, {"nopeer", 0xFFFFFF04u},
		{"blackhole", 0xFFFF029Au}, {NULL, 0},
	};
	for (const struct name *m = wk; m->s; m++)
		if (!strcmp(s, m->s)) {
			*out = m->v;
			return true;
		}
	const char *colon = strchr(s, ':');
	uint32_t hi, lo;
	if (!colon)
		return number(s, 0xffffffff, out);
	char head[16];
	size_t hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof head)
		return false;
	memcpy(head, s, hl);
	head[hl] = 0;
	if (!number(head, 0xffff, &hi) || !number(colon + 1, 0xffff, &lo))
		return false;
	*out = hi << 16 | lo;
	return true;
}

/* One extended community of then { extended-community [...] }: 0x and 16 hex digits, or
 * KIND:GLOBAL:LOCAL with KIND target (0x02), origin (0x03) or redirect (0x08, type 0x80+) and
 * GLOBAL a 2-octet AS (LOCAL 4 octets, a number or dotted quad), an IPv4 address or a 4-octet AS
 * (LOCAL 0..65535): RFC 4360 3.1/3.2, RFC 5668 2, RFC 8955 7. */
static bool extcomm_value(const char *s, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && strlen(s) == 18) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s + 2, &end, 16);
		if (errno || *end)
			return false;
		*out = v;
		return true;
	}
	uint64_t sub, hi = 0;
	const char *rest;
	if (!strncmp(s, "target:", 7))
		sub = 0x02, rest = s + 7;
	else if (!strncmp(s, "origin:", 7))
		sub = 0x03, rest = s + 7;
	else if (!strncmp(s, "redirect:", 9))
		sub = 0x08, hi = 0x80, rest = s + 9;
	else
		return false;
	const char *colon = strrchr(rest, ':');
	char head[IP_STRLEN + 1];
	size_t hl = colon ? (size_t)(colon - rest) : 0;
	if (!colon || hl == 0 || hl >= sizeof head)
		return false;
	memcpy(head, rest, hl);
	head[hl] = 0;
	ip_addr ip;
	uint32_t g, l;
	if (strchr(head, '.')) {
		if (!ip_parse(head, &ip) || !ip_is_v4(&ip) || !number(colon + 1, 0xffff, &l))
			return false;
		*out = (hi | 0x01) << 56 | sub << 48 | (uint64_t)ip_v4_u32(&ip) << 16 | l;
		return true;
	}
	if (!number(head, 0xffffffff, &g))
		return false;
	if (g > 0xffff) {
		if (!number(colon + 1, 0xffff, &l))
			return false;
		*out = (hi | 0x02) << 56 | sub << 48 | (uint64_t)g << 16 | l;
		return true;
	}
	if (strchr(colon + 1, '.')) {
		if (!ip_parse(colon + 1, &ip) || !ip_is_v4(&ip))
			return false;
		l = ip_v4_u32(&ip);
	} else if (!number(colon + 1, 0xffffffff, &l)) {
		return false;
	}
	*out = hi << 56 | sub << 48 | (uint64_t)g << 32 | l;
	return true;
}

/* community [...] / extended-community [...] inside then: one or more values, up to the next
 * word that is not one. */
static bool parse_communities(struct parser *p, struct fs_actions *a, bool ext)
{
	const char *what = ext ? "extended-community" : "community";
	size_t got = 0;
	for (;;) {
		size_t save_pos = p->pos, save_col = p->col;
		char save_tok[sizeof p->tok];
		memcpy(save_tok, p->tok, sizeof save_tok);
		if (!next(p))
			break;
		uint32_t c = 0;
		uint64_t e = 0;
		if (ext ? !extcomm_value(p->tok, &e) : !community_value(p->tok, &c)) {
			if (got == 0)
				return bad(p, ext ? "not an extended community (0x + 16 hex digits, target:, origin: "
						    "or redirect:GLOBAL:LOCAL)"
						  : "not a community (A:B, a number, no-export, no-advertise, nopeer, "
						    "blackhole)");
			p->pos = save_pos;
			p->col = save_col;
			memcpy(p->tok, save_tok, sizeof save_tok);
			break;
		}
		uint8_t *n = ext ? &a->n_ext : &a->n_comm;
		bool dup = false;
		for (unsigned i = 0; i < *n; i++)
			dup |= ext ? a->ext[i] == e : a->comm[i] == c;
		if (!dup) {
			if (*n == FS_EXTRA_MAX)
				return bad(p, ext ? "more than 8 extended communities" : "more than 8 communities");
			if (ext)
				a->ext[(*n)++] = e;
			else
				a->comm[(*n)++] = c;
		}
		got++;
	}
	if (got == 0) {
		fs_errf(p->err, "%s needs a value", what);
		return false;
	}
	return true;
}

static bool parse_action(struct parser *p, struct fs_actions *a)
{
	const char *t = p->tok;
	uint32_t bit = 0;
	if (!strcmp(t, "discard")) {
		bit = FS_ACT_RATE;
		a->rate = 0;
	} else if (!strcmp(t, "rate-limit")) {
		bit = FS_ACT_RATE;
		if (!parse_rate(p, &a->rate))
			return false;
	} else if (!strcmp(t, "rate-limit-packets")) {
		bit = FS_ACT_RATE_PKTS;
		if (!parse_rate(p, &a->rate_pkts))
			return false;
	} else if (!strcmp(t, "mark")) {
		bit = FS_ACT_MARK;
		uint32_t v;
		if (!next(p) || !number(p->tok, 63, &v))
			return bad(p, "mark needs a DSCP value 0..63");
		a->dscp = (uint8_t)v;
	} else if (!strcmp(t, "action")) {
		bit = FS_ACT_ACTION;
		if (!next(p))
			return bad(p, "action needs sample, terminal, sample-terminal or none");
		static const struct name acts[] = {
			{"none", 0}, {"sample", FS_ACTION_SAMPLE}, {"terminal", FS_ACTION_TERMINAL},
			{"sample-terminal", FS_ACTION_SAMPLE | FS_ACTION_TERMINAL}, {NULL, 0}};
		const struct name *m = acts;
		while (m->s && strcmp(m->s, p->tok))
			m++;
		if (!m->s)
			return bad(p, "not sample, terminal, sample-terminal or none");
		a->action = (uint8_t)m->v;
	} else if (!strcmp(t, "redirect-to-nexthop-ietf") || !strcmp(t, "copy-to-nexthop-ietf")) {
		bool copy = t[0] == 'c'; /* before next(): t is the token buffer */
		ip_addr ip;
		if (!next(p) || !ip_parse(p->tok, &ip))
			return bad(p, "redirect-to-nexthop-ietf needs an IPv4 or IPv6 address");
		if (ip_is_v4(&ip)) {
			bit = FS_ACT_REDIRECT_IP;
			a->redirect_copy = copy;
			a->redirect_ip = ip_v4_u32(&ip);
		} else {
			bit = FS_ACT_REDIRECT_IP6;
			a->redirect6_copy = copy;
			memcpy(a->redirect_ip6, ip.b, 16);
		}
	} else if (!strcmp(t, "community") || !strcmp(t, "extended-community")) {
		return parse_communities(p, a, t[0] == 'e');
	} else if (!strcmp(t, "copy") || (!strcmp(t, "redirect") && next_is_v4(p))) {
		/* ExaBGP's redirect/copy to an IPv4 next hop (draft-simpson: 0x0800 + MP next hop) */
		bool copy = t[0] == 'c';
		ip_addr ip;
		if (!next(p) || !strchr(p->tok, '.') || !ip_parse(p->tok, &ip) || !ip_is_v4(&ip))
			return bad(p, copy ? "copy needs an IPv4 address" : "redirect needs an IPv4 address");
		bit = FS_ACT_REDIRECT_NH;
		a->redirect_nh = ip;
		a->redirect_nh_copy = copy;
	} else if (!strcmp(t, "redirect")) {
		int rt6 = parse_rt6(p, a);
		if (rt6 < 0 || (rt6 == 0 && !parse_rt(p, a)))
			return false;
		bit = rt6 ? FS_ACT_REDIRECT6 : FS_ACT_REDIRECT;
	} else {
		return bad(p, "unknown action");
	}
	if (a->present & bit)
		return bad(p, "action given twice");
	a->present |= bit;
	return true;
}

bool fs_text_parse(const char *s, struct fs_rule *r, struct fs_actions *a, struct fs_err *err)
{
	struct parser p = {.s = s, .err = err};
	int afi = 0, type = 0;
	bool then = false, value_seen = true;
	fs_rule_init(r, FS_AFI_IPV4);
	if (a)
		memset(a, 0, sizeof *a);
	if (err)
		err->msg[0] = 0;
	while (next(&p)) {
		int kw = then ? 0 : keyword(p.tok);
		if (kw || !strcmp(p.tok, "then")) {
			if (!value_seen) {
				fs_errf(err, "column %zu: %s has no value", p.col, fs_type_name(type));
				return false;
			}
		}
		if (!then && !strcmp(p.tok, "then")) {
			if (!a)
				return bad(&p, "actions are not taken here");
			then = true;
			continue;
		}
		if (then) {
			if (!parse_action(&p, a))
				return false;
			continue;
		}
		if (kw) {
			if (fs_rule_has(r, kw))
				return bad(&p, "component given twice");
			type = kw;
			value_seen = false;
			if (!strcmp(p.tok, "next-header")) {
				if (afi == FS_AFI_IPV4)
					return bad(&p, "mixes IPv4 and IPv6 in one rule");
				afi = FS_AFI_IPV6;
			}
			if (kw == FS_DST || kw == FS_SRC) {
				if (!next(&p))
					return bad(&p, "needs a prefix");
				if (!parse_prefix(&p, r, kw, &afi))
					return false;
				value_seen = true;
			}
			continue;
		}
		if (!type && (!strcmp(p.tok, "flow") || !strcmp(p.tok, "route") ||
			      !strcmp(p.tok, "match")))
			continue;
		/* a rule without a prefix names its family (ExaBGP: flow route in an ipv6 block) */
		if (!type && !afi && (!strcmp(p.tok, "ipv4") || !strcmp(p.tok, "ipv6"))) {
			afi = p.tok[3] == '6' ? FS_AFI_IPV6 : FS_AFI_IPV4;
			continue;
		}
		if (!type || type == FS_DST || type == FS_SRC)
			return bad(&p, "unknown keyword");
		if (!parse_value(&p, r, type))
			return false;
		value_seen = true;
	}
	if (err && err->msg[0])
		return false; /* next() failed on an over-long token */
	if (!value_seen) {
		fs_errf(err, "%s has no value", fs_type_name(type));
		return false;
	}
	if (then && a && !a->present && !a->n_comm && !a->n_ext) {
		fs_errf(err, "'then' without an action");
		return false;
	}
	/* No prefix: the family follows from IPv6-only components. */
	if (!afi)
		afi = fs_rule_has(r, FS_FLOW_LABEL) ? FS_AFI_IPV6 : FS_AFI_IPV4;
	r->afi = (uint8_t)afi;
	if (!fs_rule_check(r, err))
		return false;
	return true;
}

/* ---- format ---- */

struct out {
	char *buf;
	size_t cap, len;
	bool err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->err = true;
	else
		o->len += (size_t)n;
}

static void put_value(struct out *o, int type, uint32_t v)
{
	const struct name *tab = names_of(type);
	if (tab && !fs_type_is_bitmask(type)) {
		for (const struct name *m = tab; m->s; m++)
			if (m->v == v) {
				put(o, "%s", m->s);
				return;
			}
	} else if (tab && v) {
		/* flag names joined by '+', when every bit has one */
		uint32_t left = v;
		for (const struct name *m = tab; m->s; m++)
			left &= ~m->v;
		if (!left) {
			const char *sep = "";
			for (const struct name *m = tab; m->s && v; m++)
				if (v & m->v) {
					put(o, "%s%s", sep, m->s);
					v &= ~m->v;
					sep = "+";
				}
			return;
		}
	}
	put(o, "%u", v);
}

static void put_prefix(struct out *o, const char *kw, const struct fs_prefix *fp)
{
	char b[IP_PREFIX_STRLEN];
	put(o, " %s %s", kw, ip_prefix_format(&fp->p, b));
	if (fp->offset)
		put(o, "/%u", fp->offset);
}

bool fs_text_format(const struct fs_rule *r, const struct fs_actions *a, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	if (!cap)
		return false;
	buf[0] = 0;
	if (r->afi == FS_AFI_IPV6 && !fs_rule_has(r, FS_DST) && !fs_rule_has(r, FS_SRC))
		put(&o, " ipv6");
	if (fs_rule_has(r, FS_DST))
		put_prefix(&o, "destination", &r->dst);
	if (fs_rule_has(r, FS_SRC))
		put_prefix(&o, "source", &r->src);
	for (int t = FS_PROTO; t <= FS_TYPE_MAX; t++) {
		if (!fs_rule_has(r, t))
			continue;
		const struct fs_list *l = &r->c[t];
		put(&o, " %s", t == FS_PROTO && r->afi == FS_AFI_IPV6 ? "next-header" : fs_type_name(t));
		for (unsigned i = 0; i < l->n; i++) {
			uint8_t op = l->t[i].op;
			put(&o, "%s", op & FS_OP_AND ? "&" : " ");
			if (fs_type_is_bitmask(t)) {
				static const char *bops[] = {"", "=", "!", "!="};
				put(&o, "%s", bops[op & 3]);
			} else {
				static const char *nops[] = {"false", "=", ">", ">=", "<", "<=", "!=", "true"};
				put(&o, "%s", nops[op & 7]);
			}
			put_value(&o, t, l->t[i].value);
		}
	}
	if (a && (a->present || a->n_comm || a->n_ext)) {
		put(&o, " then");
		if (a->present & FS_ACT_RATE) {
			if (a->rate == 0)
				put(&o, " discard");
			else
				put(&o, " rate-limit %.9g", (double)a->rate);
		}
		if (a->present & FS_ACT_RATE_PKTS)
			put(&o, " rate-limit-packets %.9g", (double)a->rate_pkts);
		if (a->present & FS_ACT_ACTION) {
			static const char *acts[] = {"none", "terminal", "sample", "sample-terminal"};
			put(&o, " action %s", acts[a->action & 3]);
		}
		if (a->present & FS_ACT_REDIRECT) {
			if (a->rt_form == FS_RT_IPV4) {
				ip_addr ip;
				char b[IP_STRLEN];
				ip_from_v4_u32(&ip, a->rt_global);
				put(&o, " redirect %s:%u", ip_format(&ip, b), a->rt_local);
			} else {
				put(&o, " redirect %u%s:%u", a->rt_global,
				    a->rt_form == FS_RT_AS4 ? "L" : "", a->rt_local);
			}
		}
		if (a->present & FS_ACT_MARK)
			put(&o, " mark %u", a->dscp);
		if (a->present & FS_ACT_REDIRECT_IP) {
			ip_addr ip;
			char b[IP_STRLEN];
			ip_from_v4_u32(&ip, a->redirect_ip);
			put(&o, " %s-to-nexthop-ietf %s", a->redirect_copy ? "copy" : "redirect", ip_format(&ip, b));
		}
		if (a->present & FS_ACT_REDIRECT_IP6) {
			ip_addr ip;
			char b[IP_STRLEN];
			ip_from_v6(&ip, a->redirect_ip6);
			put(&o, " %s-to-nexthop-ietf %s", a->redirect6_copy ? "copy" : "redirect", ip_format(&ip, b));
		}
		if (a->present & FS_ACT_REDIRECT6) {
			ip_addr ip;
			char b[IP_STRLEN];
			ip_from_v6(&ip, a->rt6_global);
			put(&o, " redirect [%s]:%u", ip_format(&ip, b), a->rt6_local);
		}
		if (a->present & FS_ACT_REDIRECT_NH) {
			char b[IP_STRLEN];
			put(&o, " %s %s", a->redirect_nh_copy ? "copy" : "redirect", ip_format(&a->redirect_nh, b));
		}
		if (a->n_comm) {
			put(&o, " community [");
			for (unsigned i = 0; i < a->n_comm && i < FS_EXTRA_MAX; i++)
				put(&o, "%s%u:%u", i ? " " : "", a->comm[i] >> 16, a->comm[i] & 0xffff);
			put(&o, "]");
		}
		if (a->n_ext) {
			put(&o, " extended-community [");
			for (unsigned i = 0; i < a->n_ext && i < FS_EXTRA_MAX; i++)
				put(&o, "%s0x%016llx", i ? " " : "", (unsigned long long)a->ext[i]);
			put(&o, "]");
		}
	}
	if (o.err)
		return false;
	/* drop the leading space */
	if (o.len && buf[0] == ' ')
		memmove(buf, buf + 1, o.len);
	return true;
}
