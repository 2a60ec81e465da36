/* Shared by the detection tests: address and prefix literals that fail the test when they do
 * not parse, and (where the test defines MAX_EVENTS first) a recorder of the engine's events.
 * Header-only, included by test_detect.c, test_det_scale.c, test_det_restore.c, test_fingerprint.c. */
#ifndef RAMPART_TESTS_DET_TEST_UTIL_H
#define RAMPART_TESTS_DET_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
#endif

#endif
