/* The flow decoders' exporter and template tables under hostile load: bounds in total and per
 * source address, the eviction order (never an active exporter that sent valid data), the
 * template memory budget, the allow-list, and the index after heavy churn. */
#include "flow_test_util.h"

#define S (1000000000ull) /* ns per second */

/* NetFlow v5, one record 10.0.0.1 -> 192.0.2.10, engine id `engine`. */
static size_t v5(struct pkt *p, uint8_t engine, uint32_t seq)
{
	pkt_init(p);
	put16(p, 5);
	put16(p, 1);
	put32(p, 100000);
	put32(p, 1795411865u);
	put32(p, 0);
	put32(p, seq);
	put8(p, 0);
	put8(p, engine);
	put16(p, 0);
	v4(p, "10.0.0.1");
	v4(p, "192.0.2.10");
	put32(p, 0);
	put16(p, 1);
	put16(p, 2);
	put32(p, 10);
	put32(p, 15000);
	put32(p, 99000);
	put32(p, 99500);
	put16(p, 1234);
	put16(p, 80);
	put8(p, 0);
	put8(p, 2);
	put8(p, 6);
	put8(p, 0);
	put32(p, 0);
	put32(p, 0);
	return p->w.len;
}

/* NetFlow v9 from source id `sid`: ntmpl templates (ids 256..) of IPv4 src/dst + octets, then,
 * when with_data, one data record for template 256. */
static size_t v9(struct pkt *p, uint32_t sid, uint32_t seq, unsigned ntmpl, bool with_data)
{
	pkt_init(p);
	put16(p, 9);
	put16(p, 0);
	put32(p, 100000);
	put32(p, 1795411865u);
	put32(p, seq);
	put32(p, sid);
	if (ntmpl) {
		size_t s = set_begin(p, 0);
		for (unsigned t = 0; t < ntmpl; t++) {
			put16(p, (uint16_t)(256 + t));
			put16(p, 3);
			put16(p, 8);
			put16(p, 4);
			put16(p, 12);
			put16(p, 4);
			put16(p, 1);
			put16(p, 4);
		}
		set_end(p, s);
	}
	if (with_data) {
		size_t s = set_begin(p, 256);
		v4(p, "10.0.0.2");
		v4(p, "192.0.2.20");
		put32(p, 1500);
		set_end(p, s);
	}
	return p->w.len;
}

static ip_addr nth_addr(uint32_t i)
{
	ip_addr a;
	uint8_t b[4] = {127, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
	ip_from_v4(&a, b);
	return a;
}

static enum cap_flow_result send(struct cap_flow_ctx *ctx, cap_flow_decode_fn dec, struct pkt *p,
				 const char *from, uint64_t now, struct collect *c)
{
	ip_addr a = addr(from);
	c->n = 0;
	return dec(ctx, p->b, p->w.len, &a, now, collect_fn, c);
}

static bool has_exporter(struct cap_flow_ctx *ctx, const char *a, uint32_t domain)
{
	static struct cap_exporter_info info[4096];
	size_t n = cap_flow_exporters(ctx, info, 4096);
	ip_addr want = addr(a);
	for (size_t i = 0; i < n && i < 4096; i++)
		if (ip_equal(&info[i].addr, &want) && info[i].domain == domain)
			return true;
	return false;
}

/* A template flood from 5000 fresh addresses (random source ids) cannot push out a NetFlow v5
 * exporter that sends valid data, nor a v9 one; the table and template memory stay bounded. */
static void test_flood_cannot_evict_valid_exporter(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_exporters = 64, .max_templates = 32,
				      .max_template_bytes = 256 << 10};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	static struct collect c;
	v5(&p, 1, 0);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.1", 1 * S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	v9(&p, 7, 0, 1, true);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.2", 1 * S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	uint32_t rnd = 12345;
	for (uint32_t i = 0; i < 5000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		v9(&p, rnd, i, 32, false);
		ip_addr a = nth_addr(i);
		cap_netflow_decode(ctx, p.b, p.w.len, &a, (2 + i / 1000) * S, collect_fn, &c);
	}
	struct cap_flow_stats st;
	cap_flow_stats(ctx, &st);
	assert_true(st.exporters <= 64);
	assert_true(st.template_bytes <= cfg.max_template_bytes);
	assert_true(st.evicted >= 5000 - 64);
	assert_true(has_exporter(ctx, "192.0.2.1", 1));
	assert_true(has_exporter(ctx, "192.0.2.2", 7));
	/* both still decode: the v9 one with the template it sent before the flood */
	v5(&p, 1, 1);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.1", 7 * S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	v9(&p, 7, 1, 0, true);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.2", 7 * S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	cap_flow_free(ctx);
}

/* Eviction order: first entries that never produced a record (fewest datagrams, then the
 * least recently seen), then idle ones; an active valid exporter never. */
static void test_eviction_order(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_exporters = 4, .idle_s = 300};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	static struct collect c;
	v5(&p, 0, 0);
	send(ctx, cap_netflow_decode, &p, "192.0.2.1", 0, &c);           /* A: valid */
	send(ctx, cap_netflow_decode, &p, "192.0.2.4", 0, &c);           /* D: valid, goes idle */
	for (int i = 0; i < 3; i++) {
		v9(&p, 1, (uint32_t)i, 1, false);
		send(ctx, cap_netflow_decode, &p, "192.0.2.2", (uint64_t)i * S, &c); /* B: 3 dgrams */
	}
	v9(&p, 1, 0, 1, false);
	send(ctx, cap_netflow_decode, &p, "192.0.2.3", 0, &c);           /* C: 1 datagram */
	v5(&p, 0, 1);
	send(ctx, cap_netflow_decode, &p, "192.0.2.1", 1000 * S, &c);    /* A active at 1000 s */

	v9(&p, 1, 0, 1, false);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "198.51.100.1", 1000 * S, &c), CAP_FLOW_OK);
	assert_false(has_exporter(ctx, "192.0.2.3", 1)); /* C: unproven, fewest datagrams */
	assert_true(has_exporter(ctx, "192.0.2.2", 1));
	send(ctx, cap_netflow_decode, &p, "198.51.100.2", 1000 * S, &c);
	assert_false(has_exporter(ctx, "198.51.100.1", 1)); /* 1 datagram < B's 3 */
	assert_true(has_exporter(ctx, "192.0.2.2", 1));
	assert_true(has_exporter(ctx, "192.0.2.4", 0)); /* idle, but unproven ones go first */

	/* Proven entries only, one idle: the idle one goes. */
	v9(&p, 1, 9, 1, true);
	send(ctx, cap_netflow_decode, &p, "192.0.2.2", 1000 * S, &c);
	send(ctx, cap_netflow_decode, &p, "198.51.100.2", 1000 * S, &c);
	v5(&p, 0, 0);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "203.0.113.1", 1001 * S, &c), CAP_FLOW_OK);
	assert_false(has_exporter(ctx, "192.0.2.4", 0));
	assert_true(has_exporter(ctx, "192.0.2.1", 0));

	/* All four proven and active: a newcomer is refused, counted, nothing evicted. */
	struct cap_flow_stats before, after;
	cap_flow_stats(ctx, &before);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "203.0.113.2", 1001 * S, &c),
			 CAP_FLOW_TABLE_FULL);
	cap_flow_stats(ctx, &after);
	assert_int_equal(after.refused[CAP_REFUSE_TABLE_FULL], before.refused[CAP_REFUSE_TABLE_FULL] + 1);
	assert_int_equal(after.evicted, before.evicted);
	assert_int_equal(after.exporters, 4);
	cap_flow_free(ctx);
}

/* A source-id flood from one address (the real exporter's, spoofed) stays within
 * max_domains_per_addr; the real domain keeps its slot and its templates, other addresses are
 * untouched. */
static void test_domains_per_address(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_exporters = 32, .max_domains_per_addr = 4};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	static struct collect c;
	v9(&p, 1, 0, 1, true);
	send(ctx, cap_netflow_decode, &p, "192.0.2.1", S, &c);
	v5(&p, 0, 0);
	send(ctx, cap_netflow_decode, &p, "192.0.2.9", S, &c);
	for (uint32_t i = 0; i < 2000; i++) {
		v9(&p, 100 + i, i, 4, false);
		send(ctx, cap_netflow_decode, &p, "192.0.2.1", 2 * S, &c);
	}
	struct cap_flow_stats st;
	cap_flow_stats(ctx, &st);
	assert_int_equal(st.exporters, 2 + 3);
	assert_true(has_exporter(ctx, "192.0.2.1", 1));
	assert_true(has_exporter(ctx, "192.0.2.9", 0));
	v9(&p, 1, 1, 0, true);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.1", 3 * S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);

	/* Four proven domains on one address: a fifth is refused by reason. */
	for (uint32_t d = 2; d <= 4; d++) {
		v9(&p, d, 0, 1, true);
		send(ctx, cap_netflow_decode, &p, "192.0.2.1", 3 * S, &c);
	}
	v9(&p, 5, 0, 1, true);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.1", 3 * S, &c), CAP_FLOW_TABLE_FULL);
	cap_flow_stats(ctx, &st);
	assert_int_equal(st.refused[CAP_REFUSE_ADDR_DOMAINS], 1);
	cap_flow_free(ctx);
}

/* The template budget: templates of unproven exporters are reclaimed for anyone; a proven
 * exporter's never; when nothing can be reclaimed the template is refused by reason. */
static void test_template_memory(void **state)
{
	(void)state;
	/* Room for the slot arrays of a few exporters and a handful of templates. */
	struct cap_flow_config cfg = {.max_exporters = 16, .max_templates = 8,
				      .max_template_bytes = 4 * 8 * sizeof(void *) + 6 * 1100};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	static struct collect c;
	v9(&p, 1, 0, 2, true);
	send(ctx, cap_netflow_decode, &p, "192.0.2.1", S, &c);
	assert_int_equal(c.n, 1);
	for (uint32_t i = 0; i < 100; i++) {
		v9(&p, 1, 0, 8, false);
		ip_addr a = nth_addr(i);
		cap_netflow_decode(ctx, p.b, p.w.len, &a, 2 * S, collect_fn, &c);
	}
	struct cap_flow_stats st;
	cap_flow_stats(ctx, &st);
	assert_true(st.template_bytes <= cfg.max_template_bytes);
	assert_true(st.templates_reclaimed > 0);
	assert_true(st.refused[CAP_REFUSE_TEMPLATE_MEMORY] > 0);
	v9(&p, 1, 1, 0, true);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.1", 3 * S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1); /* its template survived */
	cap_flow_free(ctx);
}

/* The allow-list: datagrams from elsewhere are counted and dropped without an exporter entry,
 * even when they are garbage. */
static void test_allow_list(void **state)
{
	(void)state;
	ip_prefix allow[2];
	assert_true(ip_prefix_parse("192.0.2.0/24", &allow[0]));
	assert_true(ip_prefix_parse("2001:db8::/32", &allow[1]));
	struct cap_flow_config cfg = {.allow = allow, .n_allow = 2};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	memset(allow, 0, sizeof allow); /* the context keeps its own copy */
	struct pkt p;
	static struct collect c;
	v5(&p, 0, 0);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "198.51.100.1", S, &c), CAP_FLOW_NOT_ALLOWED);
	assert_int_equal(c.n, 0);
	assert_int_equal(send(ctx, cap_sflow_decode, &p, "198.51.100.1", S, &c), CAP_FLOW_NOT_ALLOWED);
	assert_int_equal(send(ctx, cap_ipfix_decode, &p, "2001:db9::1", S, &c), CAP_FLOW_NOT_ALLOWED);
	assert_int_equal(send(ctx, cap_netflow_decode, &p, "192.0.2.77", S, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	struct cap_flow_stats st;
	cap_flow_stats(ctx, &st);
	assert_int_equal(st.refused[CAP_REFUSE_NOT_ALLOWED], 3);
	assert_int_equal(st.result[CAP_FLOW_NOT_ALLOWED], 3);
	assert_int_equal(st.exporters, 1);
	cap_flow_free(ctx);
}

/* Heavy churn through evictions (backward-shift deletions in both indexes): afterwards every
 * exporter in the table is found again, never created twice. */
static void test_index_after_churn(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_exporters = 50, .max_domains_per_addr = 3};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct pkt p;
	static struct collect c;
	uint32_t rnd = 7;
	for (uint32_t i = 0; i < 20000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		v9(&p, rnd % 7, i, 1, (rnd >> 20) % 5 == 0);
		ip_addr a = nth_addr((rnd >> 8) % 97);
		cap_netflow_decode(ctx, p.b, p.w.len, &a, (uint64_t)i * 1000, collect_fn, &c);
	}
	static struct cap_exporter_info info[64];
	size_t n = cap_flow_exporters(ctx, info, 64);
	assert_true(n <= 50);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_false(ip_equal(&info[i].addr, &info[j].addr) && info[i].domain == info[j].domain);
	struct cap_flow_stats before, after;
	cap_flow_stats(ctx, &before);
	for (size_t i = 0; i < n; i++) {
		v9(&p, info[i].domain, 0, 0, false);
		cap_netflow_decode(ctx, p.b, p.w.len, &info[i].addr, 30 * S, collect_fn, &c);
	}
	cap_flow_stats(ctx, &after);
	assert_int_equal(after.evicted, before.evicted);
	assert_int_equal(after.exporters, n);
	cap_flow_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_cannot_evict_valid_exporter),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_domains_per_address),
		cmocka_unit_test(test_template_memory),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_index_after_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
