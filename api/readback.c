/* Read-back from ClickHouse: the flows of one attack, the top talkers of one host.
 *
 * The main loop must never wait for ClickHouse, so queries run on one thread of their own: the
 * main loop builds the SQL (it knows the attacks), queues a job (a mutex, once per query), and
 * gets the answer back through a pipe its event loop watches; the caller's callback then runs on
 * the main loop with the formatted reply. Bounded everywhere: at most QUEUE_MAX jobs waiting
 * (more are refused, "busy"), one query at a time, a 10 s deadline on each (ClickHouse's own
 * max_execution_time 8 s, libcurl's 10 s), at most 1000 rows and ANSWER_MAX bytes of answer.
 * A caller that goes away (the client closed) cancels its job; the answer is then discarded.
 *
 * Only with ClickHouse storage; with file output every query is refused with a clear error. */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "api.h"
#include "internal.h"

#define QUEUE_MAX READBACK_QUEUE_MAX
#define ANSWER_MAX (1u << 20)
#define ROWS_DEFAULT 20
#define ROWS_MAX 1000

enum rb_kind { RB_FLOWS, RB_TALKERS };

struct api_rb_job {
	struct api_readback *rb;
	enum rb_kind kind;
	bool json;
	char sql[2][1536];       /* [0] for FixedString(16) addresses (18.16 shape), [1] for IPv6 */
	char head[256];          /* what the answer is about, for the reply's first line / object */
	api_rb_done cb;           /* NULL once cancelled; only the main loop touches it */
	void *ctx;
	/* filled by the thread */
	char *answer;
	size_t len;
	bool ok;
	char error[256];
	struct api_rb_job *next;
};

struct api_readback {
	struct api_ctx *rp;
	char url[512];
	char userpwd[130];
	char db[64];
	int dst_v6;              /* flows.dst is IPv6 (1), FixedString(16) (0), not known yet (-1);
				  * the query thread's own, looked up before its first query */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct api_rb_job *todo, *done; /* FIFO of jobs to run; LIFO of answers (order is per job) */
	unsigned queued;
	bool stop;
	int pipe[2];
	struct event *ev;
};

/* ---- the query thread ---------------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct api_rb_job *j = arg;
	size_t add = size * n;
	if (j->len + add > ANSWER_MAX)
		return 0; /* the row limit makes this unreachable for sane rows; fail rather than grow */
	char *a = realloc(j->answer, j->len + add + 1);
	if (!a)
		return 0;
	memcpy(a + j->len, p, add);
	j->answer = a;
	j->len += add;
	a[j->len] = 0;
	return add;
}

/* 0 answered, 1 ClickHouse answered an error (the query was wrong for it), -1 no answer */
static int post_sql(struct api_readback *rb, CURL *c, struct api_rb_job *j, const char *sql)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, rb->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, sql);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, READBACK_QUERY_S * 1000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
	if (rb->userpwd[0])
		curl_easy_setopt(c, CURLOPT_USERPWD, rb->userpwd);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		snprintf(j->error, sizeof j->error, "ClickHouse: %s", curl_easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		/* ClickHouse's message, first line only */
		const char *m = j->answer ? j->answer : "";
		snprintf(j->error, sizeof j->error, "ClickHouse: HTTP %ld: %.*s", status, (int)strcspn(m, "\n"), m);
		return 1;
	}
	return 0;
}

/* The address literals depend on the table's shape: an IPv6 column does not compare with a
 * FixedString(16) (26.7 parses the bytes as text), a FixedString(16) has no IPv6 on 18.16. The
 * shape is the table's own column type, looked up once; again after ClickHouse refused a
 * query (the database may have been made anew), not after a timeout (a hung server would then
 * cost each query two deadlines). */
static void run_query(struct api_readback *rb, CURL *c, struct api_rb_job *j)
{
	if (rb->dst_v6 < 0) {
		char sql[300];
		snprintf(sql, sizeof sql, "SELECT type FROM system.columns WHERE database = '%s' AND table = 'flows' "
			 "AND name = 'dst' FORMAT TabSeparated", rb->db);
		int rc = post_sql(rb, c, j, sql);
		if (rc == 0)
			rb->dst_v6 = j->answer && !strncmp(j->answer, "IPv6", 4);
		free(j->answer);
		j->answer = NULL;
		j->len = 0;
		if (rc != 0)
			return; /* its error is the job's */
	}
	int rc = post_sql(rb, c, j, j->sql[rb->dst_v6 == 1]);
	j->ok = rc == 0;
	if (rc == 1)
		rb->dst_v6 = -1;
}

static void *rb_main(void *arg)
{
	struct api_readback *rb = arg;
	CURL *c = curl_easy_init();
	pthread_mutex_lock(&rb->lock);
	for (;;) {
		while (!rb->todo && !rb->stop)
			pthread_cond_wait(&rb->cond, &rb->lock);
		if (rb->stop)
			break;
		struct api_rb_job *j = rb->todo;
		rb->todo = j->next;
		pthread_mutex_unlock(&rb->lock);
		if (c)
			run_query(rb, c, j);
		else
			snprintf(j->error, sizeof j->error, "libcurl: cannot start");
		pthread_mutex_lock(&rb->lock);
		j->next = rb->done;
		rb->done = j;
		char one = 1;
		if (write(rb->pipe[1], &one, 1) < 0) {
			/* the pipe is full of wake-ups already: the main loop will see this job too */
		}
	}
	pthread_mutex_unlock(&rb->lock);
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

/* ---- answers, on the main loop ------------------------------------------------------------- */

struct column {
	const char *name;
	bool number;
	int width;
};

static const struct column flows_cols[] = {
	{"start", false, 19}, {"src", false, 39}, {"dst", false, 24}, {"src_port", true, 8},
	{"dst_port", true, 8}, {"protocol", true, 8}, {"tcp_flags", true, 9}, {"packets", true, 10},
	{"bytes", true, 12}, {"sampling_rate", true, 13}, {"source", true, 6},
};
/* talkers: the first field says which list the row belongs to */
static const struct column talkers_cols[] = {
	{"key", false, 39}, {"flows", true, 10}, {"packets", true, 12}, {"bytes", true, 14},
};

/* Splits TabSeparated line into at most max fields (no escapes can occur: every column is a
 * number or an address, date or fixed word). Returns the count. */
static size_t split_tsv(char *line, char **f, size_t max)
{
	size_t n = 0;
	while (n < max) {
		f[n++] = line;
		char *t = strchr(line, '\t');
		if (!t)
			break;
		*t = 0;
		line = t + 1;
	}
	return n;
}

static void add_row(struct evbuffer *out, bool json, const struct column *cols, size_t ncols, char **f,
		    bool *first)
{
	if (json) {
		evbuffer_add_printf(out, "%s{", *first ? "" : ",");
		for (size_t i = 0; i < ncols; i++) {
			evbuffer_add_printf(out, "%s\"%s\":", i ? "," : "", cols[i].name);
			if (cols[i].number && f[i][0] && strspn(f[i], "0123456789.") == strlen(f[i]))
				evbuffer_add_printf(out, "%s", f[i]);
			else
				json_str(out, f[i], strlen(f[i]));
		}
		evbuffer_add(out, "}", 1);
	} else {
		for (size_t i = 0; i < ncols; i++)
			evbuffer_add_printf(out, "%s%*s", i ? " " : "", cols[i].number ? cols[i].width : -cols[i].width,
					    f[i]);
		evbuffer_add(out, "\n", 1);
	}
	*first = false;
}

static void add_header(struct evbuffer *out, const struct column *cols, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++)
		evbuffer_add_printf(out, "%s%*s", i ? " " : "", cols[i].number ? cols[i].width : -cols[i].width,
				    cols[i].name);
	evbuffer_add(out, "\n", 1);
}

/* The answer as text (rampartctl) or a JSON object (the HTTP API). Talkers come as one
 * result of two lists (kind "src" or "port" in the first field), each sorted already. */
static void format_answer(struct api_rb_job *j, struct evbuffer *out)
{
	bool talkers = j->kind == RB_TALKERS;
	const struct column *cols = talkers ? talkers_cols : flows_cols;
	size_t ncols = talkers ? sizeof talkers_cols / sizeof talkers_cols[0] : sizeof flows_cols / sizeof flows_cols[0];
	const char *lists[2] = {talkers ? "src" : "", "port"};
	const char *names[2] = {talkers ? "sources" : "flows", "ports"};
	size_t nlists = talkers ? 2 : 1, rows = 0;
	if (j->json)
		evbuffer_add_printf(out, "{%s", j->head);
	else
		evbuffer_add_printf(out, "%s\n", j->head);
	for (size_t l = 0; l < nlists; l++) {
		bool first = true;
		if (j->json)
			evbuffer_add_printf(out, ",\"%s\":[", names[l]);
		else {
			evbuffer_add_printf(out, "%s%s\n", l ? "\n" : "", talkers ? (l ? "top ports (protocol/port):" : "top sources:") : "top flows by packets:");
			add_header(out, cols, ncols);
		}
		char *p = j->answer ? j->answer : (char *)"";
		size_t left = j->len;
		char *copy = malloc(left + 1);
		if (!copy)
			break;
		memcpy(copy, p, left);
		copy[left] = 0;
		for (char *line = copy, *nl; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (!nl)
				nl = line + strlen(line) - 1;
			else
				*nl = 0;
			char *f[16];
			size_t n = split_tsv(line, f, 16);
			if (talkers) {
				if (n != ncols + 1 || strcmp(f[0], lists[l]))
					continue;
				add_row(out, j->json, cols, ncols, f + 1, &first);
			} else {
				if (n != ncols)
					continue;
				add_row(out, j->json, cols, ncols, f, &first);
			}
			rows++;
			if (!nl[1])
				break;
		}
		free(copy);
		if (j->json)
			evbuffer_add(out, "]", 1);
	}
	if (j->json)
		evbuffer_add_printf(out, ",\"rows\":%zu}\n", rows);
	else
		evbuffer_add_printf(out, "%zu rows\n", rows);
}

static void on_answers(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct api_readback *rb = arg;
	char drain[64];
	while (read(fd, drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&rb->lock);
	struct api_rb_job *list = rb->done;
	rb->done = NULL;
	pthread_mutex_unlock(&rb->lock);
	while (list) {
		struct api_rb_job *j = list;
		list = j->next;
		if (j->cb) {
			struct evbuffer *out = evbuffer_new();
			if (out) {
				if (j->ok)
					format_answer(j, out);
				else
					evbuffer_add_printf(out, "%s\n", j->error);
				j->cb(j->ctx, j->ok, out);
				evbuffer_free(out);
			}
		}
		rb->queued--;
		free(j->answer);
		free(j);
	}
}

/* ---- building the queries ------------------------------------------------------------------ */

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || !*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > max)
		return false;
	*out = v;
	return true;
}

/* UNIX seconds, or YYYY-MM-DDTHH:MM:SS[Z] (UTC), or -N: N seconds before now. */
static bool parse_time(const char *s, uint64_t now, uint64_t *out)
{
	uint64_t v;
	if (s[0] == '-' && parse_uint(s + 1, now, &v)) {
		*out = now - v;
		return true;
	}
	if (parse_uint(s, UINT32_MAX, &v)) {
		*out = v;
		return true;
	}
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || (*end && strcmp(end, "Z")))
		return false;
	time_t t = timegm(&tm);
	if (t < 0)
		return false;
	*out = (uint64_t)t;
	return true;
}

/* "now" on the daemon's clock: the capture's in a replay, else the wall clock. */
static uint64_t now_s(const struct api_readback *rb)
{
	if (rb->rp->replay && api_now_ns(rb->rp))
		return api_now_ns(rb->rp) / 1000000000u;
	return (uint64_t)time(NULL);
}

static int build_flows(struct api_readback *rb, struct api_rb_job *j, uint64_t id, uint64_t limit, char *err,
		       size_t errlen)
{
	enum { MAXA = 512 };
	struct det_ban_info *all = malloc(MAXA * sizeof *all);
	if (!all) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = det_engine_attacks(rb->rp->engine, all, MAXA);
	struct det_ban_info *a = NULL;
	for (size_t i = 0; i < n && i < MAXA; i++)
		if (all[i].attack_id == id)
			a = &all[i];
	if (!a) {
		free(all);
		snprintf(err, errlen, "no attack %" PRIu64 " (active or among the last 256)", id);
		return -1;
	}
	/* The window: from a minute before detection (the traffic that tripped it, and flow records
	 * whose start precedes it) to a minute after the end (or now, for an active attack). */
	uint64_t from = a->since_ns / 1000000000u, to = (a->ended_ns ? a->ended_ns / 1000000000u : now_s(rb));
	from = from > 60 ? from - 60 : 0;
	to += 60;
	char pfx[IP_PREFIX_STRLEN];
	ip_prefix target = a->target;
	ip_prefix_format(&target, pfx);
	free(all);
	snprintf(j->head, sizeof j->head,
		 j->json ? "\"attack_id\":%" PRIu64 ",\"target\":\"%s\",\"from\":%" PRIu64 ",\"to\":%" PRIu64
			 : "attack %" PRIu64 " target %s, flows from %" PRIu64 " to %" PRIu64 " (UNIX s)",
		 id, pfx, from, to);
	for (int v6 = 0; v6 < 2; v6++)
		st_readback_flows_sql(j->sql[v6], sizeof j->sql[v6], rb->db, &target, from, to, limit, v6);
	return 0;
}

static int build_talkers(struct api_readback *rb, struct api_rb_job *j, const ip_addr *host, uint64_t from,
			 uint64_t to, uint64_t limit)
{
	char txt[IP_STRLEN];
	ip_format(host, txt);
	snprintf(j->head, sizeof j->head,
		 j->json ? "\"host\":\"%s\",\"from\":%" PRIu64 ",\"to\":%" PRIu64
			 : "talkers of %s from %" PRIu64 " to %" PRIu64 " (UNIX s; packets and bytes scaled by sampling)",
		 txt, from, to);
	for (int v6 = 0; v6 < 2; v6++)
		st_readback_talkers_sql(j->sql[v6], sizeof j->sql[v6], rb->db, host, from, to, limit, v6);
	return 0;
}

/* ---- public -------------------------------------------------------------------------------- */

struct api_readback *api_readback_new(struct api_ctx *rp)
{
	struct api_readback *rb = calloc(1, sizeof *rb);
	if (!rb)
		return NULL;
	rb->rp = rp;
	rb->pipe[0] = rb->pipe[1] = -1;
	rb->dst_v6 = -1;
	snprintf(rb->db, sizeof rb->db, "%s", rp->conf->storage.database);
	const struct st_config *sc = &rp->conf->storage;
	if (!sc->clickhouse_url[0])
		return rb; /* file output: every query refused */
	/* the limits travel as ClickHouse settings too, so a heavy query stops at the server */
	snprintf(rb->url, sizeof rb->url, "%s/?max_execution_time=8&max_result_rows=%d&readonly=1",
		 sc->clickhouse_url, 2 * ROWS_MAX);
	if (sc->user[0])
		snprintf(rb->userpwd, sizeof rb->userpwd, "%s:%s", sc->user, sc->password);
	pthread_mutex_init(&rb->lock, NULL);
	pthread_cond_init(&rb->cond, NULL);
	if (pipe2(rb->pipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    !(rb->ev = event_new(rp->base, rb->pipe[0], EV_READ | EV_PERSIST, on_answers, rb)) ||
	    event_add(rb->ev, NULL) != 0 || pthread_create(&rb->thread, NULL, rb_main, rb) != 0) {
		log_err("readback: cannot start the query thread");
		api_readback_free(rb);
		return NULL;
	}
	rb->running = true;
	return rb;
}

void api_readback_free(struct api_readback *rb)
{
	if (!rb)
		return;
	if (rb->running) {
		pthread_mutex_lock(&rb->lock);
		rb->stop = true;
		pthread_cond_broadcast(&rb->cond);
		pthread_mutex_unlock(&rb->lock);
		pthread_join(rb->thread, NULL); /* a query in progress ends by its 10 s deadline */
	}
	for (struct api_rb_job *l = rb->todo; l;) {
		struct api_rb_job *n = l->next;
		free(l->answer);
		free(l);
		l = n;
	}
	for (struct api_rb_job *l = rb->done; l;) {
		struct api_rb_job *n = l->next;
		free(l->answer);
		free(l);
		l = n;
	}
	if (rb->ev)
		event_free(rb->ev);
	for (int i = 0; i < 2; i++)
		if (rb->pipe[i] >= 0)
			close(rb->pipe[i]);
	if (rb->url[0]) {
		pthread_mutex_destroy(&rb->lock);
		pthread_cond_destroy(&rb->cond);
	}
	free(rb);
}

bool api_readback_is_command(const char *line)
{
	size_t n = strcspn(line, " \t");
	return (n == 5 && !strncmp(line, "flows", 5)) || (n == 7 && !strncmp(line, "talkers", 7));
}

struct api_rb_job *api_readback_start(struct api_readback *rb, const struct api_rb_request *req, api_rb_done cb,
				    void *ctx, char *err, size_t errlen)
{
	if (!rb || !rb->running) {
		snprintf(err, errlen, "read-back needs ClickHouse storage (storage.clickhouse.url); this daemon writes files");
		return NULL;
	}
	if (rb->queued >= QUEUE_MAX) {
		snprintf(err, errlen, "busy: %d read-back queries waiting already; try again", QUEUE_MAX);
		return NULL;
	}
	uint64_t limit = req->limit ? req->limit : ROWS_DEFAULT;
	if (limit > ROWS_MAX)
		limit = ROWS_MAX;
	struct api_rb_job *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j->rb = rb;
	j->json = req->json;
	j->kind = req->talkers ? RB_TALKERS : RB_FLOWS;
	int rc;
	if (req->talkers) {
		uint64_t to = req->to ? req->to : now_s(rb) + 1;
		uint64_t from = req->from_set ? req->from : (to > 3600 ? to - 3600 : 0);
		if (from >= to) {
			snprintf(err, errlen, "the range is empty: from %" PRIu64 " is not before to %" PRIu64, from, to);
			free(j);
			return NULL;
		}
		rc = build_talkers(rb, j, &req->host, from, to, limit);
	} else {
		rc = build_flows(rb, j, req->attack_id, limit, err, errlen);
	}
	if (rc != 0) {
		free(j);
		return NULL;
	}
	j->cb = cb;
	j->ctx = ctx;
	rb->queued++;
	pthread_mutex_lock(&rb->lock);
	struct api_rb_job **tail = &rb->todo;
	while (*tail)
		tail = &(*tail)->next;
	*tail = j;
	pthread_cond_signal(&rb->cond);
	pthread_mutex_unlock(&rb->lock);
	return j;
}

void api_readback_cancel(struct api_rb_job *j)
{
	if (j)
		j->cb = NULL;
}

int api_readback_parse(struct api_readback *rb, const char *line, struct api_rb_request *req, char *err, size_t errlen)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", line);
	char *save, *w = strtok_r(buf, " \t", &save);
	memset(req, 0, sizeof *req);
	uint64_t now = rb ? now_s(rb) : (uint64_t)time(NULL);
	if (!w) {
		snprintf(err, errlen, "empty command");
		return -1;
	}
	req->talkers = !strcmp(w, "talkers");
	char *arg = strtok_r(NULL, " \t", &save);
	if (!arg) {
		snprintf(err, errlen, req->talkers ? "usage: talkers HOST [--from T] [--to T] [--limit N]"
						   : "usage: flows ATTACK_ID [--limit N]");
		return -1;
	}
	if (req->talkers ? !ip_parse(arg, &req->host) : !parse_uint(arg, UINT64_MAX, &req->attack_id)) {
		snprintf(err, errlen, "'%s' is not %s", arg, req->talkers ? "an IP address" : "an attack id");
		return -1;
	}
	while ((w = strtok_r(NULL, " \t", &save))) {
		char *v = strtok_r(NULL, " \t", &save);
		bool okv = v != NULL;
		if (okv && !strcmp(w, "--limit"))
			okv = parse_uint(v, ROWS_MAX, &req->limit) && req->limit > 0;
		else if (okv && req->talkers && !strcmp(w, "--from"))
			okv = parse_time(v, now, &req->from), req->from_set = true;
		else if (okv && req->talkers && !strcmp(w, "--to"))
			okv = parse_time(v, now, &req->to);
		else
			okv = false;
		if (!okv) {
			snprintf(err, errlen, "bad option '%s %s' (--limit 1..%d%s; times: UNIX seconds, -SECONDS, or YYYY-MM-DDTHH:MM:SSZ)",
				 w, v ? v : "", ROWS_MAX, req->talkers ? ", --from T, --to T" : "");
			return -1;
		}
	}
	return 0;
}
