/* JSON text for the HTTP API, the read-back answers, the webhook and the stats: the one place
 * that knows how a string is escaped. */
#include <event2/buffer.h>

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
