/* Names used in logs, the control socket, storage rows and the config: one place, so they agree. */
#include <string.h>

#include "det.h"

const char *det_direction_name(enum det_direction d)
{
	switch (d) {
	case DET_IN: return "incoming";
	case DET_OUT: return "outgoing";
	default: return "?";
	}
}

const char *det_class_name(enum det_class c)
{
	static const char *const names[DET_CLASSES] = {"total", "tcp", "udp", "icmp", "syn", "frag"};
	return (unsigned)c < DET_CLASSES ? names[c] : "?";
}

const char *det_metric_name(enum det_metric m)
{
	static const char *const names[DET_METRICS] = {"pps", "bps", "flows"};
	return (unsigned)m < DET_METRICS ? names[m] : "?";
}

const char *det_event_name(enum det_event_type t)
{
	switch (t) {
	case DET_EV_ATTACK_DETECTED: return "attack_detected";
	case DET_EV_BAN: return "ban";
	case DET_EV_BAN_REFUSED: return "ban_refused";
	case DET_EV_BAN_EXTENDED: return "ban_extended";
	case DET_EV_UNBAN: return "unban";
	default: return "?";
	}
}

/* Allocates nothing: networks, whitelist and groups stay NULL and belong to whoever sets them
 * (conf/). With no groups the engine counts and rates hosts but checks no thresholds. */
void det_config_defaults(struct det_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->tick_ms = 100;
	cfg->average_s = 1;
	cfg->confirm_ticks = 2;
	cfg->burst_factor = 3;
	cfg->ban_time_s = 600;
	cfg->unban_only_if_attack_finished = true;
	cfg->max_bans = 1000;
	/* Tables are sized for this many hosts but their entries are touched (made resident) only
	 * as hosts appear, so a large default costs address space, not memory. */
	cfg->max_hosts = 1u << 20;
	cfg->host_idle_s = 60;
}
