/* The iq.realm setting: the IP realms (interfaces) the AGW registers with
 * its controllers (SPEC.md 7.2, 11.2 REALM).  Syntax, whitespace-separated
 * realm specs:
 *
 *   NAME[:SIDE]=ADDR[,ADDR...]
 *
 * SIDE is w3, ims or both (the side of the call the realm serves); it may
 * be left out when NAME itself is w3 or ims.  NAME is 1-64 of
 * [A-Za-z0-9._-], unique; ADDR an IPv4 or IPv6 literal, 1-8 per realm;
 * at most 32 realms.  Example: "w3=127.0.0.1 core:ims=10.0.0.10,fd00::a". */
#ifndef EIMSAGW_IQ_REALM_H
#define EIMSAGW_IQ_REALM_H

#include <stddef.h>

#include "iqp_link_reg.h"

/* Parses text into out (at most IQP_MAX_REALMS).  Returns 0 with *n, or
 * EINVAL with the reason in err (no key or place: the caller adds them). */
int iq_realm_parse(const char *text, struct iqp_realm *out, size_t *n,
		   char *err, size_t errlen);

#endif
