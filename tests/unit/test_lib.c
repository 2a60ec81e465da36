/* lib/: addresses and prefixes, bounded readers and writers, the SPSC ring. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/ip.h"
#include "lib/num.h"
#include "lib/path.h"
#include "lib/spsc.h"

static void test_ip_parse_format(void **state)
{
	(void)state;
	ip_addr a;
	char buf[IP_STRLEN];
	assert_true(ip_parse("192.0.2.10", &a));
	assert_true(ip_is_v4(&a));
	assert_int_equal(ip_v4_u32(&a), 0xC000020A);
	assert_string_equal(ip_format(&a, buf), "192.0.2.10");
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10};
	assert_memory_equal(a.b, mapped, 16);

	assert_true(ip_parse("2001:db8:10::53", &a));
	assert_false(ip_is_v4(&a));
	assert_string_equal(ip_format(&a, buf), "2001:db8:10::53");
	assert_int_equal(a.b[0], 0x20);
	assert_int_equal(a.b[15], 0x53);

	assert_false(ip_parse("192.0.2", &a));
	assert_false(ip_parse("192.0.2.256", &a));
	assert_false(ip_parse("", &a));
	assert_false(ip_parse("2001:db8::1::2", &a));
	assert_false(ip_parse("192.0.2.1/32", &a));
}

static void test_prefix_parse(void **state)
{
	(void)state;
	ip_prefix p;
	char buf[IP_PREFIX_STRLEN];
	assert_true(ip_prefix_parse("192.0.2.0/24", &p));
	assert_int_equal(p.len, 24);
	assert_string_equal(ip_prefix_format(&p, buf), "192.0.2.0/24");
	assert_true(ip_prefix_parse("2001:db8:10::/48", &p));
	assert_int_equal(p.len, 48);
	assert_string_equal(ip_prefix_format(&p, buf), "2001:db8:10::/48");
	assert_true(ip_prefix_parse("192.0.2.7", &p)); /* a bare address is a host prefix */
	assert_int_equal(p.len, 32);
	assert_true(ip_prefix_parse("::/0", &p));
	assert_int_equal(p.len, 0);
	assert_true(ip_prefix_parse("0.0.0.0/0", &p));
	assert_true(ip_is_v4(&p.addr));

	assert_false(ip_prefix_parse("192.0.2.1/24", &p)); /* host bits set */
	assert_false(ip_prefix_parse("192.0.2.0/33", &p));
	assert_false(ip_prefix_parse("2001:db8::/129", &p));
	assert_false(ip_prefix_parse("192.0.2.0/", &p));
	assert_false(ip_prefix_parse("192.0.2.0/-1", &p));
	assert_false(ip_prefix_parse("192.0.2.0/2x", &p));
	assert_false(ip_prefix_parse("::ffff:192.0.2.0/120", &p)); /* mapped space only as IPv4 */
}

static void test_prefix_contains(void **state)
{
	(void)state;
	ip_prefix net, v6, all4;
	ip_addr a;
	assert_true(ip_prefix_parse("192.0.2.128/25", &net));
	assert_true(ip_prefix_parse("2001:db8:10::/48", &v6));
	assert_true(ip_prefix_parse("0.0.0.0/0", &all4));
	assert_true(ip_parse("192.0.2.200", &a));
	assert_true(ip_prefix_contains(&net, &a));
	assert_true(ip_prefix_contains(&all4, &a));
	assert_false(ip_prefix_contains(&v6, &a));
	assert_true(ip_parse("192.0.2.127", &a));
	assert_false(ip_prefix_contains(&net, &a));
	assert_true(ip_parse("2001:db8:10:ffff::1", &a));
	assert_true(ip_prefix_contains(&v6, &a));
	assert_false(ip_prefix_contains(&all4, &a)); /* 0.0.0.0/0 is IPv4 only */
	assert_true(ip_parse("2001:db8:11::1", &a));
	assert_false(ip_prefix_contains(&v6, &a));
}

static void test_hash_spreads_a_subnet(void **state)
{
	(void)state;
	/* 256 hosts of one /24 must land in many different buckets of a small table */
	int used[64] = {0};
	for (int i = 0; i < 256; i++) {
		ip_addr a;
		ip_from_v4_u32(&a, 0xC0000200u | (uint32_t)i);
		used[ip_hash(&a) & 63]++;
	}
	int empty = 0;
	for (int i = 0; i < 64; i++)
		empty += used[i] == 0;
	assert_true(empty < 8);
}

static void test_rbuf_bounds(void **state)
{
	(void)state;
	const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	struct rbuf r = rbuf_init(data, sizeof data);
	assert_int_equal(rbuf_u8(&r), 1);
	assert_int_equal(rbuf_u16(&r), 0x0203);
	assert_int_equal(rbuf_u32(&r), 0x04050607);
	assert_false(r.err);
	assert_int_equal(rbuf_left(&r), 0);
	assert_int_equal(rbuf_u8(&r), 0); /* past the end: zero and err, no read */
	assert_true(r.err);
	assert_int_equal(rbuf_u32(&r), 0);

	r = rbuf_init(data, sizeof data);
	assert_int_equal(rbuf_uint(&r, 3), 0x010203);
	struct rbuf sub = rbuf_sub(&r, 2);
	assert_int_equal(rbuf_u16(&sub), 0x0405);
	assert_int_equal(rbuf_u8(&sub), 0);
	assert_true(sub.err);
	assert_false(r.err); /* the parent is unharmed by its child's overrun */
	assert_int_equal(rbuf_left(&r), 2);
	struct rbuf big = rbuf_sub(&r, 3); /* more than is left */
	assert_true(big.err);
	assert_true(r.err);
	r = rbuf_init(data, sizeof data);
	assert_int_equal(rbuf_uint(&r, 9), 0);
	assert_true(r.err);
}

static void test_wbuf_overflow(void **state)
{
	(void)state;
	uint8_t out[6];
	struct wbuf w = wbuf_init(out, sizeof out);
	size_t at = wbuf_reserve(&w, 2);
	wbuf_u32(&w, 0xdeadbeef);
	wbuf_put_u16_at(&w, at, 0x0102);
	assert_false(w.err);
	const uint8_t want[] = {1, 2, 0xde, 0xad, 0xbe, 0xef};
	assert_memory_equal(out, want, 6);
	wbuf_u8(&w, 9);
	assert_true(w.err);
	assert_int_equal(w.len, 6);
	uint8_t le[8];
	w = wbuf_init(le, sizeof le);
	wbuf_le64(&w, 0x0102030405060708ull);
	const uint8_t want_le[] = {8, 7, 6, 5, 4, 3, 2, 1};
	assert_memory_equal(le, want_le, 8);
}

struct ring_test {
	struct spsc *q;
	uint64_t n;
};

static void *producer(void *arg)
{
	struct ring_test *t = arg;
	for (uint64_t i = 1; i <= t->n;) {
		if (spsc_push(t->q, &i))
			i++;
	}
	return NULL;
}

static void test_spsc_order_across_threads(void **state)
{
	(void)state;
	struct ring_test t = {.q = spsc_new(1000, sizeof(uint64_t)), .n = 2000000};
	assert_non_null(t.q);
	assert_int_equal(spsc_capacity(t.q), 1024);
	pthread_t th;
	pthread_create(&th, NULL, producer, &t);
	uint64_t expect = 1, v;
	while (expect <= t.n) {
		if (spsc_pop(t.q, &v)) {
			assert_int_equal(v, expect);
			expect++;
		}
	}
	pthread_join(th, NULL);
	assert_false(spsc_pop(t.q, &v));
	spsc_free(t.q);
}

static void test_spsc_full(void **state)
{
	(void)state;
	struct spsc *q = spsc_new(4, sizeof(int));
	for (int i = 0; i < 4; i++)
		assert_true(spsc_push(q, &i));
	int x = 99;
	assert_false(spsc_push(q, &x));
	assert_int_equal(spsc_count(q), 4);
	assert_true(spsc_pop(q, &x));
	assert_int_equal(x, 0);
	assert_true(spsc_push(q, &x));
	spsc_free(q);
}

static void test_endpoint(void **state)
{
	(void)state;
	ip_addr a;
	uint16_t port;
	char buf[IP_STRLEN];
	assert_int_equal(ip_parse_endpoint("127.0.0.1:8080", &a, &port), 4);
	assert_string_equal(ip_format(&a, buf), "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(ip_parse_endpoint("[::1]:179", &a, &port), 6);
	assert_string_equal(ip_format(&a, buf), "::1");
	assert_int_equal(port, 179);
	assert_int_equal(ip_parse_endpoint("[::]:65535", &a, &port), 6);
	assert_int_equal(port, 65535);
	static const char *const bad[] = {
		"", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:080",
		"127.0.0.1:+80", "127.0.0.1:80x", "::1:80", "[::1]80", "[::1]", "[127.0.0.1]:80",
		"[::1:80", "host:80", "1.2.3.4.5:80", "127.0.0.1:99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ip_parse_endpoint(bad[i], &a, &port) != 0)
			fail_msg("'%s' was accepted", bad[i]);
}

static void test_mkdir_p(void **state)
{
	(void)state;
	char base[] = "/tmp/rampart-path.XXXXXX", dir[256], file[256], err[256];
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof dir, "%s/a/b/c", base);
	assert_int_equal(path_mkdir_p(dir, 0750, err, sizeof err), 0);
	assert_int_equal(path_mkdir_p(dir, 0750, err, sizeof err), 0); /* again: nothing to do */
	snprintf(file, sizeof file, "%s/x/y/sock", base);
	assert_int_equal(path_mkdir_parent(file, 0755, err, sizeof err), 0);
	snprintf(dir, sizeof dir, "%s/x/y", base);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* a file where a directory must go */
	snprintf(file, sizeof file, "%s/plain", base);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(dir, sizeof dir, "%s/plain/sub", base);
	assert_int_equal(path_mkdir_p(dir, 0750, err, sizeof err), -1);
	assert_non_null(strstr(err, "plain"));
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", base);
	assert_int_equal(system(cmd), 0);
}

static void test_num_parse_u64(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_true(num_parse_u64("0", &v));
	assert_int_equal(v, 0);
	assert_true(num_parse_u64("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
	assert_true(num_parse_u64("100", &v));
	assert_int_equal(v, 100);
	v = 7;
	static const char *bad[] = {"", "0100", "18446744073709551616", "99999999999999999999", "-1", "+1",
				    " 1", "1 ", "1x", "0x10", "1.5"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(num_parse_u64(bad[i], &v));
	assert_int_equal(v, 7); /* untouched on refusal */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_ip_parse_format),  cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_contains),  cmocka_unit_test(test_hash_spreads_a_subnet),
		cmocka_unit_test(test_rbuf_bounds),      cmocka_unit_test(test_wbuf_overflow),
		cmocka_unit_test(test_spsc_order_across_threads), cmocka_unit_test(test_spsc_full),
		cmocka_unit_test(test_num_parse_u64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
