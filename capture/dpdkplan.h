/* capture/ internals: the arithmetic of the DPDK source (dpdk.c) that needs no DPDK, shared with
 * its unit tests. Not for other modules.
 *
 * Which RX queues a worker reads, how a port's counters become drops, how the TSC becomes the
 * capture clock, and whether a port is a capture file being replayed. */
#ifndef RAMPART_CAPTURE_DPDKPLAN_H
#define RAMPART_CAPTURE_DPDKPLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "source.h"

/* Worker `member` of `members` reads queues member, member + members, ... below rx_queues, so
 * every queue has exactly one reader (rte_eth_rx_burst on a queue is not thread-safe) and the
 * workers' shares differ by at most one queue. Writes at most max queue ids to out; returns how
 * many it wrote (0 when member >= members or members == 0). */
static inline unsigned cap_dpdk_member_queues(unsigned member, unsigned members, unsigned rx_queues,
					      uint16_t *out, unsigned max)
{
	unsigned n = 0;
	if (members == 0 || member >= members)
		return 0;
	for (unsigned q = member; q < rx_queues && n < max; q += members)
		out[n++] = (uint16_t)q;
	return n;
}

/* A port's counters as rte_eth_stats_get() gives them (totals since the port started). */
struct cap_dpdk_port_counters {
	uint64_t imissed;   /* the NIC had the frame but its RX ring was full: we polled too slowly */
	uint64_t rx_nombuf; /* no mbuf to receive into: the pool was empty */
	uint64_t ierrors;   /* frames the NIC received in error (bad FCS, runts, ...) */
	uint64_t kernel_losses; /* a virtual device: frames the kernel dropped before the PMD read
				 * them (net_tap's queue, net_af_packet's ring full) */
};

/* The port's drops go to its first worker only (member 0), so that adding up the workers of a
 * port gives the port's drops once. imissed, rx_nombuf and a virtual device's kernel losses are
 * frames we had the chance to read and lost to a full ring, pool or queue: ring_drops. ierrors
 * happened on the wire: if_drops. */
static inline void cap_dpdk_port_drops(const struct cap_dpdk_port_counters *c, unsigned member,
				       struct cap_src_stats *st)
{
	if (member != 0) {
		st->ring_drops = st->if_drops = 0;
	} else {
		st->ring_drops = c->imissed + c->rx_nombuf + c->kernel_losses;
		st->if_drops = c->ierrors;
	}
	st->kernel_drops = st->ring_drops + st->if_drops;
}

/* The capture clock from the TSC: base_ns (wall clock, ns) was read at TSC tsc0, the TSC runs at
 * hz. Split in whole seconds and a remainder so that the product fits 64 bits for any hz below
 * 2^32 and any distance (a TSC behind tsc0 gives base_ns). */
static inline uint64_t cap_dpdk_tsc_ns(uint64_t base_ns, uint64_t tsc0, uint64_t tsc, uint64_t hz)
{
	if (tsc <= tsc0 || hz == 0)
		return base_ns;
	uint64_t d = tsc - tsc0;
	return base_ns + d / hz * 1000000000ull + d % hz * 1000000000ull / hz;
}

/* A net_pcap port given rx_pcap=FILE (among its comma-separated devargs) replays a file: its
 * timestamps are the file's and its end is the end of the file. rx_iface= or iface= reads a live
 * interface through libpcap. */
static inline bool cap_dpdk_is_replay(const char *driver, const char *devargs)
{
	if (!driver || strcmp(driver, "net_pcap") != 0 || !devargs)
		return false;
	for (const char *p = devargs; *p;) {
		if (strncmp(p, "rx_pcap=", 8) == 0)
			return true;
		const char *comma = strchr(p, ',');
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

#endif
