/* Numbers in text that comes from outside (config, state files): strict, so that what one
 * reader takes for a number no other reader takes for something else. */
#ifndef RAMPART_LIB_NUM_H
#define RAMPART_LIB_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* A whole string of decimal digits that fits in 64 bits, without sign, spaces or a leading
 * zero ("0100" is 64 to a YAML 1.1 reader and 100 to strtoull: refuse to guess); false else. */
bool num_parse_u64(const char *s, uint64_t *out);

#endif
