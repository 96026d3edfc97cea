/* Batched UDP I/O for the media path: recvmmsg drains up to UDP_BATCH
 * datagrams per wake-up, and packets produced while handling them are
 * queued and leave with sendmmsg, grouped by socket, once the batch is
 * handled.  No allocation per packet; one syscall per batch each way.
 * The receive vector adapts per socket (doubled while it comes back
 * full, from one only for a socket with a backlog; else the count that
 * came): a socket with one packet per wake-up
 * (a stream at 50 packets/s) costs one recvfrom, not a recvmmsg that tries
 * again and finds the queue empty; a run of one packet leaves with
 * sendto.
 *
 * Buffers live in one struct udp_io per loop (the daemon root owns it), not
 * per socket: thousands of sockets share them because the loop runs one
 * callback at a time.
 *
 * The sockets are on the udp_io's own epoll set, not libuv handles: the
 * worker's loop is media_loop_run (media_loop.h), which waits on that set
 * with libuv's loop inside it, so a datagram reaches its socket straight
 * from epoll_wait's event (no watcher table, no libuv iteration per
 * wake-up). */
#ifndef AGW_UDP_BATCH_H
#define AGW_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define UDP_BATCH 32 /* <= 255: udp_sock.rx_want is a byte */
#define UDP_HINTS 18
#define UDP_MTU 1500 /* bigger datagrams are truncated and dropped */

struct udp_sock;

/* One received datagram; buf is borrowed until the handler returns. */
typedef void (udp_recv_h)(void *arg, struct udp_sock *s, uint8_t *buf, size_t len,
			  const struct sockaddr *from);

/* Which back end carries the media sockets: io_uring (udp_uring.h) where
 * the kernel allows it, else the epoll set; auto: the first that works. */
enum udp_io_mode { UDP_IO_AUTO, UDP_IO_URING, UDP_IO_EPOLL };

struct udp_io {
	uv_loop_t *loop;
	int epfd;                   /* owned: the media sockets' epoll set; -1 with io_uring */
	struct udp_uring *ur;       /* owned: the io_uring back end; NULL with epoll */
	int uring_err;              /* AUTO that fell back to epoll: why (an errno value) */
	unsigned n_open;            /* sockets on it, closing ones included */
	struct udp_sock *closing;   /* closed, fd and on_closed not yet run */
	/* receive side */
	struct mmsghdr rx_msg[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sockaddr_storage rx_from[UDP_BATCH];
	uint8_t rx_buf[UDP_BATCH][UDP_MTU];
	/* transmit side: queued during a batch, flushed after it */
	struct mmsghdr tx_msg[UDP_BATCH];
	struct iovec tx_iov[UDP_BATCH];
	struct sockaddr_storage tx_to[UDP_BATCH];
	uint8_t tx_buf[UDP_BATCH][UDP_MTU];
	struct udp_sock *tx_sock[UDP_BATCH];
	unsigned tx_n;
	/* counters */
	uint64_t rx_packets, rx_batches, tx_packets, tx_syscalls, rx_truncated, tx_errors;
	uint64_t rx_nobufs;         /* io_uring: receives ended for want of buffers */
	uint64_t uring_errors;      /* io_uring: a re-arm that failed */
};

struct udp_sock {
	/* What a datagram reads first, in the first 40 bytes (one cache
	 * line wherever the socket is embedded); the rest after it. */
	int fd;
	uint8_t rx_want;      /* datagrams asked for at the next wake-up, 1..UDP_BATCH */
	uint8_t closing : 1;
	uint8_t armed : 1;    /* io_uring: a receive is outstanding (udp_uring.h) */
	uint16_t rx_last_ms;  /* low 16 bits of the loop time of the last receive */
	struct udp_io *io;          /* borrowed */
	udp_recv_h *recv;
	void *arg;
	void (*on_closed)(struct udp_sock *s); /* may be NULL */
	struct udp_sock *next_closing;
	/* Lines the last datagram's handler read (its owner writes them,
	 * term_w3.c): prefetched by the media loop one event ahead of this
	 * socket's (udp_sock_prefetch), so that they arrive while the
	 * previous socket's datagram is handled instead of one after another
	 * as the handler follows its pointers.  Borrowed and possibly stale:
	 * a prefetch neither faults nor changes anything. */
	const void *hint[UDP_HINTS];
	struct sockaddr_storage bound;
};

/* mode AUTO takes io_uring when the kernel allows it, else epoll; URING
 * fails where it cannot be had.  Returns 0 or an errno value (for URING,
 * udp_uring_init's). */
int udp_io_init(struct udp_io *io, uv_loop_t *loop, enum udp_io_mode mode);
/* "io_uring" or "epoll": the back end init chose. */
const char *udp_io_backend(const struct udp_io *io);
/* Closes the epoll set; every socket must have been closed and reaped. */
void udp_io_free(struct udp_io *io);

/* Prefetches the socket's own lines up to the end of its hints (what
 * udp_sock_prefetch then reads), one stage before udp_sock_prefetch. */
static inline void udp_sock_prefetch_head(const struct udp_sock *s)
{
	const char *c = (const char *)s;
	const size_t end = offsetof(struct udp_sock, hint) + sizeof(s->hint);

	for (size_t off = 0; off < end; off += 64)
		__builtin_prefetch(c + off);
	__builtin_prefetch(c + end - 1);
}

/* Prefetches the lines s's last handler read (s->hint), for the caller to
 * issue one event ahead of udp_io_readable(s): the translations and lines
 * then arrive while the previous socket's datagram is received and
 * relayed, not in front of this one's. */
static inline void udp_sock_prefetch(const struct udp_sock *s)
{
	for (unsigned i = 0; i < UDP_HINTS; i++)
		if (s->hint[i])
			__builtin_prefetch(s->hint[i]);
}

/* Handles one epoll event of a socket (data.ptr): drains it, runs the
 * handlers, flushes.  A socket closed earlier in the same batch of
 * events is skipped (its memory lives until udp_io_reap). */
void udp_io_readable(struct udp_sock *s);

/* Closes the fds of sockets closed since the last call and runs their
 * on_closed; after each batch of events, outside any handler. */
void udp_io_reap(struct udp_io *io);

/* Binds a non-blocking UDP socket on addr (port 0: any) and starts
 * receiving.  Returns 0 or an errno value (EADDRINUSE when taken). */
int udp_sock_open(struct udp_sock *s, struct udp_io *io, const struct sockaddr *addr,
		  udp_recv_h *recv, void *arg);

/* Queues one datagram (copied) for sendmmsg; flushed at the end of the
 * current receive batch, or when the queue is full.  Outside a receive
 * callback call udp_io_flush.  Returns 0, EMSGSIZE, or an errno of the
 * flush. */
int udp_sock_send(struct udp_sock *s, const uint8_t *buf, size_t len,
		  const struct sockaddr *to);

/* Sends everything queued (sendmmsg per run of the same socket). */
void udp_io_flush(struct udp_io *io);

/* Stops receiving at once; the fd is closed and on_closed (if set) runs
 * at the next udp_io_reap, outside the caller's stack. */
void udp_sock_close(struct udp_sock *s);

#endif
