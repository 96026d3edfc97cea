/* Payload type maps, gates and forwarding between connected streams. */
#include "media_relay.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "term_ims.h"
#include "term_w3.h"

static bool is_dtmf(const struct media_codec *c)
{
	return !strcasecmp(c->name, "telephone-event");
}

static bool same_codec(const struct media_codec *a, const struct media_codec *b)
{
	return !strcasecmp(a->name, b->name) && a->clock == b->clock &&
	       (a->channels ? a->channels : 1) == (b->channels ? b->channels : 1);
}

bool media_relay_codecs_match(const struct media_codec *a, size_t na,
			      const struct media_codec *b, size_t nb)
{
	if (!na || !nb)
		return true;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (!is_dtmf(&a[i]) && same_codec(&a[i], &b[j]))
				return true;
	return false;
}

/* Ingress payload type p on `in` leaves as the payload type of the same
 * codec on `out` (8.11 item 2, no transcoding); telephone-event only
 * when both legs list it (item 4).  A leg without codecs (not yet
 * configured) passes payload types unchanged. */
static void build_map(struct media_stream *in, const struct media_stream *out)
{
	in->clk_pt = MEDIA_PT_NONE; /* the codecs may have changed */
	memset(in->pt_map, MEDIA_PT_NONE, sizeof(in->pt_map));
	if (!out || !in->n_codecs || !out->n_codecs) {
		for (unsigned p = 0; p < 128; p++)
			in->pt_map[p] = (uint8_t)p;
		return;
	}
	for (unsigned i = 0; i < in->n_codecs; i++)
		for (unsigned j = 0; j < out->n_codecs; j++)
			if (same_codec(&in->codecs[i], &out->codecs[j])) {
				in->pt_map[in->codecs[i].pt & 0x7f] = out->codecs[j].pt;
				break;
			}
}

void media_relay_update(struct media_ctx *c)
{
	media_ctx_peers_update(c);
	for (unsigned i = 0; i < c->n_terms; i++)
		for (unsigned k = 0; k < c->t[i]->n_streams; k++) {
			struct media_stream *s = c->t[i]->s[k];
			build_map(s, media_stream_peer(s));
		}
}

static uint32_t clock_of(const struct media_stream *s, uint8_t pt)
{
	for (unsigned i = 0; i < s->n_codecs; i++)
		if (s->codecs[i].pt == pt)
			return s->codecs[i].clock;
	return 0;
}

int media_relay_ingress(struct media_stream *s, const uint8_t *pkt, size_t len,
			uint64_t now, size_t *payload_len)
{
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t off, plen;

	if (rtp_header_parse(pkt, len, &seq, &ts, &ssrc, &off, &plen))
		return EINVAL;
	uint8_t pt = pkt[1] & 0x7f;
	if (pt != s->clk_pt) {
		/* Another payload type than the last: search the codec list
		 * (lines away from the packet path's fields) once. */
		s->clk_hz = clock_of(s, pt);
		s->clk_pt = pt;
	}
	rtp_stats_update(&s->rx, seq, ts, ssrc, plen, now, s->clk_hz);
	s->last_rx_ms = now;
	if (s->inactive) {
		/* 9.2 event 8: re-armed when media resumes. */
		s->inactive = false;
		media_term_arm(s->term);
	}
	*payload_len = plen;
	return 0;
}

void media_relay_rtp(struct media_stream *from, uint8_t *pkt, size_t len, size_t cap,
		     size_t payload_len)
{
	struct media_plane *mp = from->term->mp;
	struct media_stream *to;
	uint8_t pt;

	if (!media_gate_rx(from)) {
		media_drop(mp, DROP_GATE);
		return;
	}
	if (!(to = media_stream_peer(from)) || to->term_failed) {
		media_drop(mp, DROP_NO_ROUTE);
		return;
	}
	if (!media_gate_tx(to)) {
		media_drop(mp, DROP_GATE);
		return;
	}
	if ((pt = from->pt_map[pkt[1] & 0x7f]) == MEDIA_PT_NONE) {
		media_drop(mp, DROP_CODEC);
		return;
	}
	pkt[1] = (uint8_t)((pkt[1] & 0x80) | pt);
	if (to->term_kind == IQP_TERM_W3)
		term_w3_send_rtp(to, pkt, len, cap, payload_len);
	else
		term_ims_send_rtp(to, pkt, len, payload_len);
}

void media_relay_rtcp(struct media_stream *from, uint8_t *pkt, size_t len, size_t cap)
{
	struct media_plane *mp = from->term->mp;
	struct media_stream *to = media_stream_peer(from);

	if (!to || to->term_failed) {
		media_drop(mp, DROP_NO_ROUTE);
		return;
	}
	if (to->term_kind == IQP_TERM_W3)
		term_w3_send_rtcp(to, pkt, len, cap);
	else
		term_ims_send_rtcp(to, pkt, len);
}
