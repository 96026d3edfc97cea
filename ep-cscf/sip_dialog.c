/* The call table. */
#include "sip_dialog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>

#define BUCKETS 4096

static size_t hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h & (BUCKETS - 1);
}

int call_table_init(struct call_table *t)
{
	memset(t, 0, sizeof(*t));
	t->buckets = calloc(BUCKETS, sizeof(*t->buckets));
	t->ctx_buckets = calloc(BUCKETS, sizeof(*t->ctx_buckets));
	if (!t->buckets || !t->ctx_buckets) {
		free(t->buckets);
		free(t->ctx_buckets);
		t->buckets = t->ctx_buckets = NULL;
		return ENOMEM;
	}
	t->n_buckets = BUCKETS;
	t->next_serial = 1;
	return 0;
}

void call_table_free(struct call_table *t)
{
	while (t->all)
		call_remove(t, t->all);
	free(t->buckets);
	free(t->ctx_buckets);
	t->buckets = t->ctx_buckets = NULL;
}

static size_t ctx_hash(const void *link, uint32_t id)
{
	uint64_t k = (uint64_t)(uintptr_t)link ^ ((uint64_t)id * 0x9E3779B97F4A7C15ull);
	return (size_t)(k ^ (k >> 29)) & (BUCKETS - 1);
}

void call_index_context(struct call_table *t, struct call *c, const void *link, uint32_t id)
{
	size_t k;

	call_unindex_context(t, c);
	if (!id)
		return;
	c->ctx_link = link;
	c->ctx_id = id;
	k = ctx_hash(link, id);
	c->ctx_next = t->ctx_buckets[k];
	t->ctx_buckets[k] = c;
}

void call_unindex_context(struct call_table *t, struct call *c)
{
	if (!c->ctx_id)
		return;
	for (struct call **pp = &t->ctx_buckets[ctx_hash(c->ctx_link, c->ctx_id)]; *pp;
	     pp = &(*pp)->ctx_next)
		if (*pp == c) {
			*pp = c->ctx_next;
			break;
		}
	c->ctx_id = 0;
	c->ctx_link = NULL;
	c->ctx_next = NULL;
}

struct call *call_by_context(const struct call_table *t, const void *link, uint32_t id)
{
	for (struct call *c = id ? t->ctx_buckets[ctx_hash(link, id)] : NULL; c; c = c->ctx_next)
		if (c->ctx_link == link && c->ctx_id == id)
			return c;
	return NULL;
}

int call_set(char **field, const char *s)
{
	char *copy = NULL;
	if (s && !(copy = strdup(s)))
		return ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

struct call *call_add(struct call_table *t, const char *call_id, uint64_t flow_id,
		      enum call_dir dir)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c || !(c->call_id = strdup(call_id))) {
		free(c);
		return NULL;
	}
	c->serial = t->next_serial++;
	c->flow_id = flow_id;
	c->dir = dir;
	c->state = CALL_INIT;
	size_t k = hash(call_id);
	c->hnext = t->buckets[k];
	t->buckets[k] = c;
	c->next = t->all;
	if (t->all)
		t->all->prev = c;
	t->all = c;
	t->n++;
	return c;
}

void call_remove(struct call_table *t, struct call *c)
{
	for (struct call **pp = &t->buckets[hash(c->call_id)]; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	call_unindex_context(t, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->n--;
	if (c->held)
		msg_destroy(c->held);
	free(c->up_inv);
	free(c->call_id);
	free(c->caller);
	free(c->callee);
	free(c->ws_target);
	free(c->ims_target);
	free(c->ims_route);
	free(c);
}

struct call *call_next_with_id(const struct call_table *t, const char *call_id,
			       const struct call *prev)
{
	struct call *c = prev ? prev->hnext : t->buckets[hash(call_id)];
	for (; c; c = c->hnext)
		if (!strcmp(c->call_id, call_id))
			return c;
	return NULL;
}

struct call *call_find(const struct call_table *t, const char *call_id, uint64_t flow_id)
{
	struct call *ended = NULL;
	for (struct call *c = call_next_with_id(t, call_id, NULL); c;
	     c = call_next_with_id(t, call_id, c)) {
		if (c->flow_id != flow_id)
			continue;
		if (c->state != CALL_ENDED)
			return c;
		if (!ended || c->serial > ended->serial)
			ended = c;
	}
	return ended;
}

char *call_header_string(msg_t *msg, const void *header)
{
	char *s, *copy;
	if (!header)
		return NULL;
	s = sip_header_as_string(msg_home(msg), (sip_header_t const *)header);
	if (!s)
		return NULL;
	copy = strdup(s);
	su_free(msg_home(msg), s);
	return copy;
}
