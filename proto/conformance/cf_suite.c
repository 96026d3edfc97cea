/* Shared helpers of the Iq+ conformance cases. */
#include "cf_suite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iqp_validate.h"

uint32_t cf_txid(struct cf_ctx *x)
{
	if (x->txid == 0)
		x->txid = 1;
	return x->txid++;
}

void cf_msg_start(struct cf_ctx *x, struct cf_msg *b, unsigned kind, unsigned code,
		  uint32_t txid)
{
	struct iqp_header h = {
		.version = 1, .kind = (uint8_t)kind, .code = (uint16_t)code,
		.txid = (kind == IQP_KIND_REQUEST || kind == IQP_KIND_NOTIFY) ? cf_txid(x) : txid,
	};
	iqp_msg_init(&b->m, &h, b->arena, sizeof(b->arena));
}

int cf_send_header(struct cf_conn *c, uint8_t version, uint8_t kind, uint16_t flags,
		   uint16_t code, uint32_t txid, uint32_t body_len, const void *body,
		   size_t body_have)
{
	uint8_t buf[IQP_HEADER_LEN + 256];
	struct iqp_header h = { .version = version, .kind = kind, .flags = flags,
				.code = code, .txid = txid, .body_len = body_len };
	if (body_have > 256)
		return EINVAL;
	iqp_header_encode(&h, buf);
	if (body_have)
		memcpy(buf + IQP_HEADER_LEN, body, body_have);
	return cf_conn_send_raw(c, buf, IQP_HEADER_LEN + body_have);
}

/* Answers a HEARTBEAT request of the peer (7.5 item 1). */
static void answer_heartbeat(struct cf_ctx *x, struct cf_conn *c, const struct cf_frame *f)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REPLY, IQP_MSG_HEARTBEAT, f->hdr.txid);
	cf_conn_send_msg(c, &b.m);
}

static bool peer_heartbeat(const struct cf_frame *f)
{
	return f->hdr.kind == IQP_KIND_REQUEST && f->hdr.code == IQP_MSG_HEARTBEAT;
}

long long cf_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void agw_bad(struct cf_ctx *x, const char *what, const struct iqp_error *err)
{
	if (!x->agw_bad[0])
		snprintf(x->agw_bad, sizeof(x->agw_bad), "%s: %u %s", what, err->code, err->text);
}

/* An answer with an ERROR of code (0: none) to frame f. */
static void answer(struct cf_ctx *x, struct cf_conn *c, const struct cf_frame *f, unsigned code,
		   const char *text)
{
	struct cf_msg b;
	bool req = f->hdr.kind == IQP_KIND_REQUEST;
	cf_msg_start(x, &b, req ? IQP_KIND_REPLY : IQP_KIND_ACK, f->hdr.code, f->hdr.txid);
	if (code) {
		b.m.hdr.flags = req ? IQP_FLAG_E : 0;
		iqp_link_reg_add_error(&b.m, code, text, 0);
	}
	cf_conn_send_msg(c, &b.m);
}

/* 7.1.2 and the table of 11.4, for a SERVICE_CHANGE from the AGW: the
 * error to answer (0: accepted, the state moves). */
static unsigned sc_verdict(struct cf_ctx *x, uint8_t method, uint16_t reason)
{
	switch (method) {
	case IQP_SC_GRACEFUL:
		if (reason != 905 && reason != 908)
			return 449;
		if (x->agw_state != CF_IN_SERVICE)
			return 401;
		x->agw_state = CF_DRAINING;
		return 0;
	case IQP_SC_FORCED:
		if (reason != 904 && reason != 905 && reason != 908)
			return 449;
		if (x->agw_state == CF_OUT_OF_SERVICE)
			return 401;
		x->agw_state = CF_OUT_OF_SERVICE;
		return 0;
	case IQP_SC_RESTART:
		if (reason != 900 && reason != 918)
			return 449;
		if (x->agw_state != (reason == 918 ? CF_DRAINING : CF_OUT_OF_SERVICE))
			return 401;
		x->agw_state = CF_IN_SERVICE;
		return 0;
	case IQP_SC_CAPABILITY_UPDATE:
		return reason == 917 ? 0 : 449;
	}
	return 449;
}

/* A frame the AGW under test sent of its own accord: answered and
 * recorded.  False when f is not one (the caller handles it). */
static bool unsolicited(struct cf_ctx *x, struct cf_conn *c, const struct cf_frame *f)
{
	uint8_t arena[65536];
	struct iqp_error err;
	struct iqp_msg m;
	const struct iqp_elem *e;

	if (x->target != CF_AGW)
		return false;
	if (f->hdr.kind == IQP_KIND_REQUEST && !x->first_request)
		x->first_request = f->hdr.code;
	bool sc = f->hdr.kind == IQP_KIND_REQUEST && f->hdr.code == IQP_MSG_SERVICE_CHANGE;
	if (f->hdr.kind != IQP_KIND_NOTIFY && !sc)
		return false;
	if (iqp_msg_decode(&m, &f->hdr, f->body, IQP_ROLE_AGW, 0, arena, sizeof(arena), &err)) {
		iqp_msg_free(&m);
		agw_bad(x, sc ? "SERVICE_CHANGE" : "NOTIFY", &err);
		answer(x, c, f, err.code, err.text);
		return true;
	}
	if (sc) {
		struct cf_sc *r = &x->sc[x->n_sc++ % CF_SEEN];
		memset(r, 0, sizeof(*r));
		if ((e = iqp_find(&m, NULL, IQP_E_SC_METHOD)))
			iqp_elem_enum(e, &r->method);
		if ((e = iqp_find(&m, NULL, IQP_E_SC_REASON)))
			iqp_elem_u16(e, &r->reason);
		if ((e = iqp_find(&m, NULL, IQP_E_SC_DELAY)))
			iqp_elem_u32(e, &r->delay);
		r->link = x->links;
		r->answer = sc_verdict(x, r->method, r->reason);
		answer(x, c, f, r->answer, r->answer == 449 ? "method or reason not permitted"
							     : "does not fit the link state");
	} else {
		if (f->hdr.code == IQP_MSG_NODE_STATUS) {
			struct cf_status *st = &x->status[x->n_status++ % CF_SEEN];
			memset(st, 0, sizeof(*st));
			if ((e = iqp_find(&m, NULL, IQP_E_LOAD)))
				iqp_link_reg_load(&m, e, &st->load);
			if ((e = iqp_find(&m, NULL, IQP_E_TIMESTAMP)) && !iqp_elem_u64(e, &st->ts))
				st->has_ts = true;
			st->rx_ms = cf_now_ms();
			st->mark = x->mark;
		}
		if (f->hdr.code == IQP_MSG_EVENT)
			x->n_events++;
		answer(x, c, f, 0, NULL); /* an EVENT or NODE_STATUS: ACK it */
	}
	iqp_msg_free(&m);
	return true;
}

static const char *kind_name(unsigned k)
{
	static const char *const n[] = { "?", "REQUEST", "REPLY", "PENDING", "NOTIFY", "ACK", "CLOSE" };
	return k < 7 ? n[k] : "?";
}

int cf_expect_answer(struct cf_ctx *x, struct cf_conn *c, uint32_t txid, unsigned kind,
		     unsigned code, struct cf_frame *f, char *why, size_t len)
{
	for (;;) {
		int rc = cf_conn_recv(c, x->timeout_ms, f);
		if (rc) {
			snprintf(why, len, "no %s to txid %u: %s", kind_name(kind), txid,
				 rc == ETIMEDOUT ? "timed out" : rc == ECONNRESET ? "connection closed"
										   : c->why);
			return rc;
		}
		if (unsolicited(x, c, f) || peer_heartbeat(f) || f->hdr.kind == IQP_KIND_PENDING) {
			if (peer_heartbeat(f))
				answer_heartbeat(x, c, f);
			cf_frame_free(f);
			continue;
		}
		if (f->hdr.kind == IQP_KIND_REQUEST && x->target == CF_CONTROLLER) {
			/* A request of the controller under test (e.g. the RELEASE
			 * of an orphan, 9.1 item 4): the suite holds no contexts. */
			struct cf_msg b;
			unsigned err = f->hdr.code == IQP_MSG_RELEASE ? 411 : 501;
			x->peer_releases += f->hdr.code == IQP_MSG_RELEASE;
			cf_msg_start(x, &b, IQP_KIND_REPLY, f->hdr.code, f->hdr.txid);
			b.m.hdr.flags = IQP_FLAG_E;
			iqp_link_reg_add_error(&b.m, err, "the conformance suite holds no contexts", 0);
			cf_conn_send_msg(c, &b.m);
			cf_frame_free(f);
			continue;
		}
		if (f->hdr.kind == IQP_KIND_CLOSE) {
			snprintf(why, len, "got CLOSE %u (%s) instead of a %s", f->error_code,
				 f->error_text, kind_name(kind));
			cf_frame_free(f);
			return EPROTO;
		}
		if (f->hdr.kind != kind || f->hdr.txid != txid || f->hdr.code != code) {
			snprintf(why, len, "expected %s code 0x%04x txid %u, got %s code 0x%04x txid %u",
				 kind_name(kind), code, txid, kind_name(f->hdr.kind), f->hdr.code,
				 f->hdr.txid);
			cf_frame_free(f);
			return EPROTO;
		}
		return 0;
	}
}

int cf_request(struct cf_ctx *x, struct cf_conn *c, struct cf_msg *b, struct cf_frame *f,
	       char *why, size_t len)
{
	int rc = cf_conn_send_msg(c, &b->m);
	if (rc) {
		snprintf(why, len, "send failed: %s", c->why[0] ? c->why : strerror(rc));
		return rc;
	}
	return cf_expect_answer(x, c, b->m.hdr.txid,
				b->m.hdr.kind == IQP_KIND_NOTIFY ? IQP_KIND_ACK : IQP_KIND_REPLY,
				b->m.hdr.code, f, why, len);
}

bool cf_expect_close(struct cf_ctx *x, struct cf_conn *c, int timeout_ms, unsigned *code,
		     char *why, size_t len)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct cf_frame f;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		int rc = cf_conn_recv(c, el >= timeout_ms ? 0 : timeout_ms - (int)el, &f);
		if (rc) {
			snprintf(why, len, "no CLOSE: %s", rc == ETIMEDOUT ? "timed out"
							   : rc == ECONNRESET ? "connection closed without CLOSE"
									      : c->why);
			return false;
		}
		if (f.hdr.kind == IQP_KIND_CLOSE) {
			*code = f.error_code;
			snprintf(why, len, "CLOSE %u (%s)", f.error_code, f.error_text);
			cf_frame_free(&f);
			return true;
		}
		if (!unsolicited(x, c, &f) && peer_heartbeat(&f))
			answer_heartbeat(x, c, &f);
		cf_frame_free(&f);
	}
}

bool cf_agw_wait(struct cf_ctx *x, int timeout_ms, bool (*done)(const struct cf_ctx *x, void *arg),
		 void *arg, char *why, size_t len)
{
	long long end = cf_now_ms() + timeout_ms;

	why[0] = '\0';
	while (!done(x, arg)) {
		struct cf_frame f;
		long long left = end - cf_now_ms();
		if (left <= 0)
			return false;
		int rc = cf_conn_recv(&x->link, (int)left, &f);
		if (rc == ETIMEDOUT)
			return false;
		if (rc) {
			snprintf(why, len, "link ended: %s", x->link.why[0] ? x->link.why : strerror(rc));
			return false;
		}
		bool handled = unsolicited(x, &x->link, &f);
		if (!handled && peer_heartbeat(&f)) {
			answer_heartbeat(x, &x->link, &f);
		} else if (!handled) {
			snprintf(why, len, "unexpected frame: kind %u code 0x%04x txid %u", f.hdr.kind,
				 f.hdr.code, f.hdr.txid);
			cf_frame_free(&f);
			return false;
		}
		cf_frame_free(&f);
	}
	return true;
}

int cf_agw_connect(struct cf_ctx *x, struct cf_conn *c, char *why, size_t len)
{
	int rc = cf_conn_connect(c, (struct sockaddr *)&x->addr, x->addr_len, x->tls,
				 x->expect_name, x->timeout_ms);
	if (rc)
		snprintf(why, len, "cannot connect: %s", c->why[0] ? c->why : strerror(rc));
	return rc;
}

int cf_agw_register(struct cf_ctx *x, struct cf_conn *c, const struct iqp_node_info *me,
		    struct cf_frame *reply, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_REGISTER, 0);
	uint32_t txid = b.m.hdr.txid;
	int rc = iqp_link_reg_build_request(&b.m, me);
	if (!rc)
		rc = cf_conn_send_msg(c, &b.m);
	if (rc) {
		snprintf(why, len, "cannot send REGISTER: %s", strerror(rc));
		return rc;
	}
	if ((rc = cf_expect_answer(x, c, txid, IQP_KIND_REPLY, IQP_MSG_REGISTER, &f, why, len)))
		return rc;
	if (f.hdr.flags & IQP_FLAG_E) {
		snprintf(why, len, "REGISTER refused: %u %s", f.error_code, f.error_text);
		if (reply)
			*reply = f;
		else
			cf_frame_free(&f);
		return EACCES;
	}
	if (reply)
		*reply = f;
	else
		cf_frame_free(&f);
	return 0;
}

int cf_controller_accept(struct cf_ctx *x, int lfd, int timeout_ms, struct cf_conn *c,
			 uint32_t *txid, struct iqp_node_info *agw, char *why, size_t len)
{
	struct cf_frame f;
	struct iqp_error err;
	struct iqp_msg m;
	uint8_t arena[65536];

	int rc = cf_conn_accept(c, lfd, x->tls, timeout_ms);
	if (rc) {
		snprintf(why, len, "the AGW did not connect: %s", c->why);
		return rc;
	}
	if ((rc = cf_conn_recv(c, x->timeout_ms, &f))) {
		snprintf(why, len, "no REGISTER from the AGW: %s", c->why);
		cf_conn_close(c);
		return rc;
	}
	if (f.hdr.kind != IQP_KIND_REQUEST || f.hdr.code != IQP_MSG_REGISTER) {
		snprintf(why, len, "first frame is not REGISTER (kind %u code 0x%04x)", f.hdr.kind,
			 f.hdr.code);
		cf_frame_free(&f);
		cf_conn_close(c);
		return EPROTO;
	}
	if ((rc = iqp_msg_decode(&m, &f.hdr, f.body, IQP_ROLE_AGW, 0, arena, sizeof(arena), &err))) {
		snprintf(why, len, "REGISTER does not validate: %u %s", err.code, err.text);
		iqp_msg_free(&m);
		cf_frame_free(&f);
		cf_conn_close(c);
		return EPROTO;
	}
	memset(agw, 0, sizeof(*agw));
	iqp_link_reg_parse_request(&m, agw);
	iqp_msg_free(&m);
	*txid = f.hdr.txid;
	cf_frame_free(&f);
	return 0;
}

int cf_controller_accept_reply(struct cf_ctx *x, struct cf_conn *c, uint32_t txid, char *why,
			       size_t len)
{
	struct cf_msg b;
	struct iqp_link_params p = { .hb_interval = x->hb_ms };
	int rc;

	cf_msg_start(x, &b, IQP_KIND_REPLY, IQP_MSG_REGISTER, txid);
	if ((rc = iqp_link_reg_build_reply(&b.m, &x->self, 0x0100, &p)) ||
	    (rc = cf_conn_send_msg(c, &b.m))) {
		snprintf(why, len, "cannot answer REGISTER: %s", strerror(rc));
		cf_conn_close(c);
		return rc;
	}
	if (c == &x->link) {
		x->linked = true;
		x->links++;
		x->agw_state = CF_IN_SERVICE;
		x->first_request = 0;
	}
	return 0;
}

int cf_controller_link(struct cf_ctx *x, char *why, size_t len)
{
	uint32_t txid;
	int rc;

	if (x->linked)
		return 0;
	if ((rc = cf_controller_accept(x, x->lfd, 40000, &x->link, &txid, &x->agw, why, len)))
		return rc;
	return cf_controller_accept_reply(x, &x->link, txid, why, len);
}

void cf_controller_unlink(struct cf_ctx *x)
{
	if (x->linked)
		cf_conn_close(&x->link);
	x->linked = false;
}

int cf_add_unknown(struct cf_msg *b, struct iqp_elem *parent, bool mandatory)
{
	/* 0x3F00: far above every registered code (12), never assigned. */
	uint16_t type = (uint16_t)((mandatory ? 0x8000u : 0) | 0x3F00u);
	static const uint8_t v[3] = { 1, 2, 3 };
	return iqp_append_raw(&b->m, parent, type, v, sizeof(v), NULL);
}
