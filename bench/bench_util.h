/* What every benchmark needs: a monotonic clock in seconds and a capture held in memory, so
 * that a figure measures Rampart's code and not libpcap's file reading. */
#ifndef RAMPART_BENCH_UTIL_H
#define RAMPART_BENCH_UTIL_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct frame {
	uint32_t len;
	uint64_t ts; /* ns */
	const uint8_t *data;
};

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every frame of the capture at path, copied out, with nanosecond timestamps; NULL (and a line
 * on stderr naming who) when it cannot be read. The benchmark exits soon after, so nothing of
 * it is ever freed. */
static inline struct frame *bench_load_frames(const char *who, const char *path, size_t *n_out)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		fprintf(stderr, "%s: %s\n", who, errbuf);
		return NULL;
	}
	size_t n = 0, cap = 1024;
	struct frame *frames = malloc(cap * sizeof *frames);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (frames && pcap_next_ex(pc, &h, &data) == 1) {
		if (n == cap)
			frames = realloc(frames, (cap *= 2) * sizeof *frames);
		uint8_t *copy = malloc(h->caplen);
		if (!frames || !copy)
			break;
		memcpy(copy, data, h->caplen);
		/* tv_usec holds nanoseconds at PCAP_TSTAMP_PRECISION_NANO */
		frames[n++] = (struct frame){h->caplen, (uint64_t)h->ts.tv_sec * 1000000000ull + h->ts.tv_usec, copy};
	}
	pcap_close(pc);
	if (!frames) {
		fprintf(stderr, "%s: out of memory\n", who);
		return NULL;
	}
	*n_out = n;
	return frames;
}

#endif
