/* SIP over UDP toward the IMS core: one bound socket on the daemon's loop.
 * Datagrams in are handed over whole; datagrams out are sent at once
 * (uv_udp_try_send) or queued with a copy when the socket is busy. */
#ifndef EPCSCF_IMS_UDP_H
#define EPCSCF_IMS_UDP_H

#include <stddef.h>
#include <uv.h>

#include "conf.h"

typedef void (ims_udp_recv_h)(void *arg, const char *buf, size_t len,
			      const struct sockaddr *from);

struct ims_udp {
	uv_udp_t sock;
	ims_udp_recv_h *recv;
	void *arg;
	struct sockaddr_storage bound;
	char rx[65536];
	int open;
};

/* Binds and starts receiving.  Returns 0 or an errno value, with err. */
int ims_udp_start(struct ims_udp *u, uv_loop_t *loop, const struct conf_addr *addr,
		  ims_udp_recv_h *recv, void *arg, char *err, size_t errlen);

/* Sends one datagram.  Returns 0 or an errno value. */
int ims_udp_send(struct ims_udp *u, const char *buf, size_t len,
		 const struct sockaddr *to);

void ims_udp_close(struct ims_udp *u);

#endif
