/* rampartd: the daemon. Runs in the foreground (systemd style) until SIGINT or SIGTERM;
 * SIGHUP reads the configuration file again and applies it (reload.c).
 *
 *   rampartd -c FILE                    capture on the configured interfaces
 *   rampartd -c FILE --check-config     validate, print nothing else, exit 0 or 2
 *   rampartd -c FILE -u USER            started as root, become USER once what needs root is open
 *   rampartd -c FILE --pcap FILE [--pcap-speed max|recorded]
 *                                       replay a capture instead; keeps running afterwards
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/pidlock.h"
#include "../lib/privs.h"
#include "../lib/sdnotify.h"
#include "../actions/act.h"
#include "../api/api.h"
#include "../mitigation/state.h"
#include "daemon.h"

#define EXIT_CONFIG 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rampartd -c FILE [--check-config | --print-config]\n"
		"                [--pcap FILE [--pcap-speed max|recorded]] [-u USER] [--debug]\n"
		"  -c, --config FILE     configuration (YAML)\n"
		"  -u, --user USER       started as root: become USER once the capture, the listeners\n"
		"                        and the control socket are open, keeping CAP_NET_RAW,\n"
		"                        CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only (config key: user)\n"
		"      --check-config    validate the configuration and exit (0 valid, 2 not)\n"
		"      --print-config    print the effective configuration and exit\n"
		"      --pcap FILE       replay a capture instead of the configured interfaces;\n"
		"                        the capture's timestamps are the clock\n"
		"      --pcap-speed S    max (default) or recorded\n"
		"  -d, --debug           debug logging\n");
}

static void on_tick_ready(evutil_socket_t fd, short what, void *ctx)
{
	(void)what;
	uint64_t n;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_warn("tick eventfd: %s", strerror(errno));
	rd_tick_run(ctx);
	struct rampart *rp = ctx;
	st_samples_drain(rp->samples, rp->engine, rp->clock_ns); /* attack sample packets, off the packet path */
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	(void)what;
	struct rampart *rp = ctx;
	rp->stop_asked_ms = clock_mono_ms();
	log_info("%s: shutting down", strsignal((int)sig));
	(void)sdnotify_send("STOPPING=1");
	event_base_loopbreak(rp->base);
}

/* SIGHUP: reload, on the loop (libevent turns the signal into an event: no work in a handler) */
static void on_hup(evutil_socket_t sig, short what, void *ctx)
{
	(void)sig;
	(void)what;
	struct rampart *rp = ctx;
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		log_err("SIGHUP: out of memory, configuration not reloaded");
		return;
	}
	log_info("SIGHUP: reloading %s", rp->conf.path);
	rd_reload(rp, out); /* what it did is logged */
	evbuffer_free(out);
}

static void teardown(struct rampart *rp)
{
	/* where a stop's time goes, logged at the end: the budget is 1 s whatever ClickHouse does */
	uint64_t t_start = clock_mono_ms(), t_bgp, t_storage = 0, t_storage_done = 0;
	for (unsigned i = 0; i < rp->n_workers; i++)
		rd_worker_stop(rp->workers[i]);
	if (rp->engine)
		rd_tick_run(rp); /* what the workers counted last */
	api_exa_stop(&rp->api);
	if (rp->mit)
		mit_state_close(rp->mit); /* the latest ban times, before anything is torn down */
	t_bgp = clock_mono_ms();
	if (rp->bgp)
		bgp_speaker_free(rp->bgp);
	rp->bgp = rp->api.bgp = NULL;
	for (unsigned i = 0; i < rp->n_workers; i++)
		rd_worker_free(rp->workers[i]);
	rp->n_workers = 0;
	st_samples_free(rp->samples); /* after the workers: writes what their rings still hold */
	rp->samples = NULL;
	cap_dpdk_stop(rp->dpdk); /* after the workers: their queues are on its ports */
	rp->dpdk = NULL;
	if (rp->storage) {
		t_storage = clock_mono_ms();
		st_writer_stop(rp->storage);
		t_storage_done = clock_mono_ms();
		st_writer_log_summary(rp->storage);
		st_writer_free(rp->storage);
	}
	api_control_free(rp->control);
	api_http_free(rp->http);
	api_readback_free(rp->api.readback); /* after its callers: no callback is left to run */
	rp->api.readback = NULL;
	mit_free(rp->mit);
	rp->mit = NULL;
	act_notify_free(rp->notify); /* after the last tick: its unbans are notified too */
	rp->notify = NULL;
	act_webhook_free(rp->webhook);
	rp->webhook = NULL;
	act_localroute_free(rp->localroute);
	rp->localroute = NULL;
	if (rp->tick_ev)
		event_free(rp->tick_ev);
	if (rp->tick_fd >= 0)
		close(rp->tick_fd);
	det_engine_free(rp->engine);
	det_networks_free(rp->networks);
	rd_reload_free(rp); /* after the workers' counters */
	if (rp->base)
		event_base_free(rp->base);
	conf_free(&rp->conf);
	if (rp->stop_asked_ms) {
		uint64_t end = clock_mono_ms();
		log_info("stopped in %llu ms: %llu ms to leave the loop, %llu ms capture and the last tick, %llu ms "
			 "BGP and capture teardown, %llu ms storage, %llu ms the rest",
			 (unsigned long long)(end - rp->stop_asked_ms), (unsigned long long)(t_start - rp->stop_asked_ms),
			 (unsigned long long)(t_bgp - t_start),
			 (unsigned long long)((t_storage ? t_storage : end) - t_bgp),
			 (unsigned long long)(t_storage_done - t_storage),
			 (unsigned long long)(end - (t_storage_done ? t_storage_done : end)));
	}
}

/* With -u: what root created before the change (the data directory, its lock, the attack pcap
 * directory) becomes the user's, so that the daemon can go on writing there and the next start
 * under the same user can take the lock. A path that does not exist is left alone. */
static int give_to(const char *path, uid_t uid, gid_t gid)
{
	if (!path || !path[0])
		return 0;
	if (lchown(path, uid, gid) != 0 && errno != ENOENT) {
		log_err("user: cannot give %s to uid %u: %s", path, (unsigned)uid, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
		{"print-config", no_argument, NULL, 'P'}, {"pcap", required_argument, NULL, 'p'},
		{"pcap-speed", required_argument, NULL, 's'}, {"debug", no_argument, NULL, 'd'},
		{"user", required_argument, NULL, 'u'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *pcap = NULL, *user = NULL;
	bool check = false, print = false, debug = false;
	enum cap_pcap_speed speed = CAP_SPEED_MAX;
	int o;
	while ((o = getopt_long(argc, argv, "c:u:dh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'C': check = true; break;
		case 'P': print = true; break;
		case 'p': pcap = optarg; break;
		case 'u': user = optarg; break;
		case 's':
			if (!strcmp(optarg, "max"))
				speed = CAP_SPEED_MAX;
			else if (!strcmp(optarg, "recorded"))
				speed = CAP_SPEED_RECORDED;
			else {
				fprintf(stderr, "rampartd: --pcap-speed takes max or recorded, not '%s'\n", optarg);
				return EXIT_CONFIG;
			}
			break;
		case 'd': debug = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_CONFIG;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}

	struct rampart rp = {.tick_fd = -1};
	char err[512];
	if (conf_load(config, &rp.conf, err, sizeof err) != 0) {
		fprintf(stderr, "rampartd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		conf_free(&rp.conf);
		return 0;
	}
	if (print) {
		conf_print(&rp.conf, stdout);
		conf_free(&rp.conf);
		return 0;
	}
	log_set_level(debug ? LOG_LVL_DEBUG : conf_log_level(&rp.conf));
	rp.replay = pcap != NULL;
	rp.start_wall_s = (uint64_t)time(NULL);

	/* One daemon per data directory, before anything in it is read: a second one would restore
	 * the first's bans from bans.state, announce them and replay the same spool. The descriptor
	 * stays open (and the lock held) until the process ends. */
	if (!user && rp.conf.user[0])
		user = rp.conf.user;
	uid_t run_uid = 0;
	gid_t run_gid = 0;
	if (user && privs_lookup(user, &run_uid, &run_gid, err, sizeof err) != 0) {
		log_err("%s", err);
		conf_free(&rp.conf);
		return EXIT_CONFIG;
	}
	/* Already that user (systemd's User=): nothing to change. */
	bool drop = user && geteuid() != run_uid;
	if (drop && geteuid() != 0) {
		log_err("user %s: changing user needs root (running as uid %u)", user, (unsigned)geteuid());
		conf_free(&rp.conf);
		return EXIT_CONFIG;
	}

	pid_t holder;
	int lock_fd = pidlock_take(rp.conf.storage.dir, "rampartd.pid", &holder, err, sizeof err);
	if (lock_fd < 0) {
		log_err("storage.dir %s", err);
		conf_free(&rp.conf);
		return 1;
	}
	if (drop) {
		char lock_path[512];
		snprintf(lock_path, sizeof lock_path, "%s/rampartd.pid", rp.conf.storage.dir);
		if (give_to(rp.conf.storage.dir, run_uid, run_gid) != 0 || give_to(lock_path, run_uid, run_gid) != 0) {
			conf_free(&rp.conf);
			return 1;
		}
	}

	/* A peer that resets the connection must not kill the daemon with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	int rc = 1;
	rp.base = event_base_new();
	rp.networks = det_networks_new(&rp.conf.detect);
	rp.engine = rp.networks ? det_engine_new(&rp.conf.detect, rp.networks) : NULL;
	rp.tick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!rp.base || !rp.engine || rp.tick_fd < 0) {
		log_err("cannot initialise: %s", strerror(errno));
		goto out;
	}

	/* Sources: the replayed file, or the interfaces then capture.udp_workers workers per flow
	 * listen address, each with its own SO_REUSEPORT socket and exporter state (docs/FLOWS.md). */
	const struct conf_capture *cc = &rp.conf.capture;
	struct conf_source sources[RD_MAX_WORKERS];
	unsigned n_sources = 0;
	size_t n_wanted = pcap ? 1 : conf_capture_n_sources(cc);
	if (n_wanted > RD_MAX_WORKERS) {
		log_err("at most %d capture sources (pcap interfaces, afpacket interfaces times workers, dpdk "
			"ports times workers, and flow listen addresses times capture.udp_workers), %zu configured",
			RD_MAX_WORKERS, n_wanted);
		goto out;
	}
	if (pcap) {
		sources[n_sources++] = (struct conf_source){.mirror = true,
			.cap = {.kind = CAP_SRC_PCAP_FILE, .key = "--pcap", .name = pcap, .speed = speed}};
	} else {
		if (cc->dpdk.n_ports) {
			/* the EAL and the ports first: the workers' sources are queues on them */
			const struct conf_dpdk *dk = &cc->dpdk;
			struct cap_dpdk_spec ds = {.key = "capture.dpdk", .eal = dk->eal, .n_eal = dk->n_eal,
				.ports = dk->ports, .n_ports = dk->n_ports, .rx_queues = dk->rx_queues,
				.workers = dk->workers};
			if (!(rp.dpdk = cap_dpdk_start(&ds, err, sizeof err))) {
				log_err("capture: %s", err);
				goto out;
			}
		}
		n_sources = (unsigned)conf_capture_sources(cc, rp.dpdk, sources);
	}
	rp.storage = st_writer_new(&rp.conf.storage, n_sources ? n_sources : 1, err, sizeof err);
	if (!rp.storage) {
		log_err("storage: %s", err);
		goto out;
	}
	if (rp.conf.bgp_enabled) {
		rp.bgp = bgp_speaker_new(rp.base, &rp.conf.bgp, err, sizeof err);
		if (!rp.bgp) {
			log_err("bgp: %s", err);
			goto out;
		}
	}
	if (rp.conf.attack_pcap.enabled) {
		if (!(rp.samples = st_samples_new(&rp.conf.attack_pcap, rp.conf.storage.dir, err, sizeof err))) {
			log_err("%s", err);
			goto out;
		}
		log_info("attack_pcap: up to %u packets of %u bytes per attack into %s", rp.conf.attack_pcap.packets,
			 rp.conf.attack_pcap.snaplen, st_samples_dir(rp.samples));
	}
	rp.mit = mit_new(&(struct mit_deps){.conf = &rp.conf, .base = rp.base, .bgp = rp.bgp, .networks = rp.networks,
					    .engine = rp.engine, .replay = rp.replay,
					    .samples = rp.samples ? rd_samples_for_mit : NULL, .samples_ctx = rp.samples});
	if (!rp.mit) {
		log_err("mitigation: out of memory");
		goto out;
	}
	const struct rd_worker_deps wd = {.conf = &rp.conf, .networks = rp.networks, .storage = rp.storage,
					  .samples = rp.samples, .tick_fd = rp.tick_fd};
	for (unsigned i = 0; i < n_sources; i++) {
		rp.workers[i] = rd_worker_new(&wd, i, &sources[i], err, sizeof err);
		if (!rp.workers[i]) {
			log_err("capture: %s", err);
			goto out;
		}
		rp.n_workers++;
	}
	if (rp.conf.actions.notify_script[0] && !(rp.notify = act_notify_new(rp.base, &rp.conf.actions))) {
		log_err("notify: cannot set up %s", rp.conf.actions.notify_script);
		goto out;
	}
	if (rp.conf.actions.webhook_url[0] && !(rp.webhook = act_webhook_new(&rp.conf.actions))) {
		log_err("webhook: cannot start for %s", rp.conf.actions.webhook_url);
		goto out;
	}
	rd_api_ctx(&rp);
	if (!(rp.api.readback = api_readback_new(&rp.api))) {
		log_err("readback: cannot start");
		goto out;
	}
	if (rp.conf.actions.local_blackhole && !(rp.localroute = act_localroute_new(&rp.conf.actions)))
		goto out;
	/* mitigation's event stream, in this order: the notify script, the webhook, the kernel route,
	 * the attack_events row */
	struct act_action actions[4];
	size_t n_actions = 0;
	if (rp.notify)
		actions[n_actions++] = act_notify_action(rp.notify);
	if (rp.webhook)
		actions[n_actions++] = act_webhook_action(rp.webhook);
	if (rp.localroute)
		actions[n_actions++] = act_localroute_action(rp.localroute);
	actions[n_actions++] = act_store(rp.storage);
	for (size_t i = 0; i < n_actions; i++)
		if (act_subscribe(rp.mit, &actions[i]) != 0)
			goto out;
	rd_api_ctx(&rp); /* with the local route */
	rp.control = api_control_new(&rp.api, rp.conf.api.socket, err, sizeof err);
	if (!rp.control) {
		log_err("%s", err);
		goto out;
	}
	for (size_t i = 0; i < rp.conf.mitigation.n_flowspec_rules; i++) {
		const struct conf_flow_rule *fr = &rp.conf.mitigation.flowspec_rules[i];
		if (mit_flowspec_add(rp.mit, &fr->rule, &fr->actions, true, err, sizeof err) != 0) {
			log_err("mitigation.flowspec.rules[%zu]: %s", i, err);
			rc = EXIT_CONFIG;
			goto out;
		}
	}
	rd_api_ctx(&rp); /* with the control socket, whose counters /metrics shows */
	if (rp.conf.api.http[0]) {
		rp.http = api_http_new(&rp.api, rp.conf.api.http, err, sizeof err);
		if (!rp.http) {
			log_err("%s", err);
			goto out;
		}
	}
	conf_log_summary(&rp.conf, pcap);
	/* ExaBGP drop-in: the named pipe and the process (docs/EXABGP.md) */
	if (api_exa_start(&rp.api, err, sizeof err) != 0) {
		log_err("%s", err);
		goto out;
	}
	/* the ban state file: bans, API routes and rules go back in before BGP comes up, so the first
	 * UPDATEs carry them and graceful restart's End-of-RIB flushes none of them (docs/BGP.md) */
	if (mit_state_new(rp.mit)) {
		/* the capture clock starts now: a live capture's is the wall clock (rampartctl ban before
		 * the first tick, and the restored bans' times, are on it) */
		if (!rp.clock_ns)
			rp.clock_ns = clock_wall_ns();
		mit_state_load(rp.mit, rp.clock_ns);
	}

	/* Root's part ends here: the capture handles, the flow sockets, the control socket and the
	 * HTTP listener are open and the ban state is read. The storage writer (which creates its
	 * files), BGP (port 179: CAP_NET_BIND_SERVICE kept), the workers and the rest of
	 * the run are the user's. */
	if (drop) {
		if (rp.samples && give_to(st_samples_dir(rp.samples), run_uid, run_gid) != 0)
			goto out;
		if (privs_drop(run_uid, run_gid, err, sizeof err) != 0) {
			log_err("user %s: %s", user, err);
			goto out;
		}
		log_info("running as %s (uid %u gid %u) with CAP_NET_RAW, CAP_NET_ADMIN, CAP_NET_BIND_SERVICE", user,
			 (unsigned)run_uid, (unsigned)run_gid);
	}
	if (st_writer_start(rp.storage, err, sizeof err) != 0) {
		log_err("storage: %s", err);
		goto out;
	}
	if (rp.bgp && bgp_speaker_start(rp.bgp, err, sizeof err) != 0) {
		log_err("bgp: %s", err);
		goto out;
	}
	rp.tick_ev = event_new(rp.base, rp.tick_fd, EV_READ | EV_PERSIST, on_tick_ready, &rp);
	struct event *sigint = evsignal_new(rp.base, SIGINT, on_signal, &rp);
	struct event *sigterm = evsignal_new(rp.base, SIGTERM, on_signal, &rp);
	struct event *sighup = evsignal_new(rp.base, SIGHUP, on_hup, &rp);
	event_add(rp.tick_ev, NULL);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_add(sighup, NULL);
	for (unsigned i = 0; i < rp.n_workers; i++) {
		if (rd_worker_start(rp.workers[i], err, sizeof err) != 0) {
			log_err("capture: %s", err);
			goto loop_out;
		}
	}
	log_info("running");
	/* systemd (Type=notify): ready once the configuration is loaded and every listener is open */
	if (sdnotify_send("READY=1") < 0)
		log_warn("sd_notify: cannot send READY=1 to %s: %s", getenv("NOTIFY_SOCKET"), strerror(errno));
	event_base_dispatch(rp.base);
	rc = 0;
loop_out:
	event_free(sigint);
	event_free(sigterm);
	event_free(sighup);
out:
	teardown(&rp);
	close(lock_fd);
	return rc;
}
