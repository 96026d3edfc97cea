/* Web-authentication tokens: base64url, JWKS loading, the WWSF token
 * attributes, token verification (a table of bad tokens, each with its
 * exact status and reason), authorization on a flow, the jti window, and
 * RFC 7515 example tokens that must be refused.
 *
 * Tokens are signed here with OpenSSL directly (not libjwt), so that the
 * verifier is checked against an independent signer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jwt.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base64url.h"
#include "conf.h"
#include "impu_range.h"
#include "jti_cache.h"
#include "jwt_verify.h"
#include "wwsf_keys.h"
#include "wwsf_policy.h"

#define NOW 1800000000LL
#define AUD "sip:ep-cscf.ims.test"

/* ---- helpers ---------------------------------------------------------- */

static void b64s(const char *s, char *out)
{
	b64url_encode((const unsigned char *)s, strlen(s), out);
}

struct keys {
	EVP_PKEY *ec, *rsa, *ec_b;
	char dir[64], jwks_a[96], jwks_b[96];
	char *pem_ec_pub; /* owned */
};
static struct keys K;

static void bn_b64(EVP_PKEY *k, const char *name, size_t pad, char *out)
{
	BIGNUM *bn = NULL;
	unsigned char buf[600];
	assert_true(EVP_PKEY_get_bn_param(k, name, &bn));
	int n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	b64url_encode(buf, (size_t)n, out);
	BN_free(bn);
}

static void jwk_ec(EVP_PKEY *k, const char *kid, char *out, size_t len)
{
	char x[64], y[64];
	bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32, x);
	bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32, y);
	snprintf(out, len, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"use\":\"sig\","
		 "\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"}", kid, x, y);
}

static void jwk_rsa(EVP_PKEY *k, const char *kid, char *out, size_t len)
{
	char n[800], e[16];
	bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0, n);
	bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0, e);
	snprintf(out, len, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"}", kid, n, e);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_keys(void **state)
{
	char a[600], b[1200], c[600], doc[4096];
	(void)state;
	K.ec = EVP_EC_gen("P-256");
	K.ec_b = EVP_EC_gen("P-256");
	K.rsa = EVP_RSA_gen(2048);
	assert_non_null(K.ec);
	assert_non_null(K.rsa);
	snprintf(K.dir, sizeof(K.dir), "/tmp/test_jwt_XXXXXX");
	assert_non_null(mkdtemp(K.dir));
	snprintf(K.jwks_a, sizeof(K.jwks_a), "%s/a.json", K.dir);
	snprintf(K.jwks_b, sizeof(K.jwks_b), "%s/b.json", K.dir);
	jwk_ec(K.ec, "a-ec", a, sizeof(a));
	jwk_rsa(K.rsa, "a-rsa", b, sizeof(b));
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", a, b);
	write_file(K.jwks_a, doc);
	jwk_ec(K.ec_b, "b-ec", c, sizeof(c));
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", c);
	write_file(K.jwks_b, doc);
	BIO *bio = BIO_new(BIO_s_mem());
	char *d;
	PEM_write_bio_PUBKEY(bio, K.ec);
	long n = BIO_get_mem_data(bio, &d);
	K.pem_ec_pub = strndup(d, (size_t)n);
	BIO_free(bio);
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	EVP_PKEY_free(K.ec);
	EVP_PKEY_free(K.ec_b);
	EVP_PKEY_free(K.rsa);
	free(K.pem_ec_pub);
	unlink(K.jwks_a);
	unlink(K.jwks_b);
	rmdir(K.dir);
	return 0;
}

enum signer { SIGN_EC, SIGN_RSA, SIGN_EC_B, SIGN_NONE, SIGN_HS_PUBKEY, SIGN_GARBAGE };

/* header.payload.signature with the given signer. */
static char *token(const char *header, const char *payload, enum signer s)
{
	static char out[16384];
	char h[2048], p[8192], sig[1024] = "";
	unsigned char raw[512];
	size_t rawlen = 0;

	b64s(header, h);
	b64s(payload, p);
	snprintf(out, sizeof(out), "%s.%s", h, p);
	if (s == SIGN_EC || s == SIGN_RSA || s == SIGN_EC_B) {
		EVP_PKEY *k = s == SIGN_EC ? K.ec : s == SIGN_EC_B ? K.ec_b : K.rsa;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char der[600];
		size_t dl = sizeof(der);
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
		assert_int_equal(EVP_DigestSign(md, der, &dl, (unsigned char *)out, strlen(out)), 1);
		EVP_MD_CTX_free(md);
		if (s == SIGN_RSA) {
			memcpy(raw, der, dl);
			rawlen = dl;
		} else { /* DER ECDSA-Sig-Value -> R || S (RFC 7518 3.4) */
			const unsigned char *q = der;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)dl);
			assert_non_null(es);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
			rawlen = 64;
			ECDSA_SIG_free(es);
		}
	} else if (s == SIGN_HS_PUBKEY) {
		unsigned int ml = 0;
		HMAC(EVP_sha256(), K.pem_ec_pub, (int)strlen(K.pem_ec_pub), (unsigned char *)out,
		     strlen(out), raw, &ml);
		rawlen = ml;
	} else if (s == SIGN_GARBAGE) {
		memset(raw, 0x5a, 64);
		rawlen = 64;
	}
	b64url_encode(raw, rawlen, sig);
	strcat(out, ".");
	strcat(out, sig);
	return out;
}

/* Standard claims with one member replaced or dropped: `over` is a list
 * of "name", "json value" pairs (NULL value: drop). */
static char *claims(const char *const *over)
{
	static char out[8192];
	static const char *const base[][2] = {
		{ "iss", "\"https://wwsf-a.test\"" }, { "aud", "\"" AUD "\"" },
		{ "exp", "1800000300" },             { "nbf", "1799999900" },
		{ "iat", "1799999900" },             { "jti", "\"tok-1\"" },
		{ "impu", "\"sip:alice@ims.test\"" }, { "impi", "\"alice@ims.test\"" },
		{ "3gpp-wwsf", "\"wwsf-a\"" },       { "3gpp-waf", "\"waf-a\"" },
	};
	size_t pos = (size_t)snprintf(out, sizeof(out), "{");
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		const char *v = base[i][1];
		for (size_t k = 0; over && over[k]; k += 2)
			if (!strcmp(over[k], base[i][0]))
				v = over[k + 1];
		if (v)
			pos += (size_t)snprintf(out + pos, sizeof(out) - pos, "%s\"%s\":%s",
						pos > 1 ? "," : "", base[i][0], v);
	}
	for (size_t k = 0; over && over[k]; k += 2) { /* extra members */
		int known = 0;
		for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
			known |= !strcmp(over[k], base[i][0]);
		if (!known && over[k + 1])
			pos += (size_t)snprintf(out + pos, sizeof(out) - pos, ",\"%s\":%s", over[k],
						over[k + 1]);
	}
	snprintf(out + pos, sizeof(out) - pos, "}");
	return out;
}

static struct wwsf_policy P;

static int load_policy(void)
{
	char l1[400], l2[400], err[CONF_ERR_MAX];
	snprintf(l1, sizeof(l1),
		 "wwsf-a origins=https://a.test issuer=https://wwsf-a.test jwks=%s "
		 "impus=sip:alice@ims.test,sip:bob@ims.test ranges=sip:guest-*@ims.test wafs=waf-a",
		 K.jwks_a);
	snprintf(l2, sizeof(l2),
		 "wwsf-b origins=https://b.test issuer=https://wwsf-b.test jwks=%s "
		 "impus=sip:*@b.ims.test barred=no", K.jwks_b);
	char *items[3] = { l1, l2, "plain origins=https://plain.test" };
	char *where[3] = { "ep.conf:1", "ep.conf:2", "ep.conf:3" };
	struct conf_list l = { .n = 3, .items = items, .where = where };
	int rc = wwsf_policy_load(&P, &l, err, sizeof(err));
	if (rc)
		fprintf(stderr, "load: %s\n", err);
	return rc;
}

/* ---- base64url ---------------------------------------------------------- */

static void test_b64url(void **state)
{
	unsigned char out[16];
	size_t n;
	(void)state;
	assert_int_equal(b64url_decode("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, sizeof(out), &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(b64url_decode("Zm9vYg", 6, out, sizeof(out), &n), 0);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(b64url_decode("-_8", 3, out, sizeof(out), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0xfb);
	assert_int_equal(out[1], 0xff);
	static const char *const bad[] = { "Zm9vYg==", "Zm9v+g", "Zm9v/g", "Z", "Zm9vY", "Zm 9",
					   "Zh", "Zm9vYh" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (b64url_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n) != EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &n), EMSGSIZE);
}

/* ---- JWKS --------------------------------------------------------------- */

static void expect_jwks(const char *doc, const char *msg)
{
	struct wwsf_keyset ks;
	char err[400];
	assert_int_not_equal(wwsf_keys_parse(doc, strlen(doc), &ks, err, sizeof(err)), 0);
	assert_string_equal(err, msg);
	assert_int_equal(ks.n, 0);
}

static void test_jwks(void **state)
{
	struct wwsf_keyset ks;
	char err[400];
	(void)state;

	assert_int_equal(wwsf_keys_load(K.jwks_a, &ks, err, sizeof(err)), 0);
	assert_int_equal(ks.n, 2);
	assert_string_equal(ks.v[0].kid, "a-ec");
	assert_int_equal(ks.v[0].type, WWSF_KEY_EC_P256);
	assert_int_equal(ks.v[1].type, WWSF_KEY_RSA);
	assert_non_null(strstr(ks.v[1].pem, "BEGIN PUBLIC KEY"));
	assert_non_null(wwsf_keys_find(&ks, "a-rsa"));
	assert_null(wwsf_keys_find(&ks, "nope"));
	wwsf_keys_free(&ks);

	/* RFC 7517 appendix A.1, first key (EC P-256, kid "1"): a valid
	 * public key. */
	static const char rfc7517_a1[] =
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
		"\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\","
		"\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\","
		"\"use\":\"enc\",\"kid\":\"1\"}]}";
	expect_jwks(rfc7517_a1, "key 1 (kid \"1\"): \"use\" is not \"sig\"");
	char sig[sizeof(rfc7517_a1)];
	snprintf(sig, sizeof(sig), "%s", rfc7517_a1);
	memcpy(strstr(sig, "\"enc\""), "\"sig\"", 5);
	assert_int_equal(wwsf_keys_parse(sig, strlen(sig), &ks, err, sizeof(err)), 0);
	assert_int_equal(ks.v[0].type, WWSF_KEY_EC_P256);
	wwsf_keys_free(&ks);

	expect_jwks("", "not JSON (line 1: '[' or '{' expected near end of file)");
	expect_jwks("{}", "no \"keys\" array, or it is empty");
	expect_jwks("{\"keys\":[]}", "no \"keys\" array, or it is empty");
	expect_jwks("{\"keys\":[1]}", "key 1: not a JSON object");
	expect_jwks("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"AAAA\"}]}",
		    "key 1: holds private or symmetric key material (\"k\")");
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"p\",\"crv\":\"P-256\",\"x\":\"AA\","
		    "\"y\":\"AA\",\"d\":\"AA\"}]}",
		    "key 1: holds private or symmetric key material (\"d\")");
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"}]}",
		    "key 1: \"kid\" missing, empty or longer than 127");
	expect_jwks("{\"keys\":[{\"kty\":\"OKP\",\"kid\":\"e\"}]}",
		    "key 1 (kid \"e\"): kty OKP is not EC or RSA");
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-521\"}]}",
		    "key 1 (kid \"e\"): crv P-521 is not P-256");
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\",\"x\":\"AAAA\","
		    "\"y\":\"AAAA\"}]}",
		    "key 1 (kid \"e\"): \"x\" is 3 octets, not 32");
	/* A point not on the curve: x = y = 1. */
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\","
		    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
		    "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}",
		    "key 1 (kid \"e\"): not a valid EC public key");
	expect_jwks("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
		    "key 1 (kid \"r\"): RSA public key fails its validity check");
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"alg\":\"HS256\"}]}",
		    "key 1 (kid \"e\"): \"alg\" of an EC key is not ES256");
	expect_jwks("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"x\":1},{\"kty\":\"EC\"}],\"keys\":1}",
		    "not JSON (line 1: duplicate object key near '\"keys\"')");
	char dup[2048], one[600];
	jwk_ec(K.ec, "same", one, sizeof(one));
	snprintf(dup, sizeof(dup), "{\"keys\":[%s,%s]}", one, one);
	expect_jwks(dup, "key 2 (kid \"same\"): kid listed twice");
	assert_int_equal(wwsf_keys_load("/nonexistent/jwks.json", &ks, err, sizeof(err)), ENOENT);
	assert_string_equal(err, "cannot read: No such file or directory");
}

/* ---- policy attributes -------------------------------------------------- */

static void expect_policy(const char *line, const char *msg)
{
	struct wwsf_policy p;
	char err[CONF_ERR_MAX];
	char *items[1] = { (char *)line }, *where[1] = { "ep.conf:7" };
	struct conf_list l = { .n = 1, .items = items, .where = where };
	assert_int_not_equal(wwsf_policy_load(&p, &l, err, sizeof(err)), 0);
	assert_string_equal(err, msg);
	assert_int_equal(p.n, 0);
}

static void test_policy_tokens(void **state)
{
	char line[400], msg[600];
	(void)state;
	assert_int_equal(load_policy(), 0);
	assert_int_equal(P.n, 3);
	assert_string_equal(P.v[0].issuer, "https://wwsf-a.test");
	assert_int_equal(P.v[0].keys.n, 2);
	assert_int_equal(P.v[0].n_impus, 2);
	assert_int_equal(P.v[0].n_ranges, 1);
	assert_int_equal(P.v[0].n_wafs, 1);
	const struct wwsf *owner = NULL;
	assert_non_null(wwsf_policy_find_key(&P, "b-ec", &owner));
	assert_ptr_equal(owner, &P.v[1]);
	assert_null(wwsf_policy_find_key(&P, "zz", &owner));
	/* SIGHUP reload keeps the keys when a file became bad. */
	char saved[2048];
	FILE *f = fopen(K.jwks_b, "r");
	size_t n = fread(saved, 1, sizeof(saved) - 1, f);
	fclose(f);
	saved[n] = '\0';
	write_file(K.jwks_b, "{\"keys\":[]}");
	char err[600];
	assert_int_equal(wwsf_policy_reload_keys(&P, err, sizeof(err)), EINVAL);
	snprintf(msg, sizeof(msg), "wwsf wwsf-b: jwks %s: no \"keys\" array, or it is empty",
		 K.jwks_b);
	assert_string_equal(err, msg);
	assert_int_equal(P.v[1].keys.n, 1);
	write_file(K.jwks_b, saved);
	assert_int_equal(wwsf_policy_reload_keys(&P, err, sizeof(err)), 0);
	assert_int_equal(P.v[1].keys.n, 1);
	wwsf_policy_free(&P);

	expect_policy("a origins=https://a.test issuer=https://i.test",
		      "ep.conf:7: wwsf a: issuer and jwks go together");
	snprintf(line, sizeof(line), "a origins=https://a.test issuer=https://i.test jwks=%s",
		 K.jwks_a);
	expect_policy(line, "ep.conf:7: wwsf a: a token issuer needs impus or ranges");
	expect_policy("a origins=https://a.test impus=sip:*@x.test",
		      "ep.conf:7: wwsf a: impus, ranges and wafs need an issuer");
	snprintf(line, sizeof(line), "a origins=https://a.test issuer=https://i.test jwks=%s "
		 "impus=sip:a*b*@x.test", K.jwks_a);
	expect_policy(line, "ep.conf:7: wwsf a: \"sip:a*b*@x.test\" has more than one '*'");
	snprintf(line, sizeof(line), "a origins=https://a.test issuer=https://i.test jwks=%s "
		 "impus=mailto:a@x.test", K.jwks_a);
	expect_policy(line, "ep.conf:7: wwsf a: \"mailto:a@x.test\" is not a sip: or tel: URI");
	snprintf(line, sizeof(line), "a origins=https://a.test issuer=https://i.test jwks=%s "
		 "ranges=sip:guest@x.test", K.jwks_a);
	expect_policy(line, "ep.conf:7: wwsf a: range \"sip:guest@x.test\" has no '*'");
	snprintf(line, sizeof(line), "a origins=https://a.test issuer=https://i.test jwks=%s "
		 "impus=sip:x@x.test barred=maybe", K.jwks_a);
	expect_policy(line, "ep.conf:7: wwsf a: barred is not yes or no");
	snprintf(line, sizeof(line), "a origins=https://a.test issuer=https://i.test jwks=%s "
		 "impus=sip:x@x.test max_registrations=-1", K.jwks_a);
	expect_policy(line, "ep.conf:7: wwsf a: max_registrations is not a number in 0..10000000");
	expect_policy("a origins=https://a.test issuer=https://i.test jwks=/nonexistent.json "
		      "impus=sip:x@x.test",
		      "ep.conf:7: wwsf a: jwks /nonexistent.json: cannot read: No such file or "
		      "directory");
	/* The same kid under two WWSFs. */
	char l1[300], l2[300], e2[CONF_ERR_MAX];
	snprintf(l1, sizeof(l1), "a origins=https://a.test issuer=https://a.test jwks=%s "
		 "impus=sip:x@x.test", K.jwks_a);
	snprintf(l2, sizeof(l2), "b origins=https://b.test issuer=https://b.test jwks=%s "
		 "impus=sip:x@x.test", K.jwks_a);
	char *items[2] = { l1, l2 }, *where[2] = { "ep.conf:1", "ep.conf:2" };
	struct conf_list l = { .n = 2, .items = items, .where = where };
	struct wwsf_policy p;
	assert_int_equal(wwsf_policy_load(&p, &l, e2, sizeof(e2)), EINVAL);
	assert_string_equal(e2, "ep.conf:2: wwsf b: kid \"a-ec\" already used by wwsf a");
}

/* ---- IMPU patterns ------------------------------------------------------ */

static void test_impu_patterns(void **state)
{
	char out[IMPU_MAX];
	(void)state;
	assert_true(impu_pattern_match("sip:guest-*@ims.test", "sip:guest-42@ims.test"));
	assert_true(impu_pattern_match("sip:*@ims.test", "sip:alice@ims.test"));
	assert_true(impu_pattern_match("sip:alice@ims.test", "sip:alice@ims.test"));
	assert_false(impu_pattern_match("sip:guest-*@ims.test", "sip:guest-@ims.test"));
	assert_false(impu_pattern_match("sip:guest-*@ims.test", "sip:guest-a@b@ims.test"));
	assert_false(impu_pattern_match("sip:guest-*@ims.test", "sip:guest-a;x=y@ims.test"));
	assert_false(impu_pattern_match("sip:guest-*@ims.test", "sip:guest-a@ims.test.evil"));
	assert_false(impu_pattern_match("sip:guest-*@ims.test", "sip:guest-a!@ims.test"));
	assert_false(impu_pattern_match("sip:*@ims.test", "sip:@ims.test"));
	assert_int_equal(impu_range_wildcarded("sip:guest-*@ims.test", out, sizeof(out)), 0);
	assert_string_equal(out, "sip:guest-!.*!@ims.test");
	assert_int_equal(impu_range_wildcarded("sip:guest-*@ims.test", out, 10), EMSGSIZE);
}

/* ---- token table -------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *header;
	const char *const *over; /* claim overrides */
	enum signer signer;
	int status;
	const char *reason;
};

#define OV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define HES "{\"alg\":\"ES256\",\"kid\":\"a-ec\",\"typ\":\"JWT\"}"

static void test_token_table(void **state)
{
	const struct bad_case cases[] = {
		{ "expired", HES, OV("exp", "1799999969"), SIGN_EC, 401, "token expired" },
		{ "expired in leeway", HES, OV("exp", "1799999970"), SIGN_EC, 0, NULL },
		{ "not yet valid", HES, OV("nbf", "1800000031"), SIGN_EC, 401, "token not yet valid" },
		{ "nbf in leeway", HES, OV("nbf", "1800000030"), SIGN_EC, 0, NULL },
		{ "issued in the future", HES, OV("iat", "1800000100"), SIGN_EC, 401,
		  "token issued in the future" },
		{ "wrong aud", HES, OV("aud", "\"sip:other.test\""), SIGN_EC, 401,
		  "audience is not this eP-CSCF" },
		{ "aud array with ours", HES, OV("aud", "[\"x\",\"" AUD "\"]"), SIGN_EC, 0, NULL },
		{ "aud array without ours", HES, OV("aud", "[\"x\"]"), SIGN_EC, 401,
		  "audience is not this eP-CSCF" },
		{ "wrong iss", HES, OV("iss", "\"https://wwsf-b.test\""), SIGN_EC, 401,
		  "issuer is not that of wwsf wwsf-a" },
		{ "alg none", "{\"alg\":\"none\",\"kid\":\"a-ec\"}", NULL, SIGN_NONE, 401,
		  "token is not three base64url parts" },
		{ "alg none with a signature", "{\"alg\":\"none\",\"kid\":\"a-ec\"}", NULL,
		  SIGN_GARBAGE, 401, "alg \"none\" not allowed" },
		{ "HS256 with the public key", "{\"alg\":\"HS256\",\"kid\":\"a-ec\"}", NULL,
		  SIGN_HS_PUBKEY, 401, "alg \"HS256\" not allowed" },
		{ "ES384", "{\"alg\":\"ES384\",\"kid\":\"a-ec\"}", NULL, SIGN_EC, 401,
		  "alg \"ES384\" not allowed" },
		{ "RS256 header on the EC key", "{\"alg\":\"RS256\",\"kid\":\"a-ec\"}", NULL, SIGN_RSA,
		  401, "alg RS256 does not fit key \"a-ec\"" },
		{ "RS256", "{\"alg\":\"RS256\",\"kid\":\"a-rsa\"}", NULL, SIGN_RSA, 0, NULL },
		{ "unknown kid", "{\"alg\":\"ES256\",\"kid\":\"zz\"}", NULL, SIGN_EC, 401,
		  "unknown kid \"zz\"" },
		{ "no kid", "{\"alg\":\"ES256\"}", NULL, SIGN_EC, 401,
		  "header \"kid\" missing or not a string" },
		{ "crit", "{\"alg\":\"ES256\",\"kid\":\"a-ec\",\"crit\":[\"b64\"]}", NULL, SIGN_EC, 401,
		  "header \"crit\" not supported" },
		{ "typ not JWT", "{\"alg\":\"ES256\",\"kid\":\"a-ec\",\"typ\":\"JOSE+JSON\"}", NULL,
		  SIGN_EC, 401, "header \"typ\" is not JWT" },
		{ "forged signature", HES, NULL, SIGN_GARBAGE, 401, "signature check failed" },
		{ "signed by WWSF B's key under A's kid", HES, NULL, SIGN_EC_B, 401,
		  "signature check failed" },
		{ "exp wrong type", HES, OV("exp", "\"soon\""), SIGN_EC, 401,
		  "claim \"exp\" is not a number" },
		{ "exp missing", HES, OV("exp", NULL), SIGN_EC, 401, "claim \"exp\" missing" },
		{ "impu wrong type", HES, OV("impu", "[\"sip:alice@ims.test\"]"), SIGN_EC, 401,
		  "claim \"impu\" missing or not a string" },
		{ "impi missing", HES, OV("impi", NULL), SIGN_EC, 401,
		  "claim \"impi\" missing or not a string" },
		{ "jti wrong type", HES, OV("jti", "7"), SIGN_EC, 401,
		  "claim \"jti\" missing or not a string" },
		{ "3gpp-wwsf missing", HES, OV("3gpp-wwsf", NULL), SIGN_EC, 401,
		  "claim \"3gpp-wwsf\" missing or not a string" },
		{ "3gpp-waf wrong type", HES, OV("3gpp-waf", "true"), SIGN_EC, 401,
		  "claim \"3gpp-waf\" missing or not a string" },
		{ "3gpp-wwsf of another WWSF", HES, OV("3gpp-wwsf", "\"wwsf-b\""), SIGN_EC, 401,
		  "claim \"3gpp-wwsf\" is not wwsf wwsf-a" },
		{ "impu not a URI", HES, OV("impu", "\"alice\""), SIGN_EC, 401,
		  "claim \"impu\" is not a sip: or tel: URI" },
		{ "impu with a header injection", HES, OV("impu", "\"sip:a@x>\\r\\nVia: x\""), SIGN_EC,
		  401, "claim \"impu\" or \"impi\" has a bad character" },
		{ "aud wrong type", HES, OV("aud", "5"), SIGN_EC, 401,
		  "claim \"aud\" missing or not a string" },
		{ "duplicate claim", HES, OV("x", "1", "x", "2"), SIGN_EC, 401,
		  "payload is not a JSON object" },
		{ "valid", HES, NULL, SIGN_EC, 0, NULL },
	};
	struct jwt_verify_cfg cfg = { .audience = AUD, .leeway_s = 30, .max_bytes = 4096 };
	(void)state;

	assert_int_equal(load_policy(), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		char *t = token(c->header, claims(c->over), c->signer);
		struct jwt_claims cl;
		struct jwt_verdict v = { 0 };
		int rc = jwt_token_verify(&P, &cfg, t, strlen(t), NOW, &cl, &v);
		if (c->status == 0) {
			if (rc)
				fail_msg("%s: refused: %s", c->name, v.reason);
			assert_ptr_equal(cl.wwsf, &P.v[0]);
			assert_string_equal(cl.impu, "sip:alice@ims.test");
			assert_string_equal(cl.impi, "alice@ims.test");
			assert_string_equal(cl.waf, "waf-a");
			continue;
		}
		if (rc != EACCES || v.status != c->status || strcmp(v.reason, c->reason))
			fail_msg("%s: rc %d status %d reason \"%s\", expected %d \"%s\"", c->name, rc,
				 v.status, v.reason, c->status, c->reason);
		assert_string_equal(v.error, "invalid_token");
		assert_null(cl.wwsf);
	}

	/* Shape and size. */
	char *good = token(HES, claims(NULL), SIGN_EC);
	struct {
		const char *name;
		char tok[6000];
		const char *reason;
	} *s = calloc(1, sizeof(*s));
	struct jwt_claims cl;
	struct jwt_verdict v;
	/* truncated: the last characters of the signature lost */
	snprintf(s->tok, sizeof(s->tok), "%.*s", (int)strlen(good) - 5, good);
	assert_int_equal(jwt_token_verify(&P, &cfg, s->tok, strlen(s->tok), NOW, &cl, &v), EACCES);
	assert_string_equal(v.reason, "signature check failed");
	/* truncated to two parts */
	snprintf(s->tok, sizeof(s->tok), "%.*s", (int)(strrchr(good, '.') - good), good);
	assert_int_equal(jwt_token_verify(&P, &cfg, s->tok, strlen(s->tok), NOW, &cl, &v), EACCES);
	assert_string_equal(v.reason, "token is not three base64url parts");
	/* four parts, padding, spaces, empty */
	static const char *const shapes[] = { "a.b.c.d", "eyJ9.eyJ9.AA==", "a .b.c", "", "..", ".a.b",
					      "a.b." };
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		assert_int_equal(jwt_token_verify(&P, &cfg, shapes[i], strlen(shapes[i]), NOW, &cl, &v),
				 EACCES);
		assert_string_equal(v.reason, "token is not three base64url parts");
	}
	/* header not JSON */
	assert_int_equal(jwt_token_verify(&P, &cfg, "Zm9v.Zm9v.Zm9v", 14, NOW, &cl, &v), EACCES);
	assert_string_equal(v.reason, "header is not a JSON object");
	/* oversized: claims padded past max_bytes */
	char pad[5000];
	memset(pad, 'x', 4000);
	pad[0] = '"';
	pad[3999] = '"';
	pad[4000] = '\0';
	char *big = token(HES, claims(OV("pad", pad)), SIGN_EC);
	assert_int_equal(jwt_token_verify(&P, &cfg, big, strlen(big), NOW, &cl, &v), EACCES);
	assert_string_equal(v.reason, "token larger than 4096 bytes");
	free(s);
	wwsf_policy_free(&P);
}

/* RFC 7515 appendix A.1 (HS256) and A.5 (unsecured) example JWSs, taken
 * from the RFC text: both must be refused whatever the keys. */
static void test_rfc7515_examples(void **state)
{
	static const char a1[] =
		"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
		".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
		"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
		".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	static const char a5[] =
		"eyJhbGciOiJub25lIn0"
		".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
		"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
	struct jwt_verify_cfg cfg = { .audience = AUD, .leeway_s = 30, .max_bytes = 4096 };
	struct jwt_claims cl;
	struct jwt_verdict v;
	(void)state;

	assert_int_equal(load_policy(), 0);
	assert_int_equal(jwt_token_verify(&P, &cfg, a1, strlen(a1), NOW, &cl, &v), EACCES);
	assert_string_equal(v.reason, "alg \"HS256\" not allowed");
	assert_int_equal(jwt_token_verify(&P, &cfg, a5, strlen(a5), NOW, &cl, &v), EACCES);
	assert_string_equal(v.reason, "token is not three base64url parts");
	/* The A.1 header decodes with its CRLF and typ intact. */
	unsigned char h[64];
	size_t n;
	assert_int_equal(b64url_decode(a1, 40, h, sizeof(h), &n), 0);
	assert_int_equal(n, 30);
	assert_memory_equal(h, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}", 30);
	wwsf_policy_free(&P);
}


/* RFC 7515 appendix A.2 (RS256) and A.3 (ES256): the published public keys
 * as a JWK Set and the example JWSs.  Our JWKS import (JWK -> PEM) and the
 * libjwt verification jwt_verify.c relies on must accept both signatures,
 * and refuse them once a byte of the signature or payload changes.  (The
 * full path refuses the tokens earlier: no "kid", claims of 2011.) */
static const char rfc7515_jwks[] =
	"{\"keys\":["
	"{\"kty\":\"RSA\",\"kid\":\"a2\",\"use\":\"sig\",\"e\":\"AQAB\",\"n\":"
	"\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPM"
	"EzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
	"bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3"
	"qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9g"
	"b54h4FRWyuXpoQ\"},"
	"{\"kty\":\"EC\",\"kid\":\"a3\",\"use\":\"sig\",\"crv\":\"P-256\","
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

static const char rfc7515_a2[] =
	"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOi"
	"Zj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
	"nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwu"
	"sC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywl"
	"VmtVrBp0igcN_IoypGlUPQGe77Rw";

static const char rfc7515_a3[] =
	"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djx"
	"La8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

static bool rfc_verifies(const struct wwsf_key *k, const char *token)
{
	jwt_t *j = NULL;
	bool ok = jwt_decode(&j, token, (const unsigned char *)k->pem, (int)k->pem_len) == 0;
	jwt_free(j);
	return ok;
}

static void test_rfc7515_public_key_examples(void **state)
{
	struct wwsf_keyset ks;
	char err[160];
	(void)state;

	assert_int_equal(wwsf_keys_parse(rfc7515_jwks, strlen(rfc7515_jwks), &ks, err, sizeof(err)), 0);
	const struct wwsf_key *a2 = wwsf_keys_find(&ks, "a2"), *a3 = wwsf_keys_find(&ks, "a3");
	assert_non_null(a2);
	assert_non_null(a3);
	assert_int_equal(a2->type, WWSF_KEY_RSA);
	assert_int_equal(a3->type, WWSF_KEY_EC_P256);
	assert_true(rfc_verifies(a2, rfc7515_a2));
	assert_true(rfc_verifies(a3, rfc7515_a3));
	/* Each signature belongs to its key only. */
	assert_false(rfc_verifies(a3, rfc7515_a2));
	assert_false(rfc_verifies(a2, rfc7515_a3));
	/* One character of the signature, then of the payload, changed. */
	char t[sizeof(rfc7515_a3)];
	memcpy(t, rfc7515_a3, sizeof(t));
	t[sizeof(t) - 3] = t[sizeof(t) - 3] == 'A' ? 'B' : 'A';
	assert_false(rfc_verifies(a3, t));
	memcpy(t, rfc7515_a3, sizeof(t));
	t[30] = t[30] == 'A' ? 'B' : 'A';
	assert_false(rfc_verifies(a3, t));
	wwsf_keys_free(&ks);
}

/* ---- authorization on a flow ------------------------------------------- */

static void test_authorize(void **state)
{
	struct jwt_verify_cfg cfg = { .audience = AUD, .leeway_s = 30, .max_bytes = 4096 };
	struct jwt_claims cl;
	struct jwt_verdict v;
	(void)state;
	assert_int_equal(load_policy(), 0);
	const struct wwsf *a = &P.v[0], *b = &P.v[1];

	char *t = token(HES, claims(NULL), SIGN_EC);
	assert_int_equal(jwt_token_verify(&P, &cfg, t, strlen(t), NOW, &cl, &v), 0);
	assert_int_equal(jwt_token_authorize(&cl, a, "sip:alice@ims.test", &v), 0);
	assert_int_equal(cl.in_range, 0);
	assert_int_equal(jwt_token_authorize(&cl, a, NULL, &v), 0);
	assert_int_equal(jwt_token_authorize(&cl, b, "sip:alice@ims.test", &v), EPERM);
	assert_int_equal(v.status, 403);
	assert_string_equal(v.reason, "origin is not one of wwsf wwsf-a");
	assert_int_equal(jwt_token_authorize(&cl, NULL, "sip:alice@ims.test", &v), EPERM);
	assert_string_equal(v.reason, "origin is not one of wwsf wwsf-a");
	assert_int_equal(jwt_token_authorize(&cl, a, "sip:bob@ims.test", &v), EPERM);
	assert_string_equal(v.reason, "token is for another impu");

	t = token(HES, claims(OV("impu", "\"sip:carol@ims.test\"")), SIGN_EC);
	assert_int_equal(jwt_token_verify(&P, &cfg, t, strlen(t), NOW, &cl, &v), 0);
	assert_int_equal(jwt_token_authorize(&cl, a, "sip:carol@ims.test", &v), EPERM);
	assert_string_equal(v.reason, "impu not allowed for wwsf wwsf-a");

	t = token(HES, claims(OV("impu", "\"sip:guest-7@ims.test\"")), SIGN_EC);
	assert_int_equal(jwt_token_verify(&P, &cfg, t, strlen(t), NOW, &cl, &v), 0);
	assert_int_equal(jwt_token_authorize(&cl, a, "sip:guest-7@ims.test", &v), 0);
	assert_int_equal(cl.in_range, 1);
	assert_string_equal(cl.range, "sip:guest-*@ims.test");

	t = token(HES, claims(OV("3gpp-waf", "\"waf-z\"")), SIGN_EC);
	assert_int_equal(jwt_token_verify(&P, &cfg, t, strlen(t), NOW, &cl, &v), 0);
	assert_int_equal(jwt_token_authorize(&cl, a, "sip:alice@ims.test", &v), EPERM);
	assert_string_equal(v.reason, "waf not allowed for wwsf wwsf-a");

	t = token(HES, claims(NULL), SIGN_EC);
	assert_int_equal(jwt_token_verify(&P, &cfg, t, strlen(t), NOW, &cl, &v), 0);
	P.v[0].barred = 1;
	assert_int_equal(jwt_token_authorize(&cl, a, "sip:alice@ims.test", &v), EPERM);
	assert_string_equal(v.reason, "wwsf wwsf-a is barred");
	assert_string_equal(v.error, "insufficient_scope");
	wwsf_policy_free(&P);
}

/* ---- jti window ---------------------------------------------------------- */

static void test_jti_cache(void **state)
{
	struct jti_cache c;
	(void)state;
	assert_int_equal(jti_cache_init(&c, 3), 0);
	assert_int_equal(jti_cache_use(&c, "a", "1", 10, 100, 50), 0);
	assert_int_equal(jti_cache_use(&c, "a", "1", 10, 100, 60), 0);      /* same flow */
	assert_int_equal(jti_cache_use(&c, "a", "1", 11, 100, 60), EEXIST); /* replay */
	assert_int_equal(jti_cache_use(&c, "b", "1", 11, 100, 60), 0);      /* other issuer */
	assert_int_equal(jti_cache_use(&c, "a", "2", 11, 70, 60), 0);
	assert_int_equal(jti_cache_use(&c, "a", "3", 11, 100, 60), ENOSPC); /* full, all live */
	assert_int_equal(jti_cache_use(&c, "a", "3", 11, 100, 71), 0);      /* "2" lapsed */
	assert_int_equal(jti_cache_use(&c, "a", "1", 12, 200, 101), 0);     /* "1" lapsed */
	assert_int_equal(jti_cache_use(&c, "a", "1", 10, 200, 102), EEXIST);
	jti_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_jwks),
		cmocka_unit_test(test_policy_tokens),
		cmocka_unit_test(test_impu_patterns),
		cmocka_unit_test(test_token_table),
		cmocka_unit_test(test_rfc7515_examples),
		cmocka_unit_test(test_rfc7515_public_key_examples),
		cmocka_unit_test(test_authorize),
		cmocka_unit_test(test_jti_cache),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
