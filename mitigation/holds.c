/* Detection's blackholes by attack. The routes table (routes.c) knows that detection holds a
 * prefix; this knows which attacks hold it, so that:
 *
 * - two attacks blackholing the same prefix (a host attacked and attacking at once, each
 *   direction its own attack) hold it together, and the end of one leaves the route out for the
 *   other: the route is added for the first holder and withdrawn after the last;
 * - an attack inside its covering attack's blackhole (parent_attack_id, a /32 inside a banned
 *   /24) is recorded as covered and announces nothing: the covering route already drops all of
 *   its traffic, and one more /32 per victim at the router is only cost;
 * - when a covering blackhole ends while attacks it covered go on, their own routes are
 *   announced first and the covering route is withdrawn two ticks later (up to 200 ms), so the
 *   host is never reachable in between. Two ticks, not at once, because the speaker sends what
 *   one pass queued sorted, withdrawals first: in the same pass the /24's withdrawal would leave
 *   before the /32's announcement.
 *
 * A linear table: it holds at most the active bans (max_bans), and each ban or unban looks at it
 * once or twice. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "internal.h"

enum hold_state { HOLD_HELD, HOLD_COVERED, HOLD_RELEASING };

struct hold {
	uint64_t attack_id, parent_id;
	ip_prefix target;
	uint8_t state;
	uint8_t ticks_left; /* HOLD_RELEASING: mit ticks until the route is let go */
};

struct mit_holds {
	struct hold *h;
	size_t n, cap;
};

struct mit_holds *mit_holds_new(void)
{
	return calloc(1, sizeof(struct mit_holds));
}

void mit_holds_free(struct mit_holds *t)
{
	if (!t)
		return;
	free(t->h);
	free(t);
}

static struct hold *hold_of(const struct mit_holds *t, uint64_t attack_id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->h[i].attack_id == attack_id)
			return &t->h[i];
	return NULL;
}

/* Whether a hold other than except keeps p's route out (held, or released but not yet let go). */
static bool route_held(const struct mit_holds *t, const ip_prefix *p, const struct hold *except)
{
	for (size_t i = 0; i < t->n; i++)
		if (&t->h[i] != except && t->h[i].state != HOLD_COVERED && ip_prefix_equal(&t->h[i].target, p))
			return true;
	return false;
}

static void hold_remove(struct mit_holds *t, struct hold *h)
{
	*h = t->h[--t->n];
}

/* The route of p goes out unless another attack holds it already; false when the speaker refused. */
static bool route_take(struct mit *m, const ip_prefix *p)
{
	return route_held(m->holds, p, NULL) || mit_route_add(m, MIT_SRC_DETECT, p, NULL) == 0;
}

/* h lets go of its route: withdrawn when no other attack holds the prefix; h is removed. */
static void route_let_go(struct mit *m, struct hold *h)
{
	ip_prefix p = h->target;
	hold_remove(m->holds, h);
	if (!route_held(m->holds, &p, NULL) && mit_route_del(m, MIT_SRC_DETECT, &p) != 0) {
		char pfx[IP_PREFIX_STRLEN];
		log_warn("blackhole %s: was not announced", ip_prefix_format(&p, pfx));
	}
}

const char *mit_blackhole_hold(struct mit *m, const struct det_event *ev)
{
	struct mit_holds *t = m->holds;
	struct hold *h = hold_of(t, ev->attack_id);
	if (h)
		return h->state == HOLD_COVERED ? "covered" : "blackhole";
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct hold *n = realloc(t->h, cap * sizeof *n);
		if (!n)
			return "failed";
		t->h = n;
		t->cap = cap;
	}
	char pfx[IP_PREFIX_STRLEN], ppfx[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->target, pfx);
	/* inside the covering attack's blackhole (its own, or one it is covered by in turn) */
	const struct hold *parent = ev->parent_attack_id ? hold_of(t, ev->parent_attack_id) : NULL;
	if (parent && parent->state != HOLD_RELEASING && parent->target.len < ev->target.len &&
	    ip_is_v4(&parent->target.addr) == ip_is_v4(&ev->target.addr) &&
	    ip_prefix_contains(&parent->target, &ev->target.addr)) {
		t->h[t->n++] = (struct hold){ev->attack_id, ev->parent_attack_id, ev->target, HOLD_COVERED, 0};
		log_info("attack %" PRIu64 ": blackhole %s not announced: covered by attack %" PRIu64 "'s blackhole %s",
			 ev->attack_id, pfx, ev->parent_attack_id, ip_prefix_format(&parent->target, ppfx));
		return "covered";
	}
	if (!route_take(m, &ev->target)) {
		log_err("blackhole %s: announce failed", pfx);
		return "failed";
	}
	t->h[t->n++] = (struct hold){ev->attack_id, ev->parent_attack_id, ev->target, HOLD_HELD, 0};
	m->announced++;
	return "blackhole";
}

const char *mit_blackhole_release(struct mit *m, uint64_t attack_id)
{
	struct mit_holds *t = m->holds;
	struct hold *h = hold_of(t, attack_id);
	if (!h || h->state == HOLD_RELEASING)
		return NULL;
	if (h->state == HOLD_COVERED) {
		hold_remove(t, h);
		return "covered";
	}
	/* the attacks this one covered get their own routes before its route goes */
	size_t handed = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct hold *c = &t->h[i];
		if (c->state != HOLD_COVERED || c->parent_id != attack_id)
			continue;
		char pfx[IP_PREFIX_STRLEN];
		ip_prefix_format(&c->target, pfx);
		if (!route_take(m, &c->target)) {
			log_err("attack %" PRIu64 ": blackhole %s: announce failed; the covering route goes anyway",
				c->attack_id, pfx);
			continue; /* stays covered: the state file and the API say nothing of its own is out */
		}
		c->state = HOLD_HELD;
		m->announced++;
		handed++;
		log_info("attack %" PRIu64 ": covering attack %" PRIu64 " ends while it goes on: blackhole %s announced",
			 c->attack_id, attack_id, pfx);
	}
	h = hold_of(t, attack_id); /* the table did not move, but say so */
	m->withdrawn++;
	if (!handed) {
		route_let_go(m, h);
		return "blackhole";
	}
	h->state = HOLD_RELEASING;
	h->ticks_left = 2;
	return "blackhole";
}

void mit_holds_tick(struct mit *m)
{
	struct mit_holds *t = m->holds;
	for (size_t i = t->n; i-- > 0;) {
		struct hold *h = &t->h[i];
		if (h->state == HOLD_RELEASING && --h->ticks_left == 0)
			route_let_go(m, h); /* the last moves to i, already visited */
	}
}

bool mit_blackhole_state(const struct mit *m, uint64_t attack_id, bool *covered, uint64_t *covering)
{
	const struct hold *h = m->holds ? hold_of(m->holds, attack_id) : NULL;
	if (!h || h->state == HOLD_RELEASING)
		return false;
	*covered = h->state == HOLD_COVERED;
	*covering = *covered ? h->parent_id : 0;
	return true;
}
