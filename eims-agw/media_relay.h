/* What crosses between two connected streams (proto/SPEC.md 8.11, 8.12):
 * payload type maps from the codec lists of both legs, the gate of
 * STREAM_MODE, and the common ingress steps (statistics, inactivity).
 * Pure functions over the stream objects; no I/O. */
#ifndef AGW_MEDIA_RELAY_H
#define AGW_MEDIA_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media_context.h"

/* Whether codec lists a and b (of two connected streams) allow media in
 * both directions without transcoding (8.11 items 2-3): some codec other
 * than telephone-event on both.  Lists that are empty (non-RTP media)
 * match. */
bool media_relay_codecs_match(const struct media_codec *a, size_t na,
			      const struct media_codec *b, size_t nb);

/* Rebuilds pt_map of every stream of c from its peer's codecs. */
void media_relay_update(struct media_ctx *c);

/* The gate (8.12 item 1): may media received from s's peer be accepted
 * (rx), may the AGW send media to s's peer (tx)? */
static inline bool media_gate_rx(const struct media_stream *s)
{
	return s->mode == MODE_SENDRECV || s->mode == MODE_RECVONLY;
}
static inline bool media_gate_tx(const struct media_stream *s)
{
	return s->mode == MODE_SENDRECV || s->mode == MODE_SENDONLY;
}

/* Ingress bookkeeping of an accepted RTP packet on s: statistics,
 * inactivity re-arm.  Returns 0 with the payload length, or EINVAL
 * (malformed RTP). */
int media_relay_ingress(struct media_stream *s, const uint8_t *pkt, size_t len,
			uint64_t now, size_t *payload_len);

/* Forwards an RTP packet received (and accepted) on `from` to its peer:
 * gate, payload type rewrite, then the egress leg's send.  pkt has cap
 * bytes of room. */
void media_relay_rtp(struct media_stream *from, uint8_t *pkt, size_t len, size_t cap,
		     size_t payload_len);
/* The same for RTCP (not gated, 8.12 item 1). */
void media_relay_rtcp(struct media_stream *from, uint8_t *pkt, size_t len, size_t cap);

#endif
