/* The ExaBGP API's commands (bgp/exabgp.h) carried out: `announce|withdraw route` into the
 * routes table as the sending source's (routes.c keeps them apart from detection's bans),
 * `announce|withdraw flow route` to the speaker, every one honouring mit_live(). The API's
 * transports (control socket, named pipe, process) are api/exapipe.c's and api/commands.c's;
 * the ban state file restores its API routes through here too. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bgp/exabgp.h"
#include "../lib/log.h"
#include "internal.h"

/* ---- one command ---------------------------------------------------------------------------- */

/* Does `neighbor IP [selectors]` describe configured peer pp? ExaBGP matches every part given
 * against the peer's name (address, local address, local AS, peer AS, router id, families). */
static const char *sel_mismatch(const struct mit *m, const struct bgp_exa_neighbor *n,
				const struct bgp_peer_config *pp)
{
	const struct bgp_config *bc = &m->conf->bgp;
	if (!ip_equal(&n->address, &pp->address))
		return "address";
	if (n->has_local_ip && !ip_equal(&n->local_ip, &pp->local_address))
		return ip_is_zero(&pp->local_address) ? "local-ip (the peer has no local_address configured)"
						       : "local-ip";
	if (n->has_local_as && n->local_as != bc->local_as)
		return "local-as";
	if (n->has_peer_as && n->peer_as != pp->remote_as)
		return "peer-as";
	if (n->has_router_id && n->router_id != bc->router_id)
		return bc->router_id ? "router-id" : "router-id (bgp.router_id is not configured)";
	if (n->has_families && !n->in_open && n->families != pp->families)
		return "family-allowed";
	return NULL;
}

/* The peers a `neighbor ...` prefix selects (BGP_PEERS_ALL without one). A selector that matches
 * no configured peer is an error, as in ExaBGP, rather than a route sent nowhere. */
static int select_peers(struct mit *m, const struct bgp_exa_cmd *c, bgp_peer_set *out, struct evbuffer *text)
{
	*out = BGP_PEERS_ALL;
	if (!c->n_neighbors)
		return 0;
	const struct bgp_config *bc = &m->conf->bgp;
	size_t n = m->d.bgp ? bc->n_peers : 0;
	bgp_peer_set set = 0;
	for (size_t i = 0; i < c->n_neighbors; i++) {
		const struct bgp_exa_neighbor *sel = &c->sel[i];
		const char *why = "address";
		for (size_t j = 0; j < n; j++) {
			const char *w = sel_mismatch(m, sel, &bc->peers[j]);
			if (!w) {
				set |= bgp_peer_bit(j);
				why = NULL;
				break;
			}
			if (ip_equal(&sel->address, &bc->peers[j].address))
				why = w;
		}
		if (why) {
			char a[IP_STRLEN];
			if (!strcmp(why, "address"))
				evbuffer_add_printf(text, "neighbor %s is not a configured BGP peer\n", ip_format(&sel->address, a));
			else
				evbuffer_add_printf(text, "neighbor %s: %s does not match the configured peer\n",
						    ip_format(&sel->address, a), why);
			return -1;
		}
	}
	*out = set;
	return 0;
}

/* Completes a->attrs, in place, with what the line asked for beyond it, so it is what bgp.h
 * sends; what the speaker cannot send (more communities than it carries) is refused rather than
 * silently dropped. */
static int sendable(struct bgp_exa_attrs *a, struct evbuffer *out_text)
{
	struct bgp_route_attrs *out = &a->attrs;
	const char *what = a->n_large > BGP_MAX_LARGE_COMMUNITIES ? "more large communities than the speaker carries"
			 : a->n_extended > BGP_MAX_EXT_COMMUNITIES ? "more extended communities than the speaker carries"
			 : a->n_as_path > BGP_MAX_AS_PATH ? "an as-path longer than the speaker carries"
			 : NULL;
	if (what) {
		evbuffer_add_printf(out_text, "%s\n", what);
		return -1;
	}
	out->origin = a->has_origin ? a->origin : BGP_ORIGIN_IGP;
	out->atomic_aggregate = a->atomic_aggregate;
	memcpy(out->as_path, a->as_path, a->n_as_path * sizeof a->as_path[0]);
	out->n_as_path = a->n_as_path;
	for (size_t i = 0; i < a->n_large; i++) {
		out->large_communities[i][0] = a->large[i].global;
		out->large_communities[i][1] = a->large[i].local1;
		out->large_communities[i][2] = a->large[i].local2;
	}
	out->n_large_communities = a->n_large;
	for (size_t i = 0; i < a->n_extended; i++)
		for (int k = 0; k < 8; k++)
			out->ext_communities[i][k] = (uint8_t)(a->extended[i] >> (56 - 8 * k));
	out->n_ext_communities = a->n_extended;
	return 0;
}

/* An IPv4 route with an IPv6 next hop goes only where Extended Next Hop (RFC 8950) is
 * negotiated; refused when no selected peer has it configured (extended_next_hop), since it
 * would be sent nowhere. A selected peer whose session did not negotiate it does not get the
 * route (the speaker logs that once per session). */
static bool ext_nh_refused(const struct mit *m, const struct bgp_exa_cmd *c, bgp_peer_set peers,
			   struct evbuffer *out)
{
	const ip_addr *nh = &c->a.attrs.next_hop;
	if (ip_is_zero(nh) || ip_is_v4(nh))
		return false;
	size_t i = 0;
	while (i < c->n_nlri && !ip_is_v4(&c->nlri[i].addr))
		i++;
	if (i == c->n_nlri)
		return false;
	const struct bgp_config *bc = &m->conf->bgp;
	for (size_t j = 0; m->d.bgp && j < bc->n_peers; j++)
		if ((peers & bgp_peer_bit(j)) && bc->peers[j].extended_next_hop)
			return false;
	char a[IP_STRLEN], p[IP_PREFIX_STRLEN];
	evbuffer_add_printf(out, "next-hop %s for IPv4 route %s needs Extended Next Hop (RFC 8950): no selected peer "
				 "has extended_next_hop\n", ip_format(nh, a), ip_prefix_format(&c->nlri[i], p));
	return true;
}

/* every configured peer's bit: a selection naming all of them is no selection */
static bgp_peer_set all_peers(const struct mit *m)
{
	bgp_peer_set all = 0;
	for (size_t i = 0; i < m->conf->bgp.n_peers; i++)
		all |= bgp_peer_bit(i);
	return all;
}

/* `announce|withdraw watchdog NAME` (watchdog.c): on every peer's routes of the group, as in
 * ExaBGP, so a neighbor selection must name every peer or none. */
static int watchdog(struct mit *m, const struct bgp_exa_cmd *c, bgp_peer_set peers, struct evbuffer *out)
{
	if (c->n_neighbors && peers != all_peers(m)) {
		evbuffer_add_printf(out, "a watchdog acts on the group's routes for every peer: a neighbor selection must "
					 "name every configured peer or none\n");
		return -1;
	}
	bool ann = c->verb == BGP_EXA_ANNOUNCE;
	size_t n;
	int rc = mit_watchdog_switch(m, c->a.watchdog, ann, &n);
	log_info("exabgp: %s watchdog %s: %zu route%s %s, %zu %s", ann ? "announce" : "withdraw", c->a.watchdog, n,
		 n == 1 ? "" : "s", ann ? "announced" : "withdrawn", mit_watchdog_count(m, c->a.watchdog, !ann),
		 ann ? "still held (refused by the speaker)" : "announced");
	if (rc != 0)
		evbuffer_add_printf(out, "announce watchdog %s: a route was refused by the speaker and stays held\n",
				    c->a.watchdog);
	return rc;
}

/* An announce that joins a watchdog group (or leaves one: a route announced again without a
 * watchdog is no longer the group's). Held back (`withdraw`): nothing goes out, and what src had
 * announced for the prefix to those peers is withdrawn, since the route now says it is down. */
static int watchdog_route(struct mit *m, enum mit_route_src src, const struct bgp_exa_cmd *c, bgp_peer_set peers,
			  struct evbuffer *out)
{
	const struct bgp_exa_attrs *a = &c->a;
	for (size_t i = 0; i < c->n_nlri; i++) {
		const ip_prefix *p = &c->nlri[i];
		char t[IP_PREFIX_STRLEN];
		if (a->watchdog_withdrawn)
			(void)mit_route_del_from(m, src, p, peers);
		else if (mit_route_add_to(m, src, p, &a->attrs, peers) != 0) {
			evbuffer_add_printf(out, "announce %s failed (out of memory or refused by the speaker)\n",
					    ip_prefix_format(p, t));
			return -1;
		}
		if (!a->watchdog[0])
			mit_watchdog_forget(m, src, p, peers);
		else if (mit_watchdog_join(m, src, p, peers, &a->attrs, a->watchdog, !a->watchdog_withdrawn) != 0) {
			evbuffer_add_printf(out, "announce %s: out of memory for watchdog %s\n", ip_prefix_format(p, t),
					    a->watchdog);
			return -1;
		}
	}
	return 0;
}

static int run(struct mit *m, enum mit_route_src src, struct bgp_exa_cmd *c, struct evbuffer *out)
{
	bgp_peer_set peers;
	if (select_peers(m, c, &peers, out) != 0)
		return -1;
	switch (c->kind) {
	case BGP_EXA_EOR: {
		/* the speaker also sends End-of-RIB itself after each replay; this is one more, on
		 * demand, as ExaBGP sends it (no family: every family) */
		uint32_t fam = c->eor_afi == 0 ? ~0u
			       : c->eor_safi == 1 ? (c->eor_afi == 1 ? BGP_FAM_IPV4_UNICAST : BGP_FAM_IPV6_UNICAST)
			       : c->eor_safi == 133 ? (c->eor_afi == 1 ? BGP_FAM_IPV4_FLOWSPEC : BGP_FAM_IPV6_FLOWSPEC)
						    : 0;
		if (m->d.bgp && !m->conf->mitigation.dry_run)
			bgp_send_eor(m->d.bgp, peers, fam);
		return 0;
	}
	case BGP_EXA_FLOW:
		if (c->n_neighbors && peers != all_peers(m)) {
			evbuffer_add_printf(out, "flow routes go to every peer with the family: a neighbor selection must "
						 "name every configured peer or none\n");
			return -1;
		}
		return mit_flowspec_api(m, src, c, out);
	case BGP_EXA_WATCHDOG:
		return watchdog(m, c, peers, out);
	case BGP_EXA_ROUTE:
		break;
	}
	if (c->verb == BGP_EXA_WITHDRAW) {
		/* idempotent like ExaBGP: withdrawing what this source does not hold is not an error */
		for (size_t i = 0; i < c->n_nlri; i++) {
			mit_route_del_from(m, src, &c->nlri[i], peers);
			mit_watchdog_forget(m, src, &c->nlri[i], peers);
		}
		return 0;
	}
	if (sendable(&c->a, out) != 0)
		return -1;
	if (ext_nh_refused(m, c, peers, out))
		return -1;
	if (m->d.bgp && !mit_live(m) && c->n_nlri) {
		/* one line per command, not per prefix: a pipe may send 100 000 of them */
		char p[IP_PREFIX_STRLEN];
		log_info("dry run: would announce %zu route%s (%s%s), held by %s, not sent", c->n_nlri,
			 c->n_nlri == 1 ? "" : "s", ip_prefix_format(&c->nlri[0], p), c->n_nlri > 1 ? " ..." : "",
			 mit_route_src_name(src));
	}
	if (c->a.watchdog[0] || m->watchdogs)
		return watchdog_route(m, src, c, peers, out);
	for (size_t i = 0; i < c->n_nlri; i++)
		if (mit_route_add_to(m, src, &c->nlri[i], &c->a.attrs, peers) != 0) {
			char p[IP_PREFIX_STRLEN];
			evbuffer_add_printf(out, "announce %s failed (out of memory or refused by the speaker)\n",
					    ip_prefix_format(&c->nlri[i], p));
			return -1;
		}
	return 0;
}

void mit_exabgp_prefetch(const struct mit *m, const char *line)
{
	ip_prefix p;
	if (!bgp_exa_route_prefix(line, &p))
		return;
	mit_routes_prefetch(m->routes, &p);
	if (m->d.bgp)
		bgp_prefetch(m->d.bgp, &p);
}

int mit_exabgp_command(struct mit *m, enum mit_route_src src, const char *line, struct evbuffer *out)
{
	struct bgp_exa_cmd *c = m->cmd;
	struct bgp_exa_err err;
	int rc;
	if (!bgp_exa_parse_fast(line, c) && !bgp_exa_parse(line, c, &err)) {
		evbuffer_add_printf(out, "%s\n", err.msg);
		rc = -1;
	} else {
		rc = run(m, src, c, out);
		if (rc == 0)
			mit_state_api(m, src, c); /* kept across a restart: socket and pipe */
	}
	return rc;
}

