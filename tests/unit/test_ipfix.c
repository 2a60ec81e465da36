/* IPFIX decoder: templates, withdrawals, enterprise and variable-length fields, options
 * sampling, sequence in data records, and hostile messages. */
#include "flow_test_util.h"

#define EXPORT_S 1795411865u

static size_t msg_begin(struct pkt *p, uint32_t seq, uint32_t odid)
{
	put16(p, 10);
	size_t at = mark16(p);
	put32(p, EXPORT_S);
	put32(p, seq);
	put32(p, odid);
	return at;
}

static void msg_end(struct pkt *p, size_t at)
{
	wbuf_put_u16_at(&p->w, at, (uint16_t)p->w.len);
}

static void field(struct pkt *p, uint16_t id, uint16_t len)
{
	put16(p, id);
	put16(p, len);
}

/* Template 400: IPv6 src/dst, ports, protocol, octetDeltaCount (8), packetDeltaCount (8),
 * flowStartMilliseconds, flowEndMilliseconds, direction. */
static void template_v6(struct pkt *p)
{
	size_t s = set_begin(p, 2);
	put16(p, 400);
	put16(p, 10);
	field(p, 27, 16);
	field(p, 28, 16);
	field(p, 7, 2);
	field(p, 11, 2);
	field(p, 4, 1);
	field(p, 1, 8);
	field(p, 2, 8);
	field(p, 152, 8);
	field(p, 153, 8);
	field(p, 61, 1);
	set_end(p, s);
}

static void data_v6(struct pkt *p, uint16_t dport)
{
	v6(p, "2001:db8:ff::1");
	v6(p, "2001:db8:10::53");
	put16(p, 5353);
	put16(p, dport);
	put8(p, 17);
	put64(p, 9000);
	put64(p, 6);
	put64(p, 1795411860123ull);
	put64(p, 1795411861456ull);
	put8(p, 0);
}

static enum cap_flow_result decode(struct cap_flow_ctx *ctx, struct pkt *p, struct collect *c)
{
	ip_addr ex = addr("2001:db8::9");
	return cap_ipfix_decode(ctx, p->b, p->w.len, &ex, 7, collect_fn, c);
}

static void test_template_then_data(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 5);
	template_v6(&p);
	size_t s = set_begin(&p, 400);
	data_v6(&p, 53);
	data_v6(&p, 54);
	put16(&p, 0); /* padding */
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	const struct flow_record *r = &c.r[1];
	assert_addr(&r->src, "2001:db8:ff::1");
	assert_addr(&r->dst, "2001:db8:10::53");
	assert_addr(&r->exporter, "2001:db8::9");
	assert_int_equal(r->ip_version, 6);
	assert_int_equal(r->src_port, 5353);
	assert_int_equal(r->dst_port, 54);
	assert_int_equal(r->protocol, 17);
	assert_int_equal(r->bytes, 9000);
	assert_int_equal(r->packets, 6);
	assert_int_equal(r->start_ns, 1795411860123000000ull);
	assert_int_equal(r->end_ns, 1795411861456000000ull);
	assert_int_equal(r->flags, FLOW_F_INGRESS);
	assert_int_equal(r->source, FLOW_SRC_IPFIX);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->domain, 5);
	assert_int_equal(e->records, 2);
	assert_int_equal(e->templates, 1);
	cap_flow_free(ctx);
}

static void test_enterprise_and_varlen_fields(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 0);
	size_t s = set_begin(&p, 2);
	put16(&p, 500);
	put16(&p, 6);
	field(&p, 8, 4);
	put16(&p, 0x8000 | 12); /* enterprise element 12: not destinationIPv4Address */
	put16(&p, 4);
	put32(&p, 9);
	field(&p, 12, 4);
	field(&p, 82, 0xffff); /* interfaceName, variable length */
	put16(&p, 0x8000 | 1);  /* enterprise, variable length: not octetDeltaCount */
	put16(&p, 0xffff);
	put32(&p, 29305);
	field(&p, 1, 4);
	set_end(&p, s);
	s = set_begin(&p, 500);
	/* record 1: short varlen (1-byte length), long varlen (255 + 2-byte length) */
	v4(&p, "203.0.113.5");
	v4(&p, "6.6.6.6");
	v4(&p, "192.0.2.30");
	put8(&p, 4);
	putn(&p, "eth0", 4);
	put8(&p, 255);
	put16(&p, 300);
	for (int i = 0; i < 300; i++)
		put8(&p, 0xee);
	put32(&p, 777);
	/* record 2: empty varlen fields */
	v4(&p, "203.0.113.6");
	v4(&p, "6.6.6.6");
	v4(&p, "192.0.2.31");
	put8(&p, 0);
	put8(&p, 0);
	put32(&p, 888);
	put8(&p, 0); /* padding, shorter than the minimum record */
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	assert_addr(&c.r[0].src, "203.0.113.5");
	assert_addr(&c.r[0].dst, "192.0.2.30");
	assert_int_equal(c.r[0].bytes, 777);
	assert_addr(&c.r[1].dst, "192.0.2.31");
	assert_int_equal(c.r[1].bytes, 888);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 0);
	cap_flow_free(ctx);
}

static void test_varlen_cut_short(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 0);
	size_t s = set_begin(&p, 2);
	put16(&p, 501);
	put16(&p, 2);
	field(&p, 8, 4);
	field(&p, 82, 0xffff);
	set_end(&p, s);
	s = set_begin(&p, 501);
	v4(&p, "203.0.113.5");
	put8(&p, 2);
	putn(&p, "ab", 2);
	v4(&p, "203.0.113.6");
	put8(&p, 200); /* says 200 bytes, the set has 3 */
	putn(&p, "abc", 3);
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	assert_int_equal(c.n, 1);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 1);
	cap_flow_free(ctx);
}

static void test_withdrawal(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 0);
	template_v6(&p);
	size_t s = set_begin(&p, 2);
	put16(&p, 401);
	put16(&p, 1);
	field(&p, 8, 4);
	set_end(&p, s);
	s = set_begin(&p, 3); /* an options template survives a withdraw-all of templates */
	put16(&p, 402);
	put16(&p, 2);
	put16(&p, 1);
	field(&p, 302, 4);
	field(&p, 305, 4);
	set_end(&p, s);
	msg_end(&p, m);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(exporter_at(ctx, 0)->templates, 3);
	/* withdraw 400 */
	pkt_init(&p);
	m = msg_begin(&p, 0, 0);
	s = set_begin(&p, 2);
	put16(&p, 400);
	put16(&p, 0);
	set_end(&p, s);
	s = set_begin(&p, 400);
	data_v6(&p, 53);
	set_end(&p, s);
	msg_end(&p, m);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(exporter_at(ctx, 0)->template_misses, 1);
	assert_int_equal(exporter_at(ctx, 0)->templates, 2);
	/* withdraw all templates (id 2 in set 2): the options template stays */
	pkt_init(&p);
	m = msg_begin(&p, 0, 0);
	s = set_begin(&p, 2);
	put16(&p, 2);
	put16(&p, 0);
	set_end(&p, s);
	msg_end(&p, m);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(exporter_at(ctx, 0)->templates, 1);
	/* and all options templates */
	p.b[17] = 3;
	p.b[21] = 3;
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(exporter_at(ctx, 0)->templates, 0);
	cap_flow_free(ctx);
}

static void test_options_sampling(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 0);
	/* options: scope selectorId, samplingPacketInterval, samplingPacketSpace */
	size_t s = set_begin(&p, 3);
	put16(&p, 600);
	put16(&p, 3);
	put16(&p, 1);
	field(&p, 302, 4);
	field(&p, 305, 4);
	field(&p, 306, 4);
	set_end(&p, s);
	/* options without a selector: samplingInterval, the domain's default */
	s = set_begin(&p, 3);
	put16(&p, 601);
	put16(&p, 2);
	put16(&p, 1);
	field(&p, 149, 4); /* scope observationDomainId */
	field(&p, 34, 4);
	set_end(&p, s);
	s = set_begin(&p, 2);
	put16(&p, 602);
	put16(&p, 3);
	field(&p, 8, 4);
	field(&p, 12, 4);
	field(&p, 302, 4);
	set_end(&p, s);
	s = set_begin(&p, 600);
	put32(&p, 42); /* selector 42: 1 selected, 99 skipped: 1 in 100 */
	put32(&p, 1);
	put32(&p, 99);
	set_end(&p, s);
	s = set_begin(&p, 601);
	put32(&p, 0);
	put32(&p, 10);
	set_end(&p, s);
	s = set_begin(&p, 602);
	v4(&p, "203.0.113.1");
	v4(&p, "192.0.2.1");
	put32(&p, 42);
	v4(&p, "203.0.113.1");
	v4(&p, "192.0.2.1");
	put32(&p, 43);
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].sampling_rate, 100);
	assert_int_equal(c.r[1].sampling_rate, 10);
	cap_flow_free(ctx);
}

static void test_relative_times(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 0);
	size_t s = set_begin(&p, 3);
	put16(&p, 700);
	put16(&p, 2);
	put16(&p, 1);
	field(&p, 149, 4);
	field(&p, 160, 8); /* systemInitTimeMilliseconds */
	set_end(&p, s);
	s = set_begin(&p, 2);
	put16(&p, 701);
	put16(&p, 4);
	field(&p, 8, 4);
	field(&p, 12, 4);
	field(&p, 22, 4);  /* flowStartSysUpTime */
	field(&p, 159, 4); /* flowEndDeltaMicroseconds */
	set_end(&p, s);
	s = set_begin(&p, 700);
	put32(&p, 0);
	put64(&p, 1795400000000ull);
	set_end(&p, s);
	s = set_begin(&p, 701);
	v4(&p, "203.0.113.1");
	v4(&p, "192.0.2.1");
	put32(&p, 5000);
	put32(&p, 2500000); /* 2.5 s before the export time */
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].start_ns, 1795400005000000000ull);
	assert_int_equal(c.r[0].end_ns, (uint64_t)EXPORT_S * 1000000000ull - 2500000000ull);
	cap_flow_free(ctx);
}

static void one_record_msg(struct pkt *p, uint32_t seq, int records, bool with_template)
{
	pkt_init(p);
	size_t m = msg_begin(p, seq, 0);
	if (with_template)
		template_v6(p);
	size_t s = set_begin(p, 400);
	for (int i = 0; i < records; i++)
		data_v6(p, 53);
	set_end(p, s);
	msg_end(p, m);
}

static void test_sequence_counts_data_records(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	one_record_msg(&p, 0, 3, true);
	decode(ctx, &p, &c);
	one_record_msg(&p, 3, 2, false); /* 3, 4: no gap */
	decode(ctx, &p, &c);
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 0);
	one_record_msg(&p, 10, 1, false); /* 5..9 lost */
	decode(ctx, &p, &c);
	assert_int_equal(exporter_at(ctx, 0)->sequence_gaps, 5);
	assert_int_equal(c.n, 6);
	cap_flow_free(ctx);
}

static void test_bad_messages(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	one_record_msg(&p, 0, 1, true);
	size_t len = p.w.len;
	/* message length past the datagram, and below the header */
	wbuf_put_u16_at(&p.w, 2, (uint16_t)(len + 1));
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_TRUNCATED);
	wbuf_put_u16_at(&p.w, 2, 15);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	/* bytes after the message are not read as sets */
	wbuf_put_u16_at(&p.w, 2, (uint16_t)len);
	put16(&p, 2);
	put16(&p, 0xffff);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	/* a template that claims 65535 fields, then one with a bad scope count */
	pkt_init(&p);
	size_t m = msg_begin(&p, 1, 0);
	size_t s = set_begin(&p, 2);
	put16(&p, 800);
	put16(&p, 0xffff);
	field(&p, 8, 4);
	set_end(&p, s);
	s = set_begin(&p, 3);
	put16(&p, 801);
	put16(&p, 1);
	put16(&p, 2); /* scope count above field count */
	field(&p, 8, 4);
	set_end(&p, s);
	s = set_begin(&p, 2);
	put16(&p, 802);
	put16(&p, 2);
	field(&p, 8, 0);
	field(&p, 12, 0); /* zero-length records */
	put16(&p, 803);
	put16(&p, 1);
	field(&p, 8, 4);
	set_end(&p, s);
	msg_end(&p, m);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_MALFORMED);
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->templates_refused, 3);
	assert_int_equal(e->templates, 2); /* 400 and 803 */
	cap_flow_free(ctx);
}

static void test_template_flood_bounded(void **state)
{
	(void)state;
	struct cap_flow_config cfg = {.max_templates = 256};
	struct cap_flow_ctx *ctx = cap_flow_new(&cfg);
	struct collect c = {0};
	/* 3000 distinct templates over several messages */
	for (int msg = 0; msg < 10; msg++) {
		struct pkt p;
		pkt_init(&p);
		size_t m = msg_begin(&p, 0, 0);
		size_t s = set_begin(&p, 2);
		for (int i = 0; i < 300; i++) {
			put16(&p, (uint16_t)(256 + msg * 300 + i));
			put16(&p, 1);
			field(&p, 8, 4);
		}
		set_end(&p, s);
		msg_end(&p, m);
		assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	}
	const struct cap_exporter_info *e = exporter_at(ctx, 0);
	assert_int_equal(e->templates, 256);
	assert_int_equal(e->templates_refused, 3000 - 256);
	cap_flow_free(ctx);
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	one_record_msg(&p, 0, 3, true);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	/* a cut message is shorter than its length field: nothing is decoded */
	truncate_everywhere(ctx, cap_ipfix_decode, p.b, p.w.len, 0);
	cap_flow_free(ctx);
}

/* Template refresh: the same id re-sent with another layout replaces the old one. */
/* Template with IPv4 and IPv6 address fields together (as many routers export one template
 * for both families): the unused family is all zeros and must not replace the other. Record 1
 * IPv4 (v6 zero), record 2 IPv6 (v4 zero), record 3 both set, ipVersion 4 decides. Physical
 * interfaces (252/253) stand in for the absent ifIndex fields. */
static void test_mixed_families_and_physical_ifs(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 1);
	size_t s = set_begin(&p, 2);
	put16(&p, 600);
	put16(&p, 8);
	field(&p, 8, 4);
	field(&p, 12, 4);
	field(&p, 27, 16);
	field(&p, 28, 16);
	field(&p, 60, 1);
	field(&p, 252, 4);
	field(&p, 253, 4);
	field(&p, 2, 4);
	set_end(&p, s);
	s = set_begin(&p, 600);
	v4(&p, "198.51.100.1");
	v4(&p, "192.0.2.1");
	v6(&p, "::");
	v6(&p, "::");
	put8(&p, 0);
	put32(&p, 1342177291u);
	put32(&p, 7);
	put32(&p, 3);
	v4(&p, "0.0.0.0");
	v4(&p, "0.0.0.0");
	v6(&p, "2001:db8::1");
	v6(&p, "2001:db8::2");
	put8(&p, 0);
	put32(&p, 1);
	put32(&p, 2);
	put32(&p, 4);
	v4(&p, "203.0.113.9");
	v4(&p, "203.0.113.10");
	v6(&p, "2001:db8::9");
	v6(&p, "2001:db8::10");
	put8(&p, 4);
	put32(&p, 1);
	put32(&p, 2);
	put32(&p, 5);
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 3);
	assert_addr(&c.r[0].src, "198.51.100.1");
	assert_addr(&c.r[0].dst, "192.0.2.1");
	assert_int_equal(c.r[0].ip_version, 4);
	assert_int_equal(c.r[0].in_if, 1342177291u);
	assert_int_equal(c.r[0].out_if, 7);
	assert_addr(&c.r[1].src, "2001:db8::1");
	assert_addr(&c.r[1].dst, "2001:db8::2");
	assert_int_equal(c.r[1].ip_version, 6);
	assert_addr(&c.r[2].src, "203.0.113.9");
	assert_int_equal(c.r[2].ip_version, 4);

	/* With the logical ifIndex present, it wins over the physical one. */
	pkt_init(&p);
	m = msg_begin(&p, 3, 1);
	s = set_begin(&p, 2);
	put16(&p, 601);
	put16(&p, 4);
	field(&p, 8, 4);
	field(&p, 10, 4);
	field(&p, 252, 4);
	field(&p, 2, 4);
	set_end(&p, s);
	s = set_begin(&p, 601);
	v4(&p, "198.51.100.1");
	put32(&p, 11);
	put32(&p, 99);
	put32(&p, 1);
	set_end(&p, s);
	msg_end(&p, m);
	c.n = 0;
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].in_if, 11);
	cap_flow_free(ctx);
}

/* Ethernet/IPv4/TCP frame of 14 + 40 bytes, VLAN 231. */
static void put_frame(struct pkt *p, const char *src, const char *dst)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	putn(p, macs, 12);
	put16(p, 0x8100);
	put16(p, 231);
	put16(p, 0x0800);
	put8(p, 0x45);
	put8(p, 0x20);
	put16(p, 40);
	put32(p, 0);
	put8(p, 64);
	put8(p, 6);
	put16(p, 0);
	v4(p, src);
	v4(p, dst);
	put16(p, 443);
	put16(p, 55000);
	put32(p, 1);
	put32(p, 0);
	put8(p, 0x50);
	put8(p, 0x12);
	put16(p, 1000);
	put32(p, 0);
}

/* dataLinkFrameSection (IE 315, RFC 7133) as the only source of the flow (Juniper's and
 * others' sampled-frame export): the frame is decoded as a mirrored packet. */
static void test_datalink_frame_section(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 2);
	size_t s = set_begin(&p, 2);
	put16(&p, 384);
	put16(&p, 4);
	field(&p, 10, 4);
	field(&p, 61, 1);
	field(&p, 312, 2);
	field(&p, 315, 0xffff);
	set_end(&p, s);
	s = set_begin(&p, 384);
	put32(&p, 582);
	put8(&p, 0);
	put16(&p, 58);
	put8(&p, 58);
	put_frame(&p, "51.51.51.51", "52.52.52.52");
	/* a frame that is not IP: skipped, counted */
	put32(&p, 582);
	put8(&p, 0);
	put16(&p, 60);
	put8(&p, 14);
	putn(&p, (const uint8_t[]){2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06}, 14);
	/* a frame cut inside its IP header: skipped */
	put32(&p, 582);
	put8(&p, 0);
	put16(&p, 60);
	put8(&p, 24);
	put_frame(&p, "51.51.51.51", "52.52.52.52");
	p.w.len -= 58 - 24;
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	const struct flow_record *r = &c.r[0];
	assert_addr(&r->src, "51.51.51.51");
	assert_addr(&r->dst, "52.52.52.52");
	assert_int_equal(r->src_port, 443);
	assert_int_equal(r->dst_port, 55000);
	assert_int_equal(r->protocol, 6);
	assert_int_equal(r->tcp_flags, 0x12);
	assert_int_equal(r->tos, 0x20);
	assert_int_equal(r->bytes, 40);
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->vlan, 231);
	assert_int_equal(r->in_if, 582);
	assert_int_equal(r->flags, FLOW_F_INGRESS);
	assert_int_equal(exporter_at(ctx, 0)->skipped, 2);
	cap_flow_free(ctx);
}

/* RFC 5103 biflow: reverse elements (PEN 29305) give the reverse direction its own record;
 * a record with zero reverse counters (a unidirectional flow) gives one record only. */
static void test_biflow_reverse_records(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 3);
	size_t s = set_begin(&p, 2);
	put16(&p, 700);
	put16(&p, 12);
	field(&p, 1, 8);
	put16(&p, 0x8000 | 1);
	put16(&p, 8);
	put32(&p, 29305);
	field(&p, 2, 8);
	put16(&p, 0x8000 | 2);
	put16(&p, 8);
	put32(&p, 29305);
	field(&p, 4, 1);
	field(&p, 6, 1);
	put16(&p, 0x8000 | 6);
	put16(&p, 1);
	put32(&p, 29305);
	field(&p, 7, 2);
	field(&p, 11, 2);
	field(&p, 10, 4);
	field(&p, 8, 4);
	field(&p, 12, 4);
	set_end(&p, s);
	s = set_begin(&p, 700);
	put64(&p, 21673);
	put64(&p, 1546);
	put64(&p, 28);
	put64(&p, 25);
	put8(&p, 6);
	put8(&p, 0x1b);
	put8(&p, 0x13);
	put16(&p, 1470);
	put16(&p, 25);
	put32(&p, 10);
	v4(&p, "10.10.1.4");
	v4(&p, "74.53.140.153");
	put64(&p, 229);
	put64(&p, 0);
	put64(&p, 1);
	put64(&p, 0);
	put8(&p, 17);
	put8(&p, 0);
	put8(&p, 0);
	put16(&p, 138);
	put16(&p, 138);
	put32(&p, 10);
	v4(&p, "10.10.1.20");
	v4(&p, "10.10.1.255");
	set_end(&p, s);
	msg_end(&p, m);
	struct collect c = {0};
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 3);
	assert_addr(&c.r[0].src, "10.10.1.4");
	assert_int_equal(c.r[0].bytes, 21673);
	assert_int_equal(c.r[0].packets, 28);
	assert_int_equal(c.r[0].tcp_flags, 0x1b);
	assert_int_equal(c.r[0].in_if, 10);
	const struct flow_record *rev = &c.r[1];
	assert_addr(&rev->src, "74.53.140.153");
	assert_addr(&rev->dst, "10.10.1.4");
	assert_int_equal(rev->src_port, 25);
	assert_int_equal(rev->dst_port, 1470);
	assert_int_equal(rev->bytes, 1546);
	assert_int_equal(rev->packets, 25);
	assert_int_equal(rev->tcp_flags, 0x13);
	assert_int_equal(rev->in_if, 0);
	assert_int_equal(rev->out_if, 10);
	assert_addr(&c.r[2].src, "10.10.1.20");
	assert_int_equal(exporter_at(ctx, 0)->records, 3);
	cap_flow_free(ctx);
}

static void test_template_refresh(void **state)
{
	(void)state;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pkt p;
	struct collect c = {0};
	pkt_init(&p);
	size_t m = msg_begin(&p, 0, 5);
	template_v6(&p);
	msg_end(&p, m);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	pkt_init(&p);
	m = msg_begin(&p, 0, 5);
	size_t s = set_begin(&p, 2);
	put16(&p, 400);
	put16(&p, 4);
	field(&p, 8, 4);
	field(&p, 12, 4);
	field(&p, 2, 4); /* packetDeltaCount, reduced-size encoding */
	field(&p, 11, 2);
	set_end(&p, s);
	s = set_begin(&p, 400);
	v4(&p, "203.0.113.5");
	v4(&p, "192.0.2.40");
	put32(&p, 77);
	put16(&p, 9999);
	set_end(&p, s);
	msg_end(&p, m);
	assert_int_equal(decode(ctx, &p, &c), CAP_FLOW_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].ip_version, 4);
	assert_addr(&c.r[0].src, "203.0.113.5");
	assert_addr(&c.r[0].dst, "192.0.2.40");
	assert_int_equal(c.r[0].packets, 77);
	assert_int_equal(c.r[0].dst_port, 9999);
	assert_int_equal(exporter_at(ctx, 0)->templates, 1);
	assert_int_equal(exporter_at(ctx, 0)->malformed, 0);
	cap_flow_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_then_data),
		cmocka_unit_test(test_enterprise_and_varlen_fields),
		cmocka_unit_test(test_varlen_cut_short),
		cmocka_unit_test(test_withdrawal),
		cmocka_unit_test(test_options_sampling),
		cmocka_unit_test(test_relative_times),
		cmocka_unit_test(test_sequence_counts_data_records),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_template_flood_bounded),
		cmocka_unit_test(test_template_refresh),
		cmocka_unit_test(test_mixed_families_and_physical_ifs),
		cmocka_unit_test(test_datalink_frame_section),
		cmocka_unit_test(test_biflow_reverse_records),
		cmocka_unit_test(test_truncated_everywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
