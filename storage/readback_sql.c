/* The read-back queries (`rampartctl flows ID`, `talkers HOST`, /api/v1/attacks/ID/flows), beside
 * the schema they read (schema.c): a change to the flows table's columns or order changes these
 * in the same module. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "st_int.h"

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


/* Little-endian fields of a RowBinary row (the encoders write them so). */
static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int st_batch_probe_sql(char *out, size_t outlen, const char *db, enum st_table t, const uint8_t *row, size_t len,
		       uint64_t batch_id, bool v6)
{
	/* every table starts date (UInt16 days), time (UInt32 seconds); flows has dst at 34
	 * (after start_nsec, end_time, end_nsec, src), attack_events attack_id at 10 */
	static const size_t need[ST_NTABLES] = {[ST_FLOWS] = 50, [ST_EVENTS] = 18, [ST_OPS] = 6};
	if ((unsigned)t >= ST_NTABLES || len < need[t])
		return -1;
	time_t day = (time_t)((unsigned)row[0] | (unsigned)row[1] << 8) * 86400;
	struct tm tm;
	char date[16], key[160];
	gmtime_r(&day, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	uint32_t secs = le32_at(row + 2);
	if (t == ST_FLOWS) {
		char dst[64];
		fixed16(dst, row + 34, v6);
		snprintf(key, sizeof key, "dst = %s AND start_time = toDateTime(%" PRIu32 ")", dst, secs);
	} else if (t == ST_EVENTS) {
		uint64_t id = le32_at(row + 10) | (uint64_t)le32_at(row + 14) << 32;
		snprintf(key, sizeof key, "attack_id = %" PRIu64 " AND time = toDateTime(%" PRIu32 ")", id, secs);
	} else {
		snprintf(key, sizeof key, "time = toDateTime(%" PRIu32 ")", secs);
	}
	int n = snprintf(out, outlen, "SELECT count() FROM %s.%s WHERE date = '%s' AND %s AND batch_id = %" PRIu64,
			 db, st_table_name[t], date, key, batch_id);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
