/* The AGW registry of the controller. */
#include "iq_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[IQ_AGW_N_STATES] = { "in_service", "draining",
							   "out_of_service", "lost" };

const char *iq_agw_state_name(unsigned state)
{
	return state < IQ_AGW_N_STATES ? state_names[state] : "?";
}

void iq_registry_init(struct iq_registry *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void iq_registry_free(struct iq_registry *r)
{
	while (r->head) {
		struct iq_agw *a = r->head;
		r->head = a->next;
		free(a);
	}
	r->n = 0;
}

struct iq_agw *iq_registry_find(const struct iq_registry *r, const char *node_id)
{
	for (struct iq_agw *a = r->head; a; a = a->next)
		if (!strcmp(a->node_id, node_id))
			return a;
	return NULL;
}

static struct iq_agw *by_link(const struct iq_registry *r, const void *link)
{
	for (struct iq_agw *a = r->head; a && link; a = a->next)
		if (a->link == link)
			return a;
	return NULL;
}

/* The lost entry lost the longest ago, to make room. */
static struct iq_agw **oldest_lost(struct iq_registry *r)
{
	struct iq_agw **best = NULL;

	for (struct iq_agw **pp = &r->head; *pp; pp = &(*pp)->next)
		if ((*pp)->state == IQ_AGW_LOST && (!best || (*pp)->lost_ms <= (*best)->lost_ms))
			best = pp;
	return best;
}

bool iq_registry_has_room(const struct iq_registry *r, const char *node_id)
{
	if (iq_registry_find(r, node_id) || r->n < r->max)
		return true;
	for (struct iq_agw *a = r->head; a; a = a->next)
		if (a->state == IQ_AGW_LOST)
			return true;
	return false;
}

int iq_registry_register(struct iq_registry *r, const struct iqp_node_info *agw,
			 const char *addr, const void *link, uint64_t now_ms,
			 struct iq_registry_prev *prev)
{
	struct iq_agw *a = iq_registry_find(r, agw->node_id);

	memset(prev, 0, sizeof(*prev));
	if (a) {
		prev->known = true;
		prev->epoch = a->epoch;
		prev->link = a->state != IQ_AGW_LOST ? a->link : NULL;
		prev->holding = a->holding;
	} else {
		if (r->n >= r->max) {
			struct iq_agw **pp = oldest_lost(r), *old;
			if (!pp)
				return ENOSPC;
			old = *pp;
			*pp = old->next;
			free(old);
			r->n--;
		}
		if (!(a = calloc(1, sizeof(*a))))
			return ENOMEM;
		snprintf(a->node_id, sizeof(a->node_id), "%s", agw->node_id);
		a->next = r->head;
		r->head = a;
		r->n++;
	}
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->epoch = agw->epoch;
	a->state = IQ_AGW_IN_SERVICE;
	a->link = link;
	a->has_load = agw->has_load;
	a->load = agw->load;
	a->max_contexts = agw->max_contexts;
	a->n_realms = agw->n_realms;
	a->registered_ms = now_ms;
	a->last_heartbeat_ms = 0;
	a->lost_ms = 0;
	a->holding = false;
	a->sc_pending = false;
	return 0;
}

struct iq_agw *iq_registry_lost(struct iq_registry *r, const void *link,
				uint64_t now_ms)
{
	struct iq_agw *a = by_link(r, link);

	if (a) {
		a->state = IQ_AGW_LOST;
		a->link = NULL;
		a->lost_ms = now_ms;
		a->holding = true;
	}
	return a;
}

struct iq_agw *iq_registry_heartbeat(struct iq_registry *r, const void *link,
				     const struct iqp_load *load, uint64_t now_ms)
{
	struct iq_agw *a = by_link(r, link);

	if (!a)
		return NULL;
	a->last_heartbeat_ms = now_ms;
	if (load) {
		a->has_load = true;
		a->load = *load;
	}
	return a;
}

unsigned iq_registry_service_change(struct iq_registry *r, const void *link,
				    unsigned method, unsigned reason,
				    const struct iqp_node_info *caps,
				    struct iq_agw **out, unsigned *old_state)
{
	struct iq_agw *a = by_link(r, link);
	unsigned next;

	if (!a || a->state == IQ_AGW_LOST)
		return 401;
	switch (method) {
	case IQP_SC_GRACEFUL:
		if (reason != 905 && reason != 908)
			return 449;
		if (a->state != IQ_AGW_IN_SERVICE)
			return 401;
		next = IQ_AGW_DRAINING;
		break;
	case IQP_SC_FORCED:
		if (reason != 904 && reason != 905 && reason != 908)
			return 449;
		if (a->state == IQ_AGW_OUT_OF_SERVICE)
			return 401;
		next = IQ_AGW_OUT_OF_SERVICE;
		break;
	case IQP_SC_RESTART:
		if (reason != 900 && reason != 918)
			return 449;
		if (a->state != (reason == 918 ? IQ_AGW_DRAINING : IQ_AGW_OUT_OF_SERVICE))
			return 401;
		next = IQ_AGW_IN_SERVICE;
		break;
	case IQP_SC_CAPABILITY_UPDATE:
		if (reason != 917)
			return 449;
		next = a->state;
		if (caps && caps->max_contexts)
			a->max_contexts = caps->max_contexts;
		if (caps && caps->n_realms)
			a->n_realms = caps->n_realms;
		break;
	default: /* HANDOFF is the controller's; DISCONNECTED, FAILOVER: REGISTER only */
		return 449;
	}
	*old_state = a->state;
	a->state = (uint8_t)next;
	*out = a;
	return 0;
}

struct iq_agw *iq_registry_hold_expired(struct iq_registry *r, uint64_t lost_before)
{
	for (struct iq_agw *a = r->head; a; a = a->next)
		if (a->holding && a->state == IQ_AGW_LOST && a->lost_ms <= lost_before) {
			a->holding = false;
			return a;
		}
	return NULL;
}

bool iq_registry_holding(const struct iq_registry *r)
{
	for (const struct iq_agw *a = r->head; a; a = a->next)
		if (a->holding)
			return true;
	return false;
}

size_t iq_registry_count(const struct iq_registry *r, unsigned state)
{
	size_t n = 0;
	for (const struct iq_agw *a = r->head; a; a = a->next)
		n += a->state == state;
	return n;
}

static double gauge(void *arg)
{
	const struct iq_registry_gauge *g = arg;
	return (double)iq_registry_count(g->r, g->state);
}

int iq_registry_metrics(struct iq_registry *r, struct metrics *m,
			const char *name, const char *help)
{
	for (unsigned s = 0; s < IQ_AGW_N_STATES; s++) {
		struct metric *x = metrics_add(m, name, help, METRIC_GAUGE, "state",
					       state_names[s], (const char *)NULL);
		if (!x)
			return ENOMEM;
		r->gauges[s].r = r;
		r->gauges[s].state = s;
		x->fn = gauge;
		x->fn_arg = &r->gauges[s];
	}
	return 0;
}
