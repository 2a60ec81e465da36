/* bird_nlri: reads BIRD's FlowSpec NLRI vectors (id, afi, nlri_hex per line, tab-separated, on
 * stdin) and runs each NLRI through Rampart's decoder (fs_nlri_decode) and text (fs_text_format).
 * Prints one line per row: id, "valid" or "invalid", then for a valid one the components Rampart
 * re-encodes from what it decoded (hex, no length octet; "-" if it would not send the rule) and
 * the text, for an invalid one "-" and the decoder's reason. An NLRI is valid only if it decodes
 * and the decoder consumed every octet. */
#include <stdio.h>
#include <string.h>

#include "flowspec/fs.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(void)
{
	char line[4096];
	while (fgets(line, sizeof line, stdin)) {
		char *id = strtok(line, "\t\n"), *afi = strtok(NULL, "\t\n"), *hex = strtok(NULL, "\t\n");
		if (!id || !afi || !hex)
			continue;
		uint8_t b[1024];
		size_t n = 0;
		for (const char *p = hex; p[0] && p[1] && n < sizeof b; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);
			if (hi < 0 || lo < 0)
				break;
			b[n++] = (uint8_t)(hi << 4 | lo);
		}
		struct rbuf r = rbuf_init(b, n);
		struct fs_rule rule;
		struct fs_err err = {{0}};
		enum fs_afi fa = strcmp(afi, "ipv6") == 0 ? FS_AFI_IPV6 : FS_AFI_IPV4;
		if (!fs_nlri_decode(&r, fa, &rule, &err)) {
			printf("%s\tinvalid\t-\t%s\n", id, err.msg);
			continue;
		}
		if (rbuf_left(&r) != 0) {
			printf("%s\tinvalid\t-\t%zu octets after the NLRI\n", id, rbuf_left(&r));
			continue;
		}
		char text[2048];
		if (!fs_text_format(&rule, NULL, text, sizeof text))
			snprintf(text, sizeof text, "(text does not fit)");
		uint8_t enc[FS_NLRI_MAX + 2];
		struct wbuf w = wbuf_init(enc, sizeof enc);
		char hexout[2 * sizeof enc + 1] = "-";
		if (fs_nlri_encode(&rule, &w, &err)) {
			size_t skip = enc[0] >= 0xf0 ? 2 : 1; /* the length octet(s) */
			for (size_t i = skip; i < w.len; i++)
				sprintf(hexout + 2 * (i - skip), "%02X", enc[i]);
		}
		printf("%s\tvalid\t%s\t%s\n", id, hexout, text);
	}
	return 0;
}
