/* The disk spool: batches ClickHouse could not take while it was down or slow, kept as one
 * RowBinary file per batch in spool_dir and replayed oldest first when it is back.
 *
 * A file's name carries everything replay needs, so the spool needs no index file and a
 * restart picks up where the last run stopped:
 *     SEQ-TABLE-BATCHID-ROWS[-u].rowbinary      e.g. 00000000000002a1-flows-5f3c9a0100000007-100000.rowbinary
 * SEQ (16 hex digits) orders replays, BATCHID is the id stamped into every row's batch_id
 * column, "-u" marks a batch whose post had an unknown outcome (ClickHouse may hold it: the
 * ledger decides). The body is exactly what the INSERT would have sent, so an operator can also
 * load a file by hand (INSERT INTO db.TABLE FORMAT RowBinary). Files are written atomically
 * (lib/atomic_file.h): a crash never leaves half a batch under a spool name.
 *
 * Bounded twice: by max_bytes (spool_max_bytes) and by ST_SPOOL_MAX_FILES, so the in-memory
 * index stays small; a batch beyond either is refused and the writer counts its rows dropped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/atomic_file.h"
#include "../lib/log.h"
#include "../lib/path.h"
#include "st_int.h"

/* A spooled batch is at most batch_rows (≤ 1 000 000) rows of ≤ 608 bytes; anything bigger is
 * not ours. */
#define SPOOL_FILE_MAX (512ull << 20)

struct st_spool {
	char dir[256];
	uint64_t max_bytes;
	uint64_t bytes;
	uint64_t rows[ST_NTABLES];
	uint64_t next_seq;
	/* a ring of entries in seq order: put appends at the tail, replay pops the head */
	struct st_spool_entry *e;
	size_t head, count;
	/* deferred: batches written under their temporary name, not yet fsynced nor renamed */
	bool deferred;
	unsigned n_pending;
	uint64_t pending_bytes;
	struct pending {
		int fd;
		struct st_spool_entry e;
	} pending[ST_SPOOL_PENDING_MAX];
};

static void entry_paths(const struct st_spool *s, const struct st_spool_entry *e, char *path, char *tmp,
			size_t len)
{
	char name[128];
	st_spool_name(e, name, sizeof name);
	snprintf(path, len, "%s/%s", s->dir, name);
	snprintf(tmp, len, "%s/.%s.tmp", s->dir, name);
}

void st_spool_name(const struct st_spool_entry *e, char *out, size_t outlen)
{
	snprintf(out, outlen, "%016" PRIx64 "-%s-%016" PRIx64 "-%" PRIu32 "%s.rowbinary", e->seq,
		 st_table_name[e->table], e->batch_id, e->rows, e->unknown ? "-u" : "");
}

static bool hex16(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	for (int i = 0; i < 16; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		x = x << 4 | d;
	}
	*v = x;
	return true;
}

bool st_spool_parse_name(const char *name, struct st_spool_entry *e)
{
	memset(e, 0, sizeof *e);
	if (strlen(name) > 128 || !hex16(name, &e->seq) || name[16] != '-')
		return false;
	const char *p = name + 17;
	int t;
	for (t = 0; t < ST_NTABLES; t++) {
		size_t n = strlen(st_table_name[t]);
		if (strncmp(p, st_table_name[t], n) == 0 && p[n] == '-') {
			p += n + 1;
			break;
		}
	}
	if (t == ST_NTABLES)
		return false;
	e->table = (enum st_table)t;
	if (!hex16(p, &e->batch_id) || p[16] != '-')
		return false;
	p += 17;
	uint64_t rows = 0;
	const char *d = p;
	while (*p >= '0' && *p <= '9' && p - d < 10)
		rows = rows * 10 + (uint64_t)(*p++ - '0');
	if (p == d || rows == 0 || rows > UINT32_MAX || (d[0] == '0'))
		return false;
	e->rows = (uint32_t)rows;
	if (strncmp(p, "-u", 2) == 0) {
		e->unknown = true;
		p += 2;
	}
	return strcmp(p, ".rowbinary") == 0;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct st_spool_entry *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct st_spool_entry *at(const struct st_spool *s, size_t i)
{
	return &s->e[(s->head + i) % ST_SPOOL_MAX_FILES];
}

/* .NAME.tmp with NAME a spool name: a batch a crash stopped half-way (atomic_file.h). Its rows
 * are in no ledger, and left there each would hold its space for ever. */
static bool half_written(const char *name)
{
	struct st_spool_entry e;
	char base[130];
	size_t n = strlen(name);
	if (name[0] != '.' || n < 6 || n - 5 >= sizeof base || strcmp(name + n - 4, ".tmp"))
		return false;
	memcpy(base, name + 1, n - 5);
	base[n - 5] = 0;
	return st_spool_parse_name(base, &e);
}

struct st_spool *st_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
	if (path_mkdir_p(dir, 0750, err, errlen) != 0)
		return NULL;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot read spool directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct st_spool *s = calloc(1, sizeof *s);
	if (s)
		s->e = calloc(ST_SPOOL_MAX_FILES, sizeof *s->e);
	if (!s || !s->e) {
		free(s);
		closedir(d);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->max_bytes = max_bytes;
	struct dirent *de;
	unsigned foreign = 0, stale = 0;
	while ((de = readdir(d))) {
		struct st_spool_entry e;
		char path[400];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (half_written(de->d_name) && unlink(path) == 0)
			stale++;
		if (de->d_name[0] == '.')
			continue;
		if (!st_spool_parse_name(de->d_name, &e) || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			foreign++;
			continue;
		}
		if (s->count == ST_SPOOL_MAX_FILES) {
			log_warn("storage: more than %d batches in the spool %s; the rest wait for a restart",
				 ST_SPOOL_MAX_FILES, dir);
			break;
		}
		e.bytes = (uint64_t)st.st_size;
		s->e[s->count++] = e;
		s->bytes += e.bytes;
		s->rows[e.table] += e.rows;
	}
	closedir(d);
	qsort(s->e, s->count, sizeof *s->e, cmp_seq);
	s->next_seq = s->count ? s->e[s->count - 1].seq + 1 : 1;
	if (stale)
		log_warn("storage: %u half-written batches (a crash's) removed from the spool %s", stale, dir);
	if (foreign)
		log_warn("storage: %u files in the spool %s are not spooled batches; ignored", foreign, dir);
	if (s->count)
		log_info("storage: the spool %s holds %" PRIu64 " batches (%" PRIu64 " bytes) from an earlier "
			 "run; replaying them when ClickHouse answers", dir, (uint64_t)s->count, s->bytes);
	return s;
}

void st_spool_free(struct st_spool *s)
{
	if (!s)
		return;
	char err[200];
	if (st_spool_sync(s, NULL, err, sizeof err))
		log_err("storage: spooled batches lost at close: %s", err);
	free(s->e);
	free(s);
}

static void index_add(struct st_spool *s, const struct st_spool_entry *e)
{
	*at(s, s->count) = *e;
	s->count++;
	s->bytes += e->bytes;
	s->rows[e->table] += e->rows;
}

/* A deferred batch: its bytes under the temporary name, the descriptor kept for the fsync that
 * st_spool_sync does for all of them. */
static int put_deferred(struct st_spool *s, const struct st_spool_entry *e, const uint8_t *body, size_t len,
			char *err, size_t errlen)
{
	char path[400], tmp[400];
	entry_paths(s, e, path, tmp, sizeof path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || fd_write_all(fd, body, len) != 0) {
		int bad = errno;
		snprintf(err, errlen, "cannot write %s (%s): %s", tmp, fd < 0 ? "open" : "write", strerror(bad));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		errno = bad;
		return -1;
	}
	s->pending[s->n_pending++] = (struct pending){.fd = fd, .e = *e};
	s->pending_bytes += len;
	return 0;
}

int st_spool_put(struct st_spool *s, enum st_table t, uint64_t batch_id, uint32_t rows, bool unknown,
		 const uint8_t *body, size_t len, char *err, size_t errlen)
{
	if (s->deferred && s->n_pending == ST_SPOOL_PENDING_MAX) {
		snprintf(err, errlen, "spool %s: %u batches wait for their sync", s->dir, s->n_pending);
		return -2;
	}
	if (s->count + s->n_pending >= ST_SPOOL_MAX_FILES || s->bytes + s->pending_bytes + len > s->max_bytes) {
		snprintf(err, errlen, "spool %s full (%" PRIu64 " of %" PRIu64 " bytes, %zu batches)", s->dir,
			 s->bytes, s->max_bytes, s->count);
		return -2;
	}
	struct st_spool_entry e = {.seq = s->next_seq, .table = t, .batch_id = batch_id, .rows = rows,
				   .unknown = unknown, .bytes = len};
	if (s->deferred) {
		if (put_deferred(s, &e, body, len, err, errlen) != 0)
			return -1;
		s->next_seq++;
		return 0;
	}
	char name[128], path[400];
	st_spool_name(&e, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	/* written under a dot name the scan above skips, fsynced, renamed: a crash never leaves half
	 * a batch under a spool name. The cost is two fsyncs per batch, a batch being up to
	 * batch_rows rows: small beside the post it stands in for. */
	const char *step;
	int bad = afile_write(path, body, len, 0640, &step);
	if (bad) {
		snprintf(err, errlen, "cannot write %s (%s): %s", path, step, strerror(bad));
		errno = bad;
		return -1;
	}
	s->next_seq++;
	index_add(s, &e);
	return 0;
}

void st_spool_defer_sync(struct st_spool *s)
{
	s->deferred = true;
}

unsigned st_spool_sync(struct st_spool *s, uint64_t lost_rows[ST_NTABLES], char *err, size_t errlen)
{
	unsigned failed = 0;
	int bad = 0;
	const char *step = "";
	char path[400], tmp[400], first[400] = "";
	/* the first fsync commits the journal for every file written so far; the others find
	 * their blocks on disk already and cost a cache flush */
	for (unsigned i = 0; i < s->n_pending; i++) {
		struct pending *p = &s->pending[i];
		entry_paths(s, &p->e, path, tmp, sizeof path);
		int e = fsync(p->fd) != 0 ? errno : 0;
		const char *what = "fsync";
		if (close(p->fd) != 0 && !e)
			e = errno, what = "close";
		if (!e && rename(tmp, path) != 0)
			e = errno, what = "rename";
		if (e) {
			unlink(tmp);
			if (!bad)
				bad = e, step = what, snprintf(first, sizeof first, "%s", tmp);
			if (lost_rows)
				lost_rows[p->e.table] += p->e.rows;
			failed++;
			continue;
		}
		index_add(s, &p->e);
	}
	if (s->n_pending > failed) {
		/* one directory fsync makes every rename durable */
		int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int e = dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL) ? errno : 0;
		if (dfd >= 0)
			close(dfd);
		if (e && !bad)
			bad = e, step = "fsync directory", snprintf(first, sizeof first, "%s", s->dir);
	}
	if (bad)
		snprintf(err, errlen, "cannot sync %s (%s): %s", first, step, strerror(bad));
	s->n_pending = 0;
	s->pending_bytes = 0;
	return failed;
}

unsigned st_spool_pending(const struct st_spool *s)
{
	return s->n_pending;
}

bool st_spool_oldest(const struct st_spool *s, struct st_spool_entry *e)
{
	if (!s->count)
		return false;
	*e = *at(s, 0);
	return true;
}

int st_spool_read_oldest(struct st_spool *s, uint8_t **body, size_t *len, char *err, size_t errlen)
{
	const struct st_spool_entry *e = at(s, 0);
	char name[128], path[400];
	st_spool_name(e, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > SPOOL_FILE_MAX || st.st_size == 0) {
		snprintf(err, errlen, "%s: %lld bytes is not a batch", path, (long long)st.st_size);
		close(fd);
		return -1;
	}
	uint8_t *b = malloc((size_t)st.st_size);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!b || got != (size_t)st.st_size) {
		snprintf(err, errlen, "cannot read %s: %s", path, b ? "short read" : "out of memory");
		free(b);
		return -1;
	}
	*body = b;
	*len = got;
	return 0;
}

void st_spool_pop(struct st_spool *s)
{
	if (!s->count)
		return;
	struct st_spool_entry *e = at(s, 0);
	char name[128], path[400];
	st_spool_name(e, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	if (unlink(path) != 0 && errno != ENOENT)
		/* left behind it would be replayed again at the next start: the ledger makes that
		 * harmless only for "-u" files, so say it loudly */
		log_err("storage: cannot delete the replayed spool file %s: %s; remove it by hand", path,
			strerror(errno));
	s->bytes -= e->bytes <= s->bytes ? e->bytes : s->bytes;
	s->rows[e->table] -= e->rows <= s->rows[e->table] ? e->rows : s->rows[e->table];
	s->head = (s->head + 1) % ST_SPOOL_MAX_FILES;
	s->count--;
}

int st_spool_mark_unknown(struct st_spool *s)
{
	struct st_spool_entry *e = at(s, 0);
	if (!s->count || e->unknown)
		return 0;
	char from[128], to[128], pf[400], pt[400];
	st_spool_name(e, from, sizeof from);
	e->unknown = true;
	st_spool_name(e, to, sizeof to);
	snprintf(pf, sizeof pf, "%s/%s", s->dir, from);
	snprintf(pt, sizeof pt, "%s/%s", s->dir, to);
	if (rename(pf, pt) != 0) {
		e->unknown = false;
		return -1;
	}
	return 0;
}

uint64_t st_spool_bytes(const struct st_spool *s)
{
	return s->bytes;
}

uint64_t st_spool_count(const struct st_spool *s)
{
	return s->count;
}

uint64_t st_spool_rows(const struct st_spool *s, enum st_table t)
{
	return s->rows[t];
}
