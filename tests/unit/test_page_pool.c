/* The packet path's page pool (eims-agw/page_pool.c): objects rounded up
 * to 1-16 pages, page-aligned and zeroed, carved from 2 MiB-aligned
 * blocks; freed objects reused whole by their size; bad frees refused;
 * the cap honoured; page_pool_map's alignment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "page_pool.h"

static bool page_aligned(const void *p)
{
	return ((uintptr_t)p & (PAGE_POOL_PAGE - 1)) == 0;
}

static bool same_block(const void *a, const void *b)
{
	return ((uintptr_t)a & ~(uintptr_t)(PAGE_POOL_BLOCK - 1)) ==
	       ((uintptr_t)b & ~(uintptr_t)(PAGE_POOL_BLOCK - 1));
}

static void test_sizes_alignment_zeroed(void **state)
{
	(void)state;
	struct page_pool pp;
	page_pool_init(&pp, 0);
	assert_int_equal(page_pool_bytes_mapped(&pp), 0);

	/* 100 B and 4 KiB: one page; 6 KiB: two; 13 KiB: four; 64 KiB: 16. */
	size_t sizes[] = { 100, 4096, 6144, 13312, PAGE_POOL_MAX };
	size_t expect[] = { 4096, 4096, 8192, 16384, PAGE_POOL_MAX };
	void *p[5];
	size_t used = 0;
	for (int i = 0; i < 5; i++) {
		p[i] = page_pool_zalloc(&pp, sizes[i]);
		assert_non_null(p[i]);
		assert_true(page_aligned(p[i]));
		for (size_t k = 0; k < sizes[i]; k++)
			assert_int_equal(((uint8_t *)p[i])[k], 0);
		memset(p[i], 0xA5, sizes[i]); /* writable, whole */
		used += expect[i];
		assert_int_equal(pp.bytes_used, used);
		assert_true(same_block(p[i], p[0]));
	}
	/* Objects do not overlap: each starts past the previous one's end. */
	for (int i = 1; i < 5; i++)
		assert_true((uint8_t *)p[i] >= (uint8_t *)p[i - 1] + expect[i - 1]);
	assert_int_equal(page_pool_bytes_mapped(&pp), PAGE_POOL_BLOCK);

	/* Out of range: nothing. */
	assert_null(page_pool_zalloc(&pp, 0));
	assert_null(page_pool_zalloc(&pp, PAGE_POOL_MAX + 1));
	page_pool_destroy(&pp);
	assert_int_equal(page_pool_bytes_mapped(&pp), 0);
}

static void test_reuse_by_size(void **state)
{
	(void)state;
	struct page_pool pp;
	page_pool_init(&pp, 0);
	uint8_t *a = page_pool_zalloc(&pp, 8192), *b = page_pool_zalloc(&pp, 4096);
	assert_non_null(a);
	assert_non_null(b);
	memset(a, 0x5A, 8192);
	assert_int_equal(page_pool_free(&pp, a), 0);
	assert_int_equal(pp.bytes_used, 4096);
	/* A one-page object does not take the freed two-page one... */
	uint8_t *c = page_pool_zalloc(&pp, 4000);
	assert_ptr_not_equal(c, a);
	/* ...a two-page one does, zeroed again. */
	uint8_t *d = page_pool_zalloc(&pp, 5000);
	assert_ptr_equal(d, a);
	for (size_t k = 0; k < 8192; k++)
		assert_int_equal(d[k], 0);
	page_pool_destroy(&pp);
}

static void test_bad_frees_refused(void **state)
{
	(void)state;
	struct page_pool pp;
	page_pool_init(&pp, 0);
	uint8_t *a = page_pool_zalloc(&pp, 16384);
	static uint8_t elsewhere[64];
	assert_non_null(a);
	assert_int_equal(page_pool_free(&pp, NULL), 0);
	assert_int_equal(page_pool_free(&pp, elsewhere), EINVAL); /* not the pool's */
	assert_int_equal(page_pool_free(&pp, a + 4096), EINVAL);  /* inside an object */
	assert_int_equal(page_pool_free(&pp, a + 8), EINVAL);     /* not a page start */
	assert_int_equal(page_pool_free(&pp, a), 0);
	assert_int_equal(page_pool_free(&pp, a), EINVAL);         /* twice */
	/* The refused double free did not put it on the list twice. */
	uint8_t *b = page_pool_zalloc(&pp, 16384), *c = page_pool_zalloc(&pp, 16384);
	assert_ptr_equal(b, a);
	assert_ptr_not_equal(c, a);
	page_pool_destroy(&pp);
}

static void test_blocks_and_cap(void **state)
{
	(void)state;
	struct page_pool pp;
	page_pool_init(&pp, 2 * (size_t)PAGE_POOL_BLOCK);
	size_t per_block = PAGE_POOL_BLOCK / PAGE_POOL_MAX;
	void *first = NULL, *last = NULL;
	for (size_t i = 0; i < 2 * per_block; i++) {
		last = page_pool_zalloc(&pp, PAGE_POOL_MAX);
		assert_non_null(last);
		if (!first)
			first = last;
	}
	assert_int_equal(page_pool_bytes_mapped(&pp), 2 * (size_t)PAGE_POOL_BLOCK);
	/* Advised blocks count as huge only where THP can back them. */
	assert_int_equal(pp.huge_bytes, pp.thp ? 2 * (size_t)PAGE_POOL_BLOCK : 0);
	assert_false(same_block(first, last));
	/* The cap: a third block is refused, a freed object is still reused. */
	assert_null(page_pool_zalloc(&pp, 4096));
	assert_int_equal(page_pool_free(&pp, first), 0);
	assert_int_equal(page_pool_free(&pp, last), 0);
	assert_ptr_equal(page_pool_zalloc(&pp, PAGE_POOL_MAX), last);
	page_pool_destroy(&pp);
}

static void test_map_aligned(void **state)
{
	(void)state;
	bool huge = false;
	size_t len = 3 * 1024 * 1024 + 123;
	uint8_t *p = page_pool_map(len, &huge);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p & (PAGE_POOL_BLOCK - 1), 0);
	assert_int_equal(p[0], 0);
	assert_int_equal(p[len - 1], 0);
	memset(p, 1, len);
	page_pool_unmap(p, len);
	assert_null(page_pool_map(0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_alignment_zeroed),
		cmocka_unit_test(test_reuse_by_size),
		cmocka_unit_test(test_bad_frees_refused),
		cmocka_unit_test(test_blocks_and_cap),
		cmocka_unit_test(test_map_aligned),
	};
	return cmocka_run_group_tests_name("page_pool", tests, NULL, NULL);
}
