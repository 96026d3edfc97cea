/* Parts of the call layer: AGW selection (load, overload, state,
 * capabilities, already tried), the call table, the CANCEL and ACK the
 * eP-CSCF builds from an INVITE it sent, and INVITE transaction timers on
 * a real libuv loop (Timer A, Timer G stopped by the ACK, reliable
 * transports that never retransmit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sofia-sip/sip_header.h>

#include "call_end.h"
#include "iq_call.h"
#include "iqp_registry.h"
#include "sip_dialog.h"
#include "sip_invite_txn.h"
#include "sip_msg.h"

/* ---- AGW selection -------------------------------------------------- */

static struct iqp_link links[4];

static void add_agw(struct iq_registry *r, int i, const char *name, uint32_t active,
		    unsigned level, bool bundle)
{
	struct iqp_node_info n = { 0 };
	struct iq_registry_prev prev;

	snprintf(n.node_id, sizeof(n.node_id), "%s", name);
	n.epoch = 1;
	n.has_load = true;
	n.load.has = IQP_LOAD_ACTIVE | (level ? IQP_LOAD_LEVEL : 0);
	n.load.active_contexts = active;
	n.load.overload_level = (uint8_t)level;
	links[i].peer.caps.bundle = bundle;
	assert_int_equal(iq_registry_register(r, &n, "127.0.0.1:1", &links[i], 1, &prev), 0);
}

static void test_select(void **state)
{
	struct iq_registry r;
	unsigned minor = iqp_enum_value(IQP_EN_OVERLOAD_LEVEL, "MINOR");
	unsigned critical = iqp_enum_value(IQP_EN_OVERLOAD_LEVEL, "CRITICAL");
	const void *tried[4];
	(void)state;

	assert_true(minor && critical && critical > minor);
	iq_registry_init(&r, 16);
	assert_null(iq_call_select(&r, NULL, 0, 0, NULL, 0, 0, 0));
	add_agw(&r, 0, "a", 10, 0, false);
	add_agw(&r, 1, "b", 3, 0, true);
	add_agw(&r, 2, "c", 0, critical, true);
	add_agw(&r, 3, "d", 1, minor, true);
	/* Fewest contexts wins; CRITICAL never; MINOR after the others. */
	assert_string_equal(iq_call_select(&r, NULL, 0, 0, NULL, 0, 0, 0)->node_id, "b");
	tried[0] = &links[1];
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0)->node_id, "a");
	tried[1] = &links[0];
	assert_string_equal(iq_call_select(&r, tried, 2, 0, NULL, 0, 0, 0)->node_id, "d");
	tried[2] = &links[3];
	assert_null(iq_call_select(&r, tried, 3, 0, NULL, 0, 0, 0));
	/* An AGW that just failed goes after the others until its time. */
	struct iq_avoid av[1] = { { &links[1], 100 } };
	assert_string_equal(iq_call_select(&r, NULL, 0, 0, av, 1, 50, 0)->node_id, "a");
	assert_string_equal(iq_call_select(&r, NULL, 0, 0, av, 1, 100, 0)->node_id, "b");
	tried[0] = &links[0];
	tried[1] = &links[3];
	assert_string_equal(iq_call_select(&r, tried, 2, 0, av, 1, 50, 0)->node_id, "b"); /* last, not never */
	/* Capabilities: only BUNDLE AGWs for a BUNDLE context. */
	tried[0] = &links[1];
	assert_string_equal(iq_call_select(&r, tried, 1, IQ_NEED_BUNDLE, NULL, 0, 0, 0)->node_id, "d");
	/* A draining AGW (SERVICE_CHANGE GRACEFUL 905, 7.7) is never chosen. */
	struct iq_agw *dr;
	unsigned old;
	assert_int_equal(iq_registry_service_change(&r, &links[0], IQP_SC_GRACEFUL, 905, NULL, &dr, &old), 0);
	tried[0] = &links[1];
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0)->node_id, "d");
	/* Out of service (FORCED 905 after the drain, 7.8) neither; RESTART
	 * 900 (7.7 item 5) makes it selectable again, and it wins on load. */
	assert_int_equal(iq_registry_service_change(&r, &links[0], IQP_SC_FORCED, 905, NULL, &dr, &old), 0);
	assert_int_equal(dr->state, IQ_AGW_OUT_OF_SERVICE);
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0)->node_id, "d");
	assert_int_equal(iq_registry_service_change(&r, &links[3], IQP_SC_FORCED, 905, NULL, &dr, &old), 0);
	assert_null(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0));
	assert_int_equal(iq_registry_service_change(&r, &links[0], IQP_SC_RESTART, 900, NULL, &dr, &old), 0);
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0)->node_id, "a");
	/* Draining and back (RESTART 918): a again, d still out. */
	assert_int_equal(iq_registry_service_change(&r, &links[0], IQP_SC_GRACEFUL, 905, NULL, &dr, &old), 0);
	assert_null(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0));
	assert_int_equal(iq_registry_service_change(&r, &links[0], IQP_SC_RESTART, 918, NULL, &dr, &old), 0);
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0)->node_id, "a");
	assert_int_equal(iq_registry_service_change(&r, &links[3], IQP_SC_RESTART, 900, NULL, &dr, &old), 0);
	assert_int_equal(iq_registry_service_change(&r, &links[0], IQP_SC_GRACEFUL, 905, NULL, &dr, &old), 0);
	/* MAJOR (7.6 item 3): offered only while the draw is below its
	 * ADMIT_PERCENT (absent: 50), and after AGWs without overload. */
	unsigned major = iqp_enum_value(IQP_EN_OVERLOAD_LEVEL, "MAJOR");
	struct iqp_load ld = { .has = IQP_LOAD_ACTIVE | IQP_LOAD_LEVEL, .active_contexts = 1,
			       .overload_level = (uint8_t)major };
	assert_non_null(iq_registry_heartbeat(&r, &links[3], &ld, 3));
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 49)->node_id, "d");
	assert_null(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 50));
	ld.has |= IQP_LOAD_ADMIT;
	ld.admit_percent = 10;
	assert_non_null(iq_registry_heartbeat(&r, &links[3], &ld, 4));
	assert_string_equal(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 9)->node_id, "d");
	assert_null(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 10));
	ld.admit_percent = 0;
	assert_non_null(iq_registry_heartbeat(&r, &links[3], &ld, 5));
	assert_null(iq_call_select(&r, tried, 1, 0, NULL, 0, 0, 0));
	assert_string_equal(iq_call_select(&r, NULL, 0, 0, NULL, 0, 0, 99)->node_id, "b");
	ld.overload_level = (uint8_t)minor;
	assert_non_null(iq_registry_heartbeat(&r, &links[3], &ld, 6));
	/* A lost AGW is never chosen: with b lost and a draining, only d. */
	assert_non_null(iq_registry_lost(&r, &links[1], 2));
	assert_string_equal(iq_call_select(&r, NULL, 0, 0, NULL, 0, 0, 0)->node_id, "d");
	iq_registry_free(&r);
}

/* ---- Call table ----------------------------------------------------- */

static void test_call_table(void **state)
{
	struct call_table t;
	struct call *a, *b, *c;
	(void)state;

	assert_int_equal(call_table_init(&t), 0);
	a = call_add(&t, "id1", 7, CALL_ORIG);
	b = call_add(&t, "id1", 8, CALL_TERM); /* browser to browser: one Call-ID */
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(call_find(&t, "id1", 7), a);
	assert_ptr_equal(call_find(&t, "id1", 8), b);
	assert_null(call_find(&t, "id1", 9));
	assert_null(call_find(&t, "id2", 7));
	/* A live call is preferred to an ended one with the same ids. */
	a->state = CALL_ENDED;
	c = call_add(&t, "id1", 7, CALL_ORIG);
	assert_ptr_equal(call_find(&t, "id1", 7), c);
	c->state = CALL_ENDED;
	assert_ptr_equal(call_find(&t, "id1", 7), c); /* the newest ended */
	int n = 0;
	for (struct call *x = call_next_with_id(&t, "id1", NULL); x; x = call_next_with_id(&t, "id1", x))
		n++;
	assert_int_equal(n, 3);
	/* Media contexts: found by (link, id), gone when unindexed or removed. */
	int l1, l2;
	call_index_context(&t, a, &l1, 5);
	call_index_context(&t, b, &l2, 5);
	assert_ptr_equal(call_by_context(&t, &l1, 5), a);
	assert_ptr_equal(call_by_context(&t, &l2, 5), b);
	assert_null(call_by_context(&t, &l1, 6));
	assert_null(call_by_context(&t, &l1, 0));
	call_unindex_context(&t, a);
	assert_null(call_by_context(&t, &l1, 5));
	call_index_context(&t, a, &l1, 7);
	assert_ptr_equal(call_by_context(&t, &l1, 7), a);
	assert_int_equal(call_set(&b->callee, "<sip:b@x>;tag=1"), 0);
	call_remove(&t, b);
	assert_int_equal(t.n, 2);
	assert_null(call_by_context(&t, &l2, 5));
	call_table_free(&t);
}

/* ---- CANCEL and ACK built from an INVITE ----------------------------- */

static const char invite[] =
	"INVITE sip:uas@ims.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKours1;rport\r\n"
	"Via: SIP/2.0/WSS x.invalid;branch=z9hG4bKbrowser\r\n"
	"Max-Forwards: 68\r\n"
	"Route: <sip:orig@127.0.0.1:5060;lr>\r\n"
	"From: <sip:alice@ims.test>;tag=a1\r\n"
	"To: <sip:uas@ims.test>\r\n"
	"Call-ID: c1\r\n"
	"CSeq: 7 INVITE\r\n"
	"Content-Length: 0\r\n\r\n";

static void test_cancel_ack(void **state)
{
	size_t n;
	char *cancel = call_build_cancel(invite, strlen(invite), &n);
	struct sip_msg_error e;
	msg_t *m, *rsp;
	(void)state;

	assert_non_null(cancel);
	assert_int_equal(sip_msg_parse(cancel, n, &m, &e), 0);
	sip_t const *s = sip_object(m);
	assert_int_equal(s->sip_request->rq_method, sip_method_cancel);
	assert_string_equal(s->sip_via->v_branch, "z9hG4bKours1");
	assert_null(s->sip_via->v_next); /* only our own Via (9.1) */
	assert_non_null(s->sip_route);
	assert_string_equal(s->sip_route->r_url->url_user, "orig");
	assert_null(s->sip_to->a_tag);
	assert_int_equal(s->sip_cseq->cs_seq, 7);
	assert_int_equal(s->sip_cseq->cs_method, sip_method_cancel);
	msg_destroy(m);
	free(cancel);

	static const char r486[] = "SIP/2.0 486 Busy Here\r\n"
				   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKours1;rport\r\n"
				   "From: <sip:alice@ims.test>;tag=a1\r\n"
				   "To: <sip:uas@ims.test>;tag=u9\r\n"
				   "Call-ID: c1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sip_msg_parse(r486, strlen(r486), &rsp, &e), 0);
	char *ack = call_build_ack(invite, strlen(invite), rsp, &n);
	assert_non_null(ack);
	assert_int_equal(sip_msg_parse(ack, n, &m, &e), 0);
	s = sip_object(m);
	assert_int_equal(s->sip_request->rq_method, sip_method_ack);
	assert_string_equal(s->sip_to->a_tag, "u9"); /* the response's To (17.1.1.3) */
	assert_string_equal(s->sip_via->v_branch, "z9hG4bKours1");
	assert_int_equal(s->sip_cseq->cs_seq, 7);
	msg_destroy(m);
	msg_destroy(rsp);
	free(ack);
	/* A stored request that does not parse gives nothing. */
	assert_null(call_build_cancel("garbage", 7, &n));
}

/* ---- INVITE transaction timers --------------------------------------- */

struct rec {
	int sent, timeouts, done;
	enum itxn_timeout which;
};

static void r_send(void *owner, struct itxn *x, const char *buf, size_t len)
{
	(void)x, (void)buf, (void)len;
	((struct rec *)owner)->sent++;
}

static void r_timeout(void *owner, struct itxn *x, enum itxn_timeout which)
{
	(void)x;
	((struct rec *)owner)->timeouts++;
	((struct rec *)owner)->which = which;
}

static void r_done(void *owner, struct itxn *x)
{
	(void)x;
	((struct rec *)owner)->done++;
}

static const struct itxn_ops ops = { r_send, r_timeout, r_done };

static void on_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, on_stop, ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void test_itxn_timers(void **state)
{
	uv_loop_t loop;
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 };
	struct itxn_dest udp = { .peer = { .transport = IMS_UDP } }, ws = { .ws = 1, .flow_id = 1 };
	struct itxn *c, *s, *w;
	char *wire = strdup("INVITE");
	(void)state;

	uv_loop_init(&loop);
	/* Client over UDP: Timer A at 500 and 1500 ms; a provisional stops it. */
	assert_int_equal(itxn_client_start(&c, &loop, &ops, &rc, "z9hG4bK1", &udp, wire, 6), 0);
	assert_int_equal(rc.sent, 1);
	run_for(&loop, 1700);
	assert_int_equal(rc.sent, 3);
	assert_int_equal(itxn_client_response(c, 180), 1);
	assert_int_equal(itxn_client_response(c, 180), 0); /* the same again */
	run_for(&loop, 1200);
	assert_int_equal(rc.sent, 3);
	assert_int_equal(itxn_client_response(c, 486), 1);
	itxn_client_ack(c, strdup("ACK"), 3);
	assert_int_equal(rc.sent, 4);
	assert_int_equal(itxn_client_response(c, 486), 0); /* re-ACKed */
	assert_int_equal(rc.sent, 5);
	itxn_terminate(c);
	assert_int_equal(rc.done, 1);

	/* Server over UDP: Timer G retransmits the 486 until the ACK. */
	assert_int_equal(itxn_server_start(&s, &loop, &ops, &rs, "z9hG4bKup", &udp), 0);
	itxn_server_respond(s, 100, "100", 3);
	itxn_server_respond(s, 486, "486", 3);
	assert_int_equal(rs.sent, 2);
	run_for(&loop, 1700); /* at 500 and 1500 */
	assert_int_equal(rs.sent, 4);
	assert_int_equal(itxn_server_ack(s), 1);
	run_for(&loop, 1200);
	assert_int_equal(rs.sent, 4);
	itxn_server_retransmit(s); /* Confirmed: nothing more */
	assert_int_equal(rs.sent, 4);
	itxn_terminate(s);

	/* Toward a WebSocket: never retransmitted; Timer B still ends it. */
	assert_int_equal(itxn_client_start(&w, &loop, &ops, &rw, "z9hG4bK2", &ws, strdup("INVITE"), 6), 0);
	run_for(&loop, 1700);
	assert_int_equal(rw.sent, 1);
	itxn_terminate(w);
	run_for(&loop, 10);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_call_table),
		cmocka_unit_test(test_cancel_ack),
		cmocka_unit_test(test_itxn_timers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
