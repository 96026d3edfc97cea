/* RTP header parsing and receive statistics (eims-agw/rtp_stats.c):
 * RFC 3550 A.1 sequence tracking across a wrap, A.3 loss, A.8 jitter, and
 * malformed headers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp_stats.h"

static size_t rtp(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload)
{
	memset(p, 0, 12 + payload);
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
	p[11] = (uint8_t)ssrc;
	return 12 + payload;
}

static void test_parse(void **state)
{
	uint8_t p[200];
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t off, len;
	(void)state;

	size_t n = rtp(p, 7, 1000, 0xabcdef01, 160);
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(ts, 1000);
	assert_int_equal(ssrc, 0xabcdef01);
	assert_int_equal(off, 12);
	assert_int_equal(len, 160);
	/* CSRCs and an extension of one word; padding of 4. */
	p[0] = 0x80 | 0x20 | 0x10 | 2;
	p[20] = 0xbe, p[21] = 0xde, p[22] = 0, p[23] = 1;
	p[n - 1] = 4;
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), 0);
	assert_int_equal(off, 12 + 8 + 8);
	assert_int_equal(len, n - off - 4);
}

static void test_bad_headers(void **state)
{
	uint8_t p[64];
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t off, len;
	(void)state;

	size_t n = rtp(p, 1, 1, 1, 4);
	assert_int_equal(rtp_header_parse(p, 11, &seq, &ts, &ssrc, &off, &len), EINVAL);
	p[0] = 0x40; /* version 1 */
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), EINVAL);
	p[0] = 0x8f; /* 15 CSRCs past the end */
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), EINVAL);
	p[0] = 0x90; /* extension header past the end */
	assert_int_equal(rtp_header_parse(p, 14, &seq, &ts, &ssrc, &off, &len), EINVAL);
	p[0] = 0x90, p[14] = 0xff, p[15] = 0xff; /* extension length past the end */
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), EINVAL);
	p[0] = 0xa0, p[n - 1] = 0; /* padding count 0 */
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), EINVAL);
	p[n - 1] = 200; /* padding longer than the payload */
	assert_int_equal(rtp_header_parse(p, n, &seq, &ts, &ssrc, &off, &len), EINVAL);
}

static void test_loss_across_wrap(void **state)
{
	struct rtp_rx_stats s = { 0 };
	(void)state;

	/* 65530 .. 5 with 65534 and 2 missing, 3 duplicated. */
	for (uint32_t i = 65530; i < 65536 + 6; i++) {
		uint16_t seq = (uint16_t)i;
		uint64_t t = 1000 + (i - 65530) * 20;
		if (seq == 65534 || seq == 2)
			continue;
		rtp_stats_update(&s, seq, i * 160, 42, 160, t, 8000);
		if (seq == 3)
			rtp_stats_update(&s, seq, i * 160, 42, 160, t, 8000);
	}
	assert_int_equal(s.packets, 11);
	assert_int_equal(s.octets, 11 * 160);
	/* expected 12, received 11 (a duplicate counts, RFC 3550 A.3). */
	assert_int_equal(rtp_stats_lost(&s), 1);
	/* Perfectly paced: no jitter. */
	assert_int_equal(rtp_stats_jitter_us(&s), 0);
}

static void test_jitter_and_new_source(void **state)
{
	struct rtp_rx_stats s = { 0 };
	(void)state;

	/* Arrivals alternate 10 ms early/late around a 20 ms cadence. */
	for (uint32_t i = 0; i < 400; i++)
		rtp_stats_update(&s, (uint16_t)i, i * 160, 7, 160, 1000 + i * 20 + (i & 1) * 10, 8000);
	uint32_t j = rtp_stats_jitter_us(&s);
	assert_true(j > 9000 && j < 11000); /* converges to |D| = 10 ms */
	/* A new SSRC restarts loss and jitter, counters keep going. */
	rtp_stats_update(&s, 5000, 0, 8, 100, 99999, 8000);
	assert_int_equal(s.packets, 401);
	assert_int_equal(rtp_stats_lost(&s), 0);
	struct rtp_rx_stats none = { 0 };
	assert_int_equal(rtp_stats_lost(&none), 0);
	assert_int_equal(rtp_stats_jitter_us(&none), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_loss_across_wrap),
		cmocka_unit_test(test_jitter_and_new_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
