/* The AGW's end of Iq+ (SPEC.md 7.1.1): one link to the configured list
 * of controllers (proto/iqp_link_uv.h), reconnecting with backoff; what
 * the AGW registers (realms, capacity, capabilities, load); log lines and
 * metrics of the link.  The requests of the controller (RESERVE,
 * CONFIGURE, MODIFY, RELEASE, AUDIT, SERVICE_CHANGE) go to the table given
 * in the configuration (iq_calls.h); those without a handler get 501. */
#ifndef EIMSAGW_IQ_CLIENT_H
#define EIMSAGW_IQ_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "iqp_link_uv.h"
#include "log.h"
#include "metrics.h"

#define IQ_MAX_CONTROLLERS 16

struct iq_client;

struct iq_client_state_gauge {
	const struct iq_client *c;
	unsigned state;
};

struct iq_client {
	struct iqp_target targets[IQ_MAX_CONTROLLERS];
	size_t n_targets;
	const struct iqp_tls_ctx *tls;  /* borrowed; NULL: plain TCP */
	struct iqp_node_info self;      /* what we register */
	struct iqp_link_cfg cfg;
	struct iqp_link_uv *u;          /* owned until gone */
	uv_loop_t *loop;                /* borrowed */
	const struct log *log;          /* borrowed */
	unsigned sub;
	unsigned state;                 /* last link state, for the gauge */
	struct iq_client_state_gauge gauges[IQP_LINK_N_STATES];
	struct metric *ev_registered, *ev_lost, *ev_refused, *ev_failed, *ev_redirected;
	uint64_t cpu_us, cpu_at_ms;     /* last CPU sample (LOAD) */
	struct iqp_link_hooks hooks;    /* the link's hooks (calls included) */
	const struct iqp_link_calls *calls; /* borrowed: the call procedures */
	void *calls_arg;
	const size_t *n_contexts;       /* borrowed: contexts in use (LOAD) */
	const uint32_t *free_ports;     /* borrowed: free media ports (LOAD) */
	void (*link_change)(void *arg, bool up); /* registered / lost (7.10) */
	void (*peer_changed)(void *arg);     /* another controller association (7.9) */
	/* Completes every LOAD before it is sent (overload level, 7.6; set
	 * after iq_client_prepare; NULL: NONE). */
	void (*load_hook)(void *arg, struct iqp_load *load);
	void *load_hook_arg;
	uint8_t cpu_load;
};

/* Settings, already checked by the caller except the lists parsed here. */
struct iq_client_cfg {
	const struct conf_list *controllers; /* "IP:PORT[ NAME]" items */
	const char *realms;                  /* iq.realm syntax (iq_realm.h) */
	const char *where_realm;
	const struct iqp_tls_ctx *tls;       /* borrowed; NULL: plain TCP */
	const char *node_id;
	uint32_t max_contexts, max_ports, hb_interval;
	const struct iqp_link_calls *calls;  /* borrowed; NULL: 501 for all */
	void *calls_arg;
	const size_t *n_contexts;            /* borrowed; NULL: 0 */
	const uint32_t *free_ports;          /* borrowed; NULL: max_ports */
	/* Called with calls_arg when the link registers (up) or is lost. */
	void (*link_change)(void *arg, bool up);
	/* Called with calls_arg, before link_change(up), when the controller
	 * registered with differs (NODE_ID or EPOCH) from the previous one:
	 * the contexts held must go (7.9 item 4). */
	void (*peer_changed)(void *arg);
	bool bundle;                         /* CAP_BUNDLE */
};

/* Parses the controller list and the realms (configuration errors name
 * the option and its place).  No sockets. */
int iq_client_prepare(struct iq_client *c, const struct iq_client_cfg *cfg,
		      char *err, size_t errlen);
/* Creates the epoch (7.9) and starts connecting. */
int iq_client_start(struct iq_client *c, uv_loop_t *loop, const struct log *log,
		    unsigned sub, struct metrics *metrics, char *err, size_t errlen);
/* The current LOAD (7.6), as REGISTER and HEARTBEAT carry it (load_hook
 * included). */
void iq_client_load(struct iq_client *c, struct iqp_load *out);
/* CLOSE 1000 and no reconnection; the link frees itself. */
void iq_client_stop(struct iq_client *c);

#endif
