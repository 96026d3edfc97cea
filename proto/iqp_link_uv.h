/* An Iq+ link on a libuv loop: the pure state machine (iqp_link.h), its
 * current connection (iqp_conn.h) and one timer armed at the link's next
 * deadline.  The controller makes one per accepted connection; the AGW
 * one per controller list, which reconnects by itself.
 *
 * Ownership: the owner creates a struct iqp_link_uv and keeps the
 * pointer until ops->gone, after which it is freed by this module.  That
 * happens when the link ends for good: iqp_link_uv_stop, or a controller
 * link whose connection is over (state CLOSED). */
#ifndef PROTO_IQP_LINK_UV_H
#define PROTO_IQP_LINK_UV_H

#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

#include "iqp_conn.h"
#include "iqp_link.h"

/* A controller the AGW connects to (2.1 item 3). */
struct iqp_target {
	struct sockaddr_storage addr;
	char name[256];   /* name its certificate must carry, "" for none */
	char text[80];    /* "127.0.0.1:7190" */
};

struct iqp_link_uv;

struct iqp_link_uv_ops {
	/* The link is over and about to be freed: forget u. */
	void (*gone)(void *arg, struct iqp_link_uv *u);
	/* TLS failed: auth when we refused the peer's certificate (2.2),
	 * else the handshake or session failed (the peer may have refused
	 * ours: an alert); why, and the peer's SHA-256 fingerprint. */
	void (*tls_failed)(void *arg, struct iqp_link_uv *u, bool auth,
			   const char *why, const char *fingerprint);
};

struct iqp_link_uv {
	struct iqp_link link;              /* owned */
	uv_loop_t *loop;                   /* borrowed */
	uv_timer_t timer;                  /* owned */
	struct iqp_conn *conn;             /* owned while not NULL */
	const struct iqp_tls_ctx *tls;     /* borrowed; NULL: plain TCP */
	const struct iqp_target *targets;  /* borrowed: AGW targets */
	struct iqp_target redirect;        /* AGW: the redirect target (7.4)
					    * being connected to */
	const struct iqp_link_uv_ops *ops; /* borrowed */
	void *arg;
	char peer[64];                     /* address of the last connection */
	int connect_failed;                /* deferred connect error */
	bool ending;                       /* timer closing: freed next */
};

/* Allocates a link (IDLE) with the link's cfg and hooks (hook_arg is
 * their arg); tls NULL for plain TCP; targets: cfg->n_targets entries
 * (AGW).  Returns 0 or an errno value. */
int iqp_link_uv_new(struct iqp_link_uv **out, uv_loop_t *loop,
		    const struct iqp_link_cfg *cfg,
		    const struct iqp_link_hooks *hooks, void *hook_arg,
		    const struct iqp_tls_ctx *tls, const struct iqp_target *targets,
		    const struct iqp_link_uv_ops *ops, void *arg);

/* AGW: starts connecting. */
void iqp_link_uv_start(struct iqp_link_uv *u);
/* Controller: accepts a connection from listener `server` and starts the
 * link (T_REG_WAIT).  Returns 0 or an errno value (then nothing to stop:
 * call iqp_link_uv_stop to free u). */
int iqp_link_uv_accept(struct iqp_link_uv *u, uv_stream_t *server);
/* Ends the link: CLOSE `code` if connected, then ops->gone and free. */
void iqp_link_uv_stop(struct iqp_link_uv *u, unsigned code, const char *text);

/* iqp_link_request and iqp_link_answer on the loop's clock, with the
 * link's timer re-armed for the new deadline. */
int iqp_link_uv_request(struct iqp_link_uv *u, struct iqp_msg *req, iqp_link_done_h *done,
			void *arg);
int iqp_link_uv_answer(struct iqp_link_uv *u, struct iqp_msg *ans, unsigned err_code);
/* iqp_link_handoff on the loop's clock (AGW, 7.4 item 2). */
int iqp_link_uv_handoff(struct iqp_link_uv *u, const struct iqp_redirect *t, size_t n);
/* After a call into the link from outside this module's callbacks
 * (iqp_link_request from a timer or another socket): re-arms the link's
 * timer for the new transaction and settles the link. */
void iqp_link_uv_post(struct iqp_link_uv *u);

/* The link of u, and u of a link made here. */
struct iqp_link_uv *iqp_link_uv_of(struct iqp_link *l);
/* The peer's certificate carries name (false without TLS). */
bool iqp_link_uv_peer_has_name(const struct iqp_link_uv *u, const char *name);
bool iqp_link_uv_secure(const struct iqp_link_uv *u);

/* A redirect target (7.4) as a target: its TARGET_NAME, else the name of
 * the configured target conf[0..n_conf) with the same address, else "". */
void iqp_target_from_redirect(const struct iqp_redirect *r, const struct iqp_target *conf,
			      size_t n_conf, struct iqp_target *out);
/* Parses "IP:PORT[ NAME]" (IPv6 in brackets).  Returns 0 or EINVAL. */
int iqp_target_parse(const char *text, struct iqp_target *out);

#endif
