/* Placement of OpenSSL's allocations into a block its caller owns.
 *
 * Why: the SRTP transform keys one OpenSSL cipher context per direction,
 * and OpenSSL allocates that context and its provider state (the AES key
 * schedule) with malloc, wherever the heap has room.  On the packet path
 * they were two more pages per packet, one of them never prefetched (its
 * address is private to OpenSSL): the provider's first load was a
 * measured 0.19 us stall per packet at 1,500 streams.  Placed inside the
 * transform's own page they cost no translation of their own and their
 * lines can be prefetched with the transform's.
 *
 * How: OpenSSL's documented allocator hooks (CRYPTO_set_mem_functions),
 * installed once, before OpenSSL allocates anything.  Every allocation
 * then carries a 16-byte header naming where it lives: the heap, or an
 * arena.  While a thread has an arena open (openssl_arena_begin), its
 * OpenSSL allocations are carved from the arena as long as they fit, and
 * from the heap after that.  Freeing a placed allocation only counts it:
 * the arena's memory belongs to its owner, who frees it only once every
 * placed allocation was freed (openssl_arena_idle), so memory OpenSSL
 * still holds is never reused.
 *
 * Without openssl_arena_install (unit tests, tools, the minimal relay of
 * the benchmark) begin/end change nothing: OpenSSL allocates from the
 * heap as usual. */
#ifndef AGW_OPENSSL_ARENA_H
#define AGW_OPENSSL_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct openssl_arena {
	uint8_t *base;      /* borrowed: the owner's memory, 16-byte aligned */
	size_t size, used;
	unsigned live;      /* placed allocations not yet freed */
	void *largest;      /* the largest placed allocation, NULL: none */
	size_t largest_len;
};

/* Installs the hooks.  Returns 0, or EBUSY when OpenSSL allocated before
 * (too late: nothing is placed then, which only costs speed). */
int openssl_arena_install(void);
/* Whether the hooks are installed (placement happens). */
bool openssl_arena_installed(void);

/* An arena over mem[0..size) (mem 16-byte aligned). */
void openssl_arena_init(struct openssl_arena *a, void *mem, size_t size);

/* OpenSSL allocations of this thread go into a until openssl_arena_end
 * (while they fit).  Not nested. */
void openssl_arena_begin(struct openssl_arena *a);
void openssl_arena_end(void);

/* true when no placed allocation is live: the owner may free the memory. */
static inline bool openssl_arena_idle(const struct openssl_arena *a)
{
	return a->live == 0;
}

#endif
