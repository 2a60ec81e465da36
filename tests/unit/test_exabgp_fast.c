/* bgp/exabgp_fast.c: the parser's fast path takes the commonest lines and makes of them exactly
 * what bgp_exa_parse makes; it leaves every other line, errors included, to bgp_exa_parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/exabgp.h"

static struct bgp_exa_cmd fast, full;

static bool same(const struct bgp_exa_cmd *x, const struct bgp_exa_cmd *y)
{
	if (x->verb != y->verb || x->kind != y->kind || x->n_neighbors != y->n_neighbors || x->n_nlri != y->n_nlri ||
	    x->eor_afi != y->eor_afi || x->eor_safi != y->eor_safi)
		return false;
	for (size_t i = 0; i < x->n_nlri; i++)
		if (!ip_prefix_equal(&x->nlri[i], &y->nlri[i]))
			return false;
	return !memcmp(&x->a, &y->a, sizeof x->a);
}

/* taken by the fast path, and the same command as the full parser's */
static void taken(const char *line)
{
	struct bgp_exa_err err;
	memset(&fast, 0xA5, sizeof fast); /* nothing left over from the last line may pass */
	if (!bgp_exa_parse_fast(line, &fast))
		fail_msg("fast path did not take '%s'", line);
	if (!bgp_exa_parse(line, &full, &err))
		fail_msg("'%s': fast path took it, the parser refuses it: %s", line, err.msg);
	if (!same(&fast, &full))
		fail_msg("'%s': fast path and parser differ", line);
	ip_prefix hint;
	if (!bgp_exa_route_prefix(line, &hint) || !ip_prefix_equal(&hint, &fast.nlri[0]))
		fail_msg("'%s': the prefetch hint is not the route's prefix", line);
}

static void left(const char *line)
{
	if (bgp_exa_parse_fast(line, &fast))
		fail_msg("fast path took '%s'", line);
}

static void test_taken(void **state)
{
	(void)state;
	taken("announce route 100.65.0.1/32 next-hop 10.79.0.1 community [65535:666 no-export]");
	assert_int_equal(fast.verb, BGP_EXA_ANNOUNCE);
	assert_int_equal(fast.kind, BGP_EXA_ROUTE);
	assert_int_equal(fast.n_nlri, 1);
	assert_int_equal(ip_v4_u32(&fast.nlri[0].addr), 0x64410001u);
	assert_int_equal(fast.nlri[0].len, 32);
	assert_true(fast.a.has_next_hop);
	assert_int_equal(ip_v4_u32(&fast.a.attrs.next_hop), 0x0A4F0001u);
	assert_int_equal(fast.a.attrs.n_communities, 2);
	assert_int_equal(fast.a.attrs.communities[0], BGP_COMMUNITY_BLACKHOLE);
	assert_int_equal(fast.a.attrs.communities[1], BGP_COMMUNITY_NO_EXPORT);

	taken("withdraw route 100.65.0.1/32");
	assert_int_equal(fast.verb, BGP_EXA_WITHDRAW);
	assert_int_equal(fast.a.attrs.n_communities, 0);
	assert_false(fast.a.has_next_hop);

	/* FastNetMon's line, a bare community, a host without /32, the attributes the other way round
	 * and repeated, every community name, plain numbers, a repeat sent once */
	taken("announce route 192.0.2.10/32 next-hop 10.0.0.1 community 65001:666");
	taken("announce route 192.0.2.10 next-hop 10.0.0.1");
	assert_int_equal(fast.nlri[0].len, 32);
	taken("announce route 192.0.2.0/24 community [blackhole] next-hop 10.0.0.1 next-hop 10.0.0.2");
	assert_int_equal(ip_v4_u32(&fast.a.attrs.next_hop), 0x0A000002u);
	taken("announce route 0.0.0.0/0 next-hop 255.255.255.255 community [no-export no-advertise "
	      "no-export-subconfed nopeer blackhole graceful-shutdown accept-own]");
	assert_int_equal(fast.a.attrs.n_communities, 7);
	taken("announce route 10.0.0.0/8 next-hop 1.2.3.4 community [ 0 4294967295 0:0 65535:65535 ]");
	taken("announce route 10.0.0.0/8 next-hop 1.2.3.4 community [1:1 1:1] community 1:1 community [2:2]");
	assert_int_equal(fast.a.attrs.n_communities, 2);
	taken("announce route 10.0.0.1/32");
	taken("withdraw route 10.0.0.0/8 next-hop 1.1.1.1 community 1:1");
}

static void test_left(void **state)
{
	(void)state;
	/* what the full parser reads differently or refuses, each with its reason there */
	const char *const lines[] = {
		"announce route 10.0.0.1/31 next-hop 1.2.3.4",          /* host bits */
		"announce route 10.0.0.0/33 next-hop 1.2.3.4",
		"announce route 10.0.0.0/032 next-hop 1.2.3.4",         /* the parser reads it; rare */
		"announce route 010.0.0.1/32 next-hop 1.2.3.4",
		"announce route 256.0.0.1/32 next-hop 1.2.3.4",
		"announce route 10.0.0.1/32 next-hop 0.0.0.0",
		"announce route 10.0.0.1/32 next-hop self",
		"announce route 10.0.0.1/32 next-hop 1.2.3",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community []",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [65536:1]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [1:65536]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [4294967296]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [0x10]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [no-exports]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [1:1,2:2]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [1:1",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community 1:1]",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 community [1:1]x",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 med 10",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 ",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4;",
		"announce route 10.0.0.1/32  next-hop 1.2.3.4",
		"announce route 10.0.0.1/32\tnext-hop 1.2.3.4",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4\n",
		"announce route 2001:db8::1/128 next-hop 2001:db8::2",
		"announce route 10.0.0.1/32 next-hop 2001:db8::2",
		"announce ipv4 unicast 10.0.0.1/32 next-hop 1.2.3.4",
		"neighbor 10.0.0.2 announce route 10.0.0.1/32 next-hop 1.2.3.4",
		"announce route 10.0.0.1/32 next-hop 1.2.3.4 withdraw",
		"announce routes 10.0.0.1/32",
		"announcement route 10.0.0.1/32",
		"withdraw route",
		"withdraw route ",
		" withdraw route 10.0.0.1/32",
		"announce flow route { match { destination 10.0.0.1/32; } then { discard; } }",
		"",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		left(lines[i]);
	/* more communities than the speaker carries: the parser's error, not a truncation */
	char line[1024] = "announce route 10.0.0.1/32 community [";
	for (int i = 0; i <= BGP_MAX_COMMUNITIES; i++)
		sprintf(line + strlen(line), "%d ", i);
	strcat(line, "]");
	left(line);
	/* longer than the parser takes, with nothing but repeats */
	char *big = malloc(BGP_EXA_LINE_MAX + 64);
	strcpy(big, "announce route 10.0.0.1/32 community [");
	while (strlen(big) < BGP_EXA_LINE_MAX)
		strcat(big, "1:1 ");
	strcat(big, "]");
	left(big);
	free(big);
}

/* Every line one edit away from the taken ones (a byte replaced, removed or doubled): where the
 * fast path takes one, the parser must make the same of it. */
static void test_edits_agree(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"announce route 100.65.0.1/32 next-hop 10.79.0.1 community [65535:666 no-export]",
		"withdraw route 100.65.255.1/32",
		"announce route 192.0.2.0/24 next-hop 192.0.2.1 community 65535:666",
	};
	static const char subst[] = " []/.:0123456789-abnx,;\t";
	size_t tried = 0, agreed = 0;
	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		size_t n = strlen(seeds[s]);
		for (size_t i = 0; i <= n; i++)
			for (size_t k = 0; k < sizeof subst + 1; k++) {
				char line[256];
				memcpy(line, seeds[s], i);
				if (k < sizeof subst - 1) { /* replace byte i */
					if (i == n)
						continue;
					line[i] = subst[k];
					strcpy(line + i + 1, seeds[s] + i + 1);
				} else if (k == sizeof subst - 1) { /* remove it */
					strcpy(line + i, seeds[s] + i + (i < n));
				} else { /* double it */
					line[i] = seeds[s][i];
					strcpy(line + i + 1, seeds[s] + i);
				}
				tried++;
				if (!bgp_exa_parse_fast(line, &fast))
					continue;
				struct bgp_exa_err err;
				if (!bgp_exa_parse(line, &full, &err))
					fail_msg("'%s': fast path took it, the parser refuses it: %s", line, err.msg);
				if (!same(&fast, &full))
					fail_msg("'%s': fast path and parser differ", line);
				agreed++;
			}
	}
	/* the edits keep a good share of lines valid (digits for digits): the check is not empty */
	assert_true(agreed > tried / 10);
}

/* bgp_exa_route_prefix reads the head only: the prefix it gives, or none, byte for byte */
static void test_route_prefix(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *prefix; /* NULL: no hint */
	} v[] = {
		{"withdraw route 100.65.0.1/32", "100.65.0.1/32"},
		{"withdraw route 100.65.0.1", "100.65.0.1/32"},
		{"announce route 10.0.0.0/8 next-hop 1.2.3.4", "10.0.0.0/8"},
		{"announce route 10.0.0.0/8 whatever the parsers refuse", "10.0.0.0/8"}, /* a hint only */
		{"announce route 10.0.0.1/8", NULL},    /* host bits */
		{"announce route 10.0.0.0/33", NULL},
		{"announce route 010.0.0.0/8", NULL},   /* a leading zero */
		{"announce route 10.0.0/8", NULL},
		{"announce route 10.0.0.0/8x", NULL},
		{"announce  route 10.0.0.0/8", NULL},
		{"announce flow route 10.0.0.0/8", NULL},
		{"neighbor 10.0.0.1 announce route 10.0.0.0/8", NULL},
		{"announce route 2001:db8::/32", NULL}, /* IPv6: the full parser's, no hint */
		{"withdraw route ", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		ip_prefix got, want;
		bool ok = bgp_exa_route_prefix(v[i].line, &got);
		if (!v[i].prefix) {
			if (ok)
				fail_msg("'%s': a hint where there is none", v[i].line);
			continue;
		}
		assert_true(ip_prefix_parse(v[i].prefix, &want));
		if (!ok || !ip_prefix_equal(&got, &want))
			fail_msg("'%s': hint is not %s", v[i].line, v[i].prefix);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taken),
		cmocka_unit_test(test_left),
		cmocka_unit_test(test_edits_agree),
		cmocka_unit_test(test_route_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
