/* NetFlow v9 decoder: templates, options, data, and the attacks on template parsers. */
#include "flow_test_util.h"

#define SECS 1795411845u
#define UPTIME 5899u

static void header(struct pkt *p, uint32_t seq, uint32_t source_id)
{
	put16(p, 9);
	put16(p, 0); /* count: not relied on */
	put32(p, UPTIME);
	put32(p, SECS);
	put32(p, seq);
	put32(p, source_id);
}

/* A set: id, then its length patched by set_end. */
/* Template 260: src, dst (v4), ports, protocol, flags, bytes (4), packets (2), first/last
 * (uptime), input/output, direction. Record length 4+4+2+2+1+1+4+2+4+4+2+2+1 = 33. */
static void template_v4(struct pkt *p)
{
	size_t s = set_begin(p, 0);
	put16(p, 260);
	put16(p, 13);
	uint16_t f[][2] = {{8, 4},  {12, 4}, {7, 2},  {11, 2}, {4, 1}, {6, 1}, {1, 4},
			   {2, 2},  {22, 4}, {21, 4}, {10, 2}, {14, 2}, {61, 1}};
	for (int i = 0; i < 13; i++) {
		put16(p, f[i][0]);
		put16(p, f[i][1]);
	}
	set_end(p, s);
}

static void data_v4(struct pkt *p, const char *src, uint16_t dport)
{
	v4(p, src);
	v4(p, "192.0.2.10");
	put16(p, 53);
	put16(p, dport);
	put8(p, 17);
	put8(p, 0);
	put32(p, 1500);
	put16(p, 3);
	put32(p, 3000); /* first */
	put32(p, 5000); /* last */
	put16(p, 4);
	put16(p, 5);
	put8(p, 1); /* egress */
}

static enum cap_flow_result decode(struct cap_flow_ctx *ctx, struct pkt *p, struct collect *c)
{
	ip_addr ex = addr("10.1.1.1");
	return cap_netflow9_decode(ctx, p->b, p->w.len, &ex, 7, collect_fn, c);
}

/* One template with IPv4 and IPv6 addresses (as Cisco and others export a dual-stack template):
 * an IPv4 flow carries :: in the IPv6 fields and must keep its IPv4 addresses, an IPv6 flow
 * 0.0.0.0 in the IPv4 ones. */
static void test_dual_stack_template(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 0, 9);
	size_t s = set_begin(&p, 0);
	put16(&p, 270);
	put16(&p, 6);
	const uint16_t f[6][2] = {{27, 16}, {28, 16}, {8, 4}, {12, 4}, {1, 4}, {2, 4}};
	for (int i = 0; i < 6; i++) {
		put16(&p, f[i][0]);
		put16(&p, f[i][1]);
	}
	set_end(&p, s);
	s = set_begin(&p, 270);
	v6(&p, "::");
	v6(&p, "::");
	v4(&p, "198.51.100.7");
	v4(&p, "192.0.2.10");
	put32(&p, 1500);
	put32(&p, 1);
	v6(&p, "2001:db8::7");
	v6(&p, "2001:db8:10::53");
	v4(&p, "0.0.0.0");
	v4(&p, "0.0.0.0");
	put32(&p, 900);
	put32(&p, 2);
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	assert_addr(&c.r[0].src, "198.51.100.7");
	assert_addr(&c.r[0].dst, "192.0.2.10");
	assert_int_equal(c.r[0].ip_version, 4);
	assert_int_equal(c.r[0].bytes, 1500);
	assert_addr(&c.r[1].src, "2001:db8::7");
	assert_addr(&c.r[1].dst, "2001:db8:10::53");
	assert_int_equal(c.r[1].ip_version, 6);
	cap_flow_free(ctx);
}

static void test_template_then_data(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	template_v4(&p);
	size_t s = set_begin(&p, 260);
	data_v4(&p, "203.0.113.1", 1000);
	data_v4(&p, "203.0.113.2", 1001);
	put8(&p, 0); /* padding to a 4-byte boundary: 2*33+4 = 70, +2 */
	put8(&p, 0);
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	const struct flow_record *r = &c.r[1];
	assert_addr(&r->src, "203.0.113.2");
	assert_addr(&r->dst, "192.0.2.10");
	assert_addr(&r->exporter, "10.1.1.1");
	assert_int_equal(r->src_port, 53);
	assert_int_equal(r->dst_port, 1001);
	assert_int_equal(r->protocol, 17);
	assert_int_equal(r->bytes, 1500);
	assert_int_equal(r->packets, 3);
	assert_int_equal(r->in_if, 4);
	assert_int_equal(r->out_if, 5);
	assert_int_equal(r->flags, FLOW_F_EGRESS);
	assert_int_equal(r->sampling_rate, 1);
	assert_int_equal(r->source, FLOW_SRC_NETFLOW9);
	assert_int_equal(r->ip_version, 4);
	uint64_t now = (uint64_t)SECS * 1000000000ull;
	assert_int_equal(r->start_ns, now - (UPTIME - 3000) * 1000000ull);
	assert_int_equal(r->end_ns, now - (UPTIME - 5000) * 1000000ull);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->templates, 1);
	assert_int_equal(e->records, 2);
	assert_int_equal(e->malformed, 0);
	cap_flow_free(ctx);
}

static void test_data_before_template_is_dropped(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	size_t s = set_begin(&p, 260);
	data_v4(&p, "203.0.113.1", 1000);
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(exporter_at(ctx, 0)->template_misses, 1);
	/* the template arrives; the same data now decodes */
	struct pkt t;
	pkt_init(&t);
	header(&t, 2, 0);
	template_v4(&t);
	assert_int_equal(decode(ctx, &t, &c), CAP_FLOW_OK);
	p.b[15] = 3; /* sequence 3 */
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 0);
	cap_flow_free(ctx);
}

static void test_templates_keyed_by_source_id(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 1);
	template_v4(&p);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	/* same address, source id 2: its own template space */
	pkt_init(&p);
	header(&p, 1, 2);
	size_t s = set_begin(&p, 260);
	data_v4(&p, "203.0.113.1", 1000);
	set_end(&p, s);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 0);
	/* another address, source id 1: also its own */
	ip_addr other = addr("10.1.1.2");
	p.b[19] = 1;
	assert_int_equal(cap_netflow9_decode(ctx, p.b, p.w.len, &other, 7, collect_fn, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 0);
	struct cap_exporter_info info[4];
	assert_int_equal(cap_flow_exporters(ctx, info, 4), 3);
	assert_int_equal(info[1].template_misses, 1);
	assert_int_equal(info[2].template_misses, 1);
	cap_flow_free(ctx);
}

static void test_sequence_counts_datagrams(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct collect c = {0};
	uint32_t seqs[] = {10, 11, 15, 16, 2};
	for (int i = 0; i < 5; i++) {
		struct pkt p;
		pkt_init(&p);
		header(&p, seqs[i], 0);
		template_v4(&p);
		assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	}
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 3);
	cap_flow_free(ctx);
}

static void test_options_sampling(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	/* options template 300: scope System (type 1, 4 bytes; must not be read as IN_BYTES),
	 * FLOW_SAMPLER_ID (48, 1), FLOW_SAMPLER_RANDOM_INTERVAL (50, 4) */
	size_t s = set_begin(&p, 1);
	put16(&p, 300);
	put16(&p, 4);
	put16(&p, 8);
	put16(&p, 1);
	put16(&p, 4);
	put16(&p, 48);
	put16(&p, 1);
	put16(&p, 50);
	put16(&p, 4);
	put16(&p, 0); /* padding */
	set_end(&p, s);
	/* options template 301: scope System, SAMPLING_INTERVAL (34, 4): the exporter default */
	s = set_begin(&p, 1);
	put16(&p, 301);
	put16(&p, 4);
	put16(&p, 4);
	put16(&p, 1);
	put16(&p, 4);
	put16(&p, 34);
	put16(&p, 4);
	set_end(&p, s);
	/* data template 270: src, dst, FLOW_SAMPLER_ID */
	s = set_begin(&p, 0);
	put16(&p, 270);
	put16(&p, 3);
	put16(&p, 8);
	put16(&p, 4);
	put16(&p, 12);
	put16(&p, 4);
	put16(&p, 48);
	put16(&p, 1);
	set_end(&p, s);
	template_v4(&p);
	/* options data: sampler 7 samples 1 in 512, sampler 9 1 in 64; default 1 in 1000 */
	s = set_begin(&p, 300);
	put32(&p, 0);
	put8(&p, 7);
	put32(&p, 512);
	put32(&p, 0);
	put8(&p, 9);
	put32(&p, 64);
	set_end(&p, s);
	s = set_begin(&p, 301);
	put32(&p, 0);
	put32(&p, 1000);
	set_end(&p, s);
	/* data: sampler 9, sampler 7, unknown sampler 3, and one without a sampler id */
	s = set_begin(&p, 270);
	uint8_t samplers[] = {9, 7, 3};
	for (int i = 0; i < 3; i++) {
		v4(&p, "203.0.113.1");
		v4(&p, "192.0.2.1");
		put8(&p, samplers[i]);
	}
	set_end(&p, s);
	s = set_begin(&p, 260);
	data_v4(&p, "203.0.113.1", 1000);
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.r[0].sampling_rate, 64);
	assert_int_equal(c.r[1].sampling_rate, 512);
	assert_int_equal(c.r[2].sampling_rate, 1000);
	assert_int_equal(c.r[3].sampling_rate, 1000);
	/* options records are not flow records, and the System scope was not read as bytes */
	assert_int_equal(c.r[0].bytes, 0);
	assert_int_equal(exporter_at(ctx, 0)->templates, 4);
	cap_flow_free(ctx);
}

static void test_bad_templates_refused(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	size_t s = set_begin(&p, 0);
	put16(&p, 256); /* zero fields */
	put16(&p, 0);
	put16(&p, 12);  /* template id below 256 */
	put16(&p, 1);
	put16(&p, 8);
	put16(&p, 4);
	put16(&p, 257); /* every field zero-length: zero-length records */
	put16(&p, 2);
	put16(&p, 8);
	put16(&p, 0);
	put16(&p, 12);
	put16(&p, 0);
	put16(&p, 258); /* record length 2 * 65535 */
	put16(&p, 2);
	put16(&p, 1);
	put16(&p, 65535);
	put16(&p, 2);
	put16(&p, 65535);
	put16(&p, 259); /* 129 fields */
	put16(&p, 129);
	for (int i = 0; i < 129; i++) {
		put16(&p, 1);
		put16(&p, 1);
	}
	put16(&p, 260); /* and a good one after all that */
	put16(&p, 1);
	put16(&p, 8);
	put16(&p, 4);
	set_end(&p, s);
	/* zero-length data set for the zero-length template: must not spin */
	s = set_begin(&p, 257);
	put32(&p, 0);
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->templates_refused, 5);
	assert_int_equal(e->templates, 1);
	assert_int_equal(e->template_misses, 1);
	cap_flow_free(ctx);
}

static void test_template_flood_bounded(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_templates = 4};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	size_t s = set_begin(&p, 0);
	for (uint16_t id = 1000; id > 990; id--) { /* descending: exercises sorted insertion */
		put16(&p, id);
		put16(&p, 1);
		put16(&p, 8);
		put16(&p, 4);
	}
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->templates, 4);
	assert_int_equal(e->templates_refused, 6);
	/* a refresh of a held template still works, and changes it: now src + dst */
	pkt_init(&p);
	header(&p, 2, 0);
	s = set_begin(&p, 0);
	put16(&p, 997);
	put16(&p, 2);
	put16(&p, 8);
	put16(&p, 4);
	put16(&p, 12);
	put16(&p, 4);
	set_end(&p, s);
	s = set_begin(&p, 997);
	v4(&p, "203.0.113.7");
	v4(&p, "192.0.2.7");
	set_end(&p, s);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_addr(&c.r[0].dst, "192.0.2.7");
	assert_int_equal(exporter_at(ctx, 0)->templates_refused, 6);
	cap_flow_free(ctx);
}

static void test_bad_set_lengths(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	/* set length past the datagram: the template before it is kept */
	pkt_init(&p);
	header(&p, 1, 0);
	template_v4(&p);
	put16(&p, 260);
	put16(&p, 400);
	data_v4(&p, "203.0.113.1", 1000);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_TRUNCATED);
	assert_int_equal(c.n, 0);
	assert_int_equal(exporter_at(ctx, 0)->templates, 1);
	/* set length below 4 */
	pkt_init(&p);
	header(&p, 2, 0);
	put16(&p, 260);
	put16(&p, 2);
	put32(&p, 0);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	/* template set ending inside a template */
	pkt_init(&p);
	header(&p, 3, 0);
	size_t s = set_begin(&p, 0);
	put16(&p, 300);
	put16(&p, 10);
	put16(&p, 8);
	put16(&p, 4);
	set_end(&p, s);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->malformed, 3);
	assert_int_equal(e->templates, 1);
	/* a short datagram and another version */
	assert_int_equal(cap_netflow9_decode(ctx, p.b, 19, &e->addr, 7, collect_fn, &c),
			 CAP_FLOW_TRUNCATED);
	p.b[1] = 10;
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_VERSION);
	cap_flow_free(ctx);
}

static void test_field_widths(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	/* bytes in 8, packets in 1, ports in 1 (odd but legal); a 6-byte IPv4 field is not an
	 * address (skipped); IPv6 source; an unknown field 999 of 3 bytes; a 12-byte counter is
	 * skipped rather than half-read */
	size_t s = set_begin(&p, 0);
	put16(&p, 280);
	put16(&p, 8);
	uint16_t f[][2] = {{1, 8}, {2, 1}, {7, 1}, {12, 6}, {27, 16}, {999, 3}, {23, 12}, {28, 16}};
	for (int i = 0; i < 8; i++) {
		put16(&p, f[i][0]);
		put16(&p, f[i][1]);
	}
	set_end(&p, s);
	s = set_begin(&p, 280);
	put64(&p, 0x123456789aull);
	put8(&p, 200);
	put8(&p, 80);
	putn(&p, "\1\2\3\4\5\6", 6);
	v6(&p, "2001:db8:ff::1");
	putn(&p, "\7\7\7", 3);
	putn(&p, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
	v6(&p, "2001:db8:10::53");
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].bytes, 0x123456789aull);
	assert_int_equal(c.r[0].packets, 200);
	assert_int_equal(c.r[0].src_port, 80);
	assert_int_equal(c.r[0].ip_version, 6);
	assert_addr(&c.r[0].src, "2001:db8:ff::1");
	assert_addr(&c.r[0].dst, "2001:db8:10::53");
	cap_flow_free(ctx);
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	header(&p, 1, 0);
	template_v4(&p);
	size_t s = set_begin(&p, 260);
	data_v4(&p, "203.0.113.1", 1000);
	data_v4(&p, "203.0.113.2", 1001);
	set_end(&p, s);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	/* with the template known, and then without it (fresh contexts inside) */
	truncate_everywhere(ctx, cap_netflow9_decode, p.b, p.w.len, 2);
	struct cap_flow_ctx *fresh = cap_flow_new(NULL);
	truncate_everywhere(fresh, cap_netflow9_decode, p.b, p.w.len, 2);
	cap_flow_free(fresh);
	cap_flow_free(ctx);
}

/* A template refresh with a new layout for the same id replaces the old one (a router reboot
 * or reconfiguration): later data is read by the new layout, the count of templates holds. */
static void test_template_refresh(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	pkt_init(&p);
	header(&p, 1, 0);
	template_v4(&p);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	pkt_init(&p);
	header(&p, 2, 0);
	size_t s = set_begin(&p, 0);
	put16(&p, 260);
	put16(&p, 4);
	put16(&p, 12); put16(&p, 4); /* dst first now */
	put16(&p, 8); put16(&p, 4);
	put16(&p, 4); put16(&p, 1);
	put16(&p, 1); put16(&p, 8); /* bytes widened to 8 */
	set_end(&p, s);
	s = set_begin(&p, 260);
	v4(&p, "192.0.2.30");
	v4(&p, "198.51.100.1");
	put8(&p, 1);
	put64(&p, 5000000000ull);
	put8(&p, 0); put8(&p, 0); put8(&p, 0); /* padding */
	set_end(&p, s);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_addr(&c.r[0].src, "198.51.100.1");
	assert_addr(&c.r[0].dst, "192.0.2.30");
	assert_int_equal(c.r[0].protocol, 1);
	assert_int_equal(c.r[0].bytes, 5000000000ull);
	assert_int_equal(exporter_at(ctx, 0)->templates, 1);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 0);
	cap_flow_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_then_data),
		cmocka_unit_test(test_dual_stack_template),
		cmocka_unit_test(test_data_before_template_is_dropped),
		cmocka_unit_test(test_templates_keyed_by_source_id),
		cmocka_unit_test(test_sequence_counts_datagrams),
		cmocka_unit_test(test_options_sampling),
		cmocka_unit_test(test_bad_templates_refused),
		cmocka_unit_test(test_template_flood_bounded),
		cmocka_unit_test(test_bad_set_lengths),
		cmocka_unit_test(test_field_widths),
		cmocka_unit_test(test_template_refresh),
		cmocka_unit_test(test_truncated_everywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
