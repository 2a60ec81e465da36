/* Reload (SIGHUP, `rampartctl reload`): the configuration file read again into a fresh
 * rampart_conf with the loader, compared with the running one (conf_diff), and applied section by
 * section through each module's own API, on the main loop. A file that does not load changes
 * nothing. Keys only a restart can change keep their running values and are reported
 * (docs/OPERATIONS.md, Reload).
 *
 * The monitored networks are read by the capture workers on every record, so a new lookup is
 * handed to each counters set as it passes through the main loop (tick.c); the old one is freed
 * once no set points at it any more. */
#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "../lib/sdnotify.h"
#include "../actions/act.h"
#include "../api/api.h"
#include "daemon.h"

static void notify_systemd(const char *msg)
{
	if (sdnotify_send(msg) < 0)
		log_warn("sd_notify: cannot send %s: %s", msg, strerror(errno));
}

void rd_reload_release(struct rampart *rp)
{
	size_t out = 0;
	for (size_t i = 0; i < rp->n_retired; i++) {
		bool used = false;
		for (unsigned w = 0; w < rp->n_workers && !used; w++)
			used = rd_worker_counts_with(rp->workers[w], rp->retired[i]);
		if (used)
			rp->retired[out++] = rp->retired[i];
		else
			det_networks_free(rp->retired[i]);
	}
	rp->n_retired = out;
}

void rd_reload_free(struct rampart *rp)
{
	for (size_t i = 0; i < rp->n_retired; i++)
		det_networks_free(rp->retired[i]);
	rp->n_retired = 0;
}

static void add_word(char *buf, size_t len, const char *w)
{
	size_t at = strlen(buf);
	snprintf(buf + at, len - at, "%s%s", at ? ", " : "", w);
}

static void free_notify(void *n)
{
	act_notify_free(n);
}

static void free_webhook(void *w)
{
	act_webhook_free(w);
}

/* An action beside BGP whose settings changed starts again with them: fresh (NULL when its key
 * is now empty or it could not start) takes running's place among mitigation's subscribers,
 * then running is freed, so a script still running or a POST still queued is finished (or given
 * up) by the old one. Without room for fresh the action is off until the next reload. Returns
 * what runs now. */
static void *swap_action(struct rampart *rp, const char *name, void *running, void *fresh, mit_event_fn event,
			 void (*free_ctx)(void *), struct evbuffer *out, int *rc)
{
	if (mit_replace_subscriber(rp->mit, running, event, fresh) != 0) {
		evbuffer_add_printf(out, "%s: no room among mitigation's subscribers\n", name);
		free_ctx(fresh);
		fresh = NULL;
		mit_replace_subscriber(rp->mit, running, event, NULL);
		*rc = -1;
	}
	free_ctx(running);
	return fresh;
}

static int apply_actions(struct rampart *rp, const struct conf_diff *d, struct evbuffer *out)
{
	int rc = 0;
	const struct conf_actions *a = &rp->conf.actions;
	if (d->notify) {
		struct act_notify *n = NULL;
		if (a->notify_script[0] && !(n = act_notify_new(rp->base, a))) {
			evbuffer_add_printf(out, "notify: cannot set up %s\n", a->notify_script);
			rc = -1;
		}
		rp->notify = swap_action(rp, "notify", rp->notify, n, act_notify_event, free_notify, out, &rc);
	}
	if (d->webhook) {
		struct act_webhook *w = NULL;
		if (a->webhook_url[0] && !(w = act_webhook_new(a))) {
			evbuffer_add_printf(out, "webhook: cannot start for %s\n", a->webhook_url);
			rc = -1;
		}
		rp->webhook = swap_action(rp, "webhook", rp->webhook, w, act_webhook_event, free_webhook, out, &rc);
	}
	return rc;
}

/* The new HTTP listener opens before the old one closes, so a refused address (in use, not
 * ours) leaves the API where it was. */
static int apply_http(struct rampart *rp, const char *was, struct evbuffer *out)
{
	struct api_http *h = NULL;
	char err[256];
	if (rp->conf.api.http[0] && !(h = api_http_new(rd_api_ctx(rp), rp->conf.api.http, err, sizeof err))) {
		evbuffer_add_printf(out, "api.http: %s; it stays on %s\n", err, was[0] ? was : "(off)");
		snprintf(rp->conf.api.http, sizeof rp->conf.api.http, "%s", was);
		return -1;
	}
	api_http_free(rp->http);
	rp->http = h;
	if (h)
		log_info("http: JSON API, /metrics and a live page on http://%s/", rp->conf.api.http);
	return 0;
}

int rd_reload(struct rampart *rp, struct evbuffer *out)
{
	/* systemd's Type=notify reload protocol: RELOADING=1 with the monotonic time, then READY=1 */
	if (sdnotify_reloading() < 0)
		log_warn("sd_notify: cannot send RELOADING=1: %s", strerror(errno));

	struct rampart_conf nc;
	char err[512];
	if (conf_load(rp->conf.path, &nc, err, sizeof err) != 0) {
		log_err("reload: %s; still running on the configuration loaded before", err);
		evbuffer_add_printf(out, "%s\nnothing changed: still running on the configuration loaded before\n", err);
		notify_systemd("READY=1");
		return -1;
	}
	struct conf_diff d;
	conf_diff(&rp->conf, &nc, &d);
	conf_keep_restart(&nc, &rp->conf);

	/* the new lookup before anything changes: without memory for it nothing does */
	struct det_networks *nets = rp->networks;
	if (d.networks) {
		if (rp->n_retired == RD_MAX_RETIRED) {
			rd_reload_release(rp);
			if (rp->n_retired == RD_MAX_RETIRED) {
				snprintf(err, sizeof err, "networks of %d earlier reloads are still in use by the workers; "
					 "try again in a few ticks", RD_MAX_RETIRED);
				goto refuse;
			}
		}
		if (!(nets = det_networks_new(&nc.detect))) {
			snprintf(err, sizeof err, "out of memory for the monitored networks");
			goto refuse;
		}
	}

	/* the engine and everything that reads rp->conf at each decision */
	struct rampart_conf old = rp->conf;
	rp->conf = nc;
	if (det_engine_reconfigure(rp->engine, &rp->conf.detect, &old.detect, nets) != 0) {
		rp->conf = old;
		if (nets != rp->networks)
			det_networks_free(nets);
		snprintf(err, sizeof err, "out of memory for the detection engine");
		goto refuse;
	}
	if (nets != rp->networks) {
		rp->retired[rp->n_retired++] = rp->networks;
		rp->networks = nets;
		mit_set_networks(rp->mit, nets);
	}
	char applied[512] = "";
	int rc = 0;
	if (d.networks)
		add_word(applied, sizeof applied, "networks and hostgroups");
	if (d.thresholds)
		add_word(applied, sizeof applied, "thresholds");
	if (d.whitelist)
		add_word(applied, sizeof applied, "whitelist");
	if (d.detection)
		add_word(applied, sizeof applied, "detection");
	if (d.mitigation)
		add_word(applied, sizeof applied, "mitigation");

	/* peers: the speaker keeps the sessions of unchanged ones */
	if (rp->bgp && (d.peers_added || d.peers_removed || d.peers_changed || d.peers_described)) {
		if (bgp_speaker_set_peers(rp->bgp, &rp->conf.bgp, err, sizeof err) != 0) {
			/* the running peers stay, and with them the running list the indexes refer to */
			struct bgp_config b = rp->conf.bgp;
			rp->conf.bgp.peers = old.bgp.peers;
			rp->conf.bgp.n_peers = old.bgp.n_peers;
			old.bgp.peers = b.peers;
			old.bgp.n_peers = b.n_peers;
			evbuffer_add_printf(out, "peers not changed: %s\n", err);
			log_err("reload: peers not changed: %s", err);
			rc = -1;
		} else {
			int map[64];
			size_t n_old = old.bgp.n_peers < 64 ? old.bgp.n_peers : 64;
			for (size_t i = 0; i < n_old; i++) {
				const struct bgp_peer_config *np = conf_peer_find(&rp->conf.bgp, &old.bgp.peers[i].address);
				map[i] = np ? (int)(np - rp->conf.bgp.peers) : -1;
			}
			mit_routes_remap_peers(rp->mit, map, n_old);
		}
		if (rc == 0 && (d.peers_added || d.peers_removed || d.peers_changed)) {
			char w[96];
			snprintf(w, sizeof w, "peers (%zu added, %zu removed, %zu changed)", d.peers_added, d.peers_removed,
				 d.peers_changed);
			add_word(applied, sizeof applied, w);
		}
	}
	if ((d.notify || d.webhook) && apply_actions(rp, &d, out) != 0)
		rc = -1;
	if (d.notify)
		add_word(applied, sizeof applied, "notify");
	if (d.webhook)
		add_word(applied, sizeof applied, "webhook");
	if (d.http) {
		if (apply_http(rp, old.api.http, out) != 0)
			rc = -1;
		else
			add_word(applied, sizeof applied, "api.http");
	}
	if (d.log_level) {
		log_set_level(conf_log_level(&rp->conf));
		add_word(applied, sizeof applied, "log_level");
	}
	rd_api_ctx(rp); /* the API's view: the new networks, notify and webhook */
	conf_free(&old);

	log_info("reload: %s: %s", rp->conf.path, applied[0] ? applied : "nothing to apply");
	evbuffer_add_printf(out, "reloaded %s: %s\n", rp->conf.path, applied[0] ? applied : "nothing changed");
	for (size_t i = 0; i < d.n_restart; i++) {
		log_warn("reload: needs restart: %s (the running value stays)", d.restart[i]);
		evbuffer_add_printf(out, "needs restart: %s\n", d.restart[i]);
	}
	notify_systemd("READY=1");
	return rc;

refuse:
	conf_keep_restart(&nc, &rp->conf); /* gives back what was traded */
	conf_free(&nc);
	log_err("reload: %s; still running on the configuration loaded before", err);
	evbuffer_add_printf(out, "%s\nnothing changed: still running on the configuration loaded before\n", err);
	notify_systemd("READY=1");
	return -1;
}
