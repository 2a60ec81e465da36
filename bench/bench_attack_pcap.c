/* What attack sample packets (detection.attack_pcap) cost the worker's per-packet path, on one
 * core, from the shared mirror capture held in memory, with its five attacks active in the
 * engine (found by running the capture through counters -> merge -> tick first):
 *   1. decode + flow table + counters: the path without the feature (bench_pipeline's second line)
 *   2. the same + the sampling hook with the feature off
 *   3. + the hook on, every attack already holding its `packets` samples (the steady state)
 *   4. + the hook on, copying every attacked frame into the ring (drained between passes, outside
 *      the timing; a pass has more attacked frames than the ring has slots, so the rest are the
 *      full-ring drop path)
 * Each line is the best of 8 interleaved runs. Usage: bench_attack_pcap [CAPTURE] [SECONDS per line] */
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "capture/cap.h"
#include "detect/det.h"
#include "storage/samples.h"


static void discard(void *ctx, const struct flow_record *f)
{
	(*(uint64_t *)ctx) += f->packets;
}

static void no_event(void *ctx, const struct det_event *ev)
{
	(void)ev;
	(*(int *)ctx)++;
}

enum mode { BASE, HOOK_OFF, HOOK_ON };

static double run(enum mode m, const struct frame *frames, size_t n, struct det_counters *c, struct cap_flowtable *ft,
		  struct st_samples *a, struct st_samples_producer *p, double seconds)
{
	struct flow_record r;
	uint64_t pkts = 0, exported = 0, shift = 0;
	double busy = 0;
	do {
		double t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			if (cap_decode_ethernet(frames[i].data, frames[i].len, frames[i].ts + shift, &r) != CAP_DECODE_OK)
				continue;
			bool nf = cap_flowtable_add(ft, &r, discard, &exported);
			det_counters_add(c, &r, nf);
			if (m == BASE)
				continue;
			/* worker.c's sample(): the same calls */
			if (!p)
				continue;
			enum det_direction dir;
			uint64_t id = det_counters_attack_of(c, &r, &dir);
			if (id) {
				struct cap_frame f = {.data = frames[i].data, .caplen = frames[i].len,
						      .len = frames[i].len, .dlt = DLT_EN10MB};
				st_samples_sample(p, id, dir, &r, &f);
			}
		}
		pkts += n;
		shift += 20ull * 1000000000ull;
		cap_flowtable_expire(ft, frames[n - 1].ts + shift, discard, &exported);
		busy += now_s() - t0;
		if (a)
			st_samples_drain(a, NULL, 0); /* off the clock, as on the main loop */
	} while (busy < seconds);
	return pkts / busy / 1e6;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "../shared/data/mirror-attack-mix.pcap";
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	size_t n = 0;
	struct frame *frames = bench_load_frames("bench_attack_pcap", path, &n);
	if (!frames)
		return 1;

	struct det_config cfg;
	det_config_defaults(&cfg);
	ip_prefix nets[2];
	ip_prefix_parse("192.0.2.0/24", &nets[0]);
	ip_prefix_parse("2001:db8:10::/48", &nets[1]);
	struct det_hostgroup g = {.name = "default"};
	g.thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 500;
	cfg.networks = nets;
	cfg.n_networks = 2;
	cfg.groups = &g;
	cfg.n_groups = 1;
	struct det_networks *dn = det_networks_new(&cfg);
	struct det_engine *e = det_engine_new(&cfg, dn);
	struct det_counters *c = det_counters_new(dn, 1 << 16);
	struct cap_flowtable *ft = cap_flowtable_new(1 << 18, 60, 15);
	if (!dn || !e || !c || !ft) {
		fprintf(stderr, "bench_attack_pcap: setup failed\n");
		return 1;
	}
	/* the attacks: the capture through counters, merged and ticked every 100 ms of its clock */
	int events = 0;
	uint64_t tick = 100000000ull, next = (frames[0].ts / tick + 1) * tick;
	struct flow_record r;
	for (size_t i = 0; i < n; i++) {
		while (frames[i].ts >= next) {
			det_engine_merge(e, c);
			det_counters_clear(c);
			det_engine_tick(e, next, no_event, &events);
			next += tick;
		}
		if (cap_decode_ethernet(frames[i].data, frames[i].len, frames[i].ts, &r) == CAP_DECODE_OK)
			det_counters_add(c, &r, 0);
	}
	det_engine_merge(e, c); /* hands c the set of hosts under attack */
	det_counters_clear(c);
	struct det_ban_info bans[8];
	size_t nb = det_engine_bans(e, bans, 8);
	printf("attacks active: %zu (%d events)\n", nb, events);

	char dir[] = "/tmp/rampart_bench_attack_pcap.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	struct st_samples_config steady = {.enabled = true, .packets = 500, .snaplen = 256};
	struct st_samples_config copying = {.enabled = true, .packets = 100000, .snaplen = 256};
	snprintf(steady.dir, sizeof steady.dir, "%s/steady", dir);
	snprintf(copying.dir, sizeof copying.dir, "%s/copying", dir);
	char err[256];
	struct st_samples *a1 = st_samples_new(&steady, dir, err, sizeof err);
	struct st_samples *a2 = st_samples_new(&copying, dir, err, sizeof err);
	struct st_samples_producer *p1 = st_samples_producer(a1, 0), *p2 = st_samples_producer(a2, 0);
	if (!p1 || !p2) {
		fprintf(stderr, "bench_attack_pcap: %s\n", err);
		return 1;
	}
	/* the steady state: fill every attack's quota first */
	run(HOOK_ON, frames, n, c, ft, a1, p1, 0.01);

	/* the machine is shared: the modes take turns in short runs, and each keeps its best run (the
	 * least disturbed), so a neighbour's burst does not land on one mode only */
	double base = 0, off = 0, on = 0, cp = 0, x;
	for (int round = 0; round < 8; round++) {
		if ((x = run(BASE, frames, n, c, ft, NULL, NULL, seconds / 8)) > base)
			base = x;
		if ((x = run(HOOK_OFF, frames, n, c, ft, NULL, NULL, seconds / 8)) > off)
			off = x;
		if ((x = run(HOOK_ON, frames, n, c, ft, a1, p1, seconds / 8)) > on)
			on = x;
		if ((x = run(HOOK_ON, frames, n, c, ft, a2, p2, seconds / 8)) > cp)
			cp = x;
	}
	struct st_samples_stats s1, s2;
	st_samples_stats(a1, &s1);
	st_samples_stats(a2, &s2);
	printf("decode+flowtable+count, no sampling hook:        %.2f Mpps\n", base);
	printf("  + hook, attack_pcap off:                        %.2f Mpps (%+.1f%%)\n", off, 100 * (off / base - 1));
	printf("  + hook on, 5 attacks, quotas full (steady):     %.2f Mpps (%+.1f%%)\n", on, 100 * (on / base - 1));
	printf("  + hook on, 5 attacks, copying 256 B per frame:  %.2f Mpps (%+.1f%%; %llu copied, %llu ring-full drops)\n",
	       cp, 100 * (cp / base - 1), (unsigned long long)s2.written, (unsigned long long)s2.dropped);
	printf("(steady run: %llu samples written in all)\n", (unsigned long long)s1.written);
	st_samples_free(a1);
	st_samples_free(a2);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
