/* JWK Set parsing into PEM public keys (jansson + OpenSSL 3). */
#include "wwsf_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "base64url.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BYTES 1024 /* 8192-bit modulus */

static int b64_member(json_t *jwk, const char *name, unsigned char *out, size_t cap,
		      size_t *outlen, char *why, size_t whylen)
{
	json_t *v = json_object_get(jwk, name);
	if (!json_is_string(v)) {
		snprintf(why, whylen, "\"%s\" missing or not a string", name);
		return EINVAL;
	}
	int rc = b64url_decode(json_string_value(v), json_string_length(v), out, cap, outlen);
	if (rc)
		snprintf(why, whylen, "\"%s\" is not base64url of the expected size", name);
	return rc;
}

/* Builds a public key from OSSL params and prints it as PEM. */
static int to_pem(const char *alg, OSSL_PARAM *params, struct wwsf_key *k, char *why,
		  size_t whylen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL), *chk = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int rc = EINVAL;

	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		snprintf(why, whylen, "not a valid %s public key", alg);
		goto out;
	}
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!chk || EVP_PKEY_public_check(chk) <= 0) {
		snprintf(why, whylen, "%s public key fails its validity check", alg);
		goto out;
	}
	if (k->type == WWSF_KEY_RSA && EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS) {
		snprintf(why, whylen, "RSA key of %d bits (at least %d)", EVP_PKEY_get_bits(pkey),
			 RSA_MIN_BITS);
		goto out;
	}
	char *data;
	long n;
	if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_PUBKEY(bio, pkey) ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 || !(k->pem = malloc((size_t)n + 1))) {
		snprintf(why, whylen, "out of memory");
		rc = ENOMEM;
		goto out;
	}
	memcpy(k->pem, data, (size_t)n);
	k->pem[n] = '\0';
	k->pem_len = (size_t)n;
	rc = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int ec_key(json_t *jwk, struct wwsf_key *k, char *why, size_t whylen)
{
	unsigned char pt[65], buf[40];
	size_t n;
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	OSSL_PARAM params[3];
	static char group[] = "prime256v1";

	if (!crv || strcmp(crv, "P-256")) {
		snprintf(why, whylen, "crv %.20s is not P-256", crv ? crv : "(missing)");
		return EINVAL;
	}
	pt[0] = 0x04; /* uncompressed point */
	if (b64_member(jwk, "x", buf, sizeof(buf), &n, why, whylen))
		return EINVAL;
	if (n != 32) {
		snprintf(why, whylen, "\"x\" is %zu octets, not 32", n);
		return EINVAL;
	}
	memcpy(pt + 1, buf, 32);
	if (b64_member(jwk, "y", buf, sizeof(buf), &n, why, whylen))
		return EINVAL;
	if (n != 32) {
		snprintf(why, whylen, "\"y\" is %zu octets, not 32", n);
		return EINVAL;
	}
	memcpy(pt + 33, buf, 32);
	k->type = WWSF_KEY_EC_P256;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	return to_pem("EC", params, k, why, whylen);
}

static int rsa_key(json_t *jwk, struct wwsf_key *k, char *why, size_t whylen)
{
	unsigned char nb[RSA_MAX_BYTES], eb[8];
	size_t nl, el;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int rc = EINVAL;

	if (b64_member(jwk, "n", nb, sizeof(nb), &nl, why, whylen) ||
	    b64_member(jwk, "e", eb, sizeof(eb), &el, why, whylen))
		return EINVAL;
	if (!nl || !nb[0] || !el || !eb[0]) {
		snprintf(why, whylen, "\"n\" or \"e\" has leading zero octets");
		return EINVAL;
	}
	k->type = WWSF_KEY_RSA;
	bn_n = BN_bin2bn(nb, (int)nl, NULL);
	bn_e = BN_bin2bn(eb, (int)el, NULL);
	if (!bn_n || !bn_e || !(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld))) {
		snprintf(why, whylen, "out of memory");
		rc = ENOMEM;
		goto out;
	}
	rc = to_pem("RSA", params, k, why, whylen);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return rc;
}

static int one_key(json_t *jwk, struct wwsf_key *k, char *why, size_t whylen)
{
	static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
	const char *kty, *kid, *use, *alg;

	if (!json_is_object(jwk)) {
		snprintf(why, whylen, "not a JSON object");
		return EINVAL;
	}
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (json_object_get(jwk, priv[i])) {
			snprintf(why, whylen, "holds private or symmetric key material (\"%s\")",
				 priv[i]);
			return EINVAL;
		}
	kid = json_string_value(json_object_get(jwk, "kid"));
	if (!kid || !*kid || strlen(kid) >= WWSF_KID_MAX) {
		snprintf(why, whylen, "\"kid\" missing, empty or longer than %d", WWSF_KID_MAX - 1);
		return EINVAL;
	}
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	use = json_string_value(json_object_get(jwk, "use"));
	if (json_object_get(jwk, "use") && (!use || strcmp(use, "sig"))) {
		snprintf(why, whylen, "\"use\" is not \"sig\"");
		return EINVAL;
	}
	kty = json_string_value(json_object_get(jwk, "kty"));
	alg = json_string_value(json_object_get(jwk, "alg"));
	if (kty && !strcmp(kty, "EC")) {
		if (json_object_get(jwk, "alg") && (!alg || strcmp(alg, "ES256"))) {
			snprintf(why, whylen, "\"alg\" of an EC key is not ES256");
			return EINVAL;
		}
		return ec_key(jwk, k, why, whylen);
	}
	if (kty && !strcmp(kty, "RSA")) {
		if (json_object_get(jwk, "alg") && (!alg || strcmp(alg, "RS256"))) {
			snprintf(why, whylen, "\"alg\" of an RSA key is not RS256");
			return EINVAL;
		}
		return rsa_key(jwk, k, why, whylen);
	}
	snprintf(why, whylen, "kty %.16s is not EC or RSA", kty ? kty : "(missing)");
	return EINVAL;
}

int wwsf_keys_parse(const char *json, size_t len, struct wwsf_keyset *out,
		    char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *keys;
	struct wwsf_keyset ks = { 0 };
	char why[160];
	int rc = EINVAL;

	memset(out, 0, sizeof(*out));
	if (!root) {
		snprintf(err, errlen, "not JSON (line %d: %s)", je.line, je.text);
		return EINVAL;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) || !json_array_size(keys)) {
		snprintf(err, errlen, "no \"keys\" array, or it is empty");
		goto out;
	}
	if (json_array_size(keys) > WWSF_JWKS_MAX_KEYS) {
		snprintf(err, errlen, "more than %d keys", WWSF_JWKS_MAX_KEYS);
		goto out;
	}
	ks.v = calloc(json_array_size(keys), sizeof(*ks.v));
	if (!ks.v) {
		snprintf(err, errlen, "out of memory");
		rc = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		struct wwsf_key *k = &ks.v[i];
		rc = one_key(json_array_get(keys, i), k, why, sizeof(why));
		ks.n = i + 1;
		if (!rc && i && wwsf_keys_find(&(struct wwsf_keyset){ ks.v, i }, k->kid)) {
			snprintf(why, sizeof(why), "kid listed twice");
			rc = EINVAL;
		}
		if (rc) {
			snprintf(err, errlen, "key %zu%s%s%s: %s", i + 1, k->kid[0] ? " (kid \"" : "",
				 k->kid, k->kid[0] ? "\")" : "", why);
			goto out;
		}
	}
	*out = ks;
	ks.v = NULL;
	ks.n = 0;
	rc = 0;
out:
	wwsf_keys_free(&ks);
	json_decref(root);
	return rc;
}

int wwsf_keys_load(const char *path, struct wwsf_keyset *out, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!fp) {
		rc = errno;
		snprintf(err, errlen, "cannot read: %s", strerror(rc));
		return rc;
	}
	buf = malloc(WWSF_JWKS_MAX_BYTES + 1);
	if (!buf) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	n = fread(buf, 1, WWSF_JWKS_MAX_BYTES + 1, fp);
	if (ferror(fp)) {
		rc = EIO;
		snprintf(err, errlen, "cannot read: %s", strerror(EIO));
	} else if (n > WWSF_JWKS_MAX_BYTES) {
		rc = EFBIG;
		snprintf(err, errlen, "larger than %d bytes", WWSF_JWKS_MAX_BYTES);
	} else {
		rc = wwsf_keys_parse(buf, n, out, err, errlen);
	}
	free(buf);
	fclose(fp);
	return rc;
}

void wwsf_keys_free(struct wwsf_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i].pem);
	free(ks->v);
	memset(ks, 0, sizeof(*ks));
}

const struct wwsf_key *wwsf_keys_find(const struct wwsf_keyset *ks, const char *kid)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->v[i].kid, kid))
			return &ks->v[i];
	return NULL;
}
