/* AUDIT cases against an AGW (SPEC.md 7.11, 11.6): the four scopes,
 * CONTEXT_LIST paging and its fit in the controller's MAX_FRAME, 411. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_agw.h"

#define REMOTE_PWD "cfRemotePasswordNeverAudited" /* ice-chars (RFC 8839) */
#define REMOTE_UFRAG "cfUf"

/* AUDIT of `scope`; ctx_id 0: no CONTEXT; cursor/limit 0: absent. */
static void audit(struct cf_ctx *x, struct cf_msg *b, uint8_t scope, uint32_t ctx_id,
		  uint32_t cursor, uint32_t limit)
{
	struct iqp_elem *c;
	cf_msg_start(x, b, IQP_KIND_REQUEST, IQP_MSG_AUDIT, 0);
	iqp_add_enum(&b->m, NULL, IQP_E_AUDIT_SCOPE, scope);
	if (ctx_id) {
		iqp_add_container(&b->m, NULL, IQP_E_CONTEXT, &c);
		iqp_add_u32(&b->m, c, IQP_E_CONTEXT_ID, ctx_id);
	}
	if (cursor)
		iqp_add_u32(&b->m, NULL, IQP_E_AUDIT_CURSOR, cursor);
	if (limit)
		iqp_add_u32(&b->m, NULL, IQP_E_AUDIT_LIMIT, limit);
}

/* 7.11 item 1: CAPABILITIES gives CAPACITY, LOAD, the REALM list and
 * CAPABILITIES, matching what the AGW registered. */
enum cf_result cf_a_audit_capabilities(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f = { 0 };
	struct iqp_msg m = { 0 };
	struct iqp_node_info *n = calloc(1, sizeof(*n));
	enum cf_result rc = CF_PASS;
	bool cm80 = false;

	if (!n)
		return CF_FAIL;
	audit(x, &b, IQP_AUDIT_CAPABILITIES, 0, 0, 0);
	if (cf_agw_call(x, &b, &f, &m, why, len)) {
		cf_agw_call_free(&f, &m);
		free(n);
		return CF_FAIL;
	}
	iqp_link_reg_parse_request(&m, n);
	for (unsigned i = 0; i < n->caps.n_srtp; i++)
		cm80 |= n->caps.srtp[i] == 0x0001;
	if (!iqp_find(&m, NULL, IQP_E_CAPACITY) || !iqp_find(&m, NULL, IQP_E_LOAD) ||
	    !iqp_find(&m, NULL, IQP_E_REALM) || !iqp_find(&m, NULL, IQP_E_CAPABILITIES))
		FAIL("reply lacks CAPACITY, LOAD, REALM or CAPABILITIES");
	if (iqp_find(&m, NULL, IQP_E_CONTEXT) || iqp_find(&m, NULL, IQP_E_AUDIT_MORE))
		FAIL("reply carries CONTEXT or AUDIT_MORE (another scope's content)");
	if (n->max_contexts != x->agw.max_contexts)
		FAIL("MAX_CONTEXTS %u, registered %u", n->max_contexts, x->agw.max_contexts);
	if (n->n_realms != x->agw.n_realms)
		FAIL("%u realms, registered %u", n->n_realms, x->agw.n_realms);
	for (unsigned i = 0; i < n->n_realms; i++)
		if (strcmp(n->realms[i].name, x->agw.realms[i].name) ||
		    n->realms[i].side != x->agw.realms[i].side)
			FAIL("realm %u is %s/%u, registered %s/%u", i, n->realms[i].name,
			     n->realms[i].side, x->agw.realms[i].name, x->agw.realms[i].side);
	if (!cm80 || n->caps.ice_modes != x->agw.caps.ice_modes)
		FAIL("CAPABILITIES differ from the registered ones");
	snprintf(why, len, "MAX_CONTEXTS %u, %u realm(s), ACTIVE_CONTEXTS %u", n->max_contexts,
		 n->n_realms, n->load.active_contexts);
out:
	free(n);
	cf_agw_call_free(&f, &m);
	return rc;
}

/* One CONTEXT_LIST page: ids (ascending check), CALL_REFs and TERM_IDs
 * of the first termination, by position; *more, *cursor. */
struct page {
	unsigned n;
	uint32_t ids[4096];
	bool more, has_cursor;
	uint32_t cursor;
	size_t frame_len;
};

static int list_page(struct cf_ctx *x, uint32_t cursor, uint32_t limit, struct page *p,
		     char **refs, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f;
	struct iqp_msg m;
	int rc;

	audit(x, &b, IQP_AUDIT_CONTEXT_LIST, 0, cursor, limit);
	if ((rc = cf_agw_call(x, &b, &f, &m, why, len))) {
		cf_agw_call_free(&f, &m);
		return -1;
	}
	p->n = 0;
	p->frame_len = IQP_HEADER_LEN + f.hdr.body_len;
	p->more = false;
	cf_bool(&m, NULL, IQP_E_AUDIT_MORE, &p->more);
	p->has_cursor = cf_u32(&m, NULL, IQP_E_AUDIT_CURSOR, &p->cursor);
	for (const struct iqp_elem *c = iqp_find(&m, NULL, IQP_E_CONTEXT); c; c = iqp_next_same(c)) {
		uint32_t id = 0;
		const struct iqp_elem *t = iqp_find(&m, c, IQP_E_TERMINATION);
		const struct iqp_elem *r = iqp_find(&m, c, IQP_E_CALL_REF);
		uint8_t kind = 0, state = 0;
		if (!cf_u32(&m, c, IQP_E_CONTEXT_ID, &id) || !t || !iqp_find(&m, t, IQP_E_TERM_ID) ||
		    !cf_u8(&m, t, IQP_E_TERM_KIND, &kind) || !cf_u8(&m, t, IQP_E_TERM_STATE, &state)) {
			snprintf(why, len, "a CONTEXT lacks CONTEXT_ID or TERMINATION { TERM_ID, "
				 "TERM_KIND, TERM_STATE }");
			rc = -1;
			break;
		}
		if (id <= cursor || (p->n && id <= p->ids[p->n - 1])) {
			snprintf(why, len, "CONTEXT_ID %u not ascending above cursor %u", id, cursor);
			rc = -1;
			break;
		}
		if (refs) {
			refs[p->n] = calloc(1, 130);
			if (refs[p->n] && r)
				iqp_elem_strcpy(r, refs[p->n], 130);
		}
		p->ids[p->n++] = id;
	}
	cf_agw_call_free(&f, &m);
	if (!rc && p->n && (!p->has_cursor || p->cursor != p->ids[p->n - 1])) {
		snprintf(why, len, "AUDIT_CURSOR absent or not the last CONTEXT_ID returned");
		rc = -1;
	}
	if (!rc && p->more && !p->n) {
		snprintf(why, len, "AUDIT_MORE true on an empty page");
		rc = -1;
	}
	return rc;
}

static int index_of(const uint32_t *ids, unsigned n, uint32_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return (int)i;
	return -1;
}

/* 7.11 items 1, 2: five contexts listed with AUDIT_LIMIT 2: pages of at
 * most 2, ascending above the cursor, AUDIT_CURSOR = the last id, AUDIT_MORE
 * until the end, every context once with its CALL_REF; none after
 * RELEASE. */
enum cf_result cf_a_audit_list_paging(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t ids[5];
	unsigned done = 0, seen[5] = { 0 }, pages = 0;
	struct page *p = calloc(1, sizeof(*p));
	char *refs[4096] = { 0 };
	uint32_t cursor = 0;
	int e;

	if (!p)
		return CF_FAIL;
	if (cf_controller_link(x, why, len)) {
		free(p);
		return CF_FAIL;
	}
	if ((e = cf_agw_reserve_many(x, 5, 1, "cf-list-%u", ids, &done, why, len))) {
		if (e > 0)
			snprintf(why, len, "RESERVE refused: %d", e);
		rc = CF_FAIL;
		goto out;
	}
	do {
		if (list_page(x, cursor, 2, p, refs, why, len))
			FAIL_WHY("%s (page %u)", pages + 1);
		if (p->n > 2)
			FAIL("page %u has %u contexts, AUDIT_LIMIT 2", pages + 1, p->n);
		for (unsigned i = 0; i < p->n; i++) {
			int k = index_of(ids, 5, p->ids[i]);
			char want[32];
			if (k < 0)
				continue;
			snprintf(want, sizeof(want), "cf-list-%d", k);
			seen[k]++;
			if (!refs[i] || strcmp(refs[i], want))
				FAIL("context %u listed with CALL_REF \"%s\", want \"%s\"", p->ids[i],
				     refs[i] ? refs[i] : "", want);
		}
		for (unsigned i = 0; i < p->n; i++) {
			free(refs[i]);
			refs[i] = NULL;
		}
		if (p->n)
			cursor = p->cursor;
		pages++;
	} while (p->more && pages < 1000);
	for (unsigned k = 0; k < 5; k++)
		if (seen[k] != 1)
			FAIL("context %u listed %u times", ids[k], seen[k]);
	if (pages < 3)
		FAIL("5 contexts in %u pages of AUDIT_LIMIT 2", pages);
	for (unsigned k = 0; k < 5; k++)
		if (cf_agw_release(x, ids[k], 0, why, len) != CF_PASS)
			FAIL_WHY("RELEASE: %s");
	done = 0;
	if (list_page(x, 0, 4096, p, NULL, why, len))
		FAIL_WHY("after RELEASE: %s");
	for (unsigned k = 0; k < 5; k++)
		if (index_of(p->ids, p->n, ids[k]) >= 0)
			FAIL("released context %u still listed", ids[k]);
	snprintf(why, len, "5 contexts in %u pages", pages);
out:
	for (unsigned i = 0; i < 4096; i++)
		free(refs[i]);
	for (unsigned k = 0; k < done; k++)
		cf_agw_cleanup_release(x, ids[k], NULL, why, len);
	free(p);
	return rc;
}

/* Reserves n contexts of `terms` terminations (CALL_REFs from ref_fmt),
 * lists them all with AUDIT_LIMIT 4096: every page a valid reply (never
 * 533, at most MAX_FRAME bytes and MAX_ELEMENTS elements, both checked by
 * decoding it) and the first one short of the n contexts; then RELEASE of
 * ALL. */
static enum cf_result list_beyond_one_page(struct cf_ctx *x, unsigned n, unsigned terms,
					   const char *ref_fmt, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t *ids = calloc(n, sizeof(*ids));
	unsigned *seen = calloc(n, sizeof(*seen));
	struct page *p = calloc(1, sizeof(*p));
	unsigned done = 0, pages = 0, first = 0;
	uint32_t cursor = 0;
	int e;

	if (!ids || !seen || !p || cf_controller_link(x, why, len)) {
		rc = CF_FAIL;
		goto out;
	}
	if (x->agw.max_contexts < n + 10) {
		snprintf(why, len, "needs MAX_CONTEXTS >= %u, the AGW has %u", n + 10,
			 x->agw.max_contexts);
		rc = CF_SKIP;
		goto out;
	}
	if ((e = cf_agw_reserve_many(x, n, terms, ref_fmt, ids, &done, why, len))) {
		if (e > 0)
			snprintf(why, len, "RESERVE %u of %u refused: %d", done + 1, n, e);
		rc = CF_FAIL;
		goto out;
	}
	do {
		if (list_page(x, cursor, 4096, p, NULL, why, len))
			FAIL_WHY("%s (page %u)", pages + 1);
		if (p->frame_len > IQP_MAX_FRAME_MIN)
			FAIL("page %u is a %zu-byte frame, MAX_FRAME %u", pages + 1, p->frame_len,
			     IQP_MAX_FRAME_MIN);
		if (!pages)
			first = p->n;
		for (unsigned i = 0; i < p->n; i++) {
			int k = index_of(ids, n, p->ids[i]);
			if (k >= 0)
				seen[k]++;
		}
		if (p->n)
			cursor = p->cursor;
		pages++;
	} while (p->more && pages < 1000);
	if (pages < 2)
		FAIL("%u contexts in one page", first);
	for (unsigned k = 0; k < n; k++)
		if (seen[k] != 1)
			FAIL("context %u listed %u times", ids[k], seen[k]);
	snprintf(why, len, "%u contexts of %u termination(s): first page %u, %u pages", n, terms,
		 first, pages);
out:
	if (done)
		cf_agw_cleanup_release(x, IQP_ALL, &rc, why, len);
	free(ids);
	free(seen);
	free(p);
	return rc;
}

/* 7.11 item 2: a CONTEXT_LIST page fits the controller's MAX_FRAME (65 536:
 * the suite declares none): with more contexts than fit, AUDIT_LIMIT 4096
 * gets fewer, AUDIT_MORE, never 533; paging then lists every one. */
enum cf_result cf_a_audit_list_frame(struct cf_ctx *x, char *why, size_t len)
{
	/* CONTEXT (6) + CONTEXT_ID (10) + CALL_REF (6 + 128) + TERMINATION (6)
	 * + TERM_ID (10) + TERM_KIND (7) + TERM_STATE (7) = 180 bytes at
	 * least per listed context. */
	char fmt[160];
	memset(fmt, 'x', 128);
	memcpy(fmt, "cf-frame-%04u-", 14); /* "%04u" prints as many bytes as it has */
	fmt[128] = '\0';
	return list_beyond_one_page(x, IQP_MAX_FRAME_MIN / 180 + 8, 1, fmt, why, len);
}

/* 7.11 item 2, 4.3 item 3: the page also stays within MAX_ELEMENTS: with
 * 8 terminations a listed context has at least 2 + 8 x 4 = 34 elements. */
enum cf_result cf_a_audit_list_elements(struct cf_ctx *x, char *why, size_t len)
{
	return list_beyond_one_page(x, IQP_MAX_ELEMENTS / 34 + 4, 8, NULL, why, len);
}

/* A RESERVE of a W3 termination (ICE with remote credentials and a
 * candidate, DTLS PASSIVE with a remote fingerprint, one audio stream)
 * and an IMS termination with a remote address, connected by stream 1;
 * CALL_REF and PRIORITY on the context. */
static void reserve_w3_ims(struct cf_ctx *x, struct cf_msg *b, const uint8_t rfp[32])
{
	struct iqp_elem *ctx, *t, *ice, *cand, *dtls, *fp, *st, *codec;
	struct iqp_ipport a = { .ip = { .family = 4, .addr = { 127, 0, 0, 1 } }, .port = 40000 };

	cf_msg_start(x, b, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 0);
	iqp_add_container(&b->m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b->m, ctx, IQP_E_CONTEXT_ID, IQP_CHOOSE);
	iqp_add_str(&b->m, ctx, IQP_E_CALL_REF, "cf-audit-context");
	iqp_add_u8(&b->m, ctx, IQP_E_PRIORITY, 3);
	iqp_add_container(&b->m, ctx, IQP_E_TERMINATION, &t);
	iqp_add_u32(&b->m, t, IQP_E_TERM_ID, IQP_CHOOSE);
	iqp_add_enum(&b->m, t, IQP_E_TERM_KIND, IQP_TERM_W3);
	iqp_add_str(&b->m, t, IQP_E_REALM_NAME, cf_agw_w3_realm(x));
	iqp_add_container(&b->m, t, IQP_E_ICE, &ice);
	iqp_add_str(&b->m, ice, IQP_E_ICE_REMOTE_UFRAG, REMOTE_UFRAG);
	iqp_add_str(&b->m, ice, IQP_E_ICE_REMOTE_PWD, REMOTE_PWD);
	iqp_add_container(&b->m, ice, IQP_E_REMOTE_CANDIDATE, &cand);
	iqp_add_str(&b->m, cand, IQP_E_CAND_FOUNDATION, "cf1");
	iqp_add_u8(&b->m, cand, IQP_E_CAND_COMPONENT, 1);
	iqp_add_enum(&b->m, cand, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
	iqp_add_u32(&b->m, cand, IQP_E_CAND_PRIORITY, 2130706431u);
	iqp_add_ipport(&b->m, cand, IQP_E_CAND_ADDR, &a);
	iqp_add_enum(&b->m, cand, IQP_E_CAND_TYPE, 1 /* HOST */);
	iqp_add_container(&b->m, t, IQP_E_DTLS, &dtls);
	iqp_add_enum(&b->m, dtls, IQP_E_DTLS_SETUP, IQP_SETUP_PASSIVE);
	iqp_add_container(&b->m, dtls, IQP_E_REMOTE_FINGERPRINT, &fp);
	iqp_add_enum(&b->m, fp, IQP_E_FP_HASH, IQP_FP_SHA256);
	iqp_add_octets(&b->m, fp, IQP_E_FP_VALUE, rfp, 32);
	iqp_add_container(&b->m, t, IQP_E_STREAM, &st);
	iqp_add_u16(&b->m, st, IQP_E_STREAM_ID, 1);
	iqp_add_enum(&b->m, st, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(&b->m, st, IQP_E_TRANSPORT_PROTO, 6 /* UDP/TLS/RTP/SAVPF */);
	iqp_add_container(&b->m, st, IQP_E_CODEC, &codec);
	iqp_add_u8(&b->m, codec, IQP_E_PAYLOAD_TYPE, 0);
	iqp_add_str(&b->m, codec, IQP_E_CODEC_NAME, "PCMU");
	iqp_add_u32(&b->m, codec, IQP_E_CLOCK_RATE, 8000);
	iqp_add_container(&b->m, ctx, IQP_E_TERMINATION, &t);
	iqp_add_u32(&b->m, t, IQP_E_TERM_ID, IQP_CHOOSE);
	iqp_add_enum(&b->m, t, IQP_E_TERM_KIND, IQP_TERM_IMS);
	iqp_add_str(&b->m, t, IQP_E_REALM_NAME, cf_agw_ims_realm(x));
	iqp_add_container(&b->m, t, IQP_E_STREAM, &st);
	iqp_add_u16(&b->m, st, IQP_E_STREAM_ID, 1);
	iqp_add_enum(&b->m, st, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(&b->m, st, IQP_E_TRANSPORT_PROTO, 1 /* RTP/AVP */);
	a.port = 40002;
	iqp_add_ipport(&b->m, st, IQP_E_REMOTE_ADDR, &a);
	iqp_add_container(&b->m, st, IQP_E_CODEC, &codec);
	iqp_add_u8(&b->m, codec, IQP_E_PAYLOAD_TYPE, 0);
	iqp_add_str(&b->m, codec, IQP_E_CODEC_NAME, "PCMU");
	iqp_add_u32(&b->m, codec, IQP_E_CLOCK_RATE, 8000);
}

static bool same_str(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code,
		     const char *want)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	const char *s;
	size_t n;
	return e && !iqp_elem_str(e, &s, &n) && n == strlen(want) && !memcmp(s, want, n);
}

static bool same_octets(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code,
			const uint8_t *want, size_t wn)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	const uint8_t *v;
	size_t n;
	return e && !iqp_elem_octets(e, &v, &n) && n == wn && !memcmp(v, want, n);
}

static bool same_ipport(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code,
			const struct iqp_ipport *want)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	struct iqp_ipport a;
	return e && !iqp_elem_ipport(e, &a) && a.port == want->port &&
	       a.ip.family == want->ip.family && !memcmp(a.ip.addr, want->ip.addr, 4);
}

/* What the RESERVE reply said of the two terminations. */
struct reserved {
	uint32_t ctx, w3, ims;
	char lufrag[257], ltls[256];
	uint8_t lfp[64];
	size_t lfp_len;
	struct iqp_ipport ims_local;
};

static bool read_reserved(const struct iqp_msg *m, struct reserved *r)
{
	const struct iqp_elem *c = iqp_find(m, NULL, IQP_E_CONTEXT), *t1, *t2, *ice, *dtls, *fp, *e;
	const uint8_t *v;

	if (!c || !cf_u32(m, c, IQP_E_CONTEXT_ID, &r->ctx) ||
	    !(t1 = iqp_find(m, c, IQP_E_TERMINATION)) || !(t2 = iqp_next_same(t1)) ||
	    !cf_u32(m, t1, IQP_E_TERM_ID, &r->w3) || !cf_u32(m, t2, IQP_E_TERM_ID, &r->ims) ||
	    !(ice = iqp_find(m, t1, IQP_E_ICE)) || !(dtls = iqp_find(m, t1, IQP_E_DTLS)) ||
	    !(e = iqp_find(m, ice, IQP_E_ICE_LOCAL_UFRAG)) ||
	    iqp_elem_strcpy(e, r->lufrag, sizeof(r->lufrag)) ||
	    !(e = iqp_find(m, dtls, IQP_E_LOCAL_TLS_ID)) ||
	    iqp_elem_strcpy(e, r->ltls, sizeof(r->ltls)) ||
	    !(fp = iqp_find(m, dtls, IQP_E_LOCAL_FINGERPRINT)) ||
	    !(e = iqp_find(m, fp, IQP_E_FP_VALUE)) || iqp_elem_octets(e, &v, &r->lfp_len) ||
	    r->lfp_len > sizeof(r->lfp) || !(e = iqp_find(m, iqp_find(m, t2, IQP_E_STREAM),
							   IQP_E_LOCAL_ADDR)) ||
	    iqp_elem_ipport(e, &r->ims_local))
		return false;
	memcpy(r->lfp, v, r->lfp_len);
	return true;
}

/* 7.11 item 1, 8.7 column Au: CONTEXT returns the context as held: ids,
 * CALL_REF, PRIORITY, both terminations in order with their kind, realm
 * and state; the W3 ICE and DTLS local values as RESERVE gave them and
 * the remote ones as configured; the IMS local and remote addresses; the
 * codec; never ICE_REMOTE_PWD (8.7 note 4) nor ICE_LOCAL_PWD. */
enum cf_result cf_a_audit_context(struct cf_ctx *x, char *why, size_t len)
{
	static const uint8_t rfp[32] = { 0xC0, 0xF0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
					 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
					 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
					 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E };
	const struct iqp_ipport rcand = { .ip = { .family = 4, .addr = { 127, 0, 0, 1 } }, .port = 40000 };
	const struct iqp_ipport raddr = { .ip = { .family = 4, .addr = { 127, 0, 0, 1 } }, .port = 40002 };
	struct cf_msg b;
	struct cf_frame f = { 0 };
	struct iqp_msg m = { 0 };
	struct reserved r = { 0 };
	enum cf_result rc = CF_PASS;
	const struct iqp_elem *c, *t1, *t2, *ice, *dtls, *e, *st;
	uint8_t v8;
	uint32_t v32;

	LINK();
	if (!cf_agw_w3_realm(x) || !cf_agw_ims_realm(x)) {
		snprintf(why, len, "the AGW registered no W3 and IMS realms");
		return CF_SKIP;
	}
	reserve_w3_ims(x, &b, rfp);
	if (cf_agw_call(x, &b, &f, &m, why, len))
		FAIL_WHY("RESERVE: %s");
	bool ok = read_reserved(&m, &r);
	cf_agw_call_free(&f, &m);
	if (!ok)
		FAIL("RESERVE reply lacks ids, ICE_LOCAL_UFRAG, LOCAL_FINGERPRINT, LOCAL_TLS_ID or LOCAL_ADDR");
	audit(x, &b, IQP_AUDIT_CONTEXT, r.ctx, 0, 0);
	if (cf_agw_call(x, &b, &f, &m, why, len))
		FAIL_WHY("AUDIT CONTEXT: %s");
	if (memmem(f.body, f.hdr.body_len, REMOTE_PWD, strlen(REMOTE_PWD)) ||
	    cf_find_deep(&m, NULL, IQP_E_ICE_REMOTE_PWD) || cf_find_deep(&m, NULL, IQP_E_ICE_LOCAL_PWD))
		FAIL("the reply carries an ICE password (8.7 note 4)");
	if (!(c = iqp_find(&m, NULL, IQP_E_CONTEXT)) || iqp_next_same(c) ||
	    !cf_u32(&m, c, IQP_E_CONTEXT_ID, &v32) || v32 != r.ctx)
		FAIL("not one CONTEXT with CONTEXT_ID %u", r.ctx);
	if (!same_str(&m, c, IQP_E_CALL_REF, "cf-audit-context") ||
	    !cf_u8(&m, c, IQP_E_PRIORITY, &v8) || v8 != 3)
		FAIL("CALL_REF or PRIORITY not as reserved");
	if (!(t1 = iqp_find(&m, c, IQP_E_TERMINATION)) || !(t2 = iqp_next_same(t1)) ||
	    iqp_next_same(t2) || !cf_u32(&m, t1, IQP_E_TERM_ID, &v32) || v32 != r.w3 ||
	    !cf_u32(&m, t2, IQP_E_TERM_ID, &v32) || v32 != r.ims)
		FAIL("terminations are not %u (W3) then %u (IMS)", r.w3, r.ims);
	if (!cf_u8(&m, t1, IQP_E_TERM_KIND, &v8) || v8 != IQP_TERM_W3 ||
	    !cf_u8(&m, t2, IQP_E_TERM_KIND, &v8) || v8 != IQP_TERM_IMS ||
	    !same_str(&m, t1, IQP_E_REALM_NAME, cf_agw_w3_realm(x)) ||
	    !same_str(&m, t2, IQP_E_REALM_NAME, cf_agw_ims_realm(x)) ||
	    !iqp_find(&m, t1, IQP_E_TERM_STATE) || !iqp_find(&m, t2, IQP_E_TERM_STATE))
		FAIL("TERM_KIND, REALM_NAME or TERM_STATE missing or wrong");
	if (!(ice = iqp_find(&m, t1, IQP_E_ICE)) || !iqp_find(&m, ice, IQP_E_ICE_MODE) ||
	    !same_str(&m, ice, IQP_E_ICE_LOCAL_UFRAG, r.lufrag) ||
	    !iqp_find(&m, ice, IQP_E_LOCAL_CANDIDATE))
		FAIL("W3 ICE lacks ICE_MODE, the reserved ICE_LOCAL_UFRAG or LOCAL_CANDIDATE");
	if (!same_str(&m, ice, IQP_E_ICE_REMOTE_UFRAG, REMOTE_UFRAG))
		FAIL("ICE_REMOTE_UFRAG not as configured");
	/* A lite AGW need not keep candidates; if it returns them they are
	 * the configured ones. */
	if ((e = iqp_find(&m, ice, IQP_E_REMOTE_CANDIDATE)) &&
	    (!same_ipport(&m, e, IQP_E_CAND_ADDR, &rcand) ||
	     !cf_u32(&m, e, IQP_E_CAND_PRIORITY, &v32) || v32 != 2130706431u ||
	     !same_str(&m, e, IQP_E_CAND_FOUNDATION, "cf1")))
		FAIL("REMOTE_CANDIDATE not as configured");
	if (!(dtls = iqp_find(&m, t1, IQP_E_DTLS)) || !cf_u8(&m, dtls, IQP_E_DTLS_SETUP, &v8) ||
	    v8 != IQP_SETUP_PASSIVE || !same_str(&m, dtls, IQP_E_LOCAL_TLS_ID, r.ltls) ||
	    !(e = iqp_find(&m, dtls, IQP_E_LOCAL_FINGERPRINT)) ||
	    !same_octets(&m, e, IQP_E_FP_VALUE, r.lfp, r.lfp_len))
		FAIL("DTLS lacks DTLS_SETUP PASSIVE or the reserved LOCAL_TLS_ID/LOCAL_FINGERPRINT");
	if (!(e = iqp_find(&m, dtls, IQP_E_REMOTE_FINGERPRINT)) ||
	    !same_octets(&m, e, IQP_E_FP_VALUE, rfp, sizeof(rfp)))
		FAIL("REMOTE_FINGERPRINT not as configured");
	if (!(st = iqp_find(&m, t1, IQP_E_STREAM)) || !cf_u8(&m, st, IQP_E_MEDIA_TYPE, &v8) ||
	    v8 != IQP_MEDIA_AUDIO || !cf_u8(&m, st, IQP_E_TRANSPORT_PROTO, &v8) || v8 != 6 ||
	    !(e = iqp_find(&m, st, IQP_E_CODEC)) || !same_str(&m, e, IQP_E_CODEC_NAME, "PCMU"))
		FAIL("W3 STREAM lacks MEDIA_TYPE, TRANSPORT_PROTO or its CODEC");
	if (!(st = iqp_find(&m, t2, IQP_E_STREAM)) ||
	    !same_ipport(&m, st, IQP_E_LOCAL_ADDR, &r.ims_local) ||
	    !same_ipport(&m, st, IQP_E_REMOTE_ADDR, &raddr))
		FAIL("IMS STREAM lacks the reserved LOCAL_ADDR or the configured REMOTE_ADDR");
	snprintf(why, len, "context %u: W3 %u, IMS %u, %u bytes", r.ctx, r.w3, r.ims,
		 f.hdr.body_len);
out:
	cf_agw_call_free(&f, &m);
	if (r.ctx)
		cf_agw_cleanup_release(x, r.ctx, &rc, why, len);
	return rc;
}

/* 7.11 item 1, 9.4: STATISTICS gives STATS for every stream of every
 * termination, or only of the terminations listed; a TERM_ID the context
 * does not have: 430. */
enum cf_result cf_a_audit_statistics(struct cf_ctx *x, char *why, size_t len)
{
	static const uint8_t rfp[32] = { 1 };
	struct cf_msg b;
	struct cf_frame f = { 0 };
	struct iqp_msg m = { 0 };
	struct reserved r = { 0 };
	enum cf_result rc = CF_PASS;
	const struct iqp_elem *c, *t, *st, *s;
	struct iqp_elem *q, *qt;
	uint32_t v32;
	unsigned n = 0;

	LINK();
	if (!cf_agw_w3_realm(x) || !cf_agw_ims_realm(x)) {
		snprintf(why, len, "the AGW registered no W3 and IMS realms");
		return CF_SKIP;
	}
	reserve_w3_ims(x, &b, rfp);
	if (cf_agw_call(x, &b, &f, &m, why, len))
		FAIL_WHY("RESERVE: %s");
	bool ok = read_reserved(&m, &r);
	cf_agw_call_free(&f, &m);
	if (!ok)
		FAIL("RESERVE reply incomplete");
	audit(x, &b, IQP_AUDIT_STATISTICS, r.ctx, 0, 0);
	if (cf_agw_call(x, &b, &f, &m, why, len))
		FAIL_WHY("AUDIT STATISTICS: %s");
	c = iqp_find(&m, NULL, IQP_E_CONTEXT);
	for (t = c ? iqp_find(&m, c, IQP_E_TERMINATION) : NULL; t; t = iqp_next_same(t), n++)
		if (!(st = iqp_find(&m, t, IQP_E_STREAM)) || !(s = iqp_find(&m, st, IQP_E_STATS)) ||
		    !iqp_find(&m, st, IQP_E_STREAM_ID) || !iqp_find(&m, s, IQP_E_STATS_RX) ||
		    !iqp_find(&m, s, IQP_E_STATS_TX))
			FAIL("a TERMINATION lacks STREAM { STREAM_ID, STATS { STATS_RX, STATS_TX } }");
	if (!c || !cf_u32(&m, c, IQP_E_CONTEXT_ID, &v32) || v32 != r.ctx || n != 2)
		FAIL("want CONTEXT %u with 2 TERMINATIONs, got %u", r.ctx, n);
	cf_agw_call_free(&f, &m);
	/* Only the IMS termination. */
	audit(x, &b, IQP_AUDIT_STATISTICS, r.ctx, 0, 0);
	q = (struct iqp_elem *)iqp_find(&b.m, NULL, IQP_E_CONTEXT);
	iqp_add_container(&b.m, q, IQP_E_TERMINATION, &qt);
	iqp_add_u32(&b.m, qt, IQP_E_TERM_ID, r.ims);
	if (cf_agw_call(x, &b, &f, &m, why, len))
		FAIL_WHY("AUDIT STATISTICS of one termination: %s");
	c = iqp_find(&m, NULL, IQP_E_CONTEXT);
	t = c ? iqp_find(&m, c, IQP_E_TERMINATION) : NULL;
	if (!t || iqp_next_same(t) || !cf_u32(&m, t, IQP_E_TERM_ID, &v32) || v32 != r.ims)
		FAIL("want only TERMINATION %u", r.ims);
	cf_agw_call_free(&f, &m);
	audit(x, &b, IQP_AUDIT_STATISTICS, r.ctx, 0, 0);
	q = (struct iqp_elem *)iqp_find(&b.m, NULL, IQP_E_CONTEXT);
	iqp_add_container(&b.m, q, IQP_E_TERMINATION, &qt);
	iqp_add_u32(&b.m, qt, IQP_E_TERM_ID, r.ims + 1000);
	if (cf_agw_answered(x, &b, 430, why, len) != CF_PASS)
		FAIL_WHY("unknown TERM_ID: %s");
	snprintf(why, len, "context %u", r.ctx);
out:
	cf_agw_call_free(&f, &m);
	if (r.ctx)
		cf_agw_cleanup_release(x, r.ctx, &rc, why, len);
	return rc;
}

/* 7.11 item 2: CONTEXT and STATISTICS of an unknown context: 411. */
enum cf_result cf_a_audit_unknown(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	audit(x, &b, IQP_AUDIT_CONTEXT, 0x7FFFFF02u, 0, 0);
	if (cf_agw_answered(x, &b, 411, why, len) != CF_PASS)
		return CF_FAIL;
	audit(x, &b, IQP_AUDIT_STATISTICS, 0x7FFFFF02u, 0, 0);
	return cf_agw_answered(x, &b, 411, why, len);
}
