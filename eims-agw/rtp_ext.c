/* RTP header extension elements (RFC 8285 4.2, 4.3). */
#include "rtp_ext.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "byte_order.h"

/* Offset and length of the extension block's data, after the profile word. */
static int ext_block(const uint8_t *p, size_t len, size_t *hdr, size_t *data, size_t *dlen)
{
	if (len < 12 || (p[0] >> 6) != 2)
		return EINVAL;
	size_t off = 12 + 4u * (p[0] & 0x0f);
	if (!(p[0] & 0x10))
		return ENOENT;
	if (off + 4 > len)
		return EINVAL;
	size_t n = 4u * be16_get(p + off + 2);
	if (off + 4 + n > len)
		return EINVAL;
	*hdr = off;
	*data = off + 4;
	*dlen = n;
	return 0;
}

int rtp_ext_find(const uint8_t *p, size_t len, uint8_t id, const uint8_t **val, size_t *vlen)
{
	size_t hdr, d, n;
	int rc = ext_block(p, len, &hdr, &d, &n);

	if (rc)
		return rc;
	uint16_t profile = be16_get(p + hdr);
	bool one = profile == 0xbede, two = (profile & 0xfff0) == 0x1000;
	if (!one && !two)
		return ENOENT;
	size_t i = d, end = d + n;
	while (i < end) {
		if (p[i] == 0) { /* padding */
			i++;
			continue;
		}
		uint8_t eid;
		size_t elen;
		if (one) {
			eid = p[i] >> 4;
			elen = (size_t)(p[i] & 0x0f) + 1;
			if (eid == 15)
				return ENOENT; /* reserved: stop processing (RFC 8285 4.2) */
			i += 1;
		} else {
			if (i + 2 > end)
				return EINVAL;
			eid = p[i];
			elen = p[i + 1];
			i += 2;
		}
		if (i + elen > end)
			return EINVAL;
		if (eid == id) {
			*val = p + i;
			*vlen = elen;
			return 0;
		}
		i += elen;
	}
	return ENOENT;
}

int rtp_ext_strip(uint8_t *p, size_t *len)
{
	size_t hdr, d, n;
	int rc = ext_block(p, *len, &hdr, &d, &n);

	if (rc == ENOENT)
		return 0;
	if (rc)
		return rc;
	memmove(p + hdr, p + d + n, *len - (d + n));
	*len -= 4 + n;
	p[0] &= (uint8_t)~0x10;
	return 0;
}
