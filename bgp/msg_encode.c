/* BGP message encoding: headers, OPEN, NOTIFICATION, ROUTE-REFRESH, End-of-RIB, and UPDATEs
 * packed with as many NLRIs as fit under one set of path attributes. The buffer builders collect
 * errors in the wbuf and are checked once when the message is finished. */
#include "msg.h"

#include "bgp.h"
#include "../flowspec/fs.h"

/* ---- encoders ---- */

static size_t hdr_begin(struct wbuf *w, uint8_t type)
{
	size_t start = w->len;
	for (int i = 0; i < 16; i++)
		wbuf_u8(w, 0xff);
	wbuf_u16(w, 0);
	wbuf_u8(w, type);
	return start;
}

static size_t hdr_finish_max(struct wbuf *w, size_t start, size_t max)
{
	if (w->err)
		return 0;
	size_t len = w->len - start;
	if (len > max) {
		w->err = true;
		return 0;
	}
	wbuf_put_u16_at(w, start + 16, (uint16_t)len);
	return len;
}

static void put_u8_at(struct wbuf *w, size_t at, size_t v)
{
	if (!w->err && at < w->len)
		w->p[at] = (uint8_t)v;
}

static size_t hdr_finish(struct wbuf *w, size_t start)
{
	return hdr_finish_max(w, start, BGP_MSG_MAX);
}

size_t bgp_msg_keepalive(struct wbuf *w)
{
	size_t s = hdr_begin(w, BGP_MSG_KEEPALIVE);
	return hdr_finish(w, s);
}

size_t bgp_msg_notification(struct wbuf *w, uint8_t code, uint8_t subcode, const void *data,
			    size_t data_len)
{
	size_t s = hdr_begin(w, BGP_MSG_NOTIFICATION);
	wbuf_u8(w, code);
	wbuf_u8(w, subcode);
	if (data_len)
		wbuf_bytes(w, data, data_len);
	return hdr_finish(w, s);
}

static const uint32_t fam_order[] = {BGP_FAM_IPV4_UNICAST, BGP_FAM_IPV6_UNICAST,
				     BGP_FAM_IPV4_FLOWSPEC, BGP_FAM_IPV6_FLOWSPEC};

size_t bgp_msg_open(struct wbuf *w, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
		    uint32_t families, uint16_t gr_time)
{
	return bgp_msg_open_gr(w, my_as, hold_time, bgp_id, families, gr_time, false);
}

size_t bgp_msg_open_gr(struct wbuf *w, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
		       uint32_t families, uint16_t gr_time, bool restarting)
{
	return bgp_msg_open_ext(w, my_as, hold_time, bgp_id, families, gr_time, restarting, false);
}

size_t bgp_msg_open_ext(struct wbuf *w, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
			uint32_t families, uint16_t gr_time, bool restarting, bool ext_nh)
{
	size_t s = hdr_begin(w, BGP_MSG_OPEN);
	wbuf_u8(w, BGP_VERSION);
	wbuf_u16(w, my_as > 0xffff ? BGP_AS_TRANS : (uint16_t)my_as);
	wbuf_u16(w, hold_time);
	wbuf_u32(w, bgp_id);
	size_t optlen_at = wbuf_reserve(w, 1);
	wbuf_u8(w, 2); /* parameter: capabilities, all in one (RFC 5492) */
	size_t plen_at = wbuf_reserve(w, 1);
	for (size_t i = 0; i < sizeof fam_order / sizeof fam_order[0]; i++) {
		if (!(families & fam_order[i]))
			continue;
		uint16_t afi;
		uint8_t safi;
		bgp_msg_family_afi(fam_order[i], &afi, &safi);
		wbuf_u8(w, 1);
		wbuf_u8(w, 4);
		wbuf_u16(w, afi);
		wbuf_u8(w, 0);
		wbuf_u8(w, safi);
	}
	if (ext_nh && (families & BGP_FAM_IPV4_UNICAST)) {
		wbuf_u8(w, 5); /* extended next hop (RFC 8950): IPv4 unicast, next hop IPv6 */
		wbuf_u8(w, 6);
		wbuf_u16(w, BGP_AFI_IPV4);
		wbuf_u16(w, BGP_SAFI_UNICAST);
		wbuf_u16(w, BGP_AFI_IPV6);
	}
	wbuf_u8(w, 2); /* route refresh */
	wbuf_u8(w, 0);
	wbuf_u8(w, 70); /* enhanced route refresh: BoRR ... EoRR around the resent RIB-out */
	wbuf_u8(w, 0);
	wbuf_u8(w, 6); /* extended messages: UPDATEs up to 65535 bytes both ways */
	wbuf_u8(w, 0);
	wbuf_u8(w, 65); /* 4-octet AS */
	wbuf_u8(w, 4);
	wbuf_u32(w, my_as);
	if (gr_time) {
		/* graceful restart: we keep no forwarding state of our own, but the routes we send
		 * are what the router forwards with; the F bit asks it to keep them while we restart */
		wbuf_u8(w, 64);
		size_t gl_at = wbuf_reserve(w, 1);
		/* R: we restarted and the peer may hold our routes: it need not wait for our
		 * End-of-RIB before sending its own (RFC 4724 4.1) */
		wbuf_u16(w, (uint16_t)((restarting ? 0x8000 : 0) | (gr_time & 0x0fff)));
		for (size_t i = 0; i < sizeof fam_order / sizeof fam_order[0]; i++) {
			if (!(families & fam_order[i]))
				continue;
			uint16_t afi;
			uint8_t safi;
			bgp_msg_family_afi(fam_order[i], &afi, &safi);
			wbuf_u16(w, afi);
			wbuf_u8(w, safi);
			wbuf_u8(w, 0x80);
		}
		put_u8_at(w, gl_at, w->len - gl_at - 1);
	}
	put_u8_at(w, plen_at, w->len - plen_at - 1);
	put_u8_at(w, optlen_at, w->len - optlen_at - 1);
	return hdr_finish(w, s);
}

size_t bgp_msg_route_refresh(struct wbuf *w, uint16_t afi, uint8_t safi)
{
	return bgp_msg_route_refresh_sub(w, afi, safi, BGP_RR_REQUEST);
}

size_t bgp_msg_route_refresh_sub(struct wbuf *w, uint16_t afi, uint8_t safi, uint8_t subtype)
{
	size_t s = hdr_begin(w, BGP_MSG_ROUTE_REFRESH);
	wbuf_u16(w, afi);
	wbuf_u8(w, subtype);
	wbuf_u8(w, safi);
	return hdr_finish(w, s);
}

size_t bgp_msg_end_of_rib(struct wbuf *w, uint32_t family)
{
	size_t s = hdr_begin(w, BGP_MSG_UPDATE);
	wbuf_u16(w, 0);
	if (family == BGP_FAM_IPV4_UNICAST) {
		wbuf_u16(w, 0);
	} else {
		uint16_t afi;
		uint8_t safi;
		bgp_msg_family_afi(family, &afi, &safi);
		wbuf_u16(w, 6);
		wbuf_u8(w, 0x80);
		wbuf_u8(w, BGP_ATTR_MP_UNREACH);
		wbuf_u8(w, 3);
		wbuf_u16(w, afi);
		wbuf_u8(w, safi);
	}
	return hdr_finish(w, s);
}

/* ---- UPDATE packing ---- */

/* The AS_SEQUENCE this session sends: our AS first to an eBGP peer (RFC 4271 5.1.2) unless the
 * configured path already starts with it (an ExaBGP script writes the whole path, and ExaBGP
 * sends it as given), then the configured path; iBGP: the configured path alone. */
static size_t as_sequence(const struct bgp_attr_enc *a, uint32_t *seq)
{
	const struct bgp_route_attrs *m = a->more;
	size_t n = 0, k = m ? m->n_as_path : 0;
	if (k > BGP_MAX_AS_PATH)
		k = BGP_MAX_AS_PATH;
	if (a->ebgp && (k == 0 || m->as_path[0] != a->local_as))
		seq[n++] = a->local_as;
	for (size_t i = 0; i < k; i++)
		seq[n++] = m->as_path[i];
	return n;
}

static void as_path_value(struct wbuf *w, const uint32_t *seq, size_t n, bool four)
{
	if (n == 0)
		return;
	wbuf_u8(w, 2); /* AS_SEQUENCE; at most BGP_MAX_AS_PATH + 1 < 255 ASNs, one segment */
	wbuf_u8(w, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		if (four)
			wbuf_u32(w, seq[i]);
		else
			wbuf_u16(w, seq[i] > 0xffff ? BGP_AS_TRANS : (uint16_t)seq[i]);
	}
}

static size_t as_path_len(size_t n, bool four)
{
	return n ? 2 + n * (four ? 4 : 2) : 0;
}

static void upd_init(struct bgp_upd *u, bool v6, bool withdraw)
{
	u->w = wbuf_init(u->buf, sizeof u->buf);
	u->max = BGP_MSG_MAX;
	u->v6 = v6;
	u->withdraw = withdraw;
	u->v4_in_mp = false;
	u->n = 0;
	u->attr_at = u->len_at = SIZE_MAX;
	hdr_begin(&u->w, BGP_MSG_UPDATE);
}

/* MP_(UN)REACH_NLRI with an extended length, last, so prefixes can be appended to it. */
static void mp_begin(struct bgp_upd *u, uint8_t type, uint16_t afi, uint8_t safi)
{
	wbuf_u8(&u->w, 0x90);
	wbuf_u8(&u->w, type);
	u->len_at = wbuf_reserve(&u->w, 2);
	u->len_base = u->w.len;
	wbuf_u16(&u->w, afi);
	wbuf_u8(&u->w, safi);
}

/* An attribute header; the extended length only when the value needs it. */
static void attr_hdr(struct wbuf *w, uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255) {
		wbuf_u8(w, flags | 0x10);
		wbuf_u8(w, type);
		wbuf_u16(w, (uint16_t)len);
	} else {
		wbuf_u8(w, flags);
		wbuf_u8(w, type);
		wbuf_u8(w, (uint8_t)len);
	}
}

/* The raw attributes (bgp_route_attrs.raw_attrs) from *at on whose type is below `below`: they go
 * between the speaker's own so the whole list stays in ascending type order, as RFC 4271 5 asks
 * of a sender. A truncated entry (bgp/exabgp.c never writes one) ends the list. */
static void put_raw_below(struct wbuf *w, const struct bgp_route_attrs *m, size_t *at, unsigned below)
{
	if (!m)
		return;
	size_t n = m->n_raw_attrs > BGP_MAX_RAW_ATTRS ? BGP_MAX_RAW_ATTRS : m->n_raw_attrs;
	const uint8_t *r = m->raw_attrs;
	while (*at + 3 <= n && r[*at + 1] < below) {
		size_t hl = (r[*at] & 0x10) ? 4 : 3;
		if (*at + hl > n) {
			*at = n;
			return;
		}
		size_t len = hl == 4 ? (size_t)r[*at + 2] << 8 | r[*at + 3] : r[*at + 2];
		if (*at + hl + len > n) {
			*at = n;
			return;
		}
		wbuf_bytes(w, r + *at, hl + len);
		*at += hl + len;
	}
}

/* Everything but the NLRI and the MP attribute (which goes last so NLRI can be appended), in
 * type order. */
static void put_path_attrs(struct wbuf *w, const struct bgp_attr_enc *a, bool classic_nh)
{
	const struct bgp_route_attrs *m = a->more;
	size_t raw = 0;
	put_raw_below(w, m, &raw, BGP_ATTR_ORIGIN);
	wbuf_u8(w, 0x40);
	wbuf_u8(w, BGP_ATTR_ORIGIN);
	wbuf_u8(w, 1);
	wbuf_u8(w, m && m->origin <= BGP_ORIGIN_INCOMPLETE ? m->origin : BGP_ORIGIN_IGP);

	uint32_t seq[BGP_MAX_AS_PATH + 1];
	size_t n_seq = as_sequence(a, seq);
	bool need_as4_path = false;
	for (size_t i = 0; i < n_seq && !a->as4; i++)
		need_as4_path |= seq[i] > 0xffff;
	put_raw_below(w, m, &raw, BGP_ATTR_AS_PATH);
	attr_hdr(w, 0x40, BGP_ATTR_AS_PATH, as_path_len(n_seq, a->as4));
	as_path_value(w, seq, n_seq, a->as4);

	put_raw_below(w, m, &raw, BGP_ATTR_NEXT_HOP);
	if (classic_nh) {
		wbuf_u8(w, 0x40);
		wbuf_u8(w, BGP_ATTR_NEXT_HOP);
		wbuf_u8(w, 4);
		wbuf_bytes(w, a->next_hop.b + 12, 4);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_MED);
	if (a->has_med) {
		wbuf_u8(w, 0x80);
		wbuf_u8(w, BGP_ATTR_MED);
		wbuf_u8(w, 4);
		wbuf_u32(w, a->med);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_LOCAL_PREF);
	if (!a->ebgp) {
		wbuf_u8(w, 0x40);
		wbuf_u8(w, BGP_ATTR_LOCAL_PREF);
		wbuf_u8(w, 4);
		wbuf_u32(w, a->local_pref ? a->local_pref : 100);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_ATOMIC_AGGREGATE);
	if (m && m->atomic_aggregate) {
		wbuf_u8(w, 0x40);
		wbuf_u8(w, BGP_ATTR_ATOMIC_AGGREGATE);
		wbuf_u8(w, 0);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_AGGREGATOR);
	if (m && m->has_aggregator) {
		/* a 2-octet session gets AS_TRANS here and the real AS in AS4_AGGREGATOR (RFC 6793 4.2.2) */
		wbuf_u8(w, 0xc0);
		wbuf_u8(w, BGP_ATTR_AGGREGATOR);
		wbuf_u8(w, a->as4 ? 8 : 6);
		if (a->as4)
			wbuf_u32(w, m->aggregator_as);
		else
			wbuf_u16(w, m->aggregator_as > 0xffff ? BGP_AS_TRANS : (uint16_t)m->aggregator_as);
		wbuf_u32(w, m->aggregator_id);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_COMMUNITIES);
	if (a->n_communities > 0) {
		size_t n = a->n_communities > BGP_MAX_COMMUNITIES ? BGP_MAX_COMMUNITIES : a->n_communities;
		attr_hdr(w, 0xc0, BGP_ATTR_COMMUNITIES, n * 4);
		for (size_t i = 0; i < n; i++)
			wbuf_u32(w, a->communities[i]);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_ORIGINATOR_ID);
	if (m && !a->ebgp && m->has_originator_id) { /* RFC 4456: never across an AS border */
		wbuf_u8(w, 0x80);
		wbuf_u8(w, BGP_ATTR_ORIGINATOR_ID);
		wbuf_u8(w, 4);
		wbuf_u32(w, m->originator_id);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_CLUSTER_LIST);
	if (m && !a->ebgp && m->n_cluster_list > 0) {
		size_t n = m->n_cluster_list > BGP_MAX_CLUSTER_LIST ? BGP_MAX_CLUSTER_LIST : m->n_cluster_list;
		wbuf_u8(w, 0x80);
		wbuf_u8(w, BGP_ATTR_CLUSTER_LIST);
		wbuf_u8(w, (uint8_t)(n * 4));
		for (size_t i = 0; i < n; i++)
			wbuf_u32(w, m->cluster_list[i]);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_EXT_COMMUNITIES);
	if (a->n_ext_communities > 0) {
		attr_hdr(w, 0xc0, BGP_ATTR_EXT_COMMUNITIES, a->n_ext_communities * 8);
		wbuf_bytes(w, a->ext_communities, a->n_ext_communities * 8);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_AS4_PATH);
	if (need_as4_path) {
		/* an old speaker sees AS_TRANS; AS4_PATH carries the real ones (RFC 6793 4.2.2) */
		attr_hdr(w, 0xc0, BGP_ATTR_AS4_PATH, as_path_len(n_seq, true));
		as_path_value(w, seq, n_seq, true);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_AS4_AGGREGATOR);
	if (m && m->has_aggregator && !a->as4 && m->aggregator_as > 0xffff) {
		wbuf_u8(w, 0xc0);
		wbuf_u8(w, BGP_ATTR_AS4_AGGREGATOR);
		wbuf_u8(w, 8);
		wbuf_u32(w, m->aggregator_as);
		wbuf_u32(w, m->aggregator_id);
	}
	put_raw_below(w, m, &raw, BGP_ATTR_LARGE_COMMUNITIES);
	if (a->n_large_communities > 0) {
		attr_hdr(w, 0xc0, BGP_ATTR_LARGE_COMMUNITIES, a->n_large_communities * 12);
		for (size_t i = 0; i < a->n_large_communities; i++)
			for (int j = 0; j < 3; j++)
				wbuf_u32(w, a->large_communities[i][j]);
	}
	put_raw_below(w, m, &raw, 256);
}

int bgp_msg_upd_begin_announce(struct bgp_upd *u, bool v6, const struct bgp_attr_enc *a)
{
	/* IPv4 NLRI with an IPv6 next hop: MP_REACH_NLRI AFI 1 with the 16-octet next hop, no
	 * NEXT_HOP attribute (RFC 8950 3); the caller sends it only where the peer has the capability */
	bool v4_in_mp = !v6 && !ip_is_v4(&a->next_hop);
	upd_init(u, v6 || v4_in_mp, false);
	u->v4_in_mp = v4_in_mp;
	struct wbuf *w = &u->w;
	wbuf_u16(w, 0); /* no withdrawn routes */
	u->attr_at = wbuf_reserve(w, 2);
	u->attr_base = w->len;
	put_path_attrs(w, a, !v6 && !v4_in_mp);
	if (v6 || v4_in_mp) {
		mp_begin(u, BGP_ATTR_MP_REACH, v6 ? BGP_AFI_IPV6 : BGP_AFI_IPV4, BGP_SAFI_UNICAST);
		wbuf_u8(w, 16);
		wbuf_bytes(w, a->next_hop.b, 16); /* an IPv4 next hop goes as ::ffff:a.b.c.d */
		wbuf_u8(w, 0);
	} else {
		wbuf_put_u16_at(w, u->attr_at, (uint16_t)(w->len - u->attr_base));
	}
	return w->err ? -1 : 0;
}

/* IPV6_EXTENDED_COMMUNITIES (optional transitive), after the other path attributes: FlowSpec
 * routes carry no large communities, so type order holds up to the MP attribute. */
static void put_ipv6_ext_communities(struct wbuf *w, const struct bgp_attr_enc *a)
{
	if (a->n_ipv6_ext_communities == 0)
		return;
	attr_hdr(w, 0xc0, BGP_ATTR_IPV6_EXT_COMMUNITIES, a->n_ipv6_ext_communities * 20);
	wbuf_bytes(w, a->ipv6_ext_communities, a->n_ipv6_ext_communities * 20);
}

int bgp_msg_upd_begin_flow(struct bgp_upd *u, uint16_t afi, bool withdraw, const struct bgp_attr_enc *a)
{
	upd_init(u, true, withdraw);
	struct wbuf *w = &u->w;
	wbuf_u16(w, 0);
	u->attr_at = wbuf_reserve(w, 2);
	u->attr_base = w->len;
	if (withdraw) {
		mp_begin(u, BGP_ATTR_MP_UNREACH, afi, BGP_SAFI_FLOWSPEC);
		return w->err ? -1 : 0;
	}
	put_path_attrs(w, a, false);
	put_ipv6_ext_communities(w, a);
	mp_begin(u, BGP_ATTR_MP_REACH, afi, BGP_SAFI_FLOWSPEC);
	if (ip_is_zero(&a->next_hop)) {
		wbuf_u8(w, 0); /* no next hop (RFC 8955 4) */
	} else if (ip_is_v4(&a->next_hop)) {
		/* the 0x0800 redirect's target (draft-simpson-idr-flowspec-redirect 3) */
		wbuf_u8(w, 4);
		wbuf_bytes(w, a->next_hop.b + 12, 4);
	} else {
		wbuf_u8(w, 16);
		wbuf_bytes(w, a->next_hop.b, 16);
	}
	wbuf_u8(w, 0); /* reserved */
	return w->err ? -1 : 0;
}

bool bgp_msg_upd_add_raw(struct bgp_upd *u, const uint8_t *nlri, size_t len)
{
	if (u->w.err || u->w.len + len > u->max)
		return false;
	wbuf_bytes(&u->w, nlri, len);
	u->n++;
	return true;
}

void bgp_msg_upd_begin_withdraw(struct bgp_upd *u, bool v6)
{
	upd_init(u, v6, true);
	if (!v6) {
		u->len_at = wbuf_reserve(&u->w, 2);
		u->len_base = u->w.len;
		return;
	}
	wbuf_u16(&u->w, 0);
	u->attr_at = wbuf_reserve(&u->w, 2);
	u->attr_base = u->w.len;
	mp_begin(u, BGP_ATTR_MP_UNREACH, BGP_AFI_IPV6, BGP_SAFI_UNICAST);
}

bool bgp_msg_upd_add(struct bgp_upd *u, const ip_prefix *p)
{
	size_t nbytes = (p->len + 7u) / 8u;
	size_t tail = (u->withdraw && !u->v6) ? 2 : 0; /* the attribute length still to come */
	if (u->w.err || u->w.len + 1 + nbytes + tail > u->max)
		return false;
	wbuf_u8(&u->w, p->len);
	wbuf_bytes(&u->w, u->v6 && !u->v4_in_mp ? p->addr.b : p->addr.b + 12, nbytes);
	u->n++;
	return true;
}

size_t bgp_msg_upd_finish(struct bgp_upd *u)
{
	struct wbuf *w = &u->w;
	if (u->len_at != SIZE_MAX)
		wbuf_put_u16_at(w, u->len_at, (uint16_t)(w->len - u->len_base));
	if (u->withdraw && !u->v6)
		wbuf_u16(w, 0);
	if (u->v6)
		wbuf_put_u16_at(w, u->attr_at, (uint16_t)(w->len - u->attr_base));
	return hdr_finish_max(w, 0, u->max);
}

void bgp_msg_upd_set_max(struct bgp_upd *u, size_t max)
{
	u->max = max < BGP_MSG_MAX ? BGP_MSG_MAX : max > BGP_MSG_EXT_MAX ? BGP_MSG_EXT_MAX : max;
}
