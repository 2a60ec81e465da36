/* One BGP session: the RFC 4271 state machine (Idle, Connect, Active, OpenSent, OpenConfirm,
 * Established), its timers, and its TCP connection as a bufferevent whose output buffer is the
 * send queue. Bytes from the peer go through bgp/msg once; everything after works on validated
 * messages. */
#include "session.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "msg.h"

enum bgp_state { ST_IDLE, ST_CONNECT, ST_ACTIVE, ST_OPENSENT, ST_OPENCONFIRM, ST_ESTABLISHED };

static const char *const state_names[] = {"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"};

#define OPENSENT_HOLD_S 240 /* RFC 4271 8.2.2: a large hold time until the OPEN arrives */
#define CONNECT_TIMEOUT_S 30
#define LINGER_S 2          /* how long a NOTIFICATION may take to leave before we just close */

struct bgp_session {
	struct event_base *base;
	struct bgp_peer_config cfg;
	uint32_t local_as;
	uint32_t router_id;
	uint32_t retry_initial_s;
	uint32_t retry_s; /* the next delay: doubles on each failure up to BGP_RETRY_MAX_S */
	const struct bgp_rib *rib;
	const struct bgp_flow_rib *frib;
	uint16_t gr_time;

	enum bgp_state state;
	uint64_t state_since_s;
	struct bufferevent *bev;
	struct event *retry_ev; /* ConnectRetry, and the connect timeout while in Connect */
	struct event *hold_ev;
	struct event *ka_ev;
	struct event *flush_ev;
	bool flush_scheduled;
	struct event *eor_ev;    /* sends the End-of-RIB held back after the start */
	uint16_t eor_delay_s;
	uint64_t eor_until_s;    /* monotonic; End-of-RIB is held back before this */

	/* negotiated */
	ip_addr local;
	uint16_t hold;
	uint32_t families;
	bool as4;
	bool peer_gr; /* the peer has graceful restart */
	bool ext_msg; /* both sides have extended messages: the peer may send up to 65535 bytes */
	bool enhanced_rr; /* both sides have enhanced route refresh (RFC 7313) */
	bool ext_nh;      /* IPv4 routes may go with an IPv6 next hop (RFC 8950, both sides) */
	bool restarting;  /* not Established yet since we started: the R bit, if restart says so */
	enum bgp_restart restart;
	bool admin_down;

	struct bgp_adj_out adj;
	struct bgp_flow_q fq;
	/* one line each: a session reset, a treat-as-withdraw and an attribute discard are different
	 * events and none may hide the others behind its rate limit */
	struct log_once lo_update, lo_nexthop, lo_taw, lo_discard;

	uint64_t updates_sent, updates_received, prefixes_sent, established_count;
	uint64_t prefixes_received, withdrawn_received, taw_received, attrs_discarded;
	char last_error[128];
};

static uint64_t mono_s(void)
{
	return clock_mono_ns() / 1000000000ull;
}

static const char *peer_str(const struct bgp_session *s, char buf[IP_STRLEN])
{
	return ip_format(&s->cfg.address, buf);
}

static void set_state(struct bgp_session *s, enum bgp_state st, const char *reason)
{
	if (s->state == st)
		return;
	char a[IP_STRLEN];
	log_info("bgp: peer %s AS%u: %s -> %s%s%s", peer_str(s, a), s->cfg.remote_as,
		 state_names[s->state], state_names[st], reason ? ": " : "", reason ? reason : "");
	s->state = st;
	s->state_since_s = mono_s();
}

static void set_error(struct bgp_session *s, const char *fmt, const char *a, unsigned c, unsigned sc)
{
	snprintf(s->last_error, sizeof s->last_error, fmt, a, c, sc);
}

/* ---- sockets ---- */

socklen_t bgp_sockaddr(const ip_addr *a, uint16_t port, int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->b + 12, 4);
		return sizeof *sin;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->b, 16); /* IPv4 stays mapped on a dual-stack socket */
	return sizeof *sin6;
}

static void from_sockaddr(const struct sockaddr_storage *ss, ip_addr *a)
{
	if (ss->ss_family == AF_INET)
		ip_from_v4(a, (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr);
	else
		ip_from_v6(a, (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int bgp_set_md5(int fd, int family, const ip_addr *peer, const char *password)
{
	struct tcp_md5sig md5;
	memset(&md5, 0, sizeof md5);
	bgp_sockaddr(peer, 0, family, (struct sockaddr_storage *)&md5.tcpm_addr);
	size_t n = strlen(password);
	if (n > TCP_MD5SIG_MAXKEYLEN)
		n = TCP_MD5SIG_MAXKEYLEN;
	md5.tcpm_keylen = (uint16_t)n;
	memcpy(md5.tcpm_key, password, n);
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof md5);
}

static void set_ttl(int fd, int family, int ttl)
{
	/* IPv4 on a dual-stack socket uses IP_TTL; set both, the irrelevant one is harmless */
	setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
}

static int session_ttl(const struct bgp_session *s)
{
	return s->cfg.ttl ? s->cfg.ttl : s->cfg.remote_as == s->local_as ? 64 : 1;
}

/* ---- connection lifetime ---- */

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

/* A connection we are done with but whose last NOTIFICATION should still reach the peer: it
 * lives on its own until its output drains, it fails, or LINGER_S pass. */
static void linger_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void linger_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void stop_timers(struct bgp_session *s)
{
	event_del(s->hold_ev);
	event_del(s->ka_ev);
	event_del(s->flush_ev);
	s->flush_scheduled = false;
	event_del(s->retry_ev);
	event_del(s->eor_ev);
}

static void arm(struct event *ev, unsigned secs)
{
	struct timeval tv = {.tv_sec = secs};
	event_add(ev, &tv);
}

static void schedule_retry(struct bgp_session *s)
{
	if (s->cfg.passive || s->admin_down)
		return;
	arm(s->retry_ev, s->retry_s);
	s->retry_s = s->retry_s * 2 > BGP_RETRY_MAX_S ? BGP_RETRY_MAX_S : s->retry_s * 2;
}

/* Ends the connection (after a NOTIFICATION when code != 0) and goes back to waiting. */
static void drop(struct bgp_session *s, uint8_t code, uint8_t subcode, const void *data,
		 size_t data_len, enum bgp_state next, const char *reason)
{
	stop_timers(s);
	if (s->bev) {
		struct bufferevent *bev = s->bev;
		s->bev = NULL;
		if (code) {
			uint8_t buf[BGP_MSG_MAX];
			struct wbuf w = wbuf_init(buf, sizeof buf);
			if (data_len > BGP_MSG_MAX - BGP_HDR_LEN - 2)
				data_len = BGP_MSG_MAX - BGP_HDR_LEN - 2;
			size_t len = bgp_msg_notification(&w, code, subcode, data, data_len);
			bufferevent_write(bev, buf, len);
			bufferevent_disable(bev, EV_READ);
			bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
			bufferevent_setcb(bev, NULL, linger_write_cb, linger_event_cb, NULL);
			struct timeval tv = {.tv_sec = LINGER_S};
			bufferevent_set_timeouts(bev, NULL, &tv);
		} else {
			bufferevent_free(bev);
		}
	}
	bgp_adj_reset(&s->adj);
	bgp_flow_q_reset(&s->fq);
	s->hold = 0;
	s->families = 0;
	s->as4 = s->ext_msg = s->enhanced_rr = s->ext_nh = false;
	if (s->cfg.passive)
		next = ST_ACTIVE;
	if (s->admin_down)
		next = ST_IDLE;
	set_state(s, next, reason);
	schedule_retry(s);
}

static void notify_and_drop(struct bgp_session *s, const struct bgp_msg_err *e)
{
	set_error(s, "sent NOTIFICATION %s (%u/%u)", bgp_msg_err_name(e->code), e->code, e->subcode);
	char reason[200];
	snprintf(reason, sizeof reason, "%s, sent NOTIFICATION %u/%u", e->reason, e->code, e->subcode);
	drop(s, e->code, e->subcode, e->data, e->data_len, ST_IDLE, reason);
}

static int send_msg(struct bgp_session *s, const uint8_t *msg, size_t len)
{
	if (!s->bev || len == 0)
		return -1;
	return bufferevent_write(s->bev, msg, len);
}

static void send_keepalive(struct bgp_session *s)
{
	uint8_t buf[BGP_HDR_LEN];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	send_msg(s, buf, bgp_msg_keepalive(&w));
}

static void send_open(struct bgp_session *s)
{
	uint8_t buf[128];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	/* our first session since start, and we restarted (RFC 4724 3: the peer may still hold our
	 * routes); unless told, routes in the RIB-out by now stand for a restart with state */
	bool r = s->restarting && (s->restart == BGP_RESTART_YES ||
				   (s->restart == BGP_RESTART_GUESS && (bgp_rib_count(s->rib) > 0 || s->frib->n > 0)));
	send_msg(s, buf, bgp_msg_open_ext(&w, s->local_as, s->cfg.hold_time, s->router_id, s->cfg.families,
					      s->gr_time, r, s->cfg.extended_next_hop));
}

/* The TCP connection is up, whichever side opened it. */
static void connected(struct bgp_session *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = bufferevent_getfd(s->bev);
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		from_sockaddr(&ss, &s->local);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	event_del(s->retry_ev);
	bufferevent_setwatermark(s->bev, EV_WRITE, BGP_OUT_LOW_WATER, 0);
	/* libevent's default, 16 KiB a writable event, capped a burst of API lines at 16 KiB of
	 * UPDATEs per loop pass, the peer idle meanwhile: the socket buffer bounds a write instead */
	bufferevent_set_max_single_write(s->bev, BGP_OUT_HIGH_WATER);
	bufferevent_set_max_single_read(s->bev, BGP_IN_MAX_READ);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	send_open(s);
	arm(s->hold_ev, OPENSENT_HOLD_S);
	set_state(s, ST_OPENSENT, "TCP connected, OPEN sent");
}

static void start_connect(struct bgp_session *s)
{
	int family = ip_is_v4(&s->cfg.address) ? AF_INET : AF_INET6;
	struct sockaddr_storage ss;
	socklen_t sl = bgp_sockaddr(&s->cfg.address, s->cfg.port, family, &ss);
	char reason[sizeof ((struct bgp_session *)0)->last_error];
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (s->cfg.password[0] && bgp_set_md5(fd, family, &s->cfg.address, s->cfg.password) < 0)
		goto fail;
	set_ttl(fd, family, session_ttl(s));
	if (!ip_is_zero(&s->cfg.local_address)) {
		struct sockaddr_storage ls;
		socklen_t ll = bgp_sockaddr(&s->cfg.local_address, 0, family, &ls);
		if (bind(fd, (struct sockaddr *)&ls, ll) < 0)
			goto fail;
	}
	s->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev)
		goto fail;
	fd = -1; /* the bufferevent owns it now */
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		bufferevent_free(s->bev);
		s->bev = NULL;
		goto fail;
	}
	set_state(s, ST_CONNECT, NULL);
	arm(s->retry_ev, CONNECT_TIMEOUT_S);
	return;
fail:
	snprintf(reason, sizeof reason, "connect: %s", strerror(errno));
	snprintf(s->last_error, sizeof s->last_error, "%s", reason);
	if (fd >= 0)
		close(fd);
	set_state(s, ST_ACTIVE, reason);
	schedule_retry(s);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bgp_session *s = arg;
	if (s->state == ST_CONNECT) {
		snprintf(s->last_error, sizeof s->last_error, "connect timed out");
		drop(s, 0, 0, NULL, 0, ST_ACTIVE, "connect timed out");
		return;
	}
	if (!s->bev && !s->cfg.passive)
		start_connect(s);
}

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bgp_msg_err e = {.code = BGP_ERR_HOLD, .reason = "hold timer expired"};
	notify_and_drop(arg, &e);
}

static void ka_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_keepalive(arg);
}

static int out_send(void *arg, const uint8_t *msg, size_t len)
{
	return send_msg(arg, msg, len);
}

static bool out_full(void *arg)
{
	struct bgp_session *s = arg;
	return evbuffer_get_length(bufferevent_get_output(s->bev)) > BGP_OUT_HIGH_WATER;
}

/* Produces UPDATEs from the queue until it is empty or the output is past the high-water mark;
 * write_cb resumes when the peer has read enough. */
static void flush(struct bgp_session *s)
{
	if (s->state != ST_ESTABLISHED || !s->bev)
		return;
	struct bgp_out_ctx c = {
		.local_as = s->local_as, .ebgp = s->cfg.remote_as != s->local_as, .as4 = s->as4,
		.families = s->families, .local = s->local, .no_nexthop = &s->lo_nexthop,
		.send = out_send, .full = out_full, .arg = s,
		.max_msg = s->ext_msg ? BGP_MSG_EXT_MAX : BGP_MSG_MAX, /* RFC 8654 both ways */
		.ext_nh = s->ext_nh,
	};
	/* rules first: the End-of-RIB markers go out at the end of the unicast queue */
	int r = bgp_flow_q_flush(&s->fq, s->frib, &c);
	if (r == 1)
		r = bgp_adj_flush(&s->adj, s->rib, &c);
	s->updates_sent += c.updates;
	s->prefixes_sent += c.prefixes;
	if (r < 0) {
		struct bgp_msg_err e = {.code = BGP_ERR_CEASE, .reason = "cannot queue output"};
		notify_and_drop(s, &e);
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bgp_session *s = arg;
	s->flush_scheduled = false;
	flush(s);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct bgp_session *s = arg;
	/* the output drained below the low-water mark: produce more if we paused */
	if (bgp_adj_pending(&s->adj) || s->fq.n > 0)
		flush(s);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct bgp_session *s = arg;
	if (what & BEV_EVENT_CONNECTED) {
		connected(s);
		return;
	}
	char reason[sizeof ((struct bgp_session *)0)->last_error];
	if (s->state == ST_CONNECT) {
		int err = evutil_socket_geterror(bufferevent_getfd(bev));
		snprintf(reason, sizeof reason, "connect: %s", evutil_socket_error_to_string(err));
		snprintf(s->last_error, sizeof s->last_error, "%s", reason);
		drop(s, 0, 0, NULL, 0, ST_ACTIVE, reason);
		return;
	}
	snprintf(reason, sizeof reason, "%s",
		 (what & BEV_EVENT_EOF) ? "connection closed by peer" : "connection error");
	if (what & BEV_EVENT_ERROR)
		snprintf(reason, sizeof reason, "connection error: %s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	snprintf(s->last_error, sizeof s->last_error, "%s", reason);
	drop(s, 0, 0, NULL, 0, ST_IDLE, reason);
}

/* ---- messages ---- */

static int fsm_error(struct bgp_session *s, const char *reason)
{
	struct bgp_msg_err e = {.code = BGP_ERR_FSM, .reason = reason};
	notify_and_drop(s, &e);
	return -1;
}

static int on_open(struct bgp_session *s, const uint8_t *body, size_t len)
{
	if (s->state != ST_OPENSENT)
		return fsm_error(s, "OPEN in wrong state");
	struct bgp_open o;
	struct bgp_msg_err e;
	if (bgp_msg_open_decode(body, len, &o, &e) < 0 || bgp_msg_open_check(&o, s->cfg.remote_as, &e) < 0) {
		notify_and_drop(s, &e);
		return -1;
	}
	/* the smaller hold time wins; 0 on either side means no keepalives (RFC 4271 4.2) */
	s->hold = o.hold_time < s->cfg.hold_time ? o.hold_time : s->cfg.hold_time;
	s->families = s->cfg.families & (o.has_mp ? o.families : BGP_FAM_IPV4_UNICAST);
	s->as4 = o.has_as4;
	s->peer_gr = o.has_gr;
	s->ext_msg = o.ext_msg;
	s->enhanced_rr = o.enhanced_rr;
	/* RFC 8950 4: an IPv6 next hop for IPv4 NLRI only to a peer that offered to take it */
	s->ext_nh = s->cfg.extended_next_hop && o.ext_nh_v4 && (s->families & BGP_FAM_IPV4_UNICAST);
	send_keepalive(s);
	event_del(s->hold_ev);
	if (s->hold)
		arm(s->hold_ev, s->hold);
	set_state(s, ST_OPENCONFIRM, "OPEN received");
	return 0;
}

static void established(struct bgp_session *s)
{
	s->retry_s = s->retry_initial_s;
	s->restarting = false;
	s->established_count++;
	s->last_error[0] = '\0';
	if (s->hold) {
		struct timeval tv = {.tv_sec = s->hold / 3 ? s->hold / 3 : 1};
		event_add(s->ka_ev, &tv);
	}
	char reason[96];
	snprintf(reason, sizeof reason, "hold %us, families 0x%x, %s", s->hold, s->families,
		 s->as4 ? "4-octet AS" : "2-octet AS");
	set_state(s, ST_ESTABLISHED, reason);
	/* shortly after our start the bans are still being re-made: End-of-RIB waits for them */
	uint64_t now = mono_s();
	uint32_t eor = s->families;
	if (now < s->eor_until_s) {
		eor = 0;
		arm(s->eor_ev, (unsigned)(s->eor_until_s - now));
	}
	if (bgp_flow_q_replay(&s->fq, s->frib) < 0 || bgp_adj_replay(&s->adj, s->rib, eor) < 0) {
		struct bgp_msg_err e = {.code = BGP_ERR_CEASE, .reason = "out of memory for the replay"};
		notify_and_drop(s, &e);
		return;
	}
	flush(s);
}

static void eor_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bgp_session *s = arg;
	if (s->state != ST_ESTABLISHED)
		return;
	char a[IP_STRLEN];
	log_info("bgp: peer %s: End-of-RIB after the %us start delay", peer_str(s, a), s->eor_delay_s);
	s->adj.eor |= s->families;
	flush(s);
}

static int on_update(struct bgp_session *s, const uint8_t *body, size_t len)
{
	if (s->state != ST_ESTABLISHED)
		return fsm_error(s, "UPDATE before Established");
	struct bgp_update_info u;
	struct bgp_msg_err e;
	struct bgp_update_ctx c = {.as4 = s->as4, .ebgp = s->cfg.remote_as != s->local_as};
	char a[IP_STRLEN];
	if (bgp_msg_update_decode_ctx(body, len, &c, &u, &e) < 0) {
		log_once(&s->lo_update, "bgp: peer %s: malformed UPDATE: %s", peer_str(s, a), e.reason);
		notify_and_drop(s, &e);
		return -1;
	}
	s->updates_received++;
	s->prefixes_received += u.announced;
	s->withdrawn_received += u.withdrawn;
	if (u.treat_as_withdraw) {
		s->taw_received++;
		log_once(&s->lo_taw,
			 "bgp: peer %s AS%u: UPDATE treated as withdraw (RFC 7606), attribute %u %s: %s; "
			 "%u prefixes withdrawn (%llu such UPDATEs from this peer)",
			 peer_str(s, a), s->cfg.remote_as, u.taw_attr, bgp_msg_attr_name(u.taw_attr),
			 u.taw_reason, u.withdrawn, (unsigned long long)s->taw_received);
	}
	if (u.attrs_discarded) {
		s->attrs_discarded += u.attrs_discarded;
		log_once(&s->lo_discard,
			 "bgp: peer %s AS%u: attribute discarded (RFC 7606), attribute %u %s: %s; "
			 "%u in this UPDATE (%llu attributes from this peer)",
			 peer_str(s, a), s->cfg.remote_as, u.discard_attr,
			 bgp_msg_attr_name(u.discard_attr), u.discard_reason, u.attrs_discarded,
			 (unsigned long long)s->attrs_discarded);
	}
	return 0;
}

static int on_notification(struct bgp_session *s, const uint8_t *body, size_t len)
{
	struct bgp_notification n;
	struct bgp_msg_err e;
	if (bgp_msg_notification_decode(body, len, &n, &e) < 0)
		n.code = n.subcode = 0;
	set_error(s, "received NOTIFICATION %s (%u/%u)", bgp_msg_err_name(n.code), n.code, n.subcode);
	drop(s, 0, 0, NULL, 0, ST_IDLE, s->last_error);
	return -1;
}

static int on_route_refresh(struct bgp_session *s, const uint8_t *body, size_t len)
{
	if (s->state != ST_ESTABLISHED)
		return fsm_error(s, "ROUTE-REFRESH before Established");
	uint16_t afi;
	uint8_t safi, sub;
	struct bgp_msg_err e;
	if (bgp_msg_route_refresh_decode_sub(body, len, &afi, &safi, &sub, &e) < 0) {
		/* RFC 7313 5: the data is the whole ROUTE-REFRESH message as received */
		uint8_t m[BGP_MSG_MAX];
		size_t n = len > sizeof m - BGP_HDR_LEN ? sizeof m - BGP_HDR_LEN : len;
		memset(m, 0xff, 16);
		m[16] = (uint8_t)((len + BGP_HDR_LEN) >> 8);
		m[17] = (uint8_t)(len + BGP_HDR_LEN);
		m[18] = BGP_MSG_ROUTE_REFRESH;
		memcpy(m + BGP_HDR_LEN, body, n);
		char a[IP_STRLEN];
		log_once(&s->lo_update, "bgp: peer %s: %s (%zu octets)", peer_str(s, a), e.reason, len);
		set_error(s, "sent NOTIFICATION %s (%u/%u)", bgp_msg_err_name(e.code), e.code, e.subcode);
		char reason[200];
		snprintf(reason, sizeof reason, "%s, sent NOTIFICATION %u/%u", e.reason, e.code, e.subcode);
		drop(s, e.code, e.subcode, m, BGP_HDR_LEN + n, ST_IDLE, reason);
		return -1;
	}
	if (sub != BGP_RR_REQUEST)
		return 0; /* the peer's BoRR/EoRR around its own routes (we install none), or unknown: ignored */
	/* RFC 2918: send the Adj-RIB-Out of that family again; RFC 7313: between BoRR and EoRR */
	uint32_t fam = bgp_msg_family(afi, safi) & s->families;
	if (fam && s->enhanced_rr) {
		uint8_t buf[32];
		struct wbuf w = wbuf_init(buf, sizeof buf);
		send_msg(s, buf, bgp_msg_route_refresh_sub(&w, afi, safi, BGP_RR_BORR));
		s->adj.eorr |= fam;
	}
	int r = 0;
	if (fam & (BGP_FAM_IPV4_FLOWSPEC | BGP_FAM_IPV6_FLOWSPEC))
		r = bgp_flow_q_replay(&s->fq, s->frib);
	else if (fam)
		r = bgp_adj_replay(&s->adj, s->rib, 0);
	if (r < 0) {
		struct bgp_msg_err ce = {.code = BGP_ERR_CEASE, .reason = "out of memory for the refresh"};
		notify_and_drop(s, &ce);
		return -1;
	}
	if (fam) {
		char a[IP_STRLEN];
		log_info("bgp: peer %s: ROUTE-REFRESH AFI %u SAFI %u, sending the RIB-out again", peer_str(s, a),
			 afi, safi);
		flush(s);
	}
	return 0;
}

/* Returns -1 when the connection is gone. */
static int handle(struct bgp_session *s, uint8_t type, const uint8_t *body, size_t len)
{
	if (s->hold && (s->state == ST_OPENCONFIRM || s->state == ST_ESTABLISHED))
		arm(s->hold_ev, s->hold);
	switch (type) {
	case BGP_MSG_OPEN:
		return on_open(s, body, len);
	case BGP_MSG_UPDATE:
		return on_update(s, body, len);
	case BGP_MSG_NOTIFICATION:
		return on_notification(s, body, len);
	case BGP_MSG_KEEPALIVE:
		if (s->state == ST_OPENCONFIRM)
			established(s);
		else if (s->state != ST_ESTABLISHED)
			return fsm_error(s, "KEEPALIVE in wrong state");
		return s->bev ? 0 : -1;
	case BGP_MSG_ROUTE_REFRESH:
		return on_route_refresh(s, body, len);
	}
	return 0;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct bgp_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		if (avail < BGP_HDR_LEN)
			return;
		const uint8_t *p = evbuffer_pullup(in, BGP_HDR_LEN);
		uint8_t type;
		uint16_t len;
		struct bgp_msg_err e;
		if (bgp_msg_header_ext(p, s->ext_msg, &type, &len, &e) < 0) {
			char a[IP_STRLEN];
			log_once(&s->lo_update, "bgp: peer %s: bad message header: %s", peer_str(s, a), e.reason);
			notify_and_drop(s, &e);
			return;
		}
		if (avail < len)
			return;
		p = evbuffer_pullup(in, len);
		if (handle(s, type, p + BGP_HDR_LEN, len - BGP_HDR_LEN) < 0)
			return; /* the bufferevent is freed or lingering: do not touch it */
		evbuffer_drain(in, len);
	}
}

/* ---- public (to the speaker) ---- */

struct bgp_session *bgp_session_new(const struct bgp_session_params *p)
{
	struct bgp_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->base = p->base;
	s->cfg = *p->peer;
	s->local_as = p->local_as;
	s->router_id = p->router_id;
	s->retry_initial_s = s->retry_s = p->connect_retry_s ? p->connect_retry_s : 5;
	s->rib = p->rib;
	s->frib = p->flows;
	s->gr_time = p->graceful_restart_s;
	s->eor_delay_s = p->end_of_rib_delay_s;
	s->state = ST_IDLE;
	s->state_since_s = mono_s();
	s->restarting = true;
	bgp_adj_init(&s->adj);
	s->adj.peer = p->index;
	bgp_flow_q_init(&s->fq);
	s->retry_ev = evtimer_new(s->base, retry_cb, s);
	s->hold_ev = evtimer_new(s->base, hold_cb, s);
	s->ka_ev = event_new(s->base, -1, EV_PERSIST, ka_cb, s);
	s->flush_ev = event_new(s->base, -1, 0, flush_cb, s);
	s->eor_ev = evtimer_new(s->base, eor_cb, s);
	if (!s->retry_ev || !s->hold_ev || !s->ka_ev || !s->flush_ev || !s->eor_ev) {
		bgp_session_free(s);
		return NULL;
	}
	return s;
}

void bgp_session_start(struct bgp_session *s)
{
	s->eor_until_s = s->eor_delay_s ? mono_s() + s->eor_delay_s : 0;
	if (s->cfg.passive)
		set_state(s, ST_ACTIVE, "passive, waiting for the peer");
	else
		start_connect(s);
}

bool bgp_session_accept(struct bgp_session *s, int fd)
{
	char a[IP_STRLEN];
	if (s->admin_down) {
		log_info("bgp: peer %s: connection refused, administratively down", peer_str(s, a));
		close(fd);
		return false;
	}
	if (s->bev) {
		log_info("bgp: peer %s: second connection refused (one per peer), state %s",
			 peer_str(s, a), state_names[s->state]);
		close(fd);
		return false;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int family = getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 ? ss.ss_family : AF_INET6;
	set_ttl(fd, family, session_ttl(s));
	evutil_make_socket_nonblocking(fd);
	s->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		close(fd);
		return false;
	}
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	connected(s);
	return true;
}

/* Shutdown, best effort and without the loop (the caller may free it next): what is queued, then
 * CEASE if all of that went, since after a partial message a NOTIFICATION would be garbage.
 * libevent keeps the start of a socket bufferevent's output frozen to all but its own write
 * path, so evbuffer_write() cannot be used here: we send the chunks ourselves. */
static void send_cease_now(struct bgp_session *s, uint8_t subcode)
{
	int fd = bufferevent_getfd(s->bev);
	struct evbuffer *out = bufferevent_get_output(s->bev);
	bool all = true;
	struct evbuffer_iovec v[16];
	struct evbuffer_ptr at;
	evbuffer_ptr_set(out, &at, 0, EVBUFFER_PTR_SET);
	while (all) {
		int n = evbuffer_peek(out, -1, &at, v, 16);
		if (n <= 0)
			break;
		size_t done = 0;
		for (int i = 0; i < n && i < 16 && all; i++) {
			ssize_t w = send(fd, v[i].iov_base, v[i].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
			all = w == (ssize_t)v[i].iov_len;
			done += w > 0 ? (size_t)w : 0;
		}
		if (n <= 16 || evbuffer_ptr_set(out, &at, done, EVBUFFER_PTR_ADD) < 0)
			break;
	}
	if (all) {
		uint8_t buf[32];
		struct wbuf w = wbuf_init(buf, sizeof buf);
		size_t len = bgp_msg_notification(&w, BGP_ERR_CEASE, subcode, NULL, 0);
		(void)!send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	/* unread input would turn close() into a RST, which can discard the CEASE at the peer */
	shutdown(fd, SHUT_WR);
	uint8_t sink[4096];
	for (int i = 0; i < 64 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
		;
}

void bgp_session_free(struct bgp_session *s)
{
	bgp_session_free_cease(s, BGP_ERR_CEASE_SHUTDOWN);
}

void bgp_session_free_cease(struct bgp_session *s, uint8_t subcode)
{
	if (!s)
		return;
	if (s->bev) {
		if (s->state >= ST_OPENSENT)
			send_cease_now(s, subcode);
		bufferevent_free(s->bev);
		s->bev = NULL;
		set_state(s, ST_IDLE, "speaker shut down");
	}
	if (s->retry_ev) event_free(s->retry_ev);
	if (s->hold_ev) event_free(s->hold_ev);
	if (s->ka_ev) event_free(s->ka_ev);
	if (s->flush_ev) event_free(s->flush_ev);
	if (s->eor_ev) event_free(s->eor_ev);
	bgp_adj_free(&s->adj);
	bgp_flow_q_free(&s->fq);
	free(s);
}

void bgp_session_route_changed(struct bgp_session *s, const ip_prefix *p)
{
	if (s->state != ST_ESTABLISHED)
		return; /* the replay on Established sends the RIB-out as it is then */
	if (bgp_adj_push(&s->adj, p) < 0) {
		struct bgp_msg_err e = {.code = BGP_ERR_CEASE, .reason = "out of memory for the queue"};
		notify_and_drop(s, &e);
		return;
	}
	/* batch: everything announced in this turn of the loop leaves packed together */
	if (!s->flush_scheduled) {
		s->flush_scheduled = true;
		event_active(s->flush_ev, 0, 0);
	}
}

void bgp_session_flow_changed(struct bgp_session *s, uint8_t afi, const uint8_t *nlri, size_t len)
{
	if (s->state != ST_ESTABLISHED)
		return; /* the replay on Established sends the flow RIB as it is then */
	if (bgp_flow_q_push(&s->fq, afi, nlri, len) < 0) {
		struct bgp_msg_err e = {.code = BGP_ERR_CEASE, .reason = "out of memory for the queue"};
		notify_and_drop(s, &e);
		return;
	}
	if (!s->flush_scheduled) {
		s->flush_scheduled = true;
		event_active(s->flush_ev, 0, 0);
	}
}

void bgp_session_send_eor(struct bgp_session *s, uint32_t fam)
{
	if (s->state != ST_ESTABLISHED || !(fam & s->families))
		return;
	s->adj.eor |= fam & s->families;
	if (!s->flush_scheduled) {
		s->flush_scheduled = true;
		event_active(s->flush_ev, 0, 0);
	}
}

void bgp_session_set_restart(struct bgp_session *s, enum bgp_restart r)
{
	s->restart = r;
}

void bgp_session_set_enabled(struct bgp_session *s, bool enabled)
{
	if (enabled == !s->admin_down)
		return;
	if (!enabled) {
		s->admin_down = true;
		snprintf(s->last_error, sizeof s->last_error, "administratively down");
		/* a session that has sent its OPEN is told why; one still connecting is just closed */
		bool tell = s->bev && s->state >= ST_OPENSENT;
		drop(s, tell ? BGP_ERR_CEASE : 0, tell ? BGP_ERR_CEASE_SHUTDOWN : 0, NULL, 0, ST_IDLE,
		     "administrative shutdown");
		return;
	}
	s->admin_down = false;
	s->last_error[0] = '\0';
	s->retry_s = s->retry_initial_s;
	set_state(s, ST_IDLE, "administratively enabled");
	bgp_session_start(s);
}

void bgp_session_status(const struct bgp_session *s, struct bgp_peer_status *st)
{
	memset(st, 0, sizeof *st);
	st->address = s->cfg.address;
	st->remote_as = s->cfg.remote_as;
	st->state = state_names[s->state];
	st->state_since_s = s->state_since_s;
	st->hold_time = s->hold;
	st->families = s->families;
	st->updates_sent = s->updates_sent;
	st->updates_received = s->updates_received;
	st->prefixes_received = s->prefixes_received;
	st->withdrawn_received = s->withdrawn_received;
	st->taw_received = s->taw_received;
	st->attrs_discarded = s->attrs_discarded;
	st->prefixes_sent = s->prefixes_sent;
	st->established_count = s->established_count;
	st->shutdown = s->admin_down;
	snprintf(st->last_error, sizeof st->last_error, "%s", s->last_error);
}

const struct bgp_peer_config *bgp_session_peer(const struct bgp_session *s)
{
	return &s->cfg;
}
