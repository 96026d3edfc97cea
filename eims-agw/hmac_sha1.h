/* HMAC-SHA1 (RFC 2104) for STUN MESSAGE-INTEGRITY, on OpenSSL's SHA-1 with
 * no allocation: OpenSSL 3.0's HMAC and EVP_MAC allocate on every use,
 * which the packet path must not do, while its plain SHA_CTX does not. */
#ifndef AGW_HMAC_SHA1_H
#define AGW_HMAC_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define OPENSSL_SUPPRESS_DEPRECATED /* the SHA_CTX API is what allocates nothing */
#include <openssl/sha.h>

struct hmac_sha1 {
	SHA_CTX inner, outer;
};

void hmac_sha1_init(struct hmac_sha1 *m, const void *key, size_t key_len);
void hmac_sha1_update(struct hmac_sha1 *m, const void *data, size_t n);
/* Writes the 20-byte MAC and wipes the state. */
void hmac_sha1_final(struct hmac_sha1 *m, uint8_t mac[20]);

#endif
