/* Offers and answers outside INVITE: UPDATE (RFC 3311) and PRACK (RFC
 * 3262) on a call, both directions, through the media step. */
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "call_end.h"
#include "call_media.h"
#include "call_session.h"
#include "sip_msg.h"

static int carries_offer_method(int method)
{
	return method == sip_method_update || method == sip_method_prack;
}

static void request_done(struct sip_proxy *p, struct call *c, msg_t *msg, enum call_side from,
			 unsigned status, const char *warning)
{
	sip_t const *sip = sip_object(msg);
	struct flow *f = flow_table_get(p->flows, c->flow_id);
	char line[256];

	if (status) {
		struct log_ids ids = call_log_ids(c);
		log_info(p->log, p->sub, &ids, "request refused by the media step", LF_U("call", c->serial),
			 LF_S("method", sip->sip_request->rq_method_name), LF_I("status", (int)status),
			 LF_S("reason", warning ? warning : ""));
		msg_t *rsp = from == CALL_WS ? sip_proxy_response_ws(p, msg, (int)status, NULL, NULL)
					     : sip_msg_response(msg, (int)status, NULL, NULL);
		if (rsp && warning) {
			snprintf(line, sizeof(line), "399 %s \"%.*s\"", p->cfg.ws_host,
				 (int)strcspn(warning, "\"\\\r\n"), warning);
			sip_add_make(rsp, sip_object(rsp), sip_warning_class, line);
		}
		if (rsp && from == CALL_WS) {
			if (f)
				sip_proxy_to_flow(p, f, rsp);
			msg_destroy(rsp);
		} else if (rsp) {
			sip_proxy_response_to_ims(p, rsp); /* takes rsp */
		}
		msg_destroy(msg);
		return;
	}
	if (from == CALL_WS) {
		struct ims_peer to;
		const char *proto = sip->sip_via->v_protocol;
		if (!f) {
			msg_destroy(msg);
			return;
		}
		sip_proxy_next_hop(p, &to);
		if (proto && strstr(proto, "TCP"))
			to.transport = IMS_TCP;
		char branch[SIP_BRANCH_MAX];
		snprintf(branch, sizeof(branch), "%s", sip->sip_via->v_branch ? sip->sip_via->v_branch : "");
		sip_proxy_forward_ims(p, f, msg, branch, &to);
		return;
	}
	if (f)
		sip_proxy_to_flow(p, f, msg);
	msg_destroy(msg);
}

int call_request_media(struct sip_proxy *p, struct flow *f, msg_t *msg, enum call_side from)
{
	sip_t const *sip = sip_object(msg);
	struct call *c;

	if (!carries_offer_method(sip->sip_request->rq_method) || !call_media_has_sdp(msg))
		return 0;
	c = call_find(&p->calls, sip->sip_call_id->i_id, f->id);
	if (!c || c->state == CALL_ENDED)
		return 0;
	call_media_sdp(p, c, from, msg, request_done);
	return 1;
}

static void response_done(struct sip_proxy *p, struct call *c, msg_t *msg, enum call_side from,
			  unsigned status, const char *warning)
{
	if (status) {
		/* An answer that cannot be served: the call cannot go on. */
		msg_destroy(msg);
		call_end(p, c, warning ? warning : "media refused", (int)status);
		call_maybe_free(p, c);
		return;
	}
	if (from == CALL_WS) {
		sip_proxy_response_to_ims(p, msg);
		return;
	}
	struct flow *f = flow_table_get(p->flows, c->flow_id);
	if (f)
		sip_proxy_to_flow(p, f, msg);
	msg_destroy(msg);
}

int call_response_media(struct sip_proxy *p, uint64_t flow_id, msg_t *msg, enum call_side from)
{
	sip_t const *sip = sip_object(msg);
	int status = sip->sip_status->st_status;
	struct call *c;

	if (!carries_offer_method(sip->sip_cseq->cs_method))
		return 0;
	c = call_find(&p->calls, sip->sip_call_id->i_id, flow_id);
	if (!c || c->state == CALL_ENDED)
		return 0;
	if (status >= 300) {
		call_media_abandon(p, c); /* the offer in the request was refused */
		return 0;
	}
	if (status < 200 || !call_media_has_sdp(msg))
		return 0;
	call_media_sdp(p, c, from, msg, response_done);
	return 1;
}
