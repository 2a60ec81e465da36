/* FlowSpec text parser on arbitrary strings. What parses must format and parse back to the same
 * rule and actions, and encode to wire bytes that decode to the same rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowspec/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char in[4097];
	memcpy(in, data, size);
	in[size] = 0;
	struct fs_rule r, r2;
	struct fs_actions a, a2;
	struct fs_err err;
	if (!fs_text_parse(in, &r, &a, &err))
		return 0;
	char text[8192];
	if (!fs_text_format(&r, &a, text, sizeof text))
		abort();
	if (!fs_text_parse(text, &r2, &a2, &err) || !fs_rule_equal(&r, &r2) || !fs_actions_equal(&a, &a2))
		abort();
	uint8_t out[FS_NLRI_MAX + 2];
	struct wbuf w = wbuf_init(out, sizeof out);
	if (!fs_nlri_encode(&r, &w, &err))
		abort();
	struct rbuf rb = rbuf_init(out, w.len);
	if (!fs_nlri_decode(&rb, (enum fs_afi)r.afi, &r2, &err) || !fs_rule_equal(&r, &r2))
		abort();
	uint8_t ec[FS_ACTIONS_MAX * FS_EXTCOMM_LEN];
	w = wbuf_init(ec, sizeof ec);
	/* what the extended communities carry back: not the route's communities, not the 0x0800
	 * redirect (its address is the next hop); extra extended communities given raw may read
	 * back as actions, so with any the round trip is not compared */
	struct fs_actions plain = a;
	plain.present &= ~(uint32_t)FS_ACT_REDIRECT_NH;
	plain.n_comm = plain.n_ext = 0;
	struct fs_actions a8 = plain;
	a8.present &= ~(uint32_t)FS_ACTS_IPV6;
	if (!fs_actions_encode(&a, &w, &err) || !fs_actions_decode(ec, w.len, &a2, &err) ||
	    (!a.n_ext && !fs_actions_equal(&a8, &a2)))
		abort();
	/* the IPv6 actions go in their own attribute (25); decode6 adds them to what decode found */
	uint8_t ec6[FS_ACTIONS6_MAX * FS_EXTCOMM6_LEN];
	struct wbuf w6 = wbuf_init(ec6, sizeof ec6);
	if (!fs_actions_encode6(&a, &w6, &err) || !fs_actions_decode6(ec6, w6.len, &a2, &err))
		abort();
	if ((a.present & FS_ACTS_IPV6) ? !a.n_ext && !fs_actions_equal(&plain, &a2) : w6.len != 0)
		abort();
	return 0;
}
