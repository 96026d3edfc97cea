/* Shared by the SRTP/SRTCP transform tests (test_srtp_vectors.c,
 * test_srtp_oracle.c, test_srtp_transform.c): profiles, a seeded PRNG,
 * packet makers, our transform and libsrtp2's (the oracle) set up from the
 * same master key.  Functions are static inline: each program uses some. */
#ifndef TESTS_SRTP_TEST_UTIL_H
#define TESTS_SRTP_TEST_UTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/srtp.h>
#include <srtp2/srtp.h>

#include "srtp_aes_cm.h"
#include "srtp_transform.h"
#include "srtp_window.h"

#define BUF 2048

static const enum srtp_profile all_profiles[] = {
	SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
	SRTP_PROFILE_AES128_CM_HMAC_SHA1_32,
	SRTP_PROFILE_AEAD_AES_128_GCM,
	SRTP_PROFILE_AEAD_AES_256_GCM,
};
#define N_PROFILES (sizeof(all_profiles) / sizeof(all_profiles[0]))

/* ---- helpers ------------------------------------------------------------ */

/* xorshift64*: deterministic, so a failure reproduces. */
struct rng {
	uint64_t s;
};

static inline uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static inline unsigned rnd_below(struct rng *r, unsigned n)
{
	return (unsigned)(rnd(r) % n);
}

static inline void rnd_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(r);
}

static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static inline struct srtp_profile_info info_of(enum srtp_profile p)
{
	struct srtp_profile_info info;
	assert_int_equal(srtp_transform_profile_info(p, &info), 0);
	return info;
}

static inline struct srtp_transform *ours(enum srtp_profile p, enum srtp_transform_dir dir,
				   const uint8_t *key, const uint8_t *salt)
{
	struct srtp_profile_info info = info_of(p);
	struct srtp_transform *t = NULL;
	assert_int_equal(srtp_transform_create(p, dir, key, info.key_len, salt,
					       info.salt_len, &t), 0);
	assert_non_null(t);
	return t;
}

static inline srtp_t oracle(enum srtp_profile p, bool outbound, const uint8_t *key,
		     const uint8_t *salt, bool rtcp_auth_only)
{
	struct srtp_profile_info info = info_of(p);
	uint8_t master[SRTP_TRANSFORM_KEY_MAX + SRTP_TRANSFORM_SALT_MAX];
	srtp_policy_t pol;
	srtp_t s;

	memset(&pol, 0, sizeof(pol));
	assert_int_equal(srtp_crypto_policy_set_from_profile_for_rtp(
				 &pol.rtp, (srtp_profile_t)p), srtp_err_status_ok);
	assert_int_equal(srtp_crypto_policy_set_from_profile_for_rtcp(
				 &pol.rtcp, (srtp_profile_t)p), srtp_err_status_ok);
	if (rtcp_auth_only)
		pol.rtcp.sec_serv = sec_serv_auth;
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	memcpy(master, key, info.key_len);
	memcpy(master + info.key_len, salt, info.salt_len);
	pol.key = master;
	pol.window_size = 128;
	assert_int_equal(srtp_create(&s, &pol), srtp_err_status_ok);
	return s;
}

static inline void random_master(struct rng *r, enum srtp_profile p, uint8_t *key,
			  uint8_t *salt)
{
	struct srtp_profile_info info = info_of(p);
	rnd_fill(r, key, info.key_len);
	rnd_fill(r, salt, info.salt_len);
}

/* An RTP packet: cc CSRCs, an RFC 8285 one-byte extension block of
 * ext_words words when ext, payload of plen random bytes. */
static inline size_t make_rtp(struct rng *r, uint8_t *p, uint32_t ssrc, uint16_t seq,
		       unsigned cc, bool ext, unsigned ext_words, size_t plen)
{
	size_t n = 12;

	p[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0) | cc);
	p[1] = (uint8_t)(rnd_below(r, 2) << 7 | rnd_below(r, 128));
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	rnd_fill(r, p + 4, 4);
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	rnd_fill(r, p + n, 4u * cc);
	n += 4u * cc;
	if (ext) {
		p[n] = 0xbe;
		p[n + 1] = 0xde;
		p[n + 2] = (uint8_t)(ext_words >> 8);
		p[n + 3] = (uint8_t)ext_words;
		rnd_fill(r, p + n + 4, 4u * ext_words);
		n += 4 + 4u * ext_words;
	}
	rnd_fill(r, p + n, plen);
	return n + plen;
}

/* A compound-looking RTCP packet of `words` 32-bit words (>= 2). */
static inline size_t make_rtcp(struct rng *r, uint8_t *p, uint32_t ssrc, size_t words)
{
	rnd_fill(r, p, 4 * words);
	p[0] = (uint8_t)(0x80 | rnd_below(r, 32));
	p[1] = (uint8_t)(200 + rnd_below(r, 5));
	p[2] = (uint8_t)((words - 1) >> 8);
	p[3] = (uint8_t)(words - 1);
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	return 4 * words;
}


/* libsrtp2, the oracle, for the whole group. */
static inline int setup(void **state)
{
	(void)state;
	return srtp_init() == srtp_err_status_ok ? 0 : -1;
}

static inline int teardown(void **state)
{
	(void)state;
	return srtp_shutdown() == srtp_err_status_ok ? 0 : -1;
}


#endif
