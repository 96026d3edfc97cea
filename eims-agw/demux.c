/* First-byte demultiplexing (RFC 7983 section 7, RFC 9443 section 3). */
#include "demux.h"

#define STUN_MIN 20
#define DTLS_RECORD_MIN 13 /* content type, version, epoch, sequence, length */
#define RTP_MIN 12
#define RTCP_MIN 8

enum demux_kind demux_classify(const uint8_t *p, size_t len)
{
	if (len == 0)
		return DEMUX_UNKNOWN;
	uint8_t b = p[0];
	if (b <= 3) {
		/* The cookie tells STUN from stray bytes (RFC 8489 6). */
		if (len >= STUN_MIN && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xA4 &&
		    p[7] == 0x42 && (p[2] << 8 | p[3]) % 4 == 0 &&
		    (size_t)(p[2] << 8 | p[3]) + STUN_MIN == len)
			return DEMUX_STUN;
		return DEMUX_UNKNOWN;
	}
	if (b >= 16 && b <= 19)
		return DEMUX_ZRTP;
	if (b >= 20 && b <= 63)
		return len >= DTLS_RECORD_MIN ? DEMUX_DTLS : DEMUX_UNKNOWN;
	if (b >= 64 && b <= 79)
		return DEMUX_TURN_CHANNEL;
	if (b >= 128 && b <= 191) {
		/* Version 2 is 10xxxxxx, which the range already implies. */
		if (len >= 2 && p[1] >= 192 && p[1] <= 223)
			return len >= RTCP_MIN ? DEMUX_RTCP : DEMUX_UNKNOWN;
		return len >= RTP_MIN ? DEMUX_RTP : DEMUX_UNKNOWN;
	}
	return DEMUX_UNKNOWN;
}

const char *demux_kind_name(enum demux_kind k)
{
	static const char *const names[DEMUX_KINDS] = {
		"stun", "zrtp", "dtls", "turn_channel", "rtp", "rtcp", "unknown",
	};
	return (unsigned)k < DEMUX_KINDS ? names[k] : "unknown";
}
