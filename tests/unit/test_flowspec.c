/* flowspec/: the RFC 8955 / 8956 NLRI codec, the action communities and the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowspec/fs.h"

#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void prefix(struct fs_rule *r, enum fs_type t, const char *s, uint8_t offset)
{
	struct fs_prefix *fp = t == FS_DST ? &r->dst : &r->src;
	assert_true(ip_prefix_parse(s, &fp->p));
	fp->offset = offset;
	r->present |= (uint16_t)(1u << t);
}

/* encode(r) must be exactly the bytes, and decoding the bytes must give r back. */
static void check_vector(const struct fs_rule *r, const uint8_t *want, size_t n)
{
	uint8_t out[4200];
	struct wbuf w = wbuf_init(out, sizeof out);
	struct fs_err err = {{0}};
	if (!fs_nlri_encode(r, &w, &err))
		fail_msg("encode: %s", err.msg);
	assert_int_equal(w.len, n);
	assert_memory_equal(out, want, n);

	struct fs_rule got;
	struct rbuf rb = rbuf_init(want, n);
	if (!fs_nlri_decode(&rb, (enum fs_afi)r->afi, &got, &err))
		fail_msg("decode: %s", err.msg);
	assert_int_equal(rbuf_left(&rb), 0);
	assert_true(fs_rule_equal(&got, r));
}

static void check_text(const struct fs_rule *r, const char *want)
{
	char buf[2048];
	assert_true(fs_text_format(r, NULL, buf, sizeof buf));
	assert_string_equal(buf, want);
	struct fs_rule back;
	struct fs_err err = {{0}};
	if (!fs_text_parse(buf, &back, NULL, &err))
		fail_msg("parse '%s': %s", buf, err.msg);
	assert_true(fs_rule_equal(&back, r));
}

/* RFC 8955 section 4.2.2, first example: packets to 192.0.2.0/24 and TCP port 25. */
static void test_rfc8955_example1(void **state)
{
	(void)state;
	struct fs_rule r;
	fs_rule_init(&r, FS_AFI_IPV4);
	prefix(&r, FS_DST, "192.0.2.0/24", 0);
	fs_rule_add(&r, FS_PROTO, FS_OP_EQ, 6);
	fs_rule_add(&r, FS_PORT, FS_OP_EQ, 25);
	check_vector(&r, B(0x0b, 0x01, 0x18, 0xc0, 0x00, 0x02, 0x03, 0x81, 0x06, 0x04, 0x81, 0x19));
	check_text(&r, "destination 192.0.2.0/24 protocol =tcp port =25");
}

/* Second example: to 192.0.2.0/24 from 203.0.113.0/24, port {range [137, 139] or 8080}. */
static void test_rfc8955_example2(void **state)
{
	(void)state;
	struct fs_rule r;
	fs_rule_init(&r, FS_AFI_IPV4);
	prefix(&r, FS_DST, "192.0.2.0/24", 0);
	prefix(&r, FS_SRC, "203.0.113.0/24", 0);
	fs_rule_add(&r, FS_PORT, FS_OP_GT | FS_OP_EQ, 137);
	fs_rule_add(&r, FS_PORT, FS_OP_AND | FS_OP_LT | FS_OP_EQ, 139);
	fs_rule_add(&r, FS_PORT, FS_OP_EQ, 8080);
	check_vector(&r, B(0x12, 0x01, 0x18, 0xc0, 0x00, 0x02, 0x02, 0x18, 0xcb, 0x00, 0x71, 0x04,
			   0x03, 0x89, 0x45, 0x8b, 0x91, 0x1f, 0x90));
	check_text(&r, "destination 192.0.2.0/24 source 203.0.113.0/24 port >=137&<=139 =8080");
}

/* RFC 8956 section 3.8: IPv6 prefixes with offsets 64 and 65 (the second with a padding bit). */
static void test_rfc8956_examples(void **state)
{
	(void)state;
	struct fs_rule r;
	fs_rule_init(&r, FS_AFI_IPV6);
	prefix(&r, FS_DST, "2001:db8::/32", 0);
	prefix(&r, FS_SRC, "::1234:5678:9a00:0/104", 64);
	fs_rule_add(&r, FS_PROTO, FS_OP_EQ, 6);
	check_vector(&r, B(0x12, 0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x68, 0x40, 0x12,
			   0x34, 0x56, 0x78, 0x9a, 0x03, 0x81, 0x06));
	check_text(&r, "destination 2001:db8::/32 source ::1234:5678:9a00:0/104/64 next-header =tcp");

	fs_rule_init(&r, FS_AFI_IPV6);
	prefix(&r, FS_DST, "2001:db8::/32", 0);
	prefix(&r, FS_SRC, "::1234:5678:9a00:0/104", 65);
	check_vector(&r, B(0x0f, 0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x68, 0x41, 0x24,
			   0x68, 0xac, 0xf1, 0x34));
}

/* Every component, values in their smallest width, bitmask operators. */
static void test_every_component(void **state)
{
	(void)state;
	struct fs_rule r;
	fs_rule_init(&r, FS_AFI_IPV6);
	prefix(&r, FS_DST, "2001:db8:10::53/128", 0);
	fs_rule_add(&r, FS_PROTO, FS_OP_EQ, 17);
	fs_rule_add(&r, FS_PORT, FS_OP_LT | FS_OP_GT, 22);               /* != 22 */
	fs_rule_add(&r, FS_DPORT, FS_OP_EQ, 0x1f90);                     /* 2 octets */
	fs_rule_add(&r, FS_SPORT, FS_OP_EQ, 123);
	fs_rule_add(&r, FS_ICMP_TYPE, FS_OP_EQ, 128);
	fs_rule_add(&r, FS_ICMP_CODE, FS_OP_EQ, 0);
	fs_rule_add(&r, FS_TCP_FLAGS, FS_OP_MATCH, FS_TCP_SYN);          /* SYN and not ACK */
	fs_rule_add(&r, FS_TCP_FLAGS, FS_OP_AND | FS_OP_NOT, FS_TCP_ACK);
	fs_rule_add(&r, FS_PKT_LEN, FS_OP_GT | FS_OP_EQ, 1000);
	fs_rule_add(&r, FS_DSCP, FS_OP_EQ, 46);
	fs_rule_add(&r, FS_FRAGMENT, FS_OP_MATCH, FS_FRAG_FF | FS_FRAG_LF);
	fs_rule_add(&r, FS_FLOW_LABEL, FS_OP_EQ, 0x12345);               /* 4 octets */
	check_vector(&r, B(0x3b,
			   0x01, 0x80, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
			   0, 0x53,
			   0x03, 0x81, 0x11,
			   0x04, 0x86, 0x16,
			   0x05, 0x91, 0x1f, 0x90,
			   0x06, 0x81, 0x7b,
			   0x07, 0x81, 0x80,
			   0x08, 0x81, 0x00,
			   0x09, 0x01, 0x02, 0xc2, 0x10,
			   0x0a, 0x93, 0x03, 0xe8,
			   0x0b, 0x81, 0x2e,
			   0x0c, 0x81, 0x0c,
			   0x0d, 0xa1, 0x00, 0x01, 0x23, 0x45));
	check_text(&r, "destination 2001:db8:10::53/128 next-header =udp port !=22 destination-port "
		       "=8080 source-port =123 icmp-type =128 icmp-code =0 tcp-flags =syn&!ack "
		       "packet-length >=1000 dscp =46 fragment =first-fragment+last-fragment "
		       "flow-label =74565");
}

/* 240 octets and more take the 2-octet length 0xfnnn. */
static void test_long_length(void **state)
{
	(void)state;
	struct fs_rule r;
	fs_rule_init(&r, FS_AFI_IPV4);
	for (int t = FS_PROTO; t <= FS_FRAGMENT; t++)
		for (int i = 0; i < FS_MAX_TERMS; i++)
			fs_rule_add(&r, (enum fs_type)t, (uint8_t)((i ? FS_OP_AND : 0) |
				    (fs_type_is_bitmask((enum fs_type)t) ? FS_OP_NOT : FS_OP_EQ)), 1);
	uint8_t out[4200];
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_true(fs_nlri_encode(&r, &w, NULL));
	size_t body = 10 * (1 + 2 * FS_MAX_TERMS);
	assert_int_equal(w.len, body + 2);
	assert_int_equal(out[0], 0xf0 | body >> 8);
	assert_int_equal(out[1], body & 0xff);
	struct fs_rule got;
	struct rbuf rb = rbuf_init(out, w.len);
	assert_true(fs_nlri_decode(&rb, FS_AFI_IPV4, &got, NULL));
	assert_true(fs_rule_equal(&got, &r));

	/* a 2-octet length may also carry a short NLRI */
	rb = rbuf_init(B(0xf0, 0x03, 0x03, 0x81, 0x06));
	assert_true(fs_nlri_decode(&rb, FS_AFI_IPV4, &got, NULL));
	assert_int_equal(got.c[FS_PROTO].t[0].value, 6);
}

/* NLRIs back to back, as in MP_REACH_NLRI; a leading AND bit is dropped; wider values accepted. */
static void test_decode_sequence(void **state)
{
	(void)state;
	struct rbuf rb = rbuf_init(B(0x03, 0x03, 0xc1, 0x06, 0x04, 0x04, 0x91, 0x00, 0x19));
	struct fs_rule a, b;
	struct fs_err err;
	assert_true(fs_nlri_decode(&rb, FS_AFI_IPV4, &a, &err));
	assert_int_equal(a.c[FS_PROTO].t[0].op, FS_OP_EQ);
	assert_true(fs_nlri_decode(&rb, FS_AFI_IPV4, &b, &err));
	assert_int_equal(b.c[FS_PORT].t[0].value, 25);
	assert_int_equal(rbuf_left(&rb), 0);
	assert_false(fs_nlri_decode(&rb, FS_AFI_IPV4, &b, &err));
	/* re-encoded canonically: AND bit clear, port in one octet */
	uint8_t out[16];
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_true(fs_nlri_encode(&b, &w, NULL));
	assert_int_equal(w.len, 4);
	assert_memory_equal(out, ((uint8_t[]){0x03, 0x04, 0x81, 0x19}), 4);
}

/* Bits with no meaning are ignored on receipt, not refused (docs/FLOWS.md): the rule decodes to
 * what it matches and re-encodes with those bits clear. in/out are NLRIs, length octet included. */
static void repaired(enum fs_afi afi, const uint8_t *in, size_t n, const uint8_t *want, size_t wn)
{
	struct rbuf rb = rbuf_init(in, n);
	struct fs_rule r;
	struct fs_err err = {{0}};
	if (!fs_nlri_decode(&rb, afi, &r, &err))
		fail_msg("refused: %s", err.msg);
	assert_int_equal(rbuf_left(&rb), 0);
	uint8_t out[64];
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_true(fs_nlri_encode(&r, &w, &err));
	assert_int_equal(w.len, wn);
	assert_memory_equal(out, want, wn);
}

static void test_decode_ignores_meaningless_bits(void **state)
{
	(void)state;
	const enum fs_afi V4 = FS_AFI_IPV4, V6 = FS_AFI_IPV6;
	/* prefix padding after /7 and /8 (RFC 4271 4.3): dst 192.0.0.0/7, IPv6 dst /8 offset 4 */
	repaired(V4, B(0x03, 0x01, 0x07, 0xc1), B(0x03, 0x01, 0x07, 0xc0));
	repaired(V6, B(0x04, 0x01, 0x08, 0x04, 0x0f), B(0x04, 0x01, 0x08, 0x04, 0x00));
	/* BIRD's lib/flowspec_test.c: 5.6.127.0/21 padded, repaired to 5.6.120.0/21 */
	repaired(V4, B(0x0a, 0x01, 0x15, 0x05, 0x06, 0x7f, 0x02, 0x18, 0x05, 0x06, 0x7f),
		 B(0x0a, 0x01, 0x15, 0x05, 0x06, 0x78, 0x02, 0x18, 0x05, 0x06, 0x7f));
	/* reserved operator bits (RFC 8955 4.2.1.1 / 4.2.1.2: "MUST be ignored on receipt") */
	repaired(V4, B(0x03, 0x03, 0x89, 0x06), B(0x03, 0x03, 0x81, 0x06));
	repaired(V4, B(0x03, 0x09, 0x84, 0x02), B(0x03, 0x09, 0x80, 0x02));
	repaired(V4, B(0x03, 0x09, 0x88, 0x02), B(0x03, 0x09, 0x80, 0x02));
	/* TCP flags: the data offset nibble of the 2-octet form is "don't care" (RFC 8955 4.2.2.9) */
	repaired(V4, B(0x04, 0x09, 0x91, 0xff, 0x3a), B(0x04, 0x09, 0x91, 0x0f, 0x3a));
	repaired(V4, B(0x04, 0x09, 0x91, 0xf0, 0x02), B(0x03, 0x09, 0x81, 0x02));
	/* fragment bits 4-7, and DF in IPv6 (RFC 8956 3.6), are not defined */
	repaired(V4, B(0x03, 0x0c, 0x81, 0xff), B(0x03, 0x0c, 0x81, 0x0f));
	repaired(V4, B(0x03, 0x0c, 0x81, 0x12), B(0x03, 0x0c, 0x81, 0x02));
	repaired(V6, B(0x03, 0x0c, 0x81, 0xff), B(0x03, 0x0c, 0x81, 0x0e));
	/* numeric values keep their range check: nothing to ignore in a number */
	struct rbuf rb = rbuf_init(B(0x03, 0x0b, 0x81, 0x40));
	struct fs_rule r;
	assert_false(fs_nlri_decode(&rb, V4, &r, NULL));
	/* encode still refuses what it must never send */
	fs_rule_init(&r, V4);
	fs_rule_add(&r, FS_TCP_FLAGS, FS_OP_MATCH, 0x1000);
	uint8_t out[16];
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_false(fs_nlri_encode(&r, &w, NULL));
}

static void bad_nlri(enum fs_afi afi, const uint8_t *p, size_t n, const char *want)
{
	struct rbuf rb = rbuf_init(p, n);
	struct fs_rule r;
	struct fs_err err = {{0}};
	if (fs_nlri_decode(&rb, afi, &r, &err))
		fail_msg("decoded, wanted error '%s'", want);
	if (!strstr(err.msg, want))
		fail_msg("error '%s', wanted '%s'", err.msg, want);
}

static void test_decode_errors(void **state)
{
	(void)state;
	const enum fs_afi V4 = FS_AFI_IPV4, V6 = FS_AFI_IPV6;
	bad_nlri(V4, NULL, 0, "length truncated");
	bad_nlri(V4, B(0xf1), "length truncated");
	bad_nlri(V4, B(0x05, 0x03, 0x81), "exceeds");
	bad_nlri(V4, B(0xf1, 0x00, 0x03), "exceeds");
	bad_nlri(V4, B(0x00), "empty NLRI");
	bad_nlri(V4, B(0x02, 0x00, 0x00), "unknown component type 0");
	bad_nlri(V4, B(0x03, 0x0d, 0x81, 0x01), "unknown component type 13 at octet 0 for IPv4");
	bad_nlri(V6, B(0x03, 0x0e, 0x81, 0x01), "unknown component type 14");
	bad_nlri(V4, B(0x06, 0x03, 0x81, 0x06, 0x03, 0x81, 0x11), "strictly increase");
	bad_nlri(V4, B(0x06, 0x04, 0x81, 0x06, 0x03, 0x81, 0x11), "strictly increase");
	bad_nlri(V4, B(0x06, 0x01, 0x21, 0, 0, 0, 0), "length 33");
	bad_nlri(V6, B(0x04, 0x01, 0x81, 0x00, 0x20), "length 129");
	bad_nlri(V6, B(0x04, 0x01, 0x08, 0x10, 0x20), "offset 16 invalid");
	bad_nlri(V4, B(0x04, 0x01, 0x18, 0xc0, 0x00), "needs 3 octets, 2 left");
	bad_nlri(V4, B(0x04, 0x03, 0x91, 0x00, 0x06), "2-octet value, the component allows 1");
	bad_nlri(V4, B(0x0a, 0x04, 0xb1, 0, 0, 0, 0, 0, 0, 0, 0x35), "8-octet value");
	bad_nlri(V4, B(0x03, 0x0b, 0x81, 0x40), "value 64 out of range");
	bad_nlri(V6, B(0x06, 0x0d, 0xa1, 0x00, 0x10, 0x00, 0x00), "out of range");
	bad_nlri(V4, B(0x03, 0x03, 0x01, 0x06), "no end-of-list");
	bad_nlri(V4, B(0x03, 0x04, 0x91, 0x00), "truncated 2-octet value");
	bad_nlri(V4, B(0x04, 0x03, 0x81, 0x06, 0x00), "unknown component type 0 at octet 3");
	bad_nlri((enum fs_afi)3, B(0x03, 0x03, 0x81, 0x06), "afi 3");

	uint8_t many[64] = {0, 0x03};
	size_t n = 2;
	for (int i = 0; i <= FS_MAX_TERMS; i++) {
		many[n++] = i == FS_MAX_TERMS ? 0x81 : 0x01;
		many[n++] = 6;
	}
	many[0] = (uint8_t)(n - 1);
	bad_nlri(V4, many, n, "more than 16 terms");
}

static void bad_rule(const struct fs_rule *r, const char *want)
{
	uint8_t out[256];
	struct wbuf w = wbuf_init(out, sizeof out);
	struct fs_err err = {{0}};
	if (fs_nlri_encode(r, &w, &err))
		fail_msg("encoded, wanted error '%s'", want);
	if (!strstr(err.msg, want))
		fail_msg("error '%s', wanted '%s'", err.msg, want);
}

static void test_encode_errors(void **state)
{
	(void)state;
	struct fs_rule r;
	fs_rule_init(&r, FS_AFI_IPV4);
	bad_rule(&r, "no component");
	r.afi = 0;
	fs_rule_add(&r, FS_PROTO, FS_OP_EQ, 6);
	bad_rule(&r, "no address family");

	fs_rule_init(&r, FS_AFI_IPV4);
	fs_rule_add(&r, FS_FLOW_LABEL, FS_OP_EQ, 1);
	bad_rule(&r, "type 13 is not defined for IPv4");

	fs_rule_init(&r, FS_AFI_IPV4);
	fs_rule_add(&r, FS_PORT, FS_OP_LT | FS_OP_GT | FS_OP_EQ, 1);
	bad_rule(&r, "always true");
	fs_rule_init(&r, FS_AFI_IPV4);
	fs_rule_add(&r, FS_PORT, 0, 1);
	bad_rule(&r, "always false");
	fs_rule_init(&r, FS_AFI_IPV4);
	fs_rule_add(&r, FS_TCP_FLAGS, 0x04, 1);
	bad_rule(&r, "operator bits 0x04");
	fs_rule_init(&r, FS_AFI_IPV4);
	fs_rule_add(&r, FS_PORT, FS_OP_EQ, 70000);
	bad_rule(&r, "value 70000 out of range");
	fs_rule_init(&r, FS_AFI_IPV6);
	fs_rule_add(&r, FS_FRAGMENT, FS_OP_MATCH, FS_FRAG_DF);
	bad_rule(&r, "value 1 out of range");

	fs_rule_init(&r, FS_AFI_IPV4);
	prefix(&r, FS_DST, "2001:db8::/32", 0);
	bad_rule(&r, "not an IPv4 prefix");
	fs_rule_init(&r, FS_AFI_IPV6);
	prefix(&r, FS_DST, "2001:db8::/32", 40);
	bad_rule(&r, "offset 40 invalid");
	fs_rule_init(&r, FS_AFI_IPV6);
	prefix(&r, FS_DST, "2001:db8::/32", 8);
	bad_rule(&r, "bit 2 set outside offset 8");
	fs_rule_init(&r, FS_AFI_IPV4);
	prefix(&r, FS_DST, "192.0.2.0/24", 0);
	r.dst.p.len = 16;
	bad_rule(&r, "bit 22 set outside offset 0..length 16");

	/* a full buffer fails cleanly and says so */
	fs_rule_init(&r, FS_AFI_IPV4);
	prefix(&r, FS_DST, "192.0.2.0/24", 0);
	uint8_t small[5];
	struct wbuf w = wbuf_init(small, sizeof small);
	struct fs_err err;
	assert_false(fs_nlri_encode(&r, &w, &err));
	assert_true(w.err);
	assert_non_null(strstr(err.msg, "no room for a 6-octet NLRI"));
	/* a list cannot grow past FS_MAX_TERMS */
	for (int i = 0; i < FS_MAX_TERMS; i++)
		assert_true(fs_rule_add(&r, FS_PORT, FS_OP_EQ, (uint32_t)i));
	assert_false(fs_rule_add(&r, FS_PORT, FS_OP_EQ, 99));
}

static void check_actions(const struct fs_actions *a, const uint8_t *want, size_t n)
{
	uint8_t out[64];
	struct wbuf w = wbuf_init(out, sizeof out);
	struct fs_err err = {{0}};
	if (!fs_actions_encode(a, &w, &err))
		fail_msg("encode: %s", err.msg);
	assert_int_equal(w.len, n);
	assert_memory_equal(out, want, n);
	struct fs_actions back;
	assert_true(fs_actions_decode(want, n, &back, &err));
	assert_true(fs_actions_equal(&back, a));
}

static void test_actions(void **state)
{
	(void)state;
	struct fs_actions a = {.present = FS_ACT_RATE, .rate = 0};
	check_actions(&a, B(0x80, 0x06, 0, 0, 0, 0, 0, 0));
	a = (struct fs_actions){.present = FS_ACT_RATE, .rate = 1e6f}; /* 1e6 = 0x49742400 */
	check_actions(&a, B(0x80, 0x06, 0, 0, 0x49, 0x74, 0x24, 0x00));
	a = (struct fs_actions){.present = FS_ACT_RATE_PKTS, .rate_pkts = 1000, .rate_id = 7};
	check_actions(&a, B(0x80, 0x0c, 0, 7, 0x44, 0x7a, 0x00, 0x00));
	a = (struct fs_actions){.present = FS_ACT_ACTION, .action = FS_ACTION_SAMPLE | FS_ACTION_TERMINAL};
	check_actions(&a, B(0x80, 0x07, 0, 0, 0, 0, 0, 0x03));
	a = (struct fs_actions){.present = FS_ACT_REDIRECT, .rt_form = FS_RT_AS2, .rt_global = 65000,
				.rt_local = 100};
	check_actions(&a, B(0x80, 0x08, 0xfd, 0xe8, 0, 0, 0, 0x64));
	a = (struct fs_actions){.present = FS_ACT_REDIRECT, .rt_form = FS_RT_IPV4,
				.rt_global = 0xc0000201, .rt_local = 5};
	check_actions(&a, B(0x81, 0x08, 0xc0, 0x00, 0x02, 0x01, 0, 5));
	a = (struct fs_actions){.present = FS_ACT_REDIRECT, .rt_form = FS_RT_AS4,
				.rt_global = 4200000000u, .rt_local = 7};
	check_actions(&a, B(0x82, 0x08, 0xfa, 0x56, 0xea, 0x00, 0, 7));
	a = (struct fs_actions){.present = FS_ACT_MARK, .dscp = 46};
	check_actions(&a, B(0x80, 0x09, 0, 0, 0, 0, 0, 0x2e));
	/* redirect to IP, draft-ietf-idr-flowspec-redirect: IPv4-address-specific 0x010c, copy flag */
	a = (struct fs_actions){.present = FS_ACT_REDIRECT_IP, .redirect_ip = 0xc0000201};
	check_actions(&a, B(0x01, 0x0c, 0xc0, 0x00, 0x02, 0x01, 0, 0));
	a = (struct fs_actions){.present = FS_ACT_REDIRECT_IP, .redirect_ip = 0x0a000001, .redirect_copy = true};
	check_actions(&a, B(0x01, 0x0c, 0x0a, 0x00, 0x00, 0x01, 0, 1));

	/* route targets and other communities pass; the first of a kind counts */
	struct fs_actions got;
	struct fs_err err = {{0}};
	assert_true(fs_actions_decode(B(0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 1,
					0x80, 0x06, 0, 0, 0, 0, 0, 0,
					0x80, 0x06, 0, 0, 0x49, 0x74, 0x24, 0x00), &got, &err));
	assert_int_equal(got.present, FS_ACT_RATE);
	assert_true(got.rate == 0);

	assert_false(fs_actions_decode(B(0x80, 0x06, 0, 0, 0, 0, 0), &got, &err));
	assert_non_null(strstr(err.msg, "not a multiple of 8"));
	assert_false(fs_actions_decode(B(0x80, 0x06, 0, 0, 0x7f, 0xc0, 0, 0), &got, &err)); /* NaN */
	assert_non_null(strstr(err.msg, "finite rate"));
	assert_false(fs_actions_decode(B(0x80, 0x0c, 0, 0, 0xbf, 0x80, 0, 0), &got, &err)); /* -1 */
	assert_false(fs_actions_decode(B(0x80, 0x09, 0, 0, 0, 0, 0, 64), &got, &err));
	assert_non_null(strstr(err.msg, "DSCP 64"));
	assert_false(fs_actions_decode(B(0x80, 0x07, 0, 0, 0, 0, 0, 4), &got, &err));
	assert_non_null(strstr(err.msg, "reserved bits"));
	assert_false(fs_actions_decode(B(0x01, 0x0c, 0xc0, 0, 2, 1, 0, 2), &got, &err));
	assert_non_null(strstr(err.msg, "only copy"));

	uint8_t out[8];
	struct wbuf w = wbuf_init(out, sizeof out);
	a = (struct fs_actions){.present = FS_ACT_MARK, .dscp = 64};
	assert_false(fs_actions_encode(&a, &w, &err));
	a = (struct fs_actions){.present = FS_ACT_RATE, .rate = -5};
	assert_false(fs_actions_encode(&a, &w, &err));
	a = (struct fs_actions){.present = FS_ACT_REDIRECT, .rt_form = FS_RT_AS4, .rt_global = 1,
				.rt_local = 70000};
	assert_false(fs_actions_encode(&a, &w, &err));
	assert_non_null(strstr(err.msg, "does not fit"));
	a = (struct fs_actions){.present = FS_ACT_RATE | FS_ACT_MARK};
	assert_false(fs_actions_encode(&a, &w, &err)); /* two communities, room for one */
	assert_non_null(strstr(err.msg, "no room"));
}

static void test_text_redirect_ip(void **state)
{
	(void)state;
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err = {{0}};
	char buf[512];
	/* ExaBGP's own words for it, pasted */
	assert_true(fs_text_parse("flow route { match { destination 192.0.2.1/32; } then { redirect-to-nexthop-ietf 10.9.8.7; } }",
				  &r, &a, &err));
	assert_int_equal(a.present, FS_ACT_REDIRECT_IP);
	assert_int_equal(a.redirect_ip, 0x0a090807);
	assert_false(a.redirect_copy);
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, "destination 192.0.2.1/32 then redirect-to-nexthop-ietf 10.9.8.7");
	assert_true(fs_text_parse("destination 192.0.2.1/32 then copy-to-nexthop-ietf 10.9.8.7", &r, &a, &err));
	assert_true(a.redirect_copy);
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, "destination 192.0.2.1/32 then copy-to-nexthop-ietf 10.9.8.7");
	/* an IPv6 next hop is the other action (0x000c, attribute 25): test_fs_redirect6.c */
	assert_true(fs_text_parse("destination 192.0.2.1/32 then redirect-to-nexthop-ietf 2001:db8::1", &r, &a, &err));
	assert_int_equal(a.present, FS_ACT_REDIRECT_IP6);
	assert_false(fs_text_parse("destination 192.0.2.1/32 then redirect-to-nexthop-ietf 10.9.8", &r, &a, &err));
	assert_non_null(strstr(err.msg, "IPv4 or IPv6"));
}

static void test_text_parse(void **state)
{
	(void)state;
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err = {{0}};
	const char *s = "destination 192.0.2.10/32 protocol udp source-port 53 packet-length >=512 "
			"then rate-limit 0";
	if (!fs_text_parse(s, &r, &a, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(r.afi, FS_AFI_IPV4);
	assert_int_equal(r.present, 1 << FS_DST | 1 << FS_PROTO | 1 << FS_SPORT | 1 << FS_PKT_LEN);
	assert_int_equal(r.dst.p.len, 32);
	assert_int_equal(r.c[FS_PROTO].t[0].value, 17);
	assert_int_equal(r.c[FS_SPORT].t[0].op, FS_OP_EQ);
	assert_int_equal(r.c[FS_PKT_LEN].t[0].op, FS_OP_GT | FS_OP_EQ);
	assert_int_equal(r.c[FS_PKT_LEN].t[0].value, 512);
	assert_int_equal(a.present, FS_ACT_RATE);
	assert_true(a.rate == 0);
	uint8_t out[64];
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_true(fs_nlri_encode(&r, &w, NULL));
	assert_memory_equal(out, ((uint8_t[]){0x10, 0x01, 0x20, 0xc0, 0x00, 0x02, 0x0a, 0x03, 0x81,
					       0x11, 0x06, 0x81, 0x35, 0x0a, 0x93, 0x02, 0x00}), 17);

	char buf[512];
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, "destination 192.0.2.10/32 protocol =udp source-port =53 "
				 "packet-length >=512 then discard");

	/* ExaBGP's block form, pasted as is */
	s = "flow route { match { destination 10.0.0.1/32; source 10.1.0.0/16; port [ =80 =8080 ]; "
	    "tcp-flags [ =syn&!ack ]; fragment [ not-a-fragment ]; } then { rate-limit 9600; "
	    "redirect 65000:12345; mark 10; action sample; } }";
	if (!fs_text_parse(s, &r, &a, &err))
		fail_msg("%s", err.msg);
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, "destination 10.0.0.1/32 source 10.1.0.0/16 port =80 =8080 "
				 "tcp-flags =syn&!ack fragment !is-fragment then rate-limit 9600 "
				 "action sample redirect 65000:12345 mark 10");
	struct fs_rule r2;
	struct fs_actions a2;
	assert_true(fs_text_parse(buf, &r2, &a2, &err));
	assert_true(fs_rule_equal(&r, &r2));
	assert_true(fs_actions_equal(&a, &a2));

	/* the three redirect forms and the packet rate survive text */
	s = "destination 2001:db8::1/128 then rate-limit-packets 1000.5 redirect 192.0.2.1:7";
	assert_true(fs_text_parse(s, &r, &a, &err));
	assert_int_equal(r.afi, FS_AFI_IPV6);
	assert_int_equal(a.rt_form, FS_RT_IPV4);
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, s);
	s = "destination 2001:db8::1/128 then redirect 65000L:7";
	assert_true(fs_text_parse(s, &r, &a, &err));
	assert_int_equal(a.rt_form, FS_RT_AS4);
	assert_true(fs_text_format(&r, &a, buf, sizeof buf));
	assert_string_equal(buf, s);
	assert_true(fs_text_parse("destination 2001:db8::1/128 then redirect 4200000000:7", &r, &a,
				  &err));
	assert_int_equal(a.rt_form, FS_RT_AS4);
	/* no prefix: flow-label, next-header or a leading "ipv6" make it IPv6 */
	assert_true(fs_text_parse("flow-label 5", &r, NULL, &err));
	assert_int_equal(r.afi, FS_AFI_IPV6);
	assert_true(fs_text_parse("next-header 17", &r, NULL, &err));
	assert_int_equal(r.afi, FS_AFI_IPV6);
	assert_true(fs_text_parse("protocol 17", &r, NULL, &err));
	assert_int_equal(r.afi, FS_AFI_IPV4);
	assert_true(fs_text_parse("ipv6 port 80", &r, NULL, &err));
	assert_int_equal(r.afi, FS_AFI_IPV6);
	assert_true(fs_text_format(&r, NULL, buf, sizeof buf));
	assert_string_equal(buf, "ipv6 port =80");

	/* too small a buffer is refused, not truncated silently */
	assert_false(fs_text_format(&r, &a, buf, 8));
}

static void bad_text(const char *s, const char *want)
{
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err = {{0}};
	if (fs_text_parse(s, &r, &a, &err))
		fail_msg("'%s' parsed, wanted error '%s'", s, want);
	if (!strstr(err.msg, want))
		fail_msg("'%s': error '%s', wanted '%s'", s, err.msg, want);
}

static void test_text_errors(void **state)
{
	(void)state;
	bad_text("", "no component");
	bad_text("destination", "needs a prefix");
	bad_text("destination 192.0.2.1/24", "'192.0.2.1/24': not a prefix");
	bad_text("destination 192.0.2.0/24/4", "offset is for IPv6");
	bad_text("destination 2001:db8::/32/40", "offset beyond");
	bad_text("destination 192.0.2.0/24 source 2001:db8::/32", "mixes IPv4 and IPv6");
	bad_text("protocol", "protocol has no value");
	bad_text("protocol port 80", "column 10: protocol has no value");
	bad_text("protocol udq", "protocol: 'udq' is not a valid value");
	bad_text("port >=65536", "'65536' is not a valid value");
	bad_text("port =-1", "'-1' is not a valid value");
	bad_text("port >=1&", "empty term");
	bad_text("port &>=1", "empty term");
	bad_text("port >=1&&<=2", "empty term");
}

static void test_text_errors2(void **state)
{
	(void)state;
	bad_text("ipv6 destination 192.0.2.0/24", "mixes IPv4 and IPv6");
	bad_text("port 80 ipv6", "column 9: port: 'ipv6' is not a valid value");
	bad_text("colour blue", "column 1: 'colour': unknown keyword");
	bad_text("port 80 port 81", "column 9: 'port': component given twice");
	bad_text("tcp-flags =syn+", "'syn+' is not a valid value");
	bad_text("tcp-flags =bogus", "'bogus' is not a valid value");
	bad_text("dscp 64", "'64' is not a valid value");
	bad_text("destination 192.0.2.0/24 flow-label 1", "type 13 is not defined for IPv4");
	bad_text("destination 2001:db8::/32 fragment dont-fragment", "fragment: term 1: value 1");
	bad_text("port 80 then", "'then' without an action");
	bad_text("port 80 then jump", "column 14: 'jump': unknown action");
	bad_text("port 80 then rate-limit fast", "'fast': not a rate");
	bad_text("port 80 then rate-limit -1", "not a rate");
	bad_text("port 80 then rate-limit", "needs a rate");
	bad_text("port 80 then discard discard", "action given twice");
	bad_text("port 80 then mark 64", "mark needs a DSCP");
	bad_text("port 80 then action jump", "not sample, terminal");
	bad_text("port 80 then redirect 1", "redirect needs");
	bad_text("port 80 then redirect 70000:70000", "4-octet AS takes");
	bad_text("port 80 then redirect 192.0.2.1:70000", "IPv4 form takes");
	char longtok[1100];
	memset(longtok, 'x', sizeof longtok - 1);
	longtok[sizeof longtok - 1] = 0;
	bad_text(longtok, "token longer than");
	char many[400] = "port";
	for (int i = 0; i <= FS_MAX_TERMS; i++)
		strcat(many, " 1");
	bad_text(many, "more than 16 terms");
}

/* Random valid rules: encode then decode, and format then parse, give the same rule. */
static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

static void random_rule(uint64_t *s, struct fs_rule *r)
{
	enum fs_afi afi = rnd(s) & 1 ? FS_AFI_IPV6 : FS_AFI_IPV4;
	fs_rule_init(r, afi);
	static const uint32_t max[] = {[FS_PROTO] = 0xff, [FS_PORT] = 0xffff, [FS_DPORT] = 0xffff,
				       [FS_SPORT] = 0xffff, [FS_ICMP_TYPE] = 0xff, [FS_ICMP_CODE] = 0xff,
				       [FS_TCP_FLAGS] = 0x0fff, [FS_PKT_LEN] = 0xffff, [FS_DSCP] = 0x3f,
				       [FS_FRAGMENT] = 0x0f, [FS_FLOW_LABEL] = 0xfffff};
	for (int t = FS_DST; t <= (afi == FS_AFI_IPV6 ? FS_FLOW_LABEL : FS_FRAGMENT); t++) {
		if (rnd(s) % 3)
			continue;
		if (t <= FS_SRC) {
			struct fs_prefix *fp = t == FS_DST ? &r->dst : &r->src;
			unsigned maxlen = afi == FS_AFI_IPV6 ? 128 : 32, base = afi == FS_AFI_IPV6 ? 0 : 96;
			fp->p.len = (uint8_t)(rnd(s) % (maxlen + 1));
			fp->offset = afi == FS_AFI_IPV6 ? (uint8_t)(rnd(s) % (fp->p.len + 1)) : 0;
			for (unsigned i = fp->offset; i < fp->p.len; i++)
				if (rnd(s) & 1)
					fp->p.addr.b[(base + i) / 8] |= (uint8_t)(0x80 >> ((base + i) % 8));
			r->present |= (uint16_t)(1u << t);
			continue;
		}
		unsigned n = 1 + rnd(s) % FS_MAX_TERMS;
		for (unsigned i = 0; i < n; i++) {
			uint8_t op = rnd(s) & 1 ? FS_OP_AND : 0;
			if (fs_type_is_bitmask((enum fs_type)t))
				op |= (uint8_t)(rnd(s) & 3);
			else
				op |= (uint8_t)(1 + rnd(s) % 6);
			uint32_t v = rnd(s) % 4 ? rnd(s) % (max[t] + 1) : rnd(s) % 3;
			if (t == FS_FRAGMENT && afi == FS_AFI_IPV6)
				v &= 0x0e;
			assert_true(fs_rule_add(r, (enum fs_type)t, op, v));
		}
	}
	if (!r->present)
		fs_rule_add(r, FS_PROTO, FS_OP_EQ, 6);
}

/* ExaBGP's spellings (etc/exabgp/conf-flow.conf): upper-case flag names, ICMP names,
 * traffic-class; NLRI octets as ExaBGP sent them (../shared/data/external/exabgp). */
static void fs_text_nlri(const char *text, const uint8_t *want, size_t n)
{
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err = {{0}};
	if (!fs_text_parse(text, &r, &a, &err))
		fail_msg("'%s': %s", text, err.msg);
	uint8_t out[256];
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_true(fs_nlri_encode(&r, &w, &err));
	assert_int_equal(w.len, n);
	assert_memory_equal(out, want, n);
}

static void test_text_exabgp_names(void **state)
{
	(void)state;
	fs_text_nlri("destination 10.0.0.2/32 tcp-flags [SYN RST&FIN&!=push] then discard",
		     B(0x0f, 0x01, 0x20, 0x0a, 0, 0, 2, 0x09, 0x00, 0x02, 0x00, 0x04, 0x40, 0x01, 0xc3, 0x08));
	fs_text_nlri("destination 10.0.0.2/32 tcp-flags Ack+Urgent then discard",
		     B(0x09, 0x01, 0x20, 0x0a, 0, 0, 2, 0x09, 0x80, 0x30));
	fs_text_nlri("destination 192.168.0.1/32 icmp-type [ unreachable echo-request echo-reply ] "
		     "icmp-code [ host-unreachable network-unreachable ] then discard",
		     B(0x12, 0x01, 0x20, 0xc0, 0xa8, 0, 1, 0x07, 0x01, 0x03, 0x01, 0x08, 0x81, 0x00,
		       0x08, 0x01, 0x01, 0x81, 0x00));
	fs_text_nlri("destination 2001:db8::1/128 traffic-class 10 then discard",
		     B(0x16, 0x01, 0x80, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		       0x0b, 0x81, 0x0a));
	/* names are read, numbers printed: the text still parses back to the rule */
	struct fs_rule r, back;
	struct fs_err err = {{0}};
	assert_true(fs_text_parse("destination 192.0.2.1/32 icmp-type echo-request icmp-code 0", &r, NULL, &err));
	char text[256];
	assert_true(fs_text_format(&r, NULL, text, sizeof text));
	assert_non_null(strstr(text, "icmp-type =8"));
	assert_true(fs_text_parse(text, &back, NULL, &err));
	assert_true(fs_rule_equal(&r, &back));
	/* traffic-class is the DSCP component: 6 bits (RFC 8956 3.7) */
	assert_false(fs_text_parse("destination 2001:db8::1/128 traffic-class 101", &r, NULL, &err));
	assert_false(fs_text_parse("destination 192.0.2.1/32 icmp-type bogus-name", &r, NULL, &err));
}

static void mem_is(const uint8_t *got, const uint8_t *want, size_t n)
{
	assert_memory_equal(got, want, n);
}

/* ExaBGP's then { community; extended-community } and the old redirect/copy IPv4 (conf-flow.conf,
 * conf-flow-redirect.conf): what fs_actions_encode writes, with ExaBGP's octets. */
static void test_text_exabgp_then(void **state)
{
	(void)state;
	struct fs_rule r, back;
	struct fs_actions a, b;
	struct fs_err err = {{0}};
	uint8_t out[FS_ACTIONS_MAX * FS_EXTCOMM_LEN];
	struct wbuf w;

	assert_true(fs_text_parse("destination 10.0.0.2/32 then { discard; community [30740:0 30740:30740 30740:0]; }",
				  &r, &a, &err));
	assert_int_equal(a.present, FS_ACT_RATE);
	assert_int_equal(a.n_comm, 2); /* a set: the repeat is dropped */
	assert_int_equal(a.comm[0], 0x78140000u);
	assert_int_equal(a.comm[1], 0x78147814u);

	assert_true(fs_text_parse("destination 192.168.0.1/32 then { community [30740:0]; extended-community "
				  "[ redirect:65500:12345 origin:2345:6.7.8.9 origin:2.3.4.5:6789 target:70000:1 ]; }",
				  &r, &a, &err));
	assert_int_equal(a.present, 0);
	assert_int_equal(a.n_ext, 4);
	w = wbuf_init(out, sizeof out);
	assert_true(fs_actions_encode(&a, &w, &err));
	assert_int_equal(w.len, 32);
	mem_is(out, B(0x80, 0x08, 0xff, 0xdc, 0x00, 0x00, 0x30, 0x39,
				   0x00, 0x03, 0x09, 0x29, 0x06, 0x07, 0x08, 0x09,
				   0x01, 0x03, 0x02, 0x03, 0x04, 0x05, 0x1a, 0x85, /* RFC 4360 3.2: type 0x01 */
				   0x02, 0x02, 0x00, 0x01, 0x11, 0x70, 0x00, 0x01));
	char text[512];
	assert_true(fs_text_format(&r, &a, text, sizeof text));
	assert_true(fs_text_parse(text, &back, &b, &err));
	assert_true(fs_actions_equal(&a, &b));

	/* redirect 1.2.3.4 / copy 1.2.3.4: 0x0800, copy flag in the last bit; the address is the
	 * MP_REACH next hop */
	assert_true(fs_text_parse("destination 192.168.0.1/32 then { redirect 1.2.3.4; }", &r, &a, &err));
	assert_int_equal(a.present, FS_ACT_REDIRECT_NH);
	assert_false(a.redirect_nh_copy);
	w = wbuf_init(out, sizeof out);
	assert_true(fs_actions_encode(&a, &w, &err));
	mem_is(out, B(0x08, 0x00, 0, 0, 0, 0, 0, 0));
	assert_true(fs_text_parse("destination 10.0.0.2/32 then copy 1.2.3.4 mark 10", &r, &a, &err));
	assert_true(a.redirect_nh_copy);
	w = wbuf_init(out, sizeof out);
	assert_true(fs_actions_encode(&a, &w, &err));
	mem_is(out + 8, B(0x08, 0x00, 0, 0, 0, 0, 0, 1));
	assert_true(fs_text_format(&r, &a, text, sizeof text));
	assert_non_null(strstr(text, "copy 1.2.3.4"));
	assert_true(fs_text_parse(text, &back, &b, &err));
	assert_true(fs_actions_equal(&a, &b));
	/* redirect AS:N keeps its meaning */
	assert_true(fs_text_parse("destination 10.0.0.2/32 then redirect 65001:119", &r, &a, &err));
	assert_int_equal(a.present, FS_ACT_REDIRECT);

	assert_false(fs_text_parse("destination 10.0.0.2/32 then community", &r, &a, &err));
	assert_false(fs_text_parse("destination 10.0.0.2/32 then community [70000:1]", &r, &a, &err));
	assert_false(fs_text_parse("destination 10.0.0.2/32 then extended-community [bogus:1:2]", &r, &a, &err));
	assert_false(fs_text_parse("destination 10.0.0.2/32 then copy 2001:db8::1", &r, &a, &err));
	assert_false(fs_text_parse("destination 10.0.0.2/32 then community [1:1 1:2 1:3 1:4 1:5 1:6 1:7 1:8 1:9]",
				   &r, &a, &err));
}

static void test_random_round_trips(void **state)
{
	(void)state;
	uint64_t seed = 42;
	for (int i = 0; i < 20000; i++) {
		struct fs_rule r, back;
		random_rule(&seed, &r);
		uint8_t out[4200];
		struct wbuf w = wbuf_init(out, sizeof out);
		struct fs_err err = {{0}};
		if (!fs_nlri_encode(&r, &w, &err))
			fail_msg("rule %d: encode: %s", i, err.msg);
		struct rbuf rb = rbuf_init(out, w.len);
		if (!fs_nlri_decode(&rb, (enum fs_afi)r.afi, &back, &err))
			fail_msg("rule %d: decode: %s", i, err.msg);
		assert_int_equal(rbuf_left(&rb), 0);
		assert_true(fs_rule_equal(&r, &back));
		/* and encoding the decoded rule gives the same bytes */
		uint8_t again[4200];
		struct wbuf w2 = wbuf_init(again, sizeof again);
		assert_true(fs_nlri_encode(&back, &w2, NULL));
		assert_int_equal(w2.len, w.len);
		assert_memory_equal(again, out, w.len);

		char text[4096];
		assert_true(fs_text_format(&r, NULL, text, sizeof text));
		if (!fs_text_parse(text, &back, NULL, &err))
			fail_msg("rule %d: '%s': %s", i, text, err.msg);
		if (!fs_rule_equal(&r, &back))
			fail_msg("rule %d: text '%s' gives another rule", i, text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8955_example1),
		cmocka_unit_test(test_rfc8955_example2),
		cmocka_unit_test(test_rfc8956_examples),
		cmocka_unit_test(test_every_component),
		cmocka_unit_test(test_long_length),
		cmocka_unit_test(test_decode_sequence),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_ignores_meaningless_bits),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_text_parse),
		cmocka_unit_test(test_text_redirect_ip),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_text_errors2),
		cmocka_unit_test(test_text_exabgp_names),
		cmocka_unit_test(test_text_exabgp_then),
		cmocka_unit_test(test_random_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
