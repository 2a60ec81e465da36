/* BGP message decoding. Every length from the wire is checked against its container here,
 * once; the session only ever sees validated messages or a NOTIFICATION code to send. */
#include "msg.h"

#include "bgp.h"
#include "../flowspec/fs.h"

static int fail(struct bgp_msg_err *e, uint8_t code, uint8_t subcode, const char *reason)
{
	e->code = code;
	e->subcode = subcode;
	e->reason = reason;
	e->data_len = 0;
	return -1;
}

static int fail16(struct bgp_msg_err *e, uint8_t code, uint8_t subcode, const char *reason, uint16_t v)
{
	fail(e, code, subcode, reason);
	e->data[0] = (uint8_t)(v >> 8);
	e->data[1] = (uint8_t)v;
	e->data_len = 2;
	return -1;
}

int bgp_msg_header(const uint8_t *p, uint8_t *type, uint16_t *len, struct bgp_msg_err *e)
{
	return bgp_msg_header_ext(p, false, type, len, e);
}

int bgp_msg_header_ext(const uint8_t *p, bool ext, uint8_t *type, uint16_t *len, struct bgp_msg_err *e)
{
	size_t limit = ext ? BGP_MSG_EXT_MAX : BGP_MSG_MAX;
	for (int i = 0; i < 16; i++)
		if (p[i] != 0xff)
			return fail(e, BGP_ERR_HEADER, BGP_ERR_HDR_SYNC, "bad marker");
	*len = (uint16_t)(p[16] << 8 | p[17]);
	*type = p[18];
	if (*len < BGP_HDR_LEN || *len > limit)
		return fail16(e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN, "bad message length", *len);
	size_t min, max = limit;
	switch (*type) {
	case BGP_MSG_OPEN: min = 29; max = BGP_MSG_MAX; break;
	case BGP_MSG_UPDATE: min = 23; break;
	case BGP_MSG_NOTIFICATION: min = 21; break;
	case BGP_MSG_KEEPALIVE: min = max = 19; break;
	/* RFC 7313 5: a wrong length is the message's own error (7/1), for the decoder to give */
	case BGP_MSG_ROUTE_REFRESH: min = 19; break;
	default:
		fail(e, BGP_ERR_HEADER, BGP_ERR_HDR_TYPE, "bad message type");
		e->data[0] = *type;
		e->data_len = 1;
		return -1;
	}
	if (*len < min || *len > max)
		return fail16(e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN, "bad length for the message type", *len);
	return 0;
}

uint32_t bgp_msg_family(uint16_t afi, uint8_t safi)
{
	if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST) return BGP_FAM_IPV4_UNICAST;
	if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST) return BGP_FAM_IPV6_UNICAST;
	if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_FLOWSPEC) return BGP_FAM_IPV4_FLOWSPEC;
	if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_FLOWSPEC) return BGP_FAM_IPV6_FLOWSPEC;
	return 0;
}

void bgp_msg_family_afi(uint32_t fam, uint16_t *afi, uint8_t *safi)
{
	*afi = (fam & (BGP_FAM_IPV6_UNICAST | BGP_FAM_IPV6_FLOWSPEC)) ? BGP_AFI_IPV6 : BGP_AFI_IPV4;
	*safi = (fam & (BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC)) ? BGP_SAFI_FLOWSPEC
									 : BGP_SAFI_UNICAST;
}

/* ---- OPEN ---- */

static int parse_capabilities(struct rbuf *r, struct bgp_open *o, struct bgp_msg_err *e)
{
	while (rbuf_left(r) > 0) {
		uint8_t code = rbuf_u8(r);
		uint8_t len = rbuf_u8(r);
		struct rbuf v = rbuf_sub(r, len);
		if (r->err)
			return fail(e, BGP_ERR_OPEN, 0, "capability past the end of its parameter");
		switch (code) {
		case 1: { /* multiprotocol, RFC 4760 */
			uint16_t afi = rbuf_u16(&v);
			rbuf_u8(&v);
			uint8_t safi = rbuf_u8(&v);
			if (v.err || rbuf_left(&v) != 0)
				return fail(e, BGP_ERR_OPEN, 0, "bad multiprotocol capability length");
			o->has_mp = true;
			o->families |= bgp_msg_family(afi, safi);
			break;
		}
		case 2: /* route refresh, RFC 2918 */
			o->route_refresh = true;
			break;
		case 70: /* enhanced route refresh, RFC 7313 */
			if (len != 0)
				return fail(e, BGP_ERR_OPEN, 0, "bad enhanced route refresh capability length");
			o->enhanced_rr = true;
			break;
		case 6: /* extended messages, RFC 8654 */
			if (len != 0)
				return fail(e, BGP_ERR_OPEN, 0, "bad extended message capability length");
			o->ext_msg = true;
			break;
		case 64: { /* graceful restart, RFC 4724: flags+time, then AFI/SAFI/flags tuples */
			uint16_t ft = rbuf_u16(&v);
			if (v.err || rbuf_left(&v) % 4 != 0)
				return fail(e, BGP_ERR_OPEN, 0, "bad graceful restart capability length");
			o->has_gr = true;
			o->gr_restarting = (ft & 0x8000) != 0;
			o->gr_time = ft & 0x0fff;
			while (rbuf_left(&v) > 0) {
				uint16_t afi = rbuf_u16(&v);
				uint8_t safi = rbuf_u8(&v);
				uint8_t fl = rbuf_u8(&v);
				if (fl & 0x80)
					o->gr_families |= bgp_msg_family(afi, safi);
			}
			break;
		}
		case 5: /* extended next hop, RFC 8950 4: tuples of NLRI AFI (2), NLRI SAFI (2), next hop
			 * AFI (2). Tuples for other families are offers we have no use for and are ignored;
			 * no tuple at all offers nothing (BIRD and FRR accept that too). A length that cuts a
			 * tuple is malformed, as for the other capabilities here. */
			if (len % 6 != 0)
				return fail(e, BGP_ERR_OPEN, 0, "bad extended next hop capability length");
			while (rbuf_left(&v) > 0) {
				uint16_t afi = rbuf_u16(&v), safi = rbuf_u16(&v), nh_afi = rbuf_u16(&v);
				if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST && nh_afi == BGP_AFI_IPV6)
					o->ext_nh_v4 = true;
			}
			break;
		case 65: /* 4-octet AS, RFC 6793 */
			o->as4 = rbuf_u32(&v);
			if (v.err || rbuf_left(&v) != 0)
				return fail(e, BGP_ERR_OPEN, 0, "bad 4-octet AS capability length");
			o->has_as4 = true;
			break;
		default: /* unknown capabilities are ignored (RFC 5492) */
			break;
		}
	}
	return 0;
}

int bgp_msg_open_decode(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_msg_err *e)
{
	struct rbuf r = rbuf_init(body, len);
	*o = (struct bgp_open){0};
	o->version = rbuf_u8(&r);
	o->my_as = rbuf_u16(&r);
	o->hold_time = rbuf_u16(&r);
	o->bgp_id = rbuf_u32(&r);
	uint8_t optlen = rbuf_u8(&r);
	if (r.err)
		return fail(e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN, "OPEN too short");
	if (optlen != rbuf_left(&r))
		return fail(e, BGP_ERR_OPEN, 0, "optional parameters length does not match the message");
	while (rbuf_left(&r) > 0) {
		uint8_t ptype = rbuf_u8(&r);
		uint8_t plen = rbuf_u8(&r);
		struct rbuf p = rbuf_sub(&r, plen);
		if (r.err)
			return fail(e, BGP_ERR_OPEN, 0, "optional parameter past the end");
		if (ptype != 2)
			return fail(e, BGP_ERR_OPEN, BGP_ERR_OPEN_OPT, "unsupported optional parameter");
		if (parse_capabilities(&p, o, e) < 0)
			return -1;
	}
	return 0;
}

uint32_t bgp_msg_open_as(const struct bgp_open *o)
{
	return o->has_as4 ? o->as4 : o->my_as;
}

int bgp_msg_open_check(const struct bgp_open *o, uint32_t remote_as, struct bgp_msg_err *e)
{
	if (o->version != BGP_VERSION)
		return fail16(e, BGP_ERR_OPEN, BGP_ERR_OPEN_VERSION, "unsupported version", BGP_VERSION);
	if (bgp_msg_open_as(o) != remote_as)
		return fail(e, BGP_ERR_OPEN, BGP_ERR_OPEN_AS, "bad peer AS");
	if (o->has_as4 && o->as4 <= 0xffff && o->my_as != o->as4)
		return fail(e, BGP_ERR_OPEN, BGP_ERR_OPEN_AS, "2- and 4-octet AS disagree");
	if (o->hold_time == 1 || o->hold_time == 2)
		return fail(e, BGP_ERR_OPEN, BGP_ERR_OPEN_HOLD, "unacceptable hold time");
	if (o->bgp_id == 0)
		return fail(e, BGP_ERR_OPEN, BGP_ERR_OPEN_ID, "bad BGP identifier");
	return 0;
}

/* ---- UPDATE ---- */

/* A run of prefixes (RFC 4271 4.3): length in bits, then the significant bytes. */
static int parse_prefixes(struct rbuf *r, unsigned maxlen, uint32_t *count)
{
	while (rbuf_left(r) > 0) {
		uint8_t plen = rbuf_u8(r);
		if (plen > maxlen || !rbuf_skip(r, (plen + 7u) / 8u))
			return -1;
		(*count)++;
	}
	return 0;
}

/* AS_PATH / AS4_PATH (RFC 7606 7.2): segments of type 1..4 (set, sequence, confed seq, confed
 * set), each non-empty and within the attribute, no single octet left over. *confed: a
 * confederation segment was seen; *as0: an AS number 0 (RFC 7607). The leftmost-AS check of RFC
 * 4271 6.3 is a MAY and not made: a route server's path does not start with its AS. */
static bool as_path_ok(struct rbuf v, size_t as_size, bool *confed, bool *as0)
{
	*confed = *as0 = false;
	while (rbuf_left(&v) > 0) {
		uint8_t type = rbuf_u8(&v);
		uint8_t count = rbuf_u8(&v);
		if (v.err || type < 1 || type > 4 || count == 0)
			return false;
		if (type >= 3)
			*confed = true;
		for (unsigned i = 0; i < count; i++) {
			uint32_t as = as_size == 4 ? rbuf_u32(&v) : rbuf_u16(&v);
			if (v.err)
				return false;
			if (as == 0)
				*as0 = true;
		}
	}
	return true;
}

static const char *attr_name(uint8_t type)
{
	switch (type) {
	case BGP_ATTR_ORIGIN: return "ORIGIN";
	case BGP_ATTR_AS_PATH: return "AS_PATH";
	case BGP_ATTR_NEXT_HOP: return "NEXT_HOP";
	case BGP_ATTR_MED: return "MULTI_EXIT_DISC";
	case BGP_ATTR_LOCAL_PREF: return "LOCAL_PREF";
	case BGP_ATTR_ATOMIC_AGGREGATE: return "ATOMIC_AGGREGATE";
	case BGP_ATTR_AGGREGATOR: return "AGGREGATOR";
	case BGP_ATTR_COMMUNITIES: return "COMMUNITIES";
	case BGP_ATTR_ORIGINATOR_ID: return "ORIGINATOR_ID";
	case BGP_ATTR_CLUSTER_LIST: return "CLUSTER_LIST";
	case BGP_ATTR_MP_REACH: return "MP_REACH_NLRI";
	case BGP_ATTR_MP_UNREACH: return "MP_UNREACH_NLRI";
	case BGP_ATTR_EXT_COMMUNITIES: return "EXTENDED_COMMUNITIES";
	case BGP_ATTR_AS4_PATH: return "AS4_PATH";
	case BGP_ATTR_AS4_AGGREGATOR: return "AS4_AGGREGATOR";
	case BGP_ATTR_IPV6_EXT_COMMUNITIES: return "IPV6_EXTENDED_COMMUNITIES";
	case BGP_ATTR_LARGE_COMMUNITIES: return "LARGE_COMMUNITY";
	default: return "attribute";
	}
}

const char *bgp_msg_attr_name(uint8_t type)
{
	return attr_name(type);
}

/* The first malformed attribute names the event; later ones only add to it. */
static void taw(struct bgp_update_info *u, uint8_t type, const char *reason)
{
	if (!u->treat_as_withdraw) {
		u->treat_as_withdraw = true;
		u->taw_reason = reason;
		u->taw_attr = type;
	}
}

static void discard(struct bgp_update_info *u, uint8_t type, const char *reason)
{
	if (u->attrs_discarded++ == 0) {
		u->discard_reason = reason;
		u->discard_attr = type;
	}
}

/* RFC 7606 3(c): the Optional and Transitive bits each attribute must carry. 0 = any (unknown). */
static uint8_t attr_ot_bits(uint8_t type)
{
	switch (type) {
	case BGP_ATTR_ORIGIN:
	case BGP_ATTR_AS_PATH:
	case BGP_ATTR_NEXT_HOP:
	case BGP_ATTR_LOCAL_PREF:
	case BGP_ATTR_ATOMIC_AGGREGATE:
		return 0x40; /* well-known */
	case BGP_ATTR_AGGREGATOR:
	case BGP_ATTR_COMMUNITIES:
	case BGP_ATTR_EXT_COMMUNITIES:
	case BGP_ATTR_AS4_PATH:
	case BGP_ATTR_AS4_AGGREGATOR:
	case BGP_ATTR_IPV6_EXT_COMMUNITIES:
	case BGP_ATTR_LARGE_COMMUNITIES:
		return 0xc0; /* optional transitive */
	case BGP_ATTR_MED:
	case BGP_ATTR_ORIGINATOR_ID:
	case BGP_ATTR_CLUSTER_LIST:
	case BGP_ATTR_MP_REACH:
	case BGP_ATTR_MP_UNREACH:
		return 0x80; /* optional non-transitive */
	default:
		return 0;
	}
}

/* RFC 4271 6.3 / RFC 7606 7.3: a NEXT_HOP that cannot be a unicast host address is semantically
 * wrong: 0/8, 127/8, multicast and class E (255.255.255.255 included). */
static bool next_hop_unicast(const uint8_t *a)
{
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

/* RFC 7606 7.11 / RFC 4760 3: the next hop length the AFI/SAFI allows; a wrong one means the NLRI
 * after it cannot be located. Families we do not parse are taken as they come. */
static bool mp_next_hop_len_ok(uint32_t fam, uint8_t nhlen)
{
	if (fam == BGP_FAM_IPV4_UNICAST)
		return nhlen == 4 || nhlen == 16 || nhlen == 32; /* RFC 8950 next hops too */
	if (fam == BGP_FAM_IPV6_UNICAST)
		return nhlen == 16 || nhlen == 32; /* global, or global + link-local */
	return true;
}

/* MP_REACH_NLRI / MP_UNREACH_NLRI. Their NLRI are what treat-as-withdraw withdraws, so they must
 * be read whole (RFC 7606 3(j), 5.3, 7.11): anything that keeps them from being located or read
 * is an error for the session, UPDATE Message Error / Optional Attribute Error (RFC 4760 7).
 * RFC 4760's AFI/SAFI disable is not offered: Rampart installs no received routes, so a session
 * reset loses nothing of the peer's and keeps the state simple. */
static int parse_mp(struct rbuf v, bool reach, struct bgp_update_info *u, struct bgp_msg_err *e)
{
	uint16_t afi = rbuf_u16(&v);
	uint8_t safi = rbuf_u8(&v);
	uint32_t fam = bgp_msg_family(afi, safi);
	if (reach) {
		uint8_t nhlen = rbuf_u8(&v);
		rbuf_skip(&v, nhlen);
		rbuf_u8(&v); /* reserved: ignored (RFC 4760 3) */
		if (!v.err && !mp_next_hop_len_ok(fam, nhlen))
			return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR,
				    "MP_REACH_NLRI next hop length wrong for its AFI/SAFI");
	}
	if (v.err)
		return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR,
			    reach ? "MP_REACH_NLRI truncated" : "MP_UNREACH_NLRI truncated");
	if (fam & (BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC)) {
		/* every rule is decoded: one we cannot read cannot be withdrawn either, so a bad one
		 * is an error for the session (RFC 7606 5.4 / RFC 8955 10), not treat-as-withdraw */
		uint32_t n = 0;
		while (rbuf_left(&v) > 0) {
			struct fs_rule r;
			struct fs_err fe;
			if (!fs_nlri_decode(&v, afi == BGP_AFI_IPV4 ? FS_AFI_IPV4 : FS_AFI_IPV6, &r, &fe))
				return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR, "bad FlowSpec NLRI");
			n++;
		}
		u->flows += n;
		if (reach)
			u->announced += n;
		else
			u->withdrawn += n;
		return 0;
	}
	if (!(fam & (BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST))) {
		/* a family we did not negotiate or do not parse: its NLRI are not ours to count */
		return 0;
	}
	uint32_t n = 0;
	if (parse_prefixes(&v, afi == BGP_AFI_IPV4 ? 32 : 128, &n) < 0)
		return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR, "bad prefix in MP NLRI");
	if (reach)
		u->announced += n;
	else
		u->withdrawn += n;
	return 0;
}

/* One recognised attribute's own rule (RFC 7606 7, RFC 6793 6, RFC 7607, RFC 8092 6), its
 * flags already checked. Returns -1 only for the MP attributes (session reset). */
static int check_attr(const struct bgp_update_ctx *c, uint8_t type, struct rbuf v, size_t vlen,
		      struct bgp_update_info *u, struct bgp_msg_err *e)
{
	bool confed, as0;
	switch (type) {
	case BGP_ATTR_ORIGIN: /* 7.1 */
		if (vlen != 1)
			taw(u, type, "ORIGIN length is not 1");
		else if (rbuf_u8(&v) > 2)
			taw(u, type, "ORIGIN value undefined");
		break;
	case BGP_ATTR_AS_PATH: /* 7.2 */
		if (!as_path_ok(v, c->as4 ? 4 : 2, &confed, &as0))
			taw(u, type, "malformed AS_PATH");
		else if (as0)
			taw(u, type, "AS_PATH holds AS 0 (RFC 7607)");
		else if (confed && c->ebgp)
			taw(u, type, "AS_PATH confederation segment from an external peer (RFC 5065)");
		break;
	case BGP_ATTR_NEXT_HOP: /* 7.3 */
		if (vlen != 4)
			taw(u, type, "NEXT_HOP length is not 4");
		else if (!next_hop_unicast(v.p + v.off))
			taw(u, type, "NEXT_HOP is not a unicast address");
		break;
	case BGP_ATTR_MED: /* 7.4 */
		if (vlen != 4)
			taw(u, type, "MULTI_EXIT_DISC length is not 4");
		break;
	case BGP_ATTR_LOCAL_PREF: /* 7.5 */
		if (c->ebgp)
			discard(u, type, "LOCAL_PREF from an external peer");
		else if (vlen != 4)
			taw(u, type, "LOCAL_PREF length is not 4");
		break;
	case BGP_ATTR_ATOMIC_AGGREGATE: /* 7.6 */
		if (vlen != 0)
			discard(u, type, "ATOMIC_AGGREGATE length is not 0");
		break;
	case BGP_ATTR_AGGREGATOR: /* 7.7, RFC 7607 */
		if (vlen != (c->as4 ? 8u : 6u))
			discard(u, type, "AGGREGATOR length wrong for the session's AS size");
		else if ((c->as4 ? rbuf_u32(&v) : rbuf_u16(&v)) == 0)
			discard(u, type, "AGGREGATOR AS 0 (RFC 7607)");
		break;
	case BGP_ATTR_COMMUNITIES: /* 7.8 */
		if (vlen == 0 || vlen % 4 != 0)
			taw(u, type, "COMMUNITIES length is not a non-zero multiple of 4");
		break;
	case BGP_ATTR_ORIGINATOR_ID: /* 7.9 */
		if (c->ebgp)
			discard(u, type, "ORIGINATOR_ID from an external peer");
		else if (vlen != 4)
			taw(u, type, "ORIGINATOR_ID length is not 4");
		break;
	case BGP_ATTR_CLUSTER_LIST: /* 7.10 */
		if (c->ebgp)
			discard(u, type, "CLUSTER_LIST from an external peer");
		else if (vlen == 0 || vlen % 4 != 0)
			taw(u, type, "CLUSTER_LIST length is not a non-zero multiple of 4");
		break;
	case BGP_ATTR_MP_REACH: /* 7.11 */
	case BGP_ATTR_MP_UNREACH: /* 7.12 */
		return parse_mp(v, type == BGP_ATTR_MP_REACH, u, e);
	case BGP_ATTR_EXT_COMMUNITIES: /* 7.14 */
		if (vlen == 0 || vlen % 8 != 0)
			taw(u, type, "EXTENDED_COMMUNITIES length is not a non-zero multiple of 8");
		break;
	case BGP_ATTR_IPV6_EXT_COMMUNITIES: /* 7.15 on RFC 5701; what they say is flowspec/'s business */
		if (vlen == 0 || vlen % 20 != 0)
			taw(u, type, "IPV6_EXTENDED_COMMUNITIES length is not a non-zero multiple of 20");
		break;
	case BGP_ATTR_LARGE_COMMUNITIES: /* RFC 8092 6 */
		if (vlen == 0 || vlen % 12 != 0)
			taw(u, type, "LARGE_COMMUNITY length is not a non-zero multiple of 12");
		break;
	case BGP_ATTR_AS4_PATH: /* RFC 6793 6: malformed is discarded; a NEW speaker ignores it */
		if (c->as4)
			discard(u, type, "AS4_PATH on a 4-octet AS session");
		else if (!as_path_ok(v, 4, &confed, &as0))
			discard(u, type, "malformed AS4_PATH");
		else if (as0)
			discard(u, type, "AS4_PATH holds AS 0 (RFC 7607)");
		break;
	case BGP_ATTR_AS4_AGGREGATOR: /* RFC 6793 6 */
		if (c->as4)
			discard(u, type, "AS4_AGGREGATOR on a 4-octet AS session");
		else if (vlen != 8)
			discard(u, type, "AS4_AGGREGATOR length is not 8");
		else if (rbuf_u32(&v) == 0)
			discard(u, type, "AS4_AGGREGATOR AS 0 (RFC 7607)");
		break;
	default: /* unrecognised: optional ones pass or are dropped per RFC 4271 5; none is ours */
		break;
	}
	return 0;
}

int bgp_msg_update_decode(const uint8_t *body, size_t len, bool as4, struct bgp_update_info *u,
			  struct bgp_msg_err *e)
{
	struct bgp_update_ctx c = {.as4 = as4};
	return bgp_msg_update_decode_ctx(body, len, &c, u, e);
}

int bgp_msg_update_decode_ctx(const uint8_t *body, size_t len, const struct bgp_update_ctx *c,
			      struct bgp_update_info *u, struct bgp_msg_err *e)
{
	struct rbuf r = rbuf_init(body, len);
	*u = (struct bgp_update_info){0};

	/* RFC 7606 4: the two outer lengths must fit the message, or nothing after them can be
	 * located: session reset with Malformed Attribute List (RFC 4271 6.3) */
	uint16_t wlen = rbuf_u16(&r);
	struct rbuf wd = rbuf_sub(&r, wlen);
	if (r.err)
		return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST, "withdrawn routes length past the end");
	uint16_t alen = rbuf_u16(&r);
	struct rbuf attrs = rbuf_sub(&r, alen);
	if (r.err)
		return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST, "path attribute length past the end");
	struct rbuf nlri = rbuf_sub(&r, rbuf_left(&r));

	/* RFC 7606 5.3: a withdrawn route or NLRI that cannot be read cannot be withdrawn either */
	if (parse_prefixes(&wd, 32, &u->withdrawn) < 0)
		return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_NETWORK, "bad withdrawn prefix");

	uint8_t seen[32] = {0};
	bool mp_only_unreach = alen > 0;
	while (rbuf_left(&attrs) > 0) {
		/* RFC 7606 4: fewer than 3 octets (4 with the Extended Length bit) for a header, or a
		 * length past the path attributes: treat-as-withdraw, the rest of the attributes
		 * unread; the Total Path Attribute Length still locates the NLRI */
		uint8_t flags = rbuf_u8(&attrs);
		uint8_t type = rbuf_u8(&attrs);
		size_t vlen = (flags & 0x10) ? rbuf_u16(&attrs) : rbuf_u8(&attrs);
		if (attrs.err) {
			taw(u, type, "attribute header truncated (RFC 7606 4)");
			mp_only_unreach = false;
			break;
		}
		struct rbuf v = rbuf_sub(&attrs, vlen);
		if (attrs.err) {
			taw(u, type, "attribute length past the path attributes (RFC 7606 4)");
			mp_only_unreach = false;
			break;
		}
		u->n_attrs++;
		bool dup = seen[type / 8] & (1u << (type % 8));
		seen[type / 8] |= (uint8_t)(1u << (type % 8));
		if (dup) {
			/* RFC 7606 3(g): a second MP attribute is an error; of others the first counts */
			if (type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH)
				return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST, "repeated MP attribute");
			discard(u, type, "repeated attribute (RFC 7606 3(g))");
			continue;
		}
		if (type != BGP_ATTR_MP_UNREACH)
			mp_only_unreach = false;
		uint8_t ot = attr_ot_bits(type);
		if (ot && (flags & 0xc0) != ot) {
			/* RFC 7606 3(c); the AS4_* attributes' own rule is discard (RFC 6793 6); the MP
			 * attributes are still read, their NLRI being what is withdrawn */
			if (type == BGP_ATTR_AS4_PATH || type == BGP_ATTR_AS4_AGGREGATOR) {
				discard(u, type, "attribute flags wrong for its type");
				continue;
			}
			taw(u, type, "attribute flags wrong for its type (RFC 7606 3(c))");
			if (type != BGP_ATTR_MP_REACH && type != BGP_ATTR_MP_UNREACH)
				continue;
		}
		if (check_attr(c, type, v, vlen, u, e) < 0)
			return -1;
	}

	uint32_t classic = 0;
	if (parse_prefixes(&nlri, 32, &classic) < 0)
		return fail(e, BGP_ERR_UPDATE, BGP_ERR_UPD_NETWORK, "bad NLRI prefix");
	u->announced += classic;

#define SEEN(t) (seen[(t) / 8] & (1u << ((t) % 8)))
	/* RFC 7606 3(d): a missing well-known mandatory attribute, where NLRI need it */
	if (classic > 0 && !(SEEN(BGP_ATTR_ORIGIN) && SEEN(BGP_ATTR_AS_PATH) && SEEN(BGP_ATTR_NEXT_HOP)))
		taw(u, 0, "missing well-known attribute");
	if (SEEN(BGP_ATTR_MP_REACH) && !(SEEN(BGP_ATTR_ORIGIN) && SEEN(BGP_ATTR_AS_PATH)))
		taw(u, 0, "missing well-known attribute");
	/* RFC 7606 5.2: path attributes with no NLRI anywhere (End-of-RIB aside) */
	if (u->n_attrs > 0 && classic == 0 && wlen == 0 && !SEEN(BGP_ATTR_MP_REACH) &&
	    !SEEN(BGP_ATTR_MP_UNREACH))
		taw(u, 0, "path attributes without NLRI (RFC 7606 5.2)");
#undef SEEN
	if (u->treat_as_withdraw) {
		u->withdrawn += u->announced;
		u->announced = 0;
	}
	u->end_of_rib = (wlen == 0 && alen == 0 && classic == 0) ||
			(mp_only_unreach && u->n_attrs == 1 && u->withdrawn == 0 && classic == 0);
	return 0;
}

int bgp_msg_notification_decode(const uint8_t *body, size_t len, struct bgp_notification *n,
				struct bgp_msg_err *e)
{
	if (len < 2)
		return fail(e, BGP_ERR_HEADER, BGP_ERR_HDR_LEN, "NOTIFICATION too short");
	n->code = body[0];
	n->subcode = body[1];
	n->data = body + 2;
	n->data_len = len - 2;
	return 0;
}

int bgp_msg_route_refresh_decode(const uint8_t *body, size_t len, uint16_t *afi, uint8_t *safi,
				 struct bgp_msg_err *e)
{
	uint8_t sub;
	return bgp_msg_route_refresh_decode_sub(body, len, afi, safi, &sub, e);
}

int bgp_msg_route_refresh_decode_sub(const uint8_t *body, size_t len, uint16_t *afi, uint8_t *safi,
				     uint8_t *subtype, struct bgp_msg_err *e)
{
	struct rbuf r = rbuf_init(body, len);
	*afi = rbuf_u16(&r);
	*subtype = rbuf_u8(&r);
	*safi = rbuf_u8(&r);
	if (len >= 3 && *subtype > BGP_RR_EORR)
		return 0; /* RFC 7313 5: an unknown subtype is ignored, length and all */
	if (r.err || rbuf_left(&r) != 0)
		return fail(e, BGP_ERR_ROUTE_REFRESH, BGP_ERR_RR_LEN, "bad ROUTE-REFRESH length");
	return 0;
}

const char *bgp_msg_err_name(uint8_t code)
{
	switch (code) {
	case BGP_ERR_HEADER: return "Message Header Error";
	case BGP_ERR_OPEN: return "OPEN Message Error";
	case BGP_ERR_UPDATE: return "UPDATE Message Error";
	case BGP_ERR_HOLD: return "Hold Timer Expired";
	case BGP_ERR_FSM: return "Finite State Machine Error";
	case BGP_ERR_CEASE: return "Cease";
	case BGP_ERR_ROUTE_REFRESH: return "ROUTE-REFRESH Message Error";
	default: return "unknown error";
	}
}
