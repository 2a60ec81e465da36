/* The ClickHouse HTTP client: one libcurl easy handle, reused so the TCP connection stays open
 * between inserts. Used only by the storage thread (and by st_writer_start before the thread
 * exists), so it needs no locking.
 *
 * The protocol is ClickHouse's HTTP interface as it is in 18.16: the statement in the `query`
 * URL parameter, the data as the POST body; any status but 200 is a failure whose body is the
 * error text. Credentials go as HTTP Basic authentication, which 18.16 accepts. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

#define CONNECT_TIMEOUT_MS 2000L
/* An insert of 100k rows takes well under a second; a server stuck this long is down. */
#define REQUEST_TIMEOUT_MS 30000L
#define ANSWER_MAX 512

struct st_ch {
	CURL *curl;
	struct curl_slist *headers;
	char url[300];                      /* base, no trailing slash */
	char insert_url[ST_NTABLES][600];   /* base + "/?query=INSERT ..." escaped */
	char db[64];
	char version[32];
	char answer[ANSWER_MAX];            /* start of the last response body */
	size_t answer_len;
};

/* Keeps the start of the answer (an error text or a query's result), drops the rest. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct st_ch *c = arg;
	size_t n = size * nmemb;
	size_t room = sizeof c->answer - 1 - c->answer_len;
	size_t take = n < room ? n : room;
	memcpy(c->answer + c->answer_len, data, take);
	c->answer_len += take;
	c->answer[c->answer_len] = '\0';
	return n;
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
	for (int t = 0; t < ST_NTABLES; t++) {
		char sql[160];
		snprintf(sql, sizeof sql, "INSERT INTO %s.%s FORMAT RowBinary", c->db, st_table_name[t]);
		char *q = curl_easy_escape(c->curl, sql, 0);
		if (!q) {
			snprintf(err, errlen, "out of memory");
			st_ch_free(c);
			return NULL;
		}
		snprintf(c->insert_url[t], sizeof c->insert_url[t], "%s/?query=%s", c->url, q);
		curl_free(q);
	}
	/* no "Expect: 100-continue": it costs a round trip per insert and 18.16 gains nothing */
	c->headers = curl_slist_append(NULL, "Expect:");
	c->headers = curl_slist_append(c->headers, "Content-Type: application/octet-stream");
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	if (cfg->user[0]) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password);
	}
	return c;
}

void st_ch_free(struct st_ch *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
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

static int post(struct st_ch *c, const char *url, const void *body, size_t len, char *err,
		size_t errlen)
{
	c->answer_len = 0;
	c->answer[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	CURLcode rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", c->url, curl_easy_strerror(rc));
		return -1;
	}
	long status = 0;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char line[ANSWER_MAX];
		first_line(c->answer, line, sizeof line);
		snprintf(err, errlen, "HTTP %ld: %s", status, line);
		return -1;
	}
	return 0;
}

int st_ch_query(struct st_ch *c, const char *sql, char *out, size_t outlen, char *err, size_t errlen)
{
	char url[320];
	snprintf(url, sizeof url, "%s/", c->url);
	if (post(c, url, sql, strlen(sql), err, errlen) != 0)
		return -1;
	if (out && outlen)
		first_line(c->answer, out, outlen);
	return 0;
}

int st_ch_insert(struct st_ch *c, enum st_table t, const uint8_t *body, size_t len, char *err,
		 size_t errlen)
{
	return post(c, c->insert_url[t], body, len, err, errlen);
}

int st_ch_prepare(struct st_ch *c, char *err, size_t errlen)
{
	if (st_ch_query(c, "SELECT version()", c->version, sizeof c->version, err, errlen) != 0)
		return -1;
	char stmts[3][1024];
	size_t n = st_schema_statements(c->db, stmts, 3);
	if (n != 3) {
		snprintf(err, errlen, "schema statements do not fit (internal)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char e[200];
		if (st_ch_query(c, stmts[i], NULL, 0, e, sizeof e) != 0) {
			snprintf(err, errlen, "creating %s: %s", i == 0 ? "the database" : st_table_name[i - 1], e);
			return -1;
		}
	}
	return 0;
}

const char *st_ch_version(const struct st_ch *c)
{
	return c->version;
}
