/* detect/ on its own: how many flow records per second one worker counts (two LPM lookups, a
 * hash probe or two, the class counters), and what a tick costs the main loop with 100 000
 * hosts (merge + rates + thresholds). Records are generated in memory, so only detect/ is timed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "detect/det.h"

#define NS 1000000000ull

/* resident memory now, bytes */
static size_t rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* n records to `hosts` destinations in 10.0.0.0/8 or 2001:db8:10::/48 (a third are IPv6),
 * sources half outside, half among the same hosts (so half the records count twice: about 2 *
 * hosts distinct hosts in all), mixed protocols, half of them sampled 1:1000 */
static struct flow_record *make_records(size_t n, uint32_t hosts)
{
	struct flow_record *r = calloc(n, sizeof *r);
	static const uint8_t protos[] = {6, 17, 1, 6, 17, 58};
	for (size_t i = 0; i < n; i++) {
		uint32_t h = next() % hosts, s = next();
		if (i % 3 == 2) {
			uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, h >> 24, h >> 16, h >> 8, h};
			uint32_t o = (s >> 8) % hosts;
			uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, s & 1 ? 0x10 : 0x99, 0, 0, 0, 0, 0, 0, o >> 24, o >> 16, o >> 8, o};
			ip_from_v6(&r[i].dst, d6);
			ip_from_v6(&r[i].src, s6);
			r[i].ip_version = 6;
		} else {
			ip_from_v4_u32(&r[i].dst, 0x0A000000u | h);
			ip_from_v4_u32(&r[i].src, s & 1 ? 0x0A000000u | (s >> 8) % hosts : 0xC6336400u | (s & 0xff));
			r[i].ip_version = 4;
		}
		r[i].protocol = protos[i % 6];
		r[i].tcp_flags = i % 4 ? 0x10 : 0x02;
		r[i].flags = i % 50 == 0 ? 0x01 : 0;
		r[i].packets = 1;
		r[i].bytes = 64 + (s % 1400);
		r[i].sampling_rate = i % 2 ? 1 : 1000;
	}
	return r;
}

/* The fastest of 7 merge + tick rounds of c into e (other work on the machine only ever adds),
 * merge and tick apart, in seconds; *now advances a tick per round. */
static void best_merge_tick(struct det_engine *e, struct det_counters *c, uint64_t *now, double *merge,
			    double *tick)
{
	for (int i = 0; i < 7; i++) {
		double a = now_s();
		det_engine_merge(e, c);
		double b = now_s();
		*now += NS / 10;
		det_engine_tick(e, *now, NULL, NULL);
		double d = now_s();
		if (i == 0 || b - a < *merge)
			*merge = b - a;
		if (i == 0 || d - b < *tick)
			*tick = d - b;
	}
}

int main(void)
{
	struct det_config cfg;
	det_config_defaults(&cfg);
	ip_prefix nets[3], g1[2];
	ip_prefix_parse("10.0.0.0/8", &nets[0]);
	ip_prefix_parse("2001:db8:10::/48", &nets[1]);
	ip_prefix_parse("192.0.2.0/24", &nets[2]);
	ip_prefix_parse("10.1.0.0/16", &g1[0]);
	ip_prefix_parse("2001:db8:10:1::/64", &g1[1]);
	struct det_hostgroup groups[2];
	memset(groups, 0, sizeof groups);
	groups[0].thresholds.limit[DET_IN][DET_TOTAL][DET_PPS] = 1000000000; /* checked, never hit */
	groups[1].prefixes = g1, groups[1].n_prefixes = 2;
	groups[1].thresholds.limit[DET_IN][DET_UDP][DET_PPS] = 1000000000;
	groups[0].total.limit[DET_IN][DET_TOTAL][DET_BPS] = 1000000000000000ull; /* summed, never hit */
	cfg.networks = nets, cfg.n_networks = 3;
	cfg.groups = groups, cfg.n_groups = 2;
	cfg.max_hosts = 1 << 18;
	struct det_networks *dn = det_networks_new(&cfg);

	/* 1: counting, one worker, ~100k and ~10k hosts per tick */
	const size_t N = 1 << 20;
	uint32_t sizes[] = {50000, 5000}; /* ~100k and ~10k distinct hosts */
	for (int k = 0; k < 2; k++) {
		struct flow_record *r = make_records(N, 2 * sizes[k]);
		struct det_counters *c = det_counters_new(dn, cfg.max_hosts);
		uint64_t recs = 0;
		double t0 = now_s(), t;
		do {
			for (size_t i = 0; i < N; i++)
				det_counters_add(c, &r[i], 1);
			recs += N;
			det_counters_clear(c);
			t = now_s() - t0;
		} while (t < 1.5);
		printf("det_counters_add: %.1f M records/s (~%u hosts per tick, 1.5 host updates per record, clear included)\n",
		       recs / t / 1e6, 2 * sizes[k]);
		det_counters_free(c);
		free(r);
	}

	/* 2: a tick with 100k hosts, each with fresh counts (the worst case: all busy) */
	struct flow_record *r = make_records(N, 50000);
	struct det_counters *c = det_counters_new(dn, cfg.max_hosts);
	for (size_t i = 0; i < N; i++)
		det_counters_add(c, &r[i], 1);
	struct det_engine *e = det_engine_new(&cfg, dn);
	uint64_t now = 1000 * NS;
	det_engine_merge(e, c);
	det_engine_tick(e, now, NULL, NULL);
	size_t hosts = det_engine_hosts(e);
	double merge = 0, tick = 0;
	int rounds = 20;
	for (int i = 0; i < rounds; i++) {
		double t0 = now_s();
		det_engine_merge(e, c);
		double t1 = now_s();
		now += NS / 10;
		det_engine_tick(e, now, NULL, NULL);
		double t2 = now_s();
		merge += t1 - t0;
		tick += t2 - t1;
	}
	printf("engine with %zu hosts: merge %.2f ms, tick %.2f ms (budget: well under tick_ms %u)\n", hosts,
	       merge / rounds * 1e3, tick / rounds * 1e3, cfg.tick_ms);

	struct det_host_info top[100];
	double t0 = now_s();
	size_t got = det_engine_top(e, DET_IN, DET_PPS, top, 100);
	printf("det_engine_top(100) over %zu hosts: %.2f ms (%zu)\n", hosts, (now_s() - t0) * 1e3, got);
	det_engine_free(e);
	det_counters_free(c);
	free(r);

	/* 3: memory at 1 M active hosts (the default max_hosts): resident bytes the engine and one
	 * worker's counters set gain per host, and what a tick costs at that size */
	const uint32_t M = 1u << 20;
	cfg.max_hosts = M;
	size_t base = rss();
	c = det_counters_new(dn, M);
	e = det_engine_new(&cfg, dn);
	size_t empty = rss();
	struct flow_record one;
	memset(&one, 0, sizeof one);
	one.protocol = 17, one.packets = 1, one.bytes = 100, one.sampling_rate = 1, one.ip_version = 4;
	ip_from_v4_u32(&one.src, 0xC6336401u); /* outside: only the destination counts */
	for (uint32_t h = 0; h < M; h++) {
		ip_from_v4_u32(&one.dst, 0x0A000000u | h);
		det_counters_add(c, &one, 1);
	}
	size_t counted = rss();
	det_engine_merge(e, c);
	now += NS / 10;
	det_engine_tick(e, now, NULL, NULL);
	size_t merged = rss();
	hosts = det_engine_hosts(e);
	/* every host busy in every tick: the worst case; the fastest of 7 rounds (other work on the
	 * machine only ever adds), merge and tick apart */
	double m1, t1;
	best_merge_tick(e, c, &now, &m1, &t1);
	printf("1 M active hosts: engine %zu hosts, %.0f bytes/host resident (%.1f MiB); worker counters set "
	       "%.0f bytes/host (%.1f MiB); empty tables %.1f MiB resident\n",
	       hosts, (double)(merged - counted) / hosts, (merged - counted) / 1048576.0,
	       (double)(counted - empty) / M, (counted - empty) / 1048576.0, (empty - base) / 1048576.0);
	printf("1 M hosts, all busy every tick: merge %.1f ms + tick %.1f ms = %.1f ms (tick_ms %u)\n", m1 * 1e3,
	       t1 * 1e3, (m1 + t1) * 1e3, cfg.tick_ms);
	/* 1 M hosts known, 10 000 of them busy (1 %): the tick must cost what changed */
	det_counters_clear(c);
	for (uint32_t h = 0; h < M; h += M / 10000) {
		ip_from_v4_u32(&one.dst, 0x0A000000u | h);
		det_counters_add(c, &one, 1);
	}
	struct det_engine_stats before, after;
	det_engine_stats(e, &before);
	best_merge_tick(e, c, &now, &m1, &t1);
	det_engine_stats(e, &after);
	printf("1 M hosts, %zu busy per tick: merge %.2f ms + tick %.2f ms\n", det_counters_hosts(c), m1 * 1e3,
	       t1 * 1e3);
	/* the table is full: a busy host it does not hold gets in by pushing a quieter one out */
	printf("  full table: %" PRIu64 " hosts pushed out, %" PRIu64 " host counts refused in these 7 rounds\n",
	       after.hosts_evicted - before.hosts_evicted,
	       after.hosts_overflow[DET_IN] + after.hosts_overflow[DET_OUT] - before.hosts_overflow[DET_IN] -
		       before.hosts_overflow[DET_OUT]);
	det_engine_free(e);
	det_counters_free(c);
	det_networks_free(dn);
	return 0;
}
