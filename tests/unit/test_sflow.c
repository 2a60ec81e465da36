/* sFlow v5 decoder: flow samples with raw packet headers (Ethernet, IPv6), expanded formats,
 * sampled IPv4 records, counter samples skipped, enterprise formats skipped, sequence gaps in
 * datagrams, and hostile datagrams (length lies, huge counts, zero-length headers, truncation). */
#include "flow_test_util.h"

#define RECV_NS 1795411865000000000ull

/* sFlow lengths are 32-bit, written once the body is known. */
static size_t mark32(struct pkt *p)
{
	size_t at = p->w.len;
	put32(p, 0);
	return at;
}

static void end32(struct pkt *p, size_t at)
{
	uint32_t v = (uint32_t)(p->w.len - at - 4);
	p->b[at] = (uint8_t)(v >> 24);
	p->b[at + 1] = (uint8_t)(v >> 16);
	p->b[at + 2] = (uint8_t)(v >> 8);
	p->b[at + 3] = (uint8_t)v;
}

static void dgram_begin(struct pkt *p, uint32_t seq, uint32_t nsamples)
{
	pkt_init(p);
	put32(p, 5);
	put32(p, 1); /* agent address: IPv4 */
	v4(p, "10.9.9.9");
	put32(p, 0); /* sub-agent */
	put32(p, seq);
	put32(p, 123456); /* uptime ms */
	put32(p, nsamples);
}

/* A 64-byte Ethernet frame with an 802.1Q tag: IPv4 UDP 198.51.100.7:123 -> 192.0.2.10:4444,
 * IP total length 468 (the frame was cut to 64 bytes by the exporter). */
static const uint8_t eth_ntp[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* dst, src MAC */
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00,                                     /* VLAN 100, IPv4 */
	0x45, 0x00, 0x01, 0xd4, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, /* len 468, UDP */
	198, 51, 100, 7, 192, 0, 2, 10,
	0x00, 0x7b, 0x11, 0x5c, 0x01, 0xc0, 0x00, 0x00, /* ports 123 -> 4444 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* IPv6 TCP SYN 2001:db8:ff::1:40000 -> 2001:db8:10::53:80, payload length 20. */
static const uint8_t ip6_syn[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
	0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0x00, 0, 0, 0, 0,
};

/* An ARP frame: no IP flow in it. */
static const uint8_t eth_arp[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
};

static void raw_header_rec(struct pkt *p, uint32_t proto, const uint8_t *h, uint32_t hlen)
{
	put32(p, 1); /* raw packet header */
	size_t l = mark32(p);
	put32(p, proto);
	put32(p, hlen + 400); /* frame length on the wire */
	put32(p, 4);          /* stripped */
	put32(p, hlen);
	putn(p, h, hlen);
	while (p->w.len % 4)
		put8(p, 0);
	end32(p, l);
}

static void switch_rec(struct pkt *p, uint32_t vlan)
{
	put32(p, 1001);
	size_t l = mark32(p);
	put32(p, vlan);
	put32(p, 0);
	put32(p, vlan);
	put32(p, 0);
	end32(p, l);
}

/* Compact flow sample; returns where nrec is so a test can lie about it. */
static size_t flow_sample_begin(struct pkt *p, uint32_t rate, uint32_t in, uint32_t out,
				uint32_t nrec, size_t *len_at)
{
	put32(p, 1);
	*len_at = mark32(p);
	put32(p, 77);  /* sample sequence */
	put32(p, 3);   /* source id */
	put32(p, rate);
	put32(p, 1000); /* pool */
	put32(p, 0);    /* drops */
	put32(p, in);
	put32(p, out);
	size_t at = p->w.len;
	put32(p, nrec);
	return at;
}

static void counter_sample(struct pkt *p)
{
	put32(p, 2);
	size_t l = mark32(p);
	put32(p, 1); /* sequence */
	put32(p, 3); /* source id */
	put32(p, 1); /* one record: generic interface counters, body opaque to us */
	put32(p, 1);
	size_t r = mark32(p);
	for (int i = 0; i < 22; i++)
		put32(p, 0xdeadbeef);
	end32(p, r);
	end32(p, l);
}

static enum cap_flow_result decode(struct cap_flow_ctx *ctx, struct pkt *p, struct collect *c)
{
	ip_addr ex = addr("192.0.2.250");
	return cap_sflow_decode(ctx, p->b, p->w.len, &ex, RECV_NS, collect_fn, c);
}

static void test_raw_header_flow_sample(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	size_t l;
	dgram_begin(&p, 1, 1);
	flow_sample_begin(&p, 8, 5, 7, 2, &l);
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	switch_rec(&p, 100);
	end32(&p, l);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	const struct flow_record *r = &c.r[0];
	assert_addr(&r->src, "198.51.100.7");
	assert_addr(&r->dst, "192.0.2.10");
	assert_addr(&r->exporter, "192.0.2.250");
	assert_int_equal(r->ip_version, 4);
	assert_int_equal(r->protocol, 17);
	assert_int_equal(r->src_port, 123);
	assert_int_equal(r->dst_port, 4444);
	assert_int_equal(r->bytes, 468); /* IP total length, not the 64 captured bytes */
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->sampling_rate, 8);
	assert_int_equal(r->in_if, 5);
	assert_int_equal(r->out_if, 7);
	assert_int_equal(r->vlan, 100);
	assert_int_equal(r->start_ns, RECV_NS);
	assert_int_equal(r->source, FLOW_SRC_SFLOW);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_addr(&e->agent, "10.9.9.9");
	assert_int_equal(e->sampling_rate, 8);
	assert_int_equal(e->records, 1);
	assert_int_equal(e->datagrams, 1);
	assert_int_equal(e->malformed, 0);
	cap_flow_free(ctx);
}

static void switch_rec2(struct pkt *p, uint32_t in_vlan, uint32_t out_vlan)
{
	put32(p, 1001);
	size_t l = mark32(p);
	put32(p, in_vlan);
	put32(p, 0);
	put32(p, out_vlan);
	put32(p, 0);
	end32(p, l);
}

/* ifIndex 0x3FFFFFFF is the agent itself ("internal"), not interface 1073741823; an incoming
 * VLAN that is no VLAN id (0xFFFFFFFF "unknown", 0, 5000) is not taken: the header's tag (none
 * here) stands, and the outgoing VLAN is not the packet's. */
static void test_internal_ifindex_and_unknown_vlan(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	size_t l;
	dgram_begin(&p, 1, 3);
	flow_sample_begin(&p, 8, 27, 0x3fffffff, 2, &l);
	raw_header_rec(&p, 11, ip6_syn, sizeof ip6_syn);
	switch_rec2(&p, 0xffffffff, 100);
	end32(&p, l);
	flow_sample_begin(&p, 8, 0x3fffffff, 28, 2, &l);
	raw_header_rec(&p, 11, ip6_syn, sizeof ip6_syn);
	switch_rec2(&p, 0, 3001);
	end32(&p, l);
	flow_sample_begin(&p, 8, 0x3ffffffe, 28, 2, &l);
	raw_header_rec(&p, 11, ip6_syn, sizeof ip6_syn);
	switch_rec2(&p, 5000, 0xffffffff);
	end32(&p, l);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].in_if, 27);
	assert_int_equal(c.r[0].out_if, 0);
	assert_int_equal(c.r[0].vlan, 0);
	assert_int_equal(c.r[1].in_if, 0);
	assert_int_equal(c.r[1].out_if, 28);
	assert_int_equal(c.r[1].vlan, 0);
	assert_int_equal(c.r[2].in_if, 0x3ffffffe);
	assert_int_equal(c.r[2].vlan, 0);
	cap_flow_free(ctx);
}

static void test_counter_samples_skipped(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	size_t l;
	dgram_begin(&p, 1, 3);
	counter_sample(&p);
	flow_sample_begin(&p, 16, 1, 2, 1, &l);
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	end32(&p, l);
	counter_sample(&p);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].sampling_rate, 16);
	assert_int_equal(exporter_at(ctx, 0)->counter_samples, 2);
	assert_int_equal(exporter_at(ctx, 0)->records, 1);
	cap_flow_free(ctx);
}

static void test_expanded_sample_ipv6_header(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	dgram_begin(&p, 1, 2);
	/* expanded flow sample: separate source id type/index, interface format/value words */
	put32(&p, 3);
	size_t l = mark32(&p);
	put32(&p, 9);      /* sequence */
	put32(&p, 0);      /* source id type */
	put32(&p, 70000);  /* source id index: wider than the compact 24 bits */
	put32(&p, 512);    /* rate */
	put32(&p, 100000); /* pool */
	put32(&p, 0);      /* drops */
	put32(&p, 0);
	put32(&p, 0x40000001u); /* ifIndex wider than the compact form's 30 bits */
	put32(&p, 0);
	put32(&p, 12);
	put32(&p, 1);
	raw_header_rec(&p, 12, ip6_syn, sizeof ip6_syn); /* header_protocol IPv6 */
	end32(&p, l);
	/* expanded counter sample: counted, skipped */
	put32(&p, 4);
	l = mark32(&p);
	put32(&p, 1);
	put32(&p, 0);
	put32(&p, 1);
	put32(&p, 0);
	end32(&p, l);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	const struct flow_record *r = &c.r[0];
	assert_int_equal(r->ip_version, 6);
	assert_addr(&r->src, "2001:db8:ff::1");
	assert_addr(&r->dst, "2001:db8:10::53");
	assert_int_equal(r->protocol, 6);
	assert_int_equal(r->src_port, 40000);
	assert_int_equal(r->dst_port, 80);
	assert_int_equal(r->tcp_flags, 0x02);
	assert_int_equal(r->bytes, 60); /* 40 + payload length 20 */
	assert_int_equal(r->sampling_rate, 512);
	assert_int_equal(r->in_if, 0x40000001u);
	assert_int_equal(r->out_if, 12);
	assert_int_equal(exporter_at(ctx, 0)->counter_samples, 1);
	cap_flow_free(ctx);
}

static void test_sampled_ipv4_without_header(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	size_t l;
	dgram_begin(&p, 1, 1);
	flow_sample_begin(&p, 4, 1, 2, 1, &l);
	put32(&p, 3); /* sampled IPv4 */
	size_t rl = mark32(&p);
	put32(&p, 1500);
	put32(&p, 6);
	v4(&p, "203.0.113.9");
	v4(&p, "192.0.2.20");
	put32(&p, 51000);
	put32(&p, 80);
	put32(&p, 0x12);
	put32(&p, 0x10);
	end32(&p, rl);
	end32(&p, l);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_addr(&c.r[0].src, "203.0.113.9");
	assert_addr(&c.r[0].dst, "192.0.2.20");
	assert_int_equal(c.r[0].bytes, 1500);
	assert_int_equal(c.r[0].dst_port, 80);
	assert_int_equal(c.r[0].tcp_flags, 0x12);
	assert_int_equal(c.r[0].tos, 0x10);
	assert_int_equal(c.r[0].sampling_rate, 4);
	cap_flow_free(ctx);
}

static void test_enterprise_and_non_ip_skipped(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	size_t l;
	dgram_begin(&p, 1, 3);
	/* an enterprise sample format (enterprise 4413, format 1): skipped by its length */
	put32(&p, (4413u << 12) | 1);
	l = mark32(&p);
	put32(&p, 0xffffffffu);
	put32(&p, 0xffffffffu);
	end32(&p, l);
	/* an ARP frame: no IP flow, counted as skipped */
	flow_sample_begin(&p, 8, 1, 2, 1, &l);
	raw_header_rec(&p, 1, eth_arp, sizeof eth_arp);
	end32(&p, l);
	/* a flow sample whose first record is an enterprise format with garbage in it */
	flow_sample_begin(&p, 8, 1, 2, 2, &l);
	put32(&p, (9u << 12) | 1);
	size_t rl = mark32(&p);
	put32(&p, 0xffffffffu);
	end32(&p, rl);
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	end32(&p, l);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].dst_port, 4444);
	assert_int_equal(exporter_at(ctx, 0)->skipped, 1);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 0);
	cap_flow_free(ctx);
}

static void test_sequence_counts_datagrams(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	uint32_t seqs[] = {10, 11, 15, 16, 3 /* agent restart: resync, no gap */, 4};
	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
		dgram_begin(&p, seqs[i], 0);
		assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	}
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 3);
	assert_int_equal(exporter_at(ctx, 0)->datagrams, 6);
	cap_flow_free(ctx);
}

/* One good sample, used after a bad one to prove the datagram goes on. */
static void good_sample(struct pkt *p)
{
	size_t l;
	flow_sample_begin(p, 8, 1, 2, 1, &l);
	raw_header_rec(p, 1, eth_ntp, sizeof eth_ntp);
	end32(p, l);
}

static void test_hostile(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	size_t l;

	/* wrong version */
	dgram_begin(&p, 1, 0);
	p.b[3] = 4;
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_VERSION);
	/* bad agent address type */
	dgram_begin(&p, 1, 0);
	p.b[7] = 3;
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_TRUNCATED);
	/* a sample count no datagram could hold */
	dgram_begin(&p, 1, 0xffffffffu);
	good_sample(&p);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	assert_int_equal(c.n, 0);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 1);

	/* a record count past its sample: that sample is skipped, the next one is decoded */
	dgram_begin(&p, 2, 2);
	size_t nrec_at = flow_sample_begin(&p, 8, 1, 2, 1, &l);
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	end32(&p, l);
	p.b[nrec_at] = 0x7f;
	good_sample(&p);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	assert_int_equal(c.n, 1);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 2);

	/* a record length that lies (past its sample): sample skipped, next decoded */
	c.n = 0;
	dgram_begin(&p, 3, 2);
	flow_sample_begin(&p, 8, 1, 2, 1, &l);
	size_t rec_at = p.w.len;
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	end32(&p, l);
	p.b[rec_at + 6] = 0x10; /* record length += 4096 */
	good_sample(&p);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	assert_int_equal(c.n, 1);

	/* a header length past its record */
	c.n = 0;
	dgram_begin(&p, 4, 2);
	flow_sample_begin(&p, 8, 1, 2, 1, &l);
	rec_at = p.w.len;
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	end32(&p, l);
	p.b[rec_at + 8 + 12 + 2] = 0x01; /* header length += 256 */
	good_sample(&p);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	assert_int_equal(c.n, 1);

	/* zero-length raw header and zero-length records: no flow, no crash */
	c.n = 0;
	dgram_begin(&p, 5, 1);
	flow_sample_begin(&p, 8, 1, 2, 3, &l);
	raw_header_rec(&p, 1, eth_ntp, 0);
	put32(&p, 1001);
	put32(&p, 0); /* zero-length switch record: too short for its fields */
	put32(&p, 3);
	put32(&p, 0);
	end32(&p, l);
	decode(ctx, &p, &c);
	assert_int_equal(c.n, 0);

	/* a zero-length sample and a sampling rate of 0 (never a rate of 0 in a record) */
	c.n = 0;
	dgram_begin(&p, 6, 2);
	put32(&p, 1);
	put32(&p, 0);
	flow_sample_begin(&p, 0, 1, 2, 1, &l);
	raw_header_rec(&p, 1, eth_ntp, sizeof eth_ntp);
	end32(&p, l);
	decode(ctx, &p, &c);
	assert_int_equal(c.n, 1);
	assert_true(c.r[0].sampling_rate >= 1);

	/* a sample length that lies (past the datagram) */
	c.n = 0;
	dgram_begin(&p, 7, 1);
	good_sample(&p);
	p.b[28 + 4] = 0x01; /* sample length += 16 MiB */
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_TRUNCATED);
	assert_int_equal(c.n, 0);

	struct cap_flow_stats st;
	cap_flow_stats(ctx, &st);
	assert_int_equal(st.result[CAP_FLOW_VERSION], 1);
	assert_true(st.result[CAP_FLOW_MALFORMED] >= 4);
	cap_flow_free(ctx);
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	size_t l;
	dgram_begin(&p, 1, 3);
	counter_sample(&p);
	good_sample(&p);
	flow_sample_begin(&p, 8, 1, 2, 2, &l);
	raw_header_rec(&p, 12, ip6_syn, sizeof ip6_syn);
	switch_rec(&p, 5);
	end32(&p, l);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	truncate_everywhere(ctx, cap_sflow_decode, p.b, p.w.len, 2);
	cap_flow_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_header_flow_sample),
		cmocka_unit_test(test_internal_ifindex_and_unknown_vlan),
		cmocka_unit_test(test_counter_samples_skipped),
		cmocka_unit_test(test_expanded_sample_ipv6_header),
		cmocka_unit_test(test_sampled_ipv4_without_header),
		cmocka_unit_test(test_enterprise_and_non_ip_skipped),
		cmocka_unit_test(test_sequence_counts_datagrams),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_truncated_everywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
