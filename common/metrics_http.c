/* The /metrics and /healthz HTTP endpoint on libuv. */
#include "metrics_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

#define HEAD_MAX 8192
#define DEFAULT_MAX_CONNS 64
#define DEFAULT_IDLE_MS 10000

struct metrics_http_conn {
	struct metrics_http_conn *prev, *next;
	struct metrics_http *srv;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	char *resp; /* owned response buffer while a write is in flight */
	char buf[HEAD_MAX];
	size_t len;
	int handles_open; /* tcp + timer; freed when it reaches 0 */
	int closing;
};

static void maybe_finished(struct metrics_http *h)
{
	if (!h->open && !h->listener_open && h->n_conns == 0 && h->on_closed) {
		void (*cb)(void *) = h->on_closed;
		h->on_closed = NULL;
		cb(h->on_closed_arg);
	}
}

static void conn_handle_closed(uv_handle_t *handle)
{
	struct metrics_http_conn *c = handle->data;
	if (--c->handles_open)
		return;
	struct metrics_http *h = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->n_conns--;
	free(c->resp);
	free(c);
	maybe_finished(h);
}

static void conn_close(struct metrics_http_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
	struct metrics_http_conn *c = req->data;
	(void)status;
	conn_close(c);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

/* Takes ownership of body (may be NULL). */
static void respond(struct metrics_http_conn *c, int status,
		    const char *ctype, char *body, size_t body_len, int head_only)
{
	char head[256];
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			  "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
			  status, reason(status), ctype, body_len,
			  status == 405 ? "Allow: GET, HEAD\r\n" : "");
	size_t total = (size_t)hl + (head_only ? 0 : body_len);

	uv_read_stop((uv_stream_t *)&c->tcp);
	c->resp = malloc(total);
	if (!c->resp) {
		free(body);
		conn_close(c);
		return;
	}
	memcpy(c->resp, head, (size_t)hl);
	if (!head_only && body_len)
		memcpy(c->resp + hl, body, body_len);
	free(body);
	uv_buf_t b = uv_buf_init(c->resp, (unsigned)total);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written))
		conn_close(c);
}

static void respond_text(struct metrics_http_conn *c, int status,
			 const char *text, int head_only)
{
	char *body = strdup(text);
	respond(c, status, "text/plain; charset=utf-8", body, body ? strlen(text) : 0,
		head_only);
}

static void handle_request(struct metrics_http_conn *c,
			   const struct http_request *req)
{
	struct metrics_http *h = c->srv;
	int head_only = !strcmp(req->method, "HEAD");

	metric_inc(h->m_requests);
	if (strcmp(req->method, "GET") && !head_only) {
		respond_text(c, 405, "method not allowed\n", 0);
		return;
	}
	if (!strcmp(req->path, "/metrics")) {
		char *text;
		size_t len;
		if (metrics_render(h->metrics, &text, &len)) {
			respond_text(c, 500, "out of memory\n", head_only);
			return;
		}
		respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len,
			head_only);
	} else if (!strcmp(req->path, "/healthz")) {
		respond_text(c, 200, "ok\n", head_only);
	} else {
		respond_text(c, 404, "not found\n", head_only);
	}
}

static void on_alloc(uv_handle_t *handle, size_t hint, uv_buf_t *buf)
{
	struct metrics_http_conn *c = handle->data;
	(void)hint;
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct metrics_http_conn *c = s->data;
	struct http_request req;
	(void)buf;

	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	int rc = http_request_parse(c->buf, c->len, sizeof(c->buf), &req);
	if (rc < 0)
		return; /* need more */
	if (rc > 0) {
		metric_inc(c->srv->m_rejected);
		log_debug(c->srv->log, c->srv->log_sub, NULL, "bad http request",
			  LF_I("status", rc));
		respond_text(c, rc, "bad request\n", 0);
		return;
	}
	handle_request(c, &req);
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct metrics_http *h = server->data;
	struct metrics_http_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || h->n_conns >= h->max_conns) {
		/* Accept and drop, so the kernel backlog does not fill up. */
		uv_tcp_t *tmp = malloc(sizeof(*tmp));
		free(c);
		metric_inc(h->m_rejected);
		if (!tmp || uv_tcp_init(h->loop, tmp)) {
			free(tmp);
			return;
		}
		uv_accept(server, (uv_stream_t *)tmp);
		uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
		return;
	}
	c->srv = h;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles_open = 2;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_idle, h->idle_ms, 0);
}

static void listener_closed(uv_handle_t *handle)
{
	struct metrics_http *h = handle->data;
	h->listener_open = 0;
	maybe_finished(h);
}

int metrics_http_start(struct metrics_http *h, uv_loop_t *loop,
		       const struct conf_addr *addr, struct metrics *metrics,
		       const struct log *log, unsigned log_sub, char *err,
		       size_t errlen)
{
	char text[64];
	int rc, len;

	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->metrics = metrics;
	h->log = log;
	h->log_sub = log_sub;
	h->max_conns = DEFAULT_MAX_CONNS;
	h->idle_ms = DEFAULT_IDLE_MS;
	h->m_requests = metrics_add(metrics, "metrics_http_requests_total",
				    "Requests served by the metrics endpoint.",
				    METRIC_COUNTER, (const char *)NULL);
	h->m_rejected = metrics_add(metrics, "metrics_http_rejected_total",
				    "Malformed or over-limit requests to the metrics endpoint.",
				    METRIC_COUNTER, (const char *)NULL);
	conf_addr_format((const struct sockaddr *)&addr->ss, text, sizeof(text));
	if ((rc = uv_tcp_init(loop, &h->listener))) {
		snprintf(err, errlen, "metrics.listen %s: %s", text, uv_strerror(rc));
		return -rc;
	}
	h->listener.data = h;
	h->listener_open = 1;
	h->open = 1;
	if ((rc = uv_tcp_bind(&h->listener, (const struct sockaddr *)&addr->ss, 0)) ||
	    (rc = uv_listen((uv_stream_t *)&h->listener, 64, on_connection))) {
		snprintf(err, errlen, "cannot listen on %s: %s", text, uv_strerror(rc));
		metrics_http_close(h, NULL, NULL);
		return -rc;
	}
	len = sizeof(h->bound);
	uv_tcp_getsockname(&h->listener, (struct sockaddr *)&h->bound, &len);
	return 0;
}

void metrics_http_close(struct metrics_http *h, void (*on_closed)(void *arg),
			void *arg)
{
	if (!h->open)
		return;
	h->open = 0;
	h->on_closed = on_closed;
	h->on_closed_arg = arg;
	for (struct metrics_http_conn *c = h->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&h->listener, listener_closed);
}
