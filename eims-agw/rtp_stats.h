/* Receive statistics of one RTP stream (RFC 3550 appendix A.1, A.3, A.8):
 * packets and payload octets accepted, extended highest sequence number,
 * expected and lost packets, interarrival jitter.  Pure: the caller passes
 * the arrival time in ms and the clock rate of the payload format. */
#ifndef AGW_RTP_STATS_H
#define AGW_RTP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtp_rx_stats {
	uint64_t packets, octets;
	bool started;
	uint32_t ssrc;           /* the source being tracked (the first seen) */
	uint16_t max_seq;
	uint32_t cycles;         /* shifted count of sequence number cycles */
	uint32_t base_seq;
	uint32_t received;       /* packets of the tracked source */
	double jitter;           /* timestamp units */
	int64_t last_transit;
	bool has_transit;
	uint32_t clock;          /* clock rate used for the jitter */
};

/* Fields of an RTP header needed here.  Returns 0, or EINVAL when p is
 * not an RTP packet of version 2 with a consistent header; *payload_off
 * is where the payload starts (after CSRCs and extension), *payload_len
 * its length without padding. */
int rtp_header_parse(const uint8_t *p, size_t len, uint16_t *seq, uint32_t *ts,
		     uint32_t *ssrc, size_t *payload_off, size_t *payload_len);

/* One accepted packet of payload_len octets. */
void rtp_stats_update(struct rtp_rx_stats *s, uint16_t seq, uint32_t ts, uint32_t ssrc,
		      size_t payload_len, uint64_t arrival_ms, uint32_t clock);

/* Cumulative lost packets (expected - received, floored at 0; A.3). */
uint64_t rtp_stats_lost(const struct rtp_rx_stats *s);
/* Interarrival jitter in microseconds (0 when unknown). */
uint32_t rtp_stats_jitter_us(const struct rtp_rx_stats *s);

#endif
