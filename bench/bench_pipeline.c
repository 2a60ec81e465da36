/* Mirror packet -> counters, on one core, from a capture held in memory: the worker's per-packet
 * path (decode, host counters; then also the flow table that feeds storage), measured apart from
 * libpcap's file reading. Budget: >= 10 Mpps for decode + counting (docs/PERFORMANCE.md). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_mirror.h"
#include "bench/bench_util.h"
#include "capture/cap.h"
#include "detect/det.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "../shared/data/mirror-attack-mix.pcap";
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	size_t n = 0;
	struct frame *frames = bench_load_frames("bench_pipeline", path, &n);
	if (!frames)
		return 1;

	struct bench_mirror m;
	if (!bench_mirror_setup("bench_pipeline", &m))
		return 1;
	struct det_counters *c = m.counters;
	struct cap_flowtable *ft = m.flows;

	/* 1: decode + counters */
	struct flow_record r;
	uint64_t pkts = 0, bad = 0;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < n; i++) {
			if (cap_decode_ethernet(frames[i].data, frames[i].len, frames[i].ts, &r) == CAP_DECODE_OK)
				det_counters_add(c, &r, 0);
			else
				bad++;
		}
		pkts += n;
		det_counters_clear(c);
		t = now_s() - t0;
	} while (t < seconds);
	double mpps = pkts / t / 1e6;
	printf("mirror decode+count: %.2f Mpps on one core (%zu-frame capture in memory, %llu passes, budget 10 Mpps: %s)\n",
	       mpps, n, (unsigned long long)(pkts / n), mpps >= 10 ? "met" : "NOT met");

	/* 2: the full worker path: decode + flow table + counters */
	uint64_t exported = 0;
	pkts = 0;
	t0 = now_s();
	uint64_t shift = 0;
	do {
		for (size_t i = 0; i < n; i++) {
			if (cap_decode_ethernet(frames[i].data, frames[i].len, frames[i].ts + shift, &r) != CAP_DECODE_OK)
				continue;
			bool nf = cap_flowtable_add(ft, &r, bench_mirror_discard, &exported);
			det_counters_add(c, &r, nf);
		}
		pkts += n;
		shift += 20ull * 1000000000ull; /* each pass 20 s later: flows expire like a live link */
		cap_flowtable_expire(ft, frames[n - 1].ts + shift, bench_mirror_discard, &exported);
		det_counters_clear(c);
		t = now_s() - t0;
	} while (t < seconds);
	printf("mirror decode+flowtable+count: %.2f Mpps on one core\n", pkts / t / 1e6);
	if (bad)
		printf("(%llu frames did not decode)\n", (unsigned long long)bad);
	return 0;
}
