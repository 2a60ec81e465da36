/* FlowSpec rules (RFC 8955 for IPv4, RFC 8956 for IPv6): the model, its wire codec, its actions
 * as extended communities, and its text form.
 *
 * A rule is a set of components, each at most once. Prefix components hold a prefix (and, for
 * IPv6, a bit offset); every other component is a list of operator terms: terms joined by AND
 * form a group, groups are ORed, as on the wire. Encoding is canonical (the smallest value width,
 * the first term's AND bit clear, reserved bits zero, types in increasing order), so
 * decode(encode(r)) equals r (compare with fs_rule_equal()) and encode(decode(b)) is b whenever b
 * was canonical. Decode also takes what the RFCs allow but we never send (a wider value than
 * needed, the "true"/"false" operators); encode refuses the latter. */
#ifndef RAMPART_FLOWSPEC_FS_H
#define RAMPART_FLOWSPEC_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/ip.h"

enum fs_afi { FS_AFI_IPV4 = 1, FS_AFI_IPV6 = 2 };
#define FS_SAFI 133

enum fs_type {
	FS_DST = 1,
	FS_SRC = 2,
	FS_PROTO = 3, /* IPv6: upper-layer protocol (next header) */
	FS_PORT = 4,
	FS_DPORT = 5,
	FS_SPORT = 6,
	FS_ICMP_TYPE = 7,
	FS_ICMP_CODE = 8,
	FS_TCP_FLAGS = 9, /* bitmask */
	FS_PKT_LEN = 10,
	FS_DSCP = 11,
	FS_FRAGMENT = 12, /* bitmask */
	FS_FLOW_LABEL = 13, /* IPv6 only */
	FS_TYPE_MAX = 13,
};

/* Operator bits as on the wire (the end-of-list and length bits are the codec's business). */
#define FS_OP_AND 0x40
#define FS_OP_LT 0x04 /* numeric */
#define FS_OP_GT 0x02
#define FS_OP_EQ 0x01
#define FS_OP_NOT 0x02 /* bitmask: negate */
#define FS_OP_MATCH 0x01 /* bitmask: all bits of value set, else any */

/* TCP flags (low byte of the 2-octet field) and fragment bits. */
#define FS_TCP_FIN 0x01
#define FS_TCP_SYN 0x02
#define FS_TCP_RST 0x04
#define FS_TCP_PSH 0x08
#define FS_TCP_ACK 0x10
#define FS_TCP_URG 0x20
#define FS_TCP_ECE 0x40
#define FS_TCP_CWR 0x80
#define FS_FRAG_DF 0x01 /* IPv4 only */
#define FS_FRAG_ISF 0x02
#define FS_FRAG_FF 0x04
#define FS_FRAG_LF 0x08

#define FS_MAX_TERMS 16   /* per component; more is refused (a rule, not a program) */
#define FS_NLRI_MAX 4095  /* longest NLRI value the 2-octet length can carry */

struct fs_term {
	uint8_t op;     /* FS_OP_AND | (LT|GT|EQ, or NOT|MATCH) */
	uint32_t value; /* widest component is the 20-bit flow label */
};

struct fs_list {
	uint8_t n;
	struct fs_term t[FS_MAX_TERMS];
};

struct fs_prefix {
	ip_prefix p;    /* IPv4-mapped for IPv4 rules; len in the family's own bits */
	uint8_t offset; /* IPv6 only: bits before it are not matched and are kept zero */
};

struct fs_rule {
	uint8_t afi;      /* enum fs_afi */
	uint16_t present; /* bit (1 << type) for each component present */
	struct fs_prefix dst, src;
	struct fs_list c[FS_TYPE_MAX + 1]; /* indexed by type, FS_PROTO..FS_FLOW_LABEL */
};

/* Errors say what was wrong and where; every function that can fail takes one (or NULL). */
struct fs_err {
	char msg[160];
};

void fs_rule_init(struct fs_rule *r, enum fs_afi afi);
bool fs_rule_equal(const struct fs_rule *a, const struct fs_rule *b);
bool fs_rule_has(const struct fs_rule *r, enum fs_type t);
bool fs_type_is_bitmask(enum fs_type t);
/* Appends one term to a list component (marks it present); false if the list is full. */
bool fs_rule_add(struct fs_rule *r, enum fs_type t, uint8_t op, uint32_t value);

/* --- NLRI (nlri.c) --- */

/* Writes one NLRI, length prefix included. The rule is checked first (components valid for the
 * family, values in range, no true/false operators, not empty): false and nothing useful in w
 * on a bad rule or when w is full (w->err). */
bool fs_nlri_encode(const struct fs_rule *r, struct wbuf *w, struct fs_err *err);
/* Reads one NLRI, length prefix included, from r (an MP_REACH/MP_UNREACH NLRI field holds several
 * back to back). Everything is validated; false with the reason and offset in err. */
bool fs_nlri_decode(struct rbuf *r, enum fs_afi afi, struct fs_rule *out, struct fs_err *err);

/* --- actions as extended communities (actions.c) --- */

enum fs_redirect_form { FS_RT_AS2 = 0, FS_RT_IPV4 = 1, FS_RT_AS4 = 2 }; /* 0x8008/0x8108/0x8208 */

#define FS_ACT_RATE (1u << 0)       /* 0x8006 traffic-rate-bytes, rate 0 = discard */
#define FS_ACT_RATE_PKTS (1u << 1)  /* 0x800c traffic-rate-packets */
#define FS_ACT_ACTION (1u << 2)     /* 0x8007 traffic-action */
#define FS_ACT_REDIRECT (1u << 3)   /* 0x8008 / 0x8108 / 0x8208 redirect to VRF (route target) */
#define FS_ACT_MARK (1u << 4)       /* 0x8009 traffic-marking (DSCP) */
/* 0x010c redirect to an IPv4 next hop (draft-ietf-idr-flowspec-redirect, ExaBGP's
 * redirect-to-nexthop-ietf / copy-to-nexthop-ietf; FRR's "redirect IP"): an IPv4-address-specific
 * extended community carrying the address and a copy flag. */
#define FS_ACT_REDIRECT_IP (1u << 5)
/* The two IPv6 actions are IPv6-address-specific extended communities (RFC 5701: 20 octets, path
 * attribute 25, IPV6_EXTENDED_COMMUNITIES), written by fs_actions_encode6, read by
 * fs_actions_decode6; fs_actions_encode/decode never touch them.
 * 0x000c redirect to an IPv6 next hop (draft-ietf-idr-flowspec-redirect; ExaBGP's
 * redirect-to-nexthop-ietf IPv6): the address and the copy flag, as 0x010c for IPv4. */
#define FS_ACT_REDIRECT_IP6 (1u << 6)
/* 0x000d rt-redirect-ipv6 (RFC 8956 6.1): redirect to the VRF of an IPv6 route target,
 * global administrator an IPv6 address, local administrator 2 octets. */
#define FS_ACT_REDIRECT6 (1u << 7)
#define FS_ACTS_IPV6 (FS_ACT_REDIRECT_IP6 | FS_ACT_REDIRECT6)
/* 0x0800 redirect to the rule's next hop (draft-simpson-idr-flowspec-redirect, ExaBGP's
 * `redirect IPv4` / `copy IPv4`): the community carries only the copy flag (its last bit), the
 * address rides as the MP_REACH_NLRI next hop (fs_actions.redirect_nh). */
#define FS_ACT_REDIRECT_NH (1u << 8)

#define FS_EXTRA_MAX 8 /* communities / extended communities sent as given with a rule */

#define FS_ACTION_TERMINAL 0x01
#define FS_ACTION_SAMPLE 0x02

struct fs_actions {
	uint32_t present;
	float rate;        /* bytes/s */
	float rate_pkts;   /* packets/s */
	uint16_t rate_id;  /* the 2-octet "AS" / rate-limiter id of both rate forms, usually 0 */
	uint8_t action;    /* FS_ACTION_* */
	uint8_t rt_form;   /* enum fs_redirect_form */
	uint32_t rt_global; /* AS or IPv4 (host order) */
	uint32_t rt_local;
	uint8_t dscp;
	uint32_t redirect_ip; /* IPv4, host order */
	bool redirect_copy;   /* copy to the next hop instead of redirecting */
	uint8_t redirect_ip6[16]; /* FS_ACT_REDIRECT_IP6: a real IPv6 address, never IPv4-mapped */
	bool redirect6_copy;
	uint8_t rt6_global[16];   /* FS_ACT_REDIRECT6: never IPv4-mapped */
	uint16_t rt6_local;
	ip_addr redirect_nh;      /* FS_ACT_REDIRECT_NH: IPv4 (mapped), the MP_REACH next hop */
	bool redirect_nh_copy;
	/* ExaBGP's `then { community [...]; extended-community [...]; }`: not actions, attributes of
	 * the route. The communities go in COMMUNITIES; the extended ones after the actions' in
	 * EXTENDED_COMMUNITIES, as given (a receiver may take one for an action: ExaBGP writes
	 * redirect:AS:N that way). fs_actions_decode keeps neither. */
	uint8_t n_comm;
	uint32_t comm[FS_EXTRA_MAX];
	uint8_t n_ext;
	uint64_t ext[FS_EXTRA_MAX];
};

#define FS_EXTCOMM_LEN 8
#define FS_ACTIONS_MAX (7 + FS_EXTRA_MAX) /* communities fs_actions_encode can write */

/* Writes each present action as one 8-octet extended community; false on a bad value
 * (negative/NaN rate, DSCP > 63, a local part too wide for its form) or a full buffer. */
bool fs_actions_encode(const struct fs_actions *a, struct wbuf *w, struct fs_err *err);
/* Reads an EXTENDED_COMMUNITIES attribute value: communities that are not FlowSpec actions are
 * skipped (route targets ride along); a malformed action is an error; of two of a kind the first
 * counts (RFC 8955 leaves conflicts to the receiver). */
bool fs_actions_decode(const uint8_t *p, size_t len, struct fs_actions *out, struct fs_err *err);
bool fs_actions_equal(const struct fs_actions *a, const struct fs_actions *b);

#define FS_EXTCOMM6_LEN 20
#define FS_ACTIONS6_MAX 2 /* communities fs_actions_encode6 can write */

/* Writes the IPv6 actions (FS_ACTS_IPV6) as 20-octet IPv6-address-specific extended communities,
 * the value of an IPV6_EXTENDED_COMMUNITIES attribute; nothing when there are none. False on an
 * IPv4-mapped address (that is what the IPv4 forms are for) or a full buffer. */
bool fs_actions_encode6(const struct fs_actions *a, struct wbuf *w, struct fs_err *err);
/* Reads an IPV6_EXTENDED_COMMUNITIES attribute value into out, which keeps what
 * fs_actions_decode put there (call that first). A length that is not a multiple of 20 is an
 * error (RFC 7606 7.14 makes the UPDATE treat-as-withdraw); communities that are not actions
 * are skipped; a malformed action is an error; the first of a kind counts. */
bool fs_actions_decode6(const uint8_t *p, size_t len, struct fs_actions *out, struct fs_err *err);

/* --- text (text.c) ---
 * One line, compatible with ExaBGP's flow route (braces, brackets and semicolons are optional):
 *   [flow route] [match {] destination 192.0.2.10/32; protocol udp; source-port =53;
 *   packet-length >=512&<=1500 [}] then [{] rate-limit 0 [}]
 * Values after a keyword are ORed; '&' joins terms with AND. The family follows from the
 * prefixes, else from next-header/flow-label, else a leading "ipv6"; IPv4 by default. The full
 * grammar is at the top of text.c. a may be NULL when no "then" part is wanted. The error names
 * the column and the token. */
bool fs_text_parse(const char *s, struct fs_rule *r, struct fs_actions *a, struct fs_err *err);
/* Canonical text that fs_text_parse turns back into the same rule and actions; false if it does
 * not fit in cap (8 KiB always fits). a may be NULL. */
bool fs_text_format(const struct fs_rule *r, const struct fs_actions *a, char *buf, size_t cap);

#endif
