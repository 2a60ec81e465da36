/* storage/: the asynchronous writer. One storage thread drains single-producer rings (one per
 * capture worker for flow records, one for the main loop's attack events) into batches and
 * writes them to ClickHouse over HTTP in RowBinary, or, without ClickHouse, to local files
 * ClickHouse can load later. Producers never wait: a full ring is a counted drop. */
#ifndef RAMPART_STORAGE_ST_H
#define RAMPART_STORAGE_ST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/flow_record.h"
#include "../lib/buf.h"
#include "../lib/ip.h"

struct st_config {
	char clickhouse_url[256]; /* "http://127.0.0.1:8123"; empty = write files to dir */
	char database[64];        /* default "rampart" */
	char user[64];
	char password[64];
	char dir[256];            /* file output (no ClickHouse); default /var/lib/rampart */
	uint32_t batch_rows;      /* flush a table's batch at this many rows (default 100000) */
	uint32_t batch_ms;        /* or when its oldest row is this old (default 1000) */
	uint32_t queue_rows;      /* capacity of each producer's ring (default 262144) */
	/* the disk spool while ClickHouse is down, and retention */
	char spool_dir[256];      /* batches ClickHouse could not take; default DIR/spool */
	uint64_t spool_max_bytes; /* its disk budget (default 1 GiB); beyond it rows are dropped */
	uint32_t retention_days;  /* drop rows older than this (TTL or partitions); 0 = keep all */
	uint32_t posts_in_flight; /* concurrent INSERTs, 1..4 (default 3); each holds a batch buffer */
	/* a cluster and the INSERTs' encoding */
	char cluster[64];         /* remote_servers cluster: *_local tables + Distributed; "" = plain */
	int format;               /* enum st_format: the INSERTs' body (spool and files stay RowBinary) */
	int compression;          /* enum st_compression: the INSERTs' body on the wire */
};

/* Native is the default (0): measured faster end to end (docs/STORAGE.md, Formats). */
enum st_format { ST_FORMAT_NATIVE = 0, ST_FORMAT_ROWBINARY = 1 };
/* gzip pays only where the network, not ClickHouse's parsing, is the limit (docs/STORAGE.md,
 * Posting options): off by default. */
enum st_compression { ST_COMPRESSION_NONE = 0, ST_COMPRESSION_GZIP = 1 };

void st_config_defaults(struct st_config *cfg);

/* One row of attack_events. Storage does not know detect/: the wiring fills this. */
struct st_attack_event {
	uint64_t time_ns;
	uint64_t attack_id;
	char event[24];       /* "attack_detected", "ban", "unban", ... */
	ip_prefix target;
	uint8_t direction;    /* 0 incoming, 1 outgoing */
	bool manual;
	char hostgroup[64];
	char trigger[32];     /* "udp_pps", "bps", ... */
	double trigger_value;
	double trigger_limit;
	double pps;           /* the host's rates in the attack's direction */
	double bps;
	double flows;
	uint32_t ban_seconds;
	char action[24];      /* "blackhole", "dry-run", "none" */
	char reason[96];
	char pcap_file[256];  /* detection.attack_pcap: the attack's sample file, "" when none */
	uint64_t pcap_packets; /* samples in it when this event was made */
	uint64_t parent_attack_id; /* the covering prefix's attack (det_event's), 0 = none */
	/* the fingerprint's distinct counts when this event was made (0 before any record) */
	uint64_t distinct_peers, distinct_peer_prefixes, distinct_src_ports, distinct_dst_ports;
};

/* One row of operator_events: a state-changing command and who gave it (api/'s audit trail). */
struct st_operator_event {
	uint64_t time_ns;
	char source[8];       /* "socket", "http", "pipe", "process" */
	char client[64];      /* HTTP client "address:port"; "" for the others */
	int32_t uid;          /* control socket peer (SO_PEERCRED); -1 when not known */
	int32_t pid;          /* socket peer or ExaBGP process; 0 when not known */
	bool token;           /* HTTP: the request carried the API token */
	char command[256];
	char result[160];     /* the reply's first line */
	bool ok;
};

struct st_stats {
	uint64_t flows_queued;   /* accepted into the rings */
	uint64_t flows_dropped;  /* rejected because a ring was full */
	uint64_t flows_written;  /* rows ClickHouse (or the file) acknowledged */
	uint64_t events_queued;
	uint64_t events_dropped;
	uint64_t events_written;
	uint64_t flows_lost;     /* given up at stop: neither ClickHouse nor the spool took them */
	uint64_t events_lost;
	uint64_t ops_queued;     /* operator_events rows, counted as events are */
	uint64_t ops_dropped;
	uint64_t ops_written;
	uint64_t ops_lost;
	uint64_t batches_failed; /* posts that failed (retried) */
	char last_error[160];
	bool clickhouse;         /* writing to ClickHouse (else files) */
	/* the disk spool. Rows spooled are not yet written; replayed rows count in
	 * written too. For each table: written + dropped + spool_dropped + lost + in the spool ==
	 * pushed (+ rows an earlier run left in the spool, which count as spooled at start), with
	 * in_doubt added while any is. */
	uint64_t flows_spooled;        /* rows put in the spool (cumulative) */
	uint64_t flows_replayed;       /* spooled rows ClickHouse has now */
	uint64_t flows_spool_dropped;  /* rows dropped: the spool's byte budget was exhausted */
	uint64_t events_spooled;
	uint64_t events_replayed;
	uint64_t events_spool_dropped;
	uint64_t ops_spooled;
	uint64_t ops_replayed;
	uint64_t ops_spool_dropped;
	/* rows whose insert got no answer and that the spool could not take: ClickHouse may have
	 * them. Once it answers again the writer asks it and moves them to written or spool_dropped;
	 * non-zero after a stop only when it never did (the log names the batches). They count in
	 * the identity above beside spool_dropped. */
	uint64_t flows_in_doubt;
	uint64_t events_in_doubt;
	uint64_t ops_in_doubt;
	uint64_t spool_bytes;          /* on disk now */
	uint64_t spool_batches;        /* batches on disk now */
	uint64_t batches_deduplicated; /* replays skipped: ClickHouse already had the batch */
	uint64_t partitions_dropped;   /* retention without TTL */
	bool clickhouse_down;          /* the last post or probe failed */
	/* INSERT bodies posted (retries included): as encoded, and as sent on the wire (smaller
	 * with storage.clickhouse.compression: gzip) */
	uint64_t insert_bytes;
	uint64_t insert_wire_bytes;
};

struct st_writer;
struct st_flow_producer;

/* n_flow_producers: one per capture worker. Nothing runs until st_writer_start(). */
struct st_writer *st_writer_new(const struct st_config *cfg, unsigned n_flow_producers, char *err,
				size_t errlen);
/* Creates the database and tables if missing (ClickHouse) or the directory (files), then starts
 * the storage thread. An unreachable ClickHouse is not an error: the thread keeps retrying and
 * holds rows in its bounded queues meanwhile. */
int st_writer_start(struct st_writer *w, char *err, size_t errlen);
/* Writes everything queued, then stops the thread. With ClickHouse, what it does not take within
 * 10 s stays in the spool for the next start. */
void st_writer_stop(struct st_writer *w);
void st_writer_free(struct st_writer *w);

struct st_flow_producer *st_writer_flow_producer(struct st_writer *w, unsigned idx);
/* Producer side, wait-free; false (and counted) when the ring is full. */
bool st_push_flow(struct st_flow_producer *p, const struct flow_record *r);
/* From the main loop only. */
bool st_push_event(struct st_writer *w, const struct st_attack_event *ev);
/* One operator_events row, queued like st_push_event: never waits, false (and counted in
 * ops_dropped) when its ring is full. From the main loop only. */
bool st_writer_operator_event(struct st_writer *w, const struct st_operator_event *ev);
void st_writer_stats(struct st_writer *w, struct st_stats *out);
/* Logs, once stopped, how every row ended: written, in the spool for the next start, dropped
 * (ring full, spool refused), lost at stop, or in doubt; per table. */
void st_writer_log_summary(struct st_writer *w);
/* Where rows go, for the operator: "ClickHouse http://... database rampart" or "files in DIR". */
const char *st_writer_destination(const struct st_writer *w);

/* ---- encoding (exposed for tests) -------------------------------------------------------- */

/* CREATE statements for database db, valid on ClickHouse 18.16 and later. */
size_t st_schema_statements(const char *db, char out[][1024], size_t max);
/* Appends one RowBinary row of the flows / attack_events table (column order as the schema). */
void st_rowbinary_flow(struct wbuf *w, const struct flow_record *r);
void st_rowbinary_event(struct wbuf *w, const struct st_attack_event *ev);
/* The same for operator_events (without batch_id, which the writer appends). */
void st_rowbinary_operator_event(struct wbuf *w, const struct st_operator_event *ev);
/* One Native block of the rows of a RowBinary batch of that table (ClickHouse's Native format as
 * its HTTP interface reads it: varint columns, varint rows, then per column its name, its type
 * and its values back to back). pos: scratch of nrows entries, needed only for attack_events
 * (String columns); may be NULL for flows. -1 if the rows do not parse or out overflows. */
int st_native_block(struct wbuf *out, int table, const uint8_t *rows, size_t len, uint32_t nrows,
		    uint32_t *pos);

/* The SQL of the read-back's `flows ID` (dst within target, the top flows by sampled packets)
 * and `talkers HOST` (top sources and ports towards host) between from and to (UNIX seconds),
 * for a flows table whose addresses are FixedString(16) (v6 false: the 18.16 shape) or IPv6;
 * in readback_sql.c. tests/tools/chdb_storage.c runs them on ClickHouse 26.7. */
void st_readback_flows_sql(char *out, size_t outlen, const char *db, const ip_prefix *target, uint64_t from,
			   uint64_t to, uint64_t limit, bool v6);
void st_readback_talkers_sql(char *out, size_t outlen, const char *db, const ip_addr *host, uint64_t from,
			     uint64_t to, uint64_t limit, bool v6);

#endif
