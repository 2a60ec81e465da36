/* libFuzzer target for the /proc/net/netstat reader behind the TCP MD5 counters: any bytes,
 * never a crash or a read past them; an accepted text has the three counters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bgp/bgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so a read one past the input is caught */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	for (size_t i = 0; i < size; i++)
		text[i] = (char)data[i];
	struct bgp_md5_counters c = {0};
	(void)bgp_md5_parse_netstat(text, size, &c);
	free(text);
	return 0;
}
