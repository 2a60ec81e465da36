/* The daemon's parts the API reads (clock, ticks, capture sources, attack sample files),
 * through the functions the wiring gave in struct api_daemon. */
#include <string.h>

#include "api.h"

/* ---- the daemon's parts, through the functions the wiring gave ----------------------------- */

uint64_t api_now_ns(const struct api_ctx *c)
{
	return c->daemon.now_ns ? c->daemon.now_ns(c->daemon.ctx) : 0;
}

uint64_t api_ticks(const struct api_ctx *c)
{
	return c->daemon.ticks ? c->daemon.ticks(c->daemon.ctx) : 0;
}

unsigned api_n_sources(const struct api_ctx *c)
{
	return c->daemon.n_sources ? c->daemon.n_sources(c->daemon.ctx) : 0;
}

void api_source_stats(const struct api_ctx *c, unsigned i, struct api_source_stats *out)
{
	memset(out, 0, sizeof *out);
	if (c->daemon.source_stats)
		c->daemon.source_stats(c->daemon.ctx, i, out);
}

bool api_samples_info(const struct api_ctx *c, uint64_t attack_id, struct st_samples_info *out)
{
	return c->daemon.samples_info && c->daemon.samples_info(c->daemon.ctx, attack_id, out);
}

bool api_samples_stats(const struct api_ctx *c, struct st_samples_stats *out)
{
	return c->daemon.samples_stats && c->daemon.samples_stats(c->daemon.ctx, out);
}
