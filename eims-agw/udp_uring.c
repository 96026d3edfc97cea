/* The io_uring back end of the media sockets (udp_uring.h). */
#include "udp_uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "page_pool.h"
#include "udp_batch.h"

/* Receive buffers: a power of two (the kernel's buffer ring).  The
 * kernel takes one per datagram and we give it back as soon as the
 * datagram is handled, so they only need to cover one loop pass's
 * datagrams (a pass with more ends the sockets' receives with ENOBUFS;
 * they are re-armed and read what waits in the socket next pass). */
#define RX_BUFS 2048
#define RX_GROUP 0
/* Where the kernel writes a datagram's source: a sockaddr_in6 (28 bytes),
 * rounded up so that the payload after it starts 16-byte aligned. */
#define RX_NAME 32
/* A buffer: the recvmsg header, the source, then UDP_MTU of payload
 * (handlers may grow a packet in place up to UDP_MTU, as with the epoll
 * back end's rx_buf); the stride keeps buffers on cache lines. */
#define RX_LEN (sizeof(struct io_uring_recvmsg_out) + RX_NAME + UDP_MTU)
#define RX_STRIDE ((RX_LEN + 63) & ~(size_t)63)
#define SQ_ENTRIES 1024

/* user_data: a pointer (8-byte aligned) with a kind in its low bits. */
enum { TAG_RECV = 0, TAG_SEND = 1, TAG_UV = 2, TAG_CANCEL = 3, TAG_MASK = 7 };

struct udp_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br; /* owned (page-aligned, registered) */
	uint8_t *bufs;                /* owned: RX_BUFS * RX_STRIDE */
	struct msghdr rx_hdr;         /* the receive template: name and control sizes */
	bool uv_armed;                /* the poll on libuv's fd is outstanding */
};

static struct io_uring_sqe *sqe_get(struct udp_uring *ur)
{
	struct io_uring_sqe *e = io_uring_get_sqe(&ur->ring);
	if (!e) {
		/* Full: submit what is there (receives being armed, a cancel;
		 * never sends, which udp_uring_flush submits at once). */
		io_uring_submit(&ur->ring);
		e = io_uring_get_sqe(&ur->ring);
	}
	return e;
}

int udp_uring_init(struct udp_io *io)
{
	struct udp_uring *ur = calloc(1, sizeof(*ur));
	if (!ur)
		return ENOMEM;
	/* A completion queue for a burst of every socket at once: overflow
	 * is not lost (IORING_FEAT_NODROP) but costs a slow path. */
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
		.cq_entries = 16384,
	};
	int rc = io_uring_queue_init_params(SQ_ENTRIES, &ur->ring, &p);
	if (rc) {
		free(ur);
		return -rc;
	}
	if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_EXT_ARG)) {
		rc = EINVAL;
		goto fail_ring;
	}
	ur->br = aligned_alloc(4096, RX_BUFS * sizeof(struct io_uring_buf));
	/* 3 MiB that every packet passes through, a slot each in turn: on
	 * 4 KiB pages a TLB entry per two or three packets. */
	ur->bufs = page_pool_map(RX_BUFS * RX_STRIDE, NULL);
	if (!ur->br || !ur->bufs) {
		rc = ENOMEM;
		goto fail_mem;
	}
	io_uring_buf_ring_init(ur->br);
	struct io_uring_buf_reg reg = {
		.ring_addr = (unsigned long)ur->br, .ring_entries = RX_BUFS, .bgid = RX_GROUP,
	};
	if ((rc = -io_uring_register_buf_ring(&ur->ring, &reg, 0)))
		goto fail_mem;
	for (unsigned i = 0; i < RX_BUFS; i++)
		io_uring_buf_ring_add(ur->br, ur->bufs + i * RX_STRIDE, RX_LEN, (unsigned short)i,
				      io_uring_buf_ring_mask(RX_BUFS), (int)i);
	io_uring_buf_ring_advance(ur->br, RX_BUFS);
	ur->rx_hdr.msg_namelen = RX_NAME;
	io->ur = ur;
	return 0;
fail_mem:
	free(ur->br);
	page_pool_unmap(ur->bufs, RX_BUFS * RX_STRIDE);
fail_ring:
	io_uring_queue_exit(&ur->ring);
	free(ur);
	return rc;
}

void udp_uring_free(struct udp_io *io)
{
	struct udp_uring *ur = io->ur;
	if (!ur)
		return;
	io_uring_queue_exit(&ur->ring); /* unregisters the buffer ring */
	free(ur->br);
	page_pool_unmap(ur->bufs, RX_BUFS * RX_STRIDE);
	free(ur);
	io->ur = NULL;
}

int udp_uring_arm(struct udp_sock *s)
{
	struct udp_uring *ur = s->io->ur;
	struct io_uring_sqe *e = sqe_get(ur);
	if (!e)
		return EBUSY;
	io_uring_prep_recvmsg_multishot(e, s->fd, &ur->rx_hdr, 0);
	e->flags |= IOSQE_BUFFER_SELECT;
	e->buf_group = RX_GROUP;
	io_uring_sqe_set_data64(e, (uint64_t)(uintptr_t)s | TAG_RECV);
	s->armed = 1;
	return 0;
}

void udp_uring_cancel(struct udp_sock *s)
{
	struct udp_uring *ur = s->io->ur;
	if (!s->armed)
		return;
	struct io_uring_sqe *e = sqe_get(ur);
	if (!e) {
		/* Cannot happen after a submit; were it to, the receive would
		 * end only with the ring, and the socket never be reaped. */
		s->io->tx_errors++;
		return;
	}
	io_uring_prep_cancel64(e, (uint64_t)(uintptr_t)s | TAG_RECV, 0);
	io_uring_sqe_set_data64(e, TAG_CANCEL);
	e->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* Puts a request in the SQ for each queued datagram; the caller submits
 * at once (the queue holds requests only inside udp_uring_flush and the
 * loop's enter: handlers and udp_sock_close see none). */
static void prep_tx(struct udp_io *io)
{
	struct udp_uring *ur = io->ur;
	for (unsigned k = 0; k < io->tx_n; k++) {
		struct io_uring_sqe *e = io_uring_get_sqe(&ur->ring);
		if (!e) {
			io_uring_submit(&ur->ring);
			if (!(e = io_uring_get_sqe(&ur->ring))) {
				io->tx_errors += io->tx_n - k;
				break;
			}
		}
		io_uring_prep_sendmsg(e, io->tx_sock[k]->fd, &io->tx_msg[k].msg_hdr, MSG_DONTWAIT);
		io_uring_sqe_set_data64(e, TAG_SEND);
		e->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io->tx_packets++; /* a failure's completion takes it back */
	}
}

void udp_uring_flush(struct udp_io *io)
{
	if (!io->tx_n)
		return;
	prep_tx(io);
	/* The sends complete inside the submission (MSG_DONTWAIT): after it
	 * the vectors may be reused. */
	int rc;
	do
		rc = io_uring_submit(&io->ur->ring);
	while (rc == -EINTR);
	io->tx_syscalls++;
	io->tx_n = 0;
}

static void give_back(struct udp_uring *ur, unsigned bid)
{
	io_uring_buf_ring_add(ur->br, ur->bufs + bid * RX_STRIDE, RX_LEN, (unsigned short)bid,
			      io_uring_buf_ring_mask(RX_BUFS), 0);
	io_uring_buf_ring_advance(ur->br, 1);
}

static void on_recv(struct udp_io *io, struct udp_sock *s, const struct io_uring_cqe *cqe)
{
	struct udp_uring *ur = io->ur;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		s->armed = 0; /* ended: cancelled, out of buffers, or an error */
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *b = ur->bufs + bid * RX_STRIDE;
		struct io_uring_recvmsg_out *o =
			cqe->res > 0 ? io_uring_recvmsg_validate(b, cqe->res, &ur->rx_hdr) : NULL;
		if (o && !s->closing) {
			if (o->flags & MSG_TRUNC) {
				io->rx_truncated++;
			} else {
				io->rx_packets++;
				s->recv(s->arg, s, io_uring_recvmsg_payload(o, &ur->rx_hdr),
					io_uring_recvmsg_payload_length(o, cqe->res, &ur->rx_hdr),
					io_uring_recvmsg_name(o));
			}
		}
		give_back(ur, bid);
	}
	if (!s->armed && !s->closing) {
		if (cqe->res == -ENOBUFS)
			io->rx_nobufs++;
		if (udp_uring_arm(s))
			io->uring_errors++;
	}
}

/* Handles the completions there are; *run_uv when libuv's fd was ready. */
static void reap_cqes(struct udp_io *io, bool *run_uv)
{
	struct io_uring *ring = &io->ur->ring;
	struct io_uring_cqe *cqes = ring->cq.cqes;
	unsigned mask = ring->cq.ring_mask;
	unsigned head = *ring->cq.khead, tail = io_uring_smp_load_acquire(ring->cq.ktail);

	if (head == tail)
		return;
	io->rx_batches++;
	for (; head != tail; head++) {
		/* Prefetch as the epoll loop does (media_loop.c): the next
		 * socket's hints, the one after's own lines. */
		if (tail - head > 1) {
			uint64_t next = cqes[(head + 1) & mask].user_data;
			if ((next & TAG_MASK) == TAG_RECV)
				udp_sock_prefetch((const struct udp_sock *)(uintptr_t)next);
		}
		if (tail - head > 2) {
			uint64_t after = cqes[(head + 2) & mask].user_data;
			if ((after & TAG_MASK) == TAG_RECV)
				udp_sock_prefetch_head((const struct udp_sock *)(uintptr_t)after);
		}
		const struct io_uring_cqe *cqe = &cqes[head & mask];
		uint64_t ud = cqe->user_data;
		switch (ud & TAG_MASK) {
		case TAG_RECV:
			on_recv(io, (struct udp_sock *)(uintptr_t)(ud & ~(uint64_t)TAG_MASK), cqe);
			break;
		case TAG_SEND: /* only failures post (IOSQE_CQE_SKIP_SUCCESS) */
			io->tx_packets--;
			io->tx_errors++;
			break;
		case TAG_UV:
			io->ur->uv_armed = false;
			*run_uv = true;
			break;
		default: /* TAG_CANCEL: the receive's own completion tells */
			break;
		}
		io_uring_smp_store_release(ring->cq.khead, head + 1);
	}
}

int udp_uring_run(uv_loop_t *loop, struct udp_io *io)
{
	struct udp_uring *ur = io->ur;
	int uv_fd = uv_backend_fd(loop);

	for (;;) {
		udp_io_reap(io); /* closed before the loop ran, or by libuv's pass */
		bool alive = uv_loop_alive(loop);
		if (!alive && !io->n_open)
			break;
		if (!ur->uv_armed) {
			/* One-shot, re-armed after each libuv pass: it completes
			 * at once while libuv's fd is still readable (level). */
			struct io_uring_sqe *e = sqe_get(ur);
			if (!e)
				return EBUSY;
			io_uring_prep_poll_add(e, uv_fd, POLLIN);
			io_uring_sqe_set_data64(e, TAG_UV);
			ur->uv_armed = true;
		}
		/* As media_loop_run: 0 when libuv has work pending, else its
		 * next timer, -1 none; no active handles: media alone. */
		int t = alive ? uv_backend_timeout(loop) : -1;
		struct __kernel_timespec ts = { .tv_sec = t / 1000, .tv_nsec = (t % 1000) * 1000000L };
		struct io_uring_cqe *cqe;
		/* What handlers queued since the last pass (the previous
		 * pass's flush point) leaves with this enter. */
		prep_tx(io);
		int rc = io_uring_submit_and_wait_timeout(&ur->ring, &cqe, 1, t >= 0 ? &ts : NULL, NULL);
		if (io->tx_n)
			io->tx_syscalls++;
		/* The vectors are reused from here: nothing may be left in the
		 * SQ that points at them (an enter that failed with EBUSY). */
		while (io_uring_sq_ready(&ur->ring) && io_uring_submit(&ur->ring) == -EINTR)
			;
		io->tx_n = 0;
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
			return -rc;
		uv_update_time(loop); /* media handlers read uv_now */
		bool run_uv = t == 0 || rc == -ETIME;
		reap_cqes(io, &run_uv);
		/* What the handlers queued leaves with the next enter (a
		 * libuv callback that sends flushes it before). */
		udp_io_reap(io);
		if (run_uv)
			uv_run(loop, UV_RUN_NOWAIT);
	}
	return 0;
}
