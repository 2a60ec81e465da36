/* The daemon's wiring: the only place that knows every module.
 *
 * Threads: one capture worker per source (a pcap interface, a replayed file or a flow export
 * listen address, capture/flowsrc.c), each owning its decoder, flow table and detection counters; the
 * main libevent loop, which runs the tick (merge the workers' counters, rates, thresholds, state
 * machine), the BGP speaker and the control socket; the storage thread inside storage/. Workers hand counters to the main loop through
 * SPSC rings and an eventfd, once per tick, never per packet. */
#ifndef RAMPART_DAEMON_H
#define RAMPART_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../bgp/bgp.h"
#include "../capture/cap.h"
#include "../capture/flows.h"
#include "../capture/source.h"
#include "../conf/conf.h"
#include "../detect/det.h"
#include "../flowspec/fs.h"
#include "../lib/spsc.h"
#include "../api/api.h"
#include "../storage/samples.h"
#include "../storage/st.h"

struct event_base;
struct event;
struct rd_worker;
struct st_samples;
struct mit;
struct act_notify;
struct act_webhook;
struct act_localroute;
struct api_control;
struct api_exa;
struct api_http;
struct api_readback;

#define RD_MAX_WORKERS API_MAX_SOURCES
#define RD_MAX_RETIRED 8 /* networks of earlier reloads some counters set may still point at */

/* Everything the daemon runs, created by main.c and torn down in reverse. */
struct rampart {
	struct rampart_conf conf;
	struct event_base *base;

	struct det_networks *networks;
	struct det_engine *engine;
	struct bgp_speaker *bgp;      /* NULL when no bgp section */
	struct st_writer *storage;
	struct mit *mit;              /* every mitigation: bans, routes, FlowSpec rules, the state file */
	struct act_notify *notify;    /* NULL when no actions.notify_script */
	struct act_webhook *webhook;  /* NULL when no actions.webhook_url */
	struct act_localroute *localroute; /* NULL unless actions.local_blackhole */
	struct api_ctx api;           /* the API's view of all the above (rd_api_ctx) */
	struct api_control *control;
	struct api_http *http;        /* NULL when api.http is "" */
	struct st_samples *samples;   /* attack sample packets (storage/samples.h); NULL when off */
	struct cap_dpdk *dpdk;        /* the EAL and capture.dpdk's ports; NULL without a dpdk section */

	struct rd_worker *workers[RD_MAX_WORKERS];
	unsigned n_workers;
	int tick_fd;                  /* eventfd the workers signal when a tick is ready */
	uint64_t stop_asked_ms;       /* monotonic, when SIGTERM/SIGINT came: the stop's log line */
	struct event *tick_ev;
	uint64_t ticks;               /* ticks processed */
	uint64_t clock_ns;            /* capture clock of the last tick */
	uint64_t start_wall_s;
	bool replay;                  /* --pcap: the clock is the capture's */
	struct det_networks *retired[RD_MAX_RETIRED]; /* replaced by a reload, freed once unused */
	size_t n_retired;
};

/* ---- reload (reload.c): SIGHUP and `rampartctl reload` ---------------------------------- */

struct evbuffer;

/* Reads rp->conf.path again and applies what changed; the summary (or the error, file:line:col)
 * goes to out. 0 when everything was applied; -1 when the file did not load or memory ran out
 * (nothing changed) or a part could not be applied (out says which; the rest was). */
int rd_reload(struct rampart *rp, struct evbuffer *out);
/* Frees the networks of earlier reloads that no counters set points at any more (each tick). */
void rd_reload_release(struct rampart *rp);
/* Frees them all (teardown, after the workers). */
void rd_reload_free(struct rampart *rp);

/* ---- capture workers (worker.c) ---------------------------------------------------------- */



/* A message from a worker to the main loop: the counters for one tick. */
struct rd_tick_msg {
	struct det_counters *counters; /* to merge, then give back through rd_worker_return() */
	uint64_t tick_end_ns;          /* capture clock at the end of the tick */
};

/* What a capture thread is given: its configuration, where its counters, flow rows and sample
 * packets go, and nothing else of the daemon. */
struct rd_worker_deps {
	const struct rampart_conf *conf;
	const struct det_networks *networks;
	struct st_writer *storage;
	struct st_samples *samples; /* NULL when detection.attack_pcap is off */
	int tick_fd;
};
struct rd_worker *rd_worker_new(const struct rd_worker_deps *d, unsigned idx, const struct conf_source *src,
				char *err, size_t errlen);
int rd_worker_start(struct rd_worker *w, char *err, size_t errlen);
/* Asks the thread to stop, joins it, and exports what its flow table holds. */
void rd_worker_stop(struct rd_worker *w);
void rd_worker_free(struct rd_worker *w);
/* Main loop side: the next tick message, or false when there is none. */
bool rd_worker_poll(struct rd_worker *w, struct rd_tick_msg *msg);
void rd_worker_return(struct rd_worker *w, struct det_counters *c);
/* Whether one of w's counters sets still counts against nets (main loop only: the main loop is
 * the only writer of a set's networks). */
bool rd_worker_counts_with(const struct rd_worker *w, const struct det_networks *nets);
void rd_worker_stats(struct rd_worker *w, struct api_source_stats *out);

/* ---- the tick (tick.c) --------------------------------------- */

/* Drains every worker's ready ticks, merges and runs the engine, then mitigation's tick. */
void rd_tick_run(struct rampart *rp);

/* The capture clock now: the last tick's time. */
uint64_t rd_now_ns(const struct rampart *rp);
/* Fills rp->api from rp's modules and the daemon's own parts (keeping the API's exa and
 * readback), again after any of them changes; returns it. */
struct api_ctx *rd_api_ctx(struct rampart *rp);
/* mitigation's view of the sample files (mit_samples_fn); ctx is the struct st_samples. */
const char *rd_samples_for_mit(void *ctx, uint64_t attack_id, const ip_prefix *target, char *path, size_t len,
			       uint64_t *packets);

#endif
