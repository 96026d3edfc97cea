/* The AGWs known to this controller, by NODE_ID (SPEC.md 7.2, 7.9, 7.10):
 * the link that holds each registration, its epoch (restart detection),
 * address, load and last heartbeat.  Entries outlive their links so that
 * a re-registration can be compared with the previous epoch; the table is
 * bounded and drops the oldest lost entry when full.  Pure: no I/O. */
#ifndef EPCSCF_IQ_REGISTRY_H
#define EPCSCF_IQ_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_link_reg.h"
#include "metrics.h"

/* IN_SERVICE, DRAINING and OUT_OF_SERVICE are registered links (7.1.2);
 * only IN_SERVICE AGWs get new contexts (7.7 item 3). */
enum iq_agw_state {
	IQ_AGW_IN_SERVICE,
	IQ_AGW_DRAINING,
	IQ_AGW_OUT_OF_SERVICE,
	IQ_AGW_LOST,
	IQ_AGW_N_STATES
};

struct iq_agw {
	struct iq_agw *next;
	char node_id[IQP_NODE_ID_MAX + 1];
	char addr[64];
	uint64_t epoch;
	uint8_t state;               /* enum iq_agw_state */
	const void *link;            /* borrowed: the registered link, NULL
				      * once lost */
	bool has_load;
	struct iqp_load load;
	uint32_t max_contexts;
	uint8_t n_realms;
	uint64_t registered_ms;      /* wall clock, ms since 1970 */
	uint64_t last_heartbeat_ms;  /* idem; 0 before the first */
	uint64_t lost_ms;
	bool holding;                /* lost, its calls held for T_HOLD (7.10) */
	bool drained_by_us;          /* iq.drain took it out of service (7.7 item 2) */
	bool sc_pending;             /* our SERVICE_CHANGE in flight */
};

struct iq_registry;

struct iq_registry_gauge {
	const struct iq_registry *r;
	unsigned state;
};

struct iq_registry {
	struct iq_agw *head;         /* owned, most recently registered first */
	size_t n, max;
	struct iq_registry_gauge gauges[IQ_AGW_N_STATES];
};

const char *iq_agw_state_name(unsigned state);

void iq_registry_init(struct iq_registry *r, size_t max);
void iq_registry_free(struct iq_registry *r);

/* What a registration replaced. */
struct iq_registry_prev {
	bool known;                  /* the NODE_ID was in the table */
	uint64_t epoch;              /* its previous epoch */
	const void *link;            /* its previous link if still registered */
	bool holding;                /* it was lost with its calls held */
};

/* Records a successful registration of `agw` on `link`.  Returns 0, or
 * ENOSPC when the table is full of registered AGWs, ENOMEM. */
int iq_registry_register(struct iq_registry *r, const struct iqp_node_info *agw,
			 const char *addr, const void *link, uint64_t now_ms,
			 struct iq_registry_prev *prev);
/* True when one more AGW could register (7.2.3 check 4). */
bool iq_registry_has_room(const struct iq_registry *r, const char *node_id);
/* Link loss: the entry registered on `link` becomes LOST.  Returns it, or
 * NULL when link holds no registration (superseded, never registered). */
struct iq_agw *iq_registry_lost(struct iq_registry *r, const void *link,
				uint64_t now_ms);
/* HEARTBEAT (load may be NULL) or NODE_STATUS from the AGW on link. */
struct iq_agw *iq_registry_heartbeat(struct iq_registry *r, const void *link,
				     const struct iqp_load *load, uint64_t now_ms);
struct iq_agw *iq_registry_find(const struct iq_registry *r, const char *node_id);

/* SERVICE_CHANGE from the AGW registered on link (11.4): GRACEFUL 905/908
 * drains (7.7), FORCED 904/905/908 takes it out of service (7.8), RESTART
 * 918 (from DRAINING) or 900 (from OUT_OF_SERVICE) restores it, and
 * CAPABILITY_UPDATE 917 replaces the capacity and realm count given in caps
 * (NULL: unchanged).  Returns 0 with *out and *old_state, or the error to
 * answer: 449 (method or reason not permitted from an AGW), 401 (does not
 * fit the current state, or no registration on link). */
unsigned iq_registry_service_change(struct iq_registry *r, const void *link,
				    unsigned method, unsigned reason,
				    const struct iqp_node_info *caps,
				    struct iq_agw **out, unsigned *old_state);
size_t iq_registry_count(const struct iq_registry *r, unsigned state);
/* The next lost entry still holding whose loss is at or before
 * lost_before (wall ms): its holding ends.  NULL when none. */
struct iq_agw *iq_registry_hold_expired(struct iq_registry *r, uint64_t lost_before);
/* Whether an entry is holding. */
bool iq_registry_holding(const struct iq_registry *r);

/* Registers the gauge NAME{state=...} read at scrape time. */
int iq_registry_metrics(struct iq_registry *r, struct metrics *m,
			const char *name, const char *help);

#endif
