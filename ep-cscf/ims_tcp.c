/* SIP over TCP toward IMS on libuv. */
#include "ims_tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_stream.h"

#define IDLE_MS (300 * 1000) /* a connection unused this long is closed */
#define MAX_QUEUED (1024 * 1024) /* bytes waiting for a connect */
#define CIPHER_RX 16640 /* one TLS record and then some */

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
	bool secure;            /* TLS: tls is live */
	struct iqp_tls tls;     /* owned when secure */
	struct wblock *pending; /* owned: written once connected (TLS:
				 * plaintext, written once established) */
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
	if (c->secure)
		iqp_tls_free(&c->tls);
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
	/* SIP messages are whole writes: no Nagle delay behind a previous one. */
	uv_tcp_nodelay(&c->tcp, 1);
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

/* Sends the ciphertext the TLS session has produced.  Returns 0 or an
 * errno value (the connection is then closing). */
static int tls_flush(struct ims_tcp_conn *c)
{
	size_t n;
	while (!c->closing && (n = iqp_tls_pending(&c->tls)) > 0) {
		struct wblock *b = malloc(sizeof(*b) + n);
		if (!b) {
			conn_close(c, "out of memory");
			return ENOMEM;
		}
		b->next = NULL;
		b->len = iqp_tls_take(&c->tls, (uint8_t *)b->buf, n);
		int rc = write_block(c, b);
		if (rc)
			return rc;
	}
	return c->closing ? ENOTCONN : 0;
}

/* Plaintext out over TLS (after the handshake). */
static int tls_send(struct ims_tcp_conn *c, const char *buf, size_t len)
{
	if (iqp_tls_write(&c->tls, (const uint8_t *)buf, len)) {
		conn_close(c, c->tls.why);
		return EPROTO;
	}
	return tls_flush(c);
}

static void log_tls_failure(struct ims_tcp_conn *c)
{
	char peer[80];
	conf_addr_format((struct sockaddr *)&c->peer, peer, sizeof(peer));
	log_warn(c->t->log, c->t->sub, NULL, "tls toward IMS failed", LF_S("peer", peer),
		 LF_S("reason", c->tls.why[0] ? c->tls.why : "handshake failed"),
		 LF_S("fingerprint", c->tls.peer_fp));
}

/* The handshake just completed: what waited for it goes out. */
static void tls_established(struct ims_tcp_conn *c)
{
	char peer[80];
	conf_addr_format((struct sockaddr *)&c->peer, peer, sizeof(peer));
	log_info(c->t->log, c->t->sub, NULL, "tls toward IMS established", LF_S("peer", peer),
		 LF_S("version", SSL_get_version(c->tls.ssl)),
		 LF_S("cipher", SSL_get_cipher_name(c->tls.ssl)), LF_S("fingerprint", c->tls.peer_fp));
	while (c->pending && !c->closing) {
		struct wblock *b = c->pending;
		c->pending = b->next;
		c->pending_bytes -= b->len;
		tls_send(c, b->buf, b->len);
		free(b);
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ims_tcp_conn *c = h->data;
	size_t want = c->t->max_message + 1;
	(void)hint;
	if (c->secure) {
		/* libuv calls on_read before the next alloc: one buffer serves
		 * every TLS connection of the instance. */
		*buf = uv_buf_init((char *)c->t->cipher_rx, CIPHER_RX);
		return;
	}
	if (!c->rx) {
		c->rx = malloc(want);
		c->rx_cap = c->rx ? want : 0;
	}
	*buf = uv_buf_init(c->rx + c->rx_len, (unsigned)(c->rx_cap - c->rx_len));
}

static void frame_messages(struct ims_tcp_conn *c);

/* Ciphertext in: decrypt into rx and frame, flush what TLS answers. */
static void tls_read(struct ims_tcp_conn *c, const uint8_t *p, size_t n)
{
	bool was = c->tls.established;

	if (iqp_tls_feed(&c->tls, p, n)) {
		conn_close(c, "out of memory");
		return;
	}
	for (;;) {
		if (!c->rx && !(c->rx = malloc(c->t->max_message + 1))) {
			conn_close(c, "out of memory");
			return;
		}
		c->rx_cap = c->t->max_message + 1;
		size_t got = 0;
		int rc = iqp_tls_read(&c->tls, (uint8_t *)c->rx + c->rx_len, c->rx_cap - c->rx_len,
				      &got);
		if (rc == ECONNRESET) {
			conn_close(c, "closed by peer (close_notify)");
			return;
		}
		if (rc) {
			log_tls_failure(c);
			tls_flush(c); /* the alert */
			conn_close(c, c->tls.why);
			return;
		}
		if (tls_flush(c))
			return;
		if (!was && c->tls.established) {
			was = true;
			tls_established(c);
		}
		if (!got)
			break;
		c->rx_len += got;
		frame_messages(c);
		if (c->closing)
			return;
		if (c->rx && c->rx_len == c->rx_cap) {
			conn_close(c, "message too large");
			return;
		}
	}
	if (c->rx && c->rx_len == 0) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ims_tcp_conn *c = s->data;

	if (n < 0) {
		conn_close(c, n == UV_EOF ? "closed by peer" : uv_strerror((int)n));
		return;
	}
	uv_timer_again(&c->idle);
	if (c->secure) {
		tls_read(c, (const uint8_t *)buf->base, (size_t)n);
		return;
	}
	if (!c->rx)
		return;
	c->rx_len += (size_t)n;
	frame_messages(c);
	if (!c->closing && c->rx_len == 0) {
		free(c->rx); /* idle connections hold no buffer */
		c->rx = NULL;
		c->rx_cap = 0;
	}
}

/* Hands each whole message in rx to the owner; keeps the rest. */
static void frame_messages(struct ims_tcp_conn *c)
{
	struct ims_tcp *t = c->t;
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
	if (off && !c->closing) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
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
	if (t->tls_server) {
		if (iqp_tls_init(&c->tls, t->tls_server, NULL)) {
			uv_accept(server, (uv_stream_t *)&c->tcp);
			conn_close(c, "out of memory");
			return;
		}
		c->secure = true;
	}
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
	if (c->t->tls_client) {
		/* ClientHello now; the queue waits for the handshake. */
		if (iqp_tls_init(&c->tls, c->t->tls_client, c->t->tls_name)) {
			conn_close(c, "out of memory");
			return;
		}
		c->secure = true;
		size_t got;
		if (iqp_tls_read(&c->tls, NULL, 0, &got)) {
			log_tls_failure(c);
			conn_close(c, c->tls.why);
			return;
		}
		tls_flush(c);
		return;
	}
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
	if (c->secure && c->tls.established) {
		int rc = tls_send(c, buf, len);
		free(b);
		return rc;
	}
	if (c->connected && !t->tls_client && !t->tls_server)
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

int ims_tcp_set_tls(struct ims_tcp *t, const struct iqp_tls_ctx *server,
		    const struct iqp_tls_ctx *client, const char *name)
{
	if (!(t->cipher_rx = malloc(CIPHER_RX)))
		return ENOMEM;
	t->tls_server = server;
	t->tls_client = client;
	t->tls_name = name;
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
	free(t->cipher_rx); /* no read callback runs after uv_close */
	t->cipher_rx = NULL;
}
