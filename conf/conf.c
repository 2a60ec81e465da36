/* The configuration schema (one table per section) and conf_load: YAML -> tree -> walk -> checks
 * across keys -> *out. Nothing reaches *out unless all of it is valid. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"

/* What the walk fills: the configuration, plus the default group's thresholds and the hostgroups
 * list, which become det_config.groups[0] and [1..] once everything is read. */
struct loader {
	struct rampart_conf c;
	struct det_hostgroup defgroup;
	struct det_hostgroup *groups;
	size_t n_groups;
};

#define SZ(T, f) sizeof(((T *)0)->f)
#define INT(n, T, f, lo, hi) {.name = n, .type = K_INT, .off = offsetof(T, f), .size = SZ(T, f), .min = lo, .max = hi}
#define DUR(n, T, f, lo, hi) \
	{.name = n, .type = K_DURATION, .off = offsetof(T, f), .size = SZ(T, f), .min = lo, .max = hi}
#define BOOL(n, T, f) {.name = n, .type = K_BOOL, .off = offsetof(T, f)}
#define STR(n, T, f, nonempty) {.name = n, .type = K_STR, .off = offsetof(T, f), .size = SZ(T, f), .min = nonempty}
#define TYPED(n, ty, T, f) {.name = n, .type = ty, .off = offsetof(T, f), .size = SZ(T, f)}
#define ENUM(n, T, f, list) {.name = n, .type = K_ENUM, .off = offsetof(T, f), .names = list}
#define MAP(n, T, f, tbl) {.name = n, .type = K_MAP, .off = offsetof(T, f), .sub = tbl}
#define LIST(n, ty, T, f, cnt, maxn) \
	{.name = n, .type = ty, .off = offsetof(T, f), .count_off = offsetof(T, cnt), .max_items = maxn}
#define END {.name = NULL}

#define DAY 86400u
#define YEAR (365u * DAY)

/* ---- thresholds ----------------------------------------------------------------------------- */

/* Within one direction's limit[class][metric]: mbps are kept as bits per second. */
#define TH(n, cls, met) \
	{.name = n, .type = K_INT, .off = ((cls) * DET_METRICS + (met)) * sizeof(uint64_t), .size = 8, .min = 0, \
	 .max = (met) == DET_BPS ? 1000000000ull : 1000000000000ull, .mult = (met) == DET_BPS ? 1000000 : 1}
#define TH_CLASS(c, cls) TH(c "_pps", cls, DET_PPS), TH(c "_mbps", cls, DET_BPS), TH(c "_flows", cls, DET_FLOWS)

static const struct ckey direction_keys[] = {
	TH("pps", DET_TOTAL, DET_PPS), TH("mbps", DET_TOTAL, DET_BPS), TH("flows", DET_TOTAL, DET_FLOWS),
	TH_CLASS("tcp", DET_TCP),      TH_CLASS("udp", DET_UDP),       TH_CLASS("icmp", DET_ICMP),
	TH_CLASS("syn", DET_SYN),      TH_CLASS("frag", DET_FRAG),     END,
};

static const struct ckey threshold_keys[] = {
	MAP("incoming", struct det_thresholds, limit[DET_IN], direction_keys),
	MAP("outgoing", struct det_thresholds, limit[DET_OUT], direction_keys),
	END,
};

/* ---- hostgroups ----------------------------------------------------------------------------- */

static const struct cenum action_names[] = {
	{"blackhole", DET_MIT_BLACKHOLE},
	{"flowspec", DET_MIT_FLOWSPEC},
	{"flowspec-then-blackhole", DET_MIT_FLOWSPEC_THEN_BLACKHOLE},
	{NULL, 0},
};

static const struct ckey group_mitigation_keys[] = {
	ENUM("action", struct det_hostgroup, mitigation, action_names),
	END,
};

/* total_scope / total_prefix_length: carpet bombing summed per group or per (sub-)prefix */
static const struct cenum scope_names[] = {
	{"group", DET_SCOPE_GROUP},
	{"prefix", DET_SCOPE_PREFIX},
	{NULL, 0},
};

static const struct ckey total_prefix_length_keys[] = {
	INT("ipv4", struct det_hostgroup, total_prefix_len_v4, 1, 32),
	INT("ipv6", struct det_hostgroup, total_prefix_len_v6, 1, 128),
	END,
};

static const struct ckey hostgroup_keys[] = {
	{.name = "name", .type = K_STR, .off = offsetof(struct det_hostgroup, name),
	 .size = SZ(struct det_hostgroup, name), .min = 1, .required = true},
	{.name = "prefixes", .type = K_PREFIX_LIST, .off = offsetof(struct det_hostgroup, prefixes),
	 .count_off = offsetof(struct det_hostgroup, n_prefixes), .required = true},
	MAP("thresholds", struct det_hostgroup, thresholds, threshold_keys),
	MAP("total", struct det_hostgroup, total, threshold_keys),
	DUR("ban_time", struct det_hostgroup, ban_time_s, 0, YEAR),
	{.name = "mitigation", .type = K_MAP, .off = 0, .sub = group_mitigation_keys},
	ENUM("total_scope", struct det_hostgroup, total_scope, scope_names),
	{.name = "total_prefix_length", .type = K_MAP, .off = 0, .sub = total_prefix_length_keys},
	END,
};

static int hostgroup_check(struct walk *w, const struct cn *node, void *array, size_t i)
{
	struct det_hostgroup *g = array;
	const struct cn *th = cn_map_get(node, "thresholds");
	/* `thresholds: {}` says "nothing per host", as FastNetMon's enable_ban off converts */
	bool none = th && th->type == CN_MAP && th->n == 0;
	g[i].thresholds_set[DET_IN] = none || cn_map_get(th, "incoming") != NULL;
	g[i].thresholds_set[DET_OUT] = none || cn_map_get(th, "outgoing") != NULL;
	const struct cn *name = cn_map_get(node, "name");
	if (!strcmp(g[i].name, "default"))
		return walk_fail_key(w, name, "name", "\"default\" is the top-level thresholds' group; pick another name");
	for (size_t j = 0; j < i; j++)
		if (!strcmp(g[i].name, g[j].name))
			return walk_fail_key(w, name, "name", "duplicate hostgroup name \"%s\" (hostgroups[%zu] has it)",
					     g[i].name, j);
	if (g[i].n_prefixes == 0)
		return walk_fail_key(w, cn_map_get(node, "prefixes"), "prefixes", "needs at least one prefix");
	const struct cn *tpl = cn_map_get(node, "total_prefix_length");
	if (tpl && g[i].total_scope != DET_SCOPE_PREFIX)
		return walk_fail_key(w, tpl, "total_prefix_length", "splits per-prefix sums: needs total_scope: prefix");
	return 0;
}

/* ---- detection, capture, mitigation ---------------------------------------------------------- */

static const struct ckey attack_pcap_keys[] = {
	BOOL("enabled", struct st_samples_config, enabled),
	STR("dir", struct st_samples_config, dir, 0),
	INT("packets", struct st_samples_config, packets, 1, 100000),
	INT("snaplen", struct st_samples_config, snaplen, 64, 65535),
	INT("keep_days", struct st_samples_config, keep_days, 0, 36500),
	INT("max_files", struct st_samples_config, max_files, 0, 100000000),
	END,
};

static const struct ckey detection_keys[] = {
	INT("tick_ms", struct det_config, tick_ms, 10, 10000),
	DUR("average_s", struct det_config, average_s, 1, 3600),
	INT("confirm_ticks", struct det_config, confirm_ticks, 0, 100),
	INT("burst_factor", struct det_config, burst_factor, 0, 1000),
	DUR("ban_time", struct det_config, ban_time_s, 1, YEAR),
	BOOL("unban_only_if_attack_finished", struct det_config, unban_only_if_attack_finished),
	INT("max_hosts", struct det_config, max_hosts, 1024, 1u << 28),
	DUR("host_idle_s", struct det_config, host_idle_s, 1, DAY),
	/* lives in rampart_conf after detect (det_config is detect/'s): the offset is from detect */
	{.name = "attack_pcap", .type = K_MAP,
	 .off = offsetof(struct rampart_conf, attack_pcap) - offsetof(struct rampart_conf, detect),
	 .sub = attack_pcap_keys},
	END,
};

static const struct ckey pcap_keys[] = {
	LIST("interfaces", K_IFNAMES, struct conf_capture, pcap_interfaces, n_pcap_interfaces, CONF_MAX_INTERFACES),
	DUR("flow_active_timeout", struct conf_capture, flow_active_timeout_s, 1, 3600),
	DUR("flow_inactive_timeout", struct conf_capture, flow_inactive_timeout_s, 1, 3600),
	INT("flow_table_size", struct conf_capture, flow_table_size, 1024, 1u << 26),
	INT("sample", struct conf_capture, pcap_sample, 1, 1000000),
	END,
};

static const struct cenum fanout_names[] = {
	{"hash", CAP_FANOUT_HASH},
	{"lb", CAP_FANOUT_LB},
	{"cpu", CAP_FANOUT_CPU},
	{NULL, 0},
};

static const struct cenum xdp_mode_names[] = {
	{"auto", CONF_XDP_AUTO},
	{"skb", CONF_XDP_SKB},
	{"native", CONF_XDP_NATIVE},
	{NULL, 0},
};

static const struct ckey afxdp_keys[] = {
	LIST("interfaces", K_IFNAMES, struct conf_afxdp, interfaces, n_interfaces, CONF_MAX_INTERFACES),
	{.name = "queues", .type = K_UINT_LIST, .off = offsetof(struct conf_afxdp, queues),
	 .count_off = offsetof(struct conf_afxdp, n_queues), .max_items = CONF_MAX_QUEUES, .min = 0, .max = 1023},
	ENUM("mode", struct conf_afxdp, mode, xdp_mode_names),
	INT("sample", struct conf_afxdp, sample, 1, 1000000),
	{.name = "cpus", .type = K_UINT_LIST, .off = offsetof(struct conf_afxdp, cpus.cpu),
	 .count_off = offsetof(struct conf_afxdp, cpus.n), .max_items = CONF_MAX_CPUS, .min = 0, .max = 4095},
	END,
};

static const struct ckey dpdk_keys[] = {
	LIST("eal", K_STRINGS, struct conf_dpdk, eal, n_eal, CONF_MAX_EAL_ARGS),
	LIST("ports", K_STRINGS, struct conf_dpdk, ports, n_ports, CONF_MAX_INTERFACES),
	INT("rx_queues", struct conf_dpdk, rx_queues, 1, 16),
	INT("workers", struct conf_dpdk, workers, 1, 16),
	INT("sample", struct conf_dpdk, sample, 1, 1000000),
	{.name = "cpus", .type = K_UINT_LIST, .off = offsetof(struct conf_dpdk, cpus.cpu),
	 .count_off = offsetof(struct conf_dpdk, cpus.n), .max_items = CONF_MAX_CPUS, .min = 0, .max = 4095},
	END,
};

static const struct ckey afpacket_keys[] = {
	LIST("interfaces", K_IFNAMES, struct conf_afpacket, interfaces, n_interfaces, CONF_MAX_INTERFACES),
	INT("workers", struct conf_afpacket, workers, 1, 16),
	ENUM("fanout", struct conf_afpacket, fanout, fanout_names),
	INT("ring_mb", struct conf_afpacket, ring_mb, 1, 4096),
	INT("block_kb", struct conf_afpacket, block_kb, 4, 65536),
	INT("sample", struct conf_afpacket, sample, 1, 1000000),
	BOOL("defrag", struct conf_afpacket, defrag),
	{.name = "cpus", .type = K_UINT_LIST, .off = offsetof(struct conf_afpacket, cpus.cpu),
	 .count_off = offsetof(struct conf_afpacket, cpus.n), .max_items = CONF_MAX_CPUS, .min = 0, .max = 4095},
	END,
};

#define LISTENERS(tbl, f, cnt) \
	static const struct ckey tbl[] = { \
		LIST("listen", K_LISTEN_LIST, struct conf_capture, f, cnt, CONF_MAX_LISTEN), \
		LIST("exporters", K_PREFIX_LIST, struct conf_capture, f##_exporters, n_##f##_exporters, 0), \
		END, \
	}
LISTENERS(sflow_keys, sflow, n_sflow);
LISTENERS(netflow_keys, netflow, n_netflow);
LISTENERS(ipfix_keys, ipfix, n_ipfix);

static const struct ckey capture_keys[] = {
	{.name = "pcap", .type = K_MAP, .sub = pcap_keys},
	MAP("afpacket", struct conf_capture, afpacket, afpacket_keys),
	MAP("afxdp", struct conf_capture, afxdp, afxdp_keys),
	MAP("dpdk", struct conf_capture, dpdk, dpdk_keys),
	{.name = "sflow", .type = K_MAP, .sub = sflow_keys},
	{.name = "netflow", .type = K_MAP, .sub = netflow_keys},
	{.name = "ipfix", .type = K_MAP, .sub = ipfix_keys},
	INT("udp_rcvbuf", struct conf_capture, udp_rcvbuf, 65536, 1u << 30),
	DUR("flow_spread", struct conf_capture, flow_spread_s, 0, 60),
	INT("udp_workers", struct conf_capture, udp_workers, 1, 8),
	INT("max_exporters", struct conf_capture, max_exporters, 1, 65536),
	INT("max_domains_per_address", struct conf_capture, max_domains_per_address, 1, 65536),
	INT("max_templates", struct conf_capture, max_templates, 1, 65536),
	INT("max_template_bytes", struct conf_capture, max_template_bytes, 65536, 1u << 31),
	DUR("exporter_idle", struct conf_capture, exporter_idle_s, 1, 86400),
	END,
};

static const struct ckey blackhole_keys[] = {
	LIST("communities", K_COMMUNITIES, struct conf_mitigation, communities, n_communities, BGP_MAX_COMMUNITIES),
	TYPED("next_hop_ipv4", K_ADDR4, struct conf_mitigation, next_hop_ipv4),
	TYPED("next_hop_ipv6", K_ADDR6, struct conf_mitigation, next_hop_ipv6),
	END,
};

static const struct ckey flowspec_keys[] = {
	INT("rate_limit_mbps", struct conf_mitigation, flowspec_rate_limit_mbps, 0, 1000000),
	INT("max_rules", struct conf_mitigation, flowspec_max_rules, 1, 100000),
	DUR("escalate_after", struct conf_mitigation, flowspec_escalate_after_s, 1, DAY),
	LIST("rules", K_FLOW_RULES, struct conf_mitigation, flowspec_rules, n_flowspec_rules, CONF_MAX_FLOW_RULES),
	END,
};

static const struct ckey mitigation_keys[] = {
	ENUM("action", struct conf_mitigation, action, action_names),
	{.name = "blackhole", .type = K_MAP, .sub = blackhole_keys},
	{.name = "flowspec", .type = K_MAP, .sub = flowspec_keys},
	INT("max_bans", struct conf_mitigation, max_bans, 1, 1u << 24),
	BOOL("dry_run", struct conf_mitigation, dry_run),
	INT("max_bans_per_minute", struct conf_mitigation, max_bans_per_minute, 0, 1u << 16),
	LIST("own_addresses", K_PREFIX_LIST, struct conf_mitigation, own_addresses, n_own_addresses, 0),
	STR("state_file", struct conf_mitigation, state_file, 0),
	END,
};

static const struct ckey actions_keys[] = {
	STR("notify_script", struct conf_actions, notify_script, 0),
	DUR("notify_timeout", struct conf_actions, notify_timeout_s, 1, 3600),
	INT("notify_max_running", struct conf_actions, notify_max_running, 1, 256),
	STR("webhook_url", struct conf_actions, webhook_url, 0),
	DUR("webhook_timeout", struct conf_actions, webhook_timeout_s, 1, 300),
	INT("webhook_retries", struct conf_actions, webhook_retries, 0, 20),
	BOOL("local_blackhole", struct conf_actions, local_blackhole),
	INT("local_blackhole_table", struct conf_actions, local_blackhole_table, 1, 0xfffffffeu),
	END,
};

/* ---- bgp ------------------------------------------------------------------------------------- */

static const struct cenum family_names[] = {
	{"ipv4-unicast", BGP_FAM_IPV4_UNICAST},
	{"ipv6-unicast", BGP_FAM_IPV6_UNICAST},
	{"ipv4-flowspec", BGP_FAM_IPV4_FLOWSPEC},
	{"ipv6-flowspec", BGP_FAM_IPV6_FLOWSPEC},
	{NULL, 0},
};

/* RFC 4271 4.2: a hold time is zero or at least three seconds. */
static bool hold_time_ok(uint64_t v)
{
	return v == 0 || v >= 3;
}

static const struct ckey peer_keys[] = {
	{.name = "address", .type = K_ADDR, .off = offsetof(struct bgp_peer_config, address), .required = true},
	{.name = "remote_as", .type = K_INT, .off = offsetof(struct bgp_peer_config, remote_as), .size = 4, .min = 1,
	 .max = UINT32_MAX, .required = true},
	{.name = "families", .type = K_FAMILIES, .off = offsetof(struct bgp_peer_config, families),
	 .names = family_names},
	BOOL("passive", struct bgp_peer_config, passive),
	STR("password", struct bgp_peer_config, password, 0),
	TYPED("local_address", K_ADDR, struct bgp_peer_config, local_address),
	{.name = "hold_time", .type = K_INT, .off = offsetof(struct bgp_peer_config, hold_time), .size = 2, .min = 0,
	 .max = 65535, .valid = hold_time_ok, .expect = "0 or an integer 3..65535"},
	INT("ttl", struct bgp_peer_config, ttl, 0, 255),
	BOOL("extended_next_hop", struct bgp_peer_config, extended_next_hop),
	STR("description", struct bgp_peer_config, description, 0),
	INT("port", struct bgp_peer_config, port, 1, 65535),
	END,
};

static void peer_defaults(void *elem)
{
	struct bgp_peer_config *p = elem;
	memset(p, 0, sizeof *p);
	p->port = 179;
	p->families = BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST;
	p->hold_time = 90;
	p->extended_next_hop = true;
}

static int peer_check(struct walk *w, const struct cn *node, void *array, size_t i)
{
	const struct bgp_peer_config *p = array;
	char a[IP_STRLEN];
	if (ip_is_zero(&p[i].address))
		return walk_fail_key(w, cn_map_get(node, "address"), "address", "expected a peer's address, got %s",
				     ip_format(&p[i].address, a));
	const struct cn *la = cn_map_get(node, "local_address");
	if (la && ip_is_v4(&p[i].local_address) != ip_is_v4(&p[i].address))
		return walk_fail_key(w, la, "local_address", "must be of the same family as the peer's address %s",
				     ip_format(&p[i].address, a));
	for (size_t j = 0; j < i; j++)
		if (ip_equal(&p[i].address, &p[j].address) && p[i].port == p[j].port)
			return walk_fail_key(w, cn_map_get(node, "address"), "address",
					     "duplicate peer %s (bgp.peers[%zu] has it)", ip_format(&p[i].address, a), j);
	return 0;
}

static const struct ckey bgp_keys[] = {
	INT("local_as", struct bgp_config, local_as, 1, UINT32_MAX),
	TYPED("router_id", K_ROUTER_ID, struct bgp_config, router_id),
	TYPED("listen", K_ADDR, struct bgp_config, listen_address),
	INT("listen_port", struct bgp_config, listen_port, 1, 65535),
	DUR("connect_retry", struct bgp_config, connect_retry_s, 1, 3600),
	DUR("graceful_restart", struct bgp_config, graceful_restart_s, 0, 4095),
	DUR("end_of_rib_delay", struct bgp_config, end_of_rib_delay_s, 0, 600),
	{.name = "peers", .type = K_SEQ_MAP, .off = offsetof(struct bgp_config, peers),
	 .count_off = offsetof(struct bgp_config, n_peers), .max_items = 1024,
	 .elem_size = sizeof(struct bgp_peer_config), .sub = peer_keys, .init = peer_defaults, .check = peer_check},
	END,
};

/* ---- storage, api, top level ----------------------------------------------------------------- */

static const struct cenum st_format_names[] = {
	{"rowbinary", ST_FORMAT_ROWBINARY},
	{"native", ST_FORMAT_NATIVE},
	{NULL, 0},
};

static const struct cenum st_compression_names[] = {
	{"none", ST_COMPRESSION_NONE},
	{"gzip", ST_COMPRESSION_GZIP},
	{NULL, 0},
};

static const struct ckey clickhouse_keys[] = {
	TYPED("url", K_URL, struct st_config, clickhouse_url),
	{.name = "database", .type = K_IDENT, .off = offsetof(struct st_config, database),
	 .size = SZ(struct st_config, database), .min = 1},
	STR("user", struct st_config, user, 0),
	STR("password", struct st_config, password, 0),
	/* a ClickHouse cluster (Distributed tables), the INSERT body's format */
	{.name = "cluster", .type = K_IDENT, .off = offsetof(struct st_config, cluster),
	 .size = SZ(struct st_config, cluster), .min = 0},
	ENUM("format", struct st_config, format, st_format_names),
	ENUM("compression", struct st_config, compression, st_compression_names),
	END,
};

static const struct ckey storage_keys[] = {
	{.name = "clickhouse", .type = K_MAP, .sub = clickhouse_keys},
	STR("dir", struct st_config, dir, 1),
	INT("batch_rows", struct st_config, batch_rows, 1, 10000000),
	INT("batch_ms", struct st_config, batch_ms, 1, 3600000),
	INT("queue_rows", struct st_config, queue_rows, 1024, 1u << 26),
	/* the disk spool while ClickHouse is down, and retention */
	STR("spool_dir", struct st_config, spool_dir, 0),
	INT("spool_max_bytes", struct st_config, spool_max_bytes, 1u << 20, 1ull << 50),
	INT("retention_days", struct st_config, retention_days, 0, 36500),
	INT("posts_in_flight", struct st_config, posts_in_flight, 1, 4),
	END,
};

static const struct ckey api_keys[] = {
	STR("socket", struct conf_api, socket, 1),
	TYPED("http", K_LISTEN, struct conf_api, http),
	STR("exabgp_pipe", struct conf_api, exabgp_pipe, 0),
	STR("exabgp_process", struct conf_api, exabgp_process, 0),
	BOOL("exabgp_process_withdraw", struct conf_api, exabgp_process_withdraw),
	STR("token_file", struct conf_api, token_file, 0),
	STR("http_hosts", struct conf_api, http_hosts, 0),
	INT("http_max_clients", struct conf_api, http_max_clients, 1, 10000),
	DUR("http_request_timeout", struct conf_api, http_request_timeout_s, 1, 300),
	INT("control_max_clients", struct conf_api, control_max_clients, 1, 1000),
	END,
};

static const struct cenum log_level_names[] = {
	{"debug", CONF_LOG_DEBUG},
	{"info", CONF_LOG_INFO},
	{"warn", CONF_LOG_WARN},
	{"error", CONF_LOG_ERR},
	{NULL, 0},
};

static const struct ckey top_keys[] = {
	ENUM("log_level", struct loader, c.log_level, log_level_names),
	LIST("networks", K_PREFIX_LIST, struct loader, c.detect.networks, c.detect.n_networks, 0),
	LIST("whitelist", K_PREFIX_LIST, struct loader, c.detect.whitelist, c.detect.n_whitelist, 0),
	MAP("thresholds", struct loader, defgroup.thresholds, threshold_keys),
	{.name = "hostgroups", .type = K_SEQ_MAP, .off = offsetof(struct loader, groups),
	 .count_off = offsetof(struct loader, n_groups), .max_items = 4096, .elem_size = sizeof(struct det_hostgroup),
	 .sub = hostgroup_keys, .check = hostgroup_check},
	MAP("detection", struct loader, c.detect, detection_keys),
	MAP("capture", struct loader, c.capture, capture_keys),
	MAP("mitigation", struct loader, c.mitigation, mitigation_keys),
	MAP("bgp", struct loader, c.bgp, bgp_keys),
	MAP("storage", struct loader, c.storage, storage_keys),
	MAP("api", struct loader, c.api, api_keys),
	MAP("actions", struct loader, c.actions, actions_keys),
	STR("user", struct loader, c.user, 0),
	END,
};

/* ---- defaults ------------------------------------------------------------------------------- */

/* Conf's own copy of each module's defaults (the values their headers document), so that conf
 * does not depend on the modules' code. */
void conf_defaults(struct rampart_conf *c)
{
	memset(c, 0, sizeof *c);
	struct det_config *d = &c->detect;
	d->tick_ms = 100;
	d->average_s = 1;
	d->confirm_ticks = 2;
	d->burst_factor = 3;
	d->ban_time_s = 600;
	d->unban_only_if_attack_finished = true;
	d->max_bans = 1000;
	d->max_hosts = 1u << 20;
	d->host_idle_s = 60;

	c->attack_pcap.packets = 500;
	c->attack_pcap.snaplen = 256;
	c->attack_pcap.keep_days = 30;
	c->attack_pcap.max_files = 10000;

	c->capture.flow_active_timeout_s = 60;
	c->capture.flow_inactive_timeout_s = 15;
	c->capture.flow_table_size = 262144;
	c->capture.udp_rcvbuf = 32u << 20;
	c->capture.flow_spread_s = 4;
	c->capture.udp_workers = 1;
	c->capture.pcap_sample = 1;
	c->capture.afpacket.workers = 1;
	c->capture.afpacket.fanout = CAP_FANOUT_HASH;
	c->capture.afpacket.ring_mb = 64;
	c->capture.afpacket.block_kb = 1024;
	c->capture.afpacket.sample = 1;
	c->capture.afxdp.n_queues = 1; /* queue 0 */
	c->capture.afxdp.mode = CONF_XDP_AUTO;
	c->capture.afxdp.sample = 1;
	c->capture.dpdk.rx_queues = 1;
	c->capture.dpdk.workers = 1;
	c->capture.dpdk.sample = 1;
	c->capture.max_exporters = 256;
	c->capture.max_domains_per_address = 64;
	c->capture.max_templates = 256;
	c->capture.max_template_bytes = 16u << 20;
	c->capture.exporter_idle_s = 300;

	c->mitigation.action = DET_MIT_BLACKHOLE;
	c->mitigation.max_bans = 1000;
	c->mitigation.flowspec_max_rules = 1000;
	c->mitigation.flowspec_escalate_after_s = 60;
	c->actions.notify_timeout_s = 30;
	c->actions.notify_max_running = 8;
	c->actions.webhook_timeout_s = 5;
	c->actions.webhook_retries = 3;
	c->actions.local_blackhole_table = 254;

	c->bgp.listen_port = 179;
	c->bgp.connect_retry_s = 5;
	c->bgp.graceful_restart_s = 120;
	c->bgp.end_of_rib_delay_s = 5;

	snprintf(c->storage.database, sizeof c->storage.database, "rampart");
	snprintf(c->storage.dir, sizeof c->storage.dir, "/var/lib/rampart");
	c->storage.batch_rows = 100000;
	c->storage.batch_ms = 1000;
	c->storage.queue_rows = 262144;
	c->storage.spool_max_bytes = 1ull << 30; /* spool_dir "" = DIR/spool; retention_days 0 = keep */
	c->storage.posts_in_flight = 3;

	snprintf(c->api.socket, sizeof c->api.socket, "/run/rampart/rampart.sock");
	snprintf(c->api.http, sizeof c->api.http, "127.0.0.1:8080");
	c->api.exabgp_process_withdraw = true;
	c->api.http_max_clients = 64;
	c->api.http_request_timeout_s = 10;
	c->api.control_max_clients = 16;
	c->log_level = CONF_LOG_INFO;
}

void conf_free(struct rampart_conf *c)
{
	if (!c)
		return;
	free(c->detect.networks);
	free(c->detect.whitelist);
	free(c->mitigation.flowspec_rules);
	free(c->mitigation.own_addresses); /* c->detect.own is the same list */
	free(c->capture.sflow_exporters);
	free(c->capture.netflow_exporters);
	free(c->capture.ipfix_exporters);
	for (size_t i = 0; i < c->detect.n_groups; i++)
		free(c->detect.groups[i].prefixes);
	free(c->detect.groups);
	free(c->bgp.peers);
	for (size_t i = 0; i < c->capture.n_pcap_interfaces; i++)
		free(c->capture.pcap_interfaces[i]);
	for (size_t i = 0; i < c->capture.afpacket.n_interfaces; i++)
		free(c->capture.afpacket.interfaces[i]);
	for (size_t i = 0; i < c->capture.afxdp.n_interfaces; i++)
		free(c->capture.afxdp.interfaces[i]);
	for (size_t i = 0; i < c->capture.dpdk.n_eal; i++)
		free(c->capture.dpdk.eal[i]);
	for (size_t i = 0; i < c->capture.dpdk.n_ports; i++)
		free(c->capture.dpdk.ports[i]);
	memset(c, 0, sizeof *c);
}

static void loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->n_groups; i++)
		free(l->groups[i].prefixes);
	free(l->groups);
	free(l->defgroup.prefixes);
	conf_free(&l->c);
}

/* One prefix in two hostgroups would leave a host's group to the order of insertion: refuse it. */
static int check_group_prefixes(struct walk *w, const struct cn *root, const struct loader *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n_groups; i++)
		n += l->groups[i].n_prefixes;
	if (n < 2)
		return 0;
	struct conf_pref_ref *refs = calloc(n, sizeof *refs), first, again;
	if (!refs)
		return walk_fail(w, root, "out of memory");
	n = 0;
	for (size_t i = 0; i < l->n_groups; i++)
		for (size_t k = 0; k < l->groups[i].n_prefixes; k++)
			refs[n++] = (struct conf_pref_ref){.p = l->groups[i].prefixes[k], .a = (uint32_t)i, .b = (uint32_t)k};
	bool dup = conf_find_dup(refs, n, &first, &again);
	free(refs);
	if (!dup)
		return 0;
	/* within one group the prefix list already refused it, so these are two groups */
	const struct cn *at = cn_map_get(cn_map_get(root, "hostgroups")->kids[again.a], "prefixes")->kids[again.b];
	char p[IP_PREFIX_STRLEN];
	size_t saved = walk_push(w, "hostgroups[%u].prefixes[%u]", again.a, again.b);
	walk_fail(w, at, "%s is also in hostgroups[%u] (\"%s\"): a host has one group", ip_prefix_format(&again.p, p),
		  first.a, l->groups[first.a].name);
	walk_pop(w, saved);
	return -1;
}

/* A CPU the machine does not have would fail at start with a reason naming no key. One the
 * machine has but the daemon may not use (taskset, CPUAffinity=) is refused at start, when the
 * worker is pinned. */
static int check_cpus(struct walk *w, const struct cn *section, const char *name, const struct conf_cpus *c)
{
	long have = sysconf(_SC_NPROCESSORS_CONF);
	for (size_t i = 0; section && i < c->n; i++)
		if (have > 0 && c->cpu[i] >= (uint32_t)have)
			return walk_fail(w, cn_map_get(section, "cpus")->kids[i], "capture.%s.cpus[%zu]: CPU %u does not "
					 "exist (this machine has CPUs 0-%ld)", name, i, c->cpu[i], have - 1);
	return 0;
}

/* An interface read by two sources would count every packet twice; a ring must hold two blocks. */
static int check_capture(struct walk *w, const struct cn *root, const struct conf_capture *cc)
{
	const struct cn *cap = cn_map_get(root, "capture");
	if (check_cpus(w, cn_map_get(cap, "afpacket"), "afpacket", &cc->afpacket.cpus) != 0 ||
	    check_cpus(w, cn_map_get(cap, "afxdp"), "afxdp", &cc->afxdp.cpus) != 0 ||
	    check_cpus(w, cn_map_get(cap, "dpdk"), "dpdk", &cc->dpdk.cpus) != 0)
		return -1;
	const struct cn *dp = cn_map_get(cap, "dpdk");
	if (dp && cc->dpdk.workers > cc->dpdk.rx_queues)
		return walk_fail(w, cn_map_get(dp, "workers"), "capture.dpdk.workers: %u workers for %u RX queues: a worker "
				 "would have none (at most rx_queues)", cc->dpdk.workers, cc->dpdk.rx_queues);
	/* a port started twice is refused by DPDK with a reason that names no key */
	for (size_t i = 0; dp && i < cc->dpdk.n_ports; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cc->dpdk.ports[i], cc->dpdk.ports[j]))
				return walk_fail(w, cn_map_get(dp, "ports")->kids[i], "capture.dpdk.ports[%zu]: duplicate %s "
						 "(entry [%zu] has it)", i, cc->dpdk.ports[i], j);
	const struct cn *xdp = cn_map_get(cap, "afxdp");
	if (xdp) {
		const struct conf_afxdp *x = &cc->afxdp;
		size_t saved = walk_push(w, "capture.afxdp");
		if (cn_map_get(xdp, "queues") && x->n_queues == 0)
			return walk_fail_key(w, cn_map_get(xdp, "queues"), "queues", "needs at least one RX queue");
		for (size_t i = 0; i < x->n_interfaces; i++)
			for (size_t j = 0; j < cc->n_pcap_interfaces + cc->afpacket.n_interfaces; j++) {
				const char *o = j < cc->n_pcap_interfaces ? cc->pcap_interfaces[j]
									  : cc->afpacket.interfaces[j - cc->n_pcap_interfaces];
				if (!strcmp(x->interfaces[i], o))
					return walk_fail_key(w, cn_map_get(xdp, "interfaces")->kids[i], "interfaces",
							     "%s is also in capture.%s.interfaces: every packet would count twice",
							     o, j < cc->n_pcap_interfaces ? "pcap" : "afpacket");
			}
		walk_pop(w, saved);
	}
	const struct cn *afp = cn_map_get(cap, "afpacket");
	if (!afp)
		return 0;
	const struct conf_afpacket *a = &cc->afpacket;
	size_t saved = walk_push(w, "capture.afpacket");
	for (size_t i = 0; i < a->n_interfaces; i++)
		for (size_t j = 0; j < cc->n_pcap_interfaces; j++)
			if (!strcmp(a->interfaces[i], cc->pcap_interfaces[j]))
				return walk_fail_key(w, cn_map_get(afp, "interfaces")->kids[i], "interfaces",
						     "%s is also in capture.pcap.interfaces: every packet would count twice",
						     a->interfaces[i]);
	if (a->block_kb & (a->block_kb - 1))
		return walk_fail_key(w, cn_map_get(afp, "block_kb"), "block_kb", "must be a power of two, not %u",
				     a->block_kb);
	if ((uint64_t)a->ring_mb * 1024 < 2ull * a->block_kb)
		return walk_fail_key(w, afp, "ring_mb", "%u MiB holds fewer than two blocks of block_kb %u KiB",
				     a->ring_mb, a->block_kb);
	walk_pop(w, saved);
	return 0;
}

/* ---- checks across keys, and the assembly of det_config.groups -------------------------------- */

static int finish(struct walk *w, const struct cn *root, struct loader *l)
{
	struct rampart_conf *c = &l->c;
	const struct cn *nets = cn_map_get(root, "networks");
	if (!nets)
		return walk_fail_key(w, root, "networks", "required: at least one monitored prefix");
	if (c->detect.n_networks == 0)
		return walk_fail_key(w, nets, "networks", "needs at least one monitored prefix");

	const struct cn *bgp = cn_map_get(root, "bgp");
	c->bgp_enabled = bgp != NULL;
	if (c->bgp.n_peers > 0) {
		size_t saved = walk_push(w, "bgp");
		if (!cn_map_get(bgp, "local_as"))
			return walk_fail_key(w, bgp, "local_as", "required when peers are configured");
		if (!cn_map_get(bgp, "router_id"))
			return walk_fail_key(w, bgp, "router_id", "required when peers are configured");
		walk_pop(w, saved);
	}

	if (check_group_prefixes(w, root, l))
		return -1;
	if (check_capture(w, root, &c->capture))
		return -1;
	/* the ban state file lives beside the data unless placed elsewhere or turned off ("") */
	if (!cn_map_get(cn_map_get(root, "mitigation"), "state_file") &&
	    snprintf(c->mitigation.state_file, sizeof c->mitigation.state_file, "%s/bans.state", c->storage.dir) >=
		    (int)sizeof c->mitigation.state_file)
		return walk_fail(w, root, "storage.dir is too long for the ban state file beside it (mitigation.state_file)");
	c->detect.max_bans = c->mitigation.max_bans;
	c->detect.max_bans_per_minute = c->mitigation.max_bans_per_minute;
	c->detect.own = c->mitigation.own_addresses;
	c->detect.n_own = c->mitigation.n_own_addresses;

	struct det_hostgroup *g = calloc(l->n_groups + 1, sizeof *g);
	if (!g)
		return walk_fail(w, root, "out of memory");
	g[0] = l->defgroup;
	snprintf(g[0].name, sizeof g[0].name, "default");
	g[0].prefixes = NULL; /* the default group has the networks */
	g[0].n_prefixes = 0;
	if (l->n_groups)
		memcpy(g + 1, l->groups, l->n_groups * sizeof *g);
	/* a direction a hostgroup's thresholds leave out is checked with the top-level limits (an
	 * explicit `outgoing: {}`, or `thresholds: {}`, turns it off for the group) */
	g[0].thresholds_set[DET_IN] = g[0].thresholds_set[DET_OUT] = true;
	for (size_t k = 1; k <= l->n_groups; k++)
		for (int d = 0; d < DET_DIRECTIONS; d++)
			if (!g[k].thresholds_set[d])
				memcpy(g[k].thresholds.limit[d], g[0].thresholds.limit[d], sizeof g[k].thresholds.limit[d]);
	c->detect.groups = g;
	c->detect.n_groups = 1 + l->n_groups;
	free(l->groups); /* the elements moved into g; their prefixes now belong to c */
	l->groups = NULL;
	l->n_groups = 0;
	return 0;
}

int conf_load_string(const char *yaml, size_t len, const char *name, struct rampart_conf *out, char *err,
		     size_t errlen)
{
	struct cn *root;
	if (cn_parse(yaml, len, name, &root, err, errlen) != 0)
		return -1;
	struct loader *l = calloc(1, sizeof *l);
	if (!l) {
		cn_free(root);
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	conf_defaults(&l->c);
	snprintf(l->c.path, sizeof l->c.path, "%s", name);
	struct walk w = {.name = name, .err = err, .errlen = errlen};
	struct cn empty = {.type = CN_MAP, .line = 1, .col = 1};
	const struct cn *top = root ? root : &empty;
	int rc = walk_map(&w, top_keys, top, l);
	if (rc == 0)
		rc = finish(&w, top, l);
	cn_free(root);
	if (rc != 0) {
		loader_free(l);
		free(l);
		return -1;
	}
	*out = l->c;
	free(l);
	return 0;
}

int conf_load(const char *path, struct rampart_conf *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(CONF_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, CONF_MAX_BYTES + 1, f) : 0;
	bool bad = !buf || ferror(f);
	int e = errno;
	fclose(f);
	if (bad) {
		free(buf);
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(buf ? e : ENOMEM));
		return -1;
	}
	int rc = conf_load_string(buf, n, path, out, err, errlen);
	free(buf);
	return rc;
}

void conf_flow_config(const struct conf_capture *c, enum cap_flow_proto proto, struct cap_flow_config *out)
{
	*out = (struct cap_flow_config){
		.max_exporters = c->max_exporters,
		.max_domains_per_addr = c->max_domains_per_address,
		.max_templates = c->max_templates,
		.max_template_bytes = c->max_template_bytes,
		.idle_s = c->exporter_idle_s,
	};
	switch (proto) {
	case CAP_FLOW_PROTO_SFLOW:
		out->allow = c->sflow_exporters;
		out->n_allow = c->n_sflow_exporters;
		break;
	case CAP_FLOW_PROTO_IPFIX:
		out->allow = c->ipfix_exporters;
		out->n_allow = c->n_ipfix_exporters;
		break;
	case CAP_FLOW_PROTO_NETFLOW:
		out->allow = c->netflow_exporters;
		out->n_allow = c->n_netflow_exporters;
		break;
	}
}
