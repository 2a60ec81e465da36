/* Addresses and prefixes for IPv4 and IPv6 in one type.
 *
 * An IPv4 address is kept IPv4-mapped (::ffff:a.b.c.d) so every table, hash and storage row
 * handles both families the same way; ClickHouse stores the same 16 bytes as FixedString(16). */
#ifndef RAMPART_LIB_IP_H
#define RAMPART_LIB_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IP_STRLEN 46     /* INET6_ADDRSTRLEN */
#define IP_PREFIX_STRLEN 50

typedef struct ip_addr {
	uint8_t b[16];
} ip_addr;

/* len is the family's own length: 0..32 for IPv4, 0..128 for IPv6. Host bits are zero. */
typedef struct ip_prefix {
	ip_addr addr;
	uint8_t len;
} ip_prefix;
/* No padding: tables key on its 17 bytes (lib/ht compares them as words) */
_Static_assert(sizeof(ip_prefix) == 17, "ip_prefix is 17 bytes");

/* The comparisons and the hash every table lookup makes are inline, as 8-byte words: a burst of
 * 100 000 routes makes several of each per route, and a call into libc's memcmp for 12 or 16
 * bytes cost more than the comparison. */
/* the first 12 bytes of ::ffff:a.b.c.d */
static const uint8_t ip_v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static inline bool ip_is_v4(const ip_addr *a)
{
	uint64_t head;
	uint32_t tail, want;
	memcpy(&head, a->b, 8);
	memcpy(&tail, a->b + 8, 4);
	memcpy(&want, ip_v4_mapped_prefix + 8, 4);
	return head == 0 && tail == want;
}
static inline bool ip_equal(const ip_addr *a, const ip_addr *b)
{
	uint64_t x[2], y[2];
	memcpy(x, a->b, 16);
	memcpy(y, b->b, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}
/* Two 64-bit halves folded with a multiplicative mix: fast, and spreads the low bits of
 * sequential addresses (a /24 under attack) across the whole table. */
static inline uint32_t ip_hash(const ip_addr *a)
{
	uint64_t h, l;
	memcpy(&h, a->b, 8);
	memcpy(&l, a->b + 8, 8);
	uint64_t x = (h * 0x9E3779B97F4A7C15ull) ^ l;
	x ^= x >> 32;
	x *= 0xD6E8FEB86659FD93ull;
	x ^= x >> 32;
	return (uint32_t)x;
}
/* bytes in network order; inline, as decoding a packet makes two */
static inline void ip_from_v4(ip_addr *a, const uint8_t v4[4])
{
	memcpy(a->b, ip_v4_mapped_prefix, 12);
	memcpy(a->b + 12, v4, 4);
}
void ip_from_v6(ip_addr *a, const uint8_t v6[16]);
/* IPv4 as a host-order integer; only meaningful when ip_is_v4() */
uint32_t ip_v4_u32(const ip_addr *a);
void ip_from_v4_u32(ip_addr *a, uint32_t host_order);
bool ip_is_zero(const ip_addr *a);
int ip_compare(const ip_addr *a, const ip_addr *b);

/* "192.0.2.1" or "2001:db8::1"; false on anything else */
bool ip_parse(const char *s, ip_addr *out);
const char *ip_format(const ip_addr *a, char buf[IP_STRLEN]);
/* A socket endpoint as configs write it: "a.b.c.d:port" or "[ipv6]:port", port 1..65535.
 * Returns the written family, 4 or 6 (a bracketed address is IPv6 even when IPv4-mapped, so a
 * listener on "[::ffff:0.0.0.0]:N" is still an IPv6 socket), or 0 when s is neither form. */
int ip_parse_endpoint(const char *s, ip_addr *addr, uint16_t *port);

/* Longest length of the family: 32 or 128. */
unsigned ip_max_len(const ip_addr *a);
/* "192.0.2.0/24", "2001:db8::/32", or a bare address (a host prefix). Host bits set are an error
 * (a typo in a prefix is more often a mistake than an intent). */
bool ip_prefix_parse(const char *s, ip_prefix *out);
const char *ip_prefix_format(const ip_prefix *p, char buf[IP_PREFIX_STRLEN]);
void ip_prefix_host(ip_prefix *p, const ip_addr *a);
bool ip_prefix_contains(const ip_prefix *p, const ip_addr *a);
static inline bool ip_prefix_equal(const ip_prefix *a, const ip_prefix *b)
{
	return a->len == b->len && ip_equal(&a->addr, &b->addr);
}
/* Clears the bits past len (in the family's own numbering). */
void ip_prefix_mask(ip_prefix *p);

#endif
