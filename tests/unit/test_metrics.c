/* Prometheus registry and renderer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"

static double forty_two(void *arg)
{
	(void)arg;
	return 42.5;
}

static void test_render(void **state)
{
	struct metrics m;
	char *text;
	size_t len;
	(void)state;

	metrics_init(&m, 100);
	struct metric *inv = metrics_add(&m, "sip_requests_total", "SIP requests.",
					 METRIC_COUNTER, "method", "INVITE", (const char *)NULL);
	struct metric *g = metrics_add(&m, "sessions", "Live sessions.", METRIC_GAUGE,
				       (const char *)NULL);
	struct metric *reg = metrics_add(&m, "sip_requests_total", "SIP requests.",
					 METRIC_COUNTER, "method", "REG\"IS\\TER\n",
					 (const char *)NULL);
	assert_non_null(metrics_add_fn(&m, "cpu", "CPU.", METRIC_GAUGE, forty_two, NULL));
	metric_inc(inv);
	metric_add(reg, 3);
	metric_set(g, -2);
	metric_inc(NULL); /* a failed registration counts nothing, safely */
	assert_int_equal(metrics_render(&m, &text, &len), 0);
	assert_string_equal(text,
		"# HELP sip_requests_total SIP requests.\n"
		"# TYPE sip_requests_total counter\n"
		"sip_requests_total{method=\"INVITE\"} 1\n"
		"sip_requests_total{method=\"REG\\\"IS\\\\TER\\n\"} 3\n"
		"# HELP sessions Live sessions.\n"
		"# TYPE sessions gauge\n"
		"sessions -2\n"
		"# HELP cpu CPU.\n"
		"# TYPE cpu gauge\n"
		"cpu 42.5\n");
	assert_int_equal(len, strlen(text));
	free(text);
	metrics_free(&m);
}

static void test_limits_and_names(void **state)
{
	struct metrics m;
	char *text;
	size_t len;
	(void)state;

	metrics_init(&m, 3);
	assert_null(metrics_add(&m, "9bad", "", METRIC_GAUGE, (const char *)NULL));
	assert_null(metrics_add(&m, "bad-name", "", METRIC_GAUGE, (const char *)NULL));
	assert_null(metrics_add(&m, "ok", "", METRIC_GAUGE, "bad key", "v", (const char *)NULL));
	assert_null(metrics_add(&m, "ok", "", METRIC_GAUGE, "a", "1", "b", "2", "c", "3",
				"d", "4", (const char *)NULL));
	assert_int_equal(m.n, 0);
	assert_non_null(metrics_get(&m, "code_total", "", METRIC_COUNTER, "code", "200"));
	assert_ptr_equal(metrics_get(&m, "code_total", "", METRIC_COUNTER, "code", "200"), m.head);
	assert_non_null(metrics_get(&m, "code_total", "", METRIC_COUNTER, "code", "404"));
	assert_non_null(metrics_get(&m, "code_total", "", METRIC_COUNTER, "code", "500"));
	/* Cardinality bound: a flood of label values cannot grow the registry. */
	assert_null(metrics_get(&m, "code_total", "", METRIC_COUNTER, "code", "501"));
	assert_int_equal(m.n, 3);
	assert_int_equal(metrics_render(&m, &text, &len), 0);
	free(text);
	metrics_free(&m);

	metrics_init(&m, 10);
	assert_int_equal(metrics_render(&m, &text, &len), 0);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(metrics_add_process(&m), 0);
	assert_int_equal(metrics_render(&m, &text, &len), 0);
	assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
	assert_non_null(strstr(text, "process_resident_memory_bytes "));
	free(text);
	metrics_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_limits_and_names),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
