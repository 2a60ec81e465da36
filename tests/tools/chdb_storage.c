/* Rampart's storage against a real ClickHouse newer than Debian's 18.16: chDB's libchdb.so
 * (ClickHouse 26.7's SQL engine as a library, clickhouse-local level: no HTTP server), loaded
 * with dlopen. Everything Rampart-side is the real code: the DDL from storage/schema.c, rows
 * from storage/rowbinary.c, Native blocks from storage/native.c, the read-back SQL from
 * storage/readback_sql.c.
 *
 *   chdb_storage LIBCHDB DATADIR [--base] [--cluster]
 *     --base     the 18.16 shape (features 0) on this engine: a database made by 18.16 on a
 *                server since upgraded
 *     --cluster  the cluster-shaped DDL: the *_local MergeTree tables (the Distributed tables
 *                over them are skipped: they need a cluster in remote_servers, which chDB has
 *                no server config for)
 *
 * Prints "ok: ..." / "FAIL: ..." per check and exits 0 only when every check passed. */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "storage/st_int.h"

/* chDB's connection API (chdb.h of chDB 3.x/4.x): one engine per process, queried many times
 * (query_stable_v2 starts a new engine per call and may run only once per process). */
typedef struct {
	void *internal_data;
} chdb_connection_;
typedef struct {
	void *internal_data;
} chdb_result;

struct engine {
	chdb_connection_ **(*connect)(int, char **);
	void (*close)(chdb_connection_ **);
	chdb_result *(*query)(chdb_connection_ *, const char *, const char *);
	void (*destroy)(chdb_result *);
	char *(*buffer)(chdb_result *);
	size_t (*length)(chdb_result *);
	const char *(*error)(chdb_result *);
	chdb_connection_ **conn;
	char path[512];
};

static int fails, oks;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", cond ? "ok" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (cond)
		oks++;
	else
		fails++;
}

/* Runs sql (several statements allowed); the answer, malloc'd and NUL-terminated, in *out
 * (may be NULL); 0, or -1 with the engine's error in err. */
static int run(struct engine *e, const char *format, const char *sql, char **out, size_t *outlen, char *err,
	       size_t errlen)
{
	chdb_result *r = e->query(*e->conn, sql, format);
	if (!r) {
		snprintf(err, errlen, "no result");
		return -1;
	}
	int rc = 0;
	const char *msg = e->error(r);
	if (msg && *msg) {
		snprintf(err, errlen, "%.400s", msg);
		rc = -1;
	} else if (out) {
		size_t n = e->length(r);
		*out = malloc(n + 1);
		if (*out) {
			if (n)
				memcpy(*out, e->buffer(r), n);
			(*out)[n] = 0;
		}
		if (outlen)
			*outlen = n;
	}
	e->destroy(r);
	return rc;
}

/* One value (first line) of a query, in out. */
static int value(struct engine *e, const char *sql, char *out, size_t outlen)
{
	char *a = NULL, err[512];
	if (run(e, "TSV", sql, &a, NULL, err, sizeof err) != 0) {
		snprintf(out, outlen, "ERROR %s", err);
		return -1;
	}
	snprintf(out, outlen, "%.*s", (int)strcspn(a, "\n"), a);
	free(a);
	return 0;
}

static int write_file(const char *name, const void *p, size_t n)
{
	FILE *f = fopen(name, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

#define NFLOWS 3000
#define NEVENTS 60
#define T0 1795000000ull /* 2026-11-18, seconds */

static void make_flow(struct flow_record *r, unsigned i)
{
	memset(r, 0, sizeof *r);
	r->start_ns = (T0 + i / 10) * 1000000000ull + i * 7919u % 1000000000u;
	r->end_ns = r->start_ns + (uint64_t)(i % 50) * 1000000007ull;
	if (i % 5 == 4) { /* every fifth an IPv6 flow */
		ip_parse("2001:db8::1", &r->src);
		r->src.b[15] = (uint8_t)i;
		r->src.b[14] = (uint8_t)(i >> 8);
		ip_parse("2001:db8:ff::7", &r->dst);
		r->ip_version = 6;
	} else {
		ip_from_v4_u32(&r->src, 0xc0000200u + i % 50);   /* 192.0.2.x: 50 talkers */
		ip_from_v4_u32(&r->dst, 0x0a010000u + i % 4 * 256 + i % 3); /* 10.1.0-3.0-2 */
		r->ip_version = 4;
	}
	ip_from_v4_u32(&r->exporter, 0xc6336401u + i % 2);
	r->packets = i + 1; /* unique: the read-back order */
	r->bytes = (uint64_t)(i + 1) * 1500u + (i % 2 ? 1ull << 40 : 0);
	r->sampling_rate = i % 3 ? 1 : 1000;
	r->in_if = i % 7;
	r->out_if = 100000 + i;
	r->src_port = (uint16_t)(1024 + i);
	r->dst_port = (uint16_t)(i % 2 ? 53 : 443);
	r->vlan = (uint16_t)(i % 4095);
	r->protocol = (uint8_t)(i % 2 ? 17 : 6);
	r->tcp_flags = (uint8_t)(i % 2 ? 0 : 0x12);
	r->tos = (uint8_t)i;
	r->flags = (uint8_t)(i % 16);
	r->source = (uint8_t)(i % 5);
}

static void make_event(struct st_attack_event *ev, unsigned i)
{
	static const char *const what[] = {"attack_detected", "ban", "unban"};
	static const char *const trig[] = {"udp_pps", "bps", "syn_pps"};
	memset(ev, 0, sizeof *ev);
	ev->time_ns = (T0 + i * 60) * 1000000000ull + i;
	ev->attack_id = 1000 + i;
	snprintf(ev->event, sizeof ev->event, "%s", what[i % 3]);
	ip_prefix_parse(i % 4 == 3 ? "2001:db8:ff::7/128" : "10.1.0.1/32", &ev->target);
	ev->direction = (uint8_t)(i % 2);
	ev->manual = i % 5 == 0;
	snprintf(ev->hostgroup, sizeof ev->hostgroup, "%s", i % 2 ? "customers" : "global");
	snprintf(ev->trigger, sizeof ev->trigger, "%s", trig[i % 3]);
	ev->trigger_value = 12345.5 + i;
	ev->trigger_limit = 10000;
	ev->pps = 1e6 + i;
	ev->bps = 8e9 + i;
	ev->flows = 0.25 * i;
	ev->ban_seconds = 600;
	snprintf(ev->action, sizeof ev->action, "%s", i % 2 ? "blackhole" : "dry-run");
	snprintf(ev->reason, sizeof ev->reason, "row %u: a sentence with 'quotes', tabs\tand ünïcode", i);
	if (i % 3 == 2)
		snprintf(ev->pcap_file, sizeof ev->pcap_file, "/var/lib/rampart/pcap/%u-10.1.0.1.pcap", 1000 + i);
	ev->pcap_packets = i % 3 == 2 ? 100 + i : 0;
}

/* The batch's RowBinary rows as the writer makes them: each row, then the batch id. */
/* An operator_events row: each source, a negative uid, long and non-ASCII text */
static void make_op(struct st_operator_event *ev, unsigned i)
{
	static const char *const src[] = {"socket", "http", "pipe", "process"};
	memset(ev, 0, sizeof *ev);
	ev->time_ns = (T0 + i * 60) * 1000000000ull + i;
	snprintf(ev->source, sizeof ev->source, "%s", src[i % 4]);
	if (i % 4 == 1)
		snprintf(ev->client, sizeof ev->client, "[2001:db8::%u]:%u", i, 40000 + i);
	ev->uid = i % 4 == 0 ? (int32_t)i : -1;
	ev->pid = (int32_t)(1000 + i);
	ev->token = i % 4 == 1;
	snprintf(ev->command, sizeof ev->command, "ban 192.0.2.%u --for %u # \xc3\xa9", i % 250, 60 + i);
	snprintf(ev->result, sizeof ev->result, "%s", i % 3 ? "banned" : "ban: refused");
	ev->ok = i % 3 != 0;
}

static size_t encode(enum st_table t, uint8_t *buf, size_t cap, unsigned n, uint64_t batch_id)
{
	struct wbuf w = wbuf_init(buf, cap);
	for (unsigned i = 0; i < n; i++) {
		if (t == ST_FLOWS) {
			struct flow_record r;
			make_flow(&r, i);
			st_rowbinary_flow(&w, &r);
		} else if (t == ST_OPS) {
			struct st_operator_event ev;
			make_op(&ev, i);
			st_rowbinary_operator_event(&w, &ev);
		} else {
			struct st_attack_event ev;
			make_event(&ev, i);
			st_rowbinary_event(&w, &ev);
		}
		wbuf_le64(&w, batch_id);
	}
	return w.err ? 0 : w.len;
}

static bool is_distributed(const char *stmt, const char *db)
{
	if (strstr(stmt, "ENGINE = Distributed"))
		return true;
	char alter[128];
	snprintf(alter, sizeof alter, "ALTER TABLE %s.", db);
	if (!strncmp(stmt, alter, strlen(alter))) { /* the same ALTER on the Distributed table */
		const char *t = stmt + strlen(alter);
		size_t n = strcspn(t, " ");
		return !(n > 6 && !strncmp(t + n - 6, "_local", 6));
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s LIBCHDB DATADIR [--base] [--cluster]\n", argv[0]);
		return 2;
	}
	bool base = false, cluster = false;
	for (int i = 3; i < argc; i++) {
		base |= !strcmp(argv[i], "--base");
		cluster |= !strcmp(argv[i], "--cluster");
	}
	struct engine e = {0};
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "FAIL: dlopen %s: %s\n", argv[1], dlerror());
		return 1;
	}
	*(void **)&e.connect = dlsym(h, "chdb_connect");
	*(void **)&e.close = dlsym(h, "chdb_close_conn");
	*(void **)&e.query = dlsym(h, "chdb_query");
	*(void **)&e.destroy = dlsym(h, "chdb_destroy_query_result");
	*(void **)&e.buffer = dlsym(h, "chdb_result_buffer");
	*(void **)&e.length = dlsym(h, "chdb_result_length");
	*(void **)&e.error = dlsym(h, "chdb_result_error");
	if (!e.connect || !e.close || !e.query || !e.destroy || !e.buffer || !e.length || !e.error) {
		fprintf(stderr, "FAIL: %s lacks chDB's connection API\n", argv[1]);
		return 1;
	}
	snprintf(e.path, sizeof e.path, "%s", argv[2]);
	char patharg[600];
	snprintf(patharg, sizeof patharg, "--path=%s", e.path);
	char *cargv[] = {"clickhouse", patharg, NULL};
	if (!(e.conn = e.connect(2, cargv)) || !*e.conn) {
		fprintf(stderr, "FAIL: chdb_connect %s\n", e.path);
		return 1;
	}
	const char *db = "rampart";
	const char *cl = cluster ? "rc" : NULL;
	const char *L = cluster ? "_local" : "";
	char version[64], err[512], sql[8192], v[256];

	if (value(&e, "SELECT version()", version, sizeof version) != 0) {
		printf("FAIL: SELECT version(): %s\n", version);
		return 1;
	}
	unsigned feat = base ? 0 : st_schema_features(version);
	printf("engine: ClickHouse %s via chDB; shape %s%s%s%s%s\n", version, feat ? "" : "base (18.16)",
	       feat & ST_F_IPV6 ? " IPv6" : "", feat & ST_F_LOWCARD ? " LowCardinality" : "",
	       feat & ST_F_CODEC ? " CODEC" : "", cluster ? ", cluster-shaped (*_local)" : "");
	if (!base)
		check((feat & (ST_F_IPV6 | ST_F_LOWCARD | ST_F_CODEC | ST_F_TTL)) ==
			      (ST_F_IPV6 | ST_F_LOWCARD | ST_F_CODEC | ST_F_TTL),
		      "version %s has every feature Rampart uses", version);

	/* 1. every migration, in order, as the writer runs them */
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
	run(&e, "TSV", sql, NULL, NULL, err, sizeof err);
	unsigned skipped = 0;
	for (unsigned ver = 1; ver <= st_schema_latest(); ver++) {
		char stmts[ST_SCHEMA_MAX][ST_STMT_MAX];
		size_t n = st_schema_migration_shape(ver, db, cl, feat, stmts, ST_SCHEMA_MAX);
		bool good = n > 0;
		for (size_t i = 0; i < n; i++) {
			if (cluster && is_distributed(stmts[i], db)) {
				skipped++;
				continue;
			}
			if (run(&e, "TSV", stmts[i], NULL, NULL, err, sizeof err) != 0) {
				printf("  %s\n  -> %s\n", stmts[i], err);
				good = false;
			}
		}
		check(good, "migration %u (%s): %zu statements%s", ver, st_schema_what(ver), n,
		      cluster ? " (Distributed ones skipped)" : "");
	}
	if (cluster)
		printf("skipped %u Distributed statements (no remote_servers in chDB)\n", skipped);

	/* 2. the columns have the shape's types and codecs */
	for (int t = 0; t < ST_NTABLES; t++) {
		const struct st_column *cols;
		size_t n = st_schema_columns((enum st_table)t, &cols);
		char *a = NULL;
		snprintf(sql, sizeof sql, "SELECT name, type, compression_codec FROM system.columns WHERE database = '%s' "
			 "AND table = '%s%s' ORDER BY position", db, st_table_name[t], L);
		if (run(&e, "TSV", sql, &a, NULL, err, sizeof err) != 0) {
			check(false, "system.columns of %s: %s", st_table_name[t], err);
			continue;
		}
		char *line = a;
		size_t matched = 0;
		unsigned created = cols[0].since; /* the version whose CREATE made the table */
		for (size_t c = 1; c < n; c++)
			created = cols[c].since < created ? cols[c].since : created;
		for (size_t c = 0; c < n && line && *line; c++) {
			char want[200], type[96], *nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			/* columns a later migration ALTERs in carry no codec */
			struct st_column col = cols[c];
			if (col.since > created)
				col.codec = NULL;
			struct st_column bare = col;
			bare.codec = NULL;
			st_column_ddl(&bare, feat, type, sizeof type);
			snprintf(want, sizeof want, "%s\t%s\t%s%s%s", col.name, type, col.codec && (feat & ST_F_CODEC) ? "CODEC(" : "",
				 col.codec && (feat & ST_F_CODEC) ? col.codec : "", col.codec && (feat & ST_F_CODEC) ? ")" : "");
			if (!strcmp(line, want))
				matched++;
			else
				printf("  %s: have \"%s\", want \"%s\"\n", st_table_name[t], line, want);
			line = nl ? nl + 1 : NULL;
		}
		check(matched == n, "%s%s: all %zu columns have the shape's type and codec", st_table_name[t], L, n);
		free(a);
	}
	const char *rollup_want = feat & ST_F_IPV6 ? "IPv6" : "FixedString(16)";
	snprintf(sql, sizeof sql, "SELECT type FROM system.columns WHERE database = '%s' AND table = 'host_traffic%s' "
		 "AND name = 'dst'", db, L);
	value(&e, sql, v, sizeof v);
	check(!strcmp(v, rollup_want), "host_traffic%s.dst is %s (%s)", L, rollup_want, v);
	snprintf(sql, sizeof sql, "SELECT type FROM system.columns WHERE database = '%s' AND table = 'batches%s' "
		 "AND name = 'tbl'", db, L);
	value(&e, sql, v, sizeof v);
	check(!strcmp(v, feat & ST_F_LOWCARD ? "LowCardinality(String)" : "String"), "batches%s.tbl is %s", L, v);

	/* 3. TTL, as st_ch_prepare sets it on a server that has it */
	{
		char stmts[ST_N_RETAINED][ST_STMT_MAX];
		size_t n = st_schema_version_ddl(version, db, cl, 30, stmts, ST_N_RETAINED);
		unsigned good = 0;
		for (size_t i = 0; i < n; i++) {
			if (run(&e, "TSV", stmts[i], NULL, NULL, err, sizeof err) != 0) {
				printf("  %s -> %s\n", stmts[i], err);
				continue;
			}
			snprintf(sql, sizeof sql, "SELECT engine_full FROM system.tables WHERE database = '%s' AND name = '%s%s'",
				 db, st_retained[i].table, L);
			value(&e, sql, v, sizeof v);
			if (strstr(v, "TTL ") && strstr(v, "toIntervalDay(30)"))
				good++;
			else
				printf("  %s%s: engine_full %s\n", st_retained[i].table, L, v);
		}
		check(n == ST_N_RETAINED && good == n, "TTL on all %u retained tables (engine_full has TTL ... toIntervalDay(30))",
		      ST_N_RETAINED);
	}

	/* 4. batches in both formats, by our encoders; every column read back as sent */
	size_t cap = (size_t)NFLOWS * (ST_FLOW_ROW_BYTES + ST_BATCH_ID_BYTES) + 4096;
	uint8_t *rows = malloc(cap), *native = malloc(cap + 65536);
	uint32_t *pos = malloc(NFLOWS * sizeof *pos);
	char file[700];
	if (!rows || !native || !pos)
		return 1;
	for (int t = 0; t < ST_NTABLES; t++) {
		unsigned n = t == ST_FLOWS ? NFLOWS : NEVENTS;
		for (int fmt = 0; fmt < 2; fmt++) {
			uint64_t batch_id = 0x5eed000000000000ull + (uint64_t)t * 2 + (uint64_t)fmt;
			size_t len = encode((enum st_table)t, rows, cap, n, batch_id);
			const uint8_t *body = rows;
			size_t blen = len;
			if (fmt) {
				struct wbuf w = wbuf_init(native, cap + 65536);
				if (st_native_block_shape(&w, t, rows, len, n, pos, feat) != 0) {
					check(false, "%s: Native block", st_table_name[t]);
					continue;
				}
				body = w.p;
				blen = w.len;
			}
			snprintf(file, sizeof file, "%s/batch-%d-%d.bin", e.path, t, fmt);
			write_file(file, body, blen);
			snprintf(sql, sizeof sql, "INSERT INTO %s.%s%s FROM INFILE '%s' FORMAT %s", db, st_table_name[t], L, file,
				 fmt ? "Native" : "RowBinary");
			int rc = run(&e, "TSV", sql, NULL, NULL, err, sizeof err);
			check(rc == 0, "%s: %u rows inserted as %s%s", st_table_name[t], n, fmt ? "Native" : "RowBinary",
			      rc ? err : "");
			/* every column, in schema order, as RowBinary: must be the bytes we sent */
			const struct st_column *cols;
			size_t nc = st_schema_columns((enum st_table)t, &cols);
			int k = snprintf(sql, sizeof sql, "SELECT ");
			for (size_t c = 0; c < nc; c++)
				k += snprintf(sql + k, sizeof sql - (size_t)k, "%s%s", c ? ", " : "", cols[c].name);
			snprintf(sql + k, sizeof sql - (size_t)k, " FROM %s.%s%s WHERE batch_id = %" PRIu64 " ORDER BY %s", db,
				 st_table_name[t], L, batch_id, t == ST_FLOWS ? "packets" : t == ST_OPS ? "time" : "attack_id");
			char *back = NULL;
			size_t backlen = 0;
			rc = run(&e, "RowBinary", sql, &back, &backlen, err, sizeof err);
			check(rc == 0 && backlen == len && !memcmp(back, rows, len),
			      "%s (%s): every column of all %u rows reads back byte for byte as sent (%zu bytes)",
			      st_table_name[t], fmt ? "Native" : "RowBinary", n, backlen);
			free(back);
		}
	}
	/* the ledger and the rollup filled by the views, in the shape's types */
	snprintf(sql, sizeof sql, "SELECT count(), sum(rows) FROM %s.batches%s", db, L);
	value(&e, sql, v, sizeof v);
	snprintf(sql, sizeof sql, "%d\t%u", 2 * ST_NTABLES, 2 * NFLOWS + 2 * (ST_NTABLES - 1) * NEVENTS);
	check(!strcmp(v, sql), "batches ledger: %d batches, every row (%s)", 2 * ST_NTABLES, v);
	uint64_t scaled = 0;
	for (unsigned i = 0; i < NFLOWS; i++) {
		struct flow_record r;
		make_flow(&r, i);
		scaled += r.packets * r.sampling_rate;
	}
	snprintf(sql, sizeof sql, "SELECT sum(packets) FROM %s.host_traffic%s", db, L);
	value(&e, sql, v, sizeof v);
	check(strtoull(v, NULL, 10) == 2 * scaled, "host_traffic rollup: %s packets = 2 x %" PRIu64, v, scaled);

	/* 5. the read-back queries of storage/readback_sql.c, for this shape; and the other shape's
	 * SQL must fail here (when the shapes differ), so the choice is not moot */
	char rb[2048], *a = NULL;
	bool v6 = feat & ST_F_IPV6;
	/* with a cluster the read-back names the Distributed flows; here it reads flows_local */
	const char *tbl_db = db;
	ip_prefix target;
	ip_prefix_parse("10.1.2.0/24", &target);
	st_readback_flows_sql(rb, sizeof rb, tbl_db, &target, T0, T0 + 86400, 1000, v6);
	if (cluster) { /* flows -> flows_local */
		char *p = strstr(rb, ".flows ");
		if (p) {
			memmove(p + 12, p + 6, strlen(p + 6) + 1);
			memcpy(p + 6, "_local", 6);
		}
	}
	unsigned want = 0;
	for (unsigned i = 0; i < NFLOWS; i++)
		want += i % 5 != 4 && i % 4 == 2;
	int rc = run(&e, "TSV", rb, &a, NULL, err, sizeof err);
	unsigned lines = 0;
	for (char *p = a; rc == 0 && p && *p; p++)
		lines += *p == '\n';
	want = 2 * want > 1000 ? 1000 : 2 * want; /* its LIMIT: readback.c's ROWS_MAX */
	check(rc == 0 && lines == want, "read-back `flows` (10.1.2.0/24): %u rows (the limit of 1000 of 2 batches x 600)%s",
	      lines, rc ? err : "");
	if (rc == 0) {
		/* the top row: the largest packets x sampling_rate among 10.1.2.x */
		unsigned best = 0;
		uint64_t bv = 0;
		for (unsigned i = 0; i < NFLOWS; i++)
			if (i % 5 != 4 && i % 4 == 2) {
				struct flow_record r;
				make_flow(&r, i);
				if (r.packets * r.sampling_rate > bv) {
					bv = r.packets * r.sampling_rate;
					best = i;
				}
			}
		struct flow_record r;
		make_flow(&r, best);
		char src[IP_STRLEN], dst[IP_STRLEN], head[200];
		ip_format(&r.src, src);
		ip_format(&r.dst, dst);
		snprintf(head, sizeof head, "\t::ffff:%s\t::ffff:%s\t%u\t%u\t%u\t%u\t%" PRIu64 "\t", src, dst, r.src_port,
			 r.dst_port, r.protocol, r.tcp_flags, r.packets);
		check(strstr(a, head) && strstr(a, head) < strchr(a, '\n'), "read-back `flows`: first row is flow %u (%s)",
		      best, head + 1);
	}
	free(a);
	a = NULL;
	ip_addr host;
	ip_parse("2001:db8:ff::7", &host);
	st_readback_talkers_sql(rb, sizeof rb, tbl_db, &host, T0, T0 + 86400, 5, v6);
	for (char *p = rb; cluster && (p = strstr(p, ".flows ")); p += 12) {
		memmove(p + 12, p + 6, strlen(p + 6) + 1);
		memcpy(p + 6, "_local", 6);
	}
	rc = run(&e, "TSV", rb, &a, NULL, err, sizeof err);
	lines = 0;
	for (char *p = a; rc == 0 && p && *p; p++)
		lines += *p == '\n';
	/* IPv6 flows to 2001:db8:ff::7: i = 4, 9, ...; 600 sources, 2 ports: top 5 + 2 */
	check(rc == 0 && lines == 7 && strstr(a, "src\t2001:db8::") && strstr(a, "port\t17/53"),
	      "read-back `talkers 2001:db8:ff::7`: 5 sources + 2 ports (%u lines)%s", lines, rc ? err : "");
	free(a);
	a = NULL;
	if (v6) {
		st_readback_talkers_sql(rb, sizeof rb, tbl_db, &host, T0, T0 + 86400, 5, false);
		for (char *p = rb; cluster && (p = strstr(p, ".flows ")); p += 12) {
			memmove(p + 12, p + 6, strlen(p + 6) + 1);
			memcpy(p + 6, "_local", 6);
		}
		rc = run(&e, "TSV", rb, &a, NULL, err, sizeof err);
		check(rc != 0, "the FixedString(16) read-back SQL is refused on the IPv6 table (so the shape lookup matters)");
		free(a);
	}
	printf("%d passed, %d failed\n", oks, fails);
	e.close(e.conn);
	free(rows);
	free(native);
	free(pos);
	return fails ? 1 : 0;
}
