/* SDP toward the browser (R36-R39, B.2-B.4): UDP/TLS/RTP/SAVPF with the
 * AGW's ICE credentials and candidates (a=ice-lite when it runs lite),
 * its fingerprints, tls-id and DTLS role (actpass in offers, active or
 * passive in answers, never actpass), a=rtcp-mux always, a=rtcp-rsize,
 * a=mid on every line, a=group:BUNDLE when one transport carries the
 * lines.  The default address (c=, m= port) is the AGW's first UDP
 * candidate, IPv4 first. */
#include "alg_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdp_out.h"

static const char *const cand_types[] = { "host", "host", "srflx", "prflx",
					  "relay" };
static const char *const tcp_types[] = { "", "active", "passive", "so" };

static const struct alg_lcand *default_cand(const struct alg_w3 *t)
{
	const struct alg_lcand *best = NULL;

	for (unsigned k = 0; k < t->n_cands; k++) {
		const struct alg_lcand *lc = &t->cands[k];

		if (lc->transport != IQP_CAND_UDP)
			continue;
		if (!best || (lc->addr.ip.family == 4 &&
			      best->addr.ip.family != 4))
			best = lc;
	}
	return best ? best : t->n_cands ? &t->cands[0] : NULL;
}

static void fp_text(const struct sdpm_fp *fp, char *buf)
{
	for (unsigned k = 0; k < fp->len; k++)
		sprintf(buf + 3 * k, "%02X%s", fp->value[k],
			k + 1 < fp->len ? ":" : "");
}

/* The transport of W3 termination t on one m-line. */
static struct sdp_out_media *w3_line(struct sdp_out *o,
				     const struct alg_w3 *t,
				     const char *media, const char *mid,
				     const char *setup)
{
	const struct alg_lcand *dc = default_cand(t);
	struct sdp_out_media *om = sdp_out_media(o, media,
						 dc ? dc->addr.port : 9,
						 "UDP/TLS/RTP/SAVPF");
	static const struct iqp_ip any4 = { 4, { 0 } };
	char buf[3 * 64 + 1], a[64];

	sdp_out_media_conn(o, om, dc ? &dc->addr.ip : &any4);
	sdp_out_media_attr(o, om, "ice-ufrag", "%s", t->ufrag);
	sdp_out_media_attr(o, om, "ice-pwd", "%s", t->pwd);
	for (unsigned f = 0; f < t->n_fps; f++) {
		fp_text(&t->fps[f], buf);
		sdp_out_media_attr(o, om, "fingerprint", "%s %s",
				   sdpm_hash_name(t->fps[f].hash), buf);
	}
	sdp_out_media_attr(o, om, "setup", "%s", setup);
	if (t->tls_id[0])
		sdp_out_media_attr(o, om, "tls-id", "%s", t->tls_id);
	if (mid && *mid)
		sdp_out_media_attr(o, om, "mid", "%s", mid);
	sdp_out_media_attr(o, om, "rtcp-mux", NULL);
	if (t->rtcp_rsize)
		sdp_out_media_attr(o, om, "rtcp-rsize", NULL);
	for (unsigned k = 0; k < t->n_cands; k++) {
		const struct alg_lcand *lc = &t->cands[k];

		sdpm_ip_text(&lc->addr.ip, a, sizeof(a));
		sdp_out_media_attr(o, om, "candidate",
				   "%s %u %s %u %s %u typ %s%s%s",
				   lc->foundation, lc->component,
				   lc->transport == IQP_CAND_TCP ? "tcp" :
				   "udp", lc->priority, a + 4, lc->addr.port,
				   cand_types[lc->type <= 4 ? lc->type : 0],
				   lc->tcptype ? " tcptype " : "",
				   tcp_types[lc->tcptype & 3]);
	}
	sdp_out_media_attr(o, om, "end-of-candidates", NULL);
	return om;
}

static void session_attrs(struct sdp_out *o, const struct alg_call *c,
			  bool answer)
{
	bool lite = false;
	char group[ALG_MAX_M * 34 + 8];
	size_t gl = 0;

	for (int w = 0; w < ALG_MAX_W3; w++)
		lite |= c->cur.w3[w].in_use && c->cur.w3[w].ice_lite;
	if (lite)
		sdp_out_attr(o, "ice-lite", NULL);
	for (unsigned i = 0; i < c->cur.n_m; i++) {
		const struct alg_plan_line *p = &c->plan[i];
		const struct alg_line *l = &c->cur.m[i];

		if ((p->act != ALG_A_NEW && p->act != ALG_A_KEEP) ||
		    (answer && !p->answer_ok) || l->w3 < 0 ||
		    !c->cur.w3[l->w3].bundle || !l->mid[0])
			continue;
		gl += (size_t)snprintf(group + gl, sizeof(group) - gl, " %s",
				       l->mid);
	}
	if (gl)
		sdp_out_attr(o, "group", "BUNDLE%s", group);
}

static void tail(struct sdp_out *o, struct sdp_out_media *om,
		 const struct sdpm_media *src, bool ims)
{
	uint8_t dir = src->dir;

	if (ims && src->conn_unspec)
		dir &= (uint8_t)~SDPM_RECV;
	if (src->ptime)
		sdp_out_media_attr(o, om, "ptime", "%u", src->ptime);
	if (src->maxptime)
		sdp_out_media_attr(o, om, "maxptime", "%u", src->maxptime);
	sdp_out_media_attr(o, om, sdpm_dir_name(dir), NULL);
}

static int finish(struct sdp_out *o, char *out, size_t cap, size_t *len)
{
	int e = sdp_out_print(o, out, cap, len);

	sdp_out_free(o);
	return e;
}

int sdp_w3_print_offer(struct alg_call *c, char *out, size_t cap,
		       size_t *len)
{
	struct sdp_out *o = sdp_out_new(alg_o_id(c, ALG_W3),
					++c->cur.o_ver[ALG_W3], NULL,
					c->cfg.session_name);
	char mid[16];

	if (!o)
		return ENOMEM;
	session_attrs(o, c, false);
	for (unsigned i = 0; i < c->offer->n_media; i++) {
		const struct sdpm_media *m = &c->offer->media[i];
		const struct alg_plan_line *p = &c->plan[i];
		const struct alg_line *l = &c->cur.m[i];
		struct sdp_out_media *om;

		if (p->act != ALG_A_NEW && p->act != ALG_A_KEEP) {
			snprintf(mid, sizeof(mid), "%u", i);
			alg_print_rejected(o, m, ALG_W3, &c->cfg,
					   l->mid[0] ? l->mid : mid);
			continue;
		}
		om = w3_line(o, &c->cur.w3[l->w3], m->media, l->mid,
			     "actpass");
		for (unsigned k = 0; k < m->n_codecs; k++)
			if (alg_codec_usable(&m->codecs[k]))
				alg_print_codec(o, om, &m->codecs[k],
						m->codecs[k].pt);
		tail(o, om, m, true);
	}
	return finish(o, out, cap, len);
}

int sdp_w3_print_answer(struct alg_call *c, char *out, size_t cap,
			size_t *len)
{
	struct sdp_out *o = sdp_out_new(alg_o_id(c, ALG_W3),
					++c->cur.o_ver[ALG_W3], NULL,
					c->cfg.session_name);

	if (!o)
		return ENOMEM;
	if (!c->released)
		session_attrs(o, c, true);
	for (unsigned i = 0; i < c->offer->n_media; i++) {
		const struct sdpm_media *m = &c->offer->media[i];
		const struct alg_plan_line *p = &c->plan[i];
		const struct alg_line *l = &c->cur.m[i];
		const struct sdpm_codec *k[SDPM_MAX_CODECS];
		unsigned pt[SDPM_MAX_CODECS], n;
		const struct alg_w3 *t;
		struct sdp_out_media *om;

		if ((p->act != ALG_A_NEW && p->act != ALG_A_KEEP) ||
		    !p->answer_ok || c->released || l->w3 < 0) {
			alg_print_rejected(o, m, ALG_W3, &c->cfg, m->mid);
			continue;
		}
		t = &c->cur.w3[l->w3];
		om = w3_line(o, t, m->media, m->mid,
			     t->setup == IQP_SETUP_ACTIVE ? "active" :
			     "passive");
		n = alg_answered_pts(c, i, k, pt, SDPM_MAX_CODECS);
		for (unsigned j = 0; j < n; j++)
			alg_print_codec(o, om, k[j], pt[j]);
		tail(o, om, &c->answer->media[i], true);
	}
	return finish(o, out, cap, len);
}
