/* det_engine_restore: bans put back after a restart keep their ids and end times, expired ones go
 * to the history, and refused ones say why; a restored ban then lives like any other (ends at its
 * time, is extended while its traffic goes on, is not opened twice by new traffic). */
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

#define NS 1000000000ull
struct fx {
	ip_prefix nets[2], white[1];
	struct det_hostgroup groups[2];
	struct det_config cfg;
	struct det_networks *n;
	struct det_engine *e;
	struct det_counters *c;
	struct recorder rec;
	uint64_t t;
};

static struct fx *fx_new(uint32_t max_bans)
{
	struct fx *f = calloc(1, sizeof *f);
	f->nets[0] = P("192.0.2.0/24");
	f->nets[1] = P("2001:db8:10::/48");
	f->white[0] = P("192.0.2.1/32");
	det_config_defaults(&f->cfg);
	f->cfg.networks = f->nets, f->cfg.n_networks = 2;
	f->cfg.whitelist = f->white, f->cfg.n_whitelist = 1;
	snprintf(f->groups[0].name, sizeof f->groups[0].name, "default");
	snprintf(f->groups[1].name, sizeof f->groups[1].name, "gold");
	static ip_prefix gold[1];
	gold[0] = P("192.0.2.128/25");
	f->groups[1].prefixes = gold, f->groups[1].n_prefixes = 1;
	f->groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	f->groups[1].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	f->cfg.groups = f->groups, f->cfg.n_groups = 2;
	f->cfg.max_hosts = 64;
	f->cfg.ban_time_s = 10;
	f->cfg.max_bans = max_bans;
	f->n = det_networks_new(&f->cfg);
	f->e = det_engine_new(&f->cfg, f->n);
	f->c = det_counters_new(f->n, 64);
	assert_non_null(f->e);
	f->t = 1700000000 * NS; /* wall clock, as a live capture's */
	return f;
}

static void fx_free(struct fx *f)
{
	det_counters_free(f->c);
	det_engine_free(f->e);
	det_networks_free(f->n);
	free(f);
}

/* `seconds` of 0.1 s ticks, dst receiving pps (none when dst is NULL) */
static void run(struct fx *f, const char *dst, double pps, double seconds)
{
	det_test_udp_ticks(f->e, f->c, &f->t, &f->rec, dst, pps, seconds);
}

static struct det_ban_info ban(uint64_t id, const char *target, int group, bool manual, uint64_t since, uint64_t until)
{
	struct det_ban_info b;
	memset(&b, 0, sizeof b);
	b.attack_id = id;
	b.target = P(target);
	b.direction = DET_IN;
	b.hostgroup = group;
	b.manual = manual;
	b.since_ns = since;
	b.until_ns = until;
	b.trigger_class = DET_UDP;
	b.trigger_metric = DET_PPS;
	b.trigger_value = manual ? 0 : 2345;
	b.trigger_limit = manual ? 0 : 500;
	b.active = true;
	return b;
}

static void test_restore_keeps_ids_and_times(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000);
	const char *why = "x";
	struct det_ban_info b1 = ban(41, "192.0.2.10/32", 0, false, f->t - 100 * NS, f->t + 500 * NS);
	struct det_ban_info b2 = ban(7, "192.0.2.64/26", 0, true, f->t - 5 * NS, f->t + 55 * NS);
	assert_int_equal(det_engine_restore(f->e, &b1, f->t, &why), 0);
	assert_null(why);
	assert_int_equal(det_engine_restore(f->e, &b2, f->t, &why), 0);
	struct det_ban_info out[4];
	assert_int_equal(det_engine_bans(f->e, out, 4), 2);
	assert_int_equal(out[0].attack_id, 41);
	assert_true(ip_prefix_equal(&out[0].target, &b1.target));
	assert_int_equal(out[0].since_ns, b1.since_ns);
	assert_int_equal(out[0].until_ns, b1.until_ns);
	assert_false(out[0].manual);
	assert_int_equal(out[0].trigger_class, DET_UDP);
	assert_true(out[0].trigger_value == 2345 && out[0].trigger_limit == 500);
	assert_true(out[0].active);
	assert_int_equal(out[1].attack_id, 7);
	assert_true(out[1].manual);
	assert_int_equal(out[1].until_ns, b2.until_ns);
	/* no event: the caller re-announces */
	assert_int_equal(f->rec.n, 0);
	/* ids go on after the highest restored, not after the last restored */
	const char *w2;
	ip_prefix m = P("192.0.2.20/32");
	assert_int_equal(det_engine_ban(f->e, &m, 0, f->t, record, &f->rec, &w2), 0);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].attack_id, 42);
	fx_free(f);
}

static void test_restore_expired_goes_to_history(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000);
	struct det_ban_info b = ban(99, "192.0.2.10/32", 0, false, f->t - 700 * NS, f->t - 100 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, f->t, NULL), 1);
	struct det_ban_info out[4];
	assert_int_equal(det_engine_bans(f->e, out, 4), 0);
	assert_int_equal(det_engine_attacks(f->e, out, 4), 1);
	assert_int_equal(out[0].attack_id, 99);
	assert_false(out[0].active);
	assert_int_equal(out[0].ended_ns, b.until_ns);
	/* expiry exactly now counts as expired */
	b = ban(5, "192.0.2.11/32", 0, true, f->t - 10 * NS, f->t);
	assert_int_equal(det_engine_restore(f->e, &b, f->t, NULL), 1);
	/* and ids continue after the expired one too */
	ip_prefix m = P("192.0.2.20/32");
	assert_int_equal(det_engine_ban(f->e, &m, 0, f->t, record, &f->rec, NULL), 0);
	assert_int_equal(f->rec.ev[0].attack_id, 100);
	run(f, NULL, 0, 1);
	assert_int_equal(f->rec.n, 1); /* nothing ends: the expired ones were never open */
	fx_free(f);
}

static void test_restore_refused(void **state)
{
	(void)state;
	struct fx *f = fx_new(2);
	const char *why = NULL;
	uint64_t t = f->t;
	struct det_ban_info b = ban(10, "198.51.100.7/32", 0, false, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "not monitored");
	b = ban(11, "192.0.2.1/32", 0, true, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "whitelisted");
	b = ban(12, "192.0.2.0/30", 0, true, t, t + 60 * NS); /* contains a whitelisted host */
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "whitelisted");
	b = ban(0, "192.0.2.9/32", 0, true, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "bad attack id");
	b = ban(13, "192.0.2.9/32", 0, true, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), 0);
	b = ban(13, "192.0.2.8/32", 0, true, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "duplicate attack id");
	b = ban(14, "192.0.2.9/32", 0, false, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "already banned");
	b = ban(15, "192.0.2.200/32", 1, false, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), 0);
	b = ban(16, "192.0.2.201/32", 1, false, t, t + 60 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, t, &why), -1);
	assert_string_equal(why, "max_bans reached");
	struct det_ban_info out[4];
	assert_int_equal(det_engine_bans(f->e, out, 4), 2);
	/* every id seen is used up, refused ones too */
	ip_prefix m = P("192.0.2.20/32");
	det_engine_unban(f->e, &out[0].target, t, NULL, NULL);
	assert_int_equal(det_engine_ban(f->e, &m, 0, t, record, &f->rec, &why), 0);
	assert_int_equal(f->rec.ev[0].attack_id, 17);
	fx_free(f);
}

/* A restored ban ends at its own time; a group that no longer exists becomes the address's. */
static void test_restored_ban_ends_on_time(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000);
	struct det_ban_info b = ban(3, "192.0.2.130/32", 7 /* gone */, false, f->t - 30 * NS, f->t + 2 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, f->t, NULL), 0);
	struct det_ban_info out[2];
	assert_int_equal(det_engine_bans(f->e, out, 2), 1);
	assert_int_equal(out[0].hostgroup, 1);
	run(f, NULL, 0, 1.9);
	assert_int_equal(f->rec.n, 0);
	run(f, NULL, 0, 0.2);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].type, DET_EV_UNBAN);
	assert_int_equal(f->rec.ev[0].attack_id, 3);
	assert_int_equal(det_engine_bans(f->e, out, 2), 0);
	fx_free(f);
}

/* Traffic to a restored host ban: no second attack on it, and it is extended while it goes on. */
static void test_restored_ban_ties_to_traffic(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000);
	struct det_ban_info b = ban(8, "192.0.2.10/32", 0, false, f->t - 30 * NS, f->t + 2 * NS);
	assert_int_equal(det_engine_restore(f->e, &b, f->t, NULL), 0);
	run(f, "192.0.2.10", 3000, 2.5);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].type, DET_EV_BAN_EXTENDED);
	assert_int_equal(f->rec.ev[0].attack_id, 8);
	struct det_ban_info out[2];
	assert_int_equal(det_engine_bans(f->e, out, 2), 1);
	assert_int_equal(out[0].attack_id, 8);
	assert_true(out[0].rates.v[DET_IN][DET_TOTAL][DET_PPS] > 500);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_keeps_ids_and_times),
		cmocka_unit_test(test_restore_expired_goes_to_history),
		cmocka_unit_test(test_restore_refused),
		cmocka_unit_test(test_restored_ban_ends_on_time),
		cmocka_unit_test(test_restored_ban_ties_to_traffic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
