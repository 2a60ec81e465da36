/* The API: the control socket (rampartctl) and its commands, the HTTP transport (/metrics, JSON
 * under /api/v1/, a live page), the ExaBGP API's named pipe and process, and the read-back of
 * stored flows from ClickHouse. It drives mitigation (mitigation/mit.h) and reads the other
 * modules' state; nothing below it calls back into here.
 *
 * Threads: the main loop, except the read-back's query thread (readback.c). */
#ifndef RAMPART_API_H
#define RAMPART_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/cap.h"
#include "../capture/flows.h"
#include "../capture/source.h"
#include "../conf/conf.h"
#include "../detect/det.h"
#include "../lib/ip.h"
#include "../mitigation/mit.h"
#include "../storage/samples.h"
#include "../storage/st.h"

struct evbuffer;
struct event_base;
struct act_notify;
struct act_webhook;
struct act_localroute;
struct api_exa;
struct api_readback;
struct api_control;
struct api_http;

/* ---- what the API shows of the daemon's own parts ---------------------------------------------
 * The capture sources, the clock and the attack sample files belong to the wiring (rampartd/);
 * the API declares what it reads of them and the wiring fills it in (struct api_daemon). */

/* Exporters shown per listener by `rampartctl exporters` (the decoder remembers more). */
#define API_EXPORTERS_SHOWN 64

/* Capture statistics for the control socket. */
struct api_source_stats {
	const char *name;
	struct cap_src_stats pcap; /* mirror sources (any kind) */
	struct cap_flowtable_stats flows;
	uint64_t flows_dropped; /* flow rows the storage ring refused */
	uint64_t hosts_overflow; /* records the worker's host table had no room for */
	uint64_t hosts_overflow_dir[DET_DIRECTIONS]; /* the same per direction (a record lost both
							ways counts in each) */
	bool finished;          /* replay reached the end of the file */
	/* flow export listeners only */
	bool flow;
	struct cap_flowsrc_stats udp;
	struct cap_exporter_info exporters[API_EXPORTERS_SHOWN];
	size_t n_exporters;     /* exporters known (may exceed API_EXPORTERS_SHOWN) */
};

/* At most this many capture sources (workers) report. */
#define API_MAX_SOURCES 32

struct api_daemon {
	void *ctx;
	uint64_t (*now_ns)(void *ctx); /* the capture clock: the last tick's time */
	uint64_t (*ticks)(void *ctx);  /* ticks run */
	unsigned (*n_sources)(void *ctx);
	void (*source_stats)(void *ctx, unsigned i, struct api_source_stats *out);
	/* attack_id's sample file; false when it has none */
	bool (*samples_info)(void *ctx, uint64_t attack_id, struct st_samples_info *out);
	/* false when detection.attack_pcap is off */
	bool (*samples_stats)(void *ctx, struct st_samples_stats *out);
	/* `reload`: reads the configuration file again and applies it; what it did (or why nothing
	 * changed) goes to out; -1 when the file did not load or a part could not be applied */
	int (*reload)(void *ctx, struct evbuffer *out);
};

/* Everything the API reads and drives. Filled by the wiring; exa and readback are the API's own
 * (api_exa_start, api_readback_new). */
struct api_ctx {
	const struct rampart_conf *conf;
	struct event_base *base;
	struct det_networks *networks;
	struct det_engine *engine;
	struct bgp_speaker *bgp;      /* NULL when no bgp section */
	struct st_writer *storage;
	struct mit *mit;
	struct act_notify *notify;    /* NULL when off, as the two below */
	struct act_webhook *webhook;
	struct act_localroute *localroute;
	bool replay;                  /* --pcap: the clock is the capture's */
	struct api_daemon daemon;
	struct api_control *control;  /* the control socket, for its counters in /metrics */
	struct api_exa *exa;          /* NULL when neither the pipe nor the process is on */
	struct api_readback *readback;
};

/* The daemon's parts through c->daemon; 0 / false where the wiring gave no function. */
uint64_t api_now_ns(const struct api_ctx *c);
uint64_t api_ticks(const struct api_ctx *c);
unsigned api_n_sources(const struct api_ctx *c);
void api_source_stats(const struct api_ctx *c, unsigned i, struct api_source_stats *out);
bool api_samples_info(const struct api_ctx *c, uint64_t attack_id, struct st_samples_info *out);
bool api_samples_stats(const struct api_ctx *c, struct st_samples_stats *out);

/* ---- control socket (control.c, commands.c) ---------------------------------------------- */

struct api_control *api_control_new(struct api_ctx *rp, const char *path, char *err, size_t errlen);
void api_control_free(struct api_control *c);
/* Control socket clients closed by its bounds (api.control_max_clients, 8 MiB of replies not
 * read, 300 s idle) and accept failures, for /metrics and `stats`. */
struct api_control_stats {
	uint64_t closed_max_clients, closed_output, closed_timeout, accept_errors;
	uint32_t clients;
};
void api_control_stats(const struct api_control *c, struct api_control_stats *out);

/* Runs one command line; writes the reply text into out (lines ending in \n) and returns 0 for
 * success or -1 for an error (out then holds the message). The socket adds the "done"/"error"
 * trailer. */
int api_command(struct api_ctx *rp, const char *line, struct evbuffer *out);
/* True unless line is a command known to only read (bans, stats, flowspec list, ...): what the
 * API's token guards. Unknown commands count as changing state. */
bool api_command_changes_state(const char *line);

/* ---- read-back from ClickHouse (readback.c): `flows ID`, `talkers HOST` ------------------- */

/* One query; the reply comes later, on the main loop, through api_rb_done. */
struct api_rb_request {
	bool talkers;            /* else: the flows of attack_id */
	bool json;               /* the reply as a JSON object (HTTP), else text (rampartctl) */
	uint64_t attack_id;
	ip_addr host;
	uint64_t from, to;       /* UNIX seconds; to 0 = now, from unset = to - 1 h */
	bool from_set;
	uint64_t limit;          /* rows per list, 1..1000; 0 = 20 */
};
struct api_rb_job;
/* ok false: out holds the error message. Runs on the main loop. */
typedef void (*api_rb_done)(void *ctx, bool ok, struct evbuffer *out);

/* Always returns an object (NULL only out of memory): without ClickHouse storage it refuses
 * every query with a clear error. */
struct api_readback *api_readback_new(struct api_ctx *rp);
void api_readback_free(struct api_readback *rb);
/* "flows ..." or "talkers ...": a control command answered by api_readback_start. */
bool api_readback_is_command(const char *line);
int api_readback_parse(struct api_readback *rb, const char *line, struct api_rb_request *req, char *err,
		      size_t errlen);
/* NULL with err set when refused (no ClickHouse, busy, unknown attack, bad range). */
struct api_rb_job *api_readback_start(struct api_readback *rb, const struct api_rb_request *req, api_rb_done cb,
				    void *ctx, char *err, size_t errlen);
/* The caller went away: cb will not run. */
void api_readback_cancel(struct api_rb_job *j);

/* ---- HTTP API (http.c): /metrics, JSON under /api/v1/, a live page ---------------------- */

/* Listens on listen (api.http) with the api.* settings of rp->conf; NULL with err when it
 * cannot (address in use, a token file others can read, off loopback without a token). */
struct api_http *api_http_new(struct api_ctx *rp, const char *listen, char *err, size_t errlen);
void api_http_free(struct api_http *h);

/* Requests refused and connections closed by the API's rules (docs/OPERATIONS.md), for /metrics. */
struct api_http_stats {
	uint64_t refused_host;   /* Host not ours (421) */
	uint64_t refused_token;  /* no or wrong bearer token (401) */
	uint64_t refused_type;   /* a command not sent as application/json (415) */
	uint64_t closed_max_clients; /* over api.http_max_clients: closed at once */
	uint64_t closed_timeout; /* request or reply not done within api.http_request_timeout */
	uint64_t closed_output;  /* a reply past the per-connection output cap */
	uint64_t accept_errors;  /* accept() failures (EMFILE, ENFILE, ...): the listener paused */
	uint32_t clients;        /* connections now */
};
void api_http_stats(const struct api_http *h, struct api_http_stats *out);

/* ---- ExaBGP API transports (exapipe.c): named pipe and process; lines run by mit_exabgp_command ---------------------------------------------------------------- */

/* Opens api.exabgp_pipe and starts api.exabgp_process when configured. */
int api_exa_start(struct api_ctx *rp, char *err, size_t errlen);
/* Stops the process (its routes stay in the RIB-out until the speaker closes), closes the pipe. */
void api_exa_stop(struct api_ctx *rp);
struct api_exa_stats {
	uint64_t lines, errors, replies_dropped, process_starts;
	int process_pid; /* 0 when not running */
};
void api_exa_stats(const struct api_ctx *rp, struct api_exa_stats *out);

/* ---- stats (the registry: stats_registry.c) ---------------------------------------------------- */

/* The ban state file's counters alone, from the registry's rows: its lines of `rampartctl
 * stats`, a member ',"ban_state":{...}' of /api/v1/stats, its /metrics families; nothing when m
 * has no state file. */
void api_state_stats_text(const struct mit *m, struct evbuffer *out);
void api_state_stats_json(const struct mit *m, struct evbuffer *out);
void api_state_metrics(const struct mit *m, struct evbuffer *out);

#endif
