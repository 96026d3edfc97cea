/* The media worker's loop: media sockets and libuv in one epoll set. */
#include "media_loop.h"

#include "udp_uring.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EVENTS 256 /* per epoll_wait: a loaded worker drains more per call */

/* Markers in epoll_event.data.ptr for the two non-socket members. */
static char uv_mark, timer_mark;

static bool is_sock(const void *p)
{
	return p != &uv_mark && p != &timer_mark;
}

struct deadline {
	int fd;          /* owned: the timerfd */
	int64_t armed;   /* loop ms the timerfd is set for; -1 none */
	int64_t fired;   /* the last deadline that went off */
};

/* Sets the timerfd to libuv's next timer, absolute on CLOCK_MONOTONIC
 * (the clock of uv_now).  libuv may read a coarse clock up to a
 * millisecond behind, so a timer can still be pending when its deadline
 * fired: it is then set one millisecond later, not for a deadline
 * already past (which would fire at once, again and again). */
static int arm(struct deadline *d, int64_t at)
{
	if (at >= 0 && at <= d->fired)
		at = d->fired + 1;
	if (at == d->armed)
		return 0;
	struct itimerspec its = { 0 };
	if (at >= 0) {
		its.it_value.tv_sec = at / 1000;
		its.it_value.tv_nsec = (at % 1000) * 1000000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1; /* zero would disarm */
	}
	if (timerfd_settime(d->fd, TFD_TIMER_ABSTIME, &its, NULL))
		return errno;
	d->armed = at;
	return 0;
}

static int add(int epfd, int fd, void *mark)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = mark };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}

int media_loop_run(uv_loop_t *loop, struct udp_io *io)
{
	struct epoll_event ev[EVENTS];
	struct deadline dl = { .armed = -1, .fired = -1 };
	int rc;

	if (io->ur)
		return udp_uring_run(loop, io);

	dl.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (dl.fd < 0)
		return errno;
	if ((rc = add(io->epfd, uv_backend_fd(loop), &uv_mark)) ||
	    (rc = add(io->epfd, dl.fd, &timer_mark)))
		goto out;
	for (;;) {
		udp_io_reap(io); /* closed before the loop ran, or by libuv's pass */
		bool alive = uv_loop_alive(loop);
		if (!alive && !io->n_open)
			break;
		/* A loop with nothing active (only media sockets left) has no
		 * work of its own: wait for media alone.  Otherwise 0 when libuv
		 * has pending, closing or idle work or watcher changes to apply,
		 * else its next timer (-1: none). */
		int t = alive ? uv_backend_timeout(loop) : -1;
		if (t > 0 && (rc = arm(&dl, (int64_t)uv_now(loop) + t)))
			goto out;
		if (t < 0 && (rc = arm(&dl, -1)))
			goto out;
		int n = epoll_wait(io->epfd, ev, EVENTS, t == 0 ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue; /* a signal: libuv's fd says which */
			rc = errno;
			goto out;
		}
		uv_update_time(loop); /* media handlers read uv_now */
		bool run_uv = t == 0;
		/* Two stages ahead of the handler: the socket's own lines for
		 * event i + 2, the lines its handler reads (hints) for i + 1. */
		if (n > 0 && is_sock(ev[0].data.ptr))
			udp_sock_prefetch(ev[0].data.ptr);
		if (n > 1 && is_sock(ev[1].data.ptr))
			udp_sock_prefetch_head(ev[1].data.ptr);
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			if (i + 2 < n && is_sock(ev[i + 2].data.ptr))
				udp_sock_prefetch_head(ev[i + 2].data.ptr);
			if (i + 1 < n && is_sock(ev[i + 1].data.ptr))
				udp_sock_prefetch(ev[i + 1].data.ptr);
			if (p == &uv_mark) {
				run_uv = true;
			} else if (p == &timer_mark) {
				uint64_t expirations;
				if (read(dl.fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN) {
					rc = errno;
					goto out;
				}
				dl.fired = dl.armed;
				dl.armed = -1;
				run_uv = true;
			} else {
				udp_io_readable(p);
			}
		}
		udp_io_reap(io);
		if (run_uv)
			uv_run(loop, UV_RUN_NOWAIT);
	}
	rc = 0;
out:
	epoll_ctl(io->epfd, EPOLL_CTL_DEL, uv_backend_fd(loop), NULL);
	close(dl.fd);
	return rc;
}
