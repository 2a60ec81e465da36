/* Bounded readers and writers for wire formats.
 *
 * Every parser of outside bytes reads through an rbuf: a read past the end does not touch memory,
 * returns zero and sets `err`, so a parser can read a whole header and check `err` once. Every
 * encoder writes through a wbuf the same way: an overflow sets `err` and writes nothing further.
 * Integers are big-endian (network order) unless the name says otherwise. */
#ifndef RAMPART_LIB_BUF_H
#define RAMPART_LIB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

static inline struct rbuf rbuf_init(const void *p, size_t len)
{
	return (struct rbuf){.p = p, .len = len};
}

static inline size_t rbuf_left(const struct rbuf *r)
{
	return r->err ? 0 : r->len - r->off;
}

static inline bool rbuf_need(struct rbuf *r, size_t n)
{
	if (r->err || r->len - r->off < n) {
		r->err = true;
		return false;
	}
	return true;
}

static inline uint8_t rbuf_u8(struct rbuf *r)
{
	if (!rbuf_need(r, 1))
		return 0;
	return r->p[r->off++];
}

static inline uint16_t rbuf_u16(struct rbuf *r)
{
	if (!rbuf_need(r, 2))
		return 0;
	const uint8_t *p = r->p + r->off;
	r->off += 2;
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rbuf_u32(struct rbuf *r)
{
	if (!rbuf_need(r, 4))
		return 0;
	const uint8_t *p = r->p + r->off;
	r->off += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rbuf_u64(struct rbuf *r)
{
	uint64_t hi = rbuf_u32(r);
	return hi << 32 | rbuf_u32(r);
}

/* Unsigned big-endian integer of 1..8 bytes (NetFlow v9 / IPFIX fields come in any width). */
static inline uint64_t rbuf_uint(struct rbuf *r, size_t n)
{
	if (n == 0 || n > 8 || !rbuf_need(r, n)) {
		r->err = true;
		return 0;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[r->off + i];
	r->off += n;
	return v;
}

static inline bool rbuf_copy(struct rbuf *r, void *dst, size_t n)
{
	if (!rbuf_need(r, n))
		return false;
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return true;
}

/* Pointer to the next n bytes, consumed; NULL (and err) if there are fewer. */
static inline const uint8_t *rbuf_take(struct rbuf *r, size_t n)
{
	if (!rbuf_need(r, n))
		return NULL;
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static inline bool rbuf_skip(struct rbuf *r, size_t n)
{
	return rbuf_take(r, n) != NULL;
}

/* A reader over the next n bytes, consumed from r: nested lengths (attributes, records) can
 * never read past their own end, nor past their parent's. */
static inline struct rbuf rbuf_sub(struct rbuf *r, size_t n)
{
	const uint8_t *p = rbuf_take(r, n);
	if (!p)
		return (struct rbuf){.err = true};
	return rbuf_init(p, n);
}

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool err;
};

static inline struct wbuf wbuf_init(void *p, size_t cap)
{
	return (struct wbuf){.p = p, .cap = cap};
}

static inline bool wbuf_room(struct wbuf *w, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = true;
		return false;
	}
	return true;
}

static inline void wbuf_u8(struct wbuf *w, uint8_t v)
{
	if (wbuf_room(w, 1))
		w->p[w->len++] = v;
}

static inline void wbuf_u16(struct wbuf *w, uint16_t v)
{
	if (!wbuf_room(w, 2))
		return;
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
}

static inline void wbuf_u32(struct wbuf *w, uint32_t v)
{
	if (!wbuf_room(w, 4))
		return;
	for (int s = 24; s >= 0; s -= 8)
		w->p[w->len++] = (uint8_t)(v >> s);
}

static inline void wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)(v >> 32));
	wbuf_u32(w, (uint32_t)v);
}

static inline void wbuf_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (wbuf_room(w, n)) {
		memcpy(w->p + w->len, src, n);
		w->len += n;
	}
}

/* Reserve n bytes to fill in later (a length field); returns its offset, or SIZE_MAX. */
static inline size_t wbuf_reserve(struct wbuf *w, size_t n)
{
	if (!wbuf_room(w, n))
		return SIZE_MAX;
	size_t at = w->len;
	memset(w->p + at, 0, n);
	w->len += n;
	return at;
}

static inline void wbuf_put_u16_at(struct wbuf *w, size_t at, uint16_t v)
{
	if (w->err || at == SIZE_MAX || at + 2 > w->len)
		return;
	w->p[at] = (uint8_t)(v >> 8);
	w->p[at + 1] = (uint8_t)v;
}

/* Little-endian writers, for ClickHouse RowBinary. */
static inline void wbuf_le16(struct wbuf *w, uint16_t v)
{
	if (!wbuf_room(w, 2))
		return;
	w->p[w->len++] = (uint8_t)v;
	w->p[w->len++] = (uint8_t)(v >> 8);
}

static inline void wbuf_le32(struct wbuf *w, uint32_t v)
{
	if (!wbuf_room(w, 4))
		return;
	for (int s = 0; s < 32; s += 8)
		w->p[w->len++] = (uint8_t)(v >> s);
}

static inline void wbuf_le64(struct wbuf *w, uint64_t v)
{
	wbuf_le32(w, (uint32_t)v);
	wbuf_le32(w, (uint32_t)(v >> 32));
}

#endif
