/* Web-authentication tokens (TS 24.371 A.3.2; TR 23.701 A.2.1.3): a JWS
 * compact JWT issued by a trusted WWSF, checked before the eP-CSCF
 * registers toward IMS on the token's behalf (RFC 7519 4.1, RFC 8725).
 *
 * jwt_token_verify checks the token itself: size, shape, an allow-listed
 * algorithm (ES256 or RS256 only: never "none", never an HMAC, whose
 * "secret" would be the public key), the key by "kid" across all WWSFs and
 * that its type fits the algorithm, the signature (libjwt), the claim
 * types, "iss" (the key owner's issuer), "aud" (this eP-CSCF), "exp" and
 * "nbf" with a leeway, and the required claims "impu", "impi", "jti",
 * "3gpp-wwsf" (the key owner's identity) and "3gpp-waf" (TS 24.229 7.13).
 * A failure is a 401 (invalid_token).
 *
 * jwt_token_authorize then checks what the token may do on a given flow:
 * the WWSF not barred, the flow's Origin among that WWSF's origins, the
 * WAF allowed, the IMPU one the WWSF may assert (its patterns or ranges)
 * and the one being registered.  A failure is a 403.
 *
 * Both are pure (no I/O, no logging, no clock: `now` is given).  The jti
 * replay window is kept by the caller (jti_cache.h). */
#ifndef EPCSCF_JWT_VERIFY_H
#define EPCSCF_JWT_VERIFY_H

#include <stddef.h>

#include "impu_range.h"
#include "wwsf_policy.h"

#define JWT_JTI_MAX 128
#define JWT_IMPI_MAX 256

struct jwt_verify_cfg {
	const char *audience; /* this eP-CSCF's identity, borrowed */
	long long leeway_s;   /* clock skew allowed on exp/nbf/iat */
	size_t max_bytes;     /* longest token accepted */
};

struct jwt_claims {
	const struct wwsf *wwsf; /* borrowed: the WWSF whose key signed */
	char impu[IMPU_MAX];
	char impi[JWT_IMPI_MAX];
	char waf[WWSF_NAME_MAX];
	char jti[JWT_JTI_MAX + 1];
	long long exp;
	int in_range;            /* impu granted from one of the WWSF's ranges */
	char range[WWSF_PATTERN_MAX]; /* that range when in_range */
};

/* Why a token was refused: the SIP status (401 or 403), the RFC 6750
 * error code for WWW-Authenticate, and a reason for the log and the
 * error_description. */
struct jwt_verdict {
	int status;
	const char *error;
	char reason[160];
};

/* Returns 0 with *out filled, or EACCES with v filled (status 401). */
int jwt_token_verify(const struct wwsf_policy *p, const struct jwt_verify_cfg *c,
		     const char *token, size_t len, long long now,
		     struct jwt_claims *out, struct jwt_verdict *v);

/* flow_wwsf: the WWSF the flow's Origin matched (NULL: none).  impu: the
 * IMPU the request registers (To of REGISTER), or NULL to skip that check
 * (requests other than REGISTER).  Returns 0, setting c->in_range and
 * c->range, or EPERM with v filled (status 403). */
int jwt_token_authorize(struct jwt_claims *c, const struct wwsf *flow_wwsf,
			const char *impu, struct jwt_verdict *v);

#endif
