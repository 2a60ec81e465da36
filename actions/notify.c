/* The notify script action, compatible with FastNetMon's notify_script_path: on every ban and
 * unban the script runs as
 *
 *     SCRIPT IP incoming|outgoing PPS ban|unban
 *
 * with the attack's details on stdin for a ban (an unban gets an empty stdin, as FastNetMon's
 * does), so scripts written for FastNetMon keep working. A prefix ban (group total) passes the
 * prefix, e.g. 192.0.2.0/24, where FastNetMon would pass an address.
 *
 * It never blocks the main loop: posix_spawn starts the script, the details go into the pipe in
 * one non-blocking write (they are far smaller than a pipe's buffer), children are reaped from a
 * SIGCHLD event (waitpid on our own pids only: other parts of the daemon may have children), at
 * most max_running run at once and later calls wait in a bounded queue, and a script that runs
 * past the timeout is killed. Every failure is logged and counted. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../lib/log.h"
#include "act.h"

extern char **environ;

#define QUEUE_MAX 1024
#define RUNNING_MAX 256

struct call {
	char ip[IP_PREFIX_STRLEN];
	char direction[16];
	char pps[24];
	char action[16]; /* ban, unban, escalate, narrow */
	char *details; /* NULL: empty stdin */
};

struct child {
	pid_t pid; /* 0 = free slot */
	struct event *timer;
	struct act_notify *n;
	char what[80];
	bool killed;
};

struct act_notify {
	struct event_base *base;
	char script[256];
	uint32_t timeout_s;
	unsigned max_running;
	struct event *sigchld;
	struct child running[RUNNING_MAX];
	unsigned n_running;
	struct call queue[QUEUE_MAX];
	size_t q_head, q_len;
	struct act_notify_stats st;
};

static void call_free(struct call *c)
{
	free(c->details);
	c->details = NULL;
}

static void on_timeout(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	struct child *ch = ctx;
	log_warn("notify: %s: still running after %u s, killed", ch->what, ch->n->timeout_s);
	ch->killed = true;
	ch->n->st.timed_out++;
	kill(ch->pid, SIGKILL); /* reaped by the SIGCHLD handler */
}

/* A script that exits without reading its stdin makes the write fail with EPIPE: SIGPIPE is
 * held back for this thread during the write and a pending one consumed, so that does not depend
 * on the process ignoring SIGPIPE. */
static void write_details(int fd, const char *details, const char *what)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ssize_t w = write(fd, details, strlen(details));
	if (w < 0 && errno == EPIPE) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
	} else if (w < 0) {
		log_warn("notify: %s: details not written: %s", what, strerror(errno));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Starts c in a free slot; false (counted, logged) when the spawn fails. */
static bool start(struct act_notify *n, struct call *c)
{
	struct child *ch = NULL;
	for (unsigned i = 0; i < n->max_running; i++)
		if (!n->running[i].pid) {
			ch = &n->running[i];
			break;
		}
	if (!ch)
		return false;
	int fds[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (c->details) {
		if (pipe2(fds, O_CLOEXEC) != 0) {
			log_warn("notify: pipe: %s", strerror(errno));
			posix_spawn_file_actions_destroy(&fa);
			n->st.failed++;
			return false;
		}
		posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	}
	char *argv[] = {n->script, c->ip, c->direction, c->pps, c->action, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, n->script, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (fds[0] >= 0)
		close(fds[0]);
	char what[sizeof ch->what];
	snprintf(what, sizeof what, "%s %s", c->action, c->ip);
	memcpy(ch->what, what, sizeof what);
	if (rc != 0) {
		log_warn("notify: %s: cannot run %s: %s", ch->what, n->script, strerror(rc));
		if (fds[1] >= 0)
			close(fds[1]);
		n->st.failed++;
		return false;
	}
	if (fds[1] >= 0) {
		write_details(fds[1], c->details, ch->what);
		close(fds[1]);
	}
	ch->pid = pid;
	ch->n = n;
	ch->killed = false;
	ch->timer = evtimer_new(n->base, on_timeout, ch);
	if (ch->timer) {
		struct timeval tv = {.tv_sec = n->timeout_s};
		evtimer_add(ch->timer, &tv);
	}
	n->n_running++;
	n->st.started++;
	return true;
}

static void run_queue(struct act_notify *n)
{
	while (n->q_len && n->n_running < n->max_running) {
		struct call *c = &n->queue[n->q_head];
		start(n, c);
		call_free(c);
		n->q_head = (n->q_head + 1) % QUEUE_MAX;
		n->q_len--;
	}
}

static void reaped(struct act_notify *n, struct child *ch, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		n->st.ok++;
	} else if (!ch->killed) {
		n->st.failed++;
		if (WIFEXITED(status))
			log_warn("notify: %s: script exited with status %d", ch->what, WEXITSTATUS(status));
		else
			log_warn("notify: %s: script killed by signal %d", ch->what,
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	if (ch->timer)
		event_free(ch->timer);
	ch->timer = NULL;
	ch->pid = 0;
	n->n_running--;
}

static void reap(struct act_notify *n)
{
	for (unsigned i = 0; i < n->max_running; i++) {
		struct child *ch = &n->running[i];
		int status;
		if (ch->pid && waitpid(ch->pid, &status, WNOHANG) == ch->pid)
			reaped(n, ch, status);
	}
	run_queue(n);
}

static void on_sigchld(evutil_socket_t sig, short what, void *ctx)
{
	(void)sig, (void)what;
	reap(ctx);
}

struct act_notify *act_notify_new(struct event_base *base, const struct conf_actions *cfg)
{
	if (!cfg->notify_script[0])
		return NULL;
	struct act_notify *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->base = base;
	snprintf(n->script, sizeof n->script, "%s", cfg->notify_script);
	n->timeout_s = cfg->notify_timeout_s ? cfg->notify_timeout_s : 30;
	n->max_running = cfg->notify_max_running ? cfg->notify_max_running : 8;
	if (n->max_running > RUNNING_MAX)
		n->max_running = RUNNING_MAX;
	n->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, n);
	if (!n->sigchld || event_add(n->sigchld, NULL) != 0) {
		if (n->sigchld)
			event_free(n->sigchld);
		free(n);
		return NULL;
	}
	if (access(n->script, X_OK) != 0)
		log_warn("notify: %s is not executable (%s); every call will fail", n->script, strerror(errno));
	log_info("notify: %s on ban and unban (at most %u at once, killed after %u s)", n->script, n->max_running,
		 n->timeout_s);
	return n;
}

void act_notify_free(struct act_notify *n)
{
	if (!n)
		return;
	/* give running scripts a moment to finish what they were told, then stop them */
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000000};
	for (int i = 0; i < 300 && (n->n_running || n->q_len); i++) {
		reap(n);
		if (n->n_running)
			nanosleep(&pause, NULL);
	}
	for (unsigned i = 0; i < n->max_running; i++) {
		struct child *ch = &n->running[i];
		if (!ch->pid)
			continue;
		log_warn("notify: %s: still running at shutdown, killed", ch->what);
		kill(ch->pid, SIGKILL);
		int status;
		waitpid(ch->pid, &status, 0);
		ch->killed = true;
		n->st.timed_out++;
		reaped(n, ch, status);
	}
	for (; n->q_len; n->q_len--, n->q_head = (n->q_head + 1) % QUEUE_MAX)
		call_free(&n->queue[n->q_head]);
	log_info("notify: %" PRIu64 " calls, %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64 " timed out, %" PRIu64
		 " dropped",
		 n->st.started, n->st.ok, n->st.failed, n->st.timed_out, n->st.dropped);
	event_free(n->sigchld);
	free(n);
}

/* FastNetMon-like details: one "Key: value" per line. */
static char *details(const struct mit_event *e, const char *ip)
{
	const struct det_event *ev = e->ev;
	const struct det_fingerprint *fp = e->fp;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	const double(*r)[DET_METRICS] = ev->rates.v[ev->direction];
	fprintf(f, "IP: %s\n", ip);
	fprintf(f, "Attack id: %" PRIu64 "\n", ev->attack_id);
	/* at the ban only the class mix of the rates is known (the ban never waits for records):
	 * `rampartctl attack ID` has the full fingerprint later */
	fprintf(f, "Attack type: %s\n", fp ? det_attack_kind_name(fp->kind) : "unknown");
	fprintf(f, "Attack direction: %s\n", det_direction_name(ev->direction));
	if (e->hostgroup[0])
		fprintf(f, "Hostgroup: %s\n", e->hostgroup);
	if (ev->manual)
		fprintf(f, "Manual: yes\n");
	else
		fprintf(f, "Trigger: %s_%s %.0f over %.0f\n", det_class_name(ev->trigger_class),
			det_metric_name(ev->trigger_metric), ev->trigger_value, ev->trigger_limit);
	fprintf(f, "Ban time: %u s\n", ev->ban_seconds);
	if (e->samples_path[0])
		fprintf(f, "Attack pcap: %s\n", e->samples_path); /* sample packets, written from now on (mirror, sFlow) */
	fprintf(f, "Initial attack power: %.0f packets per second\n", r[DET_TOTAL][DET_PPS]);
	fprintf(f, "Total %s traffic: %.2f mbps\n", det_direction_name(ev->direction), r[DET_TOTAL][DET_BPS] / 1e6);
	fprintf(f, "Total %s pps: %.0f\nTotal %s flows: %.0f\n", det_direction_name(ev->direction),
		r[DET_TOTAL][DET_PPS], det_direction_name(ev->direction), r[DET_TOTAL][DET_FLOWS]);
	for (int c = DET_TCP; c < DET_CLASSES; c++)
		fprintf(f, "%s pps: %.0f\n", det_class_name((enum det_class)c), r[c][DET_PPS]);
	fclose(f);
	return buf;
}

void act_notify_event(void *ctx, const struct mit_event *e)
{
	struct act_notify *n = ctx;
	const struct det_event *ev = e->ev;
	if (!n || e->restored || (e->type != MIT_EV_BAN && e->type != MIT_EV_UNBAN && e->type != MIT_EV_ESCALATE &&
						     e->type != MIT_EV_NARROW))
		return;
	if (n->q_len == QUEUE_MAX) {
		if (n->st.dropped++ == 0)
			log_warn("notify: %u calls queued behind running scripts; further calls are dropped",
				 QUEUE_MAX);
		return;
	}
	struct call *c = &n->queue[(n->q_head + n->q_len) % QUEUE_MAX];
	memset(c, 0, sizeof *c);
	if (ev->target.len == ip_max_len(&ev->target.addr)) {
		char a[IP_STRLEN];
		snprintf(c->ip, sizeof c->ip, "%s", ip_format(&ev->target.addr, a));
	} else {
		ip_prefix_format(&ev->target, c->ip);
	}
	snprintf(c->direction, sizeof c->direction, "%s", det_direction_name(ev->direction));
	snprintf(c->pps, sizeof c->pps, "%.0f", ev->rates.v[ev->direction][DET_TOTAL][DET_PPS]);
	snprintf(c->action, sizeof c->action, "%s", mit_event_name(e->type)); /* ban, unban, escalate, narrow */
	if (e->type == MIT_EV_BAN)
		c->details = details(e, c->ip);
	n->q_len++;
	run_queue(n);
}

struct act_action act_notify_action(struct act_notify *n)
{
	return (struct act_action){.name = "notify", .ctx = n, .event = act_notify_event};
}

void act_notify_stats(const struct act_notify *n, struct act_notify_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!n)
		return;
	*out = n->st;
	out->running = n->n_running;
	out->queued = n->q_len;
}
