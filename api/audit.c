/* The audit trail of state-changing commands: one log line and one operator_events row per
 * command, whoever gave it (control socket, HTTP API, ExaBGP pipe or process). The row is queued
 * without waiting (a full ring is counted in the storage stats as ops_dropped); the log line is
 * written whatever storage does, so the trail survives a storage outage. */
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "../lib/log.h"
#include "internal.h"

void api_audit(struct api_ctx *rp, const struct api_audit_who *who, const char *line, int rc,
	       struct evbuffer *reply)
{
	char res[160];
	size_t n = evbuffer_get_length(reply);
	n = n < sizeof res ? n : sizeof res - 1;
	evbuffer_copyout(reply, res, n);
	res[n] = '\0';
	res[strcspn(res, "\n")] = '\0';
	if (!res[0]) /* the ExaBGP lines answer nothing when done: say it as its process API would */
		snprintf(res, sizeof res, "%s", rc == 0 ? "done" : "error");
	const char *result = rc == 0 ? "ok" : "refused";
	if (!strcmp(who->source, "socket"))
		log_info("audit: socket uid %d pid %d: \"%s\": %s: %s", (int)who->uid, (int)who->pid, line, result, res);
	else if (!strcmp(who->source, "http"))
		log_info("audit: http client %s token %s: \"%s\": %s: %s", who->client, who->token ? "yes" : "no", line,
			 result, res);
	else
		log_info("audit: %s: \"%s\": %s: %s", who->source, line, result, res);
	if (!rp->storage)
		return;
	struct st_operator_event ev = {.uid = who->uid, .pid = who->pid, .token = who->token, .ok = rc == 0};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	snprintf(ev.source, sizeof ev.source, "%s", who->source);
	snprintf(ev.client, sizeof ev.client, "%s", who->client ? who->client : "");
	snprintf(ev.command, sizeof ev.command, "%s", line);
	snprintf(ev.result, sizeof ev.result, "%s", res);
	st_writer_operator_event(rp->storage, &ev);
}
