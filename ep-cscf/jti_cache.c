/* Bounded jti set: an array of entries with hash chains by index. */
#include "jti_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

int jti_cache_init(struct jti_cache *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->cap = cap ? cap : 1;
	c->n_buckets = c->cap * 2;
	c->v = calloc(c->cap, sizeof(*c->v));
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	if (!c->v || !c->buckets) {
		jti_cache_free(c);
		return ENOMEM;
	}
	return 0;
}

void jti_cache_free(struct jti_cache *c)
{
	free(c->v);
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

static void rebuild(struct jti_cache *c)
{
	memset(c->buckets, 0, c->n_buckets * sizeof(*c->buckets));
	for (size_t i = 0; i < c->n; i++) {
		size_t b = hash(c->v[i].key) % c->n_buckets;
		c->v[i].next = c->buckets[b];
		c->buckets[b] = (uint32_t)(i + 1);
	}
}

/* Drops expired entries (compacting the array). */
static void purge(struct jti_cache *c, long long now)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].until >= now)
			c->v[k++] = c->v[i];
	c->n = k;
	rebuild(c);
}

int jti_cache_use(struct jti_cache *c, const char *wwsf, const char *jti, uint64_t flow_id,
		  long long until, long long now)
{
	char key[sizeof(c->v[0].key)];
	snprintf(key, sizeof(key), "%s\n%s", wwsf, jti);
	size_t b = hash(key) % c->n_buckets;

	for (uint32_t i = c->buckets[b]; i; i = c->v[i - 1].next) {
		struct jti_entry *e = &c->v[i - 1];
		if (strcmp(e->key, key))
			continue;
		if (e->until < now) { /* lapsed: take it over */
			e->flow_id = flow_id;
			e->until = until;
			return 0;
		}
		return e->flow_id == flow_id ? 0 : EEXIST;
	}
	if (c->n == c->cap) {
		purge(c, now);
		if (c->n == c->cap)
			return ENOSPC;
		b = hash(key) % c->n_buckets;
	}
	struct jti_entry *e = &c->v[c->n];
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->flow_id = flow_id;
	e->until = until;
	e->next = c->buckets[b];
	c->buckets[b] = (uint32_t)(++c->n);
	return 0;
}
