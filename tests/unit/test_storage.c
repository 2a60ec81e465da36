/* storage/: RowBinary rows byte for byte against the schema's column order, the schema itself,
 * file output through the real writer thread, and drops when a ring is full. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/ip.h"
#include "storage/st.h"
#include "storage/st_int.h" /* schema versions, the spool */

static ip_addr addr(const char *s)
{
	ip_addr a;
	assert_true(ip_parse(s, &a));
	return a;
}

static struct flow_record sample_flow(void)
{
	return (struct flow_record){
		.start_ns = 1700000000123456789ull,
		.end_ns = 1700000001000000001ull,
		.src = addr("192.0.2.1"),
		.dst = addr("2001:db8::1"),
		.exporter = addr("10.0.0.1"),
		.packets = 3,
		.bytes = 0x0102030405ull,
		.sampling_rate = 1000,
		.in_if = 7,
		.out_if = 0x01020304,
		.src_port = 12345,
		.dst_port = 80,
		.vlan = 100,
		.protocol = 6,
		.tcp_flags = 0x12,
		.tos = 0xb8,
		.flags = 0x04,
		.source = 1,
		.ip_version = 6,
	};
}

/* Written out by hand from the column list in docs/STORAGE.md, not from the encoder. */
static const uint8_t flow_bytes[] = {
	0xdb, 0x4c,                         /* date 19675 = 2023-11-14 */
	0x00, 0xf1, 0x53, 0x65,             /* start_time 1700000000 */
	0x15, 0xcd, 0x5b, 0x07,             /* start_nsec 123456789 */
	0x01, 0xf1, 0x53, 0x65,             /* end_time 1700000001 */
	0x01, 0x00, 0x00, 0x00,             /* end_nsec 1 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,  /* src ::ffff:192.0.2.1 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* dst 2001:db8::1 */
	0x39, 0x30,                         /* src_port 12345 */
	0x50, 0x00,                         /* dst_port 80 */
	6, 0x12, 0xb8, 0x04,                /* protocol, tcp_flags, tos, flags */
	3, 0, 0, 0, 0, 0, 0, 0,             /* packets */
	0x05, 0x04, 0x03, 0x02, 0x01, 0, 0, 0, /* bytes */
	0xe8, 0x03, 0, 0,                   /* sampling_rate 1000 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1,   /* exporter */
	7, 0, 0, 0,                         /* in_if */
	0x04, 0x03, 0x02, 0x01,             /* out_if */
	0x64, 0x00,                         /* vlan 100 */
	1, 6,                               /* source sflow, ip_version */
};

static void test_rowbinary_flow_bytes(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	struct flow_record r = sample_flow();
	st_rowbinary_flow(&w, &r);
	assert_false(w.err);
	assert_int_equal(w.len, sizeof flow_bytes);
	assert_memory_equal(buf, flow_bytes, sizeof flow_bytes);

	/* a buffer one byte short fails cleanly instead of writing past its end */
	struct wbuf small = wbuf_init(buf, sizeof flow_bytes - 1);
	st_rowbinary_flow(&small, &r);
	assert_true(small.err);
}

static struct st_attack_event sample_event(void)
{
	struct st_attack_event ev = {
		.time_ns = 1700000000500000000ull,
		.attack_id = 42,
		.direction = 1,
		.manual = true,
		.trigger_value = 1.5,
		.trigger_limit = 1000.0,
		.pps = 0.0,
		.bps = 2.0,
		.flows = 0.25,
		.ban_seconds = 600,
	};
	assert_true(ip_prefix_parse("192.0.2.0/24", &ev.target));
	strcpy(ev.event, "ban");
	strcpy(ev.hostgroup, "gold");
	strcpy(ev.trigger, "udp_pps");
	strcpy(ev.action, "blackhole");
	/* a full array without its NUL: the row still stops at the array's end */
	memset(ev.reason, 'x', sizeof ev.reason);
	strcpy(ev.pcap_file, "/var/lib/rampart/attacks/42-192.0.2.7.pcap");
	ev.pcap_packets = 1000;
	ev.parent_attack_id = 41;
	ev.distinct_peers = 9000;
	ev.distinct_peer_prefixes = 35;
	ev.distinct_src_ports = 1;
	ev.distinct_dst_ports = 300;
	return ev;
}

static void test_rowbinary_event_bytes(void **state)
{
	(void)state;
	uint8_t expect[512];
	size_t n = 0;
#define PUT(...)                                                                             \
	do {                                                                                 \
		const uint8_t b_[] = {__VA_ARGS__};                                          \
		memcpy(expect + n, b_, sizeof b_);                                           \
		n += sizeof b_;                                                              \
	} while (0)
	PUT(0xdb, 0x4c);                           /* date */
	PUT(0x00, 0xf1, 0x53, 0x65);               /* time */
	PUT(0x00, 0x65, 0xcd, 0x1d);               /* time_nsec 500000000 */
	PUT(42, 0, 0, 0, 0, 0, 0, 0);              /* attack_id */
	PUT(3, 'b', 'a', 'n');                     /* event */
	PUT(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 0); /* target */
	PUT(24, 1, 1);                             /* target_len, direction, manual */
	PUT(4, 'g', 'o', 'l', 'd');                /* hostgroup */
	PUT(7, 'u', 'd', 'p', '_', 'p', 'p', 's'); /* trigger */
	PUT(0, 0, 0, 0, 0, 0, 0xf8, 0x3f);         /* trigger_value 1.5 */
	PUT(0, 0, 0, 0, 0, 0x40, 0x8f, 0x40);      /* trigger_limit 1000 */
	PUT(0, 0, 0, 0, 0, 0, 0, 0);               /* pps 0 */
	PUT(0, 0, 0, 0, 0, 0, 0, 0x40);            /* bps 2 */
	PUT(0, 0, 0, 0, 0, 0, 0xd0, 0x3f);         /* flows 0.25 */
	PUT(0x58, 0x02, 0, 0);                     /* ban_seconds 600 */
	PUT(9, 'b', 'l', 'a', 'c', 'k', 'h', 'o', 'l', 'e'); /* action */
	PUT(96);                                   /* reason: 96 bytes */
	memset(expect + n, 'x', 96);
	n += 96;
	PUT(42);                                   /* pcap_file (schema 4) */
	memcpy(expect + n, "/var/lib/rampart/attacks/42-192.0.2.7.pcap", 42);
	n += 42;
	PUT(0xe8, 0x03, 0, 0, 0, 0, 0, 0);         /* pcap_packets 1000 */
	PUT(41, 0, 0, 0, 0, 0, 0, 0);              /* parent_attack_id (schema 5) */
	PUT(0x28, 0x23, 0, 0, 0, 0, 0, 0);         /* distinct_peers 9000 (schema 7) */
	PUT(35, 0, 0, 0, 0, 0, 0, 0);              /* distinct_peer_prefixes */
	PUT(1, 0, 0, 0, 0, 0, 0, 0);               /* distinct_src_ports */
	PUT(0x2c, 0x01, 0, 0, 0, 0, 0, 0);         /* distinct_dst_ports 300 */
#undef PUT

	uint8_t buf[512];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	struct st_attack_event ev = sample_event();
	st_rowbinary_event(&w, &ev);
	assert_false(w.err);
	assert_int_equal(w.len, n);
	assert_memory_equal(buf, expect, n);
}

/* operator_events: the audit row, byte for byte; a negative uid as Int32, and strings cut to their
 * arrays. Then its Native block: the columns named by the schema, the row transposed. */
static void test_rowbinary_operator_event_bytes(void **state)
{
	(void)state;
	uint8_t expect[600];
	size_t n = 0;
#define PUT(...)                                                                             \
	do {                                                                                 \
		const uint8_t b_[] = {__VA_ARGS__};                                          \
		memcpy(expect + n, b_, sizeof b_);                                           \
		n += sizeof b_;                                                              \
	} while (0)
	PUT(0xdb, 0x4c);                           /* date */
	PUT(0x00, 0xf1, 0x53, 0x65);               /* time 1700000000 */
	PUT(0x00, 0x65, 0xcd, 0x1d);               /* time_nsec 500000000 */
	PUT(4, 'h', 't', 't', 'p');                /* source */
	PUT(15, '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '4', '0', '0', '0', '0'); /* client */
	PUT(0xff, 0xff, 0xff, 0xff);               /* uid -1 */
	PUT(0x39, 0x30, 0, 0);                     /* pid 12345 */
	PUT(1);                                    /* token */
	PUT(0x80, 0x02);                           /* command: 256 bytes (a varint of two bytes) */
	memset(expect + n, 'c', 256);
	n += 256;
	PUT(7, 'b', 'a', 'n', 'n', 'e', 'd', '.'); /* result */
	PUT(0);                                    /* ok */
#undef PUT
	struct st_operator_event ev = {.time_ns = 1700000000500000000ull, .source = "http",
				       .client = "127.0.0.1:40000", .uid = -1, .pid = 12345, .token = true,
				       .result = "banned.", .ok = false};
	memset(ev.command, 'c', sizeof ev.command); /* no NUL: cut at the array */
	uint8_t buf[600];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	st_rowbinary_operator_event(&w, &ev);
	assert_false(w.err);
	assert_int_equal(w.len, n);
	assert_memory_equal(buf, expect, n);
	assert_true(w.len <= ST_OPS_ROW_MAX);

	/* the longest row fits the batch's row budget */
	struct st_operator_event big;
	memset(&big, 'z', sizeof big);
	big.token = true; /* a bool holds only 0 or 1; 'z' there is undefined behaviour */
	big.ok = true;
	uint8_t bigbuf[600];
	struct wbuf wb = wbuf_init(bigbuf, sizeof bigbuf);
	st_rowbinary_operator_event(&wb, &big);
	assert_false(wb.err);
	assert_int_equal(wb.len, ST_OPS_ROW_MAX);

	/* with batch_id, as the writer appends it: a whole row of the latest schema */
	wbuf_le64(&w, 9);
	assert_int_equal(st_rows_version(ST_OPS, buf, w.len, 1), st_schema_latest());
	assert_int_equal(st_rows_version(ST_OPS, buf, w.len - 1, 1), 0);
	uint8_t out[1024];
	uint32_t pos[1];
	struct wbuf nb = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&nb, ST_OPS, buf, w.len, 1, pos), 0);
	assert_int_equal(out[0], 12); /* columns */
	assert_int_equal(out[1], 1);  /* rows */
	assert_memory_equal(out + 2, "\x04" "date" "\x04" "Date" "\xdb\x4c", 12);
	/* uid: its name, its type, its four bytes */
	const uint8_t uid[] = {3, 'u', 'i', 'd', 5, 'I', 'n', 't', '3', '2', 0xff, 0xff, 0xff, 0xff};
	assert_non_null(memmem(out, nb.len, uid, sizeof uid));
	const uint8_t ok[] = {2, 'o', 'k', 5, 'U', 'I', 'n', 't', '8', 0};
	assert_non_null(memmem(out, nb.len, ok, sizeof ok));
	assert_int_equal(nb.len, 2 + 10 + w.len + /* date's name and type, then the other 11's */
				 (5 + 9) + (10 + 7) + (7 + 7) + (7 + 7) + (4 + 6) + (4 + 6) + (6 + 6) + (8 + 7) +
				 (7 + 7) + (3 + 6) + (9 + 7));
}

/* RowBinary width of a fixed-width ClickHouse type; 0 for String (variable). */
static size_t type_width(const char *t)
{
	static const struct {
		const char *name;
		size_t width;
	} w[] = {{"Date", 2}, {"DateTime", 4}, {"UInt8", 1}, {"UInt16", 2}, {"UInt32", 4},
		 {"UInt64", 8}, {"Float64", 8}, {"FixedString(16)", 16}, {"String", 0}};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (strcmp(t, w[i].name) == 0)
			return w[i].width;
	fail_msg("type %s is not expected in the schema", t);
	return 0;
}

/* Sums the widths of the columns of a CREATE TABLE statement; counts String columns. */
static size_t schema_width(const char *stmt, size_t *strings, size_t *columns)
{
	const char *p = strchr(stmt, '(');
	const char *end = strstr(stmt, ") ENGINE");
	assert_non_null(p);
	assert_non_null(end);
	size_t width = 0;
	*strings = *columns = 0;
	p++;
	while (p < end) {
		const char *comma = strstr(p, ", ");
		if (!comma || comma > end)
			comma = end;
		char col[64], name[32], type[32];
		assert_true((size_t)(comma - p) < sizeof col);
		memcpy(col, p, (size_t)(comma - p));
		col[comma - p] = '\0';
		assert_int_equal(sscanf(col, "%31s %31s", name, type), 2);
		size_t tw = type_width(type);
		width += tw;
		*strings += tw == 0;
		(*columns)++;
		p = comma + 2;
	}
	return width;
}

static void test_schema(void **state)
{
	(void)state;
	char stmts[4][1024];
	char all[ST_SCHEMA_MAX][1024];
	size_t nall = st_schema_statements("rampart", all, ST_SCHEMA_MAX);
	assert_int_equal(nall, 19); /* v1: 3, v2: 5, v3: 2, v4: 2, v5: 1, v6: 2, v7: 4 */
	assert_int_equal(st_schema_latest(), 7);
	/* v7: the fingerprint's distinct counts in a row after parent_attack_id, before batch_id */
	assert_string_equal(all[15], "ALTER TABLE rampart.attack_events ADD COLUMN distinct_peers UInt64 AFTER parent_attack_id");
	assert_string_equal(all[16], "ALTER TABLE rampart.attack_events ADD COLUMN distinct_peer_prefixes UInt64 AFTER "
				     "distinct_peers");
	assert_string_equal(all[17], "ALTER TABLE rampart.attack_events ADD COLUMN distinct_src_ports UInt64 AFTER "
				     "distinct_peer_prefixes");
	assert_string_equal(all[18], "ALTER TABLE rampart.attack_events ADD COLUMN distinct_dst_ports UInt64 AFTER "
				     "distinct_src_ports");
	/* v6: operator_events, whole in one CREATE (batch_id included), and its ledger view */
	assert_string_equal(all[13], "CREATE TABLE IF NOT EXISTS rampart.operator_events (date Date, time DateTime, "
				     "time_nsec UInt32, source String, client String, uid Int32, pid Int32, token UInt8, "
				     "command String, result String, ok UInt8, batch_id UInt64) ENGINE = MergeTree() "
				     "PARTITION BY toYYYYMM(date) ORDER BY time");
	assert_non_null(strstr(all[14], "rampart.operator_events_batches TO rampart.batches AS SELECT batch_id, "
				       "'operator_events' AS tbl"));
	/* v4 puts the attack's pcap file before batch_id, which the writer keeps appending last */
	assert_string_equal(all[10], "ALTER TABLE rampart.attack_events ADD COLUMN pcap_file String AFTER reason");
	assert_string_equal(all[11], "ALTER TABLE rampart.attack_events ADD COLUMN pcap_packets UInt64 AFTER pcap_file");
	/* v5: the covering attack's id, still before batch_id; a plain ADD COLUMN (18.16 has no IF
	 * NOT EXISTS), its "already exists" on a second run counted as done */
	assert_string_equal(all[12], "ALTER TABLE rampart.attack_events ADD COLUMN parent_attack_id UInt64 AFTER pcap_packets");
	/* v2 adds the batch identity as the last column of both tables, which the writer appends */
	assert_string_equal(all[3], "ALTER TABLE rampart.flows ADD COLUMN batch_id UInt64");
	assert_string_equal(all[4], "ALTER TABLE rampart.attack_events ADD COLUMN batch_id UInt64");
	assert_non_null(strstr(all[6], "MATERIALIZED VIEW IF NOT EXISTS rampart.flows_batches TO rampart.batches"));
	assert_non_null(strstr(all[8], "SummingMergeTree() PARTITION BY toDate(minute) ORDER BY (dst, minute)"));
	for (size_t i = 0; i < nall; i++) /* nothing 18.16 lacks, anywhere */
		assert_null(strstr(all[i], "LowCardinality"));
	assert_int_equal(st_schema_migration(8, "rampart", NULL, all, ST_SCHEMA_MAX), 0);
	assert_int_equal(st_schema_statements("rampart", stmts, 4), 4);
	assert_string_equal(stmts[3], all[3]);
	assert_string_equal(stmts[0], "CREATE DATABASE IF NOT EXISTS rampart");
	assert_non_null(strstr(stmts[1], "CREATE TABLE IF NOT EXISTS rampart.flows ("));
	assert_non_null(strstr(stmts[2], "CREATE TABLE IF NOT EXISTS rampart.attack_events ("));
	for (int i = 1; i < 3; i++) {
		/* none of what 18.16 lacks */
		const char *bad[] = {"DateTime64", "LowCardinality", "CODEC", "TTL", "IPv4", "IPv6"};
		for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
			assert_null(strstr(stmts[i], bad[k]));
		assert_non_null(strstr(stmts[i], "ENGINE = MergeTree() PARTITION BY"));
	}
	assert_non_null(strstr(stmts[1], "ORDER BY (dst, start_time)"));

	/* the encoder writes exactly the columns the schema declares */
	size_t strings, columns;
	uint8_t buf[512];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	struct flow_record r = sample_flow();
	st_rowbinary_flow(&w, &r);
	assert_int_equal(schema_width(stmts[1], &strings, &columns), w.len);
	assert_int_equal(strings, 0);
	assert_int_equal(columns, 22);

	struct st_attack_event ev = sample_event();
	w = wbuf_init(buf, sizeof buf);
	st_rowbinary_event(&w, &ev);
	size_t fixed = schema_width(stmts[2], &strings, &columns);
	assert_int_equal(strings, 5);
	assert_null(strstr(stmts[2], "pcap")); /* v1's table; v4 ALTERs them in */
	/* v1's columns, then v4's pcap_file String + pcap_packets UInt64, v5's parent_attack_id
	 * UInt64, v7's four UInt64 distinct counts (batch_id is the writer's) */
	size_t string_bytes = (1 + 3) + (1 + 4) + (1 + 7) + (1 + 9) + (1 + 96) + (1 + 42);
	assert_int_equal(fixed + string_bytes + 8 + 8 + 4 * 8, w.len);

	/* too little room: fewer statements, never a partial one */
	assert_int_equal(st_schema_statements("rampart", stmts, 1), 1);
}

/* ---- Native ---------------------------------------------------------------------------------
 * The expected blocks are ClickHouse 18.16's own output for the same values: the columns as
 * literals with their exact types, `SELECT ... FROM system.numbers LIMIT 2 FORMAT Native` over
 * HTTP (the row's second copy differs in packets / event and batch_id), dumped with xxd -i. So
 * these bytes are what the server writes and therefore reads; storage_clickhouse.sh then inserts
 * the encoder's blocks into the real server and reads them back. native_events2 since schema 4
 * (pcap_file, pcap_packets): `SELECT * FROM attack_events ORDER BY batch_id FORMAT Native` of a
 * table made by the migrations 1-4 on 18.16, holding the rows of two_events(); schema 5's
 * parent_attack_id and schema 7's four distinct counts (UInt64 columns) sit before batch_id in the
 * same shape (name, type, two values). */
static const uint8_t native_flows2[] = {
  0x17, 0x02, 0x04, 0x64, 0x61, 0x74, 0x65, 0x04, 0x44, 0x61, 0x74, 0x65,
  0xdb, 0x4c, 0xdb, 0x4c, 0x0a, 0x73, 0x74, 0x61, 0x72, 0x74, 0x5f, 0x74,
  0x69, 0x6d, 0x65, 0x08, 0x44, 0x61, 0x74, 0x65, 0x54, 0x69, 0x6d, 0x65,
  0x00, 0xf1, 0x53, 0x65, 0x00, 0xf1, 0x53, 0x65, 0x0a, 0x73, 0x74, 0x61,
  0x72, 0x74, 0x5f, 0x6e, 0x73, 0x65, 0x63, 0x06, 0x55, 0x49, 0x6e, 0x74,
  0x33, 0x32, 0x15, 0xcd, 0x5b, 0x07, 0x15, 0xcd, 0x5b, 0x07, 0x08, 0x65,
  0x6e, 0x64, 0x5f, 0x74, 0x69, 0x6d, 0x65, 0x08, 0x44, 0x61, 0x74, 0x65,
  0x54, 0x69, 0x6d, 0x65, 0x01, 0xf1, 0x53, 0x65, 0x01, 0xf1, 0x53, 0x65,
  0x08, 0x65, 0x6e, 0x64, 0x5f, 0x6e, 0x73, 0x65, 0x63, 0x06, 0x55, 0x49,
  0x6e, 0x74, 0x33, 0x32, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
  0x03, 0x73, 0x72, 0x63, 0x0f, 0x46, 0x69, 0x78, 0x65, 0x64, 0x53, 0x74,
  0x72, 0x69, 0x6e, 0x67, 0x28, 0x31, 0x36, 0x29, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x01,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
  0xc0, 0x00, 0x02, 0x01, 0x03, 0x64, 0x73, 0x74, 0x0f, 0x46, 0x69, 0x78,
  0x65, 0x64, 0x53, 0x74, 0x72, 0x69, 0x6e, 0x67, 0x28, 0x31, 0x36, 0x29,
  0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x73, 0x72, 0x63,
  0x5f, 0x70, 0x6f, 0x72, 0x74, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x31, 0x36,
  0x39, 0x30, 0x39, 0x30, 0x08, 0x64, 0x73, 0x74, 0x5f, 0x70, 0x6f, 0x72,
  0x74, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x31, 0x36, 0x50, 0x00, 0x50, 0x00,
  0x08, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x63, 0x6f, 0x6c, 0x05, 0x55, 0x49,
  0x6e, 0x74, 0x38, 0x06, 0x06, 0x09, 0x74, 0x63, 0x70, 0x5f, 0x66, 0x6c,
  0x61, 0x67, 0x73, 0x05, 0x55, 0x49, 0x6e, 0x74, 0x38, 0x12, 0x12, 0x03,
  0x74, 0x6f, 0x73, 0x05, 0x55, 0x49, 0x6e, 0x74, 0x38, 0xb8, 0xb8, 0x05,
  0x66, 0x6c, 0x61, 0x67, 0x73, 0x05, 0x55, 0x49, 0x6e, 0x74, 0x38, 0x04,
  0x04, 0x07, 0x70, 0x61, 0x63, 0x6b, 0x65, 0x74, 0x73, 0x06, 0x55, 0x49,
  0x6e, 0x74, 0x36, 0x34, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x62, 0x79, 0x74,
  0x65, 0x73, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0x05, 0x04, 0x03,
  0x02, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00,
  0x00, 0x0d, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x69, 0x6e, 0x67, 0x5f, 0x72,
  0x61, 0x74, 0x65, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x33, 0x32, 0xe8, 0x03,
  0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x08, 0x65, 0x78, 0x70, 0x6f, 0x72,
  0x74, 0x65, 0x72, 0x0f, 0x46, 0x69, 0x78, 0x65, 0x64, 0x53, 0x74, 0x72,
  0x69, 0x6e, 0x67, 0x28, 0x31, 0x36, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x0a, 0x00, 0x00, 0x01, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x0a,
  0x00, 0x00, 0x01, 0x05, 0x69, 0x6e, 0x5f, 0x69, 0x66, 0x06, 0x55, 0x49,
  0x6e, 0x74, 0x33, 0x32, 0x07, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
  0x06, 0x6f, 0x75, 0x74, 0x5f, 0x69, 0x66, 0x06, 0x55, 0x49, 0x6e, 0x74,
  0x33, 0x32, 0x04, 0x03, 0x02, 0x01, 0x04, 0x03, 0x02, 0x01, 0x04, 0x76,
  0x6c, 0x61, 0x6e, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x31, 0x36, 0x64, 0x00,
  0x64, 0x00, 0x06, 0x73, 0x6f, 0x75, 0x72, 0x63, 0x65, 0x05, 0x55, 0x49,
  0x6e, 0x74, 0x38, 0x01, 0x01, 0x0a, 0x69, 0x70, 0x5f, 0x76, 0x65, 0x72,
  0x73, 0x69, 0x6f, 0x6e, 0x05, 0x55, 0x49, 0x6e, 0x74, 0x38, 0x06, 0x06,
  0x08, 0x62, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x69, 0x64, 0x06, 0x55, 0x49,
  0x6e, 0x74, 0x36, 0x34, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
  0x89, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11
};
static const uint8_t native_events2[] = {
  0x1b, 0x02, 0x04, 0x64, 0x61, 0x74, 0x65, 0x04, 0x44, 0x61, 0x74, 0x65,
  0xdb, 0x4c, 0xdb, 0x4c, 0x04, 0x74, 0x69, 0x6d, 0x65, 0x08, 0x44, 0x61,
  0x74, 0x65, 0x54, 0x69, 0x6d, 0x65, 0x00, 0xf1, 0x53, 0x65, 0x00, 0xf1,
  0x53, 0x65, 0x09, 0x74, 0x69, 0x6d, 0x65, 0x5f, 0x6e, 0x73, 0x65, 0x63,
  0x06, 0x55, 0x49, 0x6e, 0x74, 0x33, 0x32, 0x00, 0x65, 0xcd, 0x1d, 0x00,
  0x65, 0xcd, 0x1d, 0x09, 0x61, 0x74, 0x74, 0x61, 0x63, 0x6b, 0x5f, 0x69,
  0x64, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0x2a, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x05, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x06, 0x53, 0x74, 0x72, 0x69, 0x6e,
  0x67, 0x03, 0x62, 0x61, 0x6e, 0x05, 0x75, 0x6e, 0x62, 0x61, 0x6e, 0x06,
  0x74, 0x61, 0x72, 0x67, 0x65, 0x74, 0x0f, 0x46, 0x69, 0x78, 0x65, 0x64,
  0x53, 0x74, 0x72, 0x69, 0x6e, 0x67, 0x28, 0x31, 0x36, 0x29, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xc0, 0x00,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0xff, 0xff, 0xc0, 0x00, 0x02, 0x00, 0x0a, 0x74, 0x61, 0x72, 0x67, 0x65,
  0x74, 0x5f, 0x6c, 0x65, 0x6e, 0x05, 0x55, 0x49, 0x6e, 0x74, 0x38, 0x18,
  0x18, 0x09, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x05,
  0x55, 0x49, 0x6e, 0x74, 0x38, 0x01, 0x01, 0x06, 0x6d, 0x61, 0x6e, 0x75,
  0x61, 0x6c, 0x05, 0x55, 0x49, 0x6e, 0x74, 0x38, 0x01, 0x01, 0x09, 0x68,
  0x6f, 0x73, 0x74, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x06, 0x53, 0x74, 0x72,
  0x69, 0x6e, 0x67, 0x04, 0x67, 0x6f, 0x6c, 0x64, 0x04, 0x67, 0x6f, 0x6c,
  0x64, 0x07, 0x74, 0x72, 0x69, 0x67, 0x67, 0x65, 0x72, 0x06, 0x53, 0x74,
  0x72, 0x69, 0x6e, 0x67, 0x07, 0x75, 0x64, 0x70, 0x5f, 0x70, 0x70, 0x73,
  0x07, 0x75, 0x64, 0x70, 0x5f, 0x70, 0x70, 0x73, 0x0d, 0x74, 0x72, 0x69,
  0x67, 0x67, 0x65, 0x72, 0x5f, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x07, 0x46,
  0x6c, 0x6f, 0x61, 0x74, 0x36, 0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0xf8, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, 0x0d, 0x74,
  0x72, 0x69, 0x67, 0x67, 0x65, 0x72, 0x5f, 0x6c, 0x69, 0x6d, 0x69, 0x74,
  0x07, 0x46, 0x6c, 0x6f, 0x61, 0x74, 0x36, 0x34, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x40, 0x8f, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x8f, 0x40,
  0x03, 0x70, 0x70, 0x73, 0x07, 0x46, 0x6c, 0x6f, 0x61, 0x74, 0x36, 0x34,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x03, 0x62, 0x70, 0x73, 0x07, 0x46, 0x6c, 0x6f,
  0x61, 0x74, 0x36, 0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x66, 0x6c, 0x6f,
  0x77, 0x73, 0x07, 0x46, 0x6c, 0x6f, 0x61, 0x74, 0x36, 0x34, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0xd0, 0x3f, 0x0b, 0x62, 0x61, 0x6e, 0x5f, 0x73, 0x65, 0x63, 0x6f, 0x6e,
  0x64, 0x73, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x33, 0x32, 0x58, 0x02, 0x00,
  0x00, 0x58, 0x02, 0x00, 0x00, 0x06, 0x61, 0x63, 0x74, 0x69, 0x6f, 0x6e,
  0x06, 0x53, 0x74, 0x72, 0x69, 0x6e, 0x67, 0x09, 0x62, 0x6c, 0x61, 0x63,
  0x6b, 0x68, 0x6f, 0x6c, 0x65, 0x09, 0x62, 0x6c, 0x61, 0x63, 0x6b, 0x68,
  0x6f, 0x6c, 0x65, 0x06, 0x72, 0x65, 0x61, 0x73, 0x6f, 0x6e, 0x06, 0x53,
  0x74, 0x72, 0x69, 0x6e, 0x67, 0x60, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x60, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
  0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x09, 0x70, 0x63, 0x61, 0x70,
  0x5f, 0x66, 0x69, 0x6c, 0x65, 0x06, 0x53, 0x74, 0x72, 0x69, 0x6e, 0x67,
  0x2a, 0x2f, 0x76, 0x61, 0x72, 0x2f, 0x6c, 0x69, 0x62, 0x2f, 0x72, 0x61,
  0x6d, 0x70, 0x61, 0x72, 0x74, 0x2f, 0x61, 0x74, 0x74, 0x61, 0x63, 0x6b,
  0x73, 0x2f, 0x34, 0x32, 0x2d, 0x31, 0x39, 0x32, 0x2e, 0x30, 0x2e, 0x32,
  0x2e, 0x37, 0x2e, 0x70, 0x63, 0x61, 0x70, 0x2a, 0x2f, 0x76, 0x61, 0x72,
  0x2f, 0x6c, 0x69, 0x62, 0x2f, 0x72, 0x61, 0x6d, 0x70, 0x61, 0x72, 0x74,
  0x2f, 0x61, 0x74, 0x74, 0x61, 0x63, 0x6b, 0x73, 0x2f, 0x34, 0x32, 0x2d,
  0x31, 0x39, 0x32, 0x2e, 0x30, 0x2e, 0x32, 0x2e, 0x37, 0x2e, 0x70, 0x63,
  0x61, 0x70, 0x0c, 0x70, 0x63, 0x61, 0x70, 0x5f, 0x70, 0x61, 0x63, 0x6b,
  0x65, 0x74, 0x73, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0xe8, 0x03,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00,
  /* parent_attack_id UInt64 (schema 5): 41, 41 */
  0x10, 0x70, 0x61, 0x72, 0x65, 0x6e, 0x74, 0x5f, 0x61, 0x74, 0x74, 0x61,
  0x63, 0x6b, 0x5f, 0x69, 0x64, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34,
  0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00,
  /* distinct_peers, distinct_peer_prefixes, distinct_src_ports, distinct_dst_ports UInt64 (schema
   * 7): 9000, 35, 1, 300 in both rows */
  0x0e, 0x64, 0x69, 0x73, 0x74, 0x69, 0x6e, 0x63, 0x74, 0x5f, 0x70, 0x65,
  0x65, 0x72, 0x73, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0x28, 0x23,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x23, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x16, 0x64, 0x69, 0x73, 0x74, 0x69, 0x6e, 0x63, 0x74, 0x5f,
  0x70, 0x65, 0x65, 0x72, 0x5f, 0x70, 0x72, 0x65, 0x66, 0x69, 0x78, 0x65,
  0x73, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0x23, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x12, 0x64, 0x69, 0x73, 0x74, 0x69, 0x6e, 0x63, 0x74, 0x5f, 0x73, 0x72,
  0x63, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x73, 0x06, 0x55, 0x49, 0x6e, 0x74,
  0x36, 0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x64, 0x69, 0x73, 0x74, 0x69,
  0x6e, 0x63, 0x74, 0x5f, 0x64, 0x73, 0x74, 0x5f, 0x70, 0x6f, 0x72, 0x74,
  0x73, 0x06, 0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0x2c, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x2c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x08, 0x62, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x69, 0x64, 0x06,
  0x55, 0x49, 0x6e, 0x74, 0x36, 0x34, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
};

static size_t two_flows(uint8_t *buf, size_t cap)
{
	struct wbuf w = wbuf_init(buf, cap);
	for (int i = 0; i < 2; i++) {
		struct flow_record r = sample_flow();
		r.packets += (uint64_t)i;
		st_rowbinary_flow(&w, &r);
		wbuf_le64(&w, 0x1122334455667788ull + (uint64_t)i); /* the writer's batch_id */
	}
	assert_false(w.err);
	return w.len;
}

static size_t two_events(uint8_t *buf, size_t cap)
{
	struct wbuf w = wbuf_init(buf, cap);
	for (int i = 0; i < 2; i++) {
		struct st_attack_event ev = sample_event();
		if (i)
			strcpy(ev.event, "unban");
		st_rowbinary_event(&w, &ev);
		wbuf_le64(&w, 7 + (uint64_t)i);
	}
	assert_false(w.err);
	return w.len;
}

static void test_native_bytes(void **state)
{
	(void)state;
	uint8_t rows[1024], out[2048];
	uint32_t pos[2];
	size_t n = two_flows(rows, sizeof rows);
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_FLOWS, rows, n, 2, NULL), 0);
	assert_int_equal(w.len, sizeof native_flows2);
	assert_memory_equal(out, native_flows2, sizeof native_flows2);

	n = two_events(rows, sizeof rows);
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_EVENTS, rows, n, 2, pos), 0);
	assert_int_equal(w.len, sizeof native_events2);
	assert_memory_equal(out, native_events2, sizeof native_events2);
}

/* Rows that are not whole rows of the schema, or no room: refused, nothing read past the end. */
static void test_native_refuses(void **state)
{
	(void)state;
	uint8_t rows[1024], out[2048];
	uint32_t pos[4];
	size_t n = two_flows(rows, sizeof rows);
	struct wbuf w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_FLOWS, rows, n - 1, 2, NULL), -1); /* short */
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_FLOWS, rows, n, 3, NULL), -1);     /* count */
	w = wbuf_init(out, sizeof native_flows2 - 1);
	assert_int_equal(st_native_block(&w, ST_FLOWS, rows, n, 2, NULL), -1);     /* room */
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, 7, rows, n, 2, NULL), -1);            /* table */

	n = two_events(rows, sizeof rows);
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_EVENTS, rows, n, 2, NULL), -1);    /* no scratch */
	for (size_t cut = 1; cut < n; cut += 7) {
		w = wbuf_init(out, sizeof out);
		assert_int_equal(st_native_block(&w, ST_EVENTS, rows, n - cut, 2, pos), -1);
	}
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_EVENTS, rows, n, 1, pos), -1);     /* trailing row */
	rows[18 + 1 + 3 + 16 + 3] = 0xff; /* hostgroup's length: 127+ more bytes than there are */
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_EVENTS, rows, n, 2, pos), -1);
	w = wbuf_init(out, sizeof out);
	assert_int_equal(st_native_block(&w, ST_FLOWS, rows, 0, 0, NULL), 0);      /* empty: header only */
	assert_int_equal(out[1], 0);
}

/* Cluster mode: local tables carry the data and the views, Distributed tables carry the names
 * queries use, flows sharded by destination; every statement whole. */
/* A batch an older Rampart spooled keeps its row layout: replay recognises it and names its columns. */
static void test_old_layout(void **state)
{
	(void)state;
	uint8_t rows[1024];
	size_t n = two_events(rows, sizeof rows);
	assert_int_equal(st_rows_version(ST_EVENTS, rows, n, 2), 7);
	assert_int_equal(st_rows_version(ST_EVENTS, rows, n, 3), 0); /* row count wrong */
	/* attack_events as schema 5 (and 6, which added no event column) wrote them: parent_attack_id,
	 * then batch_id; as schema 4: pcap_packets, then batch_id */
	uint8_t v5[1024];
	size_t m5 = 0;
	for (int i = 0; i < 2; i++) {
		struct st_attack_event ev = sample_event();
		uint8_t one[700];
		struct wbuf w = wbuf_init(one, sizeof one);
		st_rowbinary_event(&w, &ev);
		memcpy(v5 + m5, one, w.len - 4 * 8);
		m5 += w.len - 4 * 8;
		memcpy(v5 + m5, "\x07\0\0\0\0\0\0\0", 8);
		m5 += 8;
	}
	assert_int_equal(st_rows_version(ST_EVENTS, v5, m5, 2), 6);
	uint8_t v4[1024];
	size_t m4 = 0;
	for (int i = 0; i < 2; i++) {
		struct st_attack_event ev = sample_event();
		uint8_t one[700];
		struct wbuf w = wbuf_init(one, sizeof one);
		st_rowbinary_event(&w, &ev);
		memcpy(v4 + m4, one, w.len - 8 - 4 * 8);
		m4 += w.len - 8 - 4 * 8;
		memcpy(v4 + m4, "\x07\0\0\0\0\0\0\0", 8);
		m4 += 8;
	}
	assert_int_equal(st_rows_version(ST_EVENTS, v4, m4, 2), 4);
	assert_int_equal(st_rows_version(ST_EVENTS, rows, n - 1, 2), 0);
	/* attack_events as schema 3 wrote them: reason, then batch_id (no pcap columns) */
	uint8_t v3[1024];
	size_t m = 0;
	for (int i = 0; i < 2; i++) {
		struct st_attack_event ev = sample_event();
		uint8_t one[700];
		struct wbuf w = wbuf_init(one, sizeof one);
		st_rowbinary_event(&w, &ev);
		/* cut pcap_file, pcap_packets, parent, the distinct counts */
		size_t len = w.len - (1 + strlen(ev.pcap_file)) - 8 - 8 - 4 * 8;
		memcpy(v3 + m, one, len);
		m += len;
		memcpy(v3 + m, "\x07\0\0\0\0\0\0\0", 8);    /* batch_id */
		m += 8;
	}
	assert_int_equal(st_rows_version(ST_EVENTS, v3, m, 2), 3);
	assert_int_equal(st_rows_version(ST_EVENTS, v3, m, 1), 0);
	/* flows have had one layout since batch_id (2): the latest */
	n = two_flows(rows, sizeof rows);
	assert_int_equal(st_rows_version(ST_FLOWS, rows, n, 2), st_schema_latest());
	assert_int_equal(st_rows_version(ST_FLOWS, rows, n - 8, 2), 0); /* no batch_id: not ours */

	char sql[1024];
	assert_int_equal(st_schema_insert_sql(sql, sizeof sql, "rp", ST_EVENTS, 3), 0);
	assert_string_equal(sql, "INSERT INTO rp.attack_events (date, time, time_nsec, attack_id, event, target, "
				 "target_len, direction, manual, hostgroup, trigger, trigger_value, trigger_limit, pps, "
				 "bps, flows, ban_seconds, action, reason, batch_id) FORMAT RowBinary");
	assert_int_equal(st_schema_insert_sql(sql, sizeof sql, "rp", ST_EVENTS, 4), 0);
	assert_non_null(strstr(sql, "reason, pcap_file, pcap_packets, batch_id) FORMAT RowBinary"));
	assert_int_equal(st_schema_insert_sql(sql, sizeof sql, "rp", ST_EVENTS, 5), 0);
	assert_non_null(strstr(sql, "pcap_packets, parent_attack_id, batch_id) FORMAT RowBinary"));
	assert_int_equal(st_schema_insert_sql(sql, sizeof sql, "rp", ST_EVENTS, 7), 0);
	assert_non_null(strstr(sql, "parent_attack_id, distinct_peers, distinct_peer_prefixes, distinct_src_ports, "
				    "distinct_dst_ports, batch_id) FORMAT RowBinary"));
	assert_int_equal(st_schema_insert_sql(sql, 40, "rp", ST_EVENTS, 4), -1);
}

static void test_schema_cluster(void **state)
{
	(void)state;
	char st[ST_SCHEMA_MAX][ST_STMT_MAX];
	size_t n = 0;
	for (unsigned v = 1; v <= st_schema_latest(); v++)
		n += st_schema_migration(v, "rp", "two", st + n, ST_SCHEMA_MAX - n);
	assert_int_equal(n, 33); /* v1: 3 + 2, v2: 5 + 3, v3: 2 + 1, v4: 2 + 2, v5: 1 + 1, v6: 2 + 1, v7: 4 + 4 */
	assert_string_equal(st[25], "ALTER TABLE rp.attack_events_local ADD COLUMN distinct_peers UInt64 AFTER parent_attack_id");
	assert_string_equal(st[26], "ALTER TABLE rp.attack_events ADD COLUMN distinct_peers UInt64 AFTER parent_attack_id");
	assert_non_null(strstr(st[22], "CREATE TABLE IF NOT EXISTS rp.operator_events_local (date Date,"));
	assert_string_equal(st[23], "CREATE TABLE IF NOT EXISTS rp.operator_events AS rp.operator_events_local "
				    "ENGINE = Distributed(two, rp, operator_events_local, rand())");
	assert_non_null(strstr(st[24], "TO rp.batches_local AS"));
	assert_non_null(strstr(st[24], "FROM rp.operator_events_local GROUP BY batch_id"));
	assert_non_null(strstr(st[1], "CREATE TABLE IF NOT EXISTS rp.flows_local (date Date,"));
	assert_non_null(strstr(st[1], "ENGINE = MergeTree() PARTITION BY date ORDER BY (dst, start_time)"));
	assert_null(strstr(st[1], "batch_id")); /* v2 adds it */
	assert_non_null(strstr(st[2], "CREATE TABLE IF NOT EXISTS rp.attack_events_local ("));
	assert_string_equal(st[3], "CREATE TABLE IF NOT EXISTS rp.flows AS rp.flows_local "
				   "ENGINE = Distributed(two, rp, flows_local, cityHash64(dst))");
	assert_string_equal(st[4], "CREATE TABLE IF NOT EXISTS rp.attack_events AS rp.attack_events_local "
				   "ENGINE = Distributed(two, rp, attack_events_local, intHash64(attack_id))");
	assert_string_equal(st[5], "ALTER TABLE rp.flows_local ADD COLUMN batch_id UInt64");
	assert_string_equal(st[6], "ALTER TABLE rp.flows ADD COLUMN batch_id UInt64");
	assert_string_equal(st[10], "CREATE TABLE IF NOT EXISTS rp.batches AS rp.batches_local "
				    "ENGINE = Distributed(two, rp, batches_local)");
	assert_non_null(strstr(st[11], "rp.flows_batches TO rp.batches_local AS"));
	assert_non_null(strstr(st[11], "FROM rp.flows_local GROUP BY batch_id"));
	assert_non_null(strstr(st[13], "CREATE TABLE IF NOT EXISTS rp.host_traffic_local ("));
	assert_string_equal(st[14], "CREATE TABLE IF NOT EXISTS rp.host_traffic AS rp.host_traffic_local "
				    "ENGINE = Distributed(two, rp, host_traffic_local)");
	assert_non_null(strstr(st[15], "TO rp.host_traffic_local AS"));
	assert_non_null(strstr(st[15], "FROM rp.flows_local GROUP BY"));
	/* v4: the pcap columns on the shard's table and on the Distributed one, same place */
	assert_string_equal(st[16], "ALTER TABLE rp.attack_events_local ADD COLUMN pcap_file String AFTER reason");
	assert_string_equal(st[17], "ALTER TABLE rp.attack_events ADD COLUMN pcap_file String AFTER reason");
	assert_string_equal(st[18], "ALTER TABLE rp.attack_events_local ADD COLUMN pcap_packets UInt64 AFTER pcap_file");
	assert_string_equal(st[19], "ALTER TABLE rp.attack_events ADD COLUMN pcap_packets UInt64 AFTER pcap_file");
	for (size_t i = 0; i < n; i++) {
		assert_null(strstr(st[i], "{"));             /* every placeholder expanded */
		assert_null(strstr(st[i], "ON CLUSTER"));    /* 18.16 without ZooKeeper: per server */
	}
	/* "" is no cluster: the plain schema */
	char plain[ST_SCHEMA_MAX][ST_STMT_MAX];
	assert_int_equal(st_schema_migration(2, "rp", "", plain, ST_SCHEMA_MAX), 5);
	assert_string_equal(plain[0], "ALTER TABLE rp.flows ADD COLUMN batch_id UInt64");
	/* a long database name still gives whole statements or none */
	char db[64];
	memset(db, 'd', 63);
	db[63] = 0;
	n = st_schema_migration(1, db, "c", st, ST_SCHEMA_MAX);
	for (size_t i = 0; i < n; i++)
		assert_non_null(strstr(st[i], db));
}

static void test_config(void **state)
{
	(void)state;
	struct st_config cfg;
	st_config_defaults(&cfg);
	assert_string_equal(cfg.database, "rampart");
	assert_string_equal(cfg.dir, "/var/lib/rampart");
	assert_string_equal(cfg.clickhouse_url, "");
	assert_int_equal(cfg.batch_rows, 100000);
	assert_int_equal(cfg.batch_ms, 1000);
	assert_int_equal(cfg.queue_rows, 262144);

	char err[200];
	struct st_config bad = cfg;
	strcpy(bad.database, "rampart; DROP TABLE x");
	assert_null(st_writer_new(&bad, 1, err, sizeof err));
	assert_non_null(strstr(err, "database name"));

	bad = cfg;
	strcpy(bad.clickhouse_url, "127.0.0.1:8123");
	assert_null(st_writer_new(&bad, 1, err, sizeof err));
	assert_non_null(strstr(err, "http://"));

	assert_null(st_writer_new(&cfg, 0, err, sizeof err));

	struct st_config ch = cfg;
	strcpy(ch.clickhouse_url, "http://127.0.0.1:8123/");
	ch.queue_rows = 16;
	ch.batch_rows = 16;
	struct st_writer *w = st_writer_new(&ch, 1, err, sizeof err);
	assert_non_null(w);
	assert_string_equal(st_writer_destination(w), "ClickHouse http://127.0.0.1:8123 database rampart (Native)");
	st_writer_free(w);

	/* zeros (a config that set only some keys) become the defaults */
	struct st_config zero = {0};
	strcpy(zero.dir, "/tmp/x");
	w = st_writer_new(&zero, 2, err, sizeof err);
	assert_non_null(w);
	assert_non_null(strstr(st_writer_destination(w), "files in /tmp/x"));
	assert_non_null(st_writer_flow_producer(w, 1));
	assert_null(st_writer_flow_producer(w, 2));
	st_writer_free(w);
}

static void test_drops_counted(void **state)
{
	(void)state;
	struct st_config cfg;
	st_config_defaults(&cfg);
	cfg.queue_rows = 8;
	cfg.batch_rows = 8;
	char err[200];
	struct st_writer *w = st_writer_new(&cfg, 2, err, sizeof err);
	assert_non_null(w);
	struct flow_record r = sample_flow();
	struct st_flow_producer *p0 = st_writer_flow_producer(w, 0);
	struct st_flow_producer *p1 = st_writer_flow_producer(w, 1);
	int ok = 0;
	for (int i = 0; i < 20; i++)
		ok += st_push_flow(p0, &r);
	assert_int_equal(ok, 8);
	assert_true(st_push_flow(p1, &r)); /* a full ring of one worker does not stop another */
	struct st_attack_event ev = sample_event();
	ok = 0;
	for (int i = 0; i < 10; i++)
		ok += st_push_event(w, &ev);
	assert_int_equal(ok, 8);

	struct st_stats s;
	st_writer_stats(w, &s);
	assert_int_equal(s.flows_queued, 9);
	assert_int_equal(s.flows_dropped, 12);
	assert_int_equal(s.flows_written, 0);
	assert_int_equal(s.events_queued, 8);
	assert_int_equal(s.events_dropped, 2);
	assert_false(s.clickhouse);
	st_writer_stop(w); /* never started: nothing to do, must not hang */
	st_writer_free(w);
}

/* ---- file output through the writer thread ---- */

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static struct flow_record nth_flow(uint32_t i)
{
	struct flow_record r = {0};
	r.start_ns = 1700000000000000000ull + (uint64_t)i * 1000003;
	r.end_ns = r.start_ns + 5000;
	ip_from_v4_u32(&r.src, 0x0a000000u + i);
	if (i % 2)
		ip_from_v4_u32(&r.dst, 0xc0000200u + (i & 0xff));
	else
		r.dst = addr("2001:db8::7");
	ip_from_v4_u32(&r.exporter, 0x0a0000feu);
	r.packets = i;
	r.bytes = (uint64_t)i * 64;
	r.sampling_rate = 1 + i % 4;
	r.in_if = i % 7;
	r.out_if = i % 11;
	r.src_port = (uint16_t)i;
	r.dst_port = (uint16_t)(i * 7);
	r.vlan = (uint16_t)(i % 4095);
	r.protocol = (i % 3) ? 17 : 6;
	r.tcp_flags = (uint8_t)i;
	r.tos = (uint8_t)(i >> 3);
	r.flags = (uint8_t)(i % 16);
	r.source = (uint8_t)(i % 5);
	r.ip_version = (i % 2) ? 4 : 6;
	return r;
}

/* Decodes one flows row by the documented column layout; returns its length. */
static size_t decode_flow(const uint8_t *p, struct flow_record *r)
{
	memset(r, 0, sizeof *r);
	uint64_t date = le(p, 2);
	r->start_ns = le(p + 2, 4) * 1000000000ull + le(p + 6, 4);
	assert_int_equal(date, le(p + 2, 4) / 86400);
	r->end_ns = le(p + 10, 4) * 1000000000ull + le(p + 14, 4);
	memcpy(r->src.b, p + 18, 16);
	memcpy(r->dst.b, p + 34, 16);
	r->src_port = (uint16_t)le(p + 50, 2);
	r->dst_port = (uint16_t)le(p + 52, 2);
	r->protocol = p[54];
	r->tcp_flags = p[55];
	r->tos = p[56];
	r->flags = p[57];
	r->packets = le(p + 58, 8);
	r->bytes = le(p + 66, 8);
	r->sampling_rate = (uint32_t)le(p + 74, 4);
	memcpy(r->exporter.b, p + 78, 16);
	r->in_if = (uint32_t)le(p + 94, 4);
	r->out_if = (uint32_t)le(p + 98, 4);
	r->vlan = (uint16_t)le(p + 102, 2);
	r->source = p[104];
	r->ip_version = p[105];
	return 106;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All files in dir starting with prefix, concatenated in name (= hour) order. */
static uint8_t *read_table(const char *dir, const char *prefix, size_t *len)
{
	char *names[16];
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n < 16)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], by_name);
	uint8_t *all = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		assert_non_null(strstr(names[i], ".rowbinary"));
		size_t l;
		uint8_t *b = read_all(path, &l);
		all = realloc(all, *len + l + 1);
		memcpy(all + *len, b, l);
		*len += l;
		free(b);
		free(names[i]);
	}
	return all;
}

static void test_file_round_trip(void **state)
{
	(void)state;
	char dir[] = "/tmp/rampart-st-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[200];
	snprintf(sub, sizeof sub, "%s/spool/a", dir); /* made on start, parents too */

	struct st_config cfg;
	st_config_defaults(&cfg);
	snprintf(cfg.dir, sizeof cfg.dir, "%s", sub);
	cfg.batch_rows = 1000; /* several batches, the last one partial */
	cfg.batch_ms = 20;
	cfg.queue_rows = 32768;
	char err[200];
	struct st_writer *w = st_writer_new(&cfg, 1, err, sizeof err);
	assert_non_null(w);
	assert_int_equal(st_writer_start(w, err, sizeof err), 0);

	enum { N = 20500 };
	struct st_flow_producer *p = st_writer_flow_producer(w, 0);
	for (uint32_t i = 0; i < N; i++) {
		struct flow_record r = nth_flow(i);
		assert_true(st_push_flow(p, &r));
	}
	struct st_attack_event ev = sample_event();
	for (int i = 0; i < 3; i++) {
		ev.attack_id = 100 + (uint64_t)i;
		assert_true(st_push_event(w, &ev));
	}
	usleep(50000); /* let some batches go out on batch_ms while others are queued */
	st_writer_stop(w);

	struct st_stats s;
	st_writer_stats(w, &s);
	assert_int_equal(s.flows_queued, N);
	assert_int_equal(s.flows_written, N);
	assert_int_equal(s.flows_dropped, 0);
	assert_int_equal(s.flows_lost, 0);
	assert_int_equal(s.events_written, 3);
	assert_int_equal(s.batches_failed, 0);
	st_writer_free(w);

	size_t len;
	uint8_t *data = read_table(sub, "flows-", &len);
	enum { ROW = 106 + 8 }; /* the columns, then the batch_id */
	assert_int_equal(len, (size_t)N * ROW);
	uint64_t ids = 0, last_id = 0;
	for (uint32_t i = 0; i < N; i++) {
		struct flow_record got, want = nth_flow(i);
		decode_flow(data + (size_t)i * ROW, &got);
		assert_memory_equal(&got, &want, sizeof got);
		uint64_t id = le(data + (size_t)i * ROW + 106, 8);
		assert_int_not_equal(id, 0);
		if (id != last_id) { /* batches are whole and ids never repeat */
			assert_true(i == 0 || id > last_id);
			ids++;
			last_id = id;
		}
	}
	assert_true(ids >= (N + 999) / 1000); /* 1000-row batches, some cut short by batch_ms */
	free(data);

	data = read_table(sub, "attack_events-", &len);
	uint8_t row[512];
	struct wbuf wb = wbuf_init(row, sizeof row);
	st_rowbinary_event(&wb, &ev);
	size_t erow = wb.len + 8;
	assert_int_equal(len, 3 * erow);
	assert_int_equal(le(data + 10, 8), 100);
	assert_int_equal(le(data + erow + 10, 8), 101);
	assert_int_equal(le(data + 2 * erow + 10, 8), 102);
	free(data);

	/* the file name carries the UTC hour it was written in */
	char name[300];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(name, sizeof name, "%s/flows-%04d%02d%02d%02d.rowbinary", sub, tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
	struct stat st;
	if (tm.tm_min != 0 || tm.tm_sec > 5) /* not right after an hour turned */
		assert_int_equal(stat(name, &st), 0);

	/* schema.sql beside the files creates the tables they load into */
	char path[400];
	snprintf(path, sizeof path, "%s/schema.sql", sub);
	uint8_t *sql = read_all(path, &len);
	sql[len] = '\0';
	assert_non_null(strstr((char *)sql, "CREATE TABLE IF NOT EXISTS rampart.flows ("));
	assert_non_null(strstr((char *)sql, "CREATE TABLE IF NOT EXISTS rampart.attack_events ("));
	assert_non_null(strstr((char *)sql, "FORMAT RowBinary"));
	free(sql);

	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The spool: names round-trip and strange names are refused; batches come back oldest first,
 * across a reopen (a restart); the byte budget refuses a batch and keeps the rest. */
static void test_spool(void **state)
{
	(void)state;
	struct st_spool_entry e = {.seq = 0x2a1, .table = ST_EVENTS, .batch_id = 0x5f3c9a0100000007ull,
				   .rows = 100000, .unknown = true}, g;
	char name[128];
	st_spool_name(&e, name, sizeof name);
	assert_string_equal(name, "00000000000002a1-attack_events-5f3c9a0100000007-100000-u.rowbinary");
	assert_true(st_spool_parse_name(name, &g));
	assert_int_equal(g.seq, e.seq);
	assert_int_equal(g.table, ST_EVENTS);
	assert_int_equal(g.batch_id, e.batch_id);
	assert_int_equal(g.rows, 100000);
	assert_true(g.unknown);
	assert_true(st_spool_parse_name("0000000000000001-flows-0000000000000001-5.rowbinary", &g));
	assert_false(g.unknown);
	const char *bad[] = {"", "schema.sql", ".tmp-0000000000000001-flows-0000000000000001-5.rowbinary",
			     "0000000000000001-flows-0000000000000001-0.rowbinary",
			     "0000000000000001-flows-0000000000000001-05.rowbinary",
			     "0000000000000001-flowz-0000000000000001-5.rowbinary",
			     "000000000000000G-flows-0000000000000001-5.rowbinary",
			     "0000000000000001-flows-0000000000000001-5-x.rowbinary",
			     "0000000000000001-flows-0000000000000001-5.rowbinary.bak",
			     "0000000000000001-flows-0000000000000001-99999999999.rowbinary",
			     "0000000000000001-flows-00000000000000001-5.rowbinary"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(st_spool_parse_name(bad[i], &g));

	char dir[] = "/tmp/rampart-test-spool-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[200], err[200];
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	struct st_spool *sp = st_spool_open(sub, 100, err, sizeof err);
	assert_non_null(sp);
	uint8_t body[40];
	for (int i = 0; i < 3; i++) {
		memset(body, 'a' + i, sizeof body);
		assert_int_equal(st_spool_put(sp, i == 1 ? ST_EVENTS : ST_FLOWS, 10 + (uint64_t)i, 4, false, body,
					      sizeof body - (size_t)i, err, sizeof err),
				 i < 2 ? 0 : -2); /* 40 + 39 fit 100 bytes, 38 more do not */
	}
	assert_non_null(strstr(err, "full"));
	assert_int_equal(st_spool_count(sp), 2);
	assert_int_equal(st_spool_bytes(sp), 79);
	assert_int_equal(st_spool_rows(sp, ST_FLOWS), 4);
	assert_int_equal(st_spool_mark_unknown(sp), 0);
	st_spool_free(sp);

	/* a restart finds both, in order, the first marked unknown; a stray file is ignored */
	char stray[300];
	snprintf(stray, sizeof stray, "%s/notes.txt", sub);
	FILE *f = fopen(stray, "w");
	assert_non_null(f);
	fclose(f);
	/* a batch a crash stopped half-way (.NAME.tmp) is removed; another dot file is not ours */
	char half[300], other[300];
	snprintf(half, sizeof half, "%s/.0000000000000009-flows-0000000000000009-5.rowbinary.tmp", sub);
	snprintf(other, sizeof other, "%s/.notes.tmp", sub);
	assert_non_null((f = fopen(half, "w")));
	fclose(f);
	assert_non_null((f = fopen(other, "w")));
	fclose(f);
	sp = st_spool_open(sub, 100, err, sizeof err);
	assert_non_null(sp);
	assert_int_equal(access(half, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(st_spool_count(sp), 2);
	assert_true(st_spool_oldest(sp, &g));
	assert_int_equal(g.batch_id, 10);
	assert_true(g.unknown);
	uint8_t *got;
	size_t len;
	assert_int_equal(st_spool_read_oldest(sp, &got, &len, err, sizeof err), 0);
	assert_int_equal(len, 40);
	assert_int_equal(got[0], 'a');
	free(got);
	st_spool_pop(sp);
	assert_true(st_spool_oldest(sp, &g));
	assert_int_equal(g.batch_id, 11);
	assert_int_equal(g.table, ST_EVENTS);
	assert_false(g.unknown);
	assert_int_equal(st_spool_read_oldest(sp, &got, &len, err, sizeof err), 0);
	assert_int_equal(len, 39);
	assert_int_equal(got[0], 'b');
	free(got);
	/* room again: a new batch goes after the old ones */
	assert_int_equal(st_spool_put(sp, ST_FLOWS, 12, 1, false, body, 10, err, sizeof err), 0);
	st_spool_pop(sp);
	assert_true(st_spool_oldest(sp, &g));
	assert_int_equal(g.batch_id, 12);
	assert_true(g.seq > 2);
	st_spool_pop(sp);
	assert_false(st_spool_oldest(sp, &g));
	assert_int_equal(st_spool_bytes(sp), 0);
	st_spool_free(sp);

	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A disk that refuses every write (RLIMIT_FSIZE makes write() fail with EFBIG as a full disk
 * makes it fail with ENOSPC): each refused batch returns -1, keeps no descriptor and leaves no
 * temporary file; when writes succeed again the spool takes batches as before. */
/* At stop the spool writes batches without fsync and syncs them together: until then they are
 * temporary files outside the index, after it ordinary spooled batches a restart finds, in order;
 * the budget counts them while they wait; a full set of waiting batches refuses the next put. */
static void test_spool_deferred_sync(void **state)
{
	(void)state;
	char dir[] = "/tmp/rampart-test-spool-defer-XXXXXX", err[200], path[400];
	assert_non_null(mkdtemp(dir));
	struct st_spool *sp = st_spool_open(dir, 1000, err, sizeof err);
	assert_non_null(sp);
	uint8_t body[100];
	memset(body, 'x', sizeof body);
	assert_int_equal(st_spool_put(sp, ST_FLOWS, 1, 3, false, body, sizeof body, err, sizeof err), 0);
	st_spool_defer_sync(sp);
	for (int i = 0; i < 8; i++)
		assert_int_equal(st_spool_put(sp, i == 2 ? ST_EVENTS : ST_FLOWS, 2 + (uint64_t)i, 5, i == 3, body,
					      sizeof body, err, sizeof err), 0);
	/* 100 + 8 x 100 = 900: one more fits, the next is over the budget of 1000 */
	assert_int_equal(st_spool_put(sp, ST_FLOWS, 20, 5, false, body, sizeof body, err, sizeof err), 0);
	assert_int_equal(st_spool_put(sp, ST_FLOWS, 21, 5, false, body, sizeof body, err, sizeof err), -2);
	assert_int_equal(st_spool_count(sp), 1);
	assert_int_equal(st_spool_pending(sp), 9);
	snprintf(path, sizeof path, "%s/.0000000000000002-flows-0000000000000002-5.rowbinary.tmp", dir);
	assert_int_equal(access(path, F_OK), 0);
	uint64_t lost[ST_NTABLES] = {0};
	assert_int_equal(st_spool_sync(sp, lost, err, sizeof err), 0);
	assert_int_equal(lost[ST_FLOWS] + lost[ST_EVENTS] + lost[ST_OPS], 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(st_spool_count(sp), 10);
	assert_int_equal(st_spool_pending(sp), 0);
	assert_int_equal(st_spool_bytes(sp), 1000);
	assert_int_equal(st_spool_rows(sp, ST_EVENTS), 5);
	st_spool_free(sp);
	sp = st_spool_open(dir, 100000, err, sizeof err);
	assert_non_null(sp);
	assert_int_equal(st_spool_count(sp), 10);
	struct st_spool_entry e;
	uint64_t want[] = {1, 2, 3, 4, 5};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_true(st_spool_oldest(sp, &e));
		assert_int_equal(e.batch_id, want[i]);
		assert_int_equal(e.unknown, want[i] == 5);
		st_spool_pop(sp);
	}
	/* the pending set is bounded (a descriptor each): a put beyond it is refused */
	st_spool_defer_sync(sp);
	for (int i = 0; i < ST_SPOOL_PENDING_MAX; i++)
		assert_int_equal(st_spool_put(sp, ST_OPS, 100 + (uint64_t)i, 1, false, body, 10, err, sizeof err), 0);
	assert_int_equal(st_spool_put(sp, ST_OPS, 999, 1, false, body, 10, err, sizeof err), -2);
	assert_non_null(strstr(err, "sync"));
	st_spool_free(sp); /* syncs what waits */
	sp = st_spool_open(dir, 100000, err, sizeof err);
	assert_non_null(sp);
	assert_int_equal(st_spool_count(sp), 5 + ST_SPOOL_PENDING_MAX);
	while (st_spool_count(sp))
		st_spool_pop(sp);
	st_spool_free(sp);
	assert_int_equal(rmdir(dir), 0);
}

static void test_spool_write_error_closes(void **state)
{
	(void)state;
	char dir[] = "/tmp/rampart-test-spoolerr-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[200];
	struct st_spool *sp = st_spool_open(dir, 1 << 20, err, sizeof err);
	assert_non_null(sp);
	uint8_t body[4096];
	memset(body, 'x', sizeof body);
	struct rlimit old, tiny = {.rlim_cur = 16, .rlim_max = RLIM_INFINITY};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	tiny.rlim_max = old.rlim_max;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	int before = count_fds();
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(st_spool_put(sp, ST_FLOWS, (uint64_t)i, 10, false, body, sizeof body, err, sizeof err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(count_fds(), before);
	assert_int_equal(st_spool_count(sp), 0);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_true(de->d_name[0] == '.' && (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)));
	closedir(d);
	assert_int_equal(st_spool_put(sp, ST_FLOWS, 99, 10, false, body, sizeof body, err, sizeof err), 0);
	assert_int_equal(st_spool_count(sp), 1);
	st_spool_free(sp);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_versions(void **state)
{
	(void)state;
	assert_false(st_ch_version_has_ttl("18.16.1"));
	assert_false(st_ch_version_has_ttl("19.5.3.8"));
	assert_true(st_ch_version_has_ttl("19.6.2.11"));
	assert_true(st_ch_version_has_ttl("23.8.1.1"));
	assert_false(st_ch_version_has_ttl(""));
	assert_false(st_ch_version_has_ttl("garbage"));
	assert_true(st_ch_version_has_ttl("20.3.21.2"));
	assert_true(st_ch_version_has_ttl("100.1"));

	/* the DDL each server version gets after the migrations (only 18.16 is run for real here) */
	char st[8][ST_STMT_MAX];
	static const struct {
		const char *version;
		size_t n;
	} v[] = {
		{"18.16.1", 0}, {"19.5.4.22", 0}, {"19.6.2.11", 5}, {"19.17.9.60", 5},
		{"20.3.21.2", 5}, {"21.8.15.7", 5}, {"23.8.1.1", 5}, {"", 0},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(st_schema_version_ddl(v[i].version, "rp", NULL, 30, st, 8), v[i].n);
		assert_int_equal(st_schema_version_ddl(v[i].version, "rp", NULL, 0, st, 8), 0); /* keep all */
	}
	assert_int_equal(st_schema_version_ddl("23.8.1.1", "rp", NULL, 30, st, 8), 5);
	assert_string_equal(st[0], "ALTER TABLE rp.flows MODIFY TTL date + INTERVAL 30 DAY");
	assert_string_equal(st[1], "ALTER TABLE rp.attack_events MODIFY TTL date + INTERVAL 30 DAY");
	assert_string_equal(st[2], "ALTER TABLE rp.host_traffic MODIFY TTL toDate(minute) + INTERVAL 30 DAY");
	assert_string_equal(st[3], "ALTER TABLE rp.batches MODIFY TTL toDate(time) + INTERVAL 30 DAY");
	assert_string_equal(st[4], "ALTER TABLE rp.operator_events MODIFY TTL date + INTERVAL 30 DAY");
	assert_int_equal(st_schema_version_ddl("20.3.21.2", "rp", "rc", 7, st, 8), 5); /* the data tables */
	assert_string_equal(st[0], "ALTER TABLE rp.flows_local MODIFY TTL date + INTERVAL 7 DAY");
	assert_string_equal(st[3], "ALTER TABLE rp.batches_local MODIFY TTL toDate(time) + INTERVAL 7 DAY");
	assert_int_equal(st_schema_version_ddl("19.6.2.11", "rp", NULL, 30, st, 2), 2);

	/* and the tables themselves are the same on every version: none of the newer types */
	char all[ST_SCHEMA_MAX][ST_STMT_MAX];
	for (int cl = 0; cl < 2; cl++) {
		size_t n = 0;
		for (unsigned ver = 1; ver <= st_schema_latest(); ver++)
			n += st_schema_migration(ver, "rp", cl ? "rc" : NULL, all + n, ST_SCHEMA_MAX - n);
		for (size_t i = 0; i < n; i++) {
			const char *newer[] = {"IPv6", "IPv4", "LowCardinality", "CODEC", "TTL", "DateTime64"};
			for (size_t k = 0; k < sizeof newer / sizeof newer[0]; k++)
				assert_null(strstr(all[i], newer[k]));
		}
	}
}

/* Which features each server version gets, and the DDL of each shape. */
static void test_version_shapes(void **state)
{
	(void)state;
	static const struct {
		const char *version;
		unsigned feat;
	} v[] = {
		{"18.16.1", 0}, {"19.5.4.22", 0}, {"19.6.2.11", ST_F_TTL}, {"19.17.9.60", ST_F_TTL},
		{"20.2.1", ST_F_TTL}, {"20.3.21.2", ST_F_TTL | ST_F_LOWCARD | ST_F_CODEC},
		{"21.8.15.7", ST_F_TTL | ST_F_LOWCARD | ST_F_CODEC}, {"23.2.7.32", ST_F_TTL | ST_F_LOWCARD | ST_F_CODEC},
		{"23.3.1.2823", ST_F_TTL | ST_F_LOWCARD | ST_F_CODEC | ST_F_IPV6},
		{"26.7.2.1", ST_F_TTL | ST_F_LOWCARD | ST_F_CODEC | ST_F_IPV6}, {"", 0}, {"x.y", 0},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		assert_int_equal(st_schema_features(v[i].version), v[i].feat);
	assert_int_equal(st_schema_features(NULL), 0);

	/* 18.16's shape is byte for byte the plain migrations */
	char a[ST_SCHEMA_MAX][ST_STMT_MAX], b[ST_SCHEMA_MAX][ST_STMT_MAX];
	for (unsigned ver = 1; ver <= st_schema_latest(); ver++)
		for (int cl = 0; cl < 2; cl++) {
			size_t n = st_schema_migration(ver, "rp", cl ? "rc" : NULL, a, ST_SCHEMA_MAX);
			assert_int_equal(st_schema_migration_shape(ver, "rp", cl ? "rc" : NULL, 0, b, ST_SCHEMA_MAX), n);
			for (size_t i = 0; i < n; i++)
				assert_string_equal(a[i], b[i]);
		}

	/* the newest shape: every statement fits, the types and codecs where they belong */
	unsigned all = ST_F_IPV6 | ST_F_LOWCARD | ST_F_CODEC | ST_F_TTL;
	size_t n = 0;
	for (unsigned ver = 1; ver <= st_schema_latest(); ver++)
		n += st_schema_migration_shape(ver, "rp", NULL, all, a + n, ST_SCHEMA_MAX - n);
	assert_int_equal(n, 19);
	assert_non_null(strstr(a[13], "source LowCardinality(String), client String, "));
	assert_non_null(strstr(a[13], "time DateTime CODEC(DoubleDelta, LZ4), "));
	assert_non_null(strstr(a[1], "src IPv6, dst IPv6, "));
	assert_non_null(strstr(a[1], "start_time DateTime CODEC(DoubleDelta, LZ4), "));
	assert_non_null(strstr(a[1], "packets UInt64 CODEC(ZSTD(1)), bytes UInt64 CODEC(ZSTD(1)), "));
	assert_non_null(strstr(a[1], "exporter IPv6, "));
	assert_non_null(strstr(a[1], "ENGINE = MergeTree() PARTITION BY date ORDER BY (dst, start_time)"));
	assert_non_null(strstr(a[2], "event LowCardinality(String), target IPv6, "));
	assert_non_null(strstr(a[2], "hostgroup LowCardinality(String), trigger LowCardinality(String), "));
	assert_non_null(strstr(a[2], "action LowCardinality(String), reason String)"));
	assert_non_null(strstr(a[5], "tbl LowCardinality(String), rows UInt64, time DateTime CODEC(DoubleDelta, LZ4)"));
	assert_non_null(strstr(a[8], "(minute DateTime CODEC(DoubleDelta, LZ4), dst IPv6, flows UInt64 CODEC(ZSTD(1))"));
	/* columns a later version ALTERs in stay plain, in every shape */
	assert_string_equal(a[3], "ALTER TABLE rp.flows ADD COLUMN batch_id UInt64");
	assert_string_equal(a[11], "ALTER TABLE rp.attack_events ADD COLUMN pcap_packets UInt64 AFTER pcap_file");
	/* each feature alone changes only its own columns */
	n = st_schema_migration_shape(1, "rp", NULL, ST_F_LOWCARD, b, ST_SCHEMA_MAX);
	assert_int_equal(n, 3);
	assert_null(strstr(b[1], "IPv6"));
	assert_null(strstr(b[1], "CODEC"));
	assert_non_null(strstr(b[2], "event LowCardinality(String), target FixedString(16)"));
	n = st_schema_migration_shape(3, "rp", "rc", ST_F_IPV6, b, ST_SCHEMA_MAX);
	assert_int_equal(n, 3);
	assert_non_null(strstr(b[0], "CREATE TABLE IF NOT EXISTS rp.host_traffic_local (minute DateTime, dst IPv6, flows UInt64, "));
	/* a long database name in the widest shape: whole statements or none */
	char db[64];
	memset(db, 'd', 63);
	db[63] = 0;
	n = st_schema_migration_shape(1, db, "c", all, a, ST_SCHEMA_MAX);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_non_null(strstr(a[i], db));

	/* the types Native names: IPv6 for addresses in that shape, String for LowCardinality */
	const struct st_column *cols;
	size_t nc = st_schema_columns(ST_EVENTS, &cols);
	char t[96];
	for (size_t i = 0; i < nc; i++) {
		if (!strcmp(cols[i].name, "target")) {
			assert_string_equal(st_column_wire_type(&cols[i], all), "IPv6");
			assert_string_equal(st_column_wire_type(&cols[i], 0), "FixedString(16)");
		}
		if (!strcmp(cols[i].name, "event")) {
			assert_string_equal(st_column_wire_type(&cols[i], all), "String");
			assert_int_equal(st_column_ddl(&cols[i], all, t, sizeof t), 0);
			assert_string_equal(t, "LowCardinality(String)");
			assert_int_equal(st_column_ddl(&cols[i], all, t, 10), -1);
		}
	}
}

/* A Native block in the IPv6 shape: the same bytes, only the address columns' type names differ. */
static void test_native_shape(void **state)
{
	(void)state;
	uint8_t rows[2 * 114], a[4096], b[4096];
	struct wbuf w = wbuf_init(rows, sizeof rows);
	for (int i = 0; i < 2; i++) {
		struct flow_record r = {.start_ns = 1795000000000000000ull + (uint64_t)i, .packets = 7, .sampling_rate = 1};
		ip_from_v4_u32(&r.src, 0xc0000201u + (uint32_t)i);
		ip_parse("2001:db8::9", &r.dst);
		st_rowbinary_flow(&w, &r);
		wbuf_le64(&w, 42);
	}
	assert_false(w.err);
	struct wbuf wa = wbuf_init(a, sizeof a), wb = wbuf_init(b, sizeof b);
	assert_int_equal(st_native_block_shape(&wa, ST_FLOWS, rows, w.len, 2, NULL, 0), 0);
	assert_int_equal(st_native_block_shape(&wb, ST_FLOWS, rows, w.len, 2, NULL, ST_F_IPV6 | ST_F_LOWCARD), 0);
	/* three address columns, each "\x0fFixedString(16)" (16 bytes) becomes "\x04IPv6" (5) */
	assert_int_equal(wa.len - wb.len, 3 * 11);
	assert_non_null(memmem(b, wb.len, "\x03src\x04IPv6", 9));
	assert_non_null(memmem(a, wa.len, "\x03src\x0f" "FixedString(16)", 20));
	assert_null(memmem(b, wb.len, "FixedString", 11));
}

/* A directory that cannot be made is an error at start, named. */
static void test_file_bad_dir(void **state)
{
	(void)state;
	struct st_config cfg;
	st_config_defaults(&cfg);
	snprintf(cfg.dir, sizeof cfg.dir, "/proc/version/sub");
	char err[200];
	struct st_writer *w = st_writer_new(&cfg, 1, err, sizeof err);
	assert_non_null(w);
	assert_int_not_equal(st_writer_start(w, err, sizeof err), 0);
	assert_non_null(strstr(err, "/proc/version"));
	st_writer_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rowbinary_flow_bytes),
		cmocka_unit_test(test_rowbinary_event_bytes),
		cmocka_unit_test(test_rowbinary_operator_event_bytes),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_schema_cluster),
		cmocka_unit_test(test_native_bytes),
		cmocka_unit_test(test_native_refuses),
		cmocka_unit_test(test_old_layout),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_drops_counted),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_file_bad_dir),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_spool_write_error_closes),
		cmocka_unit_test(test_spool_deferred_sync),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_version_shapes),
		cmocka_unit_test(test_native_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
