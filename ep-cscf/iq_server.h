/* The controller's end of Iq+ (SPEC.md 7.1.2): a listener, one link per
 * accepted connection (proto/iqp_link_uv.h), the AGW registry, and the
 * log lines and metrics of link events (registered, refused, lost,
 * restart detected, superseded).  A lost AGW's calls are held for T_HOLD
 * (7.10); when it registers again with its epoch they use the new link
 * and its contexts are reconciled (7.11 item 3, iq_reconcile.h); with
 * another epoch, or at T_HOLD expiry, they end (7.9 item 3). */
#ifndef EPCSCF_IQ_SERVER_H
#define EPCSCF_IQ_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "conf.h"
#include "iq_call.h"
#include "iq_registry.h"
#include "iqp_link_uv.h"
#include "log.h"
#include "metrics.h"

struct iq_server_cfg {
	struct conf_addr listen;
	const struct iqp_tls_ctx *tls; /* borrowed; NULL: plain TCP (2.3) */
	const char *node_id;
	uint32_t hb_interval;          /* for AGWs that propose none */
	uint32_t hold_ms;              /* T_HOLD (7.10); 0: 60 s */
};

struct iq_peer;

struct iq_server {
	uv_loop_t *loop;                /* borrowed */
	uv_tcp_t listener;
	bool listening, closing;
	const struct iqp_tls_ctx *tls;  /* borrowed */
	struct iqp_node_info self;      /* our NODE_ID, EPOCH, SOFTWARE */
	struct iqp_link_cfg link_cfg;   /* for every accepted link */
	struct iq_peer *peers;          /* owned, one per connection */
	size_t n_peers;
	struct iq_registry reg;         /* owned */
	struct iq_calls *calls;         /* borrowed: call procedures (EVENTs,
					 * link loss); NULL: EVENTs get 501 */
	uv_timer_t hold_timer;          /* T_HOLD of lost AGWs, checked each second */
	uint32_t hold_ms;
	const struct conf_list *drain;  /* borrowed: iq.drain (iq_drain.h) */
	const struct log *log;          /* borrowed */
	unsigned sub;
	struct metric *ev_registered, *ev_lost, *ev_restart, *ev_refused;
	char bound[80];                 /* listening address */
};

/* Listens on cfg->listen.  Returns 0 or an errno value with err set
 * ("cannot listen on ..."). */
int iq_server_start(struct iq_server *s, uv_loop_t *loop,
		    const struct iq_server_cfg *cfg, const struct log *log,
		    unsigned sub, struct metrics *metrics, char *err, size_t errlen);
/* Closes the listener and every link (CLOSE 1000). */
void iq_server_close(struct iq_server *s);
/* After the loop ended. */
void iq_server_free(struct iq_server *s);

#endif
