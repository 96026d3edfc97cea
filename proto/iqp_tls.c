/* TLS 1.3 sessions for Iq+ over memory BIOs (SPEC.md 2.2). */
#include "iqp_tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ALPN wire form: length-prefixed protocol names. */
static const unsigned char alpn_wire[] = "\x08" IQP_ALPN;
#define ALPN_WIRE_LEN (sizeof(alpn_wire) - 1)

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int iqp_tls_fingerprint_parse(const char *text, uint8_t out[IQP_FP_LEN])
{
	uint8_t v[IQP_FP_LEN];
	size_t n = 0;
	const char *p = text;

	if (!strncasecmp(p, "sha-256 ", 8))
		p += 8;
	while (*p) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (lo < 0 || n == IQP_FP_LEN)
			return EINVAL;
		v[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (*p == ':' && p[1])
			p++;
	}
	if (n != IQP_FP_LEN)
		return EINVAL;
	memcpy(out, v, IQP_FP_LEN);
	return 0;
}

static void fp_text(const uint8_t *md, char *out)
{
	for (unsigned i = 0; i < IQP_FP_LEN; i++)
		snprintf(out + 3 * i, 4, i + 1 < IQP_FP_LEN ? "%02X:" : "%02X", md[i]);
}

/* Decides trust at the leaf (depth 0), after OpenSSL walked the chain:
 * a pinned fingerprint is trusted whatever the chain says; otherwise the
 * chain must verify against the CA file. */
int iqp_tls_verify_cb(int ok, X509_STORE_CTX *st)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(st, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct iqp_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(st);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int err = X509_STORE_CTX_get_error(st);

	if (!t)
		return 0;
	if (!ok && !t->why[0] && X509_STORE_CTX_get_error_depth(st) > 0)
		snprintf(t->why, sizeof(t->why), "certificate chain: %s",
			 X509_verify_cert_error_string(err));
	if (X509_STORE_CTX_get_error_depth(st) > 0)
		return 1; /* decided at the leaf */
	if (!cert || !X509_digest(cert, EVP_sha256(), md, &n) || n != IQP_FP_LEN)
		return 0;
	fp_text(md, t->peer_fp);
	for (size_t i = 0; i < t->ctx->n_pins; i++)
		if (!memcmp(t->ctx->pins[i], md, IQP_FP_LEN)) {
			X509_STORE_CTX_set_error(st, X509_V_OK);
			t->why[0] = '\0';
			return 1;
		}
	if (t->ctx->ca && ok && !t->why[0])
		return 1;
	t->auth_failed = true;
	if (!t->ctx->ca)
		snprintf(t->why, sizeof(t->why), "certificate not trusted: %s",
			 t->ctx->n_pins ? "fingerprint not pinned"
					: "no trusted fingerprint or CA configured");
	else if (!ok || !t->why[0])
		snprintf(t->why, sizeof(t->why),
			 "certificate not trusted: fingerprint not pinned, %s",
			 ok ? "chain not verified" : X509_verify_cert_error_string(err));
	return 0;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel = NULL;
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, alpn_wire, ALPN_WIRE_LEN, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL; /* 2.2 item 3 */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void ssl_why(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	snprintf(buf, len, "%s%s%s", what, r ? ": " : "", r ? r : "");
	ERR_clear_error();
}

int iqp_tls_ctx_trust(struct iqp_tls_ctx *c, const char *const *pins, size_t n_pins,
		      const char *ca_file, char *err, size_t errlen)
{
	if (n_pins && !(c->pins = calloc(n_pins, IQP_FP_LEN))) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	for (size_t i = 0; i < n_pins; i++, c->n_pins++)
		if (iqp_tls_fingerprint_parse(pins[i], c->pins[i])) {
			snprintf(err, errlen, "\"%s\" is not a SHA-256 fingerprint", pins[i]);
			return EINVAL;
		}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   iqp_tls_verify_cb);
	if (!ca_file || !*ca_file)
		return 0;
	FILE *f = fopen(ca_file, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot read CA file \"%s\": %s", ca_file, strerror(e));
		return e;
	}
	fclose(f);
	if (SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
		char why[160];
		ssl_why(why, sizeof(why), "");
		snprintf(err, errlen, "cannot load CA file \"%s\"%s", ca_file, why);
		return EINVAL;
	}
	c->ca = true;
	return 0;
}

int iqp_tls_ctx_init(struct iqp_tls_ctx *c, bool server,
		     const struct tls_identity *id, const char *const *pins,
		     size_t n_pins, const char *ca_file, char *err,
		     size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->server = server;
	c->alpn = true;
	c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c->ctx || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate(c->ctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, id->key) != 1 ||
	    SSL_CTX_check_private_key(c->ctx) != 1 ||
	    !SSL_CTX_set_num_tickets(c->ctx, 0) ||
	    !SSL_CTX_set_max_early_data(c->ctx, 0) ||
	    !SSL_CTX_set_recv_max_early_data(c->ctx, 0) ||
	    (!server && SSL_CTX_set_alpn_protos(c->ctx, alpn_wire, ALPN_WIRE_LEN))) {
		ssl_why(err, errlen, "cannot set up TLS");
		iqp_tls_ctx_free(c);
		return EIO;
	}
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	if (server)
		SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, NULL);
	if ((rc = iqp_tls_ctx_trust(c, pins, n_pins, ca_file, err, errlen))) {
		iqp_tls_ctx_free(c);
		return rc;
	}
	return 0;
}

void iqp_tls_ctx_free(struct iqp_tls_ctx *c)
{
	SSL_CTX_free(c->ctx);
	free(c->pins);
	memset(c, 0, sizeof(*c));
}

/* Every name of the space-separated list is in the certificate. */
static bool cert_has_names(X509 *c, const char *names)
{
	char one[256];

	for (const char *p = names + strspn(names, " "); *p; p += strspn(p, " ")) {
		size_t n = strcspn(p, " ");
		if (n >= sizeof(one))
			return false;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!iqp_tls_cert_has_name(c, one))
			return false;
		p += n;
	}
	return true;
}

int iqp_tls_identity_load(struct tls_identity *id, const char *cert_path,
			  const char *key_path, const char *state_dir,
			  const char *node_id, char *err, size_t errlen)
{
	char dir[512];
	int rc;

	if (cert_path && *cert_path)
		return tls_identity_load(id, cert_path, key_path, NULL, node_id, err,
					 errlen);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/iq", state_dir) >= sizeof(dir)) {
		snprintf(err, errlen, "state directory path too long");
		return ENAMETOOLONG;
	}
	if ((rc = tls_identity_load(id, "", "", dir, node_id, err, errlen)))
		return rc;
	if (cert_has_names(id->cert, node_id))
		return 0;
	/* Made for another node id: ours to replace. */
	tls_identity_free(id);
	unlink(id->cert_path);
	unlink(id->key_path);
	return tls_identity_load(id, "", "", dir, node_id, err, errlen);
}

int iqp_tls_init(struct iqp_tls *t, const struct iqp_tls_ctx *c,
		 const char *expected_name)
{
	memset(t, 0, sizeof(*t));
	t->ctx = c;
	if (expected_name)
		snprintf(t->expected, sizeof(t->expected), "%s", expected_name);
	t->ssl = SSL_new(c->ctx);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->in || !t->out) {
		SSL_free(t->ssl);
		BIO_free(t->in);
		BIO_free(t->out);
		memset(t, 0, sizeof(*t));
		ERR_clear_error();
		return ENOMEM;
	}
	BIO_set_mem_eof_return(t->in, -1); /* empty: "want read", not EOF */
	SSL_set_bio(t->ssl, t->in, t->out);
	SSL_set_app_data(t->ssl, t);
	if (c->server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return 0;
}

void iqp_tls_free(struct iqp_tls *t)
{
	SSL_free(t->ssl); /* frees both BIOs */
	memset(t, 0, sizeof(*t));
}

int iqp_tls_feed(struct iqp_tls *t, const uint8_t *p, size_t n)
{
	while (n) {
		int chunk = n > INT32_MAX ? INT32_MAX : (int)n;
		int w = BIO_write(t->in, p, chunk);
		if (w <= 0)
			return ENOMEM;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int failed(struct iqp_tls *t, const char *what)
{
	unsigned long e = ERR_peek_error();

	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		t->auth_failed = true;
	if (!t->why[0] || !t->auth_failed)
		ssl_why(t->why, sizeof(t->why), what);
	ERR_clear_error();
	return EPROTO;
}

/* 2.2 items 3 and 5, once the handshake is complete. */
static int post_handshake(struct iqp_tls *t)
{
	const unsigned char *sel = NULL;
	unsigned len = 0;

	SSL_get0_alpn_selected(t->ssl, &sel, &len);
	if (t->ctx->alpn && (len != ALPN_WIRE_LEN - 1 || memcmp(sel, alpn_wire + 1, len))) {
		snprintf(t->why, sizeof(t->why), "ALPN %s not negotiated", IQP_ALPN);
		return EPROTO;
	}
	if (t->expected[0] && !iqp_tls_peer_has_name(t, t->expected)) {
		t->auth_failed = true;
		snprintf(t->why, sizeof(t->why),
			 "certificate does not carry the name \"%s\"", t->expected);
		return EPROTO;
	}
	t->established = true;
	return 0;
}

int iqp_tls_read(struct iqp_tls *t, uint8_t *buf, size_t cap, size_t *got)
{
	int r, e;

	*got = 0;
	if (!t->established) {
		r = SSL_do_handshake(t->ssl);
		if (r != 1) {
			e = SSL_get_error(t->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			return failed(t, "TLS handshake failed");
		}
		if (post_handshake(t))
			return EPROTO;
	}
	r = SSL_read(t->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
	if (r > 0) {
		*got = (size_t)r;
		return 0;
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN)
		return ECONNRESET;
	return failed(t, "TLS failure");
}

int iqp_tls_write(struct iqp_tls *t, const uint8_t *p, size_t n)
{
	while (n) {
		int chunk = n > INT32_MAX ? INT32_MAX : (int)n;
		int w = SSL_write(t->ssl, p, chunk);
		if (w <= 0)
			return failed(t, "TLS write failed");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void iqp_tls_shutdown(struct iqp_tls *t)
{
	if (t->established)
		SSL_shutdown(t->ssl);
	ERR_clear_error();
}

size_t iqp_tls_take(struct iqp_tls *t, uint8_t *buf, size_t cap)
{
	int r = BIO_read(t->out, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
	return r > 0 ? (size_t)r : 0;
}

size_t iqp_tls_pending(const struct iqp_tls *t)
{
	return BIO_ctrl_pending(t->out);
}

bool iqp_tls_peer_has_name(const struct iqp_tls *t, const char *name)
{
	return iqp_tls_cert_has_name(SSL_get0_peer_certificate(t->ssl), name);
}

bool iqp_tls_cert_has_name(X509 *c, const char *name)
{
	static const char urn[] = "urn:iqplus:node:";
	GENERAL_NAMES *sans;
	bool found = false;

	if (!c || !*name)
		return false;
	if (X509_check_host(c, name, strlen(name),
			    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
				    X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1)
		return true;
	if (!(sans = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL)))
		return false;
	for (int i = 0; i < sk_GENERAL_NAME_num(sans) && !found; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_URI)
			continue;
		const char *u = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		int len = ASN1_STRING_length(g->d.uniformResourceIdentifier);
		size_t nl = strlen(name);
		found = len >= 0 && (size_t)len == sizeof(urn) - 1 + nl &&
			!memcmp(u, urn, sizeof(urn) - 1) &&
			!memcmp(u + sizeof(urn) - 1, name, nl);
	}
	GENERAL_NAMES_free(sans);
	ERR_clear_error();
	return found;
}
