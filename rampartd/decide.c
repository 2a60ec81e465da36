/* Decisions: what a detection event becomes. A ban is a blackhole route (RFC 7999) or a FlowSpec
 * rule (flowmit.c), per the hostgroup's mitigation, announced to
 * every BGP peer, or only logged in dry-run mode or when no BGP is configured; every event is a
 * row in attack_events and a log line. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "banstate.h"
#include "daemon.h"

void rd_blackhole_attrs(const struct rampart *rp, const ip_prefix *p, struct bgp_route_attrs *out)
{
	const struct conf_mitigation *m = &rp->conf.mitigation;
	memset(out, 0, sizeof *out);
	out->next_hop = ip_is_v4(&p->addr) ? m->next_hop_ipv4 : m->next_hop_ipv6;
	out->communities[out->n_communities++] = BGP_COMMUNITY_BLACKHOLE;
	out->communities[out->n_communities++] = BGP_COMMUNITY_NO_EXPORT;
	for (size_t i = 0; i < m->n_communities && out->n_communities < BGP_MAX_COMMUNITIES; i++) {
		uint32_t c = m->communities[i];
		if (c != BGP_COMMUNITY_BLACKHOLE && c != BGP_COMMUNITY_NO_EXPORT)
			out->communities[out->n_communities++] = c;
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
static enum det_mitigation mode_of(const struct rampart *rp, const struct det_event *ev)
{
	enum det_mitigation m = DET_MIT_DEFAULT;
	if (ev->hostgroup >= 0 && (size_t)ev->hostgroup < rp->conf.detect.n_groups)
		m = rp->conf.detect.groups[ev->hostgroup].mitigation;
	return m == DET_MIT_DEFAULT ? rp->conf.mitigation.action : m;
}

static const char *blackhole(struct rampart *rp, const struct det_event *ev, bool announce)
{
	char pfx[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->target, pfx);
	if (rp->conf.mitigation.dry_run) {
		log_info("dry run: would %s blackhole %s", announce ? "announce" : "withdraw", pfx);
		return "dry-run";
	}
	if (!rp->bgp) {
		log_info("no BGP configured: blackhole %s would be %s", pfx, announce ? "announced" : "withdrawn");
		return "none";
	}
	if (announce) {
		/* through the route table, which keeps detection's bans apart from the ExaBGP API's routes */
		if (rd_route_add(rp, RD_SRC_DETECT, &ev->target, NULL) != 0) {
			log_err("blackhole %s: announce failed", pfx);
			return "failed";
		}
		rp->announced++;
	} else {
		if (rd_route_del(rp, RD_SRC_DETECT, &ev->target) != 0)
			log_warn("blackhole %s: was not announced", pfx);
		rp->withdrawn++;
	}
	return "blackhole";
}

/* What a BAN or UNBAN does here, for the log and the attack_events row. */
static const char *mitigate(struct rampart *rp, const struct det_event *ev, bool announce)
{
	bool live = rp->bgp && !rp->conf.mitigation.dry_run;
	if (announce) {
		enum det_mitigation m = mode_of(rp, ev);
		if ((m == DET_MIT_FLOWSPEC || m == DET_MIT_FLOWSPEC_THEN_BLACKHOLE) && rp->flowmit &&
		    rd_flowmit_ban(rp->flowmit, ev, m == DET_MIT_FLOWSPEC_THEN_BLACKHOLE)) {
			rp->announced += live;
			return live ? "flowspec" : rp->bgp ? "dry-run" : "none";
		}
		return blackhole(rp, ev, true);
	}
	if (rp->flowmit && rd_flowmit_unban(rp->flowmit, ev)) {
		rp->withdrawn += live;
		return live ? "flowspec" : rp->bgp ? "dry-run" : "none";
	}
	return blackhole(rp, ev, false);
}

/* detection.attack_pcap: the attack's sample file in its attack_events rows (schema 4), the
 * path notifications name. Every row carries it with the samples written by then (0 at the ban;
 * the unban row has the count up to then), so nothing is updated later: each row is still
 * written exactly once. A path that does not fit the column is left out, never cut. */
static void pcap_of(struct rampart *rp, const struct det_event *ev, struct st_attack_event *row)
{
	char path[PATH_MAX];
	if (!*rd_apcap_path(rp->apcap, ev->attack_id, &ev->target, path, sizeof path))
		return;
	if (strlen(path) >= sizeof row->pcap_file) {
		log_warn("attack %" PRIu64 ": pcap path longer than %zu bytes, not stored: %s", ev->attack_id,
			 sizeof row->pcap_file - 1, path);
		return;
	}
	memcpy(row->pcap_file, path, strlen(path) + 1);
	struct rd_apcap_info pi;
	if (rd_apcap_info(rp->apcap, ev->attack_id, &pi))
		row->pcap_packets = pi.packets;
}

void rd_decide(void *ctx, const struct det_event *ev)
{
	struct rampart *rp = ctx;
	const char *action = "";
	if (ev->type == DET_EV_BAN || ev->type == DET_EV_UNBAN || ev->type == DET_EV_BAN_EXTENDED ||
	    ev->type == DET_EV_ESCALATE)
		rd_banstate_changed(rp); /* the ban state file, written off this path */
	if (ev->type == DET_EV_BAN)
		action = mitigate(rp, ev, true);
	else if (ev->type == DET_EV_UNBAN)
		action = mitigate(rp, ev, false);
	else if (ev->type == DET_EV_ESCALATE)
		action = blackhole(rp, ev, true); /* beside the FlowSpec rule, which stays */
	rd_notify_event(rp->notify, rp, ev); /* dry run too: it is not an announcement */
	rd_webhook_event(rp->webhook, rp, ev);
	rd_localroute_event(rp->localroute, rp, ev);

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
	rp->events_logged++;

	if (!rp->storage)
		return;
	struct st_attack_event row = {
		.time_ns = ev->time_ns,
		.attack_id = ev->attack_id,
		.target = ev->target,
		.direction = (uint8_t)ev->direction,
		.manual = ev->manual,
		.trigger_value = ev->trigger_value,
		.trigger_limit = ev->trigger_limit,
		.pps = r[DET_PPS],
		.bps = r[DET_BPS],
		.flows = r[DET_FLOWS],
		.ban_seconds = ev->ban_seconds,
		.parent_attack_id = ev->parent_attack_id,
	};
	snprintf(row.event, sizeof row.event, "%s", det_event_name(ev->type));
	if (ev->hostgroup >= 0 && (size_t)ev->hostgroup < rp->conf.detect.n_groups)
		snprintf(row.hostgroup, sizeof row.hostgroup, "%s", rp->conf.detect.groups[ev->hostgroup].name);
	if (!ev->manual)
		snprintf(row.trigger, sizeof row.trigger, "%s", trig);
	snprintf(row.action, sizeof row.action, "%s", action);
	snprintf(row.reason, sizeof row.reason, "%s", ev->reason ? ev->reason : "");
	pcap_of(rp, ev, &row);
	if (!st_push_event(rp->storage, &row))
		log_warn("attack %" PRIu64 ": event queue full, %s event not stored", ev->attack_id,
			 det_event_name(ev->type));
}
