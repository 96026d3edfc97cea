/* One Iq+ connection on libuv: TCP or TLS, framing, CLOSE (SPEC.md 2, 3). */
#include "iqp_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "iqp_build.h"

#define RBUF 16384

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_READY };

struct iqp_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;            /* T_FRAME, then the close linger */
	uv_connect_t creq;
	uv_shutdown_t sreq;
	struct iqp_tls tls;          /* owned when secure */
	bool secure;
	bool client;                 /* we connected: ops->ready applies */
	struct iqp_framer framer;    /* owned */
	const struct iqp_conn_ops *ops; /* borrowed */
	void *arg;
	uint8_t state;               /* enum conn_state */
	bool closing;                /* closing started: no more callbacks */
	bool finished;               /* handles being closed */
	bool lingering;
	int handles;
	uint64_t tframe_mark;        /* frames count when T_FRAME started */
	bool tframe_on;
	char peer[64];
	uint8_t rbuf[RBUF];          /* socket reads */
	uint8_t pbuf[RBUF];          /* TLS plaintext */
};

struct wblock {
	uv_write_t req;
	struct iqp_conn *c;
	size_t len;
	uint8_t buf[];
};

static void begin_close(struct iqp_conn *c, unsigned code, const char *text);

int iqp_close_frame(unsigned code, const char *text, uint8_t *buf, size_t cap,
		    size_t *len)
{
	struct iqp_header h = { IQP_VERSION_MAJOR, IQP_KIND_CLOSE, 0, IQP_MSG_CLOSE, 0, 0 };
	struct iqp_error err;
	struct iqp_msg m;
	uint8_t arena[1024];
	int rc;

	iqp_error_set(&err, code, IQP_ACT_CLOSE, "%s", text ? text : "");
	if ((rc = iqp_msg_init(&m, &h, arena, sizeof(arena))))
		return rc;
	iqp_add_error(&m, &err);
	if (code == IQP_ERR_VERSION) /* 3.5 check 2, 5.2 item 4 */
		iqp_add_u16(&m, NULL, IQP_E_VERSION, IQP_VERSION_1_0);
	rc = iqp_msg_encode(&m, buf, cap, len);
	iqp_msg_free(&m);
	return rc;
}

static void on_closed(uv_handle_t *h)
{
	struct iqp_conn *c = h->data;
	if (--c->handles)
		return;
	if (c->secure)
		iqp_tls_free(&c->tls);
	iqp_framer_free(&c->framer);
	free(c);
}

static void finish(struct iqp_conn *c)
{
	if (c->finished)
		return;
	c->finished = true;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
	uv_close((uv_handle_t *)&c->timer, on_closed);
}

/* The connection ends by itself: tell the owner once, then close. */
static void fail_tls(struct iqp_conn *c, unsigned code, bool tls, bool auth,
		     const char *text)
{
	struct iqp_conn_end end;

	if (c->closing)
		return;
	memset(&end, 0, sizeof(end));
	end.code = code;
	end.tls = tls;
	end.auth = auth;
	snprintf(end.text, sizeof(end.text), "%s", text);
	begin_close(c, code, text);
	c->ops->down(c->arg, &end);
}

static void fail(struct iqp_conn *c, unsigned code, bool auth, const char *text)
{
	fail_tls(c, code, false, auth, text);
}

static void on_written(uv_write_t *req, int status)
{
	struct wblock *b = req->data;
	struct iqp_conn *c = b->c;

	free(b);
	if (status < 0 && status != UV_ECANCELED) {
		if (c->closing)
			finish(c);
		else
			fail(c, 0, false, uv_strerror(status));
	}
}

static struct wblock *wblock_new(struct iqp_conn *c, size_t len)
{
	struct wblock *b = malloc(sizeof(*b) + len);

	if (b) {
		b->c = c;
		b->len = len;
		b->req.data = b;
	}
	return b;
}

static int wblock_write(struct iqp_conn *c, struct wblock *b)
{
	uv_buf_t ub = uv_buf_init((char *)b->buf, (unsigned)b->len);
	int rc = uv_write(&b->req, (uv_stream_t *)&c->tcp, &ub, 1, on_written);

	if (rc) {
		free(b);
		return -rc;
	}
	return 0;
}

static int write_raw(struct iqp_conn *c, const uint8_t *p, size_t len)
{
	struct wblock *b = wblock_new(c, len);

	if (!b)
		return ENOMEM;
	memcpy(b->buf, p, len);
	return wblock_write(c, b);
}

/* Moves TLS output (handshake, records, alerts) to the socket. */
static int flush_tls(struct iqp_conn *c)
{
	size_t n;
	int rc;

	while ((n = iqp_tls_pending(&c->tls))) {
		struct wblock *b = wblock_new(c, n);
		if (!b)
			return ENOMEM;
		if (!(b->len = iqp_tls_take(&c->tls, b->buf, n))) {
			free(b);
			break;
		}
		if ((rc = wblock_write(c, b)))
			return rc;
	}
	return 0;
}

static void on_linger(uv_timer_t *t)
{
	finish(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct iqp_conn *c = req->data;
	if (status < 0)
		finish(c);
}

static void begin_close(struct iqp_conn *c, unsigned code, const char *text)
{
	uint8_t buf[512];
	size_t len;

	if (c->closing)
		return;
	c->closing = true;
	uv_timer_stop(&c->timer);
	if (c->state == C_CONNECTING) {
		finish(c);
		return;
	}
	if (c->state == C_READY && code && !iqp_close_frame(code, text, buf, sizeof(buf), &len)) {
		if (c->secure)
			iqp_tls_write(&c->tls, buf, len);
		else
			write_raw(c, buf, len);
	}
	if (c->secure) {
		iqp_tls_shutdown(&c->tls);
		flush_tls(c);
	}
	/* Half-close after the queued writes, then wait up to the linger for
	 * the peer to close (2.6 item 2). */
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown)) {
		finish(c);
		return;
	}
	c->lingering = true;
	uv_timer_start(&c->timer, on_linger, IQP_CLOSE_LINGER_MS, 0);
}

static void on_tframe(uv_timer_t *t)
{
	struct iqp_conn *c = t->data;
	fail(c, IQP_ERR_FRAME_TIMEOUT, false, "incomplete frame timeout");
}

/* T_FRAME runs while a frame is incomplete, restarted per frame (3.6). */
static void tframe_update(struct iqp_conn *c)
{
	if (c->closing)
		return;
	if (!iqp_framer_partial(&c->framer)) {
		if (c->tframe_on)
			uv_timer_stop(&c->timer);
		c->tframe_on = false;
		return;
	}
	if (!c->tframe_on || c->tframe_mark != iqp_framer_frames(&c->framer)) {
		c->tframe_on = true;
		c->tframe_mark = iqp_framer_frames(&c->framer);
		uv_timer_start(&c->timer, on_tframe, IQP_T_FRAME_MS, 0);
	}
}

static void feed_plain(struct iqp_conn *c, const uint8_t *p, size_t len)
{
	while (len && !c->closing) {
		struct iqp_frame f;
		size_t used = 0;
		int rc = iqp_framer_feed(&c->framer, p, len, &used, &f);
		if (rc == EPROTO) {
			fail(c, c->framer.err.code, false, c->framer.err.text);
			return;
		}
		if (rc) {
			fail(c, 0, false, "out of memory");
			return;
		}
		p += used;
		len -= used;
		if (f.ready)
			c->ops->frame(c->arg, &f);
	}
	tframe_update(c);
}

static void feed_tls(struct iqp_conn *c, const uint8_t *p, size_t len)
{
	int rc = iqp_tls_feed(&c->tls, p, len);

	while (!rc && !c->closing) {
		bool was = c->tls.established;
		size_t got = 0;
		rc = iqp_tls_read(&c->tls, c->pbuf, sizeof(c->pbuf), &got);
		if (flush_tls(c) && !rc)
			rc = EPIPE;
		if (rc)
			break;
		if (!was && c->tls.established) {
			c->state = C_READY;
			if (c->client && c->ops->ready)
				c->ops->ready(c->arg);
			if (c->closing)
				return;
			/* The first plaintext may come with the last flight. */
			if (got)
				feed_plain(c, c->pbuf, got);
			continue;
		}
		if (!got)
			return;
		feed_plain(c, c->pbuf, got);
	}
	if (c->closing)
		return;
	if (rc == ECONNRESET)
		fail(c, 0, false, "closed by peer (close_notify)");
	else if (rc == EPROTO)
		fail_tls(c, 0, true, c->tls.auth_failed, c->tls.why);
	else if (rc)
		fail(c, 0, false, strerror(rc));
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct iqp_conn *c = h->data;
	(void)hint;
	*buf = uv_buf_init((char *)c->rbuf, sizeof(c->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct iqp_conn *c = s->data;
	(void)buf;

	if (n == 0)
		return;
	if (c->closing) {
		/* Discard what follows our CLOSE; the peer closing ends the
		 * linger (2.6 item 2). */
		if (n < 0)
			finish(c);
		return;
	}
	if (n < 0) {
		const char *why = n == UV_EOF ? "closed by peer" : uv_strerror((int)n);
		/* 3.6 item 3: a partial frame is discarded. */
		fail(c, 0, false, iqp_framer_partial(&c->framer)
					  ? "closed by peer inside a frame" : why);
		return;
	}
	if (c->secure)
		feed_tls(c, c->rbuf, (size_t)n);
	else
		feed_plain(c, c->rbuf, (size_t)n);
}

static void sockopts(struct iqp_conn *c)
{
	uv_os_fd_t fd;
	int intvl = 10, cnt = 3;

	uv_tcp_nodelay(&c->tcp, 1);        /* 2.1 item 7 */
	uv_tcp_keepalive(&c->tcp, 1, 30);  /* 2.4: idle 30 s */
	if (!uv_fileno((uv_handle_t *)&c->tcp, &fd)) {
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
}

static struct iqp_conn *conn_new(uv_loop_t *loop, const struct iqp_tls_ctx *tls,
				 const char *expected_name,
				 const struct iqp_conn_ops *ops, void *arg)
{
	struct iqp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (tls) {
		if (iqp_tls_init(&c->tls, tls, expected_name)) {
			free(c);
			return NULL;
		}
		c->secure = true;
	}
	iqp_framer_init(&c->framer);
	c->ops = ops;
	c->arg = arg;
	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	return c;
}

static void set_peer(struct iqp_conn *c, const struct sockaddr *sa)
{
	conf_addr_format(sa, c->peer, sizeof(c->peer));
}

/* TCP is up (client side): start TLS or declare the connection ready. */
static void established(struct iqp_conn *c)
{
	sockopts(c);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
		fail(c, 0, false, "cannot read from the socket");
		return;
	}
	if (!c->secure) {
		c->state = C_READY;
		if (c->ops->ready)
			c->ops->ready(c->arg);
		return;
	}
	c->state = C_HANDSHAKE;
	feed_tls(c, NULL, 0); /* ClientHello */
}

static void on_connect(uv_connect_t *req, int status)
{
	struct iqp_conn *c = req->data;

	if (c->closing)
		return;
	if (status < 0) {
		char why[96];
		snprintf(why, sizeof(why), "connect failed: %s", uv_strerror(status));
		fail(c, 0, false, why);
		return;
	}
	established(c);
}

int iqp_conn_connect(struct iqp_conn **out, uv_loop_t *loop,
		     const struct sockaddr *to, const struct iqp_tls_ctx *tls,
		     const char *expected_name, const struct iqp_conn_ops *ops,
		     void *arg)
{
	struct iqp_conn *c = conn_new(loop, tls, expected_name, ops, arg);
	int rc;

	if (!c)
		return ENOMEM;
	c->client = true;
	set_peer(c, to);
	c->creq.data = c;
	if ((rc = uv_tcp_connect(&c->creq, &c->tcp, to, on_connect))) {
		c->closing = true;
		finish(c);
		return -rc;
	}
	*out = c;
	return 0;
}

int iqp_conn_accept(struct iqp_conn **out, uv_loop_t *loop,
		    uv_stream_t *server, const struct iqp_tls_ctx *tls,
		    const struct iqp_conn_ops *ops, void *arg)
{
	struct iqp_conn *c = conn_new(loop, tls, NULL, ops, arg);
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;

	if (!c)
		return ENOMEM;
	if ((rc = uv_accept(server, (uv_stream_t *)&c->tcp)) ||
	    (rc = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len)) ||
	    (rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))) {
		c->closing = true;
		finish(c);
		return -rc;
	}
	set_peer(c, (struct sockaddr *)&ss);
	sockopts(c);
	c->state = c->secure ? C_HANDSHAKE : C_READY;
	*out = c;
	return 0;
}

int iqp_conn_send(struct iqp_conn *c, const uint8_t *frame, size_t len)
{
	if (c->closing || c->state != C_READY)
		return ENOTCONN;
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > IQP_CONN_MAX_QUEUED)
		return ENOBUFS;
	if (!c->secure)
		return write_raw(c, frame, len);
	if (iqp_tls_write(&c->tls, frame, len))
		return EPROTO;
	return flush_tls(c);
}

void iqp_conn_close(struct iqp_conn *c, unsigned code, const char *text)
{
	begin_close(c, code, text);
}

void iqp_conn_set_limits(struct iqp_conn *c, uint32_t max_frame,
			 uint8_t major, unsigned user_timeout_ms)
{
	uv_os_fd_t fd;

	iqp_framer_set_max_frame(&c->framer, max_frame);
	iqp_framer_lock_major(&c->framer, major);
	if (user_timeout_ms && !uv_fileno((uv_handle_t *)&c->tcp, &fd))
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
			   sizeof(user_timeout_ms));
}

const char *iqp_conn_peer(const struct iqp_conn *c)
{
	return c->peer;
}

bool iqp_conn_secure(const struct iqp_conn *c)
{
	return c->secure;
}

bool iqp_conn_peer_has_name(const struct iqp_conn *c, const char *name)
{
	return c->secure && c->tls.established && iqp_tls_peer_has_name(&c->tls, name);
}

const char *iqp_conn_peer_fingerprint(const struct iqp_conn *c)
{
	return c->secure ? c->tls.peer_fp : "";
}
