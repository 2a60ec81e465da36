/* libFuzzer: the TPACKET_V3 block walk (capture/tpv3.h) on arbitrary bytes as a ring block, and
 * every frame it delivers through the Ethernet decoder. Every delivered frame must lie inside
 * the block (ASan checks the reads; this checks the bounds the walk promises). */
#include <stdint.h>
#include <stdlib.h>

#include "capture/cap.h"
#include "capture/tpv3.h"

struct ctx {
	const uint8_t *blk;
	size_t size;
};

static void on_pkt(void *arg, const struct cap_tpv3_pkt *p)
{
	const struct ctx *c = arg;
	if (p->data < c->blk || p->data + p->caplen > c->blk + c->size || p->len < p->caplen)
		abort();
	struct flow_record r;
	(void)cap_decode_ethernet(p->data, p->caplen, p->ts_ns, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes so ASan catches any read past the block */
	uint8_t *blk = malloc(size ? size : 1);
	if (!blk)
		return 0;
	memcpy(blk, data, size);
	struct ctx c = {blk, size};
	uint32_t n;
	const char *why = NULL;
	(void)cap_tpv3_walk(blk, size, on_pkt, &c, &n, &why);
	free(blk);
	return 0;
}
