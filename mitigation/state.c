/* The ban state file, the daemon's side (state.h says what it holds and why): what is kept is
 * written atomically, coalesced, off the packet path; at start it is read and put back before BGP
 * comes up. The format and its parser are in banstate_file.c. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../bgp/exabgp.h"
#include "../lib/atomic_file.h"
#include "../lib/log.h"
#include "../lib/path.h"
#include "internal.h"

/* ---- the daemon side ----------------------------------------------------------------------------- */


/* The writer thread: the main loop serialises its tables (the snapshot: the file's text) and
 * hands the text over; write, fsync, rename and the directory's fsync, which wait on the disk for
 * as long as it takes, happen here, off the loop. One slot: a newer snapshot replaces one not yet
 * taken. A failed write is tried again every second until a newer snapshot replaces it. */
struct writer {
	pthread_t thread;
	bool running;
	pthread_mutex_t mu; /* the fields below, and the write figures of mit_state.st */
	pthread_cond_t cv;  /* a snapshot, stop, or a write done */
	struct evbuffer *next;
	bool busy, failed, stop;
};

struct mit_state {
	struct mit *m;
	struct writer w;
	char path[256], spare[264]; /* spare: the next write's space (atomic_file.h) */
	struct event *timer;
	bool loaded;  /* read (or found missing): from now on it may be written */
	bool dirty;
	struct det_ban_info *bans; /* scratch for the writer, max_bans long */
	size_t max_bans;
	struct mit_state_stats st;
	unsigned delay_ms; /* between a change and its write: MIT_STATE_DELAY_MS, longer for big tables */
	uint64_t first_change_ms, last_change_ms; /* unwritten ones, the loop's cached clock */
	struct log_once write_log;
	bool spare_said; /* the spare's other failures (EOPNOTSUPP), said once */
	size_t routes, flows_restored, rules, bans_dropped; /* the load's figures, for its log line */
};


static void on_timer(evutil_socket_t fd, short what, void *ctx);
static void *writer_main(void *arg);

static void state_free(struct mit_state *bs);

bool mit_state_new(struct mit *m)
{
	const char *path = m->conf->mitigation.state_file;
	if (!path[0]) {
		log_info("ban state: mitigation.state_file is \"\": bans, API routes and rules are not kept across a restart");
		return false;
	}
	if (m->d.replay) {
		log_info("ban state: not read or written in a --pcap replay (its clock is the capture's)");
		return false;
	}
	struct mit_state *bs = calloc(1, sizeof *bs);
	if (!bs)
		return false;
	bs->m = m;
	snprintf(bs->path, sizeof bs->path, "%s", path);
	snprintf(bs->spare, sizeof bs->spare, "%s.spare", path);
	bs->max_bans = m->conf->mitigation.max_bans ? m->conf->mitigation.max_bans : 1;
	bs->delay_ms = MIT_STATE_DELAY_MS;
	bs->bans = calloc(bs->max_bans, sizeof *bs->bans);
	bs->timer = event_new(m->d.base, -1, 0, on_timer, bs);
	if (!bs->bans || !bs->timer) {
		state_free(bs);
		return false;
	}
	pthread_mutex_init(&bs->w.mu, NULL);
	pthread_cond_init(&bs->w.cv, NULL);
	bs->w.running = pthread_create(&bs->w.thread, NULL, writer_main, bs) == 0;
	if (!bs->w.running)
		log_warn("ban state: no writer thread: the file is written on the main loop");
	m->state = bs;
	return true;
}

/* ---- writing ---------------------------------------------------------------------------------- */

static int group_index(const struct mit *m, const char *name)
{
	for (size_t i = 0; name[0] && i < m->conf->detect.n_groups; i++)
		if (!strcmp(m->conf->detect.groups[i].name, name))
			return (int)i;
	return -1;
}

struct route_ctx {
	const struct mit *m;
	struct evbuffer *b;
	size_t count;
};

/* A socket or pipe route, as the ExaBGP line that puts it back for the same peers. */
static void put_route(void *ctx, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers,
		      const struct bgp_route_attrs *a)
{
	struct route_ctx *rc = ctx;
	if (src != MIT_SRC_OPERATOR && src != MIT_SRC_API)
		return; /* the process sends its routes again itself */
	const struct bgp_config *bc = &rc->m->conf->bgp;
	char sel[2048]; /* not zeroed: written per route, 100 000 times a file */
	size_t len = 0, named = 0;
	sel[0] = 0;
	for (size_t i = 0; peers != BGP_PEERS_ALL && i < bc->n_peers && i < 64; i++) {
		char addr[IP_STRLEN];
		if (!(peers & bgp_peer_bit(i)))
			continue;
		int n = snprintf(sel + len, sizeof sel - len, "%sneighbor %s", named ? ", " : "",
				 ip_format(&bc->peers[i].address, addr));
		if (n < 0 || (size_t)n >= sizeof sel - len - 1)
			return; /* cannot happen with 64 peers */
		len += (size_t)n;
		named++;
	}
	if (peers != BGP_PEERS_ALL && !named)
		return; /* held for no configured peer */
	if (named == bc->n_peers)
		sel[0] = 0, len = 0; /* every peer: no selector */
	if (len)
		sel[len++] = ' ', sel[len] = 0;
	mit_state_format_route(rc->b, src, sel, p, a);
	rc->count++;
}

static void serialise(struct mit_state *bs, struct evbuffer *b)
{
	struct mit *m = bs->m;
	size_t count = 0;
	evbuffer_add_printf(b, MIT_STATE_HEADER " %d\n# rampartd's bans, API routes and operator rules (docs/BGP.md, Restart); "
			       "rewritten on every change\n", MIT_STATE_VERSION);
	char text[8192];
	for (size_t i = 0; i < mit_flowspec_cap(m->flowspec); i++) {
		struct fs_rule r;
		struct fs_actions a;
		if (!mit_flowspec_operator_rule(m->flowspec, i, &r, &a) || !fs_text_format(&r, &a, text, sizeof text))
			continue;
		evbuffer_add_printf(b, "rule %s\n", text);
		count++;
	}
	size_t n = det_engine_bans(m->d.engine, bs->bans, bs->max_bans);
	if (n > bs->max_bans)
		n = bs->max_bans;
	for (size_t i = 0; i < n; i++) {
		const struct det_ban_info *d = &bs->bans[i];
		struct mit_state_ban sb = {
			.attack_id = d->attack_id,
			.target = d->target,
			.direction = d->direction,
			.manual = d->manual,
			.since_ns = d->since_ns, /* a live capture's clock is the wall clock (no --pcap here) */
			.until_ns = d->until_ns,
			.trigger_class = d->trigger_class,
			.trigger_metric = d->trigger_metric,
			.trigger_value = d->trigger_value,
			.trigger_limit = d->trigger_limit,
			.parent_attack_id = d->parent_attack_id,
		};
		if (d->hostgroup >= 0 && (size_t)d->hostgroup < m->conf->detect.n_groups)
			snprintf(sb.group, sizeof sb.group, "%s", m->conf->detect.groups[d->hostgroup].name);
		bool escalate = false, blackholed = false;
		if (mit_flowspec_attack_rule(m, d->attack_id, &sb.rule, &escalate, &blackholed))
			sb.mit = blackholed ? MIT_STATE_ESCALATED : escalate ? MIT_STATE_ESCALATE : MIT_STATE_FLOWSPEC;
		mit_state_format_ban(b, &sb);
		count++;
	}
	struct route_ctx rc = {.m = m, .b = b};
	/* one chain for the routes (~100 bytes a line) rather than a 4 KiB malloc per 40 of them */
	(void)evbuffer_expand(b, mit_routes_count(m) * 100);
	mit_routes_each_api(m->routes, put_route, &rc);
	count += rc.count;
	enum mit_route_src src;
	struct fs_rule fr;
	struct fs_actions fa;
	for (size_t i = 0; mit_flowspec_api_rule(m->flowspec, i, &src, &fr, &fa); i++) {
		if (!fs_text_format(&fr, &fa, text, sizeof text))
			continue;
		evbuffer_add_printf(b, "flow %s announce flow route %s\n", mit_state_src_word(src), text);
		count++;
	}
	evbuffer_add_printf(b, "end %zu\n", count);
}

/* The space the spare keeps for the next write: twice the file (atomic_file.h: the write and the
 * next spare both fit in what the spare and the old file hold), at least 64 KiB so that a few
 * more bans never outgrow it. */
#define SPARE_MIN (64u << 10)

static uint64_t spare_size(size_t len)
{
	return len > SPARE_MIN / 2 ? 2 * (uint64_t)len : SPARE_MIN;
}

static bool no_space(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

/* The text in b to the file, atomically through the spare (FILE.spare): the file is the old one
 * or the new one, whole, and a full disk keeps the old one. b is left as it was (a failed write
 * is tried again). On the writer thread, or on the main loop when there is none and at shutdown
 * (one at a time, never both). 0 or an errno; *spare_err: whether the next write's space is
 * kept (0) or why not. */
static int write_file(struct mit_state *bs, struct evbuffer *b, int *spare_err)
{
	size_t len = evbuffer_get_length(b);
	const char *p = len ? (const char *)evbuffer_pullup(b, -1) : "";
	const char *step = "write";
	int e = afile_write_spare(bs->path, bs->spare, p, len, 0640, spare_size(len), spare_err, &step);
	if (e && !no_space(e))
		log_once(&bs->write_log, "ban state: %s %s: %s (bans stay announced; retried)", step,
			 bs->path, strerror(e));
	return e;
}

/* A write's figures, and the full-disk condition: said once when it starts (a write refused, or
 * no room for the next one's spare) and once when it ends. Under w.mu when the thread runs. */
static void count_write(struct mit_state *bs, int rc, int spare_err, uint64_t us, size_t bytes)
{
	bs->w.failed = rc != 0;
	bool full = no_space(rc) || (!rc && no_space(spare_err));
	if (no_space(rc))
		bs->st.no_space++;
	if (!rc && spare_err)
		bs->st.spare_failures++;
	if (!rc && spare_err && !no_space(spare_err) && !bs->spare_said) {
		bs->spare_said = true;
		log_warn("ban state: %s: no spare for the next write (%s): a full disk there would stop its writes",
			 bs->spare, strerror(spare_err));
	}
	if (full && !bs->st.disk_full) {
		bs->st.disk_full = true;
		bs->st.disk_full_events++;
		if (rc)
			log_err("ban state: NO SPACE for %s (%s): the last good file stays as it is, without the latest "
				"changes; retried every second", bs->path, strerror(rc));
		else
			log_err("ban state: NO SPACE on the filesystem of %s: written, but no room is left to reserve the "
				"next write's (%" PRIu64 " bytes in %s); the next write may fail, and keeps this file then",
				bs->path, spare_size(bytes), bs->spare);
	} else if (!rc && !spare_err && bs->st.disk_full) {
		bs->st.disk_full = false;
		log_info("ban state: space is back for %s: written, and the next write's space reserved", bs->path);
	}
	if (rc != 0) {
		bs->st.write_errors++;
		return;
	}
	bs->st.writes++;
	bs->st.last_write_us = us;
	bs->st.last_write_bytes = bytes;
}

static void *writer_main(void *arg)
{
	struct mit_state *bs = arg;
	struct writer *w = &bs->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->next && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break; /* the shutdown writes the latest itself */
		struct evbuffer *b = w->next;
		w->next = NULL;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		uint64_t t0 = clock_mono_us();
		int spare_err = 0;
		int rc = write_file(bs, b, &spare_err);
		uint64_t us = clock_mono_us() - t0;
		pthread_mutex_lock(&w->mu);
		w->busy = false;
		count_write(bs, rc, spare_err, us, evbuffer_get_length(b));
		pthread_cond_broadcast(&w->cv);
		/* written without room for the next spare: written again each second (the same text),
		 * which takes the spare as soon as space returns and ends the condition */
		if ((rc == 0 && !no_space(spare_err)) || w->next) {
			evbuffer_free(b);
			continue;
		}
		w->next = b; /* again in a second, unless a newer one comes first */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		while (w->next == b && !w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Serialises now and writes (on the thread, or here without one): what the main loop spends is
 * the serialisation, last_serialise_us. */
static int write_now(struct mit_state *bs, bool here)
{
	uint64_t t0 = clock_mono_us();
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return -1;
	serialise(bs, b);
	bs->st.last_serialise_us = clock_mono_us() - t0;
	if (!here && bs->w.running) {
		pthread_mutex_lock(&bs->w.mu);
		if (bs->w.next)
			evbuffer_free(bs->w.next); /* not taken yet: this one is newer */
		bs->w.next = b;
		bs->w.failed = false;
		pthread_cond_broadcast(&bs->w.cv);
		pthread_mutex_unlock(&bs->w.mu);
		return 0;
	}
	int spare_err = 0;
	int rc = write_file(bs, b, &spare_err);
	count_write(bs, rc, spare_err, clock_mono_us() - t0, evbuffer_get_length(b));
	evbuffer_free(b);
	return rc;
}

static void schedule(struct mit_state *bs, unsigned ms)
{
	if (evtimer_pending(bs->timer, NULL))
		return;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(bs->timer, &tv);
}

/* The main loop's clock as of this iteration, ms: free to read on every change. */
static uint64_t loop_ms(const struct mit_state *bs)
{
	struct timeval tv;
	if (event_base_gettimeofday_cached(bs->m->d.base, &tv) != 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void on_timer(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd, (void)what;
	struct mit_state *bs = ctx;
	if (!bs->dirty || !bs->loaded)
		return;
	uint64_t now = loop_ms(bs), quiet = now - bs->last_change_ms, age = now - bs->first_change_ms;
	/* changes in the second half of the wait: they are still coming, wait for the pause (the
	 * first half's are the ones that armed the timer: a few commands are written at once) */
	if (quiet < MIT_STATE_QUIET_MS / 2 && age < bs->delay_ms) {
		uint64_t b = bs->delay_ms - age;
		schedule(bs, (unsigned)(b < MIT_STATE_QUIET_MS ? b : MIT_STATE_QUIET_MS));
		return;
	}
	bs->dirty = false;
	bs->first_change_ms = 0;
	int rc = write_now(bs, false);
	/* the main loop spends at most a tenth of its time on this file: serialising 100 000 API
	 * routes takes tens of ms, and then changes are gathered for longer (at most 5 s) */
	uint64_t took = bs->st.last_serialise_us / 1000;
	bs->delay_ms = took * 10 > MIT_STATE_DELAY_MS ? (took * 10 < 5000 ? (unsigned)took * 10 : 5000) : MIT_STATE_DELAY_MS;
	if (rc != 0) { /* only without the thread, which retries itself */
		bs->dirty = true;
		schedule(bs, 1000);
	}
}

const char *mit_state_path(const struct mit *m)
{
	return m && m->state ? m->state->path : "";
}

void mit_state_sync(struct mit *m)
{
	struct mit_state *bs = m->state;
	if (!bs || !bs->w.running)
		return;
	pthread_mutex_lock(&bs->w.mu);
	while (bs->w.busy || (bs->w.next && !bs->w.failed))
		pthread_cond_wait(&bs->w.cv, &bs->w.mu);
	pthread_mutex_unlock(&bs->w.mu);
}

void mit_state_changed(struct mit *m)
{
	struct mit_state *bs = m->state;
	if (!bs)
		return;
	bs->dirty = true;
	bs->last_change_ms = loop_ms(bs);
	if (!bs->first_change_ms)
		bs->first_change_ms = bs->last_change_ms;
	if (bs->loaded)
		schedule(bs, MIT_STATE_QUIET_MS);
}

void mit_state_api(struct mit *m, enum mit_route_src src, const struct bgp_exa_cmd *c)
{
	/* the socket's and the pipe's routes are kept; a process sends its own again */
	if (c->kind == BGP_EXA_ROUTE && (src == MIT_SRC_OPERATOR || src == MIT_SRC_API))
		mit_state_changed(m);
}

/* ---- reading at start ----------------------------------------------------------------------- */

struct load {
	struct mit_state *bs;
	uint64_t cap; /* now: the capture clock, a live capture's is the wall clock */
	struct evbuffer *reply;
};

static void on_error(void *ctx, size_t line, const char *why)
{
	struct load *ld = ctx;
	log_warn("%s:%zu: %s", ld->bs->path, line, why);
}

/* The ban's blackhole or FlowSpec rule goes out again, as it was before the restart. */
static void remitigate(struct mit_state *bs, const struct mit_state_ban *sb, const struct det_ban_info *b)
{
	struct mit *m = bs->m;
	struct det_event ev = det_event_of_ban(b, DET_EV_BAN, b->since_ns,
					       (uint32_t)((b->until_ns - b->since_ns) / 1000000000ull), NULL);
	bool flow = sb->mit != MIT_STATE_BLACKHOLE &&
		    mit_flowspec_restore(m->flowspec, &ev, &sb->rule, sb->mit != MIT_STATE_FLOWSPEC, sb->mit == MIT_STATE_ESCALATED);
	/* held per attack like a new ban's (a failure is logged there): inside its restored covering
	 * blackhole it is covered again */
	const char *action = flow ? "flowspec" : mit_live(m) ? mit_blackhole_hold(m, &ev) : "blackhole";
	mit_emit(m, MIT_EV_BAN, &ev, action, true); /* the kernel route, outside BGP */
}

static void restore_ban(struct load *ld, const struct mit_state_rec *r)
{
	struct mit_state *bs = ld->bs;
	struct mit *m = bs->m;
	const struct mit_state_ban *sb = &r->ban;
	struct det_ban_info b = {
		.attack_id = sb->attack_id,
		.target = sb->target,
		.direction = sb->direction,
		.hostgroup = group_index(m, sb->group),
		.manual = sb->manual,
		.since_ns = sb->since_ns,
		.until_ns = sb->until_ns,
		.trigger_class = sb->trigger_class,
		.trigger_metric = sb->trigger_metric,
		.trigger_value = sb->trigger_value,
		.trigger_limit = sb->trigger_limit,
		.parent_attack_id = sb->parent_attack_id,
		.active = true,
	};
	if (b.hostgroup < 0)
		b.hostgroup = det_networks_lookup(m->d.networks, &b.target.addr);
	char pfx[IP_PREFIX_STRLEN];
	ip_prefix_format(&sb->target, pfx);
	const char *why = NULL;
	int rc = det_engine_restore(m->d.engine, &b, ld->cap, &why);
	if (rc == 1) {
		log_info("attack %" PRIu64 ": the ban of %s ended while rampartd was down; not announced again",
			 sb->attack_id, pfx);
		bs->st.expired++;
		return;
	}
	if (rc != 0) {
		log_warn("%s:%zu: attack %" PRIu64 ": the ban of %s is dropped: %s", bs->path, r->line, sb->attack_id,
			 pfx, why ? why : "refused");
		bs->st.refused++;
		bs->bans_dropped++;
		return;
	}
	if (b.hostgroup < 0 || (size_t)b.hostgroup >= m->conf->detect.n_groups)
		b.hostgroup = 0;
	remitigate(bs, sb, &b);
	log_info("attack %" PRIu64 ": %s ban of %s restored (%s), %" PRIu64 " s left", sb->attack_id,
		 sb->manual ? "manual" : "detected", pfx, mit_state_mit_name(sb->mit), (uint64_t)((b.until_ns - ld->cap) / UINT64_C(1000000000)));
	bs->st.restored++;
	bs->st.restored_bans++;
}

static void on_record(void *ctx, const struct mit_state_rec *r)
{
	struct load *ld = ctx;
	struct mit_state *bs = ld->bs;
	struct mit *m = bs->m;
	char why[256];
	switch (r->kind) {
	case MIT_STATE_BAN:
		restore_ban(ld, r);
		return;
	case MIT_STATE_ROUTE:
	case MIT_STATE_FLOW:
		evbuffer_drain(ld->reply, evbuffer_get_length(ld->reply));
		if (mit_exabgp_command(m, r->src, r->text, ld->reply) != 0) {
			size_t n = evbuffer_copyout(ld->reply, why, sizeof why - 1);
			why[n > 0 ? n : 0] = 0;
			why[strcspn(why, "\n")] = 0;
			log_warn("%s:%zu: %s not restored: %s", bs->path, r->line, r->kind == MIT_STATE_ROUTE ? "route" : "flow", why);
			bs->st.refused++;
			return;
		}
		bs->st.restored++;
		if (r->kind == MIT_STATE_ROUTE)
			bs->routes++;
		else
			bs->flows_restored++;
		return;
	case MIT_STATE_RULE:
		if (mit_flowspec_add(m, &r->rule, &r->actions, false, why, sizeof why) != 0) {
			log_warn("%s:%zu: flowspec rule not restored: %s", bs->path, r->line, why);
			bs->st.refused++;
			return;
		}
		bs->st.restored++;
		bs->rules++;
		return;
	}
}

/* A file this rampartd cannot read at all is kept aside, not overwritten: a newer version's. */
static void set_aside(struct mit_state *bs)
{
	char aside[300];
	snprintf(aside, sizeof aside, "%s.unreadable", bs->path);
	if (rename(bs->path, aside) == 0)
		log_warn("ban state: %s moved to %s; starting with no restored bans", bs->path, aside);
}

/* RFC 4724's Restart State bit on each peer's first OPEN: this version's file, read, is a
 * previous run's, so this start is a restart; none (a first start) or another version's is not.
 * A file that could not be read at all leaves the speaker's guess (routes in the RIB-out). */
static void tell_bgp(struct mit_state *bs, enum bgp_restart r)
{
	if (bs->m->d.bgp)
		bgp_speaker_set_restart(bs->m->d.bgp, r);
	log_info("ban state: %s", r == BGP_RESTART_YES ? "a restart: the Restart State bit goes on each peer's first OPEN"
				  : r == BGP_RESTART_NO ? "a first start: no Restart State bit"
							: "cannot tell a restart from a first start");
}

void mit_state_load(struct mit *m, uint64_t now_ns)
{
	struct mit_state *bs = m->state;
	if (!bs)
		return;
	m->now_ns = now_ns;
	char err[256];
	if (path_mkdir_parent(bs->path, 0750, err, sizeof err) != 0)
		log_warn("ban state: %s", err);
	int fd = open(bs->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			log_info("ban state: %s not there yet: nothing to restore", bs->path);
			bs->loaded = true;
			tell_bgp(bs, BGP_RESTART_NO);
			/* written at once, empty: the write reserves the next one's space (the spare)
			 * while the disk has it, so the first ban is kept on a disk that fills later */
			bs->dirty = true;
			schedule(bs, 0);
		} else {
			log_err("ban state: %s: %s: nothing restored, and it is not written either (so it is not lost)",
				bs->path, strerror(errno));
			tell_bgp(bs, BGP_RESTART_GUESS);
		}
		return;
	}
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MIT_STATE_FILE_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		log_err("ban state: %s: not a regular file of at most %u bytes: nothing restored, not written", bs->path,
			MIT_STATE_FILE_MAX);
		close(fd);
		tell_bgp(bs, BGP_RESTART_GUESS);
		return;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	struct load ld = {.bs = bs, .cap = m->now_ns, .reply = evbuffer_new()};
	struct mit_state_result res;
	if (!ld.reply || mit_state_parse(buf, len, on_record, on_error, &ld, &res) != 0) {
		set_aside(bs);
	} else {
		bs->st.skipped = res.bad;
		bs->st.restart = true; /* this version's file: a previous run wrote it */
		log_info("ban state: %s: %" PRIu64 " bans restored, %" PRIu64 " ended while down, %" PRIu64
			 " dropped; %zu routes, %zu flow routes, %zu flowspec rules; %zu bad lines%s",
			 bs->path, bs->st.restored_bans, bs->st.expired, bs->bans_dropped, bs->routes, bs->flows_restored, bs->rules,
			 res.bad, res.complete ? "" : " (incomplete)");
	}
	tell_bgp(bs, bs->st.restart ? BGP_RESTART_YES : BGP_RESTART_NO);
	if (ld.reply)
		evbuffer_free(ld.reply);
	free(buf);
	bs->loaded = true;
	bs->dirty = true;
	schedule(bs, 0); /* what was dropped or ended leaves the file */
}

void mit_state_close(struct mit *m)
{
	state_free(m->state);
	m->state = NULL;
}

static void state_free(struct mit_state *bs)
{
	if (!bs)
		return;
	if (bs->w.running) {
		/* a write in progress ends first; one not taken yet is replaced by the one below */
		pthread_mutex_lock(&bs->w.mu);
		bs->w.stop = true;
		pthread_cond_broadcast(&bs->w.cv);
		pthread_mutex_unlock(&bs->w.mu);
		pthread_join(bs->w.thread, NULL);
		if (bs->w.next)
			evbuffer_free(bs->w.next);
		pthread_cond_destroy(&bs->w.cv);
		pthread_mutex_destroy(&bs->w.mu);
		bs->w.running = false;
	}
	if (bs->loaded && bs->m->d.engine)
		write_now(bs, true); /* a clean shutdown: the latest ban times */
	if (bs->timer)
		event_free(bs->timer);
	free(bs->bans);
	free(bs);
}

void mit_state_stats(const struct mit *m, struct mit_state_stats *out)
{
	const struct mit_state *bs = m ? m->state : NULL;
	memset(out, 0, sizeof *out);
	if (!bs)
		return;
	struct mit_state *w = (struct mit_state *)bs; /* the lock, not the state */
	if (w->w.running)
		pthread_mutex_lock(&w->w.mu);
	*out = bs->st;
	if (w->w.running)
		pthread_mutex_unlock(&w->w.mu);
}
