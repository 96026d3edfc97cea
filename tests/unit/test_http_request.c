/* HTTP request-head parser for the management endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_request.h"

static int parse(const char *s, struct http_request *r)
{
	return http_request_parse(s, strlen(s), 8192, r);
}

static void test_valid(void **state)
{
	struct http_request r;
	const char *req = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nBODY";
	(void)state;

	assert_int_equal(parse(req, &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(r.minor, 1);
	assert_int_equal(r.head_len, strlen(req) - 4);
	assert_int_equal(parse("HEAD /healthz HTTP/1.0\r\n\r\n", &r), 0);
	assert_int_equal(r.minor, 0);
}

static void test_incomplete(void **state)
{
	struct http_request r;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
	(void)state;
	/* Every strict prefix needs more bytes. */
	for (size_t n = 0; n < strlen(req); n++)
		assert_int_equal(http_request_parse(req, n, 8192, &r), -1);
}

static void test_bad(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET /metrics HTTP/1.1\n\n", 400 },             /* bare LF */
		{ " GET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET metrics HTTP/1.1\r\n\r\n", 400 },          /* not origin-form */
		{ "GET /a b HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/1.2\r\n\r\n", 505 },
		{ "GET / FTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: empty\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400 },
		{ "VERYLONGMETHODNAMEXX / HTTP/1.1\r\n\r\n", 400 },
	};
	struct http_request r;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(parse(cases[i].req, &r), cases[i].status);
}

static void test_limits(void **state)
{
	struct http_request r;
	char *buf = malloc(9000);
	(void)state;
	assert_non_null(buf);
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', 300);
	strcpy(buf + 305, " HTTP/1.1\r\n\r\n");
	assert_int_equal(parse(buf, &r), 414);
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	memset(buf + 19, 'a', 8980);
	assert_int_equal(http_request_parse(buf, 8999, 8192, &r), 431);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests_name("http_request", tests, NULL, NULL);
}
