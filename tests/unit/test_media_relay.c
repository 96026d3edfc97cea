/* Payload type maps and codec matching between connected streams
 * (eims-agw/media_relay.c, SPEC 8.11), and the gate (8.12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "media_relay.h"

static struct media_codec codec(uint8_t pt, const char *name, uint32_t clock, uint8_t ch)
{
	struct media_codec c = { .pt = pt, .clock = clock, .channels = ch };
	strcpy(c.name, name);
	return c;
}

static void test_codecs_match(void **state)
{
	struct media_codec w3[] = { codec(111, "opus", 48000, 2), codec(126, "telephone-event", 8000, 1) };
	struct media_codec ims[] = { codec(0, "PCMU", 8000, 1), codec(101, "telephone-event", 8000, 1) };
	struct media_codec ims2[] = { codec(96, "OPUS", 48000, 2) };
	struct media_codec mono[] = { codec(96, "opus", 48000, 1) };
	(void)state;

	/* telephone-event alone is no common codec (8.11 item 3). */
	assert_false(media_relay_codecs_match(w3, 2, ims, 2));
	/* Names are case-insensitive; channels count. */
	assert_true(media_relay_codecs_match(w3, 2, ims2, 1));
	assert_false(media_relay_codecs_match(w3, 2, mono, 1));
	/* A leg without codecs (not yet known) matches. */
	assert_true(media_relay_codecs_match(w3, 2, NULL, 0));
}

static void test_pt_maps(void **state)
{
	struct media_ctx c = { .id = 1 };
	struct media_term tw = { .ctx = &c, .kind = IQP_TERM_W3, .id = 1 };
	struct media_term ti = { .ctx = &c, .kind = IQP_TERM_IMS, .id = 2 };
	struct media_stream sw = { .term = &tw, .id = 1, .mode = MODE_SENDRECV, .n_codecs = 3 };
	struct media_stream si = { .term = &ti, .id = 1, .mode = MODE_SENDRECV, .n_codecs = 2 };
	(void)state;

	sw.codecs[0] = codec(111, "opus", 48000, 2);
	sw.codecs[1] = codec(0, "PCMU", 8000, 1);
	sw.codecs[2] = codec(126, "telephone-event", 8000, 1);
	si.codecs[0] = codec(100, "opus", 48000, 2);
	si.codecs[1] = codec(101, "telephone-event", 8000, 1);
	tw.s[0] = &sw, tw.n_streams = 1;
	ti.s[0] = &si, ti.n_streams = 1;
	c.t[0] = &tw, c.t[1] = &ti, c.n_terms = 2;

	/* Peers are found when the context changes (here: by hand). */
	media_relay_update(&c);
	assert_ptr_equal(media_stream_peer(&sw), &si);
	assert_ptr_equal(media_stream_peer(&si), &sw);
	assert_int_equal(sw.pt_map[111], 100);
	assert_int_equal(sw.pt_map[126], 101);          /* DTMF on both legs */
	assert_int_equal(sw.pt_map[0], MEDIA_PT_NONE);  /* PCMU not on IMS */
	assert_int_equal(sw.pt_map[5], MEDIA_PT_NONE);
	assert_int_equal(si.pt_map[100], 111);
	assert_int_equal(si.pt_map[101], 126);
	/* Without DTMF on the IMS leg it is dropped (8.11 item 4). */
	si.n_codecs = 1;
	media_relay_update(&c);
	assert_int_equal(sw.pt_map[126], MEDIA_PT_NONE);
	/* A lone stream passes payload types unchanged. */
	c.n_terms = 1;
	media_relay_update(&c);
	assert_null(media_stream_peer(&sw));
	assert_int_equal(sw.pt_map[77], 77);
}

static void test_gate(void **state)
{
	struct media_stream s = { .mode = MODE_SENDRECV };
	(void)state;

	assert_true(media_gate_rx(&s) && media_gate_tx(&s));
	s.mode = MODE_SENDONLY; /* sends to its peer, discards what it receives */
	assert_false(media_gate_rx(&s));
	assert_true(media_gate_tx(&s));
	s.mode = MODE_RECVONLY;
	assert_true(media_gate_rx(&s));
	assert_false(media_gate_tx(&s));
	s.mode = MODE_INACTIVE;
	assert_false(media_gate_rx(&s) || media_gate_tx(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codecs_match),
		cmocka_unit_test(test_pt_maps),
		cmocka_unit_test(test_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
