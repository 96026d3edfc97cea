/* recvmmsg/sendmmsg on the media epoll set; the parts both back ends
 * share (the transmit queue, sockets' open and close). */
#include "udp_batch.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "udp_uring.h"

int udp_io_init(struct udp_io *io, uv_loop_t *loop, enum udp_io_mode mode)
{
	memset(io, 0, sizeof(*io));
	io->loop = loop;
	io->epfd = -1;
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		io->rx_iov[i].iov_base = io->rx_buf[i];
		io->rx_iov[i].iov_len = UDP_MTU;
		io->tx_iov[i].iov_base = io->tx_buf[i];
	}
	if (mode != UDP_IO_EPOLL) {
		int rc = udp_uring_init(io);
		if (!rc || mode == UDP_IO_URING)
			return rc;
		io->uring_err = rc;
	}
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	return io->epfd < 0 ? errno : 0;
}

const char *udp_io_backend(const struct udp_io *io)
{
	return io->ur ? "io_uring" : "epoll";
}

void udp_io_free(struct udp_io *io)
{
	udp_io_reap(io);
	udp_uring_free(io);
	if (io->epfd >= 0)
		close(io->epfd);
	io->epfd = -1;
}

void udp_io_reap(struct udp_io *io)
{
	/* With io_uring a socket whose receive has not ended yet stays on
	 * the list: its last completion still names it. */
	struct udp_sock *waiting = NULL;
	while (io->closing) {
		struct udp_sock *s = io->closing;
		io->closing = s->next_closing;
		if (s->armed) {
			s->next_closing = waiting;
			waiting = s;
			continue;
		}
		close(s->fd);
		io->n_open--;
		if (s->on_closed)
			s->on_closed(s); /* may free s */
	}
	io->closing = waiting;
}

void udp_io_flush(struct udp_io *io)
{
	if (io->ur) {
		udp_uring_flush(io);
		return;
	}
	unsigned i = 0;
	while (i < io->tx_n) {
		/* One sendmmsg per run of packets on the same socket. */
		unsigned j = i + 1;
		while (j < io->tx_n && io->tx_sock[j] == io->tx_sock[i])
			j++;
		unsigned sent = 0;
		while (sent < j - i) {
			/* One packet (a stream's own socket at 50 packets/s, the
			 * usual case): sendto, without sendmmsg's vector and
			 * message header to copy in. */
			const struct msghdr *h = &io->tx_msg[i + sent].msg_hdr;
			int n = j - i - sent == 1
					? (sendto(io->tx_sock[i]->fd, h->msg_iov->iov_base, h->msg_iov->iov_len, 0,
						  h->msg_name, h->msg_namelen) < 0 ? -1 : 1)
					: sendmmsg(io->tx_sock[i]->fd, io->tx_msg + i + sent, j - i - sent, 0);
			io->tx_syscalls++;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				/* EAGAIN (socket buffer full) or a peer error:
				 * media is loss-tolerant, drop the rest of the run. */
				io->tx_errors += j - i - sent;
				break;
			}
			sent += (unsigned)n;
			io->tx_packets += (unsigned)n;
		}
		i = j;
	}
	io->tx_n = 0;
}

int udp_sock_send(struct udp_sock *s, const uint8_t *buf, size_t len,
		  const struct sockaddr *to)
{
	struct udp_io *io = s->io;

	if (len > UDP_MTU)
		return EMSGSIZE;
	if (io->tx_n == UDP_BATCH)
		udp_io_flush(io);
	unsigned k = io->tx_n++;
	memcpy(io->tx_buf[k], buf, len);
	io->tx_iov[k].iov_len = len;
	socklen_t alen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						   : sizeof(struct sockaddr_in);
	memcpy(&io->tx_to[k], to, alen);
	io->tx_msg[k].msg_hdr = (struct msghdr){
		.msg_name = &io->tx_to[k],
		.msg_namelen = alen,
		.msg_iov = &io->tx_iov[k],
		.msg_iovlen = 1,
	};
	io->tx_sock[k] = s;
	return 0;
}

void udp_io_readable(struct udp_sock *s)
{
	struct udp_io *io = s->io;

	if (s->closing)
		return;
	for (;;) {
		unsigned want = s->rx_want;
		int n;
		for (unsigned i = 0; i < want; i++)
			io->rx_msg[i].msg_hdr = (struct msghdr){
				.msg_name = &io->rx_from[i],
				.msg_namelen = sizeof(io->rx_from[i]),
				.msg_iov = &io->rx_iov[i],
				.msg_iovlen = 1,
			};
		if (want == 1) {
			/* recvfrom: no message header to copy in; MSG_TRUNC
			 * makes it return the datagram's real length. */
			struct msghdr *mh = &io->rx_msg[0].msg_hdr;
			ssize_t k = recvfrom(s->fd, io->rx_buf[0], UDP_MTU, MSG_DONTWAIT | MSG_TRUNC,
					     (struct sockaddr *)&io->rx_from[0], &mh->msg_namelen);
			mh->msg_flags = k > UDP_MTU ? MSG_TRUNC : 0;
			io->rx_msg[0].msg_len = k > 0 ? (unsigned)(k > UDP_MTU ? UDP_MTU : k) : 0;
			n = k < 0 ? -1 : 1;
		} else {
			n = recvmmsg(s->fd, io->rx_msg, want, MSG_DONTWAIT, NULL);
		}
		if (n <= 0)
			break; /* EAGAIN: drained; errors (ICMP) are ignored on UDP */
		io->rx_batches++;
		/* Next wake-up's vector: what came, doubled while it comes
		 * back full (from one: only when the socket was readable
		 * again within the same loop millisecond, i.e. it has a
		 * backlog; a stream at 50 packets/s stays at one).  A full
		 * one that is not UDP_BATCH returns to the loop: the socket
		 * is level-triggered, so what is left wakes it again, and a
		 * socket that gets one packet per wake-up costs one receive,
		 * not a second that finds the queue empty. */
		uint16_t now = (uint16_t)uv_now(io->loop); /* equality is all it needs */
		if ((unsigned)n < want)
			s->rx_want = (uint8_t)n;
		else if (want > 1 || now == s->rx_last_ms)
			/* Capped, not just stopped at UDP_BATCH: after a
			 * short batch want is any count (20 doubles to 40),
			 * and the vectors hold UDP_BATCH. */
			s->rx_want = (uint8_t)(2 * want < UDP_BATCH ? 2 * want : UDP_BATCH);
		s->rx_last_ms = now;
		for (int i = 0; i < n && !s->closing; i++) {
			if (io->rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				io->rx_truncated++;
				continue;
			}
			io->rx_packets++;
			s->recv(s->arg, s, io->rx_buf[i], io->rx_msg[i].msg_len,
				(struct sockaddr *)&io->rx_from[i]);
		}
		udp_io_flush(io);
		if ((unsigned)n < UDP_BATCH || s->closing)
			break;
	}
}

int udp_sock_open(struct udp_sock *s, struct udp_io *io, const struct sockaddr *addr,
		  udp_recv_h *recv, void *arg)
{
	socklen_t alen = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	memset(s, 0, sizeof(*s));
	s->io = io;
	s->rx_want = 1;
	s->recv = recv;
	s->arg = arg;
	s->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return errno;
	if (bind(s->fd, addr, alen)) {
		int e = errno;
		close(s->fd);
		return e;
	}
	alen = sizeof(s->bound);
	getsockname(s->fd, (struct sockaddr *)&s->bound, &alen);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	int e = io->ur ? udp_uring_arm(s)
		       : epoll_ctl(io->epfd, EPOLL_CTL_ADD, s->fd, &ev) ? errno : 0;
	if (e) {
		close(s->fd);
		return e;
	}
	io->n_open++;
	return 0;
}

void udp_sock_close(struct udp_sock *s)
{
	struct udp_io *io = s->io;
	if (s->closing)
		return;
	s->closing = 1;
	/* Queued packets of this socket must not be sent after close. */
	unsigned k = 0;
	for (unsigned i = 0; i < io->tx_n; i++)
		if (io->tx_sock[i] != s) {
			if (k != i) {
				memcpy(io->tx_buf[k], io->tx_buf[i], io->tx_iov[i].iov_len);
				io->tx_iov[k].iov_len = io->tx_iov[i].iov_len;
				io->tx_to[k] = io->tx_to[i];
				io->tx_msg[k].msg_hdr = io->tx_msg[i].msg_hdr;
				io->tx_msg[k].msg_hdr.msg_name = &io->tx_to[k];
				io->tx_msg[k].msg_hdr.msg_iov = &io->tx_iov[k];
				io->tx_sock[k] = io->tx_sock[i];
			}
			k++;
		}
	io->tx_n = k;
	if (io->ur)
		udp_uring_cancel(s);
	else
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->next_closing = io->closing;
	io->closing = s;
}
