/* Iq+ body validation, passes 2 and 3 of SPEC.md 4.4. */
#include "iqp_validate.h"

#include <errno.h>
#include <string.h>

#include "iqp_schema.h"

enum { CV_FALSE, CV_TRUE, CV_UNKNOWN };

struct vctx {
	struct iqp_msg *m;
	unsigned kind, opts;
	int8_t top[IQP_C_COUNT]; /* cached top-level conditions, -1: not yet */
	struct iqp_error *err;
};

/* Children of one container being checked in pass 2. */
struct vlevel {
	const struct iqp_elem *parent; /* NULL: top level */
	const struct iqp_elem *first;  /* first child */
	uint8_t node;
	uint16_t pcode;
	size_t n;
	struct {
		uint16_t code, count;
	} cnt[IQP_SCHEMA_MAX_RULES];
};

static const struct iqp_elem *first_code(const struct iqp_elem *e,
					 uint16_t code)
{
	for (; e; e = e->next)
		if (!(e->flags & IQP_EF_SKIP) && iqp_elem_code(e) == code)
			return e;
	return NULL;
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Value of the first `code` in a sibling list when correctly encoded. */
static bool ref_value(const struct iqp_elem *list, uint16_t code, uint64_t *v)
{
	const struct iqp_elem *e = first_code(list, code);
	const struct iqp_elem_def *d = iqp_elem_def_find(code);

	if (!e || !d || (e->type & IQP_TYPE_C) ||
	    iqp_value_check(d->vtype, e->value, e->len))
		return false;
	*v = be(e->value, e->len);
	return true;
}

static int is(bool known, bool holds)
{
	return !known ? CV_UNKNOWN : holds ? CV_TRUE : CV_FALSE;
}

static int cond_eval(struct vctx *c, unsigned cond,
		     const struct iqp_elem *siblings)
{
	const struct iqp_elem *top = c->m->first, *e;
	uint64_t v = 0;
	bool k;
	int r;

	if (cond < IQP_C_COUNT && c->top[cond] >= 0)
		return c->top[cond];
	switch (cond) {
	case IQP_C_ERR_406:
	case IQP_C_ERR_1300:
		e = first_code(top, IQP_E_ERROR);
		k = e && (e->type & IQP_TYPE_C) &&
		    ref_value(e->child, IQP_E_ERROR_CODE, &v);
		r = is(k, v == (cond == IQP_C_ERR_406 ? 406u : 1300u));
		break;
	case IQP_C_SC_GRACEFUL:
	case IQP_C_SC_HANDOFF:
	case IQP_C_SC_CAPUPD:
		k = ref_value(top, IQP_E_SC_METHOD, &v);
		r = is(k, v == (cond == IQP_C_SC_GRACEFUL  ? IQP_SC_GRACEFUL
				: cond == IQP_C_SC_HANDOFF ? IQP_SC_HANDOFF
							   : IQP_SC_CAPABILITY_UPDATE));
		break;
	case IQP_C_AUDIT_LIST:
	case IQP_C_AUDIT_CTX:
	case IQP_C_AUDIT_STATS:
		k = ref_value(top, IQP_E_AUDIT_SCOPE, &v);
		r = is(k, cond == IQP_C_AUDIT_LIST ? v == IQP_AUDIT_CONTEXT_LIST
			  : cond == IQP_C_AUDIT_STATS
			      ? v == IQP_AUDIT_STATISTICS
			      : (v == IQP_AUDIT_CONTEXT || v == IQP_AUDIT_STATISTICS));
		break;
	case IQP_C_TERM_W3:
		k = ref_value(siblings, IQP_E_TERM_KIND, &v);
		return is(k, v == IQP_TERM_W3);
	case IQP_C_MEDIA_RTP:
		k = ref_value(siblings, IQP_E_MEDIA_TYPE, &v);
		return is(k, v >= IQP_MEDIA_AUDIO && v <= IQP_MEDIA_TEXT);
	case IQP_C_CAND_TCP:
		k = ref_value(siblings, IQP_E_CAND_TRANSPORT, &v);
		return is(k, v == IQP_CAND_TCP);
	case IQP_C_NO_REALM:
		return first_code(siblings, IQP_E_REALM) ? CV_FALSE : CV_TRUE;
	default:
		return CV_UNKNOWN;
	}
	c->top[cond] = (int8_t)r;
	return r;
}

static int elem_err(struct vctx *c, const struct iqp_elem *e, unsigned code,
		    const char *what)
{
	const char *name = e->def ? e->def->name : "element";

	iqp_error_set(c->err, code, iqp_body_error_action(c->kind), "%s: %s",
		      name, what);
	c->err->has_element = true;
	c->err->element = e->type;
	c->err->has_offset = true;
	c->err->offset = e->offset;
	return EBADMSG;
}

static unsigned instances(struct vlevel *lv, const struct iqp_elem *e)
{
	uint16_t code = iqp_elem_code(e);

	for (size_t i = 0; i < lv->n; i++)
		if (lv->cnt[i].code == code)
			return lv->cnt[i].count++;
	if (lv->n < IQP_SCHEMA_MAX_RULES) {
		lv->cnt[lv->n].code = code;
		lv->cnt[lv->n++].count = 1;
		return 0;
	}
	/* More distinct codes than any schema node permits: count by hand. */
	unsigned n = 0;
	for (const struct iqp_elem *s = lv->first; s && s != e; s = s->next)
		n += iqp_elem_code(s) == code && !(s->flags & IQP_EF_SKIP);
	return n;
}

static const uint8_t fp_len[] = { 0, 20, 28, 32, 48, 64 };

static bool node_id_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* 2(d): the value is a valid encoding of the registered type. */
static int check_encoding(struct vctx *c, const struct vlevel *lv,
			  const struct iqp_elem *e)
{
	const struct iqp_elem_def *d = e->def;
	uint64_t h;

	if (iqp_value_check(d->vtype, e->value, e->len))
		return elem_err(c, e, IQP_ERR_ENCODING, "invalid value encoding");
	if ((d->vtype == IQP_VT_STRING || d->vtype == IQP_VT_OCTETS) &&
	    (e->len < d->lo || e->len > d->hi))
		return elem_err(c, e, IQP_ERR_ENCODING, "length out of range");
	if (d->code == IQP_E_FP_VALUE &&
	    ref_value(lv->first, IQP_E_FP_HASH, &h) && h >= 1 && h <= 5 &&
	    e->len != fp_len[h])
		return elem_err(c, e, IQP_ERR_ENCODING,
				"length does not match FP_HASH");
	return 0;
}

/* 2(f): the value is acceptable (range, enumeration, charset, port). */
static int check_accept(struct vctx *c, const struct iqp_elem *e,
			const struct iqp_rule *r)
{
	const struct iqp_elem_def *d = e->def;
	uint64_t v;

	switch (d->vtype) {
	case IQP_VT_U8:
	case IQP_VT_U16:
	case IQP_VT_U32:
	case IQP_VT_U64:
		v = be(e->value, e->len);
		if (v < d->lo || v > d->hi)
			return elem_err(c, e, IQP_ERR_VALUE, "value out of range");
		break;
	case IQP_VT_ENUM:
		/* An undefined value is refused when the element is one the
		 * receiver must understand (M registered), 5.3 item 3. */
		v = e->value[0];
		if (v == 0 ||
		    (!iqp_enum_name(d->enum_id, (unsigned)v) && d->m) ||
		    ((d->flags & IQP_DF_NO_ACTPASS) && v == IQP_SETUP_ACTPASS) ||
		    (r->values && (v >= 32 || !(r->values & (1u << v)))))
			return elem_err(c, e, IQP_ERR_VALUE, "value not acceptable");
		break;
	case IQP_VT_STRING:
		if ((d->flags & IQP_DF_NODE_ID) && !node_id_ok(e->value, e->len))
			return elem_err(c, e, IQP_ERR_VALUE, "character not allowed");
		break;
	case IQP_VT_IPPORT:
		if (!(d->flags & IQP_DF_PORT0) && !(r->flags & IQP_RF_PORT0) &&
		    e->value[e->len - 2] == 0 &&
		    e->value[e->len - 1] == 0)
			return elem_err(c, e, IQP_ERR_VALUE, "port 0 not allowed");
		break;
	default:
		break;
	}
	return 0;
}

/* Pass 2 for one element: steps (a) to (f).  *descend when its children
 * are to be checked. */
static int check_elem(struct vctx *c, struct vlevel *lv, struct iqp_elem *e,
		      bool *descend)
{
	const struct iqp_elem_def *d = e->def;
	bool m_bit = e->type & IQP_TYPE_M, c_bit = e->type & IQP_TYPE_C;
	struct iqp_rule r;
	int rc;

	*descend = false;
	if (d && (d->flags & IQP_DF_RESERVED) && !(c->opts & IQP_V_RESERVED))
		d = NULL;
	if (!d) { /* (a) */
		if (m_bit)
			return elem_err(c, e, IQP_ERR_UNKNOWN_ELEMENT,
					"unknown element with M set");
		e->flags |= IQP_EF_SKIP;
		return 0;
	}
	bool container = d->vtype == IQP_VT_CONTAINER;
	if (c_bit != container) /* (b) */
		return elem_err(c, e, IQP_ERR_ENCODING, "C bit differs from registry");
	bool ok = iqp_schema_rule(lv->node, lv->pcode, d->code, &r); /* (c) */
	if (ok && (r.flags & IQP_RF_ONLY_IF) &&
	    cond_eval(c, r.cond, lv->first) == CV_FALSE)
		ok = false;
	if (!ok) {
		if (m_bit)
			return elem_err(c, e,
					container ? IQP_ERR_MISPLACED_CONTAINER
						  : IQP_ERR_MISPLACED_LEAF,
					"not permitted here");
		e->flags |= IQP_EF_SKIP;
		return 0;
	}
	if (!container && (rc = check_encoding(c, lv, e))) /* (d) */
		return rc;
	if (instances(lv, e) >= r.max) { /* (e), (e') */
		unsigned code = r.max == 1 ? (container ? IQP_ERR_DUPLICATE_CONTAINER
							: IQP_ERR_DUPLICATE_LEAF)
				: d->code == IQP_E_TERMINATION && lv->pcode == IQP_E_CONTEXT
				? IQP_ERR_TOO_MANY_TERMINATIONS
				: IQP_ERR_CARDINALITY;
		return elem_err(c, e, code, r.max == 1 ? "duplicate"
						       : "too many instances");
	}
	if (!container && (rc = check_accept(c, e, &r))) /* (f) */
		return rc;
	e->node = r.node;
	*descend = container;
	return 0;
}

static int pass2(struct vctx *c, unsigned form)
{
	struct vlevel lv[IQP_MAX_DEPTH + 1];
	unsigned d = 0;
	struct iqp_elem *e = c->m->first;

	memset(&lv[0], 0, sizeof(lv[0]));
	lv[0].first = c->m->first;
	lv[0].node = (uint8_t)form;
	while (e || d > 0) {
		if (!e) {
			e = lv[d].parent->next;
			d--;
			continue;
		}
		bool descend;
		int rc = check_elem(c, &lv[d], e, &descend);
		if (rc)
			return rc;
		if (descend && e->child && d < IQP_MAX_DEPTH) {
			d++;
			memset(&lv[d], 0, sizeof(lv[d]));
			lv[d].parent = e;
			lv[d].first = e->child;
			lv[d].node = e->node;
			lv[d].pcode = iqp_elem_code(e);
			e = e->child;
		} else {
			e = e->next;
		}
	}
	return 0;
}

/* Pass 3 for the children of one container (parent NULL: top level). */
static int check_required(struct vctx *c, const struct iqp_elem *parent,
			  unsigned node)
{
	struct iqp_rule rules[IQP_SCHEMA_MAX_RULES];
	const struct iqp_elem *kids = parent ? parent->child : c->m->first;
	uint16_t pcode = parent ? iqp_elem_code(parent) : 0;
	size_t n = iqp_schema_rules(node, pcode, rules, IQP_SCHEMA_MAX_RULES);

	if (n > IQP_SCHEMA_MAX_RULES)
		n = IQP_SCHEMA_MAX_RULES;
	for (size_t i = 0; i < n; i++) {
		const struct iqp_elem_def *d = iqp_elem_def_find(rules[i].code);
		if (!rules[i].min || !d ||
		    ((d->flags & IQP_DF_RESERVED) && !(c->opts & IQP_V_RESERVED)))
			continue;
		if ((rules[i].flags & IQP_RF_REQ_IF) &&
		    cond_eval(c, rules[i].cond, kids) != CV_TRUE)
			continue;
		if (first_code(kids, rules[i].code))
			continue;
		iqp_error_set(c->err, IQP_ERR_MISSING, iqp_body_error_action(c->kind),
			      "%s missing", d->name);
		c->err->has_element = true;
		c->err->element = iqp_elem_def_type(d);
		c->err->has_offset = true;
		c->err->offset = parent ? parent->offset : 0;
		return EBADMSG;
	}
	return 0;
}

static int pass3(struct vctx *c, unsigned form)
{
	const struct iqp_elem *e = c->m->first;
	int rc = check_required(c, NULL, form);

	while (!rc && e) {
		bool open = !(e->flags & IQP_EF_SKIP) && (e->type & IQP_TYPE_C);
		if (open)
			rc = check_required(c, e, e->node);
		if (rc)
			break;
		if (open && e->child) {
			e = e->child;
			continue;
		}
		while (e && !e->next)
			e = e->parent;
		if (e)
			e = e->next;
	}
	return rc;
}

static void clear_flags(struct iqp_elem *e)
{
	for (; e; e = e->next) {
		e->flags = 0;
		e->node = 0;
		clear_flags(e->child);
	}
}

int iqp_msg_validate(struct iqp_msg *m, unsigned sender, unsigned opts,
		     struct iqp_error *err)
{
	struct vctx c;
	unsigned form;
	int rc;

	if (sender != IQP_ROLE_AGW && sender != IQP_ROLE_CONTROLLER)
		return EINVAL;
	if (iqp_schema_form(&m->hdr, sender, &form)) {
		iqp_error_set(err, IQP_ERR_PROTOCOL, IQP_ACT_CLOSE,
			      "no such reply");
		return EPROTO;
	}
	memset(&c, 0, sizeof(c));
	memset(c.top, -1, sizeof(c.top));
	c.m = m;
	c.kind = m->hdr.kind;
	c.opts = opts;
	c.err = err;
	clear_flags(m->first);
	rc = pass2(&c, form);
	if (!rc)
		rc = pass3(&c, form);
	return rc;
}

int iqp_msg_decode(struct iqp_msg *m, const struct iqp_header *h,
		   const uint8_t *body, unsigned sender, unsigned opts,
		   void *arena, size_t arena_len, struct iqp_error *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = iqp_header_check_code(h, sender, err);
	if (!rc)
		rc = iqp_msg_parse(m, h, body, arena, arena_len, err);
	if (!rc)
		rc = iqp_msg_validate(m, sender, opts, err);
	return rc;
}
