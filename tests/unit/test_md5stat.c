/* The TCP MD5 counters read from /proc/net/netstat (bgp/md5stat.c): byte vectors of the file as
 * Linux writes it, and what must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

static int parse(const char *text, struct bgp_md5_counters *c)
{
	memset(c, 0xab, sizeof *c);
	return bgp_md5_parse_netstat(text, strlen(text), c);
}

/* The shape of a Linux 6.1 file: TcpExt first, the three MD5 fields among ~120, IpExt after. */
static void test_linux_file(void **state)
{
	(void)state;
	const char *t = "TcpExt: SyncookiesSent SyncookiesRecv TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted\n"
			"TcpExt: 0 7 12 3 45 9\n"
			"IpExt: InNoRoutes InTruncatedPkts TCPMD5Failure\n"
			"IpExt: 0 0 999\n";
	struct bgp_md5_counters c;
	assert_int_equal(parse(t, &c), 0);
	assert_int_equal(c.not_found, 12);
	assert_int_equal(c.unexpected, 3);
	assert_int_equal(c.failure, 45); /* TcpExt's, not a same-named field of another section */
	/* IpExt before TcpExt, no final newline, several spaces, 64-bit values */
	t = "IpExt: InNoRoutes\nIpExt: 4\nTcpExt:  TCPMD5Failure   TCPMD5NotFound TCPMD5Unexpected\n"
	    "TcpExt:  18446744073709551615   0 1";
	assert_int_equal(parse(t, &c), 0);
	assert_true(c.failure == UINT64_MAX);
	assert_int_equal(c.not_found, 0);
	assert_int_equal(c.unexpected, 1);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"IpExt: InNoRoutes\nIpExt: 4\n",                                    /* no TcpExt */
		"TcpExt: TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\n",          /* names, no values */
		"TcpExt: TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nIpExt: 1 2 3\n", /* not its values */
		"TcpExt: TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nTcpExt: 1 2\n", /* one value short */
		"TcpExt: TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nTcpExt: 1 x 3\n",
		"TcpExt: TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nTcpExt: 1 -2 3\n",
		"TcpExt: TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nTcpExt: 1 2 18446744073709551616\n",
		"TcpExt: TCPMD5NotFound TCPMD5Failure\nTcpExt: 1 3\n", /* an old kernel: one missing */
		"TcpExt:\nTcpExt:\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct bgp_md5_counters c;
		if (parse(bad[i], &c) != -1)
			fail_msg("accepted case %zu: \"%s\"", i, bad[i]);
	}
}

/* This machine's own file: it has the three (every kernel since 2.6.28 does). */
static void test_this_kernel(void **state)
{
	(void)state;
	struct bgp_md5_counters c;
	assert_int_equal(bgp_md5_counters_read(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_file),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_this_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
