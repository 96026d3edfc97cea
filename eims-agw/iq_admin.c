/* The AGW's administrative state (proto/SPEC.md 7.7, 7.8). */
#include "iq_admin.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "iq_calls_int.h"
#include "iq_status.h"

static const char *const state_names[IQ_ADMIN_N] = { "in_service", "draining", "out_of_service" };

const char *iq_admin_state_name(unsigned state)
{
	return state < IQ_ADMIN_N ? state_names[state] : "?";
}

static uint64_t now_ms(const struct iq_admin *a)
{
	return media_now(a->calls->mp);
}

static struct iqp_link *link_of(const struct iq_admin *a)
{
	struct iqp_link_uv *u = a->calls->iq->u;
	return u && u->link.state == IQP_LINK_IN_SERVICE ? &u->link : NULL;
}

/* --- Timer: the drain check, SC_DELAY, retries ------------------------------- */

static void on_timer(uv_timer_t *t);

static void arm(struct iq_admin *a)
{
	uint64_t now = now_ms(a), due = UINT64_MAX;

	if (!a->open)
		return;
	if (a->kick)
		due = now;
	if (a->deadline_ms && a->deadline_ms < due)
		due = a->deadline_ms;
	if (a->retry_ms && a->retry_ms < due)
		due = a->retry_ms;
	if (due == UINT64_MAX)
		uv_timer_stop(&a->timer);
	else
		uv_timer_start(&a->timer, on_timer, due > now ? due - now : 0, 0);
}

static void set_state(struct iq_admin *a, uint8_t s, const char *by, const char *why)
{
	if (a->state == s)
		return;
	log_info(a->calls->log, a->calls->sub, NULL, "iq admin state",
		 LF_S("from", iq_admin_state_name(a->state)), LF_S("to", iq_admin_state_name(s)),
		 LF_S("by", by), LF_S("reason", why));
	a->state = s;
	if (s != IQ_ADMIN_DRAINING)
		a->deadline_ms = 0;
}

/* Releases every context of the link (7.8: no EVENTs), and the EVENTs
 * still held about them. */
static unsigned release_all(struct iq_admin *a, const void *owner)
{
	struct media_plane *mp = a->calls->mp;
	unsigned n = 0;

	for (struct media_ctx *x = mp->ctxs, *next; x; x = next) {
		next = x->next;
		if (owner && x->owner != owner)
			continue;
		media_ctx_release(mp, x);
		n++;
	}
	iq_events_held(a->calls, false);
	return n;
}

/* --- Reporting the state to the controller (7.7 items 1, 4, 5, 6) ------------ */

static void report(struct iq_admin *a);

static void on_reply(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		     const struct iqp_error *err)
{
	struct iq_admin *a = arg;
	(void)l;
	(void)reply;

	a->in_flight = false;
	if (!a->open)
		return; /* stopping: the link fails what is in flight */
	if (err) {
		log_warn(a->calls->log, a->calls->sub, NULL, "iq service change not accepted",
			 LF_S("to", iq_admin_state_name(a->sending)), LF_U("code", err->code),
			 LF_S("reason", err->text), LF_U("retry_ms", IQ_ADMIN_RETRY_MS));
		a->retry_ms = now_ms(a) + IQ_ADMIN_RETRY_MS;
		arm(a);
		return;
	}
	a->agreed = a->sending;
	log_info(a->calls->log, a->calls->sub, NULL, "iq service change accepted",
		 LF_S("state", iq_admin_state_name(a->agreed)));
	a->kick = true; /* the drain may be complete already */
	arm(a);
	report(a);
}

/* The next SERVICE_CHANGE from the controller's view toward ours. */
static uint8_t next_step(uint8_t agreed, uint8_t state, uint8_t *method, uint16_t *reason)
{
	if (agreed == IQ_ADMIN_OUT_OF_SERVICE) {
		*method = IQP_SC_RESTART, *reason = 900;
		return IQ_ADMIN_IN_SERVICE;
	}
	if (state == IQ_ADMIN_OUT_OF_SERVICE) {
		*method = IQP_SC_FORCED, *reason = 905;
		return IQ_ADMIN_OUT_OF_SERVICE;
	}
	if (state == IQ_ADMIN_DRAINING) { /* agreed IN_SERVICE */
		*method = IQP_SC_GRACEFUL, *reason = 905;
		return IQ_ADMIN_DRAINING;
	}
	*method = IQP_SC_RESTART, *reason = 918; /* agreed DRAINING, state IN_SERVICE */
	return IQ_ADMIN_IN_SERVICE;
}

static void report(struct iq_admin *a)
{
	struct iqp_link *l = link_of(a);
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .code = IQP_MSG_SERVICE_CHANGE };
	uint8_t method;
	uint16_t reason;
	struct iqp_msg m;
	int rc;

	if (!a->registered || !l || a->in_flight || a->agreed == a->state)
		return;
	a->retry_ms = 0;
	a->sending = next_step(a->agreed, a->state, &method, &reason);
	if (iqp_msg_init(&m, &h, NULL, 512))
		return;
	iqp_add_enum(&m, NULL, IQP_E_SC_METHOD, method);
	iqp_add_u16(&m, NULL, IQP_E_SC_REASON, reason);
	if (method == IQP_SC_GRACEFUL && a->deadline_ms) {
		/* Seconds left, at least 1 (0 would mean no deadline). */
		uint64_t left = a->deadline_ms > now_ms(a) ? a->deadline_ms - now_ms(a) : 0;
		uint64_t secs = (left + 999) / 1000;
		iqp_add_u32(&m, NULL, IQP_E_SC_DELAY, secs ? (uint32_t)secs : 1);
	}
	if ((rc = m.err) || (rc = iqp_link_request(l, now_ms(a), &m, on_reply, a))) {
		log_warn(a->calls->log, a->calls->sub, NULL, "iq service change not sent",
			 LF_S("reason", strerror(rc)));
		a->retry_ms = now_ms(a) + IQ_ADMIN_RETRY_MS;
		arm(a);
	} else {
		a->in_flight = true;
		metric_inc(a->sc_sent);
		log_info(a->calls->log, a->calls->sub, NULL, "iq service change sent",
			 LF_U("method", method), LF_U("reason", reason),
			 LF_S("to", iq_admin_state_name(a->sending)));
		iqp_link_uv_post(a->calls->iq->u);
	}
	iqp_msg_free(&m);
}

/* DRAINING ends when the last context is gone, or at SC_DELAY with a
 * release of the rest (7.7 item 4). */
static void on_timer(uv_timer_t *t)
{
	struct iq_admin *a = t->data;
	uint64_t now = now_ms(a);

	a->kick = false;
	if (a->state == IQ_ADMIN_DRAINING && a->deadline_ms && now >= a->deadline_ms) {
		unsigned n = release_all(a, NULL);
		log_info(a->calls->log, a->calls->sub, NULL, "iq drain deadline",
			 LF_U("contexts_released", n));
		set_state(a, IQ_ADMIN_OUT_OF_SERVICE, "agw", "SC_DELAY expired");
	} else if (a->state == IQ_ADMIN_DRAINING && !a->calls->mp->n_ctxs) {
		set_state(a, IQ_ADMIN_OUT_OF_SERVICE, "agw", "last context released");
	}
	if (a->retry_ms && now >= a->retry_ms)
		a->retry_ms = 0;
	report(a);
	arm(a);
}

void iq_admin_contexts_changed(struct iq_admin *a)
{
	if (a->open && a->state == IQ_ADMIN_DRAINING && !a->kick) {
		a->kick = true;
		arm(a);
	}
}

/* --- Operator ------------------------------------------------------------------ */

void iq_admin_drain(struct iq_admin *a)
{
	if (a->state != IQ_ADMIN_IN_SERVICE) {
		log_info(a->calls->log, a->calls->sub, NULL, "iq drain ignored",
			 LF_S("state", iq_admin_state_name(a->state)));
		return;
	}
	set_state(a, IQ_ADMIN_DRAINING, "operator", "drain");
	if (a->drain_timeout_s)
		a->deadline_ms = now_ms(a) + (uint64_t)a->drain_timeout_s * 1000;
	report(a); /* 7.7 item 1: new contexts refused from now on */
	a->kick = true;
	arm(a);
}

void iq_admin_restore(struct iq_admin *a)
{
	if (a->state == IQ_ADMIN_IN_SERVICE) {
		log_info(a->calls->log, a->calls->sub, NULL, "iq restore ignored",
			 LF_S("state", "in_service"));
		return;
	}
	set_state(a, IQ_ADMIN_IN_SERVICE, "operator", "restore");
	report(a);
	arm(a);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct iq_admin *a = s->data;

	log_info(a->calls->log, a->calls->sub, NULL, "iq admin signal",
		 LF_S("signal", signum == SIGUSR1 ? "SIGUSR1" : "SIGUSR2"));
	if (signum == SIGUSR1)
		iq_admin_drain(a);
	else
		iq_admin_restore(a);
}

/* --- The link ------------------------------------------------------------------ */

void iq_admin_link_change(struct iq_admin *a, bool up)
{
	if (!a || !a->open)
		return;
	a->registered = up;
	a->in_flight = false;
	a->retry_ms = 0;
	/* A registration starts IN_SERVICE on the controller (7.1.2); ours
	 * goes first (7.7 item 6). */
	a->agreed = IQ_ADMIN_IN_SERVICE;
	if (up)
		report(a);
	arm(a);
}

/* 7.4 item 2: HANDOFF 903/909: the reply, CLOSE 1000, then registration
 * with the targets (HANDOFF 903); contexts are held as after any link
 * loss and survive if the new controller association is the same (7.9). */
static void handoff(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
		    uint16_t reason)
{
	struct iqp_redirect t[IQP_MAX_REDIRECT_TARGETS];
	size_t n = iqp_link_reg_redirects(m, t, IQP_MAX_REDIRECT_TARGETS);
	struct iqp_target first;
	struct call_err ce = { 0 };
	struct iqp_msg r;
	int rc;

	if (!n) { /* validation requires 1..8; a port 0 is refused there too */
		bad(&ce, 472, NULL, "HANDOFF without a usable REDIRECT_TARGET");
		iqc_reply_error(c, l, m, &ce);
		return;
	}
	iqp_target_from_redirect(&t[0], c->iq->targets, c->iq->n_targets, &first);
	metric_inc(c->admin->sc_received);
	log_info(c->log, c->sub, NULL, "iq service change from controller",
		 LF_U("method", IQP_SC_HANDOFF), LF_U("reason", reason), LF_U("targets", n),
		 LF_S("first", first.text));
	if (iqc_reply_start(&r, m, 0))
		return;
	iqc_reply_send(c, l, &r, m);
	if ((rc = iqp_link_uv_handoff(iqp_link_uv_of(l), t, n)))
		log_warn(c->log, c->sub, NULL, "iq handoff not followed", LF_S("reason", strerror(rc)));
}

/* 11.4: SERVICE_CHANGE from the controller (GRACEFUL 905, FORCED 905,
 * RESTART 918/900, HANDOFF 903/909). */
void iqc_on_service_change(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct iq_calls *c = arg;
	struct iq_admin *a = c->admin;
	struct call_err ce = { 0 };
	uint8_t method = get_enum(m, NULL, IQP_E_SC_METHOD, 0);
	uint16_t reason = get_u16(m, NULL, IQP_E_SC_REASON, 0);
	const struct iqp_elem *re = iqp_find(m, NULL, IQP_E_SC_REASON);
	uint32_t delay = get_u32(m, NULL, IQP_E_SC_DELAY, 0);
	unsigned n = 0;
	struct iqp_msg r;

	if (!a) { /* iq_calls run without iq_admin (unit tests): no drain state */
		iqc_reply_error(c, l, m, &(struct call_err){ 501, NULL, "SERVICE_CHANGE not served" });
		return;
	}
	switch (method) {
	case IQP_SC_GRACEFUL:
		if (reason != 905)
			goto bad_reason;
		if (a->state != IQ_ADMIN_IN_SERVICE)
			goto bad_state;
		set_state(a, IQ_ADMIN_DRAINING, "controller", "GRACEFUL 905");
		if (delay)
			a->deadline_ms = now_ms(a) + (uint64_t)delay * 1000;
		a->kick = true;
		break;
	case IQP_SC_FORCED:
		if (reason != 905)
			goto bad_reason;
		if (a->state == IQ_ADMIN_OUT_OF_SERVICE)
			goto bad_state;
		n = release_all(a, l); /* 7.8 item 2: then reply */
		set_state(a, IQ_ADMIN_OUT_OF_SERVICE, "controller", "FORCED 905");
		break;
	case IQP_SC_RESTART:
		if (reason != 900 && reason != 918)
			goto bad_reason;
		if (a->state != (reason == 918 ? IQ_ADMIN_DRAINING : IQ_ADMIN_OUT_OF_SERVICE))
			goto bad_state;
		set_state(a, IQ_ADMIN_IN_SERVICE, "controller", reason == 918 ? "RESTART 918"
									     : "RESTART 900");
		break;
	case IQP_SC_HANDOFF:
		if (reason != 903 && reason != 909)
			goto bad_reason;
		handoff(c, l, m, reason);
		return;
	default:
		goto bad_reason;
	}
	/* On the success REPLY both ends are in the new state (7.7, 7.8). */
	a->agreed = a->state;
	metric_inc(a->sc_received);
	log_info(c->log, c->sub, NULL, "iq service change from controller", LF_U("method", method),
		 LF_U("reason", reason), LF_U("sc_delay", delay), LF_U("contexts_released", n));
	if (!iqc_reply_start(&r, m, 0))
		iqc_reply_send(c, l, &r, m);
	arm(a);
	return;
bad_reason:
	bad(&ce, 449, re, "method %u with reason %u not permitted from a controller", method, reason);
	goto refuse;
bad_state:
	bad(&ce, 401, NULL, "%s: does not fit the state",
	    iq_admin_state_name(a->state));
refuse:
	iqc_reply_error(c, l, m, &ce);
}

/* 7.1 table: RESERVE of a new context refused with 521 while DRAINING;
 * RESERVE, CONFIGURE and MODIFY with 503 while OUT_OF_SERVICE.  7.6 items
 * 3, 4: at CRITICAL a new context gets 511 unless EMERGENCY or PRIORITY
 * >= 8. */
int iqc_admit(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *ctxe,
	      unsigned cmd, bool new_ctx, struct call_err *ce)
{
	const struct iq_admin *a = c->admin;
	uint8_t prio = 0;

	(void)cmd;
	if (a && a->state == IQ_ADMIN_OUT_OF_SERVICE)
		return bad(ce, 503, NULL, "out of service");
	if (a && a->state == IQ_ADMIN_DRAINING && new_ctx)
		return bad(ce, 521, NULL, "draining: no new contexts");
	if (new_ctx && c->status) {
		const struct iqp_elem *e = iqp_find(m, ctxe, IQP_E_PRIORITY);
		if (e)
			iqp_elem_u8(e, &prio);
		if (iq_status_refuses(c->status, get_bool(m, ctxe, IQP_E_EMERGENCY) == 1 || prio >= 8))
			return bad(ce, 511, NULL, "overload: CRITICAL");
	}
	return 0;
}

/* --- Life ------------------------------------------------------------------------- */

static double state_gauge(void *arg)
{
	const struct iq_admin_gauge *g = arg;
	return g->a->state == g->state;
}

int iq_admin_start(struct iq_admin *a, struct iq_calls *calls, uint32_t drain_timeout_s,
		   struct metrics *metrics, char *err, size_t errlen)
{
	static const char sc_help[] = "Iq+ SERVICE_CHANGEs accepted, by who asked for them.";

	memset(a, 0, sizeof(*a));
	a->calls = calls;
	a->drain_timeout_s = drain_timeout_s;
	for (unsigned s = 0; s < IQ_ADMIN_N; s++) {
		struct metric *m = metrics_add(metrics, "eimsagw_iq_admin_state",
					       "1 for the AGW's administrative state (SPEC 7.7).",
					       METRIC_GAUGE, "state", state_names[s], (const char *)NULL);
		if (!m) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		a->gauges[s].a = a;
		a->gauges[s].state = s;
		m->fn = state_gauge;
		m->fn_arg = &a->gauges[s];
	}
	a->sc_sent = metrics_add(metrics, "eimsagw_iq_service_changes_total", sc_help,
				 METRIC_COUNTER, "by", "agw", (const char *)NULL);
	a->sc_received = metrics_add(metrics, "eimsagw_iq_service_changes_total", sc_help,
				     METRIC_COUNTER, "by", "controller", (const char *)NULL);
	uv_timer_init(calls->mp->loop, &a->timer);
	a->timer.data = a;
	uv_signal_init(calls->mp->loop, &a->sig_drain);
	uv_signal_init(calls->mp->loop, &a->sig_restore);
	a->sig_drain.data = a->sig_restore.data = a;
	a->open = true;
	uv_signal_start(&a->sig_drain, on_signal, SIGUSR1);
	uv_signal_start(&a->sig_restore, on_signal, SIGUSR2);
	/* Signal watchers must not keep the loop alive at stop. */
	uv_unref((uv_handle_t *)&a->sig_drain);
	uv_unref((uv_handle_t *)&a->sig_restore);
	calls->admin = a;
	return 0;
}

void iq_admin_stop(struct iq_admin *a)
{
	if (!a->open)
		return;
	a->open = false;
	uv_close((uv_handle_t *)&a->timer, NULL);
	uv_close((uv_handle_t *)&a->sig_drain, NULL);
	uv_close((uv_handle_t *)&a->sig_restore, NULL);
}
