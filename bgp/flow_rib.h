/* bgp/flow_rib: the FlowSpec rules every peer should have (the flow RIB-out, shared) and per
 * peer the queue of rules it still has to be told about. Private to bgp/.
 *
 * A rule is kept as its canonical NLRI encoding (flowspec/ encodes canonically, so equal rules
 * are equal bytes) and its actions as encoded extended communities: what goes on the wire is
 * computed once, when the rule is announced. Rules are few (a safety cap of about a thousand
 * bans), so the RIB is an array searched linearly and the queue a list of keys. */
#ifndef RAMPART_BGP_FLOW_RIB_H
#define RAMPART_BGP_FLOW_RIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../flowspec/fs.h"
#include "rib_out.h"

#define BGP_FLOW_EXT_MAX (FS_ACTIONS_MAX * FS_EXTCOMM_LEN)
#define BGP_FLOW_EXT6_MAX (FS_ACTIONS6_MAX * FS_EXTCOMM6_LEN)

struct bgp_flow {
	uint8_t afi;       /* enum fs_afi */
	uint16_t nlri_len;
	uint8_t *nlri;     /* the encoded rule, length prefix included: the key */
	uint8_t n_ext;     /* extended communities (8 octets each) */
	uint8_t ext[BGP_FLOW_EXT_MAX];
	uint8_t n_ext6;    /* IPv6-address-specific extended communities (20 octets each, RFC 5701) */
	uint8_t ext6[BGP_FLOW_EXT6_MAX];
	uint8_t n_comm;    /* COMMUNITIES sent with the rule (ExaBGP's then { community }) */
	uint32_t comm[FS_EXTRA_MAX];
	ip_addr next_hop;  /* MP_REACH next hop (0x0800 redirect); zero: none, as RFC 8955 4 */
};

/* What a rule carries besides its action communities; NULL members / zero: none. */
struct bgp_flow_attrs {
	const uint32_t *comm;
	size_t n_comm;
	const ip_addr *next_hop;
};

struct bgp_flow_rib {
	struct bgp_flow *v;
	size_t n, cap;
};

void bgp_flow_rib_init(struct bgp_flow_rib *rib);
void bgp_flow_rib_free(struct bgp_flow_rib *rib);
/* 0 added, 1 replaced (other actions), 2 unchanged, -1 out of memory */
int bgp_flow_rib_set(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len,
		     const uint8_t *ext, size_t n_ext);
/* The same with IPv6-address-specific communities (attribute 25) as well: a rule whose actions
 * differ only there is replaced. bgp_flow_rib_set is this with none. */
int bgp_flow_rib_set6(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len,
		      const uint8_t *ext, size_t n_ext, const uint8_t *ext6, size_t n_ext6);
/* The same with communities and a next hop as well (any may differ for a replace). */
int bgp_flow_rib_set_attrs(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len,
			   const uint8_t *ext, size_t n_ext, const uint8_t *ext6, size_t n_ext6,
			   const struct bgp_flow_attrs *more);
/* 0 removed, -1 not there */
int bgp_flow_rib_del(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len);
const struct bgp_flow *bgp_flow_rib_find(const struct bgp_flow_rib *rib, uint8_t afi,
					 const uint8_t *nlri, size_t len);

struct bgp_flow_key {
	uint8_t afi;
	uint16_t len;
	uint8_t *nlri; /* owned: the rule may be gone from the RIB by the time it is sent */
};

struct bgp_flow_q {
	struct bgp_flow_key *v;
	size_t n, cap;
};

void bgp_flow_q_init(struct bgp_flow_q *q);
void bgp_flow_q_free(struct bgp_flow_q *q);
void bgp_flow_q_reset(struct bgp_flow_q *q);
/* A rule changed: queue its key once (a key already queued is not queued again). */
int bgp_flow_q_push(struct bgp_flow_q *q, uint8_t afi, const uint8_t *nlri, size_t len);
/* Queues every rule of the RIB. */
int bgp_flow_q_replay(struct bgp_flow_q *q, const struct bgp_flow_rib *rib);
/* Sends the queue as UPDATEs, the state in the RIB at the time of sending: rules of one family
 * that share their actions go in one MP_REACH, withdrawals in one MP_UNREACH. Rules of families
 * the session did not negotiate are dropped. 1 all sent, 0 paused on a full output, -1 send
 * failed. Only c->families, ebgp, as4, local_as, send, full and the counters are used. */
int bgp_flow_q_flush(struct bgp_flow_q *q, const struct bgp_flow_rib *rib, struct bgp_out_ctx *c);

#endif
