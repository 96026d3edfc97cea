/* The eP-CSCF's pure parts: WWSF origin policy, flow table and flow
 * tokens, registration bindings (from messages parsed with msg_make). */
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

#include "conf.h"
#include "flow_table.h"
#include "reg_binding.h"
#include "wwsf_policy.h"

/* ---- WWSF policy ---------------------------------------------------- */

static void test_origin_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "https://a.example", "https://a.example" },
		{ "HTTPS://WWW.A.Example.COM", "https://www.a.example.com" },
		{ "https://a.example:443", "https://a.example" },
		{ "http://a.example:80", "http://a.example" },
		{ "http://a.example:443", "http://a.example:443" },
		{ "https://a.example:80", "https://a.example:80" },
		{ "https://a.example:8443", "https://a.example:8443" },
		{ "https://a.example:00443", "https://a.example" },
		{ "https://192.0.2.1:65535", "https://192.0.2.1:65535" },
		{ "https://[2001:DB8::1]", "https://[2001:db8::1]" },
		{ "https://[2001:db8::1]:443", "https://[2001:db8::1]" },
		{ "http://[::ffff:192.0.2.1]:8080", "http://[::ffff:192.0.2.1]:8080" },
	};
	static const char *const bad[] = {
		"null", "", "https://", "http://", "wss://a.example", "ftp://a.example",
		"https:/a.example", "a.example", "https://a.example/", "https://a.example/app",
		"https://a.example?x=1", "https://a.example#top", "https://user@a.example",
		"https://a example", "https://a.example\t", "https://a.example:",
		"https://a.example:0", "https://a.example:65536", "https://a.example:123456",
		"https://a.example:44x", "https://a.example:-1", "https://a.example:+443",
		"https://:443", "https://[::1", "https://[::1]x", "https://[::1]:",
		"https://[]", "https://[]:443", "https://[zz::1]", "https://[::1%eth0]",
		"https://a]b", "https://a[b", "https://\xc3\xa9.example", "https://a.example:8443:1",
	};
	char out[WWSF_ORIGIN_MAX];
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(out, 0, sizeof(out));
		if (wwsf_origin_normalize(ok[i].in, out, sizeof(out)))
			fail_msg("\"%s\" refused", ok[i].in);
		assert_string_equal(out, ok[i].out);
		/* Normalizing is idempotent. */
		char again[WWSF_ORIGIN_MAX];
		assert_int_equal(wwsf_origin_normalize(out, again, sizeof(again)), 0);
		assert_string_equal(again, out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wwsf_origin_normalize(bad[i], out, sizeof(out)) != EINVAL)
			fail_msg("\"%s\" accepted as \"%s\"", bad[i], out);

	/* The output buffer bounds the result (room is kept for a port). */
	char small[27];
	assert_int_equal(wwsf_origin_normalize("https://abc.example", small, sizeof(small)), 0);
	assert_string_equal(small, "https://abc.example");
	assert_int_equal(wwsf_origin_normalize("https://abcd.example", small, sizeof(small)),
			 EINVAL);
	char big[400];
	memcpy(big, "https://", 8);
	memset(big + 8, 'a', 300);
	big[308] = '\0';
	assert_int_equal(wwsf_origin_normalize(big, out, sizeof(out)), EINVAL);
}

/* Loads lines as the config file would give them; returns the code and
 * leaves the message in err. */
static int load(struct wwsf_policy *p, const char *const *lines, size_t n, char *err)
{
	char *items[8], *where[8];
	char wbuf[8][32];
	struct conf_list l = { .n = n, .items = items, .where = where };

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		items[i] = (char *)lines[i];
		snprintf(wbuf[i], sizeof(wbuf[i]), "ep.conf:%zu", i + 10);
		where[i] = wbuf[i];
	}
	err[0] = '\0';
	return wwsf_policy_load(p, &l, err, CONF_ERR_MAX);
}

static void expect_error(const char *line, const char *msg)
{
	struct wwsf_policy p;
	char err[CONF_ERR_MAX];
	const char *lines[1] = { line };

	assert_int_equal(load(&p, lines, 1, err), EINVAL);
	assert_string_equal(err, msg);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
}

static void test_policy_syntax(void **state)
{
	(void)state;
	expect_error("", "ep.conf:10: wwsf: expected \"NAME origins=ORIGIN[,ORIGIN...]\"");
	expect_error("   ", "ep.conf:10: wwsf: expected \"NAME origins=ORIGIN[,ORIGIN...]\"");
	expect_error("origins=https://a.example",
		     "ep.conf:10: wwsf: expected \"NAME origins=ORIGIN[,ORIGIN...]\"");
	expect_error("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
		     "origins=https://a.example",
		     "ep.conf:10: wwsf: expected \"NAME origins=ORIGIN[,ORIGIN...]\"");
	expect_error("shop", "ep.conf:10: wwsf shop: no origins");
	expect_error("shop origins=", "ep.conf:10: wwsf shop: no origins");
	expect_error("shop origins=,,", "ep.conf:10: wwsf shop: no origins");
	expect_error("shop origin=https://a.example",
		     "ep.conf:10: wwsf shop: unknown attribute \"origin=https://a.example\"");
	expect_error("shop origins=https://a.example tokens=yes",
		     "ep.conf:10: wwsf shop: unknown attribute \"tokens=yes\"");
	expect_error("shop origins=https://a.example/",
		     "ep.conf:10: wwsf shop: \"https://a.example/\" is not an origin "
		     "(scheme://host[:port])");
	expect_error("shop origins=https://a.example,null",
		     "ep.conf:10: wwsf shop: \"null\" is not an origin (scheme://host[:port])");
	expect_error("shop origins=https://a.example:99999",
		     "ep.conf:10: wwsf shop: \"https://a.example:99999\" is not an origin "
		     "(scheme://host[:port])");
}

static void test_policy_duplicates(void **state)
{
	struct wwsf_policy p;
	char err[CONF_ERR_MAX];
	(void)state;

	const char *twice_name[] = { "shop origins=https://a.example",
				     "shop origins=https://b.example" };
	assert_int_equal(load(&p, twice_name, 2, err), EINVAL);
	assert_string_equal(err, "ep.conf:11: wwsf shop: defined twice");
	assert_int_equal(p.n, 0);

	/* The same origin twice, written differently. */
	const char *twice_in_one[] = { "shop origins=https://a.example,HTTPS://A.EXAMPLE:443" };
	assert_int_equal(load(&p, twice_in_one, 1, err), EINVAL);
	assert_string_equal(err, "ep.conf:10: wwsf shop: origin \"https://a.example\" already "
				 "listed under wwsf shop");

	/* Under two WWSFs, the match would depend on the line order. */
	const char *twice_in_two[] = { "shop origins=https://a.example,https://b.example",
				       "blog origins=https://c.example https://B.example" };
	assert_int_equal(load(&p, twice_in_two, 2, err), EINVAL);
	assert_string_equal(err, "ep.conf:11: wwsf blog: unknown attribute \"https://B.example\"");
	const char *twice_in_two_b[] = { "shop origins=https://a.example,https://b.example",
					 "blog origins=https://c.example,https://B.example" };
	assert_int_equal(load(&p, twice_in_two_b, 2, err), EINVAL);
	assert_string_equal(err, "ep.conf:11: wwsf blog: origin \"https://b.example\" already "
				 "listed under wwsf shop");
	assert_int_equal(p.n, 0);

	/* Same host, other scheme or port: distinct origins. */
	const char *distinct[] = { "shop origins=https://a.example,http://a.example",
				   "blog origins=https://a.example:8443" };
	assert_int_equal(load(&p, distinct, 2, err), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].n_origins, 2);
	wwsf_policy_free(&p);
}

static void test_policy_match(void **state)
{
	struct wwsf_policy p;
	char err[CONF_ERR_MAX];
	(void)state;

	const char *lines[] = { "shop origins=https://shop.example,https://[2001:db8::5]:8443",
				"\tblog\t origins=http://blog.example:8080 " };
	assert_int_equal(load(&p, lines, 2, err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.v[0].name, "shop");
	assert_string_equal(p.v[1].name, "blog");
	assert_string_equal(p.v[0].origins[1], "https://[2001:db8::5]:8443");

	assert_ptr_equal(wwsf_policy_match(&p, "https://shop.example"), &p.v[0]);
	assert_ptr_equal(wwsf_policy_match(&p, "https://SHOP.example:443"), &p.v[0]);
	assert_ptr_equal(wwsf_policy_match(&p, "https://[2001:DB8::5]:8443"), &p.v[0]);
	assert_ptr_equal(wwsf_policy_match(&p, "http://blog.example:8080"), &p.v[1]);
	assert_null(wwsf_policy_match(&p, "http://shop.example"));
	assert_null(wwsf_policy_match(&p, "https://shop.example:8443"));
	assert_null(wwsf_policy_match(&p, "https://shop.example.evil.example"));
	assert_null(wwsf_policy_match(&p, "https://evil.example/https://shop.example"));
	assert_null(wwsf_policy_match(&p, "https://shop.example/"));
	assert_null(wwsf_policy_match(&p, "null"));
	assert_null(wwsf_policy_match(&p, ""));
	assert_null(wwsf_policy_match(&p, NULL));
	wwsf_policy_free(&p);
	assert_int_equal(p.n, 0);
	assert_null(p.v);

	/* No wwsf lines: an empty policy that matches nothing. */
	assert_int_equal(load(&p, lines, 0, err), 0);
	assert_null(wwsf_policy_match(&p, "https://shop.example"));
	wwsf_policy_free(&p);
}

/* A line longer than any fixed buffer keeps all its origins intact. */
static void test_policy_long_line(void **state)
{
	struct wwsf_policy p;
	char err[CONF_ERR_MAX];
	char line[4096];
	size_t pos = (size_t)snprintf(line, sizeof(line), "many origins=");
	(void)state;

	for (int i = 0; i < 100; i++)
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "%shttps://host%03d.example",
					i ? "," : "", i);
	assert_true(pos > 2 * CONF_ERR_MAX && pos < sizeof(line));
	const char *lines[] = { line };
	assert_int_equal(load(&p, lines, 1, err), 0);
	assert_int_equal(p.v[0].n_origins, 100);
	assert_string_equal(p.v[0].origins[99], "https://host099.example");
	assert_ptr_equal(wwsf_policy_match(&p, "https://host099.example"), &p.v[0]);
	assert_null(wwsf_policy_match(&p, "https://host09.example"));
	wwsf_policy_free(&p);
}

/* ---- Flow table and tokens ----------------------------------------- */

#define N_FLOWS 5000

static void test_flows_many(void **state)
{
	struct flow_table t;
	static struct flow *f[N_FLOWS];
	static uint64_t ids[N_FLOWS];
	(void)state;

	assert_int_equal(flow_table_init(&t), 0);
	for (size_t i = 0; i < N_FLOWS; i++) {
		f[i] = flow_table_add(&t);
		assert_non_null(f[i]);
		ids[i] = f[i]->id;
		if (i)
			assert_true(ids[i] > ids[i - 1]);
	}
	assert_int_equal(t.n, N_FLOWS);
	assert_true(t.n_buckets >= N_FLOWS); /* the table grew */
	for (size_t i = 0; i < N_FLOWS; i++) {
		uint64_t id = 0;
		assert_ptr_equal(flow_table_get(&t, ids[i]), f[i]);
		assert_int_equal(flow_token_verify(&t, f[i]->token, strlen(f[i]->token), &id), 0);
		assert_int_equal(id, ids[i]);
	}
	for (size_t i = 0; i < N_FLOWS; i += 2)
		flow_table_remove(&t, f[i]);
	assert_int_equal(t.n, N_FLOWS / 2);
	for (size_t i = 0; i < N_FLOWS; i++)
		assert_ptr_equal(flow_table_get(&t, ids[i]), i % 2 ? f[i] : NULL);
	/* A token outlives its flow: genuine, but the lookup finds nothing. */
	uint64_t id = 0;
	char tok[FLOW_TOKEN_LEN + 1];
	struct flow *g = flow_table_add(&t);
	memcpy(tok, g->token, sizeof(tok));
	uint64_t gid = g->id;
	flow_table_remove(&t, g);
	assert_int_equal(flow_token_verify(&t, tok, strlen(tok), &id), 0);
	assert_int_equal(id, gid);
	assert_null(flow_table_get(&t, gid));
	/* Ids are never reused, even after removals. */
	for (size_t i = 0; i < 100; i++) {
		struct flow *n = flow_table_add(&t);
		assert_non_null(n);
		assert_true(n->id > gid);
		gid = n->id;
	}
	assert_null(flow_table_get(&t, ids[N_FLOWS - 1] + 100000));
	flow_table_free(&t); /* frees the flows still there */
}

static void test_flow_tokens(void **state)
{
	struct flow_table t, other;
	char tok[FLOW_TOKEN_LEN + 2];
	uint64_t id;
	(void)state;

	assert_int_equal(flow_table_init(&t), 0);
	assert_int_equal(flow_table_init(&other), 0);
	struct flow *f = flow_table_add(&t);
	assert_int_equal(strlen(f->token), FLOW_TOKEN_LEN);
	assert_int_equal(strspn(f->token, "0123456789abcdef"), FLOW_TOKEN_LEN);
	char idhex[17];
	snprintf(idhex, sizeof(idhex), "%016llx", (unsigned long long)f->id);
	assert_memory_equal(f->token, idhex, 16);

	/* Every single-character change is refused. */
	for (size_t i = 0; i < FLOW_TOKEN_LEN; i++) {
		memcpy(tok, f->token, FLOW_TOKEN_LEN + 1);
		tok[i] = tok[i] == '0' ? '1' : '0';
		id = 12345;
		assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN, &id), EINVAL);
		assert_int_equal(id, 12345); /* untouched on failure */
	}
	/* Truncated, extended, upper-case, non-hex, NUL inside. */
	for (size_t n = 0; n < FLOW_TOKEN_LEN; n++)
		assert_int_equal(flow_token_verify(&t, f->token, n, &id), EINVAL);
	memcpy(tok, f->token, FLOW_TOKEN_LEN);
	tok[FLOW_TOKEN_LEN] = '0';
	tok[FLOW_TOKEN_LEN + 1] = '\0';
	assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN + 1, &id), EINVAL);
	memcpy(tok, f->token, FLOW_TOKEN_LEN + 1);
	int upper = 0;
	for (size_t i = 0; i < FLOW_TOKEN_LEN; i++)
		if (tok[i] >= 'a' && tok[i] <= 'f') {
			tok[i] = (char)(tok[i] - 'a' + 'A');
			upper = 1;
		}
	if (!upper) /* all digits: force one upper-case letter in the MAC */
		tok[FLOW_TOKEN_LEN - 1] = 'A';
	assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN, &id), EINVAL);
	memcpy(tok, f->token, FLOW_TOKEN_LEN + 1);
	tok[20] = 'g';
	assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN, &id), EINVAL);
	tok[20] = '\0';
	assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN, &id), EINVAL);
	memset(tok, '0', FLOW_TOKEN_LEN);
	assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN, &id), EINVAL);

	/* Another table (another key) or a guessed id: refused. */
	assert_int_equal(flow_token_verify(&other, f->token, FLOW_TOKEN_LEN, &id), EINVAL);
	struct flow *g = flow_table_add(&t);
	memcpy(tok, g->token, 16); /* g's id with f's MAC */
	memcpy(tok + 16, f->token + 16, 16);
	assert_int_equal(flow_token_verify(&t, tok, FLOW_TOKEN_LEN, &id), EINVAL);

	assert_int_equal(flow_token_verify(&t, f->token, FLOW_TOKEN_LEN, &id), 0);
	assert_int_equal(id, f->id);
	assert_int_equal(flow_token_verify(&t, g->token, FLOW_TOKEN_LEN, &id), 0);
	assert_int_equal(id, g->id);
	flow_table_free(&t);
	flow_table_free(&other);
}

/* ---- Registration bindings ----------------------------------------- */

#define REG_REQ                                                                          \
	"REGISTER sip:ims.example SIP/2.0\r\n"                                           \
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"                \
	"Max-Forwards: 70\r\n"                                                           \
	"From: <sip:alice@ims.example>;tag=a73kszlfl\r\n"                                \
	"To: <sip:alice@ims.example>\r\n"                                                \
	"Call-ID: 1j9FpLxk3uxtm8tn@ims.example\r\n"                                      \
	"CSeq: 1 REGISTER\r\n"                                                           \
	"Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=600;"           \
	"+sip.instance=\"<urn:uuid:1>\"\r\n"                                              \
	"Content-Length: 0\r\n\r\n"

#define RSP_HEAD                                                                         \
	"SIP/2.0 200 OK\r\n"                                                             \
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"                \
	"From: <sip:alice@ims.example>;tag=a73kszlfl\r\n"                                \
	"To: <sip:alice@ims.example>;tag=37GkEhwl6\r\n"                                  \
	"Call-ID: 1j9FpLxk3uxtm8tn@ims.example\r\n"                                      \
	"CSeq: 1 REGISTER\r\n"

#define OUR_CONTACT "<sip:alice@df7jal23ls0d.invalid;transport=ws>"

static msg_t *make(const char *s)
{
	msg_t *m = msg_make(sip_default_mclass(), 0, s, (ssize_t)strlen(s));
	assert_non_null(m);
	sip_t *sip = sip_object(m);
	assert_non_null(sip);
	assert_null(sip->sip_error);
	assert_true(sip->sip_request || sip->sip_status);
	return m;
}

static int apply(struct reg_table *t, uint64_t flow, const char *rsp_tail, uint64_t now)
{
	char rsp[4096];
	snprintf(rsp, sizeof(rsp), RSP_HEAD "%sContent-Length: 0\r\n\r\n", rsp_tail);
	msg_t *req = make(REG_REQ), *ok = make(rsp);
	int rc = reg_apply_200(t, flow, sip_object(ok), sip_object(req), now);
	msg_destroy(ok);
	msg_destroy(req);
	return rc;
}

static void test_reg_lists(void **state)
{
	struct reg_table t = { 0 };
	(void)state;

	/* IMPU list in one header, display names and tel URIs included;
	 * Service-Route over two header lines; our contact among others. */
	assert_int_equal(apply(&t, 7,
			       "P-Associated-URI: <sip:alice@ims.example>, \"Alice, A.\" "
			       "<tel:+15551234567>,<sip:alice.work@ims.example;user=phone>\r\n"
			       "Service-Route: <sip:orig@scscf.ims.example:6060;lr>, "
			       "<sip:second@icscf.ims.example;lr>\r\n"
			       "Service-Route: <sip:third@ims.example;lr>\r\n"
			       "Contact: <sip:alice@other-device.example>;expires=3000\r\n"
			       "Contact: " OUR_CONTACT ";expires=540, <sip:alice@third.example>;expires=20\r\n"
			       "Expires: 1000\r\n",
			       1000000),
			 0);
	struct reg_binding *b = reg_find(&t, 7);
	assert_non_null(b);
	assert_int_equal(t.n, 1);
	assert_int_equal(b->n_impu, 3);
	assert_string_equal(b->impu[0], "sip:alice@ims.example");
	assert_string_equal(b->impu[1], "tel:+15551234567");
	assert_string_equal(b->impu[2], "sip:alice.work@ims.example;user=phone");
	assert_string_equal(b->service_route,
			    "<sip:orig@scscf.ims.example:6060;lr>,<sip:second@icscf.ims.example;lr>,"
			    "<sip:third@ims.example;lr>");
	assert_int_equal(b->expires_ms, 1000000 + 540 * 1000); /* ours, not the others' */
	assert_null(reg_find(&t, 8));

	/* A refresh replaces both lists; no Service-Route now. */
	assert_int_equal(apply(&t, 7,
			       "P-Associated-URI: <sip:alice@ims.example>\r\n"
			       "Contact: " OUR_CONTACT "\r\nExpires: 300\r\n",
			       2000000),
			 0);
	assert_ptr_equal(reg_find(&t, 7), b);
	assert_int_equal(t.n, 1);
	assert_int_equal(b->n_impu, 1);
	assert_null(b->service_route);
	assert_int_equal(b->expires_ms, 2000000 + 300 * 1000); /* Expires header */

	/* No expires anywhere: the default hour. */
	assert_int_equal(apply(&t, 7, "Contact: " OUR_CONTACT "\r\n", 5), 0);
	assert_int_equal(b->expires_ms, 5 + 3600 * 1000);
	/* No P-Associated-URI: the registered To. */
	assert_int_equal(b->n_impu, 1);
	assert_string_equal(b->impu[0], "sip:alice@ims.example");

	/* Other flows have their own bindings. */
	assert_int_equal(apply(&t, 9,
			       "P-Associated-URI: <sip:bob@ims.example>\r\n"
			       "Contact: " OUR_CONTACT ";expires=60\r\n",
			       0),
			 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(reg_find(&t, 9)->impu[0], "sip:bob@ims.example");
	assert_string_equal(reg_find(&t, 7)->impu[0], "sip:alice@ims.example");

	/* At most REG_MAX_IMPU IMPUs are kept. */
	char many[2048];
	size_t pos = (size_t)snprintf(many, sizeof(many), "P-Associated-URI: ");
	for (int i = 0; i < 12; i++)
		pos += (size_t)snprintf(many + pos, sizeof(many) - pos, "%s<sip:u%d@ims.example>",
					i ? ", " : "", i);
	snprintf(many + pos, sizeof(many) - pos, "\r\nContact: " OUR_CONTACT "\r\n");
	assert_int_equal(apply(&t, 9, many, 0), 0);
	b = reg_find(&t, 9);
	assert_int_equal(b->n_impu, REG_MAX_IMPU);
	assert_string_equal(b->impu[REG_MAX_IMPU - 1], "sip:u7@ims.example");
	reg_table_free(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.head);
}

/* Thousands of flows: the hash grows, every binding stays findable, and
 * removals in any order keep the list and the chains consistent. */
static void test_reg_many_flows(void **state)
{
	struct reg_table t = { 0 };
	(void)state;

	for (uint64_t id = 1; id <= 5000; id++)
		assert_int_equal(apply(&t, id, "Contact: " OUR_CONTACT ";expires=600\r\n", 0), 0);
	assert_int_equal(t.n, 5000);
	assert_true(t.n_buckets >= 5000);
	for (uint64_t id = 1; id <= 5000; id++)
		assert_int_equal(reg_find(&t, id)->flow_id, id);
	for (uint64_t id = 2; id <= 5000; id += 2)
		reg_remove(&t, id);
	reg_remove(&t, 4999);
	assert_int_equal(t.n, 2499);
	size_t listed = 0;
	for (struct reg_binding *b = t.head; b; b = b->next) {
		assert_true(b->flow_id % 2 == 1 && b->flow_id != 4999);
		assert_true(!b->next || b->next->prev == b);
		listed++;
	}
	assert_int_equal(listed, 2499);
	assert_null(reg_find(&t, 4998));
	assert_null(reg_find(&t, 4999));
	assert_non_null(reg_find(&t, 4997));
	reg_table_free(&t);
}

static void test_reg_removal(void **state)
{
	struct reg_table t = { 0 };
	(void)state;

	assert_int_equal(apply(&t, 1, "Contact: " OUR_CONTACT ";expires=600\r\n", 0), 0);
	assert_int_equal(apply(&t, 2, "Contact: " OUR_CONTACT ";expires=600\r\n", 0), 0);
	assert_int_equal(t.n, 2);
	/* expires=0 on our contact (other devices stay registered). */
	assert_int_equal(apply(&t, 1,
			       "Contact: <sip:alice@other-device.example>;expires=3000, " OUR_CONTACT
			       ";expires=0\r\n",
			       0),
			 ENOENT);
	assert_null(reg_find(&t, 1));
	assert_int_equal(t.n, 1);
	/* A 200 that no longer lists our contact. */
	assert_int_equal(apply(&t, 2, "Contact: <sip:alice@other-device.example>;expires=3000\r\n", 0),
			 ENOENT);
	assert_null(reg_find(&t, 2));
	assert_int_equal(t.n, 0);
	/* Expires: 0 with no contact parameter; no contact at all. */
	assert_int_equal(apply(&t, 3, "Contact: " OUR_CONTACT "\r\nExpires: 0\r\n", 0), ENOENT);
	assert_int_equal(apply(&t, 3, "", 0), ENOENT);
	assert_int_equal(t.n, 0);
	/* Removing what is not there is harmless. */
	reg_remove(&t, 42);
	assert_int_equal(apply(&t, 4, "Contact: " OUR_CONTACT "\r\n", 0), 0);
	reg_remove(&t, 4);
	assert_null(t.head);
	assert_int_equal(t.n, 0);
	reg_table_free(&t);
}

static void test_reg_identity(void **state)
{
	struct reg_table t = { 0 };
	(void)state;

	assert_null(reg_asserted_identity(NULL, NULL));
	assert_null(reg_asserted_identity(NULL, "<sip:alice@ims.example>"));
	assert_int_equal(apply(&t, 5,
			       "P-Associated-URI: <sip:alice@ims.example>, <tel:+15551234567>, "
			       "<sip:alice.work@ims.example>\r\n"
			       "Contact: " OUR_CONTACT "\r\n",
			       0),
			 0);
	struct reg_binding const *b = reg_find(&t, 5);

	/* Without P-Preferred-Identity: the default (first) IMPU. */
	assert_string_equal(reg_asserted_identity(b, NULL), "sip:alice@ims.example");
	/* A registered preferred identity, in each form it may take. */
	assert_string_equal(reg_asserted_identity(b, "<tel:+15551234567>"), "tel:+15551234567");
	assert_string_equal(reg_asserted_identity(b, "\"Work\" <sip:alice.work@ims.example>"),
			    "sip:alice.work@ims.example");
	assert_string_equal(reg_asserted_identity(b, "sip:alice.work@ims.example"),
			    "sip:alice.work@ims.example");
	/* Not registered (or only a prefix of one): the default instead. */
	assert_string_equal(reg_asserted_identity(b, "<sip:mallory@ims.example>"),
			    "sip:alice@ims.example");
	assert_string_equal(reg_asserted_identity(b, "<sip:alice.work@ims.exampl>"),
			    "sip:alice@ims.example");
	assert_string_equal(reg_asserted_identity(b, "<tel:+15551234567"),
			    "sip:alice@ims.example");
	assert_string_equal(reg_asserted_identity(b, ""), "sip:alice@ims.example");

	/* The header as the proxy finds it in a browser's request. */
	msg_t *m = make("MESSAGE sip:bob@ims.example SIP/2.0\r\n"
			"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n"
			"From: <sip:alice.work@ims.example>;tag=1\r\nTo: <sip:bob@ims.example>\r\n"
			"Call-ID: m1\r\nCSeq: 1 MESSAGE\r\n"
			"P-Preferred-Identity: \"Work\" <sip:alice.work@ims.example>\r\n"
			"Content-Length: 0\r\n\r\n");
	const char *ppi = sip_unknown_value(sip_object(m), "p-preferred-identity");
	assert_non_null(ppi);
	assert_string_equal(reg_asserted_identity(b, ppi), "sip:alice.work@ims.example");
	assert_null(sip_unknown_value(sip_object(m), "P-Asserted-Identity"));
	msg_destroy(m);
	reg_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_normalize),
		cmocka_unit_test(test_policy_syntax),
		cmocka_unit_test(test_policy_duplicates),
		cmocka_unit_test(test_policy_match),
		cmocka_unit_test(test_policy_long_line),
		cmocka_unit_test(test_flows_many),
		cmocka_unit_test(test_flow_tokens),
		cmocka_unit_test(test_reg_lists),
		cmocka_unit_test(test_reg_removal),
		cmocka_unit_test(test_reg_many_flows),
		cmocka_unit_test(test_reg_identity),
	};
	return cmocka_run_group_tests_name("epcscf_parts", tests, NULL, NULL);
}
