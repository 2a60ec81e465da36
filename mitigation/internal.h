/* Inside the mitigation module: struct mit and what its files (mit.c, routes.c, flowspec.c,
 * exabgp.c, state.c) call of each other. Nothing outside mitigation/ includes this. */
#ifndef RAMPART_MIT_INTERNAL_H
#define RAMPART_MIT_INTERNAL_H

#include "mit.h"
#include "state.h"

struct mit_routes;
struct mit_flowspec;
struct mit_holds;
struct mit_watchdogs;
struct bgp_exa_cmd;

struct mit {
	struct mit_deps d;
	const struct rampart_conf *conf; /* d.conf */
	uint64_t now_ns;                 /* the capture clock of the last tick */
	struct mit_routes *routes;
	struct mit_flowspec *flowspec;
	struct mit_holds *holds;         /* detection's blackholes by attack */
	struct mit_watchdogs *watchdogs; /* ExaBGP's watchdog groups; NULL until a route joins one */
	struct mit_state *state;         /* NULL when there is no state file */
	struct bgp_exa_cmd *cmd;         /* ExaBGP parse target, reused: 12 KiB per line otherwise */
	struct {
		mit_event_fn fn;
		void *ctx;
	} subs[MIT_MAX_SUBSCRIBERS];
	size_t n_subs;
	uint64_t announced, withdrawn, events;
};

/* routes.c */
struct mit_routes *mit_routes_new(void);
void mit_routes_free(struct mit_routes *t);
/* Fetches p's slot of the table's index into the cache (t may be NULL): see mit_exabgp_prefetch. */
void mit_routes_prefetch(const struct mit_routes *t, const ip_prefix *p);
/* Every claim of an API source (not detection's) on a prefix: for which peers, with which
 * attributes (a prefix announced differently per peer is several). */
typedef void (*mit_routes_api_fn)(void *ctx, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers,
				  const struct bgp_route_attrs *a);
void mit_routes_each_api(const struct mit_routes *t, mit_routes_api_fn fn, void *ctx);

/* holds.c: detection's blackholes by attack (the file's comment says why) */
struct mit_holds *mit_holds_new(void);
void mit_holds_free(struct mit_holds *t);
/* ev's attack holds the blackhole of its target: announced, unless another attack holds it
 * already, or recorded as covered when ev's parent attack holds a blackhole containing it.
 * Returns the action: "blackhole", "covered" or "failed" (the speaker refused; nothing held). */
const char *mit_blackhole_hold(struct mit *m, const struct det_event *ev);
/* attack_id lets go of its blackhole: the attacks it covered announce their own first, then its
 * route is withdrawn (two ticks later when it covered any) unless another attack still holds the
 * prefix. Returns "blackhole" or "covered" (nothing of its own was out), NULL when it held none. */
const char *mit_blackhole_release(struct mit *m, uint64_t attack_id);
/* Lets go of the routes whose hand-over is done; every mit_tick. */
void mit_holds_tick(struct mit *m);
/* Whether attack_id holds a blackhole; *covered and *covering (its covering attack) say how. */
bool mit_blackhole_state(const struct mit *m, uint64_t attack_id, bool *covered, uint64_t *covering);

/* watchdog.c: ExaBGP's watchdog groups (the file's comment has the semantics) */
void mit_watchdogs_free(struct mit_watchdogs *w);
/* src's route p for peers becomes a member of group name with attributes a: announced (the
 * caller has put it in the routes table) or held back. It replaces src's membership of p for
 * those peers in any group. 0, or -1 out of memory. */
int mit_watchdog_join(struct mit *m, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers,
		      const struct bgp_route_attrs *a, const char *name, bool announced);
/* src's routes p (NULL: every prefix) for peers leave their groups: withdrawn or re-announced
 * without a watchdog. */
void mit_watchdog_forget(struct mit *m, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers);
/* `announce watchdog name` (announce) or `withdraw watchdog name`: the group's held routes go
 * out, or its announced ones are withdrawn and held. *changed: how many routes moved. -1 when
 * the speaker refused a route (it stays held), else 0. An unknown name changes nothing. */
int mit_watchdog_switch(struct mit *m, const char *name, bool announce, size_t *changed);
/* Members of group name that are announced (or held back). */
size_t mit_watchdog_count(const struct mit *m, const char *name, bool announced);
/* The peers were renumbered by a reload (map: old index -> new, -1 gone), as the routes table. */
void mit_watchdog_remap_peers(struct mit *m, const int *map, size_t n_old);

/* flowspec.c */
struct mit_flowspec *mit_flowspec_new(struct mit *m);
void mit_flowspec_free(struct mit_flowspec *f);
/* The rule for ev's attack goes out (escalate: flowspec-then-blackhole); false when it cannot
 * (rule cap, target outside the monitored networks, the speaker refused): blackhole instead. */
bool mit_flowspec_ban(struct mit_flowspec *f, const struct det_event *ev, bool escalate);
/* Withdraws ev's attack's rule (and its escalation blackhole); false when it had no rule. */
bool mit_flowspec_unban(struct mit_flowspec *f, const struct det_event *ev);
void mit_flowspec_tick(struct mit_flowspec *f, uint64_t now_ns);
size_t mit_flowspec_count(const struct mit_flowspec *f);
/* ev's attack's rule r goes out again as it was (restart); false when it cannot (cap, speaker). */
bool mit_flowspec_restore(struct mit_flowspec *f, const struct det_event *ev, const struct fs_rule *r, bool escalate,
			  bool blackholed);
/* Operator rule i (0 .. max_rules - 1) when used and not from the configuration. */
bool mit_flowspec_operator_rule(const struct mit_flowspec *f, size_t i, struct fs_rule *r, struct fs_actions *a);
size_t mit_flowspec_cap(const struct mit_flowspec *f);

/* The ExaBGP API's `announce|withdraw flow route` c from src, carried out (dry run: refused as
 * the speaker would refuse it, logged, not sent) and, when it succeeded, kept as the API's rule:
 * the socket's and the pipe's, for the state file; a withdraw removes the rule whoever sent it,
 * as the speaker does. 0, or -1 with the reason in out. */
int mit_flowspec_api(struct mit *m, enum mit_route_src src, const struct bgp_exa_cmd *c, struct evbuffer *out);
/* The API's kept rule i (0, 1, ... until false), with the source that holds it. */
bool mit_flowspec_api_rule(const struct mit_flowspec *f, size_t i, enum mit_route_src *src, struct fs_rule *r,
			   struct fs_actions *a);

/* state.c: something kept in the file changed (m->state may be NULL). */
void mit_state_changed(struct mit *m);
/* An ExaBGP API route command that succeeded from src: marks the change. */
void mit_state_api(struct mit *m, enum mit_route_src src, const struct bgp_exa_cmd *c);

/* mit.c: the event to every subscriber (restored: see struct mit_event); type is what it is,
 * ev the attack it is about. */
void mit_emit(struct mit *m, enum mit_event_type type, const struct det_event *ev, const char *action,
	      bool restored);

#endif
