/* bgp/msg: the BGP-4 wire codec (RFC 4271, 4760, 6793, 2918, 7606). Private to bgp/.
 *
 * Decoders take the outside bytes once, validate every length against its container, and on a
 * violation fill a bgp_msg_err with the NOTIFICATION code/subcode the session must send. Encoders
 * write through a wbuf bounded by BGP_MSG_MAX, so a message can never exceed what a peer accepts. */
#ifndef RAMPART_BGP_MSG_H
#define RAMPART_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../lib/ip.h"

#define BGP_HDR_LEN 19
#define BGP_MSG_MAX 4096
#define BGP_MSG_EXT_MAX 65535 /* RFC 8654, once both sides have the capability */
#define BGP_VERSION 4
#define BGP_AS_TRANS 23456

enum bgp_msg_type {
	BGP_MSG_OPEN = 1,
	BGP_MSG_UPDATE = 2,
	BGP_MSG_NOTIFICATION = 3,
	BGP_MSG_KEEPALIVE = 4,
	BGP_MSG_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes and the subcodes we use (RFC 4271 section 4.5) */
#define BGP_ERR_HEADER 1
#define BGP_ERR_HDR_SYNC 1
#define BGP_ERR_HDR_LEN 2
#define BGP_ERR_HDR_TYPE 3
#define BGP_ERR_OPEN 2
#define BGP_ERR_OPEN_VERSION 1
#define BGP_ERR_OPEN_AS 2
#define BGP_ERR_OPEN_ID 3
#define BGP_ERR_OPEN_OPT 4
#define BGP_ERR_OPEN_HOLD 6
#define BGP_ERR_UPDATE 3
#define BGP_ERR_UPD_ATTRLIST 1
#define BGP_ERR_UPD_ATTRLEN 5
#define BGP_ERR_UPD_NETWORK 10
#define BGP_ERR_UPD_OPTATTR 9
#define BGP_ERR_HOLD 4
#define BGP_ERR_FSM 5
#define BGP_ERR_CEASE 6
#define BGP_ERR_CEASE_SHUTDOWN 2
#define BGP_ERR_CEASE_DECONFIGURED 3 /* RFC 4486: Peer De-configured */
#define BGP_ERR_CEASE_CONN_REJECTED 5
#define BGP_ERR_CEASE_CONFIG_CHANGE 6 /* RFC 4486: Other Configuration Change */
#define BGP_ERR_ROUTE_REFRESH 7 /* RFC 7313 5 */
#define BGP_ERR_RR_LEN 1        /* Invalid Message Length */

/* path attribute type codes */
#define BGP_ATTR_ORIGIN 1
#define BGP_ATTR_AS_PATH 2
#define BGP_ATTR_NEXT_HOP 3
#define BGP_ATTR_MED 4
#define BGP_ATTR_LOCAL_PREF 5
#define BGP_ATTR_ATOMIC_AGGREGATE 6
#define BGP_ATTR_AGGREGATOR 7
#define BGP_ATTR_COMMUNITIES 8
#define BGP_ATTR_ORIGINATOR_ID 9
#define BGP_ATTR_CLUSTER_LIST 10
#define BGP_ATTR_EXT_COMMUNITIES 16
#define BGP_ATTR_LARGE_COMMUNITIES 32
#define BGP_ATTR_MP_REACH 14
#define BGP_ATTR_MP_UNREACH 15
#define BGP_ATTR_AS4_PATH 17
#define BGP_ATTR_AS4_AGGREGATOR 18
#define BGP_ATTR_IPV6_EXT_COMMUNITIES 25 /* RFC 5701: 20-octet IPv6-address-specific communities */

#define BGP_AFI_IPV4 1
#define BGP_AFI_IPV6 2
#define BGP_SAFI_UNICAST 1
#define BGP_SAFI_FLOWSPEC 133

struct bgp_msg_err {
	uint8_t code;
	uint8_t subcode;
	const char *reason; /* static text for the log */
	uint8_t data[4];    /* NOTIFICATION data: the offending field, where RFC 4271 asks for it */
	size_t data_len;
};

/* Validates the 19-byte header: marker, length (19..4096 and the type's own minimum), type.
 * p must hold at least BGP_HDR_LEN bytes. */
int bgp_msg_header(const uint8_t *p, uint8_t *type, uint16_t *len, struct bgp_msg_err *e);
/* The same on a session that negotiated extended messages (RFC 8654): UPDATE and NOTIFICATION
 * may then be up to 65535 bytes; OPEN and KEEPALIVE stay within 4096. */
int bgp_msg_header_ext(const uint8_t *p, bool ext, uint8_t *type, uint16_t *len, struct bgp_msg_err *e);

/* BGP_FAM_* of an AFI/SAFI pair, 0 when we do not know it. */
uint32_t bgp_msg_family(uint16_t afi, uint8_t safi);
void bgp_msg_family_afi(uint32_t fam, uint16_t *afi, uint8_t *safi);

struct bgp_open {
	uint8_t version;
	uint16_t my_as;     /* the 2-byte field */
	uint16_t hold_time;
	uint32_t bgp_id;
	uint32_t as4;       /* from the 4-byte ASN capability, when has_as4 */
	bool has_as4;
	bool has_mp;        /* any multiprotocol capability */
	uint32_t families;  /* BGP_FAM_* of the multiprotocol capabilities we know */
	bool route_refresh;
	bool has_gr;          /* graceful restart capability (RFC 4724) */
	bool gr_restarting;   /* its Restart State bit */
	uint16_t gr_time;     /* seconds, 12 bits */
	uint32_t gr_families; /* BGP_FAM_* whose forwarding state the peer kept */
	bool ext_msg;         /* extended messages (RFC 8654) */
	bool enhanced_rr;     /* enhanced route refresh (RFC 7313) */
	/* Extended Next Hop (RFC 8950, capability 5): the peer takes IPv4 unicast NLRI with an
	 * IPv6 next hop (a tuple AFI 1, SAFI 1, next hop AFI 2) */
	bool ext_nh_v4;
};

/* body: the message after the header */
int bgp_msg_open_decode(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_msg_err *e);
/* The OPEN's content against what we expect of this peer: version, AS, hold time, router id. */
int bgp_msg_open_check(const struct bgp_open *o, uint32_t remote_as, struct bgp_msg_err *e);
/* The peer's AS: the 4-byte capability when present, else the 2-byte field. */
uint32_t bgp_msg_open_as(const struct bgp_open *o);

/* What an UPDATE held. We do not install routes; this is what we count and log. */
struct bgp_update_info {
	uint32_t withdrawn;     /* prefixes, classic + MP_UNREACH (FlowSpec rules included) */
	uint32_t announced;     /* prefixes, classic + MP_REACH (FlowSpec rules included) */
	uint32_t flows;         /* of those, FlowSpec rules (each decoded and validated) */
	uint32_t n_attrs;
	bool end_of_rib;
	bool treat_as_withdraw; /* RFC 7606: a malformed attribute made the NLRI withdrawals */
	const char *taw_reason;
	uint8_t taw_attr;       /* the attribute type that caused it; 0 = none in particular */
	uint32_t attrs_discarded; /* RFC 7606 "attribute discard": attributes ignored, UPDATE kept */
	const char *discard_reason; /* of the first one */
	uint8_t discard_attr;
};

/* What the decoder must know of the session to apply RFC 7606 7 */
struct bgp_update_ctx {
	bool as4;  /* the session negotiated 4-byte AS numbers (AS_PATH carries 4-byte ASNs) */
	bool ebgp; /* an external peer: LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST are discarded and
		    * confederation segments make AS_PATH malformed */
};

/* Decodes one UPDATE body. -1 with e filled: the session must be reset (NOTIFICATION e); 0: the
 * UPDATE stands, maybe treat-as-withdraw (u->treat_as_withdraw) or with attributes discarded
 * (u->attrs_discarded), as RFC 7606 prescribes per case (docs/BGP.md has the table). */
int bgp_msg_update_decode_ctx(const uint8_t *body, size_t len, const struct bgp_update_ctx *c,
			      struct bgp_update_info *u, struct bgp_msg_err *e);
/* The same for an internal peer with the given AS size. */
int bgp_msg_update_decode(const uint8_t *body, size_t len, bool as4, struct bgp_update_info *u,
			  struct bgp_msg_err *e);
/* "ORIGIN", "AS_PATH", ... for logs; "attribute" for a type we do not know. */
const char *bgp_msg_attr_name(uint8_t type);

struct bgp_notification {
	uint8_t code;
	uint8_t subcode;
	const uint8_t *data;
	size_t data_len;
};
int bgp_msg_notification_decode(const uint8_t *body, size_t len, struct bgp_notification *n,
				struct bgp_msg_err *e);
int bgp_msg_route_refresh_decode(const uint8_t *body, size_t len, uint16_t *afi, uint8_t *safi,
				 struct bgp_msg_err *e);
/* The same with the RFC 7313 message subtype (BGP_RR_*; other values are to be ignored). A body
 * other than 4 octets is ROUTE-REFRESH Message Error / Invalid Message Length (7/1, RFC 7313 5),
 * except for an unknown subtype, which is returned (and ignored by the caller) whatever its length.
 * The NOTIFICATION's data is the whole message (RFC 7313 5): the caller has it, e carries none. */
int bgp_msg_route_refresh_decode_sub(const uint8_t *body, size_t len, uint16_t *afi, uint8_t *safi,
				     uint8_t *subtype, struct bgp_msg_err *e);
/* "Hold Timer Expired", "Cease" ... for logs */
const char *bgp_msg_err_name(uint8_t code);

/* Encoders: each writes one whole message (header included) and returns its length, 0 on
 * overflow of w. */
size_t bgp_msg_keepalive(struct wbuf *w);
size_t bgp_msg_notification(struct wbuf *w, uint8_t code, uint8_t subcode, const void *data,
			    size_t data_len);
/* gr_time: advertise graceful restart (RFC 4724) with this restart time (12 bits) and the
 * forwarding-state bit for every family; 0 = no graceful restart capability. */
size_t bgp_msg_open(struct wbuf *w, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
		    uint32_t families, uint16_t gr_time);
/* The same with the graceful restart Restart State bit (RFC 4724 3) set when restarting. */
size_t bgp_msg_open_gr(struct wbuf *w, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
		       uint32_t families, uint16_t gr_time, bool restarting);
/* The same with the Extended Next Hop capability (RFC 8950) for IPv4 unicast over an IPv6 next
 * hop when ext_nh and families has IPv4 unicast: we accept such routes from the peer. */
size_t bgp_msg_open_ext(struct wbuf *w, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
			uint32_t families, uint16_t gr_time, bool restarting, bool ext_nh);
size_t bgp_msg_route_refresh(struct wbuf *w, uint16_t afi, uint8_t safi);
/* RFC 7313: subtype 0 a request, 1 Beginning of Route Refresh, 2 End of Route Refresh */
#define BGP_RR_REQUEST 0
#define BGP_RR_BORR 1
#define BGP_RR_EORR 2
size_t bgp_msg_route_refresh_sub(struct wbuf *w, uint16_t afi, uint8_t safi, uint8_t subtype);
size_t bgp_msg_end_of_rib(struct wbuf *w, uint32_t family);

/* The attributes of one UPDATE, resolved for one session. */
struct bgp_attr_enc {
	bool ebgp;
	bool as4;           /* both sides have the 4-byte ASN capability */
	uint32_t local_as;
	ip_addr next_hop;   /* an IPv4 (mapped) for IPv4 prefixes, or an IPv6 one on a session with
			     * Extended Next Hop (RFC 8950: the NLRI go in MP_REACH); any for IPv6
			     * (mapped is sent as is) */
	uint32_t local_pref;
	uint32_t med;
	bool has_med;
	const uint32_t *communities;
	size_t n_communities;
	const uint8_t *ext_communities; /* 8 octets each, already encoded (RFC 4360) */
	size_t n_ext_communities;
	const uint32_t (*large_communities)[3]; /* RFC 8092: global, local 1, local 2 */
	size_t n_large_communities;
	/* the rest of struct bgp_route_attrs; NULL = ORIGIN IGP and our AS as the whole path */
	const struct bgp_route_attrs *more;
	/* RFC 5701, attribute 25 (FlowSpec redirect to IPv6, rt-redirect-ipv6): 20 octets each,
	 * already encoded; sent with FlowSpec routes only */
	const uint8_t *ipv6_ext_communities;
	size_t n_ipv6_ext_communities;
};

/* An UPDATE being packed: announcements of one family sharing one attribute set, or withdrawals
 * of one family. Prefixes are added until the next one would not fit in max: BGP_MSG_MAX after
 * begin, up to BGP_MSG_EXT_MAX with bgp_msg_upd_set_max on a session with extended messages. */
struct bgp_upd {
	uint8_t buf[BGP_MSG_EXT_MAX];
	size_t max;
	struct wbuf w;
	bool v6;         /* the NLRI ride in MP_(UN)REACH (IPv6 or FlowSpec), not in the classic fields */
	bool v4_in_mp;   /* IPv4 NLRI in MP_REACH (an IPv6 next hop, RFC 8950) */
	bool withdraw;
	size_t len_at;   /* the field whose length grows with each prefix */
	size_t len_base; /* where that field's content starts */
	size_t attr_at;  /* total path attribute length, when MP carries the NLRI */
	size_t attr_base;
	size_t n;        /* prefixes so far */
};

int bgp_msg_upd_begin_announce(struct bgp_upd *u, bool v6, const struct bgp_attr_enc *a);
void bgp_msg_upd_begin_withdraw(struct bgp_upd *u, bool v6);
/* false when the prefix does not fit: finish this message and begin another */
bool bgp_msg_upd_add(struct bgp_upd *u, const ip_prefix *p);
/* FlowSpec (AFI 1/2, SAFI 133): MP_REACH with a zero-length next hop and the actions as extended
 * communities in a->ext_communities (a->next_hop is ignored), or MP_UNREACH. */
int bgp_msg_upd_begin_flow(struct bgp_upd *u, uint16_t afi, bool withdraw, const struct bgp_attr_enc *a);
/* Appends one already encoded NLRI (a FlowSpec rule with its length prefix); false when it does
 * not fit. */
bool bgp_msg_upd_add_raw(struct bgp_upd *u, const uint8_t *nlri, size_t len);
/* After a begin: the largest message to build (BGP_MSG_MAX..BGP_MSG_EXT_MAX). */
void bgp_msg_upd_set_max(struct bgp_upd *u, size_t max);
/* Fills in the lengths; returns the message length. */
size_t bgp_msg_upd_finish(struct bgp_upd *u);

#endif
