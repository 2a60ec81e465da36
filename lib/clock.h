/* The clocks, in one place: the wall clock (times stored and shown, a live capture's clock) and
 * the monotonic clock (durations, timeouts). Inline: the capture workers read them per batch. */
#ifndef RAMPART_CLOCK_H
#define RAMPART_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* CLOCK_REALTIME in nanoseconds since 1970. */
static inline uint64_t clock_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return clock_ts_ns(&ts);
}

/* CLOCK_MONOTONIC in nanoseconds: for durations only. */
static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return clock_ts_ns(&ts);
}

static inline uint64_t clock_mono_us(void)
{
	return clock_mono_ns() / 1000;
}

static inline uint64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

#endif
