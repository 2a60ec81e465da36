/* Per-worker host counters: one owner thread, no locks, no allocation after creation.
 *
 * Hosts live in lib/ht, reserved for max_hosts up front (so it never grows or moves a record
 * while counting) and lazy (calloc'd pages resident only when touched, so a table sized for a
 * million hosts costs memory for those seen). Its records are dense, which makes the engine's
 * merge O(hosts seen this tick), and ht_clear empties the slots of those hosts only. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/ht.h"
#include "det_int.h"

static uint32_t counters_host_hash(const void *key)
{
	return ip_hash(key);
}

static const struct ht_type counters_host_type = {.rec_size = sizeof(struct det_counters_host),
						  .key_off = offsetof(struct det_counters_host, host),
						  .key_size = sizeof(ip_addr),
						  .hash = counters_host_hash,
						  .lazy = true};

struct det_counters {
	const struct det_networks *nets;
	struct ht hosts; /* struct det_counters_host, at most max */
	size_t max;
	uint64_t overflow, overflow_dir[DET_DIRECTIONS];
	/* fingerprints of the hosts under attack: one accumulator per entry of watch */
	const struct det_watch *watch; /* set by the engine's merge; NULL = none */
	struct det_fp_acc *fp;          /* DET_WATCH_MAX */
	uint64_t fp_used;               /* bit i: fp[i] has counts */
};

struct det_counters *det_counters_new(const struct det_networks *nets, size_t max_hosts)
{
	if (max_hosts == 0)
		max_hosts = 1;
	if (max_hosts > UINT32_MAX / 4)
		max_hosts = UINT32_MAX / 4;
	struct det_counters *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->nets = nets;
	c->max = max_hosts;
	c->fp = calloc(DET_WATCH_MAX, sizeof *c->fp);
	if (ht_init(&c->hosts, &counters_host_type, max_hosts) != 0 || !c->fp) {
		det_counters_free(c);
		return NULL;
	}
	return c;
}

void det_counters_free(struct det_counters *c)
{
	if (!c)
		return;
	ht_free(&c->hosts);
	free(c->fp);
	free(c);
}

/* The entry of host a, created if new; NULL when the table is full. */
static struct det_counters_host *host_get(struct det_counters *c, const ip_addr *a, int group)
{
	uint32_t h = ip_hash(a);
	if (ht_count(&c->hosts) == c->max)
		return ht_find_hashed(&c->hosts, a, h);
	bool fresh;
	/* reserved for max: never grows, so never fails */
	struct det_counters_host *e = ht_insert_hashed(&c->hosts, a, h, &fresh);
	if (!fresh)
		return e;
	e->hash = h;
	e->group = (int16_t)group;
	/* once per host and tick, not per record: is it under attack? */
	e->fp[DET_IN] = (int8_t)det_watch_find(c->watch, a, h, DET_IN);
	e->fp[DET_OUT] = (int8_t)det_watch_find(c->watch, a, h, DET_OUT);
	return e;
}

static inline void count(struct det_count *k, enum det_direction d, unsigned classes, float pk, float by,
			 float fl)
{
	for (unsigned cl = 0; cl < DET_CLASSES; cl++) {
		if (!(classes & (1u << cl)))
			continue;
		k->v[d][cl][DET_PPS] += pk;
		k->v[d][cl][DET_BPS] += by;
		k->v[d][cl][DET_FLOWS] += fl;
	}
}

static void fp_add(struct det_counters *c, int slot, const struct flow_record *r, enum det_direction d,
		   uint64_t rate)
{
	c->fp_used |= 1ull << slot;
	det_fp_acc_add(&c->fp[slot], r, d, rate);
}

void det_counters_add(struct det_counters *c, const struct flow_record *r, uint32_t flows)
{
	int gd = det_networks_lookup(c->nets, &r->dst);
	int gs = det_networks_lookup(c->nets, &r->src);
	if (gd < 0 && gs < 0)
		return;
	unsigned classes = 1u << DET_TOTAL;
	switch (r->protocol) {
	case 6:
		classes |= 1u << DET_TCP;
		if ((r->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			classes |= 1u << DET_SYN;
		break;
	case 17: classes |= 1u << DET_UDP; break;
	case 1:
	case 58: classes |= 1u << DET_ICMP; break;
	}
	if (r->flags & FLOW_F_FRAGMENT)
		classes |= 1u << DET_FRAG;
	uint64_t rate = r->sampling_rate ? r->sampling_rate : 1;
	float pk = (float)(r->packets * rate), by = (float)(r->bytes * rate), fl = (float)((uint64_t)flows * rate);
	bool lost = false;
	if (gd >= 0) {
		struct det_counters_host *e = host_get(c, &r->dst, gd);
		if (e) {
			count(&e->c, DET_IN, classes, pk, by, fl);
			if (e->fp[DET_IN] >= 0)
				fp_add(c, e->fp[DET_IN], r, DET_IN, rate);
		} else {
			lost = true;
			c->overflow_dir[DET_IN]++;
		}
	}
	if (gs >= 0) {
		struct det_counters_host *e = host_get(c, &r->src, gs);
		if (e) {
			count(&e->c, DET_OUT, classes, pk, by, fl);
			if (e->fp[DET_OUT] >= 0)
				fp_add(c, e->fp[DET_OUT], r, DET_OUT, rate);
		} else {
			lost = true;
			c->overflow_dir[DET_OUT]++;
		}
	}
	c->overflow += lost;
}

void det_counters_clear(struct det_counters *c)
{
	ht_clear(&c->hosts);
	for (size_t i = 0; c->fp_used; i++, c->fp_used >>= 1)
		if (c->fp_used & 1)
			memset(&c->fp[i], 0, sizeof c->fp[i]);
}

uint64_t det_counters_overflow_dir(const struct det_counters *c, enum det_direction d)
{
	return (unsigned)d < DET_DIRECTIONS ? c->overflow_dir[d] : 0;
}

uint64_t det_counters_overflow(const struct det_counters *c)
{
	return c->overflow;
}

size_t det_counters_hosts(const struct det_counters *c)
{
	return ht_count(&c->hosts);
}

const struct det_counters_host *det_counters_entries(const struct det_counters *c, size_t *n)
{
	*n = ht_count(&c->hosts);
	return ht_recs(&c->hosts);
}

const struct det_watch *det_counters_watch(const struct det_counters *c)
{
	return c->watch;
}

void det_counters_set_watch(struct det_counters *c, const struct det_watch *w)
{
	c->watch = w;
}

const struct det_fp_acc *det_counters_fp(const struct det_counters *c, size_t slot)
{
	return slot < DET_WATCH_MAX && (c->fp_used & (1ull << slot)) ? &c->fp[slot] : NULL;
}

uint64_t det_counters_attack_of(const struct det_counters *c, const struct flow_record *r, enum det_direction *dir)
{
	const struct det_watch *w = c->watch;
	if (!w || !w->n)
		return 0; /* the common case: nothing under attack, two loads */
	int i = det_watch_find(w, &r->dst, ip_hash(&r->dst), DET_IN);
	if (i >= 0) {
		*dir = DET_IN;
		return w->e[i].attack_id;
	}
	i = det_watch_find(w, &r->src, ip_hash(&r->src), DET_OUT);
	if (i >= 0) {
		*dir = DET_OUT;
		return w->e[i].attack_id;
	}
	return 0;
}

void det_counters_set_networks(struct det_counters *c, const struct det_networks *nets)
{
	c->nets = nets;
}

const struct det_networks *det_counters_networks(const struct det_counters *c)
{
	return c->nets;
}
