/* The Iq+ link's procedures (SPEC.md 2.5, 5.2, 7.1-7.5, 7.9, 7.10) on the
 * simulated link: registration and heartbeats, T_INACT and reconnection
 * with backoff, epochs, the controller's refusals, the AGW's timers. */
#include "iqp_link_world.h"

/* 7.2: registration content both ways; 7.5: heartbeats keep the link up. */
static void test_register_heartbeat(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	start(&w);
	assert_int_equal(w.agw.connects, 1);
	assert_int_equal(w.agw.target, 0);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	/* What the controller learnt. */
	assert_string_equal(w.ctl.reg.node_id, "agw-1");
	assert_int_equal(w.ctl.reg.epoch, 1767225600000ull);
	assert_int_equal(w.ctl.reg.sc_method, IQP_SC_RESTART);
	assert_int_equal(w.ctl.reg.sc_reason, 901);
	assert_int_equal(w.ctl.reg.n_realms, 2);
	assert_string_equal(w.ctl.reg.realms[1].name, "ims");
	assert_int_equal(w.ctl.reg.realms[1].addr[0].family, 6);
	assert_int_equal(w.ctl.reg.caps.srtp[0], 1);
	assert_true(w.ctl.reg.has_load);
	assert_int_equal(w.ctl.reg.load.cpu_load, 7);
	assert_string_equal(w.ctl.reg.software, "test agw");
	/* What the AGW learnt; the AGW's HB_INTERVAL proposal decided. */
	assert_string_equal(w.agw.reg.node_id, "pcscf-a");
	assert_int_equal(w.agw.reg.epoch, 500);
	assert_int_equal(w.agw.l.hb_interval, HB);
	assert_int_equal(w.ctl.l.hb_interval, HB);
	assert_int_equal(w.agw.l.version, IQP_VERSION_1_0);
	assert_int_equal(w.agw.lim_hb, HB);
	assert_int_equal(w.ctl.lim_frame, 262144);
	assert_int_equal(w.agw.l.peer_max_frame, 262144); /* the controller's */
	assert_int_equal(w.agw.l.txn.peer_max_outstanding, IQP_MAX_OUTSTANDING);

	/* Twenty intervals: heartbeats, no loss. */
	size_t from_a = w.agw.nev, from_c = w.ctl.nev;
	run(&w, w.now + 20 * HB);
	assert_int_equal(count(&w.agw, IQP_LEV_LOST, from_a), 0);
	assert_int_equal(count(&w.ctl, IQP_LEV_LOST, from_c), 0);
	assert_true(count(&w.agw, IQP_LEV_HEARTBEAT, from_a) +
		    count(&w.ctl, IQP_LEV_HEARTBEAT, from_c) >= 19);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	world_free(&w);
}

/* 7.5 item 2, 7.10, 2.5: a silent AGW is closed with 1104; the AGW backs
 * off, tries the next target, and registers again, DISCONNECTED/900 with
 * its epoch (7.2.1). */
static void test_inactivity_reconnect(void **state)
{
	struct world w;
	uint64_t t0;
	int i;
	(void)state;

	world_init(&w);
	start(&w);
	w.agw.drop_out = true;
	t0 = w.now;
	run(&w, t0 + 3 * HB - 1);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	w.listening = false;
	run(&w, t0 + 3 * HB);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);
	assert_int_equal(w.ctl.close_code, IQP_ERR_INACTIVITY);
	i = last(&w.ctl, IQP_LEV_LOST);
	assert_true(i >= 0);
	assert_int_equal(w.ctl.ev_code[i], 1104);
	/* The AGW got the CLOSE: link loss with the peer's code. */
	i = last(&w.agw, IQP_LEV_LOST);
	assert_true(i >= 0);
	assert_int_equal(w.agw.ev_code[i], 1104);
	assert_true(w.agw.ev_remote[i]);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	/* n = 0: wait in [250, 500] ms, then the next target. */
	assert_true(w.agw.l.t_state >= w.now + 250 && w.agw.l.t_state <= w.now + 500);
	w.agw.drop_out = false;
	w.listening = true;
	run(&w, w.now + 600);
	assert_int_equal(w.agw.connects, 2);
	assert_int_equal(w.agw.target, 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.ctl.reg.sc_method, IQP_SC_DISCONNECTED);
	assert_int_equal(w.ctl.reg.sc_reason, 900);
	assert_int_equal(w.ctl.reg.epoch, 1767225600000ull);
	/* Same controller epoch: no restart seen by the AGW. */
	assert_int_equal(count(&w.agw, IQP_LEV_PEER_EPOCH, 0), 0);
	world_free(&w);
}

/* 7.9 items 4-5: another controller epoch is reported and flushes. */
static void test_controller_epoch(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	start(&w);
	w.ctl_epoch = 900;
	iqp_link_stop(&w.ctl.l, w.now, IQP_ERR_NORMAL_CLOSE, "restart");
	run(&w, w.now + 1000);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(count(&w.agw, IQP_LEV_PEER_EPOCH, 0), 1);
	assert_int_equal(w.agw.old_epoch, 500);
	assert_int_equal(w.agw.reg.epoch, 900);
	world_free(&w);
}


/* 7.2.3 checks 2-5 and what the AGW does after each refusal. */
static void test_refusals(void **state)
{
	struct world w;
	int i;
	(void)state;

	/* Check 2: identity, 504; error reply then CLOSE 504. */
	world_init(&w);
	w.ctl.authorize_code = IQP_ERR_FORBIDDEN;
	start(&w);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);
	assert_int_equal(w.ctl.close_code, 504);
	i = last(&w.agw, IQP_LEV_REFUSED);
	assert_true(i >= 0);
	assert_int_equal(w.agw.ev_code[i], 504);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_true(w.agw.l.t_state >= w.now + 250);
	world_free(&w);

	/* Check 4: 503 with RETRY_AFTER: the AGW closes (CLOSE 1000) and
	 * waits at least that long (2.5 item 4). */
	world_init(&w);
	w.ctl.admit_code = IQP_ERR_UNAVAILABLE;
	w.ctl.retry_after = 7000;
	start(&w);
	assert_int_equal(w.agw.close_code, IQP_ERR_NORMAL_CLOSE);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_true(w.agw.l.t_state >= w.now + 7000);
	world_free(&w);

	/* Check 5: no IMS realm, 449. */
	world_init(&w);
	w.agw.self.n_realms = 1;
	start(&w);
	assert_int_equal(w.ctl.close_code, 449);
	assert_int_equal(w.agw.ev_code[last(&w.agw, IQP_LEV_REFUSED)], 449);
	world_free(&w);

	/* Check 3: no common version, 406 with the controller's list; the
	 * AGW reconnects at once when it speaks one of them (7.3), at most
	 * MAX_REDIRECTS times in a row, then backs off. */
	world_init(&w);
	w.agw.self.n_versions = 1;
	w.agw.self.versions[0] = 0x0200;
	start(&w);
	assert_int_equal(w.ctl.close_code, 406);
	assert_int_equal(w.agw.connects, 1 + IQP_MAX_REDIRECTS);
	assert_int_equal(count(&w.agw, IQP_LEV_REFUSED, 0), 1 + IQP_MAX_REDIRECTS);
	assert_true(w.agw.l.t_state >= w.now + 250);
	world_free(&w);
}

/* 7.1.1: T_CONNECT and T_REG; 2.5: the backoff doubles to its cap. */
static void test_agw_timers(void **state)
{
	struct world w;
	uint64_t d = IQP_T_BACKOFF_BASE_MS;
	(void)state;

	world_init(&w);
	w.connect_hangs = true;
	start(&w);
	run(&w, w.now + IQP_T_CONNECT_MS);
	assert_int_equal(w.agw.closes, 1);
	assert_int_equal(count(&w.agw, IQP_LEV_FAILED, 0), 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	world_free(&w);

	/* No REGISTER reply: T_REG (the REGISTER is lost on the way). */
	world_init(&w);
	w.agw.drop_out = true;
	start(&w);
	run(&w, w.now + IQP_T_REG_MS - 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_REGISTERING);
	run(&w, w.now + 1);
	assert_int_equal(count(&w.agw, IQP_LEV_FAILED, 0), 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	world_free(&w);

	/* Refused connections: waits in [d/2, d], d doubling to 30 s. */
	world_init(&w);
	w.listening = false;
	start(&w);
	for (int n = 0; n < 10; n++) {
		uint64_t wait = w.agw.l.t_state - w.now;
		assert_true(wait >= d / 2 && wait <= d);
		assert_int_equal(w.agw.target, (size_t)(n % 2));
		run(&w, w.agw.l.t_state);
		d = d * 2 > IQP_T_BACKOFF_MAX_MS ? IQP_T_BACKOFF_MAX_MS : d * 2;
	}
	assert_int_equal(d, IQP_T_BACKOFF_MAX_MS);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_heartbeat),
		cmocka_unit_test(test_inactivity_reconnect),
		cmocka_unit_test(test_controller_epoch),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_agw_timers),
	};
	return cmocka_run_group_tests_name("iqp_link", tests, NULL, NULL);
}
