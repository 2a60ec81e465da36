/* Detection's blackholes held per attack (mitigation/holds.c), against a real speaker's RIB-out
 * (not started): two attacks on one host (incoming and outgoing) hold its route together; an
 * attack inside its covering attack's blackhole is covered and announces nothing; when the
 * covering ban ends first, the host's own route goes out at once and the covering one only
 * after two ticks (the speaker would send one pass's withdrawals first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "mitigation/mit.h"

static const char config[] = "networks: [192.0.2.0/24]\n"
			     "bgp: { local_as: 65001, router_id: 10.0.0.1, peers: [\n"
			     "  { address: 10.0.0.2, remote_as: 65002, local_address: 10.0.0.1 } ] }\n"
			     "mitigation: { action: blackhole }\n"
			     "api: { socket: /tmp/unused.sock, http: \"\" }\n";

struct fixture {
	struct rampart_conf conf;
	struct event_base *base;
	struct bgp_speaker *bgp;
	struct mit *mit;
	char action[16][32]; /* per attack id: the last event's action */
};

static void on_event(void *ctx, const struct mit_event *e)
{
	struct fixture *f = ctx;
	if (e->ev->attack_id < 16 && (e->ev->type == DET_EV_BAN || e->ev->type == DET_EV_UNBAN))
		snprintf(f->action[e->ev->attack_id], sizeof f->action[0], "%s", e->action);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (conf_load_string(config, sizeof config - 1, "test.yaml", &f->conf, err, sizeof err) != 0)
		fail_msg("%s", err);
	f->base = event_base_new();
	f->bgp = bgp_speaker_new(f->base, &f->conf.bgp, err, sizeof err);
	if (!f->bgp)
		fail_msg("%s", err);
	/* no engine: a blackhole needs none, and the events are made here */
	f->mit = mit_new(&(struct mit_deps){.conf = &f->conf, .base = f->base, .bgp = f->bgp});
	assert_non_null(f->mit);
	assert_int_equal(mit_subscribe(f->mit, on_event, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mit_free(f->mit);
	bgp_speaker_free(f->bgp);
	event_base_free(f->base);
	conf_free(&f->conf);
	free(f);
	return 0;
}

static bool announced(struct fixture *f, const char *prefix)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(prefix, &p));
	struct bgp_route_attrs a;
	return bgp_rib_out_get(f->bgp, &p, 0, &a) == 0;
}

static void event(struct fixture *f, enum det_event_type type, uint64_t id, const char *target,
		  enum det_direction dir, uint64_t parent)
{
	struct det_event ev = {.type = type, .attack_id = id, .direction = dir, .parent_attack_id = parent,
			       .hostgroup = 0, .ban_seconds = type == DET_EV_BAN ? 60 : 0};
	assert_true(ip_prefix_parse(target, &ev.target));
	mit_on_detection_event(f->mit, &ev);
}

static const char *mitigation(struct fixture *f, uint64_t id, uint64_t *covering)
{
	return mit_attack_mitigation(f->mit, id, covering);
}

static void test_two_directions_one_route(void **state)
{
	struct fixture *f = *state;
	uint64_t cov;
	event(f, DET_EV_BAN, 1, "192.0.2.30/32", DET_IN, 0);
	event(f, DET_EV_BAN, 2, "192.0.2.30/32", DET_OUT, 0);
	assert_string_equal(f->action[1], "blackhole");
	assert_string_equal(f->action[2], "blackhole");
	assert_string_equal(mitigation(f, 1, &cov), "blackhole");
	assert_string_equal(mitigation(f, 2, &cov), "blackhole");
	assert_true(announced(f, "192.0.2.30/32"));
	assert_int_equal(mit_routes_count(f->mit), 1);
	/* the incoming attack ends: the outgoing one still needs the route */
	event(f, DET_EV_UNBAN, 1, "192.0.2.30/32", DET_IN, 0);
	assert_true(announced(f, "192.0.2.30/32"));
	assert_string_equal(mitigation(f, 1, &cov), "");
	mit_tick(f->mit, 1);
	mit_tick(f->mit, 2);
	assert_true(announced(f, "192.0.2.30/32"));
	/* an unban of an attack that never held it does not take the route from the other */
	event(f, DET_EV_UNBAN, 9, "192.0.2.30/32", DET_IN, 0);
	assert_true(announced(f, "192.0.2.30/32"));
	event(f, DET_EV_UNBAN, 2, "192.0.2.30/32", DET_OUT, 0);
	assert_false(announced(f, "192.0.2.30/32"));
	assert_int_equal(mit_routes_count(f->mit), 0);
}

static void test_covered_and_hand_over(void **state)
{
	struct fixture *f = *state;
	uint64_t cov = 0;
	event(f, DET_EV_BAN, 3, "192.0.2.0/25", DET_IN, 0);
	event(f, DET_EV_BAN, 4, "192.0.2.10/32", DET_IN, 3);
	event(f, DET_EV_BAN, 5, "192.0.2.20/32", DET_OUT, 3);
	event(f, DET_EV_BAN, 6, "192.0.2.200/32", DET_IN, 0); /* outside the /25: its own route */
	assert_true(announced(f, "192.0.2.0/25"));
	assert_false(announced(f, "192.0.2.10/32"));
	assert_false(announced(f, "192.0.2.20/32"));
	assert_true(announced(f, "192.0.2.200/32"));
	assert_string_equal(f->action[4], "covered");
	assert_string_equal(f->action[6], "blackhole");
	assert_string_equal(mitigation(f, 4, &cov), "covered");
	assert_int_equal(cov, 3);
	assert_string_equal(mitigation(f, 3, &cov), "blackhole");
	assert_int_equal(cov, 0);
	/* a covered attack that ends first withdraws nothing */
	event(f, DET_EV_UNBAN, 5, "192.0.2.20/32", DET_OUT, 3);
	assert_string_equal(f->action[5], "covered");
	assert_true(announced(f, "192.0.2.0/25"));
	/* the covering ban ends while 4 goes on: 4's route first, the /25 two ticks later */
	event(f, DET_EV_UNBAN, 3, "192.0.2.0/25", DET_IN, 0);
	assert_true(announced(f, "192.0.2.10/32"));
	assert_true(announced(f, "192.0.2.0/25"));
	assert_string_equal(mitigation(f, 4, &cov), "blackhole");
	assert_int_equal(cov, 0);
	assert_string_equal(mitigation(f, 3, &cov), "");
	mit_tick(f->mit, 1);
	assert_true(announced(f, "192.0.2.0/25"));
	mit_tick(f->mit, 2);
	assert_false(announced(f, "192.0.2.0/25"));
	assert_true(announced(f, "192.0.2.10/32"));
	/* a new attack inside the prefix now has nothing covering it */
	event(f, DET_EV_BAN, 7, "192.0.2.11/32", DET_IN, 3);
	assert_true(announced(f, "192.0.2.11/32"));
	event(f, DET_EV_UNBAN, 4, "192.0.2.10/32", DET_IN, 3);
	assert_false(announced(f, "192.0.2.10/32"));
}

/* The covering ban ends while it is released and banned again: the new ban keeps the route. */
static void test_rebanned_while_released(void **state)
{
	struct fixture *f = *state;
	event(f, DET_EV_BAN, 3, "192.0.2.0/25", DET_IN, 0);
	event(f, DET_EV_BAN, 4, "192.0.2.10/32", DET_IN, 3);
	event(f, DET_EV_UNBAN, 3, "192.0.2.0/25", DET_IN, 0);
	event(f, DET_EV_BAN, 8, "192.0.2.0/25", DET_IN, 0);
	mit_tick(f->mit, 1);
	mit_tick(f->mit, 2);
	assert_true(announced(f, "192.0.2.0/25"));
	assert_true(announced(f, "192.0.2.10/32"));
	event(f, DET_EV_UNBAN, 8, "192.0.2.0/25", DET_IN, 0);
	assert_false(announced(f, "192.0.2.0/25"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_directions_one_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_covered_and_hand_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebanned_while_released, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
