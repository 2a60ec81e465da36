/* Private to bgp/: the parts of the ExaBGP text parser (exabgp.c) that live in other files. */
#ifndef RAMPART_BGP_EXABGP_INT_H
#define RAMPART_BGP_EXABGP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "exabgp.h"

/* ExaBGP's generic `attribute [ CODE FLAGS VALUE ]` into a (exabgp_generic.c): value is the
 * VALUE token ("0x" and hex digits). 0 when taken; else which token is wrong (1 the code, 2 the
 * flags, 3 the value) with the reason in why. */
int bgp_exa_generic(uint8_t code, uint8_t flags, const char *value, struct bgp_exa_attrs *a, char *why,
		    size_t why_len);

#endif
