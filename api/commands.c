/* Rampart's own control commands, as typed to rampartctl. One line in, a text reply out. The
 * socket (control.c) adds the "done" / "error: ..." trailer ExaBGP's API users know. */
#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "../bgp/exabgp.h"
#include "../actions/act.h"
#include "../mitigation/state.h"
#include "api.h"
#include "internal.h"

#define MAX_ARGS 16
#define LIST_MAX 4096

static int split(char *line, char *argv[], int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		argv[n++] = t;
	}
	return n;
}

static int fail(struct evbuffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct evbuffer *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
	return -1;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static double secs_between(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e9 : 0;
}

static void format_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void trigger_text(const struct det_ban_info *b, char *buf, size_t len)
{
	if (b->manual) {
		snprintf(buf, len, "manual");
		return;
	}
	const char *cls = b->trigger_class == DET_TOTAL ? "" : det_class_name(b->trigger_class);
	snprintf(buf, len, "%s%s%s %.0f > %.0f", cls, *cls ? "_" : "", det_metric_name(b->trigger_metric),
		 b->trigger_value, b->trigger_limit);
}

static int cmd_ban(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	if (argc != 2 && argc != 4)
		return fail(out, "usage: ban IP[/LEN] [--for SECONDS]");
	ip_prefix p;
	if (!ip_prefix_parse(argv[1], &p))
		return fail(out, "ban: '%s' is not an IP address or prefix", argv[1]);
	uint32_t secs = 0;
	if (argc == 4 && (strcmp(argv[2], "--for") || !parse_u32(argv[3], &secs) || secs == 0))
		return fail(out, "ban: expected --for SECONDS (a positive integer), got '%s %s'", argv[2], argv[3]);
	const char *why = NULL;
	if (det_engine_ban(rp->engine, &p, secs, api_now_ns(rp), mit_on_detection_event, rp->mit, &why) != 0)
		return fail(out, "ban %s refused: %s", argv[1], why ? why : "unknown reason");
	char buf[IP_PREFIX_STRLEN];
	evbuffer_add_printf(out, "banned %s\n", ip_prefix_format(&p, buf));
	return 0;
}

static int cmd_unban(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	if (argc != 2)
		return fail(out, "usage: unban IP[/LEN]");
	ip_prefix p;
	if (!ip_prefix_parse(argv[1], &p))
		return fail(out, "unban: '%s' is not an IP address or prefix", argv[1]);
	if (det_engine_unban(rp->engine, &p, api_now_ns(rp), mit_on_detection_event, rp->mit) != 0)
		return fail(out, "unban: %s is not banned", argv[1]);
	char buf[IP_PREFIX_STRLEN];
	evbuffer_add_printf(out, "unbanned %s\n", ip_prefix_format(&p, buf));
	return 0;
}

/* What mitigation has out for the attack: "covered by N" for a blackhole inside its covering
 * attack's, "-" for nothing (refused, ended, dry run). */
static void mitigation_text(const struct api_ctx *rp, uint64_t attack_id, char *buf, size_t len)
{
	uint64_t covering = 0;
	const char *m = rp->mit ? mit_attack_mitigation(rp->mit, attack_id, &covering) : "";
	if (covering)
		snprintf(buf, len, "covered by %" PRIu64, covering);
	else
		snprintf(buf, len, "%s", m[0] ? m : "-");
}

static int list_bans(struct api_ctx *rp, struct evbuffer *out, bool history)
{
	static struct det_ban_info list[LIST_MAX];
	size_t n = history ? det_engine_attacks(rp->engine, list, LIST_MAX) : det_engine_bans(rp->engine, list, LIST_MAX);
	if (n > LIST_MAX)
		n = LIST_MAX;
	uint64_t now = api_now_ns(rp);
	evbuffer_add_printf(out, "%-8s %-24s %-9s %-8s %-20s %-22s %-18s %s\n", "attack", "target", "direction",
			    history ? "state" : "left", "since", "trigger", "now pps / Mbit/s", "mitigation");
	for (size_t i = 0; i < n; i++) {
		const struct det_ban_info *b = &list[i];
		char pfx[IP_PREFIX_STRLEN], since[32], trig[64], state[16];
		format_time(b->since_ns, since, sizeof since);
		trigger_text(b, trig, sizeof trig);
		if (history)
			snprintf(state, sizeof state, "%s", b->active ? "banned" : "ended");
		else
			snprintf(state, sizeof state, "%.0fs", secs_between(now, b->until_ns));
		const double *r = b->rates.v[b->direction][DET_TOTAL];
		char now[40], mit[48];
		snprintf(now, sizeof now, "%.0f / %.2f", r[DET_PPS], r[DET_BPS] / 1e6);
		mitigation_text(rp, b->attack_id, mit, sizeof mit);
		evbuffer_add_printf(out, "%-8" PRIu64 " %-24s %-9s %-8s %-20s %-22s %-18s %s\n", b->attack_id,
				    ip_prefix_format(&b->target, pfx), det_direction_name(b->direction), state, since,
				    trig, now, mit);
	}
	evbuffer_add_printf(out, "%zu %s\n", n, history ? "attacks" : "active bans");
	return 0;
}

/* ---- attack ID: one attack and its fingerprint ---- */
static void fp_share(struct evbuffer *out, const char *name, uint64_t part, uint64_t whole)
{
	if (part)
		evbuffer_add_printf(out, " %s %.1f%%", name, whole ? 100.0 * (double)part / (double)whole : 0.0);
}

/* The entries of a top list that hold a guaranteed real share, with their bounds; the list's
 * other entries may be all error, so they are not shown. */
static void fp_list_none(struct evbuffer *out, const struct det_fingerprint *fp, size_t shown)
{
	if (!shown && !fp->from_rates)
		evbuffer_add_printf(out, " none with a proven %u%% share", 100 / DET_FP_LIST_SHARE);
}

static void fp_list_addrs(struct evbuffer *out, const struct det_fingerprint *fp, const struct det_fp_addr *e,
			  size_t n, bool prefixes)
{
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (!det_fp_listed(fp, e[i].packets, e[i].error))
			continue;
		char text[IP_PREFIX_STRLEN];
		api_fp_key_text(&e[i], prefixes, text);
		evbuffer_add_printf(out, " %s (%" PRIu64 "..%" PRIu64 ")", text, e[i].packets - e[i].error, e[i].packets);
		shown++;
	}
	fp_list_none(out, fp, shown);
}

static void fp_list_ports(struct evbuffer *out, const struct det_fingerprint *fp, const struct det_fp_port *e, size_t n)
{
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (!det_fp_listed(fp, e[i].packets, e[i].error))
			continue;
		evbuffer_add_printf(out, " %u (%" PRIu64 "..%" PRIu64 ")", e[i].port, e[i].packets - e[i].error,
				    e[i].packets);
		shown++;
	}
	fp_list_none(out, fp, shown);
}

static int cmd_attack(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	uint32_t id;
	if (argc != 2 || !parse_u32(argv[1], &id) || id == 0)
		return fail(out, "usage: attack ID");
	static struct det_ban_info list[LIST_MAX];
	size_t n = det_engine_attacks(rp->engine, list, LIST_MAX);
	const struct det_ban_info *b = NULL;
	for (size_t i = 0; i < n && i < LIST_MAX; i++)
		if (list[i].attack_id == id)
			b = &list[i];
	struct det_fingerprint fp;
	if (!b || det_engine_fingerprint(rp->engine, id, &fp) != 0)
		return fail(out, "attack %u: no such attack (active or among the recent ones)", id);
	char pfx[IP_PREFIX_STRLEN], since[32], trig[64], a[IP_STRLEN];
	format_time(b->since_ns, since, sizeof since);
	trigger_text(b, trig, sizeof trig);
	evbuffer_add_printf(out, "attack %u: %s %s %s since %s, trigger %s, peak %.0f\n", id,
			    ip_prefix_format(&b->target, pfx), det_direction_name(b->direction),
			    b->active ? "banned" : "ended", since, trig, b->peak_value);
	if (b->parent_attack_id)
		evbuffer_add_printf(out, "inside attack %" PRIu64 " (a covering prefix)\n", b->parent_attack_id);
	if (b->active) {
		char mit[48];
		mitigation_text(rp, b->attack_id, mit, sizeof mit);
		evbuffer_add_printf(out, "mitigation: %s%s\n", mit,
				    !strncmp(mit, "covered", 7) ? " (inside its blackhole: no route of its own)" : "");
	}
	evbuffer_add_printf(out, "kind: %s%s\n", det_attack_kind_name(fp.kind),
			    fp.from_rates ? " (from the class rates; no records yet)" : "");
	evbuffer_add_printf(out, "packets: %" PRIu64 " bytes: %" PRIu64 "\nprotocols:", fp.packets, fp.bytes);
	fp_share(out, "tcp", fp.proto[DET_FP_TCP], fp.packets);
	fp_share(out, "udp", fp.proto[DET_FP_UDP], fp.packets);
	fp_share(out, "icmp", fp.proto[DET_FP_ICMP], fp.packets);
	fp_share(out, "other", fp.proto[DET_FP_OTHER], fp.packets);
	fp_share(out, "fragments", fp.fragments, fp.packets);
	evbuffer_add_printf(out, "\ntcp flags:");
	static const char *const flag[8] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};
	for (int i = 0; i < 8; i++)
		fp_share(out, flag[i], fp.tcp_flag[i], fp.proto[DET_FP_TCP]);
	fp_share(out, "syn-only", fp.syn_only, fp.proto[DET_FP_TCP]);
	evbuffer_add_printf(out, "\npacket sizes:");
	for (int i = 0; i < DET_FP_SIZES; i++) {
		char name[16];
		if (i < DET_FP_SIZES - 1)
			snprintf(name, sizeof name, "<=%u", det_fp_size_bounds[i]);
		else
			snprintf(name, sizeof name, ">%u", det_fp_size_bounds[i - 1]);
		fp_share(out, name, fp.size[i], fp.packets);
	}
	/* top-K counters are bounds: at most the count, at least count - error; a key is shown only
	 * with a guaranteed real share (det_fp_listed), else the distinct counts say how spread */
	const char *peers = b->direction == DET_IN ? "sources" : "destinations";
	const char *nets = ip_is_v4(&b->target.addr) ? "/24s" : "/64s";
	ip_addr heavy;
	ip_prefix heavy_net;
	if (fp.from_rates) {
		evbuffer_add_printf(out, "\n%s: not counted yet", peers);
	} else {
		evbuffer_add_printf(out, "\n%s: ~%" PRIu64 " distinct, ~%" PRIu64 " %s; ", peers, fp.distinct_peers,
				    fp.distinct_peer_prefixes, nets);
		if (det_fp_heavy_peer(&fp, &heavy))
			evbuffer_add_printf(out, "proven heavy: %s", ip_format(&heavy, a));
		else if (det_fp_heavy_peer_prefix(&fp, &heavy_net))
			evbuffer_add_printf(out, "proven heavy: %s (no single address)", ip_prefix_format(&heavy_net, pfx));
		else
			evbuffer_add_printf(out, "none proven heavy: spread over ~%" PRIu64 " %s (~%" PRIu64 " %s)",
					    fp.distinct_peers, peers, fp.distinct_peer_prefixes, nets);
	}
	evbuffer_add_printf(out, "\ntop %s (packets at least..at most):", peers);
	fp_list_addrs(out, &fp, fp.peers, fp.n_peers, false);
	evbuffer_add_printf(out, "\ntop %s %s (packets at least..at most):", b->direction == DET_IN ? "source" : "destination",
			    nets);
	fp_list_addrs(out, &fp, fp.peer_prefixes, fp.n_peer_prefixes, true);
	if (!fp.from_rates)
		evbuffer_add_printf(out, "\nports: ~%" PRIu64 " distinct source, ~%" PRIu64 " distinct destination",
				    fp.distinct_src_ports, fp.distinct_dst_ports);
	evbuffer_add_printf(out, "\ntop source ports (packets at least..at most):");
	fp_list_ports(out, &fp, fp.src_ports, fp.n_src_ports);
	evbuffer_add_printf(out, "\ntop destination ports (packets at least..at most):");
	fp_list_ports(out, &fp, fp.dst_ports, fp.n_dst_ports);
	evbuffer_add_printf(out, "\n");
	struct st_samples_info pi;
	if (api_samples_info(rp, id, &pi)) /* sample packets (detection.attack_pcap) */
		evbuffer_add_printf(out, "pcap: %s (%" PRIu64 " packets%s)\n", pi.path, pi.packets,
				    pi.open ? ", collecting" : "");
	return 0;
}

static int cmd_peers(struct api_ctx *rp, struct evbuffer *out)
{
	if (!rp->bgp) {
		evbuffer_add_printf(out, "no BGP peers configured (bgp section absent)\n");
		return 0;
	}
	struct bgp_peer_status st[64];
	size_t n = bgp_speaker_peers(rp->bgp, st, 64);
	evbuffer_add_printf(out, "%-40s %-10s %-12s %-8s %-10s %-8s %-8s %s\n", "peer", "as", "state", "routes",
			    "updates", "taw", "discard", "last error");
	for (size_t i = 0; i < n && i < 64; i++) {
		char a[IP_STRLEN];
		evbuffer_add_printf(out, "%-40s %-10" PRIu32 " %-12s %-8" PRIu64 " %-10" PRIu64 " %-8" PRIu64
				    " %-8" PRIu64 " %s\n",
				    ip_format(&st[i].address, a), st[i].remote_as, st[i].state, st[i].prefixes_sent,
				    st[i].updates_sent, st[i].taw_received, st[i].attrs_discarded, st[i].last_error);
	}
	evbuffer_add_printf(out, "%zu routes in the RIB-out\n", bgp_rib_out_count(rp->bgp));
	/* a wrong or missing password never reaches BGP: the kernel drops the segments and counts
	 * them (for all peers together) */
	struct bgp_md5_counters md5;
	if (bgp_md5_counters_read(&md5) == 0)
		evbuffer_add_printf(out,
				    "TCP MD5 drops (kernel, this namespace): wrong key %" PRIu64 ", unsigned %" PRIu64
				    ", signed without a key here %" PRIu64 "\n",
				    md5.failure, md5.not_found, md5.unexpected);
	return 0;
}

static int cmd_top(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	enum det_direction dir = DET_IN;
	enum det_metric metric = DET_PPS;
	uint32_t n = 10;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "incoming") || !strcmp(argv[i], "in"))
			dir = DET_IN;
		else if (!strcmp(argv[i], "outgoing") || !strcmp(argv[i], "out"))
			dir = DET_OUT;
		else if (!strcmp(argv[i], "pps"))
			metric = DET_PPS;
		else if (!strcmp(argv[i], "bps") || !strcmp(argv[i], "mbps"))
			metric = DET_BPS;
		else if (!strcmp(argv[i], "flows"))
			metric = DET_FLOWS;
		else if (!parse_u32(argv[i], &n) || n == 0 || n > 1000)
			return fail(out, "usage: top [incoming|outgoing] [pps|bps|flows] [N (1..1000)]");
	}
	struct det_host_info list[1000];
	size_t got = det_engine_top(rp->engine, dir, metric, list, n);
	evbuffer_add_printf(out, "%-40s %-12s %12s %12s %12s %s\n", "host", "hostgroup", "pps", "Mbit/s",
			    "flows/s", "");
	for (size_t i = 0; i < got && i < n; i++) {
		char a[IP_STRLEN];
		const double *r = list[i].rates.v[dir][DET_TOTAL];
		const char *group = list[i].hostgroup >= 0 && (size_t)list[i].hostgroup < rp->conf->detect.n_groups
					    ? rp->conf->detect.groups[list[i].hostgroup].name
					    : "-";
		evbuffer_add_printf(out, "%-40s %-12s %12.0f %12.2f %12.0f %s\n", ip_format(&list[i].host, a), group,
				    r[DET_PPS], r[DET_BPS] / 1e6, r[DET_FLOWS], list[i].banned ? "banned" : "");
	}
	evbuffer_add_printf(out, "%s, by %s; %zu hosts tracked\n", det_direction_name(dir), det_metric_name(metric),
			    det_engine_hosts(rp->engine));
	return 0;
}

/* ---- flow export listeners -------------------------------------------------------------- */

static const char *flow_source_name(uint8_t src)
{
	static const char *names[] = {"mirror", "sflow", "netflow5", "netflow9", "ipfix"};
	return src < sizeof names / sizeof names[0] ? names[src] : "?";
}

/* Per listener: its kernel drops; per exporter: what came, what was lost and why. */
static int cmd_exporters(struct api_ctx *rp, struct evbuffer *out)
{
	static struct api_source_stats s;
	unsigned listeners = 0;
	for (unsigned i = 0; i < api_n_sources(rp); i++) {
		api_source_stats(rp, i, &s);
		if (!s.flow)
			continue;
		listeners++;
		evbuffer_add_printf(out, "listener %s: datagrams %" PRIu64 " kernel_drops %" PRIu64 " oversize %" PRIu64
				    " exporters %zu\n",
				    s.name, s.udp.datagrams, s.udp.kernel_drops, s.udp.oversize, s.n_exporters);
		/* what the bounded tables refused to whom (docs/FLOWS.md) */
		evbuffer_add_printf(out, "  refused:");
		for (int r = 0; r < CAP_REFUSE_COUNT; r++)
			evbuffer_add_printf(out, " %s %" PRIu64, cap_flow_refusal_name((enum cap_flow_refusal)r),
					    s.udp.decode.refused[r]);
		evbuffer_add_printf(out, " evicted %" PRIu64 " templates_reclaimed %" PRIu64 " template_bytes %" PRIu64 "\n",
				    s.udp.decode.evicted, s.udp.decode.templates_reclaimed, s.udp.decode.template_bytes);
		size_t shown = s.n_exporters < API_EXPORTERS_SHOWN ? s.n_exporters : API_EXPORTERS_SHOWN;
		if (shown)
			evbuffer_add_printf(out, "  %-40s %-9s %-10s %-6s %10s %10s %9s %9s %9s %9s %s\n", "exporter",
					    "protocol", "domain", "rate", "datagrams", "records", "malformed",
					    "tmpl_miss", "seq_gaps", "templates", "last seen");
		for (size_t j = 0; j < shown; j++) {
			const struct cap_exporter_info *e = &s.exporters[j];
			char a[IP_STRLEN], agent[IP_STRLEN + 8] = "", seen[32];
			format_time(e->last_seen_ns, seen, sizeof seen);
			if (!ip_is_zero(&e->agent)) {
				char ag[IP_STRLEN];
				snprintf(agent, sizeof agent, " agent %s", ip_format(&e->agent, ag));
			}
			evbuffer_add_printf(out,
					    "  %-40s %-9s %-10" PRIu32 " %-6" PRIu32 " %10" PRIu64 " %10" PRIu64 " %9" PRIu64
					    " %9" PRIu64 " %9" PRIu64 " %9" PRIu32 " %s%s\n",
					    ip_format(&e->addr, a), flow_source_name(e->source), e->domain,
					    e->sampling_rate, e->datagrams, e->records, e->malformed, e->template_misses,
					    e->sequence_gaps, e->templates, seen, agent);
		}
		if (shown < s.n_exporters)
			evbuffer_add_printf(out, "  ... %zu more exporters not shown\n", s.n_exporters - shown);
	}
	if (listeners == 0)
		evbuffer_add_printf(out, "no flow listeners (capture.sflow/netflow/ipfix.listen)\n");
	return 0;
}

/* The stats registry's text view (stats_render.c); HTTP's own counters are /metrics' and
 * /api/v1/stats', which the control socket cannot see. */
static int cmd_stats(struct api_ctx *rp, struct evbuffer *out)
{
	struct api_stats_snap *snap = api_stats_snap_new(rp, NULL);
	if (!snap)
		return fail(out, "out of memory");
	api_stats_text(snap, out);
	api_stats_snap_free(snap);
	return 0;
}

/* flowspec add RULE | del RULE | list: RULE in the text form of docs/FLOWSPEC.md (ExaBGP's flow
 * route syntax is accepted too), taken from the rest of the line as typed. */
static int cmd_flowspec(struct api_ctx *rp, const char *args, struct evbuffer *out)
{
	while (*args == ' ')
		args++;
	if (!strcmp(args, "list"))
		return mit_flowspec_list(rp->mit, out), 0;
	bool add = !strncmp(args, "add ", 4), del = !strncmp(args, "del ", 4);
	if (!add && !del)
		return fail(out, "usage: flowspec add RULE | flowspec del RULE | flowspec list");
	struct fs_rule r;
	struct fs_actions a;
	struct fs_err err;
	if (!fs_text_parse(args + 4, &r, &a, &err))
		return fail(out, "flowspec: %s", err.msg);
	char text[1024];
	if (del) {
		if (mit_flowspec_del(rp->mit, &r) != 0)
			return fail(out, "flowspec del: no such operator rule (flowspec list shows them)");
		fs_text_format(&r, NULL, text, sizeof text);
		evbuffer_add_printf(out, "withdrawn: %s\n", text);
		return 0;
	}
	if (!a.present)
		return fail(out, "flowspec add: the rule has no action (add e.g. \"then discard\")");
	char why[200] = "";
	if (mit_flowspec_add(rp->mit, &r, &a, false, why, sizeof why) != 0)
		return fail(out, "flowspec add refused: %s", why);
	fs_text_format(&r, &a, text, sizeof text);
	evbuffer_add_printf(out, "announced: %s\n", text);
	return 0;
}

/* ---- the command table: dispatch and `help` from the same rows ---------------------------- */

struct command {
	const char *name;
	const char *usage;   /* as `help` shows it */
	const char *help;
	int max_args;        /* beyond the name: 0 = none allowed, -1 = the command checks them */
	bool rest;           /* takes the rest of the line as typed (run_rest), not split words */
	int (*run)(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out);
	int (*run_rest)(struct api_ctx *rp, const char *rest, struct evbuffer *out);
};

static int run_bans(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	return list_bans(rp, out, false);
}

static int run_attacks(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	return list_bans(rp, out, true);
}

static int run_peers(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	return cmd_peers(rp, out);
}

static int run_stats(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	return cmd_stats(rp, out);
}

static int run_exporters(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	return cmd_exporters(rp, out);
}

static int run_routes(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	mit_routes_list(rp->mit, out);
	return 0;
}

static int run_reload(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)argc, (void)argv;
	return rp->daemon.reload(rp->daemon.ctx, out);
}

static int run_help(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out);

/* flows and talkers are answered later, by the read-back (readback.c): the socket and HTTP send
 * them there before the table; their rows are here for `help`. The ExaBGP row stands for every
 * line bgp_exa_is_command() accepts. */
static const struct command commands[] = {
	{"ban", "ban IP[/LEN] [--for SECONDS]", "ban (blackhole) a host or prefix", -1, false, cmd_ban, NULL},
	{"unban", "unban IP[/LEN]", "lift a ban", -1, false, cmd_unban, NULL},
	{"bans", "bans", "active bans", 0, false, run_bans, NULL},
	{"attacks", "attacks", "active and recent attacks", 0, false, run_attacks, NULL},
	{"attack", "attack ID", "one attack: its fingerprint and kind", -1, false, cmd_attack, NULL},
	{"peers", "peers", "BGP sessions", 0, false, run_peers, NULL},
	{"top", "top [incoming|outgoing] [pps|bps|flows] [N]", "busiest hosts now", -1, false, cmd_top, NULL},
	{"stats", "stats", "capture, storage and decision counters", 0, false, run_stats, NULL},
	{"exporters", "exporters", "flow listeners and their exporters' counters", 0, false, run_exporters, NULL},
	{"flows", "flows ATTACK_ID [--limit N]", "the attack's flows from ClickHouse, top N by packets", -1, false, NULL,
	 NULL},
	{"talkers", "talkers HOST [--from T] [--to T] [--limit N]", "top sources and ports of a host (ClickHouse)", -1,
	 false, NULL, NULL},
	{"routes", "routes", "announced routes and which source holds each", 0, false, run_routes, NULL},
	{"announce", "announce ... / withdraw ... / neighbor IP ...", "ExaBGP API commands (docs/EXABGP.md)", -1, true,
	 NULL, NULL},
	{"flowspec", "flowspec add RULE | del RULE | list", "operator FlowSpec rules (docs/FLOWSPEC.md)", -1, true, NULL,
	 cmd_flowspec},
	{"reload", "reload", "read the configuration file again and apply it (docs/OPERATIONS.md)", 0, false, run_reload,
	 NULL},
	{"help", "help", "this text", 0, false, run_help, NULL},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int run_help(struct api_ctx *rp, int argc, char **argv, struct evbuffer *out)
{
	(void)rp, (void)argc, (void)argv;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		/* the help column starts at 31; a longer usage is followed by three spaces */
		if (strlen(c->usage) <= 28)
			evbuffer_add_printf(out, "%-31s%s\n", c->usage, c->help);
		else
			evbuffer_add_printf(out, "%s   %s\n", c->usage, c->help);
	}
	return 0;
}

static const struct command *find_command(const char *name, size_t len)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strlen(commands[i].name) == len && !memcmp(commands[i].name, name, len))
			return &commands[i];
	return NULL;
}

/* True unless line is a command known to only read (api/api.h). */
bool api_command_changes_state(const char *line)
{
	static const char *const readers[] = {"bans",	   "attacks", "attack", "peers", "top",	  "stats",
					      "exporters", "routes",  "help",	"flows", "talkers", NULL};
	while (*line == ' ' || *line == '\t')
		line++;
	size_t n = strcspn(line, " \t\r\n");
	for (size_t i = 0; readers[i]; i++)
		if (n == strlen(readers[i]) && !strncmp(line, readers[i], n))
			return false;
	if (n == 8 && !strncmp(line, "flowspec", 8)) {
		const char *a = line + 8;
		while (*a == ' ' || *a == '\t')
			a++;
		return strncmp(a, "list", 4) || (a[4] && !strchr(" \t\r\n", a[4]));
	}
	return true;
}

int api_command(struct api_ctx *rp, const char *line, struct evbuffer *out)
{
	/* ExaBGP's API text (docs/EXABGP.md): lines may be longer than our own commands */
	if (bgp_exa_is_command(line))
		return mit_exabgp_command(rp->mit, MIT_SRC_OPERATOR, line, out);
	size_t word = strcspn(line, " ");
	const struct command *c = find_command(line, word);
	if (c && c->run_rest)
		return c->run_rest(rp, line + word, out);
	char buf[1024];
	size_t len = strlen(line);
	if (len >= sizeof buf)
		return fail(out, "command too long (%zu bytes, at most %zu)", len, sizeof buf - 1);
	memcpy(buf, line, len + 1);
	char *argv[MAX_ARGS];
	int argc = split(buf, argv, MAX_ARGS);
	if (argc < 0)
		return fail(out, "too many arguments (at most %d)", MAX_ARGS);
	if (argc == 0)
		return fail(out, "empty command (try 'help')");
	c = find_command(argv[0], strlen(argv[0]));
	if (!c || !c->run)
		return fail(out, "unknown command '%.64s' (try 'help')", argv[0]);
	if (c->max_args >= 0 && argc - 1 > c->max_args)
		return fail(out, "%s takes no arguments", c->name);
	return c->run(rp, argc, argv, out);
}
