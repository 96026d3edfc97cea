/* The pure pieces of WWSF range registrations (range_register.h): the SIP
 * form of a range (TS 23.003 13.4A/13.5 wildcarded identity, IMPI,
 * domain), the REGISTER the eP-CSCF sends for it (RFC 6140 bnc contact,
 * gin, Path naming the range, TNA Authorization), the lifetime a 2xx
 * grants, and the IMPU a terminating request is for; bad input for each. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sofia-sip/sip_header.h>

#include "range_register.h"
#include "reg_binding.h"
#include "sip_msg.h"

static const unsigned char RND[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				       13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
static const unsigned char RND2[24] = { 0xff, 0xfe, 0xfd };

static msg_t *parse(const char *text)
{
	msg_t *msg = NULL;
	struct sip_msg_error e;
	assert_int_equal(sip_msg_parse(text, strlen(text), &msg, &e), 0);
	return msg;
}

static void test_range_forms(void **state)
{
	struct range_table t = { 0 };
	struct wwsf a = { .name = "a" }, b = { .name = "b" };
	int err = 0;
	(void)state;

	struct range_reg *r = range_table_get(&t, &a, "sip:guest-*@ims.test", RND, "127.0.0.1:5070",
					      &err);
	assert_non_null(r);
	assert_int_equal(r->state, RANGE_IDLE);
	assert_string_equal(r->wildcarded, "sip:guest-!.*!@ims.test");
	assert_string_equal(r->impi, "guest-!.*!@ims.test");
	assert_string_equal(r->domain, "ims.test");
	assert_string_equal(r->token, "wr0102030405060708090a0b0c");
	assert_int_equal(strlen(r->token), RANGE_TOKEN_LEN);
	assert_string_equal(r->call_id, "0d0e0f1011121314@127.0.0.1");
	assert_string_equal(r->from_tag, "15161718");
	/* The same range again; the same pattern of another WWSF is another. */
	assert_ptr_equal(range_table_get(&t, &a, "sip:guest-*@ims.test", RND, "x", &err), r);
	struct range_reg *rb = range_table_get(&t, &b, "sip:guest-*@ims.test", RND2, "x", &err);
	assert_non_null(rb);
	assert_ptr_not_equal(rb, r);
	/* A '*' in the middle of the user part. */
	struct range_reg *m = range_table_get(&t, &a, "sip:a*z@x.test", RND2, "x", &err);
	assert_non_null(m);
	assert_string_equal(m->wildcarded, "sip:a!.*!z@x.test");
	assert_string_equal(m->impi, "a!.*!z@x.test");
	assert_string_equal(rb->token, "wrfffefd000000000000000000");
	assert_ptr_equal(range_table_by_token(&t, r->token), r);
	assert_ptr_equal(range_table_by_call_id(&t, r->call_id), r);
	assert_null(range_table_by_token(&t, "wr"));
	assert_null(range_table_by_call_id(&t, "nope"));

	/* No SIP form to register: a tel: range, no '*', no domain. */
	static const char *const bad[] = { "tel:+1555*", "sip:alice@ims.test", "sip:guest-*",
					   "sip:guest-*@" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		assert_null(range_table_get(&t, &a, bad[i], RND, "x", &err));
		assert_int_equal(err, EINVAL);
	}
	char longp[WWSF_PATTERN_MAX + 8];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "sip:*@", 6);
	assert_null(range_table_get(&t, &a, longp, RND, "x", &err));
	assert_int_equal(err, EINVAL);
	range_table_free(&t);
	assert_null(t.head);
}

static void test_register_text(void **state)
{
	struct range_table t = { 0 };
	struct wwsf a = { .name = "a" };
	int err;
	char out[4096];
	size_t n = 0;
	(void)state;

	struct range_reg *r = range_table_get(&t, &a, "sip:guest-*@ims.test", RND, "127.0.0.1:5070",
					      &err);
	assert_non_null(r);
	r->cseq = 3;
	struct range_reg_hop h = {
		.via = "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport",
		.ims_host = "127.0.0.1:5070", .transport = "", .visited = "ims.test",
		.authorization = "Authorization: Digest username=\"guest-!.*!@ims.test\", "
				 "realm=\"ims.test\", uri=\"sip:ims.test\", nonce=\"\", response=\"\", "
				 "integrity-protected=\"auth-done\"",
	};
	assert_int_equal(range_reg_print(r, &h, 600, out, sizeof(out), &n), 0);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out,
		"REGISTER sip:ims.test SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:guest-!.*!@ims.test>;tag=15161718\r\n"
		"To: <sip:guest-!.*!@ims.test>\r\n"
		"Call-ID: 0d0e0f1011121314@127.0.0.1\r\n"
		"CSeq: 3 REGISTER\r\n"
		"Contact: <sip:127.0.0.1:5070;bnc>;expires=600\r\n"
		"Expires: 600\r\n"
		"Require: gin\r\n"
		"Proxy-Require: gin\r\n"
		"Supported: path, gin\r\n"
		"Path: <sip:wr0102030405060708090a0b0c@127.0.0.1:5070;lr>\r\n"
		"P-Visited-Network-ID: \"ims.test\"\r\n"
		"Authorization: Digest username=\"guest-!.*!@ims.test\", realm=\"ims.test\", "
		"uri=\"sip:ims.test\", nonce=\"\", response=\"\", integrity-protected=\"auth-done\"\r\n"
		"Content-Length: 0\r\n\r\n");
	/* It parses; the wildcarded identity is an ordinary SIP URI on the
	 * wire (TS 23.003 13.5).  (The eP-CSCF, a proxy supporting no
	 * extension, would itself refuse a request that proxy-requires gin:
	 * 420.) */
	msg_t *msg = NULL;
	struct sip_msg_error e;
	assert_int_equal(sip_msg_parse(out, n, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 420);
	assert_non_null(msg);
	sip_t const *sip = sip_object(msg);
	assert_string_equal(sip->sip_to->a_url->url_user, "guest-!.*!");
	assert_null(sip->sip_contact->m_url->url_user);
	assert_true(url_has_param(sip->sip_contact->m_url, "bnc"));
	msg_destroy(msg);
	/* De-registration; a buffer too small. */
	h.transport = ";transport=tcp";
	assert_int_equal(range_reg_print(r, &h, 0, out, sizeof(out), &n), 0);
	assert_non_null(strstr(out, "Contact: <sip:127.0.0.1:5070;transport=tcp;bnc>;expires=0\r\n"));
	assert_non_null(strstr(out, "\r\nExpires: 0\r\n"));
	assert_int_equal(range_reg_print(r, &h, 600, out, 100, &n), EMSGSIZE);
	range_table_free(&t);
}

#define RSP_HEAD \
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" \
	"From: <sip:guest-!.*!@ims.test>;tag=1\r\nTo: <sip:guest-!.*!@ims.test>;tag=2\r\n" \
	"Call-ID: c\r\nCSeq: 1 REGISTER\r\n"

static long granted(const char *text)
{
	msg_t *msg = parse(text);
	long v = range_reg_granted(sip_object(msg), "127.0.0.1:5070");
	msg_destroy(msg);
	return v;
}

static void test_granted(void **state)
{
	(void)state;
	assert_int_equal(granted(RSP_HEAD "Contact: <sip:10.0.0.1:5060>;expires=99, "
				 "<sip:127.0.0.1:5070;bnc>;expires=300\r\nContent-Length: 0\r\n\r\n"),
			 300);
	assert_int_equal(granted(RSP_HEAD "Contact: <sip:127.0.0.1:5070;bnc>\r\nExpires: 120\r\n"
				 "Content-Length: 0\r\n\r\n"),
			 120);
	assert_int_equal(granted(RSP_HEAD "Contact: <sip:127.0.0.1:5070;bnc>\r\n"
				 "Content-Length: 0\r\n\r\n"),
			 3600);
	/* Not ours: another host or port, a user part, no bnc; or removed. */
	static const char *const none[] = {
		RSP_HEAD "Contact: <sip:127.0.0.1:5071;bnc>;expires=300\r\nContent-Length: 0\r\n\r\n",
		RSP_HEAD "Contact: <sip:x@127.0.0.1:5070;bnc>;expires=300\r\nContent-Length: 0\r\n\r\n",
		RSP_HEAD "Contact: <sip:127.0.0.1:5070>;expires=300\r\nContent-Length: 0\r\n\r\n",
		RSP_HEAD "Contact: <sip:127.0.0.1:5070;bnc>;expires=0\r\nContent-Length: 0\r\n\r\n",
		RSP_HEAD "Contact: <sip:127.0.0.1:5070;bnc>;expires=-5\r\nContent-Length: 0\r\n\r\n",
		RSP_HEAD "Contact: <sip:127.0.0.1:5070;bnc>;expires=junk\r\nContent-Length: 0\r\n\r\n",
		RSP_HEAD "Content-Length: 0\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(granted(none[i]), 0);
}

#define REQ_TAIL \
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9\r\n" \
	"From: <sip:uac@ims.test>;tag=1\r\nTo: <sip:guest-7@ims.test>\r\n" \
	"Call-ID: t\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 69\r\n"

static int called(const char *text, char *out, size_t len)
{
	struct range_table t = { 0 };
	struct wwsf a = { .name = "a" };
	int err;
	struct range_reg *r = range_table_get(&t, &a, "sip:guest-*@ims.test", RND, "h:1", &err);
	msg_t *msg = parse(text);
	int rc = range_called_impu(sip_object(msg), r, out, len);
	msg_destroy(msg);
	range_table_free(&t);
	return rc;
}

static void test_called_impu(void **state)
{
	char out[IMPU_MAX];
	(void)state;
	/* P-Called-Party-ID first (TS 24.229): name-addr with URI and header
	 * parameters, a display name, an addr-spec. */
	assert_int_equal(called("MESSAGE sip:guest-7@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"P-Called-Party-ID: <sip:guest-8@ims.test;user=phone>;x=1\r\n"
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), 0);
	assert_string_equal(out, "sip:guest-8@ims.test");
	assert_int_equal(called("MESSAGE sip:x@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"P-Called-Party-ID: \"Guest\" <sip:guest-9@ims.test>\r\n"
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), 0);
	assert_string_equal(out, "sip:guest-9@ims.test");
	assert_int_equal(called("MESSAGE sip:x@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"P-Called-Party-ID: sip:guest-10@ims.test;user=phone\r\n"
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), 0);
	assert_string_equal(out, "sip:guest-10@ims.test");
	/* Else the Request-URI's user part in the range's domain (RFC 6140). */
	assert_int_equal(called("MESSAGE sip:guest-7@127.0.0.1:5070;bnc SIP/2.0\r\n" REQ_TAIL
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), 0);
	assert_string_equal(out, "sip:guest-7@ims.test");
	/* Bad: a tel: P-Called-Party-ID, an empty one, no user part, too long. */
	assert_int_equal(called("MESSAGE sip:guest-7@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"P-Called-Party-ID: <tel:+15551234>\r\n"
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), EINVAL);
	assert_int_equal(called("MESSAGE sip:guest-7@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"P-Called-Party-ID: <>\r\n"
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), EINVAL);
	assert_int_equal(called("MESSAGE sip:127.0.0.1:5070;bnc SIP/2.0\r\n" REQ_TAIL
				"Content-Length: 0\r\n\r\n", out, sizeof(out)), EINVAL);
	assert_int_equal(called("MESSAGE sip:guest-7@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"Content-Length: 0\r\n\r\n", out, 12), EINVAL);
	assert_int_equal(called("MESSAGE sip:guest-7@127.0.0.1:5070 SIP/2.0\r\n" REQ_TAIL
				"P-Called-Party-ID: <sip:guest-8@ims.test>\r\n"
				"Content-Length: 0\r\n\r\n", out, 12), EINVAL);
}

/* A guest's binding is made by the eP-CSCF itself (reg_set_local). */
static void test_local_binding(void **state)
{
	struct reg_table t = { 0 };
	char longi[REG_URI_MAX + 4];
	(void)state;
	assert_int_equal(reg_set_local(&t, 7, "sip:guest-7@ims.test", "<sip:orig@s.test;lr>", 1000), 0);
	struct reg_binding *b = reg_find(&t, 7);
	assert_non_null(b);
	assert_int_equal(b->n_impu, 1);
	assert_string_equal(reg_asserted_identity(b, NULL), "sip:guest-7@ims.test");
	/* It asserts its own IMPU only, never the range's. */
	assert_string_equal(reg_asserted_identity(b, "<sip:guest-!.*!@ims.test>"), "sip:guest-7@ims.test");
	assert_string_equal(b->service_route, "<sip:orig@s.test;lr>");
	assert_int_equal(b->expires_ms, 1000);
	/* A refresh replaces; no Service-Route is none. */
	assert_int_equal(reg_set_local(&t, 7, "sip:guest-7@ims.test", NULL, 2000), 0);
	assert_ptr_equal(reg_find(&t, 7), b);
	assert_null(b->service_route);
	assert_int_equal(t.n, 1);
	memset(longi, 'a', sizeof(longi) - 1);
	longi[sizeof(longi) - 1] = '\0';
	assert_int_equal(reg_set_local(&t, 8, longi, NULL, 1), EINVAL);
	assert_null(reg_find(&t, 8));
	reg_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_forms),
		cmocka_unit_test(test_register_text),
		cmocka_unit_test(test_granted),
		cmocka_unit_test(test_called_impu),
		cmocka_unit_test(test_local_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
