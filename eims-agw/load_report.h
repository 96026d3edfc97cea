/* The AGW's load reporting rules (proto/SPEC.md 7.6), pure: no I/O, time
 * passed in.
 *
 *   Overload level from occupancy: the larger of the shares of contexts
 *   and media ports in use, in percent, against three thresholds (MINOR,
 *   MAJOR, CRITICAL); a level is left only when the occupancy is
 *   LOAD_HYSTERESIS points below its threshold, so that one call more or
 *   less does not flap it.  ADMIT_PERCENT follows the level: 100 up to
 *   MINOR, 50 at MAJOR (the controller's default, 7.6 item 3), 0 at
 *   CRITICAL.
 *
 *   NODE_STATUS (7.6 item 2) is due when OVERLOAD_LEVEL or ADMIT_PERCENT
 *   differ from what the controller was last told, or a figure moved by
 *   more than 10 % of its capacity (ACTIVE_CONTEXTS of MAX_CONTEXTS,
 *   FREE_PORTS of the ports, CPU_LOAD of 100); at most one per
 *   T_STATUS_MIN, except when the level rose.  "Told" counts REGISTER,
 *   HEARTBEAT and AUDIT too, which carry LOAD as well. */
#ifndef AGW_LOAD_REPORT_H
#define AGW_LOAD_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "iqp_link_reg.h"

#define LOAD_T_STATUS_MIN_MS 1000u  /* T_STATUS_MIN (14.1) */
#define LOAD_HYSTERESIS 5u          /* percentage points */

/* OVERLOAD_LEVEL values (13). */
enum { LOAD_NONE = 1, LOAD_MINOR, LOAD_MAJOR, LOAD_CRITICAL };

/* Percent of capacity in use at which each level starts:
 * 0 < minor < major < critical <= 100. */
struct load_thresholds {
	uint8_t minor, major, critical;
};

/* 0, or EINVAL when the thresholds are not in that order. */
int load_thresholds_check(const struct load_thresholds *t);

/* Percent of cap that `used` is (at most 100; cap 0: 0). */
unsigned load_percent(uint64_t used, uint64_t cap);

/* The level for occupancy `pct`, coming from level `current`. */
uint8_t load_level(const struct load_thresholds *t, unsigned pct, uint8_t current);
uint8_t load_admit_percent(uint8_t level);

/* What the controller was told last. */
struct load_report {
	bool told;                 /* anything since registration */
	struct iqp_load last;
	bool status_sent;          /* a NODE_STATUS since registration */
	uint64_t status_ms;        /* when the last one was sent */
};

/* The capacities the 10 % rule measures against (0: not declared). */
struct load_capacity {
	uint32_t contexts, ports;
};

/* Registered again: nothing told yet on this registration. */
void load_report_reset(struct load_report *r);
/* cur went to the controller (REGISTER, HEARTBEAT, AUDIT, NODE_STATUS). */
void load_report_told(struct load_report *r, const struct iqp_load *cur);
/* A NODE_STATUS with cur was sent at now. */
void load_report_sent(struct load_report *r, const struct iqp_load *cur, uint64_t now);
/* Whether a NODE_STATUS is due at now with cur; when one is due but held
 * back by T_STATUS_MIN, false with *retry_at set (else *retry_at 0). */
bool load_report_due(const struct load_report *r, const struct iqp_load *cur,
		     const struct load_capacity *cap, uint64_t now, uint64_t *retry_at);

#endif
