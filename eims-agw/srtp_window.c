/* SRTP index estimation (RFC 3711 3.3.1, Appendix A) and replay window. */
#include "srtp_window.h"

#include <errno.h>

uint64_t srtp_window_rtp_index(const struct srtp_window *w, uint16_t seq)
{
	if (!w->started)
		return seq;

	uint64_t roc = w->top >> 16;
	int32_t s_l = (int32_t)(w->top & 0xffff);
	int32_t s = seq;
	uint64_t v = roc;

	if (s_l < 32768) {
		if (s - s_l > 32768)
			v = roc ? roc - 1 : 0;
	} else {
		if (s_l - 32768 > s)
			v = roc + 1; /* 2^32 when the ROC is exhausted */
	}
	return v << 16 | (uint64_t)seq;
}

int srtp_window_check(const struct srtp_window *w, uint64_t index)
{
	if (!w->started || index > w->top)
		return 0;
	uint64_t d = w->top - index;
	if (d >= SRTP_WINDOW_SIZE)
		return EALREADY;
	if (w->seen[d / 64] >> (d % 64) & 1)
		return EALREADY;
	return 0;
}

void srtp_window_accept(struct srtp_window *w, uint64_t index)
{
	if (!w->started) {
		w->started = true;
		w->top = index;
		w->seen[0] = 1;
		w->seen[1] = 0;
		return;
	}
	if (index > w->top) {
		uint64_t d = index - w->top;
		if (d >= SRTP_WINDOW_SIZE) {
			w->seen[0] = 0;
			w->seen[1] = 0;
		} else if (d >= 64) {
			w->seen[1] = w->seen[0] << (d - 64);
			w->seen[0] = 0;
		} else {
			w->seen[1] = w->seen[1] << d | w->seen[0] >> (64 - d);
			w->seen[0] <<= d;
		}
		w->seen[0] |= 1;
		w->top = index;
		return;
	}
	uint64_t d = w->top - index;
	if (d < SRTP_WINDOW_SIZE)
		w->seen[d / 64] |= (uint64_t)1 << (d % 64);
}
