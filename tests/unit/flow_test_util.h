/* Shared by the flow decoder tests: a datagram builder and a record collector. Header-only,
 * included by test_sflow.c, test_netflow5.c, test_netflow9.c, test_ipfix.c. */
#ifndef RAMPART_TESTS_FLOW_TEST_UTIL_H
#define RAMPART_TESTS_FLOW_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/flows.h"
#include "lib/buf.h"

#define MAX_RECS 512

struct collect {
	size_t n;
	struct flow_record r[MAX_RECS];
};

static inline void collect_fn(void *arg, const struct flow_record *rec)
{
	struct collect *c = arg;
	if (c->n < MAX_RECS)
		c->r[c->n] = *rec;
	c->n++;
}

/* A datagram under construction. */
struct pkt {
	uint8_t b[65536];
	struct wbuf w;
};

static inline void pkt_init(struct pkt *p)
{
	p->w = wbuf_init(p->b, sizeof p->b);
}

static inline void put8(struct pkt *p, uint8_t v) { wbuf_u8(&p->w, v); }
static inline void put16(struct pkt *p, uint16_t v) { wbuf_u16(&p->w, v); }
static inline void put32(struct pkt *p, uint32_t v) { wbuf_u32(&p->w, v); }
static inline void put64(struct pkt *p, uint64_t v) { wbuf_u64(&p->w, v); }
static inline void putn(struct pkt *p, const void *d, size_t n) { wbuf_bytes(&p->w, d, n); }
/* Start of a length-prefixed region: returns where its 16-bit length goes. */
static inline size_t mark16(struct pkt *p) { return wbuf_reserve(&p->w, 2); }

/* A NetFlow v9 / IPFIX set header (the two share it: id, then the set's length in octets,
 * header included): set_begin writes the id and leaves room, set_end fills the length in. */
static inline size_t set_begin(struct pkt *p, uint16_t id)
{
	put16(p, id);
	return mark16(p);
}

static inline void set_end(struct pkt *p, size_t at)
{
	wbuf_put_u16_at(&p->w, at, (uint16_t)(p->w.len - at + 2));
}

static inline ip_addr addr(const char *s)
{
	ip_addr a;
	assert_true(ip_parse(s, &a));
	return a;
}

static inline void v4(struct pkt *p, const char *s)
{
	ip_addr a = addr(s);
	putn(p, a.b + 12, 4);
}

static inline void v6(struct pkt *p, const char *s)
{
	ip_addr a = addr(s);
	putn(p, a.b, 16);
}

static inline void assert_addr(const ip_addr *a, const char *s)
{
	char buf[IP_STRLEN];
	assert_string_equal(ip_format(a, buf), s);
}

static inline const struct cap_exporter_info *exporter_at(struct cap_flow_ctx *ctx, size_t i)
{
	static struct cap_exporter_info info[8];
	size_t n = cap_flow_exporters(ctx, info, 8);
	assert_true(i < n);
	return &info[i];
}

/* Decodes every strict prefix of a datagram (each copied to a buffer of its exact size, so
 * AddressSanitizer sees any read past it): never a crash, never more records than the whole. */
static inline void truncate_everywhere(struct cap_flow_ctx *ctx, cap_flow_decode_fn dec, const uint8_t *d,
				size_t len, size_t full_records)
{
	ip_addr ex = addr("192.0.2.250");
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, d, cut);
		struct collect *c = calloc(1, sizeof *c);
		dec(ctx, copy, cut, &ex, 1, collect_fn, c);
		assert_true(c->n <= full_records);
		free(c);
		free(copy);
	}
}

#endif
