/* The ExaBGP drop-in: API lines (bgp/exabgp.h) from the control socket, a named pipe and the
 * stdout of a configured process, turned into routes owned by their source (routes.c).
 *
 * Nothing here may stall the main loop: the pipe is opened read-write (so it never blocks on
 * open and never reports EOF between writers) and non-blocking; the process's stdout is read
 * non-blocking and its replies are written non-blocking, queued up to REPLY_QUEUE_MAX and dropped
 * (counted) beyond, so a process that never reads its stdin cannot hold us, unlike ExaBGP, which
 * stops when the 64 KiB pipe is full. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bgp/exabgp.h"
#include "../bgp/flow_rib.h"
#include "../lib/buf.h"
#include "../lib/log.h"
#include "api.h"
#include "internal.h"

#define READ_CHUNK (256 * 1024)
/* One read of up to 256 KiB (about 3 000 route lines, 2 ms of work) a wakeup: the BGP sessions'
 * writes run between two, so the peer takes UPDATEs while the burst is still being read rather
 * than a 1 MiB batch late */
#define READS_PER_WAKEUP 1
/* lines read, and prefetched (mit_exabgp_prefetch), ahead of the one carried out: about a DRAM
 * latency of lines, whose table slots then arrive while the earlier ones run */
#define LOOKAHEAD 8
#define REPLY_QUEUE_MAX (64 * 1024)
#define BACKOFF_MIN_S 1
#define BACKOFF_MAX_S 30

/* Lines are read into one flat buffer and carried out in place: a reader that sees every line of
 * a read at once can look ahead (LOOKAHEAD), and a line costs no copy out of a buffer chain. */
struct reader {
	int fd;
	struct event *ev;
	char *buf; /* len bytes read, at most a partial line once drained; cap: READS_PER_WAKEUP reads and a line */
	size_t len, cap;
	enum mit_route_src src;
	bool skipping; /* discarding the rest of an over-long line */
};

struct api_exa {
	struct api_ctx *rp;
	struct evbuffer *reply; /* one command's reply text */
	struct log_once bad_line[MIT_SRC_MAX]; /* per source: a noisy process must not hide the pipe's */
	uint64_t lines, errors, replies_dropped, process_starts;

	struct reader pipe;

	/* the process */
	struct reader proc;
	int proc_in;                 /* its stdin, our write end */
	struct event *proc_in_ev;
	struct evbuffer *proc_out;   /* replies queued for its stdin */
	pid_t pid;
	time_t started;
	unsigned backoff_s;
	struct event *restart_ev, *sigchld_ev;
};

/* ---- line readers (pipe and process stdout) ------------------------------------------------- */

/* The log names the transport a line came by: the named pipe or the process. */
static const char *transport_name(enum mit_route_src src)
{
	return src == MIT_SRC_PROCESS ? "process" : "pipe";
}

static void reply(struct api_exa *x, enum mit_route_src src, int rc)
{
	if (src != MIT_SRC_PROCESS || x->proc_in < 0) {
		evbuffer_drain(x->reply, evbuffer_get_length(x->reply));
		return;
	}
	/* ExaBGP's process API: "done" or "error" alone on a line; the reason goes to our log */
	const char *r = rc == 0 ? "done\n" : "error\n";
	if (evbuffer_get_length(x->proc_out) + 6 > REPLY_QUEUE_MAX)
		x->replies_dropped++;
	else
		evbuffer_add(x->proc_out, r, strlen(r));
	evbuffer_drain(x->reply, evbuffer_get_length(x->reply));
}

static void one_line(struct api_exa *x, enum mit_route_src src, char *line)
{
	x->lines++;
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = 0;
	if (!len)
		return;
	int rc = mit_exabgp_command(x->rp->mit, src, line, x->reply);
	/* not audited line by line: the pipe and the process are the operator's configured feeds
	 * (api.exabgp_pipe, api.exabgp_process), and a row per line doubles the cost of a burst of
	 * 100 000 routes (bench/exabgp_vs.sh); they are counted (lines, errors) and errors logged */
	if (rc != 0) {
		x->errors++;
		size_t n = evbuffer_get_length(x->reply);
		char why[256];
		if (n >= sizeof why)
			n = sizeof why - 1;
		evbuffer_copyout(x->reply, why, n);
		why[n] = 0;
		if (n && why[n - 1] == '\n')
			why[n - 1] = 0;
		log_once(&x->bad_line[src], "exabgp %s: '%.120s': %s", transport_name(src), line, why);
	}
	reply(x, src, rc);
}

/* One line of r->buf, NUL-terminated where its newline was, n bytes long. */
static void take_line(struct api_exa *x, struct reader *r, char *line, size_t n)
{
	if (r->skipping || n > BGP_EXA_LINE_MAX) { /* the end of an over-long line, or all of one */
		if (!r->skipping)
			x->errors++;
		r->skipping = false;
		return;
	}
	if (memchr(line, 0, n)) {
		x->errors++;
		reply(x, r->src, -1);
		return;
	}
	one_line(x, r->src, line);
}

static void drain_lines(struct api_exa *x, struct reader *r)
{
	char *b = r->buf;
	size_t scan = 0; /* where the next unseen line starts */
	size_t ring[LOOKAHEAD], len[LOOKAHEAD];
	unsigned head = 0, n_ahead = 0;
	for (;;) {
		while (n_ahead < LOOKAHEAD && scan < r->len) {
			char *nl = memchr(b + scan, '\n', r->len - scan);
			if (!nl)
				break;
			*nl = 0;
			unsigned k = (head + n_ahead++) % LOOKAHEAD;
			ring[k] = scan;
			len[k] = (size_t)(nl - (b + scan));
			mit_exabgp_prefetch(x->rp->mit, b + scan);
			scan += len[k] + 1;
		}
		if (!n_ahead)
			break;
		take_line(x, r, b + ring[head], len[head]);
		head = (head + 1) % LOOKAHEAD;
		n_ahead--;
	}
	size_t rest = r->len - scan;
	if (rest > BGP_EXA_LINE_MAX) { /* no newline in sight: drop it, resync at the next */
		if (!r->skipping) {
			x->errors++;
			log_once(&x->bad_line[r->src], "exabgp %s: line longer than %d bytes dropped",
				 transport_name(r->src), BGP_EXA_LINE_MAX);
		}
		r->skipping = true;
		rest = 0;
	}
	memmove(b, b + r->len - rest, rest);
	r->len = rest;
}

/* Reads what is there; 0 = more may come, 1 = EOF, -1 = error. */
static int fill(struct reader *r)
{
	for (int i = 0; i < READS_PER_WAKEUP && r->len < r->cap; i++) {
		size_t room = r->cap - r->len;
		ssize_t n = read(r->fd, r->buf + r->len, room < READ_CHUNK ? room : READ_CHUNK);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 1;
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	return 0;
}

/* ---- the named pipe --------------------------------------------------------------------------- */

static void on_pipe(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	struct api_exa *x = ctx;
	int rc = fill(&x->pipe);
	drain_lines(x, &x->pipe);
	if (rc != 0) /* cannot happen while we hold a write end; say so if it does */
		log_warn("exabgp pipe %s: %s", x->rp->conf->api.exabgp_pipe, rc < 0 ? strerror(errno) : "EOF");
}

static int open_pipe(struct api_exa *x, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || mkfifo(path, 0620) != 0) {
			snprintf(err, errlen, "api.exabgp_pipe %s: cannot create the FIFO: %s", path, strerror(errno));
			return -1;
		}
	} else if (!S_ISFIFO(st.st_mode)) {
		snprintf(err, errlen, "api.exabgp_pipe %s: exists and is not a FIFO", path);
		return -1;
	}
	/* read-write: open never waits for a writer, and the pipe never reads EOF when one leaves */
	x->pipe.fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (x->pipe.fd < 0) {
		snprintf(err, errlen, "api.exabgp_pipe %s: %s", path, strerror(errno));
		return -1;
	}
	/* 1 MiB (fs.pipe-max-size's default) instead of 64 KiB: a writer of 100 000 lines wakes us
	 * 8 times rather than 120, each read packs fuller UPDATEs. Refused (an unprivileged user over
	 * the limit): the default size works, slower. */
	(void)fcntl(x->pipe.fd, F_SETPIPE_SZ, 1 << 20);
	x->pipe.ev = event_new(x->rp->base, x->pipe.fd, EV_READ | EV_PERSIST, on_pipe, x);
	if (!x->pipe.ev || event_add(x->pipe.ev, NULL) != 0) {
		snprintf(err, errlen, "api.exabgp_pipe %s: cannot watch it", path);
		return -1;
	}
	log_info("exabgp: reading API lines from the pipe %s", path);
	return 0;
}

/* ---- the process ------------------------------------------------------------------------------ */

static void proc_start(struct api_exa *x);

static void proc_close(struct api_exa *x)
{
	if (x->proc.ev) {
		event_free(x->proc.ev);
		x->proc.ev = NULL;
	}
	if (x->proc_in_ev) {
		event_free(x->proc_in_ev);
		x->proc_in_ev = NULL;
	}
	if (x->proc.fd >= 0)
		close(x->proc.fd);
	if (x->proc_in >= 0)
		close(x->proc_in);
	x->proc.fd = x->proc_in = -1;
	x->proc.len = 0;
	evbuffer_drain(x->proc_out, evbuffer_get_length(x->proc_out));
	x->proc.skipping = false;
}

static void reap(struct api_exa *x)
{
	if (x->pid > 0 && waitpid(x->pid, NULL, WNOHANG) == x->pid)
		x->pid = 0;
}

/* The process closed its stdout: it is gone (or as good as gone for us). */
static void proc_gone(struct api_exa *x, const char *why)
{
	struct api_ctx *rp = x->rp;
	proc_close(x);
	reap(x);
	if (x->pid > 0)
		kill(-x->pid, SIGTERM); /* closed stdout but lives on: it cannot talk to us any more */
	size_t n = rp->conf->api.exabgp_process_withdraw ? mit_route_del_all(rp->mit, MIT_SRC_PROCESS) : 0;
	if (time(NULL) - x->started >= BACKOFF_MAX_S)
		x->backoff_s = BACKOFF_MIN_S; /* it ran well for a while: a fresh start */
	log_warn("exabgp process: %s; %zu of its routes withdrawn; restarting in %u s", why, n, x->backoff_s);
	struct timeval tv = {.tv_sec = x->backoff_s};
	event_add(x->restart_ev, &tv);
	x->backoff_s = x->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : x->backoff_s * 2;
}

static void on_proc_out(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	struct api_exa *x = ctx;
	int rc = fill(&x->proc);
	drain_lines(x, &x->proc);
	if (x->proc_in_ev && evbuffer_get_length(x->proc_out))
		event_add(x->proc_in_ev, NULL);
	if (rc != 0)
		proc_gone(x, rc > 0 ? "its stdout closed" : strerror(errno));
}

static void on_proc_in(evutil_socket_t fd, short what, void *ctx)
{
	(void)what;
	struct api_exa *x = ctx;
	int n = evbuffer_write(x->proc_out, fd);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* it closed its stdin: it does not want replies; stop offering them */
		x->replies_dropped += 1;
		evbuffer_drain(x->proc_out, evbuffer_get_length(x->proc_out));
		event_free(x->proc_in_ev);
		x->proc_in_ev = NULL;
		close(x->proc_in);
		x->proc_in = -1;
		return;
	}
	if (evbuffer_get_length(x->proc_out))
		event_add(x->proc_in_ev, NULL);
}

static void on_restart(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	struct api_exa *x = ctx;
	reap(x);
	if (x->pid > 0) { /* still not dead after SIGTERM and a backoff: make sure */
		kill(-x->pid, SIGKILL);
		waitpid(x->pid, NULL, 0);
		x->pid = 0;
	}
	proc_start(x);
}

static void on_sigchld(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	reap(ctx);
}

static void proc_start(struct api_exa *x)
{
	int out[2] = {-1, -1}, in[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
		log_err("exabgp process: pipe: %s", strerror(errno));
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_err("exabgp process: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* the child: stdin from us, stdout to us, stderr shared (the journal) */
		setpgid(0, 0); /* its own group: a signal reaches whatever sh -c started too */
		dup2(in[0], 0);
		dup2(out[1], 1);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", x->rp->conf->api.exabgp_process, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	x->pid = pid;
	x->started = time(NULL);
	x->process_starts++;
	x->proc.fd = out[0];
	x->proc_in = in[1];
	fcntl(x->proc.fd, F_SETFL, O_NONBLOCK);
	fcntl(x->proc_in, F_SETFL, O_NONBLOCK);
	x->proc.ev = event_new(x->rp->base, x->proc.fd, EV_READ | EV_PERSIST, on_proc_out, x);
	x->proc_in_ev = event_new(x->rp->base, x->proc_in, EV_WRITE, on_proc_in, x);
	event_add(x->proc.ev, NULL);
	log_info("exabgp process: started '%s' (pid %d)", x->rp->conf->api.exabgp_process, (int)pid);
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	struct timeval tv = {.tv_sec = x->backoff_s};
	event_add(x->restart_ev, &tv);
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

int api_exa_start(struct api_ctx *rp, char *err, size_t errlen)
{
	struct api_exa *x = calloc(1, sizeof *x);
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rp->exa = x;
	x->rp = rp;
	x->pipe.fd = x->proc.fd = x->proc_in = -1;
	x->pipe.src = MIT_SRC_API;
	x->proc.src = MIT_SRC_PROCESS;
	x->backoff_s = BACKOFF_MIN_S;
	x->reply = evbuffer_new();
	x->pipe.cap = x->proc.cap = READS_PER_WAKEUP * READ_CHUNK + BGP_EXA_LINE_MAX + 1;
	x->pipe.buf = malloc(x->pipe.cap);
	x->proc.buf = malloc(x->proc.cap);
	x->proc_out = evbuffer_new();
	if (!x->reply || !x->pipe.buf || !x->proc.buf || !x->proc_out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const struct conf_api *api = &rp->conf->api;
	if (api->exabgp_pipe[0] && open_pipe(x, api->exabgp_pipe, err, errlen) != 0)
		return -1;
	if (api->exabgp_process[0]) {
		x->restart_ev = evtimer_new(rp->base, on_restart, x);
		x->sigchld_ev = evsignal_new(rp->base, SIGCHLD, on_sigchld, x);
		if (!x->restart_ev || !x->sigchld_ev || event_add(x->sigchld_ev, NULL) != 0) {
			snprintf(err, errlen, "api.exabgp_process: cannot set up its events");
			return -1;
		}
		proc_start(x);
	}
	return 0;
}

void api_exa_stop(struct api_ctx *rp)
{
	struct api_exa *x = rp->exa;
	if (!x)
		return;
	if (x->proc.buf)
		proc_close(x);
	if (x->pid > 0) {
		kill(-x->pid, SIGTERM);
		for (int i = 0; i < 50 && x->pid > 0; i++) { /* up to 0.5 s to go quietly */
			reap(x);
			if (x->pid > 0)
				usleep(10000);
		}
		if (x->pid > 0) {
			kill(-x->pid, SIGKILL);
			waitpid(x->pid, NULL, 0);
		}
	}
	if (x->pipe.ev)
		event_free(x->pipe.ev);
	if (x->pipe.fd >= 0)
		close(x->pipe.fd);
	if (x->restart_ev)
		event_free(x->restart_ev);
	if (x->sigchld_ev)
		event_free(x->sigchld_ev);
	if (x->reply)
		evbuffer_free(x->reply);
	free(x->pipe.buf);
	free(x->proc.buf);
	if (x->proc_out)
		evbuffer_free(x->proc_out);
	free(x);
	rp->exa = NULL;
}

void api_exa_stats(const struct api_ctx *rp, struct api_exa_stats *out)
{
	memset(out, 0, sizeof *out);
	const struct api_exa *x = rp->exa;
	if (!x)
		return;
	out->lines = x->lines;
	out->errors = x->errors;
	out->replies_dropped = x->replies_dropped;
	out->process_starts = x->process_starts;
	out->process_pid = (int)x->pid;
}
