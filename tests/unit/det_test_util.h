/* Shared by the detection tests: address and prefix literals that fail the test when they do
 * not parse, and (where the test defines MAX_EVENTS first) a recorder of the engine's events.
 * Header-only, included by test_detect.c, test_det_scale.c, test_det_restore.c, test_fingerprint.c, test_reload.c. */
#ifndef RAMPART_TESTS_DET_TEST_UTIL_H
#define RAMPART_TESTS_DET_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "detect/det.h"
#include "lib/ip.h"

static inline ip_addr A(const char *s)
{
	ip_addr a;
	assert_true(ip_parse(s, &a));
	return a;
}

static inline ip_prefix P(const char *s)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(s, &p));
	return p;
}

#ifdef MAX_EVENTS
struct recorder {
	struct det_event ev[MAX_EVENTS];
	size_t n;
};

static inline void record(void *ctx, const struct det_event *ev)
{
	struct recorder *r = ctx;
	assert_true(r->n < MAX_EVENTS);
	r->ev[r->n++] = *ev;
}

/* `seconds` of 0.1 s ticks on *t, dst receiving pps of UDP from 198.51.100.1 (none when dst is
 * NULL): each tick counted into c, merged into e and run, its events into rec. */
static inline void det_test_udp_ticks(struct det_engine *e, struct det_counters *c, uint64_t *t,
				      struct recorder *rec, const char *dst, double pps, double seconds)
{
	for (int i = 0; i < (int)llround(seconds * 10); i++) {
		if (dst) {
			struct flow_record r;
			memset(&r, 0, sizeof r);
			assert_true(ip_parse("198.51.100.1", &r.src));
			assert_true(ip_parse(dst, &r.dst));
			r.protocol = 17;
			r.packets = (uint64_t)llround(pps / 10);
			r.bytes = r.packets * 100;
			r.sampling_rate = 1;
			r.ip_version = 4;
			det_counters_add(c, &r, 1);
		}
		det_engine_merge(e, c);
		det_counters_clear(c);
		*t += 1000000000ull / 10;
		det_engine_tick(e, *t, record, rec);
	}
}
#endif

#endif
