/* AUDIT on the AGW (proto/SPEC.md 7.11, 11.6). */
#include "iq_audit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iq_calls_int.h"
#include "term_w3.h"

#define LIST_LIMIT_DEFAULT 256 /* AUDIT_LIMIT absent (7.11 item 1) */
#define SCRATCH_CAP 32768      /* one CONTEXT_LIST entry: 8 terminations, CALL_REF */
#define TRAILER_BYTES (10 + 7) /* AUDIT_CURSOR (u32), AUDIT_MORE (bool) */

/* --- CONTEXT_LIST (7.11 items 1, 2) ------------------------------------------ */

static void add_list_entry(struct iqp_msg *r, const struct media_ctx *x)
{
	struct iqp_elem *ce, *te;

	iqp_add_container(r, NULL, IQP_E_CONTEXT, &ce);
	iqp_add_u32(r, ce, IQP_E_CONTEXT_ID, x->id);
	if (x->call_ref[0])
		iqp_add_str(r, ce, IQP_E_CALL_REF, x->call_ref);
	iqp_add_bool(r, ce, IQP_E_EMERGENCY, x->emergency);
	for (unsigned i = 0; i < x->n_terms; i++) {
		iqp_add_container(r, ce, IQP_E_TERMINATION, &te);
		iqp_add_u32(r, te, IQP_E_TERM_ID, x->t[i]->id);
		iqp_add_enum(r, te, IQP_E_TERM_KIND, x->t[i]->kind);
		iqp_add_enum(r, te, IQP_E_TERM_STATE, x->t[i]->state);
	}
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = (*(struct media_ctx *const *)a)->id, y = (*(struct media_ctx *const *)b)->id;
	return x < y ? -1 : x > y;
}

/* Encoded bytes, elements and builder memory of one entry. */
struct entry_size {
	size_t bytes, elems, mem;
};

static int measure(struct iqp_msg *s, const struct iqp_header *h, void *scratch,
		   const struct media_ctx *x, struct entry_size *out)
{
	size_t n;
	int rc;

	if ((rc = iqp_msg_init(s, h, scratch, SCRATCH_CAP)))
		return rc;
	add_list_entry(s, x);
	if ((rc = iqp_msg_encoded_len(s, &n)))
		return rc;
	out->bytes = n - IQP_HEADER_LEN;
	out->elems = s->n_elems;
	/* Nodes (each possibly padded to its alignment) and values. */
	out->mem = s->mem_lo + (s->mem_cap - s->mem_hi) + s->n_elems * _Alignof(struct iqp_elem);
	return 0;
}

int iq_audit_list_page(struct media_plane *mp, const void *owner, uint32_t cursor,
		       uint32_t limit, size_t max_frame, const struct iqp_header *h,
		       struct iqp_msg *r)
{
	struct media_ctx **all = NULL;
	size_t n_all = 0, k = 0, bytes = 0, elems = 0, mem = 4096;
	void *scratch = NULL;
	int rc = ENOMEM;

	memset(r, 0, sizeof(*r));
	for (struct media_ctx *x = mp->ctxs; x; x = x->next)
		n_all += x->owner == owner && x->id > cursor;
	if ((n_all && !(all = malloc(n_all * sizeof(*all)))) || !(scratch = malloc(SCRATCH_CAP)))
		goto out;
	n_all = 0;
	for (struct media_ctx *x = mp->ctxs; x; x = x->next)
		if (x->owner == owner && x->id > cursor)
			all[n_all++] = x;
	if (n_all > 1)
		qsort(all, n_all, sizeof(*all), by_id);
	/* 7.11 item 2: as many as fit, at least one (an entry is far below
	 * any MAX_FRAME), never more than AUDIT_LIMIT. */
	for (; k < n_all && k < limit; k++) {
		struct iqp_msg s;
		struct entry_size e;
		rc = measure(&s, h, scratch, all[k], &e);
		iqp_msg_free(&s);
		if (rc)
			goto out;
		if (k && (IQP_HEADER_LEN + bytes + e.bytes + TRAILER_BYTES > max_frame ||
			  elems + e.elems + 2 > IQP_MAX_ELEMENTS))
			break;
		bytes += e.bytes;
		elems += e.elems;
		mem += e.mem;
	}
	if ((rc = iqp_msg_init(r, h, NULL, mem)))
		goto out;
	for (size_t i = 0; i < k; i++)
		add_list_entry(r, all[i]);
	if (k)
		iqp_add_u32(r, NULL, IQP_E_AUDIT_CURSOR, all[k - 1]->id);
	iqp_add_bool(r, NULL, IQP_E_AUDIT_MORE, k < n_all);
	rc = r->err;
out:
	free(scratch);
	free(all);
	return rc;
}

/* --- CONTEXT (8.7 column Au) -------------------------------------------------- */

static void add_ipport(struct iqp_msg *r, struct iqp_elem *p, uint16_t code,
		       const struct sockaddr_storage *ss)
{
	struct iqp_ipport a;
	iq_ipport_from_sa((const struct sockaddr *)ss, &a);
	iqp_add_ipport(r, p, code, &a);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "AB:CD:..." (32 bytes) into v; false when it is not that. */
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

static void add_w3(struct iq_calls *c, struct iqp_msg *r, struct iqp_elem *te,
		   const struct media_term *t)
{
	const struct term_w3 *w = t->w3;
	struct iqp_elem *ice, *dtls, *e, *b;
	uint8_t fp[32];

	iqp_add_container(r, te, IQP_E_ICE, &ice);
	iqp_add_enum(r, ice, IQP_E_ICE_MODE, 1); /* LITE */
	iqp_add_str(r, ice, IQP_E_ICE_LOCAL_UFRAG, w->lufrag);
	for (unsigned i = 0; i < w->n_sock; i++) {
		struct iqp_ipport a;
		char foundation[8];
		/* As in the RESERVE reply (iq_calls.c). */
		uint32_t prio = (126u << 24) | ((65535u - i) << 8) | (256u - 1);
		iq_ipport_from_sa((const struct sockaddr *)&w->sock[i].bound, &a);
		snprintf(foundation, sizeof(foundation), "%u", i + 1);
		iqp_add_container(r, ice, IQP_E_LOCAL_CANDIDATE, &e);
		iqp_add_str(r, e, IQP_E_CAND_FOUNDATION, foundation);
		iqp_add_u8(r, e, IQP_E_CAND_COMPONENT, 1);
		iqp_add_enum(r, e, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
		iqp_add_u32(r, e, IQP_E_CAND_PRIORITY, prio);
		iqp_add_ipport(r, e, IQP_E_CAND_ADDR, &a);
		iqp_add_enum(r, e, IQP_E_CAND_TYPE, 1); /* HOST */
	}
	if (w->has_rcreds)
		iqp_add_str(r, ice, IQP_E_ICE_REMOTE_UFRAG, w->rufrag); /* never the password */
	if (w->has_remote_lite)
		iqp_add_bool(r, ice, IQP_E_ICE_REMOTE_LITE, w->remote_lite);
	for (unsigned i = 0; i < w->n_rcand; i++) {
		const struct w3_rcand_info *ri = &w->rcand_info[i];
		iqp_add_container(r, ice, IQP_E_REMOTE_CANDIDATE, &e);
		iqp_add_str(r, e, IQP_E_CAND_FOUNDATION, ri->foundation[0] ? ri->foundation : "-");
		iqp_add_u8(r, e, IQP_E_CAND_COMPONENT, ri->component);
		iqp_add_enum(r, e, IQP_E_CAND_TRANSPORT, ri->transport);
		iqp_add_u32(r, e, IQP_E_CAND_PRIORITY, ri->priority);
		add_ipport(r, e, IQP_E_CAND_ADDR, &w->rcand[i]);
		iqp_add_enum(r, e, IQP_E_CAND_TYPE, w->rcand_type[i]);
		if (ri->has_raddr)
			iqp_add_ipport(r, e, IQP_E_CAND_RADDR, &ri->raddr);
		if (ri->tcptype)
			iqp_add_enum(r, e, IQP_E_CAND_TCPTYPE, ri->tcptype);
	}
	iqp_add_container(r, te, IQP_E_DTLS, &dtls);
	iqp_add_enum(r, dtls, IQP_E_DTLS_SETUP, w->setup);
	for (unsigned i = 0; i < w->n_profiles; i++)
		iqp_add_u16(r, dtls, IQP_E_SRTP_PROFILE, w->profiles[i]);
	if (w->has_rfp && fp_bytes(w->rfp, fp)) {
		iqp_add_container(r, dtls, IQP_E_REMOTE_FINGERPRINT, &e);
		iqp_add_enum(r, e, IQP_E_FP_HASH, IQP_FP_SHA256);
		iqp_add_octets(r, e, IQP_E_FP_VALUE, fp, sizeof(fp));
	}
	if (w->rtls_id[0])
		iqp_add_str(r, dtls, IQP_E_REMOTE_TLS_ID, w->rtls_id);
	iqp_add_container(r, dtls, IQP_E_LOCAL_FINGERPRINT, &e);
	iqp_add_enum(r, e, IQP_E_FP_HASH, IQP_FP_SHA256);
	iqp_add_octets(r, e, IQP_E_FP_VALUE, c->mp->fp_sha256, 32);
	iqp_add_str(r, dtls, IQP_E_LOCAL_TLS_ID, w->ltls_id);
	iqp_add_bool(r, te, IQP_E_RTCP_MUX, w->rtcp_mux);
	if (w->bundle.on) {
		iqp_add_container(r, te, IQP_E_BUNDLE, &b);
		if (w->bundle.mid_ext_id)
			iqp_add_u8(r, b, IQP_E_MID_EXT_ID, w->bundle.mid_ext_id);
		for (unsigned i = 0; i < w->bundle.n; i++) {
			const struct w3_bundle_entry *x = &w->bundle.e[i];
			iqp_add_container(r, b, IQP_E_BUNDLE_ENTRY, &e);
			iqp_add_str(r, e, IQP_E_MID, x->mid);
			iqp_add_u16(r, e, IQP_E_STREAM_ID, x->stream_id);
			for (unsigned k = 0; x->pts_listed && k < x->n_pt; k++)
				iqp_add_u8(r, e, IQP_E_PAYLOAD_TYPE, x->pt[k]);
			for (unsigned k = 0; k < x->n_ssrc; k++)
				iqp_add_u32(r, e, IQP_E_SSRC, x->ssrc[k]);
		}
	}
}

static void add_stream(struct iqp_msg *r, struct iqp_elem *te, const struct media_term *t,
		       const struct media_stream *s)
{
	struct iqp_elem *se, *e;

	iqp_add_container(r, te, IQP_E_STREAM, &se);
	iqp_add_u16(r, se, IQP_E_STREAM_ID, s->id);
	iqp_add_enum(r, se, IQP_E_MEDIA_TYPE, s->media_type);
	iqp_add_enum(r, se, IQP_E_TRANSPORT_PROTO, s->transport);
	for (unsigned i = 0; i < s->n_codecs; i++) {
		const struct media_codec *k = &s->codecs[i];
		iqp_add_container(r, se, IQP_E_CODEC, &e);
		iqp_add_u8(r, e, IQP_E_PAYLOAD_TYPE, k->pt);
		iqp_add_str(r, e, IQP_E_CODEC_NAME, k->name);
		iqp_add_u32(r, e, IQP_E_CLOCK_RATE, k->clock);
		if (k->channels > 1)
			iqp_add_u8(r, e, IQP_E_CHANNELS, k->channels);
	}
	iqp_add_enum(r, se, IQP_E_STREAM_MODE, s->mode);
	iqp_add_u32(r, se, IQP_E_INACTIVITY_TIMEOUT, s->inactivity_ms);
	if (s->dscp)
		iqp_add_u8(r, se, IQP_E_DSCP, s->dscp);
	if (s->police.rate) {
		iqp_add_container(r, se, IQP_E_POLICING, &e);
		iqp_add_u32(r, e, IQP_E_POLICE_SDR, s->police.rate);
		iqp_add_u32(r, e, IQP_E_POLICE_MBS, s->police.size);
		if (s->peak.rate)
			iqp_add_u32(r, e, IQP_E_POLICE_PDR, s->peak.rate);
	}
	for (unsigned i = 0; i < s->n_filter; i++)
		iqp_add_ip(r, se, IQP_E_SOURCE_FILTER, &s->filter[i]);
	if (t->kind != IQP_TERM_IMS)
		return;
	add_ipport(r, se, IQP_E_LOCAL_ADDR, &s->local);
	if (!s->rtcp_mux)
		add_ipport(r, se, IQP_E_LOCAL_RTCP_ADDR, &s->local_rtcp);
	if (s->has_remote)
		add_ipport(r, se, IQP_E_REMOTE_ADDR, &s->remote);
	if (s->has_remote_rtcp)
		add_ipport(r, se, IQP_E_REMOTE_RTCP_ADDR, &s->remote_rtcp);
	iqp_add_bool(r, se, IQP_E_RTCP_MUX, s->rtcp_mux);
	iqp_add_enum(r, se, IQP_E_LATCHING, s->latching);
}

static void add_full_context(struct iq_calls *c, struct iqp_msg *r, const struct media_ctx *x)
{
	struct iqp_elem *ce, *te;

	iqp_add_container(r, NULL, IQP_E_CONTEXT, &ce);
	iqp_add_u32(r, ce, IQP_E_CONTEXT_ID, x->id);
	iqp_add_bool(r, ce, IQP_E_EMERGENCY, x->emergency);
	if (x->priority)
		iqp_add_u8(r, ce, IQP_E_PRIORITY, x->priority);
	if (x->call_ref[0])
		iqp_add_str(r, ce, IQP_E_CALL_REF, x->call_ref);
	for (unsigned i = 0; i < x->n_terms; i++) {
		const struct media_term *t = x->t[i];
		iqp_add_container(r, ce, IQP_E_TERMINATION, &te);
		iqp_add_u32(r, te, IQP_E_TERM_ID, t->id);
		iqp_add_enum(r, te, IQP_E_TERM_KIND, t->kind);
		iqp_add_str(r, te, IQP_E_REALM_NAME, c->mp->realms[t->realm].name);
		if (t->family)
			iqp_add_enum(r, te, IQP_E_ADDR_FAMILY, t->family);
		iqp_add_u32(r, te, IQP_E_UNUSED_TIMEOUT, t->unused_timeout_s);
		iqp_add_u32(r, te, IQP_E_EVENT_MASK, t->event_mask);
		iqp_add_enum(r, te, IQP_E_TERM_STATE, t->state);
		if (t->w3)
			add_w3(c, r, te, t);
		for (unsigned k = 0; k < t->n_streams; k++)
			add_stream(r, te, t, t->s[k]);
	}
}

/* --- The handler ------------------------------------------------------------- */

/* Room for the largest body a controller accepts: MAX_ELEMENTS nodes and
 * MAX_FRAME bytes of values. */
static size_t full_cap(const struct iqp_link *l)
{
	return IQP_MAX_ELEMENTS * (sizeof(struct iqp_elem) + _Alignof(struct iqp_elem)) +
	       l->peer_max_frame;
}

static void audit_statistics(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
			     const struct iqp_elem *ctxe, struct media_ctx *x, struct iqp_msg *r)
{
	struct media_term *terms[MEDIA_MAX_TERMS];
	struct call_err ce = { 0 };
	struct iqp_elem *rc, *te;
	unsigned n = 0;

	EACH(tq, m, ctxe, IQP_E_TERMINATION) {
		struct media_term *t;
		bool dup = false;
		if (iqc_find_term(c, m, tq, x, &t, &ce)) {
			iqc_reply_error(c, l, m, &ce);
			return;
		}
		for (unsigned i = 0; i < n; i++)
			dup = dup || terms[i] == t;
		if (!dup && n < MEDIA_MAX_TERMS)
			terms[n++] = t;
	}
	if (!iqp_find(m, ctxe, IQP_E_TERMINATION))
		for (unsigned i = 0; i < x->n_terms; i++)
			terms[n++] = x->t[i];
	if (iqp_msg_init(r, &(struct iqp_header){ .version = IQP_VERSION_MAJOR,
						   .kind = IQP_KIND_REPLY, .code = m->hdr.code,
						   .txid = m->hdr.txid }, NULL, full_cap(l))) {
		iqc_reply_error(c, l, m, &(struct call_err){ 500, NULL, "out of memory" });
		return;
	}
	uint64_t now = media_now(c->mp);
	iqp_add_container(r, NULL, IQP_E_CONTEXT, &rc);
	iqp_add_u32(r, rc, IQP_E_CONTEXT_ID, x->id);
	for (unsigned i = 0; i < n; i++) {
		iqp_add_container(r, rc, IQP_E_TERMINATION, &te);
		iqp_add_u32(r, te, IQP_E_TERM_ID, terms[i]->id);
		iq_events_add_stats(r, te, terms[i], now);
	}
	iqc_reply_send(c, l, r, m);
}

void iq_audit_on_request(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct iq_calls *c = arg;
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_REPLY,
				.code = m->hdr.code, .txid = m->hdr.txid };
	const struct iqp_elem *ctxe = iqp_find(m, NULL, IQP_E_CONTEXT);
	uint8_t scope = get_enum(m, NULL, IQP_E_AUDIT_SCOPE, 0);
	struct call_err ce = { 0 };
	struct media_ctx *x = NULL;
	struct iqp_msg r;
	struct iqp_load load;

	/* Passes 1-3 checked the request (11.6): CONTEXT present exactly for
	 * the scopes that need it, cursor and limit only with CONTEXT_LIST. */
	if (ctxe && iqc_find_ctx(c, l, m, ctxe, &x, &ce)) {
		iqc_reply_error(c, l, m, &ce);
		return;
	}
	switch (scope) {
	case IQP_AUDIT_CAPABILITIES:
		if (iqp_msg_init(&r, &h, NULL, 16384))
			break;
		iq_client_load(c->iq, &load, false);
		iqp_link_reg_add_load(&r, NULL, &load);
		iqp_link_reg_add_resources(&r, &c->iq->self);
		/* Informational port range of each realm (12.1.3). */
		for (struct iqp_elem *e = r.first; e; e = e->next)
			if (iqp_elem_code(e) == IQP_E_REALM) {
				iqp_add_u16(&r, e, IQP_E_PORT_MIN, c->mp->cfg.port_min);
				iqp_add_u16(&r, e, IQP_E_PORT_MAX, c->mp->cfg.port_max);
			}
		iqc_reply_send(c, l, &r, m);
		return;
	case IQP_AUDIT_CONTEXT_LIST:
		if (iq_audit_list_page(c->mp, l, get_u32(m, NULL, IQP_E_AUDIT_CURSOR, 0),
				       get_u32(m, NULL, IQP_E_AUDIT_LIMIT, LIST_LIMIT_DEFAULT),
				       l->peer_max_frame, &h, &r)) {
			iqp_msg_free(&r);
			break;
		}
		log_debug(c->log, c->sub, NULL, "iq audit context list",
			  LF_U("cursor", get_u32(m, NULL, IQP_E_AUDIT_CURSOR, 0)),
			  LF_U("contexts", iqp_count(&r, NULL, IQP_E_CONTEXT)));
		iqc_reply_send(c, l, &r, m);
		return;
	case IQP_AUDIT_CONTEXT:
		if (iqp_msg_init(&r, &h, NULL, full_cap(l)))
			break;
		add_full_context(c, &r, x);
		iqc_reply_send(c, l, &r, m);
		return;
	case IQP_AUDIT_STATISTICS:
		audit_statistics(c, l, m, ctxe, x, &r);
		return;
	}
	iqc_reply_error(c, l, m, &(struct call_err){ 500, NULL, "out of memory" });
}
