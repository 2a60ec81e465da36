/* ExaBGP's watchdog groups (exabgp/rib/outgoing.py): a route announced with `watchdog NAME` is a
 * member of group NAME, announced, or held back when the route also said `withdraw`. `withdraw
 * watchdog NAME` withdraws the group's announced routes from the peers and keeps them; `announce
 * watchdog NAME` announces its held routes again. A group has no state of its own, as in ExaBGP:
 * a route announced into a group whose routes were withdrawn goes out at once (unless it says
 * `withdraw`). Unlike ExaBGP, `withdraw route P` also takes P out of its group, so a later
 * `announce watchdog` does not bring back a route the operator withdrew.
 *
 * The members are a flat array scanned per command: groups hold a few service addresses
 * (ExaBGP's healthcheck), and a route command scans it only when it is not empty. Membership is
 * not in the state file: after a restart a route comes back as a plain API route, and a process
 * sends its routes and watchdog commands again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bgp/exabgp.h"
#include "internal.h"

struct member {
	char name[BGP_EXA_NAME_MAX];
	enum mit_route_src src;
	ip_prefix p;
	bgp_peer_set peers;
	struct bgp_route_attrs attrs;
	bool announced; /* in the routes table (sent); false: held back */
};

struct mit_watchdogs {
	struct member *v;
	size_t n, cap;
};

void mit_watchdogs_free(struct mit_watchdogs *w)
{
	if (!w)
		return;
	free(w->v);
	free(w);
}

/* src's claims on p for peers leave their groups (those peers only). */
void mit_watchdog_forget(struct mit *m, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers)
{
	struct mit_watchdogs *w = m->watchdogs;
	if (!w)
		return;
	for (size_t i = w->n; i-- > 0;) {
		struct member *e = &w->v[i];
		if (e->src != src || (p && !ip_prefix_equal(&e->p, p)))
			continue;
		e->peers &= ~peers;
		if (!e->peers)
			w->v[i] = w->v[--w->n];
	}
}

int mit_watchdog_join(struct mit *m, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers,
		      const struct bgp_route_attrs *a, const char *name, bool announced)
{
	if (!m->watchdogs && !(m->watchdogs = calloc(1, sizeof *m->watchdogs)))
		return -1;
	struct mit_watchdogs *w = m->watchdogs;
	mit_watchdog_forget(m, src, p, peers);
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct member *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	struct member *e = &w->v[w->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	e->src = src;
	e->p = *p;
	e->peers = peers;
	e->attrs = *a;
	e->announced = announced;
	return 0;
}

int mit_watchdog_switch(struct mit *m, const char *name, bool announce, size_t *changed)
{
	struct mit_watchdogs *w = m->watchdogs;
	int rc = 0;
	*changed = 0;
	for (size_t i = 0; w && i < w->n; i++) {
		struct member *e = &w->v[i];
		if (e->announced == announce || strcmp(e->name, name) != 0)
			continue;
		if (announce ? mit_route_add_to(m, e->src, &e->p, &e->attrs, e->peers) != 0 : 0) {
			rc = -1; /* the speaker refused it: still held, the next announce tries again */
			continue;
		}
		if (!announce)
			(void)mit_route_del_from(m, e->src, &e->p, e->peers); /* -1: already gone, fine */
		e->announced = announce;
		++*changed;
	}
	return rc;
}

size_t mit_watchdog_count(const struct mit *m, const char *name, bool announced)
{
	const struct mit_watchdogs *w = m->watchdogs;
	size_t n = 0;
	for (size_t i = 0; w && i < w->n; i++)
		n += w->v[i].announced == announced && !strcmp(w->v[i].name, name);
	return n;
}

void mit_watchdog_remap_peers(struct mit *m, const int *map, size_t n_old)
{
	struct mit_watchdogs *w = m->watchdogs;
	for (size_t i = w ? w->n : 0; i-- > 0;) {
		w->v[i].peers = bgp_peer_set_remap(w->v[i].peers, map, n_old);
		if (!w->v[i].peers) /* every peer it was for is gone from the configuration */
			w->v[i] = w->v[--w->n];
	}
}
