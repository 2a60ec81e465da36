/* capture/: one interface for every mirror capture source (libpcap live or file, AF_PACKET
 * TPACKET_V3 with fanout, AF_XDP per RX queue, DPDK ports), and one for the flow export
 * listeners (cap_flowsrc, at the end: a UDP socket feeding the flows.h decoders). The daemon's wiring fills a cap_src_spec from the configuration and
 * from then on sees only a source: open, dispatch a burst, the frame behind a record, stats,
 * close. One source is read by one thread; a fanout group is one source per member.
 *
 * On the packet path (cap_src_dispatch) a source takes no lock, allocates nothing and makes no
 * system call per packet: it waits (poll) only when its ring is empty, and reads the kernel's
 * drop counters only in cap_src_stats, once per tick. */
#ifndef RAMPART_CAPTURE_SOURCE_H
#define RAMPART_CAPTURE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "flows.h"

enum cap_src_kind {
	CAP_SRC_PCAP,      /* libpcap on a live interface */
	CAP_SRC_PCAP_FILE, /* libpcap replay of a pcap/pcapng file */
	CAP_SRC_AFPACKET,  /* AF_PACKET TPACKET_V3 ring, one fanout member */
	CAP_SRC_AFXDP,     /* AF_XDP socket on one RX queue */
	CAP_SRC_DPDK,      /* DPDK port, the RX queues of one worker (cap_dpdk_start first) */
};

enum cap_xdp_mode { CAP_XDP_AUTO, CAP_XDP_SKB, CAP_XDP_NATIVE };

enum cap_fanout { CAP_FANOUT_HASH, CAP_FANOUT_LB, CAP_FANOUT_CPU };

struct cap_src_spec {
	enum cap_src_kind kind;
	const char *key;  /* the configuration key it came from, for errors: "capture.afpacket.interfaces" */
	const char *name; /* interface, or file for CAP_SRC_PCAP_FILE */
	enum cap_pcap_speed speed; /* CAP_SRC_PCAP_FILE */
	uint32_t sample;  /* keep 1 frame in sample (0 or 1: all); records carry sampling_rate = sample */
	/* CAP_SRC_AFPACKET */
	unsigned member, members; /* this one of members sockets in the interface's fanout group */
	enum cap_fanout fanout;
	bool defrag;       /* PACKET_FANOUT_FLAG_DEFRAG: see docs/CAPTURE.md before turning it on */
	/* CAP_SRC_AFXDP */
	unsigned queue;
	enum cap_xdp_mode xdp_mode;
	uint32_t ring_mb;  /* ring per member, MiB */
	uint32_t block_kb; /* ring block, KiB (a power of two, at least a page) */
	/* CAP_SRC_DPDK: name is the port, member/members this worker of the port's workers */
	struct cap_dpdk *dpdk;
	/* The CPU the thread reading this source runs on (afpacket, afxdp, dpdk: capture.*.cpus);
	 * pinned false: wherever the scheduler puts it. cpu_key names the list for errors. The
	 * source does not pin: its thread's owner does, before the first read. */
	bool pinned;
	unsigned cpu;
	const char *cpu_key;
};

struct cap_src_stats {
	uint64_t frames;                          /* frames read off the ring/file */
	uint64_t sampled_out;                     /* frames skipped by sample: N */
	uint64_t decode[CAP_DECODE_RESULT_COUNT]; /* per result; decode[CAP_DECODE_OK] = records */
	uint64_t ring_drops;  /* frames the kernel had for us but our ring/buffer was full */
	uint64_t if_drops;    /* frames the interface or NIC dropped before the kernel had them */
	uint64_t kernel_drops; /* ring_drops + if_drops */
	uint64_t bad_blocks;  /* ring blocks with impossible offsets (their remaining packets lost) */
};

struct cap_src;

/* DPDK: the EAL and the ports, set up once for the process before any CAP_SRC_DPDK source opens.
 * The EAL is process-global (rte_eal_init runs once per process), so a daemon has one
 * capture.dpdk section. */
struct cap_dpdk_spec {
	const char *key;         /* "capture.dpdk", for errors */
	char *const *eal;        /* EAL arguments, as on a DPDK application's command line */
	size_t n_eal;
	char *const *ports;      /* PCI addresses or vdev names (the vdev created by an --vdev argument) */
	size_t n_ports;
	unsigned rx_queues;      /* per port; RSS spreads flows across them */
	unsigned workers;        /* per port, at most rx_queues */
};
struct cap_dpdk;
/* Initialises the EAL, then configures and starts every port: rx_queues queues, RSS, promiscuous.
 * On error returns NULL with err naming the key (capture.dpdk.eal, .ports, .rx_queues) and the
 * reason; nothing is left started. Built without libdpdk, always an error saying so. */
struct cap_dpdk *cap_dpdk_start(const struct cap_dpdk_spec *spec, char *err, size_t errlen);
/* Stops and closes the ports and releases the EAL, after every source on it is closed. */
void cap_dpdk_stop(struct cap_dpdk *d);

/* Opens the source; on error returns NULL with err naming spec->key, the interface and the
 * reason (no such interface, not Ethernet, no permission: CAP_NET_RAW is needed, ...). */
struct cap_src *cap_src_open(const struct cap_src_spec *spec, char *err, size_t errlen);
void cap_src_close(struct cap_src *s);
/* A short name for log lines and stats: "afpacket eth1 #2", "pcap eth1", "replay FILE". */
const char *cap_src_name(const struct cap_src *s);
/* A live source: the clock is the wall clock when it is quiet. Not live: a replay of a file
 * (--pcap, or a DPDK net_pcap port with rx_pcap=), on the file's clock, which ends. */
bool cap_src_live(const struct cap_src *s);

/* Reads and decodes a burst of at most about max frames, records to fn. Returns frames read
 * (0: nothing within 100 ms on a live source), or -1 at the end of a file or on a capture
 * error (err set). */
int cap_src_dispatch(struct cap_src *s, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen);
/* The frame behind the record being delivered (valid only during the cap_record_fn call). */
const struct cap_frame *cap_src_frame(const struct cap_src *s);
/* Refreshes the kernel's counters (one system call) and copies the totals: once per tick. */
void cap_src_stats(struct cap_src *s, struct cap_src_stats *out);

/* ---- flow export listeners (flowsrc.c) ------------------------------------------------------
 * One UDP socket (sFlow, NetFlow v5/v9 or IPFIX) read in recvmmsg batches by one thread, its
 * datagrams handed to the flows.h decoders. Memory is fixed at open; nothing is allocated per
 * datagram. Like a mirror source, one listener is read by one thread. */

enum cap_flow_proto {
	CAP_FLOW_PROTO_SFLOW,
	CAP_FLOW_PROTO_NETFLOW, /* v5, v9 and IPFIX, told apart by the version field */
	CAP_FLOW_PROTO_IPFIX,
};

struct cap_flowsrc_stats {
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t kernel_drops;  /* the socket's receive-buffer drops (SO_RXQ_OVFL), as of the last
				   datagram read */
	uint64_t oversize;      /* datagrams larger than a receive buffer: dropped */
	uint64_t errors;        /* recvmmsg failures */
	uint32_t rcvbuf;        /* receive buffer the kernel granted, bytes */
	struct cap_flow_stats decode;
};

struct cap_flowsrc;

/* "sflow", "netflow", "ipfix": for names and log lines. */
const char *cap_flow_proto_name(enum cap_flow_proto p);
/* Binds a UDP socket on listen ("a.b.c.d:port", "[v6]:port") with SO_REUSEPORT, SO_RXQ_OVFL and
 * a receive buffer of rcvbuf bytes (SO_RCVBUFFORCE when allowed); fcfg bounds the decoders'
 * exporter state (NULL: defaults). On error NULL, err saying which listener and why. */
struct cap_flowsrc *cap_flowsrc_open(enum cap_flow_proto proto, const char *listen, uint32_t rcvbuf,
				     const struct cap_flow_config *fcfg, char *err, size_t errlen);
void cap_flowsrc_close(struct cap_flowsrc *s);
/* "sflow 0.0.0.0:6343": for log lines. */
const char *cap_flowsrc_name(const struct cap_flowsrc *s);
/* poll() for a datagram: >0 readable, 0 timeout, -1 error. */
int cap_flowsrc_wait(struct cap_flowsrc *s, int timeout_ms);
/* Reads one batch without waiting and decodes it, records to fn; *recv_ns is the wall clock at
 * which the batch was read. Returns datagrams read (0: none waiting), -1 on a socket error. */
int cap_flowsrc_dispatch(struct cap_flowsrc *s, cap_record_fn fn, void *arg, uint64_t *recv_ns, char *err,
			 size_t errlen);
/* sFlow: the raw header behind the record being delivered (cap_flow_frame); data NULL if none. */
const struct cap_frame *cap_flowsrc_frame(const struct cap_flowsrc *s);
/* The socket's counters and the decoders' (copied; no system call). */
void cap_flowsrc_stats(const struct cap_flowsrc *s, struct cap_flowsrc_stats *out);
/* Up to max exporters, those that delivered records first; returns how many there are. */
size_t cap_flowsrc_exporters(const struct cap_flowsrc *s, struct cap_exporter_info *out, size_t max);

#endif
