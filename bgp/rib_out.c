/* The RIB-out (prefix -> interned attributes, in a lib/ht table) and the per-peer queues that
 * turn it into packed UPDATEs. */
#include "rib_out.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/ht.h"
#include "msg.h"

#define ATTR_BUCKETS 256

/* A prefix told to every peer alike has `a` (the common case, one pointer); one whose peers were
 * told different things (an ExaBGP `neighbor X announce`) has `per`, an attribute set or NULL
 * for each peer. Neither: an empty slot. */
struct rib_slot {
	ip_prefix p;
	struct bgp_rib_attrs *a;
	struct bgp_rib_attrs **per; /* n_peers entries */
};

struct bgp_rib {
	size_t n_peers;
	bgp_peer_set all; /* every peer's bit */
	struct ht slots; /* of struct rib_slot, keyed by the (masked) prefix */
	struct bgp_rib_attrs *attrs[ATTR_BUCKETS];
	uint32_t next_attr_id;
	uint64_t gen; /* bgp_rib_gen */
};

static uint32_t prefix_hash(const void *key)
{
	const ip_prefix *p = key;
	return ip_hash(&p->addr) ^ (p->len * 0x9e3779b1u);
}

/* 17 bytes without padding, host bits zero (stored masked): the bytes are the identity */
static const struct ht_type slot_type = {.rec_size = sizeof(struct rib_slot),
					 .key_off = offsetof(struct rib_slot, p),
					 .key_size = sizeof(ip_prefix),
					 .hash = prefix_hash};

/* A first table that holds a few thousand routes without a rehash; a burst grows it by doubling,
 * which moves records without hashing them again. */
#define RIB_PRESIZE 4096

static bool attrs_equal(const struct bgp_route_attrs *x, const struct bgp_route_attrs *y)
{
	return x->origin == y->origin && x->atomic_aggregate == y->atomic_aggregate &&
	       x->n_as_path == y->n_as_path &&
	       memcmp(x->as_path, y->as_path, x->n_as_path * sizeof x->as_path[0]) == 0 &&
	       x->has_aggregator == y->has_aggregator && x->aggregator_as == y->aggregator_as &&
	       x->aggregator_id == y->aggregator_id && x->has_originator_id == y->has_originator_id &&
	       x->originator_id == y->originator_id && x->n_cluster_list == y->n_cluster_list &&
	       memcmp(x->cluster_list, y->cluster_list, x->n_cluster_list * sizeof x->cluster_list[0]) == 0 &&
	       ip_equal(&x->next_hop, &y->next_hop) && x->n_communities == y->n_communities &&
	       memcmp(x->communities, y->communities, x->n_communities * sizeof x->communities[0]) == 0 &&
	       x->local_pref == y->local_pref && x->has_med == y->has_med &&
	       (!x->has_med || x->med == y->med) && x->n_ext_communities == y->n_ext_communities &&
	       memcmp(x->ext_communities, y->ext_communities, x->n_ext_communities * 8) == 0 &&
	       x->n_large_communities == y->n_large_communities &&
	       memcmp(x->large_communities, y->large_communities,
		      x->n_large_communities * sizeof x->large_communities[0]) == 0 &&
	       x->n_raw_attrs == y->n_raw_attrs && memcmp(x->raw_attrs, y->raw_attrs, x->n_raw_attrs) == 0;
}

static uint32_t attrs_hash(const struct bgp_route_attrs *a)
{
	uint32_t h = ip_hash(&a->next_hop) ^ a->local_pref * 31u ^ (a->has_med ? a->med : 0xfeed);
	for (size_t i = 0; i < a->n_communities; i++)
		h = h * 16777619u ^ a->communities[i];
	for (size_t i = 0; i < a->n_as_path; i++)
		h = h * 16777619u ^ a->as_path[i];
	h ^= a->origin * 0x85ebca6bu ^ a->aggregator_as ^ a->originator_id ^ (uint32_t)a->n_cluster_list << 24;
	for (size_t i = 0; i < a->n_ext_communities * 8; i++)
		h = h * 16777619u ^ a->ext_communities[i / 8][i % 8];
	for (size_t i = 0; i < a->n_large_communities; i++)
		h = (h * 16777619u ^ a->large_communities[i][0]) * 31u ^ a->large_communities[i][1] ^
		    a->large_communities[i][2] * 7u;
	for (size_t i = 0; i < a->n_raw_attrs; i++)
		h = h * 16777619u ^ a->raw_attrs[i];
	return h;
}

struct bgp_rib *bgp_rib_new(void)
{
	return bgp_rib_new_peers(1);
}

struct bgp_rib *bgp_rib_new_peers(size_t n_peers)
{
	struct bgp_rib *rib = calloc(1, sizeof *rib);
	if (!rib)
		return NULL;
	rib->n_peers = n_peers ? n_peers : 1;
	for (size_t i = 0; i < rib->n_peers && i < 64; i++)
		rib->all |= bgp_peer_bit(i);
	if (ht_init(&rib->slots, &slot_type, RIB_PRESIZE) != 0) {
		free(rib);
		return NULL;
	}
	return rib;
}

int bgp_rib_add_peer(struct bgp_rib *rib)
{
	/* every per-peer entry first, so a failure leaves the RIB as it was (a longer array than
	 * n_peers is harmless) */
	for (size_t i = 0; i < ht_count(&rib->slots); i++) {
		struct rib_slot *s = ht_at(&rib->slots, i);
		if (!s->per)
			continue;
		struct bgp_rib_attrs **per = realloc(s->per, (rib->n_peers + 1) * sizeof *per);
		if (!per)
			return -1;
		per[rib->n_peers] = NULL;
		s->per = per;
	}
	size_t peer = rib->n_peers++;
	rib->all |= bgp_peer_bit(peer);
	rib->gen++;
	return (int)peer;
}

void bgp_rib_free(struct bgp_rib *rib)
{
	if (!rib)
		return;
	for (size_t i = 0; i < ATTR_BUCKETS; i++) {
		struct bgp_rib_attrs *a = rib->attrs[i], *next;
		for (; a; a = next) {
			next = a->next;
			free(a);
		}
	}
	for (struct rib_slot *s = ht_next(&rib->slots, NULL); s; s = ht_next(&rib->slots, s))
		free(s->per);
	ht_free(&rib->slots);
	free(rib);
}

/* Every field of dst from in, clamped and with defaults applied, so that equal meanings compare
 * equal. Array tails past their counts are not written: hash and comparison never read them. */
static void normalize(struct bgp_route_attrs *a, const struct bgp_route_attrs *in)
{
	a->next_hop = in->next_hop;
	a->n_communities = in->n_communities > BGP_MAX_COMMUNITIES ? BGP_MAX_COMMUNITIES
								    : in->n_communities;
	memcpy(a->communities, in->communities, a->n_communities * sizeof a->communities[0]);
	a->local_pref = in->local_pref ? in->local_pref : 100;
	a->has_med = in->has_med;
	a->med = in->has_med ? in->med : 0;
	a->n_ext_communities = in->n_ext_communities > BGP_MAX_EXT_COMMUNITIES ? BGP_MAX_EXT_COMMUNITIES
										: in->n_ext_communities;
	memcpy(a->ext_communities, in->ext_communities, a->n_ext_communities * 8);
	a->n_large_communities = in->n_large_communities > BGP_MAX_LARGE_COMMUNITIES
					 ? BGP_MAX_LARGE_COMMUNITIES
					 : in->n_large_communities;
	memcpy(a->large_communities, in->large_communities,
	       a->n_large_communities * sizeof a->large_communities[0]);
	a->origin = in->origin <= BGP_ORIGIN_INCOMPLETE ? in->origin : BGP_ORIGIN_IGP;
	a->atomic_aggregate = in->atomic_aggregate;
	a->n_as_path = in->n_as_path > BGP_MAX_AS_PATH ? BGP_MAX_AS_PATH : in->n_as_path;
	memcpy(a->as_path, in->as_path, a->n_as_path * sizeof a->as_path[0]);
	a->has_aggregator = in->has_aggregator;
	a->aggregator_as = in->has_aggregator ? in->aggregator_as : 0;
	a->aggregator_id = in->has_aggregator ? in->aggregator_id : 0;
	a->has_originator_id = in->has_originator_id;
	a->originator_id = in->has_originator_id ? in->originator_id : 0;
	a->n_cluster_list = in->n_cluster_list > BGP_MAX_CLUSTER_LIST ? BGP_MAX_CLUSTER_LIST : in->n_cluster_list;
	memcpy(a->cluster_list, in->cluster_list, a->n_cluster_list * sizeof a->cluster_list[0]);
	a->n_raw_attrs = in->n_raw_attrs > BGP_MAX_RAW_ATTRS ? 0 : in->n_raw_attrs; /* never cut one in half */
	memcpy(a->raw_attrs, in->raw_attrs, a->n_raw_attrs);
}

static struct bgp_rib_attrs *attrs_ref(struct bgp_rib *rib, const struct bgp_route_attrs *in)
{
	struct bgp_route_attrs a; /* not zeroed: 100 000 announces a second come through here */
	normalize(&a, in);
	uint32_t h = attrs_hash(&a);
	struct bgp_rib_attrs **b = &rib->attrs[h % ATTR_BUCKETS];
	for (struct bgp_rib_attrs *x = *b; x; x = x->next)
		if (x->hash == h && attrs_equal(&x->a, &a)) {
			x->refs++;
			return x;
		}
	struct bgp_rib_attrs *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	normalize(&x->a, in); /* into zeroed memory: a copy of it is all defined bytes */
	x->hash = h;
	x->refs = 1;
	if (++rib->next_attr_id == 0)
		rib->next_attr_id = 1;
	x->id = rib->next_attr_id;
	x->next = *b;
	*b = x;
	return x;
}

static void attrs_unref(struct bgp_rib *rib, struct bgp_rib_attrs *x)
{
	if (--x->refs > 0)
		return;
	struct bgp_rib_attrs **b = &rib->attrs[x->hash % ATTR_BUCKETS];
	while (*b != x)
		b = &(*b)->next;
	*b = x->next;
	free(x);
}

/* bgp_peer_set bit of peer i, and whether a set names every peer of this RIB */
static bool in_set(bgp_peer_set set, size_t i)
{
	return (set & bgp_peer_bit(i)) != 0;
}

static bool covers_all(const struct bgp_rib *rib, bgp_peer_set set)
{
	for (size_t i = 0; i < rib->n_peers && i < 64; i++)
		if (!in_set(set, i))
			return false;
	return true;
}

static struct bgp_rib_attrs *peer_attrs(const struct bgp_rib *rib, const struct rib_slot *s, size_t peer)
{
	if (!s->per)
		return s->a;
	return s->per[peer < rib->n_peers ? peer : rib->n_peers - 1];
}

/* A per-peer slot whose peers all have the same set again becomes an all-peers slot. */
static void collapse(struct bgp_rib *rib, struct rib_slot *s)
{
	struct bgp_rib_attrs *x = s->per[0];
	for (size_t i = 1; i < rib->n_peers; i++)
		if (s->per[i] != x)
			return;
	if (!x)
		return;
	for (size_t i = 1; i < rib->n_peers; i++)
		attrs_unref(rib, x);
	free(s->per);
	s->per = NULL;
	s->a = x;
}

/* An all-peers slot (or an empty one) split into one entry per peer. */
static int expand(struct bgp_rib *rib, struct rib_slot *s)
{
	if (s->per)
		return 0;
	s->per = calloc(rib->n_peers, sizeof *s->per);
	if (!s->per)
		return -1;
	if (s->a) {
		for (size_t i = 0; i < rib->n_peers; i++)
			s->per[i] = s->a;
		s->a->refs += (uint32_t)rib->n_peers - 1;
		s->a = NULL;
	}
	return 0;
}

static void remove_slot(struct bgp_rib *rib, struct rib_slot *s)
{
	free(s->per);
	ht_remove_rec(&rib->slots, s);
}

int bgp_rib_announce(struct bgp_rib *rib, const ip_prefix *p, const struct bgp_route_attrs *a)
{
	return bgp_rib_announce_to(rib, p, a, BGP_PEERS_ALL, NULL);
}

int bgp_rib_announce_to(struct bgp_rib *rib, const ip_prefix *p, const struct bgp_route_attrs *a,
			bgp_peer_set peers, bgp_peer_set *changed)
{
	bgp_peer_set ch = 0;
	if (changed)
		*changed = 0;
	if (p->len > ip_max_len(&p->addr))
		return -1;
	rib->gen++;
	ip_prefix key = *p;
	ip_prefix_mask(&key);
	struct bgp_rib_attrs *x = attrs_ref(rib, a);
	if (!x)
		return -1;
	bool fresh;
	struct rib_slot *s = ht_insert(&rib->slots, &key, &fresh);
	if (!s) {
		attrs_unref(rib, x);
		return -1;
	}
	if (peers == BGP_PEERS_ALL || covers_all(rib, peers)) {
		/* the common case: the prefix means the same to everyone */
		if (!s->per)
			ch = s->a == x ? 0 : rib->all;
		else
			for (size_t i = 0; i < rib->n_peers; i++)
				if (s->per[i] != x)
					ch |= bgp_peer_bit(i);
		if (s->per) {
			for (size_t i = 0; i < rib->n_peers; i++)
				if (s->per[i])
					attrs_unref(rib, s->per[i]);
			free(s->per);
			s->per = NULL;
		} else if (s->a) {
			attrs_unref(rib, s->a);
		}
		s->a = x;
	} else {
		if (expand(rib, s) < 0) {
			attrs_unref(rib, x);
			return -1;
		}
		for (size_t i = 0; i < rib->n_peers; i++) {
			if (!in_set(peers, i) || s->per[i] == x)
				continue;
			if (s->per[i])
				attrs_unref(rib, s->per[i]);
			s->per[i] = x;
			x->refs++;
			ch |= bgp_peer_bit(i);
		}
		collapse(rib, s);
		attrs_unref(rib, x); /* attrs_ref's own; the slot holds its own references */
		bool any = s->a != NULL;
		for (size_t i = 0; s->per && i < rib->n_peers; i++)
			any |= s->per[i] != NULL;
		if (!any) { /* a fresh prefix and a set naming no peer of ours: nothing to keep */
			remove_slot(rib, s);
			return -1;
		}
	}
	if (changed)
		*changed = ch;
	return fresh ? 0 : ch ? 1 : 2;
}

int bgp_rib_withdraw(struct bgp_rib *rib, const ip_prefix *p)
{
	return bgp_rib_withdraw_from(rib, p, BGP_PEERS_ALL, NULL);
}

int bgp_rib_withdraw_from(struct bgp_rib *rib, const ip_prefix *p, bgp_peer_set peers, bgp_peer_set *changed)
{
	if (changed)
		*changed = 0;
	ip_prefix key = *p;
	ip_prefix_mask(&key);
	struct rib_slot *s = ht_find(&rib->slots, &key);
	if (!s)
		return -1;
	rib->gen++;
	bgp_peer_set ch = 0;
	if (covers_all(rib, peers)) {
		for (size_t k = 0; k < rib->n_peers; k++)
			if (peer_attrs(rib, s, k)) {
				ch |= bgp_peer_bit(k);
				if (s->per)
					attrs_unref(rib, s->per[k]);
			}
		if (s->a)
			attrs_unref(rib, s->a);
		remove_slot(rib, s);
	} else {
		if (expand(rib, s) < 0)
			return -1;
		bool any = false;
		for (size_t k = 0; k < rib->n_peers; k++) {
			if (s->per[k] && in_set(peers, k)) {
				attrs_unref(rib, s->per[k]);
				s->per[k] = NULL;
				ch |= bgp_peer_bit(k);
			}
			any |= s->per[k] != NULL;
		}
		if (!any)
			remove_slot(rib, s);
		else
			collapse(rib, s);
	}
	if (changed)
		*changed = ch;
	return ch ? 0 : -1;
}

const struct bgp_rib_attrs *bgp_rib_lookup(const struct bgp_rib *rib, const ip_prefix *p)
{
	return bgp_rib_lookup_peer(rib, p, 0);
}

const struct bgp_rib_attrs *bgp_rib_lookup_peer(const struct bgp_rib *rib, const ip_prefix *p, size_t peer)
{
	ip_prefix key = *p;
	ip_prefix_mask(&key);
	const struct rib_slot *s = ht_find(&rib->slots, &key);
	return s ? peer_attrs(rib, s, peer) : NULL;
}

void bgp_rib_prefetch(const struct bgp_rib *rib, const ip_prefix *p)
{
	ip_prefix key = *p;
	ip_prefix_mask(&key);
	ht_prefetch_slot(&rib->slots, prefix_hash(&key));
}

size_t bgp_rib_count(const struct bgp_rib *rib)
{
	return ht_count(&rib->slots);
}

uint64_t bgp_rib_gen(const struct bgp_rib *rib)
{
	return rib->gen;
}

/* ---- per-peer queues ---- */

void bgp_adj_init(struct bgp_adj_out *q)
{
	memset(q, 0, sizeof *q);
}

void bgp_adj_free(struct bgp_adj_out *q)
{
	free(q->v);
	memset(q, 0, sizeof *q);
}

void bgp_adj_reset(struct bgp_adj_out *q)
{
	q->n = q->pos = q->sorted = 0;
	q->eor = 0;
	q->eorr = 0;
}

static int reserve(struct bgp_adj_out *q, size_t extra)
{
	if (q->cap - q->n >= extra)
		return 0;
	size_t cap = q->cap ? q->cap : 1024;
	while (cap - q->n < extra)
		cap *= 2;
	struct bgp_adj_ent *v = realloc(q->v, cap * sizeof *v);
	if (!v)
		return -1;
	q->v = v;
	q->cap = cap;
	return 0;
}

static int cmp_prefix(const ip_prefix *a, const ip_prefix *b)
{
	int c = ip_compare(&a->addr, &b->addr);
	return c ? c : (int)a->len - (int)b->len;
}

/* IPv4 first, then by attribute set (withdrawals, id 0, first), then by prefix */
static int cmp_ent(const void *x, const void *y)
{
	const struct bgp_adj_ent *a = x, *b = y;
	bool a4 = ip_is_v4(&a->p.addr), b4 = ip_is_v4(&b->p.addr);
	if (a4 != b4)
		return a4 ? -1 : 1;
	if (a->attr_id != b->attr_id)
		return a->attr_id < b->attr_id ? -1 : 1;
	return cmp_prefix(&a->p, &b->p);
}

static int cmp_ent_prefix(const void *x, const void *y)
{
	return cmp_prefix(&((const struct bgp_adj_ent *)x)->p, &((const struct bgp_adj_ent *)y)->p);
}

static size_t dedup(struct bgp_adj_ent *v, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++)
		if (out == 0 || !ip_prefix_equal(&v[out - 1].p, &v[i].p))
			v[out++] = v[i];
	return out;
}

/* A peer that is not reading while routes churn: fold repeats of the same prefix in the unsent
 * tail so the queue stays bounded by the number of distinct prefixes. */
static void compact_tail(struct bgp_adj_out *q)
{
	size_t tail = q->n - q->sorted;
	qsort(q->v + q->sorted, tail, sizeof *q->v, cmp_ent_prefix);
	q->n = q->sorted + dedup(q->v + q->sorted, tail);
}

int bgp_adj_push(struct bgp_adj_out *q, const ip_prefix *p)
{
	if (q->n == q->cap && q->n - q->sorted >= 65536)
		compact_tail(q);
	if (reserve(q, 1) < 0)
		return -1;
	q->v[q->n++] = (struct bgp_adj_ent){.p = *p};
	return 0;
}

int bgp_adj_replay(struct bgp_adj_out *q, const struct bgp_rib *rib, uint32_t eor_families)
{
	if (reserve(q, ht_count(&rib->slots)) < 0)
		return -1;
	for (const struct rib_slot *s = ht_next(&rib->slots, NULL); s; s = ht_next(&rib->slots, s))
		if (s->a || (s->per && peer_attrs(rib, s, q->peer)))
			q->v[q->n++] = (struct bgp_adj_ent){.p = s->p};
	q->eor |= eor_families;
	return 0;
}

bool bgp_adj_pending(const struct bgp_adj_out *q)
{
	return q->n > 0 || q->eor != 0 || q->eorr != 0;
}

/* Is v[0, n) already in cmp's order? One pass: a burst from a sorted ban list (or 100 000
 * consecutive /32s) arrives in order, and glibc's merge sort still compares n log n / 2 times on
 * sorted input. */
static bool in_order(const struct bgp_adj_ent *v, size_t n, int (*cmp)(const void *, const void *))
{
	for (size_t i = 1; i < n; i++)
		if (cmp(&v[i - 1], &v[i]) > 0)
			return false;
	return true;
}

#define PREFETCH_AHEAD 8 /* entries: about a DRAM latency of lookups */

/* Moves what arrived since the last sort to the front, sorted by current attributes, each entry
 * remembering the attributes it was sorted by (flush sends those while the RIB-out's generation
 * is unchanged, so a prefix costs one table lookup here rather than two more there). */
static void resort(struct bgp_adj_out *q, const struct bgp_rib *rib)
{
	size_t tail = q->n - q->sorted;
	memmove(q->v, q->v + q->sorted, tail * sizeof *q->v);
	q->n = tail;
	if (!in_order(q->v, q->n, cmp_ent_prefix))
		qsort(q->v, q->n, sizeof *q->v, cmp_ent_prefix);
	q->n = dedup(q->v, q->n);
	for (size_t i = 0; i < q->n; i++) {
		/* 100 000 lookups in a row: each a cache miss on the index and one on the record
		 * unless fetched ahead (queued prefixes are masked, as the RIB-out's keys) */
		if (i + 2 * PREFETCH_AHEAD < q->n)
			ht_prefetch_slot(&rib->slots, prefix_hash(&q->v[i + 2 * PREFETCH_AHEAD].p));
		if (i + PREFETCH_AHEAD < q->n)
			ht_prefetch_rec(&rib->slots, prefix_hash(&q->v[i + PREFETCH_AHEAD].p));
		const struct bgp_rib_attrs *a = bgp_rib_lookup_peer(rib, &q->v[i].p, q->peer);
		q->v[i].attr_id = a ? a->id : 0;
		q->v[i].cur = a;
	}
	if (!in_order(q->v, q->n, cmp_ent))
		qsort(q->v, q->n, sizeof *q->v, cmp_ent);
	q->pos = 0;
	q->sorted = q->n;
	q->gen = bgp_rib_gen(rib);
}

/* What entry i's prefix is told now: the sort's lookup while nothing changed since. */
static const struct bgp_rib_attrs *current(const struct bgp_adj_out *q, const struct bgp_rib *rib, size_t i)
{
	if (q->gen == bgp_rib_gen(rib))
		return q->v[i].cur;
	return bgp_rib_lookup_peer(rib, &q->v[i].p, q->peer);
}

static bool nh_zero(const ip_addr *a)
{
	return ip_is_zero(a) || (ip_is_v4(a) && ip_v4_u32(a) == 0);
}

/* The next hop this session sends for a route: the configured one, else our session address
 * (IPv6 NLRI over an IPv4 session get ::ffff:LOCAL_V4, which is what ip_addr holds already). An
 * IPv6 one for IPv4 NLRI only with Extended Next Hop (RFC 8950). */
static bool resolve_nh(const struct bgp_out_ctx *c, bool v6, const ip_addr *cfg, ip_addr *out)
{
	const ip_addr *nh = nh_zero(cfg) ? &c->local : cfg;
	if (nh_zero(nh) || (!v6 && !ip_is_v4(nh) && !c->ext_nh))
		return false;
	*out = *nh;
	return true;
}

static const uint32_t eor_order[] = {BGP_FAM_IPV4_UNICAST, BGP_FAM_IPV6_UNICAST,
				     BGP_FAM_IPV4_FLOWSPEC, BGP_FAM_IPV6_FLOWSPEC};

int bgp_adj_flush(struct bgp_adj_out *q, const struct bgp_rib *rib, struct bgp_out_ctx *c)
{
	struct bgp_upd u;
	for (;;) {
		if (q->pos == q->sorted) {
			if (q->n == q->sorted) {
				q->n = q->pos = q->sorted = 0;
				break;
			}
			resort(q, rib);
			continue;
		}
		if (c->full(c->arg))
			return 0;
		const ip_prefix *p = &q->v[q->pos].p;
		bool v6 = !ip_is_v4(&p->addr);
		uint32_t fam = v6 ? BGP_FAM_IPV6_UNICAST : BGP_FAM_IPV4_UNICAST;
		if (!(c->families & fam)) {
			q->pos++;
			continue;
		}
		const struct bgp_rib_attrs *cur = current(q, rib, q->pos);
		if (cur) {
			struct bgp_attr_enc enc = {
				.ebgp = c->ebgp, .as4 = c->as4, .local_as = c->local_as,
				.local_pref = cur->a.local_pref, .med = cur->a.med, .has_med = cur->a.has_med,
				.communities = cur->a.communities, .n_communities = cur->a.n_communities,
				.ext_communities = cur->a.ext_communities[0],
				.n_ext_communities = cur->a.n_ext_communities,
				.large_communities = (const uint32_t(*)[3])cur->a.large_communities,
				.n_large_communities = cur->a.n_large_communities,
				.more = &cur->a,
			};
			if (!resolve_nh(c, v6, &cur->a.next_hop, &enc.next_hop) ||
			    bgp_msg_upd_begin_announce(&u, v6, &enc) < 0) {
				char buf[IP_PREFIX_STRLEN];
				if (c->no_nexthop)
					log_once(c->no_nexthop, "bgp: %s not sent: no usable next hop on this session",
						 ip_prefix_format(p, buf));
				q->pos++;
				continue;
			}
		} else {
			bgp_msg_upd_begin_withdraw(&u, v6);
		}
		if (c->max_msg)
			bgp_msg_upd_set_max(&u, c->max_msg);
		/* the run of prefixes in the same family with the same current attributes */
		while (q->pos < q->sorted) {
			const ip_prefix *np = &q->v[q->pos].p;
			if (ip_is_v4(&np->addr) == v6 || current(q, rib, q->pos) != cur)
				break;
			if (!bgp_msg_upd_add(&u, np))
				break;
			q->pos++;
		}
		size_t len = bgp_msg_upd_finish(&u);
		if (len == 0 || c->send(c->arg, u.buf, len) < 0)
			return -1;
		c->updates++;
		if (cur)
			c->prefixes += u.n;
	}
	for (size_t i = 0; i < sizeof eor_order / sizeof eor_order[0]; i++) {
		uint32_t fam = eor_order[i];
		if (!(q->eor & fam))
			continue;
		q->eor &= ~fam;
		if (!(c->families & fam))
			continue;
		uint8_t buf[64];
		struct wbuf w = wbuf_init(buf, sizeof buf);
		size_t len = bgp_msg_end_of_rib(&w, fam);
		if (c->send(c->arg, buf, len) < 0)
			return -1;
		c->updates++;
	}
	for (size_t i = 0; i < sizeof eor_order / sizeof eor_order[0]; i++) {
		uint32_t fam = eor_order[i];
		if (!(q->eorr & fam))
			continue;
		q->eorr &= ~fam;
		uint16_t afi;
		uint8_t safi;
		bgp_msg_family_afi(fam, &afi, &safi);
		uint8_t buf[32];
		struct wbuf w = wbuf_init(buf, sizeof buf);
		if (c->send(c->arg, buf, bgp_msg_route_refresh_sub(&w, afi, safi, BGP_RR_EORR)) < 0)
			return -1;
	}
	return 1;
}
