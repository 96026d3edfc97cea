/* SIP over TCP or TLS toward the IMS core (RFC 3261 section 18): a
 * listener for connections from IMS nodes and outgoing connections reused
 * per remote address.  One instance is either plain or TLS (sip_tls.h
 * contexts, iqp_tls.h sessions on memory BIOs).  Messages are framed by Content-Length (sip_stream.c); a CRLF
 * keep-alive ping gets its pong (RFC 5626 4.4.1).  Connections are named by
 * id so that transactions never hold a pointer to a closed one. */
#ifndef EPCSCF_IMS_TCP_H
#define EPCSCF_IMS_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "iqp_tls.h"
#include "log.h"

typedef void (ims_tcp_recv_h)(void *arg, uint64_t conn_id, const char *buf,
			      size_t len, const struct sockaddr *from);

struct ims_tcp_conn;

struct ims_tcp {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int listening, closing;
	struct ims_tcp_conn *conns; /* owned, doubly linked */
	size_t n_conns;
	uint64_t next_id;
	size_t max_message;
	unsigned idle_ms;
	ims_tcp_recv_h *recv;
	void *arg;
	const struct log *log; /* borrowed */
	unsigned sub;
	/* TLS (ims_tcp_set_tls), all borrowed; NULL: plain TCP. */
	const struct iqp_tls_ctx *tls_server, *tls_client;
	const char *tls_name;  /* name the next hop's certificate carries */
	uint8_t *cipher_rx;    /* owned: ciphertext read, decrypted at once */
};

/* Makes the instance TLS: call after ims_tcp_start, before any traffic.
 * name: NULL or "" to skip the name check (pins or CA still apply).
 * Returns 0 or ENOMEM. */
int ims_tcp_set_tls(struct ims_tcp *t, const struct iqp_tls_ctx *server,
		    const struct iqp_tls_ctx *client, const char *name);

/* Listens on addr (the same address as the UDP socket).  Returns 0 or an
 * errno value with err set. */
int ims_tcp_start(struct ims_tcp *t, uv_loop_t *loop, const struct conf_addr *addr,
		  size_t max_message, ims_tcp_recv_h *recv, void *arg,
		  const struct log *log, unsigned sub, char *err, size_t errlen);

/* Sends one message (copied): on connection conn_id when it is still open,
 * else on an open connection to `to`, else on a new one (queued until it
 * connects).  Returns 0 or an errno value. */
int ims_tcp_send(struct ims_tcp *t, uint64_t conn_id, const struct sockaddr *to,
		 const char *buf, size_t len);

/* Closes the listener and every connection. */
void ims_tcp_close(struct ims_tcp *t);

#endif
