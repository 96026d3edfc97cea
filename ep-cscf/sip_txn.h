/* SIP transactions of the proxy (RFC 3261 section 17), non-INVITE.
 *
 * A client transaction is a request from a browser flow forwarded to IMS
 * over UDP: retransmitted with Timer E, given up with Timer F (the proxy
 * then answers 408 on the flow), kept for Timer K after the final response
 * to absorb retransmitted responses.  A server transaction is a request
 * from IMS forwarded to a browser: retransmissions of the request are
 * answered from the cached final response until Timer J.
 *
 * Each transaction is found by our branch (the Via we added); server
 * transactions also by the upstream branch, to absorb retransmissions. */
#ifndef EPCSCF_SIP_TXN_H
#define EPCSCF_SIP_TXN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "ims_peer.h"

#define SIP_T1_MS 500
#define SIP_T2_MS 4000
#define SIP_T4_MS 5000
#define SIP_BRANCH_MAX 64

enum txn_kind { TXN_CLIENT, TXN_SERVER };

struct txn;
struct txn_table;

/* Called when Timer F fires on a client transaction that got no final
 * response; the table destroys the transaction afterwards. */
typedef void (txn_timeout_h)(void *arg, struct txn *t);
/* Called to (re)send bytes toward IMS. */
typedef void (txn_send_h)(void *arg, const char *buf, size_t len,
			  const struct ims_peer *to);

struct txn {
	struct txn *next_ours, *next_up; /* hash chains; owned by the table */
	struct txn **pprev_ours, **pprev_up; /* what points here: O(1) unlink */
	size_t h_ours, h_up;             /* full hashes (the table grows) */
	struct txn_table *table;
	enum txn_kind kind;
	char branch[SIP_BRANCH_MAX];     /* ours */
	char up_branch[SIP_BRANCH_MAX];  /* server: the IMS node's */
	uint64_t flow_id;
	struct ims_peer peer;            /* client: next hop; server: IMS node */
	char *wire;                      /* owned: client request / server final response */
	size_t wire_len;
	void *req;                       /* owned msg_t: client request (for 408) */
	int final;                       /* a final response passed */
	unsigned rtx_ms;
	uv_timer_t retransmit, lifetime; /* E / F (client), J (server) */
	int handles_open;
	struct txn *k_next;              /* Timer K queue (UDP client, final) */
	uint64_t k_due;                  /* loop time Timer K fires */
};

struct txn_table {
	uv_loop_t *loop;
	struct txn **ours, **up; /* owned bucket arrays */
	size_t n_buckets, n;
	txn_timeout_h *timeout;
	txn_send_h *send;
	void *arg;
	void (*free_req)(void *req);
	/* Timer K: the same T4 for every UDP client transaction, so a FIFO
	 * is in expiry order and one libuv timer serves it.  Tens of
	 * thousands wait there at thousands of REGISTERs a second; in
	 * libuv's timer heap each would make every other timer's start and
	 * stop dearer. */
	struct txn *k_head, *k_tail;
	uv_timer_t k_timer;
};

int txn_table_init(struct txn_table *t, uv_loop_t *loop, txn_timeout_h *timeout,
		   txn_send_h *send, void (*free_req)(void *), void *arg);
/* Closes every transaction's timers; memory is freed when they close. */
void txn_table_close(struct txn_table *t);

/* Client: takes ownership of wire (malloc'd) and req; sends wire now and
 * arms Timer F, and Timer E on UDP (a reliable transport does not
 * retransmit).  Returns NULL on ENOMEM (wire and req freed). */
struct txn *txn_client_start(struct txn_table *t, const char *branch,
			     uint64_t flow_id, const struct ims_peer *to,
			     char *wire, size_t wire_len, void *req);
/* Client: a response arrived (provisional or final). */
void txn_client_response(struct txn *x, int status);
/* Client: the final response has been handled; the request and its wire
 * copy are freed now rather than after Timer K, which needs only the
 * branch (at thousands of REGISTERs a second the copies held for T4 were
 * most of the memory per flow: docs/benchmarks.md). */
void txn_client_drop_request(struct txn *x);

/* Server: records a request from IMS forwarded to a flow. */
struct txn *txn_server_start(struct txn_table *t, const char *our_branch,
			     const char *up_branch, uint64_t flow_id,
			     const struct ims_peer *from);
/* Server: the final response (copied) is sent and cached until Timer J. */
void txn_server_final(struct txn *x, const char *buf, size_t len);

struct txn *txn_find_ours(const struct txn_table *t, const char *branch);
struct txn *txn_find_up(const struct txn_table *t, const char *up_branch);

/* Removes and frees (after its timers close). */
void txn_destroy(struct txn *x);

#endif
