/* OpenSSL allocations placed into an owner's block (openssl_arena.h). */
#include "openssl_arena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Before every allocation: where it lives (NULL: the heap) and its size
 * (for realloc).  16 bytes keep the user pointer 16-byte aligned, as
 * malloc's is. */
struct arena_hdr {
	struct openssl_arena *arena;
	size_t size;
};
_Static_assert(sizeof(struct arena_hdr) == 16, "allocations stay 16-byte aligned");

/* The process's one switch: set once, before OpenSSL allocates. */
static bool installed;
/* The arena this thread has open: set only inside begin/end. */
static _Thread_local struct openssl_arena *current;

static void *place(struct openssl_arena *a, size_t n)
{
	if (n > a->size)
		return NULL;
	size_t need = sizeof(struct arena_hdr) + ((n + 15) & ~(size_t)15);
	if (need > a->size - a->used)
		return NULL;
	struct arena_hdr *h = (struct arena_hdr *)(a->base + a->used);
	a->used += need;
	a->live++;
	h->arena = a;
	h->size = n;
	if (n > a->largest_len) {
		a->largest = h + 1;
		a->largest_len = n;
	}
	return h + 1;
}

static void *heap_alloc(size_t n)
{
	if (n > SIZE_MAX - sizeof(struct arena_hdr))
		return NULL;
	struct arena_hdr *h = malloc(sizeof(*h) + n);
	if (!h)
		return NULL;
	h->arena = NULL;
	h->size = n;
	return h + 1;
}

static void *hook_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (!n)
		return NULL; /* as OpenSSL's own CRYPTO_malloc */
	void *p = current ? place(current, n) : NULL;
	return p ? p : heap_alloc(n);
}

static void hook_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (!p)
		return;
	struct arena_hdr *h = (struct arena_hdr *)p - 1;
	if (h->arena) {
		h->arena->live--; /* the owner frees the memory */
		return;
	}
	free(h);
}

static void *hook_realloc(void *p, size_t n, const char *file, int line)
{
	if (!p)
		return hook_malloc(n, file, line);
	if (!n) {
		hook_free(p, file, line);
		return NULL;
	}
	struct arena_hdr *h = (struct arena_hdr *)p - 1;
	if (!h->arena) {
		if (n > SIZE_MAX - sizeof(*h))
			return NULL;
		struct arena_hdr *g = realloc(h, sizeof(*h) + n);
		if (!g)
			return NULL;
		g->size = n;
		return g + 1;
	}
	if (n <= h->size)
		return p;
	/* A placed block cannot grow in place: it moves to the heap. */
	void *q = heap_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->size);
	h->arena->live--;
	return q;
}

int openssl_arena_install(void)
{
	if (installed)
		return 0;
	if (CRYPTO_set_mem_functions(hook_malloc, hook_realloc, hook_free) != 1)
		return EBUSY;
	installed = true;
	return 0;
}

bool openssl_arena_installed(void)
{
	return installed;
}

void openssl_arena_init(struct openssl_arena *a, void *mem, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->base = mem;
	a->size = size;
}

void openssl_arena_begin(struct openssl_arena *a)
{
	current = a;
}

void openssl_arena_end(void)
{
	current = NULL;
}
