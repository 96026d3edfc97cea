/* SRTP/SRTCP transform against libsrtp2 (the oracle): byte-identical in
 * both directions for every profile, across ROC wraps, with reordering,
 * for RTP and RTCP. */
#include "srtp_test_util.h"

#include "openssl_arena.h"

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


int main(void)
{
	/* Our transforms as eims-agw runs them: cipher contexts placed in
	 * their own page (openssl_arena.h), installed before OpenSSL
	 * allocates. */
	if (openssl_arena_install())
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracle_rtp_wrap),
		cmocka_unit_test(test_oracle_rtp_many_wraps),
		cmocka_unit_test(test_oracle_rtcp),
	};
	return cmocka_run_group_tests_name("srtp_oracle", tests, setup, teardown);
}
