/* The AGW's administrative state (proto/SPEC.md 7.1.1, 7.7, 7.8, 11.4):
 *
 *   IN_SERVICE --drain--> DRAINING --last context gone, or SC_DELAY--> OUT_OF_SERVICE
 *       ^                    |                                            |
 *       +------restore-------+---------------------restore----------------+
 *
 * A drain comes from the operator (SIGUSR1, with iq.drain_timeout as
 * SC_DELAY) or from the controller (SERVICE_CHANGE GRACEFUL 905); a
 * restore from the operator (SIGUSR2) or the controller (RESTART 918 from
 * DRAINING, 900 from OUT_OF_SERVICE); the controller may also force the
 * AGW out of service (FORCED 905: every context of the link released, no
 * EVENTs).  New contexts are refused with 521 while DRAINING and every
 * RESERVE, CONFIGURE and MODIFY with 503 while OUT_OF_SERVICE (7.1).
 *
 * The state is the AGW's and survives link loss (7.7 item 6): the
 * controller's view of it on the current registration is tracked apart,
 * and every difference is reported with the SERVICE_CHANGE of 7.1.1
 * (GRACEFUL 905, FORCED 905, RESTART 918 or 900), the first request after
 * each registration included.  A refused or timed-out report is retried
 * every IQ_ADMIN_RETRY_MS. */
#ifndef AGW_IQ_ADMIN_H
#define AGW_IQ_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "iq_calls.h"
#include "metrics.h"

#define IQ_ADMIN_RETRY_MS 5000

enum iq_admin_state { IQ_ADMIN_IN_SERVICE, IQ_ADMIN_DRAINING, IQ_ADMIN_OUT_OF_SERVICE, IQ_ADMIN_N };

const char *iq_admin_state_name(unsigned state); /* "draining" */

struct iq_admin;

struct iq_admin_gauge {
	const struct iq_admin *a;
	unsigned state;
};

struct iq_admin {
	struct iq_calls *calls;        /* borrowed: media plane, link, log */
	uint8_t state;                 /* ours (enum iq_admin_state) */
	uint8_t agreed;                /* the controller's, on this registration */
	uint8_t sending;               /* where our SERVICE_CHANGE in flight leads */
	bool registered, in_flight;
	bool kick;                     /* check the drain at the next timer run */
	uint64_t deadline_ms;          /* SC_DELAY of the drain (loop clock), 0: none */
	uint64_t retry_ms;             /* next report attempt after a failure, 0: none */
	uint32_t drain_timeout_s;      /* iq.drain_timeout: SC_DELAY of an operator drain */
	uv_timer_t timer;              /* owned: kick, SC_DELAY, retry */
	uv_signal_t sig_drain, sig_restore; /* owned: SIGUSR1, SIGUSR2 */
	bool open;
	struct iq_admin_gauge gauges[IQ_ADMIN_N];
	struct metric *sc_sent, *sc_received;
};

/* Starts in IN_SERVICE: the timer, the signal watchers, the metrics
 * eimsagw_iq_admin_state{state} and eimsagw_iq_service_changes_total{by};
 * sets calls->admin.  Returns 0 or an errno with err. */
int iq_admin_start(struct iq_admin *a, struct iq_calls *calls, uint32_t drain_timeout_s,
		   struct metrics *metrics, char *err, size_t errlen);
/* Closes the handles (before the media plane stops). */
void iq_admin_stop(struct iq_admin *a);

/* Operator actions (also the signals): drain, restore. */
void iq_admin_drain(struct iq_admin *a);
void iq_admin_restore(struct iq_admin *a);

/* From iq_calls_link_change: registered (up) or lost. */
void iq_admin_link_change(struct iq_admin *a, bool up);
/* A context was created or deleted (the media plane's watch): a drain
 * may be complete. */
void iq_admin_contexts_changed(struct iq_admin *a);

#endif
