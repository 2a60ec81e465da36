/* FlowSpec NLRI decoder and action communities on arbitrary bytes. The first byte picks the
 * family; the rest is an NLRI field (several NLRIs back to back). Whatever decodes must survive
 * encode -> decode and text -> parse unchanged. */
#include <stdint.h>
#include <stdlib.h>

#include "flowspec/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum fs_afi afi = data[0] & 1 ? FS_AFI_IPV6 : FS_AFI_IPV4;
	struct rbuf r = rbuf_init(data + 1, size - 1);
	struct fs_err err;
	struct fs_rule rule, back;
	while (rbuf_left(&r) && fs_nlri_decode(&r, afi, &rule, &err)) {
		uint8_t out[FS_NLRI_MAX + 2];
		struct wbuf w = wbuf_init(out, sizeof out);
		if (!fs_nlri_encode(&rule, &w, &err))
			continue; /* "true"/"false" operators decode but are never sent */
		struct rbuf r2 = rbuf_init(out, w.len);
		if (!fs_nlri_decode(&r2, afi, &back, &err) || rbuf_left(&r2) || !fs_rule_equal(&rule, &back))
			abort();
		char text[8192];
		if (!fs_text_format(&rule, NULL, text, sizeof text))
			abort();
		if (!fs_text_parse(text, &back, NULL, &err) || !fs_rule_equal(&rule, &back))
			abort();
	}

	struct fs_actions a, a2;
	if (fs_actions_decode(data + 1, size - 1, &a, &err)) {
		uint8_t out[FS_ACTIONS_MAX * FS_EXTCOMM_LEN];
		struct wbuf w = wbuf_init(out, sizeof out);
		if (!fs_actions_encode(&a, &w, &err) || !fs_actions_decode(out, w.len, &a2, &err) ||
		    !fs_actions_equal(&a, &a2))
			abort();
	}
	/* the same bytes as an IPV6_EXTENDED_COMMUNITIES value (attribute 25) */
	struct fs_actions a6 = {0}, b6 = {0};
	if (fs_actions_decode6(data + 1, size - 1, &a6, &err)) {
		uint8_t out[FS_ACTIONS6_MAX * FS_EXTCOMM6_LEN];
		struct wbuf w = wbuf_init(out, sizeof out);
		if (!fs_actions_encode6(&a6, &w, &err) || !fs_actions_decode6(out, w.len, &b6, &err) ||
		    !fs_actions_equal(&a6, &b6))
			abort();
		struct fs_rule any;
		fs_rule_init(&any, FS_AFI_IPV6);
		fs_rule_add(&any, FS_PROTO, FS_OP_EQ, 17);
		char text[8192];
		if (!fs_text_format(&any, &a6, text, sizeof text) || !fs_text_parse(text, &back, &b6, &err) ||
		    !fs_actions_equal(&a6, &b6))
			abort();
	}
	return 0;
}
