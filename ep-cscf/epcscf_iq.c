/* ep-cscf's Iq+ side at start-up: the identity and TLS context, the
 * listener, and the call procedures' hooks into the calls (call_media). */
#include <stdio.h>

#include "epcscf_root.h"
#include "iq_drain.h"

int epcscf_iq_prepare(struct daemon *d, struct epcscf *e, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	struct iqp_tls_conf tc = {
		.cert = c->iq_cert, .key = c->iq_key, .state_dir = c->common.state_dir,
		.node_id = c->iq_node_id, .pins = &c->iq_pins, .ca_file = c->iq_ca_file,
		.where_cert = daemon_where(d, "iq.cert"), .where_key = daemon_where(d, "iq.key"),
		.where_ca = daemon_where(d, "iq.ca_file"),
		.where_state_dir = daemon_where(d, "state_dir"),
	};

	if (!iqp_node_id_valid(c->iq_node_id)) {
		snprintf(err, errlen, "%s: iq.node_id: \"%s\" is not a node id (1-64 of A-Z a-z 0-9 . _ -)",
			 daemon_where(d, "iq.node_id"), c->iq_node_id);
		return -1;
	}
	if (!c->iq_listen.len || c->iq_security != IQ_TLS)
		return 0;
	if (iqp_tls_conf_load(&e->iq_tls, &e->iq_id, true, &tc, err, errlen))
		return -1;
	e->iq_tls_ready = 1;
	return 0;
}

static void on_media_failed(void *arg, struct iqp_link *l, uint32_t context_id,
			    unsigned event_type, unsigned code)
{
	call_media_failed(arg, l, context_id, event_type, code);
}

static void on_agw_lost(void *arg, struct iqp_link *l)
{
	call_media_link_lost(arg, l);
}

static bool on_context_known(void *arg, struct iqp_link *l, uint32_t context_id)
{
	return call_media_owns(arg, l, context_id);
}

static void on_agw_held(void *arg, struct iqp_link *l)
{
	call_media_link_held(arg, l);
}

static void on_agw_back(void *arg, const char *node_id, struct iqp_link *l)
{
	call_media_link_back(arg, node_id, l);
}

static void on_hold_end(void *arg, const char *node_id, const char *why)
{
	call_media_hold_end(arg, node_id, why);
}

static int on_contexts(void *arg, struct iqp_link *l, uint32_t **out, size_t *n)
{
	return call_media_contexts(arg, l, out, n);
}

static void on_context_lost(void *arg, struct iqp_link *l, uint32_t context_id)
{
	call_media_context_lost(arg, l, context_id);
}

int epcscf_iq_start(struct daemon *d, struct epcscf *e, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	struct iq_server_cfg ic = {
		.listen = c->iq_listen,
		.tls = e->iq_tls_ready ? &e->iq_tls : NULL,
		.node_id = c->iq_node_id,
		.hb_interval = (uint32_t)c->iq_hb_interval,
		.hold_ms = (uint32_t)c->iq_hold,
	};
	int rc;

	if (!c->iq_listen.len) {
		log_info(&d->log, SUB_IQ, NULL, "iq disabled", LF_S("reason", "iq.listen is empty"));
		return 0;
	}
	if (e->iq_tls_ready) {
		log_info(&d->log, SUB_IQ, NULL, "iq identity", LF_S("node_id", c->iq_node_id),
			 LF_S("cert", e->iq_id.cert_path),
			 LF_S("generated", e->iq_id.generated ? "yes" : "no"),
			 LF_S("fingerprint", e->iq_id.fingerprint_sha256));
		if (!c->iq_pins.n && !*c->iq_ca_file)
			log_warn(&d->log, SUB_IQ, NULL, "iq no trusted AGW",
				 LF_S("reason", "iq.trusted_fingerprints and iq.ca_file are empty: "
					       "every AGW is refused"));
	}
	if ((rc = iq_server_start(&e->iq, &d->loop, &ic, &d->log, SUB_IQ, &d->metrics,
				  err, errlen))) {
		char why[512];
		snprintf(why, sizeof(why), "%s: iq.listen: %s", daemon_where(d, "iq.listen"), err);
		snprintf(err, errlen, "%s", why);
		e->iq_ready = 1; /* the listener handle is open: close it */
		return rc;
	}
	e->iq_ready = 1;
	iq_calls_init(&e->iq_calls, &d->loop, &e->iq.reg, &d->log, SUB_IQ);
	e->iq_calls.hooks.media_failed = on_media_failed;
	e->iq_calls.hooks.link_lost = on_agw_lost;
	e->iq_calls.hooks.context_known = on_context_known;
	e->iq_calls.hooks.link_held = on_agw_held;
	e->iq_calls.hooks.link_back = on_agw_back;
	e->iq_calls.hooks.hold_end = on_hold_end;
	e->iq_calls.hooks.contexts = on_contexts;
	e->iq_calls.hooks.context_lost = on_context_lost;
	e->iq_calls.hooks.arg = &e->proxy;
	e->iq.calls = &e->iq_calls;
	iq_drain_apply(&e->iq, &c->iq_drain);
	log_info(&d->log, SUB_IQ, NULL, "listening", LF_S("service", "iq"),
		 LF_S("addr", e->iq.bound), LF_S("security", e->iq_tls_ready ? "tls" : "tcp"),
		 LF_S("node_id", c->iq_node_id), LF_U("epoch", e->iq.self.epoch));
	return 0;
}

