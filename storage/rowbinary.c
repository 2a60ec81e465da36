/* RowBinary rows in the column order of schema.c.
 *
 * RowBinary is the columns back to back, no separators: integers little-endian, Date as UInt16
 * days and DateTime as UInt32 seconds since the epoch, FixedString(N) as its N bytes, String as
 * a LEB128 length then the bytes, Float64 as the IEEE-754 bits little-endian. */
#include <string.h>

#include "st_int.h"

#define NS_PER_S 1000000000ull

/* Seconds past 2106 do not fit a DateTime; clamp rather than wrap to 1970. */
static void put_time(struct wbuf *w, uint64_t ns)
{
	uint64_t s = ns / NS_PER_S;
	wbuf_le32(w, s > UINT32_MAX ? UINT32_MAX : (uint32_t)s);
	wbuf_le32(w, (uint32_t)(ns % NS_PER_S));
}

static void put_date(struct wbuf *w, uint64_t ns)
{
	uint64_t d = ns / NS_PER_S / 86400;
	wbuf_le16(w, d > UINT16_MAX ? UINT16_MAX : (uint16_t)d);
}

/* String from a fixed char array that may lack its NUL */
static void put_string(struct wbuf *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	size_t v = n;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		wbuf_u8(w, v ? (uint8_t)(b | 0x80) : b);
	} while (v);
	wbuf_bytes(w, s, n);
}

static void put_f64(struct wbuf *w, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	wbuf_le64(w, bits);
}

void st_rowbinary_flow(struct wbuf *w, const struct flow_record *r)
{
	put_date(w, r->start_ns);
	put_time(w, r->start_ns);
	put_time(w, r->end_ns);
	wbuf_bytes(w, r->src.b, 16);
	wbuf_bytes(w, r->dst.b, 16);
	wbuf_le16(w, r->src_port);
	wbuf_le16(w, r->dst_port);
	wbuf_u8(w, r->protocol);
	wbuf_u8(w, r->tcp_flags);
	wbuf_u8(w, r->tos);
	wbuf_u8(w, r->flags);
	wbuf_le64(w, r->packets);
	wbuf_le64(w, r->bytes);
	wbuf_le32(w, r->sampling_rate);
	wbuf_bytes(w, r->exporter.b, 16);
	wbuf_le32(w, r->in_if);
	wbuf_le32(w, r->out_if);
	wbuf_le16(w, r->vlan);
	wbuf_u8(w, r->source);
	wbuf_u8(w, r->ip_version);
}

void st_rowbinary_event(struct wbuf *w, const struct st_attack_event *ev)
{
	put_date(w, ev->time_ns);
	put_time(w, ev->time_ns);
	wbuf_le64(w, ev->attack_id);
	put_string(w, ev->event, sizeof ev->event);
	wbuf_bytes(w, ev->target.addr.b, 16);
	wbuf_u8(w, ev->target.len);
	wbuf_u8(w, ev->direction);
	wbuf_u8(w, ev->manual ? 1 : 0);
	put_string(w, ev->hostgroup, sizeof ev->hostgroup);
	put_string(w, ev->trigger, sizeof ev->trigger);
	put_f64(w, ev->trigger_value);
	put_f64(w, ev->trigger_limit);
	put_f64(w, ev->pps);
	put_f64(w, ev->bps);
	put_f64(w, ev->flows);
	wbuf_le32(w, ev->ban_seconds);
	put_string(w, ev->action, sizeof ev->action);
	put_string(w, ev->reason, sizeof ev->reason);
	put_string(w, ev->pcap_file, sizeof ev->pcap_file);
	wbuf_le64(w, ev->pcap_packets);
	wbuf_le64(w, ev->parent_attack_id);
	wbuf_le64(w, ev->distinct_peers);
	wbuf_le64(w, ev->distinct_peer_prefixes);
	wbuf_le64(w, ev->distinct_src_ports);
	wbuf_le64(w, ev->distinct_dst_ports);
}

void st_rowbinary_operator_event(struct wbuf *w, const struct st_operator_event *ev)
{
	put_date(w, ev->time_ns);
	put_time(w, ev->time_ns);
	put_string(w, ev->source, sizeof ev->source);
	put_string(w, ev->client, sizeof ev->client);
	wbuf_le32(w, (uint32_t)ev->uid);
	wbuf_le32(w, (uint32_t)ev->pid);
	wbuf_u8(w, ev->token ? 1 : 0);
	put_string(w, ev->command, sizeof ev->command);
	put_string(w, ev->result, sizeof ev->result);
	wbuf_u8(w, ev->ok ? 1 : 0);
}
