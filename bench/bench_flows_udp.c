/* Flow records through real UDP sockets on this machine: the highest rate with zero records lost.
 *
 * A sender thread (core 1) plays a NetFlow exporter on loopback: paced sendmmsg batches of
 * synthetic NetFlow v9 (45 IPv4 records per 1374-byte datagram, template every 1000 datagrams)
 * or v5 (30 records per datagram) or sFlow v5 (13 flow samples per datagram, each a raw
 * Ethernet/IPv4/UDP header, sampling rate 1) with correct sequence numbers, to 1000 hosts of
 * 192.0.2.0/22.
 * The receiver (core 0) is the daemon's listener path: capture/flowsrc.c (recvmmsg batches,
 * SO_RXQ_OVFL, 32 MiB buffer) decoding into det_counters, swapped every 100 ms as the worker
 * does. Storage is left out (its own bench: bench_storage).
 *
 * Rates step up from 250 k records/s, STEP_S seconds each, until records are lost: received !=
 * sent, or the kernel dropped datagrams, or the exporter's sequence shows gaps. Budget: >= 1 M
 * records/s with zero loss (DESIGN.md).
 *   bench_flows_udp [v9|v5|sflow] [STEP_S]   (port 20901 on 127.0.0.1)
 *   bench_flows_udp send v9|v5|sflow HOST PORT RATE SECONDS
 *                                      only the exporter, for another collector
 *                                      (bench/vs_fastnetmon_flows.sh); prints records sent */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "detect/det.h"
#include "lib/log.h"
#include "rampartd/daemon.h"

#define PORT 20901
#define SEND_BATCH 32
#define V9_RECS 45
#define V5_RECS 30
#define SFLOW_RECS 13
#define HOSTS 1000

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static uint8_t *put16(uint8_t *p, uint16_t v) { v = htons(v); memcpy(p, &v, 2); return p + 2; }
static uint8_t *put32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); return p + 4; }

/* ---- synthetic exporter ---------------------------------------------------------------------- */

struct sender {
	enum proto { P_V9, P_V5, P_SFLOW } proto;
	double rate;     /* records/s */
	double seconds;
	uint64_t sent_records;
	double elapsed;  /* the sender's own sending time */
	uint32_t seq;    /* v9, sFlow: datagrams; v5: flows */
	uint32_t sample_seq;
	uint64_t dgrams; /* over the whole run, for the template period */
	uint32_t host;
	int fd;
};

static size_t build_v9(struct sender *s, uint8_t *buf, unsigned *recs)
{
	uint8_t *p = buf;
	bool tmpl = s->dgrams % 1000 == 0;
	p = put16(p, 9);
	p = put16(p, (uint16_t)(V9_RECS + tmpl));
	p = put32(p, 100000);
	p = put32(p, (uint32_t)time(NULL));
	p = put32(p, s->seq++);
	p = put32(p, 7); /* source id */
	if (tmpl) {
		static const uint16_t f[][2] = {{1, 4}, {2, 4}, {4, 1}, {6, 1}, {7, 2}, {8, 4}, {11, 2}, {12, 4}, {21, 4}, {22, 4}};
		p = put16(p, 0);
		p = put16(p, 4 + 4 + 10 * 4);
		p = put16(p, 256);
		p = put16(p, 10);
		for (int i = 0; i < 10; i++) {
			p = put16(p, f[i][0]);
			p = put16(p, f[i][1]);
		}
	}
	p = put16(p, 256);
	p = put16(p, 4 + V9_RECS * 30);
	for (int i = 0; i < V9_RECS; i++) {
		uint32_t h = s->host++ % HOSTS;
		p = put32(p, 1500);                 /* bytes */
		p = put32(p, 3);                    /* packets */
		*p++ = 17;                          /* protocol */
		*p++ = 0;                           /* tcp flags */
		p = put16(p, 123);                  /* src port */
		p = put32(p, 0xC6336400 | (h & 0xff)); /* 198.51.100.x */
		p = put16(p, 4444);
		p = put32(p, 0xC0000000 | (2u << 8) | h); /* 192.0.2.0/22 */
		p = put32(p, 99000);                /* last */
		p = put32(p, 98000);                /* first */
	}
	s->dgrams++;
	*recs = V9_RECS;
	return (size_t)(p - buf);
}

static size_t build_v5(struct sender *s, uint8_t *buf, unsigned *recs)
{
	uint8_t *p = buf;
	p = put16(p, 5);
	p = put16(p, V5_RECS);
	p = put32(p, 100000);
	p = put32(p, (uint32_t)time(NULL));
	p = put32(p, 0);
	p = put32(p, s->seq);
	s->seq += V5_RECS;
	p = put32(p, 0); /* engine type/id, sampling */
	for (int i = 0; i < V5_RECS; i++) {
		uint32_t h = s->host++ % HOSTS;
		p = put32(p, 0xC6336400 | (h & 0xff));
		p = put32(p, 0xC0000000 | (2u << 8) | h);
		p = put32(p, 0);
		p = put16(p, 1);
		p = put16(p, 2);
		p = put32(p, 3);
		p = put32(p, 1500);
		p = put32(p, 98000);
		p = put32(p, 99000);
		p = put16(p, 123);
		p = put16(p, 4444);
		*p++ = 0;
		*p++ = 0;
		*p++ = 17;
		*p++ = 0;
		memset(p, 0, 8);
		p += 8;
	}
	s->dgrams++;
	*recs = V5_RECS;
	return (size_t)(p - buf);
}

static size_t build_sflow(struct sender *s, uint8_t *buf, unsigned *recs)
{
	uint8_t *p = buf;
	p = put32(p, 5);
	p = put32(p, 1); /* agent IPv4 */
	p = put32(p, 0x0A090909);
	p = put32(p, 0); /* sub-agent */
	p = put32(p, s->seq++);
	p = put32(p, 100000);
	p = put32(p, SFLOW_RECS);
	for (int i = 0; i < SFLOW_RECS; i++) {
		uint32_t h = s->host++ % HOSTS;
		p = put32(p, 1);   /* flow sample */
		p = put32(p, 100); /* its length: 32 + 8 + 16 + 44 */
		p = put32(p, ++s->sample_seq);
		p = put32(p, 3);   /* source id: ifIndex 3 */
		p = put32(p, 1);   /* sampling rate */
		p = put32(p, s->sample_seq); /* pool */
		p = put32(p, 0);   /* drops */
		p = put32(p, 1);
		p = put32(p, 2);
		p = put32(p, 1);   /* records */
		p = put32(p, 1);   /* raw packet header */
		p = put32(p, 16 + 44);
		p = put32(p, 1);   /* Ethernet */
		p = put32(p, 14 + 500);
		p = put32(p, 0);
		p = put32(p, 42);
		static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00};
		memcpy(p, eth, 14);
		p += 14;
		uint8_t *ip = p;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, 500);
		ip[8] = 64;
		ip[9] = 17;
		put32(ip + 12, 0xC6336400 | (h & 0xff));
		put32(ip + 16, 0xC0000000 | (2u << 8) | h);
		p += 20;
		p = put16(p, 123);
		p = put16(p, 4444);
		p = put16(p, 480);
		p = put16(p, 0);
		*p++ = 0; /* pad 42 -> 44 */
		*p++ = 0;
	}
	s->dgrams++;
	*recs = SFLOW_RECS;
	return (size_t)(p - buf);
}

static unsigned per_dgram(enum proto p)
{
	return p == P_V5 ? V5_RECS : p == P_SFLOW ? SFLOW_RECS : V9_RECS;
}

static enum proto parse_proto(const char *s)
{
	return !strcmp(s, "v5") ? P_V5 : !strcmp(s, "sflow") ? P_SFLOW : P_V9;
}

static const char *proto_name(enum proto p)
{
	return p == P_V5 ? "NetFlow v5" : p == P_SFLOW ? "sFlow v5" : "NetFlow v9";
}

/* Sends at s->rate for s->seconds, in batches as the schedule falls behind. */
static void *sender_main(void *arg)
{
	struct sender *s = arg;
	pin(1);
	static uint8_t bufs[SEND_BATCH][1500];
	struct mmsghdr m[SEND_BATCH];
	struct iovec iov[SEND_BATCH];
	unsigned recs[SEND_BATCH];
	double t0 = now_s();
	s->sent_records = 0;
	for (;;) {
		double el = now_s() - t0;
		s->elapsed = el;
		if (el >= s->seconds)
			break;
		double due = el * s->rate - (double)s->sent_records;
		if (due < per_dgram(s->proto)) {
			struct timespec ts = {0, 20000};
			nanosleep(&ts, NULL);
			continue;
		}
		int n = 0;
		while (n < SEND_BATCH && due > 0) {
			size_t len = s->proto == P_V5	 ? build_v5(s, bufs[n], &recs[n])
				     : s->proto == P_SFLOW ? build_sflow(s, bufs[n], &recs[n])
							   : build_v9(s, bufs[n], &recs[n]);
			iov[n] = (struct iovec){bufs[n], len};
			m[n] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[n], .msg_iovlen = 1}};
			due -= recs[n];
			n++;
		}
		int done = 0;
		while (done < n) {
			int k = sendmmsg(s->fd, m + done, (unsigned)(n - done), 0);
			if (k <= 0) {
				perror("sendmmsg");
				return NULL;
			}
			for (int i = done; i < done + k; i++)
				s->sent_records += recs[i];
			done += k;
		}
	}
	return NULL;
}

/* ---- receiver: the listener path --------------------------------------------------------------- */

struct receiver {
	struct cap_flowsrc *src;
	struct det_counters *sets[2];
	int cur;
	uint64_t records;
	atomic_bool stop;
};

static void on_record(void *arg, const struct flow_record *r)
{
	struct receiver *rx = arg;
	rx->records++;
	det_counters_add(rx->sets[rx->cur], r, 1);
}

static void *receiver_main(void *arg)
{
	struct receiver *rx = arg;
	pin(0);
	char err[256];
	double next_tick = now_s() + 0.1;
	int idle = 0;
	/* after stop, drain until the socket has been empty a while */
	while (!atomic_load(&rx->stop) || idle < 50) {
		uint64_t recv_ns;
		int n = cap_flowsrc_dispatch(rx->src, on_record, rx, &recv_ns, err, sizeof err);
		if (n < 0) {
			fprintf(stderr, "%s\n", err);
			break;
		}
		if (n == 0) {
			idle++;
			cap_flowsrc_wait(rx->src, 2);
		} else {
			idle = 0;
		}
		double t = now_s();
		if (t >= next_tick) { /* the tick: the engine would merge this set; here it is cleared */
			rx->cur ^= 1;
			det_counters_clear(rx->sets[rx->cur]);
			next_tick = t + 0.1;
		}
	}
	return NULL;
}

static void exporter_totals(struct cap_flowsrc *src, uint64_t *gaps, uint64_t *malformed)
{
	struct cap_exporter_info e[4];
	size_t n = cap_flowsrc_exporters(src, e, 4);
	*gaps = *malformed = 0;
	for (size_t i = 0; i < n && i < 4; i++) {
		*gaps += e[i].sequence_gaps;
		*malformed += e[i].malformed + e[i].template_misses;
	}
}

static int send_only(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: bench_flows_udp send v9|v5|sflow HOST PORT RATE SECONDS\n");
		return 2;
	}
	struct sender tx = {.proto = parse_proto(argv[2]), .rate = atof(argv[5]), .seconds = atof(argv[6])};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4]))};
	tx.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (inet_pton(AF_INET, argv[3], &to.sin_addr) != 1 || connect(tx.fd, (struct sockaddr *)&to, sizeof to) != 0) {
		perror("bench_flows_udp: connect");
		return 1;
	}
	sender_main(&tx);
	printf("%llu %.0f\n", (unsigned long long)tx.sent_records, tx.sent_records / tx.elapsed);
	close(tx.fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "send"))
		return send_only(argc, argv);
	enum proto proto = parse_proto(argc > 1 ? argv[1] : "v9");
	double step_s = argc > 2 ? atof(argv[2]) : 1.0;
	if (step_s <= 0)
		step_s = 1.0;
	log_set_level(LOG_LVL_ERR);

	struct det_config cfg;
	det_config_defaults(&cfg);
	ip_prefix net;
	ip_prefix_parse("192.0.0.0/8", &net);
	cfg.networks = &net;
	cfg.n_networks = 1;
	cfg.max_hosts = 65536;
	struct det_networks *dn = det_networks_new(&cfg);

	char listen[32], err[256];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", PORT);
	struct receiver rx = {0};
	rx.src = cap_flowsrc_open(proto == P_SFLOW ? CAP_FLOW_PROTO_SFLOW : CAP_FLOW_PROTO_NETFLOW, listen, 32u << 20, NULL, err, sizeof err);
	if (!rx.src || !dn) {
		fprintf(stderr, "bench_flows_udp: %s\n", rx.src ? "out of memory" : err);
		return 1;
	}
	rx.sets[0] = det_counters_new(dn, cfg.max_hosts);
	rx.sets[1] = det_counters_new(dn, cfg.max_hosts);

	struct sender tx = {.proto = proto, .seconds = step_s};
	tx.fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (connect(tx.fd, (struct sockaddr *)&to, sizeof to) != 0) {
		perror("connect");
		return 1;
	}

	static const double rates[] = {250e3, 500e3, 1e6, 1.5e6, 2e6, 3e6, 4e6, 6e6, 8e6, 10e6, 12e6};
	double best = 0;
	printf("%s over UDP loopback, %u records/datagram, %.1f s per step, receiver core 0, sender core 1\n",
	       proto_name(proto), per_dgram(proto), step_s);
	printf("%12s %12s %12s %10s %12s %10s\n", "target/s", "sent/s", "received", "lost", "kernel_drops", "seq_gaps");
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		struct cap_flowsrc_stats before, after;
		uint64_t gaps0, gaps1, bad0, bad1;
		cap_flowsrc_stats(rx.src, &before);
		exporter_totals(rx.src, &gaps0, &bad0);
		rx.records = 0;
		atomic_store(&rx.stop, false);
		pthread_t rt, st;
		pthread_create(&rt, NULL, receiver_main, &rx);
		tx.rate = rates[i];
		pthread_create(&st, NULL, sender_main, &tx);
		pthread_join(st, NULL);
		double el = tx.elapsed;
		atomic_store(&rx.stop, true);
		pthread_join(rt, NULL);
		cap_flowsrc_stats(rx.src, &after);
		exporter_totals(rx.src, &gaps1, &bad1);
		uint64_t drops = after.kernel_drops - before.kernel_drops;
		uint64_t lost = tx.sent_records > rx.records ? tx.sent_records - rx.records : 0;
		printf("%12.0f %12.0f %12llu %10llu %12llu %10llu\n", rates[i], tx.sent_records / el,
		       (unsigned long long)rx.records, (unsigned long long)lost, (unsigned long long)drops,
		       (unsigned long long)(gaps1 - gaps0));
		fflush(stdout);
		if (lost || drops || gaps1 != gaps0 || bad1 != bad0)
			break;
		if (tx.sent_records / el < rates[i] * 0.95)
			printf("(the sender fell behind %.0f/s: the machine is busy)\n", rates[i]);
		if (tx.sent_records / el > best)
			best = tx.sent_records / el;
	}
	printf("highest rate with zero records lost: %.2f M records/s (budget >= 1 M/s)\n", best / 1e6);
	det_counters_free(rx.sets[0]);
	det_counters_free(rx.sets[1]);
	cap_flowsrc_close(rx.src);
	det_networks_free(dn);
	close(tx.fd);
	return 0;
}
