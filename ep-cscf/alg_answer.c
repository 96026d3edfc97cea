/* An answer against the outstanding offer's plan (alg_int.h): which of
 * the lines the AGW serves the answerer accepted.  A line is refused when
 * the answer gives it port 0, another media type or transport, no codec
 * that was offered, or (IMS) no address; on W3, when the browser did not
 * accept a BUNDLE group that carries several streams, every line but the
 * BUNDLE-tag is refused (one transport cannot serve several). */
#include "alg_int.h"

#include <errno.h>
#include <string.h>

static const char *refused(const struct alg_call *c, unsigned i)
{
	const struct sdpm_media *o = &c->offer->media[i];
	const struct sdpm_media *a = &c->answer->media[i];
	const struct sdpm_codec *k[1];

	if (!a->port)
		return "port 0";
	if (a->media_type != o->media_type)
		return "other media type";
	if (c->offerer == ALG_IMS ? a->proto != 6 :
	    (a->proto != 1 && a->proto != 2))
		return "other transport";
	if (!alg_answer_codecs(c, i, k, 1))
		return "no offered codec";
	if (c->offerer == ALG_W3 && !a->has_conn)
		return "no IP address in c=";
	return NULL;
}

/* W3 answer: the transport of each W3 termination comes from its tag
 * line in the answer. */
static int w3_answer_transport(struct alg_call *c, struct alg_error *err)
{
	const struct sdpm_session *a = c->answer;

	for (int w = 0; w < ALG_MAX_W3; w++) {
		const struct alg_w3 *t = &c->cur.w3[w];
		const struct sdpm_media *m;
		int first = -1, tag;

		if (!t->in_use)
			continue;
		for (unsigned i = 0; i < c->cur.n_m; i++)
			if (c->cur.m[i].w3 == w && c->plan[i].answer_ok &&
			    first < 0)
				first = (int)i;
		if (first < 0)
			continue;
		tag = alg_w3_tag_line(c, a, w);
		if (tag < 0 || !c->plan[tag].answer_ok)
			tag = first;
		m = &a->media[tag];
		if (!m->ice_ufrag || !m->ice_pwd || !m->n_fps ||
		    m->setup == SDPM_SETUP_HOLDCONN) {
			alg_err(err, 488, "answer m-line %d without ICE or "
				"DTLS parameters", tag);
			return EPROTO;
		}
		if (t->r_ufrag[0] && (strcmp(t->r_ufrag, m->ice_ufrag) ||
				      strcmp(t->r_pwd, m->ice_pwd))) {
			alg_err(err, 488, "ICE restart in an answer");
			return EPROTO;
		}
		for (unsigned i = 0; i < c->cur.n_m; i++) {
			struct alg_plan_line *p = &c->plan[i];

			if (c->cur.m[i].w3 != w)
				continue;
			p->tag = (int)i == tag;
			if (!p->answer_ok || p->tag)
				continue;
			/* Several streams on one transport need the group. */
			if (!a->has_bundle || !sdp_model_in_bundle(a, i) ||
			    !sdp_model_in_bundle(a, (unsigned)tag)) {
				p->answer_ok = false;
				p->why = "BUNDLE not accepted";
			}
		}
	}
	return 0;
}

int alg_answer_plan(struct alg_call *c, struct alg_error *err)
{
	const struct sdpm_session *a = c->answer;
	unsigned ok = 0;
	int e;

	if (a->n_media != c->offer->n_media) {
		alg_err(err, 400, "answer with %u m-lines to an offer of %u",
			a->n_media, c->offer->n_media);
		return EPROTO;
	}
	for (unsigned i = 0; i < a->n_media; i++) {
		struct alg_plan_line *p = &c->plan[i];

		p->answer_ok = false;
		if (p->act != ALG_A_NEW && p->act != ALG_A_KEEP)
			continue;
		if ((p->why = refused(c, i)) == NULL)
			p->answer_ok = true;
	}
	if (c->offerer == ALG_IMS && (e = w3_answer_transport(c, err)))
		return e;
	for (unsigned i = 0; i < a->n_media; i++)
		ok += c->plan[i].answer_ok;
	c->released = ok == 0;
	return 0;
}
