/* Base64url without padding (RFC 4648 section 5, as JOSE uses it: RFC
 * 7515 section 2).  Strict: padding, whitespace, characters outside the
 * alphabet, a length of 1 mod 4 and non-zero unused trailing bits are
 * refused, so every encoded value has exactly one accepted spelling. */
#ifndef EPCSCF_BASE64URL_H
#define EPCSCF_BASE64URL_H

#include <stddef.h>

/* Decoded size of `len` input characters (an upper bound when invalid). */
static inline size_t b64url_decoded_max(size_t len)
{
	return len / 4 * 3 + 2;
}

/* Encoded size of n bytes, with the terminating NUL. */
static inline size_t b64url_encoded_size(size_t n)
{
	return (n * 4 + 2) / 3 + 1;
}

/* Encodes in[0..n) into out (b64url_encoded_size(n) bytes), NUL-terminated,
 * without padding.  Returns the length written (without the NUL). */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);

/* Decodes in[0..len) into out (capacity outcap).  Returns 0 with *outlen
 * set, EINVAL for bad input, EMSGSIZE when out is too small. */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outcap,
		  size_t *outlen);

#endif
