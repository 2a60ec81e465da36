/* The tick, on the main loop: merge what the workers counted, then let the engine turn it into
 * rates and decisions. Runs when a worker signals the eventfd, so it follows the capture clock. */
#include <stdlib.h>

#include "../lib/log.h"
#include "../mitigation/mit.h"
#include "daemon.h"

#define MAX_PENDING (RD_MAX_WORKERS * 4)

struct pending {
	struct rd_worker *worker;
	struct rd_tick_msg msg;
};

static int by_tick_end(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	return (x->msg.tick_end_ns > y->msg.tick_end_ns) - (x->msg.tick_end_ns < y->msg.tick_end_ns);
}

uint64_t rd_now_ns(const struct rampart *rp)
{
	return rp->clock_ns;
}

/* Workers tick on the same boundaries of their clocks, so messages with one end time belong to
 * one tick: merge them all, then tick once. A message that arrives after its tick already ran is
 * merged into the next one, so nothing counted is lost, only attributed a tick late. */
void rd_tick_run(struct rampart *rp)
{
	for (;;) {
		struct pending p[MAX_PENDING];
		size_t n = 0;
		for (unsigned i = 0; i < rp->n_workers && n < MAX_PENDING; i++)
			while (n < MAX_PENDING && rd_worker_poll(rp->workers[i], &p[n].msg))
				p[n++].worker = rp->workers[i];
		if (n == 0)
			return;
		qsort(p, n, sizeof p[0], by_tick_end);
		for (size_t i = 0; i < n; i++) {
			det_engine_merge(rp->engine, p[i].msg.counters);
			rd_worker_return(p[i].worker, p[i].msg.counters);
			bool last_of_tick = i + 1 == n || p[i + 1].msg.tick_end_ns != p[i].msg.tick_end_ns;
			if (last_of_tick && p[i].msg.tick_end_ns > rp->clock_ns) {
				rp->clock_ns = p[i].msg.tick_end_ns;
				det_engine_tick(rp->engine, rp->clock_ns, mit_on_detection_event, rp->mit);
				mit_tick(rp->mit, rp->clock_ns);
				rp->ticks++;
			}
		}
	}
}
