/* Load client for the SIP-over-WSS benchmark (issue 6): opens many
 * WebSocket connections over TLS (RFC 6455 client framing, masked, with
 * the "sip" subprotocol of RFC 7118), registers each with IMS digest
 * (MD5, qop=auth), then runs REGISTERs in a closed loop over the open
 * connections.  One thread, epoll, non-blocking OpenSSL.
 *
 * The phases run in order: connect, register, loop, close.  With
 * --control the client prints "ready" and then one result line per
 * phase, and waits for a line on stdin before each next phase (so that a
 * driver can sample the server in between); sockets are serviced while it
 * waits.  Result lines are "phase key=value ...".
 *
 * usage: bench_wss_load --port=P [--host=127.0.0.1] [--origin=URL]
 *          [--conns=N] [--inflight=W] [--register] [--reg-concurrency=C]
 *          [--loop=R] [--loop-concurrency=C] [--user=U] [--password=P]
 *          [--domain=D] [--timeout=S] [--control] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#include "wss_load.h"

static const char *const fail_names[N_FAIL] = { "connect", "tls", "upgrade", "timeout",
						"closed", "sip" };

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

uint64_t rnd(struct client *cl)
{
	/* xorshift64*, seeded from RAND_bytes: mask keys and ids. */
	cl->rng ^= cl->rng >> 12;
	cl->rng ^= cl->rng << 25;
	cl->rng ^= cl->rng >> 27;
	return cl->rng * 2685821657736338717ULL;
}

static void set_events(struct client *cl, struct conn *c, uint32_t ev)
{
	if (c->ev == ev)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	epoll_ctl(cl->ep, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e);
	c->ev = ev;
}

static void conn_close(struct client *cl, struct conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		epoll_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->ev = 0;
}

void conn_fail(struct client *cl, struct conn *c, enum fail_kind k)
{
	int was_open = c->st == C_OPEN;
	if (c->st == C_DEAD)
		return;
	if (!was_open && c->st != C_NEW)
		cl->in_handshake--;
	c->st = C_DEAD;
	conn_close(cl, c);
	cl->fails[k]++;
	if (!was_open) {
		cl->failed++;
	} else {
		if (c->waiting) {
			if (cl->in_loop) {
				cl->loop_fail++;
				cl->loop_done++;
			} else {
				cl->reg_fail++;
				cl->reg_out--;
			}
		}
		cl->opened--;
		cl->failed++;
	}
	c->waiting = 0;
}

void conn_events(struct client *cl, struct conn *c)
{
	if (c->st == C_DEAD)
		return;
	set_events(cl, c, EPOLLIN | (c->want_write ? EPOLLOUT : 0));
}

static void reg_next(struct client *cl);

/* A REGISTER ended on c (ok: 200). */
void reg_done(struct client *cl, struct conn *c, int ok)
{
	c->waiting = 0;
	if (cl->in_loop) {
		cl->loop_done++;
		if (ok)
			cl->lat_sum += now_s() - c->t_start;
		else
			cl->loop_fail++;
	} else {
		cl->reg_out--;
		if (ok) {
			cl->reg_ok++;
			c->registered = 1;
		} else {
			cl->reg_fail++;
		}
	}
	reg_next(cl);
}

static void became_open(struct client *cl, struct conn *c)
{
	c->st = C_OPEN;
	cl->in_handshake--;
	cl->opened++;
	if (!cl->tls_info[0]) {
		char grp[32] = "";
#ifdef SSL_get_negotiated_group
		int nid = SSL_get_negotiated_group(c->ssl);
		snprintf(grp, sizeof(grp), "%s", OBJ_nid2sn(nid & ~TLSEXT_nid_unknown));
#endif
		snprintf(cl->tls_info, sizeof(cl->tls_info), "tls_version=%s cipher=%s group=%s",
			 SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl), grp);
	}
}

static void on_event(struct client *cl, struct conn *c, uint32_t ev)
{
	switch (c->st) {
	case C_CONNECTING: {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (ev & (EPOLLERR | EPOLLHUP))) {
			conn_fail(cl, c, F_CONNECT);
			return;
		}
		c->ssl = SSL_new(cl->ctx);
		if (!c->ssl) {
			conn_fail(cl, c, F_TLS);
			return;
		}
		SSL_set_fd(c->ssl, c->fd);
		SSL_set_connect_state(c->ssl);
		c->st = C_TLS;
	}
	/* fall through */
	case C_TLS: {
		int r = SSL_do_handshake(c->ssl);
		if (r == 1) {
			c->st = C_UPGRADE;
			send_upgrade(cl, c);
			if (flush_out(cl, c)) {
				conn_fail(cl, c, F_TLS);
				return;
			}
		} else {
			int e = SSL_get_error(c->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				conn_fail(cl, c, F_TLS);
				return;
			}
			c->want_write = e == SSL_ERROR_WANT_WRITE;
			conn_events(cl, c);
			return;
		}
		conn_events(cl, c);
		return;
	}
	case C_UPGRADE:
	case C_OPEN:
		if ((ev & EPOLLOUT) && flush_out(cl, c)) {
			conn_fail(cl, c, F_CLOSED);
			return;
		}
		if (tls_read(c)) {
			conn_fail(cl, c, c->st == C_UPGRADE ? F_UPGRADE : F_CLOSED);
			return;
		}
		if (c->st == C_UPGRADE) {
			c->in[c->in_len] = '\0';
			if (!strstr((char *)c->in, "\r\n\r\n"))
				break;
			if (check_upgrade(c)) {
				if (cl->fails[F_UPGRADE] < 3)
					fprintf(stderr, "bench_wss_load: upgrade refused: %.80s\n",
						(char *)c->in);
				conn_fail(cl, c, F_UPGRADE);
				return;
			}
			became_open(cl, c);
		}
		if (on_frames(cl, c)) {
			conn_fail(cl, c, F_CLOSED);
			return;
		}
		if (c->st == C_DEAD)
			return;
		if (c->out_len && flush_out(cl, c)) {
			conn_fail(cl, c, F_CLOSED);
			return;
		}
		break;
	default:
		return;
	}
	conn_events(cl, c);
}

static void start_connect(struct client *cl, struct conn *c)
{
	cl->started++;
	cl->in_handshake++;
	c->t_start = now_s();
	c->st = C_CONNECTING;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(cl, c, F_CONNECT);
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&cl->addr, sizeof(cl->addr)) && errno != EINPROGRESS) {
		conn_fail(cl, c, F_CONNECT);
		return;
	}
	set_events(cl, c, EPOLLOUT);
}

static void check_timeouts(struct client *cl)
{
	double t = now_s();
	for (unsigned i = 0; i < cl->started; i++) {
		struct conn *c = &cl->c[i];
		if (c->st == C_DEAD)
			continue;
		if ((c->st != C_OPEN || c->waiting) && t - c->t_start > cl->o.timeout)
			conn_fail(cl, c, F_TIMEOUT);
	}
}

/* One round of the event loop; also reads a control line from stdin. */
static void poll_once(struct client *cl, int ms)
{
	struct epoll_event ev[512];
	int n = epoll_wait(cl->ep, ev, 512, ms);
	for (int i = 0; i < n; i++) {
		if (!ev[i].data.ptr) {
			char line[256];
			if (!fgets(line, sizeof(line), stdin))
				exit(0); /* driver went away */
			cl->stdin_line = 1;
			continue;
		}
		on_event(cl, ev[i].data.ptr, ev[i].events);
	}
}

static void wait_go(struct client *cl)
{
	if (!cl->o.control)
		return;
	fflush(stdout);
	cl->stdin_line = 0;
	while (!cl->stdin_line)
		poll_once(cl, 1000);
}

static void phase_connect(struct client *cl)
{
	double t0 = now_s(), cpu0 = self_cpu(), last = t0;
	while (cl->opened + cl->failed < cl->o.conns) {
		while (cl->started < cl->o.conns && cl->in_handshake < cl->o.inflight)
			start_connect(cl, &cl->c[cl->started]);
		poll_once(cl, 50);
		if (now_s() - last > 0.5) {
			check_timeouts(cl);
			last = now_s();
		}
	}
	double t = now_s() - t0;
	printf("connect ok=%u failed=%u secs=%.3f rate=%.1f client_cpu=%.3f %s", cl->opened,
	       cl->failed, t, cl->opened / t, self_cpu() - cpu0, cl->tls_info);
	for (int k = 0; k < N_FAIL; k++)
		if (cl->fails[k])
			printf(" fail_%s=%u", fail_names[k], cl->fails[k]);
	printf("\n");
}

/* Starts REGISTERs while below the phase's concurrency. */
static void reg_next(struct client *cl)
{
	if (cl->in_loop) {
		while (cl->loop_started - cl->loop_done < cl->o.loop_conc &&
		       cl->loop_started < cl->o.loop) {
			struct conn *c = NULL;
			for (unsigned k = 0; k < cl->o.conns && !c; k++) {
				struct conn *x = &cl->c[cl->rr];
				cl->rr = (cl->rr + 1) % cl->o.conns;
				if (x->st == C_OPEN && !x->waiting && x->registered && !x->out_len)
					c = x;
			}
			if (!c)
				return;
			cl->loop_started++;
			if (send_register(cl, c))
				conn_fail(cl, c, F_CLOSED);
			else
				conn_events(cl, c);
		}
		return;
	}
	while (cl->reg_out < cl->o.reg_conc && cl->reg_next < cl->o.conns) {
		struct conn *c = &cl->c[cl->reg_next++];
		if (c->st != C_OPEN)
			continue;
		cl->reg_out++;
		if (send_register(cl, c)) {
			conn_fail(cl, c, F_CLOSED);
			continue;
		}
		conn_events(cl, c);
	}
}

static void phase_register(struct client *cl)
{
	double t0 = now_s(), cpu0 = self_cpu(), last = t0;
	reg_next(cl);
	while (cl->reg_out || cl->reg_next < cl->o.conns) {
		poll_once(cl, 50);
		reg_next(cl);
		if (now_s() - last > 0.5) {
			check_timeouts(cl);
			last = now_s();
		}
	}
	double t = now_s() - t0;
	printf("register ok=%u failed=%u secs=%.3f rate=%.1f client_cpu=%.3f open=%u\n", cl->reg_ok,
	       cl->reg_fail, t, cl->reg_ok / t, self_cpu() - cpu0, cl->opened);
}

static void phase_loop(struct client *cl)
{
	double t0 = now_s(), cpu0 = self_cpu(), last = t0;
	cl->in_loop = 1;
	reg_next(cl);
	while (cl->loop_done < cl->loop_started || cl->loop_started < cl->o.loop) {
		unsigned before = cl->loop_started;
		poll_once(cl, 50);
		reg_next(cl);
		if (now_s() - last > 0.5) {
			check_timeouts(cl);
			last = now_s();
		}
		if (cl->loop_started == before && cl->loop_done == cl->loop_started &&
		    cl->loop_started < cl->o.loop)
			break; /* no usable connection left */
	}
	double t = now_s() - t0;
	unsigned ok = cl->loop_done - cl->loop_fail;
	printf("loop ok=%u failed=%u secs=%.3f rate=%.1f mean_latency_ms=%.3f rechallenged=%u "
	       "concurrency=%u client_cpu=%.3f open=%u\n",
	       ok, cl->loop_fail, t, ok / t, ok ? cl->lat_sum / ok * 1000 : 0.0, cl->rechallenge,
	       cl->o.loop_conc, self_cpu() - cpu0, cl->opened);
	cl->in_loop = 0;
}

static int opt_val(const char *a, const char *name, const char **v)
{
	size_t n = strlen(name);
	if (strncmp(a, name, n) || a[n] != '=')
		return 0;
	*v = a + n + 1;
	return 1;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .host = "127.0.0.1", .origin = "https://bench.test",
			    .user = "alice", .password = "alice-secret", .domain = "ims.test",
			    .conns = 1000, .inflight = 1000, .reg_conc = 200,
			    .loop = 0, .loop_conc = 200, .timeout = 60 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (opt_val(a, "--host", &v))
			o->host = v;
		else if (opt_val(a, "--port", &v))
			o->port = atoi(v);
		else if (opt_val(a, "--origin", &v))
			o->origin = v;
		else if (opt_val(a, "--user", &v))
			o->user = v;
		else if (opt_val(a, "--password", &v))
			o->password = v;
		else if (opt_val(a, "--domain", &v))
			o->domain = v;
		else if (opt_val(a, "--conns", &v))
			o->conns = (unsigned)atoi(v);
		else if (opt_val(a, "--inflight", &v))
			o->inflight = (unsigned)atoi(v);
		else if (opt_val(a, "--reg-concurrency", &v))
			o->reg_conc = (unsigned)atoi(v);
		else if (opt_val(a, "--loop", &v))
			o->loop = (unsigned)atoi(v);
		else if (opt_val(a, "--loop-concurrency", &v))
			o->loop_conc = (unsigned)atoi(v);
		else if (opt_val(a, "--timeout", &v))
			o->timeout = atof(v);
		else if (!strcmp(a, "--register"))
			o->do_register = 1;
		else if (!strcmp(a, "--control"))
			o->control = 1;
		else
			return -1;
	}
	return o->port > 0 && o->conns > 0 && o->inflight > 0 && o->reg_conc > 0 &&
			       o->loop_conc > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct client cl;
	memset(&cl, 0, sizeof(cl));
	if (parse_opts(&cl.o, argc, argv)) {
		fprintf(stderr, "usage: bench_wss_load --port=P [--host=H] [--origin=URL] [--conns=N]\n"
				"  [--inflight=W] [--register] [--reg-concurrency=C] [--loop=R]\n"
				"  [--loop-concurrency=C] [--user=U] [--password=P] [--domain=D]\n"
				"  [--timeout=S] [--control]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a peer's reset must not kill the client */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < cl.o.conns + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (RAND_bytes((unsigned char *)&cl.rng, sizeof(cl.rng)) != 1 || !cl.rng)
		cl.rng = 88172645463325252ULL;
	cl.addr.sin_family = AF_INET;
	cl.addr.sin_port = htons((uint16_t)cl.o.port);
	if (inet_pton(AF_INET, cl.o.host, &cl.addr.sin_addr) != 1) {
		fprintf(stderr, "bench_wss_load: --host must be an IPv4 address\n");
		return 2;
	}
	cl.ctx = SSL_CTX_new(TLS_client_method());
	if (!cl.ctx)
		return 1;
	SSL_CTX_set_min_proto_version(cl.ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(cl.ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(cl.ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(cl.ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	static const unsigned char alpn[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
	SSL_CTX_set_alpn_protos(cl.ctx, alpn, sizeof(alpn));
	cl.c = calloc(cl.o.conns, sizeof(*cl.c));
	cl.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cl.c || cl.ep < 0)
		return 1;
	for (unsigned i = 0; i < cl.o.conns; i++) {
		struct conn *c = &cl.c[i];
		c->fd = -1;
		snprintf(c->call_id, sizeof(c->call_id), "%016llx%08x", (unsigned long long)rnd(&cl), i);
		snprintf(c->tag, sizeof(c->tag), "%08llx", (unsigned long long)(rnd(&cl) & 0xffffffffu));
	}
	if (cl.o.control) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
		epoll_ctl(cl.ep, EPOLL_CTL_ADD, 0, &e);
		printf("ready\n");
	}
	wait_go(&cl);
	phase_connect(&cl);
	wait_go(&cl);
	if (cl.o.do_register) {
		phase_register(&cl);
		wait_go(&cl);
	}
	if (cl.o.loop) {
		phase_loop(&cl);
		wait_go(&cl);
	}
	for (unsigned i = 0; i < cl.o.conns; i++)
		conn_close(&cl, &cl.c[i]);
	printf("closed\n");
	fflush(stdout);
	free(cl.c);
	SSL_CTX_free(cl.ctx);
	close(cl.ep);
	return 0;
}
