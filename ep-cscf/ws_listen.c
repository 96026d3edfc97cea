/* Listening socket that accepts only while its owner has room. */
#include "ws_listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RETRY_MS 100 /* after running out of descriptors or memory */

static void on_readable(uv_poll_t *h, int status, int events);

static void start_polling(struct ws_listen *l)
{
	if (l->fd >= 0 && !l->polling && !uv_poll_start(&l->poll, UV_READABLE, on_readable))
		l->polling = 1;
}

static void stop_polling(struct ws_listen *l)
{
	if (l->polling) {
		uv_poll_stop(&l->poll);
		l->polling = 0;
	}
}

static void on_retry(uv_timer_t *t)
{
	start_polling(t->data);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct ws_listen *l = h->data;
	(void)status;
	(void)events;

	while (l->fd >= 0) {
		if (!l->room(l->arg)) {
			stop_polling(l); /* until ws_listen_resume */
			return;
		}
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Polling would spin: the connection stays queued. */
				stop_polling(l);
				uv_timer_start(&l->retry, on_retry, RETRY_MS, 0);
			}
			return; /* EAGAIN: all taken */
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		l->accept(l->arg, l, fd, (const struct sockaddr *)&ss);
	}
}

int ws_listen_open(struct ws_listen *l, uv_loop_t *loop, const struct conf_addr *a,
		   int backlog, ws_listen_accept_h *accept, ws_listen_room_h *room,
		   void *arg, char *err, size_t errlen)
{
	char text[80];
	int one = 1, rc;

	memset(l, 0, sizeof(*l));
	l->accept = accept;
	l->room = room;
	l->arg = arg;
	conf_addr_format((const struct sockaddr *)&a->ss, text, sizeof(text));
	l->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", text,
			 uv_strerror(uv_translate_sys_error(rc)));
		return rc;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(l->fd, (const struct sockaddr *)&a->ss, a->len) || listen(l->fd, backlog)) {
		rc = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", text,
			 uv_strerror(uv_translate_sys_error(rc)));
		close(l->fd);
		l->fd = -1;
		return rc;
	}
	if ((rc = uv_poll_init(loop, &l->poll, l->fd))) {
		snprintf(err, errlen, "cannot poll %s: %s", text, uv_strerror(rc));
		close(l->fd);
		l->fd = -1;
		return EIO;
	}
	l->handles = 1;
	uv_timer_init(loop, &l->retry);
	l->handles = 2;
	l->poll.data = l->retry.data = l;
	start_polling(l);
	return 0;
}

void ws_listen_resume(struct ws_listen *l)
{
	if (l->handles == 2 && !uv_is_active((uv_handle_t *)&l->retry))
		start_polling(l);
}

int ws_listen_port(const struct ws_listen *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (l->fd < 0 || getsockname(l->fd, (struct sockaddr *)&ss, &sl))
		return -1;
	return ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					: ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void ws_listen_close(struct ws_listen *l)
{
	stop_polling(l);
	if (l->handles >= 1)
		uv_close((uv_handle_t *)&l->poll, NULL);
	if (l->handles >= 2)
		uv_close((uv_handle_t *)&l->retry, NULL);
	l->handles = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
