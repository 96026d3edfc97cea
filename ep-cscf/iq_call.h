/* The controller's call procedures over Iq+ (SPEC.md clauses 8 and 9):
 * requests sent on a registered AGW link, never blocking the loop (each
 * completes through its done callback: the reply, an error reply, or
 * 1202 for a timeout or link loss; transactions, timeouts and
 * retransmission are the link's), AGW selection for a new context among
 * registered AGWs by reported load (skipping lost ones and those at
 * CRITICAL overload), and RESERVE failover: an error whose retry scope is
 * OTHER (5xx, 1202, link loss included) makes the next AGW be tried
 * before the request fails.
 *
 * EVENTs from AGWs are ACKed and handed to the owner; so is the loss of
 * an AGW's link.  A request whose owner has gone (iq_call_detach) is
 * completed quietly; a RESERVE that succeeded for a gone owner has its
 * context released at once, so no context outlives its call. */
#ifndef EPCSCF_IQ_CALL_H
#define EPCSCF_IQ_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "iq_registry.h"
#include "iqp_link.h"
#include "log.h"

struct iq_call_req;

/* What a new context needs of its AGW (capabilities of REGISTER, 7.2). */
#define IQ_NEED_BUNDLE 0x1u

/* reply or err (never both); link: the AGW link that answered (NULL when
 * none could be tried). */
typedef void iq_call_done_h(void *arg, struct iqp_link *link, const struct iqp_msg *reply,
			    const struct iqp_error *err);

struct iq_call_hooks {
	/* A failure event (ICE_CONSENT_LOST, ICE_FAILED, DTLS_FAILED,
	 * BEARER_RELEASED) for context_id on link. */
	void (*media_failed)(void *arg, struct iqp_link *link, uint32_t context_id,
			     unsigned event_type, unsigned code);
	/* The link is lost, or its AGW went out of service: its contexts
	 * are gone. */
	void (*link_lost)(void *arg, struct iqp_link *link);
	/* Whether a call owns context_id on link (9.1 item 4: the context
	 * of an EVENT nobody owns is released). */
	bool (*context_known)(void *arg, struct iqp_link *link, uint32_t context_id);
	/* The link is lost (7.10): its calls are held for T_HOLD. */
	void (*link_held)(void *arg, struct iqp_link *link);
	/* The AGW node_id registered again on link with the epoch of the held
	 * calls: they use link from now on (reconciliation follows). */
	void (*link_back)(void *arg, const char *node_id, struct iqp_link *link);
	/* T_HOLD expired, or the AGW came back with another epoch (7.9 item
	 * 3): the held calls of node_id end. */
	void (*hold_end)(void *arg, const char *node_id, const char *why);
	/* Reconciliation (iq_reconcile.h): the CONTEXT_IDs calls own on link,
	 * in *out (malloc'd, the caller frees; NULL when none); and a context
	 * the AGW no longer has (its call ends without RELEASE). */
	int (*contexts)(void *arg, struct iqp_link *link, uint32_t **out, size_t *n);
	void (*context_lost)(void *arg, struct iqp_link *link, uint32_t context_id);
	void *arg;
};

/* An AGW that just failed a request with retry scope OTHER (or timed out)
 * is tried after the others for a while (SPEC 10.2: the same peer only
 * after RETRY_AFTER). */
#define IQ_AVOID_MAX 16
#define IQ_AVOID_MS 5000u
struct iq_avoid {
	const void *link;   /* borrowed, compared only */
	uint64_t until;     /* loop time */
};

struct iq_calls {
	uv_loop_t *loop;                 /* borrowed */
	const struct iq_registry *reg;   /* borrowed: the iq_server's */
	const struct log *log;           /* borrowed */
	unsigned sub;
	struct iq_call_hooks hooks;
	struct iq_call_req *reqs;        /* owned: outstanding requests */
	struct iq_reconcile *recs;       /* owned: reconciliations in progress */
	struct iq_avoid avoid[IQ_AVOID_MAX];
	uint64_t rng;                    /* draws against ADMIT_PERCENT (7.6) */
};

void iq_calls_init(struct iq_calls *ic, uv_loop_t *loop, const struct iq_registry *reg,
		   const struct log *log, unsigned sub);
/* Detaches every request (process exit). */
void iq_calls_close(struct iq_calls *ic);

/* Sends req (borrowed until done or detach; its header code set) on
 * link, or, with link NULL, on the best AGW with what `need` says
 * (IQ_NEED_*), with failover.  *out (may be NULL) names the request for
 * iq_call_detach.  Returns 0, or ENOTCONN when no AGW can be tried (done
 * is not called then), ENOMEM. */
int iq_call_send(struct iq_calls *ic, struct iqp_link *link, unsigned need,
		 struct iqp_msg *req, iq_call_done_h *done, void *arg,
		 struct iq_call_req **out);
/* Whether an AGW in service offers `need` now. */
bool iq_call_available(const struct iq_calls *ic, unsigned need);
/* The owner is gone: done will not be called. */
void iq_call_detach(struct iq_call_req *r);
/* A RESERVE of a new context is in flight on link l. */
bool iq_call_reserving(const struct iq_calls *ic, const struct iqp_link *l);

/* The link hooks of the iq_server: EVENT NOTIFY (answered here; the
 * context of an event no call owns is released) and link loss. */
void iq_calls_event(struct iq_calls *ic, struct iqp_link *l, const struct iqp_msg *notify);
void iq_calls_link_lost(struct iq_calls *ic, struct iqp_link *l);
/* The hooks link_held, link_back and hold_end (NULL hooks: nothing). */
void iq_calls_link_held(struct iq_calls *ic, struct iqp_link *l);
void iq_calls_link_back(struct iq_calls *ic, const char *node_id, struct iqp_link *l);
void iq_calls_hold_end(struct iq_calls *ic, const char *node_id, const char *why);

/* The AGW to try for a new context, not in tried[0..n_tried), with
 * `need`: the one in service with the fewest active contexts; MINOR or
 * MAJOR overload after the others, and those in avoid[] (until their time,
 * against now) after those; a MAJOR one only when draw (0..99) is below
 * its ADMIT_PERCENT (absent: 50; 7.6 item 3); CRITICAL, draining and
 * out-of-service ones never.  Pure.  NULL when none. */
const struct iq_agw *iq_call_select(const struct iq_registry *reg, const void *const *tried,
				    size_t n_tried, unsigned need, const struct iq_avoid *avoid,
				    size_t n_avoid, uint64_t now, unsigned draw);

#endif
