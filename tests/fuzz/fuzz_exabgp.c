/* ExaBGP API lines on arbitrary bytes: never a crash, and what parses is within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/exabgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > BGP_EXA_LINE_MAX + 8)
		return 0;
	char in[BGP_EXA_LINE_MAX + 9];
	memcpy(in, data, size);
	in[size] = 0;
	static struct bgp_exa_cmd c;
	struct bgp_exa_err err;
	bool ok = bgp_exa_parse(in, &c, &err);
	if (!ok && !err.msg[0])
		abort(); /* every refusal says why */
	if (ok && (c.n_nlri > BGP_EXA_MAX_NLRI || c.n_neighbors > BGP_EXA_MAX_NEIGHBORS ||
		   c.a.attrs.n_communities > BGP_MAX_COMMUNITIES || c.a.n_large > BGP_EXA_MAX_LIST ||
		   c.a.n_extended > BGP_EXA_MAX_LIST || c.a.n_as_path > BGP_EXA_MAX_LIST))
		abort();
	if (ok && c.kind == BGP_EXA_ROUTE && c.n_nlri == 0)
		abort();
	return 0;
}
