/* The ban state file's counters as `rampartctl stats` shows them (a line), /api/v1/stats (a
 * member ',"ban_state":{...}') and /metrics (a block); nothing when there is no state file. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <string.h>

#include "../lib/json.h"
#include "../mitigation/state.h"
#include "api.h"


void api_state_stats_text(const struct mit *m, struct evbuffer *out)
{
	const char *path = mit_state_path(m);
	if (!path[0])
		return;
	struct mit_state_stats s;
	mit_state_stats(m, &s);
	evbuffer_add_printf(out,
			    "ban state %s: writes %" PRIu64 " failed %" PRIu64 " (no space %" PRIu64 ")%s last %" PRIu64 ".%03" PRIu64
			    " ms (serialise %" PRIu64 ".%03" PRIu64 " ms) %" PRIu64 " bytes; at start: %s, restored %" PRIu64
			    " (bans %" PRIu64 ") expired %" PRIu64 " refused %" PRIu64 " skipped %" PRIu64 "\n",
			    path, s.writes, s.write_errors, s.no_space, s.disk_full ? " DISK FULL" : "", s.last_write_us / 1000, s.last_write_us % 1000,
			    s.last_serialise_us / 1000, s.last_serialise_us % 1000, s.last_write_bytes,
			    s.restart ? "restart" : "first start", s.restored, s.restored_bans, s.expired, s.refused,
			    s.skipped);
}

void api_state_stats_json(const struct mit *m, struct evbuffer *out)
{
	const char *path = mit_state_path(m);
	if (!path[0])
		return;
	struct mit_state_stats s;
	mit_state_stats(m, &s);
	evbuffer_add_printf(out, ",\"ban_state\":{\"file\":");
	json_str(out, path, strlen(path));
	evbuffer_add_printf(out,
			    ",\"writes\":%" PRIu64 ",\"write_errors\":%" PRIu64 ",\"no_space\":%" PRIu64
			    ",\"spare_failures\":%" PRIu64 ",\"disk_full\":%s,\"disk_full_events\":%" PRIu64
			    ",\"last_write_us\":%" PRIu64
			    ",\"last_serialise_us\":%" PRIu64 ",\"last_write_bytes\":%" PRIu64 ",\"restart\":%s"
			    ",\"restored\":%" PRIu64 ",\"restored_bans\":%" PRIu64 ",\"expired\":%" PRIu64
			    ",\"refused\":%" PRIu64 ",\"skipped\":%" PRIu64 "}",
			    s.writes, s.write_errors, s.no_space, s.spare_failures, s.disk_full ? "true" : "false",
			    s.disk_full_events, s.last_write_us, s.last_serialise_us, s.last_write_bytes,
			    s.restart ? "true" : "false", s.restored, s.restored_bans, s.expired, s.refused, s.skipped);
}

static void head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void api_state_metrics(const struct mit *m, struct evbuffer *b)
{
	if (!mit_state_path(m)[0])
		return;
	struct mit_state_stats s;
	mit_state_stats(m, &s);
	head(b, "rampart_banstate_writes_total", "counter", "Ban state file writes, by result (a failed one is retried).");
	evbuffer_add_printf(b, "rampart_banstate_writes_total{result=\"ok\"} %" PRIu64 "\n", s.writes);
	evbuffer_add_printf(b, "rampart_banstate_writes_total{result=\"failed\"} %" PRIu64 "\n", s.write_errors);
	head(b, "rampart_banstate_no_space_total", "counter",
	     "Ban state writes refused for lack of space (ENOSPC, EDQUOT); the last good file stays.");
	evbuffer_add_printf(b, "rampart_banstate_no_space_total %" PRIu64 "\n", s.no_space);
	head(b, "rampart_banstate_spare_failures_total", "counter",
	     "Ban state writes after which the next write's space (FILE.spare) could not be reserved.");
	evbuffer_add_printf(b, "rampart_banstate_spare_failures_total %" PRIu64 "\n", s.spare_failures);
	head(b, "rampart_banstate_disk_full", "gauge",
	     "1 while the ban state file's disk is full: a write refused, or no room to reserve the next one.");
	evbuffer_add_printf(b, "rampart_banstate_disk_full %d\n", s.disk_full ? 1 : 0);
	head(b, "rampart_banstate_disk_full_events_total", "counter", "Times the ban state file's disk became full.");
	evbuffer_add_printf(b, "rampart_banstate_disk_full_events_total %" PRIu64 "\n", s.disk_full_events);
	head(b, "rampart_banstate_last_write_seconds", "gauge",
	     "The last ban state write's time: write, fsync, rename (on the writer thread).");
	evbuffer_add_printf(b, "rampart_banstate_last_write_seconds %.6f\n", (double)s.last_write_us / 1e6);
	head(b, "rampart_banstate_last_serialise_seconds", "gauge",
	     "The main loop's part of the last ban state write: its tables as the file's text.");
	evbuffer_add_printf(b, "rampart_banstate_last_serialise_seconds %.6f\n", (double)s.last_serialise_us / 1e6);
	head(b, "rampart_banstate_last_write_bytes", "gauge", "The ban state file's size at its last write.");
	evbuffer_add_printf(b, "rampart_banstate_last_write_bytes %" PRIu64 "\n", s.last_write_bytes);
	head(b, "rampart_banstate_start_records", "gauge",
	     "What the start found in the ban state file, per record: restored, expired (a ban that ended "
	     "while down), refused, skipped (a bad line).");
	evbuffer_add_printf(b, "rampart_banstate_start_records{result=\"restored\"} %" PRIu64 "\n", s.restored);
	evbuffer_add_printf(b, "rampart_banstate_start_records{result=\"expired\"} %" PRIu64 "\n", s.expired);
	evbuffer_add_printf(b, "rampart_banstate_start_records{result=\"refused\"} %" PRIu64 "\n", s.refused);
	evbuffer_add_printf(b, "rampart_banstate_start_records{result=\"skipped\"} %" PRIu64 "\n", s.skipped);
	head(b, "rampart_banstate_restored_bans", "gauge", "Bans the start put back from the ban state file.");
	evbuffer_add_printf(b, "rampart_banstate_restored_bans %" PRIu64 "\n", s.restored_bans);
	head(b, "rampart_banstate_restart", "gauge",
	     "1 when this start read a previous run's ban state file: a restart (RFC 4724 Restart State bit).");
	evbuffer_add_printf(b, "rampart_banstate_restart %d\n", s.restart ? 1 : 0);
}
