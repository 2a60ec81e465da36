/* FlowSpec mitigation: an attack becomes the narrowest rule that covers it (RFC 8955/8956), so
 * the router drops the attack and not the customer.
 *
 * At the ban the rule is built from what is known then (the rates' class mix: "UDP to this
 * host"), because the ban never waits. Each tick after that, once the attack's fingerprint has
 * counted real records, the rule is rebuilt from it ("UDP from port 123 to this host") and, when
 * it is narrower, announced before the broad one is withdrawn, so there is no gap. With
 * flowspec-then-blackhole, an attack still over its threshold escalate_after seconds after its
 * rule went out gets the blackhole as well. Rules are capped (max_rules); past the cap, or for a
 * target outside the monitored networks, the attack falls back to the blackhole.
 *
 * The FlowSpec rules out have three owners, each kept here: the attacks' (one per attack), the
 * operators' (configuration and rampartctl flowspec add) and the ExaBGP API's (`announce flow
 * route` from the socket, the pipe or a process). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "../bgp/exabgp.h"
#include "../bgp/flow_rib.h"
#include "../lib/buf.h"
#include "../lib/log.h"
#include "internal.h"

struct flow_entry {
	uint64_t attack_id; /* 0 = free slot */
	ip_prefix target;
	enum det_direction direction;
	struct fs_rule rule;
	uint64_t since_ns;   /* capture clock when the rule went out */
	bool refined;        /* built from counted records, not from rates */
	bool escalate;       /* flowspec-then-blackhole */
	bool blackholed;     /* escalated: the blackhole is out too */
};

/* A rule an operator put there: from the configuration or rampartctl flowspec add. */
struct operator_rule {
	struct fs_rule rule;
	struct fs_actions actions;
	bool used;
	bool from_config;
};

/* A rule the ExaBGP API announced: the control socket's or the named pipe's (a process's rules
 * are sent again by the process after a restart, so they are not kept). */
struct api_rule {
	enum mit_route_src src;
	struct fs_rule rule;
	struct fs_actions actions;
};

struct mit_flowspec {
	struct mit *m;
	struct operator_rule *op; /* cap long */
	size_t n_op;
	struct flow_entry *e;
	size_t cap;
	size_t used;
	struct log_once cap_log;
	struct det_ban_info *bans; /* scratch for the escalation check, max_bans long */
	size_t max_bans;
	struct api_rule *api; /* the ExaBGP API's rules from the socket and the pipe */
	size_t n_api, cap_api;
};

/* ---- attack -> rule ---------------------------------------------------------------------- */

static uint16_t amp_port(enum det_attack_kind k)
{
	switch (k) {
	case DET_KIND_AMP_DNS: return 53;
	case DET_KIND_AMP_NTP: return 123;
	case DET_KIND_AMP_SSDP: return 1900;
	case DET_KIND_AMP_MEMCACHED: return 11211;
	case DET_KIND_AMP_CLDAP: return 389;
	case DET_KIND_AMP_SNMP: return 161;
	case DET_KIND_AMP_CHARGEN: return 19;
	case DET_KIND_AMP_WSD: return 3702;
	default: return 0;
	}
}

/* The top port when it carries at least half of the attack's packets for sure (its guaranteed
 * minimum, not the summary's upper bound): narrow enough to name, common enough that the rule
 * still covers most of the attack. */
static bool dominant_port(const struct det_fp_port *top, uint8_t n, uint64_t packets, uint16_t *port)
{
	if (n == 0 || packets == 0 || (top[0].packets - top[0].error) * 2 < packets)
		return false;
	*port = top[0].port;
	return true;
}

int mit_flowspec_rule_for_attack(const ip_prefix *target, enum det_direction dir, const struct det_fingerprint *fp,
			    struct fs_rule *r)
{
	bool v4 = ip_is_v4(&target->addr);
	fs_rule_init(r, v4 ? FS_AFI_IPV4 : FS_AFI_IPV6);
	struct fs_prefix *side = dir == DET_IN ? &r->dst : &r->src;
	side->p = *target;
	side->offset = 0;
	r->present |= 1u << (dir == DET_IN ? FS_DST : FS_SRC);

	uint16_t port;
	bool ports = !fp->from_rates;
	switch (fp->kind) {
	case DET_KIND_SYN_FLOOD:
		fs_rule_add(r, FS_PROTO, FS_OP_EQ, 6);
		fs_rule_add(r, FS_TCP_FLAGS, FS_OP_MATCH, FS_TCP_SYN);
		fs_rule_add(r, FS_TCP_FLAGS, FS_OP_AND | FS_OP_NOT, FS_TCP_ACK);
		if (ports && dominant_port(fp->dst_ports, fp->n_dst_ports, fp->packets, &port))
			fs_rule_add(r, FS_DPORT, FS_OP_EQ, port);
		break;
	case DET_KIND_ACK_RST_FLOOD:
		fs_rule_add(r, FS_PROTO, FS_OP_EQ, 6);
		fs_rule_add(r, FS_TCP_FLAGS, 0, FS_TCP_ACK | FS_TCP_RST);
		fs_rule_add(r, FS_TCP_FLAGS, FS_OP_AND | FS_OP_NOT, FS_TCP_SYN);
		break;
	case DET_KIND_TCP_FLOOD:
		fs_rule_add(r, FS_PROTO, FS_OP_EQ, 6);
		if (ports && dominant_port(fp->dst_ports, fp->n_dst_ports, fp->packets, &port))
			fs_rule_add(r, FS_DPORT, FS_OP_EQ, port);
		break;
	case DET_KIND_UDP_FLOOD:
		fs_rule_add(r, FS_PROTO, FS_OP_EQ, 17);
		if (ports && dominant_port(fp->dst_ports, fp->n_dst_ports, fp->packets, &port))
			fs_rule_add(r, FS_DPORT, FS_OP_EQ, port);
		if (ports && dominant_port(fp->src_ports, fp->n_src_ports, fp->packets, &port))
			fs_rule_add(r, FS_SPORT, FS_OP_EQ, port);
		break;
	case DET_KIND_ICMP_FLOOD:
		fs_rule_add(r, FS_PROTO, FS_OP_EQ, v4 ? 1 : 58);
		break;
	case DET_KIND_FRAGMENTS:
		/* first and later fragments alike: a flood of either is the attack */
		fs_rule_add(r, FS_FRAGMENT, 0, FS_FRAG_ISF | FS_FRAG_FF);
		break;
	default:
		if (amp_port(fp->kind)) {
			fs_rule_add(r, FS_PROTO, FS_OP_EQ, 17);
			fs_rule_add(r, FS_SPORT, FS_OP_EQ, amp_port(fp->kind));
		}
		/* unknown: the whole host, as a blackhole would, but only at routers that take the rule */
		break;
	}
	/* the remote end only when it is proven to send (or get) half the attack: a source match on
	 * a random-source flood's top-K entry would drop one packet in thousands. Else its /24 (/64)
	 * under the same bound: a spoofed or botnet flood from one network, no host of it heavy */
	ip_addr peer;
	ip_prefix remote;
	bool matched = false;
	if (det_fp_heavy_peer(fp, &peer) && ip_is_v4(&peer) == v4) {
		ip_prefix_host(&remote, &peer);
		matched = true;
	} else if (det_fp_heavy_peer_prefix(fp, &remote) && ip_is_v4(&remote.addr) == v4) {
		matched = true;
	}
	int n = 0;
	if (matched) {
		struct fs_prefix *other = dir == DET_IN ? &r->src : &r->dst;
		other->p = remote;
		other->offset = 0;
		r->present |= 1u << (dir == DET_IN ? FS_SRC : FS_DST);
		n++;
	}
	/* components added = how narrow it is; a refined rule is only worth a swap if narrower */
	for (int t = FS_PROTO; t <= FS_TYPE_MAX; t++)
		n += fs_rule_has(r, (enum fs_type)t);
	return n;
}

/* ---- the table ------------------------------------------------------------------------------ */

struct mit_flowspec *mit_flowspec_new(struct mit *m)
{
	struct mit_flowspec *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->cap = m->conf->mitigation.flowspec_max_rules;
	f->max_bans = m->conf->mitigation.max_bans;
	f->e = calloc(f->cap ? f->cap : 1, sizeof *f->e);
	f->bans = calloc(f->max_bans ? f->max_bans : 1, sizeof *f->bans);
	f->op = calloc(f->cap ? f->cap : 1, sizeof *f->op);
	if (!f->e || !f->bans || !f->op) {
		free(f->op);
		free(f->e);
		free(f->bans);
		free(f);
		return NULL;
	}
	f->m = m;
	return f;
}

void mit_flowspec_free(struct mit_flowspec *f)
{
	if (!f)
		return;
	free(f->e);
	free(f->bans);
	free(f->op);
	free(f->api);
	free(f);
}

static struct flow_entry *find(struct mit_flowspec *f, uint64_t attack_id)
{
	for (size_t i = 0; i < f->cap; i++)
		if (f->e[i].attack_id == attack_id)
			return &f->e[i];
	return NULL;
}

static bool announce_with(struct mit *m, const struct fs_rule *r, const struct fs_actions *a, char *why,
			  size_t whylen);

static void actions(const struct mit *m, struct fs_actions *a)
{
	memset(a, 0, sizeof *a);
	a->present = FS_ACT_RATE;
	/* traffic-rate is bytes per second; 0 discards */
	a->rate = (float)((double)m->conf->mitigation.flowspec_rate_limit_mbps * 1e6 / 8);
}

static bool announce_with(struct mit *m, const struct fs_rule *r, const struct fs_actions *a, char *why,
			  size_t whylen)
{
	char text[1024];
	fs_text_format(r, a, text, sizeof text);
	if (!mit_live(m)) {
		log_info("%s: would announce flowspec rule: %s", m->d.bgp ? "dry run" : "no BGP configured", text);
		return true;
	}
	struct fs_err err = {{0}};
	if (bgp_announce_flow(m->d.bgp, r, a, &err) != 0) {
		log_err("flowspec rule %s: not announced: %s", text, err.msg);
		if (why)
			snprintf(why, whylen, "%s", err.msg);
		return false;
	}
	log_info("flowspec rule announced: %s", text);
	return true;
}

static bool announce(struct mit *m, const struct fs_rule *r)
{
	struct fs_actions a;
	actions(m, &a);
	return announce_with(m, r, &a, NULL, 0);
}

static void withdraw(struct mit *m, const struct fs_rule *r)
{
	char text[512];
	fs_text_format(r, NULL, text, sizeof text);
	if (!mit_live(m)) {
		log_info("%s: would withdraw flowspec rule: %s", m->d.bgp ? "dry run" : "no BGP configured", text);
		return;
	}
	if (bgp_withdraw_flow(m->d.bgp, r) != 0)
		log_warn("flowspec rule %s: was not announced", text);
	else
		log_info("flowspec rule withdrawn: %s", text);
}

/* The rule for ev's attack goes out; false when it cannot (cap, target not monitored, the
 * speaker refused), and the caller blackholes instead. */
bool mit_flowspec_ban(struct mit_flowspec *f, const struct det_event *ev, bool escalate)
{
	struct mit *m = f->m;
	char pfx[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->target, pfx);
	if (det_networks_lookup(m->d.networks, &ev->target.addr) < 0) {
		log_warn("attack %" PRIu64 ": no flowspec rule for %s: not in the monitored networks", ev->attack_id, pfx);
		return false;
	}
	if (f->used >= f->cap) {
		log_once(&f->cap_log, "attack %" PRIu64 ": flowspec rule cap (mitigation.flowspec.max_rules %zu) "
				 "reached: %s is blackholed instead", ev->attack_id, f->cap, pfx);
		return false;
	}
	struct det_fingerprint fp;
	if (det_engine_fingerprint(m->d.engine, ev->attack_id, &fp) != 0) {
		memset(&fp, 0, sizeof fp);
		fp.from_rates = true;
	}
	struct flow_entry *e = find(f, 0);
	mit_flowspec_rule_for_attack(&ev->target, ev->direction, &fp, &e->rule);
	if (!announce(m, &e->rule))
		return false;
	e->attack_id = ev->attack_id;
	e->target = ev->target;
	e->direction = ev->direction;
	e->since_ns = ev->time_ns;
	e->refined = !fp.from_rates;
	e->escalate = escalate;
	e->blackholed = false;
	f->used++;
	return true;
}

/* Withdraws the attack's rule (and its escalation blackhole); false when it had none. */
bool mit_flowspec_unban(struct mit_flowspec *f, const struct det_event *ev)
{
	struct flow_entry *e = find(f, ev->attack_id);
	if (!e)
		return false;
	withdraw(f->m, &e->rule);
	if (e->blackholed && mit_live(f->m))
		mit_blackhole_release(f->m, e->attack_id);
	memset(e, 0, sizeof *e);
	f->used--;
	return true;
}

static bool still_over(const struct det_ban_info *b)
{
	return b->rates.v[b->direction][b->trigger_class][b->trigger_metric] > b->trigger_limit;
}

static const struct det_ban_info *ban_of(const struct det_ban_info *bans, size_t n, uint64_t attack_id)
{
	for (size_t i = 0; i < n; i++)
		if (bans[i].attack_id == attack_id)
			return &bans[i];
	return NULL;
}

/* The ban of attack_id among the engine's, fetched once per tick when the first check needs it
 * (*n_bans SIZE_MAX until then); NULL when it has none. */
static const struct det_ban_info *tick_ban(struct mit_flowspec *f, size_t *n_bans, uint64_t attack_id)
{
	if (*n_bans == SIZE_MAX) {
		*n_bans = det_engine_bans(f->m->d.engine, f->bans, f->max_bans);
		if (*n_bans > f->max_bans)
			*n_bans = f->max_bans;
	}
	return ban_of(f->bans, *n_bans, attack_id);
}

static uint32_t ban_seconds_left(const struct det_ban_info *b, uint64_t now)
{
	uint64_t left = b->until_ns > now ? (b->until_ns - now) / 1000000000ull : 0;
	return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

void mit_flowspec_tick(struct mit_flowspec *f, uint64_t now)
{
	struct mit *m = f->m;
	if (!f->used)
		return;
	size_t n_bans = SIZE_MAX;
	for (size_t i = 0; i < f->cap; i++) {
		struct flow_entry *e = &f->e[i];
		if (!e->attack_id)
			continue;
		struct det_fingerprint fp;
		if (!e->refined && det_engine_fingerprint(m->d.engine, e->attack_id, &fp) == 0 && !fp.from_rates &&
		    fp.packets > 0) {
			struct fs_rule narrower;
			mit_flowspec_rule_for_attack(&e->target, e->direction, &fp, &narrower);
			e->refined = true;
			if (!fs_rule_equal(&narrower, &e->rule) && announce(m, &narrower)) {
				withdraw(m, &e->rule); /* make before break */
				e->rule = narrower;
				mit_state_changed(m);
				log_info("attack %" PRIu64 ": flowspec rule narrowed to the attack's fingerprint (%s)",
					 e->attack_id, det_attack_kind_name(fp.kind));
				/* a step of the mitigation like an escalation: its attack_events row, notify
				 * and webhook come from the event */
				const struct det_ban_info *b = tick_ban(f, &n_bans, e->attack_id);
				if (b) {
					struct det_event ev = det_event_of_ban(b, DET_EV_BAN, now, ban_seconds_left(b, now),
									       "flowspec rule narrowed to the attack's fingerprint");
					mit_emit(m, MIT_EV_NARROW, &ev, mit_live(m) ? "flowspec" : m->d.bgp ? "dry-run" : "none",
						 false);
				}
			}
		}
		uint64_t after = (uint64_t)m->conf->mitigation.flowspec_escalate_after_s * 1000000000ull;
		if (e->escalate && !e->blackholed && now >= e->since_ns + after) {
			const struct det_ban_info *b = tick_ban(f, &n_bans, e->attack_id);
			if (b && still_over(b)) {
				char pfx[IP_PREFIX_STRLEN];
				log_warn("attack %" PRIu64 ": %s still over its threshold %u s after the flowspec rule: "
					 "blackholing it too", e->attack_id, ip_prefix_format(&e->target, pfx),
					 m->conf->mitigation.flowspec_escalate_after_s);
				e->blackholed = true;
				/* one path for every mitigation step: the blackhole, the attack_events
				 * row, notify and webhook all come from the event */
				struct det_event ev = det_event_of_ban(b, DET_EV_ESCALATE, now, ban_seconds_left(b, now),
								       "flowspec rule did not stop the attack");
				mit_on_detection_event(m, &ev);
			}
		}
	}
}

size_t mit_flowspec_count(const struct mit_flowspec *f)
{
	return f ? f->used : 0;
}

/* ---- operator rules ------------------------------------------------------------------------ */

static struct operator_rule *find_op(struct mit_flowspec *f, const struct fs_rule *r)
{
	for (size_t i = 0; i < f->cap; i++)
		if (f->op[i].used && fs_rule_equal(&f->op[i].rule, r))
			return &f->op[i];
	return NULL;
}

int mit_flowspec_add(struct mit *m, const struct fs_rule *r, const struct fs_actions *a, bool from_config, char *why,
		     size_t whylen)
{
	struct mit_flowspec *f = m->flowspec;
	/* the same promise as for detection's rules: we only ever filter traffic to our own hosts */
	if (!fs_rule_has(r, FS_DST) || det_networks_lookup(m->d.networks, &r->dst.p.addr) < 0) {
		snprintf(why, whylen, "a rule needs a destination inside the monitored networks");
		return -1;
	}
	struct operator_rule *o = find_op(f, r);
	if (!o) {
		if (f->n_op >= f->cap) {
			snprintf(why, whylen, "mitigation.flowspec.max_rules (%zu) operator rules already", f->cap);
			return -1;
		}
		for (size_t i = 0; i < f->cap && !o; i++)
			if (!f->op[i].used)
				o = &f->op[i];
		f->n_op++;
	}
	bool was_config = o->used && o->from_config;
	o->rule = *r;
	o->actions = *a;
	o->used = true;
	o->from_config = from_config || was_config; /* a config rule stays one */
	if (!announce_with(f->m, r, a, why, whylen)) {
		memset(o, 0, sizeof *o);
		f->n_op--;
		return -1;
	}
	if (!o->from_config)
		mit_state_changed(f->m);
	return 0;
}

int mit_flowspec_del(struct mit *m, const struct fs_rule *r)
{
	struct mit_flowspec *f = m->flowspec;
	struct operator_rule *o = find_op(f, r);
	if (!o)
		return -1;
	withdraw(f->m, &o->rule);
	memset(o, 0, sizeof *o);
	f->n_op--;
	mit_state_changed(f->m);
	return 0;
}

/* ---- the ban state file (state.c) ------------------------------------------------------- */

size_t mit_flowspec_cap(const struct mit_flowspec *f)
{
	return f->cap;
}

bool mit_flowspec_operator_rule(const struct mit_flowspec *f, size_t i, struct fs_rule *r, struct fs_actions *a)
{
	if (i >= f->cap || !f->op[i].used || f->op[i].from_config)
		return false;
	*r = f->op[i].rule;
	*a = f->op[i].actions;
	return true;
}

bool mit_flowspec_attack_rule(const struct mit *m, uint64_t attack_id, struct fs_rule *r, bool *escalate,
			      bool *blackholed)
{
	struct flow_entry *e = attack_id ? find(m->flowspec, attack_id) : NULL;
	if (!e)
		return false;
	*r = e->rule;
	*escalate = e->escalate;
	*blackholed = e->blackholed;
	return true;
}

bool mit_flowspec_restore(struct mit_flowspec *f, const struct det_event *ev, const struct fs_rule *r, bool escalate,
			bool blackholed)
{
	struct mit *m = f->m;
	if (!ev->attack_id || find(f, ev->attack_id) || f->used >= f->cap || !announce(m, r))
		return false;
	struct flow_entry *e = find(f, 0);
	e->attack_id = ev->attack_id;
	e->target = ev->target;
	e->direction = ev->direction;
	e->rule = *r;
	e->since_ns = ev->time_ns;
	e->refined = true; /* it is the rule that was out: no second narrowing */
	e->escalate = escalate;
	e->blackholed = blackholed;
	f->used++;
	if (blackholed && mit_live(m))
		mit_blackhole_hold(m, ev);
	return true;
}

void mit_flowspec_list(const struct mit *m, struct evbuffer *out)
{
	const struct mit_flowspec *f = m->flowspec;
	char text[1024];
	size_t n = 0;
	for (size_t i = 0; i < f->cap; i++) {
		const struct operator_rule *o = &f->op[i];
		if (!o->used)
			continue;
		fs_text_format(&o->rule, &o->actions, text, sizeof text);
		evbuffer_add_printf(out, "%-9s %s\n", o->from_config ? "config" : "operator", text);
		n++;
	}
	struct fs_actions a;
	actions(f->m, &a);
	for (size_t i = 0; i < f->cap; i++) {
		const struct flow_entry *e = &f->e[i];
		if (!e->attack_id)
			continue;
		fs_text_format(&e->rule, &a, text, sizeof text);
		evbuffer_add_printf(out, "attack %-2" PRIu64 " %s%s\n", e->attack_id, text, e->blackholed ? " (and blackholed)" : "");
		n++;
	}
	evbuffer_add_printf(out, "%zu flowspec rules\n", n);
}

/* ---- the ExaBGP API's rules ------------------------------------------------------------------ */

static int api_send(struct mit *m, const struct bgp_exa_cmd *c, struct evbuffer *out)
{
	if (!m->d.bgp) {
		evbuffer_add_printf(out, "no bgp section: there is no speaker to announce the rule\n");
		return -1;
	}
	struct fs_err err = {{0}};
	if (!mit_live(m)) {
		/* Refused exactly as a live speaker would refuse it, so a dry run tells the operator
		 * whether the rule would go; then nothing is sent. */
		uint8_t nlri[FS_NLRI_MAX + 2], ext[BGP_FLOW_EXT_MAX], ext6[BGP_FLOW_EXT6_MAX];
		struct wbuf wn = wbuf_init(nlri, sizeof nlri), we = wbuf_init(ext, sizeof ext),
			    we6 = wbuf_init(ext6, sizeof ext6);
		if (c->verb == BGP_EXA_ANNOUNCE &&
		    (!fs_nlri_encode(&c->flow, &wn, &err) || !fs_actions_encode(&c->flow_actions, &we, &err) ||
		     !fs_actions_encode6(&c->flow_actions, &we6, &err))) {
			evbuffer_add_printf(out, "flow route refused: %s\n", err.msg);
			return -1;
		}
		char text[8192];
		fs_text_format(&c->flow, c->verb == BGP_EXA_ANNOUNCE ? &c->flow_actions : NULL, text, sizeof text);
		log_info("dry run: would %s flow route %s", c->verb == BGP_EXA_ANNOUNCE ? "announce" : "withdraw",
			 text);
		return 0;
	}
	if (c->verb == BGP_EXA_WITHDRAW) {
		bgp_withdraw_flow(m->d.bgp, &c->flow); /* idempotent, like ExaBGP */
		return 0;
	}
	if (bgp_announce_flow(m->d.bgp, &c->flow, &c->flow_actions, &err) != 0) {
		evbuffer_add_printf(out, "flow route refused: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static struct api_rule *api_find(struct mit_flowspec *f, const struct fs_rule *r)
{
	for (size_t i = 0; i < f->n_api; i++)
		if (fs_rule_equal(&f->api[i].rule, r))
			return &f->api[i];
	return NULL;
}

int mit_flowspec_api(struct mit *m, enum mit_route_src src, const struct bgp_exa_cmd *c, struct evbuffer *out)
{
	if (api_send(m, c, out) != 0)
		return -1;
	struct mit_flowspec *f = m->flowspec;
	struct api_rule *r = api_find(f, &c->flow);
	if (c->verb == BGP_EXA_WITHDRAW) {
		if (r) {
			*r = f->api[--f->n_api];
			mit_state_changed(m);
		}
		return 0;
	}
	if (src != MIT_SRC_OPERATOR && src != MIT_SRC_API)
		return 0;
	if (!r) {
		if (f->n_api == f->cap_api) {
			size_t cap = f->cap_api ? f->cap_api * 2 : 16;
			struct api_rule *n = realloc(f->api, cap * sizeof *n);
			if (!n) {
				log_err("flowspec: out of memory: a flow rule from the %s is not kept across a restart",
					mit_route_src_name(src));
				return 0;
			}
			f->api = n;
			f->cap_api = cap;
		}
		r = &f->api[f->n_api++];
	}
	r->src = src;
	r->rule = c->flow;
	r->actions = c->flow_actions;
	mit_state_changed(m);
	return 0;
}

bool mit_flowspec_api_rule(const struct mit_flowspec *f, size_t i, enum mit_route_src *src, struct fs_rule *r,
			   struct fs_actions *a)
{
	if (i >= f->n_api)
		return false;
	*src = f->api[i].src;
	*r = f->api[i].rule;
	*a = f->api[i].actions;
	return true;
}
