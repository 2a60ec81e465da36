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
struct api_control;
struct mit_routes;
struct api_exa;
struct api_http;
struct mit_flowspec;
struct act_notify;
struct act_webhook;
struct api_readback;
struct act_localroute;
struct rd_samples;
struct rd_samples_producer;
struct mit_state;

#define RD_MAX_WORKERS 32

struct rampart {
	struct rampart_conf conf;
	struct event_base *base;

	struct det_networks *networks;
	struct det_engine *engine;
	struct bgp_speaker *bgp;      /* NULL when no bgp section */
	struct st_writer *storage;
	struct api_control *control;
	struct api_http *http;          /* NULL when api.http is "" */
	struct mit_flowspec *flowmit;    /* FlowSpec mitigation: the rules out per attack */
	struct act_notify *notify;     /* NULL when no actions.notify_script */
	struct act_webhook *webhook;   /* NULL when no actions.webhook_url */
	struct act_localroute *localroute; /* NULL unless actions.local_blackhole */

	struct rd_worker *workers[RD_MAX_WORKERS];
	unsigned n_workers;
	int tick_fd;                  /* eventfd the workers signal when a tick is ready */
	struct event *tick_ev;
	uint64_t ticks;               /* ticks processed */
	uint64_t clock_ns;            /* capture clock of the last tick */
	uint64_t start_wall_s;

	/* what the decisions did */
	uint64_t announced;
	uint64_t withdrawn;
	uint64_t events_logged;
	bool replay;                  /* --pcap: the clock is the capture's */

	struct mit_routes *routes;     /* who wants which route (routes.c) */
	struct api_exa *exa;           /* ExaBGP pipe and process (exapipe.c); NULL when neither is on */
	struct api_readback *readback; /* ClickHouse read-back queries (readback.c) */
	struct rd_samples *samples;      /* attack sample packets (samples.c); NULL when off */
	struct mit_state *banstate; /* the ban state file (banstate.h); NULL when off */
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

struct rd_worker *rd_worker_new(struct rampart *rp, unsigned idx, const struct rd_worker_source *src,
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

/* ---- the tick and the decisions (tick.c, decide.c) --------------------------------------- */

/* Drains every worker's ready ticks, merges and runs the engine. */
void rd_tick_run(struct rampart *rp);
/* Routes one detection event: BGP announce/withdraw (or dry run), storage, log. */
void mit_on_detection_event(void *rp, const struct det_event *ev);
/* The route attributes of a blackhole for prefix (RFC 7999 community, NO_EXPORT, configured). */
void mit_blackhole_attrs(const struct rampart *rp, const ip_prefix *p, struct bgp_route_attrs *out);

/* ---- notify script (notify.c) ----------------------------------------------------------- */

/* NULL when cfg has no notify_script (or out of memory: logged by the caller). */
struct act_notify *act_notify_new(struct event_base *base, const struct conf_actions *cfg);
/* Waits up to 3 s for running scripts, kills what is left, drops the queue. */
void act_notify_free(struct act_notify *n);
/* Runs the script for a BAN or UNBAN (other events are ignored); never blocks. n may be NULL. */
void act_notify_event(struct act_notify *n, const struct rampart *rp, const struct det_event *ev);
struct act_notify_stats {
	uint64_t started, ok, failed, timed_out, dropped;
	unsigned running, queued;
};
void act_notify_stats(const struct act_notify *n, struct act_notify_stats *out);

/* ---- webhook (webhook.c) ---------------------------------------------------------------- */

/* NULL when cfg has no webhook_url (or the thread cannot start). */
struct act_webhook *act_webhook_new(const struct conf_actions *cfg);
/* Stops the thread after one last attempt at each queued event. */
void act_webhook_free(struct act_webhook *w);
/* Queues a BAN or UNBAN as JSON (other events are ignored); never blocks on the network. */
void act_webhook_event(struct act_webhook *w, const struct rampart *rp, const struct det_event *ev);
struct act_webhook_stats {
	uint64_t queued, sent, retried, failed, dropped;
};
void act_webhook_stats(const struct act_webhook *w, struct act_webhook_stats *out);

/* ---- local blackhole route (localroute.c) ------------------------------------------------ */

/* NULL when the netlink socket cannot be opened (logged). Deletes our stale routes first. */
struct act_localroute *act_localroute_new(const struct conf_actions *cfg);
/* Deletes the routes still in place. */
void act_localroute_free(struct act_localroute *lr);
/* Adds (BAN) or deletes (UNBAN) the blackhole route of ev->target; not in dry run; lr may be NULL. */
void act_localroute_event(struct act_localroute *lr, const struct rampart *rp, const struct det_event *ev);
struct act_localroute_stats {
	uint64_t added, removed, failed;
};
void act_localroute_stats(const struct act_localroute *lr, struct act_localroute_stats *out);

/* ---- control socket (control.c, commands.c) ---------------------------------------------- */

struct api_control *api_control_new(struct rampart *rp, const char *path, char *err, size_t errlen);
void api_control_free(struct api_control *c);

/* Runs one command line; writes the reply text into out (lines ending in \n) and returns 0 for
 * success or -1 for an error (out then holds the message). The socket adds the "done"/"error"
 * trailer. */
struct evbuffer;
int api_command(struct rampart *rp, const char *line, struct evbuffer *out);

/* ---- read-back from ClickHouse (readback.c): `flows ID`, `talkers HOST` ------------------- */

/* One query; the reply comes later, on the main loop, through api_rb_done. */
struct api_rb_request {
	bool talkers;            /* else: the flows of attack_id */
	bool json;               /* the reply as a JSON object (HTTP), else text (rampartctl) */
	uint64_t attack_id;
	ip_addr host;
	uint64_t from, to;       /* UNIX seconds; to 0 = now, from unset = to - 1 h */
	bool from_set;
	uint64_t limit;          /* rows per list, 1..1000; 0 = 20 */
};
struct api_rb_job;
/* ok false: out holds the error message. Runs on the main loop. */
typedef void (*api_rb_done)(void *ctx, bool ok, struct evbuffer *out);

/* Always returns an object (NULL only out of memory): without ClickHouse storage it refuses
 * every query with a clear error. */
struct api_readback *api_readback_new(struct rampart *rp);
void api_readback_free(struct api_readback *rb);
/* "flows ..." or "talkers ...": a control command answered by api_readback_start. */
bool api_readback_is_command(const char *line);
int api_readback_parse(struct api_readback *rb, const char *line, struct api_rb_request *req, char *err,
		      size_t errlen);
/* NULL with err set when refused (no ClickHouse, busy, unknown attack, bad range). */
struct api_rb_job *api_readback_start(struct api_readback *rb, const struct api_rb_request *req, api_rb_done cb,
				    void *ctx, char *err, size_t errlen);
/* The caller went away: cb will not run. */
void api_readback_cancel(struct api_rb_job *j);
/* The SQL of `flows ID` (dst within target) and `talkers HOST`, for a flows table whose
 * addresses are FixedString(16) (v6 false: the 18.16 shape) or IPv6; exposed for
 * tests/tools/chdb_storage.c, which runs them on ClickHouse 26.7. */
void api_rb_flows_sql(char *out, size_t outlen, const char *db, const ip_prefix *target, uint64_t from,
		     uint64_t to, uint64_t limit, bool v6);
void api_rb_talkers_sql(char *out, size_t outlen, const char *db, const ip_addr *host, uint64_t from, uint64_t to,
		       uint64_t limit, bool v6);

/* ---- HTTP API (http.c): /metrics, JSON under /api/v1/, a live page ---------------------- */

struct api_http *api_http_new(struct rampart *rp, const char *listen, char *err, size_t errlen);
void api_http_free(struct api_http *h);

/* ---- FlowSpec mitigation (flowmit.c) ----------------------------------------------------- */

struct mit_flowspec *mit_flowspec_new(struct rampart *rp);
void mit_flowspec_free(struct mit_flowspec *f);
/* The rule for ev's attack goes out (escalate: flowspec-then-blackhole); false when it cannot
 * (rule cap, target outside the monitored networks, the speaker refused): blackhole instead. */
bool mit_flowspec_ban(struct mit_flowspec *f, const struct det_event *ev, bool escalate);
/* Withdraws ev's attack's rule (and its escalation blackhole); false when it had no rule. */
bool mit_flowspec_unban(struct mit_flowspec *f, const struct det_event *ev);
/* After each engine tick: narrows rules to the attacks' fingerprints, escalates. */
void mit_flowspec_tick(struct mit_flowspec *f);
size_t mit_flowspec_count(const struct mit_flowspec *f);
/* Operator rules (configuration, rampartctl flowspec add): announced and kept until deleted.
 * Refused (-1, why set) when the destination is missing or not monitored, or past the cap. */
int mit_flowspec_add(struct mit_flowspec *f, const struct fs_rule *r, const struct fs_actions *a, bool from_config,
		   char *why, size_t whylen);
int mit_flowspec_del(struct mit_flowspec *f, const struct fs_rule *r);
/* Every rule out: the operators', then the attacks'. */
void mit_flowspec_list(const struct mit_flowspec *f, struct evbuffer *out);
/* The narrowest rule for an attack on target in direction dir with fingerprint fp; returns how
 * many components beside the prefix it has. */
int mit_flowspec_rule_for_attack(const ip_prefix *target, enum det_direction dir, const struct det_fingerprint *fp,
			    struct fs_rule *r);

/* s (n bytes) as a JSON string, quoted and escaped (json.c). */
void api_json_str(struct evbuffer *b, const char *s, size_t n);

/* The capture clock now: the last tick's time. */
uint64_t rd_now_ns(const struct rampart *rp);

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

/* ---- routes by source (routes.c): detection's bans and the ExaBGP API's routes ------------ */

enum mit_route_src { MIT_SRC_DETECT, MIT_SRC_SOCKET, MIT_SRC_PIPE, MIT_SRC_PROCESS, MIT_SRC_MAX };
struct mit_routes *mit_routes_new(void);
void mit_routes_free(struct mit_routes *t);
size_t mit_routes_count(const struct mit_routes *t);
const char *mit_route_src_name(enum mit_route_src s);
/* src wants p announced (attrs are ignored for MIT_SRC_DETECT: its blackhole attributes apply);
 * tells the speaker when what is announced changes. -1 out of memory or the speaker refused. */
int mit_route_add(struct rampart *rp, enum mit_route_src src, const ip_prefix *p, const struct bgp_route_attrs *attrs);
/* src lets go of p: withdrawn when no source holds it any more. -1 when src did not hold it. */
int mit_route_del(struct rampart *rp, enum mit_route_src src, const ip_prefix *p);
size_t mit_route_del_all(struct rampart *rp, enum mit_route_src src);
/* The same for some peers only (ExaBGP's `neighbor X announce|withdraw`); mit_route_add/del are
 * these with BGP_PEERS_ALL. The latest API announce's attributes apply per peer. */
int mit_route_add_to(struct rampart *rp, enum mit_route_src src, const ip_prefix *p,
		    const struct bgp_route_attrs *attrs, bgp_peer_set peers);
int mit_route_del_from(struct rampart *rp, enum mit_route_src src, const ip_prefix *p, bgp_peer_set peers);
void mit_routes_list(const struct rampart *rp, struct evbuffer *out);

/* ---- ExaBGP API (exapipe.c) ---------------------------------------------------------------- */

/* One ExaBGP API line from src: 0 and nothing in out ("done"), or -1 with the reason in out. */
int api_exa_command(struct rampart *rp, enum mit_route_src src, const char *line, struct evbuffer *out);
/* Opens api.exabgp_pipe and starts api.exabgp_process when configured. */
int api_exa_start(struct rampart *rp, char *err, size_t errlen);
/* Stops the process (its routes stay in the RIB-out until the speaker closes), closes the pipe. */
void api_exa_stop(struct rampart *rp);
struct api_exa_stats {
	uint64_t lines, errors, replies_dropped, process_starts;
	int process_pid; /* 0 when not running */
};
void api_exa_stats(const struct rampart *rp, struct api_exa_stats *out);

#endif
