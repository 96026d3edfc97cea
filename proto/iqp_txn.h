/* Iq+ transactions (SPEC.md clause 6) as pure state: time is passed in (ms
 * of a monotonic clock), frames are passed in and out as bytes; no I/O, no
 * clock, no logging.  One struct iqp_txn per link holds both directions:
 *
 *   requester (our txid space): txid allocation (6.1), T_TXN restarted by
 *     PENDING and T_TXN_MAX (6.2), local completion with 1202, abandoned
 *     txids kept for CACHE_TTL (6.2 item 3), NOTIFY/ACK (6.4), and the
 *     peer's MAX_OUTSTANDING window with a local queue (6.7 item 2);
 *   responder (the peer's txid space): the reply cache keyed by txid, in
 *     progress then done for CACHE_TTL (6.5), NOTIFYs processed (6.4), and
 *     our MAX_OUTSTANDING with 1200 for the excess and CLOSE 1200 for a
 *     flood (6.7 items 3-4).
 *
 * Lookups are by hash of txid; every timer list is FIFO because each one
 * has a single duration, so the next deadline is read in O(1). */
#ifndef PROTO_IQP_TXN_H
#define PROTO_IQP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_frame.h"

/* 14.1 and 7.2.4 defaults. */
#define IQP_T_TXN_MS 5000u
#define IQP_T_TXN_MAX_MS 60000u
#define IQP_CACHE_TTL_MS 30000u
#define IQP_MAX_OUTSTANDING 256u
#define IQP_T_PEND_MS 1000u      /* 6.3 item 2 */
#define IQP_N_PEND 30u           /* 6.3 item 3 */
#define IQP_ERR_PENDINGS 506u    /* N_PEND reached */

/* 10.3 codes of the transaction layer. */
#define IQP_ERR_FLOW 1200u     /* too many outstanding transactions */
#define IQP_ERR_TIMEOUT 1202u  /* local: timed out or outcome unknown */
#define IQP_ERR_NOT_READY 505u /* before registration (not cached, 6.5) */

#define IQP_TXN_BUCKETS 256u

/* A doubly linked FIFO of entries (intrusive). */
struct iqp_txn_link {
	struct iqp_txn_link *prev, *next;
};
struct iqp_txn_list {
	struct iqp_txn_link head; /* sentinel */
	size_t n;
};

/* A transaction we started (REQUEST or NOTIFY). */
struct iqp_txn_out {
	struct iqp_txn_out *hnext;   /* hash chain */
	struct iqp_txn_link q;       /* queued, by_deadline or abandoned */
	struct iqp_txn_link f;       /* by_first, while in flight */
	uint32_t txid;
	uint16_t code;
	uint8_t kind;                /* IQP_KIND_REQUEST or IQP_KIND_NOTIFY */
	uint8_t state;               /* enum iqp_txn_out_state */
	uint64_t first;              /* first transmission, ms */
	uint64_t deadline;           /* T_TXN expiry, or end of abandonment */
	void *user;                  /* borrowed: the requester's cookie */
	uint8_t *frame;              /* owned while queued */
	size_t len;
};

/* A transaction the peer started, in our reply cache. */
struct iqp_txn_in {
	struct iqp_txn_in *hnext;
	struct iqp_txn_link l;       /* in_progress or done */
	uint32_t txid;
	uint16_t code;
	uint8_t kind;
	bool done;
	bool counted;                /* counts against MAX_OUTSTANDING */
	uint64_t expires;            /* done: CACHE_TTL after the answer */
	uint64_t pend_at;            /* REQUEST in progress: next PENDING */
	uint8_t pendings;            /* PENDINGs sent (6.3) */
	uint8_t *answer;             /* owned: REPLY or ACK frame, once done */
	size_t len;
};

struct iqp_txn {
	uint32_t next_txid;          /* 6.1; never reset by reconnection */
	/* Requester side. */
	uint32_t peer_max_outstanding; /* the peer's window (6.7) */
	uint32_t peer_cache_ttl;     /* how long abandoned txids are kept */
	uint32_t t_txn, t_txn_max;
	struct iqp_txn_out *out[IQP_TXN_BUCKETS];
	struct iqp_txn_list queued, by_deadline, by_first, abandoned;
	size_t in_flight;            /* counted (HEARTBEAT excluded) */
	bool hb_in_flight;
	/* Responder side. */
	uint32_t max_outstanding;    /* our window for the peer */
	uint32_t cache_ttl;          /* our reply cache lifetime */
	struct iqp_txn_in *in[IQP_TXN_BUCKETS];
	struct iqp_txn_list in_progress, done;
	size_t executing;            /* counted entries in progress */
	size_t excess;               /* refused with 1200 since the window
				      * was last open (flood detection) */
};

enum iqp_txn_out_state {
	IQP_TXN_S_QUEUED = 1,
	IQP_TXN_S_IN_FLIGHT,
	IQP_TXN_S_ABANDONED,
};

/* Defaults of 7.2.4 and 14.1 in both directions, txid counter at 1. */
void iqp_txn_init(struct iqp_txn *t);
/* Frees every entry (queued frames, cached answers). */
void iqp_txn_free(struct iqp_txn *t);

/* The next txid of our space (6.1 item 1): 1, 2, ... 0xFFFFFFFF, 1. */
uint32_t iqp_txn_alloc_id(struct iqp_txn *t);

/* --- Requester ------------------------------------------------------ */

/* Starts the transaction whose encoded REQUEST or NOTIFY is `frame` (its
 * header gives kind, code and txid).  When the peer's window has room
 * (HEARTBEAT: when no other HEARTBEAT is in flight), T_TXN starts and
 * *send_now is true: the caller writes the frame.  Otherwise the frame is
 * copied into the local queue (no T_TXN while queued, 6.7 item 2).
 * Returns 0; EBUSY for a HEARTBEAT while one is in flight (nothing
 * started); EEXIST when the txid is still in use; EINVAL; ENOMEM. */
int iqp_txn_start(struct iqp_txn *t, const uint8_t *frame, size_t len,
		  void *user, uint64_t now, bool *send_now);

/* Moves the oldest queued transaction into flight when the window has
 * room: returns true with the frame to write (*frame: heap memory the
 * caller frees).  Call after every completion. */
bool iqp_txn_dequeue(struct iqp_txn *t, uint64_t now, uint8_t **frame,
		     size_t *len);

enum iqp_txn_match {
	IQP_TXN_MATCHED = 1, /* REPLY or ACK: complete; *user set */
	IQP_TXN_PENDING,     /* PENDING: T_TXN restarted; *user set */
	IQP_TXN_LATE,        /* no such transaction in flight (3.5 check 10) */
	IQP_TXN_ABANDONED,   /* answer to an abandoned txid (6.2 item 4) */
	IQP_TXN_MISMATCH,    /* code or kind differs: CLOSE 401 (check 11) */
};

/* Matches a REPLY, PENDING or ACK received.  Returns enum iqp_txn_match. */
int iqp_txn_answer(struct iqp_txn *t, const struct iqp_header *h,
		   uint64_t now, void **user);

/* A transaction completed locally. */
struct iqp_txn_end {
	uint32_t txid;
	uint16_t code;
	uint8_t kind;
	void *user;
};

/* One transaction whose T_TXN or T_TXN_MAX has expired at `now`: it is
 * completed locally with 1202 and its txid kept as abandoned (6.2 item 3).
 * Returns true with *end; call until false.  Also drops cache entries and
 * abandoned txids whose time is over. */
bool iqp_txn_expire(struct iqp_txn *t, uint64_t now, struct iqp_txn_end *end);

/* Connection lost (6.6 item 3): one transaction in flight or queued,
 * completed locally with 1202 (in flight: kept as abandoned; queued: never
 * sent, dropped).  Returns true with *end; call until false. */
bool iqp_txn_fail(struct iqp_txn *t, uint64_t now, struct iqp_txn_end *end);

/* --- Responder ------------------------------------------------------ */

enum iqp_txn_verdict {
	IQP_TXN_NEW = 1, /* execute it, then iqp_txn_answered */
	IQP_TXN_RUNNING, /* a REQUEST already in progress: send PENDING */
	IQP_TXN_REPEAT,  /* already answered: resend *cached byte for byte */
	IQP_TXN_EXCESS,  /* over MAX_OUTSTANDING: answer 1200 at once */
	IQP_TXN_FLOOD,   /* over 2 x MAX_OUTSTANDING: CLOSE 1200 */
};

/* A REQUEST or NOTIFY received (after 3.5 checks 1-9).  Returns enum
 * iqp_txn_verdict; for IQP_TXN_REPEAT *cached and *cached_len are the
 * answer sent before (borrowed until the next call on t).  HEARTBEAT is
 * neither counted nor cached (6.5 item 4, 6.7 item 1). */
int iqp_txn_received(struct iqp_txn *t, const struct iqp_header *h,
		     uint64_t now, const uint8_t **cached, size_t *cached_len);

/* The REPLY or ACK `frame` for a transaction accepted as IQP_TXN_NEW has
 * been sent.  err_code is its error code (0: success).  The entry leaves
 * the window; the answer is cached for CACHE_TTL unless 6.5 item 4 says
 * otherwise (REGISTER, HEARTBEAT, AUDIT; 1200 and 505).  Returns 0, ENOENT
 * (no such transaction in progress), ENOMEM (then not cached). */
int iqp_txn_answered(struct iqp_txn *t, const uint8_t *frame, size_t len,
		     unsigned err_code, uint64_t now);

/* 6.3 items 2-3: a REQUEST still in progress T_PEND after its receipt or
 * its last PENDING.  Returns true with its txid and code: the caller sends
 * PENDING, or, when *give_up (N_PEND PENDINGs were sent), an error REPLY
 * 506 through the normal answer path; call until false. */
bool iqp_txn_pend_due(struct iqp_txn *t, uint64_t now, uint32_t *txid,
		      uint16_t *code, bool *give_up);

/* True while the peer's REQUEST or NOTIFY txid (kind: of the answer,
 * REPLY or ACK) waits for our answer; false once answered (by us, or with
 * 506 after N_PEND) or unknown.  HEARTBEAT is never tracked: true. */
bool iqp_txn_awaits_answer(const struct iqp_txn *t, unsigned answer_kind,
			   uint16_t code, uint32_t txid);

/* --- Both ------------------------------------------------------------ */

/* Earliest time iqp_txn_expire has something to do; UINT64_MAX if none. */
uint64_t iqp_txn_next_deadline(const struct iqp_txn *t);

/* The association changed (7.9 item 5, 6.5 item 5): drops the reply cache
 * (entries in progress stay until answered, then are not cached) and the
 * abandoned txids.  Transactions in flight are the caller's to fail first.
 * The txid counter is kept. */
void iqp_txn_flush(struct iqp_txn *t);

/* Transactions in flight toward the peer, counted against its window. */
size_t iqp_txn_in_flight(const struct iqp_txn *t);
size_t iqp_txn_queued(const struct iqp_txn *t);

#endif
