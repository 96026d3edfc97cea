/* An offer's plan (alg_int.h): which m-lines the AGW serves, on which W3
 * termination, what each line does to the AGW's streams; and the rules
 * shared with the answer (codecs kept, rtcp-fb kept, stream modes). */
#include "alg_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void alg_err(struct alg_error *err, unsigned status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->sip_status = status;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	/* The text may quote the peer's SDP and ends up in a Warning
	 * header's quoted string: printable ASCII only, no quote or
	 * backslash. */
	for (char *t = err->text; *t; t++)
		if (*t < 0x20 || *t > 0x7e || *t == '"' || *t == '\\')
			*t = '?';
}

/* Payload formats the AGW terminates rather than relays (R34): RTX, RED
 * and FEC are browser-leg repair formats; they are not offered on. */
bool alg_codec_usable(const struct sdpm_codec *k)
{
	static const char *const drop[] = { "rtx", "red", "ulpfec",
					    "flexfec", "flexfec-03" };

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (!strcasecmp(k->name, drop[i]))
			return false;
	return true;
}

/* RTCP feedback offered on to the other leg: "nack pli" and "ccm fir"
 * (the AGW relays RTCP per sender SSRC and passes PLI/FIR, 8.9.3);
 * transport-cc and goog-remb stay on the browser leg. */
bool alg_fb_kept(const char *fb)
{
	return !strcasecmp(fb, "nack pli") || !strcasecmp(fb, "ccm fir");
}

uint64_t alg_o_id(struct alg_call *c, enum alg_side side)
{
	if (!c->cur.o_id[side])
		c->cur.o_id[side] = c->cur.context_id;
	return c->cur.o_id[side];
}

const struct sdpm_session *alg_w3_sdp(const struct alg_call *c)
{
	return c->offerer == ALG_W3 ? c->offer : c->answer;
}

const struct sdpm_session *alg_ims_sdp(const struct alg_call *c)
{
	return c->offerer == ALG_IMS ? c->offer : c->answer;
}

/* What every WebRTC browser decodes (RFC 7874 5: Opus and G.711; RFC
 * 7742 5: VP8 and H.264) and what Chromium and Firefox add (G.722, VP9,
 * AV1).  Without transcoding in the AGW, an IMS offer with none of these
 * on a line cannot reach a browser. */
static bool webrtc_codec(const struct sdpm_codec *k, unsigned media_type)
{
	static const char *const audio[] = { "opus", "PCMU", "PCMA", "G722" };
	static const char *const video[] = { "VP8", "VP9", "H264", "AV1" };
	const char *const *set = media_type == IQP_MEDIA_VIDEO ? video : audio;

	for (size_t i = 0; i < 4; i++)
		if (!strcasecmp(k->name, set[i]))
			return true;
	return false;
}

static unsigned webrtc_codecs(const struct sdpm_media *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->n_codecs; i++)
		n += webrtc_codec(&m->codecs[i], m->media_type);
	return n;
}

static unsigned usable_codecs(const struct sdpm_media *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->n_codecs; i++)
		n += alg_codec_usable(&m->codecs[i]);
	return n;
}

const struct sdpm_codec *alg_offer_codec(const struct sdpm_media *o,
				       const struct sdpm_codec *ak)
{
	const struct sdpm_codec *first = NULL;

	for (unsigned j = 0; j < o->n_codecs; j++) {
		const struct sdpm_codec *k = &o->codecs[j];

		if (!alg_codec_usable(k) || !sdpm_codec_same(ak, k))
			continue;
		if (k->pt == ak->pt)
			return k;
		if (!first)
			first = k;
	}
	return first;
}

unsigned alg_answer_codecs(const struct alg_call *c, unsigned i,
			   const struct sdpm_codec **out, unsigned max)
{
	const struct sdpm_media *o = &c->offer->media[i];
	const struct sdpm_media *a = &c->answer->media[i];
	unsigned n = 0;

	for (unsigned k = 0; k < a->n_codecs && n < max; k++) {
		if (alg_codec_usable(&a->codecs[k]) &&
		    alg_offer_codec(o, &a->codecs[k]))
			out[n++] = &a->codecs[k];
	}
	return n;
}

/* The direction an SDP line gives, with RFC 2543 hold (c=0.0.0.0) on the
 * IMS side read as "does not receive". */
static uint8_t line_dir(const struct sdpm_media *m, bool ims)
{
	uint8_t d = m->dir;

	if (ims && m->conn_unspec)
		d &= (uint8_t)~SDPM_RECV;
	return d;
}

uint8_t alg_mode(const struct alg_call *c, unsigned i, enum alg_side term,
		 bool with_answer)
{
	uint8_t od = line_dir(&c->offer->media[i], c->offerer == ALG_IMS);
	uint8_t ad = with_answer ?
		line_dir(&c->answer->media[i], c->offerer == ALG_W3) :
		SDPM_SENDRECV;
	bool o2a = (od & SDPM_SEND) && (ad & SDPM_RECV);
	bool a2o = (od & SDPM_RECV) && (ad & SDPM_SEND);
	/* The AGW receives from / sends to this termination's peer. */
	bool rx = term == c->offerer ? o2a : a2o;
	bool tx = term == c->offerer ? a2o : o2a;

	return rx && tx ? 1 : tx ? 2 : rx ? 3 : 4; /* STREAM_MODE enum */
}

int alg_w3_tag_line(const struct alg_call *c, const struct sdpm_session *s,
		    int w)
{
	/* BUNDLE: the first line of the group on this termination that has
	 * ICE credentials (RFC 8843: the offerer's BUNDLE-tag when usable). */
	for (unsigned k = 0; k < s->n_bundle; k++) {
		int i = sdp_model_find_mid(s, s->bundle[k]);

		if (i >= 0 && (unsigned)i < c->cur.n_m &&
		    c->cur.m[i].w3 == w && c->cur.m[i].sid &&
		    s->media[i].ice_ufrag && s->media[i].ice_pwd &&
		    s->media[i].port)
			return i;
	}
	for (unsigned i = 0; i < s->n_media && i < c->cur.n_m; i++)
		if (c->cur.m[i].w3 == w && c->cur.m[i].sid &&
		    s->media[i].ice_ufrag && s->media[i].ice_pwd)
			return (int)i;
	return -1;
}

/* Why the offerer's line i cannot be served, or NULL. */
static const char *unservable(const struct alg_call *c, unsigned i)
{
	const struct sdpm_session *s = c->offer;
	const struct sdpm_media *m = &s->media[i];

	if (c->offerer == ALG_W3) {
		if (!m->port && !(m->bundle_only && c->cfg.bundle &&
				  sdp_model_in_bundle(s, i)))
			return "port 0";
		if (m->media_type != IQP_MEDIA_AUDIO &&
		    m->media_type != IQP_MEDIA_VIDEO)
			return "media the AGW does not serve";
		if (m->proto != 6)
			return "transport the AGW does not serve";
	} else {
		if (!m->port)
			return "port 0";
		if (m->media_type != IQP_MEDIA_AUDIO &&
		    m->media_type != IQP_MEDIA_VIDEO)
			return "media the AGW does not serve";
		if (m->proto != 1 && m->proto != 2)
			return "transport the AGW does not serve";
		if (!m->has_conn)
			return "no IP address in c=";
	}
	if (!usable_codecs(m))
		return "no usable codec";
	if (c->offerer == ALG_IMS && !webrtc_codecs(m))
		return "no codec a browser can decode";
	return NULL;
}

static bool has_transport(const struct sdpm_media *m)
{
	return m->ice_ufrag && m->ice_pwd && m->n_fps &&
	       m->setup != SDPM_SETUP_HOLDCONN;
}

static int free_w3(const struct alg_state *st)
{
	for (int k = 0; k < ALG_MAX_W3; k++)
		if (!st->w3[k].in_use)
			return k;
	return -1;
}

static int bundled_w3(const struct alg_state *st)
{
	for (int k = 0; k < ALG_MAX_W3; k++)
		if (st->w3[k].in_use && st->w3[k].bundle)
			return k;
	return -1;
}

/* A W3 termination for new line i; -1 with p->why when none can be had. */
static int w3_for_new_line(struct alg_call *c, unsigned i, int *bundle_term)
{
	struct alg_state *st = &c->cur;
	const struct sdpm_session *s = c->offer;
	struct alg_plan_line *p = &c->plan[i];
	bool bundle = c->cfg.bundle &&
		(c->offerer == ALG_IMS || sdp_model_in_bundle(s, i));
	int k;

	if (bundle && *bundle_term >= 0)
		return *bundle_term;
	if (!c->first) {
		/* A new termination needs RESERVE, the IMS stream MODIFY: one
		 * request cannot do both. */
		p->why = "a new m-line outside BUNDLE needs a new transport";
		return -1;
	}
	if (c->offerer == ALG_W3 && !bundle && !has_transport(&s->media[i])) {
		p->why = "no ICE or DTLS parameters";
		return -1;
	}
	if ((k = free_w3(st)) < 0) {
		p->why = "too many transports";
		return -1;
	}
	st->w3[k].in_use = true;
	st->w3[k].bundle = bundle;
	p->w3_new_term = true;
	if (bundle)
		*bundle_term = k;
	return k;
}

/* Browser re-offer or first offer: ICE restart and new DTLS association
 * per W3 termination, from its tag line. */
static void w3_transport_changes(struct alg_call *c)
{
	for (int w = 0; w < ALG_MAX_W3; w++) {
		struct alg_w3 *t = &c->cur.w3[w];
		int i;
		const struct sdpm_media *m;

		if (!t->in_use || (i = alg_w3_tag_line(c, c->offer, w)) < 0)
			continue;
		m = &c->offer->media[i];
		c->plan[i].tag = true;
		if (c->plan[i].w3_new_term)
			continue;
		if (strcmp(m->ice_ufrag, t->r_ufrag) ||
		    strcmp(m->ice_pwd, t->r_pwd))
			c->plan[i].ice_restart = true;
		if (m->tls_id ? strcmp(m->tls_id, t->r_tls_id) :
		    (m->n_fps && (m->fps[0].len != t->r_fp_len ||
				  memcmp(m->fps[0].value, t->r_fp,
					 t->r_fp_len))))
			c->plan[i].dtls_new = true;
	}
}

int alg_offer_plan(struct alg_call *c, struct alg_error *err)
{
	const struct sdpm_session *s = c->offer;
	struct alg_state *st = &c->cur;
	int bundle_term = bundled_w3(st);
	unsigned served = 0;
	const char *why0 = NULL;

	if (!s->n_media) {
		alg_err(err, 488, "offer without m-lines");
		return EPROTO;
	}
	if (s->n_media < st->n_m) {
		alg_err(err, 488, "re-offer with %u m-lines, %u before",
			s->n_media, st->n_m);
		return EPROTO;
	}
	memset(c->plan, 0, sizeof(c->plan));
	for (unsigned i = st->n_m; i < s->n_media; i++) {
		memset(&st->m[i], 0, sizeof(st->m[i]));
		st->m[i].w3 = -1;
	}
	st->n_m = s->n_media;
	for (unsigned i = 0; i < s->n_media; i++) {
		const struct sdpm_media *m = &s->media[i];
		struct alg_plan_line *p = &c->plan[i];
		struct alg_line *l = &st->m[i];
		int w;

		p->why = unservable(c, i);
		if (l->sid) {
			if (!p->why && m->media_type != l->media_type) {
				alg_err(err, 488,
					"m-line %u changes its media type", i);
				return EPROTO;
			}
			p->act = p->why ? ALG_A_REMOVE : ALG_A_KEEP;
			if (!p->why && c->offerer == ALG_W3 && m->mid)
				snprintf(l->mid, sizeof(l->mid), "%s", m->mid);
		} else if (!p->why && (w = w3_for_new_line(c, i,
							   &bundle_term)) >= 0) {
			p->act = ALG_A_NEW;
			l->sid = st->next_sid++;
			l->w3 = (int8_t)w;
			l->media_type = m->media_type;
			l->ims_proto = c->offerer == ALG_IMS ? m->proto :
				c->cfg.ims_avpf ? 2 : 1;
			if (c->offerer == ALG_W3)
				snprintf(l->mid, sizeof(l->mid), "%s",
					 m->mid ? m->mid : "");
			else
				snprintf(l->mid, sizeof(l->mid), "%u", i);
		}
		if (p->act == ALG_A_NEW || p->act == ALG_A_KEEP)
			served++;
		else if (!why0)
			why0 = p->why;
	}
	if (c->offerer == ALG_W3) {
		w3_transport_changes(c);
		/* A bundled termination whose lines all lack a usable tag. */
		for (unsigned i = 0; i < s->n_media; i++) {
			struct alg_plan_line *p = &c->plan[i];
			int w = st->m[i].w3;
			int tag;

			if (p->act != ALG_A_NEW || w < 0)
				continue;
			tag = alg_w3_tag_line(c, s, w);
			if (tag < 0 || !has_transport(&s->media[tag])) {
				p->act = ALG_A_NONE;
				p->why = "no ICE or DTLS parameters";
				st->m[i].sid = 0;
				st->m[i].w3 = -1;
				served--;
				why0 = why0 ? why0 : p->why;
			}
		}
	}
	for (int w = 0; w < ALG_MAX_W3; w++) {
		bool used = false;

		for (unsigned i = 0; i < st->n_m; i++)
			used |= st->m[i].w3 == w &&
				(st->m[i].sid || st->m[i].parked_sid);
		if (!used)
			memset(&st->w3[w], 0, sizeof(st->w3[w]));
	}
	if (!served) {
		alg_err(err, 488, "no m-line the AGW can serve (%s)",
			why0 ? why0 : "none");
		return EPROTO;
	}
	return 0;
}
