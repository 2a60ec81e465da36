/* The control commands, run against a real engine (no BGP, no storage): what an operator types
 * and what comes back, including every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "api/api.h"
#include "mitigation/mit.h"
#include "rampartd/daemon.h"

static const char config[] = "networks: [192.0.2.0/24, \"2001:db8:10::/48\"]\n"
			     "whitelist: [192.0.2.1/32]\n"
			     "thresholds: { incoming: { pps: 500 } }\n"
			     "detection: { ban_time: 600 }\n"
			     "mitigation: { max_bans: 3 }\n"
			     "api: { socket: /tmp/unused.sock, http: \"\" }\n";

struct fixture {
	struct rampart rp;
	char reply[8192];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (conf_load_string(config, sizeof config - 1, "test.yaml", &f->rp.conf, err, sizeof err) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	f->rp.networks = det_networks_new(&f->rp.conf.detect);
	f->rp.engine = det_engine_new(&f->rp.conf.detect, f->rp.networks);
	f->rp.clock_ns = 1700000000ull * 1000000000ull;
	f->rp.mit = mit_new(&(struct mit_deps){.conf = &f->rp.conf, .networks = f->rp.networks, .engine = f->rp.engine});
	*state = f;
	return f->rp.engine && f->rp.mit ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mit_free(f->rp.mit);
	det_engine_free(f->rp.engine);
	det_networks_free(f->rp.networks);
	conf_free(&f->rp.conf);
	free(f);
	return 0;
}

static uint64_t mit_events(const struct fixture *f)
{
	struct mit_stats ms;
	mit_stats(f->rp.mit, &ms);
	return ms.events;
}

/* Runs line; returns api_command's status and leaves the reply text in f->reply. */
static int run(struct fixture *f, const char *line)
{
	struct evbuffer *out = evbuffer_new();
	int rc = api_command(rd_api_ctx(&f->rp), line, out);
	size_t n = evbuffer_get_length(out);
	if (n >= sizeof f->reply)
		n = sizeof f->reply - 1;
	evbuffer_remove(out, f->reply, n);
	f->reply[n] = '\0';
	evbuffer_free(out);
	return rc;
}

static void test_ban_list_unban(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "ban 192.0.2.10"), 0);
	assert_non_null(strstr(f->reply, "banned 192.0.2.10/32"));
	assert_int_equal(run(f, "ban 2001:db8:10::53 --for 30"), 0);
	assert_non_null(strstr(f->reply, "banned 2001:db8:10::53/128"));
	assert_int_equal(run(f, "bans"), 0);
	assert_non_null(strstr(f->reply, " 192.0.2.10/32 "));
	assert_non_null(strstr(f->reply, " 2001:db8:10::53/128 "));
	assert_non_null(strstr(f->reply, "\n2 active bans\n"));
	assert_int_equal(mit_events(f), 2);

	assert_int_equal(run(f, "unban 192.0.2.10"), 0);
	assert_non_null(strstr(f->reply, "unbanned 192.0.2.10/32"));
	assert_int_equal(run(f, "bans"), 0);
	assert_null(strstr(f->reply, " 192.0.2.10/32 "));
	assert_non_null(strstr(f->reply, "\n1 active bans\n"));
	/* the finished ban stays in the history */
	assert_int_equal(run(f, "attacks"), 0);
	assert_non_null(strstr(f->reply, " 192.0.2.10/32 "));
	assert_non_null(strstr(f->reply, "\n2 attacks\n"));
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "ban 192.0.2.1"), -1);
	assert_non_null(strstr(f->reply, "refused"));
	assert_int_equal(run(f, "ban 198.51.100.7"), -1);
	assert_non_null(strstr(f->reply, "refused"));
	assert_int_equal(run(f, "unban 192.0.2.77"), -1);
	assert_non_null(strstr(f->reply, "not banned"));
	/* max_bans is 3 */
	assert_int_equal(run(f, "ban 192.0.2.11"), 0);
	assert_int_equal(run(f, "ban 192.0.2.12"), 0);
	assert_int_equal(run(f, "ban 192.0.2.13"), 0);
	assert_int_equal(run(f, "ban 192.0.2.14"), -1);
	assert_non_null(strstr(f->reply, "refused"));
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",			 "   ",			   "frobnicate",	     "ban",
		"ban not-an-ip",	 "ban 192.0.2.10 --for",   "ban 192.0.2.10 --for 0", "ban 192.0.2.10 --for -5",
		"ban 192.0.2.10 --for x", "ban 192.0.2.10 --four 5", "unban",		     "unban 1.2.3.4 5",
		"bans now",		 "top sideways",	   "stats please",	     "ban 192.0.2.300",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->reply[0] = '\0';
		int rc = run(f, bad[i]);
		if (rc != -1 || f->reply[0] == '\0')
			fail_msg("'%s' was accepted or got no message: rc %d, '%s'", bad[i], rc, f->reply);
	}
	assert_int_equal(run(f, "frobnicate"), -1);
	assert_non_null(strstr(f->reply, "unknown command 'frobnicate'"));
	char longline[2000];
	memset(longline, 'a', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	assert_int_equal(run(f, longline), -1);
	assert_int_equal(run(f, "bans"), 0);
	assert_non_null(strstr(f->reply, "\n0 active bans\n"));
}

static void test_top_stats_peers_help(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "top"), 0);
	assert_non_null(strstr(f->reply, "hosts tracked"));
	assert_int_equal(run(f, "top out bps 5"), 0);
	assert_non_null(strstr(f->reply, "outgoing"));
	assert_int_equal(run(f, "stats"), 0);
	assert_non_null(strstr(f->reply, "decisions:"));
	assert_int_equal(run(f, "peers"), 0);
	assert_non_null(strstr(f->reply, "no BGP peers"));
	assert_int_equal(run(f, "help"), 0);
	assert_non_null(strstr(f->reply, "unban"));
}

/* What the HTTP token guards and the audit records: everything but the known readers. */
static void test_changes_state(void **state)
{
	(void)state;
	static const char *const readers[] = {"bans", " stats", "top incoming pps 5", "attack 3", "flows 7 --limit 5",
					      "talkers 192.0.2.1", "flowspec list", "flowspec  list", "help", "routes",
					      "exporters", "peers", "attacks"};
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
		if (api_command_changes_state(readers[i]))
			fail_msg("a reader taken as changing state: %s", readers[i]);
	static const char *const writers[] = {"ban 192.0.2.1", "unban 192.0.2.1", "announce route 192.0.2.1/32 next-hop self",
					      "withdraw route 192.0.2.1/32", "neighbor 10.0.0.1 announce route 192.0.2.1/32 next-hop self",
					      "flowspec add dst 192.0.2.1/32 then discard", "flowspec del dst 192.0.2.1/32",
					      "flowspec listx", "bansx", "reload", "frobnicate", ""};
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++)
		if (!api_command_changes_state(writers[i]))
			fail_msg("a command that changes state taken as a reader: %s", writers[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes_state),
		cmocka_unit_test_setup_teardown(test_ban_list_unban, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_top_stats_peers_help, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
