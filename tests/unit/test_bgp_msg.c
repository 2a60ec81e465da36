/* bgp/msg: the wire codec against byte vectors written out by hand from RFC 4271 / 4760 / 6793 /
 * 1997, and every malformed-message path against the NOTIFICATION code/subcode it must produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "bgp/msg.h"

#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* 203.0.113.7/32, next hop 192.0.2.254, AS_PATH 65001 (4-octet), 65535:666 + NO_EXPORT */
static const uint8_t upd_v4[] = {
	MARKER, 0x00, 0x3b, 0x02,
	0x00, 0x00,                                     /* withdrawn routes length */
	0x00, 0x1f,                                     /* path attributes length: 31 */
	0x40, 0x01, 0x01, 0x00,                         /* ORIGIN IGP */
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9, /* AS_PATH SEQ [65001] */
	0x40, 0x03, 0x04, 192, 0, 2, 254,               /* NEXT_HOP */
	0xc0, 0x08, 0x08, 0xff, 0xff, 0x02, 0x9a, 0xff, 0xff, 0xff, 0x01, /* COMMUNITIES */
	0x20, 203, 0, 113, 7,                           /* NLRI */
};

/* 2001:db8:1::7/128 via 2001:db8::254 in MP_REACH_NLRI (extended length, last) */
static const uint8_t upd_v6[] = {
	MARKER, 0x00, 0x59, 0x02,
	0x00, 0x00, 0x00, 0x42,
	0x40, 0x01, 0x01, 0x00,
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
	0xc0, 0x08, 0x08, 0xff, 0xff, 0x02, 0x9a, 0xff, 0xff, 0xff, 0x01,
	0x90, 0x0e, 0x00, 0x26, 0x00, 0x02, 0x01,       /* MP_REACH, AFI 2 SAFI 1 */
	0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54, /* next hop */
	0x00,                                           /* reserved */
	0x80, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
};

static const uint8_t wd_v6[] = {
	MARKER, 0x00, 0x2f, 0x02,
	0x00, 0x00, 0x00, 0x18,
	0x90, 0x0f, 0x00, 0x14, 0x00, 0x02, 0x01,       /* MP_UNREACH, AFI 2 SAFI 1 */
	0x80, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
};

/* 203.0.113.7/32 and 198.51.100.0/24 withdrawn */
static const uint8_t wd_v4[] = {
	MARKER, 0x00, 0x20, 0x02,
	0x00, 0x09, 0x20, 203, 0, 113, 7, 0x18, 198, 51, 100,
	0x00, 0x00,
};

static struct bgp_attr_enc blackhole_enc(const ip_addr *nh, const uint32_t *comm)
{
	return (struct bgp_attr_enc){.ebgp = true, .as4 = true, .local_as = 65001, .next_hop = *nh,
				     .communities = comm, .n_communities = 2};
}
static const uint32_t bh_comm[2] = {BGP_COMMUNITY_BLACKHOLE, BGP_COMMUNITY_NO_EXPORT};

static ip_prefix pfx(const char *s)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(s, &p));
	return p;
}

static ip_addr addr(const char *s)
{
	ip_addr a;
	assert_true(ip_parse(s, &a));
	return a;
}

/* Frames msg with the header check, then decodes it as an UPDATE. */
static int decode_update(const uint8_t *msg, size_t len, bool as4, struct bgp_update_info *u,
			 struct bgp_msg_err *e)
{
	uint8_t type;
	uint16_t mlen;
	assert_int_equal(bgp_msg_header(msg, &type, &mlen, e), 0);
	assert_int_equal(type, BGP_MSG_UPDATE);
	assert_int_equal(mlen, len);
	return bgp_msg_update_decode(msg + BGP_HDR_LEN, len - BGP_HDR_LEN, as4, u, e);
}

/* ---- encoders: exact bytes ---- */

static void test_open_encode_4byte_asn_and_mp(void **state)
{
	(void)state;
	uint8_t buf[BGP_MSG_MAX];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	static const uint8_t want[] = {
		MARKER, 0x00, 0x37, 0x01,
		0x04, 0x5b, 0xa0,       /* AS_TRANS: 4200000001 does not fit */
		0x00, 0x5a,             /* hold 90 */
		0x0a, 0x4d, 0x00, 0x01, /* id 10.77.0.1 */
		0x1a, 0x02, 0x18,       /* one capabilities parameter of 24 bytes */
		0x01, 0x04, 0x00, 0x01, 0x00, 0x01, /* MP IPv4 unicast */
		0x01, 0x04, 0x00, 0x02, 0x00, 0x01, /* MP IPv6 unicast */
		0x02, 0x00,                         /* route refresh */
		0x46, 0x00,                         /* enhanced route refresh (RFC 7313) */
		0x06, 0x00,                         /* extended messages (RFC 8654) */
		0x41, 0x04, 0xfa, 0x56, 0xea, 0x01, /* 4-octet AS 4200000001 */
	};
	size_t n = bgp_msg_open(&w, 4200000001u, 90, 0x0a4d0001, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST, 0);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(buf, want, sizeof want);

	/* and back */
	struct bgp_open o;
	struct bgp_msg_err e;
	uint8_t type;
	uint16_t len;
	assert_int_equal(bgp_msg_header(buf, &type, &len, &e), 0);
	assert_int_equal(type, BGP_MSG_OPEN);
	assert_int_equal(bgp_msg_open_decode(buf + BGP_HDR_LEN, len - BGP_HDR_LEN, &o, &e), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as, BGP_AS_TRANS);
	assert_true(o.has_as4);
	assert_int_equal(bgp_msg_open_as(&o), 4200000001u);
	assert_int_equal(o.hold_time, 90);
	assert_int_equal(o.bgp_id, 0x0a4d0001);
	assert_true(o.has_mp);
	assert_int_equal(o.families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST);
	assert_true(o.route_refresh);
	assert_true(o.ext_msg);
	assert_true(o.enhanced_rr);
	assert_int_equal(bgp_msg_open_check(&o, 4200000001u, &e), 0);
}

static void expect_err(int r, const struct bgp_msg_err *e, int code, int subcode);

/* Extended Next Hop (RFC 8950 4): code 5, tuples of NLRI AFI (2), NLRI SAFI (2), next hop AFI (2).
 * Offered for IPv4 unicast over IPv6 when asked and the OPEN has IPv4 unicast; read from any
 * number of tuples, ignoring those of other families. */
static void test_open_extended_next_hop(void **state)
{
	(void)state;
	uint8_t buf[BGP_MSG_MAX];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	static const uint8_t cap[] = {0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02};
	size_t n = bgp_msg_open_ext(&w, 65001, 90, 1, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST, 0, false, true);
	assert_true(n > 0);
	assert_int_equal(buf[28], n - 29); /* optional parameters length */
	assert_non_null(memmem(buf + 29, n - 29, cap, sizeof cap));
	struct bgp_open o;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_open_decode(buf + BGP_HDR_LEN, n - BGP_HDR_LEN, &o, &e), 0);
	assert_true(o.ext_nh_v4);
	assert_int_equal(o.families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST);
	/* not asked, or no IPv4 unicast to carry: not offered */
	w = wbuf_init(buf, sizeof buf);
	n = bgp_msg_open_ext(&w, 65001, 90, 1, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST, 0, false, false);
	assert_null(memmem(buf + 29, n - 29, cap, 2));
	w = wbuf_init(buf, sizeof buf);
	n = bgp_msg_open_ext(&w, 65001, 90, 1, BGP_FAM_IPV6_UNICAST, 0, false, true);
	assert_null(memmem(buf + 29, n - 29, cap, 2));
	assert_int_equal(bgp_msg_open_decode(buf + BGP_HDR_LEN, n - BGP_HDR_LEN, &o, &e), 0);
	assert_false(o.ext_nh_v4);

	/* OPEN bodies: version, AS 65002, hold 90, id 10.77.0.2, then one capabilities parameter */
#define OPEN_CAP(...) {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, \
		2 + sizeof((uint8_t[]){__VA_ARGS__}), 2, sizeof((uint8_t[]){__VA_ARGS__}), __VA_ARGS__}
	/* BIRD's and FRR's form: the one tuple */
	uint8_t good[] = OPEN_CAP(0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02);
	assert_int_equal(bgp_msg_open_decode(good, sizeof good, &o, &e), 0);
	assert_true(o.ext_nh_v4);
	/* several tuples, ours among IPv4 VPN (SAFI 128), IPv4 multicast and IPv6-over-IPv4 */
	uint8_t multi[] = OPEN_CAP(0x05, 0x18, 0x00, 0x01, 0x00, 0x80, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02,
				   0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02);
	assert_int_equal(bgp_msg_open_decode(multi, sizeof multi, &o, &e), 0);
	assert_true(o.ext_nh_v4);
	/* only tuples of other families (and IPv4 over an unknown next hop AFI 25): accepted, no offer */
	uint8_t other[] = OPEN_CAP(0x05, 0x0c, 0x00, 0x01, 0x00, 0x80, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0x00, 0x19);
	assert_int_equal(bgp_msg_open_decode(other, sizeof other, &o, &e), 0);
	assert_false(o.ext_nh_v4);
	/* no tuple at all: nothing offered */
	uint8_t empty[] = OPEN_CAP(0x05, 0x00);
	assert_int_equal(bgp_msg_open_decode(empty, sizeof empty, &o, &e), 0);
	assert_false(o.ext_nh_v4);
	/* a length that cuts a tuple: OPEN Message Error */
	uint8_t short5[] = OPEN_CAP(0x05, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00);
	expect_err(bgp_msg_open_decode(short5, sizeof short5, &o, &e), &e, BGP_ERR_OPEN, 0);
	uint8_t long7[] = OPEN_CAP(0x05, 0x07, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00);
	expect_err(bgp_msg_open_decode(long7, sizeof long7, &o, &e), &e, BGP_ERR_OPEN, 0);
	/* the capability's length runs past its parameter */
	uint8_t past[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 8, 2, 6, 0x05, 0x06, 0x00, 0x01, 0x00, 0x01};
	expect_err(bgp_msg_open_decode(past, sizeof past, &o, &e), &e, BGP_ERR_OPEN, 0);
#undef OPEN_CAP
}

/* RFC 8654: with extended messages an UPDATE or NOTIFICATION may exceed 4096, an OPEN or
 * KEEPALIVE may not; without them nothing may. */
static void test_extended_message_header(void **state)
{
	(void)state;
	uint8_t h[BGP_HDR_LEN] = {MARKER, 0x13, 0x88, BGP_MSG_UPDATE}; /* 5000 */
	uint8_t type;
	uint16_t len;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_header_ext(h, true, &type, &len, &e), 0);
	assert_int_equal(len, 5000);
	expect_err(bgp_msg_header_ext(h, false, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);
	expect_err(bgp_msg_header(h, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);
	h[18] = BGP_MSG_NOTIFICATION;
	h[16] = 0xff;
	h[17] = 0xff; /* 65535 */
	assert_int_equal(bgp_msg_header_ext(h, true, &type, &len, &e), 0);
	h[18] = BGP_MSG_OPEN;
	expect_err(bgp_msg_header_ext(h, true, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);
	h[18] = BGP_MSG_KEEPALIVE;
	expect_err(bgp_msg_header_ext(h, true, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);
	/* the capability carries no value */
	uint8_t bad[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 5, 2, 3, 0x06, 0x01, 0x00};
	struct bgp_open o;
	expect_err(bgp_msg_open_decode(bad, sizeof bad, &o, &e), &e, BGP_ERR_OPEN, 0);
}

static void test_open_flowspec_caps(void **state)
{
	(void)state;
	uint8_t buf[BGP_MSG_MAX];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	size_t n = bgp_msg_open(&w, 65001, 90, 1, BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC, 0);
	assert_true(n > 0);
	struct bgp_open o;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_open_decode(buf + BGP_HDR_LEN, n - BGP_HDR_LEN, &o, &e), 0);
	assert_int_equal(o.my_as, 65001);
	assert_int_equal(o.as4, 65001);
	assert_int_equal(o.families, BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC);
}

/* Graceful restart (RFC 4724 3): code 64, restart flags + 12-bit time, then per family AFI, SAFI
 * and the Forwarding State bit. */
static void test_open_graceful_restart(void **state)
{
	(void)state;
	uint8_t buf[BGP_MSG_MAX];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	size_t n = bgp_msg_open(&w, 65001, 90, 1, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV4_FLOWSPEC, 120);
	static const uint8_t gr[] = {0x40, 0x0a, 0x00, 0x78, 0x00, 0x01, 0x01, 0x80, 0x00, 0x01, 0x85, 0x80};
	assert_true(n > sizeof gr);
	assert_memory_equal(buf + n - sizeof gr, gr, sizeof gr); /* the last capability */
	assert_int_equal(buf[28], n - 29);                       /* optional parameters length */
	struct bgp_open o;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_open_decode(buf + BGP_HDR_LEN, n - BGP_HDR_LEN, &o, &e), 0);
	assert_true(o.has_gr);
	assert_false(o.gr_restarting);
	assert_int_equal(o.gr_time, 120);
	assert_int_equal(o.gr_families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV4_FLOWSPEC);

	/* BIRD's form after a restart: R bit, 120 s, IPv6 unicast without F */
	uint8_t in[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 10, 2, 8, 0x40, 0x06, 0x80, 0x78, 0, 2, 1, 0};
	assert_int_equal(bgp_msg_open_decode(in, sizeof in, &o, &e), 0);
	assert_true(o.has_gr && o.gr_restarting);
	assert_int_equal(o.gr_time, 120);
	assert_int_equal(o.gr_families, 0);
	/* a tuple cut short */
	uint8_t bad[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 9, 2, 7, 0x40, 0x05, 0x80, 0x78, 0, 2, 1};
	expect_err(bgp_msg_open_decode(bad, sizeof bad, &o, &e), &e, BGP_ERR_OPEN, 0);
}

/* IPv4 FlowSpec: destination 203.0.113.7/32, protocol =17, source port =123, discard
 * (traffic-rate 0), eBGP with 4-octet AS: MP_REACH AFI 1 SAFI 133 with no next hop. */
static const uint8_t flow_nlri[] = {0x0c, 0x01, 0x20, 203, 0, 113, 7, 0x03, 0x81, 17, 0x06, 0x81, 123};
static const uint8_t flow_upd[] = {
	MARKER, 0x00, 0x45, 0x02,
	0x00, 0x00, 0x00, 0x2e,
	0x40, 0x01, 0x01, 0x00,
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
	0xc0, 0x10, 0x08, 0x80, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* traffic-rate 0 */
	0x90, 0x0e, 0x00, 0x12, 0x00, 0x01, 0x85, 0x00, 0x00,               /* no next hop */
	0x0c, 0x01, 0x20, 203, 0, 113, 7, 0x03, 0x81, 17, 0x06, 0x81, 123,
};
static const uint8_t flow_wd[] = {
	MARKER, 0x00, 0x2b, 0x02,
	0x00, 0x00, 0x00, 0x14,
	0x90, 0x0f, 0x00, 0x10, 0x00, 0x01, 0x85,
	0x0c, 0x01, 0x20, 203, 0, 113, 7, 0x03, 0x81, 17, 0x06, 0x81, 123,
};

static void test_flow_update_encode(void **state)
{
	(void)state;
	static const uint8_t ext[] = {0x80, 0x06, 0, 0, 0, 0, 0, 0};
	struct bgp_attr_enc a = {.ebgp = true, .as4 = true, .local_as = 65001, .ext_communities = ext,
				 .n_ext_communities = 1};
	struct bgp_upd u;
	assert_int_equal(bgp_msg_upd_begin_flow(&u, BGP_AFI_IPV4, false, &a), 0);
	assert_true(bgp_msg_upd_add_raw(&u, flow_nlri, sizeof flow_nlri));
	size_t n = bgp_msg_upd_finish(&u);
	assert_int_equal(n, sizeof flow_upd);
	assert_memory_equal(u.buf, flow_upd, sizeof flow_upd);

	assert_int_equal(bgp_msg_upd_begin_flow(&u, BGP_AFI_IPV4, true, &a), 0);
	assert_true(bgp_msg_upd_add_raw(&u, flow_nlri, sizeof flow_nlri));
	n = bgp_msg_upd_finish(&u);
	assert_int_equal(n, sizeof flow_wd);
	assert_memory_equal(u.buf, flow_wd, sizeof flow_wd);

	/* both decode as one FlowSpec rule, announced and withdrawn */
	struct bgp_update_info ui;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_update_decode(flow_upd + BGP_HDR_LEN, sizeof flow_upd - BGP_HDR_LEN, true, &ui, &e), 0);
	assert_int_equal(ui.announced, 1);
	assert_int_equal(ui.flows, 1);
	assert_false(ui.treat_as_withdraw);
	assert_int_equal(bgp_msg_update_decode(flow_wd + BGP_HDR_LEN, sizeof flow_wd - BGP_HDR_LEN, true, &ui, &e), 0);
	assert_int_equal(ui.withdrawn, 1);

	/* iBGP: empty AS_PATH and LOCAL_PREF 100; many rules pack until 4096 */
	a.ebgp = false;
	assert_int_equal(bgp_msg_upd_begin_flow(&u, BGP_AFI_IPV4, false, &a), 0);
	size_t k = 0;
	while (bgp_msg_upd_add_raw(&u, flow_nlri, sizeof flow_nlri))
		k++;
	n = bgp_msg_upd_finish(&u);
	assert_true(n <= BGP_MSG_MAX && n > BGP_MSG_MAX - sizeof flow_nlri);
	static const uint8_t ibgp_attrs[] = {0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x00, 0x40, 0x05, 0x04, 0, 0, 0, 100};
	assert_memory_equal(u.buf + 23, ibgp_attrs, sizeof ibgp_attrs);
	assert_int_equal(bgp_msg_update_decode(u.buf + BGP_HDR_LEN, n - BGP_HDR_LEN, false, &ui, &e), 0);
	assert_int_equal(ui.announced, k);
}

/* Large communities (RFC 8092): optional transitive, type 32, 12 octets each, after AS4_PATH. */
static void test_large_communities_encode(void **state)
{
	(void)state;
	static const uint32_t lc[2][3] = {{65001, 666, 0}, {4200000001u, 1, 2}};
	ip_addr nh;
	ip_parse("192.0.2.254", &nh);
	struct bgp_attr_enc a = {.ebgp = true, .as4 = true, .local_as = 65001, .next_hop = nh,
				 .large_communities = lc, .n_large_communities = 2};
	struct bgp_upd u;
	assert_int_equal(bgp_msg_upd_begin_announce(&u, false, &a), 0);
	ip_prefix p;
	ip_prefix_parse("203.0.113.7/32", &p);
	assert_true(bgp_msg_upd_add(&u, &p));
	size_t n = bgp_msg_upd_finish(&u);
	static const uint8_t want[] = {0xc0, 0x20, 0x18, 0, 0, 0xfd, 0xe9, 0, 0, 0x02, 0x9a, 0, 0, 0, 0,
				       0xfa, 0x56, 0xea, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, 0x20, 203, 0, 113, 7};
	assert_memory_equal(u.buf + n - sizeof want, want, sizeof want);
	struct bgp_update_info ui;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_update_decode(u.buf + BGP_HDR_LEN, n - BGP_HDR_LEN, true, &ui, &e), 0);
	assert_false(ui.treat_as_withdraw);
	assert_int_equal(ui.announced, 1);
}

static void test_keepalive_notification_encode(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	static const uint8_t ka[] = {MARKER, 0x00, 0x13, 0x04};
	assert_int_equal(bgp_msg_keepalive(&w), sizeof ka);
	assert_memory_equal(buf, ka, sizeof ka);

	w = wbuf_init(buf, sizeof buf);
	static const uint8_t nt[] = {MARKER, 0x00, 0x17, 0x03, 0x02, 0x02, 0xfd, 0xea};
	static const uint8_t data[] = {0xfd, 0xea};
	assert_int_equal(bgp_msg_notification(&w, BGP_ERR_OPEN, BGP_ERR_OPEN_AS, data, 2), sizeof nt);
	assert_memory_equal(buf, nt, sizeof nt);

	struct bgp_notification n;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_notification_decode(buf + BGP_HDR_LEN, sizeof nt - BGP_HDR_LEN, &n, &e), 0);
	assert_int_equal(n.code, 2);
	assert_int_equal(n.subcode, 2);
	assert_int_equal(n.data_len, 2);
	assert_memory_equal(n.data, data, 2);
	assert_string_equal(bgp_msg_err_name(BGP_ERR_CEASE), "Cease");

	/* a writer too small: 0, not a truncated message */
	w = wbuf_init(buf, 10);
	assert_int_equal(bgp_msg_keepalive(&w), 0);
}

static void test_update_v4_encode(void **state)
{
	(void)state;
	struct bgp_upd u;
	ip_addr nh = addr("192.0.2.254");
	struct bgp_attr_enc a = blackhole_enc(&nh, bh_comm);
	assert_int_equal(bgp_msg_upd_begin_announce(&u, false, &a), 0);
	ip_prefix p = pfx("203.0.113.7/32");
	assert_true(bgp_msg_upd_add(&u, &p));
	size_t n = bgp_msg_upd_finish(&u);
	assert_int_equal(n, sizeof upd_v4);
	assert_memory_equal(u.buf, upd_v4, sizeof upd_v4);

	/* an IPv6 next hop for an IPv4 prefix (a session with Extended Next Hop): RFC 8950 3, the
	 * prefix goes in MP_REACH_NLRI AFI 1 SAFI 1 with the 16-octet next hop, and no NEXT_HOP */
	static const uint8_t want[] = {
		MARKER, 0x00, 0x4d, 0x02,
		0x00, 0x00, 0x00, 0x36,
		0x40, 0x01, 0x01, 0x00,
		0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
		0xc0, 0x08, 0x08, 0xff, 0xff, 0x02, 0x9a, 0xff, 0xff, 0xff, 0x01,
		0x90, 0x0e, 0x00, 0x1a, 0x00, 0x01, 0x01,       /* MP_REACH, AFI 1 SAFI 1 */
		0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54,
		0x00,
		0x20, 203, 0, 113, 7,                           /* the IPv4 prefix, 4 octets */
	};
	nh = addr("2001:db8::254");
	a = blackhole_enc(&nh, bh_comm);
	assert_int_equal(bgp_msg_upd_begin_announce(&u, false, &a), 0);
	assert_true(bgp_msg_upd_add(&u, &p));
	n = bgp_msg_upd_finish(&u);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(u.buf, want, sizeof want);
	/* and the decoder takes it back (a 16-octet next hop for AFI 1 is valid) */
	struct bgp_update_info ui;
	struct bgp_msg_err e;
	assert_int_equal(decode_update(want, sizeof want, true, &ui, &e), 0);
	assert_int_equal(ui.announced, 1);
	assert_false(ui.treat_as_withdraw);
}

static void test_update_v6_mp_reach_unreach_encode(void **state)
{
	(void)state;
	struct bgp_upd u;
	ip_addr nh = addr("2001:db8::254");
	struct bgp_attr_enc a = blackhole_enc(&nh, bh_comm);
	ip_prefix p = pfx("2001:db8:1::7/128");
	assert_int_equal(bgp_msg_upd_begin_announce(&u, true, &a), 0);
	assert_true(bgp_msg_upd_add(&u, &p));
	assert_int_equal(bgp_msg_upd_finish(&u), sizeof upd_v6);
	assert_memory_equal(u.buf, upd_v6, sizeof upd_v6);

	bgp_msg_upd_begin_withdraw(&u, true);
	assert_true(bgp_msg_upd_add(&u, &p));
	assert_int_equal(bgp_msg_upd_finish(&u), sizeof wd_v6);
	assert_memory_equal(u.buf, wd_v6, sizeof wd_v6);
}

static void test_withdraw_v4_encode(void **state)
{
	(void)state;
	struct bgp_upd u;
	bgp_msg_upd_begin_withdraw(&u, false);
	ip_prefix p1 = pfx("203.0.113.7/32"), p2 = pfx("198.51.100.0/24");
	assert_true(bgp_msg_upd_add(&u, &p1));
	assert_true(bgp_msg_upd_add(&u, &p2));
	assert_int_equal(bgp_msg_upd_finish(&u), sizeof wd_v4);
	assert_memory_equal(u.buf, wd_v4, sizeof wd_v4);
}

static void test_ibgp_and_2byte_peer(void **state)
{
	(void)state;
	struct bgp_upd u;
	struct bgp_update_info ui;
	struct bgp_msg_err e;
	ip_addr nh = addr("192.0.2.254");
	ip_prefix p = pfx("203.0.113.7/32");

	/* an old (2-octet) eBGP peer: AS_TRANS in AS_PATH, the real AS in AS4_PATH */
	struct bgp_attr_enc a = {.ebgp = true, .as4 = false, .local_as = 4200000001u, .next_hop = nh};
	assert_int_equal(bgp_msg_upd_begin_announce(&u, false, &a), 0);
	assert_true(bgp_msg_upd_add(&u, &p));
	size_t n = bgp_msg_upd_finish(&u);
	static const uint8_t as_path[] = {0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0};
	static const uint8_t as4_path[] = {0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x01};
	assert_non_null(memmem(u.buf, n, as_path, sizeof as_path));
	assert_non_null(memmem(u.buf, n, as4_path, sizeof as4_path));
	assert_int_equal(decode_update(u.buf, n, false, &ui, &e), 0);
	assert_false(ui.treat_as_withdraw);
	assert_int_equal(ui.announced, 1);

	/* iBGP: empty AS_PATH, LOCAL_PREF 100 by default, MED when asked */
	a = (struct bgp_attr_enc){.ebgp = false, .as4 = true, .local_as = 65001, .next_hop = nh,
				  .med = 7, .has_med = true};
	assert_int_equal(bgp_msg_upd_begin_announce(&u, false, &a), 0);
	assert_true(bgp_msg_upd_add(&u, &p));
	n = bgp_msg_upd_finish(&u);
	static const uint8_t empty_path[] = {0x40, 0x02, 0x00};
	static const uint8_t lpref[] = {0x40, 0x05, 0x04, 0, 0, 0, 100};
	static const uint8_t med[] = {0x80, 0x04, 0x04, 0, 0, 0, 7};
	assert_non_null(memmem(u.buf, n, empty_path, sizeof empty_path));
	assert_non_null(memmem(u.buf, n, lpref, sizeof lpref));
	assert_non_null(memmem(u.buf, n, med, sizeof med));
	assert_int_equal(decode_update(u.buf, n, true, &ui, &e), 0);
	assert_int_equal(ui.announced, 1);
}

/* Prefixes are packed until the next would not fit; every message stays within 4096 bytes. */
static void test_update_packing_limit(void **state)
{
	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		for (int wd = 0; wd <= 1; wd++) {
			struct bgp_upd u;
			ip_addr nh = addr(v6 ? "2001:db8::254" : "192.0.2.254");
			struct bgp_attr_enc a = blackhole_enc(&nh, bh_comm);
			if (wd)
				bgp_msg_upd_begin_withdraw(&u, v6);
			else
				assert_int_equal(bgp_msg_upd_begin_announce(&u, v6, &a), 0);
			uint32_t added = 0;
			for (uint32_t i = 0; i < 10000; i++) {
				ip_prefix p = {.len = v6 ? 128 : 32};
				if (v6) {
					p.addr = addr("2001:db8:1::");
					p.addr.b[12] = (uint8_t)(i >> 24);
					p.addr.b[13] = (uint8_t)(i >> 16);
					p.addr.b[14] = (uint8_t)(i >> 8);
					p.addr.b[15] = (uint8_t)i;
				} else {
					ip_from_v4_u32(&p.addr, 0xc6120000u + i);
				}
				if (!bgp_msg_upd_add(&u, &p))
					break;
				added++;
			}
			size_t n = bgp_msg_upd_finish(&u);
			assert_true(n > BGP_MSG_MAX - (v6 ? 17 : 5) && n <= BGP_MSG_MAX);
			struct bgp_update_info ui;
			struct bgp_msg_err e;
			assert_int_equal(decode_update(u.buf, n, true, &ui, &e), 0);
			assert_int_equal(wd ? ui.withdrawn : ui.announced, added);
			assert_int_equal(wd ? ui.announced : ui.withdrawn, 0);
			assert_false(ui.treat_as_withdraw);
		}
	}
}

static void test_end_of_rib(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	static const uint8_t eor4[] = {MARKER, 0x00, 0x17, 0x02, 0, 0, 0, 0};
	assert_int_equal(bgp_msg_end_of_rib(&w, BGP_FAM_IPV4_UNICAST), sizeof eor4);
	assert_memory_equal(buf, eor4, sizeof eor4);
	struct bgp_update_info u;
	struct bgp_msg_err e;
	assert_int_equal(decode_update(buf, sizeof eor4, true, &u, &e), 0);
	assert_true(u.end_of_rib);

	w = wbuf_init(buf, sizeof buf);
	static const uint8_t eor6[] = {MARKER, 0x00, 0x1d, 0x02, 0, 0, 0, 6, 0x80, 0x0f, 0x03, 0x00, 0x02, 0x01};
	assert_int_equal(bgp_msg_end_of_rib(&w, BGP_FAM_IPV6_UNICAST), sizeof eor6);
	assert_memory_equal(buf, eor6, sizeof eor6);
	assert_int_equal(decode_update(buf, sizeof eor6, true, &u, &e), 0);
	assert_true(u.end_of_rib);

	/* a real withdrawal is not an End-of-RIB */
	assert_int_equal(decode_update(wd_v6, sizeof wd_v6, true, &u, &e), 0);
	assert_false(u.end_of_rib);
}

/* ---- decoders: well-formed ---- */

static void test_update_decode_vectors(void **state)
{
	(void)state;
	struct bgp_update_info u;
	struct bgp_msg_err e;
	assert_int_equal(decode_update(upd_v4, sizeof upd_v4, true, &u, &e), 0);
	assert_int_equal(u.announced, 1);
	assert_int_equal(u.withdrawn, 0);
	assert_int_equal(u.n_attrs, 4);
	assert_false(u.treat_as_withdraw);
	assert_false(u.end_of_rib);

	assert_int_equal(decode_update(upd_v6, sizeof upd_v6, true, &u, &e), 0);
	assert_int_equal(u.announced, 1);
	assert_false(u.treat_as_withdraw);

	assert_int_equal(decode_update(wd_v6, sizeof wd_v6, true, &u, &e), 0);
	assert_int_equal(u.withdrawn, 1);
	assert_int_equal(u.announced, 0);

	assert_int_equal(decode_update(wd_v4, sizeof wd_v4, true, &u, &e), 0);
	assert_int_equal(u.withdrawn, 2);

	/* the same 4-octet AS_PATH read as 2-octet does not add up: treat-as-withdraw (RFC 7606) */
	assert_int_equal(decode_update(upd_v4, sizeof upd_v4, false, &u, &e), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(u.announced, 0);
	assert_int_equal(u.withdrawn, 1);
}

static void test_route_refresh(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	size_t n = bgp_msg_route_refresh(&w, BGP_AFI_IPV6, BGP_SAFI_UNICAST);
	static const uint8_t want[] = {MARKER, 0x00, 0x17, 0x05, 0x00, 0x02, 0x00, 0x01};
	assert_int_equal(n, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	uint16_t afi;
	uint8_t safi;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_route_refresh_decode(buf + BGP_HDR_LEN, 4, &afi, &safi, &e), 0);
	assert_int_equal(afi, 2);
	assert_int_equal(safi, 1);
	/* RFC 7313 5: a body other than 4 octets is ROUTE-REFRESH Message Error / Invalid Length */
	assert_int_equal(bgp_msg_route_refresh_decode(buf + BGP_HDR_LEN, 3, &afi, &safi, &e), -1);
	assert_int_equal(e.code, BGP_ERR_ROUTE_REFRESH);
	assert_int_equal(e.subcode, BGP_ERR_RR_LEN);
}

/* ---- decoders: malformed -> the NOTIFICATION to send ---- */

static void expect_err(int r, const struct bgp_msg_err *e, int code, int subcode)
{
	assert_int_equal(r, -1);
	assert_int_equal(e->code, code);
	assert_int_equal(e->subcode, subcode);
	assert_non_null(e->reason);
}

static void test_header_errors(void **state)
{
	(void)state;
	uint8_t m[BGP_HDR_LEN] = {MARKER, 0x00, 0x13, 0x04};
	uint8_t type;
	uint16_t len;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_header(m, &type, &len, &e), 0);

	m[5] = 0xfe; /* marker */
	expect_err(bgp_msg_header(m, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_SYNC);
	m[5] = 0xff;

	struct { uint16_t len; uint8_t type; } bad_len[] = {
		{18, BGP_MSG_KEEPALIVE}, {4097, BGP_MSG_UPDATE}, {20, BGP_MSG_KEEPALIVE},
		{28, BGP_MSG_OPEN}, {22, BGP_MSG_UPDATE}, {20, BGP_MSG_NOTIFICATION},
		{4097, BGP_MSG_ROUTE_REFRESH},
	};
	for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
		m[16] = (uint8_t)(bad_len[i].len >> 8);
		m[17] = (uint8_t)bad_len[i].len;
		m[18] = bad_len[i].type;
		expect_err(bgp_msg_header(m, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);
		/* RFC 4271 6.1: the data is the erroneous length field */
		assert_int_equal(e.data_len, 2);
		assert_int_equal(e.data[0] << 8 | e.data[1], bad_len[i].len);
	}

	m[16] = 0;
	m[17] = 19;
	m[18] = 9; /* no such type */
	expect_err(bgp_msg_header(m, &type, &len, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_TYPE);
	assert_int_equal(e.data_len, 1);
	assert_int_equal(e.data[0], 9);
}

static void test_open_errors(void **state)
{
	(void)state;
	/* version 4, AS 65002, hold 90, id 10.77.0.2, 4-octet AS cap 65002 */
	uint8_t b[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 8, 2, 6, 0x41, 4, 0, 0, 0xfd, 0xea};
	struct bgp_open o;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_open_decode(b, sizeof b, &o, &e), 0);
	assert_int_equal(bgp_msg_open_check(&o, 65002, &e), 0);

	expect_err(bgp_msg_open_check(&o, 65099, &e), &e, BGP_ERR_OPEN, BGP_ERR_OPEN_AS);

	o.version = 3;
	expect_err(bgp_msg_open_check(&o, 65002, &e), &e, BGP_ERR_OPEN, BGP_ERR_OPEN_VERSION);
	assert_int_equal(e.data_len, 2); /* the version we support */
	assert_int_equal(e.data[1], 4);

	assert_int_equal(bgp_msg_open_decode(b, sizeof b, &o, &e), 0);
	o.hold_time = 2;
	expect_err(bgp_msg_open_check(&o, 65002, &e), &e, BGP_ERR_OPEN, BGP_ERR_OPEN_HOLD);
	o.hold_time = 0; /* 0 is legal: no keepalives */
	assert_int_equal(bgp_msg_open_check(&o, 65002, &e), 0);
	o.bgp_id = 0;
	expect_err(bgp_msg_open_check(&o, 65002, &e), &e, BGP_ERR_OPEN, BGP_ERR_OPEN_ID);

	/* the 2-octet field and the 4-octet capability disagree on a 2-octet AS */
	assert_int_equal(bgp_msg_open_decode(b, sizeof b, &o, &e), 0);
	o.my_as = 65003;
	expect_err(bgp_msg_open_check(&o, 65002, &e), &e, BGP_ERR_OPEN, BGP_ERR_OPEN_AS);

	/* optional parameter of another type than capabilities */
	uint8_t c[sizeof b];
	memcpy(c, b, sizeof b);
	c[10] = 1;
	expect_err(bgp_msg_open_decode(c, sizeof c, &o, &e), &e, BGP_ERR_OPEN, BGP_ERR_OPEN_OPT);

	/* optional parameters length does not match what follows */
	memcpy(c, b, sizeof b);
	c[9] = 9;
	expect_err(bgp_msg_open_decode(c, sizeof c, &o, &e), &e, BGP_ERR_OPEN, 0);

	/* parameter longer than the rest */
	memcpy(c, b, sizeof b);
	c[11] = 7;
	expect_err(bgp_msg_open_decode(c, sizeof c, &o, &e), &e, BGP_ERR_OPEN, 0);

	/* capability longer than its parameter */
	memcpy(c, b, sizeof b);
	c[13] = 5;
	expect_err(bgp_msg_open_decode(c, sizeof c, &o, &e), &e, BGP_ERR_OPEN, 0);

	/* 4-octet AS capability of 3 bytes */
	uint8_t d[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 7, 2, 5, 0x41, 3, 0, 0xfd, 0xea};
	expect_err(bgp_msg_open_decode(d, sizeof d, &o, &e), &e, BGP_ERR_OPEN, 0);

	/* truncated fixed part */
	expect_err(bgp_msg_open_decode(b, 9, &o, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);

	/* an unknown capability is ignored (RFC 5492) */
	uint8_t u[] = {4, 0xfd, 0xea, 0, 90, 10, 77, 0, 2, 4, 2, 2, 0x47, 0};
	assert_int_equal(bgp_msg_open_decode(u, sizeof u, &o, &e), 0);
	assert_false(o.has_as4);
	assert_int_equal(bgp_msg_open_as(&o), 65002);
}

/* Copies upd_v4's body, lets f mutate it, decodes. */
static int upd_v4_mutated(void (*f)(uint8_t *body, size_t *len), struct bgp_update_info *u,
			  struct bgp_msg_err *e)
{
	uint8_t body[BGP_MSG_MAX];
	size_t len = sizeof upd_v4 - BGP_HDR_LEN;
	memcpy(body, upd_v4 + BGP_HDR_LEN, len);
	f(body, &len);
	return bgp_msg_update_decode(body, len, true, u, e);
}

/* body offsets in upd_v4: 0 wlen, 2 alen, 4 ORIGIN, 8 AS_PATH, 17 NEXT_HOP, 24 COMMUNITIES, 35 NLRI */
static void m_wlen(uint8_t *b, size_t *l) { (void)l; b[1] = 0x30; }
static void m_alen(uint8_t *b, size_t *l) { (void)l; b[3] = 0x40; }
static void m_attrlen(uint8_t *b, size_t *l) { (void)l; b[26] = 0x20; }
static void m_nlri33(uint8_t *b, size_t *l) { (void)l; b[35] = 33; }
static void m_nlri_short(uint8_t *b, size_t *l) { (*l)--; (void)b; }
static void m_origin(uint8_t *b, size_t *l) { (void)l; b[7] = 3; }
static void m_comm_len(uint8_t *b, size_t *l)
{
	/* COMMUNITIES of 7 bytes: the 8th becomes... the NLRI must stay aligned, so shorten both */
	b[26] = 7;
	memmove(b + 34, b + 35, 5);
	b[3] = 0x1e;
	(*l)--;
}
static void m_no_nexthop(uint8_t *b, size_t *l)
{
	memmove(b + 17, b + 24, *l - 24);
	*l -= 7;
	b[3] = 0x1f - 7;
}
static void m_nexthop_flags(uint8_t *b, size_t *l) { (void)l; b[17] = 0xc0; }
static void m_aspath_seg(uint8_t *b, size_t *l) { (void)l; b[11] = 5; }

static void test_update_errors(void **state)
{
	(void)state;
	struct bgp_update_info u;
	struct bgp_msg_err e;

	expect_err(upd_v4_mutated(m_wlen, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST);
	expect_err(upd_v4_mutated(m_alen, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST);
	expect_err(upd_v4_mutated(m_nlri33, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_NETWORK);
	expect_err(upd_v4_mutated(m_nlri_short, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_NETWORK);

	/* RFC 7606: these keep the session and withdraw the NLRI */
	void (*taw[])(uint8_t *, size_t *) = {m_origin, m_comm_len, m_no_nexthop, m_nexthop_flags,
					      m_aspath_seg, m_attrlen};
	for (size_t i = 0; i < sizeof taw / sizeof taw[0]; i++) {
		assert_int_equal(upd_v4_mutated(taw[i], &u, &e), 0);
		assert_true(u.treat_as_withdraw);
		assert_non_null(u.taw_reason);
		assert_int_equal(u.announced, 0);
		assert_int_equal(u.withdrawn, 1);
	}

	/* withdrawn prefix longer than 32 */
	uint8_t w[] = {0, 5, 33, 1, 2, 3, 4, 0, 0};
	expect_err(bgp_msg_update_decode(w, sizeof w, true, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_NETWORK);

	/* attribute header cut after the type: treat-as-withdraw (RFC 7606 4), nothing to withdraw */
	uint8_t h[] = {0, 0, 0, 2, 0x40, 0x01};
	assert_int_equal(bgp_msg_update_decode(h, sizeof h, true, &u, &e), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(u.withdrawn, 0);

	/* MP_REACH with a next hop length past the attribute */
	uint8_t mp[] = {0, 0, 0, 8, 0x80, 0x0e, 5, 0, 2, 1, 16, 0x20};
	expect_err(bgp_msg_update_decode(mp, sizeof mp, true, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR);

	/* MP_UNREACH with an IPv6 prefix of 129 bits */
	uint8_t mu[] = {0, 0, 0, 7, 0x80, 0x0f, 4, 0, 2, 1, 129};
	expect_err(bgp_msg_update_decode(mu, sizeof mu, true, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR);

	/* MP_UNREACH twice */
	uint8_t m2[] = {0, 0, 0, 12, 0x80, 0x0f, 3, 0, 2, 1, 0x80, 0x0f, 3, 0, 2, 1};
	expect_err(bgp_msg_update_decode(m2, sizeof m2, true, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST);

	/* a FlowSpec NLRI cut short (destination /32 with no address bytes) cannot be withdrawn:
	 * an error for the session */
	uint8_t fs[] = {0, 0, 0, 9, 0x80, 0x0f, 6, 0, 1, 133, 2, 1, 0x20};
	expect_err(bgp_msg_update_decode(fs, sizeof fs, true, &u, &e), &e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR);
	/* the same rule whole: one FlowSpec withdrawal */
	uint8_t fsok[] = {0, 0, 0, 13, 0x80, 0x0f, 10, 0, 1, 133, 6, 1, 0x20, 203, 0, 113, 7};
	assert_int_equal(bgp_msg_update_decode(fsok, sizeof fsok, true, &u, &e), 0);
	assert_int_equal(u.withdrawn, 1);
	assert_int_equal(u.flows, 1);
	/* a family we do not know (AFI 1 SAFI 128) is skipped, not an error */
	uint8_t vpn[] = {0, 0, 0, 9, 0x80, 0x0f, 6, 0, 1, 128, 2, 1, 0x20};
	assert_int_equal(bgp_msg_update_decode(vpn, sizeof vpn, true, &u, &e), 0);
	assert_int_equal(u.withdrawn, 0);
	/* extended communities not a multiple of 8, large communities not of 12: treat-as-withdraw */
	uint8_t xc[] = {0, 0, 0, 24, 0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1,
			0xc0, 16, 7, 0x80, 6, 0, 0, 0, 0, 0, 24, 203, 0, 113};
	assert_int_equal(bgp_msg_update_decode(xc, sizeof xc, true, &u, &e), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(u.withdrawn, 1);
	uint8_t lc[] = {0, 0, 0, 28, 0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1,
			0xc0, 32, 11, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 24, 203, 0, 113};
	assert_int_equal(bgp_msg_update_decode(lc, sizeof lc, true, &u, &e), 0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(u.withdrawn, 1);

	/* notification shorter than code + subcode */
	struct bgp_notification n;
	uint8_t nb[1] = {6};
	expect_err(bgp_msg_notification_decode(nb, 1, &n, &e), &e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_encode_4byte_asn_and_mp),
		cmocka_unit_test(test_open_flowspec_caps),
		cmocka_unit_test(test_open_graceful_restart),
		cmocka_unit_test(test_open_extended_next_hop),
		cmocka_unit_test(test_extended_message_header),
		cmocka_unit_test(test_flow_update_encode),
		cmocka_unit_test(test_large_communities_encode),
		cmocka_unit_test(test_keepalive_notification_encode),
		cmocka_unit_test(test_update_v4_encode),
		cmocka_unit_test(test_update_v6_mp_reach_unreach_encode),
		cmocka_unit_test(test_withdraw_v4_encode),
		cmocka_unit_test(test_ibgp_and_2byte_peer),
		cmocka_unit_test(test_update_packing_limit),
		cmocka_unit_test(test_end_of_rib),
		cmocka_unit_test(test_update_decode_vectors),
		cmocka_unit_test(test_route_refresh),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_update_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
