/* DTLS-SRTP handshake and key export on OpenSSL. */
#include "dtls_session.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/x509.h>

/* Browsers offer these; the DTLS server picks its preferred one (RFC 5764). */
#define SRTP_PROFILES \
	"SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"
#define CIPHERS                                                            \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"       \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"

/* The write BIO's data is its session. */
static int bio_write(BIO *b, const char *buf, int len)
{
	struct dtls_session *s = BIO_get_data(b);
	if (len > 0 && s && s->send)
		s->send(s->arg, (const uint8_t *)buf, (size_t)len);
	return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)ptr;
	(void)num;
	struct dtls_session *s = BIO_get_data(b);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return s ? (long)s->mtu : DTLS_MTU_DEFAULT;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return 0; /* the caller's MTU already excludes IP/UDP */
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return 0;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* Retransmission schedule: 250 ms, doubling up to 2 s.  OpenSSL's default
 * (1 s doubling to 60 s) suits no interactive media; libwebrtc starts at
 * 50 ms.  timer_us is the previous value, 0 for the first flight. */
static unsigned int dtls_timer(SSL *ssl, unsigned int timer_us)
{
	(void)ssl;
	if (timer_us == 0)
		return 250000;
	return timer_us >= 1000000 ? 2000000 : timer_us * 2;
}

/* The first fatal alert either way, for DTLS_FAILED's DTLS_ALERT. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	struct dtls_session *s = SSL_get_app_data(ssl);

	if (!s || !(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL || s->alert)
		return;
	s->alert = (uint8_t)(ret & 0xff);
	s->alert_sent = (where & SSL_CB_WRITE) != 0;
}

static int verify_accept(int ok, X509_STORE_CTX *x)
{
	/* Self-signed by design (RFC 5763 6.6): the SDP fingerprint decides,
	 * after the handshake. */
	(void)ok;
	(void)x;
	return 1;
}

int dtls_ctx_init(struct dtls_ctx *c, const struct tls_identity *id)
{
	memset(c, 0, sizeof(*c));
	c->ctx = SSL_CTX_new(DTLS_method());
	c->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dtls datagram");
	if (!c->ctx || !c->bio || !BIO_meth_set_write(c->bio, bio_write) ||
	    !BIO_meth_set_ctrl(c->bio, bio_ctrl) || !BIO_meth_set_create(c->bio, bio_create) ||
	    !SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(c->ctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, id->key) != 1 ||
	    SSL_CTX_check_private_key(c->ctx) != 1 ||
	    SSL_CTX_set_cipher_list(c->ctx, CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(c->ctx, "X25519:P-256") != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(c->ctx, SRTP_PROFILES) != 0) {
		ERR_clear_error();
		dtls_ctx_free(c);
		return EIO;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_accept);
	SSL_CTX_set_read_ahead(c->ctx, 1);
	/* We state the MTU; the kernel's path MTU is not ours to query. */
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION);
	return 0;
}

void dtls_ctx_free(struct dtls_ctx *c)
{
	SSL_CTX_free(c->ctx);
	BIO_meth_free(c->bio);
	memset(c, 0, sizeof(*c));
}

static void fail(struct dtls_session *s, const char *why)
{
	unsigned long e = ERR_get_error();
	char ossl[120] = "";
	if (e)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	ERR_clear_error();
	snprintf(s->fail_reason, sizeof(s->fail_reason), "%s%s%s", why, *ossl ? ": " : "", ossl);
	s->state = DTLS_FAILED;
}

int dtls_session_start(struct dtls_session *s, struct dtls_ctx *c, enum dtls_role role,
		       const char *expect_fp, uint16_t mtu, dtls_send_h *send, void *arg,
		       uint64_t now_ms)
{
	if (!expect_fp) {
		memset(s, 0, sizeof(*s));
		return EINVAL;
	}
	return dtls_session_start_ex(s, c, role, expect_fp, NULL, mtu, send, arg, now_ms);
}

int dtls_session_start_ex(struct dtls_session *s, struct dtls_ctx *c, enum dtls_role role,
			  const char *expect_fp, const char *srtp_profiles, uint16_t mtu,
			  dtls_send_h *send, void *arg, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	if (expect_fp && strlen(expect_fp) != 95)
		return EINVAL;
	if (expect_fp)
		snprintf(s->expect_fp, sizeof(s->expect_fp), "%s", expect_fp);
	s->role = role;
	s->send = send;
	s->arg = arg;
	s->started_ms = now_ms;
	s->mtu = mtu ? mtu : DTLS_MTU_DEFAULT;
	s->ssl = SSL_new(c->ctx);
	s->rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(c->bio);
	if (!s->ssl || !s->rbio || !wbio) {
		SSL_free(s->ssl);
		BIO_free(s->rbio);
		BIO_free(wbio);
		s->ssl = NULL;
		return ENOMEM;
	}
	if (srtp_profiles && SSL_set_tlsext_use_srtp(s->ssl, srtp_profiles) != 0) {
		ERR_clear_error();
		SSL_free(s->ssl);
		BIO_free(s->rbio);
		BIO_free(wbio);
		s->ssl = NULL;
		return EINVAL;
	}
	SSL_set_app_data(s->ssl, s);
	SSL_set_info_callback(s->ssl, info_cb);
	BIO_set_mem_eof_return(s->rbio, -1);
	BIO_set_data(wbio, s);
	SSL_set_bio(s->ssl, s->rbio, wbio);
	SSL_set_mtu(s->ssl, s->mtu);
	DTLS_set_link_mtu(s->ssl, s->mtu);
	DTLS_set_timer_cb(s->ssl, dtls_timer);
	s->state = DTLS_HANDSHAKING;
	if (role == DTLS_ACTIVE) {
		SSL_set_connect_state(s->ssl);
		int r = SSL_do_handshake(s->ssl); /* sends the ClientHello */
		if (r <= 0 && SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ)
			fail(s, "cannot start the handshake");
	} else {
		SSL_set_accept_state(s->ssl);
	}
	return 0;
}

void dtls_session_free(struct dtls_session *s)
{
	SSL_free(s->ssl); /* frees both BIOs */
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	s->ssl = NULL;
}

static int profile_sizes(uint16_t id, size_t *key, size_t *salt)
{
	switch (id) {
	case SRTP_AES128_CM_SHA1_80:
	case SRTP_AES128_CM_SHA1_32:
		*key = 16, *salt = 14;
		return 0;
	case SRTP_AEAD_AES_128_GCM:
		*key = 16, *salt = 12;
		return 0;
	case SRTP_AEAD_AES_256_GCM:
		*key = 32, *salt = 12;
		return 0;
	}
	return EINVAL;
}

static int fingerprint_matches(struct dtls_session *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char got[96];
	X509 *peer = SSL_get1_peer_certificate(s->ssl);

	if (!peer)
		return 0;
	int ok = X509_digest(peer, EVP_sha256(), md, &n) && n == 32;
	X509_free(peer);
	if (!ok)
		return 0;
	for (unsigned i = 0; i < n; i++)
		snprintf(got + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
	return !strcasecmp(got, s->expect_fp);
}

/* Handshake done: check the peer, export keys (RFC 5764 4.2: client key,
 * server key, client salt, server salt). */
static void connected(struct dtls_session *s)
{
	uint8_t km[2 * (DTLS_SRTP_MAX_KEY + DTLS_SRTP_MAX_SALT)];
	size_t k, sl;

	if (!*s->expect_fp) {
		s->unverified = true;
	} else if (!fingerprint_matches(s)) {
		fail(s, "peer certificate does not match the SDP fingerprint");
		s->fp_mismatch = true;
		return;
	}
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
	if (!p || profile_sizes((uint16_t)p->id, &k, &sl)) {
		fail(s, "no SRTP profile negotiated (use_srtp)");
		return;
	}
	if (SSL_export_keying_material(s->ssl, km, 2 * (k + sl), "EXTRACTOR-dtls_srtp", 19,
				       NULL, 0, 0) != 1) {
		fail(s, "keying material export failed");
		return;
	}
	const uint8_t *ck = km, *sk = km + k, *cs = km + 2 * k, *ss = km + 2 * k + sl;
	int client = s->role == DTLS_ACTIVE;
	s->keys.profile = (uint16_t)p->id;
	s->keys.key_len = k;
	s->keys.salt_len = sl;
	memcpy(s->keys.local_key, client ? ck : sk, k);
	memcpy(s->keys.remote_key, client ? sk : ck, k);
	memcpy(s->keys.local_salt, client ? cs : ss, sl);
	memcpy(s->keys.remote_salt, client ? ss : cs, sl);
	OPENSSL_cleanse(km, sizeof(km));
	s->state = DTLS_CONNECTED;
}

enum dtls_state dtls_session_input(struct dtls_session *s, const uint8_t *buf, size_t len,
				   uint64_t now_ms)
{
	uint8_t app[2048];

	if (s->state == DTLS_FAILED || s->state == DTLS_CLOSED)
		return s->state;
	if (BIO_write(s->rbio, buf, (int)len) != (int)len) {
		fail(s, "out of memory");
		return s->state;
	}
	if (s->state == DTLS_HANDSHAKING) {
		int r = SSL_do_handshake(s->ssl);
		if (r == 1) {
			connected(s);
		} else {
			int e = SSL_get_error(s->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				fail(s, "handshake failed");
			else
				(void)BIO_reset(s->rbio); /* drop records OpenSSL refused */
		}
		(void)now_ms;
		return s->state;
	}
	/* Connected: consume records (alerts, later SCTP for data channels). */
	for (;;) {
		int r = SSL_read(s->ssl, app, sizeof(app));
		if (r > 0)
			continue; /* application data: no data channel yet */
		int e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			s->state = DTLS_CLOSED; /* close_notify */
		else if (e != SSL_ERROR_WANT_READ)
			fail(s, "DTLS record error");
		break;
	}
	return s->state;
}

int dtls_session_verify(struct dtls_session *s, const char *fp)
{
	if (s->state != DTLS_CONNECTED || !s->unverified || !fp || strlen(fp) != 95)
		return EINVAL;
	snprintf(s->expect_fp, sizeof(s->expect_fp), "%s", fp);
	if (!fingerprint_matches(s)) {
		OPENSSL_cleanse(&s->keys, sizeof(s->keys));
		snprintf(s->fail_reason, sizeof(s->fail_reason),
			 "peer certificate does not match the SDP fingerprint");
		s->state = DTLS_FAILED;
		s->fp_mismatch = true;
		return EACCES;
	}
	s->unverified = false;
	return 0;
}

uint64_t dtls_session_deadline(const struct dtls_session *s, uint64_t now_ms)
{
	struct timeval tv;

	if (s->state != DTLS_HANDSHAKING)
		return UINT64_MAX;
	uint64_t overall = s->started_ms + DTLS_HANDSHAKE_TIMEOUT_MS;
	if (DTLSv1_get_timeout(s->ssl, &tv) != 1)
		return overall;
	uint64_t rtx = now_ms + (uint64_t)tv.tv_sec * 1000 + (uint64_t)(tv.tv_usec + 999) / 1000;
	return rtx < overall ? rtx : overall;
}

enum dtls_state dtls_session_tick(struct dtls_session *s, uint64_t now_ms)
{
	if (s->state != DTLS_HANDSHAKING)
		return s->state;
	if (now_ms >= s->started_ms + DTLS_HANDSHAKE_TIMEOUT_MS) {
		fail(s, "handshake timed out");
		return s->state;
	}
	if (DTLSv1_handle_timeout(s->ssl) < 0)
		fail(s, "retransmission failed");
	return s->state;
}
