/* The io_uring back end of struct udp_io (udp_batch.h): every media socket
 * has one multishot recvmsg outstanding, receiving into a ring of buffers
 * the kernel picks from, and the packets a batch produces leave as one
 * sendmsg request each, all submitted by the same io_uring_enter that
 * waits for the next completions.  One system call per loop pass,
 * however many sockets were readable and however many packets left; the
 * epoll back end costs one receive and one send per packet of a stream at
 * 50 packets/s (udp_batch.c), and that is most of the CPU a relay spends
 * at its capacity (docs/benchmarks.md).
 *
 * The ring is set up single-issuer with deferred task work: the kernel
 * does the receives of every socket that became readable inside that one
 * io_uring_enter, on this thread, not in interrupt context or a worker.
 * Sends carry MSG_DONTWAIT: they complete (or fail with EAGAIN, a drop)
 * inside the submission, so the transmit vectors are free again when
 * io_uring_enter returns, as after sendmmsg; only failures post a
 * completion.
 *
 * Sockets go as plain fds, not registered files: a request on a plain fd
 * takes and drops a reference to the socket's struct file (fget was 5 %
 * of the relay's profile), but with every socket registered (slot = fd)
 * the relay measured 7 % more CPU per packet (docs/benchmarks.md,
 * session 10).
 *
 * A closed socket's receive is cancelled; its memory and fd stay until the
 * receive's last completion has come (udp_io_reap waits for it), since
 * that completion names the socket. */
#ifndef AGW_UDP_URING_H
#define AGW_UDP_URING_H

#include <uv.h>

struct udp_io;
struct udp_sock;

/* Sets up io's ring and receive buffers (io->ur).  Returns 0 or an errno
 * value: ENOSYS or EPERM where the kernel has no io_uring or forbids it
 * (kernel.io_uring_disabled, a seccomp filter), EINVAL where it lacks a
 * feature used here (multishot receive with provided buffers: 6.0; the
 * deferred task work: 6.1). */
int udp_uring_init(struct udp_io *io);
/* Frees the ring; every socket must have been reaped. */
void udp_uring_free(struct udp_io *io);

/* Starts the socket's multishot receive.  Returns 0 or an errno value. */
int udp_uring_arm(struct udp_sock *s);
/* Cancels the socket's receive (udp_sock_close); it stays armed until the
 * receive's last completion. */
void udp_uring_cancel(struct udp_sock *s);


/* Submits a request for each queued datagram (udp_io_flush). */
void udp_uring_flush(struct udp_io *io);

/* The worker's loop on the ring (media_loop_run's io_uring form): libuv's
 * epoll fd is one more request (a poll), its next timer the wait's
 * timeout.  Runs until libuv's loop has no active handles and every
 * media socket is closed.  Returns 0 or an errno value. */
int udp_uring_run(uv_loop_t *loop, struct udp_io *io);

#endif
