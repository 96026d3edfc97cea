/* RTP receive statistics after RFC 3550 appendix A. */
#include "rtp_stats.h"

#include <errno.h>

#include "byte_order.h"

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

int rtp_header_parse(const uint8_t *p, size_t len, uint16_t *seq, uint32_t *ts,
		     uint32_t *ssrc, size_t *payload_off, size_t *payload_len)
{
	size_t off, end = len;

	if (len < 12 || (p[0] >> 6) != 2)
		return EINVAL;
	off = 12 + 4u * (p[0] & 0x0f);
	if (off > len)
		return EINVAL;
	if (p[0] & 0x10) {
		if (off + 4 > len)
			return EINVAL;
		off += 4 + 4u * be16_get(p + off + 2);
		if (off > len)
			return EINVAL;
	}
	if (p[0] & 0x20) {
		if (len == off || p[len - 1] == 0 || p[len - 1] > len - off)
			return EINVAL;
		end = len - p[len - 1];
	}
	*seq = be16_get(p + 2);
	*ts = be32_get(p + 4);
	*ssrc = be32_get(p + 8);
	*payload_off = off;
	*payload_len = end - off;
	return 0;
}

static void init_seq(struct rtp_rx_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->cycles = 0;
	s->received = 0;
	s->has_transit = false;
}

void rtp_stats_update(struct rtp_rx_stats *s, uint16_t seq, uint32_t ts, uint32_t ssrc,
		      size_t payload_len, uint64_t arrival_ms, uint32_t clock)
{
	s->packets++;
	s->octets += payload_len;
	if (!s->started || ssrc != s->ssrc) {
		/* A new source (the first, or a changed SSRC): start over for
		 * loss and jitter; packet and octet counters keep running. */
		s->started = true;
		s->ssrc = ssrc;
		init_seq(s, seq);
	} else {
		uint16_t udelta = (uint16_t)(seq - s->max_seq);
		if (udelta < MAX_DROPOUT) {
			if (seq < s->max_seq)
				s->cycles += RTP_SEQ_MOD;
			s->max_seq = seq;
		} else if (udelta > RTP_SEQ_MOD - MAX_MISORDER) {
			/* duplicate or reordered: counted, max unchanged */
		} else {
			init_seq(s, seq); /* a jump: the source restarted */
		}
	}
	s->received++;
	if (clock) {
		if (clock != s->clock) {
			s->clock = clock;
			s->has_transit = false;
		}
		int64_t arrival = (int64_t)(arrival_ms * clock / 1000);
		int64_t transit = arrival - (int64_t)ts;
		if (s->has_transit) {
			int64_t d = transit - s->last_transit;
			if (d < 0)
				d = -d;
			/* 32-bit timestamp wrap: take the short way round. */
			if (d > (int64_t)1 << 31)
				d = ((int64_t)1 << 32) - d;
			s->jitter += ((double)d - s->jitter) / 16.0;
		}
		s->last_transit = transit;
		s->has_transit = true;
	}
}

uint64_t rtp_stats_lost(const struct rtp_rx_stats *s)
{
	if (!s->started)
		return 0;
	uint64_t ext_max = (uint64_t)s->cycles + s->max_seq;
	uint64_t expected = ext_max - s->base_seq + 1;
	return expected > s->received ? expected - s->received : 0;
}

uint32_t rtp_stats_jitter_us(const struct rtp_rx_stats *s)
{
	if (!s->clock)
		return 0;
	double us = s->jitter * 1e6 / s->clock;
	return us > 4e9 ? 4000000000u : (uint32_t)us;
}
