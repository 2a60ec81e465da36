/* RFC 7606 section by section: each case an UPDATE body written out in bytes, and the action the
 * decoder must take (session reset with its NOTIFICATION, treat-as-withdraw, attribute discard,
 * or nothing), with the prefixes it must count. docs/BGP.md has the same table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "bgp/msg.h"

/* the three well-known mandatory attributes of a 4-octet session and one /24 */
#define ORIGIN 0x40, 0x01, 0x01, 0x00
#define AS_PATH 0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xea /* SEQ [65002] */
#define NEXT_HOP 0x40, 0x03, 0x04, 10, 86, 0, 2
#define MANDATORY ORIGIN, AS_PATH, NEXT_HOP
#define NLRI 0x18, 198, 51, 100 /* 198.51.100.0/24 */

enum action { OK, TAW, DISCARD, RESET };

struct rcase {
	const char *name;
	enum action act;
	bool ebgp, as2;        /* an external peer; a 2-octet AS session */
	uint8_t attr;          /* the attribute the event names (TAW / DISCARD) */
	uint8_t code, subcode; /* RESET */
	uint32_t announced, withdrawn, discarded;
	const uint8_t *attrs;
	size_t alen;
	const uint8_t *nlri;
	size_t nlen;
	bool raw;              /* attrs is the whole body (the outer lengths themselves under test) */
};

#define A(...) .attrs = (const uint8_t[]){__VA_ARGS__}, .alen = sizeof((const uint8_t[]){__VA_ARGS__})
#define N1 .nlri = (const uint8_t[]){NLRI}, .nlen = 4
#define NL(...) .nlri = (const uint8_t[]){__VA_ARGS__}, .nlen = sizeof((const uint8_t[]){__VA_ARGS__})

static const struct rcase cases[] = {
	{"well-formed", OK, .announced = 1, A(MANDATORY), N1},
	/* 4: outer lengths past the message: session reset, Malformed Attribute List */
	{"4 withdrawn length past the message", RESET, .code = 3, .subcode = 1,
	 A(0x00, 0x30, 0x00, 0x00), .raw = true},
	{"4 total attribute length past the message", RESET, .code = 3, .subcode = 1,
	 A(0x00, 0x00, 0x00, 0x40, ORIGIN), .raw = true},
	/* 4: an attribute runs past the path attributes, or < 3 octets left: treat-as-withdraw */
	{"4 attribute length past the attributes", TAW, .attr = 8, .withdrawn = 1,
	 A(MANDATORY, 0xc0, 0x08, 0x40, 0xfd, 0xea), N1},
	{"4 two octets left for a header", TAW, .withdrawn = 1, A(MANDATORY, 0x40, 0x01), N1},
	{"4 three octets left with Extended Length", TAW, .withdrawn = 1,
	 A(MANDATORY, 0xd0, 0x08, 0x00), N1},
	/* 3(c): flags in conflict with the type */
	{"3(c) ORIGIN optional", TAW, .attr = 1, .withdrawn = 1,
	 A(0xc0, 0x01, 0x01, 0x00, AS_PATH, NEXT_HOP), N1},
	{"3(c) MED transitive", TAW, .attr = 4, .withdrawn = 1,
	 A(MANDATORY, 0xc0, 0x04, 0x04, 0, 0, 0, 1), N1},
	{"3(c) COMMUNITIES non-transitive", TAW, .attr = 8, .withdrawn = 1,
	 A(MANDATORY, 0x80, 0x08, 0x04, 0xff, 0xff, 0x02, 0x9a), N1},
	{"3(c) AS4_PATH flags: discard (RFC 6793)", DISCARD, .as2 = true, .attr = 17, .announced = 1,
	 .discarded = 1,
	 A(ORIGIN, 0x40, 0x02, 0x04, 0x02, 0x01, 0xfd, 0xea, NEXT_HOP, 0x40, 0x11, 0x06, 0x02, 0x01, 0, 0, 0xfd, 0xea), N1},
	/* 3(d): missing well-known mandatory attribute */
	{"3(d) ORIGIN missing", TAW, .withdrawn = 1, A(AS_PATH, NEXT_HOP), N1},
	{"3(d) AS_PATH missing with MP_REACH", TAW, .withdrawn = 1,
	 A(ORIGIN, 0x80, 0x0e, 0x1a, 0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x20, 0x20, 0x01, 0x0d, 0xb8)},
	{"3(d) no NEXT_HOP needed for MP_REACH alone", OK, .announced = 1,
	 A(ORIGIN, AS_PATH, 0x80, 0x0e, 0x1a, 0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x20, 0x20, 0x01, 0x0d, 0xb8)},
	/* 3(g): repeated attributes */
	{"3(g) ORIGIN twice: the second discarded", DISCARD, .attr = 1, .announced = 1, .discarded = 1,
	 A(MANDATORY, 0x40, 0x01, 0x01, 0x07), N1},
	{"3(g) MP_REACH twice: session reset 3/1", RESET, .code = 3, .subcode = 1,
	 A(MANDATORY, 0x80, 0x0e, 0x05, 0, 2, 128, 0, 0, 0x80, 0x0e, 0x05, 0, 2, 128, 0, 0), N1},
	{"3(g) MP_UNREACH twice: session reset 3/1", RESET, .code = 3, .subcode = 1,
	 A(0x80, 0x0f, 3, 0, 2, 1, 0x80, 0x0f, 3, 0, 2, 1)},
	/* 3(j), 5.3: NLRI that cannot be read cannot be withdrawn: session reset */
	{"5.3 NLRI prefix length 33", RESET, .code = 3, .subcode = 10,
	 A(MANDATORY), NL(33, 1, 2, 3, 4, 5)},
	{"5.3 NLRI prefix past the message", RESET, .code = 3, .subcode = 10,
	 A(MANDATORY), NL(0x18, 198, 51)},
	{"5.3 withdrawn prefix length 33", RESET, .code = 3, .subcode = 10,
	 A(0x00, 0x05, 33, 1, 2, 3, 4, 0x00, 0x00), .raw = true},
	{"5.1 malformed attribute and bad NLRI: reset wins", RESET, .code = 3, .subcode = 10,
	 A(0x40, 0x01, 0x01, 0x07, AS_PATH, NEXT_HOP), NL(40, 1)},
	/* 5.2: attributes but no NLRI */
	{"5.2 attributes without NLRI", TAW, .withdrawn = 0, A(MANDATORY)},
	/* 7.1 ORIGIN */
	{"7.1 ORIGIN length 2", TAW, .attr = 1, .withdrawn = 1, A(0x40, 0x01, 0x02, 0, 0, AS_PATH, NEXT_HOP), N1},
	{"7.1 ORIGIN value 3", TAW, .attr = 1, .withdrawn = 1, A(0x40, 0x01, 0x01, 3, AS_PATH, NEXT_HOP), N1},
	{"7.1 ORIGIN length 0", TAW, .attr = 1, .withdrawn = 1, A(0x40, 0x01, 0x00, AS_PATH, NEXT_HOP), N1},
	/* 7.2 AS_PATH */
	{"7.2 AS_PATH segment type 5", TAW, .attr = 2, .withdrawn = 1,
	 A(ORIGIN, 0x40, 0x02, 0x06, 0x05, 0x01, 0, 0, 0xfd, 0xea, NEXT_HOP), N1},
	{"7.2 AS_PATH segment overrun", TAW, .attr = 2, .withdrawn = 1,
	 A(ORIGIN, 0x40, 0x02, 0x06, 0x02, 0x02, 0, 0, 0xfd, 0xea, NEXT_HOP), N1},
	{"7.2 AS_PATH one octet left over", TAW, .attr = 2, .withdrawn = 1,
	 A(ORIGIN, 0x40, 0x02, 0x07, 0x02, 0x01, 0, 0, 0xfd, 0xea, 0x02, NEXT_HOP), N1},
	{"7.2 AS_PATH zero-length segment", TAW, .attr = 2, .withdrawn = 1,
	 A(ORIGIN, 0x40, 0x02, 0x02, 0x02, 0x00, NEXT_HOP), N1},
	{"7.2 AS_PATH empty (length 0) is valid", OK, .announced = 1, A(ORIGIN, 0x40, 0x02, 0x00, NEXT_HOP), N1},
	{"7.2 AS_PATH confederation from an external peer", TAW, .ebgp = true, .attr = 2, .withdrawn = 1,
	 A(ORIGIN, 0x40, 0x02, 0x06, 0x03, 0x01, 0, 0, 0xfd, 0xea, NEXT_HOP), N1},
	{"7.2 AS_PATH confederation from an internal peer", OK, .announced = 1,
	 A(ORIGIN, 0x40, 0x02, 0x06, 0x03, 0x01, 0, 0, 0xfd, 0xea, NEXT_HOP), N1},
	{"RFC 7607 AS_PATH with AS 0", TAW, .attr = 2, .withdrawn = 1,
	 A(ORIGIN, 0x40, 0x02, 0x06, 0x02, 0x01, 0, 0, 0, 0, NEXT_HOP), N1},
	/* 7.3 NEXT_HOP */
	{"7.3 NEXT_HOP length 5", TAW, .attr = 3, .withdrawn = 1, A(ORIGIN, AS_PATH, 0x40, 0x03, 0x05, 10, 86, 0, 2, 0), N1},
	{"7.3 NEXT_HOP 0.0.0.0", TAW, .attr = 3, .withdrawn = 1, A(ORIGIN, AS_PATH, 0x40, 0x03, 0x04, 0, 0, 0, 0), N1},
	{"7.3 NEXT_HOP multicast", TAW, .attr = 3, .withdrawn = 1, A(ORIGIN, AS_PATH, 0x40, 0x03, 0x04, 224, 0, 0, 5), N1},
	{"7.3 NEXT_HOP loopback", TAW, .attr = 3, .withdrawn = 1, A(ORIGIN, AS_PATH, 0x40, 0x03, 0x04, 127, 0, 0, 1), N1},
	/* 7.4 MULTI_EXIT_DISC */
	{"7.4 MED length 3", TAW, .attr = 4, .withdrawn = 1, A(MANDATORY, 0x80, 0x04, 0x03, 0, 0, 1), N1},
	/* 7.5 LOCAL_PREF */
	{"7.5 LOCAL_PREF length 2 from an internal peer", TAW, .attr = 5, .withdrawn = 1,
	 A(MANDATORY, 0x40, 0x05, 0x02, 0, 100), N1},
	{"7.5 LOCAL_PREF from an external peer: discarded", DISCARD, .ebgp = true, .attr = 5, .announced = 1,
	 .discarded = 1, A(MANDATORY, 0x40, 0x05, 0x02, 0, 100), N1},
	/* 7.6 ATOMIC_AGGREGATE */
	{"7.6 ATOMIC_AGGREGATE length 1", DISCARD, .attr = 6, .announced = 1, .discarded = 1,
	 A(MANDATORY, 0x40, 0x06, 0x01, 0), N1},
	/* 7.7 AGGREGATOR */
	{"7.7 AGGREGATOR length 6 on a 4-octet session", DISCARD, .attr = 7, .announced = 1, .discarded = 1,
	 A(MANDATORY, 0xc0, 0x07, 0x06, 0xfd, 0xea, 10, 86, 0, 2), N1},
	{"7.7 AGGREGATOR length 6 on a 2-octet session is valid", OK, .as2 = true, .announced = 1,
	 A(ORIGIN, 0x40, 0x02, 0x04, 0x02, 0x01, 0xfd, 0xea, NEXT_HOP, 0xc0, 0x07, 0x06, 0xfd, 0xea, 10, 86, 0, 2), N1},
	{"RFC 7607 AGGREGATOR AS 0", DISCARD, .attr = 7, .announced = 1, .discarded = 1,
	 A(MANDATORY, 0xc0, 0x07, 0x08, 0, 0, 0, 0, 10, 86, 0, 2), N1},
	/* 7.8 COMMUNITIES */
	{"7.8 COMMUNITIES length 6", TAW, .attr = 8, .withdrawn = 1,
	 A(MANDATORY, 0xc0, 0x08, 0x06, 0xfd, 0xea, 0x02, 0x9a, 0, 0), N1},
	{"7.8 COMMUNITIES length 0", TAW, .attr = 8, .withdrawn = 1, A(MANDATORY, 0xc0, 0x08, 0x00), N1},
	/* 7.9 ORIGINATOR_ID, 7.10 CLUSTER_LIST */
	{"7.9 ORIGINATOR_ID length 3 from an internal peer", TAW, .attr = 9, .withdrawn = 1,
	 A(MANDATORY, 0x80, 0x09, 0x03, 10, 86, 0), N1},
	{"7.9 ORIGINATOR_ID from an external peer: discarded", DISCARD, .ebgp = true, .attr = 9, .announced = 1,
	 .discarded = 1, A(MANDATORY, 0x80, 0x09, 0x04, 10, 86, 0, 2), N1},
	{"7.10 CLUSTER_LIST length 6 from an internal peer", TAW, .attr = 10, .withdrawn = 1,
	 A(MANDATORY, 0x80, 0x0a, 0x06, 10, 86, 0, 2, 0, 0), N1},
	{"7.10 CLUSTER_LIST from an external peer: discarded", DISCARD, .ebgp = true, .attr = 10,
	 .announced = 1, .discarded = 1, A(MANDATORY, 0x80, 0x0a, 0x04, 10, 86, 0, 2), N1},
	/* 7.11 MP_REACH_NLRI, 7.12 MP_UNREACH_NLRI: what cannot be located is a session reset 3/9 */
	{"7.11 MP_REACH next hop length 4 for IPv6", RESET, .code = 3, .subcode = 9,
	 A(ORIGIN, AS_PATH, 0x80, 0x0e, 0x0c, 0, 2, 1, 4, 10, 86, 0, 2, 0, 0x10, 0x20, 0x01)},
	{"7.11 MP_REACH next hop past the attribute", RESET, .code = 3, .subcode = 9,
	 A(ORIGIN, AS_PATH, 0x80, 0x0e, 0x05, 0, 2, 1, 16, 0x20)},
	{"7.11 MP_REACH shorter than AFI/SAFI", RESET, .code = 3, .subcode = 9,
	 A(ORIGIN, AS_PATH, 0x80, 0x0e, 0x02, 0, 2)},
	{"7.11 MP_REACH prefix of 129 bits", RESET, .code = 3, .subcode = 9,
	 A(ORIGIN, AS_PATH, 0x80, 0x0e, 0x1b, 0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 129, 0x20, 0x01, 0x0d, 0xb8, 0)},
	{"7.11 MP_REACH with a malformed COMMUNITIES: its NLRI withdrawn", TAW, .attr = 8, .withdrawn = 1,
	 A(ORIGIN, AS_PATH, 0xc0, 0x08, 0x03, 1, 2, 3, 0x80, 0x0e, 0x1a, 0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x20, 0x20, 0x01, 0x0d, 0xb8)},
	{"7.12 MP_UNREACH prefix past the attribute", RESET, .code = 3, .subcode = 9,
	 A(0x80, 0x0f, 0x05, 0, 2, 1, 0x40, 0x20)},
	{"7.12 MP_UNREACH flags wrong: still withdraws", TAW, .attr = 15, .withdrawn = 1,
	 A(0xc0, 0x0f, 0x08, 0, 2, 1, 0x20, 0x20, 0x01, 0x0d, 0xb8)},
	{"End-of-RIB IPv6 (MP_UNREACH alone, empty)", OK, A(0x80, 0x0f, 0x03, 0, 2, 1)},
	/* 7.14 extended communities, RFC 5701, RFC 8092 */
	{"7.14 EXTENDED_COMMUNITIES length 7", TAW, .attr = 16, .withdrawn = 1,
	 A(MANDATORY, 0xc0, 0x10, 0x07, 0x80, 0x06, 0, 0, 0, 0, 0), N1},
	{"7.14 EXTENDED_COMMUNITIES length 0", TAW, .attr = 16, .withdrawn = 1, A(MANDATORY, 0xc0, 0x10, 0x00), N1},
	{"7.15 IPV6_EXTENDED_COMMUNITIES length 19", TAW, .attr = 25, .withdrawn = 1,
	 A(MANDATORY, 0xc0, 0x19, 0x13, 0x00, 0x0c, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20),
	 N1},
	{"RFC 8092 LARGE_COMMUNITY length 11", TAW, .attr = 32, .withdrawn = 1,
	 A(MANDATORY, 0xc0, 0x20, 0x0b, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 0, 0, 0), N1},
	{"RFC 8092 LARGE_COMMUNITY length 12 is valid", OK, .announced = 1,
	 A(MANDATORY, 0xc0, 0x20, 0x0c, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 0, 0, 0, 2), N1},
	/* RFC 6793 6: AS4_PATH and AS4_AGGREGATOR are discarded, never more */
	{"RFC 6793 malformed AS4_PATH", DISCARD, .as2 = true, .attr = 17, .announced = 1, .discarded = 1,
	 A(ORIGIN, 0x40, 0x02, 0x04, 0x02, 0x01, 0xfd, 0xea, NEXT_HOP, 0xc0, 0x11, 0x05, 0x02, 0x01, 0, 0, 0xfd), N1},
	{"RFC 6793 AS4_PATH on a 4-octet session", DISCARD, .attr = 17, .announced = 1, .discarded = 1,
	 A(MANDATORY, 0xc0, 0x11, 0x06, 0x02, 0x01, 0, 0, 0xfd, 0xea), N1},
	{"RFC 6793 AS4_AGGREGATOR length 6", DISCARD, .as2 = true, .attr = 18, .announced = 1, .discarded = 1,
	 A(ORIGIN, 0x40, 0x02, 0x04, 0x02, 0x01, 0xfd, 0xea, NEXT_HOP, 0xc0, 0x12, 0x06, 0, 0, 0xfd, 0xea, 10, 86), N1},
	/* unknown optional attributes pass untouched */
	{"unknown optional transitive attribute", OK, .announced = 1, A(MANDATORY, 0xc0, 0x63, 0x02, 1, 2), N1},
};

static size_t body_of(const struct rcase *c, uint8_t *b)
{
	if (c->raw) {
		memcpy(b, c->attrs, c->alen);
		return c->alen;
	}
	size_t n = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = (uint8_t)(c->alen >> 8);
	b[n++] = (uint8_t)c->alen;
	memcpy(b + n, c->attrs, c->alen);
	n += c->alen;
	if (c->nlen)
		memcpy(b + n, c->nlri, c->nlen);
	return n + c->nlen;
}

static void test_rfc7606_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rcase *c = &cases[i];
		uint8_t b[512];
		size_t n = body_of(c, b);
		struct bgp_update_ctx ctx = {.as4 = !c->as2, .ebgp = c->ebgp};
		struct bgp_update_info u;
		struct bgp_msg_err e = {0};
		int r = bgp_msg_update_decode_ctx(b, n, &ctx, &u, &e);
		print_message("%s\n", c->name);
		if (c->act == RESET) {
			assert_int_equal(r, -1);
			assert_int_equal(e.code, c->code);
			assert_int_equal(e.subcode, c->subcode);
			assert_non_null(e.reason);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(u.treat_as_withdraw, c->act == TAW);
		assert_int_equal(u.announced, c->announced);
		assert_int_equal(u.withdrawn, c->withdrawn);
		assert_int_equal(u.attrs_discarded, c->discarded);
		if (c->act == TAW) {
			assert_non_null(u.taw_reason);
			if (c->attr)
				assert_int_equal(u.taw_attr, c->attr);
		}
		if (c->act == DISCARD) {
			assert_non_null(u.discard_reason);
			assert_int_equal(u.discard_attr, c->attr);
		}
	}
}

/* RFC 7313 5: ROUTE-REFRESH of the wrong length is 7/1; an unknown subtype is ignored */
static void test_route_refresh_length(void **state)
{
	(void)state;
	uint16_t afi;
	uint8_t safi, sub;
	struct bgp_msg_err e;
	const uint8_t five[] = {0, 1, 0, 1, 0};
	assert_int_equal(bgp_msg_route_refresh_decode_sub(five, 5, &afi, &safi, &sub, &e), -1);
	assert_int_equal(e.code, BGP_ERR_ROUTE_REFRESH);
	assert_int_equal(e.subcode, BGP_ERR_RR_LEN);
	assert_int_equal(bgp_msg_route_refresh_decode_sub(five, 2, &afi, &safi, &sub, &e), -1);
	assert_int_equal(e.code, BGP_ERR_ROUTE_REFRESH);
	const uint8_t borr5[] = {0, 1, 1, 1, 0};
	assert_int_equal(bgp_msg_route_refresh_decode_sub(borr5, 5, &afi, &safi, &sub, &e), -1);
	const uint8_t unknown[] = {0, 1, 9, 1, 0, 0};
	assert_int_equal(bgp_msg_route_refresh_decode_sub(unknown, 6, &afi, &safi, &sub, &e), 0);
	assert_int_equal(sub, 9);
	assert_int_equal(bgp_msg_route_refresh_decode_sub(five, 4, &afi, &safi, &sub, &e), 0);
	assert_int_equal(afi, 1);
	assert_int_equal(safi, 1);
	/* the header no longer refuses it first: the 24-octet message reaches the decoder */
	uint8_t h[BGP_HDR_LEN];
	memset(h, 0xff, 16);
	h[16] = 0;
	h[17] = 24;
	h[18] = BGP_MSG_ROUTE_REFRESH;
	uint8_t type;
	uint16_t len;
	assert_int_equal(bgp_msg_header(h, &type, &len, &e), 0);
	assert_int_equal(len, 24);
	assert_string_equal(bgp_msg_err_name(BGP_ERR_ROUTE_REFRESH), "ROUTE-REFRESH Message Error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7606_cases),
		cmocka_unit_test(test_route_refresh_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
