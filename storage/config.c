/* Storage defaults, and the checks on what the writer later puts into SQL, a URL or a path. */
#include <stdio.h>
#include <string.h>

#include "st_int.h"

#define DEF_DATABASE "rampart"
#define DEF_DIR "/var/lib/rampart"
#define DEF_BATCH_ROWS 100000 /* ClickHouse likes 10k-100k rows per insert */
#define DEF_BATCH_MS 1000     /* about one insert per second per table */
#define DEF_QUEUE_ROWS 262144 /* half a second at 500k rows/s, ~27 MB per producer */
/* ~10 million flow rows: 20 s at 500k rows/s, hours at typical rates */
#define DEF_SPOOL_MAX_BYTES (1ull << 30)
#define DEF_POSTS_IN_FLIGHT 3 /* measured: 1.4 M rows/s with 1, 1.9 M with 2, 2.5 M with 3, no more with 4 */

/* Beyond these a batch buffer or a ring becomes a memory problem, not a tuning choice. */
#define MAX_BATCH_ROWS 1000000
#define MAX_QUEUE_ROWS (1u << 24)

void st_config_defaults(struct st_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->database, sizeof cfg->database, "%s", DEF_DATABASE);
	snprintf(cfg->dir, sizeof cfg->dir, "%s", DEF_DIR);
	cfg->batch_rows = DEF_BATCH_ROWS;
	cfg->batch_ms = DEF_BATCH_MS;
	cfg->queue_rows = DEF_QUEUE_ROWS;
	cfg->spool_max_bytes = DEF_SPOOL_MAX_BYTES;
	cfg->posts_in_flight = DEF_POSTS_IN_FLIGHT;
}

/* The database name is spliced into SQL unquoted: only identifier characters. */
static bool identifier(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

int st_config_check(struct st_config *cfg, char *err, size_t errlen)
{
	/* a config filled field by field leaves zeros for what it did not mention */
	if (!cfg->database[0])
		snprintf(cfg->database, sizeof cfg->database, "%s", DEF_DATABASE);
	if (!cfg->dir[0])
		snprintf(cfg->dir, sizeof cfg->dir, "%s", DEF_DIR);
	if (!cfg->batch_rows)
		cfg->batch_rows = DEF_BATCH_ROWS;
	if (!cfg->batch_ms)
		cfg->batch_ms = DEF_BATCH_MS;
	if (!cfg->queue_rows)
		cfg->queue_rows = DEF_QUEUE_ROWS;
	if (!cfg->posts_in_flight)
		cfg->posts_in_flight = DEF_POSTS_IN_FLIGHT;
	if (cfg->posts_in_flight > ST_CH_MAX_INFLIGHT) {
		snprintf(err, errlen, "posts_in_flight %u is more than %d", cfg->posts_in_flight, ST_CH_MAX_INFLIGHT);
		return -1;
	}
	if (!cfg->spool_max_bytes)
		cfg->spool_max_bytes = DEF_SPOOL_MAX_BYTES;
	if (!cfg->spool_dir[0]) {
		int k = snprintf(cfg->spool_dir, sizeof cfg->spool_dir, "%.240s/spool", cfg->dir);
		(void)k;
	}

	if (!identifier(cfg->database)) {
		snprintf(err, errlen, "database name \"%s\": use letters, digits and _ only", cfg->database);
		return -1;
	}
	if (cfg->cluster[0] && !identifier(cfg->cluster)) {
		snprintf(err, errlen, "cluster name \"%s\": use letters, digits and _ only", cfg->cluster);
		return -1;
	}
	if (cfg->format != ST_FORMAT_ROWBINARY && cfg->format != ST_FORMAT_NATIVE) {
		snprintf(err, errlen, "format %d: rowbinary or native", cfg->format);
		return -1;
	}
	if (cfg->compression != ST_COMPRESSION_NONE && cfg->compression != ST_COMPRESSION_GZIP) {
		snprintf(err, errlen, "compression %d: none or gzip", cfg->compression);
		return -1;
	}
	if (cfg->batch_rows > MAX_BATCH_ROWS) {
		snprintf(err, errlen, "batch_rows %u is more than %u", cfg->batch_rows, MAX_BATCH_ROWS);
		return -1;
	}
	if (cfg->queue_rows > MAX_QUEUE_ROWS) {
		snprintf(err, errlen, "queue_rows %u is more than %u", cfg->queue_rows, MAX_QUEUE_ROWS);
		return -1;
	}
	if (cfg->clickhouse_url[0]) {
		if (strncmp(cfg->clickhouse_url, "http://", 7) != 0 &&
		    strncmp(cfg->clickhouse_url, "https://", 8) != 0) {
			snprintf(err, errlen, "clickhouse url \"%s\": must start with http:// or https://",
				 cfg->clickhouse_url);
			return -1;
		}
		if (strchr(cfg->clickhouse_url, '?')) {
			snprintf(err, errlen, "clickhouse url \"%s\": no query string, please (database and "
				 "credentials have their own keys)", cfg->clickhouse_url);
			return -1;
		}
		/* the client appends "/?query=..." */
		size_t n = strlen(cfg->clickhouse_url);
		while (n > 0 && cfg->clickhouse_url[n - 1] == '/')
			cfg->clickhouse_url[--n] = '\0';
	}
	return 0;
}
