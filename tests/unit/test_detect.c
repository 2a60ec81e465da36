/* detect/: longest-prefix match, per-worker counters, rates, the attack state machine, top. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_EVENTS 64
#include "tests/unit/det_test_util.h"
#include "detect/det.h"
#include "detect/det_int.h" /* white-box: counters are read through det_counters_entries */

#define NS 1000000000ull

static struct flow_record rec(const char *src, const char *dst, uint8_t proto, uint64_t pk, uint64_t by)
{
	struct flow_record r;
	memset(&r, 0, sizeof r);
	r.src = A(src);
	r.dst = A(dst);
	r.protocol = proto;
	r.packets = pk;
	r.bytes = by;
	r.sampling_rate = 1;
	r.ip_version = ip_is_v4(&r.dst) ? 4 : 6;
	return r;
}

/* ---- LPM ---------------------------------------------------------------------------------- */

static int lookup(const struct det_networks *n, const char *a)
{
	ip_addr x = A(a);
	return det_networks_lookup(n, &x);
}

static void test_lpm_nested(void **state)
{
	(void)state;
	ip_prefix nets[] = {P("192.0.2.0/24"), P("10.0.0.0/8"), P("2001:db8:10::/48")};
	ip_prefix g1[] = {P("192.0.2.128/25"), P("2001:db8:10:5::/64")};
	ip_prefix g2[] = {P("192.0.2.200/29"), P("10.1.2.3/32"), P("2001:db8:10:5::1/128")};
	ip_prefix g3[] = {P("192.0.2.0/24")}; /* equal to a network: the group wins */
	struct det_hostgroup groups[4];
	memset(groups, 0, sizeof groups);
	groups[1].prefixes = g1, groups[1].n_prefixes = 2;
	groups[2].prefixes = g2, groups[2].n_prefixes = 3;
	struct det_config cfg;
	det_config_defaults(&cfg);
	cfg.networks = nets, cfg.n_networks = 3;
	cfg.groups = groups, cfg.n_groups = 3;
	struct det_networks *n = det_networks_new(&cfg);
	assert_non_null(n);
	assert_int_equal(lookup(n, "192.0.2.1"), 0);
	assert_int_equal(lookup(n, "192.0.2.127"), 0);
	assert_int_equal(lookup(n, "192.0.2.128"), 1);
	assert_int_equal(lookup(n, "192.0.2.199"), 1);
	assert_int_equal(lookup(n, "192.0.2.200"), 2);
	assert_int_equal(lookup(n, "192.0.2.207"), 2);
	assert_int_equal(lookup(n, "192.0.2.208"), 1);
	assert_int_equal(lookup(n, "192.0.3.1"), -1);
	assert_int_equal(lookup(n, "10.255.0.1"), 0);
	assert_int_equal(lookup(n, "10.1.2.3"), 2);
	assert_int_equal(lookup(n, "10.1.2.2"), 0);
	assert_int_equal(lookup(n, "11.0.0.0"), -1);
	assert_int_equal(lookup(n, "2001:db8:10::1"), 0);
	assert_int_equal(lookup(n, "2001:db8:10:5::2"), 1);
	assert_int_equal(lookup(n, "2001:db8:10:5::1"), 2);
	assert_int_equal(lookup(n, "2001:db8:11::1"), -1);
	/* the IPv4 address 192.0.2.1 is not ::c000:201 */
	assert_int_equal(lookup(n, "::c000:201"), -1);
	det_networks_free(n);

	groups[3].prefixes = g3, groups[3].n_prefixes = 1;
	cfg.n_groups = 4;
	n = det_networks_new(&cfg);
	assert_int_equal(lookup(n, "192.0.2.1"), 3);
	assert_int_equal(lookup(n, "192.0.2.130"), 1);
	det_networks_free(n);
}

static void test_lpm_edges(void **state)
{
	(void)state;
	ip_prefix nets[] = {P("0.0.0.0/0"), P("2001:db8::1/128")};
	ip_prefix g1[] = {P("203.0.113.7/32"), P("::/0")};
	struct det_hostgroup groups[2];
	memset(groups, 0, sizeof groups);
	groups[1].prefixes = g1, groups[1].n_prefixes = 2;
	struct det_config cfg;
	det_config_defaults(&cfg);
	cfg.networks = nets, cfg.n_networks = 2;
	cfg.groups = groups, cfg.n_groups = 2;
	struct det_networks *n = det_networks_new(&cfg);
	assert_int_equal(lookup(n, "0.0.0.0"), 0);
	assert_int_equal(lookup(n, "255.255.255.255"), 0);
	assert_int_equal(lookup(n, "203.0.113.7"), 1);
	assert_int_equal(lookup(n, "203.0.113.6"), 0);
	assert_int_equal(lookup(n, "203.0.113.8"), 0);
	assert_int_equal(lookup(n, "2001:db8::1"), 0);
	assert_int_equal(lookup(n, "2001:db8::"), 1);
	assert_int_equal(lookup(n, "::"), 1);
	assert_int_equal(lookup(n, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 1);
	det_networks_free(n);

	/* nothing configured: nothing monitored */
	det_config_defaults(&cfg);
	n = det_networks_new(&cfg);
	assert_int_equal(lookup(n, "192.0.2.1"), -1);
	assert_int_equal(lookup(n, "2001:db8::1"), -1);
	det_networks_free(n);
}

/* ---- counters ----------------------------------------------------------------------------- */

struct fixture {
	struct det_config cfg;
	ip_prefix nets[2];
	ip_prefix white[1];
	ip_prefix g1[1];
	struct det_hostgroup groups[2];
	struct det_networks *n;
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof *f);
	det_config_defaults(&f->cfg);
	f->nets[0] = P("192.0.2.0/24");
	f->nets[1] = P("2001:db8:10::/48");
	f->white[0] = P("192.0.2.1/32");
	f->g1[0] = P("192.0.2.128/25");
	f->groups[1].prefixes = f->g1, f->groups[1].n_prefixes = 1;
	snprintf(f->groups[0].name, sizeof f->groups[0].name, "default");
	snprintf(f->groups[1].name, sizeof f->groups[1].name, "gold");
	f->cfg.networks = f->nets, f->cfg.n_networks = 2;
	f->cfg.whitelist = f->white, f->cfg.n_whitelist = 1;
	f->cfg.groups = f->groups, f->cfg.n_groups = 2;
	f->n = det_networks_new(&f->cfg);
	assert_non_null(f->n);
	return f;
}

static void fixture_free(struct fixture *f)
{
	det_networks_free(f->n);
	free(f);
}

static const struct det_count *counts_of(const struct det_counters *c, const char *addr)
{
	ip_addr a = A(addr);
	size_t n;
	const struct det_counters_host *e = det_counters_entries(c, &n);
	for (size_t i = 0; i < n; i++)
		if (ip_equal(&e[i].host, &a))
			return &e[i].c;
	return NULL;
}

static void test_counters_classes(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct det_counters *c = det_counters_new(f->n, 64);
	struct flow_record r = rec("198.51.100.1", "192.0.2.10", 6, 1, 60);
	r.tcp_flags = TCP_SYN;
	det_counters_add(c, &r, 1);
	r.tcp_flags = TCP_SYN | TCP_ACK; /* a SYN-ACK is not a SYN flood packet */
	det_counters_add(c, &r, 0);
	r = rec("198.51.100.1", "192.0.2.10", 17, 1, 1500);
	r.flags = FLOW_F_FRAGMENT;
	det_counters_add(c, &r, 0);
	r = rec("2001:db8:ffff::1", "2001:db8:10::53", 58, 2, 200);
	det_counters_add(c, &r, 1);
	r = rec("198.51.100.1", "198.51.100.2", 6, 1, 60); /* neither end monitored */
	det_counters_add(c, &r, 1);
	assert_int_equal(det_counters_hosts(c), 2);

	const struct det_count *k = counts_of(c, "192.0.2.10");
	assert_non_null(k);
	assert_int_equal(k->v[DET_IN][DET_TOTAL][DET_PPS], 3);
	assert_int_equal(k->v[DET_IN][DET_TOTAL][DET_BPS], 1620);
	assert_int_equal(k->v[DET_IN][DET_TOTAL][DET_FLOWS], 1);
	assert_int_equal(k->v[DET_IN][DET_TCP][DET_PPS], 2);
	assert_int_equal(k->v[DET_IN][DET_SYN][DET_PPS], 1);
	assert_int_equal(k->v[DET_IN][DET_SYN][DET_FLOWS], 1);
	assert_int_equal(k->v[DET_IN][DET_UDP][DET_PPS], 1);
	assert_int_equal(k->v[DET_IN][DET_UDP][DET_BPS], 1500);
	assert_int_equal(k->v[DET_IN][DET_FRAG][DET_PPS], 1);
	assert_int_equal(k->v[DET_IN][DET_ICMP][DET_PPS], 0);
	assert_int_equal(k->v[DET_OUT][DET_TOTAL][DET_PPS], 0);
	k = counts_of(c, "2001:db8:10::53");
	assert_non_null(k);
	assert_int_equal(k->v[DET_IN][DET_ICMP][DET_PPS], 2);
	assert_int_equal(k->v[DET_IN][DET_ICMP][DET_BPS], 200);
	assert_int_equal(k->v[DET_IN][DET_TCP][DET_PPS], 0);
	det_counters_free(c);
	fixture_free(f);
}

static void test_counters_sampling_directions(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct det_counters *c = det_counters_new(f->n, 64);
	struct flow_record r = rec("192.0.2.5", "192.0.2.200", 17, 2, 3000);
	r.sampling_rate = 100;
	det_counters_add(c, &r, 1);
	const struct det_count *in = counts_of(c, "192.0.2.200"), *out = counts_of(c, "192.0.2.5");
	assert_non_null(in);
	assert_non_null(out);
	assert_int_equal(in->v[DET_IN][DET_TOTAL][DET_PPS], 200);
	assert_int_equal(in->v[DET_IN][DET_TOTAL][DET_BPS], 300000);
	assert_int_equal(in->v[DET_IN][DET_TOTAL][DET_FLOWS], 100);
	assert_int_equal(in->v[DET_OUT][DET_TOTAL][DET_PPS], 0);
	assert_int_equal(out->v[DET_OUT][DET_UDP][DET_PPS], 200);
	assert_int_equal(out->v[DET_IN][DET_TOTAL][DET_PPS], 0);
	/* the hostgroup travels with the host */
	size_t n;
	const struct det_counters_host *e = det_counters_entries(c, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(e[i].group, ip_v4_u32(&e[i].host) == 0xC00002C8 ? 1 : 0);
	det_counters_free(c);
	fixture_free(f);
}

static void test_counters_overflow_clear(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	struct det_counters *c = det_counters_new(f->n, 3);
	char dst[32];
	for (int i = 1; i <= 5; i++) {
		snprintf(dst, sizeof dst, "192.0.2.%d", 10 + i);
		struct flow_record r = rec("198.51.100.1", dst, 17, 1, 100);
		det_counters_add(c, &r, 0);
		det_counters_add(c, &r, 0);
	}
	assert_int_equal(det_counters_hosts(c), 3);
	assert_int_equal(det_counters_overflow(c), 4); /* two records each for .14 and .15 */
	assert_int_equal(counts_of(c, "192.0.2.13")->v[DET_IN][DET_TOTAL][DET_PPS], 2);
	assert_null(counts_of(c, "192.0.2.14"));

	det_counters_clear(c);
	assert_int_equal(det_counters_hosts(c), 0);
	assert_int_equal(det_counters_overflow(c), 4); /* since creation */
	/* after a clear the index is empty too: a host counted before starts again from zero */
	struct flow_record r = rec("198.51.100.1", "192.0.2.14", 17, 1, 100);
	det_counters_add(c, &r, 0);
	r.dst = A("192.0.2.11");
	det_counters_add(c, &r, 0);
	assert_int_equal(det_counters_hosts(c), 2);
	assert_int_equal(counts_of(c, "192.0.2.11")->v[DET_IN][DET_TOTAL][DET_PPS], 1);
	assert_int_equal(counts_of(c, "192.0.2.14")->v[DET_IN][DET_TOTAL][DET_PPS], 1);
	det_counters_free(c);
	fixture_free(f);
}

/* ---- engine ------------------------------------------------------------------------------- */

/* One tick ending at now_ns (seconds as double for readability) in which dst received pps packets
 * per second of 100-byte UDP packets over the tick's dt seconds. */
static void feed(struct det_engine *e, struct det_counters *c, const char *dst, double pps, double dt)
{
	if (pps > 0) {
		struct flow_record r = rec("198.51.100.1", dst, 17, (uint64_t)llround(pps * dt), 0);
		r.bytes = r.packets * 100;
		det_counters_add(c, &r, 1);
	}
	det_engine_merge(e, c);
	det_counters_clear(c);
}

static const double *in_total(struct det_engine *e, const char *host)
{
	static struct det_host_info top[64];
	size_t n = det_engine_top(e, DET_IN, DET_PPS, top, 64);
	ip_addr a = A(host);
	for (size_t i = 0; i < n; i++)
		if (ip_equal(&top[i].host, &a))
			return top[i].rates.v[DET_IN][DET_TOTAL];
	return NULL;
}

static void test_rates_ema(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	f->cfg.max_hosts = 64;
	struct det_engine *e = det_engine_new(&f->cfg, f->n);
	struct det_counters *c = det_counters_new(f->n, 64);
	/* the capture clock is a replay's, far from now: only differences count */
	uint64_t t = 1000 * NS;
	for (int i = 1; i <= 10; i++) {
		feed(e, c, "192.0.2.10", 1000, 0.1);
		det_engine_tick(e, t + i * NS / 10, NULL, NULL);
	}
	const double *r = in_total(e, "192.0.2.10");
	assert_non_null(r);
	double expect = 1000 * (1 - exp(-1.0));
	assert_true(fabs(r[DET_PPS] - expect) < 1);
	assert_true(fabs(r[DET_BPS] - expect * 800) < 800);
	assert_true(fabs(r[DET_FLOWS] - 10 * (1 - exp(-1.0))) < 0.1); /* one flow per 0.1 s tick */
	for (int i = 11; i <= 50; i++) {
		feed(e, c, "192.0.2.10", 1000, 0.1);
		det_engine_tick(e, t + i * NS / 10, NULL, NULL);
	}
	r = in_total(e, "192.0.2.10");
	assert_true(fabs(r[DET_PPS] - 1000) < 10);
	assert_true(r[DET_PPS] < 1000);

	/* a second host ticked every 0.5 s of capture time, though tick_ms is 100: the rate is
	 * per elapsed capture time, and the average has the same time constant */
	det_engine_free(e);
	e = det_engine_new(&f->cfg, f->n);
	det_engine_tick(e, t, NULL, NULL); /* clock starts */
	feed(e, c, "192.0.2.20", 1000, 0.5);
	det_engine_tick(e, t + NS / 2, NULL, NULL);
	feed(e, c, "192.0.2.20", 1000, 0.5);
	det_engine_tick(e, t + NS, NULL, NULL);
	r = in_total(e, "192.0.2.20");
	assert_true(fabs(r[DET_PPS] - expect) < 1);
	det_counters_free(c);
	det_engine_free(e);
	fixture_free(f);
}

struct sm {
	struct fixture *f;
	struct det_engine *e;
	struct det_counters *c;
	struct recorder rec;
	uint64_t t;
};

static struct sm *sm_new(void (*tune)(struct det_config *))
{
	struct sm *s = calloc(1, sizeof *s);
	s->f = fixture_new();
	s->f->cfg.max_hosts = 64;
	s->f->cfg.ban_time_s = 10;
	s->f->groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	s->f->groups[1].thresholds.limit[DET_IN][DET_UDP][DET_PPS] = 5000;
	s->f->groups[1].ban_time_s = 30;
	if (tune)
		tune(&s->f->cfg);
	s->e = det_engine_new(&s->f->cfg, s->f->n);
	s->c = det_counters_new(s->f->n, 64);
	s->t = 1000 * NS;
	det_engine_tick(s->e, s->t, record, &s->rec);
	return s;
}

static void sm_free(struct sm *s)
{
	det_counters_free(s->c);
	det_engine_free(s->e);
	fixture_free(s->f);
	free(s);
}

/* Runs `seconds` of 0.1 s ticks with dst at pps. */
static void run(struct sm *s, const char *dst, double pps, double seconds)
{
	for (int i = 0; i < (int)llround(seconds * 10); i++) {
		if (dst)
			feed(s->e, s->c, dst, pps, 0.1);
		s->t += NS / 10;
		det_engine_tick(s->e, s->t, record, &s->rec);
	}
}

static void test_attack_ban_extend_unban(void **state)
{
	(void)state;
	struct sm *s = sm_new(NULL);
	run(s, "192.0.2.10", 400, 3); /* under the limit: nothing */
	assert_int_equal(s->rec.n, 0);
	run(s, "192.0.2.10", 2000, 1);
	assert_int_equal(s->rec.n, 2);
	const struct det_event *d = &s->rec.ev[0], *b = &s->rec.ev[1];
	assert_int_equal(d->type, DET_EV_ATTACK_DETECTED);
	assert_int_equal(b->type, DET_EV_BAN);
	assert_int_equal(d->attack_id, 1);
	assert_int_equal(b->attack_id, 1);
	assert_int_equal(b->time_ns, d->time_ns);
	assert_int_equal(d->direction, DET_IN);
	assert_int_equal(d->hostgroup, 0);
	assert_false(d->manual);
	assert_int_equal(d->trigger_class, DET_TOTAL);
	assert_int_equal(d->trigger_metric, DET_PPS);
	assert_true(d->trigger_value > 500);
	assert_true(d->trigger_limit == 500);
	assert_int_equal(b->ban_seconds, 10);
	ip_prefix want = P("192.0.2.10/32");
	assert_true(ip_prefix_equal(&b->target, &want));
	uint64_t banned_at = b->time_ns;

	struct det_ban_info bans[4];
	assert_int_equal(det_engine_bans(s->e, bans, 4), 1);
	assert_true(bans[0].active);
	assert_int_equal(bans[0].until_ns, banned_at + 10 * NS);

	/* the attack goes on past the ban time: extended, not unbanned */
	run(s, "192.0.2.10", 2000, 10);
	assert_int_equal(s->rec.n, 3);
	assert_int_equal(s->rec.ev[2].type, DET_EV_BAN_EXTENDED);
	assert_int_equal(s->rec.ev[2].attack_id, 1);
	assert_int_equal(s->rec.ev[2].time_ns, banned_at + 10 * NS);
	assert_int_equal(s->rec.ev[2].ban_seconds, 10);

	/* it stops; the ban runs out at its new end and the host is unbanned */
	assert_true(s->t < banned_at + 11 * NS);
	run(s, NULL, 0, (double)(banned_at + 20 * NS - s->t) / 1e9 - 0.1);
	assert_int_equal(s->rec.n, 3);
	run(s, NULL, 0, 0.1);
	assert_int_equal(s->rec.n, 4);
	assert_int_equal(s->rec.ev[3].type, DET_EV_UNBAN);
	assert_int_equal(s->rec.ev[3].attack_id, 1);
	assert_int_equal(s->rec.ev[3].time_ns, banned_at + 20 * NS);
	assert_non_null(s->rec.ev[3].reason);
	assert_non_null(strstr(s->rec.ev[3].reason, "finished"));
	assert_int_equal(det_engine_bans(s->e, bans, 4), 0);

	assert_int_equal(det_engine_attacks(s->e, bans, 4), 1);
	assert_false(bans[0].active);
	assert_int_equal(bans[0].ended_ns, banned_at + 20 * NS);
	assert_true(bans[0].peak_value >= 1990 && bans[0].peak_value <= 2000);

	/* a new attack gets the next id */
	run(s, "192.0.2.10", 2000, 1);
	assert_int_equal(s->rec.n, 6);
	assert_int_equal(s->rec.ev[5].type, DET_EV_BAN);
	assert_int_equal(s->rec.ev[5].attack_id, 2);
	sm_free(s);
}

static void no_wait(struct det_config *cfg)
{
	cfg->unban_only_if_attack_finished = false;
}

static void test_unban_while_attack_goes_on(void **state)
{
	(void)state;
	struct sm *s = sm_new(no_wait);
	run(s, "192.0.2.10", 2000, 1);
	assert_int_equal(s->rec.n, 2);
	run(s, "192.0.2.10", 2000, 10);
	assert_int_equal(s->rec.ev[2].type, DET_EV_UNBAN);
	assert_int_equal(s->rec.ev[2].attack_id, 1);
	assert_int_equal(s->rec.ev[2].time_ns, s->rec.ev[1].time_ns + 10 * NS);
	sm_free(s);
}

static void test_group_thresholds_and_ban_time(void **state)
{
	(void)state;
	struct sm *s = sm_new(NULL);
	/* gold (192.0.2.128/25) has no total limit, only udp 5000 */
	run(s, "192.0.2.130", 3000, 3);
	assert_int_equal(s->rec.n, 0);
	run(s, "192.0.2.130", 20000, 1);
	assert_int_equal(s->rec.n, 2);
	assert_int_equal(s->rec.ev[0].hostgroup, 1);
	assert_int_equal(s->rec.ev[0].trigger_class, DET_UDP);
	assert_int_equal(s->rec.ev[1].ban_seconds, 30);
	sm_free(s);
}

static void max_one(struct det_config *cfg)
{
	cfg->max_bans = 1;
}

static void test_refused(void **state)
{
	(void)state;
	struct sm *s = sm_new(max_one);
	/* whitelisted: detected, refused once, not banned, nothing more while it goes on */
	run(s, "192.0.2.1", 2000, 3);
	assert_int_equal(s->rec.n, 2);
	assert_int_equal(s->rec.ev[0].type, DET_EV_ATTACK_DETECTED);
	assert_int_equal(s->rec.ev[1].type, DET_EV_BAN_REFUSED);
	assert_int_equal(s->rec.ev[1].attack_id, s->rec.ev[0].attack_id);
	assert_string_equal(s->rec.ev[1].reason, "whitelisted");
	struct det_ban_info list[8];
	assert_int_equal(det_engine_bans(s->e, list, 8), 0);

	/* max_bans 1: the first is banned, the second refused */
	for (int i = 0; i < 10; i++) {
		feed(s->e, s->c, "192.0.2.11", 2000, 0.1);
		run(s, "192.0.2.12", 2000, 0.1);
	}
	assert_int_equal(s->rec.n, 6);
	assert_int_equal(s->rec.ev[3].type, DET_EV_BAN);
	assert_int_equal(s->rec.ev[5].type, DET_EV_BAN_REFUSED);
	assert_string_equal(s->rec.ev[5].reason, "max_bans reached");
	assert_int_equal(det_engine_bans(s->e, list, 8), 1);
	/* three attacks, newest first */
	assert_int_equal(det_engine_attacks(s->e, list, 8), 3);
	assert_int_equal(list[0].attack_id, 3);
	assert_int_equal(list[2].attack_id, 1);
	assert_false(list[0].active);
	assert_true(list[1].active);

	/* the refused attacks end quietly when the traffic stops; the ban stays its time */
	run(s, NULL, 0, 3);
	assert_int_equal(s->rec.n, 6);
	assert_int_equal(det_engine_attacks(s->e, list, 8), 3);
	assert_int_not_equal(list[0].ended_ns, 0);
	assert_int_equal(list[1].ended_ns, 0);
	sm_free(s);
}

static void group_totals(struct det_config *cfg)
{
	cfg->groups[0].total.limit[DET_IN][DET_TOTAL][DET_PPS] = 1000;
	cfg->groups[1].total.limit[DET_IN][DET_TOTAL][DET_PPS] = 3000;
}

/* Carpet bombing: every host under its own limit, the group's sum over its total. */
static void test_group_total(void **state)
{
	(void)state;
	struct sm *s = sm_new(group_totals);
	char host[32];
	/* 8 gold hosts at 500 pps: 4000 > 3000 for the group, each far under udp 5000 */
	for (int i = 0; i < 20; i++) {
		for (int h = 0; h < 8; h++) {
			snprintf(host, sizeof host, "192.0.2.%d", 140 + h);
			feed(s->e, s->c, host, 500, 0.1);
		}
		run(s, NULL, 0, 0.1);
	}
	assert_int_equal(s->rec.n, 2);
	assert_int_equal(s->rec.ev[0].type, DET_EV_ATTACK_DETECTED);
	assert_int_equal(s->rec.ev[1].type, DET_EV_BAN);
	ip_prefix gold = P("192.0.2.128/25");
	assert_true(ip_prefix_equal(&s->rec.ev[1].target, &gold));
	assert_int_equal(s->rec.ev[1].hostgroup, 1);
	assert_int_equal(s->rec.ev[1].ban_seconds, 30);
	assert_true(s->rec.ev[0].trigger_limit == 3000);
	assert_true(s->rec.ev[0].trigger_value > 3000);
	assert_true(s->rec.ev[1].rates.v[DET_IN][DET_TOTAL][DET_PPS] > 3000);

	/* the default group: 4 hosts at 350 pps (limit 500 each), 1400 > 1000 in all; its
	 * networks are 192.0.2.0/24, which holds the whitelisted .1, and 2001:db8:10::/48 */
	for (int i = 0; i < 20; i++) {
		for (int h = 0; h < 4; h++) {
			snprintf(host, sizeof host, "192.0.2.%d", 10 + h);
			feed(s->e, s->c, host, 350, 0.1);
		}
		run(s, NULL, 0, 0.1);
	}
	assert_int_equal(s->rec.n, 6);
	assert_int_equal(s->rec.ev[3].type, DET_EV_BAN_REFUSED);
	assert_string_equal(s->rec.ev[3].reason, "whitelisted");
	assert_int_equal(s->rec.ev[5].type, DET_EV_BAN);
	ip_prefix v6 = P("2001:db8:10::/48");
	assert_true(ip_prefix_equal(&s->rec.ev[5].target, &v6));
	assert_int_equal(s->rec.ev[5].hostgroup, 0);

	/* all quiet: the refused one ends at once, the bans at their time */
	run(s, NULL, 0, 40);
	assert_int_equal(s->rec.n, 8);
	assert_int_equal(s->rec.ev[6].type, DET_EV_UNBAN);
	assert_int_equal(s->rec.ev[7].type, DET_EV_UNBAN);
	struct det_ban_info list[8];
	assert_int_equal(det_engine_bans(s->e, list, 8), 0);
	assert_int_equal(det_engine_attacks(s->e, list, 8), 3);
	sm_free(s);
}

/* Attacks inside a prefix banned for its total: a host flooded inside the bombed prefix and a
 * host sending a flood out of it open attacks of their own, linked to the prefix's attack; an
 * attack outside the prefix, and the prefix's own, have no parent. */
static void nested_limits(struct det_config *cfg)
{
	cfg->groups[1].total.limit[DET_IN][DET_TOTAL][DET_PPS] = 3000;
	cfg->groups[1].thresholds.limit[DET_OUT][DET_TOTAL][DET_PPS] = 1000;
}

static const struct det_event *find_event(const struct sm *s, size_t from, enum det_event_type type,
					  const char *target, enum det_direction dir)
{
	ip_prefix p = P(target);
	for (size_t i = from; i < s->rec.n; i++)
		if (s->rec.ev[i].type == type && s->rec.ev[i].direction == dir && ip_prefix_equal(&s->rec.ev[i].target, &p))
			return &s->rec.ev[i];
	return NULL;
}

static void test_nested_attacks(void **state)
{
	(void)state;
	struct sm *s = sm_new(nested_limits);
	char host[32];
	for (int i = 0; i < 20; i++) {
		for (int h = 0; h < 8; h++) {
			snprintf(host, sizeof host, "192.0.2.%d", 140 + h);
			feed(s->e, s->c, host, 500, 0.1);
		}
		run(s, NULL, 0, 0.1);
	}
	const struct det_event *gold = find_event(s, 0, DET_EV_BAN, "192.0.2.128/25", DET_IN);
	assert_non_null(gold);
	assert_int_equal(gold->parent_attack_id, 0);
	uint64_t gold_id = gold->attack_id;
	size_t before = s->rec.n;
	for (int i = 0; i < 10; i++) {
		for (int h = 0; h < 8; h++) {
			snprintf(host, sizeof host, "192.0.2.%d", 140 + h);
			feed(s->e, s->c, host, 500, 0.1);
		}
		feed(s->e, s->c, "192.0.2.200", 20000, 0.1); /* udp over gold's 5000 */
		struct flow_record out = rec("192.0.2.201", "203.0.113.9", 6, 500, 20000);
		det_counters_add(s->c, &out, 1);
		feed(s->e, s->c, "192.0.2.20", 2000, 0.1); /* the default group, outside gold */
		run(s, NULL, 0, 0.1);
	}
	const struct det_event *in = find_event(s, before, DET_EV_ATTACK_DETECTED, "192.0.2.200/32", DET_IN);
	const struct det_event *out = find_event(s, before, DET_EV_ATTACK_DETECTED, "192.0.2.201/32", DET_OUT);
	const struct det_event *other = find_event(s, before, DET_EV_ATTACK_DETECTED, "192.0.2.20/32", DET_IN);
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(other);
	assert_int_equal(in->parent_attack_id, gold_id);
	assert_int_equal(out->parent_attack_id, gold_id);
	assert_int_equal(other->parent_attack_id, 0);
	assert_int_equal(in->trigger_class, DET_UDP);
	assert_int_equal(out->trigger_metric, DET_PPS);
	const struct det_event *in_ban = find_event(s, before, DET_EV_BAN, "192.0.2.200/32", DET_IN);
	assert_non_null(in_ban);
	assert_int_equal(in_ban->parent_attack_id, gold_id);
	assert_int_equal(in_ban->attack_id, in->attack_id);
	/* the link is kept in the attack list, open and, after the end, in the history */
	struct det_ban_info list[8];
	size_t n = det_engine_attacks(s->e, list, 8);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(list[i].parent_attack_id, list[i].attack_id == in->attack_id || list[i].attack_id == out->attack_id ? gold_id : 0);
	run(s, NULL, 0, 40);
	assert_int_equal(det_engine_bans(s->e, list, 8), 0);
	n = det_engine_attacks(s->e, list, 8);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(list[i].parent_attack_id, list[i].attack_id == in->attack_id || list[i].attack_id == out->attack_id ? gold_id : 0);
	sm_free(s);
}

static void out_limits(struct det_config *c)
{
	c->groups[0].thresholds.limit[DET_OUT][DET_TOTAL][DET_PPS] = 500;
}

/* One 0.1 s tick in which src sends pps packets per second of TCP out, merged. */
static void send_out(struct sm *s, const char *src, double pps)
{
	struct flow_record o = rec(src, "203.0.113.9", 6, (uint64_t)llround(pps / 10), (uint64_t)llround(pps * 4));
	det_counters_add(s->c, &o, 1);
	det_engine_merge(s->e, s->c);
	det_counters_clear(s->c);
	run(s, NULL, 0, 0.1);
}

/* One host attacked and attacking at once: two attacks, each banned on its own, and the end of
 * one leaves the other open; a manual (incoming) ban of the host does not hide its outgoing
 * attack. */
static void test_both_directions(void **state)
{
	(void)state;
	struct sm *s = sm_new(out_limits);
	for (int i = 0; i < 10; i++) {
		feed(s->e, s->c, "192.0.2.30", 3000, 0.1); /* incoming, 6x */
		send_out(s, "192.0.2.30", 3000);
	}
	const struct det_event *in = find_event(s, 0, DET_EV_BAN, "192.0.2.30/32", DET_IN);
	const struct det_event *out = find_event(s, 0, DET_EV_BAN, "192.0.2.30/32", DET_OUT);
	assert_non_null(in);
	assert_non_null(out);
	assert_true(in->attack_id != out->attack_id);
	uint64_t in_id = in->attack_id, out_id = out->attack_id;
	struct det_ban_info list[8];
	assert_int_equal(det_engine_bans(s->e, list, 8), 2);
	/* the incoming flood stops, the outgoing goes on: only the incoming attack ends */
	size_t before = s->rec.n;
	for (int i = 0; i < 150; i++) {
		send_out(s, "192.0.2.30", 3000);
	}
	const struct det_event *unban = find_event(s, before, DET_EV_UNBAN, "192.0.2.30/32", DET_IN);
	assert_non_null(unban);
	assert_int_equal(unban->attack_id, in_id);
	assert_null(find_event(s, before, DET_EV_UNBAN, "192.0.2.30/32", DET_OUT));
	assert_int_equal(det_engine_bans(s->e, list, 8), 1);
	assert_int_equal(list[0].attack_id, out_id);
	/* a new incoming flood on it is a new attack, beside the outgoing one */
	before = s->rec.n;
	for (int i = 0; i < 10; i++) {
		feed(s->e, s->c, "192.0.2.30", 3000, 0.1);
		send_out(s, "192.0.2.30", 3000);
	}
	const struct det_event *again = find_event(s, before, DET_EV_BAN, "192.0.2.30/32", DET_IN);
	assert_non_null(again);
	assert_true(again->attack_id != in_id && again->attack_id != out_id);
	assert_int_equal(det_engine_bans(s->e, list, 8), 2);
	/* the operator's unban of the host ends both */
	ip_prefix p = P("192.0.2.30/32");
	before = s->rec.n;
	assert_int_equal(det_engine_unban(s->e, &p, s->t, record, &s->rec), 0);
	assert_int_equal(s->rec.n - before, 2);
	assert_int_equal(det_engine_bans(s->e, list, 8), 0);
	/* a manual ban of a host, then its outgoing flood: a detected outgoing attack of its own */
	p = P("192.0.2.40/32");
	assert_int_equal(det_engine_ban(s->e, &p, 60, s->t, record, &s->rec, NULL), 0);
	before = s->rec.n;
	for (int i = 0; i < 10; i++) {
		send_out(s, "192.0.2.40", 3000);
	}
	const struct det_event *o40 = find_event(s, before, DET_EV_BAN, "192.0.2.40/32", DET_OUT);
	assert_non_null(o40);
	assert_false(o40->manual);
	assert_int_equal(det_engine_bans(s->e, list, 8), 2);
	sm_free(s);
}

static void test_manual(void **state)
{
	(void)state;
	struct sm *s = sm_new(NULL);
	const char *why = NULL;
	ip_prefix p = P("192.0.2.16/28");
	assert_int_equal(det_engine_ban(s->e, &p, 5, s->t, record, &s->rec, &why), 0);
	assert_int_equal(s->rec.n, 1);
	assert_int_equal(s->rec.ev[0].type, DET_EV_BAN);
	assert_true(s->rec.ev[0].manual);
	assert_int_equal(s->rec.ev[0].ban_seconds, 5);
	assert_true(ip_prefix_equal(&s->rec.ev[0].target, &p));

	assert_int_equal(det_engine_ban(s->e, &p, 5, s->t, record, &s->rec, &why), -1);
	assert_string_equal(why, "already banned");
	ip_prefix q = P("198.51.100.0/24");
	assert_int_equal(det_engine_ban(s->e, &q, 0, s->t, record, &s->rec, &why), -1);
	assert_string_equal(why, "not monitored");
	q = P("192.0.2.1/32");
	assert_int_equal(det_engine_ban(s->e, &q, 0, s->t, record, &s->rec, &why), -1);
	assert_string_equal(why, "whitelisted");
	q = P("192.0.2.0/24"); /* would blackhole the whitelisted 192.0.2.1 */
	assert_int_equal(det_engine_ban(s->e, &q, 0, s->t, record, &s->rec, &why), -1);
	assert_string_equal(why, "whitelisted");
	q = P("2001:db8:10::1");
	assert_int_equal(det_engine_ban(s->e, &q, 0, s->t, record, &s->rec, &why), 0);
	assert_int_equal(s->rec.ev[1].ban_seconds, 10); /* 0 = ban_time */
	assert_int_equal(s->rec.n, 2);

	struct det_ban_info list[4];
	assert_int_equal(det_engine_bans(s->e, list, 4), 2);
	assert_true(ip_prefix_equal(&list[0].target, &p)); /* oldest first */
	assert_true(list[0].attack_id < list[1].attack_id);

	assert_int_equal(det_engine_unban(s->e, &q, s->t, record, &s->rec), 0);
	assert_int_equal(s->rec.ev[2].type, DET_EV_UNBAN);
	assert_true(s->rec.ev[2].manual);
	assert_int_equal(s->rec.ev[2].attack_id, s->rec.ev[1].attack_id);
	assert_int_equal(det_engine_unban(s->e, &q, s->t, record, &s->rec), -1);

	/* the manual ban of 5 s runs out */
	run(s, NULL, 0, 5);
	assert_int_equal(s->rec.n, 4);
	assert_int_equal(s->rec.ev[3].type, DET_EV_UNBAN);
	assert_int_equal(s->rec.ev[3].attack_id, s->rec.ev[0].attack_id);
	assert_int_equal(det_engine_bans(s->e, list, 4), 0);

	/* a host under a manual ban is not detected a second time */
	q = P("192.0.2.40/32");
	assert_int_equal(det_engine_ban(s->e, &q, 60, s->t, record, &s->rec, &why), 0);
	run(s, "192.0.2.40", 2000, 2);
	assert_int_equal(s->rec.n, 5);
	sm_free(s);
}

static void test_top_and_idle(void **state)
{
	(void)state;
	struct sm *s = sm_new(NULL);
	s->f->cfg.host_idle_s = 2;
	char host[32];
	for (int i = 1; i <= 20; i++) {
		snprintf(host, sizeof host, "192.0.2.%d", 20 + (i * 7) % 20); /* order scrambled */
		feed(s->e, s->c, host, 10 * ((i * 7) % 20 + 1), 0.1);
	}
	run(s, NULL, 0, 0.1);
	assert_int_equal(det_engine_hosts(s->e), 20);
	struct det_host_info top[32];
	assert_int_equal(det_engine_top(s->e, DET_IN, DET_PPS, top, 5), 5);
	for (int i = 0; i < 5; i++) {
		snprintf(host, sizeof host, "192.0.2.%d", 39 - i); /* fed 200, 190, 180 ... pps */
		ip_addr want = A(host);
		assert_true(ip_equal(&top[i].host, &want));
		if (i)
			assert_true(top[i - 1].rates.v[DET_IN][DET_TOTAL][DET_PPS] > top[i].rates.v[DET_IN][DET_TOTAL][DET_PPS]);
	}
	assert_int_equal(det_engine_top(s->e, DET_IN, DET_PPS, top, 32), 20);
	assert_int_equal(det_engine_top(s->e, DET_OUT, DET_BPS, top, 32), 20);

	/* .10 keeps sending and is banned; the rest go quiet and are freed after host_idle_s */
	ip_prefix p = P("192.0.2.25/32");
	assert_int_equal(det_engine_ban(s->e, &p, 60, s->t, record, &s->rec, NULL), 0);
	run(s, "192.0.2.10", 100, 1.8);
	assert_int_equal(det_engine_hosts(s->e), 21);
	run(s, "192.0.2.10", 100, 0.2);
	assert_int_equal(det_engine_hosts(s->e), 2); /* .10 still talking, .25 still banned */
	assert_non_null(in_total(s->e, "192.0.2.10"));
	assert_non_null(in_total(s->e, "192.0.2.25"));
	assert_int_equal(det_engine_top(s->e, DET_IN, DET_PPS, top, 32), 2);
	assert_true(top[1].banned);
	sm_free(s);
}

/* Hosts come and go through a small table (16 hosts, a 32-slot index) so that probe chains
 * collide and wrap: after every tick the table holds exactly the hosts seen in the last two
 * seconds, each once (a lost index entry would show up as a duplicate). */
static void test_idle_churn(void **state)
{
	(void)state;
	struct fixture *f = fixture_new();
	f->cfg.max_hosts = 16;
	f->cfg.host_idle_s = 2;
	struct det_engine *e = det_engine_new(&f->cfg, f->n);
	struct det_counters *c = det_counters_new(f->n, 16);
	uint64_t last_seen[40] = {0}, t = 1000 * NS;
	unsigned seed = 12345;
	for (int round = 1; round <= 300; round++) {
		t += NS;
		for (int k = 0; k < 5; k++) { /* <= 10 kept + 5 new: fits in 16 */
			seed = seed * 1103515245 + 12345;
			int h = (seed >> 16) % 40;
			char dst[32];
			snprintf(dst, sizeof dst, "192.0.2.%d", 50 + h);
			struct flow_record r = rec("198.51.100.1", dst, 17, 1, 100);
			det_counters_add(c, &r, 0);
			last_seen[h] = t;
		}
		det_engine_merge(e, c);
		det_counters_clear(c);
		det_engine_tick(e, t, NULL, NULL);
		size_t want = 0;
		for (int h = 0; h < 40; h++)
			want += last_seen[h] && t - last_seen[h] < 2 * NS;
		assert_int_equal(det_engine_hosts(e), want);
		struct det_host_info top[64];
		size_t n = det_engine_top(e, DET_IN, DET_PPS, top, 64);
		assert_int_equal(n, want);
		for (size_t i = 0; i < n; i++) {
			int h = (int)(ip_v4_u32(&top[i].host) & 0xff) - 50;
			assert_true(h >= 0 && h < 40);
			assert_true(t - last_seen[h] < 2 * NS);
		}
	}
	det_counters_free(c);
	det_engine_free(e);
	fixture_free(f);
}

/* A full host table still sees attacks: a churn of one-packet IPv6 destinations fills the table
 * (64 hosts) and keeps coming; a host with steady traffic under its limit stays in the table all
 * along, and a new host flooded at 10x its limit gets in and is banned at once, while the churn
 * goes on. When the table is full of hosts busier than a newcomer, the newcomer's counts are
 * refused and counted in hosts_overflow, per direction. */
static void test_full_table_admission(void **state)
{
	(void)state;
	struct sm *s = sm_new(NULL);
	unsigned next = 1;
	char host[64];
	struct det_engine_stats st;
	for (int i = 0; i < 60; i++) {
		for (int k = 0; k < 20; k++, next++) {
			snprintf(host, sizeof host, "2001:db8:10::%x:%x", next >> 16, next & 0xffff);
			feed(s->e, s->c, host, 10, 0.1); /* one packet */
		}
		feed(s->e, s->c, "192.0.2.40", 100, 0.1);
		if (i >= 30)
			feed(s->e, s->c, "192.0.2.30", 5000, 0.1);
		run(s, NULL, 0, 0.1);
		det_engine_stats(s->e, &st);
		assert_int_equal(st.hosts, i < 3 ? 1 + 20 * (i + 1) : 64);
		if (i == 29)
			assert_int_equal(s->rec.n, 0);
		assert_non_null(in_total(s->e, "192.0.2.40")); /* never pushed out */
	}
	/* every newcomer got in (and was pushed out later, or is there) or was refused and counted;
	 * refusals (all 8 picks busy or merged this tick) are rare */
	assert_int_equal(st.hosts_evicted + st.hosts + st.hosts_overflow[DET_IN], 1200 + 2);
	assert_true(st.hosts_overflow[DET_IN] < 12);
	assert_true(st.hosts_evicted > 1100);
	assert_true(s->rec.n >= 2);
	assert_int_equal(s->rec.ev[0].type, DET_EV_ATTACK_DETECTED);
	ip_prefix victim = P("192.0.2.30/32");
	assert_true(ip_prefix_equal(&s->rec.ev[0].target, &victim));
	/* detected at its first or second tick */
	assert_true(s->rec.ev[0].time_ns <= 1000 * NS + 32 * NS / 10);
	assert_int_equal(s->rec.ev[1].type, DET_EV_BAN);
	sm_free(s);

	/* 64 busy hosts: a one-packet newcomer finds none quieter than itself */
	s = sm_new(NULL);
	for (int i = 0; i < 5; i++) {
		for (int k = 0; k < 64; k++) {
			snprintf(host, sizeof host, "2001:db8:10::1:%x", k);
			feed(s->e, s->c, host, 400, 0.1);
		}
		run(s, NULL, 0, 0.1);
	}
	feed(s->e, s->c, "192.0.2.99", 10, 0.1);
	struct flow_record out = rec("192.0.2.98", "203.0.113.1", 17, 1, 100);
	det_counters_add(s->c, &out, 0);
	feed(s->e, s->c, NULL, 0, 0.1);
	det_engine_stats(s->e, &st);
	assert_int_equal(st.hosts, 64);
	assert_int_equal(st.hosts_evicted, 0);
	assert_int_equal(st.hosts_overflow[DET_IN], 1);
	assert_int_equal(st.hosts_overflow[DET_OUT], 1);
	assert_null(in_total(s->e, "192.0.2.99"));
	sm_free(s);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(det_direction_name(DET_IN), "incoming");
	assert_string_equal(det_direction_name(DET_OUT), "outgoing");
	assert_string_equal(det_class_name(DET_SYN), "syn");
	assert_string_equal(det_class_name(DET_FRAG), "frag");
	assert_string_equal(det_metric_name(DET_BPS), "bps");
	assert_string_equal(det_event_name(DET_EV_BAN_EXTENDED), "ban_extended");
	struct det_config cfg;
	det_config_defaults(&cfg);
	assert_int_equal(cfg.tick_ms, 100);
	assert_int_equal(cfg.ban_time_s, 600);
	assert_true(cfg.unban_only_if_attack_finished);
	assert_int_equal(cfg.n_groups, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lpm_nested),
		cmocka_unit_test(test_lpm_edges),
		cmocka_unit_test(test_counters_classes),
		cmocka_unit_test(test_counters_sampling_directions),
		cmocka_unit_test(test_counters_overflow_clear),
		cmocka_unit_test(test_rates_ema),
		cmocka_unit_test(test_attack_ban_extend_unban),
		cmocka_unit_test(test_unban_while_attack_goes_on),
		cmocka_unit_test(test_group_thresholds_and_ban_time),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_group_total),
		cmocka_unit_test(test_nested_attacks),
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_full_table_admission),
		cmocka_unit_test(test_manual),
		cmocka_unit_test(test_top_and_idle),
		cmocka_unit_test(test_idle_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
