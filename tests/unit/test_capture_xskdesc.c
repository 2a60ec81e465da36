/* capture/xskdesc.h: AF_XDP RX descriptors checked against the UMEM before their bytes are read.
 * A descriptor inside one chunk is fine (at the chunk's start, after headroom, ending exactly at
 * the chunk's end); one past the UMEM, one running into the next chunk or past the UMEM's end,
 * and an empty one are refused with a reason; every refused descriptor whose address is inside
 * the UMEM still names its chunk, so the chunk goes back to the fill ring and is not lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capture/xskdesc.h"

#define CHUNK 4096u
#define UMEM (16ull * CHUNK)

static void test_inside_a_chunk(void **state)
{
	(void)state;
	uint64_t c = 99;
	const char *why = NULL;
	assert_true(cap_xsk_desc_ok(0, 60, UMEM, CHUNK, &c, &why));
	assert_int_equal(c, 0);
	assert_true(cap_xsk_desc_ok(5 * CHUNK + 256, 1514, UMEM, CHUNK, &c, &why)); /* after headroom */
	assert_int_equal(c, 5 * CHUNK);
	assert_true(cap_xsk_desc_ok(15 * CHUNK, CHUNK, UMEM, CHUNK, &c, &why)); /* the whole last chunk */
	assert_int_equal(c, 15 * CHUNK);
	assert_null(why);
}

static void test_refused(void **state)
{
	(void)state;
	uint64_t c = 99;
	const char *why = NULL;
	assert_false(cap_xsk_desc_ok(UMEM, 60, UMEM, CHUNK, &c, &why));
	assert_string_equal(why, "descriptor address outside the UMEM");
	assert_false(cap_xsk_desc_ok(UINT64_MAX - 10, 60, UMEM, CHUNK, &c, &why));
	assert_string_equal(why, "descriptor address outside the UMEM");
	c = 99;
	assert_false(cap_xsk_desc_ok(3 * CHUNK + 4000, 200, UMEM, CHUNK, &c, &why)); /* into chunk 4 */
	assert_string_equal(why, "descriptor runs past its chunk");
	assert_int_equal(c, 3 * CHUNK);
	assert_false(cap_xsk_desc_ok(15 * CHUNK + 1, CHUNK, UMEM, CHUNK, &c, &why)); /* past the end */
	assert_string_equal(why, "descriptor runs past its chunk");
	assert_int_equal(c, 15 * CHUNK);
	assert_false(cap_xsk_desc_ok(7 * CHUNK, 0, UMEM, CHUNK, &c, &why));
	assert_string_equal(why, "empty descriptor");
	assert_int_equal(c, 7 * CHUNK);
	assert_false(cap_xsk_desc_ok(7 * CHUNK, UINT32_MAX, UMEM, CHUNK, &c, &why));
	assert_string_equal(why, "descriptor runs past its chunk");
}

/* a UMEM that is not a whole number of chunks: the last partial chunk ends at the UMEM */
static void test_partial_last_chunk(void **state)
{
	(void)state;
	uint64_t c;
	const char *why = NULL;
	assert_true(cap_xsk_desc_ok(UMEM, 100, UMEM + 100, CHUNK, &c, &why));
	assert_false(cap_xsk_desc_ok(UMEM, 101, UMEM + 100, CHUNK, &c, &why));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_a_chunk),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_partial_last_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
