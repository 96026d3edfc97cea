/* The Iq+ controller: listener, links, AGW registry, logs and metrics. */
#include "iq_server.h"

#include "iq_drain.h"
#include "iq_reconcile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef VERSION
#define VERSION "dev"
#endif

#define MAX_AGWS 4096   /* registry entries */
#define MAX_CONNS 1024  /* connections, registered or not */

struct iq_peer {
	struct iq_peer *prev, *next;
	struct iq_server *s;            /* borrowed */
	struct iqp_link_uv *u;          /* owned until gone */
};

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *node_of(const struct iqp_link *l)
{
	return l->peer.node_id[0] ? l->peer.node_id : "-";
}

/* Who ended a connection: the peer (its CLOSE), us (our CLOSE or a
 * local decision), or the connection itself (error, end of stream). */
static const char *by(const struct iqp_link_event *ev)
{
	return ev->remote ? "peer" : ev->code ? "us" : "connection";
}

static const char *method_name(unsigned m)
{
	return m == IQP_SC_RESTART ? "restart" : m == IQP_SC_DISCONNECTED ? "disconnected"
	     : m == IQP_SC_HANDOFF ? "handoff" : m == IQP_SC_FAILOVER ? "failover" : "?";
}

/* --- Hooks of every link (struct iqp_link_hooks) ----------------------- */

/* 7.2.3 check 2, 2.2 item 4: with TLS the NODE_ID must be a name of the
 * client certificate.  Without TLS it is unauthenticated (2.3). */
static unsigned on_authorize(void *arg, struct iqp_link *l,
			     const struct iqp_node_info *agw, char *text, size_t len)
{
	struct iq_peer *p = arg;

	if (!p->s->tls || iqp_link_uv_peer_has_name(iqp_link_uv_of(l), agw->node_id))
		return 0;
	snprintf(text, len, "NODE_ID is not a name of the client certificate");
	return IQP_ERR_FORBIDDEN;
}

static unsigned on_admit(void *arg, struct iqp_link *l,
			 const struct iqp_node_info *agw, char *text, size_t len,
			 uint32_t *retry_after)
{
	struct iq_peer *p = arg;
	(void)l;

	if (p->s->closing) {
		snprintf(text, len, "controller shutting down");
		*retry_after = 5000;
		return IQP_ERR_UNAVAILABLE;
	}
	if (!iq_registry_has_room(&p->s->reg, agw->node_id)) {
		snprintf(text, len, "AGW registry full");
		*retry_after = 30000;
		return IQP_ERR_UNAVAILABLE;
	}
	return 0;
}

static void registered(struct iq_peer *p, struct iqp_link *l,
		       const struct iqp_link_event *ev)
{
	struct iq_server *s = p->s;
	const struct iqp_node_info *a = ev->peer;
	struct iqp_link_uv *u = iqp_link_uv_of(l);
	struct iq_registry_prev prev;
	int rc = iq_registry_register(&s->reg, a, u->peer, l, wall_ms(), &prev);

	if (rc) {
		log_error(s->log, s->sub, NULL, "iq agw not recorded", LF_S("node_id", a->node_id),
			  LF_S("reason", strerror(rc)));
		iqp_link_uv_stop(u, IQP_ERR_UNAVAILABLE, "AGW registry full");
		return;
	}
	metric_inc(s->ev_registered);
	log_info(s->log, s->sub, NULL, "iq agw registered", LF_S("node_id", a->node_id),
		 LF_S("addr", u->peer), LF_U("epoch", a->epoch),
		 LF_S("method", method_name(a->sc_method)), LF_U("reason", a->sc_reason),
		 LF_U("version", l->version >> 8), LF_U("minor", l->version & 0xff),
		 LF_U("hb_interval_ms", ev->hb_interval), LF_U("realms", a->n_realms),
		 LF_U("max_contexts", a->max_contexts),
		 LF_S("security", s->tls ? "tls" : "tcp"), LF_S("software", a->software));
	/* 7.9 item 3: another epoch means the AGW lost its contexts. */
	if (prev.known && prev.epoch != a->epoch) {
		metric_inc(s->ev_restart);
		log_warn(s->log, s->sub, NULL, "iq agw restart detected",
			 LF_S("node_id", a->node_id), LF_S("addr", u->peer),
			 LF_U("old_epoch", prev.epoch), LF_U("epoch", a->epoch));
	}
	/* 7.1.2: a newer connection of the same NODE_ID supersedes (its
	 * calls are held as after any link loss, and come back below). */
	if (prev.link && prev.link != l) {
		struct iqp_link_uv *old = iqp_link_uv_of((struct iqp_link *)prev.link);
		log_info(s->log, s->sub, NULL, "iq agw superseded", LF_S("node_id", a->node_id),
			 LF_S("old_addr", old->peer), LF_S("addr", u->peer));
		iqp_link_uv_stop(old, IQP_ERR_SUPERSEDED, "superseded by a newer connection");
	}
	/* 7.7 item 2: the operator's list, for this AGW too. */
	iq_drain_apply(s, s->drain);
	if (!s->calls || !prev.known)
		return;
	if (prev.epoch != a->epoch) {
		iq_calls_hold_end(s->calls, a->node_id, "media gateway restarted");
		return;
	}
	/* 7.9 item 3, 7.11 item 3: the same epoch: contexts retained. */
	iq_calls_link_back(s->calls, a->node_id, l);
	if ((rc = iq_reconcile_start(s->calls, l)))
		log_warn(s->log, s->sub, NULL, "iq reconcile not started", LF_S("node_id", a->node_id),
			 LF_S("reason", strerror(rc)));
}

/* T_HOLD (7.10 item 5): the calls of an AGW lost longer ago end. */
static void on_hold_timer(uv_timer_t *t)
{
	struct iq_server *s = t->data;
	uint64_t now = wall_ms();
	struct iq_agw *a;

	while ((a = iq_registry_hold_expired(&s->reg, now >= s->hold_ms ? now - s->hold_ms : 0))) {
		log_warn(s->log, s->sub, NULL, "iq agw hold expired", LF_S("node_id", a->node_id),
			 LF_U("hold_ms", s->hold_ms));
		if (s->calls)
			iq_calls_hold_end(s->calls, a->node_id, "media gateway lost");
	}
	if (!iq_registry_holding(&s->reg))
		uv_timer_stop(t);
}

static void on_event(void *arg, struct iqp_link *l, const struct iqp_link_event *ev)
{
	struct iq_peer *p = arg;
	struct iq_server *s = p->s;
	struct iqp_link_uv *u = iqp_link_uv_of(l);
	struct iq_agw *a;

	switch (ev->type) {
	case IQP_LEV_REGISTERED:
		registered(p, l, ev);
		break;
	case IQP_LEV_REFUSED:
		metric_inc(s->ev_refused);
		log_warn(s->log, s->sub, NULL, "iq agw refused", LF_S("node_id", node_of(l)),
			 LF_S("addr", u->peer), LF_U("code", ev->code), LF_S("reason", ev->text));
		break;
	case IQP_LEV_LOST:
		/* 7.10: the calls are held for T_HOLD. */
		if (s->calls)
			iq_calls_link_held(s->calls, l);
		if ((a = iq_registry_lost(&s->reg, l, wall_ms())) && !s->closing) {
			if (!uv_is_active((uv_handle_t *)&s->hold_timer))
				uv_timer_start(&s->hold_timer, on_hold_timer, 1000, 1000);
			metric_inc(s->ev_lost);
			log_warn(s->log, s->sub, NULL, "iq agw link lost", LF_S("node_id", a->node_id),
				 LF_S("addr", u->peer), LF_U("code", ev->code),
				 LF_S("by", by(ev)), LF_S("reason", ev->text));
		} else {
			log_info(s->log, s->sub, NULL, "iq link closed", LF_S("node_id", node_of(l)),
				 LF_S("addr", u->peer), LF_U("code", ev->code), LF_S("reason", ev->text));
		}
		break;
	case IQP_LEV_FAILED:
		log_info(s->log, s->sub, NULL, "iq connection closed before registration",
			 LF_S("addr", u->peer), LF_U("code", ev->code),
			 LF_S("by", by(ev)), LF_S("reason", ev->text));
		break;
	case IQP_LEV_HEARTBEAT:
	case IQP_LEV_STATUS:
		if ((a = iq_registry_heartbeat(&s->reg, l, ev->load, wall_ms())))
			log_debug(s->log, s->sub, NULL,
				  ev->type == IQP_LEV_HEARTBEAT ? "iq heartbeat" : "iq node status",
				  LF_S("node_id", a->node_id),
				  LF_U("active_contexts", a->load.active_contexts),
				  LF_U("cpu_load", a->load.cpu_load));
		break;
	case IQP_LEV_DISCARDED:
		log_info(s->log, s->sub, NULL, "iq frame refused", LF_S("node_id", node_of(l)),
			 LF_S("addr", u->peer), LF_U("msg_code", ev->msg_code),
			 LF_U("code", ev->code), LF_S("reason", ev->text));
		break;
	case IQP_LEV_TIMEOUT:
		log_warn(s->log, s->sub, NULL, "iq transaction timed out",
			 LF_S("node_id", node_of(l)), LF_U("msg_code", ev->msg_code));
		break;
	case IQP_LEV_STATE:
		log_debug(s->log, s->sub, NULL, "iq link state", LF_S("node_id", node_of(l)),
			  LF_S("addr", u->peer), LF_S("from", iqp_link_state_name(ev->old_state)),
			  LF_S("to", iqp_link_state_name(ev->state)));
		break;
	}
}

/* EVENT notifications (9.1), ACKed by the call procedures. */
static void on_call_event(void *arg, struct iqp_link *l, const struct iqp_msg *req)
{
	struct iq_peer *p = arg;
	struct iqp_header h = req->hdr;
	uint8_t arena[256];
	struct iqp_msg ack;

	if (p->s->calls) {
		iq_calls_event(p->s->calls, l, req);
		return;
	}
	h.kind = IQP_KIND_ACK;
	h.flags = IQP_FLAG_E;
	if (!iqp_msg_init(&ack, &h, arena, sizeof(arena))) {
		if (!iqp_link_reg_add_error(&ack, IQP_ERR_NOT_IMPLEMENTED, "no call procedures", 0))
			iqp_link_uv_answer(iqp_link_uv_of(l), &ack, IQP_ERR_NOT_IMPLEMENTED);
		iqp_msg_free(&ack);
	}
}

/* SERVICE_CHANGE from an AGW (11.4): drain, out of service, restore,
 * capability update; the registry's state decides where new contexts go. */
static void on_service_change(void *arg, struct iqp_link *l, const struct iqp_msg *req)
{
	struct iq_peer *p = arg;
	struct iq_server *s = p->s;
	const struct iqp_elem *e;
	uint8_t method = 0;
	uint16_t reason = 0;
	struct iqp_node_info caps = { 0 };
	struct iq_agw *a = NULL;
	unsigned old = 0, code;
	uint8_t arena[512];
	struct iqp_msg ans;
	struct iqp_header h = { .version = req->hdr.version, .kind = IQP_KIND_REPLY,
				.code = req->hdr.code, .txid = req->hdr.txid };

	if ((e = iqp_find(req, NULL, IQP_E_SC_METHOD)))
		iqp_elem_enum(e, &method);
	if ((e = iqp_find(req, NULL, IQP_E_SC_REASON)))
		iqp_elem_u16(e, &reason);
	if ((e = iqp_find(req, NULL, IQP_E_CAPACITY)) &&
	    (e = iqp_find(req, e, IQP_E_MAX_CONTEXTS)))
		iqp_elem_u32(e, &caps.max_contexts);
	caps.n_realms = (uint8_t)iqp_count(req, NULL, IQP_E_REALM);
	code = iq_registry_service_change(&s->reg, l, method, reason, &caps, &a, &old);
	if (code)
		h.flags = IQP_FLAG_E;
	if (iqp_msg_init(&ans, &h, arena, sizeof(arena)))
		return;
	if (code)
		iqp_link_reg_add_error(&ans, code,
				       code == 449 ? "method or reason not permitted from an AGW"
						   : "does not fit the link state", 0);
	iqp_link_answer(l, uv_now(s->loop), &ans, code);
	iqp_msg_free(&ans);
	if (code) {
		log_info(s->log, s->sub, NULL, "iq service change refused", LF_S("node_id", node_of(l)),
			 LF_U("method", method), LF_U("reason", reason), LF_U("code", code));
		return;
	}
	log_info(s->log, s->sub, NULL, "iq agw service change", LF_S("node_id", node_of(l)),
		 LF_U("method", method), LF_U("reason", reason),
		 LF_S("from", iq_agw_state_name(old)), LF_S("to", iq_agw_state_name(a->state)));
	/* 7.8 item 1: FORCED out of service: the AGW has released every
	 * context of this link; their calls are cleared. */
	if (a->state == IQ_AGW_OUT_OF_SERVICE && old != IQ_AGW_OUT_OF_SERVICE && s->calls)
		iq_calls_link_lost(s->calls, l);
}

static const struct iqp_link_hooks hooks = {
	.event = on_event,
	.authorize = on_authorize,
	.admit = on_admit,
	/* The controller serves EVENT and SERVICE_CHANGE; other requests
	 * from an AGW get 501 (10.3). */
	.calls = { .event = on_call_event, .service_change = on_service_change },
};

/* --- Connections ------------------------------------------------------ */

static void on_gone(void *arg, struct iqp_link_uv *u)
{
	struct iq_peer *p = arg;
	struct iq_server *s = p->s;
	(void)u;

	if (p->prev)
		p->prev->next = p->next;
	else
		s->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	s->n_peers--;
	free(p);
}

static void on_tls_failed(void *arg, struct iqp_link_uv *u, bool auth,
			  const char *why, const char *fp)
{
	struct iq_peer *p = arg;
	struct iq_server *s = p->s;

	if (auth) {
		metric_inc(s->ev_refused);
		log_warn(s->log, s->sub, NULL, "iq agw refused", LF_S("node_id", "-"),
			 LF_S("addr", u->peer), LF_S("reason", why), LF_S("fingerprint", fp));
	} else {
		log_info(s->log, s->sub, NULL, "iq tls failure", LF_S("addr", u->peer),
			 LF_S("reason", why));
	}
}

static const struct iqp_link_uv_ops uv_ops = {
	.gone = on_gone,
	.tls_failed = on_tls_failed,
};

static void on_connection(uv_stream_t *server, int status)
{
	struct iq_server *s = server->data;
	struct iq_peer *p;
	int rc;

	if (status < 0 || s->closing)
		return;
	if (!(p = calloc(1, sizeof(*p))))
		return;
	p->s = s;
	if ((rc = iqp_link_uv_new(&p->u, s->loop, &s->link_cfg, &hooks, p, s->tls, NULL,
				  &uv_ops, p))) {
		free(p);
		return;
	}
	p->next = s->peers;
	if (s->peers)
		s->peers->prev = p;
	s->peers = p;
	s->n_peers++;
	if ((rc = iqp_link_uv_accept(p->u, server))) {
		log_info(s->log, s->sub, NULL, "iq accept failed", LF_S("reason", strerror(rc)));
		iqp_link_uv_stop(p->u, 0, NULL);
		return;
	}
	if (s->n_peers > MAX_CONNS) {
		log_warn(s->log, s->sub, NULL, "iq connection refused",
			 LF_S("addr", p->u->peer), LF_S("reason", "too many connections"));
		iqp_link_uv_stop(p->u, IQP_ERR_UNAVAILABLE, "too many connections");
		return;
	}
	log_debug(s->log, s->sub, NULL, "iq connection accepted", LF_S("addr", p->u->peer));
}

static double conns_gauge(void *arg)
{
	return (double)((struct iq_server *)arg)->n_peers;
}

int iq_server_start(struct iq_server *s, uv_loop_t *loop,
		    const struct iq_server_cfg *cfg, const struct log *log,
		    unsigned sub, struct metrics *metrics, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;
	static const char ev_help[] = "Iq+ link events by kind.";

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->tls = cfg->tls;
	s->log = log;
	s->sub = sub;
	iq_registry_init(&s->reg, MAX_AGWS);
	s->hold_ms = cfg->hold_ms ? cfg->hold_ms : 60000;
	uv_timer_init(loop, &s->hold_timer);
	s->hold_timer.data = s;
	snprintf(s->self.node_id, sizeof(s->self.node_id), "%s", cfg->node_id);
	s->self.epoch = wall_ms(); /* 7.9 item 1: a new epoch per start */
	snprintf(s->self.software, sizeof(s->self.software), "ep-cscf %s", VERSION);
	s->link_cfg.role = IQP_ROLE_CONTROLLER;
	s->link_cfg.self = &s->self;
	s->link_cfg.params.hb_interval = cfg->hb_interval;
	s->link_cfg.params.max_frame = IQP_MAX_FRAME_MIN;
	s->link_cfg.params.max_outstanding = IQP_MAX_OUTSTANDING;
	s->link_cfg.params.cache_ttl = IQP_CACHE_TTL_MS;

	if (iq_registry_metrics(&s->reg, metrics, "epcscf_iq_agws",
				"AGWs known to this controller, by link state.") ||
	    !metrics_add_fn(metrics, "epcscf_iq_connections",
			    "Iq+ connections, registered or not.", METRIC_GAUGE,
			    conns_gauge, s) ||
	    !(s->ev_registered = metrics_add(metrics, "epcscf_iq_link_events_total", ev_help,
					     METRIC_COUNTER, "event", "registered", (const char *)NULL)) ||
	    !(s->ev_lost = metrics_add(metrics, "epcscf_iq_link_events_total", ev_help,
				       METRIC_COUNTER, "event", "lost", (const char *)NULL)) ||
	    !(s->ev_restart = metrics_add(metrics, "epcscf_iq_link_events_total", ev_help,
					  METRIC_COUNTER, "event", "restart_detected",
					  (const char *)NULL)) ||
	    !(s->ev_refused = metrics_add(metrics, "epcscf_iq_link_events_total", ev_help,
					  METRIC_COUNTER, "event", "refused", (const char *)NULL))) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	conf_addr_format((const struct sockaddr *)&cfg->listen.ss, s->bound, sizeof(s->bound));
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	s->listening = true;
	if ((rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&cfg->listen.ss, 0)) ||
	    (rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection))) {
		snprintf(err, errlen, "cannot listen on %s: %s", s->bound, uv_strerror(rc));
		return -rc;
	}
	if (!uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len))
		conf_addr_format((struct sockaddr *)&ss, s->bound, sizeof(s->bound));
	return 0;
}

void iq_server_close(struct iq_server *s)
{
	struct iq_peer *p, *next;

	if (s->closing)
		return;
	s->closing = true;
	for (p = s->peers; p; p = next) {
		next = p->next; /* p may be freed by the stop */
		iqp_link_uv_stop(p->u, IQP_ERR_NORMAL_CLOSE, "shutdown");
	}
	if (s->listening)
		uv_close((uv_handle_t *)&s->listener, NULL);
	uv_close((uv_handle_t *)&s->hold_timer, NULL);
}

void iq_server_free(struct iq_server *s)
{
	iq_registry_free(&s->reg);
}
