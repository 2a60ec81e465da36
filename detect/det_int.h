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

/* Per-worker counters, read by the engine's merge. */
struct det_count {
	uint64_t v[DET_DIRECTIONS][DET_CLASSES][DET_METRICS]; /* packets, bytes, flows */
};

struct det_counters_host {
	ip_addr host;
	uint32_t hash;
	uint32_t slot; /* where the index points at this entry, so clear is O(used) */
	int32_t group;
	struct det_count c;
};

/* The hosts counted since the last clear, densely; *n set to how many. */
const struct det_counters_host *det_counters_entries(const struct det_counters *c, size_t *n);

#endif
