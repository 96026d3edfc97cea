/* libFuzzer: arbitrary bytes unprotected as SRTP and as SRTCP under every
 * profile (in a heap block of exactly their size), and the same bytes
 * taken as RTP/RTCP: protected, then unprotected back to themselves. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srtp_transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum srtp_profile profiles[] = {
	SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
	SRTP_PROFILE_AES128_CM_HMAC_SHA1_32,
	SRTP_PROFILE_AEAD_AES_128_GCM,
	SRTP_PROFILE_AEAD_AES_256_GCM,
};

/* The fixed master key and salt (seed srtp_80 was protected with them). */
static const uint8_t key[32] = {
	0x46, 0x55, 0x5a, 0x5a, 0x2d, 0x53, 0x52, 0x54, 0x50, 0x2d, 0x4b, 0x45,
	0x59, 0x2d, 0x30, 0x31, 0x02, 0x03, 0x05, 0x07, 0x0b, 0x0d, 0x11, 0x13,
	0x17, 0x1d, 0x1f, 0x25, 0x29, 0x2b, 0x2f, 0x35,
};
static const uint8_t salt[14] = {
	0x53, 0x41, 0x4c, 0x54, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x30, 0x31,
	0x99, 0x77,
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static int refusal(int rc)
{
	return rc == EINVAL || rc == EBADMSG || rc == EALREADY || rc == EMSGSIZE;
}

static struct srtp_transform *make(enum srtp_profile p, enum srtp_transform_dir dir,
				   const struct srtp_profile_info *info)
{
	struct srtp_transform *t = NULL;
	check(srtp_transform_create(p, dir, key, info->key_len, salt,
				    info->salt_len, &t) == 0);
	return t;
}

/* Unprotect a copy of the input; a refusal leaves the length alone. */
static void unprotect(struct srtp_transform *in, const uint8_t *data, size_t size,
		      size_t overhead, bool rtcp)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t len = size;
	int rc;

	check(buf != NULL);
	memcpy(buf, data, size);
	rc = rtcp ? srtp_transform_unprotect_rtcp(in, buf, &len)
		  : srtp_transform_unprotect_rtp(in, buf, &len);
	check(rc == 0 ? len == size - overhead : refusal(rc) && len == size);
	free(buf);
}

/* Protect the input, then unprotect it with a receiver of the same key:
 * the input comes back. */
static void round_trip(struct srtp_transform *out, struct srtp_transform *in,
		       const uint8_t *data, size_t size, size_t overhead, bool rtcp)
{
	size_t cap = size + overhead;
	uint8_t *buf = malloc(cap);
	size_t len = size;
	int rc;

	check(buf != NULL);
	memcpy(buf, data, size);
	rc = rtcp ? srtp_transform_protect_rtcp(out, buf, &len, cap)
		  : srtp_transform_protect_rtp(out, buf, &len, cap);
	if (rc) {
		check((rc == EINVAL || rc == EMSGSIZE) && len == size);
	} else {
		check(len == cap);
		rc = rtcp ? srtp_transform_unprotect_rtcp(in, buf, &len)
			  : srtp_transform_unprotect_rtp(in, buf, &len);
		check(rc == 0 && len == size && memcmp(buf, data, size) == 0);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SRTP_TRANSFORM_MAX_PACKET)
		return 0;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		struct srtp_profile_info info;
		check(srtp_transform_profile_info(profiles[i], &info) == 0);
		struct srtp_transform *in = make(profiles[i], SRTP_TRANSFORM_INBOUND, &info);
		struct srtp_transform *out = make(profiles[i], SRTP_TRANSFORM_OUTBOUND, &info);
		struct srtp_transform *back = make(profiles[i], SRTP_TRANSFORM_INBOUND, &info);

		unprotect(in, data, size, info.rtp_tag_len, false);
		unprotect(in, data, size, info.rtcp_tag_len + 4, true);
		round_trip(out, back, data, size, info.rtp_tag_len, false);
		round_trip(out, back, data, size, info.rtcp_tag_len + 4, true);

		srtp_transform_free(in);
		srtp_transform_free(out);
		srtp_transform_free(back);
	}
	return 0;
}
