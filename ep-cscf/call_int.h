/* Internals shared by call_session.c and call_invite.c. */
#ifndef EPCSCF_CALL_INT_H
#define EPCSCF_CALL_INT_H

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "sip_dialog.h"
#include "sip_invite_txn.h"
#include "sip_proxy.h"

/* The transaction callbacks of every call (owner: the call). */
extern const struct itxn_ops call_tx_ops;

/* The call's transaction of this kind toward side ws with this branch. */
struct itxn *call_find_txn(const struct call *c, enum itxn_kind kind, int ws, const char *branch);
/* The same among every call with the message's Call-ID (flow_id when ws);
 * *out is its call. */
struct itxn *call_find_any(struct sip_proxy *p, sip_t const *sip, enum itxn_kind kind, int ws,
			   uint64_t flow_id, const char *branch, struct call **out);
void call_push_txn(struct call *c, struct itxn *x);
/* msg printed into a malloc'd copy (NULL on failure). */
char *call_print_copy(msg_t *msg, size_t *len);
/* "<uri>, <uri>" of the Record-Route entries that are not ours: in order,
 * or (reverse) those above ours, reversed.  malloc'd, NULL when none. */
char *call_route_text(struct sip_proxy *p, msg_t *msg, sip_record_route_t const *rr, int reverse);
void call_set_target(char **field, sip_contact_t const *m);
/* What a response with a To tag from the callee's side teaches. */
void call_learn_from_response(struct sip_proxy *p, struct call *c, msg_t *msg);
void call_track_cseq(struct call *c, sip_t const *sip, enum call_side from);

#endif
