/* Which source wants which route: detection's bans and the ExaBGP API's routes (control socket,
 * named pipe, process) share one BGP RIB-out, keyed by prefix, so the daemon keeps the owners
 * apart here and only tells the speaker what the union of them means.
 *
 * Conflicts (two sources hold the same prefix): the route stays announced while any source holds
 * it; detection's blackhole attributes win while detection holds it (a ban is the reason the
 * daemon exists, and its attributes are the operator's configured ones); otherwise the attributes
 * of the latest API announce apply. A source letting go (detection's unban, an API withdraw, a
 * process dying) removes only its own claim: the prefix is withdrawn when nobody holds it and
 * re-announced with the remaining owner's attributes when they differ. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "banstate.h"
#include "daemon.h"

struct entry {
	ip_prefix p;
	uint8_t owners;               /* bit (1 << enum rd_route_src) */
	struct bgp_route_attrs api;   /* the latest API announce's */
};

struct rd_routes {
	struct entry *e; /* dense */
	size_t n, cap;
	uint32_t *slot;  /* open addressing: index + 1 into e, 0 = empty */
	size_t mask;     /* slots - 1 */
};

static const char *const src_names[RD_SRC_MAX] = {"detection", "socket", "pipe", "process"};

const char *rd_route_src_name(enum rd_route_src s)
{
	return (unsigned)s < RD_SRC_MAX ? src_names[s] : "?";
}

struct rd_routes *rd_routes_new(void)
{
	struct rd_routes *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->mask = 1023;
	t->slot = calloc(t->mask + 1, sizeof *t->slot);
	if (!t->slot) {
		free(t);
		return NULL;
	}
	return t;
}

void rd_routes_free(struct rd_routes *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->slot);
	free(t);
}

size_t rd_routes_count(const struct rd_routes *t)
{
	return t ? t->n : 0;
}

static size_t hash(const ip_prefix *p)
{
	/* a 64-bit finaliser: consecutive /32s (a ban list) must not make one long probe run */
	uint64_t h = (uint64_t)ip_hash(&p->addr) << 8 ^ p->len;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h;
}

/* The slot holding p, or the empty slot where it would go. */
static size_t find(const struct rd_routes *t, const ip_prefix *p)
{
	size_t i = hash(p) & t->mask;
	while (t->slot[i] && !ip_prefix_equal(&t->e[t->slot[i] - 1].p, p))
		i = (i + 1) & t->mask;
	return i;
}

static int grow(struct rd_routes *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct entry *e = realloc(t->e, cap * sizeof *e);
		if (!e)
			return -1;
		t->e = e;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->mask + 1) {
		size_t slots = (t->mask + 1) * 2;
		uint32_t *s = calloc(slots, sizeof *s);
		if (!s)
			return -1;
		free(t->slot);
		t->slot = s;
		t->mask = slots - 1;
		for (size_t k = 0; k < t->n; k++)
			t->slot[find(t, &t->e[k].p)] = (uint32_t)(k + 1);
	}
	return 0;
}

/* Removes entry at slot i (backward-shift deletion keeps probe chains whole) and moves the last
 * dense entry into its place. */
static void remove_at(struct rd_routes *t, size_t i)
{
	size_t k = t->slot[i] - 1;
	t->slot[i] = 0;
	for (size_t j = (i + 1) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
		size_t home = hash(&t->e[t->slot[j] - 1].p) & t->mask;
		/* move j back to i when its home is not in (i, j] cyclically */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slot[i] = t->slot[j];
			t->slot[j] = 0;
			i = j;
		}
	}
	t->n--;
	if (k != t->n) {
		t->e[k] = t->e[t->n];
		t->slot[find(t, &t->e[k].p)] = (uint32_t)(k + 1);
	}
}

static bool sending(const struct rampart *rp)
{
	return rp->bgp && !rp->conf.mitigation.dry_run;
}

static void effective(const struct rampart *rp, const struct entry *e, struct bgp_route_attrs *out)
{
	if (e->owners & (1u << RD_SRC_DETECT))
		rd_blackhole_attrs(rp, &e->p, out);
	else
		*out = e->api;
}

int rd_route_add(struct rampart *rp, enum rd_route_src src, const ip_prefix *p, const struct bgp_route_attrs *attrs)
{
	if (!rp->routes && !(rp->routes = rd_routes_new()))
		return -1;
	struct rd_routes *t = rp->routes;
	if (grow(t) != 0)
		return -1;
	size_t i = find(t, p);
	struct entry *e;
	struct bgp_route_attrs before, after;
	bool fresh = !t->slot[i];
	if (fresh) {
		e = &t->e[t->n];
		memset(e, 0, sizeof *e);
		e->p = *p;
		t->slot[i] = (uint32_t)++t->n;
	} else {
		e = &t->e[t->slot[i] - 1];
		effective(rp, e, &before);
	}
	e->owners |= (uint8_t)(1u << src);
	if (src != RD_SRC_DETECT)
		e->api = *attrs;
	effective(rp, e, &after);
	if (!sending(rp) || (!fresh && !memcmp(&before, &after, sizeof after)))
		return 0;
	return bgp_announce(rp->bgp, &e->p, &after);
}

int rd_route_del(struct rampart *rp, enum rd_route_src src, const ip_prefix *p)
{
	struct rd_routes *t = rp->routes;
	if (!t)
		return -1;
	size_t i = find(t, p);
	if (!t->slot[i])
		return -1;
	struct entry *e = &t->e[t->slot[i] - 1];
	if (!(e->owners & (1u << src)))
		return -1;
	struct bgp_route_attrs before, after;
	effective(rp, e, &before);
	e->owners &= (uint8_t)~(1u << src);
	if (!e->owners) {
		ip_prefix gone = e->p;
		remove_at(t, i);
		if (sending(rp))
			bgp_withdraw(rp->bgp, &gone);
		return 0;
	}
	effective(rp, e, &after);
	if (sending(rp) && memcmp(&before, &after, sizeof after))
		bgp_announce(rp->bgp, &e->p, &after);
	return 0;
}

size_t rd_route_del_all(struct rampart *rp, enum rd_route_src src)
{
	struct rd_routes *t = rp->routes;
	size_t n = 0;
	if (!t)
		return 0;
	for (size_t k = t->n; k-- > 0;) {
		if (k >= t->n || !(t->e[k].owners & (1u << src)))
			continue;
		ip_prefix p = t->e[k].p;
		if (rd_route_del(rp, src, &p) == 0)
			n++;
	}
	return n;
}

/* For the ban state file (banstate.h). */
bool rd_routes_at(const struct rd_routes *t, size_t i, ip_prefix *p, uint8_t *owners, struct bgp_route_attrs *api)
{
	if (!t || i >= t->n)
		return false;
	*p = t->e[i].p;
	*owners = t->e[i].owners;
	*api = t->e[i].api;
	return true;
}

void rd_routes_list(const struct rampart *rp, struct evbuffer *out)
{
	static const struct rd_routes none;
	const struct rd_routes *t = rp->routes ? rp->routes : &none;
	evbuffer_add_printf(out, "%-44s %-28s %-40s %s\n", "prefix", "sources", "next-hop", "communities");
	for (size_t k = 0; k < t->n; k++) {
		const struct entry *e = &t->e[k];
		char pfx[IP_PREFIX_STRLEN], nh[IP_STRLEN], srcs[64] = "";
		for (int s = 0; s < RD_SRC_MAX; s++)
			if (e->owners & (1u << s)) {
				if (srcs[0])
					strcat(srcs, ",");
				strcat(srcs, src_names[s]);
			}
		struct bgp_route_attrs a;
		effective(rp, e, &a);
		evbuffer_add_printf(out, "%-44s %-28s %-40s", ip_prefix_format(&e->p, pfx), srcs,
				    ip_is_zero(&a.next_hop) ? "self" : ip_format(&a.next_hop, nh));
		for (size_t c = 0; c < a.n_communities; c++)
			evbuffer_add_printf(out, "%s%u:%u", c ? " " : "", a.communities[c] >> 16, a.communities[c] & 0xFFFF);
		evbuffer_add_printf(out, "\n");
	}
	evbuffer_add_printf(out, "%zu routes%s\n", t->n,
			    !rp->bgp ? " (no bgp section: not announced)"
				     : rp->conf.mitigation.dry_run ? " (dry run: not announced)" : "");
}
