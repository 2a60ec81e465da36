/* What the fingerprint costs per record of a host under attack (det_fp_acc_add, the workers'
 * per-record path for at most DET_WATCH_MAX hosts), and a merge and a summary (the engine's, per
 * tick and per query). Streams: every record from a new source, source port and destination
 * port (the most work: every Space-Saving summary replaces an entry), and all from one source.
 * Fastest of 7 rounds of 2 M records each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/det_int.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

enum { N = 2000000, ROUNDS = 7 };

static void fill(struct flow_record *r, bool one_source)
{
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memset(&r[i], 0, sizeof r[i]);
		r[i].src.b[10] = r[i].src.b[11] = 0xff;
		if (one_source)
			r[i].src.b[12] = 198, r[i].src.b[13] = 51, r[i].src.b[14] = 100, r[i].src.b[15] = 53;
		else
			memcpy(r[i].src.b + 12, &x, 4);
		r[i].dst.b[10] = r[i].dst.b[11] = 0xff;
		r[i].dst.b[12] = 192, r[i].dst.b[14] = 2, r[i].dst.b[15] = 10;
		r[i].protocol = 17, r[i].packets = 1, r[i].bytes = 100, r[i].sampling_rate = 1;
		r[i].src_port = one_source ? 53 : (uint16_t)(x >> 32);
		r[i].dst_port = (uint16_t)(x >> 48);
	}
}

int main(void)
{
	struct flow_record *r = calloc(N, sizeof *r);
	struct det_fp_acc *a = calloc(1, sizeof *a), *into = calloc(1, sizeof *into);
	if (!r || !a || !into)
		return 1;
	printf("accumulator %zu bytes, summary %zu bytes\n", sizeof *a, sizeof(struct det_fingerprint));
	static const char *const name[2] = {"all random", "one source"};
	for (int s = 0; s < 2; s++) {
		fill(r, s == 1);
		double best = 1e9;
		for (int k = 0; k < ROUNDS; k++) {
			memset(a, 0, sizeof *a);
			double t = now_s();
			for (size_t i = 0; i < N; i++)
				det_fp_acc_add(a, &r[i], DET_IN, 1);
			double d = now_s() - t;
			best = d < best ? d : best;
		}
		printf("%s: %.1f ns per record\n", name[s], best / N * 1e9);
	}
	double merge = 1e9, summary = 1e9;
	struct det_fingerprint fp;
	for (int k = 0; k < ROUNDS * 100; k++) {
		double t = now_s();
		det_fp_acc_merge(into, a);
		double d = now_s() - t;
		merge = d < merge ? d : merge;
		t = now_s();
		det_fp_acc_summary(into, &fp);
		d = now_s() - t;
		summary = d < summary ? d : summary;
	}
	printf("merge %.2f us, summary %.2f us (distinct sources ~%llu)\n", merge * 1e6, summary * 1e6,
	       (unsigned long long)fp.distinct_peers);
	free(r);
	free(a);
	free(into);
	return 0;
}
