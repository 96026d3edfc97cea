/* What one worker process of an eIMS-AGW node gets of the node's
 * configuration (the `workers` option; common/supervisor.h runs them):
 * its slice of the media port range, its share of the registered
 * capacity, its NODE_ID.  Pure: no I/O. */
#ifndef EIMSAGW_WORKER_SHARE_H
#define EIMSAGW_WORKER_SHARE_H

#include <stddef.h>
#include <stdint.h>

/* Ports a worker needs at least: an RTP/RTCP pair and a W3 port (one
 * call), with room for the pair to start on an even port. */
#define WORKER_SHARE_MIN_PORTS 4
/* "-w127": what a worker adds to the node's NODE_ID. */
#define WORKER_SHARE_ID_SUFFIX_MAX 5

struct worker_share {
	uint16_t port_min, port_max;     /* inclusive */
	uint32_t max_contexts, max_ports; /* CAPACITY (max_ports 0: not declared) */
};

/* The `workers` value: a number 1..max, or "auto": cpus (at most max).
 * Returns 0 or EINVAL. */
int worker_count_parse(const char *s, unsigned cpus, unsigned max, unsigned *out);

/* Worker k of n: ports [node.port_min, node.port_max] cut in n slices of
 * the same even size (the last one takes the rest), capacity divided (the
 * remainder to the first workers).  n == 1: the node itself.  Returns 0,
 * or EINVAL with the reason (without the option's place) in why. */
int worker_share_of(const struct worker_share *node, unsigned k, unsigned n,
		    struct worker_share *out, char *why, size_t whylen);

/* The NODE_ID of worker k of n: base itself when n == 1, else
 * "<base>-w<k>".  Returns 0 or ENAMETOOLONG when out is too small. */
int worker_node_id(char *out, size_t outlen, const char *base, unsigned k, unsigned n);

#endif
