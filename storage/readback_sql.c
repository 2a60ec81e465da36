/* The read-back queries (`rampartctl flows ID`, `talkers HOST`, /api/v1/attacks/ID/flows), beside
 * the schema they read (schema.c): a change to the flows table's columns or order changes these
 * in the same module. */
#include <inttypes.h>
#include <stdio.h>

#include "st.h"

/* The 16 bytes as a literal of the column's type: FixedString(16) (v6 false) or IPv6, all
 * eight groups spelled out (IPv4 stays IPv4-mapped, as stored). */
static void fixed16(char out[64], const uint8_t b[16], bool v6)
{
	char *p = out + sprintf(out, v6 ? "CAST('" : "toFixedString(unhex('");
	for (int i = 0; i < 16; i++)
		p += sprintf(p, v6 && i && !(i & 1) ? ":%02x" : "%02x", b[i]);
	sprintf(p, v6 ? "' AS IPv6)" : "'), 16)");
}

/* dst within the prefix: its first and last address (the table is ordered by dst). */
static void dst_range(char *out, size_t outlen, const ip_prefix *pf, bool v6)
{
	ip_addr lo = pf->addr, hi = pf->addr;
	unsigned bits = ip_is_v4(&pf->addr) ? 96u + pf->len : pf->len;
	for (unsigned i = bits; i < 128; i++)
		hi.b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	char a[64], z[64];
	fixed16(a, lo.b, v6);
	fixed16(z, hi.b, v6);
	if (bits == 128)
		snprintf(out, outlen, "dst = %s", a);
	else
		snprintf(out, outlen, "dst >= %s AND dst <= %s", a, z);
}

void st_readback_flows_sql(char *out, size_t outlen, const char *db, const ip_prefix *target, uint64_t from,
		     uint64_t to, uint64_t limit, bool v6)
{
	char range[200];
	dst_range(range, sizeof range, target, v6);
	snprintf(out, outlen,
		 "SELECT toString(start_time, 'UTC'), IPv6NumToString(src), IPv6NumToString(dst), src_port, "
		 "dst_port, protocol, tcp_flags, packets, bytes, sampling_rate, source FROM %s.flows "
		 "WHERE %s AND start_time >= toDateTime(%" PRIu64 ") AND start_time <= toDateTime(%" PRIu64 ") "
		 "ORDER BY packets * sampling_rate DESC, start_time, src LIMIT %" PRIu64 " FORMAT TabSeparated",
		 db, range, from, to, limit);
}

void st_readback_talkers_sql(char *out, size_t outlen, const char *db, const ip_addr *host, uint64_t from, uint64_t to,
		       uint64_t limit, bool v6)
{
	char h[64], where[256];
	fixed16(h, host->b, v6);
	snprintf(where, sizeof where,
		 "dst = %s AND start_time >= toDateTime(%" PRIu64 ") AND start_time < toDateTime(%" PRIu64 ")", h,
		 from, to);
	snprintf(out, outlen,
		 "SELECT * FROM (SELECT 'src', IPv6NumToString(src) AS k, count() AS f, sum(packets * sampling_rate) "
		 "AS p, sum(bytes * sampling_rate) AS b FROM %s.flows WHERE %s GROUP BY k ORDER BY p DESC, k LIMIT %" PRIu64
		 " UNION ALL SELECT 'port', concat(toString(protocol), '/', toString(dst_port)) AS k, count() AS f, "
		 "sum(packets * sampling_rate) AS p, sum(bytes * sampling_rate) AS b FROM %s.flows WHERE %s "
		 "GROUP BY k ORDER BY p DESC, k LIMIT %" PRIu64 ") FORMAT TabSeparated",
		 db, where, limit, db, where, limit);
}

