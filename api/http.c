/* The HTTP API on api.http (loopback by default): Prometheus /metrics, a JSON API under /api/v1/
 * and a live page at /. Served by libevent's evhttp on the main loop, so every handler reads the
 * engine, the speaker and the statistics without locks, like the control socket does.
 *
 *   GET  /metrics                 Prometheus text format
 *   GET  /api/v1/bans             active bans, oldest first
 *   GET  /api/v1/attacks          active and recent attacks, newest first
 *   GET  /api/v1/top?direction=incoming|outgoing&metric=pps|bps|flows&n=N
 *   GET  /api/v1/peers            BGP sessions
 *   GET  /api/v1/stats            capture, storage and decision counters
 *   POST /api/v1/command          Content-Type: application/json, {"command": "LINE"} with one
 *                                 control command line (as rampartctl sends); 200 with the
 *                                 reply, or 400 with the error
 *
 * Who may ask (docs/OPERATIONS.md, "The API's security model"): a page in the operator's browser
 * must not be able to drive the daemon. A browser sends a cross-site form or text/plain POST
 * without asking, but an application/json POST only after a CORS preflight (OPTIONS), which is
 * not served; so a command is taken only as application/json, and refused (415) before it is
 * parsed otherwise. DNS rebinding (a hostile name resolving to 127.0.0.1) is caught by the Host
 * header: only the address the client connected to, localhost on loopback and api.http_hosts are
 * answered. Off loopback every request, and with a token every command that changes state, needs
 * the bearer token of api.token_file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "../mitigation/state.h"
#include "api.h"

#define LIST_MAX 4096

#define TOKEN_MAX 256
/* Per connection: what is read ahead of the request being answered (headers are at most 16 KiB
 * and bodies 4 KiB, so a request always fits), and what may wait to be written (the largest
 * reply, 4096 bans as JSON, is ~2.5 MB). A client that pipelines without reading stops being
 * read at IN_MAX; one whose reply would pass OUT_MAX is closed. */
#define IN_MAX (64u << 10)
#define OUT_MAX (8u << 20)
/* What a read-back (flows, talkers) may add to a reply's deadline: its own query limit. */
#define READBACK_S 10
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
	struct rampart *rp;
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

/* ---- JSON output --------------------------------------------------------------------------- */

static void json_cstr(struct evbuffer *b, const char *s)
{
	json_str(b, s, strlen(s));
}

/* JSON has no NaN or infinity; rates are finite, but a division by a zero interval must not
 * produce invalid output. */
static void json_num(struct evbuffer *b, double v)
{
	if (v != v || v > 1e300 || v < -1e300)
		v = 0;
	evbuffer_add_printf(b, "%.3f", v);
}

static void json_rates(struct evbuffer *b, const struct det_rates *r, enum det_direction d)
{
	evbuffer_add_printf(b, "{\"pps\":");
	json_num(b, r->v[d][DET_TOTAL][DET_PPS]);
	evbuffer_add_printf(b, ",\"bps\":");
	json_num(b, r->v[d][DET_TOTAL][DET_BPS]);
	evbuffer_add_printf(b, ",\"flows\":");
	json_num(b, r->v[d][DET_TOTAL][DET_FLOWS]);
	evbuffer_add(b, "}", 1);
}

static const char *group_name(const struct rampart *rp, int g)
{
	return g >= 0 && (size_t)g < rp->conf.detect.n_groups ? rp->conf.detect.groups[g].name : "";
}

static void json_ban(struct evbuffer *b, const struct rampart *rp, const struct det_ban_info *x)
{
	char pfx[IP_PREFIX_STRLEN];
	evbuffer_add_printf(b, "{\"attack_id\":%" PRIu64 ",\"target\":", x->attack_id);
	json_cstr(b, ip_prefix_format(&x->target, pfx));
	evbuffer_add_printf(b, ",\"direction\":\"%s\",\"kind\":\"%s\",\"hostgroup\":", det_direction_name(x->direction),
			    det_attack_kind_name((enum det_attack_kind)x->kind));
	json_cstr(b, group_name(rp, x->hostgroup));
	evbuffer_add_printf(b,
			    ",\"manual\":%s,\"active\":%s,\"since_ns\":%" PRIu64 ",\"until_ns\":%" PRIu64
			    ",\"ended_ns\":%" PRIu64 ",\"trigger\":{\"class\":\"%s\",\"metric\":\"%s\",\"value\":",
			    x->manual ? "true" : "false", x->active ? "true" : "false", x->since_ns, x->until_ns,
			    x->ended_ns, det_class_name(x->trigger_class), det_metric_name(x->trigger_metric));
	json_num(b, x->trigger_value);
	evbuffer_add_printf(b, ",\"limit\":");
	json_num(b, x->trigger_limit);
	evbuffer_add_printf(b, ",\"peak\":");
	json_num(b, x->peak_value);
	evbuffer_add_printf(b, "},\"rates\":");
	json_rates(b, &x->rates, x->direction);
	struct rd_samples_info pi; /* sample packets (detection.attack_pcap); null when none */
	if (rd_samples_info(rp->samples, x->attack_id, &pi)) {
		evbuffer_add_printf(b, ",\"pcap\":{\"path\":");
		json_cstr(b, pi.path);
		evbuffer_add_printf(b, ",\"packets\":%" PRIu64 ",\"open\":%s}", pi.packets, pi.open ? "true" : "false");
	} else {
		evbuffer_add_printf(b, ",\"pcap\":null");
	}
	evbuffer_add(b, "}", 1);
}

/* ---- responses ----------------------------------------------------------------------------- */

static void reply(struct evhttp_request *req, int code, const char *type, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	static const char *const reasons[] = {[200] = "OK", [400] = "Bad Request", [401] = "Unauthorized",
					      [403] = "Forbidden", [404] = "Not Found",
					      [405] = "Method Not Allowed", [415] = "Unsupported Media Type",
					      [421] = "Misdirected Request", [502] = "Bad Gateway",
					      [503] = "Service Unavailable"};
	evhttp_send_reply(req, code, code < 504 && reasons[code] ? reasons[code] : "Error", body);
}

static void reply_error(struct evhttp_request *req, int code, const char *msg)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"error\":");
	json_cstr(b, msg);
	evbuffer_add_printf(b, "}\n");
	reply(req, code, "application/json", b);
	evbuffer_free(b);
}

static bool want_get(struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET || evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		return true;
	reply_error(req, 405, "this resource takes GET");
	return false;
}


/* ---- who may ask --------------------------------------------------------------------------- */

/* Compares in time that depends on the lengths only, so the token cannot be guessed byte by
 * byte from the answer's timing. */
static bool same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;
	for (size_t i = 0; i < alen; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i < blen ? i : 0];
	return blen && d == 0;
}

static bool has_token(const struct api_http *h, struct evhttp_request *req)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!h->token_len || !v || strncasecmp(v, "Bearer ", 7))
		return false;
	v += 7;
	while (*v == ' ')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return same_secret(v, n, h->token, h->token_len);
}

static bool is_loopback(const ip_addr *a)
{
	static const uint8_t v6[16] = {[15] = 1};
	return ip_is_v4(a) ? (ip_v4_u32(a) >> 24) == 127 : !memcmp(a->b, v6, 16);
}

/* The local address of the request's connection: what a client that did not go through a name
 * connected to. */
static bool local_addr(struct evhttp_request *req, ip_addr *out)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	int fd = evcon ? bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)) : -1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return false;
	char a[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof a);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof a);
	else
		return false;
	return ip_parse(a, out);
}

/* Host: NAME, NAME:PORT, [V6] or [V6]:PORT. Answered for the address the client connected to
 * (and the configured one), for localhost when that address is loopback, and for api.http_hosts;
 * the port, when given, must be ours. */
static bool host_allowed(const struct api_http *h, struct evhttp_request *req, const char *host)
{
	char name[256];
	const char *port = NULL;
	size_t n;
	if (host[0] == '[') {
		const char *e = strchr(host, ']');
		if (!e || (e[1] && e[1] != ':'))
			return false;
		n = (size_t)(e - host - 1);
		if (n >= sizeof name)
			return false;
		memcpy(name, host + 1, n);
		port = e[1] ? e + 2 : NULL;
	} else {
		const char *c = strchr(host, ':');
		n = c ? (size_t)(c - host) : strlen(host);
		if (n >= sizeof name || (c && strchr(c + 1, ':')))
			return false;
		memcpy(name, host, n);
		port = c ? c + 1 : NULL;
	}
	name[n] = '\0';
	if (port) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);
		if (!*port || *end || p != h->port)
			return false;
	}
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (n && name[n - 1] == '.')
		name[--n] = '\0';
	if (!n)
		return false;
	ip_addr a, local;
	bool have_local = local_addr(req, &local);
	if (ip_parse(name, &a)) {
		if ((!ip_is_zero(&h->listen_addr) && ip_equal(&a, &h->listen_addr)) ||
		    (have_local && ip_equal(&a, &local)) || (have_local && is_loopback(&local) && is_loopback(&a)))
			return true;
	} else if (!strcmp(name, "localhost") && have_local && is_loopback(&local)) {
		return true;
	}
	/* api.http_hosts, compared as written (lower case) */
	for (const char *p = h->allowed_hosts; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !memcmp(p, name, n))
			return true;
		p += len;
		p += *p == ',';
	}
	return false;
}

/* Everything a request must pass before any handler sees it; false when it was answered. */
static bool admit(struct api_http *h, struct evhttp_request *req)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	const char *uri_host = evhttp_uri_get_host(evhttp_request_get_evhttp_uri(req));
	if (!host || !host_allowed(h, req, host) || (uri_host && !host_allowed(h, req, uri_host))) {
		h->st.refused_host++;
		reply_error(req, 421, "this server answers only to its own address (Host header; api.http_hosts)");
		return false;
	}
	if (!h->loopback && !has_token(h, req)) {
		h->st.refused_token++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"rampart\"");
		reply_error(req, 401, "a bearer token (api.token_file) is needed");
		return false;
	}
	return true;
}

/* The command of a POST /api/v1/command, or NULL when it was answered with the refusal. */
static bool command_body(struct api_http *h, struct evhttp_request *req, char *line, size_t linelen)
{
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	size_t tl = type ? strcspn(type, ";") : 0;
	while (tl && (type[tl - 1] == ' ' || type[tl - 1] == '\t'))
		tl--;
	if (!type || tl != 16 || strncasecmp(type, "application/json", 16)) {
		h->st.refused_type++;
		reply_error(req, 415, "commands are taken only as Content-Type: application/json, "
				      "{\"command\": \"LINE\"}");
		return false;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
	const char *why = NULL;
	if (json_object_string(body ? body : "", body ? len : 0, "command", line, linelen, &why) != 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "the body must be a JSON object {\"command\": \"LINE\"}: %s", why);
		reply_error(req, 400, msg);
		return false;
	}
	return true;
}

/* ---- handlers ------------------------------------------------------------------------------ */

static void on_bans(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!want_get(req))
		return;
	bool history = !strcmp(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), "/api/v1/attacks");
	size_t n = history ? det_engine_attacks(h->rp->engine, h->bans, LIST_MAX)
			   : det_engine_bans(h->rp->engine, h->bans, LIST_MAX);
	size_t shown = n < LIST_MAX ? n : LIST_MAX;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"count\":%zu,\"%s\":[", n, history ? "attacks" : "bans");
	for (size_t i = 0; i < shown; i++) {
		if (i)
			evbuffer_add(b, ",", 1);
		json_ban(b, h->rp, &h->bans[i]);
	}
	evbuffer_add_printf(b, "]}\n");
	reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

static void on_top(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!want_get(req))
		return;
	enum det_direction dir = DET_IN;
	enum det_metric metric = DET_PPS;
	unsigned long n = 10;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (evhttp_parse_query_str(query ? query : "", &q) != 0) {
		reply_error(req, 400, "bad query string");
		return;
	}
	const char *v, *bad = NULL;
	if ((v = evhttp_find_header(&q, "direction"))) {
		if (!strcmp(v, "incoming") || !strcmp(v, "in"))
			dir = DET_IN;
		else if (!strcmp(v, "outgoing") || !strcmp(v, "out"))
			dir = DET_OUT;
		else
			bad = "direction must be incoming or outgoing";
	}
	if ((v = evhttp_find_header(&q, "metric"))) {
		if (!strcmp(v, "pps"))
			metric = DET_PPS;
		else if (!strcmp(v, "bps"))
			metric = DET_BPS;
		else if (!strcmp(v, "flows"))
			metric = DET_FLOWS;
		else
			bad = "metric must be pps, bps or flows";
	}
	if ((v = evhttp_find_header(&q, "n"))) {
		char *end;
		n = strtoul(v, &end, 10);
		if (*v == '\0' || *end || n == 0 || n > 1000)
			bad = "n must be 1..1000";
	}
	evhttp_clear_headers(&q);
	if (bad) {
		reply_error(req, 400, bad);
		return;
	}
	size_t got = det_engine_top(h->rp->engine, dir, metric, h->hosts, n);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"direction\":\"%s\",\"metric\":\"%s\",\"hosts_tracked\":%zu,\"top\":[",
			    det_direction_name(dir), det_metric_name(metric), det_engine_hosts(h->rp->engine));
	for (size_t i = 0; i < got; i++) {
		char a[IP_STRLEN];
		evbuffer_add_printf(b, "%s{\"host\":", i ? "," : "");
		json_cstr(b, ip_format(&h->hosts[i].host, a));
		evbuffer_add_printf(b, ",\"hostgroup\":");
		json_cstr(b, group_name(h->rp, h->hosts[i].hostgroup));
		evbuffer_add_printf(b, ",\"banned\":%s,\"rates\":", h->hosts[i].banned ? "true" : "false");
		json_rates(b, &h->hosts[i].rates, dir);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add_printf(b, "]}\n");
	reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

static void on_peers(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!want_get(req))
		return;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"bgp\":%s,\"peers\":[", h->rp->bgp ? "true" : "false");
	if (h->rp->bgp) {
		struct bgp_peer_status st[64];
		size_t n = bgp_speaker_peers(h->rp->bgp, st, 64);
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "%s{\"address\":", i ? "," : "");
			json_cstr(b, ip_format(&st[i].address, a));
			evbuffer_add_printf(b, ",\"remote_as\":%" PRIu32 ",\"state\":", st[i].remote_as);
			json_cstr(b, st[i].state);
			evbuffer_add_printf(b,
					    ",\"hold_time\":%u,\"updates_sent\":%" PRIu64 ",\"updates_received\":%" PRIu64
					    ",\"prefixes_sent\":%" PRIu64 ",\"established_count\":%" PRIu64
					    ",\"treat_as_withdraw\":%" PRIu64 ",\"attrs_discarded\":%" PRIu64
					    ",\"last_error\":",
					    st[i].hold_time, st[i].updates_sent, st[i].updates_received, st[i].prefixes_sent,
					    st[i].established_count, st[i].taw_received, st[i].attrs_discarded);
			json_cstr(b, st[i].last_error);
			evbuffer_add(b, "}", 1);
		}
		evbuffer_add_printf(b, "],\"rib_out\":%zu}\n", bgp_rib_out_count(h->rp->bgp));
	} else {
		evbuffer_add_printf(b, "],\"rib_out\":0}\n");
	}
	reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

/* A flow listener's counters, as /metrics and `rampartctl exporters` have them (docs/FLOWS.md). */
static void listener_json(struct evbuffer *b, const struct rd_worker_stats *s)
{
	static const char *protos[] = {"mirror", "sflow", "netflow5", "netflow9", "ipfix"};
	const struct rd_flowsrc_stats *u = &s->udp;
	evbuffer_add_printf(b,
			    ",\"listener\":{\"datagrams\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"kernel_drops\":%" PRIu64
			    ",\"oversize\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"rcvbuf\":%" PRIu32
			    ",\"truncated\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"wrong_version\":%" PRIu64
			    ",\"exporters_known\":%zu,\"exporters_refused\":%" PRIu64 ",\"exporters_evicted\":%" PRIu64
			    ",\"templates_reclaimed\":%" PRIu64 ",\"template_bytes\":%" PRIu64 ",\"refused\":{",
			    u->datagrams, u->bytes, u->kernel_drops, u->oversize, u->errors, u->rcvbuf,
			    u->decode.result[CAP_FLOW_TRUNCATED], u->decode.result[CAP_FLOW_MALFORMED],
			    u->decode.result[CAP_FLOW_VERSION], s->n_exporters, u->decode.result[CAP_FLOW_TABLE_FULL],
			    u->decode.evicted, u->decode.templates_reclaimed, u->decode.template_bytes);
	for (int r = 0; r < CAP_REFUSE_COUNT; r++)
		evbuffer_add_printf(b, "%s\"%s\":%" PRIu64, r ? "," : "", cap_flow_refusal_name((enum cap_flow_refusal)r),
				    u->decode.refused[r]);
	evbuffer_add_printf(b, "},\"exporters\":[");
	size_t n = s->n_exporters < RD_EXPORTERS_SHOWN ? s->n_exporters : RD_EXPORTERS_SHOWN;
	for (size_t j = 0; j < n; j++) {
		const struct cap_exporter_info *e = &s->exporters[j];
		char a[IP_STRLEN], ag[IP_STRLEN] = "";
		ip_format(&e->addr, a);
		if (!ip_is_zero(&e->agent))
			ip_format(&e->agent, ag);
		evbuffer_add_printf(b,
				    "%s{\"exporter\":\"%s\",\"agent\":\"%s\",\"protocol\":\"%s\",\"domain\":%" PRIu32
				    ",\"sampling_rate\":%" PRIu32 ",\"templates\":%" PRIu32 ",\"last_seen_ns\":%" PRIu64
				    ",\"datagrams\":%" PRIu64 ",\"records\":%" PRIu64 ",\"malformed\":%" PRIu64
				    ",\"template_misses\":%" PRIu64 ",\"templates_refused\":%" PRIu64
				    ",\"sequence_gaps\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"counter_samples\":%" PRIu64 "}",
				    j ? "," : "", a, ag, e->source < 5 ? protos[e->source] : "?", e->domain,
				    e->sampling_rate, e->templates, e->last_seen_ns, e->datagrams, e->records, e->malformed,
				    e->template_misses, e->templates_refused, e->sequence_gaps, e->skipped,
				    e->counter_samples);
	}
	evbuffer_add_printf(b, "]}");
}

static void on_stats(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	struct rampart *rp = h->rp;
	if (!want_get(req))
		return;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"clock_ns\":%" PRIu64 ",\"ticks\":%" PRIu64 ",\"hosts\":%zu,\"capture\":[",
			    rd_now_ns(rp), rp->ticks, det_engine_hosts(rp->engine));
	for (unsigned i = 0; i < rp->n_workers; i++) {
		struct rd_worker_stats s;
		rd_worker_stats(rp->workers[i], &s);
		evbuffer_add_printf(b, "%s{\"source\":", i ? "," : "");
		json_cstr(b, s.name);
		evbuffer_add_printf(b,
				    ",\"frames\":%" PRIu64 ",\"decoded\":%" PRIu64 ",\"truncated\":%" PRIu64
				    ",\"malformed\":%" PRIu64 ",\"not_ip\":%" PRIu64 ",\"kernel_drops\":%" PRIu64
				    ",\"ring_drops\":%" PRIu64 ",\"if_drops\":%" PRIu64 ",\"bad_blocks\":%" PRIu64
				    ",\"sampled_out\":%" PRIu64
				    ",\"flows_active\":%" PRIu64 ",\"flows_exported\":%" PRIu64
				    ",\"flows_dropped\":%" PRIu64 ",\"hosts_overflow\":%" PRIu64 ",\"finished\":%s",
				    s.pcap.frames, s.pcap.decode[CAP_DECODE_OK], s.pcap.decode[CAP_DECODE_TRUNCATED],
				    s.pcap.decode[CAP_DECODE_MALFORMED], s.pcap.decode[CAP_DECODE_NOT_IP],
				    s.flow ? s.udp.kernel_drops : s.pcap.kernel_drops, s.pcap.ring_drops, s.pcap.if_drops,
				    s.pcap.bad_blocks, s.pcap.sampled_out, s.flows.active, s.flows.exported,
				    s.flows_dropped, s.hosts_overflow, s.finished ? "true" : "false");
		if (s.flow)
			listener_json(b, &s);
		evbuffer_add_printf(b, "}");
	}
	evbuffer_add_printf(b, "]");
	if (rp->storage) {
		struct st_stats s;
		st_writer_stats(rp->storage, &s);
		evbuffer_add_printf(b, ",\"storage\":{\"destination\":");
		json_cstr(b, st_writer_destination(rp->storage));
		evbuffer_add_printf(b,
				    ",\"flows_queued\":%" PRIu64 ",\"flows_written\":%" PRIu64
				    ",\"flows_dropped\":%" PRIu64 ",\"events_queued\":%" PRIu64
				    ",\"events_written\":%" PRIu64 ",\"events_dropped\":%" PRIu64
				    ",\"batches_failed\":%" PRIu64 ",\"insert_bytes\":%" PRIu64
				    ",\"insert_wire_bytes\":%" PRIu64 ",\"last_error\":",
				    s.flows_queued, s.flows_written, s.flows_dropped, s.events_queued, s.events_written,
				    s.events_dropped, s.batches_failed, s.insert_bytes, s.insert_wire_bytes);
		json_cstr(b, s.last_error);
		evbuffer_add(b, "}", 1);
	}
	api_state_stats_json(rp->mit, b);
	struct mit_stats ms;
	mit_stats(rp->mit, &ms);
	evbuffer_add_printf(b,
			    ",\"decisions\":{\"announced\":%" PRIu64 ",\"withdrawn\":%" PRIu64 ",\"events\":%" PRIu64
			    ",\"dry_run\":%s}}\n",
			    ms.announced, ms.withdrawn, ms.events, rp->conf.mitigation.dry_run ? "true" : "false");
	reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

static void rb_conn_closed(struct evhttp_connection *conn, void *arg);

/* A read-back command's text reply, as rampartctl gets it; ClickHouse's failure is a 502. */
static void rb_cmd_done(void *ctx, bool ok, struct evbuffer *out)
{
	struct evhttp_request *req = ctx;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	reply(req, ok ? 200 : 502, "text/plain; charset=utf-8", out);
}

static void on_command(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "this resource takes POST with {\"command\": \"LINE\"} as application/json");
		return;
	}
	char line[1024];
	if (!command_body(h, req, line, sizeof line))
		return;
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (strpbrk(line, "\r\n")) {
		reply_error(req, 400, "one command per request");
		return;
	}
	bool token = has_token(h, req);
	if (h->token_len && !token && api_command_changes_state(line)) {
		h->st.refused_token++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"rampart\"");
		reply_error(req, 401, "this command changes state: it needs the bearer token (api.token_file)");
		return;
	}
	struct evbuffer *out = evbuffer_new();
	if (api_readback_is_command(line)) { /* flows / talkers: answered when ClickHouse is */
		struct api_rb_request rq;
		char err[256];
		struct api_rb_job *job;
		int code = 400;
		if (api_readback_parse(h->rp->readback, line, &rq, err, sizeof err) == 0) {
			if ((job = api_readback_start(h->rp->readback, &rq, rb_cmd_done, req, err, sizeof err))) {
				evhttp_connection_set_closecb(evhttp_request_get_connection(req), rb_conn_closed, job);
				evbuffer_free(out);
				return;
			}
			code = !strncmp(err, "no attack", 9) ? 404 : 503;
		}
		evbuffer_add_printf(out, "%s\n", err);
		reply(req, code, "text/plain; charset=utf-8", out);
		evbuffer_free(out);
		return;
	}
	int rc = api_command(h->rp, line, out);
	if (api_command_changes_state(line)) { /* the audit trail: who, what, the result */
		char *peer = NULL;
		ev_uint16_t pport = 0;
		evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &pport);
		size_t n = evbuffer_get_length(out);
		char res[160];
		evbuffer_copyout(out, res, n < sizeof res ? n : sizeof res - 1);
		res[n < sizeof res ? n : sizeof res - 1] = '\0';
		res[strcspn(res, "\n")] = '\0';
		log_info("audit: http client %s:%u token %s: \"%s\": %s: %s", peer ? peer : "?", pport,
			 token ? "yes" : "no", line, rc == 0 ? "ok" : "refused", res);
	}
	reply(req, rc == 0 ? 200 : 400, "text/plain; charset=utf-8", out);
	evbuffer_free(out);
}

/* ---- /metrics ------------------------------------------------------------------------------ */

static void metric_head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the exposition format wants it: backslash, quote and newline escaped. The
 * source names carry file paths, which may contain any of them. */
static const char *label(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"')
			buf[o++] = '\\';
		if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
			continue;
		}
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static const char *const decode_result_label[CAP_DECODE_RESULT_COUNT] = {
	[CAP_DECODE_OK] = "ok",
	[CAP_DECODE_TRUNCATED] = "truncated",
	[CAP_DECODE_MALFORMED] = "malformed",
	[CAP_DECODE_NOT_IP] = "not_ip",
};

/* What the API refused and closed (docs/OPERATIONS.md, "The API's security model"). */
static void api_metrics(const struct api_http *h, struct evbuffer *b)
{
	metric_head(b, "rampart_api_requests_refused_total", "counter",
		    "HTTP requests refused: host = Host not this server's (421), token = bearer token missing or "
		    "wrong (401), content_type = a command not sent as application/json (415).");
	evbuffer_add_printf(b, "rampart_api_requests_refused_total{reason=\"host\"} %" PRIu64 "\n", h->st.refused_host);
	evbuffer_add_printf(b, "rampart_api_requests_refused_total{reason=\"token\"} %" PRIu64 "\n", h->st.refused_token);
	evbuffer_add_printf(b, "rampart_api_requests_refused_total{reason=\"content_type\"} %" PRIu64 "\n",
			    h->st.refused_type);
	metric_head(b, "rampart_api_connections_closed_total", "counter",
		    "HTTP connections closed by a bound: max_clients = over api.http_max_clients, timeout = request "
		    "or reply not done by api.http_request_timeout, output = reply past the output cap.");
	evbuffer_add_printf(b, "rampart_api_connections_closed_total{reason=\"max_clients\"} %" PRIu64 "\n",
			    h->st.closed_max_clients);
	evbuffer_add_printf(b, "rampart_api_connections_closed_total{reason=\"timeout\"} %" PRIu64 "\n",
			    h->st.closed_timeout);
	evbuffer_add_printf(b, "rampart_api_connections_closed_total{reason=\"output\"} %" PRIu64 "\n",
			    h->st.closed_output);
	metric_head(b, "rampart_api_connections", "gauge", "HTTP connections open now.");
	evbuffer_add_printf(b, "rampart_api_connections %u\n", h->st.clients);
	metric_head(b, "rampart_api_accept_errors_total", "counter",
		    "accept() failures on the HTTP listener (EMFILE, ENFILE, ...); each pauses it 100 ms..1 s.");
	evbuffer_add_printf(b, "rampart_api_accept_errors_total %" PRIu64 "\n", h->st.accept_errors);
	if (h->rp->control) {
		struct api_control_stats cs;
		api_control_stats(h->rp->control, &cs);
		metric_head(b, "rampart_control_clients_closed_total", "counter",
			    "Control socket clients closed by a bound: max_clients (api.control_max_clients), output "
			    "(8 MiB of replies not read), timeout (300 s idle).");
		evbuffer_add_printf(b, "rampart_control_clients_closed_total{reason=\"max_clients\"} %" PRIu64 "\n",
				    cs.closed_max_clients);
		evbuffer_add_printf(b, "rampart_control_clients_closed_total{reason=\"output\"} %" PRIu64 "\n",
				    cs.closed_output);
		evbuffer_add_printf(b, "rampart_control_clients_closed_total{reason=\"timeout\"} %" PRIu64 "\n",
				    cs.closed_timeout);
		metric_head(b, "rampart_control_accept_errors_total", "counter",
			    "accept() failures on the control socket; each pauses it 100 ms..1 s.");
		evbuffer_add_printf(b, "rampart_control_accept_errors_total %" PRIu64 "\n", cs.accept_errors);
	}
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	struct rampart *rp = h->rp;
	if (!want_get(req))
		return;
	struct evbuffer *b = evbuffer_new();
	static struct rd_worker_stats ws[RD_MAX_WORKERS]; /* ~10 KB each (exporters); main loop only */
	char names[RD_MAX_WORKERS][300];
	for (unsigned i = 0; i < rp->n_workers; i++) {
		rd_worker_stats(rp->workers[i], &ws[i]);
		label(ws[i].name, names[i], sizeof names[i]);
	}

	metric_head(b, "rampart_capture_frames_total", "counter", "Frames read per capture source.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_capture_frames_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.frames);
	metric_head(b, "rampart_capture_decode_total", "counter", "Frames per decode result.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		for (int r = 0; r < CAP_DECODE_RESULT_COUNT; r++)
			evbuffer_add_printf(b, "rampart_capture_decode_total{source=\"%s\",result=\"%s\"} %" PRIu64 "\n",
					    names[i], decode_result_label[r],
					    ws[i].pcap.decode[r]);
	metric_head(b, "rampart_capture_kernel_drops_total", "counter", "Frames the kernel dropped before capture.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_capture_kernel_drops_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].flow ? ws[i].udp.kernel_drops : ws[i].pcap.kernel_drops);
	metric_head(b, "rampart_capture_ring_drops_total", "counter",
		    "Frames the kernel had for a mirror source but its ring or buffer was full.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_capture_ring_drops_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.ring_drops);
	metric_head(b, "rampart_capture_if_drops_total", "counter", "Frames the interface or NIC dropped.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_capture_if_drops_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.if_drops);
	metric_head(b, "rampart_capture_bad_blocks_total", "counter",
		    "Ring blocks with impossible offsets (the rest of each block is lost).");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_capture_bad_blocks_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.bad_blocks);
	metric_head(b, "rampart_capture_sampled_out_total", "counter", "Frames skipped by mirror sampling (sample: N).");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_capture_sampled_out_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.sampled_out);
	metric_head(b, "rampart_flows_active", "gauge", "Flows in the mirror flow table.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_flows_active{source=\"%s\"} %" PRIu64 "\n", names[i], ws[i].flows.active);
	metric_head(b, "rampart_flows_exported_total", "counter", "Flow rows exported by the mirror flow table.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_flows_exported_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].flows.exported);
	metric_head(b, "rampart_hosts_overflow_total", "counter", "Records not counted: the host table was full.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		evbuffer_add_printf(b, "rampart_hosts_overflow_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].hosts_overflow);

	/* flow export listeners (docs/FLOWS.md): per listener, then per exporter */
	metric_head(b, "rampart_flow_datagrams_total", "counter", "Datagrams read per flow listener.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_datagrams_total{source=\"%s\"} %" PRIu64 "\n", names[i],
					    ws[i].udp.datagrams);
	metric_head(b, "rampart_flow_oversize_total", "counter", "Datagrams too large for a receive buffer, dropped.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_oversize_total{source=\"%s\"} %" PRIu64 "\n", names[i],
					    ws[i].udp.oversize);
	metric_head(b, "rampart_flow_refused_total", "counter",
		    "State refused to a flow source, by reason (docs/FLOWS.md): datagrams or templates dropped.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		for (int r = 0; ws[i].flow && r < CAP_REFUSE_COUNT; r++)
			evbuffer_add_printf(b, "rampart_flow_refused_total{source=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
					    names[i], cap_flow_refusal_name((enum cap_flow_refusal)r),
					    ws[i].udp.decode.refused[r]);
	metric_head(b, "rampart_flow_exporters_evicted_total", "counter",
		    "Exporters pushed out for a new one (never one sending valid data and active).");
	for (unsigned i = 0; i < rp->n_workers; i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_exporters_evicted_total{source=\"%s\"} %" PRIu64 "\n",
					    names[i], ws[i].udp.decode.evicted);
	metric_head(b, "rampart_flow_template_bytes", "gauge", "Template memory held per flow listener.");
	for (unsigned i = 0; i < rp->n_workers; i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_template_bytes{source=\"%s\"} %" PRIu64 "\n", names[i],
					    ws[i].udp.decode.template_bytes);
	metric_head(b, "rampart_flow_exporter_total", "counter",
		    "Per exporter: datagrams, records, malformed, template_misses, sequence_gaps.");
	for (unsigned i = 0; i < rp->n_workers; i++) {
		size_t n = ws[i].n_exporters < RD_EXPORTERS_SHOWN ? ws[i].n_exporters : RD_EXPORTERS_SHOWN;
		for (size_t j = 0; ws[i].flow && j < n; j++) {
			const struct cap_exporter_info *e = &ws[i].exporters[j];
			char a[IP_STRLEN];
			ip_format(&e->addr, a);
			const struct {
				const char *k;
				uint64_t v;
			} c[] = {{"datagrams", e->datagrams},	    {"records", e->records},
				 {"malformed", e->malformed},	    {"template_misses", e->template_misses},
				 {"sequence_gaps", e->sequence_gaps}};
			for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
				evbuffer_add_printf(b,
						    "rampart_flow_exporter_total{source=\"%s\",exporter=\"%s\",domain=\"%" PRIu32
						    "\",counter=\"%s\"} %" PRIu64 "\n",
						    names[i], a, e->domain, c[k].k, c[k].v);
		}
	}

	metric_head(b, "rampart_hosts_tracked", "gauge", "Hosts with detection state.");
	evbuffer_add_printf(b, "rampart_hosts_tracked %zu\n", det_engine_hosts(rp->engine));
	metric_head(b, "rampart_bans_active", "gauge", "Active bans.");
	evbuffer_add_printf(b, "rampart_bans_active %zu\n", det_engine_bans(rp->engine, h->bans, 0));
	metric_head(b, "rampart_ticks_total", "counter", "Detection ticks run.");
	evbuffer_add_printf(b, "rampart_ticks_total %" PRIu64 "\n", rp->ticks);
	struct mit_stats ms;
	mit_stats(rp->mit, &ms);
	metric_head(b, "rampart_decisions_total", "counter", "What the decisions did.");
	evbuffer_add_printf(b, "rampart_decisions_total{kind=\"announced\"} %" PRIu64 "\n", ms.announced);
	evbuffer_add_printf(b, "rampart_decisions_total{kind=\"withdrawn\"} %" PRIu64 "\n", ms.withdrawn);
	evbuffer_add_printf(b, "rampart_decisions_total{kind=\"events\"} %" PRIu64 "\n", ms.events);

	if (rp->samples) { /* attack sample packets (detection.attack_pcap) */
		struct rd_samples_stats as;
		rd_samples_stats(rp->samples, &as);
		metric_head(b, "rampart_attack_pcap_samples_total", "counter",
			    "Attack sample packets: written to a file, dropped (a worker's ring was full), skipped "
			    "(file closed, unwritable or of another link type).");
		evbuffer_add_printf(b, "rampart_attack_pcap_samples_total{state=\"written\"} %" PRIu64 "\n", as.written);
		evbuffer_add_printf(b, "rampart_attack_pcap_samples_total{state=\"dropped\"} %" PRIu64 "\n", as.dropped);
		evbuffer_add_printf(b, "rampart_attack_pcap_samples_total{state=\"skipped\"} %" PRIu64 "\n", as.skipped);
		metric_head(b, "rampart_attack_pcap_files_total", "counter", "Attack pcap files opened.");
		evbuffer_add_printf(b, "rampart_attack_pcap_files_total %" PRIu64 "\n", as.files_opened);
		metric_head(b, "rampart_attack_pcap_files_deleted_total", "counter",
			    "Attack pcap files deleted by retention (keep_days, max_files).");
		evbuffer_add_printf(b, "rampart_attack_pcap_files_deleted_total %" PRIu64 "\n", as.files_deleted);
		metric_head(b, "rampart_attack_pcap_errors_total", "counter", "Attack pcap files that could not be written.");
		evbuffer_add_printf(b, "rampart_attack_pcap_errors_total %" PRIu64 "\n", as.errors);
		metric_head(b, "rampart_attack_pcap_open_files", "gauge", "Attack pcap files collecting now.");
		evbuffer_add_printf(b, "rampart_attack_pcap_open_files %u\n", as.open);
	}

	if (rp->storage) {
		struct st_stats s;
		st_writer_stats(rp->storage, &s);
		metric_head(b, "rampart_storage_rows_total", "counter", "Rows per table and state.");
		const struct {
			const char *table, *state;
			uint64_t v;
		} rows[] = {
			{"flows", "queued", s.flows_queued},	{"flows", "written", s.flows_written},
			{"flows", "dropped", s.flows_dropped},	{"flows", "lost", s.flows_lost},
			{"attack_events", "queued", s.events_queued}, {"attack_events", "written", s.events_written},
			{"attack_events", "dropped", s.events_dropped}, {"attack_events", "lost", s.events_lost},
			/* the spool: rows that went to disk while ClickHouse was away, came back, or did
			 * not fit its budget */
			{"flows", "spooled", s.flows_spooled},	{"flows", "replayed", s.flows_replayed},
			{"flows", "spool_dropped", s.flows_spool_dropped},
			{"attack_events", "spooled", s.events_spooled}, {"attack_events", "replayed", s.events_replayed},
			{"attack_events", "spool_dropped", s.events_spool_dropped},
		};
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
			evbuffer_add_printf(b, "rampart_storage_rows_total{table=\"%s\",state=\"%s\"} %" PRIu64 "\n",
					    rows[i].table, rows[i].state, rows[i].v);
		metric_head(b, "rampart_storage_batches_failed_total", "counter", "Batch posts that failed (retried).");
		evbuffer_add_printf(b, "rampart_storage_batches_failed_total %" PRIu64 "\n", s.batches_failed);
		metric_head(b, "rampart_storage_insert_bytes_total", "counter",
			    "INSERT bodies posted to ClickHouse: as encoded (stage=encoded) and as sent (stage=wire).");
		evbuffer_add_printf(b, "rampart_storage_insert_bytes_total{stage=\"encoded\"} %" PRIu64 "\n", s.insert_bytes);
		evbuffer_add_printf(b, "rampart_storage_insert_bytes_total{stage=\"wire\"} %" PRIu64 "\n",
				    s.insert_wire_bytes);
		metric_head(b, "rampart_storage_spool_bytes", "gauge", "Bytes in the disk spool now.");
		evbuffer_add_printf(b, "rampart_storage_spool_bytes %" PRIu64 "\n", s.spool_bytes);
		metric_head(b, "rampart_storage_spool_batches", "gauge", "Batches in the disk spool now.");
		evbuffer_add_printf(b, "rampart_storage_spool_batches %" PRIu64 "\n", s.spool_batches);
		metric_head(b, "rampart_storage_batches_deduplicated_total", "counter",
			    "Replays skipped: ClickHouse already had the batch.");
		evbuffer_add_printf(b, "rampart_storage_batches_deduplicated_total %" PRIu64 "\n",
				    s.batches_deduplicated);
		metric_head(b, "rampart_storage_partitions_dropped_total", "counter",
			    "Old partitions dropped by retention (servers without TTL).");
		evbuffer_add_printf(b, "rampart_storage_partitions_dropped_total %" PRIu64 "\n",
				    s.partitions_dropped);
		metric_head(b, "rampart_storage_clickhouse_down", "gauge", "1 while the last post or probe failed.");
		evbuffer_add_printf(b, "rampart_storage_clickhouse_down %d\n", s.clickhouse && s.clickhouse_down);
	}
	api_state_metrics(rp->mit, b);
	if (rp->bgp) {
		struct bgp_peer_status st[64];
		size_t n = bgp_speaker_peers(rp->bgp, st, 64);
		metric_head(b, "rampart_bgp_peer_established", "gauge", "1 while the session is Established.");
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "rampart_bgp_peer_established{peer=\"%s\"} %d\n", ip_format(&st[i].address, a),
					    !strcmp(st[i].state, "Established"));
		}
		metric_head(b, "rampart_bgp_updates_sent_total", "counter", "UPDATE messages sent per peer.");
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "rampart_bgp_updates_sent_total{peer=\"%s\"} %" PRIu64 "\n",
					    ip_format(&st[i].address, a), st[i].updates_sent);
		}
		metric_head(b, "rampart_bgp_treat_as_withdraw_total", "counter",
			    "UPDATEs received and treated as withdraw (RFC 7606), per peer.");
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "rampart_bgp_treat_as_withdraw_total{peer=\"%s\"} %" PRIu64 "\n",
					    ip_format(&st[i].address, a), st[i].taw_received);
		}
		metric_head(b, "rampart_bgp_attrs_discarded_total", "counter",
			    "Path attributes received and discarded (RFC 7606 attribute discard), per peer.");
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "rampart_bgp_attrs_discarded_total{peer=\"%s\"} %" PRIu64 "\n",
					    ip_format(&st[i].address, a), st[i].attrs_discarded);
		}
		struct bgp_md5_counters md5;
		if (bgp_md5_counters_read(&md5) == 0) {
			metric_head(b, "rampart_tcp_md5_drops_total", "counter",
				    "TCP segments the kernel dropped for their MD5 signature (RFC 2385), this network "
				    "namespace, all peers: kind = wrong_key, unsigned (we have a key), unexpected (we have none).");
			evbuffer_add_printf(b, "rampart_tcp_md5_drops_total{kind=\"wrong_key\"} %" PRIu64 "\n", md5.failure);
			evbuffer_add_printf(b, "rampart_tcp_md5_drops_total{kind=\"unsigned\"} %" PRIu64 "\n", md5.not_found);
			evbuffer_add_printf(b, "rampart_tcp_md5_drops_total{kind=\"unexpected\"} %" PRIu64 "\n", md5.unexpected);
		}
		metric_head(b, "rampart_bgp_rib_out_routes", "gauge", "Routes in the RIB-out.");
		evbuffer_add_printf(b, "rampart_bgp_rib_out_routes %zu\n", bgp_rib_out_count(rp->bgp));
	}
	api_metrics(h, b);
	reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
	evbuffer_free(b);
}

/* ---- the live page ------------------------------------------------------------------------- */

static const char live_page[] =
	"<!doctype html><html><head><meta charset=\"utf-8\"><title>Rampart</title>\n"
	"<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}"
	"td,th{padding:2px 10px;text-align:right}td:first-child,th:first-child{text-align:left}"
	"h2{font-size:16px;margin-top:1.5em}.ban{color:#b00}</style></head><body>\n"
	"<h1>Rampart</h1><div id=\"stats\"></div>\n"
	"<h2>Attacks</h2><table id=\"attacks\"></table>\n"
	"<h2>Busiest hosts (incoming)</h2><table id=\"top\"></table>\n"
	"<h2>BGP peers</h2><table id=\"peers\"></table>\n"
	"<script>\n"
	"function row(t,c,h){let r=t.insertRow();c.forEach(v=>{let e=document.createElement(h?'th':'td');"
	"e.textContent=v;r.appendChild(e)});return r}\n"
	"function fill(id,head,rows){let t=document.getElementById(id);t.innerHTML='';row(t,head,1);"
	"rows.forEach(r=>row(t,r))}\n"
	"async function get(p){return (await fetch(p)).json()}\n"
	"async function tick(){try{\n"
	"let a=await get('/api/v1/attacks');fill('attacks',['attack','target','direction','state','trigger',"
	"'value','limit','peak','pps now'],a.attacks.map(x=>[x.attack_id,x.target,x.direction,x.active?'banned':"
	"'ended',x.trigger.class+' '+x.trigger.metric,x.trigger.value.toFixed(0),x.trigger.limit.toFixed(0),"
	"x.trigger.peak.toFixed(0),x.rates.pps.toFixed(0)]));\n"
	"let t=await get('/api/v1/top?n=20');fill('top',['host','hostgroup','pps','Mbit/s','flows/s',''],"
	"t.top.map(x=>[x.host,x.hostgroup,x.rates.pps.toFixed(0),(x.rates.bps/1e6).toFixed(2),"
	"x.rates.flows.toFixed(0),x.banned?'banned':'']));\n"
	"let p=await get('/api/v1/peers');fill('peers',['peer','AS','state','updates sent','last error'],"
	"p.peers.map(x=>[x.address,x.remote_as,x.state,x.updates_sent,x.last_error]));\n"
	"let s=await get('/api/v1/stats');document.getElementById('stats').textContent="
	"'capture clock '+new Date(s.clock_ns/1e6).toISOString()+', '+s.hosts+' hosts tracked, '+"
	"s.decisions.announced+' announced, '+s.decisions.withdrawn+' withdrawn';\n"
	"}catch(e){document.getElementById('stats').textContent='rampartd not answering: '+e}}\n"
	"tick();setInterval(tick,1000);\n"
	"</script></body></html>\n";

/* ---- read-back from ClickHouse: the reply is sent when the query thread answers ------------ */

static void rb_conn_closed(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	api_readback_cancel(arg); /* the request is gone with its connection */
}

static void rb_done(void *ctx, bool ok, struct evbuffer *out)
{
	struct evhttp_request *req = ctx;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	if (ok) {
		reply(req, 200, "application/json", out);
		return;
	}
	size_t n = evbuffer_get_length(out);
	char msg[300];
	if (n >= sizeof msg)
		n = sizeof msg - 1;
	evbuffer_remove(out, msg, n);
	msg[n] = 0;
	msg[strcspn(msg, "\n")] = 0;
	reply_error(req, 502, msg);
}

/* /api/v1/attack/ID/flows?n=N and /api/v1/host/IP/talkers?from=T&to=T&n=N, as the control
 * commands `flows ID --limit N` and `talkers IP --from T --to T --limit N` (one parser). */
static bool on_readback(struct api_http *h, struct evhttp_request *req, const char *path)
{
	char what[64], cmd[320];
	int used = 0;
	bool flows = sscanf(path, "/api/v1/attack/%63[0-9]/flows%n", what, &used) == 1 && !path[used];
	bool talkers = !flows && sscanf(path, "/api/v1/host/%63[0-9a-fA-F.:]/talkers%n", what, &used) == 1 &&
		       !path[used];
	if (!flows && !talkers)
		return false;
	if (!want_get(req))
		return true;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (evhttp_parse_query_str(query ? query : "", &q) != 0) {
		reply_error(req, 400, "bad query string");
		return true;
	}
	int len = snprintf(cmd, sizeof cmd, "%s %s", flows ? "flows" : "talkers", what);
	static const char *const keys[][2] = {{"n", "--limit"}, {"from", "--from"}, {"to", "--to"}};
	for (size_t i = 0; i < 3; i++) {
		const char *v = evhttp_find_header(&q, keys[i][0]);
		if (v && len > 0 && (size_t)len < sizeof cmd)
			len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %s %s", keys[i][1], v[0] ? v : "''");
	}
	evhttp_clear_headers(&q);
	struct api_rb_request rq;
	char err[256];
	struct api_rb_job *job = NULL;
	if ((size_t)len >= sizeof cmd)
		snprintf(err, sizeof err, "query string too long");
	else if (api_readback_parse(h->rp->readback, cmd, &rq, err, sizeof err) == 0) {
		rq.json = true;
		job = api_readback_start(h->rp->readback, &rq, rb_done, req, err, sizeof err);
		if (job) {
			evhttp_connection_set_closecb(evhttp_request_get_connection(req), rb_conn_closed, job);
			return true;
		}
		reply_error(req, !strncmp(err, "no attack", 9) ? 404 : 503, err);
		return true;
	}
	reply_error(req, 400, err);
	return true;
}

static void on_other(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path && on_readback(arg, req, path))
		return;
	if (path && !strcmp(path, "/")) {
		if (!want_get(req))
			return;
		struct evbuffer *b = evbuffer_new();
		evbuffer_add(b, live_page, sizeof live_page - 1);
		reply(req, 200, "text/html; charset=utf-8", b);
		evbuffer_free(b);
		return;
	}
	reply_error(req, 404, "no such resource (see /api/v1/bans, /api/v1/attacks, /api/v1/top, /api/v1/peers, "
			      "/api/v1/stats, /api/v1/command, /api/v1/attack/ID/flows, /api/v1/host/IP/talkers, /metrics)");
}


/* ---- connections: bounded per client ------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The filter moves bytes as they are; on the way out it enforces OUT_MAX. */
static enum bufferevent_filter_result pass_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
					      enum bufferevent_flush_mode mode, void *ctx)
{
	(void)mode, (void)ctx;
	size_t n = evbuffer_get_length(src);
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	if (!n)
		return BEV_NEED_MORE;
	evbuffer_remove_buffer(src, dst, n);
	return BEV_OK;
}

static void conn_writable(evutil_socket_t fd, short what, void *arg);

/* Output goes from the filter straight to the socket, as much as the kernel takes now: evhttp
 * takes an empty output buffer for "reply sent" and may then close, so nothing may wait in a
 * buffer below it. The rest waits in the filter's buffer (bounded by OUT_MAX) for the socket to
 * be writable again. */
static enum bufferevent_filter_result pass_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
					       enum bufferevent_flush_mode mode, void *ctx)
{
	(void)dst, (void)limit, (void)mode;
	struct http_conn *c = ctx;
	if (!c->h)
		return BEV_ERROR;
	if (evbuffer_get_length(src) > OUT_MAX) {
		if (c->why != CLOSE_OUTPUT) {
			c->why = CLOSE_OUTPUT;
			c->h->st.closed_output++;
			event_active(c->deadline, EV_TIMEOUT, 1); /* closed from the loop, not inside evhttp */
		}
		return BEV_ERROR;
	}
	int fd = bufferevent_getfd(c->bev);
	if (fd < 0 || !evbuffer_get_length(src))
		return BEV_NEED_MORE;
	int n = evbuffer_write(src, fd);
	if (evbuffer_get_length(src)) {
		if (!c->writable)
			c->writable = event_new(bufferevent_get_base(c->bev), fd, EV_WRITE, conn_writable, c);
		if (c->writable)
			event_add(c->writable, NULL);
	}
	return n > 0 ? BEV_OK : BEV_NEED_MORE;
}

static void conn_gone(void *ctx)
{
	struct http_conn *c = ctx;
	if (c->h) {
		struct api_http *h = c->h;
		if (c->prev)
			c->prev->next = c->next;
		else
			h->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		h->st.clients--;
		event_free(c->deadline);
		event_free(c->kick);
		if (c->writable)
			event_free(c->writable);
	}
	free(c);
}

/* The deadline passed (or the connection is over a bound): evhttp drops it as it does a
 * timed-out read, and conn_gone follows. */
static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct http_conn *c = arg;
	if (c->writable)
		event_del(c->writable); /* before evhttp closes the socket */
	if (c->why == CLOSE_TIMEOUT)
		c->h->st.closed_timeout++;
	bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

/* evhttp queues a reply before it enables writing, and libevent 2.1's filter moves output only
 * when data is added while writing is on: so each addition is pushed through from the loop,
 * once evhttp is done with it. */
static void conn_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct http_conn *c = arg;
	bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
}

static void conn_writable(evutil_socket_t fd, short what, void *arg)
{
	conn_kick(fd, what, arg);
}

static void output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	struct http_conn *c = arg;
	if (info->n_added && c->h)
		event_active(c->kick, EV_TIMEOUT, 1);
}

/* evhttp's bufferevent for each accepted connection. */
static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
	struct api_http *h = arg;
	struct http_conn *c = calloc(1, sizeof *c);
	struct bufferevent *sock = c ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
	struct event *deadline = sock ? evtimer_new(base, conn_deadline, c) : NULL;
	struct event *kick = deadline ? event_new(base, -1, 0, conn_kick, c) : NULL;
	struct bufferevent *bev = kick ? bufferevent_filter_new(sock, pass_in, pass_out, BEV_OPT_CLOSE_ON_FREE,
								    conn_gone, c)
					   : NULL;
	if (!bev || !evbuffer_add_cb(bufferevent_get_output(bev), output_added, c)) {
		if (bev)
			bufferevent_free(bev), sock = NULL, c = NULL; /* conn_gone freed c */
		if (kick)
			event_free(kick);
		if (deadline)
			event_free(deadline);
		if (sock)
			bufferevent_free(sock);
		free(c);
		return NULL; /* evhttp then makes one of its own, unbounded: only when out of memory */
	}
	c->h = h;
	c->bev = bev;
	c->deadline = deadline;
	c->kick = kick;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	bufferevent_setwatermark(sock, EV_READ, 0, IN_MAX);
	bufferevent_setwatermark(bev, EV_READ, 0, IN_MAX);
	h->pause_ms = PAUSE_MIN_MS;
	if (++h->st.clients > h->rp->conf.api.http_max_clients) {
		c->why = CLOSE_MAX_CLIENTS;
		h->st.closed_max_clients++;
		event_active(deadline, EV_TIMEOUT, 1);
	} else {
		evtimer_add(deadline, &h->timeout); /* the first request, headers and body, by then */
	}
	return bev;
}

static struct http_conn *conn_of(struct api_http *h, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	for (struct http_conn *c = h->conns; bev && c; c = c->next)
		if (c->bev == bev)
			return c;
	return NULL;
}

/* The reply is written: the next request on the connection has the same time to come. */
static void request_done(struct evhttp_request *req, void *arg)
{
	(void)req;
	struct http_conn *c = arg;
	evtimer_add(c->deadline, &c->h->timeout);
}

/* A request arrived whole: its reply (a read-back's too) must be written by the deadline. */
static void request_started(struct api_http *h, struct evhttp_request *req)
{
	struct http_conn *c = conn_of(h, req);
	if (!c)
		return;
	struct timeval t = h->timeout;
	t.tv_sec += READBACK_S;
	evtimer_add(c->deadline, &t);
	evhttp_request_set_on_complete_cb(req, request_done, c);
}

/* ---- accept errors: pause the listener instead of spinning ------------------------------- */

/* accept_resume stays pending (a timer a day away) so that accept_error can find it among the
 * loop's events: libevent lists only pending ones. */
static void park_resume(struct api_http *h)
{
	struct timeval day = {.tv_sec = 86400};
	event_add(h->accept_resume, &day);
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct api_http *h = arg;
	evconnlistener_enable(h->listener);
	park_resume(h);
}

struct server_search {
	const struct evhttp *http;
	struct api_http *found;
};

static int find_server(const struct event_base *base, const struct event *ev, void *arg)
{
	(void)base;
	struct server_search *q = arg;
	if (event_get_callback(ev) == accept_resume && ((struct api_http *)event_get_callback_arg(ev))->http == q->http) {
		q->found = event_get_callback_arg(ev);
		return 1;
	}
	return 0;
}

/* evhttp's listener calls this with evhttp's own pointer, not ours: the server is found through
 * its accept_resume event, which stays added for that (one walk of the loop's events per
 * failure, at most one failure per pause). */
static void accept_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct server_search q = {.http = arg};
	event_base_foreach_event(evconnlistener_get_base(lev), find_server, &q);
	struct api_http *h = q.found;
	if (!h)
		return;
	h->st.accept_errors++;
	h->accept_failed_unlogged++;
	uint64_t now = mono_ns();
	if (!h->accept_logged_ns || now - h->accept_logged_ns >= LOG_INTERVAL_S * 1000000000ull) {
		log_warn("api.http: accept failed %" PRIu64 " time(s) in the last %d s (%s); pausing the listener "
			 "%u ms at a time (rampart_api_accept_errors_total)",
			 h->accept_failed_unlogged, LOG_INTERVAL_S, evutil_socket_error_to_string(err), h->pause_ms);
		h->accept_failed_unlogged = 0;
		h->accept_logged_ns = now;
	}
	evconnlistener_disable(lev);
	struct timeval t = {.tv_sec = h->pause_ms / 1000, .tv_usec = (h->pause_ms % 1000) * 1000};
	event_add(h->accept_resume, &t);
	if (h->pause_ms < PAUSE_MAX_MS)
		h->pause_ms = h->pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : h->pause_ms * 2;
}

/* Every request comes here first: admission, then the resource's handler. */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	request_started(h, req);
	if (!admit(h, req))
		return;
	static const struct {
		const char *path;
		void (*fn)(struct evhttp_request *, void *);
	} routes[] = {
		{"/metrics", on_metrics},   {"/api/v1/bans", on_bans},   {"/api/v1/attacks", on_bans},
		{"/api/v1/top", on_top},    {"/api/v1/peers", on_peers}, {"/api/v1/stats", on_stats},
		{"/api/v1/command", on_command},
	};
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (size_t i = 0; path && i < sizeof routes / sizeof routes[0]; i++)
		if (!strcmp(path, routes[i].path)) {
			routes[i].fn(req, h);
			return;
		}
	on_other(req, h);
}

/* api.token_file: one line, the token. A file others can read is refused: the token is the
 * key to every ban and announce. */
static int read_token(struct api_http *h, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "api.token_file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IRWXO)) {
		snprintf(err, errlen, "api.token_file %s: mode %04o lets others read it; chmod 0600 (or 0640 root:rampart)",
			 path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	char buf[TOKEN_MAX + 2];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "api.token_file %s: %s", path, strerror(errno));
		return -1;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	if (n == 0 || (size_t)n >= TOKEN_MAX || strpbrk(buf, " \t\r\n") || memchr(buf, 0, (size_t)n)) {
		snprintf(err, errlen, "api.token_file %s: expected one token of 1..%d printable bytes", path, TOKEN_MAX - 1);
		return -1;
	}
	memcpy(h->token, buf, (size_t)n + 1);
	h->token_len = (size_t)n;
	return 0;
}

struct api_http *api_http_new(struct rampart *rp, const char *listen, char *err, size_t errlen)
{
	char host[IP_STRLEN];
	uint16_t port;
	ip_addr addr;
	int family = ip_parse_endpoint(listen, &addr, &port);
	if (family == 6)
		inet_ntop(AF_INET6, addr.b, host, sizeof host); /* as written, even if IPv4-mapped */
	else if (family == 4)
		ip_format(&addr, host);
	if (!family) {
		snprintf(err, errlen, "api.http: '%s' is not ADDRESS:PORT", listen);
		return NULL;
	}
	struct api_http *h = calloc(1, sizeof *h);
	if (!h || !(h->http = evhttp_new(rp->base))) {
		free(h);
		snprintf(err, errlen, "api.http: out of memory");
		return NULL;
	}
	h->rp = rp;
	h->listen_addr = addr;
	if (ip_is_v4(&addr) && ip_v4_u32(&addr) == 0)
		memset(&h->listen_addr, 0, sizeof h->listen_addr); /* 0.0.0.0: any, like :: */
	addr = h->listen_addr;
	h->port = port;
	h->loopback = !ip_is_zero(&addr) && is_loopback(&addr);
	size_t o = 0;
	for (const char *c = rp->conf.api.http_hosts; *c && o + 1 < sizeof h->allowed_hosts; c++)
		if (*c != ' ' && *c != '\t')
			h->allowed_hosts[o++] = (char)tolower((unsigned char)*c);
	if (rp->conf.api.token_file[0] && read_token(h, rp->conf.api.token_file, err, errlen) != 0) {
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	if (!h->loopback && !h->token_len) {
		snprintf(err, errlen,
			 "api.http: %s is not a loopback address: set api.token_file (a bearer token every request "
			 "then needs), or listen on 127.0.0.1",
			 listen);
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_max_body_size(h->http, 4096);
	evhttp_set_max_headers_size(h->http, 16384);
	/* evhttp's own timeouts are per read and write, renewed by each byte; the deadlines of
	 * conn_new and request_started are not */
	h->timeout.tv_sec = rp->conf.api.http_request_timeout_s;
	evhttp_set_timeout(h->http, (int)rp->conf.api.http_request_timeout_s);
	evhttp_set_gencb(h->http, on_request, h);
	evhttp_set_bevcb(h->http, conn_new, h);
	h->pause_ms = PAUSE_MIN_MS;
	struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(h->http, host, port);
	if (!bound || !(h->accept_resume = event_new(rp->base, -1, 0, accept_resume, h))) {
		snprintf(err, errlen, "api.http: cannot listen on %s", listen);
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(h->listener, accept_error);
	park_resume(h);
	return h;
}

void api_http_stats(const struct api_http *h, struct api_http_stats *out)
{
	*out = h->st;
}

void api_http_free(struct api_http *h)
{
	if (!h)
		return;
	/* evhttp frees the connections' bufferevents later, in the loop's finalizers: by then
	 * conn_gone must not touch the server */
	for (struct http_conn *c = h->conns, *next; c; c = next) {
		next = c->next;
		event_free(c->deadline);
		event_free(c->kick);
		if (c->writable)
			event_free(c->writable);
		c->writable = NULL;
		c->h = NULL;
	}
	event_free(h->accept_resume);
	evhttp_free(h->http);
	free(h);
}
