/* lib/json.c: the HTTP API's command body, byte vectors for what is taken and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"

static int get(const char *text, char *out, size_t outlen, const char **why)
{
	return json_object_string(text, strlen(text), "command", out, outlen, why);
}

static void test_takes_the_command(void **state)
{
	(void)state;
	char out[256];
	const char *why = NULL;
	assert_int_equal(get("{\"command\":\"ban 192.0.2.61 --for 60\"}", out, sizeof out, &why), 0);
	assert_string_equal(out, "ban 192.0.2.61 --for 60");
	assert_int_equal(get(" \r\n\t{ \"x\" : [1, -2.5e+3, {\"a\": null}, true, false, \"s\"], \"command\" : \"bans\" }\n",
			     out, sizeof out, &why), 0);
	assert_string_equal(out, "bans");
	/* escapes decoded, \u to UTF-8, a surrogate pair to one 4-byte sequence */
	assert_int_equal(get("{\"command\":\"a\\\"b\\\\c\\/d\\te\\u00e9\\ud83d\\ude00\"}", out, sizeof out, &why), 0);
	assert_string_equal(out, "a\"b\\c/d\te\xc3\xa9\xf0\x9f\x98\x80");
	/* raw UTF-8 passes */
	assert_int_equal(get("{\"command\":\"caf\xc3\xa9\"}", out, sizeof out, &why), 0);
	assert_string_equal(out, "caf\xc3\xa9");
	/* an escaped key is the same member */
	assert_int_equal(get("{\"comm\\u0061nd\":\"stats\"}", out, sizeof out, &why), 0);
	assert_string_equal(out, "stats");
	/* exactly fits: 3 bytes and the NUL */
	assert_int_equal(get("{\"command\":\"abc\"}", out, 4, &why), 0);
	assert_string_equal(out, "abc");
}

static void test_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"ban 192.0.2.61 --for 60",                  /* the text/plain body of #16 */
		"command=ban+192.0.2.61",                   /* a form */
		"\"ban 192.0.2.61\"",                       /* a JSON string, not an object */
		"[\"command\",\"bans\"]",
		"",
		"{",
		"{}",                                        /* no member */
		"{\"cmd\":\"bans\"}",
		"{\"command\":1}",                           /* not a string */
		"{\"command\":null}",
		"{\"command\":[\"bans\"]}",
		"{\"command\":\"bans\",\"command\":\"ban 192.0.2.1\"}", /* twice */
		"{\"command\":\"bans\",\"comm\\u0061nd\":\"ban 192.0.2.1\"}",
		"{\"command\":\"bans\"} x",                  /* trailing text */
		"{\"command\":\"bans\"}{}",
		"{\"command\":\"bans\",}",                   /* trailing comma */
		"{\"command\" \"bans\"}",
		"{'command':'bans'}",
		"{\"command\":\"ba\nns\"}",                  /* raw control character */
		"{\"command\":\"a\\u0000b\"}",               /* NUL */
		"{\"command\":\"\\ud800\"}",                 /* lone surrogates */
		"{\"command\":\"\\udc00x\"}",
		"{\"command\":\"\\uZZZZ\"}",
		"{\"command\":\"\\x41\"}",
		"{\"command\":\"\xc3\"}",                    /* truncated UTF-8 */
		"{\"command\":\"\xc0\xaf\"}",                /* overlong */
		"{\"command\":\"\xed\xa0\x80\"}",            /* encoded surrogate */
		"{\"command\":\"bans\",\"n\":01}",           /* leading zero */
		"{\"command\":\"bans\",\"n\":1.}",
		"{\"command\":\"bans\",\"n\":-}",
		"{\"command\":\"bans\",\"n\":tru}",
		"{\"command\":\"unterminated}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[64] = "x";
		const char *why = NULL;
		if (get(bad[i], out, sizeof out, &why) != -1)
			fail_msg("taken: %s", bad[i]);
		assert_non_null(why);
		assert_string_equal(out, ""); /* nothing half-decoded is left behind */
	}
	/* too long for the buffer */
	char small[4];
	const char *why = NULL;
	assert_int_equal(get("{\"command\":\"abcd\"}", small, sizeof small, &why), -1);
	assert_string_equal(why, "string too long");
}

static void test_depth_bounded(void **state)
{
	(void)state;
	char text[4096], out[16];
	size_t n = 0;
	n += (size_t)sprintf(text + n, "{\"x\":");
	for (int i = 0; i < 1000; i++)
		text[n++] = '[';
	for (int i = 0; i < 1000; i++)
		text[n++] = ']';
	n += (size_t)sprintf(text + n, ",\"command\":\"bans\"}");
	const char *why = NULL;
	assert_int_equal(json_object_string(text, n, "command", out, sizeof out, &why), -1);
	assert_string_equal(why, "nested too deep");
	/* 20 deep is fine */
	n = (size_t)sprintf(text, "{\"x\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],\"command\":\"bans\"}");
	assert_int_equal(json_object_string(text, n, "command", out, sizeof out, &why), 0);
	assert_string_equal(out, "bans");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_takes_the_command),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_depth_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
