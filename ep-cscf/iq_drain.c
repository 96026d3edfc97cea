/* Controller-initiated drain and restore (SPEC.md 7.7 items 2, 5). */
#include "iq_drain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iq_server.h"

/* A SERVICE_CHANGE of ours in flight. */
struct drain_req {
	struct iq_server *s;             /* borrowed */
	char node_id[IQP_NODE_ID_MAX + 1];
	uint8_t method;
	uint16_t reason;
};

static bool listed(const struct conf_list *list, const char *node_id)
{
	for (size_t i = 0; list && i < list->n; i++)
		if (!strcmp(list->items[i], node_id))
			return true;
	return false;
}

static const char *method_name(unsigned m)
{
	return m == IQP_SC_GRACEFUL ? "graceful" : "restart";
}

static void on_reply(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		     const struct iqp_error *err)
{
	struct drain_req *q = arg;
	struct iq_server *s = q->s;
	struct iq_agw *a = iq_registry_find(&s->reg, q->node_id);
	bool current = a && a->link == l; /* not a request of an older link */
	(void)reply;

	if (current)
		a->sc_pending = false;
	if (err) {
		log_warn(s->log, s->sub, NULL, "iq service change not accepted",
			 LF_S("node_id", q->node_id), LF_S("method", method_name(q->method)),
			 LF_U("reason", q->reason), LF_U("code", err->code), LF_S("text", err->text));
	} else if (current) {
		unsigned old = a->state;
		/* On the success REPLY both ends are in the new state. */
		a->state = q->method == IQP_SC_GRACEFUL ? IQ_AGW_DRAINING : IQ_AGW_IN_SERVICE;
		a->drained_by_us = q->method == IQP_SC_GRACEFUL;
		log_info(s->log, s->sub, NULL, "iq agw service change", LF_S("node_id", a->node_id),
			 LF_U("method", q->method), LF_U("reason", q->reason), LF_S("by", "controller"),
			 LF_S("from", iq_agw_state_name(old)), LF_S("to", iq_agw_state_name(a->state)));
		iq_drain_apply(s, s->drain); /* the list may have changed meanwhile */
	}
	free(q);
}

static void send_sc(struct iq_server *s, struct iq_agw *a, uint8_t method, uint16_t reason)
{
	struct iqp_header h = { .code = IQP_MSG_SERVICE_CHANGE };
	struct drain_req *q = calloc(1, sizeof(*q));
	uint8_t arena[256];
	struct iqp_msg m;
	int rc = ENOMEM;

	if (q && !(rc = iqp_msg_init(&m, &h, arena, sizeof(arena)))) {
		iqp_add_enum(&m, NULL, IQP_E_SC_METHOD, method);
		iqp_add_u16(&m, NULL, IQP_E_SC_REASON, reason);
		q->s = s;
		snprintf(q->node_id, sizeof(q->node_id), "%s", a->node_id);
		q->method = method;
		q->reason = reason;
		if (!(rc = m.err))
			rc = iqp_link_uv_request(iqp_link_uv_of((struct iqp_link *)a->link), &m,
						 on_reply, q);
		iqp_msg_free(&m);
	}
	if (rc) {
		free(q);
		log_warn(s->log, s->sub, NULL, "iq service change not sent", LF_S("node_id", a->node_id),
			 LF_S("method", method_name(method)), LF_S("reason", strerror(rc)));
		return;
	}
	a->sc_pending = true;
	log_info(s->log, s->sub, NULL, method == IQP_SC_GRACEFUL ? "iq agw drain" : "iq agw restore",
		 LF_S("node_id", a->node_id), LF_U("reason", reason), LF_S("by", "iq.drain"));
}

void iq_drain_apply(struct iq_server *s, const struct conf_list *list)
{
	s->drain = list;
	if (s->closing)
		return;
	for (struct iq_agw *a = s->reg.head; a; a = a->next) {
		bool want = listed(list, a->node_id);
		if (!a->link || a->state == IQ_AGW_LOST || a->sc_pending)
			continue;
		if (want && a->state == IQ_AGW_IN_SERVICE)
			send_sc(s, a, IQP_SC_GRACEFUL, 905);
		else if (!want && a->drained_by_us && a->state == IQ_AGW_DRAINING)
			send_sc(s, a, IQP_SC_RESTART, 918);
		else if (!want && a->drained_by_us && a->state == IQ_AGW_OUT_OF_SERVICE)
			send_sc(s, a, IQP_SC_RESTART, 900);
		else if (!want)
			a->drained_by_us = false;
	}
}
