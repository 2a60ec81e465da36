/* Reading one string member out of a JSON object that came from outside (the HTTP API's command
 * body). Strict RFC 8259 syntax for the whole text, so that what this reader takes for a command
 * no other JSON reader takes for something else. */
#ifndef RAMPART_LIB_JSON_H
#define RAMPART_LIB_JSON_H

#include <stddef.h>

/* Parses in[0..len) as one JSON object (any members, nested values up to 32 deep) and copies the
 * string value of member `key`, decoded to UTF-8, into out (NUL-terminated). 0 on success; -1
 * with *why set (a static string) when the text is not JSON, not an object, has no such member,
 * has it twice, has it of another type, or its value holds a NUL or does not fit outlen. */
int json_object_string(const char *in, size_t len, const char *key, char *out, size_t outlen, const char **why);

#endif
