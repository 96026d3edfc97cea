/* Iq+ transaction layer (SPEC.md clause 6): txid allocation, requester
 * timers and completion, abandoned txids, NOTIFY/ACK, the peer's window
 * with local queueing, the reply cache, and flow control with 1200 and
 * the flood limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iqp_txn.h"

/* A header-only frame (bodies do not matter to the transaction layer),
 * with one marker byte after it so that copies can be told apart. */
static size_t frame(uint8_t *buf, unsigned kind, unsigned code, uint32_t txid,
		    uint8_t marker)
{
	struct iqp_header h = { 1, (uint8_t)kind, 0, (uint16_t)code, txid, 1 };

	iqp_header_encode(&h, buf);
	buf[IQP_HEADER_LEN] = marker;
	return IQP_HEADER_LEN + 1;
}

static struct iqp_header hdr(unsigned kind, unsigned code, uint32_t txid)
{
	struct iqp_header h = { 1, (uint8_t)kind, 0, (uint16_t)code, txid, 0 };
	return h;
}

/* Starts a REQUEST (or NOTIFY) and returns whether it went out at once. */
static bool start(struct iqp_txn *t, unsigned kind, unsigned code, uint32_t txid,
		  void *user, uint64_t now)
{
	uint8_t f[32];
	bool now_ = false;
	size_t n = frame(f, kind, code, txid, (uint8_t)txid);

	assert_int_equal(iqp_txn_start(t, f, n, user, now, &now_), 0);
	return now_;
}

static int answer(struct iqp_txn *t, unsigned kind, unsigned code, uint32_t txid,
		  uint64_t now, void **user)
{
	struct iqp_header h = hdr(kind, code, txid);
	return iqp_txn_answer(t, &h, now, user);
}

static void test_txid(void **state)
{
	struct iqp_txn t;
	(void)state;

	iqp_txn_init(&t);
	assert_int_equal(iqp_txn_alloc_id(&t), 1);
	assert_int_equal(iqp_txn_alloc_id(&t), 2);
	t.next_txid = UINT32_MAX;
	assert_int_equal(iqp_txn_alloc_id(&t), UINT32_MAX);
	assert_int_equal(iqp_txn_alloc_id(&t), 1); /* never 0 (6.1 item 1) */
	iqp_txn_flush(&t);
	assert_int_equal(iqp_txn_alloc_id(&t), 2); /* not reset */
	iqp_txn_free(&t);
}

/* 6.2: REPLY completes; T_TXN gives 1202 and an abandoned txid; a late
 * answer to it is reported as such, an unknown one as late, another code
 * as a mismatch (3.5 checks 10, 11). */
static void test_requester(void **state)
{
	struct iqp_txn t;
	struct iqp_txn_end end;
	int a = 1, b = 2;
	void *user = NULL;
	(void)state;

	iqp_txn_init(&t);
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 10, &a, 1000));
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_AUDIT, 11, &b, 1500));
	assert_int_equal(iqp_txn_in_flight(&t), 2);
	assert_int_equal(iqp_txn_next_deadline(&t), 1000 + IQP_T_TXN_MS);

	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RELEASE, 10, 1100, &user),
			 IQP_TXN_MISMATCH);
	assert_int_equal(answer(&t, IQP_KIND_ACK, IQP_MSG_RESERVE, 10, 1100, &user),
			 IQP_TXN_MISMATCH);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RESERVE, 99, 1100, &user),
			 IQP_TXN_LATE);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RESERVE, 10, 1200, &user),
			 IQP_TXN_MATCHED);
	assert_ptr_equal(user, &a);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RESERVE, 10, 1300, &user),
			 IQP_TXN_LATE); /* complete: not matched twice */
	assert_int_equal(iqp_txn_in_flight(&t), 1);

	assert_false(iqp_txn_expire(&t, 1500 + IQP_T_TXN_MS - 1, &end));
	assert_true(iqp_txn_expire(&t, 1500 + IQP_T_TXN_MS, &end));
	assert_int_equal(end.txid, 11);
	assert_int_equal(end.code, IQP_MSG_AUDIT);
	assert_ptr_equal(end.user, &b);
	assert_false(iqp_txn_expire(&t, 1500 + IQP_T_TXN_MS, &end));
	assert_int_equal(iqp_txn_in_flight(&t), 0);
	/* Abandoned for the peer's CACHE_TTL (6.2 items 3, 4). */
	assert_int_equal(iqp_txn_next_deadline(&t), 1500 + IQP_T_TXN_MS + IQP_CACHE_TTL_MS);
	assert_int_equal(answer(&t, IQP_KIND_PENDING, IQP_MSG_AUDIT, 11, 7000, &user),
			 IQP_TXN_ABANDONED);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_AUDIT, 11, 7000, &user),
			 IQP_TXN_ABANDONED);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_AUDIT, 11, 7000, &user),
			 IQP_TXN_LATE); /* reported once, then forgotten */
	assert_int_equal(iqp_txn_next_deadline(&t), UINT64_MAX);

	/* Expiry of the abandoned record itself. */
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_AUDIT, 12, &b, 10000));
	assert_true(iqp_txn_expire(&t, 20000, &end));
	assert_false(iqp_txn_expire(&t, 20000 + IQP_CACHE_TTL_MS, &end));
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_AUDIT, 12, 60000, &user),
			 IQP_TXN_LATE);
	iqp_txn_free(&t);
}

/* 6.2 item 1 and 3: PENDING restarts T_TXN, never T_TXN_MAX. */
static void test_pending(void **state)
{
	struct iqp_txn t;
	struct iqp_txn_end end;
	void *user = NULL;
	uint64_t now = 0;
	(void)state;

	iqp_txn_init(&t);
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_MODIFY, 5, NULL, now));
	for (now = 4000; now < IQP_T_TXN_MAX_MS; now += 4000) {
		assert_false(iqp_txn_expire(&t, now, &end));
		assert_int_equal(answer(&t, IQP_KIND_PENDING, IQP_MSG_MODIFY, 5, now, &user),
				 IQP_TXN_PENDING);
	}
	assert_int_equal(iqp_txn_next_deadline(&t), IQP_T_TXN_MAX_MS);
	assert_false(iqp_txn_expire(&t, IQP_T_TXN_MAX_MS - 1, &end));
	assert_true(iqp_txn_expire(&t, IQP_T_TXN_MAX_MS, &end));
	assert_int_equal(end.txid, 5);
	/* A PENDING for a NOTIFY is a mismatch. */
	assert_true(start(&t, IQP_KIND_NOTIFY, IQP_MSG_EVENT, 6, NULL, now));
	assert_int_equal(answer(&t, IQP_KIND_PENDING, IQP_MSG_EVENT, 6, now, &user),
			 IQP_TXN_MISMATCH);
	assert_int_equal(answer(&t, IQP_KIND_ACK, IQP_MSG_EVENT, 6, now, &user),
			 IQP_TXN_MATCHED);
	iqp_txn_free(&t);
}

/* 6.7 items 1-2: the peer's window, queueing without T_TXN, HEARTBEAT
 * outside the window but one at a time. */
static void test_window(void **state)
{
	struct iqp_txn t;
	struct iqp_txn_end end;
	uint8_t *f, want[32];
	size_t len;
	void *user;
	(void)state;

	iqp_txn_init(&t);
	t.peer_max_outstanding = 2;
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 1, NULL, 0));
	assert_true(start(&t, IQP_KIND_NOTIFY, IQP_MSG_EVENT, 2, NULL, 0));
	assert_false(start(&t, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 3, NULL, 0));
	assert_false(start(&t, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 4, NULL, 0));
	assert_int_equal(iqp_txn_queued(&t), 2);
	assert_false(iqp_txn_dequeue(&t, 10, &f, &len)); /* window full */
	/* HEARTBEAT does not count, but only one is in flight. */
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 5, NULL, 0));
	{
		uint8_t hb[32];
		bool now_;
		size_t n = frame(hb, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 6, 6);
		assert_int_equal(iqp_txn_start(&t, hb, n, NULL, 0, &now_), EBUSY);
	}
	/* A txid in use is refused. */
	{
		uint8_t x[32];
		bool now_;
		size_t n = frame(x, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 1, 1);
		assert_int_equal(iqp_txn_start(&t, x, n, NULL, 0, &now_), EEXIST);
	}
	/* Queued transactions do not time out. */
	assert_true(iqp_txn_expire(&t, IQP_T_TXN_MS, &end));
	assert_true(iqp_txn_expire(&t, IQP_T_TXN_MS, &end));
	assert_true(iqp_txn_expire(&t, IQP_T_TXN_MS, &end));
	assert_false(iqp_txn_expire(&t, IQP_T_TXN_MS, &end));
	assert_int_equal(iqp_txn_queued(&t), 2);
	/* The window opened (the two timed out): the oldest goes out first,
	 * byte for byte, with its own T_TXN. */
	assert_true(iqp_txn_dequeue(&t, 6000, &f, &len));
	assert_int_equal(len, frame(want, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 3, 3));
	assert_memory_equal(f, want, len);
	free(f);
	assert_true(iqp_txn_dequeue(&t, 6000, &f, &len));
	free(f);
	assert_false(iqp_txn_dequeue(&t, 6000, &f, &len));
	assert_int_equal(iqp_txn_next_deadline(&t), 6000 + IQP_T_TXN_MS);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RELEASE, 4, 6100, &user),
			 IQP_TXN_MATCHED);
	assert_int_equal(iqp_txn_in_flight(&t), 1);
	/* An answer to a queued txid is not a match. */
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 7, NULL, 6100));
	assert_false(start(&t, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 8, NULL, 6100));
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RELEASE, 8, 6200, &user),
			 IQP_TXN_LATE);
	iqp_txn_free(&t);
}

/* 6.6 item 3: a lost connection completes everything locally. */
static void test_fail(void **state)
{
	struct iqp_txn t;
	struct iqp_txn_end end;
	int a, b;
	void *user;
	(void)state;

	iqp_txn_init(&t);
	t.peer_max_outstanding = 1;
	assert_true(start(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 1, &a, 0));
	assert_false(start(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 2, &b, 0));
	assert_true(iqp_txn_fail(&t, 100, &end));
	assert_ptr_equal(end.user, &a);
	assert_true(iqp_txn_fail(&t, 100, &end));
	assert_ptr_equal(end.user, &b);
	assert_false(iqp_txn_fail(&t, 100, &end));
	assert_int_equal(iqp_txn_in_flight(&t) + iqp_txn_queued(&t), 0);
	/* The sent one is abandoned, the queued one never existed. */
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RESERVE, 1, 200, &user),
			 IQP_TXN_ABANDONED);
	assert_int_equal(answer(&t, IQP_KIND_REPLY, IQP_MSG_RESERVE, 2, 200, &user),
			 IQP_TXN_LATE);
	iqp_txn_free(&t);
}

static int received(struct iqp_txn *t, unsigned kind, unsigned code, uint32_t txid,
		    uint64_t now, const uint8_t **cached, size_t *clen)
{
	struct iqp_header h = hdr(kind, code, txid);
	return iqp_txn_received(t, &h, now, cached, clen);
}

/* 6.5: in progress, then the answer cached byte for byte for CACHE_TTL;
 * the codes and answers that are not cached. */
static void test_reply_cache(void **state)
{
	struct iqp_txn t;
	const uint8_t *c = NULL;
	size_t clen = 0, n;
	uint8_t rep[32];
	(void)state;

	iqp_txn_init(&t);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 7, 0, &c, &clen),
			 IQP_TXN_NEW);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 7, 10, &c, &clen),
			 IQP_TXN_RUNNING);
	n = frame(rep, IQP_KIND_REPLY, IQP_MSG_RESERVE, 7, 0xab);
	assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 100), 0);
	assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 100), ENOENT);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 7, 200, &c, &clen),
			 IQP_TXN_REPEAT);
	assert_int_equal(clen, n);
	assert_memory_equal(c, rep, n);
	assert_int_equal(iqp_txn_next_deadline(&t), 100 + IQP_CACHE_TTL_MS);
	/* Gone after CACHE_TTL: the same txid is new again. */
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 7,
				  100 + IQP_CACHE_TTL_MS, &c, &clen), IQP_TXN_NEW);
	n = frame(rep, IQP_KIND_REPLY, IQP_MSG_RESERVE, 7, 0xac);
	assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 40000), 0);

	/* NOTIFY: the ACK is repeated, not the processing. */
	assert_int_equal(received(&t, IQP_KIND_NOTIFY, IQP_MSG_EVENT, 8, 0, &c, &clen),
			 IQP_TXN_NEW);
	n = frame(rep, IQP_KIND_ACK, IQP_MSG_EVENT, 8, 0xad);
	assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 0), 0);
	assert_int_equal(received(&t, IQP_KIND_NOTIFY, IQP_MSG_EVENT, 8, 1, &c, &clen),
			 IQP_TXN_REPEAT);
	assert_int_equal(c[IQP_HEADER_LEN], 0xad);

	/* 6.5 item 4: not cached. */
	static const unsigned uncached[] = { IQP_MSG_REGISTER, IQP_MSG_AUDIT };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(received(&t, IQP_KIND_REQUEST, uncached[i], 20 + (uint32_t)i, 0,
					  &c, &clen), IQP_TXN_NEW);
		n = frame(rep, IQP_KIND_REPLY, uncached[i], 20 + (uint32_t)i, 0);
		assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 0), 0);
		assert_int_equal(received(&t, IQP_KIND_REQUEST, uncached[i], 20 + (uint32_t)i, 1,
					  &c, &clen), IQP_TXN_NEW);
		assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 1), 0);
	}
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 30, 0, &c, &clen),
			 IQP_TXN_NEW);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 30, 0, &c, &clen),
			 IQP_TXN_NEW);
	static const unsigned no_effect[] = { IQP_ERR_FLOW, IQP_ERR_NOT_READY };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 40 + (uint32_t)i,
					  0, &c, &clen), IQP_TXN_NEW);
		n = frame(rep, IQP_KIND_REPLY, IQP_MSG_RELEASE, 40 + (uint32_t)i, 0);
		assert_int_equal(iqp_txn_answered(&t, rep, n, no_effect[i], 0), 0);
		assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 40 + (uint32_t)i,
					  1, &c, &clen), IQP_TXN_NEW);
		assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 1), 0);
	}
	/* 6.5 item 5: a new association starts with an empty cache. */
	iqp_txn_flush(&t);
	assert_int_equal(received(&t, IQP_KIND_NOTIFY, IQP_MSG_EVENT, 8, 2, &c, &clen),
			 IQP_TXN_NEW);
	iqp_txn_free(&t);
}

/* 6.7 items 3-4: 1200 for the excess, CLOSE 1200 beyond twice the
 * window, and the window reopening resets the count. */
static void test_flow_control(void **state)
{
	struct iqp_txn t;
	const uint8_t *c;
	size_t clen, n;
	uint8_t rep[32];
	uint32_t id = 1;
	(void)state;

	iqp_txn_init(&t);
	t.max_outstanding = 3;
	for (; id <= 3; id++)
		assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id, 0, &c, &clen),
				 IQP_TXN_NEW);
	/* HEARTBEAT is never refused. */
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 100, 0, &c, &clen),
			 IQP_TXN_NEW);
	for (; id <= 6; id++)
		assert_int_equal(received(&t, IQP_KIND_NOTIFY, IQP_MSG_EVENT, id, 0, &c, &clen),
				 IQP_TXN_EXCESS);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id++, 0, &c, &clen),
			 IQP_TXN_FLOOD);
	/* One answered: room for one again, and the excess is forgiven. */
	n = frame(rep, IQP_KIND_REPLY, IQP_MSG_RESERVE, 1, 0);
	assert_int_equal(iqp_txn_answered(&t, rep, n, 0, 0), 0);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id++, 0, &c, &clen),
			 IQP_TXN_NEW);
	for (int k = 0; k < 3; k++)
		assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id++, 0, &c, &clen),
				 IQP_TXN_EXCESS);
	assert_int_equal(received(&t, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id++, 0, &c, &clen),
			 IQP_TXN_FLOOD);
	iqp_txn_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txid),
		cmocka_unit_test(test_requester),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_reply_cache),
		cmocka_unit_test(test_flow_control),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
