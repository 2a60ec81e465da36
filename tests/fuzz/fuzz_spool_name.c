/* The spool's file-name parser on arbitrary names (a spool directory is a place other tools and
 * people write to). What parses must print back to the same name and parse to the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/st_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char in[257];
	memcpy(in, data, size);
	in[size] = 0;
	struct st_spool_entry e, e2;
	if (!st_spool_parse_name(in, &e))
		return 0;
	if (e.rows == 0 || e.table >= ST_NTABLES)
		abort();
	char name[128];
	st_spool_name(&e, name, sizeof name);
	if (strcmp(name, in) != 0 || !st_spool_parse_name(name, &e2) || e2.seq != e.seq ||
	    e2.table != e.table || e2.batch_id != e.batch_id || e2.rows != e.rows || e2.unknown != e.unknown)
		abort();
	return 0;
}
