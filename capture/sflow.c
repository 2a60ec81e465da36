/* sFlow v5 (sflow_version_5.txt): flow samples and expanded flow samples become one flow record
 * each (packets = 1, the sampled packet); counter samples are counted and skipped.
 *
 * The sampled packet comes from the raw packet header record, decoded by the same packet decoder
 * as mirror capture, so bytes is the IP total length from the IP header: right even when the
 * exporter cut the header short. Without a raw header, the sampled IPv4/IPv6 records serve.
 * The exporter key is the UDP source + agent address + sub-agent id; its sequence number counts
 * datagrams. Every length is checked against its parent: a sample cannot reach past the
 * datagram, a record past its sample. */
#include <pcap/dlt.h>
#include <string.h>

#include "templates_int.h"

#define SFLOW_VERSION 5
#define SAMPLE_FLOW 1
#define SAMPLE_COUNTERS 2
#define SAMPLE_FLOW_EXPANDED 3
#define SAMPLE_COUNTERS_EXPANDED 4
#define REC_RAW_HEADER 1
#define REC_SAMPLED_IPV4 3
#define REC_SAMPLED_IPV6 4
#define REC_EXT_SWITCH 1001
#define REC_EXT_ROUTER 1002
#define HDR_ETHERNET 1
#define HDR_IPV4 11
#define HDR_IPV6 12
/* ifIndex 0x3FFFFFFF: "the packet came from / went to the agent itself" (sflow_version_5.txt,
 * flow_sample input/output); not an interface number. */
#define IFINDEX_INTERNAL 0x3fffffffu
/* Smallest sample / record: a format and a length word. */
#define MIN_ITEM 8

static bool read_address(struct rbuf *r, ip_addr *out)
{
	uint32_t type = rbuf_u32(r);
	const uint8_t *p;
	if (type == 1 && (p = rbuf_take(r, 4))) {
		ip_from_v4(out, p);
		return true;
	}
	if (type == 2 && (p = rbuf_take(r, 16))) {
		ip_from_v6(out, p);
		return true;
	}
	r->err = true;
	return false;
}

/* What the records of one flow sample said. */
struct sample {
	struct flow_record rec;
	bool have_header;  /* decoded from a raw packet header */
	bool have_sampled; /* from a sampled IPv4/IPv6 record */
	uint16_t switch_vlan;
	bool not_ip;
	struct cap_frame frame; /* the raw header the record was decoded from */
};

static bool raw_header(struct rbuf *r, struct sample *s, uint64_t recv_ns)
{
	uint32_t proto = rbuf_u32(r);
	uint32_t frame_len = rbuf_u32(r); /* the IP header has the packet's own length; kept for samples */
	rbuf_u32(r); /* stripped */
	uint32_t hlen = rbuf_u32(r);
	const uint8_t *h = rbuf_take(r, hlen);
	if (!h)
		return false;
	enum cap_decode_result d;
	if (proto == HDR_ETHERNET)
		d = cap_decode_ethernet(h, hlen, recv_ns, &s->rec);
	else if (proto == HDR_IPV4 || proto == HDR_IPV6)
		d = cap_decode_ip(h, hlen, recv_ns, &s->rec);
	else
		d = CAP_DECODE_NOT_IP;
	s->have_header = d == CAP_DECODE_OK;
	s->not_ip = d != CAP_DECODE_OK;
	if (s->have_header)
		s->frame = (struct cap_frame){.data = h, .caplen = hlen, .len = frame_len > hlen ? frame_len : hlen,
					      .dlt = proto == HDR_ETHERNET ? DLT_EN10MB : DLT_RAW};
	return true;
}

static bool sampled_ip(struct rbuf *r, struct sample *s, bool v6, uint64_t recv_ns)
{
	struct flow_record f;
	memset(&f, 0, sizeof f);
	f.bytes = rbuf_u32(r);
	f.protocol = (uint8_t)rbuf_u32(r);
	const uint8_t *src = rbuf_take(r, v6 ? 16 : 4);
	const uint8_t *dst = rbuf_take(r, v6 ? 16 : 4);
	f.src_port = (uint16_t)rbuf_u32(r);
	f.dst_port = (uint16_t)rbuf_u32(r);
	f.tcp_flags = (uint8_t)rbuf_u32(r);
	f.tos = (uint8_t)rbuf_u32(r);
	if (r->err)
		return false;
	if (v6) {
		ip_from_v6(&f.src, src);
		ip_from_v6(&f.dst, dst);
	} else {
		ip_from_v4(&f.src, src);
		ip_from_v4(&f.dst, dst);
	}
	f.ip_version = v6 ? 6 : 4;
	f.packets = 1;
	f.start_ns = f.end_ns = recv_ns;
	if (!s->have_header) {
		s->rec = f;
		s->have_sampled = true;
	}
	return true;
}

/* One flow sample's records. False: a record's length or content ran past its bounds. */
static bool flow_records(struct rbuf *r, uint32_t nrec, struct sample *s, uint64_t recv_ns)
{
	for (uint32_t i = 0; i < nrec; i++) {
		uint32_t fmt = rbuf_u32(r);
		uint32_t len = rbuf_u32(r);
		struct rbuf body = rbuf_sub(r, len);
		if (r->err)
			return false;
		if (fmt >> 12 != 0)
			continue; /* enterprise formats: skipped by length */
		switch (fmt & 0xfff) {
		case REC_RAW_HEADER:
			if (!raw_header(&body, s, recv_ns))
				return false;
			break;
		case REC_SAMPLED_IPV4:
		case REC_SAMPLED_IPV6:
			if (!sampled_ip(&body, s, (fmt & 0xfff) == REC_SAMPLED_IPV6, recv_ns))
				return false;
			break;
		case REC_EXT_SWITCH: {
			/* The record's VLAN is the incoming one, as a mirrored packet's tag is. Agents
			 * write 0xFFFFFFFF (or 0) for one they do not know: only 1..4094 is a VLAN id,
			 * else the sampled header's tag stands. */
			uint32_t in_vlan = rbuf_u32(&body);
			rbuf_skip(&body, 12); /* priority, out vlan, out priority */
			if (body.err)
				return false;
			s->switch_vlan = in_vlan >= 1 && in_vlan <= 4094 ? (uint16_t)in_vlan : 0;
			break;
		}
		case REC_EXT_ROUTER: {
			ip_addr nh; /* next hop and masks: validated, nothing to keep */
			read_address(&body, &nh);
			rbuf_skip(&body, 8);
			if (body.err)
				return false;
			break;
		}
		default:
			break;
		}
	}
	return true;
}

/* One flow sample (compact or expanded). Returns false on a bound error. */
static bool flow_sample(struct cap_flow_ctx *ctx, struct exporter *e, struct rbuf *r, bool expanded,
			uint64_t recv_ns, cap_record_fn fn, void *arg)
{
	uint32_t rate, in_if, out_if;
	rbuf_u32(r); /* sample sequence */
	if (expanded) {
		rbuf_skip(r, 8); /* source id type, index */
		rate = rbuf_u32(r);
		rbuf_skip(r, 8); /* pool, drops */
		uint32_t in_fmt = rbuf_u32(r);
		uint32_t in_val = rbuf_u32(r);
		uint32_t out_fmt = rbuf_u32(r);
		uint32_t out_val = rbuf_u32(r);
		in_if = in_fmt == 0 && in_val != IFINDEX_INTERNAL ? in_val : 0;
		out_if = out_fmt == 0 && out_val != IFINDEX_INTERNAL ? out_val : 0;
	} else {
		rbuf_u32(r); /* source id */
		rate = rbuf_u32(r);
		rbuf_skip(r, 8); /* pool, drops */
		uint32_t in = rbuf_u32(r);
		uint32_t out = rbuf_u32(r);
		/* top 2 bits: format; 0 is a plain ifIndex */
		in_if = in >> 30 == 0 && in != IFINDEX_INTERNAL ? in : 0;
		out_if = out >> 30 == 0 && out != IFINDEX_INTERNAL ? out : 0;
	}
	uint32_t nrec = rbuf_u32(r);
	if (r->err || nrec > rbuf_left(r) / MIN_ITEM)
		return false;
	struct sample s;
	memset(&s, 0, sizeof s);
	if (!flow_records(r, nrec, &s, recv_ns))
		return false;
	if (!s.have_header && !s.have_sampled) {
		e->info.skipped++;
		if (s.not_ip)
			flow_log(ctx, FLOG_SAMPLE, e, NULL, 0,
				 "sflow: sampled header is not IP or could not be decoded: skipped");
		return true;
	}
	struct flow_record *f = &s.rec;
	f->packets = 1;
	f->sampling_rate = flow_rate(rate);
	f->in_if = in_if;
	f->out_if = out_if;
	if (s.switch_vlan)
		f->vlan = s.switch_vlan;
	f->exporter = e->key.addr;
	f->source = FLOW_SRC_SFLOW;
	e->info.sampling_rate = f->sampling_rate;
	e->info.records++;
	if (s.have_header)
		ctx->frame = s.frame;
	fn(arg, f);
	ctx->frame.data = NULL;
	return true;
}

enum cap_flow_result cap_sflow_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
				      const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
				      void *arg)
{
	if (!flow_admit(ctx, exporter))
		return flow_done(ctx, CAP_FLOW_NOT_ALLOWED);
	struct rbuf r = rbuf_init(p, len);
	uint32_t version = rbuf_u32(&r);
	if (!r.err && version != SFLOW_VERSION) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "sflow: version is not 5");
		return flow_done(ctx, CAP_FLOW_VERSION);
	}
	struct exp_key key = {.addr = *exporter, .source = FLOW_SRC_SFLOW};
	read_address(&r, &key.agent);
	key.domain = rbuf_u32(&r);
	uint32_t seq = rbuf_u32(&r);
	rbuf_u32(&r); /* uptime */
	uint32_t nsamples = rbuf_u32(&r);
	if (r.err) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0,
			 "sflow: datagram shorter than its header, or bad agent address type");
		return flow_done(ctx, CAP_FLOW_TRUNCATED);
	}
	struct exporter *e = flow_exporter(ctx, &key, recv_ns);
	if (!e)
		return flow_done(ctx, CAP_FLOW_TABLE_FULL);
	e->info.datagrams++;
	e->info.last_seen_ns = recv_ns;
	if (nsamples > rbuf_left(&r) / MIN_ITEM) {
		e->info.malformed++;
		flow_log(ctx, FLOG_HEADER, e, NULL, r.off - 4, "sflow: more samples than the datagram holds");
		return flow_done(ctx, CAP_FLOW_MALFORMED);
	}
	flow_sequence(e, seq, 1);

	enum cap_flow_result res = CAP_FLOW_OK;
	for (uint32_t i = 0; i < nsamples; i++) {
		size_t off = r.off;
		uint32_t fmt = rbuf_u32(&r);
		uint32_t slen = rbuf_u32(&r);
		struct rbuf body = rbuf_sub(&r, slen);
		if (r.err) {
			e->info.malformed++;
			flow_log(ctx, FLOG_SAMPLE, e, NULL, off, "sflow: sample length past the datagram");
			return flow_done(ctx, CAP_FLOW_TRUNCATED);
		}
		if (fmt >> 12 != 0)
			continue; /* enterprise sample formats: skipped by length */
		uint32_t kind = fmt & 0xfff;
		if (kind == SAMPLE_COUNTERS || kind == SAMPLE_COUNTERS_EXPANDED) {
			e->info.counter_samples++;
			continue;
		}
		if (kind != SAMPLE_FLOW && kind != SAMPLE_FLOW_EXPANDED)
			continue;
		if (!flow_sample(ctx, e, &body, kind == SAMPLE_FLOW_EXPANDED, recv_ns, fn, arg)) {
			/* the sample's own length still holds: the next sample can be read */
			e->info.malformed++;
			flow_log(ctx, FLOG_RECORD, e, NULL, off,
				 "sflow: flow record length or count past its sample: sample skipped");
			res = CAP_FLOW_MALFORMED;
		}
	}
	return flow_done(ctx, res);
}
