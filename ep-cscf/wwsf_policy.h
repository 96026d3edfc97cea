/* Trusted WWSFs (web servers that serve WIC pages) and the origins each
 * may use.  Configured with repeatable lines:
 *
 *   wwsf = NAME origins=https://a.example,https://b.example:8443
 *          [issuer=URL jwks=FILE impus=PATTERN[,...]] [ranges=PATTERN[,...]]
 *          [wafs=ID[,...]] [max_registrations=N] [barred=yes|no]
 *
 * An upgrade whose Origin is not listed under some WWSF is refused; the
 * matching WWSF is kept on the flow.  A WWSF with an issuer and a JWKS
 * issues tokens (web authentication, TS 24.371 A.3.2): NAME is its
 * identity (the "3gpp-wwsf" claim), `impus` the IMPU patterns it may
 * assert (impu_range.h), `ranges` the wildcarded IMPU ranges it owns,
 * `wafs` the WAF identities it may name in "3gpp-waf" (any when absent),
 * `max_registrations` a quota of token registrations (0: none), `barred`
 * refuses all its tokens (TR 33.871 5.2). */
#ifndef EPCSCF_WWSF_POLICY_H
#define EPCSCF_WWSF_POLICY_H

#include <stddef.h>

#include "conf.h"
#include "wwsf_keys.h"

#define WWSF_NAME_MAX 64
#define WWSF_ORIGIN_MAX 256

#define WWSF_ISSUER_MAX 256
#define WWSF_PATTERN_MAX 256

struct wwsf {
	char name[WWSF_NAME_MAX];
	char (*origins)[WWSF_ORIGIN_MAX]; /* owned, serialized (RFC 6454) */
	size_t n_origins;
	char issuer[WWSF_ISSUER_MAX];     /* empty: issues no tokens */
	char *jwks_path;                  /* owned, NULL without issuer */
	struct wwsf_keyset keys;          /* owned */
	char (*impus)[WWSF_PATTERN_MAX];  /* owned */
	size_t n_impus;
	char (*ranges)[WWSF_PATTERN_MAX]; /* owned */
	size_t n_ranges;
	char (*wafs)[WWSF_NAME_MAX];      /* owned */
	size_t n_wafs;
	unsigned max_registrations;       /* 0: no quota */
	int barred;
	unsigned n_registrations;         /* live token registrations */
};

struct wwsf_policy {
	struct wwsf *v; /* owned */
	size_t n;
};

/* Builds the policy from the `wwsf` list.  Returns 0, or EINVAL/ENOMEM with
 * "where: wwsf: reason" in err.  On error the policy is empty. */
int wwsf_policy_load(struct wwsf_policy *p, const struct conf_list *l,
		     char *err, size_t errlen);
void wwsf_policy_free(struct wwsf_policy *p);

/* Re-reads every WWSF's JWKS file (SIGHUP).  All or nothing: on error the
 * keys in use stay and err names the WWSF and file. */
int wwsf_policy_reload_keys(struct wwsf_policy *p, char *err, size_t errlen);

/* The key with this kid and the WWSF that owns it (kids are unique across
 * WWSFs), or NULL. */
const struct wwsf_key *wwsf_policy_find_key(const struct wwsf_policy *p,
					    const char *kid,
					    const struct wwsf **owner);

/* Serializes an origin as browsers send it: lower-case scheme and host,
 * default port removed, no path.  Returns 0 or EINVAL. */
int wwsf_origin_normalize(const char *in, char *out, size_t outlen);

/* The WWSF that lists `origin` (as received), or NULL. */
const struct wwsf *wwsf_policy_match(const struct wwsf_policy *p,
				     const char *origin);

#endif
