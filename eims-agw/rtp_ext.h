/* RTP header extensions (RFC 8285): finding one element (the BUNDLE MID,
 * RFC 8843 15.2) and removing the whole extension block before a packet
 * leaves toward a leg that never negotiated it.  Pure: buffers only. */
#ifndef AGW_RTP_EXT_H
#define AGW_RTP_EXT_H

#include <stddef.h>
#include <stdint.h>

/* The value of extension element `id` (1..14 one-byte, 1..255 two-byte
 * form) in RTP packet p.  Returns 0 with *val and *vlen pointing into p, ENOENT
 * when absent, EINVAL for a malformed header or extension block. */
int rtp_ext_find(const uint8_t *p, size_t len, uint8_t id, const uint8_t **val, size_t *vlen);

/* Removes the header extension (X bit, profile word and data) in place;
 * *len shrinks.  No extension: nothing changes.  Returns 0 or EINVAL. */
int rtp_ext_strip(uint8_t *p, size_t *len);

#endif
