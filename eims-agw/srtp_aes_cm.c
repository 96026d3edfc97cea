/* AES counter mode for SRTP (RFC 3711 4.1.1) and its key derivation (4.3). */
#include "srtp_aes_cm.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

/* Counter blocks encrypted per EVP call: 512 bytes of keystream, enough
 * for a voice packet in one call and a small stack footprint. */
#define CHUNK_BLOCKS 32

int srtp_aes_cm_ecb_new(const uint8_t *key, size_t key_len,
			EVP_CIPHER_CTX **out)
{
	const EVP_CIPHER *cipher;

	if (key_len == 16)
		cipher = EVP_aes_128_ecb();
	else if (key_len == 32)
		cipher = EVP_aes_256_ecb();
	else
		return EINVAL;

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return ENOMEM;
	if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return EIO;
	}
	*out = ctx;
	return 0;
}

static void xor_bytes(uint8_t *dst, const uint8_t *ks, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, dst + i, 8);
		memcpy(&b, ks + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= ks[i];
}

/* srtp_aes_cm_xor; `wipe` clears the keystream buffer afterwards, for the
 * key derivation, whose keystream is key material. */
static int keystream_xor(EVP_CIPHER_CTX *ecb, const uint8_t *iv,
			 unsigned first_block, uint8_t *buf, size_t len, bool wipe)
{
	/* Counter blocks, then (encrypted in place) keystream.  Not wiped on
	 * the packet path: keystream is only as secret as the plaintext it
	 * covers, which the caller holds anyway. */
	uint8_t ks[CHUNK_BLOCKS * 16];
	uint32_t block = first_block;
	int rc = 0;

	if (first_block > SRTP_AES_CM_MAX_BLOCKS ||
	    len > (size_t)(SRTP_AES_CM_MAX_BLOCKS - first_block) * 16)
		return EINVAL;
	while (len) {
		size_t n = len < sizeof(ks) ? len : sizeof(ks);
		size_t nb = (n + 15) / 16;
		int outl;

		for (size_t b = 0; b < nb; b++, block++) {
			memcpy(ks + 16 * b, iv, 14);
			ks[16 * b + 14] = (uint8_t)(block >> 8);
			ks[16 * b + 15] = (uint8_t)block;
		}
		if (EVP_EncryptUpdate(ecb, ks, &outl, ks, (int)(nb * 16)) != 1 ||
		    outl != (int)(nb * 16)) {
			rc = EIO;
			break;
		}
		xor_bytes(buf, ks, n);
		buf += n;
		len -= n;
	}
	if (wipe)
		OPENSSL_cleanse(ks, sizeof(ks));
	return rc;
}

int srtp_aes_cm_xor(EVP_CIPHER_CTX *ecb, const uint8_t *iv,
		    unsigned first_block, uint8_t *buf, size_t len)
{
	return keystream_xor(ecb, iv, first_block, buf, len, false);
}

int srtp_aes_cm_kdf(EVP_CIPHER_CTX *master, const uint8_t *master_salt,
		    uint8_t label, uint8_t *out, size_t len)
{
	uint8_t iv[SRTP_AES_CM_IV_LEN];

	/* x = (label || r) XOR master_salt, r = index DIV kdr = 0 (kdr = 0);
	 * key_id is 56 bits, so the label lands in octet 7 of the 112-bit
	 * salt.  The PRF input is x * 2^16. */
	memcpy(iv, master_salt, SRTP_AES_CM_SALT_LEN);
	iv[7] ^= label;
	iv[14] = 0;
	iv[15] = 0;
	memset(out, 0, len);
	int rc = keystream_xor(master, iv, 0, out, len, true);
	OPENSSL_cleanse(iv, sizeof(iv));
	return rc;
}
