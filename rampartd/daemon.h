/* The daemon's wiring: the only place that knows every module.
 *
 * Threads: one capture worker per source (a pcap interface, a replayed file or a flow export
 * listen address, flowsrc.c), each owning its decoder, flow table and detection counters; the
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
#include "../storage/st.h"

struct event_base;
struct event;
struct rd_worker;
struct rd_samples;
struct rd_samples_producer;
struct mit;
struct act_notify;
struct act_webhook;
struct act_localroute;
struct api_control;
struct api_exa;
struct api_http;
struct api_readback;

#define RD_MAX_WORKERS 32

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
	struct api_control *control;
	struct api_http *http;        /* NULL when api.http is "" */
	struct api_exa *exa;          /* ExaBGP pipe and process (api/exapipe.c); NULL when neither is on */
	struct api_readback *readback; /* ClickHouse read-back queries (api/readback.c) */
	struct rd_samples *samples;   /* attack sample packets (samples.c); NULL when off */
	struct cap_dpdk *dpdk;        /* the EAL and capture.dpdk's ports; NULL without a dpdk section */

	struct rd_worker *workers[RD_MAX_WORKERS];
	unsigned n_workers;
	int tick_fd;                  /* eventfd the workers signal when a tick is ready */
	struct event *tick_ev;
	uint64_t ticks;               /* ticks processed */
	uint64_t clock_ns;            /* capture clock of the last tick */
	uint64_t start_wall_s;
	bool replay;                  /* --pcap: the clock is the capture's */
};

/* ---- capture workers (worker.c) ---------------------------------------------------------- */

/* ---- flow export listeners (flowsrc.c) ----------------------------------------------------- */

enum rd_flow_proto { RD_FLOW_SFLOW, RD_FLOW_NETFLOW /* v5, v9 and IPFIX by version */, RD_FLOW_IPFIX };

struct rd_flowsrc;

struct rd_flowsrc_stats {
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t kernel_drops;  /* the socket's receive-buffer drops (SO_RXQ_OVFL), as of the last
				   datagram read */
	uint64_t oversize;      /* datagrams larger than a receive buffer: dropped */
	uint64_t errors;        /* recvmmsg failures */
	uint32_t rcvbuf;        /* receive buffer the kernel granted, bytes */
	struct cap_flow_stats decode;
};

const char *rd_flow_proto_name(enum rd_flow_proto p);
/* Binds a UDP socket on listen ("a.b.c.d:port", "[v6]:port") with SO_REUSEPORT, SO_RXQ_OVFL and
 * a receive buffer of rcvbuf bytes (SO_RCVBUFFORCE when allowed). */
struct rd_flowsrc *rd_flowsrc_open(enum rd_flow_proto proto, const char *listen, uint32_t rcvbuf,
				   const struct cap_flow_config *fcfg, char *err, size_t errlen);
void rd_flowsrc_close(struct rd_flowsrc *s);
const char *rd_flowsrc_name(const struct rd_flowsrc *s);
/* poll() for a datagram: >0 readable, 0 timeout, -1 error. */
int rd_flowsrc_wait(struct rd_flowsrc *s, int timeout_ms);
/* Reads one batch without waiting and decodes it, records to fn; *recv_ns is the wall clock at
 * which the batch was read. Returns datagrams read (0: none waiting), -1 on a socket error. */
int rd_flowsrc_dispatch(struct rd_flowsrc *s, cap_record_fn fn, void *arg, uint64_t *recv_ns, char *err,
			size_t errlen);
/* sFlow: the raw header behind the record being delivered (cap_flow_frame); data NULL if none. */
const struct cap_frame *rd_flowsrc_frame(const struct rd_flowsrc *s);
void rd_flowsrc_stats(const struct rd_flowsrc *s, struct rd_flowsrc_stats *out);
size_t rd_flowsrc_exporters(const struct rd_flowsrc *s, struct cap_exporter_info *out, size_t max);

struct rd_worker_source {
	bool mirror;                    /* a mirror capture source (cap), or */
	struct cap_src_spec cap;
	const char *listen;             /* a flow export listener of protocol flow_proto */
	enum rd_flow_proto flow_proto;
	unsigned listen_worker, listen_workers; /* this one of capture.udp_workers on listen */
};

/* Exporters shown per listener by `rampartctl exporters` (the decoder remembers more). */
#define RD_EXPORTERS_SHOWN 64

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
	struct rd_samples *samples; /* NULL when detection.attack_pcap is off */
	int tick_fd;
};
struct rd_worker *rd_worker_new(const struct rd_worker_deps *d, unsigned idx, const struct rd_worker_source *src,
				char *err, size_t errlen);
int rd_worker_start(struct rd_worker *w, char *err, size_t errlen);
/* Asks the thread to stop, joins it, and exports what its flow table holds. */
void rd_worker_stop(struct rd_worker *w);
void rd_worker_free(struct rd_worker *w);
/* Main loop side: the next tick message, or false when there is none. */
bool rd_worker_poll(struct rd_worker *w, struct rd_tick_msg *msg);
void rd_worker_return(struct rd_worker *w, struct det_counters *c);
/* Capture statistics for the control socket. */
struct rd_worker_stats {
	const char *name;
	struct cap_src_stats pcap; /* mirror sources (any kind) */
	struct cap_flowtable_stats flows;
	uint64_t flows_dropped; /* flow rows the storage ring refused */
	uint64_t hosts_overflow;
	bool finished;          /* replay reached the end of the file */
	/* flow export listeners only */
	bool flow;
	struct rd_flowsrc_stats udp;
	struct cap_exporter_info exporters[RD_EXPORTERS_SHOWN];
	size_t n_exporters;     /* exporters known (may exceed RD_EXPORTERS_SHOWN) */
};
void rd_worker_stats(struct rd_worker *w, struct rd_worker_stats *out);

/* ---- the tick (tick.c) --------------------------------------- */

/* Drains every worker's ready ticks, merges and runs the engine, then mitigation's tick. */
void rd_tick_run(struct rampart *rp);

/* The capture clock now: the last tick's time. */
uint64_t rd_now_ns(const struct rampart *rp);
/* mitigation's view of the sample files (mit_samples_fn); ctx is the struct rd_samples. */
const char *rd_samples_for_mit(void *ctx, uint64_t attack_id, const ip_prefix *target, char *path, size_t len,
			       uint64_t *packets);

/* ---- attack sample packets (samples.c): detection.attack_pcap ------------------------- */

/* NULL when cfg is off, or on error (err set). dir "" = storage_dir/attacks. */
struct rd_samples *rd_samples_new(const struct conf_attack_pcap *cfg, const char *storage_dir, char *err, size_t errlen);
/* Drains what the rings still hold and closes every file. After the workers stopped. */
void rd_samples_free(struct rd_samples *a);
/* Worker idx's ring (created on first call, before the worker starts); NULL when a is NULL. */
struct rd_samples_producer *rd_samples_producer(struct rd_samples *a, unsigned idx);
/* Worker: r belongs to attack_id (det_counters_attack_of); copies f's bytes into the ring unless
 * the attack has its samples already or the ring is full (counted). No allocation, lock, syscall. */
void rd_samples_sample(struct rd_samples_producer *p, uint64_t attack_id, enum det_direction dir,
		     const struct flow_record *r, const struct cap_frame *f);
/* Main loop, after each tick: rings into files; closes the files of attacks e says ended (e may be
 * NULL: no closing). now_ns is the capture clock. */
void rd_samples_drain(struct rd_samples *a, const struct det_engine *e, uint64_t now_ns);
struct rd_samples_info {
	const char *path; /* valid until the next drain */
	uint64_t packets; /* written so far */
	bool open;        /* still collecting */
};
/* The file of an attack; false when it has none (no samples yet, no packets in the source, off). */
bool rd_samples_info(const struct rd_samples *a, uint64_t attack_id, struct rd_samples_info *out);
struct rd_samples_stats {
	uint64_t written;      /* samples in files */
	uint64_t dropped;      /* a worker's ring was full */
	uint64_t skipped;      /* arrived for a closed, unwritable or other-link-type file */
	uint64_t files_opened, files_closed, errors;
	uint64_t files_deleted; /* by keep_days / max_files */
	unsigned open;
};
void rd_samples_stats(const struct rd_samples *a, struct rd_samples_stats *out);
const char *rd_samples_dir(const struct rd_samples *a);
/* Retention: deletes DIR's ATTACK_ID-*.pcap files older than keep_days (by mtime, against now),
 * then the oldest attacks' beyond max_files; never a file still collecting, nothing else in DIR.
 * Run at start and every 10 minutes by rd_samples_drain; exposed for tests. */
void rd_samples_sweep(struct rd_samples *a, time_t now);
/* Where attack_id's samples go, whether or not any came yet: "" when a is NULL or target is a
 * prefix. For the notifications sent at the ban, before any sample. */
const char *rd_samples_path(const struct rd_samples *a, uint64_t attack_id, const ip_prefix *target, char *buf, size_t len);

#endif
