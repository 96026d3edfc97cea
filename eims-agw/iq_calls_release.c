/* RELEASE (proto/SPEC.md 8.6) and the contexts' fate when the link is
 * lost (T_HOLD, 7.10). */
#include <string.h>
#include <time.h>

#include "iq_admin.h"
#include "iq_calls_int.h"
#include "iq_status.h"

/* --- RELEASE (8.6) --------------------------------------------------------------------- */

static void release_all(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m)
{
	struct media_plane *mp = c->mp;
	struct iqp_msg r;
	unsigned n = 0;

	for (struct media_ctx *x = mp->ctxs, *next; x; x = next) {
		next = x->next;
		if (x->owner != l)
			continue;
		media_ctx_release(mp, x);
		n++;
	}
	log_info(c->log, c->sub, NULL, "iq released all", LF_U("contexts", n));
	if (!iqc_reply_start(&r, m, 0))
		iqc_reply_send(c, l, &r, m);
}

void iqc_on_release(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct iq_calls *c = arg;
	struct media_plane *mp = c->mp;
	const struct iqp_elem *ctxe = iqp_find(m, NULL, IQP_E_CONTEXT);
	struct media_term *terms[MEDIA_MAX_TERMS];
	struct media_ctx *ctx;
	struct call_err ce = { 0 };
	unsigned n = 0;
	struct iqp_msg r = { 0 };
	struct iqp_elem *rc_ctx, *rte;
	uint64_t now = media_now(mp);

	if (get_u32(m, ctxe, IQP_E_CONTEXT_ID, 0) == IQP_ALL) {
		if (iqp_find(m, ctxe, IQP_E_TERMINATION)) {
			bad(&ce, 410, iqp_find(m, ctxe, IQP_E_CONTEXT_ID),
			    "CONTEXT_ID ALL releases whole contexts only");
			goto refuse;
		}
		release_all(c, l, m);
		return;
	}
	if (iqc_find_ctx(c, l, m, ctxe, &ctx, &ce))
		goto refuse;
	EACH(te, m, ctxe, IQP_E_TERMINATION) {
		struct media_term *t;
		if (iqc_find_term(c, m, te, ctx, &t, &ce))
			goto refuse;
		bool dup = false;
		for (unsigned i = 0; i < n; i++)
			dup = dup || terms[i] == t;
		if (!dup && n < MEDIA_MAX_TERMS)
			terms[n++] = t;
	}
	if (!iqp_find(m, ctxe, IQP_E_TERMINATION))
		for (unsigned i = 0; i < ctx->n_terms; i++)
			terms[n++] = ctx->t[i];
	/* 8.6 item 5: validated, it cannot fail; the reply carries the
	 * final statistics, built before anything is freed. */
	if (!iqc_reply_start(&r, m, 0)) {
		iqp_add_container(&r, NULL, IQP_E_CONTEXT, &rc_ctx);
		iqp_add_u32(&r, rc_ctx, IQP_E_CONTEXT_ID, ctx->id);
		for (unsigned i = 0; i < n; i++) {
			iqp_add_container(&r, rc_ctx, IQP_E_TERMINATION, &rte);
			iqp_add_u32(&r, rte, IQP_E_TERM_ID, terms[i]->id);
			iq_events_add_stats(&r, rte, terms[i], now);
		}
	}
	uint32_t cid = ctx->id;
	for (unsigned i = 0; i < n; i++) {
		log_info(c->log, c->sub, NULL, "iq released", LF_U("context", cid),
			 LF_U("term", terms[i]->id),
			 LF_U("rx_packets", terms[i]->n_streams ? terms[i]->s[0]->rx.packets : 0),
			 LF_U("tx_packets", terms[i]->n_streams ? terms[i]->s[0]->tx_packets : 0));
		media_term_release(mp, terms[i]);
	}
	if (r.mem)
		iqc_reply_send(c, l, &r, m);
	return;
refuse:
	iqc_reply_error(c, l, m, &ce);
}

void iq_calls_stop(struct iq_calls *c)
{
	if (c->hold_open) {
		c->hold_open = false;
		uv_close((uv_handle_t *)&c->hold, NULL);
	}
	iq_events_held(c, false);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 7.10 item 4: T_HOLD expired before the association came back. */
static void on_hold(uv_timer_t *h)
{
	struct iq_calls *c = h->data;
	struct media_plane *mp = c->mp;
	size_t n = mp->n_ctxs;

	while (mp->ctxs)
		media_ctx_release(mp, mp->ctxs);
	iq_events_held(c, false); /* about contexts that are gone */
	c->iq->self.epoch = wall_ms();
	log_warn(c->log, c->sub, NULL, "iq hold expired", LF_U("contexts_released", n),
		 LF_U("new_epoch", c->iq->self.epoch));
}

void iq_calls_link_change(void *arg, bool up)
{
	struct iq_calls *c = arg;

	if (!c->hold_open)
		return;
	/* 7.7 item 6: the administrative state goes first. */
	iq_admin_link_change(c->admin, up);
	iq_status_link_change(c->status, up);
	if (up) {
		uv_timer_stop(&c->hold);
		iq_events_held(c, true);
	}
	else if (!uv_is_active((uv_handle_t *)&c->hold))
		uv_timer_start(&c->hold, on_hold, c->hold_ms, 0);
}

void iq_calls_peer_changed(void *arg)
{
	struct iq_calls *c = arg;
	struct media_plane *mp = c->mp;
	size_t n = mp->n_ctxs;

	/* 7.9 item 4: their owner lost them; released without EVENTs. */
	while (mp->ctxs)
		media_ctx_release(mp, mp->ctxs);
	iq_events_held(c, false);
	if (n)
		log_warn(c->log, c->sub, NULL, "iq contexts of the previous controller released",
			 LF_U("contexts_released", n));
}
