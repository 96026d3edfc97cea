/* RTP headers from the network (both legs) into rtp_header_parse and the
 * receive statistics: never a crash, a read past the end, or a payload
 * outside the packet. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rtp_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_rx_stats s = { 0 };
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t off, len;

	if (!rtp_header_parse(data, size, &seq, &ts, &ssrc, &off, &len)) {
		if (off > size || len > size - off)
			abort();
		rtp_stats_update(&s, seq, ts, ssrc, len, 1000, data[1] & 1 ? 90000 : 48000);
		rtp_stats_update(&s, (uint16_t)(seq + 40000), ts ^ 0x80000000u, ssrc, len, 2000, 8000);
		(void)rtp_stats_lost(&s);
		(void)rtp_stats_jitter_us(&s);
	}
	return 0;
}
