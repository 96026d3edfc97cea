/* HMAC-SHA1 over OpenSSL's SHA_CTX. */
#include "hmac_sha1.h"

#include <string.h>

#include <openssl/crypto.h>

void hmac_sha1_init(struct hmac_sha1 *m, const void *key, size_t key_len)
{
	uint8_t k[SHA_CBLOCK] = { 0 }, pad[SHA_CBLOCK];

	if (key_len > sizeof(k))
		SHA1(key, key_len, k); /* long keys are hashed first */
	else if (key_len)
		memcpy(k, key, key_len);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x36;
	SHA1_Init(&m->inner);
	SHA1_Update(&m->inner, pad, sizeof(pad));
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x5c;
	SHA1_Init(&m->outer);
	SHA1_Update(&m->outer, pad, sizeof(pad));
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

void hmac_sha1_update(struct hmac_sha1 *m, const void *data, size_t n)
{
	SHA1_Update(&m->inner, data, n);
}

void hmac_sha1_final(struct hmac_sha1 *m, uint8_t mac[20])
{
	uint8_t d[SHA_DIGEST_LENGTH];

	SHA1_Final(d, &m->inner);
	SHA1_Update(&m->outer, d, sizeof(d));
	SHA1_Final(mac, &m->outer);
	/* Per packet: explicit_bzero, a memset the compiler keeps (OPENSSL_cleanse
	 * is a byte loop behind a function pointer, ~330 instructions here). */
	explicit_bzero(d, sizeof(d));
	explicit_bzero(m, sizeof(*m));
}
