/* The BGP speaker driver for interop tests and the announce benchmark: runs a bgp_speaker on
 * libevent and takes commands, one per line, on stdin:
 *
 *   announce PREFIX [NEXT_HOP]   with 65535:666 (RFC 7999) + NO_EXPORT
 *   route PREFIX NEXT_HOP [LC]   a plain route; LC a large community GLOBAL:LOCAL1:LOCAL2
 *   withdraw PREFIX
 *   flow RULE                    a FlowSpec rule in flowspec/ text syntax (ExaBGP's flow route)
 *   unflow RULE                  withdraw it (its match part)
 *   bulk N FIRST_V4 [NEXT_HOP]   announce N consecutive /32s from FIRST_V4, report timings
 *   unbulk N FIRST_V4            withdraw them
 *   start                        start the speaker (with -S: routes first, as after a restart)
 *   status                       one line per peer
 *   quit
 *
 * Usage: bgp_announce -a LOCAL_AS -i ROUTER_ID [-r RETRY_S] [-l LISTEN_PORT] [-g GR_S] [-S]
 *                     -p ADDR,REMOTE_AS[,passive][,md5=PASSWORD][,local=ADDR][,port=N]
 *                        [,fam=ipv4-unicast+ipv6-unicast+ipv4-flowspec+ipv6-flowspec] ...
 * Replies go to stdout, one line each, so a script can wait for them.
 *
 * It needs a real peer, so without -p it only says how to run it: interop/bird_blackhole.sh starts
 * BIRD 2 in a namespace, drives this program and reports "bulk 100000 ... in N ms". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "bgp/bgp.h"
#include "flowspec/fs.h"
#include "lib/log.h"

#define MAX_PEERS 8

struct drv {
	struct event_base *base;
	struct bgp_speaker *spk;
	struct event *stdin_ev;
	struct event *poll_ev;
	char line[4096];
	size_t line_len;
	/* a bulk in flight: wait until every established peer has been sent all of it */
	struct timespec bulk_t0;
	uint64_t bulk_target[MAX_PEERS];
	size_t bulk_n;
	bool bulk_active;
	bool started;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void attrs_blackhole(struct bgp_route_attrs *a, const char *nh)
{
	memset(a, 0, sizeof *a);
	a->communities[0] = BGP_COMMUNITY_BLACKHOLE;
	a->communities[1] = BGP_COMMUNITY_NO_EXPORT;
	a->n_communities = 2;
	if (nh && !ip_parse(nh, &a->next_hop))
		memset(&a->next_hop, 0, sizeof a->next_hop);
}

static void status(struct drv *d)
{
	struct bgp_peer_status st[MAX_PEERS];
	size_t n = bgp_speaker_peers(d->spk, st, MAX_PEERS);
	for (size_t i = 0; i < n && i < MAX_PEERS; i++) {
		char a[IP_STRLEN];
		printf("peer %s as %u state %s hold %u families 0x%x updates_sent %llu prefixes_sent %llu "
		       "updates_received %llu established %llu error \"%s\" prefixes_received %llu "
		       "withdrawn_received %llu taw_received %llu attrs_discarded %llu\n",
		       ip_format(&st[i].address, a), st[i].remote_as, st[i].state, st[i].hold_time,
		       st[i].families, (unsigned long long)st[i].updates_sent,
		       (unsigned long long)st[i].prefixes_sent, (unsigned long long)st[i].updates_received,
		       (unsigned long long)st[i].established_count, st[i].last_error,
		       (unsigned long long)st[i].prefixes_received, (unsigned long long)st[i].withdrawn_received,
		       (unsigned long long)st[i].taw_received, (unsigned long long)st[i].attrs_discarded);
	}
	printf("rib_out %zu flows %zu\n", bgp_rib_out_count(d->spk), bgp_flow_count(d->spk));
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct drv *d = arg;
	struct bgp_peer_status st[MAX_PEERS];
	size_t n = bgp_speaker_peers(d->spk, st, MAX_PEERS);
	bool timeout = ms_since(&d->bulk_t0) > 30000;
	for (size_t i = 0; i < n && i < MAX_PEERS && !timeout; i++)
		if (strcmp(st[i].state, "Established") == 0 && st[i].prefixes_sent < d->bulk_target[i])
			return;
	printf("bulk %zu %s to all established peers in %.1f ms\n", d->bulk_n,
	       timeout ? "NOT queued (timeout)" : "queued", ms_since(&d->bulk_t0));
	fflush(stdout);
	d->bulk_active = false;
	event_del(d->poll_ev);
}

static void bulk(struct drv *d, bool withdraw, size_t n, const char *first, const char *nh)
{
	ip_addr a;
	if (!ip_parse(first, &a) || !ip_is_v4(&a)) {
		printf("error bad address %s\n", first);
		return;
	}
	struct bgp_route_attrs attrs;
	attrs_blackhole(&attrs, nh);
	struct bgp_peer_status st[MAX_PEERS];
	size_t np = bgp_speaker_peers(d->spk, st, MAX_PEERS);
	/* bulk prefixes are IPv4: a peer without IPv4 unicast is owed none of them */
	for (size_t i = 0; i < np && i < MAX_PEERS; i++)
		d->bulk_target[i] = st[i].prefixes_sent +
				    (withdraw || !(st[i].families & BGP_FAM_IPV4_UNICAST) ? 0 : n);
	clock_gettime(CLOCK_MONOTONIC, &d->bulk_t0);
	uint32_t base = ip_v4_u32(&a);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		ip_prefix p = {.len = 32};
		ip_from_v4_u32(&p.addr, base + (uint32_t)i);
		int r = withdraw ? bgp_withdraw(d->spk, &p) : bgp_announce(d->spk, &p, &attrs);
		bad += r < 0;
	}
	printf("%s %zu in the RIB-out in %.1f ms (%zu failed)\n", withdraw ? "unbulk" : "bulk", n,
	       ms_since(&d->bulk_t0), bad);
	if (!withdraw) {
		d->bulk_n = n;
		d->bulk_active = true;
		struct timeval tv = {0, 1000};
		event_add(d->poll_ev, &tv);
	}
}

static void flow(struct drv *d, bool withdraw, const char *text)
{
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err = {{0}};
	if (!fs_text_parse(text, &r, &a, &err)) {
		printf("error flow: %s\n", err.msg);
		return;
	}
	int rc = withdraw ? bgp_withdraw_flow(d->spk, &r) : bgp_announce_flow(d->spk, &r, &a, &err);
	printf("%s %s %s\n", rc == 0 ? "done" : "error", withdraw ? "unflow" : "flow", rc == 0 ? "" : err.msg);
}

static void command(struct drv *d, char *line)
{
	if (!strncmp(line, "flow ", 5) || !strncmp(line, "unflow ", 7)) {
		bool wd = line[0] == 'u';
		flow(d, wd, line + (wd ? 7 : 5));
		fflush(stdout);
		return;
	}
	char *argv[8];
	int argc = 0;
	for (char *t = strtok(line, " \t\r"); t && argc < 8; t = strtok(NULL, " \t\r"))
		argv[argc++] = t;
	if (argc == 0)
		return;
	ip_prefix p;
	struct bgp_route_attrs attrs;
	if (!strcmp(argv[0], "announce") && argc >= 2 && ip_prefix_parse(argv[1], &p)) {
		attrs_blackhole(&attrs, argc >= 3 ? argv[2] : NULL);
		printf("%s announce %s\n", bgp_announce(d->spk, &p, &attrs) == 0 ? "done" : "error", argv[1]);
	} else if (!strcmp(argv[0], "route") && argc >= 3 && ip_prefix_parse(argv[1], &p)) {
		memset(&attrs, 0, sizeof attrs);
		ip_parse(argv[2], &attrs.next_hop);
		if (argc >= 4 && sscanf(argv[3], "%u:%u:%u", &attrs.large_communities[0][0],
					&attrs.large_communities[0][1], &attrs.large_communities[0][2]) == 3)
			attrs.n_large_communities = 1;
		printf("%s route %s\n", bgp_announce(d->spk, &p, &attrs) == 0 ? "done" : "error", argv[1]);
	} else if (!strcmp(argv[0], "withdraw") && argc >= 2 && ip_prefix_parse(argv[1], &p)) {
		printf("%s withdraw %s\n", bgp_withdraw(d->spk, &p) == 0 ? "done" : "error", argv[1]);
	} else if (!strcmp(argv[0], "bulk") && argc >= 3) {
		bulk(d, false, strtoul(argv[1], NULL, 10), argv[2], argc >= 4 ? argv[3] : NULL);
	} else if (!strcmp(argv[0], "unbulk") && argc >= 3) {
		bulk(d, true, strtoul(argv[1], NULL, 10), argv[2], NULL);
	} else if (!strcmp(argv[0], "start")) {
		char err[256] = "already started";
		int rc = d->started ? -1 : bgp_speaker_start(d->spk, err, sizeof err);
		d->started = true;
		printf("%s start %s\n", rc == 0 ? "done" : "error", rc == 0 ? "" : err);
	} else if (!strcmp(argv[0], "status")) {
		status(d);
	} else if (!strcmp(argv[0], "quit")) {
		event_base_loopexit(d->base, NULL);
	} else {
		printf("error unknown command %s\n", argv[0]);
	}
	fflush(stdout);
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct drv *d = arg;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n <= 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			d->line[d->line_len] = '\0';
			command(d, d->line);
			d->line_len = 0;
		} else if (d->line_len < sizeof d->line - 1) {
			d->line[d->line_len++] = buf[i];
		}
	}
}

static int parse_peer(char *spec, struct bgp_peer_config *p)
{
	bgp_peer_config_defaults(p);
	char *save = NULL;
	char *addr = strtok_r(spec, ",", &save);
	char *as = strtok_r(NULL, ",", &save);
	if (!addr || !as || !ip_parse(addr, &p->address))
		return -1;
	p->remote_as = (uint32_t)strtoul(as, NULL, 10);
	for (char *t; (t = strtok_r(NULL, ",", &save));) {
		if (!strcmp(t, "passive"))
			p->passive = true;
		else if (!strncmp(t, "md5=", 4))
			snprintf(p->password, sizeof p->password, "%s", t + 4);
		else if (!strncmp(t, "local=", 6) && ip_parse(t + 6, &p->local_address))
			;
		else if (!strncmp(t, "hold=", 5))
			p->hold_time = (uint16_t)atoi(t + 5);
		else if (!strncmp(t, "port=", 5))
			p->port = (uint16_t)atoi(t + 5);
		else if (!strncmp(t, "fam=", 4)) {
			static const char *const names[] = {"ipv4-unicast", "ipv6-unicast", "ipv4-flowspec",
							    "ipv6-flowspec"};
			p->families = 0;
			for (size_t i = 0; i < 4; i++)
				if (strstr(t + 4, names[i]))
					p->families |= 1u << i;
		}
		else
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bgp_config cfg;
	struct bgp_peer_config peers[MAX_PEERS];
	bool defer = false;
	bgp_config_defaults(&cfg);
	cfg.peers = peers;
	int c;
	while ((c = getopt(argc, argv, "a:i:r:l:p:g:S")) != -1) {
		ip_addr id;
		switch (c) {
		case 'a': cfg.local_as = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'i':
			if (!ip_parse(optarg, &id) || !ip_is_v4(&id))
				return 2;
			cfg.router_id = ip_v4_u32(&id);
			break;
		case 'r': cfg.connect_retry_s = (uint32_t)atoi(optarg); break;
		case 'l': cfg.listen_port = (uint16_t)atoi(optarg); break;
		case 'g': cfg.graceful_restart_s = (uint16_t)atoi(optarg); break;
		case 'S': defer = true; break;
		case 'p':
			if (cfg.n_peers == MAX_PEERS || parse_peer(optarg, &peers[cfg.n_peers]) < 0) {
				fprintf(stderr, "bad peer %s\n", optarg);
				return 2;
			}
			cfg.n_peers++;
			break;
		default:
			return 2;
		}
	}
	if (cfg.n_peers == 0) {
		printf("bench_bgp_announce: needs a peer (-p); run interop/bird_blackhole.sh for the "
		       "100k-route announce time to BIRD\n");
		return 0;
	}
	log_set_level(LOG_LVL_INFO);
	struct drv d = {0};
	d.base = event_base_new();
	char err[256];
	d.spk = bgp_speaker_new(d.base, &cfg, err, sizeof err);
	if (!d.spk || (!defer && bgp_speaker_start(d.spk, err, sizeof err) < 0)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	d.started = !defer;
	d.stdin_ev = event_new(d.base, 0, EV_READ | EV_PERSIST, stdin_cb, &d);
	d.poll_ev = event_new(d.base, -1, EV_PERSIST, poll_cb, &d);
	event_add(d.stdin_ev, NULL);
	printf("ready\n");
	fflush(stdout);
	event_base_dispatch(d.base);
	bgp_speaker_free(d.spk);
	event_free(d.stdin_ev);
	event_free(d.poll_ev);
	event_base_free(d.base);
	return 0;
}
