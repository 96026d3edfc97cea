/* A WWSF's token verification keys: a JWK Set (RFC 7517 section 5) with
 * EC P-256 keys (for ES256) and RSA keys of at least 2048 bits (for
 * RS256), each with a unique "kid".  Symmetric ("oct") keys, other curves
 * and private key material are refused: the eP-CSCF only ever verifies.
 * Keys are kept as PEM SubjectPublicKeyInfo, the form libjwt verifies
 * with.  Reloaded on SIGHUP (see wwsf_policy_reload_keys). */
#ifndef EPCSCF_WWSF_KEYS_H
#define EPCSCF_WWSF_KEYS_H

#include <stddef.h>

#define WWSF_KID_MAX 128
#define WWSF_JWKS_MAX_BYTES (1024 * 1024)
#define WWSF_JWKS_MAX_KEYS 64

enum wwsf_key_type { WWSF_KEY_EC_P256, WWSF_KEY_RSA };

struct wwsf_key {
	char kid[WWSF_KID_MAX];
	enum wwsf_key_type type;
	char *pem;      /* owned, NUL-terminated */
	size_t pem_len; /* without the NUL */
};

struct wwsf_keyset {
	struct wwsf_key *v; /* owned */
	size_t n;
};

/* Parses a JWK Set document (pure).  Returns 0, or EINVAL/ENOMEM with the
 * reason in err ("key 2 (kid \"k1\"): crv P-521 is not P-256").  On error
 * *out is empty. */
int wwsf_keys_parse(const char *json, size_t len, struct wwsf_keyset *out,
		    char *err, size_t errlen);
/* Reads and parses the file at path (at most WWSF_JWKS_MAX_BYTES). */
int wwsf_keys_load(const char *path, struct wwsf_keyset *out, char *err,
		   size_t errlen);
void wwsf_keys_free(struct wwsf_keyset *ks);

const struct wwsf_key *wwsf_keys_find(const struct wwsf_keyset *ks,
				      const char *kid);

#endif
