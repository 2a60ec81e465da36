/* migrate/fnm.c: FastNetMon configurations (byte vectors) become rampart.yaml that loads, with
 * the values where FastNetMon had them, and everything else as a comment naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../conf/conf.h"
#include "../../migrate/fnm.h"

struct run {
	char *out;
	size_t len;
	int rc;
	struct fnm_result res;
	struct rampart_conf conf;
	bool loaded;
	char err[512];
};

static void convert_bytes(struct run *r, const char *conf, size_t conf_len, const char *nets, size_t nets_len,
			  const char *white)
{
	memset(r, 0, sizeof *r);
	struct fnm_input in = {.conf = conf, .conf_len = conf_len, .conf_name = "fastnetmon.conf",
			       .networks = nets, .networks_len = nets_len, .networks_name = "networks_list",
			       .whitelist = white, .whitelist_len = white ? strlen(white) : 0,
			       .whitelist_name = "networks_whitelist"};
	FILE *f = open_memstream(&r->out, &r->len);
	assert_non_null(f);
	r->rc = fnm_convert(&in, f, &r->res);
	fclose(f);
	r->loaded = conf_load_string(r->out, r->len, "converted.yaml", &r->conf, r->err, sizeof r->err) == 0;
}

static void convert(struct run *r, const char *conf, const char *nets, const char *white)
{
	convert_bytes(r, conf, strlen(conf), nets, nets ? strlen(nets) : 0, white);
}

static void must_load(struct run *r)
{
	if (r->rc != 0 || !r->loaded)
		fail_msg("rc %d, does not load: %s\n%s", r->rc, r->err, r->out);
}

static void has(const struct run *r, const char *s)
{
	if (!strstr(r->out, s))
		fail_msg("missing '%s' in:\n%s", s, r->out);
}

static void lacks(const struct run *r, const char *s)
{
	if (strstr(r->out, s))
		fail_msg("unexpected '%s' in:\n%s", s, r->out);
}

static void done(struct run *r)
{
	if (r->loaded)
		conf_free(&r->conf);
	free(r->out);
}

#define NETS "192.0.2.0/24\n2001:db8:10::/48\n"

static const struct det_thresholds *group_th(const struct run *r, size_t g)
{
	assert_true(g < r->conf.detect.n_groups);
	return &r->conf.detect.groups[g].thresholds;
}

/* An empty fastnetmon.conf is FastNetMon's defaults: ban for 20000 pps or 1000 Mbit/s either way,
 * ban time 1900 s, and detection still ends when the attack does. */
static void test_defaults(void **state)
{
	(void)state;
	struct run r;
	convert(&r, "", NETS, NULL);
	must_load(&r);
	has(&r, "incoming: { pps: 20000, mbps: 1000 }");
	has(&r, "outgoing: { pps: 20000, mbps: 1000 }");
	assert_int_equal(group_th(&r, 0)->limit[DET_IN][DET_TOTAL][DET_PPS], 20000);
	assert_int_equal(group_th(&r, 0)->limit[DET_OUT][DET_TOTAL][DET_BPS], 1000000000ull);
	assert_int_equal(r.conf.detect.ban_time_s, 1900);
	assert_true(r.conf.detect.unban_only_if_attack_finished);
	assert_int_equal(r.conf.detect.n_networks, 2);
	has(&r, "# networks_whitelist: not read; no whitelist");
	done(&r);
}

/* Thresholds per protocol only where their ban_for_ switch is on; one direction off. */
static void test_thresholds(void **state)
{
	(void)state;
	struct run r;
	convert(&r,
		"ban_for_pps = on\nthreshold_pps = 777\nban_for_bandwidth = off\nthreshold_mbps = 5\n"
		"ban_for_flows = on\nthreshold_flows = 42\nban_for_udp_pps = on\nthreshold_udp_pps = 300\n"
		"ban_for_tcp_bandwidth = on\nthreshold_tcp_mbps = 9\nban_for_icmp_pps = off\nthreshold_icmp_pps = 1\n"
		"process_outgoing_traffic = off\nban_time = 120\nunban_only_if_attack_finished = off\n"
		"average_calculation_time = 15\n",
		NETS, NULL);
	must_load(&r);
	has(&r, "incoming: { pps: 777, flows: 42, udp_pps: 300, tcp_mbps: 9 }");
	lacks(&r, "outgoing: {");
	has(&r, "process_outgoing_traffic = off: no outgoing thresholds");
	const struct det_thresholds *t = group_th(&r, 0);
	assert_int_equal(t->limit[DET_IN][DET_UDP][DET_PPS], 300);
	assert_int_equal(t->limit[DET_IN][DET_TCP][DET_BPS], 9000000);
	assert_int_equal(t->limit[DET_IN][DET_ICMP][DET_PPS], 0);
	assert_int_equal(t->limit[DET_IN][DET_TOTAL][DET_BPS], 0);
	assert_int_equal(t->limit[DET_OUT][DET_TOTAL][DET_PPS], 0);
	assert_int_equal(r.conf.detect.ban_time_s, 120);
	assert_false(r.conf.detect.unban_only_if_attack_finished);
	assert_int_equal(r.conf.detect.average_s, 15);
	done(&r);
}

/* The lists: comments, host bits cleared (as FastNetMon does), duplicates once, v6, a bad line
 * counted and named, CRLF line ends. */
static void test_lists(void **state)
{
	(void)state;
	struct run r;
	convert(&r, "", "# ours\r\n192.0.2.9/24\r\n192.0.2.0/24\r\n2001:db8:10::/48 # v6\r\nnot-a-prefix\r\n10.0.0.0/33\r\n",
		"192.0.2.1\n2001:db8:10::1/128\n");
	must_load(&r);
	has(&r, "networks: [\"192.0.2.0/24\", \"2001:db8:10::/48\"]");
	has(&r, "whitelist: [\"192.0.2.1/32\", \"2001:db8:10::1/128\"]");
	has(&r, "# networks_list line 2: 192.0.2.9/24 has host bits set: taken as 192.0.2.0/24");
	has(&r, "# networks_list line 5: not a prefix, skipped: not-a-prefix");
	has(&r, "# networks_list line 6: not a prefix, skipped: 10.0.0.0/33");
	assert_int_equal(r.res.networks, 2);
	assert_int_equal(r.res.bad_lines, 2);
	assert_int_equal(r.conf.detect.n_whitelist, 2);
	done(&r);
}

/* Hostgroups: v4 and v6 prefixes, their own thresholds, enable_ban off, a bad name, a prefix
 * outside the networks and one already in an earlier group. */
static void test_hostgroups(void **state)
{
	(void)state;
	struct run r;
	convert(&r,
		"hostgroup = gold:192.0.2.128/25,2001:db8:10:1::/64\n"
		"hostgroup = quiet:192.0.2.64/26, 192.0.2.128/25\n"
		"hostgroup = bad name:192.0.2.32/27\n"
		"hostgroup = far:203.0.113.0/24\n"
		"hostgroup = default:192.0.2.16/28\n"
		"gold_enable_ban = on\ngold_ban_for_pps = on\ngold_threshold_pps = 5000\n"
		"gold_ban_for_bandwidth = off\ngold_ban_for_flows = on\ngold_threshold_flows = 900\n"
		"quiet_enable_ban = off\n",
		NETS, NULL);
	must_load(&r);
	has(&r, "  - name: \"gold\"\n    prefixes: [\"192.0.2.128/25\", \"2001:db8:10:1::/64\"]\n");
	has(&r, "      incoming: { pps: 5000, flows: 900 }");
	has(&r, "  - name: \"quiet\"\n    prefixes: [\"192.0.2.64/26\"]\n");
	has(&r, "quiet_enable_ban = off: no thresholds");
	has(&r, "# hostgroup quiet (line 2): 192.0.2.128/25 is in an earlier group already, left out");
	has(&r, "(line 3): the group's name is not letters");
	has(&r, "# hostgroup far (line 4): 203.0.113.0/24 is outside the networks");
	has(&r, "hostgroup = default:192.0.2.16/28 (line 5)");
	lacks(&r, "name: \"far\"");
	assert_int_equal(r.res.hostgroups, 2);
	assert_int_equal(r.conf.detect.n_groups, 3); /* default + 2 */
	assert_int_equal(group_th(&r, 1)->limit[DET_IN][DET_TOTAL][DET_PPS], 5000);
	assert_int_equal(group_th(&r, 1)->limit[DET_IN][DET_TOTAL][DET_BPS], 0);
	assert_int_equal(group_th(&r, 2)->limit[DET_IN][DET_TOTAL][DET_PPS], 0);
	done(&r);
}

/* ExaBGP and GoBGP: communities (one and a list), next hops, the subnet settings noted, the
 * peers to fill in as a commented bgp section; enable_ban off is dry_run. */
static void test_bgp_settings(void **state)
{
	(void)state;
	struct run r;
	convert(&r,
		"enable_ban = off\nexabgp = on\nexabgp_command_pipe = /var/run/exabgp.cmd\n"
		"exabgp_community = [65001:666 65001:777]\nexabgp_next_hop = 10.0.3.114\n"
		"exabgp_announce_whole_subnet = on\n"
		"gobgp = on\ngobgp_next_hop = 0.0.0.0\ngobgp_community_host = 65001:666\n"
		"gobgp_next_hop_ipv6 = 2001:db8::1\ngobgp_community_subnet = 65001:999\n"
		"gobgp_community_host_ipv6 = 70000:1\n",
		NETS, NULL);
	must_load(&r);
	has(&r, "communities: [\"65001:666\", \"65001:777\"]");
	has(&r, "next_hop_ipv4: \"10.0.3.114\"");
	has(&r, "next_hop_ipv6: \"2001:db8::1\"");
	has(&r, "dry_run: true");
	has(&r, "# bgp:\n#   local_as:");
	has(&r, "ExaBGP and GoBGP, whose neighbors are in exabgp.conf and gobgpd.conf");
	has(&r, "# exabgp_announce_whole_subnet = on (line 6): Rampart announces the attacked host");
	has(&r, "# gobgp_community_subnet = 65001:999 (line 11): for whole-network announcements only");
	has(&r, "# gobgp_community_host_ipv6 = 70000:1 (line 12): not a community");
	assert_true(r.conf.mitigation.dry_run);
	assert_int_equal(r.conf.mitigation.n_communities, 2);
	done(&r);
}

/* Collectors and the mirror: port lists, a v6 host, duplicates once, interfaces only with a
 * mirror mode on; FastNetMon's sampling ratio has no counterpart. */
static void test_capture(void **state)
{
	(void)state;
	struct run r;
	convert(&r,
		"netflow = on\nnetflow_host = ::\nnetflow_port = 2055,2056,2055\nsflow = on\nsflow_port = 6343\n"
		"mirror_afpacket = on\ninterfaces = eth3, eth4,eth3,bad/name,eth0:1\nnetflow_sampling_ratio = 100\n"
		"collect_attack_pcap_dumps = on\n",
		NETS, NULL);
	must_load(&r);
	has(&r, "netflow:\n    listen: [\"[::]:2055\", \"[::]:2056\"]");
	has(&r, "sflow:\n    listen: [\"0.0.0.0:6343\"]");
	has(&r, "interfaces: [\"eth3\", \"eth4\"]");
	has(&r, "interfaces: bad/name is not an interface name");
	has(&r, "interfaces: eth0:1 is not an interface name"); /* an alias label, not a device */
	has(&r, "# netflow_sampling_ratio = 100 (line 8): Rampart scales by the sampling rate");
	has(&r, "give IPFIX exporters a capture.ipfix.listen address");
	assert_true(r.conf.attack_pcap.enabled);
	assert_int_equal(r.conf.capture.n_netflow, 2);
	done(&r);

	convert(&r, "mirror_afpacket = off\ninterfaces = eth1\nnetflow = off\nnetflow_port = 9999\n", NETS, NULL);
	must_load(&r);
	has(&r, "interfaces: []");
	has(&r, "# interfaces = eth1 (line 2): no mirror capture is on");
	has(&r, "# netflow_port = 9999 (line 4): not used: netflow is off");
	done(&r);
}

/* Hostile bytes: NUL, lines without '=', a key with spaces, non-numbers, a huge value, bytes
 * that are not ASCII in a path. Counted, named in a comment (printable only), never in a value. */
static void test_bad_bytes(void **state)
{
	(void)state;
	char conf[9000];
	int n = snprintf(conf, sizeof conf,
			 "ban_time = 1x\nthreshold_pps = -5\njust words\n= novalue\nbad key = 1\n"
			 "notify_script_path = /usr/\xff\x01x.sh\nlogging_level = loud\n"
			 "ban_for_pps = maybe\nunknown_thing = \x1b[31mred\nban_time = 99999999999999999999\nlong = ");
	memset(conf + n, 'A', 8000);
	n += 8000;
	conf[n++] = '\n';
	conf[5] = 0; /* a NUL in the middle of "ban_time" */
	struct run r;
	convert_bytes(&r, conf, (size_t)n, NETS, strlen(NETS), NULL);
	must_load(&r);
	assert_null(memchr(r.out, 0, r.len));
	for (size_t i = 0; i < r.len; i++)
		if (r.out[i] != '\n' && ((unsigned char)r.out[i] < 0x20 || (unsigned char)r.out[i] >= 0x7f))
			fail_msg("byte 0x%02x at %zu of the output", (unsigned char)r.out[i], i);
	has(&r, "# line 3: not a setting (key = value), skipped: just words");
	has(&r, "# line 4: not a setting");
	has(&r, "# line 5: not a setting (key = value), skipped: bad key = 1");
	has(&r, "# threshold_pps = -5 (line 2): not a number");
	has(&r, "notify_script_path = /usr/??x.sh: not printable ASCII, left out");
	has(&r, "# ban_for_pps = maybe (line 8): neither on nor off; taken as on");
	has(&r, "# ban_time = 99999999999999999999 (line 10): not a number");
	has(&r, "# unknown_thing = ?[31mred (line 9): no equivalent in Rampart");
	has(&r, "AAA...");
	has(&r, "logging_level = loud: taken as info");
	lacks(&r, "notify_script:");
	assert_true(r.res.bad_lines >= 6);
	done(&r);
}

/* No networks: nothing loadable can come out, and the converter says so (rc -1). */
static void test_no_networks(void **state)
{
	(void)state;
	struct run r;
	convert(&r, "ban_time = 60\n", "# nothing\n", NULL);
	assert_int_equal(r.rc, -1);
	assert_false(r.loaded);
	has(&r, "# networks: none found in networks_list");
	done(&r);
	convert(&r, "ban_time = 60\n", NULL, NULL);
	assert_int_equal(r.rc, -1);
	has(&r, "(not read)");
	done(&r);
}

/* The list paths come from the configuration, else FastNetMon's defaults. */
static void test_list_paths(void **state)
{
	(void)state;
	char n[256], w[256];
	const char *c = "networks_list_path = /srv/nets\nwhite_list_path = /srv/white\n";
	fnm_list_paths(c, strlen(c), n, sizeof n, w, sizeof w);
	assert_string_equal(n, "/srv/nets");
	assert_string_equal(w, "/srv/white");
	fnm_list_paths("", 0, n, sizeof n, w, sizeof w);
	assert_string_equal(n, "/etc/networks_list");
	assert_string_equal(w, "/etc/networks_whitelist");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),   cmocka_unit_test(test_thresholds), cmocka_unit_test(test_lists),
		cmocka_unit_test(test_hostgroups), cmocka_unit_test(test_bgp_settings), cmocka_unit_test(test_capture),
		cmocka_unit_test(test_bad_bytes),  cmocka_unit_test(test_no_networks), cmocka_unit_test(test_list_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
