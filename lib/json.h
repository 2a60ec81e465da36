/* JSON in and out: text written into a libevent buffer, and one string member read out of an
 * object that came from outside (the HTTP API's command body). The reader is strict RFC 8259
 * for the whole text, so that what it takes for a command no other JSON reader takes for
 * something else. */
#ifndef RAMPART_JSON_H
#define RAMPART_JSON_H

#include <stddef.h>

struct evbuffer;

/* s (n bytes) as a JSON string, quoted and escaped. */
void json_str(struct evbuffer *b, const char *s, size_t n);

/* Parses in[0..len) as one JSON object (any members, nested values up to 32 deep) and copies the
 * string value of member `key`, decoded to UTF-8, into out (NUL-terminated). 0 on success; -1
 * with *why set (a static string) when the text is not JSON, not an object, has no such member,
 * has it twice, has it of another type, or its value holds a NUL or does not fit outlen. */
int json_object_string(const char *in, size_t len, const char *key, char *out, size_t outlen, const char **why);

#endif
