/* FlowSpec's IPv6 actions: redirect to an IPv6 next hop (0x000c, draft-ietf-idr-flowspec-redirect)
 * and rt-redirect-ipv6 (0x000d, RFC 8956 6.1), both IPv6-address-specific extended communities
 * (RFC 5701: 20 octets, path attribute 25). The codec, the text form in Rampart's and ExaBGP's
 * spellings, and attribute 25 in the UPDATE path: what we send, and what a malformed one from a
 * peer does (RFC 7606 7.14: treat-as-withdraw, the session stays).
 *
 * Expected bytes are written from the documents, not from the encoder:
 *   RFC 5701 2:  Type(1) Sub-Type(1) Global Administrator(16, IPv6) Local Administrator(2)
 *   draft-ietf-idr-flowspec-redirect 3.2: Type 0x00 (transitive IPv6-address-specific),
 *     Sub-Type 0x0c, Global = the redirect address, Local = flags, C (copy) = the low bit
 *   RFC 8956 6.1: rt-redirect-ipv6, "Type value always 0x000d", Global = IPv6 address,
 *     Local = 2-octet value */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "bgp/flow_rib.h"
#include "bgp/msg.h"
#include "conf/conf.h"
#include "flowspec/fs.h"

#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* 2001:db8::1 and 2001:db8:ff::2 */
#define A1 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
#define A2 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02

static void v6(uint8_t out[16], const char *s)
{
	ip_addr ip;
	assert_true(ip_parse(s, &ip));
	assert_false(ip_is_v4(&ip));
	memcpy(out, ip.b, 16);
}

/* encode6(a) is exactly want, and decode6(want) gives a back */
static void check6(const struct fs_actions *a, const uint8_t *want, size_t n)
{
	uint8_t out[64];
	struct wbuf w = wbuf_init(out, sizeof out);
	struct fs_err err = {{0}};
	if (!fs_actions_encode6(a, &w, &err))
		fail_msg("encode6: %s", err.msg);
	assert_int_equal(w.len, n);
	assert_memory_equal(out, want, n);
	struct fs_actions back = {0};
	if (!fs_actions_decode6(want, n, &back, &err))
		fail_msg("decode6: %s", err.msg);
	assert_true(fs_actions_equal(a, &back));
}

static void test_vectors(void **state)
{
	(void)state;
	struct fs_actions a = {.present = FS_ACT_REDIRECT_IP6};
	v6(a.redirect_ip6, "2001:db8::1");
	check6(&a, B(0x00, 0x0c, A1, 0x00, 0x00));
	a.redirect6_copy = true;
	check6(&a, B(0x00, 0x0c, A1, 0x00, 0x01));

	a = (struct fs_actions){.present = FS_ACT_REDIRECT6, .rt6_local = 100};
	v6(a.rt6_global, "2001:db8:ff::2");
	check6(&a, B(0x00, 0x0d, A2, 0x00, 0x64));

	/* both, in the order encode6 writes them */
	a.present |= FS_ACT_REDIRECT_IP6;
	v6(a.redirect_ip6, "2001:db8::1");
	check6(&a, B(0x00, 0x0c, A1, 0x00, 0x00, 0x00, 0x0d, A2, 0x00, 0x64));

	/* the 8-octet encoder leaves them out; nothing IPv6 writes nothing */
	uint8_t out[64];
	struct wbuf w = wbuf_init(out, sizeof out);
	struct fs_err err = {{0}};
	assert_true(fs_actions_encode(&a, &w, &err));
	assert_int_equal(w.len, 0);
	a = (struct fs_actions){.present = FS_ACT_RATE};
	assert_true(fs_actions_encode6(&a, &w, &err));
	assert_int_equal(w.len, 0);
}

static void test_decode6(void **state)
{
	(void)state;
	struct fs_actions a;
	struct fs_err err = {{0}};

	/* attribute 16 first, then 25: decode6 adds to what is there */
	assert_true(fs_actions_decode(B(0x80, 0x06, 0, 0, 0, 0, 0, 0), &a, &err));
	assert_true(fs_actions_decode6(B(0x00, 0x0d, A2, 0x12, 0x34), &a, &err));
	assert_int_equal(a.present, FS_ACT_RATE | FS_ACT_REDIRECT6);
	assert_int_equal(a.rt6_local, 0x1234);

	/* an IPv6 route target (0x0002) and an unknown sub-type ride along; first of a kind counts */
	memset(&a, 0, sizeof a);
	assert_true(fs_actions_decode6(B(0x00, 0x02, A1, 0, 1,
					 0x40, 0x77, A1, 0, 2,
					 0x00, 0x0c, A2, 0, 1,
					 0x00, 0x0c, A1, 0, 0), &a, &err));
	assert_int_equal(a.present, FS_ACT_REDIRECT_IP6);
	assert_memory_equal(a.redirect_ip6, ((const uint8_t[]){A2}), 16);
	assert_true(a.redirect6_copy);

	/* lengths that are not whole communities */
	static const size_t bad_len[] = {1, 8, 19, 21, 39, 41};
	uint8_t buf[64] = {0};
	for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
		memset(&a, 0, sizeof a);
		assert_false(fs_actions_decode6(buf, bad_len[i], &a, &err));
		assert_non_null(strstr(err.msg, "not a multiple of 20"));
	}
	assert_true(fs_actions_decode6(buf, 0, &a, &err));

	/* unknown flag bits; an IPv4-mapped target in an IPv6 action */
	assert_false(fs_actions_decode6(B(0x00, 0x0c, A1, 0x00, 0x02), &a, &err));
	assert_non_null(strstr(err.msg, "only copy"));
	memset(&a, 0, sizeof a);
	assert_false(fs_actions_decode6(B(0x00, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
					  0, 1), &a, &err));
	assert_non_null(strstr(err.msg, "IPv4-mapped"));
}

static void test_encode6_errors(void **state)
{
	(void)state;
	uint8_t out[64];
	struct wbuf w = wbuf_init(out, sizeof out);
	struct fs_err err = {{0}};
	struct fs_actions a = {.present = FS_ACT_REDIRECT_IP6};
	ip_addr ip;
	assert_true(ip_parse("192.0.2.1", &ip));
	memcpy(a.redirect_ip6, ip.b, 16);
	assert_false(fs_actions_encode6(&a, &w, &err));
	assert_non_null(strstr(err.msg, "0x010c"));
	a = (struct fs_actions){.present = FS_ACT_REDIRECT6};
	memcpy(a.rt6_global, ip.b, 16);
	assert_false(fs_actions_encode6(&a, &w, &err));
	assert_non_null(strstr(err.msg, "0x8108"));
	a = (struct fs_actions){.present = FS_ACTS_IPV6};
	v6(a.redirect_ip6, "2001:db8::1");
	v6(a.rt6_global, "2001:db8::1");
	w = wbuf_init(out, 30);
	assert_false(fs_actions_encode6(&a, &w, &err));
	assert_non_null(strstr(err.msg, "no room"));
}

/* parse(text) gives the actions, format gives canon, and canon parses back to the same */
static void check_text(const char *text, uint32_t present, const char *canon)
{
	struct fs_rule r, r2;
	struct fs_actions a, a2;
	struct fs_err err = {{0}};
	char buf[1024];
	if (!fs_text_parse(text, &r, &a, &err))
		fail_msg("parse '%s': %s", text, err.msg);
	assert_int_equal(a.present, present);
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, canon);
	if (!fs_text_parse(buf, &r2, &a2, &err))
		fail_msg("parse '%s': %s", buf, err.msg);
	assert_true(fs_rule_equal(&r, &r2));
	assert_true(fs_actions_equal(&a, &a2));
}

static void test_text(void **state)
{
	(void)state;
	/* ExaBGP's configuration / API spelling, pasted */
	check_text("flow route { match { destination 2001:db8:1::7/128; } then { redirect-to-nexthop-ietf 2001:db8::1; } }",
		   FS_ACT_REDIRECT_IP6, "destination 2001:db8:1::7/128 then redirect-to-nexthop-ietf 2001:db8::1");
	check_text("flow route { match { destination 2001:db8:1::7/128; } then { redirect [2001:db8:ff::2]:100; } }",
		   FS_ACT_REDIRECT6, "destination 2001:db8:1::7/128 then redirect [2001:db8:ff::2]:100");
	/* on IPv4 rules too, with the copy form and next to the IPv4 actions */
	check_text("destination 192.0.2.1/32; protocol udp then copy-to-nexthop-ietf 2001:DB8::1 discard",
		   FS_ACT_REDIRECT_IP6 | FS_ACT_RATE,
		   "destination 192.0.2.1/32 protocol =udp then discard copy-to-nexthop-ietf 2001:db8::1");
	check_text("destination 192.0.2.1/32 then redirect 65001:7 redirect [2001:db8:ff::2]:65535 "
		   "redirect-to-nexthop-ietf 10.0.0.1 redirect-to-nexthop-ietf 2001:db8::1",
		   FS_ACT_REDIRECT | FS_ACT_REDIRECT6 | FS_ACT_REDIRECT_IP | FS_ACT_REDIRECT_IP6,
		   "destination 192.0.2.1/32 then redirect 65001:7 redirect-to-nexthop-ietf 10.0.0.1 "
		   "redirect-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:65535");
	/* brackets that only separate still do */
	check_text("destination 192.0.2.1/32 then [ redirect [ 65001:100 ] ]", FS_ACT_REDIRECT,
		   "destination 192.0.2.1/32 then redirect 65001:100");

	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err = {{0}};
	assert_true(fs_text_parse("destination 192.0.2.1/32 then redirect [2001:db8::2]:100", &r, &a, &err));
	assert_memory_equal(a.rt6_global, ((const uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
							      0, 2}), 16);
	assert_int_equal(a.rt6_local, 100);

	static const struct {
		const char *in, *msg;
	} bad[] = {
		{"destination 192.0.2.1/32 then redirect 2001:db8::2:100", "[IPv6]:N"},
		{"destination 192.0.2.1/32 then redirect [192.0.2.9]:100", "needs an IPv6 address"},
		{"destination 192.0.2.1/32 then redirect [::ffff:192.0.2.9]:100", "needs an IPv6 address"},
		{"destination 192.0.2.1/32 then redirect [2001:db8::2]:65536", "0..65535"},
		{"destination 192.0.2.1/32 then redirect [2001:db8::2]:", "0..65535"},
		{"destination 192.0.2.1/32 then redirect []:5", "[IPv6]:N"},
		{"destination 192.0.2.1/32 then redirect [2001:db8::zz]:5", "needs an IPv6 address"},
		{"destination 192.0.2.1/32 then redirect [2001:db8::2]:1 redirect [2001:db8::3]:1", "given twice"},
		{"destination 192.0.2.1/32 then redirect-to-nexthop-ietf 2001:db8::1 copy-to-nexthop-ietf 2001:db8::2",
		 "given twice"},
		{"destination 192.0.2.1/32 then redirect-to-nexthop-ietf 2001:db8::/64", "IPv4 or IPv6"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = 0;
		if (fs_text_parse(bad[i].in, &r, &a, &err))
			fail_msg("'%s' parsed", bad[i].in);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].in, err.msg, bad[i].msg);
	}
}

/* ---- attribute 25 in the UPDATE path ---- */

/* Finds attribute type in an UPDATE: where its value starts, its length, its place in the list. */
static bool find_attr(const uint8_t *msg, size_t len, uint8_t type, size_t *at, size_t *vlen, int *index)
{
	struct rbuf r = rbuf_init(msg + BGP_HDR_LEN, len - BGP_HDR_LEN);
	rbuf_skip(&r, rbuf_u16(&r));
	struct rbuf attrs = rbuf_sub(&r, rbuf_u16(&r));
	for (int i = 0; rbuf_left(&attrs); i++) {
		uint8_t flags = rbuf_u8(&attrs), t = rbuf_u8(&attrs);
		size_t l = (flags & 0x10) ? rbuf_u16(&attrs) : rbuf_u8(&attrs);
		size_t off = attrs.off;
		rbuf_skip(&attrs, l);
		if (t == type) {
			*at = (size_t)(attrs.p - msg) + off;
			*vlen = l;
			*index = i;
			return !attrs.err;
		}
	}
	return false;
}

static size_t flow_update(uint8_t *out, const uint8_t *ext6, size_t n_ext6, uint16_t afi)
{
	static const uint8_t nlri4[] = {0x06, 0x01, 0x20, 0xc0, 0x00, 0x02, 0x01}; /* dst 192.0.2.1/32 */
	static const uint8_t nlri6[] = {0x13, 0x01, 0x80, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0x07}; /* dst 2001:db8:1::7/128, offset 0 */
	struct bgp_attr_enc enc = {.ebgp = true, .as4 = true, .local_as = 65001,
				   .ext_communities = (const uint8_t[]){0x80, 0x06, 0, 0, 0, 0, 0, 0},
				   .n_ext_communities = 1,
				   .ipv6_ext_communities = ext6, .n_ipv6_ext_communities = n_ext6};
	struct bgp_upd u;
	assert_int_equal(bgp_msg_upd_begin_flow(&u, afi, false, &enc), 0);
	if (afi == BGP_AFI_IPV4)
		assert_true(bgp_msg_upd_add_raw(&u, nlri4, sizeof nlri4));
	else
		assert_true(bgp_msg_upd_add_raw(&u, nlri6, sizeof nlri6));
	size_t len = bgp_msg_upd_finish(&u);
	assert_true(len > 0);
	memcpy(out, u.buf, len);
	return len;
}

static void test_update_encode(void **state)
{
	(void)state;
	static const uint8_t ext6[] = {0x00, 0x0c, A1, 0x00, 0x00, 0x00, 0x0d, A2, 0x00, 0x64};
	uint16_t afis[] = {BGP_AFI_IPV4, BGP_AFI_IPV6};
	for (int k = 0; k < 2; k++) {
		uint8_t msg[BGP_MSG_MAX];
		size_t len = flow_update(msg, ext6, 2, afis[k]);
		size_t at, vlen, at16, vlen16, atmp, vlmp;
		int i25, i16, imp;
		assert_true(find_attr(msg, len, BGP_ATTR_IPV6_EXT_COMMUNITIES, &at, &vlen, &i25));
		/* optional transitive (RFC 5701 2), one-octet length 40, the communities as given */
		assert_int_equal(msg[at - 3], 0xc0);
		assert_int_equal(msg[at - 2], 25);
		assert_int_equal(msg[at - 1], 40);
		assert_int_equal(vlen, 40);
		assert_memory_equal(msg + at, ext6, 40);
		/* after EXTENDED_COMMUNITIES, before MP_REACH_NLRI (which goes last) */
		assert_true(find_attr(msg, len, BGP_ATTR_EXT_COMMUNITIES, &at16, &vlen16, &i16));
		assert_true(find_attr(msg, len, BGP_ATTR_MP_REACH, &atmp, &vlmp, &imp));
		assert_true(i16 < i25 && i25 < imp);

		/* our decoder takes it: one flow, no treat-as-withdraw */
		struct bgp_update_info ui;
		struct bgp_msg_err e;
		assert_int_equal(bgp_msg_update_decode(msg + BGP_HDR_LEN, len - BGP_HDR_LEN, true, &ui, &e), 0);
		assert_false(ui.treat_as_withdraw);
		assert_int_equal(ui.flows, 1);
		assert_int_equal(ui.announced, 1);

		/* and flowspec/ reads the actions back out of the two attributes */
		struct fs_actions a;
		struct fs_err err = {{0}};
		assert_true(fs_actions_decode(msg + at16, vlen16, &a, &err));
		assert_true(fs_actions_decode6(msg + at, vlen, &a, &err));
		assert_int_equal(a.present, FS_ACT_RATE | FS_ACT_REDIRECT_IP6 | FS_ACT_REDIRECT6);
	}
	/* no IPv6 action, no attribute 25 */
	uint8_t msg[BGP_MSG_MAX];
	size_t len = flow_update(msg, NULL, 0, BGP_AFI_IPV4);
	size_t at, vlen;
	int i;
	assert_false(find_attr(msg, len, BGP_ATTR_IPV6_EXT_COMMUNITIES, &at, &vlen, &i));
}

/* An UPDATE from a peer: ORIGIN, AS_PATH, attribute 25 with the given flags and value length,
 * an IPv4 FlowSpec MP_REACH with one rule. */
static size_t peer_update(uint8_t *m, uint8_t flags25, size_t len25)
{
	struct wbuf w = wbuf_init(m, BGP_MSG_MAX);
	for (int i = 0; i < 16; i++)
		wbuf_u8(&w, 0xff);
	size_t len_at = wbuf_reserve(&w, 2);
	wbuf_u8(&w, BGP_MSG_UPDATE);
	wbuf_u16(&w, 0);
	size_t alen_at = wbuf_reserve(&w, 2);
	size_t abase = w.len;
	wbuf_bytes(&w, B(0x40, 1, 1, 0));             /* ORIGIN IGP */
	wbuf_bytes(&w, B(0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea)); /* AS_PATH [65002] */
	wbuf_u8(&w, flags25);
	wbuf_u8(&w, 25);
	if (flags25 & 0x10)
		wbuf_u16(&w, (uint16_t)len25);
	else
		wbuf_u8(&w, (uint8_t)len25);
	for (size_t i = 0; i < len25; i++)
		wbuf_u8(&w, i % 20 == 1 ? 0x0c : 0x20);
	wbuf_bytes(&w, B(0x90, 14, 0, 12, 0, 1, 133, 0, 0, 0x06, 0x01, 0x20, 0xc0, 0x00, 0x02, 0x01));
	wbuf_put_u16_at(&w, alen_at, (uint16_t)(w.len - abase));
	wbuf_put_u16_at(&w, len_at, (uint16_t)w.len);
	assert_false(w.err);
	return w.len;
}

static void test_update_decode(void **state)
{
	(void)state;
	uint8_t m[BGP_MSG_MAX];
	struct bgp_update_info u;
	struct bgp_msg_err e;
	static const size_t good[] = {20, 40, 200, 300};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		size_t n = peer_update(m, good[i] > 255 ? 0xd0 : 0xc0, good[i]);
		assert_int_equal(bgp_msg_update_decode(m + BGP_HDR_LEN, n - BGP_HDR_LEN, true, &u, &e), 0);
		if (u.treat_as_withdraw)
			fail_msg("length %zu: %s", good[i], u.taw_reason);
		assert_int_equal(u.announced, 1);
	}
	/* RFC 7606 7.14: not a multiple of 20, or 0 (RFC 7606 4: only AS_PATH and ATOMIC_AGGREGATE
	 * may be empty) -> treat-as-withdraw; no NOTIFICATION (return 0) */
	static const size_t bad[] = {0, 1, 8, 19, 21, 39, 41, 259};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = peer_update(m, bad[i] > 255 ? 0xd0 : 0xc0, bad[i]);
		assert_int_equal(bgp_msg_update_decode(m + BGP_HDR_LEN, n - BGP_HDR_LEN, true, &u, &e), 0);
		assert_true(u.treat_as_withdraw);
		assert_non_null(strstr(u.taw_reason, "IPV6_EXTENDED_COMMUNITIES"));
		assert_int_equal(u.announced, 0);
		assert_int_equal(u.withdrawn, 1);
	}
	/* a length past the end of the attributes is treat-as-withdraw (RFC 7606 4), as for any
	 * attribute; the MP_REACH behind it is not read, so nothing is announced */
	size_t n = peer_update(m, 0xc0, 20);
	m[BGP_HDR_LEN + 4 + 4 + 9 + 2] = 250;
	assert_int_equal(bgp_msg_update_decode(m + BGP_HDR_LEN, n - BGP_HDR_LEN, true, &u, &e), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(u.announced, 0);
}

static void test_flow_rib(void **state)
{
	(void)state;
	struct bgp_flow_rib rib;
	bgp_flow_rib_init(&rib);
	static const uint8_t nlri[] = {0x06, 0x01, 0x20, 0xc0, 0x00, 0x02, 0x01};
	static const uint8_t ext[] = {0x80, 0x06, 0, 0, 0, 0, 0, 0};
	uint8_t e6a[20] = {0x00, 0x0c, A1, 0, 0}, e6b[20] = {0x00, 0x0c, A2, 0, 0};
	assert_int_equal(bgp_flow_rib_set6(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, e6a, 1), 0);
	assert_int_equal(bgp_flow_rib_set6(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, e6a, 1), 2);
	assert_int_equal(bgp_flow_rib_set6(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, e6b, 1), 1);
	const struct bgp_flow *f = bgp_flow_rib_find(&rib, FS_AFI_IPV4, nlri, sizeof nlri);
	assert_non_null(f);
	assert_int_equal(f->n_ext6, 1);
	assert_memory_equal(f->ext6, e6b, 20);
	/* dropping the IPv6 action is a change too */
	assert_int_equal(bgp_flow_rib_set(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1), 1);
	assert_int_equal(f->n_ext6, 0);
	assert_int_equal(bgp_flow_rib_set6(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, e6b, 3), -1);
	bgp_flow_rib_free(&rib);
}

/* ExaBGP's `redirect 1.2.3.4` / then { community [...] } (exa-flow-19, exa-flow-14): the 0x0800
 * redirect's address is the MP_REACH next hop, 4 octets for an IPv4 rule, and the communities
 * go in COMMUNITIES; the flow RIB tells a change of either from a repeat. */
static void test_flow_next_hop_and_communities(void **state)
{
	(void)state;
	static const uint8_t nlri[] = {0x06, 0x01, 0x20, 0xc0, 0xa8, 0x00, 0x01}; /* dst 192.168.0.1/32 */
	static const uint32_t comm[] = {0x78140000u, 0x78147814u};
	ip_addr nh;
	assert_true(ip_parse("1.2.3.4", &nh));
	struct bgp_attr_enc enc = {.as4 = true, .local_as = 1, .local_pref = 100,
				   .ext_communities = (const uint8_t[]){0x08, 0x00, 0, 0, 0, 0, 0, 0},
				   .n_ext_communities = 1, .communities = comm, .n_communities = 2,
				   .next_hop = nh};
	struct bgp_upd u;
	assert_int_equal(bgp_msg_upd_begin_flow(&u, BGP_AFI_IPV4, false, &enc), 0);
	assert_true(bgp_msg_upd_add_raw(&u, nlri, sizeof nlri));
	size_t len = bgp_msg_upd_finish(&u);
	assert_true(len > 0);
	size_t at, vlen;
	int idx;
	assert_true(find_attr(u.buf, len, BGP_ATTR_MP_REACH, &at, &vlen, &idx));
	static const uint8_t mp[] = {0x00, 0x01, 0x85, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00,
				     0x06, 0x01, 0x20, 0xc0, 0xa8, 0x00, 0x01};
	assert_int_equal(vlen, sizeof mp);
	assert_memory_equal(u.buf + at, mp, sizeof mp);
	assert_true(find_attr(u.buf, len, BGP_ATTR_COMMUNITIES, &at, &vlen, &idx));
	static const uint8_t cv[] = {0x78, 0x14, 0x00, 0x00, 0x78, 0x14, 0x78, 0x14};
	assert_int_equal(vlen, sizeof cv);
	assert_memory_equal(u.buf + at, cv, sizeof cv);
	assert_int_equal(u.buf[at - 3], 0xc0);

	/* without a next hop: none, as RFC 8955 4 asks */
	enc.next_hop = (ip_addr){0};
	assert_int_equal(bgp_msg_upd_begin_flow(&u, BGP_AFI_IPV4, false, &enc), 0);
	assert_true(bgp_msg_upd_add_raw(&u, nlri, sizeof nlri));
	len = bgp_msg_upd_finish(&u);
	assert_true(find_attr(u.buf, len, BGP_ATTR_MP_REACH, &at, &vlen, &idx));
	assert_int_equal(u.buf[at + 3], 0);

	struct bgp_flow_rib rib;
	bgp_flow_rib_init(&rib);
	static const uint8_t ext[] = {0x08, 0x00, 0, 0, 0, 0, 0, 0};
	struct bgp_flow_attrs more = {.comm = comm, .n_comm = 2, .next_hop = &nh};
	assert_int_equal(bgp_flow_rib_set_attrs(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, NULL, 0, &more), 0);
	assert_int_equal(bgp_flow_rib_set_attrs(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, NULL, 0, &more), 2);
	more.n_comm = 1;
	assert_int_equal(bgp_flow_rib_set_attrs(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1, NULL, 0, &more), 1);
	const struct bgp_flow *f = bgp_flow_rib_find(&rib, FS_AFI_IPV4, nlri, sizeof nlri);
	assert_int_equal(f->n_comm, 1);
	assert_true(ip_equal(&f->next_hop, &nh));
	/* the same rule without them is a change too */
	assert_int_equal(bgp_flow_rib_set(&rib, FS_AFI_IPV4, nlri, sizeof nlri, ext, 1), 1);
	assert_int_equal(f->n_comm, 0);
	assert_true(ip_is_zero(&f->next_hop));
	bgp_flow_rib_free(&rib);
}

/* mitigation.flowspec.rules takes them through the same parser, and conf_print writes them back in
 * a form that loads to the same actions. */
static void test_config(void **state)
{
	(void)state;
	static const char yaml[] =
		"networks: [10.0.0.0/8]\n"
		"mitigation:\n"
		"  flowspec:\n"
		"    rules:\n"
		"      - \"destination 10.1.2.3/32 protocol udp then redirect-to-nexthop-ietf 2001:db8::1 redirect [2001:db8:ff::2]:100\"\n"
		"      - \"flow route { match { destination 2001:db8:1::8/128; } then { copy-to-nexthop-ietf 2001:db8::1; } }\"\n";
	struct rampart_conf c, d;
	char err[512] = "";
	if (conf_load_string(yaml, strlen(yaml), "rampart.yaml", &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.mitigation.n_flowspec_rules, 2);
	assert_int_equal(c.mitigation.flowspec_rules[0].actions.present, FS_ACT_REDIRECT_IP6 | FS_ACT_REDIRECT6);
	assert_int_equal(c.mitigation.flowspec_rules[0].actions.rt6_local, 100);
	assert_int_equal(c.mitigation.flowspec_rules[1].actions.present, FS_ACT_REDIRECT_IP6);
	assert_true(c.mitigation.flowspec_rules[1].actions.redirect6_copy);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_print(&c, f);
	fclose(f);
	assert_non_null(strstr(text, "redirect [2001:db8:ff::2]:100"));
	if (conf_load_string(text, len, "printed", &d, err, sizeof err) != 0)
		fail_msg("printed config does not load: %s\n%s", err, text);
	assert_int_equal(d.mitigation.n_flowspec_rules, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(fs_rule_equal(&c.mitigation.flowspec_rules[i].rule, &d.mitigation.flowspec_rules[i].rule));
		assert_true(fs_actions_equal(&c.mitigation.flowspec_rules[i].actions,
					     &d.mitigation.flowspec_rules[i].actions));
	}
	free(text);
	conf_free(&c);
	conf_free(&d);

	/* a bad one names the rule and the token */
	static const char bad[] = "networks: [10.0.0.0/8]\n"
				  "mitigation: { flowspec: { rules: [\"destination 10.1.2.3/32 then redirect [10.0.0.1]:5\"] } }\n";
	assert_int_equal(conf_load_string(bad, strlen(bad), "rampart.yaml", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "mitigation.flowspec.rules[0]"));
	assert_non_null(strstr(err, "needs an IPv6 address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_decode6),
		cmocka_unit_test(test_encode6_errors),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_update_encode),
		cmocka_unit_test(test_update_decode),
		cmocka_unit_test(test_flow_rib), cmocka_unit_test(test_flow_next_hop_and_communities),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
