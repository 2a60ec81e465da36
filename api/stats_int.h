/* The stats registry's types, shared by its table (stats_registry.c) and its three renderers
 * (stats_render.c); api/ only. */
#ifndef RAMPART_API_STATS_INT_H
#define RAMPART_API_STATS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../actions/act.h"
#include "../mitigation/state.h"
#include "api.h"

#define MAX_PEERS 64

struct stat_source {
	struct api_source_stats s;
	uint64_t kernel_drops; /* a flow listener's socket drops, else the mirror's */
};

struct api_stats_snap {
	uint64_t clock_ns, ticks;
	size_t hosts, bans;
	struct det_engine_stats det;
	unsigned n_src;
	struct stat_source src[API_MAX_SOURCES];
	bool have_storage;
	const char *st_dest;
	struct st_stats st;
	bool st_down; /* writing to ClickHouse and it is down */
	bool have_notify, have_webhook, have_localroute;
	struct act_notify_stats notify;
	struct act_webhook_stats webhook;
	struct act_localroute_stats localroute;
	const char *state_path; /* "" when there is no ban state file */
	struct mit_state_stats bs;
	struct mit_stats mit;
	bool dry_run;
	struct api_exa_stats exa;
	bool have_samples;
	struct st_samples_stats smp;
	bool have_bgp, have_md5;
	size_t n_peers, rib_out;
	struct bgp_peer_status peers[MAX_PEERS];
	struct bgp_md5_counters md5;
	bool have_http, have_control;
	struct api_http_stats http;
	struct api_control_stats control;
};

/* ---- sections: where a row's value lives and for which index it is shown ------------------- */

enum sec {
	S_TOP, S_DETECT,
	S_SRC, S_SRC_TAIL, S_SRC_FINISH, S_LISTENER, S_LISTENER_STATE, S_REFUSED, S_EXPORTER, /* per source */
	S_STORAGE, S_STORAGE_OPS, S_STORAGE_SPOOL, S_STORAGE_INSERTS, S_STORAGE_SPOOL_EVENTS, S_STORAGE_SPOOL_OPS,
	S_STORAGE_LOST, S_STORAGE_RETENTION,
	S_NOTIFY, S_WEBHOOK, S_LOCALROUTE, S_BANSTATE_DISK, S_BANSTATE, S_DECISIONS, S_EXABGP,
	S_SAMPLES, S_BGP, S_PEER, S_MD5, S_HTTP, S_CONTROL,
	S_COUNT
};

enum dim { D_ONE, D_SOURCE, D_REFUSAL, D_EXPORTER, D_PEER };
enum out { OUT_TEXT, OUT_JSON, OUT_PROM };

struct section {
	enum dim dim;
	const char *json;      /* the object the rows go in ("" top level); per source: see render_json */
	const char *text_head; /* the line's start when no row gives it */
	bool (*present)(const struct api_stats_snap *s, enum out o); /* NULL: always */
};

extern const struct section stats_sections[S_COUNT];

/* ---- rows ---------------------------------------------------------------------------------- */

enum kind {
	K_U64, K_U32, K_SIZE, K_INT,
	K_BOOL,  /* JSON true/false, Prometheus 0/1, text: its fragment when true, text_false else */
	K_US,    /* microseconds: JSON as is, Prometheus seconds, text milliseconds */
	K_TIME,  /* nanoseconds since the epoch: text as an ISO time */
	K_STR,   /* JSON and text only */
};
enum { COUNTER, GAUGE };
#define F_IF_SET 1 /* text: a string shown only when not empty */

struct row {
	uint8_t sec, kind, type, flags;
	const char *metric; /* family; NULL: not a Prometheus sample */
	const char *labels; /* this row's own labels, after the section's */
	const char *help;   /* the family's, on the family's first row */
	const char *json;   /* member; NULL: not in JSON; "*": the dimension's name (refusals) */
	const char *text;   /* line fragment, '#' the value; NULL: not in text */
	const char *text_false;
	size_t off; /* the value, in the section's struct (see base()) */
	const char *(*str)(const void *base, char *buf, size_t len);
	uint64_t (*num)(const void *base);
};

extern const struct row stats_rows[];
extern const size_t stats_n_rows;

#endif
