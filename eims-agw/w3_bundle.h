/* BUNDLE demultiplexing on one W3 transport (RFC 8843 9.2, SPEC 8.9.4):
 * which stream an RTP or RTCP packet from the WIC belongs to, by the MID
 * header extension, then the SSRC (listed or learned), then a payload type
 * unique to one entry; and which stream RTCP belongs to, by its sender
 * SSRC, then the SSRC its reports or feedback are about.  Pure and
 * bounded: learned SSRCs live in fixed tables, replaced round-robin. */
#ifndef AGW_W3_BUNDLE_H
#define AGW_W3_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtcp_filter.h"

#define BUNDLE_MAX_ENTRIES 16
#define BUNDLE_MAX_SSRC 16
#define BUNDLE_MAX_PT 32
#define BUNDLE_LEARNED 64

struct w3_bundle_entry {
	char mid[33];
	uint16_t stream_id;
	bool pts_listed;              /* PAYLOAD_TYPEs given; else the codecs' */
	uint8_t n_pt, n_ssrc;
	uint8_t pt[BUNDLE_MAX_PT];
	uint32_t ssrc[BUNDLE_MAX_SSRC];
};

struct w3_bundle_ssrc {
	uint32_t ssrc;
	uint16_t stream_id;
};

struct w3_bundle {
	bool on;
	uint8_t mid_ext_id;           /* 0: MID extension not read */
	unsigned n;
	struct w3_bundle_entry e[BUNDLE_MAX_ENTRIES];
	struct w3_bundle_ssrc rx[BUNDLE_LEARNED]; /* SSRCs the WIC sends */
	struct w3_bundle_ssrc tx[BUNDLE_LEARNED]; /* SSRCs sent to the WIC */
	unsigned n_rx, n_tx, next_rx, next_tx;
};

/* Forgets learned SSRCs (a new map, an ICE restart). */
void w3_bundle_forget(struct w3_bundle *b);

/* The STREAM_ID of an RTP packet from the WIC (already decrypted), or 0. */
uint16_t w3_bundle_route_rtp(struct w3_bundle *b, const uint8_t *p, size_t len, uint32_t ssrc);

/* The STREAM_ID of an RTCP compound from the WIC, or 0. */
uint16_t w3_bundle_route_rtcp(const struct w3_bundle *b, const struct rtcp_route *r);

/* An SSRC the AGW sends to the WIC on stream_id (for RTCP routing). */
void w3_bundle_note_tx(struct w3_bundle *b, uint32_t ssrc, uint16_t stream_id);

#endif
