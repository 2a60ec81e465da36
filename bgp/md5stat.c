/* The kernel's TCP MD5 (RFC 2385) counters of this network namespace. A peer whose segments are
 * refused for a missing or wrong signature never reaches BGP: the kernel drops them, and the only
 * trace is in /proc/net/netstat (TcpExt TCPMD5NotFound, TCPMD5Unexpected, TCPMD5Failure), which
 * is what an operator needs to tell "wrong password" from "peer down".
 *
 * /proc/net/netstat is pairs of lines, "Prefix: name name ..." then "Prefix: value value ...". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/num.h"
#include "bgp.h"

#define LINE_MAX_FIELDS 256

/* The next line of [p, end) as [*ls, *le); false at the end. */
static bool next_line(const char **p, const char *end, const char **ls, const char **le)
{
	if (*p >= end)
		return false;
	*ls = *p;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*le = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	return true;
}

/* Field i (0 = the "TcpExt:" prefix) of the line, space separated, into out (NUL-terminated). */
static bool field(const char *ls, const char *le, unsigned i, char *out, size_t outlen)
{
	const char *p = ls;
	for (unsigned k = 0;; k++) {
		while (p < le && *p == ' ')
			p++;
		if (p >= le)
			return false;
		const char *s = p;
		while (p < le && *p != ' ')
			p++;
		if (k == i) {
			size_t n = (size_t)(p - s);
			if (n >= outlen)
				return false;
			memcpy(out, s, n);
			out[n] = '\0';
			return true;
		}
	}
}

int bgp_md5_parse_netstat(const char *text, size_t len, struct bgp_md5_counters *out)
{
	static const char *const names[] = {"TCPMD5NotFound", "TCPMD5Unexpected", "TCPMD5Failure"};
	uint64_t *dst[] = {&out->not_found, &out->unexpected, &out->failure};
	bool seen[3] = {false, false, false};
	const char *p = text, *end = text + len;
	const char *ns, *ne, *vs, *ve;
	while (next_line(&p, end, &ns, &ne)) {
		if ((size_t)(ne - ns) < 7 || memcmp(ns, "TcpExt:", 7) != 0)
			continue;
		if (!next_line(&p, end, &vs, &ve) || (size_t)(ve - vs) < 7 || memcmp(vs, "TcpExt:", 7) != 0)
			return -1; /* a names line without its values */
		for (unsigned i = 1; i < LINE_MAX_FIELDS; i++) {
			char name[64], value[32];
			if (!field(ns, ne, i, name, sizeof name))
				break;
			for (unsigned k = 0; k < 3; k++) {
				if (strcmp(name, names[k]) != 0)
					continue;
				if (!field(vs, ve, i, value, sizeof value) || !num_parse_u64(value, dst[k]))
					return -1;
				seen[k] = true;
			}
		}
		break;
	}
	/* kernels since 2.6.28 have all three; without them there is nothing to report */
	return seen[0] && seen[1] && seen[2] ? 0 : -1;
}

int bgp_md5_counters_read(struct bgp_md5_counters *out)
{
	FILE *f = fopen("/proc/net/netstat", "r");
	if (!f)
		return -1;
	char buf[16384];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return bgp_md5_parse_netstat(buf, n, out);
}
