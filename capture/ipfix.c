/* IPFIX (RFC 7011): templates, options templates, withdrawals, data by template, enterprise
 * and variable-length fields.
 *
 * The exporter key is the UDP source address + Observation Domain ID; its sequence number counts
 * data records sent before this message, so a gap is counted in data records. When a data set
 * could not be decoded (template unknown) the count of this message is unknown and the next
 * message resynchronises instead of reporting a false gap. */
#include <string.h>

#include "templates_int.h"

#define IPFIX_HEADER_LEN 16
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS 3
#define IPFIX_MIN_DATA_SET 256
#define IPFIX_E_BIT 0x8000

static void refuse(struct cap_flow_ctx *ctx, struct exporter *e, size_t off, const char *what)
{
	e->info.templates_refused++;
	flow_log(ctx, FLOG_TEMPLATE, e, NULL, off, what);
}

/* Reads n field specifiers into t; false when the set ends first. */
static bool read_fields(struct rbuf *set, struct tmpl *t, uint16_t n)
{
	uint32_t min = 0;
	t->nfields = n;
	t->varlen = false;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t type = rbuf_u16(set);
		struct tmpl_field *f = &t->f[i];
		f->type = type & (uint16_t)~IPFIX_E_BIT;
		f->len = rbuf_u16(set);
		/* An enterprise element is never read as an IANA one, whatever its PEN says. */
		f->pen = type & IPFIX_E_BIT ? (rbuf_u32(set) | 0x80000000u) : 0;
		if (f->len == TMPL_VARLEN) {
			t->varlen = true;
			min += 1;
		} else {
			min += f->len;
		}
	}
	t->min_len = min;
	return !set->err;
}

/* Skips n field specifiers we will not keep, enterprise numbers included. */
static bool skip_fields(struct rbuf *set, uint32_t n)
{
	for (uint32_t i = 0; i < n && !set->err; i++) {
		uint16_t type = rbuf_u16(set);
		rbuf_u16(set);
		if (type & IPFIX_E_BIT)
			rbuf_u32(set);
	}
	return !set->err;
}

static bool template_set(struct cap_flow_ctx *ctx, struct exporter *e, struct rbuf *set,
			 size_t base_off, bool options)
{
	struct tmpl t;
	uint16_t set_id = options ? IPFIX_SET_OPTIONS : IPFIX_SET_TEMPLATE;
	while (rbuf_left(set) >= 4) {
		size_t off = base_off + set->off;
		memset(&t, 0, offsetof(struct tmpl, f));
		t.id = rbuf_u16(set);
		uint16_t n = rbuf_u16(set);
		if (n == 0) {
			/* Withdrawal; the set's own id withdraws all of that kind. */
			if (t.id == set_id)
				tmpl_withdraw_all(ctx, e, options);
			else if (t.id >= IPFIX_MIN_DATA_SET)
				tmpl_withdraw(ctx, e, t.id);
			else
				refuse(ctx, e, off, "withdrawal of a reserved template id");
			continue;
		}
		uint16_t scope = 0;
		if (options) {
			scope = rbuf_u16(set);
			if (set->err)
				return false;
		}
		if (n > CAP_FLOW_MAX_FIELDS || (options && (scope == 0 || scope > n))) {
			refuse(ctx, e, off, "template with more than 128 fields or a bad scope count");
			if (!skip_fields(set, n))
				return false;
			continue;
		}
		t.options = options;
		t.scope_fields = scope;
		if (!read_fields(set, &t, n))
			return false;
		if (t.id < IPFIX_MIN_DATA_SET) {
			refuse(ctx, e, off, "template id below 256");
			continue;
		}
		if (t.min_len == 0 || t.min_len > CAP_FLOW_MAX_RECORD) {
			refuse(ctx, e, off, "template record length 0 or past 65535");
			continue;
		}
		if (!tmpl_store(ctx, e, &t))
			e->info.templates_refused++; /* counted and logged by reason there */
	}
	return true;
}

enum cap_flow_result cap_ipfix_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
				      const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
				      void *arg)
{
	if (!flow_admit(ctx, exporter))
		return flow_done(ctx, CAP_FLOW_NOT_ALLOWED);
	struct rbuf r = rbuf_init(p, len);
	uint16_t version = rbuf_u16(&r);
	uint16_t mlen = rbuf_u16(&r);
	uint32_t export_s = rbuf_u32(&r);
	uint32_t seq = rbuf_u32(&r);
	uint32_t odid = rbuf_u32(&r);
	if (r.err) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "ipfix: datagram shorter than its header");
		return flow_done(ctx, CAP_FLOW_TRUNCATED);
	}
	if (version != 10) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "ipfix: version is not 10");
		return flow_done(ctx, CAP_FLOW_VERSION);
	}
	if (mlen < IPFIX_HEADER_LEN || mlen > len) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 2,
			 "ipfix: message length below 16 or past the datagram");
		return flow_done(ctx, mlen < IPFIX_HEADER_LEN ? CAP_FLOW_MALFORMED : CAP_FLOW_TRUNCATED);
	}
	r.len = mlen; /* bytes after the message are not ours */
	struct exp_key key = {.addr = *exporter, .domain = odid, .source = FLOW_SRC_IPFIX};
	struct exporter *e = flow_exporter(ctx, &key, recv_ns);
	if (!e)
		return flow_done(ctx, CAP_FLOW_TABLE_FULL);
	e->info.datagrams++;
	e->info.last_seen_ns = recv_ns;

	struct tmpl_base base = {.source = FLOW_SRC_IPFIX,
				 .export_ns = (uint64_t)export_s * 1000000000ull,
				 .recv_ns = recv_ns};
	enum cap_flow_result res = CAP_FLOW_OK;
	uint32_t data_records = 0;
	bool counted = true;
	while (rbuf_left(&r) >= 4) {
		size_t off = r.off;
		uint16_t id = rbuf_u16(&r);
		uint16_t slen = rbuf_u16(&r);
		if (slen < 4 || slen - 4u > rbuf_left(&r)) {
			e->info.malformed++;
			flow_log(ctx, FLOG_SET, e, NULL, off, "set length past the message or below 4");
			res = slen < 4 ? CAP_FLOW_MALFORMED : CAP_FLOW_TRUNCATED;
			counted = false;
			break;
		}
		struct rbuf set = rbuf_sub(&r, slen - 4u);
		bool ok = true;
		if (id == IPFIX_SET_TEMPLATE || id == IPFIX_SET_OPTIONS) {
			ok = template_set(ctx, e, &set, off + 4, id == IPFIX_SET_OPTIONS);
		} else if (id >= IPFIX_MIN_DATA_SET) {
			const struct tmpl *t = tmpl_find(e, id);
			if (!t) {
				e->info.template_misses++;
				counted = false;
				flow_log(ctx, FLOG_TEMPLATE_MISS, e, NULL, off,
					 "data set before its template: dropped");
				continue;
			}
			bool err;
			data_records += tmpl_decode_set(ctx, e, t, &base, &set, fn, arg, &err);
			ok = !err;
		}
		/* ids 0, 1, 4..255 are reserved: skipped by their length */
		if (!ok) {
			e->info.malformed++;
			counted = false;
			flow_log(ctx, FLOG_RECORD, e, NULL, off, "set ends inside a template or record");
			if (res == CAP_FLOW_OK)
				res = CAP_FLOW_MALFORMED;
		}
	}
	flow_sequence(e, seq, data_records);
	if (!counted)
		e->seq_valid = false;
	return flow_done(ctx, res);
}
