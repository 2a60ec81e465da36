/* Cutting an exported flow record into shares over the ticks it lasted (det.h). Integer
 * arithmetic only, so the shares add up to the record exactly whatever the counts. */
#include "det_int.h"

struct det_spread det_spread_plan(const struct flow_record *r, uint64_t tick_ns, uint64_t max_ticks,
				  uint64_t max_parts)
{
	struct det_spread s = {0, 0};
	if (tick_ns == 0)
		return s;
	uint64_t dur = r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0;
	/* dur / tick_ns rounded up, without the overflow of dur + tick_ns - 1 for a bogus end_ns */
	s.ticks = dur / tick_ns + (dur % tick_ns != 0);
	if (s.ticks > max_ticks)
		s.ticks = max_ticks;
	s.parts = s.ticks < max_parts ? s.ticks : max_parts;
	if (s.parts > r->packets)
		s.parts = r->packets;
	return s;
}

uint64_t det_spread_part(const struct det_spread *s, const struct flow_record *r, uint64_t j,
			 struct flow_record *part)
{
	*part = *r;
	uint64_t n = s->parts;
	/* share j is floor((j+1) x / n) - floor(j x / n): the sum telescopes to x */
	part->packets = r->packets * (j + 1) / n - r->packets * j / n;
	part->bytes = r->bytes * (j + 1) / n - r->bytes * j / n;
	return j * s->ticks / n;
}
