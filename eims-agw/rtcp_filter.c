/* Removing browser-only RTCP feedback (RFC 4585, RFC 8888 / transport-cc
 * draft, REMB draft) from compound packets. */
#include "rtcp_filter.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "byte_order.h"

enum { RTCP_SR = 200, RTCP_RR = 201, RTCP_RTPFB = 205, RTCP_PSFB = 206 };

static bool browser_only(const uint8_t *q, size_t n)
{
	unsigned pt = q[1], fmt = q[0] & 0x1f;

	if (pt == RTCP_RTPFB && fmt == 15)
		return true; /* transport-wide congestion control */
	if (pt == RTCP_PSFB && fmt == 15 && n >= 16 && !memcmp(q + 12, "REMB", 4))
		return true;
	return false;
}

int rtcp_filter_to_ims(uint8_t *p, size_t *len, struct rtcp_route *r)
{
	size_t i = 0, out = 0;

	memset(r, 0, sizeof(*r));
	while (i < *len) {
		size_t n = rtcp_packet_len(p + i, *len - i);
		if (!n)
			return EINVAL;
		const uint8_t *q = p + i;
		if (n >= 8 && !r->sender)
			r->sender = be32_get(q + 4);
		if (!r->media) {
			if ((q[1] == RTCP_SR && (q[0] & 0x1f) && n >= 28 + 24) ||
			    (q[1] == RTCP_RR && (q[0] & 0x1f) && n >= 8 + 24))
				r->media = be32_get(q + (q[1] == RTCP_SR ? 28 : 8));
			else if ((q[1] == RTCP_RTPFB || q[1] == RTCP_PSFB) && n >= 12)
				r->media = be32_get(q + 8);
		}
		if (browser_only(q, n)) {
			r->removed++;
		} else {
			if (out != i)
				memmove(p + out, p + i, n);
			out += n;
		}
		i += n;
	}
	*len = out;
	return 0;
}
