/* Decrypted RTCP and RTP from the WIC: the RTCP filter toward IMS, PLI ->
 * FIR (RFC 5104), the header extension reader and stripper, and BUNDLE
 * routing on arbitrary bytes: no crash, no read past the end, lengths
 * only shrink (PLI -> FIR: grow by exactly 8 per PLI, within the room
 * given, and what it makes parses as RTCP again). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp_ccm.h"
#include "rtcp_filter.h"
#include "rtp_ext.h"
#include "w3_bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct w3_bundle b;
	uint8_t buf[2048];
	struct rtcp_route r;
	const uint8_t *v;
	size_t vl, len;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	len = size;
	if (!rtcp_filter_to_ims(buf, &len, &r) && len > size)
		abort();
	memcpy(buf, data, size);
	len = size;
	{
		uint8_t seq = data[0] & 0xff, seq0 = seq;
		unsigned n = 0, n2 = 0;
		size_t cap = size + (size ? data[size - 1] : 0);
		if (cap > sizeof(buf))
			cap = sizeof(buf);
		if (!rtcp_pli_to_fir(buf, &len, cap, &seq, &n)) {
			if (len != size + 8 * (size_t)n || len > cap || (uint8_t)(seq0 + n) != seq)
				abort();
			/* The result is a well-formed compound without PLIs. */
			if (rtcp_pli_to_fir(buf, &len, sizeof(buf), &seq, &n2) || n2)
				abort();
		} else if (len != size || seq != seq0 || memcmp(buf, data, size)) {
			abort();
		}
	}
	memcpy(buf, data, size);
	len = size;
	if (size && !rtp_ext_find(buf, size, (uint8_t)(data[0] & 0x0f), &v, &vl) &&
	    (v < buf || v + vl > buf + size))
		abort();
	if (!rtp_ext_strip(buf, &len) && len > size)
		abort();
	if (!b.on) {
		b.on = true, b.mid_ext_id = 1, b.n = 2;
		strcpy(b.e[0].mid, "0"), b.e[0].stream_id = 1, b.e[0].n_pt = 1, b.e[0].pt[0] = 111;
		strcpy(b.e[1].mid, "1"), b.e[1].stream_id = 2, b.e[1].n_pt = 1, b.e[1].pt[0] = 96;
	}
	if (size >= 12) {
		uint16_t id = w3_bundle_route_rtp(&b, data, size, (uint32_t)data[8] << 24 | data[11]);
		if (id > 2)
			abort();
	}
	return 0;
}
