/* One Iq+ connection of the conformance suite, from either end: blocking
 * sockets with poll() timeouts (a test tool runs one step at a time; the
 * daemons' non-blocking libuv path is what it tests), TLS on iqp_tls.h's
 * memory-BIO sessions, frames delimited with iqp_framer.  Frames are sent
 * exactly as the case builds them, valid or not. */
#ifndef IQPLUS_CF_CONN_H
#define IQPLUS_CF_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "iqp_frame.h"
#include "iqp_tls.h"
#include "iqp_tlv.h"

#define CF_RX_MAX (1u << 20)

struct cf_conn {
	int fd;                     /* owned; -1 when closed */
	bool secure;
	struct iqp_tls tls;         /* owned when secure */
	struct iqp_framer framer;   /* owned */
	uint8_t *rx;                /* owned: bytes read, not yet framed */
	size_t rx_len;
	bool eof;                   /* the peer closed */
	char why[192];              /* last failure, for the case's report */
};

/* A frame received: header, a copy of the body, and its decoded tree when
 * the body passed pass 1 (parsed; not validated, so that cases can look at
 * what a peer sent even when it is wrong). */
struct cf_frame {
	struct iqp_header hdr;
	uint8_t *body;              /* owned */
	struct iqp_msg msg;         /* owned; valid when parsed */
	bool parsed;
	unsigned error_code;        /* the first ERROR's ERROR_CODE, 0 none */
	char error_text[160];
};

/* Connects to `to` (TLS when ctx is not NULL, checking the controller's
 * name when expect_name is set).  Returns 0 or an errno value with why. */
int cf_conn_connect(struct cf_conn *c, const struct sockaddr *to, socklen_t len,
		    const struct iqp_tls_ctx *ctx, const char *expect_name,
		    int timeout_ms);
/* Accepts one connection on listening socket lfd (TLS when ctx). */
int cf_conn_accept(struct cf_conn *c, int lfd, const struct iqp_tls_ctx *ctx,
		   int timeout_ms);
void cf_conn_close(struct cf_conn *c);

/* Sends raw bytes (frames built by hand). */
int cf_conn_send_raw(struct cf_conn *c, const void *p, size_t n);
/* Encodes and sends m (header fields as set by the caller). */
int cf_conn_send_msg(struct cf_conn *c, const struct iqp_msg *m);

/* The next frame, waiting up to timeout_ms.  Returns 0 with *f filled
 * (cf_frame_free it), ETIMEDOUT, ECONNRESET (the peer closed first),
 * EPROTO (the framer refused a header: why), or another errno. */
int cf_conn_recv(struct cf_conn *c, int timeout_ms, struct cf_frame *f);
void cf_frame_free(struct cf_frame *f);

/* Waits up to timeout_ms for the peer to close the connection, discarding
 * frames; true when it did. */
bool cf_conn_wait_closed(struct cf_conn *c, int timeout_ms);

#endif
