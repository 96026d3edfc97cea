/* BUNDLE demultiplexing (w3_bundle.c), RTP header extensions (rtp_ext.c)
 * and RTCP feedback filtering toward IMS (rtcp_filter.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtcp_filter.h"
#include "rtp_ext.h"
#include "w3_bundle.h"

/* RTP with a one-byte-header extension carrying MID "1" (id 3) and a
 * two-byte abs-send-time-like element (id 2, 3 bytes). */
static size_t rtp_with_mid(uint8_t *p, uint8_t pt, uint32_t ssrc, const char *mid)
{
	size_t ml = strlen(mid);
	memset(p, 0, 64);
	p[0] = 0x90;
	p[1] = pt;
	p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
	p[11] = (uint8_t)ssrc;
	p[12] = 0xbe, p[13] = 0xde;
	size_t i = 16;
	p[i++] = 0x22, p[i++] = 1, p[i++] = 2, p[i++] = 3;          /* id 2, 3 bytes */
	p[i++] = (uint8_t)(0x30 | (ml - 1));                          /* id 3 */
	memcpy(p + i, mid, ml), i += ml;
	while ((i - 16) % 4)
		p[i++] = 0; /* padding */
	p[14] = 0, p[15] = (uint8_t)((i - 16) / 4);
	memcpy(p + i, "payload!", 8);
	return i + 8;
}

static void test_rtp_ext(void **state)
{
	uint8_t p[64];
	const uint8_t *v;
	size_t vl, n = rtp_with_mid(p, 96, 1, "av");
	(void)state;

	assert_int_equal(rtp_ext_find(p, n, 3, &v, &vl), 0);
	assert_int_equal(vl, 2);
	assert_memory_equal(v, "av", 2);
	assert_int_equal(rtp_ext_find(p, n, 2, &v, &vl), 0);
	assert_int_equal(vl, 3);
	assert_int_equal(rtp_ext_find(p, n, 4, &v, &vl), ENOENT);
	assert_int_equal(rtp_ext_find(p, 17, 3, &v, &vl), EINVAL); /* block past the end */
	assert_int_equal(rtp_ext_strip(p, &n), 0);
	assert_int_equal(n, 12 + 8);
	assert_false(p[0] & 0x10);
	assert_memory_equal(p + 12, "payload!", 8);
	assert_int_equal(rtp_ext_find(p, n, 3, &v, &vl), ENOENT);
	assert_int_equal(rtp_ext_strip(p, &n), 0); /* nothing to strip */
	assert_int_equal(n, 20);
	/* Two-byte header form. */
	uint8_t q[40] = { 0x90, 96 };
	q[12] = 0x10, q[13] = 0x00, q[14] = 0, q[15] = 1;
	q[16] = 9, q[17] = 1, q[18] = 'x';
	assert_int_equal(rtp_ext_find(q, 20, 9, &v, &vl), 0);
	assert_int_equal(vl, 1);
	assert_int_equal(v[0], 'x');
	q[17] = 5; /* element past the block */
	assert_int_equal(rtp_ext_find(q, 20, 9, &v, &vl), EINVAL);
}

static struct w3_bundle two_entries(void)
{
	struct w3_bundle b = { .on = true, .mid_ext_id = 3, .n = 2 };
	strcpy(b.e[0].mid, "0");
	b.e[0].stream_id = 1;
	b.e[0].n_pt = 1, b.e[0].pt[0] = 111;
	strcpy(b.e[1].mid, "1");
	b.e[1].stream_id = 2;
	b.e[1].n_pt = 2, b.e[1].pt[0] = 96, b.e[1].pt[1] = 97;
	b.e[1].n_ssrc = 1, b.e[1].ssrc[0] = 0xabc;
	return b;
}

static void test_bundle_rtp(void **state)
{
	struct w3_bundle b = two_entries();
	uint8_t p[64];
	(void)state;

	/* MID first: payload type 111 would say stream 1, the MID says 2. */
	size_t n = rtp_with_mid(p, 111, 0x1111, "1");
	assert_int_equal(w3_bundle_route_rtp(&b, p, n, 0x1111), 2);
	/* Learned: the same SSRC without extension goes to 2. */
	uint8_t plain[20] = { 0x80, 111 };
	assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0x1111), 2);
	/* Listed SSRC. */
	assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0xabc), 2);
	/* Payload type for an unknown SSRC, then learned. */
	assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0x2222), 1);
	plain[1] = 55;
	assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0x2222), 1);
	/* Unknown everything: dropped. */
	assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0x3333), 0);
	/* An unknown MID falls through to SSRC / payload type. */
	n = rtp_with_mid(p, 97, 0x4444, "zz");
	assert_int_equal(w3_bundle_route_rtp(&b, p, n, 0x4444), 2);
	/* The learned table is bounded. */
	for (uint32_t s = 0; s < 3 * BUNDLE_LEARNED; s++) {
		plain[1] = 111;
		assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0x10000 + s), 1);
	}
	assert_int_equal(b.n_rx, BUNDLE_LEARNED);
	w3_bundle_forget(&b);
	assert_int_equal(b.n_rx, 0);
}

static void test_bundle_rtcp(void **state)
{
	struct w3_bundle b = two_entries();
	uint8_t plain[20] = { 0x80, 96 };
	(void)state;

	assert_int_equal(w3_bundle_route_rtp(&b, plain, 20, 0x5555), 2);
	struct rtcp_route r = { .sender = 0x5555 };
	assert_int_equal(w3_bundle_route_rtcp(&b, &r), 2);
	r.sender = 0xabc; /* listed */
	assert_int_equal(w3_bundle_route_rtcp(&b, &r), 2);
	r.sender = 0x9999, r.media = 0x7777;
	assert_int_equal(w3_bundle_route_rtcp(&b, &r), 0);
	w3_bundle_note_tx(&b, 0x7777, 1);
	assert_int_equal(w3_bundle_route_rtcp(&b, &r), 1);
	w3_bundle_note_tx(&b, 0x7777, 2); /* moves */
	assert_int_equal(w3_bundle_route_rtcp(&b, &r), 2);
}

static size_t put_rtcp(uint8_t *p, uint8_t first, uint8_t pt, size_t words_after)
{
	memset(p, 0, 4 * (words_after + 1));
	p[0] = first;
	p[1] = pt;
	p[3] = (uint8_t)words_after;
	return 4 * (words_after + 1);
}

static void test_rtcp_filter(void **state)
{
	uint8_t p[256];
	size_t n = 0;
	struct rtcp_route r;
	(void)state;

	/* RR with one block (sender 0x01020304, source 0x0a0b0c0d). */
	n += put_rtcp(p + n, 0x81, 201, 7);
	p[4] = 1, p[5] = 2, p[6] = 3, p[7] = 4;
	p[8] = 0x0a, p[9] = 0x0b, p[10] = 0x0c, p[11] = 0x0d;
	/* transport-cc (RTPFB 15), REMB (PSFB 15 "REMB"), NACK (RTPFB 1), PLI (PSFB 1). */
	size_t tcc = n;
	n += put_rtcp(p + n, 0x8f, 205, 4);
	size_t remb = n;
	n += put_rtcp(p + n, 0x8f, 206, 5);
	memcpy(p + remb + 12, "REMB", 4);
	size_t nack = n;
	n += put_rtcp(p + n, 0x81, 205, 3);
	p[nack + 12] = 0x55;
	size_t pli = n;
	n += put_rtcp(p + n, 0x81, 206, 2);
	(void)tcc;
	(void)pli;
	size_t len = n;
	assert_int_equal(rtcp_filter_to_ims(p, &len, &r), 0);
	assert_int_equal(r.removed, 2);
	assert_int_equal(r.sender, 0x01020304);
	assert_int_equal(r.media, 0x0a0b0c0d);
	assert_int_equal(len, 32 + 16 + 12);
	assert_int_equal(p[32 + 1], 205); /* NACK kept, moved up */
	assert_int_equal(p[32 + 12], 0x55);
	assert_int_equal(p[48 + 1], 206); /* PLI kept */
	/* Only browser feedback: nothing left. */
	len = put_rtcp(p, 0x8f, 205, 4);
	assert_int_equal(rtcp_filter_to_ims(p, &len, &r), 0);
	assert_int_equal(len, 0);
	/* Malformed: length past the end, bad version, a stray byte. */
	len = put_rtcp(p, 0x81, 201, 7) - 4;
	assert_int_equal(rtcp_filter_to_ims(p, &len, &r), EINVAL);
	len = put_rtcp(p, 0x41, 201, 1);
	assert_int_equal(rtcp_filter_to_ims(p, &len, &r), EINVAL);
	len = put_rtcp(p, 0x80, 201, 1) + 1;
	assert_int_equal(rtcp_filter_to_ims(p, &len, &r), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_ext),
		cmocka_unit_test(test_bundle_rtp),
		cmocka_unit_test(test_bundle_rtcp),
		cmocka_unit_test(test_rtcp_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
