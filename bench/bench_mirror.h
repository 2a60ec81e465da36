/* The mirror worker's path as bench_pipeline and bench_dpdk_ring both measure it: the two
 * monitored networks the shared capture's victims are in, one counters set and one flow table
 * sized as the daemon's defaults, and a sink for the flow rows the table exports. */
#ifndef RAMPART_BENCH_MIRROR_H
#define RAMPART_BENCH_MIRROR_H

#include <stdint.h>
#include <stdio.h>

#include "capture/cap.h"
#include "detect/det.h"
#include "lib/ip.h"

struct bench_mirror {
	struct det_networks *nets;
	struct det_counters *counters;
	struct cap_flowtable *flows;
};

/* 192.0.2.0/24 and 2001:db8:10::/48 monitored, 65 536 hosts, 262 144 flows (60 s active, 15 s
 * inactive). false (and a line on stderr naming who) when out of memory. */
static inline bool bench_mirror_setup(const char *who, struct bench_mirror *m)
{
	struct det_config cfg;
	det_config_defaults(&cfg);
	ip_prefix nets[2];
	ip_prefix_parse("192.0.2.0/24", &nets[0]);
	ip_prefix_parse("2001:db8:10::/48", &nets[1]);
	cfg.networks = nets;
	cfg.n_networks = 2;
	m->nets = det_networks_new(&cfg);
	m->counters = m->nets ? det_counters_new(m->nets, 1 << 16) : NULL;
	m->flows = cap_flowtable_new(1 << 18, 60, 15);
	if (!m->nets || !m->counters || !m->flows) {
		fprintf(stderr, "%s: setup failed\n", who);
		return false;
	}
	return true;
}

/* The flow table's export callback: ctx is a uint64_t of packets exported. */
static inline void bench_mirror_discard(void *ctx, const struct flow_record *f)
{
	(*(uint64_t *)ctx) += f->packets;
}

#endif
