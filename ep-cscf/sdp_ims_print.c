/* SDP toward IMS (R28-R34): the AGW's IMS addresses in c= and m=, RTP/AVP
 * or RTP/AVPF, a=rtcp with the separate RTCP port (RFC 3605), codecs with
 * fmtp, the rtcp-fb the AGW keeps, ptime, maxptime and direction.  No
 * ICE, DTLS, BUNDLE, mid, rtcp-mux, rtcp-rsize, msid, ssrc, rid,
 * simulcast or extmap: those end at the AGW.  Lines the AGW does not
 * serve keep their place with port 0. */
#include "alg_int.h"

#include <errno.h>
#include <string.h>

#include "sdp_out.h"

void alg_print_codec(struct sdp_out *o, struct sdp_out_media *om,
		     const struct sdpm_codec *k, unsigned pt)
{
	sdp_out_codec(o, om, pt, k->name, k->rate, k->channels, k->fmtp);
	for (unsigned f = 0; f < k->n_fb; f++)
		if (alg_fb_kept(k->fb[f]))
			sdp_out_media_attr(o, om, "rtcp-fb", "%u %s", pt,
					   k->fb[f]);
}

/* A line not served, toward side `toward`: RTP media get that side's RTP
 * proto, anything else keeps its tokens; port 0 and the first format. */
void alg_print_rejected(struct sdp_out *o, const struct sdpm_media *m,
			enum alg_side toward, const struct alg_cfg *cfg,
			const char *mid)
{
	bool rtp = (m->media_type == IQP_MEDIA_AUDIO ||
		    m->media_type == IQP_MEDIA_VIDEO) &&
		   m->proto >= 1 && m->proto <= 6;
	const char *proto = m->proto_name;
	struct sdp_out_media *om;

	if (rtp)
		proto = toward == ALG_W3 ? "UDP/TLS/RTP/SAVPF" :
			cfg->ims_avpf ? "RTP/AVPF" : "RTP/AVP";
	om = sdp_out_media(o, m->media, 0, proto);
	sdp_out_fmt(o, om, m->fmt0 ? m->fmt0 : (rtp ? "0" : "*"));
	if (toward == ALG_W3) {
		/* SDP toward the browser has c= per m-line only; Firefox
		 * refuses an m-line without one, even at port 0. */
		static const struct iqp_ip any4 = { 4, { 0 } };

		sdp_out_media_conn(o, om, &any4);
		if (mid && *mid)
			sdp_out_media_attr(o, om, "mid", "%s", mid);
	}
}

unsigned alg_answered_pts(const struct alg_call *c, unsigned i,
			  const struct sdpm_codec **k, unsigned *pt,
			  unsigned max)
{
	const struct sdpm_media *om = &c->offer->media[i];
	unsigned n = alg_answer_codecs(c, i, k, max);

	for (unsigned j = 0; j < n; j++)
		pt[j] = alg_offer_codec(om, k[j])->pt;
	return n;
}

static const struct iqp_ip *first_addr(const struct alg_call *c,
				       bool answer)
{
	for (unsigned i = 0; i < c->cur.n_m; i++) {
		const struct alg_plan_line *p = &c->plan[i];

		if ((p->act == ALG_A_NEW || p->act == ALG_A_KEEP) &&
		    (!answer || p->answer_ok))
			return &c->cur.m[i].ims_local.ip;
	}
	return NULL;
}

/* m= and c= with the AGW's IMS address of line i, a=rtcp. */
static struct sdp_out_media *ims_line(struct sdp_out *o,
				      const struct alg_call *c, unsigned i,
				      const struct iqp_ip *sess,
				      const char *proto)
{
	const struct alg_line *l = &c->cur.m[i];
	struct sdp_out_media *om = sdp_out_media(o, c->offer->media[i].media,
						 l->ims_local.port, proto);
	char a[64];

	if (memcmp(&l->ims_local.ip, sess, sizeof(*sess)))
		sdp_out_media_conn(o, om, &l->ims_local.ip);
	if (!memcmp(&l->ims_local_rtcp.ip, &l->ims_local.ip,
		    sizeof(l->ims_local.ip)))
		sdp_out_media_attr(o, om, "rtcp", "%u", l->ims_local_rtcp.port);
	else
		sdp_out_media_attr(o, om, "rtcp", "%u IN %s",
				   l->ims_local_rtcp.port,
				   sdpm_ip_text(&l->ims_local_rtcp.ip, a,
						sizeof(a)));
	return om;
}

/* ptime, maxptime and the direction, as the other side gave them. */
static void line_tail(struct sdp_out *o, struct sdp_out_media *om,
		      const struct sdpm_media *src)
{
	if (src->ptime)
		sdp_out_media_attr(o, om, "ptime", "%u", src->ptime);
	if (src->maxptime)
		sdp_out_media_attr(o, om, "maxptime", "%u", src->maxptime);
	sdp_out_media_attr(o, om, sdpm_dir_name(src->dir), NULL);
}

static int finish(struct sdp_out *o, char *out, size_t cap, size_t *len)
{
	int e = sdp_out_print(o, out, cap, len);

	sdp_out_free(o);
	return e;
}

int sdp_ims_print_offer(struct alg_call *c, char *out, size_t cap,
			size_t *len)
{
	const struct iqp_ip *sess = first_addr(c, false);
	struct sdp_out *o;

	o = sdp_out_new(alg_o_id(c, ALG_IMS), ++c->cur.o_ver[ALG_IMS], sess,
			c->cfg.session_name);
	if (!o)
		return ENOMEM;
	sdp_out_conn(o, sess);
	for (unsigned i = 0; i < c->offer->n_media; i++) {
		const struct sdpm_media *m = &c->offer->media[i];
		const struct alg_plan_line *p = &c->plan[i];
		struct sdp_out_media *om;

		if (p->act != ALG_A_NEW && p->act != ALG_A_KEEP) {
			alg_print_rejected(o, m, ALG_IMS, &c->cfg, NULL);
			continue;
		}
		om = ims_line(o, c, i, sess,
			      sdpm_proto_name(c->cur.m[i].ims_proto));
		for (unsigned k = 0; k < m->n_codecs; k++)
			if (alg_codec_usable(&m->codecs[k]))
				alg_print_codec(o, om, &m->codecs[k],
						m->codecs[k].pt);
		line_tail(o, om, m);
	}
	return finish(o, out, cap, len);
}

int sdp_ims_print_answer(struct alg_call *c, char *out, size_t cap,
			 size_t *len)
{
	const struct iqp_ip *sess = first_addr(c, true);
	static const struct iqp_ip none = { 4, { 0 } };
	struct sdp_out *o;

	o = sdp_out_new(alg_o_id(c, ALG_IMS), ++c->cur.o_ver[ALG_IMS],
			sess ? sess : &none, c->cfg.session_name);
	if (!o)
		return ENOMEM;
	sdp_out_conn(o, sess ? sess : &none);
	for (unsigned i = 0; i < c->offer->n_media; i++) {
		const struct sdpm_media *m = &c->offer->media[i];
		const struct alg_plan_line *p = &c->plan[i];
		const struct sdpm_codec *k[SDPM_MAX_CODECS];
		unsigned pt[SDPM_MAX_CODECS], n;
		struct sdp_out_media *om;

		if ((p->act != ALG_A_NEW && p->act != ALG_A_KEEP) ||
		    !p->answer_ok || c->released) {
			alg_print_rejected(o, m, ALG_IMS, &c->cfg, NULL);
			continue;
		}
		om = ims_line(o, c, i, sess, m->proto_name);
		n = alg_answered_pts(c, i, k, pt, SDPM_MAX_CODECS);
		for (unsigned j = 0; j < n; j++)
			alg_print_codec(o, om, k[j], pt[j]);
		line_tail(o, om, &c->answer->media[i]);
	}
	return finish(o, out, cap, len);
}
