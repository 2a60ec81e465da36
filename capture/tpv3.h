/* capture/ internals: the walk over one TPACKET_V3 ring block (AF_PACKET), shared by the
 * AF_PACKET source, its unit tests and its fuzz target. Not for other modules.
 *
 * The block is memory the kernel writes and we read, so every offset in it is checked against
 * the block before it is followed: a block whose header is impossible delivers nothing, and a
 * packet header that points outside the block ends the walk there (the packets before it were
 * fine). Headers are copied out with memcpy: a hand-built or corrupt block need not be aligned,
 * and the copy of 48 bytes costs less than the decode that follows. The walk is inline so the
 * per-packet callback is a direct call the compiler can fold into the source's loop. */
#ifndef RAMPART_CAPTURE_TPV3_H
#define RAMPART_CAPTURE_TPV3_H

#include <linux/if_packet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cap_tpv3_pkt {
	const uint8_t *data; /* the frame from its MAC header */
	uint32_t caplen;     /* bytes at data */
	uint32_t len;        /* the frame's length on the wire */
	uint32_t status;     /* tp_status: TP_STATUS_VLAN_VALID, TP_STATUS_LOSING, ... */
	uint16_t vlan_tci;   /* when status has TP_STATUS_VLAN_VALID (the tag the NIC stripped) */
	uint64_t ts_ns;      /* the ring's timestamp */
};

enum cap_tpv3_result {
	CAP_TPV3_OK = 0,
	CAP_TPV3_BAD_BLOCK,  /* the block header is impossible: nothing delivered */
	CAP_TPV3_BAD_PACKET, /* a packet header points outside the block: the walk stopped there */
};

/* Walks the block at blk (blk_size bytes mapped): calls fn for each packet the block header
 * claims, in order. *delivered is the number of packets given to fn; *why names the fault when
 * the result is not CAP_TPV3_OK (a static string). A block of zero packets is fine. */
static inline enum cap_tpv3_result cap_tpv3_walk(const uint8_t *blk, size_t blk_size,
						 void (*fn)(void *ctx, const struct cap_tpv3_pkt *p), void *ctx,
						 uint32_t *delivered, const char **why)
{
	*delivered = 0;
	struct tpacket_block_desc bd;
	if (blk_size < sizeof bd) {
		*why = "block smaller than its header";
		return CAP_TPV3_BAD_BLOCK;
	}
	memcpy(&bd, blk, sizeof bd);
	const struct tpacket_hdr_v1 *h = &bd.hdr.bh1;
	uint32_t num = h->num_pkts;
	if (num == 0)
		return CAP_TPV3_OK;
	size_t end = h->blk_len;
	if (end > blk_size || end < sizeof bd) {
		*why = "block length outside the block";
		return CAP_TPV3_BAD_BLOCK;
	}
	size_t off = h->offset_to_first_pkt;
	if (off < sizeof bd || off > end) {
		*why = "first packet offset outside the block";
		return CAP_TPV3_BAD_BLOCK;
	}
	for (uint32_t i = 0; i < num; i++) {
		struct tpacket3_hdr ph;
		if (off > end || end - off < sizeof ph) {
			*why = "packet header runs past the block";
			return CAP_TPV3_BAD_PACKET;
		}
		memcpy(&ph, blk + off, sizeof ph);
		size_t room = end - off;
		if (ph.tp_mac > room || ph.tp_snaplen > room - ph.tp_mac) {
			*why = "packet data runs past the block";
			return CAP_TPV3_BAD_PACKET;
		}
		struct cap_tpv3_pkt p = {
			.data = blk + off + ph.tp_mac,
			.caplen = ph.tp_snaplen,
			.len = ph.tp_len < ph.tp_snaplen ? ph.tp_snaplen : ph.tp_len,
			.status = ph.tp_status,
			.vlan_tci = (uint16_t)ph.hv1.tp_vlan_tci,
			.ts_ns = (uint64_t)ph.tp_sec * 1000000000ull + ph.tp_nsec,
		};
		fn(ctx, &p);
		(*delivered)++;
		if (i + 1 == num)
			break;
		/* a step shorter than a header would loop or overlap it; past the block is corrupt */
		if (ph.tp_next_offset < sizeof ph || ph.tp_next_offset > room) {
			*why = "next packet offset outside the block";
			return CAP_TPV3_BAD_PACKET;
		}
		off += ph.tp_next_offset;
	}
	return CAP_TPV3_OK;
}

#endif
