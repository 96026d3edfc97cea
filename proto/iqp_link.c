/* The Iq+ link state machine (SPEC.md 2.5, 6, 7.1, 7.5, 7.10): state,
 * sending, connection life, timers; frames received and registration are
 * in iqp_link_rx.c. */
#include "iqp_link_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_validate.h"

static const char *const state_names[IQP_LINK_N_STATES] = {
	"idle", "connecting", "registering", "in_service", "closed",
};

const uint16_t iqp_link_versions[IQP_LINK_N_VERSIONS] = { IQP_VERSION_1_0 };

/* An owner's request in flight (iqp_link_request). */
struct owner_req {
	iqp_link_done_h *done;
	void *arg;
};

const char *iqp_link_state_name(unsigned state)
{
	return state < IQP_LINK_N_STATES ? state_names[state] : "?";
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void iqp_link_emit(struct iqp_link *l, struct iqp_link_event *ev)
{
	ev->state = l->state;
	if (l->hooks->event)
		l->hooks->event(l->hook_arg, l, ev);
}

void iqp_link_set_state(struct iqp_link *l, unsigned s)
{
	struct iqp_link_event ev = { .type = IQP_LEV_STATE, .old_state = l->state };

	if (l->state == s)
		return;
	l->state = (uint8_t)s;
	iqp_link_emit(l, &ev);
}

void iqp_link_discarded(struct iqp_link *l, const struct iqp_header *h,
			unsigned code, const char *text)
{
	struct iqp_link_event ev = { .type = IQP_LEV_DISCARDED, .code = code,
				     .msg_code = h->code, .text = text };
	iqp_link_emit(l, &ev);
}

/* --- Sending ---------------------------------------------------------- */

int iqp_link_xmit(struct iqp_link *l, uint64_t now, const uint8_t *f, size_t len)
{
	int rc;

	if (!l->conn_up || l->io_failed)
		return ENOTCONN;
	if ((rc = l->io->send(l->io_arg, f, len))) {
		l->io_failed = true; /* iqp_link_settle() loses the link */
		return rc;
	}
	l->last_tx = now;
	return 0;
}

int iqp_link_msg_start(struct iqp_msg *m, unsigned kind, unsigned flags,
		       unsigned code, uint32_t txid, size_t cap)
{
	struct iqp_header h = { IQP_VERSION_MAJOR, (uint8_t)kind, (uint16_t)flags,
				(uint16_t)code, txid, 0 };
	return iqp_msg_init(m, &h, NULL, cap);
}

static int encode(const struct iqp_msg *m, uint8_t **out, size_t *len)
{
	size_t n;
	uint8_t *b;
	int rc;

	if ((rc = iqp_msg_encoded_len(m, &n)))
		return rc;
	if (!(b = malloc(n)))
		return ENOMEM;
	if ((rc = iqp_msg_encode(m, b, n, len))) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int iqp_link_send_header(struct iqp_link *l, uint64_t now, unsigned kind,
			 unsigned code, uint32_t txid)
{
	struct iqp_header h = { IQP_VERSION_MAJOR, (uint8_t)kind, 0, (uint16_t)code, txid, 0 };
	uint8_t f[IQP_HEADER_LEN];

	iqp_header_encode(&h, f);
	return iqp_link_xmit(l, now, f, sizeof(f));
}

/* Sends the REPLY or ACK of a peer's transaction and records it in the
 * reply cache (6.5).  A reply larger than the peer's MAX_FRAME becomes
 * error 533 (3.4 item 3). */
int iqp_link_send_answer(struct iqp_link *l, uint64_t now, struct iqp_msg *m,
			 unsigned err_code)
{
	uint8_t *f = NULL;
	size_t len = 0;
	int rc = encode(m, &f, &len);

	if (!rc && len > l->peer_max_frame && m->hdr.kind == IQP_KIND_REPLY) {
		struct iqp_msg e;
		free(f);
		f = NULL;
		err_code = 533;
		rc = iqp_link_msg_start(&e, IQP_KIND_REPLY, IQP_FLAG_E, m->hdr.code, m->hdr.txid,
					ARENA_SMALL);
		if (!rc) {
			iqp_link_reg_add_error(&e, err_code, "reply exceeds MAX_FRAME", 0);
			rc = encode(&e, &f, &len);
			iqp_msg_free(&e);
		}
	}
	if (rc)
		return rc;
	rc = iqp_link_xmit(l, now, f, len);
	iqp_txn_answered(&l->txn, f, len, err_code, now);
	free(f);
	return rc;
}

/* An error REPLY (REQUEST) or ACK with ERROR (NOTIFY) for frame h; verr
 * carries 4.4's ERROR_ELEMENT/ERROR_OFFSET when the body was refused. */
void iqp_link_send_error(struct iqp_link *l, uint64_t now,
			 const struct iqp_header *h, unsigned code,
			 const char *text, const struct iqp_error *verr)
{
	bool req = h->kind == IQP_KIND_REQUEST;
	struct iqp_msg m;

	if (iqp_link_msg_start(&m, req ? IQP_KIND_REPLY : IQP_KIND_ACK, req ? IQP_FLAG_E : 0,
			       h->code, h->txid, ARENA_SMALL))
		return;
	if (verr)
		iqp_add_error(&m, verr);
	else
		iqp_link_reg_add_error(&m, code, text, 0);
	if (h->code == IQP_MSG_REGISTER && code == IQP_ERR_VERSION)
		for (size_t i = 0; i < IQP_LINK_N_VERSIONS; i++)
			iqp_add_u16(&m, NULL, IQP_E_VERSION, iqp_link_versions[i]);
	iqp_link_send_answer(l, now, &m, code);
	iqp_msg_free(&m);
}

int iqp_link_send_request(struct iqp_link *l, uint64_t now, struct iqp_msg *m,
			  void *user)
{
	const struct iqp_msg_def *d = iqp_msg_def_find(m->hdr.code);
	uint8_t *f;
	size_t len;
	bool send_now = false;
	int rc;

	m->hdr.version = IQP_VERSION_MAJOR;
	m->hdr.kind = d && d->kind == IQP_KIND_NOTIFY ? IQP_KIND_NOTIFY : IQP_KIND_REQUEST;
	m->hdr.txid = iqp_txn_alloc_id(&l->txn);
	if ((rc = encode(m, &f, &len)))
		return rc;
	if (len > l->peer_max_frame)
		rc = EMSGSIZE;
	else
		rc = iqp_txn_start(&l->txn, f, len, user, now, &send_now);
	if (!rc && send_now)
		iqp_link_xmit(l, now, f, len); /* a failure is the link's loss */
	free(f);
	return rc;
}

/* After every input: a failed write loses the link; transactions queued
 * behind the peer's window go out as it opens. */
void iqp_link_settle(struct iqp_link *l, uint64_t now)
{
	uint8_t *f;
	size_t len;

	if (l->io_failed && l->conn_up) {
		l->io->close(l->io_arg, 0, NULL);
		iqp_link_lost(l, now, 0, false, "write failed", NULL);
	}
	while (l->conn_up && l->state == IQP_LINK_IN_SERVICE &&
	       iqp_txn_dequeue(&l->txn, now, &f, &len)) {
		iqp_link_xmit(l, now, f, len);
		free(f);
		if (l->io_failed) {
			iqp_link_settle(l, now);
			return;
		}
	}
}

/* --- Transactions completing ------------------------------------------ */

void iqp_link_complete(struct iqp_link *l, uint64_t now, void *user,
		       const struct iqp_msg *m, const struct iqp_error *err)
{
	struct owner_req *q = user;

	if (user == &l->tag_register) {
		iqp_link_register_done(l, now, m, err);
	} else if (user != &l->tag_heartbeat && user != &l->tag_release) {
		q->done(q->arg, l, m, err);
		free(q);
	}
}

static void fail_all(struct iqp_link *l, uint64_t now)
{
	struct iqp_txn_end end;
	struct iqp_error err;

	iqp_error_set(&err, IQP_ERR_TIMEOUT, IQP_ACT_LOCAL, "connection lost");
	while (iqp_txn_fail(&l->txn, now, &end))
		if (end.user != &l->tag_register)
			iqp_link_complete(l, now, end.user, NULL, &err);
}

/* --- Connection life (2.5, 7.10) --------------------------------------- */

static uint32_t jitter(struct iqp_link *l, uint32_t range)
{
	/* xorshift64: the jitter only has to decorrelate AGWs. */
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return range ? (uint32_t)(l->rng % (range + 1u)) : 0;
}

/* 2.5 items 1-3: wait min(max, base * 2^n), drawn from [d/2, d]. */
static uint32_t backoff(struct iqp_link *l, uint64_t now, uint32_t at_least)
{
	uint32_t base = or_def(l->cfg.backoff_base, IQP_T_BACKOFF_BASE_MS);
	uint32_t max = or_def(l->cfg.backoff_max, IQP_T_BACKOFF_MAX_MS);
	uint64_t d = (uint64_t)base << (l->attempt < 20 ? l->attempt : 20);
	uint32_t wait;

	if (d > max)
		d = max;
	wait = (uint32_t)(d / 2) + jitter(l, (uint32_t)(d - d / 2));
	if (wait < at_least)
		wait = at_least;
	if (l->attempt < 32)
		l->attempt++;
	l->target = (l->target + 1) % l->cfg.n_targets;
	l->t_state = now + wait;
	return wait;
}

static void connect_now(struct iqp_link *l, uint64_t now)
{
	struct iqp_link_event ev = { .type = IQP_LEV_CONNECTING, .target = l->target,
				     .redirect = iqp_link_redirect_target(l) };

	iqp_link_set_state(l, IQP_LINK_CONNECTING);
	l->connecting = true;
	l->t_state = now + or_def(l->cfg.t_connect, IQP_T_CONNECT_MS);
	iqp_link_emit(l, &ev);
	l->io->connect(l->io_arg, l->target, ev.redirect);
}

/* --- Redirect and handoff (7.4) ----------------------------------------- */

const struct iqp_redirect *iqp_link_redirect_target(const struct iqp_link *l)
{
	return l->redir_at < l->n_redir ? &l->redir[l->redir_at] : NULL;
}

void iqp_link_redirect_follow(struct iqp_link *l, const struct iqp_redirect *t, size_t n,
			      unsigned code)
{
	struct iqp_link_event ev = { .type = IQP_LEV_REDIRECTED, .code = code };

	if (n > IQP_MAX_REDIRECT_TARGETS)
		n = IQP_MAX_REDIRECT_TARGETS;
	memmove(l->redir, t, n * sizeof(*t)); /* t may be l->redir itself */
	l->n_redir = (uint8_t)n;
	l->redir_at = 0;
	l->handoff = true; /* 7.2.1: HANDOFF 903, epoch unchanged */
	l->redirects++;
	ev.target = n;
	ev.redirect = &l->redir[0];
	iqp_link_emit(l, &ev);
}

void iqp_link_redirect_end(struct iqp_link *l)
{
	l->n_redir = l->redir_at = 0;
	l->handoff = false;
	l->redirects = 0;
}

int iqp_link_handoff(struct iqp_link *l, uint64_t now, const struct iqp_redirect *t,
		     size_t n)
{
	struct retry r = { RETRY_NOW, 0 };

	if (!iqp_link_is_agw(l) || !n)
		return EINVAL;
	if (!l->conn_up || l->state != IQP_LINK_IN_SERVICE)
		return ENOTCONN;
	iqp_link_redirect_follow(l, t, n, 903);
	iqp_link_drop(l, now, IQP_ERR_NORMAL_CLOSE, "handoff ordered by the controller", &r);
	iqp_link_settle(l, now);
	return 0;
}

/* The connection is gone (closed by us, by the peer, or failed). */
void iqp_link_lost(struct iqp_link *l, uint64_t now, unsigned code, bool remote,
		   const char *text, const struct retry *r)
{
	struct iqp_link_event ev = { .type = l->state == IQP_LINK_IN_SERVICE
						     ? IQP_LEV_LOST : IQP_LEV_FAILED,
				     .code = code, .remote = remote, .text = text,
				     .peer = &l->peer };

	if (!l->conn_up && !l->connecting)
		return;
	l->conn_up = l->connecting = l->io_failed = false;
	l->t_state = T_OFF;
	fail_all(l, now);
	if (!iqp_link_is_agw(l) || l->stopping) {
		iqp_link_emit(l, &ev);
		iqp_link_set_state(l, iqp_link_is_agw(l) ? IQP_LINK_IDLE : IQP_LINK_CLOSED);
		return;
	}
	if (l->in_service_since && now - l->in_service_since >= IQP_BACKOFF_RESET_MS)
		l->attempt = 0; /* 2.5 item 3 */
	l->in_service_since = 0;
	if (r && r->mode == RETRY_NOW) {
		l->t_state = now; /* same target, at once (2.5 item 4) */
	} else if (l->redir_at + 1u < l->n_redir) {
		l->redir_at++; /* 7.4 item 1: the next redirect target, at once */
		l->t_state = now;
	} else {
		/* All redirect targets failed: the configured list again. */
		iqp_link_redirect_end(l);
		ev.wait_ms = backoff(l, now, r ? r->at_least : 0);
	}
	ev.target = l->target;
	ev.redirect = iqp_link_redirect_target(l);
	iqp_link_emit(l, &ev);
	iqp_link_set_state(l, IQP_LINK_CONNECTING);
}

/* We close the connection, with CLOSE `code` when not 0. */
void iqp_link_drop(struct iqp_link *l, uint64_t now, unsigned code,
		   const char *text, const struct retry *r)
{
	if (!l->conn_up && !l->connecting)
		return;
	l->io->close(l->io_arg, code, text);
	iqp_link_lost(l, now, code, false, text, r);
}

/* --- Public ---------------------------------------------------------- */

int iqp_link_init(struct iqp_link *l, const struct iqp_link_cfg *cfg,
		  const struct iqp_link_io *io, void *io_arg,
		  const struct iqp_link_hooks *hooks, void *hook_arg)
{
	if ((cfg->role != IQP_ROLE_AGW && cfg->role != IQP_ROLE_CONTROLLER) ||
	    !cfg->self || (cfg->role == IQP_ROLE_AGW && !cfg->n_targets))
		return EINVAL;
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->io = io;
	l->io_arg = io_arg;
	l->hooks = hooks;
	l->hook_arg = hook_arg;
	l->state = IQP_LINK_IDLE;
	l->t_state = T_OFF;
	l->peer_max_frame = IQP_MAX_FRAME_MIN;
	l->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
	iqp_txn_init(&l->txn);
	return 0;
}

void iqp_link_free(struct iqp_link *l, uint64_t now)
{
	l->conn_up = l->connecting = false;
	fail_all(l, now);
	iqp_txn_free(&l->txn);
}

void iqp_link_start(struct iqp_link *l, uint64_t now)
{
	if (l->state != IQP_LINK_IDLE)
		return;
	if (iqp_link_is_agw(l)) {
		l->target = 0;
		iqp_link_redirect_end(l);
		connect_now(l, now);
		return;
	}
	/* 7.1.2: accepted; 6.7 item 5: one transaction before registration. */
	l->conn_up = true;
	l->last_rx = l->last_tx = now;
	l->txn.max_outstanding = l->txn.peer_max_outstanding = 1;
	l->t_state = now + or_def(l->cfg.t_reg_wait, IQP_T_REG_WAIT_MS);
	iqp_link_set_state(l, IQP_LINK_REGISTERING);
}

void iqp_link_connected(struct iqp_link *l, uint64_t now)
{
	if (!l->connecting)
		return;
	l->connecting = false;
	l->conn_up = true;
	l->t_state = T_OFF;
	l->last_rx = l->last_tx = now;
	l->peer_max_frame = IQP_MAX_FRAME_MIN;
	l->txn.max_outstanding = l->txn.peer_max_outstanding = 1;
	/* T_REG is the REGISTER's transaction timer (7.1.1, 14.1). */
	l->txn.t_txn = or_def(l->cfg.t_reg, IQP_T_REG_MS);
	iqp_link_set_state(l, IQP_LINK_REGISTERING);
	iqp_link_register_send(l, now);
	iqp_link_settle(l, now);
}

void iqp_link_conn_down(struct iqp_link *l, uint64_t now, unsigned code,
			const char *text)
{
	iqp_link_lost(l, now, code, false, text, NULL);
	iqp_link_settle(l, now);
}

/* 7.5 item 1: HEARTBEAT, with LOAD from the AGW. */
static void heartbeat(struct iqp_link *l, uint64_t now)
{
	struct iqp_load load;
	struct iqp_msg m;

	if (iqp_link_msg_start(&m, IQP_KIND_REQUEST, 0, IQP_MSG_HEARTBEAT, 0, ARENA_SMALL))
		return;
	if (iqp_link_is_agw(l) && l->hooks->load) {
		l->hooks->load(l->hook_arg, &load);
		iqp_link_reg_add_load(&m, NULL, &load);
	}
	if (iqp_link_send_request(l, now, &m, &l->tag_heartbeat) == EBUSY)
		l->last_tx = now; /* one in flight already (6.7 item 1) */
	iqp_msg_free(&m);
}

/* T_CONNECT, the backoff wait, T_REG_WAIT. */
static void state_timer(struct iqp_link *l, uint64_t now)
{
	l->t_state = T_OFF;
	if (iqp_link_is_agw(l) && l->state == IQP_LINK_CONNECTING) {
		if (!l->connecting) {
			connect_now(l, now);
			return;
		}
		l->io->close(l->io_arg, 0, NULL);
		iqp_link_lost(l, now, 0, false, "connection setup timeout (T_CONNECT)", NULL);
	} else if (!iqp_link_is_agw(l) && l->state == IQP_LINK_REGISTERING) {
		iqp_link_drop(l, now, IQP_ERR_REG_TIMEOUT, "no REGISTER (T_REG_WAIT)", NULL);
	}
}

void iqp_link_tick(struct iqp_link *l, uint64_t now)
{
	struct iqp_txn_end end;
	struct iqp_error err;
	bool probe = false;

	iqp_error_set(&err, IQP_ERR_TIMEOUT, IQP_ACT_LOCAL, "transaction timed out");
	while (iqp_txn_expire(&l->txn, now, &end)) {
		struct iqp_link_event ev = { .type = IQP_LEV_TIMEOUT,
					     .code = IQP_ERR_TIMEOUT, .msg_code = end.code };
		iqp_link_emit(l, &ev);
		if (end.user == &l->tag_register) { /* T_REG (7.1.1) */
			iqp_link_drop(l, now, 0, "no answer to REGISTER (T_REG)", NULL);
			break;
		}
		iqp_link_complete(l, now, end.user, NULL, &err);
		probe = true; /* 6.2 item 3: test the link */
	}
	/* 6.3: PENDING every T_PEND while a command of the peer runs; after
	 * N_PEND of them, 506 (the owner's late answer is then refused). */
	uint32_t txid;
	uint16_t code;
	bool give_up;
	while (iqp_txn_pend_due(&l->txn, now, &txid, &code, &give_up)) {
		struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_REQUEST,
					.code = code, .txid = txid };
		if (give_up)
			iqp_link_send_error(l, now, &h, IQP_ERR_PENDINGS,
					    "command not completed after N_PEND PENDINGs", NULL);
		else
			iqp_link_send_header(l, now, IQP_KIND_PENDING, code, txid);
	}
	if (l->t_state != T_OFF && now >= l->t_state)
		state_timer(l, now);
	if (l->state == IQP_LINK_IN_SERVICE && l->conn_up) {
		if (now >= l->last_rx + 3ull * l->hb_interval) /* T_INACT, 7.5 */
			iqp_link_drop(l, now, IQP_ERR_INACTIVITY, "inactivity timeout (T_INACT)",
				      NULL);
		else if (probe || now >= l->last_tx + l->hb_interval)
			heartbeat(l, now);
	}
	iqp_link_settle(l, now);
}

uint64_t iqp_link_deadline(const struct iqp_link *l)
{
	uint64_t d = min64(l->t_state, iqp_txn_next_deadline(&l->txn));

	if (l->state == IQP_LINK_IN_SERVICE && l->conn_up) {
		d = min64(d, l->last_rx + 3ull * l->hb_interval);
		d = min64(d, l->last_tx + l->hb_interval);
	}
	return d;
}

void iqp_link_stop(struct iqp_link *l, uint64_t now, unsigned code,
		   const char *text)
{
	if (l->stopping)
		return;
	l->stopping = true;
	l->t_state = T_OFF;
	iqp_link_drop(l, now, code, text, NULL); /* iqp_link_lost() moves to the end state */
	iqp_link_set_state(l, iqp_link_is_agw(l) ? IQP_LINK_IDLE : IQP_LINK_CLOSED);
}

int iqp_link_request(struct iqp_link *l, uint64_t now, struct iqp_msg *req,
		     iqp_link_done_h *done, void *arg)
{
	struct owner_req *q;
	int rc;

	if (!l->conn_up || l->state != IQP_LINK_IN_SERVICE)
		return ENOTCONN;
	if (!(q = malloc(sizeof(*q))))
		return ENOMEM;
	q->done = done;
	q->arg = arg;
	if ((rc = iqp_link_send_request(l, now, req, q))) {
		free(q);
		return rc;
	}
	iqp_link_settle(l, now);
	return 0;
}

int iqp_link_answer(struct iqp_link *l, uint64_t now, struct iqp_msg *ans,
		    unsigned err_code)
{
	/* Too late: answered with 506 after N_PEND (6.3 item 3). */
	if (!iqp_txn_awaits_answer(&l->txn, ans->hdr.kind, ans->hdr.code, ans->hdr.txid))
		return EALREADY;
	int rc = iqp_link_send_answer(l, now, ans, err_code);
	iqp_link_settle(l, now);
	return rc;
}
