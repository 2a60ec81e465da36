/* lib/ht: insert, find, remove, growth, backward-shift deletion inside and across the end of a
 * probe run, presizing, iteration, and a long random run against a plain array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/ht.h"
#include "lib/ip.h"

struct rec {
	uint64_t key;
	uint64_t value;
};

static const struct ht_type bytes_type = {
	.rec_size = sizeof(struct rec), .key_off = offsetof(struct rec, key), .key_size = sizeof(uint64_t)};

/* every key in a handful of homes: long runs of colliding records */
static uint32_t few_homes(const void *key)
{
	uint64_t k;
	memcpy(&k, key, 8);
	return (uint32_t)(k % 3);
}
static const struct ht_type colliding_type = {.rec_size = sizeof(struct rec),
					      .key_off = offsetof(struct rec, key),
					      .key_size = sizeof(uint64_t),
					      .hash = few_homes};

/* every key's home is the last slot of a 16-slot table: runs wrap to slot 0 */
static uint32_t last_slot(const void *key)
{
	(void)key;
	return 15;
}
static const struct ht_type wrapping_type = {.rec_size = sizeof(struct rec),
					     .key_off = offsetof(struct rec, key),
					     .key_size = sizeof(uint64_t),
					     .hash = last_slot};

static struct rec *put(struct ht *t, uint64_t k, uint64_t v)
{
	bool fresh = false;
	struct rec *r = ht_insert(t, &k, &fresh);
	assert_non_null(r);
	assert_true(fresh);
	assert_int_equal(r->key, k);
	assert_int_equal(r->value, 0); /* a new record is zeroed */
	r->value = v;
	return r;
}

static uint64_t value_of(const struct ht *t, uint64_t k)
{
	const struct rec *r = ht_find(t, &k);
	return r ? r->value : UINT64_MAX;
}

/* Every record's back pointer names the slot that names it; the slots name count records. */
static void check_index(const struct ht *t)
{
	size_t used = 0;
	for (size_t i = 0; i < t->cap; i++)
		used += t->slots[i] != 0;
	assert_int_equal(used, ht_count(t));
	for (size_t i = 0; i < ht_count(t); i++)
		assert_int_equal(t->slots[t->back[i]] >> 32, i);
}

static void test_insert_find_remove(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &bytes_type, 0), 0);
	uint64_t k = 7;
	assert_null(ht_find(&t, &k)); /* empty, no slots yet */
	assert_false(ht_remove(&t, &k));
	put(&t, 7, 70);
	put(&t, 8, 80);
	assert_int_equal(ht_count(&t), 2);
	assert_int_equal(value_of(&t, 7), 70);
	assert_int_equal(value_of(&t, 8), 80);
	assert_int_equal(value_of(&t, 9), UINT64_MAX);
	bool fresh = true;
	struct rec *r = ht_insert(&t, &k, &fresh); /* present: the same record, not reset */
	assert_false(fresh);
	assert_int_equal(r->value, 70);
	assert_true(ht_remove(&t, &k));
	assert_false(ht_remove(&t, &k));
	assert_int_equal(value_of(&t, 7), UINT64_MAX);
	assert_int_equal(value_of(&t, 8), 80);
	assert_int_equal(ht_count(&t), 1);
	ht_clear(&t);
	assert_int_equal(ht_count(&t), 0);
	k = 8;
	assert_null(ht_find(&t, &k));
	ht_free(&t);
}

/* Clear empties every slot it used, whether it walks the records (a table reserved far beyond
 * what it holds, colliding keys in one run) or clears the slots at once (a full one): nothing
 * found after it, and inserts after it see an empty table. */
static void test_clear_sparse_and_full(void **state)
{
	(void)state;
	const struct ht_type *types[] = {&bytes_type, &colliding_type};
	for (size_t ty = 0; ty < 2; ty++)
		for (size_t n = 5; n <= 3000; n = n == 5 ? 3000 : n + 1) {
			struct ht t;
			assert_int_equal(ht_init(&t, types[ty], 4096), 0); /* 8192 slots: 5 sparse, 3000 not */
			for (uint64_t k = 1; k <= n; k++)
				put(&t, k, k * 10);
			ht_clear(&t);
			assert_int_equal(ht_count(&t), 0);
			for (size_t i = 0; i < t.cap; i++)
				assert_int_equal(t.slots[i], 0);
			for (uint64_t k = 1; k <= n; k++)
				assert_int_equal(value_of(&t, k), UINT64_MAX);
			put(&t, 2, 99);
			assert_int_equal(value_of(&t, 2), 99);
			check_index(&t);
			ht_free(&t);
		}
}

/* Removing from the middle of a run of collisions must keep every later record reachable. */
static void test_backward_shift_in_run(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &colliding_type, 64), 0);
	size_t cap = t.cap;
	for (uint64_t k = 0; k < 30; k++)
		put(&t, k, k * 10);
	assert_int_equal(t.cap, cap); /* presized: no growth */
	for (uint64_t k = 0; k < 30; k += 4) {
		assert_true(ht_remove(&t, &k));
		for (uint64_t j = 0; j < 30; j++) {
			bool gone = j % 4 == 0 && j <= k;
			assert_int_equal(value_of(&t, j), gone ? UINT64_MAX : j * 10);
		}
	}
	/* no tombstones: the slots left empty are exactly cap - count */
	size_t empty = 0;
	for (size_t i = 0; i < t.cap; i++)
		empty += t.slots[i] == 0;
	assert_int_equal(empty, t.cap - ht_count(&t));
	ht_free(&t);
}

/* A run that wraps past the last slot: removal shifts records back across the end. */
static void test_backward_shift_wraps(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &wrapping_type, 5), 0);
	assert_int_equal(t.cap, 16);
	for (uint64_t k = 1; k <= 6; k++)
		put(&t, k, k);
	assert_int_not_equal(t.slots[15], 0);
	assert_int_not_equal(t.slots[0], 0); /* the run continued at slot 0 */
	uint64_t k = 1;                     /* in slot 15: everything after shifts back over the end */
	assert_true(ht_remove(&t, &k));
	for (uint64_t j = 2; j <= 6; j++)
		assert_int_equal(value_of(&t, j), j);
	assert_int_equal(t.slots[4], 0); /* the run got one shorter: slots 15, 0..3 */
	assert_int_not_equal(t.slots[3], 0);
	struct rec *r = ht_find(&t, &(uint64_t){4});
	assert_non_null(r);
	ht_remove_rec(&t, r);
	for (uint64_t j = 2; j <= 6; j++)
		assert_int_equal(value_of(&t, j), j == 4 ? UINT64_MAX : j);
	ht_free(&t);
}

static void test_grow_keeps_everything(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &bytes_type, 0), 0);
	for (uint64_t k = 0; k < 100000; k++)
		put(&t, k * 2654435761u, k);
	assert_int_equal(ht_count(&t), 100000);
	assert_true(t.cap >= 100000 * 4 / 3);
	for (uint64_t k = 0; k < 100000; k++)
		assert_int_equal(value_of(&t, k * 2654435761u), k);
	size_t seen = 0;
	uint64_t sum = 0;
	for (struct rec *r = ht_next(&t, NULL); r; r = ht_next(&t, r))
		seen++, sum += r->value;
	assert_int_equal(seen, 100000);
	assert_int_equal(sum, (uint64_t)99999 * 100000 / 2);
	ht_free(&t);
}

static void test_presize_does_not_move(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &bytes_type, 100000), 0);
	unsigned char *recs = t.recs;
	size_t cap = t.cap;
	for (uint64_t k = 0; k < 100000; k++)
		put(&t, k, k);
	assert_ptr_equal(t.recs, recs);
	assert_int_equal(t.cap, cap);
	put(&t, 100000, 1); /* the next grows */
	put(&t, 100001, 1);
	for (uint64_t k = 100002; t.cap == cap; k++)
		put(&t, k, 1);
	assert_int_equal(t.cap, cap * 2);
	assert_int_equal(value_of(&t, 5), 5);
	assert_int_equal(ht_reserve(&t, 10), 0); /* never shrinks */
	assert_int_equal(t.cap, cap * 2);
	ht_free(&t);
}

/* A caller's own hash must find what the table's hash put in, and the other way round; a lazy
 * table (calloc'd, reserved up front like the engine's host table) behaves the same. */
static void test_hashed_and_lazy(void **state)
{
	(void)state;
	static const struct ht_type lazy_type = {.rec_size = sizeof(struct rec),
						 .key_off = offsetof(struct rec, key),
						 .key_size = sizeof(uint64_t),
						 .lazy = true};
	const struct ht_type *types[] = {&bytes_type, &lazy_type};
	for (size_t ti = 0; ti < 2; ti++) {
		struct ht t;
		assert_int_equal(ht_init(&t, types[ti], 300000), 0); /* index over 2 MiB */
		unsigned char *recs = t.recs;
		for (uint64_t k = 0; k < 300000; k++) {
			uint32_t h = ht_hash_bytes(&k, sizeof k);
			ht_prefetch_slot(&t, h);
			ht_prefetch_rec(&t, h);
			bool fresh = false;
			struct rec *r = k % 2 ? ht_insert_hashed(&t, &k, h, &fresh) : ht_insert(&t, &k, &fresh);
			assert_non_null(r);
			assert_true(fresh);
			r->value = k + 1;
		}
		assert_ptr_equal(t.recs, recs); /* reserved: no rehash */
		for (uint64_t k = 0; k < 300000; k++) {
			uint32_t h = ht_hash_bytes(&k, sizeof k);
			struct rec *a = ht_find_hashed(&t, &k, h), *b = ht_find(&t, &k);
			assert_non_null(a);
			assert_ptr_equal(a, b);
			assert_int_equal(a->value, k + 1);
			assert_ptr_equal((struct rec *)ht_recs(&t) + ht_index(&t, a), a);
		}
		uint64_t k = 300000;
		assert_null(ht_find_hashed(&t, &k, ht_hash_bytes(&k, sizeof k)));
		k = 7;
		bool fresh = true;
		assert_ptr_equal(ht_insert_hashed(&t, &k, ht_hash_bytes(&k, sizeof k), &fresh), ht_find(&t, &k));
		assert_false(fresh);
		ht_free(&t);
	}
}

/* Removing while walking the dense records from the end: every odd key goes, the rest stay. */
static void test_remove_while_iterating(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &colliding_type, 0), 0);
	for (uint64_t k = 0; k < 1000; k++)
		put(&t, k, k + 1);
	for (size_t i = ht_count(&t); i-- > 0;) {
		struct rec *r = ht_at(&t, i);
		assert_int_equal(ht_index(&t, r), i);
		if (r->key % 2)
			ht_remove_rec(&t, r);
	}
	assert_int_equal(ht_count(&t), 500);
	check_index(&t);
	for (uint64_t k = 0; k < 1000; k++)
		assert_int_equal(value_of(&t, k), k % 2 ? UINT64_MAX : k + 1);
	ht_free(&t);
}

/* Prefix keys through the caller's hash and equality (the routes and RIB-out tables). */
struct pfx_rec {
	ip_prefix p;
	int n;
};
static uint32_t pfx_hash(const void *k)
{
	const ip_prefix *p = k;
	return ip_hash(&p->addr) ^ p->len * 0x9E3779B1u;
}
static bool pfx_eq(const void *a, const void *b)
{
	return ip_prefix_equal(a, b);
}
static const struct ht_type pfx_type = {.rec_size = sizeof(struct pfx_rec),
					.key_off = offsetof(struct pfx_rec, p),
					.key_size = sizeof(ip_prefix),
					.hash = pfx_hash,
					.eq = pfx_eq};

static void test_prefix_keys(void **state)
{
	(void)state;
	struct ht t;
	assert_int_equal(ht_init(&t, &pfx_type, 0), 0);
	ip_prefix a, b;
	assert_true(ip_prefix_parse("192.0.2.0/24", &a));
	assert_true(ip_prefix_parse("192.0.2.0/25", &b));
	bool fresh;
	((struct pfx_rec *)ht_insert(&t, &a, &fresh))->n = 24;
	((struct pfx_rec *)ht_insert(&t, &b, &fresh))->n = 25;
	assert_int_equal(((struct pfx_rec *)ht_find(&t, &a))->n, 24);
	assert_int_equal(((struct pfx_rec *)ht_find(&t, &b))->n, 25);
	assert_true(ip_prefix_parse("2001:db8::/32", &a));
	assert_null(ht_find(&t, &a));
	ht_free(&t);
}

/* Random inserts and removes against a plain array of what must be there. */
static void test_random_against_reference(void **state)
{
	(void)state;
	enum { KEYS = 5000 };
	static uint64_t want[KEYS]; /* UINT64_MAX: absent */
	for (size_t i = 0; i < KEYS; i++)
		want[i] = UINT64_MAX;
	struct ht t, c;
	assert_int_equal(ht_init(&t, &bytes_type, 0), 0);
	assert_int_equal(ht_init(&c, &colliding_type, 0), 0);
	uint64_t x = 88172645463325252ull;
	size_t present = 0;
	for (int step = 0; step < 200000; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t k = x % KEYS;
		struct ht *tabs[2] = {&t, &c};
		if (x >> 60 < 9) { /* insert or update */
			for (int j = 0; j < 2; j++) {
				if (j == 1 && k >= 300)
					continue; /* the colliding table stays small: its runs are the point */
				bool fresh;
				struct rec *r = ht_insert(tabs[j], &k, &fresh);
				assert_non_null(r);
				assert_int_equal(fresh, want[k] == UINT64_MAX);
				r->value = step;
			}
			if (want[k] == UINT64_MAX)
				present++;
			want[k] = (uint64_t)step;
		} else {
			assert_int_equal(ht_remove(&t, &k), want[k] != UINT64_MAX);
			if (k < 300)
				assert_int_equal(ht_remove(&c, &k), want[k] != UINT64_MAX);
			if (want[k] != UINT64_MAX)
				present--;
			want[k] = UINT64_MAX;
		}
		if (step % 20000 == 0) {
			check_index(&t);
			check_index(&c);
		}
		if (step % 20000 == 0)
			for (uint64_t j = 0; j < KEYS; j++) {
				assert_int_equal(value_of(&t, j), want[j]);
				if (j < 300)
					assert_int_equal(value_of(&c, j), want[j]);
			}
	}
	assert_int_equal(ht_count(&t), present);
	for (uint64_t j = 0; j < KEYS; j++)
		assert_int_equal(value_of(&t, j), want[j]);
	ht_free(&t);
	ht_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_find_remove),   cmocka_unit_test(test_backward_shift_in_run),
		cmocka_unit_test(test_clear_sparse_and_full),
		cmocka_unit_test(test_backward_shift_wraps), cmocka_unit_test(test_grow_keeps_everything),
		cmocka_unit_test(test_presize_does_not_move), cmocka_unit_test(test_prefix_keys),
		cmocka_unit_test(test_remove_while_iterating), cmocka_unit_test(test_hashed_and_lazy),
		cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
