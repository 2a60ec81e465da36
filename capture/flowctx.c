/* The flow decoders' context: the bounded exporter table, sequence tracking, statistics and
 * the one-line-per-kind error log. */
#include <stdlib.h>
#include <string.h>

#include "templates_int.h"

#define DEFAULT_MAX_EXPORTERS 256
#define DEFAULT_MAX_TEMPLATES 256
/* Past these, a config value is a mistake, not an intent: memory must stay bounded. */
#define LIMIT_EXPORTERS 65536
#define LIMIT_TEMPLATES 65536

static const char *result_names[CAP_FLOW_RESULT_COUNT] = {
	[CAP_FLOW_OK] = "ok",
	[CAP_FLOW_TRUNCATED] = "truncated",
	[CAP_FLOW_MALFORMED] = "malformed",
	[CAP_FLOW_VERSION] = "wrong version",
	[CAP_FLOW_TABLE_FULL] = "exporter table full",
};

const char *cap_flow_strerror(enum cap_flow_result r)
{
	return (unsigned)r < CAP_FLOW_RESULT_COUNT ? result_names[r] : "unknown";
}

struct cap_flow_ctx *cap_flow_new(const struct cap_flow_config *cfg)
{
	struct cap_flow_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return NULL;
	if (cfg)
		ctx->cfg = *cfg;
	if (ctx->cfg.max_exporters == 0)
		ctx->cfg.max_exporters = DEFAULT_MAX_EXPORTERS;
	if (ctx->cfg.max_exporters > LIMIT_EXPORTERS)
		ctx->cfg.max_exporters = LIMIT_EXPORTERS;
	if (ctx->cfg.max_templates == 0)
		ctx->cfg.max_templates = DEFAULT_MAX_TEMPLATES;
	if (ctx->cfg.max_templates > LIMIT_TEMPLATES)
		ctx->cfg.max_templates = LIMIT_TEMPLATES;
	uint32_t slots = 4;
	while (slots < 2 * ctx->cfg.max_exporters)
		slots <<= 1;
	ctx->exp = calloc(ctx->cfg.max_exporters, sizeof *ctx->exp);
	ctx->index = malloc(slots * sizeof *ctx->index);
	if (!ctx->exp || !ctx->index) {
		cap_flow_free(ctx);
		return NULL;
	}
	memset(ctx->index, 0xff, slots * sizeof *ctx->index);
	ctx->index_mask = slots - 1;
	return ctx;
}

void cap_flow_free(struct cap_flow_ctx *ctx)
{
	if (!ctx)
		return;
	for (uint32_t i = 0; i < ctx->nexp; i++)
		tmpl_free_all(&ctx->exp[i]);
	free(ctx->exp);
	free(ctx->index);
	free(ctx);
}

static bool key_equal(const struct exp_key *a, const struct exp_key *b)
{
	return a->domain == b->domain && a->source == b->source && ip_equal(&a->addr, &b->addr) &&
	       ip_equal(&a->agent, &b->agent);
}

static uint32_t key_hash(const struct exp_key *k)
{
	uint32_t h = ip_hash(&k->addr) ^ (ip_hash(&k->agent) * 31u);
	h ^= (k->domain + k->source * 0x9E3779B9u) * 0x85EBCA6Bu;
	return h ^ (h >> 16);
}

struct exporter *flow_exporter(struct cap_flow_ctx *ctx, const struct exp_key *key)
{
	if (ctx->last && key_equal(&ctx->last->key, key))
		return ctx->last;
	uint32_t i = key_hash(key) & ctx->index_mask;
	for (;; i = (i + 1) & ctx->index_mask) {
		int32_t at = ctx->index[i];
		if (at < 0)
			break;
		if (key_equal(&ctx->exp[at].key, key))
			return ctx->last = &ctx->exp[at];
	}
	if (ctx->nexp == ctx->cfg.max_exporters) {
		flow_log(ctx, FLOG_TABLE_FULL, NULL, &key->addr, 0,
			 "exporter table full (capture max_exporters): datagram dropped");
		return NULL;
	}
	struct exporter *e = &ctx->exp[ctx->nexp];
	memset(e, 0, sizeof *e);
	e->key = *key;
	e->info.addr = key->addr;
	e->info.agent = key->agent;
	e->info.domain = key->domain;
	e->info.source = key->source;
	e->info.sampling_rate = 1;
	ctx->index[i] = (int32_t)ctx->nexp++;
	ctx->stats.exporters = ctx->nexp;
	return ctx->last = e;
}

void flow_sequence(struct exporter *e, uint32_t seq, uint32_t advance)
{
	if (e->seq_valid) {
		uint32_t ahead = seq - e->next_seq;
		/* Ahead by less than half the space: lost units. Behind: a restart or a reordered
		 * datagram; resynchronise without guessing. */
		if (ahead != 0 && ahead < 0x80000000u)
			e->info.sequence_gaps += ahead;
	}
	e->next_seq = seq + advance;
	e->seq_valid = true;
}

enum cap_flow_result flow_done(struct cap_flow_ctx *ctx, enum cap_flow_result r)
{
	ctx->stats.datagrams++;
	ctx->stats.result[r]++;
	return r;
}

static const char *source_name(uint8_t s)
{
	switch (s) {
	case FLOW_SRC_SFLOW: return "sflow";
	case FLOW_SRC_NETFLOW5: return "netflow5";
	case FLOW_SRC_NETFLOW9: return "netflow9";
	case FLOW_SRC_IPFIX: return "ipfix";
	default: return "flow";
	}
}

void flow_log(struct cap_flow_ctx *ctx, enum flow_log kind, const struct exporter *e,
	      const ip_addr *addr, size_t off, const char *what)
{
	char a[IP_STRLEN];
	if (e)
		log_once(&ctx->log[kind], "%s exporter %s domain %u: offset %zu: %s",
			 source_name(e->key.source), ip_format(&e->key.addr, a), e->key.domain, off,
			 what);
	else
		log_once(&ctx->log[kind], "flow exporter %s: offset %zu: %s", ip_format(addr, a), off,
			 what);
}

size_t cap_flow_exporters(const struct cap_flow_ctx *ctx, struct cap_exporter_info *out, size_t max)
{
	for (uint32_t i = 0; i < ctx->nexp && i < max; i++) {
		out[i] = ctx->exp[i].info;
		out[i].templates = ctx->exp[i].ntmpl;
	}
	return ctx->nexp;
}

void cap_flow_stats(const struct cap_flow_ctx *ctx, struct cap_flow_stats *out)
{
	*out = ctx->stats;
}

const struct cap_frame *cap_flow_frame(const struct cap_flow_ctx *ctx)
{
	return &ctx->frame;
}
