/* ExaBGP API lines on arbitrary bytes: never a crash, and what parses is within its bounds.
 * A route that parses is then encoded as the speaker would (eBGP and iBGP, 2- and 4-octet AS,
 * 4096 and 65535 byte messages) and must decode cleanly: every attribute the parser accepts
 * makes a valid UPDATE. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/exabgp.h"
#include "bgp/msg.h"

static void encode_back(const struct bgp_exa_cmd *c)
{
	struct bgp_route_attrs r = c->a.attrs;
	r.origin = c->a.origin;
	r.atomic_aggregate = c->a.atomic_aggregate;
	memcpy(r.as_path, c->a.as_path, c->a.n_as_path * sizeof r.as_path[0]);
	r.n_as_path = c->a.n_as_path;
	static struct bgp_upd u;
	for (int mode = 0; mode < 4; mode++) {
		bool v6 = !ip_is_v4(&c->nlri[0].addr);
		struct bgp_attr_enc a = {
			.ebgp = mode & 1, .as4 = mode & 2, .local_as = 65001, .local_pref = r.local_pref,
			.med = r.med, .has_med = r.has_med, .communities = r.communities,
			.n_communities = r.n_communities, .more = &r,
		};
		ip_parse(v6 ? "2001:db8::1" : "192.0.2.1", &a.next_hop);
		if (bgp_msg_upd_begin_announce(&u, v6, &a) < 0)
			abort();
		if (mode & 1)
			bgp_msg_upd_set_max(&u, BGP_MSG_EXT_MAX);
		for (size_t i = 0; i < c->n_nlri; i++)
			if (ip_is_v4(&c->nlri[i].addr) != v6 && !bgp_msg_upd_add(&u, &c->nlri[i]))
				break;
		size_t n = bgp_msg_upd_finish(&u);
		struct bgp_update_info ui;
		struct bgp_msg_err e;
		uint8_t type;
		uint16_t len;
		if (n == 0 || bgp_msg_header_ext(u.buf, true, &type, &len, &e) < 0 || len != n ||
		    bgp_msg_update_decode(u.buf + BGP_HDR_LEN, n - BGP_HDR_LEN, a.as4, &ui, &e) < 0 ||
		    ui.treat_as_withdraw)
			abort();
	}
}

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
		   c.a.n_extended > BGP_EXA_MAX_LIST || c.a.n_as_path > BGP_EXA_MAX_LIST ||
		   c.a.attrs.n_cluster_list > BGP_MAX_CLUSTER_LIST || c.a.origin > BGP_EXA_ORIGIN_INCOMPLETE ||
		   c.a.attrs.n_raw_attrs > BGP_MAX_RAW_ATTRS))
		abort();
	for (size_t i = 0; ok && i < c.n_neighbors; i++)
		if (!ip_equal(&c.neighbors[i], &c.sel[i].address))
			abort();
	if (ok && c.kind == BGP_EXA_ROUTE && c.verb == BGP_EXA_ANNOUNCE && c.n_nlri > 0)
		encode_back(&c);
	if (ok && c.kind == BGP_EXA_ROUTE && c.n_nlri == 0)
		abort();
	return 0;
}
