/* Pages for packet-path state on huge-page blocks (page_pool.h). */
#include "page_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static bool thp_usable(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return false; /* THP compiled out */
	bool ok = fgets(buf, sizeof(buf), f) && !strstr(buf, "[never]");
	fclose(f);
	return ok;
}

void page_pool_init(struct page_pool *pp, size_t max_bytes)
{
	*pp = (struct page_pool){ .max_bytes = max_bytes, .thp = thp_usable() };
}

void page_pool_destroy(struct page_pool *pp)
{
	for (size_t i = 0; i < pp->n_blocks; i++) {
		page_pool_unmap(pp->blocks[i]->base, PAGE_POOL_BLOCK);
		free(pp->blocks[i]);
	}
	free(pp->blocks);
	*pp = (struct page_pool){ 0 };
}

/* The class of n bytes: the smallest c with n <= PAGE << c; -1 too big. */
static int size_class(size_t n)
{
	for (int c = 0; c < PAGE_POOL_CLASSES; c++)
		if (n <= (size_t)PAGE_POOL_PAGE << c)
			return c;
	return -1;
}

void *page_pool_map(size_t len, bool *huge)
{
	size_t size = (len + PAGE_POOL_BLOCK - 1) & ~(size_t)(PAGE_POOL_BLOCK - 1);
	/* Map one block more and trim both ends: a huge page needs its 2 MiB
	 * alignment, mmap only promises 4 KiB. */
	size_t span = size + PAGE_POOL_BLOCK;

	if (!len)
		return NULL;
	uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t at = ((uintptr_t)m + PAGE_POOL_BLOCK - 1) & ~(uintptr_t)(PAGE_POOL_BLOCK - 1);
	uint8_t *base = (uint8_t *)at;
	if (base > m)
		munmap(m, (size_t)(base - m));
	if (base + size < m + span)
		munmap(base + size, (size_t)(m + span - (base + size)));
	/* EINVAL where THP is compiled out (plain pages then); under THP
	 * "never" the advice is taken and ignored (page_pool_init's thp). */
	bool ok = madvise(base, size, MADV_HUGEPAGE) == 0;
	if (huge)
		*huge = ok;
	return base;
}

void page_pool_unmap(void *p, size_t len)
{
	if (p)
		munmap(p, (len + PAGE_POOL_BLOCK - 1) & ~(size_t)(PAGE_POOL_BLOCK - 1));
}

static int add_block(struct page_pool *pp)
{
	if (pp->max_bytes && page_pool_bytes_mapped(pp) + PAGE_POOL_BLOCK > pp->max_bytes)
		return ENOMEM;
	if (pp->n_blocks == pp->cap_blocks) {
		size_t cap = pp->cap_blocks ? 2 * pp->cap_blocks : 8;
		struct page_pool_block **b = realloc(pp->blocks, cap * sizeof(*b));
		if (!b)
			return ENOMEM;
		pp->blocks = b;
		pp->cap_blocks = cap;
	}
	struct page_pool_block *blk = calloc(1, sizeof(*blk));
	bool huge = false;
	if (!blk || !(blk->base = page_pool_map(PAGE_POOL_BLOCK, &huge))) {
		free(blk);
		return ENOMEM;
	}
	if (huge && pp->thp)
		pp->huge_bytes += PAGE_POOL_BLOCK;
	pp->blocks[pp->n_blocks++] = blk;
	pp->bump = 0;
	return 0;
}

static struct page_pool_block *block_of(const struct page_pool *pp, const void *p)
{
	const uint8_t *base = (const uint8_t *)((uintptr_t)p & ~(uintptr_t)(PAGE_POOL_BLOCK - 1));

	/* Newest first: recent calls end first more often than not. */
	for (size_t i = pp->n_blocks; i-- > 0;)
		if (pp->blocks[i]->base == base)
			return pp->blocks[i];
	return NULL;
}

void *page_pool_zalloc(struct page_pool *pp, size_t n)
{
	int c = n ? size_class(n) : -1;

	if (c < 0)
		return NULL;
	size_t len = (size_t)PAGE_POOL_PAGE << c;
	void *p = pp->free_list[c];
	if (p) {
		struct page_pool_block *blk = block_of(pp, p);
		memcpy(&pp->free_list[c], p, sizeof(void *));
		blk->start[(size_t)((uint8_t *)p - blk->base) / PAGE_POOL_PAGE] &= 0x7f;
		memset(p, 0, len);
	} else {
		/* Bump from the newest block; objects are powers of two no
		 * larger than 64 KiB, so a block's tail is wasted only when a
		 * larger object does not fit (at most 60 KiB of 2 MiB). */
		if (!pp->n_blocks || pp->bump + len > PAGE_POOL_BLOCK) {
			if (add_block(pp))
				return NULL;
		}
		struct page_pool_block *blk = pp->blocks[pp->n_blocks - 1];
		p = blk->base + pp->bump;
		blk->start[pp->bump / PAGE_POOL_PAGE] = (uint8_t)(c + 1);
		pp->bump += len;
		/* Fresh pages read as zero. */
	}
	pp->bytes_used += len;
	return p;
}

int page_pool_free(struct page_pool *pp, void *p)
{
	if (!p)
		return 0;
	struct page_pool_block *blk = block_of(pp, p);
	size_t off = blk ? (size_t)((uint8_t *)p - blk->base) : 0;
	/* Not an object's start, or on a free list already (the start
	 * byte's top bit: a double free would hand one object out twice). */
	if (!blk || off % PAGE_POOL_PAGE || !blk->start[off / PAGE_POOL_PAGE] ||
	    (blk->start[off / PAGE_POOL_PAGE] & 0x80))
		return EINVAL;
	int c = blk->start[off / PAGE_POOL_PAGE] - 1;
	blk->start[off / PAGE_POOL_PAGE] |= 0x80;
	memcpy(p, &pp->free_list[c], sizeof(void *));
	pp->free_list[c] = p;
	pp->bytes_used -= (size_t)PAGE_POOL_PAGE << c;
	return 0;
}
