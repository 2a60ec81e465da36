/* YAML text -> a small node tree, from libyaml's event parser.
 *
 * Our own tree rather than libyaml's document API because we want three things it does not give:
 * a hard bound on depth and node count (the walk and cn_free recurse), aliases refused (an alias
 * bomb expands to gigabytes through the document API), and the 1-based line:column of every node
 * for error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "conf_int.h"

struct builder {
	const char *name;
	char *err;
	size_t errlen;
	struct cn *root;
	struct cn *stack[CONF_MAX_DEPTH];
	size_t depth;
	size_t nodes;
	int documents;
};

static int fail_at(struct builder *b, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(struct builder *b, yaml_mark_t m, const char *fmt, ...)
{
	int n = snprintf(b->err, b->errlen, "%s:%zu:%zu: ", b->name, m.line + 1, m.column + 1);
	if (n < 0 || (size_t)n >= b->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

void cn_free(struct cn *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		cn_free(n->kids[i]);
	free(n->kids);
	free(n->s);
	free(n);
}

static int add_child(struct builder *b, struct cn *parent, struct cn *kid, yaml_mark_t m)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct cn **k = realloc(parent->kids, cap * sizeof *k);
		if (!k)
			return fail_at(b, m, "out of memory");
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* Creates a node at mark m and hangs it under the open collection (or makes it the root). */
static struct cn *new_node(struct builder *b, enum cn_type t, yaml_mark_t m)
{
	if (++b->nodes > CONF_MAX_NODES) {
		fail_at(b, m, "too many YAML nodes (at most %u)", CONF_MAX_NODES);
		return NULL;
	}
	struct cn *n = calloc(1, sizeof *n);
	if (!n) {
		fail_at(b, m, "out of memory");
		return NULL;
	}
	n->type = t;
	n->line = (unsigned)m.line + 1;
	n->col = (unsigned)m.column + 1;
	if (b->depth == 0) {
		/* libyaml delivers one root node per document; a second document is refused earlier */
		b->root = n;
		return n;
	}
	if (add_child(b, b->stack[b->depth - 1], n, m) != 0) {
		free(n);
		return NULL;
	}
	return n;
}

static int push(struct builder *b, struct cn *n, yaml_mark_t m)
{
	if (b->depth == CONF_MAX_DEPTH)
		return fail_at(b, m, "nested too deeply (at most %u levels)", CONF_MAX_DEPTH);
	b->stack[b->depth++] = n;
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	yaml_mark_t m = ev->start_mark;
	struct cn *n;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1)
			return fail_at(b, m, "only one YAML document is allowed (found a second '---')");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(b, m, "YAML aliases (*%s) are not supported", (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.tag && !ev->data.scalar.plain_implicit && !ev->data.scalar.quoted_implicit)
			return fail_at(b, m, "YAML tags (%s) are not supported", (const char *)ev->data.scalar.tag);
		if (!(n = new_node(b, CN_SCALAR, m)))
			return -1;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->s = malloc(n->len + 1);
		if (!n->s)
			return fail_at(b, m, "out of memory");
		memcpy(n->s, ev->data.scalar.value, n->len);
		n->s[n->len] = 0;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *tag = seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
		int implicit = seq ? ev->data.sequence_start.implicit : ev->data.mapping_start.implicit;
		if (tag && !implicit)
			return fail_at(b, m, "YAML tags (%s) are not supported", (const char *)tag);
		if (!(n = new_node(b, seq ? CN_SEQ : CN_MAP, m)))
			return -1;
		return push(b, n, m);
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

int cn_parse(const char *yaml, size_t len, const char *name, struct cn **root, char *err, size_t errlen)
{
	struct builder b = {.name = name, .err = err, .errlen = errlen};
	yaml_mark_t zero = {0};
	*root = NULL;
	if (len > CONF_MAX_BYTES)
		return fail_at(&b, zero, "file too large (%zu bytes, at most %u)", len, CONF_MAX_BYTES);
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return fail_at(&b, zero, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	int rc = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.context)
				rc = fail_at(&b, p.problem_mark, "YAML syntax: %s (%s at line %zu, column %zu)",
					     p.problem ? p.problem : "error", p.context, p.context_mark.line + 1,
					     p.context_mark.column + 1);
			else
				rc = fail_at(&b, p.problem_mark, "YAML syntax: %s", p.problem ? p.problem : "error");
			break;
		}
		bool end = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (rc != 0 || end)
			break;
	}
	yaml_parser_delete(&p);
	if (rc != 0) {
		cn_free(b.root);
		return -1;
	}
	*root = b.root;
	return 0;
}

bool cn_is_null(const struct cn *n)
{
	if (n->type != CN_SCALAR || n->quoted)
		return false;
	return n->len == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") || !strcmp(n->s, "Null") ||
	       !strcmp(n->s, "NULL");
}

const struct cn *cn_map_get(const struct cn *map, const char *key)
{
	if (!map || map->type != CN_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->type == CN_SCALAR && !strcmp(map->kids[i]->s, key))
			return map->kids[i + 1];
	return NULL;
}
