/* One Iq+ connection on a libuv loop (SPEC.md 2, 3): TCP, or TLS 1.3 with
 * mutual authentication (iqp_tls.h) when a TLS context is given; the stream
 * framer with header checks 1-5 (CLOSE on refusal, with the VERSION list
 * for 406), T_FRAME (3.6), CLOSE frames and the close linger (2.6), TCP
 * keepalive and TCP_USER_TIMEOUT (2.4), and bounded writes.
 *
 * Life cycle: iqp_conn_connect / iqp_conn_accept allocate the connection;
 * it frees itself once its handles are closed.  Its owner receives
 * callbacks until either the connection ends by itself (ops->down, called
 * once; the owner then forgets the pointer) or the owner calls
 * iqp_conn_close (no callback follows). */
#ifndef PROTO_IQP_CONN_H
#define PROTO_IQP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "iqp_frame.h"
#include "iqp_tls.h"

#define IQP_T_FRAME_MS 10000u     /* 3.6 item 2 */
#define IQP_CLOSE_LINGER_MS 1000u /* 2.6 item 2 */
/* Bytes waiting in the socket's write queue beyond which the peer is
 * deemed not to read: iqp_conn_send refuses with ENOBUFS. */
#define IQP_CONN_MAX_QUEUED (4u * 1024 * 1024)

/* Why a connection ended by itself. */
struct iqp_conn_end {
	unsigned code;  /* CLOSE code we sent (3.5, 3.6), 0 if none */
	bool tls;       /* TLS failed (handshake, certificate, alert) */
	bool auth;      /* TLS: the peer's certificate was refused */
	char text[224];
};

struct iqp_conn;

struct iqp_conn_ops {
	/* Client connections: TCP (and TLS, peer authenticated) are up. */
	void (*ready)(void *arg);
	/* One whole frame whose header passed checks 1-5 (3.5), CLOSE
	 * frames included; f->body is valid during the call only. */
	void (*frame)(void *arg, const struct iqp_frame *f);
	/* The connection failed or ended by itself (connect failure, TLS
	 * failure, end of stream, write error, header refused, T_FRAME). */
	void (*down)(void *arg, const struct iqp_conn_end *end);
};

/* Connects to `to`; tls NULL for plain TCP, else expected_name (may be
 * NULL or "") is the name the controller's certificate must carry.
 * Returns 0 with *out, or an errno value (nothing to close then). */
int iqp_conn_connect(struct iqp_conn **out, uv_loop_t *loop,
		     const struct sockaddr *to, const struct iqp_tls_ctx *tls,
		     const char *expected_name, const struct iqp_conn_ops *ops,
		     void *arg);

/* Accepts a connection from listener `server` (ops->ready is not called
 * for accepted connections).  Returns 0 with *out, or an errno value. */
int iqp_conn_accept(struct iqp_conn **out, uv_loop_t *loop,
		    uv_stream_t *server, const struct iqp_tls_ctx *tls,
		    const struct iqp_conn_ops *ops, void *arg);

/* Writes one encoded frame (copied).  Returns 0; ENOTCONN (not
 * established, or closing); ENOBUFS (the peer does not read: more than
 * IQP_CONN_MAX_QUEUED bytes waiting); EPROTO or ENOMEM. */
int iqp_conn_send(struct iqp_conn *c, const uint8_t *frame, size_t len);

/* Sends CLOSE with ERROR_CODE `code` (0: no CLOSE frame; 406: with our
 * VERSION list) and ERROR_TEXT `text` (may be NULL), then close_notify,
 * and closes after the peer closed or the linger.  The owner must not use
 * c afterwards; no callback follows. */
void iqp_conn_close(struct iqp_conn *c, unsigned code, const char *text);

/* After registration (3.4, 5.2, 2.4): MAX_FRAME for received frames, the
 * negotiated major version, and TCP_USER_TIMEOUT (0: leave). */
void iqp_conn_set_limits(struct iqp_conn *c, uint32_t max_frame,
			 uint8_t major, unsigned user_timeout_ms);

/* "1.2.3.4:5" or "[::1]:5". */
const char *iqp_conn_peer(const struct iqp_conn *c);
bool iqp_conn_secure(const struct iqp_conn *c);
/* The peer's certificate carries name (iqp_tls_peer_has_name); false
 * without TLS. */
bool iqp_conn_peer_has_name(const struct iqp_conn *c, const char *name);
/* SHA-256 of the peer certificate "AB:CD:...", "" without TLS. */
const char *iqp_conn_peer_fingerprint(const struct iqp_conn *c);

/* Encodes CLOSE { ERROR { code, text }, VERSION 1.0 with 406 } into buf.
 * Returns 0 with *len, or EMSGSIZE. */
int iqp_close_frame(unsigned code, const char *text, uint8_t *buf, size_t cap,
		    size_t *len);

#endif
