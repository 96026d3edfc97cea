/* The SIP-over-WSS load client (bench_wss_load.c): its connections, its
 * options and counters, and the functions its three files share:
 * bench_wss_load.c (connections, epoll, phases, main), wss_load_ws.c
 * (WebSocket over TLS: upgrade and frames), wss_load_sip.c (REGISTER with
 * IMS digest). */
#ifndef WSS_LOAD_H
#define WSS_LOAD_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#define IN_CAP 16384
#define OUT_CAP 4096
#define AUTH_MAX 600

enum cstate { C_NEW, C_CONNECTING, C_TLS, C_UPGRADE, C_OPEN, C_DEAD };

enum fail_kind { F_CONNECT, F_TLS, F_UPGRADE, F_TIMEOUT, F_CLOSED, F_SIP, N_FAIL };

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

/* bench_wss_load.c */
double now_s(void);
uint64_t rnd(struct client *cl);
void conn_fail(struct client *cl, struct conn *c, enum fail_kind k);
void conn_events(struct client *cl, struct conn *c);
void reg_done(struct client *cl, struct conn *c, int ok);

/* wss_load_ws.c: 0 done or pending, -1 error (ws_send: 1 busy). */
int flush_out(struct client *cl, struct conn *c);
int ws_send(struct client *cl, struct conn *c, int op, const char *p, size_t n);
int on_frames(struct client *cl, struct conn *c);
int tls_read(struct conn *c);
void send_upgrade(struct client *cl, struct conn *c);
int check_upgrade(struct conn *c);

/* wss_load_sip.c */
int header_value(const char *msg, const char *name, char *out, size_t len);
int send_register(struct client *cl, struct conn *c);
void on_sip(struct client *cl, struct conn *c, char *msg, size_t n);

#endif
