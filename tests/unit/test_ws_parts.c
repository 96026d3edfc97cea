/* The WebSocket server's pure parts: the equal-delay timer FIFO behind
 * the keep-alive (ka_queue) and the per-address flow counts
 * (ws_ip_table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ka_queue.h"
#include "ws_ip_table.h"

static void test_ka_order_and_rearm(void **state)
{
	struct ka_queue q = { .delay_ms = 1000 };
	struct ka_entry e[3];
	(void)state;

	memset(e, 0, sizeof(e));
	ka_arm(&q, &e[0], 0);
	ka_arm(&q, &e[1], 10);
	ka_arm(&q, &e[2], 20);
	assert_null(ka_due(&q, 999));
	assert_ptr_equal(ka_due(&q, 1000), &e[0]);
	/* Re-arming moves an entry to the tail with a new due time. */
	ka_arm(&q, &e[0], 500);
	assert_int_equal(e[0].due_ms, 1500);
	assert_ptr_equal(q.head, &e[1]);
	assert_ptr_equal(q.tail, &e[0]);
	assert_ptr_equal(ka_due(&q, 1010), &e[1]);
	ka_unlink(&e[1]);
	assert_null(e[1].q);
	assert_ptr_equal(ka_due(&q, 2000), &e[2]);
	ka_unlink(&e[2]);
	ka_unlink(&e[2]); /* on no queue: nothing */
	assert_ptr_equal(q.head, &e[0]);
	assert_ptr_equal(q.tail, &e[0]);
	ka_unlink(&e[0]);
	assert_null(q.head);
	assert_null(q.tail);
	assert_null(ka_due(&q, 1u << 30));
}

static void test_ka_move_between_queues(void **state)
{
	struct ka_queue idle = { .delay_ms = 30000 }, ping = { .delay_ms = 40000 };
	struct ka_entry a, b;
	(void)state;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ka_arm(&idle, &a, 0);
	ka_arm(&idle, &b, 0);
	ka_arm(&ping, &a, 30000); /* pinged: off idle, on ping */
	assert_ptr_equal(a.q, &ping);
	assert_ptr_equal(idle.head, &b);
	assert_ptr_equal(idle.tail, &b);
	assert_null(b.prev);
	assert_ptr_equal(ka_due(&ping, 70000), &a);
	assert_null(ka_due(&ping, 69999));
}

static void test_ip_counts(void **state)
{
	struct ws_ip_table t;
	char ip[48];
	(void)state;

	memset(&t, 0, sizeof(t));
	assert_null(ws_ip_find(&t, "192.0.2.1", 0));
	/* Many addresses: chains in the 256 slots. */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		struct ws_ip_count *c = ws_ip_find(&t, ip, 1);
		assert_non_null(c);
		c->n += 2;
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		struct ws_ip_count *c = ws_ip_find(&t, ip, 0);
		assert_non_null(c);
		assert_int_equal(c->n, 2);
		assert_string_equal(c->ip, ip);
	}
	ws_ip_release(&t, "2001:db8::7");
	assert_int_equal(ws_ip_find(&t, "2001:db8::7", 0)->n, 1);
	ws_ip_release(&t, "2001:db8::7");
	assert_null(ws_ip_find(&t, "2001:db8::7", 0)); /* gone at zero */
	ws_ip_release(&t, "2001:db8::7");               /* unknown: nothing */
	ws_ip_table_free(&t);
	for (size_t i = 0; i < 256; i++)
		assert_null(t.slot[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ka_order_and_rearm),
		cmocka_unit_test(test_ka_move_between_queues),
		cmocka_unit_test(test_ip_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
