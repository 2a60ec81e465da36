/* detect/: monitored networks, per-host counters, rates, thresholds and the attack state machine.
 * It decides; it does not speak BGP or write storage: it emits det_events and the daemon's wiring
 * routes them.
 *
 * Threads: a det_networks is built once and then only read, by every thread. Each capture worker
 * owns a det_counters and adds to it per record, with no locks or atomics. At every tick boundary
 * of the capture clock the worker hands its det_counters to the engine (through a ring, in the
 * wiring), which merges it, and the engine's tick turns the merged counts into rates. */
#ifndef RAMPART_DETECT_DET_H
#define RAMPART_DETECT_DET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/flow_record.h"
#include "../lib/ip.h"

enum det_direction { DET_IN = 0, DET_OUT = 1, DET_DIRECTIONS };
/* Traffic classes counted per host. A packet counts in TOTAL and in each class it belongs to. */
enum det_class { DET_TOTAL = 0, DET_TCP, DET_UDP, DET_ICMP, DET_SYN, DET_FRAG, DET_CLASSES };
enum det_metric { DET_PPS = 0, DET_BPS, DET_FLOWS, DET_METRICS };

const char *det_direction_name(enum det_direction d); /* "incoming", "outgoing" */
const char *det_class_name(enum det_class c);         /* "total", "tcp", "udp", ... */
const char *det_metric_name(enum det_metric m);       /* "pps", "bps", "flows" */

/* Limits per direction x class x metric; 0 = not checked. BPS in bits per second. */
struct det_thresholds {
	uint64_t limit[DET_DIRECTIONS][DET_CLASSES][DET_METRICS];
};

/* Rates in packets, bits and flows per second, already scaled by the sampling rate. */
struct det_rates {
	double v[DET_DIRECTIONS][DET_CLASSES][DET_METRICS];
};

enum det_mitigation {
	DET_MIT_DEFAULT = 0, /* the global mitigation.action */
	DET_MIT_BLACKHOLE,
	DET_MIT_FLOWSPEC,
	DET_MIT_FLOWSPEC_THEN_BLACKHOLE,
};

/* What a hostgroup's `total` limits are checked on. */
enum det_total_scope {
	DET_SCOPE_GROUP = 0, /* the sum over the whole group; over it, every prefix of the group is
				attacked (and banned) */
	DET_SCOPE_PREFIX,    /* the sum over each prefix of the group (or each sub-prefix of
				total_prefix_len_v4/v6); only the prefix over it is attacked */
};

struct det_hostgroup {
	char name[64];
	ip_prefix *prefixes;
	size_t n_prefixes;
	struct det_thresholds thresholds; /* per host */
	/* Whether the configuration set thresholds for the direction (conf/): a direction it leaves
	 * out has the default group's per-host limits, so the hosts of a group made for its `total`
	 * (carpet bombing) are still checked one by one, in both directions. */
	bool thresholds_set[DET_DIRECTIONS];
	struct det_thresholds total;      /* the sum over the group or each prefix (carpet bombing); 0 = off */
	uint32_t ban_time_s;              /* 0 = detection.ban_time */
	enum det_mitigation mitigation;
	enum det_total_scope total_scope;
	/* DET_SCOPE_PREFIX: split each of the group's prefixes shorter than this into sub-prefixes
	 * of this length, summed apart (a /16 customer counted per /24); 0 = the prefixes as
	 * written. A prefix already this long or longer is summed whole. */
	uint8_t total_prefix_len_v4, total_prefix_len_v6;
};

struct det_config {
	ip_prefix *networks; /* monitored */
	size_t n_networks;
	ip_prefix *whitelist; /* never banned */
	size_t n_whitelist;
	/* groups[0] is the default group: its thresholds apply to every monitored host that no other
	 * group's prefix matches more closely. Its prefixes are ignored (it has the networks). */
	struct det_hostgroup *groups;
	size_t n_groups;
	uint32_t tick_ms;      /* rate update interval, default 100 */
	uint32_t average_s;    /* EMA time constant, default 1 */
	/* The short window beside the average: a host is also detected when its rate over each of
	 * the last confirm_ticks ticks is over a limit (default 2; 0 = the average only), or when
	 * one tick's rate is burst_factor times a limit (default 3; 0 = never on one tick). */
	uint32_t confirm_ticks;
	uint32_t burst_factor;
	uint32_t ban_time_s;   /* default 600 */
	bool unban_only_if_attack_finished;
	uint32_t max_bans;     /* active bans at most; further attacks are detected, not banned */
	uint32_t max_bans_per_minute; /* new detected bans in any 60 s of capture clock; 0 = no cap.
					 Manual bans are counted but never refused by it. */
	ip_prefix *own;        /* the operator's own addresses (routers, this box, next hops): never
				  banned, like the whitelist, refused with reason "own address" */
	size_t n_own;
	size_t max_hosts;      /* hosts tracked at once, per worker table and in the engine */
	uint32_t host_idle_s;  /* a host's state is freed after this long without traffic or ban */
};

/* Fills defaults. Allocates nothing: networks, whitelist and groups are NULL/0 and belong to
 * whoever sets them (conf/). With n_groups == 0 hosts are counted and rated but no threshold is
 * checked. max_hosts defaults to 1 << 20: tables reserve address space for that many, memory
 * becomes resident only as hosts appear. */
void det_config_defaults(struct det_config *cfg);

/* ---- monitored networks: longest-prefix match -------------------------------------------- */

struct det_networks;
/* Builds the lookup from cfg->networks (group 0) and each group's prefixes. NULL on ENOMEM. */
struct det_networks *det_networks_new(const struct det_config *cfg);
void det_networks_free(struct det_networks *n);
/* The hostgroup index of the longest matching prefix, or -1 when a is not monitored. */
int det_networks_lookup(const struct det_networks *n, const ip_addr *a);

/* ---- per-worker counters ----------------------------------------------------------------- */

struct det_counters;
struct det_counters *det_counters_new(const struct det_networks *nets, size_t max_hosts);
void det_counters_free(struct det_counters *c);
/* Counts r against its destination (incoming) if monitored and its source (outgoing) if
 * monitored, scaled by r->sampling_rate. `flows` is how many new flows r stands for (1 for an
 * exported flow record; for mirrored packets, 1 when the packet opened a flow, else 0). */
void det_counters_add(struct det_counters *c, const struct flow_record *r, uint32_t flows);
void det_counters_clear(struct det_counters *c);
/* Records not counted because the table was full (since creation): in all, and per direction
 * (a record lost for both its destination and its source counts once in all, once in each). */
uint64_t det_counters_overflow(const struct det_counters *c);
uint64_t det_counters_overflow_dir(const struct det_counters *c, enum det_direction d);
size_t det_counters_hosts(const struct det_counters *c);
/* Reload: the networks c counts against from now on. Only by whoever owns c at the time (the
 * main loop, between a merge and handing c back); the old networks must stay alive until no
 * counters set points at them (det_counters_networks). */
void det_counters_set_networks(struct det_counters *c, const struct det_networks *nets);
const struct det_networks *det_counters_networks(const struct det_counters *c);
/* The attack r belongs to, from the set of hosts under attack the engine last handed c: its
 * destination under an incoming attack, else its source under an outgoing one (*dir says which);
 * 0 when neither. Cheap enough per record (two loads when nothing is under attack), for sample
 * packets. */
uint64_t det_counters_attack_of(const struct det_counters *c, const struct flow_record *r, enum det_direction *dir);

/* ---- spreading an exported record over the ticks it lasted ------------------------------- */

/* An exported flow record says its packets came over end_ns - start_ns; counted all in one tick,
 * an exporter's burst of records (every flow timing out at once) would read as a spike. So a
 * listener deposits the record in shares over the ticks it lasted: at most max_ticks of them
 * (the listener's ring of counter sets) and into at most max_parts deposits, so a long record
 * costs a few counter updates, not one per tick. */
struct det_spread {
	uint64_t ticks; /* ticks the record covers: ceil(duration / tick_ns), at most max_ticks */
	uint64_t parts; /* deposits: min(ticks, max_parts, packets); 0 or 1 = count r whole now */
};
struct det_spread det_spread_plan(const struct flow_record *r, uint64_t tick_ns, uint64_t max_ticks,
				  uint64_t max_parts);
/* Share j (0 <= j < s->parts, s->parts > 1) of r: *part is r with that share's packets and bytes
 * (integer shares that add up to r's exactly over all j); returns the share's tick offset from
 * the current tick, 0 for j == 0, increasing with j and below s->ticks. */
uint64_t det_spread_part(const struct det_spread *s, const struct flow_record *r, uint64_t j,
			 struct flow_record *part);

/* ---- engine: rates, thresholds, state machine -------------------------------------------- */

enum det_event_type {
	DET_EV_ATTACK_DETECTED, /* a threshold was crossed */
	DET_EV_BAN,             /* mitigation starts (detected or manual) */
	DET_EV_BAN_REFUSED,     /* detected, but whitelisted or over max_bans: not mitigated; the
				   attack stays open without further events until the host falls
				   below its thresholds, then ends quietly (no UNBAN) */
	DET_EV_BAN_EXTENDED,    /* ban time passed while the attack goes on */
	DET_EV_UNBAN,           /* mitigation ends (ban time passed, or manual) */
	DET_EV_ESCALATE,        /* the mitigation hardened (flowspec-then-blackhole: the rule did not
				   stop the attack, the host is blackholed too); made by the daemon's
				   mitigation from the ban, never by the engine */
};

const char *det_event_name(enum det_event_type t); /* "attack_detected", "ban", ... */

struct det_event {
	enum det_event_type type;
	uint64_t attack_id; /* the same for every event of one attack; > 0 */
	uint64_t time_ns;   /* capture clock */
	ip_prefix target;   /* the host (/32 or /128) */
	enum det_direction direction;
	int hostgroup; /* index into det_config.groups */
	bool manual;
	/* the threshold that triggered the attack */
	enum det_class trigger_class;
	enum det_metric trigger_metric;
	double trigger_value;
	double trigger_limit;
	struct det_rates rates;  /* the host's rates when the event happened */
	uint32_t ban_seconds;    /* BAN, BAN_EXTENDED: for how long */
	const char *reason;      /* static text: why refused, why unbanned */
	uint64_t parent_attack_id; /* the attack on a prefix covering the target that was open when
				      this attack opened (a host attacked inside a bombed /24); 0 = none */
};

typedef void (*det_event_fn)(void *ctx, const struct det_event *ev);

struct det_ban_info;
/* The event of type `type` at now_ns for the ban b describes (its target, group, trigger, rates);
 * reason static or NULL. */
struct det_event det_event_of_ban(const struct det_ban_info *b, enum det_event_type type, uint64_t now_ns,
				  uint32_t ban_seconds, const char *reason);

struct det_engine;
/* Keeps cfg and nets (both must outlive the engine); the groups' thresholds and totals are read
 * once here. A group over its `total` (the sum of its hosts' rates) opens one attack per prefix
 * of the group (cfg->networks for group 0), each banned or refused like a host's; with
 * total_scope DET_SCOPE_PREFIX each (sub-)prefix has its own sum and only the one over the
 * limit is attacked. Sums are kept only for (sub-)prefixes with traffic, at most
 * DET_MAX_PREFIX_SUMS at once, and freed after host_idle_s quiet.
 *
 * Rates are kept for the metrics some threshold or total checks, plus the total pps, bps and
 * flows and every class's pps in both directions (the fingerprint's class mix, the notify
 * script); the rest read 0 in events and queries. */
#define DET_MAX_PREFIX_SUMS 65536
struct det_engine *det_engine_new(const struct det_config *cfg, const struct det_networks *nets);
void det_engine_free(struct det_engine *e);
/* Adds a worker's counts for the current tick, and its fingerprint records of hosts under attack.
 * It also hands c the engine's current set of hosts under attack (an immutable snapshot, rebuilt
 * when an attack starts or ends): from then on the worker accumulates fingerprints for those
 * hosts only. So c must be given back to the worker after this (it is not const). */
void det_engine_merge(struct det_engine *e, struct det_counters *c);
/* Turns the counts merged since the last tick into rates over the elapsed capture time, updates
 * the moving averages, checks thresholds, runs the state machine (ban expiry included) and frees
 * hosts that went quiet. Emits events in order through fn. now_ns is the capture clock. */
void det_engine_tick(struct det_engine *e, uint64_t now_ns, det_event_fn fn, void *ctx);

/* Reload: cfg and nets replace the configuration and networks the engine was given (cfg may be
 * the same address with new contents; was is a copy of what it held before, still valid). Every
 * host, rate, open attack, ban and the history stay; thresholds, totals, whitelist, own
 * addresses, ban times, caps and the averaging apply from the next tick. A host already over a
 * lowered threshold is detected at its next tick with traffic. Hosts take the group nets gives
 * them: one that left the monitored networks is no longer checked and its ban (if any) ends
 * when its time is up, never extended. A group's or prefix's open attack follows its group by
 * name; the prefix sums start again (one average_s to fill) when the networks or the groups'
 * prefixes changed. max_hosts and tick_ms cannot change (-1). -1 also when memory runs out:
 * the engine is then as it was, and still refers to was's values, so the caller must restore
 * them. Counters merged afterwards that were filled against other networks have their hosts'
 * groups looked up again in nets. */
int det_engine_reconfigure(struct det_engine *e, const struct det_config *cfg, const struct det_config *was,
			   const struct det_networks *nets);

/* Manual ban of a host or prefix for `seconds` (0 = ban_time). Refused (returns -1, *why set)
 * for a whitelisted or unmonitored address, or past max_bans, or one already banned. A prefix
 * that contains a whitelisted prefix counts as whitelisted. A manual ban is never extended: it
 * ends with an UNBAN when its time is up. */
int det_engine_ban(struct det_engine *e, const ip_prefix *target, uint32_t seconds, uint64_t now_ns,
		   det_event_fn fn, void *ctx, const char **why);
/* Manual unban; -1 when there is no such ban. */
int det_engine_unban(struct det_engine *e, const ip_prefix *target, uint64_t now_ns, det_event_fn fn,
		     void *ctx);

struct det_ban_info {
	uint64_t attack_id;
	ip_prefix target;
	enum det_direction direction;
	int hostgroup;
	bool manual;
	uint64_t since_ns;
	uint64_t until_ns;
	enum det_class trigger_class;
	enum det_metric trigger_metric;
	double trigger_value;
	double trigger_limit;
	struct det_rates rates; /* now (for attacks() of a finished attack: at its end) */
	bool active;            /* still banned */
	uint64_t ended_ns;      /* when it was unbanned; 0 while active */
	double peak_value;      /* highest value of the trigger metric seen during the attack */
	int kind;               /* enum det_attack_kind, from the fingerprint so far */
	uint64_t parent_attack_id; /* as in det_event; 0 = none */
};
/* Active bans, oldest first; returns how many there are (may exceed max). */
size_t det_engine_bans(const struct det_engine *e, struct det_ban_info *out, size_t max);
/* Attacks, newest first: the active ones and the last 256 finished (a bounded history). */
size_t det_engine_attacks(const struct det_engine *e, struct det_ban_info *out, size_t max);

struct det_host_info {
	ip_addr host;
	int hostgroup;
	struct det_rates rates;
	bool banned;
};
/* The n busiest hosts by rates.v[dir][DET_TOTAL][metric], busiest first; returns the count. */
size_t det_engine_top(const struct det_engine *e, enum det_direction dir, enum det_metric metric,
		      struct det_host_info *out, size_t n);
size_t det_engine_hosts(const struct det_engine *e);

/* The engine's host table. Full (max_hosts), a new host gets in by pushing out the quietest of a
 * few random hosts that are under no attack, when that one's rate is below the newcomer's counts
 * of this tick; otherwise its counts of the tick are not tracked and counted, per direction it
 * had packets in, in hosts_overflow (and logged at most once a minute). */
struct det_engine_stats {
	size_t hosts, max_hosts;
	uint64_t hosts_evicted;
	uint64_t hosts_overflow[DET_DIRECTIONS];
};
void det_engine_stats(const struct det_engine *e, struct det_engine_stats *out);

/* ---- attack fingerprint ------------------------------------------------------------------ */

enum det_attack_kind {
	DET_KIND_UNKNOWN = 0, /* mixed, or nothing seen yet */
	DET_KIND_SYN_FLOOD,
	DET_KIND_ACK_RST_FLOOD,
	DET_KIND_TCP_FLOOD, /* TCP, neither mostly SYN nor mostly ACK/RST */
	DET_KIND_UDP_FLOOD,
	DET_KIND_ICMP_FLOOD,
	DET_KIND_FRAGMENTS,
	/* amplification: UDP, mostly from one reflector service's source port */
	DET_KIND_AMP_DNS,       /* 53 */
	DET_KIND_AMP_NTP,       /* 123 */
	DET_KIND_AMP_SSDP,      /* 1900 */
	DET_KIND_AMP_MEMCACHED, /* 11211 */
	DET_KIND_AMP_CLDAP,     /* 389 */
	DET_KIND_AMP_SNMP,      /* 161 */
	DET_KIND_AMP_CHARGEN,   /* 19 */
	DET_KIND_AMP_WSD,       /* 3702, WS-Discovery */
	DET_KINDS
};
const char *det_attack_kind_name(enum det_attack_kind k); /* "syn_flood", "ntp_amplification" */

#define DET_FP_TOP 8   /* top entries reported per dimension */
#define DET_FP_SIZES 8 /* packet size buckets */
enum det_fp_proto { DET_FP_TCP = 0, DET_FP_UDP, DET_FP_ICMP, DET_FP_OTHER, DET_FP_PROTOS };
/* Upper bounds (IP bytes) of the packet size buckets; the last bucket is everything larger. */
extern const uint16_t det_fp_size_bounds[DET_FP_SIZES - 1];

/* A top-K entry: packets is an upper bound of what the key sent, packets - error a guaranteed
 * minimum (the summary may have overcounted by up to error, never undercounted). */
struct det_fp_addr {
	ip_addr addr;
	uint64_t packets;
	uint64_t error;
};
struct det_fp_port {
	uint16_t port;
	uint64_t packets;
	uint64_t error;
};

/* What an attack's packets look like: counted from the records of the attacked host (in the
 * attack's direction) from the first tick after detection on, scaled by sampling. The ban never
 * waits for it. Top lists are a bounded space-saving summary (approximate counts, exact for
 * keys that dominate). For a prefix (group total) attack, or before any record arrived, only
 * the class mix is known, from the rates (from_rates). */
struct det_fingerprint {
	uint64_t packets, bytes;
	uint64_t proto[DET_FP_PROTOS];
	uint64_t tcp_flag[8]; /* TCP packets with flag bit i (FIN SYN RST PSH ACK URG ECE CWR) */
	uint64_t syn_only;    /* TCP with SYN and not ACK */
	uint64_t ack_rst;     /* TCP with ACK or RST and not SYN */
	uint64_t fragments;
	uint64_t size[DET_FP_SIZES];
	/* remote ends: sources of an incoming attack, destinations of an outgoing one */
	struct det_fp_addr peers[DET_FP_TOP];
	/* the remote ends' networks, /DET_FP_PREFIX_V4 (IPv4) or /DET_FP_PREFIX_V6 (IPv6): addr is
	 * the network address, with the same bounds as peers */
	struct det_fp_addr peer_prefixes[DET_FP_TOP];
	struct det_fp_port src_ports[DET_FP_TOP], dst_ports[DET_FP_TOP]; /* TCP and UDP only */
	uint8_t n_peers, n_peer_prefixes, n_src_ports, n_dst_ports;
	uint64_t records;        /* flow records (or packets) counted, unscaled */
	/* distinct counts (HyperLogLog estimates): remote ends (1.6 % standard error), their /24s or
	 * /64s, TCP/UDP source and destination ports (3.3 % each: DET_FP_DISTINCT_SE_*) */
	uint64_t distinct_peers;
	uint64_t distinct_peer_prefixes;
	uint64_t distinct_src_ports, distinct_dst_ports;
	bool from_rates;
	enum det_attack_kind kind;
};

/* The prefix length the remote ends are summarised by (peer_prefixes, distinct_peer_prefixes):
 * a /24 is the smallest IPv4 prefix the Internet routes, a /64 one IPv6 subnet. */
#define DET_FP_PREFIX_V4 24
#define DET_FP_PREFIX_V6 64
/* One standard error of the distinct counts, in per mille: 1.04 / sqrt(registers). */
#define DET_FP_DISTINCT_SE_PEERS 16  /* 4096 registers */
#define DET_FP_DISTINCT_SE_SMALL 33  /* 1024 registers: prefixes and ports */

/* A top-list key is shown (rampartctl attack, the API) only when it holds a real share: its
 * guaranteed minimum is at least 1/DET_FP_LIST_SHARE of the attack's packets, over at least
 * DET_FP_HEAVY_RECORDS records. Below that a Space-Saving entry may be all error (its bound is
 * packets/16, more than the share), so showing it would claim what is not known. */
#define DET_FP_LIST_SHARE 20
bool det_fp_listed(const struct det_fingerprint *fp, uint64_t packets, uint64_t error);

/* A share counts as proven heavy when the key's guaranteed minimum (packets - error) is at least
 * half the attack's packets, counted over at least DET_FP_HEAVY_RECORDS records (docs/DETECTION.md
 * "Attack fingerprint": why half, why 32). */
#define DET_FP_HEAVY_RECORDS 32
bool det_fp_proven_heavy(const struct det_fingerprint *fp, uint64_t packets, uint64_t error);
/* The remote end (source of an incoming attack, destination of an outgoing one) that is proven
 * heavy, if any: at most one can be, and a rule may then match it. */
bool det_fp_heavy_peer(const struct det_fingerprint *fp, ip_addr *out);
/* The remote /24 (IPv4) or /64 (IPv6) that is proven heavy, if any (the same bound: a
 * guaranteed half of the attack's packets from inside it); a rule may match it when no single
 * address is heavy. */
bool det_fp_heavy_peer_prefix(const struct det_fingerprint *fp, ip_prefix *out);
/* The prefix a peer_prefixes entry's network address stands for: /24 for IPv4, /64 for IPv6. */
void det_fp_peer_prefix(const ip_addr *network, ip_prefix *out);

/* Sets fp->kind from the counts: fragments when most packets are fragments; UDP mostly from one
 * amplification source port -> that amplification, else UDP flood; ICMP flood; TCP: SYN flood,
 * ACK/RST flood or TCP flood; unknown when no protocol has more than half. */
void det_fingerprint_classify(struct det_fingerprint *fp);
/* The fingerprint of attack id (open or in the history); -1 when unknown. */
int det_engine_fingerprint(const struct det_engine *e, uint64_t attack_id, struct det_fingerprint *out);

/* ---- restart: bans restored from the daemon's ban state file ---------------------------- */

/* Puts back a ban that was active before a restart, as b describes it (attack_id, target,
 * direction, hostgroup, manual, since_ns, until_ns, trigger), without an event: the caller
 * re-announces it. The engine never hands out b->attack_id or a lower id again, whatever the
 * outcome. Returns 0 when restored; 1 when until_ns <= now_ns (expired while down: filed as an
 * ended attack in the history, nothing else); -1 with *why set when it cannot be banned now
 * (no longer monitored, whitelisted or an own address, already banned, past max_bans). A
 * restored detected ban is tied to its host or prefix sum when traffic shows them again, and
 * ends or is extended like any other. */
int det_engine_restore(struct det_engine *e, const struct det_ban_info *b, uint64_t now_ns, const char **why);

#endif
