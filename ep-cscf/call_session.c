/* INVITE, its responses, CANCEL and ACK through the proxy. */
#include "call_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

#include "call_end.h"
#include "call_media.h"
#include "sip_invite_txn.h"
#include "sip_msg.h"

struct log_ids call_log_ids(const struct call *c)
{
	struct log_ids ids = { .call_id = c->call_id };
	return ids;
}

static struct log_ids ids_of(sip_t const *sip)
{
	struct log_ids ids = { .call_id = sip && sip->sip_call_id ? sip->sip_call_id->i_id : NULL };
	return ids;
}

/* --- Transactions of a call --------------------------------------------- */

static void tx_send(void *owner, struct itxn *x, const char *buf, size_t len)
{
	struct call *c = owner;
	struct sip_proxy *p = c->proxy;
	struct log_ids ids = call_log_ids(c);

	if (!x->dest.ws) {
		sip_proxy_send_ims(p, buf, len, &x->dest.peer);
		return;
	}
	struct flow *f = flow_table_get(p->flows, x->dest.flow_id);
	int rc = f ? ws_flow_send(p->ws, f, buf, len) : ENOTCONN;
	if (rc)
		log_info(p->log, p->sub, &ids, "not delivered to flow", LF_U("call", c->serial),
			 LF_S("reason", strerror(rc)));
}

static void tx_timeout(void *owner, struct itxn *x, enum itxn_timeout which)
{
	struct call *c = owner;
	struct sip_proxy *p = c->proxy;
	struct log_ids ids = call_log_ids(c);
	static const char *const names[] = { "B", "C", "H" };

	log_info(p->log, p->sub, &ids, "INVITE transaction timed out", LF_U("call", c->serial),
		 LF_S("timer", names[which]), LF_S("toward", x->dest.ws ? "browser" : "ims"));
	if (which == ITXN_TIMER_H || x != c->cli)
		return;
	if (which == ITXN_TIMER_C)
		call_cancel_down(p, c, x);
	if (c->srv && c->srv->state == ITXN_PROCEEDING)
		call_respond_up(p, c, c->srv, 408, NULL, NULL);
	if (c->state != CALL_CONFIRMED)
		call_ended(p, c, "no final response");
	else
		call_media_abandon(p, c);
}

static void tx_done(void *owner, struct itxn *x)
{
	struct call *c = owner;

	for (struct itxn **pp = &c->txns; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	if (c->srv == x)
		c->srv = NULL;
	if (c->cli == x)
		c->cli = NULL;
	call_maybe_free(c->proxy, c);
}

static const struct itxn_ops tx_ops = { tx_send, tx_timeout, tx_done };

void call_maybe_free(struct sip_proxy *p, struct call *c)
{
	if (c->state != CALL_ENDED || c->txns || call_media_busy(c))
		return;
	call_media_free(c);
	call_remove(&p->calls, c);
}

static struct itxn *find_txn(const struct call *c, enum itxn_kind kind, int ws, const char *branch)
{
	for (struct itxn *x = c->txns; x && branch; x = x->next)
		if (x->kind == kind && x->dest.ws == ws && !strcmp(x->branch, branch))
			return x;
	return NULL;
}

/* The call and transaction, among calls with this Call-ID, with a
 * transaction of this kind toward side ws (flow_id when ws) and branch. */
static struct itxn *find_any(struct sip_proxy *p, sip_t const *sip, enum itxn_kind kind, int ws,
			     uint64_t flow_id, const char *branch, struct call **out)
{
	const char *id = sip->sip_call_id->i_id;
	for (struct call *c = call_next_with_id(&p->calls, id, NULL); c;
	     c = call_next_with_id(&p->calls, id, c)) {
		struct itxn *x;
		if (ws && c->flow_id != flow_id)
			continue;
		if ((x = find_txn(c, kind, ws, branch))) {
			*out = c;
			return x;
		}
	}
	return NULL;
}

static void push_txn(struct call *c, struct itxn *x)
{
	x->next = c->txns;
	c->txns = x;
}

static char *print_copy(msg_t *msg, size_t *len)
{
	char *text, *copy;
	if (sip_msg_print(msg, &text, len) || !(copy = malloc(*len ? *len : 1)))
		return NULL;
	memcpy(copy, text, *len);
	return copy;
}

/* "<uri>, <uri>" of Record-Route entries (not ours) in the given order. */
static char *route_text(struct sip_proxy *p, msg_t *msg, sip_record_route_t const *rr, int reverse)
{
	const sip_record_route_t *list[32];
	size_t n = 0, len = 0;
	char *out, *parts[32];

	for (; rr && n < 32; rr = rr->r_next)
		if (!sip_proxy_our_uri(p, rr->r_url))
			list[n++] = rr;
		else if (reverse)
			break; /* entries above ours lead toward the far end */
	if (!n)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		parts[i] = call_header_string(msg, list[reverse ? n - 1 - i : i]);
		len += (parts[i] ? strlen(parts[i]) : 0) + 2;
	}
	if ((out = malloc(len + 1))) {
		out[0] = 0;
		for (size_t i = 0; i < n; i++) {
			if (parts[i])
				strcat(strcat(out, i ? ", " : ""), parts[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	return out;
}

static void set_target(char **field, sip_contact_t const *m)
{
	char buf[512];
	if (m && url_e(buf, sizeof(buf), m->m_url) > 0 && strlen(buf) < sizeof(buf) - 1)
		call_set(field, buf);
}

/* What a response with a To tag from the callee's side teaches. */
static void learn_from_response(struct sip_proxy *p, struct call *c, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	int status = sip->sip_status->st_status;
	char *to;

	if (status < 101 || status >= 300 || !sip->sip_to->a_tag || c->state == CALL_ENDED)
		return;
	if ((to = call_header_string(msg, sip->sip_to))) {
		free(c->callee);
		c->callee = to;
	}
	if (c->dir == CALL_ORIG) {
		set_target(&c->ims_target, sip->sip_contact);
		if (sip->sip_record_route) {
			free(c->ims_route);
			c->ims_route = route_text(p, msg, sip->sip_record_route, 1);
		}
	} else {
		set_target(&c->ws_target, sip->sip_contact);
	}
	if (status >= 200)
		c->state = CALL_CONFIRMED;
	else if (c->state == CALL_INIT)
		c->state = CALL_EARLY;
}

/* --- INVITE ------------------------------------------------------------ */

static void invite_media_done(struct sip_proxy *p, struct call *c, msg_t *msg,
			      enum call_side from, unsigned status, const char *warning)
{
	struct log_ids ids = call_log_ids(c);
	struct itxn *sx = c->srv, *cx;
	struct itxn_dest to = { 0 };
	size_t len;
	char *wire;

	if (!sx || sx->state != ITXN_PROCEEDING) {
		msg_destroy(msg); /* cancelled meanwhile */
		return;
	}
	if (status) {
		log_info(p->log, p->sub, &ids, "INVITE refused", LF_U("call", c->serial),
			 LF_I("status", (int)status), LF_S("reason", warning ? warning : ""));
		call_respond_up(p, c, sx, (int)status, NULL, warning);
		if (c->state != CALL_CONFIRMED)
			call_ended(p, c, "media refused");
		msg_destroy(msg);
		call_maybe_free(p, c);
		return;
	}
	if (from == CALL_WS) {
		sip_proxy_next_hop(p, &to.peer);
		if (c->ims_tcp)
			to.peer.transport = IMS_TCP; /* as the proxy chose (18.1.1) */
	} else {
		to.ws = 1;
		to.flow_id = c->flow_id;
	}
	if (!(wire = print_copy(msg, &len)) ||
	    itxn_client_start(&cx, p->loop, &tx_ops, c, sx->sent_branch, &to, wire, len)) {
		msg_destroy(msg);
		call_respond_up(p, c, sx, 500, NULL, NULL);
		call_ended(p, c, "out of memory");
		call_maybe_free(p, c);
		return;
	}
	push_txn(c, cx);
	c->cli = cx;
	log_debug(p->log, p->sub, &ids, from == CALL_WS ? "INVITE to IMS" : "INVITE to flow",
		  LF_U("call", c->serial), LF_S("branch", sx->sent_branch));
	msg_destroy(msg);
}

/* Starts the server side of an INVITE and sends 100 Trying.  up_inv is
 * the request as the call keeps it. */
static int invite_server(struct sip_proxy *p, struct call *c, msg_t *msg, const char *up,
			 const struct itxn_dest *from, int via_ours, const char *branch)
{
	struct itxn *sx;
	msg_t *rsp;
	char *text;
	size_t len;

	if (itxn_server_start(&sx, p->loop, &tx_ops, c, up, from))
		return ENOMEM;
	push_txn(c, sx);
	c->srv = sx;
	c->cli = NULL;
	snprintf(sx->sent_branch, sizeof(sx->sent_branch), "%s", branch);
	free(c->up_inv);
	c->up_inv = print_copy(msg, &c->up_inv_len);
	c->up_inv_via = via_ours;
	if (!c->up_inv)
		return ENOMEM;
	rsp = via_ours ? sip_proxy_response_ws(p, msg, 100, NULL, NULL)
		       : sip_msg_response(msg, 100, NULL, NULL);
	if (rsp && !sip_msg_print(rsp, &text, &len))
		itxn_server_respond(sx, 100, text, len);
	if (rsp)
		msg_destroy(rsp);
	return 0;
}

static void track_cseq(struct call *c, sip_t const *sip, enum call_side from)
{
	if (sip->sip_cseq && sip->sip_cseq->cs_seq > c->cseq[from])
		c->cseq[from] = sip->sip_cseq->cs_seq;
}

/* The call an INVITE belongs to, or a new one; NULL after answering. */
static struct call *invite_call(struct sip_proxy *p, struct flow *f, msg_t *msg,
				enum call_dir dir, const struct ims_peer *from)
{
	sip_t const *sip = sip_object(msg);
	struct call *c = call_find(&p->calls, sip->sip_call_id->i_id, f->id);
	int status = 0;
	const char *why = NULL;

	if (sip->sip_to->a_tag) {
		if (!c || c->state == CALL_ENDED)
			status = 481, why = "no such call";
		else if (c->srv && c->srv->state == ITXN_PROCEEDING)
			status = 500, why = "INVITE in progress"; /* 14.2 */
	} else if (c && c->state != CALL_ENDED) {
		status = 482, why = "Call-ID in use";
	} else if (!(c = call_add(&p->calls, sip->sip_call_id->i_id, f->id, dir))) {
		status = 500, why = "out of memory";
	} else {
		c->proxy = p;
		c->started_ms = uv_now(p->loop);
		c->caller = call_header_string(msg, sip->sip_from);
		c->callee = call_header_string(msg, sip->sip_to);
		if (dir == CALL_ORIG) {
			set_target(&c->ws_target, sip->sip_contact);
		} else {
			set_target(&c->ims_target, sip->sip_contact);
			c->ims_route = route_text(p, msg, sip->sip_record_route, 0);
		}
		struct log_ids ids = call_log_ids(c);
		log_info(p->log, p->sub, &ids, "call started", LF_U("call", c->serial),
			 LF_S("direction", dir == CALL_ORIG ? "originating" : "terminating"),
			 LF_S("flow", f->token));
	}
	if (status) {
		struct log_ids ids = ids_of(sip);
		log_info(p->log, p->sub, &ids, "INVITE refused", LF_S("flow", f->token),
			 LF_S("reason", why), LF_I("status", status));
		if (dir == CALL_ORIG)
			sip_proxy_reply_flow(p, f, msg, status, NULL);
		else
			sip_proxy_reply_ims(p, msg, status, NULL, from);
		msg_destroy(msg);
		return NULL;
	}
	track_cseq(c, sip, dir == CALL_ORIG ? CALL_WS : CALL_IMS);
	return c;
}

void call_invite_to_ims(struct sip_proxy *p, struct flow *f, msg_t *msg, const char *branch,
			const struct ims_peer *to)
{
	sip_t const *sip = sip_object(msg);
	const char *up = sip->sip_via->v_next ? sip->sip_via->v_next->v_branch : NULL;
	struct itxn_dest from = { .ws = 1, .flow_id = f->id };
	struct call *c;

	if (!up) {
		sip_proxy_reply_flow(p, f, msg, 400, "Via Without Branch");
		msg_destroy(msg);
		return;
	}
	if (!(c = invite_call(p, f, msg, CALL_ORIG, NULL)))
		return;
	c->ims_tcp = to->transport == IMS_TCP;
	if (invite_server(p, c, msg, up, &from, 1, branch)) {
		sip_proxy_reply_flow(p, f, msg, 500, NULL);
		msg_destroy(msg);
		if (c->state != CALL_CONFIRMED)
			call_ended(p, c, "out of memory");
		call_maybe_free(p, c);
		return;
	}
	call_media_sdp(p, c, CALL_WS, msg, invite_media_done);
}

void call_invite_to_ws(struct sip_proxy *p, struct flow *f, msg_t *msg, const char *up,
		       const struct ims_peer *from)
{
	struct itxn_dest src = { .peer = *from };
	char branch[SIP_BRANCH_MAX];
	struct call *c;

	if (!(c = invite_call(p, f, msg, CALL_TERM, from)))
		return;
	sip_proxy_new_branch(p, branch, sizeof(branch));
	if (invite_server(p, c, msg, up, &src, 0, branch) || sip_proxy_via_ws(p, msg, f, branch)) {
		sip_proxy_reply_ims(p, msg, 500, NULL, from);
		msg_destroy(msg);
		if (c->state != CALL_CONFIRMED)
			call_ended(p, c, "out of memory");
		call_maybe_free(p, c);
		return;
	}
	call_media_sdp(p, c, CALL_IMS, msg, invite_media_done);
}

int call_invite_retransmission(struct sip_proxy *p, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *sx = find_any(p, sip, ITXN_SERVER, 0, 0, sip->sip_via->v_branch, &c);

	if (!sx)
		return 0;
	itxn_server_retransmit(sx);
	msg_destroy(msg);
	return 1;
}

/* --- Responses --------------------------------------------------------- */

static void response_media_done(struct sip_proxy *p, struct call *c, msg_t *msg,
				enum call_side from, unsigned status, const char *warning)
{
	sip_t const *sip = sip_object(msg);
	struct log_ids ids = call_log_ids(c);
	int code = sip->sip_status->st_status;
	struct itxn *sx = find_txn(c, ITXN_SERVER, from == CALL_IMS, sip->sip_via->v_branch);
	char *text;
	size_t len;

	if (status) {
		log_info(p->log, p->sub, &ids, "response refused by the media step",
			 LF_U("call", c->serial), LF_I("status", code), LF_I("answer", (int)status),
			 LF_S("reason", warning ? warning : ""));
		msg_destroy(msg);
		if (code < 200)
			return;
		if (sx)
			call_respond_up(p, c, sx, (int)status, NULL, warning);
		if (code < 300)
			call_end(p, c, "media refused", (int)status);
		else if (c->state != CALL_CONFIRMED)
			call_ended(p, c, "failure response");
		call_maybe_free(p, c);
		return;
	}
	if (!sx || sip_msg_print(msg, &text, &len)) {
		log_info(p->log, p->sub, &ids, "response without its server transaction dropped",
			 LF_U("call", c->serial), LF_I("status", code));
		msg_destroy(msg);
		return;
	}
	itxn_server_respond(sx, code, text, len);
	msg_destroy(msg);
	if (code >= 300) {
		if (c->state != CALL_CONFIRMED) {
			char why[48];
			snprintf(why, sizeof(why), "failure response %d", code);
			call_ended(p, c, why);
		} else {
			call_media_abandon(p, c);
		}
	}
	call_maybe_free(p, c);
}

/* A response to an INVITE we sent toward side `to` (its top Via ours). */
static void invite_response(struct sip_proxy *p, struct call *c, struct itxn *cx, msg_t *msg,
			    enum call_side to)
{
	sip_t *sip = sip_object(msg);
	int status = sip->sip_status->st_status;
	int was_accepted = cx->state == ITXN_ACCEPTED;
	struct itxn *sx;

	if (!itxn_client_response(cx, status)) {
		msg_destroy(msg);
		return;
	}
	if (was_accepted) {
		/* A 2xx again: its rewritten copy goes up again, so that the
		 * caller's ACK (end to end) follows. */
		for (sx = c->txns; sx; sx = sx->next)
			if (sx->kind == ITXN_SERVER && !strcmp(sx->sent_branch, cx->branch))
				itxn_server_retransmit(sx);
		msg_destroy(msg);
		return;
	}
	msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_via);
	if (status >= 300) {
		size_t n;
		char *ack = call_build_ack(cx->wire, cx->wire_len, msg, &n);
		itxn_client_ack(cx, ack, n);
	}
	learn_from_response(p, c, msg);
	if (cx->cancelled == 1 && status < 200 && status > 100)
		call_cancel_down(p, c, cx);
	if (status == 100 || !sip->sip_via) {
		msg_destroy(msg); /* hop by hop */
		return;
	}
	call_media_sdp(p, c, to, msg, response_media_done);
}

void call_response_from_ims(struct sip_proxy *p, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *cx = find_any(p, sip, ITXN_CLIENT, 0, 0, sip->sip_via->v_branch, &c);

	if (!cx) {
		struct log_ids ids = ids_of(sip);
		log_debug(p->log, p->sub, &ids, "INVITE response from IMS absorbed",
			  LF_I("status", sip->sip_status->st_status));
		msg_destroy(msg);
		return;
	}
	invite_response(p, c, cx, msg, CALL_IMS);
}

void call_response_from_ws(struct sip_proxy *p, struct flow *f, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *cx = find_any(p, sip, ITXN_CLIENT, 1, f->id, sip->sip_via->v_branch, &c);

	if (!cx) {
		struct log_ids ids = ids_of(sip);
		log_info(p->log, p->sub, &ids, "stray INVITE response from flow dropped",
			 LF_S("flow", f->token), LF_I("status", sip->sip_status->st_status));
		msg_destroy(msg);
		return;
	}
	invite_response(p, c, cx, msg, CALL_WS);
}

/* --- CANCEL and ACK ---------------------------------------------------- */

static void cancel_server(struct sip_proxy *p, struct call *c, struct itxn *sx)
{
	struct log_ids ids = call_log_ids(c);

	log_info(p->log, p->sub, &ids, "INVITE cancelled", LF_U("call", c->serial),
		 LF_S("by", sx->dest.ws ? "browser" : "ims"));
	if (sx->state != ITXN_PROCEEDING)
		return; /* a final response crossed the CANCEL */
	if (c->cli && c->srv == sx) {
		call_cancel_down(p, c, c->cli); /* its 487 comes back and is relayed */
		return;
	}
	/* Not forwarded yet (the media step holds it): answer here. */
	call_respond_up(p, c, sx, 487, NULL, NULL);
	if (c->state != CALL_CONFIRMED)
		call_ended(p, c, "cancelled");
	call_maybe_free(p, c);
}

void call_cancel_from_ws(struct sip_proxy *p, struct flow *f, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *sx = find_any(p, sip, ITXN_SERVER, 1, f->id, sip->sip_via->v_branch, &c);

	sip_proxy_reply_flow(p, f, msg, sx ? 200 : 481, NULL);
	msg_destroy(msg);
	if (sx)
		cancel_server(p, c, sx);
}

void call_cancel_from_ims(struct sip_proxy *p, msg_t *msg, const struct ims_peer *from)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *sx = find_any(p, sip, ITXN_SERVER, 0, 0, sip->sip_via->v_branch, &c);

	sip_proxy_reply_ims(p, msg, sx ? 200 : 481, NULL, from);
	msg_destroy(msg);
	if (sx)
		cancel_server(p, c, sx);
}

int call_ack_absorbed(struct sip_proxy *p, enum call_side from, uint64_t flow_id, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *sx = find_any(p, sip, ITXN_SERVER, from == CALL_WS, flow_id,
				   sip->sip_via->v_branch, &c);

	return sx && sx->state != ITXN_ACCEPTED && itxn_server_ack(sx);
}

static void ack_media_done(struct sip_proxy *p, struct call *c, msg_t *msg, enum call_side from,
			   unsigned status, const char *warning)
{
	char *text;
	size_t len;
	struct ims_peer to;

	if (status) {
		struct log_ids ids = call_log_ids(c);
		log_info(p->log, p->sub, &ids, "ACK refused by the media step", LF_U("call", c->serial),
			 LF_S("reason", warning ? warning : ""));
		msg_destroy(msg);
		call_end(p, c, "media refused", (int)status);
		call_maybe_free(p, c);
		return;
	}
	if (!sip_msg_print(msg, &text, &len)) {
		if (from == CALL_WS) {
			sip_proxy_next_hop(p, &to);
			sip_proxy_send_ims(p, text, len, &to);
		} else {
			struct flow *f = flow_table_get(p->flows, c->flow_id);
			if (f)
				ws_flow_send(p->ws, f, text, len);
		}
	}
	msg_destroy(msg);
}

static void send_ack_stateless(struct sip_proxy *p, struct flow *f, msg_t *msg, enum call_side from)
{
	sip_t const *sip = sip_object(msg);
	struct call *c = call_find(&p->calls, sip->sip_call_id->i_id, f->id);
	char *text;
	size_t len;
	struct ims_peer to;

	if (c && c->state != CALL_ENDED) {
		call_media_sdp(p, c, from, msg, ack_media_done);
		return;
	}
	/* No call known (ended meanwhile): on as any proxy would. */
	if (!sip_msg_print(msg, &text, &len)) {
		if (from == CALL_WS) {
			sip_proxy_next_hop(p, &to);
			sip_proxy_send_ims(p, text, len, &to);
		} else {
			ws_flow_send(p->ws, f, text, len);
		}
	}
	msg_destroy(msg);
}

void call_ack_to_ims(struct sip_proxy *p, struct flow *f, msg_t *msg, const struct ims_peer *to)
{
	(void)to;
	send_ack_stateless(p, f, msg, CALL_WS);
}

void call_ack_to_ws(struct sip_proxy *p, struct flow *f, msg_t *msg)
{
	char branch[SIP_BRANCH_MAX];

	sip_proxy_new_branch(p, branch, sizeof(branch));
	if (sip_proxy_via_ws(p, msg, f, branch)) {
		msg_destroy(msg);
		return;
	}
	send_ack_stateless(p, f, msg, CALL_IMS);
}

/* --- Other requests, flows, exit --------------------------------------- */

void call_request_seen(struct sip_proxy *p, uint64_t flow_id, msg_t *msg, enum call_side from)
{
	sip_t const *sip = sip_object(msg);
	struct call *c = call_find(&p->calls, sip->sip_call_id->i_id, flow_id);

	if (!c || c->state == CALL_ENDED)
		return;
	track_cseq(c, sip, from);
	if (sip->sip_request->rq_method == sip_method_bye) {
		call_ended(p, c, from == CALL_WS ? "BYE from the browser" : "BYE from IMS");
		call_maybe_free(p, c);
	}
}

void calls_flow_closed(struct sip_proxy *p, struct flow *f)
{
	struct call *c = p->calls.all, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->flow_id == f->id && c->state != CALL_ENDED) {
			call_end(p, c, "flow closed", 480);
			call_maybe_free(p, c);
		}
	}
}

void calls_close(struct sip_proxy *p)
{
	struct call *c = p->calls.all, *next;

	for (; c; c = next) {
		next = c->next;
		c->state = CALL_ENDED;
		call_media_release(p, c);
		call_media_free(c);
		if (!c->txns) {
			call_maybe_free(p, c);
			continue;
		}
		for (struct itxn *x; (x = c->txns);) {
			int last = !x->next;
			itxn_terminate(x); /* the last one frees c */
			if (last)
				break;
		}
	}
}
