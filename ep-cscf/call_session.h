/* Calls through the proxy (RFC 3261 sections 16 and 17 for INVITE): the
 * INVITE forwarded with a server transaction on the side it came from and
 * a client transaction toward the other (100 Trying at once, responses
 * relayed, CANCEL and the ACK of failures hop by hop, 2xx and its ACK end
 * to end along Record-Route), both directions: originating (browser ->
 * Service-Route -> IMS) and terminating (IMS -> Path flow token -> the
 * browser's WebSocket).  Every SDP passes the media step (call_media.h)
 * before it goes on; the call ends (call_end.h) on BYE, failure, CANCEL,
 * timeout, flow close and media failure.
 *
 * The proxy (sip_proxy.c) does the header work common to all requests
 * (Via, Max-Forwards, identities, Route popping, Record-Route) and hands
 * INVITE, ACK, CANCEL and responses to INVITE to these functions, which
 * take ownership of msg. */
#ifndef EPCSCF_CALL_SESSION_H
#define EPCSCF_CALL_SESSION_H

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "sip_dialog.h"
#include "sip_proxy.h"

/* From a browser flow.  The INVITE and the 2xx ACK are prepared: our Via
 * with branch on top, routes for `to`. */
void call_invite_to_ims(struct sip_proxy *p, struct flow *f, msg_t *msg, const char *branch,
			const struct ims_peer *to);
void call_ack_to_ims(struct sip_proxy *p, struct flow *f, msg_t *msg, const struct ims_peer *to);
void call_cancel_from_ws(struct sip_proxy *p, struct flow *f, msg_t *msg);
void call_response_from_ws(struct sip_proxy *p, struct flow *f, msg_t *msg);

/* From IMS.  The INVITE and ACK are prepared (our routes popped, flow
 * found, Record-Route added); up is the sender's Via branch. */
void call_invite_to_ws(struct sip_proxy *p, struct flow *f, msg_t *msg, const char *up,
		       const struct ims_peer *from);
void call_ack_to_ws(struct sip_proxy *p, struct flow *f, msg_t *msg);
void call_cancel_from_ims(struct sip_proxy *p, msg_t *msg, const struct ims_peer *from);
void call_response_from_ims(struct sip_proxy *p, msg_t *msg);
/* A retransmitted INVITE from IMS: answered from its transaction (msg
 * destroyed, returns 1), or 0 (msg untouched). */
int call_invite_retransmission(struct sip_proxy *p, msg_t *msg);

/* The ACK of a non-2xx response we sent on side `from` (flow_id for the
 * browser side): absorbed, returns 1 (msg untouched either way). */
int call_ack_absorbed(struct sip_proxy *p, enum call_side from, uint64_t flow_id, msg_t *msg);
/* Any other request on a call's dialog, before it is forwarded (BYE ends
 * the call; CSeqs are tracked).  msg untouched. */
void call_request_seen(struct sip_proxy *p, uint64_t flow_id, msg_t *msg, enum call_side from);

/* UPDATE (RFC 3311) and PRACK (RFC 3262) carrying SDP on a call, and the
 * 2xx answering them with SDP: through the media step, then on (requests:
 * from the browser prepared with our Via; from IMS with our Via and its
 * server transaction started; responses: from IMS without our Via, from
 * the browser with it).  Returns 1 when msg was taken, else 0 (untouched;
 * a failure response to an offer abandons it). */
int call_request_media(struct sip_proxy *p, struct flow *f, msg_t *msg, enum call_side from);
int call_response_media(struct sip_proxy *p, uint64_t flow_id, msg_t *msg, enum call_side from);

/* The flow is gone: its calls end. */
void calls_flow_closed(struct sip_proxy *p, struct flow *f);
/* Process exit: every call's transactions and media state are dropped. */
void calls_close(struct sip_proxy *p);

/* For call_end.c and call_media.c: frees the call once it has ended and
 * nothing refers to it any more. */
void call_maybe_free(struct sip_proxy *p, struct call *c);
struct log_ids call_log_ids(const struct call *c);

#endif
