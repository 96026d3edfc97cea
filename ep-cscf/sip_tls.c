/* SIP-over-TLS contexts toward IMS. */
#include "sip_tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TLS 1.2 suites: forward secrecy and AEAD only (RFC 9325 4.2). */
#define SIP_TLS12_CIPHERS                                                        \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"             \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"             \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static int fail(struct iqp_tls_ctx *c, char *err, size_t errlen, const char *what, int rc)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	snprintf(err, errlen, "%s%s%s", what, r ? ": " : "", r ? r : "");
	ERR_clear_error();
	iqp_tls_ctx_free(c);
	return rc;
}

int sip_tls_ctx_init(struct iqp_tls_ctx *c, bool server,
		     const struct tls_identity *id, const char *const *pins,
		     size_t n_pins, const char *ca_file, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->server = server;
	if (!n_pins && !(ca_file && *ca_file)) {
		snprintf(err, errlen, "no trusted fingerprint or CA file for TLS toward IMS");
		return EINVAL;
	}
	c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c->ctx || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) ||
	    SSL_CTX_set_cipher_list(c->ctx, SIP_TLS12_CIPHERS) != 1 ||
	    SSL_CTX_use_certificate(c->ctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, id->key) != 1 ||
	    SSL_CTX_check_private_key(c->ctx) != 1 || !SSL_CTX_set_num_tickets(c->ctx, 0))
		return fail(c, err, errlen, "cannot set up TLS toward IMS", EIO);
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	if ((rc = iqp_tls_ctx_trust(c, pins, n_pins, ca_file, err, errlen))) {
		iqp_tls_ctx_free(c);
		return rc;
	}
	return 0;
}
