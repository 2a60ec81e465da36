/* The local blackhole action: on every ban a blackhole route (RTN_BLACKHOLE) for the banned
 * prefix goes into a routing table of the network namespace rampartd runs in, through netlink
 * (libnl-route-3); the unban deletes it. Traffic to a victim hosted on or routed by this box is
 * then dropped here, without a router.
 *
 * Routes carry a protocol number of their own (RD_RTPROT), so rampartd can tell them from the
 * operator's: at start-up it deletes blackholes left by a previous run that died, at shutdown the
 * ones still in place (a stopped daemon mitigates nothing, as a closed BGP session withdraws).
 *
 * A netlink request to the kernel's routing table is answered at once (no network), so it runs on
 * the main loop; the socket has a receive timeout as a bound all the same. Every failure is
 * logged and counted and the event goes on to the other actions: detection never waits on it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "../lib/log.h"
#include "act.h"

/* In the range no name in /etc/iproute2/rt_protos (nor FRR's) claims; `ip route show proto 201` lists ours. */
#define RD_RTPROT 201

struct act_localroute {
	struct nl_sock *sk;
	uint32_t table;
	uint64_t added, removed, failed;
};

static struct rtnl_route *route_of(const struct act_localroute *lr, const ip_prefix *p)
{
	struct rtnl_route *r = rtnl_route_alloc();
	if (!r)
		return NULL;
	bool v4 = ip_is_v4(&p->addr); /* kept IPv4-mapped: the last 4 bytes */
	int fam = v4 ? AF_INET : AF_INET6;
	struct nl_addr *dst = nl_addr_build(fam, v4 ? p->addr.b + 12 : p->addr.b, v4 ? 4 : 16);
	if (!dst) {
		rtnl_route_put(r);
		return NULL;
	}
	nl_addr_set_prefixlen(dst, p->len);
	rtnl_route_set_family(r, (uint8_t)fam);
	rtnl_route_set_dst(r, dst);
	nl_addr_put(dst);
	rtnl_route_set_type(r, RTN_BLACKHOLE);
	rtnl_route_set_table(r, lr->table);
	rtnl_route_set_protocol(r, RD_RTPROT);
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	return r;
}

/* Deletes every blackhole of ours in our table: leftovers of a run that died, or at shutdown. */
static void flush_ours(struct act_localroute *lr)
{
	struct nl_cache *cache;
	if (rtnl_route_alloc_cache(lr->sk, AF_UNSPEC, 0, &cache) < 0) {
		log_warn("local blackhole: cannot list routes; stale routes of ours may remain");
		return;
	}
	unsigned n = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		if (rtnl_route_get_type(r) != RTN_BLACKHOLE || rtnl_route_get_protocol(r) != RD_RTPROT ||
		    rtnl_route_get_table(r) != lr->table)
			continue;
		if (rtnl_route_delete(lr->sk, r, 0) == 0)
			n++;
	}
	nl_cache_free(cache);
	if (n)
		log_info("local blackhole: removed %u route(s) of ours from table %" PRIu32, n, lr->table);
}

struct act_localroute *act_localroute_new(const struct conf_actions *cfg)
{
	struct act_localroute *lr = calloc(1, sizeof *lr);
	if (!lr)
		return NULL;
	lr->table = cfg->local_blackhole_table;
	lr->sk = nl_socket_alloc();
	if (!lr->sk || nl_connect(lr->sk, NETLINK_ROUTE) < 0) {
		log_err("local blackhole: cannot open a netlink socket");
		act_localroute_free(lr);
		return NULL;
	}
	/* the kernel answers at once; this only bounds a wedged socket */
	struct timeval tv = {.tv_sec = 1};
	setsockopt(nl_socket_get_fd(lr->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	flush_ours(lr);
	return lr;
}

void act_localroute_free(struct act_localroute *lr)
{
	if (!lr)
		return;
	if (lr->sk) {
		if (nl_socket_get_fd(lr->sk) >= 0)
			flush_ours(lr);
		nl_socket_free(lr->sk);
	}
	free(lr);
}

void act_localroute_event(void *ctx, const struct mit_event *e)
{
	struct act_localroute *lr = ctx;
	const struct det_event *ev = e->ev;
	if (!lr || (e->type != MIT_EV_BAN && e->type != MIT_EV_UNBAN) || e->dry_run)
		return;
	bool add = e->type == MIT_EV_BAN;
	char pfx[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->target, pfx);
	struct rtnl_route *r = route_of(lr, &ev->target);
	int rc = r ? (add ? rtnl_route_add(lr->sk, r, NLM_F_CREATE | NLM_F_REPLACE) : rtnl_route_delete(lr->sk, r, 0))
		   : -NLE_NOMEM;
	if (r)
		rtnl_route_put(r);
	if (rc < 0) {
		lr->failed++;
		log_warn("local blackhole: cannot %s %s in table %" PRIu32 ": %s", add ? "add" : "delete", pfx,
			 lr->table, nl_geterror(rc));
		return;
	}
	if (add)
		lr->added++;
	else
		lr->removed++;
	log_debug("local blackhole: %s %s in table %" PRIu32, add ? "added" : "deleted", pfx, lr->table);
}

struct act_action act_localroute_action(struct act_localroute *lr)
{
	return (struct act_action){.name = "localroute", .ctx = lr, .event = act_localroute_event};
}

void act_localroute_stats(const struct act_localroute *lr, struct act_localroute_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!lr)
		return;
	out->added = lr->added;
	out->removed = lr->removed;
	out->failed = lr->failed;
}
