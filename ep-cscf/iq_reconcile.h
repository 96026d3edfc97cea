/* Reconciliation of an AGW's contexts after it registered again with the
 * same epoch (SPEC.md 7.9 item 3, 7.11 item 3): the controller snapshots
 * the contexts its calls own on the link (hooks.contexts), pages through
 * AUDIT CONTEXT_LIST, and then
 *   - RELEASEs a listed context no call owns (none created after the
 *     snapshot, and no RESERVE of a new context on the link in flight:
 *     its reply may name it);
 *   - hands a listed context with a FAILED termination to the normal
 *     failure handling (hooks.media_failed, event type 0);
 *   - reports a snapshot context the AGW did not list as lost
 *     (hooks.context_lost: the call ends, no RELEASE).
 * A failed AUDIT (error, link loss) ends the reconciliation without
 * conclusions: nothing is released or ended on partial knowledge.
 * Runs on the iq_calls object; requests go through iq_call_send. */
#ifndef EPCSCF_IQ_RECONCILE_H
#define EPCSCF_IQ_RECONCILE_H

#include "iq_call.h"

#define IQ_RECONCILE_PAGE 256 /* AUDIT_LIMIT per page (7.11 item 1: the default) */

/* Starts the reconciliation of link l.  Returns 0, ENOTCONN (link not
 * registered) or ENOMEM. */
int iq_reconcile_start(struct iq_calls *ic, struct iqp_link *l);
/* Frees every reconciliation in progress (process exit). */
void iq_reconcile_close(struct iq_calls *ic);

#endif
