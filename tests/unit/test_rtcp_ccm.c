/* PLI -> FIR toward IMS peers that negotiated only RFC 5104 "ccm fir"
 * (eims-agw/rtcp_ccm.c): byte-exact packets, the sequence number, room
 * and malformed compounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtcp_ccm.h"

/* RR without report blocks from 0x11111111 (8 bytes). */
static const uint8_t RR[] = { 0x80, 201, 0, 1, 0x11, 0x11, 0x11, 0x11 };
/* PLI from 0x11111111 about media source 0x22222222 (12 bytes). */
static const uint8_t PLI[] = { 0x81, 206, 0, 2, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22 };
/* SDES with one chunk: SSRC 0x11111111, CNAME "ab", end, padding (12). */
static const uint8_t SDES[] = { 0x81, 202, 0, 2, 0x11, 0x11, 0x11, 0x11, 1, 2, 'a', 'b' };
/* The FIR that stands for PLI, with sequence number 7 (20 bytes). */
static const uint8_t FIR7[] = { 0x84, 206, 0, 4, 0x11, 0x11, 0x11, 0x11, 0, 0, 0, 0,
				0x22, 0x22, 0x22, 0x22, 7, 0, 0, 0 };

static size_t cat(uint8_t *p, const uint8_t *const *parts, const size_t *lens, unsigned n)
{
	size_t k = 0;
	for (unsigned i = 0; i < n; i++)
		memcpy(p + k, parts[i], lens[i]), k += lens[i];
	return k;
}

static void test_pli_becomes_fir(void **state)
{
	uint8_t p[256], want[256];
	const uint8_t *in[] = { RR, PLI, SDES }, *out[] = { RR, FIR7, SDES };
	const size_t il[] = { sizeof(RR), sizeof(PLI), sizeof(SDES) };
	const size_t ol[] = { sizeof(RR), sizeof(FIR7), sizeof(SDES) };
	size_t len = cat(p, in, il, 3), wl = cat(want, out, ol, 3);
	uint8_t seq = 7;
	unsigned n = 9;

	(void)state;
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(seq, 8);
	assert_int_equal(len, wl);
	assert_memory_equal(p, want, wl);
}

static void test_two_plis_and_seq_wrap(void **state)
{
	uint8_t p[256];
	const uint8_t *in[] = { PLI, RR, PLI };
	const size_t il[] = { sizeof(PLI), sizeof(RR), sizeof(PLI) };
	size_t len = cat(p, in, il, 3);
	uint8_t seq = 255;
	unsigned n;

	(void)state;
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(len, 20 + 8 + 20);
	/* First FIR: seq 255; RR unchanged between; second FIR: seq 0. */
	assert_int_equal(p[0], 0x84);
	assert_int_equal(p[16], 255);
	assert_memory_equal(p + 20, RR, sizeof(RR));
	assert_int_equal(p[28], 0x84);
	assert_int_equal(p[28 + 16], 0);
	assert_int_equal(seq, 1);
}

static void test_nothing_to_do(void **state)
{
	uint8_t p[64], copy[64];
	const uint8_t *in[] = { RR, SDES };
	const size_t il[] = { sizeof(RR), sizeof(SDES) };
	size_t len = cat(p, in, il, 2), l0 = len;
	uint8_t seq = 3;
	unsigned n = 5;

	(void)state;
	memcpy(copy, p, len);
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(len, l0);
	assert_int_equal(seq, 3);
	assert_memory_equal(p, copy, len);
	/* A PSFB FMT 1 whose length is not a PLI's (FCI must be empty): kept. */
	uint8_t odd[16] = { 0x81, 206, 0, 3, 1, 1, 1, 1, 2, 2, 2, 2, 9, 9, 9, 9 };
	len = sizeof(odd);
	assert_int_equal(rtcp_pli_to_fir(odd, &len, sizeof(odd) + 64, &seq, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(len, sizeof(odd));
}

static void test_no_room_and_malformed(void **state)
{
	uint8_t p[64], copy[64];
	size_t len = sizeof(PLI);
	uint8_t seq = 1;
	unsigned n;

	(void)state;
	memcpy(p, PLI, sizeof(PLI));
	memcpy(copy, p, sizeof(PLI));
	assert_int_equal(rtcp_pli_to_fir(p, &len, 19, &seq, &n), ENOSPC);
	assert_int_equal(len, sizeof(PLI));
	assert_memory_equal(p, copy, sizeof(PLI));
	assert_int_equal(seq, 1);
	/* Length field past the end; version not 2; a tail of 3 bytes. */
	p[3] = 9;
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), EINVAL);
	memcpy(p, PLI, sizeof(PLI));
	p[0] = 0x41;
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), EINVAL);
	memcpy(p, PLI, sizeof(PLI));
	len = sizeof(PLI) + 3;
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), EINVAL);
	assert_int_equal(seq, 1);
}

/* A compound of more packets than the rewrite keeps track of (64): left
 * alone without PLIs, refused with one; 64 with a PLI still converted. */
static void test_packet_count_limit(void **state)
{
	uint8_t p[1024], copy[1024];
	size_t len = 0;
	uint8_t seq = 3;
	unsigned n;

	(void)state;
	for (unsigned i = 0; i < 65; i++)
		memcpy(p + len, RR, sizeof(RR)), len += sizeof(RR);
	memcpy(copy, p, len);
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(len, 65 * sizeof(RR));
	assert_memory_equal(p, copy, len);
	memcpy(p + len, PLI, sizeof(PLI)), len += sizeof(PLI);
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), EINVAL);
	assert_int_equal(seq, 3);
	/* 63 RRs and the PLI: 64 packets. */
	len = 63 * sizeof(RR);
	memcpy(p + len, PLI, sizeof(PLI)), len += sizeof(PLI);
	assert_int_equal(rtcp_pli_to_fir(p, &len, sizeof(p), &seq, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(len, 63 * sizeof(RR) + 20);
	assert_int_equal(p[63 * sizeof(RR) + 16], 3);
	assert_int_equal(seq, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pli_becomes_fir),
		cmocka_unit_test(test_two_plis_and_seq_wrap),
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_no_room_and_malformed),
		cmocka_unit_test(test_packet_count_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
