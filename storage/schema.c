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

size_t st_schema_statements(const char *db, char out[][1024], size_t max)
{
	size_t n = 0;
	if (n < max) {
		int k = snprintf(out[n], sizeof out[n], "CREATE DATABASE IF NOT EXISTS %s", db);
		if (k < 0 || (size_t)k >= sizeof out[n])
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], sizeof out[n], db, st_table_name[ST_FLOWS], flow_columns,
			      sizeof flow_columns / sizeof flow_columns[0], flows_engine) != 0)
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], sizeof out[n], db, st_table_name[ST_EVENTS], event_columns,
			      sizeof event_columns / sizeof event_columns[0], events_engine) != 0)
			return n;
		n++;
	}
	return n;
}

int st_schema_sql(const char *db, char *out, size_t outlen)
{
	char stmts[3][1024];
	size_t n = st_schema_statements(db, stmts, 3);
	if (n != 3)
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
