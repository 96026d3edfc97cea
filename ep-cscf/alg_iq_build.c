/* Iq+ requests from an offer or answer plan (SPEC.md 8.3-8.7, 8.9-8.12).
 *
 * Offer:  first offer RESERVE { CONTEXT_ID CHOOSE, one W3 TERMINATION per
 *         transport (one with BUNDLE, else one per m-line; 8.1 item 6),
 *         the IMS TERMINATION }, streams connected by STREAM_ID; a
 *         re-offer MODIFY (streams added, updated, removed; ICE restart;
 *         new DTLS association).
 * Answer: CONFIGURE with the answerer's parameters, or MODIFY when lines
 *         the AGW serves were refused (REMOVE), or RELEASE of the context
 *         when the answer leaves no stream at all.
 * A stream that would be the last one of its W3 termination is not
 * removed (8.5 item 2 forbids it) but gated INACTIVE ("parked") until the
 * call is released.  STREAM_MODE is always sent so that a resume after a
 * hold is explicit. */
#include "alg_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { MODE_INACTIVE = 4 };

struct bctx {
	struct alg_call *c;
	struct iqp_msg *m;
	bool answer;               /* building from the answer */
	bool revert;               /* undoing a re-offer: lines with a stream
				    * as they were, nothing removed */
};

static void add_codec(struct iqp_msg *m, struct iqp_elem *st,
		      const struct sdpm_codec *k)
{
	struct iqp_elem *ce = NULL;

	if (iqp_add_container(m, st, IQP_E_CODEC, &ce))
		return;
	iqp_add_u8(m, ce, IQP_E_PAYLOAD_TYPE, k->pt);
	iqp_add_str(m, ce, IQP_E_CODEC_NAME, k->name);
	iqp_add_u32(m, ce, IQP_E_CLOCK_RATE, k->rate);
	if (k->channels > 1)
		iqp_add_u8(m, ce, IQP_E_CHANNELS, k->channels);
	if (k->fmtp)
		iqp_add_str(m, ce, IQP_E_FMTP, k->fmtp);
	for (unsigned f = 0; f < k->n_fb; f++)
		if (alg_fb_kept(k->fb[f]))
			iqp_add_str(m, ce, IQP_E_RTCP_FB, k->fb[f]);
}

/* The codecs of line i on the termination of side `term`: before the
 * answer the offer's usable codecs; after it the answered ones, with the
 * payload types of that side's SDP. */
static unsigned line_codecs(const struct alg_call *c, unsigned i,
			    enum alg_side term, bool answer,
			    const struct sdpm_codec **out)
{
	const struct sdpm_media *o = &c->offer->media[i];
	const struct sdpm_codec *ans[SDPM_MAX_CODECS];
	unsigned n = 0, na;

	if (!answer) {
		for (unsigned k = 0; k < o->n_codecs && n < SDPM_MAX_CODECS;
		     k++)
			if (alg_codec_usable(&o->codecs[k]))
				out[n++] = &o->codecs[k];
		return n;
	}
	na = alg_answer_codecs(c, i, ans, SDPM_MAX_CODECS);
	if (term != c->offerer) {
		memcpy(out, ans, na * sizeof(*out));
		return na;
	}
	for (unsigned k = 0; k < na; k++)
		out[n++] = alg_offer_codec(o, ans[k]);
	return n;
}

/* The SDP line of side `term` known at this point, or NULL. */
static const struct sdpm_media *side_line(const struct bctx *b, unsigned i,
					  enum alg_side term)
{
	if (term == b->c->offerer)
		return &b->c->offer->media[i];
	return b->answer ? &b->c->answer->media[i] : NULL;
}

static bool line_active(const struct bctx *b, unsigned i)
{
	const struct alg_plan_line *p = &b->c->plan[i];

	if (b->revert && !b->c->cur.m[i].sid)
		return false;
	return (p->act == ALG_A_NEW || p->act == ALG_A_KEEP) &&
	       (!b->answer || p->answer_ok);
}

static bool line_goes(const struct bctx *b, unsigned i)
{
	const struct alg_plan_line *p = &b->c->plan[i];

	if (b->revert)
		return false;
	if (b->answer)
		return (p->act == ALG_A_NEW || p->act == ALG_A_KEEP) &&
		       !p->answer_ok;
	return p->act == ALG_A_REMOVE;
}

static unsigned w3_remaining(const struct bctx *b, int w)
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->c->cur.n_m; i++)
		n += b->c->cur.m[i].w3 == w && line_active(b, i);
	return n;
}

static void add_stream(struct bctx *b, struct iqp_elem *term, unsigned i,
		       enum alg_side side)
{
	struct alg_call *c = b->c;
	struct alg_line *l = &c->cur.m[i];
	const struct alg_plan_line *p = &c->plan[i];
	const struct sdpm_media *sl = side_line(b, i, side);
	const struct sdpm_codec *k[SDPM_MAX_CODECS];
	struct iqp_elem *st = NULL;
	unsigned n;

	if (iqp_add_container(b->m, term, IQP_E_STREAM, &st))
		return;
	iqp_add_u16(b->m, st, IQP_E_STREAM_ID, l->sid);
	if (line_goes(b, i)) {
		if (side == ALG_W3 && !w3_remaining(b, l->w3))
			iqp_add_enum(b->m, st, IQP_E_STREAM_MODE,
				     MODE_INACTIVE);
		else
			iqp_add_bool(b->m, st, IQP_E_REMOVE, true);
		return;
	}
	if (!b->answer && p->act == ALG_A_NEW) {
		iqp_add_enum(b->m, st, IQP_E_MEDIA_TYPE, l->media_type);
		iqp_add_enum(b->m, st, IQP_E_TRANSPORT_PROTO,
			     side == ALG_W3 ? 6 : l->ims_proto);
	} else if (!b->answer && side == ALG_IMS && c->offerer == ALG_IMS &&
		   c->offer->media[i].proto != l->ims_proto) {
		l->ims_proto = c->offer->media[i].proto;
		iqp_add_enum(b->m, st, IQP_E_TRANSPORT_PROTO, l->ims_proto);
	}
	n = line_codecs(c, i, side, b->answer, k);
	for (unsigned j = 0; j < n; j++)
		add_codec(b->m, st, k[j]);
	iqp_add_enum(b->m, st, IQP_E_STREAM_MODE,
		     alg_mode(c, i, side, b->answer));
	if (sl && sl->ptime)
		iqp_add_u16(b->m, st, IQP_E_PTIME, sl->ptime);
	if (sl && sl->maxptime)
		iqp_add_u16(b->m, st, IQP_E_MAXPTIME, sl->maxptime);
	if (side == ALG_IMS && sl) {
		struct iqp_ipport ra = { sl->conn, sl->port };
		struct iqp_ipport rr = { sl->has_rtcp_addr ? sl->rtcp_addr :
					 sl->conn,
					 sl->has_rtcp ? sl->rtcp_port :
					 (uint16_t)(sl->port + 1) };

		iqp_add_ipport(b->m, st, IQP_E_REMOTE_ADDR, &ra);
		if (rr.port)
			iqp_add_ipport(b->m, st, IQP_E_REMOTE_RTCP_ADDR, &rr);
	}
}

/* BUNDLE map of W3 termination w (8.9.4): one entry per active line;
 * payload types only when disjoint across entries, SSRCs from the
 * browser's SDP when it is known. */
static void add_bundle(struct bctx *b, struct iqp_elem *term, int w)
{
	struct alg_call *c = b->c;
	const struct sdpm_session *ws = c->offerer == ALG_W3 || b->answer ?
		alg_w3_sdp(c) : NULL;
	uint8_t seen[128] = { 0 };
	bool disjoint = true;
	struct iqp_elem *bu = NULL;

	for (unsigned i = 0; i < c->cur.n_m; i++) {
		const struct sdpm_codec *k[SDPM_MAX_CODECS];
		unsigned n;

		if (c->cur.m[i].w3 != w || !line_active(b, i))
			continue;
		n = line_codecs(c, i, ALG_W3, b->answer, k);
		for (unsigned j = 0; j < n; j++)
			if (seen[k[j]->pt]++ && disjoint)
				disjoint = false;
	}
	if (iqp_add_container(b->m, term, IQP_E_BUNDLE, &bu))
		return;
	/* The browser's MID header extension id, so that the AGW can read
	 * the MID before it has learned the SSRCs (8.9.4 item 3). */
	for (unsigned i = 0; ws && i < c->cur.n_m; i++)
		if (c->cur.m[i].w3 == w && line_active(b, i) && ws->media[i].mid_ext_id) {
			iqp_add_u8(b->m, bu, IQP_E_MID_EXT_ID, ws->media[i].mid_ext_id);
			break;
		}
	for (unsigned i = 0; i < c->cur.n_m; i++) {
		const struct sdpm_codec *k[SDPM_MAX_CODECS];
		struct iqp_elem *en = NULL;
		unsigned n;

		if (c->cur.m[i].w3 != w || !line_active(b, i) ||
		    iqp_add_container(b->m, bu, IQP_E_BUNDLE_ENTRY, &en))
			continue;
		iqp_add_str(b->m, en, IQP_E_MID, c->cur.m[i].mid);
		iqp_add_u16(b->m, en, IQP_E_STREAM_ID, c->cur.m[i].sid);
		n = line_codecs(c, i, ALG_W3, b->answer, k);
		for (unsigned j = 0; disjoint && j < n; j++)
			iqp_add_u8(b->m, en, IQP_E_PAYLOAD_TYPE, k[j]->pt);
		for (unsigned j = 0; ws && j < ws->media[i].n_ssrcs; j++)
			iqp_add_u32(b->m, en, IQP_E_SSRC, ws->media[i].ssrcs[j]);
	}
}

static void add_fps(struct iqp_msg *m, struct iqp_elem *dtls,
		    const struct sdpm_media *sl)
{
	for (unsigned f = 0; f < sl->n_fps; f++) {
		struct iqp_elem *fe = NULL;

		if (iqp_add_container(m, dtls, IQP_E_REMOTE_FINGERPRINT, &fe))
			return;
		iqp_add_enum(m, fe, IQP_E_FP_HASH, sl->fps[f].hash);
		iqp_add_octets(m, fe, IQP_E_FP_VALUE, sl->fps[f].value,
			       sl->fps[f].len);
	}
}

/* The browser's ICE of termination t from its tag line sl (8.9.1):
 * candidates of component 1 only with rtcp-mux. */
static void add_remote_ice(struct bctx *b, struct iqp_elem *ice,
			   struct alg_w3 *t, const struct sdpm_media *sl)
{
	iqp_add_str(b->m, ice, IQP_E_ICE_REMOTE_UFRAG, sl->ice_ufrag);
	iqp_add_str(b->m, ice, IQP_E_ICE_REMOTE_PWD, sl->ice_pwd);
	if (sl->ice_lite)
		iqp_add_bool(b->m, ice, IQP_E_ICE_REMOTE_LITE, true);
	for (unsigned k = 0; k < sl->n_cands; k++) {
		const struct sdpm_cand *cd = &sl->cands[k];
		struct iqp_elem *ce = NULL;

		if ((sl->rtcp_mux && cd->component != 1) ||
		    iqp_add_container(b->m, ice, IQP_E_REMOTE_CANDIDATE, &ce))
			continue;
		iqp_add_str(b->m, ce, IQP_E_CAND_FOUNDATION, cd->foundation);
		iqp_add_u8(b->m, ce, IQP_E_CAND_COMPONENT, cd->component);
		iqp_add_enum(b->m, ce, IQP_E_CAND_TRANSPORT, cd->transport);
		iqp_add_u32(b->m, ce, IQP_E_CAND_PRIORITY, cd->priority);
		iqp_add_ipport(b->m, ce, IQP_E_CAND_ADDR, &cd->addr);
		iqp_add_enum(b->m, ce, IQP_E_CAND_TYPE, cd->type);
		if (cd->has_raddr)
			iqp_add_ipport(b->m, ce, IQP_E_CAND_RADDR, &cd->raddr);
		if (cd->tcptype)
			iqp_add_enum(b->m, ce, IQP_E_CAND_TCPTYPE, cd->tcptype);
	}
	if (sl->end_of_cands)
		iqp_add_bool(b->m, ice, IQP_E_ICE_END_OF_CANDIDATES, true);
	snprintf(t->r_ufrag, sizeof(t->r_ufrag), "%s", sl->ice_ufrag);
	snprintf(t->r_pwd, sizeof(t->r_pwd), "%s", sl->ice_pwd);
}

/* DTLS_SETUP from the browser's a=setup (8.9.2 item 1): its active ->
 * PASSIVE, passive -> ACTIVE, actpass -> ACTIVE (RECOMMENDED); absent
 * means active (RFC 4145) -> PASSIVE. */
static uint8_t setup_from(uint8_t remote)
{
	if (remote == IQP_SETUP_PASSIVE || remote == IQP_SETUP_ACTPASS)
		return IQP_SETUP_ACTIVE;
	return IQP_SETUP_PASSIVE;
}

static void add_remote_dtls(struct bctx *b, struct iqp_elem *dtls,
			    struct alg_w3 *t, const struct sdpm_media *sl)
{
	t->setup = setup_from(sl->setup);
	iqp_add_enum(b->m, dtls, IQP_E_DTLS_SETUP, t->setup);
	add_fps(b->m, dtls, sl);
	if (sl->tls_id)
		iqp_add_str(b->m, dtls, IQP_E_REMOTE_TLS_ID, sl->tls_id);
	snprintf(t->r_tls_id, sizeof(t->r_tls_id), "%s",
		 sl->tls_id ? sl->tls_id : "");
	t->r_fp_hash = sl->fps[0].hash;
	t->r_fp_len = sl->fps[0].len;
	memcpy(t->r_fp, sl->fps[0].value, sl->fps[0].len);
}

/* Whether the BUNDLE map of termination w is (re)sent: when created,
 * when streams come or go, and with every answer (it carries the
 * browser's SSRCs and the payload types finally used). */
static bool bundle_changes(const struct bctx *b, int w, bool create)
{
	if (create || b->answer)
		return true;
	for (unsigned i = 0; i < b->c->cur.n_m; i++)
		if (b->c->cur.m[i].w3 == w &&
		    (b->c->plan[i].act == ALG_A_NEW || line_goes(b, i)))
			return true;
	return false;
}

/* The line whose browser transport termination w uses (set by the
 * offer and answer plans). */
static int plan_tag(const struct alg_call *c, int w)
{
	for (unsigned i = 0; i < c->cur.n_m; i++)
		if (c->cur.m[i].w3 == w && c->plan[i].tag)
			return (int)i;
	return -1;
}

static struct iqp_elem *add_w3_term(struct bctx *b, struct iqp_elem *ctx,
				    int w)
{
	struct alg_call *c = b->c;
	struct alg_w3 *t = &c->cur.w3[w];
	const struct sdpm_session *ws = alg_w3_sdp(c);
	bool browser_sdp = c->offerer == ALG_W3 || b->answer;
	int tag = browser_sdp ? plan_tag(c, w) : -1;
	const struct sdpm_media *sl = tag >= 0 ? &ws->media[tag] : NULL;
	bool create = !b->answer && !t->term_id;
	bool any = false;
	struct iqp_elem *te = NULL, *ice = NULL, *dtls = NULL;

	for (unsigned i = 0; i < c->cur.n_m; i++)
		any |= c->cur.m[i].w3 == w &&
		       (line_active(b, i) || line_goes(b, i));
	if (!any || iqp_add_container(b->m, ctx, IQP_E_TERMINATION, &te))
		return NULL;
	c->req_term[c->n_req_term++] = (int8_t)w;
	if (create) {
		iqp_add_u32(b->m, te, IQP_E_TERM_ID, IQP_CHOOSE);
		iqp_add_enum(b->m, te, IQP_E_TERM_KIND, IQP_TERM_W3);
		iqp_add_str(b->m, te, IQP_E_REALM_NAME, c->cfg.w3_realm);
		iqp_add_container(b->m, te, IQP_E_ICE, &ice);
		iqp_add_container(b->m, te, IQP_E_DTLS, &dtls);
	} else {
		iqp_add_u32(b->m, te, IQP_E_TERM_ID, t->term_id);
	}
	if (sl && w3_remaining(b, w) && !b->answer) {
		/* The browser's offer: transport at creation, ICE restart,
		 * new DTLS association (tls-id or fingerprint changed). */
		if (create || c->plan[tag].ice_restart) {
			if (!ice)
				iqp_add_container(b->m, te, IQP_E_ICE, &ice);
			if (!create)
				iqp_add_bool(b->m, ice, IQP_E_ICE_RESTART, true);
			add_remote_ice(b, ice, t, sl);
		}
		if (create || c->plan[tag].dtls_new) {
			if (!dtls)
				iqp_add_container(b->m, te, IQP_E_DTLS, &dtls);
			add_remote_dtls(b, dtls, t, sl);
		}
		if (create) {
			iqp_add_bool(b->m, te, IQP_E_RTCP_MUX, sl->rtcp_mux);
			iqp_add_bool(b->m, te, IQP_E_RTCP_RSIZE, sl->rtcp_rsize);
			t->rtcp_rsize = sl->rtcp_rsize;
		}
	} else if (sl && w3_remaining(b, w) && c->offerer == ALG_IMS) {
		/* The browser's answer to our offer: its transport the first
		 * time, the DTLS role while ACTPASS (8.9.2 item 2) or when it
		 * starts a new association. */
		if (!t->r_ufrag[0]) {
			iqp_add_container(b->m, te, IQP_E_ICE, &ice);
			add_remote_ice(b, ice, t, sl);
		}
		if (t->setup == IQP_SETUP_ACTPASS ||
		    (sl->tls_id && strcmp(sl->tls_id, t->r_tls_id))) {
			iqp_add_container(b->m, te, IQP_E_DTLS, &dtls);
			add_remote_dtls(b, dtls, t, sl);
		}
		iqp_add_bool(b->m, te, IQP_E_RTCP_MUX, sl->rtcp_mux);
		iqp_add_bool(b->m, te, IQP_E_RTCP_RSIZE, sl->rtcp_rsize);
		t->rtcp_rsize = sl->rtcp_rsize;
	} else if (create) {
		/* Our offer to the browser: the role is open (8.9.2 item 2);
		 * rtcp-mux and reduced-size RTCP are offered. */
		t->setup = IQP_SETUP_ACTPASS;
		iqp_add_enum(b->m, dtls, IQP_E_DTLS_SETUP, t->setup);
		iqp_add_bool(b->m, te, IQP_E_RTCP_MUX, true);
		iqp_add_bool(b->m, te, IQP_E_RTCP_RSIZE, true);
		t->rtcp_rsize = true;
	}
	if (t->bundle && w3_remaining(b, w) && bundle_changes(b, w, create))
		add_bundle(b, te, w);
	for (unsigned i = 0; i < c->cur.n_m; i++)
		if (c->cur.m[i].w3 == w &&
		    (line_active(b, i) || line_goes(b, i)))
			add_stream(b, te, i, ALG_W3);
	return te;
}

static struct iqp_elem *add_ims_term(struct bctx *b, struct iqp_elem *ctx,
				     bool create)
{
	struct alg_call *c = b->c;
	struct iqp_elem *te = NULL;

	if (iqp_add_container(b->m, ctx, IQP_E_TERMINATION, &te))
		return NULL;
	c->req_term[c->n_req_term++] = -1;
	if (create) {
		iqp_add_u32(b->m, te, IQP_E_TERM_ID, IQP_CHOOSE);
		iqp_add_enum(b->m, te, IQP_E_TERM_KIND, IQP_TERM_IMS);
		iqp_add_str(b->m, te, IQP_E_REALM_NAME, c->cfg.ims_realm);
	} else {
		iqp_add_u32(b->m, te, IQP_E_TERM_ID, c->cur.ims_term);
	}
	for (unsigned i = 0; i < c->cur.n_m; i++)
		if (c->cur.m[i].sid && (line_active(b, i) || line_goes(b, i)))
			add_stream(b, te, i, ALG_IMS);
	return te;
}

/* After the request: removed lines lose their stream (or park it). */
static void drop_removed(struct bctx *b)
{
	for (unsigned i = 0; i < b->c->cur.n_m; i++) {
		struct alg_line *l = &b->c->cur.m[i];

		if (!line_goes(b, i) || !l->sid)
			continue;
		if (!w3_remaining(b, l->w3)) {
			l->parked_sid = l->sid;
		} else {
			l->w3 = -1;
		}
		l->sid = 0;
	}
}

static int start(struct iqp_msg *req, void *arena, size_t cap, uint16_t code,
		 uint32_t context_id, struct iqp_elem **ctx)
{
	struct iqp_header h = { IQP_VERSION_MAJOR, IQP_KIND_REQUEST, 0, code,
				0, 0 };
	int e = iqp_msg_init(req, &h, arena, cap);

	if (e)
		return e;
	req->err = 0;
	iqp_add_container(req, NULL, IQP_E_CONTEXT, ctx);
	iqp_add_u32(req, *ctx, IQP_E_CONTEXT_ID, context_id);
	return req->err;
}

static int finish(struct bctx *b)
{
	int e = b->m->err;

	if (e) {
		iqp_msg_free(b->m);
		return e;
	}
	drop_removed(b);
	return 0;
}

int alg_build_offer_req(struct alg_call *c, struct iqp_msg *req, void *arena,
			size_t cap)
{
	struct bctx b = { c, req, false, false };
	struct iqp_elem *ctx = NULL;
	int e;

	c->n_req_term = 0;
	c->req_code = c->first ? IQP_MSG_RESERVE : IQP_MSG_MODIFY;
	e = start(req, arena, cap, c->req_code,
		  c->first ? IQP_CHOOSE : c->cur.context_id, &ctx);
	if (e) {
		iqp_msg_free(req);
		return e;
	}
	for (int w = 0; w < ALG_MAX_W3; w++)
		if (c->cur.w3[w].in_use)
			add_w3_term(&b, ctx, w);
	add_ims_term(&b, ctx, c->first);
	return finish(&b);
}

int alg_build_answer_req(struct alg_call *c, struct iqp_msg *req, void *arena,
			 size_t cap)
{
	struct bctx b = { c, req, true, false };
	struct iqp_elem *ctx = NULL;
	bool removes = false;
	int e;

	if (c->released) {
		c->req_code = IQP_MSG_RELEASE;
		return alg_build_release(c, req, arena, cap);
	}
	c->n_req_term = 0;
	for (unsigned i = 0; i < c->cur.n_m; i++)
		removes |= line_goes(&b, i);
	c->req_code = removes ? IQP_MSG_MODIFY : IQP_MSG_CONFIGURE;
	if ((e = start(req, arena, cap, c->req_code, c->cur.context_id,
		       &ctx))) {
		iqp_msg_free(req);
		return e;
	}
	for (int w = 0; w < ALG_MAX_W3; w++)
		if (c->cur.w3[w].in_use)
			add_w3_term(&b, ctx, w);
	add_ims_term(&b, ctx, false);
	return finish(&b);
}

/* Whether `applied` has a stream on line i that c->cur does not. */
static bool added_by_offer(const struct alg_call *c,
			   const struct alg_state *applied, unsigned i)
{
	return applied->m[i].sid &&
	       (i >= c->cur.n_m || c->cur.m[i].sid != applied->m[i].sid);
}

/* Streams the undone offer added go (REMOVE).  A re-offer never creates a
 * W3 termination (alg_offer.c: RESERVE and MODIFY cannot be one request),
 * so an added stream's termination exists in c->cur too and keeps its
 * earlier streams: the removal is never of its last stream (8.5 item 2). */
static void remove_added(struct bctx *b, struct iqp_elem *te,
			 const struct alg_state *applied, int w)
{
	for (unsigned i = 0; te && i < applied->n_m; i++) {
		struct iqp_elem *st = NULL;

		if ((w >= 0 && applied->m[i].w3 != w) ||
		    !added_by_offer(b->c, applied, i) ||
		    iqp_add_container(b->m, te, IQP_E_STREAM, &st))
			continue;
		iqp_add_u16(b->m, st, IQP_E_STREAM_ID, applied->m[i].sid);
		iqp_add_bool(b->m, st, IQP_E_REMOVE, true);
	}
}

int alg_build_revert_req(struct alg_call *c, const struct alg_state *applied,
			 struct iqp_msg *req, void *arena, size_t cap)
{
	struct bctx b = { c, req, true, true };
	struct iqp_elem *ctx = NULL;
	int e;

	c->n_req_term = 0;
	c->req_code = IQP_MSG_MODIFY;
	if ((e = start(req, arena, cap, IQP_MSG_MODIFY, c->cur.context_id,
		       &ctx))) {
		iqp_msg_free(req);
		return e;
	}
	for (int w = 0; w < ALG_MAX_W3; w++)
		if (c->cur.w3[w].in_use)
			remove_added(&b, add_w3_term(&b, ctx, w), applied, w);
	remove_added(&b, add_ims_term(&b, ctx, false), applied, -1);
	return finish(&b);
}

int alg_build_release(const struct alg_call *c, struct iqp_msg *req,
		      void *arena, size_t cap)
{
	struct iqp_elem *ctx = NULL;
	int e = start(req, arena, cap, IQP_MSG_RELEASE, c->cur.context_id,
		      &ctx);

	if (e)
		iqp_msg_free(req);
	return e;
}
