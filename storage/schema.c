/* The ClickHouse schema: the one place that says which columns exist and in which order.
 * rowbinary.c writes the columns in exactly this order; docs/STORAGE.md describes them.
 *
 * Valid on ClickHouse 18.16 (Debian 12), so none of DateTime64, IPv4/IPv6, LowCardinality,
 * CODEC or TTL. Addresses are FixedString(16): the ip_addr bytes, IPv4 as ::ffff:a.b.c.d, so
 * IPv6NumToString() prints both families. Times are a DateTime (seconds, UTC) plus a UInt32
 * of nanoseconds within that second: DateTime keeps every date function and partition working,
 * the _nsec column keeps the capture clock's precision. Enumerations (source, direction) are
 * plain UInt8 rather than Enum8: an Enum8 rejects an unknown value and with it the whole batch,
 * and a new capture source must never make storage fail. */
#include <stdio.h>
#include <string.h>

#include "st_int.h"

const char *const st_table_name[ST_NTABLES] = {"flows", "attack_events"};

static const struct st_column flow_columns[] = {
	{"date", "Date", 1},		/* of start_time; the partition key */
	{"start_time", "DateTime", 1},
	{"start_nsec", "UInt32", 1},
	{"end_time", "DateTime", 1},
	{"end_nsec", "UInt32", 1},
	{"src", "FixedString(16)", 1},
	{"dst", "FixedString(16)", 1},
	{"src_port", "UInt16", 1},
	{"dst_port", "UInt16", 1},	/* ICMP: type << 8 | code */
	{"protocol", "UInt8", 1},
	{"tcp_flags", "UInt8", 1},
	{"tos", "UInt8", 1},
	{"flags", "UInt8", 1},		/* FLOW_F_* */
	{"packets", "UInt64", 1},		/* raw, as sampled */
	{"bytes", "UInt64", 1},
	{"sampling_rate", "UInt32", 1},	/* multiply packets/bytes by it for the estimate */
	{"exporter", "FixedString(16)", 1},
	{"in_if", "UInt32", 1},
	{"out_if", "UInt32", 1},
	{"vlan", "UInt16", 1},
	{"source", "UInt8", 1},		/* 0 mirror, 1 sflow, 2 netflow5, 3 netflow9, 4 ipfix */
	{"ip_version", "UInt8", 1},
	{"batch_id", "UInt64", 2},	/* the writer appends it to every row */
};

static const struct st_column event_columns[] = {
	{"date", "Date", 1},
	{"time", "DateTime", 1},
	{"time_nsec", "UInt32", 1},
	{"attack_id", "UInt64", 1},
	{"event", "String", 1},
	{"target", "FixedString(16)", 1},
	{"target_len", "UInt8", 1},	/* prefix length in the family's own numbering */
	{"direction", "UInt8", 1},		/* 0 incoming, 1 outgoing */
	{"manual", "UInt8", 1},
	{"hostgroup", "String", 1},
	{"trigger", "String", 1},
	{"trigger_value", "Float64", 1},
	{"trigger_limit", "Float64", 1},
	{"pps", "Float64", 1},
	{"bps", "Float64", 1},
	{"flows", "Float64", 1},
	{"ban_seconds", "UInt32", 1},
	{"action", "String", 1},
	{"reason", "String", 1},
	/* detection.attack_pcap: where the attack's sample packets go ("" when off or the target is
	 * a prefix) and how many were written when this row was made (0 at the ban; the unban row
	 * has the count up to then). Added AFTER reason, so batch_id stays the last column */
	{"pcap_file", "String", 4},
	{"pcap_packets", "UInt64", 4},
	{"batch_id", "UInt64", 2},
};

/* Daily partitions so old days drop with one ALTER ... DROP PARTITION; within a day rows sort by
 * destination then time, the order of "what happened to this host", the common question. */
static const char flows_engine[] = "ENGINE = MergeTree() PARTITION BY date ORDER BY (dst, start_time)";
static const char events_engine[] =
	"ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (attack_id, time)";

static int table_sql(char *out, size_t outlen, const char *db, const char *table, const char *suffix,
		     const struct st_column *cols, size_t n, const char *engine)
{
	size_t len = 0;
	int k = snprintf(out, outlen, "CREATE TABLE IF NOT EXISTS %s.%s%s (", db, table, suffix);
	if (k < 0 || (size_t)k >= outlen)
		return -1;
	len = (size_t)k;
	for (size_t i = 0, first = 1; i < n; i++) {
		if (cols[i].since > 1)
			continue; /* a later version ALTERs it in, so every database has one history */
		k = snprintf(out + len, outlen - len, "%s%s %s", first ? "" : ", ", cols[i].name, cols[i].type);
		first = 0;
		if (k < 0 || (size_t)k >= outlen - len)
			return -1;
		len += (size_t)k;
	}
	k = snprintf(out + len, outlen - len, ") %s", engine);
	if (k < 0 || (size_t)k >= outlen - len)
		return -1;
	return 0;
}

/* Statement templates: {db} is the database, {L} the data tables' suffix ("_local" with a
 * cluster, else nothing), {cluster} the cluster. A template starting with '@' is for cluster
 * mode only: the Distributed table over the local one, or the same ALTER on it. */
static int expand(char *out, size_t outlen, const char *tmpl, const char *db, const char *cluster)
{
	static const char *const keys[] = {"{db}", "{L}", "{cluster}"};
	const char *vals[] = {db, cluster ? "_local" : "", cluster ? cluster : ""};
	size_t len = 0;
	for (const char *p = tmpl; *p;) {
		size_t i = 0;
		while (i < 3 && strncmp(p, keys[i], strlen(keys[i])))
			i++;
		const char *add = i < 3 ? vals[i] : p;
		size_t n = i < 3 ? strlen(vals[i]) : 1;
		if (len + n >= outlen)
			return -1;
		memcpy(out + len, add, n);
		len += n;
		p += i < 3 ? strlen(keys[i]) : 1;
	}
	out[len] = '\0';
	return 0;
}

static size_t expand_all(const char *const *text, const char *db, const char *cluster,
			 char out[][ST_STMT_MAX], size_t max)
{
	size_t n = 0;
	for (; *text && n < max; text++) {
		if (**text == '@' && !cluster)
			continue;
		if (expand(out[n], ST_STMT_MAX, *text + (**text == '@'), db, cluster) != 0)
			return n;
		n++;
	}
	return n;
}

/* Cluster mode (storage.clickhouse.cluster): rows live in the *_local MergeTree tables of every
 * shard; the names queries use (flows, attack_events, batches, host_traffic) are Distributed
 * tables over them. flows are sharded by destination so one host's rows, its rollup and its
 * talkers stay on one shard (an attack's flows too, for a host target); attack events by
 * attack, so one attack's steps stay together. batches and host_traffic are written only by the
 * views on each shard, so their Distributed tables need no key. */
static const char *const v1_cluster[] = {
	"@CREATE TABLE IF NOT EXISTS {db}.flows AS {db}.flows_local "
	"ENGINE = Distributed({cluster}, {db}, flows_local, cityHash64(dst))",
	"@CREATE TABLE IF NOT EXISTS {db}.attack_events AS {db}.attack_events_local "
	"ENGINE = Distributed({cluster}, {db}, attack_events_local, intHash64(attack_id))",
	NULL,
};

/* The first schema, as sitting 1 shipped it: later versions only ALTER or add to it, so a
 * database made by any earlier Rampart upgrades in place. */
static size_t v1_statements(const char *db, const char *cluster, char out[][ST_STMT_MAX], size_t max)
{
	size_t n = 0;
	const char *sfx = cluster ? "_local" : "";
	if (n < max) {
		int k = snprintf(out[n], ST_STMT_MAX, "CREATE DATABASE IF NOT EXISTS %s", db);
		if (k < 0 || (size_t)k >= ST_STMT_MAX)
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], ST_STMT_MAX, db, st_table_name[ST_FLOWS], sfx, flow_columns,
			      sizeof flow_columns / sizeof flow_columns[0], flows_engine) != 0)
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], ST_STMT_MAX, db, st_table_name[ST_EVENTS], sfx, event_columns,
			      sizeof event_columns / sizeof event_columns[0], events_engine) != 0)
			return n;
		n++;
	}
	return n + expand_all(v1_cluster, db, cluster, out + n, max - n);
}

/* Later versions as templates. Each statement is safe to run again after a half-applied
 * migration: CREATE ... IF NOT EXISTS, and an ADD COLUMN whose "already exists" error migrate
 * treats as done (18.16 has no ADD COLUMN IF NOT EXISTS). */
static const char *const v2_batches[] = {
	/* batch identity: the writer stamps every row of a batch with the batch's id */
	"ALTER TABLE {db}.flows{L} ADD COLUMN batch_id UInt64",
	"@ALTER TABLE {db}.flows ADD COLUMN batch_id UInt64",
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN batch_id UInt64",
	"@ALTER TABLE {db}.attack_events ADD COLUMN batch_id UInt64",
	/* the ledger: one row per stored batch, written by ClickHouse itself inside the same INSERT
	 * (materialized views), so a batch whose answer was lost can be looked up before a replay.
	 * With a cluster each shard's views write the shard's part; the Distributed batches sums them */
	"CREATE TABLE IF NOT EXISTS {db}.batches{L} (batch_id UInt64, tbl String, rows UInt64, time DateTime) "
	"ENGINE = MergeTree() PARTITION BY toYYYYMM(time) ORDER BY batch_id",
	"@CREATE TABLE IF NOT EXISTS {db}.batches AS {db}.batches_local "
	"ENGINE = Distributed({cluster}, {db}, batches_local)",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.flows_batches TO {db}.batches{L} AS "
	"SELECT batch_id, 'flows' AS tbl, count() AS rows, now() AS time FROM {db}.flows{L} GROUP BY batch_id",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.attack_events_batches TO {db}.batches{L} AS "
	"SELECT batch_id, 'attack_events' AS tbl, count() AS rows, now() AS time FROM {db}.attack_events{L} "
	"GROUP BY batch_id",
	NULL,
};

static const char *const v3_rollup[] = {
	/* per destination host and minute; packets and bytes scaled by the sampling rate. Summing
	 * merges happen in the background: always query with sum() ... GROUP BY */
	"CREATE TABLE IF NOT EXISTS {db}.host_traffic{L} (minute DateTime, dst FixedString(16), "
	"flows UInt64, packets UInt64, bytes UInt64) "
	"ENGINE = SummingMergeTree() PARTITION BY toDate(minute) ORDER BY (dst, minute)",
	"@CREATE TABLE IF NOT EXISTS {db}.host_traffic AS {db}.host_traffic_local "
	"ENGINE = Distributed({cluster}, {db}, host_traffic_local)",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.host_traffic_mv TO {db}.host_traffic{L} AS "
	"SELECT toStartOfMinute(start_time) AS minute, dst, count() AS flows, "
	"sum(packets * sampling_rate) AS packets, sum(bytes * sampling_rate) AS bytes "
	"FROM {db}.flows{L} GROUP BY minute, dst",
	NULL,
};

static const char *const v4_pcap[] = {
	/* detection.attack_pcap's file per attack, next to the attack's rows. AFTER reason: batch_id,
	 * which the writer appends to each row, stays last (AFTER works on 18.16, on Distributed too) */
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN pcap_file String AFTER reason",
	"@ALTER TABLE {db}.attack_events ADD COLUMN pcap_file String AFTER reason",
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN pcap_packets UInt64 AFTER pcap_file",
	"@ALTER TABLE {db}.attack_events ADD COLUMN pcap_packets UInt64 AFTER pcap_file",
	NULL,
};

static const char *const migration_what[] = {
	NULL,
	"flows and attack_events",
	"batch_id columns and the batches ledger (idempotent replays)",
	"host_traffic per-minute rollup",
	"attack_events pcap_file and pcap_packets (detection.attack_pcap)",
};

size_t st_schema_columns(enum st_table t, const struct st_column **cols)
{
	if (t == ST_FLOWS) {
		*cols = flow_columns;
		return sizeof flow_columns / sizeof flow_columns[0];
	}
	*cols = event_columns;
	return sizeof event_columns / sizeof event_columns[0];
}

int st_schema_insert_sql(char *out, size_t outlen, const char *db, enum st_table t, unsigned version)
{
	const struct st_column *cols;
	size_t n = st_schema_columns(t, &cols);
	int k = snprintf(out, outlen, "INSERT INTO %s.%s (", db, st_table_name[t]);
	if (k < 0 || (size_t)k >= outlen)
		return -1;
	size_t len = (size_t)k;
	for (size_t i = 0, first = 1; i < n; i++) {
		if (cols[i].since > version)
			continue;
		k = snprintf(out + len, outlen - len, "%s%s", first ? "" : ", ", cols[i].name);
		if (k < 0 || (size_t)k >= outlen - len)
			return -1;
		len += (size_t)k;
		first = 0;
	}
	k = snprintf(out + len, outlen - len, ") FORMAT RowBinary");
	return k < 0 || (size_t)k >= outlen - len ? -1 : 0;
}

unsigned st_schema_latest(void)
{
	return (unsigned)(sizeof migration_what / sizeof migration_what[0]) - 1;
}

const char *st_schema_what(unsigned version)
{
	return version >= 1 && version <= st_schema_latest() ? migration_what[version] : "";
}

size_t st_schema_migration(unsigned version, const char *db, const char *cluster, char out[][ST_STMT_MAX],
			   size_t max)
{
	if (cluster && !*cluster)
		cluster = NULL;
	switch (version) {
	case 1: return v1_statements(db, cluster, out, max);
	case 2: return expand_all(v2_batches, db, cluster, out, max);
	case 3: return expand_all(v3_rollup, db, cluster, out, max);
	case 4: return expand_all(v4_pcap, db, cluster, out, max);
	default: return 0;
	}
}

const struct st_retained_table st_retained[ST_N_RETAINED] = {
	{"flows", "date"},
	{"attack_events", "date"},
	{"host_traffic", "toDate(minute)"},
	{"batches", "toDate(time)"},
};

/* Only TTL depends on the version. The tables keep one shape on every server: the IPv6 type,
 * LowCardinality and CODECs would change how rows are encoded (LowCardinality in Native), how
 * read-back compares addresses (IPv6 against FixedString(16) in 23.x) or what a CREATE accepts,
 * and only 18.16 can be run here; a DDL no server here has accepted is not shipped. */
size_t st_schema_version_ddl(const char *version, const char *db, const char *cluster, unsigned retention_days,
			     char out[][ST_STMT_MAX], size_t max)
{
	size_t n = 0;
	if (!retention_days || !st_ch_version_has_ttl(version))
		return 0;
	const char *sfx = cluster && *cluster ? "_local" : "";
	for (size_t i = 0; i < ST_N_RETAINED && n < max; i++) {
		int k = snprintf(out[n], ST_STMT_MAX, "ALTER TABLE %s.%s%s MODIFY TTL %s + INTERVAL %u DAY", db,
				 st_retained[i].table, sfx, st_retained[i].ttl_date, retention_days);
		if (k < 0 || (size_t)k >= ST_STMT_MAX)
			return n;
		n++;
	}
	return n;
}

size_t st_schema_statements(const char *db, char out[][1024], size_t max)
{
	size_t n = 0;
	for (unsigned v = 1; v <= st_schema_latest() && n < max; v++)
		n += st_schema_migration(v, db, NULL, out + n, max - n);
	return n;
}

int st_schema_sql(const char *db, char *out, size_t outlen)
{
	char stmts[ST_SCHEMA_MAX][ST_STMT_MAX];
	size_t n = st_schema_statements(db, stmts, ST_SCHEMA_MAX);
	if (n == 0)
		return -1;
	size_t len = 0;
	int k = snprintf(out, outlen,
			 "-- Rampart storage schema (ClickHouse 18.16 or later). Create the tables with\n"
			 "--   clickhouse-client --multiquery < schema.sql\n"
			 "-- then load each file with\n"
			 "--   clickhouse-client --query \"INSERT INTO %s.flows FORMAT RowBinary\" < flows-YYYYMMDDHH.rowbinary\n"
			 "--   clickhouse-client --query \"INSERT INTO %s.attack_events FORMAT RowBinary\" < attack_events-YYYYMMDDHH.rowbinary\n",
			 db, db);
	if (k < 0 || (size_t)k >= outlen)
		return -1;
	len = (size_t)k;
	for (size_t i = 0; i < n; i++) {
		k = snprintf(out + len, outlen - len, "%s;\n", stmts[i]);
		if (k < 0 || (size_t)k >= outlen - len)
			return -1;
		len += (size_t)k;
	}
	return 0;
}
