/* bgp/rib_out: what every peer should have been told (the RIB-out, shared), and per peer the queue
 * of prefixes whose state it still has to be told (its Adj-RIB-Out backlog). Private to bgp/.
 *
 * The queue holds prefixes, not messages: the state sent is the RIB-out's at the time of sending,
 * so a prefix announced and withdrawn while a slow peer was not reading costs one withdrawal, and
 * the queue never holds more than one entry per prefix once compacted. */
#ifndef RAMPART_BGP_RIB_OUT_H
#define RAMPART_BGP_RIB_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/ip.h"
#include "../lib/log.h"
#include "bgp.h"

/* An interned attribute set: prefixes with equal attributes share one, so packing prefixes into
 * UPDATEs is a pointer comparison. */
struct bgp_rib_attrs {
	struct bgp_route_attrs a;
	uint32_t id; /* unique while alive, never 0 */
	uint32_t refs;
	uint32_t hash;
	struct bgp_rib_attrs *next;
};

struct bgp_rib;

struct bgp_rib *bgp_rib_new(void); /* one peer */
/* n_peers: how many sessions read it (the bgp_peer_set indexes) */
struct bgp_rib *bgp_rib_new_peers(size_t n_peers);
void bgp_rib_free(struct bgp_rib *rib);
/* One more peer reading the RIB-out (the speaker's reload): it is told every prefix told to all
 * peers, and none of the per-peer ones. Its index, or -1 out of memory (nothing changed). */
int bgp_rib_add_peer(struct bgp_rib *rib);
/* 0 added, 1 replaced, 2 unchanged (same attributes), -1 out of memory or bad prefix */
int bgp_rib_announce(struct bgp_rib *rib, const ip_prefix *p, const struct bgp_route_attrs *a);
/* 0 removed, -1 not there */
int bgp_rib_withdraw(struct bgp_rib *rib, const ip_prefix *p);
/* For the peers in `peers` only; *changed (may be NULL) gets the peers whose view changed. */
int bgp_rib_announce_to(struct bgp_rib *rib, const ip_prefix *p, const struct bgp_route_attrs *a,
			bgp_peer_set peers, bgp_peer_set *changed);
/* 0 when some peer in `peers` had it */
int bgp_rib_withdraw_from(struct bgp_rib *rib, const ip_prefix *p, bgp_peer_set peers, bgp_peer_set *changed);
/* what peer 0 is told (NULL: nothing) */
const struct bgp_rib_attrs *bgp_rib_lookup(const struct bgp_rib *rib, const ip_prefix *p);
/* what peer `peer` is told */
const struct bgp_rib_attrs *bgp_rib_lookup_peer(const struct bgp_rib *rib, const ip_prefix *p, size_t peer);
size_t bgp_rib_count(const struct bgp_rib *rib);
/* Asks the cache for p's slot in the index (a hint, nothing changes): a caller that knows a
 * prefix some lines before it announces or withdraws it. */
void bgp_rib_prefetch(const struct bgp_rib *rib, const ip_prefix *p);
/* Changes with every announce, withdrawal or added peer: equal values mean nothing in the RIB-out
 * moved or was freed in between, so attribute pointers looked up then are still what is told. */
uint64_t bgp_rib_gen(const struct bgp_rib *rib);

struct bgp_adj_ent {
	ip_prefix p;
	uint32_t attr_id; /* sort key at the last sort: groups prefixes sharing attributes */
	const struct bgp_rib_attrs *cur; /* what the last sort found; trusted while q->gen holds */
};

struct bgp_adj_out {
	struct bgp_adj_ent *v;
	size_t n, cap;
	size_t pos;    /* next entry to send, in [0, sorted) */
	size_t sorted; /* v[0, sorted) is sorted and deduplicated; v[sorted, n) arrived since */
	uint32_t eor;  /* families still owed an End-of-RIB */
	size_t peer;   /* whose view of the RIB-out this queue sends (set after bgp_adj_init) */
	uint32_t eorr; /* families owed an End-of-Route-Refresh (RFC 7313), after everything queued */
	uint64_t gen;  /* the RIB-out's bgp_rib_gen at the last sort: the cur pointers are current */
};

void bgp_adj_init(struct bgp_adj_out *q);
void bgp_adj_free(struct bgp_adj_out *q);
/* Forget everything queued (the session went down; the next one replays). */
void bgp_adj_reset(struct bgp_adj_out *q);
int bgp_adj_push(struct bgp_adj_out *q, const ip_prefix *p);
/* Queues every prefix of the RIB-out, then an End-of-RIB for each family in eor_families. */
int bgp_adj_replay(struct bgp_adj_out *q, const struct bgp_rib *rib, uint32_t eor_families);
bool bgp_adj_pending(const struct bgp_adj_out *q);

/* How one session wants its UPDATEs: its attributes context and its output. */
struct bgp_out_ctx {
	uint32_t local_as;
	bool ebgp;
	bool as4;
	uint32_t families;  /* negotiated */
	ip_addr local;      /* our address on this session: the next hop when the route has none */
	int (*send)(void *arg, const uint8_t *msg, size_t len); /* < 0: the session is gone */
	bool (*full)(void *arg); /* the output is past its high-water mark: stop producing */
	void *arg;
	size_t max_msg;     /* largest UPDATE: 0 = BGP_MSG_MAX; BGP_MSG_EXT_MAX with RFC 8654 */
	bool ext_nh;        /* Extended Next Hop (RFC 8950): IPv4 routes may have an IPv6 next hop */
	struct log_once *no_nexthop;
	uint64_t updates;   /* counters, incremented */
	uint64_t prefixes;
};

/* Sends what is queued, packed: 1 when all is sent, 0 when paused on a full output (call again
 * when it drains), -1 when send failed. */
int bgp_adj_flush(struct bgp_adj_out *q, const struct bgp_rib *rib, struct bgp_out_ctx *c);

#endif
