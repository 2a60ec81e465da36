/* Per-worker host counters: one owner thread, no locks, no allocation after creation.
 *
 * Hosts live in a dense array in the order they first appeared; an open-addressing index
 * (linear probing, at most half full) maps an address to its entry. The dense array makes the
 * engine's merge and the clear O(hosts seen this tick), and since calloc'd pages are only made
 * resident when touched, a table sized for a million hosts costs memory only for those seen. */
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

struct det_counters {
	const struct det_networks *nets;
	uint32_t *index; /* entry number + 1; 0 = empty */
	size_t mask;     /* index size - 1 */
	struct det_counters_host *hosts;
	size_t used, max;
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
	size_t size = 16;
	while (size < max_hosts * 2)
		size <<= 1;
	c->nets = nets;
	c->mask = size - 1;
	c->max = max_hosts;
	c->index = calloc(size, sizeof *c->index);
	c->hosts = calloc(max_hosts, sizeof *c->hosts);
	c->fp = calloc(DET_WATCH_MAX, sizeof *c->fp);
	if (!c->index || !c->hosts || !c->fp) {
		det_counters_free(c);
		return NULL;
	}
	return c;
}

void det_counters_free(struct det_counters *c)
{
	if (!c)
		return;
	free(c->index);
	free(c->hosts);
	free(c->fp);
	free(c);
}

/* The entry of host a, created if new; NULL when the table is full. */
static struct det_counters_host *host_get(struct det_counters *c, const ip_addr *a, int group)
{
	uint32_t h = ip_hash(a);
	size_t s = h & c->mask;
	for (;;) {
		uint32_t i = c->index[s];
		if (i == 0)
			break;
		struct det_counters_host *e = &c->hosts[i - 1];
		if (e->hash == h && ip_equal(&e->host, a))
			return e;
		s = (s + 1) & c->mask;
	}
	if (c->used == c->max)
		return NULL;
	struct det_counters_host *e = &c->hosts[c->used++];
	e->host = *a;
	e->hash = h;
	e->slot = (uint32_t)s;
	e->group = (int16_t)group;
	/* once per host and tick, not per record: is it under attack? */
	e->fp[DET_IN] = (int8_t)det_watch_find(c->watch, a, h, DET_IN);
	e->fp[DET_OUT] = (int8_t)det_watch_find(c->watch, a, h, DET_OUT);
	c->index[s] = (uint32_t)c->used;
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
	for (size_t i = 0; i < c->used; i++)
		c->index[c->hosts[i].slot] = 0;
	memset(c->hosts, 0, c->used * sizeof *c->hosts);
	c->used = 0;
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
	return c->used;
}

const struct det_counters_host *det_counters_entries(const struct det_counters *c, size_t *n)
{
	*n = c->used;
	return c->hosts;
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
