/* NetFlow v5 decoder: real byte layouts built field by field, and hostile variants. */
#include "flow_test_util.h"

#define SECS 1795411824u
#define NSECS 816005000u

static void header(struct pkt *p, uint16_t count, uint32_t uptime, uint32_t seq, uint16_t sampling)
{
	put16(p, 5);
	put16(p, count);
	put32(p, uptime);
	put32(p, SECS);
	put32(p, NSECS);
	put32(p, seq);
	put8(p, 1); /* engine type */
	put8(p, 2); /* engine id */
	put16(p, sampling);
}

static void record(struct pkt *p, const char *src, const char *dst, uint32_t first, uint32_t last,
		   uint16_t sport, uint16_t dport, uint8_t flags, uint8_t proto)
{
	v4(p, src);
	v4(p, dst);
	v4(p, "0.0.0.0");
	put16(p, 3);    /* input */
	put16(p, 7);    /* output */
	put32(p, 10);   /* packets */
	put32(p, 4820); /* octets */
	put32(p, first);
	put32(p, last);
	put16(p, sport);
	put16(p, dport);
	put8(p, 0);
	put8(p, flags);
	put8(p, proto);
	put8(p, 0x28); /* tos */
	put32(p, 0);   /* AS */
	put32(p, 0);   /* masks, pad */
}

static void test_two_records(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 2, 5877, 100, 0x4000 | 100);
	record(&p, "203.0.113.9", "192.0.2.10", 3007, 5000, 123, 40000, 0, 17);
	record(&p, "198.51.100.1", "192.0.2.20", 5800, 5877, 1234, 80, TCP_SYN, 6);
	assert_int_equal(p.w.len, 24 + 2 * 48);
	struct collect c = {0};
	ip_addr ex = addr("10.0.0.1");
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 42, collect_fn, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	const struct flow_record *r = &c.r[0];
	assert_addr(&r->src, "203.0.113.9");
	assert_addr(&r->dst, "192.0.2.10");
	assert_addr(&r->exporter, "10.0.0.1");
	assert_int_equal(r->src_port, 123);
	assert_int_equal(r->dst_port, 40000);
	assert_int_equal(r->protocol, 17);
	assert_int_equal(r->packets, 10);
	assert_int_equal(r->bytes, 4820);
	assert_int_equal(r->in_if, 3);
	assert_int_equal(r->out_if, 7);
	assert_int_equal(r->tos, 0x28);
	assert_int_equal(r->sampling_rate, 100);
	assert_int_equal(r->source, FLOW_SRC_NETFLOW5);
	assert_int_equal(r->ip_version, 4);
	uint64_t now = (uint64_t)SECS * 1000000000ull + NSECS;
	assert_int_equal(r->start_ns, now - (5877 - 3007) * 1000000ull);
	assert_int_equal(r->end_ns, now - (5877 - 5000) * 1000000ull);
	assert_int_equal(c.r[1].tcp_flags, TCP_SYN);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->domain, 1 << 8 | 2);
	assert_int_equal(e->datagrams, 1);
	assert_int_equal(e->records, 2);
	assert_int_equal(e->sampling_rate, 100);
	cap_flow_free(ctx);
}

static void test_unsampled_and_uptime_wrap(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	/* sysUptime wrapped past 2^32 since the flow started */
	header(&p, 1, 0x100, 0, 0);
	record(&p, "203.0.113.9", "192.0.2.10", 0xffffff00u, 0x80, 1, 2, 0, 17);
	struct collect c = {0};
	ip_addr ex = addr("10.0.0.1");
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 42, collect_fn, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	uint64_t now = (uint64_t)SECS * 1000000000ull + NSECS;
	assert_int_equal(c.r[0].sampling_rate, 1);
	assert_int_equal(c.r[0].start_ns, now - 0x200 * 1000000ull);
	assert_int_equal(c.r[0].end_ns, now - 0x80 * 1000000ull);
	cap_flow_free(ctx);
}

static enum cap_flow_result send_seq(struct cap_flow_ctx *ctx, uint32_t seq, uint16_t count)
{
	struct pkt p;
	pkt_init(&p);
	header(&p, count, 1000, seq, 0);
	for (uint16_t i = 0; i < count; i++)
		record(&p, "203.0.113.9", "192.0.2.10", 1, 2, 1, 2, 0, 17);
	struct collect c = {0};
	ip_addr ex = addr("10.0.0.1");
	return cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 42, collect_fn, &c);
}

static void test_sequence_counts_flows(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	send_seq(ctx, 0, 2);  /* flows 0,1 */
	send_seq(ctx, 2, 3);  /* 2,3,4: no gap */
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 0);
	send_seq(ctx, 9, 1);  /* 5..8 lost: 4 flows */
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 4);
	send_seq(ctx, 3, 1);  /* behind: a restart or reordering, not a loss */
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 4);
	send_seq(ctx, 4, 1);
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 4);
	cap_flow_free(ctx);
}

static void test_bad_counts(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	ip_addr ex = addr("10.0.0.1");
	/* count 0 and count 31 */
	pkt_init(&p);
	header(&p, 0, 1000, 0, 0);
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c),
			 CAP_FLOW_MALFORMED);
	pkt_init(&p);
	header(&p, 31, 1000, 0, 0);
	for (int i = 0; i < 31; i++)
		record(&p, "203.0.113.9", "192.0.2.10", 1, 2, 1, 2, 0, 17);
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c),
			 CAP_FLOW_MALFORMED);
	/* count says 3, two records present: nothing delivered, not even the two */
	pkt_init(&p);
	header(&p, 3, 1000, 0, 0);
	record(&p, "203.0.113.9", "192.0.2.10", 1, 2, 1, 2, 0, 17);
	record(&p, "203.0.113.9", "192.0.2.10", 1, 2, 1, 2, 0, 17);
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c),
			 CAP_FLOW_TRUNCATED);
	assert_int_equal(c.n, 0);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 3);
	/* another version */
	p.b[1] = 7;
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c),
			 CAP_FLOW_VERSION);
	struct cap_flow_stats st;
	cap_flow_stats(ctx, &st);
	assert_int_equal(st.datagrams, 4);
	assert_int_equal(st.result[CAP_FLOW_MALFORMED], 2);
	assert_int_equal(st.result[CAP_FLOW_VERSION], 1);
	cap_flow_free(ctx);
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 2, 5877, 100, 0);
	record(&p, "203.0.113.9", "192.0.2.10", 3007, 5000, 123, 40000, 0, 17);
	record(&p, "198.51.100.1", "192.0.2.20", 5800, 5877, 1234, 80, TCP_SYN, 6);
	/* every strict prefix is short of its own count: no record at all */
	truncate_everywhere(ctx, cap_netflow5_decode, p.b, p.w.len, 0);
	cap_flow_free(ctx);
}

static void test_exporter_table_bounded(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_exporters = 2};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 1000, 0, 0);
	record(&p, "203.0.113.9", "192.0.2.10", 1, 2, 1, 2, 0, 17);
	struct collect c = {0};
	const char *who[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"};
	enum cap_flow_result want[] = {CAP_FLOW_OK, CAP_FLOW_OK, CAP_FLOW_TABLE_FULL,
				       CAP_FLOW_TABLE_FULL};
	for (int i = 0; i < 4; i++) {
		ip_addr ex = addr(who[i]);
		assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c), want[i]);
	}
	/* known exporters still work */
	ip_addr ex = addr("10.0.0.2");
	assert_int_equal(cap_netflow5_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 3);
	struct cap_exporter_info info[4];
	assert_int_equal(cap_flow_exporters(ctx, info, 4), 2);
	assert_addr(&info[1].addr, "10.0.0.2");
	assert_int_equal(info[1].datagrams, 2);
	cap_flow_free(ctx);
}

static void test_dispatch(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 1000, 0, 0);
	record(&p, "203.0.113.9", "192.0.2.10", 1, 2, 1, 2, 0, 17);
	struct collect c = {0};
	ip_addr ex = addr("10.0.0.1");
	assert_int_equal(cap_netflow_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	p.b[1] = 8;
	assert_int_equal(cap_netflow_decode(ctx, p.b, p.w.len, &ex, 1, collect_fn, &c), CAP_FLOW_VERSION);
	assert_int_equal(cap_netflow_decode(ctx, p.b, 1, &ex, 1, collect_fn, &c), CAP_FLOW_TRUNCATED);
	cap_flow_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_records),
		cmocka_unit_test(test_unsampled_and_uptime_wrap),
		cmocka_unit_test(test_sequence_counts_flows),
		cmocka_unit_test(test_bad_counts),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_exporter_table_bounded),
		cmocka_unit_test(test_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
