/* Storage benchmark and integration driver: pushes numbered flow records (and some attack events)
 * through st_writer into ClickHouse or files, then prints what the writer reports on one
 * key=value line (pushed, dropped, written, lost, ..., rows_per_s). Exit status 1 when a row
 * pushed was neither written nor counted as dropped or lost (the writer lied), else 0.
 *
 * Every field of row i is a function of i (nth_flow), and packets == i, so SQL can check the
 * count, duplicates and the exact values of any row; --print-row I prints the values ClickHouse
 * must return for row I (see tests/integration/storage_clickhouse.sh for the query).
 *
 *   bench_storage [URL] [--url URL] [--db DB] [--dir DIR] [--rows N] [--first I] [--events E]
 *                 [--producers P] [--rate ROWS_PER_S | --prefill] [--queue Q] [--batch B]
 *                 [--wait S] [--spool DIR] [--spool-max BYTES] [--inflight K]
 *                 [--retention DAYS] [--format rowbinary|native] [--gzip] [--print-row I]
 *
 * e.g. bench_storage http://127.0.0.1:8123 --rows 1000000 --prefill --queue 1048576
 * Without a URL, rows go to files in --dir (default /tmp/rampart-bench-storage).
 *
 * --prefill queues every row before the writer starts (the rings must hold them) and times
 * the writer alone: rows / (start → all written). --rate paces the producers instead. --wait
 * bounds how long it waits for everything to be written before it calls st_writer_stop. */
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ip.h"
#include "storage/st.h"

#define BASE_NS 1700000000000000000ull

static void nth_flow(uint64_t i, struct flow_record *r)
{
	memset(r, 0, sizeof *r);
	r->start_ns = BASE_NS + i * 1000;
	r->end_ns = r->start_ns + 1000000;
	if (i % 10 == 9) { /* every tenth row IPv6 */
		uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff}, d[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x10};
		s[12] = (uint8_t)(i >> 24), s[13] = (uint8_t)(i >> 16), s[14] = (uint8_t)(i >> 8), s[15] = (uint8_t)i;
		d[15] = (uint8_t)(i % 100);
		ip_from_v6(&r->src, s);
		ip_from_v6(&r->dst, d);
		r->ip_version = 6;
	} else {
		ip_from_v4_u32(&r->src, 0x0a000000u + (uint32_t)(i & 0xffffff));
		ip_from_v4_u32(&r->dst, 0xc0000200u + (uint32_t)(i & 0xff));
		r->ip_version = 4;
	}
	ip_from_v4_u32(&r->exporter, 0x0aff0001u);
	r->packets = i;
	r->bytes = i * 100;
	r->sampling_rate = 1 + (uint32_t)(i % 1000);
	r->in_if = (uint32_t)(i % 10);
	r->out_if = (uint32_t)(i % 20);
	r->src_port = (uint16_t)i;
	r->dst_port = (uint16_t)(i * 7);
	r->vlan = (uint16_t)(i % 4096);
	r->protocol = (i % 2) ? 17 : 6;
	r->tcp_flags = (uint8_t)(i & 0x3f);
	r->tos = (uint8_t)(i >> 8);
	r->flags = (uint8_t)(i % 16);
	r->source = (uint8_t)(i % 5);
}

static void nth_event(uint64_t j, struct st_attack_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->time_ns = BASE_NS + j * 1000000000ull + 7;
	ev->attack_id = j;
	snprintf(ev->event, sizeof ev->event, "%s", j % 2 ? "unban" : "ban");
	if (j % 4 == 2) { /* some IPv6 targets: 2001:db8:ee::J/128 */
		uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xee};
		a[14] = (uint8_t)(j >> 8), a[15] = (uint8_t)j;
		ip_from_v6(&ev->target.addr, a);
		ev->target.len = 128;
	} else {
		uint8_t a[4] = {192, 0, 2, (uint8_t)j};
		ip_from_v4(&ev->target.addr, a);
		ev->target.len = 32;
	}
	ev->direction = (uint8_t)(j % 2);
	ev->manual = j % 3 == 0;
	snprintf(ev->hostgroup, sizeof ev->hostgroup, "group-%llu", (unsigned long long)(j % 4));
	snprintf(ev->trigger, sizeof ev->trigger, "udp_pps");
	ev->trigger_value = (double)j * 1.5;
	ev->trigger_limit = 1000;
	ev->pps = (double)j * 10;
	ev->bps = (double)j * 8000;
	ev->flows = 3.25;
	ev->ban_seconds = 600;
	snprintf(ev->action, sizeof ev->action, "blackhole");
	snprintf(ev->reason, sizeof ev->reason, "udp_pps %.1f > 1000 (attack %llu)", ev->trigger_value,
		 (unsigned long long)j);
}

static char *v6str(const ip_addr *a, char *buf)
{
	char tmp[IP_STRLEN];
	ip_format(a, tmp);
	sprintf(buf, "%s%s", ip_is_v4(a) ? "::ffff:" : "", tmp);
	return buf;
}

/* The TabSeparated line of storage_clickhouse.sh's row query. */
static void print_row(uint64_t i)
{
	struct flow_record r;
	nth_flow(i, &r);
	char s[64], d[64], e[64];
	time_t t = (time_t)(r.start_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	printf("%s\t%s\t%u\t%u\t%u\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%u\t%s\t%u\t%u\t%u\t%u\t%u\t%u\t%u\t%u\t"
	       "%04d-%02d-%02d\n",
	       v6str(&r.src, s), v6str(&r.dst, d), r.src_port, r.dst_port, r.protocol,
	       (unsigned long long)(r.start_ns / 1000000000ull), (unsigned long long)(r.start_ns % 1000000000ull),
	       (unsigned long long)(r.end_ns / 1000000000ull), (unsigned long long)(r.end_ns % 1000000000ull),
	       (unsigned long long)r.packets, (unsigned long long)r.bytes, r.sampling_rate, v6str(&r.exporter, e),
	       r.in_if, r.out_if, r.vlan, r.source, r.ip_version, r.tcp_flags, r.tos, r.flags, tm.tm_year + 1900,
	       tm.tm_mon + 1, tm.tm_mday);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct producer {
	pthread_t th;
	struct st_flow_producer *p;
	uint64_t first, count, stride; /* rows first, first+stride, ... count of them */
	double rate;                   /* rows/s for this producer; 0 = unpaced */
	uint64_t pushed;
};

static void *produce(void *arg)
{
	struct producer *pr = arg;
	struct flow_record r;
	double t0 = now_s();
	for (uint64_t k = 0; k < pr->count; k++) {
		if (pr->rate > 0 && (k & 255) == 0) {
			/* pace in steps of 256 rows: sleep until the schedule catches up */
			for (;;) {
				double due = (double)k / pr->rate - (now_s() - t0);
				if (due <= 0)
					break;
				nanosleep(&(struct timespec){.tv_nsec = due > 0.001 ? 1000000 : (long)(due * 1e9)}, NULL);
			}
		}
		nth_flow(pr->first + k * pr->stride, &r);
		st_push_flow(pr->p, &r);
		pr->pushed++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct st_config cfg;
	st_config_defaults(&cfg);
	snprintf(cfg.dir, sizeof cfg.dir, "/tmp/rampart-bench-storage");
	uint64_t rows = 1000000, first = 0, events = 100;
	unsigned producers = 1;
	double rate = 0;
	int prefill = 0;
	double wait_s = 120;
	static const struct option opts[] = {
		{"url", required_argument, 0, 'u'}, {"db", required_argument, 0, 'd'},
		{"dir", required_argument, 0, 'D'}, {"rows", required_argument, 0, 'n'},
		{"first", required_argument, 0, 'f'}, {"events", required_argument, 0, 'e'},
		{"producers", required_argument, 0, 'p'}, {"rate", required_argument, 0, 'r'},
		{"prefill", no_argument, 0, 'P'}, {"queue", required_argument, 0, 'q'},
		{"batch", required_argument, 0, 'b'}, {"print-row", required_argument, 0, 'R'},
		{"wait", required_argument, 0, 'w'}, {"spool", required_argument, 0, 'S'},
		{"spool-max", required_argument, 0, 'M'}, {"inflight", required_argument, 0, 'I'},
		{"retention", required_argument, 0, 'T'}, {"format", required_argument, 0, 'F'},
		{"gzip", no_argument, 0, 'z'},
		{0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': snprintf(cfg.clickhouse_url, sizeof cfg.clickhouse_url, "%s", optarg); break;
		case 'd': snprintf(cfg.database, sizeof cfg.database, "%s", optarg); break;
		case 'D': snprintf(cfg.dir, sizeof cfg.dir, "%s", optarg); break;
		case 'n': rows = strtoull(optarg, NULL, 10); break;
		case 'f': first = strtoull(optarg, NULL, 10); break;
		case 'e': events = strtoull(optarg, NULL, 10); break;
		case 'p': producers = (unsigned)atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'P': prefill = 1; break;
		case 'q': cfg.queue_rows = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'b': cfg.batch_rows = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': wait_s = atof(optarg); break;
		case 'S': snprintf(cfg.spool_dir, sizeof cfg.spool_dir, "%s", optarg); break;
		case 'M': cfg.spool_max_bytes = strtoull(optarg, NULL, 10); break;
		case 'I': cfg.posts_in_flight = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'T': cfg.retention_days = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'F': cfg.format = !strcmp(optarg, "native") ? ST_FORMAT_NATIVE : ST_FORMAT_ROWBINARY; break;
		case 'z': cfg.compression = ST_COMPRESSION_GZIP; break;
		case 'R': print_row(strtoull(optarg, NULL, 10)); return 0;
		default: fprintf(stderr, "usage: see the comment at the top of bench/bench_storage.c\n"); return 2;
		}
	}
	if (optind < argc)
		snprintf(cfg.clickhouse_url, sizeof cfg.clickhouse_url, "%s", argv[optind++]);
	if (optind < argc) {
		fprintf(stderr, "bench_storage: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (producers < 1 || producers > 16)
		return 2;
	char err[256];
	struct st_writer *w = st_writer_new(&cfg, producers, err, sizeof err);
	if (!w) {
		fprintf(stderr, "st_writer_new: %s\n", err);
		return 1;
	}
	fprintf(stderr, "bench_storage: %llu rows, %llu events to %s\n", (unsigned long long)rows,
		(unsigned long long)events, st_writer_destination(w));
	struct producer pr[16];
	for (unsigned k = 0; k < producers; k++)
		pr[k] = (struct producer){.p = st_writer_flow_producer(w, k), .first = first + k, .stride = producers,
					  .count = rows / producers + (k < rows % producers),
					  .rate = rate / producers};
	double t0;
	if (prefill) {
		for (unsigned k = 0; k < producers; k++)
			produce(&pr[k]);
		t0 = now_s();
		if (st_writer_start(w, err, sizeof err) != 0) {
			fprintf(stderr, "st_writer_start: %s\n", err);
			return 1;
		}
	} else {
		if (st_writer_start(w, err, sizeof err) != 0) {
			fprintf(stderr, "st_writer_start: %s\n", err);
			return 1;
		}
		t0 = now_s();
		for (unsigned k = 0; k < producers; k++)
			pthread_create(&pr[k].th, NULL, produce, &pr[k]);
	}
	/* rows an earlier run left in the spool count as spooled from the start */
	struct st_stats s0;
	st_writer_stats(w, &s0);
	uint64_t prior_flows = s0.flows_spooled, prior_events = s0.events_spooled;
	/* the main loop's events, spread over the run */
	struct st_attack_event ev;
	for (uint64_t j = 0; j < events; j++) {
		nth_event(first + j, &ev);
		st_push_event(w, &ev);
		if (!prefill)
			nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	if (!prefill)
		for (unsigned k = 0; k < producers; k++)
			pthread_join(pr[k].th, NULL);
	double t_pushed = now_s();
	/* wait for the writer to report everything written (batch_ms at most after the last row),
	 * or give up after --wait seconds and let stop() deal with the rest */
	struct st_stats s;
	for (;;) {
		st_writer_stats(w, &s);
		if (s.flows_written + s.flows_spool_dropped >= s.flows_queued + prior_flows &&
		    s.events_written + s.events_spool_dropped >= s.events_queued + prior_events)
			break;
		if (now_s() - t_pushed > wait_s)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	double t_done = now_s();
	st_writer_stop(w);
	double t_stopped = now_s();
	st_writer_stats(w, &s);
	uint64_t pushed = 0;
	for (unsigned k = 0; k < producers; k++)
		pushed += pr[k].pushed;
	printf("pushed=%llu queued=%llu dropped=%llu written=%llu lost=%llu events_pushed=%llu "
	       "events_written=%llu events_dropped=%llu batches_failed=%llu seconds=%.3f rows_per_s=%.0f\n",
	       (unsigned long long)pushed, (unsigned long long)s.flows_queued, (unsigned long long)s.flows_dropped,
	       (unsigned long long)s.flows_written, (unsigned long long)s.flows_lost, (unsigned long long)events,
	       (unsigned long long)s.events_written, (unsigned long long)s.events_dropped,
	       (unsigned long long)s.batches_failed, t_done - t0, (double)s.flows_written / (t_done - t0));
	printf("push_s=%.3f lag_s=%.3f stop_s=%.3f ", t_pushed - t0, t_done - t_pushed, t_stopped - t_done);
	printf("spooled=%llu replayed=%llu spool_dropped=%llu events_spooled=%llu events_replayed=%llu "
	       "spool_batches=%llu spool_bytes=%llu deduplicated=%llu\n",
	       (unsigned long long)s.flows_spooled, (unsigned long long)s.flows_replayed,
	       (unsigned long long)s.flows_spool_dropped, (unsigned long long)s.events_spooled,
	       (unsigned long long)s.events_replayed, (unsigned long long)s.spool_batches,
	       (unsigned long long)s.spool_bytes, (unsigned long long)s.batches_deduplicated);
	printf("insert_bytes=%llu insert_wire_bytes=%llu in_doubt=%llu events_in_doubt=%llu\n",
	       (unsigned long long)s.insert_bytes, (unsigned long long)s.insert_wire_bytes,
	       (unsigned long long)s.flows_in_doubt, (unsigned long long)s.events_in_doubt);
	if (s.last_error[0])
		printf("last_error=%s\n", s.last_error);
	st_writer_free(w);
	/* every row is accounted for: written, refused by a full ring or the spool's budget, given
	 * up at stop, still in the spool (rows an earlier run left there count as spooled), or in
	 * doubt (an unanswered insert ClickHouse was not back to tell about) */
	bool honest = s.flows_written + s.flows_dropped + s.flows_spool_dropped + s.flows_lost + s.flows_in_doubt +
				  (s.flows_spooled - s.flows_replayed) == pushed + prior_flows &&
		      s.events_written + s.events_dropped + s.events_spool_dropped + s.events_lost +
				  s.events_in_doubt + (s.events_spooled - s.events_replayed) == events + prior_events;
	if (!honest)
		fprintf(stderr, "bench_storage: rows unaccounted for\n");
	return honest ? 0 : 1;
}
