/* NetFlow v5: a fixed 24-byte header and up to 30 fixed 48-byte records.
 *
 * The exporter key is the UDP source + engine type/id; the sequence number counts flows, so a
 * gap is counted in flows. Times are sysUptime milliseconds, made absolute with the header's
 * (sysUptime, unix_secs, unix_nsecs) triple. Also the dispatcher for a port that carries v5, v9
 * and IPFIX together. */
#include <string.h>

#include "templates_int.h"

#define V5_HEADER_LEN 24
#define V5_RECORD_LEN 48
#define V5_MAX_COUNT 30

enum cap_flow_result cap_netflow5_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					 const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					 void *arg)
{
	if (!flow_admit(ctx, exporter))
		return flow_done(ctx, CAP_FLOW_NOT_ALLOWED);
	struct rbuf r = rbuf_init(p, len);
	uint16_t version = rbuf_u16(&r);
	uint16_t count = rbuf_u16(&r);
	uint32_t uptime = rbuf_u32(&r);
	uint32_t secs = rbuf_u32(&r);
	uint32_t nsecs = rbuf_u32(&r);
	uint32_t seq = rbuf_u32(&r);
	uint8_t engine_type = rbuf_u8(&r);
	uint8_t engine_id = rbuf_u8(&r);
	uint16_t sampling = rbuf_u16(&r);
	if (r.err) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "netflow5: datagram shorter than its header");
		return flow_done(ctx, CAP_FLOW_TRUNCATED);
	}
	if (version != 5) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "netflow5: version is not 5");
		return flow_done(ctx, CAP_FLOW_VERSION);
	}
	struct exp_key key = {.addr = *exporter,
			      .domain = (uint32_t)engine_type << 8 | engine_id,
			      .source = FLOW_SRC_NETFLOW5};
	struct exporter *e = flow_exporter(ctx, &key, recv_ns);
	if (!e)
		return flow_done(ctx, CAP_FLOW_TABLE_FULL);
	e->info.datagrams++;
	e->info.last_seen_ns = recv_ns;
	if (count == 0 || count > V5_MAX_COUNT) {
		e->info.malformed++;
		flow_log(ctx, FLOG_HEADER, e, NULL, 2, "netflow5: record count 0 or above 30");
		return flow_done(ctx, CAP_FLOW_MALFORMED);
	}
	if (rbuf_left(&r) < (size_t)count * V5_RECORD_LEN) {
		e->info.malformed++;
		flow_log(ctx, FLOG_HEADER, e, NULL, V5_HEADER_LEN,
			 "netflow5: datagram shorter than its record count says");
		return flow_done(ctx, CAP_FLOW_TRUNCATED);
	}
	flow_sequence(e, seq, count);
	/* Low 14 bits: 1 in N packets; the top 2 bits say the mode. 0: unsampled. */
	uint32_t rate = flow_rate(sampling & 0x3fff);
	e->info.sampling_rate = rate;
	uint64_t now_ns = (uint64_t)secs * 1000000000ull + nsecs;

	for (uint16_t i = 0; i < count; i++) {
		const uint8_t *q = rbuf_take(&r, V5_RECORD_LEN);
		struct rbuf rec = rbuf_init(q, V5_RECORD_LEN);
		struct flow_record f;
		memset(&f, 0, sizeof f);
		ip_from_v4(&f.src, rbuf_take(&rec, 4));
		ip_from_v4(&f.dst, rbuf_take(&rec, 4));
		rbuf_skip(&rec, 4); /* next hop */
		f.in_if = rbuf_u16(&rec);
		f.out_if = rbuf_u16(&rec);
		f.packets = rbuf_u32(&rec);
		f.bytes = rbuf_u32(&rec);
		uint32_t first = rbuf_u32(&rec);
		uint32_t last = rbuf_u32(&rec);
		f.src_port = rbuf_u16(&rec);
		f.dst_port = rbuf_u16(&rec);
		rbuf_skip(&rec, 1);
		f.tcp_flags = rbuf_u8(&rec);
		f.protocol = rbuf_u8(&rec);
		f.tos = rbuf_u8(&rec);
		/* src/dst AS, masks, padding: not ours */
		int64_t start = (int64_t)now_ns - (int64_t)(int32_t)(uptime - first) * 1000000;
		int64_t end = (int64_t)now_ns - (int64_t)(int32_t)(uptime - last) * 1000000;
		f.start_ns = start < 0 ? 0 : (uint64_t)start;
		f.end_ns = end < 0 ? 0 : (uint64_t)end;
		f.exporter = *exporter;
		f.sampling_rate = rate;
		f.source = FLOW_SRC_NETFLOW5;
		f.ip_version = 4;
		e->info.records++;
		fn(arg, &f);
	}
	return flow_done(ctx, CAP_FLOW_OK);
}

enum cap_flow_result cap_netflow_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					void *arg)
{
	if (!flow_admit(ctx, exporter))
		return flow_done(ctx, CAP_FLOW_NOT_ALLOWED);
	if (len < 2) {
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "netflow: datagram shorter than a version");
		return flow_done(ctx, CAP_FLOW_TRUNCATED);
	}
	switch (p[0] << 8 | p[1]) {
	case 5: return cap_netflow5_decode(ctx, p, len, exporter, recv_ns, fn, arg);
	case 9: return cap_netflow9_decode(ctx, p, len, exporter, recv_ns, fn, arg);
	case 10: return cap_ipfix_decode(ctx, p, len, exporter, recv_ns, fn, arg);
	default:
		flow_log(ctx, FLOG_HEADER, NULL, exporter, 0, "netflow: version is not 5, 9 or 10");
		return flow_done(ctx, CAP_FLOW_VERSION);
	}
}
