/* The proxy core's IMS side: responses to what we forwarded, and
 * requests from IMS toward a browser's flow (named by the flow token in
 * our Route entry, RFC 5626 5.3), or toward a WWSF range's guest. */
#include <errno.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "call_session.h"
#include "range_proxy.h"
#include "sip_msg.h"
#include "sip_proxy_int.h"

/* Response from IMS to a request we forwarded. */
static void response_from_ims(struct sip_proxy *p, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	struct log_ids ids = sip_proxy_ids_of(sip);
	const char *branch = sip->sip_via->v_branch;
	struct txn *x = branch ? txn_find_ours(&p->txns, branch) : NULL;
	int status = sip->sip_status->st_status;

	if (sip->sip_cseq->cs_method == sip_method_invite) {
		call_response_from_ims(p, msg);
		return;
	}
	if (x && x->kind == TXN_CLIENT && sip->sip_cseq->cs_method == sip_method_cancel) {
		txn_client_response(x, status); /* our own CANCEL: hop by hop */
		msg_destroy(msg);
		return;
	}
	if (!x || x->kind != TXN_CLIENT || x->final) {
		/* Unknown, or a retransmission absorbed by Timer K. */
		log_debug(p->log, p->sub, &ids, "response from IMS absorbed", LF_I("status", status));
		msg_destroy(msg);
		return;
	}
	txn_client_response(x, status);
	if (!x->flow_id && sip->sip_cseq->cs_method == sip_method_register &&
	    range_reg_response(p, msg)) {
		if (status >= 200)
			txn_client_drop_request(x);
		msg_destroy(msg);
		return;
	}
	struct flow *f = flow_table_get(p->flows, x->flow_id);
	msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_via);
	if (sip->sip_cseq->cs_method == sip_method_register && status >= 200 && status < 300 &&
	    x->req) { /* no req: our own de-registration */
		int known = reg_find(&p->regs, x->flow_id) != NULL;
		int rc = reg_apply_200(&p->regs, x->flow_id, sip, sip_object(x->req), uv_now(p->loop));
		struct reg_binding *b = reg_find(&p->regs, x->flow_id);
		/* A refresh changes no state worth a line at info level. */
		log_at(p->log, p->sub, known && rc == 0 ? LOG_DEBUG : LOG_INFO, &ids,
		       rc == ENOENT ? "deregistered" : known ? "registration refreshed" : "registered",
		       LF_S("flow", f ? f->token : ""), LF_S("impu", b && b->n_impu ? b->impu[0] : ""),
		       LF_U("impus", b ? b->n_impu : 0));
		if (p->tna && rc != ENOMEM)
			tna_register_result(p->tna, x->flow_id, rc != ENOENT);
	}
	if (f && sip->sip_via && call_response_media(p, f->id, msg, CALL_IMS)) {
		/* An answer in the 2xx of an UPDATE or PRACK: media step first. */
		if (status >= 200)
			txn_client_drop_request(x);
		return;
	}
	if (!f) {
		log_info(p->log, p->sub, &ids, "response for a closed flow dropped", LF_I("status", status));
	} else if (sip->sip_via) {
		sip_proxy_to_flow(p, f, msg);
	}
	if (status >= 200)
		txn_client_drop_request(x);
	msg_destroy(msg);
}

/* Request from IMS toward a browser: the top Route names the flow. */
static void request_from_ims(struct sip_proxy *p, msg_t *msg, const struct ims_peer *from)
{
	sip_t *sip = sip_object(msg);
	struct log_ids ids = sip_proxy_ids_of(sip);
	const char *up = sip->sip_via->v_branch ? sip->sip_via->v_branch : "";
	struct txn *x = *up ? txn_find_up(&p->txns, up) : NULL;
	char branch[SIP_BRANCH_MAX];
	uint64_t id;
	int rc;

	switch (sip->sip_request->rq_method) {
	case sip_method_invite:
		if (call_invite_retransmission(p, msg))
			return;
		break;
	case sip_method_cancel:
		call_cancel_from_ims(p, msg, from);
		return;
	case sip_method_ack:
		if (call_ack_absorbed(p, CALL_IMS, 0, msg)) {
			msg_destroy(msg);
			return;
		}
		break;
	default:
		break;
	}
	if (x) {
		/* A retransmission: answer from the cache, else wait. */
		if (x->final)
			sip_proxy_send_ims(p, x->wire, x->wire_len, from);
		msg_destroy(msg);
		return;
	}
	/* RFC 3261 16.3 step 2: Max-Forwards is checked before routing, so a
	 * request at zero gets 483 whatever it names (RFC 4475 3.3.11). */
	if ((rc = sip_proxy_max_forwards(msg, sip))) {
		log_info(p->log, p->sub, &ids, "request from IMS refused",
			 LF_S("reason", rc > 0 ? "Max-Forwards is zero" : "out of memory"),
			 LF_I("status", rc > 0 ? rc : 500));
		if (sip->sip_request->rq_method != sip_method_ack)
			sip_proxy_reply_ims(p, msg, rc > 0 ? rc : 500, NULL, from);
		msg_destroy(msg);
		return;
	}
	char token[FLOW_TOKEN_LEN + 8];
	const char *user = sip_proxy_pop_our_routes(p, msg, sip, token, sizeof(token));
	struct flow *f = NULL;
	if (!user || flow_token_verify(p->flows, user, strlen(user), &id)) {
		/* Else the Path of a WWSF range's registration. */
		rc = user ? range_terminating(p, msg, user, &f) : ENOENT;
		if (rc) {
			if (rc == ENOENT)
				log_info(p->log, p->sub, &ids, "request from IMS refused",
					 LF_S("reason", "no flow token in Route"), LF_I("status", 404));
			sip_proxy_reply_ims(p, msg, rc == ENOENT ? 404 : rc == EINVAL ? 404
						    : rc == EHOSTUNREACH ? 480 : 500,
					    rc == ENOENT ? "No Flow Token" : NULL, from);
			msg_destroy(msg);
			return;
		}
	} else {
		f = flow_table_get(p->flows, id);
	}
	if (!f) {
		metric_inc(p->m_430);
		log_info(p->log, p->sub, &ids, "request from IMS for a closed flow",
			 LF_S("flow", user), LF_I("status", 430));
		sip_proxy_reply_ims(p, msg, 430, "Flow Failed", from);
		msg_destroy(msg);
		return;
	}
	if (sip_proxy_creates_dialog(sip) && sip_proxy_record_route(p, msg, sip, f, 0)) {
		sip_proxy_reply_ims(p, msg, 500, NULL, from);
		msg_destroy(msg);
		return;
	}
	if (sip->sip_request->rq_method == sip_method_invite) {
		call_invite_to_ws(p, f, msg, up, from);
		return;
	}
	if (sip->sip_request->rq_method == sip_method_ack) {
		call_ack_to_ws(p, f, msg);
		return;
	}
	call_request_seen(p, f->id, msg, CALL_IMS);
	sip_proxy_new_branch(p, branch, sizeof(branch));
	if (sip_proxy_via_ws(p, msg, f, branch) ||
	    !txn_server_start(&p->txns, branch, up, f->id, from)) {
		sip_proxy_reply_ims(p, msg, 500, NULL, from);
		msg_destroy(msg);
		return;
	}
	if (call_request_media(p, f, msg, CALL_IMS))
		return; /* UPDATE or PRACK with SDP: through the media step */
	log_debug(p->log, p->sub, &ids, "request to flow", LF_S("flow", f->token),
		  LF_S("method", sip->sip_request->rq_method_name));
	sip_proxy_to_flow(p, f, msg);
	msg_destroy(msg);
}

void sip_proxy_from_ims(struct sip_proxy *p, const char *buf, size_t len,
			const struct ims_peer *from)
{
	struct sip_msg_error e;
	msg_t *msg;

	if (len <= 4 && strspn(buf, "\r\n") == len)
		return; /* keep-alive */
	log_trace(p->log, p->sub, NULL, "from IMS", LF_SN("sip", buf, len));
	if (sip_msg_parse(buf, len, &msg, &e)) {
		struct log_ids ids = sip_proxy_ids_of(msg ? sip_object(msg) : NULL);
		char peer[80];
		conf_addr_format((const struct sockaddr *)&from->addr, peer, sizeof(peer));
		metric_inc(p->m_bad);
		log_info(p->log, p->sub, &ids, "malformed SIP from IMS", LF_S("peer", peer),
			 LF_S("reason", e.reason), LF_I("status", e.status));
		if (msg && e.status)
			sip_proxy_reply_ims(p, msg, e.status, e.reason, from);
		if (msg)
			msg_destroy(msg);
		return;
	}
	sip_proxy_count(p, sip_object(msg), SIP_FROM_IMS);
	if (e.reason[0]) {
		struct log_ids ids = sip_proxy_ids_of(sip_object(msg));
		log_warn(p->log, p->sub, &ids, "message from IMS kept despite a bad header it does not need",
			 LF_S("reason", e.reason));
	}
	if (sip_object(msg)->sip_request)
		request_from_ims(p, msg, from);
	else
		response_from_ims(p, msg);
}
