/* Trusted WWSFs (web servers that serve WIC pages) and the origins each
 * may use.  Configured with repeatable lines:
 *
 *   wwsf = NAME origins=https://a.example,https://b.example:8443
 *
 * An upgrade whose Origin is not listed under some WWSF is refused; the
 * matching WWSF is kept on the flow for later checks (tokens, issue 8). */
#ifndef EPCSCF_WWSF_POLICY_H
#define EPCSCF_WWSF_POLICY_H

#include <stddef.h>

#include "conf.h"

#define WWSF_NAME_MAX 64
#define WWSF_ORIGIN_MAX 256

struct wwsf {
	char name[WWSF_NAME_MAX];
	char (*origins)[WWSF_ORIGIN_MAX]; /* owned, serialized (RFC 6454) */
	size_t n_origins;
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

/* Serializes an origin as browsers send it: lower-case scheme and host,
 * default port removed, no path.  Returns 0 or EINVAL. */
int wwsf_origin_normalize(const char *in, char *out, size_t outlen);

/* The WWSF that lists `origin` (as received), or NULL. */
const struct wwsf *wwsf_policy_match(const struct wwsf_policy *p,
				     const char *origin);

#endif
