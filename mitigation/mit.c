/* The module's core: struct mit, the policy (mode per hostgroup, blackhole attributes, the one
 * "live" test) and the event stream. A ban is a blackhole route (RFC 7999) or a FlowSpec rule
 * (flowspec.c), per the hostgroup's mitigation, announced to every BGP peer, or only logged in
 * dry-run mode or when no BGP is configured; every event is a log line and goes to the
 * subscribers (storage's attack_events row, notify, webhook, local route). */
#include <event2/buffer.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bgp/exabgp.h"
#include "../lib/log.h"
#include "internal.h"

struct mit *mit_new(const struct mit_deps *d)
{
	struct mit *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->d = *d;
	m->conf = d->conf;
	m->routes = mit_routes_new();
	m->flowspec = mit_flowspec_new(m);
	m->holds = mit_holds_new();
	m->cmd = malloc(sizeof *m->cmd);
	if (!m->routes || !m->flowspec || !m->holds || !m->cmd) {
		mit_free(m);
		return NULL;
	}
	return m;
}

void mit_free(struct mit *m)
{
	if (!m)
		return;
	mit_routes_free(m->routes);
	mit_watchdogs_free(m->watchdogs);
	mit_flowspec_free(m->flowspec);
	mit_holds_free(m->holds);
	free(m->cmd);
	free(m);
}

bool mit_live(const struct mit *m)
{
	return m->d.bgp && !m->conf->mitigation.dry_run;
}

int mit_subscribe(struct mit *m, mit_event_fn fn, void *ctx)
{
	if (m->n_subs == MIT_MAX_SUBSCRIBERS)
		return -1;
	m->subs[m->n_subs].fn = fn;
	m->subs[m->n_subs].ctx = ctx;
	m->n_subs++;
	return 0;
}

int mit_replace_subscriber(struct mit *m, void *old_ctx, mit_event_fn fn, void *new_ctx)
{
	for (size_t i = 0; old_ctx && i < m->n_subs; i++) {
		if (m->subs[i].ctx != old_ctx)
			continue;
		if (new_ctx) {
			m->subs[i].fn = fn;
			m->subs[i].ctx = new_ctx;
		} else {
			memmove(&m->subs[i], &m->subs[i + 1], (m->n_subs - i - 1) * sizeof m->subs[0]);
			m->n_subs--;
		}
		return 0;
	}
	if (!new_ctx)
		return 0;
	if (m->n_subs == MIT_MAX_SUBSCRIBERS)
		return -1;
	memmove(&m->subs[1], &m->subs[0], m->n_subs * sizeof m->subs[0]);
	m->subs[0].fn = fn;
	m->subs[0].ctx = new_ctx;
	m->n_subs++;
	return 0;
}

void mit_set_networks(struct mit *m, struct det_networks *networks)
{
	m->d.networks = networks;
}

void mit_tick(struct mit *m, uint64_t now_ns)
{
	m->now_ns = now_ns;
	mit_holds_tick(m);
	mit_flowspec_tick(m->flowspec, now_ns);
}

void mit_stats(const struct mit *m, struct mit_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!m)
		return;
	out->announced = m->announced;
	out->withdrawn = m->withdrawn;
	out->events = m->events;
	out->routes = mit_routes_count(m);
	out->flowspec_rules = mit_flowspec_count(m->flowspec);
}

void mit_blackhole_attrs(const struct mit *m, const ip_prefix *p, struct bgp_route_attrs *out)
{
	const struct conf_mitigation *c = &m->conf->mitigation;
	memset(out, 0, sizeof *out);
	out->next_hop = ip_is_v4(&p->addr) ? c->next_hop_ipv4 : c->next_hop_ipv6;
	out->communities[out->n_communities++] = BGP_COMMUNITY_BLACKHOLE;
	out->communities[out->n_communities++] = BGP_COMMUNITY_NO_EXPORT;
	for (size_t i = 0; i < c->n_communities && out->n_communities < BGP_MAX_COMMUNITIES; i++) {
		uint32_t x = c->communities[i];
		if (x != BGP_COMMUNITY_BLACKHOLE && x != BGP_COMMUNITY_NO_EXPORT)
			out->communities[out->n_communities++] = x;
	}
}

static const char *trigger_name(const struct det_event *ev, char *buf, size_t len)
{
	if (ev->trigger_class == DET_TOTAL)
		snprintf(buf, len, "%s", det_metric_name(ev->trigger_metric));
	else
		snprintf(buf, len, "%s_%s", det_class_name(ev->trigger_class), det_metric_name(ev->trigger_metric));
	return buf;
}

/* The hostgroup's choice, or the global mitigation.action for groups that did not choose. */
static enum det_mitigation mode_of(const struct mit *m, const struct det_event *ev)
{
	enum det_mitigation mode = DET_MIT_DEFAULT;
	if (ev->hostgroup >= 0 && (size_t)ev->hostgroup < m->conf->detect.n_groups)
		mode = m->conf->detect.groups[ev->hostgroup].mitigation;
	return mode == DET_MIT_DEFAULT ? m->conf->mitigation.action : mode;
}

static const char *blackhole(struct mit *m, const struct det_event *ev, bool announce)
{
	char pfx[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->target, pfx);
	if (!mit_live(m)) {
		if (m->conf->mitigation.dry_run) {
			log_info("dry run: would %s blackhole %s", announce ? "announce" : "withdraw", pfx);
			return "dry-run";
		}
		log_info("no BGP configured: blackhole %s would be %s", pfx, announce ? "announced" : "withdrawn");
		return "none";
	}
	/* held per attack (holds.c), through the route table, which keeps detection's bans apart from
	 * the ExaBGP API's routes */
	if (announce)
		return mit_blackhole_hold(m, ev);
	const char *done = mit_blackhole_release(m, ev->attack_id);
	if (!done)
		log_warn("attack %" PRIu64 ": blackhole %s: was not announced", ev->attack_id, pfx);
	return done ? done : "blackhole";
}

/* What a BAN or UNBAN does here, for the log and the subscribers. */
static const char *mitigate(struct mit *m, const struct det_event *ev, bool announce)
{
	bool live = mit_live(m);
	if (announce) {
		enum det_mitigation mode = mode_of(m, ev);
		if ((mode == DET_MIT_FLOWSPEC || mode == DET_MIT_FLOWSPEC_THEN_BLACKHOLE) &&
		    mit_flowspec_ban(m->flowspec, ev, mode == DET_MIT_FLOWSPEC_THEN_BLACKHOLE)) {
			m->announced += live;
			return live ? "flowspec" : m->d.bgp ? "dry-run" : "none";
		}
		return blackhole(m, ev, true);
	}
	if (mit_flowspec_unban(m->flowspec, ev)) {
		m->withdrawn += live;
		return live ? "flowspec" : m->d.bgp ? "dry-run" : "none";
	}
	return blackhole(m, ev, false);
}

enum mit_event_type mit_event_type_of(enum det_event_type t)
{
	switch (t) {
	case DET_EV_ATTACK_DETECTED: return MIT_EV_DETECTED;
	case DET_EV_BAN: return MIT_EV_BAN;
	case DET_EV_BAN_REFUSED: return MIT_EV_BAN_REFUSED;
	case DET_EV_BAN_EXTENDED: return MIT_EV_BAN_EXTENDED;
	case DET_EV_UNBAN: return MIT_EV_UNBAN;
	case DET_EV_ESCALATE: return MIT_EV_ESCALATE;
	}
	return MIT_EV_DETECTED; /* not reached: every detection type is above (-Wswitch) */
}

const char *mit_event_name(enum mit_event_type t)
{
	switch (t) {
	case MIT_EV_DETECTED: return det_event_name(DET_EV_ATTACK_DETECTED);
	case MIT_EV_BAN: return det_event_name(DET_EV_BAN);
	case MIT_EV_BAN_REFUSED: return det_event_name(DET_EV_BAN_REFUSED);
	case MIT_EV_BAN_EXTENDED: return det_event_name(DET_EV_BAN_EXTENDED);
	case MIT_EV_UNBAN: return det_event_name(DET_EV_UNBAN);
	case MIT_EV_ESCALATE: return det_event_name(DET_EV_ESCALATE);
	case MIT_EV_NARROW: return "narrow";
	}
	return "?";
}

const char *mit_attack_mitigation(const struct mit *m, uint64_t attack_id, uint64_t *covering)
{
	*covering = 0;
	struct fs_rule r;
	bool escalate = false, blackholed = false, covered = false;
	if (mit_flowspec_attack_rule(m, attack_id, &r, &escalate, &blackholed))
		return blackholed ? "flowspec+blackhole" : "flowspec";
	if (mit_blackhole_state(m, attack_id, &covered, covering))
		return covered ? "covered" : "blackhole";
	return "";
}

void mit_emit(struct mit *m, enum mit_event_type type, const struct det_event *ev, const char *action,
	      bool restored)
{
	if (!m->n_subs)
		return;
	char trig[32], path[PATH_MAX];
	struct det_fingerprint fp;
	bool have_fp = (type == MIT_EV_BAN || type == MIT_EV_UNBAN || type == MIT_EV_ESCALATE || type == MIT_EV_NARROW) &&
		       m->d.engine && det_engine_fingerprint(m->d.engine, ev->attack_id, &fp) == 0;
	struct mit_event e = {
		.type = type,
		.ev = ev,
		.action = action,
		.hostgroup = ev->hostgroup >= 0 && (size_t)ev->hostgroup < m->conf->detect.n_groups
				     ? m->conf->detect.groups[ev->hostgroup].name
				     : "",
		.trigger = trigger_name(ev, trig, sizeof trig),
		.fp = have_fp ? &fp : NULL,
		.samples_path = "",
		.dry_run = m->conf->mitigation.dry_run,
		.restored = restored,
	};
	if (m->d.samples)
		e.samples_path = m->d.samples(m->d.samples_ctx, ev->attack_id, &ev->target, path, sizeof path,
					      &e.samples_packets);
	for (size_t i = 0; i < m->n_subs; i++)
		m->subs[i].fn(m->subs[i].ctx, &e);
}

void mit_on_detection_event(void *ctx, const struct det_event *ev)
{
	struct mit *m = ctx;
	const char *action = "";
	if (ev->type == DET_EV_BAN || ev->type == DET_EV_UNBAN || ev->type == DET_EV_BAN_EXTENDED ||
	    ev->type == DET_EV_ESCALATE)
		mit_state_changed(m); /* the ban state file, written off this path */
	if (ev->type == DET_EV_BAN)
		action = mitigate(m, ev, true);
	else if (ev->type == DET_EV_UNBAN)
		action = mitigate(m, ev, false);
	else if (ev->type == DET_EV_ESCALATE)
		action = blackhole(m, ev, true); /* beside the FlowSpec rule, which stays */

	char pfx[IP_PREFIX_STRLEN], trig[32];
	ip_prefix_format(&ev->target, pfx);
	trigger_name(ev, trig, sizeof trig);
	const double *r = ev->rates.v[ev->direction][DET_TOTAL];
	char inside[48] = "";
	if (ev->parent_attack_id)
		snprintf(inside, sizeof inside, " (inside attack %" PRIu64 ")", ev->parent_attack_id);
	log_info("attack %" PRIu64 ": %s %s %s%s%s: %s %.0f (limit %.0f), %.0f pps %.1f Mbit/s %.0f flows/s%s%s",
		 ev->attack_id, det_event_name(ev->type), pfx, det_direction_name(ev->direction),
		 ev->manual ? " (manual)" : "", inside, trig, ev->trigger_value, ev->trigger_limit, r[DET_PPS],
		 r[DET_BPS] / 1e6, r[DET_FLOWS], ev->reason ? ": " : "", ev->reason ? ev->reason : "");
	m->events++;
	mit_emit(m, mit_event_type_of(ev->type), ev, action, false); /* dry run too: an event is not an announcement */
}
