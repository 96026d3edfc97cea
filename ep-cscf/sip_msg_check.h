/* Checks of a message sofia-sip has parsed (sip_msg.c's parse step):
 * bad and duplicate headers from sofia's error list, URIs its printer
 * would change, Content-Length, and the request rules of RFC 3261 16.3
 * steps 1, 2 and 5.  Internal to sip_msg.c and sip_msg_check.c. */
#ifndef EPCSCF_SIP_MSG_CHECK_H
#define EPCSCF_SIP_MSG_CHECK_H

#include <sofia-sip/sip.h>

#include "sip_msg.h"

/* Fills e (status 0: drop; else the response to send) and returns
 * EBADMSG. */
int sip_msg_fail(struct sip_msg_error *e, int status, const char *reason);

/* The first entry of sofia's error list for header `name` (a line that is
 * no header when NULL), or NULL. */
msg_error_t const *sip_msg_find_error(sip_t const *sip, const char *name);

/* A parsed response: 0 (relay it; e->reason names a bad header it does not
 * need, if any) or EBADMSG with e->status 0 (drop). */
int sip_msg_check_response(msg_t *msg, sip_t *sip, struct sip_msg_error *e);

/* A parsed request: 0 (e->reason as above) or EBADMSG with e->status 0
 * (drop) or the response to send. */
int sip_msg_check_request(msg_t *msg, sip_t *sip, struct sip_msg_error *e);

#endif
