/* Mitigation: what a detection event, an operator command or an ExaBGP API line makes rampartd
 * announce, and the single owner of every mitigation.
 *
 * It holds one record per attack (its mode, FlowSpec rule, whether the rule was refined from
 * the fingerprint, escalated, blackholed), the routes table with the source that holds each
 * route (detection, operator, ExaBGP API, ExaBGP process), the FlowSpec rules with their owner
 * (attacks, the ExaBGP API, operators), the policy (mode per hostgroup, blackhole attributes,
 * and mit_live(): whether anything is sent at all) and the ban state file that carries it all
 * across a restart (state.h). Every detection event (detected, ban, unban, ...) goes out again,
 * once mitigation acted on it, with mitigation's own steps (escalate, narrow) as one event
 * stream (struct mit_event) to subscribers: storage's attack_events rows, the notify script,
 * the webhook, the local netlink route.
 *
 * Arrows: detect, bgp, flowspec and conf come in; nothing here knows the API or the daemon's
 * wiring. The clock is handed in (mit_tick, mit_state_load): a replayed capture's clock is not
 * the wall clock.
 *
 * Threads: the main loop only, like the BGP speaker it drives. The ban state file's writer
 * thread is internal (state.c). */
#ifndef RAMPART_MIT_H
#define RAMPART_MIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bgp/bgp.h"
#include "../conf/conf.h"
#include "../detect/det.h"
#include "../flowspec/fs.h"

struct event_base;
struct evbuffer;
struct mit;

/* Who holds a route: detection (the bans, manual ones too), an operator (ExaBGP lines typed on
 * the control socket or sent to HTTP's command), the ExaBGP API (its named pipe, where
 * FastNetMon writes) and the ExaBGP process (api.exabgp_process, whose routes go when it
 * exits). Each source's routes stay apart from the others' on the same prefix (routes.c says
 * how conflicts resolve). The ban state file keeps its own words for the two it saves
 * (state_file.c: "socket", "pipe"), so a file stays readable by every version. */
enum mit_route_src { MIT_SRC_DETECT, MIT_SRC_OPERATOR, MIT_SRC_API, MIT_SRC_PROCESS, MIT_SRC_MAX };
const char *mit_route_src_name(enum mit_route_src s); /* "detection", "operator", "api", "process" */

/* Where an attack's sample packets go (the daemon's attack sample files): writes the path into
 * path and the packets written so far into *packets; returns path, "" when there is none. */
typedef const char *(*mit_samples_fn)(void *ctx, uint64_t attack_id, const ip_prefix *target, char *path,
				      size_t len, uint64_t *packets);

/* What mitigation is given; it owns none of it and keeps the pointers. */
struct mit_deps {
	const struct rampart_conf *conf; /* mitigation, detect.groups, bgp.peers, api */
	struct event_base *base;         /* the main loop: the state file's timer */
	struct bgp_speaker *bgp;         /* NULL when there is no bgp section */
	struct det_networks *networks;
	struct det_engine *engine;       /* fingerprints, bans to restore and to escalate */
	bool replay;                     /* --pcap: the clock is the capture's, no state file */
	mit_samples_fn samples;          /* NULL: no sample files */
	void *samples_ctx;
};

/* NULL out of memory. The configured FlowSpec rules are not added here (mit_flowspec_add with
 * from_config), so that the caller can report which one was refused. */
struct mit *mit_new(const struct mit_deps *d);
/* Frees the tables; the state file must have been closed (mit_state_close) first. */
void mit_free(struct mit *m);

/* The one "is anything sent" test: a BGP speaker is configured and mitigation.dry_run is off.
 * Everything that would announce or withdraw asks this and only logs what it would do when
 * it is false. */
bool mit_live(const struct mit *m);

/* The route attributes of a blackhole for prefix (RFC 7999 community, NO_EXPORT, configured). */
void mit_blackhole_attrs(const struct mit *m, const ip_prefix *p, struct bgp_route_attrs *out);

/* ---- the event stream ----------------------------------------------------------------------- */

/* What an event is: a detection event as the engine made it, or one of mitigation's own steps
 * for an attack it already mitigates (ESCALATE: the blackhole beside a FlowSpec rule that did
 * not stop it; NARROW: the FlowSpec rule replaced by a narrower one built from the attack's
 * fingerprint, make before break). */
enum mit_event_type {
	MIT_EV_DETECTED,
	MIT_EV_BAN,
	MIT_EV_BAN_REFUSED,
	MIT_EV_BAN_EXTENDED,
	MIT_EV_UNBAN,
	MIT_EV_ESCALATE,
	MIT_EV_NARROW,
};
/* The name rows, scripts and webhooks carry: det_event_name's ("attack_detected", "ban", ...,
 * "escalate") and "narrow". */
const char *mit_event_name(enum mit_event_type t);
/* The type of a detection event as the stream carries it. */
enum mit_event_type mit_event_type_of(enum det_event_type t);

/* One event after mitigation acted on it. Pointers are valid during the callback only. */
struct mit_event {
	enum mit_event_type type;
	const struct det_event *ev; /* the attack as an event: for NARROW built from its ban (type,
				       rates, ban time left), so only `type` above says what happened */
	const char *action;      /* what mitigation did: blackhole, flowspec, dry-run, none, failed; "" for
				    events that announce nothing; NARROW: flowspec, or dry-run */
	const char *hostgroup;   /* its name, "" when none */
	const char *trigger;     /* CLASS_METRIC ("udp_pps") or METRIC for the total ("total_bps") */
	const struct det_fingerprint *fp; /* BAN, UNBAN, ESCALATE, NARROW: the engine's fingerprint;
					     NULL when none */
	const char *samples_path; /* the attack's sample file, "" when none */
	uint64_t samples_packets; /* written to it so far */
	bool dry_run;            /* mitigation.dry_run */
	bool restored;           /* a ban put back from the state file at start: what lives outside BGP
				    (the kernel route) is redone; no row, no notification */
};
typedef void (*mit_event_fn)(void *ctx, const struct mit_event *e);
#define MIT_MAX_SUBSCRIBERS 8
/* fn gets every event from now on, in subscription order; -1 past MIT_MAX_SUBSCRIBERS. */
int mit_subscribe(struct mit *m, mit_event_fn fn, void *ctx);
/* Reload: the subscriber old_ctx gets replaced by (fn, new_ctx) in its place; new_ctx NULL
 * removes it; old_ctx NULL (or not found) puts (fn, new_ctx) first, before the others (the
 * actions come before storage's row). -1 past MIT_MAX_SUBSCRIBERS. */
int mit_replace_subscriber(struct mit *m, void *old_ctx, mit_event_fn fn, void *new_ctx);
/* Reload: the monitored networks FlowSpec targets and restored bans are checked against. */
void mit_set_networks(struct mit *m, struct det_networks *networks);

/* ---- driving it ---------------------------------------------------------------------------- */

/* The engine's event callback (det_engine_tick, det_engine_ban, det_engine_unban; ctx is the
 * struct mit): a BAN becomes a blackhole or FlowSpec rule per the hostgroup's mode, an UNBAN
 * withdraws it, an ESCALATE adds the blackhole; every event is logged and goes to the
 * subscribers. */
void mit_on_detection_event(void *m, const struct det_event *ev);
/* After each engine tick, now_ns the capture clock: narrows FlowSpec rules to the attacks'
 * fingerprints (a NARROW event each) and escalates flowspec-then-blackhole attacks still over
 * their threshold (an ESCALATE event each). */
void mit_tick(struct mit *m, uint64_t now_ns);

/* What is out for attack_id now: "blackhole", "flowspec", "flowspec+blackhole", "covered" (a
 * blackhole inside the blackhole of its covering attack, *covering: nothing of its own is
 * announced until that one ends), or "" (nothing: refused, ended, dry run, no BGP). */
const char *mit_attack_mitigation(const struct mit *m, uint64_t attack_id, uint64_t *covering);

struct mit_stats {
	uint64_t announced, withdrawn; /* BGP announcements and withdrawals mitigation made */
	uint64_t events;               /* detection events handled */
	size_t routes;                 /* prefixes in the routes table */
	size_t flowspec_rules;         /* attacks' FlowSpec rules out */
};
void mit_stats(const struct mit *m, struct mit_stats *out);

/* ---- routes by source (routes.c) ----------------------------------------------------------- */

size_t mit_routes_count(const struct mit *m);
/* src wants p announced (attrs are ignored for MIT_SRC_DETECT: its blackhole attributes apply);
 * tells the speaker when what is announced changes. -1 out of memory or the speaker refused. */
int mit_route_add(struct mit *m, enum mit_route_src src, const ip_prefix *p, const struct bgp_route_attrs *attrs);
/* src lets go of p: withdrawn when no source holds it any more. -1 when src did not hold it. */
int mit_route_del(struct mit *m, enum mit_route_src src, const ip_prefix *p);
size_t mit_route_del_all(struct mit *m, enum mit_route_src src);
/* The same for some peers only (ExaBGP's `neighbor X announce|withdraw`); mit_route_add/del are
 * these with BGP_PEERS_ALL. The latest API announce's attributes apply per peer. */
int mit_route_add_to(struct mit *m, enum mit_route_src src, const ip_prefix *p, const struct bgp_route_attrs *attrs,
		     bgp_peer_set peers);
int mit_route_del_from(struct mit *m, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers);
/* `rampartctl routes`: every route, its sources and attributes. */
void mit_routes_list(const struct mit *m, struct evbuffer *out);
/* Reload: the peer sets held per source follow the peers to their places in the new list
 * (map[old index] = new index, -1 when removed; a set of every peer stays every peer). The
 * speaker keeps each kept peer's view, so nothing is sent. */
void mit_routes_remap_peers(struct mit *m, const int *map, size_t n_old);

/* ---- FlowSpec rules (flowspec.c) ----------------------------------------------------------- */

/* Operator rules (configuration, rampartctl flowspec add): announced and kept until deleted.
 * Refused (-1, why set) when the destination is missing or not monitored, or past the cap. */
int mit_flowspec_add(struct mit *m, const struct fs_rule *r, const struct fs_actions *a, bool from_config, char *why,
		     size_t whylen);
int mit_flowspec_del(struct mit *m, const struct fs_rule *r);
/* Every rule out: the operators', then the attacks'. */
void mit_flowspec_list(const struct mit *m, struct evbuffer *out);
/* The narrowest rule for an attack on target in direction dir with fingerprint fp; returns how
 * many components beside the prefix it has. */
int mit_flowspec_rule_for_attack(const ip_prefix *target, enum det_direction dir, const struct det_fingerprint *fp,
				 struct fs_rule *r);
/* The rule out for attack_id, and whether it escalates / already did; false when none. */
bool mit_flowspec_attack_rule(const struct mit *m, uint64_t attack_id, struct fs_rule *r, bool *escalate,
			      bool *blackholed);

/* ---- the ExaBGP API (exabgp.c) ------------------------------------------------------------- */

/* One ExaBGP API line (bgp/exabgp.h) from src, carried out: routes into the routes table as
 * src's, flow routes to the speaker; under dry run refused as a live speaker would refuse it,
 * logged and not sent. 0 and nothing in out ("done"), or -1 with the reason in out. */
int mit_exabgp_command(struct mit *m, enum mit_route_src src, const char *line, struct evbuffer *out);
/* A hint from a reader that has line (NUL-terminated) some lines before it hands it to
 * mit_exabgp_command: for an `announce|withdraw route P` line, P's places in the routes table and
 * the RIB-out are fetched into the cache, so the command finds them there. Changes nothing; any
 * other line costs a few compares. */
void mit_exabgp_prefetch(const struct mit *m, const char *line);

#endif
