/* The capture workers the configuration asks for, one source each (capture.* sections). */
#include "conf.h"

/* worker i of a section with cpus: [...] runs on cpus[i mod the list's length] */
#define PIN(cpus, i, key) .pinned = (cpus).n > 0, .cpu = (cpus).n ? (cpus).cpu[(i) % (cpus).n] : 0, .cpu_key = (key)

size_t conf_capture_n_sources(const struct conf_capture *cc)
{
	return cc->n_pcap_interfaces + cc->afpacket.n_interfaces * cc->afpacket.workers +
	       cc->afxdp.n_interfaces * cc->afxdp.n_queues + cc->dpdk.n_ports * cc->dpdk.workers +
	       (cc->n_sflow + cc->n_netflow + cc->n_ipfix) * cc->udp_workers;
}

size_t conf_capture_sources(const struct conf_capture *cc, struct cap_dpdk *dpdk, struct conf_source *out)
{
	size_t n = 0;
	for (size_t i = 0; i < cc->n_pcap_interfaces; i++)
		out[n++] = (struct conf_source){.mirror = true,
			.cap = {.kind = CAP_SRC_PCAP, .key = "capture.pcap.interfaces", .name = cc->pcap_interfaces[i],
				.sample = cc->pcap_sample}};
	const struct conf_afpacket *afp = &cc->afpacket;
	for (size_t i = 0; i < afp->n_interfaces; i++)
		for (unsigned k = 0; k < afp->workers; k++)
			out[n++] = (struct conf_source){.mirror = true,
				.cap = {.kind = CAP_SRC_AFPACKET, .key = "capture.afpacket.interfaces",
					.name = afp->interfaces[i], .sample = afp->sample, .member = k,
					.members = afp->workers, .fanout = (enum cap_fanout)afp->fanout,
					.ring_mb = afp->ring_mb, .block_kb = afp->block_kb, .defrag = afp->defrag,
					PIN(afp->cpus, i * afp->workers + k, "capture.afpacket.cpus")}};
	const struct conf_afxdp *xdp = &cc->afxdp;
	static const enum cap_xdp_mode modes[] = {[CONF_XDP_AUTO] = CAP_XDP_AUTO, [CONF_XDP_SKB] = CAP_XDP_SKB,
						  [CONF_XDP_NATIVE] = CAP_XDP_NATIVE};
	for (size_t i = 0; i < xdp->n_interfaces; i++)
		for (size_t k = 0; k < xdp->n_queues; k++)
			out[n++] = (struct conf_source){.mirror = true,
				.cap = {.kind = CAP_SRC_AFXDP, .key = "capture.afxdp.interfaces",
					.name = xdp->interfaces[i], .sample = xdp->sample, .queue = xdp->queues[k],
					.xdp_mode = modes[xdp->mode],
					PIN(xdp->cpus, i * xdp->n_queues + k, "capture.afxdp.cpus")}};
	const struct conf_dpdk *dk = &cc->dpdk;
	for (size_t i = 0; i < dk->n_ports; i++)
		for (unsigned k = 0; k < dk->workers; k++)
			out[n++] = (struct conf_source){.mirror = true,
				.cap = {.kind = CAP_SRC_DPDK, .key = "capture.dpdk.ports", .name = dk->ports[i],
					.sample = dk->sample, .member = k, .members = dk->workers,
					.dpdk = dpdk, PIN(dk->cpus, i * dk->workers + k, "capture.dpdk.cpus")}};
	for (size_t i = 0; i < cc->n_sflow; i++)
		for (unsigned k = 0; k < cc->udp_workers; k++)
			out[n++] = (struct conf_source){.listen = cc->sflow[i].addr,
				.flow_proto = CAP_FLOW_PROTO_SFLOW, .listen_worker = k, .listen_workers = cc->udp_workers};
	for (size_t i = 0; i < cc->n_netflow; i++)
		for (unsigned k = 0; k < cc->udp_workers; k++)
			out[n++] = (struct conf_source){.listen = cc->netflow[i].addr,
				.flow_proto = CAP_FLOW_PROTO_NETFLOW, .listen_worker = k, .listen_workers = cc->udp_workers};
	for (size_t i = 0; i < cc->n_ipfix; i++)
		for (unsigned k = 0; k < cc->udp_workers; k++)
			out[n++] = (struct conf_source){.listen = cc->ipfix[i].addr,
				.flow_proto = CAP_FLOW_PROTO_IPFIX, .listen_worker = k, .listen_workers = cc->udp_workers};
	return n;
}
