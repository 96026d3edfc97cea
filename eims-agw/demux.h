/* Demultiplexing of one W3 datagram by its first bytes (RFC 7983 as
 * updated by RFC 9443), and RTP versus RTCP on an rtcp-mux port (RFC 5761
 * section 4).  Pure: no state, no allocation. */
#ifndef AGW_DEMUX_H
#define AGW_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum demux_kind {
	DEMUX_STUN,          /* 0-3, magic cookie present */
	DEMUX_ZRTP,          /* 16-19 (never negotiated here: counted, dropped) */
	DEMUX_DTLS,          /* 20-63 */
	DEMUX_TURN_CHANNEL,  /* 64-79 (never negotiated here: counted, dropped) */
	DEMUX_RTP,           /* 128-191, version 2, not an RTCP packet type */
	DEMUX_RTCP,          /* 128-191, version 2, packet type 192-223 */
	DEMUX_UNKNOWN,       /* anything else, or too short to be what it claims */
	DEMUX_KINDS
};

enum demux_kind demux_classify(const uint8_t *p, size_t len);

const char *demux_kind_name(enum demux_kind k);

#endif
