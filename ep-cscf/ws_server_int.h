/* Internals shared by ws_server.c (connections, receiving, keep-alive)
 * and ws_send.c (sending toward a browser). */
#ifndef EPCSCF_WS_SERVER_INT_H
#define EPCSCF_WS_SERVER_INT_H

#include <libwebsockets.h>
#include <stdint.h>

#include "ka_queue.h"
#include "ws_ip_table.h"
#include "ws_listen.h"
#include "ws_server.h"

#define TX_QUEUE_MAX (256 * 1024) /* bytes queued toward one browser */

struct tx_item {
	struct tx_item *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE headroom, then the message */
};

/* Per-connection state, owned by the server (pointer kept in lws's
 * per-session data). */
struct ws_conn {
	/* Keep-alive: on one of the server's two queues.  First member:
	 * the entry's address is the connection's (conn_of). */
	struct ka_entry ka;
	struct lws *wsi;
	struct flow *flow; /* owned by the flow table */
	char *rx;          /* owned; the message being reassembled */
	size_t rx_len, rx_cap;
	struct tx_item *tx_head, *tx_tail; /* owned */
	size_t tx_bytes;
	double tokens;
	uint64_t refill_ms;
	int close_code;
	char close_reason[64];
	char ip[INET6_ADDRSTRLEN];
	int ping_pending;       /* a ping to write when writeable */
	int peer_closing;       /* the browser sent a close: nothing more */
};

struct ws_server {
	struct lws_context *ctx;     /* owned */
	int stopping;
	struct lws_vhost *vh_wss, *vh_ws; /* listen nowhere: we adopt */
	struct ws_listen lst_wss, lst_ws;  /* ours, handing sockets to lws */
	unsigned handshakes;               /* adopted, not yet established */
	struct ws_server_cfg cfg;
	struct flow_table *flows;    /* borrowed from the daemon */
	struct ws_server_ops ops;
	const struct log *log;
	unsigned sub;
	uv_loop_t *loop;
	struct ws_ip_table ips;      /* established flows per address */
	struct lws_protocols protocols[2];
	lws_retry_bo_t retry;         /* no lws validity timers: see ka_ */
	uv_timer_t ka_timer;
	int ka_ready;
	struct ka_queue ka_idle;      /* silent for ping_s: ping */
	struct ka_queue ka_ping;      /* pinged: no answer in ping_s + 10: hang up */
	struct metric *m_rej_origin, *m_rej_proto, *m_rej_ip, *m_rej_size,
		*m_rej_rate, *m_rej_slow, *m_msgs_in, *m_msgs_out, *m_opened;
	unsigned char *tx_scratch;    /* owned: LWS_PRE + a message, see send_now */
	size_t tx_scratch_cap;
};

/* Writes what is due on c from lws's WRITEABLE callback: a close, a
 * ping, or the next queued message.  Returns what the callback returns. */
int ws_send_writeable(struct ws_server *s, struct ws_conn *c);

/* Closes c with `code` at its next WRITEABLE callback. */
void ws_send_request_close(struct ws_conn *c, int code, const char *reason);

/* Frees the messages queued on c. */
void ws_send_drop_queue(struct ws_conn *c);

#endif
