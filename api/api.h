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

#include "../lib/ip.h"
#include "../mitigation/mit.h"
#include "../rampartd/daemon.h"

struct evbuffer;

/* ---- control socket (control.c, commands.c) ---------------------------------------------- */

struct api_control *api_control_new(struct rampart *rp, const char *path, char *err, size_t errlen);
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
int api_command(struct rampart *rp, const char *line, struct evbuffer *out);
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
struct api_readback *api_readback_new(struct rampart *rp);
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
struct api_http *api_http_new(struct rampart *rp, const char *listen, char *err, size_t errlen);
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
int api_exa_start(struct rampart *rp, char *err, size_t errlen);
/* Stops the process (its routes stay in the RIB-out until the speaker closes), closes the pipe. */
void api_exa_stop(struct rampart *rp);
struct api_exa_stats {
	uint64_t lines, errors, replies_dropped, process_starts;
	int process_pid; /* 0 when not running */
};
void api_exa_stats(const struct rampart *rp, struct api_exa_stats *out);

/* ---- stats (stats.c) -------------------------------------------------------------------------- */

/* The ban state file's counters: a line of `rampartctl stats`, a member ',"ban_state":{...}' of
 * /api/v1/stats, the /metrics block; nothing when m has no state file. */
void api_state_stats_text(const struct mit *m, struct evbuffer *out);
void api_state_stats_json(const struct mit *m, struct evbuffer *out);
void api_state_metrics(const struct mit *m, struct evbuffer *out);

#endif
