/* bgp/rib_out per peer: a prefix announced to some peers only, or with other attributes at one
 * peer (ExaBGP's `neighbor X announce`), what each peer's queue then sends, the replay that
 * respects it, and extended messages (RFC 8654) through the queue. Every message sent is
 * checked by the real decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "bgp/msg.h"
#include "bgp/rib_out.h"

struct sink {
	uint8_t *buf;
	size_t len, cap;
	size_t msgs, announced, withdrawn, biggest;
};

static int sink_send(void *arg, const uint8_t *msg, size_t len)
{
	struct sink *s = arg;
	uint8_t type;
	uint16_t mlen;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_header_ext(msg, true, &type, &mlen, &e), 0);
	assert_int_equal(mlen, len);
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
	s->announced += u.announced;
	s->withdrawn += u.withdrawn;
	if (len > s->biggest)
		s->biggest = len;
	return 0;
}

static bool never_full(void *arg)
{
	(void)arg;
	return false;
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

static struct bgp_out_ctx ctx(struct sink *s)
{
	struct bgp_out_ctx c = {.local_as = 65001, .ebgp = true, .as4 = true, .families = BGP_FAM_IPV4_UNICAST,
				.send = sink_send, .full = never_full, .arg = s};
	assert_true(ip_parse("10.77.0.1", &c.local));
	return c;
}

static ip_prefix pfx(const char *str)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(str, &p));
	return p;
}

static struct bgp_route_attrs comm(uint32_t c)
{
	struct bgp_route_attrs a = {.n_communities = 1, .communities = {c}};
	assert_true(ip_parse("192.0.2.254", &a.next_hop));
	return a;
}

#define P(i) bgp_peer_bit(i)

static void test_rib_per_peer(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new_peers(3);
	ip_prefix p = pfx("203.0.113.7/32");
	struct bgp_route_attrs a = comm(65001u << 16 | 1), b = comm(65001u << 16 | 2);
	bgp_peer_set ch;

	assert_int_equal(bgp_rib_announce_to(rib, &p, &a, BGP_PEERS_ALL, &ch), 0);
	assert_int_equal(ch, P(0) | P(1) | P(2));
	const struct bgp_rib_attrs *ra = bgp_rib_lookup_peer(rib, &p, 0);
	assert_non_null(ra);
	assert_ptr_equal(bgp_rib_lookup_peer(rib, &p, 2), ra);

	/* peer 1 alone gets other attributes; the others keep theirs */
	assert_int_equal(bgp_rib_announce_to(rib, &p, &b, P(1), &ch), 1);
	assert_int_equal(ch, P(1));
	const struct bgp_rib_attrs *rb = bgp_rib_lookup_peer(rib, &p, 1);
	assert_non_null(rb);
	assert_ptr_not_equal(rb, ra);
	assert_int_equal(rb->a.communities[0], 65001u << 16 | 2);
	assert_ptr_equal(bgp_rib_lookup_peer(rib, &p, 0), ra);
	assert_ptr_equal(bgp_rib_lookup_peer(rib, &p, 2), ra);
	assert_int_equal(bgp_rib_announce_to(rib, &p, &b, P(1), &ch), 2); /* the same again: nothing */
	assert_int_equal(ch, 0);

	/* withdrawn from peer 0 only; a peer that does not have it is not an error only if another does */
	assert_int_equal(bgp_rib_withdraw_from(rib, &p, P(0), &ch), 0);
	assert_int_equal(ch, P(0));
	assert_null(bgp_rib_lookup_peer(rib, &p, 0));
	assert_int_equal(bgp_rib_withdraw_from(rib, &p, P(0), &ch), -1);
	assert_int_equal(bgp_rib_count(rib), 1);

	/* announced to everyone again: one set for all, the per-peer difference gone */
	assert_int_equal(bgp_rib_announce_to(rib, &p, &a, BGP_PEERS_ALL, &ch), 1);
	assert_int_equal(ch, P(0) | P(1));
	for (size_t i = 0; i < 3; i++)
		assert_ptr_equal(bgp_rib_lookup_peer(rib, &p, i), bgp_rib_lookup_peer(rib, &p, 0));

	/* peers 1 and 2 given b, then peer 0 too: collapses back to one shared set */
	assert_int_equal(bgp_rib_announce_to(rib, &p, &b, P(1) | P(2), &ch), 1);
	assert_int_equal(bgp_rib_announce_to(rib, &p, &b, P(0), &ch), 1);
	assert_ptr_equal(bgp_rib_lookup_peer(rib, &p, 0), bgp_rib_lookup_peer(rib, &p, 2));

	/* withdrawn peer by peer: the prefix leaves the RIB with the last one */
	assert_int_equal(bgp_rib_withdraw_from(rib, &p, P(0) | P(1), &ch), 0);
	assert_int_equal(bgp_rib_count(rib), 1);
	assert_int_equal(bgp_rib_withdraw_from(rib, &p, P(2), &ch), 0);
	assert_int_equal(bgp_rib_count(rib), 0);
	assert_null(bgp_rib_lookup_peer(rib, &p, 2));

	/* a fresh prefix for peer 2 only; a set naming none of our peers adds nothing */
	assert_int_equal(bgp_rib_announce_to(rib, &p, &a, P(2), &ch), 0);
	assert_int_equal(ch, P(2));
	assert_null(bgp_rib_lookup_peer(rib, &p, 0));
	ip_prefix q = pfx("203.0.113.8/32");
	assert_int_equal(bgp_rib_announce_to(rib, &q, &a, P(5), &ch), -1);
	assert_int_equal(bgp_rib_count(rib), 1);
	bgp_rib_free(rib); /* per-peer slots freed (ASan) */
}

/* What each peer's queue sends: the selected peer its own attributes, the others theirs or a
 * withdrawal; the replay after a session comes up holds only the peer's own prefixes. */
static void test_flush_and_replay_per_peer(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new_peers(2);
	struct bgp_route_attrs a = comm(65001u << 16 | 1), b = comm(65001u << 16 | 2);
	static const uint8_t comm_a[] = {0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x01};
	static const uint8_t comm_b[] = {0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x02};
	ip_prefix p = pfx("203.0.113.7/32"), only1 = pfx("203.0.113.9/32");
	assert_int_equal(bgp_rib_announce_to(rib, &p, &a, BGP_PEERS_ALL, NULL), 0);
	assert_int_equal(bgp_rib_announce_to(rib, &p, &b, P(1), NULL), 1);
	assert_int_equal(bgp_rib_announce_to(rib, &only1, &b, P(1), NULL), 0);

	struct bgp_adj_out q[2];
	struct sink s[2] = {{0}};
	for (size_t i = 0; i < 2; i++) {
		bgp_adj_init(&q[i]);
		q[i].peer = i;
		struct bgp_out_ctx c = ctx(&s[i]);
		assert_int_equal(bgp_adj_replay(&q[i], rib, BGP_FAM_IPV4_UNICAST), 0);
		assert_int_equal(bgp_adj_flush(&q[i], rib, &c), 1);
	}
	assert_int_equal(s[0].announced, 1);
	assert_true(sink_has(&s[0], comm_a, sizeof comm_a));
	assert_false(sink_has(&s[0], comm_b, sizeof comm_b));
	assert_int_equal(s[0].withdrawn, 0); /* the replay does not withdraw what peer 0 never had */
	assert_int_equal(s[1].announced, 2);
	assert_true(sink_has(&s[1], comm_b, sizeof comm_b));
	assert_false(sink_has(&s[1], comm_a, sizeof comm_a));

	/* withdrawn from peer 1 only: peer 1's queue withdraws it, peer 0's is not even told */
	sink_clear(&s[0]);
	sink_clear(&s[1]);
	bgp_peer_set ch;
	assert_int_equal(bgp_rib_withdraw_from(rib, &p, P(1), &ch), 0);
	assert_int_equal(ch, P(1));
	assert_int_equal(bgp_adj_push(&q[1], &p), 0);
	struct bgp_out_ctx c1 = ctx(&s[1]);
	assert_int_equal(bgp_adj_flush(&q[1], rib, &c1), 1);
	assert_int_equal(s[1].withdrawn, 1);
	assert_int_equal(s[1].announced, 0);
	assert_non_null(bgp_rib_lookup_peer(rib, &p, 0));

	for (size_t i = 0; i < 2; i++) {
		sink_clear(&s[i]);
		bgp_adj_free(&q[i]);
	}
	bgp_rib_free(rib);
}

/* 100 000 /32 sharing attributes: with extended messages they go in 8 UPDATEs of up to 65535
 * bytes; without, every message stays within 4096 (at least 123 of them). */
static void test_flush_extended_messages(void **state)
{
	(void)state;
	struct bgp_rib *rib = bgp_rib_new_peers(1);
	struct bgp_route_attrs a = comm(BGP_COMMUNITY_BLACKHOLE);
	enum { N = 100000 };
	for (uint32_t i = 0; i < N; i++) {
		ip_prefix p = {.len = 32};
		ip_from_v4_u32(&p.addr, 0x64400000u + i);
		assert_int_equal(bgp_rib_announce(rib, &p, &a), 0);
	}
	for (int ext = 0; ext < 2; ext++) {
		struct bgp_adj_out q;
		bgp_adj_init(&q);
		struct sink s = {0};
		struct bgp_out_ctx c = ctx(&s);
		c.max_msg = ext ? BGP_MSG_EXT_MAX : 0;
		assert_int_equal(bgp_adj_replay(&q, rib, 0), 0);
		assert_int_equal(bgp_adj_flush(&q, rib, &c), 1);
		assert_int_equal(s.announced, N);
		/* header 19 + lengths 4 + attributes 27 (ORIGIN 4, AS_PATH 9, NEXT_HOP 7, COMMUNITIES 7) */
		size_t per = ((ext ? 65535 : 4096) - 19 - 4 - 27) / 5;
		assert_int_equal(s.msgs, (N + per - 1) / per);
		assert_true(s.biggest <= (ext ? 65535u : 4096u));
		assert_true(ext ? s.biggest > 4096 : s.msgs > 120);
		sink_clear(&s);
		bgp_adj_free(&q);
	}
	bgp_rib_free(rib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rib_per_peer),
		cmocka_unit_test(test_flush_and_replay_per_peer),
		cmocka_unit_test(test_flush_extended_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
