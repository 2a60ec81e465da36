/* libFuzzer target for the FastNetMon converter (migrate/fnm.c): the input is fastnetmon.conf,
 * then after a NUL the networks_list, then after another NUL the networks_whitelist. Any bytes
 * convert without a crash or a leak, the output is text (no NUL), and whenever the converter
 * says it succeeded (networks found) its output loads as a Rampart configuration. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../migrate/fnm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nul1 = memchr(p, 0, size);
	const char *nul2 = nul1 ? memchr(nul1 + 1, 0, size - (size_t)(nul1 + 1 - p)) : NULL;
	struct fnm_input in = {.conf = p, .conf_name = "fuzz.conf", .networks_name = "nets", .whitelist_name = "white"};
	in.conf_len = nul1 ? (size_t)(nul1 - p) : size;
	if (nul1) {
		in.networks = nul1 + 1;
		in.networks_len = (nul2 ? (size_t)(nul2 - nul1) : size - (size_t)(nul1 - p)) - 1;
	}
	if (nul2) {
		in.whitelist = nul2 + 1;
		in.whitelist_len = size - (size_t)(nul2 + 1 - p);
	}
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		abort();
	struct fnm_result res;
	int rc = fnm_convert(&in, f, &res);
	fclose(f);
	if (memchr(out, 0, len))
		abort();
	if (rc == 0) {
		struct rampart_conf c;
		char err[512];
		if (conf_load_string(out, len, "converted.yaml", &c, err, sizeof err) != 0) {
			fprintf(stderr, "converted configuration does not load: %s\n%s\n", err, out);
			abort();
		}
		conf_free(&c);
	}
	free(out);
	return 0;
}
