/* Sending toward a browser: straight onto the socket when nothing waits
 * before the message, else queued for lws's WRITEABLE callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_server_int.h"

void ws_send_request_close(struct ws_conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	lws_callback_on_writable(c->wsi);
}

void ws_send_drop_queue(struct ws_conn *c)
{
	while (c->tx_head) {
		struct tx_item *t = c->tx_head;
		c->tx_head = t->next;
		free(t);
	}
	c->tx_tail = NULL;
	c->tx_bytes = 0;
}

int ws_send_writeable(struct ws_server *s, struct ws_conn *c)
{
	if (c->close_code) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if (c->ping_pending) {
		/* With a payload: lws does not report an empty PONG. */
		unsigned char ping[LWS_PRE + 2] = { [LWS_PRE] = 'k', [LWS_PRE + 1] = 'a' };
		c->ping_pending = 0;
		if (lws_write(c->wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 2)
			return -1;
		if (c->tx_head)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	struct tx_item *t = c->tx_head;
	if (!t)
		return 0;
	if (lws_write(c->wsi, t->buf + LWS_PRE, t->len, LWS_WRITE_TEXT) < (int)t->len)
		return -1;
	metric_inc(s->m_msgs_out);
	c->tx_head = t->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	c->tx_bytes -= t->len;
	free(t);
	if (c->tx_head)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* Writes one message on c's socket now, outside lws's WRITEABLE callback.
 * Safe with libwebsockets 4.1 as we use it (no WebSocket extensions, no
 * HTTP/2) when nothing is queued before it: lws_write() frames the
 * message and lws_issue_raw() sends it, keeping any part the socket does
 * not take and sending that itself when the socket is writeable again
 * (lib/core-net/output.c).  This saves a POLLOUT round per message: two
 * epoll_ctl calls and a wake-up.  Returns 0, or EIO when the connection
 * failed (lws closes it). */
static int send_now(struct ws_server *s, struct ws_conn *c, const char *buf, size_t len)
{
	if (s->tx_scratch_cap < LWS_PRE + len) {
		size_t cap = LWS_PRE + len < 4096 ? 4096 : LWS_PRE + len;
		unsigned char *p = realloc(s->tx_scratch, cap);
		if (!p)
			return ENOMEM;
		s->tx_scratch = p;
		s->tx_scratch_cap = cap;
	}
	memcpy(s->tx_scratch + LWS_PRE, buf, len);
	if (lws_write(c->wsi, s->tx_scratch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return EIO;
	}
	metric_inc(s->m_msgs_out);
	return 0;
}

int ws_flow_send(struct ws_server *s, struct flow *f, const char *buf, size_t len)
{
	struct ws_conn *c = f->conn;

	if (!c || c->close_code || c->peer_closing)
		return ENOTCONN;
	if (!c->tx_head && !c->ping_pending && !lws_partial_buffered(c->wsi)) {
		int rc = send_now(s, c, buf, len);
		if (rc != ENOMEM)
			return rc;
	}
	if (c->tx_bytes + len > TX_QUEUE_MAX) {
		metric_inc(s->m_rej_slow);
		log_warn(s->log, s->sub, NULL, "flow closed", LF_S("flow", f->token),
			 LF_S("reason", "peer not reading"), LF_I("code", 1008));
		ws_send_request_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "not reading");
		return ENOBUFS;
	}
	struct tx_item *t = malloc(sizeof(*t) + LWS_PRE + len);
	if (!t)
		return ENOMEM;
	t->next = NULL;
	t->len = len;
	memcpy(t->buf + LWS_PRE, buf, len);
	if (c->tx_tail)
		c->tx_tail->next = t;
	else
		c->tx_head = t;
	c->tx_tail = t;
	c->tx_bytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void ws_flow_close(struct ws_server *s, struct flow *f, int code, const char *reason)
{
	(void)s;
	if (f->conn)
		ws_send_request_close(f->conn, code, reason);
}
