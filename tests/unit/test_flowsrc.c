/* Flow export listeners (capture/flowsrc.c) on real loopback sockets: addresses, batches,
 * kernel drops, oversize datagrams; and a listener worker behind `rampartctl exporters` and
 * `stats`. Ports 20950-20959 (this helper's range). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "api/api.h"
#include "rampartd/daemon.h"

/* A NetFlow v5 datagram: 2 records to 192.0.2.10 and 192.0.2.20, flow sequence seq. */
static size_t v5_datagram(uint8_t *b, uint32_t seq)
{
	memset(b, 0, 24 + 2 * 48);
	b[1] = 5;
	b[3] = 2;
	b[5] = 0x01; /* sysUptime 65536 ms */
	uint32_t s = htonl(seq);
	memcpy(b + 16, &s, 4);
	for (int i = 0; i < 2; i++) {
		uint8_t *r = b + 24 + 48 * i;
		r[0] = 198, r[1] = 51, r[2] = 100, r[3] = 1;
		r[4] = 192, r[5] = 0, r[6] = 2, r[7] = (uint8_t)(10 * (i + 1));
		r[19] = 5;           /* packets */
		r[23] = 200;         /* bytes */
		r[26] = 0x01;        /* first 65536 */
		r[30] = 0x01;        /* last 65536 */
		r[38] = 17;          /* protocol */
	}
	return 24 + 2 * 48;
}

static int sender(int family, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
		len = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, "::1", &a->sin6_addr);
		len = sizeof *a;
	}
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

struct got {
	unsigned records;
	uint64_t packets;
	ip_addr exporter;
};

static void on_record(void *arg, const struct flow_record *r)
{
	struct got *g = arg;
	g->records++;
	g->packets += r->packets;
	g->exporter = r->exporter;
}

/* Reads until n datagrams came or a second passed. */
static unsigned drain(struct cap_flowsrc *s, struct got *g, unsigned n)
{
	unsigned total = 0;
	char err[256];
	for (int tries = 0; tries < 100 && total < n; tries++) {
		uint64_t ns;
		int k = cap_flowsrc_dispatch(s, on_record, g, &ns, err, sizeof err);
		assert_true(k >= 0);
		if (k == 0)
			cap_flowsrc_wait(s, 10);
		total += (unsigned)k;
	}
	return total;
}

static void test_bad_addresses(void **state)
{
	(void)state;
	char err[256];
	const char *bad[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "[::1]20951", "nohost:20951",
			     "[::1:20951", "127.0.0.1:x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		assert_null(cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, bad[i], 65536, NULL, err, sizeof err));
		assert_non_null(strstr(err, bad[i]));
	}
	/* 192.0.2.1 is not ours: bind fails with a message naming the listener */
	assert_null(cap_flowsrc_open(CAP_FLOW_PROTO_SFLOW, "192.0.2.1:20951", 65536, NULL, err, sizeof err));
	assert_non_null(strstr(err, "bind"));
}

static void test_ipv4_ipv6_batches(void **state)
{
	(void)state;
	char err[256];
	struct cap_flowsrc *s4 = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "127.0.0.1:20952", 1 << 20, NULL, err, sizeof err);
	struct cap_flowsrc *s6 = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "[::1]:20952", 1 << 20, NULL, err, sizeof err);
	assert_non_null(s4);
	assert_non_null(s6);
	uint8_t b[256];
	int fd4 = sender(AF_INET, 20952), fd6 = sender(AF_INET6, 20952);
	for (uint32_t i = 0; i < 100; i++) /* more than one recvmmsg batch */
		assert_int_equal(send(fd4, b, v5_datagram(b, i * 2), 0), 24 + 96);
	assert_int_equal(send(fd6, b, v5_datagram(b, 0), 0), 24 + 96);
	struct got g4 = {0}, g6 = {0};
	assert_int_equal(drain(s4, &g4, 100), 100);
	assert_int_equal(drain(s6, &g6, 1), 1);
	assert_int_equal(g4.records, 200);
	assert_int_equal(g4.packets, 1000);
	assert_int_equal(g6.records, 2);
	char a[IP_STRLEN];
	assert_string_equal(ip_format(&g4.exporter, a), "127.0.0.1");
	assert_string_equal(ip_format(&g6.exporter, a), "::1");

	struct cap_flowsrc_stats st;
	cap_flowsrc_stats(s4, &st);
	assert_int_equal(st.datagrams, 100);
	assert_int_equal(st.decode.datagrams, 100);
	assert_int_equal(st.kernel_drops, 0);
	assert_true(st.rcvbuf >= 1 << 20); /* as root SO_RCVBUFFORCE grants it */
	struct cap_exporter_info e[2];
	assert_int_equal(cap_flowsrc_exporters(s4, e, 2), 1);
	assert_int_equal(e[0].records, 200);
	assert_int_equal(e[0].sequence_gaps, 0);
	close(fd4);
	close(fd6);
	cap_flowsrc_close(s4);
	cap_flowsrc_close(s6);
}

/* A receive buffer too small for what is sent while nobody reads: the kernel drops, and the
 * listener must say how many (SO_RXQ_OVFL), beside the v5 sequence gap the exporter shows. */
static void test_kernel_drops_counted(void **state)
{
	(void)state;
	char err[256];
	struct cap_flowsrc *s = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "127.0.0.1:20953", 4096, NULL, err, sizeof err);
	assert_non_null(s);
	int fd = sender(AF_INET, 20953);
	uint8_t b[256];
	for (uint32_t i = 0; i < 500; i++)
		send(fd, b, v5_datagram(b, i * 2), 0);
	struct got g = {0};
	unsigned got = drain(s, &g, 500);
	assert_true(got < 500);
	/* one more after the drops, to carry the counter */
	send(fd, b, v5_datagram(b, 1000), 0);
	got += drain(s, &g, 1);
	struct cap_flowsrc_stats st;
	cap_flowsrc_stats(s, &st);
	assert_int_equal(st.kernel_drops, 501 - got);
	struct cap_exporter_info e[1];
	assert_int_equal(cap_flowsrc_exporters(s, e, 1), 1);
	assert_int_equal(e[0].sequence_gaps, 2 * (501 - got));
	close(fd);
	cap_flowsrc_close(s);
}

/* The listener's allow-list: a source outside it gets no exporter entry and no record, counted
 * as refused (not_allowed); once the list names it, its datagrams decode. */
static void test_allow_list(void **state)
{
	(void)state;
	char err[256];
	ip_prefix allow;
	assert_true(ip_prefix_parse("192.0.2.0/24", &allow));
	struct cap_flow_config cfg = {.allow = &allow, .n_allow = 1};
	struct cap_flowsrc *s = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "127.0.0.1:20958", 1 << 20, &cfg, err, sizeof err);
	assert_non_null(s);
	int fd = sender(AF_INET, 20958);
	uint8_t b[256];
	send(fd, b, v5_datagram(b, 0), 0);
	send(fd, b, v5_datagram(b, 2), 0);
	struct got g = {0};
	assert_int_equal(drain(s, &g, 2), 2);
	assert_int_equal(g.records, 0);
	struct cap_flowsrc_stats st;
	cap_flowsrc_stats(s, &st);
	assert_int_equal(st.decode.refused[CAP_REFUSE_NOT_ALLOWED], 2);
	assert_int_equal(st.decode.result[CAP_FLOW_NOT_ALLOWED], 2);
	assert_int_equal(st.decode.exporters, 0);
	cap_flowsrc_close(s);

	assert_true(ip_prefix_parse("127.0.0.0/8", &allow));
	s = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "127.0.0.1:20958", 1 << 20, &cfg, err, sizeof err);
	assert_non_null(s);
	send(fd, b, v5_datagram(b, 0), 0);
	assert_int_equal(drain(s, &g, 1), 1);
	assert_int_equal(g.records, 2);
	close(fd);
	cap_flowsrc_close(s);
}

static void test_oversize_and_malformed(void **state)
{
	(void)state;
	char err[256];
	struct cap_flowsrc *s = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "127.0.0.1:20954", 1 << 20, NULL, err, sizeof err);
	assert_non_null(s);
	int fd = sender(AF_INET, 20954);
	static uint8_t big[20000];
	big[1] = 5;
	assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);
	uint8_t b[256];
	size_t n = v5_datagram(b, 0);
	send(fd, b, n - 10, 0); /* truncated record */
	struct got g = {0};
	assert_int_equal(drain(s, &g, 2), 2);
	struct cap_flowsrc_stats st;
	cap_flowsrc_stats(s, &st);
	assert_int_equal(st.oversize, 1);
	assert_int_equal(st.decode.datagrams, 1);
	assert_int_equal(st.decode.result[CAP_FLOW_OK], 0);
	close(fd);
	cap_flowsrc_close(s);
}

/* ---- a listener worker behind the control commands ----------------------------------------- */

/* capture.udp_workers: two listeners on one address (SO_REUSEPORT), each with its own exporter
 * state. 32 exporters (one source port each, told apart by their v5 engine id) send 5 datagrams
 * each: the kernel spreads them by 4-tuple, so both listeners get some, each exporter lands on
 * exactly one with no sequence gap, and the totals are exact. (All 32 on one socket: 2^-31.) */
static void test_two_workers_one_port(void **state)
{
	(void)state;
	char err[256];
	enum { EXPORTERS = 32, EACH = 5 };
	struct cap_flowsrc *w[2];
	for (int k = 0; k < 2; k++) {
		w[k] = cap_flowsrc_open(CAP_FLOW_PROTO_NETFLOW, "127.0.0.1:22010", 1 << 20, NULL, err, sizeof err);
		assert_non_null(w[k]);
	}
	int fd[EXPORTERS];
	for (int e = 0; e < EXPORTERS; e++)
		fd[e] = sender(AF_INET, 22010);
	uint8_t b[256];
	for (uint32_t d = 0; d < EACH; d++)
		for (int e = 0; e < EXPORTERS; e++) {
			size_t n = v5_datagram(b, d * 2);
			b[21] = (uint8_t)e; /* engine id: the exporter's domain */
			assert_int_equal(send(fd[e], b, n, 0), (ssize_t)n);
		}
	struct got g[2] = {{0}, {0}};
	unsigned got[2] = {0, 0};
	char err2[256];
	for (int tries = 0; tries < 200 && got[0] + got[1] < EXPORTERS * EACH; tries++)
		for (int k = 0; k < 2; k++) {
			uint64_t ns;
			int n = cap_flowsrc_dispatch(w[k], on_record, &g[k], &ns, err2, sizeof err2);
			assert_true(n >= 0);
			got[k] += (unsigned)n;
			if (n == 0)
				cap_flowsrc_wait(w[k], 5);
		}
	assert_int_equal(got[0] + got[1], EXPORTERS * EACH);
	assert_true(got[0] > 0 && got[1] > 0);
	assert_int_equal(g[0].records + g[1].records, EXPORTERS * EACH * 2);

	static struct cap_exporter_info e[2][EXPORTERS + 1];
	size_t n[2];
	unsigned seen[EXPORTERS] = {0};
	for (int k = 0; k < 2; k++) {
		n[k] = cap_flowsrc_exporters(w[k], e[k], EXPORTERS + 1);
		for (size_t i = 0; i < n[k]; i++) {
			assert_true((e[k][i].domain & 0xff) < EXPORTERS);
			seen[e[k][i].domain & 0xff]++;
			assert_int_equal(e[k][i].datagrams, EACH);
			assert_int_equal(e[k][i].records, EACH * 2);
			assert_int_equal(e[k][i].sequence_gaps, 0);
		}
	}
	assert_int_equal(n[0] + n[1], EXPORTERS);
	for (int x = 0; x < EXPORTERS; x++)
		assert_int_equal(seen[x], 1); /* on exactly one worker */
	for (int x = 0; x < EXPORTERS; x++)
		close(fd[x]);
	cap_flowsrc_close(w[0]);
	cap_flowsrc_close(w[1]);
}

static const char config[] = "networks: [192.0.2.0/24]\n"
			     "thresholds: { incoming: { pps: 500 } }\n"
			     "detection: { max_hosts: 4096 }\n"
			     "capture: { netflow: { listen: [\"127.0.0.1:20955\"] }, udp_rcvbuf: 1048576 }\n"
			     "storage: { dir: /tmp/rampart-test-flowsrc }\n"
			     "api: { socket: /tmp/unused.sock, http: \"\" }\n";

static void test_exporters_command(void **state)
{
	(void)state;
	static struct rampart rp;
	memset(&rp, 0, sizeof rp);
	char err[256];
	assert_int_equal(conf_load_string(config, sizeof config - 1, "t.yaml", &rp.conf, err, sizeof err), 0);
	rp.networks = det_networks_new(&rp.conf.detect);
	rp.engine = det_engine_new(&rp.conf.detect, rp.networks);
	rp.tick_fd = eventfd(0, EFD_NONBLOCK);
	rp.storage = st_writer_new(&rp.conf.storage, 1, err, sizeof err);
	assert_non_null(rp.storage);
	rp.mit = mit_new(&(struct mit_deps){.conf = &rp.conf, .networks = rp.networks, .engine = rp.engine});
	assert_non_null(rp.mit);
	struct evbuffer *out = evbuffer_new();
	assert_int_equal(api_command(rd_api_ctx(&rp), "exporters", out), 0);
	char text[8192];
	size_t n = evbuffer_remove(out, text, sizeof text - 1);
	text[n] = 0;
	assert_non_null(strstr(text, "no flow listeners"));

	struct conf_source src = {.listen = rp.conf.capture.netflow[0].addr, .flow_proto = CAP_FLOW_PROTO_NETFLOW};
	const struct rd_worker_deps wd = {.conf = &rp.conf, .networks = rp.networks, .storage = rp.storage,
					  .tick_fd = rp.tick_fd};
	rp.workers[0] = rd_worker_new(&wd, 0, &src, err, sizeof err);
	assert_non_null(rp.workers[0]);
	rp.n_workers = 1;
	assert_int_equal(rd_worker_start(rp.workers[0], err, sizeof err), 0);
	int fd = sender(AF_INET, 20955);
	uint8_t b[256];
	send(fd, b, v5_datagram(b, 0), 0);
	send(fd, b, v5_datagram(b, 4), 0); /* 2 flows lost */
	send(fd, b, 10, 0);                 /* too short for a header: the listener's, not the exporter's */
	send(fd, b, v5_datagram(b, 6) - 10, 0); /* a record cut short: the exporter's malformed */
	usleep(400000);                     /* stats are refreshed once per tick */
	rd_tick_run(&rp);
	assert_int_equal(api_command(rd_api_ctx(&rp), "exporters", out), 0);
	n = evbuffer_remove(out, text, sizeof text - 1);
	text[n] = 0;
	assert_non_null(strstr(text, "listener netflow 127.0.0.1:20955: datagrams 4 kernel_drops 0 oversize 0 exporters 1\n"));
	assert_non_null(strstr(text, "\n  refused: not_allowed 0 table_full 0 domains_per_address 0 "
				     "templates_per_exporter 0 template_memory 0 evicted 0 templates_reclaimed 0 "
				     "template_bytes 0\n"));
	/* exporter protocol domain rate datagrams records malformed tmpl_miss seq_gaps */
	char addr[64], proto[16];
	unsigned dom, rate, dg, rec, mal, miss, gaps;
	const char *line = strstr(text, "\n  127.0.0.1 ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, " %63s %15s %u %u %u %u %u %u %u", addr, proto, &dom, &rate, &dg, &rec, &mal,
				&miss, &gaps),
			 9);
	assert_string_equal(proto, "netflow5");
	assert_int_equal(dg, 3);
	assert_int_equal(rec, 4); /* v5 checks the count against the length first: a cut datagram gives none */
	assert_int_equal(mal, 1);
	assert_int_equal(gaps, 2);
	assert_int_equal(api_command(rd_api_ctx(&rp), "stats", out), 0);
	n = evbuffer_remove(out, text, sizeof text - 1);
	text[n] = 0;
	assert_non_null(strstr(text, "listener netflow 127.0.0.1:20955: datagrams 4 bytes "));
	assert_non_null(strstr(text, " truncated 2 "));
	assert_int_equal(api_command(rd_api_ctx(&rp), "exporters now", out), -1);
	evbuffer_free(out);
	close(fd);
	rd_worker_free(rp.workers[0]);
	mit_free(rp.mit);
	st_writer_free(rp.storage);
	close(rp.tick_fd);
	det_engine_free(rp.engine);
	det_networks_free(rp.networks);
	conf_free(&rp.conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_ipv4_ipv6_batches),
		cmocka_unit_test(test_kernel_drops_counted),
		cmocka_unit_test(test_oversize_and_malformed),
		cmocka_unit_test(test_exporters_command),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_two_workers_one_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
