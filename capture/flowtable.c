/* The mirror flow table: packets in, NetFlow-like flow rows out.
 *
 * All memory is taken at creation: an entry array (with a free list threaded through it), and a
 * power-of-two bucket array of chain heads. Every entry sits on two intrusive lists, both
 * oldest-first: `lru` ordered by last packet (touching a flow moves it to the tail) and `age`
 * ordered by first packet (flows are appended when created and never move). So an expiry pass
 * looks only at the two list heads and stops at the first flow that is not due: with nothing to
 * export it costs two comparisons, however full the table is. A table that is full exports its
 * least recently seen flow to make room. */
#include <stdlib.h>
#include <string.h>

#include "cap.h"

#define NIL UINT32_MAX

enum { LIST_LRU, LIST_AGE, LIST_COUNT };

/* Compared with memcmp, so every byte (the padding too) is written by key_from(). */
struct ft_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t vlan;
	uint8_t protocol;
	uint8_t pad;
};

struct ft_link {
	uint32_t prev, next;
};

struct ft_entry {
	struct ft_key key;
	uint32_t hash;
	uint32_t chain; /* next in the bucket, or next on the free list */
	struct ft_link link[LIST_COUNT];
	uint64_t start_ns, end_ns;
	uint64_t packets, bytes;
	uint8_t tcp_flags, tos, flags, ip_version;
	uint32_t sampling_rate; /* the packets' (mirror sampling: sample N); fills the padding */
};

struct ft_list {
	uint32_t head, tail;
};

struct cap_flowtable {
	struct ft_entry *e;
	uint32_t *bucket;
	uint32_t mask;
	uint32_t free_head;
	struct ft_list list[LIST_COUNT];
	uint64_t active_ns, inactive_ns;
	struct cap_flowtable_stats st;
};

struct cap_flowtable *cap_flowtable_new(size_t max_flows, uint32_t active_timeout_s,
					uint32_t inactive_timeout_s)
{
	if (max_flows == 0 || max_flows >= NIL / 2)
		return NULL;
	size_t nbuckets = 16;
	while (nbuckets < max_flows * 2) /* load factor <= 0.5: chains stay a step or two long */
		nbuckets *= 2;
	struct cap_flowtable *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->e = calloc(max_flows, sizeof *t->e);
	t->bucket = malloc(nbuckets * sizeof *t->bucket);
	if (!t->e || !t->bucket) {
		cap_flowtable_free(t);
		return NULL;
	}
	memset(t->bucket, 0xff, nbuckets * sizeof *t->bucket); /* all NIL */
	t->mask = (uint32_t)(nbuckets - 1);
	for (size_t i = 0; i < max_flows; i++)
		t->e[i].chain = i + 1 < max_flows ? (uint32_t)(i + 1) : NIL;
	t->free_head = 0;
	for (int l = 0; l < LIST_COUNT; l++)
		t->list[l] = (struct ft_list){NIL, NIL};
	t->active_ns = (uint64_t)active_timeout_s * 1000000000ull;
	t->inactive_ns = (uint64_t)inactive_timeout_s * 1000000000ull;
	return t;
}

void cap_flowtable_free(struct cap_flowtable *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

static void list_append(struct cap_flowtable *t, int l, uint32_t i)
{
	struct ft_link *k = &t->e[i].link[l];
	k->prev = t->list[l].tail;
	k->next = NIL;
	if (k->prev != NIL)
		t->e[k->prev].link[l].next = i;
	else
		t->list[l].head = i;
	t->list[l].tail = i;
}

static void list_unlink(struct cap_flowtable *t, int l, uint32_t i)
{
	struct ft_link *k = &t->e[i].link[l];
	if (k->prev != NIL)
		t->e[k->prev].link[l].next = k->next;
	else
		t->list[l].head = k->next;
	if (k->next != NIL)
		t->e[k->next].link[l].prev = k->prev;
	else
		t->list[l].tail = k->prev;
}

static inline void key_from(struct ft_key *k, const struct flow_record *r)
{
	memcpy(k->src, r->src.b, 16);
	memcpy(k->dst, r->dst.b, 16);
	k->src_port = r->src_port;
	k->dst_port = r->dst_port;
	k->vlan = r->vlan;
	k->protocol = r->protocol;
	k->pad = 0;
}

static inline uint32_t key_hash(const struct ft_key *k)
{
	uint64_t w[5];
	_Static_assert(sizeof *k == sizeof w, "ft_key is five words");
	memcpy(w, k, sizeof w);
	uint64_t h = 0;
	for (int i = 0; i < 5; i++) {
		h = (h ^ w[i]) * 0x9E3779B97F4A7C15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h >> 32);
}

static void export_entry(const struct ft_entry *f, cap_flow_export_fn fn, void *ctx)
{
	if (!fn)
		return;
	struct flow_record r = {
		.start_ns = f->start_ns,
		.end_ns = f->end_ns,
		.packets = f->packets,
		.bytes = f->bytes,
		.sampling_rate = f->sampling_rate ? f->sampling_rate : 1,
		.src_port = f->key.src_port,
		.dst_port = f->key.dst_port,
		.vlan = f->key.vlan,
		.protocol = f->key.protocol,
		.tcp_flags = f->tcp_flags,
		.tos = f->tos,
		.flags = f->flags,
		.source = FLOW_SRC_MIRROR,
		.ip_version = f->ip_version,
	};
	memcpy(r.src.b, f->key.src, 16);
	memcpy(r.dst.b, f->key.dst, 16);
	fn(ctx, &r);
}

/* Exports entry i and returns it to the free list. */
static void retire(struct cap_flowtable *t, uint32_t i, cap_flow_export_fn fn, void *ctx)
{
	struct ft_entry *f = &t->e[i];
	export_entry(f, fn, ctx);
	uint32_t *p = &t->bucket[f->hash & t->mask];
	while (*p != i)
		p = &t->e[*p].chain;
	*p = f->chain;
	list_unlink(t, LIST_LRU, i);
	list_unlink(t, LIST_AGE, i);
	f->chain = t->free_head;
	t->free_head = i;
	t->st.active--;
	t->st.exported++;
}

bool cap_flowtable_add(struct cap_flowtable *t, const struct flow_record *pkt, cap_flow_export_fn fn,
		       void *ctx)
{
	struct ft_key k;
	key_from(&k, pkt);
	uint32_t h = key_hash(&k);
	for (uint32_t i = t->bucket[h & t->mask]; i != NIL; i = t->e[i].chain) {
		struct ft_entry *f = &t->e[i];
		if (f->hash != h || memcmp(&f->key, &k, sizeof k) != 0)
			continue;
		if (pkt->start_ns >= f->start_ns && pkt->start_ns - f->start_ns >= t->active_ns) {
			/* Past its active timeout and not yet expired (no tick since): export it
			 * now, as the exporter would have, and let this packet start the next one. */
			retire(t, i, fn, ctx);
			break;
		}
		f->packets += pkt->packets;
		f->bytes += pkt->bytes;
		f->tcp_flags |= pkt->tcp_flags;
		f->flags |= pkt->flags;
		if (pkt->end_ns > f->end_ns)
			f->end_ns = pkt->end_ns;
		if (t->list[LIST_LRU].tail != i) {
			list_unlink(t, LIST_LRU, i);
			list_append(t, LIST_LRU, i);
		}
		return false;
	}

	if (t->free_head == NIL) {
		retire(t, t->list[LIST_LRU].head, fn, ctx);
		t->st.evicted_full++;
	}
	uint32_t i = t->free_head;
	struct ft_entry *f = &t->e[i];
	t->free_head = f->chain;
	f->key = k;
	f->hash = h;
	f->start_ns = pkt->start_ns;
	f->end_ns = pkt->end_ns > pkt->start_ns ? pkt->end_ns : pkt->start_ns;
	f->packets = pkt->packets;
	f->bytes = pkt->bytes;
	f->tcp_flags = pkt->tcp_flags;
	f->tos = pkt->tos;
	f->flags = pkt->flags;
	f->ip_version = pkt->ip_version;
	f->sampling_rate = pkt->sampling_rate;
	uint32_t *b = &t->bucket[h & t->mask];
	f->chain = *b;
	*b = i;
	list_append(t, LIST_LRU, i);
	list_append(t, LIST_AGE, i);
	t->st.active++;
	t->st.created++;
	return true;
}

void cap_flowtable_expire(struct cap_flowtable *t, uint64_t now_ns, cap_flow_export_fn fn, void *ctx)
{
	uint32_t i;
	while ((i = t->list[LIST_LRU].head) != NIL && t->e[i].end_ns + t->inactive_ns <= now_ns)
		retire(t, i, fn, ctx);
	while ((i = t->list[LIST_AGE].head) != NIL && t->e[i].start_ns + t->active_ns <= now_ns)
		retire(t, i, fn, ctx);
}

void cap_flowtable_flush(struct cap_flowtable *t, cap_flow_export_fn fn, void *ctx)
{
	uint32_t i;
	while ((i = t->list[LIST_AGE].head) != NIL)
		retire(t, i, fn, ctx);
}

void cap_flowtable_stats(const struct cap_flowtable *t, struct cap_flowtable_stats *out)
{
	*out = t->st;
}
