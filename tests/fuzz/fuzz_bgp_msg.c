/* libFuzzer target for the BGP message decoder: the input is a stream of whole messages as a peer
 * would send them. Each is framed by bgp_msg_header_ext as the session does (extended messages
 * allowed, RFC 8654: a superset of the 4096 limit), then decoded by its type; UPDATEs are tried
 * with and without 4-byte AS numbers, since the session's as4 flag changes how AS_PATH is read.
 * The first input byte is not consumed: everything is wire bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/msg.h"

static void one(const uint8_t *p, size_t len)
{
	struct bgp_msg_err e;
	uint8_t type;
	uint16_t mlen;
	if (bgp_msg_header_ext(p, true, &type, &mlen, &e) < 0 || mlen > len)
		return;
	const uint8_t *body = p + BGP_HDR_LEN;
	size_t blen = mlen - BGP_HDR_LEN;
	switch (type) {
	case BGP_MSG_OPEN: {
		struct bgp_open o;
		if (bgp_msg_open_decode(body, blen, &o, &e) == 0) {
			(void)bgp_msg_open_check(&o, bgp_msg_open_as(&o), &e);
			(void)bgp_msg_open_check(&o, 65001, &e);
			/* what was read encodes back and reads the same: the families and the Extended
			 * Next Hop offer (RFC 8950, sent only with IPv4 unicast to carry) survive */
			uint8_t buf[BGP_MSG_MAX];
			struct wbuf w = wbuf_init(buf, sizeof buf);
			size_t n = bgp_msg_open_ext(&w, bgp_msg_open_as(&o), o.hold_time, o.bgp_id, o.families,
						    0, false, o.ext_nh_v4);
			struct bgp_open o2;
			if (n == 0 || bgp_msg_open_decode(buf + BGP_HDR_LEN, n - BGP_HDR_LEN, &o2, &e) != 0)
				__builtin_trap();
			if (o2.families != o.families ||
			    o2.ext_nh_v4 != (o.ext_nh_v4 && (o.families & BGP_FAM_IPV4_UNICAST)))
				__builtin_trap();
		}
		break;
	}
	case BGP_MSG_UPDATE: {
		struct bgp_update_info u;
		(void)bgp_msg_update_decode(body, blen, false, &u, &e);
		(void)bgp_msg_update_decode(body, blen, true, &u, &e);
		/* an external peer takes other RFC 7606 branches (discards, confederation segments) */
		struct bgp_update_ctx c = {.as4 = true, .ebgp = true};
		if (bgp_msg_update_decode_ctx(body, blen, &c, &u, &e) == 0) {
			if (u.treat_as_withdraw)
				(void)strlen(u.taw_reason);
			if (u.attrs_discarded)
				(void)strlen(u.discard_reason);
			(void)bgp_msg_attr_name(u.taw_attr);
		}
		break;
	}
	case BGP_MSG_NOTIFICATION: {
		struct bgp_notification n;
		if (bgp_msg_notification_decode(body, blen, &n, &e) == 0) {
			(void)bgp_msg_err_name(n.code);
			/* touch the data the decoder points at, so ASan sees an overread */
			volatile uint8_t s = 0;
			for (size_t i = 0; i < n.data_len; i++)
				s ^= n.data[i];
		}
		break;
	}
	case BGP_MSG_ROUTE_REFRESH: {
		uint16_t afi;
		uint8_t safi;
		(void)bgp_msg_route_refresh_decode(body, blen, &afi, &safi, &e);
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* copy each message to an exact-size heap block so a read past its end is caught */
	while (size >= BGP_HDR_LEN) {
		size_t mlen = (size_t)data[16] << 8 | data[17];
		if (mlen < BGP_HDR_LEN || mlen > size)
			mlen = size < BGP_MSG_MAX ? size : BGP_MSG_MAX;
		uint8_t *m = __builtin_malloc(mlen);
		memcpy(m, data, mlen);
		one(m, mlen);
		__builtin_free(m);
		data += mlen;
		size -= mlen;
	}
	return 0;
}
