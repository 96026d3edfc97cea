/* Iq+ body validation (SPEC.md 4.4 passes 2 and 3, 4.5, 4.6) against the
 * schema of iqp_schema.h, and the whole receive path of one frame.
 *
 * Pass 1 (structure) is iqp_msg_parse; pass 4 (command-specific checks and
 * execution: 410, 411, 473, event parameters...) belongs to the command
 * handlers, which may rely on everything passes 1-3 guarantee: every
 * element left without IQP_EF_SKIP is registered, permitted where it is,
 * correctly encoded, within its cardinality and range, and every required
 * element is present. */
#ifndef PROTO_IQP_VALIDATE_H
#define PROTO_IQP_VALIDATE_H

#include "iqp_tlv.h"

/* Options. */
#define IQP_V_RESERVED 0x01u /* implement the reserved elements of 12.2;
			      * without it they are unknown (8.13) */

/* Passes 2 and 3 over a parsed message sent by a peer of role `sender`.
 * Marks unknown and misplaced M-clear elements IQP_EF_SKIP.  Returns 0;
 * EBADMSG with err (the first failure in the order of 4.4, with
 * ERROR_ELEMENT, ERROR_OFFSET and the action for the frame's kind);
 * EPROTO with err 401/close for a REPLY whose code is not a request code
 * (3.5 check 11 applies); EINVAL for a bad role. */
int iqp_msg_validate(struct iqp_msg *m, unsigned sender, unsigned opts,
		     struct iqp_error *err);

/* The receive path after the framer: 3.5 checks 6-9, pass 1, passes 2-3.
 * Arena as for iqp_msg_parse.  Returns 0 or the first error as above;
 * m is always safe to iqp_msg_free. */
int iqp_msg_decode(struct iqp_msg *m, const struct iqp_header *h,
		   const uint8_t *body, unsigned sender, unsigned opts,
		   void *arena, size_t arena_len, struct iqp_error *err);

#endif
