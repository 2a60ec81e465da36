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
#include "rib_out.h"
#include "session.h"

struct bgp_speaker {
	struct event_base *base;
	struct bgp_config cfg; /* peers points into our own copy */
	uint32_t router_id;
	struct bgp_rib *rib;
	struct bgp_flow_rib flows;
	struct bgp_session **sessions;
	size_t n_sessions;
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

struct bgp_speaker *bgp_speaker_new(struct event_base *base, const struct bgp_config *cfg, char *err,
				    size_t errlen)
{
	if (!cfg->local_as) {
		errf(err, errlen, "bgp: local_as is required");
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct bgp_peer_config *p = &cfg->peers[i];
		char a[IP_STRLEN];
		if (ip_is_zero(&p->address) || !p->remote_as) {
			errf(err, errlen, "bgp: peer %zu needs an address and a remote_as", i + 1);
			return NULL;
		}
		if (p->hold_time == 1 || p->hold_time == 2) {
			errf(err, errlen, "bgp: peer %s: hold time must be 0 or at least 3", ip_format(&p->address, a));
			return NULL;
		}
		if (strlen(p->password) > BGP_PASSWORD_MAX) {
			errf(err, errlen, "bgp: peer %s: password longer than %d", ip_format(&p->address, a),
			     BGP_PASSWORD_MAX);
			return NULL;
		}
		for (size_t j = 0; j < i; j++)
			if (ip_equal(&cfg->peers[j].address, &p->address)) {
				errf(err, errlen, "bgp: peer %s configured twice", ip_format(&p->address, a));
				return NULL;
			}
	}
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
	if (!s->rib || !s->sessions)
		goto oom;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct bgp_session_params sp = {
			.base = base, .peer = &cfg->peers[i], .local_as = cfg->local_as,
			.router_id = router_id, .connect_retry_s = cfg->connect_retry_s, .rib = s->rib,
			.flows = &s->flows, .graceful_restart_s = cfg->graceful_restart_s, .index = i,
			.end_of_rib_delay_s = cfg->end_of_rib_delay_s,
		};
		s->sessions[i] = bgp_session_new(&sp);
		if (!s->sessions[i])
			goto oom;
		s->n_sessions++;
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
		if (ip_equal(&bgp_session_peer(s->sessions[i])->address, &from)) {
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
		any_passive |= bgp_session_peer(s->sessions[i])->passive;
	if (any_passive && !s->listener && open_listener(s, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < s->n_sessions; i++)
		bgp_session_start(s->sessions[i]);
	return 0;
}

void bgp_speaker_set_restart(struct bgp_speaker *s, enum bgp_restart r)
{
	for (size_t i = 0; i < s->n_sessions; i++)
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
		if (changed & bgp_peer_bit(i))
			bgp_session_route_changed(s->sessions[i], p);
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
	if (bgp_rib_announce_to(s->rib, &p, attrs, peers, &changed) < 0)
		return -1;
	tell(s, &p, changed); /* nothing when unchanged */
	return 0;
}

int bgp_withdraw_from(struct bgp_speaker *s, const ip_prefix *prefix, bgp_peer_set peers)
{
	ip_prefix p;
	bgp_peer_set changed;
	if (!prefix_ok(prefix, &p) || bgp_rib_withdraw_from(s->rib, &p, peers, &changed) < 0)
		return -1;
	tell(s, &p, changed);
	return 0;
}

int bgp_rib_out_get(const struct bgp_speaker *s, const ip_prefix *prefix, size_t peer,
		    struct bgp_route_attrs *out)
{
	ip_prefix p;
	if (!prefix_ok(prefix, &p) || peer >= s->n_sessions)
		return -1;
	const struct bgp_rib_attrs *a = bgp_rib_lookup_peer(s->rib, &p, peer);
	if (!a)
		return -1;
	if (out)
		*out = a->a;
	return 0;
}

size_t bgp_rib_out_count(const struct bgp_speaker *s)
{
	return bgp_rib_count(s->rib);
}

int bgp_peer_enable(struct bgp_speaker *s, const ip_addr *peer, bool enabled)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (ip_equal(&bgp_session_peer(s->sessions[i])->address, peer)) {
			bgp_session_set_enabled(s->sessions[i], enabled);
			return 0;
		}
	return -1;
}

size_t bgp_speaker_peers(const struct bgp_speaker *s, struct bgp_peer_status *out, size_t max)
{
	for (size_t i = 0; i < s->n_sessions && i < max; i++)
		bgp_session_status(s->sessions[i], &out[i]);
	return s->n_sessions;
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
		bgp_session_flow_changed(s->sessions[i], r->afi, nlri, len);
	return 0;
}

size_t bgp_flow_count(const struct bgp_speaker *s)
{
	return s->flows.n;
}
