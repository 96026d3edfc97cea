/* Transactions through the Iq+ link (SPEC.md 6.2-6.9): messages before
 * registration, a second REGISTER, the handlers' reply cache, a flood
 * beyond MAX_OUTSTANDING, the owner's requests (PENDING, 506, 1202), and
 * an abandoned RESERVE's context released. */
#include "iqp_link_world.h"

static void body_load(struct iqp_msg *m)
{
	struct iqp_load l = { .has = IQP_LOAD_ACTIVE, .active_contexts = 3 };
	iqp_link_reg_add_load(m, NULL, &l);
}

/* 6.9: before registration only REGISTER; CLOSE 401 at the 4th other
 * frame; T_REG_WAIT gives CLOSE 1105. */
static void test_before_registration(void **state)
{
	struct world w;
	unsigned scope;
	(void)state;

	world_init(&w);
	w.ctl.self.epoch = 1;
	end_init(&w, &w.ctl, IQP_ROLE_CONTROLLER);
	w.ctl.up = true;
	iqp_link_start(&w.ctl.l, w.now);
	assert_int_equal(w.ctl.l.state, IQP_LINK_REGISTERING);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 1, body_load);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_REPLY, &scope), 505);
	assert_int_equal(scope, IQP_RETRY_SAME);
	inject(&w, &w.ctl, IQP_KIND_NOTIFY, IQP_MSG_NODE_STATUS, 2, body_load);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_ACK, NULL), 505);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 3, NULL);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_REPLY, NULL), 505);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 4, NULL);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_CLOSE, NULL), 401);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);

	/* Silence: T_REG_WAIT. */
	end_init(&w, &w.ctl, IQP_ROLE_CONTROLLER);
	w.ctl.up = true;
	iqp_link_start(&w.ctl.l, w.now);
	assert_int_equal(iqp_link_deadline(&w.ctl.l), w.now + IQP_T_REG_WAIT_MS);
	w.now += IQP_T_REG_WAIT_MS;
	iqp_link_tick(&w.ctl.l, w.now);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_CLOSE, NULL), 1105);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);
	world_free(&w);
}

static void body_reserve(struct iqp_msg *m)
{
	struct iqp_elem *c, *t, *s, *cod;
	iqp_add_container(m, NULL, IQP_E_CONTEXT, &c);
	iqp_add_u32(m, c, IQP_E_CONTEXT_ID, IQP_CHOOSE);
	iqp_add_container(m, c, IQP_E_TERMINATION, &t);
	iqp_add_u32(m, t, IQP_E_TERM_ID, IQP_CHOOSE);
	iqp_add_enum(m, t, IQP_E_TERM_KIND, IQP_TERM_IMS);
	iqp_add_str(m, t, IQP_E_REALM_NAME, "ims");
	iqp_add_container(m, t, IQP_E_STREAM, &s);
	iqp_add_u16(m, s, IQP_E_STREAM_ID, 1);
	iqp_add_enum(m, s, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(m, s, IQP_E_TRANSPORT_PROTO, 1);
	iqp_add_container(m, s, IQP_E_CODEC, &cod);
	iqp_add_u8(m, cod, IQP_E_PAYLOAD_TYPE, 0);
	iqp_add_str(m, cod, IQP_E_CODEC_NAME, "PCMU");
	iqp_add_u32(m, cod, IQP_E_CLOCK_RATE, 8000);
	assert_int_equal(m->err, 0);
}

static void body_register(struct iqp_msg *m)
{
	struct iqp_node_info s;
	self_agw(&s, "agw-1", 5);
	s.n_versions = 1;
	s.versions[0] = IQP_VERSION_1_0;
	s.sc_method = IQP_SC_RESTART;
	s.sc_reason = 901;
	assert_int_equal(iqp_link_reg_build_request(m, &s), 0);
}

/* 6.9 item 4, 10.3: a second REGISTER gets 401; requests without a
 * handler get 501 (scope OTHER); both leave the link up. */
static void test_second_register_501(void **state)
{
	struct world w;
	unsigned scope;
	(void)state;

	world_init(&w);
	start(&w);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_REGISTER, 99, body_register);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_REPLY, NULL), 401);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 42, body_reserve);
	assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, &scope), IQP_ERR_NOT_IMPLEMENTED);
	assert_int_equal(scope, IQP_RETRY_OTHER);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 43, NULL);
	/* Body refused first (4.4): SC_METHOD and SC_REASON are missing. */
	assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, NULL), 472);
	/* 3.5 check 9: REGISTER from the controller. */
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_REGISTER, 44, body_register);
	assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, NULL), 402);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.agw.closes, 0);
	world_free(&w);
}

/* A handler answers; a repeated txid gets the cached reply byte for byte
 * without a second call (6.5); one still running gets PENDING. */
static void test_handler_cache(void **state)
{
	struct world w;
	struct iqp_msg m;
	uint8_t first[8192], again[8192];
	size_t n1;
	struct iqp_header h;
	(void)state;

	world_init(&w);
	w.agw_hooks.calls.reserve = on_call;
	w.agw.answer_calls = true;
	start(&w);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 42, body_reserve);
	assert_int_equal(w.agw.calls, 1);
	n1 = w.agw.q[0].n;
	h = take(&w.agw, &m, first);
	assert_int_equal(h.kind, IQP_KIND_REPLY);
	assert_false(h.flags & IQP_FLAG_E);
	iqp_msg_free(&m);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 42, body_reserve);
	assert_int_equal(w.agw.calls, 1);
	assert_int_equal(w.agw.q[0].n, n1);
	h = take(&w.agw, &m, again);
	assert_memory_equal(first, again, n1);
	iqp_msg_free(&m);

	w.agw.answer_calls = false;
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 43, body_reserve);
	assert_int_equal(w.agw.calls, 2);
	assert_int_equal(w.agw.nq, 0);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 43, body_reserve);
	assert_int_equal(w.agw.calls, 2);
	h = take(&w.agw, &m, again);
	assert_int_equal(h.kind, IQP_KIND_PENDING);
	assert_int_equal(h.txid, 43);
	iqp_msg_free(&m);
	world_free(&w);
}

/* 6.7 items 3-4 on a link: 1200, then CLOSE 1200. */
static void test_flood(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	w.agw_params.max_outstanding = 2;
	end_init(&w, &w.agw, IQP_ROLE_AGW);
	w.agw_hooks.calls.reserve = on_call;
	start(&w);
	for (uint32_t id = 1; id <= 2; id++)
		inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id, body_reserve);
	assert_int_equal(w.agw.calls, 2);
	for (uint32_t id = 3; id <= 4; id++) {
		inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id, body_reserve);
		assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, NULL), 1200);
	}
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 5, body_reserve);
	assert_int_equal(next_error(&w.agw, IQP_KIND_CLOSE, NULL), 1200);
	assert_int_equal(w.agw.calls, 2);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	world_free(&w);
}

static void done_cb(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		    const struct iqp_error *err)
{
	struct end *e = arg;
	(void)l;
	e->done_calls++;
	e->done_code = err ? err->code : 0;
	if (!err)
		assert_non_null(iqp_find(reply, NULL, IQP_E_CAPACITY));
}

/* The owner's requests: answered; kept alive by the responder's PENDINGs
 * while its owner has not answered, then answered 506 by the responder's
 * link after N_PEND (6.3); completed locally with 1202 after T_TXN when
 * nothing comes back (6.2 item 3). */
static void test_owner_request(void **state)
{
	struct world w;
	struct iqp_header h = { 1, 0, 0, IQP_MSG_AUDIT, 0, 0 };
	struct iqp_msg m;
	size_t from;
	(void)state;

	world_init(&w);
	w.agw_hooks.calls.audit = on_call;
	w.agw.answer_calls = true;
	start(&w);
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 1024), 0);
	iqp_add_enum(&m, NULL, IQP_E_AUDIT_SCOPE, IQP_AUDIT_CAPABILITIES);
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	run(&w, w.now);
	assert_int_equal(w.ctl.done_calls, 1);
	assert_int_equal(w.ctl.done_code, 0);

	w.agw.answer_calls = false;
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	from = w.ctl.nev;
	run(&w, w.now + 2 * IQP_T_TXN_MS);
	assert_int_equal(w.ctl.done_calls, 1);  /* PENDINGs restart T_TXN */
	run(&w, w.now + IQP_N_PEND * IQP_T_PEND_MS);
	assert_int_equal(w.ctl.done_calls, 2);
	assert_int_equal(w.ctl.done_code, IQP_ERR_PENDINGS);
	assert_int_equal(count(&w.ctl, IQP_LEV_TIMEOUT, from), 0);

	/* Nothing comes back (the responder's frames are lost for less than
	 * T_INACT, 3 s here, so T_TXN is shortened to 2 s): 1202 after T_TXN. */
	w.ctl.l.txn.t_txn = 2000;
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	w.agw.drop_out = true;
	run(&w, w.now + 2000);
	w.agw.drop_out = false;
	assert_int_equal(w.ctl.done_calls, 3);
	assert_int_equal(w.ctl.done_code, IQP_ERR_TIMEOUT);
	assert_int_equal(count(&w.ctl, IQP_LEV_TIMEOUT, from), 1);
	run(&w, w.now + 10);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	/* Not registered: refused at once. */
	iqp_link_stop(&w.ctl.l, w.now, IQP_ERR_NORMAL_CLOSE, NULL);
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), ENOTCONN);
	iqp_msg_free(&m);
	world_free(&w);
}

/* 6.2 item 4: a successful REPLY to a RESERVE the controller abandoned
 * (T_TXN) is followed by a RELEASE of the context it reports. */
static void test_abandoned_reserve_released(void **state)
{
	struct world w;
	struct iqp_header h = { 1, 0, 0, IQP_MSG_RESERVE, 0, 0 };
	struct iqp_msg m, r;
	struct iqp_elem *c;
	size_t from;
	(void)state;

	world_init(&w);
	w.agw_hooks.calls.reserve = on_call;
	w.agw_hooks.calls.release = on_call;
	start(&w);
	w.ctl.l.txn.t_txn = 2000;
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	body_reserve(&m);
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	iqp_msg_free(&m);
	w.agw.drop_out = true; /* its PENDINGs are lost: T_TXN expires */
	run(&w, w.now + 2000);
	w.agw.drop_out = false;
	assert_int_equal(w.ctl.done_calls, 1);
	assert_int_equal(w.ctl.done_code, IQP_ERR_TIMEOUT);
	assert_int_equal(w.agw.calls, 1);
	/* The AGW answers after all: context 77 exists there. */
	from = w.ctl.nev;
	struct iqp_header rh = { 1, IQP_KIND_REPLY, 0, IQP_MSG_RESERVE, w.agw.last_txid, 0 };
	assert_int_equal(iqp_msg_init(&r, &rh, NULL, 4096), 0);
	iqp_add_container(&r, NULL, IQP_E_CONTEXT, &c);
	iqp_add_u32(&r, c, IQP_E_CONTEXT_ID, 77);
	assert_int_equal(iqp_link_answer(&w.agw.l, w.now, &r, 0), 0);
	iqp_msg_free(&r);
	run(&w, w.now + 10);
	assert_int_equal(count(&w.ctl, IQP_LEV_DISCARDED, from), 1);
	assert_int_equal(w.agw.calls, 2);
	assert_int_equal(w.agw.last_code, IQP_MSG_RELEASE);
	assert_int_equal(w.ctl.done_calls, 1); /* the owner hears nothing more */
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_registration),
		cmocka_unit_test(test_second_register_501),
		cmocka_unit_test(test_handler_cache),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_owner_request),
		cmocka_unit_test(test_abandoned_reserve_released),
	};
	return cmocka_run_group_tests_name("iqp_link_txn", tests, NULL, NULL);
}
