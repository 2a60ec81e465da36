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

struct column {
	const char *name;
	const char *type;
};

static const struct column flow_columns[] = {
	{"date", "Date"},		/* of start_time; the partition key */
	{"start_time", "DateTime"},
	{"start_nsec", "UInt32"},
	{"end_time", "DateTime"},
	{"end_nsec", "UInt32"},
	{"src", "FixedString(16)"},
	{"dst", "FixedString(16)"},
	{"src_port", "UInt16"},
	{"dst_port", "UInt16"},	/* ICMP: type << 8 | code */
	{"protocol", "UInt8"},
	{"tcp_flags", "UInt8"},
	{"tos", "UInt8"},
	{"flags", "UInt8"},		/* FLOW_F_* */
	{"packets", "UInt64"},		/* raw, as sampled */
	{"bytes", "UInt64"},
	{"sampling_rate", "UInt32"},	/* multiply packets/bytes by it for the estimate */
	{"exporter", "FixedString(16)"},
	{"in_if", "UInt32"},
	{"out_if", "UInt32"},
	{"vlan", "UInt16"},
	{"source", "UInt8"},		/* 0 mirror, 1 sflow, 2 netflow5, 3 netflow9, 4 ipfix */
	{"ip_version", "UInt8"},
};

static const struct column event_columns[] = {
	{"date", "Date"},
	{"time", "DateTime"},
	{"time_nsec", "UInt32"},
	{"attack_id", "UInt64"},
	{"event", "String"},
	{"target", "FixedString(16)"},
	{"target_len", "UInt8"},	/* prefix length in the family's own numbering */
	{"direction", "UInt8"},		/* 0 incoming, 1 outgoing */
	{"manual", "UInt8"},
	{"hostgroup", "String"},
	{"trigger", "String"},
	{"trigger_value", "Float64"},
	{"trigger_limit", "Float64"},
	{"pps", "Float64"},
	{"bps", "Float64"},
	{"flows", "Float64"},
	{"ban_seconds", "UInt32"},
	{"action", "String"},
	{"reason", "String"},
};

/* Daily partitions so old days drop with one ALTER ... DROP PARTITION; within a day rows sort by
 * destination then time, the order of "what happened to this host", the common question. */
static const char flows_engine[] = "ENGINE = MergeTree() PARTITION BY date ORDER BY (dst, start_time)";
static const char events_engine[] =
	"ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (attack_id, time)";

static int table_sql(char *out, size_t outlen, const char *db, const char *table,
		     const struct column *cols, size_t n, const char *engine)
{
	size_t len = 0;
	int k = snprintf(out, outlen, "CREATE TABLE IF NOT EXISTS %s.%s (", db, table);
	if (k < 0 || (size_t)k >= outlen)
		return -1;
	len = (size_t)k;
	for (size_t i = 0; i < n; i++) {
		k = snprintf(out + len, outlen - len, "%s%s %s", i ? ", " : "", cols[i].name, cols[i].type);
		if (k < 0 || (size_t)k >= outlen - len)
			return -1;
		len += (size_t)k;
	}
	k = snprintf(out + len, outlen - len, ") %s", engine);
	if (k < 0 || (size_t)k >= outlen - len)
		return -1;
	return 0;
}

/* The first schema, as sitting 1 shipped it: later versions only ALTER or add to it, so a
 * database made by any earlier Rampart upgrades in place. */
static size_t v1_statements(const char *db, char out[][ST_STMT_MAX], size_t max)
{
	size_t n = 0;
	if (n < max) {
		int k = snprintf(out[n], ST_STMT_MAX, "CREATE DATABASE IF NOT EXISTS %s", db);
		if (k < 0 || (size_t)k >= ST_STMT_MAX)
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], ST_STMT_MAX, db, st_table_name[ST_FLOWS], flow_columns,
			      sizeof flow_columns / sizeof flow_columns[0], flows_engine) != 0)
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], ST_STMT_MAX, db, st_table_name[ST_EVENTS], event_columns,
			      sizeof event_columns / sizeof event_columns[0], events_engine) != 0)
			return n;
		n++;
	}
	return n;
}

/* Later versions as text; "%1$s" is the database. Each statement is safe to run again after a
 * half-applied migration: CREATE ... IF NOT EXISTS, and an ADD COLUMN whose "already exists"
 * error migrate treats as done (18.16 has no ADD COLUMN IF NOT EXISTS). */
static const char *const v2_batches[] = {
	/* batch identity: the writer stamps every row of a batch with the batch's id */
	"ALTER TABLE %1$s.flows ADD COLUMN batch_id UInt64",
	"ALTER TABLE %1$s.attack_events ADD COLUMN batch_id UInt64",
	/* the ledger: one row per stored batch, written by ClickHouse itself inside the same INSERT
	 * (materialized views), so a batch whose answer was lost can be looked up before a replay */
	"CREATE TABLE IF NOT EXISTS %1$s.batches (batch_id UInt64, tbl String, rows UInt64, time DateTime) "
	"ENGINE = MergeTree() PARTITION BY toYYYYMM(time) ORDER BY batch_id",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS %1$s.flows_batches TO %1$s.batches AS "
	"SELECT batch_id, 'flows' AS tbl, count() AS rows, now() AS time FROM %1$s.flows GROUP BY batch_id",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS %1$s.attack_events_batches TO %1$s.batches AS "
	"SELECT batch_id, 'attack_events' AS tbl, count() AS rows, now() AS time FROM %1$s.attack_events "
	"GROUP BY batch_id",
	NULL,
};

static const char *const v3_rollup[] = {
	/* per destination host and minute; packets and bytes scaled by the sampling rate. Summing
	 * merges happen in the background: always query with sum() ... GROUP BY */
	"CREATE TABLE IF NOT EXISTS %1$s.host_traffic (minute DateTime, dst FixedString(16), "
	"flows UInt64, packets UInt64, bytes UInt64) "
	"ENGINE = SummingMergeTree() PARTITION BY toDate(minute) ORDER BY (dst, minute)",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS %1$s.host_traffic_mv TO %1$s.host_traffic AS "
	"SELECT toStartOfMinute(start_time) AS minute, dst, count() AS flows, "
	"sum(packets * sampling_rate) AS packets, sum(bytes * sampling_rate) AS bytes "
	"FROM %1$s.flows GROUP BY minute, dst",
	NULL,
};

static const char *const migration_what[] = {
	NULL,
	"flows and attack_events",
	"batch_id columns and the batches ledger (idempotent replays)",
	"host_traffic per-minute rollup",
};

unsigned st_schema_latest(void)
{
	return (unsigned)(sizeof migration_what / sizeof migration_what[0]) - 1;
}

const char *st_schema_what(unsigned version)
{
	return version >= 1 && version <= st_schema_latest() ? migration_what[version] : "";
}

size_t st_schema_migration(unsigned version, const char *db, char out[][ST_STMT_MAX], size_t max)
{
	const char *const *text;
	switch (version) {
	case 1: return v1_statements(db, out, max);
	case 2: text = v2_batches; break;
	case 3: text = v3_rollup; break;
	default: return 0;
	}
	size_t n = 0;
	for (; text[n] && n < max; n++) {
		int k = snprintf(out[n], ST_STMT_MAX, text[n], db);
		if (k < 0 || (size_t)k >= ST_STMT_MAX)
			return n;
	}
	return n;
}

size_t st_schema_statements(const char *db, char out[][1024], size_t max)
{
	size_t n = 0;
	for (unsigned v = 1; v <= st_schema_latest() && n < max; v++)
		n += st_schema_migration(v, db, out + n, max - n);
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
