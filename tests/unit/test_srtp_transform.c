/* SRTP/SRTCP transform: RFC 3711 Appendix B and RFC 7714 section 16/17
 * vectors; byte-identical with libsrtp2 (the oracle) in both directions
 * across ROC wraps, for every profile; replay, tampering, truncation, SSRC
 * table overflow, wrong keys; no OpenSSL allocation per packet. */
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

/* OpenSSL allocations, counted from the start of main. */
static long ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* ---- helpers ------------------------------------------------------------ */

/* xorshift64*: deterministic, so a failure reproduces. */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static unsigned rnd_below(struct rng *r, unsigned n)
{
	return (unsigned)(rnd(r) % n);
}

static void rnd_fill(struct rng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(r);
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
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

static struct srtp_profile_info info_of(enum srtp_profile p)
{
	struct srtp_profile_info info;
	assert_int_equal(srtp_transform_profile_info(p, &info), 0);
	return info;
}

static struct srtp_transform *ours(enum srtp_profile p, enum srtp_transform_dir dir,
				   const uint8_t *key, const uint8_t *salt)
{
	struct srtp_profile_info info = info_of(p);
	struct srtp_transform *t = NULL;
	assert_int_equal(srtp_transform_create(p, dir, key, info.key_len, salt,
					       info.salt_len, &t), 0);
	assert_non_null(t);
	return t;
}

static srtp_t oracle(enum srtp_profile p, bool outbound, const uint8_t *key,
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

static void random_master(struct rng *r, enum srtp_profile p, uint8_t *key,
			  uint8_t *salt)
{
	struct srtp_profile_info info = info_of(p);
	rnd_fill(r, key, info.key_len);
	rnd_fill(r, salt, info.salt_len);
}

/* An RTP packet: cc CSRCs, an RFC 8285 one-byte extension block of
 * ext_words words when ext, payload of plen random bytes. */
static size_t make_rtp(struct rng *r, uint8_t *p, uint32_t ssrc, uint16_t seq,
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
static size_t make_rtcp(struct rng *r, uint8_t *p, uint32_t ssrc, size_t words)
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

/* ---- RFC vectors -------------------------------------------------------- */

/* RFC 3711 B.2: AES-CM keystream, session key 2B7E..., salt F0F1...FD,
 * SSRC 0, ROC 0, SEQ 0: blocks 0..2 and 0xFEFF..0xFF01. */
static void test_rfc3711_b2_keystream(void **state)
{
	static const char key_hex[] = "2B7E151628AED2A6ABF7158809CF4F3C";
	static const char iv_hex[] = "F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000";
	static const char first[] = "E03EAD0935C95E80E166B16DD92B4EB4"
				    "D23513162B02D0F72A43A2FE4A5F97AB"
				    "41E95B3BB0A2E8DD477901E4FCA894C0";
	static const char last[] = "EC8CDF7398607CB0F2D21675EA9EA1E4"
				   "362B7C3C6773516318A077D7FC5073AE"
				   "6A2CC3787889374FBEB4C81B17BA6C44";
	uint8_t key[16], iv[16], want[48], ks[48];
	EVP_CIPHER_CTX *ecb;
	(void)state;

	unhex(key_hex, key, sizeof(key));
	unhex(iv_hex, iv, sizeof(iv));
	assert_int_equal(srtp_aes_cm_ecb_new(key, sizeof(key), &ecb), 0);

	memset(ks, 0, sizeof(ks));
	assert_int_equal(srtp_aes_cm_xor(ecb, iv, 0, ks, sizeof(ks)), 0);
	unhex(first, want, sizeof(want));
	assert_memory_equal(ks, want, sizeof(ks));

	memset(ks, 0, sizeof(ks));
	assert_int_equal(srtp_aes_cm_xor(ecb, iv, 0xfeff, ks, sizeof(ks)), 0);
	unhex(last, want, sizeof(want));
	assert_memory_equal(ks, want, sizeof(ks));

	/* The 16-bit block counter ends at 0xffff. */
	assert_int_equal(srtp_aes_cm_xor(ecb, iv, 0xffff, ks, 16), 0);
	assert_int_equal(srtp_aes_cm_xor(ecb, iv, 0xffff, ks, 17), EINVAL);
	EVP_CIPHER_CTX_free(ecb);

	/* The same keystream through the packet path: an RTP packet with
	 * SSRC 0, SEQ 0 and a zero payload encrypts to it (ROC 0). */
	struct srtp_session_keys k;
	struct srtp_transform *t;
	uint8_t pkt[BUF] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	size_t len = 12 + 48;
	memset(&k, 0, sizeof(k));
	memcpy(k.enc, key, 16);
	memcpy(k.salt, iv, 14);
	assert_int_equal(srtp_transform_create_session(
				 SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
				 SRTP_TRANSFORM_OUTBOUND, &k, &k, &t), 0);
	assert_int_equal(srtp_transform_protect_rtp(t, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, 12 + 48 + 10);
	unhex(first, want, sizeof(want));
	assert_memory_equal(pkt + 12, want, 48);
	srtp_transform_free(t);
}

/* RFC 3711 B.3: key derivation. */
static void test_rfc3711_b3_kdf(void **state)
{
	static const char auth94[] =
		"CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
		"E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
		"6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2";
	uint8_t mk[16], ms[14], want[94], got[94];
	struct srtp_session_keys rtp, rtcp;
	EVP_CIPHER_CTX *prf;
	(void)state;

	unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mk, sizeof(mk));
	unhex("0EC675AD498AFEEBB6960B3AABE6", ms, sizeof(ms));
	assert_int_equal(srtp_transform_derive(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
					       mk, 16, ms, 14, &rtp, &rtcp), 0);
	unhex("C61E7A93744F39EE10734AFE3FF7A087", want, 16);
	assert_memory_equal(rtp.enc, want, 16);
	unhex("30CBBC08863D8C85D49DB34A9AE1", want, 14);
	assert_memory_equal(rtp.salt, want, 14);
	unhex(auth94, want, sizeof(want));
	assert_memory_equal(rtp.auth, want, 20);

	/* The full 94-byte PRF output for the authentication label (B.3
	 * lists it; it spans six keystream blocks). */
	assert_int_equal(srtp_aes_cm_ecb_new(mk, 16, &prf), 0);
	assert_int_equal(srtp_aes_cm_kdf(prf, ms, 0x01, got, sizeof(got)), 0);
	assert_memory_equal(got, want, sizeof(want));
	EVP_CIPHER_CTX_free(prf);

	/* Wrong lengths and profiles. */
	assert_int_equal(srtp_transform_derive(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
					       mk, 15, ms, 14, &rtp, &rtcp), EINVAL);
	assert_int_equal(srtp_transform_derive(SRTP_PROFILE_AEAD_AES_128_GCM, mk,
					       16, ms, 14, &rtp, &rtcp), EINVAL);
	assert_int_equal(srtp_transform_derive((enum srtp_profile)3, mk, 16, ms,
					       14, &rtp, &rtcp), ENOTSUP);
}

/* RFC 7714 16: the session key is 00 01 .. 0f (or .. 1f), the salt "Quid
 * pro quo"; no key derivation. */
static struct srtp_transform *rfc7714_ctx(enum srtp_profile p,
					  enum srtp_transform_dir dir)
{
	struct srtp_session_keys k;
	struct srtp_transform *t;

	memset(&k, 0, sizeof(k));
	for (int i = 0; i < 32; i++)
		k.enc[i] = (uint8_t)i;
	memcpy(k.salt, "Quid pro quo", 12);
	assert_int_equal(srtp_transform_create_session(p, dir, &k, &k, &t), 0);
	return t;
}

static const char rfc7714_rtp[] =
	"8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976"
	"69736120 696e2070 61727465 73207472 6573";

static void check_rfc7714_rtp(enum srtp_profile p, const char *srtp_hex)
{
	uint8_t plain[64], want[80], pkt[BUF];
	size_t plen = unhex(rfc7714_rtp, plain, sizeof(plain));
	size_t wlen = unhex(srtp_hex, want, sizeof(want));
	size_t len = plen;
	struct srtp_transform *t = rfc7714_ctx(p, SRTP_TRANSFORM_OUTBOUND);

	memcpy(pkt, plain, plen);
	assert_int_equal(srtp_transform_protect_rtp(t, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(pkt, want, wlen);
	srtp_transform_free(t);

	t = rfc7714_ctx(p, SRTP_TRANSFORM_INBOUND);
	memcpy(pkt, want, wlen);
	len = wlen;
	assert_int_equal(srtp_transform_unprotect_rtp(t, pkt, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, plain, plen);
	srtp_transform_free(t);
}

/* 16.1.1/16.1.2 and 16.2.1/16.2.2. */
static void test_rfc7714_rtp(void **state)
{
	(void)state;
	check_rfc7714_rtp(SRTP_PROFILE_AEAD_AES_128_GCM,
			  "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c"
			  "9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf"
			  "8833899d 7f27beb1 6a9152cf 765ee439 0cce");
	check_rfc7714_rtp(SRTP_PROFILE_AEAD_AES_256_GCM,
			  "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa"
			  "332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799"
			  "b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13");
}

static const char rfc7714_rtcp[] =
	"81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
	"deadbeef deadbeef deadbeef deadbeef deadbeef";

/* 17.1 (128, encrypted), 17.2 (256, encrypted): sent with SRTCP index
 * 0x5d4, i.e. after 0x5d3 packets from SSRC "Mars" (ours start at 1). */
static void check_rfc7714_rtcp_encrypted(enum srtp_profile p, const char *hex)
{
	uint8_t plain[64], want[96], pkt[BUF];
	size_t plen = unhex(rfc7714_rtcp, plain, sizeof(plain));
	size_t wlen = unhex(hex, want, sizeof(want));
	size_t len;
	struct srtp_transform *t = rfc7714_ctx(p, SRTP_TRANSFORM_OUTBOUND);

	for (unsigned i = 1; i < 0x5d4; i++) {
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(srtp_transform_protect_rtcp(t, pkt, &len, sizeof(pkt)), 0);
	}
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(srtp_transform_protect_rtcp(t, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(pkt, want, wlen);
	srtp_transform_free(t);

	t = rfc7714_ctx(p, SRTP_TRANSFORM_INBOUND);
	memcpy(pkt, want, wlen);
	len = wlen;
	assert_int_equal(srtp_transform_unprotect_rtcp(t, pkt, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, plain, plen);
	srtp_transform_free(t);
}

/* 17.3 (128) and 17.4 (256): tagged, not encrypted (E flag clear). */
static void check_rfc7714_rtcp_tagged(enum srtp_profile p, const char *hex)
{
	uint8_t plain[64], pkt[96];
	size_t plen = unhex(rfc7714_rtcp, plain, sizeof(plain));
	size_t len = unhex(hex, pkt, sizeof(pkt));
	struct srtp_transform *t = rfc7714_ctx(p, SRTP_TRANSFORM_INBOUND);

	pkt[len - 5] ^= 1; /* the tag is checked */
	assert_int_equal(srtp_transform_unprotect_rtcp(t, pkt, &len), EBADMSG);
	pkt[len - 5] ^= 1;
	assert_int_equal(srtp_transform_unprotect_rtcp(t, pkt, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, plain, plen);
	srtp_transform_free(t);
}

static void test_rfc7714_rtcp(void **state)
{
	(void)state;
	check_rfc7714_rtcp_encrypted(
		SRTP_PROFILE_AEAD_AES_128_GCM,
		"81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7"
		"6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458"
		"96cf4d2f c5abf872 45d9eade 800005d4");
	check_rfc7714_rtcp_encrypted(
		SRTP_PROFILE_AEAD_AES_256_GCM,
		"81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d"
		"bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c"
		"4446839f 57ff6f6c b26ac3be 800005d4");
	check_rfc7714_rtcp_tagged(
		SRTP_PROFILE_AEAD_AES_128_GCM,
		"81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
		"4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968"
		"3dd78ec9 2ae58790 125f62b3 000005d4");
	check_rfc7714_rtcp_tagged(
		SRTP_PROFILE_AEAD_AES_256_GCM,
		"81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
		"4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb"
		"feee5a97 8fab4393 ed2615fe 000005d4");
}

/* ---- libsrtp2 oracle ---------------------------------------------------- */

#define MAX_STREAM 400

struct stored {
	uint8_t plain[BUF];
	size_t plen;
	uint8_t prot[BUF];
	size_t len;
};

/* Protects the packets with sequence numbers seqs[i] (SSRC ssrcs[i % n_ssrc])
 * with ours and libsrtp: byte-identical.  Then delivers them to our
 * receiver and libsrtp's in the order `order`, ours getting libsrtp's
 * packets and libsrtp ours; both must give the plaintext back. */
static void rtp_oracle_run(enum srtp_profile p, struct rng *r, const uint16_t *seqs,
			   size_t n, const uint32_t *ssrcs, size_t n_ssrc,
			   const size_t *order, bool dense)
{
	uint8_t key[32] = { 0 }, salt[14] = { 0 };
	struct srtp_profile_info info = info_of(p);
	struct stored *pk = calloc(n, sizeof(*pk));
	assert_non_null(pk);

	random_master(r, p, key, salt);
	struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
	struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
	srtp_t ltx = oracle(p, true, key, salt, false);
	srtp_t lrx = oracle(p, false, key, salt, false);

	for (size_t i = 0; i < n; i++) {
		unsigned cc = rnd_below(r, 4) == 0 ? rnd_below(r, 16) : 0;
		bool ext = rnd_below(r, 3) == 0;
		unsigned ext_words = rnd_below(r, 6);
		size_t plen = rnd_below(r, 5) == 0 ? rnd_below(r, 4) : rnd_below(r, 600);
		uint8_t lib[BUF];
		int llen;

		pk[i].plen = make_rtp(r, pk[i].plain, ssrcs[i % n_ssrc], seqs[i], cc,
				      ext, ext_words, plen);
		memcpy(pk[i].prot, pk[i].plain, pk[i].plen);
		pk[i].len = pk[i].plen;
		assert_int_equal(srtp_transform_protect_rtp(tx, pk[i].prot, &pk[i].len,
							    BUF), 0);
		assert_int_equal(pk[i].len, pk[i].plen + info.rtp_tag_len);

		memcpy(lib, pk[i].plain, pk[i].plen);
		llen = (int)pk[i].plen;
		assert_int_equal(srtp_protect(ltx, lib, &llen), srtp_err_status_ok);
		assert_int_equal((size_t)llen, pk[i].len);
		assert_memory_equal(lib, pk[i].prot, pk[i].len);
	}

	for (size_t j = 0; j < n; j++) {
		size_t i = order ? order[j] : j;
		uint8_t buf[BUF];
		size_t len = pk[i].len;
		int llen = (int)pk[i].len;

		memcpy(buf, pk[i].prot, len); /* == libsrtp's output */
		assert_int_equal(srtp_transform_unprotect_rtp(rx, buf, &len), 0);
		assert_int_equal(len, pk[i].plen);
		assert_memory_equal(buf, pk[i].plain, len);

		memcpy(buf, pk[i].prot, pk[i].len);
		assert_int_equal(srtp_unprotect(lrx, buf, &llen), srtp_err_status_ok);
		assert_int_equal((size_t)llen, pk[i].plen);
		assert_memory_equal(buf, pk[i].plain, pk[i].plen);
	}

	/* Packets again: refused by both.  In a dense stream each is a
	 * recognised replay; in a sparse one an old packet's ROC is guessed
	 * wrong, so it fails authentication instead. */
	for (size_t i = 0; i < n; i += 7) {
		uint8_t buf[BUF];
		size_t len = pk[i].len;
		int llen = (int)pk[i].len;
		memcpy(buf, pk[i].prot, len);
		int rc = srtp_transform_unprotect_rtp(rx, buf, &len);
		if (dense || i + n_ssrc >= n)
			assert_int_equal(rc, EALREADY);
		else
			assert_true(rc == EALREADY || rc == EBADMSG);
		memcpy(buf, pk[i].prot, pk[i].len);
		assert_int_not_equal(srtp_unprotect(lrx, buf, &llen), srtp_err_status_ok);
	}

	srtp_transform_free(tx);
	srtp_transform_free(rx);
	srtp_dealloc(ltx);
	srtp_dealloc(lrx);
	free(pk);
}

/* A dense stream starting 40 before 65535 per SSRC: one ROC wrap, sender
 * order with a few swaps and losses; received in order and reordered. */
static void test_oracle_rtp_wrap(void **state)
{
	static const uint32_t ssrcs[] = { 0x11223344, 0xdeadbeef, 0x00000001 };
	uint16_t seqs[3 * 120];
	size_t order[3 * 120];
	(void)state;

	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		struct rng r = { 0x5eed0000u + pi };
		uint16_t next[3] = { 65495, 65500, 65535 - 3 };

		for (size_t i = 0; i < 3 * 120; i++) {
			size_t s = i % 3;
			if (rnd_below(&r, 10) == 0)
				next[s] = (uint16_t)(next[s] + 1 + rnd_below(&r, 3)); /* loss */
			seqs[i] = next[s]++;
		}
		/* Sender-side reordering: swap neighbours of one SSRC. */
		for (size_t i = 0; i + 3 < 3 * 120; i += 3 * (1 + rnd_below(&r, 5))) {
			uint16_t x = seqs[i];
			seqs[i] = seqs[i + 3];
			seqs[i + 3] = x;
		}
		for (size_t i = 0; i < 3 * 120; i++)
			order[i] = i;
		rtp_oracle_run(all_profiles[pi], &r, seqs, 3 * 120, ssrcs, 3, NULL, true);
		/* Receiver-side reordering within 20 packets; each SSRC's first
		 * ten packets arrive first (the receiver starts at ROC 0). */
		for (size_t i = 30; i < 3 * 120; i++) {
			size_t j = i + rnd_below(&r, 20);
			if (j < 3 * 120) {
				size_t x = order[i];
				order[i] = order[j];
				order[j] = x;
			}
		}
		rtp_oracle_run(all_profiles[pi], &r, seqs, 3 * 120, ssrcs, 3, order, true);
	}
}

/* Sparse streams: jumps of up to 30000 wrap the ROC about 25 times. */
static void test_oracle_rtp_many_wraps(void **state)
{
	static const uint32_t ssrcs[] = { 0xcafebabe, 0x0badf00d };
	uint16_t seqs[2 * 120];
	(void)state;

	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		struct rng r = { 0xa11ce000u + pi };
		uint16_t next[2] = { 65530, 12 };
		unsigned wraps = 0;

		for (size_t i = 0; i < 2 * 120; i++) {
			size_t s = i % 2;
			seqs[i] = next[s];
			uint16_t step = (uint16_t)(1 + rnd_below(&r, 30000));
			if ((uint16_t)(next[s] + step) < next[s])
				wraps++;
			next[s] = (uint16_t)(next[s] + step);
		}
		assert_true(wraps >= 10);
		rtp_oracle_run(all_profiles[pi], &r, seqs, 2 * 120, ssrcs, 2, NULL, false);
	}
}

/* SRTCP both ways, several SSRCs; and libsrtp's unencrypted SRTCP (E flag
 * clear) into our receiver. */
static void test_oracle_rtcp(void **state)
{
	static const uint32_t ssrcs[] = { 0x01020304, 0xfffffffe, 0x4d617273 };
	(void)state;

	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct srtp_profile_info info = info_of(p);
		struct rng r = { 0xbeef0000u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 };

		random_master(&r, p, key, salt);
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
		struct srtp_transform *rx2 = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
		srtp_t ltx = oracle(p, true, key, salt, false);
		srtp_t lrx = oracle(p, false, key, salt, false);
		srtp_t ltx_auth = oracle(p, true, key, salt, true);

		for (unsigned i = 0; i < 300; i++) {
			uint8_t plain[BUF], a[BUF], b[BUF];
			size_t plen = make_rtcp(&r, plain, ssrcs[i % 3],
						2 + rnd_below(&r, 120));
			size_t len = plen;
			int llen = (int)plen;

			memcpy(a, plain, plen);
			assert_int_equal(srtp_transform_protect_rtcp(tx, a, &len, BUF), 0);
			assert_int_equal(len, plen + 4 + info.rtcp_tag_len);
			memcpy(b, plain, plen);
			assert_int_equal(srtp_protect_rtcp(ltx, b, &llen), srtp_err_status_ok);
			assert_int_equal((size_t)llen, len);
			assert_memory_equal(a, b, len);

			/* libsrtp's packet to ours, ours to libsrtp. */
			assert_int_equal(srtp_transform_unprotect_rtcp(rx, b, &len), 0);
			assert_int_equal(len, plen);
			assert_memory_equal(b, plain, plen);
			assert_int_equal(srtp_unprotect_rtcp(lrx, a, &llen), srtp_err_status_ok);
			assert_int_equal((size_t)llen, plen);
			assert_memory_equal(a, plain, plen);

			/* Authenticated, not encrypted. */
			memcpy(b, plain, plen);
			llen = (int)plen;
			assert_int_equal(srtp_protect_rtcp(ltx_auth, b, &llen),
					 srtp_err_status_ok);
			if (info.aead)
				assert_int_equal(b[llen - 4] & 0x80, 0);
			else
				assert_int_equal(b[plen] & 0x80, 0);
			assert_memory_equal(b, plain, plen); /* in the clear */
			len = (size_t)llen;
			assert_int_equal(srtp_transform_unprotect_rtcp(rx2, b, &len), 0);
			assert_int_equal(len, plen);
			assert_memory_equal(b, plain, plen);
		}
		srtp_transform_free(tx);
		srtp_transform_free(rx);
		srtp_transform_free(rx2);
		srtp_dealloc(ltx);
		srtp_dealloc(lrx);
		srtp_dealloc(ltx_auth);
	}
}

/* ---- bad input ---------------------------------------------------------- */

/* Sends protected copies of packets with the given sequence numbers. */
static size_t protect_seq(struct srtp_transform *tx, struct rng *r, uint16_t seq,
			  uint32_t ssrc, uint8_t *out)
{
	size_t len = make_rtp(r, out, ssrc, seq, 2, true, 1, 160);
	assert_int_equal(srtp_transform_protect_rtp(tx, out, &len, BUF), 0);
	return len;
}

static int unprotect_copy(struct srtp_transform *rx, const uint8_t *pkt, size_t len)
{
	uint8_t buf[BUF];
	memcpy(buf, pkt, len);
	return srtp_transform_unprotect_rtp(rx, buf, &len);
}

static int unprotect_rtcp_copy(struct srtp_transform *rx, const uint8_t *pkt,
			       size_t len)
{
	uint8_t buf[BUF];
	memcpy(buf, pkt, len);
	return srtp_transform_unprotect_rtcp(rx, buf, &len);
}

static void test_replay(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct rng r = { 0x7e9a1u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, p1[BUF], p2[BUF], p3[BUF], old[BUF], top[BUF];
		size_t l1, l2, l3, lo, lt = 0;

		random_master(&r, p, key, salt);
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);

		lo = protect_seq(tx, &r, 1000, 7, old);
		l1 = protect_seq(tx, &r, 1001, 7, p1);
		l2 = protect_seq(tx, &r, 1002, 7, p2);
		l3 = protect_seq(tx, &r, 1003, 7, p3);
		assert_int_equal(unprotect_copy(rx, p1, l1), 0);
		assert_int_equal(unprotect_copy(rx, p1, l1), EALREADY);
		assert_int_equal(unprotect_copy(rx, p3, l3), 0);
		assert_int_equal(unprotect_copy(rx, p2, l2), 0); /* late, in window */
		assert_int_equal(unprotect_copy(rx, p2, l2), EALREADY);
		assert_int_equal(unprotect_copy(rx, p3, l3), EALREADY);

		/* Protecting a sequence number twice would reuse keystream. */
		uint8_t again[BUF];
		size_t la = make_rtp(&r, again, 7, 1002, 0, false, 0, 10);
		assert_int_equal(srtp_transform_protect_rtp(tx, again, &la, BUF), EALREADY);

		/* 128 packets later, 1000 is older than the window. */
		for (unsigned s = 1004; s < 1004 + 128; s++)
			lt = protect_seq(tx, &r, (uint16_t)s, 7, top);
		assert_int_equal(unprotect_copy(rx, top, lt), 0);
		assert_int_equal(unprotect_copy(rx, old, lo), EALREADY);

		/* SRTCP. */
		uint8_t c1[BUF], c2[BUF];
		size_t m1 = make_rtcp(&r, c1, 7, 8), m2 = make_rtcp(&r, c2, 7, 8);
		assert_int_equal(srtp_transform_protect_rtcp(tx, c1, &m1, BUF), 0);
		assert_int_equal(srtp_transform_protect_rtcp(tx, c2, &m2, BUF), 0);
		assert_int_equal(unprotect_rtcp_copy(rx, c2, m2), 0);
		assert_int_equal(unprotect_rtcp_copy(rx, c1, m1), 0);
		assert_int_equal(unprotect_rtcp_copy(rx, c1, m1), EALREADY);
		assert_int_equal(unprotect_rtcp_copy(rx, c2, m2), EALREADY);

		srtp_transform_free(tx);
		srtp_transform_free(rx);
	}
}

/* Any flipped bit fails authentication; header bits may instead make the
 * packet malformed.  The receiver's state is untouched: the genuine
 * packets are accepted afterwards. */
static void test_tamper(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct rng r = { 0x7a3be4u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, pkt[BUF], buf[BUF], rtcp[BUF];
		const size_t hlen = 12 + 8 + 4 + 4; /* 2 CSRCs, 1 extension word */

		random_master(&r, p, key, salt);
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
		size_t len = protect_seq(tx, &r, 4242, 99, pkt);
		size_t rlen = make_rtcp(&r, rtcp, 99, 10);
		assert_int_equal(srtp_transform_protect_rtcp(tx, rtcp, &rlen, BUF), 0);

		for (size_t i = 0; i < len; i++)
			for (int bit = 0; bit < 8; bit++) {
				size_t l = len;
				memcpy(buf, pkt, len);
				buf[i] ^= (uint8_t)(1 << bit);
				int rc = srtp_transform_unprotect_rtp(rx, buf, &l);
				assert_int_equal(l, len);
				if (i >= hlen || (i >= 1 && i < 12))
					assert_int_equal(rc, EBADMSG);
				else
					assert_true(rc == EBADMSG || rc == EINVAL);
			}
		for (size_t i = 0; i < rlen; i++)
			for (int bit = 0; bit < 8; bit++) {
				size_t l = rlen;
				memcpy(buf, rtcp, rlen);
				buf[i] ^= (uint8_t)(1 << bit);
				int rc = srtp_transform_unprotect_rtcp(rx, buf, &l);
				assert_int_equal(l, rlen);
				if (i == 0 && bit >= 6)
					assert_int_equal(rc, EINVAL); /* version */
				else
					assert_int_equal(rc, EBADMSG);
			}
		assert_int_equal(unprotect_copy(rx, pkt, len), 0);
		assert_int_equal(unprotect_rtcp_copy(rx, rtcp, rlen), 0);
		srtp_transform_free(tx);
		srtp_transform_free(rx);
	}
}

/* Every truncation of a protected packet, in a heap block of exactly that
 * size (ASan catches a read past it): EINVAL below header + tag, EBADMSG
 * above.  The same for protect below a full header. */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct srtp_profile_info info = info_of(p);
		struct rng r = { 0x7c47u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, pkt[BUF], plain[BUF], rtcp[BUF];

		random_master(&r, p, key, salt);
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);

		for (int shape = 0; shape < 2; shape++) {
			unsigned cc = shape ? 3 : 0;
			size_t hlen = shape ? 12 + 12 + 4 + 8 : 12;
			size_t plen = make_rtp(&r, plain, 5, (uint16_t)(100 + shape), cc,
					       shape, 2, 20);
			size_t len = plen;
			memcpy(pkt, plain, plen);
			assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &len, BUF), 0);
			for (size_t l = 0; l < len; l++) {
				uint8_t *b = malloc(l ? l : 1);
				size_t bl = l;
				assert_non_null(b);
				memcpy(b, pkt, l);
				int rc = srtp_transform_unprotect_rtp(rx, b, &bl);
				assert_int_equal(rc, l < hlen + info.rtp_tag_len ? EINVAL : EBADMSG);
				assert_int_equal(bl, l);
				free(b);
			}
			/* Protect: a header cut short. */
			for (size_t l = 0; l < hlen; l++) {
				uint8_t *b = malloc(l ? l : 1);
				size_t bl = l;
				assert_non_null(b);
				memcpy(b, plain, l);
				assert_int_equal(srtp_transform_protect_rtp(tx, b, &bl, l), EINVAL);
				free(b);
			}
			assert_int_equal(unprotect_copy(rx, pkt, len), 0);
		}

		size_t rlen = make_rtcp(&r, rtcp, 5, 7);
		assert_int_equal(srtp_transform_protect_rtcp(tx, rtcp, &rlen, BUF), 0);
		for (size_t l = 0; l < rlen; l++) {
			uint8_t *b = malloc(l ? l : 1);
			size_t bl = l;
			assert_non_null(b);
			memcpy(b, rtcp, l);
			int rc = srtp_transform_unprotect_rtcp(rx, b, &bl);
			assert_int_equal(rc, l < 8 + 4 + info.rtcp_tag_len ? EINVAL : EBADMSG);
			free(b);
		}
		for (size_t l = 0; l < 8; l++) {
			uint8_t *b = malloc(l ? l : 1);
			size_t bl = l;
			assert_non_null(b);
			memcpy(b, rtcp, l);
			assert_int_equal(srtp_transform_protect_rtcp(tx, b, &bl, l), EINVAL);
			free(b);
		}
		assert_int_equal(unprotect_rtcp_copy(rx, rtcp, rlen), 0);
		srtp_transform_free(tx);
		srtp_transform_free(rx);
	}
}

/* 16 SSRCs fit; the 17th is refused (ENOSPC) in both directions and the
 * others carry on.  Packets that fail authentication take no entry. */
static void test_ssrc_table_full(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct rng r = { 0x55c0u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, other_key[32], pkt[BUF];

		random_master(&r, p, key, salt);
		memcpy(other_key, key, sizeof(key));
		other_key[0] ^= 1;
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
		struct srtp_transform *forger =
			ours(p, SRTP_TRANSFORM_OUTBOUND, other_key, salt);
		srtp_t ltx = oracle(p, true, key, salt, false);

		/* Forged packets from 16 other SSRCs: rejected, no entry taken. */
		for (uint32_t s = 0; s < SRTP_TRANSFORM_MAX_SSRC; s++) {
			size_t len = protect_seq(forger, &r, 1, 0x1000 + s, pkt);
			assert_int_equal(unprotect_copy(rx, pkt, len), EBADMSG);
		}

		for (uint32_t s = 0; s < SRTP_TRANSFORM_MAX_SSRC + 1; s++) {
			size_t len = make_rtp(&r, pkt, 100 + s, 1, 0, false, 0, 20);
			int rc = srtp_transform_protect_rtp(tx, pkt, &len, BUF);
			assert_int_equal(rc, s < SRTP_TRANSFORM_MAX_SSRC ? 0 : ENOSPC);

			len = make_rtp(&r, pkt, 100 + s, 1, 0, false, 0, 20);
			int llen = (int)len;
			assert_int_equal(srtp_protect(ltx, pkt, &llen), srtp_err_status_ok);
			rc = unprotect_copy(rx, pkt, (size_t)llen);
			assert_int_equal(rc, s < SRTP_TRANSFORM_MAX_SSRC ? 0 : ENOSPC);
		}
		/* SRTCP from a 17th SSRC too. */
		size_t rlen = make_rtcp(&r, pkt, 999, 4);
		assert_int_equal(srtp_transform_protect_rtcp(tx, pkt, &rlen, BUF), ENOSPC);
		/* Known SSRCs carry on. */
		size_t len = make_rtp(&r, pkt, 100, 2, 0, false, 0, 20);
		assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &len, BUF), 0);
		assert_int_equal(unprotect_copy(rx, pkt, len), 0);
		rlen = make_rtcp(&r, pkt, 115, 4);
		assert_int_equal(srtp_transform_protect_rtcp(tx, pkt, &rlen, BUF), 0);
		assert_int_equal(unprotect_rtcp_copy(rx, pkt, rlen), 0);

		srtp_transform_free(tx);
		srtp_transform_free(rx);
		srtp_transform_free(forger);
		srtp_dealloc(ltx);
	}
}

/* Another master key or salt, or another profile with the same key:
 * nothing authenticates. */
static void test_wrong_key(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct rng r = { 0x3a0u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, k2[32], s2[14], pkt[BUF], rtcp[BUF];

		random_master(&r, p, key, salt);
		memcpy(k2, key, sizeof(k2));
		memcpy(s2, salt, sizeof(s2));
		k2[5] ^= 0x80;
		s2[11] ^= 0x01;
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *bad_key = ours(p, SRTP_TRANSFORM_INBOUND, k2, salt);
		struct srtp_transform *bad_salt = ours(p, SRTP_TRANSFORM_INBOUND, key, s2);
		size_t len = protect_seq(tx, &r, 77, 1, pkt);
		size_t rlen = make_rtcp(&r, rtcp, 1, 6);
		assert_int_equal(srtp_transform_protect_rtcp(tx, rtcp, &rlen, BUF), 0);

		assert_int_equal(unprotect_copy(bad_key, pkt, len), EBADMSG);
		assert_int_equal(unprotect_copy(bad_salt, pkt, len), EBADMSG);
		assert_int_equal(unprotect_rtcp_copy(bad_key, rtcp, rlen), EBADMSG);
		assert_int_equal(unprotect_rtcp_copy(bad_salt, rtcp, rlen), EBADMSG);

		/* The sibling profile of the same key size. */
		enum srtp_profile sib = p == SRTP_PROFILE_AES128_CM_HMAC_SHA1_80
						? SRTP_PROFILE_AES128_CM_HMAC_SHA1_32
					: p == SRTP_PROFILE_AES128_CM_HMAC_SHA1_32
						? SRTP_PROFILE_AES128_CM_HMAC_SHA1_80
					: p == SRTP_PROFILE_AEAD_AES_128_GCM
						? SRTP_PROFILE_AES128_CM_HMAC_SHA1_80
						: SRTP_PROFILE_AEAD_AES_128_GCM;
		uint8_t sk[32] = { 0 }, ss[14] = { 0 };
		size_t sl = info_of(p).salt_len < info_of(sib).salt_len
				    ? info_of(p).salt_len : info_of(sib).salt_len;
		memcpy(sk, key, 16);
		memcpy(ss, salt, sl);
		struct srtp_transform *other = ours(sib, SRTP_TRANSFORM_INBOUND, sk, ss);
		assert_int_equal(unprotect_copy(other, pkt, len), EBADMSG);
		/* _80 and _32 share keys and SRTCP (RFC 5764 4.1.2). */
		bool same_rtcp = !info_of(p).aead && !info_of(sib).aead;
		assert_int_equal(unprotect_rtcp_copy(other, rtcp, rlen),
				 same_rtcp ? 0 : EBADMSG);

		srtp_transform_free(tx);
		srtp_transform_free(bad_key);
		srtp_transform_free(bad_salt);
		srtp_transform_free(other);
	}
}

/* A forged packet never moves the state: had the forgery at index 30000
 * been taken as the highest, 101 would be too old to accept. */
static void test_state_moves_only_on_auth(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct rng r = { 0xf0e9u + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, a[BUF], b[BUF], c[BUF], f[BUF];

		random_master(&r, p, key, salt);
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
		/* A second sender: ours would not send 101 after 30000. */
		struct srtp_transform *tx2 = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		size_t la = protect_seq(tx, &r, 100, 3, a);
		size_t lb = protect_seq(tx2, &r, 30000, 3, b);
		size_t lc = protect_seq(tx, &r, 101, 3, c);

		assert_int_equal(unprotect_copy(rx, a, la), 0);
		b[lb - 1] ^= 0x40;
		assert_int_equal(unprotect_copy(rx, b, lb), EBADMSG);
		b[lb - 1] ^= 0x40;
		assert_int_equal(unprotect_copy(rx, c, lc), 0);
		assert_int_equal(unprotect_copy(rx, b, lb), 0);

		/* SRTCP: a forged index 2^31-1 is not recorded. */
		uint8_t r1[BUF], r2[BUF];
		size_t m1 = make_rtcp(&r, r1, 3, 5), m2 = make_rtcp(&r, r2, 3, 5);
		assert_int_equal(srtp_transform_protect_rtcp(tx, r1, &m1, BUF), 0);
		assert_int_equal(srtp_transform_protect_rtcp(tx, r2, &m2, BUF), 0);
		memcpy(f, r1, m1);
		size_t wpos = info_of(p).aead ? m1 - 4 : m1 - 4 - info_of(p).rtcp_tag_len;
		f[wpos] = 0xff;
		f[wpos + 1] = 0xff;
		f[wpos + 2] = 0xff;
		f[wpos + 3] = 0xff;
		assert_int_equal(unprotect_rtcp_copy(rx, f, m1), EBADMSG);
		assert_int_equal(unprotect_rtcp_copy(rx, r2, m2), 0);
		assert_int_equal(unprotect_rtcp_copy(rx, r1, m1), 0);

		srtp_transform_free(tx);
		srtp_transform_free(tx2);
		srtp_transform_free(rx);
	}
}

static void test_misuse(void **state)
{
	uint8_t key[32] = { 1 }, salt[14] = { 2 }, pkt[BUF];
	struct srtp_transform *t = NULL;
	struct rng r = { 42 };
	(void)state;

	assert_int_equal(srtp_transform_create((enum srtp_profile)5,
					       SRTP_TRANSFORM_OUTBOUND, key, 16,
					       salt, 14, &t), ENOTSUP);
	assert_int_equal(srtp_transform_create(SRTP_PROFILE_AEAD_AES_256_GCM,
					       SRTP_TRANSFORM_OUTBOUND, key, 16,
					       salt, 12, &t), EINVAL);
	assert_int_equal(srtp_transform_create(SRTP_PROFILE_AEAD_AES_256_GCM,
					       (enum srtp_transform_dir)0, key,
					       32, salt, 12, &t), EINVAL);
	assert_null(t);
	srtp_transform_free(NULL);

	struct srtp_transform *tx = ours(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
					 SRTP_TRANSFORM_OUTBOUND, key, salt);
	struct srtp_transform *rx = ours(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
					 SRTP_TRANSFORM_INBOUND, key, salt);
	size_t len = make_rtp(&r, pkt, 1, 1, 0, false, 0, 40), l = len;
	uint8_t copy[BUF];
	memcpy(copy, pkt, len);

	/* Wrong direction. */
	assert_int_equal(srtp_transform_unprotect_rtp(tx, pkt, &l), EINVAL);
	assert_int_equal(srtp_transform_protect_rtp(rx, pkt, &l, BUF), EINVAL);
	assert_int_equal(srtp_transform_unprotect_rtcp(tx, pkt, &l), EINVAL);
	assert_int_equal(srtp_transform_protect_rtcp(rx, pkt, &l, BUF), EINVAL);
	/* No room for the tag: nothing touched. */
	assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &l, len + 9), EMSGSIZE);
	assert_int_equal(srtp_transform_protect_rtcp(tx, pkt, &l, len + 13), EMSGSIZE);
	assert_int_equal(l, len);
	assert_memory_equal(pkt, copy, len);
	/* Larger than a datagram. */
	l = 70000;
	assert_int_equal(srtp_transform_unprotect_rtp(rx, pkt, &l), EMSGSIZE);
	assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &l, 80000), EMSGSIZE);
	/* Not version 2. */
	l = len;
	pkt[0] = 0x40;
	assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &l, BUF), EINVAL);
	assert_int_equal(srtp_transform_protect_rtcp(tx, pkt, &l, BUF), EINVAL);
	pkt[0] = 0x80;
	assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &l, BUF), 0);
	srtp_transform_free(tx);
	srtp_transform_free(rx);
}

/* The enum carries the DTLS-SRTP numbers (as OpenSSL and libsrtp number
 * them) and the lengths libsrtp gives. */
static void test_profiles(void **state)
{
	struct srtp_profile_info info;
	(void)state;

	assert_int_equal(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80, SRTP_AES128_CM_SHA1_80);
	assert_int_equal(SRTP_PROFILE_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_SHA1_32);
	assert_int_equal(SRTP_PROFILE_AEAD_AES_128_GCM, SRTP_AEAD_AES_128_GCM);
	assert_int_equal(SRTP_PROFILE_AEAD_AES_256_GCM, SRTP_AEAD_AES_256_GCM);
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		info = info_of(p);
		assert_int_equal(info.key_len,
				 srtp_profile_get_master_key_length((srtp_profile_t)p));
		assert_int_equal(info.salt_len,
				 srtp_profile_get_master_salt_length((srtp_profile_t)p));
		assert_true(info.rtp_tag_len <= SRTP_TRANSFORM_RTP_OVERHEAD_MAX);
		assert_true(info.rtcp_tag_len + 4 <= SRTP_TRANSFORM_RTCP_OVERHEAD_MAX);
	}
	assert_int_equal(info_of(SRTP_PROFILE_AES128_CM_HMAC_SHA1_32).rtp_tag_len, 4);
	assert_int_equal(info_of(SRTP_PROFILE_AES128_CM_HMAC_SHA1_32).rtcp_tag_len, 10);
	assert_int_equal(srtp_transform_profile_info((enum srtp_profile)6, &info),
			 ENOTSUP);
}

/* Index estimation (RFC 3711 Appendix A) and the replay window alone. */
static void test_window(void **state)
{
	struct srtp_window w;
	(void)state;

	memset(&w, 0, sizeof(w));
	assert_int_equal(srtp_window_rtp_index(&w, 65000), 65000); /* ROC 0 */
	w.started = true;
	w.top = (uint64_t)5 << 16 | 100;      /* ROC 5, s_l 100 */
	assert_int_equal(srtp_window_rtp_index(&w, 101), (uint64_t)5 << 16 | 101);
	assert_int_equal(srtp_window_rtp_index(&w, 32868), (uint64_t)5 << 16 | 32868);
	assert_int_equal(srtp_window_rtp_index(&w, 32869), (uint64_t)4 << 16 | 32869);
	assert_int_equal(srtp_window_rtp_index(&w, 65000), (uint64_t)4 << 16 | 65000);
	w.top = (uint64_t)5 << 16 | 65000;    /* s_l >= 2^15 */
	assert_int_equal(srtp_window_rtp_index(&w, 32232), (uint64_t)5 << 16 | 32232);
	assert_int_equal(srtp_window_rtp_index(&w, 32231), (uint64_t)6 << 16 | 32231);
	assert_int_equal(srtp_window_rtp_index(&w, 10), (uint64_t)6 << 16 | 10);
	w.top = 100;                          /* ROC 0: never ROC - 1 */
	assert_int_equal(srtp_window_rtp_index(&w, 65000), 65000);
	w.top = (uint64_t)0xffffffff << 16 | 65000; /* ROC exhausted */
	assert_true(srtp_window_rtp_index(&w, 10) >= SRTP_INDEX_LIMIT);
	assert_true(srtp_window_rtp_index(&w, 65001) < SRTP_INDEX_LIMIT);

	memset(&w, 0, sizeof(w));
	assert_int_equal(srtp_window_check(&w, 0), 0);
	srtp_window_accept(&w, 1000);
	assert_int_equal(srtp_window_check(&w, 1000), EALREADY);
	assert_int_equal(srtp_window_check(&w, 999), 0);
	assert_int_equal(srtp_window_check(&w, 1000 - 127), 0);
	assert_int_equal(srtp_window_check(&w, 1000 - 128), EALREADY);
	srtp_window_accept(&w, 1000 - 127);
	srtp_window_accept(&w, 1000 - 64);
	srtp_window_accept(&w, 1000 - 63);
	srtp_window_accept(&w, 1001);         /* shift by 1 across words */
	assert_int_equal(srtp_window_check(&w, 1000 - 127), EALREADY);
	assert_int_equal(srtp_window_check(&w, 1000 - 64), EALREADY);
	assert_int_equal(srtp_window_check(&w, 1000 - 63), EALREADY);
	assert_int_equal(srtp_window_check(&w, 1000 - 62), 0);
	assert_int_equal(srtp_window_check(&w, 1000), EALREADY);
	srtp_window_accept(&w, 1001 + 64);   /* shift by exactly 64 */
	assert_int_equal(srtp_window_check(&w, 1001), EALREADY);
	assert_int_equal(srtp_window_check(&w, 1000), EALREADY);
	assert_int_equal(srtp_window_check(&w, 1000 - 63), EALREADY); /* d 128 */
	assert_int_equal(srtp_window_check(&w, 1000 - 62), 0);        /* d 127 */
	assert_int_equal(srtp_window_check(&w, 1002), 0);
	srtp_window_accept(&w, 1065 + 70);    /* shift by 70 */
	assert_int_equal(srtp_window_check(&w, 1065), EALREADY);    /* d 70 */
	assert_int_equal(srtp_window_check(&w, 1066), 0);
	assert_int_equal(srtp_window_check(&w, 1135 - 127), 0);
	assert_int_equal(srtp_window_check(&w, 1135 - 128), EALREADY);
	srtp_window_accept(&w, 100000);       /* jump: window cleared */
	assert_int_equal(srtp_window_check(&w, 100000 - 1), 0);
	assert_int_equal(srtp_window_check(&w, 100000 - 127), 0);
	assert_int_equal(srtp_window_check(&w, 100000), EALREADY);
}

/* Once a context exists, no packet (good or bad) makes OpenSSL allocate. */
static void test_no_alloc_per_packet(void **state)
{
	(void)state;
	for (size_t pi = 0; pi < N_PROFILES; pi++) {
		enum srtp_profile p = all_profiles[pi];
		struct rng r = { 0xa110cu + pi };
		uint8_t key[32] = { 0 }, salt[14] = { 0 }, pkt[BUF];

		random_master(&r, p, key, salt);
		struct srtp_transform *tx = ours(p, SRTP_TRANSFORM_OUTBOUND, key, salt);
		struct srtp_transform *rx = ours(p, SRTP_TRANSFORM_INBOUND, key, salt);
		long before = ossl_allocs;
		for (unsigned i = 0; i < 1000; i++) {
			size_t len = make_rtp(&r, pkt, 1 + i % 3, (uint16_t)i, 0, false, 0, 160);
			assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &len, BUF), 0);
			if (i % 10 == 0) {
				pkt[len - 1] ^= 1;
				assert_int_equal(unprotect_copy(rx, pkt, len), EBADMSG);
				pkt[len - 1] ^= 1;
			}
			assert_int_equal(srtp_transform_unprotect_rtp(rx, pkt, &len), 0);
			len = make_rtcp(&r, pkt, 1 + i % 3, 20);
			assert_int_equal(srtp_transform_protect_rtcp(tx, pkt, &len, BUF), 0);
			assert_int_equal(srtp_transform_unprotect_rtcp(rx, pkt, &len), 0);
		}
		assert_int_equal(ossl_allocs - before, 0);
		srtp_transform_free(tx);
		srtp_transform_free(rx);
	}
}

static int setup(void **state)
{
	(void)state;
	return srtp_init() == srtp_err_status_ok ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return srtp_shutdown() == srtp_err_status_ok ? 0 : -1;
}

int main(void)
{
	/* Before anything makes OpenSSL allocate. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_rfc3711_b2_keystream),
		cmocka_unit_test(test_rfc3711_b3_kdf),
		cmocka_unit_test(test_rfc7714_rtp),
		cmocka_unit_test(test_rfc7714_rtcp),
		cmocka_unit_test(test_oracle_rtp_wrap),
		cmocka_unit_test(test_oracle_rtp_many_wraps),
		cmocka_unit_test(test_oracle_rtcp),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_ssrc_table_full),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_state_moves_only_on_auth),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_no_alloc_per_packet),
	};
	return cmocka_run_group_tests_name("srtp_transform", tests, setup, teardown);
}
