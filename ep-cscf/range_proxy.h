/* The SIP side of WWSF IMPU ranges (range_register.h): the eP-CSCF as the
 * registrar of WICs given IMPUs from a range (TR 23.701 5.3.2.1.5), the
 * range's own registration toward IMS (5.3.2.1.4, registration mode) and
 * the delivery of terminating requests for the range's IMPUs to the right
 * flow.
 *
 * A guest REGISTER (its token verified by tna_request, its IMPU from a
 * range) is answered here: 200 with its contact and P-Associated-URI
 * once the range is registered in IMS (the first guest of a range waits
 * for that REGISTER's 2xx; a failure gets 503, or 403 when IMS refused
 * the range with 403), its Expires 0 with a 200 that ends the binding.
 * The flow's binding (reg_binding.h) then asserts the guest IMPU on its
 * originating requests and routes them by the range's Service-Route.
 * The range registration is refreshed at half its lifetime while any
 * guest of it is registered, and de-registered at that point when none
 * is. */
#ifndef EPCSCF_RANGE_PROXY_H
#define EPCSCF_RANGE_PROXY_H

#include <sofia-sip/msg.h>

#include "sip_proxy.h"

/* Most guest REGISTERs held for one range registration in flight. */
#define RANGE_PENDING_MAX 1000
/* The lifetime asked for a range registration, seconds. */
#define RANGE_EXPIRES 600

void range_proxy_init(struct sip_proxy *p);

/* A REGISTER from flow f whose token gave an IMPU from a range (tf: the
 * flow's web-authentication state).  Takes msg. */
void range_guest_register(struct sip_proxy *p, struct flow *f, const struct tna_flow *tf,
			  msg_t *msg);

/* A response from IMS to a client transaction of no flow: 1 when it
 * belongs to a range registration (handled; msg untouched), else 0. */
int range_reg_response(struct sip_proxy *p, msg_t *msg);
/* Timer F of a client transaction of no flow: 1 when it was a range
 * REGISTER's (handled as a failure), else 0. */
int range_reg_timeout(struct sip_proxy *p, const char *branch);

/* A request from IMS whose top Route (ours) has user part route_user.
 * Returns 0 with *out the flow registered for the called IMPU (the
 * Request-URI rewritten to that flow's contact), ENOENT when route_user
 * names no range, EINVAL when the request names no IMPU of the range (404),
 * EHOSTUNREACH when no flow is registered for it (480), or ENOMEM. */
int range_terminating(struct sip_proxy *p, msg_t *msg, const char *route_user, struct flow **out);

/* Once a second: refreshes, de-registers or lapses range registrations. */
void range_sweep(struct sip_proxy *p, uint64_t now_ms);

#endif
