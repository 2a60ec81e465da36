/* The writer's state, shared by writer.c (the storage thread, start and stop) and writer_api.c
 * (construction, the producers' side, stats); nothing outside storage/ includes this. */
#ifndef RAMPART_STORAGE_WRITER_INT_H
#define RAMPART_STORAGE_WRITER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "../lib/log.h"
#include "../lib/spsc.h"
#include "st_int.h"

/* One per capture worker, on its own cache lines: the worker writes dropped, nobody else does. */
struct st_flow_producer {
	_Alignas(64) struct spsc *ring;
	uint64_t dropped;              /* the producer's own count */
	_Atomic uint64_t dropped_pub;  /* the same, published with a relaxed store for stats */
};

struct batch {
	uint8_t *buf;
	size_t cap;
	struct wbuf w;
	uint32_t rows;
	uint32_t max_rows;
	uint64_t first_ms;   /* when the oldest row came in */
	bool pending;        /* a write failed: retry at retry_ms, take no new rows until then */
	uint64_t retry_ms;
	uint32_t backoff_ms;
	uint32_t failures;   /* in a row, for the "back after" line */
	uint64_t id;         /* batch identity, stamped into every row */
};

struct st_writer {
	struct st_config cfg;
	unsigned n_prod;
	struct st_flow_producer *prod;
	struct spsc *events;
	uint64_t ev_dropped;           /* main loop's own count */
	_Atomic uint64_t ev_dropped_pub;
	struct spsc *ops;              /* operator_events, from the main loop too */
	uint64_t ops_dropped;
	_Atomic uint64_t ops_dropped_pub;

	/* storage thread only */
	struct batch batch[ST_NTABLES];
	/* inserts in flight: a slot holds a batch's buffer until ClickHouse answers; spare[t] are
	 * the buffers batches swap in meanwhile (in_flight of each table, allocated at start) */
	unsigned in_flight;
	struct flight {
		bool busy;
		enum st_table t;
		uint8_t *buf;
		size_t len;
		uint32_t rows;
		uint64_t id;
		uint64_t started_ms;
	} flight[ST_CH_MAX_INFLIGHT];
	uint64_t heard_ms;             /* when an insert last got an answer (any): see ch_hung */
	uint8_t *spare[ST_NTABLES][ST_CH_MAX_INFLIGHT];
	unsigned n_spare[ST_NTABLES];
	/* format native: each slot posts a Native copy of its batch (the RowBinary one stays for the
	 * spool); pos is the encoder's scratch for attack_events rows */
	uint8_t *native[ST_CH_MAX_INFLIGHT];
	size_t native_cap;
	uint32_t *native_pos;
	struct log_once native_fail;
	struct st_ch *ch;
	bool schema_ready;
	struct st_files *files;        /* file output (no ClickHouse) */
	struct st_spool *spool;        /* with ClickHouse: batches it could not take */
	struct st_doubt doubt;         /* unknown-outcome batches the spool refused (doubt.c) */
	bool down;                     /* ClickHouse failed: spool, and probe at probe_ms */
	uint64_t probe_ms;
	uint32_t probe_backoff_ms;
	uint64_t down_since_ms;
	uint64_t retention_ms;         /* next partition drop (servers without TTL) */
	uint64_t id_prefix;            /* random per start: batch ids of two runs never meet */
	uint32_t id_seq;
	uint64_t drop_episode;         /* rows dropped since the spool last took a batch */
	unsigned next_prod;            /* round-robin start, so one busy worker cannot starve others */

	pthread_t thread;
	bool started;
	_Atomic bool stop;
	uint64_t stop_by_ms; /* the writer thread's: when a stop must give up on ClickHouse (0: none) */
	/* where a stop's time went, for its log line: asked, done waiting on ClickHouse, spooling */
	struct stop_cost {
		uint64_t asked_ms, waited_ms, spool_ms, spool_bytes;
		unsigned spooled, answered, unanswered;
		bool hung;
	} stop_cost;
	_Atomic uint64_t written[ST_NTABLES];
	_Atomic uint64_t lost[ST_NTABLES]; /* rows neither ClickHouse nor the spool took, at stop */
	_Atomic uint64_t batches_failed;
	_Atomic uint64_t insert_bytes;      /* INSERT bodies as encoded */
	_Atomic uint64_t insert_wire_bytes; /* and as sent (compressed or not) */
	_Atomic uint64_t spooled[ST_NTABLES];
	_Atomic uint64_t replayed[ST_NTABLES];
	_Atomic uint64_t spool_dropped[ST_NTABLES];
	_Atomic uint64_t in_doubt[ST_NTABLES]; /* rows of the batches in w->doubt */
	_Atomic uint64_t spool_bytes, spool_batches, deduplicated, partitions_dropped;
	_Atomic bool down_pub;
	pthread_mutex_t err_lock;      /* last_error: written by the thread, read by stats */
	char last_error[160];
	char destination[400];
};

#endif
