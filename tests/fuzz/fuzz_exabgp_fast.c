/* The ExaBGP parser's fast path against the full parser on arbitrary bytes: whenever
 * bgp_exa_parse_fast takes a line, bgp_exa_parse must take it too and make the same command of
 * it (bgp/exabgp_fast.c promises exactly that; anything it gets wrong here would be announced),
 * and bgp_exa_route_prefix must give that command's prefix. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/exabgp.h"

static bool same(const struct bgp_exa_cmd *x, const struct bgp_exa_cmd *y)
{
	if (x->verb != y->verb || x->kind != y->kind || x->n_neighbors != y->n_neighbors || x->n_nlri != y->n_nlri ||
	    x->eor_afi != y->eor_afi || x->eor_safi != y->eor_safi)
		return false;
	for (size_t i = 0; i < x->n_nlri; i++)
		if (!ip_prefix_equal(&x->nlri[i], &y->nlri[i]))
			return false;
	return !memcmp(&x->a, &y->a, sizeof x->a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > BGP_EXA_LINE_MAX + 8)
		return 0;
	char in[BGP_EXA_LINE_MAX + 9];
	memcpy(in, data, size);
	in[size] = 0;
	static struct bgp_exa_cmd fast, full;
	struct bgp_exa_err err;
	if (!bgp_exa_parse_fast(in, &fast))
		return 0;
	if (!bgp_exa_parse(in, &full, &err) || !same(&fast, &full))
		abort();
	ip_prefix hint; /* the prefetch hint of every line the fast path takes is its prefix */
	if (!bgp_exa_route_prefix(in, &hint) || !ip_prefix_equal(&hint, &fast.nlri[0]))
		abort();
	return 0;
}
