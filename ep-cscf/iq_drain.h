/* Controller-initiated drain (SPEC.md 7.7 item 2, 7.7 item 5): the
 * operator lists in iq.drain the NODE_IDs of the AGWs to take out of
 * service (reloadable: edit, then SIGHUP).  Each listed AGW in service
 * gets SERVICE_CHANGE GRACEFUL 905: no new calls go to it, running calls
 * go on, and when its last context goes the AGW sends FORCED 905 (out of
 * service).  An AGW this controller drained and no longer listed gets
 * SERVICE_CHANGE RESTART (918 while draining, 900 when out of service).
 * Applied at start, after each reload, and when an AGW registers.  The
 * list is desired state: AGWs drained by their own operator are left
 * alone. */
#ifndef EPCSCF_IQ_DRAIN_H
#define EPCSCF_IQ_DRAIN_H

#include "conf.h"

struct iq_server;

/* Compares every registered AGW with list (borrowed: the configuration's
 * field, read again at each call) and sends what differs. */
void iq_drain_apply(struct iq_server *s, const struct conf_list *list);

#endif
