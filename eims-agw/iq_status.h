/* The AGW's load and overload toward the controller (proto/SPEC.md 7.6):
 * OVERLOAD_LEVEL and ADMIT_PERCENT in every LOAD it sends (REGISTER,
 * HEARTBEAT, AUDIT, NODE_STATUS), NODE_STATUS when they change or a
 * figure moves by more than 10 % of capacity (load_report.h: the rules),
 * checked once per T_STATUS_MIN and at once when contexts come or go; and
 * the admission that goes with the level: at CRITICAL a new context that
 * is not a priority one (EMERGENCY, or PRIORITY 8 or more, 7.6 item 4) is
 * refused with 511. */
#ifndef AGW_IQ_STATUS_H
#define AGW_IQ_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "iq_calls.h"
#include "load_report.h"
#include "metrics.h"

struct iq_status {
	struct iq_calls *calls;        /* borrowed: media plane, link, log */
	struct load_thresholds th;
	struct load_capacity cap;
	struct load_report rep;        /* what the controller was told */
	uint8_t level;                 /* current OVERLOAD_LEVEL */
	bool registered, open;
	bool computing;                /* our own reading: not a report */
	bool resend;                   /* an ACK refused with 1200 (6.4 item 2) */
	uv_timer_t timer;              /* owned: every T_STATUS_MIN, and at once */
	struct metric *sent;
};

/* Hooks itself to the client's LOAD (iq_client.load_hook) and sets
 * calls->status.  Returns 0 or an errno with err (metrics). */
int iq_status_start(struct iq_status *st, struct iq_calls *calls, const struct load_thresholds *th,
		    struct metrics *metrics, char *err, size_t errlen);
void iq_status_stop(struct iq_status *st);
/* From iq_calls_link_change. */
void iq_status_link_change(struct iq_status *st, bool up);
/* Contexts came or went: look at the load now. */
void iq_status_kick(struct iq_status *st);
/* 7.6 item 3: true when a new context of this priority is refused (511). */
bool iq_status_refuses(struct iq_status *st, bool priority);

#endif
