/* detect/ at scale: per-prefix totals (carpet bombing over one /24 of a /16 group), and the
 * compact engine (float rates, lazy decay, quick reject) giving the same rates and events as the
 * plain double-precision EMA every host every tick that it replaced. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_EVENTS 8192
#include "tests/unit/det_test_util.h"
#include "detect/det.h"

#define NS 1000000000ull
static size_t count_events(const struct recorder *r, enum det_event_type t, const char *target)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		char buf[IP_PREFIX_STRLEN];
		if (r->ev[i].type == t && (!target || !strcmp(ip_prefix_format(&r->ev[i].target, buf), target)))
			n++;
	}
	return n;
}

/* ---- per-prefix totals -------------------------------------------------------------------- */

struct carpet {
	ip_prefix nets[1], g1[2], white[1];
	struct det_hostgroup groups[2];
	struct det_config cfg;
	struct det_networks *n;
	struct det_engine *e;
	struct det_counters *c;
	struct recorder rec;
	uint64_t t;
};

/* 10.0.0.0/8 monitored; group "customer" = 10.1.0.0/16 and 10.2.0.0/16, hosts limited to 500
 * pps, totals of 3000 pps per group or per /24. */
static struct carpet *carpet_new(enum det_total_scope scope, uint8_t len_v4, const char *white)
{
	struct carpet *k = calloc(1, sizeof *k);
	k->nets[0] = P("10.0.0.0/8");
	k->g1[0] = P("10.1.0.0/16");
	k->g1[1] = P("10.2.0.0/16");
	det_config_defaults(&k->cfg);
	k->cfg.max_hosts = 4096;
	k->cfg.ban_time_s = 2;
	k->cfg.networks = k->nets, k->cfg.n_networks = 1;
	snprintf(k->groups[0].name, sizeof k->groups[0].name, "default");
	k->groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	snprintf(k->groups[1].name, sizeof k->groups[1].name, "customer");
	k->groups[1].prefixes = k->g1, k->groups[1].n_prefixes = 2;
	k->groups[1].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	k->groups[1].total.limit[DET_IN][DET_TOTAL][DET_PPS] = 3000;
	k->groups[1].total.limit[DET_OUT][DET_TOTAL][DET_PPS] = 3000;
	k->groups[1].total_scope = scope;
	k->groups[1].total_prefix_len_v4 = len_v4;
	k->cfg.groups = k->groups, k->cfg.n_groups = 2;
	if (white) {
		k->white[0] = P(white);
		k->cfg.whitelist = k->white, k->cfg.n_whitelist = 1;
	}
	k->n = det_networks_new(&k->cfg);
	k->e = det_engine_new(&k->cfg, k->n);
	k->c = det_counters_new(k->n, 4096);
	assert_non_null(k->e);
	k->t = 1000 * NS;
	det_engine_tick(k->e, k->t, record, &k->rec);
	return k;
}

static void carpet_free(struct carpet *k)
{
	det_counters_free(k->c);
	det_engine_free(k->e);
	det_networks_free(k->n);
	free(k);
}

/* One 0.1 s tick: hosts base+1 .. base+hosts at pps each (base "10.1.5." -> 10.1.5.1 ...). */
static void carpet_tick(struct carpet *k, const char *base, int hosts, double pps, const char *base2, int hosts2,
			double pps2)
{
	for (int j = 0; j < 2; j++) {
		const char *b = j ? base2 : base;
		int nh = j ? hosts2 : hosts;
		double p = j ? pps2 : pps;
		for (int i = 1; b && i <= nh; i++) {
			char dst[32];
			snprintf(dst, sizeof dst, "%s%d", b, i);
			struct flow_record r;
			memset(&r, 0, sizeof r);
			r.src = A("198.51.100.1");
			r.dst = A(dst);
			r.protocol = 17;
			r.packets = (uint64_t)llround(p / 10);
			r.bytes = r.packets * 200;
			r.sampling_rate = 1;
			r.ip_version = 4;
			det_counters_add(k->c, &r, 1);
		}
	}
	det_engine_merge(k->e, k->c);
	det_counters_clear(k->c);
	k->t += NS / 10;
	det_engine_tick(k->e, k->t, record, &k->rec);
}

/* Two /24s of one /16 group: 10.1.5.0/24 carpet-bombed (100 hosts at 100 pps: 10 000 pps, no
 * host near its 500), 10.1.6.0/24 busy but under (20 hosts at 100 pps). Only 10.1.5.0/24 is
 * attacked and banned, no host, and it ends once the bombing stops and the ban time passed. */
static void test_prefix_scope_only_attacked_subprefix(void **state)
{
	(void)state;
	struct carpet *k = carpet_new(DET_SCOPE_PREFIX, 24, NULL);
	for (int i = 0; i < 20; i++)
		carpet_tick(k, "10.1.5.", 100, 100, "10.1.6.", 20, 100);
	assert_int_equal(count_events(&k->rec, DET_EV_ATTACK_DETECTED, NULL), 1);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, "10.1.5.0/24"), 1);
	assert_int_equal(k->rec.ev[1].type, DET_EV_BAN);
	assert_int_equal(k->rec.ev[1].hostgroup, 1);
	assert_int_equal(k->rec.ev[1].trigger_class, DET_TOTAL);
	assert_int_equal(k->rec.ev[1].trigger_metric, DET_PPS);
	assert_true(k->rec.ev[1].trigger_value > 3000 && k->rec.ev[1].trigger_value < 10000);
	assert_true(k->rec.ev[1].rates.v[DET_IN][DET_UDP][DET_PPS] > 3000); /* the class mix is known */
	struct det_ban_info bans[4];
	assert_int_equal(det_engine_bans(k->e, bans, 4), 1);
	char buf[IP_PREFIX_STRLEN];
	assert_string_equal(ip_prefix_format(&bans[0].target, buf), "10.1.5.0/24");
	struct det_fingerprint fp;
	assert_int_equal(det_engine_fingerprint(k->e, bans[0].attack_id, &fp), 0);
	assert_true(fp.from_rates);
	assert_int_equal(fp.kind, DET_KIND_UDP_FLOOD);

	/* the attack goes on past its ban time: extended, not unbanned */
	for (int i = 0; i < 25; i++)
		carpet_tick(k, "10.1.5.", 100, 100, "10.1.6.", 20, 100);
	assert_true(count_events(&k->rec, DET_EV_BAN_EXTENDED, "10.1.5.0/24") >= 1);
	assert_int_equal(count_events(&k->rec, DET_EV_UNBAN, NULL), 0);
	/* it stops: unbanned at the next expiry, nothing else ever */
	for (int i = 0; i < 40; i++)
		carpet_tick(k, NULL, 0, 0, "10.1.6.", 20, 100);
	assert_int_equal(count_events(&k->rec, DET_EV_UNBAN, "10.1.5.0/24"), 1);
	assert_int_equal(count_events(&k->rec, DET_EV_ATTACK_DETECTED, NULL), 1);
	assert_int_equal(det_engine_bans(k->e, bans, 4), 0);
	carpet_free(k);
}

/* One 0.1 s tick in which hosts base+1 .. base+hosts each send pps out (and nothing comes in). */
static void carpet_tick_out(struct carpet *k, const char *base, int hosts, double pps)
{
	for (int i = 1; i <= hosts; i++) {
		char src[32];
		snprintf(src, sizeof src, "%s%d", base, i);
		struct flow_record r;
		memset(&r, 0, sizeof r);
		r.src = A(src);
		r.dst = A("203.0.113.9");
		r.protocol = 17;
		r.packets = (uint64_t)llround(pps / 10);
		r.bytes = r.packets * 200;
		r.sampling_rate = 1;
		r.ip_version = 4;
		det_counters_add(k->c, &r, 1);
	}
}

/* A /24 bombed from outside and bombing out at once: two prefix attacks, one per direction, and
 * the end of the incoming one leaves the outgoing one open (per prefix and for the whole group). */
static void test_prefix_both_directions(void **state)
{
	(void)state;
	for (int scope = 0; scope < 2; scope++) {
		struct carpet *k = carpet_new(scope ? DET_SCOPE_GROUP : DET_SCOPE_PREFIX, scope ? 0 : 24, NULL);
		const char *target = scope ? "10.1.0.0/16" : "10.1.5.0/24";
		for (int i = 0; i < 20; i++) {
			carpet_tick_out(k, "10.1.5.", 100, 100);
			carpet_tick(k, "10.1.5.", 100, 100, NULL, 0, 0);
		}
		assert_int_equal(count_events(&k->rec, DET_EV_BAN, target), 2);
		const struct det_event *in = NULL, *out = NULL;
		for (size_t i = 0; i < k->rec.n; i++)
			if (k->rec.ev[i].type == DET_EV_BAN) {
				char buf[IP_PREFIX_STRLEN];
				if (strcmp(ip_prefix_format(&k->rec.ev[i].target, buf), target))
					continue;
				if (k->rec.ev[i].direction == DET_IN)
					in = &k->rec.ev[i];
				else
					out = &k->rec.ev[i];
			}
		assert_non_null(in);
		assert_non_null(out);
		assert_true(in->attack_id != out->attack_id);
		uint64_t out_id = out->attack_id;
		/* the bombing stops, the hosts go on sending out */
		for (int i = 0; i < 60; i++) {
			carpet_tick_out(k, "10.1.5.", 100, 100);
			carpet_tick(k, NULL, 0, 0, NULL, 0, 0);
		}
		assert_int_equal(count_events(&k->rec, DET_EV_UNBAN, target), 1);
		struct det_ban_info bans[8];
		size_t n = det_engine_bans(k->e, bans, 8);
		size_t still = 0;
		for (size_t i = 0; i < n; i++)
			still += bans[i].attack_id == out_id;
		assert_int_equal(still, 1);
		carpet_free(k);
	}
}

/* Without total_prefix_length each prefix of the group has its own sum: 10.2.0.0/16 bombed,
 * 10.1.0.0/16 quiet, only 10.2.0.0/16 banned. */
static void test_prefix_scope_whole_prefixes(void **state)
{
	(void)state;
	struct carpet *k = carpet_new(DET_SCOPE_PREFIX, 0, NULL);
	for (int i = 0; i < 20; i++)
		carpet_tick(k, "10.2.7.", 100, 100, "10.1.6.", 20, 100);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, NULL), 1);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, "10.2.0.0/16"), 1);
	carpet_free(k);
}

/* The group scope as before: the sum over the group trips, every prefix of the group is banned
 * (including the quiet one), and the hosts' own limits are not. */
static void test_group_scope_still_bans_every_prefix(void **state)
{
	(void)state;
	struct carpet *k = carpet_new(DET_SCOPE_GROUP, 0, NULL);
	for (int i = 0; i < 20; i++)
		carpet_tick(k, "10.1.5.", 100, 100, NULL, 0, 0);
	assert_int_equal(count_events(&k->rec, DET_EV_ATTACK_DETECTED, NULL), 2);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, "10.1.0.0/16"), 1);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, "10.2.0.0/16"), 1);
	for (int i = 0; i < 40; i++)
		carpet_tick(k, NULL, 0, 0, NULL, 0, 0);
	assert_int_equal(count_events(&k->rec, DET_EV_UNBAN, NULL), 2);
	carpet_free(k);
}

/* A whitelisted host inside the attacked /24: the prefix attack is detected and refused with the
 * reason, opened once (not again every tick), and ends quietly. */
static void test_prefix_with_whitelisted_host_refused(void **state)
{
	(void)state;
	struct carpet *k = carpet_new(DET_SCOPE_PREFIX, 24, "10.1.5.77/32");
	for (int i = 0; i < 30; i++)
		carpet_tick(k, "10.1.5.", 100, 100, NULL, 0, 0);
	assert_int_equal(count_events(&k->rec, DET_EV_ATTACK_DETECTED, "10.1.5.0/24"), 1);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN_REFUSED, "10.1.5.0/24"), 1);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, NULL), 0);
	for (size_t i = 0; i < k->rec.n; i++)
		if (k->rec.ev[i].type == DET_EV_BAN_REFUSED)
			assert_string_equal(k->rec.ev[i].reason, "whitelisted");
	for (int i = 0; i < 30; i++)
		carpet_tick(k, NULL, 0, 0, NULL, 0, 0);
	struct det_ban_info a[8];
	assert_int_equal(det_engine_attacks(k->e, a, 8), 1);
	assert_false(a[0].active);
	assert_true(a[0].ended_ns > 0);
	assert_int_equal(k->rec.n, 2);
	carpet_free(k);
}

/* Sums are kept only for prefixes with traffic: after host_idle_s of quiet the engine holds no
 * host and no sum (observable: a new bombing is a new attack, detected as fast as the first). */
static void test_prefix_sums_freed_when_quiet(void **state)
{
	(void)state;
	struct carpet *k = carpet_new(DET_SCOPE_PREFIX, 24, NULL);
	k->cfg.host_idle_s = 1;
	for (int i = 0; i < 20; i++)
		carpet_tick(k, "10.1.5.", 100, 100, NULL, 0, 0);
	uint64_t first = k->rec.ev[0].time_ns - 1000 * NS;
	for (int i = 0; i < 60; i++)
		carpet_tick(k, NULL, 0, 0, NULL, 0, 0);
	assert_int_equal(det_engine_hosts(k->e), 0);
	size_t before = k->rec.n;
	uint64_t t0 = k->t;
	for (int i = 0; i < 20; i++)
		carpet_tick(k, "10.1.5.", 100, 100, NULL, 0, 0);
	assert_int_equal(count_events(&k->rec, DET_EV_BAN, "10.1.5.0/24"), 2);
	assert_true(k->rec.n > before);
	assert_int_equal(k->rec.ev[before].time_ns - t0, first);
	carpet_free(k);
}

/* ---- the compact engine against the plain EMA --------------------------------------------- */

#define H 24
#define TICKS 400

struct ref_host {
	double r[DET_DIRECTIONS][3]; /* total pps, udp pps, total bps */
	bool attacked;
	uint64_t until;
};

/* Random traffic to 24 hosts (each tick a host sends or not; some go silent for seconds, so lazy
 * decay over gaps is exercised), ticks of uneven length: the engine's rates stay within 1e-4 of
 * a double EMA updated every host every tick, and every ATTACK_DETECTED and UNBAN happens on the
 * same tick for the same host as the reference state machine says. */
static void test_same_events_as_plain_ema(void **state)
{
	(void)state;
	ip_prefix nets[1] = {P("10.0.0.0/8")};
	struct det_hostgroup g[1];
	memset(g, 0, sizeof g);
	g[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 800;
	g[0].thresholds.limit[DET_IN][DET_UDP][DET_PPS] = 500;
	g[0].thresholds.limit[DET_IN][DET_TOTAL][DET_BPS] = 4000000;
	struct det_config cfg;
	det_config_defaults(&cfg);
	cfg.networks = nets, cfg.n_networks = 1;
	cfg.groups = g, cfg.n_groups = 1;
	cfg.max_hosts = 256;
	cfg.ban_time_s = 1;
	cfg.host_idle_s = 3600;
	cfg.confirm_ticks = 0, cfg.burst_factor = 0; /* the reference is the average alone */
	struct det_networks *n = det_networks_new(&cfg);
	struct det_engine *e = det_engine_new(&cfg, n);
	struct det_counters *c = det_counters_new(n, 256);
	struct recorder *rec = calloc(1, sizeof *rec);
	struct ref_host ref[H];
	memset(ref, 0, sizeof ref);
	uint64_t t = 1000 * NS;
	det_engine_tick(e, t, record, rec);
	unsigned seed = 4242;
#define RND() ((seed = seed * 1103515245u + 12345u) >> 8)
	int silent[H] = {0};
	size_t detected = 0, unbanned = 0;
	for (int tick = 0; tick < TICKS; tick++) {
		uint64_t dt_ns = (50 + RND() % 250) * 1000000ull;
		double dt = dt_ns / 1e9;
		double alpha = 1 - exp(-dt / 1.0);
		double inst[H][3];
		memset(inst, 0, sizeof inst);
		for (int h = 0; h < H; h++) {
			if (silent[h] > 0) {
				silent[h]--;
				continue;
			}
			if (RND() % 50 == 0) {
				silent[h] = RND() % 40;
				continue;
			}
			/* rates around the limits, so attacks start and end all the time */
			uint64_t udp = RND() % (uint64_t)(1200 * dt + 1), tcp = RND() % (uint64_t)(600 * dt + 1);
			char dst[32];
			snprintf(dst, sizeof dst, "10.0.0.%d", h + 1);
			struct flow_record r;
			memset(&r, 0, sizeof r);
			r.src = A("198.51.100.1"), r.dst = A(dst), r.sampling_rate = 1, r.ip_version = 4;
			r.protocol = 17, r.packets = udp, r.bytes = udp * 600;
			if (udp)
				det_counters_add(c, &r, 1);
			r.protocol = 6, r.packets = tcp, r.bytes = tcp * 60;
			if (tcp)
				det_counters_add(c, &r, 0);
			inst[h][0] = (udp + tcp) / dt;
			inst[h][1] = udp / dt;
			inst[h][2] = (udp * 600 + tcp * 60) * 8 / dt;
		}
		det_engine_merge(e, c);
		det_counters_clear(c);
		t += dt_ns;
		size_t ev0 = rec->n;
		det_engine_tick(e, t, record, rec);

		/* the reference: every host, every tick, in double */
		bool want_detect[H] = {false}, want_unban[H] = {false};
		for (int h = 0; h < H; h++) {
			for (int m = 0; m < 3; m++)
				ref[h].r[DET_IN][m] += alpha * (inst[h][m] - ref[h].r[DET_IN][m]);
			bool over = ref[h].r[DET_IN][0] > 800 || ref[h].r[DET_IN][1] > 500 || ref[h].r[DET_IN][2] > 4000000;
			if (!ref[h].attacked && over) {
				ref[h].attacked = true;
				ref[h].until = t + NS;
				want_detect[h] = true;
			} else if (ref[h].attacked && t >= ref[h].until) {
				if (over)
					ref[h].until = t + NS;
				else
					ref[h].attacked = false, want_unban[h] = true;
			}
		}
		bool got_detect[H] = {false}, got_unban[H] = {false};
		for (size_t i = ev0; i < rec->n; i++) {
			int h = (int)(ip_v4_u32(&rec->ev[i].target.addr) & 0xff) - 1;
			assert_true(h >= 0 && h < H);
			if (rec->ev[i].type == DET_EV_ATTACK_DETECTED)
				got_detect[h] = true, detected++;
			if (rec->ev[i].type == DET_EV_UNBAN)
				got_unban[h] = true, unbanned++;
		}
		for (int h = 0; h < H; h++) {
			if (got_detect[h] != want_detect[h] || got_unban[h] != want_unban[h])
				fail_msg("tick %d host %d: detect %d/%d unban %d/%d (rates %.3f %.3f %.1f)", tick, h, got_detect[h],
					 want_detect[h], got_unban[h], want_unban[h], ref[h].r[DET_IN][0], ref[h].r[DET_IN][1],
					 ref[h].r[DET_IN][2]);
		}
		struct det_host_info top[H];
		size_t nt = det_engine_top(e, DET_IN, DET_PPS, top, H);
		for (size_t i = 0; i < nt; i++) {
			int h = (int)(ip_v4_u32(&top[i].host) & 0xff) - 1;
			const double *v = top[i].rates.v[DET_IN][DET_TOTAL];
			assert_true(fabs(v[DET_PPS] - ref[h].r[DET_IN][0]) <= 1e-4 * ref[h].r[DET_IN][0] + 1e-6);
			assert_true(fabs(v[DET_BPS] - ref[h].r[DET_IN][2]) <= 1e-4 * ref[h].r[DET_IN][2] + 1e-6);
			assert_true(fabs(top[i].rates.v[DET_IN][DET_UDP][DET_PPS] - ref[h].r[DET_IN][1]) <=
				    1e-4 * ref[h].r[DET_IN][1] + 1e-6);
		}
	}
	/* the run is not vacuous: attacks came and went */
	assert_true(detected > 20);
	assert_true(unbanned > 20);
	free(rec);
	det_counters_free(c);
	det_engine_free(e);
	det_networks_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_scope_only_attacked_subprefix),
		cmocka_unit_test(test_prefix_both_directions),
		cmocka_unit_test(test_prefix_scope_whole_prefixes),
		cmocka_unit_test(test_group_scope_still_bans_every_prefix),
		cmocka_unit_test(test_prefix_with_whitelisted_host_refused),
		cmocka_unit_test(test_prefix_sums_freed_when_quiet),
		cmocka_unit_test(test_same_events_as_plain_ema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
