/* Monitored networks and hostgroups: longest-prefix match over IPv4 and IPv6, called twice per
 * packet by every worker, so a lookup is a few array reads and never allocates.
 *
 * An 8-bit-stride trie with prefix expansion: a prefix of length L fills the 2^(8 - L%8) slots
 * it covers in the node at depth (L-1)/8, unless a longer prefix already holds a slot. IPv4 and
 * IPv6 have separate tries, so ::/0 does not swallow IPv4-mapped addresses. */
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

struct det_networks {
	struct det_lpm lpm;
};

static int64_t trie_new_node(struct det_lpm_trie *t)
{
	if (t->n_nodes == t->cap_nodes) {
		uint32_t cap = t->cap_nodes ? t->cap_nodes * 2 : 4;
		struct det_lpm_slot *n = realloc(t->nodes, (size_t)cap * 256 * sizeof *n);
		if (!n)
			return -1;
		t->nodes = n;
		t->cap_nodes = cap;
	}
	struct det_lpm_slot *s = &t->nodes[(size_t)t->n_nodes * 256];
	for (int i = 0; i < 256; i++)
		s[i] = (struct det_lpm_slot){.child = 0, .value = -1, .len = 0};
	return t->n_nodes++;
}

static int trie_init(struct det_lpm_trie *t)
{
	memset(t, 0, sizeof *t);
	t->dflt = -1;
	return trie_new_node(t) < 0 ? -1 : 0;
}

/* b: the family's bytes (4 or 16); len: the family's prefix length */
static int trie_insert(struct det_lpm_trie *t, const uint8_t *b, unsigned len, int32_t value)
{
	if (len == 0) {
		t->dflt = value;
		return 0;
	}
	unsigned last = (len - 1) / 8, bits = len - 8 * last;
	uint32_t node = 0;
	for (unsigned i = 0; i < last; i++) {
		size_t at = (size_t)node * 256 + b[i];
		if (!t->nodes[at].child) {
			int64_t c = trie_new_node(t); /* may move t->nodes */
			if (c < 0)
				return -1;
			t->nodes[at].child = (uint32_t)c;
		}
		node = t->nodes[at].child;
	}
	unsigned base = b[last] & (0xff00u >> bits) & 0xff, count = 1u << (8 - bits);
	for (unsigned j = 0; j < count; j++) {
		struct det_lpm_slot *s = &t->nodes[(size_t)node * 256 + base + j];
		if (s->len <= len) {
			s->len = (uint8_t)len;
			s->value = value;
		}
	}
	return 0;
}

static inline int trie_lookup(const struct det_lpm_trie *t, const uint8_t *b, unsigned n)
{
	int best = t->dflt;
	const struct det_lpm_slot *node = t->nodes;
	for (unsigned i = 0; i < n; i++) {
		const struct det_lpm_slot *s = &node[b[i]];
		if (s->len)
			best = s->value;
		if (!s->child)
			break;
		node = &t->nodes[(size_t)s->child * 256];
	}
	return best;
}

int det_lpm_init(struct det_lpm *l)
{
	memset(l, 0, sizeof *l);
	if (trie_init(&l->v4) != 0 || trie_init(&l->v6) != 0) {
		det_lpm_fini(l);
		return -1;
	}
	return 0;
}

void det_lpm_fini(struct det_lpm *l)
{
	free(l->v4.nodes);
	free(l->v6.nodes);
	memset(l, 0, sizeof *l);
}

int det_lpm_insert(struct det_lpm *l, const ip_prefix *p, int32_t value)
{
	ip_prefix m = *p;
	if (ip_is_v4(&m.addr)) {
		if (m.len > 32)
			m.len = 32;
		ip_prefix_mask(&m);
		return trie_insert(&l->v4, m.addr.b + 12, m.len, value);
	}
	if (m.len > 128)
		m.len = 128;
	ip_prefix_mask(&m);
	return trie_insert(&l->v6, m.addr.b, m.len, value);
}

int det_lpm_lookup(const struct det_lpm *l, const ip_addr *a)
{
	if (ip_is_v4(a)) /* inline: this is the per-packet path */
		return trie_lookup(&l->v4, a->b + 12, 4);
	return trie_lookup(&l->v6, a->b, 16);
}

struct det_networks *det_networks_new(const struct det_config *cfg)
{
	struct det_networks *n = calloc(1, sizeof *n);
	if (!n || det_lpm_init(&n->lpm) != 0) {
		free(n);
		return NULL;
	}
	/* networks first, then groups in order: an equal prefix in a group wins over the networks */
	for (size_t i = 0; i < cfg->n_networks; i++)
		if (det_lpm_insert(&n->lpm, &cfg->networks[i], 0) != 0)
			goto fail;
	for (size_t g = 1; g < cfg->n_groups; g++)
		for (size_t i = 0; i < cfg->groups[g].n_prefixes; i++)
			if (det_lpm_insert(&n->lpm, &cfg->groups[g].prefixes[i], (int32_t)g) != 0)
				goto fail;
	return n;
fail:
	det_networks_free(n);
	return NULL;
}

void det_networks_free(struct det_networks *n)
{
	if (!n)
		return;
	det_lpm_fini(&n->lpm);
	free(n);
}

int det_networks_lookup(const struct det_networks *n, const ip_addr *a)
{
	return det_lpm_lookup(&n->lpm, a);
}
