/* The webhook action: every ban and unban is POSTed as one JSON object to a configured URL,
 * with retries, so a ticketing system, a chat bot or an orchestrator hears of it.
 *
 * The main loop only formats the JSON and queues it (a mutex and a condition variable, once per
 * event, never per packet); one thread of its own posts with libcurl, so a slow or dead receiver
 * never blocks detection. A POST that fails (transport error or a non-2xx status) is retried up
 * to `webhook_retries` times with a doubling pause (0.5 s, 1 s, 2 s, ...); then it is dropped,
 * logged and counted. The queue is bounded: when it is full, new events are dropped and counted. */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <event2/buffer.h>

#include "../lib/log.h"
#include "../lib/json.h"
#include "act.h"

#define QUEUE_MAX 1024

struct act_webhook {
	char url[256];
	uint32_t timeout_s;
	uint32_t retries;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *queue[QUEUE_MAX]; /* JSON bodies, owned */
	size_t head, len;
	bool stop;

	atomic_uint_least64_t queued, sent, retried, failed, dropped;
};

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p, (void)ctx;
	return size * n;
}

/* One POST: true for a 2xx answer. */
static bool post(struct act_webhook *w, CURL *curl, struct curl_slist *hdr, const char *body, char *why,
		 size_t whylen)
{
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, w->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)w->timeout_s);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return false;
	}
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, whylen, "HTTP status %ld", status);
		return false;
	}
	return true;
}

/* Waits ms unless stop is set; false when stopping. Called with the lock held. */
static bool pause_ms(struct act_webhook *w, unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!w->stop)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0)
			break;
	return !w->stop;
}

static void *webhook_main(void *arg)
{
	struct act_webhook *w = arg;
	CURL *curl = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->len && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->len)
			break; /* stopping, and everything was sent */
		char *body = w->queue[w->head];
		w->head = (w->head + 1) % QUEUE_MAX;
		w->len--;
		bool ok = false;
		char why[128] = "no curl handle";
		/* when stopping, one attempt each: shutdown stays bounded */
		for (uint32_t attempt = 0; curl && !ok; attempt++) {
			pthread_mutex_unlock(&w->lock);
			ok = post(w, curl, hdr, body, why, sizeof why);
			pthread_mutex_lock(&w->lock);
			if (ok || attempt >= w->retries || w->stop)
				break;
			atomic_fetch_add(&w->retried, 1);
			if (!pause_ms(w, 500u << (attempt < 6 ? attempt : 6)))
				break;
		}
		if (ok) {
			atomic_fetch_add(&w->sent, 1);
		} else {
			atomic_fetch_add(&w->failed, 1);
			log_warn("webhook: %s: event not delivered: %s", w->url, why);
		}
		free(body);
	}
	pthread_mutex_unlock(&w->lock);
	curl_slist_free_all(hdr);
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

struct act_webhook *act_webhook_new(const struct conf_actions *cfg)
{
	if (!cfg->webhook_url[0])
		return NULL;
	struct act_webhook *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	snprintf(w->url, sizeof w->url, "%s", cfg->webhook_url);
	w->timeout_s = cfg->webhook_timeout_s ? cfg->webhook_timeout_s : 5;
	w->retries = cfg->webhook_retries;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_create(&w->thread, NULL, webhook_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return NULL;
	}
	log_info("webhook: POST to %s on ban and unban (%u retries, %u s timeout)", w->url, w->retries,
		 w->timeout_s);
	return w;
}

void act_webhook_free(struct act_webhook *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	log_info("webhook: %" PRIu64 " events sent, %" PRIu64 " retries, %" PRIu64 " failed, %" PRIu64 " dropped",
		 (uint64_t)w->sent, (uint64_t)w->retried, (uint64_t)w->failed, (uint64_t)w->dropped);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

void act_webhook_event(void *ctx, const struct mit_event *e)
{
	struct act_webhook *w = ctx;
	const struct det_event *ev = e->ev;
	if (!w || e->restored || (e->type != MIT_EV_BAN && e->type != MIT_EV_UNBAN && e->type != MIT_EV_ESCALATE &&
						     e->type != MIT_EV_NARROW))
		return;
	/* "ip" is what the notify script gets as its first argument: the address of a host, the
	 * prefix itself for a prefix (group total) ban, so a receiver keyed on "ip" never mistakes a
	 * /24 ban for one of its hosts (the network address) */
	char pfx[IP_PREFIX_STRLEN], ip[IP_PREFIX_STRLEN];
	ip_prefix_format(&ev->target, pfx);
	if (ev->target.len == ip_max_len(&ev->target.addr))
		ip_format(&ev->target.addr, ip);
	else
		memcpy(ip, pfx, sizeof ip);
	struct evbuffer *f = evbuffer_new();
	if (!f)
		return;
	const double *r = ev->rates.v[ev->direction][DET_TOTAL];
	evbuffer_add_printf(f, "{\"action\":\"%s\",\"attack_id\":%" PRIu64 ",\"time_ns\":%" PRIu64 ",\"ip\":\"%s\","
		   "\"prefix\":\"%s\",\"direction\":\"%s\",\"manual\":%s,\"attack_type\":\"%s\","
		   "\"pps\":%.0f,\"bps\":%.0f,\"flows\":%.0f,\"ban_seconds\":%u,\"reason\":",
		mit_event_name(e->type), ev->attack_id, ev->time_ns, ip, pfx,
		det_direction_name(ev->direction), ev->manual ? "true" : "false",
		e->fp ? det_attack_kind_name(e->fp->kind) : "unknown", r[DET_PPS], r[DET_BPS], r[DET_FLOWS],
		ev->ban_seconds);
	const char *reason = ev->reason ? ev->reason : "";
	json_str(f, reason, strlen(reason));
	evbuffer_add_printf(f, ",\"hostgroup\":");
	json_str(f, e->hostgroup, strlen(e->hostgroup));
	evbuffer_add_printf(f, ",\"parent_attack_id\":%" PRIu64, ev->parent_attack_id);
	if (e->samples_path[0]) {
		evbuffer_add_printf(f, ",\"pcap\":");
		json_str(f, e->samples_path, strlen(e->samples_path));
		evbuffer_add_printf(f, ",\"pcap_packets\":%" PRIu64, e->samples_packets);
	}
	evbuffer_add(f, "}", 1);
	size_t len = evbuffer_get_length(f);
	char *body = malloc(len + 1);
	if (!body) {
		evbuffer_free(f);
		return;
	}
	evbuffer_remove(f, body, len);
	body[len] = '\0';
	evbuffer_free(f);
	pthread_mutex_lock(&w->lock);
	if (w->len == QUEUE_MAX) {
		pthread_mutex_unlock(&w->lock);
		if (atomic_fetch_add(&w->dropped, 1) == 0)
			log_warn("webhook: %u events wait for %s; further events are dropped", QUEUE_MAX, w->url);
		free(body);
		return;
	}
	w->queue[(w->head + w->len) % QUEUE_MAX] = body;
	w->len++;
	atomic_fetch_add(&w->queued, 1);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

struct act_action act_webhook_action(struct act_webhook *w)
{
	return (struct act_action){.name = "webhook", .ctx = w, .event = act_webhook_event};
}

void act_webhook_stats(const struct act_webhook *w, struct act_webhook_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!w)
		return;
	out->queued = atomic_load(&w->queued);
	out->sent = atomic_load(&w->sent);
	out->retried = atomic_load(&w->retried);
	out->failed = atomic_load(&w->failed);
	out->dropped = atomic_load(&w->dropped);
}
