/* The eP-CSCF's SIP proxy core (RFC 3261 section 16, edge proxy of RFC
 * 5626 / RFC 7118 appendix B): requests from browser flows go to the IMS
 * next hop with our Via, Path (flow token, ob) on REGISTER, Service-Route
 * and P-Asserted-Identity on other requests; responses come back on the
 * flow; requests from IMS reach the flow named by the flow token in their
 * Route, or get 430 when it is gone.  INVITE, CANCEL, ACK, the responses to
 * INVITE and the SDP of UPDATE and PRACK are handed to the call layer
 * (call_session.h) after this common header work. */
#ifndef EPCSCF_SIP_PROXY_H
#define EPCSCF_SIP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "flow_table.h"
#include "ims_peer.h"
#include "ims_tcp.h"
#include "ims_udp.h"
#include "log.h"
#include "metrics.h"
#include "range_register.h"
#include "reg_binding.h"
#include "sip_dialog.h"
#include "sip_txn.h"
#include "tna_register.h"
#include "ws_server.h"

struct call_media_cfg;

enum { SIP_FROM_WS, SIP_FROM_IMS };
#define SIP_PROXY_N_METHODS 15

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
	struct call_table calls;   /* owned */
	struct range_table ranges; /* owned: WWSF IMPU ranges (range_proxy.h) */
	struct call_media_cfg *media; /* borrowed: media anchoring (call_media.h) */
	uint64_t branch_seq;
	/* P-Charging-Vector: "...icid-value=" and 16 hex digits chosen at
	 * start, then icid_seq in hex, then the suffix (sip_proxy_icid). */
	uint64_t icid_seq;
	char pcv_head[64];
	char pcv_tail[128];         /* ";icid-generated-at=host" */
	char pvni_line[160];        /* "P-Visited-Network-ID: ..." */
	uv_timer_t sweep;          /* lapses unrefreshed registrations */
	struct metric *m_bad, *m_430, *m_timeout;
	/* Per-message counters by side (SIP_FROM_*), found once by name:
	 * 14 methods and "other", status codes 100-699. */
	struct metric *m_requests[2][SIP_PROXY_N_METHODS];
	struct metric *m_responses[2][600];
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

/* Services of the proxy for the call layer (call_session.c). */
void sip_proxy_send_ims(struct sip_proxy *p, const char *buf, size_t len,
			const struct ims_peer *to);
/* Prints msg and sends it on flow f. */
void sip_proxy_to_flow(struct sip_proxy *p, struct flow *f, msg_t *msg);
void sip_proxy_reply_ims(struct sip_proxy *p, msg_t *req, int status, const char *phrase,
			 const struct ims_peer *to);
/* A response to a request from flow f; our own Via, when the request
 * already carries it on top, is left out.  Returns NULL on ENOMEM. */
msg_t *sip_proxy_response_ws(struct sip_proxy *p, msg_t *req, int status,
			     const char *phrase, const char *to_tag);
void sip_proxy_reply_flow(struct sip_proxy *p, struct flow *f, msg_t *req, int status,
			  const char *phrase);
/* A request from flow f (prepared: our Via with branch on top) sent to
 * IMS in a client transaction.  Takes msg. */
void sip_proxy_forward_ims(struct sip_proxy *p, struct flow *f, msg_t *msg, const char *branch,
			   const struct ims_peer *to);
/* A response from a browser (our Via still on top) to a request from IMS,
 * through its server transaction.  Takes msg. */
void sip_proxy_response_to_ims(struct sip_proxy *p, msg_t *msg);
/* The configured next hop toward IMS. */
void sip_proxy_next_hop(const struct sip_proxy *p, struct ims_peer *to);
void sip_proxy_new_branch(struct sip_proxy *p, char *buf, size_t len);
/* Adds our Via toward flow f with branch. */
int sip_proxy_via_ws(struct sip_proxy *p, msg_t *msg, const struct flow *f,
		     const char *branch);
/* Our Via toward IMS for transport to: its value, and added to msg. */
void sip_proxy_via_value(const struct sip_proxy *p, const struct ims_peer *to,
			 const char *branch, char *buf, size_t len);
int sip_proxy_via_ims(struct sip_proxy *p, msg_t *msg, const struct ims_peer *to,
		      const char *branch);
/* Is the URL one of our Route/Record-Route entries? */
int sip_proxy_our_uri(const struct sip_proxy *p, const url_t *u);

#endif
