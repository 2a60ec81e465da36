#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* The one process-wide setting: written before threads start, only read afterwards. */
static enum log_level min_level = LOG_LVL_INFO;

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

enum log_level log_get_level(void)
{
	return min_level;
}

static const char *level_name[] = {"debug", "info", "warn", "error"};

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			 level_name[lvl]);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	/* one fputs per line so lines from different threads do not interleave */
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl < min_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

void log_once(struct log_once *st, const char *fmt, ...)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec;
	st->count++;
	if (st->printed && now - st->last_print < LOG_ONCE_INTERVAL_S)
		return;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!st->printed)
		log_warn("%s", msg);
	else
		log_warn("%s (%llu such in the last %ds)", msg, (unsigned long long)st->count,
			 LOG_ONCE_INTERVAL_S);
	st->printed = 1;
	st->last_print = now;
	st->count = 0;
}
