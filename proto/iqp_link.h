/* The Iq+ link state machine (SPEC.md 7.1) for both roles, as pure state
 * with time passed in (ms of a monotonic clock):
 *
 *   AGW (7.1.1): connect to a target, REGISTER (7.2), IN_SERVICE with
 *     heartbeats and T_INACT (7.5); on link loss (7.10) back off (2.5) and
 *     connect to the next target; 406 handling (7.3); redirect and
 *     handoff (7.4); epochs (7.9).
 *   Controller (7.1.2, one link per accepted connection): T_REG_WAIT,
 *     nothing before REGISTER (6.9), the checks of 7.2.3 (a refusal with
 *     1300 carries the owner's REDIRECT_TARGETs) and version selection
 *     (5.2), heartbeats and T_INACT, link loss.
 *
 * Transactions are iqp_txn.h's.  Frames reach the link whole, after the
 * framer's header checks 1-5 (iqp_conn.h); the link applies checks 6-11,
 * the body validation of 4.4 and the procedures.  Everything else is done
 * through two callback tables: `io` (the connection, supplied by the
 * libuv glue) and `hooks` (the owner: events for logs, metrics and
 * registries; the controller's admission checks; the AGW's load; and the
 * handlers of the requests the link does not serve).  The link never
 * logs; it allocates only the messages it decodes and encodes.  The code
 * is in iqp_link.c (state, sending, timers) and iqp_link_rx.c (frames
 * received, registration). */
#ifndef PROTO_IQP_LINK_H
#define PROTO_IQP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_link_reg.h"
#include "iqp_txn.h"

/* 14.1 defaults. */
#define IQP_T_CONNECT_MS 5000u
#define IQP_T_REG_MS 10000u
#define IQP_T_REG_WAIT_MS 10000u
#define IQP_T_BACKOFF_BASE_MS 500u
#define IQP_T_BACKOFF_MAX_MS 30000u
#define IQP_BACKOFF_RESET_MS 60000u /* 2.5 item 3 */
#define IQP_MAX_REDIRECTS 3u
#define IQP_EARLY_FRAMES_MAX 4u     /* 6.9 item 2 */

/* Codes of 10.3 used by the link. */
#define IQP_ERR_NOT_IMPLEMENTED 501u
#define IQP_ERR_UNAVAILABLE 503u
#define IQP_ERR_FORBIDDEN 504u
#define IQP_ERR_INACTIVITY 1104u
#define IQP_ERR_REG_TIMEOUT 1105u
#define IQP_ERR_SUPERSEDED 1106u
#define IQP_ERR_REDIRECT 1300u

enum iqp_link_state {
	IQP_LINK_IDLE,        /* not started, or stopped */
	IQP_LINK_CONNECTING,  /* AGW: backoff wait, TCP and TLS setup */
	IQP_LINK_REGISTERING,
	IQP_LINK_IN_SERVICE,
	IQP_LINK_CLOSED,      /* controller: the connection is over */
	IQP_LINK_N_STATES,
};

const char *iqp_link_state_name(unsigned state); /* "in_service" */

enum iqp_link_ev {
	IQP_LEV_STATE = 1,   /* state changed: state, old_state */
	IQP_LEV_CONNECTING,  /* AGW: connecting to target */
	IQP_LEV_REGISTERED,  /* registration complete: peer (controller: the
			      * AGW's REGISTER; AGW: the controller's reply),
			      * hb_interval */
	IQP_LEV_REFUSED,     /* REGISTER refused: code, text (controller: we
			      * refused peer; AGW: the controller refused us) */
	IQP_LEV_LOST,        /* link loss of a registered link (7.10): code
			      * (CLOSE code, 0 for a connection error), remote */
	IQP_LEV_FAILED,      /* a connection ended before registration:
			      * code, remote, text; AGW: wait_ms, target */
	IQP_LEV_HEARTBEAT,   /* HEARTBEAT received; load when it carried one */
	IQP_LEV_STATUS,      /* NODE_STATUS received: load */
	IQP_LEV_DISCARDED,   /* a frame refused or dropped (late answer, bad
			      * body, 505, 1200...): code, text */
	IQP_LEV_TIMEOUT,     /* one of our transactions completed with 1202:
			      * msg_code */
	IQP_LEV_PEER_EPOCH,  /* AGW: the controller's epoch changed (7.9):
			      * peer, old_epoch */
	IQP_LEV_REDIRECTED,  /* AGW: following a redirect (1300) or handoff
			      * (7.4): target = number of targets, redirect =
			      * the first, code 1300 or 903 */
};

struct iqp_link_event {
	unsigned type;       /* enum iqp_link_ev */
	unsigned state, old_state;
	unsigned code;
	unsigned msg_code;
	bool remote;         /* code came from the peer (CLOSE or reply) */
	size_t target;
	uint32_t wait_ms;
	uint32_t hb_interval;
	uint64_t old_epoch;
	const char *text;
	const struct iqp_node_info *peer;
	const struct iqp_load *load;
	const struct iqp_redirect *redirect; /* AGW, CONNECTING, LOST, FAILED:
					      * the redirect target connected
					      * to next (NULL: the configured
					      * target `target`) */
};

struct iqp_link;

/* The connection of the link, supplied by the libuv glue. */
struct iqp_link_io {
	/* Writes one frame.  Returns 0 or an errno value (the link then
	 * treats the connection as lost). */
	int (*send)(void *arg, const uint8_t *frame, size_t len);
	/* Sends CLOSE `code` (0: none) and closes the connection, or abandons
	 * the connection attempt.  No iqp_link_conn_down follows. */
	void (*close)(void *arg, unsigned code, const char *text);
	/* AGW: opens a connection to configured target `target`, or to
	 * `redirect` when not NULL (7.4: authenticated with its name, else
	 * the configured name of that address); then iqp_link_connected or
	 * iqp_link_conn_down. */
	void (*connect)(void *arg, size_t target, const struct iqp_redirect *redirect);
	/* Registered: MAX_FRAME we receive, negotiated major, HB_INTERVAL. */
	void (*limits)(void *arg, uint32_t max_frame, uint8_t major,
		       uint32_t hb_interval);
};

/* A REQUEST or NOTIFY for the owner: answer it with iqp_link_answer
 * (same txid and code), now or later. */
typedef void iqp_link_call_h(void *arg, struct iqp_link *l,
			     const struct iqp_msg *req);

/* Requests and notifications the link does not serve itself (clauses 8,
 * 9, 7.4, 7.7, 7.8, 7.11, 7.12).  A NULL entry is answered with 501 (Not
 * Implemented, 10.3). */
struct iqp_link_calls {
	iqp_link_call_h *reserve, *configure, *modify, *release, *audit,
		*service_change, *event;
};

/* The owner. */
struct iqp_link_hooks {
	void (*event)(void *arg, struct iqp_link *l, const struct iqp_link_event *ev);
	/* Controller, 7.2.3 check 2: NODE_ID bound to the peer and authorised;
	 * returns 0 or 504 with text. */
	unsigned (*authorize)(void *arg, struct iqp_link *l,
			      const struct iqp_node_info *agw, char *text, size_t len);
	/* Controller, 7.2.3 check 4: returns 0, or 503 (with *retry_after,
	 * ms) or another code, with text.  Check 5 (449) is the link's. */
	unsigned (*admit)(void *arg, struct iqp_link *l,
			  const struct iqp_node_info *agw, char *text, size_t len,
			  uint32_t *retry_after);
	/* Controller, 7.4 item 1: when admit returned 1300, the targets to
	 * name in the reply (at most max, in preference order).  Returns how
	 * many; 0 (or no hook) turns the refusal into 503. */
	size_t (*redirect)(void *arg, struct iqp_link *l, const struct iqp_node_info *agw,
			   struct iqp_redirect *out, size_t max);
	/* AGW: current LOAD for REGISTER and HEARTBEAT (7.6 item 1). */
	void (*load)(void *arg, struct iqp_load *out);
	struct iqp_link_calls calls;
};

struct iqp_link_cfg {
	unsigned role;                      /* our role: IQP_ROLE_AGW/_CONTROLLER */
	const struct iqp_node_info *self;   /* borrowed: our node; AGW: the
					     * REGISTER content (method,
					     * reason, load are the link's) */
	struct iqp_link_params params;      /* ours (7.2.4); AGW: hb_interval
					     * proposed; controller: used when
					     * the AGW proposes none */
	size_t n_targets;                   /* AGW: controller targets */
	uint32_t t_connect, t_reg, t_reg_wait, backoff_base, backoff_max; /* 0: 14.1 */
	uint64_t seed;                      /* backoff jitter */
};

struct iqp_link {
	struct iqp_link_cfg cfg;
	const struct iqp_link_io *io;       /* borrowed */
	void *io_arg;
	const struct iqp_link_hooks *hooks; /* borrowed */
	void *hook_arg;
	uint8_t state;                      /* enum iqp_link_state */
	bool conn_up;                       /* a connection is attached */
	bool connecting;                    /* AGW: connect() outstanding */
	bool io_failed;                     /* a write failed: lose the link */
	bool stopping;                      /* iqp_link_stop: no reconnection */
	struct iqp_txn txn;                 /* owned */
	uint64_t t_state;                   /* T_CONNECT, T_REG_WAIT, backoff */
	uint64_t last_rx, last_tx, in_service_since;
	uint32_t hb_interval;               /* negotiated */
	uint32_t peer_max_frame;
	uint16_t version;                   /* negotiated */
	struct iqp_node_info peer;          /* the registered peer */
	bool registered_once;               /* AGW: a registration succeeded */
	size_t target;                      /* AGW: current target */
	unsigned attempt;                   /* AGW: backoff exponent n (2.5) */
	unsigned redirects;                 /* AGW: immediate reconnects (2.5 item 4) */
	/* AGW, 7.4: the targets of the redirect being followed replace the
	 * configured list until a registration succeeds or all have failed. */
	struct iqp_redirect redir[IQP_MAX_REDIRECT_TARGETS];
	uint8_t n_redir, redir_at;          /* 0: the configured list */
	bool handoff;                       /* REGISTER with HANDOFF 903 */
	unsigned early;                     /* controller: frames before REGISTER */
	uint64_t rng;
	uint8_t tag_register, tag_heartbeat, tag_release; /* transaction cookies */
};

/* Sets up a link in IDLE; l->cfg copies cfg (cfg->self stays borrowed).
 * Returns 0 or EINVAL. */
int iqp_link_init(struct iqp_link *l, const struct iqp_link_cfg *cfg,
		  const struct iqp_link_io *io, void *io_arg,
		  const struct iqp_link_hooks *hooks, void *hook_arg);
/* Frees the transaction state; the owner's requests in flight complete
 * with 1202. */
void iqp_link_free(struct iqp_link *l, uint64_t now);

/* AGW: connects to the first target.  Controller: a connection was
 * accepted; T_REG_WAIT starts. */
void iqp_link_start(struct iqp_link *l, uint64_t now);
/* AGW: the connection asked for is up (TCP, TLS): REGISTER is sent. */
void iqp_link_connected(struct iqp_link *l, uint64_t now);
/* The connection failed or ended by itself; code: CLOSE code the
 * connection sent (0 none). */
void iqp_link_conn_down(struct iqp_link *l, uint64_t now, unsigned code,
			const char *text);
/* One frame whose header passed 3.5 checks 1-5. */
void iqp_link_frame(struct iqp_link *l, uint64_t now,
		    const struct iqp_header *h, const uint8_t *body);
/* Timers: call at iqp_link_deadline (or later). */
void iqp_link_tick(struct iqp_link *l, uint64_t now);
/* When iqp_link_tick is next due; UINT64_MAX when no timer runs. */
uint64_t iqp_link_deadline(const struct iqp_link *l);
/* Ends the link for good: CLOSE `code` (1000 on shutdown, 1106 when
 * superseded) when connected.  AGW: IDLE, no reconnection; controller:
 * CLOSED. */
void iqp_link_stop(struct iqp_link *l, uint64_t now, unsigned code,
		   const char *text);

/* A REQUEST (req->hdr.code; kind, txid set here) to the registered peer.
 * done is called once: with the reply, or with err (error reply, or 1202
 * locally).  Returns 0, ENOTCONN (not registered), or an errno value. */
typedef void iqp_link_done_h(void *arg, struct iqp_link *l,
			     const struct iqp_msg *reply,
			     const struct iqp_error *err);
int iqp_link_request(struct iqp_link *l, uint64_t now, struct iqp_msg *req,
		     iqp_link_done_h *done, void *arg);
/* Answers a request or notification handed to a call handler: ans is the
 * REPLY (flag E for errors) or ACK with the request's txid and code;
 * err_code is its error code (0: success).  While the answer is awaited
 * the link sends PENDING every T_PEND, and after N_PEND of them answers
 * 506 itself (6.3).  Returns 0, EALREADY when that has happened (the owner
 * must undo the command's effect, 6.3 item 3), or an errno. */
int iqp_link_answer(struct iqp_link *l, uint64_t now, struct iqp_msg *ans,
		    unsigned err_code);

/* AGW, 7.4 item 2: after answering the controller's SERVICE_CHANGE
 * HANDOFF: CLOSE 1000 (a link loss, 7.10), then registration with the
 * targets t[0..n) in order, HANDOFF 903, without backoff.  Returns 0, or
 * EINVAL (no target, not an AGW) or ENOTCONN (not registered). */
int iqp_link_handoff(struct iqp_link *l, uint64_t now, const struct iqp_redirect *t,
		     size_t n);
/* AGW: the redirect target being tried, NULL on the configured list. */
const struct iqp_redirect *iqp_link_redirect_target(const struct iqp_link *l);

#endif
