/* Iq+ message builder and encoder (SPEC.md 4.1, 4.7). */
#include "iqp_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int iqp_msg_init(struct iqp_msg *m, const struct iqp_header *h, void *arena,
		 size_t cap)
{
	memset(m, 0, sizeof(*m));
	if (!cap)
		return EINVAL;
	m->hdr = *h;
	m->mem = arena;
	if (!m->mem) {
		m->mem = malloc(cap);
		if (!m->mem)
			return ENOMEM;
		m->mem_owned = true;
	}
	m->mem_cap = cap;
	m->mem_hi = cap;
	return 0;
}

static int fail(struct iqp_msg *m, int rc)
{
	if (!m->err)
		m->err = rc;
	return m->err;
}

static struct iqp_elem *alloc_node(struct iqp_msg *m)
{
	uintptr_t base = (uintptr_t)m->mem, al = _Alignof(struct iqp_elem);
	size_t lo = m->mem_lo + (size_t)((al - (base + m->mem_lo) % al) % al);

	if (lo > m->mem_hi || m->mem_hi - lo < sizeof(struct iqp_elem))
		return NULL;
	m->mem_lo = lo + sizeof(struct iqp_elem);
	struct iqp_elem *e = (struct iqp_elem *)(void *)(m->mem + lo);
	memset(e, 0, sizeof(*e));
	return e;
}

static uint8_t *alloc_bytes(struct iqp_msg *m, size_t n)
{
	if (n > m->mem_hi - m->mem_lo)
		return NULL;
	m->mem_hi -= n;
	return m->mem + m->mem_hi;
}

/* A new unlinked node under parent, value copied. */
static int new_node(struct iqp_msg *m, struct iqp_elem *parent, uint16_t type,
		    const void *val, size_t len, struct iqp_elem **out)
{
	if (m->err)
		return m->err;
	if (parent && !(parent->type & IQP_TYPE_C))
		return fail(m, EINVAL);
	if (((type & IQP_TYPE_C) && (val || len)) || (len && !val))
		return fail(m, EINVAL);
	if (len > UINT32_MAX)
		return fail(m, EMSGSIZE);
	unsigned depth = parent ? parent->depth + 1u : 1u;
	if (depth > IQP_MAX_DEPTH || m->n_elems >= IQP_MAX_ELEMENTS)
		return fail(m, E2BIG);
	uint8_t *copy = NULL;
	if (len) {
		copy = alloc_bytes(m, len);
		if (!copy)
			return fail(m, ENOMEM);
		memcpy(copy, val, len);
	}
	struct iqp_elem *e = alloc_node(m);
	if (!e)
		return fail(m, ENOMEM);
	e->type = type;
	e->value = copy;
	e->len = (uint32_t)len;
	e->depth = (uint8_t)depth;
	e->def = iqp_elem_def_find(type);
	e->parent = parent;
	m->n_elems++;
	*out = e;
	return 0;
}

static void link_after(struct iqp_msg *m, struct iqp_elem *parent,
		       struct iqp_elem *prev, struct iqp_elem *e)
{
	struct iqp_elem **head = parent ? &parent->child : &m->first;
	struct iqp_elem **tail = parent ? &parent->last : &m->last;

	if (prev) {
		e->next = prev->next;
		prev->next = e;
	} else {
		e->next = *head;
		*head = e;
	}
	if (!e->next)
		*tail = e;
}

int iqp_append_raw(struct iqp_msg *m, struct iqp_elem *parent, uint16_t type,
		   const void *val, size_t len, struct iqp_elem **out)
{
	struct iqp_elem *e;
	int rc = new_node(m, parent, type, val, len, &e);

	if (rc)
		return rc;
	link_after(m, parent, parent ? parent->last : m->last, e);
	if (out)
		*out = e;
	return 0;
}

int iqp_add(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
	    const void *val, size_t len, struct iqp_elem **out)
{
	const struct iqp_elem_def *d = iqp_elem_def_find(code);
	struct iqp_elem *e, *prev = NULL;
	int rc;

	if (m->err)
		return m->err;
	if (!d || code > IQP_TYPE_CODE)
		return fail(m, EINVAL);
	if (d->vtype != IQP_VT_CONTAINER && iqp_value_check(d->vtype, val, len))
		return fail(m, EINVAL);
	rc = new_node(m, parent, iqp_elem_def_type(d), val, len, &e);
	if (rc)
		return rc;
	/* Canonical place: after the last sibling whose code is <= code. */
	struct iqp_elem *tail = parent ? parent->last : m->last;
	if (tail && iqp_elem_code(tail) <= code) {
		prev = tail;
	} else {
		for (struct iqp_elem *s = parent ? parent->child : m->first;
		     s && iqp_elem_code(s) <= code; s = s->next)
			prev = s;
	}
	link_after(m, parent, prev, e);
	if (out)
		*out = e;
	return 0;
}

int iqp_add_container(struct iqp_msg *m, struct iqp_elem *parent,
		      uint16_t code, struct iqp_elem **out)
{
	const struct iqp_elem_def *d = iqp_elem_def_find(code);

	*out = NULL;
	if (!m->err && (!d || d->vtype != IQP_VT_CONTAINER))
		return fail(m, EINVAL);
	return iqp_add(m, parent, code, NULL, 0, out);
}

static int add_typed(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		     unsigned vtype, const void *val, size_t len)
{
	const struct iqp_elem_def *d = iqp_elem_def_find(code);

	if (!m->err && (!d || d->vtype != vtype))
		return fail(m, EINVAL);
	return iqp_add(m, parent, code, val, len, NULL);
}

static int add_be(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		  unsigned vtype, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return add_typed(m, parent, code, vtype, b, n);
}

int iqp_add_u8(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
	       uint8_t v)
{
	return add_be(m, parent, code, IQP_VT_U8, v, 1);
}

int iqp_add_u16(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		uint16_t v)
{
	return add_be(m, parent, code, IQP_VT_U16, v, 2);
}

int iqp_add_u32(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		uint32_t v)
{
	return add_be(m, parent, code, IQP_VT_U32, v, 4);
}

int iqp_add_u64(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		uint64_t v)
{
	return add_be(m, parent, code, IQP_VT_U64, v, 8);
}

int iqp_add_bool(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		 bool v)
{
	return add_be(m, parent, code, IQP_VT_BOOL, v ? 1 : 0, 1);
}

int iqp_add_enum(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		 uint8_t v)
{
	return add_be(m, parent, code, IQP_VT_ENUM, v, 1);
}

int iqp_add_str(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		const char *s)
{
	return add_typed(m, parent, code, IQP_VT_STRING, s, strlen(s));
}

int iqp_add_octets(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		   const void *p, size_t n)
{
	return add_typed(m, parent, code, IQP_VT_OCTETS, p, n);
}

static size_t ip_bytes(const struct iqp_ip *ip, uint8_t *b)
{
	size_t n = ip->family == 4 ? 4 : 16;
	b[0] = ip->family;
	memcpy(b + 1, ip->addr, n);
	return n + 1;
}

int iqp_add_ip(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
	       const struct iqp_ip *ip)
{
	uint8_t b[17];
	return add_typed(m, parent, code, IQP_VT_IP, b, ip_bytes(ip, b));
}

int iqp_add_ipport(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		   const struct iqp_ipport *a)
{
	uint8_t b[19];
	size_t n = ip_bytes(&a->ip, b);
	b[n] = (uint8_t)(a->port >> 8);
	b[n + 1] = (uint8_t)a->port;
	return add_typed(m, parent, code, IQP_VT_IPPORT, b, n + 2);
}

int iqp_add_error(struct iqp_msg *m, const struct iqp_error *err)
{
	struct iqp_elem *e;

	iqp_add_container(m, NULL, IQP_E_ERROR, &e);
	iqp_add_u16(m, e, IQP_E_ERROR_CODE, err->code);
	if (err->text[0])
		iqp_add_str(m, e, IQP_E_ERROR_TEXT, err->text);
	if (err->has_element)
		iqp_add_u16(m, e, IQP_E_ERROR_ELEMENT, err->element);
	if (err->has_offset)
		iqp_add_u32(m, e, IQP_E_ERROR_OFFSET, err->offset);
	iqp_add_enum(m, e, IQP_E_RETRY_SCOPE,
		     (uint8_t)iqp_err_default_scope(err->code));
	return m->err;
}

/* Encoded size of a sibling list; trees are at most MAX_DEPTH deep, so
 * the recursion is bounded. */
static int list_size(const struct iqp_elem *e, uint64_t *out)
{
	uint64_t total = 0;

	for (; e; e = e->next) {
		uint64_t v = e->len;
		if (e->type & IQP_TYPE_C) {
			int rc = list_size(e->child, &v);
			if (rc)
				return rc;
		}
		if (v > UINT32_MAX)
			return EMSGSIZE;
		total += IQP_ELEM_HDR_LEN + v;
	}
	*out = total;
	return 0;
}

static uint8_t *write_list(const struct iqp_elem *e, uint8_t *p)
{
	for (; e; e = e->next) {
		uint64_t v = e->len;
		if (e->type & IQP_TYPE_C)
			list_size(e->child, &v);
		p[0] = (uint8_t)(e->type >> 8);
		p[1] = (uint8_t)e->type;
		p[2] = (uint8_t)(v >> 24);
		p[3] = (uint8_t)(v >> 16);
		p[4] = (uint8_t)(v >> 8);
		p[5] = (uint8_t)v;
		p += IQP_ELEM_HDR_LEN;
		if (e->type & IQP_TYPE_C) {
			p = write_list(e->child, p);
		} else if (e->len) {
			memcpy(p, e->value, e->len);
			p += e->len;
		}
	}
	return p;
}

int iqp_msg_encoded_len(const struct iqp_msg *m, size_t *len)
{
	uint64_t body;
	int rc;

	if (m->err)
		return m->err;
	rc = list_size(m->first, &body);
	if (rc)
		return rc;
	if (body > UINT32_MAX)
		return EMSGSIZE;
	*len = IQP_HEADER_LEN + (size_t)body;
	return 0;
}

int iqp_msg_encode(const struct iqp_msg *m, uint8_t *buf, size_t cap,
		   size_t *len)
{
	struct iqp_header h = m->hdr;
	size_t total;
	int rc = iqp_msg_encoded_len(m, &total);

	if (rc)
		return rc;
	if (total > cap)
		return EMSGSIZE;
	h.body_len = (uint32_t)(total - IQP_HEADER_LEN);
	iqp_header_encode(&h, buf);
	write_list(m->first, buf + IQP_HEADER_LEN);
	*len = total;
	return 0;
}

static bool list_canonical(const struct iqp_elem *e)
{
	for (const struct iqp_elem *prev = NULL; e; prev = e, e = e->next) {
		if (prev && iqp_elem_code(prev) > iqp_elem_code(e))
			return false;
		if (e->def && e->type != iqp_elem_def_type(e->def))
			return false;
		if ((e->type & IQP_TYPE_C) && !list_canonical(e->child))
			return false;
	}
	return true;
}

bool iqp_msg_is_canonical(const struct iqp_msg *m)
{
	return list_canonical(m->first);
}
