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
			/* the networks of the latest reload from the next tick on (reload.c) */
			det_counters_set_networks(p[i].msg.counters, rp->networks);
			rd_worker_return(p[i].worker, p[i].msg.counters);
			bool last_of_tick = i + 1 == n || p[i + 1].msg.tick_end_ns != p[i].msg.tick_end_ns;
			if (last_of_tick && p[i].msg.tick_end_ns > rp->clock_ns) {
				rp->clock_ns = p[i].msg.tick_end_ns;
				det_engine_tick(rp->engine, rp->clock_ns, mit_on_detection_event, rp->mit);
				mit_tick(rp->mit, rp->clock_ns);
				rp->ticks++;
				if (rp->n_retired)
					rd_reload_release(rp);
			}
		}
	}
}

/* ---- what the API reads of the wiring (api/api.h, struct api_daemon) ------------------------- */

static uint64_t view_now_ns(void *ctx)
{
	return rd_now_ns(ctx);
}

static uint64_t view_ticks(void *ctx)
{
	return ((const struct rampart *)ctx)->ticks;
}

static unsigned view_n_sources(void *ctx)
{
	return ((const struct rampart *)ctx)->n_workers;
}

static void view_source_stats(void *ctx, unsigned i, struct api_source_stats *out)
{
	struct rampart *rp = ctx;
	if (i < rp->n_workers)
		rd_worker_stats(rp->workers[i], out);
}

/* storage's sample figures, for the API */
static bool view_samples_info(void *ctx, uint64_t attack_id, struct st_samples_info *out)
{
	return st_samples_info(((const struct rampart *)ctx)->samples, attack_id, out);
}

static bool view_samples_stats(void *ctx, struct st_samples_stats *out)
{
	const struct rampart *rp = ctx;
	if (!rp->samples)
		return false;
	st_samples_stats(rp->samples, out);
	return true;
}

const char *rd_samples_for_mit(void *ctx, uint64_t attack_id, const ip_prefix *target, char *path, size_t len,
			       uint64_t *packets)
{
	struct st_samples *a = ctx;
	*packets = 0;
	const char *p = st_samples_path(a, attack_id, target, path, len);
	struct st_samples_info pi;
	if (*p && st_samples_info(a, attack_id, &pi))
		*packets = pi.packets;
	return p;
}

static int view_reload(void *ctx, struct evbuffer *out)
{
	return rd_reload(ctx, out);
}

struct api_ctx *rd_api_ctx(struct rampart *rp)
{
	struct api_exa *exa = rp->api.exa;
	struct api_readback *readback = rp->api.readback;
	rp->api = (struct api_ctx){
		.conf = &rp->conf,
		.base = rp->base,
		.networks = rp->networks,
		.engine = rp->engine,
		.bgp = rp->bgp,
		.storage = rp->storage,
		.mit = rp->mit,
		.notify = rp->notify,
		.webhook = rp->webhook,
		.localroute = rp->localroute,
		.replay = rp->replay,
		.daemon = {.ctx = rp,
			   .now_ns = view_now_ns,
			   .ticks = view_ticks,
			   .n_sources = view_n_sources,
			   .source_stats = view_source_stats,
			   .samples_info = view_samples_info,
			   .samples_stats = view_samples_stats,
			   .reload = view_reload},
		.control = rp->control,
		.exa = exa,
		.readback = readback,
	};
	return &rp->api;
}
