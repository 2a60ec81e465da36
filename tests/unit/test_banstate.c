/* The ban state file: the parser on byte vectors (good, truncated, other versions, every bad field,
 * duplicates), the record writers read back, and a daemon round trip: what one rampartd kept, the
 * next one restores with the same attack ids and end times. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "bgp/exabgp.h"
#include "api/api.h"
#include "lib/clock.h"
#include "mitigation/internal.h"
#include "rampartd/daemon.h"

#define NS 1000000000ull

struct got {
	struct mit_state_rec rec[16];
	char text[16][512];
	size_t n;
	char errors[2048];
	size_t n_errors;
};

static void on_rec(void *ctx, const struct mit_state_rec *r)
{
	struct got *g = ctx;
	assert_true(g->n < 16);
	g->rec[g->n] = *r;
	if (r->text)
		snprintf(g->text[g->n], sizeof g->text[g->n], "%s", r->text);
	g->n++;
}

static void on_err(void *ctx, size_t line, const char *why)
{
	struct got *g = ctx;
	size_t l = strlen(g->errors);
	snprintf(g->errors + l, sizeof g->errors - l, "%zu: %s\n", line, why);
	g->n_errors++;
}

static int parse(const char *s, struct got *g, struct mit_state_result *res)
{
	memset(g, 0, sizeof *g);
	return mit_state_parse(s, strlen(s), on_rec, on_err, g, res);
}

#define H "rampart-banstate 1\n" /* the old version: still read, ban lines without PARENT */
#define H2 "rampart-banstate 2\n"
#define BAN1 "ban 17 192.0.2.10/32 in default detected 1763900000.000000001 1763900600.500000000 udp_pps 12345.5 500 blackhole\n"
#define BAN2 "ban 18 2001:db8:10::/64 in gold%20tier manual 1763900001.000000000 1763903601.000000000 - 0 0 blackhole\n"
#define BAN3 "ban 19 192.0.2.11/32 in - detected 1763900002.000000000 1763900602.000000000 syn_pps 9000 1000 flowspec-then-blackhole destination 192.0.2.11/32; protocol =6; tcp-flags syn&!ack\n"
#define ROUTE "route pipe announce route 198.51.100.0/24 next-hop 10.0.0.1 community [65001:666]\n"
#define FLOW "flow socket announce flow route destination 192.0.2.12/32; protocol =17 then discard\n"
#define RULE "rule destination 192.0.2.13/32; destination-port =53 then rate-limit 1000\n"

static void test_good_file(void **state)
{
	(void)state;
	struct got g;
	struct mit_state_result res;
	assert_int_equal(parse(H "# comment\n" BAN1 BAN2 BAN3 ROUTE FLOW RULE "end 6\n", &g, &res), 0);
	assert_int_equal(g.n_errors, 0);
	assert_int_equal(res.records, 6);
	assert_int_equal(res.bad, 0);
	assert_true(res.complete);
	const struct mit_state_ban *b = &g.rec[0].ban;
	assert_int_equal(g.rec[0].kind, MIT_STATE_BAN);
	assert_int_equal(g.rec[0].line, 3);
	assert_int_equal(b->attack_id, 17);
	ip_prefix p;
	assert_true(ip_prefix_parse("192.0.2.10/32", &p));
	assert_true(ip_prefix_equal(&b->target, &p));
	assert_int_equal(b->direction, DET_IN);
	assert_string_equal(b->group, "default");
	assert_false(b->manual);
	assert_int_equal(b->since_ns, 1763900000 * NS + 1);
	assert_int_equal(b->until_ns, 1763900600 * NS + 500000000);
	assert_int_equal(b->trigger_class, DET_UDP);
	assert_int_equal(b->trigger_metric, DET_PPS);
	assert_true(b->trigger_value == 12345.5 && b->trigger_limit == 500);
	assert_int_equal(b->mit, MIT_STATE_BLACKHOLE);
	b = &g.rec[1].ban;
	assert_true(b->manual);
	assert_string_equal(b->group, "gold tier");
	b = &g.rec[2].ban;
	assert_string_equal(b->group, "");
	assert_int_equal(b->mit, MIT_STATE_ESCALATE);
	assert_true(fs_rule_has(&b->rule, FS_TCP_FLAGS));
	assert_int_equal(g.rec[3].kind, MIT_STATE_ROUTE);
	assert_int_equal(g.rec[3].src, MIT_SRC_API);
	assert_string_equal(g.text[3], "announce route 198.51.100.0/24 next-hop 10.0.0.1 community [65001:666]");
	assert_int_equal(g.rec[4].kind, MIT_STATE_FLOW);
	assert_int_equal(g.rec[4].src, MIT_SRC_OPERATOR);
	assert_int_equal(g.rec[5].kind, MIT_STATE_RULE);
	assert_true(g.rec[5].actions.present != 0);
}

static void test_truncated(void **state)
{
	(void)state;
	struct got g;
	struct mit_state_result res;
	/* the tail cut inside a line: the partial line is not trusted, the rest is restored */
	const char *f = H BAN1 "ban 18 2001:db8:10::/64 in gold manual 1763900001.000000000 17639";
	assert_int_equal(parse(f, &g, &res), 0);
	assert_int_equal(res.records, 1);
	assert_int_equal(res.bad, 1);
	assert_false(res.complete);
	assert_non_null(strstr(g.errors, "3: truncated: the last line has no newline"));
	assert_non_null(strstr(g.errors, "no end line"));
	/* whole lines lost: the end count tells */
	assert_int_equal(parse(H BAN1 "end 3\n", &g, &res), 0);
	assert_int_equal(res.records, 1);
	assert_false(res.complete);
	assert_non_null(strstr(g.errors, "3: end: the writer wrote 3 records, 1 are here"));
	/* a header only, cut before its newline */
	assert_int_equal(parse("rampart-banstate 1", &g, &res), -1);
	assert_int_equal(parse("", &g, &res), -1);
	assert_non_null(strstr(g.errors, "empty file"));
}

static void test_other_versions(void **state)
{
	(void)state;
	struct got g;
	struct mit_state_result res;
	assert_int_equal(parse("rampart-banstate 3\n" BAN1 "end 1\n", &g, &res), -1);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(g.errors, "1: unknown version '3'"));
	assert_int_equal(parse("rampart-banstate 0\n" BAN1 "end 1\n", &g, &res), -1);
	assert_int_equal(parse("rampart-banstate 1 extra\n" BAN1, &g, &res), -1);
	assert_int_equal(parse("rampart-banstate\n", &g, &res), -1);
	assert_int_equal(parse("{\"bans\":[]}\n", &g, &res), -1);
	assert_non_null(strstr(g.errors, "not a ban state file"));
	assert_int_equal(g.n, 0);
}

/* Each line is wrong in one field; a good line after it is still read. */
static void test_bad_fields(void **state)
{
	(void)state;
	static const struct {
		const char *line, *why;
	} bad[] = {
		{"ban 0 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "attack id"},
		{"ban 18446744073709551615 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "attack id"},
		{"ban 99999999999999999999 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "attack id"},
		{"ban 01 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "attack id"},
		{"ban -1 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "attack id"},
		{"ban 5 192.0.2.10 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "target"},
		{"ban 5 192.0.2.10/24 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "host bits"},
		{"ban 5 192.0.2.0/33 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "target"},
		{"ban 5 192.0.2.10/32 up - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "direction"},
		{"ban 5 192.0.2.10/32 in a%2 detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "hostgroup"},
		{"ban 5 192.0.2.10/32 in a%00b detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "hostgroup"},
		{"ban 5 192.0.2.10/32 in a-b detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "hostgroup"},
		{"ban 5 192.0.2.10/32 in - auto 1.000000000 2.000000000 udp_pps 1 1 blackhole", "detected or manual"},
		{"ban 5 192.0.2.10/32 in - detected 1 2.000000000 udp_pps 1 1 blackhole", "SECONDS"},
		{"ban 5 192.0.2.10/32 in - detected 1.00000000 2.000000000 udp_pps 1 1 blackhole", "SECONDS"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.00000000x udp_pps 1 1 blackhole", "SECONDS"},
		{"ban 5 192.0.2.10/32 in - detected 99999999999.000000000 2.000000000 udp_pps 1 1 blackhole", "SECONDS"},
		{"ban 5 192.0.2.10/32 in - detected 3.000000000 2.000000000 udp_pps 1 1 blackhole", "ends before"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_kbps 1 1 blackhole", "trigger"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 - 1 1 blackhole", "trigger"},
		{"ban 5 192.0.2.10/32 in - manual 1.000000000 2.000000000 udp_pps 1 1 blackhole", "manual ban has none"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps nan 1 blackhole", "value"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 inf blackhole", "value"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1e999 1 blackhole", "value"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 drop", "mitigation"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole extra", "after blackhole"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 flowspec", "without its rule"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 flowspec destination 192.0.2.99/32",
		 "not the ban's target"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 flowspec destination 192.0.2.10/32; bogus 1",
		 "rule"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1", "mitigation missing"},
		{"ban 5 192.0.2.10/32 in - detected  1.000000000 2.000000000 udp_pps 1 1 blackhole", "missing"},
		{"route tcp announce route 198.51.100.0/24", "source"},
		{"route process announce route 198.51.100.0/24", "source"},
		{"route pipe withdraw route 198.51.100.0/24", "not an 'announce route'"},
		{"route pipe announce flow route destination 192.0.2.1/32 then discard", "not an 'announce route'"},
		{"flow pipe neighbor 10.0.0.2 announce flow route destination 192.0.2.1/32 then discard", "every peer"},
		{"route pipe announce route 198.51.100.0/24 next-hopp 1.2.3.4", "next-hopp"},
		{"route pipe", "missing"},
		{"flow pipe announce route 198.51.100.0/24", "not an 'announce flow route'"},
		{"rule destination 192.0.2.13/32", "action"},
		{"rule then discard", "rule"},
		{"rule", "text missing"},
		{"bans 5", "unknown record"},
		{"", "empty line"},
		{" ban 5", "empty line"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole\r", "0x0d"},
		{"ban 5 192.0.2.10/32 in gr\xc3\xbcn detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "0xc3"},
		{"end", "end COUNT"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char f[1024];
		snprintf(f, sizeof f, H "%s\n" BAN1 "end 2\n", bad[i].line);
		struct got g;
		struct mit_state_result res;
		if (parse(f, &g, &res) != 0)
			fail_msg("line %zu: whole file refused", i);
		if (!strcmp(bad[i].line, "end")) {
			/* an early end: what follows it is refused */
			assert_int_equal(res.records, 0);
			continue;
		}
		if (res.records != 1 || res.bad != 1 || g.rec[0].ban.attack_id != 17)
			fail_msg("'%s': %zu records, %zu bad: %s", bad[i].line, res.records, res.bad, g.errors);
		if (!strstr(g.errors, "2: ") || !strstr(g.errors, bad[i].why))
			fail_msg("'%s': expected '%s' in: %s", bad[i].line, bad[i].why, g.errors);
		assert_true(res.complete); /* the count includes the bad record line */
	}
}

static void test_duplicates_and_order(void **state)
{
	(void)state;
	struct got g;
	struct mit_state_result res;
	assert_int_equal(parse(H BAN1 BAN1 "end 2\n", &g, &res), 0);
	assert_int_equal(res.records, 1);
	assert_int_equal(res.bad, 1);
	assert_non_null(strstr(g.errors, "3: attack 17 is in the file twice"));
	assert_int_equal(parse(H BAN1 "end 1\n" BAN2, &g, &res), 0);
	assert_int_equal(res.records, 1);
	assert_non_null(strstr(g.errors, "4: after the end line"));
	assert_int_equal(parse(H "rampart-banstate 1\n" BAN1 "end 2\n", &g, &res), 0);
	assert_non_null(strstr(g.errors, "2: unknown record"));
	/* many ids: the set grows */
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, H);
	for (int i = 1; i <= 300; i++)
		evbuffer_add_printf(b, "ban %d 192.0.2.10/32 in - manual 1.000000000 2.000000000 - 0 0 blackhole\n", i);
	evbuffer_add_printf(b, "ban 150 192.0.2.10/32 in - manual 1.000000000 2.000000000 - 0 0 blackhole\nend 301\n");
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = 0;
	memset(&g, 0, sizeof g);
	assert_int_equal(mit_state_parse(s, n, NULL, on_err, &g, &res), 0);
	assert_int_equal(res.records, 300);
	assert_int_equal(res.bad, 1);
	assert_non_null(strstr(g.errors, "302: attack 150 is in the file twice"));
	free(s);
	evbuffer_free(b);
}

/* Version 2: PARENT (the covering attack) before the mitigation; version 1 lines read as 0. */
static void test_version2_parent(void **state)
{
	(void)state;
	struct got g;
	struct mit_state_result res;
	const char *v2 = H2
		"ban 20 192.0.2.0/25 in default detected 1763900000.000000000 1763900600.000000000 total_pps 9000 3000 0 blackhole\n"
		"ban 21 192.0.2.10/32 out default detected 1763900001.000000000 1763900601.000000000 syn_pps 2000 500 20 "
		"flowspec source 192.0.2.10/32; protocol =6\n"
		"end 2\n";
	assert_int_equal(parse(v2, &g, &res), 0);
	assert_int_equal(g.n_errors, 0);
	assert_int_equal(res.records, 2);
	assert_int_equal(g.rec[0].ban.parent_attack_id, 0);
	assert_int_equal(g.rec[1].ban.parent_attack_id, 20);
	assert_int_equal(g.rec[1].ban.mit, MIT_STATE_FLOWSPEC);
	assert_int_equal(g.rec[1].ban.direction, DET_OUT);
	/* the old format: no PARENT field, none */
	assert_int_equal(parse(H BAN1 "end 1\n", &g, &res), 0);
	assert_int_equal(g.n_errors, 0);
	assert_int_equal(g.rec[0].ban.parent_attack_id, 0);
	assert_int_equal(g.rec[0].ban.mit, MIT_STATE_BLACKHOLE);
	static const struct {
		const char *line, *why;
	} bad[] = {
		/* a version 1 line in a version 2 file: the mitigation is where PARENT goes */
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 blackhole", "mitigation missing"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 -1 blackhole", "parent attack id"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 18446744073709551615 blackhole",
		 "parent attack id"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 5 blackhole", "its own parent"},
		{"ban 5 192.0.2.10/32 in - detected 1.000000000 2.000000000 udp_pps 1 1 4", "mitigation missing"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char f[1024];
		snprintf(f, sizeof f, H2 "%s\n"
			 "ban 17 192.0.2.10/32 in default detected 1763900000.000000001 1763900600.500000000 udp_pps 12345.5 500 0 blackhole\n"
			 "end 2\n", bad[i].line);
		assert_int_equal(parse(f, &g, &res), 0);
		if (res.records != 1 || res.bad != 1 || g.rec[0].ban.attack_id != 17)
			fail_msg("'%s': %zu records, %zu bad: %s", bad[i].line, res.records, res.bad, g.errors);
		if (!strstr(g.errors, "2: ") || !strstr(g.errors, bad[i].why))
			fail_msg("'%s': expected '%s' in: %s", bad[i].line, bad[i].why, g.errors);
	}
}

/* What the writers write, the parser reads back the same. */
static void test_format_reads_back(void **state)
{
	(void)state;
	struct mit_state_ban b = {
		.attack_id = 123456789012ull,
		.direction = DET_OUT,
		.since_ns = 1763900000 * NS + 123,
		.until_ns = 1763900000 * NS + 999999999,
		.trigger_class = DET_FRAG,
		.trigger_metric = DET_BPS,
		.trigger_value = 0.1 + 0.2,
		.trigger_limit = 1e12,
		.parent_attack_id = 123456789011ull,
		.mit = MIT_STATE_ESCALATED,
	};
	snprintf(b.group, sizeof b.group, "we\"ird \\ name: # \xc3\xbc-%%");
	assert_true(ip_prefix_parse("2001:db8:10::53/128", &b.target));
	fs_rule_init(&b.rule, FS_AFI_IPV6);
	b.rule.src.p = b.target;
	b.rule.present |= 1u << FS_SRC;
	fs_rule_add(&b.rule, FS_PROTO, FS_OP_EQ, 17);
	struct bgp_route_attrs a = {.n_communities = 2, .communities = {0xFFFF029Au, 65001u << 16 | 7}, .local_pref = 200,
				    .med = 5, .has_med = true, .n_large_communities = 1, .large_communities = {{1, 2, 3}},
				    .n_ext_communities = 1, .ext_communities = {{0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 1}}};
	assert_true(ip_parse("10.0.0.1", &a.next_hop));
	ip_prefix rp;
	assert_true(ip_prefix_parse("198.51.100.0/24", &rp));
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, H2);
	mit_state_format_ban(out, &b);
	mit_state_format_route(out, MIT_SRC_OPERATOR, "", &rp, &a);
	a.origin = BGP_ORIGIN_EGP;
	a.n_as_path = 2, a.as_path[0] = 65010, a.as_path[1] = 4200000000u;
	a.atomic_aggregate = true;
	a.has_aggregator = true, a.aggregator_as = 65011, a.aggregator_id = 0x0a000001;
	a.has_originator_id = true, a.originator_id = 0x0a000002;
	a.n_cluster_list = 2, a.cluster_list[0] = 0x0a000003, a.cluster_list[1] = 0x0a000004;
	mit_state_format_route(out, MIT_SRC_API, "neighbor 10.0.0.2, neighbor 10.0.0.3 ", &rp, &a);
	evbuffer_add_printf(out, "end 3\n");
	char s[4096];
	size_t n = evbuffer_remove(out, s, sizeof s - 1);
	s[n] = 0;
	evbuffer_free(out);
	struct got g;
	struct mit_state_result res;
	assert_int_equal(parse(s, &g, &res), 0);
	if (g.n_errors)
		fail_msg("%s\n%s", s, g.errors);
	assert_int_equal(res.records, 3);
	const struct mit_state_ban *c = &g.rec[0].ban;
	assert_int_equal(c->attack_id, b.attack_id);
	assert_true(ip_prefix_equal(&c->target, &b.target));
	assert_int_equal(c->direction, DET_OUT);
	assert_string_equal(c->group, b.group);
	assert_int_equal(c->since_ns, b.since_ns);
	assert_int_equal(c->until_ns, b.until_ns);
	assert_int_equal(c->trigger_class, DET_FRAG);
	assert_int_equal(c->trigger_metric, DET_BPS);
	assert_true(c->trigger_value == b.trigger_value && c->trigger_limit == b.trigger_limit);
	assert_int_equal(c->mit, MIT_STATE_ESCALATED);
	assert_int_equal(c->parent_attack_id, b.parent_attack_id);
	assert_true(fs_rule_equal(&c->rule, &b.rule));
	/* the route line is an ExaBGP command that gives back the same attributes */
	struct bgp_exa_cmd *cmd = malloc(sizeof *cmd);
	struct bgp_exa_err err;
	assert_true(bgp_exa_parse(g.text[1], cmd, &err));
	assert_int_equal(cmd->n_nlri, 1);
	assert_true(ip_prefix_equal(&cmd->nlri[0], &rp));
	assert_true(ip_equal(&cmd->a.attrs.next_hop, &a.next_hop));
	assert_int_equal(cmd->a.attrs.n_communities, 2);
	assert_int_equal(cmd->a.attrs.communities[1], a.communities[1]);
	assert_int_equal(cmd->a.attrs.local_pref, 200);
	assert_true(cmd->a.attrs.has_med && cmd->a.attrs.med == 5);
	assert_int_equal(cmd->a.n_large, 1);
	assert_int_equal(cmd->a.large[0].local2, 3);
	assert_int_equal(cmd->a.n_extended, 1);
	assert_int_equal(cmd->a.extended[0], 0x0002fde800000001ull);
	assert_int_equal(cmd->n_neighbors, 0);
	/* and the one for two peers, with every other attribute */
	assert_true(bgp_exa_parse(g.text[2], cmd, &err));
	assert_int_equal(cmd->n_neighbors, 2);
	const struct bgp_route_attrs *x = &cmd->a.attrs;
	assert_int_equal(cmd->a.origin, BGP_ORIGIN_EGP); /* the ExaBGP side; exapipe completes attrs */
	assert_int_equal(cmd->a.n_as_path, 2);
	assert_int_equal(cmd->a.as_path[1], 4200000000u);
	assert_true(cmd->a.atomic_aggregate);
	assert_true(x->has_aggregator && x->aggregator_as == 65011 && x->aggregator_id == 0x0a000001);
	assert_true(x->has_originator_id && x->originator_id == 0x0a000002);
	assert_int_equal(x->n_cluster_list, 2);
	assert_int_equal(x->cluster_list[1], 0x0a000004);
	free(cmd);
}

/* The route line byte for byte at the edges of its numbers (0, UINT32_MAX, hex with leading
 * zeros, an IPv6 next hop): it is built without printf. */
static void test_format_route_edges(void **state)
{
	(void)state;
	struct bgp_route_attrs a = {
		.origin = BGP_ORIGIN_INCOMPLETE,
		.n_as_path = 2, .as_path = {0, UINT32_MAX},
		.atomic_aggregate = true,
		.has_aggregator = true, .aggregator_as = UINT32_MAX, .aggregator_id = 0,
		.has_originator_id = true, .originator_id = UINT32_MAX,
		.n_cluster_list = 2, .cluster_list = {0x01020304, 0xff000aff},
		.n_communities = 3, .communities = {0, UINT32_MAX, 10u << 16 | 9},
		.n_large_communities = 2, .large_communities = {{0, 0, 0}, {UINT32_MAX, 1, 4200000000u}},
		.n_ext_communities = 2, .ext_communities = {{0, 0, 0, 0, 0, 0, 0, 0}, {0xff, 0x0a, 0xa0, 1, 2, 3, 4, 0x0f}},
		.local_pref = UINT32_MAX,
		.has_med = true, .med = 0,
		.n_raw_attrs = 9, .raw_attrs = {0xc0, 0x13, 0x02, 0x0a, 0xbc, 0x70, 0x99, 0x00, 0x00},
	};
	assert_true(ip_parse("2001:db8::ff", &a.next_hop));
	ip_prefix p;
	assert_true(ip_prefix_parse("0.0.0.0/0", &p));
	struct evbuffer *out = evbuffer_new();
	mit_state_format_route(out, MIT_SRC_API, "neighbor 10.0.0.2 ", &p, &a);
	assert_true(ip_prefix_parse("2001:db8:10::/48", &p));
	struct bgp_route_attrs none = {0};
	mit_state_format_route(out, MIT_SRC_OPERATOR, "", &p, &none);
	evbuffer_add(out, "", 1);
	assert_string_equal((char *)evbuffer_pullup(out, -1),
			    "route pipe neighbor 10.0.0.2 announce route 0.0.0.0/0 next-hop 2001:db8::ff origin incomplete "
			    "as-path [0 4294967295] atomic-aggregate aggregator (4294967295:0.0.0.0) originator-id "
			    "255.255.255.255 cluster-list [1.2.3.4 255.0.10.255] community [0:0 65535:65535 10:9] "
			    "large-community [0:0:0 4294967295:1:4200000000] extended-community [0x0000000000000000 "
			    "0xff0aa0010203040f] local-preference 4294967295 med 0 attribute [0x13 0xc0 0x0abc ] "
			    "attribute [0x99 0x70 0x ]\n"
			    "route socket announce route 2001:db8:10::/48 next-hop self\n");
	evbuffer_free(out);
}

/* ---- the daemon side: one rampartd writes, the next restores ---------------------------------- */

struct daemon {
	struct rampart rp;
};

static char dir[64], path[128];
static const char *action = "blackhole";
static bool with_bgp; /* a speaker (not started): announcements land in its RIB-out */

static struct daemon *daemon_up(void)
{
	struct daemon *d = calloc(1, sizeof *d);
	char yaml[1024], err[256];
	snprintf(yaml, sizeof yaml,
		 "networks: [192.0.2.0/24, \"2001:db8:10::/48\"]\n"
		 "whitelist: [192.0.2.1/32]\n"
		 "thresholds: { incoming: { pps: 500 } }\n"
		 "detection: { ban_time: 600 }\n"
		 "mitigation: { action: %s, max_bans: 10, state_file: \"%s\" }\n"
		 "api: { socket: /tmp/unused.sock, http: \"\" }\n%s",
		 action, path,
		 with_bgp ? "bgp: { local_as: 65001, router_id: 10.0.0.1, peers: [ { address: 10.0.0.2, remote_as: 65002, "
			    "local_address: 10.0.0.1, families: [ipv4-unicast, ipv6-unicast] } ] }\n" : "");
	if (conf_load_string(yaml, strlen(yaml), "test.yaml", &d->rp.conf, err, sizeof err) != 0)
		fail_msg("%s", err);
	d->rp.base = event_base_new();
	d->rp.networks = det_networks_new(&d->rp.conf.detect);
	d->rp.engine = det_engine_new(&d->rp.conf.detect, d->rp.networks);
	if (with_bgp && !(d->rp.bgp = bgp_speaker_new(d->rp.base, &d->rp.conf.bgp, err, sizeof err)))
		fail_msg("%s", err);
	d->rp.mit = mit_new(&(struct mit_deps){.conf = &d->rp.conf, .base = d->rp.base, .networks = d->rp.networks,
						.engine = d->rp.engine, .bgp = d->rp.bgp});
	assert_non_null(d->rp.mit);
	assert_true(mit_state_new(d->rp.mit));
	d->rp.clock_ns = clock_wall_ns();
	mit_state_load(d->rp.mit, d->rp.clock_ns);
	return d;
}

static char *slurp(const char *p);

static void daemon_down(struct daemon *d, bool clean)
{
	/* SIGKILL: no last write; the file stays as the timer last wrote it (once on disk) */
	mit_state_sync(d->rp.mit);
	char *kept = clean ? NULL : strdup(slurp(path));
	mit_state_close(d->rp.mit);
	if (kept) {
		FILE *f = fopen(path, "w");
		fputs(kept, f);
		fclose(f);
		free(kept);
	}
	mit_free(d->rp.mit);
	if (d->rp.bgp)
		bgp_speaker_free(d->rp.bgp);
	det_engine_free(d->rp.engine);
	det_networks_free(d->rp.networks);
	event_base_free(d->rp.base);
	conf_free(&d->rp.conf);
	free(d);
}

static int cmd(struct daemon *d, const char *line)
{
	struct evbuffer *out = evbuffer_new();
	int rc = api_command(rd_api_ctx(&d->rp), line, out);
	evbuffer_free(out);
	return rc;
}

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	static char buf[16384];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Runs the loop until the state file's timer has tried a write (it waits for a pause in the
 * changes, at most MIT_STATE_DELAY_MS after the first) and the writer thread is done with it. */
static void await_write_attempt(struct daemon *d)
{
	struct mit_state_stats st;
	mit_state_stats(d->rp.mit, &st);
	uint64_t before = st.writes + st.write_errors;
	uint64_t until = clock_mono_ns() + 2ull * MIT_STATE_DELAY_MS * 1000000;
	do {
		event_base_loop(d->rp.base, EVLOOP_ONCE);
		mit_state_sync(d->rp.mit); /* the writer thread's */
		mit_state_stats(d->rp.mit, &st);
	} while (st.writes + st.write_errors == before && clock_mono_ns() < until);
}

static void test_daemon_round_trip(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pe_banstate_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sub/bans.state", dir);

	struct daemon *d = daemon_up(); /* no file yet: a first start */
	uint64_t t0 = d->rp.clock_ns;
	assert_true(t0 > 1700000000 * NS);
	assert_int_equal(cmd(d, "ban 192.0.2.10 --for 300"), 0);
	assert_int_equal(cmd(d, "ban 192.0.2.11 --for 1"), 0);
	assert_int_equal(cmd(d, "ban 2001:db8:10::/64"), 0);
	assert_int_equal(cmd(d, "announce route 198.51.100.7/32 next-hop 10.0.0.1 community 65001:666"), 0);
	struct evbuffer *reply = evbuffer_new();
	assert_int_equal(mit_exabgp_command(d->rp.mit, MIT_SRC_API, "announce route 198.51.100.8/32 med 9", reply), 0);
	assert_int_equal(mit_exabgp_command(d->rp.mit, MIT_SRC_PROCESS, "announce route 198.51.100.9/32", reply), 0);
	evbuffer_free(reply);
	assert_int_equal(cmd(d, "flowspec add destination 192.0.2.20/32; protocol udp then discard"), 0);
	/* changes are coalesced: the write comes from the timer */
	assert_null(slurp(path));
	await_write_attempt(d);
	const char *s = slurp(path);
	assert_non_null(s);
	assert_non_null(strstr(s, "rampart-banstate 2\n"));
	assert_non_null(strstr(s, "ban 1 192.0.2.10/32 in default manual "));
	assert_non_null(strstr(s, "route socket announce route 198.51.100.7/32 next-hop 10.0.0.1 community [65001:666]\n"));
	assert_non_null(strstr(s, "route pipe announce route 198.51.100.8/32 next-hop self med 9\n"));
	assert_null(strstr(s, "198.51.100.9")); /* the process sends its own again */
	assert_non_null(strstr(s, "rule destination 192.0.2.20/32"));
	assert_non_null(strstr(s, "end 6\n"));
	struct det_ban_info before[4];
	assert_int_equal(det_engine_bans(d->rp.engine, before, 4), 3);
	struct mit_state_stats st;
	mit_state_stats(d->rp.mit, &st);
	assert_false(st.restart); /* no file: a first start */
	assert_int_equal(st.restored + st.expired + st.refused + st.skipped, 0);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(st.last_write_bytes, strlen(s));
	assert_true(st.last_write_us > 0 && st.last_write_us < 5000000);
	daemon_down(d, false);

	/* two seconds later the short ban is over; a bad line in the middle is skipped */
	FILE *f = fopen(path, "a");
	fclose(f);
	char *text = strdup(slurp(path));
	char *at = strstr(text, "route pipe");
	FILE *w = fopen(path, "w");
	fwrite(text, 1, (size_t)(at - text), w);
	fputs("ban 9 192.0.2.99/32 in default manual bogus\n", w);
	/* a good line of a ban that cannot come back: its address is whitelisted */
	char *ban1 = strstr(text, "ban 1 192.0.2.10/32 "), *eol = strchr(ban1, '\n');
	fprintf(w, "ban 7 192.0.2.1/32 %.*s", (int)(eol + 1 - (ban1 + 20)), ban1 + 20);
	char *end = strstr(at, "end 6\n");
	assert_non_null(end);
	end[4] = '8'; /* the two lines added: the count matches, only the bogus line is bad */
	fputs(at, w);
	fclose(w);
	free(text);
	sleep(2);

	d = daemon_up();
	struct det_ban_info after[4];
	assert_int_equal(det_engine_bans(d->rp.engine, after, 4), 2);
	assert_int_equal(after[0].attack_id, 1);
	assert_true(ip_prefix_equal(&after[0].target, &before[0].target));
	assert_true(after[0].manual);
	/* the same end, to the ns as written: not reset */
	assert_true(after[0].until_ns == before[0].until_ns);
	assert_int_equal(after[1].attack_id, 3);
	assert_int_equal(det_engine_attacks(d->rp.engine, after, 4), 3); /* 2 active, 1 ended while down */
	mit_state_stats(d->rp.mit, &st);
	assert_true(st.restart); /* a previous run's file */
	assert_int_equal(st.restored_bans, 2);
	assert_int_equal(st.restored, 5); /* 2 bans, 2 routes, 1 rule */
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.refused, 1);  /* the whitelisted one */
	assert_int_equal(st.skipped, 1);  /* the bogus line */
	/* the three views */
	struct evbuffer *v = evbuffer_new();
	assert_int_equal(api_command(rd_api_ctx(&d->rp), "stats", v), 0);
	evbuffer_add(v, "", 1);
	char *line = (char *)evbuffer_pullup(v, -1), *bl = strstr(line, "ban state ");
	assert_non_null(bl);
	assert_non_null(strstr(bl, "writes 0 failed 0 (no space 0) last 0.000 ms (serialise 0.000 ms) 0 bytes; at start: restart, restored 5 (bans 2) "
				   "expired 1 refused 1 skipped 1\n"));
	evbuffer_drain(v, evbuffer_get_length(v));
	api_state_stats_json(d->rp.mit, v);
	evbuffer_add(v, "", 1);
	line = (char *)evbuffer_pullup(v, -1);
	assert_non_null(strstr(line, "\"restart\":true,\"restored\":5,\"restored_bans\":2,\"expired\":1,\"refused\":1,"
				     "\"skipped\":1}"));
	evbuffer_drain(v, evbuffer_get_length(v));
	api_state_metrics(d->rp.mit, v);
	evbuffer_add(v, "", 1);
	line = (char *)evbuffer_pullup(v, -1);
	assert_non_null(strstr(line, "rampart_banstate_start_records{result=\"refused\"} 1\n"));
	assert_non_null(strstr(line, "rampart_banstate_restart 1\n"));
	assert_non_null(strstr(line, "rampart_banstate_writes_total{result=\"ok\"} 0\n"));
	evbuffer_free(v);
	assert_int_equal(mit_routes_count(d->rp.mit), 2);
	assert_int_equal(mit_flowspec_cap(d->rp.mit->flowspec) > 0, 1);
	struct fs_rule r;
	struct fs_actions a;
	bool rule = false;
	for (size_t i = 0; i < mit_flowspec_cap(d->rp.mit->flowspec); i++)
		rule |= mit_flowspec_operator_rule(d->rp.mit->flowspec, i, &r, &a);
	assert_true(rule);
	/* ids go on after the highest in the file, the refused one's too (an id is never reused) */
	assert_int_equal(cmd(d, "ban 192.0.2.12"), 0);
	assert_int_equal(det_engine_bans(d->rp.engine, after, 4), 3);
	assert_int_equal(after[2].attack_id, 8);
	/* the load rewrote the file without the ended ban and the bad line */
	await_write_attempt(d);
	s = slurp(path);
	assert_null(strstr(s, "192.0.2.11/32"));
	assert_null(strstr(s, "bogus"));
	assert_null(strstr(s, "192.0.2.1/32"));
	mit_state_stats(d->rp.mit, &st);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.last_write_bytes, strlen(s));
	daemon_down(d, true);
	s = slurp(path);
	assert_non_null(strstr(s, "ban 8 192.0.2.12/32"));

	/* another version's file is set aside, not overwritten */
	w = fopen(path, "w");
	fputs("rampart-banstate 9\nwhatever\n", w);
	fclose(w);
	d = daemon_up();
	assert_int_equal(det_engine_bans(d->rp.engine, after, 4), 0);
	mit_state_stats(d->rp.mit, &st);
	assert_false(st.restart); /* not a file this run can read: not a restart */
	assert_int_equal(st.restored, 0);
	daemon_down(d, true);
	char aside[160];
	snprintf(aside, sizeof aside, "%s.unreadable", path);
	assert_non_null(strstr(slurp(aside), "rampart-banstate 9"));
	assert_non_null(strstr(slurp(path), "rampart-banstate 2"));
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

/* A ban inside a covering one keeps its parent_attack_id across a kill -9 and a restart; a
 * version 1 file (no PARENT) is still restored, and written back as version 2. */
static void test_daemon_parent_restore(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pe_banstate_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bans.state", dir);
	struct daemon *d = daemon_up();
	assert_int_equal(cmd(d, "ban 2001:db8:10::/64 --for 300"), 0);
	assert_int_equal(cmd(d, "ban 2001:db8:10::5 --for 300"), 0);
	struct det_ban_info b[4];
	assert_int_equal(det_engine_bans(d->rp.engine, b, 4), 2);
	assert_int_equal(b[1].parent_attack_id, 1);
	await_write_attempt(d);
	daemon_down(d, false); /* as SIGKILL: the file as last written */
	const char *s = slurp(path);
	assert_non_null(strstr(s, "ban 1 2001:db8:10::/64 in default manual "));
	assert_non_null(strstr(s, " - 0 0 0 blackhole\nban 2 2001:db8:10::5/128 in default manual "));
	assert_non_null(strstr(s, " - 0 0 1 blackhole\n"));
	d = daemon_up();
	assert_int_equal(det_engine_bans(d->rp.engine, b, 4), 2);
	assert_int_equal(b[0].attack_id, 1);
	assert_int_equal(b[0].parent_attack_id, 0);
	assert_int_equal(b[1].attack_id, 2);
	assert_int_equal(b[1].parent_attack_id, 1);
	daemon_down(d, true);
	/* a version 1 file, as a rampartd before PARENT wrote it */
	FILE *w = fopen(path, "w");
	uint64_t now = clock_wall_ns() / NS;
	fprintf(w, "rampart-banstate 1\nban 4 192.0.2.40/32 out default detected %" PRIu64 ".000000000 %" PRIu64
		   ".000000000 syn_pps 2000 500 blackhole\nend 1\n", now, now + 300);
	fclose(w);
	d = daemon_up();
	assert_int_equal(det_engine_bans(d->rp.engine, b, 4), 1);
	assert_int_equal(b[0].attack_id, 4);
	assert_int_equal(b[0].direction, DET_OUT);
	assert_int_equal(b[0].parent_attack_id, 0);
	daemon_down(d, true);
	s = slurp(path);
	assert_non_null(strstr(s, "rampart-banstate 2\n"));
	assert_non_null(strstr(s, " syn_pps 2000 500 0 blackhole\n"));
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

static bool in_rib(struct daemon *d, const char *prefix)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(prefix, &p));
	struct bgp_route_attrs a;
	return bgp_rib_out_get(d->rp.bgp, &p, 0, &a) == 0;
}

/* A ban covered by its parent's blackhole is covered again after a kill -9 and a restart: the
 * /64 goes out again, the /128 inside it does not, and its unban hands over as before. */
static void test_daemon_covered_restore(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pe_banstate_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bans.state", dir);
	with_bgp = true;
	struct daemon *d = daemon_up();
	assert_int_equal(cmd(d, "ban 2001:db8:10::/64 --for 300"), 0);
	assert_int_equal(cmd(d, "ban 2001:db8:10::5 --for 300"), 0);
	uint64_t cov = 0;
	assert_string_equal(mit_attack_mitigation(d->rp.mit, 2, &cov), "covered");
	assert_int_equal(cov, 1);
	assert_true(in_rib(d, "2001:db8:10::/64"));
	assert_false(in_rib(d, "2001:db8:10::5/128"));
	await_write_attempt(d);
	daemon_down(d, false);
	d = daemon_up();
	assert_true(in_rib(d, "2001:db8:10::/64"));
	assert_false(in_rib(d, "2001:db8:10::5/128"));
	assert_string_equal(mit_attack_mitigation(d->rp.mit, 2, &cov), "covered");
	assert_int_equal(cov, 1);
	/* the covering ban ends: the host's own route first, the /64 two ticks later */
	assert_int_equal(cmd(d, "unban 2001:db8:10::/64"), 0);
	assert_true(in_rib(d, "2001:db8:10::5/128"));
	mit_tick(d->rp.mit, d->rp.clock_ns);
	mit_tick(d->rp.mit, d->rp.clock_ns);
	assert_false(in_rib(d, "2001:db8:10::/64"));
	assert_string_equal(mit_attack_mitigation(d->rp.mit, 2, &cov), "blackhole");
	daemon_down(d, true);
	with_bgp = false;
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

/* A ban mitigated by a FlowSpec rule gets the same rule back, not a blackhole. */
static void test_daemon_flowspec_restore(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pe_banstate_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bans.state", dir);
	action = "flowspec-then-blackhole";
	struct daemon *d = daemon_up();
	assert_int_equal(cmd(d, "ban 192.0.2.10 --for 300"), 0);
	struct fs_rule before, after;
	bool esc = false, bh = true;
	assert_true(mit_flowspec_attack_rule(d->rp.mit, 1, &before, &esc, &bh));
	assert_true(esc);
	assert_false(bh);
	daemon_down(d, true);
	const char *s = slurp(path);
	assert_non_null(strstr(s, " - 0 0 0 flowspec-then-blackhole destination 192.0.2.10/32"));
	assert_null(strstr(s, " blackhole\n"));
	d = daemon_up();
	assert_true(mit_flowspec_attack_rule(d->rp.mit, 1, &after, &esc, &bh));
	assert_true(fs_rule_equal(&before, &after));
	assert_true(esc);
	assert_false(bh);
	assert_int_equal(mit_flowspec_count(d->rp.mit->flowspec), 1);
	assert_int_equal(mit_routes_count(d->rp.mit), 0); /* no blackhole beside it */
	daemon_down(d, true);
	action = "blackhole";
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

/* A write that fails (FILE.spare cannot be opened: a directory is in its way) is counted, the
 * main loop goes on, and the writer thread tries again every second until it works. */
static void test_daemon_write_retry(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pe_banstate_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bans.state", dir);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.spare", path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	struct daemon *d = daemon_up();
	assert_int_equal(cmd(d, "ban 192.0.2.10 --for 300"), 0);
	await_write_attempt(d); /* the writer returns on the failure */
	struct mit_state_stats st;
	mit_state_stats(d->rp.mit, &st);
	assert_int_equal(st.writes, 0);
	assert_true(st.write_errors >= 1);
	assert_null(slurp(path));
	assert_int_equal(rmdir(tmp), 0);
	for (int i = 0; i < 40 && !st.writes; i++) { /* the retry, a second later, on its own */
		usleep(100000);
		mit_state_stats(d->rp.mit, &st);
	}
	assert_int_equal(st.writes, 1);
	assert_non_null(strstr(slurp(path), "ban 1 192.0.2.10/32 "));
	daemon_down(d, true);
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_other_versions),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_duplicates_and_order),
		cmocka_unit_test(test_version2_parent),
		cmocka_unit_test(test_format_reads_back),
		cmocka_unit_test(test_format_route_edges),
		cmocka_unit_test(test_daemon_round_trip),
		cmocka_unit_test(test_daemon_parent_restore),
		cmocka_unit_test(test_daemon_covered_restore),
		cmocka_unit_test(test_daemon_flowspec_restore),
		cmocka_unit_test(test_daemon_write_retry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
