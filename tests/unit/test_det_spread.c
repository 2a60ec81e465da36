/* detect/spread.c: how an exported flow record is cut into shares over the ticks it lasted. The
 * expected shares and offsets are worked out by hand from the definition in det.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "detect/det.h"

#define S 1000000000ull /* one-second ticks */

static struct flow_record rec(uint64_t start, uint64_t end, uint64_t packets, uint64_t bytes)
{
	struct flow_record r;
	memset(&r, 0, sizeof r);
	r.start_ns = start;
	r.end_ns = end;
	r.packets = packets;
	r.bytes = bytes;
	r.sampling_rate = 100;
	r.src_port = 53;
	r.protocol = 17;
	r.source = FLOW_SRC_NETFLOW9;
	return r;
}

/* The plan for r on one-second ticks with 8 deposits, checked against the expected tick and
 * deposit counts. */
static struct det_spread plan_is(const struct flow_record *r, uint64_t max_ticks, uint64_t ticks, uint64_t parts)
{
	struct det_spread s = det_spread_plan(r, S, max_ticks, 8);
	assert_int_equal(s.ticks, ticks);
	assert_int_equal(s.parts, parts);
	return s;
}

/* A record with no duration (or end before start, as a broken exporter sends) is counted whole
 * in the current tick. */
static void test_no_duration_counts_whole(void **state)
{
	(void)state;
	struct flow_record r = rec(10 * S, 10 * S, 50, 5000);
	plan_is(&r, 64, 0, 0);
	r = rec(10 * S, 9 * S, 50, 5000);
	plan_is(&r, 64, 0, 0);
}

/* ceil(duration / tick): 2 s exactly covers two ticks, one nanosecond more covers three. */
static void test_ticks_round_up(void **state)
{
	(void)state;
	struct flow_record r = rec(0, 2 * S, 100, 100);
	assert_int_equal(det_spread_plan(&r, S, 64, 8).ticks, 2);
	r.end_ns = 2 * S + 1;
	assert_int_equal(det_spread_plan(&r, S, 64, 8).ticks, 3);
	r.end_ns = 1;
	plan_is(&r, 64, 1, 1); /* one tick: counted whole */
}

/* 2.5 s, 10 packets, 1000 bytes: three shares of 3, 3, 4 packets and 333, 333, 334 bytes in this
 * tick and the next two; every other field as in the record. */
static void test_three_uneven_shares(void **state)
{
	(void)state;
	struct flow_record r = rec(S, S + 5 * S / 2, 10, 1000);
	struct det_spread s = plan_is(&r, 64, 3, 3);
	const uint64_t pk[3] = {3, 3, 4}, by[3] = {333, 333, 334}, off[3] = {0, 1, 2};
	for (uint64_t j = 0; j < 3; j++) {
		struct flow_record p;
		assert_int_equal(det_spread_part(&s, &r, j, &p), off[j]);
		assert_int_equal(p.packets, pk[j]);
		assert_int_equal(p.bytes, by[j]);
		assert_int_equal(p.sampling_rate, 100);
		assert_int_equal(p.src_port, 53);
		assert_int_equal(p.protocol, 17);
		assert_int_equal(p.start_ns, r.start_ns);
	}
}

/* 100 s over a 64-tick ring with 8 deposits: 125 packets each, every 8th tick. */
static void test_long_record_capped(void **state)
{
	(void)state;
	struct flow_record r = rec(0, 100 * S, 1000, 64000);
	struct det_spread s = plan_is(&r, 64, 64, 8);
	for (uint64_t j = 0; j < 8; j++) {
		struct flow_record p;
		assert_int_equal(det_spread_part(&s, &r, j, &p), j * 8);
		assert_int_equal(p.packets, 125);
		assert_int_equal(p.bytes, 8000);
	}
	/* a listener without spreading (a ring of one) counts everything now */
	plan_is(&r, 1, 1, 1);
}

/* Fewer packets than ticks: no share of zero packets; 2 packets over 10 s land at offsets 0 and
 * 5, the odd byte in the last share. */
static void test_fewer_packets_than_ticks(void **state)
{
	(void)state;
	struct flow_record r = rec(0, 10 * S, 2, 3);
	struct det_spread s = plan_is(&r, 64, 10, 2);
	struct flow_record p;
	assert_int_equal(det_spread_part(&s, &r, 0, &p), 0);
	assert_int_equal(p.packets, 1);
	assert_int_equal(p.bytes, 1);
	assert_int_equal(det_spread_part(&s, &r, 1, &p), 5);
	assert_int_equal(p.packets, 1);
	assert_int_equal(p.bytes, 2);
}

/* An end time near the top of the range (a bogus exporter clock) does not wrap the tick count
 * to zero: the record is spread over the whole ring. */
static void test_huge_duration_does_not_wrap(void **state)
{
	(void)state;
	struct flow_record r = rec(0, UINT64_MAX, 64, 64);
	plan_is(&r, 64, 64, 8);
}

/* Over many shapes: shares add up to the record exactly, offsets start at 0, rise, stay in the
 * ring. */
static void test_shares_add_up(void **state)
{
	(void)state;
	for (uint64_t d = 1; d <= 70; d++)
		for (uint64_t pk = 1; pk <= 40; pk += 3) {
			struct flow_record r = rec(5 * S, 5 * S + d * S / 3, pk, pk * 1499 + d);
			struct det_spread s = det_spread_plan(&r, S, 64, 8);
			assert_true(s.parts <= 8 && s.parts <= pk && s.parts <= s.ticks && s.ticks <= 64);
			if (s.parts <= 1)
				continue;
			uint64_t sp = 0, sb = 0, last = 0;
			for (uint64_t j = 0; j < s.parts; j++) {
				struct flow_record p;
				uint64_t o = det_spread_part(&s, &r, j, &p);
				if (j == 0)
					assert_int_equal(o, 0);
				else
					assert_true(o > last);
				assert_true(o < s.ticks);
				assert_true(p.packets >= 1);
				last = o;
				sp += p.packets;
				sb += p.bytes;
			}
			assert_int_equal(sp, r.packets);
			assert_int_equal(sb, r.bytes);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_duration_counts_whole),
		cmocka_unit_test(test_ticks_round_up),
		cmocka_unit_test(test_three_uneven_shares),
		cmocka_unit_test(test_long_record_capped),
		cmocka_unit_test(test_fewer_packets_than_ticks),
		cmocka_unit_test(test_huge_duration_does_not_wrap),
		cmocka_unit_test(test_shares_add_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
