/* lib/ht: one open-addressing hash table of fixed-size records, each holding its own key.
 *
 * Linear probing over a power-of-two number of slots, grown by rehash (doubling) when the load
 * passes 3/4, deletion by backward shift (no tombstones, so probe runs never rot). Each slot keeps
 * the record's 32-bit hash in a separate dense array of tags: a probe reads 4 bytes per slot and
 * compares a key only when the tags match, so a lookup costs about one cache miss on the records,
 * and growing never calls the hash function again.
 *
 * Arrays of 2 MiB and more are mapped with transparent huge pages and faulted in at once: a
 * table's slots are all touched in the end (hashing spreads records over every page), and one
 * fault per 2 MiB instead of one per 4 KiB is what makes a burst of 100 000 inserts cheap.
 *
 * Records move: a pointer returned by ht_find / ht_insert is valid until the next insert or
 * remove on the table. Not thread-safe; one owner. */
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
};

struct ht {
	const struct ht_type *type;
	uint32_t *tags;  /* 0: empty slot; else the record's hash with the top bit set */
	unsigned char *recs;
	size_t cap;      /* slots, a power of two (0 before the first insert) */
	size_t count;
	size_t tags_bytes, recs_bytes; /* as allocated (mapped arrays are freed by size) */
};

/* An empty table for `presize` records without growing (0: allocate on first insert). -1 when
 * out of memory. The type must outlive the table. */
int ht_init(struct ht *t, const struct ht_type *type, size_t presize);
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
 * NULL when out of memory. */
void *ht_insert(struct ht *t, const void *key, bool *fresh);
/* Removes the record with this key: true if there was one. */
bool ht_remove(struct ht *t, const void *key);
/* Removes a record ht_find / ht_insert / ht_next returned (copy out what you need first). */
void ht_remove_rec(struct ht *t, void *rec);
/* Iteration in slot order: rec NULL gives the first record, NULL at the end. Removing while
 * iterating may skip or repeat records (backward shift moves them); collect keys first. */
void *ht_next(const struct ht *t, const void *rec);
/* Removes every record (keeps the slots). */
void ht_clear(struct ht *t);

#endif
