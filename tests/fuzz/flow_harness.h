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
#include <string.h>

#include "capture/flows.h"
#include "lib/log.h"

typedef enum cap_flow_result (*flow_decode_fn)(struct cap_flow_ctx *ctx, const uint8_t *p, size_t len,
					       const ip_addr *exporter, uint64_t recv_ns, cap_record_fn fn,
					       void *arg);

struct fuzz_state {
	struct cap_flow_ctx *ctx;
	ip_addr exporter[2];
	uint64_t sum;
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
		struct cap_flow_config cfg = {.max_exporters = 4, .max_templates = 64};
		log_set_level(LOG_LVL_ERR); /* malformed input is the point here: keep the run quiet */
		st.ctx = cap_flow_new(&cfg);
		ip_parse("192.0.2.250", &st.exporter[0]);
		ip_parse("2001:db8::250", &st.exporter[1]);
	}
	/* Two exporters, chosen by the input's length, so the exporter table is exercised too. */
	decode(st.ctx, data, size, &st.exporter[size & 1], 1795411865000000000ull, fuzz_record, &st);
	return 0;
}

#endif
