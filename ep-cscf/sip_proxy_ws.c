/* Messages from browser flows: requests toward IMS (Path, P-Charging-
 * Vector, P-Asserted-Identity, double Record-Route, web authentication),
 * responses relayed to IMS, a flow's close and its token's expiry. */
#include "sip_proxy.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

#include "call_session.h"
#include "range_proxy.h"
#include "sip_msg.h"
#include "sip_proxy_int.h"

/* RFC 3261 18.1.1: a request this close to the path MTU goes over TCP. */
#define UDP_MAX_REQUEST 1300

/* A refusal of the web authentication, with its WWW-Authenticate. */
static void reply_flow_auth(struct sip_proxy *p, struct flow *f, msg_t *req,
			    const struct tna_refusal *r)
{
	msg_t *rsp = sip_msg_response(req, r->status, r->phrase, f->token);
	if (!rsp)
		return;
	if (!r->www_authenticate[0] ||
	    sip_add_make(rsp, sip_object(rsp), sip_www_authenticate_class,
			 r->www_authenticate + strlen("WWW-Authenticate: ")) >= 0)
		sip_proxy_to_flow(p, f, rsp);
	msg_destroy(rsp);
}

static int add_header(msg_t *msg, sip_t *sip, const char *line)
{
	return sip_add_make(msg, sip, sip_unknown_class, line) < 0 ? ENOMEM : 0;
}

static void remove_unknown(msg_t *msg, sip_t *sip, const char *name)
{
	sip_unknown_t *u = sip->sip_unknown;
	while (u) {
		sip_unknown_t *next = u->un_next;
		if (u->un_name && !strcasecmp(u->un_name, name))
			msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)u);
		u = next;
	}
}

/* A P-Charging-Vector line with a new icid (TS 24.229 7.2A.5: globally
 * unique): 16 random hex digits drawn at start, then a counter, so no
 * random bytes (and no fork check) per request.  Returns buf. */
static const char *charging_vector(struct sip_proxy *p, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t h = strlen(p->pcv_head), t = strlen(p->pcv_tail);
	uint64_t v = p->icid_seq++;

	if (h + 16 + t + 1 > len)
		return "";
	memcpy(buf, p->pcv_head, h);
	for (int i = 15; i >= 0; i--, v >>= 4)
		buf[h + (size_t)i] = hex[v & 15];
	memcpy(buf + h + 16, p->pcv_tail, t + 1);
	return buf;
}

/* Request from a browser flow toward IMS. */
static void request_from_ws(struct sip_proxy *p, struct flow *f, msg_t *msg, size_t in_len)
{
	sip_t *sip = sip_object(msg);
	struct log_ids ids = sip_proxy_ids_of(sip);
	char branch[SIP_BRANCH_MAX], line[512];
	int rc;

	/* CANCEL is hop by hop; so is the ACK of a non-2xx response. */
	if (sip->sip_request->rq_method == sip_method_cancel) {
		call_cancel_from_ws(p, f, msg);
		return;
	}
	if (sip->sip_request->rq_method == sip_method_ack && call_ack_absorbed(p, CALL_WS, f->id, msg)) {
		msg_destroy(msg);
		return;
	}
	if ((rc = sip_proxy_max_forwards(msg, sip))) {
		sip_proxy_reply_flow(p, f, msg, rc > 0 ? rc : 500, NULL);
		msg_destroy(msg);
		return;
	}
	if (p->tna) {
		struct tna_refusal r;
		size_t removed;
		if ((rc = tna_request(p->tna, f, msg, sip, &r, &removed))) {
			if (rc == ENOMEM)
				goto oom;
			reply_flow_auth(p, f, msg, &r);
			msg_destroy(msg);
			return;
		}
		/* Bearer out, TNA credentials in: what we add (Via, Path,
		 * P-Charging-Vector, P-Visited-Network-ID, ~300 bytes) and
		 * the TNA Authorization (~200) stay within the 600 reserved. */
		if (removed)
			in_len = in_len > removed ? in_len - removed : 0;
		/* An IMPU from a WWSF range: the eP-CSCF is its registrar. */
		struct tna_flow *tf = sip->sip_request->rq_method == sip_method_register
					      ? tna_find(p->tna, f->id) : NULL;
		if (tf && tf->range[0]) {
			range_guest_register(p, f, tf, msg);
			return;
		}
	}
	struct ims_peer to = { .transport = p->cfg.transport };
	memcpy(&to.addr, &p->cfg.next_hop, sizeof(to.addr));
	/* An INVITE's SDP is rewritten on the way: what we add stays well
	 * under 600 bytes.  Other requests are measured as printed
	 * (sip_proxy_forward_ims). */
	if (to.transport == IMS_UDP && in_len + 600 > UDP_MAX_REQUEST &&
	    (sip->sip_request->rq_method == sip_method_invite ||
	     sip->sip_request->rq_method == sip_method_ack))
		to.transport = IMS_TCP;
	sip_proxy_new_branch(p, branch, sizeof(branch));
	if (sip_proxy_via_ims(p, msg, &to, branch))
		goto oom;
	/* Never trusted from a UE; the network makes its own charging id. */
	remove_unknown(msg, sip, "P-Asserted-Identity");
	remove_unknown(msg, sip, "P-Charging-Vector");
	if (add_header(msg, sip, charging_vector(p, line, sizeof(line))))
		goto oom;

	char token[FLOW_TOKEN_LEN + 8];
	if (sip_proxy_pop_our_routes(p, msg, sip, token, sizeof(token)) && strcmp(token, f->token)) {
		/* A route set naming another flow: not this browser's dialog. */
		sip_proxy_reply_flow(p, f, msg, 403, "Route Of Another Flow");
		log_info(p->log, p->sub, &ids, "request refused", LF_S("flow", f->token),
			 LF_S("reason", "Route names another flow"), LF_I("status", 403));
		msg_destroy(msg);
		return;
	}
	if (sip->sip_to->a_tag && sip->sip_request->rq_method != sip_method_register) {
		/* In-dialog: the route set leads on; identity was asserted on
		 * the initial request. */
	} else if (sip->sip_request->rq_method == sip_method_register) {
		/* RFC 5626 5.2 / RFC 3327; TS 24.229 5.2.2. */
		snprintf(line, sizeof(line), "<sip:%s@%s%s;lr;ob>", f->token, sip_proxy_ims_uri_host(p),
			 sip_proxy_ims_uri_transport(p));
		if (sip_add_make(msg, sip, sip_path_class, line) < 0 ||
		    sip_add_make(msg, sip, sip_require_class, "path") < 0)
			goto oom;
		remove_unknown(msg, sip, "P-Visited-Network-ID");
		if (add_header(msg, sip, p->pvni_line))
			goto oom;
	} else {
		struct reg_binding *b = reg_find(&p->regs, f->id);
		const char *ppi = sip_unknown_value(sip, "P-Preferred-Identity");
		const char *pai = reg_asserted_identity(b, ppi);
		if (!pai) {
			sip_proxy_reply_flow(p, f, msg, 403, "Not Registered");
			log_info(p->log, p->sub, &ids, "request refused", LF_S("flow", f->token),
				 LF_S("reason", "flow not registered"), LF_I("status", 403));
			msg_destroy(msg);
			return;
		}
		remove_unknown(msg, sip, "P-Preferred-Identity");
		snprintf(line, sizeof(line), "P-Asserted-Identity: <%s>", pai);
		if (add_header(msg, sip, line))
			goto oom;
		if (b->service_route && !sip->sip_route) {
			/* Preloaded route set: the Service-Route (RFC 3608). */
			if (sip_add_make(msg, sip, sip_route_class, b->service_route) < 0)
				goto oom;
		}
		if (sip_proxy_creates_dialog(sip) && sip_proxy_record_route(p, msg, sip, f, 1))
			goto oom;
	}

	switch (sip->sip_request->rq_method) {
	case sip_method_invite:
		call_invite_to_ims(p, f, msg, branch, &to);
		return;
	case sip_method_ack:
		call_ack_to_ims(p, f, msg, &to);
		return;
	default:
		call_request_seen(p, f->id, msg, CALL_WS);
		/* UPDATE or PRACK with SDP: through the media step first. */
		if (call_request_media(p, f, msg, CALL_WS))
			return;
		break;
	}
	sip_proxy_forward_ims(p, f, msg, branch, &to);
	return;
oom:
	sip_proxy_reply_flow(p, f, msg, 500, "Server Internal Error");
	msg_destroy(msg);
}

void sip_proxy_forward_ims(struct sip_proxy *p, struct flow *f, msg_t *msg, const char *branch,
			   const struct ims_peer *to_in)
{
	sip_t *sip = sip_object(msg);
	struct log_ids ids = sip_proxy_ids_of(sip);
	struct ims_peer to = *to_in;
	char *text, *wire;
	size_t len;
	int rc = sip_msg_print(msg, &text, &len);

	/* RFC 3261 18.1.1: a request over 1300 bytes (the path MTU unknown)
	 * goes over TCP; its Via says so. */
	if (!rc && to.transport == IMS_UDP && len > UDP_MAX_REQUEST) {
		to.transport = IMS_TCP;
		msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_via);
		rc = sip_proxy_via_ims(p, msg, &to, branch);
		if (!rc)
			rc = sip_msg_print(msg, &text, &len);
	}
	if (rc || !(wire = malloc(len))) {
		sip_proxy_reply_flow(p, f, msg, 500, "Server Internal Error");
		msg_destroy(msg);
		return;
	}
	memcpy(wire, text, len);
	log_debug(p->log, p->sub, &ids, "request to IMS", LF_S("flow", f->token),
		  LF_S("method", sip->sip_request->rq_method_name), LF_S("branch", branch));
	if (!txn_client_start(&p->txns, branch, f->id, &to, wire, len, msg))
		log_error(p->log, p->sub, &ids, "out of memory for a transaction");
}

void sip_proxy_response_to_ims(struct sip_proxy *p, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	struct txn *x = sip->sip_via && sip->sip_via->v_branch
				? txn_find_ours(&p->txns, sip->sip_via->v_branch) : NULL;
	char *text;
	size_t len;

	if (!x || x->kind != TXN_SERVER || x->final) {
		msg_destroy(msg);
		return;
	}
	msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_via);
	if (sip->sip_via && !sip_msg_print(msg, &text, &len)) {
		if (sip->sip_status->st_status >= 200)
			txn_server_final(x, text, len);
		else
			sip_proxy_send_ims(p, text, len, &x->peer);
	}
	msg_destroy(msg);
}

/* Response from a browser to a request from IMS. */
static void response_from_ws(struct sip_proxy *p, struct flow *f, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	struct log_ids ids = sip_proxy_ids_of(sip);
	struct txn *x;

	if (sip->sip_cseq->cs_method == sip_method_invite) {
		call_response_from_ws(p, f, msg);
		return;
	}
	if (sip->sip_cseq->cs_method == sip_method_cancel) {
		msg_destroy(msg); /* to a CANCEL of ours (hop by hop) */
		return;
	}
	x = sip->sip_via->v_branch ? txn_find_ours(&p->txns, sip->sip_via->v_branch) : NULL;

	if (!x || x->kind != TXN_SERVER || x->flow_id != f->id || x->final) {
		log_info(p->log, p->sub, &ids, "stray response from flow dropped",
			 LF_S("flow", f->token), LF_I("status", sip->sip_status->st_status));
		msg_destroy(msg);
		return;
	}
	/* An answer in the 2xx of an UPDATE or PRACK: the media step first. */
	if (call_response_media(p, f->id, msg, CALL_WS))
		return;
	sip_proxy_response_to_ims(p, msg);
}

void sip_proxy_from_ws(struct sip_proxy *p, struct flow *f, const char *buf, size_t len)
{
	struct sip_msg_error e;
	msg_t *msg;

	log_trace(p->log, p->sub, NULL, "from flow", LF_S("flow", f->token), LF_SN("sip", buf, len));
	/* RFC 5626 4.4.1 keep-alive: a double CRLF ping gets a CRLF pong. */
	if (len == 4 && !memcmp(buf, "\r\n\r\n", 4)) {
		ws_flow_send(p->ws, f, "\r\n", 2);
		return;
	}
	if (sip_msg_parse(buf, len, &msg, &e)) {
		struct log_ids ids = sip_proxy_ids_of(msg ? sip_object(msg) : NULL);
		metric_inc(p->m_bad);
		log_info(p->log, p->sub, &ids, "malformed SIP from flow", LF_S("flow", f->token),
			 LF_S("reason", e.reason), LF_I("status", e.status));
		if (msg && e.status)
			sip_proxy_reply_flow(p, f, msg, e.status, e.reason);
		if (msg)
			msg_destroy(msg);
		return;
	}
	sip_proxy_count(p, sip_object(msg), SIP_FROM_WS);
	if (sip_object(msg)->sip_request)
		request_from_ws(p, f, msg, len);
	else
		response_from_ws(p, f, msg);
}

void sip_proxy_flow_closed(struct sip_proxy *p, struct flow *f)
{
	/* Its calls end: BYE or CANCEL toward IMS, media released. */
	calls_flow_closed(p, f);
	if (p->tna)
		tna_flow_closed(p->tna, f->id);
	/* Policy: the registration is left to expire in IMS; terminating
	 * requests meanwhile get 430 (RFC 5626 5.3). */
	if (reg_find(&p->regs, f->id)) {
		log_info(p->log, p->sub, NULL, "flow with registration closed",
			 LF_S("flow", f->token));
		reg_remove(&p->regs, f->id);
	}
}

void sip_proxy_token_expired(void *proxy, const struct tna_flow *tf)
{
	struct sip_proxy *p = proxy;
	struct flow *f = flow_table_get(p->flows, tf->flow_id);
	struct ims_peer to;
	char branch[SIP_BRANCH_MAX], auth[1024], tag[24], via[256], *wire;
	unsigned char r[8];
	int n;

	if (tf->range[0]) {
		/* A guest of a WWSF range: registered here only. */
		log_info(p->log, p->sub, NULL, "registration ended by token expiry",
			 LF_S("flow", f ? f->token : ""), LF_S("impu", tf->impu), LF_S("range", tf->range));
		reg_remove(&p->regs, tf->flow_id);
		if (f)
			ws_flow_close(p->ws, f, 1008, "token expired");
		return;
	}
	sip_proxy_next_hop(p, &to);
	sip_proxy_new_branch(p, branch, sizeof(branch));
	sip_proxy_via_value(p, &to, branch, via, sizeof(via));
	if (RAND_bytes(r, sizeof(r)) != 1 ||
	    tna_authorization_line(tf->impi, tf->impu, tf->ruri, auth, sizeof(auth)))
		return;
	snprintf(tag, sizeof(tag), "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7]);
	/* The registration's own Call-ID and next CSeq (RFC 3261 10.2.4). */
	wire = malloc(4096);
	if (!wire)
		return;
	n = snprintf(wire, 4096,
		     "REGISTER %s SIP/2.0\r\n"
		     "Via: %s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <%s>;tag=%s\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "Contact: <%s>;expires=0\r\n"
		     "Expires: 0\r\n"
		     "Path: <sip:%s@%s%s;lr;ob>\r\n"
		     "Supported: path\r\n"
		     "P-Visited-Network-ID: \"%s\"\r\n"
		     "%s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     tf->ruri, via, tf->impu, tag, tf->impu, tf->call_id, tf->cseq + 1, tf->contact,
		     f ? f->token : "gone", sip_proxy_ims_uri_host(p), sip_proxy_ims_uri_transport(p),
		     p->cfg.visited_network, auth);
	if (n < 0 || n >= 4096) {
		free(wire);
		return;
	}
	log_info(p->log, p->sub, NULL, "registration ended by token expiry",
		 LF_S("flow", f ? f->token : ""), LF_S("impu", tf->impu));
	/* flow id 0: the answer concerns no flow any more. */
	if (!txn_client_start(&p->txns, branch, 0, &to, wire, (size_t)n, NULL))
		log_error(p->log, p->sub, NULL, "out of memory for a transaction");
	reg_remove(&p->regs, tf->flow_id);
	if (f)
		ws_flow_close(p->ws, f, 1008, "token expired");
}
