/* conf/: loads and validates the YAML configuration (libyaml) into each module's own config
 * struct, and prints it back. An unknown key, a wrong type, a bad prefix or an impossible value
 * is an error naming file:line:column and the key; nothing is half-loaded. */
#ifndef RAMPART_CONF_CONF_H
#define RAMPART_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../bgp/bgp.h"
#include "../capture/source.h"
#include "../detect/det.h"
#include "../flowspec/fs.h"
#include "../lib/ip.h"
#include "../lib/log.h"
#include "../storage/samples.h"
#include "../storage/st.h"

#define CONF_MAX_LISTEN 8
#define CONF_MAX_INTERFACES 16

struct conf_listen {
	char addr[64]; /* "0.0.0.0:6343", "[::]:2055" as written */
};

/* capture.afpacket: AF_PACKET TPACKET_V3 rings with fanout (docs/CAPTURE.md) */
/* capture.*.cpus: the CPUs a section's workers run on, worker i on cpus[i % n_cpus] */
#define CONF_MAX_CPUS 64
struct conf_cpus {
	uint32_t cpu[CONF_MAX_CPUS];
	size_t n; /* 0: not pinned (the daemon's own CPU set) */
};

struct conf_afpacket {
	char *interfaces[CONF_MAX_INTERFACES];
	size_t n_interfaces;
	uint32_t workers;  /* fanout members (threads) per interface, 1..16; default 1 */
	int fanout;        /* enum cap_fanout; default hash (by flow) */
	uint32_t ring_mb;  /* ring per worker, MiB, 1..4096; default 64 */
	uint32_t block_kb; /* ring block, KiB, a power of two 4..65536; default 1024 */
	uint32_t sample;   /* keep 1 frame in N, 1..1000000; default 1 (all) */
	bool defrag;       /* PACKET_FANOUT_FLAG_DEFRAG; default false (it hides fragment floods) */
	struct conf_cpus cpus; /* interfaces x workers, in that order */
};

/* capture.afxdp: AF_XDP sockets, one per RX queue (docs/CAPTURE.md) */
#define CONF_MAX_QUEUES 16
enum conf_xdp_mode { CONF_XDP_AUTO, CONF_XDP_SKB, CONF_XDP_NATIVE };
struct conf_afxdp {
	char *interfaces[CONF_MAX_INTERFACES];
	size_t n_interfaces;
	uint32_t queues[CONF_MAX_QUEUES]; /* RX queues read on every interface; default [0] */
	size_t n_queues;
	int mode;        /* enum conf_xdp_mode; default auto */
	uint32_t sample; /* keep 1 frame in N; default 1 */
	struct conf_cpus cpus; /* interfaces x queues, in that order */
};

/* capture.dpdk: DPDK poll-mode ports (docs/CAPTURE.md) */
#define CONF_MAX_EAL_ARGS 32
struct conf_dpdk {
	char *eal[CONF_MAX_EAL_ARGS]; /* EAL arguments, as on a DPDK command line */
	size_t n_eal;
	char *ports[CONF_MAX_INTERFACES]; /* PCI addresses or vdev names */
	size_t n_ports;
	uint32_t rx_queues; /* RX queues per port (RSS spreads across them), 1..16; default 1 */
	uint32_t workers;   /* threads per port, 1..rx_queues; worker k reads queues k, k + workers, ... */
	uint32_t sample;
	struct conf_cpus cpus; /* ports x workers, in that order */
};

struct conf_capture {
	char *pcap_interfaces[CONF_MAX_INTERFACES];
	size_t n_pcap_interfaces;
	uint32_t pcap_sample; /* capture.pcap.sample: keep 1 frame in N; default 1 */
	struct conf_afpacket afpacket;
	struct conf_afxdp afxdp;
	struct conf_dpdk dpdk;
	/* mirror flow table (flow rows for storage) */
	uint32_t flow_active_timeout_s;   /* default 60 */
	uint32_t flow_inactive_timeout_s; /* default 15 */
	uint32_t flow_table_size;         /* flows per worker, default 262144 */
	struct conf_listen sflow[CONF_MAX_LISTEN];
	size_t n_sflow;
	struct conf_listen netflow[CONF_MAX_LISTEN]; /* v5 and v9 */
	size_t n_netflow;
	struct conf_listen ipfix[CONF_MAX_LISTEN];
	size_t n_ipfix;
	uint32_t udp_rcvbuf; /* receive buffer per flow listener socket, bytes; default 32 MiB */
	uint32_t flow_spread_s; /* an exported record's packets are counted over at most this many
				   seconds from receipt, as long as the record lasted; 0 = all at
				   receipt. Default 4 */
	uint32_t udp_workers; /* workers (SO_REUSEPORT sockets) per flow listen address, 1..8;
				 default 1 */
	/* Per listener protocol: the exporters allowed to send (malloc'ed; none = any source). */
	ip_prefix *sflow_exporters, *netflow_exporters, *ipfix_exporters;
	size_t n_sflow_exporters, n_netflow_exporters, n_ipfix_exporters;
	/* The collectors' state bounds per listener worker (capture/flows.h cap_flow_config). */
	uint32_t max_exporters;           /* default 256 */
	uint32_t max_domains_per_address; /* default 64 */
	uint32_t max_templates;           /* per exporter, default 256 */
	uint32_t max_template_bytes;      /* default 16 MiB */
	uint32_t exporter_idle_s;         /* default 300 */
};

/* A FlowSpec rule given in the configuration, in the text form (ExaBGP's flow route syntax). */
struct conf_flow_rule {
	struct fs_rule rule;
	struct fs_actions actions;
};
#define CONF_MAX_FLOW_RULES 1000

struct conf_mitigation {
	enum det_mitigation action; /* never DET_MIT_DEFAULT here; default blackhole */
	uint32_t communities[BGP_MAX_COMMUNITIES]; /* added to BLACKHOLE and NO_EXPORT */
	size_t n_communities;
	ip_addr next_hop_ipv4; /* zero = the session's own address */
	ip_addr next_hop_ipv6;
	uint32_t max_bans;     /* default 1000 (copied into det_config.max_bans) */
	bool dry_run;          /* decide and record everything, announce nothing */
	uint32_t max_bans_per_minute; /* new detected bans per 60 s; 0 = no cap (det_config's) */
	ip_prefix *own_addresses;     /* never banned (det_config.own points at the same list) */
	size_t n_own_addresses;
	/* FlowSpec mitigation (action flowspec or flowspec-then-blackhole) */
	uint32_t flowspec_rate_limit_mbps; /* 0 = discard the matched traffic (traffic-rate 0) */
	uint32_t flowspec_max_rules;       /* rules at once; past it attacks are blackholed. Default 1000 */
	uint32_t flowspec_escalate_after_s; /* flowspec-then-blackhole: blackhole too when still over
					     * the threshold this long after the rule. Default 60 */
	struct conf_flow_rule *flowspec_rules; /* announced at start and kept, like rampartctl flowspec add */
	size_t n_flowspec_rules;
	/* The ban state file (mitigation/state.c): bans, API routes and operator rules kept across a
	 * restart. Absent from the YAML = STORAGE_DIR/bans.state; "" = off. */
	char state_file[256];
};

/* Actions beside BGP. */
struct conf_actions {
	char notify_script[256];     /* FastNetMon-style script: IP incoming|outgoing PPS ban|unban */
	uint32_t notify_timeout_s;   /* a script still running after this is killed; default 30 */
	uint32_t notify_max_running; /* scripts at once; more calls wait in a bounded queue; default 8 */
	char webhook_url[256];       /* ban/unban POSTed as JSON; "" = off */
	uint32_t webhook_timeout_s;  /* per POST, default 5 */
	uint32_t webhook_retries;    /* after a failed POST, default 3 */
	bool local_blackhole;        /* a blackhole route in this box's table per ban; default false */
	uint32_t local_blackhole_table; /* routing table of those routes, default 254 (main) */
};

struct conf_api {
	char socket[108]; /* UNIX control socket; default /run/rampart/rampart.sock */
	char http[64];    /* "127.0.0.1:8080"; empty = off */
	/* ExaBGP drop-in (docs/EXABGP.md) */
	char exabgp_pipe[256];          /* named pipe taking ExaBGP API lines; empty = off */
	char exabgp_process[512];       /* command (sh -c) whose stdout lines are API commands; empty = off */
	bool exabgp_process_withdraw;   /* withdraw the process's routes when it exits; default true */
	/* who may drive the API, and how much of the daemon one client may hold (docs/OPERATIONS.md) */
	char token_file[256];           /* bearer token for HTTP; empty = none (loopback only) */
	char http_hosts[512];           /* extra Host names the HTTP API answers to, comma separated */
	uint32_t http_max_clients;      /* HTTP connections at once; default 64 */
	uint32_t http_request_timeout_s; /* whole request (headers and body) and each reply; default 10 */
	uint32_t control_max_clients;   /* control socket clients at once; default 16 */
};

struct rampart_conf {
	char path[256];
	struct det_config detect; /* networks, whitelist, hostgroups, thresholds, detection */
	struct conf_capture capture;
	struct conf_mitigation mitigation;
	struct bgp_config bgp;
	bool bgp_enabled; /* the bgp section is present */
	struct st_config storage;
	struct conf_api api;
	struct conf_actions actions;
	enum log_level_conf { CONF_LOG_DEBUG, CONF_LOG_INFO, CONF_LOG_WARN, CONF_LOG_ERR } log_level;
	/* Started as root: the user rampartd becomes once what needs root is open (rampartd -u
	 * takes precedence). "" = stay who started it. */
	char user[64];
	/* under detection: in the YAML; after detect here, since the walk reaches it from there */
	struct st_samples_config attack_pcap; /* detection.attack_pcap (storage/samples.h) */
};

/* 0 on success; -1 with err = "FILE:LINE:COL: KEY: what is wrong". *out is only written on success. */
int conf_load(const char *path, struct rampart_conf *out, char *err, size_t errlen);
/* The same from memory; name stands for the file in messages. */
int conf_load_string(const char *yaml, size_t len, const char *name, struct rampart_conf *out, char *err,
		     size_t errlen);
/* Frees what conf_load allocated and zeroes *c; safe on a zeroed struct. */
void conf_free(struct rampart_conf *c);
/* Every value at its default, nothing allocated, no networks (so not a loadable configuration
 * by itself: networks are required). */
void conf_defaults(struct rampart_conf *c);
/* Prints the effective configuration as YAML that conf_load accepts and that loads back to the
 * same values (the round trip the tests check). */
void conf_print(const struct rampart_conf *c, FILE *f);
/* Logs, at info level, what the configuration asks for: the networks watched, the capture (or
 * the capture file `replay` that stands in for it; NULL: none), what an attack leads to, the
 * control socket and the HTTP listener. Once, at start. */
void conf_log_summary(const struct rampart_conf *c, const char *replay);
/* log_level as lib/log's level, for log_set_level at start and on reload. */
enum log_level conf_log_level(const struct rampart_conf *c);
/* One capture worker's source as the configuration asks for it: a mirror source (cap), or a
 * flow export listener of flow_proto on listen, this one of listen_workers sockets there. */
struct conf_source {
	bool mirror;
	struct cap_src_spec cap;
	const char *listen;
	enum cap_flow_proto flow_proto;
	unsigned listen_worker, listen_workers; /* this one of capture.udp_workers on listen */
};
/* The workers the capture sections ask for: pcap interfaces, afpacket interfaces x workers,
 * afxdp interfaces x queues, dpdk ports x workers, flow listen addresses x udp_workers. */
size_t conf_capture_n_sources(const struct conf_capture *c);
/* Fills out (room for conf_capture_n_sources) in that order, each pinned per its section's
 * cpus; the dpdk sources are queues on dpdk (cap_dpdk_start of capture.dpdk first; NULL when
 * there are no ports). Returns how many; the names point into c. */
size_t conf_capture_sources(const struct conf_capture *c, struct cap_dpdk *dpdk, struct conf_source *out);
/* The collector bounds and the allow-list of proto's exporters, as a listener of that protocol
 * takes them (capture/flows.h); out points into c, which must outlive it. */
void conf_flow_config(const struct conf_capture *c, enum cap_flow_proto proto, struct cap_flow_config *out);

/* ---- reload: what a new file changes (diff.c) ------------------------------------------- */

enum conf_peer_change { CONF_PEER_SAME, CONF_PEER_CHANGED, CONF_PEER_ADDED, CONF_PEER_REMOVED };
#define CONF_DIFF_MAX_RESTART 32

/* Per section, whether the new configuration differs in what a reload applies, and the keys
 * that differ but only take effect at a restart (docs/OPERATIONS.md, Reload). */
struct conf_diff {
	bool networks;   /* monitored networks, or a hostgroup's name, prefixes or total scope */
	bool thresholds; /* a hostgroup's thresholds, totals, ban time or mitigation */
	bool whitelist;  /* whitelist or mitigation.own_addresses */
	bool detection;  /* average_s, confirm_ticks, burst_factor, ban_time, unban_only_if_attack_finished,
			    max_bans_per_minute, host_idle_s */
	bool mitigation; /* action, communities, next hops, dry_run, flowspec rate_limit / escalate_after */
	bool notify;     /* actions.notify_* */
	bool webhook;    /* actions.webhook_* */
	bool http;       /* api.http */
	bool log_level;
	size_t peers_added, peers_removed, peers_changed;
	size_t peers_described; /* kept peers with a new description only */
	const char *restart[CONF_DIFF_MAX_RESTART]; /* static key names */
	size_t n_restart;
};

void conf_diff(const struct rampart_conf *old, const struct rampart_conf *new, struct conf_diff *d);
/* Whether d holds anything a reload applies. */
bool conf_diff_any(const struct conf_diff *d);
/* How a peer changes (old or new NULL: added or removed); its description does not count. */
enum conf_peer_change conf_peer_compare(const struct bgp_peer_config *old, const struct bgp_peer_config *new);
/* The peer of b with that address, or NULL. */
const struct bgp_peer_config *conf_peer_find(const struct bgp_config *b, const ip_addr *address);
/* Gives new the running values of every key conf_diff lists as needing a restart, taken from
 * old (sections with what they own trade places), so that new can replace old as the running
 * configuration and conf_free(old) frees what was not taken. Called a second time with the same
 * two, it gives old back what it traded (the undo of a reload that could not be applied). */
void conf_keep_restart(struct rampart_conf *new, struct rampart_conf *old);

#endif
