/* Payload type maps and codec matching between connected streams
 * (eims-agw/media_relay.c, SPEC 8.11), and the gate (8.12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
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

static size_t rtp_packet(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts)
{
	memset(p, 0, 172);
	p[0] = 0x80, p[1] = pt;
	p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
	p[11] = 7; /* SSRC */
	return 172;
}

/* The receive statistics' clock rate is memoised per payload type
 * (no codec-list search per packet) and forgotten when the codecs
 * change: a stale memo would skew the jitter of every later packet. */
static void test_clock_memo(void **state)
{
	struct media_term t = { .kind = IQP_TERM_W3 };
	struct media_stream s = { .term = &t, .mode = MODE_SENDRECV, .n_codecs = 2,
				  .clk_pt = MEDIA_PT_NONE };
	struct media_ctx c = { .t = { &t }, .n_terms = 1 };
	uint8_t pkt[172];
	size_t plen;
	(void)state;

	s.codecs[0] = codec(0, "PCMU", 8000, 1);
	s.codecs[1] = codec(111, "opus", 48000, 2);
	t.s[0] = &s, t.n_streams = 1;
	assert_int_equal(media_relay_ingress(&s, pkt, rtp_packet(pkt, 0, 1, 160), 100, &plen), 0);
	assert_int_equal(plen, 160);
	assert_int_equal(s.clk_pt, 0);
	assert_int_equal(s.clk_hz, 8000);
	assert_int_equal(media_relay_ingress(&s, pkt, rtp_packet(pkt, 111, 2, 960), 120, &plen), 0);
	assert_int_equal(s.clk_hz, 48000);
	/* A MODIFY gives 111 another clock: the memo must not survive. */
	s.codecs[1] = codec(111, "opus", 16000, 1);
	media_relay_update(&c);
	assert_int_equal(media_relay_ingress(&s, pkt, rtp_packet(pkt, 111, 3, 1280), 140, &plen), 0);
	assert_int_equal(s.clk_hz, 16000);
	/* An unknown payload type: no clock (no jitter), not the last one. */
	assert_int_equal(media_relay_ingress(&s, pkt, rtp_packet(pkt, 99, 4, 1600), 160, &plen), 0);
	assert_int_equal(s.clk_hz, 0);
}

/* A stream mirrors its termination's kind and FAILED state (the packet
 * path reads the peer stream, not the peer's termination): new streams
 * of a failed termination, and every stream when it fails or recovers;
 * a relayed packet toward a failed termination is dropped (no route). */
static void test_failed_mirror(void **state)
{
	static const char *const subsys[] = { "core", "media" };
	struct log lg;
	uv_loop_t loop;
	struct media_plane mp = { .loop = &loop, .log = &lg, .sub = 1 };
	struct metric no_route = { .name = "drops" };
	uint8_t pkt[172];
	(void)state;

	assert_int_equal(log_init(&lg, "t", subsys, 2), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	mp.drops[DROP_NO_ROUTE] = &no_route;
	struct media_term *w = media_term_new(&mp, IQP_TERM_W3);
	struct media_term *i = media_term_new(&mp, IQP_TERM_IMS);
	assert_non_null(w);
	assert_non_null(i);
	struct media_stream *sw = media_stream_new(w, 1);
	struct media_stream *si = media_stream_new(i, 1);
	assert_non_null(sw);
	assert_non_null(si);
	/* media_zalloc: a stream starts a page, its packet-path
	 * fields (up to the IMS socket) within that page. */
	assert_int_equal((uintptr_t)sw % 4096, 0);
	assert_true(offsetof(struct media_stream, rtp) + sizeof(sw->rtp) <= 4096);
	w->s[w->n_streams++] = sw;
	i->s[i->n_streams++] = si;
	assert_int_equal(si->term_kind, IQP_TERM_IMS);
	assert_false(si->term_failed);
	sw->peer = si;
	for (unsigned k = 0; k < 128; k++)
		sw->pt_map[k] = (uint8_t)k;

	media_term_set_state(i, TERM_FAILED);
	assert_true(si->term_failed);
	media_relay_rtp(sw, pkt, rtp_packet(pkt, 0, 1, 160), sizeof(pkt), 160);
	assert_int_equal((int)no_route.value, 1);
	struct media_stream *si2 = media_stream_new(i, 2);
	assert_non_null(si2);
	assert_true(si2->term_failed);
	media_term_set_state(i, TERM_RESERVED);
	assert_false(si->term_failed);

	media_stream_free(si2);
	media_stream_free(si);
	media_stream_free(sw);
	uv_close((uv_handle_t *)&w->timer, NULL);
	uv_close((uv_handle_t *)&i->timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(media_free(&mp, w), 0);
	assert_int_equal(media_free(&mp, i), 0);
	assert_int_equal(mp.pages.bytes_used, 0); /* ASan cannot see inside the pool */
	page_pool_destroy(&mp.pages);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Streams live two to a block, the second beside its peer (same
 * STREAM_ID in another termination of the context), both packet-path
 * heads in the block's first page; a slot freed is reused by the next
 * peer; the block goes when both slots are free (ASan checks). */
static void test_stream_pairs(void **state)
{
	static const char *const subsys[] = { "core", "media" };
	struct log lg;
	uv_loop_t loop;
	struct media_plane mp = { .loop = &loop, .log = &lg, .sub = 1 };
	struct media_ctx c = { .id = 1 };
	(void)state;

	assert_int_equal(log_init(&lg, "t", subsys, 2), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	struct media_term *w = media_term_new(&mp, IQP_TERM_W3);
	struct media_term *i = media_term_new(&mp, IQP_TERM_IMS);
	assert_non_null(w);
	assert_non_null(i);
	media_term_attach(&c, w);
	media_term_attach(&c, i);

	struct media_stream *w1 = media_stream_new(w, 1);
	struct media_stream *w2 = media_stream_new(w, 2);
	struct media_stream *i1 = media_stream_new(i, 1);
	struct media_stream *i3 = media_stream_new(i, 3);
	assert_non_null(w1);
	assert_non_null(w2);
	assert_non_null(i1);
	assert_non_null(i3);
	assert_int_equal((uintptr_t)w1 % 4096, 0);
	assert_int_equal((uintptr_t)w2 % 4096, 0);
	assert_int_equal((uintptr_t)i3 % 4096, 0); /* no peer: a block of its own */
	assert_ptr_equal((char *)i1, (char *)w1 + 3072);
	assert_ptr_equal(media_stream_peer(w1), i1);
	assert_ptr_equal(media_stream_peer(i1), w1);
	assert_null(media_stream_peer(w2));
	assert_true(((uintptr_t)i1 + offsetof(struct media_stream, rtp) + sizeof(i1->rtp)) / 4096 ==
		    (uintptr_t)w1 / 4096);
	/* Zeroed and set up like any new stream. */
	assert_int_equal(i1->id, 1);
	assert_int_equal(i1->term_kind, IQP_TERM_IMS);
	assert_int_equal(i1->pt_map[0], MEDIA_PT_NONE);
	assert_int_equal(i1->tx_packets, 0);

	/* Slot 0 freed, its block lives on for slot 1; a new peer takes it. */
	w->n_streams = 1; /* w2 leaves t->s */
	media_stream_free(w1);
	w->s[0] = w2;
	struct media_stream *w1b = media_stream_new(w, 1);
	assert_ptr_equal((char *)w1b, (char *)i1 - 3072);
	assert_int_equal(w1b->id, 1);
	assert_int_equal(w1b->tx_packets, 0);
	struct media_stream *i2 = media_stream_new(i, 2);
	assert_ptr_equal((char *)i2, (char *)w2 + 3072);

	media_stream_free(i1);
	media_stream_free(i2);
	media_stream_free(i3);
	media_stream_free(w1b);
	media_stream_free(w2);
	uv_close((uv_handle_t *)&w->timer, NULL);
	uv_close((uv_handle_t *)&i->timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(media_free(&mp, w), 0);
	assert_int_equal(media_free(&mp, i), 0);
	assert_int_equal(mp.pages.bytes_used, 0);
	page_pool_destroy(&mp.pages);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codecs_match),
		cmocka_unit_test(test_pt_maps),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_clock_memo),
		cmocka_unit_test(test_failed_mirror),
		cmocka_unit_test(test_stream_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
