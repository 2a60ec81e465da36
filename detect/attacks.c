/* The engine's attacks (engine_int.h): opening, banning or refusing, ending and filing them in
 * the history, the watch set of hosts the workers fingerprint, manual bans, the queries on
 * attacks, and the bans restored after a restart. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "engine_int.h"

/* ---- watch set ---------------------------------------------------------------------------- */

static struct attack *open_by_id(struct det_engine *e, uint64_t id)
{
	for (size_t i = 0; i < e->n_open; i++)
		if (e->open[i].info.attack_id == id && !e->open[i].dead)
			return &e->open[i];
	return NULL;
}

/* The fingerprints c collected against the watch set it holds go to their attacks (an attack
 * that ended meanwhile is skipped), then c gets the current set. */
void det_merge_fingerprints(struct det_engine *e, struct det_counters *c)
{
	const struct det_watch *w = det_counters_watch(c);
	for (size_t i = 0; w && i < w->n; i++) {
		const struct det_fp_acc *acc = det_counters_fp(c, i);
		struct attack *a = acc ? open_by_id(e, w->e[i].attack_id) : NULL;
		if (a && a->fp)
			det_fp_acc_merge(a->fp, acc);
	}
	if (w == e->watch_cur)
		return;
	for (struct det_watch *x = e->watches; x; x = x->next)
		if (x == w)
			x->refs--;
	det_counters_set_watch(c, e->watch_cur);
	if (e->watch_cur)
		e->watch_cur->refs++;
}

/* A new watch set when attacks on hosts started or ended; sets nobody holds are freed. */
void det_publish_watch(struct det_engine *e)
{
	if (!e->watch_dirty)
		return;
	e->watch_dirty = false;
	struct det_watch *w = NULL;
	for (size_t i = 0; i < e->n_open; i++) {
		const struct attack *a = &e->open[i];
		if (a->dead || !a->fp)
			continue;
		if (!w && !(w = calloc(1, sizeof *w)))
			break; /* fingerprints pause; the next start or end tries again */
		det_watch_add(w, &a->info.target.addr, a->info.direction, a->info.attack_id);
	}
	if (w) {
		w->next = e->watches;
		e->watches = w;
	}
	e->watch_cur = w;
	for (struct det_watch **p = &e->watches; *p;) {
		struct det_watch *x = *p;
		if (x != e->watch_cur && x->refs == 0) {
			*p = x->next;
			free(x);
		} else {
			p = &x->next;
		}
	}
}

/* ---- admission ---------------------------------------------------------------------------- */

static uint32_t ban_time(const struct det_engine *e, int group)
{
	if (group >= 0 && (size_t)group < e->cfg->n_groups && e->cfg->groups[group].ban_time_s)
		return e->cfg->groups[group].ban_time_s;
	return e->cfg->ban_time_s;
}

/* p overlaps one of list: banning it would ban some of them */
static bool covered(const ip_prefix *list, size_t n, const ip_prefix *p)
{
	for (size_t i = 0; i < n; i++) {
		if (ip_is_v4(&p->addr) != ip_is_v4(&list[i].addr))
			continue;
		if ((ip_prefix_contains(&list[i], &p->addr) && list[i].len <= p->len) ||
		    (ip_prefix_contains(p, &list[i].addr) && p->len <= list[i].len))
			return true;
	}
	return false;
}

static bool whitelisted(const struct det_engine *e, const ip_prefix *p)
{
	if (det_lpm_lookup(&e->whitelist, &p->addr) >= 0) {
		/* a whitelist prefix covers p's first address; it covers all of p if not longer */
		for (size_t i = 0; i < e->cfg->n_whitelist; i++)
			if (ip_prefix_contains(&e->cfg->whitelist[i], &p->addr) &&
			    e->cfg->whitelist[i].len <= p->len)
				return true;
	}
	/* or p would also ban a whitelisted prefix inside it */
	for (size_t i = 0; i < e->cfg->n_whitelist; i++)
		if (ip_prefix_contains(p, &e->cfg->whitelist[i].addr) && p->len <= e->cfg->whitelist[i].len &&
		    ip_is_v4(&p->addr) == ip_is_v4(&e->cfg->whitelist[i].addr))
			return true;
	return false;
}

/* ---- attacks ------------------------------------------------------------------------------ */

static struct attack *attack_open(struct det_engine *e)
{
	if (e->n_open == e->cap_open) {
		size_t cap = e->cap_open ? e->cap_open * 2 : 64;
		struct attack *n = realloc(e->open, cap * sizeof *n);
		if (!n)
			return NULL;
		e->open = n;
		e->cap_open = cap;
	}
	struct attack *a = &e->open[e->n_open++];
	memset(a, 0, sizeof *a);
	a->kind = ATT_OTHER;
	a->info.attack_id = e->next_attack_id++;
	return a;
}

static void emit(det_event_fn fn, void *ctx, const struct attack *a, enum det_event_type type, uint64_t now,
		 uint32_t ban_seconds, const char *reason)
{
	if (!fn)
		return;
	struct det_event ev = det_event_of_ban(&a->info, type, now, ban_seconds, reason);
	fn(ctx, &ev);
}

struct det_event det_event_of_ban(const struct det_ban_info *b, enum det_event_type type, uint64_t now_ns,
				  uint32_t ban_seconds, const char *reason)
{
	return (struct det_event){
		.type = type,
		.attack_id = b->attack_id,
		.time_ns = now_ns,
		.target = b->target,
		.direction = b->direction,
		.hostgroup = b->hostgroup,
		.manual = b->manual,
		.trigger_class = b->trigger_class,
		.trigger_metric = b->trigger_metric,
		.trigger_value = b->trigger_value,
		.trigger_limit = b->trigger_limit,
		.rates = b->rates,
		.ban_seconds = ban_seconds,
		.reason = reason,
		.parent_attack_id = b->parent_attack_id,
	};
}

static struct host *attack_host(const struct det_engine *e, const struct attack *a)
{
	return a->kind == ATT_HOST ? det_host_find(e, &a->info.target.addr) : NULL;
}

/* a's rates now: its host's or its sum's; false when neither is known (kept as they were). */
static bool attack_rates(const struct det_engine *e, const struct attack *a, struct det_rates *out)
{
	const struct host *h = attack_host(e, a);
	if (h) {
		det_host_rates(e, (size_t)(h - det_hosts(e)), out);
		return true;
	}
	const struct det_psum *s = det_attack_sum(e, a);
	if (s)
		*out = s->rates;
	return s != NULL;
}

/* What is known of a's packets: the records' fingerprint once there are some, before that
 * (and for prefix attacks) the class mix of its rates. */
static void fingerprint_of(const struct det_engine *e, const struct attack *a, struct det_fingerprint *out)
{
	if (a->fp && a->fp->packets) {
		det_fp_acc_summary(a->fp, out);
		return;
	}
	struct det_rates r;
	if (!attack_rates(e, a, &r))
		r = a->info.rates;
	det_fp_from_rates(&r, a->info.direction, out);
}

/* Ends open attack a (keeps it until compaction) and files it in the history. */
static void attack_end(struct det_engine *e, struct attack *a, uint64_t now)
{
	attack_rates(e, a, &a->info.rates);
	struct host *h = attack_host(e, a);
	if (h && h->attack_id[a->info.direction] == a->info.attack_id)
		h->attack_id[a->info.direction] = 0;
	struct det_psum *s = a->kind == ATT_GROUP ? NULL : det_attack_sum(e, a);
	if (s && s->attack_id[a->info.direction] == a->info.attack_id)
		s->attack_id[a->info.direction] = 0;
	if (a->kind == ATT_GROUP)
		e->group_open[a->info.hostgroup][a->info.direction]--;
	if (a->banned)
		e->n_banned--;
	a->dead = true;
	a->info.active = false;
	a->info.ended_ns = now;
	struct det_fingerprint *fp = &e->hist_fp[e->hist_next];
	fingerprint_of(e, a, fp);
	a->info.kind = fp->kind;
	if (a->fp) {
		free(a->fp);
		a->fp = NULL;
		e->watch_dirty = true;
	}
	e->history[e->hist_next] = a->info;
	e->hist_next = (e->hist_next + 1) % HISTORY;
	if (e->hist_count < HISTORY)
		e->hist_count++;
}

void det_compact(struct det_engine *e)
{
	size_t j = 0;
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead)
			e->open[j++] = e->open[i];
	e->n_open = j;
}

/* Whether the target of a ban (detected, or manual) may be banned, or why not. The rate cap
 * holds back only detected bans: a runaway detector must not blackhole a network, an operator
 * may. */
static const char *refusal(const struct det_engine *e, const ip_prefix *p, bool detected, uint64_t now)
{
	if (whitelisted(e, p))
		return "whitelisted";
	if (covered(e->cfg->own, e->cfg->n_own, p))
		return "own address";
	if (e->n_banned >= e->cfg->max_bans)
		return "max_bans reached";
	uint32_t cap = e->cfg->max_bans_per_minute;
	/* the ring holds the last cap ban times: full, and its oldest within the minute, means cap
	 * bans in the last 60 s */
	if (detected && cap && e->ban_count == cap && e->ban_times[e->ban_next] + 60000000000ull > now)
		return "max_bans_per_minute reached";
	return NULL;
}

static void count_ban(struct det_engine *e, uint64_t now)
{
	uint32_t cap = e->cfg->max_bans_per_minute;
	if (!cap)
		return;
	e->ban_times[e->ban_next] = now;
	e->ban_next = (e->ban_next + 1) % cap;
	if (e->ban_count < cap)
		e->ban_count++;
}

/* The banned attack on exactly p in direction dir (DET_DIR_ANY: either). */
#define DET_DIR_ANY (-1)
static struct attack *find_ban(struct det_engine *e, const ip_prefix *p, int dir)
{
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead && e->open[i].banned && ip_prefix_equal(&e->open[i].info.target, p) &&
		    (dir == DET_DIR_ANY || (int)e->open[i].info.direction == dir))
			return &e->open[i];
	return NULL;
}

/* The one way an attack becomes banned, detected, manual or restored: until until_ns, counted
 * against max_bans_per_minute at counted_at (0: not counted, a restored ban was counted before). */
static void ban_attack(struct det_engine *e, struct attack *a, uint64_t until_ns, uint64_t counted_at)
{
	a->banned = true;
	a->info.active = true;
	a->info.until_ns = until_ns;
	e->n_banned++;
	if (counted_at)
		count_ban(e, counted_at);
}

/* A host attack's fingerprint, collected by the workers once the next watch set is out; without
 * memory for it the attack has the class mix of its rates only. */
static void watch_host(struct det_engine *e, struct attack *a)
{
	if (a->kind == ATT_HOST && (a->fp = calloc(1, sizeof *a->fp)))
		e->watch_dirty = true;
}

/* A manual or restored ban tied to the host or prefix sum it names, when they have no attack of
 * their own yet (so they do not open a second one); its rates from them when take_rates. */
static void tie_to_traffic(struct det_engine *e, struct attack *a, bool take_rates)
{
	struct host *h = attack_host(e, a);
	if (h) {
		if (take_rates)
			det_host_rates(e, (size_t)(h - det_hosts(e)), &a->info.rates);
		if (!h->attack_id[a->info.direction])
			h->attack_id[a->info.direction] = a->info.attack_id;
	}
	struct det_psum *s = a->kind == ATT_GROUP ? NULL : det_attack_sum(e, a);
	if (s) {
		if (take_rates)
			a->info.rates = s->rates;
		if (!s->attack_id[a->info.direction])
			s->attack_id[a->info.direction] = a->info.attack_id;
	}
}

/* The open attack on the narrowest prefix that strictly contains target (banned or refused, any
 * direction), or 0: an attack inside a mitigated prefix is still an attack of its own, and this
 * links it to the covering one. One pass over the open attacks per new attack. */
static uint64_t covering_attack(const struct det_engine *e, const ip_prefix *target)
{
	uint64_t id = 0;
	int best = -1;
	for (size_t i = 0; i < e->n_open; i++) {
		const struct det_ban_info *b = &e->open[i].info;
		if (e->open[i].dead || b->target.len >= target->len || (int)b->target.len <= best ||
		    ip_is_v4(&b->target.addr) != ip_is_v4(&target->addr) || !ip_prefix_contains(&b->target, &target->addr))
			continue;
		best = b->target.len;
		id = b->attack_id;
	}
	return id;
}

/* Opens a detected attack on target and bans it, or refuses; the attack is returned for the
 * caller to tie to its host or group, NULL on ENOMEM (it is detected again next tick). */
static struct attack *start_attack(struct det_engine *e, const ip_prefix *target, int group,
				   const struct det_rates *rates, const struct trigger *t, uint64_t now,
				   det_event_fn fn, void *ctx)
{
	uint64_t parent = covering_attack(e, target);
	struct attack *a = attack_open(e);
	if (!a)
		return NULL;
	struct det_ban_info *b = &a->info;
	b->target = *target;
	b->parent_attack_id = parent;
	b->direction = t->dir;
	b->hostgroup = group;
	b->since_ns = now;
	b->trigger_class = t->cls;
	b->trigger_metric = t->metric;
	b->trigger_value = t->value;
	b->trigger_limit = t->limit;
	b->peak_value = t->value;
	b->rates = *rates;
	emit(fn, ctx, a, DET_EV_ATTACK_DETECTED, now, 0, NULL);
	const char *why = refusal(e, target, true, now);
	if (why) {
		emit(fn, ctx, a, DET_EV_BAN_REFUSED, now, 0, why);
		return a;
	}
	uint32_t secs = ban_time(e, group);
	ban_attack(e, a, now + (uint64_t)secs * 1000000000ull, now);
	emit(fn, ctx, a, DET_EV_BAN, now, secs, NULL);
	return a;
}

void det_detect_host(struct det_engine *e, struct host *h, const struct trigger *t, uint64_t now,
			det_event_fn fn, void *ctx)
{
	ip_prefix target;
	ip_prefix_host(&target, &h->addr);
	/* a ban of exactly this host in this direction (manual: incoming) already covers it; one in
	 * the other direction does not: an outgoing attack from a victim is an attack of its own */
	struct attack *a = find_ban(e, &target, (int)t->dir);
	if (!a) {
		struct det_rates r;
		det_host_rates(e, (size_t)(h - det_hosts(e)), &r);
		a = start_attack(e, &target, h->group, &r, t, now, fn, ctx);
		if (!a)
			return;
		a->kind = ATT_HOST;
		watch_host(e, a);
	}
	h->attack_id[t->dir] = a->info.attack_id;
}

/* Every prefix of group g over its total in t->dir; prefixes already banned in that direction
 * (manually: incoming) are left alone. */
void det_detect_group(struct det_engine *e, int g, const struct det_rates *sum, const struct trigger *t,
			 uint64_t now, det_event_fn fn, void *ctx)
{
	const struct det_config *cfg = e->cfg;
	const ip_prefix *p = g == 0 ? cfg->networks : cfg->groups[g].prefixes;
	size_t n = g == 0 ? cfg->n_networks : cfg->groups[g].n_prefixes;
	for (size_t i = 0; i < n; i++) {
		ip_prefix q = p[i];
		ip_prefix_mask(&q);
		if (find_ban(e, &q, (int)t->dir))
			continue;
		struct attack *a = start_attack(e, &q, g, sum, t, now, fn, ctx);
		if (!a)
			continue;
		a->kind = ATT_GROUP;
		e->group_open[g][t->dir]++;
	}
}

/* The (sub-)prefix of sum s over its group's total in t->dir; a ban of exactly it in that
 * direction (manual: incoming) covers it. */
void det_detect_prefix(struct det_engine *e, struct det_psum *s, const struct trigger *t, uint64_t now,
			  det_event_fn fn, void *ctx)
{
	struct attack *a = find_ban(e, &s->key.p, (int)t->dir);
	if (!a) {
		a = start_attack(e, &s->key.p, s->key.group, &s->rates, t, now, fn, ctx);
		if (!a)
			return;
		a->kind = ATT_PREFIX;
	}
	s->attack_id[t->dir] = a->info.attack_id;
}

/* Ban expiry, and the end of refused attacks. */
void det_run_attacks(struct det_engine *e, uint64_t now, det_event_fn fn, void *ctx)
{
	size_t n = e->n_open; /* attacks opened below are not yet due */
	for (size_t i = 0; i < n; i++) {
		struct attack *a = &e->open[i];
		if (a->dead)
			continue;
		struct det_rates r;
		bool known = attack_rates(e, a, &r), going_on = false;
		if (known && a->kind == ATT_HOST) {
			const struct host *h = attack_host(e, a);
			/* an attack the short window opened goes on while the window still sees it */
			enum det_direction d = a->info.direction;
			going_on = det_host_limits(e, h) &&
				   (det_over_dir(det_host_limits(e, h), &r, d, NULL) || ((h->run[d] & RUN_FAST) && h->upd_ns == now));
		} else if (known && (a->kind == ATT_GROUP || a->kind == ATT_PREFIX)) {
			going_on = det_over_dir(&e->totals[a->info.hostgroup], &r, a->info.direction, NULL);
		}
		if (known) {
			a->info.rates = r;
			double v = r.v[a->info.direction][a->info.trigger_class][a->info.trigger_metric];
			if (!a->info.manual && v > a->info.peak_value)
				a->info.peak_value = v;
		}
		if (!a->banned) {
			if (!going_on)
				attack_end(e, a, now);
			continue;
		}
		if (now < a->info.until_ns)
			continue;
		if (going_on && e->cfg->unban_only_if_attack_finished && !a->info.manual) {
			uint32_t secs = ban_time(e, a->info.hostgroup);
			a->info.until_ns = now + (uint64_t)secs * 1000000000ull;
			emit(fn, ctx, a, DET_EV_BAN_EXTENDED, now, secs, "attack goes on");
			continue;
		}
		attack_end(e, a, now);
		emit(fn, ctx, a, DET_EV_UNBAN, now, 0, going_on ? "ban time passed" : "ban time passed, attack finished");
	}
}


/* ---- manual bans -------------------------------------------------------------------------- */

/* The group of p when an operator's ban (or one restored after a restart) in direction dir may be
 * made now; -1 with *why set: not monitored, already banned, whitelisted, own, past max_bans. */
static int admissible(struct det_engine *e, const ip_prefix *p, enum det_direction dir, uint64_t now_ns,
		      const char **why)
{
	int group = det_networks_lookup(e->nets, &p->addr);
	if (group < 0) {
		*why = "not monitored";
		return -1;
	}
	if (find_ban(e, p, (int)dir)) {
		*why = "already banned";
		return -1;
	}
	if ((*why = refusal(e, p, false, now_ns)))
		return -1;
	return group;
}

int det_engine_ban(struct det_engine *e, const ip_prefix *target, uint32_t seconds, uint64_t now_ns,
		   det_event_fn fn, void *ctx, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	ip_prefix p = *target;
	ip_prefix_mask(&p);
	int group = admissible(e, &p, DET_IN, now_ns, why);
	if (group < 0)
		return -1;
	uint64_t parent = covering_attack(e, &p);
	struct attack *a = attack_open(e);
	if (!a) {
		*why = "out of memory";
		return -1;
	}
	a->info.parent_attack_id = parent;
	if (!seconds)
		seconds = ban_time(e, group);
	struct det_ban_info *b = &a->info;
	b->target = p;
	b->direction = DET_IN;
	b->hostgroup = group;
	b->manual = true;
	b->since_ns = now_ns;
	if (p.len == ip_max_len(&p.addr))
		a->kind = ATT_HOST;
	/* a prefix with a sum of its own: the sum does not open a second attack on it */
	tie_to_traffic(e, a, true);
	ban_attack(e, a, now_ns + (uint64_t)seconds * 1000000000ull, now_ns);
	watch_host(e, a);
	emit(fn, ctx, a, DET_EV_BAN, now_ns, seconds, NULL);
	det_publish_watch(e);
	return 0;
}

int det_engine_unban(struct det_engine *e, const ip_prefix *target, uint64_t now_ns, det_event_fn fn, void *ctx)
{
	ip_prefix p = *target;
	ip_prefix_mask(&p);
	struct attack *a = find_ban(e, &p, DET_DIR_ANY);
	if (!a)
		return -1;
	/* the operator unbans the prefix: every direction's ban of it (an attacked host that also
	 * attacks has two) */
	for (; a; a = find_ban(e, &p, DET_DIR_ANY)) {
		attack_end(e, a, now_ns);
		/* the UNBAN is manual whoever banned it; the attack keeps its own manual flag in history */
		struct attack copy = *a;
		copy.info.manual = true;
		emit(fn, ctx, &copy, DET_EV_UNBAN, now_ns, 0, "manual unban");
	}
	det_compact(e);
	det_publish_watch(e);
	return 0;
}

/* ---- queries ------------------------------------------------------------------------------ */

static void info_now(const struct det_engine *e, const struct attack *a, struct det_ban_info *out)
{
	*out = a->info;
	attack_rates(e, a, &out->rates);
	struct det_fingerprint fp;
	fingerprint_of(e, a, &fp);
	out->kind = fp.kind;
}

int det_engine_fingerprint(const struct det_engine *e, uint64_t attack_id, struct det_fingerprint *out)
{
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead && e->open[i].info.attack_id == attack_id) {
			fingerprint_of(e, &e->open[i], out);
			return 0;
		}
	for (size_t i = 0; i < e->hist_count; i++)
		if (e->history[i].attack_id == attack_id) {
			*out = e->hist_fp[i];
			return 0;
		}
	return -1;
}

size_t det_engine_bans(const struct det_engine *e, struct det_ban_info *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_open; i++) {
		const struct attack *a = &e->open[i];
		if (a->dead || !a->banned)
			continue;
		if (n < max)
			info_now(e, a, &out[n]);
		n++;
	}
	return n;
}

static int by_id_desc(const void *x, const void *y)
{
	const struct det_ban_info *a = x, *b = y;
	return (a->attack_id < b->attack_id) - (a->attack_id > b->attack_id);
}

size_t det_engine_attacks(const struct det_engine *e, struct det_ban_info *out, size_t max)
{
	size_t total = e->n_open + e->hist_count;
	struct det_ban_info *all = malloc((total ? total : 1) * sizeof *all);
	if (!all)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead)
			info_now(e, &e->open[i], &all[n++]);
	for (size_t i = 0; i < e->hist_count; i++)
		all[n++] = e->history[i];
	qsort(all, n, sizeof *all, by_id_desc);
	memcpy(out, all, (n < max ? n : max) * sizeof *all);
	free(all);
	return n;
}

/* ---- restart ------------------------------------------------------------------------------ */

int det_engine_restore(struct det_engine *e, const struct det_ban_info *b, uint64_t now_ns, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!b->attack_id || b->attack_id == UINT64_MAX) {
		*why = "bad attack id";
		return -1;
	}
	if (b->attack_id >= e->next_attack_id)
		e->next_attack_id = b->attack_id + 1;
	for (size_t i = 0; i < e->n_open; i++)
		if (!e->open[i].dead && e->open[i].info.attack_id == b->attack_id) {
			*why = "duplicate attack id";
			return -1;
		}
	ip_prefix p = b->target;
	ip_prefix_mask(&p);
	if (b->until_ns <= now_ns) {
		struct det_ban_info *h = &e->history[e->hist_next];
		*h = *b;
		h->target = p;
		h->active = false;
		h->ended_ns = b->until_ns;
		/* the wiring indexes its groups with it: a group that is gone is the address's now */
		if (h->hostgroup < 0 || (size_t)h->hostgroup >= e->cfg->n_groups)
			h->hostgroup = det_networks_lookup(e->nets, &p.addr) < 0 ? 0 : det_networks_lookup(e->nets, &p.addr);
		memset(&e->hist_fp[e->hist_next], 0, sizeof e->hist_fp[e->hist_next]);
		e->hist_fp[e->hist_next].from_rates = true;
		e->hist_next = (e->hist_next + 1) % HISTORY;
		if (e->hist_count < HISTORY)
			e->hist_count++;
		return 1;
	}
	/* as for a manual ban: the rate cap is for new bans */
	int group = admissible(e, &p, b->direction, now_ns, why);
	if (group < 0)
		return -1;
	if (b->hostgroup >= 0 && (size_t)b->hostgroup < e->cfg->n_groups)
		group = b->hostgroup;
	struct attack *a = attack_open(e);
	if (!a) {
		*why = "out of memory";
		return -1;
	}
	e->next_attack_id--; /* attack_open took the next id: give it back, a keeps b's */
	a->info = *b;
	a->info.attack_id = b->attack_id;
	a->info.target = p;
	a->info.hostgroup = group;
	a->info.ended_ns = 0;
	memset(&a->info.rates, 0, sizeof a->info.rates);
	a->info.peak_value = b->manual ? 0 : b->trigger_value;
	bool host = p.len == ip_max_len(&p.addr);
	if (host)
		a->kind = ATT_HOST;
	else if (b->manual || (size_t)group >= e->cfg->n_groups)
		a->kind = ATT_OTHER;
	else if (e->cfg->groups[group].total_scope == DET_SCOPE_PREFIX)
		a->kind = ATT_PREFIX;
	else {
		a->kind = ATT_GROUP;
		e->group_open[group][a->info.direction]++;
	}
	tie_to_traffic(e, a, false);
	ban_attack(e, a, b->until_ns, 0);
	watch_host(e, a);
	det_publish_watch(e);
	return 0;
}
