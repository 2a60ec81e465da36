/* The ban state file (mitigation/state.c): what a write costs the main loop, and what the load at
 * start costs, for N API routes and M bans (default 100 000 pipe routes with a community and
 * 1 000 manual bans). A write is the timer's serialisation on the main loop (the snapshot as
 * text), then write, fsync, rename, fsync of the directory on the writer thread; each has its own
 * figure (mit_state_stats: last_serialise_us, last_write_us). The load is
 * read + parse + every record put back (routes into the route table, bans into detection);
 * the parse alone is timed too. No BGP speaker: the RIB-out is not part of this cost.
 *
 *   bench_banstate [ROUTES [BANS [DIR]]]      DIR: where the file goes (default /tmp) */
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "lib/log.h"
#include "api/api.h"
#include "lib/clock.h"
#include "mitigation/internal.h"
#include "rampartd/daemon.h"

static char path[512];

static struct rampart *up(size_t bans)
{
	struct rampart *rp = calloc(1, sizeof *rp);
	char yaml[1024], err[256];
	snprintf(yaml, sizeof yaml,
		 "networks: [10.0.0.0/8]\n"
		 "thresholds: { incoming: { pps: 500 } }\n"
		 "mitigation: { action: blackhole, max_bans: %zu, state_file: \"%s\" }\n"
		 "api: { socket: /tmp/unused.sock, http: \"\" }\n",
		 bans + 10, path);
	if (conf_load_string(yaml, strlen(yaml), "bench.yaml", &rp->conf, err, sizeof err) != 0) {
		fprintf(stderr, "bench_banstate: %s\n", err);
		exit(1);
	}
	rp->base = event_base_new();
	rp->networks = det_networks_new(&rp->conf.detect);
	rp->engine = det_engine_new(&rp->conf.detect, rp->networks);
	rp->mit = mit_new(&(struct mit_deps){.conf = &rp->conf, .base = rp->base, .networks = rp->networks,
					     .engine = rp->engine});
	if (!rp->base || !rp->engine || !rp->mit || !mit_state_new(rp->mit)) {
		fprintf(stderr, "bench_banstate: cannot set up\n");
		exit(1);
	}
	return rp;
}

/* clean: the last write at free (as at SIGTERM); else the file stays as the timer wrote it */
static void down(struct rampart *rp)
{
	mit_state_close(rp->mit);
	mit_free(rp->mit);
	det_engine_free(rp->engine);
	det_networks_free(rp->networks);
	event_base_free(rp->base);
	conf_free(&rp->conf);
	free(rp);
}

static void nop_rec(void *ctx, const struct mit_state_rec *r)
{
	(void)r;
	(*(size_t *)ctx)++;
}

static void nop_err(void *ctx, size_t line, const char *why)
{
	(void)ctx, (void)line, (void)why;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n_routes = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t n_bans = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
	const char *dir = argc > 3 ? argv[3] : "/tmp";
	if (n_routes > 1u << 20 || n_bans > 64000) {
		fprintf(stderr, "bench_banstate: at most 1048576 routes and 64000 bans\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/bench_banstate.%d/bans.state", dir, (int)getpid());
	log_set_level(LOG_LVL_WARN); /* a line per restored ban otherwise */

	struct rampart *rp = up(n_bans);
	rp->clock_ns = clock_wall_ns();
	mit_state_load(rp->mit, rp->clock_ns); /* no file: a first start */
	struct evbuffer *reply = evbuffer_new();
	char line[256];
	double t0 = now_s();
	for (size_t i = 0; i < n_routes; i++) {
		/* 198.18.0.0/15 holds 131 072 /32s, then 100.64.0.0/10 */
		uint32_t a = i < 131072 ? 0xC6120000u + (uint32_t)i : 0x64400000u + (uint32_t)(i - 131072);
		snprintf(line, sizeof line, "announce route %u.%u.%u.%u/32 next-hop 10.0.0.1 community [65001:666]",
			 a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		if (mit_exabgp_command(rp->mit, MIT_SRC_API, line, reply) != 0) {
			fprintf(stderr, "bench_banstate: %s refused\n", line);
			return 1;
		}
		evbuffer_drain(reply, evbuffer_get_length(reply));
	}
	for (size_t i = 0; i < n_bans; i++) {
		snprintf(line, sizeof line, "ban 10.1.%zu.%zu --for 3600", i / 250, i % 250 + 1);
		if (api_command(rd_api_ctx(rp), line, reply) != 0) {
			fprintf(stderr, "bench_banstate: %s refused\n", line);
			return 1;
		}
		evbuffer_drain(reply, evbuffer_get_length(reply));
	}
	double fill = now_s() - t0;

	/* writes, each from the timer as on the main loop */
	enum { RUNS = 7 };
	double w[RUNS], ser[RUNS];
	struct mit_state_stats st;
	for (int r = 0; r < RUNS; r++) {
		mit_state_changed(rp->mit);
		event_base_loop(rp->base, EVLOOP_ONCE);
		mit_state_sync(rp->mit);
		mit_state_stats(rp->mit, &st);
		ser[r] = (double)st.last_serialise_us / 1e3;
		w[r] = (double)st.last_write_us / 1e3;
	}
	if (st.writes < RUNS || st.write_errors) {
		fprintf(stderr, "bench_banstate: %llu writes, %llu failed\n", (unsigned long long)st.writes,
			(unsigned long long)st.write_errors);
		return 1;
	}
	qsort(w, RUNS, sizeof w[0], cmp);
	qsort(ser, RUNS, sizeof ser[0], cmp);
	down(rp);

	/* the parse alone, from memory */
	FILE *f = fopen(path, "r");
	struct stat sb;
	if (!f || fstat(fileno(f), &sb) != 0) {
		fprintf(stderr, "bench_banstate: %s not written\n", path);
		return 1;
	}
	char *buf = malloc((size_t)sb.st_size);
	size_t len = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	size_t recs = 0;
	struct mit_state_result res;
	t0 = now_s();
	mit_state_parse(buf, len, nop_rec, nop_err, &recs, &res);
	double parse = now_s() - t0;
	free(buf);

	/* a start: read, parse, put everything back */
	rp = up(n_bans);
	t0 = now_s();
	rp->clock_ns = clock_wall_ns();
	mit_state_load(rp->mit, rp->clock_ns);
	double load = now_s() - t0;
	mit_state_stats(rp->mit, &st);
	size_t routes_back = mit_routes_count(rp->mit);
	down(rp);

	printf("ban state: %zu pipe routes + %zu manual bans, file %.1f MB (%zu records%s)\n", n_routes, n_bans,
	       (double)len / 1e6, recs, res.complete ? "" : ", INCOMPLETE");
	printf("  fill through the API: %.2f s\n", fill);
	printf("  serialise (on the main loop), %d runs: min %.1f ms, median %.1f ms, max %.1f ms\n", RUNS, ser[0],
	       ser[RUNS / 2], ser[RUNS - 1]);
	printf("  write + fsync + rename (writer thread), %d runs: min %.1f ms, median %.1f ms, max %.1f ms\n", RUNS,
	       w[0], w[RUNS / 2], w[RUNS - 1]);
	printf("  parse alone: %.1f ms (%.0f records/s)\n", parse * 1e3, (double)recs / parse);
	printf("  load at start (read + parse + restore): %.1f ms; restored %llu (bans %llu), routes back %zu\n",
	       load * 1e3, (unsigned long long)st.restored, (unsigned long long)st.restored_bans, routes_back);
	if (st.restored_bans != n_bans || routes_back != n_routes) {
		fprintf(stderr, "bench_banstate: the load did not give everything back\n");
		return 1;
	}
	unlink(path);
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s/bench_banstate.%d", dir, (int)getpid());
	rmdir(tmp);
	return 0;
}
