/* A worker's share of the node (worker_share.h). */
#include "worker_share.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int worker_count_parse(const char *s, unsigned cpus, unsigned max, unsigned *out)
{
	char *end;

	if (!strcmp(s, "auto")) {
		*out = cpus < 1 ? 1 : cpus > max ? max : cpus;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return EINVAL;
	*out = (unsigned)v;
	return 0;
}

static uint32_t part(uint32_t total, unsigned k, unsigned n)
{
	return total / n + (k < total % n ? 1 : 0);
}

int worker_share_of(const struct worker_share *node, unsigned k, unsigned n,
		    struct worker_share *out, char *why, size_t whylen)
{
	uint32_t ports = (uint32_t)node->port_max - node->port_min + 1;

	if (n < 1 || k >= n || node->port_min > node->port_max) {
		snprintf(why, whylen, "worker %u of %u", k, n);
		return EINVAL;
	}
	if (n == 1) {
		*out = *node;
		return 0;
	}
	if (ports / n < WORKER_SHARE_MIN_PORTS) {
		snprintf(why, whylen, "%u workers need at least %u media ports (%u each); "
			 "media.port_min..media.port_max has %u", n, n * WORKER_SHARE_MIN_PORTS,
			 WORKER_SHARE_MIN_PORTS, ports);
		return EINVAL;
	}
	if (node->max_contexts < n) {
		snprintf(why, whylen, "%u workers need iq.max_contexts of at least %u "
			 "(one context each); it is %u", n, n, node->max_contexts);
		return EINVAL;
	}
	if (node->max_ports && node->max_ports < n) {
		snprintf(why, whylen, "%u workers need iq.max_ports of 0 or at least %u; it is %u",
			 n, n, node->max_ports);
		return EINVAL;
	}
	uint32_t size = ports / n & ~1u; /* even: every slice starts like the range */
	out->port_min = (uint16_t)(node->port_min + k * size);
	out->port_max = k == n - 1 ? node->port_max : (uint16_t)(out->port_min + size - 1);
	out->max_contexts = part(node->max_contexts, k, n);
	out->max_ports = part(node->max_ports, k, n);
	return 0;
}

int worker_node_id(char *out, size_t outlen, const char *base, unsigned k, unsigned n)
{
	int len = n > 1 ? snprintf(out, outlen, "%s-w%u", base, k) : snprintf(out, outlen, "%s", base);
	return len < 0 || (size_t)len >= outlen ? ENAMETOOLONG : 0;
}
