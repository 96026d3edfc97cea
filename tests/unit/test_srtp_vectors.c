/* SRTP/SRTCP transform against published vectors: RFC 3711 Appendix B
 * (AES-CM keystream, key derivation) and RFC 7714 sections 16-17 (AES-GCM
 * RTP and RTCP); the profiles' parameters against libsrtp2's; the replay
 * window and index estimation (RFC 3711 Appendix A) alone. */
#include "srtp_test_util.h"

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


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_rfc3711_b2_keystream),
		cmocka_unit_test(test_rfc3711_b3_kdf),
		cmocka_unit_test(test_rfc7714_rtp),
		cmocka_unit_test(test_rfc7714_rtcp),
	};
	return cmocka_run_group_tests_name("srtp_vectors", tests, setup, teardown);
}
