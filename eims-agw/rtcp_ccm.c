/* PLI -> FIR for IMS peers that only speak RFC 5104 codec control. */
#include "rtcp_ccm.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "byte_order.h"
#include "rtcp_filter.h"

enum { RTCP_PSFB = 206, FMT_PLI = 1, FMT_FIR = 4, PLI_LEN = 12, FIR_LEN = 20 };

static bool is_pli(const uint8_t *q, size_t n)
{
	return q[1] == RTCP_PSFB && (q[0] & 0x1f) == FMT_PLI && n == PLI_LEN;
}

int rtcp_pli_to_fir(uint8_t *p, size_t *len, size_t cap, uint8_t *fir_seq,
		    unsigned *converted)
{
	size_t i = 0, grow = 0, starts[64], k = 0;
	unsigned n_pli = 0;
	bool too_many = false;

	*converted = 0;
	/* Check the compound, size the result and note where each packet
	 * starts. */
	while (i < *len) {
		size_t n = rtcp_packet_len(p + i, *len - i);
		if (!n)
			return EINVAL;
		if (k < 64)
			starts[k++] = i;
		else
			too_many = true;
		if (is_pli(p + i, n)) {
			n_pli++;
			grow += FIR_LEN - PLI_LEN;
		}
		i += n;
	}
	if (!n_pli)
		return 0;
	if (*len + grow > cap)
		return ENOSPC;
	if (too_many)
		return EINVAL; /* over 64 packets in one compound: not RTCP */
	/* Back to front, so that nothing is overwritten before it is moved:
	 * each packet moves right by the growth of the PLIs before it. */
	size_t end = *len, shift = grow;
	unsigned left = n_pli; /* PLIs before this one, plus one */
	while (k--) {
		size_t at = starts[k], n = end - at;
		if (is_pli(p + at, n)) {
			uint32_t sender = be32_get(p + at + 4), media = be32_get(p + at + 8);
			shift -= FIR_LEN - PLI_LEN;
			uint8_t *f = p + at + shift;
			f[0] = 0x80 | FMT_FIR;
			f[1] = RTCP_PSFB;
			be16_put(f + 2, FIR_LEN / 4 - 1);
			be32_put(f + 4, sender);
			be32_put(f + 8, 0); /* media source: unused for FIR */
			be32_put(f + 12, media);
			f[16] = (uint8_t)(*fir_seq + --left); /* in packet order */
			f[17] = f[18] = f[19] = 0;
		} else if (shift) {
			memmove(p + at + shift, p + at, n);
		}
		end = at;
	}
	*len += grow;
	*fir_seq = (uint8_t)(*fir_seq + n_pli);
	*converted = n_pli;
	return 0;
}
