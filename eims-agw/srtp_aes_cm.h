/* AES in counter mode as SRTP defines it (RFC 3711 4.1.1) and the SRTP key
 * derivation built on it (RFC 3711 4.3, AES_CM PRF; RFC 6188 for
 * AES-256).  Internal to the SRTP transform (srtp_transform.c); the unit
 * test reaches it for the RFC 3711 Appendix B vectors.
 *
 * The keystream is made by encrypting the counter blocks with AES-ECB on
 * a context keyed once: no re-initialisation per packet at all, and the
 * counter (IV + block number in the low 16 bits) is written explicitly,
 * exactly as RFC 3711 writes it. */
#ifndef AGW_SRTP_AES_CM_H
#define AGW_SRTP_AES_CM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define SRTP_AES_CM_IV_LEN 16
#define SRTP_AES_CM_SALT_LEN 14 /* the 112-bit salt of RFC 3711 */
#define SRTP_AES_CM_MAX_BLOCKS 65536u /* the block counter is 16 bits */

/* A new AES-ECB encryption context (no padding) keyed with `key` (16 or
 * 32 bytes), for srtp_aes_cm_xor.  *out is set on success; the caller
 * frees it with EVP_CIPHER_CTX_free.  Returns 0, EINVAL (key length),
 * ENOMEM or EIO (OpenSSL refused). */
int srtp_aes_cm_ecb_new(const uint8_t *key, size_t key_len,
			EVP_CIPHER_CTX **out);

/* XORs the AES-CM keystream into buf[0..len): block j of the keystream is
 * AES(iv + first_block + j), iv being SRTP_AES_CM_IV_LEN bytes whose low
 * 16 bits are zero.  first_block * 16 + len must not exceed
 * SRTP_AES_CM_MAX_BLOCKS * 16 (EINVAL).  Returns 0, EINVAL or EIO. */
int srtp_aes_cm_xor(EVP_CIPHER_CTX *ecb, const uint8_t *iv,
		    unsigned first_block, uint8_t *buf, size_t len);

/* RFC 3711 4.3.1 with a key derivation rate of 0: writes len bytes of
 * PRF output for `label` (0x00..0x05) into out.  `master` is an ECB
 * context keyed with the master key (srtp_aes_cm_ecb_new); master_salt is
 * SRTP_AES_CM_SALT_LEN bytes (a 96-bit AEAD salt is zero-padded at the
 * end first, RFC 7714 section 11 with erratum 4938).  Returns 0, EINVAL or
 * EIO. */
int srtp_aes_cm_kdf(EVP_CIPHER_CTX *master, const uint8_t *master_salt,
		    uint8_t label, uint8_t *out, size_t len);

#endif
