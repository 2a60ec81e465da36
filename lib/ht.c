/* Open-addressing hash table (ht.h). */
#include "ht.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define USED 0x80000000u
#define HUGE_MIN (2u << 20) /* one transparent huge page */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Zeroed memory. Big arrays are mapped 2 MiB-aligned with MADV_HUGEPAGE; `populate` faults them
 * in with one call (MADV_POPULATE_WRITE, Linux 5.14), for the index, which hashing spreads over
 * every page. A fault per 4 KiB page was a fifth of a 100 000-route burst. Where huge pages or
 * populate are refused the mapping still works, faulting lazily. A lazy table (ht_type.lazy) gets
 * calloc, whose large blocks are fresh mappings resident only where touched. */
static void *big_alloc(size_t bytes, bool populate, bool lazy)
{
	if (bytes < HUGE_MIN || lazy)
		return calloc(1, bytes);
	size_t len = (bytes + HUGE_MIN - 1) & ~(size_t)(HUGE_MIN - 1);
	unsigned char *m = mmap(NULL, len + HUGE_MIN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	unsigned char *a = (unsigned char *)(((uintptr_t)m + HUGE_MIN - 1) & ~(uintptr_t)(HUGE_MIN - 1));
	if (a > m)
		munmap(m, (size_t)(a - m));
	if (a + len < m + len + HUGE_MIN)
		munmap(a + len, (size_t)(m + len + HUGE_MIN - (a + len)));
	(void)madvise(a, len, MADV_HUGEPAGE);
	if (populate)
		(void)madvise(a, len, MADV_POPULATE_WRITE);
	return a;
}

static void big_free(void *p, size_t bytes, bool lazy)
{
	if (!p)
		return;
	if (bytes < HUGE_MIN || lazy)
		free(p);
	else
		munmap(p, (bytes + HUGE_MIN - 1) & ~(size_t)(HUGE_MIN - 1));
}

/* A block of new_bytes holding the old block's first old_bytes, which it replaces (freed on
 * success, untouched on failure). Between two mapped blocks the old pages are moved to the start
 * of the new mapping (mremap with MREMAP_FIXED): no byte is copied and no page is faulted or
 * zeroed again, so a table grown by doubling to N records pays for N records' pages once, not
 * for twice that plus a copy of everything before. Kept 2 MiB-aligned, so huge pages move as
 * huge pages. */
static void *big_grow(void *old, size_t old_bytes, size_t new_bytes, bool lazy)
{
	if (!old)
		return big_alloc(new_bytes, false, lazy);
	if (lazy) {
		unsigned char *r = realloc(old, new_bytes); /* glibc grows large blocks by mremap */
		if (r)
			memset(r + old_bytes, 0, new_bytes - old_bytes);
		return r;
	}
	unsigned char *n = big_alloc(new_bytes, false, false);
	if (!n)
		return NULL;
	if (old_bytes < HUGE_MIN || new_bytes < HUGE_MIN) {
		memcpy(n, old, old_bytes);
		big_free(old, old_bytes, false);
		return n;
	}
	size_t old_len = (old_bytes + HUGE_MIN - 1) & ~(size_t)(HUGE_MIN - 1);
	if (mremap(old, old_len, old_len, MREMAP_MAYMOVE | MREMAP_FIXED, n) == MAP_FAILED) {
		memcpy(n, old, old_bytes); /* a kernel that refuses: the copy, as any allocator does */
		big_free(old, old_bytes, false);
	}
	return n;
}

uint32_t ht_hash_bytes(const void *key, size_t n)
{
	const unsigned char *b = key;
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001B3ull;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static uint32_t tag_of(const struct ht *t, const void *key)
{
	uint32_t h = t->type->hash ? t->type->hash(key) : ht_hash_bytes(key, t->type->key_size);
	return h | USED;
}

/* Keys of 8, 16 and 17 bytes (an address, a pair of ids, a prefix) compare as words, not through
 * a memcmp call: a million-host merge compares one key per host, a burst of routes one or two per
 * route and table. */
static inline bool key_eq(const struct ht *t, const void *key, const unsigned char *rec)
{
	const void *rk = rec + t->type->key_off;
	if (t->type->eq)
		return t->type->eq(key, rk);
	uint64_t a[2], b[2];
	switch (t->type->key_size) {
	case 8:
		memcpy(a, key, 8);
		memcpy(b, rk, 8);
		return a[0] == b[0];
	case 16:
		memcpy(a, key, 16);
		memcpy(b, rk, 16);
		return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
	case 17: /* an ip_prefix: address and length */
		memcpy(a, key, 16);
		memcpy(b, rk, 16);
		return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0 && ((const uint8_t *)key)[16] == ((const uint8_t *)rk)[16];
	default:
		return !memcmp(key, rk, t->type->key_size);
	}
}

static uint32_t slot_tag(uint64_t s)
{
	return (uint32_t)s;
}

static size_t slot_rec(uint64_t s)
{
	return (size_t)(s >> 32);
}

/* Slots for n records under the 3/4 load limit, and how many records that many slots allow. */
static size_t cap_for(size_t n)
{
	size_t cap = 16;
	while (cap - cap / 4 < n)
		cap *= 2;
	return cap;
}

static size_t limit(size_t cap)
{
	return cap - cap / 4;
}

int ht_init(struct ht *t, const struct ht_type *type, size_t presize)
{
	memset(t, 0, sizeof *t);
	t->type = type;
	return presize ? ht_reserve(t, presize) : 0;
}

void ht_free(struct ht *t)
{
	bool lazy = t->type && t->type->lazy; /* a zeroed, never initialised table frees nothing */
	big_free(t->slots, t->slots_bytes, lazy);
	big_free(t->recs, t->recs_bytes, lazy);
	big_free(t->back, t->back_bytes, lazy);
	t->slots = NULL;
	t->recs = NULL;
	t->back = NULL;
	t->cap = t->count = t->slots_bytes = t->recs_bytes = t->back_bytes = 0;
}

int ht_reserve(struct ht *t, size_t n)
{
	if (n < t->count)
		n = t->count;
	size_t cap = cap_for(n);
	if (cap <= t->cap)
		return 0;
	size_t sb = cap * sizeof *t->slots, rb = limit(cap) * t->type->rec_size, bb = limit(cap) * sizeof *t->back;
	uint64_t *slots = big_alloc(sb, true, t->type->lazy);
	uint32_t *back = big_alloc(bb, false, t->type->lazy); /* rewritten whole below: fresh */
	unsigned char *recs = slots && back ? big_grow(t->recs, t->recs_bytes, rb, t->type->lazy) : NULL;
	if (!recs) {
		big_free(slots, sb, t->type->lazy);
		big_free(back, bb, t->type->lazy);
		return -1;
	}
	size_t mask = cap - 1;
	for (size_t i = 0; i < t->cap; i++) {
		uint64_t s = t->slots[i];
		if (!s)
			continue;
		size_t j = slot_tag(s) & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = s;
		back[slot_rec(s)] = (uint32_t)j;
	}
	big_free(t->slots, t->slots_bytes, t->type->lazy);
	big_free(t->back, t->back_bytes, t->type->lazy);
	t->slots = slots;
	t->recs = recs;
	t->back = back;
	t->cap = cap;
	t->slots_bytes = sb;
	t->recs_bytes = rb;
	t->back_bytes = bb;
	return 0;
}

/* The slot holding key (true) or the empty slot ending its probe run (false). */
static inline bool probe(const struct ht *t, const void *key, uint32_t g, size_t *slot)
{
	size_t mask = t->cap - 1, i = g & mask;
	for (;; i = (i + 1) & mask) {
		uint64_t x = t->slots[i];
		if (!x) {
			*slot = i;
			return false;
		}
		if (slot_tag(x) == g && key_eq(t, key, ht_at(t, slot_rec(x)))) {
			*slot = i;
			return true;
		}
	}
}

void *ht_find_hashed(const struct ht *t, const void *key, uint32_t hash)
{
	size_t i;
	if (!t->count || !probe(t, key, hash | USED, &i))
		return NULL;
	return ht_at(t, slot_rec(t->slots[i]));
}

void *ht_find(const struct ht *t, const void *key)
{
	return t->count ? ht_find_hashed(t, key, tag_of(t, key)) : NULL;
}

void *ht_insert(struct ht *t, const void *key, bool *fresh)
{
	return ht_insert_hashed(t, key, tag_of(t, key), fresh);
}

void *ht_insert_hashed(struct ht *t, const void *key, uint32_t hash, bool *fresh)
{
	uint32_t g = hash | USED;
	size_t i = 0; /* set by a probe: on an empty table (cap 0) the reserve below runs first */
	if (t->cap && probe(t, key, g, &i)) {
		if (fresh)
			*fresh = false;
		return ht_at(t, slot_rec(t->slots[i]));
	}
	if (t->count + 1 > limit(t->cap)) {
		if (ht_reserve(t, t->count + 1 > t->cap ? t->count + 1 : t->cap) != 0)
			return NULL;
		(void)probe(t, key, g, &i);
	}
	unsigned char *r = ht_at(t, t->count);
	memset(r, 0, t->type->rec_size);
	memcpy(r + t->type->key_off, key, t->type->key_size);
	t->slots[i] = (uint64_t)t->count << 32 | g;
	t->back[t->count] = (uint32_t)i;
	t->count++;
	if (fresh)
		*fresh = true;
	return r;
}

/* Empties slot `hole` by backward shift: each later slot of the run whose home is not in
 * (hole, j] moves into the hole, so every record stays reachable from its home without
 * tombstones. Then the last record moves into the freed position and its slot follows it. */
static void remove_slot(struct ht *t, size_t hole)
{
	size_t mask = t->cap - 1, k = slot_rec(t->slots[hole]);
	for (size_t j = (hole + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = slot_tag(t->slots[j]) & mask;
		if (((j - home) & mask) < ((j - hole) & mask))
			continue;
		t->slots[hole] = t->slots[j];
		t->back[slot_rec(t->slots[j])] = (uint32_t)hole;
		hole = j;
	}
	t->slots[hole] = 0;
	size_t last = --t->count;
	if (k != last) {
		memcpy(ht_at(t, k), ht_at(t, last), t->type->rec_size);
		size_t i = t->back[last];
		t->slots[i] = (uint64_t)k << 32 | slot_tag(t->slots[i]);
		t->back[k] = (uint32_t)i;
	}
	/* The next removal moves the record that is now last, and rewrites its slot: a random one,
	 * a cache miss each in a burst of withdrawals unless it is asked for now, a removal ahead. */
	if (last) {
		__builtin_prefetch(ht_at(t, last - 1));
		__builtin_prefetch(&t->slots[t->back[last - 1]], 1);
	}
}

bool ht_remove(struct ht *t, const void *key)
{
	size_t i;
	if (!t->count || !probe(t, key, tag_of(t, key), &i))
		return false;
	remove_slot(t, i);
	return true;
}

void ht_remove_rec(struct ht *t, void *rec)
{
	remove_slot(t, t->back[ht_index(t, rec)]);
}

void *ht_next(const struct ht *t, const void *rec)
{
	size_t i = rec ? ht_index(t, rec) + 1 : 0;
	return i < t->count ? ht_at(t, i) : NULL;
}

void ht_clear(struct ht *t)
{
	/* A table reserved far beyond what it holds (a host table for max_hosts cleared every tick)
	 * empties its used slots one by one through back[]; a full one is one memset. */
	if (t->count < t->cap / 8)
		for (size_t i = 0; i < t->count; i++)
			t->slots[t->back[i]] = 0;
	else if (t->slots)
		memset(t->slots, 0, t->cap * sizeof *t->slots);
	t->count = 0;
}
