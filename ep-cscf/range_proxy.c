/* WWSF IMPU ranges: local registrar for their guests, their registration
 * toward IMS, terminating requests to their IMPUs. */
#include "range_proxy.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "range_register.h"
#include "sip_msg.h"

/* Our host and transport parameter toward IMS (as in Path and
 * Record-Route: the TLS listener when the next hop is reached over TLS). */
static const char *our_host(const struct sip_proxy *p)
{
	return p->cfg.transport == IMS_TLS ? p->cfg.ims_tls_host : p->cfg.ims_host;
}

static const char *our_transport(const struct sip_proxy *p)
{
	return p->cfg.transport == IMS_TLS ? ";transport=tls"
	       : p->cfg.transport == IMS_TCP ? ";transport=tcp" : "";
}

static double ranges_gauge(void *arg)
{
	const struct sip_proxy *p = arg;
	double n = 0;
	for (const struct range_reg *r = p->ranges.head; r; r = r->next)
		n += r->state == RANGE_REGISTERED;
	return n;
}

void range_proxy_init(struct sip_proxy *p)
{
	metrics_add_fn(p->metrics, "epcscf_range_registrations",
		       "WWSF IMPU ranges registered toward IMS (wildcarded identities).",
		       METRIC_GAUGE, ranges_gauge, p);
}

/* Sends the range's REGISTER (expires 0: its de-registration) in a client
 * transaction of no flow.  Returns 0 or ENOMEM/EMSGSIZE. */
static int send_register(struct sip_proxy *p, struct range_reg *r, unsigned expires)
{
	struct ims_peer to;
	char via[256], auth[1024], ruri[RANGE_HOST_MAX + 8], wire[4096], branch[SIP_BRANCH_MAX];
	size_t n;
	int rc;

	sip_proxy_next_hop(p, &to);
	sip_proxy_new_branch(p, branch, sizeof(branch));
	sip_proxy_via_value(p, &to, branch, via, sizeof(via));
	snprintf(ruri, sizeof(ruri), "sip:%s", r->domain);
	if ((rc = tna_authorization_line(r->impi, r->wildcarded, ruri, auth, sizeof(auth))))
		return rc;
	struct range_reg_hop h = { .via = via, .ims_host = our_host(p), .transport = our_transport(p),
				   .visited = p->cfg.visited_network, .authorization = auth };
	r->cseq++;
	if ((rc = range_reg_print(r, &h, expires, wire, sizeof(wire), &n)))
		return rc;
	char *copy = malloc(n);
	if (!copy)
		return ENOMEM;
	memcpy(copy, wire, n);
	struct log_ids ids = { .call_id = r->call_id };
	log_info(p->log, p->sub, &ids, expires ? "range registration sent" : "range de-registration sent",
		 LF_S("wwsf", r->wwsf->name), LF_S("impu", r->wildcarded), LF_U("cseq", r->cseq),
		 LF_U("expires", expires));
	if (!txn_client_start(&p->txns, branch, 0, &to, copy, n, NULL))
		return ENOMEM;
	snprintf(r->branch, sizeof(r->branch), "%s", branch);
	r->deregistering = expires == 0;
	return 0;
}

/* Lifetime a guest REGISTER asks for: -1 without Contact (a query), 0 to
 * remove, else at most an hour. */
static long guest_expires(sip_t const *sip)
{
	sip_contact_t const *m = sip->sip_contact;
	long v;

	if (!m)
		return -1;
	if (m->m_url->url_type == url_any)
		return 0;
	v = m->m_expires ? strtol(m->m_expires, NULL, 10)
	    : sip->sip_expires ? (long)sip->sip_expires->ex_delta : 3600;
	return v < 0 ? 0 : v > 3600 ? 3600 : v;
}

static void reply(struct sip_proxy *p, struct flow *f, msg_t *msg, int status, const char *phrase,
		  const char *contact, long expires, const char *impu)
{
	msg_t *rsp = sip_proxy_response_ws(p, msg, status, phrase, f->token);
	sip_t *sip = rsp ? sip_object(rsp) : NULL;
	char line[IMPU_MAX + 64], c[1024];

	if (!rsp)
		return;
	if (contact) {
		snprintf(c, sizeof(c), "<%s>;expires=%ld", contact, expires);
		snprintf(line, sizeof(line), "P-Associated-URI: <%s>", impu);
		if (sip_add_make(rsp, sip, sip_contact_class, c) < 0 ||
		    sip_add_make(rsp, sip, sip_unknown_class, line) < 0) {
			msg_destroy(rsp);
			return;
		}
	}
	sip_proxy_to_flow(p, f, rsp);
	msg_destroy(rsp);
}

/* The local 200 to a guest REGISTER, its range registered.  Takes msg. */
static void answer_guest(struct sip_proxy *p, struct range_reg *r, uint64_t flow_id, msg_t *msg)
{
	struct flow *f = flow_table_get(p->flows, flow_id);
	struct tna_flow *tf = p->tna ? tna_find(p->tna, flow_id) : NULL;
	sip_t const *sip = sip_object(msg);
	struct log_ids ids = { .call_id = sip->sip_call_id->i_id };
	long exp = guest_expires(sip);
	char *contact = NULL;

	if (!f || !tf || tf->wwsf != r->wwsf || strcmp(tf->range, r->pattern)) {
		/* The flow closed, or registered otherwise meanwhile. */
		if (f)
			sip_proxy_reply_flow(p, f, msg, 503, "Service Unavailable");
		msg_destroy(msg);
		return;
	}
	if (exp < 0) {
		/* A query: the binding as it is. */
		struct reg_binding *b = reg_find(&p->regs, flow_id);
		long left = b ? (long)((b->expires_ms - uv_now(p->loop)) / 1000) : 0;
		reply(p, f, msg, 200, NULL, b ? tf->contact : NULL, left, tf->impu);
		msg_destroy(msg);
		return;
	}
	contact = url_as_string(msg_home(msg), sip->sip_contact->m_url);
	if (!contact || reg_set_local(&p->regs, flow_id, tf->impu, r->service_route,
				      uv_now(p->loop) + (uint64_t)exp * 1000)) {
		sip_proxy_reply_flow(p, f, msg, 500, "Server Internal Error");
		msg_destroy(msg);
		return;
	}
	tna_register_result(p->tna, flow_id, true);
	log_info(p->log, p->sub, &ids, "guest registered in range", LF_S("flow", f->token),
		 LF_S("impu", tf->impu), LF_S("range", r->wildcarded), LF_I("expires", exp));
	reply(p, f, msg, 200, NULL, contact, exp, tf->impu);
	msg_destroy(msg);
}

static void fail_pending(struct sip_proxy *p, struct range_reg *r, int status, const char *phrase)
{
	while (r->pending) {
		struct range_pending *q = r->pending;
		struct flow *f = flow_table_get(p->flows, q->flow_id);
		r->pending = q->next;
		if (f)
			sip_proxy_reply_flow(p, f, q->msg, status, phrase);
		msg_destroy(q->msg);
		free(q);
	}
}

static void answer_pending(struct sip_proxy *p, struct range_reg *r)
{
	/* Oldest first: the list is kept in arrival order. */
	while (r->pending) {
		struct range_pending *q = r->pending;
		r->pending = q->next;
		answer_guest(p, r, q->flow_id, q->msg);
		free(q);
	}
}

/* A REGISTER for a range with guests waiting, when none is in flight. */
static void register_for_pending(struct sip_proxy *p, struct range_reg *r)
{
	if (!r->pending || r->branch[0])
		return;
	r->state = RANGE_REGISTERING;
	if (send_register(p, r, RANGE_EXPIRES)) {
		r->state = RANGE_IDLE;
		fail_pending(p, r, 500, "Server Internal Error");
	}
}

void range_guest_register(struct sip_proxy *p, struct flow *f, const struct tna_flow *tf,
			  msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct log_ids ids = { .call_id = sip->sip_call_id->i_id };
	unsigned char rnd[24];
	int err = 0;

	if (guest_expires(sip) == 0) {
		reg_remove(&p->regs, f->id);
		log_info(p->log, p->sub, &ids, "guest deregistered", LF_S("flow", f->token),
			 LF_S("impu", tf->impu));
		tna_register_result(p->tna, f->id, false); /* tf is gone now */
		reply(p, f, msg, 200, NULL, NULL, 0, NULL);
		msg_destroy(msg);
		return;
	}
	struct range_reg *r = RAND_bytes(rnd, sizeof(rnd)) == 1
				      ? range_table_get(&p->ranges, tf->wwsf, tf->range, rnd, our_host(p), &err)
				      : NULL;
	if (!r) {
		log_info(p->log, p->sub, &ids, "guest registration refused", LF_S("flow", f->token),
			 LF_S("impu", tf->impu), LF_S("range", tf->range),
			 LF_S("reason", err == EINVAL ? "range has no SIP form to register" : "no memory"),
			 LF_I("status", err == EINVAL ? 403 : 500));
		sip_proxy_reply_flow(p, f, msg, err == EINVAL ? 403 : 500, NULL);
		msg_destroy(msg);
		return;
	}
	if (r->state == RANGE_REGISTERED) {
		answer_guest(p, r, f->id, msg);
		return;
	}
	size_t n = 0;
	struct range_pending *q, **tail = &r->pending;
	for (; *tail; tail = &(*tail)->next)
		n++;
	if (n >= RANGE_PENDING_MAX || !(q = calloc(1, sizeof(*q)))) {
		sip_proxy_reply_flow(p, f, msg, 503, "Service Unavailable");
		msg_destroy(msg);
		return;
	}
	q->flow_id = f->id;
	q->msg = msg;
	*tail = q;
	register_for_pending(p, r);
}

/* Keeps the Service-Route of a 2xx as one header value. */
static void keep_service_route(struct range_reg *r, sip_t const *sip)
{
	char buf[2048];
	size_t pos = 0;

	free(r->service_route);
	r->service_route = NULL;
	for (sip_service_route_t const *sr = sip->sip_service_route; sr; sr = sr->r_next) {
		char *u = url_as_string(NULL, sr->r_url);
		if (u && pos < sizeof(buf))
			pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s<%s>", pos ? "," : "", u);
		su_free(NULL, u);
	}
	if (pos && pos < sizeof(buf))
		r->service_route = strdup(buf); /* NULL on ENOMEM: no preloaded route */
}

/* The final response to the range's REGISTER in flight (sip NULL: none
 * came, Timer F). */
static void on_final(struct sip_proxy *p, struct range_reg *r, int status, sip_t const *sip)
{
	struct log_ids ids = { .call_id = r->call_id };
	uint64_t now = uv_now(p->loop);
	int dereg = r->deregistering;

	r->branch[0] = '\0';
	r->deregistering = 0;
	if (dereg) {
		log_info(p->log, p->sub, &ids, "range deregistered", LF_S("impu", r->wildcarded),
			 LF_I("status", status));
		register_for_pending(p, r); /* guests came meanwhile */
		return;
	}
	long granted = status >= 200 && status < 300 && sip ? range_reg_granted(sip, our_host(p)) : 0;
	if (granted > 0) {
		r->state = RANGE_REGISTERED;
		r->expires_ms = now + (uint64_t)granted * 1000;
		r->refresh_ms = now + (uint64_t)granted * 500;
		keep_service_route(r, sip);
		log_info(p->log, p->sub, &ids, "range registered", LF_S("wwsf", r->wwsf->name),
			 LF_S("impu", r->wildcarded), LF_I("expires", granted), LF_I("status", status));
		answer_pending(p, r);
		return;
	}
	log_warn(p->log, p->sub, &ids, "range registration failed", LF_S("wwsf", r->wwsf->name),
		 LF_S("impu", r->wildcarded), LF_I("status", status));
	if (r->state == RANGE_REGISTERED && now < r->expires_ms) {
		r->refresh_ms = now + 30000; /* a refresh failed: again soon */
		return;
	}
	r->state = RANGE_IDLE;
	fail_pending(p, r, status == 403 ? 403 : 503,
		     status == 403 ? "Forbidden" : "Range Registration Failed");
}

int range_reg_response(struct sip_proxy *p, msg_t *msg)
{
	sip_t const *sip = sip_object(msg);
	struct range_reg *r = sip->sip_call_id ? range_table_by_call_id(&p->ranges, sip->sip_call_id->i_id)
					       : NULL;
	int status = sip->sip_status->st_status;

	if (!r)
		return 0;
	/* A response to an earlier REGISTER of the range is absorbed. */
	if (status >= 200 && sip->sip_via && sip->sip_via->v_branch &&
	    !strcmp(sip->sip_via->v_branch, r->branch))
		on_final(p, r, status, sip);
	return 1;
}

int range_reg_timeout(struct sip_proxy *p, const char *branch)
{
	for (struct range_reg *r = p->ranges.head; r; r = r->next)
		if (r->branch[0] && !strcmp(r->branch, branch)) {
			on_final(p, r, 408, NULL);
			return 1;
		}
	return 0;
}

/* The flow registered for `impu` from range r, or NULL. */
static struct flow *guest_flow(struct sip_proxy *p, const struct range_reg *r, const char *impu,
			       const struct tna_flow **tfo)
{
	if (!p->tna)
		return NULL;
	for (const struct tna_flow *tf = p->tna->head; tf; tf = tf->next) {
		if (tf->wwsf != r->wwsf || strcmp(tf->range, r->pattern) || strcmp(tf->impu, impu) ||
		    !reg_find(&p->regs, tf->flow_id))
			continue;
		struct flow *f = flow_table_get(p->flows, tf->flow_id);
		if (f) {
			*tfo = tf;
			return f;
		}
	}
	return NULL;
}

int range_terminating(struct sip_proxy *p, msg_t *msg, const char *route_user, struct flow **out)
{
	sip_t *sip = sip_object(msg);
	struct log_ids ids = { .call_id = sip->sip_call_id ? sip->sip_call_id->i_id : NULL };
	struct range_reg *r = range_table_by_token(&p->ranges, route_user);
	const struct tna_flow *tf = NULL;
	char called[IMPU_MAX];

	if (!r)
		return ENOENT;
	if (range_called_impu(sip, r, called, sizeof(called)) ||
	    !impu_pattern_match(r->pattern, called)) {
		log_info(p->log, p->sub, &ids, "request from IMS refused", LF_S("range", r->wildcarded),
			 LF_S("reason", "no IMPU of the range called"), LF_I("status", 404));
		return EINVAL;
	}
	struct flow *f = guest_flow(p, r, called, &tf);
	if (!f) {
		log_info(p->log, p->sub, &ids, "request from IMS refused", LF_S("range", r->wildcarded),
			 LF_S("impu", called), LF_S("reason", "IMPU not registered"), LF_I("status", 480));
		return EHOSTUNREACH;
	}
	/* To the guest's registered contact (the WIC accepts requests for its
	 * own contact or IMPU only). */
	url_t *u = tf->contact[0] ? url_make(msg_home(msg), tf->contact) : NULL;
	if (!u)
		return ENOMEM;
	sip->sip_request->rq_url[0] = *u;
	msg_fragment_clear(sip->sip_request->rq_common);
	log_info(p->log, p->sub, &ids, "request for a range IMPU", LF_S("impu", called),
		 LF_S("range", r->wildcarded), LF_S("flow", f->token),
		 LF_S("method", sip->sip_request->rq_method_name));
	*out = f;
	return 0;
}

void range_sweep(struct sip_proxy *p, uint64_t now_ms)
{
	for (struct range_reg *r = p->ranges.head; r; r = r->next) {
		if (r->state != RANGE_REGISTERED || r->branch[0])
			continue;
		if (now_ms >= r->expires_ms) {
			struct log_ids ids = { .call_id = r->call_id };
			log_warn(p->log, p->sub, &ids, "range registration lapsed",
				 LF_S("impu", r->wildcarded));
			r->state = RANGE_IDLE;
			continue;
		}
		if (now_ms < r->refresh_ms)
			continue;
		int guests = 0;
		for (const struct tna_flow *tf = p->tna ? p->tna->head : NULL; tf && !guests; tf = tf->next)
			guests = tf->wwsf == r->wwsf && !strcmp(tf->range, r->pattern) &&
				 reg_find(&p->regs, tf->flow_id);
		int rc = send_register(p, r, guests ? RANGE_EXPIRES : 0);
		if (!guests && !rc)
			r->state = RANGE_IDLE;
		else if (rc)
			r->refresh_ms = now_ms + 30000;
	}
}
