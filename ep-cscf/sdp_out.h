/* Building an SDP to send, as sofia-sip session structures printed by
 * sofia's SDP printer (directions are written as plain attributes:
 * sdp_f_mode_manual).  Everything is allocated in one su_home owned by
 * the builder; errors are sticky and reported by sdp_out_print.
 * Pure: no I/O. */
#ifndef EPCSCF_SDP_OUT_H
#define EPCSCF_SDP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "iqp_tlv.h"

struct sdp_out;
struct sdp_out_media;

/* o=- id version IN <addr>, s=name, t=0 0.  addr NULL: IN IP4 127.0.0.1.
 * Returns NULL on ENOMEM. */
struct sdp_out *sdp_out_new(uint64_t id, uint64_t version,
			    const struct iqp_ip *addr, const char *name);
void sdp_out_free(struct sdp_out *o);

void sdp_out_conn(struct sdp_out *o, const struct iqp_ip *addr);
/* a=name[:value] at session level (value printf-style, NULL: none). */
void sdp_out_attr(struct sdp_out *o, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* m=media port proto; formats come from sdp_out_codec or sdp_out_fmt. */
struct sdp_out_media *sdp_out_media(struct sdp_out *o, const char *media,
				    unsigned port, const char *proto);
void sdp_out_media_conn(struct sdp_out *o, struct sdp_out_media *m,
			const struct iqp_ip *addr);
/* A format token without rtpmap (non-RTP or rejected m-lines). */
void sdp_out_fmt(struct sdp_out *o, struct sdp_out_media *m, const char *fmt);
/* An RTP payload format: pt in the m= line, a=rtpmap and a=fmtp. */
void sdp_out_codec(struct sdp_out *o, struct sdp_out_media *m, unsigned pt,
		   const char *name, unsigned long rate, unsigned channels,
		   const char *fmtp);
void sdp_out_media_attr(struct sdp_out *o, struct sdp_out_media *m,
			const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prints into out[cap] with a terminating NUL (*len without it).  Returns
 * 0, ENOMEM (a builder call failed), ENOSPC (cap too small), EINVAL
 * (sofia refused to print). */
int sdp_out_print(struct sdp_out *o, char *out, size_t cap, size_t *len);

#endif
