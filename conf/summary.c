/* conf_log_summary: what the configuration asks the daemon to do, logged once at start so that an
 * operator reading the log sees the plan (what is watched, how it is captured, what an attack
 * leads to) without opening the YAML. Only what the configuration itself says: a module that
 * learns more once it runs (storage's destination, BGP's sessions) logs that itself. */
#include "../lib/log.h"
#include "conf.h"

static void log_capture(const struct conf_capture *cc, const char *replay)
{
	if (replay) {
		log_info("capture: replaying %s", replay);
		if (cc->n_sflow || cc->n_netflow || cc->n_ipfix)
			log_warn("capture: --pcap replays a capture on its own clock; the flow listeners are not started");
		return;
	}
	for (size_t i = 0; i < cc->n_pcap_interfaces; i++)
		log_info("capture: interface %s (libpcap%s)", cc->pcap_interfaces[i], cc->pcap_sample > 1 ? ", sampled" : "");
	const struct conf_afpacket *afp = &cc->afpacket;
	for (size_t i = 0; i < afp->n_interfaces; i++)
		log_info("capture: interface %s (AF_PACKET, %u worker(s), %u MiB ring each, 1 in %u)", afp->interfaces[i],
			 afp->workers, afp->ring_mb, afp->sample);
	for (size_t i = 0; i < cc->afxdp.n_interfaces; i++)
		log_info("capture: interface %s (AF_XDP, %zu RX queue(s))", cc->afxdp.interfaces[i], cc->afxdp.n_queues);
	if (!cc->n_pcap_interfaces && !afp->n_interfaces && !cc->afxdp.n_interfaces && !cc->dpdk.n_ports &&
	    !cc->n_sflow && !cc->n_netflow && !cc->n_ipfix)
		log_warn("capture: no interfaces configured (capture.pcap.interfaces): nothing will be seen");
}

static void log_mitigation(const struct rampart_conf *c)
{
	if (c->mitigation.dry_run)
		log_info("mitigation: dry run: attacks are detected and recorded, nothing is announced");
	else if (!c->bgp_enabled)
		log_info("mitigation: no bgp section: bans are decided, logged and stored, but announced to no router");
	else
		log_info("mitigation: bans are announced as blackholes (65535:666, no-export) to %zu BGP peer(s)",
			 c->bgp.n_peers);
	static const char *const mode[] = {[DET_MIT_BLACKHOLE] = "blackhole", [DET_MIT_FLOWSPEC] = "flowspec",
					   [DET_MIT_FLOWSPEC_THEN_BLACKHOLE] = "flowspec, then blackhole if it goes on"};
	bool flowspec = c->mitigation.action != DET_MIT_BLACKHOLE;
	for (size_t i = 0; i < c->detect.n_groups; i++) {
		enum det_mitigation m = c->detect.groups[i].mitigation;
		if (m == DET_MIT_DEFAULT)
			m = c->mitigation.action;
		flowspec |= m != DET_MIT_BLACKHOLE;
		log_info("hostgroup %s: mitigation %s", c->detect.groups[i].name, mode[m]);
	}
	if (flowspec)
		log_info("flowspec: %s matched traffic; at most %u rules, then blackholes",
			 c->mitigation.flowspec_rate_limit_mbps ? "rate-limits" : "discards", c->mitigation.flowspec_max_rules);
}

void conf_log_summary(const struct rampart_conf *c, const char *replay)
{
	char buf[IP_PREFIX_STRLEN];
	log_info("rampartd starting with %s", c->path);
	for (size_t i = 0; i < c->detect.n_networks; i++)
		log_info("monitoring %s", ip_prefix_format(&c->detect.networks[i], buf));
	log_info("%zu hostgroups besides the default; tick %u ms, average %u s, ban time %u s", c->detect.n_groups - 1,
		 c->detect.tick_ms, c->detect.average_s, c->detect.ban_time_s);
	log_capture(&c->capture, replay);
	log_mitigation(c);
	log_info("control: %s (rampartctl -s %s help)", c->api.socket, c->api.socket);
	if (c->api.http[0])
		log_info("http: JSON API, /metrics and a live page on http://%s/", c->api.http);
}

enum log_level conf_log_level(const struct rampart_conf *c)
{
	static const enum log_level levels[] = {[CONF_LOG_DEBUG] = LOG_LVL_DEBUG, [CONF_LOG_INFO] = LOG_LVL_INFO,
						[CONF_LOG_WARN] = LOG_LVL_WARN, [CONF_LOG_ERR] = LOG_LVL_ERR};
	return levels[c->log_level];
}
