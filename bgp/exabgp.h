/* ExaBGP's API text commands, parsed into one command struct: the drop-in that lets a ban pipeline
 * written for ExaBGP (FastNetMon's integration, shell scripts, a `process` helper) drive Rampart
 * unchanged. Only the parsing lives here; what a command does (which RIB, which source owns the
 * route) is the daemon's business.
 *
 * Accepted (one command per line, as ExaBGP 4.2 takes them; ';' at the end is ignored):
 *   [neighbor IP|* [SELECTOR VALUE]... [, neighbor IP ...]] VERB ...   (* = every peer)
 *   announce route P next-hop NH|self [ATTR]...       withdraw route P [ATTR]...
 *   announce ipv4|ipv6 unicast P ...                  (ExaBGP 4's family-first form, same thing)
 *   announce attributes [ATTR]... nlri P [P]...       withdraw attributes [ATTR]... nlri P...
 *   announce flow route {match {...} then {...}}      withdraw flow route ... (flowspec/fs.h text)
 *   announce eor [AFI SAFI]
 *   announce watchdog NAME                            withdraw watchdog NAME  (ExaBGP's groups)
 * ATTR: next-hop NH|self, origin igp|egp|incomplete, as-path [ASN...], med N, local-preference N,
 *   community [A:B|NAME|N ...], large-community [A:B:C ...] (a repeat is sent once, RFC 8092),
 *   extended-community [target:A:B|origin:A:B|target4:A:B|origin4:A:B|redirect:A:B|A:B|
 *   l2info:E:C:M:R|rate-limit:N|0xHEX ...] (B of a 2-octet A may be an IPv4 address),
 *   atomic-aggregate, aggregator (ASN:IPV4), originator-id IPV4, cluster-list [IPV4 ...],
 *   attribute [0xCODE 0xFLAGS 0xVALUE] (ExaBGP's generic attribute, bgp/exabgp_generic.c); lists
 *   take one value bare or several in brackets. A route also takes ExaBGP's `name NAME` (accepted, not
 *   sent), `watchdog NAME` (its group, in a.watchdog) and `withdraw` (the route starts withdrawn:
 *   with a watchdog it is held in the group, a.watchdog_withdrawn; without one the command
 *   withdraws it).
 * SELECTOR: local-ip IP, local-as N, peer-as N, router-id IPV4, family-allowed in-open|AFI-SAFI/...
 *   (kept in cmd->sel for the daemon to match against its peers).
 * Errors name the offending token and what was expected there. */
#ifndef RAMPART_BGP_EXABGP_H
#define RAMPART_BGP_EXABGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../flowspec/fs.h"
#include "../lib/ip.h"
#include "bgp.h"

#define BGP_EXA_LINE_MAX 4096   /* longer lines are refused */
#define BGP_EXA_MAX_NLRI 512    /* a 4 KiB line holds fewer /32s than this */
#define BGP_EXA_MAX_NEIGHBORS 16
#define BGP_EXA_MAX_LIST 32     /* as-path, large and extended communities */
#define BGP_EXA_NAME_MAX 64     /* a watchdog name, NUL included */

enum bgp_exa_verb { BGP_EXA_ANNOUNCE, BGP_EXA_WITHDRAW };
enum bgp_exa_kind { BGP_EXA_ROUTE, BGP_EXA_FLOW, BGP_EXA_EOR, BGP_EXA_WATCHDOG };
enum bgp_exa_origin { BGP_EXA_ORIGIN_IGP = 0, BGP_EXA_ORIGIN_EGP = 1, BGP_EXA_ORIGIN_INCOMPLETE = 2 };

struct bgp_exa_large_community {
	uint32_t global, local1, local2;
};

/* Everything ExaBGP can say about a route's path attributes. The subset bgp.h's speaker sends
 * today (next hop, communities, LOCAL_PREF, MED) is also in `attrs`, ready for bgp_announce. */
struct bgp_exa_attrs {
	struct bgp_route_attrs attrs;  /* next_hop zero = next-hop self */
	bool has_next_hop;             /* next-hop given (an address or "self") */
	bool has_local_pref;
	bool has_origin;
	uint8_t origin;                /* enum bgp_exa_origin */
	bool atomic_aggregate;
	uint32_t as_path[BGP_EXA_MAX_LIST];
	size_t n_as_path;
	struct bgp_exa_large_community large[BGP_EXA_MAX_LIST];
	size_t n_large;
	uint64_t extended[BGP_EXA_MAX_LIST]; /* 8 octets each, type in the top byte, as on the wire */
	size_t n_extended;
	/* ExaBGP's internal attributes, never sent: the route's watchdog group ("" = none) and
	 * whether it starts withdrawn in it (held back until `announce watchdog NAME`) */
	char watchdog[BGP_EXA_NAME_MAX];
	bool watchdog_withdrawn;
};

/* One `neighbor IP [SELECTOR VALUE]...`: ExaBGP matches every given part against the peer. */
struct bgp_exa_neighbor {
	ip_addr address;
	bool has_local_ip, has_local_as, has_peer_as, has_router_id, has_families;
	ip_addr local_ip;
	uint32_t local_as;
	uint32_t peer_as;
	uint32_t router_id;   /* host order */
	bool in_open;         /* family-allowed in-open: the families of the OPEN, any peer */
	uint32_t families;    /* BGP_FAM_* of family-allowed AFI-SAFI/AFI-SAFI */
};

struct bgp_exa_cmd {
	enum bgp_exa_verb verb;
	enum bgp_exa_kind kind;
	ip_addr neighbors[BGP_EXA_MAX_NEIGHBORS]; /* none = every peer */
	size_t n_neighbors;
	struct bgp_exa_neighbor sel[BGP_EXA_MAX_NEIGHBORS]; /* the same neighbors with their selectors */
	/* BGP_EXA_ROUTE */
	ip_prefix nlri[BGP_EXA_MAX_NLRI];
	size_t n_nlri;
	struct bgp_exa_attrs a;
	/* BGP_EXA_FLOW */
	struct fs_rule flow;
	struct fs_actions flow_actions;
	/* BGP_EXA_WATCHDOG: `announce|withdraw watchdog NAME`, the name in a.watchdog */
	/* BGP_EXA_EOR: 0/0 = every family */
	uint16_t eor_afi;
	uint8_t eor_safi;
};

struct bgp_exa_err {
	char msg[200];
};

/* True when line starts like an ExaBGP command (announce, withdraw, neighbor): the control
 * socket's dispatch test. */
bool bgp_exa_is_command(const char *line);

/* Parses one line (no newline needed; at most BGP_EXA_LINE_MAX bytes, NUL-terminated). On false,
 * err says what token was wrong and why, and *cmd is unspecified. */
bool bgp_exa_parse(const char *line, struct bgp_exa_cmd *cmd, struct bgp_exa_err *err);

/* The same for the commonest lines only, several times faster (bgp/exabgp_fast.c): `announce|
 * withdraw route A.B.C.D[/N]` with `next-hop A.B.C.D` and `community ...`, single spaces. True
 * when the line was one of them: *cmd is then what bgp_exa_parse makes of it. False (*cmd
 * unspecified) for anything else, errors included: call bgp_exa_parse for those. */
bool bgp_exa_parse_fast(const char *line, struct bgp_exa_cmd *cmd);

/* The prefix of a line read from its head only, `announce|withdraw route A.B.C.D[/N]` followed by
 * a space or the end (the rest is not looked at): a reader that sees lines ahead fetches their
 * table slots early with it (a cache miss each otherwise), for a fraction of a parse. True and
 * *out set for every line bgp_exa_parse_fast takes (then *out is its nlri[0]); true for some lines
 * it does not take, so it is a hint, never a command. */
bool bgp_exa_route_prefix(const char *line, ip_prefix *out);

#endif
