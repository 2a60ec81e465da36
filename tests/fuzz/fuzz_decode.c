/* libFuzzer target for the packet decoder. The first byte picks the entry point, the rest is the
 * packet: 0 Ethernet frame, 1 raw IP packet (DLT_RAW, sFlow raw headers), 2 an EtherType then
 * its payload (Linux cooked captures). Beyond "no crash, no read past the end", every record the
 * decoder accepts must keep the contract of cap.h and flow_record.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap.h"
#include "capture/cap_int.h"

#define TS 1700000000123456789ull

static void check(enum cap_decode_result r, const char *why, const struct flow_record *rec)
{
	if ((unsigned)r >= CAP_DECODE_RESULT_COUNT)
		abort();
	if (cap_decode_strerror(r) == NULL)
		abort();
	if (r != CAP_DECODE_OK) {
		if (why == NULL || why[0] == '\0') /* every error names its reason */
			abort();
		return;
	}
	if (rec->packets != 1 || rec->sampling_rate != 1 || rec->source != FLOW_SRC_MIRROR ||
	    rec->start_ns != TS || rec->end_ns != TS)
		abort();
	if (rec->ip_version != 4 && rec->ip_version != 6)
		abort();
	if (rec->vlan > 0x0fff)
		abort();
	if ((rec->flags & ~(FLOW_F_FRAGMENT | FLOW_F_LATER_FRAGMENT)) != 0)
		abort();
	/* a later fragment has no transport header: no ports, no flags */
	if ((rec->flags & FLOW_F_LATER_FRAGMENT) &&
	    (!(rec->flags & FLOW_F_FRAGMENT) || rec->src_port || rec->dst_port || rec->tcp_flags))
		abort();
	if (rec->tcp_flags && rec->protocol != 6)
		abort();
	if (rec->ip_version == 4 && (rec->bytes < 20 || rec->bytes > 65535))
		abort();
	if (rec->ip_version == 6 && (rec->bytes < 40 || rec->bytes > 40 + 65535))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 3;
	data++, size--;
	struct flow_record rec;
	const char *why = NULL;
	enum cap_decode_result r;
	switch (mode) {
	case 0:
		r = cap_decode_ethernet_why(data, size, TS, &rec, &why);
		check(r, why, &rec);
		/* the public entry point agrees with the one that explains itself */
		struct flow_record rec2;
		if (cap_decode_ethernet(data, size, TS, &rec2) != r)
			abort();
		if (r == CAP_DECODE_OK && memcmp(&rec, &rec2, sizeof rec) != 0)
			abort();
		break;
	case 1:
		r = cap_decode_ip_why(data, size, TS, &rec, &why);
		check(r, why, &rec);
		if (cap_decode_ip(data, size, TS, &rec) != r)
			abort();
		break;
	default:
		if (size < 2)
			return 0;
		r = cap_decode_ethertype_why((uint16_t)(data[0] << 8 | data[1]), data + 2, size - 2, TS,
					     &rec, &why);
		check(r, why, &rec);
		break;
	}
	return 0;
}
