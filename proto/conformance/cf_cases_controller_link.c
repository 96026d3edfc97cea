/* Cases run against a controller (the suite plays an AGW): link timers
 * (T_INACT, T_REG_WAIT, T_FRAME), SERVICE_CHANGE from the AGW (7.7, 7.8,
 * 11.4), the reply cache (6.5) and notifications (9.1).  The case table
 * is in cf_cases_controller.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cf_controller.h"
#include "iqp_validate.h"

/* 7.5 item 2: a silent registered AGW is closed with 1104 after T_INACT
 * (3 x HB_INTERVAL; we propose the smallest, 1 s). */
enum cf_result cf_c_inactivity(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	unsigned code = 0;
	enum cf_result rc = CF_PASS;
	struct iqp_node_info me = x->self;
	struct iqp_msg m;
	struct iqp_error err;
	uint8_t arena[16384];

	me.params.hb_interval = 1000;
	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	if (cf_agw_register(x, &c, &me, &f, why, len)) {
		cf_conn_close(&c);
		return CF_FAIL;
	}
	struct iqp_node_info ctl = { 0 };
	if (!iqp_msg_decode(&m, &f.hdr, f.body, IQP_ROLE_CONTROLLER, 0, arena, sizeof(arena), &err))
		iqp_link_reg_parse_reply(&m, &ctl);
	iqp_msg_free(&m);
	cf_frame_free(&f);
	unsigned t_inact = 3 * (ctl.params.hb_interval ? ctl.params.hb_interval : 5000);
	/* Silence: read without answering anything. */
	for (;;) {
		int e = cf_conn_recv(&c, (int)t_inact + 3000, &f);
		if (e)
			FAIL("no CLOSE 1104 within T_INACT (%u ms) + 3 s", t_inact);
		bool close = f.hdr.kind == IQP_KIND_CLOSE;
		code = f.error_code;
		cf_frame_free(&f);
		if (close)
			break;
	}
	if (code != 1104)
		FAIL("CLOSE %u, want 1104", code);
	snprintf(why, len, "T_INACT %u ms", t_inact);
out:
	cf_conn_close(&c);
	return rc;
}

/* 6.9 item 3: no REGISTER within T_REG_WAIT (10 s): CLOSE 1105. */
enum cf_result cf_c_reg_wait(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	unsigned code = 0;
	enum cf_result rc = CF_PASS;

	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	if (!cf_expect_close(x, &c, 13000, &code, why, len) || code != 1105)
		FAIL_WHY("%s; want CLOSE 1105 within T_REG_WAIT");
out:
	cf_conn_close(&c);
	return rc;
}

/* 3.6 item 2: a frame left incomplete for T_FRAME (10 s): CLOSE 1103. */
enum cf_result cf_c_frame_timeout(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	unsigned code = 0;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	/* A header announcing 100 bytes of body, and no body. */
	cf_send_header(&c, 1, IQP_KIND_REQUEST, 0, IQP_MSG_HEARTBEAT, cf_txid(x), 100, NULL, 0);
	if (!cf_expect_close(x, &c, 13000, &code, why, len) || code != 1103)
		FAIL_WHY("%s; want CLOSE 1103 after T_FRAME");
out:
	cf_conn_close(&c);
	return rc;
}

/* A SERVICE_CHANGE of ours on c; returns the answer's error code (0:
 * success) or -1 when no answer came (why). */
static int service_change(struct cf_ctx *x, struct cf_conn *c, unsigned method, unsigned reason,
			  uint32_t txid, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 0);
	if (txid)
		b.m.hdr.txid = txid;
	iqp_add_enum(&b.m, NULL, IQP_E_SC_METHOD, (uint8_t)method);
	iqp_add_u16(&b.m, NULL, IQP_E_SC_REASON, (uint16_t)reason);
	if (cf_request(x, c, &b, &f, why, len))
		return -1;
	int code = (f.hdr.flags & IQP_FLAG_E) ? (int)f.error_code : 0;
	cf_frame_free(&f);
	return code;
}

/* One SERVICE_CHANGE of a sequence and the answer it must get. */
struct sc_step {
	unsigned method, reason;
	int want;                 /* error code, 0: success */
	const char *what;
};

/* Runs the steps on one registered connection. */
static enum cf_result sc_sequence(struct cf_ctx *x, const struct sc_step *steps, size_t n,
				  char *why, size_t len)
{
	struct cf_conn c;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	for (size_t i = 0; i < n; i++) {
		int code = service_change(x, &c, steps[i].method, steps[i].reason, 0, why, len);
		if (code != steps[i].want)
			FAIL("%s answered %d, want %d", steps[i].what, code, steps[i].want);
	}
out:
	cf_conn_close(&c);
	return rc;
}

/* 7.7 items 1 and 5: GRACEFUL 905 drains, RESTART 918 restores. */
enum cf_result cf_c_drain(struct cf_ctx *x, char *why, size_t len)
{
	static const struct sc_step s[] = {
		{ IQP_SC_GRACEFUL, 905, 0, "GRACEFUL 905" },
		{ IQP_SC_GRACEFUL, 905, 401, "a second GRACEFUL while DRAINING" },
		{ IQP_SC_RESTART, 918, 0, "RESTART 918 from DRAINING" },
	};
	return sc_sequence(x, s, sizeof(s) / sizeof(s[0]), why, len);
}

/* 7.8, 7.7 item 5: FORCED 905 takes the AGW out of service, RESTART 900
 * brings it back; RESTART 918 fits only DRAINING. */
enum cf_result cf_c_forced(struct cf_ctx *x, char *why, size_t len)
{
	static const struct sc_step s[] = {
		{ IQP_SC_FORCED, 905, 0, "FORCED 905" },
		{ IQP_SC_RESTART, 918, 401, "RESTART 918 while OUT_OF_SERVICE" },
		{ IQP_SC_RESTART, 900, 0, "RESTART 900 from OUT_OF_SERVICE" },
	};
	return sc_sequence(x, s, sizeof(s) / sizeof(s[0]), why, len);
}

/* 11.4: method/reason pairs not permitted from an AGW: 449; a change that
 * does not fit the state: 401. */
enum cf_result cf_c_service_change_refused(struct cf_ctx *x, char *why, size_t len)
{
	static const struct sc_step s[] = {
		{ IQP_SC_GRACEFUL, 900, 449, "GRACEFUL 900" },
		{ IQP_SC_HANDOFF, 903, 449, "HANDOFF from an AGW" },
		{ IQP_SC_RESTART, 918, 401, "RESTART 918 while IN_SERVICE" },
	};
	return sc_sequence(x, s, sizeof(s) / sizeof(s[0]), why, len);
}

/* 6.5 item 2: a repeated txid gets the cached REPLY, byte for byte, and
 * is not executed again (the second GRACEFUL would otherwise be 401). */
enum cf_result cf_c_reply_cache(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f1, f2;
	struct cf_msg b;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 0);
	iqp_add_enum(&b.m, NULL, IQP_E_SC_METHOD, IQP_SC_GRACEFUL);
	iqp_add_u16(&b.m, NULL, IQP_E_SC_REASON, 905);
	if (cf_request(x, &c, &b, &f1, why, len)) {
		rc = CF_FAIL;
		goto out_nof;
	}
	if (cf_request(x, &c, &b, &f2, why, len)) {
		cf_frame_free(&f1);
		rc = CF_FAIL;
		goto out_nof;
	}
	if (f1.hdr.flags != f2.hdr.flags || f1.hdr.body_len != f2.hdr.body_len ||
	    (f1.hdr.body_len && memcmp(f1.body, f2.body, f1.hdr.body_len)))
		FAIL("the second REPLY differs (errors %u then %u)", f1.error_code, f2.error_code);
out:
	cf_frame_free(&f1);
	cf_frame_free(&f2);
out_nof:
	cf_conn_close(&c);
	return rc;
}

/* 9.1 item 4: an EVENT for a context the controller does not know is
 * ACKed without error (the controller may then release the orphan). */
enum cf_result cf_c_event_unknown_context(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_conn c;
	struct cf_frame f;
	struct cf_msg b;
	struct iqp_elem *ev;
	enum cf_result rc = CF_PASS;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_NOTIFY, IQP_MSG_EVENT, 0);
	iqp_add_container(&b.m, NULL, IQP_E_EVENT, &ev);
	iqp_add_u16(&b.m, ev, IQP_E_EVENT_TYPE, 9 /* TERM_HEARTBEAT */);
	iqp_add_u32(&b.m, ev, IQP_E_CONTEXT_ID, 0x7FFFFF02u);
	iqp_add_u32(&b.m, ev, IQP_E_TERM_ID, 0x7FFFFF03u);
	if (cf_request(x, &c, &b, &f, why, len)) {
		rc = CF_FAIL;
		goto out_nof;
	}
	if (f.error_code)
		FAIL("ACK carries error %u (%s)", f.error_code, f.error_text);
	snprintf(why, len, "%s", x->peer_releases ? "and the orphan was released (RELEASE seen)"
						  : "no RELEASE of the orphan (SHOULD)");
out:
	cf_frame_free(&f);
out_nof:
	cf_conn_close(&c);
	return rc;
}

/* 7.9 item 3, 7.11 item 3: an AGW registers again with its epoch
 * (DISCONNECTED 900) after a link loss: the controller audits its
 * contexts (AUDIT CONTEXT_LIST) and RELEASEs the one no call of its owns
 * (we list 0x7FFFFF10). */
enum cf_result cf_c_reconcile(struct cf_ctx *x, char *why, size_t len)
{
	const uint32_t orphan = 0x7FFFFF10u;
	struct iqp_node_info me = x->self;
	enum cf_result rc = CF_PASS;
	bool audited = false, released = false;
	uint8_t arena[16384];
	struct cf_conn c;
	struct cf_frame f;

	if (cf_ctl_open_registered(x, &c, NULL, why, len))
		return CF_FAIL;
	cf_conn_close(&c); /* link loss (7.10) */
	me.sc_method = IQP_SC_DISCONNECTED;
	me.sc_reason = 900;
	if (cf_agw_connect(x, &c, why, len))
		return CF_FAIL;
	if (cf_agw_register(x, &c, &me, NULL, why, len)) {
		cf_conn_close(&c);
		return CF_FAIL;
	}
	long long end = cf_now_ms() + x->timeout_ms;
	while (!released) {
		long long left = end - cf_now_ms();
		int got = left > 0 ? cf_conn_recv(&c, (int)left, &f) : ETIMEDOUT;
		if (got && audited)
			FAIL("AUDIT answered listing context %u, no RELEASE of it within %d ms",
			     orphan, x->timeout_ms);
		if (got)
			FAIL("no AUDIT CONTEXT_LIST within %d ms of the re-registration: %s",
			     x->timeout_ms, got == ETIMEDOUT ? "timed out" : "connection ended");
		struct cf_msg b;
		struct iqp_msg m;
		struct iqp_error err;
		struct iqp_elem *ctx, *t;
		const struct iqp_elem *e;
		uint8_t scope = 0;
		uint32_t cid = 0;
		bool req = f.hdr.kind == IQP_KIND_REQUEST;
		if (req && iqp_msg_decode(&m, &f.hdr, f.body, IQP_ROLE_CONTROLLER, 0, arena,
					  sizeof(arena), &err)) {
			iqp_msg_free(&m);
			uint16_t code = f.hdr.code;
			cf_frame_free(&f);
			FAIL("request 0x%04x does not validate: %u %s", code, err.code, err.text);
		}
		if (!req) {
			bool close = f.hdr.kind == IQP_KIND_CLOSE;
			unsigned code = f.error_code;
			cf_frame_free(&f);
			if (close)
				FAIL("CLOSE %u instead of AUDIT", code);
			continue;
		}
		cf_msg_start(x, &b, IQP_KIND_REPLY, f.hdr.code, f.hdr.txid);
		switch (f.hdr.code) {
		case IQP_MSG_AUDIT:
			if ((e = iqp_find(&m, NULL, IQP_E_AUDIT_SCOPE)))
				iqp_elem_enum(e, &scope);
			if (scope != 2 /* CONTEXT_LIST */) {
				b.m.hdr.flags = IQP_FLAG_E;
				iqp_link_reg_add_error(&b.m, 501, "only CONTEXT_LIST here", 0);
				break;
			}
			audited = true;
			iqp_add_container(&b.m, NULL, IQP_E_CONTEXT, &ctx);
			iqp_add_u32(&b.m, ctx, IQP_E_CONTEXT_ID, orphan);
			iqp_add_container(&b.m, ctx, IQP_E_TERMINATION, &t);
			iqp_add_u32(&b.m, t, IQP_E_TERM_ID, 1);
			iqp_add_enum(&b.m, t, IQP_E_TERM_KIND, 2 /* IMS */);
			iqp_add_enum(&b.m, t, IQP_E_TERM_STATE, 4 /* ACTIVE */);
			iqp_add_u32(&b.m, NULL, IQP_E_AUDIT_CURSOR, orphan);
			iqp_add_bool(&b.m, NULL, IQP_E_AUDIT_MORE, false);
			break;
		case IQP_MSG_RELEASE:
			if ((e = iqp_find(&m, NULL, IQP_E_CONTEXT)) &&
			    (e = iqp_find(&m, e, IQP_E_CONTEXT_ID)))
				iqp_elem_u32(e, &cid);
			if (cid != orphan) {
				b.m.hdr.flags = IQP_FLAG_E;
				iqp_link_reg_add_error(&b.m, 411, "unknown context", 0);
				break;
			}
			released = audited;
			break;
		case IQP_MSG_HEARTBEAT:
			break;
		default:
			b.m.hdr.flags = IQP_FLAG_E;
			iqp_link_reg_add_error(&b.m, 501, "not in this case", 0);
		}
		iqp_msg_free(&m);
		cf_frame_free(&f);
		cf_conn_send_msg(&c, &b.m);
	}
	snprintf(why, len, "AUDIT CONTEXT_LIST, then RELEASE of the unowned context");
out:
	cf_conn_close(&c);
	return rc;
}
