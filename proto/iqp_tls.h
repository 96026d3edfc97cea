/* TLS 1.3 for Iq+ links (SPEC.md 2.2) on OpenSSL memory BIOs: the socket
 * I/O stays with the caller (iqp_conn.c on libuv), this file only turns
 * ciphertext into plaintext and back.
 *
 * Mutual authentication: each end presents its certificate; the peer is
 * trusted when the SHA-256 fingerprint of its certificate is in the pin
 * list, or when its chain verifies against the configured CA file.  ALPN
 * "iqplus/1" is required both ways; TLS below 1.3, 0-RTT and session
 * tickets are off.  The AGW (client) can also require a name in the
 * controller's certificate (2.2 item 5), and the controller reads the
 * AGW's names to bind its NODE_ID (2.2 item 4, 7.2.3). */
#ifndef PROTO_IQP_TLS_H
#define PROTO_IQP_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_identity.h"

#define IQP_ALPN "iqplus/1"
#define IQP_FP_LEN 32 /* SHA-256 */

/* Shared by every connection of one daemon. */
struct iqp_tls_ctx {
	SSL_CTX *ctx;                   /* owned */
	bool server;
	uint8_t (*pins)[IQP_FP_LEN];    /* owned: trusted peer fingerprints */
	size_t n_pins;
	bool ca;                        /* a CA file is loaded */
	bool alpn;                      /* ALPN "iqplus/1" required (Iq+);
					 * false where another protocol reuses
					 * these sessions (SIP over TLS) */
};

/* The certificate check of every context (SSL_CTX_set_verify): a peer is
 * trusted when its SHA-256 fingerprint is pinned, or when its chain
 * verifies against the CA file; the reason of a refusal goes to the
 * session's why.  For contexts built outside this file, whose sessions
 * are iqp_tls ones. */
int iqp_tls_verify_cb(int ok, X509_STORE_CTX *st);

/* Parses a SHA-256 fingerprint: 64 hex digits, optionally in pairs
 * separated by ':' (as tls_identity prints it), any case, optionally
 * prefixed "sha-256 " (SDP style).  Returns 0 or EINVAL. */
int iqp_tls_fingerprint_parse(const char *text, uint8_t out[IQP_FP_LEN]);

/* Context for the controller (server) or the AGW (client), with our
 * identity (borrowed: certificate and key are referenced, not copied), the
 * pins (each parsed with iqp_tls_fingerprint_parse) and an optional CA
 * file (NULL or ""). Returns 0 or an errno value with err set. */
int iqp_tls_ctx_init(struct iqp_tls_ctx *c, bool server,
		     const struct tls_identity *id, const char *const *pins,
		     size_t n_pins, const char *ca_file, char *err,
		     size_t errlen);
void iqp_tls_ctx_free(struct iqp_tls_ctx *c);
/* The trust part of a context whose c->ctx exists: the pins (parsed into
 * c->pins), peer verification with iqp_tls_verify_cb, and the CA file when
 * given.  For contexts with another policy (sip_tls.c).  Returns 0 or an
 * errno value with err set; the caller frees c on failure. */
int iqp_tls_ctx_trust(struct iqp_tls_ctx *c, const char *const *pins, size_t n_pins,
		      const char *ca_file, char *err, size_t errlen);

/* Loads the Iq+ identity: cert_path/key_path when cert_path is set, else
 * a certificate generated under <state_dir>/iq/tls/ whose subjectAltName
 * carries node_id as a dNSName (made again when node_id changed).  node_id
 * may list several node ids separated by spaces (eims-agw's workers): a
 * generated certificate then carries them all.  As tls_identity_load
 * otherwise. */
int iqp_tls_identity_load(struct tls_identity *id, const char *cert_path,
			  const char *key_path, const char *state_dir,
			  const char *node_id, char *err, size_t errlen);

/* One TLS session. */
struct iqp_tls {
	SSL *ssl;                        /* owned */
	BIO *in, *out;                   /* owned by ssl: network side */
	const struct iqp_tls_ctx *ctx;   /* borrowed */
	char expected[256];              /* client: name the server must carry */
	bool established;                /* handshake done, peer authenticated */
	bool auth_failed;                /* refused for the peer's certificate */
	char why[192];                   /* reason of a failure */
	char peer_fp[IQP_FP_LEN * 3];    /* peer certificate, "AB:CD:..." */
};

/* Starts a session as the context's side; expected_name (client only,
 * NULL or "" for none) per 2.2 item 5.  Returns 0 or ENOMEM. */
int iqp_tls_init(struct iqp_tls *t, const struct iqp_tls_ctx *c,
		 const char *expected_name);
void iqp_tls_free(struct iqp_tls *t);

/* Ciphertext received from the network.  Returns 0 or ENOMEM. */
int iqp_tls_feed(struct iqp_tls *t, const uint8_t *p, size_t n);

/* Advances the handshake, then reads plaintext into buf: returns 0 with
 * *got bytes (0: nothing yet); ECONNRESET when the peer sent close_notify;
 * EPROTO when the handshake or the session failed (why says why,
 * auth_failed when the peer's certificate was refused). */
int iqp_tls_read(struct iqp_tls *t, uint8_t *buf, size_t cap, size_t *got);

/* Encrypts plaintext (after the handshake).  Returns 0 or EPROTO. */
int iqp_tls_write(struct iqp_tls *t, const uint8_t *p, size_t n);

/* Queues close_notify. */
void iqp_tls_shutdown(struct iqp_tls *t);

/* Ciphertext waiting to be sent: copies up to cap bytes into buf and
 * returns how many. */
size_t iqp_tls_take(struct iqp_tls *t, uint8_t *buf, size_t cap);
size_t iqp_tls_pending(const struct iqp_tls *t);

/* True when certificate c carries `name` as a subjectAltName dNSName
 * (exact, no wildcard) or as URI urn:iqplus:node:<name> (2.2 item 4). */
bool iqp_tls_cert_has_name(X509 *c, const char *name);
/* The same for the peer's certificate. */
bool iqp_tls_peer_has_name(const struct iqp_tls *t, const char *name);

#endif
