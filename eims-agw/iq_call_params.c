/* Pass-4 checks and the application of termination and stream parameters
 * shared by RESERVE, CONFIGURE and MODIFY (proto/SPEC.md 8.2, 8.7, 8.9-8.12). */
#include "iq_calls_int.h"
#include "term_w3.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iqp_schema.h"
#include "media_relay.h"
#include "term_ims.h"
#include "term_w3.h"

/* --- Checks shared by the commands ----------------------------------------- */

const struct iqp_realm *iqc_realm_find(const struct iq_calls *c, const struct iqp_msg *m,
					  const struct iqp_elem *e, unsigned *index)
{
	char name[IQP_NODE_ID_MAX + 1];

	if (!e || iqp_elem_strcpy(e, name, sizeof(name)))
		return NULL;
	for (unsigned i = 0; i < c->mp->n_realms; i++)
		if (!strcmp(c->mp->realms[i].name, name)) {
			*index = i;
			return &c->mp->realms[i];
		}
	(void)m;
	return NULL;
}

/* 473 for elements of the wrong termination kind (8.7 suffixes w, i). */
int iqc_check_kind_walk(const struct iqp_elem *parent, unsigned node, uint8_t kind,
			   struct call_err *ce)
{
	for (const struct iqp_elem *e = parent->child; e; e = e->next) {
		struct iqp_rule rule;
		if ((e->flags & IQP_EF_SKIP) ||
		    !iqp_schema_rule(node, iqp_elem_code(parent), iqp_elem_code(e), &rule))
			continue;
		if (((rule.flags & IQP_RF_W3) && kind != IQP_TERM_W3) ||
		    ((rule.flags & IQP_RF_IMS) && kind != IQP_TERM_IMS))
			return bad(ce, 473, e, "%s not allowed on a %s termination",
				   e->def ? e->def->name : "element", kind == IQP_TERM_W3 ? "W3" : "IMS");
		if (iqp_elem_code(e) == IQP_E_STREAM && iqc_check_kind_walk(e, node, kind, ce))
			return (int)ce->code;
	}
	return 0;
}

static bool profile_supported(uint16_t p)
{
	return p == 0x0001 || p == 0x0002 || p == 0x0007 || p == 0x0008;
}

/* The stream part of pass 4 for one TERMINATION. */
int iqc_check_streams(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *te,
			 uint8_t kind, const struct media_term *t, unsigned cmd, struct call_err *ce)
{
	uint16_t seen[MEDIA_MAX_STREAMS * 2];
	unsigned n_seen = 0, n_new = 0, n_removed = 0;
	(void)c;

	EACH(se, m, te, IQP_E_STREAM) {
		uint16_t id = get_u16(m, se, IQP_E_STREAM_ID, 0);
		const struct media_stream *s = t ? media_term_stream(t, id) : NULL;
		const struct iqp_elem *e;
		for (unsigned i = 0; i < n_seen; i++)
			if (seen[i] == id)
				return bad(ce, 473, se, "STREAM_ID %u twice in a termination", id);
		if (n_seen < sizeof(seen) / sizeof(seen[0]))
			seen[n_seen++] = id;
		if (!s && cmd == IQP_MSG_CONFIGURE)
			return bad(ce, 1309, se, "unknown stream %u", id);
		if (get_bool(m, se, IQP_E_REMOVE) == 1) {
			/* 8.5 item 2: STREAM { STREAM_ID, REMOVE } and nothing else. */
			if (!s)
				return bad(ce, 1309, se, "unknown stream %u", id);
			for (const struct iqp_elem *x = se->child; x; x = x->next)
				if (!(x->flags & IQP_EF_SKIP) && iqp_elem_code(x) != IQP_E_STREAM_ID &&
				    iqp_elem_code(x) != IQP_E_REMOVE)
					return bad(ce, 473, x, "a removed stream carries nothing else");
			n_removed++;
			continue;
		}
		if (!s && cmd == IQP_MSG_MODIFY) {
			/* 8.7: Rn elements of a new stream, checked here (472). */
			uint8_t nmt = get_enum(m, se, IQP_E_MEDIA_TYPE, 0);
			if (!nmt)
				return bad(ce, 472, se, "a new stream needs MEDIA_TYPE");
			if (!iqp_find(m, se, IQP_E_TRANSPORT_PROTO))
				return bad(ce, 472, se, "a new stream needs TRANSPORT_PROTO");
			if (nmt <= IQP_MEDIA_TEXT && !iqp_find(m, se, IQP_E_CODEC))
				return bad(ce, 472, se, "a new RTP stream needs CODEC");
			if (kind == IQP_TERM_W3 && !iqp_find(m, te, IQP_E_BUNDLE))
				return bad(ce, 473, se, "a stream added on W3 needs the BUNDLE map updated");
		}
		if (!s)
			n_new++;
		uint8_t mt = get_enum(m, se, IQP_E_MEDIA_TYPE, s ? s->media_type : 0);
		if ((e = iqp_find(m, se, IQP_E_MEDIA_TYPE)) && s && mt != s->media_type)
			return bad(ce, 542, e, "MEDIA_TYPE of a stream cannot change");
		if (!s && mt != IQP_MEDIA_AUDIO && mt != IQP_MEDIA_VIDEO)
			return bad(ce, 515, iqp_find(m, se, IQP_E_MEDIA_TYPE), "media type not supported");
		if ((e = iqp_find(m, se, IQP_E_TRANSPORT_PROTO))) {
			uint8_t tp = get_enum(m, se, IQP_E_TRANSPORT_PROTO, 0);
			if (kind == IQP_TERM_W3 && tp != 6)
				return bad(ce, 473, e, "a W3 stream must be UDP/TLS/RTP/SAVPF");
			if (kind == IQP_TERM_IMS && tp != 1 && tp != 2)
				return bad(ce, 449, e, "IMS streams are RTP/AVP or RTP/AVPF");
		}
		if ((e = iqp_find(m, se, IQP_E_RTCP_MUX)) && kind == IQP_TERM_IMS && s &&
		    get_bool(m, se, IQP_E_RTCP_MUX) != s->rtcp_mux)
			return bad(ce, 449, e, "RTCP_MUX of an IMS stream cannot change");
		if ((e = iqp_find(m, se, IQP_E_LOCAL_ADDR)))
			return bad(ce, 449, e, "requested LOCAL_ADDR not supported");
	}
	if (t && n_removed && t->n_streams + n_new == n_removed)
		return bad(ce, 473, te, "removing the last stream: use RELEASE");
	if (t && t->n_streams + n_new > MEDIA_MAX_STREAMS)
		return bad(ce, 1005, te, "more than 16 streams");
	if (kind == IQP_TERM_W3 && (t ? t->n_streams : 0) + n_new - n_removed > 1 &&
	    !iqp_find(m, te, IQP_E_BUNDLE) && !(t && t->w3->bundle.on))
		return bad(ce, 473, te, "several streams on a W3 termination need BUNDLE");
	return 0;
}

/* 8.9.4 item 2: every stream of the termination (after the request) in
 * exactly one entry, entries naming its streams, MIDs distinct, payload
 * types disjoint. */
static int check_bundle(const struct iqp_msg *m, const struct iqp_elem *te,
			const struct iqp_elem *be, const struct media_term *t, struct call_err *ce)
{
	uint16_t ids[2 * MEDIA_MAX_STREAMS];
	unsigned n_ids = 0, used[2 * MEDIA_MAX_STREAMS] = { 0 };
	char mids[BUNDLE_MAX_ENTRIES][33];
	uint8_t pt_owner[128];
	unsigned n_e = 0;

	for (unsigned i = 0; t && i < t->n_streams; i++)
		ids[n_ids++] = t->s[i]->id;
	EACH(se, m, te, IQP_E_STREAM) {
		uint16_t id = get_u16(m, se, IQP_E_STREAM_ID, 0);
		unsigned i;
		for (i = 0; i < n_ids && ids[i] != id; i++)
			;
		if (get_bool(m, se, IQP_E_REMOVE) == 1) {
			if (i < n_ids)
				ids[i] = ids[--n_ids];
		} else if (i == n_ids && n_ids < sizeof(ids) / sizeof(ids[0])) {
			ids[n_ids++] = id;
		}
	}
	memset(pt_owner, 0, sizeof(pt_owner));
	EACH(en, m, be, IQP_E_BUNDLE_ENTRY) {
		uint16_t id = get_u16(m, en, IQP_E_STREAM_ID, 0);
		const struct iqp_elem *me = iqp_find(m, en, IQP_E_MID);
		unsigned k;
		for (k = 0; k < n_ids && ids[k] != id; k++)
			;
		if (k == n_ids)
			return bad(ce, 473, en, "BUNDLE_ENTRY names stream %u, not of this termination", id);
		if (used[k]++)
			return bad(ce, 473, en, "stream %u in two BUNDLE entries", id);
		if (!me || iqp_elem_strcpy(me, mids[n_e], sizeof(mids[0])))
			return bad(ce, 473, en, "bad MID");
		for (unsigned i = 0; i < n_e; i++)
			if (!strcmp(mids[i], mids[n_e]))
				return bad(ce, 473, me, "MID \"%s\" twice", mids[n_e]);
		n_e++;
		EACH(pe, m, en, IQP_E_PAYLOAD_TYPE) {
			uint8_t pt = 0;
			iqp_elem_u8(pe, &pt);
			if (pt_owner[pt & 0x7f] && pt_owner[pt & 0x7f] != n_e)
				return bad(ce, 473, pe, "payload type %u in two BUNDLE entries", pt);
			pt_owner[pt & 0x7f] = (uint8_t)n_e;
		}
	}
	for (unsigned k = 0; k < n_ids; k++)
		if (!used[k])
			return bad(ce, 473, be, "stream %u in no BUNDLE entry", ids[k]);
	return 0;
}

/* W3 parameters: ICE, DTLS, RTCP_MUX, BUNDLE. */
int iqc_check_w3(const struct iqp_msg *m, const struct iqp_elem *te, const struct media_term *t,
		    unsigned cmd, struct call_err *ce)
{
	const struct iqp_elem *ice = iqp_find(m, te, IQP_E_ICE), *dtls = iqp_find(m, te, IQP_E_DTLS);
	const struct iqp_elem *e;

	if (ice) {
		if ((e = iqp_find(m, ice, IQP_E_ICE_MODE)) && get_enum(m, ice, IQP_E_ICE_MODE, 0) != 1)
			return bad(ce, 449, e, "ICE_MODE FULL not advertised");
		if ((e = iqp_find(m, ice, IQP_E_ICE_ROLE)) && get_enum(m, ice, IQP_E_ICE_ROLE, 0) != 2)
			return bad(ce, 449, e, "a lite AGW is always controlled");
		if ((e = iqp_find(m, ice, IQP_E_ICE_TCP)) && get_bool(m, ice, IQP_E_ICE_TCP) == 1)
			return bad(ce, 449, e, "ICE_TCP not advertised");
		const struct iqp_elem *ru = iqp_find(m, ice, IQP_E_ICE_REMOTE_UFRAG);
		const struct iqp_elem *rp = iqp_find(m, ice, IQP_E_ICE_REMOTE_PWD);
		bool restart = get_bool(m, ice, IQP_E_ICE_RESTART) == 1;
		if (restart && (!ru || !rp))
			return bad(ce, 472, iqp_find(m, ice, IQP_E_ICE_RESTART),
				   "ICE_RESTART needs ICE_REMOTE_UFRAG and ICE_REMOTE_PWD");
		if (!restart && t && t->w3->has_rcreds && (ru || rp)) {
			char u[ICE_LITE_UFRAG_MAX + 1] = "", p[ICE_LITE_PWD_MAX + 1] = "";
			if ((ru && (iqp_elem_strcpy(ru, u, sizeof(u)) || strcmp(u, t->w3->rufrag))) ||
			    (rp && (iqp_elem_strcpy(rp, p, sizeof(p)) || strcmp(p, t->w3->rpwd))))
				return bad(ce, 473, ru ? ru : rp,
					   "changing remote ICE credentials is an ICE restart (MODIFY)");
		}
		if ((ru == NULL) != (rp == NULL) && !(t && t->w3->has_rcreds))
			return bad(ce, 472, ru ? ru : rp, "ICE_REMOTE_UFRAG and ICE_REMOTE_PWD go together");
		{
			/* Values the ICE agent would not take are refused here,
			 * not silently left unapplied (8.9.1, RFC 8839 5.4). */
			char u[ICE_LITE_UFRAG_MAX + 2] = "", p[ICE_LITE_PWD_MAX + 2] = "";
			if (ru && (iqp_elem_strcpy(ru, u, sizeof(u)) || !ice_lite_ufrag_valid(u)))
				return bad(ce, 449, ru, "ICE_REMOTE_UFRAG is not 4-256 ice-chars");
			if (rp && (iqp_elem_strcpy(rp, p, sizeof(p)) || !ice_lite_pwd_valid(p)))
				return bad(ce, 449, rp, "ICE_REMOTE_PWD is not 22-256 ice-chars");
		}
		(void)cmd;
	}
	if (dtls) {
		bool any_sha256 = false, any_fp = false;
		EACH(p, m, dtls, IQP_E_SRTP_PROFILE) {
			uint16_t v;
			if (iqp_elem_u16(p, &v) || !profile_supported(v))
				return bad(ce, 449, p, "SRTP profile not supported");
		}
		EACH(f, m, dtls, IQP_E_REMOTE_FINGERPRINT) {
			any_fp = true;
			if (get_enum(m, f, IQP_E_FP_HASH, 0) == IQP_FP_SHA256)
				any_sha256 = true;
		}
		if (any_fp && !any_sha256)
			return bad(ce, 449, iqp_find(m, dtls, IQP_E_REMOTE_FINGERPRINT),
				   "no REMOTE_FINGERPRINT with SHA-256");
	}
	if ((e = iqp_find(m, te, IQP_E_RTCP_MUX)) && get_bool(m, te, IQP_E_RTCP_MUX) == 0)
		return bad(ce, 449, e, "W3 RTCP_MUX false not supported");
	if ((e = iqp_find(m, te, IQP_E_BUNDLE)))
		return check_bundle(m, te, e, t, ce);
	return 0;
}

/* Codecs of connected streams (8.11 item 3) and the two-terminations rule
 * (8.1 item 3), over the context as it would be after the request.  For
 * simplicity the request's codec lists are checked against the stored
 * ones of the other terminations and against each other. */
struct pending_codecs {
	uint16_t id;
	const struct media_codec *codecs;
	size_t n;
	const struct iqp_elem *e;
};

static size_t read_codecs(const struct iqp_msg *m, const struct iqp_elem *se,
			  struct media_codec *out)
{
	size_t n = 0;
	EACH(ce, m, se, IQP_E_CODEC) {
		if (n == MEDIA_MAX_CODECS)
			break;
		struct media_codec *k = &out[n++];
		memset(k, 0, sizeof(*k));
		uint8_t pt = 0;
		const struct iqp_elem *e = iqp_find(m, ce, IQP_E_PAYLOAD_TYPE);
		if (e)
			iqp_elem_u8(e, &pt);
		k->pt = pt;
		if ((e = iqp_find(m, ce, IQP_E_CODEC_NAME)))
			iqp_elem_strcpy(e, k->name, sizeof(k->name));
		k->clock = get_u32(m, ce, IQP_E_CLOCK_RATE, 0);
		uint8_t ch = 1;
		if ((e = iqp_find(m, ce, IQP_E_CHANNELS)))
			iqp_elem_u8(e, &ch);
		k->channels = ch;
		EACH(fe, m, ce, IQP_E_RTCP_FB) {
			char fb[64];
			if (iqp_elem_strcpy(fe, fb, sizeof(fb)))
				continue;
			if (!strcasecmp(fb, "nack pli"))
				k->fb |= MEDIA_FB_PLI;
			else if (!strcasecmp(fb, "ccm fir"))
				k->fb |= MEDIA_FB_FIR;
		}
	}
	return n;
}

/* --- Applying parameters (after every check passed) ------------------------ */

static void fp_text(const uint8_t *v, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", v[i]);
}

/* Returns true when the DTLS association was renewed (reply carries DTLS). */
static bool apply_w3(const struct iqp_msg *m, const struct iqp_elem *te, struct media_term *t)
{
	const struct iqp_elem *ice = iqp_find(m, te, IQP_E_ICE), *dtls = iqp_find(m, te, IQP_E_DTLS);
	struct term_w3 *w = t->w3;
	bool renewed = false;

	if (ice) {
		char u[ICE_LITE_UFRAG_MAX + 1], p[ICE_LITE_PWD_MAX + 1];
		const struct iqp_elem *ru = iqp_find(m, ice, IQP_E_ICE_REMOTE_UFRAG);
		const struct iqp_elem *rp = iqp_find(m, ice, IQP_E_ICE_REMOTE_PWD);
		snprintf(u, sizeof(u), "%s", w->rufrag);
		snprintf(p, sizeof(p), "%s", w->rpwd);
		if (ru)
			iqp_elem_strcpy(ru, u, sizeof(u));
		if (rp)
			iqp_elem_strcpy(rp, p, sizeof(p));
		if (get_bool(m, ice, IQP_E_ICE_RESTART) == 1)
			term_w3_ice_restart(t, u, p);
		else if (ru || rp)
			term_w3_set_remote_ice(t, u, p);
		if (iqp_find(m, ice, IQP_E_REMOTE_CANDIDATE))
			w->n_rcand = 0;
		EACH(rc, m, ice, IQP_E_REMOTE_CANDIDATE) {
			const struct iqp_elem *a = iqp_find(m, rc, IQP_E_CAND_ADDR);
			struct iqp_ipport ip;
			if (w->n_rcand == W3_MAX_RCAND || !a || iqp_elem_ipport(a, &ip))
				continue;
			iq_sa_from_ipport(&ip, &w->rcand[w->n_rcand]);
			w->rcand_type[w->n_rcand++] = get_enum(m, rc, IQP_E_CAND_TYPE, 1);
		}
	}
	if (dtls) {
		const struct iqp_elem *e;
		if ((e = iqp_find(m, dtls, IQP_E_DTLS_SETUP)))
			term_w3_set_setup(t, get_enum(m, dtls, IQP_E_DTLS_SETUP, IQP_SETUP_ACTPASS));
		if (iqp_find(m, dtls, IQP_E_SRTP_PROFILE))
			w->n_profiles = 0;
		EACH(p, m, dtls, IQP_E_SRTP_PROFILE) {
			uint16_t v;
			if (w->n_profiles < W3_MAX_PROFILES && !iqp_elem_u16(p, &v))
				w->profiles[w->n_profiles++] = v;
		}
		EACH(f, m, dtls, IQP_E_REMOTE_FINGERPRINT) {
			const uint8_t *v;
			size_t n;
			char text[96];
			const struct iqp_elem *fv = iqp_find(m, f, IQP_E_FP_VALUE);
			if (get_enum(m, f, IQP_E_FP_HASH, 0) != IQP_FP_SHA256 || !fv ||
			    iqp_elem_octets(fv, &v, &n) || n != 32)
				continue;
			fp_text(v, n, text);
			term_w3_set_remote_fp(t, text);
			break;
		}
		if ((e = iqp_find(m, dtls, IQP_E_REMOTE_TLS_ID))) {
			char id[256];
			if (!iqp_elem_strcpy(e, id, sizeof(id)) && strcmp(id, w->rtls_id)) {
				if (w->rtls_id[0] || w->dtls_on) {
					term_w3_new_association(t, id);
					renewed = true;
				} else {
					snprintf(w->rtls_id, sizeof(w->rtls_id), "%s", id);
				}
			}
		}
	}
	return renewed;
}

static void apply_stream(const struct iqp_msg *m, const struct iqp_elem *se, struct media_stream *s)
{
	const struct iqp_elem *e;
	struct iqp_ipport a;

	if (iqp_find(m, se, IQP_E_MEDIA_TYPE))
		s->media_type = get_enum(m, se, IQP_E_MEDIA_TYPE, s->media_type);
	if (iqp_find(m, se, IQP_E_TRANSPORT_PROTO))
		s->transport = get_enum(m, se, IQP_E_TRANSPORT_PROTO, s->transport);
	if (iqp_find(m, se, IQP_E_CODEC)) {
		s->n_codecs = (uint8_t)read_codecs(m, se, s->codecs);
		s->clk_pt = MEDIA_PT_NONE; /* media_relay_ingress's memo */
	}
	if (iqp_find(m, se, IQP_E_STREAM_MODE))
		s->mode = get_enum(m, se, IQP_E_STREAM_MODE, MODE_SENDRECV);
	if (iqp_find(m, se, IQP_E_INACTIVITY_TIMEOUT)) {
		s->inactivity_ms = get_u32(m, se, IQP_E_INACTIVITY_TIMEOUT, 0);
		s->inactive = false;
	}
	if (iqp_find(m, se, IQP_E_LATCHING))
		s->latching = get_enum(m, se, IQP_E_LATCHING, LATCH_OFF);
	if ((e = iqp_find(m, se, IQP_E_REMOTE_ADDR)) && !iqp_elem_ipport(e, &a)) {
		iq_sa_from_ipport(&a, &s->remote);
		s->has_remote = true;
		s->latched = false;
	}
	if ((e = iqp_find(m, se, IQP_E_REMOTE_RTCP_ADDR)) && !iqp_elem_ipport(e, &a)) {
		iq_sa_from_ipport(&a, &s->remote_rtcp);
		s->has_remote_rtcp = true;
	}
	/* 8.2 items 3 and 5: the list replaces the stored one; one all-zero
	 * address clears it. */
	if (iqp_find(m, se, IQP_E_SOURCE_FILTER)) {
		s->n_filter = 0;
		EACH(f, m, se, IQP_E_SOURCE_FILTER) {
			struct iqp_ip ip;
			static const uint8_t zero[16];
			if (iqp_elem_ip(f, &ip) || s->n_filter == 4)
				continue;
			if (!memcmp(ip.addr, zero, ip.family == 4 ? 4 : 16)) {
				s->n_filter = 0;
				break;
			}
			s->filter[s->n_filter++] = ip;
		}
	}
	/* 8.2 item 4: POLICING replaces the container; POLICE_SDR 0: off. */
	if ((e = iqp_find(m, se, IQP_E_POLICING))) {
		uint64_t now = media_now(s->term->mp);
		uint32_t mbs = get_u32(m, e, IQP_E_POLICE_MBS, 0);
		memset(&s->police, 0, sizeof(s->police));
		memset(&s->peak, 0, sizeof(s->peak));
		s->police.rate = get_u32(m, e, IQP_E_POLICE_SDR, 0);
		s->police.size = mbs;
		s->police.tokens = mbs;
		s->police.last_ms = now;
		if (s->police.rate && iqp_find(m, e, IQP_E_POLICE_PDR)) {
			/* Peak rate: a bucket of one maximum-size packet. */
			s->peak.rate = get_u32(m, e, IQP_E_POLICE_PDR, 0);
			s->peak.size = s->peak.tokens = 1500;
			s->peak.last_ms = now;
		}
	}
	if ((e = iqp_find(m, se, IQP_E_DSCP)))
		iqp_elem_u8(e, &s->dscp);
	if ((e = iqp_find(m, se, IQP_E_CCM_INTERWORK)))
		iqp_elem_bool(e, &s->ccm_interwork);
}

/* 8.2 item 4: BUNDLE replaces the stored map as a whole. */
static void apply_bundle(const struct iqp_msg *m, const struct iqp_elem *be, struct media_term *t)
{
	struct w3_bundle *b = &t->w3->bundle;
	const struct iqp_elem *e;

	memset(b, 0, sizeof(*b));
	b->on = true;
	t->w3->bundle_on = true; /* the packet path's copy, in term_w3's line 0 */
	if ((e = iqp_find(m, be, IQP_E_MID_EXT_ID)))
		iqp_elem_u8(e, &b->mid_ext_id);
	EACH(en, m, be, IQP_E_BUNDLE_ENTRY) {
		struct w3_bundle_entry *x = &b->e[b->n++];
		x->stream_id = get_u16(m, en, IQP_E_STREAM_ID, 0);
		if ((e = iqp_find(m, en, IQP_E_MID)))
			iqp_elem_strcpy(e, x->mid, sizeof(x->mid));
		EACH(pe, m, en, IQP_E_PAYLOAD_TYPE)
			if (x->n_pt < BUNDLE_MAX_PT && !iqp_elem_u8(pe, &x->pt[x->n_pt]))
				x->n_pt++, x->pts_listed = true;
		EACH(se, m, en, IQP_E_SSRC)
			if (x->n_ssrc < BUNDLE_MAX_SSRC && !iqp_elem_u32(se, &x->ssrc[x->n_ssrc]))
				x->n_ssrc++;
		if (b->n == BUNDLE_MAX_ENTRIES)
			break;
	}
}

/* Entries without PAYLOAD_TYPEs demultiplex by their stream's codecs. */
static void bundle_default_pts(struct media_term *t)
{
	struct w3_bundle *b = &t->w3->bundle;

	for (unsigned i = 0; b->on && i < b->n; i++) {
		struct w3_bundle_entry *x = &b->e[i];
		const struct media_stream *s = media_term_stream(t, x->stream_id);
		if (x->pts_listed || !s)
			continue;
		x->n_pt = 0;
		for (unsigned k = 0; k < s->n_codecs && x->n_pt < BUNDLE_MAX_PT; k++)
			x->pt[x->n_pt++] = s->codecs[k].pt;
	}
}

bool iqc_apply_term(const struct iqp_msg *m, const struct iqp_elem *te, struct media_term *t)
{
	bool renewed = false;

	if (iqp_find(m, te, IQP_E_UNUSED_TIMEOUT))
		t->unused_timeout_s = get_u32(m, te, IQP_E_UNUSED_TIMEOUT, 0);
	if (iqp_find(m, te, IQP_E_EVENT_MASK))
		t->event_mask = get_u32(m, te, IQP_E_EVENT_MASK, MEDIA_EVENT_MASK_DEFAULT);
	EACH(se, m, te, IQP_E_STREAM) {
		struct media_stream *s = media_term_stream(t, get_u16(m, se, IQP_E_STREAM_ID, 0));
		if (s)
			apply_stream(m, se, s);
	}
	if (t->kind == IQP_TERM_W3) {
		renewed = apply_w3(m, te, t);
		if (iqp_find(m, te, IQP_E_BUNDLE))
			apply_bundle(m, iqp_find(m, te, IQP_E_BUNDLE), t);
		bundle_default_pts(t);
	} else if (t->state == TERM_RESERVED) {
		bool all = t->n_streams > 0;
		for (unsigned i = 0; i < t->n_streams; i++)
			all = all && t->s[i]->has_remote;
		if (all)
			media_term_set_state(t, TERM_ACTIVE);
	}
	return renewed;
}

void iqc_after_apply(struct media_ctx *ctx)
{
	media_relay_update(ctx);
	for (unsigned i = 0; i < ctx->n_terms; i++) {
		media_term_apply_dscp(ctx->t[i]);
		if (ctx->t[i]->w3)
			term_w3_update(ctx->t[i]);
		else
			media_term_arm(ctx->t[i]);
	}
}

/* --- Codec and connection checks over the whole request ---------------------- */

/* 8.1 item 3 and 8.11 item 3 for every stream of the request. */
int iqc_check_connections(const struct iqp_msg *m, const struct iqp_elem *ctxe,
			     const struct media_ctx *ctx, struct call_err *ce)
{
	struct media_codec *a = malloc(2 * MEDIA_MAX_CODECS * sizeof(*a)), *b = a + MEDIA_MAX_CODECS;
	int rc = 0;

	if (!a)
		return bad(ce, 510, NULL, "out of memory");
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		uint32_t tid = get_u32(m, te, IQP_E_TERM_ID, 0);
		EACH(se, m, te, IQP_E_STREAM) {
			uint16_t id = get_u16(m, se, IQP_E_STREAM_ID, 0);
			unsigned holders = 0;
			size_t na = iqp_find(m, se, IQP_E_CODEC) ? read_codecs(m, se, a) : 0;
			const struct media_stream *own = NULL;
			if (ctx && tid != IQP_CHOOSE) {
				const struct media_term *t = media_ctx_term(ctx, tid);
				own = t ? media_term_stream(t, id) : NULL;
				if (!na && own) {
					memcpy(a, own->codecs, own->n_codecs * sizeof(*a));
					na = own->n_codecs;
				}
			}
			/* Other terminations in the context. */
			for (unsigned i = 0; ctx && i < ctx->n_terms; i++) {
				const struct media_stream *o;
				if (ctx->t[i]->id == tid || !(o = media_term_stream(ctx->t[i], id)))
					continue;
				holders++;
				if (!media_relay_codecs_match(a, na, o->codecs, o->n_codecs)) {
					rc = bad(ce, 1307, se, "no common codec for stream %u", id);
					goto out;
				}
			}
			/* Other terminations in this request. */
			EACH(te2, m, ctxe, IQP_E_TERMINATION) {
				if (te2 == te)
					continue;
				EACH(se2, m, te2, IQP_E_STREAM) {
					if (get_u16(m, se2, IQP_E_STREAM_ID, 0) != id)
						continue;
					if (get_u32(m, te2, IQP_E_TERM_ID, 0) == IQP_CHOOSE)
						holders++;
					size_t nb = read_codecs(m, se2, b);
					if (nb && !media_relay_codecs_match(a, na, b, nb)) {
						rc = bad(ce, 1307, se, "no common codec for stream %u", id);
						goto out;
					}
				}
			}
			if (holders + 1 > 2) {
				rc = bad(ce, 473, se, "STREAM_ID %u in more than two terminations", id);
				goto out;
			}
		}
	}
out:
	free(a);
	return rc;
}

