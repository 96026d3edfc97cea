/* The IMS-ALG's call state machine (ims_alg.h): one offer/answer exchange
 * at a time, in four steps, each a pure function of the call state and
 * its input.
 *
 *   IDLE --offer_in--> OFFER_REQ --offer_out--> OFFER_OUT
 *        --answer_in--> ANSWER_REQ --answer_out--> IDLE
 *
 * alg_offer_in saves the state; alg_offer_abandon restores it (keeping
 * the context the AGW may have created, so that it can be released). */
#include "alg_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int alg_call_new(struct alg_call **out, const struct alg_cfg *cfg)
{
	struct alg_call *c = calloc(1, sizeof(*c));

	if (!c)
		return ENOMEM;
	snprintf(c->w3_realm, sizeof(c->w3_realm), "%s",
		 cfg->w3_realm ? cfg->w3_realm : "w3");
	snprintf(c->ims_realm, sizeof(c->ims_realm), "%s",
		 cfg->ims_realm ? cfg->ims_realm : "ims");
	snprintf(c->session_name, sizeof(c->session_name), "%s",
		 cfg->session_name && *cfg->session_name ?
		 cfg->session_name : "-");
	c->cfg = *cfg;
	c->cfg.w3_realm = c->w3_realm;
	c->cfg.ims_realm = c->ims_realm;
	c->cfg.session_name = c->session_name;
	c->cur.next_sid = 1;
	for (unsigned i = 0; i < ALG_MAX_M; i++)
		c->cur.m[i].w3 = -1;
	*out = c;
	return 0;
}

static void drop_exchange(struct alg_call *c)
{
	sdp_model_free(c->offer);
	sdp_model_free(c->answer);
	c->offer = c->answer = NULL;
	c->phase = ALG_P_IDLE;
	c->released = false;
}

/* The exchange completed: it becomes the one a refused re-offer is
 * undone from. */
static void keep_established(struct alg_call *c)
{
	sdp_model_free(c->est_offer);
	sdp_model_free(c->est_answer);
	c->est_offer = c->offer;
	c->est_answer = c->answer;
	c->est_offerer = c->offerer;
	memcpy(c->est_plan, c->plan, sizeof(c->plan));
	c->offer = c->answer = NULL;
}

void alg_call_free(struct alg_call *c)
{
	if (!c)
		return;
	drop_exchange(c);
	sdp_model_free(c->est_offer);
	sdp_model_free(c->est_answer);
	free(c);
}

uint32_t alg_context_id(const struct alg_call *c)
{
	return c->cur.context_id;
}

static int parse(const char *sdp, size_t len, struct sdpm_session **out,
		 struct alg_error *err)
{
	char why[96];
	int e;

	if (!sdp) {
		alg_err(err, 400, "no SDP");
		return EINVAL;
	}
	e = sdp_model_parse(sdp, len, out, why, sizeof(why));
	if (e == ENOMEM)
		alg_err(err, 500, "out of memory");
	else if (e == E2BIG)
		alg_err(err, 488, "%s", why);
	else if (e)
		alg_err(err, 400, "%s", why);
	return e;
}

static int wrong_phase(struct alg_error *err, unsigned status)
{
	alg_err(err, status, status == 491 ? "an offer is outstanding" :
		"no exchange expects this step");
	return EALREADY;
}

int alg_offer_in(struct alg_call *c, enum alg_side from, const char *sdp,
		 size_t len, struct iqp_msg *req, void *arena, size_t cap,
		 struct alg_error *err)
{
	int e;

	if (c->phase != ALG_P_IDLE)
		return wrong_phase(err, 491);
	if (from != ALG_W3 && from != ALG_IMS) {
		alg_err(err, 500, "bad side");
		return EINVAL;
	}
	if ((e = parse(sdp, len, &c->offer, err)))
		return e;
	c->saved = c->cur;
	c->offerer = from;
	c->first = c->cur.ims_term == 0;
	if (c->first) {
		/* A first offer after an abandoned one starts afresh. */
		uint16_t sid = c->cur.next_sid;

		memset(&c->cur, 0, sizeof(c->cur));
		c->cur.next_sid = sid;
		memcpy(c->cur.o_id, c->saved.o_id, sizeof(c->cur.o_id));
		memcpy(c->cur.o_ver, c->saved.o_ver, sizeof(c->cur.o_ver));
		for (unsigned i = 0; i < ALG_MAX_M; i++)
			c->cur.m[i].w3 = -1;
	}
	if ((e = alg_offer_plan(c, err)) ||
	    (e = alg_build_offer_req(c, req, arena, cap))) {
		if (e == ENOMEM)
			alg_err(err, 500, "Iq+ request does not fit");
		else if (e != EPROTO)
			alg_err(err, 500, "Iq+ request not built (%s)",
				strerror(e));
		c->cur = c->saved;
		drop_exchange(c);
		return e;
	}
	c->phase = ALG_P_OFFER_REQ;
	return 0;
}

static int print_result(int e, struct alg_error *err)
{
	if (e == ENOSPC)
		alg_err(err, 500, "SDP does not fit the buffer");
	else if (e)
		alg_err(err, 500, "SDP not printed (%s)", strerror(e));
	return e;
}

int alg_offer_out(struct alg_call *c, const struct iqp_msg *reply, char *out,
		  size_t cap, size_t *len, struct alg_error *err)
{
	struct alg_state before;
	int e;

	if (c->phase != ALG_P_OFFER_REQ)
		return wrong_phase(err, 500);
	before = c->cur;
	if ((e = alg_reply_offer(c, reply, err))) {
		/* Keep only the context id, to release what was reserved. */
		uint32_t ctx = c->cur.context_id;

		c->cur = before;
		c->cur.context_id = c->first ? ctx : before.context_id;
		return e;
	}
	alg_o_id(c, ALG_W3); /* both sides' o= ids from the context id */
	alg_o_id(c, ALG_IMS);
	e = c->offerer == ALG_W3 ? sdp_ims_print_offer(c, out, cap, len) :
		sdp_w3_print_offer(c, out, cap, len);
	if (e) {
		c->cur.o_ver[c->offerer == ALG_W3 ? ALG_IMS : ALG_W3]--;
		return print_result(e, err);
	}
	c->phase = ALG_P_OFFER_OUT;
	return 0;
}

int alg_answer_in(struct alg_call *c, const char *sdp, size_t len,
		  struct iqp_msg *req, void *arena, size_t cap,
		  struct alg_error *err)
{
	struct alg_state before;
	int e;

	if (c->phase != ALG_P_OFFER_OUT)
		return wrong_phase(err, 500);
	if ((e = parse(sdp, len, &c->answer, err)))
		return e;
	before = c->cur;
	if ((e = alg_answer_plan(c, err)) ||
	    (e = alg_build_answer_req(c, req, arena, cap))) {
		if (e != EPROTO)
			alg_err(err, 500, "Iq+ request not built (%s)",
				strerror(e));
		c->cur = before;
		c->released = false;
		sdp_model_free(c->answer);
		c->answer = NULL;
		return e;
	}
	c->phase = ALG_P_ANSWER_REQ;
	return 0;
}

int alg_answer_out(struct alg_call *c, const struct iqp_msg *reply, char *out,
		   size_t cap, size_t *len, struct alg_error *err)
{
	struct alg_state before;
	int e;

	if (c->phase != ALG_P_ANSWER_REQ)
		return wrong_phase(err, 500);
	before = c->cur;
	if ((e = alg_reply_answer(c, reply, err))) {
		c->cur = before;
		return e;
	}
	e = c->offerer == ALG_W3 ? sdp_w3_print_answer(c, out, cap, len) :
		sdp_ims_print_answer(c, out, cap, len);
	if (e) {
		c->cur = before;
		return print_result(e, err);
	}
	keep_established(c);
	drop_exchange(c);
	return 0;
}

void alg_offer_abandon(struct alg_call *c)
{
	uint32_t ctx = c->cur.context_id;

	if (c->phase == ALG_P_IDLE)
		return;
	c->cur = c->saved;
	if (c->first)
		c->cur.context_id = ctx;
	drop_exchange(c);
}

int alg_offer_revert(struct alg_call *c, struct iqp_msg *req, void *arena,
		     size_t cap)
{
	struct alg_state applied;
	struct sdpm_session *offer, *answer;
	enum alg_side offerer;
	int e;

	if (c->phase != ALG_P_OFFER_OUT || c->first || !c->est_offer ||
	    !c->est_answer || !c->saved.context_id ||
	    c->est_offer->n_media != c->saved.n_m) {
		alg_offer_abandon(c);
		return ENOENT;
	}
	applied = c->cur;
	c->cur = c->saved;
	/* Neither a STREAM_ID the AGW has seen nor an o= version a peer has
	 * seen is given out again. */
	if (applied.next_sid > c->cur.next_sid)
		c->cur.next_sid = applied.next_sid;
	memcpy(c->cur.o_ver, applied.o_ver, sizeof(c->cur.o_ver));
	for (unsigned i = 0; i < c->saved.n_m; i++) {
		struct alg_line *l = &c->cur.m[i];

		if (c->plan[i].act != ALG_A_REMOVE || applied.m[i].sid)
			continue;
		/* Removed on the AGW by the offer's MODIFY: gone for good. */
		l->sid = 0;
		l->w3 = applied.m[i].w3;
		l->parked_sid = applied.m[i].parked_sid;
		if (!l->parked_sid)
			l->w3 = -1;
	}
	offer = c->offer;
	answer = c->answer;
	offerer = c->offerer;
	c->offer = c->est_offer;
	c->answer = c->est_answer;
	c->offerer = c->est_offerer;
	memcpy(c->plan, c->est_plan, sizeof(c->plan));
	e = alg_build_revert_req(c, &applied, req, arena, cap);
	c->offer = offer;
	c->answer = answer;
	c->offerer = offerer;
	drop_exchange(c);
	return e;
}

int alg_release(struct alg_call *c, struct iqp_msg *req, void *arena,
		size_t cap)
{
	if (!c->cur.context_id)
		return ENOENT;
	return alg_build_release(c, req, arena, cap);
}
