/* bgp/session: one RFC 4271 finite state machine per configured peer, on a libevent bufferevent.
 * Private to bgp/; the speaker owns the sessions and the RIB-out they read. */
#ifndef RAMPART_BGP_SESSION_H
#define RAMPART_BGP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../lib/ip.h"
#include "bgp.h"
#include "flow_rib.h"
#include "rib_out.h"

struct event_base;
struct bgp_session;

struct bgp_session_params {
	struct event_base *base;
	const struct bgp_peer_config *peer; /* copied */
	uint32_t local_as;
	uint32_t router_id;
	uint32_t connect_retry_s;
	const struct bgp_rib *rib;          /* outlives the session */
	const struct bgp_flow_rib *flows;   /* outlives the session */
	uint16_t graceful_restart_s;        /* 0 = no graceful restart capability */
	size_t index;                       /* in bgp_config.peers: its view of the RIB-out */
	uint16_t end_of_rib_delay_s;        /* bgp_config.end_of_rib_delay_s */
};

#define BGP_RETRY_MAX_S 120
#define BGP_OUT_HIGH_WATER (4u << 20) /* stop producing UPDATEs past this much unsent output */
#define BGP_OUT_LOW_WATER (1u << 20)  /* and resume below this */
#define BGP_IN_MAX_READ (256u << 10) /* bytes read from a peer per readable event */

struct bgp_session *bgp_session_new(const struct bgp_session_params *p);
/* Active peers start connecting; passive ones wait in Active for the listener. */
void bgp_session_start(struct bgp_session *s);
/* An incoming connection from this peer's address. Takes fd in any case; false when refused
 * (one connection per peer: a second one is closed). */
bool bgp_session_accept(struct bgp_session *s, int fd);
/* Sends CEASE if a session is up, best effort, and frees everything. */
void bgp_session_free(struct bgp_session *s);
/* The same with CEASE subcode `subcode` (RFC 4486) instead of Administrative Shutdown. */
void bgp_session_free_cease(struct bgp_session *s, uint8_t subcode);
/* A prefix of the RIB-out changed: tell the peer if it is Established. */
void bgp_session_route_changed(struct bgp_session *s, const ip_prefix *p);
/* A FlowSpec rule of the flow RIB changed (added, new actions, or removed). */
void bgp_session_flow_changed(struct bgp_session *s, uint8_t afi, const uint8_t *nlri, size_t len);
/* Queues End-of-RIB for the families in fam (BGP_FAM_*) the session carries, after what is queued;
 * nothing when it is not Established (Established sends its own after the replay). */
void bgp_session_send_eor(struct bgp_session *s, uint32_t fam);
/* Administrative shutdown / enable (see bgp_peer_enable). */
void bgp_session_set_enabled(struct bgp_session *s, bool enabled);
/* bgp_speaker_set_restart */
void bgp_session_set_restart(struct bgp_session *s, enum bgp_restart r);
void bgp_session_status(const struct bgp_session *s, struct bgp_peer_status *st);
const struct bgp_peer_config *bgp_session_peer(const struct bgp_session *s);

/* socket helpers shared with the listener */
socklen_t bgp_sockaddr(const ip_addr *a, uint16_t port, int family, struct sockaddr_storage *ss);
int bgp_set_md5(int fd, int family, const ip_addr *peer, const char *password);

#endif
