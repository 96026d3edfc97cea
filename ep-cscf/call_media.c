/* The media step: messages of a call in arrival order through the SDP
 * handling of the configured anchoring (the IMS-ALG and Iq+). */
#include "call_media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "call_end.h"
#include "iqp_registry.h"
#include "call_session.h"
#include "sip_proxy.h"

#define ARENA 32768   /* one Iq+ request (RESERVE with 16 streams fits) */
#define SDP_MAX 16384

struct held {
	struct held *next;
	msg_t *msg;                  /* owned */
	enum call_side from;
	call_media_done_h *done;
};

enum exchange { EX_NONE, EX_OFFER, EX_ANSWER };

struct call_media {
	struct held *head, *tail;    /* owned: waiting, in arrival order */
	struct held *cur;            /* owned: the one waiting for the AGW */
	int busy;                    /* cur, or a done callback running */
	struct alg_call *alg;        /* owned */
	struct iqp_link *link;       /* borrowed: the AGW of the context;
				      * NULL before RESERVE, while held or
				      * once lost */
	bool held;                   /* link lost, T_HOLD running (7.10) */
	char agw[IQP_NODE_ID_MAX + 1]; /* while held: the AGW's NODE_ID */
	uint32_t held_ctx;           /* while held: the CONTEXT_ID */
	struct iq_call_req *req;     /* outstanding request, detached on release */
	bool reverting;              /* req undoes a refused re-offer (busy) */
	enum exchange ex;
	unsigned need;               /* IQ_NEED_* of the context's AGW */
	int offer_from;              /* side of the outstanding offer, -1 */
	char *last_in[2], *last_out[2]; /* owned: last SDP from each side and
					 * what it became (repeats: 18x, 2xx) */
	size_t last_in_len[2], last_out_len[2];
	struct iqp_msg msg;
	uint8_t arena[ARENA];
};

static struct call_media *media_of(struct call *c)
{
	if (!c->media && (c->media = calloc(1, sizeof(*c->media))))
		c->media->offer_from = -1;
	return c->media;
}

static int is_sdp(sip_t const *sip)
{
	return sip->sip_payload && sip->sip_payload->pl_len && sip->sip_content_type &&
	       sip->sip_content_type->c_type &&
	       !strcasecmp(sip->sip_content_type->c_type, "application/sdp");
}

int call_media_has_sdp(msg_t *msg)
{
	return is_sdp(sip_object(msg));
}

static int set_body(msg_t *msg, const char *b, size_t n)
{
	sip_t *sip = sip_object(msg);
	su_home_t *h = msg_home(msg);
	sip_payload_t *pl = sip_payload_create(h, b, (isize_t)n);
	sip_content_length_t *cl = sip_content_length_create(h, (uint32_t)n);

	if (!pl || !cl)
		return ENOMEM;
	if (sip->sip_payload)
		msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_payload);
	if (sip->sip_content_length)
		msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_content_length);
	if (msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)pl) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)cl) < 0)
		return ENOMEM;
	return 0;
}

static void remember(char **buf, size_t *len, const char *b, size_t n)
{
	free(*buf);
	if ((*buf = malloc(n ? n : 1))) {
		memcpy(*buf, b, n);
		*len = n;
	}
}

static void finish(struct sip_proxy *p, struct call *c, struct held *h, unsigned status,
		   const char *warning)
{
	struct call_media *m = c->media;
	m->busy = 1; /* the call stays while done runs */
	h->done(p, c, h->msg, h->from, status, warning);
	free(h);
	m->busy = 0;
}

static void run(struct sip_proxy *p, struct call *c);

static void on_reply(void *arg, struct iqp_link *link, const struct iqp_msg *reply,
		     const struct iqp_error *err)
{
	struct call *c = arg;
	struct sip_proxy *p = c->proxy;
	struct call_media *m = c->media;
	struct held *h = m->cur;
	sip_t const *sip = sip_object(h->msg);
	struct log_ids ids = call_log_ids(c);
	struct alg_error aerr = { 0 };
	char *out = malloc(SDP_MAX);
	size_t len = 0;
	int rc = 0;
	enum exchange ex = m->ex;

	iqp_msg_free(&m->msg);
	m->req = NULL;
	m->cur = NULL;
	m->ex = EX_NONE;
	if (err) {
		log_info(p->log, p->sub, &ids, "media gateway request failed", LF_U("call", c->serial),
			 LF_S("node_id", link ? link->peer.node_id : "-"), LF_U("code", err->code),
			 LF_S("reason", err->text));
		if (ex == EX_OFFER)
			alg_offer_abandon(m->alg);
		/* No AGW could take it (gone, timed out, out of resources: 503,
		 * try again later) or the request was refused as wrong (500). */
		finish(p, c, h, !link || err->code == 1202 ||
				iqp_err_default_scope(err->code) == IQP_RETRY_OTHER ? 503 : 500,
		       !link ? "no media gateway available" : "media gateway request failed");
		free(out);
		run(p, c);
		return;
	}
	if (!m->link)
		m->link = link;
	if (!out)
		rc = ENOMEM, aerr.sip_status = 500, snprintf(aerr.text, sizeof(aerr.text), "out of memory");
	else
		rc = ex == EX_OFFER ? alg_offer_out(m->alg, reply, out, SDP_MAX, &len, &aerr)
				    : alg_answer_out(m->alg, reply, out, SDP_MAX, &len, &aerr);
	if (!rc) /* the SDP as received, before the body is rewritten */
		remember(&m->last_in[h->from], &m->last_in_len[h->from], sip->sip_payload->pl_data,
			 sip->sip_payload->pl_len);
	if (!rc && (rc = set_body(h->msg, out, len)) != 0)
		snprintf(aerr.text, sizeof(aerr.text), "out of memory"), aerr.sip_status = 500;
	if (rc) {
		log_info(p->log, p->sub, &ids, "media step failed", LF_U("call", c->serial),
			 LF_I("status", (int)aerr.sip_status), LF_S("reason", aerr.text));
		if (ex == EX_OFFER)
			alg_offer_abandon(m->alg);
		finish(p, c, h, aerr.sip_status ? aerr.sip_status : 500, aerr.text);
		free(out);
		run(p, c);
		return;
	}
	remember(&m->last_out[h->from], &m->last_out_len[h->from], out, len);
	m->offer_from = ex == EX_OFFER ? (int)h->from : -1;
	/* The reply of the first RESERVE named the context: EVENTs find the
	 * call by it from now on. */
	if (!c->ctx_id && alg_context_id(m->alg))
		call_index_context(&p->calls, c, link, alg_context_id(m->alg));
	log_debug(p->log, p->sub, &ids, ex == EX_OFFER ? "offer rewritten" : "answer rewritten",
		  LF_U("call", c->serial), LF_S("from", h->from == CALL_WS ? "browser" : "ims"),
		  LF_S("node_id", link->peer.node_id), LF_U("context_id", alg_context_id(m->alg)));
	free(out);
	finish(p, c, h, 0, NULL);
	run(p, c);
}

/* Starts the SDP of h through the ALG.  Returns 1 when it waits for the
 * AGW (h taken), 0 when h was finished here. */
static int start(struct sip_proxy *p, struct call *c, struct held *h)
{
	struct call_media *m = c->media;
	sip_t const *sip = sip_object(h->msg);
	const char *sdp = sip->sip_payload->pl_data;
	size_t n = sip->sip_payload->pl_len;
	struct alg_error aerr = { 0 };
	int rc;

	if (m->last_in[h->from] && m->last_in_len[h->from] == n && !memcmp(m->last_in[h->from], sdp, n) &&
	    m->offer_from != (int)h->from) {
		/* The same SDP again (183 then 200): the same result. */
		if (set_body(h->msg, m->last_out[h->from], m->last_out_len[h->from]))
			finish(p, c, h, 500, "out of memory");
		else
			finish(p, c, h, 0, NULL);
		return 0;
	}
	if (!m->alg) {
		/* BUNDLE toward the browser only where an AGW can serve it. */
		struct alg_cfg cfg = p->media->alg;
		if (cfg.bundle && !iq_call_available(p->media->iq, IQ_NEED_BUNDLE))
			cfg.bundle = false;
		m->need = cfg.bundle ? IQ_NEED_BUNDLE : 0;
		if (alg_call_new(&m->alg, &cfg)) {
			finish(p, c, h, 500, "out of memory");
			return 0;
		}
	}
	if (m->offer_from < 0) {
		m->ex = EX_OFFER;
		rc = alg_offer_in(m->alg, (enum alg_side)h->from, sdp, n, &m->msg, m->arena,
				  sizeof(m->arena), &aerr);
	} else if (m->offer_from != (int)h->from) {
		m->ex = EX_ANSWER;
		rc = alg_answer_in(m->alg, sdp, n, &m->msg, m->arena, sizeof(m->arena), &aerr);
	} else {
		finish(p, c, h, 491, "an offer is outstanding");
		return 0;
	}
	if (rc) {
		m->ex = EX_NONE;
		finish(p, c, h, aerr.sip_status ? aerr.sip_status : 500, aerr.text);
		return 0;
	}
	if (m->held) { /* 7.10: no command until the AGW is back */
		iqp_msg_free(&m->msg);
		if (m->ex == EX_OFFER)
			alg_offer_abandon(m->alg);
		m->ex = EX_NONE;
		finish(p, c, h, 503, "media gateway link down");
		return 0;
	}
	m->cur = h;
	m->busy = 1;
	rc = iq_call_send(p->media->iq, m->link, m->need, &m->msg, on_reply, c, &m->req);
	if (rc) {
		iqp_msg_free(&m->msg);
		/* No AGW to ask: the step fails at once. */
		m->cur = NULL;
		m->busy = 0;
		if (m->ex == EX_OFFER)
			alg_offer_abandon(m->alg);
		m->ex = EX_NONE;
		finish(p, c, h, 503, "no media gateway available");
		return 0;
	}
	return 1;
}

/* Runs the queue until it is empty or its head waits. */
static void run(struct sip_proxy *p, struct call *c)
{
	struct call_media *m = c->media;

	while (m && m->head && !m->busy) {
		struct held *h = m->head;
		if (!(m->head = h->next))
			m->tail = NULL;
		if (c->released) {
			msg_destroy(h->msg);
			free(h);
			continue;
		}
		if (p->media->anchor == MEDIA_ANCHOR_NONE || !is_sdp(sip_object(h->msg)))
			finish(p, c, h, 0, NULL);
		else if (start(p, c, h))
			return;
	}
	call_maybe_free(p, c);
}

void call_media_sdp(struct sip_proxy *p, struct call *c, enum call_side from, msg_t *msg,
		    call_media_done_h *done)
{
	struct call_media *m = media_of(c);
	struct held *h = calloc(1, sizeof(*h));

	if (!m || !h) {
		free(h);
		done(p, c, msg, from, 500, "out of memory");
		return;
	}
	h->msg = msg;
	h->from = from;
	h->done = done;
	if (m->tail)
		m->tail->next = h;
	else
		m->head = h;
	m->tail = h;
	run(p, c);
}

static void on_revert_reply(void *arg, struct iqp_link *link, const struct iqp_msg *reply,
			    const struct iqp_error *err)
{
	struct call *c = arg;
	struct sip_proxy *p = c->proxy;
	struct call_media *m = c->media;
	struct log_ids ids = call_log_ids(c);

	(void)reply;
	iqp_msg_free(&m->msg);
	m->req = NULL;
	m->reverting = false;
	m->busy = 0;
	if (err)
		log_warn(p->log, p->sub, &ids, "refused offer not undone on the AGW", LF_U("call", c->serial),
			 LF_S("node_id", link ? link->peer.node_id : "-"), LF_U("code", err->code),
			 LF_S("reason", err->text));
	else
		log_debug(p->log, p->sub, &ids, "refused offer undone on the AGW", LF_U("call", c->serial),
			  LF_U("context_id", alg_context_id(m->alg)));
	run(p, c);
}

/* The outstanding offer was refused (failure response, CANCEL): the call
 * goes back to its state before it, and so does the AGW when the offer's
 * MODIFY already changed it (RFC 3264 section 8). */
void call_media_abandon(struct sip_proxy *p, struct call *c)
{
	struct call_media *m = c->media;
	struct log_ids ids;
	int rc;

	if (!m || !m->alg || m->offer_from < 0 || m->cur)
		return;
	m->offer_from = -1;
	if (!m->link) { /* held or lost: nothing to tell */
		alg_offer_abandon(m->alg);
		return;
	}
	rc = alg_offer_revert(m->alg, &m->msg, m->arena, sizeof(m->arena));
	if (rc == ENOENT)
		return;
	ids = call_log_ids(c);
	if (rc) {
		log_warn(p->log, p->sub, &ids, "refused offer not undone on the AGW", LF_U("call", c->serial),
			 LF_S("reason", "request not built"));
		return;
	}
	m->busy = 1; /* later SDP waits for the AGW's reply */
	m->reverting = true;
	if (iq_call_send(p->media->iq, m->link, m->need, &m->msg, on_revert_reply, c, &m->req)) {
		iqp_msg_free(&m->msg);
		m->busy = 0;
		m->reverting = false;
		log_warn(p->log, p->sub, &ids, "refused offer not undone on the AGW", LF_U("call", c->serial),
			 LF_S("reason", "media gateway link down"));
	}
}

void call_media_release(struct sip_proxy *p, struct call *c)
{
	struct call_media *m = c->media;
	struct iqp_msg rel;
	uint8_t arena[1024];

	if (c->released)
		return;
	c->released = 1;
	call_unindex_context(&p->calls, c);
	if (!m)
		return;
	if (m->req) {
		iq_call_detach(m->req); /* a RESERVE in flight: released on its reply */
		iqp_msg_free(&m->msg);
	}
	m->req = NULL;
	if (m->reverting) { /* its reply will not come: nothing waits on it */
		m->reverting = false;
		m->busy = 0;
	}
	if (m->cur) {
		msg_destroy(m->cur->msg);
		free(m->cur);
		m->cur = NULL;
		m->busy = 0;
	}
	if (m->alg && m->link && !alg_release(m->alg, &rel, arena, sizeof(arena))) {
		struct log_ids ids = call_log_ids(c);
		log_debug(p->log, p->sub, &ids, "media released", LF_U("call", c->serial),
			  LF_U("context_id", alg_context_id(m->alg)));
		if (iq_call_send(p->media->iq, m->link, 0, &rel, NULL, NULL, NULL))
			log_info(p->log, p->sub, &ids, "RELEASE not sent", LF_U("call", c->serial),
				 LF_S("reason", "media gateway link down"));
		iqp_msg_free(&rel);
	}
}

int call_media_busy(const struct call *c)
{
	return c->media && (c->media->busy || c->media->head);
}

void call_media_free(struct call *c)
{
	struct call_media *m = c->media;
	if (!m)
		return;
	iq_call_detach(m->req);
	while (m->head) {
		struct held *h = m->head;
		m->head = h->next;
		msg_destroy(h->msg);
		free(h);
	}
	if (m->cur) {
		msg_destroy(m->cur->msg);
		free(m->cur);
	}
	for (int i = 0; i < 2; i++) {
		free(m->last_in[i]);
		free(m->last_out[i]);
	}
	if (m->alg)
		alg_call_free(m->alg);
	free(m);
	c->media = NULL;
}

static const char *event_name(unsigned type)
{
	return type == 3 ? "ICE consent lost" : type == 4 ? "ICE failed"
	     : type == 6 ? "DTLS failed" : type == 7 ? "bearer released" : "media failure";
}

void call_media_failed(struct sip_proxy *p, struct iqp_link *l, uint32_t context_id,
		       unsigned event_type, unsigned code)
{
	struct call *c = call_by_context(&p->calls, l, context_id);

	if (!c || c->state == CALL_ENDED)
		return;
	struct log_ids ids = call_log_ids(c);
	log_info(p->log, p->sub, &ids, "media failure reported by the AGW", LF_U("call", c->serial),
		 LF_S("event", event_name(event_type)), LF_U("code", code),
		 LF_U("context_id", context_id));
	call_end(p, c, event_name(event_type), 500);
	call_maybe_free(p, c);
}

bool call_media_owns(struct sip_proxy *p, struct iqp_link *l, uint32_t context_id)
{
	return call_by_context(&p->calls, l, context_id) != NULL;
}

void call_media_link_lost(struct sip_proxy *p, struct iqp_link *l)
{
	struct call *c = p->calls.all, *next;

	for (; c; c = next) {
		next = c->next;
		if (!c->media || c->media->link != l)
			continue;
		c->media->link = NULL; /* its contexts went with it (7.10) */
		call_unindex_context(&p->calls, c);
		if (c->state != CALL_ENDED) {
			call_end(p, c, "media gateway lost", 503);
			call_maybe_free(p, c);
		}
	}
}

/* --- Link loss and reconciliation (7.10, 7.11 item 3) ------------------------ */

void call_media_link_held(struct sip_proxy *p, struct iqp_link *l)
{
	for (struct call *c = p->calls.all; c; c = c->next) {
		struct call_media *m = c->media;
		if (!m || m->link != l)
			continue;
		m->held = true;
		snprintf(m->agw, sizeof(m->agw), "%s", l->peer.node_id);
		m->held_ctx = c->ctx_id;
		m->link = NULL;
		call_unindex_context(&p->calls, c);
	}
}

void call_media_link_back(struct sip_proxy *p, const char *node_id, struct iqp_link *l)
{
	for (struct call *c = p->calls.all; c; c = c->next) {
		struct call_media *m = c->media;
		if (!m || !m->held || strcmp(m->agw, node_id))
			continue;
		m->held = false;
		if (c->released) /* ended while held: the reconciliation releases it */
			continue;
		m->link = l;
		if (m->held_ctx)
			call_index_context(&p->calls, c, l, m->held_ctx);
		m->held_ctx = 0;
	}
}

void call_media_hold_end(struct sip_proxy *p, const char *node_id, const char *why)
{
	struct call *c = p->calls.all, *next;

	for (; c; c = next) {
		next = c->next;
		struct call_media *m = c->media;
		if (!m || !m->held || strcmp(m->agw, node_id))
			continue;
		m->held = false;
		if (c->state != CALL_ENDED) {
			call_end(p, c, why, 503);
			call_maybe_free(p, c);
		}
	}
}

int call_media_contexts(struct sip_proxy *p, struct iqp_link *l, uint32_t **out, size_t *n)
{
	size_t k = 0, cap = 0;
	uint32_t *v = NULL;

	for (struct call *c = p->calls.all; c; c = c->next) {
		if (!c->ctx_id || c->ctx_link != l)
			continue;
		if (k == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint32_t *nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				free(v);
				return ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[k++] = c->ctx_id;
	}
	*out = v;
	*n = k;
	return 0;
}

void call_media_context_lost(struct sip_proxy *p, struct iqp_link *l, uint32_t context_id)
{
	struct call *c = call_by_context(&p->calls, l, context_id);

	if (!c)
		return;
	if (c->media)
		c->media->link = NULL; /* nothing to RELEASE */
	call_unindex_context(&p->calls, c);
	if (c->state != CALL_ENDED) {
		struct log_ids ids = call_log_ids(c);
		log_info(p->log, p->sub, &ids, "media context lost by the AGW", LF_U("call", c->serial),
			 LF_U("context_id", context_id));
		call_end(p, c, "media context lost", 503);
		call_maybe_free(p, c);
	}
}
