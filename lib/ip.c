#include "ip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ip_from_v6(ip_addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
}

uint32_t ip_v4_u32(const ip_addr *a)
{
	return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 | a->b[15];
}

void ip_from_v4_u32(ip_addr *a, uint32_t v)
{
	uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};
	ip_from_v4(a, b);
}

bool ip_is_zero(const ip_addr *a)
{
	static const ip_addr zero;
	return memcmp(a, &zero, sizeof zero) == 0;
}

int ip_compare(const ip_addr *a, const ip_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

bool ip_parse(const char *s, ip_addr *out)
{
	uint8_t buf[16];
	if (inet_pton(AF_INET, s, buf) == 1) {
		ip_from_v4(out, buf);
		return true;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		ip_from_v6(out, buf);
		return true;
	}
	return false;
}

int ip_parse_endpoint(const char *s, ip_addr *addr, uint16_t *port)
{
	char host[IP_STRLEN];
	const char *colon;
	size_t hlen;
	int family;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return 0;
		hlen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
		family = 6;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return 0;
		hlen = (size_t)(colon - s);
		family = 4;
	}
	if (hlen == 0 || hlen >= sizeof host)
		return 0;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	uint8_t buf[16];
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, host, buf) != 1)
		return 0;
	if (family == 4)
		ip_from_v4(addr, buf);
	else
		ip_from_v6(addr, buf);
	const char *p = colon + 1;
	unsigned long n = 0;
	if (*p < '1' || *p > '9')
		return 0; /* no sign, no leading zero, not empty */
	for (; *p >= '0' && *p <= '9' && n <= 65535; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (*p || n > 65535)
		return 0;
	*port = (uint16_t)n;
	return family;
}

const char *ip_format(const ip_addr *a, char buf[IP_STRLEN])
{
	if (ip_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, buf, IP_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, buf, IP_STRLEN);
	return buf;
}

unsigned ip_max_len(const ip_addr *a)
{
	return ip_is_v4(a) ? 32 : 128;
}

/* Bit index in the 128-bit array where the family's own numbering starts. */
static unsigned family_offset(const ip_addr *a)
{
	return ip_is_v4(a) ? 96 : 0;
}

void ip_prefix_mask(ip_prefix *p)
{
	unsigned bits = family_offset(&p->addr) + p->len;
	if (bits >= 128)
		return; /* a host route (/32, /128), most of what is masked: nothing to clear */
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;
		if (bits >= lo + 8)
			continue;
		if (bits <= lo)
			p->addr.b[i] = 0;
		else
			p->addr.b[i] &= (uint8_t)(0xff << (8 - (bits - lo)));
	}
}

bool ip_prefix_parse(const char *s, ip_prefix *out)
{
	char tmp[IP_PREFIX_STRLEN + 8];
	size_t n = strlen(s);
	if (n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n + 1);
	char *slash = strchr(tmp, '/');
	long len = -1;
	if (slash) {
		*slash = 0;
		char *end;
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return false;
		len = strtol(slash + 1, &end, 10);
		if (*end)
			return false;
	}
	ip_addr a;
	if (!ip_parse(tmp, &a))
		return false;
	/* "::ffff:1.2.3.4/120" would be ambiguous; accept only the IPv4 spelling for mapped space. */
	if (ip_is_v4(&a) && strchr(tmp, ':'))
		return false;
	long max = ip_max_len(&a);
	if (len < 0)
		len = max;
	if (len > max)
		return false;
	ip_prefix p = {.addr = a, .len = (uint8_t)len};
	ip_prefix_mask(&p);
	if (!ip_equal(&p.addr, &a))
		return false;
	*out = p;
	return true;
}

const char *ip_prefix_format(const ip_prefix *p, char buf[IP_PREFIX_STRLEN])
{
	char a[IP_STRLEN];
	snprintf(buf, IP_PREFIX_STRLEN, "%s/%u", ip_format(&p->addr, a), p->len);
	return buf;
}

void ip_prefix_host(ip_prefix *p, const ip_addr *a)
{
	p->addr = *a;
	p->len = (uint8_t)ip_max_len(a);
}

bool ip_prefix_contains(const ip_prefix *p, const ip_addr *a)
{
	if (ip_is_v4(&p->addr) != ip_is_v4(a))
		return false;
	ip_prefix q = {.addr = *a, .len = p->len};
	ip_prefix_mask(&q);
	return ip_equal(&q.addr, &p->addr);
}

