/* capture/pcap.c: the shared mirror capture replayed through the libpcap source must give what
 * tshark sees in it; every link type the source accepts (Ethernet, raw IP, Linux cooked v1/v2)
 * decodes, bad frames are counted per kind and skipped, an unsupported link type and a missing
 * file are clear errors, recorded-speed replay keeps the capture's pace, and a live capture on
 * the loopback interface sees a datagram sent to it. */
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
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture/cap.h"

#define SHARED_PCAP "mirror-attack-mix.pcap"

/* The shared data lives beside the repository (../shared/data from the repo root, which is where
 * tests run); a worktree one level deeper (/work/wt/NAME) finds it at ../../shared/data.
 * RAMPART_DATA overrides both. */
static const char *find_shared(char *buf, size_t len)
{
	const char *env = getenv("RAMPART_DATA");
	const char *dirs[] = {env, "../shared/data", "../../shared/data"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!dirs[i])
			continue;
		snprintf(buf, len, "%s/%s", dirs[i], SHARED_PCAP);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

struct tally {
	uint64_t records, v4, v6, tcp, udp, icmp, other_proto;
	uint64_t vlan100, syn_only, ack_only, frag, later_frag, ntp_src, udp53_v6, icmp_echo;
	uint64_t bytes, first_ts, prev_ts, ts_backwards;
	uint64_t bad_fields; /* fields the decoder contract fixes for mirror packets */
};

static void count(void *ctx, const struct flow_record *r)
{
	struct tally *t = ctx;
	t->records++;
	if (t->records == 1)
		t->first_ts = r->start_ns;
	if (r->start_ns < t->prev_ts)
		t->ts_backwards++;
	t->prev_ts = r->start_ns;
	if (r->packets != 1 || r->sampling_rate != 1 || r->source != FLOW_SRC_MIRROR ||
	    r->start_ns != r->end_ns)
		t->bad_fields++;
	t->bytes += r->bytes;
	t->v4 += r->ip_version == 4;
	t->v6 += r->ip_version == 6;
	switch (r->protocol) {
	case IPPROTO_TCP:
		t->tcp++;
		t->syn_only += r->tcp_flags == TCP_SYN;
		t->ack_only += r->tcp_flags == TCP_ACK;
		break;
	case IPPROTO_UDP:
		t->udp++;
		t->ntp_src += r->src_port == 123;
		t->udp53_v6 += r->ip_version == 6 && r->dst_port == 53;
		break;
	case IPPROTO_ICMP:
		t->icmp++;
		t->icmp_echo += r->dst_port == (8 << 8 | 0);
		break;
	default:
		t->other_proto++;
	}
	t->vlan100 += r->vlan == 100;
	t->frag += (r->flags & FLOW_F_FRAGMENT) != 0;
	t->later_frag += (r->flags & FLOW_F_LATER_FRAGMENT) != 0;
}

static int drain(struct cap_pcap *p, struct tally *t, int max)
{
	char err[256];
	int calls = 0, n;
	while ((n = cap_pcap_dispatch(p, max, count, t, err, sizeof err)) > 0) {
		assert_true(n <= max);
		calls++;
	}
	assert_int_equal(n, -1);
	assert_non_null(strstr(err, "end of capture file"));
	return calls;
}

/* Expected values from tshark 4.0 (Debian 12) on the same file:
 *   capinfos -c                                     -> 21000 frames
 *   tshark -Y ip | wc -l / -Y ipv6                  -> 17250 / 3750
 *   tshark -T fields -e ip.proto -e ipv6.nxt | sort | uniq -c
 *                                                   -> 6: 6740, 17: 7510 (v4) + 3750 (v6), 1: 3000
 *   tshark -Y vlan.id==100                          -> 6250
 *   tshark -T fields -e tcp.flags | sort | uniq -c  -> 0x0002: 6250, 0x0010: 490
 *   tshark -Y ip.flags.mf==1 / ip.frag_offset>0     -> 2000 / 0
 *   tshark -Y udp.srcport==123                      -> 5000
 *   tshark -Y icmp -e icmp.type -e icmp.code        -> 8/0: 3000
 *   sum of ip.len, and ipv6.plen + 40               -> 5337753 + 405000 = 5742753 bytes
 *   frame.time_epoch first / last                   -> 1700000000.040397000 / 1700000009.999886000
 * They agree with /work/shared/data/README.md (5000 NTP, 6250 SYN in VLAN 100, 3000 ICMP, 3750
 * IPv6 UDP 53, 2000 fragments, 1000 background frames). tshark shows the 2000 first fragments as
 * "data" (it cannot reassemble them) but their IP protocol is UDP, and the decoder reads the ports
 * of a first fragment, so they count as UDP here. */
static void test_shared_capture_matches_tshark(void **state)
{
	(void)state;
	char path[512];
	if (!find_shared(path, sizeof path)) {
		fprintf(stderr, "SKIP: %s not found in $RAMPART_DATA, ../shared/data or "
				"../../shared/data (run from the repo root)\n", SHARED_PCAP);
		skip();
	}
	char err[256] = "";
	struct cap_pcap *p = cap_pcap_open_offline(path, CAP_SPEED_MAX, err, sizeof err);
	assert_non_null(p);
	assert_int_equal(cap_pcap_last_ts(p), 0);
	struct tally t = {0};
	int calls = drain(p, &t, 512);
	assert_int_equal(calls, (21000 + 511) / 512);

	struct cap_pcap_stats st;
	cap_pcap_stats(p, &st);
	assert_int_equal(st.frames, 21000);
	assert_int_equal(st.decode[CAP_DECODE_OK], 21000);
	assert_int_equal(st.decode[CAP_DECODE_TRUNCATED], 0);
	assert_int_equal(st.decode[CAP_DECODE_MALFORMED], 0);
	assert_int_equal(st.decode[CAP_DECODE_NOT_IP], 0);
	assert_int_equal(st.kernel_drops, 0);

	assert_int_equal(t.records, 21000);
	assert_int_equal(t.bad_fields, 0);
	assert_int_equal(t.v4, 17250);
	assert_int_equal(t.v6, 3750);
	assert_int_equal(t.tcp, 6740);
	assert_int_equal(t.udp, 7510 + 3750);
	assert_int_equal(t.icmp, 3000);
	assert_int_equal(t.other_proto, 0);
	assert_int_equal(t.vlan100, 6250);
	assert_int_equal(t.syn_only, 6250);
	assert_int_equal(t.ack_only, 490);
	assert_int_equal(t.frag, 2000);
	assert_int_equal(t.later_frag, 0);
	assert_int_equal(t.ntp_src, 5000);
	assert_int_equal(t.udp53_v6, 3750);
	assert_int_equal(t.icmp_echo, 3000);
	assert_int_equal(t.bytes, 5742753);
	assert_int_equal(t.ts_backwards, 0);
	assert_int_equal(t.first_ts, 1700000000040397000ull);
	assert_int_equal(cap_pcap_last_ts(p), 1700000009999886000ull);

	/* the end stays the end */
	assert_int_equal(cap_pcap_dispatch(p, 512, count, &t, err, sizeof err), -1);
	assert_int_equal(t.records, 21000);
	cap_pcap_close(p);
}

/* ---- small captures written here ---------------------------------------------------------- */

/* IPv4 / UDP 198.51.100.7:123 -> 192.0.2.10:4444, 8 bytes payload: 36 bytes */
static const uint8_t IP_UDP[] = {
	0x45, 0x00, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 198, 51, 100, 7,
	192,  0,    2,    10,   0x00, 0x7b, 0x11, 0x5c, 0x00, 0x10, 0x00, 0x00, 1,   2,  3,   4,
	5,    6,    7,    8,
};
static const uint8_t MACS[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};

struct pkt {
	uint8_t b[128];
	size_t len;
	uint64_t ts_us;
};

static void put(struct pkt *k, const void *p, size_t n)
{
	if (n == 0) /* raw IP has no link header: p is NULL */
		return;
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void write_pcap(const char *path, int dlt, const struct pkt *pk, size_t n)
{
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	assert_non_null(dead);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)pk[i].len, .len = (bpf_u_int32)pk[i].len};
		h.ts.tv_sec = (time_t)(pk[i].ts_us / 1000000);
		h.ts.tv_usec = (suseconds_t)(pk[i].ts_us % 1000000);
		pcap_dump((u_char *)d, &h, pk[i].b);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static void tmp_path(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/rampart-test-pcap-%d-%s.pcap", (int)getpid(), tag);
}

static struct cap_pcap *open_file(const char *path, enum cap_pcap_speed speed)
{
	char err[256] = "";
	struct cap_pcap *p = cap_pcap_open_offline(path, speed, err, sizeof err);
	if (!p)
		fprintf(stderr, "open %s: %s\n", path, err);
	assert_non_null(p);
	return p;
}

/* Ethernet: one good frame, ARP, a truncated IPv4 header, IHL 3: one of each result. */
static void test_bad_frames_counted_per_kind(void **state)
{
	(void)state;
	static const uint8_t et_ip[2] = {0x08, 0x00}, et_arp[2] = {0x08, 0x06};
	static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
	struct pkt pk[4] = {{.ts_us = 1000001}, {.ts_us = 1000002}, {.ts_us = 1000003}, {.ts_us = 1000004}};
	put(&pk[0], MACS, 12), put(&pk[0], et_ip, 2), put(&pk[0], IP_UDP, sizeof IP_UDP);
	put(&pk[1], MACS, 12), put(&pk[1], et_arp, 2), put(&pk[1], arp, sizeof arp);
	put(&pk[2], MACS, 12), put(&pk[2], et_ip, 2), put(&pk[2], IP_UDP, 10);
	put(&pk[3], MACS, 12), put(&pk[3], et_ip, 2), put(&pk[3], IP_UDP, sizeof IP_UDP);
	pk[3].b[14] = 0x43; /* IHL 3 */
	char path[128];
	tmp_path(path, sizeof path, "bad");
	write_pcap(path, DLT_EN10MB, pk, 4);

	struct cap_pcap *p = open_file(path, CAP_SPEED_MAX);
	struct tally t = {0};
	drain(p, &t, 1); /* one frame per call: dispatch must honour max */
	struct cap_pcap_stats st;
	cap_pcap_stats(p, &st);
	assert_int_equal(st.frames, 4);
	assert_int_equal(st.decode[CAP_DECODE_OK], 1);
	assert_int_equal(st.decode[CAP_DECODE_NOT_IP], 1);
	assert_int_equal(st.decode[CAP_DECODE_TRUNCATED], 1);
	assert_int_equal(st.decode[CAP_DECODE_MALFORMED], 1);
	assert_int_equal(t.records, 1);
	assert_int_equal(t.ntp_src, 1);
	/* the last frame read sets the clock even when it did not decode */
	assert_int_equal(cap_pcap_last_ts(p), 1000004000ull);
	cap_pcap_close(p);
	unlink(path);
}

/* The same IPv4 datagram behind each link header the source accepts. */
static void check_link(int dlt, const uint8_t *hdr, size_t hlen, const char *tag)
{
	struct pkt pk[2] = {{.ts_us = 5000000}, {.ts_us = 5000001}};
	put(&pk[0], hdr, hlen), put(&pk[0], IP_UDP, sizeof IP_UDP);
	put(&pk[1], hdr, hlen > 4 ? hlen - 4 : 0); /* link header cut short (or a bare empty frame) */
	char path[128];
	tmp_path(path, sizeof path, tag);
	write_pcap(path, dlt, pk, 2);
	struct cap_pcap *p = open_file(path, CAP_SPEED_MAX);
	struct tally t = {0};
	drain(p, &t, 16);
	struct cap_pcap_stats st;
	cap_pcap_stats(p, &st);
	assert_int_equal(st.frames, 2);
	assert_int_equal(st.decode[CAP_DECODE_OK], 1);
	assert_int_equal(st.decode[CAP_DECODE_TRUNCATED], 1);
	assert_int_equal(t.records, 1);
	assert_int_equal(t.v4, 1);
	assert_int_equal(t.udp, 1);
	assert_int_equal(t.ntp_src, 1);
	assert_int_equal(t.bytes, sizeof IP_UDP);
	assert_int_equal(t.first_ts, 5000000000ull);
	cap_pcap_close(p);
	unlink(path);
}

static void test_link_types(void **state)
{
	(void)state;
	static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
	/* SLL: packet type, ARPHRD, address length, 8 address bytes, protocol */
	static const uint8_t sll[16] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
	/* SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes */
	static const uint8_t sll2[20] = {0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
	check_link(DLT_EN10MB, eth, sizeof eth, "eth");
	check_link(DLT_LINUX_SLL, sll, sizeof sll, "sll");
	check_link(276 /* DLT_LINUX_SLL2 */, sll2, sizeof sll2, "sll2");
	check_link(DLT_RAW, NULL, 0, "raw");
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(cap_pcap_open_offline("/nonexistent/rampart.pcap", CAP_SPEED_MAX, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/rampart.pcap"));

	struct pkt pk = {.ts_us = 1};
	put(&pk, IP_UDP, sizeof IP_UDP);
	char path[128];
	tmp_path(path, sizeof path, "dlt");
	write_pcap(path, 147 /* DLT_USER0 */, &pk, 1);
	err[0] = 0;
	assert_null(cap_pcap_open_offline(path, CAP_SPEED_MAX, err, sizeof err));
	assert_non_null(strstr(err, "not supported"));
	assert_non_null(strstr(err, path));
	unlink(path);

	err[0] = 0;
	assert_null(cap_pcap_open_live("rampart-no-such-if0", err, sizeof err));
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "rampart-no-such-if0"));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Three frames 150 ms apart in capture time: recorded speed takes >= 300 ms, max speed far less. */
static void test_recorded_speed_keeps_pace(void **state)
{
	(void)state;
	struct pkt pk[3];
	for (int i = 0; i < 3; i++) {
		pk[i] = (struct pkt){.ts_us = 7000000 + (uint64_t)i * 150000};
		put(&pk[i], IP_UDP, sizeof IP_UDP);
	}
	char path[128];
	tmp_path(path, sizeof path, "pace");
	write_pcap(path, DLT_RAW, pk, 3);

	struct tally t = {0};
	uint64_t t0 = mono_ms();
	struct cap_pcap *p = open_file(path, CAP_SPEED_RECORDED);
	drain(p, &t, 16);
	uint64_t paced = mono_ms() - t0;
	cap_pcap_close(p);
	assert_int_equal(t.records, 3);
	assert_true(paced >= 295);
	assert_true(paced < 2000);

	t0 = mono_ms();
	p = open_file(path, CAP_SPEED_MAX);
	drain(p, &t, 16);
	uint64_t flat = mono_ms() - t0;
	cap_pcap_close(p);
	assert_int_equal(t.records, 6);
	assert_true(flat < 100);
	unlink(path);
}

struct live {
	uint16_t port;
	uint64_t seen;
};

static void on_live(void *ctx, const struct flow_record *r)
{
	struct live *l = ctx;
	if (r->protocol == IPPROTO_UDP && r->dst_port == l->port && r->ip_version == 4)
		l->seen++;
}

/* Live on loopback (root only): a quiet read returns within the timeout, and a datagram we send
 * to 127.0.0.1 comes back as a record. */
static void test_live_loopback(void **state)
{
	(void)state;
	char err[256] = "";
	struct cap_pcap *p = cap_pcap_open_live("lo", err, sizeof err);
	if (!p) {
		fprintf(stderr, "SKIP: live capture on lo: %s\n", err);
		skip();
	}
	/* a receiving socket on an ephemeral port: no one else sends there */
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 0 && tx >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &al), 0);
	struct live l = {.port = ntohs(a.sin_port)};

	uint64_t t0 = mono_ms();
	for (int i = 0; i < 3 && l.seen == 0; i++) {
		assert_true(sendto(tx, "rampart", 7, 0, (struct sockaddr *)&a, sizeof a) == 7);
		for (int k = 0; k < 10 && l.seen == 0; k++) {
			int n = cap_pcap_dispatch(p, 64, on_live, &l, err, sizeof err);
			assert_true(n >= 0);
		}
	}
	assert_true(l.seen >= 1);
	assert_true(cap_pcap_last_ts(p) > 0);
	assert_true(mono_ms() - t0 < 5000);
	struct cap_pcap_stats st;
	cap_pcap_stats(p, &st);
	assert_true(st.frames >= 1);
	assert_true(st.decode[CAP_DECODE_OK] >= 1);
	close(rx);
	close(tx);
	cap_pcap_close(p);
}

/* A quiet link: the live read must give control back within its timeout (the worker moves its
 * clock on and sees a stop request only then). Loopback of a fresh network namespace, in a
 * child process, is guaranteed quiet. */
static int quiet_child(void)
{
	if (unshare(CLONE_NEWNET) != 0)
		return 77; /* not root: skip */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return 2;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		return 3;
	char err[256];
	struct cap_pcap *p = cap_pcap_open_live("lo", err, sizeof err);
	if (!p)
		return 4;
	struct live l = {0};
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = mono_ms();
		if (cap_pcap_dispatch(p, 64, on_live, &l, err, sizeof err) != 0)
			return 5;
		uint64_t took = mono_ms() - t0;
		if (took < 50 || took > 1000) /* LIVE_TIMEOUT_MS is 100 */
			return 6;
	}
	cap_pcap_close(p);
	return 0;
}

static void test_live_quiet_link_returns(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10); /* a read that never returns fails the test instead of hanging it */
		_exit(quiet_child());
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "SKIP: cannot make a network namespace (not root)\n");
		skip();
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("quiet live read: %s %d", WIFEXITED(status) ? "step" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_capture_matches_tshark),
		cmocka_unit_test(test_bad_frames_counted_per_kind),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_recorded_speed_keeps_pace),
		cmocka_unit_test(test_live_loopback),
		cmocka_unit_test(test_live_quiet_link_returns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
