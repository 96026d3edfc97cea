/* How calls end.  Signalling ends them (BYE from either side, a failure
 * response, CANCEL, a transaction timeout): call_ended marks them and
 * releases their media.  The eP-CSCF ends them itself (flow closed, media
 * failure reported by the eIMS-AGW, loss of the AGW): call_end also sends
 * what the two sides need: BYE both ways for a confirmed call; for one
 * still being set up, a failure response toward the caller and CANCEL
 * toward the callee.  Either way the media is released exactly once. */
#ifndef EPCSCF_CALL_END_H
#define EPCSCF_CALL_END_H

#include "sip_dialog.h"

struct sip_proxy;
struct itxn;

/* reason: for the log and the Reason header ("flow closed"). */
void call_ended(struct sip_proxy *p, struct call *c, const char *reason);
/* status: the failure response toward the caller of a call being set
 * up (480, 500, 503). */
void call_end(struct sip_proxy *p, struct call *c, const char *reason, int status);

/* Requests the eP-CSCF builds itself (malloc'd text, NULL on ENOMEM or a
 * stored request that does not parse): the CANCEL of an INVITE we sent,
 * and the ACK of a non-2xx response to it (to_hdr: the response's To). */
char *call_build_cancel(const char *invite, size_t len, size_t *out_len);
char *call_build_ack(const char *invite, size_t len, msg_t *response, size_t *out_len);

/* A failure response toward the side the INVITE of server transaction sx
 * came from, built from the request the call stored. */
void call_respond_up(struct sip_proxy *p, struct call *c, struct itxn *sx, int status,
		     const char *phrase, const char *warning);
/* CANCEL of client transaction cx (now, or at its first provisional). */
void call_cancel_down(struct sip_proxy *p, struct call *c, struct itxn *cx);

#endif
