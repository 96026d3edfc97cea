/* Reconciliation of an AGW's contexts after a re-registration (SPEC.md
 * 7.11 item 3). */
#include "iq_reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_build.h"

struct iq_reconcile {
	struct iq_reconcile *prev, *next; /* ic->recs */
	struct iq_calls *ic;              /* borrowed */
	struct iqp_link *link;            /* borrowed while the AUDIT runs */
	char node_id[IQP_NODE_ID_MAX + 1];
	uint32_t *snap;                   /* owned: sorted snapshot */
	bool *seen;                       /* owned: snap[i] listed by the AGW */
	size_t n_snap;
	size_t listed, released, failed, pages;
	struct iq_call_req *req;          /* the AUDIT in flight */
	struct iqp_msg msg;               /* the AUDIT (borrowed by iq_call_send) */
	uint8_t arena[256];
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void rec_free(struct iq_reconcile *r)
{
	struct iq_calls *ic = r->ic;

	if (r->prev)
		r->prev->next = r->next;
	else
		ic->recs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	iq_call_detach(r->req);
	iqp_msg_free(&r->msg);
	free(r->snap);
	free(r->seen);
	free(r);
}

static int send_page(struct iq_reconcile *r, uint32_t cursor);

/* 7.11 item 3.2: a context no call owns; none when a RESERVE of a new
 * context is in flight on the link (its reply may name this one: the
 * call's own procedure releases it if its owner has gone). */
static void release(struct iq_reconcile *r, uint32_t cid)
{
	struct iq_calls *ic = r->ic;
	struct iqp_header h = { .code = IQP_MSG_RELEASE };
	uint8_t arena[256];
	struct iqp_msg m;
	struct iqp_elem *c;

	if (iq_call_reserving(ic, r->link)) {
		log_info(ic->log, ic->sub, NULL, "iq reconcile: unknown context kept, RESERVE in flight",
			 LF_S("node_id", r->node_id), LF_U("context_id", cid));
		return;
	}
	if (iqp_msg_init(&m, &h, arena, sizeof(arena)))
		return;
	if (!iqp_add_container(&m, NULL, IQP_E_CONTEXT, &c) &&
	    !iqp_add_u32(&m, c, IQP_E_CONTEXT_ID, cid) &&
	    !iq_call_send(ic, r->link, 0, &m, NULL, NULL, NULL)) {
		r->released++;
		log_info(ic->log, ic->sub, NULL, "iq reconcile: context without a call released",
			 LF_S("node_id", r->node_id), LF_U("context_id", cid));
	}
	iqp_msg_free(&m);
}

/* One listed CONTEXT. */
static void listed(struct iq_reconcile *r, const struct iqp_msg *m, const struct iqp_elem *ctx)
{
	struct iq_calls *ic = r->ic;
	const struct iqp_elem *id = iqp_find(m, ctx, IQP_E_CONTEXT_ID);
	unsigned failed_state = iqp_enum_value(IQP_EN_TERM_STATE, "FAILED");
	uint32_t cid;
	bool failed = false;

	if (!id || iqp_elem_u32(id, &cid))
		return;
	r->listed++;
	for (const struct iqp_elem *t = iqp_find(m, ctx, IQP_E_TERMINATION); t; t = iqp_next_same(t)) {
		const struct iqp_elem *st = iqp_find(m, t, IQP_E_TERM_STATE);
		uint8_t v;
		if (st && !iqp_elem_enum(st, &v) && failed_state && v == failed_state)
			failed = true;
	}
	uint32_t *hit = r->n_snap ? bsearch(&cid, r->snap, r->n_snap, sizeof(*r->snap), cmp_u32)
				  : NULL;
	if (hit)
		r->seen[hit - r->snap] = true;
	bool owned = ic->hooks.context_known && ic->hooks.context_known(ic->hooks.arg, r->link, cid);
	if (!hit && !owned) {
		release(r, cid);        /* 3.2 */
	} else if (hit && owned && failed && ic->hooks.media_failed) {
		r->failed++;            /* 3.4: the call ends, its context released */
		ic->hooks.media_failed(ic->hooks.arg, r->link, cid, 0, 0);
	}
	/* Not in the snapshot but owned: created since (3.5), left alone. */
}

/* 3.3: the snapshot contexts the AGW did not list. */
static void conclude(struct iq_reconcile *r)
{
	struct iq_calls *ic = r->ic;
	size_t lost = 0;

	for (size_t i = 0; i < r->n_snap; i++) {
		if (r->seen[i] || !ic->hooks.context_known ||
		    !ic->hooks.context_known(ic->hooks.arg, r->link, r->snap[i]))
			continue; /* listed, or its call has ended meanwhile */
		lost++;
		log_info(ic->log, ic->sub, NULL, "iq reconcile: context lost by the AGW",
			 LF_S("node_id", r->node_id), LF_U("context_id", r->snap[i]));
		if (ic->hooks.context_lost)
			ic->hooks.context_lost(ic->hooks.arg, r->link, r->snap[i]);
	}
	log_info(ic->log, ic->sub, NULL, "iq reconcile done", LF_S("node_id", r->node_id),
		 LF_U("pages", r->pages), LF_U("listed", r->listed), LF_U("held", r->n_snap),
		 LF_U("released", r->released), LF_U("failed", r->failed), LF_U("lost", lost));
}

static void on_page(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		    const struct iqp_error *err)
{
	struct iq_reconcile *r = arg;
	struct iq_calls *ic = r->ic;
	const struct iqp_elem *e;
	uint32_t cursor = 0;
	bool more = false;

	r->req = NULL;
	iqp_msg_free(&r->msg);
	if (err) {
		log_warn(ic->log, ic->sub, NULL, "iq reconcile abandoned", LF_S("node_id", r->node_id),
			 LF_U("code", err->code), LF_S("reason", err->text));
		rec_free(r);
		return;
	}
	r->link = l;
	r->pages++;
	for (e = iqp_find(reply, NULL, IQP_E_CONTEXT); e; e = iqp_next_same(e))
		listed(r, reply, e);
	if ((e = iqp_find(reply, NULL, IQP_E_AUDIT_MORE)))
		iqp_elem_bool(e, &more);
	if ((e = iqp_find(reply, NULL, IQP_E_AUDIT_CURSOR)))
		iqp_elem_u32(e, &cursor);
	if (more && cursor && !send_page(r, cursor))
		return;
	if (more) /* no cursor to go on from, or the next page not sent */
		log_warn(ic->log, ic->sub, NULL, "iq reconcile incomplete", LF_S("node_id", r->node_id),
			 LF_U("pages", r->pages));
	else
		conclude(r);
	rec_free(r);
}

/* AUDIT CONTEXT_LIST from cursor (0: the first page). */
static int send_page(struct iq_reconcile *r, uint32_t cursor)
{
	struct iqp_header h = { .code = IQP_MSG_AUDIT };
	int rc;

	if ((rc = iqp_msg_init(&r->msg, &h, r->arena, sizeof(r->arena))))
		return rc;
	iqp_add_enum(&r->msg, NULL, IQP_E_AUDIT_SCOPE,
		     (uint8_t)iqp_enum_value(IQP_EN_AUDIT_SCOPE, "CONTEXT_LIST"));
	if (cursor)
		iqp_add_u32(&r->msg, NULL, IQP_E_AUDIT_CURSOR, cursor);
	iqp_add_u32(&r->msg, NULL, IQP_E_AUDIT_LIMIT, IQ_RECONCILE_PAGE);
	if ((rc = r->msg.err) ||
	    (rc = iq_call_send(r->ic, r->link, 0, &r->msg, on_page, r, &r->req))) {
		iqp_msg_free(&r->msg);
		return rc;
	}
	return 0;
}

int iq_reconcile_start(struct iq_calls *ic, struct iqp_link *l)
{
	struct iq_reconcile *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return ENOMEM;
	r->ic = ic;
	r->link = l;
	snprintf(r->node_id, sizeof(r->node_id), "%s", l->peer.node_id);
	r->next = ic->recs;
	if (ic->recs)
		ic->recs->prev = r;
	ic->recs = r;
	/* 3.1: the snapshot first. */
	if (ic->hooks.contexts && (rc = ic->hooks.contexts(ic->hooks.arg, l, &r->snap, &r->n_snap)))
		goto fail;
	if (r->n_snap) {
		if (!(r->seen = calloc(r->n_snap, sizeof(*r->seen)))) {
			rc = ENOMEM;
			goto fail;
		}
		qsort(r->snap, r->n_snap, sizeof(*r->snap), cmp_u32);
	}
	log_info(ic->log, ic->sub, NULL, "iq reconcile", LF_S("node_id", r->node_id),
		 LF_U("held", r->n_snap));
	if ((rc = send_page(r, 0)))
		goto fail;
	return 0;
fail:
	rec_free(r);
	return rc;
}

void iq_reconcile_close(struct iq_calls *ic)
{
	while (ic->recs)
		rec_free(ic->recs);
}
