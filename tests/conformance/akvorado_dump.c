/* akvorado_dump: runs captures through Rampart's decoders and prints what they produced, one JSON
 * object per line, for tests/conformance/akvorado.py to compare with akvorado's assertions.
 *
 *   akvorado_dump flows sflow|netflow|ipfix FILE...   every file's UDP payloads, in order, through
 *       one decoder context (templates learned from one file decode the next); one line per flow
 *       record, then one {"exporter": ...} line per exporter with its counters.
 *   akvorado_dump frames FILE                         every Ethernet frame through
 *       cap_decode_ethernet (the mirror-port decoder): a record line or {"none": "why"}. */
#include <pcap/pcap.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture/cap.h"
#include "capture/flows.h"
#include "tests/tools/udp_payload.h"

static void print_record(const struct flow_record *r)
{
	char s[IP_STRLEN], d[IP_STRLEN];
	printf("{\"src\": \"%s\", \"dst\": \"%s\", \"sport\": %u, \"dport\": %u, \"proto\": %u, "
	       "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"tos\": %u, \"tcp_flags\": %u, "
	       "\"in_if\": %u, \"out_if\": %u, \"rate\": %u, \"vlan\": %u, \"start_ns\": %" PRIu64
	       ", \"end_ns\": %" PRIu64 ", \"flags\": %u}\n",
	       ip_format(&r->src, s), ip_format(&r->dst, d), r->src_port, r->dst_port, r->protocol,
	       r->packets, r->bytes, r->tos, r->tcp_flags, r->in_if, r->out_if, r->sampling_rate,
	       r->vlan, r->start_ns, r->end_ns, r->flags);
}

static void on_record(void *arg, const struct flow_record *r)
{
	(void)arg;
	print_record(r);
}

static pcap_t *open_capture(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!pc)
		fprintf(stderr, "akvorado_dump: %s\n", err);
	return pc;
}

static int dump_flows(const char *proto, char **files, int nfiles)
{
	cap_flow_decode_fn dec = strcmp(proto, "sflow") == 0   ? cap_sflow_decode
				 : strcmp(proto, "ipfix") == 0 ? cap_ipfix_decode
							       : cap_netflow_decode;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	if (!ctx)
		return 1;
	for (int f = 0; f < nfiles; f++) {
		pcap_t *pc = open_capture(files[f]);
		if (!pc) {
			cap_flow_free(ctx);
			return 1;
		}
		struct pcap_pkthdr *h;
		const uint8_t *data;
		while (pcap_next_ex(pc, &h, &data) == 1) {
			ip_addr src;
			size_t len;
			const uint8_t *payload = udp_payload(data, h->caplen, &src, &len);
			if (payload)
				dec(ctx, payload, len, &src,
				    (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec,
				    on_record, NULL);
		}
		pcap_close(pc);
	}
	struct cap_exporter_info ex[64];
	size_t n = cap_flow_exporters(ctx, ex, 64);
	for (size_t i = 0; i < n && i < 64; i++) {
		char a[IP_STRLEN];
		printf("{\"exporter\": \"%s\", \"domain\": %u, \"datagrams\": %" PRIu64
		       ", \"records\": %" PRIu64 ", \"malformed\": %" PRIu64
		       ", \"template_misses\": %" PRIu64 ", \"templates_refused\": %" PRIu64
		       ", \"skipped\": %" PRIu64 ", \"templates\": %u}\n",
		       ip_format(&ex[i].addr, a), ex[i].domain, ex[i].datagrams, ex[i].records,
		       ex[i].malformed, ex[i].template_misses, ex[i].templates_refused, ex[i].skipped,
		       ex[i].templates);
	}
	cap_flow_free(ctx);
	return 0;
}

static int dump_frames(const char *file)
{
	pcap_t *pc = open_capture(file);
	if (!pc)
		return 1;
	struct pcap_pkthdr *h;
	const uint8_t *data;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct flow_record r;
		enum cap_decode_result d = cap_decode_ethernet(data, h->caplen, 0, &r);
		if (d == CAP_DECODE_OK)
			print_record(&r);
		else
			printf("{\"none\": \"%s\"}\n", cap_decode_strerror(d));
	}
	pcap_close(pc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "flows") == 0)
		return dump_flows(argv[2], argv + 3, argc - 3);
	if (argc == 3 && strcmp(argv[1], "frames") == 0)
		return dump_frames(argv[2]);
	fprintf(stderr, "usage: akvorado_dump flows sflow|netflow|ipfix FILE... | frames FILE\n");
	return 2;
}
