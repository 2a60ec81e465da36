/* flowdump PROTO FILE: decodes the UDP payloads of a capture with the flow decoders and prints
 * one line per flow record, for comparison with tshark (flows_vs_tshark.sh).
 *   PROTO: sflow | netflow (v5/v9/IPFIX by version) | ipfix
 * Line: src dst sport dport proto packets bytes tos tcp_flags in_if out_if rate vlan start_ns end_ns
 * Exporter counters go to stderr. */
#include <pcap/pcap.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture/flows.h"
#include "tests/tools/udp_payload.h"

static void print_record(void *arg, const struct flow_record *r)
{
	(void)arg;
	char s[IP_STRLEN], d[IP_STRLEN];
	printf("%s %s %u %u %u %" PRIu64 " %" PRIu64 " %u %u %u %u %u %u %" PRIu64 " %" PRIu64 "\n",
	       ip_format(&r->src, s), ip_format(&r->dst, d), r->src_port, r->dst_port, r->protocol,
	       r->packets, r->bytes, r->tos, r->tcp_flags, r->in_if, r->out_if, r->sampling_rate, r->vlan,
	       r->start_ns, r->end_ns);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: flowdump sflow|netflow|ipfix FILE\n");
		return 2;
	}
	cap_flow_decode_fn dec = strcmp(argv[1], "sflow") == 0   ? cap_sflow_decode
				 : strcmp(argv[1], "ipfix") == 0 ? cap_ipfix_decode
								 : cap_netflow_decode;
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(argv[2], PCAP_TSTAMP_PRECISION_NANO, err);
	if (!pc) {
		fprintf(stderr, "flowdump: %s\n", err);
		return 1;
	}
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	struct pcap_pkthdr *h;
	const uint8_t *data;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		ip_addr src;
		size_t len;
		const uint8_t *payload = udp_payload(data, h->caplen, &src, &len);
		if (payload)
			dec(ctx, payload, len, &src,
			    (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec, print_record,
			    NULL);
	}
	pcap_close(pc);
	struct cap_exporter_info ex[16];
	size_t n = cap_flow_exporters(ctx, ex, 16);
	for (size_t i = 0; i < n && i < 16; i++) {
		char a[IP_STRLEN];
		fprintf(stderr,
			"exporter %s domain %u: datagrams %" PRIu64 " records %" PRIu64
			" malformed %" PRIu64 " template_misses %" PRIu64 " refused %" PRIu64
			" gaps %" PRIu64 " skipped %" PRIu64 " rate %u templates %u\n",
			ip_format(&ex[i].addr, a), ex[i].domain, ex[i].datagrams, ex[i].records,
			ex[i].malformed, ex[i].template_misses, ex[i].templates_refused,
			ex[i].sequence_gaps, ex[i].skipped, ex[i].sampling_rate, ex[i].templates);
	}
	cap_flow_free(ctx);
	return 0;
}
