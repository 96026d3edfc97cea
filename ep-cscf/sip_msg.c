/* Parse/validate/print SIP messages with sofia-sip. */
#include "sip_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

static int fail(struct sip_msg_error *e, int status, const char *reason)
{
	e->status = status;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	return EBADMSG;
}

int sip_msg_parse(const char *buf, size_t len, msg_t **out,
		  struct sip_msg_error *e)
{
	msg_t *msg;
	sip_t *sip;
	int rc;

	*out = NULL;
	memset(e, 0, sizeof(*e));
	if (len == 0 || memchr(buf, '\0', len))
		return fail(e, 0, "empty message or NUL byte");
	msg = msg_make(sip_default_mclass(), 0, buf, (ssize_t)len);
	if (!msg)
		return fail(e, 0, "unparsable message");
	sip = sip_object(msg);
	if (!sip || (!sip->sip_request && !sip->sip_status)) {
		msg_destroy(msg);
		return fail(e, 0, "no request or status line");
	}
	/* Without these no response can be built: drop. */
	if (!sip->sip_via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
	    !sip->sip_cseq) {
		msg_destroy(msg);
		return fail(e, 0, "missing Via, From, To, Call-ID or CSeq");
	}
	if (sip->sip_status) {
		/* A response is relayed even with a bad header it does not need
		 * (dropping it would leave the transaction hanging); only a bad
		 * status line drops it.  The caller may log e->reason. */
		if (sip->sip_status->st_status < 100 || sip->sip_status->st_status > 699) {
			msg_destroy(msg);
			return fail(e, 0, "malformed response status");
		}
		if (sip->sip_error)
			snprintf(e->reason, sizeof(e->reason), "bad header %.60s",
				 sip->sip_error->er_name ? sip->sip_error->er_name : "?");
		*out = msg;
		return 0;
	}

	*out = msg; /* from here a response can be built */
	const sip_request_t *rq = sip->sip_request;
	if (sip->sip_error) {
		char reason[SIP_REASON_MAX];
		snprintf(reason, sizeof(reason), "Bad header %.60s",
			 sip->sip_error->er_name ? sip->sip_error->er_name : "?");
		rc = fail(e, 400, reason);
	} else if (strcasecmp(rq->rq_version, "SIP/2.0")) {
		rc = fail(e, 505, "Version Not Supported");
	} else if (rq->rq_method == sip_method_unknown && !rq->rq_method_name[0]) {
		rc = fail(e, 400, "Bad method");
	} else if (sip->sip_cseq->cs_method != rq->rq_method ||
		   (rq->rq_method == sip_method_unknown &&
		    strcmp(sip->sip_cseq->cs_method_name, rq->rq_method_name))) {
		rc = fail(e, 400, "CSeq method does not match request");
	} else if (!rq->rq_url->url_type || (rq->rq_url->url_type != url_sip &&
					    rq->rq_url->url_type != url_sips &&
					    rq->rq_url->url_type != url_tel)) {
		rc = fail(e, 416, "Unsupported URI Scheme");
	} else if (sip->sip_content_length && sip->sip_payload &&
		   sip->sip_content_length->l_length != sip->sip_payload->pl_len) {
		rc = fail(e, 400, "Content-Length does not match body");
	} else if (sip->sip_content_length && !sip->sip_payload &&
		   sip->sip_content_length->l_length != 0) {
		rc = fail(e, 400, "Content-Length does not match body");
	} else {
		return 0;
	}
	return rc;
}

msg_t *sip_msg_response(msg_t *req, int status, const char *phrase,
			const char *to_tag)
{
	sip_t const *rq = sip_object(req);
	msg_t *msg = msg_create(sip_default_mclass(), 0);
	su_home_t *home;
	sip_t *sip;

	if (!msg)
		return NULL;
	home = msg_home(msg);
	sip = sip_object(msg);
	if (!phrase)
		phrase = sip_status_phrase(status);
	sip_to_t *to = sip_to_dup(home, rq->sip_to);
	if (to && status > 100 && !to->a_tag && to_tag)
		sip_to_tag(home, to, to_tag);
	if (msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_status_create(home, (unsigned)status,
								phrase ? phrase : "Unknown",
								NULL)) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_via_dup(home, rq->sip_via)) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_from_dup(home, rq->sip_from)) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)to) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_call_id_dup(home, rq->sip_call_id)) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_cseq_dup(home, rq->sip_cseq)) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_content_length_create(home, 0)) < 0) {
		msg_destroy(msg);
		return NULL;
	}
	return msg;
}

int sip_msg_print(msg_t *msg, char **text, size_t *len)
{
	sip_t *sip = sip_object(msg);

	if (!sip || (!sip->sip_request && !sip->sip_status))
		return EINVAL;
	/* A message we built has no separator: without it the blank line
	 * that ends the headers is missing, which a stream peer waits for. */
	if (!sip->sip_separator &&
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_separator_create(msg_home(msg))) < 0)
		return ENOMEM;
	if (msg_serialize(msg, (msg_pub_t *)sip) < 0 || msg_prepare(msg) < 0)
		return ENOMEM;
	*text = msg_as_string(msg_home(msg), msg, NULL, 0, len);
	return *text ? 0 : ENOMEM;
}
