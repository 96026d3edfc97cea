/* W3 demultiplexing by first byte, and the port pool. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "demux.h"
#include "port_pool.h"

static void test_classify(void **state)
{
	uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42 };
	uint8_t dtls[13] = { 22, 0xfe, 0xfd };
	uint8_t rtp[12] = { 0x80, 0x00 };
	uint8_t rtp_marker[12] = { 0x80, 0x80 | 111 };
	uint8_t rtcp_sr[8] = { 0x80, 200 };
	uint8_t rtcp_psfb[8] = { 0x81, 206 };
	uint8_t turn[4] = { 0x40, 0x00 };
	uint8_t zrtp[12] = { 0x10 };
	uint8_t junk[12] = { 0xff };
	(void)state;

	assert_int_equal(demux_classify(stun, sizeof(stun)), DEMUX_STUN);
	stun[4] = 0; /* no cookie: not STUN */
	assert_int_equal(demux_classify(stun, sizeof(stun)), DEMUX_UNKNOWN);
	stun[4] = 0x21;
	stun[3] = 4; /* length says 4 more bytes than there are */
	assert_int_equal(demux_classify(stun, sizeof(stun)), DEMUX_UNKNOWN);
	assert_int_equal(demux_classify(dtls, sizeof(dtls)), DEMUX_DTLS);
	assert_int_equal(demux_classify(dtls, 12), DEMUX_UNKNOWN);
	dtls[0] = 63;
	assert_int_equal(demux_classify(dtls, sizeof(dtls)), DEMUX_DTLS);
	dtls[0] = 64; /* RFC 9443: 64 is TURN, not DTLS (Janus got this wrong) */
	assert_int_equal(demux_classify(dtls, sizeof(dtls)), DEMUX_TURN_CHANNEL);
	assert_int_equal(demux_classify(rtp, sizeof(rtp)), DEMUX_RTP);
	assert_int_equal(demux_classify(rtp_marker, sizeof(rtp_marker)), DEMUX_RTP);
	assert_int_equal(demux_classify(rtp, 11), DEMUX_UNKNOWN);
	assert_int_equal(demux_classify(rtcp_sr, sizeof(rtcp_sr)), DEMUX_RTCP);
	assert_int_equal(demux_classify(rtcp_psfb, sizeof(rtcp_psfb)), DEMUX_RTCP);
	assert_int_equal(demux_classify(rtcp_sr, 7), DEMUX_UNKNOWN);
	assert_int_equal(demux_classify(turn, sizeof(turn)), DEMUX_TURN_CHANNEL);
	assert_int_equal(demux_classify(zrtp, sizeof(zrtp)), DEMUX_ZRTP);
	assert_int_equal(demux_classify(junk, sizeof(junk)), DEMUX_UNKNOWN);
	assert_int_equal(demux_classify(junk, 0), DEMUX_UNKNOWN);
	/* Every first byte maps to one kind, and short input never reads past
	 * the buffer (ASan watches). */
	for (int b = 0; b < 256; b++)
		for (size_t n = 1; n < 24; n++) {
			uint8_t buf[24] = { (uint8_t)b, 0, 0, 0, 0x21, 0x12, 0xA4, 0x42 };
			assert_true(demux_classify(buf, n) < DEMUX_KINDS);
		}
	assert_string_equal(demux_kind_name(DEMUX_RTCP), "rtcp");
}

static void test_ports(void **state)
{
	struct port_pool pp;
	(void)state;

	assert_int_equal(port_pool_init(&pp, 0, 10), EINVAL);
	assert_int_equal(port_pool_init(&pp, 20, 10), EINVAL);
	assert_int_equal(port_pool_init(&pp, 40001, 40008), 0);
	/* Pairs start even: 40002/40003, 40004/40005, 40006/40007. */
	assert_int_equal(port_pool_get_pair(&pp), 40002);
	assert_int_equal(port_pool_get_pair(&pp), 40004);
	assert_int_equal(port_pool_get(&pp), 40006);
	/* 40007 and 40008 and 40001 are single: no pair left. */
	assert_int_equal(port_pool_get_pair(&pp), 0);
	assert_int_equal(port_pool_get(&pp), 40007);
	assert_int_equal(port_pool_get(&pp), 40008);
	assert_int_equal(port_pool_get(&pp), 40001);
	assert_int_equal(port_pool_get(&pp), 0);
	assert_int_equal(pp.n_free, 0);
	/* Released ports come back, round-robin after the cursor. */
	port_pool_put(&pp, 40004);
	port_pool_put(&pp, 40005);
	port_pool_put(&pp, 40005); /* twice: no effect */
	assert_int_equal(pp.n_free, 2);
	assert_int_equal(port_pool_get_pair(&pp), 40004);
	port_pool_put(&pp, 9); /* out of range: ignored */
	port_pool_mark(&pp, 40001);
	port_pool_free(&pp);

	/* Round-robin: a released port is not the next one handed out. */
	assert_int_equal(port_pool_init(&pp, 1000, 1003), 0);
	uint16_t a = port_pool_get(&pp);
	port_pool_put(&pp, a);
	assert_int_not_equal(port_pool_get(&pp), a);
	port_pool_free(&pp);
	/* Full 16-bit range at the top end. */
	assert_int_equal(port_pool_init(&pp, 65534, 65535), 0);
	assert_int_equal(port_pool_get_pair(&pp), 65534);
	port_pool_free(&pp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_ports),
	};
	return cmocka_run_group_tests_name("media_demux_ports", tests, NULL, NULL);
}
