/* The ban state file's format: the parser and the record writers (state.h has the format).
 * The parser takes outside bytes: a file another version wrote, a disk that lost its tail, an
 * operator's editor. Every line is checked whole before anything of it is used; a bad line is
 * reported with its number and skipped, the rest is handed on. */
#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/num.h"
#include "../bgp/exabgp.h"
#include "state.h"

static const char *const mit_names[MIT_STATE_MITS] = {
	[MIT_STATE_BLACKHOLE] = "blackhole",
	[MIT_STATE_FLOWSPEC] = "flowspec",
	[MIT_STATE_ESCALATE] = "flowspec-then-blackhole",
	[MIT_STATE_ESCALATED] = "flowspec+blackhole",
};

const char *mit_state_mit_name(enum mit_state_mit m)
{
	return (unsigned)m < MIT_STATE_MITS ? mit_names[m] : "?";
}

/* ---- fields ----------------------------------------------------------------------------------- */

/* The next space-separated field of *s (NUL-terminated in place); NULL at the end or on an empty
 * field (two spaces). */
static char *field(char **s)
{
	char *f = *s;
	if (!f || !*f || *f == ' ')
		return NULL;
	char *sp = strchr(f, ' ');
	if (sp) {
		*sp = 0;
		*s = sp + 1;
	} else {
		*s = NULL;
	}
	return f;
}

/* "SECONDS.NNNNNNNNN" -> ns */
static bool parse_time(const char *s, uint64_t *out)
{
	const char *dot = strchr(s, '.');
	if (!dot || dot == s || dot - s > 11 || strlen(dot + 1) != 9)
		return false;
	char sec[12];
	memcpy(sec, s, (size_t)(dot - s));
	sec[dot - s] = 0;
	uint64_t a, b = 0;
	if (!num_parse_u64(sec, &a))
		return false;
	for (const char *p = dot + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		b = b * 10 + (uint64_t)(*p - '0');
	}
	if (a > (UINT64_MAX - b) / 1000000000ull)
		return false;
	*out = a * 1000000000ull + b;
	return true;
}

static bool parse_double(const char *s, double *out)
{
	if (*s < '0' || *s > '9' || strspn(s, "0123456789.eE+-") != strlen(s))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
}

static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool parse_group(const char *s, char *out, size_t cap)
{
	if (!strcmp(s, "-")) {
		out[0] = 0;
		return true;
	}
	size_t n = 0;
	for (; *s; s++) {
		char c = *s;
		if (c == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
			if (l < 0 || (h == 0 && l == 0))
				return false;
			c = (char)(h << 4 | l);
			s += 2;
		} else if (!plain(c)) {
			return false;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = 0;
	return n > 0;
}

static bool parse_trigger(const char *s, enum det_class *c, enum det_metric *m)
{
	for (int i = 0; i < DET_CLASSES; i++)
		for (int k = 0; k < DET_METRICS; k++) {
			char name[32];
			snprintf(name, sizeof name, "%s_%s", det_class_name((enum det_class)i),
				 det_metric_name((enum det_metric)k));
			if (!strcmp(s, name)) {
				*c = (enum det_class)i;
				*m = (enum det_metric)k;
				return true;
			}
		}
	return false;
}

static bool parse_prefix(const char *s, ip_prefix *out)
{
	if (!ip_prefix_parse(s, out) || !strchr(s, '/'))
		return false;
	ip_prefix m = *out;
	ip_prefix_mask(&m);
	return ip_prefix_equal(&m, out);
}

/* ---- the parser -------------------------------------------------------------------------------- */

struct parser {
	mit_state_rec_fn fn;
	mit_state_err_fn efn;
	void *ctx;
	char *line;                 /* the current line, NUL-terminated, cut into fields */
	struct bgp_exa_cmd *cmd;    /* 12 KiB: once per parse, not per line */
	struct mit_state_rec rec;
	int version;                /* the header's */
	uint64_t *ids;              /* ban ids seen: open addressing, 0 = empty */
	size_t ids_mask, n_ids;
	char why[256];
};

static bool fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->why, sizeof ps->why, fmt, ap);
	va_end(ap);
	return false;
}

/* false when id was seen already (or out of memory, said in why) */
static bool id_add(struct parser *ps, uint64_t id)
{
	if ((ps->n_ids + 1) * 2 > ps->ids_mask + 1) {
		size_t slots = ps->ids_mask ? (ps->ids_mask + 1) * 2 : 64;
		uint64_t *n = calloc(slots, sizeof *n);
		if (!n)
			return fail(ps, "out of memory");
		for (size_t i = 0; ps->ids && i <= ps->ids_mask; i++) {
			if (!ps->ids[i])
				continue;
			size_t j = (ps->ids[i] * 0x9E3779B97F4A7C15ull >> 20) & (slots - 1);
			while (n[j])
				j = (j + 1) & (slots - 1);
			n[j] = ps->ids[i];
		}
		free(ps->ids);
		ps->ids = n;
		ps->ids_mask = slots - 1;
	}
	size_t j = (id * 0x9E3779B97F4A7C15ull >> 20) & ps->ids_mask;
	for (; ps->ids[j]; j = (j + 1) & ps->ids_mask)
		if (ps->ids[j] == id)
			return fail(ps, "attack %" PRIu64 " is in the file twice: the second is skipped", id);
	ps->ids[j] = id;
	ps->n_ids++;
	return true;
}

static bool ban_line(struct parser *ps, char *rest)
{
	struct mit_state_ban *b = &ps->rec.ban;
	memset(b, 0, sizeof *b);
	/* version 2 has PARENT before the mitigation; version 1 has none */
	char *f[12];
	static const char *const names[12] = {"attack id", "target", "direction", "hostgroup", "detected|manual",
					      "since", "until", "trigger", "trigger value", "limit", "parent attack id",
					      "mitigation"};
	int nf = ps->version >= 2 ? 12 : 11;
	for (int i = 0; i < nf; i++)
		if (!(f[i] = field(&rest)))
			return fail(ps, "ban: %s missing", names[i == 10 && nf == 11 ? 11 : i]);
	if (nf == 12) {
		if (!num_parse_u64(f[10], &b->parent_attack_id) || b->parent_attack_id == UINT64_MAX)
			return fail(ps, "ban: parent attack id '%.30s' is not a number 0..2^64-2", f[10]);
		f[10] = f[11];
	}
	if (!num_parse_u64(f[0], &b->attack_id) || !b->attack_id || b->attack_id == UINT64_MAX)
		return fail(ps, "ban: attack id '%.30s' is not a number 1..2^64-2", f[0]);
	if (b->parent_attack_id == b->attack_id)
		return fail(ps, "ban: attack %" PRIu64 " is its own parent", b->attack_id);
	if (!parse_prefix(f[1], &b->target))
		return fail(ps, "ban: target '%.60s' is not a prefix (address/length, no host bits)", f[1]);
	if (!strcmp(f[2], "in"))
		b->direction = DET_IN;
	else if (!strcmp(f[2], "out"))
		b->direction = DET_OUT;
	else
		return fail(ps, "ban: direction '%.20s' is not in or out", f[2]);
	if (!parse_group(f[3], b->group, sizeof b->group))
		return fail(ps, "ban: hostgroup '%.80s' is not a name ([A-Za-z0-9._] and %%XX) or -", f[3]);
	if (!strcmp(f[4], "manual"))
		b->manual = true;
	else if (strcmp(f[4], "detected"))
		return fail(ps, "ban: '%.20s' is not detected or manual", f[4]);
	if (!parse_time(f[5], &b->since_ns) || !parse_time(f[6], &b->until_ns))
		return fail(ps, "ban: since/until '%.30s' '%.30s' are not SECONDS.NNNNNNNNN", f[5], f[6]);
	if (b->until_ns < b->since_ns)
		return fail(ps, "ban: it ends before it starts");
	if (b->manual ? strcmp(f[7], "-") != 0 : !parse_trigger(f[7], &b->trigger_class, &b->trigger_metric))
		return fail(ps, "ban: trigger '%.30s' is not %s", f[7], b->manual ? "- (a manual ban has none)" : "CLASS_METRIC");
	if (!parse_double(f[8], &b->trigger_value) || !parse_double(f[9], &b->trigger_limit))
		return fail(ps, "ban: trigger value or limit '%.30s' '%.30s' is not a number >= 0", f[8], f[9]);
	int mit = -1;
	for (int i = 0; i < (int)(sizeof mit_names / sizeof mit_names[0]); i++)
		if (!strcmp(f[10], mit_names[i]))
			mit = i;
	if (mit < 0)
		return fail(ps, "ban: mitigation '%.40s' is not blackhole, flowspec, flowspec-then-blackhole or "
				"flowspec+blackhole", f[10]);
	b->mit = (enum mit_state_mit)mit;
	if (b->mit == MIT_STATE_BLACKHOLE) {
		if (rest)
			return fail(ps, "ban: text after blackhole");
	} else {
		struct fs_err err = {{0}};
		if (!rest)
			return fail(ps, "ban: %s without its rule", f[10]);
		if (!fs_text_parse(rest, &b->rule, NULL, &err))
			return fail(ps, "ban: rule: %s", err.msg);
		/* the rule may only ever filter the banned target's traffic */
		enum fs_type side = b->direction == DET_IN ? FS_DST : FS_SRC;
		const struct fs_prefix *sp = side == FS_DST ? &b->rule.dst : &b->rule.src;
		if (!fs_rule_has(&b->rule, side) || sp->offset || !ip_prefix_equal(&sp->p, &b->target))
			return fail(ps, "ban: the rule's %s is not the ban's target", side == FS_DST ? "destination" : "source");
	}
	return id_add(ps, b->attack_id);
}

/* The file's word for a source it keeps: the words every version reads ("socket" for
 * MIT_SRC_OPERATOR, "pipe" for MIT_SRC_API), whatever `rampartctl routes` calls them. */
const char *mit_state_src_word(enum mit_route_src src)
{
	return src == MIT_SRC_OPERATOR ? "socket" : "pipe";
}

/* route|flow SRC LINE: LINE an ExaBGP announce of that kind, from the socket or the pipe */
static bool api_line(struct parser *ps, char *rest, enum bgp_exa_kind kind)
{
	const char *what = kind == BGP_EXA_ROUTE ? "route" : "flow";
	char *src = field(&rest);
	if (!src || !rest)
		return fail(ps, "%s: source and command missing", what);
	if (!strcmp(src, "socket"))
		ps->rec.src = MIT_SRC_OPERATOR;
	else if (!strcmp(src, "pipe"))
		ps->rec.src = MIT_SRC_API;
	else
		return fail(ps, "%s: source '%.20s' is not socket or pipe", what, src);
	if (strlen(rest) > BGP_EXA_LINE_MAX)
		return fail(ps, "%s: command longer than %d bytes", what, BGP_EXA_LINE_MAX);
	struct bgp_exa_err err;
	if (!bgp_exa_parse(rest, ps->cmd, &err))
		return fail(ps, "%s: %s", what, err.msg);
	/* a route may be held for some peers only (ExaBGP's neighbor selectors); a flow rule is not */
	if (ps->cmd->verb != BGP_EXA_ANNOUNCE || ps->cmd->kind != kind || (kind == BGP_EXA_FLOW && ps->cmd->n_neighbors))
		return fail(ps, "%s: not an 'announce %s'%s", what, kind == BGP_EXA_ROUTE ? "route" : "flow route",
			    kind == BGP_EXA_FLOW ? " for every peer" : "");
	ps->rec.text = rest;
	return true;
}

static bool rule_line(struct parser *ps, char *rest)
{
	struct fs_err err = {{0}};
	if (!rest)
		return fail(ps, "rule: text missing");
	if (!fs_text_parse(rest, &ps->rec.rule, &ps->rec.actions, &err))
		return fail(ps, "rule: %s", err.msg);
	if (!ps->rec.actions.present || !fs_rule_has(&ps->rec.rule, FS_DST))
		return fail(ps, "rule: an operator rule has a destination and an action");
	return true;
}

/* The header: 1 when it is ours, else why not in ps->why. */
static bool header(struct parser *ps, char *s)
{
	char *magic = field(&s), *ver = field(&s);
	if (!magic || strcmp(magic, MIT_STATE_HEADER))
		return fail(ps, "not a ban state file (the first line is not '" MIT_STATE_HEADER " %d')", MIT_STATE_VERSION);
	for (int v = MIT_STATE_VERSION_MIN; ver && !s && v <= MIT_STATE_VERSION; v++) {
		char want[12];
		snprintf(want, sizeof want, "%d", v);
		if (!strcmp(ver, want)) {
			ps->version = v;
			return true;
		}
	}
	return fail(ps, "unknown version '%.20s' (this rampartd reads versions %d to %d): nothing restored",
		    ver ? ver : "", MIT_STATE_VERSION_MIN, MIT_STATE_VERSION);
}

int mit_state_parse(const char *buf, size_t len, mit_state_rec_fn fn, mit_state_err_fn efn, void *ctx,
		      struct mit_state_result *res)
{
	struct mit_state_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	struct parser *ps = calloc(1, sizeof *ps);
	char *line = malloc(MIT_STATE_LINE_MAX + 1);
	struct bgp_exa_cmd *cmd = malloc(sizeof *cmd);
	if (!ps || !line || !cmd) {
		free(ps);
		free(line);
		free(cmd);
		if (efn)
			efn(ctx, 0, "out of memory");
		return -1;
	}
	ps->fn = fn, ps->efn = efn, ps->ctx = ctx, ps->line = line, ps->cmd = cmd;
	int rc = 0;
	size_t lineno = 0, seen = 0;
	bool ended = false;
	for (size_t pos = 0; pos < len;) {
		lineno++;
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		const char *l = buf + pos;
		pos += n + (nl != NULL);
		bool ok = true;
		ps->why[0] = 0;
		if (!nl) {
			ok = fail(ps, "truncated: the last line has no newline (%zu bytes), skipped", n);
		} else if (n > MIT_STATE_LINE_MAX) {
			ok = fail(ps, "line longer than %d bytes", MIT_STATE_LINE_MAX);
		} else {
			for (size_t i = 0; i < n && ok; i++)
				if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e)
					ok = fail(ps, "byte 0x%02x at column %zu: not printable ASCII", (unsigned char)l[i], i + 1);
		}
		if (ok) {
			memcpy(line, l, n);
			line[n] = 0;
		}
		if (lineno == 1) {
			if (!ok || !header(ps, line)) {
				if (efn)
					efn(ctx, lineno, ps->why);
				rc = -1;
				break;
			}
			continue;
		}
		if (!ok) {
			seen += !ended; /* a record line, unreadable: the end count has it */
		} else if (line[0] == '#') {
			continue;
		} else if (ended) {
			ok = fail(ps, "after the end line");
		} else {
			char *rest = line;
			char *kw = field(&rest);
			memset(&ps->rec, 0, sizeof ps->rec);
			ps->rec.line = lineno;
			if (kw && !strcmp(kw, "end")) {
				uint64_t count;
				char *c = field(&rest);
				ended = true;
				if (!c || rest || !num_parse_u64(c, &count))
					ok = fail(ps, "end: not 'end COUNT'");
				else if (count != seen)
					ok = fail(ps, "end: the writer wrote %" PRIu64 " records, %zu are here: lines %s", count,
						  seen, count > seen ? "are missing" : "were added");
				else
					res->complete = true;
				if (!ok) {
					res->bad++;
					if (efn)
						efn(ctx, lineno, ps->why);
				}
				continue;
			} else if (seen++, !kw) {
				ok = fail(ps, "empty line");
			} else {
				if (!strcmp(kw, "ban")) {
					ps->rec.kind = MIT_STATE_BAN;
					ok = ban_line(ps, rest);
				} else if (!strcmp(kw, "route")) {
					ps->rec.kind = MIT_STATE_ROUTE;
					ok = api_line(ps, rest, BGP_EXA_ROUTE);
				} else if (!strcmp(kw, "flow")) {
					ps->rec.kind = MIT_STATE_FLOW;
					ok = api_line(ps, rest, BGP_EXA_FLOW);
				} else if (!strcmp(kw, "rule")) {
					ps->rec.kind = MIT_STATE_RULE;
					ok = rule_line(ps, rest);
				} else {
					ok = fail(ps, "unknown record '%.30s' (ban, route, flow, rule, end)", kw);
				}
			}
		}
		if (!ok) {
			res->bad++;
			if (efn)
				efn(ctx, lineno, ps->why);
			continue;
		}
		res->records++;
		if (fn)
			fn(ctx, &ps->rec);
	}
	if (rc == 0 && lineno == 0) {
		if (efn)
			efn(ctx, 0, "empty file: nothing restored");
		rc = -1;
	} else if (rc == 0 && !ended) {
		if (efn)
			efn(ctx, lineno, "truncated: no end line, what was read is restored");
	}
	free(ps->ids);
	free(cmd);
	free(line);
	free(ps);
	return rc;
}

/* ---- formatting -------------------------------------------------------------------------------- */

static void put_time(struct evbuffer *out, uint64_t ns)
{
	evbuffer_add_printf(out, " %" PRIu64 ".%09" PRIu64, ns / UINT64_C(1000000000), ns % UINT64_C(1000000000));
}

void mit_state_format_ban(struct evbuffer *out, const struct mit_state_ban *b)
{
	char pfx[IP_PREFIX_STRLEN];
	evbuffer_add_printf(out, "ban %" PRIu64 " %s %s ", b->attack_id, ip_prefix_format(&b->target, pfx),
			    b->direction == DET_OUT ? "out" : "in");
	if (!b->group[0])
		evbuffer_add(out, "-", 1);
	for (const char *s = b->group; *s; s++) {
		if (plain(*s))
			evbuffer_add(out, s, 1);
		else
			evbuffer_add_printf(out, "%%%02X", (unsigned char)*s);
	}
	evbuffer_add_printf(out, " %s", b->manual ? "manual" : "detected");
	put_time(out, b->since_ns);
	put_time(out, b->until_ns);
	if (b->manual)
		evbuffer_add_printf(out, " -");
	else
		evbuffer_add_printf(out, " %s_%s", det_class_name(b->trigger_class), det_metric_name(b->trigger_metric));
	/* %.17g reads back to the same double */
	evbuffer_add_printf(out, " %.17g %.17g %" PRIu64 " %s", b->trigger_value >= 0 ? b->trigger_value : 0,
			    b->trigger_limit >= 0 ? b->trigger_limit : 0, b->parent_attack_id, mit_names[b->mit]);
	if (b->mit != MIT_STATE_BLACKHOLE) {
		char text[8192];
		fs_text_format(&b->rule, NULL, text, sizeof text);
		evbuffer_add_printf(out, " %s", text);
	}
	evbuffer_add(out, "\n", 1);
}

/* A route line is built in memory and added at once: with evbuffer_add_printf per field, printf
 * was most of a write's time (100 000 API routes: tens of ms on the main loop). The longest line
 * (64 neighbors, every attribute list full) is under 6 KB: MIT_STATE_LINE_MAX holds it. */
struct line {
	char b[MIT_STATE_LINE_MAX];
	size_t n;
};

static void l_mem(struct line *l, const char *s, size_t n)
{
	if (n > sizeof l->b - l->n)
		n = sizeof l->b - l->n; /* cannot happen (see above); the parser would refuse the line */
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void l_str(struct line *l, const char *s)
{
	l_mem(l, s, strlen(s));
}

static void l_u(struct line *l, uint32_t v)
{
	char d[10];
	size_t i = sizeof d;
	do
		d[--i] = (char)('0' + v % 10);
	while (v /= 10);
	l_mem(l, d + i, sizeof d - i);
}

static void l_v4(struct line *l, uint32_t v)
{
	l_u(l, v >> 24);
	l_mem(l, ".", 1);
	l_u(l, (v >> 16) & 255);
	l_mem(l, ".", 1);
	l_u(l, (v >> 8) & 255);
	l_mem(l, ".", 1);
	l_u(l, v & 255);
}

static void l_addr(struct line *l, const ip_addr *a)
{
	if (ip_is_v4(a)) {
		l_v4(l, (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 | a->b[15]);
		return;
	}
	char buf[IP_STRLEN];
	l_str(l, ip_format(a, buf));
}

void mit_state_format_route(struct evbuffer *out, enum mit_route_src src, const char *neighbors, const ip_prefix *p,
			      const struct bgp_route_attrs *a)
{
	static const char *const origins[] = {"igp", "egp", "incomplete"};
	static const char hex[] = "0123456789abcdef";
	struct line line, *l = &line; /* not zeroed: 16 KiB per route was a third of serialising */
	line.n = 0;
	l_str(l, "route ");
	l_str(l, mit_state_src_word(src));
	l_str(l, " ");
	l_str(l, neighbors);
	l_str(l, "announce route ");
	l_addr(l, &p->addr);
	l_mem(l, "/", 1);
	l_u(l, p->len);
	l_str(l, " next-hop ");
	if (ip_is_zero(&a->next_hop))
		l_str(l, "self");
	else
		l_addr(l, &a->next_hop);
	if (a->origin && a->origin < 3) {
		l_str(l, " origin ");
		l_str(l, origins[a->origin]);
	}
	if (a->n_as_path) {
		l_str(l, " as-path [");
		for (size_t i = 0; i < a->n_as_path; i++) {
			if (i)
				l_mem(l, " ", 1);
			l_u(l, a->as_path[i]);
		}
		l_mem(l, "]", 1);
	}
	if (a->atomic_aggregate)
		l_str(l, " atomic-aggregate");
	if (a->has_aggregator) {
		l_str(l, " aggregator (");
		l_u(l, a->aggregator_as);
		l_mem(l, ":", 1);
		l_v4(l, a->aggregator_id);
		l_mem(l, ")", 1);
	}
	if (a->has_originator_id) {
		l_str(l, " originator-id ");
		l_v4(l, a->originator_id);
	}
	if (a->n_cluster_list) {
		l_str(l, " cluster-list [");
		for (size_t i = 0; i < a->n_cluster_list; i++) {
			if (i)
				l_mem(l, " ", 1);
			l_v4(l, a->cluster_list[i]);
		}
		l_mem(l, "]", 1);
	}
	if (a->n_communities) {
		l_str(l, " community [");
		for (size_t i = 0; i < a->n_communities; i++) {
			if (i)
				l_mem(l, " ", 1);
			l_u(l, a->communities[i] >> 16);
			l_mem(l, ":", 1);
			l_u(l, a->communities[i] & 0xFFFF);
		}
		l_mem(l, "]", 1);
	}
	if (a->n_large_communities) {
		l_str(l, " large-community [");
		for (size_t i = 0; i < a->n_large_communities; i++) {
			if (i)
				l_mem(l, " ", 1);
			for (int k = 0; k < 3; k++) {
				if (k)
					l_mem(l, ":", 1);
				l_u(l, a->large_communities[i][k]);
			}
		}
		l_mem(l, "]", 1);
	}
	if (a->n_ext_communities) {
		l_str(l, " extended-community [");
		for (size_t i = 0; i < a->n_ext_communities; i++) {
			l_str(l, i ? " 0x" : "0x");
			for (int k = 0; k < 8; k++) {
				char h[2] = {hex[a->ext_communities[i][k] >> 4], hex[a->ext_communities[i][k] & 15]};
				l_mem(l, h, 2);
			}
		}
		l_mem(l, "]", 1);
	}
	if (a->local_pref) {
		l_str(l, " local-preference ");
		l_u(l, a->local_pref);
	}
	if (a->has_med) {
		l_str(l, " med ");
		l_u(l, a->med);
	}
	/* raw attributes as ExaBGP's attribute [0xCODE 0xFLAGS 0xVALUE], which reads them back */
	for (size_t at = 0; at + 3 <= a->n_raw_attrs && a->n_raw_attrs <= BGP_MAX_RAW_ATTRS;) {
		const uint8_t *r = a->raw_attrs + at;
		size_t hl = (r[0] & 0x10) ? 4 : 3;
		size_t len = hl == 4 ? (size_t)r[2] << 8 | r[3] : r[2];
		if (at + hl + len > a->n_raw_attrs)
			break;
		char h[12] = {' ', '[', '0', 'x', hex[r[1] >> 4], hex[r[1] & 15], ' ', '0', 'x', hex[r[0] >> 4], hex[r[0] & 15], ' '};
		l_mem(l, " attribute", 10);
		l_mem(l, h, sizeof h);
		l_mem(l, "0x", 2);
		for (size_t i = 0; i < len; i++) {
			char o[2] = {hex[r[hl + i] >> 4], hex[r[hl + i] & 15]};
			l_mem(l, o, 2);
		}
		l_mem(l, " ]", 2);
		at += hl + len;
	}
	l_mem(l, "\n", 1);
	evbuffer_add(out, l->b, l->n);
}

