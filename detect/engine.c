/* The engine, on the main loop: merges worker counts, turns them into rates at every tick,
 * checks thresholds and runs the attack state machine.
 *
 * Hosts: a dense array of small headers (swap-remove on eviction) in lib/ht's open-addressing
 * table, reserved for max_hosts, and beside it, struct-of-arrays, the host's rates as floats, only
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
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "engine_int.h"

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
				l->q[l->nq++] = (typeof(l->q[0])){(uint8_t)e->k_of[FLAT(d, DET_TOTAL, m)], (uint8_t)d,
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
	e->evict_rng = 0x9e3779b97f4a7c15ull;
	e->max_hosts = cfg->max_hosts ? cfg->max_hosts : 1;
	if (e->max_hosts > UINT32_MAX / 4)
		e->max_hosts = UINT32_MAX / 4;
	choose_metrics(e);
	/* calloc'd (the host table lazy too): pages become resident only as hosts appear */
	int hosts_ok = ht_init(&e->host_table, &det_host_type, e->max_hosts);
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
	if (hosts_ok != 0 || !e->rates || !e->scratch || !e->touched || !e->limits || !e->totals ||
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
	ht_free(&e->host_table);
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

/* ---- thresholds --------------------------------------------------------------------------- */

/* The limit of direction d that r exceeds most (by ratio), if any. */
bool det_over_dir(const struct limits *l, const struct det_rates *r, enum det_direction d, struct trigger *t)
{
	double best = 1.0;
	bool found = false;
	for (size_t i = 0; i < l->n; i++) {
		double v = r->v[d][l->l[i].c][l->l[i].m], lim = l->l[i].limit;
		if (l->l[i].d == d && v > lim && v / lim > best) {
			best = v / lim;
			found = true;
			if (t)
				*t = (struct trigger){l->l[i].d, l->l[i].c, l->l[i].m, v, lim};
		}
	}
	return found;
}

/* The same on a host's tracked rates (as of its last update), with the quick reject first, for
 * the directions in dirs (bit 1 << direction): returns the directions over a limit, t[d] the
 * limit direction d is furthest over (by ratio). One pass for both directions. */
static unsigned over_row(const struct limits *l, const float *r, unsigned dirs, struct trigger t[DET_DIRECTIONS])
{
	size_t q = 0;
	while (q < l->nq && (!(dirs & (1u << l->q[q].d)) || r[l->q[q].k] <= l->q[q].min))
		q++;
	if (q == l->nq)
		return 0;
	double best[DET_DIRECTIONS] = {1.0, 1.0};
	unsigned found = 0;
	for (size_t i = 0; i < l->n; i++) {
		unsigned d = l->l[i].d;
		double v = r[l->l[i].k], lim = l->l[i].limit;
		if ((dirs & (1u << d)) && v > lim && v / lim > best[d]) {
			best[d] = v / lim;
			found |= 1u << d;
			t[d] = (struct trigger){l->l[i].d, l->l[i].c, l->l[i].m, v, lim};
		}
	}
	return found;
}

const struct limits *det_host_limits(const struct det_engine *e, const struct host *h)
{
	if (h->group < 0 || (size_t)h->group >= e->cfg->n_groups || !e->limits[h->group].n)
		return NULL;
	return &e->limits[h->group];
}

/* ---- sums --------------------------------------------------------------------------------- */

static const ip_prefix whole_group; /* the key of a group-scope sum */

/* The sum a's rates come from: its group's (ATT_GROUP) or its prefix's (ATT_PREFIX, and a
 * manual ban of a prefix that has a sum). */
struct det_psum *det_attack_sum(const struct det_engine *e, const struct attack *a)
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

/* ---- tick --------------------------------------------------------------------------------- */

/* The short window beside the average: the host's own rate this tick (its counts over dt), over
 * a limit on each of the last confirm_ticks ticks, or burst_factor times a limit on this one.
 * The 1 s average of a step to k times a limit crosses it only after ln(k/(k-1)) s (0.69 s at
 * 2x); two ticks over the limit say the same after 0.2 s, and one tick at 3x after 0.1 s, while a
 * single tick under 3x a limit (a short burst) does not ban. A 10x attack that starts late in a
 * tick fills too little of it for 3x and is detected at the next: at most 0.13 s after its
 * first packet (0.14 s with 4x, which is why 3).
 * Per direction: sets h->run[d], and t[d] to the
 * limit the tick is furthest over when RUN_FAST is set. Costs one pass over the group's limits
 * per touched host, no memory: the run is a byte of the host. */
static void fast_window(struct det_engine *e, struct host *h, const struct limits *l, const float *s,
			bool consecutive, const float *per_s, struct trigger t[DET_DIRECTIONS])
{
	uint32_t confirm = e->cfg->confirm_ticks, factor = e->cfg->burst_factor;
	for (int d = 0; d < DET_DIRECTIONS; d++)
		h->run[d] &= RUN_MAX;
	if (!confirm && !factor)
		return;
	float inst[NV];
	for (size_t k = 0; k < e->nk; k++)
		inst[k] = s[k] * per_s[k];
	struct trigger ft[DET_DIRECTIONS];
	unsigned over = over_row(l, inst, (1u << DET_IN) | (1u << DET_OUT), ft);
	for (int d = 0; d < DET_DIRECTIONS; d++) {
		if (!(over & (1u << d))) {
			h->run[d] = 0;
			continue;
		}
		/* a tick without counts for this host broke the run */
		unsigned before = consecutive ? h->run[d] : 0;
		h->run[d] = (uint8_t)(before < RUN_MAX ? before + 1 : RUN_MAX);
		if ((confirm && h->run[d] >= confirm) || (factor && ft[d].value >= ft[d].limit * factor)) {
			h->run[d] |= RUN_FAST;
			t[d] = ft[d];
		}
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
		struct host *h = &det_hosts(e)[hi];
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
		struct trigger t[DET_DIRECTIONS];
		const struct limits *l = det_host_limits(e, h);
		if (!l)
			continue;
		/* each direction on its own: an attack on the host never hides one from it */
		unsigned dirs = (h->attack_id[DET_IN] ? 0 : 1u << DET_IN) | (h->attack_id[DET_OUT] ? 0 : 1u << DET_OUT);
		/* the window runs in both: it also says whether an open attack goes on */
		fast_window(e, h, l, s, consecutive, per_s, t);
		unsigned over = dirs ? over_row(l, r, dirs, t) : 0;
		for (int d = 0; d < DET_DIRECTIONS; d++)
			if ((dirs & (1u << d)) && !h->attack_id[d] && (((over >> d) & 1) || (h->run[d] & RUN_FAST)))
				det_detect_host(e, h, &t[d], now, fn, ctx);
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
	for (size_t i = det_psums_count(&e->psums); i-- > 0;) {
		struct det_psum *s = det_psums_at(&e->psums, i);
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
		int g = s->key.group;
		struct trigger t;
		bool whole = e->cfg->groups[g].total_scope != DET_SCOPE_PREFIX, open = false;
		/* each direction on its own, as for hosts: an incoming attack on a prefix never hides
		 * an outgoing one from it */
		for (int d = 0; d < DET_DIRECTIONS; d++) {
			if (whole && !e->group_open[g][d] && det_over_dir(&e->totals[g], &s->rates, d, &t))
				det_detect_group(e, g, &s->rates, &t, now, fn, ctx);
			else if (!whole && !s->attack_id[d] && det_over_dir(&e->totals[g], &s->rates, d, &t))
				det_detect_prefix(e, s, &t, now, fn, ctx);
			open |= whole ? e->group_open[g][d] != 0 : s->attack_id[d] != 0;
		}
		if (!open && !seen && now - s->last_ns >= idle_ns)
			det_psums_remove(&e->psums, i);
	}
}

/* A full host table that refused counts says so at most once a minute (capture clock), with the
 * rate per direction, so a churn flood is visible without a line per host. */
static void log_overflow(struct det_engine *e, uint64_t now)
{
	uint64_t in = e->hosts_overflow[DET_IN] - e->overflow_logged[DET_IN];
	uint64_t out = e->hosts_overflow[DET_OUT] - e->overflow_logged[DET_OUT];
	if ((!in && !out) || (e->overflow_log_ns && now < e->overflow_log_ns + 60000000000ull))
		return;
	double secs = e->overflow_log_ns && now > e->overflow_log_ns ? (double)(now - e->overflow_log_ns) / 1e9 : 1.0;
	log_warn("detect: host table full (%zu hosts, none quiet enough to push out): %" PRIu64
		 " incoming and %" PRIu64 " outgoing host counts not tracked (%.1f/s) since the last report; %" PRIu64
		 " quiet hosts pushed out in all",
		 e->max_hosts, in, out, (double)(in + out) / secs, e->hosts_evicted);
	e->overflow_logged[DET_IN] = e->hosts_overflow[DET_IN];
	e->overflow_logged[DET_OUT] = e->hosts_overflow[DET_OUT];
	e->overflow_log_ns = now;
}

void det_engine_stats(const struct det_engine *e, struct det_engine_stats *out)
{
	*out = (struct det_engine_stats){
		.hosts = det_n_hosts(e),
		.max_hosts = e->max_hosts,
		.hosts_evicted = e->hosts_evicted,
		.hosts_overflow = {e->hosts_overflow[DET_IN], e->hosts_overflow[DET_OUT]},
	};
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
	log_overflow(e, now_ns);
	if (e->any_totals)
		tick_sums(e, now_ns, dt, idle_ns, fn, ctx);
	det_sweep_idle(e, now_ns, idle_ns);
	det_run_attacks(e, now_ns, fn, ctx);
	det_compact(e);
	det_publish_watch(e);
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
			for (size_t i = 0; i < det_n_hosts(e); i++)
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
	for (size_t i = 0; i < det_n_hosts(e); i++)
		det_hosts(&n)[i].group = (int16_t)det_networks_lookup(nets, &det_hosts(&n)[i].addr);
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
				n.group_open[g][a->info.direction]++;
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
