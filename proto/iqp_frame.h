/* Iq+ framing (SPEC.md clause 3): the 16-byte header, its validation in the
 * order of 3.5, and a stream framer that turns bytes read from a TCP or TLS
 * stream, in chunks of any size, into whole frames (3.6).
 *
 * Pure: no I/O, no clock (T_FRAME is the caller's timer, see
 * iqp_framer_partial), no logging, no global state. */
#ifndef PROTO_IQP_FRAME_H
#define PROTO_IQP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_registry.h"

struct iqp_header {
	uint8_t version;   /* major version (3.1) */
	uint8_t kind;      /* enum iqp_kind */
	uint16_t flags;    /* IQP_FLAG_* */
	uint16_t code;     /* message code (11.1) */
	uint32_t txid;
	uint32_t body_len;
};

/* What the receiver of a refused frame or body must do (3.5, 4.4). */
enum iqp_action {
	IQP_ACT_NONE,
	IQP_ACT_CLOSE,  /* send CLOSE with the code, then close (2.6) */
	IQP_ACT_REPLY,  /* answer the REQUEST with an error REPLY (flag E) */
	IQP_ACT_ACK,    /* answer the NOTIFY with an ACK carrying the ERROR */
	IQP_ACT_LOCAL,  /* a REPLY: complete the transaction locally (4.4 item 3) */
	IQP_ACT_IGNORE, /* PENDING, ACK, CLOSE: ignore the body and log it */
};

/* An Iq+ error found in a frame: the code of 10.3, what to do, and for body
 * errors the ERROR_ELEMENT and ERROR_OFFSET of 4.4 (offset from the start
 * of the body). */
struct iqp_error {
	uint16_t code;
	uint8_t action;     /* enum iqp_action */
	bool has_element;   /* element is valid */
	bool has_offset;    /* offset is valid */
	uint16_t element;
	uint32_t offset;
	char text[96];      /* for humans and logs; never carries values */
};

/* Fills err: code and action, no element or offset, text from fmt. */
void iqp_error_set(struct iqp_error *err, unsigned code, unsigned action,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Lower-case action name ("close", "reply", ...) and the reverse (-1 if
 * unknown). */
const char *iqp_action_name(unsigned action);
int iqp_action_by_name(const char *name);

void iqp_header_encode(const struct iqp_header *h, uint8_t out[IQP_HEADER_LEN]);
/* Field extraction only; validation is the framer's (checks 1-5) and
 * iqp_header_check_code's (checks 6-9). */
void iqp_header_decode(const uint8_t in[IQP_HEADER_LEN], struct iqp_header *h);

/* 3.5 checks 6 to 9 for a frame sent by a peer of role `sender`: the code
 * is known, defined for the kind and for the sender's role.  CLOSE frames
 * and answers with codes this node does not know pass (checks 10 and 11
 * are the transaction layer's).  Returns 0, or EPROTO with err set. */
int iqp_header_check_code(const struct iqp_header *h, unsigned sender,
			  struct iqp_error *err);

/* The stream framer.  It holds at most one frame: the header bytes and a
 * body buffer allocated only after 3.5 check 4 passed (3.6 item 4), grown
 * to the largest body seen and never beyond MAX_FRAME - 16. */
struct iqp_framer {
	uint32_t max_frame;       /* this receiver's MAX_FRAME (3.4) */
	uint8_t majors[32];       /* bitmap: header versions accepted (check 2) */
	uint8_t hdr[IQP_HEADER_LEN];
	size_t hdr_got;           /* header bytes of the frame in progress */
	struct iqp_header h;      /* decoded once hdr_got == 16 */
	size_t body_got;          /* body bytes buffered */
	uint8_t *buf;             /* owned: body buffer */
	size_t buf_cap;
	uint64_t frames;          /* frames delivered so far */
	bool failed;              /* a header was refused; err says why */
	struct iqp_error err;
};

/* A frame delivered by iqp_framer_feed.  `body` is borrowed: it points into
 * the caller's data (the frame was whole in it) or into the framer's
 * buffer, and is valid until the next iqp_framer_feed or iqp_framer_free
 * call, and no longer than the data passed in. */
struct iqp_frame {
	bool ready;
	struct iqp_header hdr;
	const uint8_t *body;      /* hdr.body_len bytes; NULL when empty */
};

/* MAX_FRAME 65 536 and version 1 only, the state before registration. */
void iqp_framer_init(struct iqp_framer *f);
void iqp_framer_free(struct iqp_framer *f);

/* Sets MAX_FRAME for the headers that follow (3.4: 65 536..1 048 576).
 * Returns 0 or EINVAL. */
int iqp_framer_set_max_frame(struct iqp_framer *f, uint32_t max_frame);
/* Accepts (or stops accepting) header version `major` (check 2). */
void iqp_framer_allow_major(struct iqp_framer *f, uint8_t major, bool on);
/* After version negotiation: only `major` is accepted (5.2 item 2). */
void iqp_framer_lock_major(struct iqp_framer *f, uint8_t major);

/* Consumes bytes from data until a frame is complete or data is used up.
 * Returns 0 with *used set: when out->ready, a frame was delivered and the
 * bytes after *used are the caller's to feed again.  Returns EPROTO when a
 * header is refused (err holds the CLOSE code of 3.5; the framer stays
 * failed and refuses every later call the same way), or ENOMEM. */
int iqp_framer_feed(struct iqp_framer *f, const uint8_t *data, size_t len,
		    size_t *used, struct iqp_frame *out);

/* True while a frame has started (first byte received) and is not
 * complete: the caller runs T_FRAME (3.6 item 2) while this holds, and
 * restarts it when iqp_framer_frames changes. */
bool iqp_framer_partial(const struct iqp_framer *f);
uint64_t iqp_framer_frames(const struct iqp_framer *f);

#endif
