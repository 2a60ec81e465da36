/* storage/: what the writer asks ClickHouse about a batch whose insert got no answer. The
 * probe's SQL from the rows' own RowBinary bytes (the encoders' output, so a change of column
 * order breaks it here), and the fixed ring of batches in doubt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/ip.h"
#include "storage/st.h"
#include "storage/st_int.h"

/* 2023-11-14 22:13:20 UTC: day 19675, second 1700000000 */
#define T_NS 1700000000123456789ull

static void test_probe_flows(void **state)
{
	(void)state;
	struct flow_record r = {.start_ns = T_NS, .end_ns = T_NS + 1000, .packets = 7};
	assert_true(ip_parse("192.0.2.65", &r.src) && ip_parse("2001:db8::1", &r.dst));
	uint8_t buf[256];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	st_rowbinary_flow(&w, &r);
	char sql[600];
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "rampart", ST_FLOWS, buf, w.len, 77, false), 0);
	assert_string_equal(sql, "SELECT count() FROM rampart.flows WHERE date = '2023-11-14' AND "
				 "dst = toFixedString(unhex('20010db8000000000000000000000001'), 16) AND "
				 "start_time = toDateTime(1700000000) AND batch_id = 77");
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "rampart", ST_FLOWS, buf, w.len, 77, true), 0);
	assert_non_null(strstr(sql, "dst = CAST('2001:0db8:0000:0000:0000:0000:0000:0001' AS IPv6) AND "));
	/* a row cut before the end of dst, or an out buffer too small: refused, not guessed */
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "rampart", ST_FLOWS, buf, 49, 77, false), -1);
	assert_int_equal(st_batch_probe_sql(sql, 40, "rampart", ST_FLOWS, buf, w.len, 77, false), -1);
}

static void test_probe_events(void **state)
{
	(void)state;
	struct st_attack_event ev = {.time_ns = T_NS, .attack_id = 0x0102030405060708ull};
	uint8_t buf[1024];
	struct wbuf w = wbuf_init(buf, sizeof buf);
	st_rowbinary_event(&w, &ev);
	char sql[600];
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "db2", ST_EVENTS, buf, w.len, 5, false), 0);
	assert_string_equal(sql, "SELECT count() FROM db2.attack_events WHERE date = '2023-11-14' AND "
				 "attack_id = 72623859790382856 AND time = toDateTime(1700000000) AND batch_id = 5");
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "db2", ST_EVENTS, buf, 17, 5, false), -1);

	struct st_operator_event op = {.time_ns = T_NS, .uid = 0, .pid = 1};
	w = wbuf_init(buf, sizeof buf);
	st_rowbinary_operator_event(&w, &op);
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "db2", ST_OPS, buf, w.len, 6, false), 0);
	assert_string_equal(sql, "SELECT count() FROM db2.operator_events WHERE date = '2023-11-14' AND "
				 "time = toDateTime(1700000000) AND batch_id = 6");
	assert_int_equal(st_batch_probe_sql(sql, sizeof sql, "db2", ST_NTABLES, buf, w.len, 6, false), -1);
}

static void test_doubt_ring(void **state)
{
	(void)state;
	static struct st_doubt d; /* ~20 KB: not on the stack */
	memset(&d, 0, sizeof d);
	assert_null(st_doubt_oldest(&d));
	uint8_t row[100];
	for (unsigned i = 0; i < sizeof row; i++)
		row[i] = (uint8_t)i;
	/* fills to ST_DOUBT_MAX and refuses the next (the writer then counts it dropped) */
	for (unsigned i = 0; i < ST_DOUBT_MAX; i++)
		assert_true(st_doubt_add(&d, i % 2 ? ST_EVENTS : ST_FLOWS, 1000 + i, i, row, i % 3 ? sizeof row : 10));
	assert_false(st_doubt_add(&d, ST_FLOWS, 1, 1, row, sizeof row));
	/* oldest first, the first row's leading bytes kept (at most ST_DOUBT_ROW) */
	for (unsigned i = 0; i < 10; i++) {
		const struct st_doubt_entry *e = st_doubt_oldest(&d);
		assert_non_null(e);
		assert_int_equal(e->batch_id, 1000 + i);
		assert_int_equal(e->rows, i);
		assert_int_equal(e->table, i % 2 ? ST_EVENTS : ST_FLOWS);
		assert_int_equal(e->row_len, i % 3 ? ST_DOUBT_ROW : 10);
		assert_memory_equal(e->row, row, e->row_len);
		st_doubt_pop(&d);
	}
	/* room again, and the ring wraps */
	assert_true(st_doubt_add(&d, ST_OPS, 9, 9, row, 6));
	while (d.n > 1)
		st_doubt_pop(&d);
	assert_int_equal(st_doubt_oldest(&d)->batch_id, 9);
	st_doubt_pop(&d);
	assert_null(st_doubt_oldest(&d));
	st_doubt_pop(&d); /* empty: nothing happens */
	assert_int_equal(d.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_flows),
		cmocka_unit_test(test_probe_events),
		cmocka_unit_test(test_doubt_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
