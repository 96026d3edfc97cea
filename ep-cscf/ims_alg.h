/* The IMS-ALG (TR 23.701 A.1.3.3, requirements B, R28-R41): the media
 * side of one call as pure buffer-in/buffer-out steps.  Each SDP the
 * dialog layer sees becomes an Iq+ request for the eIMS-AGW; the AGW's
 * reply becomes the SDP sent on to the other side:
 *
 *   offer from one side  --alg_offer_in-->   RESERVE (first offer) or MODIFY
 *   AGW reply            --alg_offer_out-->  offer SDP for the other side
 *   answer from it       --alg_answer_in-->  CONFIGURE
 *   AGW reply            --alg_answer_out--> answer SDP for the offerer
 *   end of call          --alg_release-->    RELEASE
 *
 * Side W3 is the browser (UDP/TLS/RTP/SAVPF, ICE, DTLS, BUNDLE, rtcp-mux);
 * side IMS is the core network (RTP/AVP or RTP/AVPF, separate RTCP port,
 * no ICE or DTLS).  An offer may come from either side: an originating
 * call starts with an offer from W3, a terminating one with an offer from
 * IMS; either may re-offer later (hold, added or removed m-lines, ICE
 * restart).  One offer/answer exchange is outstanding at a time.
 *
 * m-line i of the browser's SDP is m-line i of the IMS SDP: lines the
 * AGW does not serve (data channels, unknown media or protos, port 0)
 * keep their place with port 0 toward the other side, and the answer to
 * their offerer has them with port 0 (RFC 3264 keeps count and order).
 *
 * No I/O, no clock, no logging: the dialog layer sends the requests
 * (iq_call.h) and logs the errors.  Errors carry the SIP status the dialog
 * layer answers with (488 with a Warning text for SDP it cannot serve,
 * 500 for an AGW reply that does not fit the request). */
#ifndef EPCSCF_IMS_ALG_H
#define EPCSCF_IMS_ALG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_tlv.h"

enum alg_side { ALG_W3 = 0, ALG_IMS = 1 };

struct alg_cfg {
	const char *w3_realm;   /* REALM_NAME of W3 terminations ("w3") */
	const char *ims_realm;  /* REALM_NAME of IMS terminations ("ims") */
	bool bundle;            /* offer BUNDLE toward W3 (false: one W3
				 * termination per m-line, no a=group) */
	bool ims_avpf;          /* offer RTP/AVPF toward IMS (false: RTP/AVP) */
	const char *session_name; /* s= of SDP we originate ("-") */
};

struct alg_error {
	unsigned sip_status;    /* 488, 500, ... */
	char text[128];         /* for Warning: 399 and the log; no secrets */
};

/* One call's media state: the m-lines of both sides, the Iq+ ids, the
 * offer/answer in progress.  Owned by the dialog (alg_call_free). */
struct alg_call;

/* Returns 0, or ENOMEM.  cfg is copied (its strings too). */
int alg_call_new(struct alg_call **out, const struct alg_cfg *cfg);
void alg_call_free(struct alg_call *c);

/* The Iq+ CONTEXT_ID of the call; 0 before the first RESERVE reply. */
uint32_t alg_context_id(const struct alg_call *c);

/* An offer arrived from side `from` (sdp: len bytes, not NUL-terminated).
 * Builds the request for the AGW into req (iqp_msg_init'ed by the callee
 * into arena[cap], header code RESERVE or MODIFY; kind and txid are the
 * link's).  Returns 0, or an errno value with err filled (err->sip_status
 * 488 for SDP that cannot be served, 400 for SDP that does not parse,
 * 491 if an exchange is already outstanding). */
int alg_offer_in(struct alg_call *c, enum alg_side from, const char *sdp,
		 size_t len, struct iqp_msg *req, void *arena, size_t cap,
		 struct alg_error *err);

/* The AGW's successful reply to the request of alg_offer_in: writes the
 * offer for the other side into out[cap] (NUL-terminated, *len without
 * the NUL).  Returns 0 or an errno value with err (500 if the reply does
 * not fit the request, ENOSPC if cap is too small). */
int alg_offer_out(struct alg_call *c, const struct iqp_msg *reply, char *out,
		  size_t cap, size_t *len, struct alg_error *err);

/* The answer to the outstanding offer arrived (from the other side):
 * builds the CONFIGURE (or MODIFY) for the AGW into req.  An answer that
 * rejects everything, or whose codecs do not intersect the offer's, is
 * still turned into a request; err is filled only on failure.
 * The request is CONFIGURE; MODIFY when lines the AGW serves were refused
 * by the answer (their streams are removed); RELEASE of the context when
 * the answer leaves no media at all (alg_answer_out then writes an answer
 * with every m-line at port 0 and alg_context_id() becomes 0: the dialog
 * layer may answer the offerer with a failure instead). */
int alg_answer_in(struct alg_call *c, const char *sdp, size_t len,
		  struct iqp_msg *req, void *arena, size_t cap,
		  struct alg_error *err);

/* The AGW's reply to the request of alg_answer_in: writes the answer for
 * the offerer into out[cap]. */
int alg_answer_out(struct alg_call *c, const struct iqp_msg *reply, char *out,
		   size_t cap, size_t *len, struct alg_error *err);

/* The offer was refused or abandoned (error reply from the AGW, failure
 * response, CANCEL): the call returns to its state before alg_offer_in.
 * For a first offer nothing remains to release on the AGW unless
 * alg_context_id() is non-zero. */
void alg_offer_abandon(struct alg_call *c);

/* As alg_offer_abandon, for a re-offer whose request the AGW has already
 * applied (its MODIFY changed modes, codecs, remote addresses, added
 * streams): restores the call and builds into req the MODIFY that returns
 * the AGW to the last completed exchange (RFC 3264 section 8: a refused
 * offer leaves the session as it was).  Streams the offer added are
 * removed; streams it removed cannot come back and stay unserved; an ICE restart or a new DTLS association it started is not
 * undone.  STREAM_IDs and o= versions are not reused.
 * Returns 0 (send req), ENOENT (nothing to undo: the call was restored as
 * by alg_offer_abandon) or an errno value (restored; req not built). */
int alg_offer_revert(struct alg_call *c, struct iqp_msg *req, void *arena,
		     size_t cap);

/* Builds the RELEASE of the whole context into req.  Returns 0, ENOENT (no
 * context was ever reserved: nothing to send), or an errno value. */
int alg_release(struct alg_call *c, struct iqp_msg *req, void *arena,
		size_t cap);

#endif
