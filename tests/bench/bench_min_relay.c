/* The reference relay of the relay benchmark (tests/bench/relay_bench.py,
 * issue 5): the least a relay must do to turn SRTP from the browser side
 * into RTP on the IMS side and back, to compare eims-agw against in the
 * same run.
 *
 * Per stream one W3 UDP socket and one IMS UDP socket (its own source
 * port, as RFC 3550 symmetric RTP needs), both on one epoll set
 * (level-triggered, one thread): a relay must hear the IMS side to relay
 * its media back, so the IMS socket is polled as in any two-way relay
 * (which costs each send a wake-up check on that socket).  A readable W3
 * socket: one recv, the SRTP unprotect of eims-agw's own transform
 * (srtp_transform.c, AES_CM_128_HMAC_SHA1_80 on OpenSSL: the same crypto,
 * replay window and HMAC as the gateway), one send on the stream's IMS
 * socket to the destination; the source is remembered as the W3 peer.
 * A readable IMS socket: recv, SRTP protect, send to that W3 peer.  No
 * demux, ICE, DTLS, consent, stats, policing, latching, BUNDLE or
 * counters: that is the point of the reference.
 *
 * Keys are pre-shared (SDES-like): the benchmark hands each stream's
 * master key and salt on stdin, the generator protects with the same (the
 * return direction uses the same master key in its own context: a
 * benchmark, not a deployment).
 *
 * argv: IMS_DEST_PORT (on 127.0.0.1) [oneway]: "oneway" leaves the IMS
 * sockets out of epoll (a relay that cannot relay back; for comparison).
 * stdin, one line each:
 *   stream KEY_BASE64   (30 bytes: 16 key + 14 salt) opens a stream;
 *                       prints "port W3_PORT"
 *   start               prints "started" and relays until SIGTERM/SIGINT.
 * Stops on SIGTERM/SIGINT; prints nothing else. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "openssl_arena.h"
#include "srtp_transform.h"

#define MAX_STREAMS 20000
#define EVENTS 256

struct min_stream {
	int w3_fd;  /* SRTP in */
	int ims_fd; /* RTP out */
	struct srtp_transform *in;  /* owned: W3 -> IMS */
	struct srtp_transform *out; /* owned: IMS -> W3 */
	struct sockaddr_in w3_peer; /* last SRTP source; port 0: none yet */
};

struct min_relay {
	struct min_stream *s; /* owned, MAX_STREAMS */
	unsigned n;
	int ep;
	struct sockaddr_in dst;
	volatile sig_atomic_t *stop; /* borrowed */
	bool oneway;
};

static int udp_bound(uint16_t port, int *fd_out, uint16_t *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		int e = errno;
		close(fd);
		return e;
	}
	*fd_out = fd;
	*bound = ntohs(a.sin_port);
	return 0;
}

static int stream_open(struct min_relay *r, const char *key_b64, uint16_t *w3_port)
{
	uint8_t key[64];
	uint16_t ims_port;
	struct min_stream *s;
	int rc;

	if (r->n == MAX_STREAMS)
		return ENOSPC;
	if (EVP_DecodeBlock(key, (const unsigned char *)key_b64, (int)strlen(key_b64)) < 30)
		return EINVAL;
	s = &r->s[r->n];
	s->w3_fd = s->ims_fd = -1;
	r->n++; /* freed and closed at exit, opened or not */
	if ((rc = srtp_transform_create(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80, SRTP_TRANSFORM_INBOUND,
					key, 16, key + 16, 14, &s->in)) ||
	    (rc = srtp_transform_create(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80, SRTP_TRANSFORM_OUTBOUND,
					key, 16, key + 16, 14, &s->out)))
		return rc;
	if ((rc = udp_bound(0, &s->w3_fd, w3_port)) || (rc = udp_bound(0, &s->ims_fd, &ims_port)))
		return rc;
	/* data.u64: stream index * 2, + 1 for the IMS socket. */
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(r->n - 1) * 2 };
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, s->w3_fd, &ev))
		return errno;
	ev.data.u64++;
	if (!r->oneway && epoll_ctl(r->ep, EPOLL_CTL_ADD, s->ims_fd, &ev))
		return errno;
	return 0;
}

static void relay_loop(struct min_relay *r)
{
	struct epoll_event ev[EVENTS];
	uint8_t buf[2048];

	while (!*r->stop) {
		int k = epoll_wait(r->ep, ev, EVENTS, -1);
		for (int i = 0; i < k; i++) {
			struct min_stream *s = &r->s[ev[i].data.u64 / 2];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			if (ev[i].data.u64 & 1) { /* RTP from IMS -> SRTP to the W3 peer */
				ssize_t got = recv(s->ims_fd, buf, sizeof(buf) - 16, 0);
				size_t len = got > 0 ? (size_t)got : 0;
				if (!len || !s->w3_peer.sin_port ||
				    srtp_transform_protect_rtp(s->out, buf, &len, sizeof(buf)))
					continue;
				sendto(s->w3_fd, buf, len, 0, (const struct sockaddr *)&s->w3_peer,
				       sizeof(s->w3_peer));
				continue;
			}
			ssize_t got = recvfrom(s->w3_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (got <= 0)
				continue;
			size_t len = (size_t)got;
			if (srtp_transform_unprotect_rtp(s->in, buf, &len))
				continue;
			s->w3_peer = from;
			sendto(s->ims_fd, buf, len, 0, (const struct sockaddr *)&r->dst, sizeof(r->dst));
		}
	}
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	struct min_relay r = { .stop = &stop_flag };
	char line[256];
	int rc = 0;

	/* The same transform as eims-agw, placed the same way. */
	if (openssl_arena_install())
		fprintf(stderr, "bench_min_relay: OpenSSL allocated before start-up\n");
	if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "oneway"))) {
		fprintf(stderr, "usage: bench_min_relay IMS_DEST_PORT [oneway] < commands\n");
		return 2;
	}
	r.oneway = argc == 3;
	r.dst.sin_family = AF_INET;
	r.dst.sin_port = htons((uint16_t)atoi(argv[1]));
	r.dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r.s = calloc(MAX_STREAMS, sizeof(*r.s));
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!r.s || r.ep < 0)
		return 2;
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: epoll_wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!rc && fgets(line, sizeof(line), stdin)) {
		char key[128];
		uint16_t port;
		if (sscanf(line, "stream %127s", key) == 1) {
			if ((rc = stream_open(&r, key, &port)))
				fprintf(stderr, "stream %u: %s\n", r.n, strerror(rc));
			else
				printf("port %u\n", port);
			fflush(stdout);
		} else if (!strncmp(line, "start", 5)) {
			printf("started %u\n", r.n);
			fflush(stdout);
			relay_loop(&r);
			break;
		}
	}
	for (unsigned i = 0; i < r.n; i++) {
		if (r.s[i].w3_fd >= 0)
			close(r.s[i].w3_fd);
		if (r.s[i].ims_fd >= 0)
			close(r.s[i].ims_fd);
		srtp_transform_free(r.s[i].in);
		srtp_transform_free(r.s[i].out);
	}
	close(r.ep);
	free(r.s);
	return rc ? 1 : 0;
}
