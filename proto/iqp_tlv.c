/* Iq+ element trees: structure pass and typed accessors (SPEC.md 4.1-4.3). */
#include "iqp_tlv.h"

#include "byte_order.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

unsigned iqp_body_error_action(unsigned kind)
{
	switch (kind) {
	case IQP_KIND_REQUEST:
		return IQP_ACT_REPLY;
	case IQP_KIND_NOTIFY:
		return IQP_ACT_ACK;
	case IQP_KIND_REPLY:
		return IQP_ACT_LOCAL;
	default:
		return IQP_ACT_IGNORE;
	}
}

static int body_error(struct iqp_error *err, unsigned kind, unsigned code,
		      const uint8_t *body, size_t off, size_t room, const char *why)
{
	iqp_error_set(err, code, iqp_body_error_action(kind), "%s", why);
	err->has_offset = true;
	err->offset = (uint32_t)off;
	if (room >= 2) {
		err->has_element = true;
		err->element = be16_get(body + off);
	}
	return EBADMSG;
}

/* One walk over the body in pre-order, without recursion: end[d] is where
 * the parent of depth-d elements ends.  With `nodes` NULL it only checks
 * (pass 1) and counts; otherwise it links the nodes of an already checked
 * body. */
static int walk(const uint8_t *body, size_t len, unsigned kind, size_t *count,
		struct iqp_elem *nodes, struct iqp_msg *m, struct iqp_error *err)
{
	size_t end[IQP_MAX_DEPTH + 2];
	struct iqp_elem *parent[IQP_MAX_DEPTH + 2];
	size_t pos = 0, n = 0;
	unsigned depth = 1;

	end[1] = len;
	parent[1] = NULL;
	for (;;) {
		while (depth > 1 && pos == end[depth])
			depth--;
		if (depth == 1 && pos == len)
			break;
		size_t room = end[depth] - pos;
		if (room < IQP_ELEM_HDR_LEN)
			return body_error(err, kind, IQP_ERR_OVERRUN, body, pos,
					  room, "element header overruns its parent");
		uint16_t type = be16_get(body + pos);
		uint32_t vlen = be32_get(body + pos + 2);
		if (vlen > room - IQP_ELEM_HDR_LEN)
			return body_error(err, kind, IQP_ERR_OVERRUN, body, pos,
					  room, "element value overruns its parent");
		if (depth > IQP_MAX_DEPTH)
			return body_error(err, kind, IQP_ERR_TOO_DEEP, body, pos,
					  room, "nesting too deep");
		if (n >= IQP_MAX_ELEMENTS)
			return body_error(err, kind, IQP_ERR_TOO_MANY_ELEMENTS,
					  body, pos, room, "too many elements");
		if (nodes) {
			struct iqp_elem *e = &nodes[n], *p = parent[depth];
			memset(e, 0, sizeof(*e));
			e->type = type;
			e->len = vlen;
			e->offset = (uint32_t)pos;
			e->value = body + pos + IQP_ELEM_HDR_LEN;
			e->depth = (uint8_t)depth;
			e->def = iqp_elem_def_find(type);
			e->parent = p;
			struct iqp_elem **head = p ? &p->child : &m->first;
			struct iqp_elem **tail = p ? &p->last : &m->last;
			if (*tail)
				(*tail)->next = e;
			else
				*head = e;
			*tail = e;
			parent[depth + 1] = e;
		}
		n++;
		pos += IQP_ELEM_HDR_LEN;
		if (type & IQP_TYPE_C) {
			depth++;
			end[depth] = pos + vlen;
		} else {
			pos += vlen;
		}
	}
	*count = n;
	return 0;
}

size_t iqp_msg_parse_need(size_t n_elems)
{
	return n_elems * sizeof(struct iqp_elem) + _Alignof(struct iqp_elem);
}

int iqp_msg_parse(struct iqp_msg *m, const struct iqp_header *h,
		  const uint8_t *body, void *arena, size_t arena_len,
		  struct iqp_error *err)
{
	size_t n = 0, len = h->body_len;
	int rc;

	memset(m, 0, sizeof(*m));
	m->hdr = *h;
	if (len && !body)
		return EINVAL;
	rc = walk(body, len, h->kind, &n, NULL, m, err);
	if (rc || n == 0)
		return rc;
	size_t need = iqp_msg_parse_need(n);
	uint8_t *mem = arena;
	if (!mem) {
		mem = malloc(need);
		if (!mem)
			return ENOMEM;
		m->mem_owned = true;
	} else if (arena_len < need) {
		return ENOBUFS;
	}
	m->mem = mem;
	m->mem_cap = need;
	uintptr_t a = (uintptr_t)mem, al = _Alignof(struct iqp_elem);
	size_t skip = (size_t)((al - a % al) % al);
	struct iqp_elem *nodes = (struct iqp_elem *)(void *)(mem + skip);
	m->mem_lo = m->mem_hi = need;
	m->n_elems = n;
	return walk(body, len, h->kind, &n, nodes, m, err);
}

void iqp_msg_free(struct iqp_msg *m)
{
	if (m->mem_owned)
		free(m->mem);
	memset(m, 0, sizeof(*m));
}

uint16_t iqp_elem_code(const struct iqp_elem *e)
{
	return e->type & IQP_TYPE_CODE;
}

static const struct iqp_elem *live(const struct iqp_elem *e, uint16_t code)
{
	for (; e; e = e->next)
		if (!(e->flags & IQP_EF_SKIP) && iqp_elem_code(e) == code)
			return e;
	return NULL;
}

const struct iqp_elem *iqp_find(const struct iqp_msg *m,
				const struct iqp_elem *parent, uint16_t code)
{
	return live(parent ? parent->child : m->first, code);
}

const struct iqp_elem *iqp_next_same(const struct iqp_elem *e)
{
	return live(e->next, iqp_elem_code(e));
}

size_t iqp_count(const struct iqp_msg *m, const struct iqp_elem *parent,
		 uint16_t code)
{
	size_t n = 0;
	for (const struct iqp_elem *e = iqp_find(m, parent, code); e;
	     e = iqp_next_same(e))
		n++;
	return n;
}

bool iqp_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF (RFC 3629). */
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += k + 1;
	}
	return true;
}

int iqp_value_check(unsigned vtype, const uint8_t *v, size_t len)
{
	switch (vtype) {
	case IQP_VT_U8:
	case IQP_VT_ENUM:
		return len == 1 ? 0 : EBADMSG;
	case IQP_VT_BOOL:
		return len == 1 && v[0] <= 1 ? 0 : EBADMSG;
	case IQP_VT_U16:
		return len == 2 ? 0 : EBADMSG;
	case IQP_VT_U32:
		return len == 4 ? 0 : EBADMSG;
	case IQP_VT_U64:
		return len == 8 ? 0 : EBADMSG;
	case IQP_VT_STRING:
		if (len && (memchr(v, 0, len) || !iqp_utf8_valid(v, len)))
			return EBADMSG;
		if (len >= 3 && v[0] == 0xef && v[1] == 0xbb && v[2] == 0xbf)
			return EBADMSG; /* byte order mark */
		return 0;
	case IQP_VT_IP:
		return (len == 5 && v[0] == 4) || (len == 17 && v[0] == 6) ? 0
									 : EBADMSG;
	case IQP_VT_IPPORT:
		return (len == 7 && v[0] == 4) || (len == 19 && v[0] == 6) ? 0
									 : EBADMSG;
	case IQP_VT_OCTETS:
	case IQP_VT_CONTAINER:
		return 0;
	default:
		return EBADMSG;
	}
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int fixed(const struct iqp_elem *e, unsigned vtype, uint64_t *v)
{
	if (iqp_value_check(vtype, e->value, e->len))
		return EBADMSG;
	*v = get_be(e->value, e->len);
	return 0;
}

int iqp_elem_u8(const struct iqp_elem *e, uint8_t *out)
{
	uint64_t v;
	int rc = fixed(e, IQP_VT_U8, &v);
	if (!rc)
		*out = (uint8_t)v;
	return rc;
}

int iqp_elem_u16(const struct iqp_elem *e, uint16_t *out)
{
	uint64_t v;
	int rc = fixed(e, IQP_VT_U16, &v);
	if (!rc)
		*out = (uint16_t)v;
	return rc;
}

int iqp_elem_u32(const struct iqp_elem *e, uint32_t *out)
{
	uint64_t v;
	int rc = fixed(e, IQP_VT_U32, &v);
	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

int iqp_elem_u64(const struct iqp_elem *e, uint64_t *out)
{
	return fixed(e, IQP_VT_U64, out);
}

int iqp_elem_bool(const struct iqp_elem *e, bool *out)
{
	uint64_t v;
	int rc = fixed(e, IQP_VT_BOOL, &v);
	if (!rc)
		*out = v != 0;
	return rc;
}

int iqp_elem_enum(const struct iqp_elem *e, uint8_t *out)
{
	uint64_t v;
	int rc = fixed(e, IQP_VT_ENUM, &v);
	if (!rc)
		*out = (uint8_t)v;
	return rc;
}

int iqp_elem_str(const struct iqp_elem *e, const char **out, size_t *len)
{
	if ((e->type & IQP_TYPE_C) || iqp_value_check(IQP_VT_STRING, e->value, e->len))
		return EBADMSG;
	*out = (const char *)e->value;
	*len = e->len;
	return 0;
}

int iqp_elem_strcpy(const struct iqp_elem *e, char *buf, size_t cap)
{
	const char *s;
	size_t n;
	int rc = iqp_elem_str(e, &s, &n);

	if (rc)
		return rc;
	if (n >= cap)
		return ENOSPC;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int iqp_elem_octets(const struct iqp_elem *e, const uint8_t **out, size_t *len)
{
	if (e->type & IQP_TYPE_C)
		return EBADMSG;
	*out = e->value;
	*len = e->len;
	return 0;
}

int iqp_elem_ip(const struct iqp_elem *e, struct iqp_ip *out)
{
	if (iqp_value_check(IQP_VT_IP, e->value, e->len))
		return EBADMSG;
	memset(out, 0, sizeof(*out));
	out->family = e->value[0];
	memcpy(out->addr, e->value + 1, e->len - 1);
	return 0;
}

int iqp_elem_ipport(const struct iqp_elem *e, struct iqp_ipport *out)
{
	if (iqp_value_check(IQP_VT_IPPORT, e->value, e->len))
		return EBADMSG;
	memset(out, 0, sizeof(*out));
	out->ip.family = e->value[0];
	memcpy(out->ip.addr, e->value + 1, e->len - 3);
	out->port = be16_get(e->value + e->len - 2);
	return 0;
}
