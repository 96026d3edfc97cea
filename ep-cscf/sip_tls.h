/* TLS contexts for SIP toward the IMS core (RFC 3261 26.2.1, TS 33.210
 * NDS/IP where operators use TLS rather than IPsec on the Mw interface).
 *
 * The sessions are proto/iqp_tls.h's memory-BIO sessions (socket I/O stays
 * in ims_tcp.c); only the policy differs from Iq+'s: TLS 1.2 or 1.3 (IMS
 * nodes in service today rarely have 1.3 only), AEAD ECDHE suites for 1.2,
 * no ALPN, no tickets.  Both directions authenticate the peer: a pinned
 * SHA-256 fingerprint or a chain that verifies against the CA file; the
 * client also checks the next hop's name (subjectAltName dNSName) when
 * one is configured.  Our certificate is the eP-CSCF's identity. */
#ifndef EPCSCF_SIP_TLS_H
#define EPCSCF_SIP_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "iqp_tls.h"
#include "tls_identity.h"

/* Fills c for the server (IMS nodes connecting to us) or client side.
 * pins: n_pins fingerprints as iqp_tls_fingerprint_parse reads them;
 * ca_file: NULL or "" for none.  At least one of the two is needed (an
 * unauthenticated IMS peer is never accepted).  Returns 0 or an errno
 * value with err set; free with iqp_tls_ctx_free. */
int sip_tls_ctx_init(struct iqp_tls_ctx *c, bool server,
		     const struct tls_identity *id, const char *const *pins,
		     size_t n_pins, const char *ca_file, char *err, size_t errlen);

#endif
