/* bgp/ through its public header: a speaker on a libevent loop connects to this test, which plays
 * the peer over loopback TCP with hand-built OPEN/KEEPALIVE and reads what the speaker sends with
 * the codec. Proves: routes announced before the session are sent when it comes up, followed by
 * End-of-RIB; announce/withdraw go out live; after the peer drops the connection the speaker
 * reconnects and replays the whole RIB-out; a malformed UPDATE gets a NOTIFICATION. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "bgp/bgp.h"
#include "bgp/msg.h"
#include "flowspec/fs.h"

struct peer {
	struct event_base *base;
	struct bgp_speaker *spk;
	int lfd, fd;
	uint16_t port;
	uint8_t msg[BGP_MSG_MAX];
	size_t msg_len;
	uint8_t open[BGP_MSG_MAX]; /* the speaker's last OPEN */
	size_t open_len;
};

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Runs the speaker's loop for a moment. */
static void pump(struct peer *p)
{
	event_base_loop(p->base, EVLOOP_NONBLOCK);
	poll(NULL, 0, 2);
}

static void accept_peer(struct peer *p)
{
	uint64_t end = now_ms() + 5000;
	for (;;) {
		p->fd = accept(p->lfd, NULL, NULL);
		if (p->fd >= 0)
			return;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		assert_true(now_ms() < end);
		pump(p);
	}
}

static bool read_exact(struct peer *p, uint8_t *buf, size_t n, uint64_t end)
{
	size_t got = 0;
	while (got < n) {
		if (now_ms() > end)
			return false;
		ssize_t r = recv(p->fd, buf + got, n - got, MSG_DONTWAIT);
		if (r == 0)
			return false;
		if (r < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			pump(p);
			continue;
		}
		got += (size_t)r;
	}
	return true;
}

/* The next message from the speaker, header checked; its type. */
static int next_msg(struct peer *p)
{
	uint64_t end = now_ms() + 5000;
	if (!read_exact(p, p->msg, BGP_HDR_LEN, end))
		return -1;
	uint8_t type;
	uint16_t len;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_header(p->msg, &type, &len, &e), 0);
	assert_true(read_exact(p, p->msg + BGP_HDR_LEN, len - BGP_HDR_LEN, end));
	p->msg_len = len;
	return type;
}

static void send_all(struct peer *p, const void *b, size_t n)
{
	assert_int_equal(send(p->fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
}

#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* The peer's side of OPEN and KEEPALIVE. */
static void open_exchange(struct peer *p)
{
	assert_int_equal(next_msg(p), BGP_MSG_OPEN);
	memcpy(p->open, p->msg, p->msg_len);
	p->open_len = p->msg_len;
	struct bgp_open o;
	struct bgp_msg_err e;
	assert_int_equal(bgp_msg_open_decode(p->msg + BGP_HDR_LEN, p->msg_len - BGP_HDR_LEN, &o, &e), 0);
	assert_int_equal(bgp_msg_open_as(&o), 65001);
	assert_int_equal(o.families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST);
	assert_true(o.has_as4);

	/* AS 65002, hold 30, id 127.0.0.2, MP v4 + v6, 4-octet AS */
	static const uint8_t open[] = {
		MARKER, 0x00, 0x37, 0x01, 4, 0xfd, 0xea, 0x00, 30, 127, 0, 0, 2,
		26, 2, 24, 1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0, 1, 2, 0, 0x41, 4, 0, 0, 0xfd, 0xea,
		0x47, 2, 0, 0, /* an unknown capability, ignored */
	};
	static const uint8_t ka[] = {MARKER, 0x00, 0x13, 0x04};
	send_all(p, open, sizeof open);
	send_all(p, ka, sizeof ka);
	assert_int_equal(next_msg(p), BGP_MSG_KEEPALIVE);
}

/* The peer's side of the handshake; then collects UPDATEs until one End-of-RIB per family. */
static void handshake(struct peer *p, size_t *announced)
{
	struct bgp_msg_err e;
	open_exchange(p);
	size_t eor = 0;
	*announced = 0;
	while (eor < 2) {
		int t = next_msg(p);
		if (t == BGP_MSG_KEEPALIVE)
			continue;
		assert_int_equal(t, BGP_MSG_UPDATE);
		struct bgp_update_info u;
		assert_int_equal(bgp_msg_update_decode(p->msg + BGP_HDR_LEN, p->msg_len - BGP_HDR_LEN,
						       true, &u, &e), 0);
		assert_false(u.treat_as_withdraw);
		*announced += u.announced;
		eor += u.end_of_rib;
	}
	struct bgp_peer_status st;
	assert_int_equal(bgp_speaker_peers(p->spk, &st, 1), 1);
	assert_string_equal(st.state, "Established");
	assert_int_equal(st.hold_time, 30);
	assert_int_equal(st.families, BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST);
}

static struct bgp_update_info next_update(struct peer *p)
{
	struct bgp_update_info u;
	struct bgp_msg_err e;
	int t;
	while ((t = next_msg(p)) == BGP_MSG_KEEPALIVE)
		;
	assert_int_equal(t, BGP_MSG_UPDATE);
	assert_int_equal(bgp_msg_update_decode(p->msg + BGP_HDR_LEN, p->msg_len - BGP_HDR_LEN, true, &u, &e), 0);
	return u;
}

static struct bgp_route_attrs bh(const char *nh)
{
	struct bgp_route_attrs a = {0};
	assert_true(ip_parse(nh, &a.next_hop));
	a.communities[0] = BGP_COMMUNITY_BLACKHOLE;
	a.communities[1] = BGP_COMMUNITY_NO_EXPORT;
	a.n_communities = 2;
	return a;
}

/* The graceful restart capability of the speaker's last OPEN, byte for byte: code 64, length 10,
 * the Restart State bit (0x80) or not with 120 s, then IPv4 and IPv6 unicast with the F bit. */
static void assert_gr_cap(const struct peer *p, bool restart)
{
	const uint8_t cap[] = {0x40, 0x0a, restart ? 0x80 : 0x00, 0x78, 0x00, 0x01, 0x01, 0x80, 0x00, 0x02, 0x01, 0x80};
	if (!memmem(p->open, p->open_len, cap, sizeof cap))
		fail_msg("OPEN has no graceful restart capability with R=%d", restart);
}

/* A peer listening on a loopback port and a one-peer speaker config pointing at it (AS65001 ->
 * AS65002, connect retry 1 s); the caller adjusts cfg, then makes the speaker. */
static void peer_setup(struct peer *p, struct bgp_config *cfg, struct bgp_peer_config *pc)
{
	*p = (struct peer){.fd = -1};
	p->base = event_base_new();
	assert_non_null(p->base);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	socklen_t sl = sizeof sin;
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &sl), 0);
	p->port = ntohs(sin.sin_port);
	bgp_config_defaults(cfg);
	bgp_peer_config_defaults(pc);
	cfg->local_as = 65001;
	cfg->router_id = 0x7f000001;
	cfg->connect_retry_s = 1;
	cfg->peers = pc;
	cfg->n_peers = 1;
	assert_true(ip_parse("127.0.0.1", &pc->address));
	pc->port = p->port;
	pc->remote_as = 65002;
}

static void test_speaker_session_replay(void **state)
{
	(void)state;
	struct peer p;
	struct bgp_config cfg;
	struct bgp_peer_config pc;
	peer_setup(&p, &cfg, &pc);
	char err[128];
	p.spk = bgp_speaker_new(p.base, &cfg, err, sizeof err);
	assert_non_null(p.spk);

	/* announced before any session: held in the RIB-out */
	ip_prefix v4, v6, v4b;
	assert_true(ip_prefix_parse("203.0.113.7/32", &v4));
	assert_true(ip_prefix_parse("2001:db8:1::7/128", &v6));
	assert_true(ip_prefix_parse("203.0.113.8/32", &v4b));
	struct bgp_route_attrs a4 = bh("192.0.2.254"), a6 = bh("2001:db8::254");
	assert_int_equal(bgp_announce(p.spk, &v4, &a4), 0);
	assert_int_equal(bgp_announce(p.spk, &v6, &a6), 0);
	assert_int_equal(bgp_rib_out_count(p.spk), 2);
	assert_int_equal(bgp_speaker_start(p.spk, err, sizeof err), 0);

	size_t announced;
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, 2);
	assert_gr_cap(&p, true); /* not told: routes before the first session stand for a restart */

	/* live changes */
	assert_int_equal(bgp_announce(p.spk, &v4b, &a4), 0);
	struct bgp_update_info u = next_update(&p);
	assert_int_equal(u.announced, 1);
	assert_int_equal(bgp_withdraw(p.spk, &v4b), 0);
	u = next_update(&p);
	assert_int_equal(u.withdrawn, 1);
	assert_int_equal(bgp_withdraw(p.spk, &v4b), -1);
	assert_int_equal(bgp_rib_out_count(p.spk), 2);

	/* the peer goes away; the speaker comes back and replays the RIB-out */
	close(p.fd);
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, 2);
	assert_gr_cap(&p, false); /* a flap is not our restart */
	struct bgp_peer_status st;
	bgp_speaker_peers(p.spk, &st, 1);
	assert_int_equal(st.established_count, 2);

	/* UPDATE whose withdrawn length runs past the message: NOTIFICATION 3/1, session down */
	static const uint8_t bad[] = {MARKER, 0x00, 0x17, 0x02, 0x00, 0x10, 0x00, 0x00};
	send_all(&p, bad, sizeof bad);
	int t;
	while ((t = next_msg(&p)) == BGP_MSG_KEEPALIVE)
		;
	assert_int_equal(t, BGP_MSG_NOTIFICATION);
	assert_int_equal(p.msg[19], BGP_ERR_UPDATE);
	assert_int_equal(p.msg[20], BGP_ERR_UPD_ATTRLIST);
	for (int i = 0; i < 20; i++)
		pump(&p);
	bgp_speaker_peers(p.spk, &st, 1);
	assert_string_not_equal(st.state, "Established");
	assert_non_null(strstr(st.last_error, "NOTIFICATION"));

	/* administrative shutdown: CEASE 6/2, EOF, and no reconnect while down; enable: back, replayed */
	close(p.fd);
	accept_peer(&p);
	handshake(&p, &announced);
	ip_addr peer_addr;
	assert_true(ip_parse("127.0.0.1", &peer_addr));
	assert_int_equal(bgp_peer_enable(p.spk, &peer_addr, false), 0);
	while ((t = next_msg(&p)) == BGP_MSG_KEEPALIVE)
		;
	assert_int_equal(t, BGP_MSG_NOTIFICATION);
	assert_int_equal(p.msg[19], BGP_ERR_CEASE);
	assert_int_equal(p.msg[20], BGP_ERR_CEASE_SHUTDOWN);
	assert_int_equal(next_msg(&p), -1);
	close(p.fd);
	bgp_speaker_peers(p.spk, &st, 1);
	assert_string_equal(st.state, "Idle");
	assert_true(st.shutdown);
	uint64_t until = now_ms() + 2500; /* more than twice the 1 s connect retry */
	while (now_ms() < until) {
		pump(&p);
		int fd = accept(p.lfd, NULL, NULL);
		assert_true(fd < 0);
	}
	ip_addr nobody;
	assert_true(ip_parse("127.0.0.9", &nobody));
	assert_int_equal(bgp_peer_enable(p.spk, &nobody, true), -1);
	assert_int_equal(bgp_peer_enable(p.spk, &peer_addr, true), 0);
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, 2);
	bgp_speaker_peers(p.spk, &st, 1);
	assert_false(st.shutdown);

	/* then the speaker shuts down: CEASE/Administrative Shutdown, then EOF */
	bgp_speaker_free(p.spk);
	while ((t = next_msg(&p)) == BGP_MSG_KEEPALIVE)
		;
	assert_int_equal(t, BGP_MSG_NOTIFICATION);
	assert_int_equal(p.msg[19], BGP_ERR_CEASE);
	assert_int_equal(p.msg[20], BGP_ERR_CEASE_SHUTDOWN);
	assert_int_equal(next_msg(&p), -1);
	close(p.fd);
	close(p.lfd);
	event_base_free(p.base);
}

/* bgp_config.end_of_rib_delay_s: the first session after the start gets its routes but its
 * End-of-RIB only when the delay is over, so a ban re-made meanwhile arrives before it; a session
 * that comes up later gets End-of-RIB at once. */
static void test_speaker_eor_delay(void **state)
{
	(void)state;
	struct peer p;
	struct bgp_config cfg;
	struct bgp_peer_config pc;
	peer_setup(&p, &cfg, &pc);
	assert_int_equal(cfg.end_of_rib_delay_s, 0);
	cfg.end_of_rib_delay_s = 2;
	char err[128];
	p.spk = bgp_speaker_new(p.base, &cfg, err, sizeof err);
	assert_non_null(p.spk);
	uint64_t start = now_ms();
	assert_int_equal(bgp_speaker_start(p.spk, err, sizeof err), 0);
	accept_peer(&p);
	open_exchange(&p);

	/* Established with an empty RIB-out: nothing yet, in particular no End-of-RIB */
	uint8_t b;
	for (int i = 0; i < 100; i++)
		pump(&p);
	assert_true(recv(p.fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) < 0);
	ip_prefix v4;
	assert_true(ip_prefix_parse("203.0.113.7/32", &v4));
	struct bgp_route_attrs a4 = bh("192.0.2.254");
	assert_int_equal(bgp_announce(p.spk, &v4, &a4), 0);
	struct bgp_update_info u = next_update(&p);
	assert_int_equal(u.announced, 1);
	assert_false(u.end_of_rib);
	/* then both End-of-RIB markers, not before the 2 s are over */
	u = next_update(&p);
	assert_true(u.end_of_rib);
	assert_true(now_ms() - start >= 1000);
	u = next_update(&p);
	assert_true(u.end_of_rib);

	/* a later session: routes and End-of-RIB at once */
	close(p.fd);
	accept_peer(&p);
	size_t announced;
	uint64_t t0 = now_ms();
	handshake(&p, &announced);
	assert_int_equal(announced, 1);
	assert_true(now_ms() - t0 < 1000);

	bgp_speaker_free(p.spk);
	close(p.fd);
	close(p.lfd);
	event_base_free(p.base);
}

/* bgp_speaker_set_restart: the caller knows whether this start is a restart (rampartd's ban
 * state file). YES: the R bit on the first OPEN even with an empty RIB-out, not on the next; NO:
 * never, even with routes in the RIB-out before the session. */
static void restart_case(enum bgp_restart r, bool routes, bool want)
{
	struct peer p;
	struct bgp_config cfg;
	struct bgp_peer_config pc;
	peer_setup(&p, &cfg, &pc);
	char err[128];
	p.spk = bgp_speaker_new(p.base, &cfg, err, sizeof err);
	assert_non_null(p.spk);
	ip_prefix v4;
	assert_true(ip_prefix_parse("203.0.113.7/32", &v4));
	struct bgp_route_attrs a4 = bh("192.0.2.254");
	if (routes)
		assert_int_equal(bgp_announce(p.spk, &v4, &a4), 0);
	bgp_speaker_set_restart(p.spk, r);
	assert_int_equal(bgp_speaker_start(p.spk, err, sizeof err), 0);
	size_t announced;
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, routes ? 1 : 0);
	assert_gr_cap(&p, want);
	close(p.fd);
	accept_peer(&p);
	handshake(&p, &announced);
	assert_gr_cap(&p, false);
	bgp_speaker_free(p.spk);
	close(p.fd);
	close(p.lfd);
	event_base_free(p.base);
}

static void test_speaker_restart_bit(void **state)
{
	(void)state;
	restart_case(BGP_RESTART_YES, false, true);
	restart_case(BGP_RESTART_YES, true, true);
	restart_case(BGP_RESTART_NO, true, false);
	restart_case(BGP_RESTART_GUESS, false, false);
}

/* The FlowSpec API without a session: what it refuses, and that the RIB-out counts rules. */
static void test_speaker_flow_api(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct bgp_config cfg;
	bgp_config_defaults(&cfg);
	cfg.local_as = 65001;
	cfg.router_id = 0x7f000001;
	assert_int_equal(cfg.graceful_restart_s, 120);
	char err[128];
	struct bgp_speaker *spk = bgp_speaker_new(base, &cfg, err, sizeof err);
	assert_non_null(spk);

	struct fs_rule r, empty;
	struct fs_actions a;
	struct fs_err fe;
	assert_true(fs_text_parse("destination 192.0.2.1/32; protocol udp then discard", &r, &a, &fe));
	assert_int_equal(bgp_announce_flow(spk, &r, &a, &fe), 0);
	assert_int_equal(bgp_announce_flow(spk, &r, &a, NULL), 0); /* unchanged */
	assert_int_equal(bgp_flow_count(spk), 1);
	fs_rule_init(&empty, FS_AFI_IPV4);
	fe.msg[0] = '\0';
	assert_int_equal(bgp_announce_flow(spk, &empty, &a, &fe), -1); /* a rule that matches nothing */
	assert_true(fe.msg[0] != '\0');
	a.dscp = 64;
	a.present |= FS_ACT_MARK;
	assert_int_equal(bgp_announce_flow(spk, &r, &a, &fe), -1); /* DSCP out of range */
	assert_int_equal(bgp_withdraw_flow(spk, &r), 0);
	assert_int_equal(bgp_withdraw_flow(spk, &r), -1);
	assert_int_equal(bgp_flow_count(spk), 0);

	cfg.graceful_restart_s = 4096; /* more than 12 bits */
	assert_null(bgp_speaker_new(base, &cfg, err, sizeof err));
	bgp_speaker_free(spk);
	event_base_free(base);
}

/* bgp_speaker_set_peers (reload): an unchanged peer (a new description only) keeps its session;
 * a changed one gets CEASE 6/6 (other configuration change) and comes back with its routes; a
 * removed one gets CEASE 6/3 (peer de-configured) and is gone from the list; added again, it
 * connects and is told the routes announced to every peer. */
static int next_not_keepalive(struct peer *p)
{
	int t;
	while ((t = next_msg(p)) == BGP_MSG_KEEPALIVE)
		;
	return t;
}

static void test_speaker_set_peers(void **state)
{
	(void)state;
	struct peer p;
	struct bgp_config cfg;
	struct bgp_peer_config pc;
	peer_setup(&p, &cfg, &pc);
	char err[128];
	p.spk = bgp_speaker_new(p.base, &cfg, err, sizeof err);
	assert_non_null(p.spk);
	ip_prefix v4;
	assert_true(ip_prefix_parse("203.0.113.7/32", &v4));
	struct bgp_route_attrs a4 = bh("192.0.2.254");
	assert_int_equal(bgp_announce(p.spk, &v4, &a4), 0);
	assert_int_equal(bgp_speaker_start(p.spk, err, sizeof err), 0);
	size_t announced;
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, 1);

	struct bgp_peer_config same = pc;
	snprintf(same.description, sizeof same.description, "renamed");
	struct bgp_config c2 = cfg;
	c2.peers = &same;
	assert_int_equal(bgp_speaker_set_peers(p.spk, &c2, err, sizeof err), 0);
	for (int i = 0; i < 50; i++)
		pump(&p);
	struct bgp_peer_status st;
	assert_int_equal(bgp_speaker_peers(p.spk, &st, 1), 1);
	assert_string_equal(st.state, "Established");
	assert_int_equal(st.established_count, 1);
	char probe;
	assert_true(recv(p.fd, &probe, 1, MSG_DONTWAIT | MSG_PEEK) < 0); /* nothing was sent: no CEASE */

	struct bgp_peer_config changed = pc;
	changed.hold_time = 60;
	c2.peers = &changed;
	assert_int_equal(bgp_speaker_set_peers(p.spk, &c2, err, sizeof err), 0);
	assert_int_equal(next_not_keepalive(&p), BGP_MSG_NOTIFICATION);
	assert_int_equal(p.msg[19], BGP_ERR_CEASE);
	assert_int_equal(p.msg[20], BGP_ERR_CEASE_CONFIG_CHANGE);
	assert_int_equal(next_msg(&p), -1);
	close(p.fd);
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, 1); /* the same view of the RIB-out */

	c2.n_peers = 0;
	assert_int_equal(bgp_speaker_set_peers(p.spk, &c2, err, sizeof err), 0);
	assert_int_equal(next_not_keepalive(&p), BGP_MSG_NOTIFICATION);
	assert_int_equal(p.msg[19], BGP_ERR_CEASE);
	assert_int_equal(p.msg[20], BGP_ERR_CEASE_DECONFIGURED);
	assert_int_equal(next_msg(&p), -1);
	close(p.fd);
	assert_int_equal(bgp_speaker_peers(p.spk, &st, 1), 0);
	ip_prefix v4b;
	assert_true(ip_prefix_parse("203.0.113.8/32", &v4b));
	assert_int_equal(bgp_announce(p.spk, &v4b, &a4), 0); /* to nobody, kept */

	c2.n_peers = 1;
	c2.peers = &pc;
	assert_int_equal(bgp_speaker_set_peers(p.spk, &c2, err, sizeof err), 0);
	accept_peer(&p);
	handshake(&p, &announced);
	assert_int_equal(announced, 2);
	struct bgp_route_attrs got;
	assert_int_equal(bgp_rib_out_get(p.spk, &v4b, 0, &got), 0);

	/* a duplicate address is refused and changes nothing */
	struct bgp_peer_config two[2] = {pc, pc};
	c2.peers = two;
	c2.n_peers = 2;
	assert_int_equal(bgp_speaker_set_peers(p.spk, &c2, err, sizeof err), -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(bgp_speaker_peers(p.spk, &st, 1), 1);
	assert_string_equal(st.state, "Established");

	bgp_speaker_free(p.spk);
	close(p.fd);
	close(p.lfd);
	event_base_free(p.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_speaker_session_replay),
		cmocka_unit_test(test_speaker_flow_api),
		cmocka_unit_test(test_speaker_set_peers),
		cmocka_unit_test(test_speaker_eor_delay),
		cmocka_unit_test(test_speaker_restart_bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
