/* SDP value syntax shared by the SDP model (sdp_model.c): numbers, IP
 * literals, ICE characters and tokens (RFC 8839, RFC 8866), the names of
 * protos, media, hash functions and directions, a=fingerprint (RFC
 * 8122), a=setup (RFC 4145) and the grammar of m= lines.  Pure. */
#ifndef EPCSCF_SDP_SYNTAX_H
#define EPCSCF_SDP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdp_model.h"

/* snprintf(why, fmt, arg) and EBADMSG. */
int sdp_syntax_bad(char *why, size_t why_len, const char *fmt,
		   const char *arg);
/* Decimal number up to max: the whole string (end NULL) or up to the
 * first non-digit (*end).  0 or EINVAL. */
int sdp_syntax_ulong(const char *s, unsigned long max, unsigned long *out,
		     const char **end);
/* min..max characters of the ice-char set ([A-Za-z0-9+/]). */
bool sdp_syntax_ice_chars(const char *s, size_t min, size_t max);
/* min..max characters, each alphanumeric or in extra. */
bool sdp_syntax_token(const char *s, size_t min, size_t max,
		      const char *extra);
/* TRANSPORT_PROTO / MEDIA_TYPE enum of an m= token, 0 if other. */
uint8_t sdp_syntax_proto(const char *name);
uint8_t sdp_syntax_media(const char *name);
bool sdp_syntax_rtp_proto(uint8_t proto);
/* a=fingerprint value into fps[*n] (unknown hashes skipped). */
int sdp_syntax_fingerprint(struct sdpm_fp *fps, unsigned *n, const char *v,
			   char *why, size_t why_len);
int sdp_syntax_setup(const char *v, uint8_t *out, char *why, size_t wl);
/* Every m= line of the text follows RFC 8866's grammar. */
bool sdp_syntax_media_lines(const char *sdp, size_t len);

#endif
