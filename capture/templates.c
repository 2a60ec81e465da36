/* The NetFlow v9 / IPFIX template cache and the data-record decoder both protocols share.
 *
 * Templates live in their exporter (keyed there by address + source id / observation domain),
 * sorted by template id, at most max_templates each. A refresh overwrites in place, so a steady
 * stream of template sets allocates nothing. Data records are read field by field: known
 * information elements fill the flow record, everything else (enterprise fields, unknown
 * elements, odd widths) is skipped by its length. */
#include <stdlib.h>
#include <string.h>

#include "templates_int.h"

/* ---- cache ------------------------------------------------------------------------------- */

static int tmpl_pos(const struct exporter *e, uint16_t id, bool *found)
{
	int lo = 0, hi = e->ntmpl;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (e->tmpl[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < e->ntmpl && e->tmpl[lo]->id == id;
	return lo;
}

struct tmpl *tmpl_find(const struct exporter *e, uint16_t id)
{
	bool found;
	int at = tmpl_pos(e, id, &found);
	return found ? e->tmpl[at] : NULL;
}

bool tmpl_store(struct cap_flow_ctx *ctx, struct exporter *e, const struct tmpl *t)
{
	bool found;
	if (!e->tmpl) {
		uint64_t slots = (uint64_t)ctx->cfg.max_templates * sizeof *e->tmpl;
		if (!flow_template_room(ctx, e, slots)) {
			flow_refuse(ctx, CAP_REFUSE_TEMPLATE_MEMORY, e, NULL,
				    "template memory full (capture max_template_bytes): template refused");
			return false;
		}
		e->tmpl = calloc(ctx->cfg.max_templates, sizeof *e->tmpl);
		if (!e->tmpl)
			return false;
		e->tmpl_bytes += slots;
		ctx->stats.template_bytes += slots;
	}
	int at = tmpl_pos(e, t->id, &found);
	if (found) {
		memcpy(e->tmpl[at], t, sizeof *t);
		return true;
	}
	if (e->ntmpl >= ctx->cfg.max_templates) {
		flow_refuse(ctx, CAP_REFUSE_TEMPLATES, e, NULL,
			    "too many templates for this exporter (max_templates): template refused");
		return false;
	}
	if (!flow_template_room(ctx, e, sizeof *t)) {
		flow_refuse(ctx, CAP_REFUSE_TEMPLATE_MEMORY, e, NULL,
			    "template memory full (capture max_template_bytes): template refused");
		return false;
	}
	struct tmpl *n = malloc(sizeof *n);
	if (!n)
		return false;
	memcpy(n, t, sizeof *t);
	memmove(&e->tmpl[at + 1], &e->tmpl[at], (size_t)(e->ntmpl - at) * sizeof *e->tmpl);
	e->tmpl[at] = n;
	e->ntmpl++;
	e->tmpl_bytes += sizeof *n;
	ctx->stats.template_bytes += sizeof *n;
	return true;
}

static void tmpl_release(struct cap_flow_ctx *ctx, struct exporter *e, struct tmpl *t)
{
	free(t);
	e->tmpl_bytes -= sizeof *t;
	ctx->stats.template_bytes -= sizeof *t;
}

void tmpl_withdraw(struct cap_flow_ctx *ctx, struct exporter *e, uint16_t id)
{
	bool found;
	int at = tmpl_pos(e, id, &found);
	if (!found)
		return;
	tmpl_release(ctx, e, e->tmpl[at]);
	memmove(&e->tmpl[at], &e->tmpl[at + 1], (size_t)(e->ntmpl - at - 1) * sizeof *e->tmpl);
	e->ntmpl--;
}

void tmpl_withdraw_all(struct cap_flow_ctx *ctx, struct exporter *e, bool options)
{
	uint16_t keep = 0;
	for (uint16_t i = 0; i < e->ntmpl; i++) {
		if (e->tmpl[i]->options == options)
			tmpl_release(ctx, e, e->tmpl[i]);
		else
			e->tmpl[keep++] = e->tmpl[i];
	}
	e->ntmpl = keep;
}

void tmpl_free_all(struct cap_flow_ctx *ctx, struct exporter *e)
{
	for (uint16_t i = 0; i < e->ntmpl; i++)
		free(e->tmpl[i]);
	free(e->tmpl);
	ctx->stats.template_bytes -= e->tmpl_bytes;
	e->tmpl_bytes = 0;
	e->tmpl = NULL;
	e->ntmpl = 0;
}

/* ---- data records ------------------------------------------------------------------------ */

/* Information elements we read (IANA numbers; NetFlow v9 uses the same for these). */
enum {
	IE_OCTETS = 1, IE_PACKETS = 2, IE_PROTOCOL = 4, IE_TOS = 5, IE_TCP_FLAGS = 6,
	IE_SRC_PORT = 7, IE_SRC_V4 = 8, IE_IN_IF = 10, IE_DST_PORT = 11, IE_DST_V4 = 12,
	IE_OUT_IF = 14, IE_LAST_UPTIME = 21, IE_FIRST_UPTIME = 22, IE_POST_OCTETS = 23,
	IE_POST_PACKETS = 24, IE_SRC_V6 = 27, IE_DST_V6 = 28, IE_ICMP_V4 = 32,
	IE_SAMPLING_INTERVAL = 34, IE_SAMPLER_ID = 48, IE_SAMPLER_RANDOM_INTERVAL = 50,
	IE_SRC_VLAN = 58, IE_DST_VLAN = 59, IE_DIRECTION = 61, IE_TOTAL_OCTETS = 85,
	IE_TOTAL_PACKETS = 86, IE_ICMP_V6 = 139, IE_START_S = 150, IE_END_S = 151,
	IE_START_MS = 152, IE_END_MS = 153, IE_START_US = 154, IE_END_US = 155, IE_START_NS = 156,
	IE_END_NS = 157, IE_START_DELTA_US = 158, IE_END_DELTA_US = 159, IE_SYS_INIT_MS = 160,
	IE_IP_VERSION = 60, IE_IN_PHYS_IF = 252, IE_OUT_PHYS_IF = 253,
	IE_DOT1Q_VLAN = 243, IE_SELECTOR_ID = 302, IE_SAMPLING_PKT_INTERVAL = 305,
	IE_SAMPLING_PKT_SPACE = 306, IE_SAMPLING_SIZE = 309, IE_SAMPLING_POPULATION = 310,
	IE_DATALINK_FRAME_SECTION = 315,
};

/* RFC 5103 biflows: the reverse direction's elements carry the IANA number under this PEN. */
#define PEN_REVERSE 29305u

/* What one record said, before it becomes a flow record. */
struct rec_acc {
	struct flow_record r;
	uint16_t has;  /* HAS_* */
	/* Both families are kept apart: templates carrying IPv4 and IPv6 address fields together
	 * fill the unused family with zeros, which must not replace the addresses that are there. */
	uint8_t src4[4], dst4[4], src6[16], dst6[16];
	uint8_t ip_version_ie; /* IE 60; 0 absent */
	uint32_t phys_in, phys_out;
	uint64_t rev_octets, rev_packets;
	uint8_t rev_tcp_flags;
	const uint8_t *frame; /* IE 315: the start of the sampled frame, valid during the set */
	uint16_t frame_len;
	uint64_t post_octets, post_packets, total_octets, total_packets;
	uint64_t start_ns, end_ns;
	uint64_t sampler_id;
	uint64_t interval, random_interval, pkt_interval, pkt_space, size, population;
	uint64_t sys_init_ms;
	uint16_t icmp, src_vlan, dst_vlan, dot1q_vlan;
	uint16_t seen; /* SEEN_* */
};

#define HAS_START 0x04
#define HAS_END 0x08
#define HAS_SAMPLER 0x10
#define HAS_ICMP 0x20
#define HAS_INIT 0x40
#define HAS_SRC4 0x80
#define HAS_DST4 0x100
#define HAS_SRC6 0x200
#define HAS_DST6 0x400
#define HAS_REVERSE 0x800 /* a reverse packet or octet count (RFC 5103) */
#define HAS_PHYS_IN 0x1000
#define HAS_PHYS_OUT 0x2000
#define HAS_IN_IF 0x4000
#define HAS_OUT_IF 0x8000

#define SEEN_OCTETS 0x01
#define SEEN_PACKETS 0x02
#define SEEN_POST_OCTETS 0x04
#define SEEN_POST_PACKETS 0x08
#define SEEN_TOTAL_OCTETS 0x10
#define SEEN_TOTAL_PACKETS 0x20

static uint64_t be_uint(const uint8_t *p, uint16_t n)
{
	uint64_t v = 0;
	for (uint16_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

#define NTP_UNIX_OFFSET 2208988800ull

static uint64_t ntp_to_ns(uint64_t ntp)
{
	uint64_t secs = ntp >> 32;
	uint64_t frac = ntp & 0xffffffffull;
	if (secs < NTP_UNIX_OFFSET)
		return 0;
	return (secs - NTP_UNIX_OFFSET) * 1000000000ull + ((frac * 1000000000ull) >> 32);
}

/* ms of sysUptime → absolute ns, from the header's (sysUptime, export time) pair. The difference
 * is taken modulo 2^32 so a wrapped uptime still gives the right answer. */
static uint64_t uptime_to_ns(const struct tmpl_base *b, uint32_t ms)
{
	int64_t back_ms = (int32_t)(b->sys_uptime_ms - ms);
	int64_t ns = (int64_t)b->export_ns - back_ms * 1000000;
	return ns < 0 ? 0 : (uint64_t)ns;
}

static void set_time(struct rec_acc *a, bool end, uint64_t ns)
{
	if (end) {
		a->end_ns = ns;
		a->has |= HAS_END;
	} else {
		a->start_ns = ns;
		a->has |= HAS_START;
	}
}

/* One field's value into the accumulator. Wrong widths are ignored, never half-read. */
static void field(struct rec_acc *a, const struct tmpl_base *b, const struct exporter *e,
		  uint16_t type, const uint8_t *p, uint16_t len)
{
	if (len == 0)
		return;
	if (type == IE_SRC_V4 || type == IE_DST_V4) {
		if (len != 4)
			return;
		memcpy(type == IE_SRC_V4 ? a->src4 : a->dst4, p, 4);
		a->has |= type == IE_SRC_V4 ? HAS_SRC4 : HAS_DST4;
		return;
	}
	if (type == IE_SRC_V6 || type == IE_DST_V6) {
		if (len != 16)
			return;
		memcpy(type == IE_SRC_V6 ? a->src6 : a->dst6, p, 16);
		a->has |= type == IE_SRC_V6 ? HAS_SRC6 : HAS_DST6;
		return;
	}
	if (len > 8)
		return;
	uint64_t v = be_uint(p, len);
	switch (type) {
	case IE_OCTETS: a->r.bytes = v; a->seen |= SEEN_OCTETS; break;
	case IE_PACKETS: a->r.packets = v; a->seen |= SEEN_PACKETS; break;
	case IE_POST_OCTETS: a->post_octets = v; a->seen |= SEEN_POST_OCTETS; break;
	case IE_POST_PACKETS: a->post_packets = v; a->seen |= SEEN_POST_PACKETS; break;
	case IE_TOTAL_OCTETS: a->total_octets = v; a->seen |= SEEN_TOTAL_OCTETS; break;
	case IE_TOTAL_PACKETS: a->total_packets = v; a->seen |= SEEN_TOTAL_PACKETS; break;
	case IE_PROTOCOL: a->r.protocol = (uint8_t)v; break;
	case IE_TOS: a->r.tos = (uint8_t)v; break;
	case IE_TCP_FLAGS: a->r.tcp_flags = (uint8_t)v; break; /* 2-byte IPFIX form: low byte */
	case IE_SRC_PORT: a->r.src_port = (uint16_t)v; break;
	case IE_DST_PORT: a->r.dst_port = (uint16_t)v; break;
	case IE_IN_IF: a->r.in_if = (uint32_t)v; a->has |= HAS_IN_IF; break;
	case IE_OUT_IF: a->r.out_if = (uint32_t)v; a->has |= HAS_OUT_IF; break;
	case IE_IN_PHYS_IF: a->phys_in = (uint32_t)v; a->has |= HAS_PHYS_IN; break;
	case IE_OUT_PHYS_IF: a->phys_out = (uint32_t)v; a->has |= HAS_PHYS_OUT; break;
	case IE_IP_VERSION: a->ip_version_ie = (uint8_t)v; break;
	case IE_SRC_VLAN: a->src_vlan = (uint16_t)(v & 0xfff); break;
	case IE_DST_VLAN: a->dst_vlan = (uint16_t)(v & 0xfff); break;
	case IE_DOT1Q_VLAN: a->dot1q_vlan = (uint16_t)(v & 0xfff); break;
	case IE_DIRECTION: a->r.flags |= v == 0 ? FLOW_F_INGRESS : v == 1 ? FLOW_F_EGRESS : 0; break;
	case IE_ICMP_V4:
	case IE_ICMP_V6: a->icmp = (uint16_t)v; a->has |= HAS_ICMP; break;
	case IE_LAST_UPTIME:
	case IE_FIRST_UPTIME:
		/* v9: ms of the exporter's sysUptime. IPFIX: ms since systemInitTimeMilliseconds,
		 * known only from options data. */
		if (b->source == FLOW_SRC_NETFLOW9)
			set_time(a, type == IE_LAST_UPTIME, uptime_to_ns(b, (uint32_t)v));
		else if (e->sys_init_ms)
			set_time(a, type == IE_LAST_UPTIME, (e->sys_init_ms + v) * 1000000ull);
		break;
	case IE_START_S:
	case IE_END_S: set_time(a, type == IE_END_S, v * 1000000000ull); break;
	case IE_START_MS:
	case IE_END_MS: set_time(a, type == IE_END_MS, v * 1000000ull); break;
	case IE_START_US:
	case IE_END_US:
	case IE_START_NS:
	case IE_END_NS:
		if (len == 8)
			set_time(a, type == IE_END_US || type == IE_END_NS, ntp_to_ns(v));
		break;
	case IE_START_DELTA_US:
	case IE_END_DELTA_US:
		if (v * 1000 <= b->export_ns)
			set_time(a, type == IE_END_DELTA_US, b->export_ns - v * 1000);
		break;
	case IE_SYS_INIT_MS: a->sys_init_ms = v; a->has |= HAS_INIT; break;
	case IE_SAMPLING_INTERVAL: a->interval = v; break;
	case IE_SAMPLER_RANDOM_INTERVAL: a->random_interval = v; break;
	case IE_SAMPLER_ID:
	case IE_SELECTOR_ID: a->sampler_id = v; a->has |= HAS_SAMPLER; break;
	case IE_SAMPLING_PKT_INTERVAL: a->pkt_interval = v; break;
	case IE_SAMPLING_PKT_SPACE: a->pkt_space = v; break;
	case IE_SAMPLING_SIZE: a->size = v; break;
	case IE_SAMPLING_POPULATION: a->population = v; break;
	default: break;
	}
}

/* The reverse-direction elements of an RFC 5103 biflow that a flow record carries. */
static void reverse_field(struct rec_acc *a, uint16_t type, const uint8_t *p, uint16_t len)
{
	uint64_t v = be_uint(p, len);
	switch (type) {
	case IE_OCTETS:
	case IE_TOTAL_OCTETS: a->rev_octets = v; break;
	case IE_PACKETS:
	case IE_TOTAL_PACKETS: a->rev_packets = v; break;
	case IE_TCP_FLAGS: a->rev_tcp_flags = (uint8_t)v; return;
	default: return;
	}
	if (v)
		a->has |= HAS_REVERSE;
}

/* A sampling rate the record states itself, 0 if none. */
static uint64_t stated_rate(const struct rec_acc *a)
{
	if (a->interval)
		return a->interval;
	if (a->random_interval)
		return a->random_interval;
	if (a->pkt_interval)
		return (a->pkt_interval + a->pkt_space) / a->pkt_interval;
	if (a->size && a->population)
		return a->population / a->size;
	return 0;
}

/* Reads one record's fields. v9 options scope fields are skipped by length: their type numbers
 * (1 system, 2 interface, ...) collide with ordinary field types. */
static bool read_record(struct rec_acc *a, const struct tmpl_base *b, const struct exporter *e,
			const struct tmpl *t, struct rbuf *r)
{
	uint16_t first = b->source == FLOW_SRC_NETFLOW9 ? t->scope_fields : 0;
	for (uint16_t i = 0; i < t->nfields; i++) {
		const struct tmpl_field *f = &t->f[i];
		size_t len = f->len;
		if (len == TMPL_VARLEN) {
			len = rbuf_u8(r);
			if (len == 255)
				len = rbuf_u16(r);
		}
		const uint8_t *p = rbuf_take(r, len);
		if (!p)
			return false;
		if (i < first)
			continue;
		if (f->pen == 0 && f->type == IE_DATALINK_FRAME_SECTION) {
			a->frame = p;
			a->frame_len = (uint16_t)len;
		} else if (f->pen == 0 && len <= 16) {
			field(a, b, e, f->type, p, (uint16_t)len);
		} else if (f->pen == (PEN_REVERSE | 0x80000000u) && len <= 8 && len > 0) {
			reverse_field(a, f->type, p, (uint16_t)len);
		}
	}
	return true;
}

static void learn_sampling(struct exporter *e, const struct rec_acc *a)
{
	if (a->has & HAS_INIT)
		e->sys_init_ms = a->sys_init_ms;
	uint64_t rate = stated_rate(a);
	if (!rate)
		return;
	uint32_t r32 = flow_rate(rate);
	e->info.sampling_rate = r32;
	if (!(a->has & HAS_SAMPLER)) {
		e->default_rate = r32;
		return;
	}
	for (uint8_t i = 0; i < e->nsamplers; i++) {
		if (e->samplers[i].id == a->sampler_id) {
			e->samplers[i].rate = r32;
			return;
		}
	}
	/* Bounded: past CAP_FLOW_MAX_SAMPLERS the newest replaces the oldest. */
	if (e->nsamplers < CAP_FLOW_MAX_SAMPLERS) {
		e->samplers[e->nsamplers++] = (struct sampler){a->sampler_id, r32};
	} else {
		memmove(&e->samplers[0], &e->samplers[1],
			(CAP_FLOW_MAX_SAMPLERS - 1) * sizeof e->samplers[0]);
		e->samplers[CAP_FLOW_MAX_SAMPLERS - 1] = (struct sampler){a->sampler_id, r32};
	}
}

static uint32_t record_rate(const struct exporter *e, const struct rec_acc *a)
{
	uint64_t rate = stated_rate(a);
	if (rate)
		return flow_rate(rate);
	if (a->has & HAS_SAMPLER)
		for (uint8_t i = 0; i < e->nsamplers; i++)
			if (e->samplers[i].id == a->sampler_id)
				return e->samplers[i].rate;
	return e->default_rate ? e->default_rate : 1;
}

static bool nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return true;
	return false;
}

/* The addresses from the address elements. With both families in the template the record's own
 * ipVersion (IE 60) decides; without it, the family whose addresses are not all zero. */
static bool pick_addresses(struct rec_acc *a)
{
	struct flow_record *r = &a->r;
	bool v4 = a->has & (HAS_SRC4 | HAS_DST4), v6 = a->has & (HAS_SRC6 | HAS_DST6);
	if (!v4 && !v6)
		return false;
	bool use6 = v6;
	if (v4 && v6) {
		if (a->ip_version_ie == 4 || a->ip_version_ie == 6)
			use6 = a->ip_version_ie == 6;
		else
			use6 = !nonzero(a->src4, 4) && !nonzero(a->dst4, 4) &&
			       (nonzero(a->src6, 16) || nonzero(a->dst6, 16));
	}
	if (use6) {
		ip_from_v6(&r->src, a->src6);
		ip_from_v6(&r->dst, a->dst6);
	} else {
		ip_from_v4(&r->src, a->src4);
		ip_from_v4(&r->dst, a->dst4);
	}
	r->ip_version = use6 ? 6 : 4;
	return true;
}

/* A record whose flow is only the sampled frame of IE 315 (RFC 7133, as Juniper and others
 * export): the packet decoder reads the frame, as for a mirror port. One frame is one packet
 * of its IP length, unless the record has its own counters. */
static bool frame_addresses(struct rec_acc *a)
{
	struct flow_record f, *r = &a->r;
	if (!a->frame || cap_decode_ethernet(a->frame, a->frame_len, 0, &f) != CAP_DECODE_OK)
		return false;
	r->src = f.src;
	r->dst = f.dst;
	r->ip_version = f.ip_version;
	r->src_port = f.src_port;
	r->dst_port = f.dst_port;
	r->protocol = f.protocol;
	r->tos = f.tos;
	r->tcp_flags |= f.tcp_flags;
	r->flags |= f.flags & (FLOW_F_FRAGMENT | FLOW_F_LATER_FRAGMENT);
	if (!a->src_vlan && !a->dot1q_vlan && !a->dst_vlan)
		a->src_vlan = f.vlan;
	if (!(a->seen & (SEEN_OCTETS | SEEN_POST_OCTETS | SEEN_TOTAL_OCTETS)))
		r->bytes = f.bytes;
	if (!(a->seen & (SEEN_PACKETS | SEEN_POST_PACKETS | SEEN_TOTAL_PACKETS)))
		r->packets = 1;
	return true;
}

/* Completes the flow record; false when it carries no address (not an IP flow). */
static bool finish(struct rec_acc *a, const struct tmpl_base *b, const struct exporter *e)
{
	struct flow_record *r = &a->r;
	if (!pick_addresses(a) && !frame_addresses(a))
		return false;
	if (!(a->seen & SEEN_OCTETS) && (a->seen & (SEEN_POST_OCTETS | SEEN_TOTAL_OCTETS)))
		r->bytes = a->seen & SEEN_POST_OCTETS ? a->post_octets : a->total_octets;
	if (!(a->seen & SEEN_PACKETS) && (a->seen & (SEEN_POST_PACKETS | SEEN_TOTAL_PACKETS)))
		r->packets = a->seen & SEEN_POST_PACKETS ? a->post_packets : a->total_packets;
	if ((a->has & HAS_ICMP) && (r->protocol == 1 || r->protocol == 58))
		r->dst_port = a->icmp;
	/* ingress/egressPhysicalInterface (IEs 252/253) stand in when the template has no logical
	 * ifIndex (IEs 10/14): both number the router's interfaces in the same ifIndex space. */
	if (!(a->has & HAS_IN_IF) && (a->has & HAS_PHYS_IN))
		r->in_if = a->phys_in;
	if (!(a->has & HAS_OUT_IF) && (a->has & HAS_PHYS_OUT))
		r->out_if = a->phys_out;
	r->vlan = a->src_vlan ? a->src_vlan : a->dot1q_vlan ? a->dot1q_vlan : a->dst_vlan;
	uint64_t fallback = b->export_ns ? b->export_ns : b->recv_ns;
	r->start_ns = a->has & HAS_START ? a->start_ns : a->has & HAS_END ? a->end_ns : fallback;
	r->end_ns = a->has & HAS_END ? a->end_ns : r->start_ns;
	r->sampling_rate = record_rate(e, a);
	r->exporter = e->key.addr;
	r->source = b->source;
	return true;
}

/* The reverse direction of an RFC 5103 biflow (section 6: the record's reverse elements), as a
 * flow record of its own: addresses, ports and interfaces swapped, its own counters and flags. */
static void reverse_record(const struct rec_acc *a, struct flow_record *out)
{
	*out = a->r;
	out->src = a->r.dst;
	out->dst = a->r.src;
	out->src_port = a->r.dst_port;
	out->dst_port = a->r.src_port;
	if (a->r.protocol == 1 || a->r.protocol == 58)
		out->src_port = out->dst_port = 0; /* the reply's ICMP type is not in the record */
	out->in_if = a->r.out_if;
	out->out_if = a->r.in_if;
	out->bytes = a->rev_octets;
	out->packets = a->rev_packets;
	out->tcp_flags = a->rev_tcp_flags;
	out->flags = (uint8_t)(a->r.flags & ~(FLOW_F_INGRESS | FLOW_F_EGRESS));
}

static bool all_zero(const struct rbuf *r)
{
	for (size_t i = r->off; i < r->len; i++)
		if (r->p[i])
			return false;
	return true;
}

uint32_t tmpl_decode_set(struct cap_flow_ctx *ctx, struct exporter *e, const struct tmpl *t,
			 const struct tmpl_base *base, struct rbuf *set, cap_record_fn fn, void *arg,
			 bool *err)
{
	(void)ctx;
	uint32_t n = 0;
	*err = false;
	/* Fewer bytes left than a record: padding (RFC 3954 5.3, RFC 7011 3.3.1). */
	while (rbuf_left(set) >= t->min_len) {
		size_t at = set->off;
		struct rec_acc a;
		memset(&a, 0, sizeof a);
		if (!read_record(&a, base, e, t, set)) {
			/* Only a variable-length record can run out; zeros after the last record
			 * are padding, anything else a record cut short. */
			set->err = false;
			set->off = at;
			if (!all_zero(set))
				*err = true;
			set->off = set->len;
			break;
		}
		n++;
		if (t->options) {
			learn_sampling(e, &a);
			continue;
		}
		if (!finish(&a, base, e)) {
			e->info.skipped++;
			continue;
		}
		e->info.records++;
		e->info.sampling_rate = a.r.sampling_rate;
		fn(arg, &a.r);
		if (a.has & HAS_REVERSE) {
			struct flow_record rev;
			reverse_record(&a, &rev);
			e->info.records++;
			fn(arg, &rev);
		}
	}
	return n;
}
