/* The AGW's load reporting rules (eims-agw/load_report.h, SPEC.md 7.6):
 * overload levels from occupancy with hysteresis, ADMIT_PERCENT, and when
 * a NODE_STATUS is due (changes of level, admit percent, more than 10 % of
 * capacity; T_STATUS_MIN except for a level rise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load_report.h"

static const struct load_thresholds th = { 70, 85, 95 };

static void test_thresholds(void **state)
{
	(void)state;
	assert_int_equal(load_thresholds_check(&th), 0);
	assert_int_not_equal(load_thresholds_check(&(struct load_thresholds){ 0, 85, 95 }), 0);
	assert_int_not_equal(load_thresholds_check(&(struct load_thresholds){ 85, 85, 95 }), 0);
	assert_int_not_equal(load_thresholds_check(&(struct load_thresholds){ 70, 96, 95 }), 0);
	assert_int_not_equal(load_thresholds_check(&(struct load_thresholds){ 70, 85, 101 }), 0);
	assert_int_equal(load_percent(0, 0), 0);
	assert_int_equal(load_percent(349, 500), 69);
	assert_int_equal(load_percent(350, 500), 70);
	assert_int_equal(load_percent(600, 500), 100);
}

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(load_level(&th, 0, LOAD_NONE), LOAD_NONE);
	assert_int_equal(load_level(&th, 69, LOAD_NONE), LOAD_NONE);
	assert_int_equal(load_level(&th, 70, LOAD_NONE), LOAD_MINOR);
	assert_int_equal(load_level(&th, 85, LOAD_NONE), LOAD_MAJOR);
	assert_int_equal(load_level(&th, 100, LOAD_NONE), LOAD_CRITICAL);
	/* Hysteresis: a level is left 5 points below its threshold. */
	assert_int_equal(load_level(&th, 66, LOAD_MINOR), LOAD_MINOR);
	assert_int_equal(load_level(&th, 65, LOAD_MINOR), LOAD_MINOR);
	assert_int_equal(load_level(&th, 64, LOAD_MINOR), LOAD_NONE);
	assert_int_equal(load_level(&th, 90, LOAD_CRITICAL), LOAD_CRITICAL);
	assert_int_equal(load_level(&th, 89, LOAD_CRITICAL), LOAD_MAJOR);
	assert_int_equal(load_level(&th, 79, LOAD_CRITICAL), LOAD_MINOR);
	assert_int_equal(load_level(&th, 10, LOAD_CRITICAL), LOAD_NONE);
	/* Not kept when coming from below. */
	assert_int_equal(load_level(&th, 84, LOAD_MINOR), LOAD_MINOR);
	assert_int_equal(load_admit_percent(LOAD_NONE), 100);
	assert_int_equal(load_admit_percent(LOAD_MINOR), 100);
	assert_int_equal(load_admit_percent(LOAD_MAJOR), 50);
	assert_int_equal(load_admit_percent(LOAD_CRITICAL), 0);
}

static struct iqp_load load(uint32_t ctx, uint32_t ports, uint8_t cpu, uint8_t level)
{
	struct iqp_load l = { .has = IQP_LOAD_ACTIVE | IQP_LOAD_FREE_PORTS | IQP_LOAD_CPU |
				     IQP_LOAD_LEVEL | IQP_LOAD_ADMIT,
			      .active_contexts = ctx, .free_ports = ports, .cpu_load = cpu,
			      .overload_level = level, .admit_percent = load_admit_percent(level) };
	return l;
}

static void test_due(void **state)
{
	const struct load_capacity cap = { 500, 20000 };
	struct load_report r;
	struct iqp_load l;
	uint64_t retry;
	(void)state;

	load_report_reset(&r);
	l = load(0, 20000, 0, LOAD_NONE);
	assert_false(load_report_due(&r, &l, &cap, 0, &retry)); /* nothing told: not registered */
	load_report_told(&r, &l);                               /* REGISTER */
	assert_false(load_report_due(&r, &l, &cap, 10, &retry));
	/* 50 contexts is 10 %: not more than 10 %. */
	l = load(50, 19900, 3, LOAD_NONE);
	assert_false(load_report_due(&r, &l, &cap, 20, &retry));
	assert_int_equal(retry, 0);
	l = load(51, 19898, 3, LOAD_NONE);
	assert_true(load_report_due(&r, &l, &cap, 20, &retry));
	load_report_sent(&r, &l, 20);
	/* Within T_STATUS_MIN: held back, retry at 1020. */
	l = load(110, 19780, 3, LOAD_NONE);
	assert_false(load_report_due(&r, &l, &cap, 500, &retry));
	assert_int_equal(retry, 20 + LOAD_T_STATUS_MIN_MS);
	assert_true(load_report_due(&r, &l, &cap, 1020, &retry));
	load_report_sent(&r, &l, 1020);
	/* A level rise goes at once, even within T_STATUS_MIN. */
	l = load(350, 19300, 3, LOAD_MINOR);
	assert_true(load_report_due(&r, &l, &cap, 1030, &retry));
	load_report_sent(&r, &l, 1030);
	/* A level fall waits for T_STATUS_MIN. */
	l = load(320, 19360, 3, LOAD_NONE);
	assert_false(load_report_due(&r, &l, &cap, 1500, &retry));
	assert_int_equal(retry, 1030 + LOAD_T_STATUS_MIN_MS);
	assert_true(load_report_due(&r, &l, &cap, 2030, &retry));
	/* A HEARTBEAT that told it makes it not due. */
	load_report_told(&r, &l);
	assert_false(load_report_due(&r, &l, &cap, 2030, &retry));
	/* Ports: more than 10 % of 20000; CPU: more than 10 points. */
	l = load(320, 17359, 3, LOAD_NONE);
	assert_true(load_report_due(&r, &l, &cap, 5000, &retry));
	l = load(320, 19360, 14, LOAD_NONE);
	assert_true(load_report_due(&r, &l, &cap, 5000, &retry));
	l = load(320, 19360, 13, LOAD_NONE);
	assert_false(load_report_due(&r, &l, &cap, 5000, &retry));
	/* ADMIT_PERCENT alone. */
	l = load(320, 19360, 3, LOAD_NONE);
	l.admit_percent = 60;
	assert_true(load_report_due(&r, &l, &cap, 5000, &retry));
	/* Capacity not declared: that figure never triggers. */
	const struct load_capacity none = { 0, 0 };
	l = load(10000, 0, 3, LOAD_NONE);
	assert_false(load_report_due(&r, &l, &none, 5000, &retry));
	/* Registered again: nothing told on the new registration. */
	load_report_reset(&r);
	assert_false(load_report_due(&r, &l, &cap, 6000, &retry));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
