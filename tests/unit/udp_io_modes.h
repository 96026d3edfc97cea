/* Unit tests of the media sockets run on both back ends: a test's cmocka
 * state points at the udp_io_mode (cmocka_unit_test_prestate). */
#ifndef TEST_UDP_IO_MODES_H
#define TEST_UDP_IO_MODES_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "udp_batch.h"

static const enum udp_io_mode on_epoll = UDP_IO_EPOLL, on_uring = UDP_IO_URING;

#define ON_BOTH(t) cmocka_unit_test_prestate(t, (void *)&on_epoll), \
		   cmocka_unit_test_prestate(t, (void *)&on_uring)

/* udp_io_init in the state's mode.  Where the kernel forbids io_uring
 * (ENOSYS, EPERM: kernel.io_uring_disabled, a container's seccomp
 * filter) an io_uring case is skipped, saying so, before the test has
 * allocated anything; any other failure fails it. */
static inline void udp_io_init_or_skip(struct udp_io *io, uv_loop_t *loop, void **state)
{
	enum udp_io_mode mode = *(const enum udp_io_mode *)*state;
	int rc = udp_io_init(io, loop, mode);
	if (mode == UDP_IO_URING && (rc == ENOSYS || rc == EPERM)) {
		print_message("# io_uring not allowed on this kernel: %s\n", strerror(rc));
		free(io);
		assert_int_equal(uv_loop_close(loop), 0);
		skip();
	}
	assert_int_equal(rc, 0);
}

#endif
