/* rampartd: ExaBGP lines on the control socket, and the route table that keeps each source's
 * claim apart (routes.c). No BGP speaker here: the table is what is checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "api/api.h"
#include "mitigation/mit.h"
#include "rampartd/daemon.h"

static const char config[] = "networks: [192.0.2.0/24]\n"
			     "api: { socket: /tmp/unused.sock, http: \"\" }\n";

struct fixture {
	struct rampart rp;
	char reply[1 << 16];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (conf_load_string(config, sizeof config - 1, "test.yaml", &f->rp.conf, err, sizeof err) != 0)
		return -1;
	f->rp.mit = mit_new(&(struct mit_deps){.conf = &f->rp.conf});
	*state = f;
	return f->rp.mit ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mit_free(f->rp.mit);
	conf_free(&f->rp.conf);
	free(f);
	return 0;
}

static int run(struct fixture *f, const char *line)
{
	struct evbuffer *out = evbuffer_new();
	int rc = api_command(rd_api_ctx(&f->rp), line, out);
	size_t n = evbuffer_get_length(out);
	if (n >= sizeof f->reply)
		n = sizeof f->reply - 1;
	evbuffer_remove(out, f->reply, n);
	f->reply[n] = 0;
	evbuffer_free(out);
	return rc;
}

static bool listed(struct fixture *f, const char *prefix, const char *sources)
{
	assert_int_equal(run(f, "routes"), 0);
	char want[128];
	snprintf(want, sizeof want, "\n%s", prefix);
	const char *at = strstr(f->reply, want);
	if (!at)
		return false;
	at += strlen(want);
	while (*at == ' ')
		at++;
	return !strncmp(at, sources, strlen(sources)) && at[strlen(sources)] == ' ';
}

static void test_socket_lines(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "announce route 192.0.2.10/32 next-hop 10.0.0.1 community 65001:666"), 0);
	assert_string_equal(f->reply, "");
	assert_true(listed(f, "192.0.2.10/32", "operator"));
	assert_non_null(strstr(f->reply, "10.0.0.1"));
	assert_non_null(strstr(f->reply, "65001:666"));
	assert_non_null(strstr(f->reply, "1 routes (no bgp section"));
	/* ExaBGP lines longer than our own 1 KiB command limit still reach the ExaBGP parser */
	char line[3000];
	int n = snprintf(line, sizeof line, "announce attributes next-hop 10.0.0.1 nlri");
	for (int i = 0; i < 150; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, " 198.51.%d.%d/32", i / 200, i % 200 + 1);
	assert_int_equal(run(f, line), 0);
	assert_int_equal(mit_routes_count(f->rp.mit), 151);
	assert_int_equal(run(f, "withdraw attributes nlri 198.51.0.1/32 198.51.0.2/32"), 0);
	assert_int_equal(mit_routes_count(f->rp.mit), 149);
	/* errors name the token; nothing changes */
	assert_int_equal(run(f, "announce route 192.0.2.11/32 nexthop 10.0.0.1"), -1);
	assert_non_null(strstr(f->reply, "'nexthop': unknown attribute"));
	/* every attribute ExaBGP takes on a route is sent now */
	assert_int_equal(run(f, "announce route 192.0.2.11/32 next-hop self origin egp as-path [ 65001 65002 ] "
				"atomic-aggregate aggregator ( 65000:10.0.0.1 ) originator-id 10.0.0.9 "
				"cluster-list [ 10.0.0.1 ] med 5"), 0);
	assert_int_equal(run(f, "withdraw route 192.0.2.11/32"), 0);
	assert_int_equal(run(f, "announce route 192.0.2.11/32 large-community [1:1:1 1:1:2 1:1:3 1:1:4 1:1:5 "
				"1:1:6 1:1:7 1:1:8 1:1:9]"), -1);
	assert_non_null(strstr(f->reply, "more large communities than the speaker carries"));
	assert_int_equal(run(f, "announce flow route destination 192.0.2.1/32 then discard"), -1);
	assert_non_null(strstr(f->reply, "no bgp section"));
	assert_int_equal(run(f, "neighbor 10.0.0.9 announce route 192.0.2.11/32"), -1);
	assert_non_null(strstr(f->reply, "neighbor 10.0.0.9 is not a configured BGP peer"));
	assert_int_equal(run(f, "announce eor"), 0);
	assert_int_equal(mit_routes_count(f->rp.mit), 149);
	/* withdrawing what was never announced is not an error (ExaBGP does not complain either) */
	assert_int_equal(run(f, "withdraw route 203.0.113.1/32"), 0);
	assert_int_equal(run(f, "withdraw route 192.0.2.10/32"), 0);
	assert_false(listed(f, "192.0.2.10/32", "operator"));
}

/* Detection and the API on one prefix: each lets go of its own claim only. */
/* The listing's line for prefix (empty when not listed). */
static const char *line_of(struct fixture *f, const char *prefix)
{
	static char line[512];
	line[0] = 0;
	assert_int_equal(run(f, "routes"), 0);
	char want[128];
	snprintf(want, sizeof want, "\n%s ", prefix);
	const char *at = strstr(f->reply, want);
	if (at) {
		const char *end = strchr(at + 1, '\n');
		size_t n = end ? (size_t)(end - at - 1) : strlen(at + 1);
		snprintf(line, sizeof line, "%.*s", (int)n, at + 1);
	}
	return line;
}

/* Entries share one copy of equal attributes: a route re-announced with other attributes, or
 * withdrawn, must not change what the others say, and a set freed when its last route went can
 * be used again. */
static void test_shared_attributes(void **state)
{
	struct fixture *f = *state;
	for (int i = 1; i <= 3; i++) {
		char l[128];
		snprintf(l, sizeof l, "announce route 192.0.2.%d/32 next-hop 10.0.0.1 community 65001:1", i);
		assert_int_equal(run(f, l), 0);
	}
	assert_int_equal(run(f, "announce route 192.0.2.2/32 next-hop 10.0.0.2 community 65001:2"), 0);
	assert_non_null(strstr(line_of(f, "192.0.2.1/32"), "10.0.0.1"));
	assert_non_null(strstr(line_of(f, "192.0.2.1/32"), "65001:1"));
	assert_non_null(strstr(line_of(f, "192.0.2.2/32"), "10.0.0.2"));
	assert_non_null(strstr(line_of(f, "192.0.2.2/32"), "65001:2"));
	assert_non_null(strstr(line_of(f, "192.0.2.3/32"), "65001:1"));
	assert_int_equal(run(f, "withdraw route 192.0.2.1/32"), 0);
	assert_int_equal(run(f, "withdraw route 192.0.2.3/32"), 0);
	assert_string_equal(line_of(f, "192.0.2.1/32"), "");
	assert_int_equal(run(f, "announce route 192.0.2.4/32 next-hop 10.0.0.1 community 65001:1"), 0);
	assert_non_null(strstr(line_of(f, "192.0.2.4/32"), "10.0.0.1"));
	assert_non_null(strstr(line_of(f, "192.0.2.4/32"), "65001:1"));
	assert_non_null(strstr(line_of(f, "192.0.2.2/32"), "65001:2"));
	assert_int_equal(run(f, "withdraw route 192.0.2.2/32"), 0);
	assert_int_equal(run(f, "announce route 192.0.2.2/32 next-hop 10.0.0.1 community 65001:1"), 0);
	assert_non_null(strstr(line_of(f, "192.0.2.2/32"), "65001:1"));
	assert_non_null(strstr(f->reply, "2 routes"));
}

static void test_conflicts(void **state)
{
	struct fixture *f = *state;
	struct rampart *rp = &f->rp;
	ip_prefix p;
	assert_true(ip_prefix_parse("192.0.2.20/32", &p));
	struct bgp_route_attrs api = {.n_communities = 1, .communities = {65001u << 16 | 666}};
	assert_true(ip_parse("10.0.0.1", &api.next_hop));

	assert_int_equal(mit_route_add(rp->mit, MIT_SRC_API, &p, &api), 0);
	assert_int_equal(mit_route_add(rp->mit, MIT_SRC_DETECT, &p, NULL), 0);
	assert_true(listed(f, "192.0.2.20/32", "detection,api"));
	assert_non_null(strstr(f->reply, "65535:666")); /* detection's attributes while it holds it */
	assert_int_equal(mit_route_del(rp->mit, MIT_SRC_DETECT, &p), 0); /* the unban */
	assert_true(listed(f, "192.0.2.20/32", "api"));
	assert_non_null(strstr(f->reply, "65001:666"));
	assert_null(strstr(f->reply, "65535:666"));
	assert_int_equal(mit_route_del(rp->mit, MIT_SRC_DETECT, &p), -1); /* not detection's any more */

	/* and the other way round: an API withdraw leaves the ban */
	assert_int_equal(mit_route_add(rp->mit, MIT_SRC_DETECT, &p, NULL), 0);
	assert_int_equal(mit_route_del(rp->mit, MIT_SRC_API, &p), 0);
	assert_true(listed(f, "192.0.2.20/32", "detection"));
	assert_int_equal(mit_route_del(rp->mit, MIT_SRC_DETECT, &p), 0);
	assert_int_equal(mit_routes_count(rp->mit), 0);

	/* a dead process takes only its own routes */
	for (int i = 0; i < 5000; i++) {
		ip_prefix q = {.len = 32};
		ip_from_v4_u32(&q.addr, 0x64400000u + (uint32_t)i);
		assert_int_equal(mit_route_add(rp->mit, i % 2 ? MIT_SRC_PROCESS : MIT_SRC_API, &q, &api), 0);
		if (i % 10 == 1)
			assert_int_equal(mit_route_add(rp->mit, MIT_SRC_DETECT, &q, NULL), 0);
	}
	assert_int_equal(mit_routes_count(rp->mit), 5000);
	assert_int_equal(mit_route_del_all(rp->mit, MIT_SRC_PROCESS), 2500);
	assert_int_equal(mit_routes_count(rp->mit), 2500 + 500); /* pipe's, and the banned ones */
	assert_int_equal(mit_route_del_all(rp->mit, MIT_SRC_PROCESS), 0);
	for (int i = 0; i < 5000; i++) { /* every remaining one is still findable after the deletions */
		ip_prefix q = {.len = 32};
		ip_from_v4_u32(&q.addr, 0x64400000u + (uint32_t)i);
		int want = i % 2 == 0 ? 0 : -1;
		assert_int_equal(mit_route_del(rp->mit, MIT_SRC_API, &q), want);
	}
	assert_int_equal(mit_routes_count(rp->mit), 500);
	assert_int_equal(mit_route_del_all(rp->mit, MIT_SRC_DETECT), 500);
	assert_int_equal(mit_routes_count(rp->mit), 0);
}

/* ---- with a speaker (not started: the RIB-out is what is checked, per peer) ---- */

static const char config_bgp[] =
	"networks: [192.0.2.0/24]\n"
	"bgp: { local_as: 65001, router_id: 10.0.0.1, peers: [\n"
	"  { address: 10.0.0.2, remote_as: 65002, local_address: 10.0.0.1 },\n"
	"  { address: 10.0.0.3, remote_as: 65003 } ] }\n"
	"api: { socket: /tmp/unused.sock, http: \"\" }\n";

static int setup_bgp(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (conf_load_string(config_bgp, sizeof config_bgp - 1, "test.yaml", &f->rp.conf, err, sizeof err) != 0)
		fail_msg("%s", err);
	f->rp.base = event_base_new();
	f->rp.bgp = bgp_speaker_new(f->rp.base, &f->rp.conf.bgp, err, sizeof err);
	if (!f->rp.bgp)
		fail_msg("%s", err);
	f->rp.mit = mit_new(&(struct mit_deps){.conf = &f->rp.conf, .base = f->rp.base, .bgp = f->rp.bgp});
	*state = f;
	return f->rp.mit ? 0 : -1;
}

static int teardown_bgp(void **state)
{
	struct fixture *f = *state;
	bgp_speaker_free(f->rp.bgp);
	event_base_free(f->rp.base);
	return teardown(state);
}

/* the first standard community peer i is told for p; 0: announced with none; -1: not announced */
static long at_peer(struct fixture *f, const char *prefix, size_t i)
{
	ip_prefix p;
	assert_true(ip_prefix_parse(prefix, &p));
	struct bgp_route_attrs a;
	if (bgp_rib_out_get(f->rp.bgp, &p, i, &a) != 0)
		return -1;
	return a.n_communities ? (long)a.communities[0] : 0;
}

#define C(a, b) ((long)((uint32_t)(a) << 16 | (b)))

static void test_neighbor_selection(void **state)
{
	struct fixture *f = *state;
	const char *P = "192.0.2.30/32";
	assert_int_equal(run(f, "neighbor 10.0.0.2 announce route 192.0.2.30/32 next-hop 10.0.0.1 community 65001:1"), 0);
	assert_int_equal(at_peer(f, P, 0), C(65001, 1));
	assert_int_equal(at_peer(f, P, 1), -1);
	assert_true(listed(f, P, "operator (per peer)"));
	/* the same prefix to the other peer with other attributes */
	assert_int_equal(run(f, "neighbor 10.0.0.3 announce route 192.0.2.30/32 next-hop 10.0.0.1 community 65001:2"), 0);
	assert_int_equal(at_peer(f, P, 0), C(65001, 1));
	assert_int_equal(at_peer(f, P, 1), C(65001, 2));
	/* a ban covers every peer with detection's attributes; the unban gives each its own back */
	ip_prefix p;
	assert_true(ip_prefix_parse(P, &p));
	assert_int_equal(mit_route_add(f->rp.mit, MIT_SRC_DETECT, &p, NULL), 0);
	assert_int_equal(at_peer(f, P, 0), (long)BGP_COMMUNITY_BLACKHOLE);
	assert_int_equal(at_peer(f, P, 1), (long)BGP_COMMUNITY_BLACKHOLE);
	assert_int_equal(mit_route_del(f->rp.mit, MIT_SRC_DETECT, &p), 0);
	assert_int_equal(at_peer(f, P, 0), C(65001, 1));
	assert_int_equal(at_peer(f, P, 1), C(65001, 2));
	/* withdrawn at one peer only */
	assert_int_equal(run(f, "neighbor 10.0.0.2 withdraw route 192.0.2.30/32"), 0);
	assert_int_equal(at_peer(f, P, 0), -1);
	assert_int_equal(at_peer(f, P, 1), C(65001, 2));
	/* no selection: every peer, one set of attributes; then a selective withdraw */
	assert_int_equal(run(f, "announce route 192.0.2.30/32 next-hop 10.0.0.1 community 65001:3"), 0);
	assert_int_equal(at_peer(f, P, 0), C(65001, 3));
	assert_int_equal(at_peer(f, P, 1), C(65001, 3));
	assert_true(listed(f, P, "operator"));
	assert_int_equal(run(f, "neighbor 10.0.0.3 withdraw route 192.0.2.30/32"), 0);
	assert_int_equal(at_peer(f, P, 0), C(65001, 3));
	assert_int_equal(at_peer(f, P, 1), -1);
	assert_int_equal(run(f, "withdraw route 192.0.2.30/32"), 0);
	assert_int_equal(at_peer(f, P, 0), -1);
	assert_int_equal(bgp_rib_out_count(f->rp.bgp), 0);
	assert_int_equal(mit_routes_count(f->rp.mit), 0);

	/* selectors: every one given must match the configured peer */
	assert_int_equal(run(f, "neighbor 10.0.0.2 local-ip 10.0.0.1 local-as 65001 peer-as 65002 router-id 10.0.0.1 "
				"family-allowed in-open announce route 192.0.2.31/32 next-hop 10.0.0.1"), 0);
	assert_int_equal(at_peer(f, "192.0.2.31/32", 0), 0);
	assert_int_equal(at_peer(f, "192.0.2.31/32", 1), -1);
	assert_int_equal(run(f, "neighbor 10.0.0.2 family-allowed ipv4-unicast/ipv6-unicast withdraw route 192.0.2.31/32"), 0);
	assert_int_equal(at_peer(f, "192.0.2.31/32", 0), -1);
	assert_int_equal(run(f, "neighbor 10.0.0.2 peer-as 65009 announce route 192.0.2.32/32"), -1);
	assert_non_null(strstr(f->reply, "neighbor 10.0.0.2: peer-as does not match the configured peer"));
	assert_int_equal(run(f, "neighbor 10.0.0.3 local-ip 10.0.0.1 announce route 192.0.2.32/32"), -1);
	assert_non_null(strstr(f->reply, "local-ip (the peer has no local_address configured)"));
	assert_int_equal(run(f, "neighbor 10.0.0.2 local-as 65000 announce route 192.0.2.32/32"), -1);
	assert_non_null(strstr(f->reply, "local-as does not match"));
	assert_int_equal(run(f, "neighbor 10.0.0.2 family-allowed ipv4-flow announce route 192.0.2.32/32"), -1);
	assert_non_null(strstr(f->reply, "family-allowed does not match"));
	assert_int_equal(run(f, "neighbor 10.0.0.2 , neighbor 10.0.0.9 announce route 192.0.2.32/32"), -1);
	assert_non_null(strstr(f->reply, "neighbor 10.0.0.9 is not a configured BGP peer"));
	assert_int_equal(at_peer(f, "192.0.2.32/32", 0), -1); /* nothing half done */
	/* both named: the same as no selection */
	assert_int_equal(run(f, "neighbor 10.0.0.2 , neighbor 10.0.0.3 announce route 192.0.2.32/32 next-hop 10.0.0.1"), 0);
	assert_int_equal(at_peer(f, "192.0.2.32/32", 1), 0);
	assert_true(listed(f, "192.0.2.32/32", "operator"));
	/* flow routes go to every peer: a strict subset is refused, all of them accepted */
	assert_int_equal(run(f, "neighbor 10.0.0.2 announce flow route destination 192.0.2.1/32 then discard"), -1);
	assert_non_null(strstr(f->reply, "flow routes go to every peer"));
	assert_int_equal(run(f, "neighbor 10.0.0.2 , neighbor 10.0.0.3 announce flow route destination 192.0.2.1/32 "
				"then discard"), 0);
	assert_int_equal(bgp_flow_count(f->rp.bgp), 1);
}

/* ExaBGP's watchdog groups (exabgp/rib/outgoing.py): `withdraw watchdog NAME` takes the group's
 * routes out of the table (so from the peers), `announce watchdog NAME` puts them back; a route
 * that says `withdraw` starts held; `withdraw route` takes a route out of its group for good. */
static void test_watchdog(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "announce route 192.0.2.20/32 next-hop 10.0.0.1 watchdog web"), 0);
	assert_int_equal(run(f, "announce route 192.0.2.21/32 next-hop 10.0.0.1 name a watchdog web"), 0);
	assert_int_equal(run(f, "announce route 192.0.2.22/32 next-hop 10.0.0.1 watchdog dns withdraw"), 0);
	assert_int_equal(run(f, "announce route 192.0.2.23/32 next-hop 10.0.0.1"), 0);
	assert_true(listed(f, "192.0.2.20/32", "operator"));
	assert_true(listed(f, "192.0.2.21/32", "operator"));
	assert_false(listed(f, "192.0.2.22/32", "operator")); /* held back */

	assert_int_equal(run(f, "withdraw watchdog web"), 0);
	assert_false(listed(f, "192.0.2.20/32", "operator"));
	assert_false(listed(f, "192.0.2.21/32", "operator"));
	assert_false(listed(f, "192.0.2.22/32", "operator"));
	assert_true(listed(f, "192.0.2.23/32", "operator")); /* in no group */
	assert_int_equal(run(f, "withdraw watchdog web"), 0);   /* again: nothing to do */
	assert_int_equal(run(f, "withdraw watchdog nosuch"), 0); /* unknown: nothing, as ExaBGP */

	assert_int_equal(run(f, "announce watchdog dns"), 0);
	assert_true(listed(f, "192.0.2.22/32", "operator"));
	assert_false(listed(f, "192.0.2.20/32", "operator")); /* another group */
	/* with the same attributes as announced */
	assert_int_equal(run(f, "announce watchdog web"), 0);
	assert_true(listed(f, "192.0.2.20/32", "operator"));
	assert_true(listed(f, "192.0.2.21/32", "operator"));
	assert_non_null(strstr(f->reply, "10.0.0.1"));

	/* a group has no state of its own: announced into a withdrawn group, a route goes out */
	assert_int_equal(run(f, "withdraw watchdog web"), 0);
	assert_int_equal(run(f, "announce route 192.0.2.24/32 next-hop 10.0.0.1 watchdog web"), 0);
	assert_true(listed(f, "192.0.2.24/32", "operator"));
	/* withdraw route: out of the group, not brought back */
	assert_int_equal(run(f, "withdraw route 192.0.2.24/32"), 0);
	assert_int_equal(run(f, "announce watchdog web"), 0);
	assert_false(listed(f, "192.0.2.24/32", "operator"));
	assert_true(listed(f, "192.0.2.20/32", "operator"));
	/* announced again without a watchdog: no longer the group's */
	assert_int_equal(run(f, "announce route 192.0.2.20/32 next-hop 10.0.0.2"), 0);
	assert_int_equal(run(f, "withdraw watchdog web"), 0);
	assert_true(listed(f, "192.0.2.20/32", "operator"));
	assert_false(listed(f, "192.0.2.21/32", "operator"));

	/* errors */
	assert_int_equal(run(f, "announce watchdog"), -1);
	assert_non_null(strstr(f->reply, "expected a watchdog name"));
	assert_int_equal(run(f, "announce watchdog withdraw"), -1);
	assert_int_equal(run(f, "announce watchdog a b"), -1);
	assert_non_null(strstr(f->reply, "nothing may follow"));
	assert_int_equal(run(f, "announce route 192.0.2.25/32 next-hop 10.0.0.1 watchdog"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_neighbor_selection, setup_bgp, teardown_bgp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
