/* Actions: what else happens when mitigation acts, outside BGP. Each is a subscriber of
 * mitigation's event stream (mitigation/mit.h, struct mit_event) behind one small interface,
 * struct act_action, so a new action is one file with a constructor that fills it:
 *
 *   store       attack_events rows for storage/ (ClickHouse or files)
 *   notify      a script with FastNetMon's arguments (notify.c)
 *   webhook     a JSON POST, retried, off the main loop (webhook.c)
 *   localroute  a blackhole route in a local kernel table, over netlink (localroute.c)
 *
 * Threads: every event callback runs on the main loop and never blocks on the outside (a
 * script is spawned, a POST is queued for the webhook's thread, a netlink message is one
 * syscall). */
#ifndef RAMPART_ACT_H
#define RAMPART_ACT_H

#include <stdbool.h>
#include <stdint.h>

#include "../conf/conf.h"
#include "../mitigation/mit.h"

struct event_base;
struct st_writer;

/* One action: event subscribed with ctx (mit_subscribe). The wiring frees each ctx through its
 * own act_*_free, after the last event: teardown and reload need the typed handle anyway (a
 * reload swaps one action's ctx for a new one), so a generic free hook would be a second path. */
struct act_action {
	const char *name; /* for the log when there is no room */
	void *ctx;
	mit_event_fn event;
};

/* Subscribes a to m's events; -1 when m has no room (MIT_MAX_SUBSCRIBERS). */
int act_subscribe(struct mit *m, const struct act_action *a);

/* ---- storage: attack_events rows ---------------------------------------------------------- */

/* Every event except the restored bans becomes a row on st (which must outlive it). */
struct act_action act_store(struct st_writer *st);

/* ---- notify script (notify.c) ------------------------------------------------------------- */

struct act_notify;
/* NULL when cfg has no notify_script (or out of memory: logged by the caller). */
struct act_notify *act_notify_new(struct event_base *base, const struct conf_actions *cfg);
/* Waits up to 3 s for running scripts, kills what is left, drops the queue. */
void act_notify_free(struct act_notify *n);
/* Runs the script for a BAN, UNBAN, ESCALATE or NARROW (others, and restored bans, are ignored);
 * never blocks. ctx is the struct act_notify. */
void act_notify_event(void *ctx, const struct mit_event *e);
struct act_action act_notify_action(struct act_notify *n);
struct act_notify_stats {
	uint64_t started, ok, failed, timed_out, dropped;
	unsigned running, queued;
};
void act_notify_stats(const struct act_notify *n, struct act_notify_stats *out);

/* ---- webhook (webhook.c) ------------------------------------------------------------------ */

struct act_webhook;
/* NULL when cfg has no webhook_url (or the thread cannot start). */
struct act_webhook *act_webhook_new(const struct conf_actions *cfg);
/* Stops the thread after one last attempt at each queued event. */
void act_webhook_free(struct act_webhook *w);
/* Queues a BAN, UNBAN, ESCALATE or NARROW as JSON (others, and restored bans, are ignored);
 * never blocks on the network. ctx is the struct act_webhook. */
void act_webhook_event(void *ctx, const struct mit_event *e);
struct act_action act_webhook_action(struct act_webhook *w);
struct act_webhook_stats {
	uint64_t queued, sent, retried, failed, dropped;
};
void act_webhook_stats(const struct act_webhook *w, struct act_webhook_stats *out);

/* ---- local blackhole route (localroute.c) ------------------------------------------------- */

struct act_localroute;
/* NULL when the netlink socket cannot be opened (logged). Deletes our stale routes first. */
struct act_localroute *act_localroute_new(const struct conf_actions *cfg);
/* Deletes the routes still in place. */
void act_localroute_free(struct act_localroute *lr);
/* Adds (BAN, restored ones too) or deletes (UNBAN) the blackhole route of the target; nothing in
 * dry run. ctx is the struct act_localroute. */
void act_localroute_event(void *ctx, const struct mit_event *e);
struct act_action act_localroute_action(struct act_localroute *lr);
struct act_localroute_stats {
	uint64_t added, removed, failed;
};
void act_localroute_stats(const struct act_localroute *lr, struct act_localroute_stats *out);

#endif
