/* Edge proxy between browser flows and the IMS core. */
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

#define BRANCH_PREFIX "z9hG4bK"
/* RFC 3261 18.1.1: a request this close to the path MTU goes over TCP. */
#define UDP_MAX_REQUEST 1300

static const char *tp_name(enum ims_transport t);
static void send_ims(void *arg, const char *buf, size_t len, const struct ims_peer *to);

void sip_proxy_send_ims(struct sip_proxy *p, const char *buf, size_t len,
			const struct ims_peer *to)
{
	log_trace(p->log, p->sub, NULL, "to IMS", LF_S("transport", tp_name(to->transport)),
		  LF_U("conn", to->conn_id), LF_SN("sip", buf, len));
	const struct sockaddr *sa = (const struct sockaddr *)&to->addr;
	int rc = to->transport == IMS_UDP ? ims_udp_send(p->udp, buf, len, sa)
		 : to->transport == IMS_TCP ? ims_tcp_send(p->tcp, to->conn_id, sa, buf, len)
		 : p->tls ? ims_tcp_send(p->tls, to->conn_id, sa, buf, len)
			  : ENOTCONN;
	if (rc)
		log_warn(p->log, p->sub, NULL, "send toward IMS failed",
			 LF_S("transport", tp_name(to->transport)), LF_S("reason", strerror(rc)));
}

static void send_ims(void *arg, const char *buf, size_t len, const struct ims_peer *to)
{
	sip_proxy_send_ims(arg, buf, len, to);
}

static const char *tp_name(enum ims_transport t)
{
	return t == IMS_TLS ? "TLS" : t == IMS_TCP ? "TCP" : "UDP";
}

/* Host part and transport parameter of our URIs toward IMS (Path,
 * Record-Route): the TLS listener when the next hop is reached over TLS. */
static const char *ims_uri_host(const struct sip_proxy *p)
{
	return p->cfg.transport == IMS_TLS ? p->cfg.ims_tls_host : p->cfg.ims_host;
}

static const char *ims_uri_transport(const struct sip_proxy *p)
{
	return p->cfg.transport == IMS_TLS ? ";transport=tls"
	       : p->cfg.transport == IMS_TCP ? ";transport=tcp" : "";
}

void sip_proxy_attach_tls(struct sip_proxy *p, struct ims_tcp *tls)
{
	p->tls = tls;
}

static void free_msg(void *m)
{
	msg_destroy(m);
}

static const char *const method_labels[SIP_PROXY_N_METHODS] = {
	"REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE", "SUBSCRIBE",
	"NOTIFY", "PRACK", "UPDATE", "INFO", "REFER", "PUBLISH",
	"other" /* label values from the network are bounded */
};

static unsigned method_index(sip_t const *sip)
{
	const char *m = sip->sip_request->rq_method_name;
	unsigned i;
	for (i = 0; i + 1 < SIP_PROXY_N_METHODS && strcmp(m, method_labels[i]); i++)
		;
	return i;
}

/* Counts a message by method or status code.  The series are looked up
 * by name once and then kept: this runs for every message. */
void sip_proxy_count(struct sip_proxy *p, sip_t const *sip, unsigned side)
{
	struct metric **slot;
	char code[8];

	if (sip->sip_request) {
		unsigned i = method_index(sip);
		slot = &p->m_requests[side][i];
		if (!*slot)
			*slot = metrics_get(p->metrics, side == SIP_FROM_WS ? "epcscf_sip_requests_from_ws_total"
									 : "epcscf_sip_requests_from_ims_total",
					    "SIP requests received, by method.", METRIC_COUNTER,
					    "method", method_labels[i]);
	} else {
		int st = sip->sip_status->st_status; /* 100-699: sip_msg_parse checked */
		slot = &p->m_responses[side][st - 100];
		if (!*slot) {
			snprintf(code, sizeof(code), "%d", st);
			*slot = metrics_get(p->metrics, side == SIP_FROM_WS ? "epcscf_sip_responses_from_ws_total"
									 : "epcscf_sip_responses_from_ims_total",
					    "SIP responses received, by status code.", METRIC_COUNTER,
					    "code", code);
		}
	}
	metric_inc(*slot);
}

static double regs_gauge(void *arg)
{
	return (double)((struct sip_proxy *)arg)->regs.n;
}

static double calls_gauge(void *arg)
{
	return (double)((struct sip_proxy *)arg)->calls.n;
}

void sip_proxy_next_hop(const struct sip_proxy *p, struct ims_peer *to)
{
	memset(to, 0, sizeof(*to));
	to->transport = p->cfg.transport;
	memcpy(&to->addr, &p->cfg.next_hop, sizeof(to->addr));
}

void sip_proxy_via_value(const struct sip_proxy *p, const struct ims_peer *to,
			 const char *branch, char *buf, size_t len)
{
	snprintf(buf, len, "SIP/2.0/%s %s;branch=%s;rport", tp_name(to->transport),
		 to->transport == IMS_TLS ? p->cfg.ims_tls_host : p->cfg.ims_host, branch);
}

int sip_proxy_via_ims(struct sip_proxy *p, msg_t *msg, const struct ims_peer *to,
		      const char *branch)
{
	char line[256];
	sip_proxy_via_value(p, to, branch, line, sizeof(line));
	return sip_add_make(msg, sip_object(msg), sip_via_class, line) < 0 ? ENOMEM : 0;
}

int sip_proxy_via_ws(struct sip_proxy *p, msg_t *msg, const struct flow *f,
		     const char *branch)
{
	char line[256];
	snprintf(line, sizeof(line), "SIP/2.0/%s %s;branch=%s", f->secure ? "WSS" : "WS",
		 p->cfg.ws_host, branch);
	return sip_add_make(msg, sip_object(msg), sip_via_class, line) < 0 ? ENOMEM : 0;
}

static void on_client_timeout(void *arg, struct txn *x);

/* Registrations not refreshed in time lapse here as they do in IMS. */
static void on_sweep(uv_timer_t *t)
{
	struct sip_proxy *p = t->data;
	uint64_t now = uv_now(p->loop);
	struct reg_binding *b = p->regs.head;
	while (b) {
		struct reg_binding *next = b->next;
		if (b->expires_ms <= now) {
			struct flow *f = flow_table_get(p->flows, b->flow_id);
			log_info(p->log, p->sub, NULL, "registration expired",
				 LF_S("flow", f ? f->token : ""), LF_S("impu", b->n_impu ? b->impu[0] : ""));
			reg_remove(&p->regs, b->flow_id);
		}
		b = next;
	}
	range_sweep(p, now);
}

int sip_proxy_init(struct sip_proxy *p, uv_loop_t *loop,
		   const struct sip_proxy_cfg *cfg, struct flow_table *flows,
		   struct ims_udp *udp, struct ims_tcp *tcp, struct metrics *m,
		   const struct log *log, unsigned sub)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->cfg = *cfg;
	p->flows = flows;
	p->udp = udp;
	p->tcp = tcp;
	p->metrics = m;
	p->log = log;
	p->sub = sub;
	uint64_t icid_base;
	if (RAND_bytes((unsigned char *)&p->branch_seq, sizeof(p->branch_seq)) != 1 ||
	    RAND_bytes((unsigned char *)&icid_base, sizeof(icid_base)) != 1)
		return EIO;
	snprintf(p->pcv_head, sizeof(p->pcv_head), "P-Charging-Vector: icid-value=%016llx",
		 (unsigned long long)icid_base);
	snprintf(p->pcv_tail, sizeof(p->pcv_tail), ";icid-generated-at=%.*s",
		 (int)strcspn(p->cfg.ims_host, ":"), p->cfg.ims_host);
	snprintf(p->pvni_line, sizeof(p->pvni_line), "P-Visited-Network-ID: \"%s\"",
		 p->cfg.visited_network);
	p->m_bad = metrics_add(m, "epcscf_sip_malformed_total",
			       "SIP messages refused as malformed.", METRIC_COUNTER,
			       (const char *)NULL);
	p->m_430 = metrics_add(m, "epcscf_sip_flow_failed_total",
			       "Requests from IMS for a closed flow (430).", METRIC_COUNTER,
			       (const char *)NULL);
	p->m_timeout = metrics_add(m, "epcscf_sip_timeouts_total",
				   "Client transactions that timed out (408).", METRIC_COUNTER,
				   (const char *)NULL);
	metrics_add_fn(m, "epcscf_registrations", "Flows with an active IMS registration.",
		       METRIC_GAUGE, regs_gauge, p);
	metrics_add_fn(m, "epcscf_calls", "Calls in the dialog table (set up, in progress, or "
		       "ending while their transactions finish).", METRIC_GAUGE, calls_gauge, p);
	uv_timer_init(loop, &p->sweep);
	p->sweep.data = p;
	uv_timer_start(&p->sweep, on_sweep, 1000, 1000);
	range_proxy_init(p);
	if (call_table_init(&p->calls))
		return ENOMEM;
	return txn_table_init(&p->txns, loop, on_client_timeout, send_ims, free_msg, p);
}

void sip_proxy_attach_ws(struct sip_proxy *p, struct ws_server *ws)
{
	p->ws = ws;
}

void sip_proxy_attach_tna(struct sip_proxy *p, struct tna *tna)
{
	p->tna = tna;
}

void sip_proxy_close(struct sip_proxy *p)
{
	uv_close((uv_handle_t *)&p->sweep, NULL);
	calls_close(p);
	txn_table_close(&p->txns);
}

void sip_proxy_free(struct sip_proxy *p)
{
	reg_table_free(&p->regs);
	call_table_free(&p->calls);
	range_table_free(&p->ranges);
}

void sip_proxy_new_branch(struct sip_proxy *p, char *buf, size_t len)
{
	snprintf(buf, len, BRANCH_PREFIX "%016llx", (unsigned long long)p->branch_seq++);
}

struct log_ids sip_proxy_ids_of(sip_t const *sip)
{
	struct log_ids ids = { .call_id = sip && sip->sip_call_id ? sip->sip_call_id->i_id : NULL };
	return ids;
}

void sip_proxy_to_flow(struct sip_proxy *p, struct flow *f, msg_t *msg)
{
	char *text;
	size_t len;
	sip_t const *sip = sip_object(msg);
	struct log_ids ids = sip_proxy_ids_of(sip);

	if (sip_msg_print(msg, &text, &len)) {
		log_error(p->log, p->sub, &ids, "cannot print message");
		return;
	}
	int rc = ws_flow_send(p->ws, f, text, len);
	if (rc)
		log_info(p->log, p->sub, &ids, "not delivered to flow", LF_S("flow", f->token),
			 LF_S("reason", strerror(rc)));
}

static int our_uri(const struct sip_proxy *p, const url_t *u, const char **side);

int sip_proxy_our_uri(const struct sip_proxy *p, const url_t *u)
{
	const char *side;
	return our_uri(p, u, &side);
}

msg_t *sip_proxy_response_ws(struct sip_proxy *p, msg_t *req, int status,
			     const char *phrase, const char *to_tag)
{
	sip_t const *rq = sip_object(req);
	msg_t *rsp = sip_msg_response(req, status, phrase, to_tag);
	sip_t *sip = rsp ? sip_object(rsp) : NULL;
	const char *side;

	/* Our Via on top (added before forwarding): the browser's follows. */
	if (sip && sip->sip_via && sip->sip_via->v_next && rq->sip_via->v_host) {
		url_t u = { .url_host = rq->sip_via->v_host, .url_port = rq->sip_via->v_port };
		if (our_uri(p, &u, &side))
			msg_header_remove(rsp, (msg_pub_t *)sip, (msg_header_t *)sip->sip_via);
	}
	return rsp;
}

void sip_proxy_reply_flow(struct sip_proxy *p, struct flow *f, msg_t *req, int status,
			  const char *phrase)
{
	msg_t *rsp = sip_proxy_response_ws(p, req, status, phrase, f->token);
	if (rsp) {
		sip_proxy_to_flow(p, f, rsp);
		msg_destroy(rsp);
	}
}

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

void sip_proxy_reply_ims(struct sip_proxy *p, msg_t *req, int status, const char *phrase,
			 const struct ims_peer *to)
{
	char *text;
	size_t len;
	msg_t *rsp = sip_msg_response(req, status, phrase, "epcscf");
	if (rsp && !sip_msg_print(rsp, &text, &len))
		send_ims(p, text, len, to);
	if (rsp)
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

/* Max-Forwards: 483 at zero, else decrement (70 when absent). */
int sip_proxy_max_forwards(msg_t *msg, sip_t *sip)
{
	if (!sip->sip_max_forwards)
		return sip_add_make(msg, sip, sip_max_forwards_class, "70") < 0 ? -1 : 0;
	if (sip->sip_max_forwards->mf_count == 0)
		return 483;
	sip->sip_max_forwards->mf_count--;
	return 0;
}

/* Is url one of our own Route/Record-Route entries ("token@host:port")? */
static int our_uri(const struct sip_proxy *p, const url_t *u, const char **side)
{
	char hp[96];
	snprintf(hp, sizeof(hp), "%s:%s", u->url_host ? u->url_host : "",
		 u->url_port ? u->url_port : "");
	if (!strcmp(hp, p->cfg.ims_host) ||
	    (p->cfg.ims_tls_host[0] && !strcmp(hp, p->cfg.ims_tls_host))) {
		*side = "ims";
		return 1;
	}
	if (!strcmp(hp, p->cfg.ws_host)) {
		*side = "ws";
		return 1;
	}
	return 0;
}

/* Removes the leading Route entries that name us (a Path entry, or one per
 * side of a double Record-Route) and returns the flow token of the first,
 * or NULL. */
const char *sip_proxy_pop_our_routes(struct sip_proxy *p, msg_t *msg, sip_t *sip,
				  char *token, size_t len)
{
	const char *side;
	int found = 0;

	while (sip->sip_route && our_uri(p, sip->sip_route->r_url, &side)) {
		if (!found++)
			snprintf(token, len, "%s",
				 sip->sip_route->r_url->url_user ? sip->sip_route->r_url->url_user : "");
		msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_route);
	}
	return found ? token : NULL;
}

/* Methods that create dialogs the edge proxy must stay in (RFC 7118 8.2,
 * RFC 5658 double Record-Route): INVITE, SUBSCRIBE, REFER. */
int sip_proxy_creates_dialog(sip_t const *sip)
{
	return !sip->sip_to->a_tag && (sip->sip_request->rq_method == sip_method_invite ||
				       sip->sip_request->rq_method == sip_method_subscribe ||
				       sip->sip_request->rq_method == sip_method_refer);
}

/* Double Record-Route with the flow token: `first` is the side the request
 * leaves on (it is seen first by the next hop). */
int sip_proxy_record_route(struct sip_proxy *p, msg_t *msg, sip_t *sip, const struct flow *f,
			int toward_ims)
{
	char rr[400], ims[160], ws[160];
	snprintf(ims, sizeof(ims), "<sip:%s@%s%s;lr>", f->token, ims_uri_host(p),
		 ims_uri_transport(p));
	snprintf(ws, sizeof(ws), "<sip:%s@%s;transport=ws;lr;ob>", f->token, p->cfg.ws_host);
	snprintf(rr, sizeof(rr), "%s, %s", toward_ims ? ims : ws, toward_ims ? ws : ims);
	return sip_add_make(msg, sip, sip_record_route_class, rr) < 0 ? ENOMEM : 0;
}

static void on_client_timeout(void *arg, struct txn *x)
{
	struct sip_proxy *p = arg;
	struct flow *f = flow_table_get(p->flows, x->flow_id);
	sip_t const *sip = x->req ? sip_object(x->req) : NULL;
	struct log_ids ids = sip_proxy_ids_of(sip);

	metric_inc(p->m_timeout);
	log_info(p->log, p->sub, &ids, "no final response from IMS", LF_I("status", 408));
	if (!x->flow_id && range_reg_timeout(p, x->branch))
		return;
	if (f)
		sip_proxy_reply_flow(p, f, x->req, 408, NULL);
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
		snprintf(line, sizeof(line), "<sip:%s@%s%s;lr;ob>", f->token, ims_uri_host(p),
			 ims_uri_transport(p));
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
			send_ims(p, text, len, &x->peer);
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
		     f ? f->token : "gone", ims_uri_host(p), ims_uri_transport(p),
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
