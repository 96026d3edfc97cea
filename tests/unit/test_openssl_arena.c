/* OpenSSL allocations placed into an owner's block (eims-agw/openssl_arena.c):
 * what fits is placed and counted, what does not comes from the heap,
 * realloc moves a placed block out, frees of placed blocks only count,
 * a cipher context lives and dies inside its arena, and an SRTP
 * transform's RTP cipher context lies in the transform's own page.  The
 * hooks are installed at the start of main, as eims-agw's main does. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "openssl_arena.h"
#include "page_pool.h"
#include "srtp_transform.h"

static _Alignas(16) uint8_t mem[2048];

static bool inside(const void *p, const void *base, size_t size)
{
	return (const uint8_t *)p >= (const uint8_t *)base &&
	       (const uint8_t *)p < (const uint8_t *)base + size;
}

static void test_place_and_count(void **state)
{
	(void)state;
	struct openssl_arena a;
	openssl_arena_init(&a, mem, sizeof(mem));
	assert_true(openssl_arena_installed());

	openssl_arena_begin(&a);
	void *p = OPENSSL_malloc(100);
	void *q = OPENSSL_zalloc(300);
	void *big = OPENSSL_malloc(4000); /* does not fit: the heap */
	openssl_arena_end();
	void *after = OPENSSL_malloc(10);  /* arena closed: the heap */

	assert_non_null(p);
	assert_non_null(q);
	assert_non_null(big);
	assert_true(inside(p, mem, sizeof(mem)));
	assert_true(inside(q, mem, sizeof(mem)));
	assert_false(inside(big, mem, sizeof(mem)));
	assert_false(inside(after, mem, sizeof(mem)));
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_int_equal((uintptr_t)q % 16, 0);
	assert_ptr_equal(a.largest, q);
	assert_int_equal(a.live, 2);
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(((uint8_t *)q)[i], 0);

	memset(p, 0xa5, 100);
	OPENSSL_free(q);
	assert_int_equal(a.live, 1);
	assert_false(openssl_arena_idle(&a));
	/* Growing a placed block moves it to the heap, contents kept. */
	void *g = OPENSSL_realloc(p, 1000);
	assert_non_null(g);
	assert_false(inside(g, mem, sizeof(mem)));
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(((uint8_t *)g)[i], 0xa5);
	assert_true(openssl_arena_idle(&a));
	/* Heap blocks grow and free as before. */
	g = OPENSSL_realloc(g, 5000);
	assert_non_null(g);
	assert_int_equal(((uint8_t *)g)[99], 0xa5);
	OPENSSL_free(g);
	OPENSSL_free(big);
	OPENSSL_free(after);
	OPENSSL_free(NULL);
	assert_null(OPENSSL_malloc(0));
}

static void test_full_arena_falls_back(void **state)
{
	(void)state;
	struct openssl_arena a;
	openssl_arena_init(&a, mem, 64);

	openssl_arena_begin(&a);
	void *p = OPENSSL_malloc(48);  /* 16 + 48: fits exactly */
	void *q = OPENSSL_malloc(1);   /* no room left */
	void *huge = OPENSSL_malloc(SIZE_MAX - 4); /* refused, no overflow */
	openssl_arena_end();
	assert_true(inside(p, mem, 64));
	assert_false(inside(q, mem, 64));
	assert_null(huge);
	assert_int_equal(a.used, 64);
	/* Shrinking a placed block keeps it where it is. */
	assert_ptr_equal(OPENSSL_realloc(p, 8), p);
	OPENSSL_free(p);
	OPENSSL_free(q);
	assert_true(openssl_arena_idle(&a));
}

static void test_cipher_context_lives_inside(void **state)
{
	(void)state;
	static const uint8_t key[16] = { 1, 2, 3 };
	const EVP_CIPHER *ciphers[] = { EVP_aes_128_ecb(), EVP_aes_256_gcm() };

	for (size_t i = 0; i < 2; i++) {
		struct openssl_arena a;
		uint8_t in[32] = { 0 }, out[32], ref[32];
		int outl;

		/* On the heap first: a cipher's first use fills OpenSSL's
		 * method cache, which lives as long as the process (the SRTP
		 * transform keys its RTCP context first for that reason). */
		EVP_CIPHER_CTX *h = EVP_CIPHER_CTX_new();
		assert_int_equal(EVP_EncryptInit_ex(h, ciphers[i], NULL, key, key), 1);
		assert_false(inside(h, mem, sizeof(mem)));

		openssl_arena_init(&a, mem, sizeof(mem));
		openssl_arena_begin(&a);
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		assert_non_null(c);
		assert_int_equal(EVP_EncryptInit_ex(c, ciphers[i], NULL, key, key), 1);
		openssl_arena_end();
		assert_true(inside(c, mem, sizeof(mem)));
		assert_true(a.live >= 2); /* the EVP context and the provider's */
		assert_non_null(a.largest);

		/* It works like the context on the heap. */
		assert_int_equal(EVP_EncryptUpdate(c, out, &outl, in, 32), 1);
		assert_int_equal(EVP_EncryptUpdate(h, ref, &outl, in, 32), 1);
		assert_memory_equal(out, ref, 32);
		EVP_CIPHER_CTX_free(h);

		EVP_CIPHER_CTX_free(c);
		assert_true(openssl_arena_idle(&a));
	}
}

static void test_transform_cipher_in_its_page(void **state)
{
	(void)state;
	static const enum srtp_profile profiles[] = {
		SRTP_PROFILE_AES128_CM_HMAC_SHA1_80, SRTP_PROFILE_AEAD_AES_128_GCM,
		SRTP_PROFILE_AEAD_AES_256_GCM,
	};
	uint8_t key[32] = { 7 }, salt[14] = { 9 };

	for (size_t i = 0; i < 3; i++) {
		struct srtp_profile_info info;
		struct srtp_transform *tx = NULL, *rx = NULL;
		const void *lines[SRTP_TRANSFORM_LINES];

		assert_int_equal(srtp_transform_profile_info(profiles[i], &info), 0);
		assert_int_equal(srtp_transform_create(profiles[i], SRTP_TRANSFORM_OUTBOUND, key,
						       info.key_len, salt, info.salt_len, &tx), 0);
		assert_int_equal(srtp_transform_create(profiles[i], SRTP_TRANSFORM_INBOUND, key,
						       info.key_len, salt, info.salt_len, &rx), 0);
		srtp_transform_rtp_lines(tx, lines);
		for (size_t k = 0; k < SRTP_TRANSFORM_LINES; k++) {
			assert_non_null(lines[k]);
			assert_true(inside(lines[k], tx, 4096));
		}

		uint8_t pkt[256] = { 0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 }, orig[256];
		size_t len = 172;
		memcpy(orig, pkt, sizeof(pkt));
		assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(srtp_transform_unprotect_rtp(rx, pkt, &len), 0);
		assert_int_equal(len, 172);
		assert_memory_equal(pkt, orig, 172);
		srtp_transform_free(tx);
		srtp_transform_free(rx);
	}
}

/* eims-agw's placement: both contexts in one two-page object of its
 * page pool, the cipher contexts inside their own pages, the pages
 * reusable after srtp_transform_free. */
static void test_transform_placed_in_pool(void **state)
{
	(void)state;
	uint8_t key[16] = { 3 }, salt[14] = { 4 };
	struct page_pool pp;
	page_pool_init(&pp, 0);
	uint8_t *two = page_pool_zalloc(&pp, 2 * SRTP_TRANSFORM_PAGE);
	struct srtp_transform *tx = NULL, *rx = NULL;
	const void *lines[SRTP_TRANSFORM_LINES];

	assert_non_null(two);
	assert_int_equal(srtp_transform_create_at(two + 8, SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
						  SRTP_TRANSFORM_OUTBOUND, key, 16, salt, 14, &tx),
			 EINVAL); /* not page-aligned */
	assert_int_equal(srtp_transform_create_at(two, SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
						  SRTP_TRANSFORM_OUTBOUND, key, 16, salt, 14, &tx), 0);
	assert_int_equal(srtp_transform_create_at(two + SRTP_TRANSFORM_PAGE,
						  SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
						  SRTP_TRANSFORM_INBOUND, key, 16, salt, 14, &rx), 0);
	assert_ptr_equal(tx, two);
	srtp_transform_rtp_lines(rx, lines);
	for (size_t k = 0; k < SRTP_TRANSFORM_LINES; k++)
		assert_true(inside(lines[k], two + SRTP_TRANSFORM_PAGE, SRTP_TRANSFORM_PAGE));
	uint8_t pkt[256] = { 0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 };
	size_t len = 172;
	assert_int_equal(srtp_transform_protect_rtp(tx, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(srtp_transform_unprotect_rtp(rx, pkt, &len), 0);
	assert_true(srtp_transform_free(tx));
	assert_true(srtp_transform_free(rx));
	assert_int_equal(page_pool_free(&pp, two), 0);
	page_pool_destroy(&pp);
}

int main(void)
{
	/* Before anything makes OpenSSL allocate, as eims-agw's main. */
	if (openssl_arena_install())
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_and_count),
		cmocka_unit_test(test_full_arena_falls_back),
		cmocka_unit_test(test_cipher_context_lives_inside),
		cmocka_unit_test(test_transform_cipher_in_its_page),
		cmocka_unit_test(test_transform_placed_in_pool),
	};
	return cmocka_run_group_tests_name("openssl_arena", tests, NULL, NULL);
}
