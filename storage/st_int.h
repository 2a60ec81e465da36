/* Internals shared by the files of storage/; nothing outside storage/ includes this. */
#ifndef RAMPART_STORAGE_ST_INT_H
#define RAMPART_STORAGE_ST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "st.h"

/* The two tables; the index names a table's batch, file and statement everywhere. */
enum st_table { ST_FLOWS = 0, ST_EVENTS = 1, ST_NTABLES };

extern const char *const st_table_name[ST_NTABLES];

/* Largest encoded row of each table: batch buffers are sized from these, so an append into a
 * batch with room for one more row can never overflow. */
#define ST_FLOW_ROW_BYTES 106
#define ST_EVENT_ROW_MAX 400

/* ---- config.c ---- */
/* Fills zero fields with defaults and checks what goes into SQL or a URL; 0 or -1 with err. */
int st_config_check(struct st_config *cfg, char *err, size_t errlen);

/* ---- clickhouse.c: one HTTP client, used only by the storage thread ---- */
struct st_ch;
struct st_ch *st_ch_new(const struct st_config *cfg, char *err, size_t errlen);
void st_ch_free(struct st_ch *c);
/* Runs one statement; the first line of the answer goes to out (may be NULL). 0 or -1 + err. */
int st_ch_query(struct st_ch *c, const char *sql, char *out, size_t outlen, char *err, size_t errlen);
/* INSERT INTO db.table FORMAT RowBinary with body as the data; 0 once ClickHouse said 200. */
int st_ch_insert(struct st_ch *c, enum st_table t, const uint8_t *body, size_t len, char *err,
		 size_t errlen);
/* SELECT version() then every CREATE ... IF NOT EXISTS; 0 or -1 + err. */
int st_ch_prepare(struct st_ch *c, char *err, size_t errlen);
const char *st_ch_version(const struct st_ch *c);

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
