/* Where a SIP message toward IMS goes: a UDP address, or a TCP or TLS
 * connection (by id: it may have closed, then a new one to addr is
 * opened). */
#ifndef EPCSCF_IMS_PEER_H
#define EPCSCF_IMS_PEER_H

#include <stdint.h>
#include <sys/socket.h>

enum ims_transport { IMS_UDP, IMS_TCP, IMS_TLS };

struct ims_peer {
	enum ims_transport transport;
	uint64_t conn_id; /* TCP: the connection a request came on (0: none) */
	struct sockaddr_storage addr;
};

#endif
