/* bgp/rib_out: the RIB-out (announce, replace, withdraw, interning) and the per-peer queue that
 * turns it into packed UPDATEs, including the full replay a session gets when it comes up. The
 * session's output is a sink here; every message it receives is checked by the real decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "bgp/msg.h"
#include "bgp/flow_rib.h"
#include "bgp/rib_out.h"
#include "flowspec/fs.h"

struct sink {
	uint8_t *buf; /* every message sent, back to back */
	size_t len, cap;
	size_t msgs, eor, announced, withdrawn;
	bool full;     /* what c->full answers */
	bool fail;     /* send fails */
};

static int sink_send(void *arg, const uint8_t *msg, size_t len)
{
	struct sink *s = arg;
	if (s->fail)
		return -1;
	uint8_t type;
	uint16_t mlen;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_header(msg, &type, &mlen, &e), 0);
	assert_int_equal(mlen, len);
	assert_int_equal(type, BGP_MSG_UPDATE);
	struct bgp_update_info u;
	assert_int_equal(bgp_msg_update_decode(msg + BGP_HDR_LEN, len - BGP_HDR_LEN, true, &u, &e), 0);
	assert_false(u.treat_as_withdraw);
	if (s->len + len > s->cap) {
		s->cap = (s->cap + len) * 2;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, msg, len);
	s->len += len;
	s->msgs++;
	s->eor += u.end_of_rib;
	s->announced += u.announced;
	s->withdrawn += u.withdrawn;
	return 0;
}

static bool sink_full(void *arg)
{
	return ((struct sink *)arg)->full;
}

static void sink_clear(struct sink *s)
{
	free(s->buf);
	memset(s, 0, sizeof *s);
}

static bool sink_has(const struct sink *s, const void *bytes, size_t n)
{
	return s->len && memmem(s->buf, s->len, bytes, n) != NULL;
}

static ip_prefix pfx(const char *str)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(str, &p));
	return p;
}

static struct bgp_route_attrs bh(const char *nh)
{
	struct bgp_route_attrs a = {0};
	if (nh)
		assert_true(ip_parse(nh, &a.next_hop));
	a.communities[0] = BGP_COMMUNITY_BLACKHOLE;
	a.communities[1] = BGP_COMMUNITY_NO_EXPORT;
	a.n_communities = 2;
	return a;
}

static struct bgp_out_ctx ctx(struct sink *s, struct log_once *lo)
{
	struct bgp_out_ctx c = {.local_as = 65001, .ebgp = true, .as4 = true,
				.families = BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST,
				.send = sink_send, .full = sink_full, .arg = s, .no_nexthop = lo};
	assert_true(ip_parse("10.77.0.1", &c.local));
	return c;
}

static const uint8_t comm_bh[] = {0xc0, 0x08, 0x08, 0xff, 0xff, 0x02, 0x9a, 0xff, 0xff, 0xff, 0x01};

static void test_rib_announce_replace_withdraw(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new();
	assert_non_null(rib);
	ip_prefix p1 = pfx("203.0.113.7/32"), p2 = pfx("2001:db8:1::7/128"), p3 = pfx("203.0.113.8/32");
	struct bgp_route_attrs a = bh("192.0.2.254"), b = bh("192.0.2.253");

	assert_int_equal(bgp_rib_announce(rib, &p1, &a), 0);
	assert_int_equal(bgp_rib_announce(rib, &p1, &a), 2); /* unchanged */
	assert_int_equal(bgp_rib_announce(rib, &p2, &a), 0);
	assert_int_equal(bgp_rib_announce(rib, &p3, &a), 0);
	assert_int_equal(bgp_rib_count(rib), 3);
	/* equal attributes are one interned set */
	assert_ptr_equal(bgp_rib_lookup(rib, &p1), bgp_rib_lookup(rib, &p3));

	assert_int_equal(bgp_rib_announce(rib, &p3, &b), 1); /* replaced */
	assert_int_equal(bgp_rib_count(rib), 3);
	const struct bgp_rib_attrs *x = bgp_rib_lookup(rib, &p3);
	assert_non_null(x);
	assert_ptr_not_equal(x, bgp_rib_lookup(rib, &p1));
	assert_true(ip_equal(&x->a.next_hop, &b.next_hop));

	assert_int_equal(bgp_rib_withdraw(rib, &p1), 0);
	assert_int_equal(bgp_rib_withdraw(rib, &p1), -1);
	assert_null(bgp_rib_lookup(rib, &p1));
	assert_int_equal(bgp_rib_count(rib), 2);
	/* the same address with another length is another route */
	ip_prefix p1_24 = pfx("203.0.113.0/24");
	assert_int_equal(bgp_rib_withdraw(rib, &p1_24), -1);

	/* many, to make the table grow and rehash, then all gone */
	for (uint32_t i = 0; i < 50000; i++) {
		ip_prefix p = {.len = 32};
		ip_from_v4_u32(&p.addr, 0xc6120000u + i);
		assert_int_equal(bgp_rib_announce(rib, &p, &a), 0);
	}
	assert_int_equal(bgp_rib_count(rib), 50002);
	for (uint32_t i = 0; i < 50000; i++) {
		ip_prefix p = {.len = 32};
		ip_from_v4_u32(&p.addr, 0xc6120000u + i);
		assert_int_equal(bgp_rib_withdraw(rib, &p), 0);
	}
	assert_int_equal(bgp_rib_count(rib), 2);
	assert_non_null(bgp_rib_lookup(rib, &p2));
	bgp_rib_free(rib);
}

/* One announcement becomes exactly the UPDATE a router must see; its withdrawal, a withdrawal. */
static void test_flush_announce_then_withdraw(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new();
	struct bgp_adj_out q;
	bgp_adj_init(&q);
	struct sink s = {0};
	struct log_once lo = {0};
	struct bgp_out_ctx c = ctx(&s, &lo);
	ip_prefix p = pfx("203.0.113.7/32");
	struct bgp_route_attrs a = bh("192.0.2.254");

	assert_int_equal(bgp_rib_announce(rib, &p, &a), 0);
	assert_int_equal(bgp_adj_push(&q, &p), 0);
	assert_true(bgp_adj_pending(&q));
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_false(bgp_adj_pending(&q));
	static const uint8_t want[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x3b, 0x02, 0x00, 0x00, 0x00, 0x1f,
		0x40, 0x01, 0x01, 0x00,
		0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
		0x40, 0x03, 0x04, 192, 0, 2, 254,
		0xc0, 0x08, 0x08, 0xff, 0xff, 0x02, 0x9a, 0xff, 0xff, 0xff, 0x01,
		0x20, 203, 0, 113, 7,
	};
	assert_int_equal(s.len, sizeof want);
	assert_memory_equal(s.buf, want, sizeof want);
	assert_int_equal(c.updates, 1);
	assert_int_equal(c.prefixes, 1);

	sink_clear(&s);
	assert_int_equal(bgp_rib_withdraw(rib, &p), 0);
	assert_int_equal(bgp_adj_push(&q, &p), 0);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.msgs, 1);
	assert_int_equal(s.withdrawn, 1);
	assert_int_equal(s.announced, 0);
	static const uint8_t wd[] = {0x00, 0x05, 0x20, 203, 0, 113, 7, 0x00, 0x00};
	assert_memory_equal(s.buf + BGP_HDR_LEN, wd, sizeof wd);
	assert_int_equal(c.prefixes, 1); /* withdrawals are not prefixes sent */

	sink_clear(&s);
	bgp_adj_free(&q);
	bgp_rib_free(rib);
}

/* A replaced route is sent once with its new attributes; a route announced and withdrawn before
 * the peer was written to costs one withdrawal, not both. */
static void test_flush_replace_and_churn(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new();
	struct bgp_adj_out q;
	bgp_adj_init(&q);
	struct sink s = {0};
	struct bgp_out_ctx c = ctx(&s, NULL);
	ip_prefix p = pfx("203.0.113.7/32"), r = pfx("2001:db8:1::7/128");
	struct bgp_route_attrs a = bh("192.0.2.254");

	assert_int_equal(bgp_rib_announce(rib, &p, &a), 0);
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	sink_clear(&s);

	struct bgp_route_attrs b = a;
	b.communities[0] = 0xfde90001; /* 65001:1 */
	b.n_communities = 1;
	assert_int_equal(bgp_rib_announce(rib, &p, &b), 1);
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.msgs, 1);
	assert_int_equal(s.announced, 1);
	static const uint8_t comm_new[] = {0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x01};
	assert_true(sink_has(&s, comm_new, sizeof comm_new));
	assert_false(sink_has(&s, comm_bh, sizeof comm_bh));
	sink_clear(&s);

	/* churn while not flushed: announce, withdraw, announce, withdraw */
	struct bgp_route_attrs a6 = bh("2001:db8::254");
	for (int i = 0; i < 3; i++) {
		bgp_rib_announce(rib, &r, &a6);
		bgp_adj_push(&q, &r);
		bgp_rib_withdraw(rib, &r);
		bgp_adj_push(&q, &r);
	}
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.msgs, 1);
	assert_int_equal(s.withdrawn, 1);
	assert_int_equal(s.announced, 0);

	sink_clear(&s);
	bgp_adj_free(&q);
	bgp_rib_free(rib);
}

/* Session up: every route of the RIB-out, packed by attributes, then End-of-RIB per family. */
static void test_replay_on_session_up(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new();
	struct bgp_adj_out q;
	bgp_adj_init(&q);
	struct sink s = {0};
	struct bgp_out_ctx c = ctx(&s, NULL);
	struct bgp_route_attrs a = bh("192.0.2.254"), b = bh("192.0.2.253"), a6 = bh("2001:db8::254");
	enum { N4 = 3000, N6 = 200 };
	for (uint32_t i = 0; i < N4; i++) {
		ip_prefix p = {.len = 32};
		ip_from_v4_u32(&p.addr, 0xc6120000u + i);
		assert_true(bgp_rib_announce(rib, &p, i % 2 ? &a : &b) >= 0);
	}
	for (uint32_t i = 0; i < N6; i++) {
		ip_prefix p = pfx("2001:db8:1::/128");
		p.addr.b[14] = (uint8_t)(i >> 8);
		p.addr.b[15] = (uint8_t)i;
		assert_true(bgp_rib_announce(rib, &p, &a6) >= 0);
	}
	uint32_t fams = BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST;
	assert_int_equal(bgp_adj_replay(&q, rib, fams), 0);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, N4 + N6);
	assert_int_equal(s.withdrawn, 0);
	assert_int_equal(s.eor, 2);
	assert_int_equal(c.prefixes, N4 + N6);
	/* packed: 3000 /32 at 5 bytes in two attribute groups, 200 /128 at 17 bytes */
	assert_true(s.msgs <= 2 + 2 + 1 + 2);
	/* the End-of-RIBs come last */
	static const uint8_t eor6_tail[] = {0x80, 0x0f, 0x03, 0x00, 0x02, 0x01};
	assert_memory_equal(s.buf + s.len - sizeof eor6_tail, eor6_tail, sizeof eor6_tail);

	/* the session drops and comes back: the queue is reset, the replay sends it all again */
	sink_clear(&s);
	bgp_adj_reset(&q);
	assert_false(bgp_adj_pending(&q));
	assert_int_equal(bgp_adj_replay(&q, rib, fams), 0);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, N4 + N6);
	assert_int_equal(s.eor, 2);

	/* a session with IPv4 only gets no IPv6 route and no IPv6 End-of-RIB */
	sink_clear(&s);
	c.families = BGP_FAM_IPV4_UNICAST;
	assert_int_equal(bgp_adj_replay(&q, rib, fams), 0);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, N4);
	assert_int_equal(s.eor, 1);

	sink_clear(&s);
	bgp_adj_free(&q);
	bgp_rib_free(rib);
}

/* A full output pauses the flush without losing anything; a dead one reports it. */
static void test_flush_backpressure_and_failure(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new();
	struct bgp_adj_out q;
	bgp_adj_init(&q);
	struct sink s = {0};
	struct bgp_out_ctx c = ctx(&s, NULL);
	struct bgp_route_attrs a = bh("192.0.2.254");
	for (uint32_t i = 0; i < 2000; i++) {
		ip_prefix p = {.len = 32};
		ip_from_v4_u32(&p.addr, 0xc6120000u + i);
		bgp_rib_announce(rib, &p, &a);
		bgp_adj_push(&q, &p);
	}
	s.full = true;
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 0);
	assert_int_equal(s.msgs, 0);
	assert_true(bgp_adj_pending(&q));
	s.full = false;
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, 2000);

	ip_prefix p = pfx("203.0.113.7/32");
	bgp_rib_announce(rib, &p, &a);
	bgp_adj_push(&q, &p);
	s.fail = true;
	assert_int_equal(bgp_adj_flush(&q, rib, &c), -1);

	sink_clear(&s);
	bgp_adj_free(&q);
	bgp_rib_free(rib);
}

/* No configured next hop: our session address; an IPv4 route over an IPv6-only session has no
 * usable next hop and is skipped (logged once), not sent wrong. */
static void test_next_hop_resolution(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new();
	struct bgp_adj_out q;
	bgp_adj_init(&q);
	struct sink s = {0};
	struct log_once lo = {0};
	struct bgp_out_ctx c = ctx(&s, &lo);
	ip_prefix p = pfx("203.0.113.7/32");
	struct bgp_route_attrs a = bh(NULL);
	bgp_rib_announce(rib, &p, &a);
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	static const uint8_t nh_local[] = {0x40, 0x03, 0x04, 10, 77, 0, 1};
	assert_true(sink_has(&s, nh_local, sizeof nh_local));
	sink_clear(&s);

	assert_true(ip_parse("2001:db8:77::1", &c.local));
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.msgs, 0);
	assert_true(lo.printed || lo.count > 0);

	/* with Extended Next Hop (RFC 8950) the IPv6 session address is the IPv4 route's next hop,
	 * in MP_REACH_NLRI AFI 1 and without NEXT_HOP */
	c.ext_nh = true;
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, 1);
	static const uint8_t mp_v4_v6nh[] = {0x00, 0x01, 0x01, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x77,
					     0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x20, 203, 0, 113, 7};
	assert_true(sink_has(&s, mp_v4_v6nh, sizeof mp_v4_v6nh));
	static const uint8_t nh_attr[] = {0x40, 0x03, 0x04};
	assert_false(sink_has(&s, nh_attr, sizeof nh_attr));
	sink_clear(&s);
	/* a configured IPv6 next hop: the same, and only with the capability */
	struct bgp_route_attrs a6 = bh("2001:db8::254");
	bgp_rib_announce(rib, &p, &a6);
	assert_true(ip_parse("10.77.0.1", &c.local));
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, 1);
	sink_clear(&s);
	c.ext_nh = false;
	bgp_adj_push(&q, &p);
	assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
	assert_int_equal(s.announced, 0);

	sink_clear(&s);
	bgp_adj_free(&q);
	bgp_rib_free(rib);
}

/* ---- FlowSpec: the flow RIB-out and its per-peer queue ---- */

#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

static void flow_key_of(const char *text, uint8_t *afi, uint8_t *nlri, size_t *len, uint8_t *ext, size_t *n_ext)
{
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err;
	assert_true(fs_text_parse(text, &r, &a, &err));
	struct wbuf w = wbuf_init(nlri, FS_NLRI_MAX + 2);
	assert_true(fs_nlri_encode(&r, &w, &err));
	*len = w.len;
	*afi = r.afi;
	if (ext) {
		struct wbuf we = wbuf_init(ext, BGP_FLOW_EXT_MAX);
		assert_true(fs_actions_encode(&a, &we, &err));
		*n_ext = we.len / 8;
	}
}

static void flow_set(struct bgp_flow_rib *rib, struct bgp_flow_q *q, const char *text, int want)
{
	uint8_t afi, nlri[FS_NLRI_MAX + 2], ext[BGP_FLOW_EXT_MAX];
	size_t len, n_ext;
	flow_key_of(text, &afi, nlri, &len, ext, &n_ext);
	assert_int_equal(bgp_flow_rib_set(rib, afi, nlri, len, ext, n_ext), want);
	if (q)
		assert_int_equal(bgp_flow_q_push(q, afi, nlri, len), 0);
}

static void flow_del(struct bgp_flow_rib *rib, struct bgp_flow_q *q, const char *text, int want)
{
	uint8_t afi, nlri[FS_NLRI_MAX + 2];
	size_t len;
	flow_key_of(text, &afi, nlri, &len, NULL, NULL);
	assert_int_equal(bgp_flow_rib_del(rib, afi, nlri, len), want);
	if (q)
		assert_int_equal(bgp_flow_q_push(q, afi, nlri, len), 0);
}

static struct bgp_out_ctx flow_ctx(struct sink *sk, uint32_t families)
{
	return (struct bgp_out_ctx){.local_as = 65001, .ebgp = true, .as4 = true, .families = families,
				    .send = sink_send, .full = sink_full, .arg = sk};
}

static void test_flow_rib_and_queue(void **state)
{
	(void)state;
	struct bgp_flow_rib rib;
	struct bgp_flow_q q;
	struct sink sk = {0};
	bgp_flow_rib_init(&rib);
	bgp_flow_q_init(&q);

	/* two IPv4 rules sharing "discard", one with its own rate, one IPv6 rule */
	flow_set(&rib, &q, "destination 203.0.113.7/32; protocol udp; source-port =123 then discard", 0);
	flow_set(&rib, &q, "destination 203.0.113.8/32; protocol udp; source-port =123 then discard", 0);
	flow_set(&rib, &q, "destination 203.0.113.9/32 then rate-limit 125000", 0);
	flow_set(&rib, &q, "destination 2001:db8::1/128 then discard", 0);
	/* same rule, same actions: unchanged; other actions: replaced; queued once */
	flow_set(&rib, &q, "destination 203.0.113.9/32 then rate-limit 125000", 2);
	flow_set(&rib, &q, "destination 203.0.113.9/32 then rate-limit 250000", 1);
	assert_int_equal(rib.n, 4);
	assert_int_equal(q.n, 4);

	struct bgp_out_ctx c = flow_ctx(&sk, BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC);
	assert_int_equal(bgp_flow_q_flush(&q, &rib, &c), 1);
	assert_int_equal(q.n, 0);
	/* the two discard rules share one MP_REACH; the rate rule and the IPv6 one get their own */
	assert_int_equal(sk.msgs, 3);
	assert_int_equal(sk.announced, 4);
	assert_int_equal(c.prefixes, 4);
	static const uint8_t two[] = {0x90, 0x0e, 0x00, 0x1f, 0x00, 0x01, 0x85, 0x00, 0x00,
				      0x0c, 0x01, 0x20, 203, 0, 113, 7, 0x03, 0x81, 17, 0x06, 0x81, 123,
				      0x0c, 0x01, 0x20, 203, 0, 113, 8, 0x03, 0x81, 17, 0x06, 0x81, 123};
	static const uint8_t rate[] = {0xc0, 0x10, 0x08, 0x80, 0x06, 0x00, 0x00, 0x48, 0x74, 0x24, 0x00};
	static const uint8_t v6[] = {0x90, 0x0e, 0x00, 0x19, 0x00, 0x02, 0x85, 0x00, 0x00, 0x13, 0x01,
				     0x80, 0x00, 0x20, 0x01, 0x0d, 0xb8};
	assert_true(sink_has(&sk, two, sizeof two));
	assert_true(sink_has(&sk, rate, sizeof rate)); /* 250000.0f = 0x48742400 */
	assert_true(sink_has(&sk, v6, sizeof v6));

	/* a withdrawal goes out as MP_UNREACH SAFI 133; withdrawing twice is an error */
	sink_clear(&sk);
	flow_del(&rib, &q, "destination 203.0.113.8/32; protocol udp; source-port =123", 0);
	flow_del(&rib, NULL, "destination 203.0.113.8/32; protocol udp; source-port =123", -1);
	c = flow_ctx(&sk, BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC);
	assert_int_equal(bgp_flow_q_flush(&q, &rib, &c), 1);
	static const uint8_t wd[] = {MARKER, 0x00, 0x2b, 0x02, 0x00, 0x00, 0x00, 0x14,
				     0x90, 0x0f, 0x00, 0x10, 0x00, 0x01, 0x85,
				     0x0c, 0x01, 0x20, 203, 0, 113, 8, 0x03, 0x81, 17, 0x06, 0x81, 123};
	assert_int_equal(sk.len, sizeof wd);
	assert_memory_equal(sk.buf, wd, sizeof wd);

	/* replay to a session that has only IPv6 FlowSpec: the IPv4 rules are not sent */
	sink_clear(&sk);
	assert_int_equal(bgp_flow_q_replay(&q, &rib), 0);
	assert_int_equal(q.n, 3);
	c = flow_ctx(&sk, BGP_FAM_IPV6_FLOWSPEC);
	assert_int_equal(bgp_flow_q_flush(&q, &rib, &c), 1);
	assert_int_equal(sk.msgs, 1);
	assert_int_equal(sk.announced, 1);

	/* a full output pauses and keeps the queue; a failing one reports it */
	sink_clear(&sk);
	assert_int_equal(bgp_flow_q_replay(&q, &rib), 0);
	sk.full = true;
	c = flow_ctx(&sk, BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC);
	assert_int_equal(bgp_flow_q_flush(&q, &rib, &c), 0);
	assert_int_equal(q.n, 3);
	sk.full = false;
	sk.fail = true;
	assert_int_equal(bgp_flow_q_flush(&q, &rib, &c), -1);
	sk.fail = false;
	assert_int_equal(bgp_flow_q_flush(&q, &rib, &c), 1);
	assert_int_equal(sk.announced, 3);

	sink_clear(&sk);
	bgp_flow_q_free(&q);
	bgp_flow_rib_free(&rib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rib_announce_replace_withdraw),
		cmocka_unit_test(test_flush_announce_then_withdraw),
		cmocka_unit_test(test_flush_replace_and_churn),
		cmocka_unit_test(test_replay_on_session_up),
		cmocka_unit_test(test_flush_backpressure_and_failure),
		cmocka_unit_test(test_next_hop_resolution),
		cmocka_unit_test(test_flow_rib_and_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
