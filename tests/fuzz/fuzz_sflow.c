/* libFuzzer target: one input is one sFlow v5 datagram's UDP payload.
 *
 * The decoder context lives across inputs (a static object of this harness) so that templates,
 * exporters and sequence numbers learned from one input shape the decoding of the next, as on a
 * real collector; its tables are bounded, so this cannot grow without limit. Every delivered
 * record is read in full so AddressSanitizer sees a record built from bytes past the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/flows.h"
#include "lib/log.h"

struct fuzz_state {
	struct cap_flow_ctx *ctx;
	ip_addr exporter[2];
	uint64_t sum;
};

static void record(void *arg, const struct flow_record *r)
{
	struct fuzz_state *st = arg;
	const uint8_t *b = (const uint8_t *)r;
	for (size_t i = 0; i < sizeof *r; i++)
		st->sum += b[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	cap_sflow_decode(st.ctx, data, size, &st.exporter[size & 1], 1795411865000000000ull, record, &st);
	return 0;
}
