/* IMS termination streams (proto/SPEC.md 8.10): an RTP port (even) and an
 * RTCP port (RTP + 1, unless rtcp-mux) per stream on a realm address,
 * latching (LATCH, RELATCH), and the packet path from the IMS side toward
 * the connected W3 stream. */
#ifndef AGW_TERM_IMS_H
#define AGW_TERM_IMS_H

#include <stddef.h>
#include <stdint.h>

#include "media_context.h"

/* Opens the stream's sockets on addr (port 0 in want_port: from the pool,
 * else that port).  Returns 0, EADDRNOTAVAIL (no port free) or an errno
 * of bind. */
int term_ims_open_stream(struct media_stream *s, const struct iqp_ip *addr, uint16_t want_port);
/* Closes the stream's sockets (handles of its termination); a removed
 * stream is freed when they have closed. */
void term_ims_close_stream(struct media_stream *s);

/* Media toward the IMS peer of s (payload type already rewritten). */
void term_ims_send_rtp(struct media_stream *s, const uint8_t *pkt, size_t len,
		       size_t payload_len);
void term_ims_send_rtcp(struct media_stream *s, const uint8_t *pkt, size_t len);

#endif
