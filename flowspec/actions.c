/* FlowSpec traffic filtering actions as BGP extended communities (RFC 8955 section 7, RFC 4360,
 * RFC 5668 for the 4-octet AS form of redirect).
 *
 *   0x80 0x06  id(2) rate(float32, bytes/s)      traffic-rate-bytes, 0 = discard
 *   0x80 0x0c  id(2) rate(float32, packets/s)    traffic-rate-packets
 *   0x80 0x07  0(5) flags(1): S=0x02 T=0x01      traffic-action
 *   0x80 0x08  AS(2) value(4)                    redirect to VRF, 2-octet AS form
 *   0x81 0x08  IPv4(4) value(2)                  redirect to VRF, IPv4 form
 *   0x82 0x08  AS(4) value(2)                    redirect to VRF, 4-octet AS form
 *   0x80 0x09  0(5) dscp(1, low 6 bits)          traffic-marking
 *   0x01 0x0c  IPv4(4) flags(2): C=0x0001        redirect to IPv4 (draft-ietf-idr-flowspec-redirect)
 *
 * and in the IPv6-address-specific form (RFC 5701, attribute 25, 20 octets each):
 *   0x00 0x0c  IPv6(16) flags(2): C=0x0001       redirect to IPv6 (the same draft)
 *   0x00 0x0d  IPv6(16) local(2)                 rt-redirect-ipv6 (RFC 8956 6.1) */
#include <math.h>
#include <string.h>

#include "flowspec/fs_int.h"

static uint32_t f2u(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float u2f(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static bool rate_ok(float f)
{
	return isfinite(f) && !signbit(f); /* -0 would print as discard and come back as +0 */
}

bool fs_actions_encode(const struct fs_actions *a, struct wbuf *w, struct fs_err *err)
{
	if ((a->present & FS_ACT_RATE) && !rate_ok(a->rate)) {
		fs_errf(err, "traffic-rate %g is not a finite rate >= 0", (double)a->rate);
		return false;
	}
	if ((a->present & FS_ACT_RATE_PKTS) && !rate_ok(a->rate_pkts)) {
		fs_errf(err, "traffic-rate-packets %g is not a finite rate >= 0", (double)a->rate_pkts);
		return false;
	}
	if ((a->present & FS_ACT_ACTION) && (a->action & ~(FS_ACTION_SAMPLE | FS_ACTION_TERMINAL))) {
		fs_errf(err, "traffic-action flags 0x%02x: only sample and terminal exist", a->action);
		return false;
	}
	if ((a->present & FS_ACT_MARK) && a->dscp > 63) {
		fs_errf(err, "traffic-marking DSCP %u > 63", a->dscp);
		return false;
	}
	if (a->present & FS_ACT_REDIRECT) {
		bool ok = a->rt_form == FS_RT_AS2 ? a->rt_global <= 0xffff
			  : a->rt_form <= FS_RT_AS4 ? a->rt_local <= 0xffff
						    : false;
		if (!ok) {
			fs_errf(err, "redirect %u:%u does not fit form %u", a->rt_global, a->rt_local,
				a->rt_form);
			return false;
		}
	}
	if (a->present & FS_ACT_RATE) {
		wbuf_u16(w, 0x8006);
		wbuf_u16(w, a->rate_id);
		wbuf_u32(w, f2u(a->rate));
	}
	if (a->present & FS_ACT_ACTION) {
		wbuf_u16(w, 0x8007);
		wbuf_u32(w, 0);
		wbuf_u16(w, a->action);
	}
	if (a->present & FS_ACT_REDIRECT) {
		wbuf_u8(w, (uint8_t)(0x80 | a->rt_form));
		wbuf_u8(w, 0x08);
		if (a->rt_form == FS_RT_AS2) {
			wbuf_u16(w, (uint16_t)a->rt_global);
			wbuf_u32(w, a->rt_local);
		} else {
			wbuf_u32(w, a->rt_global);
			wbuf_u16(w, (uint16_t)a->rt_local);
		}
	}
	if (a->present & FS_ACT_MARK) {
		wbuf_u16(w, 0x8009);
		wbuf_u32(w, 0);
		wbuf_u16(w, a->dscp);
	}
	if (a->present & FS_ACT_REDIRECT_IP) {
		wbuf_u16(w, 0x010c);
		wbuf_u32(w, a->redirect_ip);
		wbuf_u16(w, a->redirect_copy ? 1 : 0);
	}
	if (a->present & FS_ACT_RATE_PKTS) {
		wbuf_u16(w, 0x800c);
		wbuf_u16(w, a->rate_id);
		wbuf_u32(w, f2u(a->rate_pkts));
	}
	if (a->present & FS_ACT_REDIRECT_NH) {
		if (!ip_is_v4(&a->redirect_nh)) {
			fs_errf(err, "redirect to a next hop takes an IPv4 address");
			return false;
		}
		wbuf_u16(w, 0x0800);
		wbuf_u32(w, 0);
		wbuf_u16(w, a->redirect_nh_copy ? 1 : 0);
	}
	if (a->n_ext > FS_EXTRA_MAX || a->n_comm > FS_EXTRA_MAX) {
		fs_errf(err, "more than %d communities or extended communities", FS_EXTRA_MAX);
		return false;
	}
	for (unsigned i = 0; i < a->n_ext; i++)
		wbuf_u64(w, a->ext[i]);
	if (w->err) {
		fs_errf(err, "no room for the action communities");
		return false;
	}
	return true;
}

bool fs_actions_decode(const uint8_t *p, size_t len, struct fs_actions *out, struct fs_err *err)
{
	memset(out, 0, sizeof *out);
	if (len % FS_EXTCOMM_LEN) {
		fs_errf(err, "extended communities length %zu is not a multiple of 8", len);
		return false;
	}
	struct rbuf r = rbuf_init(p, len);
	while (rbuf_left(&r)) {
		size_t at = r.off;
		uint16_t type = rbuf_u16(&r);
		struct rbuf v = rbuf_sub(&r, 6);
		uint32_t bit;
		switch (type) {
		case 0x8006: bit = FS_ACT_RATE; break;
		case 0x800c: bit = FS_ACT_RATE_PKTS; break;
		case 0x8007: bit = FS_ACT_ACTION; break;
		case 0x8008: case 0x8108: case 0x8208: bit = FS_ACT_REDIRECT; break;
		case 0x8009: bit = FS_ACT_MARK; break;
		case 0x010c: bit = FS_ACT_REDIRECT_IP; break;
		default: continue; /* not an action: route targets and others pass through */
		}
		if (out->present & bit)
			continue; /* first of a kind counts */
		switch (type) {
		case 0x8006:
		case 0x800c: {
			uint16_t id = rbuf_u16(&v);
			float f = u2f(rbuf_u32(&v));
			if (!rate_ok(f)) {
				fs_errf(err, "community %zu: traffic-rate is not a finite rate >= 0", at / 8);
				return false;
			}
			out->rate_id = id;
			*(type == 0x8006 ? &out->rate : &out->rate_pkts) = f;
			break;
		}
		case 0x8007:
			rbuf_skip(&v, 5);
			out->action = rbuf_u8(&v);
			if (out->action & ~(FS_ACTION_SAMPLE | FS_ACTION_TERMINAL)) {
				fs_errf(err, "community %zu: traffic-action reserved bits set (0x%02x)",
					at / 8, out->action);
				return false;
			}
			break;
		case 0x8008:
			out->rt_form = FS_RT_AS2;
			out->rt_global = rbuf_u16(&v);
			out->rt_local = rbuf_u32(&v);
			break;
		case 0x8108:
		case 0x8208:
			out->rt_form = type == 0x8108 ? FS_RT_IPV4 : FS_RT_AS4;
			out->rt_global = rbuf_u32(&v);
			out->rt_local = rbuf_u16(&v);
			break;
		case 0x010c: {
			out->redirect_ip = rbuf_u32(&v);
			uint16_t flags = rbuf_u16(&v);
			if (flags & ~1u) {
				fs_errf(err, "community %zu: redirect-to-IP flags 0x%04x: only copy (bit 0) exists",
					at / 8, flags);
				return false;
			}
			out->redirect_copy = flags & 1;
			break;
		}
		case 0x8009:
			rbuf_skip(&v, 5);
			out->dscp = rbuf_u8(&v);
			if (out->dscp > 63) {
				fs_errf(err, "community %zu: traffic-marking DSCP %u > 63", at / 8, out->dscp);
				return false;
			}
			break;
		}
		out->present |= bit;
	}
	return true;
}

bool fs_actions_equal(const struct fs_actions *a, const struct fs_actions *b)
{
	uint32_t p = a->present;
	if (p != b->present)
		return false;
	if ((p & (FS_ACT_RATE | FS_ACT_RATE_PKTS)) && a->rate_id != b->rate_id)
		return false;
	if ((p & FS_ACT_RATE) && f2u(a->rate) != f2u(b->rate))
		return false;
	if ((p & FS_ACT_RATE_PKTS) && f2u(a->rate_pkts) != f2u(b->rate_pkts))
		return false;
	if ((p & FS_ACT_ACTION) && a->action != b->action)
		return false;
	if ((p & FS_ACT_REDIRECT) && (a->rt_form != b->rt_form || a->rt_global != b->rt_global ||
				      a->rt_local != b->rt_local))
		return false;
	if ((p & FS_ACT_MARK) && a->dscp != b->dscp)
		return false;
	if ((p & FS_ACT_REDIRECT_IP) && (a->redirect_ip != b->redirect_ip || a->redirect_copy != b->redirect_copy))
		return false;
	if ((p & FS_ACT_REDIRECT_IP6) && (memcmp(a->redirect_ip6, b->redirect_ip6, 16) != 0 ||
					  a->redirect6_copy != b->redirect6_copy))
		return false;
	if ((p & FS_ACT_REDIRECT6) && (memcmp(a->rt6_global, b->rt6_global, 16) != 0 ||
				       a->rt6_local != b->rt6_local))
		return false;
	if ((p & FS_ACT_REDIRECT_NH) && (!ip_equal(&a->redirect_nh, &b->redirect_nh) ||
					 a->redirect_nh_copy != b->redirect_nh_copy))
		return false;
	if (a->n_comm != b->n_comm || a->n_ext != b->n_ext ||
	    (a->n_comm && memcmp(a->comm, b->comm, a->n_comm * sizeof a->comm[0]) != 0) ||
	    (a->n_ext && memcmp(a->ext, b->ext, a->n_ext * sizeof a->ext[0]) != 0))
		return false;
	return true;
}

/* ---- IPv6-address-specific extended communities (RFC 5701) ---- */

/* ::ffff:a.b.c.d would come back from the text form as an IPv4 address, i.e. as the other action:
 * the IPv4 forms carry IPv4 targets. */
static bool v4_mapped(const uint8_t a[16])
{
	return memcmp(a, ip_v4_mapped_prefix, 12) == 0;
}

bool fs_actions_encode6(const struct fs_actions *a, struct wbuf *w, struct fs_err *err)
{
	if ((a->present & FS_ACT_REDIRECT_IP6) && v4_mapped(a->redirect_ip6)) {
		fs_errf(err, "redirect to IPv6: an IPv4-mapped address takes the IPv4 form (0x010c)");
		return false;
	}
	if ((a->present & FS_ACT_REDIRECT6) && v4_mapped(a->rt6_global)) {
		fs_errf(err, "rt-redirect-ipv6: an IPv4-mapped route target takes the IPv4 form (0x8108)");
		return false;
	}
	if (a->present & FS_ACT_REDIRECT_IP6) {
		wbuf_u16(w, 0x000c);
		wbuf_bytes(w, a->redirect_ip6, 16);
		wbuf_u16(w, a->redirect6_copy ? 1 : 0);
	}
	if (a->present & FS_ACT_REDIRECT6) {
		wbuf_u16(w, 0x000d);
		wbuf_bytes(w, a->rt6_global, 16);
		wbuf_u16(w, a->rt6_local);
	}
	if (w->err) {
		fs_errf(err, "no room for the IPv6 action communities");
		return false;
	}
	return true;
}

bool fs_actions_decode6(const uint8_t *p, size_t len, struct fs_actions *out, struct fs_err *err)
{
	if (len % FS_EXTCOMM6_LEN) {
		fs_errf(err, "IPv6 extended communities length %zu is not a multiple of 20", len);
		return false;
	}
	struct rbuf r = rbuf_init(p, len);
	while (rbuf_left(&r)) {
		size_t at = r.off;
		uint16_t type = rbuf_u16(&r);
		const uint8_t *addr = rbuf_take(&r, 16); /* the length check above makes it whole */
		uint16_t local = rbuf_u16(&r);
		uint32_t bit = type == 0x000c ? FS_ACT_REDIRECT_IP6 : type == 0x000d ? FS_ACT_REDIRECT6 : 0;
		if (!bit || (out->present & bit))
			continue; /* not an action (an IPv6 route target rides along), or not the first */
		if (v4_mapped(addr)) {
			fs_errf(err, "IPv6 community %zu: IPv4-mapped address in %s", at / FS_EXTCOMM6_LEN,
				bit == FS_ACT_REDIRECT6 ? "rt-redirect-ipv6" : "redirect to IPv6");
			return false;
		}
		if (bit == FS_ACT_REDIRECT_IP6) {
			if (local & ~1u) {
				fs_errf(err, "IPv6 community %zu: redirect-to-IPv6 flags 0x%04x: only copy (bit 0) exists",
					at / FS_EXTCOMM6_LEN, local);
				return false;
			}
			memcpy(out->redirect_ip6, addr, 16);
			out->redirect6_copy = local & 1;
		} else {
			memcpy(out->rt6_global, addr, 16);
			out->rt6_local = local;
		}
		out->present |= bit;
	}
	return true;
}
