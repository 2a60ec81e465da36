/* Prefix sums (carpet bombing): a bounded table of the (sub-)prefixes whose hosts had traffic,
 * keyed by hostgroup and prefix. Entries are created by the tick as traffic appears and removed
 * by it when quiet, so memory follows the prefixes in use, never the address space a group
 * covers (a /8 split into /24s is 65536 possible sums, a /32 of IPv6 into /64s 2^32). */
#include <stddef.h>
#include <string.h>

#include "det_int.h"

static uint32_t key_hash(const void *key)
{
	const struct det_psum_key *k = key;
	return ip_hash(&k->p.addr) ^ ((uint32_t)k->p.len * 0x9E3779B1u) ^ ((uint32_t)k->group * 0x85EBCA77u);
}

/* by field: the key struct has padding after the prefix */
static bool key_eq(const void *key, const void *rec_key)
{
	const struct det_psum_key *a = key, *b = rec_key;
	return a->group == b->group && ip_prefix_equal(&a->p, &b->p);
}

static const struct ht_type psum_type = {.rec_size = sizeof(struct det_psum),
					 .key_off = offsetof(struct det_psum, key),
					 .key_size = sizeof(struct det_psum_key),
					 .hash = key_hash,
					 .eq = key_eq,
					 .lazy = true};

int det_psums_init(struct det_psums *t, size_t max)
{
	memset(t, 0, sizeof *t);
	t->max = max ? max : 1;
	/* reserved for max: the table never rehashes, and (lazy) is resident only as sums appear */
	if (ht_init(&t->t, &psum_type, t->max) != 0) {
		det_psums_fini(t);
		return -1;
	}
	return 0;
}

void det_psums_fini(struct det_psums *t)
{
	ht_free(&t->t);
	memset(t, 0, sizeof *t);
}

struct det_psum *det_psums_get(struct det_psums *t, int group, const ip_prefix *p, bool create)
{
	struct det_psum_key k;
	memset(&k, 0, sizeof k);
	k.p = *p;
	k.group = group;
	if (!create)
		return ht_find(&t->t, &k);
	if (ht_count(&t->t) == t->max) {
		struct det_psum *x = ht_find(&t->t, &k);
		if (!x)
			t->dropped++;
		return x;
	}
	return ht_insert(&t->t, &k, NULL);
}

void det_psums_remove(struct det_psums *t, size_t i)
{
	ht_remove_rec(&t->t, ht_at(&t->t, i));
}
