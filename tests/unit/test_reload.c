/* Reload: conf_diff says per section what a new file changes and which keys need a restart;
 * conf_keep_restart keeps the running values of those (and undoes itself); det_engine_reconfigure
 * applies thresholds, networks and groups to a running engine without losing its hosts, rates or
 * bans. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_EVENTS 256
#include "conf/conf.h"
#include "detect/det.h"
#include "tests/unit/det_test_util.h"

static const char base_yaml[] = "networks: [192.0.2.0/24]\n"
				"thresholds:\n"
				"  incoming: { pps: 1000 }\n"
				"capture:\n"
				"  pcap: { interfaces: [eth1] }\n"
				"bgp:\n"
				"  local_as: 65001\n"
				"  router_id: 10.0.0.1\n"
				"  peers:\n"
				"    - { address: 10.0.0.2, remote_as: 65002 }\n"
				"    - { address: 10.0.0.3, remote_as: 65003, description: old }\n"
				"api: { socket: /tmp/x.sock, http: \"\" }\n";

/* base_yaml with `from` replaced by `to` (each once) */
static void load_edit(struct rampart_conf *c, const char *from, const char *to)
{
	char yaml[4096], err[512];
	const char *at = from ? strstr(base_yaml, from) : NULL;
	if (from)
		assert_non_null(at);
	if (at)
		snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - base_yaml), base_yaml, to, at + strlen(from));
	else
		snprintf(yaml, sizeof yaml, "%s", base_yaml);
	int rc = conf_load_string(yaml, strlen(yaml), "rampart.yaml", c, err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
}

static bool restart_has(const struct conf_diff *d, const char *key)
{
	for (size_t i = 0; i < d->n_restart; i++)
		if (!strcmp(d->restart[i], key))
			return true;
	return false;
}

static void test_same_file_changes_nothing(void **state)
{
	(void)state;
	struct rampart_conf a, b;
	load_edit(&a, NULL, NULL);
	load_edit(&b, NULL, NULL);
	struct conf_diff d;
	conf_diff(&a, &b, &d);
	assert_false(conf_diff_any(&d));
	assert_int_equal(d.n_restart, 0);
	conf_free(&a);
	conf_free(&b);
}

static void test_threshold_only(void **state)
{
	(void)state;
	struct rampart_conf a, b;
	load_edit(&a, NULL, NULL);
	load_edit(&b, "pps: 1000", "pps: 500");
	struct conf_diff d;
	conf_diff(&a, &b, &d);
	assert_true(d.thresholds);
	assert_false(d.networks);
	assert_false(d.whitelist);
	assert_false(d.mitigation);
	assert_int_equal(d.peers_added + d.peers_removed + d.peers_changed + d.peers_described, 0);
	assert_int_equal(d.n_restart, 0);
	conf_free(&a);
	conf_free(&b);
}

static void test_networks_and_whitelist(void **state)
{
	(void)state;
	struct rampart_conf a, b;
	load_edit(&a, NULL, NULL);
	load_edit(&b, "networks: [192.0.2.0/24]\n", "networks: [192.0.2.0/24, 198.51.100.0/24]\nwhitelist: [192.0.2.1/32]\n");
	struct conf_diff d;
	conf_diff(&a, &b, &d);
	assert_true(d.networks);
	assert_true(d.whitelist);
	assert_false(d.thresholds);
	conf_free(&a);
	conf_free(&b);
}

static void test_restart_keys_kept(void **state)
{
	(void)state;
	struct rampart_conf a, b;
	load_edit(&a, NULL, NULL);
	load_edit(&b, "interfaces: [eth1]", "interfaces: [eth2]");
	struct conf_diff d;
	conf_diff(&a, &b, &d);
	assert_true(restart_has(&d, "capture.pcap"));
	assert_false(conf_diff_any(&d));
	conf_keep_restart(&b, &a);
	assert_string_equal(b.capture.pcap_interfaces[0], "eth1"); /* the running one stays */
	assert_string_equal(a.capture.pcap_interfaces[0], "eth2"); /* freed with a */
	/* the second call gives everything back */
	conf_keep_restart(&b, &a);
	assert_string_equal(a.capture.pcap_interfaces[0], "eth1");
	assert_string_equal(b.capture.pcap_interfaces[0], "eth2");
	conf_free(&a);
	conf_free(&b);

	load_edit(&a, NULL, NULL);
	load_edit(&b, "api: { socket: /tmp/x.sock", "detection: { tick_ms: 200, max_hosts: 4096 }\napi: { socket: /tmp/y.sock");
	conf_diff(&a, &b, &d);
	assert_true(restart_has(&d, "detection.tick_ms"));
	assert_true(restart_has(&d, "detection.max_hosts"));
	assert_true(restart_has(&d, "api.socket"));
	conf_keep_restart(&b, &a);
	assert_int_equal(b.detect.tick_ms, a.detect.tick_ms);
	assert_int_equal(b.detect.max_hosts, a.detect.max_hosts);
	assert_string_equal(b.api.socket, "/tmp/x.sock");
	conf_free(&a);
	conf_free(&b);
}

static void test_peers(void **state)
{
	(void)state;
	struct rampart_conf a, b;
	struct conf_diff d;
	load_edit(&a, NULL, NULL);
	/* .2 changed (remote_as), .3 removed, .4 added */
	load_edit(&b, "    - { address: 10.0.0.2, remote_as: 65002 }\n    - { address: 10.0.0.3, remote_as: 65003, description: old }\n",
		  "    - { address: 10.0.0.4, remote_as: 65004 }\n    - { address: 10.0.0.2, remote_as: 65012 }\n");
	conf_diff(&a, &b, &d);
	assert_int_equal(d.peers_added, 1);
	assert_int_equal(d.peers_removed, 1);
	assert_int_equal(d.peers_changed, 1);
	assert_true(conf_diff_any(&d));
	assert_int_equal(conf_peer_compare(conf_peer_find(&a.bgp, &b.bgp.peers[1].address), &b.bgp.peers[1]),
			 CONF_PEER_CHANGED);
	assert_int_equal(conf_peer_compare(NULL, &b.bgp.peers[0]), CONF_PEER_ADDED);
	conf_free(&b);
	/* a new description only: the peer is the same (the session stays) */
	load_edit(&b, "description: old", "description: new");
	conf_diff(&a, &b, &d);
	assert_int_equal(d.peers_added + d.peers_removed + d.peers_changed, 0);
	assert_int_equal(d.peers_described, 1);
	assert_int_equal(conf_peer_compare(&a.bgp.peers[1], &b.bgp.peers[1]), CONF_PEER_SAME);
	conf_free(&b);
	/* a bgp section that goes away needs a restart; the running one is kept */
	load_edit(&b, "bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n  peers:\n    - { address: 10.0.0.2, remote_as: 65002 }\n    - { address: 10.0.0.3, remote_as: 65003, description: old }\n", "");
	conf_diff(&a, &b, &d);
	assert_true(restart_has(&d, "bgp"));
	conf_keep_restart(&b, &a);
	assert_true(b.bgp_enabled);
	assert_int_equal(b.bgp.n_peers, 2);
	assert_true(ip_equal(&b.bgp.peers[1].address, &a.bgp.peers[1].address));
	conf_free(&a);
	conf_free(&b);
}

/* ---- the engine --------------------------------------------------------------------------- */

#define NS 1000000000ull
struct fx {
	ip_prefix nets[1], nets2[1];
	struct det_hostgroup groups[1];
	struct det_config cfg, was;
	struct det_networks *n;
	struct det_engine *e;
	struct det_counters *c;
	struct recorder rec;
	uint64_t t;
};

static struct fx *fx_new(uint64_t pps_limit)
{
	struct fx *f = calloc(1, sizeof *f);
	f->nets[0] = P("192.0.2.0/24");
	det_config_defaults(&f->cfg);
	f->cfg.networks = f->nets, f->cfg.n_networks = 1;
	snprintf(f->groups[0].name, sizeof f->groups[0].name, "default");
	f->groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = pps_limit;
	f->cfg.groups = f->groups, f->cfg.n_groups = 1;
	f->cfg.max_hosts = 64;
	f->cfg.ban_time_s = 5;
	f->cfg.max_bans = 100;
	f->n = det_networks_new(&f->cfg);
	f->e = det_engine_new(&f->cfg, f->n);
	f->c = det_counters_new(f->n, 64);
	assert_non_null(f->e);
	f->t = 1700000000 * NS;
	return f;
}

static void fx_free(struct fx *f)
{
	det_counters_free(f->c);
	det_engine_free(f->e);
	det_networks_free(f->n);
	free(f);
}

static void run(struct fx *f, const char *dst, double pps, double seconds)
{
	det_test_udp_ticks(f->e, f->c, &f->t, &f->rec, dst, pps, seconds);
}

static size_t count(const struct fx *f, enum det_event_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < f->rec.n; i++)
		n += f->rec.ev[i].type == t;
	return n;
}

static void test_engine_lower_threshold_bans(void **state)
{
	(void)state;
	struct fx *f = fx_new(100000);
	run(f, "192.0.2.77", 2000, 3);
	assert_int_equal(count(f, DET_EV_BAN), 0);
	assert_int_equal(det_engine_hosts(f->e), 1);
	/* the same address, new contents: the way rampartd swaps its configuration */
	f->was = f->cfg;
	f->groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	f->groups[0].thresholds.limit[DET_IN][DET_UDP][DET_BPS] = 100000000; /* a metric not tracked before */
	assert_int_equal(det_engine_reconfigure(f->e, &f->cfg, &f->was, f->n), 0);
	assert_int_equal(det_engine_hosts(f->e), 1); /* the host and its rate stay */
	run(f, "192.0.2.77", 2000, 0.3);
	assert_int_equal(count(f, DET_EV_BAN), 1);
	struct det_ban_info b[4];
	assert_int_equal(det_engine_bans(f->e, b, 4), 1);
	ip_addr host = A("192.0.2.77");
	assert_true(ip_equal(&b[0].target.addr, &host));
	/* the rate carried over: the ban's trigger is the 2000 pps average, not a rate starting
	 * again from 0 */
	assert_true(b[0].trigger_value > 1500);
	fx_free(f);
}

static void test_engine_keeps_bans_and_ends_them_off_network(void **state)
{
	(void)state;
	struct fx *f = fx_new(500);
	run(f, "192.0.2.77", 2000, 1);
	assert_int_equal(count(f, DET_EV_BAN), 1);
	/* the host leaves the monitored networks: its ban stays until its time, then ends without
	 * an extension although the traffic goes on */
	f->was = f->cfg;
	f->nets2[0] = P("198.51.100.0/24");
	f->cfg.networks = f->nets2;
	struct det_networks *n2 = det_networks_new(&f->cfg);
	assert_int_equal(det_engine_reconfigure(f->e, &f->cfg, &f->was, n2), 0);
	/* counters still on the old networks: their hosts' groups are looked up again */
	assert_true(det_counters_networks(f->c) == f->n);
	struct det_ban_info b[4];
	assert_int_equal(det_engine_bans(f->e, b, 4), 1);
	run(f, "192.0.2.77", 2000, 1);
	assert_int_equal(det_engine_bans(f->e, b, 4), 1); /* still banned */
	det_counters_set_networks(f->c, n2);
	run(f, "192.0.2.77", 2000, 6);
	assert_int_equal(count(f, DET_EV_UNBAN), 1);
	assert_int_equal(count(f, DET_EV_BAN_EXTENDED), 0);
	assert_int_equal(det_engine_bans(f->e, b, 4), 0);
	assert_int_equal(count(f, DET_EV_BAN), 1); /* no new attack on an unmonitored host */
	det_networks_free(f->n);
	f->n = n2;
	fx_free(f);
}

static void test_engine_refuses_max_hosts_change(void **state)
{
	(void)state;
	struct fx *f = fx_new(500);
	f->was = f->cfg;
	f->cfg.max_hosts = 128;
	assert_int_equal(det_engine_reconfigure(f->e, &f->cfg, &f->was, f->n), -1);
	f->cfg.max_hosts = 64;
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_file_changes_nothing),
		cmocka_unit_test(test_threshold_only),
		cmocka_unit_test(test_networks_and_whitelist),
		cmocka_unit_test(test_restart_keys_kept),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_engine_lower_threshold_bans),
		cmocka_unit_test(test_engine_keeps_bans_and_ends_them_off_network),
		cmocka_unit_test(test_engine_refuses_max_hosts_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
