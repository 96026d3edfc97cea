/* Round-robin port allocation over a bitmap. */
#include "port_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int is_used(const struct port_pool *pp, uint32_t i)
{
	return (int)(pp->used[i / 64] >> (i % 64) & 1);
}

static void set_used(struct port_pool *pp, uint32_t i, int on)
{
	if (on && !is_used(pp, i)) {
		pp->used[i / 64] |= 1ull << (i % 64);
		pp->n_free--;
	} else if (!on && is_used(pp, i)) {
		pp->used[i / 64] &= ~(1ull << (i % 64));
		pp->n_free++;
	}
}

int port_pool_init(struct port_pool *pp, uint16_t lo, uint16_t hi)
{
	memset(pp, 0, sizeof(*pp));
	if (!lo || lo > hi)
		return EINVAL;
	uint32_t n = (uint32_t)hi - lo + 1;
	pp->used = calloc((n + 63) / 64, sizeof(uint64_t));
	if (!pp->used)
		return ENOMEM;
	pp->lo = lo;
	pp->hi = hi;
	pp->n_free = n;
	return 0;
}

void port_pool_free(struct port_pool *pp)
{
	free(pp->used);
	memset(pp, 0, sizeof(*pp));
}

uint16_t port_pool_get(struct port_pool *pp)
{
	uint32_t n = (uint32_t)pp->hi - pp->lo + 1;
	for (uint32_t k = 0; k < n && pp->n_free; k++) {
		uint32_t i = (pp->cursor + k) % n;
		if (!is_used(pp, i)) {
			set_used(pp, i, 1);
			pp->cursor = (i + 1) % n;
			return (uint16_t)(pp->lo + i);
		}
	}
	return 0;
}

uint16_t port_pool_get_pair(struct port_pool *pp)
{
	uint32_t n = (uint32_t)pp->hi - pp->lo + 1;
	for (uint32_t k = 0; k < n && pp->n_free >= 2; k++) {
		uint32_t i = (pp->cursor + k) % n;
		uint32_t port = pp->lo + i;
		if (port % 2 || port + 1 > pp->hi)
			continue;
		if (!is_used(pp, i) && !is_used(pp, i + 1)) {
			set_used(pp, i, 1);
			set_used(pp, i + 1, 1);
			pp->cursor = (i + 2) % n;
			return (uint16_t)port;
		}
	}
	return 0;
}

void port_pool_mark(struct port_pool *pp, uint16_t port)
{
	if (port >= pp->lo && port <= pp->hi)
		set_used(pp, (uint32_t)(port - pp->lo), 1);
}

void port_pool_put(struct port_pool *pp, uint16_t port)
{
	if (port >= pp->lo && port <= pp->hi)
		set_used(pp, (uint32_t)(port - pp->lo), 0);
}
