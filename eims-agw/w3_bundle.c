/* BUNDLE demultiplexing (RFC 8843 9.2). */
#include "w3_bundle.h"

#include <string.h>

#include "rtp_ext.h"

void w3_bundle_forget(struct w3_bundle *b)
{
	b->n_rx = b->n_tx = b->next_rx = b->next_tx = 0;
}

static uint16_t lookup(const struct w3_bundle_ssrc *t, unsigned n, uint32_t ssrc)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].ssrc == ssrc)
			return t[i].stream_id;
	return 0;
}

static void learn(struct w3_bundle_ssrc *t, unsigned *n, unsigned *next, uint32_t ssrc,
		  uint16_t stream_id)
{
	for (unsigned i = 0; i < *n; i++)
		if (t[i].ssrc == ssrc) {
			t[i].stream_id = stream_id; /* RFC 8843 9.2: the MID moves it */
			return;
		}
	unsigned k = *n < BUNDLE_LEARNED ? (*n)++ : (*next)++ % BUNDLE_LEARNED;
	t[k].ssrc = ssrc;
	t[k].stream_id = stream_id;
}

uint16_t w3_bundle_route_rtp(struct w3_bundle *b, const uint8_t *p, size_t len, uint32_t ssrc)
{
	const uint8_t *v;
	size_t vl;
	uint16_t id;

	if (b->mid_ext_id && !rtp_ext_find(p, len, b->mid_ext_id, &v, &vl))
		for (unsigned i = 0; i < b->n; i++)
			if (strlen(b->e[i].mid) == vl && !memcmp(b->e[i].mid, v, vl)) {
				learn(b->rx, &b->n_rx, &b->next_rx, ssrc, b->e[i].stream_id);
				return b->e[i].stream_id;
			}
	if ((id = lookup(b->rx, b->n_rx, ssrc)))
		return id;
	for (unsigned i = 0; i < b->n; i++)
		for (unsigned k = 0; k < b->e[i].n_ssrc; k++)
			if (b->e[i].ssrc[k] == ssrc)
				return b->e[i].stream_id;
	/* Payload type: entries' lists are disjoint (8.9.4 item 2). */
	uint8_t pt = p[1] & 0x7f;
	for (unsigned i = 0; i < b->n; i++)
		for (unsigned k = 0; k < b->e[i].n_pt; k++)
			if (b->e[i].pt[k] == pt) {
				learn(b->rx, &b->n_rx, &b->next_rx, ssrc, b->e[i].stream_id);
				return b->e[i].stream_id;
			}
	return 0;
}

uint16_t w3_bundle_route_rtcp(const struct w3_bundle *b, const struct rtcp_route *r)
{
	uint16_t id;

	if (r->sender && (id = lookup(b->rx, b->n_rx, r->sender)))
		return id;
	for (unsigned i = 0; r->sender && i < b->n; i++)
		for (unsigned k = 0; k < b->e[i].n_ssrc; k++)
			if (b->e[i].ssrc[k] == r->sender)
				return b->e[i].stream_id;
	if (r->media && (id = lookup(b->tx, b->n_tx, r->media)))
		return id;
	return 0;
}

void w3_bundle_note_tx(struct w3_bundle *b, uint32_t ssrc, uint16_t stream_id)
{
	if (lookup(b->tx, b->n_tx, ssrc) != stream_id)
		learn(b->tx, &b->n_tx, &b->next_tx, ssrc, stream_id);
}
