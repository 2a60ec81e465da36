/* bgp/: the BGP speaker. One finite state machine per configured peer (RFC 4271) on the caller's
 * libevent loop, a RIB-out shared by all peers (what every peer should have been told), and the
 * replay of the RIB-out whenever a session reaches Established.
 *
 * Threads: everything runs on the one event_base given; call it only from that loop's thread. */
#ifndef RAMPART_BGP_BGP_H
#define RAMPART_BGP_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/ip.h"

struct event_base;
struct fs_rule;    /* flowspec/fs.h */
struct fs_actions;
struct fs_err;

/* address families, as a bit set in bgp_peer_config.families */
#define BGP_FAM_IPV4_UNICAST 0x01
#define BGP_FAM_IPV6_UNICAST 0x02
#define BGP_FAM_IPV4_FLOWSPEC 0x04
#define BGP_FAM_IPV6_FLOWSPEC 0x08

#define BGP_PASSWORD_MAX 80 /* TCP MD5 key length limit on Linux */

struct bgp_peer_config {
	ip_addr address;
	uint16_t port;          /* default 179 */
	uint32_t remote_as;
	uint32_t families;      /* BGP_FAM_*; default IPv4 + IPv6 unicast */
	bool passive;           /* wait for the peer to connect */
	char password[BGP_PASSWORD_MAX + 1]; /* TCP MD5 (RFC 2385); empty = none */
	ip_addr local_address;  /* zero = chosen by the kernel */
	uint16_t hold_time;     /* offered, seconds; default 90; 0 = no keepalives (RFC 4271) */
	uint8_t ttl;            /* 0 = default (1 for eBGP, 64 for iBGP); >1 for multihop eBGP */
	char description[64];
	/* Extended Next Hop (RFC 8950): offer the capability for IPv4 unicast over an IPv6 next hop,
	 * and send IPv4 routes whose next hop is IPv6 to this peer when it offers it too. Default
	 * true; false: neither (such routes are not sent to this peer). */
	bool extended_next_hop;
};

struct bgp_config {
	uint32_t local_as;
	uint32_t router_id;       /* host order; default: the first IPv4 peer-facing address */
	ip_addr listen_address;   /* for passive peers; zero = all (::) */
	uint16_t listen_port;     /* default 179 */
	uint32_t connect_retry_s; /* first retry delay, default 5 */
	/* Graceful restart (RFC 4724): the restart time we advertise, with the forwarding-state bit
	 * for every family, so a router keeps our routes (stale) for this long when our session drops
	 * without a NOTIFICATION (a crash or kill -9) and refreshes them on our End-of-RIB. 0 = do
	 * not advertise the capability. Default 120, at most 4095. */
	uint16_t graceful_restart_s;
	struct bgp_peer_config *peers;
	size_t n_peers;
	/* For this many seconds after bgp_speaker_start, a session that comes up gets the RIB-out
	 * but not yet its End-of-RIB markers; they follow when the time is up. A router helping our
	 * graceful restart keeps what it holds stale until our End-of-RIB, so bans re-made after a
	 * restart (detection, the ExaBGP pipe or process, rampartctl) within this time replace the
	 * stale routes instead of being flushed and re-announced. Sessions that come up later get
	 * End-of-RIB right after the replay. 0 (default) = never held back. */
	uint16_t end_of_rib_delay_s;
};

void bgp_config_defaults(struct bgp_config *cfg);
void bgp_peer_config_defaults(struct bgp_peer_config *p);

#define BGP_MAX_COMMUNITIES 32
#define BGP_MAX_EXT_COMMUNITIES 8
#define BGP_MAX_LARGE_COMMUNITIES 8
#define BGP_MAX_AS_PATH 32
#define BGP_MAX_CLUSTER_LIST 8
#define BGP_MAX_RAW_ATTRS 128 /* octets of raw path attributes, headers included */

/* Path attributes of a route we originate. */
struct bgp_route_attrs {
	ip_addr next_hop;    /* of the prefix's family; zero = our own session address */
	uint32_t communities[BGP_MAX_COMMUNITIES]; /* standard communities (RFC 1997), asn << 16 | value */
	size_t n_communities;
	uint32_t local_pref; /* iBGP only; 0 = 100 */
	uint32_t med;
	bool has_med;
	/* extended communities (RFC 4360), 8 octets each as on the wire, e.g. a route target */
	uint8_t ext_communities[BGP_MAX_EXT_COMMUNITIES][8];
	size_t n_ext_communities;
	/* large communities (RFC 8092): global administrator, local data 1, local data 2 */
	uint32_t large_communities[BGP_MAX_LARGE_COMMUNITIES][3];
	size_t n_large_communities;
	/* Appended (zero = the behaviour before they existed: ORIGIN IGP, AS_PATH of our AS alone). */
	uint8_t origin;            /* BGP_ORIGIN_* */
	bool atomic_aggregate;     /* ATOMIC_AGGREGATE (RFC 4271 5.1.6) */
	/* AS_PATH after ours: to an eBGP peer we send our AS then these, unless the list already
	 * starts with our AS (an ExaBGP script that wrote the whole path); to iBGP these as they are. */
	uint32_t as_path[BGP_MAX_AS_PATH];
	size_t n_as_path;
	bool has_aggregator;       /* AGGREGATOR (RFC 4271 5.1.7; AS4_AGGREGATOR to a 2-octet peer) */
	uint32_t aggregator_as;
	uint32_t aggregator_id;    /* IPv4, host order */
	/* route reflection attributes (RFC 4456), sent to iBGP peers only */
	bool has_originator_id;
	uint32_t originator_id;    /* host order */
	uint32_t cluster_list[BGP_MAX_CLUSTER_LIST]; /* host order */
	size_t n_cluster_list;
	/* Path attributes the speaker has no field of, as given (ExaBGP's `attribute [CODE FLAGS
	 * VALUE]`): each one flags, type, length (two octets when flags has the extended length bit
	 * 0x10, else one) and value, exactly as on the wire, in ascending type order, no type twice,
	 * none of a type the speaker writes itself. Sent to every peer unchanged. */
	uint8_t raw_attrs[BGP_MAX_RAW_ATTRS];
	size_t n_raw_attrs; /* octets used */
};

#define BGP_ORIGIN_IGP 0
#define BGP_ORIGIN_EGP 1
#define BGP_ORIGIN_INCOMPLETE 2

#define BGP_COMMUNITY_BLACKHOLE 0xFFFF029Au /* 65535:666, RFC 7999 */
#define BGP_COMMUNITY_NO_EXPORT 0xFFFFFF01u /* RFC 1997 */

struct bgp_speaker;

struct bgp_speaker *bgp_speaker_new(struct event_base *base, const struct bgp_config *cfg, char *err,
				    size_t errlen);
/* Opens the listener (if any peer is passive) and starts connecting to active peers. */
int bgp_speaker_start(struct bgp_speaker *s, char *err, size_t errlen);
/* Whether this start is a restart: the Restart State (R) bit of RFC 4724 on each peer's first
 * OPEN after bgp_speaker_start (never on later ones: a flap is not our restart). Set before
 * bgp_speaker_start. BGP_RESTART_GUESS (the default): when the RIB-out holds routes or rules by
 * then; BGP_RESTART_YES / BGP_RESTART_NO: the caller knows (rampartd's ban state file). */
enum bgp_restart { BGP_RESTART_GUESS, BGP_RESTART_YES, BGP_RESTART_NO };
void bgp_speaker_set_restart(struct bgp_speaker *s, enum bgp_restart r);
/* Reload: takes the peer list of cfg (its other fields are the speaker's identity and listener,
 * kept as they were). Peers are matched by address: one with the same settings keeps its
 * session and what it was told (a new description does not count); a changed one is closed
 * with CEASE "other configuration change" (RFC 4486 subcode 6) and connects again with the new
 * settings, keeping its view of the RIB-out; one no longer listed is closed with CEASE "peer
 * de-configured" (subcode 3); a new one starts (after bgp_speaker_start) and is told what was
 * announced to every peer, none of the routes announced to some peers only. From then on the
 * index of a peer (bgp_peer_set bits, bgp_rib_out_get, bgp_speaker_peers) is its place in
 * cfg->peers. -1 with err when cfg is invalid or memory runs out: nothing changed then (only a
 * listener opened for a first passive peer may stay open). */
int bgp_speaker_set_peers(struct bgp_speaker *s, const struct bgp_config *cfg, char *err, size_t errlen);
/* Sends CEASE to every established peer and closes everything. */
void bgp_speaker_free(struct bgp_speaker *s);

/* Adds or replaces a route in the RIB-out and sends it to every established peer that has the
 * prefix's family. */
int bgp_announce(struct bgp_speaker *s, const ip_prefix *prefix, const struct bgp_route_attrs *attrs);
/* Removes it and sends the withdrawal; -1 when it was not announced. */
int bgp_withdraw(struct bgp_speaker *s, const ip_prefix *prefix);

/* A set of peers by their index in bgp_config.peers: bit i is peers[i] for i < 63; bit 63 stands
 * for every peer from the 63rd on (they are selected together). The RIB-out holds, per prefix,
 * what each peer is told, so one prefix may go to different peers with different attributes. */
typedef uint64_t bgp_peer_set;
#define BGP_PEERS_ALL UINT64_MAX
static inline bgp_peer_set bgp_peer_bit(size_t index)
{
	return (bgp_peer_set)1 << (index < 63 ? index : 63);
}
/* The set after a reload renumbered the peers: map[i] is old peer i's new index, or -1 when it
 * left the configuration (its bit is dropped). BGP_PEERS_ALL stays every peer. */
static inline bgp_peer_set bgp_peer_set_remap(bgp_peer_set set, const int *map, size_t n_old)
{
	if (set == BGP_PEERS_ALL)
		return set;
	bgp_peer_set out = 0;
	for (size_t i = 0; i < n_old && i < 64; i++)
		if ((set & bgp_peer_bit(i)) && map[i] >= 0)
			out |= bgp_peer_bit((size_t)map[i]);
	return out;
}
/* The same as bgp_announce / bgp_withdraw for the peers in `peers` only; the other peers keep what
 * they were told. bgp_announce is bgp_announce_to(BGP_PEERS_ALL), which also drops any per-peer
 * difference. Withdrawing from peers that do not have the prefix is not an error; -1 when no
 * peer had it. */
int bgp_announce_to(struct bgp_speaker *s, const ip_prefix *prefix, const struct bgp_route_attrs *attrs,
		    bgp_peer_set peers);
int bgp_withdraw_from(struct bgp_speaker *s, const ip_prefix *prefix, bgp_peer_set peers);
/* Sends End-of-RIB (RFC 4724 2) for the families in fam (BGP_FAM_*) to the Established peers in
 * peers that carry them, as ExaBGP's `announce eor AFI SAFI` does. */
void bgp_send_eor(struct bgp_speaker *s, bgp_peer_set peers, uint32_t fam);
/* What the RIB-out holds for peers[peer] (its index in bgp_config.peers): 0 and the attributes
 * (normalised: local_pref 0 reads 100) when the prefix is announced to it, -1 when not. */
int bgp_rib_out_get(const struct bgp_speaker *s, const ip_prefix *prefix, size_t peer,
		    struct bgp_route_attrs *out);
size_t bgp_rib_out_count(const struct bgp_speaker *s);
/* A hint that prefix is about to be announced or withdrawn: its RIB-out slot is fetched into the
 * cache now, so the change finds it there (a burst of 100 000 ExaBGP lines is otherwise a cache
 * miss per line here). Changes nothing. */
void bgp_prefetch(const struct bgp_speaker *s, const ip_prefix *prefix);

/* FlowSpec (RFC 8955 IPv4 / RFC 8956 IPv6): adds or replaces a rule (keyed by its match part) in
 * the RIB-out and sends it to every established peer that negotiated the rule's family, as
 * MP_REACH_NLRI with a zero-length next hop and the actions as extended communities. Rules are
 * replayed whenever a session comes up, followed by End-of-RIB. -1 with the reason in err (may be
 * NULL) when the rule or its actions cannot be encoded, or the NLRI is longer than fits one
 * UPDATE (BGP_FLOW_NLRI_MAX). */
#define BGP_FLOW_NLRI_MAX 3800
int bgp_announce_flow(struct bgp_speaker *s, const struct fs_rule *r, const struct fs_actions *a,
		      struct fs_err *err);
/* Removes it (MP_UNREACH_NLRI); -1 when it was not announced or cannot be encoded. */
int bgp_withdraw_flow(struct bgp_speaker *s, const struct fs_rule *r);
size_t bgp_flow_count(const struct bgp_speaker *s);

struct bgp_peer_status {
	ip_addr address;
	uint32_t remote_as;
	const char *state;         /* "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established" */
	uint64_t state_since_s;    /* monotonic seconds when the state was entered */
	uint16_t hold_time;        /* negotiated */
	uint32_t families;         /* negotiated */
	uint64_t updates_sent;
	uint64_t updates_received;
	uint64_t prefixes_sent;    /* prefixes announced on this session */
	uint64_t established_count;
	char last_error[128];      /* last NOTIFICATION or connection error, "" if none */
	bool shutdown;             /* administratively down (bgp_peer_enable false) */
	uint64_t prefixes_received;  /* NLRI the peer announced (we install none of them) */
	uint64_t withdrawn_received; /* NLRI it withdrew, incl. those of treat-as-withdraw UPDATEs */
	uint64_t taw_received;       /* UPDATEs treated as withdraw (RFC 7606) */
	uint64_t attrs_discarded;    /* attributes dropped by RFC 7606 "attribute discard" */
};
/* Administrative shutdown (enabled = false): CEASE / Administrative Shutdown (6/2) if a session
 * is up, then Idle with no reconnect, and an incoming connection from it is refused. enabled =
 * true starts it again (its routes are replayed when it comes up). -1: no such peer. */
int bgp_peer_enable(struct bgp_speaker *s, const ip_addr *peer, bool enabled);

/* Returns the number of peers; fills at most max. */
size_t bgp_speaker_peers(const struct bgp_speaker *s, struct bgp_peer_status *out, size_t max);

/* The kernel's TCP MD5 counters of this network namespace (all peers together: the kernel keeps
 * no per-peer count). A peer sending unsigned segments to a peer with a password counts as
 * not_found, signed ones to a peer without one as unexpected, a wrong key as failure. */
struct bgp_md5_counters {
	uint64_t not_found, unexpected, failure;
};
/* From /proc/net/netstat; -1 when it cannot be read or lacks them. */
int bgp_md5_counters_read(struct bgp_md5_counters *out);
/* The same from the file's text (for tests); -1 on anything malformed. */
int bgp_md5_parse_netstat(const char *text, size_t len, struct bgp_md5_counters *out);

#endif
