/* File output, when no ClickHouse is configured (and the spool when one stays down at stop):
 * RowBinary files ClickHouse loads as they are, one per table per UTC hour of writing,
 * DIR/flows-YYYYMMDDHH.rowbinary and DIR/attack_events-YYYYMMDDHH.rowbinary, with DIR/schema.sql
 * beside them to create the tables first. A file is only ever appended whole batches, and a
 * batch that fails half-way is cut off again, so every file is a sequence of whole rows. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/atomic_file.h"
#include "../lib/log.h"
#include "../lib/path.h"
#include "st_int.h"

struct st_files {
	char dir[256];
	int fd[ST_NTABLES];
	time_t hour[ST_NTABLES]; /* the hour fd[] belongs to */
};


static int write_schema(const char *dir, const char *db, char *err, size_t errlen)
{
	char sql[8192], path[300];
	if (st_schema_sql(db, sql, sizeof sql) != 0) {
		snprintf(err, errlen, "schema does not fit (internal)");
		return -1;
	}
	snprintf(path, sizeof path, "%s/schema.sql", dir);
	/* atomic: a reader never sees half a schema */
	const char *step;
	int e = afile_write(path, sql, strlen(sql), 0640, &step);
	if (e) {
		snprintf(err, errlen, "cannot write %s (%s): %s", path, step, strerror(e));
		return -1;
	}
	return 0;
}

struct st_files *st_files_new(const char *dir, const char *db, char *err, size_t errlen)
{
	if (path_mkdir_p(dir, 0750, err, errlen) != 0 || write_schema(dir, db, err, errlen) != 0)
		return NULL;
	struct st_files *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(f->dir, sizeof f->dir, "%s", dir);
	for (int t = 0; t < ST_NTABLES; t++)
		f->fd[t] = -1;
	return f;
}

void st_files_free(struct st_files *f)
{
	if (!f)
		return;
	for (int t = 0; t < ST_NTABLES; t++)
		if (f->fd[t] >= 0)
			close(f->fd[t]);
	free(f);
}

void st_files_name(enum st_table t, time_t now, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(out, outlen, "%s-%04d%02d%02d%02d.rowbinary", st_table_name[t], tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
}

int st_files_write(struct st_files *f, enum st_table t, const uint8_t *body, size_t len, char *err,
		   size_t errlen)
{
	time_t now = time(NULL);
	time_t hour = now - now % 3600;
	char name[64], path[330];
	st_files_name(t, now, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	if (f->fd[t] >= 0 && f->hour[t] != hour) {
		close(f->fd[t]);
		f->fd[t] = -1;
	}
	if (f->fd[t] < 0) {
		f->fd[t] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (f->fd[t] < 0) {
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		f->hour[t] = hour;
	}
	off_t before = lseek(f->fd[t], 0, SEEK_END);
	if (before < 0 || fd_write_all(f->fd[t], body, len) != 0) {
		int e = errno;
		/* a disk that filled mid-batch leaves a partial row: cut back to the last whole batch */
		if (before >= 0 && ftruncate(f->fd[t], before) != 0)
			log_warn("storage: cannot truncate %s after a failed write; the file ends in a "
				 "partial row: %s", path, strerror(errno));
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -1;
	}
	return 0;
}
