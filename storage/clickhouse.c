/* The ClickHouse HTTP client: one libcurl easy handle, reused so the TCP connection stays open
 * between inserts. Used only by the storage thread (and by st_writer_start before the thread
 * exists), so it needs no locking.
 *
 * The protocol is ClickHouse's HTTP interface as it is in 18.16: the statement in the `query`
 * URL parameter, the data as the POST body; any status but 200 is a failure whose body is the
 * error text. Credentials go as HTTP Basic authentication, which 18.16 accepts. */
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "st_int.h"

#define CONNECT_TIMEOUT_MS 2000L
/* An insert of 100k rows takes ~0.1 s here; a server stuck for this long is treated as down and
 * the batch goes to the spool (marked unknown: it may still land). Bounded because the one
 * storage thread waits meanwhile and the rings hold only ~0.5 s at full rate. */
#define INSERT_TIMEOUT_MS 5000L
/* schema statements and the retention queries: ALTERs may wait for a merge */
#define QUERY_TIMEOUT_MS 30000L
/* is it back? a healthy server answers SELECT 1 in a millisecond */
#define PROBE_TIMEOUT_MS 1000L
#define ANSWER_MAX 512

/* A body compressed for the wire, kept and grown for the next batch (no allocation per
 * batch once it has seen the largest one). */
struct squeezed {
	uint8_t *p;
	size_t cap;
};

/* One INSERT in flight on the multi handle; its own easy handle and answer. */
struct slot {
	CURL *easy;
	bool busy;
	struct squeezed gz; /* the body in flight when compressing: must live until it is done */
	char answer[ANSWER_MAX];
	size_t answer_len;
	bool sent; /* the request went out on a connection (see on_sending) */
};

struct st_ch {
	CURL *curl;
	CURLM *multi;
	struct slot slot[ST_CH_MAX_INFLIGHT];
	unsigned busy;
	struct curl_slist *headers;
	struct curl_slist *insert_headers;  /* headers + Content-Encoding when compressing */
	bool gzip;
	struct squeezed gz;                 /* the synchronous inserts' (spool replay) */
	uint64_t wire_bytes;                /* INSERT bodies as sent, after compression */
	char url[300];                      /* base, no trailing slash */
	char insert_url[ST_NTABLES][2][600]; /* base + "/?query=INSERT ..." escaped; [0] RowBinary, [1] Native */
	char db[64];
	char cluster[64];                   /* "" = plain tables */
	const char *local;                  /* the data tables' suffix: "_local" with a cluster */
	unsigned retention_days;
	char version[32];
	unsigned features;                  /* the database's shape, ST_F_* (st_ch_shape) */
	char answer[ANSWER_MAX];            /* start of the last response body */
	size_t answer_len;
	bool sent;                          /* c->curl's request went out (on_sending) */
	/* the writer's stop flag: a synchronous request (probe, schema, ledger, spool replay) is
	 * given up stop_grace_ms after it is set, so a hung server cannot hold a stop for the
	 * request's whole timeout (5 s, a migration's 30 s) */
	const _Atomic bool *stop;
	uint64_t *stop_by_ms;               /* the deadline, shared with the writer (its thread's) */
	unsigned stop_grace_ms;
	CURLM *sync_multi;                  /* drives c->curl while stop can be watched */
};

/* Keeps the start of the answer (an error text or a query's result), drops the rest. */
static size_t keep(char *answer, size_t *answer_len, const char *data, size_t n)
{
	size_t room = ANSWER_MAX - 1 - *answer_len;
	size_t take = n < room ? n : room;
	memcpy(answer + *answer_len, data, take);
	*answer_len += take;
	answer[*answer_len] = '\0';
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct st_ch *c = arg;
	return keep(c->answer, &c->answer_len, data, size * nmemb);
}

static size_t on_slot_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	return keep(s->answer, &s->answer_len, data, size * nmemb);
}

/* libcurl calls this each time a request is about to go out on a connection, new or reused.
 * Until it has, a failure proves the server never saw the body. After it has, even "could not
 * connect" proves nothing: a kept-alive connection the server closed makes libcurl send the
 * request again on a new one, and the first copy may have been stored (a server killed after
 * the insert and before its answer; seen in storage_clickhouse.sh 3b). */
static int on_sending(void *arg, char *ip, char *local_ip, int port, int local_port)
{
	(void)ip, (void)local_ip, (void)port, (void)local_port;
	*(bool *)arg = true;
	return CURL_PREREQFUNC_OK;
}

/* Options every handle shares: headers, timeouts, authentication. */
static void setup(CURL *h, struct st_ch *c, const struct st_config *cfg)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	if (cfg->user[0]) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password);
	}
}

struct st_ch *st_ch_new(const struct st_config *cfg, char *err, size_t errlen)
{
	/* thread-safe in the libcurl Debian 12 ships (7.88); called from the main thread anyway */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return NULL;
	}
	struct st_ch *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		snprintf(err, errlen, "curl_easy_init failed");
		free(c);
		return NULL;
	}
	snprintf(c->url, sizeof c->url, "%s", cfg->clickhouse_url);
	snprintf(c->db, sizeof c->db, "%s", cfg->database);
	snprintf(c->cluster, sizeof c->cluster, "%s", cfg->cluster);
	c->local = c->cluster[0] ? "_local" : "";
	c->retention_days = cfg->retention_days;
	for (int t = 0; t < ST_NTABLES; t++)
		for (int f = 0; f < 2; f++) {
			char sql[160];
			snprintf(sql, sizeof sql, "INSERT INTO %s.%s FORMAT %s", c->db, st_table_name[t],
				 f ? "Native" : "RowBinary");
			char *q = curl_easy_escape(c->curl, sql, 0);
			if (!q) {
				snprintf(err, errlen, "out of memory");
				st_ch_free(c);
				return NULL;
			}
			snprintf(c->insert_url[t][f], sizeof c->insert_url[t][f], "%s/?query=%s", c->url, q);
			curl_free(q);
		}
	/* no "Expect: 100-continue": it costs a round trip per insert and 18.16 gains nothing */
	c->headers = curl_slist_append(NULL, "Expect:");
	c->headers = curl_slist_append(c->headers, "Content-Type: application/octet-stream");
	c->gzip = cfg->compression == ST_COMPRESSION_GZIP;
	c->insert_headers = curl_slist_append(NULL, "Expect:");
	c->insert_headers = curl_slist_append(c->insert_headers, "Content-Type: application/octet-stream");
	if (c->gzip) /* ClickHouse inflates a request body so marked (18.16 does) */
		c->insert_headers = curl_slist_append(c->insert_headers, "Content-Encoding: gzip");
	if (!c->headers || !c->insert_headers) {
		snprintf(err, errlen, "out of memory");
		st_ch_free(c);
		return NULL;
	}
	setup(c->curl, c, cfg);
	curl_easy_setopt(c->curl, CURLOPT_PREREQFUNCTION, on_sending);
	curl_easy_setopt(c->curl, CURLOPT_PREREQDATA, &c->sent);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	/* inserts in flight: one multi handle, an easy handle per slot (each its own connection,
	 * kept alive between inserts by the multi handle's connection cache) */
	if (!(c->multi = curl_multi_init())) {
		snprintf(err, errlen, "curl_multi_init failed");
		st_ch_free(c);
		return NULL;
	}
	for (int i = 0; i < ST_CH_MAX_INFLIGHT; i++) {
		struct slot *sl = &c->slot[i];
		if (!(sl->easy = curl_easy_init())) {
			snprintf(err, errlen, "curl_easy_init failed");
			st_ch_free(c);
			return NULL;
		}
		setup(sl->easy, c, cfg);
		curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, c->insert_headers);
		curl_easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION, on_slot_body);
		curl_easy_setopt(sl->easy, CURLOPT_WRITEDATA, sl);
		curl_easy_setopt(sl->easy, CURLOPT_TIMEOUT_MS, INSERT_TIMEOUT_MS);
		curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
		curl_easy_setopt(sl->easy, CURLOPT_PREREQFUNCTION, on_sending);
		curl_easy_setopt(sl->easy, CURLOPT_PREREQDATA, &sl->sent);
	}
	return c;
}

void st_ch_free(struct st_ch *c)
{
	if (!c)
		return;
	for (int i = 0; i < ST_CH_MAX_INFLIGHT; i++) {
		if (c->slot[i].busy)
			curl_multi_remove_handle(c->multi, c->slot[i].easy);
		if (c->slot[i].easy)
			curl_easy_cleanup(c->slot[i].easy);
		free(c->slot[i].gz.p);
	}
	free(c->gz.p);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->sync_multi)
		curl_multi_cleanup(c->sync_multi);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->insert_headers);
	free(c);
}

/* The first line of the answer, for an error message or a one-value result. */
static void first_line(const char *s, char *out, size_t outlen)
{
	size_t n = strcspn(s, "\r\n");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

static enum st_post outcome(CURL *h, CURLcode rc, bool sent, const char *base, const char *answer, char *err,
			    size_t errlen);

/* c->curl's request, watching the stop flag every 10 ms: curl_easy_perform cannot be told to
 * stop (its progress callback comes about once a second), a multi handle polled here can. An
 * abandoned request is CURLE_ABORTED_BY_CALLBACK: its outcome is unknown. */
static CURLcode perform(struct st_ch *c)
{
	if (!c->stop || !c->sync_multi || curl_multi_add_handle(c->sync_multi, c->curl) != CURLM_OK)
		return curl_easy_perform(c->curl);
	CURLcode rc = CURLE_OK;
	int running = 1;
	for (;;) {
		if (curl_multi_perform(c->sync_multi, &running) != CURLM_OK) {
			rc = CURLE_FAILED_INIT;
			break;
		}
		if (!running) {
			int left;
			CURLMsg *m;
			while ((m = curl_multi_info_read(c->sync_multi, &left)))
				if (m->msg == CURLMSG_DONE && m->easy_handle == c->curl)
					rc = m->data.result;
			break;
		}
		if (atomic_load_explicit(c->stop, memory_order_acquire)) {
			uint64_t now = clock_mono_ms();
			if (!*c->stop_by_ms)
				*c->stop_by_ms = now + c->stop_grace_ms;
			if (now >= *c->stop_by_ms) {
				rc = CURLE_ABORTED_BY_CALLBACK;
				break;
			}
		}
		curl_multi_poll(c->sync_multi, NULL, 0, 10, NULL);
	}
	curl_multi_remove_handle(c->sync_multi, c->curl);
	return rc;
}

void st_ch_watch_stop(struct st_ch *c, const _Atomic bool *stop, uint64_t *stop_by_ms, unsigned grace_ms)
{
	if (!c->sync_multi)
		c->sync_multi = curl_multi_init();
	c->stop = stop;
	c->stop_by_ms = stop_by_ms;
	c->stop_grace_ms = grace_ms;
}

static enum st_post post(struct st_ch *c, const char *url, const void *body, size_t len, long timeout_ms,
			 struct curl_slist *headers, char *err, size_t errlen)
{
	c->answer_len = 0;
	c->sent = false;
	c->answer[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	CURLcode rc = perform(c);
	return outcome(c->curl, rc, c->sent, c->url, c->answer, err, errlen);
}

static enum st_post outcome(CURL *h, CURLcode rc, bool sent, const char *base, const char *answer, char *err,
			    size_t errlen)
{
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%.120s: %s", base, curl_easy_strerror(rc));
		/* only a request that never went out proves the server never saw the body */
		return !sent && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) ? ST_POST_NOT_STORED
												   : ST_POST_UNKNOWN;
	}
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char line[ANSWER_MAX];
		first_line(answer, line, sizeof line);
		snprintf(err, errlen, "HTTP %ld: %s", status, line);
		/* an INSERT block is atomic, but a materialized view failing after it is an error
		 * answer for rows that are stored: unknown, the ledger decides */
		return ST_POST_UNKNOWN;
	}
	return ST_POST_OK;
}

static int query_timeout(struct st_ch *c, const char *sql, long timeout_ms, char *out, size_t outlen,
			 char *err, size_t errlen)
{
	char url[320];
	snprintf(url, sizeof url, "%s/", c->url);
	if (post(c, url, sql, strlen(sql), timeout_ms, c->headers, err, errlen) != ST_POST_OK)
		return -1;
	if (out && outlen)
		first_line(c->answer, out, outlen);
	return 0;
}

int st_ch_query(struct st_ch *c, const char *sql, char *out, size_t outlen, char *err, size_t errlen)
{
	return query_timeout(c, sql, QUERY_TIMEOUT_MS, out, outlen, err, errlen);
}

/* The body as it goes on the wire: itself, or gzip (level 1: on loopback even that loses, see
 * docs/STORAGE.md; a higher level only costs more CPU for a few percent) into gz. NULL when
 * zlib cannot (out of memory), with err set. */
static const uint8_t *wire_body(struct st_ch *c, struct squeezed *gz, const uint8_t *body, size_t *len,
				char *err, size_t errlen)
{
	if (!c->gzip) {
		c->wire_bytes += *len;
		return body;
	}
	z_stream z = {0};
	/* windowBits 15 + 16: a gzip wrapper, what Content-Encoding: gzip names */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		snprintf(err, errlen, "gzip: deflateInit2 failed");
		return NULL;
	}
	size_t need = deflateBound(&z, *len);
	if (need > gz->cap) {
		uint8_t *p = realloc(gz->p, need);
		if (!p) {
			deflateEnd(&z);
			snprintf(err, errlen, "gzip: out of memory for %zu bytes", need);
			return NULL;
		}
		gz->p = p;
		gz->cap = need;
	}
	z.next_in = (Bytef *)body;
	z.avail_in = (uInt)*len;
	z.next_out = gz->p;
	z.avail_out = (uInt)gz->cap;
	int rc = deflate(&z, Z_FINISH);
	size_t out = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) { /* cannot happen with deflateBound's room */
		snprintf(err, errlen, "gzip: deflate returned %d", rc);
		return NULL;
	}
	*len = out;
	c->wire_bytes += out;
	return gz->p;
}

static enum st_post insert(struct st_ch *c, const char *url, const uint8_t *body, size_t len, char *err,
			   size_t errlen)
{
	const uint8_t *wire = wire_body(c, &c->gz, body, &len, err, errlen);
	if (!wire)
		return ST_POST_NOT_STORED;
	return post(c, url, wire, len, INSERT_TIMEOUT_MS, c->insert_headers, err, errlen);
}

enum st_post st_ch_insert(struct st_ch *c, enum st_table t, const uint8_t *body, size_t len, char *err,
			  size_t errlen)
{
	return insert(c, c->insert_url[t][0], body, len, err, errlen);
}

uint64_t st_ch_wire_bytes(const struct st_ch *c)
{
	return c->wire_bytes;
}

enum st_post st_ch_insert_sql(struct st_ch *c, const char *sql, const uint8_t *body, size_t len, char *err,
			      size_t errlen)
{
	char url[4096]; /* the base URL and a column list escaped (at most 3 bytes a character) */
	char *q = curl_easy_escape(c->curl, sql, 0);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return ST_POST_NOT_STORED;
	}
	int k = snprintf(url, sizeof url, "%s/?query=%s", c->url, q);
	curl_free(q);
	if (k < 0 || (size_t)k >= sizeof url) {
		snprintf(err, errlen, "INSERT URL too long");
		return ST_POST_NOT_STORED;
	}
	return insert(c, url, body, len, err, errlen);
}

int st_ch_async_insert(struct st_ch *c, unsigned slot, enum st_table t, bool native, const uint8_t *body,
		       size_t len)
{
	if (slot >= ST_CH_MAX_INFLIGHT || c->slot[slot].busy)
		return -1;
	struct slot *sl = &c->slot[slot];
	sl->answer_len = 0;
	sl->sent = false;
	sl->answer[0] = '\0';
	char err[120];
	const uint8_t *wire = wire_body(c, &sl->gz, body, &len, err, sizeof err);
	if (!wire) {
		log_err("storage: %s", err);
		return -1;
	}
	curl_easy_setopt(sl->easy, CURLOPT_URL, c->insert_url[t][native]);
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, wire);
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (curl_multi_add_handle(c->multi, sl->easy) != CURLM_OK)
		return -1;
	sl->busy = true;
	c->busy++;
	return 0;
}

unsigned st_ch_async_busy(const struct st_ch *c)
{
	return c->busy;
}

size_t st_ch_async_run(struct st_ch *c, int wait_ms, struct st_ch_done *done, size_t max)
{
	int running = 0;
	if (!c->busy)
		return 0;
	curl_multi_perform(c->multi, &running);
	if (wait_ms > 0 && running) {
		curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
		curl_multi_perform(c->multi, &running);
	}
	size_t n = 0;
	CURLMsg *m;
	int left;
	while (n < max && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct slot *sl = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
		CURLcode rc = m->data.result;
		struct st_ch_done *d = &done[n++];
		d->slot = (unsigned)(sl - c->slot);
		d->result = outcome(sl->easy, rc, sl->sent, c->url, sl->answer, d->err, sizeof d->err);
		curl_multi_remove_handle(c->multi, sl->easy);
		sl->busy = false;
		c->busy--;
	}
	return n;
}

int st_ch_probe(struct st_ch *c, char *err, size_t errlen)
{
	return query_timeout(c, "SELECT 1", PROBE_TIMEOUT_MS, NULL, 0, err, errlen);
}

int st_ch_batch_rows(struct st_ch *c, uint64_t batch_id, uint64_t *rows, char *err, size_t errlen)
{
	char sql[200], out[32];
	snprintf(sql, sizeof sql, "SELECT sum(rows) FROM %s.batches WHERE batch_id = %llu", c->db,
		 (unsigned long long)batch_id);
	if (query_timeout(c, sql, INSERT_TIMEOUT_MS, out, sizeof out, err, errlen) != 0)
		return -1;
	char *end;
	*rows = strtoull(out, &end, 10);
	if (end == out) {
		snprintf(err, errlen, "ledger lookup: unexpected answer \"%s\"", out);
		return -1;
	}
	return 0;
}

int st_ch_batch_stored(struct st_ch *c, enum st_table t, uint64_t batch_id, const uint8_t *row, size_t len,
		       uint64_t *ledger_rows, bool *stored, char *err, size_t errlen)
{
	if (st_ch_batch_rows(c, batch_id, ledger_rows, err, errlen) != 0)
		return -1;
	*stored = *ledger_rows > 0;
	if (*stored)
		return 0;
	char sql[600], out[32];
	if (st_batch_probe_sql(sql, sizeof sql, c->db, t, row, len, batch_id, (c->features & ST_F_IPV6) != 0) != 0) {
		snprintf(err, errlen, "batch %016llx: a first row of %zu bytes is too short to look up",
			 (unsigned long long)batch_id, len);
		return -1;
	}
	if (query_timeout(c, sql, INSERT_TIMEOUT_MS, out, sizeof out, err, errlen) != 0)
		return -1;
	char *end;
	unsigned long long n = strtoull(out, &end, 10);
	if (end == out) {
		snprintf(err, errlen, "batch lookup: unexpected answer \"%s\"", out);
		return -1;
	}
	*stored = n > 0;
	return 0;
}

bool st_ch_version_has_ttl(const char *version)
{
	unsigned major = 0, minor = 0;
	if (sscanf(version, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 19 || (major == 19 && minor >= 6);
}

int st_ch_drop_old(struct st_ch *c, char *err, size_t errlen)
{
	if (!c->retention_days || st_ch_version_has_ttl(c->version))
		return 0;
	int dropped = 0;
	for (size_t i = 0; i < ST_N_RETAINED; i++) {
		/* a partition goes when its newest row is past retention: system.parts knows per part */
		char sql[600], ids[ANSWER_MAX];
		snprintf(sql, sizeof sql,
			 "SELECT arrayStringConcat(groupArray(partition_id), ',') FROM (SELECT partition_id "
			 "FROM system.parts WHERE database = '%s' AND table = '%s%s' AND active GROUP BY "
			 "partition_id HAVING max(max_date) < today() - %u)",
			 c->db, st_retained[i].table, c->local, c->retention_days);
		if (st_ch_query(c, sql, ids, sizeof ids, err, errlen) != 0)
			return -1;
		for (char *save = NULL, *id = strtok_r(ids, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
			if (strspn(id, "0123456789") != strlen(id)) /* partition ids here are digits */
				continue;
			snprintf(sql, sizeof sql, "ALTER TABLE %s.%s%s DROP PARTITION ID '%s'", c->db,
				 st_retained[i].table, c->local, id);
			if (st_ch_query(c, sql, NULL, 0, err, errlen) != 0)
				return -1;
			dropped++;
		}
	}
	return dropped;
}

/* "already exists" answers make a half-applied migration safe to run again */
static bool already_there(const char *e)
{
	return strstr(e, "already exists") != NULL;
}

/* A cluster this server knows, and a database made in the same mode: plain tables and the
 * *_local + Distributed layout do not mix (switching means a new database and INSERT SELECT). */
static int cluster_check(struct st_ch *c, char *err, size_t errlen)
{
	char sql[300], out[64], e[200];
	if (c->cluster[0]) {
		snprintf(sql, sizeof sql, "SELECT count() FROM system.clusters WHERE cluster = '%s'", c->cluster);
		if (st_ch_query(c, sql, out, sizeof out, e, sizeof e) != 0) {
			snprintf(err, errlen, "schema: %s", e);
			return -1;
		}
		if (!strcmp(out, "0")) {
			snprintf(err, errlen, "cluster %s is not in this server's remote_servers", c->cluster);
			return -1;
		}
	}
	snprintf(sql, sizeof sql, "SELECT engine FROM system.tables WHERE database = '%s' AND name = 'flows'", c->db);
	if (st_ch_query(c, sql, out, sizeof out, e, sizeof e) != 0) {
		snprintf(err, errlen, "schema: %s", e);
		return -1;
	}
	if (out[0] && (c->cluster[0] != 0) != (strcmp(out, "Distributed") == 0)) {
		snprintf(err, errlen, "%s.flows is %s but storage.clickhouse.cluster is %s: a database stays in "
			 "the mode it was made in; use another database", c->db, out,
			 c->cluster[0] ? c->cluster : "not set");
		return -1;
	}
	return 0;
}

/* The shape the database's tables have: a database keeps the one it was created with, so an
 * 18.16 database on an upgraded server stays FixedString(16)/String (one history per database;
 * the encoders and the read-back follow the tables). A new one gets what the server has. */
static int st_ch_shape(struct st_ch *c, char *err, size_t errlen)
{
	c->features = st_schema_features(c->version);
	if (!(c->features & (ST_F_IPV6 | ST_F_LOWCARD | ST_F_CODEC)))
		return 0; /* 18.16 and the like: the base shape, nothing to look up */
	static const struct {
		const char *table, *column, *newer;
		unsigned feat;
	} probe[] = {
		{"flows", "dst", "IPv6", ST_F_IPV6},
		/* CODEC came with LowCardinality (20.3): a database without one has neither */
		{"attack_events", "event", "LowCardinality(String)", ST_F_LOWCARD | ST_F_CODEC},
	};
	for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
		char sql[300], type[64];
		snprintf(sql, sizeof sql, "SELECT type FROM system.columns WHERE database = '%s' AND table = '%s%s' "
			 "AND name = '%s'", c->db, probe[i].table, c->local, probe[i].column);
		if (st_ch_query(c, sql, type, sizeof type, err, errlen) != 0)
			return -1;
		if (type[0] && strcmp(type, probe[i].newer))
			c->features &= ~probe[i].feat; /* made by an older server: keep its shape */
	}
	return 0;
}

unsigned st_ch_features(const struct st_ch *c)
{
	return c->features;
}

static int migrate(struct st_ch *c, char *err, size_t errlen)
{
	char sql[300], out[32], e[200];
	snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s", c->db);
	if (st_ch_query(c, sql, NULL, 0, e, sizeof e) != 0)
		goto fail;
	snprintf(sql, sizeof sql,
		 "CREATE TABLE IF NOT EXISTS %s.schema_migrations (version UInt32, applied DateTime, "
		 "description String) ENGINE = MergeTree() ORDER BY version", c->db);
	if (st_ch_query(c, sql, NULL, 0, e, sizeof e) != 0)
		goto fail;
	if (cluster_check(c, err, errlen) != 0)
		return -1;
	if (st_ch_shape(c, e, sizeof e) != 0)
		goto fail;
	snprintf(sql, sizeof sql, "SELECT max(version) FROM %s.schema_migrations", c->db);
	if (st_ch_query(c, sql, out, sizeof out, e, sizeof e) != 0)
		goto fail;
	unsigned have = (unsigned)strtoul(out, NULL, 10);
	for (unsigned v = have + 1; v <= st_schema_latest(); v++) {
		char stmts[ST_SCHEMA_MAX][ST_STMT_MAX];
		size_t n = st_schema_migration_shape(v, c->db, c->cluster, c->features, stmts, ST_SCHEMA_MAX);
		for (size_t i = 0; i < n; i++)
			if (st_ch_query(c, stmts[i], NULL, 0, e, sizeof e) != 0 && !already_there(e)) {
				snprintf(err, errlen, "schema migration %u (%s): %s", v, st_schema_what(v), e);
				return -1;
			}
		snprintf(sql, sizeof sql, "INSERT INTO %s.schema_migrations VALUES (%u, now(), '%s')", c->db, v,
			 st_schema_what(v));
		if (st_ch_query(c, sql, NULL, 0, e, sizeof e) != 0)
			goto fail;
		log_info("storage: schema of %s at version %u: %s", c->db, v, st_schema_what(v));
	}
	return 0;
fail:
	snprintf(err, errlen, "schema: %s", e);
	return -1;
}

int st_ch_prepare(struct st_ch *c, char *err, size_t errlen)
{
	if (st_ch_query(c, "SELECT version()", c->version, sizeof c->version, err, errlen) != 0)
		return -1;
	if (migrate(c, err, errlen) != 0)
		return -1;
	if (c->retention_days && st_ch_version_has_ttl(c->version)) {
		/* the server drops old rows itself; set every start so a changed retention applies */
		char stmts[ST_N_RETAINED][ST_STMT_MAX], e[200];
		size_t n = st_schema_version_ddl(c->version, c->db, c->cluster, c->retention_days, stmts, ST_N_RETAINED);
		for (size_t i = 0; i < n; i++)
			if (st_ch_query(c, stmts[i], NULL, 0, e, sizeof e) != 0)
				log_warn("storage: %s: %s", stmts[i], e);
	}
	return 0;
}

const char *st_ch_version(const struct st_ch *c)
{
	return c->version;
}
