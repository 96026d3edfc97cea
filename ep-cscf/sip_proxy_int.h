/* Helpers shared by the parts of the proxy core: sip_proxy.c (life
 * cycle, helpers), sip_proxy_ws.c (messages from browsers) and
 * sip_proxy_ims.c (messages from IMS).  Not for other modules. */
#ifndef EPCSCF_SIP_PROXY_INT_H
#define EPCSCF_SIP_PROXY_INT_H

#include "sip_proxy.h"

struct log_ids sip_proxy_ids_of(sip_t const *sip);
/* Counts a message by method or status code, side SIP_FROM_*. */
void sip_proxy_count(struct sip_proxy *p, sip_t const *sip, unsigned side);
/* Max-Forwards: 483 at zero, else decremented (70 when absent); -1 on
 * ENOMEM. */
int sip_proxy_max_forwards(msg_t *msg, sip_t *sip);
/* Removes the leading Route entries that name us and returns the flow
 * token of the first (in token[len]), or NULL. */
const char *sip_proxy_pop_our_routes(struct sip_proxy *p, msg_t *msg, sip_t *sip,
				     char *token, size_t len);
/* Requests that create a dialog get our double Record-Route. */
int sip_proxy_creates_dialog(sip_t const *sip);
/* Double Record-Route with the flow token (RFC 5658); toward_ims: the
 * request leaves toward IMS.  Returns 0 or ENOMEM. */
int sip_proxy_record_route(struct sip_proxy *p, msg_t *msg, sip_t *sip, const struct flow *f,
			   int toward_ims);
/* Host part and transport parameter of our URIs toward IMS (Path,
 * Record-Route): the TLS listener when the next hop is reached over TLS. */
const char *sip_proxy_ims_uri_host(const struct sip_proxy *p);
const char *sip_proxy_ims_uri_transport(const struct sip_proxy *p);

#endif
