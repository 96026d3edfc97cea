/* UDP port allocation from a configured range, per interface.  The IMS
 * side takes an even RTP port with RTCP on the next one (RFC 3550 11); the
 * W3 side takes single ports (rtcp-mux, one per BUNDLE transport).  Ports
 * are handed out round-robin so that a just-released port is not reused at
 * once (stray packets of the old call).  Bounded: one bitmap allocated at
 * init; no allocation afterwards. */
#ifndef AGW_PORT_POOL_H
#define AGW_PORT_POOL_H

#include <stddef.h>
#include <stdint.h>

struct port_pool {
	uint16_t lo, hi;   /* inclusive range */
	uint64_t *used;    /* owned bitmap, bit i = port lo + i */
	uint32_t cursor;   /* next index to try */
	uint32_t n_free;
};

/* lo <= hi, both non-zero.  Returns 0, EINVAL or ENOMEM. */
int port_pool_init(struct port_pool *pp, uint16_t lo, uint16_t hi);
void port_pool_free(struct port_pool *pp);

/* One free port, or 0 when the range is exhausted. */
uint16_t port_pool_get(struct port_pool *pp);
/* An even port p with p+1 also free; returns p, or 0 when none. */
uint16_t port_pool_get_pair(struct port_pool *pp);
/* Marks a port taken without handing it out (the OS refused to bind it:
 * some other process holds it); release it later to retry. */
void port_pool_mark(struct port_pool *pp, uint16_t port);
void port_pool_put(struct port_pool *pp, uint16_t port);

#endif
