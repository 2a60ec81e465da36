/* fastnetmon.conf's bytes taken apart: settings, prefix lists, and the quoting of what goes out. The input is outside bytes: every line is taken apart
 * without trusting it (no length, encoding or syntax assumed), anything unreadable becomes a
 * comment naming its line, and every string written out is quoted, so the output is always YAML. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fnm_int.h"

/* ---- bytes --------------------------------------------------------------------------------- */

/* A value or line for a comment: printable ASCII only, at most SHOW_MAX bytes. */
void fnm_show(FILE *f, const char *s)
{
	size_t i = 0;
	for (; s[i] && i < SHOW_MAX; i++)
		fputc(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', f);
	if (s[i])
		fputs("...", f);
}

/* A YAML double-quoted scalar. */
void fnm_yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

char *fnm_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

/* A NUL-terminated copy of len bytes in which a NUL byte ends nothing early: NULs become '?'. */
char *fnm_copy_text(const char *p, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++)
		s[i] = p[i] ? p[i] : '?';
	s[len] = 0;
	return s;
}

bool fnm_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* ---- the settings -------------------------------------------------------------------------- */

void fnm_note(struct cv *c, const char *fmt, const char *a)
{
	fputs("# ", c->nf);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			fnm_show(c->nf, a ? a : "");
			p++;
		} else {
			fputc(*p, c->nf);
		}
	}
	fputc('\n', c->nf);
}

/* A setting that has no equivalent, with why. */
void fnm_no_equiv(struct cv *c, struct setting *s, const char *why)
{
	fputs("# ", c->nf);
	fnm_show(c->nf, s->key);
	fputs(" = ", c->nf);
	fnm_show(c->nf, s->val);
	fprintf(c->nf, " (line %u): %s\n", s->line, why);
	s->used = true;
	c->res->no_equivalent++;
}

int fnm_read_settings(struct cv *c, char *text)
{
	unsigned line = 0;
	for (char *next = text; next;) {
		char *l = next;
		char *nl = strchr(l, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		line++;
		l = fnm_trim(l);
		if (!*l || *l == '#')
			continue;
		char orig[SHOW_MAX + 4];
		snprintf(orig, sizeof orig, "%s", l); /* as written, for the comment if it is no setting */
		char *eq = strchr(l, '=');
		bool ok = eq != NULL;
		char *key = NULL, *val = NULL;
		if (ok) {
			*eq = 0;
			key = fnm_trim(l);
			val = fnm_trim(eq + 1);
			ok = *key != 0;
			for (const char *k = key; ok && *k; k++)
				ok = isalnum((unsigned char)*k) || *k == '_' || *k == '-' || *k == '.';
		}
		if (!ok) {
			fprintf(c->nf, "# line %u: not a setting (key = value), skipped: ", line);
			fnm_show(c->nf, orig);
			fputc('\n', c->nf);
			c->res->bad_lines++;
			continue;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct setting *ns = realloc(c->s, cap * sizeof *ns);
			if (!ns)
				return -1;
			c->s = ns;
			c->cap = cap;
		}
		c->s[c->n++] = (struct setting){.key = key, .val = val, .line = line};
		c->res->settings++;
	}
	return 0;
}

/* The last line that sets key (FastNetMon keeps the last), every one of them marked as read. */
struct setting *fnm_get(struct cv *c, const char *key)
{
	struct setting *last = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->s[i].key, key)) {
			c->s[i].used = true;
			last = &c->s[i];
		}
	return last;
}

const char *fnm_val(struct cv *c, const char *key, const char *def)
{
	struct setting *s = fnm_get(c, key);
	return s ? s->val : def;
}

/* on/off (FastNetMon's booleans); anything else is noted and taken as def */
bool fnm_flag(struct cv *c, const char *key, bool def)
{
	struct setting *s = fnm_get(c, key);
	if (!s)
		return def;
	if (!strcmp(s->val, "on") || !strcmp(s->val, "yes") || !strcmp(s->val, "true"))
		return true;
	if (!strcmp(s->val, "off") || !strcmp(s->val, "no") || !strcmp(s->val, "false"))
		return false;
	fprintf(c->nf, "# %s = ", s->key);
	fnm_show(c->nf, s->val);
	fprintf(c->nf, " (line %u): neither on nor off; taken as %s\n", s->line, def ? "on" : "off");
	c->res->bad_lines++;
	return def;
}

/* A number setting within 0..max, or def (absent) / false (bad, noted). */
bool fnm_number(struct cv *c, const char *key, uint64_t max, uint64_t def, uint64_t *out)
{
	struct setting *s = fnm_get(c, key);
	if (!s) {
		*out = def;
		return true;
	}
	if (fnm_parse_u64(s->val, max, out))
		return true;
	fprintf(c->nf, "# %s = ", s->key);
	fnm_show(c->nf, s->val);
	fprintf(c->nf, " (line %u): not a number in 0..%llu, left out\n", s->line, (unsigned long long)max);
	c->res->bad_lines++;
	return false;
}

/* ---- prefixes ------------------------------------------------------------------------------ */

int fnm_plist_add(struct plist *l, const ip_prefix *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (ip_prefix_equal(&l->p[i], p))
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		ip_prefix *np = realloc(l->p, cap * sizeof *np);
		if (!np)
			return -1;
		l->p = np;
		l->cap = cap;
	}
	l->p[l->n++] = *p;
	return 1;
}

/* "a.b.c.d/len", "v6/len" or a bare address; host bits are cleared (FastNetMon takes
 * 10.0.0.1/24 as 10.0.0.0/24), and said so in *masked. */
bool fnm_parse_prefix(const char *s, ip_prefix *p, bool *masked)
{
	char buf[IP_PREFIX_STRLEN + 8];
	size_t n = strlen(s);
	if (n >= sizeof buf)
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	uint64_t len = 0;
	if (slash) {
		*slash = 0;
		if (!fnm_parse_u64(slash + 1, 128, &len))
			return false;
	}
	if (!ip_parse(buf, &p->addr))
		return false;
	unsigned max = ip_max_len(&p->addr);
	if (!slash)
		len = max;
	if (len > max)
		return false;
	p->len = (uint8_t)len;
	ip_prefix before = *p;
	ip_prefix_mask(p);
	*masked = !ip_prefix_equal(&before, p);
	return true;
}

/* One prefix per line (FastNetMon's lists), '#' comments. */
int fnm_read_list(struct cv *c, const char *bytes, size_t len, const char *name, struct plist *out)
{
	char *text = fnm_copy_text(bytes, len);
	if (!text)
		return -1;
	unsigned line = 0;
	for (char *next = text; next;) {
		char *l = next;
		char *nl = strchr(l, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		line++;
		char *hash = strchr(l, '#');
		if (hash)
			*hash = 0;
		l = fnm_trim(l);
		if (!*l)
			continue;
		ip_prefix p;
		bool masked;
		if (!fnm_parse_prefix(l, &p, &masked)) {
			fprintf(c->nf, "# %s line %u: not a prefix, skipped: ", name, line);
			fnm_show(c->nf, l);
			fputc('\n', c->nf);
			c->res->bad_lines++;
			continue;
		}
		char pb[IP_PREFIX_STRLEN];
		if (masked) {
			fprintf(c->nf, "# %s line %u: ", name, line);
			fnm_show(c->nf, l);
			fprintf(c->nf, " has host bits set: taken as %s, as FastNetMon does\n", ip_prefix_format(&p, pb));
		}
		if (fnm_plist_add(out, &p) < 0) {
			free(text);
			return -1;
		}
	}
	free(text);
	return 0;
}

void fnm_print_plist(FILE *f, const struct plist *l)
{
	fputc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		char pb[IP_PREFIX_STRLEN];
		fprintf(f, "%s\"%s\"", i ? ", " : "", ip_prefix_format(&l->p[i], pb));
	}
	fputc(']', f);
}
