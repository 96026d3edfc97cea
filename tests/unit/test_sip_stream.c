/* SIP framing on a byte stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sip_stream.h"

#define MSG1 "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nContent-Length: 5\r\n\r\nhello"
#define MSG2 "SIP/2.0 200 OK\r\nl :0\r\n\r\n"

static void test_split_anywhere(void **state)
{
	const char both[] = MSG1 MSG2;
	size_t n;
	const char *why;
	(void)state;

	/* Every prefix of the first message needs more; the whole one is a
	 * message of exactly its length, even with the second behind it. */
	for (size_t i = 1; i < strlen(MSG1); i++)
		assert_int_equal(sip_stream_frame(both, i, 65536, &n, &why), SIP_STREAM_NEED_MORE);
	assert_int_equal(sip_stream_frame(both, strlen(both), 65536, &n, &why), SIP_STREAM_MESSAGE);
	assert_int_equal(n, strlen(MSG1));
	assert_int_equal(sip_stream_frame(both + n, strlen(both) - n, 65536, &n, &why),
			 SIP_STREAM_MESSAGE);
	assert_int_equal(n, strlen(MSG2));
}

static void test_keepalive(void **state)
{
	size_t n;
	const char *why;
	(void)state;
	assert_int_equal(sip_stream_frame("\r\n\r\n" MSG2, 4 + strlen(MSG2), 65536, &n, &why),
			 SIP_STREAM_KEEPALIVE);
	assert_int_equal(n, 4);
}

static void test_errors(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n", "no Content-Length on a stream transport" },
		{ "OPTIONS sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n", "bad Content-Length" },
		{ "OPTIONS sip:x SIP/2.0\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length" },
		{ "OPTIONS sip:x SIP/2.0\r\nContent-Length: 9999999999\r\n\r\n", "bad Content-Length" },
		{ "OPTIONS sip:x SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n", "bad Content-Length" },
		{ "OPTIONS sip:x SIP/2.0\r\nContent-Length: 70000\r\n\r\n", "message larger than the limit" },
	};
	size_t n;
	const char *why;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sip_stream_frame(cases[i].in, strlen(cases[i].in), 65536, &n, &why),
				 SIP_STREAM_ERROR);
		assert_string_equal(why, cases[i].why);
	}
	char *big = malloc(70000);
	assert_non_null(big);
	memset(big, 'a', 70000);
	assert_int_equal(sip_stream_frame(big, 70000, 65536, &n, &why), SIP_STREAM_ERROR);
	assert_string_equal(why, "header block larger than the message limit");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_anywhere),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("sip_stream", tests, NULL, NULL);
}
