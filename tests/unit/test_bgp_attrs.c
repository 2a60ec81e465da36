/* bgp/msg: the per-route path attributes (ORIGIN, AS_PATH after our AS, ATOMIC_AGGREGATE,
 * AGGREGATOR, ORIGINATOR_ID, CLUSTER_LIST, AS4_PATH / AS4_AGGREGATOR to a 2-octet peer) and
 * extended messages (RFC 8654), against byte vectors written out by hand from RFC 4271 4.3 / 5.1,
 * RFC 4456 and RFC 6793, not from the encoder. */
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

static ip_prefix pfx(const char *s)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(s, &p));
	return p;
}

static uint32_t v4(const char *s)
{
	ip_addr a;
	assert_true(ip_parse(s, &a));
	return ip_v4_u32(&a);
}

static size_t encode(struct bgp_upd *u, const struct bgp_attr_enc *a, const char *prefix)
{
	assert_int_equal(bgp_msg_upd_begin_announce(u, false, a), 0);
	ip_prefix p = pfx(prefix);
	assert_true(bgp_msg_upd_add(u, &p));
	return bgp_msg_upd_finish(u);
}

static void decodes_clean(const uint8_t *msg, size_t n, bool as4)
{
	struct bgp_update_info ui;
	struct bgp_msg_err e;
	uint8_t type;
	uint16_t len;
	assert_int_equal(bgp_msg_header_ext(msg, n > BGP_MSG_MAX, &type, &len, &e), 0);
	assert_int_equal(len, n);
	assert_int_equal(bgp_msg_update_decode(msg + BGP_HDR_LEN, n - BGP_HDR_LEN, as4, &ui, &e), 0);
	assert_false(ui.treat_as_withdraw);
	assert_true(ui.announced >= 1);
}

/* eBGP, 4-octet session: origin egp, as-path [65010 65020] after our 65001, med 50,
 * atomic-aggregate, aggregator 65000:10.0.0.1, 65535:666. LOCAL_PREF and ORIGINATOR_ID are
 * iBGP-only and must not appear. */
static void test_ebgp_attributes(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		MARKER, 0x00, 0x54, 0x02,
		0x00, 0x00, 0x00, 0x38,
		0x40, 0x01, 0x01, 0x01,                                   /* ORIGIN EGP */
		0x40, 0x02, 0x0e, 0x02, 0x03, 0x00, 0x00, 0xfd, 0xe9,     /* AS_SEQUENCE 65001 */
		0x00, 0x00, 0xfd, 0xf2, 0x00, 0x00, 0xfd, 0xfc,           /* 65010 65020 */
		0x40, 0x03, 0x04, 192, 0, 2, 254,                         /* NEXT_HOP */
		0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x32,                 /* MED 50 */
		0x40, 0x06, 0x00,                                         /* ATOMIC_AGGREGATE */
		0xc0, 0x07, 0x08, 0x00, 0x00, 0xfd, 0xe8, 10, 0, 0, 1,    /* AGGREGATOR 65000 10.0.0.1 */
		0xc0, 0x08, 0x04, 0xff, 0xff, 0x02, 0x9a,                 /* COMMUNITIES 65535:666 */
		0x20, 203, 0, 113, 7,
	};
	struct bgp_route_attrs r = {
		.origin = BGP_ORIGIN_EGP, .as_path = {65010, 65020}, .n_as_path = 2, .atomic_aggregate = true,
		.has_aggregator = true, .aggregator_as = 65000, .aggregator_id = v4("10.0.0.1"),
		.has_originator_id = true, .originator_id = v4("10.0.0.9"),
	};
	static const uint32_t comm[] = {BGP_COMMUNITY_BLACKHOLE};
	struct bgp_attr_enc a = {.ebgp = true, .as4 = true, .local_as = 65001, .med = 50, .has_med = true,
				 .local_pref = 300, .communities = comm, .n_communities = 1, .more = &r};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	struct bgp_upd u;
	size_t n = encode(&u, &a, "203.0.113.7/32");
	assert_int_equal(n, sizeof want);
	assert_memory_equal(u.buf, want, sizeof want);
	decodes_clean(u.buf, n, true);
}

/* Raw attributes (ExaBGP's attribute [CODE FLAGS VALUE]) go between the speaker's own in type
 * order with their flags and length form as given: type 19 before LARGE_COMMUNITY (32), 153
 * with the extended length flag last. iBGP, 4-octet. */
static void test_raw_attributes(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		MARKER, 0x00, 0x4a, 0x02,
		0x00, 0x00, 0x00, 0x2e,
		0x40, 0x01, 0x01, 0x00,                                   /* ORIGIN IGP */
		0x40, 0x02, 0x00,                                         /* empty AS_PATH (iBGP) */
		0x40, 0x03, 0x04, 192, 0, 2, 254,                         /* NEXT_HOP */
		0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,                 /* LOCAL_PREF 100 */
		0xc0, 0x13, 0x02, 0xab, 0xcd,                             /* raw type 19 */
		0xc0, 0x20, 0x0c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,     /* LARGE_COMMUNITY 1:2:3 */
		0x70, 0x99, 0x00, 0x01, 0x2a,                             /* raw 153, 2-octet length */
		0x20, 203, 0, 113, 7,
	};
	struct bgp_route_attrs r = {.raw_attrs = {0xc0, 0x13, 0x02, 0xab, 0xcd, 0x70, 0x99, 0x00, 0x01, 0x2a},
				    .n_raw_attrs = 10};
	static const uint32_t large[][3] = {{1, 2, 3}};
	struct bgp_attr_enc a = {.as4 = true, .local_as = 65001, .large_communities = large,
				 .n_large_communities = 1, .more = &r};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	struct bgp_upd u;
	size_t n = encode(&u, &a, "203.0.113.7/32");
	assert_int_equal(n, sizeof want);
	assert_memory_equal(u.buf, want, sizeof want);
	decodes_clean(u.buf, n, true);
}

/* A path that already starts with our AS (an ExaBGP script writes the whole path) goes as it is. */
static void test_ebgp_path_starting_with_us(void **state)
{
	(void)state;
	struct bgp_route_attrs r = {.as_path = {65001, 65001}, .n_as_path = 2};
	struct bgp_attr_enc a = {.ebgp = true, .as4 = true, .local_as = 65001, .more = &r};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	struct bgp_upd u;
	encode(&u, &a, "203.0.113.7/32");
	static const uint8_t path[] = {0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x0a, 0x02, 0x02,
				       0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0xfd, 0xe9, 0x40, 0x03};
	assert_memory_equal(u.buf + BGP_HDR_LEN + 4, path, sizeof path);
}

/* iBGP: origin incomplete, the path as given, LOCAL_PREF 200, ORIGINATOR_ID, CLUSTER_LIST. */
static void test_ibgp_reflection_attributes(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		MARKER, 0x00, 0x48, 0x02,
		0x00, 0x00, 0x00, 0x2d,
		0x40, 0x01, 0x01, 0x02,                                   /* ORIGIN INCOMPLETE */
		0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xf2,     /* AS_SEQUENCE 65010 */
		0x40, 0x03, 0x04, 192, 0, 2, 254,
		0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0xc8,                 /* LOCAL_PREF 200 */
		0x80, 0x09, 0x04, 10, 0, 0, 9,                            /* ORIGINATOR_ID */
		0x80, 0x0a, 0x08, 10, 0, 0, 1, 10, 0, 0, 2,               /* CLUSTER_LIST */
		0x18, 198, 51, 100,
	};
	struct bgp_route_attrs r = {
		.origin = BGP_ORIGIN_INCOMPLETE, .as_path = {65010}, .n_as_path = 1,
		.has_originator_id = true, .originator_id = v4("10.0.0.9"),
		.cluster_list = {v4("10.0.0.1"), v4("10.0.0.2")}, .n_cluster_list = 2,
	};
	struct bgp_attr_enc a = {.ebgp = false, .as4 = true, .local_as = 65001, .local_pref = 200, .more = &r};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	struct bgp_upd u;
	size_t n = encode(&u, &a, "198.51.100.0/24");
	assert_int_equal(n, sizeof want);
	assert_memory_equal(u.buf, want, sizeof want);
	decodes_clean(u.buf, n, true);
}

/* A 2-octet peer: AS_TRANS in AS_PATH and AGGREGATOR, the real ASNs in AS4_PATH and
 * AS4_AGGREGATOR (RFC 6793 4.2.2). */
static void test_two_octet_peer_as4_attributes(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		MARKER, 0x00, 0x51, 0x02,
		0x00, 0x00, 0x00, 0x35,
		0x40, 0x01, 0x01, 0x00,
		0x40, 0x02, 0x06, 0x02, 0x02, 0xfd, 0xe9, 0x5b, 0xa0,     /* 65001 AS_TRANS */
		0x40, 0x03, 0x04, 192, 0, 2, 254,
		0xc0, 0x07, 0x06, 0x5b, 0xa0, 10, 0, 0, 1,               /* AGGREGATOR AS_TRANS */
		0xc0, 0x11, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x01, /* AS4_PATH */
		0xc0, 0x12, 0x08, 0xfa, 0x56, 0xea, 0x02, 10, 0, 0, 1,    /* AS4_AGGREGATOR */
		0x20, 203, 0, 113, 7,
	};
	struct bgp_route_attrs r = {
		.as_path = {4200000001u}, .n_as_path = 1,
		.has_aggregator = true, .aggregator_as = 4200000002u, .aggregator_id = v4("10.0.0.1"),
	};
	struct bgp_attr_enc a = {.ebgp = true, .as4 = false, .local_as = 65001, .more = &r};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	struct bgp_upd u;
	size_t n = encode(&u, &a, "203.0.113.7/32");
	assert_int_equal(n, sizeof want);
	assert_memory_equal(u.buf, want, sizeof want);
	decodes_clean(u.buf, n, false);
}

/* RFC 8654: with extended messages an UPDATE fills up to 65535 bytes; without, 4096. */
static void test_extended_message_packing(void **state)
{
	(void)state;
	struct bgp_attr_enc a = {.ebgp = true, .as4 = true, .local_as = 65001};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	for (int ext = 0; ext < 2; ext++) {
		struct bgp_upd u;
		assert_int_equal(bgp_msg_upd_begin_announce(&u, false, &a), 0);
		if (ext)
			bgp_msg_upd_set_max(&u, BGP_MSG_EXT_MAX);
		size_t k = 0;
		for (;; k++) {
			ip_prefix p = {.len = 32};
			ip_from_v4_u32(&p.addr, 0x64400000u + (uint32_t)k);
			if (!bgp_msg_upd_add(&u, &p))
				break;
		}
		size_t n = bgp_msg_upd_finish(&u);
		/* header 19, lengths 4, ORIGIN 4 + AS_PATH 9 + NEXT_HOP 7 = 20, then 5 bytes a /32 */
		size_t limit = ext ? 65535 : 4096;
		assert_int_equal(k, (limit - 19 - 4 - 20) / 5);
		assert_int_equal(n, 19 + 4 + 20 + 5 * k);
		assert_int_equal(u.buf[16] << 8 | u.buf[17], n);
		uint8_t type;
		uint16_t len;
		struct bgp_msg_err e;
		assert_int_equal(bgp_msg_header_ext(u.buf, false, &type, &len, &e), ext ? -1 : 0);
		decodes_clean(u.buf, n, true);

		/* withdrawals: the classic field, and the 2-byte attribute length after it still fits */
		bgp_msg_upd_begin_withdraw(&u, false);
		if (ext)
			bgp_msg_upd_set_max(&u, BGP_MSG_EXT_MAX);
		for (k = 0;; k++) {
			ip_prefix p = {.len = 32};
			ip_from_v4_u32(&p.addr, 0x64400000u + (uint32_t)k);
			if (!bgp_msg_upd_add(&u, &p))
				break;
		}
		n = bgp_msg_upd_finish(&u);
		assert_int_equal(k, (limit - 19 - 4) / 5);
		assert_true(n <= limit && n == 19 + 4 + 5 * k);
		assert_int_equal(u.buf[19] << 8 | u.buf[20], 5 * k);
	}
	/* the limit is clamped to what RFC 8654 allows */
	struct bgp_upd u;
	bgp_msg_upd_begin_withdraw(&u, true);
	bgp_msg_upd_set_max(&u, 1 << 20);
	assert_int_equal(u.max, BGP_MSG_EXT_MAX);
	bgp_msg_upd_set_max(&u, 100);
	assert_int_equal(u.max, BGP_MSG_MAX);
}

/* RFC 7313: the ROUTE-REFRESH "Reserved" octet is the subtype: 1 BoRR, 2 EoRR; capability 70
 * carries no value. RFC 4724 3: the Restart State bit is the top bit of the flags+time field. */
static void test_enhanced_route_refresh_and_restart_bit(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	static const uint8_t borr[] = {MARKER, 0x00, 0x17, 0x05, 0x00, 0x01, 0x01, 0x01};
	static const uint8_t eorr6[] = {MARKER, 0x00, 0x17, 0x05, 0x00, 0x02, 0x02, 0x01};
	assert_int_equal(bgp_msg_route_refresh_sub(&w, BGP_AFI_IPV4, BGP_SAFI_UNICAST, BGP_RR_BORR), sizeof borr);
	assert_memory_equal(buf, borr, sizeof borr);
	w = wbuf_init(buf, sizeof buf);
	assert_int_equal(bgp_msg_route_refresh_sub(&w, BGP_AFI_IPV6, BGP_SAFI_UNICAST, BGP_RR_EORR), sizeof eorr6);
	assert_memory_equal(buf, eorr6, sizeof eorr6);
	uint16_t afi;
	uint8_t safi, sub;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_route_refresh_decode_sub(eorr6 + BGP_HDR_LEN, 4, &afi, &safi, &sub, &e), 0);
	assert_int_equal(afi, 2);
	assert_int_equal(safi, 1);
	assert_int_equal(sub, BGP_RR_EORR);

	/* our OPEN offers capability 70; a peer's with a value is malformed */
	w = wbuf_init(buf, sizeof buf);
	size_t n = bgp_msg_open_gr(&w, 65001, 90, 1, BGP_FAM_IPV4_UNICAST, 120, true);
	static const uint8_t err_cap[] = {0x02, 0x00, 0x46, 0x00, 0x06, 0x00};
	assert_non_null(memmem(buf, n, err_cap, sizeof err_cap));
	static const uint8_t gr_r[] = {0x40, 0x06, 0x80, 0x78, 0x00, 0x01, 0x01, 0x80}; /* R, 120 s, F */
	assert_memory_equal(buf + n - sizeof gr_r, gr_r, sizeof gr_r);
	struct bgp_open o;
	assert_int_equal(bgp_msg_open_decode(buf + BGP_HDR_LEN, n - BGP_HDR_LEN, &o, &e), 0);
	assert_true(o.enhanced_rr && o.gr_restarting);
	w = wbuf_init(buf, sizeof buf);
	n = bgp_msg_open_gr(&w, 65001, 90, 1, BGP_FAM_IPV4_UNICAST, 120, false);
	assert_int_equal(buf[n - 6], 0x00); /* no R */
	uint8_t bad[] = {4, 0xfd, 0xe9, 0, 90, 0, 0, 0, 1, 5, 2, 3, 0x46, 0x01, 0x00};
	assert_int_equal(bgp_msg_open_decode(bad, sizeof bad, &o, &e), -1);
	assert_int_equal(e.code, BGP_ERR_OPEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ebgp_attributes), cmocka_unit_test(test_raw_attributes),
		cmocka_unit_test(test_ebgp_path_starting_with_us),
		cmocka_unit_test(test_ibgp_reflection_attributes),
		cmocka_unit_test(test_two_octet_peer_as4_attributes),
		cmocka_unit_test(test_extended_message_packing),
		cmocka_unit_test(test_enhanced_route_refresh_and_restart_bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
