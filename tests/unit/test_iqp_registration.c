/* What an Iq+ registration is made of: REGISTER content against
 * Appendix A byte for byte, TLS sessions over memory BIOs with pinned
 * fingerprints (SPEC.md 2.2), and the AGW's realm setting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iq_realm.h"
#include "iqp_conn.h"
#include "iqp_link.h"
#include "iqp_tls.h"
#include "iqp_validate.h"


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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_content),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_realms),
	};
	return cmocka_run_group_tests_name("iqp_registration", tests, NULL, NULL);
}
