/* The AGW's replies to the ALG's requests (SPEC.md 8.3-8.6): the
 * allocations are copied into the call state; anything the request needs
 * and the reply lacks is a 500 (the reply does not fit the request).
 * Replies reach us validated by the link (passes 1-3); these checks are
 * the command-level ones (pass 4 for a requester). */
#include "alg_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool get_u32(const struct iqp_msg *m, const struct iqp_elem *p,
		    uint16_t code, uint32_t *v)
{
	const struct iqp_elem *e = iqp_find(m, p, code);

	return e && !iqp_elem_u32(e, v);
}

static bool valid_id(uint32_t v)
{
	return v && v != IQP_CHOOSE && v != IQP_ALL;
}

static int fail(struct alg_error *err, const char *what)
{
	alg_err(err, 500, "AGW reply does not fit the request: %s", what);
	return EPROTO;
}

static int check_header(const struct alg_call *c, const struct iqp_msg *r,
			struct alg_error *err)
{
	if (r->hdr.kind != IQP_KIND_REPLY || (r->hdr.flags & IQP_FLAG_E) ||
	    r->hdr.code != c->req_code)
		return fail(err, "not a success reply to the request");
	return 0;
}

/* ICE { ICE_MODE, ICE_LOCAL_UFRAG, ICE_LOCAL_PWD, LOCAL_CANDIDATE.. } */
static int read_ice(const struct iqp_msg *r, const struct iqp_elem *ice,
		    struct alg_w3 *t, struct alg_error *err)
{
	const struct iqp_elem *e;
	uint8_t mode = 0;
	struct alg_w3 n = *t;

	n.n_cands = 0;
	if ((e = iqp_find(r, ice, IQP_E_ICE_MODE)))
		iqp_elem_enum(e, &mode);
	n.ice_lite = mode == 1;
	if (!(e = iqp_find(r, ice, IQP_E_ICE_LOCAL_UFRAG)) ||
	    iqp_elem_strcpy(e, n.ufrag, sizeof(n.ufrag)) ||
	    !(e = iqp_find(r, ice, IQP_E_ICE_LOCAL_PWD)) ||
	    iqp_elem_strcpy(e, n.pwd, sizeof(n.pwd)))
		return fail(err, "no ICE credentials");
	for (e = iqp_find(r, ice, IQP_E_LOCAL_CANDIDATE);
	     e && n.n_cands < ALG_MAX_LCANDS; e = iqp_next_same(e)) {
		struct alg_lcand *lc = &n.cands[n.n_cands];
		const struct iqp_elem *f;

		memset(lc, 0, sizeof(*lc));
		if (!(f = iqp_find(r, e, IQP_E_CAND_FOUNDATION)) ||
		    iqp_elem_strcpy(f, lc->foundation,
				    sizeof(lc->foundation)) ||
		    !(f = iqp_find(r, e, IQP_E_CAND_COMPONENT)) ||
		    iqp_elem_u8(f, &lc->component) ||
		    !(f = iqp_find(r, e, IQP_E_CAND_TRANSPORT)) ||
		    iqp_elem_enum(f, &lc->transport) ||
		    !(f = iqp_find(r, e, IQP_E_CAND_PRIORITY)) ||
		    iqp_elem_u32(f, &lc->priority) ||
		    !(f = iqp_find(r, e, IQP_E_CAND_ADDR)) ||
		    iqp_elem_ipport(f, &lc->addr) ||
		    !(f = iqp_find(r, e, IQP_E_CAND_TYPE)) ||
		    iqp_elem_enum(f, &lc->type))
			return fail(err, "malformed LOCAL_CANDIDATE");
		if ((f = iqp_find(r, e, IQP_E_CAND_TCPTYPE)))
			iqp_elem_enum(f, &lc->tcptype);
		if ((lc->transport == IQP_CAND_TCP && !lc->tcptype) ||
		    lc->transport < 1 || lc->transport > 2 || lc->type < 1 ||
		    lc->type > 4 || !lc->addr.port)
			return fail(err, "malformed LOCAL_CANDIDATE");
		n.n_cands++;
	}
	if (!n.n_cands)
		return fail(err, "no LOCAL_CANDIDATE");
	*t = n;
	return 0;
}

/* DTLS { DTLS_SETUP, LOCAL_FINGERPRINT.., LOCAL_TLS_ID } */
static int read_dtls(const struct iqp_msg *r, const struct iqp_elem *dtls,
		     struct alg_w3 *t, struct alg_error *err)
{
	const struct iqp_elem *e;
	struct alg_w3 n = *t;

	n.n_fps = 0;
	if (!(e = iqp_find(r, dtls, IQP_E_DTLS_SETUP)) ||
	    iqp_elem_enum(e, &n.setup) || n.setup < 1 || n.setup > 3)
		return fail(err, "no DTLS_SETUP");
	for (e = iqp_find(r, dtls, IQP_E_LOCAL_FINGERPRINT);
	     e && n.n_fps < SDPM_MAX_FPS; e = iqp_next_same(e)) {
		struct sdpm_fp *fp = &n.fps[n.n_fps];
		const struct iqp_elem *f;
		const uint8_t *v;
		size_t len;

		if (!(f = iqp_find(r, e, IQP_E_FP_HASH)) ||
		    iqp_elem_enum(f, &fp->hash) || fp->hash < 1 ||
		    fp->hash > 5 || !(f = iqp_find(r, e, IQP_E_FP_VALUE)) ||
		    iqp_elem_octets(f, &v, &len) || len < 20 || len > 64)
			return fail(err, "malformed LOCAL_FINGERPRINT");
		fp->len = (uint8_t)len;
		memcpy(fp->value, v, len);
		n.n_fps++;
	}
	if (!n.n_fps)
		return fail(err, "no LOCAL_FINGERPRINT");
	if (!(e = iqp_find(r, dtls, IQP_E_LOCAL_TLS_ID)) ||
	    iqp_elem_strcpy(e, n.tls_id, sizeof(n.tls_id)))
		return fail(err, "no LOCAL_TLS_ID");
	*t = n;
	return 0;
}

/* The IMS streams created by the request get their addresses. */
static int read_ims(struct alg_call *c, const struct iqp_msg *r,
		    const struct iqp_elem *te, struct alg_error *err)
{
	for (unsigned i = 0; i < c->cur.n_m; i++) {
		struct alg_line *l = &c->cur.m[i];
		const struct iqp_elem *s, *e;
		uint16_t sid;

		if (c->plan[i].act != ALG_A_NEW || !l->sid)
			continue;
		for (s = iqp_find(r, te, IQP_E_STREAM); s;
		     s = iqp_next_same(s))
			if ((e = iqp_find(r, s, IQP_E_STREAM_ID)) &&
			    !iqp_elem_u16(e, &sid) && sid == l->sid)
				break;
		if (!s || !(e = iqp_find(r, s, IQP_E_LOCAL_ADDR)) ||
		    iqp_elem_ipport(e, &l->ims_local) || !l->ims_local.port)
			return fail(err, "no LOCAL_ADDR for a new IMS stream");
		if (!(e = iqp_find(r, s, IQP_E_LOCAL_RTCP_ADDR)) ||
		    iqp_elem_ipport(e, &l->ims_local_rtcp) ||
		    !l->ims_local_rtcp.port)
			return fail(err, "no LOCAL_RTCP_ADDR for a new IMS "
				    "stream");
	}
	return 0;
}

static int read_terms(struct alg_call *c, const struct iqp_msg *r,
		      bool offer, struct alg_error *err)
{
	const struct iqp_elem *ctx = iqp_find(r, NULL, IQP_E_CONTEXT);
	const struct iqp_elem *te;
	uint32_t id, tid;
	unsigned k = 0;
	int e;

	if (!ctx || !get_u32(r, ctx, IQP_E_CONTEXT_ID, &id) || !valid_id(id))
		return fail(err, "no CONTEXT_ID");
	if (c->cur.context_id && id != c->cur.context_id)
		return fail(err, "another CONTEXT_ID");
	c->cur.context_id = id;
	for (te = iqp_find(r, ctx, IQP_E_TERMINATION); te;
	     te = iqp_next_same(te), k++) {
		int w;
		uint32_t *stored;
		const struct iqp_elem *ice, *dtls;

		if (k >= c->n_req_term)
			return fail(err, "more TERMINATIONs than requested");
		w = c->req_term[k];
		stored = w < 0 ? &c->cur.ims_term : &c->cur.w3[w].term_id;
		if (!get_u32(r, te, IQP_E_TERM_ID, &tid) || !valid_id(tid))
			return fail(err, "no TERM_ID");
		if (*stored && *stored != tid)
			return fail(err, "another TERM_ID");
		if (w < 0) {
			if (offer && (e = read_ims(c, r, te, err)))
				return e;
		} else {
			struct alg_w3 *t = &c->cur.w3[w];
			bool need_ice = !*stored;

			for (unsigned i = 0; offer && i < c->cur.n_m; i++)
				need_ice |= c->cur.m[i].w3 == w &&
					    c->plan[i].ice_restart;
			ice = iqp_find(r, te, IQP_E_ICE);
			dtls = iqp_find(r, te, IQP_E_DTLS);
			if (need_ice && !ice)
				return fail(err, "no ICE for a new or "
					    "restarted transport");
			if (!*stored && !dtls)
				return fail(err, "no DTLS for a new transport");
			if (ice && (e = read_ice(r, ice, t, err)))
				return e;
			if (dtls && (e = read_dtls(r, dtls, t, err)))
				return e;
		}
		*stored = tid;
	}
	if (k != c->n_req_term)
		return fail(err, "fewer TERMINATIONs than requested");
	return 0;
}

int alg_reply_offer(struct alg_call *c, const struct iqp_msg *reply,
		    struct alg_error *err)
{
	int e = check_header(c, reply, err);

	return e ? e : read_terms(c, reply, true, err);
}

int alg_reply_answer(struct alg_call *c, const struct iqp_msg *reply,
		     struct alg_error *err)
{
	int e = check_header(c, reply, err);

	if (e)
		return e;
	if (c->req_code == IQP_MSG_RELEASE) {
		c->cur.context_id = 0;
		return 0;
	}
	return read_terms(c, reply, false, err);
}
