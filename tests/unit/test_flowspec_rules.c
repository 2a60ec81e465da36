/* From attack to FlowSpec rule: each attack kind becomes the narrowest rule that covers it, built
 * from the fingerprint once records were counted, and only from the rates' class mix before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mitigation/mit.h"

static struct det_fingerprint fp_of(enum det_attack_kind kind, bool from_rates)
{
	struct det_fingerprint fp;
	memset(&fp, 0, sizeof fp);
	fp.kind = kind;
	fp.from_rates = from_rates;
	fp.packets = 1000;
	return fp;
}

static void port(struct det_fp_port *list, uint8_t *n, uint16_t p, uint64_t packets)
{
	list[*n].port = p;
	list[*n].packets = packets;
	(*n)++;
}

/* The rule's canonical text, the way operators and the tests read rules. */
static const char *rule_text(const char *target, enum det_direction dir, const struct det_fingerprint *fp,
			     int *components)
{
	static char buf[512];
	ip_prefix p;
	assert_true(ip_prefix_parse(target, &p));
	struct fs_rule r;
	*components = mit_flowspec_rule_for_attack(&p, dir, fp, &r);
	/* every rule built must be one the codec accepts */
	uint8_t wire[256];
	struct wbuf w = wbuf_init(wire, sizeof wire);
	struct fs_err err;
	if (!fs_nlri_encode(&r, &w, &err))
		fail_msg("%s: rule does not encode: %s", target, err.msg);
	assert_true(fs_text_format(&r, NULL, buf, sizeof buf));
	return buf;
}

static void expect(const char *target, enum det_direction dir, const struct det_fingerprint *fp, const char *want,
		   int want_components)
{
	int n;
	const char *got = rule_text(target, dir, fp, &n);
	if (strcmp(got, want) != 0)
		fail_msg("%s %s: got '%s', want '%s'", target, det_attack_kind_name(fp->kind), got, want);
	assert_int_equal(n, want_components);
}

static void test_amplification_names_the_reflector_port(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_AMP_NTP, false);
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32 protocol =udp source-port =123", 2);
	fp = fp_of(DET_KIND_AMP_MEMCACHED, false);
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32 protocol =udp source-port =11211", 2);
	fp = fp_of(DET_KIND_AMP_DNS, false);
	expect("2001:db8:10::53", DET_IN, &fp, "destination 2001:db8:10::53/128 next-header =udp source-port =53", 2);
}

/* A source match only for a source proven to send half the attack: the random-reflector DNS
 * amplification (top counters of ~220 that are all error: each source sent one packet) gets
 * none, a single reflector gets its /32; a port whose upper bound is over half but whose
 * guaranteed minimum is not is not named either. */
static void test_source_match_only_when_proven_heavy(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_AMP_DNS, false);
	fp.packets = 9000;
	fp.records = 9000;
	fp.distinct_peers = 8950;
	for (int i = 0; i < DET_FP_TOP; i++) {
		assert_true(ip_parse("198.51.100.1", &fp.peers[i].addr));
		fp.peers[i].addr.b[15] = (uint8_t)(10 + i);
		fp.peers[i].packets = 220;
		fp.peers[i].error = 219;
	}
	fp.n_peers = DET_FP_TOP;
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32 protocol =udp source-port =53", 2);

	fp.n_peers = 1;
	assert_true(ip_parse("198.51.100.53", &fp.peers[0].addr));
	fp.peers[0].packets = 9000;
	fp.peers[0].error = 0;
	fp.distinct_peers = 1;
	expect("192.0.2.10", DET_IN, &fp,
	       "destination 192.0.2.10/32 source 198.51.100.53/32 protocol =udp source-port =53", 3);
	/* outgoing: the heavy peer is a destination */
	struct det_fingerprint out = fp_of(DET_KIND_SYN_FLOOD, false);
	out.packets = out.records = 5000;
	out.n_peers = 1;
	assert_true(ip_parse("203.0.113.9", &out.peers[0].addr));
	out.peers[0].packets = 5000;
	int n;
	const char *t = rule_text("192.0.2.77", DET_OUT, &out, &n);
	assert_non_null(strstr(t, "destination 203.0.113.9/32 source 192.0.2.77/32 protocol =tcp"));
	/* too few records to prove anything: the first record of a random-source flood is 100 % */
	fp.records = DET_FP_HEAVY_RECORDS - 1;
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32 protocol =udp source-port =53", 2);

	/* a destination port at most 900 of 1000, but at least 400: not named */
	struct det_fingerprint syn = fp_of(DET_KIND_SYN_FLOOD, false);
	port(syn.dst_ports, &syn.n_dst_ports, 80, 900);
	syn.dst_ports[0].error = 500;
	t = rule_text("192.0.2.20", DET_IN, &syn, &n);
	assert_null(strstr(t, "destination-port"));
}

/* No address is heavy but one /24 (or /64) is, by the same bound: the rule names the network;
 * a /24 with less than a guaranteed half is not named, and a heavy host wins over its /24. */
static void test_source_prefix_only_when_proven_heavy(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_AMP_NTP, false);
	fp.packets = fp.records = 10000;
	for (int i = 0; i < DET_FP_TOP; i++) {
		assert_true(ip_parse("198.51.100.1", &fp.peers[i].addr));
		fp.peers[i].addr.b[15] = (uint8_t)(10 + i);
		fp.peers[i].packets = 60;
		fp.peers[i].error = 10;
	}
	fp.n_peers = DET_FP_TOP;
	assert_true(ip_parse("198.51.100.0", &fp.peer_prefixes[0].addr));
	fp.peer_prefixes[0].packets = 6200;
	fp.peer_prefixes[0].error = 1000; /* at least 5200 of 10000 */
	fp.n_peer_prefixes = 1;
	expect("192.0.2.10", DET_IN, &fp,
	       "destination 192.0.2.10/32 source 198.51.100.0/24 protocol =udp source-port =123", 3);
	fp.peer_prefixes[0].error = 1300; /* at least 4900: maybe not half */
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32 protocol =udp source-port =123", 2);
	/* a proven heavy host inside it: the host, the narrower match */
	fp.peer_prefixes[0].error = 0;
	fp.peers[0].packets = 6000;
	fp.peers[0].error = 0;
	expect("192.0.2.10", DET_IN, &fp,
	       "destination 192.0.2.10/32 source 198.51.100.10/32 protocol =udp source-port =123", 3);

	struct det_fingerprint v6 = fp_of(DET_KIND_UDP_FLOOD, false);
	v6.packets = v6.records = 1000;
	assert_true(ip_parse("2001:db8:77:1::", &v6.peer_prefixes[0].addr));
	v6.peer_prefixes[0].packets = 900;
	v6.n_peer_prefixes = 1;
	expect("2001:db8:10::53", DET_IN, &v6, "destination 2001:db8:10::53/128 source 2001:db8:77:1::/64 next-header =udp", 2);
}

static void test_syn_flood_with_and_without_a_dominant_port(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_SYN_FLOOD, false);
	port(fp.dst_ports, &fp.n_dst_ports, 80, 900);
	int n;
	const char *t = rule_text("192.0.2.20", DET_IN, &fp, &n);
	assert_non_null(strstr(t, "destination 192.0.2.20/32 protocol =tcp"));
	assert_non_null(strstr(t, "destination-port =80"));
	assert_non_null(strstr(t, "tcp-flags"));
	assert_int_equal(n, 3);
	/* no port carries half the packets: the rule does not name one */
	fp = fp_of(DET_KIND_SYN_FLOOD, false);
	port(fp.dst_ports, &fp.n_dst_ports, 80, 300);
	t = rule_text("192.0.2.20", DET_IN, &fp, &n);
	assert_null(strstr(t, "destination-port"));
	assert_int_equal(n, 2);
}

static void test_udp_icmp_fragments(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_UDP_FLOOD, false);
	port(fp.dst_ports, &fp.n_dst_ports, 53, 1000);
	expect("2001:db8:10::53", DET_IN, &fp, "destination 2001:db8:10::53/128 next-header =udp destination-port =53", 2);
	fp = fp_of(DET_KIND_ICMP_FLOOD, false);
	expect("192.0.2.30", DET_IN, &fp, "destination 192.0.2.30/32 protocol =icmp", 1);
	expect("2001:db8:10::30", DET_IN, &fp, "destination 2001:db8:10::30/128 next-header =icmpv6", 1);
	fp = fp_of(DET_KIND_FRAGMENTS, false);
	int n;
	const char *t = rule_text("192.0.2.40", DET_IN, &fp, &n);
	assert_non_null(strstr(t, "destination 192.0.2.40/32 fragment"));
	assert_int_equal(n, 1);
}

static void test_before_records_only_the_class(void **state)
{
	(void)state;
	/* from the rates: UDP is known, its ports are not (even if a stale list says otherwise) */
	struct det_fingerprint fp = fp_of(DET_KIND_UDP_FLOOD, true);
	port(fp.dst_ports, &fp.n_dst_ports, 53, 1000);
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32 protocol =udp", 1);
	fp = fp_of(DET_KIND_UNKNOWN, true);
	expect("192.0.2.10", DET_IN, &fp, "destination 192.0.2.10/32", 0);
}

static void test_outgoing_attack_matches_the_source(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_AMP_NTP, false);
	expect("192.0.2.77", DET_OUT, &fp, "source 192.0.2.77/32 protocol =udp source-port =123", 2);
}

static void test_prefix_attack(void **state)
{
	(void)state;
	struct det_fingerprint fp = fp_of(DET_KIND_UDP_FLOOD, true);
	expect("192.0.2.0/24", DET_IN, &fp, "destination 192.0.2.0/24 protocol =udp", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amplification_names_the_reflector_port),
		cmocka_unit_test(test_source_match_only_when_proven_heavy),
		cmocka_unit_test(test_source_prefix_only_when_proven_heavy),
		cmocka_unit_test(test_syn_flood_with_and_without_a_dominant_port),
		cmocka_unit_test(test_udp_icmp_fragments),
		cmocka_unit_test(test_before_records_only_the_class),
		cmocka_unit_test(test_outgoing_attack_matches_the_source),
		cmocka_unit_test(test_prefix_attack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
