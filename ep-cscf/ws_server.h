/* SIP over WebSocket (RFC 7118) server on libwebsockets, running on the
 * daemon's libuv loop.  WSS by default; plain WS only on a listener
 * configured for it.  Enforces the WWSF Origin policy on the upgrade
 * (HTTP 403), requires the "sip" subprotocol (HTTP 400), and per-flow
 * limits on message size (close 1009) and rate (close 1008); limits
 * established flows per source address (refused at accept). */
#ifndef EPCSCF_WS_SERVER_H
#define EPCSCF_WS_SERVER_H

#include <stddef.h>
#include <uv.h>

#include "conf.h"
#include "flow_table.h"
#include "log.h"
#include "metrics.h"
#include "wwsf_policy.h"

struct ws_server_cfg {
	struct conf_addr wss;      /* len 0: no WSS listener */
	struct conf_addr ws;       /* len 0: no plain WS listener */
	const char *cert_path;     /* borrowed */
	const char *key_path;      /* borrowed */
	size_t max_message;        /* bytes per SIP message */
	unsigned max_per_ip;       /* established flows per source address */
	unsigned max_conns;        /* all connections */
	unsigned msg_rate;         /* messages per second per flow ... */
	unsigned msg_burst;        /* ... with this burst */
	unsigned ping_s;           /* idle seconds before a WebSocket ping */
	unsigned handshake_s;      /* seconds to complete TLS + upgrade */
	const struct wwsf_policy *policy; /* borrowed */
};

struct ws_server_ops {
	void (*opened)(void *arg, struct flow *f);
	/* One complete SIP message (text or binary frame). */
	void (*message)(void *arg, struct flow *f, const char *buf, size_t len);
	/* The connection is gone; f is freed after this returns. */
	void (*closed)(void *arg, struct flow *f);
	void *arg;
};

struct ws_server;

/* Opens the listeners.  *out is owned by the caller (ws_server_free after
 * the loop has ended).  Returns 0 or an errno value with err set. */
int ws_server_start(struct ws_server **out, uv_loop_t *loop,
		    const struct ws_server_cfg *cfg, struct flow_table *flows,
		    const struct ws_server_ops *ops, const struct log *log,
		    unsigned log_sub, struct metrics *metrics, char *err,
		    size_t errlen);

/* Actual listening address of the WSS (secure=1) or WS listener. */
int ws_server_port(const struct ws_server *s, int secure);

/* Sends one message on the flow's connection: written at once when
 * nothing waits before it, else queued (copied).  Returns 0, ENOTCONN when
 * the flow has no connection (or it is closing), EIO when the write
 * failed (the connection is closed), or ENOBUFS when the peer does not
 * read (the connection is then closed with 1008). */
int ws_flow_send(struct ws_server *s, struct flow *f, const char *buf,
		 size_t len);

/* Closes a flow's connection with a WebSocket close code. */
void ws_flow_close(struct ws_server *s, struct flow *f, int code,
		   const char *reason);

/* Starts closing every connection and listener (the loop keeps running
 * until libwebsockets has closed its handles). */
void ws_server_stop(struct ws_server *s);
void ws_server_free(struct ws_server *s);

#endif
