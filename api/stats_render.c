/* The stats registry's three renderers: `rampartctl stats` (a line per section, each row a
 * fragment), /api/v1/stats (an object per section) and /metrics (a family per metric name),
 * all from stats_rows (stats_registry.c). Main loop only. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/json.h"
#include "internal.h"
#include "stats_int.h"

/* ---- instances: which (i, j) a section has, and the struct its rows read ------------------- */

static bool source_shown(const struct api_stats_snap *s, enum sec sec, unsigned i, enum out o)
{
	bool flow = s->src[i].s.flow;
	switch (sec) {
	case S_SRC: return o != OUT_TEXT || !flow; /* a listener's text line is its own */
	case S_LISTENER: case S_LISTENER_STATE: case S_REFUSED: case S_EXPORTER: return flow;
	default: return true;
	}
}

static unsigned count_i(const struct api_stats_snap *s, enum sec sec)
{
	switch (stats_sections[sec].dim) {
	case D_ONE: return 1;
	case D_PEER: return (unsigned)s->n_peers;
	default: return s->n_src;
	}
}

static unsigned count_j(const struct api_stats_snap *s, enum sec sec, unsigned i)
{
	if (stats_sections[sec].dim == D_REFUSAL)
		return CAP_REFUSE_COUNT;
	if (stats_sections[sec].dim == D_EXPORTER)
		return (unsigned)(s->src[i].s.n_exporters < API_EXPORTERS_SHOWN ? s->src[i].s.n_exporters : API_EXPORTERS_SHOWN);
	return 1;
}

static const void *base(const struct api_stats_snap *s, enum sec sec, unsigned i, unsigned j)
{
	switch (stats_sections[sec].dim) {
	case D_ONE: return s;
	case D_SOURCE: return &s->src[i];
	case D_REFUSAL: return &s->src[i].s.udp.decode.refused[j];
	case D_EXPORTER: return &s->src[i].s.exporters[j];
	case D_PEER: return &s->peers[i];
	}
	return s;
}

static bool sec_present(const struct api_stats_snap *s, enum sec sec, enum out o)
{
	return !stats_sections[sec].present || stats_sections[sec].present(s, o);
}

/* ---- values -------------------------------------------------------------------------------- */

static uint64_t num(const struct row *r, const void *b)
{
	if (r->num)
		return r->num(b);
	const char *p = (const char *)b + r->off;
	switch (r->kind) {
	case K_U32: { uint32_t v; memcpy(&v, p, sizeof v); return v; }
	case K_SIZE: { size_t v; memcpy(&v, p, sizeof v); return v; }
	case K_INT: { int v; memcpy(&v, p, sizeof v); return (uint64_t)(int64_t)v; }
	case K_BOOL: { bool v; memcpy(&v, p, sizeof v); return v; }
	default: { uint64_t v; memcpy(&v, p, sizeof v); return v; }
	}
}

/* The value as text and JSON have it (strings unquoted). */
static const char *value(const struct row *r, const void *b, char *buf, size_t len)
{
	uint64_t v = r->kind == K_STR ? 0 : num(r, b);
	switch (r->kind) {
	case K_STR: return r->str(b, buf, len);
	case K_INT: snprintf(buf, len, "%d", (int)(int64_t)v); break;
	case K_US: snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, v / 1000, v % 1000); break; /* ms */
	case K_TIME: {
		time_t t = (time_t)(v / 1000000000ull);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
		break;
	}
	default: snprintf(buf, len, "%" PRIu64, v);
	}
	return buf;
}

/* ---- `rampartctl stats`: one line per section instance, each row a fragment ----------------- */

static void text_rows(struct evbuffer *b, const struct api_stats_snap *s, enum sec sec, unsigned i, unsigned j)
{
	const void *at = base(s, sec, i, j);
	char buf[IP_PREFIX_STRLEN + 64];
	for (size_t k = 0; k < stats_n_rows; k++) {
		const struct row *r = &stats_rows[k];
		if (r->sec != sec || !r->text)
			continue;
		if (r->kind == K_BOOL) {
			const char *t = num(r, at) ? r->text : r->text_false;
			if (t)
				evbuffer_add(b, t, strlen(t));
			continue;
		}
		const char *v = value(r, at, buf, sizeof buf);
		if ((r->flags & F_IF_SET) && !v[0])
			continue;
		if (!strcmp(r->text, "*")) { /* a refusal: named by its reason */
			evbuffer_add_printf(b, " refused_%s %s", cap_flow_refusal_name((enum cap_flow_refusal)j), v);
			continue;
		}
		const char *h = strchr(r->text, '#');
		if (!h) {
			evbuffer_add(b, r->text, strlen(r->text));
			continue;
		}
		evbuffer_add(b, r->text, (size_t)(h - r->text));
		evbuffer_add(b, v, strlen(v));
		evbuffer_add(b, h + 1, strlen(h + 1));
	}
}

static void text_line(struct evbuffer *b, const struct api_stats_snap *s, enum sec sec, unsigned i)
{
	if (stats_sections[sec].text_head)
		evbuffer_add(b, stats_sections[sec].text_head, strlen(stats_sections[sec].text_head));
	text_rows(b, s, sec, i, 0);
	evbuffer_add(b, "\n", 1);
}

void api_stats_text(const struct api_stats_snap *s, struct evbuffer *out)
{
	for (int sec = 0; sec < S_COUNT; sec++) {
		if (sec == S_SRC) {
			/* a mirror: its line; a listener: its line, then its tables' */
			for (unsigned i = 0; i < s->n_src; i++) {
				text_rows(out, s, s->src[i].s.flow ? S_LISTENER : S_SRC, i, 0);
				text_rows(out, s, S_SRC_TAIL, i, 0);
				text_rows(out, s, S_SRC_FINISH, i, 0);
				evbuffer_add(out, "\n", 1);
				if (s->src[i].s.flow) {
					text_rows(out, s, S_LISTENER_STATE, i, 0);
					for (unsigned j = 0; j < CAP_REFUSE_COUNT; j++)
						text_rows(out, s, S_REFUSED, i, j);
					evbuffer_add(out, "\n", 1);
				}
			}
			continue;
		}
		if (stats_sections[sec].dim != D_ONE && stats_sections[sec].dim != D_PEER)
			continue; /* the sources' parts above; the exporters are `rampartctl exporters` */
		if (stats_sections[sec].dim == D_SOURCE || !sec_present(s, (enum sec)sec, OUT_TEXT))
			continue;
		for (unsigned i = 0; i < count_i(s, (enum sec)sec); i++)
			text_line(out, s, (enum sec)sec, i);
	}
}

/* ---- /api/v1/stats ------------------------------------------------------------------------- */

static void json_member(struct evbuffer *b, bool *first, const char *name)
{
	evbuffer_add_printf(b, "%s\"%s\":", *first ? "" : ",", name);
	*first = false;
}

static void json_rows(struct evbuffer *b, const struct api_stats_snap *s, enum sec sec, unsigned i, unsigned j, bool *first)
{
	const void *at = base(s, sec, i, j);
	char buf[IP_PREFIX_STRLEN + 64];
	for (size_t k = 0; k < stats_n_rows; k++) {
		const struct row *r = &stats_rows[k];
		if (r->sec != sec || !r->json)
			continue;
		json_member(b, first, !strcmp(r->json, "*") ? cap_flow_refusal_name((enum cap_flow_refusal)j) : r->json);
		if (r->kind == K_STR) {
			const char *v = r->str(at, buf, sizeof buf);
			json_str(b, v, strlen(v));
		} else if (r->kind == K_BOOL) {
			evbuffer_add_printf(b, "%s", num(r, at) ? "true" : "false");
		} else if (r->kind == K_INT) {
			evbuffer_add_printf(b, "%d", (int)(int64_t)num(r, at));
		} else {
			evbuffer_add_printf(b, "%" PRIu64, num(r, at));
		}
	}
}

static void json_source(struct evbuffer *b, const struct api_stats_snap *s, unsigned i)
{
	bool first = true;
	evbuffer_add(b, "{", 1);
	json_rows(b, s, S_SRC, i, 0, &first);
	json_rows(b, s, S_SRC_TAIL, i, 0, &first);
	json_rows(b, s, S_SRC_FINISH, i, 0, &first);
	if (s->src[i].s.flow) {
		bool lf = true;
		evbuffer_add_printf(b, ",\"listener\":{");
		json_rows(b, s, S_LISTENER, i, 0, &lf);
		json_rows(b, s, S_LISTENER_STATE, i, 0, &lf);
		bool rf = true;
		evbuffer_add_printf(b, ",\"refused\":{");
		for (unsigned j = 0; j < CAP_REFUSE_COUNT; j++)
			json_rows(b, s, S_REFUSED, i, j, &rf);
		evbuffer_add_printf(b, "},\"exporters\":[");
		for (unsigned j = 0; j < count_j(s, S_EXPORTER, i); j++) {
			bool ef = true;
			evbuffer_add(b, j ? ",{" : "{", j ? 2 : 1);
			json_rows(b, s, S_EXPORTER, i, j, &ef);
			evbuffer_add(b, "}", 1);
		}
		evbuffer_add(b, "]}", 2);
	}
	evbuffer_add(b, "}", 1);
}

void api_stats_json(const struct api_stats_snap *s, struct evbuffer *out)
{
	bool top_first = true, first = true;
	const char *open = ""; /* the object the last section's rows went in; "" the top level */
	evbuffer_add(out, "{", 1);
	for (int sec = 0; sec < S_COUNT; sec++) {
		const struct section *x = &stats_sections[sec];
		if (sec == S_SRC) {
			if (open[0])
				evbuffer_add(out, "}", 1), open = "";
			json_member(out, &top_first, "capture");
			evbuffer_add(out, "[", 1);
			for (unsigned i = 0; i < s->n_src; i++) {
				if (i)
					evbuffer_add(out, ",", 1);
				json_source(out, s, i);
			}
			evbuffer_add(out, "]", 1);
			continue;
		}
		if (x->dim == D_SOURCE || x->dim == D_REFUSAL || x->dim == D_EXPORTER || !sec_present(s, (enum sec)sec, OUT_JSON))
			continue;
		if (strcmp(open, x->json)) {
			if (open[0])
				evbuffer_add(out, "}", 1);
			open = "";
			if (x->dim == D_ONE && x->json[0]) {
				json_member(out, &top_first, x->json);
				evbuffer_add(out, "{", 1);
				open = x->json;
				first = true;
			}
		}
		if (x->dim == D_PEER) { /* an array of objects, one per peer */
			json_member(out, &top_first, x->json);
			evbuffer_add(out, "[", 1);
			for (unsigned i = 0; i < count_i(s, (enum sec)sec); i++) {
				bool pf = true;
				evbuffer_add(out, i ? ",{" : "{", i ? 2 : 1);
				json_rows(out, s, (enum sec)sec, i, 0, &pf);
				evbuffer_add(out, "}", 1);
			}
			evbuffer_add(out, "]", 1);
			continue;
		}
		json_rows(out, s, (enum sec)sec, 0, 0, open[0] ? &first : &top_first);
	}
	if (open[0])
		evbuffer_add(out, "}", 1);
	evbuffer_add(out, "}\n", 2);
}

/* ---- /metrics: Prometheus' text exposition format (version 0.0.4) --------------------------- */

/* A label value as the exposition format wants it: backslash, quote and newline escaped. The
 * source names carry file paths, which may contain any of them. */
static void label_value(struct evbuffer *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add(b, "\\", 1);
		if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

/* The section's labels of instance (i, j), without braces; false when it has none. */
static bool sec_labels(struct evbuffer *b, const struct api_stats_snap *s, enum sec sec, unsigned i, unsigned j)
{
	char a[IP_STRLEN];
	switch (stats_sections[sec].dim) {
	case D_ONE:
		return false;
	case D_PEER:
		evbuffer_add_printf(b, "peer=\"%s\"", ip_format(&s->peers[i].address, a));
		return true;
	default:
		break;
	}
	evbuffer_add_printf(b, "source=\"");
	label_value(b, s->src[i].s.name);
	evbuffer_add(b, "\"", 1);
	if (stats_sections[sec].dim == D_REFUSAL)
		evbuffer_add_printf(b, ",reason=\"%s\"", cap_flow_refusal_name((enum cap_flow_refusal)j));
	if (stats_sections[sec].dim == D_EXPORTER) {
		const struct cap_exporter_info *e = &s->src[i].s.exporters[j];
		evbuffer_add_printf(b, ",exporter=\"%s\",domain=\"%" PRIu32 "\"", ip_format(&e->addr, a), e->domain);
	}
	return true;
}

static void prom_sample(struct evbuffer *b, const struct api_stats_snap *s, const struct row *r, unsigned i, unsigned j)
{
	evbuffer_add(b, r->metric, strlen(r->metric));
	struct evbuffer *l = evbuffer_new();
	if (!l)
		return;
	bool have = sec_labels(l, s, (enum sec)r->sec, i, j);
	if (r->labels && r->labels[0])
		evbuffer_add_printf(l, "%s%s", have ? "," : "", r->labels), have = true;
	if (have) {
		evbuffer_add(b, "{", 1);
		evbuffer_add_buffer(b, l);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_free(l);
	uint64_t v = num(r, base(s, (enum sec)r->sec, i, j));
	if (r->kind == K_US)
		evbuffer_add_printf(b, " %.6f\n", (double)v / 1e6);
	else if (r->kind == K_INT)
		evbuffer_add_printf(b, " %d\n", (int)(int64_t)v);
	else
		evbuffer_add_printf(b, " %" PRIu64 "\n", v);
}

/* The families with rows in sections lo..hi. */
static void prometheus(const struct api_stats_snap *s, struct evbuffer *out, enum sec lo, enum sec hi)
{
	for (size_t k = 0; k < stats_n_rows; k++) {
		const struct row *f = &stats_rows[k];
		if (!f->metric || !f->help || f->sec < lo || f->sec > hi)
			continue; /* a family starts at the row with its help */
		bool present = false;
		for (size_t m = k; m < stats_n_rows; m++)
			if (stats_rows[m].metric && !strcmp(stats_rows[m].metric, f->metric) && sec_present(s, (enum sec)stats_rows[m].sec, OUT_PROM))
				present = true;
		if (!present)
			continue;
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->metric, f->help, f->metric,
				    f->type == COUNTER ? "counter" : "gauge");
		/* per section with rows of the family, per instance, the rows in table order */
		for (int sec = 0; sec < S_COUNT; sec++) {
			bool has = false;
			for (size_t m = k; m < stats_n_rows && !has; m++)
				has = stats_rows[m].sec == sec && stats_rows[m].metric && !strcmp(stats_rows[m].metric, f->metric);
			if (!has || !sec_present(s, (enum sec)sec, OUT_PROM))
				continue;
			for (unsigned i = 0; i < count_i(s, (enum sec)sec); i++) {
				if (stats_sections[sec].dim != D_ONE && stats_sections[sec].dim != D_PEER &&
				    !source_shown(s, (enum sec)sec, i, OUT_PROM))
					continue;
				for (unsigned j = 0; j < count_j(s, (enum sec)sec, i); j++)
					for (size_t m = k; m < stats_n_rows; m++)
						if (stats_rows[m].sec == sec && stats_rows[m].metric && !strcmp(stats_rows[m].metric, f->metric))
							prom_sample(out, s, &stats_rows[m], i, j);
			}
		}
	}
}

void api_stats_prometheus(const struct api_stats_snap *s, struct evbuffer *out)
{
	prometheus(s, out, 0, S_COUNT - 1);
}

/* ---- the ban state file's views alone (tests, and what a state file adds) ------------------ */

static struct api_stats_snap *state_snap(const struct mit *m)
{
	if (!mit_state_path(m)[0])
		return NULL;
	struct api_stats_snap *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->state_path = mit_state_path(m);
	mit_state_stats(m, &s->bs);
	return s;
}

void api_state_stats_text(const struct mit *m, struct evbuffer *out)
{
	struct api_stats_snap *s = state_snap(m);
	if (!s)
		return;
	text_line(out, s, S_BANSTATE_DISK, 0);
	text_line(out, s, S_BANSTATE, 0);
	free(s);
}

void api_state_stats_json(const struct mit *m, struct evbuffer *out)
{
	struct api_stats_snap *s = state_snap(m);
	if (!s)
		return;
	bool first = true;
	evbuffer_add_printf(out, ",\"%s\":{", stats_sections[S_BANSTATE].json);
	json_rows(out, s, S_BANSTATE_DISK, 0, 0, &first);
	json_rows(out, s, S_BANSTATE, 0, 0, &first);
	evbuffer_add(out, "}", 1);
	free(s);
}

void api_state_metrics(const struct mit *m, struct evbuffer *out)
{
	struct api_stats_snap *s = state_snap(m);
	if (!s)
		return;
	prometheus(s, out, S_BANSTATE_DISK, S_BANSTATE);
	free(s);
}
