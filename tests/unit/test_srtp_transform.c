/* SRTP/SRTCP transform on bad input and misuse: replay, tampering,
 * truncation, SSRC table overflow, wrong keys, state moved only by
 * authenticated packets; and no OpenSSL allocation per packet (OpenSSL's
 * allocator is counted from the start of main). */
#include "srtp_test_util.h"

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


int main(void)
{
	/* Before anything makes OpenSSL allocate. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;

	const struct CMUnitTest tests[] = {
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
