/* Structured log lines: levels, escaping, JSON validity, truncation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"

static const char *const subsys[] = { "core", "sip", "iq" };

static void test_levels(void **state)
{
	unsigned char lv[3];
	char err[128];
	(void)state;

	assert_int_equal(log_levels_parse("debug", subsys, 3, lv, err, sizeof(err)), 0);
	assert_int_equal(lv[0], LOG_DEBUG);
	assert_int_equal(lv[2], LOG_DEBUG);
	assert_int_equal(log_levels_parse("sip=trace,warn", subsys, 3, lv, err, sizeof(err)), 0);
	assert_int_equal(lv[0], LOG_WARN);
	assert_int_equal(lv[1], LOG_TRACE);
	assert_int_equal(lv[2], LOG_WARN);

	static const struct {
		const char *spec, *err;
	} bad[] = {
		{ "loud", "unknown level \"loud\" (error, warn, info, debug, trace)" },
		{ "rtp=debug", "unknown subsystem \"rtp\"" },
		{ "sip=loud", "unknown level \"loud\" for sip" },
		{ "info,,sip=debug", "empty item in level list" },
		{ "info,", "empty item in level list" },
		{ "info,debug", "more than one default level" },
		{ "", "" },
	};
	for (size_t i = 0; bad[i].spec[0]; i++) {
		lv[0] = 99;
		assert_int_not_equal(log_levels_parse(bad[i].spec, subsys, 3, lv, err, sizeof(err)), 0);
		assert_string_equal(err, bad[i].err);
		assert_int_equal(lv[0], 99); /* unchanged on error */
	}
}

static void test_logfmt(void **state)
{
	char buf[512];
	struct log_ids ids = { .call_id = "a84b4c76e66710@pc33", .session_id = "s1" };
	struct log_field f[] = { LF_S("reason", "bad \"quote\"\nnext"), LF_I("code", -4),
				 LF_U("n", 7), LF_S("empty", ""), LF_S("bin", "\x01\xff") };
	(void)state;

	log_format_line(buf, sizeof(buf), LOG_FORMAT_LOGFMT, "T", "info", "sip", &ids,
			"call failed", f, 5);
	assert_string_equal(buf,
		"ts=T level=info subsys=sip call_id=a84b4c76e66710@pc33 session=s1 "
		"msg=\"call failed\" reason=\"bad \\\"quote\\\"\\nnext\" code=-4 n=7 "
		"empty=\"\" bin=\"\\x01\\xff\"\n");
}

static void test_counted_string(void **state)
{
	char buf[256];
	/* A network buffer: not terminated, with a NUL inside. */
	const char net[] = { 'S', 'I', 'P', '\0', 'x', '\r', '\n', 'Z', 'Z' };
	struct log_field f[] = { LF_SN("sip", net, 7) };
	(void)state;

	log_format_line(buf, sizeof(buf), LOG_FORMAT_LOGFMT, "T", "trace", "sip", NULL, "m", f, 1);
	assert_string_equal(buf, "ts=T level=trace subsys=sip msg=m sip=\"SIP\\x00x\\r\\n\"\n");
	log_format_line(buf, sizeof(buf), LOG_FORMAT_JSON, "T", "trace", "sip", NULL, "m", f, 1);
	assert_string_equal(buf, "{\"ts\":\"T\",\"level\":\"trace\",\"subsys\":\"sip\",\"msg\":\"m\","
				 "\"sip\":\"SIP\\u0000x\\r\\n\"}\n");
}

static void test_json(void **state)
{
	char buf[512];
	struct log_field f[] = { LF_S("reason", "tab\there \xc3\xa9 \xed\xa0\x80"),
				 LF_I("code", 488) };
	(void)state;

	log_format_line(buf, sizeof(buf), LOG_FORMAT_JSON, "T", "warn", "core", NULL,
			"x", f, 2);
	assert_string_equal(buf,
		"{\"ts\":\"T\",\"level\":\"warn\",\"subsys\":\"core\",\"msg\":\"x\","
		"\"reason\":\"tab\\there \xc3\xa9 \\ufffd\\ufffd\\ufffd\",\"code\":488}\n");
}

static void test_truncation_drops_whole_field(void **state)
{
	char buf[256], big[400];
	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct log_field f[] = { LF_I("a", 1), LF_S("huge", big), LF_I("b", 2) };

	log_format_line(buf, sizeof(buf), LOG_FORMAT_JSON, "T", "info", "core", NULL,
			"m", f, 3);
	assert_string_equal(buf, "{\"ts\":\"T\",\"level\":\"info\",\"subsys\":\"core\","
				 "\"msg\":\"m\",\"a\":1,\"truncated\":\"huge\"}\n");
	log_format_line(buf, sizeof(buf), LOG_FORMAT_LOGFMT, "T", "info", "core", NULL,
			"m", f, 3);
	assert_string_equal(buf, "ts=T level=info subsys=core msg=m a=1 truncated=huge\n");
}

static void test_macro_filters_by_level(void **state)
{
	struct log lg;
	char *out = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(log_init(&lg, "t", subsys, 3), 0);
	lg.out = open_memstream(&out, &len);
	assert_non_null(lg.out);
	lg.level[1] = LOG_WARN;
	log_info(&lg, 1, NULL, "hidden");
	log_warn(&lg, 1, NULL, "shown", LF_S("k", "v"));
	log_info(&lg, 0, NULL, "core shown");
	log_error(&lg, 7, NULL, "bad subsystem is dropped");
	fclose(lg.out);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "level=warn subsys=sip msg=shown k=v\n"));
	assert_non_null(strstr(out, "msg=\"core shown\""));
	assert_null(strstr(out, "dropped"));
	free(out);
	assert_int_equal(log_init(&lg, "t", subsys, LOG_MAX_SUBSYS + 1), EINVAL);
}

static void test_worker_field(void **state)
{
	struct log lg;
	char *out = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(log_init(&lg, "t", subsys, 3), 0);
	lg.out = open_memstream(&out, &len);
	assert_non_null(lg.out);
	log_info(&lg, 0, NULL, "before");
	lg.is_worker = true;
	lg.worker = 3;
	log_info(&lg, 0, NULL, "plain");
	log_info(&lg, 1, NULL, "with", LF_S("k", "v"), LF_I("n", -2));
	lg.format = LOG_FORMAT_JSON;
	log_info(&lg, 0, NULL, "json");
	fclose(lg.out);
	assert_non_null(strstr(out, "msg=before\n"));
	assert_non_null(strstr(out, "msg=plain worker=3\n"));
	assert_non_null(strstr(out, "msg=with k=v n=-2 worker=3\n"));
	assert_non_null(strstr(out, "\"msg\":\"json\",\"worker\":3}\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_field),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_logfmt),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_counted_string),
		cmocka_unit_test(test_truncation_drops_whole_field),
		cmocka_unit_test(test_macro_filters_by_level),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
