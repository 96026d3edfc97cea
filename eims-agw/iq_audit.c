/* AUDIT (proto/SPEC.md 7.11) on the AGW: CAPABILITIES, CONTEXT_LIST
 * (paged, ascending, within the controller's MAX_FRAME), CONTEXT (column
 * Au of 8.7) and STATISTICS. */
#include <stdlib.h>
#include <string.h>

#include "iq_calls_int.h"
#include "term_w3.h"

/* Worst case of one CONTEXT_LIST entry: CONTEXT_ID, CALL_REF (256 B),
 * EMERGENCY, 8 terminations of TERM_ID, TERM_KIND, TERM_STATE. */
#define LIST_ENTRY_MAX (6 + 10 + 262 + 7 + 8 * (6 + 10 + 7 + 7))
/* Its elements: CONTEXT, CONTEXT_ID, CALL_REF, EMERGENCY, and 4 for each
 * of 8 terminations; a page must stay within MAX_ELEMENTS (4.3 item 3)
 * with AUDIT_CURSOR and AUDIT_MORE. */
#define LIST_ENTRY_ELEMS (4 + 8 * 4)

/* Copies element e and its subtree under parent (canonical placement). */
static void copy_tree(struct iqp_msg *dst, struct iqp_elem *parent, const struct iqp_elem *e)
{
	struct iqp_elem *n;

	if (e->type & IQP_TYPE_C) {
		iqp_add_container(dst, parent, iqp_elem_code(e), &n);
		for (const struct iqp_elem *c = e->child; c; c = c->next)
			copy_tree(dst, n, c);
	} else {
		iqp_add(dst, parent, iqp_elem_code(e), e->value, e->len, NULL);
	}
}

/* CAPACITY, LOAD, REALM list and CAPABILITIES, as REGISTER declares them. */
static int capabilities(struct iq_calls *c, struct iqp_msg *r)
{
	struct iqp_node_info self = c->iq->self;
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_REQUEST,
				.code = IQP_MSG_REGISTER };
	struct iqp_msg tmp;
	int rc;

	self.has_load = true;
	iq_client_load(c->iq, &self.load);
	if ((rc = iqp_msg_init(&tmp, &h, NULL, 32768)))
		return rc;
	iqp_link_reg_build_request(&tmp, &self);
	for (const struct iqp_elem *e = tmp.first; e; e = e->next) {
		uint16_t code = iqp_elem_code(e);
		if (code == IQP_E_CAPACITY || code == IQP_E_LOAD || code == IQP_E_REALM ||
		    code == IQP_E_CAPABILITIES)
			copy_tree(r, NULL, e);
	}
	rc = tmp.err;
	iqp_msg_free(&tmp);
	return rc;
}

static int by_id(const void *a, const void *b)
{
	const struct media_ctx *x = *(const struct media_ctx *const *)a;
	const struct media_ctx *y = *(const struct media_ctx *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int context_list(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
			struct iqp_msg *r)
{
	uint32_t cursor = get_u32(m, NULL, IQP_E_AUDIT_CURSOR, 0);
	uint32_t limit = get_u32(m, NULL, IQP_E_AUDIT_LIMIT, 256);
	struct media_ctx **v = NULL;
	size_t n = 0, cap = 0;

	for (struct media_ctx *x = c->mp->ctxs; x; x = x->next) {
		if (x->owner != l || x->id <= cursor)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct media_ctx **nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				free(v);
				return ENOMEM;
			}
			v = nv, cap = nc;
		}
		v[n++] = x;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_id);
	/* 7.11 item 2: the page fits the controller's MAX_FRAME. */
	size_t room = l->peer_max_frame > 256 ? (l->peer_max_frame - 256) / LIST_ENTRY_MAX : 1;
	if (room > (IQP_MAX_ELEMENTS - 2) / LIST_ENTRY_ELEMS)
		room = (IQP_MAX_ELEMENTS - 2) / LIST_ENTRY_ELEMS;
	size_t k = n < limit ? n : limit;
	if (k > room)
		k = room;
	for (size_t i = 0; i < k; i++) {
		const struct media_ctx *x = v[i];
		struct iqp_elem *ce, *te;
		iqp_add_container(r, NULL, IQP_E_CONTEXT, &ce);
		iqp_add_u32(r, ce, IQP_E_CONTEXT_ID, x->id);
		if (x->call_ref[0])
			iqp_add_str(r, ce, IQP_E_CALL_REF, x->call_ref);
		if (x->emergency)
			iqp_add_bool(r, ce, IQP_E_EMERGENCY, true);
		for (unsigned j = 0; j < x->n_terms; j++) {
			iqp_add_container(r, ce, IQP_E_TERMINATION, &te);
			iqp_add_u32(r, te, IQP_E_TERM_ID, x->t[j]->id);
			iqp_add_enum(r, te, IQP_E_TERM_KIND, x->t[j]->kind);
			iqp_add_enum(r, te, IQP_E_TERM_STATE, x->t[j]->state);
		}
	}
	if (k)
		iqp_add_u32(r, NULL, IQP_E_AUDIT_CURSOR, v[k - 1]->id);
	iqp_add_bool(r, NULL, IQP_E_AUDIT_MORE, k < n);
	free(v);
	return r->err;
}

static void add_ipport_sa(struct iqp_msg *r, struct iqp_elem *p, uint16_t code,
			  const struct sockaddr_storage *ss)
{
	struct iqp_ipport a;
	iq_ipport_from_sa((const struct sockaddr *)ss, &a);
	iqp_add_ipport(r, p, code, &a);
}

static void add_codecs(struct iqp_msg *r, struct iqp_elem *se, const struct media_stream *s)
{
	for (unsigned i = 0; i < s->n_codecs; i++) {
		const struct media_codec *k = &s->codecs[i];
		struct iqp_elem *ce;
		iqp_add_container(r, se, IQP_E_CODEC, &ce);
		iqp_add_u8(r, ce, IQP_E_PAYLOAD_TYPE, k->pt);
		iqp_add_str(r, ce, IQP_E_CODEC_NAME, k->name);
		iqp_add_u32(r, ce, IQP_E_CLOCK_RATE, k->clock);
		if (k->channels > 1)
			iqp_add_u8(r, ce, IQP_E_CHANNELS, k->channels);
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The stored remote fingerprint "AB:CD:..." (SHA-256) as bytes. */
static bool fp_bytes(const char *text, uint8_t v[32])
{
	for (unsigned i = 0; i < 32; i++) {
		int hi = hexval(text[3 * i]), lo = hi < 0 ? -1 : hexval(text[3 * i + 1]);
		if (lo < 0 || (i < 31 && text[3 * i + 2] != ':'))
			return false;
		v[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* The W3 parts of column Au: ICE (no password, 8.7 note 4), DTLS, BUNDLE. */
static void add_w3(struct iq_calls *c, struct iqp_msg *r, struct iqp_elem *te,
		   const struct media_term *t)
{
	const struct term_w3 *w = t->w3;
	struct iqp_elem *ice, *d, *fp, *cand, *b, *en;

	iqp_add_container(r, te, IQP_E_ICE, &ice);
	iqp_add_enum(r, ice, IQP_E_ICE_MODE, 1);
	iqp_add_str(r, ice, IQP_E_ICE_LOCAL_UFRAG, w->lufrag);
	if (w->has_rcreds)
		iqp_add_str(r, ice, IQP_E_ICE_REMOTE_UFRAG, w->rufrag);
	for (unsigned i = 0; i < w->n_sock; i++) {
		char f[8];
		snprintf(f, sizeof(f), "%u", i + 1);
		iqp_add_container(r, ice, IQP_E_LOCAL_CANDIDATE, &cand);
		iqp_add_str(r, cand, IQP_E_CAND_FOUNDATION, f);
		iqp_add_u8(r, cand, IQP_E_CAND_COMPONENT, 1);
		iqp_add_enum(r, cand, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
		iqp_add_u32(r, cand, IQP_E_CAND_PRIORITY, (126u << 24) | ((65535u - i) << 8) | 255u);
		add_ipport_sa(r, cand, IQP_E_CAND_ADDR, &w->sock[i].bound);
		iqp_add_enum(r, cand, IQP_E_CAND_TYPE, 1);
	}
	iqp_add_container(r, te, IQP_E_DTLS, &d);
	iqp_add_enum(r, d, IQP_E_DTLS_SETUP, w->setup);
	iqp_add_container(r, d, IQP_E_LOCAL_FINGERPRINT, &fp);
	iqp_add_enum(r, fp, IQP_E_FP_HASH, IQP_FP_SHA256);
	iqp_add_octets(r, fp, IQP_E_FP_VALUE, c->mp->fp_sha256, 32);
	iqp_add_str(r, d, IQP_E_LOCAL_TLS_ID, w->ltls_id);
	uint8_t rfp[32];
	if (w->has_rfp && fp_bytes(w->rfp, rfp)) {
		iqp_add_container(r, d, IQP_E_REMOTE_FINGERPRINT, &fp);
		iqp_add_enum(r, fp, IQP_E_FP_HASH, IQP_FP_SHA256);
		iqp_add_octets(r, fp, IQP_E_FP_VALUE, rfp, sizeof(rfp));
	}
	if (w->rtls_id[0])
		iqp_add_str(r, d, IQP_E_REMOTE_TLS_ID, w->rtls_id);
	for (unsigned i = 0; i < w->n_profiles; i++)
		iqp_add_u16(r, d, IQP_E_SRTP_PROFILE, w->profiles[i]);
	iqp_add_bool(r, te, IQP_E_RTCP_MUX, true);
	if (w->bundle.on) {
		iqp_add_container(r, te, IQP_E_BUNDLE, &b);
		if (w->bundle.mid_ext_id)
			iqp_add_u8(r, b, IQP_E_MID_EXT_ID, w->bundle.mid_ext_id);
		for (unsigned i = 0; i < w->bundle.n; i++) {
			const struct w3_bundle_entry *x = &w->bundle.e[i];
			iqp_add_container(r, b, IQP_E_BUNDLE_ENTRY, &en);
			iqp_add_u16(r, en, IQP_E_STREAM_ID, x->stream_id);
			iqp_add_str(r, en, IQP_E_MID, x->mid);
			for (unsigned k = 0; x->pts_listed && k < x->n_pt; k++)
				iqp_add_u8(r, en, IQP_E_PAYLOAD_TYPE, x->pt[k]);
			for (unsigned k = 0; k < x->n_ssrc; k++)
				iqp_add_u32(r, en, IQP_E_SSRC, x->ssrc[k]);
		}
	}
}

/* Scope CONTEXT: the context as the AGW holds it (8.7 column Au). */
static void full_context(struct iq_calls *c, struct iqp_msg *r, const struct media_ctx *x)
{
	struct iqp_elem *ce, *te, *se;

	iqp_add_container(r, NULL, IQP_E_CONTEXT, &ce);
	iqp_add_u32(r, ce, IQP_E_CONTEXT_ID, x->id);
	if (x->emergency)
		iqp_add_bool(r, ce, IQP_E_EMERGENCY, true);
	if (x->priority)
		iqp_add_u8(r, ce, IQP_E_PRIORITY, x->priority);
	if (x->call_ref[0])
		iqp_add_str(r, ce, IQP_E_CALL_REF, x->call_ref);
	for (unsigned j = 0; j < x->n_terms; j++) {
		const struct media_term *t = x->t[j];
		iqp_add_container(r, ce, IQP_E_TERMINATION, &te);
		iqp_add_u32(r, te, IQP_E_TERM_ID, t->id);
		iqp_add_enum(r, te, IQP_E_TERM_KIND, t->kind);
		iqp_add_str(r, te, IQP_E_REALM_NAME, c->mp->realms[t->realm].name);
		iqp_add_enum(r, te, IQP_E_TERM_STATE, t->state);
		if (t->family)
			iqp_add_enum(r, te, IQP_E_ADDR_FAMILY, t->family);
		iqp_add_u32(r, te, IQP_E_UNUSED_TIMEOUT, t->unused_timeout_s);
		iqp_add_u32(r, te, IQP_E_EVENT_MASK, t->event_mask);
		if (t->w3)
			add_w3(c, r, te, t);
		for (unsigned i = 0; i < t->n_streams; i++) {
			const struct media_stream *s = t->s[i];
			iqp_add_container(r, te, IQP_E_STREAM, &se);
			iqp_add_u16(r, se, IQP_E_STREAM_ID, s->id);
			iqp_add_enum(r, se, IQP_E_MEDIA_TYPE, s->media_type);
			iqp_add_enum(r, se, IQP_E_TRANSPORT_PROTO, s->transport);
			iqp_add_enum(r, se, IQP_E_STREAM_MODE, s->mode);
			add_codecs(r, se, s);
			if (s->inactivity_ms)
				iqp_add_u32(r, se, IQP_E_INACTIVITY_TIMEOUT, s->inactivity_ms);
			if (s->dscp)
				iqp_add_u8(r, se, IQP_E_DSCP, s->dscp);
			for (unsigned k = 0; k < s->n_filter; k++)
				iqp_add_ip(r, se, IQP_E_SOURCE_FILTER, &s->filter[k]);
			if (t->kind != IQP_TERM_IMS)
				continue;
			add_ipport_sa(r, se, IQP_E_LOCAL_ADDR, &s->local);
			if (!s->rtcp_mux)
				add_ipport_sa(r, se, IQP_E_LOCAL_RTCP_ADDR, &s->local_rtcp);
			if (s->has_remote)
				add_ipport_sa(r, se, IQP_E_REMOTE_ADDR, &s->remote);
			if (s->has_remote_rtcp)
				add_ipport_sa(r, se, IQP_E_REMOTE_RTCP_ADDR, &s->remote_rtcp);
			iqp_add_bool(r, se, IQP_E_RTCP_MUX, s->rtcp_mux);
			iqp_add_enum(r, se, IQP_E_LATCHING, s->latching);
		}
	}
}

void iqc_on_audit(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct iq_calls *c = arg;
	const struct iqp_elem *ctxe = iqp_find(m, NULL, IQP_E_CONTEXT);
	uint8_t scope = get_enum(m, NULL, IQP_E_AUDIT_SCOPE, 0);
	struct call_err ce = { 0 };
	struct media_ctx *x = NULL;
	struct iqp_msg r;
	int rc = 0;

	if ((scope == IQP_AUDIT_CONTEXT || scope == IQP_AUDIT_STATISTICS) &&
	    iqc_find_ctx(c, l, m, ctxe, &x, &ce)) {
		iqc_reply_error(c, l, m, &ce);
		return;
	}
	struct media_term *terms[MEDIA_MAX_TERMS];
	unsigned n = 0;
	if (scope == IQP_AUDIT_STATISTICS) {
		EACH(te, m, ctxe, IQP_E_TERMINATION) {
			struct media_term *t;
			if (iqc_find_term(c, m, te, x, &t, &ce)) {
				iqc_reply_error(c, l, m, &ce);
				return;
			}
			if (n < MEDIA_MAX_TERMS)
				terms[n++] = t;
		}
		if (!iqp_find(m, ctxe, IQP_E_TERMINATION))
			for (unsigned i = 0; i < x->n_terms; i++)
				terms[n++] = x->t[i];
	}
	/* Builder memory for the largest body the controller accepts:
	 * MAX_ELEMENTS nodes and MAX_FRAME bytes of values (a full
	 * CONTEXT_LIST page needs more than iqc_reply_start's arena). */
	struct iqp_header rh = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_REPLY,
				 .code = m->hdr.code, .txid = m->hdr.txid };
	if (iqp_msg_init(&r, &rh, NULL, IQP_MAX_ELEMENTS * (sizeof(struct iqp_elem) +
							    _Alignof(struct iqp_elem)) +
					    l->peer_max_frame)) {
		bad(&ce, 500, NULL, "out of memory");
		iqc_reply_error(c, l, m, &ce);
		return;
	}
	switch (scope) {
	case IQP_AUDIT_CAPABILITIES:
		rc = capabilities(c, &r);
		break;
	case IQP_AUDIT_CONTEXT_LIST:
		rc = context_list(c, l, m, &r);
		break;
	case IQP_AUDIT_CONTEXT:
		full_context(c, &r, x);
		break;
	case IQP_AUDIT_STATISTICS: {
		struct iqp_elem *cx, *te;
		iqp_add_container(&r, NULL, IQP_E_CONTEXT, &cx);
		iqp_add_u32(&r, cx, IQP_E_CONTEXT_ID, x->id);
		for (unsigned i = 0; i < n; i++) {
			iqp_add_container(&r, cx, IQP_E_TERMINATION, &te);
			iqp_add_u32(&r, te, IQP_E_TERM_ID, terms[i]->id);
			iq_events_add_stats(&r, te, terms[i], media_now(c->mp));
		}
		break;
	}
	}
	if (rc && !r.err)
		r.err = rc;
	iqc_reply_send(c, l, &r, m);
}
