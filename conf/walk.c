/* The schema walk: a mapping node and a table of keys -> checked values stored at offsets.
 *
 * Every key of every section goes through here, so the error messages are the same everywhere:
 * "FILE:LINE:COL: section.key[i].sub: what is wrong". The first error stops the walk; the caller
 * frees whatever was allocated so far (every allocation is hung off the destination at once). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/num.h"
#include "../conf/conf.h"
#include "conf_int.h"

static void vfail(struct walk *w, const struct cn *at, const char *key, const char *fmt, va_list ap)
{
	bool nopath = !w->plen && !key;
	int n = snprintf(w->err, w->errlen, "%s:%u:%u: %.*s%s%s%s", w->name, at ? at->line : 1, at ? at->col : 1,
			 (int)w->plen, w->path, key && w->plen ? "." : "", key ? key : "", nopath ? "" : ": ");
	if (n < 0 || (size_t)n >= w->errlen)
		return;
	vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
}

int walk_fail(struct walk *w, const struct cn *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(w, at, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int walk_fail_key(struct walk *w, const struct cn *at, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(w, at, key, fmt, ap);
	va_end(ap);
	return -1;
}

size_t walk_push(struct walk *w, const char *fmt, ...)
{
	size_t saved = w->plen;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(w->path + w->plen, sizeof w->path - w->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->plen += (size_t)n < sizeof w->path - w->plen ? (size_t)n : sizeof w->path - w->plen - 1;
	return saved;
}

void walk_pop(struct walk *w, size_t saved)
{
	w->plen = saved;
	w->path[saved] = 0;
}

static size_t push_key(struct walk *w, const char *key)
{
	return walk_push(w, "%s%s", w->plen ? "." : "", key);
}

/* How a node looks in a message: "abc" quoted and cut short, or what kind of node it is. */
static const char *show(const struct cn *n, char *buf, size_t len)
{
	if (n->type == CN_SEQ)
		return "a list";
	if (n->type == CN_MAP)
		return "a mapping";
	if (cn_is_null(n))
		return "nothing";
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; i < n->len && o + 6 < len; i++) {
		unsigned char c = (unsigned char)n->s[i];
		if (i == 40) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}

#define SHOW(n) show((n), shown, sizeof shown)

/* A scalar with text (not null, no embedded NUL); else an error naming what was expected. */
static int need_scalar(struct walk *w, const struct cn *v, const char *expect)
{
	char shown[64];
	if (v->type != CN_SCALAR || cn_is_null(v))
		return walk_fail(w, v, "expected %s, got %s", expect, SHOW(v));
	if (strlen(v->s) != v->len)
		return walk_fail(w, v, "expected %s, got a string with a NUL byte", expect);
	return 0;
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)dst = (uint8_t)v; break;
	case 2: *(uint16_t *)dst = (uint16_t)v; break;
	case 4: *(uint32_t *)dst = (uint32_t)v; break;
	default: *(uint64_t *)dst = v; break;
	}
}

static int do_int(struct walk *w, const struct ckey *k, const struct cn *v, void *dst)
{
	char expect[96], shown[64];
	if (k->valid && k->expect)
		snprintf(expect, sizeof expect, "%s", k->expect);
	else
		snprintf(expect, sizeof expect, "an integer %llu..%llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
	if (need_scalar(w, v, expect))
		return -1;
	uint64_t x;
	if (!num_parse_u64(v->s, &x) || x < k->min || x > k->max || (k->valid && !k->valid(x)))
		return walk_fail(w, v, "expected %s, got %s", expect, SHOW(v));
	store_uint(dst, k->size, x * (k->mult ? k->mult : 1));
	return 0;
}

static int do_duration(struct walk *w, const struct ckey *k, const struct cn *v, void *dst)
{
	char expect[128], shown[64];
	snprintf(expect, sizeof expect, "a duration of %llu..%llu seconds (like 600, 90s, 10m, 1h, 1d)",
		 (unsigned long long)k->min, (unsigned long long)k->max);
	if (need_scalar(w, v, expect))
		return -1;
	char num[24];
	size_t n = v->len;
	uint64_t unit = 1;
	if (n > 1 && !isdigit((unsigned char)v->s[n - 1])) {
		switch (v->s[n - 1]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return walk_fail(w, v, "expected %s, got %s", expect, SHOW(v));
		}
		n--;
	}
	uint64_t x;
	if (n >= sizeof num)
		return walk_fail(w, v, "expected %s, got %s", expect, SHOW(v));
	memcpy(num, v->s, n);
	num[n] = 0;
	if (!num_parse_u64(num, &x) || x > UINT64_MAX / unit || x * unit < k->min || x * unit > k->max)
		return walk_fail(w, v, "expected %s, got %s", expect, SHOW(v));
	store_uint(dst, k->size, x * unit);
	return 0;
}

static int do_bool(struct walk *w, const struct cn *v, bool *dst)
{
	char shown[64];
	if (need_scalar(w, v, "true or false"))
		return -1;
	if (!strcmp(v->s, "true"))
		*dst = true;
	else if (!strcmp(v->s, "false"))
		*dst = false;
	else
		return walk_fail(w, v, "expected true or false, got %s", SHOW(v));
	return 0;
}

static bool is_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int do_str(struct walk *w, const struct ckey *k, const struct cn *v, char *dst)
{
	char shown[64];
	if (v->type != CN_SCALAR)
		return walk_fail(w, v, "expected a string, got %s", SHOW(v));
	const char *s = cn_is_null(v) ? "" : v->s;
	size_t len = strlen(s);
	if (len != (cn_is_null(v) ? 0 : v->len))
		return walk_fail(w, v, "expected a string, got one with a NUL byte");
	if (len == 0 && k->min)
		return walk_fail(w, v, "must not be empty");
	if (len >= k->size)
		return walk_fail(w, v, "too long: %zu characters, at most %zu", len, k->size - 1);
	if (k->type == K_IDENT && len && !is_ident(s))
		return walk_fail(w, v, "expected a name of letters, digits and '_' (not starting with a digit), got %s",
				 SHOW(v));
	if (k->type == K_URL && len && strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
		return walk_fail(w, v, "expected an http:// or https:// URL, got %s", SHOW(v));
	if (k->type == K_LISTEN && len && !conf_parse_listen(s))
		return walk_fail(w, v, "expected ADDRESS:PORT (a.b.c.d:port or [ipv6]:port, port 1..65535), got %s",
				 SHOW(v));
	memcpy(dst, s, len + 1);
	return 0;
}

static int enum_lookup(const struct cenum *names, const char *s, int *out)
{
	for (size_t i = 0; names[i].name; i++)
		if (!strcmp(names[i].name, s)) {
			*out = names[i].value;
			return 0;
		}
	return -1;
}

static int enum_fail(struct walk *w, const struct cn *v, const struct cenum *names)
{
	char list[256], shown[64];
	size_t o = 0;
	list[0] = 0;
	for (size_t i = 0; names[i].name && o < sizeof list; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i].name);
	return walk_fail(w, v, "expected one of %s, got %s", list, SHOW(v));
}

static int do_enum(struct walk *w, const struct ckey *k, const struct cn *v, int *dst)
{
	if (v->type != CN_SCALAR || cn_is_null(v) || enum_lookup(k->names, v->s, dst) != 0)
		return enum_fail(w, v, k->names);
	return 0;
}

static int do_addr(struct walk *w, const struct ckey *k, const struct cn *v, void *dst)
{
	static const char *const what[] = {[K_ADDR] = "an IP address", [K_ADDR4] = "an IPv4 address",
					   [K_ADDR6] = "an IPv6 address", [K_ROUTER_ID] = "a non-zero IPv4 address"};
	char shown[64];
	if (need_scalar(w, v, what[k->type]))
		return -1;
	ip_addr a;
	if (!ip_parse(v->s, &a))
		return walk_fail(w, v, "expected %s, got %s", what[k->type], SHOW(v));
	bool v4 = ip_is_v4(&a) && !strchr(v->s, ':');
	if ((k->type == K_ADDR4 || k->type == K_ROUTER_ID) && !v4)
		return walk_fail(w, v, "expected %s, got %s", what[k->type], SHOW(v));
	if (k->type == K_ADDR6 && ip_is_v4(&a))
		return walk_fail(w, v, "expected %s, got %s", what[k->type], SHOW(v));
	if (k->type == K_ROUTER_ID) {
		if (ip_v4_u32(&a) == 0)
			return walk_fail(w, v, "expected %s, got %s", what[k->type], SHOW(v));
		*(uint32_t *)dst = ip_v4_u32(&a);
	} else {
		*(ip_addr *)dst = a;
	}
	return 0;
}

bool conf_parse_listen(const char *s)
{
	ip_addr a;
	uint16_t port;
	return ip_parse_endpoint(s, &a, &port) != 0;
}

bool conf_parse_community(const char *s, uint32_t *out)
{
	const char *colon = strchr(s, ':');
	char a[8];
	uint64_t hi, lo;
	if (!colon || (size_t)(colon - s) >= sizeof a)
		return false;
	memcpy(a, s, (size_t)(colon - s));
	a[colon - s] = 0;
	if (!num_parse_u64(a, &hi) || !num_parse_u64(colon + 1, &lo) || hi > 65535 || lo > 65535)
		return false;
	*out = (uint32_t)(hi << 16 | lo);
	return true;
}

/* Says whether a prefix that ip_prefix_parse refused only had host bits set, and which prefix was
 * probably meant. */
static bool host_bits_set(const char *s, char fixed[IP_PREFIX_STRLEN])
{
	char tmp[IP_PREFIX_STRLEN + 8];
	size_t n = strlen(s);
	if (n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n + 1);
	char *slash = strchr(tmp, '/');
	if (!slash || !isdigit((unsigned char)slash[1]))
		return false;
	*slash = 0;
	uint64_t len;
	ip_prefix p;
	if (!num_parse_u64(slash + 1, &len) || !ip_parse(tmp, &p.addr) || (ip_is_v4(&p.addr) && strchr(tmp, ':')) ||
	    len > ip_max_len(&p.addr))
		return false;
	p.len = (uint8_t)len;
	ip_prefix_mask(&p);
	ip_prefix_format(&p, fixed);
	return true;
}

/* The items of a list node; a null node is an empty list. */
static int need_list(struct walk *w, const struct cn *v, const char *expect, size_t *n)
{
	char shown[64];
	if (cn_is_null(v)) {
		*n = 0;
		return 0;
	}
	if (v->type != CN_SEQ)
		return walk_fail(w, v, "expected a list of %s, got %s", expect, SHOW(v));
	*n = v->n;
	return 0;
}

static int too_many(struct walk *w, const struct cn *v, size_t max)
{
	return walk_fail(w, v, "too many entries: %zu, at most %zu", v->n, max);
}

static int ref_cmp(const void *x, const void *y)
{
	const struct conf_pref_ref *a = x, *b = y;
	int c = memcmp(&a->p, &b->p, sizeof a->p); /* ip_prefix is bytes only: no padding */
	if (c)
		return c;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

bool conf_find_dup(struct conf_pref_ref *refs, size_t n, struct conf_pref_ref *first, struct conf_pref_ref *again)
{
	bool found = false;
	qsort(refs, n, sizeof *refs, ref_cmp);
	/* Sorted by (prefix, a, b): within a run of one prefix the head was written first and the
	 * entry after it repeats it first. Of all runs, report the repeat written earliest. */
	for (size_t i = 1; i < n; i++) {
		bool same = !memcmp(&refs[i].p, &refs[i - 1].p, sizeof refs[i].p);
		bool head_next = i < 2 || memcmp(&refs[i - 1].p, &refs[i - 2].p, sizeof refs[i].p) != 0;
		if (!same || !head_next)
			continue;
		if (!found || refs[i].a < again->a || (refs[i].a == again->a && refs[i].b < again->b)) {
			*first = refs[i - 1];
			*again = refs[i];
			found = true;
		}
	}
	return found;
}

/* The same prefix twice in one list is a typo or a merge gone wrong; say so rather than guess. */
static int check_dup_prefixes(struct walk *w, const struct cn *v, const ip_prefix *p, size_t n)
{
	if (n < 2)
		return 0;
	struct conf_pref_ref *refs = calloc(n, sizeof *refs), first, again;
	if (!refs)
		return walk_fail(w, v, "out of memory");
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct conf_pref_ref){.p = p[i], .b = (uint32_t)i};
	bool dup = conf_find_dup(refs, n, &first, &again);
	free(refs);
	if (!dup)
		return 0;
	char a[IP_PREFIX_STRLEN];
	size_t saved = walk_push(w, "[%u]", again.b);
	walk_fail(w, v->kids[again.b], "duplicate prefix %s (entry [%u] has it)", ip_prefix_format(&again.p, a),
		  first.b);
	walk_pop(w, saved);
	return -1;
}

static int do_prefix_list(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	ip_prefix **dst = (ip_prefix **)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	static const char expect[] = "a prefix like 192.0.2.0/24 or 2001:db8::/32";
	size_t n;
	if (need_list(w, v, "prefixes", &n))
		return -1;
	if (n && !(*dst = calloc(n, sizeof **dst)))
		return walk_fail(w, v, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct cn *it = v->kids[i];
		char shown[64], fixed[IP_PREFIX_STRLEN];
		size_t saved = walk_push(w, "[%zu]", i);
		if (need_scalar(w, it, expect))
			return -1;
		if (!ip_prefix_parse(it->s, &(*dst)[i])) {
			if (host_bits_set(it->s, fixed))
				return walk_fail(w, it, "host bits set in %s (the network is %s)", SHOW(it), fixed);
			return walk_fail(w, it, "expected %s, got %s", expect, SHOW(it));
		}
		walk_pop(w, saved);
		*count = i + 1;
	}
	return check_dup_prefixes(w, v, *dst, n);
}

static int do_listen_list(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	struct conf_listen *dst = (struct conf_listen *)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	struct ckey one = {.type = K_LISTEN, .size = sizeof dst->addr, .min = 1};
	size_t n;
	if (need_list(w, v, "ADDRESS:PORT strings", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	for (size_t i = 0; i < n; i++) {
		size_t saved = walk_push(w, "[%zu]", i);
		if (do_str(w, &one, v->kids[i], dst[i].addr))
			return -1;
		walk_pop(w, saved);
	}
	*count = n;
	return 0;
}

static int do_communities(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	uint32_t *dst = (uint32_t *)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	static const char expect[] = "a community ASN:VALUE (both 0..65535, like \"65535:666\")";
	size_t n;
	if (need_list(w, v, "communities", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	for (size_t i = 0; i < n; i++) {
		char shown[64];
		size_t saved = walk_push(w, "[%zu]", i);
		if (need_scalar(w, v->kids[i], expect))
			return -1;
		if (!conf_parse_community(v->kids[i]->s, &dst[i]))
			return walk_fail(w, v->kids[i], "expected %s, got %s", expect, SHOW(v->kids[i]));
		walk_pop(w, saved);
	}
	*count = n;
	return 0;
}

static int do_families(struct walk *w, const struct ckey *k, const struct cn *v, uint32_t *dst)
{
	size_t n;
	if (need_list(w, v, "address families", &n))
		return -1;
	if (n == 0)
		return walk_fail(w, v, "needs at least one address family");
	uint32_t bits = 0;
	for (size_t i = 0; i < n; i++) {
		int f;
		size_t saved = walk_push(w, "[%zu]", i);
		if (v->kids[i]->type != CN_SCALAR || enum_lookup(k->names, v->kids[i]->s, &f) != 0)
			return enum_fail(w, v->kids[i], k->names);
		bits |= (uint32_t)f;
		walk_pop(w, saved);
	}
	*dst = bits;
	return 0;
}

static int do_ifnames(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	char **dst = (char **)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	struct ckey one = {.type = K_STR, .size = 16 /* IFNAMSIZ */, .min = 1};
	size_t n;
	if (need_list(w, v, "interface names", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	for (size_t i = 0; i < n; i++) {
		char name[16], shown[64];
		size_t saved = walk_push(w, "[%zu]", i);
		if (do_str(w, &one, v->kids[i], name))
			return -1;
		if (strpbrk(name, "/: \t"))
			return walk_fail(w, v->kids[i], "expected an interface name, got %s", SHOW(v->kids[i]));
		for (size_t j = 0; j < i; j++) /* twice would count every packet twice */
			if (!strcmp(dst[j], name))
				return walk_fail(w, v->kids[i], "duplicate interface %s (entry [%zu] has it)", name, j);
		if (!(dst[i] = strdup(name)))
			return walk_fail(w, v->kids[i], "out of memory");
		*count = i + 1;
		walk_pop(w, saved);
	}
	return 0;
}

static int do_strings(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	char **dst = (char **)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	size_t n;
	if (need_list(w, v, "strings", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	for (size_t i = 0; i < n; i++) {
		size_t saved = walk_push(w, "[%zu]", i);
		if (need_scalar(w, v->kids[i], "a string"))
			return -1;
		if (v->kids[i]->len == 0 || v->kids[i]->len > 255)
			return walk_fail(w, v->kids[i], "expected a string of 1..255 bytes");
		if (!(dst[i] = strdup(v->kids[i]->s)))
			return walk_fail(w, v->kids[i], "out of memory");
		*count = i + 1;
		walk_pop(w, saved);
	}
	return 0;
}

static int do_uint_list(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	uint32_t *dst = (uint32_t *)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	struct ckey one = {.type = K_INT, .size = 4, .min = k->min, .max = k->max};
	size_t n;
	if (need_list(w, v, "integers", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	*count = 0; /* the list replaces the default, an empty one too */
	for (size_t i = 0; i < n; i++) {
		size_t saved = walk_push(w, "[%zu]", i);
		if (do_int(w, &one, v->kids[i], &dst[i]))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (dst[j] == dst[i])
				return walk_fail(w, v->kids[i], "duplicate %u (entry [%zu] has it)", dst[i], j);
		*count = i + 1;
		walk_pop(w, saved);
	}
	return 0;
}

/* FlowSpec rules in the operator's text form, checked by the same parser as rampartctl's, so an
 * error names the rule's column and token as well as the file's line. */
static int do_flow_rules(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	struct conf_flow_rule **dst = (struct conf_flow_rule **)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	size_t n;
	if (need_list(w, v, "FlowSpec rules", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	if (n == 0)
		return 0;
	if (!(*dst = calloc(n, sizeof **dst)))
		return walk_fail(w, v, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char shown[64];
		size_t saved = walk_push(w, "[%zu]", i);
		const struct cn *e = v->kids[i];
		if (e->type != CN_SCALAR || cn_is_null(e) || strlen(e->s) != e->len)
			return walk_fail(w, e, "expected a FlowSpec rule as text, got %s", SHOW(e));
		struct fs_err err;
		if (!fs_text_parse(e->s, &(*dst)[i].rule, &(*dst)[i].actions, &err))
			return walk_fail(w, e, "bad FlowSpec rule: %s", err.msg);
		if (!(*dst)[i].actions.present)
			return walk_fail(w, e, "the rule has no action (add e.g. \"then discard\")");
		for (size_t j = 0; j < i; j++)
			if (fs_rule_equal(&(*dst)[j].rule, &(*dst)[i].rule))
				return walk_fail(w, e, "the same rule as entry [%zu]", j);
		*count = i + 1;
		walk_pop(w, saved);
	}
	return 0;
}

static int do_seq_map(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	void **dst = (void **)((char *)base + k->off);
	size_t *count = (size_t *)((char *)base + k->count_off);
	size_t n;
	if (need_list(w, v, "mappings", &n))
		return -1;
	if (n > k->max_items)
		return too_many(w, v, k->max_items);
	if (n == 0)
		return 0;
	char *arr = calloc(n, k->elem_size);
	if (!arr)
		return walk_fail(w, v, "out of memory");
	/* hung off the destination at once, all initialised, so an error frees cleanly */
	*dst = arr;
	*count = n;
	for (size_t i = 0; i < n; i++)
		if (k->init)
			k->init(arr + i * k->elem_size);
	for (size_t i = 0; i < n; i++) {
		size_t saved = walk_push(w, "[%zu]", i);
		if (walk_map(w, k->sub, v->kids[i], arr + i * k->elem_size))
			return -1;
		if (k->check && k->check(w, v->kids[i], arr, i))
			return -1;
		walk_pop(w, saved);
	}
	return 0;
}

static int walk_value(struct walk *w, const struct ckey *k, const struct cn *v, void *base)
{
	void *dst = (char *)base + k->off;
	switch (k->type) {
	case K_INT: return do_int(w, k, v, dst);
	case K_DURATION: return do_duration(w, k, v, dst);
	case K_BOOL: return do_bool(w, v, dst);
	case K_STR:
	case K_IDENT:
	case K_URL:
	case K_LISTEN: return do_str(w, k, v, dst);
	case K_ENUM: return do_enum(w, k, v, dst);
	case K_ADDR:
	case K_ADDR4:
	case K_ADDR6:
	case K_ROUTER_ID: return do_addr(w, k, v, dst);
	case K_LISTEN_LIST: return do_listen_list(w, k, v, base);
	case K_PREFIX_LIST: return do_prefix_list(w, k, v, base);
	case K_COMMUNITIES: return do_communities(w, k, v, base);
	case K_FAMILIES: return do_families(w, k, v, dst);
	case K_IFNAMES: return do_ifnames(w, k, v, base);
	case K_UINT_LIST: return do_uint_list(w, k, v, base);
	case K_STRINGS: return do_strings(w, k, v, base);
	case K_FLOW_RULES: return do_flow_rules(w, k, v, base);
	case K_MAP: return walk_map(w, k->sub, v, dst);
	case K_SEQ_MAP: return do_seq_map(w, k, v, base);
	}
	return walk_fail(w, v, "internal error: key type %d", (int)k->type);
}

static int unknown_key(struct walk *w, const struct ckey *tbl, const struct cn *key)
{
	char known[512];
	size_t o = 0;
	known[0] = 0;
	for (size_t i = 0; tbl[i].name && o < sizeof known; i++)
		o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "", tbl[i].name);
	return walk_fail(w, key, "unknown key (expected %s)", tbl[0].name ? known : "nothing here");
}

int walk_map(struct walk *w, const struct ckey *tbl, const struct cn *node, void *base)
{
	char shown[64];
	const struct cn *at = node;
	if (cn_is_null(node))
		node = NULL; /* "section:" with nothing under it: all defaults */
	else if (node->type != CN_MAP)
		return walk_fail(w, node, "expected a mapping of keys, got %s", SHOW(node));
	for (size_t i = 0; node && i + 1 < node->n; i += 2) {
		const struct cn *key = node->kids[i];
		if (key->type != CN_SCALAR || cn_is_null(key) || strlen(key->s) != key->len)
			return walk_fail(w, key, "a key must be a plain name, got %s", SHOW(key));
		size_t saved = push_key(w, key->s);
		for (size_t j = 0; j < i; j += 2)
			if (!strcmp(node->kids[j]->s, key->s))
				return walk_fail(w, key, "duplicate key (first at line %u, column %u)", node->kids[j]->line,
						 node->kids[j]->col);
		const struct ckey *k = tbl;
		while (k->name && strcmp(k->name, key->s))
			k++;
		if (!k->name)
			return unknown_key(w, tbl, key);
		if (walk_value(w, k, node->kids[i + 1], base))
			return -1;
		walk_pop(w, saved);
	}
	for (const struct ckey *k = tbl; k->name; k++)
		if (k->required && !cn_map_get(node, k->name))
			return walk_fail_key(w, at, k->name, "required");
	return 0;
}
