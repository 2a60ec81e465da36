/* lib/json.c on arbitrary bytes (the HTTP API's command bodies come from any client). What it
 * takes must be NUL-terminated within the buffer and hold no NUL; taken twice, the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[1024], again[1024];
	const char *why = NULL;
	if (json_object_string((const char *)data, size, "command", out, sizeof out, &why) != 0) {
		if (!why)
			abort();
		return 0;
	}
	size_t n = strnlen(out, sizeof out);
	if (n == sizeof out)
		abort();
	if (json_object_string((const char *)data, size, "command", again, sizeof again, &why) != 0 ||
	    strcmp(out, again))
		abort();
	return 0;
}
