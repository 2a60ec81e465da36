/* Single-producer single-consumer ring of fixed-size items.
 *
 * The only way threads hand data to each other in Rampart: capture workers to the storage thread,
 * capture workers to the tick, the main loop to the storage thread. The producer never blocks and
 * never allocates: a full ring makes push() return false and the producer counts the drop.
 * The producer and consumer indices live on separate cache lines; each side caches the other's
 * index so a push or pop touches shared memory only when its cached view runs out. */
#ifndef RAMPART_LIB_SPSC_H
#define RAMPART_LIB_SPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct spsc {
	_Alignas(64) _Atomic size_t head; /* next slot to write; written by the producer */
	size_t head_cache;                /* consumer's last view of head */
	_Alignas(64) _Atomic size_t tail; /* next slot to read; written by the consumer */
	size_t tail_cache;                /* producer's last view of tail */
	_Alignas(64) size_t mask;
	size_t item_size;
	uint8_t *slots;
};

/* capacity is rounded up to a power of two */
static inline struct spsc *spsc_new(size_t capacity, size_t item_size)
{
	size_t cap = 2;
	while (cap < capacity)
		cap <<= 1;
	struct spsc *q = aligned_alloc(64, sizeof *q);
	if (!q)
		return NULL;
	memset(q, 0, sizeof *q);
	q->slots = malloc(cap * item_size);
	if (!q->slots) {
		free(q);
		return NULL;
	}
	q->mask = cap - 1;
	q->item_size = item_size;
	return q;
}

static inline void spsc_free(struct spsc *q)
{
	if (q) {
		free(q->slots);
		free(q);
	}
}

static inline size_t spsc_capacity(const struct spsc *q)
{
	return q->mask + 1;
}

/* Producer: a slot to fill, or NULL when full; publish it with spsc_push_commit(). */
static inline void *spsc_push_slot(struct spsc *q)
{
	size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	if (head - q->tail_cache > q->mask) {
		q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
		if (head - q->tail_cache > q->mask)
			return NULL;
	}
	return q->slots + (head & q->mask) * q->item_size;
}

static inline void spsc_push_commit(struct spsc *q)
{
	size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

static inline bool spsc_push(struct spsc *q, const void *item)
{
	void *slot = spsc_push_slot(q);
	if (!slot)
		return false;
	memcpy(slot, item, q->item_size);
	spsc_push_commit(q);
	return true;
}

/* Consumer: the oldest item, or NULL when empty; release it with spsc_pop_commit(). */
static inline void *spsc_peek(struct spsc *q)
{
	size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (tail == q->head_cache) {
		q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
		if (tail == q->head_cache)
			return NULL;
	}
	return q->slots + (tail & q->mask) * q->item_size;
}

static inline void spsc_pop_commit(struct spsc *q)
{
	size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
}

static inline bool spsc_pop(struct spsc *q, void *item)
{
	void *slot = spsc_peek(q);
	if (!slot)
		return false;
	memcpy(item, slot, q->item_size);
	spsc_pop_commit(q);
	return true;
}

/* Either side; approximate while the other side runs. */
static inline size_t spsc_count(struct spsc *q)
{
	return atomic_load_explicit(&q->head, memory_order_acquire) -
	       atomic_load_explicit(&q->tail, memory_order_acquire);
}

#endif
