/* Calls through the proxy: their INVITE transactions, CANCEL and ACK,
 * the other requests of a call, flows closing, exit.  INVITE itself is in
 * call_invite.c. */
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
#include "call_int.h"
#include "call_media.h"
#include "sip_invite_txn.h"
#include "sip_msg.h"

struct log_ids call_log_ids(const struct call *c)
{
	struct log_ids ids = { .call_id = c->call_id };
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

const struct itxn_ops call_tx_ops = { tx_send, tx_timeout, tx_done };

void call_maybe_free(struct sip_proxy *p, struct call *c)
{
	if (c->state != CALL_ENDED || c->txns || call_media_busy(c))
		return;
	call_media_free(c);
	call_remove(&p->calls, c);
}

struct itxn *call_find_txn(const struct call *c, enum itxn_kind kind, int ws, const char *branch)
{
	for (struct itxn *x = c->txns; x && branch; x = x->next)
		if (x->kind == kind && x->dest.ws == ws && !strcmp(x->branch, branch))
			return x;
	return NULL;
}

/* The call and transaction, among calls with this Call-ID, with a
 * transaction of this kind toward side ws (flow_id when ws) and branch. */
struct itxn *call_find_any(struct sip_proxy *p, sip_t const *sip, enum itxn_kind kind, int ws,
			     uint64_t flow_id, const char *branch, struct call **out)
{
	const char *id = sip->sip_call_id->i_id;
	for (struct call *c = call_next_with_id(&p->calls, id, NULL); c;
	     c = call_next_with_id(&p->calls, id, c)) {
		struct itxn *x;
		if (ws && c->flow_id != flow_id)
			continue;
		if ((x = call_find_txn(c, kind, ws, branch))) {
			*out = c;
			return x;
		}
	}
	return NULL;
}

void call_push_txn(struct call *c, struct itxn *x)
{
	x->next = c->txns;
	c->txns = x;
}

char *call_print_copy(msg_t *msg, size_t *len)
{
	char *text, *copy;
	if (sip_msg_print(msg, &text, len) || !(copy = malloc(*len ? *len : 1)))
		return NULL;
	memcpy(copy, text, *len);
	return copy;
}

/* "<uri>, <uri>" of Record-Route entries (not ours) in the given order. */
char *call_route_text(struct sip_proxy *p, msg_t *msg, sip_record_route_t const *rr, int reverse)
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

void call_set_target(char **field, sip_contact_t const *m)
{
	char buf[512];
	if (m && url_e(buf, sizeof(buf), m->m_url) > 0 && strlen(buf) < sizeof(buf) - 1)
		call_set(field, buf);
}

/* What a response with a To tag from the callee's side teaches. */
void call_learn_from_response(struct sip_proxy *p, struct call *c, msg_t *msg)
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
		call_set_target(&c->ims_target, sip->sip_contact);
		if (sip->sip_record_route) {
			free(c->ims_route);
			c->ims_route = call_route_text(p, msg, sip->sip_record_route, 1);
		}
	} else {
		call_set_target(&c->ws_target, sip->sip_contact);
	}
	if (status >= 200)
		c->state = CALL_CONFIRMED;
	else if (c->state == CALL_INIT)
		c->state = CALL_EARLY;
}

void call_track_cseq(struct call *c, sip_t const *sip, enum call_side from)
{
	if (sip->sip_cseq && sip->sip_cseq->cs_seq > c->cseq[from])
		c->cseq[from] = sip->sip_cseq->cs_seq;
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
	struct itxn *sx = call_find_any(p, sip, ITXN_SERVER, 1, f->id, sip->sip_via->v_branch, &c);

	sip_proxy_reply_flow(p, f, msg, sx ? 200 : 481, NULL);
	msg_destroy(msg);
	if (sx)
		cancel_server(p, c, sx);
}

void call_cancel_from_ims(struct sip_proxy *p, msg_t *msg, const struct ims_peer *from)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *sx = call_find_any(p, sip, ITXN_SERVER, 0, 0, sip->sip_via->v_branch, &c);

	sip_proxy_reply_ims(p, msg, sx ? 200 : 481, NULL, from);
	msg_destroy(msg);
	if (sx)
		cancel_server(p, c, sx);
}

int call_ack_absorbed(struct sip_proxy *p, enum call_side from, uint64_t flow_id, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;
	struct itxn *sx = call_find_any(p, sip, ITXN_SERVER, from == CALL_WS, flow_id,
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
	call_track_cseq(c, sip, from);
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
