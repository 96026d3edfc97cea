/* The call procedures of Iq+ on the AGW: RESERVE, CONFIGURE, MODIFY,
 * RELEASE (proto/SPEC.md 8.3-8.6).  Every check of pass 4 runs before
 * anything changes (6.8); then resources are allocated (RESERVE, rolled
 * back on failure) and parameters applied (iq_call_params.c). */
#include "iq_calls_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_schema.h"
#include "term_ims.h"
#include "term_w3.h"

#define REPLY_ARENA 65536

/* --- Replies ---------------------------------------------------------------- */

int iqc_reply_start(struct iqp_msg *r, const struct iqp_msg *req, unsigned flags)
{
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_REPLY,
				.flags = (uint16_t)flags, .code = req->hdr.code,
				.txid = req->hdr.txid };
	return iqp_msg_init(r, &h, NULL, flags ? 4096 : REPLY_ARENA);
}

void iqc_reply_error(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *req,
			const struct call_err *ce)
{
	struct iqp_error err = { .code = (uint16_t)ce->code, .action = IQP_ACT_REPLY };
	struct iqp_msg r;

	snprintf(err.text, sizeof(err.text), "%s", ce->text);
	if (ce->e) {
		err.has_element = err.has_offset = true;
		err.element = iqp_elem_code(ce->e);
		err.offset = ce->e->offset;
	}
	log_info(c->log, c->sub, NULL, "iq request refused",
		 LF_S("msg", iqp_msg_def_find(req->hdr.code)->name), LF_U("code", ce->code),
		 LF_S("reason", ce->text));
	if (iqc_reply_start(&r, req, IQP_FLAG_E))
		return;
	iqp_add_error(&r, &err);
	iqp_link_answer(l, uv_now(c->mp->loop), &r, ce->code);
	iqp_msg_free(&r);
}

void iqc_reply_send(struct iq_calls *c, struct iqp_link *l, struct iqp_msg *r,
		       const struct iqp_msg *req)
{
	if (r->err) {
		struct call_err ce;
		bad(&ce, 500, NULL, "reply could not be built");
		iqp_msg_free(r);
		iqc_reply_error(c, l, req, &ce);
		return;
	}
	iqp_link_answer(l, uv_now(c->mp->loop), r, 0);
	iqp_msg_free(r);
}

/* --- Reply content ------------------------------------------------------------ */

static void add_local_dtls(struct iq_calls *c, struct iqp_msg *r, struct iqp_elem *te,
			   const struct media_term *t)
{
	struct iqp_elem *d, *fp;

	iqp_add_container(r, te, IQP_E_DTLS, &d);
	iqp_add_enum(r, d, IQP_E_DTLS_SETUP, t->w3->setup);
	iqp_add_container(r, d, IQP_E_LOCAL_FINGERPRINT, &fp);
	iqp_add_enum(r, fp, IQP_E_FP_HASH, IQP_FP_SHA256);
	iqp_add_octets(r, fp, IQP_E_FP_VALUE, c->mp->fp_sha256, 32);
	iqp_add_str(r, d, IQP_E_LOCAL_TLS_ID, t->w3->ltls_id);
}

static void add_local_ice(struct iqp_msg *r, struct iqp_elem *te, const struct media_term *t)
{
	const struct term_w3 *w = t->w3;
	struct iqp_elem *ice, *cand;

	iqp_add_container(r, te, IQP_E_ICE, &ice);
	iqp_add_enum(r, ice, IQP_E_ICE_MODE, 1); /* LITE */
	iqp_add_str(r, ice, IQP_E_ICE_LOCAL_UFRAG, w->lufrag);
	iqp_add_str(r, ice, IQP_E_ICE_LOCAL_PWD, w->lpwd);
	for (unsigned i = 0; i < w->n_sock; i++) {
		struct iqp_ipport a;
		char foundation[8];
		/* RFC 8445 5.1.2.1: host type preference 126, local
		 * preference by address order, component 1 (rtcp-mux). */
		uint32_t prio = (126u << 24) | ((65535u - i) << 8) | (256u - 1);
		iq_ipport_from_sa((const struct sockaddr *)&w->sock[i].bound, &a);
		snprintf(foundation, sizeof(foundation), "%u", i + 1);
		iqp_add_container(r, ice, IQP_E_LOCAL_CANDIDATE, &cand);
		iqp_add_str(r, cand, IQP_E_CAND_FOUNDATION, foundation);
		iqp_add_u8(r, cand, IQP_E_CAND_COMPONENT, 1);
		iqp_add_enum(r, cand, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
		iqp_add_u32(r, cand, IQP_E_CAND_PRIORITY, prio);
		iqp_add_ipport(r, cand, IQP_E_CAND_ADDR, &a);
		iqp_add_enum(r, cand, IQP_E_CAND_TYPE, 1); /* HOST */
	}
}

static void add_ims_stream(struct iqp_msg *r, struct iqp_elem *te, const struct media_stream *s)
{
	struct iqp_elem *se;
	struct iqp_ipport a;

	iqp_add_container(r, te, IQP_E_STREAM, &se);
	iqp_add_u16(r, se, IQP_E_STREAM_ID, s->id);
	iq_ipport_from_sa((const struct sockaddr *)&s->local, &a);
	iqp_add_ipport(r, se, IQP_E_LOCAL_ADDR, &a);
	if (!s->rtcp_mux) {
		iq_ipport_from_sa((const struct sockaddr *)&s->local_rtcp, &a);
		iqp_add_ipport(r, se, IQP_E_LOCAL_RTCP_ADDR, &a);
	}
}

static void add_ims_streams(struct iqp_msg *r, struct iqp_elem *te, const struct media_term *t)
{
	for (unsigned i = 0; i < t->n_streams; i++)
		add_ims_stream(r, te, t->s[i]);
}

/* --- RESERVE (8.3) ---------------------------------------------------------------- */

static int check_reserve(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
			 const struct iqp_elem *ctxe, struct media_ctx **ctx_out, struct call_err *ce)
{
	struct media_plane *mp = c->mp;
	const struct iqp_elem *ide = iqp_find(m, ctxe, IQP_E_CONTEXT_ID);
	uint32_t cid = get_u32(m, ctxe, IQP_E_CONTEXT_ID, 0);
	struct media_ctx *ctx = NULL;
	unsigned n = 0, idx;
	int rc;

	if (cid == 0 || cid == IQP_ALL)
		return bad(ce, 410, ide, "invalid CONTEXT_ID");
	if (cid != IQP_CHOOSE && (!(ctx = media_ctx_find(mp, cid)) || ctx->owner != l))
		return bad(ce, 411, ide, "unknown context %u", cid);
	if ((rc = iqc_admit(c, m, ctxe, IQP_MSG_RESERVE, !ctx, ce))) /* 7.1, 7.6, 7.7 */
		return rc;
	if (!ctx && mp->n_ctxs >= c->iq->self.max_contexts)
		return bad(ce, 510, ide, "MAX_CONTEXTS reached");
	EACH(te, m, ctxe, IQP_E_TERMINATION)
		n++;
	if (n + (ctx ? ctx->n_terms : 0) > MEDIA_MAX_TERMS)
		return bad(ce, 434, ctxe, "more than 8 terminations");
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		const struct iqp_elem *e = iqp_find(m, te, IQP_E_TERM_ID);
		uint8_t kind = get_enum(m, te, IQP_E_TERM_KIND, 0);
		const struct iqp_realm *realm;
		if (get_u32(m, te, IQP_E_TERM_ID, 0) != IQP_CHOOSE)
			return bad(ce, 410, e, "RESERVE needs TERM_ID CHOOSE");
		e = iqp_find(m, te, IQP_E_REALM_NAME);
		if (!(realm = iqc_realm_find(c, m, e, &idx)))
			return bad(ce, 449, e, "unknown realm");
		if (!(realm->side & (kind == IQP_TERM_W3 ? 1 : 2)))
			return bad(ce, 449, e, "realm does not serve the %s side",
				   kind == IQP_TERM_W3 ? "W3" : "IMS");
		if ((e = iqp_find(m, te, IQP_E_ADDR_FAMILY))) {
			uint8_t fam = get_enum(m, te, IQP_E_ADDR_FAMILY, 0);
			bool have = false;
			for (unsigned i = 0; i < realm->n_addr; i++)
				have = have || realm->addr[i].family == fam;
			if (!have)
				return bad(ce, 449, e, "realm has no address of that family");
		}
		if ((rc = iqc_check_kind_walk(te, IQP_N_COL_RV, kind, ce)) ||
		    (rc = iqc_check_streams(c, m, te, kind, NULL, IQP_MSG_RESERVE, ce)) ||
		    (kind == IQP_TERM_W3 && (rc = iqc_check_w3(m, te, NULL, IQP_MSG_RESERVE, ce))))
			return rc;
	}
	if ((rc = iqc_check_connections(m, ctxe, ctx, ce)))
		return rc;
	*ctx_out = ctx;
	return 0;
}

static const struct iqp_ip *realm_addr(const struct iqp_realm *r, uint8_t family)
{
	for (unsigned i = 0; i < r->n_addr; i++)
		if (!family || r->addr[i].family == family)
			return &r->addr[i];
	return NULL;
}

static int allocate(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *te,
		    struct media_term *t)
{
	const struct iqp_realm *realm = &c->mp->realms[t->realm];
	int rc;

	EACH(se, m, te, IQP_E_STREAM) {
		struct media_stream *s = media_stream_new(t, get_u16(m, se, IQP_E_STREAM_ID, 0));
		if (!s)
			return ENOMEM;
		s->rtcp_mux = t->kind == IQP_TERM_W3 || get_bool(m, se, IQP_E_RTCP_MUX) == 1;
	}
	if (t->kind == IQP_TERM_W3)
		return term_w3_open(t, realm, t->family);
	const struct iqp_ip *addr = realm_addr(realm, t->family);
	if (!addr)
		return EADDRNOTAVAIL;
	for (unsigned i = 0; i < t->n_streams; i++)
		if ((rc = term_ims_open_stream(t->s[i], addr, 0)))
			return rc;
	return 0;
}

static void on_reserve(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct iq_calls *c = arg;
	struct media_plane *mp = c->mp;
	const struct iqp_elem *ctxe = iqp_find(m, NULL, IQP_E_CONTEXT), *e;
	struct media_term *made[MEDIA_MAX_TERMS];
	struct media_ctx *ctx = NULL;
	struct call_err ce = { 0 };
	unsigned n = 0, idx;
	struct iqp_msg r;
	struct iqp_elem *rc_ctx, *rte;
	int rc;

	if (check_reserve(c, l, m, ctxe, &ctx, &ce)) {
		iqc_reply_error(c, l, m, &ce);
		return;
	}
	bool new_ctx = !ctx;
	if (new_ctx && !(ctx = media_ctx_new(mp, l))) {
		iqc_reply_error(c, l, m, &(struct call_err){ 510, NULL, "out of memory" });
		return;
	}
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		struct media_term *t = media_term_new(mp, get_enum(m, te, IQP_E_TERM_KIND, 0));
		if (!t) {
			rc = ENOMEM;
			goto rollback;
		}
		iqc_realm_find(c, m, iqp_find(m, te, IQP_E_REALM_NAME), &idx);
		t->realm = (uint8_t)idx;
		t->family = get_enum(m, te, IQP_E_ADDR_FAMILY, 0);
		media_term_attach(ctx, t);
		made[n++] = t;
		if ((rc = allocate(c, m, te, t)))
			goto rollback;
	}
	if ((e = iqp_find(m, ctxe, IQP_E_EMERGENCY)))
		ctx->emergency = get_bool(m, ctxe, IQP_E_EMERGENCY) == 1;
	if ((e = iqp_find(m, ctxe, IQP_E_PRIORITY)))
		iqp_elem_u8(e, &ctx->priority);
	if ((e = iqp_find(m, ctxe, IQP_E_CALL_REF)))
		iqp_elem_strcpy(e, ctx->call_ref, sizeof(ctx->call_ref));
	n = 0;
	EACH(te, m, ctxe, IQP_E_TERMINATION)
		iqc_apply_term(m, te, made[n++]);
	iqc_after_apply(ctx);

	if (iqc_reply_start(&r, m, 0)) {
		rc = ENOMEM;
		goto rollback;
	}
	iqp_add_container(&r, NULL, IQP_E_CONTEXT, &rc_ctx);
	iqp_add_u32(&r, rc_ctx, IQP_E_CONTEXT_ID, ctx->id);
	for (unsigned i = 0; i < n; i++) {
		struct media_term *t = made[i];
		iqp_add_container(&r, rc_ctx, IQP_E_TERMINATION, &rte);
		iqp_add_u32(&r, rte, IQP_E_TERM_ID, t->id);
		iqp_add_enum(&r, rte, IQP_E_TERM_KIND, t->kind);
		iqp_add_str(&r, rte, IQP_E_REALM_NAME, mp->realms[t->realm].name);
		iqp_add_enum(&r, rte, IQP_E_TERM_STATE, t->state);
		if (t->kind == IQP_TERM_W3) {
			add_local_ice(&r, rte, t);
			add_local_dtls(c, &r, rte, t);
		} else {
			add_ims_streams(&r, rte, t);
		}
		log_info(c->log, c->sub, NULL, "iq reserved", LF_U("context", ctx->id),
			 LF_U("term", t->id), LF_S("kind", t->kind == IQP_TERM_W3 ? "w3" : "ims"),
			 LF_U("streams", t->n_streams), LF_S("realm", mp->realms[t->realm].name));
	}
	iqc_reply_send(c, l, &r, m);
	return;

rollback:
	log_warn(c->log, c->sub, NULL, "iq reserve failed", LF_S("reason", strerror(rc)));
	for (unsigned i = n; i-- > 0;)
		media_term_release(mp, made[i]);
	if (new_ctx && !n)
		media_ctx_delete(mp, ctx);
	bad(&ce, 510, NULL, "resources exhausted: %s", strerror(rc));
	iqc_reply_error(c, l, m, &ce);
}

/* --- CONFIGURE (8.4) and MODIFY (8.5) ----------------------------------------------- */

int iqc_find_ctx(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
		    const struct iqp_elem *ctxe, struct media_ctx **out, struct call_err *ce)
{
	const struct iqp_elem *ide = iqp_find(m, ctxe, IQP_E_CONTEXT_ID);
	uint32_t cid = get_u32(m, ctxe, IQP_E_CONTEXT_ID, 0);

	if (cid == 0 || cid == IQP_ALL || cid == IQP_CHOOSE)
		return bad(ce, 410, ide, "invalid CONTEXT_ID");
	if (!(*out = media_ctx_find(c->mp, cid)) || (*out)->owner != l)
		return bad(ce, 411, ide, "unknown context %u", cid);
	return 0;
}

int iqc_find_term(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *te,
		     struct media_ctx *ctx, struct media_term **out, struct call_err *ce)
{
	const struct iqp_elem *e = iqp_find(m, te, IQP_E_TERM_ID);
	uint32_t tid = get_u32(m, te, IQP_E_TERM_ID, 0);

	if (tid == 0 || tid == IQP_ALL || tid == IQP_CHOOSE)
		return bad(ce, 410, e, "invalid TERM_ID");
	if ((*out = media_ctx_term(ctx, tid)))
		return 0;
	if (media_term_find_any(c->mp, tid))
		return bad(ce, 435, e, "termination %u is in another context", tid);
	return bad(ce, 430, e, "unknown termination %u", tid);
}

/* New streams of a MODIFY: objects, and ports for IMS streams.  On
 * failure the streams made so far are removed again. */
static int add_streams(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *ctxe,
		       struct media_term **terms, struct media_stream **added, unsigned *n_added)
{
	unsigned n = 0;
	int rc = 0;

	*n_added = 0;
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		struct media_term *t = terms[n++];
		const struct iqp_realm *realm = &c->mp->realms[t->realm];
		EACH(se, m, te, IQP_E_STREAM) {
			uint16_t id = get_u16(m, se, IQP_E_STREAM_ID, 0);
			struct media_stream *s;
			if (media_term_stream(t, id) || get_bool(m, se, IQP_E_REMOVE) == 1)
				continue;
			if (!(s = media_stream_new(t, id))) {
				rc = ENOMEM;
				goto undo;
			}
			added[(*n_added)++] = s;
			s->rtcp_mux = t->kind == IQP_TERM_W3 || get_bool(m, se, IQP_E_RTCP_MUX) == 1;
			if (t->kind == IQP_TERM_IMS) {
				const struct iqp_ip *addr = realm_addr(realm, t->family);
				if (!addr) {
					rc = EADDRNOTAVAIL;
					goto undo;
				}
				if ((rc = term_ims_open_stream(s, addr, 0)))
					goto undo;
			}
		}
	}
	return 0;
undo:
	for (unsigned i = *n_added; i-- > 0;)
		media_stream_remove(added[i]->term, added[i]);
	*n_added = 0;
	return rc;
}

static void on_change(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
		      unsigned cmd)
{
	const struct iqp_elem *ctxe = iqp_find(m, NULL, IQP_E_CONTEXT);
	struct media_term *terms[MEDIA_MAX_TERMS];
	bool renewed[MEDIA_MAX_TERMS], restarted[MEDIA_MAX_TERMS];
	struct media_stream *added[MEDIA_MAX_TERMS * MEDIA_MAX_STREAMS];
	struct iqp_elem *rtes[MEDIA_MAX_TERMS];
	struct media_ctx *ctx;
	struct call_err ce = { 0 };
	unsigned n = 0, n_added = 0;
	struct iqp_msg r;
	struct iqp_elem *rc_ctx, *rte;
	int rc;

	if ((rc = iqc_admit(c, m, ctxe, cmd, false, &ce)) || /* 7.1: 503 out of service */
	    (rc = iqc_find_ctx(c, l, m, ctxe, &ctx, &ce)))
		goto refuse;
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		struct media_term *t;
		if (n == MEDIA_MAX_TERMS) {
			rc = bad(&ce, 434, te, "more than 8 terminations");
			goto refuse;
		}
		if ((rc = iqc_find_term(c, m, te, ctx, &t, &ce)) ||
		    (rc = iqc_check_kind_walk(te, cmd == IQP_MSG_MODIFY ? IQP_N_COL_MD : IQP_N_COL_CF,
					      t->kind, &ce)) ||
		    (rc = iqc_check_streams(c, m, te, t->kind, t, cmd, &ce)) ||
		    (t->kind == IQP_TERM_W3 && (rc = iqc_check_w3(m, te, t, cmd, &ce))))
			goto refuse;
		for (unsigned i = 0; i < n; i++)
			if (terms[i] == t) {
				rc = bad(&ce, 473, te, "termination %u twice", t->id);
				goto refuse;
			}
		terms[n++] = t;
	}
	if ((rc = iqc_check_connections(m, ctxe, ctx, &ce)))
		goto refuse;
	/* MODIFY 8.5 item 1: streams added first, since allocating their
	 * ports is the one step that can fail (then nothing has changed). */
	if ((rc = add_streams(c, m, ctxe, terms, added, &n_added))) {
		bad(&ce, 510, NULL, "resources exhausted: %s", strerror(rc));
		goto refuse;
	}
	if (iqc_reply_start(&r, m, 0)) {
		for (unsigned i = 0; i < n_added; i++)
			media_stream_remove(added[i]->term, added[i]);
		bad(&ce, 500, NULL, "out of memory");
		goto refuse;
	}
	iqp_add_container(&r, NULL, IQP_E_CONTEXT, &rc_ctx);
	iqp_add_u32(&r, rc_ctx, IQP_E_CONTEXT_ID, ctx->id);
	n = 0;
	uint64_t now = media_now(c->mp);
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		struct media_term *t = terms[n];
		const struct iqp_elem *ice = iqp_find(m, te, IQP_E_ICE);
		iqp_add_container(&r, rc_ctx, IQP_E_TERMINATION, &rtes[n]);
		iqp_add_u32(&r, rtes[n], IQP_E_TERM_ID, t->id);
		/* 8.5 item 2: removed streams leave with their STATS. */
		EACH(se, m, te, IQP_E_STREAM) {
			struct media_stream *s = media_term_stream(t, get_u16(m, se, IQP_E_STREAM_ID, 0));
			if (s && get_bool(m, se, IQP_E_REMOVE) == 1) {
				iq_events_add_stream_stats(&r, rtes[n], s, now);
				media_stream_remove(t, s);
			}
		}
		restarted[n] = ice && get_bool(m, ice, IQP_E_ICE_RESTART) == 1;
		renewed[n] = iqc_apply_term(m, te, t);
		n++;
	}
	iqc_after_apply(ctx);
	for (unsigned i = 0; i < n; i++) {
		rte = rtes[i];
		iqp_add_enum(&r, rte, IQP_E_TERM_STATE, terms[i]->state);
		if (restarted[i])
			add_local_ice(&r, rte, terms[i]);
		if (renewed[i])
			add_local_dtls(c, &r, rte, terms[i]);
	}
	for (unsigned i = 0; i < n_added; i++) {
		struct media_stream *s = added[i];
		unsigned k;
		for (k = 0; k < n && terms[k] != s->term; k++)
			;
		if (s->term->kind == IQP_TERM_IMS && k < n)
			add_ims_stream(&r, rtes[k], s);
	}
	log_info(c->log, c->sub, NULL, cmd == IQP_MSG_MODIFY ? "iq modified" : "iq configured",
		 LF_U("context", ctx->id), LF_U("terms", n));
	iqc_reply_send(c, l, &r, m);
	return;
refuse:
	iqc_reply_error(c, l, m, &ce);
}

static void on_configure(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	on_change(arg, l, m, IQP_MSG_CONFIGURE);
}

static void on_modify(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	on_change(arg, l, m, IQP_MSG_MODIFY);
}

/* --- Wiring ---------------------------------------------------------------------------- */

static const struct iqp_link_calls calls = {
	.reserve = on_reserve,
	.configure = on_configure,
	.modify = on_modify,
	.release = iqc_on_release,
	.audit = iqc_on_audit,
	.service_change = iqc_on_service_change,
};

const struct iqp_link_calls *iq_calls_table(void)
{
	return &calls;
}

void iq_calls_init(struct iq_calls *c, struct media_plane *mp, struct iq_client *iq,
		   const struct log *log, unsigned sub, uint32_t hold_ms)
{
	memset(c, 0, sizeof(*c));
	c->mp = mp;
	c->iq = iq;
	c->log = log;
	c->sub = sub;
	c->hold_ms = hold_ms;
	mp->sink.event = iq_events_send;
	mp->sink.arg = c;
	uv_timer_init(mp->loop, &c->hold);
	c->hold.data = c;
	c->hold_open = true;
}

