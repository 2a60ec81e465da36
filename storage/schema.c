/* The ClickHouse schema: the one place that says which columns exist and in which order.
 * rowbinary.c writes the columns in exactly this order; docs/STORAGE.md describes them.
 *
 * Two shapes of the same columns. The base shape is valid on ClickHouse 18.16 (Debian 12), so
 * none of DateTime64, IPv4/IPv6, LowCardinality, CODEC or TTL. A database created on a newer
 * server gets what that server has (st_schema_features): IPv6 address columns, LowCardinality
 * strings, codecs; the bytes the encoders write are the same for both. Addresses are FixedString(16): the ip_addr bytes, IPv4 as ::ffff:a.b.c.d, so
 * IPv6NumToString() prints both families. Times are a DateTime (seconds, UTC) plus a UInt32
 * of nanoseconds within that second: DateTime keeps every date function and partition working,
 * the _nsec column keeps the capture clock's precision. Enumerations (source, direction) are
 * plain UInt8 rather than Enum8: an Enum8 rejects an unknown value and with it the whole batch,
 * and a new capture source must never make storage fail. */
#include <stdio.h>
#include <string.h>

#include "st_int.h"

/* How a column looks on a server with the newer features (docs/STORAGE.md "Newer servers"):
 * ADDR columns become IPv6 (same 16 bytes on the wire, big-endian), LOWCARD columns
 * LowCardinality(String) (RowBinary: a String; Native: sent as String, the server converts),
 * and a CODEC where the column compresses far better with one. */
#define ADDR ST_K_ADDR
#define LC ST_K_LOWCARD
#define TIME_CODEC "DoubleDelta, LZ4"   /* second timestamps, nearly sorted within a key */
#define COUNT_CODEC "ZSTD(1)"           /* counters: small integers in wide types */
#define NSEC_CODEC "ZSTD(1)"

const char *const st_table_name[ST_NTABLES] = {"flows", "attack_events", "operator_events"};

static const struct st_column flow_columns[] = {
	{"date", "Date", 1, 0, "DoubleDelta, LZ4"},	/* of start_time; the partition key */
	{"start_time", "DateTime", 1, 0, TIME_CODEC},
	{"start_nsec", "UInt32", 1, 0, NSEC_CODEC},
	{"end_time", "DateTime", 1, 0, TIME_CODEC},
	{"end_nsec", "UInt32", 1, 0, NSEC_CODEC},
	{"src", "FixedString(16)", 1, ADDR, NULL},
	{"dst", "FixedString(16)", 1, ADDR, NULL},
	{"src_port", "UInt16", 1, 0, NULL},
	{"dst_port", "UInt16", 1, 0, NULL},	/* ICMP: type << 8 | code */
	{"protocol", "UInt8", 1, 0, NULL},
	{"tcp_flags", "UInt8", 1, 0, NULL},
	{"tos", "UInt8", 1, 0, NULL},
	{"flags", "UInt8", 1, 0, NULL},		/* FLOW_F_* */
	{"packets", "UInt64", 1, 0, COUNT_CODEC},		/* raw, as sampled */
	{"bytes", "UInt64", 1, 0, COUNT_CODEC},
	{"sampling_rate", "UInt32", 1, 0, NULL},	/* multiply packets/bytes by it for the estimate */
	{"exporter", "FixedString(16)", 1, ADDR, NULL},
	{"in_if", "UInt32", 1, 0, NULL},
	{"out_if", "UInt32", 1, 0, NULL},
	{"vlan", "UInt16", 1, 0, NULL},
	{"source", "UInt8", 1, 0, NULL},		/* 0 mirror, 1 sflow, 2 netflow5, 3 netflow9, 4 ipfix */
	{"ip_version", "UInt8", 1, 0, NULL},
	{"batch_id", "UInt64", 2, 0, NULL},	/* the writer appends it to every row */
};

static const struct st_column event_columns[] = {
	{"date", "Date", 1, 0, "DoubleDelta, LZ4"},
	{"time", "DateTime", 1, 0, TIME_CODEC},
	{"time_nsec", "UInt32", 1, 0, NSEC_CODEC},
	{"attack_id", "UInt64", 1, 0, NULL},
	{"event", "String", 1, LC, NULL},
	{"target", "FixedString(16)", 1, ADDR, NULL},
	{"target_len", "UInt8", 1, 0, NULL},	/* prefix length in the family's own numbering */
	{"direction", "UInt8", 1, 0, NULL},		/* 0 incoming, 1 outgoing */
	{"manual", "UInt8", 1, 0, NULL},
	{"hostgroup", "String", 1, LC, NULL},
	{"trigger", "String", 1, LC, NULL},
	{"trigger_value", "Float64", 1, 0, NULL},
	{"trigger_limit", "Float64", 1, 0, NULL},
	{"pps", "Float64", 1, 0, NULL},
	{"bps", "Float64", 1, 0, NULL},
	{"flows", "Float64", 1, 0, NULL},
	{"ban_seconds", "UInt32", 1, 0, NULL},
	{"action", "String", 1, LC, NULL},
	{"reason", "String", 1, 0, NULL},
	/* detection.attack_pcap: where the attack's sample packets go ("" when off or the target is
	 * a prefix) and how many were written when this row was made (0 at the ban; the unban row
	 * has the count up to then). Added AFTER reason, so batch_id stays the last column */
	{"pcap_file", "String", 4, 0, NULL},
	{"pcap_packets", "UInt64", 4, 0, NULL},
	/* the attack on a covering prefix open when this one opened (a host attacked inside a
	 * bombed /24), 0 = none */
	{"parent_attack_id", "UInt64", 5, 0, NULL},
	/* the fingerprint's distinct counts (HyperLogLog estimates) as far as it got: remote ends
	 * (sources of an incoming attack), their /24s or /64s, TCP/UDP source and destination
	 * ports; 0 before any record (the ban row), the whole attack's on the unban row */
	{"distinct_peers", "UInt64", 7, 0, NULL},
	{"distinct_peer_prefixes", "UInt64", 7, 0, NULL},
	{"distinct_src_ports", "UInt64", 7, 0, NULL},
	{"distinct_dst_ports", "UInt64", 7, 0, NULL},
	{"batch_id", "UInt64", 2, 0, NULL},
};

/* The audit trail (api/): one row per state-changing command, from the control socket, the HTTP
 * API, the ExaBGP pipe or process. A table of its own from version 6, so all its columns are of
 * that version; uid and pid are signed (-1: not known, e.g. an HTTP client). */
static const struct st_column ops_columns[] = {
	{"date", "Date", 6, 0, "DoubleDelta, LZ4"},
	{"time", "DateTime", 6, 0, TIME_CODEC},
	{"time_nsec", "UInt32", 6, 0, NSEC_CODEC},
	{"source", "String", 6, LC, NULL},	/* socket, http, pipe, process */
	{"client", "String", 6, 0, NULL},	/* HTTP client address:port, else "" */
	{"uid", "Int32", 6, 0, NULL},
	{"pid", "Int32", 6, 0, NULL},
	{"token", "UInt8", 6, 0, NULL},
	{"command", "String", 6, 0, NULL},
	{"result", "String", 6, 0, NULL},	/* the reply's first line */
	{"ok", "UInt8", 6, 0, NULL},
	{"batch_id", "UInt64", 6, 0, NULL},
};

/* Daily partitions so old days drop with one ALTER ... DROP PARTITION; within a day rows sort by
 * destination then time, the order of "what happened to this host", the common question. */
static const char flows_engine[] = "ENGINE = MergeTree() PARTITION BY date ORDER BY (dst, start_time)";
static const char events_engine[] =
	"ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (attack_id, time)";
/* few rows (operators' commands), read by time */
static const char ops_engine[] = "ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY time";

int st_column_ddl(const struct st_column *c, unsigned feat, char *out, size_t outlen)
{
	const char *type = st_column_wire_type(c, feat);
	bool lc = (c->kind & ST_K_LOWCARD) && (feat & ST_F_LOWCARD);
	bool codec = c->codec && (feat & ST_F_CODEC);
	int k = snprintf(out, outlen, "%s%s%s%s%s%s", lc ? "LowCardinality(" : "", type, lc ? ")" : "",
			 codec ? " CODEC(" : "", codec ? c->codec : "", codec ? ")" : "");
	return k < 0 || (size_t)k >= outlen ? -1 : 0;
}

const char *st_column_wire_type(const struct st_column *c, unsigned feat)
{
	/* IPv6 is the same 16 bytes as FixedString(16) in RowBinary and Native (big-endian);
	 * LowCardinality(String) is not named: RowBinary has no types, and Native sends it as a
	 * String, which the server converts (the low_cardinality_allow_in_native_format path) */
	return (c->kind & ST_K_ADDR) && (feat & ST_F_IPV6) ? "IPv6" : c->type;
}

/* The CREATE of a table as schema version `version` makes it: the columns of that version and
 * earlier (later ones are ALTERed in, so every database has one history). */
static int table_sql(char *out, size_t outlen, const char *db, const char *table, const char *suffix,
		     const struct st_column *cols, size_t n, const char *engine, unsigned feat, unsigned version)
{
	size_t len = 0;
	int k = snprintf(out, outlen, "CREATE TABLE IF NOT EXISTS %s.%s%s (", db, table, suffix);
	if (k < 0 || (size_t)k >= outlen)
		return -1;
	len = (size_t)k;
	for (size_t i = 0, first = 1; i < n; i++) {
		char type[96];
		if (cols[i].since > version)
			continue;
		if (st_column_ddl(&cols[i], feat, type, sizeof type) != 0)
			return -1;
		k = snprintf(out + len, outlen - len, "%s%s %s", first ? "" : ", ", cols[i].name, type);
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
 * cluster, else nothing), {cluster} the cluster; the shape's types: {ADDR} an address column,
 * {LCS} a low-cardinality String, {CT} / {CC} the codec clause of a time / a counter (empty
 * without ST_F_CODEC). A template starting with '@' is for cluster mode only: the Distributed
 * table over the local one, or the same ALTER on it. */
static int expand(char *out, size_t outlen, const char *tmpl, const char *db, const char *cluster, unsigned feat)
{
	static const char *const keys[] = {"{db}", "{L}", "{cluster}", "{ADDR}", "{LCS}", "{CT}", "{CC}"};
	enum { NKEYS = sizeof keys / sizeof keys[0] };
	bool codec = feat & ST_F_CODEC;
	const char *vals[NKEYS] = {
		db, cluster ? "_local" : "", cluster ? cluster : "",
		feat & ST_F_IPV6 ? "IPv6" : "FixedString(16)",
		feat & ST_F_LOWCARD ? "LowCardinality(String)" : "String",
		codec ? " CODEC(" TIME_CODEC ")" : "", codec ? " CODEC(" COUNT_CODEC ")" : "",
	};
	size_t len = 0;
	for (const char *p = tmpl; *p;) {
		size_t i = 0;
		while (i < NKEYS && strncmp(p, keys[i], strlen(keys[i])))
			i++;
		const char *add = i < NKEYS ? vals[i] : p;
		size_t n = i < NKEYS ? strlen(vals[i]) : 1;
		if (len + n >= outlen)
			return -1;
		memcpy(out + len, add, n);
		len += n;
		p += i < NKEYS ? strlen(keys[i]) : 1;
	}
	out[len] = '\0';
	return 0;
}

static size_t expand_all(const char *const *text, const char *db, const char *cluster, unsigned feat,
			 char out[][ST_STMT_MAX], size_t max)
{
	size_t n = 0;
	for (; *text && n < max; text++) {
		if (**text == '@' && !cluster)
			continue;
		if (expand(out[n], ST_STMT_MAX, *text + (**text == '@'), db, cluster, feat) != 0)
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

/* Schema version 1, the base: later versions only ALTER or add to it, so a database made by
 * any earlier Rampart upgrades in place. */
static size_t v1_statements(const char *db, const char *cluster, unsigned feat, char out[][ST_STMT_MAX],
			   size_t max)
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
			      sizeof flow_columns / sizeof flow_columns[0], flows_engine, feat, 1) != 0)
			return n;
		n++;
	}
	if (n < max) {
		if (table_sql(out[n], ST_STMT_MAX, db, st_table_name[ST_EVENTS], sfx, event_columns,
			      sizeof event_columns / sizeof event_columns[0], events_engine, feat, 1) != 0)
			return n;
		n++;
	}
	return n + expand_all(v1_cluster, db, cluster, feat, out + n, max - n);
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
	"CREATE TABLE IF NOT EXISTS {db}.batches{L} (batch_id UInt64, tbl {LCS}, rows UInt64, time DateTime{CT}) "
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
	"CREATE TABLE IF NOT EXISTS {db}.host_traffic{L} (minute DateTime{CT}, dst {ADDR}, "
	"flows UInt64{CC}, packets UInt64{CC}, bytes UInt64{CC}) "
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

static const char *const v5_parent[] = {
	/* 18.16 has no ADD COLUMN IF NOT EXISTS (a syntax error there): a second run answers
	 * "already exists", which migrate counts as done */
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN parent_attack_id UInt64 AFTER pcap_packets",
	"@ALTER TABLE {db}.attack_events ADD COLUMN parent_attack_id UInt64 AFTER pcap_packets",
	NULL,
};

/* operator_events: its Distributed table shards at random (rows are few and read whole), and
 * its rows go into the batches ledger as the other tables' do */
static const char *const v6_operator_cluster[] = {
	"@CREATE TABLE IF NOT EXISTS {db}.operator_events AS {db}.operator_events_local "
	"ENGINE = Distributed({cluster}, {db}, operator_events_local, rand())",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.operator_events_batches TO {db}.batches{L} AS "
	"SELECT batch_id, 'operator_events' AS tbl, count() AS rows, now() AS time FROM {db}.operator_events{L} "
	"GROUP BY batch_id",
	NULL,
};

static const char *const v7_distinct[] = {
	/* the fingerprint's distinct counts, after parent_attack_id so batch_id stays last */
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN distinct_peers UInt64 AFTER parent_attack_id",
	"@ALTER TABLE {db}.attack_events ADD COLUMN distinct_peers UInt64 AFTER parent_attack_id",
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN distinct_peer_prefixes UInt64 AFTER distinct_peers",
	"@ALTER TABLE {db}.attack_events ADD COLUMN distinct_peer_prefixes UInt64 AFTER distinct_peers",
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN distinct_src_ports UInt64 AFTER distinct_peer_prefixes",
	"@ALTER TABLE {db}.attack_events ADD COLUMN distinct_src_ports UInt64 AFTER distinct_peer_prefixes",
	"ALTER TABLE {db}.attack_events{L} ADD COLUMN distinct_dst_ports UInt64 AFTER distinct_src_ports",
	"@ALTER TABLE {db}.attack_events ADD COLUMN distinct_dst_ports UInt64 AFTER distinct_src_ports",
	NULL,
};

static size_t v6_statements(const char *db, const char *cluster, unsigned feat, char out[][ST_STMT_MAX],
			   size_t max)
{
	if (!max || table_sql(out[0], ST_STMT_MAX, db, st_table_name[ST_OPS], cluster ? "_local" : "",
			      ops_columns, sizeof ops_columns / sizeof ops_columns[0], ops_engine, feat, 6) != 0)
		return 0;
	return 1 + expand_all(v6_operator_cluster, db, cluster, feat, out + 1, max - 1);
}

static const char *const migration_what[] = {
	NULL,
	"flows and attack_events",
	"batch_id columns and the batches ledger (idempotent replays)",
	"host_traffic per-minute rollup",
	"attack_events pcap_file and pcap_packets (detection.attack_pcap)",
	"attack_events parent_attack_id (attacks inside a mitigated prefix)",
	"operator_events (the audit trail of state-changing commands)",
	"attack_events distinct_peers, distinct_peer_prefixes, distinct_src_ports, distinct_dst_ports (fingerprint)",
};

size_t st_schema_columns(enum st_table t, const struct st_column **cols)
{
	if (t == ST_FLOWS) {
		*cols = flow_columns;
		return sizeof flow_columns / sizeof flow_columns[0];
	}
	if (t == ST_OPS) {
		*cols = ops_columns;
		return sizeof ops_columns / sizeof ops_columns[0];
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

size_t st_schema_migration_shape(unsigned version, const char *db, const char *cluster, unsigned feat,
				 char out[][ST_STMT_MAX], size_t max)
{
	if (cluster && !*cluster)
		cluster = NULL;
	switch (version) {
	case 1: return v1_statements(db, cluster, feat, out, max);
	case 2: return expand_all(v2_batches, db, cluster, feat, out, max);
	case 3: return expand_all(v3_rollup, db, cluster, feat, out, max);
	case 4: return expand_all(v4_pcap, db, cluster, feat, out, max);
	case 5: return expand_all(v5_parent, db, cluster, feat, out, max);
	case 6: return v6_statements(db, cluster, feat, out, max);
	case 7: return expand_all(v7_distinct, db, cluster, feat, out, max);
	default: return 0;
	}
}

size_t st_schema_migration(unsigned version, const char *db, const char *cluster, char out[][ST_STMT_MAX],
			   size_t max)
{
	return st_schema_migration_shape(version, db, cluster, 0, out, max);
}

const struct st_retained_table st_retained[ST_N_RETAINED] = {
	{"flows", "date"},
	{"attack_events", "date"},
	{"host_traffic", "toDate(minute)"},
	{"batches", "toDate(time)"},
	{"operator_events", "date"},
};

/* The first version of each feature Rampart uses, from ClickHouse's changelogs; chosen late
 * rather than early (docs/STORAGE.md "Newer servers" has the sources):
 * - LowCardinality: production ready in 19.3 (the experimental setting removed); CODEC: per
 *   column codecs and Delta in 19.1, DoubleDelta in 19.11. Both from 20.3, the first LTS with
 *   all of them.
 * - IPv6: a domain over FixedString(16) since 19.1, with casting quirks (#11999); a type of its
 *   own since 23.1 (#43221), which is what the read-back queries are written for. From 23.3, the
 *   first LTS after that.
 * - TTL: 19.6 (st_ch_version_has_ttl). */
static const struct {
	unsigned feature, major, minor;
} first_version[] = {
	{ST_F_LOWCARD, 20, 3},
	{ST_F_CODEC, 20, 3},
	{ST_F_IPV6, 23, 3},
	{ST_F_TTL, 19, 6},
};

unsigned st_schema_features(const char *version)
{
	unsigned major = 0, minor = 0, feat = 0;
	if (!version || sscanf(version, "%u.%u", &major, &minor) != 2)
		return 0;
	for (size_t i = 0; i < sizeof first_version / sizeof first_version[0]; i++)
		if (major > first_version[i].major || (major == first_version[i].major && minor >= first_version[i].minor))
			feat |= first_version[i].feature;
	return feat;
}

/* TTL is set on every start (a changed retention applies); the table shapes come from the
 * migrations (st_schema_migration_shape). */
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
			 "--   clickhouse-client --query \"INSERT INTO %s.attack_events FORMAT RowBinary\" < attack_events-YYYYMMDDHH.rowbinary\n"
			 "--   (and operator_events-YYYYMMDDHH.rowbinary into %s.operator_events the same way)\n",
			 db, db, db);
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
