/* capture/source.h: the source interface. A sampled replay (sample: 10) keeps 1 frame in 10 of
 * the shared capture, each record carrying sampling_rate 10 so the counted packets add back up
 * to the capture's 21 000, and counts the rest as sampled out. The AF_PACKET source names the
 * configuration key and the reason for a missing interface; on the loopback of a fresh network
 * namespace two fanout members (hash) split 200 flows between them, each frame read once by one
 * member with the ring's timestamp, nothing dropped, and a quiet ring gives control back within
 * its 100 ms wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/source.h"

static const char *find_shared(char *buf, size_t len)
{
	const char *env = getenv("RAMPART_DATA");
	const char *dirs[] = {env, "../shared/data", "../../shared/data"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!dirs[i])
			continue;
		snprintf(buf, len, "%s/mirror-attack-mix.pcap", dirs[i]);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

struct tally {
	uint64_t records, scaled_packets, wrong_rate;
};

static void count(void *ctx, const struct flow_record *r)
{
	struct tally *t = ctx;
	t->records++;
	t->scaled_packets += r->packets * r->sampling_rate;
	if (r->sampling_rate != 10)
		t->wrong_rate++;
}

static void test_sampled_replay(void **state)
{
	(void)state;
	char path[512];
	if (!find_shared(path, sizeof path)) {
		fprintf(stderr, "SKIP: shared capture not found\n");
		skip();
	}
	struct cap_src_spec spec = {.kind = CAP_SRC_PCAP_FILE, .key = "--pcap", .name = path, .sample = 10};
	char err[256] = "";
	struct cap_src *s = cap_src_open(&spec, err, sizeof err);
	assert_non_null(s);
	assert_false(cap_src_live(s));
	struct tally t = {0};
	while (cap_src_dispatch(s, 512, count, &t, err, sizeof err) > 0)
		;
	struct cap_src_stats st;
	cap_src_stats(s, &st);
	assert_int_equal(st.frames, 21000);
	assert_int_equal(t.records, 2100);
	assert_int_equal(st.decode[CAP_DECODE_OK], 2100);
	assert_int_equal(st.sampled_out, 18900);
	assert_int_equal(t.wrong_rate, 0);
	assert_int_equal(t.scaled_packets, 21000);
	cap_src_close(s);
}

static void test_afpacket_missing_interface(void **state)
{
	(void)state;
	struct cap_src_spec spec = {.kind = CAP_SRC_AFPACKET, .key = "capture.afpacket.interfaces", .name = "nosuch0",
				    .members = 1, .ring_mb = 4, .block_kb = 64};
	char err[256] = "";
	assert_null(cap_src_open(&spec, err, sizeof err));
	assert_non_null(strstr(err, "capture.afpacket.interfaces: nosuch0: no such interface"));
}

struct live {
	uint16_t port;
	uint64_t seen, bad_ts;
	uint16_t first_src_port;
};

static void on_live(void *ctx, const struct flow_record *r)
{
	struct live *l = ctx;
	if (r->protocol != 17 || r->dst_port != l->port)
		return;
	l->seen++;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t wall = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (r->start_ns > wall || wall - r->start_ns > 5000000000ull)
		l->bad_ts++;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define FLOWS 200

/* In a child, in its own network namespace: returns 0, 77 (not root: skip) or the failed step. */
static int fanout_child(void)
{
	if (unshare(CLONE_NEWNET) != 0)
		return 77;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return 2;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		return 3;
	char err[256];
	struct cap_src *m[2];
	for (unsigned i = 0; i < 2; i++) {
		struct cap_src_spec spec = {.kind = CAP_SRC_AFPACKET, .key = "capture.afpacket.interfaces", .name = "lo",
					    .member = i, .members = 2, .fanout = CAP_FANOUT_HASH, .ring_mb = 4,
					    .block_kb = 64, .sample = 1};
		if (!(m[i] = cap_src_open(&spec, err, sizeof err))) {
			fprintf(stderr, "%s\n", err);
			return 4;
		}
	}
	if (strcmp(cap_src_name(m[1]), "afpacket lo #2") != 0 || !cap_src_live(m[0]))
		return 5;
	/* quiet: nothing sent yet, so a read waits its 100 ms and returns 0 */
	struct live l[2] = {{0}, {0}};
	uint64_t t0 = mono_ms();
	if (cap_src_dispatch(m[0], 64, on_live, &l[0], err, sizeof err) != 0)
		return 6;
	uint64_t took = mono_ms() - t0;
	if (took < 50 || took > 1000)
		return 7;
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9999)};
	if (rx < 0 || bind(rx, (struct sockaddr *)&a, sizeof a) != 0)
		return 8;
	l[0].port = l[1].port = 9999;
	for (int i = 0; i < FLOWS; i++) { /* one socket per source port: 200 flows */
		int tx = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					.sin_port = htons((uint16_t)(20000 + i))};
		if (tx < 0 || bind(tx, (struct sockaddr *)&b, sizeof b) != 0 ||
		    sendto(tx, "rampart", 7, 0, (struct sockaddr *)&a, sizeof a) != 7)
			return 9;
		close(tx);
	}
	/* loopback shows each datagram twice (sent and received), to the same member */
	t0 = mono_ms();
	while (l[0].seen + l[1].seen < 2 * FLOWS && mono_ms() - t0 < 3000)
		for (unsigned i = 0; i < 2; i++)
			if (cap_src_dispatch(m[i], 512, on_live, &l[i], err, sizeof err) < 0)
				return 10;
	if (l[0].seen + l[1].seen != 2 * FLOWS) {
		fprintf(stderr, "seen %llu + %llu\n", (unsigned long long)l[0].seen, (unsigned long long)l[1].seen);
		return 11;
	}
	if (l[0].seen == 0 || l[1].seen == 0) /* the hash split 200 flows between the two */
		return 12;
	if (l[0].bad_ts || l[1].bad_ts)
		return 13;
	for (unsigned i = 0; i < 2; i++) {
		struct cap_src_stats st;
		cap_src_stats(m[i], &st);
		if (st.ring_drops || st.kernel_drops || st.bad_blocks || st.frames < l[i].seen)
			return 14;
		cap_src_close(m[i]);
	}
	return 0;
}

static void test_afpacket_fanout_loopback(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		_exit(fanout_child());
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		fprintf(stderr, "SKIP: needs root for a network namespace\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sampled_replay),
		cmocka_unit_test(test_afpacket_missing_interface),
		cmocka_unit_test(test_afpacket_fanout_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
