/* actions/notify.c: FastNetMon's argv and stdin, failures counted, a hung script killed at its
 * timeout, the concurrency bound (later calls wait, none lost), and the loop never blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "actions/act.h"

/* ev as mitigation hands it on: no hostgroup, fingerprint or sample file */
static const struct mit_event *mitigated(const struct det_event *ev)
{
	static struct mit_event e;
	e = (struct mit_event){.type = mit_event_type_of(ev->type), .ev = ev, .action = "blackhole", .hostgroup = "", .trigger = "", .samples_path = ""};
	return &e;
}

static char dir[64];

static void script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct det_event ban_event(const char *ip, enum det_event_type type)
{
	struct det_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.attack_id = 7;
	ip_addr a;
	assert_true(ip_parse(ip, &a));
	ip_prefix_host(&ev.target, &a);
	ev.direction = DET_IN;
	ev.hostgroup = -1;
	ev.rates.v[DET_IN][DET_TOTAL][DET_PPS] = 12345.4;
	return ev;
}

/* Runs the loop until every call finished (or limit seconds). */
static struct act_notify_stats settle(struct event_base *base, struct act_notify *n, double limit)
{
	struct act_notify_stats st;
	double end = mono() + limit;
	struct timeval tick = {0, 20000};
	do {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
		act_notify_stats(n, &st);
	} while ((st.running || st.queued) && mono() < end);
	return st;
}

static void test_args_stdin_and_queue(void **state)
{
	(void)state;
	char path[128], out[128];
	snprintf(path, sizeof path, "%s/ok.sh", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	char body[512];
	snprintf(body, sizeof body, "{ echo \"$@\"; cat; echo; } >>%s.$$; sleep 1", out);
	script(path, body);
	struct event_base *base = event_base_new();
	struct conf_actions cfg = {.notify_timeout_s = 5, .notify_max_running = 2};
	snprintf(cfg.notify_script, sizeof cfg.notify_script, "%s", path);
	struct act_notify *n = act_notify_new(base, &cfg);
	assert_non_null(n);
	double t0 = mono();
	for (int i = 0; i < 5; i++) {
		struct det_event ev = ban_event("192.0.2.10", i % 2 ? DET_EV_UNBAN : DET_EV_BAN);
		act_notify_event(n, mitigated(&ev));
	}
	struct det_event other = ban_event("192.0.2.10", DET_EV_ATTACK_DETECTED);
	act_notify_event(n, mitigated(&other)); /* not a ban or unban: no call */
	assert_true(mono() - t0 < 0.5); /* five calls of a 1 s script did not wait for it */
	struct act_notify_stats st;
	act_notify_stats(n, &st);
	assert_int_equal(st.running, 2);
	assert_int_equal(st.queued, 3);
	st = settle(base, n, 10);
	assert_int_equal(st.started, 5);
	assert_int_equal(st.ok, 5);
	assert_int_equal(st.failed, 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "cat %s.* | grep -c '^192.0.2.10 incoming 12345 ban$'", out);
	FILE *p = popen(cmd, "r");
	int bans = 0;
	assert_int_equal(fscanf(p, "%d", &bans), 1);
	pclose(p);
	assert_int_equal(bans, 3);
	snprintf(cmd, sizeof cmd, "cat %s.* | grep -c '^192.0.2.10 incoming 12345 unban$'", out);
	p = popen(cmd, "r");
	int unbans = 0;
	assert_int_equal(fscanf(p, "%d", &unbans), 1);
	pclose(p);
	assert_int_equal(unbans, 2);
	snprintf(cmd, sizeof cmd, "cat %s.* | grep -c '^Attack direction: incoming$'", out);
	p = popen(cmd, "r");
	int details = 0;
	assert_int_equal(fscanf(p, "%d", &details), 1);
	pclose(p);
	assert_int_equal(details, 3); /* details for bans only, as FastNetMon */
	act_notify_free(n);
	event_base_free(base);
}

static void test_failures_and_timeout(void **state)
{
	(void)state;
	char fail_path[128], hang_path[128];
	snprintf(fail_path, sizeof fail_path, "%s/fail.sh", dir);
	snprintf(hang_path, sizeof hang_path, "%s/hang.sh", dir);
	script(fail_path, "exit 3");
	script(hang_path, "exec sleep 30");
	struct det_event ev = ban_event("2001:db8:10::53", DET_EV_BAN);

	struct event_base *base = event_base_new();
	struct conf_actions cfg = {.notify_timeout_s = 1, .notify_max_running = 4};
	snprintf(cfg.notify_script, sizeof cfg.notify_script, "%s", fail_path);
	struct act_notify *n = act_notify_new(base, &cfg);
	act_notify_event(n, mitigated(&ev));
	struct act_notify_stats st = settle(base, n, 5);
	assert_int_equal(st.started, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.ok, 0);
	act_notify_free(n);

	snprintf(cfg.notify_script, sizeof cfg.notify_script, "%s/missing.sh", dir);
	n = act_notify_new(base, &cfg);
	act_notify_event(n, mitigated(&ev));
	st = settle(base, n, 5);
	assert_int_equal(st.failed, 1); /* cannot run: counted, nothing hangs */
	act_notify_free(n);

	snprintf(cfg.notify_script, sizeof cfg.notify_script, "%s", hang_path);
	n = act_notify_new(base, &cfg);
	double t0 = mono();
	act_notify_event(n, mitigated(&ev));
	st = settle(base, n, 5);
	double took = mono() - t0;
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.running, 0);
	assert_true(took >= 0.9 && took < 3);
	act_notify_free(n);
	event_base_free(base);

	/* no script configured: no notifier, and a NULL one takes calls harmlessly */
	struct conf_actions none = {0};
	assert_null(act_notify_new(NULL, &none));
	act_notify_event(NULL, mitigated(&ev));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/rampart-notify.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_stdin_and_queue),
		cmocka_unit_test(test_failures_and_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
