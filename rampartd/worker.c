/* A capture worker: one thread per source. It reads frames, decodes them, aggregates flows for
 * storage and counts per host for detection, all in memory it owns. Once per tick of the capture
 * clock it hands its counters to the main loop and takes an empty set back.
 *
 * A flow export listener (capture/flowsrc.c) is a source too: its records are flows a router already
 * aggregated, so they go to the counters and to storage as they are, without the flow table.
 * Its clock is the wall clock at which datagrams are received, like a live interface's: the
 * records' own start/end times are the exporter's clock, in the past by up to the exporter's
 * active timeout and not ordered across exporters, so they cannot drive ticks (docs/FLOWS.md). */
#include <poll.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "daemon.h"

/* Counter sets in flight per worker: one being filled, the others queued to or merged by the
 * main loop. Three lets the worker run a tick ahead of a busy main loop without waiting. */
#define COUNTER_SETS 3
/* A flow listener spreads each record over the ticks it lasted (capture.flow_spread), into a ring
 * of counter sets for the ticks ahead, at most this many; and into at most SPREAD_DEPOSITS of
 * them, so a long record costs a few counter updates, not one per tick. */
#define SPREAD_MAX_TICKS 64
#define SPREAD_DEPOSITS 8
/* Spreading publishes two sets per tick (the ring's current one and `now`), so it keeps two
 * ticks' worth of spares. */
#define SPREAD_SPARES 4
#define MAX_SETS (SPREAD_MAX_TICKS + 1 + SPREAD_SPARES)
/* A large capture gap (or a clock jump) is bridged with one long tick, not thousands. */
#define MAX_EMPTY_TICKS 50

struct rd_worker {
	int tick_fd; /* the main loop's eventfd, signalled when a tick is ready */
	unsigned idx;
	char name[96];
	struct conf_source src;
	bool offline;

	struct cap_src *cap;        /* a mirror source, or */
	struct cap_flowsrc *udp;     /* a flow export listener */
	struct cap_flowtable *flows; /* mirror sources only */
	struct st_flow_producer *flows_out;
	struct st_samples_producer *samples; /* attack sample packets; NULL when off or no packets */
	struct det_counters *sets[MAX_SETS];
	unsigned n_sets;
	struct det_counters *cur;  /* == ahead[head] when spreading */
	/* Flow listeners: ahead[(head + i) % spread_ticks] counts the tick i ticks from now. */
	struct det_counters *ahead[SPREAD_MAX_TICKS];
	unsigned spread_ticks;     /* 1: no spreading, everything counts in the current tick */
	/* When spreading, what counts in this tick only (single-tick records, and each record's
	 * first share) goes to `now`, published beside ahead[head] with the same tick end. `now`
	 * cycles through the main loop every tick, so it carries the engine's latest set of hosts
	 * under attack and their fingerprints start at once; the ring's sets come back to the
	 * front only spread_ticks later, with the set they were given then. */
	struct det_counters *now;
	struct det_counters *held; /* a spare taken when the second one was not there yet */
	unsigned head;
	struct spsc *ready; /* worker -> main: struct rd_tick_msg */
	struct spsc *spare; /* main -> worker: struct det_counters * */

	uint64_t tick_ns;
	uint64_t next_tick_ns; /* capture clock of the next tick boundary; 0 before the first frame */
	uint64_t last_ts_ns;
	struct timespec quiet_since; /* offline: monotonic time the file ended */

	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool finished;

	uint64_t flows_dropped; /* written by the worker only */
	/* det_counters_overflow() of each set, read while the worker owned it */
	uint64_t overflow_seen[MAX_SETS];
	uint64_t overflow_dir_seen[MAX_SETS][DET_DIRECTIONS];

	/* Statistics snapshot, refreshed once per tick; the lock is never taken per packet. */
	pthread_mutex_t stats_lock;
	struct api_source_stats stats;
};

/* The capture clock when no frame says what time it is: wall time for a live link; for a replay
 * that ended, the last frame's time moved on by the wall time since, as if the link went quiet. */
static uint64_t quiet_clock_ns(const struct rd_worker *w)
{
	if (!w->offline)
		return clock_wall_ns();
	return w->last_ts_ns + (clock_mono_ns() - clock_ts_ns(&w->quiet_since));
}

static void export_flow(void *ctx, const struct flow_record *flow)
{
	struct rd_worker *w = ctx;
	if (!st_push_flow(w->flows_out, flow))
		w->flows_dropped++;
}

static void refresh_stats(struct rd_worker *w)
{
	/* static-sized and large (the exporters): built in place under the lock, not on the stack */
	pthread_mutex_lock(&w->stats_lock);
	struct api_source_stats *s = &w->stats;
	memset(s, 0, sizeof *s);
	s->name = w->name;
	if (w->cap)
		cap_src_stats(w->cap, &s->pcap);
	if (w->flows)
		cap_flowtable_stats(w->flows, &s->flows);
	if (w->udp) {
		s->flow = true;
		cap_flowsrc_stats(w->udp, &s->udp);
		s->n_exporters = cap_flowsrc_exporters(w->udp, s->exporters, API_EXPORTERS_SHOWN);
	}
	s->flows_dropped = w->flows_dropped;
	for (unsigned i = 0; i < w->n_sets; i++) {
		bool mine = w->sets[i] == w->cur || w->sets[i] == w->now || w->sets[i] == w->held;
		for (unsigned j = 0; j < w->spread_ticks && !mine; j++)
			mine = w->sets[i] == w->ahead[j];
		if (mine) {
			w->overflow_seen[i] = det_counters_overflow(w->sets[i]);
			for (int d = 0; d < DET_DIRECTIONS; d++)
				w->overflow_dir_seen[i][d] = det_counters_overflow_dir(w->sets[i], (enum det_direction)d);
		}
		s->hosts_overflow += w->overflow_seen[i];
		for (int d = 0; d < DET_DIRECTIONS; d++)
			s->hosts_overflow_dir[d] += w->overflow_dir_seen[i][d];
	}
	s->finished = atomic_load(&w->finished);
	pthread_mutex_unlock(&w->stats_lock);
}

/* Hands the current counters over for the tick ending at end_ns. Returns false, keeping them,
 * when no spare set is free: a live worker then goes on counting into the same set, which the
 * next tick delivers (rates stay right: the engine divides by the time since its last tick). A
 * replay instead waits, so detection comes out the same at any replay speed. */
static bool take_spare(struct rd_worker *w, struct det_counters **out)
{
	if (w->held) {
		*out = w->held;
		w->held = NULL;
		return true;
	}
	return spsc_pop(w->spare, out);
}

/* A listener that spreads: ahead[head] and `now` go out together for the tick; the slot just
 * published becomes the furthest tick ahead. Never waits (a listener is live). */
static bool publish_spread_tick(struct rd_worker *w, uint64_t end_ns)
{
	struct det_counters *a, *b;
	if (!take_spare(w, &a))
		return false;
	if (!take_spare(w, &b)) {
		w->held = a;
		return false;
	}
	refresh_stats(w);
	struct rd_tick_msg m1 = {.counters = w->cur, .tick_end_ns = end_ns};
	struct rd_tick_msg m2 = {.counters = w->now, .tick_end_ns = end_ns};
	/* the ready ring holds every set, so both fit */
	spsc_push(w->ready, &m1);
	spsc_push(w->ready, &m2);
	w->ahead[w->head] = a;
	w->head = (w->head + 1) % w->spread_ticks;
	w->cur = w->ahead[w->head];
	w->now = b;
	uint64_t one = 1;
	ssize_t n = write(w->tick_fd, &one, sizeof one);
	(void)n;
	return true;
}

static bool publish_tick(struct rd_worker *w, uint64_t end_ns)
{
	if (w->now)
		return publish_spread_tick(w, end_ns);
	struct det_counters *next;
	while (!spsc_pop(w->spare, &next)) {
		if (!w->offline || atomic_load(&w->stop))
			return false;
		usleep(100);
	}
	if (w->flows)
		cap_flowtable_expire(w->flows, end_ns, export_flow, w);
	refresh_stats(w);
	struct rd_tick_msg msg = {.counters = w->cur, .tick_end_ns = end_ns};
	if (!spsc_push(w->ready, &msg)) {
		/* cannot happen: the ring holds every set; keep counting rather than lose counts */
		spsc_push(w->spare, &next);
		return false;
	}
	w->cur = next;
	uint64_t one = 1;
	ssize_t n = write(w->tick_fd, &one, sizeof one);
	(void)n; /* the counter only wakes the loop; a full eventfd is already awake */
	return true;
}

/* Publishes every tick boundary up to now_ns. */
static void advance_clock(struct rd_worker *w, uint64_t now_ns)
{
	if (w->next_tick_ns == 0)
		w->next_tick_ns = (now_ns / w->tick_ns + 1) * w->tick_ns;
	unsigned empty = 0;
	while (now_ns >= w->next_tick_ns) {
		if (++empty > MAX_EMPTY_TICKS)
			w->next_tick_ns = now_ns / w->tick_ns * w->tick_ns;
		if (!publish_tick(w, w->next_tick_ns) && !w->offline)
			return;
		w->next_tick_ns += w->tick_ns;
	}
}

/* The frame of a record whose host is under attack goes to the attack's pcap. The set that r was
 * counted in holds the engine's latest hosts under attack. */
static inline void sample(struct rd_worker *w, const struct det_counters *c, const struct flow_record *r,
			  const struct cap_frame *f)
{
	if (!w->samples)
		return;
	enum det_direction dir;
	uint64_t id = det_counters_attack_of(c, r, &dir);
	if (id)
		st_samples_sample(w->samples, id, dir, r, f);
}

static void on_record(void *ctx, const struct flow_record *r)
{
	struct rd_worker *w = ctx;
	if (r->start_ns >= w->next_tick_ns)
		advance_clock(w, r->start_ns);
	w->last_ts_ns = r->start_ns;
	bool new_flow = cap_flowtable_add(w->flows, r, export_flow, w);
	det_counters_add(w->cur, r, new_flow ? 1 : 0);
	sample(w, w->cur, r, cap_src_frame(w->cap));
}

/* An exported flow (or an sFlow sample): counted as it is, the counters scaling by its sampling
 * rate, and stored raw with the rate. A NetFlow/IPFIX record is one flow; an sFlow sample is one
 * sampled packet, not a new flow, so sFlow adds nothing to flows/s. Its packets are counted at
 * the pace the record says they came, over the ticks ahead (det_spread_plan). */
static void on_exported(void *ctx, const struct flow_record *r)
{
	struct rd_worker *w = ctx;
	if (!st_push_flow(w->flows_out, r))
		w->flows_dropped++;
	uint32_t flows = r->source == FLOW_SRC_SFLOW ? 0 : 1;
	struct det_spread s = det_spread_plan(r, w->tick_ns, w->spread_ticks, SPREAD_DEPOSITS);
	struct det_counters *now = w->now ? w->now : w->cur;
	if (r->source == FLOW_SRC_SFLOW)
		sample(w, now, r, cap_flowsrc_frame(w->udp));
	if (s.parts <= 1) {
		det_counters_add(now, r, flows);
		return;
	}
	struct flow_record part;
	/* share 0 (offset 0) is this tick's and carries the flow; the rest go to the ring ahead */
	det_spread_part(&s, r, 0, &part);
	det_counters_add(now, &part, flows);
	for (uint64_t j = 1; j < s.parts; j++) {
		uint64_t ahead = det_spread_part(&s, r, j, &part);
		det_counters_add(w->ahead[(w->head + ahead) % w->spread_ticks], &part, 0);
	}
}

/* A listener's loop: batches while datagrams wait, ticks by the wall clock between batches, and
 * sleeps in poll() at most until the next tick when the socket is empty. */
static void *listener_main(struct rd_worker *w)
{
	char err[256];
	log_info("%s: listening", w->name);
	while (!atomic_load(&w->stop)) {
		uint64_t now = clock_wall_ns();
		if (w->next_tick_ns == 0 || now >= w->next_tick_ns)
			advance_clock(w, now);
		uint64_t recv_ns;
		int n = cap_flowsrc_dispatch(w->udp, on_exported, w, &recv_ns, err, sizeof err);
		if (n > 0)
			continue;
		if (n < 0) {
			log_err("%s", err);
			usleep(100000); /* a socket error is not a reason to spin */
			continue;
		}
		now = clock_wall_ns();
		uint64_t wait_ns = w->next_tick_ns > now ? w->next_tick_ns - now : 0;
		/* at least 1 ms: a tick that could not be handed over (the main loop is behind) must
		 * not turn this into a busy loop; a datagram still wakes us at once */
		int ms = (int)((wait_ns + 999999) / 1000000);
		cap_flowsrc_wait(w->udp, ms < 1 ? 1 : ms);
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	struct rd_worker *w = arg;
	if (w->udp)
		return listener_main(w);
	char err[256];
	bool quiet = false;
	/* "rampart-cap3": a thread's name in top -H, ps -L and /proc (15 bytes at most) */
	char tname[16];
	snprintf(tname, sizeof tname, "rampart-cap%u", w->idx);
	pthread_setname_np(pthread_self(), tname);
	if (w->src.cap.pinned)
		log_info("%s: capturing on CPU %u (%s)", w->name, w->src.cap.cpu, w->src.cap.cpu_key);
	else
		log_info("%s: capturing", w->name);
	while (!atomic_load(&w->stop)) {
		if (!quiet) {
			int n = cap_src_dispatch(w->cap, 512, on_record, w, err, sizeof err);
			if (n < 0) {
				if (w->offline) {
					struct cap_src_stats st;
					cap_src_stats(w->cap, &st);
					log_info("%s: replay finished: %llu frames, %llu decoded; the clock goes on "
						 "from the capture's last timestamp",
						 w->name, (unsigned long long)st.frames,
						 (unsigned long long)st.decode[CAP_DECODE_OK]);
				} else {
					log_err("%s: capture stopped: %s", w->name, err);
				}
				/* no packet will continue these flows: their rows go to storage now, not
				 * at shutdown, so a replay's flows are stored while the daemon runs on */
				if (w->flows)
					cap_flowtable_flush(w->flows, export_flow, w);
				clock_gettime(CLOCK_MONOTONIC, &w->quiet_since);
				atomic_store(&w->finished, true);
				refresh_stats(w);
				quiet = true;
			} else if (n > 0) {
				continue;
			}
		}
		/* Nothing read: the link is quiet (or the replay is over), so time moves by the clock. */
		uint64_t now = quiet_clock_ns(w);
		if (w->next_tick_ns == 0 || now >= w->next_tick_ns)
			advance_clock(w, now);
		if (quiet) {
			uint64_t wait_ns = w->next_tick_ns > now ? w->next_tick_ns - now : 0;
			if (wait_ns > w->tick_ns)
				wait_ns = w->tick_ns;
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait_ns};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

struct rd_worker *rd_worker_new(const struct rd_worker_deps *d, unsigned idx, const struct conf_source *src,
				char *err, size_t errlen)
{
	struct rd_worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->tick_fd = d->tick_fd;
	w->idx = idx;
	w->src = *src;
	w->tick_ns = (uint64_t)d->conf->detect.tick_ms * 1000000ull;
	pthread_mutex_init(&w->stats_lock, NULL);
	if (src->listen && src->listen_workers > 1)
		snprintf(w->name, sizeof w->name, "%s %s #%u", cap_flow_proto_name(src->flow_proto), src->listen,
			 src->listen_worker + 1);
	else if (src->listen)
		snprintf(w->name, sizeof w->name, "%s %s", cap_flow_proto_name(src->flow_proto), src->listen);

	const struct conf_capture *cc = &d->conf->capture;
	if (src->listen) {
		struct cap_flow_config fcfg;
		conf_flow_config(cc, src->flow_proto, &fcfg);
		w->udp = cap_flowsrc_open(src->flow_proto, src->listen, cc->udp_rcvbuf, &fcfg, err, errlen);
		if (!w->udp)
			goto fail;
	} else {
		/* err names the configuration key, the interface and the reason */
		if (!(w->cap = cap_src_open(&src->cap, err, errlen)))
			goto fail;
		snprintf(w->name, sizeof w->name, "%s", cap_src_name(w->cap));
		/* a replay (a file, or a port reading one) runs on its own clock and waits for the main loop */
		w->offline = !cap_src_live(w->cap);
	}
	if (w->cap)
		w->flows = cap_flowtable_new(cc->flow_table_size, cc->flow_active_timeout_s, cc->flow_inactive_timeout_s);
	w->flows_out = st_writer_flow_producer(d->storage, idx);
	/* sample packets: mirror frames and sFlow headers; NetFlow/IPFIX records carry none */
	if (d->samples && (w->cap || src->flow_proto == CAP_FLOW_PROTO_SFLOW) &&
	    !(w->samples = st_samples_producer(d->samples, idx))) {
		snprintf(err, errlen, "%s: out of memory for the attack sample ring", w->name);
		goto fail;
	}
	w->spread_ticks = 1;
	if (w->udp) {
		uint64_t t = ((uint64_t)cc->flow_spread_s * 1000 + d->conf->detect.tick_ms - 1) / d->conf->detect.tick_ms;
		w->spread_ticks = t < 1 ? 1 : t > SPREAD_MAX_TICKS ? SPREAD_MAX_TICKS : (unsigned)t;
	}
	w->n_sets = w->spread_ticks > 1 ? w->spread_ticks + 1 + SPREAD_SPARES : COUNTER_SETS;
	w->ready = spsc_new(w->n_sets + 1, sizeof(struct rd_tick_msg));
	w->spare = spsc_new(w->n_sets + 1, sizeof(struct det_counters *));
	if ((w->cap && !w->flows) || !w->flows_out || !w->ready || !w->spare) {
		snprintf(err, errlen, "%s: out of memory", w->name);
		goto fail;
	}
	for (unsigned i = 0; i < w->n_sets; i++) {
		w->sets[i] = det_counters_new(d->networks, d->conf->detect.max_hosts);
		if (!w->sets[i]) {
			snprintf(err, errlen, "%s: out of memory for host counters", w->name);
			goto fail;
		}
		if (i < w->spread_ticks)
			w->ahead[i] = w->sets[i];
		else if (i == w->spread_ticks && w->spread_ticks > 1)
			w->now = w->sets[i];
		else
			spsc_push(w->spare, &w->sets[i]);
	}
	w->cur = w->sets[0];
	refresh_stats(w);
	return w;
fail:
	rd_worker_free(w);
	return NULL;
}

int rd_worker_start(struct rd_worker *w, char *err, size_t errlen)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	const struct cap_src_spec *cs = &w->src.cap;
	if (w->src.mirror && cs->pinned) {
		/* set before the thread runs, so no frame is read on another CPU */
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cs->cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof set, &set);
	}
	int rc = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (rc != 0 && w->src.mirror && cs->pinned) {
		snprintf(err, errlen, "%s: %s: cannot run on CPU %u: %s (offline, or outside the daemon's cgroup "
			 "cpuset: the unit's AllowedCPUs=)", cs->cpu_key, w->name, cs->cpu, strerror(rc));
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot start thread: %s", w->name, strerror(rc));
		return -1;
	}
	w->started = true;
	return 0;
}

void rd_worker_stop(struct rd_worker *w)
{
	if (!w || !w->started)
		return;
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	w->started = false;
	if (w->flows)
		cap_flowtable_flush(w->flows, export_flow, w);
	refresh_stats(w);
}

void rd_worker_free(struct rd_worker *w)
{
	if (!w)
		return;
	rd_worker_stop(w);
	cap_src_close(w->cap);
	cap_flowsrc_close(w->udp);
	if (w->flows)
		cap_flowtable_free(w->flows);
	for (unsigned i = 0; i < MAX_SETS; i++)
		if (w->sets[i])
			det_counters_free(w->sets[i]);
	spsc_free(w->ready);
	spsc_free(w->spare);
	pthread_mutex_destroy(&w->stats_lock);
	free(w);
}

bool rd_worker_poll(struct rd_worker *w, struct rd_tick_msg *msg)
{
	return spsc_pop(w->ready, msg);
}

void rd_worker_return(struct rd_worker *w, struct det_counters *c)
{
	det_counters_clear(c);
	spsc_push(w->spare, &c);
}

bool rd_worker_counts_with(const struct rd_worker *w, const struct det_networks *nets)
{
	for (unsigned i = 0; i < w->n_sets; i++)
		if (w->sets[i] && det_counters_networks(w->sets[i]) == nets)
			return true;
	return false;
}

void rd_worker_stats(struct rd_worker *w, struct api_source_stats *out)
{
	pthread_mutex_lock(&w->stats_lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->stats_lock);
}
