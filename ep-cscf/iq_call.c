/* Iq+ call procedures of the controller. */
#include "iq_call.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iq_reconcile.h"
#include "iqp_build.h"
#include "iqp_link_uv.h"

#define MAX_TRIES 8

struct iq_call_req {
	struct iq_call_req *prev, *next; /* the owner's list */
	struct iq_calls *ic;
	struct iqp_msg *req;             /* borrowed while attached */
	iq_call_done_h *done;            /* NULL once detached */
	void *arg;
	int failover;                    /* a RESERVE of a new context */
	unsigned need;                   /* IQ_NEED_* */
	const void *tried[MAX_TRIES];
	size_t n_tried;
};

void iq_calls_init(struct iq_calls *ic, uv_loop_t *loop, const struct iq_registry *reg,
		   const struct log *log, unsigned sub)
{
	memset(ic, 0, sizeof(*ic));
	ic->loop = loop;
	ic->reg = reg;
	ic->log = log;
	ic->sub = sub;
	ic->rng = (uint64_t)uv_hrtime() | 1;
}

void iq_call_detach(struct iq_call_req *r)
{
	if (!r)
		return;
	r->done = NULL;
	r->req = NULL;
}

void iq_calls_close(struct iq_calls *ic)
{
	iq_reconcile_close(ic);
	for (struct iq_call_req *r = ic->reqs; r; r = r->next)
		iq_call_detach(r);
}

static void unlink_req(struct iq_call_req *r)
{
	struct iq_calls *ic = r->ic;
	if (r->prev)
		r->prev->next = r->next;
	else
		ic->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r);
}

static bool has(const struct iq_agw *a, unsigned need)
{
	const struct iqp_link *l = a->link;
	return !(need & IQ_NEED_BUNDLE) || l->peer.caps.bundle;
}

static bool avoided(const void *link, const struct iq_avoid *avoid, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (avoid[i].link == link && avoid[i].until > now)
			return true;
	return false;
}

/* Remembers link as failing for IQ_AVOID_MS (the oldest entry goes). */
static void avoid_link(struct iq_calls *ic, const void *link)
{
	uint64_t now = uv_now(ic->loop);
	struct iq_avoid *slot = &ic->avoid[0];

	for (size_t i = 0; i < IQ_AVOID_MAX; i++) {
		if (ic->avoid[i].link == link || ic->avoid[i].until <= now) {
			slot = &ic->avoid[i];
			break;
		}
		if (ic->avoid[i].until < slot->until)
			slot = &ic->avoid[i];
	}
	slot->link = link;
	slot->until = now + IQ_AVOID_MS;
}

const struct iq_agw *iq_call_select(const struct iq_registry *reg, const void *const *tried,
				    size_t n_tried, unsigned need, const struct iq_avoid *avoid,
				    size_t n_avoid, uint64_t now, unsigned draw)
{
	unsigned minor = iqp_enum_value(IQP_EN_OVERLOAD_LEVEL, "MINOR");
	unsigned major = iqp_enum_value(IQP_EN_OVERLOAD_LEVEL, "MAJOR");
	unsigned critical = iqp_enum_value(IQP_EN_OVERLOAD_LEVEL, "CRITICAL");
	const struct iq_agw *best = NULL;
	unsigned best_rank = 0;

	for (const struct iq_agw *a = reg->head; a; a = a->next) {
		unsigned level = a->has_load && (a->load.has & IQP_LOAD_LEVEL) ? a->load.overload_level : 0;
		size_t i;
		if (a->state != IQ_AGW_IN_SERVICE || !a->link || (critical && level >= critical) ||
		    !has(a, need))
			continue;
		for (i = 0; i < n_tried && tried[i] != a->link; i++)
			;
		if (i < n_tried)
			continue;
		/* 7.6 item 3: at MAJOR at most ADMIT_PERCENT % (absent: 50) of
		 * the new contexts. */
		if (major && level >= major) {
			unsigned admit = (a->load.has & IQP_LOAD_ADMIT) ? a->load.admit_percent : 50;
			if (draw >= admit)
				continue;
		}
		/* Rank: recent failures last, then overload (MINOR after the
		 * rest), then active contexts. */
		unsigned load = a->has_load && (a->load.has & IQP_LOAD_ACTIVE) ? a->load.active_contexts : 0;
		unsigned rank = (avoided(a->link, avoid, n_avoid, now) ? 1u << 31 : 0) |
				(minor && level >= minor ? 1u << 30 : 0) | (load & 0x3fffffff);
		if (!best || rank < best_rank) {
			best = a;
			best_rank = rank;
		}
	}
	return best;
}

static void on_done(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		    const struct iqp_error *err);

/* 0..99, for ADMIT_PERCENT (xorshift64: only has to spread the draws). */
static unsigned draw(struct iq_calls *ic)
{
	ic->rng ^= ic->rng << 13;
	ic->rng ^= ic->rng >> 7;
	ic->rng ^= ic->rng << 17;
	return (unsigned)(ic->rng % 100);
}

/* Sends r's request on l, or on the next AGW.  Returns 0 or ENOTCONN. */
static int attempt(struct iq_call_req *r, struct iqp_link *l)
{
	struct iq_calls *ic = r->ic;

	for (;;) {
		if (!l && r->failover && r->n_tried < MAX_TRIES) {
			const struct iq_agw *a = iq_call_select(ic->reg, r->tried, r->n_tried, r->need,
								ic->avoid, IQ_AVOID_MAX, uv_now(ic->loop),
								draw(ic));
			if (!a)
				return ENOTCONN;
			l = (struct iqp_link *)a->link;
			r->tried[r->n_tried++] = l;
			log_debug(ic->log, ic->sub, NULL, "iq request to agw", LF_S("node_id", a->node_id),
				  LF_U("msg_code", r->req->hdr.code));
		}
		if (!l)
			return ENOTCONN;
		if (!iqp_link_uv_request(iqp_link_uv_of(l), r->req, on_done, r))
			return 0;
		if (!r->failover)
			return ENOTCONN;
		l = NULL; /* not registered any more: the next one */
	}
}

/* RELEASE of a context nobody owns any more (8.6). */
static void release_context(struct iq_calls *ic, struct iqp_link *l, uint32_t cid)
{
	struct iqp_header h = { .code = IQP_MSG_RELEASE };
	uint8_t arena[512];
	struct iqp_msg m;
	struct iqp_elem *c;

	if (iqp_msg_init(&m, &h, arena, sizeof(arena)))
		return;
	if (!iqp_add_container(&m, NULL, IQP_E_CONTEXT, &c) &&
	    !iqp_add_u32(&m, c, IQP_E_CONTEXT_ID, cid)) {
		log_info(ic->log, ic->sub, NULL, "iq context without a call released",
			 LF_S("node_id", l->peer.node_id), LF_U("context_id", cid));
		iq_call_send(ic, l, 0, &m, NULL, NULL, NULL);
	}
	iqp_msg_free(&m);
}

static void release_orphan(struct iq_calls *ic, struct iqp_link *l, const struct iqp_msg *reply)
{
	const struct iqp_elem *ctx = iqp_find(reply, NULL, IQP_E_CONTEXT);
	const struct iqp_elem *id = ctx ? iqp_find(reply, ctx, IQP_E_CONTEXT_ID) : NULL;
	uint32_t cid;

	if (id && !iqp_elem_u32(id, &cid))
		release_context(ic, l, cid);
}

static void on_done(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		    const struct iqp_error *err)
{
	struct iq_call_req *r = arg;
	struct iq_calls *ic = r->ic;

	if (!r->done) {
		if (reply && r->failover)
			release_orphan(ic, l, reply);
		unlink_req(r);
		return;
	}
	if (err && (err->code == 1202 || iqp_err_default_scope(err->code) == IQP_RETRY_OTHER))
		avoid_link(ic, l);
	if (err && r->failover && (err->code == 1202 || iqp_err_default_scope(err->code) == IQP_RETRY_OTHER)) {
		log_info(ic->log, ic->sub, NULL, "iq request failed, next agw",
			 LF_S("node_id", l->peer.node_id), LF_U("code", err->code), LF_S("reason", err->text));
		if (!attempt(r, NULL))
			return;
	}
	r->done(r->arg, l, reply, err);
	unlink_req(r);
}

bool iq_call_reserving(const struct iq_calls *ic, const struct iqp_link *l)
{
	for (const struct iq_call_req *r = ic->reqs; r; r = r->next)
		if (r->failover && r->n_tried && r->tried[r->n_tried - 1] == l)
			return true;
	return false;
}

bool iq_call_available(const struct iq_calls *ic, unsigned need)
{
	return iq_call_select(ic->reg, NULL, 0, need, NULL, 0, 0, 0) != NULL;
}

int iq_call_send(struct iq_calls *ic, struct iqp_link *link, unsigned need,
		 struct iqp_msg *req, iq_call_done_h *done, void *arg,
		 struct iq_call_req **out)
{
	struct iq_call_req *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return ENOMEM;
	r->ic = ic;
	r->req = req;
	r->done = done;
	r->arg = arg;
	r->failover = !link && req->hdr.code == IQP_MSG_RESERVE;
	r->need = need;
	r->next = ic->reqs;
	if (ic->reqs)
		ic->reqs->prev = r;
	ic->reqs = r;
	if ((rc = attempt(r, link))) {
		unlink_req(r);
		return rc;
	}
	r->req = done ? req : NULL; /* a request without owner is not resent */
	if (out)
		*out = r;
	return 0;
}

void iq_calls_event(struct iq_calls *ic, struct iqp_link *l, const struct iqp_msg *notify)
{
	struct iqp_header h = notify->hdr;
	uint8_t arena[128];
	struct iqp_msg ack;

	for (const struct iqp_elem *e = iqp_find(notify, NULL, IQP_E_EVENT); e; e = iqp_next_same(e)) {
		const struct iqp_elem *t = iqp_find(notify, e, IQP_E_EVENT_TYPE);
		const struct iqp_elem *c = iqp_find(notify, e, IQP_E_CONTEXT_ID);
		const struct iqp_elem *er = iqp_find(notify, e, IQP_E_ERROR);
		const struct iqp_elem *code = er ? iqp_find(notify, er, IQP_E_ERROR_CODE) : NULL;
		uint16_t type = 0;
		uint32_t cid = 0;
		uint16_t ecode = 0;

		if (!t || !c || iqp_elem_u16(t, &type) || iqp_elem_u32(c, &cid)) {
			log_info(ic->log, ic->sub, NULL, "iq event without type or context ignored",
				 LF_S("node_id", l->peer.node_id));
			continue;
		}
		if (code)
			iqp_elem_u16(code, &ecode);
		log_debug(ic->log, ic->sub, NULL, "iq event", LF_S("node_id", l->peer.node_id),
			  LF_U("event_type", type), LF_U("context_id", cid), LF_U("code", ecode));
		/* 9.2: 3 ICE_CONSENT_LOST, 4 ICE_FAILED, 6 DTLS_FAILED,
		 * 7 BEARER_RELEASED end the call. */
		if (ic->hooks.context_known && !ic->hooks.context_known(ic->hooks.arg, l, cid)) {
			/* 9.1 item 4: an orphan; BEARER_RELEASED has freed it. */
			if (type != 7)
				release_context(ic, l, cid);
			continue;
		}
		if ((type == 3 || type == 4 || type == 6 || type == 7) && ic->hooks.media_failed)
			ic->hooks.media_failed(ic->hooks.arg, l, cid, type, ecode);
	}
	h.kind = IQP_KIND_ACK;
	h.flags = 0;
	if (!iqp_msg_init(&ack, &h, arena, sizeof(arena))) {
		iqp_link_uv_answer(iqp_link_uv_of(l), &ack, 0);
		iqp_msg_free(&ack);
	}
}

void iq_calls_link_lost(struct iq_calls *ic, struct iqp_link *l)
{
	if (ic->hooks.link_lost)
		ic->hooks.link_lost(ic->hooks.arg, l);
}

void iq_calls_link_held(struct iq_calls *ic, struct iqp_link *l)
{
	if (ic->hooks.link_held)
		ic->hooks.link_held(ic->hooks.arg, l);
}

void iq_calls_link_back(struct iq_calls *ic, const char *node_id, struct iqp_link *l)
{
	if (ic->hooks.link_back)
		ic->hooks.link_back(ic->hooks.arg, node_id, l);
}

void iq_calls_hold_end(struct iq_calls *ic, const char *node_id, const char *why)
{
	if (ic->hooks.hold_end)
		ic->hooks.hold_end(ic->hooks.arg, node_id, why);
}
