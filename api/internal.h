/* api/ internals shared between its files; nothing outside api/ includes this. */
#ifndef RAMPART_API_INTERNAL_H
#define RAMPART_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "../lib/ip.h"
#include "api.h"

struct evbuffer;
struct evhttp;
struct evhttp_request;
struct event;
struct evconnlistener;
struct bufferevent;

#define LIST_MAX 4096

#define TOKEN_MAX 256
/* Per connection: what is read ahead of the request being answered (headers are at most 16 KiB
 * and bodies 4 KiB, so a request always fits), and what may wait to be written (the largest
 * reply, 4096 bans as JSON, is ~2.5 MB). A client that pipelines without reading stops being
 * read at IN_MAX; one whose reply would pass OUT_MAX is closed. */
#define IN_MAX (64u << 10)
#define OUT_MAX (8u << 20)
/* The read-back (readback.c): one query at a time, each ended by READBACK_QUERY_S, at most
 * READBACK_QUEUE_MAX waiting. */
#define READBACK_QUERY_S 10
#define READBACK_QUEUE_MAX 8
/* What a read-back (flows, talkers) may add to a reply's deadline: its own query and every one
 * that may be queued ahead of it, so a reply the read-back still gives is never cut off. */
#define READBACK_S ((READBACK_QUEUE_MAX + 1) * READBACK_QUERY_S)
/* At EMFILE/ENFILE the listener pauses, from PAUSE_MIN_MS doubling to PAUSE_MAX_MS while accept
 * keeps failing, and one line a LOG_INTERVAL_S says how often it failed. */
#define PAUSE_MIN_MS 100
#define PAUSE_MAX_MS 1000
#define LOG_INTERVAL_S 10

enum conn_close { CLOSE_TIMEOUT, CLOSE_MAX_CLIENTS, CLOSE_OUTPUT };

/* One HTTP connection, from accept to close. evhttp owns it; we see it through the bufferevent
 * we give evhttp (a pass-through filter, whose free callback tells us when the connection is
 * gone) and its deadline. */
struct http_conn {
	struct api_http *h;             /* NULL once the server is freed */
	struct bufferevent *bev;       /* the filter evhttp reads and writes */
	struct event *deadline;
	struct event *kick;            /* pushes queued output through the filter */
	struct event *writable;        /* the socket can take more of the output; made when needed */
	enum conn_close why;
	struct http_conn *prev, *next;
};

struct api_http {
	struct api_ctx *rp;
	struct evhttp *http;
	ip_addr listen_addr;           /* as configured; zero for a wildcard (0.0.0.0, ::) */
	uint16_t port;
	bool loopback;                 /* listening on 127.0.0.0/8 or ::1 only */
	char allowed_hosts[512];       /* api.http_hosts, lower case, comma separated */
	char token[TOKEN_MAX];         /* api.token_file's token; "" = none */
	size_t token_len;
	struct api_http_stats st;
	struct http_conn *conns;       /* open connections */
	struct timeval timeout;        /* api.http_request_timeout */
	struct event *accept_resume;   /* always added: resumes the paused listener */
	struct evconnlistener *listener;
	unsigned pause_ms;
	uint64_t accept_failed_unlogged;
	uint64_t accept_logged_ns;
	/* scratch for the lists, so a handler does not put megabytes on the stack */
	struct det_ban_info bans[LIST_MAX];
	struct det_host_info hosts[1000];
};

/* Sends code with body (of MIME type type) and no-store; the reply of every handler. */
void api_http_reply(struct evhttp_request *req, int code, const char *type, struct evbuffer *body);
/* An error reply: {"error": msg} with code. */
void api_http_reply_error(struct evhttp_request *req, int code, const char *msg);
/* GET or HEAD; anything else is answered 405 here (false). */
bool api_http_want_get(struct evhttp_request *req);
/* The JSON lists (http_json.c); arg is the struct api_http. */
void api_http_get_bans(struct evhttp_request *req, void *arg);
void api_http_get_top(struct evhttp_request *req, void *arg);
void api_http_get_peers(struct evhttp_request *req, void *arg);
void api_http_get_stats(struct evhttp_request *req, void *arg);

/* ---- the stats registry (stats_registry.c, stats_render.c) ----------------------------------
 * One table of rows (name, type, help, labels, getter) rendered three ways; docs/API.md. */
struct api_stats_snap;
/* Every module's counters at this moment; http: the HTTP server's (NULL from the control
 * socket, which cannot see them). NULL when out of memory. Main loop only. */
struct api_stats_snap *api_stats_snap_new(struct api_ctx *rp, const struct api_http_stats *http);
void api_stats_snap_free(struct api_stats_snap *s);
/* `rampartctl stats`: a line per section. */
void api_stats_text(const struct api_stats_snap *s, struct evbuffer *out);
/* /api/v1/stats: one JSON object and a newline. */
void api_stats_json(const struct api_stats_snap *s, struct evbuffer *out);
/* /metrics: Prometheus' text exposition format 0.0.4, one # HELP and # TYPE per family. */
void api_stats_prometheus(const struct api_stats_snap *s, struct evbuffer *out);

/* Who gave a state-changing command, for the audit trail (audit.c). */
struct api_audit_who {
	const char *source; /* "socket", "http", "pipe", "process" */
	const char *client; /* HTTP "address:port", else NULL */
	int32_t uid;        /* socket peer's (SO_PEERCRED), -1 when not known */
	int32_t pid;        /* socket peer's or the ExaBGP process's, 0 when not known */
	bool token;         /* HTTP: the request carried the API token */
};
/* Logs the command (line), its result (rc 0: done; the reply's first line) and who gave it, and
 * queues the operator_events row when storage is on; never waits. */
void api_audit(struct api_ctx *rp, const struct api_audit_who *who, const char *line, int rc,
	       struct evbuffer *reply);

/* A fingerprint top-list entry as text: the address, or with prefixes its /24 (/64) network. */
static inline void api_fp_key_text(const struct det_fp_addr *e, bool prefixes, char text[IP_PREFIX_STRLEN])
{
	if (prefixes) {
		ip_prefix net;
		det_fp_peer_prefix(&e->addr, &net);
		ip_prefix_format(&net, text);
	} else {
		ip_format(&e->addr, text);
	}
}

#endif
