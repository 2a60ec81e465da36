/* The ban state file (state.c, state_file.c): what rampartd has announced on purpose and must still announce
 * after a restart, so that BGP graceful restart (RFC 4724) finds every ban re-announced before our
 * End-of-RIB instead of flushing it.
 *
 * It holds the active bans (detected and manual: attack id, target, direction, hostgroup, times,
 * trigger, and the blackhole or FlowSpec rule that is out for it), the routes and flow rules the
 * ExaBGP API put in from the control socket and the named pipe, and the operator FlowSpec rules
 * of `rampartctl flowspec add`. Not kept: a configured process's routes (the process is restarted
 * with rampartd and sends them again) and the configuration's rules.
 *
 * Format, version 2: text, one record per line, fields separated by one space, times as wall
 * clock (UNIX seconds, a dot, 9 digits of nanoseconds), written atomically at most every
 * MIT_STATE_DELAY_MS after a change and at a clean shutdown. The write goes through FILE.spare, a
 * file that holds twice the state's size of disk (lib/atomic_file.h), so a disk the spool fills
 * still takes it; a write that fails keeps the last good file and is retried every second:
 *
 *   rampart-banstate 2
 *   ban ID PREFIX in|out GROUP detected|manual SINCE UNTIL TRIGGER VALUE LIMIT PARENT MIT [RULE]
 *   route socket|pipe [neighbor IP, ...] announce route PREFIX ATTRIBUTES   (an ExaBGP API line;
 *                                          socket: source operator, pipe: source api)
 *   flow socket|pipe announce flow route RULE ACTIONS       (an ExaBGP API line)
 *   rule RULE ACTIONS                                       (rampartctl flowspec add)
 *   end COUNT
 *
 * GROUP: the hostgroup's name, bytes other than [A-Za-z0-9._] as %XX; "-" = none. TRIGGER:
 * CLASS_METRIC (udp_pps, total_bps) or "-" for a manual ban. MIT: blackhole, flowspec,
 * flowspec-then-blackhole, or flowspec+blackhole (escalated: both are out); the flowspec ones are
 * followed by the attack's rule (flowspec/fs.h text, no actions). COUNT: the records above it, so
 * a truncated file is told from a complete one. Lines starting with '#' are comments. PARENT: the
 * covering attack's id (parent_attack_id), 0 = none; a blackhole inside its restored covering
 * blackhole is covered again, as when it was banned.
 *
 * Version 1 (rampartd before parent_attack_id) is read as well: its ban lines have no PARENT,
 * which reads as 0. What is written is always the current version. */
#ifndef RAMPART_MIT_STATE_H
#define RAMPART_MIT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../flowspec/fs.h"
#include "mit.h"

#define MIT_STATE_HEADER "rampart-banstate"
#define MIT_STATE_VERSION 2
#define MIT_STATE_VERSION_MIN 1 /* the oldest version still read */
#define MIT_STATE_QUIET_MS 100          /* changes still coming are gathered: a burst of 100 000 API
                                           lines is serialised once after it, not while it is sent */
#define MIT_STATE_DELAY_MS 1000         /* a change is on disk at the latest this long after it
                                           (longer, up to 5 s, when serialising takes more than a
                                           tenth of that) */
#define MIT_STATE_LINE_MAX 16384
#define MIT_STATE_FILE_MAX (256u << 20) /* a larger file is refused whole */

enum mit_state_kind { MIT_STATE_BAN, MIT_STATE_ROUTE, MIT_STATE_FLOW, MIT_STATE_RULE };
enum mit_state_mit { MIT_STATE_BLACKHOLE, MIT_STATE_FLOWSPEC, MIT_STATE_ESCALATE, MIT_STATE_ESCALATED, MIT_STATE_MITS };
const char *mit_state_mit_name(enum mit_state_mit m); /* "blackhole", "flowspec", ... */

struct mit_state_ban {
	uint64_t attack_id;
	ip_prefix target;
	enum det_direction direction;
	char group[64]; /* "" = none */
	bool manual;
	uint64_t since_ns, until_ns; /* wall clock */
	enum det_class trigger_class;
	enum det_metric trigger_metric;
	double trigger_value, trigger_limit;
	uint64_t parent_attack_id; /* 0 = none (and in a version 1 file) */
	enum mit_state_mit mit;
	struct fs_rule rule; /* mit != MIT_STATE_BLACKHOLE */
};

/* One record. Pointers are into the parser's line and valid during the callback only. */
struct mit_state_rec {
	enum mit_state_kind kind;
	size_t line;              /* 1-based, for FILE:LINE in messages */
	struct mit_state_ban ban;     /* MIT_STATE_BAN */
	enum mit_route_src src;    /* MIT_STATE_ROUTE, MIT_STATE_FLOW: MIT_SRC_OPERATOR or MIT_SRC_API */
	const char *text;         /* MIT_STATE_ROUTE, MIT_STATE_FLOW: the ExaBGP line, parsed and valid */
	struct fs_rule rule;      /* MIT_STATE_RULE */
	struct fs_actions actions;
};

typedef void (*mit_state_rec_fn)(void *ctx, const struct mit_state_rec *r);
typedef void (*mit_state_err_fn)(void *ctx, size_t line, const char *why);

struct mit_state_result {
	size_t records; /* handed to the callback */
	size_t bad;     /* lines skipped with an error */
	bool complete;  /* the end line was there and its count matched */
};

/* Parses a whole state file from memory: each good record goes to fn, each bad line to efn (its
 * number and why) and is skipped. Returns -1 (efn told why, nothing handed out) when the first
 * line is not a header of a version from MIT_STATE_VERSION_MIN to MIT_STATE_VERSION: another
 * version or not a state file at all. */
int mit_state_parse(const char *buf, size_t len, mit_state_rec_fn fn, mit_state_err_fn efn, void *ctx,
		      struct mit_state_result *res);

/* One record as its line, with '\n', appended to out. */
void mit_state_format_ban(struct evbuffer *out, const struct mit_state_ban *b);
/* The file's word for a source it keeps ("socket": MIT_SRC_OPERATOR, "pipe": MIT_SRC_API). */
const char *mit_state_src_word(enum mit_route_src src);
/* neighbors: "" (every peer) or an ExaBGP selector ending in a space ("neighbor 10.0.0.2, neighbor
 * 10.0.0.3 "). */
void mit_state_format_route(struct evbuffer *out, enum mit_route_src src, const char *neighbors, const ip_prefix *p,
			      const struct bgp_route_attrs *a);

/* ---- the file of a running rampartd ---------------------------------------------------------- */

/* Sets up m's state file; false (logged) when mitigation.state_file is "" or in a --pcap replay,
 * and then every call below does nothing. The file is not read yet. */
bool mit_state_new(struct mit *m);
/* Reads the file and puts its bans, routes and rules back; before the BGP speaker starts, so the
 * first UPDATEs after OPEN carry them, before our End-of-RIB. now_ns is the clock the restored
 * bans are on (a live capture's: the wall clock). A missing file is a first start. */
void mit_state_load(struct mit *m, uint64_t now_ns);
/* Writes what is current (when the file was loaded) and frees; before the speaker goes. */
void mit_state_close(struct mit *m);
/* The file's path, "" when there is none. */
const char *mit_state_path(const struct mit *m);
/* What the file did: its writes since start, and what the load at start found in it. */
struct mit_state_stats {
	uint64_t writes, write_errors;
	uint64_t no_space;          /* write_errors for lack of space (ENOSPC, EDQUOT) */
	uint64_t spare_failures;    /* writes after which the next one's space could not be kept */
	bool disk_full;             /* now: a write refused, or no room for the spare; cleared by a
				       write with its spare */
	uint64_t disk_full_events;  /* times that began */
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
/* All zero when there is no state file. */
void mit_state_stats(const struct mit *m, struct mit_state_stats *out);
/* Waits until what was handed to the writer thread is on disk or failed (tests, benchmarks). */
void mit_state_sync(struct mit *m);

#endif
