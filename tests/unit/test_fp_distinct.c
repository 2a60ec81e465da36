/* detect/: the fingerprint's distinct counts (remote ends, their /24 and /64 prefixes, source and
 * destination ports) and which keys it shows, on known streams fed to the accumulators the
 * workers fill, split over two of them and merged as the engine merges workers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/det_test_util.h"
#include "detect/det.h"
#include "detect/det_int.h"

/* Two workers' accumulators and the attack's, as the engine holds them. */
struct accs {
	struct det_fp_acc w[2], attack;
	unsigned n;
};

static struct accs *accs_new(void)
{
	struct accs *a = calloc(1, sizeof *a);
	assert_non_null(a);
	return a;
}

/* One incoming UDP record of `packets` from src:sport to 192.0.2.10:dport, to worker n % 2. */
static void add(struct accs *a, const ip_addr *src, uint16_t sport, uint16_t dport, uint64_t packets)
{
	struct flow_record r;
	memset(&r, 0, sizeof r);
	r.src = *src;
	r.dst = ip_is_v4(src) ? A("192.0.2.10") : A("2001:db8:10::10");
	r.src_port = sport;
	r.dst_port = dport;
	r.protocol = 17;
	r.packets = packets;
	r.bytes = 100 * packets;
	r.sampling_rate = 1;
	det_fp_acc_add(&a->w[a->n++ % 2], &r, DET_IN, 1);
}

static struct det_fingerprint summary(struct accs *a)
{
	det_fp_acc_merge(&a->attack, &a->w[0]);
	det_fp_acc_merge(&a->attack, &a->w[1]);
	struct det_fingerprint fp;
	det_fp_acc_summary(&a->attack, &fp);
	return fp;
}

/* Within k standard errors of `se` per mille of the true count (linear counting below a few
 * thousand keys is closer than that). */
static void near(const char *what, uint64_t est, uint64_t truth, unsigned se_permille)
{
	double allowed = 3.0 * (double)truth * se_permille / 1000.0 + 1.0;
	if (fabs((double)est - (double)truth) > allowed)
		fail_msg("%s: estimate %" PRIu64 ", true %" PRIu64 " (3 standard errors: %.0f)", what, est, truth,
			 allowed);
}

/* 10.x.y.z for key i < 2^24, the 24 bits permuted (an odd multiplier is a bijection mod 2^24), so
 * consecutive keys land in unrelated /24s. */
static ip_addr v4_of(uint32_t i)
{
	uint32_t k = (i * 2654435761u) & 0xffffff;
	ip_addr a = A("10.0.0.0");
	a.b[13] = (uint8_t)(k >> 16), a.b[14] = (uint8_t)(k >> 8), a.b[15] = (uint8_t)k;
	return a;
}

/* The network 10.x.y.0 of /24 number p < 2^16 (permuted the same way, so distinct p are distinct
 * /24s). */
static ip_addr v4_net(uint32_t p)
{
	uint32_t k = (p * 40503u) & 0xffff;
	ip_addr a = A("10.0.0.0");
	a.b[13] = (uint8_t)(k >> 8), a.b[14] = (uint8_t)k;
	return a;
}

static size_t listed_peers(const struct det_fingerprint *fp)
{
	size_t n = 0;
	for (size_t i = 0; i < fp->n_peers; i++)
		n += det_fp_listed(fp, fp->peers[i].packets, fp->peers[i].error);
	return n;
}

/* All random: 30 000 sources sending one packet each from 30 000 source ports to 5000 destination
 * ports. No source, /24 or port holds a share to show, none is heavy; each distinct count is
 * within 3 standard errors of the exact one (counted here with bitmaps). */
static void test_all_random(void **state)
{
	(void)state;
	struct accs *a = accs_new();
	static uint8_t seen24[1 << 16];
	memset(seen24, 0, sizeof seen24);
	uint64_t n24 = 0;
	enum { N = 30000 };
	for (uint32_t i = 0; i < N; i++) {
		ip_addr s = v4_of(i);
		uint32_t net = (uint32_t)s.b[13] << 8 | s.b[14];
		n24 += !seen24[net];
		seen24[net] = 1;
		add(a, &s, (uint16_t)(i * 40503u), (uint16_t)((i % 5000) * 13u + 1024), 1);
	}
	struct det_fingerprint fp = summary(a);
	assert_int_equal(fp.packets, N);
	assert_int_equal(fp.records, N);
	assert_int_equal(fp.n_peers, DET_FP_TOP); /* the summary has entries, all of them error */
	assert_int_equal(listed_peers(&fp), 0);
	for (size_t i = 0; i < fp.n_peer_prefixes; i++)
		assert_false(det_fp_listed(&fp, fp.peer_prefixes[i].packets, fp.peer_prefixes[i].error));
	for (size_t i = 0; i < fp.n_src_ports; i++)
		assert_false(det_fp_listed(&fp, fp.src_ports[i].packets, fp.src_ports[i].error));
	for (size_t i = 0; i < fp.n_dst_ports; i++)
		assert_false(det_fp_listed(&fp, fp.dst_ports[i].packets, fp.dst_ports[i].error));
	ip_addr peer;
	ip_prefix net;
	assert_false(det_fp_heavy_peer(&fp, &peer));
	assert_false(det_fp_heavy_peer_prefix(&fp, &net));
	near("sources", fp.distinct_peers, N, DET_FP_DISTINCT_SE_PEERS);
	near("source /24s", fp.distinct_peer_prefixes, n24, DET_FP_DISTINCT_SE_SMALL);
	near("source ports", fp.distinct_src_ports, N, DET_FP_DISTINCT_SE_SMALL);
	near("destination ports", fp.distinct_dst_ports, 5000, DET_FP_DISTINCT_SE_SMALL);
	if (n24 < 10000) /* the stream does spread over /24s */
		fail_msg("only %" PRIu64 " /24s", n24);
	free(a);
}

/* Three heavy sources (20 %, 12 %, 8 %) in a noise of one-packet sources: exactly those three
 * are shown, each true count within [guaranteed minimum, upper bound]; none holds half, so none is
 * heavy, and neither is a /24 (the three are in different ones). */
static void test_three_heavy_in_noise(void **state)
{
	(void)state;
	struct accs *a = accs_new();
	static const char *const heavy[3] = {"203.0.113.1", "203.0.114.2", "203.0.115.3"};
	uint64_t sent[3] = {0, 0, 0};
	uint32_t noise = 0;
	for (unsigned k = 0; k < 10000; k++) {
		unsigned m = k % 25;
		int which = m < 5 ? 0 : m < 8 ? 1 : m < 10 ? 2 : -1;
		ip_addr s = which >= 0 ? A(heavy[which]) : v4_of(noise++);
		if (which >= 0)
			sent[which]++;
		add(a, &s, 53, (uint16_t)(1024 + k % 3000), 1);
	}
	struct det_fingerprint fp = summary(a);
	assert_int_equal(listed_peers(&fp), 3);
	for (int i = 0; i < 3; i++) {
		ip_addr want = A(heavy[i]);
		int at = -1;
		for (int j = 0; j < fp.n_peers; j++)
			if (ip_equal(&fp.peers[j].addr, &want))
				at = j;
		assert_true(at >= 0);
		assert_true(det_fp_listed(&fp, fp.peers[at].packets, fp.peers[at].error));
		assert_true(fp.peers[at].packets - fp.peers[at].error <= sent[i]);
		assert_true(fp.peers[at].packets >= sent[i]);
	}
	assert_int_equal(sent[0] + sent[1] + sent[2], 4000);
	ip_addr peer;
	ip_prefix net;
	assert_false(det_fp_heavy_peer(&fp, &peer));
	assert_false(det_fp_heavy_peer_prefix(&fp, &net));
	/* one source port (53) carries it all: shown, exact, one distinct */
	assert_true(det_fp_listed(&fp, fp.src_ports[0].packets, fp.src_ports[0].error));
	assert_int_equal(fp.src_ports[0].packets, 10000);
	assert_int_equal(fp.distinct_src_ports, 1);
	near("destination ports", fp.distinct_dst_ports, 3000, DET_FP_DISTINCT_SE_SMALL);
	near("sources", fp.distinct_peers, 6000 + 3, DET_FP_DISTINCT_SE_PEERS);
	free(a);
}

/* N distinct /24s (IPv4) and /64s (IPv6), a few hosts in each: the prefix estimates are within 3
 * standard errors of N, the address estimates of the hosts. */
static void test_distinct_prefixes(void **state)
{
	(void)state;
	static const uint32_t sizes[] = {1, 10, 300, 3000, 20000};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		uint32_t n = sizes[s];
		struct accs *a = accs_new();
		uint32_t hosts = n == 1 ? 40 : 4; /* one /24: records enough to prove it heavy */
		for (uint32_t p = 0; p < n; p++)
			for (uint32_t h = 0; h < hosts; h++) {
				ip_addr src = v4_net(p);
				src.b[15] = (uint8_t)(h * 5 + 1);
				add(a, &src, 4444, 80, 1);
			}
		struct det_fingerprint fp = summary(a);
		char what[64];
		snprintf(what, sizeof what, "%u /24s", n);
		near(what, fp.distinct_peer_prefixes, n, DET_FP_DISTINCT_SE_SMALL);
		near(what, fp.distinct_peers, (uint64_t)hosts * n, DET_FP_DISTINCT_SE_PEERS);
		if (n == 1) { /* one /24 with everything: heavy as a network, no host is */
			ip_prefix net;
			ip_addr peer;
			assert_true(det_fp_heavy_peer_prefix(&fp, &net));
			assert_int_equal(net.len, 24);
			ip_addr want = v4_net(0);
			assert_true(ip_equal(&net.addr, &want));
			assert_false(det_fp_heavy_peer(&fp, &peer));
		}
		free(a);

		a = accs_new();
		for (uint32_t p = 0; p < n; p++)
			for (uint32_t h = 0; h < 3; h++) {
				ip_addr src = A("2001:db8:ff00::");
				src.b[5] = (uint8_t)(p >> 16), src.b[6] = (uint8_t)(p >> 8), src.b[7] = (uint8_t)p;
				src.b[15] = (uint8_t)(h + 1);
				src.b[9] = (uint8_t)(h * 7); /* host bits beyond the /64 differ too */
				add(a, &src, 4444, 80, 1);
			}
		fp = summary(a);
		snprintf(what, sizeof what, "%u /64s", n);
		near(what, fp.distinct_peer_prefixes, n, DET_FP_DISTINCT_SE_SMALL);
		near(what, fp.distinct_peers, 3ull * n, DET_FP_DISTINCT_SE_PEERS);
		free(a);
	}
}

/* One /24 sends 60 % of the attack from 200 hosts (0.3 % each), the rest is noise from elsewhere:
 * no address is heavy or even shown, the /24 is proven heavy, with its bounds holding the truth. */
static void test_heavy_prefix_no_heavy_host(void **state)
{
	(void)state;
	struct accs *a = accs_new();
	uint64_t from_net = 0;
	uint32_t noise = 0;
	for (unsigned k = 0; k < 20000; k++) {
		ip_addr s;
		if (k % 5 < 3) {
			s = A("198.51.100.0");
			s.b[15] = (uint8_t)(1 + k % 200);
			from_net++;
		} else {
			s = v4_of(noise++);
		}
		add(a, &s, 123, 7777, 1);
	}
	struct det_fingerprint fp = summary(a);
	ip_addr peer;
	ip_prefix net;
	assert_false(det_fp_heavy_peer(&fp, &peer));
	assert_int_equal(listed_peers(&fp), 0);
	assert_true(det_fp_heavy_peer_prefix(&fp, &net));
	char buf[IP_PREFIX_STRLEN];
	assert_string_equal(ip_prefix_format(&net, buf), "198.51.100.0/24");
	assert_true(fp.peer_prefixes[0].packets >= from_net);
	assert_true(fp.peer_prefixes[0].packets - fp.peer_prefixes[0].error <= from_net);
	near("sources", fp.distinct_peers, 200 + 8000, DET_FP_DISTINCT_SE_PEERS);
	/* the same bound: 40 % from one /24 is not heavy */
	struct accs *b = accs_new();
	noise = 0;
	for (unsigned k = 0; k < 20000; k++) {
		ip_addr s = A("198.51.100.0");
		if (k % 5 < 2)
			s.b[15] = (uint8_t)(1 + k % 200);
		else
			s = v4_of(noise++);
		add(b, &s, 123, 7777, 1);
	}
	fp = summary(b);
	assert_false(det_fp_heavy_peer_prefix(&fp, &net));
	free(a);
	free(b);
}

/* Later fragments have no ports: they count for the addresses, not the port sketches. */
static void test_ports_skip_later_fragments(void **state)
{
	(void)state;
	struct det_fp_acc *acc = calloc(1, sizeof *acc);
	assert_non_null(acc);
	for (unsigned k = 0; k < 1000; k++) {
		struct flow_record r;
		memset(&r, 0, sizeof r);
		r.src = v4_of(k);
		r.dst = A("192.0.2.10");
		r.protocol = 17, r.packets = 1, r.bytes = 1000, r.sampling_rate = 1;
		r.flags = FLOW_F_FRAGMENT | FLOW_F_LATER_FRAGMENT;
		det_fp_acc_add(acc, &r, DET_IN, 1);
	}
	struct det_fingerprint fp;
	det_fp_acc_summary(acc, &fp);
	assert_int_equal(fp.distinct_src_ports, 0);
	assert_int_equal(fp.distinct_dst_ports, 0);
	near("sources", fp.distinct_peers, 1000, DET_FP_DISTINCT_SE_PEERS);
	free(acc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_random),
		cmocka_unit_test(test_three_heavy_in_noise),
		cmocka_unit_test(test_distinct_prefixes),
		cmocka_unit_test(test_heavy_prefix_no_heavy_host),
		cmocka_unit_test(test_ports_skip_later_fragments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
