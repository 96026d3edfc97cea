/* The AGW's Iq+ link to its controllers. */
#include "iq_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "iq_realm.h"

#ifndef VERSION
#define VERSION "dev"
#endif

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t cpu_us(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int iq_client_prepare(struct iq_client *c, const struct iq_client_cfg *cfg,
		      char *err, size_t errlen)
{
	const struct conf_list *l = cfg->controllers;
	struct iqp_node_info *s = &c->self;
	char why[256];
	size_t n;

	memset(c, 0, sizeof(*c));
	if (!l->n) {
		snprintf(err, errlen, "<default>: iq.controllers: no controller configured");
		return EINVAL;
	}
	if (l->n > IQ_MAX_CONTROLLERS) {
		snprintf(err, errlen, "%s: iq.controllers: more than %d controllers",
			 l->where[IQ_MAX_CONTROLLERS], IQ_MAX_CONTROLLERS);
		return EINVAL;
	}
	for (size_t i = 0; i < l->n; i++)
		if (iqp_target_parse(l->items[i], &c->targets[i])) {
			snprintf(err, errlen, "%s: iq.controllers: \"%s\" is not IP:PORT[ NAME]",
				 l->where[i], l->items[i]);
			return EINVAL;
		}
	c->n_targets = l->n;
	if (iq_realm_parse(cfg->realms, s->realms, &n, why, sizeof(why))) {
		snprintf(err, errlen, "%s: iq.realm: %s", cfg->where_realm, why);
		return EINVAL;
	}
	s->n_realms = (uint8_t)n;
	snprintf(s->node_id, sizeof(s->node_id), "%s", cfg->node_id);
	snprintf(s->software, sizeof(s->software), "eims-agw %s", VERSION);
	s->n_versions = 1;
	s->versions[0] = IQP_VERSION_1_0;
	s->max_contexts = cfg->max_contexts;
	s->max_ports = cfg->max_ports;
	/* What the media plane does (eims-agw/term_w3.c, ice_lite.c,
	 * dtls_session.c, srtp_transform.c): ICE-lite, either DTLS role, the
	 * four SRTP profiles in the DTLS context's order of preference. */
	s->caps.ice_modes = 1u << 1;
	s->caps.dtls_setups = 1u << IQP_SETUP_ACTIVE | 1u << IQP_SETUP_PASSIVE;
	s->caps.bundle = cfg->bundle;
	s->caps.n_srtp = 4;
	s->caps.srtp[0] = 0x0008;
	s->caps.srtp[1] = 0x0007;
	s->caps.srtp[2] = 0x0001;
	s->caps.srtp[3] = 0x0002;
	c->calls = cfg->calls;
	c->calls_arg = cfg->calls_arg;
	c->n_contexts = cfg->n_contexts;
	c->free_ports = cfg->free_ports;
	c->link_change = cfg->link_change;
	c->peer_changed = cfg->peer_changed;
	c->tls = cfg->tls;
	c->cfg.role = IQP_ROLE_AGW;
	c->cfg.self = s;
	c->cfg.params.hb_interval = cfg->hb_interval;
	c->cfg.params.max_frame = IQP_MAX_FRAME_MIN;
	c->cfg.params.max_outstanding = IQP_MAX_OUTSTANDING;
	c->cfg.params.cache_ttl = IQP_CACHE_TTL_MS;
	c->cfg.n_targets = c->n_targets;
	return 0;
}

/* 7.6: LOAD in REGISTER, HEARTBEAT, AUDIT and NODE_STATUS; CPU_LOAD is
 * this process's share over the last second or more (sampled at most once
 * a second, so that frequent readers do not shorten the window);
 * load_hook adds the overload level. */
static void on_load(void *arg, struct iqp_load *out)
{
	struct iq_client *c = arg;
	uint64_t now = uv_now(c->loop);

	if (!c->cpu_at_ms || now >= c->cpu_at_ms + 1000) {
		uint64_t cpu = cpu_us();
		if (c->cpu_at_ms && now > c->cpu_at_ms) {
			uint64_t pct = (cpu - c->cpu_us) / 10 / (now - c->cpu_at_ms);
			c->cpu_load = (uint8_t)(pct > 100 ? 100 : pct);
		}
		c->cpu_us = cpu;
		c->cpu_at_ms = now;
	}
	memset(out, 0, sizeof(*out));
	out->has = IQP_LOAD_ACTIVE | IQP_LOAD_FREE_PORTS | IQP_LOAD_CPU | IQP_LOAD_LEVEL;
	out->active_contexts = c->n_contexts ? (uint32_t)*c->n_contexts : 0;
	out->free_ports = c->free_ports ? *c->free_ports : c->self.max_ports;
	out->cpu_load = c->cpu_load;
	out->overload_level = 1; /* NONE */
	if (c->load_hook)
		c->load_hook(c->load_hook_arg, out);
}

void iq_client_load(struct iq_client *c, struct iqp_load *out)
{
	on_load(c, out);
}

/* Who ended a connection: the peer (its CLOSE), us (our CLOSE or a
 * local decision), or the connection itself (error, end of stream). */
static const char *by(const struct iqp_link_event *ev)
{
	return ev->remote ? "peer" : ev->code ? "us" : "connection";
}

/* Where the link connects (next): a redirect target (7.4) or a
 * configured one. */
static const char *target_of(const struct iq_client *c, const struct iqp_link *l,
			     const struct iqp_redirect *redirect, struct iqp_target *buf)
{
	if (!redirect)
		return c->targets[l->target].text;
	iqp_target_from_redirect(redirect, c->targets, c->n_targets, buf);
	return buf->text;
}

static void on_event(void *arg, struct iqp_link *l, const struct iqp_link_event *ev)
{
	struct iq_client *c = arg;
	struct iqp_target t;
	const char *addr = c->u ? c->u->peer : target_of(c, l, NULL, &t);

	switch (ev->type) {
	case IQP_LEV_STATE:
		c->state = ev->state;
		log_debug(c->log, c->sub, NULL, "iq link state",
			  LF_S("from", iqp_link_state_name(ev->old_state)),
			  LF_S("to", iqp_link_state_name(ev->state)));
		break;
	case IQP_LEV_CONNECTING:
		log_debug(c->log, c->sub, NULL, "iq connecting",
			  LF_S("addr", target_of(c, l, ev->redirect, &t)),
			  LF_S("redirect", ev->redirect ? "yes" : "no"));
		break;
	case IQP_LEV_REGISTERED:
		metric_inc(c->ev_registered);
		if (c->link_change)
			c->link_change(c->calls_arg, true);
		log_info(c->log, c->sub, NULL, "iq registered", LF_S("node_id", c->self.node_id),
			 LF_S("controller", ev->peer->node_id), LF_S("addr", addr),
			 LF_U("epoch", c->self.epoch), LF_U("controller_epoch", ev->peer->epoch),
			 LF_U("version", l->version >> 8), LF_U("minor", l->version & 0xff),
			 LF_U("hb_interval_ms", ev->hb_interval),
			 LF_S("security", c->tls ? "tls" : "tcp"));
		break;
	case IQP_LEV_REFUSED:
		metric_inc(c->ev_refused);
		log_warn(c->log, c->sub, NULL, "iq registration refused", LF_S("addr", addr),
			 LF_U("code", ev->code), LF_S("reason", ev->text));
		break;
	case IQP_LEV_LOST:
		if (l->stopping) {
			log_info(c->log, c->sub, NULL, "iq link closed",
				 LF_S("controller", l->peer.node_id), LF_S("addr", addr),
				 LF_U("code", ev->code), LF_S("reason", ev->text));
			break;
		}
		metric_inc(c->ev_lost);
		if (c->link_change)
			c->link_change(c->calls_arg, false);
		log_warn(c->log, c->sub, NULL, "iq link lost",
			 LF_S("controller", l->peer.node_id), LF_S("addr", addr),
			 LF_U("code", ev->code), LF_S("by", by(ev)),
			 LF_S("reason", ev->text), LF_U("retry_ms", ev->wait_ms),
			 LF_S("next", target_of(c, l, ev->redirect, &t)));
		break;
	case IQP_LEV_FAILED:
		metric_inc(c->ev_failed);
		log_warn(c->log, c->sub, NULL, "iq connection failed", LF_S("addr", addr),
			 LF_U("code", ev->code), LF_S("by", by(ev)),
			 LF_S("reason", ev->text), LF_U("retry_ms", ev->wait_ms),
			 LF_S("next", target_of(c, l, ev->redirect, &t)));
		break;
	case IQP_LEV_REDIRECTED:
		metric_inc(c->ev_redirected);
		log_info(c->log, c->sub, NULL,
			 ev->code == IQP_ERR_REDIRECT ? "iq redirected" : "iq handoff",
			 LF_S("addr", addr), LF_U("code", ev->code), LF_U("targets", ev->target),
			 LF_S("first", target_of(c, l, ev->redirect, &t)),
			 LF_U("in_a_row", l->redirects));
		break;
	case IQP_LEV_PEER_EPOCH:
		log_warn(c->log, c->sub, NULL, "iq controller association changed",
			 LF_S("old_controller", l->peer.node_id), LF_U("old_epoch", ev->old_epoch),
			 LF_S("controller", ev->peer->node_id), LF_U("epoch", ev->peer->epoch));
		if (c->peer_changed)
			c->peer_changed(c->calls_arg);
		break;
	case IQP_LEV_DISCARDED:
		log_info(c->log, c->sub, NULL, "iq frame refused", LF_S("addr", addr),
			 LF_U("msg_code", ev->msg_code), LF_U("code", ev->code),
			 LF_S("reason", ev->text));
		break;
	case IQP_LEV_TIMEOUT:
		log_warn(c->log, c->sub, NULL, "iq transaction timed out", LF_S("addr", addr),
			 LF_U("msg_code", ev->msg_code));
		break;
	case IQP_LEV_HEARTBEAT:
		log_debug(c->log, c->sub, NULL, "iq heartbeat", LF_S("addr", addr));
		break;
	}
}

/* The link's hook argument is the client; the call procedures get theirs. */
#define FORWARD(name)                                                              \
	static void on_##name(void *arg, struct iqp_link *l, const struct iqp_msg *m) \
	{                                                                          \
		struct iq_client *c = arg;                                         \
		c->calls->name(c->calls_arg, l, m);                                \
	}
FORWARD(reserve)
FORWARD(configure)
FORWARD(modify)
FORWARD(release)
FORWARD(audit)
FORWARD(service_change)
#undef FORWARD

/* Procedures without a handler stay NULL: the link answers 501 (10.3). */
static void set_hooks(struct iq_client *c)
{
	memset(&c->hooks, 0, sizeof(c->hooks));
	c->hooks.event = on_event;
	c->hooks.load = on_load;
	if (!c->calls)
		return;
	c->hooks.calls.reserve = c->calls->reserve ? on_reserve : NULL;
	c->hooks.calls.configure = c->calls->configure ? on_configure : NULL;
	c->hooks.calls.modify = c->calls->modify ? on_modify : NULL;
	c->hooks.calls.release = c->calls->release ? on_release : NULL;
	c->hooks.calls.audit = c->calls->audit ? on_audit : NULL;
	c->hooks.calls.service_change = c->calls->service_change ? on_service_change : NULL;
}

static void on_gone(void *arg, struct iqp_link_uv *u)
{
	struct iq_client *c = arg;
	(void)u;
	c->u = NULL;
	c->state = IQP_LINK_IDLE;
}

static void on_tls_failed(void *arg, struct iqp_link_uv *u, bool auth,
			  const char *why, const char *fp)
{
	struct iq_client *c = arg;

	if (auth)
		log_warn(c->log, c->sub, NULL, "iq controller refused", LF_S("addr", u->peer),
			 LF_S("reason", why), LF_S("fingerprint", fp));
	else
		log_warn(c->log, c->sub, NULL, "iq tls failure", LF_S("addr", u->peer),
			 LF_S("reason", why));
}

static const struct iqp_link_uv_ops uv_ops = {
	.gone = on_gone,
	.tls_failed = on_tls_failed,
};

static double state_gauge(void *arg)
{
	const struct iq_client_state_gauge *g = arg;
	return g->c->state == g->state;
}

int iq_client_start(struct iq_client *c, uv_loop_t *loop, const struct log *log,
		    unsigned sub, struct metrics *metrics, char *err, size_t errlen)
{
	static const char ev_help[] = "Iq+ link events by kind.";
	int rc;

	c->loop = loop;
	c->log = log;
	c->sub = sub;
	c->self.epoch = wall_ms(); /* 7.9 item 1: a new epoch per cold start */
	c->cfg.seed = c->self.epoch ^ ((uint64_t)getpid() << 32);
	for (unsigned s = IQP_LINK_IDLE; s <= IQP_LINK_IN_SERVICE; s++) {
		struct metric *m = metrics_add(metrics, "eimsagw_iq_link_state",
					       "1 for the current state of the Iq+ link.",
					       METRIC_GAUGE, "state", iqp_link_state_name(s),
					       (const char *)NULL);
		if (!m) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		c->gauges[s].c = c;
		c->gauges[s].state = s;
		m->fn = state_gauge;
		m->fn_arg = &c->gauges[s];
	}
	c->ev_registered = metrics_add(metrics, "eimsagw_iq_link_events_total", ev_help,
				       METRIC_COUNTER, "event", "registered", (const char *)NULL);
	c->ev_lost = metrics_add(metrics, "eimsagw_iq_link_events_total", ev_help,
				 METRIC_COUNTER, "event", "lost", (const char *)NULL);
	c->ev_refused = metrics_add(metrics, "eimsagw_iq_link_events_total", ev_help,
				    METRIC_COUNTER, "event", "refused", (const char *)NULL);
	c->ev_failed = metrics_add(metrics, "eimsagw_iq_link_events_total", ev_help,
				   METRIC_COUNTER, "event", "connect_failed", (const char *)NULL);
	c->ev_redirected = metrics_add(metrics, "eimsagw_iq_link_events_total", ev_help,
				       METRIC_COUNTER, "event", "redirected", (const char *)NULL);
	set_hooks(c);
	if ((rc = iqp_link_uv_new(&c->u, loop, &c->cfg, &c->hooks, c, c->tls, c->targets,
				  &uv_ops, c))) {
		snprintf(err, errlen, "cannot create the Iq+ link: %s", strerror(rc));
		return rc;
	}
	log_info(log, sub, NULL, "iq starting", LF_S("node_id", c->self.node_id),
		 LF_U("epoch", c->self.epoch), LF_S("security", c->tls ? "tls" : "tcp"),
		 LF_S("controller", c->targets[0].text), LF_U("controllers", c->n_targets),
		 LF_U("realms", c->self.n_realms), LF_U("hb_interval_ms", c->cfg.params.hb_interval));
	iqp_link_uv_start(c->u);
	return 0;
}

void iq_client_stop(struct iq_client *c)
{
	if (c->u)
		iqp_link_uv_stop(c->u, IQP_ERR_NORMAL_CLOSE, "shutdown");
}
