/* libFuzzer: AF_XDP RX descriptors (capture/xskdesc.h) from arbitrary bytes, against a small
 * UMEM: an accepted descriptor's bytes are read through the Ethernet decoder (ASan catches a
 * read outside the UMEM) and its chunk must contain it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap.h"
#include "capture/xskdesc.h"

#define CHUNK 2048u
#define CHUNKS 4u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t umem[CHUNK * CHUNKS];
	if (size < 12)
		return 0;
	uint64_t addr;
	uint32_t len;
	memcpy(&addr, data, 8);
	memcpy(&len, data + 8, 4);
	size_t fill = size - 12 < sizeof umem ? size - 12 : sizeof umem;
	memcpy(umem, data + 12, fill);
	uint64_t chunk;
	const char *why;
	if (cap_xsk_desc_ok(addr, len, sizeof umem, CHUNK, &chunk, &why)) {
		if (addr < chunk || addr + len > chunk + CHUNK || chunk % CHUNK)
			abort();
		struct flow_record r;
		(void)cap_decode_ethernet(umem + addr, len, 0, &r);
	}
	return 0;
}
