/* The engine, on the main loop: merges worker counts, turns them into rates at every tick,
 * checks thresholds and runs the attack state machine.
 *
 * Hosts: a dense array (swap-remove on eviction) behind an open-addressing index, bounded by
 * max_hosts; memory is a fixed number of bytes per host and is freed when it goes quiet.
 * Attacks: the ongoing ones in creation order (ids increase with it), and a ring of the last
 * HISTORY finished. An attack is banned, or refused (whitelisted, max_bans): a refused attack
 * stays open, without events, until the host falls below its thresholds, so it is reported once.
 *
 * Group totals (carpet bombing: many hosts each under their limits): every tick sums the rates of
 * a group's hosts; over a `total` limit, each of the group's prefixes (the networks for group 0)
 * becomes an attack of its own, banned like a host, and all end when the sum is back under. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "det_int.h"

#define HISTORY 256

struct host {
	ip_addr addr;
	uint32_t hash;
	uint32_t slot;
	int32_t group;
	uint64_t attack_id; /* the open attack on this host, 0 = none */
	uint64_t last_seen_ns;
	struct det_count acc; /* counts merged since the last tick */
	struct det_rates rates;
};

struct attack {
	struct det_ban_info info;
	bool banned;  /* false: refused, open until the host calms down */
	bool is_host; /* target is one host (/32, /128), so its rates are the host's */
	int group_total; /* >= 0: a prefix of this group, attacked as part of the group's total */
	bool dead;    /* ended during this pass; compacted away */
	struct det_fp_acc *fp; /* host attacks: the fingerprint collected by the workers */
};

/* A group's non-zero limits, listed once so the tick checks only those. */
struct limits {
	size_t n;
	struct {
		uint8_t d, c, m;
		double limit;
	} l[DET_DIRECTIONS * DET_CLASSES * DET_METRICS];
};

struct det_engine {
	const struct det_config *cfg;
	struct limits *limits; /* per group */
	struct limits *totals; /* per group: its `total` limits */
	struct det_rates *sums; /* per group: the sum of its hosts' rates at the last tick */
	size_t *group_open;     /* per group: open attacks from its total */
	const struct det_networks *nets;
	struct det_lpm whitelist;

	uint32_t *index; /* host number + 1; 0 = empty */
	size_t mask;
	struct host *hosts;
	size_t n_hosts, max_hosts;
	uint64_t hosts_dropped;

	struct attack *open;
	size_t n_open, cap_open;
	size_t n_banned;

	struct det_ban_info history[HISTORY]; /* ring of finished attacks */
	struct det_fingerprint hist_fp[HISTORY]; /* and their fingerprints */
	size_t hist_next, hist_count;

	/* the hosts under attack the workers fingerprint: the current set and older ones that some
	 * counters set still holds */
	struct det_watch *watches, *watch_cur;
	bool watch_dirty;

	uint64_t *ban_times; /* ring of the last max_bans_per_minute ban times */
	size_t ban_next, ban_count;

	uint64_t next_attack_id;
	uint64_t last_tick_ns; /* 0 before the first tick */
};

/* ---- host table --------------------------------------------------------------------------- */

static struct host *host_find(const struct det_engine *e, const ip_addr *a)
{
	uint32_t h = ip_hash(a);
	for (size_t s = h & e->mask;; s = (s + 1) & e->mask) {
		uint32_t i = e->index[s];
		if (i == 0)
			return NULL;
		struct host *x = &e->hosts[i - 1];
		if (x->hash == h && ip_equal(&x->addr, a))
			return x;
	}
}

static struct host *host_get(struct det_engine *e, const ip_addr *a, int group)
{
	uint32_t h = ip_hash(a);
	size_t s = h & e->mask;
	for (;; s = (s + 1) & e->mask) {
		uint32_t i = e->index[s];
		if (i == 0)
			break;
		struct host *x = &e->hosts[i - 1];
		if (x->hash == h && ip_equal(&x->addr, a))
			return x;
	}
	if (e->n_hosts == e->max_hosts) {
		if (e->hosts_dropped++ == 0)
			log_warn("detect: host table full (%zu hosts); new hosts are not tracked", e->max_hosts);
		return NULL;
	}
	struct host *x = &e->hosts[e->n_hosts++];
	memset(x, 0, sizeof *x);
	x->addr = *a;
	x->hash = h;
	x->slot = (uint32_t)s;
	x->group = group;
	e->index[s] = (uint32_t)e->n_hosts;
	return x;
}

/* Frees host number i: backward-shift deletion in the index (no tombstones, so lookups stay
 * short), then the last host moves into the hole of the dense array. */
static void host_remove(struct det_engine *e, size_t i)
{
	size_t hole = e->hosts[i].slot;
	for (size_t j = (hole + 1) & e->mask; e->index[j]; j = (j + 1) & e->mask) {
		struct host *x = &e->hosts[e->index[j] - 1];
		size_t home = x->hash & e->mask;
		/* x may move back to the hole unless its home lies cyclically in (hole, j] */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		e->index[hole] = e->index[j];
		x->slot = (uint32_t)hole;
		hole = j;
	}
	e->index[hole] = 0;
	size_t last = e->n_hosts - 1;
	if (i != last) {
		e->hosts[i] = e->hosts[last];
		e->index[e->hosts[i].slot] = (uint32_t)(i + 1);
	}
	e->n_hosts--;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void limits_of(const struct det_thresholds *th, struct limits *l)
{
	l->n = 0;
	for (int d = 0; d < DET_DIRECTIONS; d++)
		for (int c = 0; c < DET_CLASSES; c++)
			for (int m = 0; m < DET_METRICS; m++)
				if (th->limit[d][c][m])
					l->l[l->n++] = (typeof(l->l[0])){d, c, m, (double)th->limit[d][c][m]};
}

struct det_engine *det_engine_new(const struct det_config *cfg, const struct det_networks *nets)
{
	struct det_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->cfg = cfg;
	e->nets = nets;
	e->next_attack_id = 1;
	e->max_hosts = cfg->max_hosts ? cfg->max_hosts : 1;
	if (e->max_hosts > UINT32_MAX / 4)
		e->max_hosts = UINT32_MAX / 4;
	size_t size = 16;
	while (size < e->max_hosts * 2)
		size <<= 1;
	e->mask = size - 1;
	e->index = calloc(size, sizeof *e->index);
	e->hosts = calloc(e->max_hosts, sizeof *e->hosts);
	size_t ng = cfg->n_groups ? cfg->n_groups : 1;
	e->limits = calloc(ng, sizeof *e->limits);
	e->totals = calloc(ng, sizeof *e->totals);
	e->sums = calloc(ng, sizeof *e->sums);
	e->group_open = calloc(ng, sizeof *e->group_open);
	if (cfg->max_bans_per_minute)
		e->ban_times = calloc(cfg->max_bans_per_minute, sizeof *e->ban_times);
	if (!e->index || !e->hosts || !e->limits || !e->totals || !e->sums || !e->group_open ||
	    (cfg->max_bans_per_minute && !e->ban_times) || det_lpm_init(&e->whitelist) != 0)
		goto fail;
	for (size_t g = 0; g < cfg->n_groups; g++) {
		limits_of(&cfg->groups[g].thresholds, &e->limits[g]);
		limits_of(&cfg->groups[g].total, &e->totals[g]);
	}
	for (size_t i = 0; i < cfg->n_whitelist; i++)
		if (det_lpm_insert(&e->whitelist, &cfg->whitelist[i], 0) != 0)
			goto fail;
	return e;
fail:
	det_engine_free(e);
	return NULL;
}

void det_engine_free(struct det_engine *e)
{
	if (!e)
		return;
	det_lpm_fini(&e->whitelist);
	for (size_t i = 0; i < e->n_open; i++)
		free(e->open[i].fp);
	while (e->watches) {
		struct det_watch *w = e->watches;
		e->watches = w->next;
		free(w);
	}
	free(e->ban_times);
	free(e->index);
	free(e->hosts);
	free(e->open);
	free(e->limits);
	free(e->totals);
	free(e->sums);
	free(e->group_open);
	free(e);
}

static struct attack *open_by_id(struct det_engine *e, uint64_t id)
{
	for (size_t i = 0; i < e->n_open; i++)
		if (e->open[i].info.attack_id == id && !e->open[i].dead)
			return &e->open[i];
	return NULL;
}

/* The fingerprints c collected against the watch set it holds go to their attacks (an attack
 * that ended meanwhile is skipped), then c gets the current set. */
static void merge_fingerprints(struct det_engine *e, struct det_counters *c)
{
	const struct det_watch *w = det_counters_watch(c);
	for (size_t i = 0; w && i < w->n; i++) {
		const struct det_fp_acc *acc = det_counters_fp(c, i);
		struct attack *a = acc ? open_by_id(e, w->e[i].attack_id) : NULL;
		if (a && a->fp)
			det_fp_acc_merge(a->fp, acc);
	}
	if (w == e->watch_cur)
		return;
	for (struct det_watch *x = e->watches; x; x = x->next)
		if (x == w)
			x->refs--;
	det_counters_set_watch(c, e->watch_cur);
	if (e->watch_cur)
		e->watch_cur->refs++;
}

/* A new watch set when attacks on hosts started or ended; sets nobody holds are freed. */
static void publish_watch(struct det_engine *e)
{
	if (!e->watch_dirty)
		return;
	e->watch_dirty = false;
	struct det_watch *w = NULL;
	for (size_t i = 0; i < e->n_open; i++) {
		const struct attack *a = &e->open[i];
		if (a->dead || !a->fp)
			continue;
		if (!w && !(w = calloc(1, sizeof *w)))
			break; /* fingerprints pause; the next start or end tries again */
		det_watch_add(w, &a->info.target.addr, a->info.direction, a->info.attack_id);
	}
	if (w) {
		w->next = e->watches;
		e->watches = w;
	}
	e->watch_cur = w;
	for (struct det_watch **p = &e->watches; *p;) {
		struct det_watch *x = *p;
		if (x != e->watch_cur && x->refs == 0) {
			*p = x->next;
			free(x);
		} else {
			p = &x->next;
		}
	}
}

void det_engine_merge(struct det_engine *e, struct det_counters *c)
{
	merge_fingerprints(e, c);
	{
	size_t n;
	const struct det_counters_host *in = det_counters_entries(c, &n);
	for (size_t i = 0; i < n; i++) {
		struct host *h = host_get(e, &in[i].host, in[i].group);
		if (!h)
			continue;
		const uint64_t *src = &in[i].c.v[0][0][0];
		uint64_t *dst = &h->acc.v[0][0][0];
		for (size_t k = 0; k < DET_DIRECTIONS * DET_CLASSES * DET_METRICS; k++)
			dst[k] += src[k];
	}
	}
}

/* ---- thresholds --------------------------------------------------------------------------- */

struct trigger {
	enum det_direction dir;
	enum det_class cls;
	enum det_metric metric;
	double value, limit;
};

/* The limit r exceeds most (by ratio), if any. */
static bool over(const struct limits *l, const struct det_rates *r, struct trigger *t)
{
	double best = 1.0;
	bool found = false;
	for (size_t i = 0; i < l->n; i++) {
		double v = r->v[l->l[i].d][l->l[i].c][l->l[i].m], lim = l->l[i].limit;
		if (v > lim && v / lim > best) {
			best = v / lim;
			found = true;
			if (t)
				*t = (struct trigger){l->l[i].d, l->l[i].c, l->l[i].m, v, lim};
		}
	}
	return found;
}

static bool over_threshold(const struct det_engine *e, const struct host *h, struct trigger *t)
{
	if (h->group < 0 || (size_t)h->group >= e->cfg->n_groups)
		return false;
	return over(&e->limits[h->group], &h->rates, t);
}

static bool over_total(const struct det_engine *e, int g, struct trigger *t)
{
	return over(&e->totals[g], &e->sums[g], t);
}

static uint32_t ban_time(const struct det_engine *e, int group)
{
	if (group >= 0 && (size_t)group < e->cfg->n_groups && e->cfg->groups[group].ban_time_s)
		return e->cfg->groups[group].ban_time_s;
	return e->cfg->ban_time_s;
}

/* p overlaps one of list: banning it would ban some of them */
static bool covered(const ip_prefix *list, size_t n, const ip_prefix *p)
{
	for (size_t i = 0; i < n; i++) {
		if (ip_is_v4(&p->addr) != ip_is_v4(&list[i].addr))
			continue;
		if ((ip_prefix_contains(&list[i], &p->addr) && list[i].len <= p->len) ||
		    (ip_prefix_contains(p, &list[i].addr) && p->len <= list[i].len))
			return true;
	}
	return false;
}

static bool whitelisted(const struct det_engine *e, const ip_prefix *p)
{
	if (det_lpm_lookup(&e->whitelist, &p->addr) >= 0) {
		/* a whitelist prefix covers p's first address; it covers all of p if not longer */
		for (size_t i = 0; i < e->cfg->n_whitelist; i++)
			if (ip_prefix_contains(&e->cfg->whitelist[i], &p->addr) &&
			    e->cfg->whitelist[i].len <= p->len)
				return true;
	}
	/* or p would also ban a whitelisted prefix inside it */
	for (size_t i = 0; i < e->cfg->n_whitelist; i++)
		if (ip_prefix_contains(p, &e->cfg->whitelist[i].addr) && p->len <= e->cfg->whitelist[i].len &&
		    ip_is_v4(&p->addr) == ip_is_v4(&e->cfg->whitelist[i].addr))
			return true;
	return false;
}

/* ---- attacks ------------------------------------------------------------------------------ */

static struct attack *attack_open(struct det_engine *e)
{
	if (e->n_open == e->cap_open) {
		size_t cap = e->cap_open ? e->cap_open * 2 : 64;
		struct attack *n = realloc(e->open, cap * sizeof *n);
		if (!n)
			return NULL;
		e->open = n;
		e->cap_open = cap;
	}
	struct attack *a = &e->open[e->n_open++];
	memset(a, 0, sizeof *a);
	a->group_total = -1;
	a->info.attack_id = e->next_attack_id++;
	return a;
}

static void emit(det_event_fn fn, void *ctx, const struct attack *a, enum det_event_type type, uint64_t now,
		 uint32_t ban_seconds, const char *reason)
{
	if (!fn)
		return;
	const struct det_ban_info *b = &a->info;
	struct det_event ev = {
		.type = type,
		.attack_id = b->attack_id,
		.time_ns = now,
		.target = b->target,
		.direction = b->direction,
		.hostgroup = b->hostgroup,
		.manual = b->manual,
		.trigger_class = b->trigger_class,
		.trigger_metric = b->trigger_metric,
		.trigger_value = b->trigger_value,
		.trigger_limit = b->trigger_limit,
		.rates = b->rates,
		.ban_seconds = ban_seconds,
		.reason = reason,
	};
	fn(ctx, &ev);
}

static struct host *attack_host(struct det_engine *e, const struct attack *a)
{
	return a->is_host ? host_find(e, &a->info.target.addr) : NULL;
}

/* What is known of a's packets: the records' fingerprint once there are some, before that
 * (and for prefix attacks) the class mix of its rates. */
static void fingerprint_of(const struct det_engine *e, const struct attack *a, struct det_fingerprint *out)
{
	if (a->fp && a->fp->packets) {
		det_fp_acc_summary(a->fp, out);
		return;
	}
	const struct det_rates *r = &a->info.rates;
	const struct host *h = a->is_host ? host_find(e, &a->info.target.addr) : NULL;
	if (h)
		r = &h->rates;
	else if (a->group_total >= 0)
		r = &e->sums[a->group_total];
	det_fp_from_rates(r, a->info.direction, out);
}

/* Ends open attack a (keeps it until compaction) and files it in the history. */
static void attack_end(struct det_engine *e, struct attack *a, uint64_t now)
{
	struct host *h = attack_host(e, a);
	if (h) {
		a->info.rates = h->rates;
		if (h->attack_id == a->info.attack_id)
			h->attack_id = 0;
	}
	else if (a->group_total >= 0)
		a->info.rates = e->sums[a->group_total];
	if (a->group_total >= 0)
		e->group_open[a->group_total]--;
	if (a->banned)
		e->n_banned--;
	a->dead = true;
	a->info.active = false;
	a->info.ended_ns = now;
	struct det_fingerprint *fp = &e->hist_fp[e->hist_next];
	fingerprint_of(e, a, fp);
	a->info.kind = fp->kind;
	if (a->fp) {
		free(a->fp);
		a->fp = NULL;
		e->watch_dirty = true;
	}
	e->history[e->hist_next] = a->info;
	e->hist_next = (e->hist_next + 1) % HISTORY;
	if (e->hist_count < HISTORY)
		e->hist_count++;
}

static void compact(struct det_engine *e)
{
	size_t j = 0;
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead)
			e->open[j++] = e->open[i];
	e->n_open = j;
}

/* Whether the target of a ban (detected, or manual) may be banned, or why not. The rate cap
 * holds back only detected bans: a runaway detector must not blackhole a network, an operator
 * may. */
static const char *refusal(const struct det_engine *e, const ip_prefix *p, bool detected, uint64_t now)
{
	if (whitelisted(e, p))
		return "whitelisted";
	if (covered(e->cfg->own, e->cfg->n_own, p))
		return "own address";
	if (e->n_banned >= e->cfg->max_bans)
		return "max_bans reached";
	uint32_t cap = e->cfg->max_bans_per_minute;
	/* the ring holds the last cap ban times: full, and its oldest within the minute, means cap
	 * bans in the last 60 s */
	if (detected && cap && e->ban_count == cap && e->ban_times[e->ban_next] + 60000000000ull > now)
		return "max_bans_per_minute reached";
	return NULL;
}

static void count_ban(struct det_engine *e, uint64_t now)
{
	uint32_t cap = e->cfg->max_bans_per_minute;
	if (!cap)
		return;
	e->ban_times[e->ban_next] = now;
	e->ban_next = (e->ban_next + 1) % cap;
	if (e->ban_count < cap)
		e->ban_count++;
}

static struct attack *find_ban(struct det_engine *e, const ip_prefix *p)
{
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead && e->open[i].banned && ip_prefix_equal(&e->open[i].info.target, p))
			return &e->open[i];
	return NULL;
}

/* Opens a detected attack on target and bans it, or refuses; the attack is returned for the
 * caller to tie to its host or group, NULL on ENOMEM (it is detected again next tick). */
static struct attack *start_attack(struct det_engine *e, const ip_prefix *target, int group,
				   const struct det_rates *rates, const struct trigger *t, uint64_t now,
				   det_event_fn fn, void *ctx)
{
	struct attack *a = attack_open(e);
	if (!a)
		return NULL;
	struct det_ban_info *b = &a->info;
	b->target = *target;
	b->direction = t->dir;
	b->hostgroup = group;
	b->since_ns = now;
	b->trigger_class = t->cls;
	b->trigger_metric = t->metric;
	b->trigger_value = t->value;
	b->trigger_limit = t->limit;
	b->peak_value = t->value;
	b->rates = *rates;
	emit(fn, ctx, a, DET_EV_ATTACK_DETECTED, now, 0, NULL);
	const char *why = refusal(e, target, true, now);
	if (why) {
		emit(fn, ctx, a, DET_EV_BAN_REFUSED, now, 0, why);
		return a;
	}
	uint32_t secs = ban_time(e, group);
	a->banned = true;
	b->active = true;
	b->until_ns = now + (uint64_t)secs * 1000000000ull;
	e->n_banned++;
	count_ban(e, now);
	emit(fn, ctx, a, DET_EV_BAN, now, secs, NULL);
	return a;
}

static void detect_host(struct det_engine *e, struct host *h, const struct trigger *t, uint64_t now,
			det_event_fn fn, void *ctx)
{
	ip_prefix target;
	ip_prefix_host(&target, &h->addr);
	/* a ban of exactly this host (manual) already covers it */
	struct attack *a = find_ban(e, &target);
	if (!a) {
		a = start_attack(e, &target, h->group, &h->rates, t, now, fn, ctx);
		if (!a)
			return;
		a->is_host = true;
		/* without memory for it the attack has the class mix of its rates only */
		if ((a->fp = calloc(1, sizeof *a->fp)))
			e->watch_dirty = true;
	}
	h->attack_id = a->info.attack_id;
}

/* Every prefix of group g over its total; prefixes already banned (manually) are left alone. */
static void detect_group(struct det_engine *e, int g, const struct trigger *t, uint64_t now, det_event_fn fn,
			 void *ctx)
{
	const struct det_config *cfg = e->cfg;
	const ip_prefix *p = g == 0 ? cfg->networks : cfg->groups[g].prefixes;
	size_t n = g == 0 ? cfg->n_networks : cfg->groups[g].n_prefixes;
	for (size_t i = 0; i < n; i++) {
		ip_prefix q = p[i];
		ip_prefix_mask(&q);
		if (find_ban(e, &q))
			continue;
		struct attack *a = start_attack(e, &q, g, &e->sums[g], t, now, fn, ctx);
		if (!a)
			continue;
		a->group_total = g;
		e->group_open[g]++;
	}
}

/* Ban expiry, and the end of refused attacks. */
static void run_attacks(struct det_engine *e, uint64_t now, det_event_fn fn, void *ctx)
{
	size_t n = e->n_open; /* attacks opened below are not yet due */
	for (size_t i = 0; i < n; i++) {
		struct attack *a = &e->open[i];
		if (a->dead)
			continue;
		struct host *h = attack_host(e, a);
		const struct det_rates *r = h ? &h->rates : NULL;
		bool going_on = h && over_threshold(e, h, NULL);
		if (a->group_total >= 0) {
			r = &e->sums[a->group_total];
			going_on = over_total(e, a->group_total, NULL);
		}
		if (r) {
			a->info.rates = *r;
			double v = r->v[a->info.direction][a->info.trigger_class][a->info.trigger_metric];
			if (!a->info.manual && v > a->info.peak_value)
				a->info.peak_value = v;
		}
		if (!a->banned) {
			if (!going_on)
				attack_end(e, a, now);
			continue;
		}
		if (now < a->info.until_ns)
			continue;
		if (going_on && e->cfg->unban_only_if_attack_finished && !a->info.manual) {
			uint32_t secs = ban_time(e, a->info.hostgroup);
			a->info.until_ns = now + (uint64_t)secs * 1000000000ull;
			emit(fn, ctx, a, DET_EV_BAN_EXTENDED, now, secs, "attack goes on");
			continue;
		}
		attack_end(e, a, now);
		emit(fn, ctx, a, DET_EV_UNBAN, now, 0, going_on ? "ban time passed" : "ban time passed, attack finished");
	}
}

void det_engine_tick(struct det_engine *e, uint64_t now_ns, det_event_fn fn, void *ctx)
{
	double dt = e->cfg->tick_ms ? e->cfg->tick_ms / 1000.0 : 0.1;
	if (e->last_tick_ns && now_ns > e->last_tick_ns)
		dt = (double)(now_ns - e->last_tick_ns) / 1e9;
	e->last_tick_ns = now_ns;
	/* EMA of the rate over the elapsed capture time: the same time constant at any tick length */
	double alpha = e->cfg->average_s ? 1.0 - exp(-dt / (double)e->cfg->average_s) : 1.0;
	uint64_t idle_ns = (uint64_t)e->cfg->host_idle_s * 1000000000ull;
	bool sum_groups = false;
	for (size_t g = 0; g < e->cfg->n_groups; g++)
		sum_groups |= e->totals[g].n > 0;
	if (sum_groups)
		memset(e->sums, 0, e->cfg->n_groups * sizeof *e->sums);

	/* backwards, so removing host i moves an already visited host into its place */
	for (size_t i = e->n_hosts; i-- > 0;) {
		struct host *h = &e->hosts[i];
		bool seen = false;
		for (int d = 0; d < DET_DIRECTIONS; d++) {
			const uint64_t *k0 = h->acc.v[d][DET_TOTAL];
			double *r0 = h->rates.v[d][DET_TOTAL];
			/* a quiet direction (every class is part of TOTAL): once its rates fade below
			 * one packet in a thousand seconds they are zero, which also keeps them out of
			 * slow denormal arithmetic, and the direction costs nothing more */
			if (!k0[DET_PPS] && !k0[DET_FLOWS] && r0[DET_PPS] < 1e-3 && r0[DET_BPS] < 1e-3 &&
			    r0[DET_FLOWS] < 1e-3) {
				if (r0[DET_PPS] != 0 || r0[DET_BPS] != 0 || r0[DET_FLOWS] != 0)
					memset(h->rates.v[d], 0, sizeof h->rates.v[d]);
				continue;
			}
			for (int c = 0; c < DET_CLASSES; c++) {
				uint64_t *k = h->acc.v[d][c];
				double *r = h->rates.v[d][c];
				double inst[DET_METRICS] = {k[DET_PPS] / dt, k[DET_BPS] * 8.0 / dt, k[DET_FLOWS] / dt};
				seen |= k[DET_PPS] != 0;
				for (int m = 0; m < DET_METRICS; m++) {
					r[m] += alpha * (inst[m] - r[m]);
					k[m] = 0;
				}
			}
		}
		if (seen || !h->last_seen_ns)
			h->last_seen_ns = now_ns;
		struct trigger t;
		if (sum_groups && (size_t)h->group < e->cfg->n_groups && e->totals[h->group].n) {
			double *sum = &e->sums[h->group].v[0][0][0];
			const double *r = &h->rates.v[0][0][0];
			for (size_t k = 0; k < DET_DIRECTIONS * DET_CLASSES * DET_METRICS; k++)
				sum[k] += r[k];
		}
		if (!h->attack_id && over_threshold(e, h, &t))
			detect_host(e, h, &t, now_ns, fn, ctx);
		else if (!h->attack_id && !seen && now_ns - h->last_seen_ns >= idle_ns)
			host_remove(e, i);
	}
	for (size_t g = 0; sum_groups && g < e->cfg->n_groups; g++) {
		struct trigger t;
		if (!e->group_open[g] && over_total(e, (int)g, &t))
			detect_group(e, (int)g, &t, now_ns, fn, ctx);
	}
	run_attacks(e, now_ns, fn, ctx);
	compact(e);
	publish_watch(e);
}

/* ---- manual bans -------------------------------------------------------------------------- */

int det_engine_ban(struct det_engine *e, const ip_prefix *target, uint32_t seconds, uint64_t now_ns,
		   det_event_fn fn, void *ctx, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	ip_prefix p = *target;
	ip_prefix_mask(&p);
	int group = det_networks_lookup(e->nets, &p.addr);
	if (group < 0) {
		*why = "not monitored";
		return -1;
	}
	if (find_ban(e, &p)) {
		*why = "already banned";
		return -1;
	}
	if ((*why = refusal(e, &p, false, now_ns)))
		return -1;
	struct attack *a = attack_open(e);
	if (!a) {
		*why = "out of memory";
		return -1;
	}
	if (!seconds)
		seconds = ban_time(e, group);
	struct det_ban_info *b = &a->info;
	b->target = p;
	b->direction = DET_IN;
	b->hostgroup = group;
	b->manual = true;
	b->since_ns = now_ns;
	b->until_ns = now_ns + (uint64_t)seconds * 1000000000ull;
	b->active = true;
	a->banned = true;
	a->is_host = p.len == ip_max_len(&p.addr);
	struct host *h = attack_host(e, a);
	if (h) {
		b->rates = h->rates;
		if (!h->attack_id)
			h->attack_id = b->attack_id;
	}
	e->n_banned++;
	count_ban(e, now_ns);
	if (a->is_host && (a->fp = calloc(1, sizeof *a->fp)))
		e->watch_dirty = true;
	emit(fn, ctx, a, DET_EV_BAN, now_ns, seconds, NULL);
	publish_watch(e);
	return 0;
}

int det_engine_unban(struct det_engine *e, const ip_prefix *target, uint64_t now_ns, det_event_fn fn, void *ctx)
{
	ip_prefix p = *target;
	ip_prefix_mask(&p);
	struct attack *a = find_ban(e, &p);
	if (!a)
		return -1;
	attack_end(e, a, now_ns);
	/* the UNBAN is manual whoever banned it; the attack keeps its own manual flag in history */
	struct attack copy = *a;
	copy.info.manual = true;
	emit(fn, ctx, &copy, DET_EV_UNBAN, now_ns, 0, "manual unban");
	compact(e);
	publish_watch(e);
	return 0;
}

/* ---- queries ------------------------------------------------------------------------------ */

static void info_now(const struct det_engine *e, const struct attack *a, struct det_ban_info *out)
{
	*out = a->info;
	if (a->is_host) {
		const struct host *h = host_find(e, &a->info.target.addr);
		if (h)
			out->rates = h->rates;
	}
	struct det_fingerprint fp;
	fingerprint_of(e, a, &fp);
	out->kind = fp.kind;
}

int det_engine_fingerprint(const struct det_engine *e, uint64_t attack_id, struct det_fingerprint *out)
{
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead && e->open[i].info.attack_id == attack_id) {
			fingerprint_of(e, &e->open[i], out);
			return 0;
		}
	for (size_t i = 0; i < e->hist_count; i++)
		if (e->history[i].attack_id == attack_id) {
			*out = e->hist_fp[i];
			return 0;
		}
	return -1;
}

size_t det_engine_bans(const struct det_engine *e, struct det_ban_info *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_open; i++) {
		const struct attack *a = &e->open[i];
		if (a->dead || !a->banned)
			continue;
		if (n < max)
			info_now(e, a, &out[n]);
		n++;
	}
	return n;
}

static int by_id_desc(const void *x, const void *y)
{
	const struct det_ban_info *a = x, *b = y;
	return (a->attack_id < b->attack_id) - (a->attack_id > b->attack_id);
}

size_t det_engine_attacks(const struct det_engine *e, struct det_ban_info *out, size_t max)
{
	size_t total = e->n_open + e->hist_count;
	struct det_ban_info *all = malloc((total ? total : 1) * sizeof *all);
	if (!all)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead)
			info_now(e, &e->open[i], &all[n++]);
	for (size_t i = 0; i < e->hist_count; i++)
		all[n++] = e->history[i];
	qsort(all, n, sizeof *all, by_id_desc);
	memcpy(out, all, (n < max ? n : max) * sizeof *all);
	free(all);
	return n;
}

/* top: a min-heap of the n busiest seen so far, so a pass over every host costs log n each */
static double top_key(const struct host *h, enum det_direction dir, enum det_metric metric)
{
	return h->rates.v[dir][DET_TOTAL][metric];
}

static void sift_down(const struct host **heap, size_t n, size_t i, enum det_direction dir, enum det_metric m)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < n && top_key(heap[l], dir, m) < top_key(heap[s], dir, m))
			s = l;
		if (r < n && top_key(heap[r], dir, m) < top_key(heap[s], dir, m))
			s = r;
		if (s == i)
			return;
		const struct host *t = heap[i];
		heap[i] = heap[s];
		heap[s] = t;
		i = s;
	}
}

static void sift_up(const struct host **heap, size_t i, enum det_direction dir, enum det_metric m)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (top_key(heap[p], dir, m) <= top_key(heap[i], dir, m))
			return;
		const struct host *t = heap[i];
		heap[i] = heap[p];
		heap[p] = t;
		i = p;
	}
}

size_t det_engine_top(const struct det_engine *e, enum det_direction dir, enum det_metric metric,
		      struct det_host_info *out, size_t n)
{
	if ((unsigned)dir >= DET_DIRECTIONS || (unsigned)metric >= DET_METRICS)
		return 0;
	if (n > e->n_hosts)
		n = e->n_hosts;
	if (n == 0)
		return 0;
	const struct host **heap = malloc(n * sizeof *heap);
	if (!heap)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < e->n_hosts; i++) {
		const struct host *h = &e->hosts[i];
		if (k < n) {
			heap[k] = h;
			sift_up(heap, k++, dir, metric);
		} else if (top_key(h, dir, metric) > top_key(heap[0], dir, metric)) {
			heap[0] = h;
			sift_down(heap, k, 0, dir, metric);
		}
	}
	/* pop the smallest to the back: the array ends up busiest first */
	for (size_t left = k; left > 1; left--) {
		const struct host *t = heap[0];
		heap[0] = heap[left - 1];
		heap[left - 1] = t;
		sift_down(heap, left - 1, 0, dir, metric);
	}
	for (size_t i = 0; i < k; i++) {
		const struct host *h = heap[i];
		out[i] = (struct det_host_info){.host = h->addr, .hostgroup = h->group, .rates = h->rates,
						.banned = false};
		if (h->attack_id)
			for (size_t j = 0; j < e->n_open; j++)
				if (e->open[j].info.attack_id == h->attack_id) {
					out[i].banned = e->open[j].banned && !e->open[j].dead;
					break;
				}
	}
	free(heap);
	return k;
}

size_t det_engine_hosts(const struct det_engine *e)
{
	return e->n_hosts;
}
