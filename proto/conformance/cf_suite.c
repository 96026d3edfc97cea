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
		if (peer_heartbeat(f) || f->hdr.kind == IQP_KIND_PENDING ||
		    (f->hdr.kind == IQP_KIND_NOTIFY && x->target == CF_AGW)) {
			if (peer_heartbeat(f))
				answer_heartbeat(x, c, f);
			if (f->hdr.kind == IQP_KIND_NOTIFY) {
				/* An event or status of the AGW under test: ACK it. */
				struct cf_msg b;
				cf_msg_start(x, &b, IQP_KIND_ACK, f->hdr.code, f->hdr.txid);
				cf_conn_send_msg(c, &b.m);
			}
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
		if (peer_heartbeat(&f))
			answer_heartbeat(x, c, &f);
		cf_frame_free(&f);
	}
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

int cf_controller_link(struct cf_ctx *x, char *why, size_t len)
{
	struct cf_frame f;
	struct iqp_error err;
	struct iqp_msg m;
	uint8_t arena[65536];

	if (x->linked)
		return 0;
	int rc = cf_conn_accept(&x->link, x->lfd, x->tls, 40000);
	if (rc) {
		snprintf(why, len, "the AGW did not connect: %s", x->link.why);
		return rc;
	}
	if ((rc = cf_conn_recv(&x->link, x->timeout_ms, &f))) {
		snprintf(why, len, "no REGISTER from the AGW: %s", x->link.why);
		cf_conn_close(&x->link);
		return rc;
	}
	if (f.hdr.kind != IQP_KIND_REQUEST || f.hdr.code != IQP_MSG_REGISTER) {
		snprintf(why, len, "first frame is not REGISTER (kind %u code 0x%04x)", f.hdr.kind,
			 f.hdr.code);
		cf_frame_free(&f);
		cf_conn_close(&x->link);
		return EPROTO;
	}
	if ((rc = iqp_msg_decode(&m, &f.hdr, f.body, IQP_ROLE_AGW, 0, arena, sizeof(arena), &err))) {
		snprintf(why, len, "REGISTER does not validate: %u %s", err.code, err.text);
		iqp_msg_free(&m);
		cf_frame_free(&f);
		cf_conn_close(&x->link);
		return EPROTO;
	}
	memset(&x->agw, 0, sizeof(x->agw));
	iqp_link_reg_parse_request(&m, &x->agw);
	iqp_msg_free(&m);
	struct cf_msg b;
	struct iqp_link_params p = { .hb_interval = x->hb_ms };
	cf_msg_start(x, &b, IQP_KIND_REPLY, IQP_MSG_REGISTER, f.hdr.txid);
	cf_frame_free(&f);
	if ((rc = iqp_link_reg_build_reply(&b.m, &x->self, 0x0100, &p)) ||
	    (rc = cf_conn_send_msg(&x->link, &b.m))) {
		snprintf(why, len, "cannot answer REGISTER: %s", strerror(rc));
		cf_conn_close(&x->link);
		return rc;
	}
	x->linked = true;
	return 0;
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
