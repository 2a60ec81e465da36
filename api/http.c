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
#include "internal.h"

/* ---- responses ----------------------------------------------------------------------------- */

void api_http_reply(struct evhttp_request *req, int code, const char *type, struct evbuffer *body)
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

void api_http_reply_error(struct evhttp_request *req, int code, const char *msg)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"error\":");
	json_str(b, msg, strlen(msg));
	evbuffer_add_printf(b, "}\n");
	api_http_reply(req, code, "application/json", b);
	evbuffer_free(b);
}

bool api_http_want_get(struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET || evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		return true;
	api_http_reply_error(req, 405, "this resource takes GET");
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
		api_http_reply_error(req, 421, "this server answers only to its own address (Host header; api.http_hosts)");
		return false;
	}
	if (!h->loopback && !has_token(h, req)) {
		h->st.refused_token++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"rampart\"");
		api_http_reply_error(req, 401, "a bearer token (api.token_file) is needed");
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
		api_http_reply_error(req, 415, "commands are taken only as Content-Type: application/json, "
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
		api_http_reply_error(req, 400, msg);
		return false;
	}
	return true;
}

static void readback_deadline(struct api_http *h, struct evhttp_request *req);

/* ---- handlers: the JSON lists are in http_json.c ------------------------------------------ */

static void rb_conn_closed(struct evhttp_connection *conn, void *arg);

/* A read-back command's text reply, as rampartctl gets it; ClickHouse's failure is a 502. */
static void rb_cmd_done(void *ctx, bool ok, struct evbuffer *out)
{
	struct evhttp_request *req = ctx;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	api_http_reply(req, ok ? 200 : 502, "text/plain; charset=utf-8", out);
}

static void on_command(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		api_http_reply_error(req, 405, "this resource takes POST with {\"command\": \"LINE\"} as application/json");
		return;
	}
	char line[1024];
	if (!command_body(h, req, line, sizeof line))
		return;
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (strpbrk(line, "\r\n")) {
		api_http_reply_error(req, 400, "one command per request");
		return;
	}
	bool token = has_token(h, req);
	if (h->token_len && !token && api_command_changes_state(line)) {
		h->st.refused_token++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"rampart\"");
		api_http_reply_error(req, 401, "this command changes state: it needs the bearer token (api.token_file)");
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
				readback_deadline(h, req);
				evhttp_connection_set_closecb(evhttp_request_get_connection(req), rb_conn_closed, job);
				evbuffer_free(out);
				return;
			}
			code = !strncmp(err, "no attack", 9) ? 404 : 503;
		}
		evbuffer_add_printf(out, "%s\n", err);
		api_http_reply(req, code, "text/plain; charset=utf-8", out);
		evbuffer_free(out);
		return;
	}
	int rc = api_command(h->rp, line, out);
	if (api_command_changes_state(line)) { /* the audit trail: who, what, the result */
		char *peer = NULL;
		ev_uint16_t pport = 0;
		evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &pport);
		char client[64];
		snprintf(client, sizeof client, "%s:%u", peer ? peer : "?", pport);
		struct api_audit_who who = {.source = "http", .client = client, .uid = -1, .token = token};
		api_audit(h->rp, &who, line, rc, out);
	}
	api_http_reply(req, rc == 0 ? 200 : 400, "text/plain; charset=utf-8", out);
	evbuffer_free(out);
}

/* ---- /metrics (the stats registry: stats_render.c) ----------------------------------------- */

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!api_http_want_get(req))
		return;
	struct api_stats_snap *snap = api_stats_snap_new(h->rp, &h->st);
	if (!snap) {
		api_http_reply_error(req, 500, "out of memory");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	api_stats_prometheus(snap, b);
	api_stats_snap_free(snap);
	api_http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
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
		api_http_reply(req, 200, "application/json", out);
		return;
	}
	size_t n = evbuffer_get_length(out);
	char msg[300];
	if (n >= sizeof msg)
		n = sizeof msg - 1;
	evbuffer_remove(out, msg, n);
	msg[n] = 0;
	msg[strcspn(msg, "\n")] = 0;
	api_http_reply_error(req, 502, msg);
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
	if (!api_http_want_get(req))
		return true;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (evhttp_parse_query_str(query ? query : "", &q) != 0) {
		api_http_reply_error(req, 400, "bad query string");
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
			readback_deadline(h, req);
			evhttp_connection_set_closecb(evhttp_request_get_connection(req), rb_conn_closed, job);
			return true;
		}
		api_http_reply_error(req, !strncmp(err, "no attack", 9) ? 404 : 503, err);
		return true;
	}
	api_http_reply_error(req, 400, err);
	return true;
}

static void on_other(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path && on_readback(arg, req, path))
		return;
	if (path && !strcmp(path, "/")) {
		if (!api_http_want_get(req))
			return;
		struct evbuffer *b = evbuffer_new();
		evbuffer_add(b, live_page, sizeof live_page - 1);
		api_http_reply(req, 200, "text/html; charset=utf-8", b);
		evbuffer_free(b);
		return;
	}
	api_http_reply_error(req, 404, "no such resource (see /api/v1/bans, /api/v1/attacks, /api/v1/top, /api/v1/peers, "
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
	if (++h->st.clients > h->rp->conf->api.http_max_clients) {
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
	t.tv_sec += READBACK_QUERY_S;
	evtimer_add(c->deadline, &t);
	evhttp_request_set_on_complete_cb(req, request_done, c);
}

/* A read-back was queued for req: its reply may wait for the queries ahead of it as well. */
static void readback_deadline(struct api_http *h, struct evhttp_request *req)
{
	struct http_conn *c = conn_of(h, req);
	if (!c)
		return;
	struct timeval t = h->timeout;
	t.tv_sec += READBACK_S;
	evtimer_add(c->deadline, &t);
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
		{"/metrics", on_metrics},   {"/api/v1/bans", api_http_get_bans},   {"/api/v1/attacks", api_http_get_bans},
		{"/api/v1/top", api_http_get_top},    {"/api/v1/peers", api_http_get_peers}, {"/api/v1/stats", api_http_get_stats},
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

struct api_http *api_http_new(struct api_ctx *rp, const char *listen, char *err, size_t errlen)
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
	for (const char *c = rp->conf->api.http_hosts; *c && o + 1 < sizeof h->allowed_hosts; c++)
		if (*c != ' ' && *c != '\t')
			h->allowed_hosts[o++] = (char)tolower((unsigned char)*c);
	if (rp->conf->api.token_file[0] && read_token(h, rp->conf->api.token_file, err, errlen) != 0) {
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
	h->timeout.tv_sec = rp->conf->api.http_request_timeout_s;
	evhttp_set_timeout(h->http, (int)rp->conf->api.http_request_timeout_s);
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
