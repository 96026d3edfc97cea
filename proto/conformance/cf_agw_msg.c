/* Requests to the AGW under test with validated replies, and readers for
 * the cases of cf_cases_agw_*.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cf_agw.h"
#include "iqp_validate.h"

int cf_agw_call(struct cf_ctx *x, struct cf_msg *b, struct cf_frame *f, struct iqp_msg *m,
		char *why, size_t len)
{
	struct iqp_error err;
	int rc;

	memset(m, 0, sizeof(*m));
	memset(f, 0, sizeof(*f));
	if ((rc = cf_controller_link(x, why, len)))
		return rc;
	if ((rc = cf_request(x, &x->link, b, f, why, len))) {
		cf_controller_unlink(x);
		return rc;
	}
	if (f->hdr.flags & IQP_FLAG_E) {
		snprintf(why, len, "%u %s", f->error_code, f->error_text);
		return EACCES;
	}
	if (iqp_msg_decode(m, &f->hdr, f->body, IQP_ROLE_AGW, 0, NULL, 0, &err)) {
		snprintf(why, len, "the reply does not validate (4.4): %u %s", err.code, err.text);
		iqp_msg_free(m);
		memset(m, 0, sizeof(*m));
		cf_frame_free(f);
		return EBADMSG;
	}
	return 0;
}

void cf_agw_call_free(struct cf_frame *f, struct iqp_msg *m)
{
	iqp_msg_free(m);
	memset(m, 0, sizeof(*m));
	cf_frame_free(f);
}

/* A RESERVE of `terms` IMS terminations, each with one muxed PCMU stream;
 * terminations 2k and 2k+1 share STREAM_ID k+1 (8.1 item 3). */
static void reserve_terms(struct cf_ctx *x, struct cf_msg *b, const char *realm, unsigned terms)
{
	struct iqp_elem *ctx, *term, *st, *codec;
	cf_msg_start(x, b, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 0);
	iqp_add_container(&b->m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b->m, ctx, IQP_E_CONTEXT_ID, IQP_CHOOSE);
	for (unsigned i = 0; i < terms; i++) {
		iqp_add_container(&b->m, ctx, IQP_E_TERMINATION, &term);
		iqp_add_u32(&b->m, term, IQP_E_TERM_ID, IQP_CHOOSE);
		iqp_add_enum(&b->m, term, IQP_E_TERM_KIND, IQP_TERM_IMS);
		iqp_add_str(&b->m, term, IQP_E_REALM_NAME, realm);
		iqp_add_container(&b->m, term, IQP_E_STREAM, &st);
		iqp_add_u16(&b->m, st, IQP_E_STREAM_ID, (uint16_t)(i / 2 + 1));
		iqp_add_enum(&b->m, st, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
		iqp_add_enum(&b->m, st, IQP_E_TRANSPORT_PROTO, 1 /* RTP/AVP */);
		iqp_add_bool(&b->m, st, IQP_E_RTCP_MUX, true);
		iqp_add_container(&b->m, st, IQP_E_CODEC, &codec);
		iqp_add_u8(&b->m, codec, IQP_E_PAYLOAD_TYPE, 0);
		iqp_add_str(&b->m, codec, IQP_E_CODEC_NAME, "PCMU");
		iqp_add_u32(&b->m, codec, IQP_E_CLOCK_RATE, 8000);
	}
}

int cf_agw_reserve_many(struct cf_ctx *x, unsigned n, unsigned terms, const char *ref_fmt,
			uint32_t *ids, unsigned *done, char *why, size_t len)
{
	const char *realm = cf_agw_ims_realm(x);

	*done = 0;
	if (!realm) {
		snprintf(why, len, "the AGW registered no realm serving IMS");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct cf_msg b;
		struct cf_frame f;
		struct iqp_msg m;
		struct iqp_elem *ctx;
		uint32_t term;
		char ref[160];
		if (terms > 1)
			reserve_terms(x, &b, realm, terms);
		else
			cf_agw_reserve_ims(x, &b, realm);
		if (ref_fmt) {
			ctx = b.m.first; /* the only top-level element: CONTEXT */
			snprintf(ref, sizeof(ref), ref_fmt, i);
			iqp_add_str(&b.m, ctx, IQP_E_CALL_REF, ref);
		}
		int rc = cf_agw_call(x, &b, &f, &m, why, len);
		if (rc == EACCES) {
			unsigned code = f.error_code;
			cf_frame_free(&f);
			return (int)code;
		}
		if (rc)
			return -1;
		ctx = (struct iqp_elem *)iqp_find(&m, NULL, IQP_E_CONTEXT);
		bool ok = cf_u32(&m, ctx, IQP_E_CONTEXT_ID, &ids[i]) &&
			  cf_u32(&m, iqp_find(&m, ctx, IQP_E_TERMINATION), IQP_E_TERM_ID, &term);
		cf_agw_call_free(&f, &m);
		if (!ok) {
			snprintf(why, len, "RESERVE reply without CONTEXT_ID or TERM_ID");
			return -1;
		}
		x->mark++;
		(*done)++;
	}
	return 0;
}

bool cf_u32(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code, uint32_t *v)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	return e && !iqp_elem_u32(e, v);
}

bool cf_u8(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code, uint8_t *v)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	return e && !iqp_elem_u8(e, v);
}

bool cf_bool(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code, bool *v)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	return e && !iqp_elem_bool(e, v);
}

static const struct iqp_elem *deep(const struct iqp_elem *e, uint16_t code)
{
	for (; e; e = e->next) {
		const struct iqp_elem *d;
		if (iqp_elem_code(e) == code)
			return e;
		if (e->child && (d = deep(e->child, code)))
			return d;
	}
	return NULL;
}

const struct iqp_elem *cf_find_deep(const struct iqp_msg *m, const struct iqp_elem *p,
				    uint16_t code)
{
	return deep(p ? p->child : m->first, code);
}
