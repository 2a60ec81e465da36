/* Internals shared by the files of storage/; nothing outside storage/ includes this. */
#ifndef RAMPART_STORAGE_ST_INT_H
#define RAMPART_STORAGE_ST_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>


#include "st.h"

/* The tables; the index names a table's batch, file and statement everywhere. */
enum st_table { ST_FLOWS = 0, ST_EVENTS = 1, ST_OPS = 2, ST_NTABLES };

extern const char *const st_table_name[ST_NTABLES];

/* Largest encoded row of each table: batch buffers are sized from these, so an append into a
 * batch with room for one more row can never overflow. */
#define ST_FLOW_ROW_BYTES 106
#define ST_EVENT_ROW_MAX 640 /* 326 up to reason, + pcap_file (2 + 256) + pcap_packets 8 +
				parent_attack_id 8 + the four distinct counts 32 */
#define ST_OPS_ROW_MAX 514 /* date 2 + time 8 + source 9 + client 65 + uid, pid 8 + token 1 +
				command 258 + result 162 + ok 1 (strings at their arrays' full size) */
/* The writer appends the batch's id (UInt64 batch_id, schema version 2) to every row. */
#define ST_BATCH_ID_BYTES 8

/* ---- schema.c: versioned migrations ---- */
#define ST_SCHEMA_MAX 48   /* statements over all versions (cluster mode has the most: 33) */
#define ST_STMT_MAX 1024
unsigned st_schema_latest(void);
/* A table's columns as the writer inserts them (schema order, batch_id last). */
struct st_column {
	const char *name;
	const char *type;  /* in the base shape (18.16), and the RowBinary encoding */
	unsigned since;    /* the schema version that added it (1: the first tables) */
	unsigned kind;     /* ST_K_*: what it becomes with the newer features */
	const char *codec; /* its codec list with ST_F_CODEC, or NULL */
};
#define ST_K_ADDR 1u    /* FixedString(16) -> IPv6 */
#define ST_K_LOWCARD 2u /* String -> LowCardinality(String) */
/* Features of the server a database is created on (SELECT version()). A database keeps the
 * shape it was created with (clickhouse.c reads it back from system.columns). */
#define ST_F_LOWCARD 1u
#define ST_F_CODEC 2u
#define ST_F_IPV6 4u
#define ST_F_TTL 8u
/* The features a server of this version ("18.16.1", "26.7.2.1") has; 0 for 18.16. */
unsigned st_schema_features(const char *version);
/* The column's type in a CREATE for the shape feat ("LowCardinality(String)", "IPv6",
 * "DateTime CODEC(DoubleDelta, LZ4)"); -1 if it does not fit. */
int st_column_ddl(const struct st_column *c, unsigned feat, char *out, size_t outlen);
/* The type Native names the column by for that shape: IPv6 for an address with ST_F_IPV6, else
 * the base type (a LowCardinality(String) goes as String). */
const char *st_column_wire_type(const struct st_column *c, unsigned feat);
size_t st_schema_columns(enum st_table t, const struct st_column **cols);
const char *st_schema_what(unsigned version);
/* The newest schema version (2 or later: batch_id last) whose row layout the RowBinary batch
 * rows/len parses as, exactly nrows whole rows; 0 when none. A batch spooled by an older Rampart
 * has an older layout (attack_events before 4: no pcap columns). native.c */
unsigned st_rows_version(enum st_table t, const uint8_t *rows, size_t len, uint32_t nrows);
/* "INSERT INTO db.t (columns of that version) FORMAT RowBinary": the columns a later version
 * added then take their defaults. -1 if it does not fit. */
int st_schema_insert_sql(char *out, size_t outlen, const char *db, enum st_table t, unsigned version);
/* The statements that take a database from version-1 to version; 0 for an unknown version.
 * cluster NULL or "": plain MergeTree tables; else *_local tables and Distributed tables over
 * them on cluster `cluster` (docs/STORAGE.md "Cluster"). */
size_t st_schema_migration(unsigned version, const char *db, const char *cluster, char out[][ST_STMT_MAX],
			   size_t max);
/* The same for a database of shape feat (ST_F_*; 0 = the base shape, st_schema_migration). */
size_t st_schema_migration_shape(unsigned version, const char *db, const char *cluster, unsigned feat,
				 char out[][ST_STMT_MAX], size_t max);
/* The Native block of a batch for a table of shape feat (st_native_block is shape 0). */
int st_native_block_shape(struct wbuf *out, int table, const uint8_t *rows, size_t len, uint32_t nrows,
			  uint32_t *pos, unsigned feat);

/* Tables with a Date-like partition key (retention), and the date expression TTL uses. */
struct st_retained_table {
	const char *table;
	const char *ttl_date;
};
#define ST_N_RETAINED 5
extern const struct st_retained_table st_retained[ST_N_RETAINED];
/* What depends on the server's version (SELECT version()), run at every start after the
 * migrations: ALTER ... MODIFY TTL for each retained table on servers with TTL (19.6+) when
 * retention_days > 0 (on the *_local tables with a cluster). 0 statements otherwise. */
size_t st_schema_version_ddl(const char *version, const char *db, const char *cluster, unsigned retention_days,
			     char out[][ST_STMT_MAX], size_t max);

/* ---- config.c ---- */
/* Fills zero fields with defaults and checks what goes into SQL or a URL; 0 or -1 with err. */
int st_config_check(struct st_config *cfg, char *err, size_t errlen);

/* ---- clickhouse.c: one HTTP client, used only by the storage thread ---- */
struct st_ch;
struct st_ch *st_ch_new(const struct st_config *cfg, char *err, size_t errlen);
void st_ch_free(struct st_ch *c);
/* Runs one statement; the first line of the answer goes to out (may be NULL). 0 or -1 + err. */
int st_ch_query(struct st_ch *c, const char *sql, char *out, size_t outlen, char *err, size_t errlen);
/* What a failed insert means for the batch: never arrived (connection refused: send it again
 * as it is), or unknown (timeout, reset, an error status: ClickHouse may have stored it, so the
 * ledger is asked before it is sent again). */
enum st_post { ST_POST_OK = 0, ST_POST_NOT_STORED, ST_POST_UNKNOWN };
/* INSERT INTO db.table FORMAT RowBinary with body as the data; OK once ClickHouse said 200.
 * (st_ch_async_insert posts Native instead when native is set.) */
enum st_post st_ch_insert(struct st_ch *c, enum st_table t, const uint8_t *body, size_t len, char *err,
			  size_t errlen);
/* SELECT version(), then the schema migrations not yet in db.schema_migrations, then retention
 * by TTL where the server has it (retention_days > 0); 0 or -1 + err. */
int st_ch_prepare(struct st_ch *c, char *err, size_t errlen);
const char *st_ch_version(const struct st_ch *c);
/* The shape (ST_F_*) of the database after st_ch_prepare: what its tables were created with. */
unsigned st_ch_features(const struct st_ch *c);
/* Inserts in flight (curl multi): start one in a free slot (0..ST_CH_MAX_INFLIGHT-1; body must
 * stay untouched until it is done), then move all of them on with st_ch_async_run, which waits
 * up to wait_ms for progress and reports the finished ones. */
#define ST_CH_MAX_INFLIGHT 4
struct st_ch_done {
	unsigned slot;
	enum st_post result;
	char err[200];
};
/* The same with the INSERT's own SQL (st_schema_insert_sql: a batch of an older layout). */
enum st_post st_ch_insert_sql(struct st_ch *c, const char *sql, const uint8_t *body, size_t len, char *err,
			      size_t errlen);
int st_ch_async_insert(struct st_ch *c, unsigned slot, enum st_table t, bool native, const uint8_t *body,
		       size_t len);
size_t st_ch_async_run(struct st_ch *c, int wait_ms, struct st_ch_done *done, size_t max);
unsigned st_ch_async_busy(const struct st_ch *c);
/* INSERT bodies as they went on the wire (gzip'd with storage.clickhouse.compression: gzip),
 * cumulative; st_ch_async_insert returns -1 too when a body could not be compressed. */
uint64_t st_ch_wire_bytes(const struct st_ch *c);
/* From now on a synchronous request (the calls below, st_ch_prepare, st_ch_insert) is given up,
 * as unknown, at *stop_by_ms once *stop is set; *stop_by_ms, when still 0, becomes grace_ms
 * after the first look. The caller's thread owns *stop_by_ms and gives up at the same deadline,
 * so a stop takes no longer than that whatever the server does. */
void st_ch_watch_stop(struct st_ch *c, const _Atomic bool *stop, uint64_t *stop_by_ms, unsigned grace_ms);
/* SELECT 1 with a short deadline: is the server back? */
int st_ch_probe(struct st_ch *c, char *err, size_t errlen);
/* Rows the batches ledger holds for batch_id (0: ClickHouse never stored it). */
int st_ch_batch_rows(struct st_ch *c, uint64_t batch_id, uint64_t *rows, char *err, size_t errlen);
/* Whether ClickHouse stored a batch whose insert had an unknown outcome. The ledger first
 * (*ledger_rows, 0 when it has none); when it has none, the batch's first row (row, len: its
 * RowBinary bytes) is looked up by the table's sort key and batch_id, which reads a granule or
 * two, not the table: a server killed after writing the table's part and before the ledger's
 * (the views run after the table) holds the rows without a ledger row. A batch is one block, so
 * its rows of one partition are stored together or not at all (a batch spanning two days could
 * be half stored; the probe sees the first row's day). 0 + *stored, or -1 + err. */
int st_ch_batch_stored(struct st_ch *c, enum st_table t, uint64_t batch_id, const uint8_t *row, size_t len,
		       uint64_t *ledger_rows, bool *stored, char *err, size_t errlen);
/* The probe's SQL (readback_sql.c): SELECT count() of the rows of that batch with the first row's
 * date and sort key; v6 for a database of the IPv6 shape. -1 if the row is too short. */
int st_batch_probe_sql(char *out, size_t outlen, const char *db, enum st_table t, const uint8_t *row, size_t len,
		       uint64_t batch_id, bool v6);
/* Without TTL: drops the partitions wholly older than retention_days; the number dropped or -1. */
int st_ch_drop_old(struct st_ch *c, char *err, size_t errlen);
/* Whether a server of this version ("18.16.1", "21.8.3.44") has table TTL (19.6 and later). */
bool st_ch_version_has_ttl(const char *version);

/* ---- spool.c: batches ClickHouse could not take, one RowBinary file each, oldest first ---- */
struct st_spool;
struct st_spool_entry {
	uint64_t seq;        /* order of spooling; survives restarts (the file name) */
	enum st_table table;
	uint64_t batch_id;
	uint32_t rows;
	bool unknown;        /* a post may have stored it: look it up in the ledger before replay */
	uint64_t bytes;
};
#define ST_SPOOL_MAX_FILES 65536
/* Creates dir if missing and indexes the batches a previous run left there. */
struct st_spool *st_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
void st_spool_free(struct st_spool *s);
/* 0; -1 + err on a disk error; -2 when the byte budget (or the file count) is exhausted. */
int st_spool_put(struct st_spool *s, enum st_table t, uint64_t batch_id, uint32_t rows, bool unknown,
		 const uint8_t *body, size_t len, char *err, size_t errlen);
/* From now on (a stop), st_spool_put writes each batch under its temporary name without fsync;
 * st_spool_sync then makes them all durable at once: one journal commit and one directory fsync
 * for the lot instead of two fsyncs per batch. Until synced a batch is not in the index (nor in
 * st_spool_count) and a crash loses it, as a crash during a put would. */
void st_spool_defer_sync(struct st_spool *s);
/* The deferred batches fsynced and renamed to their spool names (st_spool_free does it too).
 * Returns how many could not be; their rows are added to lost_rows[table] (when not NULL) and
 * err says why. A put with ST_SPOOL_PENDING_MAX batches waiting (each holds a descriptor until
 * its sync) is refused: sync first. */
#define ST_SPOOL_PENDING_MAX 32
unsigned st_spool_sync(struct st_spool *s, uint64_t lost_rows[ST_NTABLES], char *err, size_t errlen);
unsigned st_spool_pending(const struct st_spool *s);
bool st_spool_oldest(const struct st_spool *s, struct st_spool_entry *e);
/* The oldest batch's bytes, malloc'd; the caller frees. */
int st_spool_read_oldest(struct st_spool *s, uint8_t **body, size_t *len, char *err, size_t errlen);
/* The oldest batch is in ClickHouse (or given up): delete its file. */
void st_spool_pop(struct st_spool *s);
/* The oldest batch's last post had an unknown outcome: say so in its name. */
int st_spool_mark_unknown(struct st_spool *s);
uint64_t st_spool_bytes(const struct st_spool *s);
uint64_t st_spool_count(const struct st_spool *s);
/* Rows of table t on disk now. */
uint64_t st_spool_rows(const struct st_spool *s, enum st_table t);
/* SEQ-TABLE-BATCHID-ROWS[-u].rowbinary; false for any other name (exposed for tests). */
bool st_spool_parse_name(const char *name, struct st_spool_entry *e);
void st_spool_name(const struct st_spool_entry *e, char *out, size_t outlen);

/* ---- doubt.c: unknown-outcome batches the spool refused, kept by id until ClickHouse tells ---- */
#define ST_DOUBT_MAX 256
#define ST_DOUBT_ROW 64 /* the first row's leading bytes: the key st_ch_batch_stored looks up */
struct st_doubt_entry {
	enum st_table table;
	uint64_t batch_id;
	uint32_t rows;
	uint8_t row[ST_DOUBT_ROW];
	size_t row_len;
};
struct st_doubt {
	struct st_doubt_entry e[ST_DOUBT_MAX];
	unsigned head, n;
};
/* Keeps the batch's id, rows and first row (body: its RowBinary rows); false when full. */
bool st_doubt_add(struct st_doubt *d, enum st_table t, uint64_t batch_id, uint32_t rows, const uint8_t *body,
		  size_t len);
/* The oldest entry, NULL when none; st_doubt_pop drops it once decided. */
const struct st_doubt_entry *st_doubt_oldest(const struct st_doubt *d);
void st_doubt_pop(struct st_doubt *d);

/* ---- files.c: RowBinary files, one per table per hour ---- */
struct st_files;
/* Creates dir if missing and writes schema.sql into it. */
struct st_files *st_files_new(const char *dir, const char *db, char *err, size_t errlen);
void st_files_free(struct st_files *f);
/* Appends a whole batch to the table's file of the current UTC hour; on a failed write the file
 * is cut back to where it was, so it always holds whole rows. */
int st_files_write(struct st_files *f, enum st_table t, const uint8_t *body, size_t len, char *err,
		   size_t errlen);
/* The name of the file a batch written now would go to (for logs and tests). */
void st_files_name(enum st_table t, time_t now, char *out, size_t outlen);
/* schema.sql's text for database db: every statement, ';'-terminated. */
int st_schema_sql(const char *db, char *out, size_t outlen);

#endif
