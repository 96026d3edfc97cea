/* Pages for packet-path state, carved from 2 MiB blocks advised for
 * transparent huge pages.
 *
 * Why: a packet touches about three pages of per-call state (its W3
 * termination, its stream pair, its SRTP transform).  At thousands of
 * streams that is far more 4 KiB pages than the TLB maps, and on a VM
 * every TLB miss is a nested page walk.  On 2 MiB pages the state of
 * hundreds of calls shares one TLB entry (glibc's huge-page heap, a
 * process-wide setting, measured 4.7 % less CPU per packet at 3,500
 * streams; this puts only the packet path's state there, whatever the
 * environment).
 *
 * How: objects of 1, 2, 4, 8 or 16 pages (the size rounded up to a power
 * of two), page-aligned and zeroed, bumped from the newest block; a freed
 * object goes on its size's free list and is reused whole.  Blocks are
 * kept until page_pool_destroy: the pool's footprint is the high-water
 * mark of concurrent calls.  Where THP is "never" or compiled out the
 * blocks are ordinary pages and only the placement remains.  One pool per media plane (one loop); not thread-safe. */
#ifndef AGW_PAGE_POOL_H
#define AGW_PAGE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_POOL_PAGE 4096u
#define PAGE_POOL_BLOCK (2u << 20)
#define PAGE_POOL_CLASSES 5 /* 1, 2, 4, 8, 16 pages */
#define PAGE_POOL_MAX (PAGE_POOL_PAGE << (PAGE_POOL_CLASSES - 1))

struct page_pool_block {
	uint8_t *base; /* owned: PAGE_POOL_BLOCK bytes, mmap'ed */
	/* The size class + 1 of the object starting at each page; 0: none. */
	uint8_t start[PAGE_POOL_BLOCK / PAGE_POOL_PAGE];
};

struct page_pool {
	struct page_pool_block **blocks; /* owned, each owned */
	size_t n_blocks, cap_blocks;
	size_t bump;                     /* next free offset in the newest block */
	void *free_list[PAGE_POOL_CLASSES]; /* linked through each object's first word */
	bool thp;                        /* THP "always" or "madvise" (read at init) */
	size_t huge_bytes;               /* of the blocks, those advised while thp */
	size_t bytes_used;               /* in objects handed out */
	size_t max_bytes;                /* 0: no limit */
};

/* An empty pool; max_bytes caps its blocks (0: none).  No memory yet;
 * reads /sys/kernel/mm/transparent_hugepage/enabled once (the kernel
 * accepts the advice under "never" too, and then ignores it). */
void page_pool_init(struct page_pool *pp, size_t max_bytes);
/* Unmaps every block: every object is gone. */
void page_pool_destroy(struct page_pool *pp);

/* n bytes (1..PAGE_POOL_MAX), zeroed and page-aligned.  NULL: ENOMEM
 * (the cap, or no memory) or n out of range. */
void *page_pool_zalloc(struct page_pool *pp, size_t n);
/* Gives p (from page_pool_zalloc of this pool) back.  NULL is allowed.
 * Returns EINVAL (nothing done) when p is not an object of this pool. */
int page_pool_free(struct page_pool *pp, void *p);

/* len bytes (rounded up to 2 MiB) of zeroed memory on a 2 MiB boundary,
 * advised for huge pages (*huge, if not NULL: whether the kernel took the
 * advice); for other packet-path buffers (io_uring's receive ring).
 * NULL: ENOMEM.  Unmapped with page_pool_unmap(p, len). */
void *page_pool_map(size_t len, bool *huge);
void page_pool_unmap(void *p, size_t len);

/* Bytes the pool holds from the kernel (blocks). */
static inline size_t page_pool_bytes_mapped(const struct page_pool *pp)
{
	return pp->n_blocks * (size_t)PAGE_POOL_BLOCK;
}

#endif
