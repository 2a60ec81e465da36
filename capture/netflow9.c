/* NetFlow v9 (RFC 3954): templates, options templates (sampling), data by template.
 *
 * The exporter key is the UDP source address + Source ID; its sequence number counts export
 * packets (datagrams). A data set whose template is unknown is counted and dropped, never
 * guessed. A bad set length loses the rest of the datagram (the next set cannot be found); a
 * bad template loses only itself. */
#include <string.h>

#include "templates_int.h"

#define V9_HEADER_LEN 20
#define V9_SET_TEMPLATE 0
#define V9_SET_OPTIONS 1
#define V9_MIN_DATA_SET 256

static void refuse(struct cap_flow_ctx *ctx, struct exporter *e, size_t off, const char *what)
{
	e->info.templates_refused++;
	flow_log(ctx, FLOG_TEMPLATE, e, NULL, off, what);
}

/* Validates and stores a template whose fields were read into *t. */
static void keep(struct cap_flow_ctx *ctx, struct exporter *e, struct tmpl *t, size_t off)
{
	uint32_t len = 0;
	for (uint16_t i = 0; i < t->nfields; i++)
		len += t->f[i].len;
	if (t->id < V9_MIN_DATA_SET) {
		refuse(ctx, e, off, "template id below 256");
		return;
	}
	if (len == 0 || len > CAP_FLOW_MAX_RECORD) {
		refuse(ctx, e, off, "template record length 0 or past 65535");
		return;
	}
	t->min_len = len;
	t->varlen = false;
	if (!tmpl_store(ctx, e, t))
		e->info.templates_refused++; /* counted and logged by reason there */
}

/* Reads n (type, length) pairs into t->f; false when the set ends first. */
static bool read_fields(struct rbuf *set, struct tmpl *t, uint16_t n)
{
	t->nfields = n;
	for (uint16_t i = 0; i < n; i++) {
		t->f[i].type = rbuf_u16(set);
		t->f[i].len = rbuf_u16(set);
		t->f[i].pen = 0;
	}
	return !set->err;
}

static bool template_set(struct cap_flow_ctx *ctx, struct exporter *e, struct rbuf *set,
			 size_t base_off)
{
	struct tmpl t;
	while (rbuf_left(set) >= 4) {
		size_t off = base_off + set->off;
		memset(&t, 0, offsetof(struct tmpl, f));
		t.id = rbuf_u16(set);
		uint16_t n = rbuf_u16(set);
		if (n == 0) {
			refuse(ctx, e, off, "template with no fields");
			continue;
		}
		if (n > CAP_FLOW_MAX_FIELDS) {
			refuse(ctx, e, off, "template with more than 128 fields");
			if (!rbuf_skip(set, (size_t)n * 4))
				return false;
			continue;
		}
		if (!read_fields(set, &t, n))
			return false;
		keep(ctx, e, &t, off);
	}
	return true;
}

static bool options_set(struct cap_flow_ctx *ctx, struct exporter *e, struct rbuf *set,
			size_t base_off)
{
	struct tmpl t;
	while (rbuf_left(set) >= 6) {
		size_t off = base_off + set->off;
		memset(&t, 0, offsetof(struct tmpl, f));
		t.id = rbuf_u16(set);
		uint16_t scope_len = rbuf_u16(set);
		uint16_t opt_len = rbuf_u16(set);
		uint32_t n = ((uint32_t)scope_len + opt_len) / 4;
		if (scope_len % 4 || opt_len % 4 || n == 0 || n > CAP_FLOW_MAX_FIELDS) {
			refuse(ctx, e, off, "options template with bad scope/option lengths");
			if (!rbuf_skip(set, (size_t)scope_len + opt_len))
				return false;
			continue;
		}
		t.options = true;
		t.scope_fields = scope_len / 4;
		if (!read_fields(set, &t, (uint16_t)n))
			return false;
		keep(ctx, e, &t, off);
	}
	return true;
}

enum cap_flow_result cap_netflow9_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					 const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					 void *arg)
{
	if (!flow_admit(ctx, exporter))
		return flow_done(ctx, CAP_FLOW_NOT_ALLOWED);
	struct rbuf r = rbuf_init(p, len);
	uint16_t version = rbuf_u16(&r);
	rbuf_u16(&r); /* count: records in the packet; exporters get it wrong, sets are walked */
	uint32_t uptime = rbuf_u32(&r);
	uint32_t secs = rbuf_u32(&r);
	uint32_t seq = rbuf_u32(&r);
	uint32_t source_id = rbuf_u32(&r);
	if (r.err) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "netflow9: datagram shorter than its header");
		return flow_done(ctx, CAP_FLOW_TRUNCATED);
	}
	if (version != 9) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "netflow9: version is not 9");
		return flow_done(ctx, CAP_FLOW_VERSION);
	}
	struct exp_key key = {.addr = *exporter, .domain = source_id, .source = FLOW_SRC_NETFLOW9};
	struct exporter *e = flow_exporter(ctx, &key, recv_ns);
	if (!e)
		return flow_done(ctx, CAP_FLOW_TABLE_FULL);
	e->info.datagrams++;
	e->info.last_seen_ns = recv_ns;
	flow_sequence(e, seq, 1);

	struct tmpl_base base = {.source = FLOW_SRC_NETFLOW9,
				 .export_ns = (uint64_t)secs * 1000000000ull,
				 .sys_uptime_ms = uptime,
				 .recv_ns = recv_ns};
	enum cap_flow_result res = CAP_FLOW_OK;
	/* Fewer than 4 bytes after the last set: padding some exporters add. */
	while (rbuf_left(&r) >= 4) {
		size_t off = r.off;
		uint16_t id = rbuf_u16(&r);
		uint16_t slen = rbuf_u16(&r);
		if (slen < 4 || slen - 4u > rbuf_left(&r)) {
			e->info.malformed++;
			flow_log(ctx, FLOG_SET, e, NULL, off, "flowset length past the datagram or below 4");
			res = slen < 4 ? CAP_FLOW_MALFORMED : CAP_FLOW_TRUNCATED;
			break;
		}
		struct rbuf set = rbuf_sub(&r, slen - 4u);
		size_t body_off = off + 4;
		bool ok = true;
		if (id == V9_SET_TEMPLATE) {
			ok = template_set(ctx, e, &set, body_off);
		} else if (id == V9_SET_OPTIONS) {
			ok = options_set(ctx, e, &set, body_off);
		} else if (id >= V9_MIN_DATA_SET) {
			const struct tmpl *t = tmpl_find(e, id);
			if (!t) {
				e->info.template_misses++;
				flow_log(ctx, FLOG_TEMPLATE_MISS, e, NULL, off,
					 "data flowset before its template: dropped");
				continue;
			}
			bool err;
			tmpl_decode_set(ctx, e, t, &base, &set, fn, arg, &err);
			ok = !err;
		}
		/* ids 2..255 are reserved: skipped by their length */
		if (!ok) {
			e->info.malformed++;
			flow_log(ctx, FLOG_RECORD, e, NULL, off, "flowset ends inside a template or record");
			if (res == CAP_FLOW_OK)
				res = CAP_FLOW_MALFORMED;
		}
	}
	return flow_done(ctx, res);
}
