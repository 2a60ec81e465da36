/* capture/: bytes in, flow records out. Knows nothing of detection.
 *
 * Three pieces: the packet decoder (shared by mirror capture and sFlow's raw packet headers),
 * the libpcap source (live interface or offline replay), and the mirror flow table that turns
 * packets into NetFlow-like flow rows for storage. */
#ifndef RAMPART_CAPTURE_CAP_H
#define RAMPART_CAPTURE_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_record.h"

/* ---- packet decoder ---------------------------------------------------------------------- */

enum cap_decode_result {
	CAP_DECODE_OK = 0,
	CAP_DECODE_TRUNCATED,   /* a header runs past the captured bytes */
	CAP_DECODE_MALFORMED,   /* a header field is impossible (IHL < 5, bad version, ...) */
	CAP_DECODE_NOT_IP,      /* a valid frame that carries no IP (ARP, LLDP, ...) */
	CAP_DECODE_RESULT_COUNT,
};

const char *cap_decode_strerror(enum cap_decode_result r);

/* Decodes an Ethernet frame (802.1Q and QinQ tags, MPLS label stacks, IPv4, IPv6 with extension
 * headers, TCP, UDP, ICMP/ICMPv6, fragments) into *out as one packet: packets = 1, bytes = IP
 * total length, start_ns = end_ns = ts_ns, sampling_rate = 1, source = FLOW_SRC_MIRROR.
 * Reads at most caplen bytes. On error *out is unspecified. */
enum cap_decode_result cap_decode_ethernet(const uint8_t *frame, size_t caplen, uint64_t ts_ns,
					   struct flow_record *out);
/* The same for a frame that starts at the IP header (pcap DLT_RAW, sFlow header_protocol IPv4/6). */
enum cap_decode_result cap_decode_ip(const uint8_t *pkt, size_t caplen, uint64_t ts_ns,
				     struct flow_record *out);

/* ---- libpcap source ---------------------------------------------------------------------- */

enum cap_pcap_speed { CAP_SPEED_MAX, CAP_SPEED_RECORDED };

struct cap_pcap_stats {
	uint64_t frames;                            /* frames read */
	uint64_t decode[CAP_DECODE_RESULT_COUNT];   /* per result; decode[CAP_DECODE_OK] = records */
	uint64_t kernel_drops;                      /* live only: pcap_stats ps_drop + ps_ifdrop */
	uint64_t ring_drops;                        /* live only: ps_drop (the buffer was full) */
	uint64_t if_drops;                          /* live only: ps_ifdrop (the interface dropped) */
	uint64_t sampled_out;                       /* frames skipped by cap_pcap_set_sample */
};

struct cap_pcap;

/* Link types: Ethernet, raw IP, Linux cooked v1/v2; any other fails at open with a clear error.
 * Live capture on an interface: promiscuous, 10 ms ring blocks, 256-byte snap length (headers are
 * all the decoder needs; bytes come from the IP length), reads wait at most 100 ms. */
struct cap_pcap *cap_pcap_open_live(const char *ifname, char *err, size_t errlen);
/* Offline replay of a pcap/pcapng file; CAP_SPEED_RECORDED sleeps to keep the capture's pace. */
struct cap_pcap *cap_pcap_open_offline(const char *path, enum cap_pcap_speed speed, char *err,
				       size_t errlen);
void cap_pcap_close(struct cap_pcap *p);

/* Called for every frame that decoded into a record (the record is valid only during the call).
 * Frames that did not decode are counted in the stats and logged once per kind. */
typedef void (*cap_record_fn)(void *ctx, const struct flow_record *rec);

/* The bytes behind the record being delivered, for sample packets (an attack's pcap): the
 * captured frame of a mirror source, the raw header of an sFlow sample. Valid only during the
 * cap_record_fn call; data is NULL when the record has none (NetFlow, IPFIX, sFlow without a raw
 * header record). */
struct cap_frame {
	const uint8_t *data;
	uint32_t caplen; /* bytes at data */
	uint32_t len;    /* the frame's length on the wire */
	int dlt;         /* libpcap DLT_ value: Ethernet, raw IP, Linux cooked */
};
const struct cap_frame *cap_pcap_frame(const struct cap_pcap *p);

/* Reads and decodes up to max frames. Returns the number of frames read (0 when a live read
 * timed out with nothing; an offline read never returns 0), or -1 at the end of an offline file
 * or on a capture error (err set). */
int cap_pcap_dispatch(struct cap_pcap *p, int max, cap_record_fn fn, void *ctx, char *err,
		      size_t errlen);
/* The timestamp (capture clock, ns) of the last frame read; 0 before the first. */
uint64_t cap_pcap_last_ts(const struct cap_pcap *p);
void cap_pcap_stats(struct cap_pcap *p, struct cap_pcap_stats *out);
/* Mirror sampling: keeps the first frame of every n (0 or 1: all) and gives its record
 * sampling_rate = n, so detection scales what it counts back to the full rate. */
void cap_pcap_set_sample(struct cap_pcap *p, uint32_t n);

/* ---- mirror flow table ------------------------------------------------------------------- */

/* Aggregates mirrored packets by (src, dst, protocol, src port, dst port, vlan) into flow
 * records, exported like a NetFlow exporter would: after active_timeout since the flow's first
 * packet, after inactive_timeout without packets, or when the table is full (oldest first). All
 * times are the capture clock, so a replay exports the same flows at any speed. Memory is fixed
 * at creation. One table per capture worker; not thread-safe. */
struct cap_flowtable;

struct cap_flowtable_stats {
	uint64_t active;          /* flows in the table now */
	uint64_t created;
	uint64_t exported;
	uint64_t evicted_full;    /* exported early because the table was full */
};

struct cap_flowtable *cap_flowtable_new(size_t max_flows, uint32_t active_timeout_s,
					uint32_t inactive_timeout_s);
void cap_flowtable_free(struct cap_flowtable *t);

typedef void (*cap_flow_export_fn)(void *ctx, const struct flow_record *flow);

/* Adds one packet record. Returns true when the packet started a new flow (detection counts
 * flows per second from this). May export one flow through fn when the table is full. */
bool cap_flowtable_add(struct cap_flowtable *t, const struct flow_record *pkt, cap_flow_export_fn fn,
		       void *ctx);
/* Exports every flow whose active or inactive timeout has passed at now_ns. Cheap when nothing
 * is due: called once per tick, not per packet. */
void cap_flowtable_expire(struct cap_flowtable *t, uint64_t now_ns, cap_flow_export_fn fn, void *ctx);
/* Exports everything (at shutdown). */
void cap_flowtable_flush(struct cap_flowtable *t, cap_flow_export_fn fn, void *ctx);
void cap_flowtable_stats(const struct cap_flowtable *t, struct cap_flowtable_stats *out);

#endif
