/* Registration bindings per flow. */
#include "reg_binding.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

const char *sip_unknown_value(sip_t const *sip, const char *name)
{
	for (sip_unknown_t const *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && !strcasecmp(u->un_name, name))
			return u->un_value;
	return NULL;
}

static void binding_free(struct reg_binding *b)
{
	for (unsigned i = 0; i < b->n_impu; i++)
		free(b->impu[i]);
	free(b->service_route);
	free(b);
}

void reg_table_free(struct reg_table *t)
{
	while (t->head) {
		struct reg_binding *b = t->head;
		t->head = b->next;
		binding_free(b);
	}
	free(t->buckets);
	t->buckets = NULL;
	t->n = t->n_buckets = 0;
}

static size_t bucket_of(const struct reg_table *t, uint64_t flow_id)
{
	/* Flow ids are sequential: a multiplicative hash spreads them. */
	return (size_t)((flow_id * 0x9E3779B97F4A7C15ull) >> 32) & (t->n_buckets - 1);
}

struct reg_binding *reg_find(struct reg_table *t, uint64_t flow_id)
{
	if (!t->n_buckets)
		return NULL;
	for (struct reg_binding *b = t->buckets[bucket_of(t, flow_id)]; b; b = b->hnext)
		if (b->flow_id == flow_id)
			return b;
	return NULL;
}

/* Doubles the bucket array when the load passes 1.  Returns 0 or ENOMEM. */
static int grow(struct reg_table *t)
{
	size_t n = t->n_buckets ? t->n_buckets * 2 : 64;
	struct reg_binding **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return ENOMEM;
	free(t->buckets);
	t->buckets = nb;
	t->n_buckets = n;
	for (struct reg_binding *b = t->head; b; b = b->next) {
		size_t k = bucket_of(t, b->flow_id);
		b->hnext = nb[k];
		nb[k] = b;
	}
	return 0;
}

void reg_remove(struct reg_table *t, uint64_t flow_id)
{
	if (!t->n_buckets)
		return;
	for (struct reg_binding **pp = &t->buckets[bucket_of(t, flow_id)]; *pp; pp = &(*pp)->hnext)
		if ((*pp)->flow_id == flow_id) {
			struct reg_binding *b = *pp;
			*pp = b->hnext;
			if (b->prev)
				b->prev->next = b->next;
			else
				t->head = b->next;
			if (b->next)
				b->next->prev = b->prev;
			binding_free(b);
			t->n--;
			return;
		}
}

/* Copies the name-addr URIs of a comma-separated header value
 * ("<sip:a@x>, \"A\" <tel:+1>") into b->impu.  Returns 0 or ENOMEM. */
static int parse_impus(struct reg_binding *b, const char *v)
{
	for (unsigned i = 0; i < b->n_impu; i++)
		free(b->impu[i]);
	b->n_impu = 0;
	while (v && *v && b->n_impu < REG_MAX_IMPU) {
		const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		if (!lt || !gt)
			break;
		size_t n = (size_t)(gt - lt - 1);
		if (n > 0 && n < REG_URI_MAX) {
			if (!(b->impu[b->n_impu] = strndup(lt + 1, n)))
				return ENOMEM;
			b->n_impu++;
		}
		v = gt + 1;
	}
	return 0;
}

/* The lifetime granted to our contact: the 200 lists every contact of the
 * AOR (other devices too), so find the one the request registered.  0 when
 * it is absent (removed). */
static long granted_expires(sip_t const *rsp, sip_t const *req)
{
	sip_contact_t const *ours = req ? req->sip_contact : NULL;

	for (sip_contact_t const *m = rsp->sip_contact; m; m = m->m_next) {
		if (ours && url_cmp(m->m_url, ours->m_url))
			continue;
		if (m->m_expires)
			return strtol(m->m_expires, NULL, 10);
		return rsp->sip_expires ? (long)rsp->sip_expires->ex_delta : 3600;
	}
	return 0;
}

/* The flow's binding, made empty when new.  NULL on ENOMEM. */
static struct reg_binding *find_or_add(struct reg_table *t, uint64_t flow_id)
{
	struct reg_binding *b = reg_find(t, flow_id);

	if (b)
		return b;
	if (t->n >= t->n_buckets && grow(t))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->flow_id = flow_id;
	b->next = t->head;
	if (t->head)
		t->head->prev = b;
	t->head = b;
	size_t k = bucket_of(t, flow_id);
	b->hnext = t->buckets[k];
	t->buckets[k] = b;
	t->n++;
	return b;
}

int reg_set_local(struct reg_table *t, uint64_t flow_id, const char *impu,
		  const char *service_route, uint64_t expires_ms)
{
	if (strlen(impu) >= REG_URI_MAX)
		return EINVAL;
	struct reg_binding *b = find_or_add(t, flow_id);
	char *i = b ? strdup(impu) : NULL;
	char *r = b && service_route ? strdup(service_route) : NULL;

	if (!b || !i || (service_route && !r)) {
		free(i);
		free(r);
		if (b && !b->n_impu)
			reg_remove(t, flow_id);
		return ENOMEM;
	}
	for (unsigned k = 0; k < b->n_impu; k++)
		free(b->impu[k]);
	b->impu[0] = i;
	b->n_impu = 1;
	free(b->service_route);
	b->service_route = r;
	b->expires_ms = expires_ms;
	return 0;
}

int reg_apply_200(struct reg_table *t, uint64_t flow_id, sip_t const *sip,
		  sip_t const *req, uint64_t now_ms)
{
	long expires = granted_expires(sip, req);
	struct reg_binding *b;

	if (expires <= 0) {
		reg_remove(t, flow_id);
		return ENOENT;
	}
	if (!(b = find_or_add(t, flow_id)))
		return ENOMEM;
	if (parse_impus(b, sip_unknown_value(sip, "P-Associated-URI")))
		return ENOMEM;
	if (b->n_impu == 0 && sip->sip_to) {
		/* No P-Associated-URI: the registered IMPU itself. */
		char *u = url_as_string(NULL, sip->sip_to->a_url);
		if (u && strlen(u) < REG_URI_MAX && (b->impu[0] = strdup(u)))
			b->n_impu = 1;
		su_free(NULL, u);
	}
	free(b->service_route);
	b->service_route = NULL;
	if (sip->sip_service_route) {
		/* Keep the routes as one printed header value. */
		char buf[2048];
		size_t pos = 0;
		for (sip_service_route_t const *r = sip->sip_service_route; r; r = r->r_next) {
			char *u = url_as_string(NULL, r->r_url);
			if (u)
				pos += (size_t)snprintf(buf + pos, pos < sizeof(buf) ? sizeof(buf) - pos : 0,
							"%s<%s>", pos ? "," : "", u);
			su_free(NULL, u);
		}
		if (pos && pos < sizeof(buf))
			b->service_route = strdup(buf);
	}
	b->expires_ms = now_ms + (uint64_t)expires * 1000;
	return 0;
}

const char *reg_asserted_identity(const struct reg_binding *b,
				  const char *preferred)
{
	if (!b || !b->n_impu)
		return NULL;
	if (preferred) {
		const char *lt = strchr(preferred, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		size_t n = lt && gt ? (size_t)(gt - lt - 1) : strlen(preferred);
		const char *u = lt && gt ? lt + 1 : preferred;
		for (unsigned i = 0; i < b->n_impu; i++)
			if (strlen(b->impu[i]) == n && !strncmp(b->impu[i], u, n))
				return b->impu[i];
	}
	return b->impu[0];
}
