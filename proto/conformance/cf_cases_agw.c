/* Cases run against an AGW: the suite plays the controller.  The AGW
 * connects to the suite and registers; the cases share that link, and the
 * ones that end it on purpose come last (the AGW reconnects after its
 * backoff, 2.5). */
#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "cf_agw.h"
#include "iqp_validate.h"

/* 7.2, 11.2, 2.2: the AGW's REGISTER (validated when the link was made)
 * declares what a controller needs. */
static enum cf_result a_register(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	const struct iqp_node_info *a = &x->agw;
	bool v1 = false, cm80 = false;

	LINK();
	for (unsigned i = 0; i < a->n_versions; i++)
		v1 |= a->versions[i] >> 8 == 1;
	for (unsigned i = 0; i < a->caps.n_srtp; i++)
		cm80 |= a->caps.srtp[i] == 0x0001;
	if (!a->node_id[0] || !a->epoch)
		FAIL("NODE_ID or EPOCH missing");
	if (!v1)
		FAIL("no version 1.x offered");
	if (!a->max_contexts || !a->n_realms)
		FAIL("no CAPACITY MAX_CONTEXTS or no REALM");
	if (!cm80)
		FAIL("SRTP_AES128_CM_HMAC_SHA1_80 (0x0001) not offered (8.9.2 item 5: MUST)");
	if (x->tls) {
		const unsigned char *sel;
		unsigned n;
		SSL_get0_alpn_selected(x->link.tls.ssl, &sel, &n);
		if (SSL_version(x->link.tls.ssl) != TLS1_3_VERSION ||
		    n != strlen(IQP_ALPN) || memcmp(sel, IQP_ALPN, n))
			FAIL("not TLS 1.3 with ALPN %s", IQP_ALPN);
	}
	snprintf(why, len, "AGW %s, epoch %llu, %u realm(s), MAX_CONTEXTS %u", a->node_id,
		 (unsigned long long)a->epoch, a->n_realms, a->max_contexts);
out:
	return rc;
}

/* A request of ours on the link; its answer must carry error `want`
 * (0: success); the link must still answer a HEARTBEAT afterwards. */
enum cf_result cf_agw_answered(struct cf_ctx *x, struct cf_msg *b, unsigned want, char *why,
			       size_t len)
{
	struct cf_frame f;
	enum cf_result rc = CF_PASS;

	LINK();
	if (cf_request(x, &x->link, b, &f, why, len)) {
		cf_controller_unlink(x);
		return CF_FAIL;
	}
	bool err = f.hdr.kind == IQP_KIND_ACK ? f.error_code != 0 : (f.hdr.flags & IQP_FLAG_E) != 0;
	if (want ? (!err || f.error_code != want) : err)
		FAIL("got %s %u (%s), want %s %u", f.hdr.kind == IQP_KIND_ACK ? "ACK" : "REPLY",
		     f.error_code, f.error_text, want ? "error" : "success", want);
	if (want)
		snprintf(why, len, "%u %s", f.error_code, f.error_text);
	cf_frame_free(&f);
	struct cf_msg hb;
	cf_msg_start(x, &hb, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	if (cf_request(x, &x->link, &hb, &f, why, len)) {
		cf_controller_unlink(x);
		return CF_FAIL;
	}
out:
	cf_frame_free(&f);
	return rc;
}

static enum cf_result a_heartbeat(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	return cf_agw_answered(x, &b, 0, why, len);
}

static enum cf_result a_unknown_optional(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	cf_add_unknown(&b, NULL, false);
	return cf_agw_answered(x, &b, 0, why, len);
}

static enum cf_result a_unknown_mandatory(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	cf_add_unknown(&b, NULL, true);
	return cf_agw_answered(x, &b, 446, why, len);
}

static enum cf_result a_unknown_code(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, 0x0ABC, 0);
	return cf_agw_answered(x, &b, 443, why, len);
}

/* REGISTER is the AGW's request; from the controller it is 402. */
static enum cf_result a_wrong_role(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_REGISTER, 0);
	return cf_agw_answered(x, &b, 402, why, len);
}

/* 8.6 item 4: RELEASE of a context that does not exist: 411. */
static enum cf_result a_release_unknown(struct cf_ctx *x, char *why, size_t len)
{
	return cf_agw_release(x, 0x7FFFFF01u, 411, why, len);
}

/* 8.6 item 2: RELEASE of ALL contexts of the link always succeeds. */
static enum cf_result a_release_all(struct cf_ctx *x, char *why, size_t len)
{
	return cf_agw_release(x, IQP_ALL, 0, why, len);
}

/* 8.1 item 1: CONTEXT_ID 0 is never valid: 410. */
static enum cf_result a_context_zero(struct cf_ctx *x, char *why, size_t len)
{
	return cf_agw_release(x, 0, 410, why, len);
}

/* A RESERVE of one IMS termination with one PCMU stream in `realm`. */
void cf_agw_reserve_ims(struct cf_ctx *x, struct cf_msg *b, const char *realm)
{
	struct iqp_elem *ctx, *term, *st, *codec;
	cf_msg_start(x, b, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 0);
	iqp_add_container(&b->m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b->m, ctx, IQP_E_CONTEXT_ID, 0xFFFFFFFEu);
	iqp_add_container(&b->m, ctx, IQP_E_TERMINATION, &term);
	iqp_add_u32(&b->m, term, IQP_E_TERM_ID, 0xFFFFFFFEu);
	iqp_add_enum(&b->m, term, IQP_E_TERM_KIND, IQP_TERM_IMS);
	iqp_add_str(&b->m, term, IQP_E_REALM_NAME, realm);
	iqp_add_container(&b->m, term, IQP_E_STREAM, &st);
	iqp_add_u16(&b->m, st, IQP_E_STREAM_ID, 1);
	iqp_add_enum(&b->m, st, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(&b->m, st, IQP_E_TRANSPORT_PROTO, 1 /* RTP/AVP */);
	iqp_add_container(&b->m, st, IQP_E_CODEC, &codec);
	iqp_add_u8(&b->m, codec, IQP_E_PAYLOAD_TYPE, 0);
	iqp_add_str(&b->m, codec, IQP_E_CODEC_NAME, "PCMU");
	iqp_add_u32(&b->m, codec, IQP_E_CLOCK_RATE, 8000);
}

static const char *realm_of(const struct cf_ctx *x, unsigned side_bit)
{
	for (unsigned i = 0; i < x->agw.n_realms; i++)
		if (x->agw.realms[i].side & side_bit)
			return x->agw.realms[i].name;
	return NULL;
}

const char *cf_agw_ims_realm(const struct cf_ctx *x)
{
	return realm_of(x, 2);
}

const char *cf_agw_w3_realm(const struct cf_ctx *x)
{
	return realm_of(x, 1);
}

enum cf_result cf_agw_release(struct cf_ctx *x, uint32_t ctx_id, unsigned want, char *why,
			      size_t len)
{
	struct cf_msg b;
	struct iqp_elem *ctx;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_RELEASE, 0);
	iqp_add_container(&b.m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b.m, ctx, IQP_E_CONTEXT_ID, ctx_id);
	return cf_agw_answered(x, &b, want, why, len);
}

void cf_agw_cleanup_release(struct cf_ctx *x, uint32_t ctx_id, enum cf_result *rc, char *why,
			    size_t len)
{
	char keep[512];
	snprintf(keep, sizeof(keep), "%s", why);
	if (cf_agw_release(x, ctx_id, 0, why, len) != CF_PASS && rc && *rc == CF_PASS)
		*rc = CF_FAIL;
	else
		snprintf(why, len, "%s", keep);
}

/* Reads CONTEXT_ID, TERM_ID and the IMS stream's addresses of a RESERVE
 * reply; false when one is missing. */
bool cf_agw_reserve_reply(const struct cf_frame *f, uint32_t *ctx_id, uint32_t *term_id,
			  struct iqp_ipport *rtp, struct iqp_ipport *rtcp)
{
	const struct iqp_elem *c, *t, *st, *e;
	if (!f->parsed || !(c = iqp_find(&f->msg, NULL, IQP_E_CONTEXT)) ||
	    !(e = iqp_find(&f->msg, c, IQP_E_CONTEXT_ID)) || iqp_elem_u32(e, ctx_id) ||
	    !(t = iqp_find(&f->msg, c, IQP_E_TERMINATION)) ||
	    !(e = iqp_find(&f->msg, t, IQP_E_TERM_ID)) || iqp_elem_u32(e, term_id) ||
	    !iqp_find(&f->msg, t, IQP_E_TERM_STATE) || !(st = iqp_find(&f->msg, t, IQP_E_STREAM)) ||
	    !(e = iqp_find(&f->msg, st, IQP_E_LOCAL_ADDR)) || iqp_elem_ipport(e, rtp) ||
	    !(e = iqp_find(&f->msg, st, IQP_E_LOCAL_RTCP_ADDR)) || iqp_elem_ipport(e, rtcp))
		return false;
	return true;
}

/* 8.3, 8.10, 8.6: RESERVE of an IMS termination: CONTEXT_ID and TERM_ID
 * allocated, TERM_STATE, an even RTP port and RTCP on the next; RELEASE
 * succeeds, a second RELEASE finds nothing (411). */
static enum cf_result a_reserve_release(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f;
	uint32_t ctx_id = 0, term_id = 0;
	struct iqp_ipport rtp, rtcp;
	enum cf_result rc = CF_PASS;

	LINK();
	if (!cf_agw_ims_realm(x)) {
		snprintf(why, len, "the AGW registered no realm serving IMS");
		return CF_SKIP;
	}
	cf_agw_reserve_ims(x, &b, cf_agw_ims_realm(x));
	if (cf_request(x, &x->link, &b, &f, why, len)) {
		cf_controller_unlink(x);
		return CF_FAIL;
	}
	if (f.hdr.flags & IQP_FLAG_E)
		FAIL("RESERVE refused: %u %s", f.error_code, f.error_text);
	if (!cf_agw_reserve_reply(&f, &ctx_id, &term_id, &rtp, &rtcp))
		FAIL("reply lacks CONTEXT_ID, TERM_ID, TERM_STATE, LOCAL_ADDR or LOCAL_RTCP_ADDR");
	if (!ctx_id || ctx_id >= 0xFFFFFFFEu || !term_id || term_id >= 0xFFFFFFFEu)
		FAIL("allocated ids %u/%u are not valid (8.1)", ctx_id, term_id);
	if (rtp.port % 2 || rtcp.port != rtp.port + 1)
		FAIL("RTP port %u, RTCP port %u: want even and RTP + 1", rtp.port, rtcp.port);
	cf_frame_free(&f);
	if (cf_agw_release(x, ctx_id, 0, why, len) != CF_PASS)
		return CF_FAIL;
	if (cf_agw_release(x, ctx_id, 411, why, len) != CF_PASS)
		return CF_FAIL;
	snprintf(why, len, "context %u, RTP port %u", ctx_id, rtp.port);
	return CF_PASS;
out:
	cf_frame_free(&f);
	return rc;
}

/* 8.3 item 1: a realm the AGW does not have: 449. */
static enum cf_result a_reserve_unknown_realm(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_agw_reserve_ims(x, &b, "no-such-realm");
	return cf_agw_answered(x, &b, 449, why, len);
}

/* 8.9.1, RFC 8839 5.4: remote ICE credentials outside the ice-char set
 * are refused (449), not accepted and then ignored. */
static enum cf_result a_bad_remote_ice_pwd(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	struct iqp_elem *ctx, *term, *ice, *dtls, *st, *codec;
	const char *w3;

	LINK();
	if (!(w3 = cf_agw_w3_realm(x))) {
		snprintf(why, len, "the AGW registered no realm serving W3");
		return CF_SKIP;
	}
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 0);
	iqp_add_container(&b.m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b.m, ctx, IQP_E_CONTEXT_ID, 0xFFFFFFFEu);
	iqp_add_container(&b.m, ctx, IQP_E_TERMINATION, &term);
	iqp_add_u32(&b.m, term, IQP_E_TERM_ID, 0xFFFFFFFEu);
	iqp_add_enum(&b.m, term, IQP_E_TERM_KIND, IQP_TERM_W3);
	iqp_add_str(&b.m, term, IQP_E_REALM_NAME, w3);
	iqp_add_container(&b.m, term, IQP_E_ICE, &ice);
	iqp_add_str(&b.m, ice, IQP_E_ICE_REMOTE_UFRAG, "abcd");
	iqp_add_str(&b.m, ice, IQP_E_ICE_REMOTE_PWD, "not-ice-chars-but-long-enough");
	iqp_add_container(&b.m, term, IQP_E_DTLS, &dtls);
	iqp_add_enum(&b.m, dtls, IQP_E_DTLS_SETUP, IQP_SETUP_PASSIVE);
	iqp_add_container(&b.m, term, IQP_E_STREAM, &st);
	iqp_add_u16(&b.m, st, IQP_E_STREAM_ID, 1);
	iqp_add_enum(&b.m, st, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(&b.m, st, IQP_E_TRANSPORT_PROTO, 6 /* UDP/TLS/RTP/SAVPF */);
	iqp_add_container(&b.m, st, IQP_E_CODEC, &codec);
	iqp_add_u8(&b.m, codec, IQP_E_PAYLOAD_TYPE, 111);
	iqp_add_str(&b.m, codec, IQP_E_CODEC_NAME, "opus");
	iqp_add_u32(&b.m, codec, IQP_E_CLOCK_RATE, 48000);
	iqp_add_u8(&b.m, codec, IQP_E_CHANNELS, 2);
	return cf_agw_answered(x, &b, 449, why, len);
}

/* 8.2 item 1: CONFIGURE of a termination the context does not have: 430. */
static enum cf_result a_configure_unknown_term(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f;
	uint32_t ctx_id, term_id;
	struct iqp_ipport rtp, rtcp;
	struct iqp_elem *ctx, *term;

	LINK();
	if (!cf_agw_ims_realm(x)) {
		snprintf(why, len, "the AGW registered no realm serving IMS");
		return CF_SKIP;
	}
	cf_agw_reserve_ims(x, &b, cf_agw_ims_realm(x));
	if (cf_request(x, &x->link, &b, &f, why, len)) {
		cf_controller_unlink(x);
		return CF_FAIL;
	}
	bool ok = !(f.hdr.flags & IQP_FLAG_E) && cf_agw_reserve_reply(&f, &ctx_id, &term_id, &rtp, &rtcp);
	cf_frame_free(&f);
	if (!ok) {
		snprintf(why, len, "RESERVE failed");
		return CF_FAIL;
	}
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_CONFIGURE, 0);
	iqp_add_container(&b.m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b.m, ctx, IQP_E_CONTEXT_ID, ctx_id);
	iqp_add_container(&b.m, ctx, IQP_E_TERMINATION, &term);
	iqp_add_u32(&b.m, term, IQP_E_TERM_ID, term_id + 1000);
	enum cf_result r = cf_agw_answered(x, &b, 430, why, len);
	cf_agw_cleanup_release(x, ctx_id, &r, why, len);
	return r;
}

/* 6.5 item 2: a RESERVE repeated with its txid gets the cached REPLY byte
 * for byte and allocates nothing more. */
static enum cf_result a_reserve_cached(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f1, f2;
	uint32_t c1 = 0, t1, c2 = 0, t2;
	struct iqp_ipport rtp, rtcp;
	enum cf_result rc = CF_PASS;

	LINK();
	if (!cf_agw_ims_realm(x)) {
		snprintf(why, len, "the AGW registered no realm serving IMS");
		return CF_SKIP;
	}
	cf_agw_reserve_ims(x, &b, cf_agw_ims_realm(x));
	if (cf_request(x, &x->link, &b, &f1, why, len)) {
		cf_controller_unlink(x);
		return CF_FAIL;
	}
	if (cf_request(x, &x->link, &b, &f2, why, len)) {
		cf_frame_free(&f1);
		cf_controller_unlink(x);
		return CF_FAIL;
	}
	cf_agw_reserve_reply(&f1, &c1, &t1, &rtp, &rtcp);
	cf_agw_reserve_reply(&f2, &c2, &t2, &rtp, &rtcp);
	if (f1.hdr.body_len != f2.hdr.body_len || f1.hdr.flags != f2.hdr.flags ||
	    (f1.hdr.body_len && memcmp(f1.body, f2.body, f1.hdr.body_len)))
		FAIL("second REPLY differs (contexts %u and %u)", c1, c2);
out:
	cf_frame_free(&f1);
	cf_frame_free(&f2);
	if (c1)
		cf_agw_release(x, c1, 0, why, len);
	if (c2 && c2 != c1)
		cf_agw_cleanup_release(x, c2, NULL, why, len);
	return rc;
}

/* 3.5 checks 1 and 7.5 item 2 end the link: they come last. */
static enum cf_result a_bad_magic(struct cf_ctx *x, char *why, size_t len)
{
	uint8_t h[IQP_HEADER_LEN];
	struct iqp_header hd = { .version = 1, .kind = IQP_KIND_REQUEST, .code = IQP_MSG_HEARTBEAT,
				 .txid = cf_txid(x) };
	unsigned code = 0;
	enum cf_result rc = CF_PASS;

	LINK();
	iqp_header_encode(&hd, h);
	h[1] = 'X';
	cf_conn_send_raw(&x->link, h, sizeof(h));
	if (!cf_expect_close(x, &x->link, x->timeout_ms, &code, why, len) || code != 1100)
		FAIL_WHY("%s; want CLOSE 1100");
out:
	cf_controller_unlink(x);
	return rc;
}

/* 7.5 item 2: granted HB_INTERVAL 1 s and left unanswered, the AGW closes
 * with 1104 after T_INACT. */
static enum cf_result a_inactivity(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_frame f;
	enum cf_result rc = CF_PASS;
	uint32_t saved = x->hb_ms;
	unsigned code = 0;

	cf_controller_unlink(x);
	x->hb_ms = 1000;
	int e = cf_controller_link(x, why, len);
	x->hb_ms = saved;
	if (e)
		return CF_FAIL;
	for (;;) {
		if (cf_conn_recv(&x->link, 3000 + 3000, &f))
			FAIL("no CLOSE 1104 within T_INACT (3 s) + 3 s");
		bool close = f.hdr.kind == IQP_KIND_CLOSE;
		code = f.error_code;
		cf_frame_free(&f);
		if (close)
			break;
	}
	if (code != 1104)
		FAIL("CLOSE %u, want 1104", code);
out:
	cf_controller_unlink(x);
	return rc;
}

const struct cf_case cf_agw_cases[] = {
	{ "7.2, 11.2, 2.2", "REGISTER declares node, epoch, version 1, capacity, realms, SRTP 0x0001", CF_AGW, false, a_register },
	{ "7.5 item 1", "HEARTBEAT answered", CF_AGW, false, a_heartbeat },
	{ "4.5 item 2", "unknown element with M clear is skipped", CF_AGW, false, a_unknown_optional },
	{ "4.5 item 3", "unknown element with M set: 446", CF_AGW, false, a_unknown_mandatory },
	{ "3.5 check 6", "unknown request code: 443", CF_AGW, false, a_unknown_code },
	{ "3.5 check 9", "REGISTER from a controller: 402", CF_AGW, false, a_wrong_role },
	{ "8.1 item 1", "CONTEXT_ID 0: 410", CF_AGW, false, a_context_zero },
	{ "8.6 item 4", "RELEASE of an unknown context: 411", CF_AGW, false, a_release_unknown },
	{ "8.6 item 2", "RELEASE of ALL contexts succeeds", CF_AGW, false, a_release_all },
	{ "8.3, 8.10, 8.6", "RESERVE IMS termination (ids, even RTP port, RTCP + 1), RELEASE, then 411", CF_AGW, false, a_reserve_release },
	{ "8.3 item 1", "RESERVE in an unknown realm: 449", CF_AGW, false, a_reserve_unknown_realm },
	{ "8.9.1", "remote ICE password outside the ice-char set: 449", CF_AGW, false, a_bad_remote_ice_pwd },
	{ "8.2 item 1", "CONFIGURE of an unknown termination: 430", CF_AGW, false, a_configure_unknown_term },
	{ "6.5 item 2", "repeated RESERVE txid: the cached REPLY, nothing more allocated", CF_AGW, false, a_reserve_cached },
	{ "7.11 item 1", "AUDIT CAPABILITIES: CAPACITY, LOAD, REALM list, CAPABILITIES as registered", CF_AGW, false, cf_a_audit_capabilities },
	{ "7.11 items 1, 2", "AUDIT CONTEXT_LIST paging: 5 contexts, AUDIT_LIMIT 2, AUDIT_CURSOR, AUDIT_MORE", CF_AGW, false, cf_a_audit_list_paging },
	{ "7.11 item 2", "AUDIT CONTEXT_LIST page fits MAX_FRAME: fewer than AUDIT_LIMIT, never 533", CF_AGW, false, cf_a_audit_list_frame },
	{ "7.11 item 2, 4.3 item 3", "AUDIT CONTEXT_LIST page within MAX_ELEMENTS (contexts of 8 terminations)", CF_AGW, false, cf_a_audit_list_elements },
	{ "7.11 item 1, 8.7 Au", "AUDIT CONTEXT: the context as held, never ICE_REMOTE_PWD", CF_AGW, false, cf_a_audit_context },
	{ "7.11 item 1, 9.4", "AUDIT STATISTICS: STATS per stream, per listed termination, 430", CF_AGW, false, cf_a_audit_statistics },
	{ "7.11 item 2", "AUDIT CONTEXT and STATISTICS of an unknown context: 411", CF_AGW, false, cf_a_audit_unknown },
	{ "7.7 items 2, 3, 5", "SERVICE_CHANGE GRACEFUL 905: new context 521, existing served; RESTART 918 restores", CF_AGW, false, cf_a_drain },
	{ "7.7 item 4, 7.8 item 3", "draining, last context released: the AGW sends FORCED 905; 503; RESTART 900", CF_AGW, false, cf_a_drain_last_release },
	{ "7.7 item 4", "GRACEFUL with SC_DELAY 1: contexts released and FORCED 905 at the deadline", CF_AGW, false, cf_a_drain_delay },
	{ "7.8 item 2, 7.1", "SERVICE_CHANGE FORCED 905 releases every context (RELEASE 411, no EVENT); 503; RESTART 900", CF_AGW, false, cf_a_forced },
	{ "11.4", "SERVICE_CHANGE out of state (401) or not permitted from a controller (449)", CF_AGW, false, cf_a_sc_refused },
	{ "7.7 item 6", "draining survives link loss: SERVICE_CHANGE GRACEFUL is the first request after re-registration", CF_AGW, false, cf_a_drain_link_loss },
	{ "7.6 item 2, 11.5", "NODE_STATUS when ACTIVE_CONTEXTS moves by more than 10 % of MAX_CONTEXTS, at most one per T_STATUS_MIN", CF_AGW, false, cf_a_node_status },
	{ "7.6 items 2, 3, 4", "overload: each level rise reported at once; CRITICAL: 511, EMERGENCY and PRIORITY 8 admitted", CF_AGW, false, cf_a_overload },
	{ "7.4 item 1, 7.2.1", "REGISTER refused with 1300: CLOSE 1000, REGISTER HANDOFF 903 at the REDIRECT_TARGET", CF_AGW, false, cf_a_redirect },
	{ "7.4 items 1, 4", "every REDIRECT_TARGET fails: back to the configured list, not HANDOFF", CF_AGW, false, cf_a_redirect_dead },
	{ "7.4 item 3, 2.5 item 4", "at most MAX_REDIRECTS (3) redirects in a row are followed", CF_AGW, false, cf_a_redirect_limit },
	{ "7.4 item 2", "SERVICE_CHANGE HANDOFF 903: reply, CLOSE 1000, REGISTER HANDOFF 903 at the target", CF_AGW, false, cf_a_handoff },
	{ "3.5 check 1", "bad magic: CLOSE 1100", CF_AGW, false, a_bad_magic },
	{ "7.5 item 2", "unanswered controller: CLOSE 1104 after T_INACT", CF_AGW, false, a_inactivity },
};
const size_t cf_n_agw_cases = sizeof(cf_agw_cases) / sizeof(cf_agw_cases[0]);
