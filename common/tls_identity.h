/* A daemon's TLS/DTLS identity: an ECDSA P-256 key and certificate, either
 * configured by the operator or generated on first run and stored under
 * the state directory (reused afterwards). */
#ifndef COMMON_TLS_IDENTITY_H
#define COMMON_TLS_IDENTITY_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

struct tls_identity {
	EVP_PKEY *key;  /* owned */
	X509 *cert;     /* owned */
	char cert_path[512], key_path[512];
	char fingerprint_sha256[96]; /* "AB:CD:..." as SDP a=fingerprint wants */
	bool generated;              /* made during this start */
};

/* Loads cert_path/key_path when cert_path is non-empty; otherwise uses
 * <state_dir>/tls/{cert,key}.pem, generating them when absent or expiring
 * within a week.  common_name goes into the subject and SAN (DNS:localhost
 * and IP:127.0.0.1 are always added so that the loopback demo works); it
 * may list several names separated by spaces: the first is the subject,
 * each is a SAN dNSName (the Iq+ names of eims-agw's workers).
 * Returns 0 or an errno value with the reason in err. */
int tls_identity_load(struct tls_identity *id, const char *cert_path,
		      const char *key_path, const char *state_dir,
		      const char *common_name, char *err, size_t errlen);

void tls_identity_free(struct tls_identity *id);

/* Makes a fresh self-signed P-256 identity in memory (tests, and the
 * generator above).  valid_days > 0. */
int tls_identity_generate(struct tls_identity *id, const char *common_name,
			  int valid_days);

/* Creates dir and its parents with mode 0700 where missing. */
int mkdir_p(const char *dir);

#endif
