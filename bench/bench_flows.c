/* Flow-export datagrams -> flow records, on one core, from the shared captures held in memory:
 * the listener's per-datagram path (sFlow v5, NetFlow v5, v9, IPFIX decode) measured apart
 * from sockets and libpcap. The decoder context persists across passes, as on a collector, so
 * v9/IPFIX run with their templates learned. Budget: >= 5 M flow records/s (DESIGN.md).
 *   bench_flows [DATA_DIR [SECONDS_PER_PROTOCOL]] */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "capture/flows.h"
#include "lib/log.h"

struct dgram {
	uint32_t len;
	const uint8_t *data;
};

static void count(void *arg, const struct flow_record *f)
{
	(*(uint64_t *)arg) += f->packets;
}

/* The UDP payloads of an Ethernet/IPv4 capture, copied out. */
static struct dgram *load(const char *path, size_t *n_out)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p) {
		fprintf(stderr, "bench_flows: %s\n", errbuf);
		return NULL;
	}
	size_t n = 0, cap = 1024;
	struct dgram *d = malloc(cap * sizeof *d);
	struct pcap_pkthdr *h;
	const u_char *f;
	while (pcap_next_ex(p, &h, &f) == 1) {
		if (h->caplen < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17)
			continue;
		size_t off = 14 + (size_t)(f[14] & 0x0f) * 4 + 8;
		if (off > h->caplen)
			continue;
		if (n == cap)
			d = realloc(d, (cap *= 2) * sizeof *d);
		uint8_t *copy = malloc(h->caplen - off);
		memcpy(copy, f + off, h->caplen - off);
		d[n++] = (struct dgram){(uint32_t)(h->caplen - off), copy};
	}
	pcap_close(p);
	*n_out = n;
	return d;
}

static int run(const char *dir, const char *file, const char *name, cap_flow_decode_fn dec,
	       double seconds)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	size_t n;
	struct dgram *d = load(path, &n);
	if (!d || n == 0)
		return 1;
	struct cap_flow_ctx *ctx = cap_flow_new(NULL);
	ip_addr ex;
	ip_parse("127.0.0.1", &ex);
	uint64_t sink = 0, dgrams = 0, errors = 0;
	struct cap_exporter_info info;
	/* one warm-up pass learns the templates and gives the records in one pass */
	for (size_t i = 0; i < n; i++)
		dec(ctx, d[i].data, d[i].len, &ex, 1, count, &sink);
	cap_flow_exporters(ctx, &info, 1);
	uint64_t per_pass = info.records;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < n; i++)
			errors += dec(ctx, d[i].data, d[i].len, &ex, 1, count, &sink) != CAP_FLOW_OK;
		dgrams += n;
		t = now_s() - t0;
	} while (t < seconds);
	cap_flow_exporters(ctx, &info, 1);
	uint64_t records = info.records - per_pass;
	printf("%-9s %5zu datagrams %6lu records/pass  %6.2f M records/s  %6.3f M datagrams/s  "
	       "%3.0f ns/record  errors %lu\n",
	       name, n, (unsigned long)per_pass, records / t / 1e6, dgrams / t / 1e6,
	       t * 1e9 / (double)records, (unsigned long)errors);
	cap_flow_free(ctx);
	for (size_t i = 0; i < n; i++)
		free((void *)d[i].data);
	free(d);
	return errors != 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/data/flows";
	double seconds = argc > 2 ? atof(argv[2]) : 1.0;
	/* from a worktree (/work/wt/NAME) the shared data is one level further up */
	if (argc <= 1 && access(dir, R_OK) != 0)
		dir = "../../shared/data/flows";
	log_set_level(LOG_LVL_ERR);
	int bad = 0;
	bad |= run(dir, "sflow.pcap", "sflow", cap_sflow_decode, seconds);
	bad |= run(dir, "netflow5.pcap", "netflow5", cap_netflow5_decode, seconds);
	bad |= run(dir, "netflow9.pcap", "netflow9", cap_netflow9_decode, seconds);
	bad |= run(dir, "ipfix.pcap", "ipfix", cap_ipfix_decode, seconds);
	return bad;
}
