/* Private to the flow decoders (sflow.c, netflow5.c, netflow9.c, ipfix.c, templates.c,
 * flowctx.c): the context, the exporter table and the NetFlow v9 / IPFIX template cache. */
#ifndef RAMPART_CAPTURE_TEMPLATES_INT_H
#define RAMPART_CAPTURE_TEMPLATES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "flows.h"

/* One field of a template. len == TMPL_VARLEN: IPFIX variable length (length prefix in data). */
#define TMPL_VARLEN 0xffff

struct tmpl_field {
	uint16_t type; /* information element id, E bit cleared */
	uint16_t len;
	uint32_t pen;  /* IPFIX enterprise number; 0 for IANA elements */
};

struct tmpl {
	uint16_t id;
	uint16_t nfields;
	uint16_t scope_fields; /* options templates: the first scope_fields fields are scope */
	bool options;
	bool varlen;      /* some field is variable length: records are walked, not strided */
	uint32_t min_len; /* record length (fixed), or its minimum (varlen: 1 byte per varlen field) */
	struct tmpl_field f[CAP_FLOW_MAX_FIELDS];
};

struct exp_key {
	ip_addr addr;
	ip_addr agent;
	uint32_t domain;
	uint8_t source;
};

struct sampler {
	uint64_t id;
	uint32_t rate;
};

struct exporter {
	struct exp_key key;
	struct cap_exporter_info info; /* counters, kept in the exported shape */
	uint32_t next_seq;             /* sequence expected next, when seq_valid */
	bool seq_valid;
	uint32_t default_rate;         /* v9/IPFIX: from options data without a sampler id; 0 none */
	uint64_t sys_init_ms;          /* IPFIX systemInitTimeMilliseconds from options data; 0 none */
	uint8_t nsamplers;
	struct sampler samplers[CAP_FLOW_MAX_SAMPLERS];
	uint16_t ntmpl;
	struct tmpl **tmpl;            /* max_templates slots, sorted by id; NULL until first use */
	uint64_t tmpl_bytes;           /* memory held for templates (slots included) */
	int32_t addr_prev, addr_next;  /* the other exporters of this address, -1 at the ends */
	uint8_t logged;                /* bit per enum cap_flow_refusal already logged for it */
};

/* Exporters per source address, for max_domains_per_addr. n == 0: empty slot. */
struct addr_slot {
	ip_addr addr;
	uint32_t n;
	int32_t head; /* first exporter of the address */
};

/* Error kinds logged once each (per context, so per thread). */
enum flow_log {
	FLOG_HEADER,
	FLOG_SAMPLE,
	FLOG_RECORD,
	FLOG_SET,
	FLOG_TEMPLATE,
	FLOG_TEMPLATE_FULL,
	FLOG_TEMPLATE_MISS,
	FLOG_OPTIONS,
	FLOG_TABLE_FULL,
	FLOG_NOT_ALLOWED,
	FLOG_ADDR_DOMAINS,
	FLOG_TEMPLATE_MEMORY,
	FLOG_COUNT,
};

struct cap_flow_ctx {
	struct cap_flow_config cfg;
	struct exporter *exp;  /* cfg.max_exporters entries, the first nexp used */
	uint32_t nexp;
	int32_t *index;        /* open addressing over exp[], -1 empty; backward-shift deletion */
	uint32_t index_mask;
	struct addr_slot *addrs; /* open addressing, same size as index */
	ip_prefix *allow;      /* cfg.allow, copied */
	uint32_t evict_cursor; /* where the next eviction scan starts */
	struct exporter *last; /* one-entry cache: datagrams come in runs from one exporter */
	struct cap_flow_stats stats;
	struct log_once log[FLOG_COUNT];
	struct cap_frame frame; /* sFlow: the raw header behind the record being delivered */
};

/* flowctx.c */
/* False (counted, logged) when the allow-list leaves addr out: the datagram is not to be read. */
bool flow_admit(struct cap_flow_ctx *ctx, const ip_addr *addr);
/* The exporter for key, created when new, evicting an entry that never sent valid data or is
 * idle if need be; NULL (counted, logged) when no entry may go. */
struct exporter *flow_exporter(struct cap_flow_ctx *ctx, const struct exp_key *key, uint64_t now_ns);
/* Counts a refusal and logs it: once per reason for an exporter that sent valid data; for
 * others (and with no exporter, naming addr) once per reason per minute with the count. */
void flow_refuse(struct cap_flow_ctx *ctx, enum cap_flow_refusal why, struct exporter *e,
		 const ip_addr *addr, const char *what);
/* Makes room for `bytes` more template memory by freeing the templates of exporters that never
 * sent valid data (never `keep`). False when the budget stays short. */
bool flow_template_room(struct cap_flow_ctx *ctx, const struct exporter *keep, uint64_t bytes);
/* Counts a gap when seq is ahead of what was expected; then expects seq + advance. */
void flow_sequence(struct exporter *e, uint32_t seq, uint32_t advance);
/* Counts the datagram's result in the context's statistics and returns it. */
enum cap_flow_result flow_done(struct cap_flow_ctx *ctx, enum cap_flow_result r);
/* Logs once per kind: exporter, protocol, offset and what was wrong. */
void flow_log(struct cap_flow_ctx *ctx, enum flow_log kind, const struct exporter *e,
	      const ip_addr *addr, size_t off, const char *what);
static inline uint32_t flow_rate(uint64_t r)
{
	return r == 0 ? 1 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* templates.c */
struct tmpl *tmpl_find(const struct exporter *e, uint16_t id);
/* Inserts or refreshes (copies *t). False (refusal counted and logged) when the exporter holds
 * max_templates already or the template memory budget is spent. */
bool tmpl_store(struct cap_flow_ctx *ctx, struct exporter *e, const struct tmpl *t);
void tmpl_withdraw(struct cap_flow_ctx *ctx, struct exporter *e, uint16_t id);
/* IPFIX withdraw-all: every template (options == false) or every options template. */
void tmpl_withdraw_all(struct cap_flow_ctx *ctx, struct exporter *e, bool options);
void tmpl_free_all(struct cap_flow_ctx *ctx, struct exporter *e);

/* What a data set is decoded against: the datagram header's clocks. */
struct tmpl_base {
	uint8_t source;          /* FLOW_SRC_NETFLOW9 or FLOW_SRC_IPFIX */
	uint64_t export_ns;      /* header time (unix secs) in ns */
	uint32_t sys_uptime_ms;  /* v9 header sysUptime */
	uint64_t recv_ns;
};

/* Decodes one data set's records (body without the 4-byte set header) by template t, delivering
 * flow records (or learning sampling from options data). Returns the number of data records
 * read; *err set when the set ended in the middle of a record that is not padding. */
uint32_t tmpl_decode_set(struct cap_flow_ctx *ctx, struct exporter *e, const struct tmpl *t,
			 const struct tmpl_base *base, struct rbuf *set, cap_record_fn fn, void *arg,
			 bool *err);

#endif
