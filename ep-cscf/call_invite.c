/* INVITE through the proxy: the request both ways, its retransmissions,
 * the responses (dialog state learnt, failures ACKed per hop, late 2xx
 * of ended calls ACKed and ended). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

#include "call_end.h"
#include "call_int.h"
#include "call_media.h"
#include "call_session.h"
#include "sip_invite_txn.h"
#include "sip_msg.h"

static struct log_ids ids_of(sip_t const *sip)
{
	struct log_ids ids = { .call_id = sip && sip->sip_call_id ? sip->sip_call_id->i_id : NULL };
	return ids;
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
	if (!(wire = call_print_copy(msg, &len)) ||
	    itxn_client_start(&cx, p->loop, &call_tx_ops, c, sx->sent_branch, &to, wire, len)) {
		msg_destroy(msg);
		call_respond_up(p, c, sx, 500, NULL, NULL);
		call_ended(p, c, "out of memory");
		call_maybe_free(p, c);
		return;
	}
	call_push_txn(c, cx);
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

	if (itxn_server_start(&sx, p->loop, &call_tx_ops, c, up, from))
		return ENOMEM;
	call_push_txn(c, sx);
	c->srv = sx;
	c->cli = NULL;
	snprintf(sx->sent_branch, sizeof(sx->sent_branch), "%s", branch);
	free(c->up_inv);
	c->up_inv = call_print_copy(msg, &c->up_inv_len);
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
		else if (c->srv && c->srv->state == ITXN_PROCEEDING && c->srv->dest.ws == (dir == CALL_ORIG))
			status = 500, why = "INVITE in progress"; /* 14.2: the sender's own */
		else if (c->srv && c->srv->state == ITXN_PROCEEDING)
			status = 491, why = "glare: an INVITE from the other side is in progress"; /* 14.2 */
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
			call_set_target(&c->ws_target, sip->sip_contact);
		} else {
			call_set_target(&c->ims_target, sip->sip_contact);
			c->ims_route = call_route_text(p, msg, sip->sip_record_route, 0);
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
	call_track_cseq(c, sip, dir == CALL_ORIG ? CALL_WS : CALL_IMS);
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
	struct itxn *sx = call_find_any(p, sip, ITXN_SERVER, 0, 0, sip->sip_via->v_branch, &c);

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
	struct itxn *sx = call_find_txn(c, ITXN_SERVER, from == CALL_IMS, sip->sip_via->v_branch);
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

/* A 2xx for a call that has ended meanwhile (a CANCEL or a failure
 * crossed it): the callee's dialog is ACKed and ended with BYE at once,
 * along its own route set (RFC 3261 15, 16.7 item 4 for the proxy that
 * cannot pass it on). */
static void end_late_2xx(struct sip_proxy *p, struct call *c, struct itxn *cx, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct log_ids ids = call_log_ids(c);
	char target[512], *route = NULL, *from, *to;
	struct flow *f = NULL;
	struct ims_peer hop;

	if (!sip->sip_contact || url_e(target, sizeof(target), sip->sip_contact->m_url) <= 0 ||
	    strlen(target) >= sizeof(target) - 1)
		return;
	if (cx->dest.ws && !(f = flow_table_get(p->flows, cx->dest.flow_id)))
		return;
	if (!cx->dest.ws)
		route = call_route_text(p, msg, sip->sip_record_route, 1);
	from = call_header_string(msg, sip->sip_from);
	to = call_header_string(msg, sip->sip_to);
	sip_proxy_next_hop(p, &hop);
	for (int bye = 0; from && to && bye < 2; bye++) {
		char branch[SIP_BRANCH_MAX], via[256], *buf = NULL;
		size_t n = 0;
		FILE *o = open_memstream(&buf, &n);
		if (!o)
			break;
		sip_proxy_new_branch(p, branch, sizeof(branch));
		if (f)
			snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s", f->secure ? "WSS" : "WS",
				 p->cfg.ws_host, branch);
		else
			sip_proxy_via_value(p, &hop, branch, via, sizeof(via));
		fprintf(o, "%s %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n", bye ? "BYE" : "ACK",
			target, via);
		if (route)
			fprintf(o, "Route: %s\r\n", route);
		fprintf(o, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
			   "Content-Length: 0\r\n\r\n",
			from, to, c->call_id, sip->sip_cseq->cs_seq + (unsigned)bye, bye ? "BYE" : "ACK");
		if (fclose(o)) {
			free(buf);
			break;
		}
		if (f) {
			ws_flow_send(p->ws, f, buf, n);
			free(buf);
		} else if (!bye) {
			sip_proxy_send_ims(p, buf, n, &hop);
			free(buf);
		} else if (!txn_client_start(&p->txns, branch, 0, &hop, buf, n, NULL)) {
			break;
		}
	}
	log_info(p->log, p->sub, &ids, "2xx after the call ended: ACK and BYE sent", LF_U("call", c->serial),
		 LF_S("toward", cx->dest.ws ? "browser" : "ims"));
	free(route);
	free(from);
	free(to);
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
	if (c->state == CALL_ENDED && status >= 200 && status < 300) {
		end_late_2xx(p, c, cx, msg);
		msg_destroy(msg);
		return;
	}
	if (status >= 300) {
		size_t n;
		char *ack = call_build_ack(cx->wire, cx->wire_len, msg, &n);
		itxn_client_ack(cx, ack, n);
	}
	call_learn_from_response(p, c, msg);
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
	struct itxn *cx = call_find_any(p, sip, ITXN_CLIENT, 0, 0, sip->sip_via->v_branch, &c);

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
	struct itxn *cx = call_find_any(p, sip, ITXN_CLIENT, 1, f->id, sip->sip_via->v_branch, &c);

	if (!cx) {
		struct log_ids ids = ids_of(sip);
		log_info(p->log, p->sub, &ids, "stray INVITE response from flow dropped",
			 LF_S("flow", f->token), LF_I("status", sip->sip_status->st_status));
		msg_destroy(msg);
		return;
	}
	invite_response(p, c, cx, msg, CALL_WS);
}
