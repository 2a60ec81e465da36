/* Flow-export decoders: one UDP datagram of sFlow v5, NetFlow v5, NetFlow v9 or IPFIX in,
 * flow records out through a callback.
 *
 * Pure parsing: no sockets, no threads, no allocation per record. A context holds what must
 * outlive a datagram: the exporters seen (bounded), their counters, sequence numbers, sampling
 * rates learned from options data, and the NetFlow v9 / IPFIX template cache, keyed by exporter
 * address + source id / observation domain + template id. One context per listener thread; a
 * context is not thread-safe. */
#ifndef RAMPART_CAPTURE_FLOWS_H
#define RAMPART_CAPTURE_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/ip.h"
#include "cap.h"
#include "flow_record.h"

/* Hard limits, whatever the configuration says. */
#define CAP_FLOW_MAX_FIELDS 128      /* fields in one template */
#define CAP_FLOW_MAX_RECORD 65535    /* bytes in one data record */
#define CAP_FLOW_MAX_SAMPLERS 16     /* sampler ids remembered per exporter */

/* Every table is bounded so that spoofed datagrams (UDP sources are free to forge) cannot lock a
 * real exporter out: see flowctx.c for the eviction order. */
struct cap_flow_config {
	uint32_t max_exporters; /* exporters (address + domain) remembered in total. 0: 256 */
	uint32_t max_domains_per_addr; /* exporters sharing one source address (v9 source ids,
					  IPFIX domains, sFlow agents/sub-agents). 0: 64 */
	uint32_t max_templates; /* v9/IPFIX templates per exporter; more are refused. 0: 256 */
	uint64_t max_template_bytes; /* template memory in total. 0: 16 MiB */
	uint32_t idle_s; /* an exporter that sent valid data but nothing for this long may be
			    evicted for a new one. 0: 300 */
	/* Allow-list: when n_allow > 0, datagrams from a source outside every prefix are counted
	 * and dropped before any byte is read. Copied by cap_flow_new. */
	const ip_prefix *allow;
	size_t n_allow;
};

enum cap_flow_result {
	CAP_FLOW_OK = 0,
	CAP_FLOW_TRUNCATED,   /* a length ran past the datagram */
	CAP_FLOW_MALFORMED,   /* an impossible value (bad length, count, template) */
	CAP_FLOW_VERSION,     /* not the protocol/version this decoder reads */
	CAP_FLOW_TABLE_FULL,  /* a new exporter and no room for it: datagram dropped */
	CAP_FLOW_NOT_ALLOWED, /* source outside the allow-list: dropped unread */
	CAP_FLOW_RESULT_COUNT,
};

/* Why the collector refused state to a source (each counted, and logged once per reason per
 * exporter, with its address). */
enum cap_flow_refusal {
	CAP_REFUSE_NOT_ALLOWED,     /* source outside the allow-list */
	CAP_REFUSE_TABLE_FULL,      /* new exporter; every entry sends valid data and is active */
	CAP_REFUSE_ADDR_DOMAINS,    /* new domain; its address holds max_domains_per_addr active,
				       valid ones */
	CAP_REFUSE_TEMPLATES,       /* template past max_templates of its exporter */
	CAP_REFUSE_TEMPLATE_MEMORY, /* template past max_template_bytes, none reclaimable */
	CAP_REFUSE_COUNT,
};

const char *cap_flow_refusal_name(enum cap_flow_refusal r);

const char *cap_flow_strerror(enum cap_flow_result r);

struct cap_flow_ctx;

/* cfg may be NULL for the defaults. Allocates the exporter table up front. */
struct cap_flow_ctx *cap_flow_new(const struct cap_flow_config *cfg);
void cap_flow_free(struct cap_flow_ctx *ctx);

/* Each decoder reads one datagram's UDP payload, sent by `exporter` and received at recv_ns
 * (ns since the Unix epoch), and calls fn once per flow record (valid only during the call).
 * Records decoded before an error are delivered; the rest of the datagram (or of the set, where
 * the next set can still be found) is skipped, counted and logged once. The result is
 * CAP_FLOW_OK or the first error met. */
typedef enum cap_flow_result (*cap_flow_decode_fn)(struct cap_flow_ctx *ctx, const uint8_t *p,
						   size_t len, const ip_addr *exporter,
						   uint64_t recv_ns, cap_record_fn fn, void *arg);

/* sFlow v5: flow samples and expanded flow samples, one record (packets = 1) per sampled
 * packet header; counter samples are counted and skipped. */
enum cap_flow_result cap_sflow_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
				      const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
				      void *arg);
enum cap_flow_result cap_netflow5_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					 const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					 void *arg);
enum cap_flow_result cap_netflow9_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					 const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					 void *arg);
enum cap_flow_result cap_ipfix_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
				      const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
				      void *arg);
/* NetFlow on one port: dispatches v5 / v9 / v10 (IPFIX) on the version field. */
enum cap_flow_result cap_netflow_decode(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					void *arg);

/* sFlow: the raw packet header of the sample being delivered (data NULL when the sample had none,
 * and for every other protocol). Valid only during the cap_record_fn call. */
const struct cap_frame *cap_flow_frame(const struct cap_flow_ctx *ctx);

/* ---- exporters (for `rampartctl exporters`) ------------------------------------------------ */

struct cap_exporter_info {
	ip_addr addr;           /* UDP source of the datagrams */
	ip_addr agent;          /* sFlow: the agent address in the datagram; zero otherwise */
	uint32_t domain;        /* sFlow sub-agent, v5 engine type << 8 | id, v9 source id,
				   IPFIX observation domain */
	uint8_t source;         /* enum flow_source */
	uint32_t sampling_rate; /* last rate seen (1 if none) */
	uint32_t templates;     /* v9/IPFIX templates held now */
	uint64_t last_seen_ns;  /* recv_ns of the last datagram */
	uint64_t datagrams;
	uint64_t records;         /* flow records delivered */
	uint64_t malformed;       /* datagrams or sets with an error */
	uint64_t template_misses; /* data sets whose template was not (yet) known: dropped */
	uint64_t templates_refused; /* templates rejected: invalid, or past max_templates */
	uint64_t sequence_gaps;   /* lost units by the protocol's sequence: v5 flows, v9 and sFlow
				     datagrams, IPFIX data records */
	uint64_t skipped;         /* samples/records carrying no IP flow (non-IP header, no address) */
	uint64_t counter_samples; /* sFlow counter samples: counted, not decoded further */
};

/* Fills up to max entries, those that delivered records first, and returns how many exporters
 * there are. */
size_t cap_flow_exporters(const struct cap_flow_ctx *ctx, struct cap_exporter_info *out, size_t max);

struct cap_flow_stats {
	uint64_t datagrams;
	uint64_t result[CAP_FLOW_RESULT_COUNT]; /* per datagram's result */
	uint64_t exporters;                     /* in the table now */
	uint64_t refused[CAP_REFUSE_COUNT]; /* enum cap_flow_refusal */
	uint64_t evicted;          /* exporters pushed out for a new one (never one that sent valid
				      data and is active) */
	uint64_t templates_reclaimed; /* templates freed from exporters that never sent valid data,
					 to make room under max_template_bytes */
	uint64_t template_bytes;   /* template memory held now */
};

void cap_flow_stats(const struct cap_flow_ctx *ctx, struct cap_flow_stats *out);

#endif
