/* bgp/exabgp.c: ExaBGP API lines as FastNetMon, ExaBGP's own examples and scripts write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/exabgp.h"
#include "flowspec/fs.h"

static struct bgp_exa_cmd *parse_ok(const char *line)
{
	static struct bgp_exa_cmd c;
	struct bgp_exa_err err = {{0}};
	if (!bgp_exa_parse(line, &c, &err))
		fail_msg("'%s' refused: %s", line, err.msg);
	return &c;
}

static void parse_err(const char *line, const char *want)
{
	struct bgp_exa_cmd *c = malloc(sizeof *c);
	struct bgp_exa_err err = {{0}};
	if (bgp_exa_parse(line, c, &err))
		fail_msg("'%s' accepted, expected an error containing '%s'", line, want);
	if (!strstr(err.msg, want))
		fail_msg("'%s': error '%s' does not contain '%s'", line, err.msg, want);
	free(c);
}

static void assert_prefix(const ip_prefix *p, const char *want)
{
	char buf[IP_PREFIX_STRLEN];
	assert_string_equal(ip_prefix_format(p, buf), want);
}

static void assert_ip(const ip_addr *a, const char *want)
{
	char buf[IP_STRLEN];
	assert_string_equal(ip_format(a, buf), want);
}

/* The exact line FastNetMon's ExaBGP integration writes to the pipe (exabgp_announce_whole_subnet
 * off, community from exabgp_community). */
static void test_fastnetmon(void **state)
{
	(void)state;
	struct bgp_exa_cmd *c = parse_ok("announce route 192.0.2.10/32 next-hop 10.0.0.1 community 65001:666");
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	assert_int_equal(c->kind, BGP_EXA_ROUTE);
	assert_int_equal(c->n_nlri, 1);
	assert_prefix(&c->nlri[0], "192.0.2.10/32");
	assert_true(c->a.has_next_hop);
	assert_ip(&c->a.attrs.next_hop, "10.0.0.1");
	assert_int_equal(c->a.attrs.n_communities, 1);
	assert_int_equal(c->a.attrs.communities[0], 65001u << 16 | 666);
	assert_int_equal(c->n_neighbors, 0);

	c = parse_ok("withdraw route 192.0.2.10/32 next-hop 10.0.0.1\n");
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);
	assert_prefix(&c->nlri[0], "192.0.2.10/32");

	/* FastNetMon's IPv6 form and a list of communities */
	c = parse_ok("announce route 2001:db8::10/128 next-hop 2001:db8::1 community [65001:666 65535:666]");
	assert_prefix(&c->nlri[0], "2001:db8::10/128");
	assert_ip(&c->a.attrs.next_hop, "2001:db8::1");
	assert_int_equal(c->a.attrs.n_communities, 2);
	assert_int_equal(c->a.attrs.communities[1], BGP_COMMUNITY_BLACKHOLE);
}

static void test_attributes(void **state)
{
	(void)state;
	struct bgp_exa_cmd *c = parse_ok(
		"announce route 198.51.100.0/24 next-hop self origin incomplete as-path [ 65000 4200000000 ] "
		"med 50 local-preference 200 community [no-export blackhole 65000:1 65000:1] "
		"large-community [65000:1:2 4200000000:3:4] extended-community [target:65000:7 origin:192.0.2.1:9 "
		"redirect:65000:100 rate-limit:0 0x0002fde800000001 65001:5] atomic-aggregate;");
	struct bgp_exa_attrs *a = &c->a;
	assert_true(a->has_next_hop);
	assert_true(ip_is_zero(&a->attrs.next_hop));
	assert_true(a->has_origin);
	assert_int_equal(a->origin, BGP_EXA_ORIGIN_INCOMPLETE);
	assert_int_equal(a->n_as_path, 2);
	assert_int_equal(a->as_path[1], 4200000000u);
	assert_true(a->attrs.has_med);
	assert_int_equal(a->attrs.med, 50);
	assert_true(a->has_local_pref);
	assert_int_equal(a->attrs.local_pref, 200);
	assert_int_equal(a->attrs.n_communities, 3); /* the repeat is dropped */
	assert_int_equal(a->attrs.communities[0], BGP_COMMUNITY_NO_EXPORT);
	assert_int_equal(a->attrs.communities[1], BGP_COMMUNITY_BLACKHOLE);
	assert_int_equal(a->n_large, 2);
	assert_int_equal(a->large[1].global, 4200000000u);
	assert_int_equal(a->large[1].local2, 4);
	assert_int_equal(a->n_extended, 6);
	assert_true(a->extended[0] == 0x0002FDE800000007ull);
	assert_true(a->extended[1] == 0x0103C00002010009ull);
	assert_true(a->extended[2] == 0x8008FDE800000064ull);
	assert_true(a->extended[3] == 0x8006000000000000ull);
	assert_true(a->extended[4] == 0x0002FDE800000001ull);
	assert_true(a->extended[5] == 0x0002FDE900000005ull);
	assert_true(a->atomic_aggregate);

	/* single values without brackets, 4-byte ASN route target */
	c = parse_ok("announce route 10.0.0.0/8 next-hop 192.0.2.1 as-path 65000 community 666 "
		     "extended-community target:4200000000:1 large-community 1:2:3");
	assert_int_equal(c->a.n_as_path, 1);
	assert_int_equal(c->a.attrs.communities[0], 666);
	assert_true(c->a.extended[0] == 0x0202FA56EA000001ull);
	/* brackets glued to values, commas inside a list */
	c = parse_ok("announce route 10.0.0.0/8 next-hop 192.0.2.1 community [65000:1,65000:2]");
	assert_int_equal(c->a.attrs.n_communities, 2);
	/* no next-hop: self */
	c = parse_ok("announce route 203.0.113.7");
	assert_prefix(&c->nlri[0], "203.0.113.7/32");
	assert_false(c->a.has_next_hop);
	/* ExaBGP 4's family-first form */
	c = parse_ok("announce ipv6 unicast 2001:db8:1::/48 next-hop 2001:db8::2");
	assert_prefix(&c->nlri[0], "2001:db8:1::/48");
	/* an IPv6 next hop for an IPv4 prefix is RFC 8950's; the speaker sends it where negotiated */
	c = parse_ok("announce route 153.153.153.153 next-hop BAD:CAFE:BAD:CAFE:BAD:CAFE:BAD:CAFE");
	assert_prefix(&c->nlri[0], "153.153.153.153/32");
	assert_true(c->a.has_next_hop);
	assert_false(ip_is_v4(&c->a.attrs.next_hop));
	/* ExaBGP's watchdog: the route's group, and `withdraw` holds it there instead of withdrawing */
	c = parse_ok("announce route 77.77.77.77 next-hop 1.2.3.4 watchdog dnsr withdraw");
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	assert_string_equal(c->a.watchdog, "dnsr");
	assert_true(c->a.watchdog_withdrawn);
	c = parse_ok("announce route 77.77.77.77 next-hop 1.2.3.4 withdraw");
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);
	c = parse_ok("announce route 77.77.77.77 next-hop 1.2.3.4");
	assert_string_equal(c->a.watchdog, "");
	c = parse_ok("withdraw watchdog dnsr");
	assert_int_equal(c->kind, BGP_EXA_WATCHDOG);
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);
	assert_string_equal(c->a.watchdog, "dnsr");
	c = parse_ok("neighbor * announce watchdog dnsr");
	assert_int_equal(c->kind, BGP_EXA_WATCHDOG);
	parse_err("announce watchdog", "expected a watchdog name");
	parse_err("announce watchdog announce", "'announce' is not a watchdog name");
	parse_err("announce watchdog x y", "nothing may follow the watchdog name");
	parse_err("announce route 1.2.3.4/32 watchdog "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "watchdog name longer than 63");
}

static void test_attributes_nlri(void **state)
{
	(void)state;
	struct bgp_exa_cmd *c = parse_ok("announce attributes next-hop 10.0.0.1 community 65535:666 nlri 192.0.2.1/32 "
					 "192.0.2.2/32 192.0.2.3 198.51.100.0/24");
	assert_int_equal(c->kind, BGP_EXA_ROUTE);
	assert_int_equal(c->n_nlri, 4);
	assert_prefix(&c->nlri[2], "192.0.2.3/32");
	assert_prefix(&c->nlri[3], "198.51.100.0/24");
	assert_int_equal(c->a.attrs.communities[0], BGP_COMMUNITY_BLACKHOLE);
	c = parse_ok("withdraw attributes nlri 192.0.2.1/32 192.0.2.2/32");
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);
	assert_int_equal(c->n_nlri, 2);

	/* the longest line: as many /32s as fit in 4096 bytes */
	char line[BGP_EXA_LINE_MAX + 1];
	int n = snprintf(line, sizeof line, "announce attributes next-hop 10.0.0.1 nlri");
	size_t count = 0;
	while (n + 16 < BGP_EXA_LINE_MAX) {
		n += snprintf(line + n, sizeof line - (size_t)n, " 10.1.%zu.%zu/32", count / 250, count % 250 + 1);
		count++;
	}
	c = parse_ok(line);
	assert_int_equal(c->n_nlri, count);
	char last[32];
	snprintf(last, sizeof last, "10.1.%zu.%zu/32", (count - 1) / 250, (count - 1) % 250 + 1);
	assert_prefix(&c->nlri[count - 1], last);
	assert_true(count > 250);
}

static void test_neighbors_and_eor(void **state)
{
	(void)state;
	struct bgp_exa_cmd *c = parse_ok("neighbor 10.0.0.2 announce route 192.0.2.1/32 next-hop 10.0.0.1");
	assert_int_equal(c->n_neighbors, 1);
	assert_ip(&c->neighbors[0], "10.0.0.2");
	c = parse_ok("neighbor 10.0.0.2 local-ip 10.0.0.1 peer-as 65002 , neighbor 2001:db8::2 router-id 1.1.1.1 "
		     "withdraw route 192.0.2.1/32");
	assert_int_equal(c->n_neighbors, 2);
	assert_ip(&c->neighbors[1], "2001:db8::2");
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);

	c = parse_ok("announce eor");
	assert_int_equal(c->kind, BGP_EXA_EOR);
	assert_int_equal(c->eor_afi, 0);
	c = parse_ok("announce eor ipv6 unicast");
	assert_int_equal(c->eor_afi, 2);
	assert_int_equal(c->eor_safi, 1);
	c = parse_ok("announce eor ipv4 flow");
	assert_int_equal(c->eor_safi, 133);
}

static void test_flow(void **state)
{
	(void)state;
	/* ExaBGP's own api-flow example */
	struct bgp_exa_cmd *c = parse_ok("announce flow route { match { source 10.0.0.1/32; destination 192.0.2.1/32; "
					 "destination-port =3128; protocol tcp; } then { discard; } }");
	assert_int_equal(c->kind, BGP_EXA_FLOW);
	assert_int_equal(c->flow.afi, FS_AFI_IPV4);
	assert_true(fs_rule_has(&c->flow, FS_DST));
	assert_prefix(&c->flow.dst.p, "192.0.2.1/32");
	assert_true(fs_rule_has(&c->flow, FS_PROTO));
	assert_true(c->flow_actions.present & FS_ACT_RATE);
	assert_true(c->flow_actions.rate == 0);

	c = parse_ok("neighbor 10.0.0.2 announce flow route destination 2001:db8::1/128 next-header udp "
		     "source-port =53 then rate-limit 1000000");
	assert_int_equal(c->n_neighbors, 1);
	assert_int_equal(c->flow.afi, FS_AFI_IPV6);
	c = parse_ok("withdraw flow route { match { destination 192.0.2.1/32; } }");
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);
	parse_err("announce flow route { match { destination 192.0.2.1/32; } }", "needs an action");
	parse_err("announce flow route { match { destination 192.0.2.1/32; protocol bogus } then { discard; } }",
		  "flow route (from column 10)");
}

static void test_errors(void **state)
{
	(void)state;
	parse_err("", "expected announce or withdraw");
	parse_err("show neighbor", "'show': expected announce or withdraw");
	parse_err("announce", "expected route, attributes, flow, eor or watchdog");
	parse_err("announce rout 1.2.3.4/32", "column 10: 'rout'");
	parse_err("announce route", "expected a prefix");
	parse_err("announce route 1.2.3.4/33 next-hop 1.1.1.1", "'1.2.3.4/33': not a prefix");
	parse_err("announce route 10.0.0.1/8 next-hop 1.1.1.1", "'10.0.0.1/8': not a prefix");
	parse_err("announce route 1.2.3.4/32 next-hop", "'next-hop': expected an address");
	parse_err("announce route 1.2.3.4/32 next-hop 1.2.3", "'1.2.3': next-hop is not");
	/* an IPv4 next hop for an IPv6 prefix has no encoding (RFC 2545 3: 16 or 32 octets) */
	parse_err("announce route 2001:db8:1::/48 next-hop 192.0.2.1", "next-hop 192.0.2.1 is not of the family");
	parse_err("announce route 1.2.3.4/32 next-hopp 1.1.1.1", "'next-hopp': unknown attribute");
	parse_err("announce route 1.2.3.4/32 community 65536:1", "'65536:1': community must be");
	parse_err("announce route 1.2.3.4/32 community [65000:1", "list not closed");
	parse_err("announce route 1.2.3.4/32 community []", "empty list");
	parse_err("announce route 1.2.3.4/32 community [[1]]", "nested list");
	parse_err("announce route 1.2.3.4/32 community", "expected a value");
	parse_err("announce route 1.2.3.4/32 community -1", "'-1': not a community");
	parse_err("announce route 1.2.3.4/32 large-community 1:2", "'1:2': large community");
	parse_err("announce route 1.2.3.4/32 extended-community foo:1:2", "'foo:1:2': unknown extended");
	parse_err("announce route 1.2.3.4/32 extended-community 0x12", "not an extended community");
	parse_err("announce route 1.2.3.4/32 med 4294967296", "'4294967296': med is a number");
	parse_err("announce route 1.2.3.4/32 local-preference x", "'x': local-preference is a number");
	parse_err("announce route 1.2.3.4/32 origin bgp", "'bgp': origin is igp");
	parse_err("announce route 1.2.3.4/32 as-path [65000 (65001)]", "AS_SET");
	parse_err("announce route 1.2.3.4/32 as-path [65000 0]", "RFC 7607");
	parse_err("announce route 1.2.3.4/32 path-information 1.2.3.4", "not supported by Rampart");
	parse_err("announce attributes next-hop 1.1.1.1", "expected 'nlri'");
	parse_err("announce attributes next-hop 1.1.1.1 nlri", "'nlri': expected at least one prefix");
	parse_err("announce ipv4 unicast 2001:db8::/32 next-hop 1.1.1.1", "not of this family");
	parse_err("announce ipv4 mpls-vpn 1.0.0.0/8", "only unicast");
	parse_err("withdraw eor", "End-of-RIB is announced");
	parse_err("announce eor ipv5 unicast", "'ipv5': AFI is");
	parse_err("announce eor ipv4 unicast extra", "nothing may follow");
	parse_err("neighbor announce route 1.2.3.4/32", "'announce': neighbor is not an IP");
	parse_err("neighbor 10.0.0.1 , announce route 1.2.3.4/32", "expected 'neighbor' after ','");
	parse_err("announce route 1.2.3.4/32 community \x01", "byte 0x01");
	char big[BGP_EXA_LINE_MAX + 10];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	parse_err(big, "line longer than");
}

/* The attributes ExaBGP 4.2 takes on a route beyond communities, in its own spellings
 * (exabgp/configuration/static/parser.py): aggregator with the parentheses glued or apart,
 * originator-id, cluster-list bare or in brackets, and every neighbor selector kept. */
static void test_more_attributes_and_selectors(void **state)
{
	(void)state;
	struct bgp_exa_cmd *c = parse_ok("announce route 192.0.2.1/32 next-hop 10.0.0.1 origin incomplete "
					 "as-path [ 65010 4200000001 ] atomic-aggregate aggregator ( 65000:10.0.0.1 ) "
					 "originator-id 10.0.0.9 cluster-list [ 10.0.0.1 10.0.0.2 ]");
	assert_int_equal(c->a.origin, BGP_EXA_ORIGIN_INCOMPLETE);
	assert_int_equal(c->a.n_as_path, 2);
	assert_int_equal(c->a.as_path[1], 4200000001u);
	assert_true(c->a.atomic_aggregate);
	assert_true(c->a.attrs.has_aggregator);
	assert_int_equal(c->a.attrs.aggregator_as, 65000);
	assert_int_equal(c->a.attrs.aggregator_id, 0x0a000001);
	assert_true(c->a.attrs.has_originator_id);
	assert_int_equal(c->a.attrs.originator_id, 0x0a000009);
	assert_int_equal(c->a.attrs.n_cluster_list, 2);
	assert_int_equal(c->a.attrs.cluster_list[1], 0x0a000002);
	static const char *const aggs[] = {"(65000:10.0.0.1)", "( 65000:10.0.0.1)", "(65000:10.0.0.1 )",
					   "65000:10.0.0.1", NULL};
	for (size_t i = 0; aggs[i]; i++) {
		char line[128];
		snprintf(line, sizeof line, "announce route 192.0.2.1/32 aggregator %s med 7", aggs[i]);
		c = parse_ok(line);
		assert_int_equal(c->a.attrs.aggregator_as, 65000);
		assert_int_equal(c->a.attrs.med, 7);
	}
	c = parse_ok("announce attributes cluster-list 10.0.0.3 nlri 192.0.2.1/32 192.0.2.2/32");
	assert_int_equal(c->a.attrs.n_cluster_list, 1);
	assert_int_equal(c->n_nlri, 2);
	parse_err("announce route 192.0.2.1/32 aggregator ( 65000:10.0.0.1", "expected ')'");
	parse_err("announce route 192.0.2.1/32 aggregator 65000:10.0.0.1)", "')' without '('");
	parse_err("announce route 192.0.2.1/32 aggregator 65000", "aggregator is ASN:IPV4");
	parse_err("announce route 192.0.2.1/32 aggregator 65000:2001:db8::1", "aggregator is ASN:IPV4");
	parse_err("announce route 192.0.2.1/32 originator-id 7", "originator-id is an IPv4 address");
	parse_err("announce route 192.0.2.1/32 cluster-list [ ]", "empty list");
	parse_err("announce route 192.0.2.1/32 cluster-list [ 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 "
		  "1.1.1.7 1.1.1.8 1.1.1.9 ]", "cluster-list longer than 8");

	c = parse_ok("neighbor 10.0.0.2 local-ip 10.0.0.1 local-as 65001 peer-as 65002 router-id 10.0.0.1 "
		     "family-allowed ipv4-unicast/ipv6-unicast , neighbor 10.0.0.3 family-allowed in-open "
		     "announce route 192.0.2.1/32 next-hop self");
	assert_int_equal(c->n_neighbors, 2);
	const struct bgp_exa_neighbor *n = &c->sel[0];
	assert_ip(&n->address, "10.0.0.2");
	assert_true(n->has_local_ip && n->has_local_as && n->has_peer_as && n->has_router_id && n->has_families);
	assert_ip(&n->local_ip, "10.0.0.1");
	assert_int_equal(n->local_as, 65001);
	assert_int_equal(n->peer_as, 65002);
	assert_int_equal(n->router_id, 0x0a000001);
	assert_int_equal(n->families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST);
	assert_false(n->in_open);
	assert_true(c->sel[1].in_open);
	assert_false(c->sel[1].has_peer_as);
	c = parse_ok("neighbor 10.0.0.2 announce route 192.0.2.1/32");
	assert_false(c->sel[0].has_local_ip || c->sel[0].has_peer_as || c->sel[0].has_families);
	parse_err("neighbor 10.0.0.2 peer-as sixty announce route 192.0.2.1/32", "peer-as is an AS number");
	parse_err("neighbor 10.0.0.2 local-ip 10.0.0 announce route 192.0.2.1/32", "local-ip is an IP address");
	parse_err("neighbor 10.0.0.2 router-id ::1 announce route 192.0.2.1/32", "router-id is an IPv4 address");
	parse_err("neighbor 10.0.0.2 family-allowed ipv4-mpls announce route 192.0.2.1/32", "family-allowed is");
	parse_err("neighbor 10.0.0.2 peer-as", "expected a value after it");
}

/* ExaBGP QA spellings (../shared/data/external/exabgp/unicast_vectors.tsv), with the octets
 * ExaBGP sent for them. */
static void test_exabgp_qa_spellings(void **state)
{
	(void)state;
	/* neighbor * (ExaBGP's healthcheck): every peer, as no selection */
	struct bgp_exa_cmd *c = parse_ok("neighbor * announce route 10.0.0.1/32 next-hop self origin igp "
					 "local-preference 100");
	assert_int_equal(c->n_neighbors, 0);
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	c = parse_ok("neighbor * withdraw route 10.0.0.1/32 next-hop self");
	assert_int_equal(c->n_neighbors, 0);
	assert_int_equal(c->verb, BGP_EXA_WITHDRAW);
	c = parse_ok("neighbor 10.0.0.2 , neighbor * announce route 10.0.0.1/32");
	assert_int_equal(c->n_neighbors, 0);
	parse_err("neighbor * local-as 1 announce route 10.0.0.1/32", "expected announce or withdraw");

	/* name and watchdog: accepted, nothing sent for them; withdraw: the route starts withdrawn,
	 * held in its watchdog group (the daemon's business) */
	c = parse_ok("announce route 1.0.0.0/24 next-hop 1.2.3.4 name this-is-a-test-route");
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	assert_int_equal(c->n_nlri, 1);
	c = parse_ok("announce route 77.77.77.77 next-hop 1.2.3.4 watchdog dnsr");
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	c = parse_ok("announce route 77.77.77.77 next-hop 1.2.3.4 watchdog dnsr withdraw");
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	assert_true(c->a.watchdog_withdrawn);
	assert_prefix(&c->nlri[0], "77.77.77.77/32");
	parse_err("announce route 1.0.0.0/24 next-hop 1.2.3.4 name", "expected a name after 'name'");
	parse_err("announce route 1.0.0.0/24 watchdog [ a ]", "expected a name after 'watchdog'");

	/* extended communities: bytes from ExaBGP's conf-extended-attributes / ipv46routes UPDATEs */
	c = parse_ok("announce route 10.0.0.9/32 next-hop 15.15.15.9 extended-community [origin:9000:9.9.9.9]");
	assert_true(c->a.extended[0] == 0x0003232809090909ull);
	c = parse_ok("announce route 10.0.0.10/32 next-hop 15.15.15.10 extended-community [target:1000:10.10.10.10]");
	assert_true(c->a.extended[0] == 0x000203E80A0A0A0Aull);
	c = parse_ok("announce route 193.0.2.1 next-hop 10.0.0.1 extended-community 72:0.0.0.1");
	assert_true(c->a.extended[0] == 0x0002004800000001ull);
	c = parse_ok("announce route 10.0.0.15/32 next-hop 15.15.15.15 extended-community [l2info:1:2:13398:30864]");
	assert_true(c->a.extended[0] == 0x800A010234567890ull);
	/* RFC 5668: the 4-octet-AS form is type 0x02 (ExaBGP main writes 0x01, docs/EXABGP.md) */
	c = parse_ok("announce route 10.0.0.11/32 next-hop 15.15.15.11 extended-community [origin4:71100:11000 "
		     "target4:1:2]");
	assert_true(c->a.extended[0] == 0x0203000115BC2AF8ull);
	assert_true(c->a.extended[1] == 0x0202000000010002ull);
	parse_err("announce route 10.0.0.11/32 extended-community [origin4:1:70000]", "origin4 is ASN:N");
	parse_err("announce route 10.0.0.11/32 extended-community [origin4:1.2.3.4:7]", "origin4 is ASN:N");
	parse_err("announce route 10.0.0.11/32 extended-community [origin:70000:1.2.3.4]", "4-byte ASN");
	parse_err("announce route 10.0.0.15/32 extended-community [l2info:1:2:70000:0]", "l2info is");
	parse_err("announce route 10.0.0.15/32 extended-community [l2info:1:2:3]", "l2info is");

	/* RFC 8092 3: a repeated large community is sent once */
	c = parse_ok("announce route 10.0.0.1/32 next-hop 1.2.3.4 large-community [1:2:3 1:2:3 4:5:6 1:2:3]");
	assert_int_equal(c->a.n_large, 2);
	assert_int_equal(c->a.large[1].global, 4);
}

/* ExaBGP's generic attribute (qa/encoding/conf-generic-attribute): a code with a word becomes
 * that word; any other is kept as on the wire, in type order; session-derived codes, flags that
 * contradict the definition and malformed values are refused. */
static void test_generic_attribute(void **state)
{
	(void)state;
	struct bgp_exa_cmd *c = parse_ok("announce route 100.100.100.100 next-hop 192.168.1.100 attribute [0x04 0x80 0x00000064]");
	assert_true(c->a.attrs.has_med);
	assert_int_equal(c->a.attrs.med, 100);
	assert_int_equal(c->a.attrs.n_raw_attrs, 0);
	c = parse_ok("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [ 0x99 0x70 0x00000064 ] attribute [0x80 0xc0 0x]"
		     " attribute [0x08 0xc0 0xFFFF029A0000000A] attribute [0x20 0xC0 0x000000010000000200000003]");
	/* 0x80 (type 128) with an empty value before 0x99 (153), whose flags ask for a 2-octet length */
	static const uint8_t raw[] = {0xc0, 0x80, 0x00, 0x70, 0x99, 0x00, 0x04, 0x00, 0x00, 0x00, 0x64};
	assert_int_equal(c->a.attrs.n_raw_attrs, sizeof raw);
	assert_memory_equal(c->a.attrs.raw_attrs, raw, sizeof raw);
	assert_int_equal(c->a.attrs.n_communities, 2);
	assert_int_equal(c->a.attrs.communities[0], 0xFFFF029Au);
	assert_int_equal(c->a.attrs.communities[1], 10);
	assert_int_equal(c->a.n_large, 1);
	assert_int_equal(c->a.large[0].local2, 3);
	c = parse_ok("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x01 0x40 0x02] attribute [0x06 0x40 0x]"
		     " attribute [0x10 0xc0 0x0002fde800000001] attribute [0x0a 0x80 0x0a0000010a000002]");
	assert_int_equal(c->a.origin, BGP_EXA_ORIGIN_INCOMPLETE);
	assert_true(c->a.atomic_aggregate);
	assert_int_equal(c->a.n_extended, 1);
	assert_true(c->a.extended[0] == 0x0002fde800000001ull);
	assert_int_equal(c->a.attrs.n_cluster_list, 2);
	assert_int_equal(c->a.attrs.cluster_list[1], 0x0a000002u);

	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x02 0x40 0x0201000000fd]", "AS_PATH is written by Rampart");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x03 0x40 0x01020304]", "NEXT_HOP is written");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x0e 0x80 0x00]", "MP_REACH_NLRI");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x0f 0x80 0x00]", "MP_UNREACH_NLRI");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x11 0xc0 0x00]", "AS4_PATH");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x00 0xc0 0x00]", "reserved");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x04 0x40 0x00000064]", "flags 0x40 do not match attribute 4");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x04 0x80 0x000064]", "attribute 4 is 4 octets");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x08 0xc0 0x000064]", "non-empty multiple of 4");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x01 0x40 0x03]", "ORIGIN is 0");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc1 0x00]", "low 4 flag bits");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc0 0x0]", "even number of hex digits");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc0 0x0g]", "even number of hex digits");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc0 64]", "even number of hex digits");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [153 0xc0 0x00]", "attribute code is 0x00..0xff");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x199 0xc0 0x00]", "attribute code is 0x00..0xff");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc0 0x00", "expected attribute [");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute 0x99 0xc0 0x00 ]", "expected '['");
	parse_err("announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc0 0x00] attribute [0x99 0xc0 0x01]",
		  "attribute 0x99 given twice");
	/* 128 octets in all, headers included */
	char line[600];
	int o = snprintf(line, sizeof line, "announce route 10.0.0.1/32 next-hop 1.2.3.4 attribute [0x99 0xc0 0x");
	for (int i = 0; i < 126; i++)
		o += snprintf(line + o, sizeof line - (size_t)o, "ab");
	snprintf(line + o, sizeof line - (size_t)o, "]");
	parse_err(line, "over 128 octets in all");
}

static void test_is_command(void **state)
{
	(void)state;
	assert_true(bgp_exa_is_command("announce route 1.2.3.4/32"));
	assert_true(bgp_exa_is_command("  withdraw route 1.2.3.4/32"));
	assert_true(bgp_exa_is_command("neighbor 1.1.1.1 announce eor"));
	assert_true(bgp_exa_is_command("announce"));
	assert_false(bgp_exa_is_command("announced"));
	assert_false(bgp_exa_is_command("ban 1.2.3.4"));
	assert_false(bgp_exa_is_command("routes"));
}

/* The IPv6 redirect actions as an ExaBGP API line writes them, block and one-line form, down to the
 * 20-octet IPv6-address-specific extended communities (RFC 5701) that go in attribute 25. Expected
 * bytes from the documents: Type 0x00, Sub-Type 0x0d (RFC 8956 6.1, rt-redirect-ipv6) or 0x0c
 * (draft-ietf-idr-flowspec-redirect 3.2, redirect to an IPv6 next hop; Local = flags, C = bit 0),
 * Global = the IPv6 address, Local = 2 octets. */
static void check_flow6(const char *line, uint32_t want_present, const uint8_t *want, size_t want_len)
{
	struct bgp_exa_cmd *c = parse_ok(line);
	assert_int_equal(c->kind, BGP_EXA_FLOW);
	assert_int_equal(c->verb, BGP_EXA_ANNOUNCE);
	assert_int_equal(c->flow.afi, FS_AFI_IPV6);
	assert_prefix(&c->flow.dst.p, "2001:db8::1/128");
	if (c->flow_actions.present != want_present)
		fail_msg("'%s': actions 0x%x, want 0x%x", line, c->flow_actions.present, want_present);
	uint8_t out[FS_ACTIONS6_MAX * FS_EXTCOMM6_LEN], out4[64];
	struct fs_err fe = {{0}};
	struct wbuf w = wbuf_init(out, sizeof out);
	if (!fs_actions_encode6(&c->flow_actions, &w, &fe))
		fail_msg("'%s': encode6: %s", line, fe.msg);
	assert_int_equal(w.len, want_len);
	assert_memory_equal(out, want, want_len);
	/* nothing of it in the 8-octet EXTENDED_COMMUNITIES (attribute 16) */
	struct wbuf w4 = wbuf_init(out4, sizeof out4);
	assert_true(fs_actions_encode(&c->flow_actions, &w4, &fe));
	assert_int_equal(w4.len, 0);
}

#define DB8_2 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02

static void test_flow_redirect6(void **state)
{
	(void)state;
	static const uint8_t rt6[] = {0x00, 0x0d, DB8_2, 0x00, 0x64};   /* [2001:db8::2]:100 */
	static const uint8_t nh6[] = {0x00, 0x0c, DB8_2, 0x00, 0x00};   /* redirect, C = 0 */
	static const uint8_t cp6[] = {0x00, 0x0c, DB8_2, 0x00, 0x01};   /* copy, C = 1 */
	check_flow6("announce flow route { match { destination 2001:db8::1/128; } then { redirect [2001:db8::2]:100; } }",
		    FS_ACT_REDIRECT6, rt6, sizeof rt6);
	check_flow6("announce flow route destination 2001:db8::1/128 then redirect [2001:db8::2]:100",
		    FS_ACT_REDIRECT6, rt6, sizeof rt6);
	check_flow6("announce flow route { match { destination 2001:db8::1/128; } then { redirect-to-nexthop-ietf 2001:db8::2; } }",
		    FS_ACT_REDIRECT_IP6, nh6, sizeof nh6);
	check_flow6("announce flow route destination 2001:db8::1/128 then redirect-to-nexthop-ietf 2001:db8::2",
		    FS_ACT_REDIRECT_IP6, nh6, sizeof nh6);
	check_flow6("neighbor 10.0.0.2 announce flow route destination 2001:db8::1/128 then copy-to-nexthop-ietf 2001:db8::2",
		    FS_ACT_REDIRECT_IP6, cp6, sizeof cp6);
	/* both at once: the next hop first, as fs_actions_encode6 orders them */
	uint8_t both[40];
	memcpy(both, nh6, 20);
	memcpy(both + 20, rt6, 20);
	check_flow6("announce flow route { match { destination 2001:db8::1/128; } then { redirect [2001:db8::2]:100; "
		    "redirect-to-nexthop-ietf 2001:db8::2; } }",
		    FS_ACT_REDIRECT6 | FS_ACT_REDIRECT_IP6, both, sizeof both);
	/* an IPv4 address in the IPv6 form is refused with the flow route's column */
	parse_err("announce flow route { match { destination 2001:db8::1/128; } then { redirect [192.0.2.9]:100; } }",
		  "needs an IPv6 address");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fastnetmon),     cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_attributes_nlri), cmocka_unit_test(test_neighbors_and_eor),
		cmocka_unit_test(test_flow),           cmocka_unit_test(test_errors),
		cmocka_unit_test(test_is_command),     cmocka_unit_test(test_more_attributes_and_selectors),
		cmocka_unit_test(test_flow_redirect6), cmocka_unit_test(test_exabgp_qa_spellings),
		cmocka_unit_test(test_generic_attribute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
