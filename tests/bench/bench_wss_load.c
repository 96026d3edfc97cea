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

#define IN_CAP 16384
#define OUT_CAP 4096
#define AUTH_MAX 600

enum cstate { C_NEW, C_CONNECTING, C_TLS, C_UPGRADE, C_OPEN, C_DEAD };

enum fail_kind { F_CONNECT, F_TLS, F_UPGRADE, F_TIMEOUT, F_CLOSED, F_SIP, N_FAIL };
static const char *const fail_names[N_FAIL] = { "connect", "tls", "upgrade", "timeout",
						"closed", "sip" };

struct conn {
	int fd;
	SSL *ssl; /* owned */
	enum cstate st;
	uint32_t ev;        /* events registered with epoll */
	int want_write;     /* SSL wants the socket writable */
	double t_start;     /* connect started, or REGISTER sent */
	unsigned char in[IN_CAP];
	size_t in_len;
	char out[OUT_CAP];  /* a frame SSL_write has not taken yet */
	size_t out_len;
	char key[32];       /* Sec-WebSocket-Key */
	/* SIP */
	unsigned cseq, branch, challenges;
	int waiting;        /* a REGISTER is outstanding */
	int registered;
	char call_id[40], tag[20];
	char auth[AUTH_MAX]; /* Authorization header value, or "" */
};

struct opts {
	const char *host, *origin, *user, *password, *domain;
	int port;
	unsigned conns, inflight, reg_conc, loop, loop_conc;
	int do_register, control;
	double timeout;
};

struct client {
	struct opts o;
	SSL_CTX *ctx;
	int ep;
	struct conn *c;      /* owned array of o.conns */
	struct sockaddr_in addr;
	uint64_t rng;
	/* phase counters */
	unsigned started, opened, failed, fails[N_FAIL];
	unsigned in_handshake;
	unsigned reg_next, reg_out, reg_ok, reg_fail, rechallenge;
	unsigned loop_started, loop_done, loop_fail;
	double lat_sum;
	int stdin_line;      /* a control line arrived */
	int in_loop;         /* phase: loop (round robin over open conns) */
	unsigned rr;
	char tls_info[128];
};

static double now_s(void)
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

static uint64_t rnd(struct client *cl)
{
	/* xorshift64*, seeded from RAND_bytes: mask keys and ids. */
	cl->rng ^= cl->rng >> 12;
	cl->rng ^= cl->rng << 25;
	cl->rng ^= cl->rng >> 27;
	return cl->rng * 2685821657736338717ULL;
}

static void b64(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static void md5_hex(const char *s, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
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

static void conn_fail(struct client *cl, struct conn *c, enum fail_kind k)
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

/* Pushes c->out through TLS; 0 when written or pending, -1 on error. */
static int flush_out(struct client *cl, struct conn *c)
{
	if (!c->out_len)
		return 0;
	int n = SSL_write(c->ssl, c->out, (int)c->out_len);
	if (n > 0) {
		c->out_len = 0;
		c->want_write = 0;
		return 0;
	}
	int e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		c->want_write = e == SSL_ERROR_WANT_WRITE;
		return 0;
	}
	(void)cl;
	return -1;
}

/* Queues one masked WebSocket frame (opcode op) and tries to send it:
 * 0 sent or pending, 1 busy (a frame is still pending), -1 error. */
static int ws_send(struct client *cl, struct conn *c, int op, const char *p, size_t n)
{
	unsigned char *o = (unsigned char *)c->out;
	size_t h = 2;

	if (n + 14 > OUT_CAP)
		return -1;
	if (c->out_len)
		return 1; /* one frame at a time per connection: busy */
	o[0] = (unsigned char)(0x80 | op);
	if (n < 126) {
		o[1] = (unsigned char)(0x80 | n);
	} else {
		o[1] = 0x80 | 126;
		o[2] = (unsigned char)(n >> 8);
		o[3] = (unsigned char)n;
		h = 4;
	}
	uint64_t r = rnd(cl);
	unsigned char mask[4] = { (unsigned char)r, (unsigned char)(r >> 8),
				  (unsigned char)(r >> 16), (unsigned char)(r >> 24) };
	memcpy(o + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		o[h + i] = (unsigned char)p[i] ^ mask[i & 3];
	c->out_len = h + n;
	return flush_out(cl, c);
}

static void conn_events(struct client *cl, struct conn *c)
{
	if (c->st == C_DEAD)
		return;
	set_events(cl, c, EPOLLIN | (c->want_write ? EPOLLOUT : 0));
}

static int send_register(struct client *cl, struct conn *c)
{
	char msg[2048];
	char auth[AUTH_MAX + 32] = "";

	if (c->auth[0])
		snprintf(auth, sizeof(auth), "Authorization: %s\r\n", c->auth);
	c->cseq++;
	c->branch++;
	int n = snprintf(msg, sizeof(msg),
			 "REGISTER sip:%s SIP/2.0\r\n"
			 "Via: SIP/2.0/WSS bench%u.invalid;branch=z9hG4bK%sx%u\r\n"
			 "Max-Forwards: 69\r\n"
			 "To: <sip:%s@%s>\r\n"
			 "From: <sip:%s@%s>;tag=%s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "Contact: <sip:bench@bench.invalid;transport=ws>;+sip.ice;reg-id=1;"
			 "+sip.instance=\"<urn:uuid:6f1b4c2e-0000-4000-8000-00000000be00>\";expires=600\r\n"
			 "Expires: 600\r\n"
			 "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n"
			 "Supported: path,gruu,outbound\r\n"
			 "User-Agent: bench-wss-load\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 cl->o.domain, (unsigned)(c - cl->c), c->call_id, c->branch, cl->o.user,
			 cl->o.domain, cl->o.user, cl->o.domain, c->tag, c->call_id, c->cseq, auth);
	if (n <= 0 || (size_t)n >= sizeof(msg))
		return -1;
	c->waiting = 1;
	c->t_start = now_s();
	return ws_send(cl, c, 1, msg, (size_t)n);
}

/* Value of header `name` (case-insensitive, at a line start) in msg, copied. */
static int sip_header(const char *msg, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(msg, "\r\n"); p; p = strstr(p, "\r\n")) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			v += strspn(v, " \t");
			size_t n = strcspn(v, "\r\n");
			if (n >= len)
				n = len - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		if (p[0] == '\r')
			break;
	}
	return -1;
}

static void param(const char *hdr, const char *name, char *out, size_t len)
{
	char pat[32];
	out[0] = '\0';
	snprintf(pat, sizeof(pat), "%s=", name);
	for (const char *p = strstr(hdr, pat); p; p = strstr(p + 1, pat)) {
		if (p != hdr && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t')
			continue;
		p += strlen(pat);
		int q = *p == '"';
		p += q;
		size_t n = strcspn(p, q ? "\"" : ", \t");
		if (n >= len)
			n = len - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
}

static int make_auth(struct client *cl, struct conn *c, const char *www)
{
	char realm[128], nonce[256], qop[64], opaque[128], buf[512];
	char ha1[33], ha2[33], resp[33], cnonce[17];

	param(www, "realm", realm, sizeof(realm));
	param(www, "nonce", nonce, sizeof(nonce));
	param(www, "qop", qop, sizeof(qop));
	param(www, "opaque", opaque, sizeof(opaque));
	if (!nonce[0])
		return -1;
	snprintf(cnonce, sizeof(cnonce), "%016llx", (unsigned long long)rnd(cl));
	snprintf(buf, sizeof(buf), "%s:%s:%s", cl->o.user, realm, cl->o.password);
	md5_hex(buf, ha1);
	snprintf(buf, sizeof(buf), "REGISTER:sip:%s", cl->o.domain);
	md5_hex(buf, ha2);
	int has_qop = strstr(qop, "auth") != NULL;
	if (has_qop)
		snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:auth:%s", ha1, nonce, cnonce, ha2);
	else
		snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(buf, resp);
	int n = snprintf(c->auth, sizeof(c->auth),
			 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:%s\", "
			 "response=\"%s\", algorithm=MD5%s%s%s%s%s%s",
			 cl->o.user, realm, nonce, cl->o.domain, resp,
			 has_qop ? ", qop=auth, nc=00000001, cnonce=\"" : "", has_qop ? cnonce : "",
			 has_qop ? "\"" : "", opaque[0] ? ", opaque=\"" : "", opaque,
			 opaque[0] ? "\"" : "");
	return n > 0 && (size_t)n < sizeof(c->auth) ? 0 : -1;
}

static void reg_next(struct client *cl);

/* A REGISTER ended on c (ok: 200). */
static void reg_done(struct client *cl, struct conn *c, int ok)
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

static void on_sip(struct client *cl, struct conn *c, char *msg, size_t n)
{
	char www[600];
	msg[n] = '\0';
	if (strncmp(msg, "SIP/2.0 ", 8) || !c->waiting)
		return; /* keep-alive pong, or a request (none expected) */
	int status = atoi(msg + 8);
	if (status < 200)
		return;
	if (status == 401 && c->challenges < 3 &&
	    !sip_header(msg, "WWW-Authenticate", www, sizeof(www)) && !make_auth(cl, c, www)) {
		c->challenges++;
		if (cl->in_loop)
			cl->rechallenge++;
		if (send_register(cl, c)) {
			conn_fail(cl, c, F_CLOSED);
			return;
		}
		conn_events(cl, c);
		return;
	}
	if (status != 200) {
		if (cl->fails[F_SIP]++ < 5)
			fprintf(stderr, "bench_wss_load: REGISTER got %.60s\n", msg);
	}
	c->challenges = 0;
	reg_done(cl, c, status == 200);
}

/* Parses the frames in c->in; -1 when the connection must go. */
static int on_frames(struct client *cl, struct conn *c)
{
	size_t off = 0;
	while (c->in_len - off >= 2) {
		unsigned char *p = c->in + off;
		int op = p[0] & 0x0f;
		uint64_t n = p[1] & 0x7f;
		size_t h = 2;
		if (p[1] & 0x80)
			return -1; /* servers never mask */
		if (n == 126) {
			if (c->in_len - off < 4)
				break;
			n = (uint64_t)p[2] << 8 | p[3];
			h = 4;
		} else if (n == 127) {
			if (c->in_len - off < 10)
				break;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | p[2 + i];
			h = 10;
		}
		if (n + h + 1 > IN_CAP)
			return -1;
		if (c->in_len - off < h + n)
			break;
		char *pl = (char *)p + h;
		if (op == 1 || op == 2) {
			char save = pl[n];
			on_sip(cl, c, pl, (size_t)n);
			if (c->st == C_DEAD)
				return 0;
			pl[n] = save;
		} else if (op == 9) {
			if (ws_send(cl, c, 10, pl, (size_t)n) < 0)
				return -1; /* busy: this pong is skipped */
		} else if (op == 8) {
			return -1;
		}
		off += h + n;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

static int tls_read(struct conn *c)
{
	for (;;) {
		if (c->in_len >= IN_CAP - 1)
			return -1;
		int n = SSL_read(c->ssl, c->in + c->in_len, (int)(IN_CAP - 1 - c->in_len));
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return 0;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = 1;
			return 0;
		}
		return -1;
	}
}

static void send_upgrade(struct client *cl, struct conn *c)
{
	unsigned char k[16];
	uint64_t a = rnd(cl), b = rnd(cl);
	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
	b64(k, 16, c->key);
	int n = snprintf(c->out, sizeof(c->out),
			 "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
			 "Sec-WebSocket-Protocol: sip\r\nOrigin: %s\r\n"
			 "User-Agent: bench-wss-load\r\n\r\n",
			 cl->o.host, cl->o.port, c->key, cl->o.origin);
	c->out_len = (size_t)n;
}

static int check_upgrade(struct conn *c)
{
	char want[64], got[128], proto[64];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;
	char *end = strstr((char *)c->in, "\r\n\r\n");

	if (strncmp((char *)c->in, "HTTP/1.1 101", 12))
		return -1;
	*end = '\0';
	snprintf(got, sizeof(got), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
	EVP_Digest(got, strlen(got), md, &mdn, EVP_sha1(), NULL);
	b64(md, mdn, want);
	if (sip_header((char *)c->in, "Sec-WebSocket-Accept", got, sizeof(got)) || strcmp(got, want) ||
	    sip_header((char *)c->in, "Sec-WebSocket-Protocol", proto, sizeof(proto)) ||
	    strcmp(proto, "sip"))
		return -1;
	size_t used = (size_t)(end + 4 - (char *)c->in);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return 0;
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
