/* The media loop: media sockets and libuv's handles on one thread, the
 * loop ending when both are done; libuv timers, watchers a media handler
 * starts, and closes inside a batch. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "media_loop.h"
#include "udp_batch.h"
#include "udp_io_modes.h"

struct ctx {
	uv_loop_t loop;
	struct udp_io *io;
	struct udp_sock a, b;
	uv_timer_t timer;
	uv_poll_t pipe_poll;
	int pipe_fd[2];
	unsigned got_a, got_b, timer_fired, pipe_seen, closed;
	uint64_t sent_ms, timer_ms;
};

static const struct sockaddr_in any = { .sin_family = AF_INET,
					.sin_addr.s_addr = 0x0100007f /* 127.0.0.1 */ };

static void setup(struct ctx *c, void **state)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	assert_non_null(c->io = calloc(1, sizeof(*c->io)));
	udp_io_init_or_skip(c->io, &c->loop, state);
}

static void teardown(struct ctx *c)
{
	udp_io_free(c->io);
	free(c->io);
	assert_int_equal(uv_loop_close(&c->loop), 0);
}

static void on_closed(struct udp_sock *s)
{
	struct ctx *c = s->arg;
	c->closed++;
}

/* --- a libuv timer fires while only media sockets wait -------------------- */

static void on_timer_close(uv_timer_t *t)
{
	struct ctx *c = t->data;
	c->timer_fired++;
	c->timer_ms = uv_now(&c->loop);
	udp_sock_close(&c->a);
}

static void test_timer_while_media_idle(void **state)
{
	struct ctx c;
	setup(&c, state);
	assert_int_equal(udp_sock_open(&c.a, c.io, (struct sockaddr *)&any, NULL, &c), 0);
	c.a.on_closed = on_closed;
	uv_timer_init(&c.loop, &c.timer);
	c.timer.data = &c;
	c.sent_ms = uv_now(&c.loop);
	uv_timer_start(&c.timer, on_timer_close, 30, 0);
	assert_int_equal(media_loop_run(&c.loop, c.io), 0);
	/* The timerfd woke the set; the socket it closed was reaped. */
	assert_int_equal(c.timer_fired, 1);
	assert_true(c.timer_ms >= c.sent_ms + 30);
	assert_true(c.timer_ms < c.sent_ms + 1000);
	assert_int_equal(c.closed, 1);
	assert_int_equal(c.io->n_open, 0);
	uv_close((uv_handle_t *)&c.timer, NULL);
	uv_run(&c.loop, UV_RUN_NOWAIT);
	teardown(&c);
}

/* --- a watcher started by a media handler is served ----------------------- */

static void on_pipe(uv_poll_t *p, int status, int events)
{
	struct ctx *c = p->data;
	(void)status;
	(void)events;
	c->pipe_seen++;
	uv_poll_stop(p);
	uv_close((uv_handle_t *)p, NULL);
	uv_close((uv_handle_t *)&c->timer, NULL);
	udp_sock_close(&c->a);
	udp_sock_close(&c->b);
}

static void on_guard(uv_timer_t *t)
{
	struct ctx *c = t->data;
	c->timer_fired++;
	uv_close((uv_handle_t *)&c->pipe_poll, NULL);
	uv_close((uv_handle_t *)t, NULL);
	udp_sock_close(&c->a);
	udp_sock_close(&c->b);
}

static void on_a(void *arg, struct udp_sock *s, uint8_t *buf, size_t len, const struct sockaddr *from)
{
	struct ctx *c = arg;
	(void)s;
	(void)buf;
	(void)len;
	(void)from;
	c->got_a++;
	/* Start watching an fd that is already readable: libuv applies the
	 * watcher only at its next pass, which the loop must run although
	 * no libuv fd is ready and no timer is due. */
	assert_int_equal(pipe(c->pipe_fd), 0);
	assert_int_equal(write(c->pipe_fd[1], "x", 1), 1);
	uv_poll_init(&c->loop, &c->pipe_poll, c->pipe_fd[0]);
	c->pipe_poll.data = c;
	uv_poll_start(&c->pipe_poll, UV_READABLE, on_pipe);
}

static void test_watcher_from_media_handler(void **state)
{
	struct ctx c;
	setup(&c, state);
	/* Unless libuv's pass runs right after the handler, the loop sleeps
	 * until this timer: no libuv fd is ready and the pipe is not yet in
	 * libuv's set. */
	uv_timer_init(&c.loop, &c.timer);
	c.timer.data = &c;
	uv_timer_start(&c.timer, on_guard, 3000, 0);
	assert_int_equal(udp_sock_open(&c.a, c.io, (struct sockaddr *)&any, on_a, &c), 0);
	assert_int_equal(udp_sock_open(&c.b, c.io, (struct sockaddr *)&any, NULL, &c), 0);
	c.a.on_closed = c.b.on_closed = on_closed;
	assert_int_equal(udp_sock_send(&c.b, (const uint8_t *)"ping", 4, (struct sockaddr *)&c.a.bound), 0);
	udp_io_flush(c.io);
	assert_int_equal(media_loop_run(&c.loop, c.io), 0);
	assert_int_equal(c.got_a, 1);
	assert_int_equal(c.pipe_seen, 1);
	assert_int_equal(c.timer_fired, 0);
	assert_int_equal(c.closed, 2);
	close(c.pipe_fd[0]);
	close(c.pipe_fd[1]);
	teardown(&c);
}

/* --- a socket closed by an earlier event of the same batch ---------------- */

static void on_either(void *arg, struct udp_sock *s, uint8_t *buf, size_t len,
		      const struct sockaddr *from)
{
	struct ctx *c = arg;
	(void)buf;
	(void)len;
	(void)from;
	if (s == &c->a)
		c->got_a++;
	else
		c->got_b++;
	/* Whichever comes first closes both: the other's pending event in
	 * this batch must be skipped, its memory still valid. */
	udp_sock_close(&c->a);
	udp_sock_close(&c->b);
}

static void test_close_within_batch(void **state)
{
	struct ctx c;
	struct udp_sock tx;
	setup(&c, state);
	assert_int_equal(udp_sock_open(&c.a, c.io, (struct sockaddr *)&any, on_either, &c), 0);
	assert_int_equal(udp_sock_open(&c.b, c.io, (struct sockaddr *)&any, on_either, &c), 0);
	assert_int_equal(udp_sock_open(&tx, c.io, (struct sockaddr *)&any, NULL, &c), 0);
	c.a.on_closed = c.b.on_closed = on_closed;
	tx.on_closed = NULL;
	assert_int_equal(udp_sock_send(&tx, (const uint8_t *)"1", 1, (struct sockaddr *)&c.a.bound), 0);
	assert_int_equal(udp_sock_send(&tx, (const uint8_t *)"2", 1, (struct sockaddr *)&c.b.bound), 0);
	udp_io_flush(c.io);
	udp_sock_close(&tx);
	usleep(20000); /* both datagrams queued: one wait returns both */
	assert_int_equal(media_loop_run(&c.loop, c.io), 0);
	assert_int_equal(c.got_a + c.got_b, 1);
	assert_int_equal(c.closed, 2);
	assert_int_equal(c.io->n_open, 0);
	teardown(&c);
}

/* --- nothing open: returns at once ----------------------------------------- */

static void test_empty_returns(void **state)
{
	struct ctx c;
	setup(&c, state);
	assert_int_equal(media_loop_run(&c.loop, c.io), 0);
	/* libuv's loop is usable afterwards (its fd left the set). */
	assert_int_equal(uv_run(&c.loop, UV_RUN_DEFAULT), 0);
	teardown(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ON_BOTH(test_timer_while_media_idle),
		ON_BOTH(test_watcher_from_media_handler),
		ON_BOTH(test_close_within_batch),
		ON_BOTH(test_empty_returns),
	};
	return cmocka_run_group_tests_name("media_loop", tests, NULL, NULL);
}
