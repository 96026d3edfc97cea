/* The jti replay window (RFC 7519 4.1.7): each accepted token id is kept
 * until its token expires (plus leeway), bound to the flow that first
 * used it.  The same token again on that flow (refresh, or the Bearer of
 * every request, TS 24.371 7.2.1) is fine; on another flow it is a replay.
 * Memory is bounded: at capacity, expired entries are dropped, and if none
 * is expired the new token is refused (fail closed). */
#ifndef EPCSCF_JTI_CACHE_H
#define EPCSCF_JTI_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "jwt_verify.h"

struct jti_entry {
	uint32_t next;      /* chain index + 1, 0: end */
	uint64_t flow_id;
	long long until;
	char key[WWSF_NAME_MAX + JWT_JTI_MAX + 2]; /* "wwsf\njti" */
};

struct jti_cache {
	struct jti_entry *v; /* owned, cap entries */
	uint32_t *buckets;   /* owned, n_buckets; index + 1 */
	size_t cap, n, n_buckets;
};

int jti_cache_init(struct jti_cache *c, size_t cap);
void jti_cache_free(struct jti_cache *c);

/* Records (wwsf, jti) for flow_id until `until`.  Returns 0 (new, or seen
 * on the same flow), EEXIST (seen on another flow: replay) or ENOSPC
 * (full of live entries). */
int jti_cache_use(struct jti_cache *c, const char *wwsf, const char *jti, uint64_t flow_id,
		  long long until, long long now);

#endif
