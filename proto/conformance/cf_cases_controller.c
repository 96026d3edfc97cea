/* Cases run against a controller: the suite plays an AGW.  Each case uses
 * a connection of its own, so that a refusal never spoils the next. */
#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cf_controller.h"
#include "iqp_validate.h"


/* Opens a connection and registers; on failure the case fails. */
enum cf_result cf_ctl_open_registered(struct cf_ctx *x, struct cf_conn *c, struct cf_frame *reply,
				      char *why, size_t len)
{
	if (cf_agw_connect(x, c, why, len))
		return CF_FAIL;
	if (cf_agw_register(x, c, &x->self, reply, why, len)) {
		cf_conn_close(c);
		return CF_FAIL;
	}
	return CF_PASS;
}

/* Connects, and registers when asked to. */
static enum cf_result open_maybe_registered(struct cf_ctx *x, struct cf_conn *c, bool registered,
					    char *why, size_t len)
{
	if (registered)
		return cf_ctl_open_registered(x, c, NULL, why, len);
	return cf_agw_connect(x, c, why, len) ? CF_FAIL : CF_PASS;
}

/* 7.2, 11.2: a valid REGISTER gets a success REPLY with NODE_ID, EPOCH,
 * one VERSION and LINK_PARAMS with HB_INTERVAL, valid per 4.4. */
static enum cf_result c_register(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct iqp_msg m;
	struct iqp_error err;
	uint8_t arena[16384];
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, &f, why, len))
		return CF_FAIL;
	if (iqp_msg_decode(&m, &f.hdr, f.body, IQP_ROLE_CONTROLLER, 0, arena, sizeof(arena), &err)) {
		iqp_msg_free(&m);
		FAIL("the REGISTER reply does not validate: %u %s", err.code, err.text);
	}
	struct iqp_node_info ctl = { 0 };
	iqp_link_reg_parse_reply(&m, &ctl);
	iqp_msg_free(&m);
	if (!ctl.node_id[0] || !ctl.epoch || ctl.n_versions != 1 || !ctl.params.hb_interval)
		FAIL("reply lacks NODE_ID, EPOCH, one VERSION or HB_INTERVAL");
	if (ctl.versions[0] >> 8 != 1)
		FAIL("selected version 0x%04x is not one we offered", ctl.versions[0]);
	if (x->expect_name && strcmp(ctl.node_id, x->expect_name))
		FAIL("NODE_ID \"%s\" is not the expected \"%s\"", ctl.node_id, x->expect_name);
	snprintf(why, len, "controller %s, epoch %llu, HB_INTERVAL %u ms", ctl.node_id,
		 (unsigned long long)ctl.epoch, ctl.params.hb_interval);
out:
	cf_frame_free(&f);
	cf_conn_close(&c);
	return rc;
}

/* 2.2 items 1 and 3: TLS 1.3, ALPN iqplus/1 selected. */
static enum cf_result c_tls(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	const unsigned char *sel;
	unsigned n;
	enum cf_result rc = CF_PASS;

	if (!x->tls) {
		snprintf(why, len, "plain TCP link");
		return CF_SKIP;
	}
	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	SSL_get0_alpn_selected(c.tls.ssl, &sel, &n);
	if (SSL_version(c.tls.ssl) != TLS1_3_VERSION)
		FAIL("negotiated %s", SSL_get_version(c.tls.ssl));
	if (n != strlen(IQP_ALPN) || memcmp(sel, IQP_ALPN, n))
		FAIL("ALPN %s not selected", IQP_ALPN);
out:
	cf_conn_close(&c);
	return rc;
}

/* 7.5 item 1: HEARTBEAT gets an empty REPLY. */
static enum cf_result c_heartbeat(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct cf_msg b;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	if (cf_request(x, &c, &b, &f, why, len)) {
		rc = CF_FAIL;
		goto out_nof;
	}
	if (f.hdr.flags & IQP_FLAG_E)
		FAIL("error reply %u", f.error_code);
	if (f.hdr.body_len)
		FAIL("reply body is %u bytes, not empty", f.hdr.body_len);
out:
	cf_frame_free(&f);
out_nof:
	cf_conn_close(&c);
	return rc;
}

/* One request of ours on a registered link must get an error REPLY (or
 * ACK) with `want`; the link then still answers a HEARTBEAT (4.4
 * "Reporting" item 5). */
static enum cf_result refused_with(struct cf_ctx *x, struct cf_msg *b, unsigned want,
				   bool registered, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	enum cf_result rc = CF_PASS;

	if (open_maybe_registered(x, &c, registered, why, len))
		return CF_FAIL;
	if (cf_request(x, &c, b, &f, why, len)) {
		rc = CF_FAIL;
		goto out_nof;
	}
	bool is_ack = f.hdr.kind == IQP_KIND_ACK;
	if ((!is_ack && !(f.hdr.flags & IQP_FLAG_E)) || f.error_code != want)
		FAIL("got %s%s %u (%s), want %u", is_ack ? "ACK" : "REPLY",
		     (f.hdr.flags & IQP_FLAG_E) ? " E" : "", f.error_code, f.error_text, want);
	if (registered) {
		struct cf_msg hb;
		struct cf_frame g;
		cf_msg_start(x, &hb, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
		if (cf_request(x, &c, &hb, &g, why, len))
			FAIL_WHY("link unusable after the refusal: %s");
		cf_frame_free(&g);
	}
	snprintf(why, len, "%u %s", f.error_code, f.error_text);
out:
	cf_frame_free(&f);
out_nof:
	cf_conn_close(&c);
	return rc;
}

/* 4.5 item 3: an unknown element with M set refuses the message (446). */
static enum cf_result c_unknown_mandatory(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	cf_add_unknown(&b, NULL, true);
	return refused_with(x, &b, 446, true, why, len);
}

/* 4.5 item 2: an unknown element with M clear is skipped. */
static enum cf_result c_unknown_optional(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct cf_msg b;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	cf_add_unknown(&b, NULL, false);
	if (cf_request(x, &c, &b, &f, why, len)) {
		rc = CF_FAIL;
		goto out_nof;
	}
	if (f.hdr.flags & IQP_FLAG_E)
		FAIL("refused with %u (%s)", f.error_code, f.error_text);
out:
	cf_frame_free(&f);
out_nof:
	cf_conn_close(&c);
	return rc;
}

/* 3.5 check 6: an unknown request code gets 443. */
static enum cf_result c_unknown_code(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, 0x0ABC, 0);
	return refused_with(x, &b, 443, true, why, len);
}

/* 3.5 check 9: RESERVE is a controller's request; from an AGW it gets 402. */
static enum cf_result c_wrong_role(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 0);
	return refused_with(x, &b, 402, true, why, len);
}

/* 3.5 check 8: a NOTIFY with a request code gets an ACK with 401. */
static enum cf_result c_wrong_kind(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_NOTIFY, IQP_MSG_RESERVE, 0);
	return refused_with(x, &b, 401, true, why, len);
}

/* 4.4 pass 2e: a duplicate single element (two HB_INTERVALs in
 * LINK_PARAMS... of a HEARTBEAT's LOAD: two CPU_LOADs) gets 456. */
static enum cf_result c_duplicate(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	struct iqp_elem *load;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	iqp_append_raw(&b.m, NULL, 0xC000 | IQP_E_LOAD, NULL, 0, &load);
	iqp_append_raw(&b.m, load, IQP_E_CPU_LOAD, "\x0a", 1, NULL);
	iqp_append_raw(&b.m, load, IQP_E_CPU_LOAD, "\x0b", 1, NULL);
	return refused_with(x, &b, 456, true, why, len);
}

/* A HEARTBEAT whose body is the raw bytes given (what the builder refuses
 * to make) must get an error REPLY with `want` (4.3). */
static enum cf_result raw_body_refused(struct cf_ctx *x, const uint8_t *body, size_t n,
				       unsigned want, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	uint32_t txid = cf_txid(x);
	cf_send_header(&c, 1, IQP_KIND_REQUEST, 0, IQP_MSG_HEARTBEAT, txid, (uint32_t)n, body, n);
	if (cf_expect_answer(x, &c, txid, IQP_KIND_REPLY, IQP_MSG_HEARTBEAT, &f, why, len)) {
		rc = CF_FAIL;
		goto out_nof;
	}
	if (!(f.hdr.flags & IQP_FLAG_E) || f.error_code != want)
		FAIL("got %u, want error %u", f.error_code, want);
out:
	cf_frame_free(&f);
out_nof:
	cf_conn_close(&c);
	return rc;
}

/* 4.3 item 1: a child past the end of its parent is 1001. */
static enum cf_result c_overrun(struct cf_ctx *x, char *why, size_t len)
{
	/* LOAD container of length 7 holding CPU_LOAD whose value claims 2
	 * bytes: the child ends one byte past its parent. */
	static const uint8_t body[] = { 0xC0, 0x84, 0, 0, 0, 7, 0x00, 0x87, 0, 0, 0, 2, 10 };

	return raw_body_refused(x, body, sizeof(body), 1001, why, len);
}

/* 6.9 item 2: a request before REGISTER gets 505. */
static enum cf_result c_before_register(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	return refused_with(x, &b, 505, false, why, len);
}

/* 6.9 item 2: after 4 such frames, CLOSE 401. */
static enum cf_result c_before_register_close(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	unsigned code = 0;
	enum cf_result rc = CF_PASS;

	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	for (int i = 0; i < 5; i++) {
		struct cf_msg b;
		cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
		if (cf_conn_send_msg(&c, &b.m))
			break;
	}
	if (!cf_expect_close(x, &c, x->timeout_ms, &code, why, len) || code != 401)
		FAIL_WHY("%s; want CLOSE 401");
out:
	cf_conn_close(&c);
	return rc;
}

/* 6.9 item 4: a second REGISTER on a registered connection gets 401. */
static enum cf_result c_register_twice(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	int e = cf_agw_register(x, &c, &x->self, &f, why, len);
	if (e != EACCES) {
		if (!e)
			cf_frame_free(&f);
		FAIL("second REGISTER %s", e ? why : "accepted");
	}
	if (f.error_code != 401)
		FAIL("refused with %u, want 401", f.error_code);
	cf_frame_free(&f);
out:
	cf_conn_close(&c);
	return rc;
}

/* A raw header refused with CLOSE `want` (3.5). */
static enum cf_result closed_by_header(struct cf_ctx *x, bool registered, const uint8_t *hdr,
				       unsigned want, char *why, size_t len)
{
	struct cf_conn c;
	unsigned code = 0;
	enum cf_result rc = CF_PASS;

	if (open_maybe_registered(x, &c, registered, why, len))
		return CF_FAIL;
	cf_conn_send_raw(&c, hdr, IQP_HEADER_LEN);
	if (!cf_expect_close(x, &c, x->timeout_ms, &code, why, len) || code != want)
		FAIL_WHY("%s; want CLOSE %u", want);
out:
	cf_conn_close(&c);
	return rc;
}

static void header(uint8_t *out, uint8_t version, uint8_t kind, uint16_t code, uint32_t txid,
		   uint32_t body_len)
{
	struct iqp_header h = { .version = version, .kind = kind, .code = code, .txid = txid,
				.body_len = body_len };
	iqp_header_encode(&h, out);
}

static enum cf_result c_bad_magic(struct cf_ctx *x, char *why, size_t len)
{
	uint8_t h[IQP_HEADER_LEN];
	header(h, 1, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, cf_txid(x), 0);
	h[0] = 'X';
	return closed_by_header(x, true, h, 1100, why, len);
}

static enum cf_result c_bad_kind(struct cf_ctx *x, char *why, size_t len)
{
	uint8_t h[IQP_HEADER_LEN];
	header(h, 1, 9, IQP_MSG_HEARTBEAT, cf_txid(x), 0);
	return closed_by_header(x, true, h, 1102, why, len);
}

static enum cf_result c_too_large(struct cf_ctx *x, char *why, size_t len)
{
	uint8_t h[IQP_HEADER_LEN];
	header(h, 1, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, cf_txid(x), 16u << 20);
	return closed_by_header(x, true, h, 1101, why, len);
}

static enum cf_result c_txid_zero(struct cf_ctx *x, char *why, size_t len)
{
	uint8_t h[IQP_HEADER_LEN];
	header(h, 1, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0, 0);
	return closed_by_header(x, true, h, 1102, why, len);
}

/* 3.5 check 2 before registration: an unknown major gets CLOSE 406 with
 * the supported VERSIONs. */
static enum cf_result c_bad_version(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	enum cf_result rc = CF_PASS;
	uint8_t h[IQP_HEADER_LEN];

	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	header(h, 9, IQP_KIND_REQUEST, IQP_MSG_REGISTER, cf_txid(x), 0);
	cf_conn_send_raw(&c, h, sizeof(h));
	if (cf_conn_recv(&c, x->timeout_ms, &f))
		FAIL("no CLOSE: %s", c.why[0] ? c.why : "timed out or closed");
	if (f.hdr.kind != IQP_KIND_CLOSE || f.error_code != 406) {
		cf_frame_free(&f);
		FAIL("got kind %u error %u; want CLOSE 406", f.hdr.kind, f.error_code);
	}
	uint16_t v[16];
	size_t n = f.parsed ? iqp_link_reg_versions(&f.msg, v, 16) : 0;
	cf_frame_free(&f);
	if (!n)
		FAIL("CLOSE 406 without the supported VERSIONs");
out:
	cf_conn_close(&c);
	return rc;
}

/* 5.2, 7.3: a REGISTER offering only an unknown major gets 406 with the
 * controller's VERSIONs. */
static enum cf_result c_no_common_version(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct iqp_node_info me = x->self;
	enum cf_result rc = CF_PASS;

	me.versions[0] = 0x0900;
	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	int e = cf_agw_register(x, &c, &me, &f, why, len);
	if (e != EACCES) {
		if (!e)
			cf_frame_free(&f);
		FAIL("REGISTER with version 9.0 only: %s", e ? why : "accepted");
	}
	uint16_t v[16];
	size_t n = f.parsed ? iqp_link_reg_versions(&f.msg, v, 16) : 0;
	unsigned code = f.error_code;
	cf_frame_free(&f);
	if (code != 406 || !n)
		FAIL("refused with %u and %zu VERSIONs; want 406 with the supported ones", code, n);
out:
	cf_conn_close(&c);
	return rc;
}

/* 7.2.3 check 2: a NODE_ID the certificate does not carry gets 504. */
static enum cf_result c_wrong_node_id(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct iqp_node_info me = x->self;
	enum cf_result rc = CF_PASS;

	if (!x->tls) {
		snprintf(why, len, "plain TCP link: NODE_ID is unauthenticated (2.3)");
		return CF_SKIP;
	}
	snprintf(me.node_id, sizeof(me.node_id), "not-%s", x->self.node_id);
	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	int e = cf_agw_register(x, &c, &me, &f, why, len);
	if (e != EACCES) {
		if (!e)
			cf_frame_free(&f);
		FAIL("REGISTER as \"%s\": %s", me.node_id, e ? why : "accepted");
	}
	unsigned code = f.error_code;
	cf_frame_free(&f);
	if (code != 504)
		FAIL("refused with %u, want 504", code);
out:
	cf_conn_close(&c);
	return rc;
}

/* 3.5 check 10: a REPLY to no transaction of ours is discarded. */
static enum cf_result c_stray_reply(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct cf_msg b;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_REPLY, IQP_MSG_HEARTBEAT, 0x7FFFFFF0u);
	cf_conn_send_msg(&c, &b.m);
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 0);
	if (cf_request(x, &c, &b, &f, why, len)) {
		rc = CF_FAIL;
		goto out;
	}
	cf_frame_free(&f);
out:
	cf_conn_close(&c);
	return rc;
}

/* 7.6, 6.4 item 1: NODE_STATUS with LOAD is ACKed. */
static enum cf_result c_node_status(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct cf_msg b;
	struct iqp_load load = { .has = IQP_LOAD_ACTIVE | IQP_LOAD_CPU, .active_contexts = 3,
				 .cpu_load = 12 };
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_NOTIFY, IQP_MSG_NODE_STATUS, 0);
	iqp_link_reg_add_load(&b.m, NULL, &load);
	if (cf_request(x, &c, &b, &f, why, len)) {
		rc = CF_FAIL;
		goto out;
	}
	if (f.error_code)
		FAIL("ACK carries error %u (%s)", f.error_code, f.error_text);
	cf_frame_free(&f);
out:
	cf_conn_close(&c);
	return rc;
}

/* 4.3 item 2: an element nested deeper than MAX_DEPTH (8): 1002. */
static enum cf_result c_too_deep(struct cf_ctx *x, char *why, size_t len)
{
	uint8_t body[9 * 6];

	/* Nine nested containers of an unregistered code with M clear (the
	 * builder refuses to make them): structure is checked before
	 * anything is skipped (4.4 pass 1). */
	for (int i = 0; i < 9; i++) {
		uint32_t inner = (uint32_t)(8 - i) * 6;
		uint8_t *h = body + 6 * i;
		h[0] = 0x7F; /* C set, M clear, code 0x3F01 */
		h[1] = 0x01;
		h[2] = (uint8_t)(inner >> 24);
		h[3] = (uint8_t)(inner >> 16);
		h[4] = (uint8_t)(inner >> 8);
		h[5] = (uint8_t)inner;
	}
	return raw_body_refused(x, body, sizeof(body), 1002, why, len);
}

const struct cf_case cf_controller_cases[] = {
	{ "2.2 items 1, 3", "TLS 1.3 with ALPN iqplus/1", CF_CONTROLLER, false, c_tls },
	{ "7.2, 11.2", "REGISTER accepted: NODE_ID, EPOCH, one VERSION, HB_INTERVAL", CF_CONTROLLER, false, c_register },
	{ "7.5 item 1", "HEARTBEAT answered with an empty REPLY", CF_CONTROLLER, false, c_heartbeat },
	{ "4.5 item 2", "unknown element with M clear is skipped", CF_CONTROLLER, false, c_unknown_optional },
	{ "4.5 item 3", "unknown element with M set: 446", CF_CONTROLLER, false, c_unknown_mandatory },
	{ "4.4 pass 2e", "duplicate single element: 456", CF_CONTROLLER, false, c_duplicate },
	{ "4.3 item 1", "child past the end of its parent: 1001", CF_CONTROLLER, false, c_overrun },
	{ "4.3 item 2", "nesting deeper than MAX_DEPTH: 1002", CF_CONTROLLER, false, c_too_deep },
	{ "9.1 item 4", "EVENT for an unknown context is ACKed", CF_CONTROLLER, false, cf_c_event_unknown_context },
	{ "7.9 item 3, 7.11 item 3", "re-registration with the same epoch: AUDIT CONTEXT_LIST, unowned context RELEASEd", CF_CONTROLLER, false, cf_c_reconcile },
	{ "3.5 check 6", "unknown request code: 443", CF_CONTROLLER, false, c_unknown_code },
	{ "3.5 check 8", "NOTIFY with a request code: ACK 401", CF_CONTROLLER, false, c_wrong_kind },
	{ "3.5 check 9", "RESERVE from an AGW: 402", CF_CONTROLLER, false, c_wrong_role },
	{ "3.5 check 10", "REPLY to no transaction is discarded", CF_CONTROLLER, false, c_stray_reply },
	{ "3.5 check 1", "bad magic: CLOSE 1100", CF_CONTROLLER, false, c_bad_magic },
	{ "3.5 check 2", "unknown header version: CLOSE 406 with VERSIONs", CF_CONTROLLER, false, c_bad_version },
	{ "3.5 check 3", "invalid kind: CLOSE 1102", CF_CONTROLLER, false, c_bad_kind },
	{ "3.5 check 4", "frame beyond MAX_FRAME: CLOSE 1101", CF_CONTROLLER, false, c_too_large },
	{ "3.5 check 5", "txid 0 in a REQUEST: CLOSE 1102", CF_CONTROLLER, false, c_txid_zero },
	{ "5.2, 7.3", "no common version: 406 with VERSIONs", CF_CONTROLLER, false, c_no_common_version },
	{ "6.9 item 2", "request before REGISTER: 505", CF_CONTROLLER, false, c_before_register },
	{ "6.9 item 2", "more than 4 frames before REGISTER: CLOSE 401", CF_CONTROLLER, false, c_before_register_close },
	{ "6.9 item 4", "second REGISTER on a registered link: 401", CF_CONTROLLER, false, c_register_twice },
	{ "7.2.3 check 2", "NODE_ID not in the certificate: 504", CF_CONTROLLER, false, c_wrong_node_id },
	{ "7.6, 6.4 item 1", "NODE_STATUS is ACKed", CF_CONTROLLER, false, c_node_status },
	{ "6.5 item 2", "repeated txid: the cached REPLY, not a second execution", CF_CONTROLLER, false, cf_c_reply_cache },
	{ "7.7 items 1, 5", "SERVICE_CHANGE GRACEFUL 905 drains, RESTART 918 restores", CF_CONTROLLER, false, cf_c_drain },
	{ "7.8, 7.7 item 5", "SERVICE_CHANGE FORCED 905, then RESTART 900", CF_CONTROLLER, false, cf_c_forced },
	{ "11.4", "SERVICE_CHANGE not permitted (449) or out of state (401)", CF_CONTROLLER, false, cf_c_service_change_refused },
	{ "7.5 item 2", "silent AGW: CLOSE 1104 after T_INACT", CF_CONTROLLER, false, cf_c_inactivity },
	{ "6.9 item 3", "no REGISTER: CLOSE 1105 after T_REG_WAIT", CF_CONTROLLER, true, cf_c_reg_wait },
	{ "3.6 item 2", "incomplete frame: CLOSE 1103 after T_FRAME", CF_CONTROLLER, true, cf_c_frame_timeout },
};
const size_t cf_n_controller_cases = sizeof(cf_controller_cases) / sizeof(cf_controller_cases[0]);
