/* The Iq+ link (SPEC.md 2.2, 2.5, 5.2, 6.7, 6.9, 7.1-7.5, 7.9, 7.10): an
 * AGW link and a controller link joined by a simulated connection, driven
 * by frames and timer events with time passed in; REGISTER content against
 * Appendix A; TLS sessions over memory BIOs with pinned fingerprints; the
 * AGW's realm setting. */
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

struct end {
	struct iqp_link l;
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
};

/* --- Simulated connection -------------------------------------------- */

static int io_send(void *arg, const uint8_t *f, size_t len)
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

static void io_close(void *arg, unsigned code, const char *text)
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

static void io_connect(void *arg, size_t target)
{
	struct end *e = arg;
	e->connects++;
	e->target = target;
}

static void io_limits(void *arg, uint32_t max_frame, uint8_t major, uint32_t hb)
{
	struct end *e = arg;
	assert_int_equal(major, 1);
	e->limits++;
	e->lim_frame = max_frame;
	e->lim_hb = hb;
}

static const struct iqp_link_io io = { io_send, io_close, io_connect, io_limits };

/* --- Hooks ------------------------------------------------------------ */

static void on_event(void *arg, struct iqp_link *l, const struct iqp_link_event *ev)
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

static unsigned on_authorize(void *arg, struct iqp_link *l,
			     const struct iqp_node_info *agw, char *text, size_t len)
{
	struct end *e = arg;
	(void)l;
	(void)agw;
	snprintf(text, len, "not you");
	return e->authorize_code;
}

static unsigned on_admit(void *arg, struct iqp_link *l, const struct iqp_node_info *agw,
			 char *text, size_t len, uint32_t *retry_after)
{
	struct end *e = arg;
	(void)l;
	(void)agw;
	snprintf(text, len, "busy");
	*retry_after = e->retry_after;
	return e->admit_code;
}

static void on_load(void *arg, struct iqp_load *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	out->has = IQP_LOAD_ACTIVE | IQP_LOAD_CPU;
	out->cpu_load = 7;
}

static void on_call(void *arg, struct iqp_link *l, const struct iqp_msg *req)
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

static void self_agw(struct iqp_node_info *s, const char *node, uint64_t epoch)
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

static void end_init(struct world *w, struct end *e, unsigned role)
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

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->now = 1000;
	w->listening = true;
	w->ctl_epoch = 500;
	w->agw.peer = &w->ctl;
	w->ctl.peer = &w->agw;
	self_agw(&w->agw.self, "agw-1", 1767225600000ull);
	snprintf(w->ctl.self.node_id, sizeof(w->ctl.self.node_id), "pcscf-a");
	w->agw_hooks.event = w->ctl_hooks.event = on_event;
	w->agw_hooks.load = on_load;
	w->ctl_hooks.authorize = on_authorize;
	w->ctl_hooks.admit = on_admit;
	w->agw_params.hb_interval = HB;
	end_init(w, &w->agw, IQP_ROLE_AGW);
}

static void world_free(struct world *w)
{
	iqp_link_free(&w->agw.l, w->now);
	if (w->ctl.inited)
		iqp_link_free(&w->ctl.l, w->now);
}

static void deliver(struct world *w, struct end *to, const uint8_t *f, size_t n)
{
	struct iqp_header h;

	iqp_header_decode(f, &h);
	assert_int_equal(h.body_len + IQP_HEADER_LEN, n);
	to->now = w->now;
	iqp_link_frame(&to->l, w->now, &h, n > IQP_HEADER_LEN ? f + IQP_HEADER_LEN : NULL);
}

/* Delivers every queued frame, then connection ends, then connects. */
static void pump(struct world *w)
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
			if (!w->listening) {
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
static void run(struct world *w, uint64_t until)
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

static void start(struct world *w)
{
	iqp_link_start(&w->agw.l, w->now);
	run(w, w->now);
}

static size_t count(const struct end *e, unsigned type, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < e->nev; i++)
		n += e->ev[i] == type;
	return n;
}

static int last(const struct end *e, unsigned type)
{
	for (size_t i = e->nev; i-- > 0;)
		if (e->ev[i] == type)
			return (int)i;
	return -1;
}

/* Sends a frame straight to e's link (from its peer); the answers stay
 * in e's queue for take(). */
static void inject(struct world *w, struct end *e, unsigned kind, unsigned code,
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
static struct iqp_header take(struct end *e, struct iqp_msg *m, uint8_t *keep)
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

static unsigned error_code(const struct iqp_msg *m, unsigned *scope)
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
static unsigned next_error(struct end *e, unsigned kind, unsigned *scope)
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

/* --- Tests ---------------------------------------------------------- */

/* 7.2: registration content both ways; 7.5: heartbeats keep the link up. */
static void test_register_heartbeat(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	start(&w);
	assert_int_equal(w.agw.connects, 1);
	assert_int_equal(w.agw.target, 0);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	/* What the controller learnt. */
	assert_string_equal(w.ctl.reg.node_id, "agw-1");
	assert_int_equal(w.ctl.reg.epoch, 1767225600000ull);
	assert_int_equal(w.ctl.reg.sc_method, IQP_SC_RESTART);
	assert_int_equal(w.ctl.reg.sc_reason, 901);
	assert_int_equal(w.ctl.reg.n_realms, 2);
	assert_string_equal(w.ctl.reg.realms[1].name, "ims");
	assert_int_equal(w.ctl.reg.realms[1].addr[0].family, 6);
	assert_int_equal(w.ctl.reg.caps.srtp[0], 1);
	assert_true(w.ctl.reg.has_load);
	assert_int_equal(w.ctl.reg.load.cpu_load, 7);
	assert_string_equal(w.ctl.reg.software, "test agw");
	/* What the AGW learnt; the AGW's HB_INTERVAL proposal decided. */
	assert_string_equal(w.agw.reg.node_id, "pcscf-a");
	assert_int_equal(w.agw.reg.epoch, 500);
	assert_int_equal(w.agw.l.hb_interval, HB);
	assert_int_equal(w.ctl.l.hb_interval, HB);
	assert_int_equal(w.agw.l.version, IQP_VERSION_1_0);
	assert_int_equal(w.agw.lim_hb, HB);
	assert_int_equal(w.ctl.lim_frame, 262144);
	assert_int_equal(w.agw.l.peer_max_frame, 262144); /* the controller's */
	assert_int_equal(w.agw.l.txn.peer_max_outstanding, IQP_MAX_OUTSTANDING);

	/* Twenty intervals: heartbeats, no loss. */
	size_t from_a = w.agw.nev, from_c = w.ctl.nev;
	run(&w, w.now + 20 * HB);
	assert_int_equal(count(&w.agw, IQP_LEV_LOST, from_a), 0);
	assert_int_equal(count(&w.ctl, IQP_LEV_LOST, from_c), 0);
	assert_true(count(&w.agw, IQP_LEV_HEARTBEAT, from_a) +
		    count(&w.ctl, IQP_LEV_HEARTBEAT, from_c) >= 19);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	world_free(&w);
}

/* 7.5 item 2, 7.10, 2.5: a silent AGW is closed with 1104; the AGW backs
 * off, tries the next target, and registers again, DISCONNECTED/900 with
 * its epoch (7.2.1). */
static void test_inactivity_reconnect(void **state)
{
	struct world w;
	uint64_t t0;
	int i;
	(void)state;

	world_init(&w);
	start(&w);
	w.agw.drop_out = true;
	t0 = w.now;
	run(&w, t0 + 3 * HB - 1);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	w.listening = false;
	run(&w, t0 + 3 * HB);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);
	assert_int_equal(w.ctl.close_code, IQP_ERR_INACTIVITY);
	i = last(&w.ctl, IQP_LEV_LOST);
	assert_true(i >= 0);
	assert_int_equal(w.ctl.ev_code[i], 1104);
	/* The AGW got the CLOSE: link loss with the peer's code. */
	i = last(&w.agw, IQP_LEV_LOST);
	assert_true(i >= 0);
	assert_int_equal(w.agw.ev_code[i], 1104);
	assert_true(w.agw.ev_remote[i]);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	/* n = 0: wait in [250, 500] ms, then the next target. */
	assert_true(w.agw.l.t_state >= w.now + 250 && w.agw.l.t_state <= w.now + 500);
	w.agw.drop_out = false;
	w.listening = true;
	run(&w, w.now + 600);
	assert_int_equal(w.agw.connects, 2);
	assert_int_equal(w.agw.target, 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.ctl.reg.sc_method, IQP_SC_DISCONNECTED);
	assert_int_equal(w.ctl.reg.sc_reason, 900);
	assert_int_equal(w.ctl.reg.epoch, 1767225600000ull);
	/* Same controller epoch: no restart seen by the AGW. */
	assert_int_equal(count(&w.agw, IQP_LEV_PEER_EPOCH, 0), 0);
	world_free(&w);
}

/* 7.9 items 4-5: another controller epoch is reported and flushes. */
static void test_controller_epoch(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	start(&w);
	w.ctl_epoch = 900;
	iqp_link_stop(&w.ctl.l, w.now, IQP_ERR_NORMAL_CLOSE, "restart");
	run(&w, w.now + 1000);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(count(&w.agw, IQP_LEV_PEER_EPOCH, 0), 1);
	assert_int_equal(w.agw.old_epoch, 500);
	assert_int_equal(w.agw.reg.epoch, 900);
	world_free(&w);
}

static void body_load(struct iqp_msg *m)
{
	struct iqp_load l = { .has = IQP_LOAD_ACTIVE, .active_contexts = 3 };
	iqp_link_reg_add_load(m, NULL, &l);
}

/* 6.9: before registration only REGISTER; CLOSE 401 at the 4th other
 * frame; T_REG_WAIT gives CLOSE 1105. */
static void test_before_registration(void **state)
{
	struct world w;
	unsigned scope;
	(void)state;

	world_init(&w);
	w.ctl.self.epoch = 1;
	end_init(&w, &w.ctl, IQP_ROLE_CONTROLLER);
	w.ctl.up = true;
	iqp_link_start(&w.ctl.l, w.now);
	assert_int_equal(w.ctl.l.state, IQP_LINK_REGISTERING);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 1, body_load);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_REPLY, &scope), 505);
	assert_int_equal(scope, IQP_RETRY_SAME);
	inject(&w, &w.ctl, IQP_KIND_NOTIFY, IQP_MSG_NODE_STATUS, 2, body_load);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_ACK, NULL), 505);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 3, NULL);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_REPLY, NULL), 505);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, 4, NULL);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_CLOSE, NULL), 401);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);

	/* Silence: T_REG_WAIT. */
	end_init(&w, &w.ctl, IQP_ROLE_CONTROLLER);
	w.ctl.up = true;
	iqp_link_start(&w.ctl.l, w.now);
	assert_int_equal(iqp_link_deadline(&w.ctl.l), w.now + IQP_T_REG_WAIT_MS);
	w.now += IQP_T_REG_WAIT_MS;
	iqp_link_tick(&w.ctl.l, w.now);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_CLOSE, NULL), 1105);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);
	world_free(&w);
}

static void body_reserve(struct iqp_msg *m)
{
	struct iqp_elem *c, *t, *s, *cod;
	iqp_add_container(m, NULL, IQP_E_CONTEXT, &c);
	iqp_add_u32(m, c, IQP_E_CONTEXT_ID, IQP_CHOOSE);
	iqp_add_container(m, c, IQP_E_TERMINATION, &t);
	iqp_add_u32(m, t, IQP_E_TERM_ID, IQP_CHOOSE);
	iqp_add_enum(m, t, IQP_E_TERM_KIND, IQP_TERM_IMS);
	iqp_add_str(m, t, IQP_E_REALM_NAME, "ims");
	iqp_add_container(m, t, IQP_E_STREAM, &s);
	iqp_add_u16(m, s, IQP_E_STREAM_ID, 1);
	iqp_add_enum(m, s, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(m, s, IQP_E_TRANSPORT_PROTO, 1);
	iqp_add_container(m, s, IQP_E_CODEC, &cod);
	iqp_add_u8(m, cod, IQP_E_PAYLOAD_TYPE, 0);
	iqp_add_str(m, cod, IQP_E_CODEC_NAME, "PCMU");
	iqp_add_u32(m, cod, IQP_E_CLOCK_RATE, 8000);
	assert_int_equal(m->err, 0);
}

static void body_register(struct iqp_msg *m)
{
	struct iqp_node_info s;
	self_agw(&s, "agw-1", 5);
	s.n_versions = 1;
	s.versions[0] = IQP_VERSION_1_0;
	s.sc_method = IQP_SC_RESTART;
	s.sc_reason = 901;
	assert_int_equal(iqp_link_reg_build_request(m, &s), 0);
}

/* 6.9 item 4, 10.3: a second REGISTER gets 401; requests without a
 * handler get 501 (scope OTHER); both leave the link up. */
static void test_second_register_501(void **state)
{
	struct world w;
	unsigned scope;
	(void)state;

	world_init(&w);
	start(&w);
	inject(&w, &w.ctl, IQP_KIND_REQUEST, IQP_MSG_REGISTER, 99, body_register);
	assert_int_equal(next_error(&w.ctl, IQP_KIND_REPLY, NULL), 401);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 42, body_reserve);
	assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, &scope), IQP_ERR_NOT_IMPLEMENTED);
	assert_int_equal(scope, IQP_RETRY_OTHER);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 43, NULL);
	/* Body refused first (4.4): SC_METHOD and SC_REASON are missing. */
	assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, NULL), 472);
	/* 3.5 check 9: REGISTER from the controller. */
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_REGISTER, 44, body_register);
	assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, NULL), 402);
	assert_int_equal(w.agw.l.state, IQP_LINK_IN_SERVICE);
	assert_int_equal(w.agw.closes, 0);
	world_free(&w);
}

/* A handler answers; a repeated txid gets the cached reply byte for byte
 * without a second call (6.5); one still running gets PENDING. */
static void test_handler_cache(void **state)
{
	struct world w;
	struct iqp_msg m;
	uint8_t first[8192], again[8192];
	size_t n1;
	struct iqp_header h;
	(void)state;

	world_init(&w);
	w.agw_hooks.calls.reserve = on_call;
	w.agw.answer_calls = true;
	start(&w);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 42, body_reserve);
	assert_int_equal(w.agw.calls, 1);
	n1 = w.agw.q[0].n;
	h = take(&w.agw, &m, first);
	assert_int_equal(h.kind, IQP_KIND_REPLY);
	assert_false(h.flags & IQP_FLAG_E);
	iqp_msg_free(&m);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 42, body_reserve);
	assert_int_equal(w.agw.calls, 1);
	assert_int_equal(w.agw.q[0].n, n1);
	h = take(&w.agw, &m, again);
	assert_memory_equal(first, again, n1);
	iqp_msg_free(&m);

	w.agw.answer_calls = false;
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 43, body_reserve);
	assert_int_equal(w.agw.calls, 2);
	assert_int_equal(w.agw.nq, 0);
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 43, body_reserve);
	assert_int_equal(w.agw.calls, 2);
	h = take(&w.agw, &m, again);
	assert_int_equal(h.kind, IQP_KIND_PENDING);
	assert_int_equal(h.txid, 43);
	iqp_msg_free(&m);
	world_free(&w);
}

/* 6.7 items 3-4 on a link: 1200, then CLOSE 1200. */
static void test_flood(void **state)
{
	struct world w;
	(void)state;

	world_init(&w);
	w.agw_params.max_outstanding = 2;
	end_init(&w, &w.agw, IQP_ROLE_AGW);
	w.agw_hooks.calls.reserve = on_call;
	start(&w);
	for (uint32_t id = 1; id <= 2; id++)
		inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id, body_reserve);
	assert_int_equal(w.agw.calls, 2);
	for (uint32_t id = 3; id <= 4; id++) {
		inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, id, body_reserve);
		assert_int_equal(next_error(&w.agw, IQP_KIND_REPLY, NULL), 1200);
	}
	inject(&w, &w.agw, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 5, body_reserve);
	assert_int_equal(next_error(&w.agw, IQP_KIND_CLOSE, NULL), 1200);
	assert_int_equal(w.agw.calls, 2);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	world_free(&w);
}

static void done_cb(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		    const struct iqp_error *err)
{
	struct end *e = arg;
	(void)l;
	e->done_calls++;
	e->done_code = err ? err->code : 0;
	if (!err)
		assert_non_null(iqp_find(reply, NULL, IQP_E_CAPACITY));
}

/* The owner's requests: answered; kept alive by the responder's PENDINGs
 * while its owner has not answered, then answered 506 by the responder's
 * link after N_PEND (6.3); completed locally with 1202 after T_TXN when
 * nothing comes back (6.2 item 3). */
static void test_owner_request(void **state)
{
	struct world w;
	struct iqp_header h = { 1, 0, 0, IQP_MSG_AUDIT, 0, 0 };
	struct iqp_msg m;
	size_t from;
	(void)state;

	world_init(&w);
	w.agw_hooks.calls.audit = on_call;
	w.agw.answer_calls = true;
	start(&w);
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 1024), 0);
	iqp_add_enum(&m, NULL, IQP_E_AUDIT_SCOPE, IQP_AUDIT_CAPABILITIES);
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	run(&w, w.now);
	assert_int_equal(w.ctl.done_calls, 1);
	assert_int_equal(w.ctl.done_code, 0);

	w.agw.answer_calls = false;
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	from = w.ctl.nev;
	run(&w, w.now + 2 * IQP_T_TXN_MS);
	assert_int_equal(w.ctl.done_calls, 1);  /* PENDINGs restart T_TXN */
	run(&w, w.now + IQP_N_PEND * IQP_T_PEND_MS);
	assert_int_equal(w.ctl.done_calls, 2);
	assert_int_equal(w.ctl.done_code, IQP_ERR_PENDINGS);
	assert_int_equal(count(&w.ctl, IQP_LEV_TIMEOUT, from), 0);

	/* Nothing comes back (the responder's frames are lost for less than
	 * T_INACT, 3 s here, so T_TXN is shortened to 2 s): 1202 after T_TXN. */
	w.ctl.l.txn.t_txn = 2000;
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	w.agw.drop_out = true;
	run(&w, w.now + 2000);
	w.agw.drop_out = false;
	assert_int_equal(w.ctl.done_calls, 3);
	assert_int_equal(w.ctl.done_code, IQP_ERR_TIMEOUT);
	assert_int_equal(count(&w.ctl, IQP_LEV_TIMEOUT, from), 1);
	run(&w, w.now + 10);
	assert_int_equal(w.ctl.l.state, IQP_LINK_IN_SERVICE);
	/* Not registered: refused at once. */
	iqp_link_stop(&w.ctl.l, w.now, IQP_ERR_NORMAL_CLOSE, NULL);
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), ENOTCONN);
	iqp_msg_free(&m);
	world_free(&w);
}

/* 6.2 item 4: a successful REPLY to a RESERVE the controller abandoned
 * (T_TXN) is followed by a RELEASE of the context it reports. */
static void test_abandoned_reserve_released(void **state)
{
	struct world w;
	struct iqp_header h = { 1, 0, 0, IQP_MSG_RESERVE, 0, 0 };
	struct iqp_msg m, r;
	struct iqp_elem *c;
	size_t from;
	(void)state;

	world_init(&w);
	w.agw_hooks.calls.reserve = on_call;
	w.agw_hooks.calls.release = on_call;
	start(&w);
	w.ctl.l.txn.t_txn = 2000;
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	body_reserve(&m);
	assert_int_equal(iqp_link_request(&w.ctl.l, w.now, &m, done_cb, &w.ctl), 0);
	iqp_msg_free(&m);
	w.agw.drop_out = true; /* its PENDINGs are lost: T_TXN expires */
	run(&w, w.now + 2000);
	w.agw.drop_out = false;
	assert_int_equal(w.ctl.done_calls, 1);
	assert_int_equal(w.ctl.done_code, IQP_ERR_TIMEOUT);
	assert_int_equal(w.agw.calls, 1);
	/* The AGW answers after all: context 77 exists there. */
	from = w.ctl.nev;
	struct iqp_header rh = { 1, IQP_KIND_REPLY, 0, IQP_MSG_RESERVE, w.agw.last_txid, 0 };
	assert_int_equal(iqp_msg_init(&r, &rh, NULL, 4096), 0);
	iqp_add_container(&r, NULL, IQP_E_CONTEXT, &c);
	iqp_add_u32(&r, c, IQP_E_CONTEXT_ID, 77);
	assert_int_equal(iqp_link_answer(&w.agw.l, w.now, &r, 0), 0);
	iqp_msg_free(&r);
	run(&w, w.now + 10);
	assert_int_equal(count(&w.ctl, IQP_LEV_DISCARDED, from), 1);
	assert_int_equal(w.agw.calls, 2);
	assert_int_equal(w.agw.last_code, IQP_MSG_RELEASE);
	assert_int_equal(w.ctl.done_calls, 1); /* the owner hears nothing more */
	world_free(&w);
}

/* 7.2.3 checks 2-5 and what the AGW does after each refusal. */
static void test_refusals(void **state)
{
	struct world w;
	int i;
	(void)state;

	/* Check 2: identity, 504; error reply then CLOSE 504. */
	world_init(&w);
	w.ctl.authorize_code = IQP_ERR_FORBIDDEN;
	start(&w);
	assert_int_equal(w.ctl.l.state, IQP_LINK_CLOSED);
	assert_int_equal(w.ctl.close_code, 504);
	i = last(&w.agw, IQP_LEV_REFUSED);
	assert_true(i >= 0);
	assert_int_equal(w.agw.ev_code[i], 504);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_true(w.agw.l.t_state >= w.now + 250);
	world_free(&w);

	/* Check 4: 503 with RETRY_AFTER: the AGW closes (CLOSE 1000) and
	 * waits at least that long (2.5 item 4). */
	world_init(&w);
	w.ctl.admit_code = IQP_ERR_UNAVAILABLE;
	w.ctl.retry_after = 7000;
	start(&w);
	assert_int_equal(w.agw.close_code, IQP_ERR_NORMAL_CLOSE);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	assert_true(w.agw.l.t_state >= w.now + 7000);
	world_free(&w);

	/* Check 5: no IMS realm, 449. */
	world_init(&w);
	w.agw.self.n_realms = 1;
	start(&w);
	assert_int_equal(w.ctl.close_code, 449);
	assert_int_equal(w.agw.ev_code[last(&w.agw, IQP_LEV_REFUSED)], 449);
	world_free(&w);

	/* Check 3: no common version, 406 with the controller's list; the
	 * AGW reconnects at once when it speaks one of them (7.3), at most
	 * MAX_REDIRECTS times in a row, then backs off. */
	world_init(&w);
	w.agw.self.n_versions = 1;
	w.agw.self.versions[0] = 0x0200;
	start(&w);
	assert_int_equal(w.ctl.close_code, 406);
	assert_int_equal(w.agw.connects, 1 + IQP_MAX_REDIRECTS);
	assert_int_equal(count(&w.agw, IQP_LEV_REFUSED, 0), 1 + IQP_MAX_REDIRECTS);
	assert_true(w.agw.l.t_state >= w.now + 250);
	world_free(&w);
}

/* 7.1.1: T_CONNECT and T_REG; 2.5: the backoff doubles to its cap. */
static void test_agw_timers(void **state)
{
	struct world w;
	uint64_t d = IQP_T_BACKOFF_BASE_MS;
	(void)state;

	world_init(&w);
	w.connect_hangs = true;
	start(&w);
	run(&w, w.now + IQP_T_CONNECT_MS);
	assert_int_equal(w.agw.closes, 1);
	assert_int_equal(count(&w.agw, IQP_LEV_FAILED, 0), 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	world_free(&w);

	/* No REGISTER reply: T_REG (the REGISTER is lost on the way). */
	world_init(&w);
	w.agw.drop_out = true;
	start(&w);
	run(&w, w.now + IQP_T_REG_MS - 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_REGISTERING);
	run(&w, w.now + 1);
	assert_int_equal(count(&w.agw, IQP_LEV_FAILED, 0), 1);
	assert_int_equal(w.agw.l.state, IQP_LINK_CONNECTING);
	world_free(&w);

	/* Refused connections: waits in [d/2, d], d doubling to 30 s. */
	world_init(&w);
	w.listening = false;
	start(&w);
	for (int n = 0; n < 10; n++) {
		uint64_t wait = w.agw.l.t_state - w.now;
		assert_true(wait >= d / 2 && wait <= d);
		assert_int_equal(w.agw.target, (size_t)(n % 2));
		run(&w, w.agw.l.t_state);
		d = d * 2 > IQP_T_BACKOFF_MAX_MS ? IQP_T_BACKOFF_MAX_MS : d * 2;
	}
	assert_int_equal(d, IQP_T_BACKOFF_MAX_MS);
	world_free(&w);
}

/* Appendix A.1 and A.2 from the structures, byte for byte. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned x;
		assert_int_equal(sscanf(s, "%2x", &x), 1);
		out[n++] = (uint8_t)x;
	}
	return n;
}

static void test_register_content(void **state)
{
	static const char a1[] =
		"495101010000000100000001000000d88040000000056167772d3180410000000800"
		"00019b76daa8008042000000020100804300000001038044000000020385c0490000"
		"001e804a0000000400001388804b0000000400040000804c0000000400000100c080"
		"0000000a808100000004000007d0c08b0000001a808c000000027733808d00000001"
		"01808e0000000504cb00710ac08b0000001c808c00000004636f7265808d00000001"
		"02808e00000005040a00000ac0920000002c00930000000101009400000001010095"
		"00000001010095000000010280960000000200018096000000020007";
	static const char a2[] =
		"4951010200000001000000010000005180400000000770637363662d618041000000"
		"080000019b76d180408042000000020100c04900000028804a000000040000138880"
		"4b0000000400040000804c0000000400000200804d0000000400007530";
	struct iqp_header h1 = { 1, IQP_KIND_REQUEST, 0, IQP_MSG_REGISTER, 1, 0 };
	struct iqp_header h2 = { 1, IQP_KIND_REPLY, 0, IQP_MSG_REGISTER, 1, 0 };
	struct iqp_node_info s, back;
	struct iqp_link_params p = { 5000, 262144, 512, 30000 };
	struct iqp_msg m, d;
	struct iqp_error err;
	uint8_t want[512], got[512];
	size_t n, len;
	(void)state;

	memset(&s, 0, sizeof(s));
	snprintf(s.node_id, sizeof(s.node_id), "agw-1");
	s.epoch = 1767225600000ull;
	s.n_versions = 1;
	s.versions[0] = IQP_VERSION_1_0;
	s.sc_method = IQP_SC_RESTART;
	s.sc_reason = 901;
	s.params = (struct iqp_link_params){ 5000, 262144, 256, 0 };
	s.max_contexts = 2000;
	s.n_realms = 2;
	snprintf(s.realms[0].name, sizeof(s.realms[0].name), "w3");
	s.realms[0].side = 1;
	s.realms[0].n_addr = 1;
	s.realms[0].addr[0] = (struct iqp_ip){ 4, { 203, 0, 113, 10 } };
	snprintf(s.realms[1].name, sizeof(s.realms[1].name), "core");
	s.realms[1].side = 2;
	s.realms[1].n_addr = 1;
	s.realms[1].addr[0] = (struct iqp_ip){ 4, { 10, 0, 0, 10 } };
	s.caps.ice_modes = 1u << 1;
	s.caps.ice_tcp = true;
	s.caps.dtls_setups = 1u << 1 | 1u << 2;
	s.caps.n_srtp = 2;
	s.caps.srtp[0] = 1;
	s.caps.srtp[1] = 7;
	assert_int_equal(iqp_msg_init(&m, &h1, NULL, 8192), 0);
	assert_int_equal(iqp_link_reg_build_request(&m, &s), 0);
	assert_int_equal(iqp_msg_encode(&m, got, sizeof(got), &len), 0);
	n = unhex(a1, want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	iqp_msg_free(&m);
	/* And back: decoded as the controller does. */
	iqp_header_decode(got, &h1);
	assert_int_equal(iqp_msg_decode(&d, &h1, got + 16, IQP_ROLE_AGW, 0, NULL, 0, &err), 0);
	iqp_link_reg_parse_request(&d, &back);
	iqp_msg_free(&d);
	assert_string_equal(back.node_id, "agw-1");
	assert_int_equal(back.params.max_frame, 262144);
	assert_int_equal(back.caps.ice_modes, s.caps.ice_modes);
	assert_int_equal(back.caps.dtls_setups, s.caps.dtls_setups);
	assert_true(back.caps.ice_tcp);
	assert_int_equal(back.caps.srtp[1], 7);
	assert_memory_equal(&back.realms[0].addr[0], &s.realms[0].addr[0], sizeof(struct iqp_ip));
	assert_string_equal(back.realms[1].name, "core");
	assert_false(back.has_load);

	memset(&s, 0, sizeof(s));
	snprintf(s.node_id, sizeof(s.node_id), "pcscf-a");
	s.epoch = 1767225000000ull;
	assert_int_equal(iqp_msg_init(&m, &h2, NULL, 8192), 0);
	assert_int_equal(iqp_link_reg_build_reply(&m, &s, IQP_VERSION_1_0, &p), 0);
	assert_int_equal(iqp_msg_encode(&m, got, sizeof(got), &len), 0);
	n = unhex(a2, want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	iqp_msg_free(&m);

	/* 5.2 item 2: highest common major, min of the minors. */
	uint16_t agw[] = { 0x0203, 0x0105 }, ours[] = { 0x0102, 0x0300 };
	assert_int_equal(iqp_link_reg_select_version(agw, 2, ours, 2), 0x0102);
	assert_int_equal(iqp_link_reg_select_version(agw, 2, ours + 1, 1), 0);
	ours[1] = 0x0201;
	assert_int_equal(iqp_link_reg_select_version(agw, 2, ours, 2), 0x0201);
}

/* TLS over memory BIOs: handshake between two sessions. */
static int handshake(struct iqp_tls *c, struct iqp_tls *s)
{
	uint8_t buf[16384], plain[256];
	size_t n, got;
	int rc_c = 0, rc_s = 0;

	for (int i = 0; i < 20; i++) {
		rc_c = iqp_tls_read(c, plain, sizeof(plain), &got);
		while ((n = iqp_tls_take(c, buf, sizeof(buf))))
			iqp_tls_feed(s, buf, n);
		rc_s = iqp_tls_read(s, plain, sizeof(plain), &got);
		while ((n = iqp_tls_take(s, buf, sizeof(buf))))
			iqp_tls_feed(c, buf, n);
		if (rc_c || rc_s)
			break;
		if (c->established && s->established)
			return 0;
	}
	return rc_s ? rc_s : rc_c ? rc_c : EAGAIN;
}

static void test_tls(void **state)
{
	struct tls_identity agw, ctl, other;
	struct iqp_tls_ctx sc, cc, bad, tmp;
	struct iqp_tls s, c;
	char agw_fp[100], ctl_fp[100];
	const char *pin_agw[] = { agw_fp }, *pin_ctl[] = { ctl_fp };
	uint8_t fp[IQP_FP_LEN], buf[4096], plain[64];
	size_t n, got;
	char err[256];
	(void)state;

	char text[120] = "sha-256 ab:CD:";
	for (int i = 0; i < 29; i++)
		strcat(text, "00:");
	strcat(text, "01");
	assert_int_equal(iqp_tls_fingerprint_parse(text, fp), 0);
	assert_int_equal(fp[0], 0xab);
	assert_int_equal(fp[31], 1);
	assert_int_equal(iqp_tls_fingerprint_parse("abcd", fp), EINVAL);
	assert_int_equal(iqp_tls_fingerprint_parse("zz", fp), EINVAL);

	assert_int_equal(tls_identity_generate(&agw, "agw-1", 1), 0);
	assert_int_equal(tls_identity_generate(&ctl, "pcscf-a", 1), 0);
	assert_int_equal(tls_identity_generate(&other, "agw-1", 1), 0);
	snprintf(agw_fp, sizeof(agw_fp), "%s", agw.fingerprint_sha256);
	snprintf(ctl_fp, sizeof(ctl_fp), "%s", ctl.fingerprint_sha256);
	assert_int_equal(iqp_tls_ctx_init(&sc, true, &ctl, pin_agw, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(iqp_tls_ctx_init(&cc, false, &agw, pin_ctl, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(iqp_tls_ctx_init(&bad, false, &other, pin_ctl, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(iqp_tls_ctx_init(&tmp, false, &other, pin_agw, 1, "/nonexistent.pem",
					  err, sizeof(err)), ENOENT);
	assert_string_equal(err, "cannot read CA file \"/nonexistent.pem\": No such file or directory");
	pin_agw[0] = "00:11";
	assert_int_equal(iqp_tls_ctx_init(&tmp, false, &other, pin_agw, 1, NULL, err, sizeof(err)),
			 EINVAL);
	assert_string_equal(err, "\"00:11\" is not a SHA-256 fingerprint");

	/* Pinned both ways, with the controller's name checked (2.2 item 5). */
	assert_int_equal(iqp_tls_init(&s, &sc, NULL), 0);
	assert_int_equal(iqp_tls_init(&c, &cc, "pcscf-a"), 0);
	assert_int_equal(handshake(&c, &s), 0);
	assert_true(iqp_tls_peer_has_name(&s, "agw-1")); /* 2.2 item 4 */
	assert_false(iqp_tls_peer_has_name(&s, "agw-2"));
	assert_string_equal(s.peer_fp, agw_fp);
	/* Data both ways. */
	assert_int_equal(iqp_tls_write(&c, (const uint8_t *)"IQ", 2), 0);
	n = iqp_tls_take(&c, buf, sizeof(buf));
	iqp_tls_feed(&s, buf, n);
	assert_int_equal(iqp_tls_read(&s, plain, sizeof(plain), &got), 0);
	assert_int_equal(got, 2);
	iqp_tls_shutdown(&s);
	n = iqp_tls_take(&s, buf, sizeof(buf));
	iqp_tls_feed(&c, buf, n);
	assert_int_equal(iqp_tls_read(&c, plain, sizeof(plain), &got), ECONNRESET);
	iqp_tls_free(&s);
	iqp_tls_free(&c);

	/* An AGW certificate that is not pinned: refused by the controller. */
	assert_int_equal(iqp_tls_init(&s, &sc, NULL), 0);
	assert_int_equal(iqp_tls_init(&c, &bad, NULL), 0);
	assert_int_equal(handshake(&c, &s), EPROTO);
	assert_true(s.auth_failed);
	assert_string_equal(s.why, "certificate not trusted: fingerprint not pinned");
	assert_string_equal(s.peer_fp, other.fingerprint_sha256);
	iqp_tls_free(&s);
	iqp_tls_free(&c);

	/* A controller without the expected name: refused by the AGW. */
	assert_int_equal(iqp_tls_init(&s, &sc, NULL), 0);
	assert_int_equal(iqp_tls_init(&c, &cc, "pcscf-b"), 0);
	assert_int_equal(handshake(&c, &s), EPROTO);
	assert_true(c.auth_failed);
	assert_non_null(strstr(c.why, "pcscf-b"));
	iqp_tls_free(&s);
	iqp_tls_free(&c);

	iqp_tls_ctx_free(&sc);
	iqp_tls_ctx_free(&cc);
	iqp_tls_ctx_free(&bad);
	tls_identity_free(&agw);
	tls_identity_free(&ctl);
	tls_identity_free(&other);
}

/* The AGW's iq.realm syntax (eims-agw/iq_realm.h). */
static void test_realms(void **state)
{
	struct iqp_realm r[IQP_MAX_REALMS];
	char err[200];
	size_t n = 0;
	(void)state;

	assert_int_equal(iq_realm_parse(" w3=127.0.0.1  core:ims=10.0.0.10,[fd00::a],fd00::b\t"
					"dmz:BOTH=192.0.2.1 ", r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].name, "w3");
	assert_int_equal(r[0].side, 1);
	assert_int_equal(r[1].side, 2);
	assert_int_equal(r[1].n_addr, 3);
	assert_int_equal(r[1].addr[1].family, 6);
	assert_int_equal(r[1].addr[2].addr[15], 0x0b);
	assert_int_equal(r[2].side, 3);
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "no realm (NAME[:SIDE]=ADDR[,ADDR...])" },
		{ "w3", "\"w3\" is not NAME[:SIDE]=ADDR[,ADDR...]" },
		{ "core=10.0.0.1", "realm \"core\": give its side (NAME:w3, NAME:ims or NAME:both)" },
		{ "core:up=10.0.0.1", "realm \"core\": side must be w3, ims or both" },
		{ "w3=10.0.0.300", "realm \"w3\": \"10.0.0.300\" is not an IP address" },
		{ "w3=1.1.1.1,", "realm \"w3\": \"\" is not an IP address" },
		{ "w3=1.1.1.1 w3=2.2.2.2", "realm \"w3\" defined twice" },
		{ "b/d:w3=1.1.1.1", "realm name \"b/d\" has characters outside A-Z a-z 0-9 . _ -" },
		{ "w3=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
		  "realm \"w3\": more than 8 addresses" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(iq_realm_parse(bad[i].in, r, &n, err, sizeof(err)), EINVAL);
		assert_string_equal(err, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_heartbeat),
		cmocka_unit_test(test_inactivity_reconnect),
		cmocka_unit_test(test_controller_epoch),
		cmocka_unit_test(test_before_registration),
		cmocka_unit_test(test_second_register_501),
		cmocka_unit_test(test_handler_cache),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_owner_request),
		cmocka_unit_test(test_abandoned_reserve_released),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_agw_timers),
		cmocka_unit_test(test_register_content),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_realms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
