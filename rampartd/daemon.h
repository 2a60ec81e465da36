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
struct rd_control;
struct rd_routes;
struct rd_exa;
struct rd_http;
struct rd_flowmit;
struct rd_notify;
struct rd_webhook;
struct rd_readback;
struct rd_localroute;
struct rd_apcap;
struct rd_apcap_producer;
struct rd_banstate;

#define RD_MAX_WORKERS 32

struct rampart {
	struct rampart_conf conf;
	struct event_base *base;

	struct det_networks *networks;
	struct det_engine *engine;
	struct bgp_speaker *bgp;      /* NULL when no bgp section */
	struct st_writer *storage;
	struct rd_control *control;
	struct rd_http *http;          /* NULL when api.http is "" */
	struct rd_flowmit *flowmit;    /* FlowSpec mitigation: the rules out per attack */
	struct rd_notify *notify;     /* NULL when no actions.notify_script */
	struct rd_webhook *webhook;   /* NULL when no actions.webhook_url */
	struct rd_localroute *localroute; /* NULL unless actions.local_blackhole */

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

	struct rd_routes *routes;     /* who wants which route (routes.c) */
	struct rd_exa *exa;           /* ExaBGP pipe and process (exapipe.c); NULL when neither is on */
	struct rd_readback *readback; /* ClickHouse read-back queries (readback.c) */
	struct rd_apcap *apcap;       /* attack sample packets (attack_pcap.c); NULL when off */
	struct rd_banstate *banstate; /* the ban state file (banstate.h); NULL when off */
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
void rd_decide(void *rp, const struct det_event *ev);
/* The route attributes of a blackhole for prefix (RFC 7999 community, NO_EXPORT, configured). */
void rd_blackhole_attrs(const struct rampart *rp, const ip_prefix *p, struct bgp_route_attrs *out);

/* ---- notify script (notify.c) ----------------------------------------------------------- */

/* NULL when cfg has no notify_script (or out of memory: logged by the caller). */
struct rd_notify *rd_notify_new(struct event_base *base, const struct conf_actions *cfg);
/* Waits up to 3 s for running scripts, kills what is left, drops the queue. */
void rd_notify_free(struct rd_notify *n);
/* Runs the script for a BAN or UNBAN (other events are ignored); never blocks. n may be NULL. */
void rd_notify_event(struct rd_notify *n, const struct rampart *rp, const struct det_event *ev);
struct rd_notify_stats {
	uint64_t started, ok, failed, timed_out, dropped;
	unsigned running, queued;
};
void rd_notify_stats(const struct rd_notify *n, struct rd_notify_stats *out);

/* ---- webhook (webhook.c) ---------------------------------------------------------------- */

/* NULL when cfg has no webhook_url (or the thread cannot start). */
struct rd_webhook *rd_webhook_new(const struct conf_actions *cfg);
/* Stops the thread after one last attempt at each queued event. */
void rd_webhook_free(struct rd_webhook *w);
/* Queues a BAN or UNBAN as JSON (other events are ignored); never blocks on the network. */
void rd_webhook_event(struct rd_webhook *w, const struct rampart *rp, const struct det_event *ev);
struct rd_webhook_stats {
	uint64_t queued, sent, retried, failed, dropped;
};
void rd_webhook_stats(const struct rd_webhook *w, struct rd_webhook_stats *out);

/* ---- local blackhole route (localroute.c) ------------------------------------------------ */

/* NULL when the netlink socket cannot be opened (logged). Deletes our stale routes first. */
struct rd_localroute *rd_localroute_new(const struct conf_actions *cfg);
/* Deletes the routes still in place. */
void rd_localroute_free(struct rd_localroute *lr);
/* Adds (BAN) or deletes (UNBAN) the blackhole route of ev->target; not in dry run; lr may be NULL. */
void rd_localroute_event(struct rd_localroute *lr, const struct rampart *rp, const struct det_event *ev);
struct rd_localroute_stats {
	uint64_t added, removed, failed;
};
void rd_localroute_stats(const struct rd_localroute *lr, struct rd_localroute_stats *out);

/* ---- control socket (control.c, commands.c) ---------------------------------------------- */

struct rd_control *rd_control_new(struct rampart *rp, const char *path, char *err, size_t errlen);
void rd_control_free(struct rd_control *c);
/* Control socket clients closed by its bounds (api.control_max_clients, 8 MiB of replies not
 * read, 300 s idle) and accept failures, for /metrics and `stats`. */
struct rd_control_stats {
	uint64_t closed_max_clients, closed_output, closed_timeout, accept_errors;
	uint32_t clients;
};
void rd_control_stats(const struct rd_control *c, struct rd_control_stats *out);

/* Runs one command line; writes the reply text into out (lines ending in \n) and returns 0 for
 * success or -1 for an error (out then holds the message). The socket adds the "done"/"error"
 * trailer. */
struct evbuffer;
int rd_command(struct rampart *rp, const char *line, struct evbuffer *out);
/* True unless line is a command known to only read (bans, stats, flowspec list, ...): what the
 * API's token guards and the audit trail records. Unknown commands count as changing state. */
bool rd_command_changes_state(const char *line);

/* ---- read-back from ClickHouse (readback.c): `flows ID`, `talkers HOST` ------------------- */

/* One query; the reply comes later, on the main loop, through rd_rb_done. */
struct rd_rb_request {
	bool talkers;            /* else: the flows of attack_id */
	bool json;               /* the reply as a JSON object (HTTP), else text (rampartctl) */
	uint64_t attack_id;
	ip_addr host;
	uint64_t from, to;       /* UNIX seconds; to 0 = now, from unset = to - 1 h */
	bool from_set;
	uint64_t limit;          /* rows per list, 1..1000; 0 = 20 */
};
struct rd_rb_job;
/* ok false: out holds the error message. Runs on the main loop. */
typedef void (*rd_rb_done)(void *ctx, bool ok, struct evbuffer *out);

/* Always returns an object (NULL only out of memory): without ClickHouse storage it refuses
 * every query with a clear error. */
struct rd_readback *rd_readback_new(struct rampart *rp);
void rd_readback_free(struct rd_readback *rb);
/* "flows ..." or "talkers ...": a control command answered by rd_readback_start. */
bool rd_readback_is_command(const char *line);
int rd_readback_parse(struct rd_readback *rb, const char *line, struct rd_rb_request *req, char *err,
		      size_t errlen);
/* NULL with err set when refused (no ClickHouse, busy, unknown attack, bad range). */
struct rd_rb_job *rd_readback_start(struct rd_readback *rb, const struct rd_rb_request *req, rd_rb_done cb,
				    void *ctx, char *err, size_t errlen);
/* The caller went away: cb will not run. */
void rd_readback_cancel(struct rd_rb_job *j);
/* The SQL of `flows ID` (dst within target) and `talkers HOST`, for a flows table whose
 * addresses are FixedString(16) (v6 false: the 18.16 shape) or IPv6; exposed for
 * tests/tools/chdb_storage.c, which runs them on ClickHouse 26.7. */
void rd_rb_flows_sql(char *out, size_t outlen, const char *db, const ip_prefix *target, uint64_t from,
		     uint64_t to, uint64_t limit, bool v6);
void rd_rb_talkers_sql(char *out, size_t outlen, const char *db, const ip_addr *host, uint64_t from, uint64_t to,
		       uint64_t limit, bool v6);

/* ---- HTTP API (http.c): /metrics, JSON under /api/v1/, a live page ---------------------- */

/* Listens on listen (api.http) with the api.* settings of rp->conf; NULL with err when it
 * cannot (address in use, a token file others can read, off loopback without a token). */
struct rd_http *rd_http_new(struct rampart *rp, const char *listen, char *err, size_t errlen);
void rd_http_free(struct rd_http *h);

/* Requests refused and connections closed by the API's rules (docs/OPERATIONS.md), for /metrics
 * and `stats`. */
struct rd_http_stats {
	uint64_t refused_host;   /* Host not ours (421) */
	uint64_t refused_token;  /* no or wrong bearer token (401) */
	uint64_t refused_type;   /* a command not sent as application/json (415) */
	uint64_t closed_max_clients; /* over api.http_max_clients: closed at once */
	uint64_t closed_timeout; /* request or reply not done within api.http_request_timeout */
	uint64_t closed_output;  /* a reply past the per-connection output cap */
	uint64_t accept_errors;  /* accept() failures (EMFILE, ENFILE, ...): the listener paused */
	uint32_t clients;        /* connections now */
};
void rd_http_stats(const struct rd_http *h, struct rd_http_stats *out);

/* ---- FlowSpec mitigation (flowmit.c) ----------------------------------------------------- */

struct rd_flowmit *rd_flowmit_new(struct rampart *rp);
void rd_flowmit_free(struct rd_flowmit *f);
/* The rule for ev's attack goes out (escalate: flowspec-then-blackhole); false when it cannot
 * (rule cap, target outside the monitored networks, the speaker refused): blackhole instead. */
bool rd_flowmit_ban(struct rd_flowmit *f, const struct det_event *ev, bool escalate);
/* Withdraws ev's attack's rule (and its escalation blackhole); false when it had no rule. */
bool rd_flowmit_unban(struct rd_flowmit *f, const struct det_event *ev);
/* After each engine tick: narrows rules to the attacks' fingerprints, escalates. */
void rd_flowmit_tick(struct rd_flowmit *f);
size_t rd_flowmit_count(const struct rd_flowmit *f);
/* Operator rules (configuration, rampartctl flowspec add): announced and kept until deleted.
 * Refused (-1, why set) when the destination is missing or not monitored, or past the cap. */
int rd_flowmit_add(struct rd_flowmit *f, const struct fs_rule *r, const struct fs_actions *a, bool from_config,
		   char *why, size_t whylen);
int rd_flowmit_del(struct rd_flowmit *f, const struct fs_rule *r);
/* Every rule out: the operators', then the attacks'. */
void rd_flowmit_list(const struct rd_flowmit *f, struct evbuffer *out);
/* The narrowest rule for an attack on target in direction dir with fingerprint fp; returns how
 * many components beside the prefix it has. */
int rd_flow_rule_for_attack(const ip_prefix *target, enum det_direction dir, const struct det_fingerprint *fp,
			    struct fs_rule *r);

/* s (n bytes) as a JSON string, quoted and escaped (json.c). */
void rd_json_str(struct evbuffer *b, const char *s, size_t n);

/* The capture clock now: the last tick's time. */
uint64_t rd_now_ns(const struct rampart *rp);

/* ---- attack sample packets (attack_pcap.c): detection.attack_pcap ------------------------- */

/* NULL when cfg is off, or on error (err set). dir "" = storage_dir/attacks. */
struct rd_apcap *rd_apcap_new(const struct conf_attack_pcap *cfg, const char *storage_dir, char *err, size_t errlen);
/* Drains what the rings still hold and closes every file. After the workers stopped. */
void rd_apcap_free(struct rd_apcap *a);
/* Worker idx's ring (created on first call, before the worker starts); NULL when a is NULL. */
struct rd_apcap_producer *rd_apcap_producer(struct rd_apcap *a, unsigned idx);
/* Worker: r belongs to attack_id (det_counters_attack_of); copies f's bytes into the ring unless
 * the attack has its samples already or the ring is full (counted). No allocation, lock, syscall. */
void rd_apcap_sample(struct rd_apcap_producer *p, uint64_t attack_id, enum det_direction dir,
		     const struct flow_record *r, const struct cap_frame *f);
/* Main loop, after each tick: rings into files; closes the files of attacks e says ended (e may be
 * NULL: no closing). now_ns is the capture clock. */
void rd_apcap_drain(struct rd_apcap *a, const struct det_engine *e, uint64_t now_ns);
struct rd_apcap_info {
	const char *path; /* valid until the next drain */
	uint64_t packets; /* written so far */
	bool open;        /* still collecting */
};
/* The file of an attack; false when it has none (no samples yet, no packets in the source, off). */
bool rd_apcap_info(const struct rd_apcap *a, uint64_t attack_id, struct rd_apcap_info *out);
struct rd_apcap_stats {
	uint64_t written;      /* samples in files */
	uint64_t dropped;      /* a worker's ring was full */
	uint64_t skipped;      /* arrived for a closed, unwritable or other-link-type file */
	uint64_t files_opened, files_closed, errors;
	uint64_t files_deleted; /* by keep_days / max_files */
	unsigned open;
};
void rd_apcap_stats(const struct rd_apcap *a, struct rd_apcap_stats *out);
const char *rd_apcap_dir(const struct rd_apcap *a);
/* Retention: deletes DIR's ATTACK_ID-*.pcap files older than keep_days (by mtime, against now),
 * then the oldest attacks' beyond max_files; never a file still collecting, nothing else in DIR.
 * Run at start and every 10 minutes by rd_apcap_drain; exposed for tests. */
void rd_apcap_sweep(struct rd_apcap *a, time_t now);
/* Where attack_id's samples go, whether or not any came yet: "" when a is NULL or target is a
 * prefix. For the notifications sent at the ban, before any sample. */
const char *rd_apcap_path(const struct rd_apcap *a, uint64_t attack_id, const ip_prefix *target, char *buf, size_t len);

/* ---- routes by source (routes.c): detection's bans and the ExaBGP API's routes ------------ */

enum rd_route_src { RD_SRC_DETECT, RD_SRC_SOCKET, RD_SRC_PIPE, RD_SRC_PROCESS, RD_SRC_MAX };
struct rd_routes *rd_routes_new(void);
void rd_routes_free(struct rd_routes *t);
size_t rd_routes_count(const struct rd_routes *t);
const char *rd_route_src_name(enum rd_route_src s);
/* src wants p announced (attrs are ignored for RD_SRC_DETECT: its blackhole attributes apply);
 * tells the speaker when what is announced changes. -1 out of memory or the speaker refused. */
int rd_route_add(struct rampart *rp, enum rd_route_src src, const ip_prefix *p, const struct bgp_route_attrs *attrs);
/* src lets go of p: withdrawn when no source holds it any more. -1 when src did not hold it. */
int rd_route_del(struct rampart *rp, enum rd_route_src src, const ip_prefix *p);
size_t rd_route_del_all(struct rampart *rp, enum rd_route_src src);
/* The same for some peers only (ExaBGP's `neighbor X announce|withdraw`); rd_route_add/del are
 * these with BGP_PEERS_ALL. The latest API announce's attributes apply per peer. */
int rd_route_add_to(struct rampart *rp, enum rd_route_src src, const ip_prefix *p,
		    const struct bgp_route_attrs *attrs, bgp_peer_set peers);
int rd_route_del_from(struct rampart *rp, enum rd_route_src src, const ip_prefix *p, bgp_peer_set peers);
void rd_routes_list(const struct rampart *rp, struct evbuffer *out);

/* ---- ExaBGP API (exapipe.c) ---------------------------------------------------------------- */

/* One ExaBGP API line from src: 0 and nothing in out ("done"), or -1 with the reason in out. */
int rd_exa_command(struct rampart *rp, enum rd_route_src src, const char *line, struct evbuffer *out);
/* Opens api.exabgp_pipe and starts api.exabgp_process when configured. */
int rd_exa_start(struct rampart *rp, char *err, size_t errlen);
/* Stops the process (its routes stay in the RIB-out until the speaker closes), closes the pipe. */
void rd_exa_stop(struct rampart *rp);
struct rd_exa_stats {
	uint64_t lines, errors, replies_dropped, process_starts;
	int process_pid; /* 0 when not running */
};
void rd_exa_stats(const struct rampart *rp, struct rd_exa_stats *out);

#endif
