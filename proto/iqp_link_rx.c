/* The Iq+ link: frames received (SPEC.md 2.6, 3.5 checks 6-11, 4.4, 6.5,
 * 6.7, 6.9) and registration on both sides (5.2, 7.2, 7.3, 7.9). */
#include "iqp_link_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_validate.h"

/* --- Registration -------------------------------------------------------- */

static void registered(struct iqp_link *l, uint64_t now, uint16_t version,
		       const struct iqp_link_params *peer)
{
	struct iqp_link_event ev = { .type = IQP_LEV_REGISTERED, .peer = &l->peer };

	l->version = version;
	l->peer_max_frame = or_def(peer->max_frame, IQP_MAX_FRAME_MIN);
	l->txn.peer_max_outstanding = or_def(peer->max_outstanding, IQP_MAX_OUTSTANDING);
	l->txn.peer_cache_ttl = or_def(peer->cache_ttl, IQP_CACHE_TTL_MS);
	l->txn.max_outstanding = or_def(l->cfg.params.max_outstanding, IQP_MAX_OUTSTANDING);
	l->txn.cache_ttl = or_def(l->cfg.params.cache_ttl, IQP_CACHE_TTL_MS);
	l->txn.t_txn = IQP_T_TXN_MS;
	l->t_state = T_OFF;
	l->last_rx = now;
	l->in_service_since = now;
	l->early = 0;
	l->io->limits(l->io_arg, or_def(l->cfg.params.max_frame, IQP_MAX_FRAME_MIN),
		      (uint8_t)(version >> 8), l->hb_interval);
	iqp_link_set_state(l, IQP_LINK_IN_SERVICE);
	ev.hb_interval = l->hb_interval;
	iqp_link_emit(l, &ev);
}

/* AGW: our REGISTER (7.2.1). */
void iqp_link_register_send(struct iqp_link *l, uint64_t now)
{
	struct iqp_node_info *s = malloc(sizeof(*s));
	struct iqp_msg m;

	if (!s) {
		iqp_link_drop(l, now, 0, "out of memory", NULL);
		return;
	}
	*s = *l->cfg.self;
	if (!s->n_versions) {
		s->n_versions = 1;
		s->versions[0] = IQP_VERSION_1_0;
	}
	/* 7.2.1: a cold start registers RESTART 901; later connections of
	 * the same process DISCONNECTED 900 with the epoch unchanged; one
	 * following a redirect or handoff HANDOFF 903. */
	s->sc_method = l->handoff ? IQP_SC_HANDOFF
		     : l->registered_once ? IQP_SC_DISCONNECTED : IQP_SC_RESTART;
	s->sc_reason = l->handoff ? 903 : l->registered_once ? 900 : 901;
	s->params = l->cfg.params;
	s->has_load = l->hooks->load != NULL;
	if (s->has_load)
		l->hooks->load(l->hook_arg, &s->load);
	if (iqp_link_msg_start(&m, IQP_KIND_REQUEST, 0, IQP_MSG_REGISTER, 0, ARENA_BIG) ||
	    iqp_link_reg_build_request(&m, s) ||
	    iqp_link_send_request(l, now, &m, &l->tag_register)) {
		iqp_msg_free(&m);
		free(s);
		iqp_link_drop(l, now, 0, "cannot build REGISTER", NULL);
		return;
	}
	iqp_msg_free(&m);
	free(s);
}

/* AGW, 7.3 item 2: reconnect at once when the peer lists a major we
 * speak, at most MAX_REDIRECTS times in a row; else back off. */
static struct retry version_retry(struct iqp_link *l, const uint16_t *v, size_t n)
{
	struct retry r = { RETRY_BACKOFF, 0 };

	if (iqp_link_reg_select_version(iqp_link_versions, IQP_LINK_N_VERSIONS, v, n) &&
	    l->redirects < IQP_MAX_REDIRECTS) {
		l->redirects++;
		r.mode = RETRY_NOW;
	} else {
		l->redirects = 0;
	}
	return r;
}

/* AGW, 7.4 items 1, 3: follow the REDIRECT_TARGETs of a 1300 at once,
 * at most MAX_REDIRECTS in a row; beyond that, or without a usable
 * target, back to the configured list with backoff. */
static struct retry redirect_retry(struct iqp_link *l, const struct iqp_msg *m)
{
	struct iqp_redirect *t = malloc(IQP_MAX_REDIRECT_TARGETS * sizeof(*t));
	struct retry r = { RETRY_BACKOFF, 0 };
	size_t n = t && m ? iqp_link_reg_redirects(m, t, IQP_MAX_REDIRECT_TARGETS) : 0;

	if (n && l->redirects < IQP_MAX_REDIRECTS) {
		iqp_link_redirect_follow(l, t, n, IQP_ERR_REDIRECT);
		r.mode = RETRY_NOW;
	} else if (n) {
		iqp_link_redirect_end(l); /* 7.4 item 3 */
	}
	free(t);
	return r;
}

void iqp_link_register_done(struct iqp_link *l, uint64_t now, const struct iqp_msg *m,
			    const struct iqp_error *err)
{
	struct iqp_link_event ev = { .type = IQP_LEV_REFUSED, .remote = true };
	struct iqp_node_info *c;
	struct retry r = { RETRY_BACKOFF, 0 };
	char text[160];
	unsigned code;

	if (err) {
		uint16_t v[IQP_MAX_VERSIONS];
		size_t n = 0;
		code = err->code;
		snprintf(text, sizeof(text), "%s", err->text);
		if (m) {
			unsigned c2;
			iqp_link_reg_error(m, &c2, text, sizeof(text), &r.at_least);
			n = iqp_link_reg_versions(m, v, IQP_MAX_VERSIONS);
		}
		ev.code = code;
		ev.text = text;
		iqp_link_emit(l, &ev);
		if (code == IQP_ERR_VERSION)
			r = version_retry(l, v, n);
		else if (code == IQP_ERR_REDIRECT)
			r = redirect_retry(l, m);
		/* 7.2.3: after 503 and 1300 the AGW closes; otherwise the
		 * controller's CLOSE is on its way. */
		iqp_link_drop(l, now, code == IQP_ERR_UNAVAILABLE || code == IQP_ERR_REDIRECT
			      ? IQP_ERR_NORMAL_CLOSE : 0,
			      "registration refused", &r);
		return;
	}
	if (!(c = malloc(sizeof(*c)))) {
		iqp_link_drop(l, now, 0, "out of memory", NULL);
		return;
	}
	iqp_link_reg_parse_reply(m, c);
	if (c->n_versions != 1 ||
	    iqp_link_reg_select_version(iqp_link_versions, IQP_LINK_N_VERSIONS,
					c->versions, 1) != c->versions[0]) {
		free(c);
		iqp_link_drop(l, now, IQP_ERR_PROTOCOL, "selected version was not offered", NULL);
		return;
	}
	/* 7.9 items 4-5: another controller epoch flushes the caches. */
	if (l->registered_once &&
	    (strcmp(l->peer.node_id, c->node_id) || l->peer.epoch != c->epoch)) {
		struct iqp_link_event pe = { .type = IQP_LEV_PEER_EPOCH, .peer = c,
					     .old_epoch = l->peer.epoch };
		iqp_txn_flush(&l->txn);
		iqp_link_emit(l, &pe);
	}
	l->peer = *c;
	free(c);
	l->registered_once = true;
	iqp_link_redirect_end(l); /* 7.4 item 1: the configured list again */
	l->hb_interval = or_def(l->peer.params.hb_interval, IQP_HB_INTERVAL_MS);
	registered(l, now, l->peer.versions[0], &l->peer.params);
}

/* Controller: refuses the REGISTER of frame h (7.2.3). */
static void refuse_register(struct iqp_link *l, uint64_t now,
			    const struct iqp_header *h, unsigned code,
			    const char *text, const struct iqp_error *verr,
			    uint32_t retry_after)
{
	struct iqp_link_event ev = { .type = IQP_LEV_REFUSED, .text = text, .peer = &l->peer };
	struct iqp_redirect *t = NULL;
	size_t n = 0;
	struct iqp_msg m;

	/* 7.4 item 1: 1300 names 1-8 targets; without any it is 503. */
	if (code == IQP_ERR_REDIRECT && l->hooks->redirect &&
	    (t = malloc(IQP_MAX_REDIRECT_TARGETS * sizeof(*t))))
		n = l->hooks->redirect(l->hook_arg, l, &l->peer, t, IQP_MAX_REDIRECT_TARGETS);
	if (code == IQP_ERR_REDIRECT && !n)
		code = IQP_ERR_UNAVAILABLE;
	ev.code = code;
	if (!iqp_link_msg_start(&m, IQP_KIND_REPLY, IQP_FLAG_E, IQP_MSG_REGISTER, h->txid,
				ARENA_SMALL)) {
		if (verr)
			iqp_add_error(&m, verr);
		else
			iqp_link_reg_add_error(&m, code, text, retry_after);
		for (size_t i = 0; i < n && i < IQP_MAX_REDIRECT_TARGETS; i++)
			iqp_link_reg_add_redirect(&m, &t[i]);
		if (code == IQP_ERR_VERSION)
			for (size_t i = 0; i < IQP_LINK_N_VERSIONS; i++)
				iqp_add_u16(&m, NULL, IQP_E_VERSION, iqp_link_versions[i]);
		iqp_link_send_answer(l, now, &m, code);
		iqp_msg_free(&m);
	}
	free(t);
	iqp_link_emit(l, &ev);
	if (code != IQP_ERR_UNAVAILABLE && code != IQP_ERR_REDIRECT)
		iqp_link_drop(l, now, code, text, NULL);
}

static void on_register(struct iqp_link *l, uint64_t now,
			const struct iqp_header *h, const struct iqp_msg *m)
{
	struct iqp_node_info *a = &l->peer;
	struct iqp_link_params p = l->cfg.params;
	struct iqp_msg r;
	char text[160] = "";
	uint32_t retry = 0;
	uint16_t v;
	unsigned code;

	iqp_link_reg_parse_request(m, a);
	if (l->hooks->authorize &&
	    (code = l->hooks->authorize(l->hook_arg, l, a, text, sizeof(text)))) {
		refuse_register(l, now, h, code, text, NULL, 0);
		return;
	}
	if (!(v = iqp_link_reg_select_version(a->versions, a->n_versions, iqp_link_versions,
					      IQP_LINK_N_VERSIONS))) {
		refuse_register(l, now, h, IQP_ERR_VERSION, "no common version", NULL, 0);
		return;
	}
	if ((l->hooks->admit &&
	     (code = l->hooks->admit(l->hook_arg, l, a, text, sizeof(text), &retry))) ||
	    (code = iqp_link_reg_check_caps(a, text, sizeof(text)))) {
		refuse_register(l, now, h, code, text, NULL, retry);
		return;
	}
	/* 7.2.4: the AGW proposes HB_INTERVAL, the controller decides; we
	 * take any proposal within the registered range (pass 2 checked). */
	l->hb_interval = or_def(a->params.hb_interval,
				or_def(l->cfg.params.hb_interval, IQP_HB_INTERVAL_MS));
	p.hb_interval = l->hb_interval;
	if (iqp_link_msg_start(&r, IQP_KIND_REPLY, 0, IQP_MSG_REGISTER, h->txid, ARENA_SMALL) ||
	    iqp_link_reg_build_reply(&r, l->cfg.self, v, &p)) {
		iqp_msg_free(&r);
		refuse_register(l, now, h, 500, "cannot build the reply", NULL, 0);
		return;
	}
	iqp_link_send_answer(l, now, &r, 0);
	iqp_msg_free(&r);
	if (l->conn_up)
		registered(l, now, v, &a->params);
}

/* --- Receiving ---------------------------------------------------------- */

static void on_close(struct iqp_link *l, uint64_t now, const struct iqp_header *h,
		     const uint8_t *body)
{
	struct retry r = { RETRY_BACKOFF, 0 };
	struct iqp_error perr;
	struct iqp_msg m;
	unsigned code = 0;
	char text[160] = "";

	/* 11.8: an empty or undecodable body is tolerated. */
	if (!iqp_msg_parse(&m, h, body, NULL, 0, &perr)) {
		uint16_t v[IQP_MAX_VERSIONS];
		size_t n = iqp_link_reg_versions(&m, v, IQP_MAX_VERSIONS);
		iqp_link_reg_error(&m, &code, text, sizeof(text), &r.at_least);
		if (iqp_link_is_agw(l) && l->state == IQP_LINK_REGISTERING &&
		    code == IQP_ERR_VERSION)
			r = version_retry(l, v, n);
	}
	iqp_msg_free(&m);
	l->io->close(l->io_arg, 0, NULL); /* 2.6 item 3: never answered */
	iqp_link_lost(l, now, code, true, text[0] ? text : "CLOSE received", &r);
}

/* 6.2 item 4: a successful REPLY to an abandoned RESERVE is followed by
 * a RELEASE of the context it reports, so that no context leaks.  The
 * RELEASE is the link's own transaction; its answer is dropped. */
static bool release_abandoned(struct iqp_link *l, uint64_t now, const struct iqp_header *h,
			      const uint8_t *body)
{
	const struct iqp_elem *ctx, *id;
	struct iqp_error err;
	struct iqp_msg m, r;
	struct iqp_elem *c;
	uint32_t cid = 0;

	if (h->code != IQP_MSG_RESERVE || h->kind != IQP_KIND_REPLY || (h->flags & IQP_FLAG_E))
		return false;
	if (!iqp_msg_decode(&m, h, body, iqp_link_peer_role(l), 0, NULL, 0, &err) &&
	    (ctx = iqp_find(&m, NULL, IQP_E_CONTEXT)) &&
	    (id = iqp_find(&m, ctx, IQP_E_CONTEXT_ID)))
		iqp_elem_u32(id, &cid);
	iqp_msg_free(&m);
	if (!cid || iqp_link_msg_start(&r, IQP_KIND_REQUEST, 0, IQP_MSG_RELEASE, 0, ARENA_SMALL))
		return false;
	if (!iqp_add_container(&r, NULL, IQP_E_CONTEXT, &c) &&
	    !iqp_add_u32(&r, c, IQP_E_CONTEXT_ID, cid))
		iqp_link_send_request(l, now, &r, &l->tag_release);
	iqp_msg_free(&r);
	return true;
}

static void on_answer(struct iqp_link *l, uint64_t now, const struct iqp_header *h,
		      const uint8_t *body)
{
	struct iqp_error err, e2;
	struct iqp_msg m;
	void *user = NULL;
	int match = iqp_txn_answer(&l->txn, h, now, &user);
	char text[160];

	switch (match) {
	case IQP_TXN_LATE:
		iqp_link_discarded(l, h, 0, "answer matches no transaction");
		return;
	case IQP_TXN_ABANDONED:
		iqp_link_discarded(l, h, 0, release_abandoned(l, now, h, body)
			? "answer to an abandoned RESERVE: its context released (6.2 item 4)"
			: "answer to an abandoned transaction");
		return;
	case IQP_TXN_MISMATCH:
		iqp_link_drop(l, now, IQP_ERR_PROTOCOL, "answer code differs from its transaction",
			      NULL);
		return;
	case IQP_TXN_PENDING:
		return;
	}
	if (iqp_msg_decode(&m, h, body, iqp_link_peer_role(l), 0, NULL, 0, &err)) {
		iqp_msg_free(&m);
		if (h->kind == IQP_KIND_REPLY) { /* 4.4 item 3 */
			iqp_link_discarded(l, h, err.code, err.text);
			iqp_link_complete(l, now, user, NULL, &err);
		} else { /* 4.4 item 4: an ACK's body is ignored */
			iqp_link_discarded(l, h, err.code, err.text);
			iqp_link_complete(l, now, user, NULL, NULL);
		}
		return;
	}
	if ((h->kind == IQP_KIND_REPLY && (h->flags & IQP_FLAG_E)) ||
	    (h->kind == IQP_KIND_ACK && iqp_find(&m, NULL, IQP_E_ERROR))) {
		unsigned code;
		uint32_t ra;
		iqp_link_reg_error(&m, &code, text, sizeof(text), &ra);
		iqp_error_set(&e2, code, IQP_ACT_NONE, "%s", text);
		iqp_link_complete(l, now, user, &m, &e2);
	} else {
		iqp_link_complete(l, now, user, &m, NULL);
	}
	iqp_msg_free(&m);
}

static iqp_link_call_h *handler(const struct iqp_link *l, uint16_t code)
{
	const struct iqp_link_calls *c = &l->hooks->calls;

	switch (code) {
	case IQP_MSG_RESERVE: return c->reserve;
	case IQP_MSG_CONFIGURE: return c->configure;
	case IQP_MSG_MODIFY: return c->modify;
	case IQP_MSG_RELEASE: return c->release;
	case IQP_MSG_AUDIT: return c->audit;
	case IQP_MSG_SERVICE_CHANGE: return c->service_change;
	case IQP_MSG_EVENT: return c->event;
	}
	return NULL;
}

static void dispatch(struct iqp_link *l, uint64_t now, const struct iqp_header *h,
		     const struct iqp_msg *m)
{
	struct iqp_link_event ev = { 0 };
	const struct iqp_elem *e;
	struct iqp_load load;
	iqp_link_call_h *fn;
	struct iqp_msg r;
	unsigned kind;

	switch (h->code) {
	case IQP_MSG_REGISTER:
		on_register(l, now, h, m);
		return;
	case IQP_MSG_HEARTBEAT:   /* 7.5 */
	case IQP_MSG_NODE_STATUS: /* 7.6 */
		if ((e = iqp_find(m, NULL, IQP_E_LOAD))) {
			iqp_link_reg_load(m, e, &load);
			ev.load = &load;
		}
		kind = h->kind == IQP_KIND_REQUEST ? IQP_KIND_REPLY : IQP_KIND_ACK;
		if (!iqp_link_msg_start(&r, kind, 0, h->code, h->txid, ARENA_SMALL)) {
			iqp_link_send_answer(l, now, &r, 0);
			iqp_msg_free(&r);
		}
		ev.type = h->code == IQP_MSG_HEARTBEAT ? IQP_LEV_HEARTBEAT : IQP_LEV_STATUS;
		iqp_link_emit(l, &ev);
		return;
	}
	if ((fn = handler(l, h->code))) {
		fn(l->hook_arg, l, m);
		return;
	}
	iqp_link_send_error(l, now, h, IQP_ERR_NOT_IMPLEMENTED, "not implemented by this node",
			    NULL);
	iqp_link_discarded(l, h, IQP_ERR_NOT_IMPLEMENTED, "not implemented by this node");
}

static void on_request(struct iqp_link *l, uint64_t now, const struct iqp_header *h,
		       const uint8_t *body)
{
	const uint8_t *cached = NULL;
	size_t clen = 0;
	struct iqp_error err;
	struct iqp_msg m;

	/* 6.9: nothing but REGISTER before registration; no second one. */
	if (l->state != IQP_LINK_IN_SERVICE &&
	    (iqp_link_is_agw(l) || h->code != IQP_MSG_REGISTER || h->kind != IQP_KIND_REQUEST)) {
		if (!iqp_link_is_agw(l) && ++l->early >= IQP_EARLY_FRAMES_MAX) {
			iqp_link_drop(l, now, IQP_ERR_PROTOCOL, "too many frames before REGISTER",
				      NULL);
			return;
		}
		iqp_link_send_error(l, now, h, IQP_ERR_NOT_READY, "not registered", NULL);
		iqp_link_discarded(l, h, IQP_ERR_NOT_READY, "frame before registration");
		return;
	}
	if (l->state == IQP_LINK_IN_SERVICE && h->code == IQP_MSG_REGISTER) {
		iqp_link_send_error(l, now, h, IQP_ERR_PROTOCOL, "already registered", NULL);
		iqp_link_discarded(l, h, IQP_ERR_PROTOCOL,
				   "second REGISTER on a registered connection");
		return;
	}
	switch (iqp_txn_received(&l->txn, h, now, &cached, &clen)) {
	case IQP_TXN_RUNNING: /* 6.5 item 2 */
		if (h->kind == IQP_KIND_REQUEST)
			iqp_link_send_header(l, now, IQP_KIND_PENDING, h->code, h->txid);
		return;
	case IQP_TXN_REPEAT:
		iqp_link_xmit(l, now, cached, clen);
		return;
	case IQP_TXN_EXCESS: /* 6.7 item 3 */
		iqp_link_send_error(l, now, h, IQP_ERR_FLOW, "too many outstanding transactions",
				    NULL);
		iqp_link_discarded(l, h, IQP_ERR_FLOW, "over MAX_OUTSTANDING");
		return;
	case IQP_TXN_FLOOD: /* 6.7 item 4 */
		iqp_link_drop(l, now, IQP_ERR_FLOW, "transaction flood", NULL);
		return;
	}
	if (iqp_msg_decode(&m, h, body, iqp_link_peer_role(l), 0, NULL, 0, &err)) {
		if (h->code == IQP_MSG_REGISTER)
			refuse_register(l, now, h, err.code, err.text, &err, 0);
		else {
			iqp_link_send_error(l, now, h, err.code, NULL, &err);
			iqp_link_discarded(l, h, err.code, err.text);
		}
		iqp_msg_free(&m);
		return;
	}
	dispatch(l, now, h, &m);
	iqp_msg_free(&m);
}

void iqp_link_frame(struct iqp_link *l, uint64_t now, const struct iqp_header *h,
		    const uint8_t *body)
{
	struct iqp_error err;

	if (!l->conn_up)
		return;
	l->last_rx = now; /* 7.5 item 2 */
	if (h->kind == IQP_KIND_CLOSE) {
		on_close(l, now, h, body);
	} else if (iqp_header_check_code(h, iqp_link_peer_role(l), &err)) { /* 3.5 6-9 */
		if (err.action == IQP_ACT_REPLY || err.action == IQP_ACT_ACK) {
			iqp_link_send_error(l, now, h, err.code, err.text, NULL);
			iqp_link_discarded(l, h, err.code, err.text);
		} else {
			iqp_link_drop(l, now, err.code, err.text, NULL);
		}
	} else if (h->kind == IQP_KIND_REQUEST || h->kind == IQP_KIND_NOTIFY) {
		on_request(l, now, h, body);
	} else {
		on_answer(l, now, h, body);
	}
	iqp_link_settle(l, now);
}
