/* The ban state file (banstate.c, banstate_file.c): what rampartd has announced on purpose and must still announce
 * after a restart, so that BGP graceful restart (RFC 4724) finds every ban re-announced before our
 * End-of-RIB instead of flushing it.
 *
 * It holds the active bans (detected and manual: attack id, target, direction, hostgroup, times,
 * trigger, and the blackhole or FlowSpec rule that is out for it), the routes and flow rules the
 * ExaBGP API put in from the control socket and the named pipe, and the operator FlowSpec rules
 * of `rampartctl flowspec add`. Not kept: a configured process's routes (the process is restarted
 * with rampartd and sends them again) and the configuration's rules.
 *
 * Format, version 1: text, one record per line, fields separated by one space, times as wall
 * clock (UNIX seconds, a dot, 9 digits of nanoseconds), written atomically (FILE.tmp, fsync,
 * rename) once changes pause for RD_BS_QUIET_MS, at the latest RD_BS_DELAY_MS after the first
 * unwritten one, and at a clean shutdown:
 *
 *   rampart-banstate 1
 *   ban ID PREFIX in|out GROUP detected|manual SINCE UNTIL TRIGGER VALUE LIMIT MIT [RULE]
 *   route socket|pipe [neighbor IP, ...] announce route PREFIX ATTRIBUTES   (an ExaBGP API line)
 *   flow socket|pipe announce flow route RULE ACTIONS       (an ExaBGP API line)
 *   rule RULE ACTIONS                                       (rampartctl flowspec add)
 *   end COUNT
 *
 * GROUP: the hostgroup's name, bytes other than [A-Za-z0-9._] as %XX; "-" = none. TRIGGER:
 * CLASS_METRIC (udp_pps, total_bps) or "-" for a manual ban. MIT: blackhole, flowspec,
 * flowspec-then-blackhole, or flowspec+blackhole (escalated: both are out); the flowspec ones are
 * followed by the attack's rule (flowspec/fs.h text, no actions). COUNT: the records above it, so
 * a truncated file is told from a complete one. Lines starting with '#' are comments. */
#ifndef RAMPART_BANSTATE_H
#define RAMPART_BANSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../flowspec/fs.h"
#include "daemon.h"

#define RD_BS_HEADER "rampart-banstate"
#define RD_BS_VERSION 1
#define RD_BS_QUIET_MS 100          /* changes still coming are gathered: a burst of 100 000 API
                                       lines is serialised once after it, not while it is sent */
#define RD_BS_DELAY_MS 1000         /* a change is on disk at the latest this long after it
                                       (longer, up to 5 s, when serialising takes more than a
                                       tenth of that) */
#define RD_BS_LINE_MAX 16384
#define RD_BS_FILE_MAX (256u << 20) /* a larger file is refused whole */

enum rd_bs_kind { RD_BS_BAN, RD_BS_ROUTE, RD_BS_FLOW, RD_BS_RULE };
enum rd_bs_mit { RD_BS_BLACKHOLE, RD_BS_FLOWSPEC, RD_BS_ESCALATE, RD_BS_ESCALATED, RD_BS_MITS };
const char *rd_banstate_mit_name(enum rd_bs_mit m); /* "blackhole", "flowspec", ... */

struct rd_bs_ban {
	uint64_t attack_id;
	ip_prefix target;
	enum det_direction direction;
	char group[64]; /* "" = none */
	bool manual;
	uint64_t since_ns, until_ns; /* wall clock */
	enum det_class trigger_class;
	enum det_metric trigger_metric;
	double trigger_value, trigger_limit;
	enum rd_bs_mit mit;
	struct fs_rule rule; /* mit != RD_BS_BLACKHOLE */
};

/* One record. Pointers are into the parser's line and valid during the callback only. */
struct rd_bs_rec {
	enum rd_bs_kind kind;
	size_t line;              /* 1-based, for FILE:LINE in messages */
	struct rd_bs_ban ban;     /* RD_BS_BAN */
	enum rd_route_src src;    /* RD_BS_ROUTE, RD_BS_FLOW: RD_SRC_SOCKET or RD_SRC_PIPE */
	const char *text;         /* RD_BS_ROUTE, RD_BS_FLOW: the ExaBGP line, parsed and valid */
	struct fs_rule rule;      /* RD_BS_RULE */
	struct fs_actions actions;
};

typedef void (*rd_bs_rec_fn)(void *ctx, const struct rd_bs_rec *r);
typedef void (*rd_bs_err_fn)(void *ctx, size_t line, const char *why);

struct rd_bs_result {
	size_t records; /* handed to the callback */
	size_t bad;     /* lines skipped with an error */
	bool complete;  /* the end line was there and its count matched */
};

/* Parses a whole state file from memory: each good record goes to fn, each bad line to efn (its
 * number and why) and is skipped. Returns -1 (efn told why, nothing handed out) when the first
 * line is not a version-1 header: another version or not a state file at all. */
int rd_banstate_parse(const char *buf, size_t len, rd_bs_rec_fn fn, rd_bs_err_fn efn, void *ctx,
		      struct rd_bs_result *res);

/* One record as its line, with '\n', appended to out. */
void rd_banstate_format_ban(struct evbuffer *out, const struct rd_bs_ban *b);
/* neighbors: "" (every peer) or an ExaBGP selector ending in a space ("neighbor 10.0.0.2, neighbor
 * 10.0.0.3 "). */
void rd_banstate_format_route(struct evbuffer *out, enum rd_route_src src, const char *neighbors, const ip_prefix *p,
			      const struct bgp_route_attrs *a);

/* ---- the daemon side ------------------------------------------------------------------------ */

struct rd_banstate;
/* NULL when mitigation.state_file is "" or in a --pcap replay (logged); the file is not read yet. */
struct rd_banstate *rd_banstate_new(struct rampart *rp);
/* Reads the file and puts its bans, routes and rules back; before the BGP speaker starts, so the
 * first UPDATEs after OPEN carry them, before our End-of-RIB. A missing file is a first start. */
void rd_banstate_load(struct rd_banstate *bs);
/* Writes what is current (when the file was loaded) and frees. */
void rd_banstate_free(struct rd_banstate *bs);
/* Something kept here changed: written within RD_BS_DELAY_MS. rp->banstate may be NULL. */
void rd_banstate_changed(struct rampart *rp);
/* An ExaBGP API command that succeeded from src (exapipe.c): tracks flow rules, marks changes. */
struct bgp_exa_cmd;
void rd_banstate_api(struct rampart *rp, enum rd_route_src src, const struct bgp_exa_cmd *c);
/* What the file did: its writes since start, and what the load at start found in it. */
struct rd_banstate_stats {
	uint64_t writes, write_errors;
	uint64_t last_serialise_us; /* the main loop's part of the last write: the snapshot as text */
	uint64_t last_write_us;     /* the last write's time, write to the directory's fsync (on the
				       writer thread; serialisation too when there is none) */
	uint64_t last_write_bytes;  /* its size */
	/* at start, per record: put back (bans, routes, flow routes, rules), a ban that ended while
	 * down, one refused (not monitored, whitelisted, max_bans, a route the API rejects now), a
	 * line skipped as bad */
	uint64_t restored, expired, refused, skipped;
	uint64_t restored_bans;
	bool restart; /* the load read a file of this version: a previous run's (RFC 4724 R bit) */
};
void rd_banstate_stats(const struct rd_banstate *bs, struct rd_banstate_stats *out);
/* Waits until what was handed to the writer thread is on disk or failed (tests, benchmarks). */
void rd_banstate_sync(struct rd_banstate *bs);
/* The counters as views, nothing when bs is NULL (no state file): a line of
 * `rampartctl stats`, a member ',"ban_state":{...}' of /api/v1/stats, the /metrics block. */
void rd_banstate_stats_text(const struct rd_banstate *bs, struct evbuffer *out);
void rd_banstate_stats_json(const struct rd_banstate *bs, struct evbuffer *out);
void rd_banstate_metrics(const struct rd_banstate *bs, struct evbuffer *out);

/* ---- what it reads of the other tables (defined in routes.c and flowmit.c) ------------------ */

/* Every claim of an API source (not detection's) on a prefix: for which peers, with which
 * attributes (a prefix announced differently per peer is several). */
typedef void (*rd_routes_api_fn)(void *ctx, enum rd_route_src src, const ip_prefix *p, bgp_peer_set peers,
				 const struct bgp_route_attrs *a);
void rd_routes_each_api(const struct rd_routes *t, rd_routes_api_fn fn, void *ctx);
/* The rule out for attack_id, and whether it escalates / already did; false when none. */
bool rd_flowmit_attack_rule(const struct rd_flowmit *f, uint64_t attack_id, struct fs_rule *r, bool *escalate,
			    bool *blackholed);
/* ev's attack's rule r goes out again as it was (restart); false when it cannot (cap, speaker). */
bool rd_flowmit_restore(struct rd_flowmit *f, const struct det_event *ev, const struct fs_rule *r, bool escalate,
			bool blackholed);
/* Operator rule i (0 .. max_rules - 1) when used and not from the configuration. */
bool rd_flowmit_operator_rule(const struct rd_flowmit *f, size_t i, struct fs_rule *r, struct fs_actions *a);
size_t rd_flowmit_cap(const struct rd_flowmit *f);

#endif
