/* Batches in doubt: an insert ended without an answer (ClickHouse killed mid-POST, a timeout)
 * and the spool could not take the batch (budget or disk full). ClickHouse may have stored it,
 * so counting it as dropped could be wrong, and so could counting it as written. Only its id,
 * row count and first row's leading bytes are kept (not the rows: memory stays fixed), and once
 * ClickHouse answers again the writer asks it (st_ch_batch_stored) and counts the batch as
 * written or as dropped. A fixed ring: ST_DOUBT_MAX entries cover many outages' worth, as only
 * the inserts in flight at a failure (posts_in_flight, at most 4) can end in doubt. */
#include <string.h>

#include "st_int.h"

bool st_doubt_add(struct st_doubt *d, enum st_table t, uint64_t batch_id, uint32_t rows, const uint8_t *body,
		  size_t len)
{
	if (d->n == ST_DOUBT_MAX)
		return false;
	struct st_doubt_entry *e = &d->e[(d->head + d->n) % ST_DOUBT_MAX];
	e->table = t;
	e->batch_id = batch_id;
	e->rows = rows;
	e->row_len = len < ST_DOUBT_ROW ? len : ST_DOUBT_ROW;
	memcpy(e->row, body, e->row_len);
	d->n++;
	return true;
}

const struct st_doubt_entry *st_doubt_oldest(const struct st_doubt *d)
{
	return d->n ? &d->e[d->head] : NULL;
}

void st_doubt_pop(struct st_doubt *d)
{
	if (!d->n)
		return;
	d->head = (d->head + 1) % ST_DOUBT_MAX;
	d->n--;
}
