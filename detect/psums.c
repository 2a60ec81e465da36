/* Prefix sums (carpet bombing): a bounded table of the (sub-)prefixes whose hosts had traffic,
 * keyed by hostgroup and prefix. Entries are created by the tick as traffic appears and removed
 * by it when quiet, so memory follows the prefixes in use, never the address space a group
 * covers (a /8 split into /24s is 65536 possible sums, a /32 of IPv6 into /64s 2^32). */
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

static uint32_t key_hash(int group, const ip_prefix *p)
{
	return ip_hash(&p->addr) ^ ((uint32_t)p->len * 0x9E3779B1u) ^ ((uint32_t)group * 0x85EBCA77u);
}

int det_psums_init(struct det_psums *t, size_t max)
{
	memset(t, 0, sizeof *t);
	if (max == 0)
		max = 1;
	size_t size = 16;
	while (size < max * 2)
		size <<= 1;
	t->mask = size - 1;
	t->max = max;
	t->index = calloc(size, sizeof *t->index);
	t->e = calloc(max, sizeof *t->e); /* resident only as sums appear */
	if (!t->index || !t->e) {
		det_psums_fini(t);
		return -1;
	}
	return 0;
}

void det_psums_fini(struct det_psums *t)
{
	free(t->index);
	free(t->e);
	memset(t, 0, sizeof *t);
}

struct det_psum *det_psums_get(struct det_psums *t, int group, const ip_prefix *p, bool create)
{
	uint32_t h = key_hash(group, p);
	size_t s = h & t->mask;
	for (;; s = (s + 1) & t->mask) {
		uint32_t i = t->index[s];
		if (i == 0)
			break;
		struct det_psum *x = &t->e[i - 1];
		if (x->hash == h && x->group == group && ip_prefix_equal(&x->p, p))
			return x;
	}
	if (!create)
		return NULL;
	if (t->n == t->max) {
		t->dropped++;
		return NULL;
	}
	struct det_psum *x = &t->e[t->n++];
	memset(x, 0, sizeof *x);
	x->p = *p;
	x->group = group;
	x->hash = h;
	x->slot = (uint32_t)s;
	t->index[s] = (uint32_t)t->n;
	return x;
}

/* Backward-shift deletion (no tombstones), as the engine's host table. */
void det_psums_remove(struct det_psums *t, size_t i)
{
	size_t hole = t->e[i].slot;
	for (size_t j = (hole + 1) & t->mask; t->index[j]; j = (j + 1) & t->mask) {
		struct det_psum *x = &t->e[t->index[j] - 1];
		size_t home = x->hash & t->mask;
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		t->index[hole] = t->index[j];
		x->slot = (uint32_t)hole;
		hole = j;
	}
	t->index[hole] = 0;
	size_t last = t->n - 1;
	if (i != last) {
		t->e[i] = t->e[last];
		t->index[t->e[i].slot] = (uint32_t)(i + 1);
	}
	t->n--;
}
