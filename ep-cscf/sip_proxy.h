/* The eP-CSCF's SIP proxy core (RFC 3261 section 16, edge proxy of RFC
 * 5626 / RFC 7118 appendix B): requests from browser flows go to the IMS
 * next hop with our Via, Path (flow token, ob) on REGISTER, Service-Route
 * and P-Asserted-Identity on other requests; responses come back on the
 * flow; requests from IMS reach the flow named by the flow token in their
 * Route, or get 430 when it is gone. */
#ifndef EPCSCF_SIP_PROXY_H
#define EPCSCF_SIP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "flow_table.h"
#include "ims_peer.h"
#include "ims_tcp.h"
#include "ims_udp.h"
#include "log.h"
#include "metrics.h"
#include "reg_binding.h"
#include "sip_txn.h"
#include "tna_register.h"
#include "ws_server.h"

struct sip_proxy_cfg {
	struct sockaddr_storage next_hop; /* IMS entry point (I-CSCF / registrar) */
	enum ims_transport transport;     /* toward next_hop: UDP, TCP or TLS */
	char ims_host[80];                /* our "ip:port" toward IMS (UDP, TCP) */
	char ims_tls_host[80];            /* our TLS listener "ip:port" ("": none) */
	char ws_host[80];                 /* our "ip:port" toward browsers */
	char visited_network[128];        /* P-Visited-Network-ID */
};

struct sip_proxy {
	const struct log *log;     /* borrowed */
	unsigned sub;
	uv_loop_t *loop;
	struct flow_table *flows;  /* borrowed */
	struct ws_server *ws;      /* borrowed */
	struct tna *tna;           /* borrowed: web authentication, may be NULL */
	struct ims_udp *udp;       /* borrowed */
	struct ims_tcp *tcp;       /* borrowed */
	struct ims_tcp *tls;       /* borrowed: TLS instance, or NULL */
	struct metrics *metrics;   /* borrowed */
	struct sip_proxy_cfg cfg;
	struct txn_table txns;     /* owned */
	struct reg_table regs;     /* owned */
	uint64_t branch_seq;
	uv_timer_t sweep;          /* lapses unrefreshed registrations */
	struct metric *m_bad, *m_430, *m_timeout;
};

int sip_proxy_init(struct sip_proxy *p, uv_loop_t *loop,
		   const struct sip_proxy_cfg *cfg, struct flow_table *flows,
		   struct ims_udp *udp, struct ims_tcp *tcp, struct metrics *m,
		   const struct log *log, unsigned sub);
/* The WebSocket server is created after the proxy (its callbacks call the
 * proxy); attach it before traffic flows. */
void sip_proxy_attach_ws(struct sip_proxy *p, struct ws_server *ws);
/* SIP over TLS toward IMS (cfg.transport IMS_TLS needs it). */
void sip_proxy_attach_tls(struct sip_proxy *p, struct ims_tcp *tls);
/* Web authentication (Bearer tokens, TNA REGISTER); attach before traffic. */
void sip_proxy_attach_tna(struct sip_proxy *p, struct tna *tna);
/* A flow's registration ended by token expiry (tna_expired_h): sends the
 * de-registration (Expires 0) toward IMS, drops the binding and ends the
 * flow (WebSocket close 1008).  The flow's dialogs end with the flow. */
void sip_proxy_token_expired(void *proxy, const struct tna_flow *tf);
void sip_proxy_close(struct sip_proxy *p); /* closes transaction timers */
void sip_proxy_free(struct sip_proxy *p);  /* after the loop has ended */

void sip_proxy_from_ws(struct sip_proxy *p, struct flow *f, const char *buf,
		       size_t len);
void sip_proxy_from_ims(struct sip_proxy *p, const char *buf, size_t len,
			const struct ims_peer *from);
void sip_proxy_flow_closed(struct sip_proxy *p, struct flow *f);

#endif
