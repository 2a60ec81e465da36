/* JSON text for the HTTP API, the read-back answers, the webhook and the stats: the one place
 * that knows how a string is escaped. */
#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "json.h"

void json_str(struct evbuffer *b, const char *s, size_t n)
{
	evbuffer_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			evbuffer_add_printf(b, "\\%c", c);
		else if (c < 0x20)
			evbuffer_add_printf(b, "\\u%04x", c);
		else
			evbuffer_add(b, &s[i], 1);
	}
	evbuffer_add(b, "\"", 1);
}

/* ---- reading (lib/json.h): recursive descent over the bytes; nesting is bounded so that
 * hostile input cannot exhaust the stack ---- */

#define MAX_DEPTH 32

struct rd {
	const char *p, *end;
	const char *why;
};

static bool fail(struct rd *r, const char *why)
{
	if (!r->why)
		r->why = why;
	return false;
}

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Appends code point cp as UTF-8 to out (when out is not NULL). */
static bool put_utf8(struct rd *r, uint32_t cp, char *out, size_t outlen, size_t *o)
{
	char b[4];
	size_t n;
	if (cp < 0x80)
		b[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	if (!out) {
		*o += n;
		return true;
	}
	if (*o + n >= outlen)
		return fail(r, "string too long");
	memcpy(out + *o, b, n);
	*o += n;
	return true;
}

/* Length of the UTF-8 sequence starting at p (well-formed, shortest form, no surrogates), 0 if
 * it is not one. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp, min;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		n = 2, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		n = 3, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A string at r->p (the opening quote); decoded into out when out is not NULL. */
static bool string(struct rd *r, char *out, size_t outlen)
{
	size_t o = 0;
	if (r->p >= r->end || *r->p != '"')
		return fail(r, "expected a string");
	r->p++;
	for (;;) {
		if (r->p >= r->end)
			return fail(r, "unterminated string");
		unsigned char c = (unsigned char)*r->p;
		if (c == '"') {
			r->p++;
			break;
		}
		if (c < 0x20)
			return fail(r, "control character in a string");
		if (c != '\\') {
			size_t n = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end);
			if (!n)
				return fail(r, "invalid UTF-8 in a string");
			if (out) {
				if (o + n >= outlen)
					return fail(r, "string too long");
				memcpy(out + o, r->p, n);
			}
			o += n;
			r->p += n;
			continue;
		}
		if (r->end - r->p < 2)
			return fail(r, "unterminated string");
		char e = r->p[1];
		r->p += 2;
		uint32_t cp;
		switch (e) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u': {
			int v = r->end - r->p >= 4 ? hex4(r->p) : -1;
			if (v < 0)
				return fail(r, "bad \\u escape");
			r->p += 4;
			cp = (uint32_t)v;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(r, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				int lo = r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' ? hex4(r->p + 2) : -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(r, "lone high surrogate");
				r->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
			}
			if (cp == 0 && out)
				return fail(r, "string contains a NUL");
			break;
		}
		default:
			return fail(r, "bad escape in a string");
		}
		if (!put_utf8(r, cp, out, outlen, &o))
			return false;
	}
	if (out)
		out[o] = '\0';
	return true;
}

static bool number(struct rd *r)
{
	const char *p = r->p;
	if (p < r->end && *p == '-')
		p++;
	if (p >= r->end)
		return fail(r, "bad number");
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(r, "bad number");
	if (p < r->end && *p == '.') {
		p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return fail(r, "bad number");
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return fail(r, "bad number");
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	r->p = p;
	return true;
}

static bool word(struct rd *r, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return fail(r, "not JSON");
	r->p += n;
	return true;
}

static bool value(struct rd *r, int depth);

/* An object or array at r->p. For the top-level object (key != NULL) the member named key is
 * decoded into out; *found counts its occurrences. */
static bool container(struct rd *r, int depth, const char *key, char *out, size_t outlen, int *found)
{
	if (depth > MAX_DEPTH)
		return fail(r, "nested too deep");
	bool obj = *r->p == '{';
	char close = obj ? '}' : ']';
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return true;
	}
	for (;;) {
		bool mine = false;
		if (obj) {
			const char *k = r->p;
			if (!string(r, NULL, 0))
				return false;
			/* compared decoded, so "comm\u0061nd" is the same member as "command" (as it is
			 * to every other reader); a decoded key is never longer than its text */
			char kbuf[64];
			if (key && (size_t)(r->p - k) < sizeof kbuf) {
				struct rd kr = {.p = k, .end = r->p};
				mine = string(&kr, kbuf, sizeof kbuf) && !strcmp(kbuf, key);
			}
			ws(r);
			if (r->p >= r->end || *r->p != ':')
				return fail(r, "expected ':' in an object");
			r->p++;
			ws(r);
		}
		if (mine) {
			if (++*found > 1)
				return fail(r, "member given twice");
			if (r->p >= r->end || *r->p != '"')
				return fail(r, "member is not a string");
			if (!string(r, out, outlen))
				return false;
		} else if (!value(r, depth + 1)) {
			return false;
		}
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return true;
		}
		return fail(r, obj ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
	}
}

static bool value(struct rd *r, int depth)
{
	if (r->p >= r->end)
		return fail(r, "unexpected end of text");
	switch (*r->p) {
	case '{':
	case '[':
		return container(r, depth, NULL, NULL, 0, NULL);
	case '"':
		return string(r, NULL, 0);
	case 't':
		return word(r, "true");
	case 'f':
		return word(r, "false");
	case 'n':
		return word(r, "null");
	default:
		return number(r);
	}
}

int json_object_string(const char *in, size_t len, const char *key, char *out, size_t outlen, const char **why)
{
	struct rd r = {.p = in, .end = in + len};
	int found = 0;
	if (outlen == 0)
		return *why = "no room", -1;
	out[0] = '\0';
	ws(&r);
	if (r.p >= r.end || *r.p != '{')
		return *why = "not a JSON object", -1;
	if (!container(&r, 0, key, out, outlen, &found))
		return *why = r.why ? r.why : "not JSON", out[0] = '\0', -1;
	ws(&r);
	if (r.p != r.end)
		return *why = "text after the JSON object", out[0] = '\0', -1;
	if (!found)
		return *why = "no such member", -1;
	return 0;
}
