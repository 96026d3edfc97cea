/* What a worker gets of the node (eims-agw/worker_share.h): the `workers`
 * value, port slices (disjoint, covering the range, even-sized), capacity
 * shares that add up to the node's, NODE_IDs, and the refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "worker_share.h"

static void test_count(void **state)
{
	unsigned n = 0;
	(void)state;
	assert_int_equal(worker_count_parse("1", 8, 128, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(worker_count_parse("128", 8, 128, &n), 0);
	assert_int_equal(n, 128);
	assert_int_equal(worker_count_parse("auto", 8, 128, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(worker_count_parse("auto", 300, 128, &n), 0);
	assert_int_equal(n, 128);
	assert_int_equal(worker_count_parse("auto", 0, 128, &n), 0);
	assert_int_equal(n, 1);
	n = 77;
	const char *bad[] = { "0", "129", "-1", "+2", " 2", "2 ", "2x", "", "AUTO", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(worker_count_parse(bad[i], 8, 128, &n), 0);
	assert_int_equal(n, 77); /* untouched on error */
}

static void check_slices(uint16_t lo, uint16_t hi, uint32_t ctx, uint32_t ports, unsigned n)
{
	struct worker_share node = { lo, hi, ctx, ports }, w;
	char why[200];
	uint32_t next = lo, sum_ctx = 0, sum_ports = 0;

	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(worker_share_of(&node, k, n, &w, why, sizeof(why)), 0);
		assert_int_equal(w.port_min, next); /* disjoint and contiguous */
		assert_true(w.port_max >= w.port_min + WORKER_SHARE_MIN_PORTS - 1);
		if (k < n - 1)
			assert_int_equal((w.port_max - w.port_min + 1) % 2, 0);
		assert_int_equal(w.port_min % 2, lo % 2); /* pairs line up as in the range */
		next = (uint32_t)w.port_max + 1;
		sum_ctx += w.max_contexts;
		sum_ports += w.max_ports;
		assert_true(w.max_contexts >= ctx / n && w.max_contexts <= ctx / n + 1);
	}
	assert_int_equal(next, (uint32_t)hi + 1); /* covers the range */
	assert_int_equal(sum_ctx, ctx);
	assert_int_equal(sum_ports, ports);
}

static void test_slices(void **state)
{
	(void)state;
	check_slices(20000, 39999, 1000, 20000, 2);
	check_slices(20000, 39999, 1000, 20000, 3);
	check_slices(20001, 20100, 7, 0, 5);
	check_slices(1024, 65535, 10000000, 1000000, 128);
	check_slices(30000, 30007, 2, 2, 2);

	struct worker_share node = { 20000, 20099, 1000, 20000 }, w;
	char why[200];
	assert_int_equal(worker_share_of(&node, 0, 1, &w, why, sizeof(why)), 0);
	assert_memory_equal(&w, &node, sizeof(w));
	assert_int_equal(worker_share_of(&node, 1, 2, &w, why, sizeof(why)), 0);
	assert_int_equal(w.port_min, 20050);
	assert_int_equal(w.port_max, 20099);
	assert_int_equal(w.max_contexts, 500);
}

static void test_refused(void **state)
{
	struct worker_share w, node = { 20000, 20010, 1000, 0 };
	char why[200];
	(void)state;
	assert_int_equal(worker_share_of(&node, 0, 3, &w, why, sizeof(why)), EINVAL);
	assert_string_equal(why, "3 workers need at least 12 media ports (4 each); "
			    "media.port_min..media.port_max has 11");
	assert_int_equal(worker_share_of(&node, 0, 2, &w, why, sizeof(why)), 0);
	node.max_contexts = 1;
	assert_int_equal(worker_share_of(&node, 0, 2, &w, why, sizeof(why)), EINVAL);
	assert_string_equal(why, "2 workers need iq.max_contexts of at least 2 (one context each); it is 1");
	node.max_contexts = 2;
	node.max_ports = 1;
	assert_int_equal(worker_share_of(&node, 0, 2, &w, why, sizeof(why)), EINVAL);
	node.max_ports = 0;
	assert_int_equal(worker_share_of(&node, 2, 2, &w, why, sizeof(why)), EINVAL);
	assert_int_equal(worker_share_of(&node, 0, 0, &w, why, sizeof(why)), EINVAL);
}

static void test_node_id(void **state)
{
	char id[65];
	(void)state;
	assert_int_equal(worker_node_id(id, sizeof(id), "agw1", 0, 1), 0);
	assert_string_equal(id, "agw1");
	assert_int_equal(worker_node_id(id, sizeof(id), "agw1", 0, 2), 0);
	assert_string_equal(id, "agw1-w0");
	assert_int_equal(worker_node_id(id, sizeof(id), "agw1", 127, 128), 0);
	assert_string_equal(id, "agw1-w127");
	char small[8];
	assert_int_equal(worker_node_id(small, sizeof(small), "agw1", 10, 11), ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_node_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
