/* The storage thread: drains the producers' rings into one batch per table, and writes a batch
 * when it has batch_rows rows or its oldest row is batch_ms old.
 *
 * Producers (capture workers, the main loop) only ever touch their own ring and their own drop
 * counter: no lock, no atomic read-modify-write, no allocation, no wake-up call. The thread
 * polls instead: when a pass finds nothing to do it sleeps, 2 ms after a busy pass and twice as
 * long after each idle one up to 32 ms, so a row waits at most that long before it is encoded
 * (the rings hold far more than 32 ms of rows at full rate), and an idle daemon costs about 30
 * wake-ups a second instead of 500.
 *
 * Every batch has an id (a random per-start prefix and a counter) stamped into each row's
 * batch_id column; ClickHouse's materialized views record stored ids in db.batches.
 *
 * With ClickHouse: a batch whose post fails goes to the disk spool (spool.c) at once, and the
 * writer keeps draining the rings, so memory stays what st_writer_new allocated and the rings
 * never back up. While ClickHouse is down, new batches go straight to the spool and a probe
 * (SELECT 1, backoff 100 ms doubling to 500 ms) watches for its return. Once it answers, live
 * batches are posted as before and, between them, one spooled batch per pass is replayed,
 * oldest first. A batch whose post had an unknown outcome (timeout, reset, error status) is
 * looked up in the ledger first and skipped when ClickHouse already has it: no duplicates.
 * Rows are dropped only when the spool's byte budget is exhausted, counted and logged.
 *
 * Files only (no ClickHouse): a failed write keeps its batch and retries with backoff; the
 * rings fill meanwhile and producers count drops. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../lib/clock.h"
#include "writer_int.h"

#define IDLE_SLEEP_NS 2000000L      /* 2 ms after a pass that found work */
#define IDLE_SLEEP_MAX_NS 32000000L /* the longest nap when nothing comes */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* How long a stop may wait on ClickHouse (slow, hung): then what is queued is spooled, inserts
 * still in flight are spooled as unknown (the ledger dedups them on replay), and only what the
 * spool cannot take is counted lost. With ClickHouse down nothing is waited for at all. The
 * cost: an insert ClickHouse would have answered a little later is replayed at the next start
 * (one ledger lookup). 250 ms leaves the rest of a 1 s stop budget to spooling on a busy disk
 * and to the daemon's other stops. */
#define STOP_RETRY_MS 250
/* Inserts in flight and none answered for this long: ClickHouse is hung (SIGSTOP, a dead host
 * behind a live TCP peer), and a stop does not wait for it at all. A healthy server answers a
 * batch in tens of ms; one under load that takes longer only has its insert spooled as unknown. */
#define HUNG_MS 150
#define STR_(x) #x
#define STR(x) STR_(x)
/* SELECT 1 while ClickHouse is down: cheap, and every probe interval is rows spooled (or, past
 * the budget, dropped) after it is back */
#define PROBE_MAX_MS 500
#define RETENTION_EVERY_MS (3600 * 1000)

static void set_error(struct st_writer *w, const char *msg)
{
	size_t n = strnlen(msg, sizeof w->last_error - 1); /* truncation is fine: it is a summary */
	pthread_mutex_lock(&w->err_lock);
	memcpy(w->last_error, msg, n);
	w->last_error[n] = '\0';
	pthread_mutex_unlock(&w->err_lock);
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

/* ---- the storage thread ---------------------------------------------------------------- */

static void batch_open(struct st_writer *w, struct batch *b, uint64_t now)
{
	b->first_ms = now;
	b->id = w->id_prefix | ++w->id_seq;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
	/* one writer (this thread): a load and a store, no read-modify-write needed */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

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
				batch_open(w, b, now);
			st_rowbinary_flow(&b->w, r);
			wbuf_le64(&b->w, b->id);
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
			batch_open(w, b, now);
		st_rowbinary_event(&b->w, ev);
		wbuf_le64(&b->w, b->id);
		spsc_pop_commit(w->events);
		b->rows++;
		moved++;
	}
	return moved;
}

static size_t drain_ops(struct st_writer *w, uint64_t now)
{
	struct batch *b = &w->batch[ST_OPS];
	size_t moved = 0;
	const struct st_operator_event *ev;
	while (!b->pending && b->rows < b->max_rows && (ev = spsc_peek(w->ops))) {
		if (b->rows == 0)
			batch_open(w, b, now);
		st_rowbinary_operator_event(&b->w, ev);
		wbuf_le64(&b->w, b->id);
		spsc_pop_commit(w->ops);
		b->rows++;
		moved++;
	}
	return moved;
}

/* ---- files only ---- */

static void files_flush(struct st_writer *w, enum st_table t, uint64_t now)
{
	struct batch *b = &w->batch[t];
	char err[200];
	if (st_files_write(w->files, t, b->buf, b->w.len, err, sizeof err) == 0) {
		if (b->failures)
			log_info("storage: %s written again after %u failed attempts", st_table_name[t],
				 b->failures);
		add(&w->written[t], b->rows);
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

/* ---- ClickHouse, the spool, replay ---- */

static void publish_spool(struct st_writer *w)
{
	atomic_store_explicit(&w->spool_bytes, st_spool_bytes(w->spool), memory_order_relaxed);
	atomic_store_explicit(&w->spool_batches, st_spool_count(w->spool), memory_order_relaxed);
}

static void went_down(struct st_writer *w, uint64_t now, const char *err)
{
	atomic_fetch_add_explicit(&w->batches_failed, 1, memory_order_relaxed);
	set_error(w, err);
	if (!w->down) {
		log_warn("storage: ClickHouse failed (%s); spooling batches to %s (budget %" PRIu64
			 " bytes) until it answers again", err, w->cfg.spool_dir, w->cfg.spool_max_bytes);
		w->down = true;
		w->down_since_ms = now;
		w->probe_backoff_ms = 0;
		atomic_store_explicit(&w->down_pub, true, memory_order_relaxed);
	}
	w->probe_backoff_ms = w->probe_backoff_ms ? w->probe_backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->probe_backoff_ms > PROBE_MAX_MS)
		w->probe_backoff_ms = PROBE_MAX_MS;
	w->probe_ms = now + w->probe_backoff_ms;
}

/* The server answers SELECT 1: run the migrations (it may be a new, empty server) and go on. */
static void probe(struct st_writer *w, uint64_t now)
{
	char err[200];
	if (st_ch_probe(w->ch, err, sizeof err) != 0 || st_ch_prepare(w->ch, err, sizeof err) != 0) {
		went_down(w, now, err);
		return;
	}
	w->schema_ready = true;
	w->down = false;
	atomic_store_explicit(&w->down_pub, false, memory_order_relaxed);
	log_info("storage: ClickHouse %s answers again after %.1f s; replaying %" PRIu64
		 " spooled batches (%" PRIu64 " bytes)", st_ch_version(w->ch),
		 (double)(now - w->down_since_ms) / 1000, st_spool_count(w->spool), st_spool_bytes(w->spool));
}

/* At stop the spool defers its fsyncs (st_spool_defer_sync): the batches it took are made
 * durable here, together; those it then could not keep move from spooled to spool_dropped. */
static void spool_sync(struct st_writer *w)
{
	uint64_t lost[ST_NTABLES] = {0};
	char err[200];
	uint64_t t0 = clock_mono_ms();
	unsigned failed = st_spool_sync(w->spool, lost, err, sizeof err);
	w->stop_cost.spool_ms += clock_mono_ms() - t0;
	if (failed) {
		set_error(w, err);
		log_err("storage: %u spooled batches could not be synced at stop and are DROPPED (%" PRIu64
			" flow rows, %" PRIu64 " events, %" PRIu64 " operator events; counted in spool_dropped): %s",
			failed, lost[ST_FLOWS], lost[ST_EVENTS], lost[ST_OPS], err);
		for (int t = 0; t < ST_NTABLES; t++) {
			add(&w->spooled[t], -lost[t]);
			add(&w->spool_dropped[t], lost[t]);
		}
	}
	publish_spool(w);
}

static void spool_body(struct st_writer *w, enum st_table t, uint64_t id, uint32_t rows, bool unknown,
		       const uint8_t *body, size_t len)
{
	char err[200];
	if (st_spool_pending(w->spool) == ST_SPOOL_PENDING_MAX)
		spool_sync(w);
	uint64_t t0 = w->stop_cost.asked_ms ? clock_mono_ms() : 0;
	int rc = st_spool_put(w->spool, t, id, rows, unknown, body, len, err, sizeof err);
	if (t0) {
		w->stop_cost.spool_ms += clock_mono_ms() - t0;
		w->stop_cost.spooled++;
		w->stop_cost.spool_bytes += len;
	}
	if (rc == 0) {
		add(&w->spooled[t], rows);
		if (w->drop_episode) {
			log_err("storage: the spool takes batches again; %" PRIu64 " rows were DROPPED while it "
				"could not", w->drop_episode);
			w->drop_episode = 0;
		}
	} else if (unknown && st_doubt_add(&w->doubt, t, id, rows, body, len)) {
		add(&w->in_doubt[t], rows);
		set_error(w, err);
		log_warn("storage: %s batch %016" PRIx64 " (%u rows) is in doubt: its insert got no answer and "
			 "the spool cannot take it (%s); ClickHouse is asked whether it has it once it answers",
			 st_table_name[t], id, rows, err);
	} else {
		add(&w->spool_dropped[t], rows);
		set_error(w, err);
		if (w->drop_episode == 0)
			log_err("storage: DROPPING rows: ClickHouse is down and %s; raise storage.spool_max_bytes "
				"or free the disk (%u %s rows in this batch, counted in spool_dropped)", err, rows,
				st_table_name[t]);
		w->drop_episode += rows;
	}
	publish_spool(w);
}

/* Inserts in flight and no answer from ClickHouse for HUNG_MS, counted from its last answer or
 * from the oldest insert's start if that is later (after an idle spell). */
static bool ch_hung(const struct st_writer *w, uint64_t now)
{
	uint64_t quiet_since = UINT64_MAX;
	for (unsigned i = 0; i < w->in_flight; i++)
		if (w->flight[i].busy && w->flight[i].started_ms < quiet_since)
			quiet_since = w->flight[i].started_ms;
	if (quiet_since == UINT64_MAX)
		return false;
	if (w->heard_ms > quiet_since)
		quiet_since = w->heard_ms;
	return now >= quiet_since + HUNG_MS;
}

/* A stop asked for STOP_RETRY_MS ago or more, or a hung ClickHouse at stop: what waits on
 * ClickHouse is spooled instead. The deadline starts at the first look after the stop was asked,
 * wherever the thread is waiting; a hung server moves it to now, which also gives up the
 * synchronous request clickhouse.c may be in (it watches the same deadline). */
static bool stop_due(struct st_writer *w)
{
	if (!atomic_load_explicit(&w->stop, memory_order_acquire))
		return false;
	uint64_t now = clock_mono_ms();
	if (!w->stop_by_ms)
		w->stop_by_ms = now + STOP_RETRY_MS;
	if (now < w->stop_by_ms && w->ch && ch_hung(w, now)) {
		w->stop_by_ms = now;
		w->stop_cost.hung = true;
	}
	return now >= w->stop_by_ms;
}

/* Finished inserts: count them, or spool them and mark ClickHouse down. */
static void landed(struct st_writer *w, int wait_ms)
{
	struct st_ch_done done[ST_CH_MAX_INFLIGHT];
	uint64_t t0 = clock_mono_ms();
	size_t n = st_ch_async_run(w->ch, wait_ms, done, ST_CH_MAX_INFLIGHT);
	uint64_t t1 = clock_mono_ms();
	if (n)
		w->heard_ms = t1;
	if (w->stop_cost.asked_ms) {
		w->stop_cost.answered += (unsigned)n;
		w->stop_cost.waited_ms += t1 - t0;
	}
	for (size_t i = 0; i < n; i++) {
		struct flight *f = &w->flight[done[i].slot];
		if (done[i].result == ST_POST_OK) {
			add(&w->written[f->t], f->rows);
		} else {
			w->schema_ready = false;
			went_down(w, clock_mono_ms(), done[i].err);
			spool_body(w, f->t, f->id, f->rows, done[i].result == ST_POST_UNKNOWN, f->buf, f->len);
		}
		w->spare[f->t][w->n_spare[f->t]++] = f->buf;
		f->buf = NULL;
		f->busy = false;
	}
}

/* A due batch: handed to a free insert slot (its buffer swapped for a spare), or spooled when
 * ClickHouse is down. With every slot busy it waits for one: that is the backpressure. */
static void ch_flush(struct st_writer *w, enum st_table t, uint64_t now)
{
	struct batch *b = &w->batch[t];
	char err[200];
	if (!w->down && !w->schema_ready) {
		if (st_ch_prepare(w->ch, err, sizeof err) == 0)
			w->schema_ready = true;
		else
			went_down(w, now, err);
	}
	unsigned slot = ST_CH_MAX_INFLIGHT;
	while (!w->down) {
		for (unsigned i = 0; i < w->in_flight && slot == ST_CH_MAX_INFLIGHT; i++)
			if (!w->flight[i].busy)
				slot = i;
		if (slot < ST_CH_MAX_INFLIGHT && w->n_spare[t])
			break;
		slot = ST_CH_MAX_INFLIGHT;
		/* every slot busy (a hung server) past the stop deadline: spooled, not waited for */
		if (stop_due(w))
			break;
		landed(w, 10);
	}
	if (slot == ST_CH_MAX_INFLIGHT && !w->down) {
		spool_body(w, t, b->id, b->rows, false, b->buf, b->w.len);
		batch_reset(b);
		return;
	}
	if (w->down) {
		spool_body(w, t, b->id, b->rows, false, b->buf, b->w.len);
		batch_reset(b);
		return;
	}
	struct flight *f = &w->flight[slot];
	*f = (struct flight){.busy = true, .t = t, .buf = b->buf, .len = b->w.len, .rows = b->rows, .id = b->id,
			     .started_ms = clock_mono_ms()};
	const uint8_t *body = f->buf;
	size_t len = f->len;
	bool native = w->cfg.format == ST_FORMAT_NATIVE;
	if (native) {
		struct wbuf nb = wbuf_init(w->native[slot], w->native_cap);
		if (st_native_block_shape(&nb, t, f->buf, f->len, f->rows, w->native_pos, st_ch_features(w->ch)) == 0) {
			body = nb.p;
			len = nb.len;
		} else { /* cannot happen: our own rows, a buffer sized for them; RowBinary then */
			log_once(&w->native_fail, "storage: a %s batch did not encode as Native; posting it as RowBinary",
				      st_table_name[t]);
			native = false;
		}
	}
	add(&w->insert_bytes, len);
	int started = st_ch_async_insert(w->ch, slot, t, native, body, len);
	atomic_store_explicit(&w->insert_wire_bytes, st_ch_wire_bytes(w->ch), memory_order_relaxed);
	if (started != 0) { /* the slot is free: only a body gzip could not compress (out of memory) */
		f->busy = false;
		f->buf = NULL;
		went_down(w, now, "cannot start an insert (gzip out of memory)");
		spool_body(w, t, b->id, b->rows, false, b->buf, b->w.len);
		batch_reset(b);
		return;
	}
	b->buf = w->spare[t][--w->n_spare[t]];
	b->w = wbuf_init(b->buf, b->cap);
	batch_reset(b);
}

/* One spooled batch, the oldest, into ClickHouse. */
static void replay_one(struct st_writer *w, uint64_t now)
{
	struct st_spool_entry e;
	char err[200];
	if (!st_spool_oldest(w->spool, &e))
		return;
	uint8_t *body;
	size_t len;
	if (st_spool_read_oldest(w->spool, &body, &len, err, sizeof err) != 0) {
		log_err("storage: DROPPING spooled batch %016" PRIx64 " (%u %s rows): %s", e.batch_id, e.rows,
			st_table_name[e.table], err);
		add(&w->spool_dropped[e.table], e.rows);
		st_spool_pop(w->spool);
		publish_spool(w);
		return;
	}
	if (e.unknown) {
		uint64_t have;
		bool stored;
		if (st_ch_batch_stored(w->ch, e.table, e.batch_id, body, len, &have, &stored, err, sizeof err) != 0) {
			free(body);
			went_down(w, now, err);
			return;
		}
		if (stored) {
			/* the post whose answer was lost did store it */
			if (have != e.rows)
				log_warn("storage: ledger has %" PRIu64 " rows for batch %016" PRIx64 ", spooled %u%s",
					 have, e.batch_id, e.rows, have ? "" : " (found in the table itself)");
			free(body);
			add(&w->written[e.table], e.rows);
			add(&w->replayed[e.table], e.rows);
			add(&w->deduplicated, 1);
			st_spool_pop(w->spool);
			publish_spool(w);
			return;
		}
	}
	/* a batch an older Rampart spooled (an older row layout, e.g. attack_events without the
	 * pcap columns of schema 4) names its columns; the newer ones take their defaults */
	unsigned v = st_rows_version(e.table, body, len, e.rows);
	enum st_post r;
	char sql[1024];
	if (v && v < st_schema_latest() && st_schema_insert_sql(sql, sizeof sql, w->cfg.database, e.table, v) == 0) {
		log_info("storage: spooled batch %016" PRIx64 " has the rows of schema version %u; inserted as such",
			 e.batch_id, v);
		r = st_ch_insert_sql(w->ch, sql, body, len, err, sizeof err);
	} else {
		r = st_ch_insert(w->ch, e.table, body, len, err, sizeof err);
	}
	add(&w->insert_bytes, len);
	atomic_store_explicit(&w->insert_wire_bytes, st_ch_wire_bytes(w->ch), memory_order_relaxed);
	free(body);
	if (r == ST_POST_OK) {
		add(&w->written[e.table], e.rows);
		add(&w->replayed[e.table], e.rows);
		st_spool_pop(w->spool);
		publish_spool(w);
		if (!st_spool_count(w->spool))
			log_info("storage: spool replayed, empty again");
		return;
	}
	if (r == ST_POST_UNKNOWN && st_spool_mark_unknown(w->spool) != 0)
		log_err("storage: cannot mark spooled batch %016" PRIx64 " as maybe stored; its replay may "
			"duplicate it", e.batch_id);
	w->schema_ready = false;
	went_down(w, now, err);
}

/* The oldest batch in doubt: ClickHouse says whether it has it; written or dropped accordingly. */
static void resolve_doubt(struct st_writer *w, uint64_t now)
{
	const struct st_doubt_entry *e = st_doubt_oldest(&w->doubt);
	char err[200];
	uint64_t have;
	bool stored;
	if (st_ch_batch_stored(w->ch, e->table, e->batch_id, e->row, e->row_len, &have, &stored, err, sizeof err) != 0) {
		went_down(w, now, err);
		return;
	}
	log_info("storage: %s batch %016" PRIx64 " (%u rows), in doubt: ClickHouse %s", st_table_name[e->table],
		 e->batch_id, e->rows, stored ? "has it; counted as written" : "does not have it; counted as dropped");
	add(stored ? &w->written[e->table] : &w->spool_dropped[e->table], e->rows);
	add(&w->in_doubt[e->table], -(uint64_t)e->rows);
	st_doubt_pop(&w->doubt);
}

static bool rings_empty(struct st_writer *w)
{
	for (unsigned i = 0; i < w->n_prod; i++)
		if (spsc_peek(w->prod[i].ring))
			return false;
	return spsc_peek(w->events) == NULL && spsc_peek(w->ops) == NULL;
}

/* Files only: everything left when the files refuse it at stop, counted, not silent. */
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
	while (spsc_pop(w->ops, &(struct st_operator_event){0}))
		n[ST_OPS]++;
	for (int t = 0; t < ST_NTABLES; t++)
		atomic_store_explicit(&w->lost[t], n[t], memory_order_relaxed);
	log_err("storage: %llu flow rows, %llu events and %llu operator events could not be written anywhere "
		"and are lost", (unsigned long long)n[ST_FLOWS], (unsigned long long)n[ST_EVENTS],
		(unsigned long long)n[ST_OPS]);
}

static void retention(struct st_writer *w, uint64_t now)
{
	char err[200];
	w->retention_ms = now + RETENTION_EVERY_MS;
	int n = st_ch_drop_old(w->ch, err, sizeof err);
	if (n < 0)
		log_warn("storage: retention (%u days): %s", w->cfg.retention_days, err);
	else if (n > 0) {
		add(&w->partitions_dropped, (uint64_t)n);
		log_info("storage: retention dropped %d partitions older than %u days", n,
			 w->cfg.retention_days);
	}
}

/* At the stop deadline: inserts still in flight (a hung ClickHouse) go to the spool marked
 * unknown, since ClickHouse may yet commit them; their curl handles are dropped by st_ch_free. */
static void spool_in_flight(struct st_writer *w)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ST_CH_MAX_INFLIGHT; i++) {
		struct flight *f = &w->flight[i];
		if (!f->busy)
			continue;
		spool_body(w, f->t, f->id, f->rows, true, f->buf, f->len);
		w->spare[f->t][w->n_spare[f->t]++] = f->buf;
		f->buf = NULL;
		f->busy = false;
		n++;
	}
	w->stop_cost.unanswered += n;
	if (n)
		log_warn("storage: %u inserts still unanswered at stop; spooled as unknown (the ledger "
			 "tells on replay whether ClickHouse has them)", n);
}

static void *run(void *arg)
{
	struct st_writer *w = arg;
	long nap_ns = IDLE_SLEEP_NS;
	for (;;) {
		bool stopping = atomic_load_explicit(&w->stop, memory_order_acquire);
		uint64_t now = clock_mono_ms();
		if (stopping && !w->stop_cost.asked_ms) {
			w->stop_cost.asked_ms = now;
			stop_due(w);
			if (w->spool) /* one sync for everything spooled at stop, at the end */
				st_spool_defer_sync(w->spool);
		}
		size_t moved = drain_flows(w, now) + drain_events(w, now) + drain_ops(w, now);
		bool wrote = false;
		now = clock_mono_ms();
		for (int t = 0; t < ST_NTABLES; t++) {
			struct batch *b = &w->batch[t];
			if (!b->rows)
				continue;
			bool due = b->pending ? now >= b->retry_ms
					      : (b->rows >= b->max_rows || now - b->first_ms >= w->cfg.batch_ms ||
						 stopping);
			if (due) {
				if (w->files)
					files_flush(w, (enum st_table)t, now);
				else
					ch_flush(w, (enum st_table)t, now);
				wrote = true;
			}
		}
		if (w->ch) {
			if (st_ch_async_busy(w->ch))
				landed(w, 0);
			now = clock_mono_ms();
			/* at stop neither a probe nor a replay: what is spooled stays for the next start,
			 * and a request to a server that may be hung would only spend the stop's budget;
			 * a retention that is due (a daemon stopped soon after its start) runs until the
			 * deadline, as a lookup of a batch in doubt does */
			if (w->down && !stopping && now >= w->probe_ms)
				probe(w, now);
			if (!w->down && w->doubt.n && !(stopping && stop_due(w))) {
				resolve_doubt(w, now);
				wrote = true;
			} else if (!w->down && !stopping && st_spool_count(w->spool)) {
				replay_one(w, now);
				wrote = true;
			}
			if (!w->down && w->cfg.retention_days && now >= w->retention_ms && !(stopping && stop_due(w)))
				retention(w, now);
		}
		if (stopping) {
			bool idle = rings_empty(w);
			for (int t = 0; t < ST_NTABLES; t++)
				idle = idle && w->batch[t].rows == 0;
			if (idle && w->ch && st_ch_async_busy(w->ch)) {
				if (!stop_due(w)) {
					landed(w, 10); /* inserts in flight finish (or spool) first */
					continue;
				}
				spool_in_flight(w);
			}
			/* in doubt and ClickHouse up: it is asked (above) until the deadline */
			if (idle && w->ch && !(w->doubt.n && !w->down && !stop_due(w)))
				break;
			if (idle && w->files)
				break;
			if (w->files && stop_due(w)) {
				give_up(w);
				break;
			}
		}
		if (moved || wrote) {
			nap_ns = IDLE_SLEEP_NS;
		} else {
			if (w->ch && st_ch_async_busy(w->ch))
				landed(w, (int)(IDLE_SLEEP_NS / 1000000)); /* sleeps in poll, wakes on an answer */
			else
				nanosleep(&(struct timespec){.tv_nsec = nap_ns}, NULL);
			if (nap_ns < IDLE_SLEEP_MAX_NS && !stopping)
				nap_ns *= 2;
		}
	}
	if (w->spool) {
		spool_sync(w);
		if (st_spool_count(w->spool))
			log_warn("storage: %s%" PRIu64 " batches (%" PRIu64 " bytes) stay in the spool %s; they are "
				 "replayed at the next start", w->down ? "ClickHouse is down at stop; " : "",
				 st_spool_count(w->spool), st_spool_bytes(w->spool), w->cfg.spool_dir);
	}
	if (w->ch) {
		/* where the stop's time went: an operator whose stop was slow sees which part */
		const struct stop_cost *c = &w->stop_cost;
		uint64_t total = clock_mono_ms() - c->asked_ms;
		log_info("storage: stopped in %" PRIu64 " ms: %" PRIu64 " ms waiting for ClickHouse (%u inserts "
			 "answered, %u unanswered spooled as unknown%s), %" PRIu64 " ms spooling %u batches (%" PRIu64
			 " bytes), %" PRIu64 " ms encoding and the rest", total, c->waited_ms, c->answered,
			 c->unanswered, c->hung ? "; ClickHouse hung: no answer for " STR(HUNG_MS) " ms, not waited for"
				    : w->down ? "; ClickHouse down, not waited for" : "",
			 c->spool_ms, c->spooled, c->spool_bytes,
			 total - (c->waited_ms + c->spool_ms <= total ? c->waited_ms + c->spool_ms : total));
	}
	/* what ClickHouse was not there to tell: the ids, for a look by hand */
	for (const struct st_doubt_entry *e; (e = st_doubt_oldest(&w->doubt)); st_doubt_pop(&w->doubt))
		log_warn("storage: stopping with %s batch %016" PRIx64 " (%u rows) in doubt: ClickHouse may have "
			 "it (SELECT count() FROM %s.%s WHERE batch_id = %" PRIu64 ")", st_table_name[e->table],
			 e->batch_id, e->rows, w->cfg.database, st_table_name[e->table], e->batch_id);
	return NULL;
}

int st_writer_start(struct st_writer *w, char *err, size_t errlen)
{
	if (w->started) {
		snprintf(err, errlen, "storage writer already started");
		return -1;
	}
	if (getrandom(&w->id_prefix, sizeof w->id_prefix, 0) != sizeof w->id_prefix)
		w->id_prefix = (uint64_t)time(NULL) * 2654435761u; /* only if getrandom is missing */
	w->id_prefix &= ~(uint64_t)UINT32_MAX;
	if (w->cfg.clickhouse_url[0]) {
		if (!(w->spool = st_spool_open(w->cfg.spool_dir, w->cfg.spool_max_bytes, err, errlen)))
			return -1;
		publish_spool(w);
		for (int t = 0; t < ST_NTABLES; t++) /* an earlier run's batches: see st_stats */
			atomic_store(&w->spooled[t], st_spool_rows(w->spool, (enum st_table)t));
		if (!(w->ch = st_ch_new(&w->cfg, err, errlen)))
			return -1;
		st_ch_watch_stop(w->ch, &w->stop, &w->stop_by_ms, STOP_RETRY_MS);
		w->in_flight = w->cfg.posts_in_flight;
		if (w->cfg.format == ST_FORMAT_NATIVE) {
			/* a Native block is the rows' bytes plus one header: names, types, two varints */
			size_t cap = 0;
			uint32_t rows = 0;
			for (int t = 0; t < ST_NTABLES; t++) {
				cap = w->batch[t].cap > cap ? w->batch[t].cap : cap;
				if (t != ST_FLOWS) /* the tables with String columns */
					rows = w->batch[t].max_rows > rows ? w->batch[t].max_rows : rows;
			}
			w->native_cap = cap + 4096;
			if (!(w->native_pos = malloc(rows * sizeof *w->native_pos))) {
				snprintf(err, errlen, "out of memory for Native encoding");
				return -1;
			}
			for (unsigned i = 0; i < w->in_flight; i++)
				if (!(w->native[i] = malloc(w->native_cap))) {
					snprintf(err, errlen, "out of memory for %u Native buffers", w->in_flight);
					return -1;
				}
		}
		for (int t = 0; t < ST_NTABLES; t++)
			for (unsigned i = 0; i < w->in_flight; i++) {
				if (!(w->spare[t][i] = malloc(w->batch[t].cap))) {
					snprintf(err, errlen, "out of memory for %u batches in flight", w->in_flight);
					return -1;
				}
				w->n_spare[t]++;
			}
		char e[200];
		if (st_ch_prepare(w->ch, e, sizeof e) == 0) {
			w->schema_ready = true;
			log_info("storage: ClickHouse %s at %s, database %s at schema version %u",
				 st_ch_version(w->ch), w->cfg.clickhouse_url, w->cfg.database, st_schema_latest());
		} else {
			set_error(w, e);
			log_warn("storage: ClickHouse not ready (%s); batches go to the spool %s and the writer "
				 "keeps probing", e, w->cfg.spool_dir);
			w->down = true;
			w->down_since_ms = clock_mono_ms();
			w->probe_backoff_ms = BACKOFF_MIN_MS;
			w->probe_ms = clock_mono_ms() + BACKOFF_MIN_MS;
			atomic_store(&w->down_pub, true);
		}
	} else if (!(w->files = st_files_new(w->cfg.dir, w->cfg.database, err, errlen))) {
		return -1;
	}
	atomic_store(&w->stop, false);
	w->stop_by_ms = 0;
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
