/* The flow decoders' context: the bounded exporter table, sequence tracking, statistics and
 * the one-line-per-kind error log.
 *
 * UDP sources are spoofable, so the table is built so that no flood of forged datagrams can
 * push out an exporter that sends valid data. Bounds: max_exporters in total,
 * max_domains_per_addr per source address (a source-id flood from one address stays within
 * its address), max_templates per exporter, max_template_bytes of templates in total. When a
 * new exporter finds no room, the entry to go is, in order: one that never produced a valid
 * flow record (fewest datagrams first, then the least recently seen), then one that produced
 * records but has been silent for idle_s (least recently seen). An exporter that delivered a
 * record and is not idle is never evicted: the newcomer is refused instead. A real exporter
 * arriving during a flood gets a slot (flood entries are all unproven), and keeps it once it
 * sends its second datagram or its first record, ahead of one-datagram forgeries. Template
 * memory is reclaimed the same way: only from exporters that never produced a record. */
#include <stdlib.h>
#include <string.h>

#include "templates_int.h"

#define DEFAULT_MAX_EXPORTERS 256
#define DEFAULT_MAX_DOMAINS 64
#define DEFAULT_MAX_TEMPLATES 256
#define DEFAULT_TEMPLATE_BYTES (16u << 20)
#define DEFAULT_IDLE_S 300
/* Past these, a config value is a mistake, not an intent: memory must stay bounded. */
#define LIMIT_EXPORTERS 65536
#define LIMIT_TEMPLATES 65536
#define LIMIT_ALLOW 4096
/* An eviction looks at this many entries (from a rotating cursor), so a flood of new sources
 * costs a bounded scan per datagram whatever max_exporters is; at the default size it is the
 * whole table. */
#define EVICT_SCAN 1024

static const char *result_names[CAP_FLOW_RESULT_COUNT] = {
	[CAP_FLOW_OK] = "ok",
	[CAP_FLOW_TRUNCATED] = "truncated",
	[CAP_FLOW_MALFORMED] = "malformed",
	[CAP_FLOW_VERSION] = "wrong version",
	[CAP_FLOW_TABLE_FULL] = "exporter table full",
	[CAP_FLOW_NOT_ALLOWED] = "source not allowed",
};

static const char *refusal_names[CAP_REFUSE_COUNT] = {
	[CAP_REFUSE_NOT_ALLOWED] = "not_allowed",
	[CAP_REFUSE_TABLE_FULL] = "table_full",
	[CAP_REFUSE_ADDR_DOMAINS] = "domains_per_address",
	[CAP_REFUSE_TEMPLATES] = "templates_per_exporter",
	[CAP_REFUSE_TEMPLATE_MEMORY] = "template_memory",
};

const char *cap_flow_strerror(enum cap_flow_result r)
{
	return (unsigned)r < CAP_FLOW_RESULT_COUNT ? result_names[r] : "unknown";
}

const char *cap_flow_refusal_name(enum cap_flow_refusal r)
{
	return (unsigned)r < CAP_REFUSE_COUNT ? refusal_names[r] : "unknown";
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
	if (ctx->cfg.max_domains_per_addr == 0)
		ctx->cfg.max_domains_per_addr = DEFAULT_MAX_DOMAINS;
	if (ctx->cfg.max_templates == 0)
		ctx->cfg.max_templates = DEFAULT_MAX_TEMPLATES;
	if (ctx->cfg.max_templates > LIMIT_TEMPLATES)
		ctx->cfg.max_templates = LIMIT_TEMPLATES;
	if (ctx->cfg.max_template_bytes == 0)
		ctx->cfg.max_template_bytes = DEFAULT_TEMPLATE_BYTES;
	if (ctx->cfg.idle_s == 0)
		ctx->cfg.idle_s = DEFAULT_IDLE_S;
	if (ctx->cfg.n_allow > LIMIT_ALLOW)
		ctx->cfg.n_allow = LIMIT_ALLOW;
	uint32_t slots = 4;
	while (slots < 2 * ctx->cfg.max_exporters)
		slots <<= 1;
	ctx->exp = calloc(ctx->cfg.max_exporters, sizeof *ctx->exp);
	ctx->index = malloc(slots * sizeof *ctx->index);
	ctx->addrs = calloc(slots, sizeof *ctx->addrs);
	if (ctx->cfg.n_allow) {
		ctx->allow = malloc(ctx->cfg.n_allow * sizeof *ctx->allow);
		if (ctx->allow)
			memcpy(ctx->allow, cfg->allow, ctx->cfg.n_allow * sizeof *ctx->allow);
	}
	ctx->cfg.allow = NULL; /* the caller's list need not outlive this call */
	if (!ctx->exp || !ctx->index || !ctx->addrs || (ctx->cfg.n_allow && !ctx->allow)) {
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
		tmpl_free_all(ctx, &ctx->exp[i]);
	free(ctx->exp);
	free(ctx->index);
	free(ctx->addrs);
	free(ctx->allow);
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

static uint32_t addr_hash(const ip_addr *a)
{
	uint32_t h = ip_hash(a) * 0x9E3779B1u;
	return h ^ (h >> 15);
}

bool flow_admit(struct cap_flow_ctx *ctx, const ip_addr *addr)
{
	if (!ctx->cfg.n_allow)
		return true;
	for (size_t i = 0; i < ctx->cfg.n_allow; i++)
		if (ip_prefix_contains(&ctx->allow[i], addr))
			return true;
	flow_refuse(ctx, CAP_REFUSE_NOT_ALLOWED, NULL, addr,
		    "source outside the listener's exporters allow-list: datagram dropped unread");
	return false;
}

/* ---- the two indexes (open addressing, linear probing, backward-shift deletion) ---------- */

static uint32_t index_find(const struct cap_flow_ctx *ctx, const struct exp_key *key, bool *found)
{
	uint32_t i = key_hash(key) & ctx->index_mask;
	for (;; i = (i + 1) & ctx->index_mask) {
		int32_t at = ctx->index[i];
		if (at < 0) {
			*found = false;
			return i;
		}
		if (key_equal(&ctx->exp[at].key, key)) {
			*found = true;
			return i;
		}
	}
}

/* Whether an entry whose home slot is home may move from slot from to the hole at hole. */
static bool may_fill(uint32_t home, uint32_t hole, uint32_t from, uint32_t mask)
{
	return ((from - home) & mask) >= ((from - hole) & mask);
}

static void index_delete(struct cap_flow_ctx *ctx, uint32_t hole)
{
	uint32_t m = ctx->index_mask;
	ctx->index[hole] = -1;
	for (uint32_t j = (hole + 1) & m; ctx->index[j] >= 0; j = (j + 1) & m) {
		uint32_t home = key_hash(&ctx->exp[ctx->index[j]].key) & m;
		if (may_fill(home, hole, j, m)) {
			ctx->index[hole] = ctx->index[j];
			ctx->index[j] = -1;
			hole = j;
		}
	}
}

static struct addr_slot *addr_find(struct cap_flow_ctx *ctx, const ip_addr *a, bool create)
{
	uint32_t m = ctx->index_mask;
	for (uint32_t i = addr_hash(a) & m;; i = (i + 1) & m) {
		struct addr_slot *s = &ctx->addrs[i];
		if (s->n == 0) {
			if (!create)
				return NULL;
			s->addr = *a;
			s->head = -1;
			return s;
		}
		if (ip_equal(&s->addr, a))
			return s;
	}
}

static void addr_delete(struct cap_flow_ctx *ctx, struct addr_slot *s)
{
	uint32_t m = ctx->index_mask;
	uint32_t hole = (uint32_t)(s - ctx->addrs);
	ctx->addrs[hole].n = 0;
	for (uint32_t j = (hole + 1) & m; ctx->addrs[j].n; j = (j + 1) & m) {
		uint32_t home = addr_hash(&ctx->addrs[j].addr) & m;
		if (may_fill(home, hole, j, m)) {
			ctx->addrs[hole] = ctx->addrs[j];
			ctx->addrs[j].n = 0;
			hole = j;
		}
	}
}

/* ---- eviction ---------------------------------------------------------------------------- */

/* How willing we are to let e go for a newcomer: 0 never (valid data, active), 1 idle, 2 never
 * produced a valid record. */
static int evict_class(const struct cap_flow_ctx *ctx, const struct exporter *e, uint64_t now_ns)
{
	if (e->info.records == 0)
		return 2;
	uint64_t idle_ns = (uint64_t)ctx->cfg.idle_s * 1000000000ull;
	return now_ns > e->info.last_seen_ns && now_ns - e->info.last_seen_ns >= idle_ns ? 1 : 0;
}

/* Whether a is a better victim than b (both of class cls). */
static bool better_victim(const struct exporter *a, const struct exporter *b, int cls)
{
	if (cls == 2 && a->info.datagrams != b->info.datagrams)
		return a->info.datagrams < b->info.datagrams;
	return a->info.last_seen_ns < b->info.last_seen_ns;
}

static void consider(const struct cap_flow_ctx *ctx, int32_t at, uint64_t now_ns, int32_t *best,
		     int *best_cls)
{
	const struct exporter *e = &ctx->exp[at];
	int cls = evict_class(ctx, e, now_ns);
	if (cls == 0)
		return;
	if (*best < 0 || cls > *best_cls || (cls == *best_cls && better_victim(e, &ctx->exp[*best], cls))) {
		*best = at;
		*best_cls = cls;
	}
}

/* Removes exporter at (its templates, its index entries) and leaves its slot for reuse. */
static void evict(struct cap_flow_ctx *ctx, int32_t at)
{
	struct exporter *e = &ctx->exp[at];
	bool found;
	uint32_t i = index_find(ctx, &e->key, &found);
	if (found)
		index_delete(ctx, i);
	struct addr_slot *s = addr_find(ctx, &e->key.addr, false);
	if (e->addr_prev >= 0)
		ctx->exp[e->addr_prev].addr_next = e->addr_next;
	else if (s)
		s->head = e->addr_next;
	if (e->addr_next >= 0)
		ctx->exp[e->addr_next].addr_prev = e->addr_prev;
	if (s && --s->n == 0)
		addr_delete(ctx, s);
	tmpl_free_all(ctx, e);
	if (ctx->last == e)
		ctx->last = NULL;
	ctx->stats.evicted++;
}

bool flow_template_room(struct cap_flow_ctx *ctx, const struct exporter *keep, uint64_t bytes)
{
	uint32_t n = ctx->nexp, scan = n < EVICT_SCAN ? n : EVICT_SCAN, k = 0;
	for (; k < scan && ctx->stats.template_bytes + bytes > ctx->cfg.max_template_bytes; k++) {
		struct exporter *e = &ctx->exp[(ctx->evict_cursor + k) % n];
		if (e == keep || e->info.records != 0 || !e->tmpl)
			continue;
		ctx->stats.templates_reclaimed += e->ntmpl;
		tmpl_free_all(ctx, e);
	}
	if (n)
		ctx->evict_cursor = (ctx->evict_cursor + k) % n; /* the next scan goes on from here */
	return ctx->stats.template_bytes + bytes <= ctx->cfg.max_template_bytes;
}

struct exporter *flow_exporter(struct cap_flow_ctx *ctx, const struct exp_key *key, uint64_t now_ns)
{
	if (ctx->last && key_equal(&ctx->last->key, key))
		return ctx->last;
	bool found;
	uint32_t i = index_find(ctx, key, &found);
	if (found)
		return ctx->last = &ctx->exp[ctx->index[i]];

	int32_t victim = -1;
	int victim_cls = 0;
	struct addr_slot *as = addr_find(ctx, &key->addr, false);
	if (as && as->n >= ctx->cfg.max_domains_per_addr) {
		/* The address is at its limit: a newcomer can only replace one of its own. */
		for (int32_t at = as->head; at >= 0; at = ctx->exp[at].addr_next)
			consider(ctx, at, now_ns, &victim, &victim_cls);
		if (victim < 0) {
			flow_refuse(ctx, CAP_REFUSE_ADDR_DOMAINS, NULL, &key->addr,
				    "too many domains from this address, all sending valid data "
				    "(capture max_domains_per_addr): datagram dropped");
			return NULL;
		}
	} else if (ctx->nexp == ctx->cfg.max_exporters) {
		uint32_t n = ctx->nexp, scan = n < EVICT_SCAN ? n : EVICT_SCAN;
		for (uint32_t k = 0; k < scan; k++)
			consider(ctx, (int32_t)((ctx->evict_cursor + k) % n), now_ns, &victim, &victim_cls);
		ctx->evict_cursor = (ctx->evict_cursor + scan) % n;
		if (victim < 0) {
			flow_refuse(ctx, CAP_REFUSE_TABLE_FULL, NULL, &key->addr,
				    "exporter table full of exporters sending valid data "
				    "(capture max_exporters): datagram dropped");
			return NULL;
		}
	}
	int32_t at;
	if (victim >= 0) {
		evict(ctx, victim);
		at = victim;
		i = index_find(ctx, key, &found); /* the deletion may have moved the free slot */
	} else {
		at = (int32_t)ctx->nexp++;
	}
	struct exporter *e = &ctx->exp[at];
	memset(e, 0, sizeof *e);
	e->key = *key;
	e->info.addr = key->addr;
	e->info.agent = key->agent;
	e->info.domain = key->domain;
	e->info.source = key->source;
	e->info.sampling_rate = 1;
	e->info.last_seen_ns = now_ns;
	ctx->index[i] = at;
	as = addr_find(ctx, &key->addr, true);
	e->addr_prev = -1;
	e->addr_next = as->head;
	if (as->head >= 0)
		ctx->exp[as->head].addr_prev = at;
	as->head = at;
	as->n++;
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

void flow_refuse(struct cap_flow_ctx *ctx, enum cap_flow_refusal why, struct exporter *e,
		 const ip_addr *addr, const char *what)
{
	ctx->stats.refused[why]++;
	char a[IP_STRLEN];
	/* An exporter that sent valid data gets its own line per reason; one that never did may
	 * be one of a flood's thousands of forgeries, so it shares the rate-limited line below. */
	if (e && e->info.records) {
		if (e->logged & (1u << why))
			return;
		e->logged |= (uint8_t)(1u << why);
		log_warn("%s exporter %s domain %u: %s", source_name(e->key.source),
			 ip_format(&e->key.addr, a), e->key.domain, what);
		return;
	}
	/* No entry to remember the address by (refusing one is the point), or an unproven one:
	 * once per reason per minute, with the address and the count, so a flood from many
	 * addresses logs little. */
	static const enum flow_log kinds[CAP_REFUSE_COUNT] = {
		[CAP_REFUSE_NOT_ALLOWED] = FLOG_NOT_ALLOWED,
		[CAP_REFUSE_TABLE_FULL] = FLOG_TABLE_FULL,
		[CAP_REFUSE_ADDR_DOMAINS] = FLOG_ADDR_DOMAINS,
		[CAP_REFUSE_TEMPLATES] = FLOG_TEMPLATE_FULL,
		[CAP_REFUSE_TEMPLATE_MEMORY] = FLOG_TEMPLATE_MEMORY,
	};
	if (e)
		log_once(&ctx->log[kinds[why]], "%s exporter %s domain %u: %s", source_name(e->key.source),
			 ip_format(&e->key.addr, a), e->key.domain, what);
	else
		log_once(&ctx->log[kinds[why]], "flow exporter %s: %s", ip_format(addr, a), what);
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
	/* Exporters that sent valid data first: under a flood, a short listing shows the real
	 * ones, not the forgeries. */
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < ctx->nexp && k < max; i++) {
			const struct exporter *e = &ctx->exp[i];
			if ((e->info.records != 0) != (pass == 0))
				continue;
			out[k] = e->info;
			out[k++].templates = e->ntmpl;
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
