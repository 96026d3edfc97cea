/* Edge proxy between browser flows and the IMS core: life cycle, counters,
 * Via/Record-Route/Route helpers and replies (messages from browsers:
 * sip_proxy_ws.c; from IMS: sip_proxy_ims.c). */
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
const char *sip_proxy_ims_uri_host(const struct sip_proxy *p)
{
	return p->cfg.transport == IMS_TLS ? p->cfg.ims_tls_host : p->cfg.ims_host;
}

const char *sip_proxy_ims_uri_transport(const struct sip_proxy *p)
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
	snprintf(ims, sizeof(ims), "<sip:%s@%s%s;lr>", f->token, sip_proxy_ims_uri_host(p),
		 sip_proxy_ims_uri_transport(p));
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
