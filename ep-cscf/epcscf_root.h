/* ep-cscf's root object and configuration, shared by main.c (the
 * daemon's life cycle), epcscf_options.c (the option table) and
 * epcscf_iq.c (the Iq+ side's start-up). */
#ifndef EPCSCF_ROOT_H
#define EPCSCF_ROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "call_media.h"
#include "conf.h"
#include "daemon.h"
#include "flow_table.h"
#include "ims_tcp.h"
#include "ims_udp.h"
#include "iq_server.h"
#include "iqp_registry.h"
#include "iqp_tls_conf.h"
#include "sip_proxy.h"
#include "tls_identity.h"
#include "tna_register.h"
#include "ws_server.h"
#include "wwsf_policy.h"

enum epcscf_subsys { SUB_CORE, SUB_TLS, SUB_WS, SUB_SIP, SUB_IQ, N_SUBSYS };

struct epcscf_cfg {
	struct daemon_cfg common; /* must be first */
	char *tls_cert;
	char *tls_key;
	struct conf_addr wss_listen, ws_listen;
	struct conf_list wwsf;
	char *auth_audience;
	long long auth_leeway, auth_max_token, auth_jti_cache;
	bool auth_every_request;
	long long max_message, max_per_ip, max_conns, msg_rate, msg_burst;
	long long ping_s, handshake_s;
	struct conf_addr ims_listen, ims_next_hop, ims_tls_listen;
	int ims_transport;
	struct conf_list ims_tls_pins;
	char *ims_tls_ca_file, *ims_tls_name;
	char *visited_network;
	struct conf_addr iq_listen;
	int iq_security;
	struct conf_list iq_pins;
	char *iq_ca_file, *iq_cert, *iq_key, *iq_node_id;
	long long iq_hb_interval, iq_hold;
	struct conf_list iq_drain;
	int media_anchor;
	char *media_w3_realm, *media_ims_realm;
	bool media_bundle, media_ims_avpf;
};

/* Values of the enum options (indexes into their name lists). */
enum { IMS_T_UDP, IMS_T_TCP, IMS_T_TLS };
enum { IQ_TLS, IQ_TCP };

extern const struct conf_opt epcscf_opts[];
extern const size_t epcscf_n_opts;
extern const char *const epcscf_transports[]; /* names of ims.transport */

/* Root of the daemon's ownership tree (below struct daemon). */
struct epcscf {
	struct tls_identity tls;   /* owned */
	struct wwsf_policy policy; /* owned */
	struct flow_table flows;   /* owned */
	struct ims_udp udp;        /* owned */
	struct ims_tcp tcp;        /* owned */
	struct sip_proxy proxy;    /* owned */
	struct tna tna;            /* owned: web authentication */
	struct ws_server *ws;      /* owned */
	struct ims_tcp tls_tcp;    /* owned: SIP over TLS toward IMS */
	struct iqp_tls_ctx ims_tls_srv, ims_tls_cli; /* owned when ims_tls_ready */
	struct tls_identity iq_id; /* owned: Iq+ identity (iq.security tls) */
	struct iqp_tls_ctx iq_tls; /* owned, idem */
	struct iq_server iq;       /* owned */
	struct iq_calls iq_calls;  /* owned: call procedures over Iq+ */
	struct call_media_cfg media; /* owned */
	int flows_ready, proxy_ready, tcp_ready, iq_tls_ready, iq_ready, tna_ready;
	int ims_tls_ready, tls_tcp_ready;
};

/* Iq+ settings checked before start: NODE_ID, then with TLS the identity
 * and the context.  Returns 0, or -1 with err filled. */
int epcscf_iq_prepare(struct daemon *d, struct epcscf *e, char *err, size_t errlen);

/* The Iq+ listener and the call procedures over it, wired to the calls
 * of e->proxy.  Returns 0 or an error with err filled. */
int epcscf_iq_start(struct daemon *d, struct epcscf *e, char *err, size_t errlen);

#endif
