/* DTLS-SRTP (RFC 5763/5764) for one W3 transport: records in, records out
 * through a callback.  No sockets, no timers of its own: the caller arms
 * one timer at dtls_session_deadline (loop time).  Note: OpenSSL measures
 * its retransmission timer on the real clock, so now_ms must be the loop's
 * real time (as uv_now is), not a simulated one.  Retransmissions start at
 * 250 ms and double up to 2 s; the handshake fails after 20 s.
 *
 * - One SSL_CTX per process (struct dtls_ctx) with the process's ECDSA
 *   P-256 identity, DTLS 1.2, the four SRTP profiles.
 * - Outgoing records leave one datagram per BIO write, and OpenSSL is told
 *   the MTU (1200 by default), so no datagram is larger: the traps of
 *   memory-BIO draining and 256-byte fragments are avoided.
 * - The peer certificate is self-signed (browsers): it is accepted during
 *   the handshake and then checked against the fingerprint the SDP gave.
 * - On success the SRTP profile and keys are exported (RFC 5764 4.2) and
 *   split into local/remote by role. */
#ifndef AGW_DTLS_SESSION_H
#define AGW_DTLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tls_identity.h"

#define DTLS_MTU_DEFAULT 1200
#define DTLS_HANDSHAKE_TIMEOUT_MS 20000 /* overall deadline (Janus uses 20 s) */
#define DTLS_SRTP_MAX_KEY 32
#define DTLS_SRTP_MAX_SALT 14

struct dtls_ctx {
	SSL_CTX *ctx;    /* owned */
	BIO_METHOD *bio; /* owned: the datagram-writing BIO */
};

/* Builds the process context from the identity (borrowed; must outlive the
 * context).  Returns 0 or EIO/ENOMEM. */
int dtls_ctx_init(struct dtls_ctx *c, const struct tls_identity *id);
void dtls_ctx_free(struct dtls_ctx *c);

enum dtls_role { DTLS_ACTIVE, DTLS_PASSIVE }; /* a=setup:active = DTLS client */

enum dtls_state { DTLS_HANDSHAKING, DTLS_CONNECTED, DTLS_FAILED, DTLS_CLOSED };

struct dtls_keys {
	uint16_t profile; /* SRTP protection profile id (RFC 5764, RFC 7714) */
	uint8_t local_key[DTLS_SRTP_MAX_KEY], local_salt[DTLS_SRTP_MAX_SALT];
	uint8_t remote_key[DTLS_SRTP_MAX_KEY], remote_salt[DTLS_SRTP_MAX_SALT];
	size_t key_len, salt_len;
};

/* Sends one datagram toward the peer (a whole DTLS record or flight part). */
typedef void (dtls_send_h)(void *arg, const uint8_t *buf, size_t len);

struct dtls_session {
	SSL *ssl;            /* owned */
	BIO *rbio;           /* owned by ssl: received records */
	enum dtls_role role;
	enum dtls_state state;
	uint16_t mtu;        /* largest datagram we send */
	char expect_fp[96];  /* "AB:CD:..." sha-256 of the peer's certificate */
	dtls_send_h *send;
	void *arg;
	uint64_t started_ms;
	struct dtls_keys keys; /* valid in DTLS_CONNECTED; wiped at free */
	char fail_reason[128];
	bool unverified;     /* connected before a fingerprint was known */
	bool fp_mismatch;    /* failed: the peer's certificate is not the one
				the fingerprint names (Iq+ 1301) */
	uint8_t alert;       /* first fatal TLS alert description, 0: none */
	bool alert_sent;     /* we sent it (else the peer did) */
};

/* Starts a session; an active one sends its ClientHello at once.
 * expect_fp: sha-256 fingerprint from the peer's SDP.  Returns 0, EINVAL
 * or ENOMEM. */
int dtls_session_start(struct dtls_session *s, struct dtls_ctx *c, enum dtls_role role,
		       const char *expect_fp, uint16_t mtu, dtls_send_h *send, void *arg,
		       uint64_t now_ms);

/* The same with options: expect_fp may be NULL (a passive session whose
 * ClientHello came before the SDP answer): the handshake then completes
 * with `unverified` set, and dtls_session_verify decides later.
 * srtp_profiles: OpenSSL profile names separated by ':' offered or
 * accepted on this session (NULL: the context's list). */
int dtls_session_start_ex(struct dtls_session *s, struct dtls_ctx *c, enum dtls_role role,
			  const char *expect_fp, const char *srtp_profiles, uint16_t mtu,
			  dtls_send_h *send, void *arg, uint64_t now_ms);

/* Checks a connected, unverified session against fp ("AB:CD:..." sha-256).
 * Returns 0 (verified), EACCES (mismatch: the session is failed with
 * fp_mismatch) or EINVAL (not connected, or already verified). */
int dtls_session_verify(struct dtls_session *s, const char *fp);
void dtls_session_free(struct dtls_session *s);

/* One received DTLS datagram.  Returns the state after it; app data (for
 * data channels, later) is not yet delivered anywhere and is dropped. */
enum dtls_state dtls_session_input(struct dtls_session *s, const uint8_t *buf, size_t len,
				   uint64_t now_ms);

/* When the caller must call dtls_session_tick next (loop time, ms), or
 * UINT64_MAX when nothing is pending. */
uint64_t dtls_session_deadline(const struct dtls_session *s, uint64_t now_ms);

/* Retransmits a lost flight when due; fails the handshake after the overall
 * deadline.  Returns the state. */
enum dtls_state dtls_session_tick(struct dtls_session *s, uint64_t now_ms);

#endif
