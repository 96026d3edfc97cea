/* Blocking Iq+ connections for the conformance suite. */
#include "cf_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iqp_link_reg.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
	long long l = deadline - now_ms();
	return l < 0 ? 0 : (int)l;
}

static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	for (;;) {
		int r = poll(&p, 1, left_ms(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
}

/* Writes all of p, waiting for the socket as needed. */
static int write_all(struct cf_conn *c, const uint8_t *p, size_t n)
{
	long long deadline = now_ms() + 5000;
	while (n) {
		ssize_t w = write(c->fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(c->fd, POLLOUT, deadline);
			if (rc)
				return rc;
			continue;
		}
		snprintf(c->why, sizeof(c->why), "write: %s", strerror(errno));
		return errno ? errno : EIO;
	}
	return 0;
}

static int tls_flush(struct cf_conn *c)
{
	uint8_t buf[16384];
	size_t n;
	while ((n = iqp_tls_take(&c->tls, buf, sizeof(buf))) > 0) {
		int rc = write_all(c, buf, n);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads what the socket has (waiting until deadline) into the TLS session
 * or rx.  Returns 0, ETIMEDOUT, ECONNRESET, or an errno. */
static int read_some(struct cf_conn *c, long long deadline)
{
	uint8_t buf[16384];
	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof(buf));
		if (r > 0) {
			if (c->secure)
				return iqp_tls_feed(&c->tls, buf, (size_t)r);
			if (c->rx_len + (size_t)r > CF_RX_MAX)
				return EMSGSIZE;
			memcpy(c->rx + c->rx_len, buf, (size_t)r);
			c->rx_len += (size_t)r;
			return 0;
		}
		if (r == 0) {
			c->eof = true;
			return ECONNRESET;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->eof = true;
			return ECONNRESET;
		}
		int rc = wait_fd(c->fd, POLLIN, deadline);
		if (rc)
			return rc;
	}
}

static int tls_handshake(struct cf_conn *c, long long deadline)
{
	while (!c->tls.established) {
		/* Application data may come with the peer's last handshake
		 * flight (a REGISTER right after Finished): keep it in rx. */
		size_t got = 0;
		int e = iqp_tls_read(&c->tls, c->rx + c->rx_len, CF_RX_MAX - c->rx_len, &got);
		c->rx_len += got;
		if (e) {
			tls_flush(c);
			snprintf(c->why, sizeof(c->why), "TLS: %s", c->tls.why);
			return EPROTO;
		}
		int rc = tls_flush(c);
		if (!rc && !c->tls.established)
			rc = read_some(c, deadline);
		if (rc) {
			if (!c->why[0])
				snprintf(c->why, sizeof(c->why), "TLS handshake: %s",
					 rc == ECONNRESET ? "closed by the peer" : strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int setup(struct cf_conn *c, int fd, const struct iqp_tls_ctx *ctx,
		 const char *expect_name, long long deadline)
{
	int one = 1;
	c->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	iqp_framer_init(&c->framer);
	if (!(c->rx = malloc(CF_RX_MAX))) {
		cf_conn_close(c);
		return ENOMEM;
	}
	if (!ctx)
		return 0;
	if (iqp_tls_init(&c->tls, ctx, expect_name)) {
		cf_conn_close(c);
		return ENOMEM;
	}
	c->secure = true;
	int rc = tls_handshake(c, deadline);
	if (rc) {
		char why[sizeof(c->why)];
		memcpy(why, c->why, sizeof(why));
		cf_conn_close(c);
		memcpy(c->why, why, sizeof(why));
	}
	return rc;
}

int cf_conn_connect(struct cf_conn *c, const struct sockaddr *to, socklen_t len,
		    const struct iqp_tls_ctx *ctx, const char *expect_name,
		    int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	int fd = socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, to, len) && errno != EINPROGRESS) {
		int e = errno;
		snprintf(c->why, sizeof(c->why), "connect: %s", strerror(e));
		close(fd);
		return e;
	}
	int rc = wait_fd(fd, POLLOUT, deadline), err = 0;
	socklen_t el = sizeof(err);
	if (!rc && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err))
		rc = err ? err : errno;
	if (rc) {
		snprintf(c->why, sizeof(c->why), "connect: %s", strerror(rc));
		close(fd);
		return rc;
	}
	return setup(c, fd, ctx, expect_name, deadline);
}

int cf_conn_accept(struct cf_conn *c, int lfd, const struct iqp_tls_ctx *ctx,
		   int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	int rc = wait_fd(lfd, POLLIN, deadline);
	if (rc) {
		snprintf(c->why, sizeof(c->why), "no connection within %d ms", timeout_ms);
		return rc;
	}
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno;
	return setup(c, fd, ctx, NULL, deadline);
}

void cf_conn_close(struct cf_conn *c)
{
	if (c->secure) {
		iqp_tls_shutdown(&c->tls);
		tls_flush(c);
		iqp_tls_free(&c->tls);
		c->secure = false;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	iqp_framer_free(&c->framer);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = 0;
}

int cf_conn_send_raw(struct cf_conn *c, const void *p, size_t n)
{
	if (!c->secure)
		return write_all(c, p, n);
	if (iqp_tls_write(&c->tls, p, n)) {
		snprintf(c->why, sizeof(c->why), "TLS: %s", c->tls.why);
		return EPROTO;
	}
	return tls_flush(c);
}

int cf_conn_send_msg(struct cf_conn *c, const struct iqp_msg *m)
{
	size_t len;
	int rc = iqp_msg_encoded_len(m, &len);
	if (rc)
		return rc;
	uint8_t *buf = malloc(len);
	if (!buf)
		return ENOMEM;
	if (!(rc = iqp_msg_encode(m, buf, len, &len)))
		rc = cf_conn_send_raw(c, buf, len);
	free(buf);
	return rc;
}

/* Moves decrypted bytes from the TLS session into rx. */
static int tls_drain(struct cf_conn *c)
{
	for (;;) {
		size_t got = 0;
		int rc = iqp_tls_read(&c->tls, c->rx + c->rx_len, CF_RX_MAX - c->rx_len, &got);
		tls_flush(c);
		if (rc == ECONNRESET) {
			c->eof = true;
			return 0;
		}
		if (rc) {
			snprintf(c->why, sizeof(c->why), "TLS: %s", c->tls.why);
			return EPROTO;
		}
		if (!got)
			return 0;
		c->rx_len += got;
	}
}

static void decode(struct cf_frame *f)
{
	struct iqp_error err;
	if (iqp_msg_parse(&f->msg, &f->hdr, f->body, NULL, 0, &err))
		return;
	f->parsed = true;
	uint32_t ra;
	iqp_link_reg_error(&f->msg, &f->error_code, f->error_text, sizeof(f->error_text), &ra);
}

int cf_conn_recv(struct cf_conn *c, int timeout_ms, struct cf_frame *f)
{
	long long deadline = now_ms() + timeout_ms;
	memset(f, 0, sizeof(*f));
	for (;;) {
		if (c->secure) {
			int rc = tls_drain(c);
			if (rc)
				return rc;
		}
		size_t off = 0;
		while (off < c->rx_len) {
			struct iqp_frame fr;
			size_t used = 0;
			int rc = iqp_framer_feed(&c->framer, c->rx + off, c->rx_len - off, &used, &fr);
			if (rc) {
				snprintf(c->why, sizeof(c->why), "frame refused: %u %s",
					 c->framer.err.code, c->framer.err.text);
				return EPROTO;
			}
			off += used;
			if (fr.ready) {
				f->hdr = fr.hdr;
				if (fr.hdr.body_len) {
					if (!(f->body = malloc(fr.hdr.body_len)))
						return ENOMEM;
					memcpy(f->body, fr.body, fr.hdr.body_len);
				}
				memmove(c->rx, c->rx + off, c->rx_len - off);
				c->rx_len -= off;
				decode(f);
				return 0;
			}
		}
		c->rx_len = 0; /* all fed to the framer */
		if (c->eof)
			return ECONNRESET;
		int rc = read_some(c, deadline);
		if (rc == ECONNRESET && c->secure)
			continue; /* decrypt what came with the close */
		if (rc)
			return rc;
	}
}

void cf_frame_free(struct cf_frame *f)
{
	if (f->parsed)
		iqp_msg_free(&f->msg);
	free(f->body);
	memset(f, 0, sizeof(*f));
}

bool cf_conn_wait_closed(struct cf_conn *c, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct cf_frame f;
		int rc = cf_conn_recv(c, left_ms(deadline), &f);
		if (!rc) {
			cf_frame_free(&f);
			continue;
		}
		return rc == ECONNRESET || rc == EPROTO;
	}
}
