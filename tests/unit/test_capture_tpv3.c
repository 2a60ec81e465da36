/* capture/tpv3.h: the TPACKET_V3 block walk on hand-built blocks. A good block delivers each
 * packet's bytes, lengths, timestamp and stripped VLAN tag; a block with zero packets delivers
 * nothing and is fine; a block whose header is impossible (length past the mapping, first
 * packet outside it, smaller than its own header) delivers nothing; a packet header or its data
 * running past the block, or a next-packet offset that loops or leaves, ends the walk there with
 * the packets before it delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture/tpv3.h"

#define BLOCK 4096
#define HDR_ALIGNED TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

struct got {
	unsigned n;
	struct cap_tpv3_pkt p[8];
	uint8_t first[8];
};

static void collect(void *ctx, const struct cap_tpv3_pkt *p)
{
	struct got *g = ctx;
	if (g->n < 8) {
		g->p[g->n] = *p;
		g->first[g->n] = p->caplen ? p->data[0] : 0;
	}
	g->n++;
}

static _Alignas(8) uint8_t blk[BLOCK];

static void block_header(uint32_t num, uint32_t first, uint32_t len)
{
	memset(blk, 0, sizeof blk);
	struct tpacket_block_desc bd = {.version = 1};
	bd.hdr.bh1.block_status = TP_STATUS_USER;
	bd.hdr.bh1.num_pkts = num;
	bd.hdr.bh1.offset_to_first_pkt = first;
	bd.hdr.bh1.blk_len = len;
	memcpy(blk, &bd, sizeof bd);
}

/* One packet at off: caplen bytes of `fill`, next header next bytes on (0: last). */
static void packet(size_t off, uint32_t caplen, uint32_t len, uint32_t next, uint8_t fill, uint32_t sec,
		   uint32_t nsec, uint32_t status, uint16_t tci)
{
	struct tpacket3_hdr h = {0};
	h.tp_next_offset = next;
	h.tp_sec = sec;
	h.tp_nsec = nsec;
	h.tp_snaplen = caplen;
	h.tp_len = len;
	h.tp_status = status;
	h.tp_mac = (uint16_t)HDR_ALIGNED;
	h.hv1.tp_vlan_tci = tci;
	memcpy(blk + off, &h, sizeof h);
	if (off + HDR_ALIGNED + caplen <= BLOCK)
		memset(blk + off + HDR_ALIGNED, fill, caplen);
}

static const size_t FIRST = TPACKET_ALIGN(sizeof(struct tpacket_block_desc));

static enum cap_tpv3_result walk(struct got *g, size_t size, uint32_t *n, const char **why)
{
	memset(g, 0, sizeof *g);
	*why = NULL;
	return cap_tpv3_walk(blk, size, collect, g, n, why);
}

static void test_two_packets(void **state)
{
	(void)state;
	size_t second = FIRST + TPACKET_ALIGN(HDR_ALIGNED + 60);
	block_header(2, (uint32_t)FIRST, (uint32_t)(second + HDR_ALIGNED + 100));
	packet(FIRST, 60, 60, (uint32_t)(second - FIRST), 0xaa, 1700000000, 123456789, TP_STATUS_USER, 0);
	packet(second, 100, 1514, 0, 0xbb, 1700000001, 5, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 42);
	struct got g;
	uint32_t n;
	const char *why;
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_OK);
	assert_int_equal(n, 2);
	assert_int_equal(g.n, 2);
	assert_ptr_equal(g.p[0].data, blk + FIRST + HDR_ALIGNED);
	assert_int_equal(g.p[0].caplen, 60);
	assert_int_equal(g.p[0].len, 60);
	assert_int_equal(g.first[0], 0xaa);
	assert_true(g.p[0].ts_ns == 1700000000ull * 1000000000ull + 123456789ull);
	assert_int_equal(g.p[1].caplen, 100);
	assert_int_equal(g.p[1].len, 1514);
	assert_int_equal(g.first[1], 0xbb);
	assert_true(g.p[1].ts_ns == 1700000001ull * 1000000000ull + 5ull);
	assert_true(g.p[1].status & TP_STATUS_VLAN_VALID);
	assert_int_equal(g.p[1].vlan_tci, 42);
}

static void test_zero_packets(void **state)
{
	(void)state;
	block_header(0, 0, 0); /* offsets are not read when there is nothing */
	struct got g;
	uint32_t n = 99;
	const char *why;
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_OK);
	assert_int_equal(n, 0);
	assert_int_equal(g.n, 0);
}

static void test_bad_block_headers(void **state)
{
	(void)state;
	struct got g;
	uint32_t n;
	const char *why;
	/* block length past the mapping */
	block_header(1, (uint32_t)FIRST, BLOCK + 1);
	packet(FIRST, 10, 10, 0, 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_BLOCK);
	assert_int_equal(g.n, 0);
	assert_string_equal(why, "block length outside the block");
	/* block length shorter than the block's own header */
	block_header(1, (uint32_t)FIRST, 8);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_BLOCK);
	/* first packet inside the block header */
	block_header(1, 4, BLOCK);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_BLOCK);
	assert_string_equal(why, "first packet offset outside the block");
	/* first packet past the block length */
	block_header(1, 2048, 1024);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_BLOCK);
	assert_int_equal(g.n, 0);
	/* a mapping smaller than a block header */
	block_header(1, (uint32_t)FIRST, BLOCK);
	assert_int_equal(walk(&g, sizeof(struct tpacket_block_desc) - 1, &n, &why), CAP_TPV3_BAD_BLOCK);
	assert_string_equal(why, "block smaller than its header");
}

static void test_truncated_packets(void **state)
{
	(void)state;
	struct got g;
	uint32_t n;
	const char *why;
	/* the packet's data runs past the block length */
	block_header(1, (uint32_t)FIRST, (uint32_t)(FIRST + HDR_ALIGNED + 50));
	packet(FIRST, 51, 51, 0, 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_PACKET);
	assert_int_equal(n, 0);
	assert_string_equal(why, "packet data runs past the block");
	/* exactly at the end is fine */
	block_header(1, (uint32_t)FIRST, (uint32_t)(FIRST + HDR_ALIGNED + 50));
	packet(FIRST, 50, 50, 0, 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_OK);
	assert_int_equal(n, 1);
	/* the header claims two packets, the second header does not fit in what is left */
	size_t len = FIRST + HDR_ALIGNED + 16 + 8;
	block_header(2, (uint32_t)FIRST, (uint32_t)len);
	packet(FIRST, 16, 16, (uint32_t)(HDR_ALIGNED + 16), 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_PACKET);
	assert_int_equal(n, 1);
	assert_string_equal(why, "packet header runs past the block");
	/* the first header itself does not fit */
	block_header(1, (uint32_t)(BLOCK - 8), BLOCK);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_PACKET);
	assert_int_equal(n, 0);
}

static void test_bad_next_offsets(void **state)
{
	(void)state;
	struct got g;
	uint32_t n;
	const char *why;
	/* next offset 0 with more packets claimed: a loop on the same header */
	block_header(3, (uint32_t)FIRST, BLOCK);
	packet(FIRST, 16, 16, 0, 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_PACKET);
	assert_int_equal(n, 1);
	assert_string_equal(why, "next packet offset outside the block");
	/* a step past the block length */
	block_header(2, (uint32_t)FIRST, 1024);
	packet(FIRST, 16, 16, 2000, 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_PACKET);
	assert_int_equal(n, 1);
	/* a huge num_pkts stops at the first bad step, not after 2^32 callbacks */
	block_header(0xffffffffu, (uint32_t)FIRST, BLOCK);
	for (size_t off = FIRST; off + 256 <= BLOCK; off += 256)
		packet(off, 16, 16, 256, 1, 0, 0, 0, 0);
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_BAD_PACKET);
	assert_true(n <= BLOCK / 256);
}

/* tp_len below the captured length is impossible: the frame is at least what was captured */
static void test_len_at_least_caplen(void **state)
{
	(void)state;
	block_header(1, (uint32_t)FIRST, BLOCK);
	packet(FIRST, 64, 10, 0, 1, 0, 0, 0, 0);
	struct got g;
	uint32_t n;
	const char *why;
	assert_int_equal(walk(&g, BLOCK, &n, &why), CAP_TPV3_OK);
	assert_int_equal(g.p[0].len, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_packets),       cmocka_unit_test(test_zero_packets),
		cmocka_unit_test(test_bad_block_headers), cmocka_unit_test(test_truncated_packets),
		cmocka_unit_test(test_bad_next_offsets),  cmocka_unit_test(test_len_at_least_caplen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
