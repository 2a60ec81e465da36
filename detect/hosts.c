/* The engine's host table (engine_int.h): lookup, insertion, removal, lazy decay of the rates,
 * the merge of worker counts into it, the idle sweep and the busiest-hosts query. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "engine_int.h"

/* ---- host table --------------------------------------------------------------------------- */

/* The hash the workers' counters carry with each host (det_counters_host.hash). */
static uint32_t host_hash(const void *key)
{
	return ip_hash(key);
}

const struct ht_type det_host_type = {.rec_size = sizeof(struct host),
				      .key_off = offsetof(struct host, addr),
				      .key_size = sizeof(ip_addr),
				      .hash = host_hash,
				      .lazy = true};

struct host *det_host_find(const struct det_engine *e, const ip_addr *a)
{
	return ht_find(&e->host_table, a);
}

static void host_remove(struct det_engine *e, size_t i);

/* Hosts looked at to make room for a newcomer in a full table. 8 random picks find a host among
 * the quietest eighth of the table with probability 1 - (7/8)^8 = 66 %, among the quietest half
 * with 99.6 %: a one-packet churn keeps being pushed out by the next one, a host with real
 * traffic is almost never picked, and the cost is 8 header reads per admission. */
#define EVICT_SAMPLES 8

/* Room in a full table for in's host: the quietest of EVICT_SAMPLES random hosts (its packet
 * rate in both directions, decayed to the last tick) goes, if it is under no attack, has no
 * counts merged this tick, and is quieter than in's counts of this tick as a rate. By rate, not
 * by age: a flood of one-packet destinations cannot push out hosts that carry traffic, and a new
 * host with real traffic always gets in. */
static bool evict_for(struct det_engine *e, const struct det_counters_host *in)
{
	double tick_s = e->cfg->tick_ms ? e->cfg->tick_ms / 1000.0 : 0.1;
	double want = ((double)in->c.v[DET_IN][DET_TOTAL][DET_PPS] + (double)in->c.v[DET_OUT][DET_TOTAL][DET_PPS]) / tick_s;
	size_t kin = (size_t)e->k_of[FLAT(DET_IN, DET_TOTAL, DET_PPS)], kout = (size_t)e->k_of[FLAT(DET_OUT, DET_TOTAL, DET_PPS)];
	size_t best = SIZE_MAX;
	double best_rate = want;
	for (int k = 0; k < EVICT_SAMPLES; k++) {
		/* xorshift64: cheap, and the engine's own state, so runs are reproducible */
		e->evict_rng ^= e->evict_rng << 13;
		e->evict_rng ^= e->evict_rng >> 7;
		e->evict_rng ^= e->evict_rng << 17;
		size_t j = (size_t)(e->evict_rng % det_n_hosts(e));
		const struct host *h = &det_hosts(e)[j];
		if (host_attacked(h) || h->row)
			continue;
		const float *r = &e->rates[j * e->nk];
		double rate = ((double)r[kin] + (double)r[kout]) * det_decay_since(e, h->upd_ns);
		if (rate < best_rate) {
			best_rate = rate;
			best = j;
		}
	}
	if (best == SIZE_MAX)
		return false;
	host_remove(e, best);
	e->hosts_evicted++;
	return true;
}

/* in's host, added with group when new (full table: evicts the quietest candidate, or NULL). */
static struct host *host_get(struct det_engine *e, const struct det_counters_host *in, int group)
{
	struct ht *t = &e->host_table;
	if (ht_count(t) == e->max_hosts) {
		struct host *x = ht_find_hashed(t, &in->host, in->hash);
		if (x)
			return x;
		if (!evict_for(e, in)) {
			for (int d = 0; d < DET_DIRECTIONS; d++)
				e->hosts_overflow[d] += in->c.v[d][DET_TOTAL][DET_PPS] > 0;
			return NULL;
		}
	}
	/* reserved for max_hosts: no rehash, so NULL (out of memory) cannot happen here */
	bool fresh = false;
	struct host *x = ht_insert_hashed(t, &in->host, in->hash, &fresh);
	if (x && fresh) {
		memset(&e->rates[(size_t)(x - det_hosts(e)) * e->nk], 0, e->nk * sizeof *e->rates);
		x->group = (int16_t)group;
	}
	return x;
}

/* Frees host number i; the last host moves into its place in the table, and its rates and
 * scratch row follow. */
static void host_remove(struct det_engine *e, size_t i)
{
	size_t last = det_n_hosts(e) - 1;
	ht_remove_rec(&e->host_table, &det_hosts(e)[i]);
	if (i != last) {
		memcpy(&e->rates[i * e->nk], &e->rates[last * e->nk], e->nk * sizeof *e->rates);
		/* an eviction during a merge may move a host that has counts this tick */
		const struct host *h = &det_hosts(e)[i];
		if (h->row)
			e->touched[h->row - 1] = (uint32_t)i;
	}
}

/* How much a rate as of time t has decayed by the last tick: e^(−Δt/T). */
double det_decay_since(const struct det_engine *e, uint64_t t)
{
	if (t >= e->last_tick_ns)
		return 1.0;
	if (!e->cfg->average_s)
		return 0.0;
	return exp(-(double)(e->last_tick_ns - t) / 1e9 / (double)e->cfg->average_s);
}

/* Host number i's rates as of the last tick. */
void det_host_rates(const struct det_engine *e, size_t i, struct det_rates *out)
{
	memset(out, 0, sizeof *out);
	double dec = det_decay_since(e, det_hosts(e)[i].upd_ns);
	const float *r = &e->rates[i * e->nk];
	double *v = &out->v[0][0][0];
	for (size_t k = 0; k < e->nk; k++)
		v[e->flat_of[k]] = r[k] * dec;
}

/* Adds one counters entry to its host's scratch row (opened at the host's first entry of the
 * tick). */
static inline void merge_one(struct det_engine *e, const struct det_counters_host *in, bool stale)
{
	/* counters filled against the networks before a reload: their groups are looked up again */
	int group = stale ? det_networks_lookup(e->nets, &in->host) : in->group;
	struct host *h = host_get(e, in, group);
	if (!h)
		return;
	if (!h->row) {
		e->touched[e->n_touched] = (uint32_t)(h - det_hosts(e));
		h->row = (uint32_t)++e->n_touched;
	}
	float *dst = &e->scratch[(size_t)(h->row - 1) * e->nk];
	const float *src = &in->c.v[0][0][0];
	for (size_t k = 0; k < e->nk; k++)
		dst[k] += src[e->flat_of[k]];
}

void det_engine_merge(struct det_engine *e, struct det_counters *c)
{
	det_merge_fingerprints(e, c);
	size_t n;
	const struct det_counters_host *in = det_counters_entries(c, &n);
	bool stale = det_counters_networks(c) != e->nets;
	/* a million hosts are a million cache misses into the index and the headers: ask for them
	 * a few entries ahead so the misses overlap */
	enum { AHEAD = 16 };
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			ht_prefetch_slot(&e->host_table, in[i + AHEAD].hash);
		if (i + AHEAD / 2 < n)
			ht_prefetch_rec(&e->host_table, in[i + AHEAD / 2].hash);
		merge_one(e, &in[i], stale);
	}
}

/* Frees hosts quiet for host_idle_s: a slice of the table per tick, so the whole table is seen
 * every 16 ticks and a tick's cost does not grow with the hosts that did nothing. */
void det_sweep_idle(struct det_engine *e, uint64_t now, uint64_t idle_ns)
{
	size_t budget = det_n_hosts(e) / 16 > 1024 ? det_n_hosts(e) / 16 : 1024;
	if (budget > det_n_hosts(e))
		budget = det_n_hosts(e);
	while (budget > 0 && det_n_hosts(e) > 0) {
		if (e->sweep >= det_n_hosts(e))
			e->sweep = 0;
		struct host *h = &det_hosts(e)[e->sweep];
		if (!host_attacked(h) && h->upd_ns < now && now - h->upd_ns >= idle_ns) {
			host_remove(e, e->sweep); /* the last host moves here, seen next */
		} else {
			e->sweep++;
			budget--;
		}
	}
}

/* ---- queries ------------------------------------------------------------------------------ */

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
	if (n > det_n_hosts(e))
		n = det_n_hosts(e);
	if (n == 0)
		return 0;
	struct top_ent *heap = malloc(n * sizeof *heap);
	if (!heap)
		return 0;
	size_t k = 0, kk = (size_t)e->k_of[FLAT(dir, DET_TOTAL, metric)];
	for (size_t i = 0; i < det_n_hosts(e); i++) {
		struct top_ent h = {e->rates[i * e->nk + kk], i};
		if (h.key > 0 && det_hosts(e)[i].upd_ns < e->last_tick_ns)
			h.key *= det_decay_since(e, det_hosts(e)[i].upd_ns);
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
		const struct host *h = &det_hosts(e)[heap[i].host];
		out[i] = (struct det_host_info){.host = h->addr, .hostgroup = h->group, .banned = false};
		det_host_rates(e, heap[i].host, &out[i].rates);
		/* banned: in either direction */
		for (size_t j = 0; host_attacked(h) && j < e->n_open; j++)
			if (!e->open[j].dead && e->open[j].banned &&
			    (e->open[j].info.attack_id == h->attack_id[DET_IN] ||
			     e->open[j].info.attack_id == h->attack_id[DET_OUT]))
				out[i].banned = true;
	}
	free(heap);
	return k;
}

size_t det_engine_hosts(const struct det_engine *e)
{
	return det_n_hosts(e);
}
