/* ECDSA P-256 self-signed certificates: generate, store, reload. */
#include "tls_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RENEW_BEFORE_DAYS 7
#define VALID_DAYS 365

int mkdir_p(const char *dir)
{
	char tmp[512];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp))
		return ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return errno;
	return 0;
}

static void ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
}

static int fingerprint(struct tls_identity *id)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(id->cert, EVP_sha256(), md, &n))
		return EIO;
	for (unsigned i = 0; i < n; i++)
		snprintf(id->fingerprint_sha256 + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X",
			 md[i]);
	return 0;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return EIO;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : EIO;
}

int tls_identity_generate(struct tls_identity *id, const char *common_name,
			  int valid_days)
{
	unsigned char serial[16];
	char cn[256], *san = NULL;
	int rc = EIO;
	/* The first name is the subject; every name goes into the SAN. */
	size_t cn_len = strcspn(common_name, " ");
	size_t san_cap = 64 + 5 * strlen(common_name) + 8;

	id->key = EVP_EC_gen("P-256");
	id->cert = X509_new();
	if (!id->key || !id->cert || !cn_len || cn_len >= sizeof(cn) || !(san = malloc(san_cap)))
		goto out;
	memcpy(cn, common_name, cn_len);
	cn[cn_len] = '\0';
	/* A random positive serial: browsers cache certificates by issuer
	 * and serial, so two runs must never collide. */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(id->cert))) {
		BN_free(bn);
		goto out;
	}
	BN_free(bn);
	X509_NAME *name = X509_get_subject_name(id->cert);
	size_t at = (size_t)snprintf(san, san_cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
	for (const char *p = common_name; *p; p += strspn(p, " ")) {
		size_t n = strcspn(p, " ");
		if (n && (n != 9 || strncmp(p, "localhost", 9)))
			at += (size_t)snprintf(san + at, san_cap - at, ",DNS:%.*s", (int)n, p);
		p += n;
	}
	if (!X509_set_version(id->cert, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(id->cert), (long)valid_days * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(id->cert, name) ||
	    !X509_set_pubkey(id->cert, id->key) ||
	    add_ext(id->cert, NID_subject_alt_name, san) ||
	    add_ext(id->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(id->cert, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(id->cert, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !X509_sign(id->cert, id->key, EVP_sha256()))
		goto out;
	rc = fingerprint(id);
out:
	free(san);
	if (rc) {
		EVP_PKEY_free(id->key);
		X509_free(id->cert);
		id->key = NULL;
		id->cert = NULL;
		ERR_clear_error();
	}
	return rc;
}

/* Writes PEM to path atomically (temp file + rename) with the given mode. */
static int write_pem(const char *path, mode_t mode, const struct tls_identity *id,
		     int is_key)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return errno;
	}
	int ok = is_key ? PEM_write_PrivateKey(f, id->key, NULL, NULL, 0, NULL, NULL)
			: PEM_write_X509(f, id->cert);
	if (fclose(f) || !ok) {
		unlink(tmp);
		return EIO;
	}
	if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

/* Reads a PEM certificate and key; checks they match and that the
 * certificate is currently valid (and, when renew_days > 0, stays valid
 * that long). */
static int read_pair(struct tls_identity *id, int renew_days, char *err,
		     size_t errlen)
{
	char why[256];
	FILE *f;

	if (!(f = fopen(id->cert_path, "r"))) {
		int e = errno;
		snprintf(err, errlen, "cannot read certificate \"%s\": %s", id->cert_path,
			 strerror(e));
		return e;
	}
	id->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!id->cert) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "\"%s\" is not a PEM certificate (%s)",
			 id->cert_path, why);
		return EINVAL;
	}
	if (!(f = fopen(id->key_path, "r"))) {
		int e = errno;
		snprintf(err, errlen, "cannot read private key \"%s\": %s", id->key_path,
			 strerror(e));
		return e;
	}
	id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!id->key) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "\"%s\" is not a PEM private key (%s)",
			 id->key_path, why);
		return EINVAL;
	}
	if (X509_check_private_key(id->cert, id->key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "private key \"%s\" does not match certificate \"%s\"",
			 id->key_path, id->cert_path);
		return EINVAL;
	}
	time_t horizon = time(NULL) + (time_t)renew_days * 86400;
	if (X509_cmp_current_time(X509_get0_notBefore(id->cert)) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(id->cert), &horizon) < 0) {
		snprintf(err, errlen, "certificate \"%s\" is expired or not yet valid%s",
			 id->cert_path, renew_days ? " (or expires within a week)" : "");
		return EKEYEXPIRED;
	}
	return fingerprint(id);
}

static void clear(struct tls_identity *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	id->key = NULL;
	id->cert = NULL;
}

int tls_identity_load(struct tls_identity *id, const char *cert_path,
		      const char *key_path, const char *state_dir,
		      const char *common_name, char *err, size_t errlen)
{
	char dir[512];
	int rc;

	memset(id, 0, sizeof(*id));
	if (cert_path && *cert_path) {
		snprintf(id->cert_path, sizeof(id->cert_path), "%s", cert_path);
		snprintf(id->key_path, sizeof(id->key_path), "%s",
			 key_path && *key_path ? key_path : cert_path);
		rc = read_pair(id, 0, err, errlen);
		if (rc)
			clear(id);
		return rc;
	}

	if ((size_t)snprintf(dir, sizeof(dir), "%s/tls", state_dir) >= sizeof(dir)) {
		snprintf(err, errlen, "state directory path too long");
		return ENAMETOOLONG;
	}
	snprintf(id->cert_path, sizeof(id->cert_path), "%s/cert.pem", dir);
	snprintf(id->key_path, sizeof(id->key_path), "%s/key.pem", dir);
	if (access(id->cert_path, F_OK) == 0) {
		char why[256];
		if (read_pair(id, RENEW_BEFORE_DAYS, why, sizeof(why)) == 0)
			return 0;
		clear(id); /* unusable: make a new one below */
	}
	if ((rc = mkdir_p(dir))) {
		snprintf(err, errlen, "cannot create \"%s\": %s", dir, strerror(rc));
		return rc;
	}
	if ((rc = tls_identity_generate(id, common_name, VALID_DAYS))) {
		snprintf(err, errlen, "cannot generate a P-256 certificate");
		return rc;
	}
	/* Key first: a certificate without its key would be unusable. */
	if ((rc = write_pem(id->key_path, 0600, id, 1)) ||
	    (rc = write_pem(id->cert_path, 0644, id, 0))) {
		snprintf(err, errlen, "cannot write \"%s\": %s", dir, strerror(rc));
		clear(id);
		return rc;
	}
	id->generated = true;
	return 0;
}

void tls_identity_free(struct tls_identity *id)
{
	clear(id);
}
