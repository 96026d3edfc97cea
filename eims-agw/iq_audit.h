/* AUDIT on the AGW (proto/SPEC.md 7.11, 11.6), the controller's view of
 * what the AGW holds:
 *
 *   CAPABILITIES  CAPACITY, LOAD, the REALM list (with the media port
 *                 range), CAPABILITIES, as registered and as now
 *   CONTEXT_LIST  the link's contexts above AUDIT_CURSOR in ascending
 *                 CONTEXT_ID order, each { CONTEXT_ID, CALL_REF,
 *                 EMERGENCY, TERMINATION { TERM_ID, TERM_KIND, TERM_STATE } };
 *                 at most AUDIT_LIMIT of them and no more than fit the
 *                 controller's MAX_FRAME and MAX_ELEMENTS (never 533);
 *                 AUDIT_CURSOR = the last one returned, AUDIT_MORE
 *   CONTEXT       one context in full (8.7 column Au)
 *   STATISTICS    STATS of each stream of every termination, or of those
 *                 listed
 *
 * Unknown context: 411 (a context of another link is unknown to this one,
 * 8.1 item 7).  Elements the AGW does not keep are not returned: PTIME,
 * MAXPTIME, FMTP, RTCP_FB, CCM_INTERWORK, RTCP_RSIZE, ICE_END_OF_CANDIDATES
 * (the media plane does not use them), and never ICE_REMOTE_PWD or
 * ICE_LOCAL_PWD (8.7 note 4). */
#ifndef AGW_IQ_AUDIT_H
#define AGW_IQ_AUDIT_H

#include "iq_calls.h"

/* The AUDIT handler, for struct iqp_link_calls (arg: struct iq_calls). */
void iq_audit_on_request(void *arg, struct iqp_link *l, const struct iqp_msg *m);

/* The CONTEXT_LIST page of owner's contexts above cursor: at most limit
 * contexts, the encoded reply within max_frame bytes and MAX_ELEMENTS.
 * r: a reply started with no arena (iqp_msg_init with NULL, any cap) is
 * replaced by one sized for the page.  Returns 0 or ENOMEM (then r holds
 * nothing to free). */
int iq_audit_list_page(struct media_plane *mp, const void *owner, uint32_t cursor,
		       uint32_t limit, size_t max_frame, const struct iqp_header *h,
		       struct iqp_msg *r);

#endif
