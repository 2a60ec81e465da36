/* capture/ internals: checking an AF_XDP RX descriptor against the UMEM before its bytes are
 * read, shared by the AF_XDP source, its unit tests and its fuzz target. Not for other modules.
 *
 * The descriptor ring is memory the kernel writes; a descriptor pointing outside the UMEM, or a
 * frame longer than its chunk, would make the decoder read another frame's bytes or unmapped
 * memory. The UMEM is used in aligned mode: chunk i covers [i * chunk, (i + 1) * chunk), and a
 * descriptor's address lies inside one chunk (after the headroom); the chunk's start goes back
 * to the fill ring. */
#ifndef RAMPART_CAPTURE_XSKDESC_H
#define RAMPART_CAPTURE_XSKDESC_H

#include <stdbool.h>
#include <stdint.h>

/* true when [addr, addr + len) lies inside one chunk of a UMEM of umem_size bytes cut into
 * chunks of chunk_size (a power of two) and len > 0; *chunk_start is the chunk to refill with.
 * *why names the fault otherwise (a static string). */
static inline bool cap_xsk_desc_ok(uint64_t addr, uint32_t len, uint64_t umem_size, uint32_t chunk_size,
				   uint64_t *chunk_start, const char **why)
{
	if (addr >= umem_size) {
		*why = "descriptor address outside the UMEM";
		return false;
	}
	uint64_t start = addr & ~((uint64_t)chunk_size - 1);
	*chunk_start = start; /* a bad length still gives its chunk back */
	if (len == 0) {
		*why = "empty descriptor";
		return false;
	}
	if (addr + len > start + chunk_size || addr + len > umem_size) {
		*why = "descriptor runs past its chunk";
		return false;
	}
	return true;
}

#endif
