/* Iq+ messages to and from their JSON decoded form. */
#include "iqp_json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_build.h"

static const char hexd[] = "0123456789abcdef";

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = hexd[p[i] >> 4];
		s[2 * i + 1] = hexd[p[i] & 15];
	}
	s[2 * n] = '\0';
	json_t *j = json_string(s);
	free(s);
	return j;
}

static void ip_text(const uint8_t *v, char *buf, size_t cap)
{
	inet_ntop(v[0] == 4 ? AF_INET : AF_INET6, v + 1, buf, (socklen_t)cap);
}

static json_t *value_json(const struct iqp_elem *e);

static json_t *list_json(const struct iqp_elem *e)
{
	json_t *a = json_array();

	for (; a && e; e = e->next) {
		json_t *x = value_json(e);
		if (!x || json_array_append_new(a, x)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *leaf_json(const struct iqp_elem_def *d, const struct iqp_elem *e)
{
	char buf[INET6_ADDRSTRLEN + 16], ip[INET6_ADDRSTRLEN];
	uint64_t v = 0;

	for (size_t i = 0; i < e->len && i < 8; i++)
		v = v << 8 | e->value[i];
	switch (d->vtype) {
	case IQP_VT_U8:
	case IQP_VT_U16:
	case IQP_VT_U32:
		return json_integer((json_int_t)v);
	case IQP_VT_U64:
		if (v <= INT64_MAX)
			return json_integer((json_int_t)v);
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		return json_string(buf);
	case IQP_VT_BOOL:
		return json_boolean(v);
	case IQP_VT_ENUM: {
		const char *name = iqp_enum_name(d->enum_id, (unsigned)v);
		return name ? json_string(name) : json_integer((json_int_t)v);
	}
	case IQP_VT_STRING:
		return json_stringn((const char *)e->value, e->len);
	case IQP_VT_OCTETS:
		return hex_json(e->value, e->len);
	case IQP_VT_IP:
		ip_text(e->value, ip, sizeof(ip));
		return json_string(ip);
	case IQP_VT_IPPORT:
		ip_text(e->value, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), e->value[0] == 4 ? "%s:%u" : "[%s]:%u", ip,
			 (unsigned)(e->value[e->len - 2] << 8 | e->value[e->len - 1]));
		return json_string(buf);
	default:
		return NULL;
	}
}

/* {"NAME": value} when e is registered, has its registered type field and
 * a valid value; the raw form otherwise. */
static json_t *value_json(const struct iqp_elem *e)
{
	const struct iqp_elem_def *d = e->def;
	json_t *o = json_object(), *v;
	char type[8];

	if (!o)
		return NULL;
	if (d && e->type == iqp_elem_def_type(d) &&
	    (d->vtype == IQP_VT_CONTAINER ||
	     !iqp_value_check(d->vtype, e->value, e->len))) {
		v = d->vtype == IQP_VT_CONTAINER ? list_json(e->child) : leaf_json(d, e);
		if (!v || json_object_set_new(o, d->name, v))
			goto fail;
		return o;
	}
	snprintf(type, sizeof(type), "0x%04x", e->type);
	if (json_object_set_new(o, "type", json_string(type)))
		goto fail;
	if (e->type & IQP_TYPE_C)
		v = list_json(e->child);
	else
		v = hex_json(e->value, e->len);
	if (!v || json_object_set_new(o, e->type & IQP_TYPE_C ? "elements" : "hex", v))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int iqp_json_header(const struct iqp_header *h, json_t **out)
{
	const struct iqp_msg_def *d = iqp_msg_def_find(h->code);
	const char *kind = iqp_kind_name(h->kind);
	json_t *j;

	/* Code 0 is CLOSE's: printed as a number like unknown codes. */
	j = json_pack("{s:i, s:o, s:i, s:o, s:I}", "version", h->version, "kind",
		      kind ? json_string(kind) : json_integer(h->kind), "flags",
		      h->flags, "code",
		      d && h->code ? json_string(d->name) : json_integer(h->code),
		      "txid", (json_int_t)h->txid);
	if (!j)
		return ENOMEM;
	*out = j;
	return 0;
}

int iqp_json_from_msg(const struct iqp_msg *m, json_t **out)
{
	json_t *h, *b;

	if (iqp_json_header(&m->hdr, &h))
		return ENOMEM;
	b = list_json(m->first);
	if (!b) {
		json_decref(h);
		return ENOMEM;
	}
	*out = json_pack("{s:o, s:o}", "header", h, "body", b);
	return *out ? 0 : ENOMEM;
}

/* Parsing. */

struct jctx {
	char *err;
	size_t errlen;
	size_t nodes, bytes; /* sizing pass */
	struct iqp_msg *m;   /* building pass, NULL while sizing */
};

static int bad(struct jctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct jctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static int int_in(const json_t *j, json_int_t lo, json_int_t hi, json_int_t *v)
{
	if (!json_is_integer(j))
		return EINVAL;
	*v = json_integer_value(j);
	return *v < lo || *v > hi ? EINVAL : 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes hex into a new buffer (*out, freed by the caller). */
static int unhex(const char *s, uint8_t **out, size_t *n)
{
	size_t len = strlen(s);
	if (len % 2)
		return EINVAL;
	uint8_t *b = malloc(len / 2 + 1);
	if (!b)
		return ENOMEM;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return EINVAL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*n = len / 2;
	return 0;
}

static int parse_ip(const char *s, uint8_t *out, size_t *n)
{
	if (inet_pton(AF_INET, s, out + 1) == 1) {
		out[0] = 4;
		*n = 5;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out + 1) == 1) {
		out[0] = 6;
		*n = 17;
		return 0;
	}
	return EINVAL;
}

static int parse_ipport(const char *s, uint8_t *out, size_t *n)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	char *end;

	if (!colon)
		return EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || s[hl - 1] != ']')
			return EINVAL;
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535 || parse_ip(host, out, n) ||
	    (s[0] == '[') != (out[0] == 6))
		return EINVAL;
	out[*n] = (uint8_t)(port >> 8);
	out[*n + 1] = (uint8_t)port;
	*n += 2;
	return 0;
}

/* Encodes a leaf value of type d: into buf (19 bytes) for numbers and
 * addresses, as a pointer into j for strings, into *heap (freed by the
 * caller) for octets. */
static int leaf_value(struct jctx *c, const struct iqp_elem_def *d,
		      const json_t *j, uint8_t *buf, const uint8_t **val,
		      size_t *n, uint8_t **heap)
{
	static const uint8_t size[] = { [IQP_VT_U8] = 1, [IQP_VT_U16] = 2,
					[IQP_VT_U32] = 4, [IQP_VT_U64] = 8,
					[IQP_VT_BOOL] = 1, [IQP_VT_ENUM] = 1 };
	static const json_int_t maxv[] = { [IQP_VT_U8] = 255, [IQP_VT_U16] = 65535,
					   [IQP_VT_U32] = 4294967295,
					   [IQP_VT_U64] = INT64_MAX,
					   [IQP_VT_ENUM] = 255 };
	uint64_t v = 0;
	json_int_t i;

	*val = buf;
	switch (d->vtype) {
	case IQP_VT_U64:
		if (json_is_string(j)) {
			char *end;
			errno = 0;
			v = strtoull(json_string_value(j), &end, 10);
			if (errno || *end || !json_string_value(j)[0] ||
			    json_string_value(j)[0] == '-')
				return bad(c, "%s: bad u64", d->name);
			break;
		}
		/* fall through */
	case IQP_VT_U8:
	case IQP_VT_U16:
	case IQP_VT_U32:
		if (int_in(j, 0, maxv[d->vtype], &i))
			return bad(c, "%s: integer out of range", d->name);
		v = (uint64_t)i;
		break;
	case IQP_VT_BOOL:
		if (!json_is_boolean(j))
			return bad(c, "%s: not a boolean", d->name);
		v = json_is_true(j);
		break;
	case IQP_VT_ENUM:
		if (json_is_string(j)) {
			v = iqp_enum_value(d->enum_id, json_string_value(j));
			if (!v)
				return bad(c, "%s: unknown name", d->name);
		} else if (int_in(j, 0, 255, &i)) {
			return bad(c, "%s: bad enumeration value", d->name);
		} else {
			v = (uint64_t)i;
		}
		break;
	case IQP_VT_STRING:
		if (!json_is_string(j))
			return bad(c, "%s: not a string", d->name);
		*val = (const uint8_t *)json_string_value(j);
		*n = json_string_length(j);
		return 0;
	case IQP_VT_OCTETS:
		if (!json_is_string(j) || unhex(json_string_value(j), heap, n))
			return bad(c, "%s: bad hex", d->name);
		*val = *heap;
		return 0;
	case IQP_VT_IP:
	case IQP_VT_IPPORT:
		if (!json_is_string(j) ||
		    (d->vtype == IQP_VT_IP ? parse_ip(json_string_value(j), buf, n)
					   : parse_ipport(json_string_value(j), buf, n)))
			return bad(c, "%s: bad address", d->name);
		return 0;
	default:
		return bad(c, "%s: bad type", d->name);
	}
	*n = size[d->vtype];
	for (size_t k = 0; k < *n; k++)
		buf[k] = (uint8_t)(v >> (8 * (*n - 1 - k)));
	return 0;
}

static int list_parse(struct jctx *c, const json_t *a, struct iqp_elem *parent,
		      unsigned depth);

static int add(struct jctx *c, struct iqp_elem *parent, uint16_t type,
	       const uint8_t *val, size_t n, const json_t *kids, unsigned depth)
{
	struct iqp_elem *e = NULL;

	if (!c->m) {
		c->nodes++;
		c->bytes += n;
	} else if (iqp_append_raw(c->m, parent, type,
				  (type & IQP_TYPE_C) ? NULL : val,
				  (type & IQP_TYPE_C) ? 0 : n, &e)) {
		return bad(c, "element 0x%04x: cannot add (%s)", type,
			   strerror(c->m->err));
	}
	return kids ? list_parse(c, kids, e, depth + 1) : 0;
}

static int elem_parse(struct jctx *c, const json_t *o, struct iqp_elem *parent,
		      unsigned depth)
{
	uint8_t buf[32], *heap = NULL;
	const uint8_t *val = buf;
	size_t n = 0;
	int rc;

	if (!json_is_object(o))
		return bad(c, "element is not an object");
	const json_t *t = json_object_get(o, "type");
	if (t) {
		const char *ts = json_string_value(t), *h;
		char *end;
		unsigned long type = ts ? strtoul(ts, &end, 16) : 0;
		if (!ts || strncmp(ts, "0x", 2) || *end || type > 0xffff ||
		    json_object_size(o) != 2)
			return bad(c, "bad raw element type");
		if (type & IQP_TYPE_C) {
			const json_t *k = json_object_get(o, "elements");
			if (!json_is_array(k))
				return bad(c, "raw container without elements");
			return add(c, parent, (uint16_t)type, NULL, 0, k, depth);
		}
		h = json_string_value(json_object_get(o, "hex"));
		if (!h || unhex(h, &heap, &n))
			return bad(c, "raw element 0x%04lx: bad hex", type);
		rc = add(c, parent, (uint16_t)type, heap, n, NULL, depth);
		free(heap);
		return rc;
	}
	if (json_object_size(o) != 1)
		return bad(c, "element object must have one member");
	const char *name = json_object_iter_key(json_object_iter((json_t *)o));
	const json_t *v = json_object_iter_value(json_object_iter((json_t *)o));
	const struct iqp_elem_def *d = iqp_elem_def_by_name(name);
	if (!d)
		return bad(c, "unknown element name \"%.40s\"", name);
	if (d->vtype == IQP_VT_CONTAINER) {
		if (!json_is_array(v))
			return bad(c, "%s: not an array", d->name);
		return add(c, parent, iqp_elem_def_type(d), NULL, 0, v, depth);
	}
	rc = leaf_value(c, d, v, buf, &val, &n, &heap);
	if (!rc)
		rc = add(c, parent, iqp_elem_def_type(d), val, n, NULL, depth);
	free(heap);
	return rc;
}

static int list_parse(struct jctx *c, const json_t *a, struct iqp_elem *parent,
		      unsigned depth)
{
	size_t i;
	const json_t *x;

	if (!json_is_array(a))
		return bad(c, "body is not an array");
	if (depth > IQP_MAX_DEPTH && json_array_size(a))
		return bad(c, "nesting deeper than %d", IQP_MAX_DEPTH);
	json_array_foreach(a, i, x) {
		int rc = elem_parse(c, x, parent, depth);
		if (rc)
			return rc;
	}
	return 0;
}

int iqp_json_parse_header(const json_t *j, struct iqp_header *h, char *err,
			  size_t errlen)
{
	const json_t *kind = json_object_get(j, "kind"), *code = json_object_get(j, "code");
	json_int_t v, f, t, k, cd;

	memset(h, 0, sizeof(*h));
	if (json_is_string(kind))
		k = iqp_kind_by_name(json_string_value(kind));
	else if (int_in(kind, 0, 255, &k))
		k = -1;
	if (json_is_string(code)) {
		const struct iqp_msg_def *d = iqp_msg_def_by_name(json_string_value(code));
		cd = d ? d->code : -1;
	} else if (int_in(code, 0, 65535, &cd)) {
		cd = -1;
	}
	if (!json_is_object(j) || int_in(json_object_get(j, "version"), 0, 255, &v) ||
	    int_in(json_object_get(j, "flags"), 0, 65535, &f) ||
	    int_in(json_object_get(j, "txid"), 0, 4294967295, &t) || k < 0 ||
	    (json_is_string(kind) && k == 0) || cd < 0) {
		snprintf(err, errlen, "bad header");
		return EINVAL;
	}
	h->version = (uint8_t)v;
	h->kind = (uint8_t)k;
	h->flags = (uint16_t)f;
	h->code = (uint16_t)cd;
	h->txid = (uint32_t)t;
	return 0;
}

int iqp_json_to_msg(const json_t *j, struct iqp_msg *m, char *err,
		    size_t errlen)
{
	struct jctx c = { .err = err, .errlen = errlen };
	struct iqp_header h;
	const json_t *body = json_object_get(j, "body");
	int rc;

	memset(m, 0, sizeof(*m));
	rc = iqp_json_parse_header(json_object_get(j, "header"), &h, err, errlen);
	if (rc)
		return rc;
	rc = list_parse(&c, body, NULL, 1);
	if (rc)
		return rc;
	size_t cap = c.nodes * (sizeof(struct iqp_elem) + _Alignof(struct iqp_elem)) +
		     c.bytes + 1;
	rc = iqp_msg_init(m, &h, NULL, cap);
	if (rc)
		return rc;
	c.m = m;
	rc = list_parse(&c, body, NULL, 1);
	if (rc)
		iqp_msg_free(m);
	return rc;
}
