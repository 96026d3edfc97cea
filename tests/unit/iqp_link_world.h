/* The simulated Iq+ link of the link tests (test_iqp_link.c,
 * test_iqp_link_txn.c): an AGW link and a controller link joined by a
 * simulated connection, driven by frames and timer events with time
 * passed in.  Functions are static inline: each program uses some. */
#ifndef TESTS_IQP_LINK_WORLD_H
#define TESTS_IQP_LINK_WORLD_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iq_realm.h"
#include "iqp_conn.h"
#include "iqp_link.h"
#include "iqp_tls.h"
#include "iqp_validate.h"


#define MAXQ 64
#define MAXEV 512
#define HB 1000u

struct world;

struct end {
	struct iqp_link l;
	struct world *w;
	bool inited;
	struct iqp_node_info self;
	struct end *peer;
	bool up;                       /* connection attached */
	bool eof;                      /* closed: the peer sees the end after the queue */
	bool drop_out;                 /* what it sends is lost */
	struct {
		uint8_t b[8192];
		size_t n;
	} q[MAXQ];
	size_t nq;
	unsigned connects, closes, close_code, limits;
	size_t target;
	bool to_redirect;              /* the last connect went to a redirect target */
	struct iqp_redirect redirect;  /* ... this one */
	uint32_t lim_hb, lim_frame;
	unsigned ev[MAXEV], ev_code[MAXEV];
	bool ev_remote[MAXEV];
	size_t nev;
	struct iqp_node_info reg;      /* peer of the last REGISTERED */
	uint64_t old_epoch;
	unsigned authorize_code, admit_code;
	uint32_t retry_after;
	unsigned calls;                /* handler calls */
	uint32_t last_txid;            /* of the last request handled */
	uint16_t last_code;
	bool answer_calls;             /* the handler answers at once */
	unsigned done_calls, done_code;
	uint64_t now;
};

struct world {
	uint64_t now;
	struct end agw, ctl;
	bool listening;                /* connects succeed */
	bool connect_hangs;
	uint64_t ctl_epoch;
	struct iqp_link_hooks agw_hooks, ctl_hooks;
	struct iqp_link_params agw_params;
	/* The controller answers the next redirect_left REGISTERs with
	 * 1300 naming redir_to[0..n_redir_to); a connection to a redirect
	 * target whose port is refuse_port[0 or 1] is refused. */
	unsigned redirect_left;
	struct iqp_redirect redir_to[IQP_MAX_REDIRECT_TARGETS];
	size_t n_redir_to;
	uint16_t refuse_port[2];
};

/* --- Simulated connection -------------------------------------------- */

static inline int io_send(void *arg, const uint8_t *f, size_t len)
{
	struct end *e = arg;

	if (!e->up)
		return ENOTCONN;
	if (e->drop_out)
		return 0;
	assert_true(e->nq < MAXQ && len <= sizeof(e->q[0].b));
	memcpy(e->q[e->nq].b, f, len);
	e->q[e->nq++].n = len;
	return 0;
}

static inline void io_close(void *arg, unsigned code, const char *text)
{
	struct end *e = arg;
	uint8_t f[512];
	size_t n;

	e->closes++;
	e->close_code = code;
	if (e->up && code && !e->drop_out) {
		assert_int_equal(iqp_close_frame(code, text, f, sizeof(f), &n), 0);
		memcpy(e->q[e->nq].b, f, n);
		e->q[e->nq++].n = n;
	}
	if (e->up)
		e->eof = true;
	e->up = false;
}

static inline void io_connect(void *arg, size_t target, const struct iqp_redirect *redirect)
{
	struct end *e = arg;
	e->connects++;
	e->target = target;
	e->to_redirect = redirect != NULL;
	if (redirect)
		e->redirect = *redirect;
}

static inline void io_limits(void *arg, uint32_t max_frame, uint8_t major, uint32_t hb)
{
	struct end *e = arg;
	assert_int_equal(major, 1);
	e->limits++;
	e->lim_frame = max_frame;
	e->lim_hb = hb;
}

static const struct iqp_link_io io = { io_send, io_close, io_connect, io_limits };

/* --- Hooks ------------------------------------------------------------ */

static inline void on_event(void *arg, struct iqp_link *l, const struct iqp_link_event *ev)
{
	struct end *e = arg;
	(void)l;
	assert_true(e->nev < MAXEV);
	e->ev_code[e->nev] = ev->code;
	e->ev_remote[e->nev] = ev->remote;
	e->ev[e->nev++] = ev->type;
	if (ev->type == IQP_LEV_REGISTERED)
		e->reg = *ev->peer;
	if (ev->type == IQP_LEV_PEER_EPOCH)
		e->old_epoch = ev->old_epoch;
}

static inline unsigned on_authorize(void *arg, struct iqp_link *l,
			     const struct iqp_node_info *agw, char *text, size_t len)
{
	struct end *e = arg;
	(void)l;
	(void)agw;
	snprintf(text, len, "not you");
	return e->authorize_code;
}

static inline unsigned on_admit(void *arg, struct iqp_link *l, const struct iqp_node_info *agw,
			 char *text, size_t len, uint32_t *retry_after)
{
	struct end *e = arg;
	(void)l;
	(void)agw;
	if (e->w->redirect_left) {
		e->w->redirect_left--;
		snprintf(text, len, "go elsewhere");
		return IQP_ERR_REDIRECT;
	}
	snprintf(text, len, "busy");
	*retry_after = e->retry_after;
	return e->admit_code;
}

static inline size_t on_redirect(void *arg, struct iqp_link *l, const struct iqp_node_info *agw,
				 struct iqp_redirect *out, size_t max)
{
	struct end *e = arg;
	size_t n = e->w->n_redir_to < max ? e->w->n_redir_to : max;
	(void)l;
	(void)agw;
	memcpy(out, e->w->redir_to, n * sizeof(*out));
	return n;
}

static inline void on_load(void *arg, struct iqp_load *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	out->has = IQP_LOAD_ACTIVE | IQP_LOAD_CPU;
	out->cpu_load = 7;
}

static inline void on_call(void *arg, struct iqp_link *l, const struct iqp_msg *req)
{
	struct end *e = arg;
	struct iqp_header h = { 1, IQP_KIND_REPLY, 0, req->hdr.code, req->hdr.txid, 0 };
	struct iqp_msg r;
	struct iqp_elem *c;

	e->calls++;
	e->last_txid = req->hdr.txid;
	e->last_code = req->hdr.code;
	if (!e->answer_calls)
		return;
	assert_int_equal(iqp_msg_init(&r, &h, NULL, 4096), 0);
	if (req->hdr.code == IQP_MSG_RESERVE) {
		iqp_add_container(&r, NULL, IQP_E_CONTEXT, &c);
		iqp_add_u32(&r, c, IQP_E_CONTEXT_ID, 77);
	} else if (req->hdr.code == IQP_MSG_AUDIT) {
		iqp_add_container(&r, NULL, IQP_E_CAPACITY, &c);
		iqp_add_u32(&r, c, IQP_E_MAX_CONTEXTS, 5);
	}
	assert_int_equal(iqp_link_answer(l, e->now, &r, 0), 0);
	iqp_msg_free(&r);
}

/* --- World ----------------------------------------------------------- */

static inline void self_agw(struct iqp_node_info *s, const char *node, uint64_t epoch)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->node_id, sizeof(s->node_id), "%s", node);
	s->epoch = epoch;
	s->max_contexts = 100;
	s->n_realms = 2;
	snprintf(s->realms[0].name, sizeof(s->realms[0].name), "w3");
	s->realms[0].side = 1;
	s->realms[0].n_addr = 1;
	s->realms[0].addr[0] = (struct iqp_ip){ 4, { 127, 0, 0, 1 } };
	snprintf(s->realms[1].name, sizeof(s->realms[1].name), "ims");
	s->realms[1].side = 2;
	s->realms[1].n_addr = 1;
	s->realms[1].addr[0] = (struct iqp_ip){ 6, { [15] = 1 } };
	s->caps.ice_modes = 1u << 1;
	s->caps.dtls_setups = 1u << 1 | 1u << 2;
	s->caps.n_srtp = 1;
	s->caps.srtp[0] = 1;
	snprintf(s->software, sizeof(s->software), "test agw");
}

static inline void end_init(struct world *w, struct end *e, unsigned role)
{
	struct iqp_link_cfg cfg = { 0 };

	if (e->inited)
		iqp_link_free(&e->l, w->now);
	cfg.role = role;
	cfg.self = &e->self;
	cfg.seed = 42;
	if (role == IQP_ROLE_AGW) {
		cfg.params = w->agw_params;
		cfg.n_targets = 2;
	} else {
		cfg.params.hb_interval = 5000;
		cfg.params.max_frame = 262144;
	}
	assert_int_equal(iqp_link_init(&e->l, &cfg, &io, e,
				       role == IQP_ROLE_AGW ? &w->agw_hooks : &w->ctl_hooks, e), 0);
	e->inited = true;
	e->nq = 0;
	e->up = e->eof = false;
}

static inline void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->now = 1000;
	w->listening = true;
	w->ctl_epoch = 500;
	w->agw.peer = &w->ctl;
	w->ctl.peer = &w->agw;
	w->agw.w = w->ctl.w = w;
	self_agw(&w->agw.self, "agw-1", 1767225600000ull);
	snprintf(w->ctl.self.node_id, sizeof(w->ctl.self.node_id), "pcscf-a");
	w->agw_hooks.event = w->ctl_hooks.event = on_event;
	w->agw_hooks.load = on_load;
	w->ctl_hooks.authorize = on_authorize;
	w->ctl_hooks.admit = on_admit;
	w->ctl_hooks.redirect = on_redirect;
	w->agw_params.hb_interval = HB;
	end_init(w, &w->agw, IQP_ROLE_AGW);
}

static inline void world_free(struct world *w)
{
	iqp_link_free(&w->agw.l, w->now);
	if (w->ctl.inited)
		iqp_link_free(&w->ctl.l, w->now);
}

static inline void deliver(struct world *w, struct end *to, const uint8_t *f, size_t n)
{
	struct iqp_header h;

	iqp_header_decode(f, &h);
	assert_int_equal(h.body_len + IQP_HEADER_LEN, n);
	to->now = w->now;
	iqp_link_frame(&to->l, w->now, &h, n > IQP_HEADER_LEN ? f + IQP_HEADER_LEN : NULL);
}

/* Delivers every queued frame, then connection ends, then connects. */
static inline void pump(struct world *w)
{
	for (int rounds = 0; rounds < 10000; rounds++) {
		bool moved = false;
		struct end *ends[2] = { &w->agw, &w->ctl };
		for (int i = 0; i < 2; i++) {
			struct end *e = ends[i], *p = e->peer;
			if (e->nq) {
				uint8_t f[8192];
				size_t n = e->q[0].n;
				memcpy(f, e->q[0].b, n);
				memmove(&e->q[0], &e->q[1], (e->nq - 1) * sizeof(e->q[0]));
				e->nq--;
				if (p->up)
					deliver(w, p, f, n);
				moved = true;
			} else if (e->eof) {
				e->eof = false;
				if (p->up) {
					p->up = false;
					p->eof = false;
					p->nq = 0;
					iqp_link_conn_down(&p->l, w->now, 0, "closed by peer");
				}
				moved = true;
			}
		}
		/* The AGW asked for a connection. */
		if (w->agw.l.connecting && !w->agw.up && w->agw.connects &&
		    !w->connect_hangs) {
			bool refused = w->agw.to_redirect &&
				       (w->agw.redirect.addr.port == w->refuse_port[0] ||
					w->agw.redirect.addr.port == w->refuse_port[1]);
			if (!w->listening || refused) {
				iqp_link_conn_down(&w->agw.l, w->now, 0, "connection refused");
			} else {
				w->ctl.self.epoch = w->ctl_epoch;
				end_init(w, &w->ctl, IQP_ROLE_CONTROLLER);
				w->ctl.up = w->agw.up = true;
				w->agw.eof = false;
				iqp_link_start(&w->ctl.l, w->now);
				iqp_link_connected(&w->agw.l, w->now);
			}
			moved = true;
		}
		if (!moved)
			return;
	}
	fail_msg("pump does not settle");
}

/* Runs both links until `until`, ticking each at its deadlines. */
static inline void run(struct world *w, uint64_t until)
{
	for (int guard = 0;; guard++) {
		if (guard > 1000000)
			fail_msg("timers do not advance");
		pump(w);
		uint64_t da = iqp_link_deadline(&w->agw.l);
		uint64_t dc = w->ctl.inited ? iqp_link_deadline(&w->ctl.l) : UINT64_MAX;
		uint64_t d = da < dc ? da : dc;
		if (d > until)
			break;
		if (d > w->now)
			w->now = d;
		w->agw.now = w->ctl.now = w->now;
		if (da <= w->now)
			iqp_link_tick(&w->agw.l, w->now);
		if (w->ctl.inited && dc <= w->now)
			iqp_link_tick(&w->ctl.l, w->now);
	}
	if (until > w->now)
		w->now = until;
	pump(w);
}

static inline void start(struct world *w)
{
	iqp_link_start(&w->agw.l, w->now);
	run(w, w->now);
}

static inline size_t count(const struct end *e, unsigned type, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < e->nev; i++)
		n += e->ev[i] == type;
	return n;
}

static inline int last(const struct end *e, unsigned type)
{
	for (size_t i = e->nev; i-- > 0;)
		if (e->ev[i] == type)
			return (int)i;
	return -1;
}

/* Sends a frame straight to e's link (from its peer); the answers stay
 * in e's queue for take(). */
static inline void inject(struct world *w, struct end *e, unsigned kind, unsigned code,
		   uint32_t txid, void (*body)(struct iqp_msg *))
{
	struct iqp_header h = { 1, (uint8_t)kind, 0, (uint16_t)code, txid, 0 };
	struct iqp_msg m;
	uint8_t f[4096];
	size_t n;

	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	if (body)
		body(&m);
	assert_int_equal(iqp_msg_encode(&m, f, sizeof(f), &n), 0);
	iqp_msg_free(&m);
	deliver(w, e, f, n);
}

/* The first frame e sent, decoded as its peer would (m freed by caller). */
static inline struct iqp_header take(struct end *e, struct iqp_msg *m, uint8_t *keep)
{
	struct iqp_header h;
	struct iqp_error err;
	unsigned role = e->l.cfg.role;

	assert_true(e->nq > 0);
	memcpy(keep, e->q[0].b, e->q[0].n);
	iqp_header_decode(keep, &h);
	memmove(&e->q[0], &e->q[1], (e->nq - 1) * sizeof(e->q[0]));
	e->nq--;
	if (h.kind == IQP_KIND_CLOSE)
		assert_int_equal(iqp_msg_parse(m, &h, keep + IQP_HEADER_LEN, NULL, 0, &err), 0);
	else
		assert_int_equal(iqp_msg_decode(m, &h, keep + IQP_HEADER_LEN, role, 0, NULL, 0,
						&err), 0);
	return h;
}

static inline unsigned error_code(const struct iqp_msg *m, unsigned *scope)
{
	const struct iqp_elem *e = iqp_find(m, NULL, IQP_E_ERROR), *c;
	uint16_t v = 0;
	uint8_t s = 0;

	assert_non_null(e);
	assert_int_equal(iqp_elem_u16(iqp_find(m, e, IQP_E_ERROR_CODE), &v), 0);
	if (scope && (c = iqp_find(m, e, IQP_E_RETRY_SCOPE)))
		iqp_elem_enum(c, &s);
	if (scope)
		*scope = s;
	return v;
}

/* Reads the error of the next frame e sent: kind, code. */
static inline unsigned next_error(struct end *e, unsigned kind, unsigned *scope)
{
	struct iqp_msg m;
	uint8_t keep[8192];
	struct iqp_header h = take(e, &m, keep);
	unsigned code;

	assert_int_equal(h.kind, kind);
	if (kind == IQP_KIND_REPLY)
		assert_true(h.flags & IQP_FLAG_E);
	code = error_code(&m, scope);
	iqp_msg_free(&m);
	return code;
}


#endif
