/* Batched UDP I/O over loopback, on both back ends (epoll: recvmmsg
 * drains many datagrams per wake-up and replies leave with few sendmmsg
 * calls; io_uring: one enter per pass): batching, limits, truncation. */
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

#define N_PACKETS 200

struct ctx {
	struct udp_sock echo, client;
	unsigned echoed, back;
	int bad;
};

static void on_echo(void *arg, struct udp_sock *s, uint8_t *buf, size_t len,
		    const struct sockaddr *from)
{
	struct ctx *c = arg;
	c->echoed++;
	assert_int_equal(udp_sock_send(s, buf, len, from), 0);
}

static void on_back(void *arg, struct udp_sock *s, uint8_t *buf, size_t len,
		    const struct sockaddr *from)
{
	struct ctx *c = arg;
	(void)s;
	(void)from;
	/* Each echo must come back whole and unchanged. */
	if (len != 100 || buf[0] != (uint8_t)(buf[1] ^ 0x5a))
		c->bad++;
	if (++c->back == N_PACKETS) {
		udp_sock_close(&c->echo);
		udp_sock_close(&c->client);
	}
}

static void test_echo_batched(void **state)
{
	uv_loop_t loop;
	struct udp_io *io = calloc(1, sizeof(*io)); /* ~200 KiB: not on the stack */
	struct ctx c = { 0 };
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	assert_non_null(io);
	assert_int_equal(uv_loop_init(&loop), 0);
	udp_io_init_or_skip(io, &loop, state);
	assert_int_equal(udp_sock_open(&c.echo, io, (struct sockaddr *)&any, on_echo, &c), 0);
	assert_int_equal(udp_sock_open(&c.client, io, (struct sockaddr *)&any, on_back, &c), 0);
	/* Prefetch hints are only hints: stale, unmapped or absurd
	 * addresses change nothing (a prefetch never faults). */
	c.echo.hint[0] = (const void *)16;
	c.echo.hint[1] = (const void *)~(uintptr_t)0;
	c.client.hint[UDP_HINTS - 1] = (const void *)(uintptr_t)0xdead0000;

	/* Queue every request before the loop runs, so they arrive together. */
	uint8_t pkt[100];
	for (unsigned i = 0; i < N_PACKETS; i++) {
		memset(pkt, 0, sizeof(pkt));
		pkt[1] = (uint8_t)i;
		pkt[0] = (uint8_t)(i ^ 0x5a);
		assert_int_equal(udp_sock_send(&c.client, pkt, sizeof(pkt),
					       (struct sockaddr *)&c.echo.bound), 0);
	}
	udp_io_flush(io);
	assert_int_equal(media_loop_run(&loop, io), 0);
	udp_io_free(io);

	assert_int_equal(c.echoed, N_PACKETS);
	assert_int_equal(c.back, N_PACKETS);
	assert_int_equal(c.bad, 0);
	/* Batching happened: far fewer syscalls than packets each way. */
	assert_true(io->rx_batches * 4 <= io->rx_packets);
	assert_true(io->tx_syscalls * 4 <= io->tx_packets);
	assert_int_equal(io->tx_errors, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(io);
}

static void test_limits(void **state)
{
	uv_loop_t loop;
	struct udp_io *io = calloc(1, sizeof(*io));
	struct udp_sock a, b;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t big[UDP_MTU + 1] = { 0 };

	assert_non_null(io);
	assert_int_equal(uv_loop_init(&loop), 0);
	udp_io_init_or_skip(io, &loop, state);
	assert_int_equal(udp_sock_open(&a, io, (struct sockaddr *)&any, NULL, NULL), 0);
	assert_int_equal(udp_sock_send(&a, big, sizeof(big), (struct sockaddr *)&a.bound), EMSGSIZE);
	/* The same port twice: the second bind fails with EADDRINUSE. */
	assert_int_equal(udp_sock_open(&b, io, (struct sockaddr *)&a.bound, NULL, NULL), EADDRINUSE);
	/* Packets queued for a socket that closes are never sent. */
	assert_int_equal(udp_sock_send(&a, big, 10, (struct sockaddr *)&a.bound), 0);
	udp_sock_close(&a);
	assert_int_equal(io->tx_n, 0);
	assert_int_equal(media_loop_run(&loop, io), 0);
	udp_io_free(io);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(io);
}

static void count_rx(void *arg, struct udp_sock *s, uint8_t *buf, size_t len,
		     const struct sockaddr *from)
{
	(void)s;
	(void)buf;
	(void)len;
	(void)from;
	(*(unsigned *)arg)++;
}

struct trunc_ctx {
	struct udp_sock rx;
	size_t lens[4];
	unsigned n;
};

static void on_trunc(void *arg, struct udp_sock *s, uint8_t *buf, size_t len,
		     const struct sockaddr *from)
{
	struct trunc_ctx *c = arg;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)from;
	(void)buf;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* The handler may grow the packet in place up to UDP_MTU. */
	memset(buf + len, 0xa5, UDP_MTU - len);
	if (c->n < 4)
		c->lens[c->n] = len;
	if (++c->n == 2)
		udp_sock_close(s);
}

/* A datagram over UDP_MTU is counted and dropped, never handed on cut
 * short; one of exactly UDP_MTU and a small one after it arrive whole,
 * with their source. */
static void test_truncated_dropped(void **state)
{
	uv_loop_t loop;
	struct udp_io *io = calloc(1, sizeof(*io));
	struct trunc_ctx c = { 0 };
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static uint8_t pkt[UDP_MTU + 100];

	assert_non_null(io);
	assert_int_equal(uv_loop_init(&loop), 0);
	udp_io_init_or_skip(io, &loop, state);
	assert_int_equal(udp_sock_open(&c.rx, io, (struct sockaddr *)&any, on_trunc, &c), 0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	const struct sockaddr *to = (const struct sockaddr *)&c.rx.bound;
	assert_int_equal(sendto(fd, pkt, UDP_MTU + 1, 0, to, sizeof(struct sockaddr_in)), UDP_MTU + 1);
	assert_int_equal(sendto(fd, pkt, UDP_MTU, 0, to, sizeof(struct sockaddr_in)), UDP_MTU);
	assert_int_equal(sendto(fd, pkt, 12, 0, to, sizeof(struct sockaddr_in)), 12);
	assert_int_equal(media_loop_run(&loop, io), 0);
	close(fd);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.lens[0], UDP_MTU);
	assert_int_equal(c.lens[1], 12);
	assert_int_equal(io->rx_truncated, 1);
	udp_io_free(io);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(io);
}

/* The receive vector grows by doubling from whatever the last batch was;
 * from a count that is not a power of two (a short batch of 20) a full
 * batch must not ask for 40 into vectors of UDP_BATCH (a flood did, and
 * recvmmsg's headers were written past the array). */
static void test_rx_want_capped(void **state)
{
	uv_loop_t loop;
	struct udp_io *io = calloc(1, sizeof(*io));
	struct udp_sock rx, tx;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t pkt[40] = { 0 };
	unsigned got = 0;
	(void)state;

	assert_non_null(io);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(udp_io_init(io, &loop, UDP_IO_EPOLL), 0);
	assert_int_equal(udp_sock_open(&rx, io, (struct sockaddr *)&any, count_rx, &got), 0);
	assert_int_equal(udp_sock_open(&tx, io, (struct sockaddr *)&any, NULL, NULL), 0);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 3 * UDP_BATCH; i++) /* flushes when full */
			assert_int_equal(udp_sock_send(&tx, pkt, sizeof(pkt), (struct sockaddr *)&rx.bound), 0);
		udp_io_flush(io);
		rx.rx_want = 20 + round; /* as after a short batch */
		/* Every read drains at least one datagram: bounded. */
		for (unsigned tries = 0; got < 3 * UDP_BATCH * (round + 1) && tries < 3 * UDP_BATCH; tries++) {
			udp_io_readable(&rx);
			assert_true(rx.rx_want >= 1 && rx.rx_want <= UDP_BATCH);
		}
	}
	assert_int_equal(got, 9 * UDP_BATCH);
	udp_sock_close(&rx);
	udp_sock_close(&tx);
	assert_int_equal(media_loop_run(&loop, io), 0);
	udp_io_free(io);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(io);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ON_BOTH(test_echo_batched),
		ON_BOTH(test_limits),
		ON_BOTH(test_truncated_dropped),
		cmocka_unit_test(test_rx_want_capped),
	};
	return cmocka_run_group_tests_name("udp_batch", tests, NULL, NULL);
}
