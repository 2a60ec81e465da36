/* The UDP payload of a captured Ethernet frame, for the test tools that feed flow exports from a
 * pcap file to the decoders (tests/integration/flowdump.c, tests/conformance/akvorado_dump.c). */
#ifndef RAMPART_TESTS_UDP_PAYLOAD_H
#define RAMPART_TESTS_UDP_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/ip.h"

/* The UDP payload of an Ethernet/IPv4 or IPv6/UDP frame of n bytes, its length in *len and the
 * sender in *src; NULL for anything else (other EtherTypes, other protocols, short frames). */
static inline const uint8_t *udp_payload(const uint8_t *p, size_t n, ip_addr *src, size_t *len)
{
	if (n < 14)
		return NULL;
	uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
	p += 14;
	n -= 14;
	size_t hl;
	if (type == 0x0800 && n >= 20 && p[9] == 17) {
		hl = (size_t)(p[0] & 15) * 4;
		ip_from_v4(src, p + 12);
	} else if (type == 0x86dd && n >= 40 && p[6] == 17) {
		hl = 40;
		ip_from_v6(src, p + 8);
	} else {
		return NULL;
	}
	if (n < hl + 8)
		return NULL;
	*len = n - hl - 8;
	return p + hl + 8;
}

#endif
