/* attack_events rows: every event mitigation handled is one row, written exactly once, with
 * what mitigation did (action), the attack's sample file as far as it got (schema 4: 0 packets
 * at the ban, the count up to then at the unban) and the fingerprint's distinct counts the same
 * way (schema 7), so no row is updated later. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "../storage/st.h"
#include "act.h"

int act_subscribe(struct mit *m, const struct act_action *a)
{
	if (mit_subscribe(m, a->event, a->ctx) != 0) {
		log_err("%s: no room among mitigation's subscribers", a->name);
		return -1;
	}
	return 0;
}

static void store_event(void *ctx, const struct mit_event *e)
{
	struct st_writer *st = ctx;
	const struct det_event *ev = e->ev;
	if (e->restored)
		return; /* its rows were written by the run that banned it */
	const double *r = ev->rates.v[ev->direction][DET_TOTAL];
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
	if (e->fp && !e->fp->from_rates) { /* schema 7: the distinct counts as far as they got */
		row.distinct_peers = e->fp->distinct_peers;
		row.distinct_peer_prefixes = e->fp->distinct_peer_prefixes;
		row.distinct_src_ports = e->fp->distinct_src_ports;
		row.distinct_dst_ports = e->fp->distinct_dst_ports;
	}
	snprintf(row.event, sizeof row.event, "%s", mit_event_name(e->type));
	snprintf(row.hostgroup, sizeof row.hostgroup, "%s", e->hostgroup);
	if (!ev->manual)
		snprintf(row.trigger, sizeof row.trigger, "%s", e->trigger);
	snprintf(row.action, sizeof row.action, "%s", e->action);
	snprintf(row.reason, sizeof row.reason, "%s", ev->reason ? ev->reason : "");
	if (e->samples_path[0]) {
		/* a path that does not fit the column is left out, never cut */
		size_t len = strlen(e->samples_path);
		if (len >= sizeof row.pcap_file) {
			log_warn("attack %" PRIu64 ": pcap path longer than %zu bytes, not stored: %s", ev->attack_id,
				 sizeof row.pcap_file - 1, e->samples_path);
		} else {
			memcpy(row.pcap_file, e->samples_path, len + 1);
			row.pcap_packets = e->samples_packets;
		}
	}
	if (!st_push_event(st, &row))
		log_warn("attack %" PRIu64 ": event queue full, %s event not stored", ev->attack_id,
			 mit_event_name(e->type));
}

struct act_action act_store(struct st_writer *st)
{
	return (struct act_action){.name = "storage", .ctx = st, .event = store_event};
}
