/* What a reload changes: the running configuration against a freshly loaded one, section by
 * section, and which changed keys only a restart can apply (conf_diff, conf_keep_restart). */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static bool prefix_eq(const ip_prefix *a, const ip_prefix *b)
{
	return a->len == b->len && ip_equal(&a->addr, &b->addr);
}

static bool prefixes_eq(const ip_prefix *a, size_t na, const ip_prefix *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!prefix_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool strs_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool cpus_eq(const struct conf_cpus *a, const struct conf_cpus *b)
{
	return a->n == b->n && memcmp(a->cpu, b->cpu, a->n * sizeof a->cpu[0]) == 0;
}

static bool listens_eq(const struct conf_listen *a, size_t na, const struct conf_listen *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].addr, b[i].addr) != 0)
			return false;
	return true;
}

/* The hostgroups' layout: what the lookup and the prefix sums are built from. */
static bool group_layout_eq(const struct det_hostgroup *a, const struct det_hostgroup *b)
{
	return !strcmp(a->name, b->name) && prefixes_eq(a->prefixes, a->n_prefixes, b->prefixes, b->n_prefixes) &&
	       a->total_scope == b->total_scope && a->total_prefix_len_v4 == b->total_prefix_len_v4 &&
	       a->total_prefix_len_v6 == b->total_prefix_len_v6;
}

static bool group_limits_eq(const struct det_hostgroup *a, const struct det_hostgroup *b)
{
	return !memcmp(&a->thresholds, &b->thresholds, sizeof a->thresholds) &&
	       !memcmp(&a->total, &b->total, sizeof a->total) && a->ban_time_s == b->ban_time_s &&
	       a->mitigation == b->mitigation;
}

static bool peer_eq(const struct bgp_peer_config *a, const struct bgp_peer_config *b)
{
	return ip_equal(&a->address, &b->address) && a->port == b->port && a->remote_as == b->remote_as &&
	       a->families == b->families && a->passive == b->passive && !strcmp(a->password, b->password) &&
	       ip_equal(&a->local_address, &b->local_address) && a->hold_time == b->hold_time &&
	       a->ttl == b->ttl && a->extended_next_hop == b->extended_next_hop;
}

enum conf_peer_change conf_peer_compare(const struct bgp_peer_config *old, const struct bgp_peer_config *new)
{
	if (!old)
		return CONF_PEER_ADDED;
	if (!new)
		return CONF_PEER_REMOVED;
	if (!peer_eq(old, new))
		return CONF_PEER_CHANGED;
	/* the description is ours only: it never reaches the peer, so a new one keeps the session */
	return CONF_PEER_SAME;
}

const struct bgp_peer_config *conf_peer_find(const struct bgp_config *b, const ip_addr *address)
{
	for (size_t i = 0; i < b->n_peers; i++)
		if (ip_equal(&b->peers[i].address, address))
			return &b->peers[i];
	return NULL;
}

static void restart(struct conf_diff *d, bool changed, const char *key)
{
	if (changed && d->n_restart < CONF_DIFF_MAX_RESTART)
		d->restart[d->n_restart++] = key;
}

void conf_diff(const struct rampart_conf *o, const struct rampart_conf *n, struct conf_diff *d)
{
	memset(d, 0, sizeof *d);
	const struct det_config *od = &o->detect, *nd = &n->detect;

	/* detect: what the engine and the workers' lookup take from it */
	d->networks = !prefixes_eq(od->networks, od->n_networks, nd->networks, nd->n_networks) ||
		      od->n_groups != nd->n_groups;
	for (size_t g = 0; !d->networks && g < nd->n_groups; g++)
		d->networks = !group_layout_eq(&od->groups[g], &nd->groups[g]);
	d->thresholds = od->n_groups != nd->n_groups;
	for (size_t g = 0; !d->thresholds && g < nd->n_groups; g++)
		d->thresholds = !group_limits_eq(&od->groups[g], &nd->groups[g]);
	d->whitelist = !prefixes_eq(od->whitelist, od->n_whitelist, nd->whitelist, nd->n_whitelist) ||
		       !prefixes_eq(od->own, od->n_own, nd->own, nd->n_own);
	d->detection = od->average_s != nd->average_s || od->confirm_ticks != nd->confirm_ticks ||
		       od->burst_factor != nd->burst_factor || od->ban_time_s != nd->ban_time_s ||
		       od->unban_only_if_attack_finished != nd->unban_only_if_attack_finished ||
		       od->max_bans_per_minute != nd->max_bans_per_minute || od->host_idle_s != nd->host_idle_s;
	restart(d, od->tick_ms != nd->tick_ms, "detection.tick_ms");
	restart(d, od->max_hosts != nd->max_hosts, "detection.max_hosts");
	restart(d, memcmp(&o->attack_pcap, &n->attack_pcap, sizeof o->attack_pcap) != 0, "detection.attack_pcap");

	/* capture: the sources are opened once, before the privileges go */
	const struct conf_capture *oc = &o->capture, *nc = &n->capture;
	restart(d, !strs_eq(oc->pcap_interfaces, oc->n_pcap_interfaces, nc->pcap_interfaces, nc->n_pcap_interfaces) ||
			   oc->pcap_sample != nc->pcap_sample,
		"capture.pcap");
	restart(d, oc->flow_active_timeout_s != nc->flow_active_timeout_s ||
			   oc->flow_inactive_timeout_s != nc->flow_inactive_timeout_s ||
			   oc->flow_table_size != nc->flow_table_size,
		"capture.pcap.flow_*");
	const struct conf_afpacket *oa = &oc->afpacket, *na = &nc->afpacket;
	restart(d, !strs_eq(oa->interfaces, oa->n_interfaces, na->interfaces, na->n_interfaces) ||
			   oa->workers != na->workers || oa->fanout != na->fanout || oa->ring_mb != na->ring_mb ||
			   oa->block_kb != na->block_kb || oa->sample != na->sample || oa->defrag != na->defrag ||
			   !cpus_eq(&oa->cpus, &na->cpus),
		"capture.afpacket");
	const struct conf_afxdp *ox = &oc->afxdp, *nx = &nc->afxdp;
	restart(d, !strs_eq(ox->interfaces, ox->n_interfaces, nx->interfaces, nx->n_interfaces) ||
			   ox->n_queues != nx->n_queues ||
			   memcmp(ox->queues, nx->queues, ox->n_queues * sizeof ox->queues[0]) != 0 ||
			   ox->mode != nx->mode || ox->sample != nx->sample || !cpus_eq(&ox->cpus, &nx->cpus),
		"capture.afxdp");
	const struct conf_dpdk *op = &oc->dpdk, *np = &nc->dpdk;
	restart(d, !strs_eq(op->eal, op->n_eal, np->eal, np->n_eal) ||
			   !strs_eq(op->ports, op->n_ports, np->ports, np->n_ports) || op->rx_queues != np->rx_queues ||
			   op->workers != np->workers || op->sample != np->sample || !cpus_eq(&op->cpus, &np->cpus),
		"capture.dpdk");
	restart(d, !listens_eq(oc->sflow, oc->n_sflow, nc->sflow, nc->n_sflow) ||
			   !prefixes_eq(oc->sflow_exporters, oc->n_sflow_exporters, nc->sflow_exporters,
					nc->n_sflow_exporters),
		"capture.sflow");
	restart(d, !listens_eq(oc->netflow, oc->n_netflow, nc->netflow, nc->n_netflow) ||
			   !prefixes_eq(oc->netflow_exporters, oc->n_netflow_exporters, nc->netflow_exporters,
					nc->n_netflow_exporters),
		"capture.netflow");
	restart(d, !listens_eq(oc->ipfix, oc->n_ipfix, nc->ipfix, nc->n_ipfix) ||
			   !prefixes_eq(oc->ipfix_exporters, oc->n_ipfix_exporters, nc->ipfix_exporters,
					nc->n_ipfix_exporters),
		"capture.ipfix");
	restart(d, oc->udp_rcvbuf != nc->udp_rcvbuf || oc->flow_spread_s != nc->flow_spread_s ||
			   oc->udp_workers != nc->udp_workers || oc->max_exporters != nc->max_exporters ||
			   oc->max_domains_per_address != nc->max_domains_per_address ||
			   oc->max_templates != nc->max_templates || oc->max_template_bytes != nc->max_template_bytes ||
			   oc->exporter_idle_s != nc->exporter_idle_s,
		"capture (udp_rcvbuf, flow_spread, udp_workers, exporter bounds)");

	/* mitigation: read at each decision, so new values apply to the next ban */
	const struct conf_mitigation *om = &o->mitigation, *nm = &n->mitigation;
	d->mitigation = om->action != nm->action || om->n_communities != nm->n_communities ||
			memcmp(om->communities, nm->communities, om->n_communities * sizeof om->communities[0]) ||
			!ip_equal(&om->next_hop_ipv4, &nm->next_hop_ipv4) ||
			!ip_equal(&om->next_hop_ipv6, &nm->next_hop_ipv6) || om->dry_run != nm->dry_run ||
			om->flowspec_rate_limit_mbps != nm->flowspec_rate_limit_mbps ||
			om->flowspec_escalate_after_s != nm->flowspec_escalate_after_s;
	restart(d, om->max_bans != nm->max_bans, "mitigation.max_bans");
	restart(d, om->flowspec_max_rules != nm->flowspec_max_rules, "mitigation.flowspec.max_rules");
	bool rules = om->n_flowspec_rules != nm->n_flowspec_rules;
	for (size_t i = 0; !rules && i < nm->n_flowspec_rules; i++)
		rules = memcmp(&om->flowspec_rules[i], &nm->flowspec_rules[i], sizeof nm->flowspec_rules[i]) != 0;
	restart(d, rules, "mitigation.flowspec.rules");
	restart(d, strcmp(om->state_file, nm->state_file) != 0, "mitigation.state_file");

	/* actions */
	const struct conf_actions *oo = &o->actions, *no = &n->actions;
	d->notify = strcmp(oo->notify_script, no->notify_script) || oo->notify_timeout_s != no->notify_timeout_s ||
		    oo->notify_max_running != no->notify_max_running;
	d->webhook = strcmp(oo->webhook_url, no->webhook_url) || oo->webhook_timeout_s != no->webhook_timeout_s ||
		     oo->webhook_retries != no->webhook_retries;
	restart(d, oo->local_blackhole != no->local_blackhole || oo->local_blackhole_table != no->local_blackhole_table,
		"actions.local_blackhole");

	/* bgp: peers one by one; the speaker's own identity and listener only at a restart */
	restart(d, o->bgp_enabled != n->bgp_enabled, "bgp");
	if (o->bgp_enabled && n->bgp_enabled) {
		const struct bgp_config *ob = &o->bgp, *nb = &n->bgp;
		restart(d, ob->local_as != nb->local_as, "bgp.local_as");
		restart(d, ob->router_id != nb->router_id, "bgp.router_id");
		restart(d, !ip_equal(&ob->listen_address, &nb->listen_address) || ob->listen_port != nb->listen_port,
			"bgp.listen");
		restart(d, ob->connect_retry_s != nb->connect_retry_s, "bgp.connect_retry");
		restart(d, ob->graceful_restart_s != nb->graceful_restart_s, "bgp.graceful_restart");
		restart(d, ob->end_of_rib_delay_s != nb->end_of_rib_delay_s, "bgp.end_of_rib_delay");
		for (size_t i = 0; i < nb->n_peers; i++) {
			enum conf_peer_change c = conf_peer_compare(conf_peer_find(ob, &nb->peers[i].address), &nb->peers[i]);
			d->peers_added += c == CONF_PEER_ADDED;
			d->peers_changed += c == CONF_PEER_CHANGED;
		}
		for (size_t i = 0; i < ob->n_peers; i++)
			d->peers_removed += conf_peer_find(nb, &ob->peers[i].address) == NULL;
		for (size_t i = 0; i < nb->n_peers; i++) {
			const struct bgp_peer_config *op = conf_peer_find(ob, &nb->peers[i].address);
			d->peers_described += op && strcmp(op->description, nb->peers[i].description) != 0;
		}
	}

	/* storage: the writer thread and its files */
	restart(d, memcmp(&o->storage, &n->storage, sizeof o->storage) != 0, "storage");

	/* api */
	const struct conf_api *oi = &o->api, *ni = &n->api;
	restart(d, strcmp(oi->socket, ni->socket) != 0, "api.socket");
	d->http = strcmp(oi->http, ni->http) != 0;
	restart(d, strcmp(oi->exabgp_pipe, ni->exabgp_pipe) || strcmp(oi->exabgp_process, ni->exabgp_process) ||
			   oi->exabgp_process_withdraw != ni->exabgp_process_withdraw,
		"api.exabgp_*");

	d->log_level = o->log_level != n->log_level;
	restart(d, strcmp(o->user, n->user) != 0, "user");
}

bool conf_diff_any(const struct conf_diff *d)
{
	return d->networks || d->thresholds || d->whitelist || d->detection || d->mitigation || d->notify ||
	       d->webhook || d->http || d->log_level || d->peers_added || d->peers_removed || d->peers_changed ||
	       d->peers_described;
}

#define SWAP(a, b)                                                                                                     \
	do {                                                                                                           \
		typeof(a) swap_tmp_ = (a);                                                                             \
		(a) = (b);                                                                                             \
		(b) = swap_tmp_;                                                                                       \
	} while (0)

void conf_keep_restart(struct rampart_conf *n, struct rampart_conf *o)
{
	/* whole sections (with what they own) trade places, so conf_free(o) frees the new values
	 * that were not taken and nothing is owned twice */
	SWAP(n->capture, o->capture);
	SWAP(n->storage, o->storage);
	SWAP(n->attack_pcap, o->attack_pcap);
	n->detect.tick_ms = o->detect.tick_ms;
	n->detect.max_hosts = o->detect.max_hosts;
	n->mitigation.max_bans = o->mitigation.max_bans;
	n->detect.max_bans = o->mitigation.max_bans;
	n->mitigation.flowspec_max_rules = o->mitigation.flowspec_max_rules;
	SWAP(n->mitigation.flowspec_rules, o->mitigation.flowspec_rules);
	SWAP(n->mitigation.n_flowspec_rules, o->mitigation.n_flowspec_rules);
	memcpy(n->mitigation.state_file, o->mitigation.state_file, sizeof n->mitigation.state_file);
	n->actions.local_blackhole = o->actions.local_blackhole;
	n->actions.local_blackhole_table = o->actions.local_blackhole_table;
	memcpy(n->api.socket, o->api.socket, sizeof n->api.socket);
	memcpy(n->api.exabgp_pipe, o->api.exabgp_pipe, sizeof n->api.exabgp_pipe);
	memcpy(n->api.exabgp_process, o->api.exabgp_process, sizeof n->api.exabgp_process);
	n->api.exabgp_process_withdraw = o->api.exabgp_process_withdraw;
	memcpy(n->user, o->user, sizeof n->user);
	if (o->bgp_enabled != n->bgp_enabled) {
		/* the speaker exists or not as it started: the whole section as it runs, copied (not
		 * traded) so that a second call, the undo of a failed reload, leaves o as it was */
		struct bgp_peer_config *peers = NULL;
		if (o->bgp.n_peers && (peers = calloc(o->bgp.n_peers, sizeof *peers)))
			memcpy(peers, o->bgp.peers, o->bgp.n_peers * sizeof *peers);
		free(n->bgp.peers);
		n->bgp = o->bgp;
		n->bgp.peers = peers;
		n->bgp.n_peers = peers ? o->bgp.n_peers : 0;
		n->bgp_enabled = o->bgp_enabled;
	} else {
		n->bgp.local_as = o->bgp.local_as;
		n->bgp.router_id = o->bgp.router_id;
		n->bgp.listen_address = o->bgp.listen_address;
		n->bgp.listen_port = o->bgp.listen_port;
		n->bgp.connect_retry_s = o->bgp.connect_retry_s;
		n->bgp.graceful_restart_s = o->bgp.graceful_restart_s;
		n->bgp.end_of_rib_delay_s = o->bgp.end_of_rib_delay_s;
	}
}
