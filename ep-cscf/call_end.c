/* Ending calls, and the requests the eP-CSCF sends itself for it. */
#include "call_end.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "call_media.h"
#include "call_session.h"
#include "sip_invite_txn.h"
#include "sip_msg.h"
#include "sip_proxy.h"

static const char *const state_names[] = { "init", "early", "confirmed", "ended" };

void call_ended(struct sip_proxy *p, struct call *c, const char *reason)
{
	struct log_ids ids = call_log_ids(c);

	if (c->state == CALL_ENDED)
		return;
	log_info(p->log, p->sub, &ids, "call ended", LF_U("call", c->serial),
		 LF_S("reason", reason), LF_S("state", state_names[c->state]),
		 LF_U("duration_ms", uv_now(p->loop) - c->started_ms));
	c->state = CALL_ENDED;
	call_media_release(p, c);
}

/* Appends one header line per entry of a header list ("Name: value"). */
static void put_headers(FILE *o, msg_t *msg, const char *name, const void *h)
{
	for (const msg_header_t *x = h; x; x = x->sh_next) {
		char *v = call_header_string(msg, x);
		if (v)
			fprintf(o, "%s: %s\r\n", name, v);
		free(v);
	}
}

static void put_one(FILE *o, msg_t *msg, const char *name, const void *h)
{
	char *v = call_header_string(msg, h);
	if (v)
		fprintf(o, "%s: %s\r\n", name, v);
	free(v);
}

/* CANCEL or ACK of an INVITE we sent (RFC 3261 9.1, 17.1.1.3): same
 * Request-URI, top Via, Route, From, Call-ID and CSeq number. */
static char *hop_request(const char *invite, size_t len, const char *method, msg_t *rsp,
			 size_t *out_len)
{
	struct sip_msg_error e;
	msg_t *inv;
	sip_t const *sip;
	char *buf = NULL, ruri[1024];
	size_t n = 0;
	FILE *o;

	if (sip_msg_parse(invite, len, &inv, &e)) {
		if (inv)
			msg_destroy(inv);
		return NULL;
	}
	sip = sip_object(inv);
	if (!(o = open_memstream(&buf, &n))) {
		msg_destroy(inv);
		return NULL;
	}
	url_e(ruri, sizeof(ruri), sip->sip_request->rq_url);
	ruri[sizeof(ruri) - 1] = 0;
	fprintf(o, "%s %s SIP/2.0\r\n", method, ruri);
	put_one(o, inv, "Via", sip->sip_via);
	fprintf(o, "Max-Forwards: 70\r\n");
	put_headers(o, inv, "Route", sip->sip_route);
	put_one(o, inv, "From", sip->sip_from);
	if (rsp)
		put_one(o, rsp, "To", sip_object(rsp)->sip_to);
	else
		put_one(o, inv, "To", sip->sip_to);
	put_one(o, inv, "Call-ID", sip->sip_call_id);
	fprintf(o, "CSeq: %u %s\r\nContent-Length: 0\r\n\r\n", sip->sip_cseq->cs_seq, method);
	msg_destroy(inv);
	if (fclose(o)) {
		free(buf);
		return NULL;
	}
	*out_len = n;
	return buf;
}

char *call_build_cancel(const char *invite, size_t len, size_t *out_len)
{
	return hop_request(invite, len, "CANCEL", NULL, out_len);
}

char *call_build_ack(const char *invite, size_t len, msg_t *response, size_t *out_len)
{
	return hop_request(invite, len, "ACK", response, out_len);
}

void call_cancel_down(struct sip_proxy *p, struct call *c, struct itxn *cx)
{
	struct log_ids ids = call_log_ids(c);
	size_t n;
	char *wire;

	if (cx->cancelled == 2 || cx->state != ITXN_PROCEEDING) {
		/* 9.1: a CANCEL waits for a provisional response. */
		if (cx->state == ITXN_CALLING)
			cx->cancelled = 1;
		return;
	}
	if (!(wire = call_build_cancel(cx->wire, cx->wire_len, &n))) {
		log_error(p->log, p->sub, &ids, "cannot build CANCEL", LF_U("call", c->serial));
		return;
	}
	cx->cancelled = 2;
	log_debug(p->log, p->sub, &ids, "CANCEL sent", LF_U("call", c->serial),
		  LF_S("toward", cx->dest.ws ? "browser" : "ims"));
	if (cx->dest.ws) {
		struct flow *f = flow_table_get(p->flows, cx->dest.flow_id);
		if (f)
			ws_flow_send(p->ws, f, wire, n);
		free(wire);
		return;
	}
	/* A non-INVITE transaction of its own, same branch (9.1). */
	if (!txn_client_start(&p->txns, cx->branch, 0, &cx->dest.peer, wire, n, NULL))
		log_error(p->log, p->sub, &ids, "out of memory for a transaction");
}

/* Text for a Warning or Reason header: no quotes or backslashes. */
static void clean(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && *src && i + 1 < cap; src++)
		dst[i++] = (*src == '"' || *src == '\\' || (unsigned char)*src < 0x20) ? '\'' : *src;
	dst[i] = 0;
}

void call_respond_up(struct sip_proxy *p, struct call *c, struct itxn *sx, int status,
		     const char *phrase, const char *warning)
{
	struct sip_msg_error e;
	msg_t *req, *rsp;
	char tag[32], line[256], text[160], *out;
	size_t len;

	if (!sx || sx->state != ITXN_PROCEEDING || !c->up_inv)
		return;
	if (sip_msg_parse(c->up_inv, c->up_inv_len, &req, &e)) {
		if (req)
			msg_destroy(req);
		return;
	}
	snprintf(tag, sizeof(tag), "ep%llx", (unsigned long long)c->serial);
	rsp = c->up_inv_via ? sip_proxy_response_ws(p, req, status, phrase, tag)
			    : sip_msg_response(req, status, phrase, tag);
	if (rsp && warning) {
		clean(text, sizeof(text), warning);
		snprintf(line, sizeof(line), "399 %s \"%s\"",
			 c->up_inv_via ? p->cfg.ws_host : p->cfg.ims_host, text);
		sip_add_make(rsp, sip_object(rsp), sip_warning_class, line);
	}
	if (rsp && !sip_msg_print(rsp, &out, &len))
		itxn_server_respond(sx, status, out, len);
	if (rsp)
		msg_destroy(rsp);
	msg_destroy(req);
}

/* BYE on side `to`, as the party on the other side would send it. */
static void bye_toward(struct sip_proxy *p, struct call *c, enum call_side to, const char *reason)
{
	struct log_ids ids = call_log_ids(c);
	const char *target = to == CALL_IMS ? c->ims_target : c->ws_target;
	/* The browser's party is the caller when it called. */
	const char *browser = c->dir == CALL_ORIG ? c->caller : c->callee;
	const char *far = c->dir == CALL_ORIG ? c->callee : c->caller;
	char branch[SIP_BRANCH_MAX], text[96], *buf = NULL;
	size_t n = 0;
	struct flow *f = NULL;
	struct ims_peer hop;
	FILE *o;

	if (to == CALL_WS && !(f = flow_table_get(p->flows, c->flow_id)))
		return;
	if (!target || !browser || !far || !(o = open_memstream(&buf, &n))) {
		log_warn(p->log, p->sub, &ids, "cannot send BYE", LF_U("call", c->serial),
			 LF_S("toward", to == CALL_IMS ? "ims" : "browser"),
			 LF_S("reason", "dialog incomplete"));
		return;
	}
	sip_proxy_new_branch(p, branch, sizeof(branch));
	sip_proxy_next_hop(p, &hop);
	fprintf(o, "BYE %s SIP/2.0\r\n", target);
	if (to == CALL_IMS) {
		char via[256];
		sip_proxy_via_value(p, &hop, branch, via, sizeof(via));
		fprintf(o, "Via: %s\r\n", via);
	} else
		fprintf(o, "Via: SIP/2.0/%s %s;branch=%s\r\n", f->secure ? "WSS" : "WS",
			p->cfg.ws_host, branch);
	fprintf(o, "Max-Forwards: 70\r\n");
	if (to == CALL_IMS && c->ims_route)
		fprintf(o, "Route: %s\r\n", c->ims_route);
	fprintf(o, "From: %s\r\nTo: %s\r\n", to == CALL_IMS ? browser : far,
		to == CALL_IMS ? far : browser);
	clean(text, sizeof(text), reason);
	fprintf(o, "Call-ID: %s\r\nCSeq: %u BYE\r\nReason: SIP;cause=200;text=\"%s\"\r\n"
		   "Content-Length: 0\r\n\r\n",
		c->call_id, (to == CALL_IMS ? c->cseq[CALL_WS] : c->cseq[CALL_IMS]) + 1, text);
	if (fclose(o)) {
		free(buf);
		return;
	}
	log_info(p->log, p->sub, &ids, "BYE sent", LF_U("call", c->serial),
		 LF_S("toward", to == CALL_IMS ? "ims" : "browser"), LF_S("reason", reason));
	if (to == CALL_WS) {
		ws_flow_send(p->ws, f, buf, n);
		free(buf);
	} else if (!txn_client_start(&p->txns, branch, 0, &hop, buf, n, NULL)) {
		log_error(p->log, p->sub, &ids, "out of memory for a transaction");
	}
}

void call_end(struct sip_proxy *p, struct call *c, const char *reason, int status)
{
	if (c->state == CALL_ENDED)
		return;
	if (c->srv && c->srv->state == ITXN_PROCEEDING)
		call_respond_up(p, c, c->srv, c->state == CALL_CONFIRMED ? 500 : status, NULL, reason);
	if (c->state == CALL_CONFIRMED) {
		c->bye_sent = 1;
		bye_toward(p, c, CALL_IMS, reason);
		bye_toward(p, c, CALL_WS, reason);
	} else if (c->cli) {
		call_cancel_down(p, c, c->cli);
	}
	call_ended(p, c, reason);
}
