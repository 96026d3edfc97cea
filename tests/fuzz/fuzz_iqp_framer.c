/* libFuzzer: the Iq+ stream framer.  Input: two bytes seeding the chunk
 * sizes, one option byte (bit 0: MAX_FRAME 1 MiB; bit 1: accept version 2
 * too), then the stream.
 *
 * Oracles: fed at once or in pseudo-random chunks, the stream gives the
 * same frames and the same final state; every frame delivered passes the
 * header checks of SPEC.md 3.5 (1-5) and consists of input bytes; errors
 * are CLOSE 1100, 406, 1101 or 1102. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	uint8_t *frames; /* every frame delivered, concatenated */
	size_t len;
	size_t count;
	int rc;
	unsigned code;
	bool partial;
};

static void setup(struct iqp_framer *f, uint8_t opt)
{
	iqp_framer_init(f);
	if ((opt & 1) && iqp_framer_set_max_frame(f, IQP_MAX_FRAME_MAX))
		abort();
	if (opt & 2)
		iqp_framer_allow_major(f, 2, true);
}

static void check_frame(const struct iqp_framer *f, const struct iqp_frame *fr,
			uint8_t opt)
{
	const struct iqp_header *h = &fr->hdr;

	if ((uint64_t)IQP_HEADER_LEN + h->body_len > f->max_frame)
		abort();
	if (h->version != 1 && !(h->version == 2 && (opt & 2)))
		abort();
	if (h->kind < IQP_KIND_REQUEST || h->kind > IQP_KIND_CLOSE)
		abort();
	if ((h->txid == 0) != (h->kind == IQP_KIND_CLOSE))
		abort();
	if ((h->body_len == 0) != (fr->body == NULL))
		abort();
}

static void run(const uint8_t *s, size_t n, uint8_t opt, uint32_t seed,
		struct outcome *o)
{
	struct iqp_framer f;
	size_t pos = 0;

	memset(o, 0, sizeof(*o));
	o->frames = malloc(n ? n : 1);
	if (!o->frames)
		abort();
	setup(&f, opt);
	while (pos < n && !o->rc) {
		size_t c = n - pos;
		if (seed) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			c = 1 + seed % (seed & 0x100 ? 7 : 300);
			if (c > n - pos)
				c = n - pos;
		}
		const uint8_t *p = s + pos;
		pos += c;
		while (c) {
			struct iqp_frame fr;
			size_t used;
			o->rc = iqp_framer_feed(&f, p, c, &used, &fr);
			if (o->rc)
				break;
			if (used > c)
				abort();
			p += used;
			c -= used;
			if (!fr.ready)
				continue;
			check_frame(&f, &fr, opt);
			if (o->len + IQP_HEADER_LEN + fr.hdr.body_len > n)
				abort();
			iqp_header_encode(&fr.hdr, o->frames + o->len);
			if (fr.hdr.body_len)
				memcpy(o->frames + o->len + IQP_HEADER_LEN, fr.body,
				       fr.hdr.body_len);
			o->len += IQP_HEADER_LEN + fr.hdr.body_len;
			o->count++;
		}
	}
	if (o->rc) {
		unsigned code = f.err.code;
		if (o->rc != EPROTO || f.err.action != IQP_ACT_CLOSE ||
		    (code != 1100 && code != 406 && code != 1101 && code != 1102))
			abort();
		o->code = code;
		/* A failed framer stays failed. */
		struct iqp_frame fr;
		size_t used;
		if (iqp_framer_feed(&f, s, n, &used, &fr) != EPROTO || used || fr.ready)
			abort();
	}
	o->partial = iqp_framer_partial(&f);
	if (iqp_framer_frames(&f) != o->count)
		abort();
	iqp_framer_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome a, b;

	if (size < 3)
		return 0;
	uint32_t seed = (uint32_t)data[0] << 8 | data[1] | 0x10000u;
	uint8_t opt = data[2];
	const uint8_t *s = data + 3;
	size_t n = size - 3;

	run(s, n, opt, 0, &a);
	run(s, n, opt, seed, &b);
	if (a.rc != b.rc || a.code != b.code || a.count != b.count ||
	    a.len != b.len || a.partial != b.partial ||
	    memcmp(a.frames, b.frames, a.len))
		abort();
	/* Delivered frames are the input's leading bytes. */
	if (memcmp(a.frames, s, a.len))
		abort();
	free(a.frames);
	free(b.frames);
	return 0;
}
