/* The control socket: a UNIX stream socket taking one command per line. Every reply ends with a
 * line "done" or "error: WHY", so a client (rampartctl, a script) knows where a reply ends. */
#include <errno.h>
#include <grp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/path.h"
#include "api.h"
#include "internal.h"

#define MAX_LINE 4096
#define MAX_OUTPUT (8u << 20) /* a client that stops reading is dropped past this */
/* A line begun must end within this, whatever trickles in meanwhile: the idle timeout (300 s)
 * is renewed by every byte, so without it a byte a minute would hold a client slot for ever.
 * rampartctl sends its line at once; a person typing into socat has 10 s a line. */
#define LINE_TIMEOUT_S 10

/* At EMFILE/ENFILE the listener pauses (100 ms doubling to 1 s while accept keeps failing) and
 * one line every 10 s says how often it failed, as the HTTP listener does. */
#define PAUSE_MIN_MS 100
#define PAUSE_MAX_MS 1000
#define LOG_INTERVAL_S 10

struct api_control {
	struct api_ctx *rp;
	struct evconnlistener *listener;
	struct event *resume;
	unsigned pause_ms;
	uint64_t failed_unlogged, logged_ns;
	struct api_control_stats st;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One client. A read-back command (flows, talkers) is answered later, by the query thread
 * (readback.c): meanwhile the client's later lines wait unread, so replies stay in order. */
struct client {
	struct api_control *c;
	struct bufferevent *bev;
	struct api_rb_job *pending;
	struct event *line_deadline;
	bool eof_seen;
};

static void client_close(struct client *cl)
{
	cl->c->st.clients--;
	event_free(cl->line_deadline);
	api_readback_cancel(cl->pending);
	bufferevent_free(cl->bev);
	free(cl);
}

static void client_written(struct bufferevent *bev, void *ctx)
{
	struct client *cl = ctx;
	/* a half-closed client that has all its replies is done */
	if (!cl->pending && bufferevent_get_enabled(bev) == EV_WRITE &&
	    evbuffer_get_length(bufferevent_get_input(bev)) == 0)
		client_close(cl);
}

static void client_read(struct bufferevent *bev, void *ctx);

static void readback_done(void *ctx, bool ok, struct evbuffer *reply)
{
	struct client *cl = ctx;
	struct evbuffer *out = bufferevent_get_output(cl->bev);
	cl->pending = NULL;
	if (ok) {
		evbuffer_add_buffer(out, reply);
		evbuffer_add_printf(out, "done\n");
	} else {
		evbuffer_add_printf(out, "error: ");
		evbuffer_add_buffer(out, reply);
	}
	if (cl->eof_seen && evbuffer_get_length(bufferevent_get_input(cl->bev)) == 0)
		return; /* client_written closes it once the reply is out */
	if (!cl->eof_seen)
		bufferevent_enable(cl->bev, EV_READ);
	client_read(cl->bev, cl); /* the lines that waited */
}

/* Starts a read-back query; 1 when the reply will come later, 0 when reply holds an error. */
static int start_readback(struct client *cl, const char *line, struct evbuffer *reply)
{
	struct api_rb_request req;
	char err[256];
	struct api_readback *rb = cl->c->rp->readback;
	if (api_readback_parse(rb, line, &req, err, sizeof err) == 0 &&
	    (cl->pending = api_readback_start(rb, &req, readback_done, cl, err, sizeof err)))
		return 1;
	evbuffer_add_printf(reply, "%s\n", err);
	return 0;
}

static void client_read(struct bufferevent *bev, void *ctx)
{
	struct client *cl = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	char *line;
	size_t len;
	while (!cl->pending && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
		struct evbuffer *reply = evbuffer_new();
		if (!reply) {
			free(line);
			client_close(cl);
			return;
		}
		int rc;
		if (memchr(line, 0, len))
			rc = (evbuffer_add_printf(reply, "command contains a NUL byte\n"), -1);
		else if (api_readback_is_command(line))
			rc = start_readback(cl, line, reply) ? 1 : -1;
		else {
			rc = api_command(cl->c->rp, line, reply);
			if (api_command_changes_state(line)) { /* the audit trail: who, what, the result */
				struct ucred cr = {.pid = 0, .uid = (uid_t)-1};
				socklen_t cl_len = sizeof cr;
				getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_PEERCRED, &cr, &cl_len);
				struct api_audit_who who = {.source = "socket", .uid = (int32_t)cr.uid, .pid = cr.pid};
				api_audit(cl->c->rp, &who, line, rc, reply);
			}
		}
		free(line);
		if (rc == 1) {
			/* the answer comes later; hold the client's next lines until then */
			evbuffer_free(reply);
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (rc == 0) {
			evbuffer_add_buffer(out, reply);
			evbuffer_add_printf(out, "done\n");
		} else {
			evbuffer_add_printf(out, "error: ");
			evbuffer_add_buffer(out, reply);
		}
		evbuffer_free(reply);
		if (evbuffer_get_length(out) > MAX_OUTPUT) {
			cl->c->st.closed_output++;
			log_warn("control: client is not reading its replies; closing it");
			client_close(cl);
			return;
		}
	}
	if (!cl->pending && evbuffer_get_length(in) > MAX_LINE) {
		/* the reply says why, then the client is closed (client_written) */
		evbuffer_add_printf(out, "error: line longer than %d bytes\n", MAX_LINE);
		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_disable(bev, EV_READ);
		cl->eof_seen = true;
	}
	/* a partial line starts the line's deadline; a finished one (or a reply awaited) stops it */
	if (cl->pending || evbuffer_get_length(in) == 0)
		evtimer_del(cl->line_deadline);
	else if (!evtimer_pending(cl->line_deadline, NULL))
		evtimer_add(cl->line_deadline, &(struct timeval){.tv_sec = LINE_TIMEOUT_S});
	if (!cl->pending && cl->eof_seen && evbuffer_get_length(out) == 0)
		client_close(cl);
}

static void line_timeout(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	struct client *cl = ctx;
	cl->c->st.closed_timeout++;
	client_close(cl);
}

static void client_event(struct bufferevent *bev, short what, void *ctx)
{
	struct client *cl = ctx;
	if (what & BEV_EVENT_EOF) {
		/* the client sent everything: finish writing the replies (and any pending one), then close */
		cl->eof_seen = true;
		bufferevent_disable(bev, EV_READ);
		if (!cl->pending && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			client_close(cl);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		cl->c->st.closed_timeout++;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		client_close(cl);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *ctx)
{
	(void)l, (void)sa, (void)salen;
	struct api_control *c = ctx;
	c->pause_ms = PAUSE_MIN_MS;
	if (c->st.clients >= c->rp->conf->api.control_max_clients) {
		c->st.closed_max_clients++; /* closed at once: a client holds a buffer and a descriptor */
		close(fd);
		return;
	}
	struct client *cl = calloc(1, sizeof *cl);
	struct bufferevent *bev = cl ? bufferevent_socket_new(c->rp->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	struct event *deadline = bev ? evtimer_new(c->rp->base, line_timeout, cl) : NULL;
	if (!deadline) {
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
		free(cl);
		return;
	}
	cl->line_deadline = deadline;
	cl->c = c;
	cl->bev = bev;
	c->st.clients++;
	bufferevent_setcb(bev, client_read, client_written, client_event, cl);
	struct timeval idle = {.tv_sec = 300};
	bufferevent_set_timeouts(bev, &idle, &idle);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}


static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct api_control *c = arg;
	evconnlistener_enable(c->listener);
}

/* accept() failed (EMFILE, ENFILE, ...): libevent would retry at once, forever, logging each
 * time; pause instead and log once an interval. */
static void accept_error(struct evconnlistener *l, void *ctx)
{
	struct api_control *c = ctx;
	int err = EVUTIL_SOCKET_ERROR();
	c->st.accept_errors++;
	c->failed_unlogged++;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (!c->logged_ns || now - c->logged_ns >= LOG_INTERVAL_S * 1000000000ull) {
		log_warn("control socket: accept failed %" PRIu64 " time(s) in the last %d s (%s); pausing it %u ms at a time",
			 c->failed_unlogged, LOG_INTERVAL_S, evutil_socket_error_to_string(err), c->pause_ms);
		c->failed_unlogged = 0;
		c->logged_ns = now;
	}
	evconnlistener_disable(l);
	struct timeval t = {.tv_sec = c->pause_ms / 1000, .tv_usec = (c->pause_ms % 1000) * 1000};
	evtimer_add(c->resume, &t);
	c->pause_ms = c->pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : c->pause_ms * 2;
}

/* A socket file left by a daemon that died is removed; one that answers belongs to a running
 * daemon, and starting a second one on it is an error. */
static int claim_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "control socket %s: another rampartd is running on it", path);
		return -1;
	}
	unlink(path);
	return 0;
}

/* Mode 0660, owner root and group rampart (when that group exists, else root's): the members of
 * the group may drive the daemon, nobody else (docs/OPERATIONS.md). A daemon that is not root
 * keeps itself as the owner and sets the group when it may (it is a member). */
static int set_owner(const char *path, char *err, size_t errlen)
{
	struct group *g = getgrnam("rampart");
	gid_t gid = g ? g->gr_gid : 0;
	uid_t uid = geteuid() == 0 ? 0 : (uid_t)-1;
	if (chown(path, uid, gid) != 0 && (geteuid() == 0 || g))
		log_warn("control socket %s: cannot give it to group %s: %s", path, g ? "rampart" : "root",
			 strerror(errno));
	if (chmod(path, 0660) != 0) {
		snprintf(err, errlen, "control socket %s: chmod 0660: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct api_control *api_control_new(struct api_ctx *rp, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return NULL;
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	char why[256];
	if (path_mkdir_parent(path, 0755, why, sizeof why) != 0) { /* /run/rampart is gone after a reboot */
		snprintf(err, errlen, "control socket %s: %s", path, why);
		return NULL;
	}
	if (claim_path(path, err, errlen) != 0)
		return NULL;
	struct api_control *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->rp = rp;
	snprintf(c->path, sizeof c->path, "%s", path);
	mode_t old = umask(0117); /* owner and group only: the socket can ban and unban */
	c->listener = evconnlistener_new_bind(rp->base, on_accept, c, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					      (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (!c->listener) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	c->pause_ms = PAUSE_MIN_MS;
	if (!(c->resume = evtimer_new(rp->base, accept_resume, c))) {
		snprintf(err, errlen, "out of memory");
		api_control_free(c);
		return NULL;
	}
	evconnlistener_set_error_cb(c->listener, accept_error);
	if (set_owner(path, err, errlen) != 0) {
		api_control_free(c);
		return NULL;
	}
	return c;
}

void api_control_stats(const struct api_control *c, struct api_control_stats *out)
{
	*out = c->st;
}

void api_control_free(struct api_control *c)
{
	if (!c)
		return;
	evconnlistener_free(c->listener);
	if (c->resume)
		event_free(c->resume);
	unlink(c->path);
	free(c);
}
