/* libFuzzer: the token and claims path of web authentication.
 *
 * The first input byte picks what the rest is:
 *   0: a whole token, checked by jwt_token_verify (shape, header, kid,
 *      signature);
 *   1: a claims payload, signed here with the WWSF's own ES256 key so that
 *      it gets past the signature into the claim checks and
 *      jwt_token_authorize;
 *   2: a JWK Set document for wwsf_keys_parse.
 * Invariants: no crash or leak; a refusal has status 401/403 and a
 * reason; an accepted token's claims are NUL-terminated URIs. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "conf.h"
#include "base64url.h"
#include "jwt_verify.h"
#include "wwsf_keys.h"
#include "wwsf_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct wwsf_policy policy;
static EVP_PKEY *key;

static void coord(const char *name, char *out)
{
	BIGNUM *bn = NULL;
	unsigned char buf[32];
	if (!EVP_PKEY_get_bn_param(key, name, &bn))
		abort();
	BN_bn2binpad(bn, buf, 32);
	BN_free(bn);
	b64url_encode(buf, 32, out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char x[64], y[64], path[] = "/tmp/fuzz_jwt_XXXXXX", line[512], err[CONF_ERR_MAX];
	(void)argc;
	(void)argv;
	key = EVP_EC_gen("P-256");
	int fd = mkstemp(path);
	if (!key || fd < 0)
		abort();
	coord(OSSL_PKEY_PARAM_EC_PUB_X, x);
	coord(OSSL_PKEY_PARAM_EC_PUB_Y, y);
	dprintf(fd, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"%s\","
		"\"y\":\"%s\"}]}", x, y);
	close(fd);
	snprintf(line, sizeof(line),
		 "w origins=https://w.test issuer=https://w.test jwks=%s impus=sip:*@ims.test "
		 "ranges=tel:+1555*", path);
	char *items[1] = { line }, *where[1] = { "fuzz:1" };
	struct conf_list l = { .n = 1, .items = items, .where = where };
	if (wwsf_policy_load(&policy, &l, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	unlink(path);
	return 0;
}

static void check(const char *tok, size_t len)
{
	struct jwt_verify_cfg cfg = { .audience = "ep", .leeway_s = 30, .max_bytes = 8192 };
	struct jwt_claims cl;
	struct jwt_verdict v = { 0 };
	int rc = jwt_token_verify(&policy, &cfg, tok, len, 1800000000LL, &cl, &v);
	if (rc) {
		if (rc != EACCES || v.status != 401 || !v.reason[0])
			abort();
		return;
	}
	if (cl.wwsf != &policy.v[0] || strnlen(cl.impu, sizeof(cl.impu)) == sizeof(cl.impu))
		abort();
	rc = jwt_token_authorize(&cl, &policy.v[0], cl.impu, &v);
	if (rc && (rc != EPERM || v.status != 403))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	if (data[0] == 0) {
		check((const char *)data + 1, size - 1);
	} else if (data[0] == 1) {
		static char tok[16384];
		char h[64];
		b64url_encode((const unsigned char *)"{\"alg\":\"ES256\",\"kid\":\"k\"}", 25, h);
		int n = snprintf(tok, sizeof(tok), "%s.", h);
		b64url_encode(data + 1, size - 1, tok + n);
		size_t in_len = strlen(tok);
		unsigned char der[128], raw[64];
		size_t dl = sizeof(der);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
		    EVP_DigestSign(md, der, &dl, (unsigned char *)tok, in_len) != 1)
			abort();
		EVP_MD_CTX_free(md);
		const unsigned char *q = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)dl);
		if (!es)
			abort();
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		tok[in_len] = '.';
		b64url_encode(raw, 64, tok + in_len + 1);
		check(tok, strlen(tok));
	} else if (data[0] == 2) {
		struct wwsf_keyset ks;
		char err[400];
		if (!wwsf_keys_parse((const char *)data + 1, size - 1, &ks, err, sizeof(err))) {
			for (size_t i = 0; i < ks.n; i++)
				if (!ks.v[i].pem || !ks.v[i].kid[0])
					abort();
			wwsf_keys_free(&ks);
		} else if (ks.n || !err[0]) {
			abort();
		}
	}
	return 0;
}
