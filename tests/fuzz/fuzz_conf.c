/* libFuzzer target for the configuration loader: any bytes either load or give an error, never a
 * crash or a leak; and whatever loads must print as YAML that loads again and prints the same
 * (the round trip the daemon's --print-config promises). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"

static char *print(const struct rampart_conf *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		abort();
	conf_print(c, f);
	fclose(f);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rampart_conf c, again;
	char err[512];
	if (conf_load_string((const char *)data, size, "fuzz.yaml", &c, err, sizeof err) != 0) {
		if (!memchr(err, 0, sizeof err) || strncmp(err, "fuzz.yaml:", 10) != 0)
			abort(); /* every error names the file and is a terminated string */
		return 0;
	}
	size_t len1, len2;
	char *t1 = print(&c, &len1);
	if (conf_load_string(t1, len1, "fuzz.yaml", &again, err, sizeof err) != 0) {
		fprintf(stderr, "printed config does not load: %s\n%s\n", err, t1);
		abort();
	}
	char *t2 = print(&again, &len2);
	if (len1 != len2 || memcmp(t1, t2, len1) != 0) {
		fprintf(stderr, "print is not stable:\n%s\n----\n%s\n", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	conf_free(&again);
	conf_free(&c);
	return 0;
}
