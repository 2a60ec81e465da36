/* The detection engine's state, shared by its files (engine.c: lifecycle, thresholds, sums and
 * the tick; hosts.c: the host table and the merge; attacks.c: the attack state machine, manual
 * bans, restore and the queries on attacks). Nothing outside detect/ includes this. */
#ifndef RAMPART_DETECT_ENGINE_INT_H
#define RAMPART_DETECT_ENGINE_INT_H

#include "det_int.h"

#define HISTORY 256
#define NV (DET_DIRECTIONS * DET_CLASSES * DET_METRICS)
#define FLAT(d, c, m) (((d) * DET_CLASSES + (c)) * DET_METRICS + (m))

/* A host's short-window run per direction, one byte each: the consecutive ticks, up to this one,
 * whose own rate was over a limit of that direction (saturating at RUN_MAX, over any
 * confirm_ticks), and RUN_FAST when the short window finds it over this tick. */
#define RUN_FAST 0x80u
#define RUN_MAX 0x7fu

/* A record of the host table (lib/ht, keyed by addr). Its index keeps the hash beside the host
 * number, so a probe past another host's slot costs no read of that host (a million hosts:
 * every read of a header is a cache miss). */
struct host {
	ip_addr addr;
	uint32_t row;       /* this tick's scratch row + 1; 0 = no counts merged this tick */
	int16_t group;
	uint8_t run[DET_DIRECTIONS]; /* the short window, per direction (RUN_*) */
	/* the open attack on this host per direction, 0 = none: an incoming attack and an outgoing
	 * one from the same host are two attacks, each detected, banned and ended on its own */
	uint64_t attack_id[DET_DIRECTIONS];
	uint64_t upd_ns;    /* the tick its rates are as of: its last tick with traffic */
};

static inline bool host_attacked(const struct host *h)
{
	return h->attack_id[DET_IN] || h->attack_id[DET_OUT];
}

enum attack_kind { ATT_HOST, ATT_OTHER, ATT_GROUP, ATT_PREFIX };

struct attack {
	struct det_ban_info info;
	bool banned;  /* false: refused, open until the host calms down */
	uint8_t kind; /* ATT_HOST: target is one host (/32, /128), so its rates are the host's;
			 ATT_GROUP: a prefix of a group over its total; ATT_PREFIX: a (sub-)prefix
			 over its own total; ATT_OTHER: a manual ban of a prefix */
	bool dead;    /* ended during this pass; compacted away */
	struct det_fp_acc *fp; /* host attacks: the fingerprint collected by the workers */
};

/* A group's non-zero limits, listed once so the tick checks only those. */
struct limits {
	size_t n;
	struct {
		uint8_t d, c, m, k; /* k: the tracked metric */
		double limit;
	} l[NV];
	/* quick reject: every class is part of TOTAL, so a host whose total (d, m) rate is under
	 * the smallest (d, m) limit of any class is under all of them */
	size_t nq;
	struct {
		uint8_t k, d;
		float min;
	} q[DET_DIRECTIONS * DET_METRICS];
};

struct det_engine {
	const struct det_config *cfg;
	struct limits *limits; /* per group */
	struct limits *totals; /* per group: its `total` limits */
	size_t (*group_open)[DET_DIRECTIONS]; /* per group and direction: open attacks from its
						 group-scope total */
	struct det_psum **gsum_tick; /* per group: its group-scope sum, found once per tick */
	const struct det_networks *nets;
	struct det_lpm whitelist;
	bool any_totals;

	/* the tracked metrics: k -> flat index into det_rates, and back (-1 = not tracked) */
	size_t nk;
	uint8_t flat_of[NV];
	int8_t k_of[NV];

	/* struct host, reserved for max_hosts so it never rehashes; the arrays below follow its
	 * positions (host number i: det_hosts(e)[i]), and move with a host a removal moves */
	struct ht host_table;
	float *rates;    /* nk per host, beside the hosts */
	float *scratch;  /* nk per host touched this tick: counts merged (bytes, not bits) */
	uint32_t *touched; /* host numbers, by scratch row */
	size_t n_touched;
	size_t max_hosts, sweep;
	uint64_t hosts_overflow[DET_DIRECTIONS]; /* host counts of a tick refused: table full, no
						    host quiet enough to make room */
	uint64_t hosts_evicted;                  /* pushed out for a busier newcomer */
	uint64_t evict_rng;
	uint64_t overflow_logged[DET_DIRECTIONS]; /* overflow at the last log line */
	uint64_t overflow_log_ns;                 /* when that was (capture clock) */

	/* prefix sums: the group's prefixes in a trie (value: index into pfx) to find a host's */
	struct det_psums psums;
	struct det_lpm pfx_lpm;
	ip_prefix *pfx;
	size_t n_pfx;

	struct attack *open;
	size_t n_open, cap_open;
	size_t n_banned;

	struct det_ban_info history[HISTORY]; /* ring of finished attacks */
	struct det_fingerprint hist_fp[HISTORY]; /* and their fingerprints */
	size_t hist_next, hist_count;

	/* the hosts under attack the workers fingerprint: the current set and older ones that some
	 * counters set still holds */
	struct det_watch *watches, *watch_cur;
	bool watch_dirty;

	uint64_t *ban_times; /* ring of the last max_bans_per_minute ban times */
	size_t ban_next, ban_count;

	uint64_t next_attack_id;
	uint64_t last_tick_ns; /* 0 before the first tick */
};

struct trigger {
	enum det_direction dir;
	enum det_class cls;
	enum det_metric metric;
	double value, limit;
};

/* ---- across the engine's files ---------------------------------------------------------- */

/* hosts.c */
extern const struct ht_type det_host_type; /* the host table's records */
/* The hosts as an array by host number, and how many there are. */
static inline struct host *det_hosts(const struct det_engine *e)
{
	return ht_recs(&e->host_table);
}
static inline size_t det_n_hosts(const struct det_engine *e)
{
	return ht_count(&e->host_table);
}
struct host *det_host_find(const struct det_engine *e, const ip_addr *a);
/* How much a rate as of time t has decayed by the last tick: e^(-dt/T). */
double det_decay_since(const struct det_engine *e, uint64_t t);
/* Host number i's rates as of the last tick. */
void det_host_rates(const struct det_engine *e, size_t i, struct det_rates *out);
/* Frees hosts quiet for idle_ns, a slice of the table per call. */
void det_sweep_idle(struct det_engine *e, uint64_t now, uint64_t idle_ns);

/* engine.c */
/* The limit of direction d that r exceeds most (by ratio), if any: an attack opens, goes on and
 * ends in its own direction; *t (when not NULL) says which. */
bool det_over_dir(const struct limits *l, const struct det_rates *r, enum det_direction d, struct trigger *t);
/* h's group's per-host limits, NULL when it has none. */
const struct limits *det_host_limits(const struct det_engine *e, const struct host *h);
/* The sum a's rates come from (group or prefix attacks, manual prefix bans), or NULL. */
struct det_psum *det_attack_sum(const struct det_engine *e, const struct attack *a);

/* attacks.c */
/* Opens the attack on host h in direction t->dir (or ties it to a manual ban of exactly h in
 * that direction). */
void det_detect_host(struct det_engine *e, struct host *h, const struct trigger *t, uint64_t now,
		     det_event_fn fn, void *ctx);
/* Opens an attack on every prefix of group g (over its total). */
void det_detect_group(struct det_engine *e, int g, const struct det_rates *sum, const struct trigger *t,
		      uint64_t now, det_event_fn fn, void *ctx);
/* Opens the attack on the (sub-)prefix of sum s (over its group's total). */
void det_detect_prefix(struct det_engine *e, struct det_psum *s, const struct trigger *t, uint64_t now,
		       det_event_fn fn, void *ctx);
/* Ban expiry, extension, and the end of refused attacks. */
void det_run_attacks(struct det_engine *e, uint64_t now, det_event_fn fn, void *ctx);
/* Drops the attacks that ended from the open list. */
void det_compact(struct det_engine *e);
/* A new watch set when attacks on hosts started or ended. */
void det_publish_watch(struct det_engine *e);
/* c's fingerprints go to their attacks, and c gets the current watch set. */
void det_merge_fingerprints(struct det_engine *e, struct det_counters *c);

#endif
