/* Bearer tokens on browser flows and the TNA REGISTER toward IMS. */
#include "tna_register.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

struct tna_flow *tna_find(struct tna *t, uint64_t flow_id)
{
	for (struct tna_flow *tf = t->head; tf; tf = tf->next)
		if (tf->flow_id == flow_id)
			return tf;
	return NULL;
}

static void drop(struct tna *t, uint64_t flow_id)
{
	for (struct tna_flow **pp = &t->head; *pp; pp = &(*pp)->next)
		if ((*pp)->flow_id == flow_id) {
			struct tna_flow *tf = *pp;
			if (tf->registered && tf->wwsf->n_registrations)
				((struct wwsf *)tf->wwsf)->n_registrations--;
			*pp = tf->next;
			free(tf);
			t->n--;
			return;
		}
}

/* The wall clock for token times.  Not time(): glibc reads the coarse
 * clock there, up to a tick behind, so a token issued this second (nbf =
 * now) by a WWSF on the same clock was "not yet valid" with no leeway. */
static long long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec;
}

/* Registered flows whose token ran out (with the leeway) end here. */
static void on_sweep(uv_timer_t *h)
{
	struct tna *t = h->data;
	long long now = now_s();
	struct tna_flow *tf = t->head;

	while (tf) {
		struct tna_flow *next = tf->next;
		if (tf->registered && now > tf->exp + t->cfg.verify.leeway_s) {
			metric_inc(t->m_expired);
			log_info(t->log, t->sub, NULL, "token expired without renewal",
				 LF_S("impu", tf->impu), LF_S("wwsf", tf->wwsf->name));
			t->expired(t->arg, tf);
			drop(t, tf->flow_id);
		}
		tf = next;
	}
}

int tna_init(struct tna *t, uv_loop_t *loop, const struct tna_cfg *cfg,
	     struct wwsf_policy *policy, tna_expired_h *expired, void *arg, struct metrics *m,
	     const struct log *log, unsigned sub)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->policy = policy;
	t->expired = expired;
	t->arg = arg;
	t->log = log;
	t->sub = sub;
	int rc = jti_cache_init(&t->jti, cfg->jti_capacity);
	if (rc)
		return rc;
	t->m_ok = metrics_add(m, "epcscf_bearer_tokens_accepted_total",
			      "Bearer tokens accepted on requests from browser flows.", METRIC_COUNTER,
			      (const char *)NULL);
	t->m_401 = metrics_add(m, "epcscf_bearer_tokens_refused_total",
			       "Requests refused for a missing or bad Bearer token (401).",
			       METRIC_COUNTER, (const char *)NULL);
	t->m_403 = metrics_add(m, "epcscf_bearer_tokens_forbidden_total",
			       "Requests refused for a token not usable there (403).", METRIC_COUNTER,
			       (const char *)NULL);
	t->m_expired = metrics_add(m, "epcscf_token_registrations_expired_total",
				   "Token registrations ended by token expiry.", METRIC_COUNTER,
				   (const char *)NULL);
	uv_timer_init(loop, &t->sweep);
	t->sweep.data = t;
	uv_timer_start(&t->sweep, on_sweep, 1000, 1000);
	return 0;
}

void tna_close(struct tna *t)
{
	uv_close((uv_handle_t *)&t->sweep, NULL);
}

void tna_free(struct tna *t)
{
	while (t->head)
		drop(t, t->head->flow_id);
	jti_cache_free(&t->jti);
}

/* The Bearer credentials of a request: "Bearer <token68>" (RFC 8898,
 * RFC 6750 2.1) or "Bearer access_token=\"...\"" (TS 24.371 table
 * A.3.2-1).  *hdr is the header to remove. */
static int find_bearer(sip_t *sip, const char **tok, size_t *len, sip_authorization_t **hdr)
{
	for (sip_authorization_t *a = sip->sip_authorization; a; a = a->au_next) {
		if (!a->au_scheme || strcasecmp(a->au_scheme, "Bearer"))
			continue;
		*hdr = a;
		*tok = "";
		*len = 0;
		const char *p = a->au_params ? a->au_params[0] : NULL;
		if (!p)
			return 0;
		if (!strncasecmp(p, "access_token=", 13)) {
			p += 13;
			size_t n = strlen(p);
			if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
				p++;
				n -= 2;
			}
			*tok = p;
			*len = n;
		} else {
			*tok = p;
			*len = strlen(p);
		}
		return 1;
	}
	return 0;
}

static int refuse(struct tna *t, const struct flow *f, sip_t const *sip, struct tna_refusal *r,
		  int status, const char *error, const char *reason)
{
	struct log_ids ids = { .call_id = sip->sip_call_id ? sip->sip_call_id->i_id : NULL };
	r->status = status;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	r->www_authenticate[0] = '\0';
	if (status == 401) {
		r->phrase = "Unauthorized";
		metric_inc(t->m_401);
		/* RFC 6750 3: no error code when the request had no token. */
		if (error)
			snprintf(r->www_authenticate, sizeof(r->www_authenticate),
				 "WWW-Authenticate: Bearer realm=\"%s\", error=\"%s\", "
				 "error_description=\"%s\"",
				 f->wwsf ? f->wwsf->name : "", error, reason);
		else
			snprintf(r->www_authenticate, sizeof(r->www_authenticate),
				 "WWW-Authenticate: Bearer realm=\"%s\"", f->wwsf ? f->wwsf->name : "");
	} else if (status == 403) {
		r->phrase = "Forbidden";
		metric_inc(t->m_403);
	} else {
		r->phrase = "Service Unavailable";
	}
	log_info(t->log, t->sub, &ids, "bearer token refused", LF_S("flow", f->token),
		 LF_S("method", sip->sip_request->rq_method_name), LF_S("reason", reason),
		 LF_I("status", status));
	return status == 401 ? EACCES : status == 403 ? EPERM : EBUSY;
}

int tna_authorization_line(const char *impi, const char *impu, const char *ruri, char *out,
			   size_t len)
{
	const char *at = strchr(impu, '@');
	const char *realm = at ? at + 1 : strchr(ruri, ':') ? strchr(ruri, ':') + 1 : ruri;
	int n = snprintf(out, len,
			 "Authorization: Digest username=\"%s\", realm=\"%.*s\", uri=\"%s\", "
			 "nonce=\"\", response=\"\", integrity-protected=\"auth-done\"",
			 impi, (int)strcspn(realm, ";>"), realm, ruri);
	return n < 0 || (size_t)n >= len ? EMSGSIZE : 0;
}

/* "sip:user@host" of a URL (parameters and headers dropped). */
static void bare_uri(const url_t *u, char *out, size_t len)
{
	char *s = url_as_string(NULL, u);
	snprintf(out, len, "%.*s", s ? (int)strcspn(s, ";?") : 0, s ? s : "");
	su_free(NULL, s);
}

static int bind_register(struct tna *t, const struct flow *f, msg_t *msg, sip_t *sip,
			 const struct jwt_claims *cl)
{
	struct tna_flow *tf = tna_find(t, f->id);
	char line[1024], ruri[IMPU_MAX];

	bare_uri(sip->sip_request->rq_url, ruri, sizeof(ruri));
	if (tna_authorization_line(cl->impi, cl->impu, ruri, line, sizeof(line)) ||
	    sip_add_make(msg, sip, sip_authorization_class, line + 15) < 0)
		return ENOMEM;
	if (!tf) {
		if (!(tf = calloc(1, sizeof(*tf))))
			return ENOMEM;
		tf->flow_id = f->id;
		tf->next = t->head;
		t->head = tf;
		t->n++;
	}
	tf->wwsf = cl->wwsf;
	snprintf(tf->impu, sizeof(tf->impu), "%s", cl->impu);
	snprintf(tf->impi, sizeof(tf->impi), "%s", cl->impi);
	snprintf(tf->range, sizeof(tf->range), "%s", cl->in_range ? cl->range : "");
	snprintf(tf->ruri, sizeof(tf->ruri), "%s", ruri);
	tf->exp = cl->exp;
	snprintf(tf->call_id, sizeof(tf->call_id), "%s", sip->sip_call_id->i_id);
	tf->cseq = sip->sip_cseq->cs_seq;
	/* A query (no Contact) leaves the contact registered before. */
	if (sip->sip_contact) {
		char *c = url_as_string(NULL, sip->sip_contact->m_url);
		if (c)
			snprintf(tf->contact, sizeof(tf->contact), "%s", c);
		su_free(NULL, c);
	}
	return 0;
}

int tna_request(struct tna *t, const struct flow *f, msg_t *msg, sip_t *sip,
		struct tna_refusal *r, size_t *removed)
{
	int is_reg = sip->sip_request->rq_method == sip_method_register;
	struct tna_flow *tf = tna_find(t, f->id);
	sip_authorization_t *hdr = NULL;
	const char *tok;
	size_t len;
	long long now = now_s();
	*removed = 0;
	int web = f->wwsf && f->wwsf->issuer[0];

	if (!find_bearer(sip, &tok, &len, &hdr)) {
		if (is_reg && web)
			return refuse(t, f, sip, r, 401, NULL, "no Bearer token");
		if (!is_reg && tf && tf->registered) {
			if (t->cfg.every_request)
				return refuse(t, f, sip, r, 401, NULL, "no Bearer token");
			if (now > tf->exp + t->cfg.verify.leeway_s)
				return refuse(t, f, sip, r, 401, "invalid_token", "token expired");
		}
		return 0; /* IMS (digest) authentication, passed through */
	}
	struct jwt_claims cl;
	struct jwt_verdict v;
	if (jwt_token_verify(t->policy, &t->cfg.verify, tok, len, now, &cl, &v))
		return refuse(t, f, sip, r, v.status, v.error, v.reason);
	char to[IMPU_MAX] = "";
	if (is_reg)
		bare_uri(sip->sip_to->a_url, to, sizeof(to));
	if (jwt_token_authorize(&cl, f->wwsf, is_reg ? to : NULL, &v))
		return refuse(t, f, sip, r, v.status, v.error, v.reason);
	if (!is_reg && (!tf || strcmp(tf->impu, cl.impu)))
		return refuse(t, f, sip, r, 403, "insufficient_scope",
			      "token is not that of the flow's registration");
	int rc = jti_cache_use(&t->jti, cl.wwsf->name, cl.jti, f->id,
			       cl.exp + t->cfg.verify.leeway_s, now);
	if (rc == EEXIST)
		return refuse(t, f, sip, r, 401, "invalid_token", "token replayed");
	if (rc == ENOSPC)
		return refuse(t, f, sip, r, 503, NULL, "token id cache full");
	if (is_reg && (!tf || !tf->registered) && cl.wwsf->max_registrations &&
	    cl.wwsf->n_registrations >= cl.wwsf->max_registrations)
		return refuse(t, f, sip, r, 403, "insufficient_scope", "registration quota of wwsf full");
	/* Never toward IMS: the token is for the eP-CSCF only. */
	msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)hdr);
	*removed = len;
	metric_inc(t->m_ok);
	if (is_reg) {
		if ((rc = bind_register(t, f, msg, sip, &cl)))
			return rc;
		struct log_ids ids = { .call_id = sip->sip_call_id->i_id };
		log_info(t->log, t->sub, &ids, "bearer token accepted", LF_S("flow", f->token),
			 LF_S("wwsf", cl.wwsf->name), LF_S("impu", cl.impu),
			 LF_S("range", cl.in_range ? cl.range : ""), LF_S("waf", cl.waf),
			 LF_I("expires_in", cl.exp - now));
	} else if (cl.exp > tf->exp) {
		tf->exp = cl.exp;
	}
	return 0;
}

void tna_register_result(struct tna *t, uint64_t flow_id, bool registered)
{
	struct tna_flow *tf = tna_find(t, flow_id);
	if (!tf)
		return;
	if (!registered) {
		drop(t, flow_id);
		return;
	}
	if (!tf->registered) {
		tf->registered = true;
		((struct wwsf *)tf->wwsf)->n_registrations++;
	}
}

void tna_flow_closed(struct tna *t, uint64_t flow_id)
{
	drop(t, flow_id);
}
