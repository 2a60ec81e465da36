/* detect/ internals shared by its files; nothing outside detect/ includes this. */
#ifndef RAMPART_DETECT_DET_INT_H
#define RAMPART_DETECT_DET_INT_H

#include "det.h"
#include "../lib/ht.h"

/* Longest-prefix match: a trie with 8-bit strides and prefix expansion, one per family, so a
 * lookup is at most 4 (IPv4) or 16 (IPv6) array reads. Built once, then read-only. */
struct det_lpm_slot {
	uint32_t child; /* node index; 0 = none (the root, node 0, is never a child) */
	int32_t value;
	uint8_t len; /* the family's prefix length of value; 0 = no prefix covers this slot */
};

struct det_lpm_trie {
	struct det_lpm_slot *nodes; /* n_nodes * 256 */
	uint32_t n_nodes, cap_nodes;
	int32_t dflt; /* the /0 prefix's value, or -1 */
};

struct det_lpm {
	struct det_lpm_trie v4, v6;
};

int det_lpm_init(struct det_lpm *l);
void det_lpm_fini(struct det_lpm *l);
/* A longer prefix wins; of equal ones the later inserted. -1 on ENOMEM. */
int det_lpm_insert(struct det_lpm *l, const ip_prefix *p, int32_t value);
/* The value of the longest prefix containing a, or -1. */
int det_lpm_lookup(const struct det_lpm *l, const ip_addr *a);

/* Per-worker counters, read by the engine's merge. One tick's counts, as float: exact up to 2^24
 * per tick (16 M packets, 16 MB of one host in one tick), then within 6e-8 of the count, which a
 * rate never notices; and unlike a 32-bit integer it cannot wrap (a 1:100000 sampled 1500-byte
 * packet is already 150 MB). Half the bytes of uint64_t. */
struct det_count {
	float v[DET_DIRECTIONS][DET_CLASSES][DET_METRICS]; /* packets, bytes, flows */
};

struct det_counters_host {
	ip_addr host;
	uint32_t hash;             /* ip_hash(host): the engine's merge looks it up without hashing again */
	int16_t group;             /* hostgroups are at most 4097 */
	int8_t fp[DET_DIRECTIONS]; /* fingerprint slot in the watch set, -1 = not under attack */
	struct det_count c;
};

/* The hosts counted since the last clear, densely; *n set to how many. */
const struct det_counters_host *det_counters_entries(const struct det_counters *c, size_t *n);

/* ---- fingerprints (fingerprint.c) ------------------------------------------------------- */

/* Space-saving top-K (Metwally et al. 2005): K counters; a new key replaces the smallest and
 * inherits its count as its error, so count is an upper bound of the key's packets, count - err a
 * guaranteed minimum (what was counted since the key came in), err at most total/K, and any key
 * with more than total/K is in the table. */
#define DET_SS_K 16
struct det_ss {
	uint8_t n;
	struct {
		uint8_t key[16];
		uint64_t count;
		uint64_t err;
	} e[DET_SS_K];
};

/* HyperLogLog distinct counts (hll.c) with 2^p one-byte registers: standard error 1.04 / sqrt(2^p)
 * for 2^p bytes. The remote ends get p = 12 (4 KiB, 1.6 %); their /24 (/64) prefixes and the
 * ports p = 10 (1 KiB, 3.3 %): a third of the memory each, and ports (at most 65536 values) or
 * prefixes need a count, not a census. docs/DETECTION.md "Attack fingerprint" has the costs. */
#define DET_HLL_P 12
#define DET_HLL_P_SMALL 10
struct det_hll {
	uint8_t reg[1u << DET_HLL_P];
};
struct det_hll_small {
	uint8_t reg[1u << DET_HLL_P_SMALL];
};
/* The precision p of a sketch h (either type): its register count is 2^p. */
#define DET_HLL_PREC(h) ((unsigned)__builtin_ctz((unsigned)sizeof (h)->reg))
/* 64 mixed bits of a 16-byte key (an address, a prefix, a port), for det_hll_add. */
uint64_t det_key_hash(const uint8_t key[16]);
/* reg is the 2^p registers of one sketch: (h)->reg with p = DET_HLL_PREC(h). */
void det_hll_add(uint8_t *reg, unsigned p, uint64_t hash);
void det_hll_merge(uint8_t *into, const uint8_t *from, unsigned p);
/* The estimated number of distinct keys added. */
uint64_t det_hll_estimate(const uint8_t *reg, unsigned p);

/* The counts of a fingerprint while it is collected (per worker, then per attack). */
struct det_fp_acc {
	uint64_t packets, bytes;
	uint64_t proto[DET_FP_PROTOS];
	uint64_t tcp_flag[8];
	uint64_t syn_only, ack_rst, fragments;
	uint64_t size[DET_FP_SIZES];
	uint64_t records; /* flow records or packets seen, unscaled */
	/* peer_prefixes: the remote ends' /24 (IPv4) or /64 (IPv6), the network a FlowSpec source
	 * match may name when no single address is heavy */
	struct det_ss peers, peer_prefixes, src_ports, dst_ports;
	struct det_hll peer_set;               /* distinct remote ends */
	struct det_hll_small peer_prefix_set;  /* distinct remote /24s or /64s */
	struct det_hll_small src_port_set, dst_port_set; /* distinct TCP/UDP ports */
};

void det_fp_acc_add(struct det_fp_acc *a, const struct flow_record *r, enum det_direction dir, uint64_t scale);
void det_fp_acc_merge(struct det_fp_acc *into, const struct det_fp_acc *from);
/* The public view of a, classified. */
void det_fp_acc_summary(const struct det_fp_acc *a, struct det_fingerprint *out);
/* The class mix of rates r in direction d (no records yet), classified. */
void det_fp_from_rates(const struct det_rates *r, enum det_direction d, struct det_fingerprint *out);

/* The hosts under attack that workers collect fingerprints for: built by the engine on the main
 * loop, never changed after it is handed to counters, freed by the engine once no counters set
 * refers to it (refs is only touched on the main loop, during merge). */
#define DET_WATCH_MAX 64
#define DET_WATCH_INDEX 256 /* power of two, > 2 * DET_WATCH_MAX */
struct det_watch {
	struct det_watch *next; /* the engine's list */
	uint32_t refs;          /* counters sets that hold it */
	size_t n;
	struct {
		ip_addr host;
		uint8_t dir;
		uint64_t attack_id;
	} e[DET_WATCH_MAX];
	uint8_t index[DET_WATCH_INDEX]; /* entry + 1, by ip_hash; 0 = empty */
};
void det_watch_add(struct det_watch *w, const ip_addr *host, enum det_direction dir, uint64_t attack_id);
/* The entry for (host, dir), or -1. */
int det_watch_find(const struct det_watch *w, const ip_addr *host, uint32_t hash, enum det_direction dir);

/* Counters side of the hand-over (counters.c), called by the engine's merge. */
const struct det_watch *det_counters_watch(const struct det_counters *c);
void det_counters_set_watch(struct det_counters *c, const struct det_watch *w);
/* The per-slot accumulators filled against det_counters_watch(c); NULL when there are none. */
const struct det_fp_acc *det_counters_fp(const struct det_counters *c, size_t slot);

/* ---- prefix sums (psums.c) ---------------------------------------------------------------- */

/* The traffic of a group's hosts summed per (sub-)prefix, or over the whole group (p is then the
 * zero prefix, length 0): counts of the current tick and their moving average, like a host's.
 * Because the average is linear, the average of the sum is the sum of the hosts' averages. */
struct det_psum_key {
	ip_prefix p;
	int32_t group;
};

struct det_psum {
	struct det_psum_key key;
	uint64_t attack_id[DET_DIRECTIONS]; /* the open attack on this prefix per direction, 0 = none */
	uint64_t last_ns;   /* the last tick with traffic */
	struct det_rates acc;   /* counts this tick (bytes, not bits) */
	struct det_rates rates;
};

/* A bounded table (lib/ht, reserved for max so it never rehashes): dense entries, in no order. */
struct det_psums {
	struct ht t;
	size_t max;
	uint64_t dropped; /* sums not kept because the table was full */
};

int det_psums_init(struct det_psums *t, size_t max);
void det_psums_fini(struct det_psums *t);
/* The sum of (group, p), created (zeroed) when create is set and there is room; else NULL. */
struct det_psum *det_psums_get(struct det_psums *t, int group, const ip_prefix *p, bool create);
/* Frees entry i; the last entry moves into its place. */
void det_psums_remove(struct det_psums *t, size_t i);
/* The entries: det_psums_count of them, entry i at det_psums_at (walk from the end to remove). */
static inline size_t det_psums_count(const struct det_psums *t)
{
	return ht_count(&t->t);
}
static inline struct det_psum *det_psums_at(const struct det_psums *t, size_t i)
{
	return (struct det_psum *)ht_recs(&t->t) + i;
}

#endif
