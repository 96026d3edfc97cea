/* INVITE transactions of the proxy (RFC 3261 17.1.1 and 17.2.1 with the
 * RFC 6026 Accepted states), one per hop side, owned by a call.
 *
 * A client transaction sends an INVITE toward the next hop: Timer A
 * retransmits over an unreliable transport (IMS over UDP; never toward a
 * WebSocket), Timer B ends the wait for a first response, Timer C (the
 * proxy's, 16.6 item 11) the wait for a final one.  A non-2xx final
 * response is ACKed here (the ACK the owner built) and the transaction
 * stays Completed for Timer D to re-ACK retransmissions; a 2xx moves it to
 * Accepted for 64*T1 so that retransmitted 2xx reach the owner.
 *
 * A server transaction receives an INVITE from the previous hop: the
 * owner sends 100 at once and later responses through it; retransmitted
 * INVITEs get the last response again; a non-2xx final is retransmitted by
 * Timer G over UDP until the ACK (Timer H gives up), then Timer I absorbs
 * ACK retransmissions; a 2xx moves it to Accepted (Timer L).
 *
 * The owner sends bytes (ops->send) toward the transaction's destination
 * and hears of timeouts (ops->timeout) and of the end (ops->done: the
 * transaction is unlinked and freed after it returns). */
#ifndef EPCSCF_SIP_INVITE_TXN_H
#define EPCSCF_SIP_INVITE_TXN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ims_peer.h"
#include "sip_txn.h"

#define SIP_TIMER_C_MS (181u * 1000u) /* > 3 minutes (16.6 item 11) */

enum itxn_kind { ITXN_CLIENT, ITXN_SERVER };

enum itxn_state {
	ITXN_CALLING,    /* client: no response yet */
	ITXN_PROCEEDING, /* provisional seen (client) or sent (server) */
	ITXN_COMPLETED,  /* non-2xx final */
	ITXN_CONFIRMED,  /* server: ACK received */
	ITXN_ACCEPTED,   /* 2xx final (RFC 6026) */
	ITXN_TERMINATED,
};

/* Where a transaction's messages go: a browser flow or an IMS peer. */
struct itxn_dest {
	int ws;                /* 1: the flow flow_id; 0: peer */
	uint64_t flow_id;
	struct ims_peer peer;
};

struct itxn;

enum itxn_timeout { ITXN_TIMER_B, ITXN_TIMER_C, ITXN_TIMER_H };

struct itxn_ops {
	void (*send)(void *owner, struct itxn *x, const char *buf, size_t len);
	/* Timer B or C (client, no final response) or H (server, no ACK). */
	void (*timeout)(void *owner, struct itxn *x, enum itxn_timeout which);
	/* Terminated: x is freed once its timers have closed. */
	void (*done)(void *owner, struct itxn *x);
};

struct itxn {
	struct itxn *next;            /* the owner's list */
	const struct itxn_ops *ops;   /* borrowed */
	void *owner;                  /* borrowed: the call */
	uv_loop_t *loop;              /* borrowed */
	enum itxn_kind kind;
	enum itxn_state state;
	char branch[SIP_BRANCH_MAX];  /* client: ours; server: the sender's */
	char sent_branch[SIP_BRANCH_MAX]; /* server: the branch of the INVITE
					   * it caused downstream */
	struct itxn_dest dest;
	char *wire;                   /* owned: client: the INVITE sent;
				       * server: the last response sent */
	size_t wire_len;
	char *ack;                    /* owned: client: ACK of a non-2xx */
	size_t ack_len;
	int status;                   /* last status seen or sent */
	int cancelled;                /* client: CANCEL wanted or sent */
	unsigned rtx_ms;
	uv_timer_t rtx, life;
	int handles_open;
};

/* Client: takes wire (malloc'd); sends it.  Returns 0 or ENOMEM (wire
 * freed, nothing sent). */
int itxn_client_start(struct itxn **out, uv_loop_t *loop, const struct itxn_ops *ops,
		      void *owner, const char *branch, const struct itxn_dest *to,
		      char *wire, size_t wire_len);
/* Client: a response arrived.  Returns 1 when the owner should act on it
 * (the first of each provisional, the first final, each 2xx while
 * Accepted), 0 for an absorbed retransmission.  For a first non-2xx final
 * the owner then calls itxn_client_ack. */
int itxn_client_response(struct itxn *x, int status);
/* Client: sends the ACK (malloc'd, taken) of the non-2xx final response
 * and keeps it for Timer D. */
void itxn_client_ack(struct itxn *x, char *ack, size_t len);

/* Server: a new INVITE from the previous hop with its top Via branch. */
int itxn_server_start(struct itxn **out, uv_loop_t *loop, const struct itxn_ops *ops,
		      void *owner, const char *branch, const struct itxn_dest *from);
/* Server: sends a response (copied) and moves the state on. */
void itxn_server_respond(struct itxn *x, int status, const char *buf, size_t len);
/* Server: the INVITE came again: the last response is sent again. */
void itxn_server_retransmit(struct itxn *x);
/* Server: an ACK for the non-2xx final response.  Returns 1 when it
 * matched (absorbed), 0 otherwise. */
int itxn_server_ack(struct itxn *x);

/* Ends the transaction at once (call torn down, process exit). */
void itxn_terminate(struct itxn *x);

#endif
