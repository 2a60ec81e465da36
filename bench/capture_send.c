/* capture_send IFACE PCAP PPS SECONDS: sends the capture's frames in a loop out of IFACE at PPS
 * frames per second (0: as fast as it can) for SECONDS, through a PACKET_TX_RING with
 * PACKET_QDISC_BYPASS (no qdisc, one sendto per batch, not per frame), and prints what it sent:
 * "sent N frames in T s (R pps)". tcpreplay tops out near 330 kpps here; this is the sender for
 * bench/capture_rate.sh, which needs one faster than the capture sources it measures. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT 2048
#define SLOTS 4096
#define BATCH 64

struct frame {
	uint32_t len;
	uint8_t data[SLOT - TPACKET2_HDRLEN];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFACE PCAP PPS SECONDS\n", argv[0]);
		return 2;
	}
	double pps = atof(argv[3]), secs = atof(argv[4]);
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(argv[2], ebuf);
	if (!pc) {
		fprintf(stderr, "%s\n", ebuf);
		return 1;
	}
	size_t n = 0, cap = 1024;
	struct frame *fr = malloc(cap * sizeof *fr);
	struct pcap_pkthdr *h;
	const u_char *d;
	while (fr && pcap_next_ex(pc, &h, &d) == 1) {
		if (n == cap)
			fr = realloc(fr, (cap *= 2) * sizeof *fr);
		if (!fr)
			break;
		fr[n].len = h->caplen < sizeof fr[n].data ? h->caplen : (uint32_t)sizeof fr[n].data;
		memcpy(fr[n].data, d, fr[n].len);
		n++;
	}
	pcap_close(pc);
	if (!fr || n == 0) {
		fprintf(stderr, "no frames in %s\n", argv[2]);
		return 1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	int v = TPACKET_V2, one = 1;
	struct tpacket_req req = {.tp_block_size = SLOT * 64, .tp_block_nr = SLOTS / 64, .tp_frame_size = SLOT,
				  .tp_frame_nr = SLOTS};
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)) {
		perror("AF_PACKET TX ring");
		return 1;
	}
	uint8_t *ring = mmap(NULL, (size_t)SLOT * SLOTS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(argv[1])};
	if (ring == MAP_FAILED || sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof sll)) {
		perror(argv[1]);
		return 1;
	}
	uint64_t sent = 0, slot = 0;
	size_t next = 0;
	double t0 = now_s(), t = t0;
	while ((t = now_s()) - t0 < secs) {
		uint64_t due = pps > 0 ? (uint64_t)((t - t0) * pps) : sent + BATCH;
		if (due <= sent) {
			struct timespec nap = {0, 20000};
			nanosleep(&nap, NULL);
			continue;
		}
		uint64_t want = due - sent < BATCH ? due - sent : BATCH, put = 0;
		while (put < want) {
			struct tpacket2_hdr *th = (struct tpacket2_hdr *)(ring + (slot % SLOTS) * SLOT);
			if (__atomic_load_n(&th->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
				break; /* ring full: kick and come back */
			memcpy((uint8_t *)th + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll), fr[next].data, fr[next].len);
			th->tp_len = fr[next].len;
			__atomic_store_n(&th->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			next = (next + 1) % n;
			slot++;
			put++;
		}
		if (send(fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) {
			perror("send");
			return 1;
		}
		sent += put;
	}
	send(fd, NULL, 0, 0); /* what is still in the ring goes out */
	for (int i = 0; i < 1000; i++) {
		struct tpacket2_hdr *th = (struct tpacket2_hdr *)(ring + ((slot + SLOTS - 1) % SLOTS) * SLOT);
		if (__atomic_load_n(&th->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_AVAILABLE)
			break;
		usleep(1000);
	}
	double el = now_s() - t0;
	printf("sent %llu frames in %.2f s (%.0f pps)\n", (unsigned long long)sent, el, (double)sent / el);
	return 0;
}
