/* The media step of a call: every SIP message of a call that carries SDP
 * passes here before it is forwarded.  Messages of one call are handled
 * in arrival order: while one waits (an Iq+ request to the eIMS-AGW is
 * outstanding), the ones behind it wait too, SDP or not, so that a 200
 * never overtakes the 183 before it.
 *
 * Without media anchoring (media.anchor none) the SDP passes unchanged:
 * the eP-CSCF is then a plain P-CSCF for browsers whose peers speak
 * WebRTC media themselves.  With anchoring (the IMS-ALG, ims_alg.h) each
 * SDP becomes an Iq+ request and the reply the SDP sent on. */
#ifndef EPCSCF_CALL_MEDIA_H
#define EPCSCF_CALL_MEDIA_H

#include <sofia-sip/msg.h>

#include "ims_alg.h"
#include "iq_call.h"
#include "sip_dialog.h"

struct sip_proxy;

enum call_media_anchor { MEDIA_ANCHOR_AGW, MEDIA_ANCHOR_NONE };

struct call_media_cfg {
	enum call_media_anchor anchor;
	struct alg_cfg alg;           /* strings borrowed from the configuration */
	struct iq_calls *iq;          /* borrowed */
};

/* The message may go on (status 0, body rewritten as needed), or must be
 * refused with status and warning (Warning: 399 text).  msg is the
 * callee's to keep or destroy.  Not called once the call has ended: the
 * message is dropped then. */
typedef void call_media_done_h(struct sip_proxy *p, struct call *c, msg_t *msg,
			       enum call_side from, unsigned status, const char *warning);

/* msg carries an SDP body. */
int call_media_has_sdp(msg_t *msg);
/* msg (owned: taken) from side `from`.  done runs now or later. */
void call_media_sdp(struct sip_proxy *p, struct call *c, enum call_side from, msg_t *msg,
		    call_media_done_h *done);
/* The offer in progress was refused by the other side (failure response)
 * or abandoned. */
void call_media_abandon(struct sip_proxy *p, struct call *c);
/* The call ended: its media resources are released, exactly once. */
void call_media_release(struct sip_proxy *p, struct call *c);
/* Messages waiting or a request to the AGW outstanding. */
int call_media_busy(const struct call *c);
/* Frees the media state (held messages dropped).  For call_maybe_free. */
void call_media_free(struct call *c);

/* The AGW reported a failure event for a context: its call ends (BYE
 * both ways), the context is released. */
void call_media_failed(struct sip_proxy *p, struct iqp_link *l, uint32_t context_id,
		       unsigned event_type, unsigned code);
/* A call owns context_id on l (a context reserved, not yet released). */
bool call_media_owns(struct sip_proxy *p, struct iqp_link *l, uint32_t context_id);
/* An AGW's link is lost: its calls end (BYE both ways); their contexts
 * went with the link. */
void call_media_link_lost(struct sip_proxy *p, struct iqp_link *l);
/* The link is lost (7.10): its calls go on, held, without a link (their
 * SDP steps get 503) until call_media_link_back or call_media_hold_end
 * for the AGW's NODE_ID. */
void call_media_link_held(struct sip_proxy *p, struct iqp_link *l);
/* The AGW registered again on l with the epoch of the held calls. */
void call_media_link_back(struct sip_proxy *p, const char *node_id, struct iqp_link *l);
/* T_HOLD expired or the AGW restarted: its held calls end (BYE both
 * ways, 503 why). */
void call_media_hold_end(struct sip_proxy *p, const char *node_id, const char *why);
/* The CONTEXT_IDs calls own on l: *out malloc'd (NULL when none), the
 * caller frees.  Returns 0 or ENOMEM. */
int call_media_contexts(struct sip_proxy *p, struct iqp_link *l, uint32_t **out, size_t *n);
/* The AGW no longer has context_id (7.11 item 3.3): its call ends. */
void call_media_context_lost(struct sip_proxy *p, struct iqp_link *l, uint32_t context_id);

#endif
