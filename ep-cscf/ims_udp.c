/* UDP socket toward the IMS core. */
#include "ims_udp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct send_req {
	uv_udp_send_t req;
	char buf[];
};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ims_udp *u = h->data;
	(void)hint;
	*buf = uv_buf_init(u->rx, sizeof(u->rx));
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		    const struct sockaddr *from, unsigned flags)
{
	struct ims_udp *u = h->data;
	if (n <= 0 || !from || (flags & UV_UDP_PARTIAL))
		return; /* nothing, error, or truncated: a SIP datagram is whole or nothing */
	u->recv(u->arg, buf->base, (size_t)n, from);
}

int ims_udp_start(struct ims_udp *u, uv_loop_t *loop, const struct conf_addr *addr,
		  ims_udp_recv_h *recv, void *arg, char *err, size_t errlen)
{
	char text[80];
	int rc, len = sizeof(u->bound);

	conf_addr_format((const struct sockaddr *)&addr->ss, text, sizeof(text));
	u->recv = recv;
	u->arg = arg;
	if ((rc = uv_udp_init(loop, &u->sock))) {
		snprintf(err, errlen, "%s: %s", text, uv_strerror(rc));
		return -rc;
	}
	u->sock.data = u;
	u->open = 1;
	if ((rc = uv_udp_bind(&u->sock, (const struct sockaddr *)&addr->ss, 0)) ||
	    (rc = uv_udp_recv_start(&u->sock, on_alloc, on_recv))) {
		snprintf(err, errlen, "cannot listen on %s: %s", text, uv_strerror(rc));
		return -rc;
	}
	uv_udp_getsockname(&u->sock, (struct sockaddr *)&u->bound, &len);
	return 0;
}

static void on_sent(uv_udp_send_t *req, int status)
{
	(void)status; /* UDP: loss is the transaction layer's business */
	free(req);
}

int ims_udp_send(struct ims_udp *u, const char *buf, size_t len,
		 const struct sockaddr *to)
{
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc;

	if (!u->open)
		return ENOTCONN;
	rc = uv_udp_try_send(&u->sock, &b, 1, to);
	if (rc == (int)len)
		return 0;
	if (rc != UV_EAGAIN)
		return rc < 0 ? -rc : EIO;
	struct send_req *r = malloc(sizeof(*r) + len);
	if (!r)
		return ENOMEM;
	memcpy(r->buf, buf, len);
	b = uv_buf_init(r->buf, (unsigned)len);
	if ((rc = uv_udp_send(&r->req, &u->sock, &b, 1, to, on_sent))) {
		free(r);
		return -rc;
	}
	return 0;
}

void ims_udp_close(struct ims_udp *u)
{
	if (!u->open)
		return;
	u->open = 0;
	uv_close((uv_handle_t *)&u->sock, NULL);
}
