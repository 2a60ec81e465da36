/* The HTTP API's JSON lists: /api/v1/bans (and /attacks), /top, /peers and /stats; http.c routes
 * the requests here after its checks (Host, token, method). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "../mitigation/state.h"
#include "api.h"
#include "internal.h"

/* ---- JSON output --------------------------------------------------------------------------- */

static void json_cstr(struct evbuffer *b, const char *s)
{
	json_str(b, s, strlen(s));
}

/* JSON has no NaN or infinity; rates are finite, but a division by a zero interval must not
 * produce invalid output. */
static void json_num(struct evbuffer *b, double v)
{
	if (v != v || v > 1e300 || v < -1e300)
		v = 0;
	evbuffer_add_printf(b, "%.3f", v);
}

static void json_rates(struct evbuffer *b, const struct det_rates *r, enum det_direction d)
{
	evbuffer_add_printf(b, "{\"pps\":");
	json_num(b, r->v[d][DET_TOTAL][DET_PPS]);
	evbuffer_add_printf(b, ",\"bps\":");
	json_num(b, r->v[d][DET_TOTAL][DET_BPS]);
	evbuffer_add_printf(b, ",\"flows\":");
	json_num(b, r->v[d][DET_TOTAL][DET_FLOWS]);
	evbuffer_add(b, "}", 1);
}

static const char *group_name(const struct api_ctx *rp, int g)
{
	return g >= 0 && (size_t)g < rp->conf->detect.n_groups ? rp->conf->detect.groups[g].name : "";
}

/* A top list's entries that hold a guaranteed real share (det_fp_listed), with their bounds. */
static void json_fp_addrs(struct evbuffer *b, const struct det_fingerprint *fp, const struct det_fp_addr *e, size_t n,
			  bool prefixes)
{
	evbuffer_add(b, "[", 1);
	for (size_t i = 0, shown = 0; i < n; i++) {
		if (!det_fp_listed(fp, e[i].packets, e[i].error))
			continue;
		char text[IP_PREFIX_STRLEN];
		api_fp_key_text(&e[i], prefixes, text);
		evbuffer_add_printf(b, "%s{\"key\":", shown++ ? "," : "");
		json_cstr(b, text);
		evbuffer_add_printf(b, ",\"at_least\":%" PRIu64 ",\"at_most\":%" PRIu64 "}", e[i].packets - e[i].error,
				    e[i].packets);
	}
	evbuffer_add(b, "]", 1);
}

static void json_fp_ports(struct evbuffer *b, const struct det_fingerprint *fp, const struct det_fp_port *e, size_t n)
{
	evbuffer_add(b, "[", 1);
	for (size_t i = 0, shown = 0; i < n; i++)
		if (det_fp_listed(fp, e[i].packets, e[i].error))
			evbuffer_add_printf(b, "%s{\"port\":%u,\"at_least\":%" PRIu64 ",\"at_most\":%" PRIu64 "}",
					    shown++ ? "," : "", e[i].port, e[i].packets - e[i].error, e[i].packets);
	evbuffer_add(b, "]", 1);
}

/* The attack's fingerprint as rampartctl attack shows it: distinct counts (HyperLogLog
 * estimates), the proven heavy remote end or network (null when none), and the keys with a
 * guaranteed real share; peers are the sources of an incoming attack, destinations of an
 * outgoing one. */
static void json_fingerprint(struct evbuffer *b, const struct api_ctx *rp, const struct det_ban_info *x)
{
	struct det_fingerprint fp;
	if (det_engine_fingerprint(rp->engine, x->attack_id, &fp) != 0) {
		evbuffer_add_printf(b, ",\"fingerprint\":null");
		return;
	}
	evbuffer_add_printf(b,
			    ",\"fingerprint\":{\"from_rates\":%s,\"records\":%" PRIu64 ",\"packets\":%" PRIu64
			    ",\"distinct_peers\":%" PRIu64 ",\"distinct_peer_prefixes\":%" PRIu64
			    ",\"peer_prefix_length\":%u,\"distinct_src_ports\":%" PRIu64 ",\"distinct_dst_ports\":%" PRIu64,
			    fp.from_rates ? "true" : "false", fp.records, fp.packets, fp.distinct_peers,
			    fp.distinct_peer_prefixes, ip_is_v4(&x->target.addr) ? DET_FP_PREFIX_V4 : DET_FP_PREFIX_V6,
			    fp.distinct_src_ports, fp.distinct_dst_ports);
	char text[IP_PREFIX_STRLEN];
	ip_addr heavy;
	ip_prefix net;
	evbuffer_add_printf(b, ",\"heavy_peer\":");
	if (det_fp_heavy_peer(&fp, &heavy))
		json_cstr(b, ip_format(&heavy, text));
	else
		evbuffer_add_printf(b, "null");
	evbuffer_add_printf(b, ",\"heavy_peer_prefix\":");
	if (det_fp_heavy_peer_prefix(&fp, &net))
		json_cstr(b, ip_prefix_format(&net, text));
	else
		evbuffer_add_printf(b, "null");
	evbuffer_add_printf(b, ",\"peers\":");
	json_fp_addrs(b, &fp, fp.peers, fp.n_peers, false);
	evbuffer_add_printf(b, ",\"peer_prefixes\":");
	json_fp_addrs(b, &fp, fp.peer_prefixes, fp.n_peer_prefixes, true);
	evbuffer_add_printf(b, ",\"src_ports\":");
	json_fp_ports(b, &fp, fp.src_ports, fp.n_src_ports);
	evbuffer_add_printf(b, ",\"dst_ports\":");
	json_fp_ports(b, &fp, fp.dst_ports, fp.n_dst_ports);
	evbuffer_add(b, "}", 1);
}

static void json_ban(struct evbuffer *b, const struct api_ctx *rp, const struct det_ban_info *x)
{
	char pfx[IP_PREFIX_STRLEN];
	evbuffer_add_printf(b, "{\"attack_id\":%" PRIu64 ",\"target\":", x->attack_id);
	json_cstr(b, ip_prefix_format(&x->target, pfx));
	evbuffer_add_printf(b, ",\"direction\":\"%s\",\"kind\":\"%s\",\"hostgroup\":", det_direction_name(x->direction),
			    det_attack_kind_name((enum det_attack_kind)x->kind));
	json_cstr(b, group_name(rp, x->hostgroup));
	evbuffer_add_printf(b,
			    ",\"manual\":%s,\"active\":%s,\"since_ns\":%" PRIu64 ",\"until_ns\":%" PRIu64
			    ",\"ended_ns\":%" PRIu64 ",\"trigger\":{\"class\":\"%s\",\"metric\":\"%s\",\"value\":",
			    x->manual ? "true" : "false", x->active ? "true" : "false", x->since_ns, x->until_ns,
			    x->ended_ns, det_class_name(x->trigger_class), det_metric_name(x->trigger_metric));
	json_num(b, x->trigger_value);
	evbuffer_add_printf(b, ",\"limit\":");
	json_num(b, x->trigger_limit);
	evbuffer_add_printf(b, ",\"peak\":");
	json_num(b, x->peak_value);
	uint64_t covering = 0;
	const char *mit = rp->mit ? mit_attack_mitigation(rp->mit, x->attack_id, &covering) : "";
	evbuffer_add_printf(b, "},\"parent_attack_id\":%" PRIu64 ",\"mitigation\":\"%s\",\"covered_by\":%" PRIu64 ",\"rates\":",
			    x->parent_attack_id, mit, covering);
	json_rates(b, &x->rates, x->direction);
	struct st_samples_info pi; /* sample packets (detection.attack_pcap); null when none */
	if (api_samples_info(rp, x->attack_id, &pi)) {
		evbuffer_add_printf(b, ",\"pcap\":{\"path\":");
		json_cstr(b, pi.path);
		evbuffer_add_printf(b, ",\"packets\":%" PRIu64 ",\"open\":%s}", pi.packets, pi.open ? "true" : "false");
	} else {
		evbuffer_add_printf(b, ",\"pcap\":null");
	}
	json_fingerprint(b, rp, x);
	evbuffer_add(b, "}", 1);
}

/* ---- handlers ------------------------------------------------------------------------------ */

void api_http_get_bans(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!api_http_want_get(req))
		return;
	bool history = !strcmp(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), "/api/v1/attacks");
	size_t n = history ? det_engine_attacks(h->rp->engine, h->bans, LIST_MAX)
			   : det_engine_bans(h->rp->engine, h->bans, LIST_MAX);
	size_t shown = n < LIST_MAX ? n : LIST_MAX;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"count\":%zu,\"%s\":[", n, history ? "attacks" : "bans");
	for (size_t i = 0; i < shown; i++) {
		if (i)
			evbuffer_add(b, ",", 1);
		json_ban(b, h->rp, &h->bans[i]);
	}
	evbuffer_add_printf(b, "]}\n");
	api_http_reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

void api_http_get_top(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!api_http_want_get(req))
		return;
	enum det_direction dir = DET_IN;
	enum det_metric metric = DET_PPS;
	unsigned long n = 10;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (evhttp_parse_query_str(query ? query : "", &q) != 0) {
		api_http_reply_error(req, 400, "bad query string");
		return;
	}
	const char *v, *bad = NULL;
	if ((v = evhttp_find_header(&q, "direction"))) {
		if (!strcmp(v, "incoming") || !strcmp(v, "in"))
			dir = DET_IN;
		else if (!strcmp(v, "outgoing") || !strcmp(v, "out"))
			dir = DET_OUT;
		else
			bad = "direction must be incoming or outgoing";
	}
	if ((v = evhttp_find_header(&q, "metric"))) {
		if (!strcmp(v, "pps"))
			metric = DET_PPS;
		else if (!strcmp(v, "bps"))
			metric = DET_BPS;
		else if (!strcmp(v, "flows"))
			metric = DET_FLOWS;
		else
			bad = "metric must be pps, bps or flows";
	}
	if ((v = evhttp_find_header(&q, "n"))) {
		char *end;
		n = strtoul(v, &end, 10);
		if (*v == '\0' || *end || n == 0 || n > 1000)
			bad = "n must be 1..1000";
	}
	evhttp_clear_headers(&q);
	if (bad) {
		api_http_reply_error(req, 400, bad);
		return;
	}
	size_t got = det_engine_top(h->rp->engine, dir, metric, h->hosts, n);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"direction\":\"%s\",\"metric\":\"%s\",\"hosts_tracked\":%zu,\"top\":[",
			    det_direction_name(dir), det_metric_name(metric), det_engine_hosts(h->rp->engine));
	for (size_t i = 0; i < got; i++) {
		char a[IP_STRLEN];
		evbuffer_add_printf(b, "%s{\"host\":", i ? "," : "");
		json_cstr(b, ip_format(&h->hosts[i].host, a));
		evbuffer_add_printf(b, ",\"hostgroup\":");
		json_cstr(b, group_name(h->rp, h->hosts[i].hostgroup));
		evbuffer_add_printf(b, ",\"banned\":%s,\"rates\":", h->hosts[i].banned ? "true" : "false");
		json_rates(b, &h->hosts[i].rates, dir);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add_printf(b, "]}\n");
	api_http_reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

void api_http_get_peers(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!api_http_want_get(req))
		return;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"bgp\":%s,\"peers\":[", h->rp->bgp ? "true" : "false");
	if (h->rp->bgp) {
		struct bgp_peer_status st[64];
		size_t n = bgp_speaker_peers(h->rp->bgp, st, 64);
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "%s{\"address\":", i ? "," : "");
			json_cstr(b, ip_format(&st[i].address, a));
			evbuffer_add_printf(b, ",\"remote_as\":%" PRIu32 ",\"state\":", st[i].remote_as);
			json_cstr(b, st[i].state);
			evbuffer_add_printf(b,
					    ",\"hold_time\":%u,\"updates_sent\":%" PRIu64 ",\"updates_received\":%" PRIu64
					    ",\"prefixes_sent\":%" PRIu64 ",\"established_count\":%" PRIu64
					    ",\"treat_as_withdraw\":%" PRIu64 ",\"attrs_discarded\":%" PRIu64
					    ",\"last_error\":",
					    st[i].hold_time, st[i].updates_sent, st[i].updates_received, st[i].prefixes_sent,
					    st[i].established_count, st[i].taw_received, st[i].attrs_discarded);
			json_cstr(b, st[i].last_error);
			evbuffer_add(b, "}", 1);
		}
		evbuffer_add_printf(b, "],\"rib_out\":%zu}\n", bgp_rib_out_count(h->rp->bgp));
	} else {
		evbuffer_add_printf(b, "],\"rib_out\":0}\n");
	}
	api_http_reply(req, 200, "application/json", b);
	evbuffer_free(b);
}

void api_http_get_stats(struct evhttp_request *req, void *arg)
{
	struct api_http *h = arg;
	if (!api_http_want_get(req))
		return;
	struct api_stats_snap *snap = api_stats_snap_new(h->rp, &h->st);
	if (!snap) {
		api_http_reply_error(req, 500, "out of memory");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	api_stats_json(snap, b);
	api_stats_snap_free(snap);
	api_http_reply(req, 200, "application/json", b);
	evbuffer_free(b);
}
