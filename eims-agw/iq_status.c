/* Load, overload and NODE_STATUS of the AGW (proto/SPEC.md 7.6, 11.5). */
#include "iq_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = { "?", "none", "minor", "major", "critical" };

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The level now, from the larger occupancy of contexts and ports. */
static uint8_t level_now(struct iq_status *st)
{
	const struct media_plane *mp = st->calls->mp;
	uint32_t ports = (uint32_t)mp->ports.hi - mp->ports.lo + 1u;
	unsigned c = load_percent(mp->n_ctxs, st->calls->iq->self.max_contexts);
	unsigned p = load_percent(ports - mp->ports.n_free, ports);
	uint8_t l = load_level(&st->th, c > p ? c : p, st->level);

	if (l != st->level) {
		if (l > st->level)
			log_warn(st->calls->log, st->calls->sub, NULL, "iq overload level",
				 LF_S("from", level_names[st->level]), LF_S("to", level_names[l]),
				 LF_U("contexts_pct", c), LF_U("ports_pct", p));
		else
			log_info(st->calls->log, st->calls->sub, NULL, "iq overload level",
				 LF_S("from", level_names[st->level]), LF_S("to", level_names[l]),
				 LF_U("contexts_pct", c), LF_U("ports_pct", p));
		st->level = l;
	}
	return l;
}

/* iq_client.load_hook: completes every LOAD the client builds. */
static void on_load(void *arg, struct iqp_load *load)
{
	struct iq_status *st = arg;

	load->overload_level = level_now(st);
	load->admit_percent = load_admit_percent(load->overload_level);
	load->has |= IQP_LOAD_LEVEL | IQP_LOAD_ADMIT;
	if (!st->computing && st->registered)
		load_report_told(&st->rep, load); /* HEARTBEAT, AUDIT */
}

static void on_ack(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		   const struct iqp_error *err)
{
	struct iq_status *st = arg;
	(void)l;
	(void)reply;

	if (!err)
		return;
	log_info(st->calls->log, st->calls->sub, NULL, "iq node status not acknowledged",
		 LF_U("code", err->code), LF_S("reason", err->text));
	/* 6.4 item 2: after 1200 the content is sent again later. */
	st->resend = err->code == 1200;
}

static void send_status(struct iq_status *st, const struct iqp_load *load, uint64_t now)
{
	struct iqp_link_uv *u = st->calls->iq->u;
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_NOTIFY,
				.code = IQP_MSG_NODE_STATUS };
	struct iqp_msg m;
	int rc;

	if (iqp_msg_init(&m, &h, NULL, 1024))
		return;
	iqp_add_u64(&m, NULL, IQP_E_TIMESTAMP, wall_ms());
	iqp_link_reg_add_load(&m, NULL, load);
	if ((rc = m.err) || (rc = iqp_link_request(&u->link, now, &m, on_ack, st))) {
		log_warn(st->calls->log, st->calls->sub, NULL, "iq node status not sent",
			 LF_S("reason", strerror(rc)));
	} else {
		load_report_sent(&st->rep, load, now);
		st->resend = false;
		metric_inc(st->sent);
		log_debug(st->calls->log, st->calls->sub, NULL, "iq node status",
			  LF_U("active_contexts", load->active_contexts),
			  LF_U("free_ports", load->free_ports), LF_U("cpu_load", load->cpu_load),
			  LF_S("level", level_names[load->overload_level]),
			  LF_U("admit_percent", load->admit_percent));
		iqp_link_uv_post(u);
	}
	iqp_msg_free(&m);
}

static void on_timer(uv_timer_t *t)
{
	struct iq_status *st = t->data;
	struct iqp_link_uv *u = st->calls->iq->u;
	uint64_t now = media_now(st->calls->mp), retry_at;
	struct iqp_load load;

	if (!st->registered || !u || u->link.state != IQP_LINK_IN_SERVICE)
		return;
	st->computing = true;
	iq_client_load(st->calls->iq, &load);
	st->computing = false;
	if (load_report_due(&st->rep, &load, &st->cap, now, &retry_at) ||
	    (st->resend && !retry_at && now >= st->rep.status_ms + LOAD_T_STATUS_MIN_MS))
		send_status(st, &load, now);
	else if (retry_at)
		uv_timer_start(&st->timer, on_timer, retry_at - now, LOAD_T_STATUS_MIN_MS);
}

void iq_status_kick(struct iq_status *st)
{
	if (st->open && st->registered)
		uv_timer_start(&st->timer, on_timer, 0, LOAD_T_STATUS_MIN_MS);
}

void iq_status_link_change(struct iq_status *st, bool up)
{
	struct iqp_load load;

	if (!st || !st->open)
		return;
	st->registered = up;
	load_report_reset(&st->rep);
	st->resend = false;
	if (!up) {
		uv_timer_stop(&st->timer);
		return;
	}
	/* REGISTER carried the load of a moment ago (7.6 item 1). */
	st->computing = true;
	iq_client_load(st->calls->iq, &load);
	st->computing = false;
	load_report_told(&st->rep, &load);
	uv_timer_start(&st->timer, on_timer, LOAD_T_STATUS_MIN_MS, LOAD_T_STATUS_MIN_MS);
}

bool iq_status_refuses(struct iq_status *st, bool priority)
{
	return !priority && level_now(st) >= LOAD_CRITICAL;
}

static double level_gauge(void *arg)
{
	return ((const struct iq_status *)arg)->level;
}

int iq_status_start(struct iq_status *st, struct iq_calls *calls, const struct load_thresholds *th,
		    struct metrics *metrics, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->calls = calls;
	st->th = *th;
	st->level = LOAD_NONE;
	st->cap.contexts = calls->iq->self.max_contexts;
	st->cap.ports = calls->iq->self.max_ports ? calls->iq->self.max_ports
			: (uint32_t)calls->mp->ports.hi - calls->mp->ports.lo + 1u;
	if (!(st->sent = metrics_add(metrics, "eimsagw_iq_node_status_total",
				     "Iq+ NODE_STATUS notifications sent (SPEC 7.6).", METRIC_COUNTER,
				     (const char *)NULL)) ||
	    !metrics_add_fn(metrics, "eimsagw_iq_overload_level",
			    "OVERLOAD_LEVEL reported: 1 none, 2 minor, 3 major, 4 critical.",
			    METRIC_GAUGE, level_gauge, st)) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	uv_timer_init(calls->mp->loop, &st->timer);
	st->timer.data = st;
	st->open = true;
	calls->status = st;
	calls->iq->load_hook = on_load;
	calls->iq->load_hook_arg = st;
	return 0;
}

void iq_status_stop(struct iq_status *st)
{
	if (!st->open)
		return;
	st->open = false;
	st->calls->iq->load_hook = NULL;
	uv_close((uv_handle_t *)&st->timer, NULL);
}
