/* JSON text written into a libevent buffer. */
#ifndef RAMPART_JSON_H
#define RAMPART_JSON_H

#include <stddef.h>

struct evbuffer;

/* s (n bytes) as a JSON string, quoted and escaped. */
void json_str(struct evbuffer *b, const char *s, size_t n);

#endif
