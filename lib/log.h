/* Logging to stderr (the journal, under systemd), one line per message.
 *
 * Bad input from outside is logged through log_once(): the first occurrence of each kind with
 * full context, then only a count every LOG_ONCE_INTERVAL_S, so a flood of malformed datagrams
 * cannot flood the log. */
#ifndef RAMPART_LIB_LOG_H
#define RAMPART_LIB_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

/* Set once by the daemon's wiring before threads start. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)

#define LOG_ONCE_INTERVAL_S 60

/* Owned by whoever logs (one per error site and thread): no shared state, no locks. */
struct log_once {
	uint64_t count;      /* occurrences since the last line printed */
	uint64_t last_print; /* monotonic seconds */
	int printed;
};

/* Logs the first occurrence at WARN, then at most one summary line per interval. */
void log_once(struct log_once *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
