/* The storage thread: drains the producers' rings into one batch per table, and writes a batch
 * when it has batch_rows rows or its oldest row is batch_ms old.
 *
 * Producers (capture workers, the main loop) only ever touch their own ring and their own drop
 * counter: no lock, no atomic read-modify-write, no allocation, no wake-up call. The thread
 * polls instead: when a pass finds nothing to do it sleeps IDLE_SLEEP_NS, so a row waits at
 * most that long before it is encoded, and an idle daemon costs a few hundred wake-ups a second.
 *
 * A failed write keeps its batch and retries with exponential backoff. Meanwhile that table's
 * rings are not drained: they fill, and producers count drops. Memory stays what st_writer_new
 * allocated. At stop, everything queued is written; if ClickHouse still fails after
 * STOP_RETRY_MS, what is left is spooled to RowBinary files in cfg->dir instead of lost. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "../lib/spsc.h"
#include "st_int.h"

#define IDLE_SLEEP_NS 2000000L /* 2 ms */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define STOP_RETRY_MS 10000
/* Events are rare and a row is ~300 bytes: smaller ring and batch than for flows. */
#define EVENT_QUEUE_MAX 16384
#define EVENT_BATCH_MAX 4096

/* One per capture worker, on its own cache lines: the worker writes dropped, nobody else does. */
struct st_flow_producer {
	_Alignas(64) struct spsc *ring;
	uint64_t dropped;              /* the producer's own count */
	_Atomic uint64_t dropped_pub;  /* the same, published with a relaxed store for stats */
};

struct batch {
	uint8_t *buf;
	struct wbuf w;
	uint32_t rows;
	uint32_t max_rows;
	uint64_t first_ms;   /* when the oldest row came in */
	bool pending;        /* a write failed: retry at retry_ms, take no new rows until then */
	uint64_t retry_ms;
	uint32_t backoff_ms;
	uint32_t failures;   /* in a row, for the "back after" line */
};

struct st_writer {
	struct st_config cfg;
	unsigned n_prod;
	struct st_flow_producer *prod;
	struct spsc *events;
	uint64_t ev_dropped;           /* main loop's own count */
	_Atomic uint64_t ev_dropped_pub;

	/* storage thread only */
	struct batch batch[ST_NTABLES];
	struct st_ch *ch;
	bool schema_ready;
	struct st_files *files;        /* file output, or the spool at stop */
	bool spool;                    /* stop gave up on ClickHouse: write files instead */
	unsigned next_prod;            /* round-robin start, so one busy worker cannot starve others */

	pthread_t thread;
	bool started;
	_Atomic bool stop;
	_Atomic uint64_t written[ST_NTABLES];
	_Atomic uint64_t lost[ST_NTABLES]; /* rows neither ClickHouse nor the spool took, at stop */
	_Atomic uint64_t batches_failed;
	pthread_mutex_t err_lock;      /* last_error: written by the thread, read by stats */
	char last_error[160];
	char destination[400];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_error(struct st_writer *w, const char *msg)
{
	size_t n = strnlen(msg, sizeof w->last_error - 1); /* truncation is fine: it is a summary */
	pthread_mutex_lock(&w->err_lock);
	memcpy(w->last_error, msg, n);
	w->last_error[n] = '\0';
	pthread_mutex_unlock(&w->err_lock);
}

static int batch_init(struct batch *b, uint32_t rows, size_t row_bytes)
{
	b->max_rows = rows;
	b->buf = malloc((size_t)rows * row_bytes);
	if (!b->buf)
		return -1;
	b->w = wbuf_init(b->buf, (size_t)rows * row_bytes);
	return 0;
}

static void batch_reset(struct batch *b)
{
	b->w.len = 0;
	b->w.err = false;
	b->rows = 0;
	b->pending = false;
	b->backoff_ms = 0;
	b->failures = 0;
}

struct st_writer *st_writer_new(const struct st_config *cfg, unsigned n_flow_producers, char *err,
				size_t errlen)
{
	if (n_flow_producers == 0 || n_flow_producers > 1024) {
		snprintf(err, errlen, "%u flow producers: want 1..1024", n_flow_producers);
		return NULL;
	}
	struct st_writer *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	pthread_mutex_init(&w->err_lock, NULL);
	if (st_config_check(&w->cfg, err, errlen) != 0)
		goto fail;
	w->n_prod = n_flow_producers;
	w->prod = aligned_alloc(64, n_flow_producers * sizeof *w->prod);
	if (!w->prod)
		goto oom;
	memset(w->prod, 0, n_flow_producers * sizeof *w->prod);
	for (unsigned i = 0; i < n_flow_producers; i++)
		if (!(w->prod[i].ring = spsc_new(w->cfg.queue_rows, sizeof(struct flow_record))))
			goto oom;
	uint32_t evq = w->cfg.queue_rows < EVENT_QUEUE_MAX ? w->cfg.queue_rows : EVENT_QUEUE_MAX;
	if (!(w->events = spsc_new(evq, sizeof(struct st_attack_event))))
		goto oom;
	uint32_t evb = w->cfg.batch_rows < EVENT_BATCH_MAX ? w->cfg.batch_rows : EVENT_BATCH_MAX;
	if (batch_init(&w->batch[ST_FLOWS], w->cfg.batch_rows, ST_FLOW_ROW_BYTES) != 0 ||
	    batch_init(&w->batch[ST_EVENTS], evb, ST_EVENT_ROW_MAX) != 0)
		goto oom;
	if (w->cfg.clickhouse_url[0])
		snprintf(w->destination, sizeof w->destination, "ClickHouse %s database %s%s%s",
			 w->cfg.clickhouse_url, w->cfg.database, w->cfg.user[0] ? " user " : "", w->cfg.user);
	else
		snprintf(w->destination, sizeof w->destination,
			 "files in %s (flows-YYYYMMDDHH.rowbinary, attack_events-YYYYMMDDHH.rowbinary, schema.sql)",
			 w->cfg.dir);
	return w;
oom:
	snprintf(err, errlen, "out of memory for %u rings of %u rows and batches of %u rows",
		 n_flow_producers, w->cfg.queue_rows, w->cfg.batch_rows);
fail:
	st_writer_free(w);
	return NULL;
}

void st_writer_free(struct st_writer *w)
{
	if (!w)
		return;
	if (w->started)
		st_writer_stop(w);
	for (unsigned i = 0; w->prod && i < w->n_prod; i++)
		spsc_free(w->prod[i].ring);
	free(w->prod);
	spsc_free(w->events);
	for (int t = 0; t < ST_NTABLES; t++)
		free(w->batch[t].buf);
	st_ch_free(w->ch);
	st_files_free(w->files);
	pthread_mutex_destroy(&w->err_lock);
	free(w);
}

struct st_flow_producer *st_writer_flow_producer(struct st_writer *w, unsigned idx)
{
	return idx < w->n_prod ? &w->prod[idx] : NULL;
}

bool st_push_flow(struct st_flow_producer *p, const struct flow_record *r)
{
	if (spsc_push(p->ring, r))
		return true;
	p->dropped++;
	atomic_store_explicit(&p->dropped_pub, p->dropped, memory_order_relaxed);
	return false;
}

bool st_push_event(struct st_writer *w, const struct st_attack_event *ev)
{
	if (spsc_push(w->events, ev))
		return true;
	w->ev_dropped++;
	atomic_store_explicit(&w->ev_dropped_pub, w->ev_dropped, memory_order_relaxed);
	return false;
}

/* ---- the storage thread ---------------------------------------------------------------- */

/* Moves rows from the rings into the table's batch until the rings are empty or the batch is
 * full; encodes straight from the ring slot. Returns the rows moved. */
static size_t drain_flows(struct st_writer *w, uint64_t now)
{
	struct batch *b = &w->batch[ST_FLOWS];
	size_t moved = 0;
	if (b->pending)
		return 0;
	for (unsigned k = 0; k < w->n_prod && b->rows < b->max_rows; k++) {
		struct spsc *q = w->prod[(w->next_prod + k) % w->n_prod].ring;
		const struct flow_record *r;
		while (b->rows < b->max_rows && (r = spsc_peek(q))) {
			if (b->rows == 0)
				b->first_ms = now;
			st_rowbinary_flow(&b->w, r);
			spsc_pop_commit(q);
			b->rows++;
			moved++;
		}
	}
	w->next_prod = (w->next_prod + 1) % w->n_prod;
	return moved;
}

static size_t drain_events(struct st_writer *w, uint64_t now)
{
	struct batch *b = &w->batch[ST_EVENTS];
	size_t moved = 0;
	const struct st_attack_event *ev;
	while (!b->pending && b->rows < b->max_rows && (ev = spsc_peek(w->events))) {
		if (b->rows == 0)
			b->first_ms = now;
		st_rowbinary_event(&b->w, ev);
		spsc_pop_commit(w->events);
		b->rows++;
		moved++;
	}
	return moved;
}

static int write_batch(struct st_writer *w, enum st_table t, char *err, size_t errlen)
{
	struct batch *b = &w->batch[t];
	if (b->w.err) { /* cannot happen: buffers hold max_rows of the largest row */
		snprintf(err, errlen, "%s batch overflowed (internal)", st_table_name[t]);
		return -1;
	}
	if (w->files)
		return st_files_write(w->files, t, b->buf, b->w.len, err, errlen);
	if (!w->schema_ready) {
		if (st_ch_prepare(w->ch, err, errlen) != 0)
			return -1;
		w->schema_ready = true;
		log_info("storage: ClickHouse %s at %s, tables %s.flows and %s.attack_events ready",
			 st_ch_version(w->ch), w->cfg.clickhouse_url, w->cfg.database, w->cfg.database);
	}
	if (st_ch_insert(w->ch, t, b->buf, b->w.len, err, errlen) != 0) {
		/* the table may have been dropped or the server replaced: recreate before retrying */
		w->schema_ready = false;
		return -1;
	}
	return 0;
}

static void flush(struct st_writer *w, enum st_table t, uint64_t now)
{
	struct batch *b = &w->batch[t];
	char err[200];
	if (write_batch(w, t, err, sizeof err) == 0) {
		if (b->failures)
			log_info("storage: %s written again after %u failed attempts", st_table_name[t],
				 b->failures);
		atomic_store_explicit(&w->written[t],
				      atomic_load_explicit(&w->written[t], memory_order_relaxed) + b->rows,
				      memory_order_relaxed);
		batch_reset(b);
		return;
	}
	atomic_fetch_add_explicit(&w->batches_failed, 1, memory_order_relaxed);
	set_error(w, err);
	if (b->failures++ == 0)
		log_warn("storage: writing %u %s rows failed, keeping them and retrying: %s", b->rows,
			 st_table_name[t], err);
	b->pending = true;
	b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (b->backoff_ms > BACKOFF_MAX_MS)
		b->backoff_ms = BACKOFF_MAX_MS;
	b->retry_ms = now + b->backoff_ms;
}

static bool rings_empty(struct st_writer *w)
{
	for (unsigned i = 0; i < w->n_prod; i++)
		if (spsc_peek(w->prod[i].ring))
			return false;
	return spsc_peek(w->events) == NULL;
}

/* Stop could not reach ClickHouse: the rest goes to files, which ClickHouse loads later. */
static void start_spool(struct st_writer *w)
{
	char err[200];
	w->spool = true;
	w->files = st_files_new(w->cfg.dir, w->cfg.database, err, sizeof err);
	if (w->files) {
		log_warn("storage: ClickHouse still failing at stop; spooling the remaining rows to %s "
			 "(load them with the commands in %s/schema.sql)", w->cfg.dir, w->cfg.dir);
		for (int t = 0; t < ST_NTABLES; t++)
			w->batch[t].pending = false; /* retry now, into the files */
	}
	else
		log_err("storage: ClickHouse still failing at stop and no spool either (%s)", err);
}

/* Everything left when neither ClickHouse nor the spool takes it: counted, not silent. */
static void give_up(struct st_writer *w)
{
	uint64_t n[ST_NTABLES];
	for (int t = 0; t < ST_NTABLES; t++)
		n[t] = w->batch[t].rows;
	for (unsigned i = 0; i < w->n_prod; i++)
		while (spsc_pop(w->prod[i].ring, &(struct flow_record){0}))
			n[ST_FLOWS]++;
	while (spsc_pop(w->events, &(struct st_attack_event){0}))
		n[ST_EVENTS]++;
	for (int t = 0; t < ST_NTABLES; t++)
		atomic_store_explicit(&w->lost[t], n[t], memory_order_relaxed);
	log_err("storage: %llu flow rows and %llu events could not be written anywhere and are lost",
		(unsigned long long)n[ST_FLOWS], (unsigned long long)n[ST_EVENTS]);
}

static void *run(void *arg)
{
	struct st_writer *w = arg;
	uint64_t stop_deadline = 0;
	for (;;) {
		bool stopping = atomic_load_explicit(&w->stop, memory_order_acquire);
		uint64_t now = now_ms();
		size_t moved = drain_flows(w, now) + drain_events(w, now);
		bool wrote = false;
		now = now_ms();
		for (int t = 0; t < ST_NTABLES; t++) {
			struct batch *b = &w->batch[t];
			if (!b->rows)
				continue;
			bool due = b->pending ? now >= b->retry_ms
					      : (b->rows >= b->max_rows || now - b->first_ms >= w->cfg.batch_ms ||
						 stopping);
			if (due) {
				flush(w, (enum st_table)t, now);
				wrote = true;
			}
		}
		if (stopping) {
			bool idle = rings_empty(w);
			for (int t = 0; t < ST_NTABLES; t++)
				idle = idle && w->batch[t].rows == 0;
			if (idle)
				break;
			if (!stop_deadline)
				stop_deadline = now + STOP_RETRY_MS;
			if (now >= stop_deadline) {
				/* ClickHouse gets one more chance through the spool; files get none */
				if (w->ch && !w->spool) {
					start_spool(w);
					stop_deadline = now + STOP_RETRY_MS;
				}
				if (!w->files || now >= stop_deadline) {
					give_up(w);
					break;
				}
			}
		}
		if (!moved && !wrote)
			nanosleep(&(struct timespec){.tv_nsec = IDLE_SLEEP_NS}, NULL);
	}
	return NULL;
}

int st_writer_start(struct st_writer *w, char *err, size_t errlen)
{
	if (w->started) {
		snprintf(err, errlen, "storage writer already started");
		return -1;
	}
	if (w->cfg.clickhouse_url[0]) {
		if (!(w->ch = st_ch_new(&w->cfg, err, errlen)))
			return -1;
		char e[200];
		if (st_ch_prepare(w->ch, e, sizeof e) == 0) {
			w->schema_ready = true;
			log_info("storage: ClickHouse %s at %s, tables %s.flows and %s.attack_events ready",
				 st_ch_version(w->ch), w->cfg.clickhouse_url, w->cfg.database, w->cfg.database);
		} else {
			set_error(w, e);
			log_warn("storage: ClickHouse not ready (%s); rows are queued and the writer keeps "
				 "retrying", e);
		}
	} else if (!(w->files = st_files_new(w->cfg.dir, w->cfg.database, err, errlen))) {
		return -1;
	}
	atomic_store(&w->stop, false);
	int rc = pthread_create(&w->thread, NULL, run, w);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the storage thread: %s", strerror(rc));
		return -1;
	}
	w->started = true;
	return 0;
}

void st_writer_stop(struct st_writer *w)
{
	if (!w->started)
		return;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void st_writer_stats(struct st_writer *w, struct st_stats *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned i = 0; i < w->n_prod; i++) {
		/* a ring's head counts every push it accepted */
		out->flows_queued += atomic_load_explicit(&w->prod[i].ring->head, memory_order_relaxed);
		out->flows_dropped += atomic_load_explicit(&w->prod[i].dropped_pub, memory_order_relaxed);
	}
	out->events_queued = atomic_load_explicit(&w->events->head, memory_order_relaxed);
	out->events_dropped = atomic_load_explicit(&w->ev_dropped_pub, memory_order_relaxed);
	out->flows_written = atomic_load_explicit(&w->written[ST_FLOWS], memory_order_relaxed);
	out->events_written = atomic_load_explicit(&w->written[ST_EVENTS], memory_order_relaxed);
	out->flows_lost = atomic_load_explicit(&w->lost[ST_FLOWS], memory_order_relaxed);
	out->events_lost = atomic_load_explicit(&w->lost[ST_EVENTS], memory_order_relaxed);
	out->batches_failed = atomic_load_explicit(&w->batches_failed, memory_order_relaxed);
	pthread_mutex_lock(&w->err_lock);
	snprintf(out->last_error, sizeof out->last_error, "%s", w->last_error);
	pthread_mutex_unlock(&w->err_lock);
	out->clickhouse = w->cfg.clickhouse_url[0] != '\0';
}

const char *st_writer_destination(const struct st_writer *w)
{
	return w->destination;
}
