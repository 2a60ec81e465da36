/* conf_print: the effective configuration as YAML that conf_load reads back to the same values.
 * Every string is double-quoted with escapes, so no value can change meaning on the way back
 * (a password of "true", an interface named "null", an address with colons). */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

static void qstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void kstr(FILE *f, int ind, const char *key, const char *s)
{
	fprintf(f, "%*s%s: ", ind, "", key);
	qstr(f, s);
	fputc('\n', f);
}

static void kaddr(FILE *f, int ind, const char *key, const ip_addr *a)
{
	char buf[IP_STRLEN];
	kstr(f, ind, key, ip_format(a, buf));
}

static void prefixes(FILE *f, int ind, const char *key, const ip_prefix *p, size_t n)
{
	char buf[IP_PREFIX_STRLEN];
	fprintf(f, "%*s%s:%s\n", ind, "", key, n ? "" : " []");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%*s  - ", ind, "");
		qstr(f, ip_prefix_format(&p[i], buf));
		fputc('\n', f);
	}
}

static const char *action_name(enum det_mitigation m)
{
	switch (m) {
	case DET_MIT_FLOWSPEC: return "flowspec";
	case DET_MIT_FLOWSPEC_THEN_BLACKHOLE: return "flowspec-then-blackhole";
	default: return "blackhole";
	}
}

/* Only the limits that are set: 0 means not checked, which is also what an absent key means.
 * every_direction: both directions are written, `{}` when nothing is checked, since a hostgroup
 * direction left out would have the top-level limits. */
static void thresholds(FILE *f, int ind, const char *key, const struct det_thresholds *t, bool every_direction)
{
	static const char *const cls[DET_CLASSES] = {"", "tcp_", "udp_", "icmp_", "syn_", "frag_"};
	static const char *const met[DET_METRICS] = {"pps", "mbps", "flows"};
	bool any = false;
	for (int d = 0; d < DET_DIRECTIONS; d++)
		for (int c = 0; c < DET_CLASSES; c++)
			for (int m = 0; m < DET_METRICS; m++)
				any |= t->limit[d][c][m] != 0;
	fprintf(f, "%*s%s:%s\n", ind, "", key, any || every_direction ? "" : " {}");
	for (int d = 0; d < DET_DIRECTIONS; d++) {
		bool header = false;
		for (int c = 0; c < DET_CLASSES; c++)
			for (int m = 0; m < DET_METRICS; m++) {
				uint64_t v = t->limit[d][c][m];
				if (!v)
					continue;
				if (!header)
					fprintf(f, "%*s  %s:\n", ind, "", d == DET_IN ? "incoming" : "outgoing");
				header = true;
				/* mbps are read in whole megabits; the loader only ever stores multiples */
				fprintf(f, "%*s    %s%s: %llu\n", ind, "", cls[c], met[m],
					(unsigned long long)(m == DET_BPS ? v / 1000000 : v));
			}
		if (!header && every_direction)
			fprintf(f, "%*s  %s: {}\n", ind, "", d == DET_IN ? "incoming" : "outgoing");
	}
}

static void listeners(FILE *f, const char *key, const struct conf_listen *l, size_t n,
		      const ip_prefix *allow, size_t n_allow)
{
	fprintf(f, "  %s:\n    listen:%s\n", key, n ? "" : " []");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "      - ");
		qstr(f, l[i].addr);
		fputc('\n', f);
	}
	prefixes(f, 4, "exporters", allow, n_allow);
}

static void peer(FILE *f, const struct bgp_peer_config *p)
{
	static const char *const fam[] = {"ipv4-unicast", "ipv6-unicast", "ipv4-flowspec", "ipv6-flowspec"};
	char buf[IP_STRLEN];
	fprintf(f, "    - address: ");
	qstr(f, ip_format(&p->address, buf));
	fprintf(f, "\n      remote_as: %u\n      port: %u\n      families: [", p->remote_as, p->port);
	bool first = true;
	for (int i = 0; i < 4; i++)
		if (p->families & (1u << i)) {
			fprintf(f, "%s%s", first ? "" : ", ", fam[i]);
			first = false;
		}
	fprintf(f, "]\n      passive: %s\n", p->passive ? "true" : "false");
	kstr(f, 6, "password", p->password);
	if (!ip_is_zero(&p->local_address))
		kaddr(f, 6, "local_address", &p->local_address);
	fprintf(f, "      hold_time: %u\n      ttl: %u\n", p->hold_time, p->ttl);
	fprintf(f, "      extended_next_hop: %s\n", p->extended_next_hop ? "true" : "false");
	kstr(f, 6, "description", p->description);
}

void conf_print(const struct rampart_conf *c, FILE *f)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	const struct det_config *d = &c->detect;
	fprintf(f, "# effective configuration");
	if (c->path[0]) {
		fprintf(f, " of ");
		qstr(f, c->path);
	}
	fputc('\n', f);
	fprintf(f, "log_level: %s\n", levels[c->log_level <= CONF_LOG_ERR ? c->log_level : CONF_LOG_INFO]);
	kstr(f, 0, "user", c->user);
	prefixes(f, 0, "networks", d->networks, d->n_networks);
	prefixes(f, 0, "whitelist", d->whitelist, d->n_whitelist);
	static const struct det_thresholds none;
	thresholds(f, 0, "thresholds", d->n_groups ? &d->groups[0].thresholds : &none, false);

	fprintf(f, "hostgroups:%s\n", d->n_groups > 1 ? "" : " []");
	for (size_t i = 1; i < d->n_groups; i++) {
		const struct det_hostgroup *g = &d->groups[i];
		fprintf(f, "  - name: ");
		qstr(f, g->name);
		fputc('\n', f);
		prefixes(f, 4, "prefixes", g->prefixes, g->n_prefixes);
		thresholds(f, 4, "thresholds", &g->thresholds, true);
		thresholds(f, 4, "total", &g->total, false);
		fprintf(f, "    ban_time: %u\n", g->ban_time_s);
		if (g->mitigation != DET_MIT_DEFAULT)
			fprintf(f, "    mitigation:\n      action: %s\n", action_name(g->mitigation));
		fprintf(f, "    total_scope: %s\n", g->total_scope == DET_SCOPE_PREFIX ? "prefix" : "group");
		if (g->total_prefix_len_v4 || g->total_prefix_len_v6) {
			fprintf(f, "    total_prefix_length:\n");
			if (g->total_prefix_len_v4)
				fprintf(f, "      ipv4: %u\n", g->total_prefix_len_v4);
			if (g->total_prefix_len_v6)
				fprintf(f, "      ipv6: %u\n", g->total_prefix_len_v6);
		}
	}

	fprintf(f, "detection:\n  tick_ms: %u\n  average_s: %u\n  ban_time: %u\n", d->tick_ms, d->average_s,
		d->ban_time_s);
	fprintf(f, "  confirm_ticks: %u\n  burst_factor: %u\n", d->confirm_ticks, d->burst_factor);
	fprintf(f, "  unban_only_if_attack_finished: %s\n  max_hosts: %zu\n  host_idle_s: %u\n",
		d->unban_only_if_attack_finished ? "true" : "false", d->max_hosts, d->host_idle_s);
	fprintf(f, "  attack_pcap:\n    enabled: %s\n", c->attack_pcap.enabled ? "true" : "false");
	kstr(f, 4, "dir", c->attack_pcap.dir);
	fprintf(f, "    packets: %u\n    snaplen: %u\n", c->attack_pcap.packets, c->attack_pcap.snaplen);
	fprintf(f, "    keep_days: %u\n    max_files: %u\n", c->attack_pcap.keep_days, c->attack_pcap.max_files);

	const struct conf_capture *cc = &c->capture;
	fprintf(f, "capture:\n  pcap:\n    interfaces:%s\n", cc->n_pcap_interfaces ? "" : " []");
	for (size_t i = 0; i < cc->n_pcap_interfaces; i++) {
		fprintf(f, "      - ");
		qstr(f, cc->pcap_interfaces[i]);
		fputc('\n', f);
	}
	fprintf(f, "    flow_active_timeout: %u\n    flow_inactive_timeout: %u\n    flow_table_size: %u\n",
		cc->flow_active_timeout_s, cc->flow_inactive_timeout_s, cc->flow_table_size);
	fprintf(f, "    sample: %u\n", cc->pcap_sample);
	const struct conf_afpacket *a = &cc->afpacket;
	static const char *const fanouts[] = {[CAP_FANOUT_HASH] = "hash", [CAP_FANOUT_LB] = "lb", [CAP_FANOUT_CPU] = "cpu"};
	fprintf(f, "  afpacket:\n    interfaces:%s\n", a->n_interfaces ? "" : " []");
	for (size_t i = 0; i < a->n_interfaces; i++) {
		fprintf(f, "      - ");
		qstr(f, a->interfaces[i]);
		fputc('\n', f);
	}
	fprintf(f, "    workers: %u\n    fanout: %s\n    ring_mb: %u\n    block_kb: %u\n    sample: %u\n    defrag: %s\n",
		a->workers, fanouts[a->fanout], a->ring_mb, a->block_kb, a->sample, a->defrag ? "true" : "false");
	const struct conf_afxdp *x = &cc->afxdp;
	static const char *const xmodes[] = {[CONF_XDP_AUTO] = "auto", [CONF_XDP_SKB] = "skb", [CONF_XDP_NATIVE] = "native"};
	fprintf(f, "  afxdp:\n    interfaces:%s\n", x->n_interfaces ? "" : " []");
	for (size_t i = 0; i < x->n_interfaces; i++) {
		fprintf(f, "      - ");
		qstr(f, x->interfaces[i]);
		fputc('\n', f);
	}
	fprintf(f, "    queues: [");
	for (size_t i = 0; i < x->n_queues; i++)
		fprintf(f, "%s%u", i ? ", " : "", x->queues[i]);
	fprintf(f, "]\n    mode: %s\n    sample: %u\n", xmodes[x->mode], x->sample);
	const struct conf_dpdk *dk = &cc->dpdk;
	fprintf(f, "  dpdk:\n    eal: [");
	for (size_t i = 0; i < dk->n_eal; i++) {
		fprintf(f, "%s", i ? ", " : "");
		qstr(f, dk->eal[i]);
	}
	fprintf(f, "]\n    ports: [");
	for (size_t i = 0; i < dk->n_ports; i++) {
		fprintf(f, "%s", i ? ", " : "");
		qstr(f, dk->ports[i]);
	}
	fprintf(f, "]\n    rx_queues: %u\n    workers: %u\n    sample: %u\n", dk->rx_queues, dk->workers, dk->sample);
	listeners(f, "sflow", cc->sflow, cc->n_sflow, cc->sflow_exporters, cc->n_sflow_exporters);
	listeners(f, "netflow", cc->netflow, cc->n_netflow, cc->netflow_exporters, cc->n_netflow_exporters);
	listeners(f, "ipfix", cc->ipfix, cc->n_ipfix, cc->ipfix_exporters, cc->n_ipfix_exporters);
	fprintf(f, "  udp_rcvbuf: %u\n  flow_spread: %u\n", cc->udp_rcvbuf, cc->flow_spread_s);
	fprintf(f, "  udp_workers: %u\n", cc->udp_workers);
	fprintf(f, "  max_exporters: %u\n  max_domains_per_address: %u\n  max_templates: %u\n"
		   "  max_template_bytes: %u\n  exporter_idle: %u\n",
		cc->max_exporters, cc->max_domains_per_address, cc->max_templates, cc->max_template_bytes,
		cc->exporter_idle_s);

	const struct conf_mitigation *m = &c->mitigation;
	fprintf(f, "mitigation:\n  action: %s\n  blackhole:\n    communities: [", action_name(m->action));
	for (size_t i = 0; i < m->n_communities; i++)
		fprintf(f, "%s\"%u:%u\"", i ? ", " : "", m->communities[i] >> 16, m->communities[i] & 0xffff);
	fprintf(f, "]\n");
	if (!ip_is_zero(&m->next_hop_ipv4))
		kaddr(f, 4, "next_hop_ipv4", &m->next_hop_ipv4);
	if (!ip_is_zero(&m->next_hop_ipv6))
		kaddr(f, 4, "next_hop_ipv6", &m->next_hop_ipv6);
	fprintf(f, "  max_bans: %u\n  dry_run: %s\n", m->max_bans, m->dry_run ? "true" : "false");
	fprintf(f, "  max_bans_per_minute: %u\n", m->max_bans_per_minute);
	kstr(f, 2, "state_file", m->state_file);
	fprintf(f, "  flowspec:\n    rate_limit_mbps: %u\n    max_rules: %u\n    escalate_after: %u\n",
		m->flowspec_rate_limit_mbps, m->flowspec_max_rules, m->flowspec_escalate_after_s);
	fprintf(f, "    rules:%s\n", m->n_flowspec_rules ? "" : " []");
	for (size_t i = 0; i < m->n_flowspec_rules; i++) {
		char text[1024];
		fs_text_format(&m->flowspec_rules[i].rule, &m->flowspec_rules[i].actions, text, sizeof text);
		fprintf(f, "      - ");
		qstr(f, text);
		fprintf(f, "\n");
	}
	prefixes(f, 2, "own_addresses", m->own_addresses, m->n_own_addresses);

	if (c->bgp_enabled) {
		const struct bgp_config *b = &c->bgp;
		fprintf(f, "bgp:\n");
		if (b->local_as)
			fprintf(f, "  local_as: %u\n", b->local_as);
		if (b->router_id)
			fprintf(f, "  router_id: \"%u.%u.%u.%u\"\n", b->router_id >> 24, b->router_id >> 16 & 0xff,
				b->router_id >> 8 & 0xff, b->router_id & 0xff);
		kaddr(f, 2, "listen", &b->listen_address);
		fprintf(f, "  listen_port: %u\n  connect_retry: %u\n", b->listen_port, b->connect_retry_s);
		fprintf(f, "  graceful_restart: %u\n", b->graceful_restart_s);
		fprintf(f, "  end_of_rib_delay: %u\n", b->end_of_rib_delay_s);
		fprintf(f, "  peers:%s\n", b->n_peers ? "" : " []");
		for (size_t i = 0; i < b->n_peers; i++)
			peer(f, &b->peers[i]);
	}

	const struct st_config *s = &c->storage;
	fprintf(f, "storage:\n  clickhouse:\n");
	kstr(f, 4, "url", s->clickhouse_url);
	kstr(f, 4, "database", s->database);
	kstr(f, 4, "user", s->user);
	kstr(f, 4, "password", s->password);
	kstr(f, 4, "cluster", s->cluster);
	fprintf(f, "    format: %s\n", s->format == ST_FORMAT_NATIVE ? "native" : "rowbinary");
	fprintf(f, "    compression: %s\n", s->compression == ST_COMPRESSION_GZIP ? "gzip" : "none");
	kstr(f, 2, "dir", s->dir);
	fprintf(f, "  batch_rows: %u\n  batch_ms: %u\n  queue_rows: %u\n", s->batch_rows, s->batch_ms, s->queue_rows);
	kstr(f, 2, "spool_dir", s->spool_dir);
	fprintf(f, "  spool_max_bytes: %llu\n  retention_days: %u\n  posts_in_flight: %u\n",
		(unsigned long long)s->spool_max_bytes, s->retention_days, s->posts_in_flight);

	fprintf(f, "api:\n");
	kstr(f, 2, "socket", c->api.socket);
	kstr(f, 2, "http", c->api.http);
	kstr(f, 2, "exabgp_pipe", c->api.exabgp_pipe);
	kstr(f, 2, "exabgp_process", c->api.exabgp_process);
	fprintf(f, "  exabgp_process_withdraw: %s\n", c->api.exabgp_process_withdraw ? "true" : "false");
	kstr(f, 2, "token_file", c->api.token_file);
	kstr(f, 2, "http_hosts", c->api.http_hosts);
	fprintf(f, "  http_max_clients: %u\n  http_request_timeout: %u\n  control_max_clients: %u\n",
		c->api.http_max_clients, c->api.http_request_timeout_s, c->api.control_max_clients);

	fprintf(f, "actions:\n");
	kstr(f, 2, "notify_script", c->actions.notify_script);
	fprintf(f, "  notify_timeout: %u\n  notify_max_running: %u\n", c->actions.notify_timeout_s,
		c->actions.notify_max_running);
	kstr(f, 2, "webhook_url", c->actions.webhook_url);
	fprintf(f, "  webhook_timeout: %u\n  webhook_retries: %u\n", c->actions.webhook_timeout_s,
		c->actions.webhook_retries);
	fprintf(f, "  local_blackhole: %s\n  local_blackhole_table: %u\n", c->actions.local_blackhole ? "true" : "false",
		c->actions.local_blackhole_table);
}
