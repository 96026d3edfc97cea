/* Internals shared by iqp_link.c (state, sending, connection life, timers,
 * public entry points) and iqp_link_rx.c (frames received, registration).
 * Not for use outside these two files. */
#ifndef PROTO_IQP_LINK_INT_H
#define PROTO_IQP_LINK_INT_H

#include "iqp_link.h"

#define T_OFF UINT64_MAX
#define ARENA_BIG 65536  /* builder memory for REGISTER */
#define ARENA_SMALL 4096 /* errors, heartbeats */

#define IQP_LINK_N_VERSIONS 1
/* The versions this node speaks (5.1): 1.0. */
extern const uint16_t iqp_link_versions[IQP_LINK_N_VERSIONS];

/* The AGW's retry decision after its connection goes (2.5 item 4). */
enum { RETRY_BACKOFF, RETRY_NOW };
struct retry {
	int mode;
	uint32_t at_least;
};

static inline uint32_t or_def(uint32_t v, uint32_t d)
{
	return v ? v : d;
}

static inline bool iqp_link_is_agw(const struct iqp_link *l)
{
	return l->cfg.role == IQP_ROLE_AGW;
}

static inline unsigned iqp_link_peer_role(const struct iqp_link *l)
{
	return iqp_link_is_agw(l) ? IQP_ROLE_CONTROLLER : IQP_ROLE_AGW;
}

/* Events to the owner. */
void iqp_link_emit(struct iqp_link *l, struct iqp_link_event *ev);
void iqp_link_set_state(struct iqp_link *l, unsigned s);
void iqp_link_discarded(struct iqp_link *l, const struct iqp_header *h,
			unsigned code, const char *text);

/* Sending: one frame; a message of the link (m owns cap bytes of builder
 * memory); a header-only frame; a REPLY or ACK recorded in the reply
 * cache; an error REPLY or ACK (verr: 4.4's element and offset); a REQUEST
 * or NOTIFY started as a transaction with cookie `user`. */
int iqp_link_xmit(struct iqp_link *l, uint64_t now, const uint8_t *f, size_t len);
int iqp_link_msg_start(struct iqp_msg *m, unsigned kind, unsigned flags,
		       unsigned code, uint32_t txid, size_t cap);
int iqp_link_send_header(struct iqp_link *l, uint64_t now, unsigned kind,
			 unsigned code, uint32_t txid);
int iqp_link_send_answer(struct iqp_link *l, uint64_t now, struct iqp_msg *m,
			 unsigned err_code);
void iqp_link_send_error(struct iqp_link *l, uint64_t now,
			 const struct iqp_header *h, unsigned code,
			 const char *text, const struct iqp_error *verr);
int iqp_link_send_request(struct iqp_link *l, uint64_t now, struct iqp_msg *m,
			  void *user);
/* After every input: a failed write loses the link; queued transactions
 * go out as the peer's window opens. */
void iqp_link_settle(struct iqp_link *l, uint64_t now);

/* A transaction of ours completed: with the answer m, or err. */
void iqp_link_complete(struct iqp_link *l, uint64_t now, void *user,
		       const struct iqp_msg *m, const struct iqp_error *err);

/* The connection is gone (r: the AGW's retry, NULL for backoff); we close
 * it, with CLOSE `code` when not 0. */
void iqp_link_lost(struct iqp_link *l, uint64_t now, unsigned code, bool remote,
		   const char *text, const struct retry *r);
void iqp_link_drop(struct iqp_link *l, uint64_t now, unsigned code,
		   const char *text, const struct retry *r);

/* AGW, 7.4: follow targets t[0..n) (a 1300 reply or a handoff, code);
 * counts one redirect.  redirect_end: back to the configured list. */
void iqp_link_redirect_follow(struct iqp_link *l, const struct iqp_redirect *t, size_t n,
			      unsigned code);
void iqp_link_redirect_end(struct iqp_link *l);

/* Registration (iqp_link_rx.c): the AGW's REGISTER, and its answer. */
void iqp_link_register_send(struct iqp_link *l, uint64_t now);
void iqp_link_register_done(struct iqp_link *l, uint64_t now,
			    const struct iqp_msg *m, const struct iqp_error *err);

#endif
