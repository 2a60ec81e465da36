/* The engine, on the main loop: merges worker counts, turns them into rates at every tick,
 * checks thresholds and runs the attack state machine.
 *
 * Hosts: a dense array of small headers (swap-remove on eviction) behind an open-addressing
 * index, bounded by max_hosts, and beside it, struct-of-arrays, the host's rates as floats, only
 * for the metrics the engine tracks (nk of the 36, see det_engine_new). Counts merged in a tick go
 * to a scratch row per host touched in that tick, so the tick visits only those hosts: a host
 * without traffic keeps its rates as of its last tick with traffic (upd_ns), and whoever reads
 * them decays them to now (lazy decay: rate · e^(−Δt/T), exactly what the ticks in between
 * would have done). Without traffic rates only fall, so such a host needs no threshold check.
 * Quiet hosts are freed by a sweep that visits a slice of the table every tick.
 *
 * Attacks: the ongoing ones in creation order (ids increase with it), and a ring of the last
 * HISTORY finished. An attack is banned, or refused (whitelisted, max_bans): a refused attack
 * stays open, without events, until the host falls below its thresholds, so it is reported once.
 *
 * Totals (carpet bombing: many hosts each under their limits): the counts of a group's hosts are
 * also summed per group or per (sub-)prefix (psums.c) and averaged the same way. Over a group's
 * `total`, each of the group's prefixes (the networks for group 0) becomes an attack of its own
 * and all end when the sum is back under; with total_scope prefix only the (sub-)prefix over it
 * is attacked, and ends when its own sum is back under. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "det_int.h"

#define HISTORY 256
#define NV (DET_DIRECTIONS * DET_CLASSES * DET_METRICS)
#define FLAT(d, c, m) (((d) * DET_CLASSES + (c)) * DET_METRICS + (m))

/* An index slot keeps the hash beside the host number, so a probe past another host's slot
 * costs no read of that host (a million hosts: every read of a header is a cache miss). */
struct slot {
	uint32_t host; /* host number + 1; 0 = empty */
	uint32_t hash;
};

struct host {
	ip_addr addr;
	uint32_t hash;
	uint32_t slot;
	int16_t group;
	uint8_t streak;     /* consecutive ticks, up to this one, whose own rate was over a limit */
	uint8_t fast_over;  /* the short window finds this host over its limits this tick */
	uint32_t row;       /* this tick's scratch row + 1; 0 = no counts merged this tick */
	uint64_t attack_id; /* the open attack on this host, 0 = none */
	uint64_t upd_ns;    /* the tick its rates are as of: its last tick with traffic */
};

enum attack_kind { ATT_HOST, ATT_OTHER, ATT_GROUP, ATT_PREFIX };

struct attack {
	struct det_ban_info info;
	bool banned;  /* false: refused, open until the host calms down */
	uint8_t kind; /* ATT_HOST: target is one host (/32, /128), so its rates are the host's;
			 ATT_GROUP: a prefix of a group over its total; ATT_PREFIX: a (sub-)prefix
			 over its own total; ATT_OTHER: a manual ban of a prefix */
	bool dead;    /* ended during this pass; compacted away */
	struct det_fp_acc *fp; /* host attacks: the fingerprint collected by the workers */
};

/* A group's non-zero limits, listed once so the tick checks only those. */
struct limits {
	size_t n;
	struct {
		uint8_t d, c, m, k; /* k: the tracked metric */
		double limit;
	} l[NV];
	/* quick reject: every class is part of TOTAL, so a host whose total (d, m) rate is under
	 * the smallest (d, m) limit of any class is under all of them */
	size_t nq;
	struct {
		uint8_t k;
		float min;
	} q[DET_DIRECTIONS * DET_METRICS];
};

struct det_engine {
	const struct det_config *cfg;
	struct limits *limits; /* per group */
	struct limits *totals; /* per group: its `total` limits */
	size_t *group_open;    /* per group: open attacks from its group-scope total */
	struct det_psum **gsum_tick; /* per group: its group-scope sum, found once per tick */
	const struct det_networks *nets;
	struct det_lpm whitelist;
	bool any_totals;

	/* the tracked metrics: k -> flat index into det_rates, and back (-1 = not tracked) */
	size_t nk;
	uint8_t flat_of[NV];
	int8_t k_of[NV];

	struct slot *index;
	size_t mask;
	struct host *hosts;
	float *rates;    /* nk per host, beside hosts[] */
	float *scratch;  /* nk per host touched this tick: counts merged (bytes, not bits) */
	uint32_t *touched; /* host numbers, by scratch row */
	size_t n_touched;
	size_t n_hosts, max_hosts, sweep;
	uint64_t hosts_dropped;

	/* prefix sums: the group's prefixes in a trie (value: index into pfx) to find a host's */
	struct det_psums psums;
	struct det_lpm pfx_lpm;
	ip_prefix *pfx;
	size_t n_pfx;

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

static inline bool same(const ip_addr *a, const ip_addr *b)
{
	return !memcmp(a->b, b->b, 16);
}

static struct host *host_find(const struct det_engine *e, const ip_addr *a)
{
	uint32_t h = ip_hash(a);
	for (size_t s = h & e->mask;; s = (s + 1) & e->mask) {
		uint32_t i = e->index[s].host;
		if (i == 0)
			return NULL;
		if (e->index[s].hash == h && same(&e->hosts[i - 1].addr, a))
			return &e->hosts[i - 1];
	}
}

static struct host *host_get(struct det_engine *e, const ip_addr *a, uint32_t h, int group)
{
	size_t s = h & e->mask;
	for (;; s = (s + 1) & e->mask) {
		uint32_t i = e->index[s].host;
		if (i == 0)
			break;
		if (e->index[s].hash == h && same(&e->hosts[i - 1].addr, a))
			return &e->hosts[i - 1];
	}
	if (e->n_hosts == e->max_hosts) {
		if (e->hosts_dropped++ == 0)
			log_warn("detect: host table full (%zu hosts); new hosts are not tracked", e->max_hosts);
		return NULL;
	}
	size_t n = e->n_hosts++;
	struct host *x = &e->hosts[n];
	memset(x, 0, sizeof *x);
	memset(&e->rates[n * e->nk], 0, e->nk * sizeof *e->rates);
	x->addr = *a;
	x->hash = h;
	x->slot = (uint32_t)s;
	x->group = (int16_t)group;
	e->index[s] = (struct slot){(uint32_t)e->n_hosts, h};
	return x;
}

/* Frees host number i: backward-shift deletion in the index (no tombstones, so lookups stay
 * short), then the last host moves into the hole of the dense arrays. */
static void host_remove(struct det_engine *e, size_t i)
{
	size_t hole = e->hosts[i].slot;
	for (size_t j = (hole + 1) & e->mask; e->index[j].host; j = (j + 1) & e->mask) {
		struct host *x = &e->hosts[e->index[j].host - 1];
		size_t home = e->index[j].hash & e->mask;
		/* x may move back to the hole unless its home lies cyclically in (hole, j] */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		e->index[hole] = e->index[j];
		x->slot = (uint32_t)hole;
		hole = j;
	}
	e->index[hole] = (struct slot){0, 0};
	size_t last = e->n_hosts - 1;
	if (i != last) {
		e->hosts[i] = e->hosts[last];
		memcpy(&e->rates[i * e->nk], &e->rates[last * e->nk], e->nk * sizeof *e->rates);
		e->index[e->hosts[i].slot].host = (uint32_t)(i + 1);
	}
	e->n_hosts--;
}

/* How much a rate as of time t has decayed by the last tick: e^(−Δt/T). */
static double decay_since(const struct det_engine *e, uint64_t t)
{
	if (t >= e->last_tick_ns)
		return 1.0;
	if (!e->cfg->average_s)
		return 0.0;
	return exp(-(double)(e->last_tick_ns - t) / 1e9 / (double)e->cfg->average_s);
}

/* Host number i's rates as of the last tick. */
static void host_rates(const struct det_engine *e, size_t i, struct det_rates *out)
{
	memset(out, 0, sizeof *out);
	double dec = decay_since(e, e->hosts[i].upd_ns);
	const float *r = &e->rates[i * e->nk];
	double *v = &out->v[0][0][0];
	for (size_t k = 0; k < e->nk; k++)
		v[e->flat_of[k]] = r[k] * dec;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void limits_of(const struct det_engine *e, const struct det_thresholds *th, struct limits *l)
{
	memset(l, 0, sizeof *l);
	for (int d = 0; d < DET_DIRECTIONS; d++)
		for (int m = 0; m < DET_METRICS; m++) {
			uint64_t min = 0;
			for (int c = 0; c < DET_CLASSES; c++) {
				uint64_t lim = th->limit[d][c][m];
				if (!lim)
					continue;
				l->l[l->n++] = (typeof(l->l[0])){d, c, m, (uint8_t)e->k_of[FLAT(d, c, m)], (double)lim};
				if (!min || lim < min)
					min = lim;
			}
			/* float rounding may put a rate just over a limit it equals in double: the
			 * quick test lets such a rate through to the exact check */
			if (min)
				l->q[l->nq++] = (typeof(l->q[0])){(uint8_t)e->k_of[FLAT(d, DET_TOTAL, m)],
								  (float)min * (1.0f - 1e-6f)};
		}
}

/* The tracked metrics: every total and every class's pps (reported, and the fingerprint's class
 * mix), and whatever a threshold or total checks. */
static void choose_metrics(struct det_engine *e)
{
	bool want[NV] = {false};
	for (int d = 0; d < DET_DIRECTIONS; d++) {
		for (int m = 0; m < DET_METRICS; m++)
			want[FLAT(d, DET_TOTAL, m)] = true;
		for (int c = 0; c < DET_CLASSES; c++)
			want[FLAT(d, c, DET_PPS)] = true;
	}
	for (size_t g = 0; g < e->cfg->n_groups; g++) {
		const uint64_t *a = &e->cfg->groups[g].thresholds.limit[0][0][0];
		const uint64_t *b = &e->cfg->groups[g].total.limit[0][0][0];
		for (size_t f = 0; f < NV; f++)
			want[f] |= a[f] || b[f];
	}
	e->nk = 0;
	for (size_t f = 0; f < NV; f++) {
		e->k_of[f] = want[f] ? (int8_t)e->nk : -1;
		if (want[f])
			e->flat_of[e->nk++] = (uint8_t)f;
	}
}

/* The groups' prefixes in a trie, inserted as det_networks_new does so a host finds the same
 * prefix its group came from. Only when some group sums per prefix. */
static int prefixes_init(struct det_engine *e)
{
	const struct det_config *cfg = e->cfg;
	bool any = false;
	size_t n = cfg->n_networks;
	for (size_t g = 0; g < cfg->n_groups; g++) {
		any |= cfg->groups[g].total_scope == DET_SCOPE_PREFIX && e->totals[g].n;
		if (g)
			n += cfg->groups[g].n_prefixes;
	}
	if (!any)
		return 0;
	if (det_lpm_init(&e->pfx_lpm) != 0 || !(e->pfx = calloc(n ? n : 1, sizeof *e->pfx)))
		return -1;
	for (size_t g = 0; g < cfg->n_groups; g++) {
		const ip_prefix *p = g == 0 ? cfg->networks : cfg->groups[g].prefixes;
		size_t np = g == 0 ? cfg->n_networks : cfg->groups[g].n_prefixes;
		for (size_t i = 0; i < np; i++) {
			e->pfx[e->n_pfx] = p[i];
			ip_prefix_mask(&e->pfx[e->n_pfx]);
			if (det_lpm_insert(&e->pfx_lpm, &p[i], (int32_t)e->n_pfx) != 0)
				return -1;
			e->n_pfx++;
		}
	}
	return 0;
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
	choose_metrics(e);
	/* calloc'd: pages become resident only as hosts appear */
	e->index = calloc(size, sizeof *e->index);
	e->hosts = calloc(e->max_hosts, sizeof *e->hosts);
	e->rates = calloc(e->max_hosts * e->nk, sizeof *e->rates);
	e->scratch = calloc(e->max_hosts * e->nk, sizeof *e->scratch);
	e->touched = calloc(e->max_hosts, sizeof *e->touched);
	size_t ng = cfg->n_groups ? cfg->n_groups : 1;
	e->limits = calloc(ng, sizeof *e->limits);
	e->totals = calloc(ng, sizeof *e->totals);
	e->group_open = calloc(ng, sizeof *e->group_open);
	e->gsum_tick = calloc(ng, sizeof *e->gsum_tick);
	if (cfg->max_bans_per_minute)
		e->ban_times = calloc(cfg->max_bans_per_minute, sizeof *e->ban_times);
	if (!e->index || !e->hosts || !e->rates || !e->scratch || !e->touched || !e->limits || !e->totals ||
	    !e->group_open || !e->gsum_tick || (cfg->max_bans_per_minute && !e->ban_times) ||
	    det_lpm_init(&e->whitelist) != 0)
		goto fail;
	for (size_t g = 0; g < cfg->n_groups; g++) {
		limits_of(e, &cfg->groups[g].thresholds, &e->limits[g]);
		limits_of(e, &cfg->groups[g].total, &e->totals[g]);
		e->any_totals |= e->totals[g].n > 0;
	}
	if (e->any_totals && det_psums_init(&e->psums, DET_MAX_PREFIX_SUMS) != 0)
		goto fail;
	if (prefixes_init(e) != 0)
		goto fail;
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
	det_lpm_fini(&e->pfx_lpm);
	det_psums_fini(&e->psums);
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
	free(e->rates);
	free(e->scratch);
	free(e->touched);
	free(e->pfx);
	free(e->open);
	free(e->limits);
	free(e->totals);
	free(e->group_open);
	free(e->gsum_tick);
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

/* Adds one counters entry to its host's scratch row (opened at the host's first entry of the
 * tick). */
static inline void merge_one(struct det_engine *e, const struct det_counters_host *in, bool stale)
{
	/* counters filled against the networks before a reload: their groups are looked up again */
	int group = stale ? det_networks_lookup(e->nets, &in->host) : in->group;
	struct host *h = host_get(e, &in->host, in->hash, group);
	if (!h)
		return;
	if (!h->row) {
		e->touched[e->n_touched] = (uint32_t)(h - e->hosts);
		h->row = (uint32_t)++e->n_touched;
	}
	float *dst = &e->scratch[(size_t)(h->row - 1) * e->nk];
	const float *src = &in->c.v[0][0][0];
	for (size_t k = 0; k < e->nk; k++)
		dst[k] += src[e->flat_of[k]];
}

void det_engine_merge(struct det_engine *e, struct det_counters *c)
{
	merge_fingerprints(e, c);
	size_t n;
	const struct det_counters_host *in = det_counters_entries(c, &n);
	bool stale = det_counters_networks(c) != e->nets;
	/* a million hosts are a million cache misses into the index and the headers: ask for them
	 * a few entries ahead so the misses overlap */
	enum { AHEAD = 16 };
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			__builtin_prefetch(&e->index[in[i + AHEAD].hash & e->mask]);
		if (i + AHEAD / 2 < n) {
			uint32_t j = e->index[in[i + AHEAD / 2].hash & e->mask].host;
			if (j)
				__builtin_prefetch(&e->hosts[j - 1]);
		}
		merge_one(e, &in[i], stale);
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

/* The same on a host's tracked rates (as of its last update), with the quick reject first. */
static bool over_row(const struct limits *l, const float *r, struct trigger *t)
{
	size_t q = 0;
	while (q < l->nq && r[l->q[q].k] <= l->q[q].min)
		q++;
	if (q == l->nq)
		return false;
	double best = 1.0;
	bool found = false;
	for (size_t i = 0; i < l->n; i++) {
		double v = r[l->l[i].k], lim = l->l[i].limit;
		if (v > lim && v / lim > best) {
			best = v / lim;
			found = true;
			*t = (struct trigger){l->l[i].d, l->l[i].c, l->l[i].m, v, lim};
		}
	}
	return found;
}

static const struct limits *host_limits(const struct det_engine *e, const struct host *h)
{
	if (h->group < 0 || (size_t)h->group >= e->cfg->n_groups || !e->limits[h->group].n)
		return NULL;
	return &e->limits[h->group];
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

/* ---- sums --------------------------------------------------------------------------------- */

static const ip_prefix whole_group; /* the key of a group-scope sum */

/* The sum a's rates come from: its group's (ATT_GROUP) or its prefix's (ATT_PREFIX, and a
 * manual ban of a prefix that has a sum). */
static struct det_psum *attack_sum(const struct det_engine *e, const struct attack *a)
{
	if (!e->any_totals || a->kind == ATT_HOST)
		return NULL;
	struct det_psums *t = (struct det_psums *)&e->psums;
	if (a->kind == ATT_GROUP)
		return det_psums_get(t, a->info.hostgroup, &whole_group, false);
	return det_psums_get(t, a->info.hostgroup, &a->info.target, false);
}

/* The sum host h's counts go to, created as needed; NULL when its group has no totals or the
 * table is full. */
static struct det_psum *host_sum(struct det_engine *e, const struct host *h)
{
	int g = h->group;
	if (g < 0 || (size_t)g >= e->cfg->n_groups || !e->totals[g].n)
		return NULL;
	const struct det_hostgroup *grp = &e->cfg->groups[g];
	struct det_psum *s;
	if (grp->total_scope != DET_SCOPE_PREFIX) {
		if (!(s = e->gsum_tick[g]))
			s = e->gsum_tick[g] = det_psums_get(&e->psums, g, &whole_group, true);
	} else {
		int id = det_lpm_lookup(&e->pfx_lpm, &h->addr);
		if (id < 0)
			return NULL;
		ip_prefix p = e->pfx[id];
		unsigned len = ip_is_v4(&p.addr) ? grp->total_prefix_len_v4 : grp->total_prefix_len_v6;
		if (len > p.len && len <= ip_max_len(&p.addr)) {
			p.addr = h->addr;
			p.len = (uint8_t)len;
			ip_prefix_mask(&p);
		}
		s = det_psums_get(&e->psums, g, &p, true);
	}
	if (!s && e->psums.dropped == 1)
		log_warn("detect: prefix sums table full (%d sums); further prefixes are not summed",
			 DET_MAX_PREFIX_SUMS);
	return s;
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
	a->kind = ATT_OTHER;
	a->info.attack_id = e->next_attack_id++;
	return a;
}

static void emit(det_event_fn fn, void *ctx, const struct attack *a, enum det_event_type type, uint64_t now,
		 uint32_t ban_seconds, const char *reason)
{
	if (!fn)
		return;
	struct det_event ev = det_event_of_ban(&a->info, type, now, ban_seconds, reason);
	fn(ctx, &ev);
}

struct det_event det_event_of_ban(const struct det_ban_info *b, enum det_event_type type, uint64_t now_ns,
				  uint32_t ban_seconds, const char *reason)
{
	return (struct det_event){
		.type = type,
		.attack_id = b->attack_id,
		.time_ns = now_ns,
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
}

static struct host *attack_host(const struct det_engine *e, const struct attack *a)
{
	return a->kind == ATT_HOST ? host_find(e, &a->info.target.addr) : NULL;
}

/* a's rates now: its host's or its sum's; false when neither is known (kept as they were). */
static bool attack_rates(const struct det_engine *e, const struct attack *a, struct det_rates *out)
{
	const struct host *h = attack_host(e, a);
	if (h) {
		host_rates(e, (size_t)(h - e->hosts), out);
		return true;
	}
	const struct det_psum *s = attack_sum(e, a);
	if (s)
		*out = s->rates;
	return s != NULL;
}

/* What is known of a's packets: the records' fingerprint once there are some, before that
 * (and for prefix attacks) the class mix of its rates. */
static void fingerprint_of(const struct det_engine *e, const struct attack *a, struct det_fingerprint *out)
{
	if (a->fp && a->fp->packets) {
		det_fp_acc_summary(a->fp, out);
		return;
	}
	struct det_rates r;
	if (!attack_rates(e, a, &r))
		r = a->info.rates;
	det_fp_from_rates(&r, a->info.direction, out);
}

/* Ends open attack a (keeps it until compaction) and files it in the history. */
static void attack_end(struct det_engine *e, struct attack *a, uint64_t now)
{
	attack_rates(e, a, &a->info.rates);
	struct host *h = attack_host(e, a);
	if (h && h->attack_id == a->info.attack_id)
		h->attack_id = 0;
	struct det_psum *s = a->kind == ATT_GROUP ? NULL : attack_sum(e, a);
	if (s && s->attack_id == a->info.attack_id)
		s->attack_id = 0;
	if (a->kind == ATT_GROUP)
		e->group_open[a->info.hostgroup]--;
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
		struct det_rates r;
		host_rates(e, (size_t)(h - e->hosts), &r);
		a = start_attack(e, &target, h->group, &r, t, now, fn, ctx);
		if (!a)
			return;
		a->kind = ATT_HOST;
		/* without memory for it the attack has the class mix of its rates only */
		if ((a->fp = calloc(1, sizeof *a->fp)))
			e->watch_dirty = true;
	}
	h->attack_id = a->info.attack_id;
}

/* Every prefix of group g over its total; prefixes already banned (manually) are left alone. */
static void detect_group(struct det_engine *e, int g, const struct det_rates *sum, const struct trigger *t,
			 uint64_t now, det_event_fn fn, void *ctx)
{
	const struct det_config *cfg = e->cfg;
	const ip_prefix *p = g == 0 ? cfg->networks : cfg->groups[g].prefixes;
	size_t n = g == 0 ? cfg->n_networks : cfg->groups[g].n_prefixes;
	for (size_t i = 0; i < n; i++) {
		ip_prefix q = p[i];
		ip_prefix_mask(&q);
		if (find_ban(e, &q))
			continue;
		struct attack *a = start_attack(e, &q, g, sum, t, now, fn, ctx);
		if (!a)
			continue;
		a->kind = ATT_GROUP;
		e->group_open[g]++;
	}
}

/* The (sub-)prefix of sum s over its group's total; a ban of exactly it (manual) covers it. */
static void detect_prefix(struct det_engine *e, struct det_psum *s, const struct trigger *t, uint64_t now,
			  det_event_fn fn, void *ctx)
{
	struct attack *a = find_ban(e, &s->p);
	if (!a) {
		a = start_attack(e, &s->p, s->group, &s->rates, t, now, fn, ctx);
		if (!a)
			return;
		a->kind = ATT_PREFIX;
	}
	s->attack_id = a->info.attack_id;
}

/* Ban expiry, and the end of refused attacks. */
static void run_attacks(struct det_engine *e, uint64_t now, det_event_fn fn, void *ctx)
{
	size_t n = e->n_open; /* attacks opened below are not yet due */
	for (size_t i = 0; i < n; i++) {
		struct attack *a = &e->open[i];
		if (a->dead)
			continue;
		struct det_rates r;
		bool known = attack_rates(e, a, &r), going_on = false;
		if (known && a->kind == ATT_HOST) {
			const struct host *h = attack_host(e, a);
			/* an attack the short window opened goes on while the window still sees it */
			going_on = host_limits(e, h) &&
				   (over(host_limits(e, h), &r, NULL) || (h->fast_over && h->upd_ns == now));
		} else if (known && (a->kind == ATT_GROUP || a->kind == ATT_PREFIX)) {
			going_on = over(&e->totals[a->info.hostgroup], &r, NULL);
		}
		if (known) {
			a->info.rates = r;
			double v = r.v[a->info.direction][a->info.trigger_class][a->info.trigger_metric];
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

/* The short window beside the average: the host's own rate this tick (its counts over dt), over
 * a limit on each of the last confirm_ticks ticks, or burst_factor times a limit on this one.
 * The 1 s average of a step to k times a limit crosses it only after ln(k/(k-1)) s (0.69 s at
 * 2x); two ticks over the limit say the same after 0.2 s, and one tick at 3x after 0.1 s, while a
 * single tick under 3x a limit (a short burst) does not ban. A 10x attack that starts late in a
 * tick fills too little of it for 3x and is detected at the next: at most 0.13 s after its
 * first packet (0.14 s with 4x, which is why 3).
 * Sets h->streak and h->fast_over, and *t to the limit the tick is furthest over. Costs one pass
 * over the group's limits per touched host, no memory: the streak is a byte of the host. */
static void fast_window(struct det_engine *e, struct host *h, const struct limits *l, const float *s,
			bool consecutive, const float *per_s, struct trigger *t)
{
	uint32_t confirm = e->cfg->confirm_ticks, factor = e->cfg->burst_factor;
	h->fast_over = 0;
	if (!confirm && !factor)
		return;
	float inst[NV];
	for (size_t k = 0; k < e->nk; k++)
		inst[k] = s[k] * per_s[k];
	struct trigger ft;
	if (!over_row(l, inst, &ft)) {
		h->streak = 0;
		return;
	}
	/* a tick without counts for this host broke the run */
	uint8_t before = consecutive ? h->streak : 0;
	h->streak = before < UINT8_MAX ? before + 1 : UINT8_MAX;
	if ((confirm && h->streak >= confirm) || (factor && ft.value >= ft.limit * factor)) {
		h->fast_over = 1;
		*t = ft;
	}
}

/* The hosts with counts this tick: their rates, their sums' counts, their thresholds. */
static void tick_hosts(struct det_engine *e, uint64_t now, uint64_t prev, double dt, det_event_fn fn, void *ctx)
{
	double T = e->cfg->average_s;
	/* EMA of the rate over the elapsed capture time: the same time constant at any tick length.
	 * rate' = d·rate + (1 − d)·count/dt, d = e^(−dt/T); bytes become bits */
	float d1 = T ? (float)exp(-dt / T) : 0.0f;
	float scale[NV], per_s[NV]; /* per_s: a tick's count to its own rate (bytes to bits) */
	for (size_t k = 0; k < e->nk; k++) {
		per_s[k] = (float)((e->flat_of[k] % DET_METRICS == DET_BPS ? 8.0 : 1.0) / dt);
		scale[k] = (float)(1.0 - (double)d1) * per_s[k];
	}
	const size_t nk = e->nk;
	for (size_t i = 0; i < e->n_touched; i++) {
		size_t hi = e->touched[i];
		struct host *h = &e->hosts[hi];
		float *r = &e->rates[hi * nk];
		const float *s = &e->scratch[i * nk];
		float d = d1;
		bool consecutive = prev && h->upd_ns == prev;
		if (h->upd_ns != prev)
			d = !h->upd_ns || !T ? 0.0f : (float)exp(-(double)(now - h->upd_ns) / 1e9 / T);
		for (size_t k = 0; k < nk; k++)
			r[k] = d * r[k] + scale[k] * s[k];
		h->upd_ns = now;
		h->row = 0;
		if (e->any_totals) {
			struct det_psum *sum = host_sum(e, h);
			if (sum) {
				double *acc = &sum->acc.v[0][0][0];
				for (size_t k = 0; k < nk; k++)
					acc[e->flat_of[k]] += s[k];
			}
		}
		struct trigger t;
		const struct limits *l = host_limits(e, h);
		if (!l)
			continue;
		fast_window(e, h, l, s, consecutive, per_s, &t);
		if (!h->attack_id && (over_row(l, r, &t) || h->fast_over))
			detect_host(e, h, &t, now, fn, ctx);
	}
	memset(e->scratch, 0, e->n_touched * nk * sizeof *e->scratch);
	e->n_touched = 0;
}

/* Every sum: its average (all of them every tick: they are few), its total, its end. */
static void tick_sums(struct det_engine *e, uint64_t now, double dt, uint64_t idle_ns, det_event_fn fn, void *ctx)
{
	double T = e->cfg->average_s;
	double d1 = T ? exp(-dt / T) : 0.0;
	for (size_t g = 0; g < e->cfg->n_groups; g++)
		e->gsum_tick[g] = NULL;
	for (size_t i = e->psums.n; i-- > 0;) {
		struct det_psum *s = &e->psums.e[i];
		double *acc = &s->acc.v[0][0][0], *r = &s->rates.v[0][0][0];
		bool seen = false;
		for (size_t k = 0; k < e->nk; k++) {
			size_t f = e->flat_of[k];
			seen |= acc[f] != 0;
			r[f] = d1 * r[f] + (1.0 - d1) * acc[f] * (f % DET_METRICS == DET_BPS ? 8.0 : 1.0) / dt;
			acc[f] = 0;
		}
		if (seen)
			s->last_ns = now;
		int g = s->group;
		struct trigger t;
		bool whole = e->cfg->groups[g].total_scope != DET_SCOPE_PREFIX;
		if (whole && !e->group_open[g] && over(&e->totals[g], &s->rates, &t))
			detect_group(e, g, &s->rates, &t, now, fn, ctx);
		else if (!whole && !s->attack_id && over(&e->totals[g], &s->rates, &t))
			detect_prefix(e, s, &t, now, fn, ctx);
		else if (!seen && now - s->last_ns >= idle_ns && !s->attack_id && !(whole && e->group_open[g]))
			det_psums_remove(&e->psums, i);
	}
}

/* Frees hosts quiet for host_idle_s: a slice of the table per tick, so the whole table is seen
 * every 16 ticks and a tick's cost does not grow with the hosts that did nothing. */
static void sweep_idle(struct det_engine *e, uint64_t now, uint64_t idle_ns)
{
	size_t budget = e->n_hosts / 16 > 1024 ? e->n_hosts / 16 : 1024;
	if (budget > e->n_hosts)
		budget = e->n_hosts;
	while (budget > 0 && e->n_hosts > 0) {
		if (e->sweep >= e->n_hosts)
			e->sweep = 0;
		struct host *h = &e->hosts[e->sweep];
		if (!h->attack_id && h->upd_ns < now && now - h->upd_ns >= idle_ns) {
			host_remove(e, e->sweep); /* the last host moves here, seen next */
		} else {
			e->sweep++;
			budget--;
		}
	}
}

void det_engine_tick(struct det_engine *e, uint64_t now_ns, det_event_fn fn, void *ctx)
{
	double dt = e->cfg->tick_ms ? e->cfg->tick_ms / 1000.0 : 0.1;
	if (e->last_tick_ns && now_ns > e->last_tick_ns)
		dt = (double)(now_ns - e->last_tick_ns) / 1e9;
	uint64_t prev = e->last_tick_ns;
	e->last_tick_ns = now_ns;
	uint64_t idle_ns = (uint64_t)e->cfg->host_idle_s * 1000000000ull;

	tick_hosts(e, now_ns, prev, dt, fn, ctx);
	if (e->any_totals)
		tick_sums(e, now_ns, dt, idle_ns, fn, ctx);
	sweep_idle(e, now_ns, idle_ns);
	run_attacks(e, now_ns, fn, ctx);
	compact(e);
	publish_watch(e);
}

/* ---- reload ------------------------------------------------------------------------------- */

/* The hostgroup layout the prefix sums are keyed by (group index, prefix). */
static bool same_layout(const struct det_config *a, const struct det_config *b)
{
	if (a->n_groups != b->n_groups || a->n_networks != b->n_networks)
		return false;
	for (size_t i = 0; i < a->n_networks; i++)
		if (!ip_prefix_equal(&a->networks[i], &b->networks[i]))
			return false;
	for (size_t g = 0; g < a->n_groups; g++) {
		const struct det_hostgroup *x = &a->groups[g], *y = &b->groups[g];
		if (strcmp(x->name, y->name) || x->n_prefixes != y->n_prefixes || x->total_scope != y->total_scope ||
		    x->total_prefix_len_v4 != y->total_prefix_len_v4 || x->total_prefix_len_v6 != y->total_prefix_len_v6)
			return false;
		for (size_t i = 0; i < x->n_prefixes; i++)
			if (!ip_prefix_equal(&x->prefixes[i], &y->prefixes[i]))
				return false;
	}
	return true;
}

int det_engine_reconfigure(struct det_engine *e, const struct det_config *cfg, const struct det_config *was,
			   const struct det_networks *nets)
{
	if (cfg->max_hosts != was->max_hosts)
		return -1;
	/* the new state is built beside the old one; nothing of the engine changes until all of it
	 * is there */
	struct det_engine n = *e;
	n.cfg = cfg;
	n.nets = nets;
	choose_metrics(&n);
	bool remap = n.nk != e->nk || memcmp(n.flat_of, e->flat_of, n.nk) != 0;
	size_t ng = cfg->n_groups ? cfg->n_groups : 1;
	bool keep_sums = same_layout(cfg, was);
	struct det_psums sums = {0};
	struct det_lpm pfx_lpm = {0}, whitelist = {0};
	n.limits = calloc(ng, sizeof *n.limits);
	n.totals = calloc(ng, sizeof *n.totals);
	n.group_open = calloc(ng, sizeof *n.group_open);
	n.gsum_tick = calloc(ng, sizeof *n.gsum_tick);
	n.ban_times = cfg->max_bans_per_minute ? calloc(cfg->max_bans_per_minute, sizeof *n.ban_times) : NULL;
	n.rates = remap ? calloc(e->max_hosts * n.nk, sizeof *n.rates) : e->rates;
	n.scratch = remap ? calloc(e->max_hosts * n.nk, sizeof *n.scratch) : e->scratch;
	n.pfx = NULL;
	n.n_pfx = 0;
	n.pfx_lpm = pfx_lpm;
	bool ok = n.limits && n.totals && n.group_open && n.gsum_tick && (!cfg->max_bans_per_minute || n.ban_times) &&
		  n.rates && n.scratch && det_lpm_init(&whitelist) == 0;
	n.any_totals = false;
	for (size_t g = 0; ok && g < cfg->n_groups; g++) {
		limits_of(&n, &cfg->groups[g].thresholds, &n.limits[g]);
		limits_of(&n, &cfg->groups[g].total, &n.totals[g]);
		n.any_totals |= n.totals[g].n > 0;
	}
	bool fresh_sums = n.any_totals && !(keep_sums && e->any_totals);
	if (ok && fresh_sums)
		ok = det_psums_init(&sums, DET_MAX_PREFIX_SUMS) == 0;
	if (ok)
		ok = prefixes_init(&n) == 0;
	for (size_t i = 0; ok && i < cfg->n_whitelist; i++)
		ok = det_lpm_insert(&whitelist, &cfg->whitelist[i], 0) == 0;
	if (!ok) {
		free(n.limits);
		free(n.totals);
		free(n.group_open);
		free(n.gsum_tick);
		free(n.ban_times);
		if (remap) {
			free(n.rates);
			free(n.scratch);
		}
		det_psums_fini(&sums);
		det_lpm_fini(&n.pfx_lpm);
		free(n.pfx);
		det_lpm_fini(&whitelist);
		return -1;
	}

	/* rates of the metrics tracked before and after move over; a newly tracked one starts at 0
	 * and fills within the average's time constant */
	if (remap) {
		for (size_t k = 0; k < n.nk; k++) {
			int old = e->k_of[n.flat_of[k]];
			if (old < 0)
				continue;
			for (size_t i = 0; i < e->n_hosts; i++)
				n.rates[i * n.nk + k] = e->rates[i * e->nk + (size_t)old];
			for (size_t i = 0; i < e->n_touched; i++)
				n.scratch[i * n.nk + k] = e->scratch[i * e->nk + (size_t)old];
		}
		free(e->rates);
		free(e->scratch);
	}
	/* the latest ban times, as many as the new cap holds */
	n.ban_next = n.ban_count = 0;
	for (size_t j = e->ban_count < cfg->max_bans_per_minute ? e->ban_count : cfg->max_bans_per_minute; j > 0; j--) {
		size_t cap = was->max_bans_per_minute;
		n.ban_times[n.ban_next] = e->ban_times[(e->ban_next + cap - j) % cap];
		n.ban_next = (n.ban_next + 1) % cfg->max_bans_per_minute;
		n.ban_count++;
	}
	if (fresh_sums) {
		det_psums_fini(&e->psums);
		n.psums = sums;
	} else if (!n.any_totals) {
		det_psums_fini(&e->psums);
		memset(&n.psums, 0, sizeof n.psums);
	}
	/* hosts take the group the new networks give them; one no longer monitored has none: it is
	 * not checked and, without traffic counted, is freed after host_idle_s unless banned */
	for (size_t i = 0; i < e->n_hosts; i++)
		n.hosts[i].group = (int16_t)det_networks_lookup(nets, &n.hosts[i].addr);
	/* open attacks: a host's follows its host's group (the default one once it left the
	 * networks, for its ban time); a group's or prefix's goes to the group of the same name if it
	 * still has totals, else it runs out its ban time like a manual prefix ban */
	for (size_t i = 0; i < e->n_open; i++) {
		struct attack *a = &e->open[i];
		if (a->dead)
			continue;
		if (a->kind == ATT_GROUP || a->kind == ATT_PREFIX) {
			int g = -1;
			const char *name = a->info.hostgroup >= 0 && (size_t)a->info.hostgroup < was->n_groups
						   ? was->groups[a->info.hostgroup].name
						   : NULL;
			for (size_t k = 0; name && k < cfg->n_groups; k++)
				if (!strcmp(cfg->groups[k].name, name))
					g = (int)k;
			if (g < 0 || !n.totals[g].n || cfg->groups[g].total_scope != was->groups[a->info.hostgroup].total_scope) {
				a->kind = ATT_OTHER;
				g = g < 0 ? 0 : g;
			}
			a->info.hostgroup = g;
			if (a->kind == ATT_GROUP)
				n.group_open[g]++;
		} else {
			int g = det_networks_lookup(nets, &a->info.target.addr);
			a->info.hostgroup = g < 0 || (size_t)g >= cfg->n_groups ? 0 : g;
		}
	}
	det_lpm_fini(&e->whitelist);
	n.whitelist = whitelist;
	det_lpm_fini(&e->pfx_lpm);
	free(e->pfx);
	free(e->limits);
	free(e->totals);
	free(e->group_open);
	free(e->gsum_tick);
	free(e->ban_times);
	*e = n;
	return 0;
}

/* ---- manual bans -------------------------------------------------------------------------- */

/* The group of p when an operator's ban (or one restored after a restart) may be made now;
 * -1 with *why set: not monitored, already banned, whitelisted, own, past max_bans. */
static int admissible(struct det_engine *e, const ip_prefix *p, uint64_t now_ns, const char **why)
{
	int group = det_networks_lookup(e->nets, &p->addr);
	if (group < 0) {
		*why = "not monitored";
		return -1;
	}
	if (find_ban(e, p)) {
		*why = "already banned";
		return -1;
	}
	if ((*why = refusal(e, p, false, now_ns)))
		return -1;
	return group;
}

int det_engine_ban(struct det_engine *e, const ip_prefix *target, uint32_t seconds, uint64_t now_ns,
		   det_event_fn fn, void *ctx, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	ip_prefix p = *target;
	ip_prefix_mask(&p);
	int group = admissible(e, &p, now_ns, why);
	if (group < 0)
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
	if (p.len == ip_max_len(&p.addr))
		a->kind = ATT_HOST;
	struct host *h = attack_host(e, a);
	if (h) {
		host_rates(e, (size_t)(h - e->hosts), &b->rates);
		if (!h->attack_id)
			h->attack_id = b->attack_id;
	}
	/* a prefix with a sum of its own: the sum does not open a second attack on it */
	struct det_psum *s = attack_sum(e, a);
	if (s) {
		b->rates = s->rates;
		if (!s->attack_id)
			s->attack_id = b->attack_id;
	}
	e->n_banned++;
	count_ban(e, now_ns);
	if (a->kind == ATT_HOST && (a->fp = calloc(1, sizeof *a->fp)))
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
	attack_rates(e, a, &out->rates);
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

/* top: a min-heap of the n busiest seen so far, so a pass over every host costs log n each.
 * Keys are the hosts' rates decayed to the last tick. */
struct top_ent {
	double key;
	size_t host;
};

static double top_key(const struct top_ent *t, enum det_direction dir, enum det_metric m)
{
	(void)dir, (void)m;
	return t->key;
}

static void sift_down(struct top_ent *heap, size_t n, size_t i, enum det_direction dir, enum det_metric m)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < n && top_key(&heap[l], dir, m) < top_key(&heap[s], dir, m))
			s = l;
		if (r < n && top_key(&heap[r], dir, m) < top_key(&heap[s], dir, m))
			s = r;
		if (s == i)
			return;
		struct top_ent t = heap[i];
		heap[i] = heap[s];
		heap[s] = t;
		i = s;
	}
}

static void sift_up(struct top_ent *heap, size_t i, enum det_direction dir, enum det_metric m)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (top_key(&heap[p], dir, m) <= top_key(&heap[i], dir, m))
			return;
		struct top_ent t = heap[i];
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
	struct top_ent *heap = malloc(n * sizeof *heap);
	if (!heap)
		return 0;
	size_t k = 0, kk = (size_t)e->k_of[FLAT(dir, DET_TOTAL, metric)];
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct top_ent h = {e->rates[i * e->nk + kk], i};
		if (h.key > 0 && e->hosts[i].upd_ns < e->last_tick_ns)
			h.key *= decay_since(e, e->hosts[i].upd_ns);
		if (k < n) {
			heap[k] = h;
			sift_up(heap, k++, dir, metric);
		} else if (h.key > heap[0].key) {
			heap[0] = h;
			sift_down(heap, k, 0, dir, metric);
		}
	}
	/* pop the smallest to the back: the array ends up busiest first */
	for (size_t left = k; left > 1; left--) {
		struct top_ent t = heap[0];
		heap[0] = heap[left - 1];
		heap[left - 1] = t;
		sift_down(heap, left - 1, 0, dir, metric);
	}
	for (size_t i = 0; i < k; i++) {
		const struct host *h = &e->hosts[heap[i].host];
		out[i] = (struct det_host_info){.host = h->addr, .hostgroup = h->group, .banned = false};
		host_rates(e, heap[i].host, &out[i].rates);
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

/* ---- restart ------------------------------------------------------------------------------ */

int det_engine_restore(struct det_engine *e, const struct det_ban_info *b, uint64_t now_ns, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!b->attack_id || b->attack_id == UINT64_MAX) {
		*why = "bad attack id";
		return -1;
	}
	if (b->attack_id >= e->next_attack_id)
		e->next_attack_id = b->attack_id + 1;
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead && e->open[i].info.attack_id == b->attack_id) {
			*why = "duplicate attack id";
			return -1;
		}
	ip_prefix p = b->target;
	ip_prefix_mask(&p);
	if (b->until_ns <= now_ns) {
		struct det_ban_info *h = &e->history[e->hist_next];
		*h = *b;
		h->target = p;
		h->active = false;
		h->ended_ns = b->until_ns;
		/* the wiring indexes its groups with it: a group that is gone is the address's now */
		if (h->hostgroup < 0 || (size_t)h->hostgroup >= e->cfg->n_groups)
			h->hostgroup = det_networks_lookup(e->nets, &p.addr) < 0 ? 0 : det_networks_lookup(e->nets, &p.addr);
		memset(&e->hist_fp[e->hist_next], 0, sizeof e->hist_fp[e->hist_next]);
		e->hist_fp[e->hist_next].from_rates = true;
		e->hist_next = (e->hist_next + 1) % HISTORY;
		if (e->hist_count < HISTORY)
			e->hist_count++;
		return 1;
	}
	/* as for a manual ban: the rate cap is for new bans */
	int group = admissible(e, &p, now_ns, why);
	if (group < 0)
		return -1;
	if (b->hostgroup >= 0 && (size_t)b->hostgroup < e->cfg->n_groups)
		group = b->hostgroup;
	struct attack *a = attack_open(e);
	if (!a) {
		*why = "out of memory";
		return -1;
	}
	e->next_attack_id--; /* attack_open took the next id: give it back, a keeps b's */
	a->info = *b;
	a->info.attack_id = b->attack_id;
	a->info.target = p;
	a->info.hostgroup = group;
	a->info.active = true;
	a->info.ended_ns = 0;
	memset(&a->info.rates, 0, sizeof a->info.rates);
	a->info.peak_value = b->manual ? 0 : b->trigger_value;
	a->banned = true;
	bool host = p.len == ip_max_len(&p.addr);
	if (host)
		a->kind = ATT_HOST;
	else if (b->manual || (size_t)group >= e->cfg->n_groups)
		a->kind = ATT_OTHER;
	else if (e->cfg->groups[group].total_scope == DET_SCOPE_PREFIX)
		a->kind = ATT_PREFIX;
	else {
		a->kind = ATT_GROUP;
		e->group_open[group]++;
	}
	struct host *h = attack_host(e, a);
	if (h && !h->attack_id)
		h->attack_id = a->info.attack_id;
	struct det_psum *s = a->kind == ATT_GROUP ? NULL : attack_sum(e, a);
	if (s && !s->attack_id)
		s->attack_id = a->info.attack_id;
	e->n_banned++;
	if (host && (a->fp = calloc(1, sizeof *a->fp)))
		e->watch_dirty = true;
	publish_watch(e);
	return 0;
}
