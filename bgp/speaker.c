/* The public face of bgp/: owns the RIB-out, the sessions and the listener, and hands every
 * RIB-out change to the sessions. */
#include "bgp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "../flowspec/fs.h"
#include "../lib/log.h"
#include "flow_rib.h"
#include "msg.h"
#include "rib_out.h"
#include "session.h"

struct bgp_speaker {
	struct event_base *base;
	struct bgp_config cfg; /* peers points into our own copy */
	uint32_t router_id;
	struct bgp_rib *rib;
	struct bgp_flow_rib flows;
	/* Sessions by their place in the RIB-out (its per-peer views): a reload that removes a peer
	 * leaves NULL there, one that adds a peer appends, so every other session keeps its view. */
	struct bgp_session **sessions;
	size_t n_sessions;
	/* slot[i]: the place of peers[i] of the configuration last given (the indexes of a
	 * bgp_peer_set and of bgp_rib_out_get); n_cfg of them */
	size_t *slot;
	size_t n_cfg;
	bool started;
	struct evconnlistener *listener;
	struct log_once lo_unknown;
};

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The local IPv4 address the kernel would use towards a peer: a connected UDP socket sends
 * nothing but has its source chosen. */
static uint32_t source_towards(const ip_addr *peer)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_storage ss;
	socklen_t sl = bgp_sockaddr(peer, 179, AF_INET, &ss);
	uint32_t id = 0;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
		struct sockaddr_in sin;
		socklen_t l = sizeof sin;
		if (getsockname(fd, (struct sockaddr *)&sin, &l) == 0)
			id = ntohl(sin.sin_addr.s_addr);
	}
	close(fd);
	return id;
}

static uint32_t pick_router_id(const struct bgp_config *cfg)
{
	if (cfg->router_id)
		return cfg->router_id;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct bgp_peer_config *p = &cfg->peers[i];
		if (ip_is_v4(&p->local_address) && ip_v4_u32(&p->local_address))
			return ip_v4_u32(&p->local_address);
		if (ip_is_v4(&p->address)) {
			uint32_t id = source_towards(&p->address);
			if (id)
				return id;
		}
	}
	return 0;
}

static int check_peers(const struct bgp_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct bgp_peer_config *p = &cfg->peers[i];
		char a[IP_STRLEN];
		if (ip_is_zero(&p->address) || !p->remote_as) {
			errf(err, errlen, "bgp: peer %zu needs an address and a remote_as", i + 1);
			return -1;
		}
		if (p->hold_time == 1 || p->hold_time == 2) {
			errf(err, errlen, "bgp: peer %s: hold time must be 0 or at least 3", ip_format(&p->address, a));
			return -1;
		}
		if (strlen(p->password) > BGP_PASSWORD_MAX) {
			errf(err, errlen, "bgp: peer %s: password longer than %d", ip_format(&p->address, a),
			     BGP_PASSWORD_MAX);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (ip_equal(&cfg->peers[j].address, &p->address)) {
				errf(err, errlen, "bgp: peer %s configured twice", ip_format(&p->address, a));
				return -1;
			}
	}
	return 0;
}

static struct bgp_session *session_for(struct bgp_speaker *s, const struct bgp_peer_config *peer, size_t slot)
{
	struct bgp_session_params sp = {
		.base = s->base, .peer = peer, .local_as = s->cfg.local_as,
		.router_id = s->router_id, .connect_retry_s = s->cfg.connect_retry_s, .rib = s->rib,
		.flows = &s->flows, .graceful_restart_s = s->cfg.graceful_restart_s, .index = slot,
		.end_of_rib_delay_s = s->cfg.end_of_rib_delay_s,
	};
	return bgp_session_new(&sp);
}

struct bgp_speaker *bgp_speaker_new(struct event_base *base, const struct bgp_config *cfg, char *err,
				    size_t errlen)
{
	if (!cfg->local_as) {
		errf(err, errlen, "bgp: local_as is required");
		return NULL;
	}
	if (check_peers(cfg, err, errlen) != 0)
		return NULL;
	if (cfg->graceful_restart_s > 4095) {
		errf(err, errlen, "bgp: graceful_restart %u s is more than the 4095 the capability carries",
		     cfg->graceful_restart_s);
		return NULL;
	}
	uint32_t router_id = pick_router_id(cfg);
	if (!router_id) {
		errf(err, errlen, "bgp: router_id is not set and no IPv4 peer-facing address to take it from");
		return NULL;
	}

	struct bgp_speaker *s = calloc(1, sizeof *s);
	if (!s)
		goto oom;
	s->base = base;
	s->cfg = *cfg;
	s->router_id = router_id;
	s->cfg.peers = NULL;
	s->rib = bgp_rib_new_peers(cfg->n_peers);
	bgp_flow_rib_init(&s->flows);
	s->sessions = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof *s->sessions);
	s->slot = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof *s->slot);
	if (!s->rib || !s->sessions || !s->slot)
		goto oom;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		s->sessions[i] = session_for(s, &cfg->peers[i], i);
		if (!s->sessions[i])
			goto oom;
		s->slot[i] = i;
		s->n_sessions++;
		s->n_cfg++;
	}
	return s;
oom:
	errf(err, errlen, "bgp: out of memory");
	bgp_speaker_free(s);
	return NULL;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)l;
	(void)salen;
	struct bgp_speaker *s = arg;
	ip_addr from;
	if (sa->sa_family == AF_INET)
		ip_from_v4(&from, (const uint8_t *)&((struct sockaddr_in *)sa)->sin_addr);
	else
		ip_from_v6(&from, (const uint8_t *)&((struct sockaddr_in6 *)sa)->sin6_addr);
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i] && ip_equal(&bgp_session_peer(s->sessions[i])->address, &from)) {
			bgp_session_accept(s->sessions[i], fd);
			return;
		}
	char a[IP_STRLEN];
	log_once(&s->lo_unknown, "bgp: connection from %s refused: not a configured peer", ip_format(&from, a));
	close(fd);
}

static int open_listener(struct bgp_speaker *s, char *err, size_t errlen)
{
	const ip_addr *la = &s->cfg.listen_address;
	int family = (!ip_is_zero(la) && ip_is_v4(la)) ? AF_INET : AF_INET6;
	struct sockaddr_storage ss;
	socklen_t sl = bgp_sockaddr(la, s->cfg.listen_port, family, &ss);
	char a[IP_STRLEN];
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0;
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* IPv4 peers too */
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	/* keys are per peer address on the listener; accepted sockets inherit them */
	for (size_t i = 0; i < s->n_sessions; i++) {
		if (!s->sessions[i])
			continue;
		const struct bgp_peer_config *p = bgp_session_peer(s->sessions[i]);
		if (p->password[0] && bgp_set_md5(fd, family, &p->address, p->password) < 0) {
			errf(err, errlen, "bgp: TCP MD5 for peer %s: %s", ip_format(&p->address, a), strerror(errno));
			close(fd);
			return -1;
		}
	}
	s->listener = evconnlistener_new(s->base, accept_cb, s, LEV_OPT_CLOSE_ON_FREE, 16, fd);
	if (!s->listener)
		goto fail;
	log_info("bgp: listening on [%s]:%u", ip_format(la, a), s->cfg.listen_port);
	return 0;
fail:
	errf(err, errlen, "bgp: listen on [%s]:%u: %s", ip_format(la, a), s->cfg.listen_port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int bgp_speaker_start(struct bgp_speaker *s, char *err, size_t errlen)
{
	bool any_passive = false;
	for (size_t i = 0; i < s->n_sessions; i++)
		any_passive |= s->sessions[i] && bgp_session_peer(s->sessions[i])->passive;
	if (any_passive && !s->listener && open_listener(s, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i])
			bgp_session_start(s->sessions[i]);
	s->started = true;
	return 0;
}

void bgp_speaker_set_restart(struct bgp_speaker *s, enum bgp_restart r)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i])
			bgp_session_set_restart(s->sessions[i], r);
}

void bgp_speaker_free(struct bgp_speaker *s)
{
	if (!s)
		return;
	if (s->listener)
		evconnlistener_free(s->listener);
	for (size_t i = 0; i < s->n_sessions; i++)
		bgp_session_free(s->sessions[i]);
	free(s->sessions);
	free(s->slot);
	bgp_rib_free(s->rib);
	bgp_flow_rib_free(&s->flows);
	free(s);
}

static bool prefix_ok(const ip_prefix *in, ip_prefix *out)
{
	if (in->len > ip_max_len(&in->addr))
		return false;
	*out = *in;
	ip_prefix_mask(out);
	return true;
}

int bgp_announce(struct bgp_speaker *s, const ip_prefix *prefix, const struct bgp_route_attrs *attrs)
{
	return bgp_announce_to(s, prefix, attrs, BGP_PEERS_ALL);
}

int bgp_withdraw(struct bgp_speaker *s, const ip_prefix *prefix)
{
	return bgp_withdraw_from(s, prefix, BGP_PEERS_ALL);
}

/* only the sessions whose view of the prefix changed get it queued */
static void tell(struct bgp_speaker *s, const ip_prefix *p, bgp_peer_set changed)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i] && (changed & bgp_peer_bit(i)))
			bgp_session_route_changed(s->sessions[i], p);
}

/* A set of configuration indexes as a set of RIB-out places. Every configured peer is all of
 * them (removed places included: nobody reads them, and the RIB keeps one entry per prefix). */
static bgp_peer_set to_slots(const struct bgp_speaker *s, bgp_peer_set peers)
{
	if (peers == BGP_PEERS_ALL)
		return BGP_PEERS_ALL;
	bgp_peer_set out = 0, every = 0;
	for (size_t i = 0; i < s->n_cfg; i++) {
		every |= bgp_peer_bit(i);
		if (peers & bgp_peer_bit(i))
			out |= bgp_peer_bit(s->slot[i]);
	}
	return (peers & every) == every ? BGP_PEERS_ALL : out;
}

int bgp_announce_to(struct bgp_speaker *s, const ip_prefix *prefix, const struct bgp_route_attrs *attrs,
		    bgp_peer_set peers)
{
	ip_prefix p;
	if (!prefix_ok(prefix, &p) || attrs->n_communities > BGP_MAX_COMMUNITIES ||
	    attrs->n_ext_communities > BGP_MAX_EXT_COMMUNITIES ||
	    attrs->n_large_communities > BGP_MAX_LARGE_COMMUNITIES || attrs->n_as_path > BGP_MAX_AS_PATH ||
	    attrs->n_cluster_list > BGP_MAX_CLUSTER_LIST || attrs->origin > BGP_ORIGIN_INCOMPLETE)
		return -1;
	bgp_peer_set changed;
	if (bgp_rib_announce_to(s->rib, &p, attrs, to_slots(s, peers), &changed) < 0)
		return -1;
	tell(s, &p, changed); /* nothing when unchanged */
	return 0;
}

int bgp_withdraw_from(struct bgp_speaker *s, const ip_prefix *prefix, bgp_peer_set peers)
{
	ip_prefix p;
	bgp_peer_set changed;
	if (!prefix_ok(prefix, &p) || bgp_rib_withdraw_from(s->rib, &p, to_slots(s, peers), &changed) < 0)
		return -1;
	tell(s, &p, changed);
	return 0;
}

int bgp_rib_out_get(const struct bgp_speaker *s, const ip_prefix *prefix, size_t peer,
		    struct bgp_route_attrs *out)
{
	ip_prefix p;
	if (!prefix_ok(prefix, &p) || peer >= s->n_cfg)
		return -1;
	const struct bgp_rib_attrs *a = bgp_rib_lookup_peer(s->rib, &p, s->slot[peer]);
	if (!a)
		return -1;
	if (out)
		*out = a->a;
	return 0;
}

void bgp_prefetch(const struct bgp_speaker *s, const ip_prefix *prefix)
{
	if (prefix->len <= ip_max_len(&prefix->addr))
		bgp_rib_prefetch(s->rib, prefix);
}

size_t bgp_rib_out_count(const struct bgp_speaker *s)
{
	return bgp_rib_count(s->rib);
}

int bgp_peer_enable(struct bgp_speaker *s, const ip_addr *peer, bool enabled)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i] && ip_equal(&bgp_session_peer(s->sessions[i])->address, peer)) {
			bgp_session_set_enabled(s->sessions[i], enabled);
			return 0;
		}
	return -1;
}

size_t bgp_speaker_peers(const struct bgp_speaker *s, struct bgp_peer_status *out, size_t max)
{
	for (size_t i = 0; i < s->n_cfg && i < max; i++)
		bgp_session_status(s->sessions[s->slot[i]], &out[i]);
	return s->n_cfg;
}

/* The rule's canonical NLRI: the key in the flow RIB and what goes on the wire. */
static bool flow_key(const struct fs_rule *r, uint8_t *buf, size_t cap, size_t *len, struct fs_err *err)
{
	struct wbuf w = wbuf_init(buf, cap);
	if (!fs_nlri_encode(r, &w, err))
		return false;
	if (w.len > BGP_FLOW_NLRI_MAX) {
		if (err)
			snprintf(err->msg, sizeof err->msg, "rule encodes to %zu octets, more than the %d one UPDATE carries",
				 w.len, BGP_FLOW_NLRI_MAX);
		return false;
	}
	*len = w.len;
	return true;
}

int bgp_announce_flow(struct bgp_speaker *s, const struct fs_rule *r, const struct fs_actions *a,
		      struct fs_err *err)
{
	uint8_t nlri[FS_NLRI_MAX + 2], ext[BGP_FLOW_EXT_MAX], ext6[BGP_FLOW_EXT6_MAX];
	size_t len;
	if (!flow_key(r, nlri, sizeof nlri, &len, err))
		return -1;
	struct wbuf w = wbuf_init(ext, sizeof ext);
	if (a && !fs_actions_encode(a, &w, err))
		return -1;
	/* the IPv6 actions ride in their own attribute (RFC 5701, type 25) */
	struct wbuf w6 = wbuf_init(ext6, sizeof ext6);
	if (a && !fs_actions_encode6(a, &w6, err))
		return -1;
	struct bgp_flow_attrs more = {
		.comm = a ? a->comm : NULL, .n_comm = a ? a->n_comm : 0,
		.next_hop = a && (a->present & FS_ACT_REDIRECT_NH) ? &a->redirect_nh : NULL,
	};
	int rc = bgp_flow_rib_set_attrs(&s->flows, r->afi, nlri, len, ext, w.len / FS_EXTCOMM_LEN, ext6,
					w6.len / FS_EXTCOMM6_LEN, &more);
	if (rc < 0) {
		if (err)
			snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	if (rc == 2)
		return 0;
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i])
			bgp_session_flow_changed(s->sessions[i], r->afi, nlri, len);
	return 0;
}

void bgp_send_eor(struct bgp_speaker *s, bgp_peer_set peers, uint32_t fam)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (peers & bgp_peer_bit(i))
			bgp_session_send_eor(s->sessions[i], fam);
}

int bgp_withdraw_flow(struct bgp_speaker *s, const struct fs_rule *r)
{
	uint8_t nlri[FS_NLRI_MAX + 2];
	size_t len;
	if (!flow_key(r, nlri, sizeof nlri, &len, NULL) || bgp_flow_rib_del(&s->flows, r->afi, nlri, len) < 0)
		return -1;
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i])
			bgp_session_flow_changed(s->sessions[i], r->afi, nlri, len);
	return 0;
}

size_t bgp_flow_count(const struct bgp_speaker *s)
{
	return s->flows.n;
}

/* The keys of a passive peer go on the listener, where accepted sockets inherit them. */
static int listener_key(struct bgp_speaker *s, const struct bgp_peer_config *p, char *err, size_t errlen)
{
	if (!p->passive || !s->listener)
		return 0;
	const ip_addr *la = &s->cfg.listen_address;
	int family = (!ip_is_zero(la) && ip_is_v4(la)) ? AF_INET : AF_INET6;
	if (bgp_set_md5(evconnlistener_get_fd(s->listener), family, &p->address, p->password) < 0) {
		char a[IP_STRLEN];
		errf(err, errlen, "bgp: TCP MD5 for peer %s: %s", ip_format(&p->address, a), strerror(errno));
		return -1;
	}
	return 0;
}

static bool peer_same(const struct bgp_peer_config *a, const struct bgp_peer_config *b)
{
	return a->port == b->port && a->remote_as == b->remote_as && a->families == b->families &&
	       a->passive == b->passive && !strcmp(a->password, b->password) &&
	       ip_equal(&a->local_address, &b->local_address) && a->hold_time == b->hold_time && a->ttl == b->ttl;
}

int bgp_speaker_set_peers(struct bgp_speaker *s, const struct bgp_config *cfg, char *err, size_t errlen)
{
	if (check_peers(cfg, err, errlen) != 0)
		return -1;
	size_t n = cfg->n_peers;
	/* everything that can fail first: the new slot map, room for appended sessions, the RIB's
	 * per-peer views and the new sessions themselves */
	size_t *slot = calloc(n ? n : 1, sizeof *slot);
	struct bgp_session **fresh = calloc(n ? n : 1, sizeof *fresh); /* by configuration index */
	struct bgp_session **grown = realloc(s->sessions, (s->n_sessions + n + 1) * sizeof *grown);
	if (grown)
		s->sessions = grown;
	if (!slot || !fresh || !grown)
		goto oom;
	size_t next = s->n_sessions;
	bool need_listener = false;
	for (size_t i = 0; i < n; i++) {
		const struct bgp_peer_config *p = &cfg->peers[i];
		size_t at = SIZE_MAX;
		for (size_t k = 0; k < s->n_sessions; k++)
			if (s->sessions[k] && ip_equal(&bgp_session_peer(s->sessions[k])->address, &p->address))
				at = k;
		if (at != SIZE_MAX && peer_same(bgp_session_peer(s->sessions[at]), p)) {
			slot[i] = at;
			continue;
		}
		if (at == SIZE_MAX) {
			int r = bgp_rib_add_peer(s->rib);
			if (r < 0)
				goto oom;
			at = next++;
			(void)r; /* the RIB's peer count follows the slots: r == at */
		}
		slot[i] = at;
		if (!(fresh[i] = session_for(s, p, at)))
			goto oom;
		need_listener |= p->passive;
	}
	if (need_listener && s->started && !s->listener && open_listener(s, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (fresh[i] && listener_key(s, &cfg->peers[i], err, errlen) != 0)
			goto fail;

	/* commit: removed peers go with "peer de-configured", changed ones with "other
	 * configuration change" and start again in their place */
	char a[IP_STRLEN];
	for (size_t k = 0; k < s->n_sessions; k++) {
		if (!s->sessions[k])
			continue;
		bool listed = false, replaced = false;
		for (size_t i = 0; i < n; i++)
			if (slot[i] == k) {
				listed = true;
				replaced = fresh[i] != NULL;
			}
		if (listed && !replaced)
			continue;
		const ip_addr *addr = &bgp_session_peer(s->sessions[k])->address;
		log_info("bgp: peer %s %s: closing it with CEASE (%s)", ip_format(addr, a),
			 listed ? "changed" : "removed", listed ? "other configuration change" : "peer de-configured");
		bgp_session_free_cease(s->sessions[k], listed ? BGP_ERR_CEASE_CONFIG_CHANGE : BGP_ERR_CEASE_DECONFIGURED);
		s->sessions[k] = NULL;
	}
	for (size_t k = s->n_sessions; k < next; k++)
		s->sessions[k] = NULL;
	s->n_sessions = next;
	for (size_t i = 0; i < n; i++) {
		if (!fresh[i])
			continue;
		s->sessions[slot[i]] = fresh[i];
		log_info("bgp: peer %s (AS %u) %s", ip_format(&cfg->peers[i].address, a), cfg->peers[i].remote_as,
			 s->started ? "starting" : "configured");
		if (s->started)
			bgp_session_start(fresh[i]);
	}
	free(s->slot);
	s->slot = slot;
	s->n_cfg = n;
	free(fresh);
	return 0;
oom:
	errf(err, errlen, "bgp: out of memory");
fail:
	for (size_t i = 0; fresh && i < n; i++)
		bgp_session_free(fresh[i]);
	free(fresh);
	free(slot);
	return -1;
}
