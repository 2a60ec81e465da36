/* conf/: the example configs load, every kind of error names file:line:col and key, values land
 * where the modules read them, and print -> load gives back the same configuration. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "../../conf/conf.h"

#define NETS "networks: [10.0.0.0/8]\n"

static int load(const char *yaml, struct rampart_conf *c, char *err, size_t errlen)
{
	return conf_load_string(yaml, strlen(yaml), "rampart.yaml", c, err, errlen);
}

static void load_ok(const char *yaml, struct rampart_conf *c)
{
	char err[512] = "";
	int rc = load(yaml, c, err, sizeof err);
	if (rc != 0)
		fail_msg("unexpected error: %s\n--- for:\n%s", err, yaml);
}

/* Tests run from the repository root (make unit); fall back for a run from build/tests. */
static int load_file(const char *rel, struct rampart_conf *c, char *err, size_t errlen)
{
	char path[256];
	FILE *f = fopen(rel, "r");
	if (f) {
		fclose(f);
		return conf_load(rel, c, err, errlen);
	}
	snprintf(path, sizeof path, "../../%s", rel);
	return conf_load(path, c, err, errlen);
}

static void assert_prefix(const ip_prefix *p, const char *s)
{
	char buf[IP_PREFIX_STRLEN];
	assert_string_equal(ip_prefix_format(p, buf), s);
}

static void assert_addr(const ip_addr *a, const char *s)
{
	char buf[IP_STRLEN];
	assert_string_equal(ip_format(a, buf), s);
}

/* ---- the example configs -------------------------------------------------------------------- */

static void test_example_loads(void **state)
{
	(void)state;
	struct rampart_conf c;
	char err[512] = "";
	if (load_file("conf/rampart.yaml", &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.detect.n_networks, 2);
	assert_prefix(&c.detect.networks[0], "192.0.2.0/24");
	assert_prefix(&c.detect.networks[1], "2001:db8:10::/48");
	assert_int_equal(c.detect.n_groups, 1);
	assert_string_equal(c.detect.groups[0].name, "default");
	assert_int_equal(c.detect.groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS], 500);
	assert_false(c.bgp_enabled); /* nothing is announced by make run */
	assert_int_equal(c.bgp.n_peers, 0);
	assert_string_equal(c.storage.clickhouse_url, "");
	assert_string_equal(c.storage.dir, "/var/lib/rampart");
	assert_string_equal(c.api.socket, "/run/rampart/rampart.sock");
	assert_int_equal(c.capture.n_pcap_interfaces, 1);
	assert_string_equal(c.capture.pcap_interfaces[0], "lo");
	assert_int_equal(c.mitigation.action, DET_MIT_BLACKHOLE);
	assert_false(c.mitigation.dry_run);
	conf_free(&c);
	assert_null(c.detect.networks); /* conf_free zeroes, so a second call is harmless */
	conf_free(&c);
}

static void test_full_example(void **state)
{
	(void)state;
	struct rampart_conf c;
	char err[512] = "";
	if (load_file("conf/examples/full.yaml", &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(c.bgp_enabled);
	assert_int_equal(c.bgp.local_as, 65001);
	assert_int_equal(c.bgp.router_id, 0x0A4D0001); /* 10.77.0.1 in host order */
	assert_int_equal(c.bgp.n_peers, 2);
	assert_addr(&c.bgp.peers[0].address, "10.77.0.2");
	assert_int_equal(c.bgp.peers[0].remote_as, 65002);
	assert_int_equal(c.bgp.peers[0].families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST |
							   BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC);
	assert_int_equal(c.bgp.peers[0].hold_time, 90); /* default */
	assert_int_equal(c.bgp.peers[0].port, 179);
	assert_false(c.bgp.peers[0].passive);
	assert_addr(&c.bgp.peers[1].address, "2001:db8::2");
	assert_string_equal(c.bgp.peers[1].password, "s3cret");
	assert_true(c.bgp.peers[1].passive);
	assert_int_equal(c.bgp.peers[1].hold_time, 30);
	assert_int_equal(c.bgp.peers[1].families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST);
	assert_string_equal(c.storage.clickhouse_url, "http://127.0.0.1:8123");
	assert_int_equal(c.detect.n_groups, 3);
	assert_int_equal(c.detect.ban_time_s, 600); /* "10m" */
	assert_int_equal(c.capture.n_netflow, 2);
	assert_string_equal(c.capture.netflow[1].addr, "[::]:2055");
	assert_int_equal(c.mitigation.n_communities, 2);
	assert_int_equal(c.mitigation.communities[0], BGP_COMMUNITY_BLACKHOLE);
	assert_int_equal(c.mitigation.communities[1], 65001u << 16 | 666);
	assert_addr(&c.mitigation.next_hop_ipv6, "2001:db8::254");
	conf_free(&c);
}

static void test_defaults(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS, &c);
	assert_int_equal(c.detect.tick_ms, 100);
	assert_int_equal(c.detect.average_s, 1);
	assert_int_equal(c.detect.ban_time_s, 600);
	assert_true(c.detect.unban_only_if_attack_finished);
	assert_int_equal(c.detect.max_bans, 1000);
	assert_int_equal(c.detect.max_hosts, 1u << 20);
	assert_int_equal(c.detect.host_idle_s, 60);
	assert_int_equal(c.bgp.listen_port, 179);
	assert_int_equal(c.bgp.connect_retry_s, 5);
	assert_int_equal(c.bgp.graceful_restart_s, 120);
	assert_int_equal(c.bgp.end_of_rib_delay_s, 5);
	assert_false(c.bgp_enabled);
	assert_string_equal(c.storage.database, "rampart");
	assert_string_equal(c.storage.dir, "/var/lib/rampart");
	assert_int_equal(c.storage.batch_rows, 100000);
	assert_int_equal(c.storage.batch_ms, 1000);
	assert_int_equal(c.storage.queue_rows, 262144);
	assert_string_equal(c.storage.spool_dir, "");
	assert_int_equal(c.storage.spool_max_bytes, 1ull << 30);
	assert_int_equal(c.storage.retention_days, 0);
	assert_int_equal(c.storage.posts_in_flight, 3);
	assert_string_equal(c.storage.cluster, "");
	assert_int_equal(c.storage.format, ST_FORMAT_NATIVE);
	assert_int_equal(c.storage.compression, ST_COMPRESSION_NONE);
	assert_string_equal(c.api.socket, "/run/rampart/rampart.sock");
	assert_string_equal(c.api.http, "127.0.0.1:8080");
	assert_string_equal(c.api.exabgp_pipe, "");
	assert_true(c.api.exabgp_process_withdraw);
	assert_int_equal(c.capture.flow_active_timeout_s, 60);
	assert_int_equal(c.capture.flow_inactive_timeout_s, 15);
	assert_int_equal(c.capture.flow_table_size, 262144);
	assert_int_equal(c.capture.udp_rcvbuf, 32u << 20);
	assert_int_equal(c.capture.flow_spread_s, 4);
	assert_int_equal(c.capture.udp_workers, 1);
	assert_int_equal(c.capture.n_netflow_exporters, 0);
	assert_int_equal(c.capture.max_exporters, 256);
	assert_int_equal(c.capture.max_domains_per_address, 64);
	assert_int_equal(c.capture.max_templates, 256);
	assert_int_equal(c.capture.max_template_bytes, 16u << 20);
	assert_int_equal(c.capture.exporter_idle_s, 300);
	assert_int_equal(c.mitigation.action, DET_MIT_BLACKHOLE);
	assert_int_equal(c.mitigation.max_bans, 1000);
	assert_false(c.actions.local_blackhole);
	assert_int_equal(c.actions.local_blackhole_table, 254);
	assert_int_equal(c.log_level, CONF_LOG_INFO);
	assert_int_equal(c.detect.n_groups, 1);
	assert_string_equal(c.path, "rampart.yaml");
	conf_free(&c);
}

/* ---- errors: the exact message, and *out untouched ------------------------------------------ */

struct err_case {
	const char *yaml;
	const char *err;
};

static const struct err_case err_cases[] = {
	/* unknown keys, at every depth */
	{NETS "foo: 1\n",
	 "rampart.yaml:2:1: foo: unknown key (expected log_level, networks, whitelist, thresholds, hostgroups, "
	 "detection, capture, mitigation, bgp, storage, api, actions, user)"},
	{NETS "capture:\n  pcap:\n    interface: [eth0]\n",
	 "rampart.yaml:4:5: capture.pcap.interface: unknown key (expected interfaces, flow_active_timeout, "
	 "flow_inactive_timeout, flow_table_size, sample)"},
	{NETS "thresholds: { incoming: { ppps: 5 } }\n",
	 "rampart.yaml:2:27: thresholds.incoming.ppps: unknown key (expected pps, mbps, flows, tcp_pps, tcp_mbps, "
	 "tcp_flows, udp_pps, udp_mbps, udp_flows, icmp_pps, icmp_mbps, icmp_flows, syn_pps, syn_mbps, syn_flows, "
	 "frag_pps, frag_mbps, frag_flows)"},
	/* wrong types */
	{"networks: [10.0.0.0/8]\nbgp:\n  local_as: 1\n  router_id: 1.2.3.4\n  peers:\n"
	 "    - { address: 10.0.0.1, remote_as: 2 }\n    - address: 10.0.0.2\n      remote_as: abc\n",
	 "rampart.yaml:8:18: bgp.peers[1].remote_as: expected an integer 1..4294967295, got \"abc\""},
	{NETS "detection: [1, 2]\n", "rampart.yaml:2:12: detection: expected a mapping of keys, got a list"},
	{"networks: 10.0.0.0/8\n", "rampart.yaml:1:11: networks: expected a list of prefixes, got \"10.0.0.0/8\""},
	{NETS "mitigation: { dry_run: yes }\n", "rampart.yaml:2:24: mitigation.dry_run: expected true or false, got \"yes\""},
	{NETS "detection: { tick_ms: }\n", "rampart.yaml:2:23: detection.tick_ms: expected an integer 10..10000, got nothing"},
	{NETS "detection: { ban_time: 10x }\n",
	 "rampart.yaml:2:24: detection.ban_time: expected a duration of 1..31536000 seconds (like 600, 90s, 10m, 1h, "
	 "1d), got \"10x\""},
	{NETS "mitigation: { action: drop }\n",
	 "rampart.yaml:2:23: mitigation.action: expected one of blackhole, flowspec, flowspec-then-blackhole, got "
	 "\"drop\""},
	{NETS "log_level: verbose\n",
	 "rampart.yaml:2:12: log_level: expected one of debug, info, warn, error, got \"verbose\""},
	/* prefixes and addresses */
	{"networks: [192.0.2.1/24]\n",
	 "rampart.yaml:1:12: networks[0]: host bits set in \"192.0.2.1/24\" (the network is 192.0.2.0/24)"},
	{"networks: [10.0.0.0/8, \"2001:db8::1/32\"]\n",
	 "rampart.yaml:1:24: networks[1]: host bits set in \"2001:db8::1/32\" (the network is 2001:db8::/32)"},
	{NETS "whitelist: [10.0.0.0/33]\n",
	 "rampart.yaml:2:13: whitelist[0]: expected a prefix like 192.0.2.0/24 or 2001:db8::/32, got \"10.0.0.0/33\""},
	{NETS "bgp: { peers: [ { address: 10.0.0.300, remote_as: 1 } ] }\n",
	 "rampart.yaml:2:28: bgp.peers[0].address: expected an IP address, got \"10.0.0.300\""},
	{NETS "mitigation: { blackhole: { next_hop_ipv4: \"2001:db8::1\" } }\n",
	 "rampart.yaml:2:43: mitigation.blackhole.next_hop_ipv4: expected an IPv4 address, got \"2001:db8::1\""},
	{NETS "mitigation: { blackhole: { next_hop_ipv6: 192.0.2.1 } }\n",
	 "rampart.yaml:2:43: mitigation.blackhole.next_hop_ipv6: expected an IPv6 address, got \"192.0.2.1\""},
	{NETS "bgp: { router_id: 0.0.0.0 }\n",
	 "rampart.yaml:2:19: bgp.router_id: expected a non-zero IPv4 address, got \"0.0.0.0\""},
	{NETS "capture: { sflow: { listen: [\"0.0.0.0\"] } }\n",
	 "rampart.yaml:2:30: capture.sflow.listen[0]: expected ADDRESS:PORT (a.b.c.d:port or [ipv6]:port, port "
	 "1..65535), got \"0.0.0.0\""},
	{NETS "capture: { ipfix: { listen: [\"[::1]:0\"] } }\n",
	 "rampart.yaml:2:30: capture.ipfix.listen[0]: expected ADDRESS:PORT (a.b.c.d:port or [ipv6]:port, port "
	 "1..65535), got \"[::1]:0\""},
	{NETS "api: { http: \"localhost:8080\" }\n",
	 "rampart.yaml:2:14: api.http: expected ADDRESS:PORT (a.b.c.d:port or [ipv6]:port, port 1..65535), got "
	 "\"localhost:8080\""},
	/* duplicates */
	{NETS "networks: []\n", "rampart.yaml:2:1: networks: duplicate key (first at line 1, column 1)"},
	{NETS "detection:\n  tick_ms: 100\n  tick_ms: 200\n",
	 "rampart.yaml:4:3: detection.tick_ms: duplicate key (first at line 3, column 3)"},
	{NETS "hostgroups:\n  - { name: web, prefixes: [10.1.0.0/16] }\n  - { name: web, prefixes: [10.2.0.0/16] }\n",
	 "rampart.yaml:4:13: hostgroups[1].name: duplicate hostgroup name \"web\" (hostgroups[0] has it)"},
	{NETS "bgp: { local_as: 1, router_id: 1.1.1.1, peers: [ { address: 10.0.0.1, remote_as: 2 },\n"
	      "  { address: 10.0.0.1, remote_as: 3 } ] }\n",
	 "rampart.yaml:3:14: bgp.peers[1].address: duplicate peer 10.0.0.1 (bgp.peers[0] has it)"},
	/* out of range */
	{NETS "detection: { tick_ms: 5 }\n", "rampart.yaml:2:23: detection.tick_ms: expected an integer 10..10000, got \"5\""},
	/* capture.afxdp */
	{NETS "capture: { afxdp: { interfaces: [eth2], queues: [0, 1, 0] } }\n",
	 "rampart.yaml:2:56: capture.afxdp.queues[2]: duplicate 0 (entry [0] has it)"},
	{NETS "capture: { afxdp: { mode: fast } }\n",
	 "rampart.yaml:2:27: capture.afxdp.mode: expected one of auto, skb, native, got \"fast\""},
	{NETS "capture: { afxdp: { queues: [] } }\n",
	 "rampart.yaml:2:29: capture.afxdp.queues: needs at least one RX queue"},
	{NETS "capture: { afpacket: { interfaces: [eth2] }, afxdp: { interfaces: [eth2] } }\n",
	 "rampart.yaml:2:68: capture.afxdp.interfaces: eth2 is also in capture.afpacket.interfaces: every packet "
	 "would count twice"},
	/* capture.afpacket */
	{NETS "capture: { afpacket: { interfaces: [eth1], block_kb: 1000 } }\n",
	 "rampart.yaml:2:54: capture.afpacket.block_kb: must be a power of two, not 1000"},
	{NETS "capture: { afpacket: { interfaces: [eth1], ring_mb: 1, block_kb: 1024 } }\n",
	 "rampart.yaml:2:22: capture.afpacket.ring_mb: 1 MiB holds fewer than two blocks of block_kb 1024 KiB"},
	{NETS "capture: { pcap: { interfaces: [eth1] }, afpacket: { interfaces: [eth2, eth1] } }\n",
	 "rampart.yaml:2:73: capture.afpacket.interfaces: eth1 is also in capture.pcap.interfaces: every packet "
	 "would count twice"},
	{NETS "capture: { afpacket: { fanout: flow } }\n",
	 "rampart.yaml:2:32: capture.afpacket.fanout: expected one of hash, lb, cpu, got \"flow\""},
	{NETS "capture: { afpacket: { workers: 17 } }\n",
	 "rampart.yaml:2:33: capture.afpacket.workers: expected an integer 1..16, got \"17\""},
	{NETS "capture: { afpacket: { sample: 0 } }\n",
	 "rampart.yaml:2:32: capture.afpacket.sample: expected an integer 1..1000000, got \"0\""},
	/* capture.dpdk */
	{NETS "capture: { dpdk: { ports: [net_pcap0], rx_queues: 2, workers: 3 } }\n",
	 "rampart.yaml:2:63: capture.dpdk.workers: 3 workers for 2 RX queues: a worker would have none (at most rx_queues)"},
	{NETS "capture: { dpdk: { eal: [\"--no-huge\", \"\"] } }\n",
	 "rampart.yaml:2:39: capture.dpdk.eal[1]: expected a string of 1..255 bytes"},
	{NETS "capture: { dpdk: { eal: \"--no-huge\" } }\n",
	 "rampart.yaml:2:25: capture.dpdk.eal: expected a list of strings, got \"--no-huge\""},
	{NETS "capture: { dpdk: { rx_queues: 17 } }\n",
	 "rampart.yaml:2:31: capture.dpdk.rx_queues: expected an integer 1..16, got \"17\""},
	{NETS "capture: { dpdk: { ports: [net_pcap0, net_pcap1, net_pcap0] } }\n",
	 "rampart.yaml:2:50: capture.dpdk.ports[2]: duplicate net_pcap0 (entry [0] has it)"},
	{NETS "capture: { dpdk: { port: [net_pcap0] } }\n",
	 "rampart.yaml:2:20: capture.dpdk.port: unknown key (expected eal, ports, rx_queues, workers, sample, cpus)"},
	{NETS "capture: { flow_spread: 61 }\n",
	 "rampart.yaml:2:25: capture.flow_spread: expected a duration of 0..60 seconds (like 600, 90s, 10m, 1h, 1d), got \"61\""},
	{NETS "capture: { udp_rcvbuf: 1024 }\n",
	 "rampart.yaml:2:24: capture.udp_rcvbuf: expected an integer 65536..1073741824, got \"1024\""},
	{NETS "capture: { udp_workers: 9 }\n",
	 "rampart.yaml:2:25: capture.udp_workers: expected an integer 1..8, got \"9\""},
	{NETS "bgp: { local_as: 0 }\n", "rampart.yaml:2:18: bgp.local_as: expected an integer 1..4294967295, got \"0\""},
	{NETS "bgp: { local_as: 4294967296 }\n",
	 "rampart.yaml:2:18: bgp.local_as: expected an integer 1..4294967295, got \"4294967296\""},
	{NETS "bgp: { peers: [ { address: 10.0.0.1, remote_as: 2, hold_time: 2 } ] }\n",
	 "rampart.yaml:2:63: bgp.peers[0].hold_time: expected 0 or an integer 3..65535, got \"2\""},
	{NETS "bgp: { peers: [ { address: 10.0.0.1, remote_as: 2, ttl: 256 } ] }\n",
	 "rampart.yaml:2:57: bgp.peers[0].ttl: expected an integer 0..255, got \"256\""},
	{NETS "thresholds: { incoming: { pps: -1 } }\n",
	 "rampart.yaml:2:32: thresholds.incoming.pps: expected an integer 0..1000000000000, got \"-1\""},
	{NETS "bgp: { peers: [ { address: 10.0.0.1, remote_as: 2, password: "
	      "\"123456789012345678901234567890123456789012345678901234567890123456789012345678901\" } ] }\n",
	 "rampart.yaml:2:62: bgp.peers[0].password: too long: 81 characters, at most 80"},
	{NETS "mitigation: { blackhole: { communities: [\"65535:666\", \"1:65536\"] } }\n",
	 "rampart.yaml:2:55: mitigation.blackhole.communities[1]: expected a community ASN:VALUE (both 0..65535, "
	 "like \"65535:666\"), got \"1:65536\""},
	{NETS "storage: { clickhouse: { database: \"x; DROP\" } }\n",
	 "rampart.yaml:2:36: storage.clickhouse.database: expected a name of letters, digits and '_' (not starting "
	 "with a digit), got \"x; DROP\""},
	{NETS "storage: { posts_in_flight: 5 }\n",
	 "rampart.yaml:2:29: storage.posts_in_flight: expected an integer 1..4, got \"5\""},
	{NETS "storage: { clickhouse: { format: parquet } }\n",
	 "rampart.yaml:2:34: storage.clickhouse.format: expected one of rowbinary, native, got \"parquet\""},
	{NETS "storage: { clickhouse: { compression: zstd } }\n",
	 "rampart.yaml:2:39: storage.clickhouse.compression: expected one of none, gzip, got \"zstd\""},
	{NETS "storage: { clickhouse: { cluster: \"a-b\" } }\n",
	 "rampart.yaml:2:35: storage.clickhouse.cluster: expected a name of letters, digits and '_' (not starting with a digit), got \"a-b\""},
	{NETS "storage: { spool_max_bytes: 1000 }\n",
	 "rampart.yaml:2:29: storage.spool_max_bytes: expected an integer 1048576..1125899906842624, got \"1000\""},
	{NETS "bgp: { peers: [ { address: 10.0.0.1, remote_as: 2, families: [ipv4-multicast] } ] }\n",
	 "rampart.yaml:2:63: bgp.peers[0].families[0]: expected one of ipv4-unicast, ipv6-unicast, ipv4-flowspec, "
	 "ipv6-flowspec, got \"ipv4-multicast\""},
	{NETS "detection: { tick_ms: 0100 }\n",
	 "rampart.yaml:2:23: detection.tick_ms: expected an integer 10..10000, got \"0100\""},
	{NETS "detection: { tick_ms: 100.5 }\n",
	 "rampart.yaml:2:23: detection.tick_ms: expected an integer 10..10000, got \"100.5\""},
	{NETS "mitigation: { max_bans: 0 }\n", "rampart.yaml:2:25: mitigation.max_bans: expected an integer 1..16777216, got \"0\""},
	{NETS "capture: { pcap: { flow_active_timeout: 2h } }\n",
	 "rampart.yaml:2:41: capture.pcap.flow_active_timeout: expected a duration of 1..3600 seconds (like 600, 90s, "
	 "10m, 1h, 1d), got \"2h\""},
	{NETS "detection: { ban_time: 99999999999999999999d }\n",
	 "rampart.yaml:2:24: detection.ban_time: expected a duration of 1..31536000 seconds (like 600, 90s, 10m, 1h, "
	 "1d), got \"99999999999999999999d\""},
	{NETS "thresholds: { incoming: { mbps: 1000000001 } }\n",
	 "rampart.yaml:2:33: thresholds.incoming.mbps: expected an integer 0..1000000000, got \"1000000001\""},
	{NETS "capture: { sflow: { listen: [\"1.1.1.1:1\",\"1.1.1.1:2\",\"1.1.1.1:3\",\"1.1.1.1:4\",\"1.1.1.1:5\","
	      "\"1.1.1.1:6\",\"1.1.1.1:7\",\"1.1.1.1:8\",\"1.1.1.1:9\"] } }\n",
	 "rampart.yaml:2:29: capture.sflow.listen: too many entries: 9, at most 8"},
	{NETS "capture: { pcap: { interfaces: [averyveryverylongname] } }\n",
	 "rampart.yaml:2:33: capture.pcap.interfaces[0]: too long: 21 characters, at most 15"},
	{NETS "api: { socket: /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaa }\n",
	 "rampart.yaml:2:16: api.socket: too long: 121 characters, at most 107"},
	{NETS "storage: { clickhouse: { url: \"ftp://x\" } }\n",
	 "rampart.yaml:2:31: storage.clickhouse.url: expected an http:// or https:// URL, got \"ftp://x\""},
	{NETS "whitelist: 10.0.0.1/32\n", "rampart.yaml:2:12: whitelist: expected a list of prefixes, got \"10.0.0.1/32\""},
	{NETS "bgp: { peers: [ { address: 10.0.0.1, remote_as: 2, foo: 1 } ] }\n",
	 "rampart.yaml:2:52: bgp.peers[0].foo: unknown key (expected address, remote_as, families, passive, password, "
	 "local_address, hold_time, ttl, extended_next_hop, description, port)"},
	{NETS "hostgroups: [ { name: a, prefixes: [10.1.0.0/16], bogus: 1 } ]\n",
	 "rampart.yaml:2:51: hostgroups[0].bogus: unknown key (expected name, prefixes, thresholds, total, ban_time, "
	 "mitigation, total_scope, total_prefix_length)"},
	{NETS "hostgroups: [ { name: a, prefixes: [10.1.0.0/16], total_scope: host } ]\n",
	 "rampart.yaml:2:64: hostgroups[0].total_scope: expected one of group, prefix, got \"host\""},
	{NETS "hostgroups: [ { name: a, prefixes: [10.1.0.0/16], total_prefix_length: { ipv4: 24 } } ]\n",
	 "rampart.yaml:2:72: hostgroups[0].total_prefix_length: splits per-prefix sums: needs total_scope: prefix"},
	{NETS "hostgroups: [ { name: a, prefixes: [10.1.0.0/16], total_scope: prefix,\n"
	      "                total_prefix_length: { ipv4: 33 } } ]\n",
	 "rampart.yaml:3:46: hostgroups[0].total_prefix_length.ipv4: expected an integer 1..32, got \"33\""},
	{NETS "hostgroups: [ { name: a, prefixes: [10.1.0.0/16], total_scope: prefix,\n"
	      "                total_prefix_length: { ipv6: 129 } } ]\n",
	 "rampart.yaml:3:46: hostgroups[0].total_prefix_length.ipv6: expected an integer 1..128, got \"129\""},
	/* the same thing twice */
	{"networks: [10.0.0.0/8, \"2001:db8::/32\", 10.0.0.0/8]\n",
	 "rampart.yaml:1:41: networks[2]: duplicate prefix 10.0.0.0/8 (entry [0] has it)"},
	{NETS "capture: { pcap: { interfaces: [lo, eth0, lo] } }\n",
	 "rampart.yaml:2:43: capture.pcap.interfaces[2]: duplicate interface lo (entry [0] has it)"},
	{NETS "hostgroups:\n  - { name: a, prefixes: [10.1.0.0/16, 10.2.0.0/16] }\n"
	      "  - { name: b, prefixes: [10.3.0.0/16, 10.2.0.0/16] }\n",
	 "rampart.yaml:4:40: hostgroups[1].prefixes[1]: 10.2.0.0/16 is also in hostgroups[0] (\"a\"): a host has one group"},
	{NETS "bgp: { local_as: 1, router_id: 1.1.1.1, peers: [ { address: \"::\", remote_as: 2 } ] }\n",
	 "rampart.yaml:2:61: bgp.peers[0].address: expected a peer's address, got ::"},
	/* required, and checks across keys */
	{"", "rampart.yaml:1:1: networks: required: at least one monitored prefix"},
	{"log_level: info\n", "rampart.yaml:1:1: networks: required: at least one monitored prefix"},
	{"networks: []\n", "rampart.yaml:1:11: networks: needs at least one monitored prefix"},
	{NETS "bgp:\n  peers:\n    - { address: 10.0.0.1 }\n",
	 "rampart.yaml:4:7: bgp.peers[0].remote_as: required"},
	{NETS "bgp:\n  router_id: 1.2.3.4\n  peers: [ { address: 10.0.0.1, remote_as: 2 } ]\n",
	 "rampart.yaml:3:3: bgp.local_as: required when peers are configured"},
	{NETS "bgp:\n  local_as: 1\n  peers: [ { address: 10.0.0.1, remote_as: 2 } ]\n",
	 "rampart.yaml:3:3: bgp.router_id: required when peers are configured"},
	{NETS "bgp: { peers: [ { address: 10.0.0.1, remote_as: 2, local_address: \"::1\" } ] }\n",
	 "rampart.yaml:2:67: bgp.peers[0].local_address: must be of the same family as the peer's address 10.0.0.1"},
	{NETS "hostgroups: [ { prefixes: [10.1.0.0/16] } ]\n", "rampart.yaml:2:15: hostgroups[0].name: required"},
	{NETS "hostgroups: [ { name: x, prefixes: [] } ]\n",
	 "rampart.yaml:2:36: hostgroups[0].prefixes: needs at least one prefix"},
	{NETS "hostgroups: [ { name: default, prefixes: [10.1.0.0/16] } ]\n",
	 "rampart.yaml:2:23: hostgroups[0].name: \"default\" is the top-level thresholds' group; pick another name"},
	{NETS "api: { socket: \"\" }\n", "rampart.yaml:2:16: api.socket: must not be empty"},
	/* YAML itself */
	{"networks: [10.0.0.0/8\n",
	 "rampart.yaml:2:1: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence at line 1, "
	 "column 11)"},
	{"networks:\n  - 10.0.0.0/8\n bad: 1\n",
	 "rampart.yaml:3:2: YAML syntax: did not find expected key (while parsing a block mapping at line 1, column 1)"},
	{"networks: \"10.0.0.0/8\n", "rampart.yaml:2:1: YAML syntax: found unexpected end of stream (while scanning a "
				     "quoted scalar at line 1, column 11)"},
	{"a: &x [1]\nb: *x\n", "rampart.yaml:2:4: YAML aliases (*x) are not supported"},
	{NETS "---\n" NETS, "rampart.yaml:2:1: only one YAML document is allowed (found a second '---')"},
	{NETS "detection: { tick_ms: !!str 100 }\n",
	 "rampart.yaml:2:23: YAML tags (tag:yaml.org,2002:str) are not supported"},
	{"- 10.0.0.0/8\n", "rampart.yaml:1:1: expected a mapping of keys, got a list"},
	{NETS "[a]: 1\n", "rampart.yaml:2:1: a key must be a plain name, got a list"},
};

static void test_errors(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		struct rampart_conf c, before;
		memset(&c, 0xA5, sizeof c);
		memcpy(&before, &c, sizeof c);
		char err[512] = "";
		int rc = load(err_cases[i].yaml, &c, err, sizeof err);
		if (rc == 0)
			fail_msg("case %zu loaded, expected: %s", i, err_cases[i].err);
		if (strcmp(err, err_cases[i].err) != 0) {
			print_error("case %zu:\n  got      %s\n  expected %s\n", i, err, err_cases[i].err);
			bad++;
		}
		assert_memory_equal(&c, &before, sizeof c); /* nothing half-loaded */
	}
	assert_int_equal(bad, 0);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct rampart_conf c;
	char err[256];
	assert_int_equal(conf_load("/nonexistent/rampart.yaml", &c, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/rampart.yaml: cannot open: No such file or directory");
}

/* A message cut short by a small buffer is still a terminated string. */
static void test_small_error_buffer(void **state)
{
	(void)state;
	struct rampart_conf c;
	char err[16];
	memset(err, 'x', sizeof err);
	assert_int_equal(load(NETS "foo: 1\n", &c, err, sizeof err), -1);
	assert_string_equal(err, "rampart.yaml:2:");
}

/* ---- values land in the right place --------------------------------------------------------- */

static void test_threshold_cells(void **state)
{
	(void)state;
	static const char *const cls[DET_CLASSES] = {"", "tcp_", "udp_", "icmp_", "syn_", "frag_"};
	static const char *const met[DET_METRICS] = {"pps", "mbps", "flows"};
	static const char *const dir[DET_DIRECTIONS] = {"incoming", "outgoing"};
	static const char *const where[] = {"thresholds: ", "hostgroups: [ { name: g, prefixes: [10.1.0.0/16], "
							    "thresholds: ",
					    "hostgroups: [ { name: g, prefixes: [10.1.0.0/16], total: "};
	static const char *const close[] = {"\n", " } ]\n", " } ]\n"};
	for (size_t w = 0; w < 3; w++)
		for (int d = 0; d < DET_DIRECTIONS; d++)
			for (int cl = 0; cl < DET_CLASSES; cl++)
				for (int m = 0; m < DET_METRICS; m++) {
					char yaml[256];
					snprintf(yaml, sizeof yaml, NETS "%s{ %s: { %s%s: 7 } }%s", where[w], dir[d], cls[cl],
						 met[m], close[w]);
					struct rampart_conf c;
					load_ok(yaml, &c);
					const struct det_thresholds *t = w == 0   ? &c.detect.groups[0].thresholds
									 : w == 1 ? &c.detect.groups[1].thresholds
										  : &c.detect.groups[1].total;
					for (int d2 = 0; d2 < DET_DIRECTIONS; d2++)
						for (int c2 = 0; c2 < DET_CLASSES; c2++)
							for (int m2 = 0; m2 < DET_METRICS; m2++) {
								uint64_t want = 0;
								if (d2 == d && c2 == cl && m2 == m)
									want = m == DET_BPS ? 7000000 : 7;
								if (t->limit[d2][c2][m2] != want)
									fail_msg("%s: limit[%d][%d][%d] = %llu, want %llu",
										 yaml, d2, c2, m2,
										 (unsigned long long)t->limit[d2][c2][m2],
										 (unsigned long long)want);
							}
					conf_free(&c);
				}
}

static void test_mbps_is_bits(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "thresholds: { incoming: { mbps: 1000000000 }, outgoing: { syn_mbps: 1 } }\n", &c);
	assert_int_equal(c.detect.groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_BPS], 1000000000000000ull);
	assert_int_equal(c.detect.groups[0].thresholds.limit[DET_OUT][DET_SYN][DET_BPS], 1000000);
	conf_free(&c);
}

static void test_communities(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "mitigation: { blackhole: { communities: [\"65535:666\", \"0:0\", \"65535:65535\", \"1:2\", 3:4] } }\n",
		&c);
	assert_int_equal(c.mitigation.n_communities, 5);
	assert_int_equal(c.mitigation.communities[0], BGP_COMMUNITY_BLACKHOLE);
	assert_int_equal(c.mitigation.communities[1], 0);
	assert_int_equal(c.mitigation.communities[2], 0xFFFFFFFFu);
	assert_int_equal(c.mitigation.communities[3], 0x00010002u);
	assert_int_equal(c.mitigation.communities[4], 0x00030004u);
	conf_free(&c);

	static const char *const bad[] = {"1:2:3", ":1", "1:", "-1:2", "a:b", " 1:2", "1: 2", "65536:0", "1",
					  "0x1:2", "99999999999999999999:1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char yaml[160], err[512];
		snprintf(yaml, sizeof yaml, NETS "mitigation: { blackhole: { communities: [\"%s\"] } }\n", bad[i]);
		if (load(yaml, &c, err, sizeof err) == 0)
			fail_msg("community \"%s\" was accepted", bad[i]);
		assert_non_null(strstr(err, "mitigation.blackhole.communities[0]: expected a community"));
	}

	char yaml[1024] = NETS "mitigation: { blackhole: { communities: [", err[512];
	for (int i = 0; i <= BGP_MAX_COMMUNITIES; i++)
		snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml), "%s\"1:%d\"", i ? "," : "", i);
	strcat(yaml, "] } }\n");
	assert_int_equal(load(yaml, &c, err, sizeof err), -1);
	assert_string_equal(err, "rampart.yaml:2:41: mitigation.blackhole.communities: too many entries: 33, at most 32");
}

static void round_trip(const struct rampart_conf *a);

static void test_hostgroups(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok("networks: [192.0.2.0/24, \"2001:db8::/32\"]\n"
		"thresholds: { incoming: { pps: 500 } }\n"
		"hostgroups:\n"
		"  - name: gold\n"
		"    prefixes: [192.0.2.128/25, \"2001:db8:1::/48\"]\n"
		"    thresholds: { incoming: { pps: 5000, udp_pps: 2000, syn_pps: 1000 } }\n"
		"    total: { incoming: { pps: 20000 } }\n"
		"    ban_time: 1h\n"
		"    mitigation: { action: flowspec-then-blackhole }\n"
		"  - name: silver\n"
		"    prefixes: [192.0.2.64/26]\n"
		"  - name: carpet\n"
		"    prefixes: [\"2001:db8:8000::/33\"]\n"
		"    total: { incoming: { pps: 3000 } }\n"
		"    total_scope: prefix\n"
		"    total_prefix_length: { ipv4: 24, ipv6: 64 }\n",
		&c);
	assert_int_equal(c.detect.n_groups, 4);
	const struct det_hostgroup *g = c.detect.groups;
	assert_string_equal(g[0].name, "default");
	assert_int_equal(g[0].n_prefixes, 0);
	assert_int_equal(g[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS], 500);
	assert_int_equal(g[0].mitigation, DET_MIT_DEFAULT);
	assert_string_equal(g[1].name, "gold");
	assert_int_equal(g[1].n_prefixes, 2);
	assert_prefix(&g[1].prefixes[0], "192.0.2.128/25");
	assert_prefix(&g[1].prefixes[1], "2001:db8:1::/48");
	assert_int_equal(g[1].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS], 5000);
	assert_int_equal(g[1].thresholds.limit[DET_IN][DET_UDP][DET_PPS], 2000);
	assert_int_equal(g[1].thresholds.limit[DET_IN][DET_SYN][DET_PPS], 1000);
	assert_int_equal(g[1].total.limit[DET_IN][DET_TOTAL][DET_PPS], 20000);
	assert_int_equal(g[1].ban_time_s, 3600);
	assert_int_equal(g[1].mitigation, DET_MIT_FLOWSPEC_THEN_BLACKHOLE);
	assert_string_equal(g[2].name, "silver");
	assert_int_equal(g[2].ban_time_s, 0); /* detection.ban_time */
	assert_int_equal(g[2].mitigation, DET_MIT_DEFAULT);
	/* silver sets no thresholds: per host it has the top-level ones, in both directions */
	assert_int_equal(g[2].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS], 500);
	assert_int_equal(g[2].thresholds.limit[DET_OUT][DET_TOTAL][DET_PPS], 0);
	/* gold sets incoming only: outgoing is the top-level's (none here), incoming its own */
	assert_int_equal(g[1].thresholds.limit[DET_IN][DET_UDP][DET_PPS], 2000);
	assert_int_equal(g[1].total_scope, DET_SCOPE_GROUP); /* the default */
	assert_int_equal(g[1].total_prefix_len_v4, 0);
	assert_int_equal(g[3].total_scope, DET_SCOPE_PREFIX);
	assert_int_equal(g[3].total_prefix_len_v4, 24);
	assert_int_equal(g[3].total_prefix_len_v6, 64);
	assert_int_equal(g[3].total.limit[DET_IN][DET_TOTAL][DET_PPS], 3000);
	round_trip(&c);
	conf_free(&c);
}

/* A hostgroup's per-host thresholds: a direction it leaves out has the top-level limits (a
 * group made for its total still checks each host), an explicit empty direction has none. */
static void test_hostgroup_inherits_thresholds(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok("networks: [10.0.0.0/8]\n"
		"hostgroups:\n"
		"  - { name: carpet, prefixes: [10.1.0.0/16], total: { incoming: { pps: 3000 } } }\n"
		"  - { name: inonly, prefixes: [10.2.0.0/16], thresholds: { incoming: { udp_pps: 70 } } }\n"
		"  - { name: quiet, prefixes: [10.3.0.0/16], thresholds: { incoming: {}, outgoing: {} } }\n"
		"  - { name: none, prefixes: [10.4.0.0/16], thresholds: {} }\n"
		"thresholds: { incoming: { pps: 500, syn_pps: 90 }, outgoing: { pps: 800 } }\n",
		&c);
	const struct det_hostgroup *g = c.detect.groups;
	assert_int_equal(c.detect.n_groups, 5);
	for (int d = 0; d < DET_DIRECTIONS; d++)
		assert_memory_equal(g[1].thresholds.limit[d], g[0].thresholds.limit[d], sizeof g[0].thresholds.limit[d]);
	assert_int_equal(g[1].thresholds.limit[DET_OUT][DET_TOTAL][DET_PPS], 800);
	assert_int_equal(g[2].thresholds.limit[DET_IN][DET_UDP][DET_PPS], 70);
	assert_int_equal(g[2].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS], 0);
	assert_int_equal(g[2].thresholds.limit[DET_IN][DET_SYN][DET_PPS], 0);
	assert_int_equal(g[2].thresholds.limit[DET_OUT][DET_TOTAL][DET_PPS], 800);
	static const struct det_thresholds none;
	assert_memory_equal(&g[3].thresholds, &none, sizeof none);
	assert_memory_equal(&g[4].thresholds, &none, sizeof none);
	round_trip(&c);
	conf_free(&c);
}

static void round_trip(const struct rampart_conf *a);

/* Every remaining key at a non-default value lands in its field (a default could hide a key
 * that is read but not stored). */
static void test_every_key(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok("networks: [10.0.0.0/8, \"2001:db8::/32\"]\n"
		"whitelist: [10.0.0.1/32, \"2001:db8::1/128\"]\n"
		"detection: { tick_ms: 50, unban_only_if_attack_finished: false, max_hosts: 4096 }\n"
		"capture:\n"
		"  pcap: { interfaces: [lo, eth9], flow_inactive_timeout: 5s, flow_table_size: 2048 }\n"
		"  netflow: { listen: [\"0.0.0.0:2055\"], exporters: [192.0.2.0/24, \"2001:db8:1::/48\"] }\n"
		"  ipfix: { listen: [\"[::1]:4739\"], exporters: [198.51.100.7] }\n"
		"  udp_rcvbuf: 1048576\n"
		"  flow_spread: 0\n"
		"  udp_workers: 3\n"
		"  max_exporters: 1000\n"
		"  max_domains_per_address: 8\n"
		"  max_templates: 32\n"
		"  max_template_bytes: 1048576\n"
		"  exporter_idle: 2m\n"
		"mitigation: { action: flowspec, blackhole: { next_hop_ipv4: 10.9.9.9, next_hop_ipv6: \"2001:db8::9\" },\n"
		"              max_bans_per_minute: 9, own_addresses: [10.0.0.254/32],\n"
		"              flowspec: { rate_limit_mbps: 10, max_rules: 50, escalate_after: 2m } }\n"
		"bgp:\n"
		"  local_as: 4200000000\n"
		"  router_id: 10.0.0.2\n"
		"  listen: \"::1\"\n"
		"  listen_port: 1179\n"
		"  connect_retry: 1m\n"
		"  graceful_restart: 30\n"
		"  end_of_rib_delay: 12\n"
		"  peers:\n"
		"    - { address: \"2001:db8::2\", local_address: \"2001:db8::3\", remote_as: 65002, port: 11179,\n"
		"        families: [ipv6-unicast, ipv6-flowspec], ttl: 2, hold_time: 0, description: edge }\n"
		"storage: { clickhouse: { database: ddos_1, user: u, password: p }, dir: ./build/run-data,\n"
		"           batch_rows: 10, batch_ms: 20, queue_rows: 1024 }\n"
		"api: { socket: /tmp/r/r.sock, http: \"[::1]:9090\", exabgp_pipe: /run/rampart/exabgp.in,\n"
		"       exabgp_process: \"/usr/bin/ban-feed --all\", exabgp_process_withdraw: false }\n"
		"actions: { notify_script: /usr/local/bin/notify.sh, notify_timeout: 5s, notify_max_running: 3,\n"
		"           webhook_url: \"http://127.0.0.1:9/hook\", webhook_timeout: 2s, webhook_retries: 0,\n"
		"           local_blackhole: true, local_blackhole_table: 100 }\n",
		&c);
	assert_int_equal(c.detect.n_whitelist, 2);
	assert_prefix(&c.detect.whitelist[1], "2001:db8::1/128");
	assert_int_equal(c.detect.tick_ms, 50);
	assert_false(c.detect.unban_only_if_attack_finished);
	assert_int_equal(c.detect.max_hosts, 4096);
	assert_int_equal(c.capture.n_pcap_interfaces, 2);
	assert_string_equal(c.capture.pcap_interfaces[1], "eth9");
	assert_int_equal(c.capture.flow_inactive_timeout_s, 5);
	assert_int_equal(c.capture.udp_workers, 3);
	assert_int_equal(c.capture.n_netflow_exporters, 2);
	assert_prefix(&c.capture.netflow_exporters[1], "2001:db8:1::/48");
	assert_int_equal(c.capture.n_ipfix_exporters, 1);
	assert_prefix(&c.capture.ipfix_exporters[0], "198.51.100.7/32");
	assert_int_equal(c.capture.n_sflow_exporters, 0);
	assert_int_equal(c.capture.max_exporters, 1000);
	assert_int_equal(c.capture.max_domains_per_address, 8);
	assert_int_equal(c.capture.max_templates, 32);
	assert_int_equal(c.capture.max_template_bytes, 1048576);
	assert_int_equal(c.capture.exporter_idle_s, 120);
	/* what a listener of each protocol is given: the bounds, and its own protocol's allow-list */
	struct cap_flow_config fc;
	conf_flow_config(&c.capture, CAP_FLOW_PROTO_IPFIX, &fc);
	assert_int_equal(fc.max_exporters, 1000);
	assert_int_equal(fc.max_domains_per_addr, 8);
	assert_int_equal(fc.max_templates, 32);
	assert_int_equal(fc.max_template_bytes, 1048576);
	assert_int_equal(fc.idle_s, 120);
	assert_int_equal(fc.n_allow, 1);
	assert_prefix(&fc.allow[0], "198.51.100.7/32");
	conf_flow_config(&c.capture, CAP_FLOW_PROTO_NETFLOW, &fc);
	assert_int_equal(fc.n_allow, 2);
	assert_prefix(&fc.allow[1], "2001:db8:1::/48");
	conf_flow_config(&c.capture, CAP_FLOW_PROTO_SFLOW, &fc);
	assert_int_equal(fc.n_allow, 0);
	assert_int_equal(c.capture.flow_table_size, 2048);
	assert_int_equal(c.capture.n_netflow, 1);
	assert_string_equal(c.capture.ipfix[0].addr, "[::1]:4739");
	assert_int_equal(c.capture.udp_rcvbuf, 1048576);
	assert_int_equal(c.capture.flow_spread_s, 0);
	assert_int_equal(c.mitigation.action, DET_MIT_FLOWSPEC);
	assert_int_equal(c.mitigation.max_bans_per_minute, 9);
	assert_int_equal(c.mitigation.flowspec_rate_limit_mbps, 10);
	assert_int_equal(c.mitigation.flowspec_max_rules, 50);
	assert_int_equal(c.mitigation.flowspec_escalate_after_s, 120);
	assert_int_equal(c.mitigation.n_own_addresses, 1);
	assert_addr(&c.mitigation.next_hop_ipv4, "10.9.9.9");
	assert_addr(&c.mitigation.next_hop_ipv6, "2001:db8::9");
	assert_int_equal(c.bgp.local_as, 4200000000u);
	assert_int_equal(c.bgp.router_id, 0x0A000002);
	assert_addr(&c.bgp.listen_address, "::1");
	assert_int_equal(c.bgp.listen_port, 1179);
	assert_int_equal(c.bgp.connect_retry_s, 60);
	assert_int_equal(c.bgp.graceful_restart_s, 30);
	assert_int_equal(c.bgp.end_of_rib_delay_s, 12);
	assert_int_equal(c.bgp.n_peers, 1);
	const struct bgp_peer_config *p = &c.bgp.peers[0];
	assert_addr(&p->address, "2001:db8::2"); /* IPv6 transport */
	assert_addr(&p->local_address, "2001:db8::3");
	assert_int_equal(p->remote_as, 65002);
	assert_int_equal(p->port, 11179);
	assert_int_equal(p->families, BGP_FAM_IPV6_UNICAST | BGP_FAM_IPV6_FLOWSPEC);
	assert_int_equal(p->ttl, 2);
	assert_int_equal(p->hold_time, 0);
	assert_string_equal(p->description, "edge");
	assert_string_equal(c.storage.database, "ddos_1");
	assert_string_equal(c.storage.user, "u");
	assert_string_equal(c.storage.password, "p");
	assert_string_equal(c.storage.dir, "./build/run-data");
	assert_int_equal(c.storage.batch_rows, 10);
	assert_int_equal(c.storage.batch_ms, 20);
	assert_int_equal(c.storage.queue_rows, 1024);
	assert_string_equal(c.api.socket, "/tmp/r/r.sock");
	assert_string_equal(c.api.http, "[::1]:9090");
	assert_string_equal(c.api.exabgp_pipe, "/run/rampart/exabgp.in");
	assert_string_equal(c.api.exabgp_process, "/usr/bin/ban-feed --all");
	assert_false(c.api.exabgp_process_withdraw);
	assert_string_equal(c.actions.notify_script, "/usr/local/bin/notify.sh");
	assert_int_equal(c.actions.notify_timeout_s, 5);
	assert_int_equal(c.actions.notify_max_running, 3);
	assert_string_equal(c.actions.webhook_url, "http://127.0.0.1:9/hook");
	assert_int_equal(c.actions.webhook_timeout_s, 2);
	assert_int_equal(c.actions.webhook_retries, 0);
	assert_true(c.actions.local_blackhole);
	assert_int_equal(c.actions.local_blackhole_table, 100);
	round_trip(&c);
	conf_free(&c);
}

/* capture.dpdk: the keys of the example, the defaults, and a print that loads back. */
static void test_dpdk(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "capture: { pcap: { interfaces: [] } }\n", &c);
	assert_int_equal(c.capture.dpdk.n_ports, 0);
	assert_int_equal(c.capture.dpdk.n_eal, 0);
	assert_int_equal(c.capture.dpdk.rx_queues, 1);
	assert_int_equal(c.capture.dpdk.workers, 1);
	assert_int_equal(c.capture.dpdk.sample, 1);
	conf_free(&c);
	load_ok(NETS "capture:\n"
		     "  dpdk: { eal: [\"--no-huge\", \"--vdev=net_pcap0,rx_pcap=/path/x.pcap\", \"-m\", \"256\"],\n"
		     "          ports: [net_pcap0, \"0000:03:00.0\"], rx_queues: 4, workers: 2, sample: 8 }\n",
		&c);
	const struct conf_dpdk *d = &c.capture.dpdk;
	assert_int_equal(d->n_eal, 4);
	assert_string_equal(d->eal[0], "--no-huge");
	assert_string_equal(d->eal[1], "--vdev=net_pcap0,rx_pcap=/path/x.pcap");
	assert_string_equal(d->eal[3], "256");
	assert_int_equal(d->n_ports, 2);
	assert_string_equal(d->ports[0], "net_pcap0");
	assert_string_equal(d->ports[1], "0000:03:00.0");
	assert_int_equal(d->rx_queues, 4);
	assert_int_equal(d->workers, 2);
	assert_int_equal(d->sample, 8);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_print(&c, f);
	fclose(f);
	struct rampart_conf b;
	char err[512];
	if (conf_load_string(text, len, "printed", &b, err, sizeof err) != 0)
		fail_msg("printed config does not load: %s\n%s", err, text);
	assert_int_equal(b.capture.dpdk.n_eal, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(b.capture.dpdk.eal[i], d->eal[i]);
	assert_int_equal(b.capture.dpdk.n_ports, 2);
	assert_string_equal(b.capture.dpdk.ports[1], "0000:03:00.0");
	assert_int_equal(b.capture.dpdk.rx_queues, 4);
	assert_int_equal(b.capture.dpdk.workers, 2);
	assert_int_equal(b.capture.dpdk.sample, 8);
	free(text);
	conf_free(&b);
	conf_free(&c);
}

static void test_values(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "detection: { ban_time: 1d, host_idle_s: 90s, average_s: 2m }\n"
		     "capture: { pcap: { flow_active_timeout: 1h }, sflow: { listen: [\"[::]:6343\", \"127.0.0.1:6343\"] } }\n"
		     "mitigation: { max_bans: 7, dry_run: true, max_bans_per_minute: 20,\n"
		     "              own_addresses: [192.0.2.254/32, \"2001:db8::254/128\"] }\n"
		     "bgp:\n"
		     "log_level: debug\n"
		     "storage: { clickhouse: { url: \"https://ch:8443\" } }\n"
		     "api: { http: \"\" }\n",
		&c);
	assert_int_equal(c.detect.ban_time_s, 86400);
	assert_int_equal(c.detect.host_idle_s, 90);
	assert_int_equal(c.detect.average_s, 120);
	assert_int_equal(c.capture.flow_active_timeout_s, 3600);
	assert_int_equal(c.capture.n_sflow, 2);
	assert_string_equal(c.capture.sflow[0].addr, "[::]:6343");
	assert_int_equal(c.mitigation.max_bans, 7);
	assert_int_equal(c.detect.max_bans, 7); /* copied into det_config */
	assert_int_equal(c.mitigation.max_bans_per_minute, 20);
	assert_int_equal(c.detect.max_bans_per_minute, 20);
	assert_int_equal(c.detect.n_own, 2);
	assert_prefix(&c.detect.own[1], "2001:db8::254/128");
	assert_true(c.mitigation.dry_run);
	assert_true(c.bgp_enabled); /* present, even empty */
	assert_int_equal(c.bgp.n_peers, 0);
	assert_int_equal(c.log_level, CONF_LOG_DEBUG);
	assert_string_equal(c.storage.clickhouse_url, "https://ch:8443");
	assert_string_equal(c.api.http, ""); /* off */
	conf_free(&c);
}

/* ---- round trip ----------------------------------------------------------------------------- */

static void assert_thresholds_equal(const struct det_thresholds *a, const struct det_thresholds *b)
{
	for (int d = 0; d < DET_DIRECTIONS; d++)
		for (int c = 0; c < DET_CLASSES; c++)
			for (int m = 0; m < DET_METRICS; m++)
				assert_int_equal(a->limit[d][c][m], b->limit[d][c][m]);
}

static void assert_prefixes_equal(const ip_prefix *a, size_t na, const ip_prefix *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_true(ip_prefix_equal(&a[i], &b[i]));
}

static void assert_listen_equal(const struct conf_listen *a, size_t na, const struct conf_listen *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i].addr, b[i].addr);
}

static void assert_conf_equal(const struct rampart_conf *a, const struct rampart_conf *b)
{
	const struct det_config *da = &a->detect, *db = &b->detect;
	assert_prefixes_equal(da->networks, da->n_networks, db->networks, db->n_networks);
	assert_prefixes_equal(da->whitelist, da->n_whitelist, db->whitelist, db->n_whitelist);
	assert_int_equal(da->n_groups, db->n_groups);
	for (size_t i = 0; i < da->n_groups; i++) {
		const struct det_hostgroup *ga = &da->groups[i], *gb = &db->groups[i];
		assert_string_equal(ga->name, gb->name);
		assert_prefixes_equal(ga->prefixes, ga->n_prefixes, gb->prefixes, gb->n_prefixes);
		assert_thresholds_equal(&ga->thresholds, &gb->thresholds);
		assert_thresholds_equal(&ga->total, &gb->total);
		assert_int_equal(ga->ban_time_s, gb->ban_time_s);
		assert_int_equal(ga->mitigation, gb->mitigation);
		assert_int_equal(ga->total_scope, gb->total_scope);
		assert_int_equal(ga->total_prefix_len_v4, gb->total_prefix_len_v4);
		assert_int_equal(ga->total_prefix_len_v6, gb->total_prefix_len_v6);
	}
	assert_int_equal(da->tick_ms, db->tick_ms);
	assert_int_equal(da->average_s, db->average_s);
	assert_int_equal(da->ban_time_s, db->ban_time_s);
	assert_int_equal(da->unban_only_if_attack_finished, db->unban_only_if_attack_finished);
	assert_int_equal(da->max_bans, db->max_bans);
	assert_int_equal(da->max_hosts, db->max_hosts);
	assert_int_equal(da->host_idle_s, db->host_idle_s);
	assert_int_equal(a->attack_pcap.enabled, b->attack_pcap.enabled);
	assert_string_equal(a->attack_pcap.dir, b->attack_pcap.dir);
	assert_int_equal(a->attack_pcap.packets, b->attack_pcap.packets);
	assert_int_equal(a->attack_pcap.snaplen, b->attack_pcap.snaplen);
	assert_int_equal(a->attack_pcap.keep_days, b->attack_pcap.keep_days);
	assert_int_equal(a->attack_pcap.max_files, b->attack_pcap.max_files);

	const struct conf_capture *ca = &a->capture, *cb = &b->capture;
	assert_int_equal(ca->n_pcap_interfaces, cb->n_pcap_interfaces);
	for (size_t i = 0; i < ca->n_pcap_interfaces; i++)
		assert_string_equal(ca->pcap_interfaces[i], cb->pcap_interfaces[i]);
	assert_int_equal(ca->flow_active_timeout_s, cb->flow_active_timeout_s);
	assert_int_equal(ca->flow_inactive_timeout_s, cb->flow_inactive_timeout_s);
	assert_int_equal(ca->flow_table_size, cb->flow_table_size);
	assert_listen_equal(ca->sflow, ca->n_sflow, cb->sflow, cb->n_sflow);
	assert_listen_equal(ca->netflow, ca->n_netflow, cb->netflow, cb->n_netflow);
	assert_listen_equal(ca->ipfix, ca->n_ipfix, cb->ipfix, cb->n_ipfix);
	assert_int_equal(ca->udp_rcvbuf, cb->udp_rcvbuf);
	assert_int_equal(ca->flow_spread_s, cb->flow_spread_s);
	assert_int_equal(ca->udp_workers, cb->udp_workers);
	assert_prefixes_equal(ca->sflow_exporters, ca->n_sflow_exporters, cb->sflow_exporters, cb->n_sflow_exporters);
	assert_prefixes_equal(ca->netflow_exporters, ca->n_netflow_exporters, cb->netflow_exporters,
			      cb->n_netflow_exporters);
	assert_prefixes_equal(ca->ipfix_exporters, ca->n_ipfix_exporters, cb->ipfix_exporters, cb->n_ipfix_exporters);
	assert_int_equal(ca->max_exporters, cb->max_exporters);
	assert_int_equal(ca->max_domains_per_address, cb->max_domains_per_address);
	assert_int_equal(ca->max_templates, cb->max_templates);
	assert_int_equal(ca->max_template_bytes, cb->max_template_bytes);
	assert_int_equal(ca->exporter_idle_s, cb->exporter_idle_s);

	const struct conf_mitigation *ma = &a->mitigation, *mb = &b->mitigation;
	assert_int_equal(ma->action, mb->action);
	assert_int_equal(ma->n_communities, mb->n_communities);
	for (size_t i = 0; i < ma->n_communities; i++)
		assert_int_equal(ma->communities[i], mb->communities[i]);
	assert_true(ip_equal(&ma->next_hop_ipv4, &mb->next_hop_ipv4));
	assert_true(ip_equal(&ma->next_hop_ipv6, &mb->next_hop_ipv6));
	assert_int_equal(ma->max_bans, mb->max_bans);
	assert_int_equal(ma->dry_run, mb->dry_run);
	assert_int_equal(ma->max_bans_per_minute, mb->max_bans_per_minute);
	assert_prefixes_equal(ma->own_addresses, ma->n_own_addresses, mb->own_addresses, mb->n_own_addresses);
	assert_string_equal(a->actions.notify_script, b->actions.notify_script);
	assert_int_equal(a->actions.notify_timeout_s, b->actions.notify_timeout_s);
	assert_int_equal(a->actions.notify_max_running, b->actions.notify_max_running);
	assert_string_equal(a->actions.webhook_url, b->actions.webhook_url);
	assert_int_equal(a->actions.webhook_timeout_s, b->actions.webhook_timeout_s);
	assert_int_equal(a->actions.webhook_retries, b->actions.webhook_retries);
	assert_int_equal(a->actions.local_blackhole, b->actions.local_blackhole);
	assert_int_equal(a->actions.local_blackhole_table, b->actions.local_blackhole_table);

	assert_int_equal(a->bgp_enabled, b->bgp_enabled);
	const struct bgp_config *ba = &a->bgp, *bb = &b->bgp;
	assert_int_equal(ba->local_as, bb->local_as);
	assert_int_equal(ba->router_id, bb->router_id);
	assert_true(ip_equal(&ba->listen_address, &bb->listen_address));
	assert_int_equal(ba->listen_port, bb->listen_port);
	assert_int_equal(ba->connect_retry_s, bb->connect_retry_s);
	assert_int_equal(ba->graceful_restart_s, bb->graceful_restart_s);
	assert_int_equal(ba->end_of_rib_delay_s, bb->end_of_rib_delay_s);
	assert_int_equal(ba->n_peers, bb->n_peers);
	for (size_t i = 0; i < ba->n_peers; i++) {
		const struct bgp_peer_config *pa = &ba->peers[i], *pb = &bb->peers[i];
		assert_true(ip_equal(&pa->address, &pb->address));
		assert_int_equal(pa->port, pb->port);
		assert_int_equal(pa->remote_as, pb->remote_as);
		assert_int_equal(pa->families, pb->families);
		assert_int_equal(pa->passive, pb->passive);
		assert_string_equal(pa->password, pb->password);
		assert_true(ip_equal(&pa->local_address, &pb->local_address));
		assert_int_equal(pa->hold_time, pb->hold_time);
		assert_int_equal(pa->ttl, pb->ttl);
		assert_string_equal(pa->description, pb->description);
	}

	const struct st_config *sa = &a->storage, *sb = &b->storage;
	assert_string_equal(sa->clickhouse_url, sb->clickhouse_url);
	assert_string_equal(sa->database, sb->database);
	assert_string_equal(sa->user, sb->user);
	assert_string_equal(sa->password, sb->password);
	assert_string_equal(sa->dir, sb->dir);
	assert_int_equal(sa->batch_rows, sb->batch_rows);
	assert_int_equal(sa->batch_ms, sb->batch_ms);
	assert_int_equal(sa->queue_rows, sb->queue_rows);
	assert_string_equal(sa->spool_dir, sb->spool_dir);
	assert_int_equal(sa->spool_max_bytes, sb->spool_max_bytes);
	assert_int_equal(sa->retention_days, sb->retention_days);
	assert_int_equal(sa->posts_in_flight, sb->posts_in_flight);
	assert_string_equal(sa->cluster, sb->cluster);
	assert_int_equal(sa->format, sb->format);
	assert_int_equal(sa->compression, sb->compression);

	assert_string_equal(a->api.socket, b->api.socket);
	assert_string_equal(a->api.http, b->api.http);
	assert_string_equal(a->api.exabgp_pipe, b->api.exabgp_pipe);
	assert_string_equal(a->api.exabgp_process, b->api.exabgp_process);
	assert_int_equal(a->api.exabgp_process_withdraw, b->api.exabgp_process_withdraw);
	assert_int_equal(a->log_level, b->log_level);
}

static void round_trip(const struct rampart_conf *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_print(a, f);
	fclose(f);
	struct rampart_conf b;
	char err[512];
	if (conf_load_string(text, len, "printed", &b, err, sizeof err) != 0)
		fail_msg("printed config does not load: %s\n%s", err, text);
	assert_conf_equal(a, &b);
	/* and printing is stable: the second print is the first, path comment aside */
	char *text2 = NULL;
	size_t len2 = 0;
	f = open_memstream(&text2, &len2);
	conf_print(&b, f);
	fclose(f);
	assert_string_equal(strchr(text, '\n'), strchr(text2, '\n'));
	free(text2);
	free(text);
	conf_free(&b);
}

/* Every shipped config, including examples added later: loads, and prints back to itself. */
static void test_round_trip_examples(void **state)
{
	(void)state;
	glob_t g;
	int rc = glob("conf/examples/*.yaml", 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		rc = glob("../../conf/examples/*.yaml", 0, NULL, &g);
	assert_int_equal(rc, 0);
	assert_true(g.gl_pathc >= 1);
	for (size_t i = 0; i <= g.gl_pathc; i++) {
		const char *file = i < g.gl_pathc ? g.gl_pathv[i] : NULL;
		struct rampart_conf c;
		char err[512];
		if ((file ? conf_load(file, &c, err, sizeof err) : load_file("conf/rampart.yaml", &c, err, sizeof err)) != 0)
			fail_msg("%s", err);
		round_trip(&c);
		conf_free(&c);
	}
	globfree(&g);
}

/* Values that could change meaning when printed: strings that look like other types, quotes,
 * backslashes, control characters, non-ASCII, zero and extreme numbers. */
static void test_round_trip_edges(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok("networks: [0.0.0.0/0, \"::/0\", 10.1.2.3, \"2001:db8::1\"]\n"
		"whitelist: []\n"
		"thresholds: { outgoing: { frag_flows: 1000000000000, icmp_mbps: 1000000000 } }\n"
		"hostgroups:\n"
		"  - { name: \"we\\\"ird \\\\ name: # ü\", prefixes: [10.9.0.0/16], ban_time: 0,\n"
		"      total: { outgoing: { tcp_flows: 1 } } }\n"
		"  - { name: p, prefixes: [10.8.0.0/16], total_scope: prefix, total_prefix_length: { ipv6: 128 } }\n"
		"detection: { tick_ms: 10, average_s: 3600, ban_time: 1, unban_only_if_attack_finished: false,\n"
		"             max_hosts: 1024, host_idle_s: 1 }\n"
		"capture: { pcap: { interfaces: [\"null\", \"true\", eth0.100], flow_table_size: 1024 },\n"
		"           ipfix: { listen: [\"[2001:db8::1]:65535\"] } }\n"
		"mitigation: { action: flowspec, blackhole: { communities: [] }, max_bans: 16777216 }\n"
		"bgp:\n"
		"  local_as: 4294967295\n"
		"  router_id: 255.255.255.255\n"
		"  listen: 0.0.0.0\n"
		"  listen_port: 1\n"
		"  connect_retry: 3600\n"
		"  peers:\n"
		"    - { address: \"fe80::1\", remote_as: 1, password: \"true\", hold_time: 0, ttl: 255,\n"
		"        local_address: \"fe80::2\", description: \"tab\\there\\nnewline\", port: 1179,\n"
		"        families: [ipv6-flowspec] }\n"
		"storage: { clickhouse: { url: \"http://[::1]:8123/?x=\\\"y\\\"\", database: _db1, user: \"~\", password: \"\",\n"
		"                         cluster: two_shards, format: rowbinary, compression: gzip },\n"
		"           dir: ./var, batch_rows: 1, batch_ms: 3600000, queue_rows: 67108864,\n"
		"           spool_dir: \"/var/spool/r a\", spool_max_bytes: 1125899906842624, retention_days: 36500,\n"
		"           posts_in_flight: 4 }\n"
		"api: { socket: \"/tmp/a b.sock\", http: \"[::1]:1\" }\n"
		"log_level: error\n",
		&c);
	assert_string_equal(c.detect.groups[1].name, "we\"ird \\ name: # \xc3\xbc");
	assert_string_equal(c.capture.pcap_interfaces[0], "null");
	assert_string_equal(c.bgp.peers[0].password, "true");
	assert_string_equal(c.storage.user, "~");
	assert_string_equal(c.storage.spool_dir, "/var/spool/r a");
	assert_int_equal(c.storage.spool_max_bytes, 1ull << 50);
	assert_int_equal(c.storage.retention_days, 36500);
	assert_int_equal(c.storage.posts_in_flight, 4);
	assert_string_equal(c.storage.cluster, "two_shards");
	assert_int_equal(c.storage.format, ST_FORMAT_ROWBINARY);
	assert_int_equal(c.storage.compression, ST_COMPRESSION_GZIP);
	assert_int_equal(c.bgp.router_id, 0xFFFFFFFFu);
	round_trip(&c);
	conf_free(&c);
}

/* detection.attack_pcap: off with 500 x 256 by default; every key read, bounds enforced with the
 * full key path, printed back. */
static void test_attack_pcap(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS, &c);
	assert_false(c.attack_pcap.enabled);
	assert_string_equal(c.attack_pcap.dir, "");
	assert_int_equal(c.attack_pcap.packets, 500);
	assert_int_equal(c.attack_pcap.snaplen, 256);
	assert_int_equal(c.attack_pcap.keep_days, 30);
	assert_int_equal(c.attack_pcap.max_files, 10000);
	round_trip(&c);
	conf_free(&c);
	load_ok(NETS "detection:\n  ban_time: 60\n  attack_pcap: { enabled: true, dir: \"/var/x y\", packets: 7, snaplen: 65535, keep_days: 0, max_files: 3 }\n",
		&c);
	assert_true(c.attack_pcap.enabled);
	assert_string_equal(c.attack_pcap.dir, "/var/x y");
	assert_int_equal(c.attack_pcap.packets, 7);
	assert_int_equal(c.attack_pcap.snaplen, 65535);
	assert_int_equal(c.attack_pcap.keep_days, 0);
	assert_int_equal(c.attack_pcap.max_files, 3);
	assert_int_equal(c.detect.ban_time_s, 60); /* beside it, det_config still filled */
	round_trip(&c);
	conf_free(&c);
	char err[512];
	assert_int_equal(load(NETS "detection: { attack_pcap: { snaplen: 63 } }\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "detection.attack_pcap.snaplen: expected an integer 64..65535"));
	assert_int_equal(load(NETS "detection: { attack_pcap: { packets: 0 } }\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "detection.attack_pcap.packets"));
	assert_int_equal(load(NETS "detection: { attack_pcap: { files: 3 } }\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "detection.attack_pcap"));
}

/* mitigation.state_file: beside storage.dir when not set, "" turns it off, printed back as is. */
static void test_state_file(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS, &c);
	assert_string_equal(c.mitigation.state_file, "/var/lib/rampart/bans.state");
	round_trip(&c);
	conf_free(&c);
	load_ok(NETS "storage: { dir: /srv/r }\n", &c);
	assert_string_equal(c.mitigation.state_file, "/srv/r/bans.state");
	round_trip(&c);
	conf_free(&c);
	load_ok(NETS "storage: { dir: /srv/r }\nmitigation: { state_file: \"\" }\n", &c);
	assert_string_equal(c.mitigation.state_file, "");
	round_trip(&c);
	conf_free(&c);
	load_ok(NETS "mitigation: { state_file: \"/x y/b.state\" }\n", &c);
	assert_string_equal(c.mitigation.state_file, "/x y/b.state");
	round_trip(&c);
	conf_free(&c);
	char err[512];
	assert_int_equal(load(NETS "mitigation: { state_file: [a] }\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "mitigation.state_file"));
}

/* FlowSpec rules in the configuration: parsed by the rule language, errors name the rule's token
 * and the file position, and they print back to the same rules. */
static void test_flowspec_rules(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "mitigation:\n"
		     "  flowspec:\n"
		     "    rules:\n"
		     "      - \"destination 10.1.2.3/32 protocol udp source-port =123 then discard\"\n"
		     "      - \"flow route { match { destination 10.0.0.0/24; protocol tcp; destination-port 22; } then { rate-limit 1000; } }\"\n",
		&c);
	assert_int_equal(c.mitigation.n_flowspec_rules, 2);
	assert_true(fs_rule_has(&c.mitigation.flowspec_rules[0].rule, FS_SPORT));
	assert_true(c.mitigation.flowspec_rules[1].actions.present & FS_ACT_RATE);
	round_trip(&c);
	conf_free(&c);

	char err[512];
	struct rampart_conf d;
	assert_int_equal(load(NETS "mitigation: { flowspec: { rules: [\"destination 10.1.2.3/32 protocol ufo then discard\"] } }\n",
			      &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "rampart.yaml:2:"));
	assert_non_null(strstr(err, "mitigation.flowspec.rules[0]"));
	assert_non_null(strstr(err, "ufo"));
	assert_int_equal(load(NETS "mitigation: { flowspec: { rules: [\"destination 10.1.2.3/32 protocol udp\"] } }\n",
			      &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "no action"));
	assert_int_equal(load(NETS "mitigation: { flowspec: { rules: [\"destination 10.1.2.3/32 then discard\", "
				   "\"destination 10.1.2.3/32 then discard\"] } }\n",
			      &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "the same rule as entry [0]"));
}

/* capture.*.cpus: the list lands per section; a CPU past the machine's is refused naming the
 * entry (the count is the machine's, so the message is built here). */
/* The workers the capture sections ask for: one source per interface x member, per queue, per
 * listen address x udp_workers, in that order, each pinned per its section's cpus (wrapping). */
static void test_capture_sources(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "capture: { pcap: { interfaces: [lo] },\n"
		"  afpacket: { interfaces: [eth1, eth2], workers: 2, cpus: [1, 0] },\n"
		"  sflow: { listen: [\"0.0.0.0:6343\"] }, ipfix: { listen: [\"[::1]:4739\"] }, udp_workers: 2 }\n",
		&c);
	assert_int_equal(conf_capture_n_sources(&c.capture), 1 + 4 + 2 + 2);
	struct conf_source src[16];
	assert_int_equal(conf_capture_sources(&c.capture, NULL, src), 9);
	assert_true(src[0].mirror);
	assert_int_equal(src[0].cap.kind, CAP_SRC_PCAP);
	assert_string_equal(src[0].cap.name, "lo");
	assert_false(src[0].cap.pinned);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(src[1 + i].cap.kind, CAP_SRC_AFPACKET);
		assert_string_equal(src[1 + i].cap.name, i < 2 ? "eth1" : "eth2");
		assert_int_equal(src[1 + i].cap.member, i % 2);
		assert_int_equal(src[1 + i].cap.members, 2);
		assert_true(src[1 + i].cap.pinned);
	}
	assert_int_equal(src[1].cap.cpu, 1);
	assert_int_equal(src[2].cap.cpu, 0);
	assert_int_equal(src[3].cap.cpu, 1); /* the third of two CPUs wraps */
	assert_false(src[5].mirror);
	assert_string_equal(src[5].listen, "0.0.0.0:6343");
	assert_int_equal(src[5].flow_proto, CAP_FLOW_PROTO_SFLOW);
	assert_int_equal(src[6].listen_worker, 1);
	assert_int_equal(src[6].listen_workers, 2);
	assert_int_equal(src[8].flow_proto, CAP_FLOW_PROTO_IPFIX);
	assert_string_equal(src[8].listen, "[::1]:4739");
	conf_free(&c);
}

static void test_capture_cpus(void **state)
{
	(void)state;
	struct rampart_conf c;
	load_ok(NETS "capture: { afpacket: { interfaces: [eth1], workers: 2, cpus: [1, 0] },\n"
		"  afxdp: { interfaces: [eth2], cpus: [0] }, dpdk: { cpus: [1, 0] } }\n", &c);
	assert_int_equal(c.capture.afpacket.cpus.n, 2);
	assert_int_equal(c.capture.afpacket.cpus.cpu[0], 1);
	assert_int_equal(c.capture.afpacket.cpus.cpu[1], 0);
	assert_int_equal(c.capture.afxdp.cpus.n, 1);
	assert_int_equal(c.capture.dpdk.cpus.n, 2);
	assert_int_equal(c.capture.dpdk.cpus.cpu[1], 0);
	conf_free(&c);
	load_ok(NETS "capture: { afpacket: { interfaces: [eth1] } }\n", &c);
	assert_int_equal(c.capture.afpacket.cpus.n, 0); /* not pinned */
	conf_free(&c);

	long have = sysconf(_SC_NPROCESSORS_CONF);
	assert_true(have > 0);
	static const char *const sections[] = {"afpacket", "afxdp", "dpdk"};
	for (size_t i = 0; i < 3; i++) {
		char yaml[256], want[256], err[512] = "";
		snprintf(yaml, sizeof yaml, NETS "capture: { %s: { cpus: [0, %ld] } }\n", sections[i], have);
		int col = (int)strlen("capture: { ") + (int)strlen(sections[i]) + (int)strlen(": { cpus: [0, ") + 1;
		snprintf(want, sizeof want, "rampart.yaml:2:%d: capture.%s.cpus[1]: CPU %ld does not exist (this machine "
			 "has CPUs 0-%ld)", col, sections[i], have, have - 1);
		assert_int_equal(load(yaml, &c, err, sizeof err), -1);
		assert_string_equal(err, want);
	}
	char err[512] = "";
	assert_int_equal(load(NETS "capture: { afpacket: { cpus: [-1] } }\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "capture.afpacket.cpus"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_threshold_cells),
		cmocka_unit_test(test_mbps_is_bits),
		cmocka_unit_test(test_communities),
		cmocka_unit_test(test_hostgroups),
		cmocka_unit_test(test_hostgroup_inherits_thresholds),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_dpdk),
		cmocka_unit_test(test_capture_cpus),
		cmocka_unit_test(test_capture_sources),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_round_trip_examples),
		cmocka_unit_test(test_round_trip_edges),
		cmocka_unit_test(test_flowspec_rules),
		cmocka_unit_test(test_attack_pcap),
		cmocka_unit_test(test_state_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
