/* The shared body of the flow-export fuzz targets (sFlow, NetFlow v5, v9, IPFIX): one input is
 * one datagram's UDP payload, given to the decoder under test.
 *
 * The decoder context lives across inputs (a static object of the harness) so that templates,
 * exporters and sequence numbers learned from one input shape the decoding of the next, as on a
 * real collector; its tables are bounded, so this cannot grow without limit. Every delivered
 * record is read in full so AddressSanitizer sees a record built from bytes past the input. */
#ifndef RAMPART_FUZZ_FLOW_HARNESS_H
#define RAMPART_FUZZ_FLOW_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/flows.h"
#include "lib/log.h"

typedef enum cap_flow_result (*flow_decode_fn)(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					       const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					       void *arg);

#define FUZZ_EXPORTERS 8

struct fuzz_state {
	struct cap_flow_ctx *ctx;
	ip_addr exporter[FUZZ_EXPORTERS];
	uint64_t sum;
	uint64_t now_ns;
};

static void fuzz_record(void *arg, const struct flow_record *r)
{
	struct fuzz_state *st = arg;
	const uint8_t *b = (const uint8_t *)r;
	for (size_t i = 0; i < sizeof *r; i++)
		st->sum += b[i];
}

static int fuzz_flow_datagram(flow_decode_fn decode, const uint8_t *data, size_t size)
{
	static struct fuzz_state st;
	if (!st.ctx) {
		/* Tables far smaller than the exporters and templates inputs create, so that eviction,
		 * per-address limits, template reclaim and the allow-list run on every few inputs. */
		static ip_prefix allow[2];
		ip_prefix_parse("192.0.2.0/24", &allow[0]);
		ip_prefix_parse("2001:db8::/32", &allow[1]);
		struct cap_flow_config cfg = {.max_exporters = 4, .max_domains_per_addr = 2,
					      .max_templates = 64, .max_template_bytes = 64 << 10,
					      .idle_s = 1, .allow = allow, .n_allow = 2};
		log_set_level(LOG_LVL_ERR); /* malformed input is the point here: keep the run quiet */
		st.ctx = cap_flow_new(&cfg);
		char a[64];
		for (int i = 0; i < FUZZ_EXPORTERS; i++) {
			/* the last one is outside the allow-list */
			snprintf(a, sizeof a, i == FUZZ_EXPORTERS - 1 ? "198.51.100.%d" : i & 1 ? "2001:db8::%d" : "192.0.2.%d", i + 1);
			ip_parse(a, &st.exporter[i]);
		}
		st.now_ns = 1795411865000000000ull;
	}
	/* The exporter is chosen by the input's length; the clock moves so entries go idle. */
	st.now_ns += 100000000ull;
	decode(st.ctx, data, size, &st.exporter[size % FUZZ_EXPORTERS], st.now_ns, fuzz_record, &st);
	return 0;
}

#endif
