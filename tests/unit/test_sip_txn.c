/* sip_txn: client transactions over UDP kept for Timer K after their final
 * response (absorbing retransmitted responses), then gone; over TCP gone at
 * once; the table closed with transactions still waiting for Timer K (ASan
 * checks that nothing leaks or is used after free).  Runs a real libuv loop:
 * about T4 (5 s). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sip_txn.h"

struct world {
	uv_loop_t loop;
	struct txn_table t;
	int sent, timeouts;
};

static void on_send(void *arg, const char *buf, size_t len, const struct ims_peer *to)
{
	struct world *w = arg;
	(void)buf;
	(void)len;
	(void)to;
	w->sent++;
}

static void on_timeout(void *arg, struct txn *x)
{
	struct world *w = arg;
	(void)x;
	w->timeouts++;
}

static struct txn *start(struct world *w, const char *branch, enum ims_transport tp)
{
	struct ims_peer to = { .transport = tp };
	char *wire = strdup("REGISTER sip:x SIP/2.0\r\n\r\n");
	assert_non_null(wire);
	struct txn *x = txn_client_start(&w->t, branch, 1, &to, wire, strlen(wire), NULL);
	assert_non_null(x);
	return x;
}

static void on_tick(uv_timer_t *tm)
{
	(void)tm;
}

/* Runs the loop until `ms` of loop time have passed. */
static void run_for(struct world *w, uint64_t ms)
{
	uint64_t end = uv_now(&w->loop) + ms;
	uv_timer_t tick;
	uv_timer_init(&w->loop, &tick);
	while (uv_now(&w->loop) < end) {
		uv_timer_start(&tick, on_tick, end - uv_now(&w->loop), 0);
		uv_run(&w->loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&w->loop, UV_RUN_NOWAIT);
}

static void test_timer_k(void **state)
{
	struct world w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(uv_loop_init(&w.loop), 0);
	assert_int_equal(txn_table_init(&w.t, &w.loop, on_timeout, on_send, NULL, &w), 0);

	struct txn *a = start(&w, "z9hG4bKa", IMS_UDP);
	struct txn *b = start(&w, "z9hG4bKb", IMS_UDP);
	struct txn *c = start(&w, "z9hG4bKc", IMS_TCP);
	assert_int_equal(w.sent, 3);
	txn_client_response(a, 200);
	txn_client_drop_request(a);
	txn_client_response(c, 200);
	run_for(&w, 1000);
	/* a waits for Timer K, c (reliable) is gone, b still retransmits. */
	assert_ptr_equal(txn_find_ours(&w.t, "z9hG4bKa"), a);
	assert_true(a->final);
	assert_null(txn_find_ours(&w.t, "z9hG4bKc"));
	assert_ptr_equal(txn_find_ours(&w.t, "z9hG4bKb"), b);
	assert_true(w.sent >= 4); /* Timer E at T1 */
	txn_client_response(b, 200);
	txn_client_response(b, 200); /* a retransmitted final response */
	int sent = w.sent;
	run_for(&w, SIP_T4_MS - 1000 + 100);
	/* a's Timer K (started 1 s before b's) has fired, b's not yet. */
	assert_null(txn_find_ours(&w.t, "z9hG4bKa"));
	assert_non_null(txn_find_ours(&w.t, "z9hG4bKb"));
	run_for(&w, 1100);
	assert_null(txn_find_ours(&w.t, "z9hG4bKb"));
	assert_int_equal(w.sent, sent); /* no retransmission after the final */
	assert_int_equal(w.timeouts, 0);
	assert_int_equal(w.t.n, 0);

	/* Closed with transactions waiting for Timer K. */
	txn_client_response(start(&w, "z9hG4bKd", IMS_UDP), 200);
	txn_client_response(start(&w, "z9hG4bKe", IMS_UDP), 404);
	start(&w, "z9hG4bKf", IMS_UDP);
	txn_table_close(&w.t);
	uv_run(&w.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w.loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_k),
	};
	return cmocka_run_group_tests_name("sip_txn", tests, NULL, NULL);
}
