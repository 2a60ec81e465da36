/* The writer's construction and its callers' side: st_writer_new/free, the producers' pushes
 * (wait-free, on their own threads) and st_writer_stats (any thread). The storage thread itself
 * is writer.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writer_int.h"

/* Events are rare and a row is ~300 bytes: smaller ring and batch than for flows. */
#define EVENT_QUEUE_MAX 16384
#define EVENT_BATCH_MAX 4096

static int batch_init(struct batch *b, uint32_t rows, size_t row_bytes)
{
	b->max_rows = rows;
	b->cap = (size_t)rows * row_bytes;
	b->buf = malloc(b->cap);
	if (!b->buf)
		return -1;
	b->w = wbuf_init(b->buf, b->cap);
	return 0;
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
	if (!(w->events = spsc_new(evq, sizeof(struct st_attack_event))) ||
	    !(w->ops = spsc_new(evq, sizeof(struct st_operator_event))))
		goto oom;
	uint32_t evb = w->cfg.batch_rows < EVENT_BATCH_MAX ? w->cfg.batch_rows : EVENT_BATCH_MAX;
	if (batch_init(&w->batch[ST_FLOWS], w->cfg.batch_rows, ST_FLOW_ROW_BYTES + ST_BATCH_ID_BYTES) != 0 ||
	    batch_init(&w->batch[ST_EVENTS], evb, ST_EVENT_ROW_MAX + ST_BATCH_ID_BYTES) != 0 ||
	    batch_init(&w->batch[ST_OPS], evb, ST_OPS_ROW_MAX + ST_BATCH_ID_BYTES) != 0)
		goto oom;
	if (w->cfg.clickhouse_url[0])
		snprintf(w->destination, sizeof w->destination, "ClickHouse %s database %s%s%s%s%s%s",
			 w->cfg.clickhouse_url, w->cfg.database, w->cfg.user[0] ? " user " : "", w->cfg.user,
			 w->cfg.cluster[0] ? " cluster " : "", w->cfg.cluster,
			 w->cfg.format == ST_FORMAT_NATIVE ? " (Native)" : " (RowBinary)");
	else
		snprintf(w->destination, sizeof w->destination,
			 "files in %s (flows-, attack_events-, operator_events-YYYYMMDDHH.rowbinary, schema.sql)",
			 w->cfg.dir);
	log_info("storage: flow rows and attack events go to %s", w->destination);
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
	spsc_free(w->ops);
	for (int t = 0; t < ST_NTABLES; t++) {
		free(w->batch[t].buf);
		for (unsigned i = 0; i < w->n_spare[t]; i++)
			free(w->spare[t][i]);
	}
	for (unsigned i = 0; i < ST_CH_MAX_INFLIGHT; i++) {
		free(w->flight[i].buf); /* only if stop never ran */
		free(w->native[i]);
	}
	free(w->native_pos);
	st_ch_free(w->ch);
	st_files_free(w->files);
	st_spool_free(w->spool);
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

bool st_writer_operator_event(struct st_writer *w, const struct st_operator_event *ev)
{
	if (spsc_push(w->ops, ev))
		return true;
	w->ops_dropped++;
	atomic_store_explicit(&w->ops_dropped_pub, w->ops_dropped, memory_order_relaxed);
	return false;
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
	out->ops_queued = atomic_load_explicit(&w->ops->head, memory_order_relaxed);
	out->ops_dropped = atomic_load_explicit(&w->ops_dropped_pub, memory_order_relaxed);
	out->ops_written = atomic_load_explicit(&w->written[ST_OPS], memory_order_relaxed);
	out->ops_lost = atomic_load_explicit(&w->lost[ST_OPS], memory_order_relaxed);
	out->batches_failed = atomic_load_explicit(&w->batches_failed, memory_order_relaxed);
	out->insert_bytes = atomic_load_explicit(&w->insert_bytes, memory_order_relaxed);
	out->insert_wire_bytes = atomic_load_explicit(&w->insert_wire_bytes, memory_order_relaxed);
	pthread_mutex_lock(&w->err_lock);
	snprintf(out->last_error, sizeof out->last_error, "%s", w->last_error);
	pthread_mutex_unlock(&w->err_lock);
	out->clickhouse = w->cfg.clickhouse_url[0] != '\0';
	out->flows_spooled = atomic_load_explicit(&w->spooled[ST_FLOWS], memory_order_relaxed);
	out->flows_replayed = atomic_load_explicit(&w->replayed[ST_FLOWS], memory_order_relaxed);
	out->flows_spool_dropped = atomic_load_explicit(&w->spool_dropped[ST_FLOWS], memory_order_relaxed);
	out->events_spooled = atomic_load_explicit(&w->spooled[ST_EVENTS], memory_order_relaxed);
	out->events_replayed = atomic_load_explicit(&w->replayed[ST_EVENTS], memory_order_relaxed);
	out->events_spool_dropped = atomic_load_explicit(&w->spool_dropped[ST_EVENTS], memory_order_relaxed);
	out->ops_spooled = atomic_load_explicit(&w->spooled[ST_OPS], memory_order_relaxed);
	out->ops_replayed = atomic_load_explicit(&w->replayed[ST_OPS], memory_order_relaxed);
	out->ops_spool_dropped = atomic_load_explicit(&w->spool_dropped[ST_OPS], memory_order_relaxed);
	out->flows_in_doubt = atomic_load_explicit(&w->in_doubt[ST_FLOWS], memory_order_relaxed);
	out->events_in_doubt = atomic_load_explicit(&w->in_doubt[ST_EVENTS], memory_order_relaxed);
	out->ops_in_doubt = atomic_load_explicit(&w->in_doubt[ST_OPS], memory_order_relaxed);
	out->spool_bytes = atomic_load_explicit(&w->spool_bytes, memory_order_relaxed);
	out->spool_batches = atomic_load_explicit(&w->spool_batches, memory_order_relaxed);
	out->batches_deduplicated = atomic_load_explicit(&w->deduplicated, memory_order_relaxed);
	out->partitions_dropped = atomic_load_explicit(&w->partitions_dropped, memory_order_relaxed);
	out->clickhouse_down = atomic_load_explicit(&w->down_pub, memory_order_relaxed);
}

const char *st_writer_destination(const struct st_writer *w)
{
	return w->destination;
}

void st_writer_log_summary(struct st_writer *w)
{
	struct st_stats s;
	st_writer_stats(w, &s);
	/* every way a row can end: written, still in the spool for the next start, dropped
	 * (a full ring, a spool that could not take it), lost at stop, or in doubt (an insert
	 * without an answer that ClickHouse was not back to tell about); per table */
	log_info("storage: flow rows: %llu written, %llu in the spool, %llu dropped (%llu ring full, "
		 "%llu spool refused), %llu lost at stop; events: %llu written, %llu dropped (%llu ring "
		 "full, %llu spool refused), %llu lost at stop; operator events: %llu written, %llu dropped "
		 "(%llu ring full, %llu spool refused), %llu lost; in the spool also %llu events and %llu "
		 "operator events; in doubt: %llu flow rows, %llu events, %llu operator events; spool: "
		 "%llu batches, %llu bytes",
		 (unsigned long long)s.flows_written,
		 (unsigned long long)(s.flows_spooled - s.flows_replayed),
		 (unsigned long long)(s.flows_dropped + s.flows_spool_dropped),
		 (unsigned long long)s.flows_dropped, (unsigned long long)s.flows_spool_dropped,
		 (unsigned long long)s.flows_lost, (unsigned long long)s.events_written,
		 (unsigned long long)(s.events_dropped + s.events_spool_dropped),
		 (unsigned long long)s.events_dropped, (unsigned long long)s.events_spool_dropped,
		 (unsigned long long)s.events_lost, (unsigned long long)s.ops_written,
		 (unsigned long long)(s.ops_dropped + s.ops_spool_dropped),
		 (unsigned long long)s.ops_dropped, (unsigned long long)s.ops_spool_dropped,
		 (unsigned long long)s.ops_lost, (unsigned long long)(s.events_spooled - s.events_replayed),
		 (unsigned long long)(s.ops_spooled - s.ops_replayed), (unsigned long long)s.flows_in_doubt,
		 (unsigned long long)s.events_in_doubt, (unsigned long long)s.ops_in_doubt,
		 (unsigned long long)s.spool_batches, (unsigned long long)s.spool_bytes);
}
