/* Which source wants which route: detection's bans and the ExaBGP API's routes (control socket,
 * named pipe, process) share one BGP RIB-out, keyed by prefix, so the daemon keeps the owners
 * apart here and only tells the speaker what the union of them means.
 *
 * Conflicts (two sources hold the same prefix): the route stays announced while any source holds
 * it; detection's blackhole attributes win while detection holds it (a ban is the reason the
 * daemon exists, and its attributes are the operator's configured ones); otherwise the attributes
 * of the latest API announce apply. A source letting go (detection's unban, an API withdraw, a
 * process dying) removes only its own claim: the prefix is withdrawn when nobody holds it and
 * re-announced with the remaining owner's attributes when they differ.
 *
 * Per peer (ExaBGP's `neighbor X announce ...`): each source holds a prefix for a set of peers,
 * and the API attributes are kept per set of peers (the latest announce to a peer wins there).
 * An entry every source holds for every peer (all of detection's, and every line without a
 * `neighbor` selection) takes the fast path of one bgp_announce; the others are pushed to the
 * speaker peer by peer, grouped by equal attributes. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "../lib/ht.h"
#include "internal.h"

/* One API attribute set, shared by every entry announced with the same bytes: 100 000 routes
 * from one script carry one set, so an entry is ~100 bytes rather than ~650 (the copy per route
 * was most of the pipe's cost: page faults and cache misses on 65 MB). */
struct shared_attrs {
	struct bgp_route_attrs a; /* first: an entry's pointer to it is a pointer to this */
	uint32_t refs;
	uint32_t hash;
	struct shared_attrs *next;
};

#define ATTR_BUCKETS 64

/* API attributes for a set of peers other than the first's */
struct variant {
	bgp_peer_set peers;
	const struct bgp_route_attrs *a; /* shared */
};

struct entry {
	ip_prefix p; /* the key (lib/ht) */
	uint8_t owners;               /* bit (1 << enum mit_route_src) */
	bgp_peer_set held[MIT_SRC_MAX]; /* the peers each source holds it for */
	const struct bgp_route_attrs *api; /* the latest API announce's, for api_peers (shared) */
	bgp_peer_set api_peers;
	struct variant *more;         /* other peers' API attributes (NULL: none) */
	size_t n_more;
};

struct mit_routes {
	struct ht e; /* of struct entry */
	struct shared_attrs *attrs[ATTR_BUCKETS];
	/* the set attrs_get returned last: a script's burst repeats one set, and a memcmp with it
	 * costs a fifth of hashing the ~650 bytes (NULL once it is freed) */
	struct shared_attrs *last;
};

static uint32_t prefix_hash(const void *key)
{
	/* a 64-bit finaliser: consecutive /32s (a ban list) must not make one long probe run */
	const ip_prefix *p = key;
	uint64_t h = (uint64_t)ip_hash(&p->addr) << 8 ^ p->len;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static const struct ht_type entry_type = {.rec_size = sizeof(struct entry),
					  .key_off = offsetof(struct entry, p),
					  .key_size = sizeof(ip_prefix),
					  .hash = prefix_hash}; /* 17 bytes, no padding: compared as bytes */

/* A first table for a few thousand routes; a burst grows it by doubling (slots move, records and
 * their hashes stay). */
#define ROUTES_PRESIZE 4096

static const char *const src_names[MIT_SRC_MAX] = {"detection", "operator", "api", "process"};

const char *mit_route_src_name(enum mit_route_src s)
{
	return (unsigned)s < MIT_SRC_MAX ? src_names[s] : "?";
}

struct mit_routes *mit_routes_new(void)
{
	struct mit_routes *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (ht_init(&t->e, &entry_type, ROUTES_PRESIZE) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void mit_routes_free(struct mit_routes *t)
{
	if (!t)
		return;
	for (struct entry *e = ht_next(&t->e, NULL); e; e = ht_next(&t->e, e))
		free(e->more);
	for (size_t b = 0; b < ATTR_BUCKETS; b++)
		for (struct shared_attrs *x = t->attrs[b], *next; x; x = next) {
			next = x->next;
			free(x);
		}
	ht_free(&t->e);
	free(t);
}

void mit_routes_prefetch(const struct mit_routes *t, const ip_prefix *p)
{
	if (t)
		ht_prefetch_slot(&t->e, prefix_hash(p));
}

void mit_routes_remap_peers(struct mit *m, const int *map, size_t n_old)
{
	struct mit_routes *t = m->routes;
	if (!t)
		return;
	for (size_t k = 0; k < ht_count(&t->e); k++) {
		struct entry *e = ht_at(&t->e, k);
		for (int s = 0; s < MIT_SRC_MAX; s++)
			e->held[s] = bgp_peer_set_remap(e->held[s], map, n_old);
		e->api_peers = bgp_peer_set_remap(e->api_peers, map, n_old);
		for (size_t v = 0; v < e->n_more; v++)
			e->more[v].peers = bgp_peer_set_remap(e->more[v].peers, map, n_old);
	}
	mit_watchdog_remap_peers(m, map, n_old);
}

size_t mit_routes_count(const struct mit *m)
{
	return m && m->routes ? ht_count(&m->routes->e) : 0;
}

/* Equal bytes, one set: the entries compared attributes with memcmp, so bytes are the identity. */
static uint32_t attrs_hash(const struct bgp_route_attrs *a)
{
	const uint8_t *b = (const uint8_t *)a;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i + 8 <= sizeof *a; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (size_t i = sizeof *a & ~(size_t)7; i < sizeof *a; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ h >> 32);
}

/* A reference to the shared copy of a (made on first use); NULL when out of memory. */
static const struct bgp_route_attrs *attrs_get(struct mit_routes *t, const struct bgp_route_attrs *a)
{
	if (t->last && !memcmp(&t->last->a, a, sizeof *a)) {
		t->last->refs++;
		return &t->last->a;
	}
	uint32_t h = attrs_hash(a);
	struct shared_attrs **b = &t->attrs[h % ATTR_BUCKETS];
	for (struct shared_attrs *x = *b; x; x = x->next)
		if (x->hash == h && !memcmp(&x->a, a, sizeof *a)) {
			x->refs++;
			t->last = x;
			return &x->a;
		}
	struct shared_attrs *x = malloc(sizeof *x);
	if (!x)
		return NULL;
	x->a = *a;
	x->refs = 1;
	x->hash = h;
	x->next = *b;
	*b = x;
	t->last = x;
	return &x->a;
}

static void attrs_put(struct mit_routes *t, const struct bgp_route_attrs *a)
{
	if (!a)
		return;
	struct shared_attrs *x = (struct shared_attrs *)(uintptr_t)a;
	if (--x->refs > 0)
		return;
	struct shared_attrs **b = &t->attrs[x->hash % ATTR_BUCKETS];
	while (*b != x)
		b = &(*b)->next;
	*b = x->next;
	if (t->last == x)
		t->last = NULL;
	free(x);
}

/* Drops an entry's references to shared attribute sets and its variants. */
static void entry_release(struct mit_routes *t, struct entry *e)
{
	attrs_put(t, e->api);
	for (size_t k = 0; k < e->n_more; k++)
		attrs_put(t, e->more[k].a);
	free(e->more);
	e->api = NULL;
	e->more = NULL;
	e->n_more = 0;
}

/* Removes an entry (its shared references first). */
static void remove_entry(struct mit_routes *t, struct entry *e)
{
	entry_release(t, e);
	ht_remove_rec(&t->e, e);
}

/* What a simple entry announces: detection's blackhole (built in buf) or the API's. */
static const struct bgp_route_attrs *effective(const struct mit *m, const struct entry *e,
					       struct bgp_route_attrs *buf)
{
	if (!(e->owners & (1u << MIT_SRC_DETECT)))
		return e->api;
	mit_blackhole_attrs(m, &e->p, buf);
	return buf;
}

/* Every owner holds it for every peer with one set of attributes: one bgp_announce says it all. */
static bool simple(const struct entry *e)
{
	for (int s = 0; s < MIT_SRC_MAX; s++)
		if ((e->owners & (1u << s)) && e->held[s] != BGP_PEERS_ALL)
			return false;
	return e->n_more == 0 && (e->api_peers == BGP_PEERS_ALL || e->owners == (1u << MIT_SRC_DETECT));
}

static const struct bgp_route_attrs *api_for(const struct entry *e, bgp_peer_set bit)
{
	if (e->api_peers & bit)
		return e->api;
	for (size_t k = 0; k < e->n_more; k++)
		if (e->more[k].peers & bit)
			return e->more[k].a;
	return NULL;
}

/* The latest API announce: attrs for these peers, whatever they had before. */
static int api_set(struct mit_routes *t, struct entry *e, const struct bgp_route_attrs *in, bgp_peer_set peers)
{
	const struct bgp_route_attrs *a = attrs_get(t, in); /* our reference, handed on or put */
	if (!a)
		return -1;
	if (peers == BGP_PEERS_ALL) {
		entry_release(t, e);
		e->api = a;
		e->api_peers = BGP_PEERS_ALL;
		return 0;
	}
	e->api_peers &= ~peers;
	if (!e->api_peers) {
		attrs_put(t, e->api);
		e->api = NULL;
	}
	size_t out = 0;
	for (size_t k = 0; k < e->n_more; k++) {
		e->more[k].peers &= ~peers;
		if (e->more[k].peers)
			e->more[out++] = e->more[k];
		else
			attrs_put(t, e->more[k].a);
	}
	e->n_more = out;
	if (!e->api_peers) {
		e->api = a;
		e->api_peers = peers;
		return 0;
	}
	if (e->api == a) {
		e->api_peers |= peers;
		attrs_put(t, a);
		return 0;
	}
	for (size_t k = 0; k < e->n_more; k++)
		if (e->more[k].a == a) {
			e->more[k].peers |= peers;
			attrs_put(t, a);
			return 0;
		}
	struct variant *v = realloc(e->more, (e->n_more + 1) * sizeof *v);
	if (!v) {
		attrs_put(t, a);
		return -1;
	}
	e->more = v;
	e->more[e->n_more++] = (struct variant){.peers = peers, .a = a};
	return 0;
}

/* An entry some source holds for some peers only, or with attributes differing by peer: tell the
 * speaker each peer's state, peers with equal attributes together (it skips what is unchanged). */
static int push_per_peer(struct mit *m, const struct entry *e)
{
	if (e->owners & (1u << MIT_SRC_DETECT)) {
		struct bgp_route_attrs bh;
		mit_blackhole_attrs(m, &e->p, &bh);
		return bgp_announce(m->d.bgp, &e->p, &bh);
	}
	size_t n = m->conf->bgp.n_peers < 64 ? m->conf->bgp.n_peers : 64;
	bgp_peer_set claimed = 0, done = 0, none = 0;
	for (int s = 0; s < MIT_SRC_MAX; s++)
		if (e->owners & (1u << s))
			claimed |= e->held[s];
	int rc = 0;
	for (size_t g = 0; g < n; g++) {
		bgp_peer_set bit = bgp_peer_bit(g);
		const struct bgp_route_attrs *a = (claimed & bit) ? api_for(e, bit) : NULL;
		if (done & bit)
			continue;
		if (!a) {
			none |= bit;
			continue;
		}
		bgp_peer_set set = 0;
		for (size_t h = g; h < n; h++) {
			bgp_peer_set hb = bgp_peer_bit(h);
			if (!(done & hb) && (claimed & hb) && api_for(e, hb) == a)
				set |= hb;
		}
		done |= set;
		if (bgp_announce_to(m->d.bgp, &e->p, a, set) != 0)
			rc = -1;
	}
	if (none)
		bgp_withdraw_from(m->d.bgp, &e->p, none); /* -1: none of them had it, fine */
	return rc;
}

int mit_route_add(struct mit *m, enum mit_route_src src, const ip_prefix *p, const struct bgp_route_attrs *attrs)
{
	return mit_route_add_to(m, src, p, attrs, BGP_PEERS_ALL);
}

int mit_route_add_to(struct mit *m, enum mit_route_src src, const ip_prefix *p,
		    const struct bgp_route_attrs *attrs, bgp_peer_set peers)
{
	if (src == MIT_SRC_DETECT)
		peers = BGP_PEERS_ALL; /* a ban goes everywhere */
	if (!m->routes && !(m->routes = mit_routes_new()))
		return -1;
	struct mit_routes *t = m->routes;
	bool fresh;
	struct entry *e = ht_insert(&t->e, p, &fresh);
	struct bgp_route_attrs before, buf;
	if (!e)
		return -1;
	if (!fresh)
		before = *effective(m, e, &buf); /* a copy: e->api may change below */
	bool was_simple = fresh || simple(e);
	e->owners |= (uint8_t)(1u << src);
	e->held[src] |= peers; /* zero while src does not hold it */
	if (src != MIT_SRC_DETECT && api_set(t, e, attrs, peers) != 0) {
		if (fresh)
			ht_remove_rec(&t->e, e); /* nothing claimed it yet */
		return -1;
	}
	if (!mit_live(m))
		return 0;
	if (!was_simple || !simple(e))
		return push_per_peer(m, e);
	const struct bgp_route_attrs *after = effective(m, e, &buf);
	if (!fresh && !memcmp(&before, after, sizeof *after))
		return 0;
	return bgp_announce(m->d.bgp, &e->p, after);
}

int mit_route_del(struct mit *m, enum mit_route_src src, const ip_prefix *p)
{
	return mit_route_del_from(m, src, p, BGP_PEERS_ALL);
}

int mit_route_del_from(struct mit *m, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers)
{
	struct mit_routes *t = m->routes;
	if (!t)
		return -1;
	struct entry *e = ht_find(&t->e, p);
	if (!e)
		return -1;
	if (!(e->owners & (1u << src)) || !(e->held[src] & peers))
		return -1;
	struct bgp_route_attrs before, buf;
	bool was_simple = simple(e);
	bool survives = (e->held[src] & ~peers) || (e->owners & ~(1u << src));
	if (survives) /* the common withdraw removes the entry: no copy for it */
		before = *effective(m, e, &buf);
	e->held[src] &= ~peers;
	if (!e->held[src])
		e->owners &= (uint8_t)~(1u << src);
	if (!e->owners) {
		ip_prefix gone = e->p;
		remove_entry(t, e);
		if (mit_live(m))
			bgp_withdraw(m->d.bgp, &gone);
		return 0;
	}
	if (mit_live(m) && (!was_simple || !simple(e))) {
		(void)push_per_peer(m, e); /* the claim is gone whatever the speaker said */
		return 0;
	}
	const struct bgp_route_attrs *after = effective(m, e, &buf);
	if (mit_live(m) && memcmp(&before, after, sizeof *after))
		bgp_announce(m->d.bgp, &e->p, after);
	return 0;
}

size_t mit_route_del_all(struct mit *m, enum mit_route_src src)
{
	struct mit_routes *t = m->routes;
	size_t n = 0;
	mit_watchdog_forget(m, src, NULL, BGP_PEERS_ALL); /* its held routes go with the others */
	if (!t)
		return 0;
	/* from the end: a removal moves the last record into the hole, one already visited */
	for (size_t k = ht_count(&t->e); k-- > 0;) {
		const struct entry *e = k < ht_count(&t->e) ? ht_at(&t->e, k) : NULL;
		if (!e || !(e->owners & (1u << src)))
			continue;
		ip_prefix p = e->p;
		if (mit_route_del(m, src, &p) == 0)
			n++;
	}
	return n;
}

/* For the ban state file (state.c): each API source's claims, per set of peers and attributes. */
void mit_routes_each_api(const struct mit_routes *t, mit_routes_api_fn fn, void *ctx)
{
	for (size_t i = 0; t && i < ht_count(&t->e); i++) {
		const struct entry *e = ht_at(&t->e, i);
		for (int s = 0; s < MIT_SRC_MAX; s++) {
			if (s == MIT_SRC_DETECT || !(e->owners & (1u << s)))
				continue;
			if (e->held[s] & e->api_peers)
				fn(ctx, (enum mit_route_src)s, &e->p, e->held[s] & e->api_peers, e->api);
			for (size_t k = 0; k < e->n_more; k++)
				if (e->held[s] & e->more[k].peers)
					fn(ctx, (enum mit_route_src)s, &e->p, e->held[s] & e->more[k].peers, e->more[k].a);
		}
	}
}

void mit_routes_list(const struct mit *m, struct evbuffer *out)
{
	const struct mit_routes *t = m->routes;
	evbuffer_add_printf(out, "%-44s %-28s %-40s %s\n", "prefix", "sources", "next-hop", "communities");
	for (size_t k = 0; t && k < ht_count(&t->e); k++) {
		const struct entry *e = ht_at(&t->e, k);
		char pfx[IP_PREFIX_STRLEN], nh[IP_STRLEN], srcs[64] = "";
		for (int s = 0; s < MIT_SRC_MAX; s++)
			if (e->owners & (1u << s)) {
				if (srcs[0])
					strcat(srcs, ",");
				strcat(srcs, src_names[s]);
			}
		struct bgp_route_attrs buf;
		const struct bgp_route_attrs *ap = effective(m, e, &buf), a = *ap;
		if (!simple(e))
			strcat(srcs, " (per peer)");
		evbuffer_add_printf(out, "%-44s %-28s %-40s", ip_prefix_format(&e->p, pfx), srcs,
				    ip_is_zero(&a.next_hop) ? "self" : ip_format(&a.next_hop, nh));
		for (size_t c = 0; c < a.n_communities; c++)
			evbuffer_add_printf(out, "%s%u:%u", c ? " " : "", a.communities[c] >> 16, a.communities[c] & 0xFFFF);
		evbuffer_add_printf(out, "\n");
	}
	evbuffer_add_printf(out, "%zu routes%s\n", mit_routes_count(m),
			    !m->d.bgp ? " (no bgp section: not announced)"
				     : m->conf->mitigation.dry_run ? " (dry run: not announced)" : "");
}
