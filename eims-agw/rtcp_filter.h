/* RTCP compound packets from the WIC on their way to IMS (SPEC 8.9.3):
 * feedback only the browser's congestion control uses (RTPFB transport-cc,
 * FMT 15; PSFB application layer feedback REMB, FMT 15 with "REMB") is
 * removed; everything else (SR, RR, SDES, BYE, NACK, PLI, FIR...) stays.
 * Also the SSRCs used to route the packet (8.9.4 item 3).  Pure. */
#ifndef AGW_RTCP_FILTER_H
#define AGW_RTCP_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "byte_order.h"

struct rtcp_route {
	uint32_t sender;    /* SSRC of the first packet's sender, 0: none */
	uint32_t media;     /* first report block or feedback media SSRC, 0: none */
	unsigned removed;   /* packets taken out */
};

/* The length in bytes of the RTCP packet at p, `left` bytes from the end
 * of its compound; 0 when it is not RTCP version 2 or its length field
 * runs past the compound.  The step of every walk over a compound. */
static inline size_t rtcp_packet_len(const uint8_t *p, size_t left)
{
	if (left < 4 || (p[0] >> 6) != 2)
		return 0;
	size_t n = 4 * ((size_t)be16_get(p + 2) + 1);
	return n > left ? 0 : n;
}

/* Walks the compound packet in p (already decrypted), removes browser-only
 * feedback in place (*len shrinks) and fills *r.  Returns 0, or EINVAL when
 * the compound is malformed (lengths do not add up). */
int rtcp_filter_to_ims(uint8_t *p, size_t *len, struct rtcp_route *r);

#endif
