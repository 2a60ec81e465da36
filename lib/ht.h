/* lib/ht: one open-addressing hash table of fixed-size records, each holding its own key.
 *
 * The records are dense (an array of `count`, in no particular order); the hash index beside them
 * is a power-of-two array of 8-byte slots (the record's 32-bit hash and its position), probed
 * linearly, grown by rehash (doubling) past 3/4 load, and cleared by backward shift (no
 * tombstones, so probe runs never rot). A probe reads 8 bytes a slot and looks at a record only
 * when the hashes match: a lookup costs about one cache miss on the records, growing never calls
 * the hash function again and moves 8-byte slots, not records, and memory touched follows the
 * records in use rather than the slots.
 *
 * Arrays of 2 MiB and more are mapped with transparent huge pages (the index faulted in at once,
 * as hashing spreads it over every page; the records as they fill): one fault per 2 MiB instead
 * of one per 4 KiB is most of what a burst of 100 000 inserts costs the kernel.
 *
 * Records move: a pointer returned by ht_find / ht_insert / ht_at is valid until the next insert
 * or remove on the table (a remove moves the last record into the hole). Not thread-safe. */
#ifndef RAMPART_LIB_HT_H
#define RAMPART_LIB_HT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How records look. The key is key_size bytes at key_off inside each record. hash NULL: the key
 * bytes are hashed; eq NULL: the key bytes are compared (then padding inside a key must be
 * zeroed by the caller). hash gets the key, eq the key looked for and a record's key. */
struct ht_type {
	size_t rec_size;
	size_t key_off;
	size_t key_size;
	uint32_t (*hash)(const void *key);
	bool (*eq)(const void *key, const void *rec_key);
	/* Arrays are calloc'd and become resident page by page as they are used, rather than
	 * mapped with huge pages and the index faulted in at once: for a table reserved up front to
	 * a bound it seldom reaches (a host table sized for max_hosts), whose memory should follow
	 * the records in use. Costs a page fault per 4 KiB first touched. */
	bool lazy;
};

struct ht {
	const struct ht_type *type;
	uint64_t *slots;     /* 0: empty; else record index << 32 | hash with the top bit set */
	unsigned char *recs; /* count records, dense */
	uint32_t *back;      /* per record, its slot: a removal never probes */
	size_t cap;          /* slots, a power of two (0 before the first insert) */
	size_t count;
	size_t slots_bytes, recs_bytes, back_bytes; /* as allocated (mapped arrays are freed by size) */
};

/* An empty table for `presize` records without growing (0: allocate on first insert). -1 when
 * out of memory. The type must outlive the table. */
int ht_init(struct ht *t, const struct ht_type *type, size_t presize);
/* Frees the arrays; also safe on a zeroed struct never initialised. */
void ht_free(struct ht *t);
/* Room for n records in all without a rehash; -1 when out of memory (the table is unchanged). */
int ht_reserve(struct ht *t, size_t n);
static inline size_t ht_count(const struct ht *t)
{
	return t->count;
}
/* The record with this key, or NULL. */
void *ht_find(const struct ht *t, const void *key);
/* The record with this key; a new one (zeroed, key copied in; *fresh true) when absent.
 * NULL when out of memory. A table reserved for n records never grows (nor moves its records)
 * while it holds at most n: a caller that bounds its count itself inserts without a rehash. */
void *ht_insert(struct ht *t, const void *key, bool *fresh);
/* ht_find and ht_insert for a caller that carries the key's hash (computed once where the key
 * was first seen): hash must be what the type's hash (or the byte hash) gives for key. */
void *ht_find_hashed(const struct ht *t, const void *key, uint32_t hash);
void *ht_insert_hashed(struct ht *t, const void *key, uint32_t hash, bool *fresh);
/* The byte hash used when the type has no hash function, for a caller that computes it ahead. */
uint32_t ht_hash_bytes(const void *key, size_t n);
/* For a batch of lookups whose hashes are known ahead: ht_prefetch_slot asks for the home slot
 * of hash; ht_prefetch_rec reads that slot and asks for the record it points at (call it some
 * lookups after the slot's prefetch, so the read hits). A million-record table is a cache miss
 * per slot and per record; issued ahead, the misses of a batch overlap instead of queueing. */
static inline void ht_prefetch_slot(const struct ht *t, uint32_t hash)
{
	if (t->cap)
		__builtin_prefetch(&t->slots[hash & (t->cap - 1)]);
}
static inline void ht_prefetch_rec(const struct ht *t, uint32_t hash)
{
	if (!t->cap)
		return;
	uint64_t s = t->slots[hash & (t->cap - 1)];
	if (s)
		__builtin_prefetch(t->recs + (size_t)(s >> 32) * t->type->rec_size);
}
/* Removes the record with this key: true if there was one. */
bool ht_remove(struct ht *t, const void *key);
/* Removes a record ht_find / ht_insert / ht_next returned (copy out what you need first). */
void ht_remove_rec(struct ht *t, void *rec);
/* Iteration over the dense records: rec NULL gives the first, NULL after the last. A remove
 * moves the last record into the hole, so to remove while iterating, walk ht_at from the end. */
void *ht_next(const struct ht *t, const void *rec);
/* The records as one array, ht_count(t) of them rec_size apart: a caller that knows the record
 * type indexes it directly, and keeps arrays of its own beside it by the same position (moving
 * entry ht_count(t) into i after a removal at i). */
static inline void *ht_recs(const struct ht *t)
{
	return t->recs;
}
/* The i-th record, i < ht_count(t); and a record's position. */
static inline void *ht_at(const struct ht *t, size_t i)
{
	return t->recs + i * t->type->rec_size;
}
static inline size_t ht_index(const struct ht *t, const void *rec)
{
	return (size_t)((const unsigned char *)rec - t->recs) / t->type->rec_size;
}
/* Removes every record (keeps the slots): O(records) while they fill under an eighth of the
 * slots, one memset of the slots otherwise. */
void ht_clear(struct ht *t);

#endif
