/* What an Iq+ registration is made of: REGISTER content against
 * Appendix A byte for byte, TLS sessions over memory BIOs with pinned
 * fingerprints (SPEC.md 2.2), the AGW's realm setting, and where it
 * registers: redirect and handoff (7.4) on the simulated link. */
#include "iqp_link_world.h"

/* Appendix A.1 and A.2 from the structures, byte for byte. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned x;
		assert_int_equal(sscanf(s, "%2x", &x), 1);
		out[n++] = (uint8_t)x;
	}
	return n;
}

static void test_register_content(void **state)
{
	static const char a1[] =
		"495101010000000100000001000000d88040000000056167772d3180410000000800"
		"00019b76daa8008042000000020100804300000001038044000000020385c0490000"
		"001e804a0000000400001388804b0000000400040000804c0000000400000100c080"
		"0000000a808100000004000007d0c08b0000001a808c000000027733808d00000001"
		"01808e0000000504cb00710ac08b0000001c808c00000004636f7265808d00000001"
		"02808e00000005040a00000ac0920000002c00930000000101009400000001010095"
		"00000001010095000000010280960000000200018096000000020007";
	static const char a2[] =
		"4951010200000001000000010000005180400000000770637363662d618041000000"
		"080000019b76d180408042000000020100c04900000028804a000000040000138880"
		"4b0000000400040000804c0000000400000200804d0000000400007530";
	struct iqp_header h1 = { 1, IQP_KIND_REQUEST, 0, IQP_MSG_REGISTER, 1, 0 };
	struct iqp_header h2 = { 1, IQP_KIND_REPLY, 0, IQP_MSG_REGISTER, 1, 0 };
	struct iqp_node_info s, back;
	struct iqp_link_params p = { 5000, 262144, 512, 30000 };
	struct iqp_msg m, d;
	struct iqp_error err;
	uint8_t want[512], got[512];
	size_t n, len;
	(void)state;

	memset(&s, 0, sizeof(s));
	snprintf(s.node_id, sizeof(s.node_id), "agw-1");
	s.epoch = 1767225600000ull;
	s.n_versions = 1;
	s.versions[0] = IQP_VERSION_1_0;
	s.sc_method = IQP_SC_RESTART;
	s.sc_reason = 901;
	s.params = (struct iqp_link_params){ 5000, 262144, 256, 0 };
	s.max_contexts = 2000;
	s.n_realms = 2;
	snprintf(s.realms[0].name, sizeof(s.realms[0].name), "w3");
	s.realms[0].side = 1;
	s.realms[0].n_addr = 1;
	s.realms[0].addr[0] = (struct iqp_ip){ 4, { 203, 0, 113, 10 } };
	snprintf(s.realms[1].name, sizeof(s.realms[1].name), "core");
	s.realms[1].side = 2;
	s.realms[1].n_addr = 1;
	s.realms[1].addr[0] = (struct iqp_ip){ 4, { 10, 0, 0, 10 } };
	s.caps.ice_modes = 1u << 1;
	s.caps.ice_tcp = true;
	s.caps.dtls_setups = 1u << 1 | 1u << 2;
	s.caps.n_srtp = 2;
	s.caps.srtp[0] = 1;
	s.caps.srtp[1] = 7;
	assert_int_equal(iqp_msg_init(&m, &h1, NULL, 8192), 0);
	assert_int_equal(iqp_link_reg_build_request(&m, &s), 0);
	assert_int_equal(iqp_msg_encode(&m, got, sizeof(got), &len), 0);
	n = unhex(a1, want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	iqp_msg_free(&m);
	/* And back: decoded as the controller does. */
	iqp_header_decode(got, &h1);
	assert_int_equal(iqp_msg_decode(&d, &h1, got + 16, IQP_ROLE_AGW, 0, NULL, 0, &err), 0);
	iqp_link_reg_parse_request(&d, &back);
	iqp_msg_free(&d);
	assert_string_equal(back.node_id, "agw-1");
	assert_int_equal(back.params.max_frame, 262144);
	assert_int_equal(back.caps.ice_modes, s.caps.ice_modes);
	assert_int_equal(back.caps.dtls_setups, s.caps.dtls_setups);
	assert_true(back.caps.ice_tcp);
	assert_int_equal(back.caps.srtp[1], 7);
	assert_memory_equal(&back.realms[0].addr[0], &s.realms[0].addr[0], sizeof(struct iqp_ip));
	assert_string_equal(back.realms[1].name, "core");
	assert_false(back.has_load);

	memset(&s, 0, sizeof(s));
	snprintf(s.node_id, sizeof(s.node_id), "pcscf-a");
	s.epoch = 1767225000000ull;
	assert_int_equal(iqp_msg_init(&m, &h2, NULL, 8192), 0);
	assert_int_equal(iqp_link_reg_build_reply(&m, &s, IQP_VERSION_1_0, &p), 0);
	assert_int_equal(iqp_msg_encode(&m, got, sizeof(got), &len), 0);
	n = unhex(a2, want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	iqp_msg_free(&m);

	/* 5.2 item 2: highest common major, min of the minors. */
	uint16_t agw[] = { 0x0203, 0x0105 }, ours[] = { 0x0102, 0x0300 };
	assert_int_equal(iqp_link_reg_select_version(agw, 2, ours, 2), 0x0102);
	assert_int_equal(iqp_link_reg_select_version(agw, 2, ours + 1, 1), 0);
	ours[1] = 0x0201;
	assert_int_equal(iqp_link_reg_select_version(agw, 2, ours, 2), 0x0201);
}

/* TLS over memory BIOs: handshake between two sessions. */
static int handshake(struct iqp_tls *c, struct iqp_tls *s)
{
	uint8_t buf[16384], plain[256];
	size_t n, got;
	int rc_c = 0, rc_s = 0;

	for (int i = 0; i < 20; i++) {
		rc_c = iqp_tls_read(c, plain, sizeof(plain), &got);
		while ((n = iqp_tls_take(c, buf, sizeof(buf))))
			iqp_tls_feed(s, buf, n);
		rc_s = iqp_tls_read(s, plain, sizeof(plain), &got);
		while ((n = iqp_tls_take(s, buf, sizeof(buf))))
			iqp_tls_feed(c, buf, n);
		if (rc_c || rc_s)
			break;
		if (c->established && s->established)
			return 0;
	}
	return rc_s ? rc_s : rc_c ? rc_c : EAGAIN;
}

static void test_tls(void **state)
{
	struct tls_identity agw, ctl, other;
	struct iqp_tls_ctx sc, cc, bad, tmp;
	struct iqp_tls s, c;
	char agw_fp[100], ctl_fp[100];
	const char *pin_agw[] = { agw_fp }, *pin_ctl[] = { ctl_fp };
	uint8_t fp[IQP_FP_LEN], buf[4096], plain[64];
	size_t n, got;
	char err[256];
	(void)state;

	char text[120] = "sha-256 ab:CD:";
	for (int i = 0; i < 29; i++)
		strcat(text, "00:");
	strcat(text, "01");
	assert_int_equal(iqp_tls_fingerprint_parse(text, fp), 0);
	assert_int_equal(fp[0], 0xab);
	assert_int_equal(fp[31], 1);
	assert_int_equal(iqp_tls_fingerprint_parse("abcd", fp), EINVAL);
	assert_int_equal(iqp_tls_fingerprint_parse("zz", fp), EINVAL);

	assert_int_equal(tls_identity_generate(&agw, "agw-1", 1), 0);
	assert_int_equal(tls_identity_generate(&ctl, "pcscf-a", 1), 0);
	assert_int_equal(tls_identity_generate(&other, "agw-1", 1), 0);
	snprintf(agw_fp, sizeof(agw_fp), "%s", agw.fingerprint_sha256);
	snprintf(ctl_fp, sizeof(ctl_fp), "%s", ctl.fingerprint_sha256);
	assert_int_equal(iqp_tls_ctx_init(&sc, true, &ctl, pin_agw, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(iqp_tls_ctx_init(&cc, false, &agw, pin_ctl, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(iqp_tls_ctx_init(&bad, false, &other, pin_ctl, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(iqp_tls_ctx_init(&tmp, false, &other, pin_agw, 1, "/nonexistent.pem",
					  err, sizeof(err)), ENOENT);
	assert_string_equal(err, "cannot read CA file \"/nonexistent.pem\": No such file or directory");
	pin_agw[0] = "00:11";
	assert_int_equal(iqp_tls_ctx_init(&tmp, false, &other, pin_agw, 1, NULL, err, sizeof(err)),
			 EINVAL);
	assert_string_equal(err, "\"00:11\" is not a SHA-256 fingerprint");

	/* Pinned both ways, with the controller's name checked (2.2 item 5). */
	assert_int_equal(iqp_tls_init(&s, &sc, NULL), 0);
	assert_int_equal(iqp_tls_init(&c, &cc, "pcscf-a"), 0);
	assert_int_equal(handshake(&c, &s), 0);
	assert_true(iqp_tls_peer_has_name(&s, "agw-1")); /* 2.2 item 4 */
	assert_false(iqp_tls_peer_has_name(&s, "agw-2"));
	assert_string_equal(s.peer_fp, agw_fp);
	/* Data both ways. */
	assert_int_equal(iqp_tls_write(&c, (const uint8_t *)"IQ", 2), 0);
	n = iqp_tls_take(&c, buf, sizeof(buf));
	iqp_tls_feed(&s, buf, n);
	assert_int_equal(iqp_tls_read(&s, plain, sizeof(plain), &got), 0);
	assert_int_equal(got, 2);
	iqp_tls_shutdown(&s);
	n = iqp_tls_take(&s, buf, sizeof(buf));
	iqp_tls_feed(&c, buf, n);
	assert_int_equal(iqp_tls_read(&c, plain, sizeof(plain), &got), ECONNRESET);
	iqp_tls_free(&s);
	iqp_tls_free(&c);

	/* An AGW certificate that is not pinned: refused by the controller. */
	assert_int_equal(iqp_tls_init(&s, &sc, NULL), 0);
	assert_int_equal(iqp_tls_init(&c, &bad, NULL), 0);
	assert_int_equal(handshake(&c, &s), EPROTO);
	assert_true(s.auth_failed);
	assert_string_equal(s.why, "certificate not trusted: fingerprint not pinned");
	assert_string_equal(s.peer_fp, other.fingerprint_sha256);
	iqp_tls_free(&s);
	iqp_tls_free(&c);

	/* A controller without the expected name: refused by the AGW. */
	assert_int_equal(iqp_tls_init(&s, &sc, NULL), 0);
	assert_int_equal(iqp_tls_init(&c, &cc, "pcscf-b"), 0);
	assert_int_equal(handshake(&c, &s), EPROTO);
	assert_true(c.auth_failed);
	assert_non_null(strstr(c.why, "pcscf-b"));
	iqp_tls_free(&s);
	iqp_tls_free(&c);

	iqp_tls_ctx_free(&sc);
	iqp_tls_ctx_free(&cc);
	iqp_tls_ctx_free(&bad);
	tls_identity_free(&agw);
	tls_identity_free(&ctl);
	tls_identity_free(&other);
}

/* The AGW's iq.realm syntax (eims-agw/iq_realm.h). */
static void test_realms(void **state)
{
	struct iqp_realm r[IQP_MAX_REALMS];
	char err[200];
	size_t n = 0;
	(void)state;

	assert_int_equal(iq_realm_parse(" w3=127.0.0.1  core:ims=10.0.0.10,[fd00::a],fd00::b\t"
					"dmz:BOTH=192.0.2.1 ", r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].name, "w3");
	assert_int_equal(r[0].side, 1);
	assert_int_equal(r[1].side, 2);
	assert_int_equal(r[1].n_addr, 3);
	assert_int_equal(r[1].addr[1].family, 6);
	assert_int_equal(r[1].addr[2].addr[15], 0x0b);
	assert_int_equal(r[2].side, 3);
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "no realm (NAME[:SIDE]=ADDR[,ADDR...])" },
		{ "w3", "\"w3\" is not NAME[:SIDE]=ADDR[,ADDR...]" },
		{ "core=10.0.0.1", "realm \"core\": give its side (NAME:w3, NAME:ims or NAME:both)" },
		{ "core:up=10.0.0.1", "realm \"core\": side must be w3, ims or both" },
		{ "w3=10.0.0.300", "realm \"w3\": \"10.0.0.300\" is not an IP address" },
		{ "w3=1.1.1.1,", "realm \"w3\": \"\" is not an IP address" },
		{ "w3=1.1.1.1 w3=2.2.2.2", "realm \"w3\" defined twice" },
		{ "b/d:w3=1.1.1.1", "realm name \"b/d\" has characters outside A-Z a-z 0-9 . _ -" },
		{ "w3=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
		  "realm \"w3\": more than 8 addresses" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(iq_realm_parse(bad[i].in, r, &n, err, sizeof(err)), EINVAL);
		assert_string_equal(err, bad[i].why);
	}
}


/* The REDIRECT_TARGETs of the controller of the world: ports 7001, 7002
 * on 192.0.2.1, the first naming its certificate. */
static void redirect_to(struct world *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct iqp_redirect *t = &w->redir_to[i];
		memset(t, 0, sizeof(*t));
		t->addr.ip = (struct iqp_ip){ 4, { 192, 0, 2, 1 } };
		t->addr.port = (uint16_t)(7001 + i);
		if (i == 0)
			snprintf(t->name, sizeof(t->name), "pcscf-b");
	}
	w->n_redir_to = n;
}

/* The REGISTER of the last connection, read by the controller of the
 * world (refused or not). */
static void last_register(struct world *w, struct iqp_node_info *out)
{
	*out = w->ctl.l.peer;
}

/* 7.4 item 1: 1300 with targets: CLOSE 1000, the first target at once
 * with its TARGET_NAME, REGISTER HANDOFF 903 with the epoch unchanged;
 * after the registration the configured list is used again. */
static void test_redirect(void **state)
{
	struct world w;
	struct iqp_node_info r;
	(void)state;

	world_init(&w);
	redirect_to(&w, 2);
	w.redirect_left = 1;
	start(&w);
	assert_int_equal(w.agw.closes, 1);
	assert_int_equal(w.agw.close_code, IQP_ERR_NORMAL_CLOSE);
	assert_int_equal(count(&w.agw, IQP_LEV_REDIRECTED, 0), 1);
	assert_int_equal(w.agw.ev_code[last(&w.agw, IQP_LEV_REFUSED)], IQP_ERR_REDIRECT);
	assert_int_equal(w.now, 1000); /* no backoff */
	assert_int_equal(w.agw.connects, 2);
	assert_true(w.agw.to_redirect);
	assert_int_equal(w.agw.redirect.addr.port, 7001);
	assert_string_equal(w.agw.redirect.name, "pcscf-b");
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	last_register(&w, &r);
	assert_int_equal(r.sc_method, IQP_SC_HANDOFF);
	assert_int_equal(r.sc_reason, 903);
	assert_int_equal(r.epoch, 1767225600000ull);
	assert_null(iqp_link_redirect_target(&w.agw.l));
	assert_int_equal(w.agw.l.redirects, 0);

	/* A later loss: the configured list, with backoff, DISCONNECTED. */
	iqp_link_stop(&w.ctl.l, w.now, IQP_ERR_NORMAL_CLOSE, "bye");
	run(&w, w.now);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_true(w.agw.l.t_state >= w.now + 250);
	run(&w, w.now + 600);
	assert_false(w.agw.to_redirect);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	last_register(&w, &r);
	assert_int_equal(r.sc_method, IQP_SC_DISCONNECTED);
	world_free(&w);
}

/* 7.4 items 1, 4: a failing target is skipped at once; when every target
 * has failed the AGW returns to its configured list with backoff. */
static void test_redirect_targets_fail(void **state)
{
	struct world w;
	struct iqp_node_info r;
	(void)state;

	world_init(&w);
	redirect_to(&w, 2);
	w.redirect_left = 1;
	w.refuse_port[0] = 7001;
	start(&w);
	assert_int_equal(w.agw.connects, 3);
	assert_int_equal(w.agw.redirect.addr.port, 7002);
	assert_string_equal(w.agw.redirect.name, "");
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.now, 1000);
	last_register(&w, &r);
	assert_int_equal(r.sc_method, IQP_SC_HANDOFF);
	world_free(&w);

	world_init(&w);
	redirect_to(&w, 2);
	w.redirect_left = 1;
	w.refuse_port[0] = 7001;
	w.refuse_port[1] = 7002;
	start(&w);
	assert_int_equal(w.agw.connects, 3);
	assert_int_equal(count(&w.agw, IQP_LEV_FAILED, 0), 3);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_null(iqp_link_redirect_target(&w.agw.l));
	assert_true(w.agw.l.t_state >= w.now + 250 && w.agw.l.t_state <= w.now + 500);
	run(&w, w.now + 500);
	assert_int_equal(w.agw.connects, 4);
	assert_false(w.agw.to_redirect);
	assert_int_equal(w.agw.target, 1); /* the next configured one */
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	last_register(&w, &r);
	assert_int_equal(r.sc_method, IQP_SC_RESTART); /* never registered: cold */
	assert_int_equal(r.sc_reason, 901);
	world_free(&w);
}

/* 7.4 item 3, 2.5 item 4: at most MAX_REDIRECTS redirects in a row; the
 * next 1300 sends the AGW back to its configured list with backoff. */
static void test_redirect_limit(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	redirect_to(&w, 1);
	w.redirect_left = 100;
	start(&w);
	assert_int_equal(w.agw.connects, 1 + IQP_MAX_REDIRECTS);
	assert_int_equal(count(&w.agw, IQP_LEV_REDIRECTED, 0), IQP_MAX_REDIRECTS);
	assert_int_equal(count(&w.agw, IQP_LEV_REFUSED, 0), 1 + IQP_MAX_REDIRECTS);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_null(iqp_link_redirect_target(&w.agw.l));
	assert_true(w.agw.l.t_state >= w.now + 250);
	w.redirect_left = 0;
	run(&w, w.now + 500);
	assert_false(w.agw.to_redirect);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	world_free(&w);

	/* Without a redirect hook the controller refuses with 503. */
	world_init(&w);
	w.ctl_hooks.redirect = NULL;
	w.redirect_left = 1;
	start(&w);
	assert_int_equal(w.agw.ev_code[last(&w.agw, IQP_LEV_REFUSED)], IQP_ERR_UNAVAILABLE);
	assert_int_equal(count(&w.agw, IQP_LEV_REDIRECTED, 0), 0);
	world_free(&w);
}

/* 7.4 item 2: a handoff after the SERVICE_CHANGE reply: CLOSE 1000 (a
 * link loss), then the targets at once, HANDOFF 903. */
static void test_handoff(void **state)
{
	struct world w;
	struct iqp_node_info r;
	(void)state;

	world_init(&w);
	start(&w);
	redirect_to(&w, 2);
	assert_int_equal(iqp_link_handoff(&w.agw.l, w.now, w.redir_to, 0), EINVAL);
	assert_int_equal(iqp_link_handoff(&w.ctl.l, w.now, w.redir_to, 2), EINVAL);
	assert_int_equal(iqp_link_handoff(&w.agw.l, w.now, w.redir_to, 2), 0);
	assert_int_equal(w.agw.close_code, IQP_ERR_NORMAL_CLOSE);
	assert_int_equal(count(&w.agw, IQP_LEV_LOST, 0), 1);
	assert_int_equal(w.agw.ev_code[last(&w.agw, IQP_LEV_REDIRECTED)], 903);
	run(&w, w.now);
	/* The old controller link saw the CLOSE 1000: a link loss. */
	assert_int_equal(count(&w.ctl, IQP_LEV_LOST, 0), 1);
	assert_int_equal(w.ctl.ev_code[last(&w.ctl, IQP_LEV_LOST)], IQP_ERR_NORMAL_CLOSE);
	assert_int_equal(w.agw.connects, 2);
	assert_int_equal(w.agw.redirect.addr.port, 7001);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	last_register(&w, &r);
	assert_int_equal(r.sc_method, IQP_SC_HANDOFF);
	assert_int_equal(r.sc_reason, 903);
	assert_int_equal(iqp_link_handoff(&w.agw.l, w.now, w.redir_to, 1), 0);
	iqp_link_stop(&w.agw.l, w.now, IQP_ERR_NORMAL_CLOSE, "bye");
	assert_int_equal(iqp_link_handoff(&w.agw.l, w.now, w.redir_to, 1), ENOTCONN);
	world_free(&w);
}

/* 12.1.2: REDIRECT_TARGET built and read back; TARGET_ADDR port 0 is
 * refused by validation (4.2). */
static void test_redirect_elements(void **state)
{
	struct iqp_header h = { 1, IQP_KIND_REPLY, IQP_FLAG_E, IQP_MSG_REGISTER, 9, 0 };
	struct iqp_redirect t[3], back[8];
	struct iqp_msg m, d;
	struct iqp_error err;
	uint8_t buf[1024];
	size_t n;
	(void)state;

	memset(t, 0, sizeof(t));
	t[0].addr = (struct iqp_ipport){ { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } }, 7190 };
	snprintf(t[0].name, sizeof(t[0].name), "pcscf-c.example");
	t[1].addr = (struct iqp_ipport){ { 4, { 10, 0, 0, 2 } }, 7191 };
	t[2].addr = (struct iqp_ipport){ { 4, { 10, 0, 0, 1 } }, 0 };
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	assert_int_equal(iqp_link_reg_add_error(&m, IQP_ERR_REDIRECT, "elsewhere", 0), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(iqp_link_reg_add_redirect(&m, &t[i]), 0);
	assert_int_equal(iqp_msg_encode(&m, buf, sizeof(buf), &n), 0);
	iqp_msg_free(&m);
	iqp_header_decode(buf, &h);
	assert_int_equal(iqp_msg_decode(&d, &h, buf + IQP_HEADER_LEN, IQP_ROLE_CONTROLLER, 0,
					NULL, 0, &err), 0);
	assert_int_equal(iqp_link_reg_redirects(&d, back, 8), 2);
	assert_int_equal(back[0].addr.port, 7190);
	assert_memory_equal(&back[0].addr.ip, &t[0].addr.ip, sizeof(struct iqp_ip));
	assert_string_equal(back[0].name, "pcscf-c.example");
	assert_int_equal(back[1].addr.port, 7191);
	assert_string_equal(back[1].name, "");
	assert_int_equal(iqp_link_reg_redirects(&d, back, 1), 1);
	iqp_msg_free(&d);

	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	iqp_link_reg_add_error(&m, IQP_ERR_REDIRECT, "elsewhere", 0);
	assert_int_equal(iqp_link_reg_add_redirect(&m, &t[2]), 0);
	assert_int_equal(iqp_msg_encode(&m, buf, sizeof(buf), &n), 0);
	iqp_msg_free(&m);
	iqp_header_decode(buf, &h);
	assert_int_equal(iqp_msg_decode(&d, &h, buf + IQP_HEADER_LEN, IQP_ROLE_CONTROLLER, 0,
					NULL, 0, &err), EBADMSG);
	iqp_msg_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_content),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_realms),
		cmocka_unit_test(test_redirect_elements),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_redirect_targets_fail),
		cmocka_unit_test(test_redirect_limit),
		cmocka_unit_test(test_handoff),
	};
	return cmocka_run_group_tests_name("iqp_registration", tests, NULL, NULL);
}
