/* storage/samples.c: what a worker puts in its ring comes out, drained, as a real pcap file
 * that libpcap reads back: the right number of packets (capped per attack), the link type of the
 * source, nanosecond timestamps, the snap length; a full ring drops and counts; a file that cannot
 * be written is counted and costs nothing else. */
#include <limits.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/samples.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/rampart_attack_pcap.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static struct st_samples *make(const char *sub, uint32_t packets, uint32_t snaplen)
{
	struct st_samples_config cfg = {.enabled = true, .packets = packets, .snaplen = snaplen};
	snprintf(cfg.dir, sizeof cfg.dir, "%s/%s", dir, sub);
	char err[256] = "";
	struct st_samples *a = st_samples_new(&cfg, "/nonexistent", err, sizeof err);
	if (!a)
		fail_msg("st_samples_new: %s", err);
	return a;
}

/* An Ethernet frame of len bytes to dst, its bytes numbered from seed. */
static void frame(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
}

static struct flow_record rec(const char *src, const char *dst, uint64_t ts)
{
	struct flow_record r;
	memset(&r, 0, sizeof r);
	assert_true(ip_parse(src, &r.src));
	assert_true(ip_parse(dst, &r.dst));
	r.start_ns = r.end_ns = ts;
	r.packets = 1;
	return r;
}

static pcap_t *open_back(const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p)
		fail_msg("%s: %s", path, eb);
	return p;
}

/* Mirror frames: capped at `packets` per attack, cut to snaplen, timestamps to the ns. */
static void test_mirror_file(void **state)
{
	(void)state;
	struct st_samples *a = make("m", 5, 64);
	struct st_samples_producer *p = st_samples_producer(a, 0);
	assert_non_null(p);
	assert_ptr_equal(st_samples_producer(a, 0), p);
	uint8_t buf[8][100];
	const uint64_t t0 = 1700000002123456789ull;
	for (int i = 0; i < 8; i++) {
		frame(buf[i], sizeof buf[i], (uint8_t)(i * 16));
		struct flow_record r = rec("198.51.100.7", "192.0.2.10", t0 + (uint64_t)i * 1001);
		struct cap_frame f = {.data = buf[i], .caplen = sizeof buf[i], .len = 1514, .dlt = DLT_EN10MB};
		st_samples_sample(p, 7, DET_IN, &r, &f);
	}
	/* no frame (NetFlow): nothing, and no file */
	struct flow_record nf = rec("198.51.100.7", "192.0.2.11", t0);
	st_samples_sample(p, 9, DET_IN, &nf, NULL);
	struct cap_frame none = {.data = NULL};
	st_samples_sample(p, 9, DET_IN, &nf, &none);
	st_samples_drain(a, NULL, 0);

	struct st_samples_info pi;
	assert_true(st_samples_info(a, 7, &pi));
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/m/7-192.0.2.10.pcap", dir);
	assert_string_equal(pi.path, want);
	assert_int_equal(pi.packets, 5);
	assert_false(pi.open); /* closed at 5 */
	assert_false(st_samples_info(a, 9, &pi));
	snprintf(want, sizeof want, "%s/m/9-192.0.2.11.pcap", dir);
	assert_int_equal(access(want, F_OK), -1);

	struct st_samples_stats st;
	st_samples_stats(a, &st);
	assert_int_equal(st.written, 5);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.files_opened, 1);
	assert_int_equal(st.open, 0);

	snprintf(want, sizeof want, "%s/m/7-192.0.2.10.pcap", dir);
	pcap_t *pc = open_back(want);
	assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(pc), 64);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0;
	while (pcap_next_ex(pc, &h, &d) == 1) {
		assert_int_equal(h->caplen, 64);
		assert_int_equal(h->len, 1514);
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		assert_int_equal(ts, t0 + (uint64_t)n * 1001);
		assert_memory_equal(d, buf[n], 64);
		n++;
	}
	assert_int_equal(n, 5);
	pcap_close(pc);
	st_samples_free(a);
}

/* sFlow raw IP headers: a raw-IP file; an outgoing attack is named by its source; a frame shorter
 * than snaplen is kept whole; a sample of another link type for the same attack is skipped. */
static void test_sflow_raw_outgoing(void **state)
{
	(void)state;
	struct st_samples *a = make("s", 100, 256);
	struct st_samples_producer *p = st_samples_producer(a, 3);
	uint8_t ip[40];
	frame(ip, sizeof ip, 0x45);
	struct flow_record r = rec("2001:db8:10::53", "2001:db8:ff::1", 1700000000000000001ull);
	struct cap_frame f = {.data = ip, .caplen = sizeof ip, .len = 1280, .dlt = DLT_RAW};
	st_samples_sample(p, 12, DET_OUT, &r, &f);
	st_samples_sample(p, 12, DET_OUT, &r, &f);
	struct cap_frame eth = {.data = ip, .caplen = sizeof ip, .len = 60, .dlt = DLT_EN10MB};
	st_samples_sample(p, 12, DET_OUT, &r, &eth);
	st_samples_drain(a, NULL, 0);
	struct st_samples_info pi;
	assert_true(st_samples_info(a, 12, &pi));
	assert_int_equal(pi.packets, 2);
	assert_true(pi.open); /* 2 of 100: still collecting */
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/s/12-2001:db8:10::53.pcap", dir);
	assert_string_equal(pi.path, want);
	struct st_samples_stats st;
	st_samples_stats(a, &st);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.open, 1);
	st_samples_free(a); /* closes it */
	pcap_t *pc = open_back(want);
	assert_int_equal(pcap_datalink(pc), DLT_RAW);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0;
	while (pcap_next_ex(pc, &h, &d) == 1) {
		assert_int_equal(h->caplen, sizeof ip);
		assert_int_equal(h->len, 1280);
		assert_memory_equal(d, ip, sizeof ip);
		n++;
	}
	assert_int_equal(n, 2);
	pcap_close(pc);
}

/* A ring is bounded: with the largest snaplen it holds 64 slots; the 65th sample before a drain
 * is dropped and counted, and the drained ones are all written. */
static void test_ring_full(void **state)
{
	(void)state;
	struct st_samples *a = make("f", 100000, 65535);
	struct st_samples_producer *p = st_samples_producer(a, 0);
	static uint8_t big[9000];
	frame(big, sizeof big, 1);
	struct flow_record r = rec("198.51.100.1", "192.0.2.20", 1700000000000000000ull);
	struct cap_frame f = {.data = big, .caplen = sizeof big, .len = sizeof big, .dlt = DLT_EN10MB};
	for (int i = 0; i < 70; i++)
		st_samples_sample(p, 3, DET_IN, &r, &f);
	struct st_samples_stats st;
	st_samples_stats(a, &st);
	assert_int_equal(st.dropped, 6);
	st_samples_drain(a, NULL, 0);
	st_samples_stats(a, &st);
	assert_int_equal(st.written, 64);
	/* drained: room again */
	st_samples_sample(p, 3, DET_IN, &r, &f);
	st_samples_drain(a, NULL, 0);
	struct st_samples_info pi;
	assert_true(st_samples_info(a, 3, &pi));
	assert_int_equal(pi.packets, 65);
	st_samples_free(a);
}

/* A directory that cannot exist (its parent is a file): counted as an error, the attack has no
 * file, nothing else breaks. */
static void test_unwritable(void **state)
{
	(void)state;
	char file[PATH_MAX];
	snprintf(file, sizeof file, "%s/plain", dir);
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	struct st_samples *a = make("plain/sub", 10, 128);
	struct st_samples_producer *p = st_samples_producer(a, 0);
	uint8_t b[60] = {0};
	struct flow_record r = rec("198.51.100.1", "192.0.2.30", 1);
	struct cap_frame f = {.data = b, .caplen = sizeof b, .len = sizeof b, .dlt = DLT_EN10MB};
	for (int i = 0; i < 3; i++)
		st_samples_sample(p, 4, DET_IN, &r, &f);
	st_samples_drain(a, NULL, 0);
	struct st_samples_stats st;
	st_samples_stats(a, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.skipped, 3);
	struct st_samples_info pi;
	assert_false(st_samples_info(a, 4, &pi));
	st_samples_free(a);
}

/* Off: no object, and every call takes NULL. The path for notifications: hosts only. */
static void test_off_and_path(void **state)
{
	(void)state;
	struct st_samples_config off = {.enabled = false, .packets = 500, .snaplen = 256};
	char err[64];
	assert_null(st_samples_new(&off, "/var/lib/rampart", err, sizeof err));
	assert_null(st_samples_producer(NULL, 0));
	st_samples_drain(NULL, NULL, 0);
	struct st_samples_info pi;
	assert_false(st_samples_info(NULL, 1, &pi));
	char buf[PATH_MAX];
	ip_prefix host, net;
	assert_true(ip_prefix_parse("192.0.2.10/32", &host));
	assert_true(ip_prefix_parse("192.0.2.0/24", &net));
	assert_string_equal(st_samples_path(NULL, 1, &host, buf, sizeof buf), "");

	struct st_samples_config on = {.enabled = true, .packets = 500, .snaplen = 256};
	char sd[PATH_MAX];
	snprintf(sd, sizeof sd, "%s/state", dir);
	struct st_samples *a = st_samples_new(&on, sd, err, sizeof err);
	assert_non_null(a);
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/state/attacks", dir);
	assert_string_equal(st_samples_dir(a), want);
	assert_int_equal(access(want, W_OK), 0); /* made at start, parent included */
	snprintf(want, sizeof want, "%s/state/attacks/42-192.0.2.10.pcap", dir);
	assert_string_equal(st_samples_path(a, 42, &host, buf, sizeof buf), want);
	assert_string_equal(st_samples_path(a, 43, &net, buf, sizeof buf), "");
	st_samples_free(a);
}

static void no_event(void *ctx, const struct det_event *ev)
{
	(void)ctx;
	(void)ev;
}

/* detect/'s det_counters_attack_of, through the real counters -> merge -> tick path: 0 while
 * nothing is under attack; once the engine has handed the counters its set of hosts under attack,
 * the attack's id for a record to the victim (incoming), and only in the attack's direction. */
static void test_attack_of(void **state)
{
	(void)state;
	struct det_config cfg;
	det_config_defaults(&cfg);
	ip_prefix nets[1], self;
	assert_true(ip_prefix_parse("192.0.2.0/24", &nets[0]));
	struct det_hostgroup g[1];
	memset(g, 0, sizeof g);
	snprintf(g[0].name, sizeof g[0].name, "default");
	g[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 100;
	cfg.networks = nets, cfg.n_networks = 1;
	cfg.groups = g, cfg.n_groups = 1;
	cfg.max_hosts = 1024;
	struct det_networks *n = det_networks_new(&cfg);
	struct det_engine *e = det_engine_new(&cfg, n);
	struct det_counters *c = det_counters_new(n, 1024);
	assert_non_null(c);
	struct flow_record in = rec("198.51.100.9", "192.0.2.10", 0), out = rec("192.0.2.10", "198.51.100.9", 0),
			   other = rec("198.51.100.9", "192.0.2.11", 0);
	enum det_direction dir = DET_OUT;
	assert_int_equal(det_counters_attack_of(c, &in, &dir), 0);
	uint64_t now = 1700000000ull * 1000000000ull;
	for (int t = 0; t < 30; t++) { /* 1000 pps to .10 for 3 s */
		in.start_ns = in.end_ns = now;
		for (int i = 0; i < 100; i++)
			det_counters_add(c, &in, 0);
		det_engine_merge(e, c);
		det_counters_clear(c);
		now += 100000000ull;
		det_engine_tick(e, now, no_event, NULL);
	}
	det_engine_merge(e, c); /* hands c the current set */
	struct det_ban_info b[4];
	assert_int_equal(det_engine_attacks(e, b, 4), 1);
	ip_prefix_host(&self, &in.dst);
	assert_true(ip_prefix_equal(&b[0].target, &self));
	assert_int_equal(det_counters_attack_of(c, &in, &dir), b[0].attack_id);
	assert_int_equal(dir, DET_IN);
	assert_int_equal(det_counters_attack_of(c, &out, &dir), 0); /* .10 sending: not the attack's direction */
	assert_int_equal(det_counters_attack_of(c, &other, &dir), 0);
	det_counters_free(c);
	det_engine_free(e);
	det_networks_free(n);
}

/* touch DIR/r/NAME (a file, mtime age_days ago) */
static void put(const char *name, int age_days)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/r/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= (time_t)age_days * 86400;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool there(const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/r/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* Retention: older than keep_days goes, then the oldest attacks past max_files; a file still
 * collecting samples and anything that is not a sample file stay. */
static void test_retention(void **state)
{
	(void)state;
	char sub[128]; /* fits cfg.dir */
	snprintf(sub, sizeof sub, "%s/r", dir);
	assert_int_equal(mkdir(sub, 0750), 0);
	put("1-192.0.2.1.pcap", 40); /* past keep_days */
	put("2-192.0.2.2.pcap", 29);
	put("3-192.0.2.3.pcap", 1);
	put("4-2001:db8:10::4.pcap", 0);
	put("notes.txt", 400);
	put("x-1.pcap", 400);
	put("5-192.0.2.5.txt", 400);
	put("-192.0.2.6.pcap", 400);
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s/r/6-dir.pcap", dir);
	assert_int_equal(mkdir(d, 0750), 0);

	struct st_samples_config cfg = {.enabled = true, .packets = 100, .snaplen = 64, .keep_days = 30, .max_files = 2};
	snprintf(cfg.dir, sizeof cfg.dir, "%s", sub);
	char err[256] = "";
	struct st_samples *a = st_samples_new(&cfg, "/nonexistent", err, sizeof err); /* sweeps at start */
	assert_non_null(a);
	assert_false(there("1-192.0.2.1.pcap")); /* 40 days old */
	assert_false(there("2-192.0.2.2.pcap")); /* the oldest attack of three, max_files 2 */
	assert_true(there("3-192.0.2.3.pcap"));
	assert_true(there("4-2001:db8:10::4.pcap"));
	assert_true(there("notes.txt") && there("x-1.pcap") && there("5-192.0.2.5.txt") && there("-192.0.2.6.pcap"));
	assert_true(there("6-dir.pcap"));
	struct st_samples_stats st;
	st_samples_stats(a, &st);
	assert_int_equal(st.files_deleted, 2);

	/* attack 7 collecting (its file open), then 8 and 9 made: 3, 4, 8 go; 7 stays although it is
	 * older than 8 and 9 */
	struct st_samples_producer *p = st_samples_producer(a, 0);
	uint8_t buf[100];
	frame(buf, sizeof buf, 1);
	struct flow_record r = rec("198.51.100.7", "192.0.2.7", 1700000000000000000ull);
	struct cap_frame f = {.data = buf, .caplen = sizeof buf, .len = sizeof buf, .dlt = DLT_EN10MB};
	st_samples_sample(p, 7, DET_IN, &r, &f);
	st_samples_drain(a, NULL, 0);
	assert_true(there("7-192.0.2.7.pcap"));
	put("8-192.0.2.8.pcap", 0);
	put("9-192.0.2.9.pcap", 0);
	st_samples_sweep(a, time(NULL));
	assert_false(there("3-192.0.2.3.pcap"));
	assert_false(there("4-2001:db8:10::4.pcap"));
	assert_false(there("8-192.0.2.8.pcap"));
	assert_true(there("7-192.0.2.7.pcap"));
	assert_true(there("9-192.0.2.9.pcap"));
	st_samples_stats(a, &st);
	assert_int_equal(st.files_deleted, 5);
	assert_int_equal(st.errors, 0);
	struct st_samples_info pi;
	assert_true(st_samples_info(a, 7, &pi));

	/* once 7 is closed it is an old attack like any other: with 10 made, 7 goes */
	st_samples_free(a);
	put("10-192.0.2.10.pcap", 0);
	a = st_samples_new(&cfg, "/nonexistent", err, sizeof err);
	assert_non_null(a);
	assert_false(there("7-192.0.2.7.pcap"));
	assert_true(there("9-192.0.2.9.pcap") && there("10-192.0.2.10.pcap"));

	/* keep_days 0 and max_files 0: nothing is ever deleted */
	st_samples_free(a);
	put("11-192.0.2.11.pcap", 4000);
	cfg.keep_days = 0;
	cfg.max_files = 0;
	a = st_samples_new(&cfg, "/nonexistent", err, sizeof err);
	assert_non_null(a);
	assert_true(there("9-192.0.2.9.pcap") && there("10-192.0.2.10.pcap") && there("11-192.0.2.11.pcap"));
	st_samples_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_file),
		cmocka_unit_test(test_sflow_raw_outgoing),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_unwritable),
		cmocka_unit_test(test_off_and_path),
		cmocka_unit_test(test_attack_of),
		cmocka_unit_test(test_retention),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
