/* DPDK's own figure: Rampart's DPDK worker (capture/dpdk.c: rte_eth_rx_burst, decode, free) with
 * the per-host counting behind it, on one pinned core, fed from memory so that neither a NIC nor
 * a kernel path is measured.
 *
 * The port is net_ring0 (--vdev=net_ring0: an ethdev whose RX queue is an rte_ring). A feeder
 * thread on the other core keeps that ring full with mbufs of the shared capture, built once: a
 * pool of one mbuf per frame, filled at start. The worker's rte_pktmbuf_free_bulk returns each
 * mbuf to the pool untouched (its data, data_off and lengths stay), and the feeder takes it back
 * out and enqueues it again, as a NIC's driver refills its ring from the pool: the worker pays
 * the ring dequeue, the cold mbuf header and frame, the decode, the counting and the free, as on
 * a NIC; only the NIC's descriptor handling is left out. No copy and no refcount: the feeder
 * touches pointers only.
 *
 * In the same run: the ceiling (bench_pipeline's decode + count loop over the same frames held in
 * an array, no DPDK) and net_pcap0 with infinite_rx=1 (the PMD copies each frame into a fresh
 * mbuf), each with and without the mirror flow table, on the same pinned core, so the ratios are
 * measured minutes apart at most.
 *
 * bench_dpdk_ring CAPTURE [SECONDS [WORKER_CPU [FEEDER_CPU]]]; default 3 s per figure, the worker
 * on CPU 1 and the feeder on CPU 0. Needs root (the EAL), no hugepages (--no-huge). */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_util.h"

#ifndef RAMPART_DPDK
int main(void)
{
	printf("bench_dpdk_ring: built without DPDK (pkg-config found no libdpdk): no figure\n");
	return 0;
}
#else
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "bench/bench_mirror.h"
#include "capture/cap.h"
#include "capture/flows.h"
#include "capture/source.h"
#include "detect/det.h"

#define FEED_BURST 32

struct count_ctx {
	struct det_counters *c;
	struct cap_flowtable *ft; /* NULL: decode + count only */
	uint64_t records, exported, pass, shift_ns;
	size_t frames_per_pass;
};

/* What the daemon's worker does per record (rampartd/worker.c on_record), without the tick
 * hand-over: the counters are cleared once per pass over the capture, as bench_pipeline does. */
static void on_record(void *arg, const struct flow_record *r)
{
	struct count_ctx *x = arg;
	bool nf = false;
	if (x->ft) {
		struct flow_record moved = *r;
		moved.start_ns += x->shift_ns;
		moved.end_ns += x->shift_ns;
		nf = cap_flowtable_add(x->ft, &moved, bench_mirror_discard, &x->exported);
	}
	det_counters_add(x->c, r, nf);
	if (++x->pass == x->frames_per_pass) {
		x->pass = 0;
		if (x->ft) { /* each pass 20 s later: flows expire like a live link's */
			x->shift_ns += 20ull * 1000000000ull;
			cap_flowtable_expire(x->ft, r->start_ns + x->shift_ns, bench_mirror_discard, &x->exported);
		}
		det_counters_clear(x->c);
	}
}

struct feeder {
	struct rte_mempool *pool;
	struct rte_ring *ring;
	int cpu;
	atomic_bool stop;
	uint64_t enqueued, full; /* full: bursts the ring could not take whole (the worker is behind) */
	uint64_t tries;
};

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	if (rc != 0)
		fprintf(stderr, "bench_dpdk_ring: cannot pin to CPU %d: %d\n", cpu, rc);
}

/* Not an lcore: no mempool cache, so every get comes from the pool's ring in the order the
 * worker's cache flushed them, and every frame of the capture goes round. */
static void *feed(void *arg)
{
	struct feeder *f = arg;
	pin(f->cpu);
	pthread_setname_np(pthread_self(), "feeder");
	prctl(PR_SET_TIMERSLACK, 1000ul); /* 1 us: the sleep above is short */
	void *objs[FEED_BURST];
	while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
		if (rte_mempool_generic_get(f->pool, objs, FEED_BURST, NULL) != 0) {
			rte_pause();
			continue;
		}
		f->tries++;
		unsigned done = rte_ring_enqueue_burst(f->ring, objs, FEED_BURST, NULL);
		if (done < FEED_BURST)
			f->full++;
		while (done < FEED_BURST && !atomic_load_explicit(&f->stop, memory_order_relaxed)) {
			unsigned n = rte_ring_enqueue_burst(f->ring, objs + done, FEED_BURST - done, NULL);
			/* the ring is full: sleep rather than spin, so that on a shared core the
			 * scheduler runs the feeder first when it wakes (a spinning feeder uses up its
			 * share and is preempted for milliseconds, and 1023 frames last 0.1 ms) */
			if (n == 0)
				nanosleep(&(struct timespec){.tv_nsec = 10000}, NULL);
			done += n;
		}
		f->enqueued += done;
		if (done < FEED_BURST)
			rte_mempool_generic_put(f->pool, objs + done, FEED_BURST - done, NULL);
	}
	return NULL;
}

/* A figure two ways: frames per second of wall time, and per second of the thread's own CPU
 * time. On a shared machine the second is the per-core figure: time the scheduler gave to other
 * processes does not count against the worker (time it spun on an empty ring does). */
struct figure {
	double wall, cpu; /* Mpps */
};

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct worker_run {
	struct cap_src *src;
	struct count_ctx *ctx;
	double seconds;
	int cpu;
	struct figure fig;
	char err[256];
};

/* The daemon's worker loop (rampartd/worker.c worker_main): bursts of up to 512 frames. */
static void *work(void *arg)
{
	struct worker_run *w = arg;
	pin(w->cpu);
	pthread_setname_np(pthread_self(), "worker");
	struct cap_src_stats st0, st1;
	/* the first dispatch registers the thread as an lcore and warms the caches */
	cap_src_dispatch(w->src, 512, on_record, w->ctx, w->err, sizeof w->err);
	cap_src_stats(w->src, &st0);
	double t0 = now_s(), c0 = thread_cpu_s(), t;
	do {
		for (int i = 0; i < 64; i++)
			if (cap_src_dispatch(w->src, 512, on_record, w->ctx, w->err, sizeof w->err) < 0)
				return NULL;
		t = now_s() - t0;
	} while (t < w->seconds);
	double c = thread_cpu_s() - c0;
	cap_src_stats(w->src, &st1);
	double frames = (double)(st1.frames - st0.frames);
	w->fig = (struct figure){frames / t / 1e6, c > 0 ? frames / c / 1e6 : 0};
	return NULL;
}

static struct figure run_worker(struct cap_src *src, struct count_ctx *ctx, double seconds, int cpu)
{
	struct worker_run w = {.src = src, .ctx = ctx, .seconds = seconds, .cpu = cpu};
	pthread_t th;
	if (pthread_create(&th, NULL, work, &w) != 0)
		return w.fig;
	pthread_join(th, NULL);
	if (!w.fig.wall)
		fprintf(stderr, "bench_dpdk_ring: %s: %s\n", cap_src_name(src), w.err);
	return w.fig;
}

/* bench_pipeline's loop on the same frames and core: the ceiling without DPDK. */
struct ceiling_run {
	struct frame *frames;
	size_t n;
	struct count_ctx *ctx;
	double seconds;
	int cpu;
	struct figure fig;
};

static void *ceiling(void *arg)
{
	struct ceiling_run *c = arg;
	pin(c->cpu);
	struct flow_record r;
	uint64_t pkts = 0;
	double t0 = now_s(), c0 = thread_cpu_s(), t;
	do {
		for (size_t i = 0; i < c->n; i++)
			if (cap_decode_ethernet(c->frames[i].data, c->frames[i].len, c->frames[i].ts, &r) == CAP_DECODE_OK)
				on_record(c->ctx, &r);
		pkts += c->n;
		t = now_s() - t0;
	} while (t < c->seconds);
	double cpu = thread_cpu_s() - c0;
	c->fig = (struct figure){pkts / t / 1e6, cpu > 0 ? pkts / cpu / 1e6 : 0};
	return NULL;
}

static struct figure run_ceiling(struct frame *frames, size_t n, struct count_ctx *ctx, double seconds, int cpu)
{
	struct ceiling_run c = {.frames = frames, .n = n, .ctx = ctx, .seconds = seconds, .cpu = cpu};
	pthread_t th;
	if (pthread_create(&th, NULL, ceiling, &c) != 0)
		return c.fig;
	pthread_join(th, NULL);
	return c.fig;
}

static struct cap_src *open_port(const char *port, struct cap_dpdk *d)
{
	struct cap_src_spec spec = {
		.kind = CAP_SRC_DPDK, .key = "bench", .name = port, .sample = 1, .member = 0, .members = 1, .dpdk = d};
	char err[256];
	struct cap_src *s = cap_src_open(&spec, err, sizeof err);
	if (!s)
		fprintf(stderr, "bench_dpdk_ring: %s\n", err);
	return s;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "../shared/data/mirror-attack-mix.pcap";
	double seconds = argc > 2 ? atof(argv[2]) : 3.0;
	int wcpu = argc > 3 ? atoi(argv[3]) : 1, fcpu = argc > 4 ? atoi(argv[4]) : 0;
	size_t n = 0;
	struct frame *frames = bench_load_frames("bench_dpdk_ring", path, &n);
	if (!frames || n == 0)
		return 1;
	if (geteuid() != 0) {
		printf("bench_dpdk_ring: needs root (the DPDK EAL): no figure\n");
		return 0;
	}
	/* mbufs in flight: a NIC's RX ring (capture/dpdk.c gives it 4096 descriptors) plus the
	 * pool's caches cycle through about this many, so the frames are as cold as a NIC's are
	 * and no colder; POOL=all cycles one mbuf per frame of the capture (48 MB, past the L3) */
	const char *pool_env = getenv("POOL");
	size_t n_mbufs = pool_env && strcmp(pool_env, "all") == 0 ? n : pool_env ? strtoul(pool_env, NULL, 10) : 4096;
	if (n_mbufs == 0 || n_mbufs > n)
		n_mbufs = n;

	struct bench_mirror m;
	if (!bench_mirror_setup("bench_dpdk_ring", &m))
		return 1;
	struct det_counters *c = m.counters;
	struct cap_flowtable *ft = m.flows;

	char prefix[64], pcapdev[1200];
	snprintf(prefix, sizeof prefix, "--file-prefix=bench_dpdk%d", (int)getpid());
	snprintf(pcapdev, sizeof pcapdev, "--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1", path);
	char *eal[] = {"--no-huge", "-m", "512", "--no-shconf", prefix, "-l", "0", "--no-pci", "--no-telemetry",
		       "--log-level=lib.eal:warning", "--vdev=net_ring0", pcapdev};
	char *ports[] = {"net_ring0", "net_pcap0"};
	struct cap_dpdk_spec ds = {.key = "bench", .eal = eal, .n_eal = sizeof eal / sizeof *eal, .ports = ports,
				   .n_ports = 2, .rx_queues = 1, .workers = 1};
	char err[512];
	struct cap_dpdk *d = cap_dpdk_start(&ds, err, sizeof err);
	if (!d) {
		fprintf(stderr, "bench_dpdk_ring: %s\n", err);
		return 1;
	}
	/* net_ring's queue 0: the ring it creates for a --vdev port (RX and TX share it) */
	struct rte_ring *ring = rte_ring_lookup("ETH_RXTX0_net_ring0");
	struct rte_mempool *pool = rte_pktmbuf_pool_create("bench_feed", (unsigned)n_mbufs, 256, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE, (int)SOCKET_ID_ANY);
	struct rte_mbuf **ms = calloc(n_mbufs, sizeof *ms);
	if (!ring || !pool || !ms) {
		fprintf(stderr, "bench_dpdk_ring: no net_ring0 ring or no memory for %zu mbufs\n", n_mbufs);
		return 1;
	}
	/* frames spread evenly over the capture, so the mix (victims, background, IPv6, VLAN,
	 * fragments) is the capture's */
	for (size_t i = 0; i < n_mbufs; i++) {
		const struct frame *fr = &frames[i * n / n_mbufs];
		if (!(ms[i] = rte_pktmbuf_alloc(pool))) {
			fprintf(stderr, "bench_dpdk_ring: pool too small\n");
			return 1;
		}
		uint32_t len = fr->len;
		if (len > rte_pktmbuf_tailroom(ms[i]))
			len = rte_pktmbuf_tailroom(ms[i]); /* the decoder reads headers only */
		memcpy(rte_pktmbuf_append(ms[i], (uint16_t)len), fr->data, len);
	}
	/* straight into the pool's ring: the main lcore's cache would keep a few out of the round */
	rte_mempool_generic_put(pool, (void **)ms, (unsigned)n_mbufs, NULL);

	struct cap_src *ring_src = open_port("net_ring0", d), *pcap_src = open_port("net_pcap0", d);
	if (!ring_src || !pcap_src)
		return 1;

	struct count_ctx count = {.c = c, .frames_per_pass = n}, flows = {.c = c, .ft = ft, .frames_per_pass = n};
	printf("bench_dpdk_ring: %zu-frame capture, %zu mbufs cycling through net_ring0, worker on CPU %d, feeder "
	       "on CPU %d, %.0f s per figure\n", n, n_mbufs, wcpu, fcpu, seconds);
	struct feeder f = {.pool = pool, .ring = ring, .cpu = fcpu};
	pthread_t fth;
	if (pthread_create(&fth, NULL, feed, &f) != 0)
		return 1;
	if (getenv("BENCH_RING_ONLY")) { /* for a profile of the net_ring worker alone */
		struct figure r = run_worker(ring_src, &count, seconds, wcpu);
		printf("net_ring0 decode+count %.2f Mpps (%.2f per CPU-second)\n", r.wall, r.cpu);
		atomic_store(&f.stop, true);
		pthread_join(fth, NULL);
		return 0;
	}
	struct figure ceil_count = run_ceiling(frames, n, &count, seconds, wcpu);
	det_counters_clear(c);
	uint64_t full0 = f.full, tries0 = f.tries;
	struct figure ring_count = run_worker(ring_src, &count, seconds, wcpu);
	uint64_t full_count = f.full - full0, tries_count = f.tries - tries0;
	det_counters_clear(c);
	struct figure ring_flows = run_worker(ring_src, &flows, seconds, wcpu);
	atomic_store(&f.stop, true);
	pthread_join(fth, NULL);
	det_counters_clear(c);
	struct figure pcap_count = run_worker(pcap_src, &count, seconds, wcpu);
	det_counters_clear(c);
	struct figure pcap_flows = run_worker(pcap_src, &flows, seconds, wcpu);
	det_counters_clear(c);
	struct figure ceil_flows = run_ceiling(frames, n, &flows, seconds, wcpu);

	/* per CPU-second first: the per-core figure on a machine shared with other work */
	printf("ceiling (bench_pipeline's loop, frames in an array, no DPDK): decode+count %.2f Mpps per "
	       "CPU-second (%.2f wall), decode+flowtable+count %.2f (%.2f wall)\n",
	       ceil_count.cpu, ceil_count.wall, ceil_flows.cpu, ceil_flows.wall);
	printf("dpdk worker on net_ring0 (fed from memory): decode+count %.2f Mpps per CPU-second (%.2f wall) = "
	       "%.2f of the ceiling (budget 10 Mpps: %s); decode+flowtable+count %.2f (%.2f wall) = %.2f of the "
	       "ceiling\n", ring_count.cpu, ring_count.wall, ceil_count.cpu ? ring_count.cpu / ceil_count.cpu : 0,
	       ring_count.cpu >= 10 ? "met" : "NOT met", ring_flows.cpu, ring_flows.wall,
	       ceil_flows.cpu ? ring_flows.cpu / ceil_flows.cpu : 0);
	printf("dpdk worker on net_pcap0 infinite_rx (the PMD copies each frame): decode+count %.2f Mpps per "
	       "CPU-second (%.2f wall) = %.2f of the ceiling; decode+flowtable+count %.2f (%.2f wall); "
	       "net_ring / net_pcap %.2f\n", pcap_count.cpu, pcap_count.wall,
	       ceil_count.cpu ? pcap_count.cpu / ceil_count.cpu : 0, pcap_flows.cpu, pcap_flows.wall,
	       pcap_count.cpu ? ring_count.cpu / pcap_count.cpu : 0);
	printf("feeder: the ring was full at %.0f %% of its bursts in the decode+count run (near 100 %%: the "
	       "worker was the limit; low: the feeder, on a busy core, was)\n",
	       tries_count ? 100.0 * (double)full_count / (double)tries_count : 0);
	cap_src_close(ring_src);
	cap_src_close(pcap_src);
	cap_dpdk_stop(d);
	return 0;
}
#endif
