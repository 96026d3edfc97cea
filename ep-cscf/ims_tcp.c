/* SIP over TCP toward IMS on libuv. */
#include "ims_tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_stream.h"

#define IDLE_MS (300 * 1000) /* a connection unused this long is closed */
#define MAX_QUEUED (1024 * 1024) /* bytes waiting for a connect */

struct wblock {
	struct wblock *next;
	uv_write_t req;
	struct ims_tcp_conn *conn;
	size_t len;
	char buf[];
};

struct ims_tcp_conn {
	struct ims_tcp_conn *prev, *next;
	struct ims_tcp *t;
	uint64_t id;
	uv_tcp_t tcp;
	uv_timer_t idle;
	uv_connect_t creq;
	struct sockaddr_storage peer;
	int connected, closing, handles;
	struct wblock *pending; /* owned: written once connected */
	size_t pending_bytes;
	char *rx;               /* owned */
	size_t rx_len, rx_cap;
};

static void conn_handle_closed(uv_handle_t *h)
{
	struct ims_tcp_conn *c = h->data;
	if (--c->handles)
		return;
	struct ims_tcp *t = c->t;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->n_conns--;
	while (c->pending) {
		struct wblock *b = c->pending;
		c->pending = b->next;
		free(b);
	}
	free(c->rx);
	free(c);
}

static void conn_close(struct ims_tcp_conn *c, const char *why)
{
	char peer[80];
	if (c->closing)
		return;
	c->closing = 1;
	conf_addr_format((struct sockaddr *)&c->peer, peer, sizeof(peer));
	log_debug(c->t->log, c->t->sub, NULL, "tcp connection closed", LF_S("peer", peer),
		  LF_U("conn", c->id), LF_S("reason", why));
	uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
}

static void on_idle(uv_timer_t *tm)
{
	conn_close(tm->data, "idle");
}

static struct ims_tcp_conn *conn_new(struct ims_tcp *t)
{
	struct ims_tcp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->t = t;
	c->id = ++t->next_id;
	uv_tcp_init(t->loop, &c->tcp);
	uv_timer_init(t->loop, &c->idle);
	c->tcp.data = c->idle.data = c;
	c->handles = 2;
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	t->n_conns++;
	uv_timer_start(&c->idle, on_idle, t->idle_ms, 0);
	return c;
}

static void on_written(uv_write_t *req, int status)
{
	struct wblock *b = req->data;
	if (status < 0 && status != UV_ECANCELED)
		conn_close(b->conn, uv_strerror(status));
	free(b);
}

static int write_block(struct ims_tcp_conn *c, struct wblock *b)
{
	uv_buf_t ub = uv_buf_init(b->buf, (unsigned)b->len);
	b->conn = c;
	b->req.data = b;
	int rc = uv_write(&b->req, (uv_stream_t *)&c->tcp, &ub, 1, on_written);
	if (rc) {
		free(b);
		conn_close(c, uv_strerror(rc));
		return -rc;
	}
	uv_timer_again(&c->idle);
	return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ims_tcp_conn *c = h->data;
	size_t want = c->t->max_message + 1;
	(void)hint;
	if (!c->rx) {
		c->rx = malloc(want);
		c->rx_cap = c->rx ? want : 0;
	}
	*buf = uv_buf_init(c->rx + c->rx_len, (unsigned)(c->rx_cap - c->rx_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ims_tcp_conn *c = s->data;
	struct ims_tcp *t = c->t;
	(void)buf;

	if (n < 0) {
		conn_close(c, n == UV_EOF ? "closed by peer" : uv_strerror((int)n));
		return;
	}
	if (!c->rx)
		return;
	c->rx_len += (size_t)n;
	uv_timer_again(&c->idle);
	size_t off = 0;
	while (!c->closing && off < c->rx_len) {
		size_t mlen;
		const char *why = "";
		enum sip_stream_result r = sip_stream_frame(c->rx + off, c->rx_len - off,
							    t->max_message, &mlen, &why);
		if (r == SIP_STREAM_NEED_MORE)
			break;
		if (r == SIP_STREAM_ERROR) {
			char peer[80];
			conf_addr_format((struct sockaddr *)&c->peer, peer, sizeof(peer));
			log_info(t->log, t->sub, NULL, "tcp stream refused", LF_S("peer", peer),
				 LF_S("reason", why));
			conn_close(c, why);
			return;
		}
		if (r == SIP_STREAM_KEEPALIVE) {
			/* A double CRLF ping gets a single CRLF pong. */
			if (mlen >= 4)
				ims_tcp_send(t, c->id, NULL, "\r\n", 2);
		} else {
			t->recv(t->arg, c->id, c->rx + off, mlen, (struct sockaddr *)&c->peer);
		}
		off += mlen;
	}
	if (off) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
	if (c->rx_len == 0) {
		free(c->rx); /* idle connections hold no buffer */
		c->rx = NULL;
		c->rx_cap = 0;
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ims_tcp *t = server->data;
	struct ims_tcp_conn *c;
	int len = sizeof(c->peer);

	if (status < 0 || !(c = conn_new(t)))
		return;
	c->connected = 1;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len) ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		conn_close(c, "accept failed");
}

static void on_connect(uv_connect_t *req, int status)
{
	struct ims_tcp_conn *c = req->data;
	if (status < 0) {
		char peer[80];
		conf_addr_format((struct sockaddr *)&c->peer, peer, sizeof(peer));
		log_warn(c->t->log, c->t->sub, NULL, "tcp connect failed", LF_S("peer", peer),
			 LF_S("reason", uv_strerror(status)));
		conn_close(c, uv_strerror(status));
		return;
	}
	if (c->closing)
		return;
	c->connected = 1;
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	while (c->pending && !c->closing) {
		struct wblock *b = c->pending;
		c->pending = b->next;
		c->pending_bytes -= b->len;
		write_block(c, b);
	}
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

int ims_tcp_send(struct ims_tcp *t, uint64_t conn_id, const struct sockaddr *to,
		 const char *buf, size_t len)
{
	struct ims_tcp_conn *c = NULL;

	if (t->closing)
		return ENOTCONN;
	for (struct ims_tcp_conn *x = t->conns; x && !c; x = x->next)
		if (!x->closing && conn_id && x->id == conn_id)
			c = x;
	for (struct ims_tcp_conn *x = t->conns; x && !c && to; x = x->next)
		if (!x->closing && same_addr(&x->peer, to))
			c = x;
	if (!c) {
		if (!to)
			return ENOTCONN;
		if (!(c = conn_new(t)))
			return ENOMEM;
		memcpy(&c->peer, to, to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in));
		c->creq.data = c;
		int rc = uv_tcp_connect(&c->creq, &c->tcp, to, on_connect);
		if (rc) {
			conn_close(c, uv_strerror(rc));
			return -rc;
		}
	}
	struct wblock *b = malloc(sizeof(*b) + len);
	if (!b)
		return ENOMEM;
	b->next = NULL;
	b->len = len;
	memcpy(b->buf, buf, len);
	if (c->connected)
		return write_block(c, b);
	if (c->pending_bytes + len > MAX_QUEUED) {
		free(b);
		return ENOBUFS;
	}
	struct wblock **pp = &c->pending;
	while (*pp)
		pp = &(*pp)->next;
	*pp = b;
	c->pending_bytes += len;
	return 0;
}

int ims_tcp_start(struct ims_tcp *t, uv_loop_t *loop, const struct conf_addr *addr,
		  size_t max_message, ims_tcp_recv_h *recv, void *arg,
		  const struct log *log, unsigned sub, char *err, size_t errlen)
{
	char text[80];
	int rc;

	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->max_message = max_message;
	t->idle_ms = IDLE_MS;
	t->recv = recv;
	t->arg = arg;
	t->log = log;
	t->sub = sub;
	conf_addr_format((const struct sockaddr *)&addr->ss, text, sizeof(text));
	uv_tcp_init(loop, &t->listener);
	t->listener.data = t;
	t->listening = 1;
	if ((rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&addr->ss, 0)) ||
	    (rc = uv_listen((uv_stream_t *)&t->listener, 128, on_connection))) {
		snprintf(err, errlen, "cannot listen on %s/tcp: %s", text, uv_strerror(rc));
		return -rc;
	}
	return 0;
}

void ims_tcp_close(struct ims_tcp *t)
{
	if (t->closing)
		return;
	t->closing = 1;
	for (struct ims_tcp_conn *c = t->conns; c; c = c->next)
		conn_close(c, "shutdown");
	if (t->listening)
		uv_close((uv_handle_t *)&t->listener, NULL);
}
