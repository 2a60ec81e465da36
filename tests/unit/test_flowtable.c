/* capture/flowtable.c: aggregation by key, each export reason (inactive, active, table full,
 * flush), conservation of packets and bytes under random traffic, and expiry cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "capture/cap.h"

#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)

struct sink {
	struct flow_record got[64];
	size_t n;
	uint64_t packets, bytes;
};

static void collect(void *ctx, const struct flow_record *f)
{
	struct sink *s = ctx;
	if (s->n < 64)
		s->got[s->n] = *f;
	s->n++;
	s->packets += f->packets;
	s->bytes += f->bytes;
}

static struct flow_record pkt(uint8_t host, uint16_t sport, uint64_t ts)
{
	struct flow_record r = {0};
	ip_from_v4_u32(&r.src, 0xC6336400u | host); /* 198.51.100.host */
	ip_from_v4_u32(&r.dst, 0xC000020Au);        /* 192.0.2.10 */
	r.src_port = sport;
	r.dst_port = 80;
	r.protocol = 6;
	r.vlan = 100;
	r.packets = 1;
	r.bytes = 60;
	r.start_ns = r.end_ns = ts;
	r.sampling_rate = 1;
	r.ip_version = 4;
	r.source = FLOW_SRC_MIRROR;
	return r;
}

static void test_aggregates_one_flow(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(16, 60, 15);
	assert_non_null(t);
	struct sink s = {0};
	struct flow_record p = pkt(1, 1234, T0);
	p.tcp_flags = TCP_SYN;
	p.tos = 0x20;
	assert_true(cap_flowtable_add(t, &p, collect, &s));
	p = pkt(1, 1234, T0 + SEC);
	p.tcp_flags = TCP_ACK;
	p.bytes = 1500;
	assert_false(cap_flowtable_add(t, &p, collect, &s));
	p = pkt(1, 1234, T0 + 2 * SEC);
	p.tcp_flags = TCP_FIN | TCP_ACK;
	p.flags = FLOW_F_FRAGMENT;
	assert_false(cap_flowtable_add(t, &p, collect, &s));
	assert_int_equal(s.n, 0);

	struct cap_flowtable_stats st;
	cap_flowtable_stats(t, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.created, 1);

	cap_flowtable_flush(t, collect, &s);
	assert_int_equal(s.n, 1);
	const struct flow_record *f = &s.got[0];
	assert_int_equal(f->packets, 3);
	assert_int_equal(f->bytes, 60 + 1500 + 60);
	assert_int_equal(f->tcp_flags, TCP_SYN | TCP_ACK | TCP_FIN);
	assert_int_equal(f->flags, FLOW_F_FRAGMENT);
	assert_int_equal(f->start_ns, T0);
	assert_int_equal(f->end_ns, T0 + 2 * SEC);
	assert_int_equal(f->src_port, 1234);
	assert_int_equal(f->dst_port, 80);
	assert_int_equal(f->vlan, 100);
	assert_int_equal(f->protocol, 6);
	assert_int_equal(f->tos, 0x20);
	assert_int_equal(f->ip_version, 4);
	assert_int_equal(f->source, FLOW_SRC_MIRROR);
	assert_int_equal(f->sampling_rate, 1);
	assert_true(ip_is_zero(&f->exporter));
	assert_int_equal(ip_v4_u32(&f->src), 0xC6336401u);
	assert_int_equal(ip_v4_u32(&f->dst), 0xC000020Au);

	cap_flowtable_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.exported, 1);
	cap_flowtable_free(t);
}

static void test_key_fields_separate_flows(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(64, 60, 15);
	struct sink s = {0};
	struct flow_record base = pkt(1, 1000, T0);
	struct flow_record v[7];
	for (int i = 0; i < 7; i++)
		v[i] = base;
	ip_from_v4_u32(&v[1].src, 0x01020304);
	ip_from_v4_u32(&v[2].dst, 0x01020304);
	v[3].src_port = 1001;
	v[4].dst_port = 81;
	v[5].protocol = 17;
	v[6].vlan = 101;
	for (int i = 0; i < 7; i++)
		assert_true(cap_flowtable_add(t, &v[i], collect, &s));
	for (int i = 0; i < 7; i++)
		assert_false(cap_flowtable_add(t, &v[i], collect, &s));
	/* tos, TCP flags and flags are aggregated, not part of the key */
	base.tos = 4;
	base.tcp_flags = TCP_RST;
	assert_false(cap_flowtable_add(t, &base, collect, &s));
	cap_flowtable_flush(t, collect, &s);
	assert_int_equal(s.n, 7);
	assert_int_equal(s.packets, 15);
	cap_flowtable_free(t);
}

static void test_inactive_timeout(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(16, 60, 15);
	struct sink s = {0};
	struct flow_record a = pkt(1, 1, T0), b = pkt(2, 2, T0 + 10 * SEC);
	cap_flowtable_add(t, &a, collect, &s);
	cap_flowtable_add(t, &b, collect, &s);
	cap_flowtable_expire(t, T0 + 15 * SEC - 1, collect, &s);
	assert_int_equal(s.n, 0);
	cap_flowtable_expire(t, T0 + 15 * SEC, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.got[0].src_port, 1);
	cap_flowtable_expire(t, T0 + 25 * SEC, collect, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.got[1].src_port, 2);

	/* a packet moves the flow's inactivity clock */
	a = pkt(1, 1, T0 + 30 * SEC);
	assert_true(cap_flowtable_add(t, &a, collect, &s));
	a.start_ns = a.end_ns = T0 + 40 * SEC;
	assert_false(cap_flowtable_add(t, &a, collect, &s));
	cap_flowtable_expire(t, T0 + 50 * SEC, collect, &s);
	assert_int_equal(s.n, 2);
	cap_flowtable_expire(t, T0 + 55 * SEC, collect, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.got[2].packets, 2);
	assert_int_equal(s.got[2].end_ns, T0 + 40 * SEC);
	cap_flowtable_free(t);
}

static void test_active_timeout(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(16, 5, 100);
	struct sink s = {0};
	for (int i = 0; i < 5; i++) {
		struct flow_record p = pkt(1, 1, T0 + (uint64_t)i * SEC);
		assert_int_equal(cap_flowtable_add(t, &p, collect, &s), i == 0);
	}
	cap_flowtable_expire(t, T0 + 5 * SEC - 1, collect, &s);
	assert_int_equal(s.n, 0);
	/* a long-lived busy flow is exported 5 s after its first packet, though never idle */
	cap_flowtable_expire(t, T0 + 5 * SEC, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.got[0].packets, 5);
	assert_int_equal(s.got[0].start_ns, T0);
	assert_int_equal(s.got[0].end_ns, T0 + 4 * SEC);
	struct flow_record p = pkt(1, 1, T0 + 5 * SEC);
	assert_true(cap_flowtable_add(t, &p, collect, &s)); /* the next flow of the same key */

	/* no tick in between: the packet that finds its flow past the active timeout exports it */
	p = pkt(1, 1, T0 + 11 * SEC);
	assert_true(cap_flowtable_add(t, &p, collect, &s));
	assert_int_equal(s.n, 2);
	assert_int_equal(s.got[1].packets, 1);
	assert_int_equal(s.got[1].start_ns, T0 + 5 * SEC);
	struct cap_flowtable_stats st;
	cap_flowtable_stats(t, &st);
	assert_int_equal(st.created, 3);
	assert_int_equal(st.exported, 2);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.evicted_full, 0);
	cap_flowtable_free(t);
}

static void test_full_table_evicts_least_recent(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(4, 60, 15);
	struct sink s = {0};
	for (int i = 0; i < 4; i++) {
		struct flow_record p = pkt((uint8_t)i, 1, T0 + (uint64_t)i * SEC);
		assert_true(cap_flowtable_add(t, &p, collect, &s));
	}
	struct flow_record p = pkt(0, 1, T0 + 4 * SEC); /* flow 0 seen again: flow 1 is now oldest */
	assert_false(cap_flowtable_add(t, &p, collect, &s));
	assert_int_equal(s.n, 0);
	p = pkt(9, 1, T0 + 5 * SEC);
	assert_true(cap_flowtable_add(t, &p, collect, &s));
	assert_int_equal(s.n, 1);
	assert_int_equal(ip_v4_u32(&s.got[0].src) & 0xff, 1);
	struct cap_flowtable_stats st;
	cap_flowtable_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.evicted_full, 1);
	assert_int_equal(st.exported, 1);
	/* the evicted key can come back (as a new flow) and everything is still findable */
	p = pkt(1, 1, T0 + 6 * SEC);
	assert_true(cap_flowtable_add(t, &p, collect, &s));
	assert_int_equal(ip_v4_u32(&s.got[1].src) & 0xff, 2);
	p = pkt(9, 1, T0 + 7 * SEC);
	assert_false(cap_flowtable_add(t, &p, collect, &s));
	cap_flowtable_free(t);
}

static void test_flush_and_reuse(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(100, 60, 15);
	struct sink s = {0};
	for (int i = 0; i < 100; i++) {
		struct flow_record p = pkt((uint8_t)i, (uint16_t)i, T0);
		assert_true(cap_flowtable_add(t, &p, collect, &s));
	}
	cap_flowtable_flush(t, collect, &s);
	assert_int_equal(s.n, 100);
	struct cap_flowtable_stats st;
	cap_flowtable_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.exported, 100);
	assert_int_equal(st.evicted_full, 0);
	cap_flowtable_flush(t, collect, &s);
	assert_int_equal(s.n, 100);
	struct flow_record p = pkt(1, 1, T0 + SEC);
	assert_true(cap_flowtable_add(t, &p, collect, &s));
	cap_flowtable_free(t);
	assert_null(cap_flowtable_new(0, 60, 15));
}

/* Random keys, times and table size: every packet and byte comes out exactly once. */
static void test_conservation(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(64, 3, 1);
	struct sink s = {0};
	srandom(7);
	uint64_t now = T0, packets = 0, bytes = 0;
	for (int i = 0; i < 200000; i++) {
		now += (uint64_t)(random() % 20000000); /* up to 20 ms */
		struct flow_record p = pkt((uint8_t)(random() % 40), (uint16_t)(random() % 8), now);
		p.bytes = 40 + (uint64_t)(random() % 1400);
		packets++;
		bytes += p.bytes;
		cap_flowtable_add(t, &p, collect, &s);
		if (i % 100 == 0)
			cap_flowtable_expire(t, now, collect, &s);
	}
	cap_flowtable_flush(t, collect, &s);
	assert_int_equal(s.packets, packets);
	assert_int_equal(s.bytes, bytes);
	struct cap_flowtable_stats st;
	cap_flowtable_stats(t, &st);
	assert_int_equal(st.created, st.exported);
	assert_int_equal(st.exported, s.n);
	assert_true(st.evicted_full > 0);
	cap_flowtable_free(t);
}

/* A full table with nothing due: expire looks at two list heads, not 200 000 flows. */
static void test_expire_nothing_due_is_cheap(void **state)
{
	(void)state;
	struct cap_flowtable *t = cap_flowtable_new(200000, 60, 15);
	struct sink s = {0};
	for (uint32_t i = 0; i < 200000; i++) {
		struct flow_record p = pkt((uint8_t)i, (uint16_t)(i >> 8), T0 + i);
		assert_true(cap_flowtable_add(t, &p, collect, &s));
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 100000; i++)
		cap_flowtable_expire(t, T0 + 10 * SEC + (uint64_t)i, collect, &s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	assert_int_equal(s.n, 0);
	/* a scan would be 100 000 x 200 000 entries; two heads are well under a millisecond */
	assert_true(ms < 100.0);
	cap_flowtable_expire(t, T0 + 16 * SEC, collect, &s);
	assert_int_equal(s.n, 200000);
	cap_flowtable_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregates_one_flow),
		cmocka_unit_test(test_key_fields_separate_flows),
		cmocka_unit_test(test_inactive_timeout),
		cmocka_unit_test(test_active_timeout),
		cmocka_unit_test(test_full_table_evicts_least_recent),
		cmocka_unit_test(test_flush_and_reuse),
		cmocka_unit_test(test_conservation),
		cmocka_unit_test(test_expire_nothing_due_is_cheap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
