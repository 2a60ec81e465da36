/* detect/ internals shared by its files; nothing outside detect/ includes this. */
#ifndef RAMPART_DETECT_DET_INT_H
#define RAMPART_DETECT_DET_INT_H

#include "det.h"

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
	uint32_t hash;
	uint32_t slot; /* where the index points at this entry, so clear is O(used) */
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

/* HyperLogLog distinct count (hll.c): 2^DET_HLL_P registers, 1.6 % standard error. */
#define DET_HLL_P 12
struct det_hll {
	uint8_t reg[1u << DET_HLL_P];
};
/* 64 mixed bits of a 16-byte key (an address), for det_hll_add. */
uint64_t det_key_hash(const uint8_t key[16]);
void det_hll_add(struct det_hll *h, uint64_t hash);
void det_hll_merge(struct det_hll *into, const struct det_hll *from);
/* The estimated number of distinct keys added. */
uint64_t det_hll_estimate(const struct det_hll *h);

/* The counts of a fingerprint while it is collected (per worker, then per attack). */
struct det_fp_acc {
	uint64_t packets, bytes;
	uint64_t proto[DET_FP_PROTOS];
	uint64_t tcp_flag[8];
	uint64_t syn_only, ack_rst, fragments;
	uint64_t size[DET_FP_SIZES];
	uint64_t records; /* flow records or packets seen, unscaled */
	struct det_ss peers, src_ports, dst_ports;
	struct det_hll peer_set; /* distinct remote ends */
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
struct det_psum {
	ip_prefix p;
	int32_t group;
	uint32_t hash;
	uint32_t slot;
	uint64_t attack_id[DET_DIRECTIONS]; /* the open attack on this prefix per direction, 0 = none */
	uint64_t last_ns;   /* the last tick with traffic */
	struct det_rates acc;   /* counts this tick (bytes, not bits) */
	struct det_rates rates;
};

/* A bounded table: a dense array (swap-remove) behind an open-addressing index, like hosts. */
struct det_psums {
	uint32_t *index; /* entry + 1; 0 = empty */
	size_t mask;
	struct det_psum *e;
	size_t n, max;
	uint64_t dropped; /* sums not kept because the table was full */
};

int det_psums_init(struct det_psums *t, size_t max);
void det_psums_fini(struct det_psums *t);
/* The sum of (group, p), created (zeroed) when create is set and there is room; else NULL. */
struct det_psum *det_psums_get(struct det_psums *t, int group, const ip_prefix *p, bool create);
/* Frees entry i; the last entry moves into its place. */
void det_psums_remove(struct det_psums *t, size_t i);

#endif
