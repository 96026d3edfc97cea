/* ep-cscf: the P-CSCF enhanced for WebRTC.  This file holds the option
 * table and the root object, and wires the parts together:
 *
 *   browser --WSS--> ws_server --> sip_proxy --UDP--> IMS core
 *                                  (flows, transactions, registrations)
 *   eims-agw --Iq+ (TLS)--> iq_server (links, AGW registry)
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>

#include "call_media.h"
#include "daemon.h"
#include "flow_table.h"
#include "ims_tcp.h"
#include "ims_udp.h"
#include "iq_drain.h"
#include "iq_server.h"
#include "iqp_registry.h"
#include "iqp_tls_conf.h"
#include "sip_proxy.h"
#include "tna_register.h"
#include "tls_identity.h"
#include "ws_server.h"
#include "sip_tls.h"
#include "wwsf_policy.h"

enum epcscf_subsys { SUB_CORE, SUB_TLS, SUB_WS, SUB_SIP, SUB_IQ, N_SUBSYS };
static const char *const subsys_names[N_SUBSYS] = { "core", "tls", "ws", "sip", "iq" };

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

static const char *const anchors[] = { "agw", "none", NULL };
static const char *const transports[] = { "udp", "tcp", "tls", NULL };
enum { IMS_T_UDP, IMS_T_TCP, IMS_T_TLS };
static const char *const iq_securities[] = { "tls", "tcp", NULL };
enum { IQ_TLS, IQ_TCP };

#define O(f) offsetof(struct epcscf_cfg, f)
static const struct conf_opt opts[] = {
	DAEMON_COMMON_OPTS(struct epcscf_cfg, "/var/lib/ep-cscf", "127.0.0.1:9101"),
	{ "tls.cert", CONF_PATH, O(tls_cert), "", 0, 0, NULL, 0,
	  "PEM certificate for WSS/TLS (empty: generated under state_dir)" },
	{ "tls.key", CONF_PATH, O(tls_key), "", 0, 0, NULL, 0,
	  "PEM private key for tls.cert (empty: in the same file)" },
	{ "sip.wss.listen", CONF_ADDR, O(wss_listen), "127.0.0.1:8443", 0, 0, NULL, 0,
	  "SIP over secure WebSocket listener (empty: none)" },
	{ "sip.ws.listen", CONF_ADDR, O(ws_listen), "", 0, 0, NULL, 0,
	  "SIP over plain WebSocket listener, for tests behind TLS offload (empty: none)" },
	{ "wwsf", CONF_LIST, O(wwsf), "demo origins=https://localhost:8080,https://127.0.0.1:8080",
	  0, 0, NULL, 0, "a trusted WWSF: NAME origins=ORIGIN[,...] [issuer=URL jwks=FILE "
	  "impus=PATTERN[,...] ranges=PATTERN[,...] wafs=ID[,...] max_registrations=N "
	  "barred=yes|no] (repeatable)" },
	{ "auth.audience", CONF_STRING, O(auth_audience), "sip:ep-cscf.ims.test", 0, 0, NULL, 0,
	  "this eP-CSCF's identity: the \"aud\" a WWSF token must name" },
	{ "auth.leeway", CONF_INT, O(auth_leeway), "30", 0, 300, NULL, 0,
	  "seconds of clock skew allowed on a token's exp, nbf and iat" },
	{ "auth.max_token_bytes", CONF_INT, O(auth_max_token), "4096", 256, 16384, NULL, 0,
	  "longest Bearer token accepted" },
	{ "auth.jti_cache", CONF_INT, O(auth_jti_cache), "100000", 16, 10000000, NULL, 0,
	  "token ids kept for replay detection (full of live ids: new tokens refused)" },
	{ "auth.bearer_every_request", CONF_BOOL, O(auth_every_request), "no", 0, 0, NULL, 0,
	  "require and re-check the Bearer token on every request of a token registration "
	  "(TS 24.371 7.2.1), not only on REGISTER" },
	{ "ws.max_message_bytes", CONF_INT, O(max_message), "65536", 1024, 1048576, NULL, 0,
	  "largest SIP message over WebSocket (bigger: close 1009)" },
	{ "ws.max_flows_per_ip", CONF_INT, O(max_per_ip), "100", 1, 1000000, NULL, 0,
	  "WebSocket flows per source address" },
	{ "ws.max_connections", CONF_INT, O(max_conns), "20000", 1, 1000000, NULL, 0,
	  "WebSocket connections in all" },
	{ "ws.message_rate", CONF_INT, O(msg_rate), "20", 1, 100000, NULL, 0,
	  "SIP messages per second per flow (more: close 1008)" },
	{ "ws.message_burst", CONF_INT, O(msg_burst), "50", 1, 100000, NULL, 0,
	  "burst allowance for ws.message_rate" },
	{ "ws.ping_interval", CONF_INT, O(ping_s), "30", 5, 3600, NULL, 0,
	  "seconds of silence before a WebSocket ping" },
	{ "ws.handshake_timeout", CONF_INT, O(handshake_s), "10", 1, 120, NULL, 0,
	  "seconds to complete TLS and the upgrade" },
	{ "ims.listen", CONF_ADDR, O(ims_listen), "127.0.0.1:5070", 0, 0, NULL, 0,
	  "SIP/UDP address toward the IMS core" },
	{ "ims.next_hop", CONF_ADDR, O(ims_next_hop), "127.0.0.1:5060", 0, 0, NULL, 0,
	  "IMS entry point (I-CSCF or registrar), SIP/UDP" },
	{ "ims.transport", CONF_ENUM, O(ims_transport), "udp", 0, 0, transports, 0,
	  "transport toward ims.next_hop: udp, tcp or tls (big requests over udp use tcp)" },
	{ "ims.tls.listen", CONF_ADDR, O(ims_tls_listen), "", 0, 0, NULL, 0,
	  "SIP over TLS listener toward IMS (empty: none; needed for ims.transport tls)" },
	{ "ims.tls.trusted_fingerprints", CONF_LIST, O(ims_tls_pins), "", 0, 0, NULL, 0,
	  "SHA-256 fingerprint of a trusted IMS node certificate (repeatable)" },
	{ "ims.tls.ca_file", CONF_PATH, O(ims_tls_ca_file), "", 0, 0, NULL, 0,
	  "PEM CA certificates that IMS node certificates may chain to" },
	{ "ims.tls.server_name", CONF_STRING, O(ims_tls_name), "", 0, 0, NULL, 0,
	  "name the next hop's certificate must carry (empty: pins or CA only)" },
	{ "ims.visited_network", CONF_STRING, O(visited_network), "ims.test", 0, 0, NULL, 0,
	  "P-Visited-Network-ID added to REGISTER" },
	{ "iq.listen", CONF_ADDR, O(iq_listen), "127.0.0.1:7190", 0, 0, NULL, 0,
	  "Iq+ listener for eIMS-AGWs (empty: none)" },
	{ "iq.security", CONF_ENUM, O(iq_security), "tls", 0, 0, iq_securities, 0,
	  "Iq+ transport: tls (mutual TLS 1.3) or tcp (plain, only where both ends say so)" },
	{ "iq.trusted_fingerprints", CONF_LIST, O(iq_pins), "", 0, 0, NULL, 0,
	  "SHA-256 fingerprint of a trusted AGW certificate (repeatable)" },
	{ "iq.ca_file", CONF_PATH, O(iq_ca_file), "", 0, 0, NULL, 0,
	  "PEM CA certificates that AGW certificates may chain to (empty: pins only)" },
	{ "iq.cert", CONF_PATH, O(iq_cert), "", 0, 0, NULL, 0,
	  "PEM certificate for Iq+ TLS (empty: generated under state_dir/iq)" },
	{ "iq.key", CONF_PATH, O(iq_key), "", 0, 0, NULL, 0,
	  "PEM private key for iq.cert (empty: in the same file)" },
	{ "iq.node_id", CONF_STRING, O(iq_node_id), "ep-cscf", 0, 0, NULL, 0,
	  "NODE_ID of this controller (1-64 of A-Z a-z 0-9 . _ -)" },
	{ "iq.drain", CONF_LIST, O(iq_drain), "", 0, 0, NULL, CONF_RELOADABLE,
	  "NODE_IDs of the AGWs to drain (SPEC 7.7 item 2; reloadable: edit, then SIGHUP): "
	  "no new calls, out of service when the last ends; removed again, they are restored" },
	{ "iq.hold_timeout", CONF_INT, O(iq_hold), "60000", 1000, 3600000, NULL, 0,
	  "T_HOLD, ms (SPEC 7.10): how long the calls of a lost AGW are kept for it to come back" },
	{ "iq.hb_interval", CONF_INT, O(iq_hb_interval), "5000", 1000, 60000, NULL, 0,
	  "heartbeat interval in ms for AGWs that propose none" },
	{ "media.anchor", CONF_ENUM, O(media_anchor), "agw", 0, 0, anchors, 0,
	  "media of calls: agw (IMS-ALG rewrites SDP, eIMS-AGWs over Iq+ carry it) or none "
	  "(SDP passes unchanged, for peers that speak WebRTC media themselves)" },
	{ "media.w3_realm", CONF_STRING, O(media_w3_realm), "w3", 0, 0, NULL, 0,
	  "AGW realm of browser-side terminations (REALM_NAME)" },
	{ "media.ims_realm", CONF_STRING, O(media_ims_realm), "ims", 0, 0, NULL, 0,
	  "AGW realm of IMS-side terminations (REALM_NAME)" },
	{ "media.bundle", CONF_BOOL, O(media_bundle), "yes", 0, 0, NULL, 0,
	  "offer BUNDLE toward browsers (no: one transport per m-line)" },
	{ "media.ims_avpf", CONF_BOOL, O(media_ims_avpf), "no", 0, 0, NULL, 0,
	  "offer RTP/AVPF toward IMS (no: RTP/AVP)" },
};
#undef O

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

/* Iq+ settings: NODE_ID, then with TLS the identity and the context. */
static int iq_prepare(struct daemon *d, struct epcscf *e, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	struct iqp_tls_conf tc = {
		.cert = c->iq_cert, .key = c->iq_key, .state_dir = c->common.state_dir,
		.node_id = c->iq_node_id, .pins = &c->iq_pins, .ca_file = c->iq_ca_file,
		.where_cert = daemon_where(d, "iq.cert"), .where_key = daemon_where(d, "iq.key"),
		.where_ca = daemon_where(d, "iq.ca_file"),
		.where_state_dir = daemon_where(d, "state_dir"),
	};

	if (!iqp_node_id_valid(c->iq_node_id)) {
		snprintf(err, errlen, "%s: iq.node_id: \"%s\" is not a node id (1-64 of A-Z a-z 0-9 . _ -)",
			 daemon_where(d, "iq.node_id"), c->iq_node_id);
		return -1;
	}
	if (!c->iq_listen.len || c->iq_security != IQ_TLS)
		return 0;
	if (iqp_tls_conf_load(&e->iq_tls, &e->iq_id, true, &tc, err, errlen))
		return -1;
	e->iq_tls_ready = 1;
	return 0;
}

/* SIP over TLS toward IMS: both contexts, with the WSS identity. */
static int ims_tls_prepare(struct daemon *d, struct epcscf *e, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	char why[256];
	const char *key = c->ims_tls_pins.n ? "ims.tls.trusted_fingerprints" : "ims.tls.ca_file";

	if (c->ims_transport == IMS_T_TLS && !c->ims_tls_listen.len) {
		snprintf(err, errlen, "%s: ims.tls.listen: needed when ims.transport is tls",
			 daemon_where(d, "ims.transport"));
		return -1;
	}
	if (!c->ims_tls_listen.len)
		return 0;
	for (size_t i = 0; i < c->ims_tls_pins.n; i++) {
		uint8_t fp[IQP_FP_LEN];
		if (iqp_tls_fingerprint_parse(c->ims_tls_pins.items[i], fp)) {
			snprintf(err, errlen, "%s: ims.tls.trusted_fingerprints: \"%s\" is not a SHA-256 fingerprint",
				 c->ims_tls_pins.where[i], c->ims_tls_pins.items[i]);
			return -1;
		}
	}
	if (sip_tls_ctx_init(&e->ims_tls_srv, true, &e->tls,
			     (const char *const *)c->ims_tls_pins.items, c->ims_tls_pins.n,
			     c->ims_tls_ca_file, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s: %s", daemon_where(d, key), key, why);
		return -1;
	}
	if (sip_tls_ctx_init(&e->ims_tls_cli, false, &e->tls,
			     (const char *const *)c->ims_tls_pins.items, c->ims_tls_pins.n,
			     c->ims_tls_ca_file, why, sizeof(why))) {
		iqp_tls_ctx_free(&e->ims_tls_srv);
		snprintf(err, errlen, "%s: %s: %s", daemon_where(d, key), key, why);
		return -1;
	}
	e->ims_tls_ready = 1;
	return 0;
}

static int epcscf_prepare(struct daemon *d, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	struct epcscf *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->app = e;
	if (!c->wss_listen.len && !c->ws_listen.len) {
		snprintf(err, errlen, "%s: sip.wss.listen: no WebSocket listener configured",
			 daemon_where(d, "sip.wss.listen"));
		return -1;
	}
	if (!c->ims_listen.len || !c->ims_next_hop.len) {
		snprintf(err, errlen, "%s: ims.next_hop: the IMS side needs ims.listen and ims.next_hop",
			 daemon_where(d, "ims.next_hop"));
		return -1;
	}
	if (wwsf_policy_load(&e->policy, &c->wwsf, err, errlen))
		return -1;
	/* REALM_NAME has the syntax of a NODE_ID (SPEC.md 12). */
	if (!iqp_node_id_valid(c->media_w3_realm) || !iqp_node_id_valid(c->media_ims_realm)) {
		const char *k = iqp_node_id_valid(c->media_w3_realm) ? "media.ims_realm" : "media.w3_realm";
		snprintf(err, errlen, "%s: %s: \"%s\" is not a realm name (1-64 of A-Z a-z 0-9 . _ -)",
			 daemon_where(d, k), k,
			 iqp_node_id_valid(c->media_w3_realm) ? c->media_ims_realm : c->media_w3_realm);
		return -1;
	}
	if (c->media_anchor == MEDIA_ANCHOR_AGW && !c->iq_listen.len) {
		snprintf(err, errlen, "%s: iq.listen: empty, but media.anchor agw needs an Iq+ listener for the AGWs",
			 daemon_where(d, "iq.listen"));
		return -1;
	}
	if (daemon_load_identity(d, &e->tls, "tls.cert", "tls.key", "ep-cscf", err, errlen))
		return -1;
	if (ims_tls_prepare(d, e, err, errlen))
		return -1;
	return iq_prepare(d, e, err, errlen);
}

static void on_ws_message(void *arg, struct flow *f, const char *buf, size_t len)
{
	sip_proxy_from_ws(&((struct epcscf *)arg)->proxy, f, buf, len);
}

static void on_ws_closed(void *arg, struct flow *f)
{
	sip_proxy_flow_closed(&((struct epcscf *)arg)->proxy, f);
}

static void on_udp(void *arg, const char *buf, size_t len, const struct sockaddr *from)
{
	struct ims_peer peer = { .transport = IMS_UDP };
	memcpy(&peer.addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in));
	sip_proxy_from_ims(&((struct epcscf *)arg)->proxy, buf, len, &peer);
}

static void on_stream(struct epcscf *e, enum ims_transport tp, uint64_t conn_id,
		      const char *buf, size_t len, const struct sockaddr *from)
{
	struct ims_peer peer = { .transport = tp, .conn_id = conn_id };
	memcpy(&peer.addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in));
	sip_proxy_from_ims(&e->proxy, buf, len, &peer);
}

static void on_tcp(void *arg, uint64_t conn_id, const char *buf, size_t len,
		   const struct sockaddr *from)
{
	on_stream(arg, IMS_TCP, conn_id, buf, len, from);
}

static void on_tls(void *arg, uint64_t conn_id, const char *buf, size_t len,
		   const struct sockaddr *from)
{
	on_stream(arg, IMS_TLS, conn_id, buf, len, from);
}

/* SIP takes the same port on UDP and TCP.  With port 0, find one free for
 * both (a kernel-chosen UDP port may have its TCP twin taken); the real
 * binds then report any race clearly. */
static void sip_port_for_udp_and_tcp(struct conf_addr *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	uint16_t *port = a->ss.ss_family == AF_INET6 ? &sin6->sin6_port : &sin->sin_port;

	for (int attempt = 0; *port == 0 && attempt < 32; attempt++) {
		struct sockaddr_storage probe = a->ss;
		socklen_t len = a->len;
		int u = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int t = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (u >= 0 && t >= 0 && !bind(u, (struct sockaddr *)&probe, len) &&
		    !getsockname(u, (struct sockaddr *)&probe, &len) &&
		    !bind(t, (struct sockaddr *)&probe, len))
			*port = probe.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&probe)->sin6_port
					: ((struct sockaddr_in *)&probe)->sin_port;
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
	}
}

static double flows_gauge(void *arg)
{
	return (double)((struct flow_table *)arg)->n;
}

static void on_media_failed(void *arg, struct iqp_link *l, uint32_t context_id,
			    unsigned event_type, unsigned code)
{
	call_media_failed(arg, l, context_id, event_type, code);
}

static void on_agw_lost(void *arg, struct iqp_link *l)
{
	call_media_link_lost(arg, l);
}

static bool on_context_known(void *arg, struct iqp_link *l, uint32_t context_id)
{
	return call_media_owns(arg, l, context_id);
}

static void on_agw_held(void *arg, struct iqp_link *l)
{
	call_media_link_held(arg, l);
}

static void on_agw_back(void *arg, const char *node_id, struct iqp_link *l)
{
	call_media_link_back(arg, node_id, l);
}

static void on_hold_end(void *arg, const char *node_id, const char *why)
{
	call_media_hold_end(arg, node_id, why);
}

static int on_contexts(void *arg, struct iqp_link *l, uint32_t **out, size_t *n)
{
	return call_media_contexts(arg, l, out, n);
}

static void on_context_lost(void *arg, struct iqp_link *l, uint32_t context_id)
{
	call_media_context_lost(arg, l, context_id);
}

static int iq_start(struct daemon *d, struct epcscf *e, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	struct iq_server_cfg ic = {
		.listen = c->iq_listen,
		.tls = e->iq_tls_ready ? &e->iq_tls : NULL,
		.node_id = c->iq_node_id,
		.hb_interval = (uint32_t)c->iq_hb_interval,
		.hold_ms = (uint32_t)c->iq_hold,
	};
	int rc;

	if (!c->iq_listen.len) {
		log_info(&d->log, SUB_IQ, NULL, "iq disabled", LF_S("reason", "iq.listen is empty"));
		return 0;
	}
	if (e->iq_tls_ready) {
		log_info(&d->log, SUB_IQ, NULL, "iq identity", LF_S("node_id", c->iq_node_id),
			 LF_S("cert", e->iq_id.cert_path),
			 LF_S("generated", e->iq_id.generated ? "yes" : "no"),
			 LF_S("fingerprint", e->iq_id.fingerprint_sha256));
		if (!c->iq_pins.n && !*c->iq_ca_file)
			log_warn(&d->log, SUB_IQ, NULL, "iq no trusted AGW",
				 LF_S("reason", "iq.trusted_fingerprints and iq.ca_file are empty: "
					       "every AGW is refused"));
	}
	if ((rc = iq_server_start(&e->iq, &d->loop, &ic, &d->log, SUB_IQ, &d->metrics,
				  err, errlen))) {
		char why[512];
		snprintf(why, sizeof(why), "%s: iq.listen: %s", daemon_where(d, "iq.listen"), err);
		snprintf(err, errlen, "%s", why);
		e->iq_ready = 1; /* the listener handle is open: close it */
		return rc;
	}
	e->iq_ready = 1;
	iq_calls_init(&e->iq_calls, &d->loop, &e->iq.reg, &d->log, SUB_IQ);
	e->iq_calls.hooks.media_failed = on_media_failed;
	e->iq_calls.hooks.link_lost = on_agw_lost;
	e->iq_calls.hooks.context_known = on_context_known;
	e->iq_calls.hooks.link_held = on_agw_held;
	e->iq_calls.hooks.link_back = on_agw_back;
	e->iq_calls.hooks.hold_end = on_hold_end;
	e->iq_calls.hooks.contexts = on_contexts;
	e->iq_calls.hooks.context_lost = on_context_lost;
	e->iq_calls.hooks.arg = &e->proxy;
	e->iq.calls = &e->iq_calls;
	iq_drain_apply(&e->iq, &c->iq_drain);
	log_info(&d->log, SUB_IQ, NULL, "listening", LF_S("service", "iq"),
		 LF_S("addr", e->iq.bound), LF_S("security", e->iq_tls_ready ? "tls" : "tcp"),
		 LF_S("node_id", c->iq_node_id), LF_U("epoch", e->iq.self.epoch));
	return 0;
}

/* SIGHUP: the WWSFs' JWKS files are read again (key rollover); iq.drain,
 * reloadable, is applied again (7.7 item 2; idempotent). */
static void epcscf_reload(struct daemon *d)
{
	struct epcscf *e = d->app;
	struct epcscf_cfg *c = d->cfg;
	char err[CONF_ERR_MAX];
	if (e->iq_ready && e->iq.calls)
		iq_drain_apply(&e->iq, &c->iq_drain);
	if (!e->tna_ready)
		return;
	if (wwsf_policy_reload_keys(&e->policy, err, sizeof(err)))
		log_error(&d->log, SUB_SIP, NULL, "jwks reload failed, keys unchanged",
			  LF_S("reason", err));
	else
		log_info(&d->log, SUB_SIP, NULL, "jwks reloaded");
}

static int epcscf_start(struct daemon *d, char *err, size_t errlen)
{
	struct epcscf *e = d->app;
	struct epcscf_cfg *c = d->cfg;
	struct sip_proxy_cfg pc;
	char addr[80];
	int rc;

	log_info(&d->log, SUB_TLS, NULL, "tls identity", LF_S("cert", e->tls.cert_path),
		 LF_S("generated", e->tls.generated ? "yes" : "no"),
		 LF_S("fingerprint", e->tls.fingerprint_sha256));
	if ((rc = flow_table_init(&e->flows))) {
		snprintf(err, errlen, "cannot create the flow table");
		return rc;
	}
	e->flows_ready = 1;
	metrics_add_fn(&d->metrics, "epcscf_ws_flows", "Open WebSocket flows.", METRIC_GAUGE,
		       flows_gauge, &e->flows);

	struct conf_addr ims_addr = c->ims_listen;
	sip_port_for_udp_and_tcp(&ims_addr);
	if ((rc = ims_udp_start(&e->udp, &d->loop, &ims_addr, on_udp, e, err, errlen))) {
		char why[512];
		snprintf(why, sizeof(why), "%s: ims.listen: %s", daemon_where(d, "ims.listen"), err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	/* TCP on the same address and port as UDP, as SIP expects. */
	struct conf_addr tcp_addr = c->ims_listen;
	memcpy(&tcp_addr.ss, &e->udp.bound, sizeof(tcp_addr.ss));
	if ((rc = ims_tcp_start(&e->tcp, &d->loop, &tcp_addr, (size_t)c->max_message, on_tcp, e,
				&d->log, SUB_SIP, err, errlen))) {
		char why[512];
		snprintf(why, sizeof(why), "%s: ims.listen: %s", daemon_where(d, "ims.listen"), err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	e->tcp_ready = 1;
	memset(&pc, 0, sizeof(pc));
	if (e->ims_tls_ready) {
		if ((rc = ims_tcp_start(&e->tls_tcp, &d->loop, &c->ims_tls_listen,
					(size_t)c->max_message, on_tls, e, &d->log, SUB_SIP, err,
					errlen))) {
			char why[512];
			snprintf(why, sizeof(why), "%s: ims.tls.listen: %s",
				 daemon_where(d, "ims.tls.listen"), err);
			snprintf(err, errlen, "%s", why);
			e->tls_tcp_ready = 1; /* the listener handle is open: close it */
			return rc;
		}
		e->tls_tcp_ready = 1;
		if ((rc = ims_tcp_set_tls(&e->tls_tcp, &e->ims_tls_srv, &e->ims_tls_cli,
					  c->ims_tls_name))) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		struct sockaddr_storage b;
		int blen = sizeof(b);
		uv_tcp_getsockname(&e->tls_tcp.listener, (struct sockaddr *)&b, &blen);
		conf_addr_format((struct sockaddr *)&b, pc.ims_tls_host, sizeof(pc.ims_tls_host));
	}
	memcpy(&pc.next_hop, &c->ims_next_hop.ss, c->ims_next_hop.len);
	pc.transport = c->ims_transport == IMS_T_TLS   ? IMS_TLS
		       : c->ims_transport == IMS_T_TCP ? IMS_TCP
						       : IMS_UDP;
	conf_addr_format((struct sockaddr *)&e->udp.bound, pc.ims_host, sizeof(pc.ims_host));
	conf_addr_format((struct sockaddr *)(c->wss_listen.len ? &c->wss_listen.ss : &c->ws_listen.ss),
			 pc.ws_host, sizeof(pc.ws_host));
	snprintf(pc.visited_network, sizeof(pc.visited_network), "%s", c->visited_network);
	if ((rc = sip_proxy_init(&e->proxy, &d->loop, &pc, &e->flows, &e->udp, &e->tcp,
				 &d->metrics, &d->log, SUB_SIP))) {
		snprintf(err, errlen, "cannot create the SIP proxy");
		return rc;
	}
	e->proxy_ready = 1;
	e->media.anchor = c->media_anchor == 1 ? MEDIA_ANCHOR_NONE : MEDIA_ANCHOR_AGW;
	e->media.alg.w3_realm = c->media_w3_realm;
	e->media.alg.ims_realm = c->media_ims_realm;
	e->media.alg.bundle = c->media_bundle;
	e->media.alg.ims_avpf = c->media_ims_avpf;
	e->media.alg.session_name = "-";
	e->media.iq = &e->iq_calls;
	e->proxy.media = &e->media;
	if (e->tls_tcp_ready)
		sip_proxy_attach_tls(&e->proxy, &e->tls_tcp);
	struct tna_cfg tc = {
		.verify = { .audience = c->auth_audience, .leeway_s = c->auth_leeway,
			    .max_bytes = (size_t)c->auth_max_token },
		.every_request = c->auth_every_request,
		.jti_capacity = (size_t)c->auth_jti_cache,
	};
	if ((rc = tna_init(&e->tna, &d->loop, &tc, &e->policy, sip_proxy_token_expired, &e->proxy,
			   &d->metrics, &d->log, SUB_SIP))) {
		snprintf(err, errlen, "cannot create the token checks");
		return rc;
	}
	e->tna_ready = 1;
	sip_proxy_attach_tna(&e->proxy, &e->tna);
	/* Before the WebSocket server: libwebsockets cannot be torn down
	 * after a failed start. */
	if ((rc = iq_start(d, e, err, errlen)))
		return rc;

	struct ws_server_cfg wc = {
		.wss = c->wss_listen,
		.ws = c->ws_listen,
		.cert_path = e->tls.cert_path,
		.key_path = e->tls.key_path,
		.max_message = (size_t)c->max_message,
		.max_per_ip = (unsigned)c->max_per_ip,
		.max_conns = (unsigned)c->max_conns,
		.msg_rate = (unsigned)c->msg_rate,
		.msg_burst = (unsigned)c->msg_burst,
		.ping_s = (unsigned)c->ping_s,
		.handshake_s = (unsigned)c->handshake_s,
		.policy = &e->policy,
	};
	struct ws_server_ops ops = { .message = on_ws_message, .closed = on_ws_closed, .arg = e };
	if ((rc = ws_server_start(&e->ws, &d->loop, &wc, &e->flows, &ops, &d->log, SUB_WS,
				  &d->metrics, err, errlen))) {
		char why[512];
		const char *k = c->wss_listen.len ? "sip.wss.listen" : "sip.ws.listen";
		snprintf(why, sizeof(why), "%s: %s: %s", daemon_where(d, k), k, err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	sip_proxy_attach_ws(&e->proxy, e->ws);

	if (c->wss_listen.len) {
		conf_addr_format((struct sockaddr *)&c->wss_listen.ss, addr, sizeof(addr));
		log_info(&d->log, SUB_WS, NULL, "listening", LF_S("service", "sip-wss"),
			 LF_S("addr", addr));
	}
	if (c->ws_listen.len) {
		conf_addr_format((struct sockaddr *)&c->ws_listen.ss, addr, sizeof(addr));
		log_info(&d->log, SUB_WS, NULL, "listening", LF_S("service", "sip-ws"),
			 LF_S("addr", addr));
	}
	log_info(&d->log, SUB_SIP, NULL, "listening", LF_S("service", "sip-ims"),
		 LF_S("addr", pc.ims_host), LF_S("transports", "udp,tcp"),
		 LF_S("next_hop_transport", transports[c->ims_transport]));
	if (e->tls_tcp_ready)
		log_info(&d->log, SUB_SIP, NULL, "listening", LF_S("service", "sip-ims-tls"),
			 LF_S("addr", pc.ims_tls_host), LF_S("fingerprint", e->tls.fingerprint_sha256));
	return 0;
}

static void epcscf_stop(struct daemon *d)
{
	struct epcscf *e = d->app;
	if (!e)
		return;
	ws_server_stop(e->ws);
	if (e->proxy_ready)
		sip_proxy_close(&e->proxy);
	if (e->tna_ready)
		tna_close(&e->tna);
	ims_udp_close(&e->udp);
	if (e->tcp_ready)
		ims_tcp_close(&e->tcp);
	if (e->tls_tcp_ready)
		ims_tcp_close(&e->tls_tcp);
	if (e->iq_ready) {
		iq_calls_close(&e->iq_calls);
		iq_server_close(&e->iq);
	}
}

static void epcscf_destroy(struct daemon *d)
{
	struct epcscf *e = d->app;
	if (!e)
		return;
	ws_server_free(e->ws);
	if (e->proxy_ready)
		sip_proxy_free(&e->proxy);
	if (e->tna_ready)
		tna_free(&e->tna);
	if (e->flows_ready)
		flow_table_free(&e->flows);
	wwsf_policy_free(&e->policy);
	tls_identity_free(&e->tls);
	if (e->iq_ready)
		iq_server_free(&e->iq);
	if (e->iq_tls_ready) {
		iqp_tls_ctx_free(&e->iq_tls);
		tls_identity_free(&e->iq_id);
	}
	if (e->ims_tls_ready) {
		iqp_tls_ctx_free(&e->ims_tls_srv);
		iqp_tls_ctx_free(&e->ims_tls_cli);
	}
	free(e);
	d->app = NULL;
}

static const struct daemon_ops epcscf_ops = {
	.name = "ep-cscf",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.cfg_size = sizeof(struct epcscf_cfg),
	.subsys = subsys_names,
	.n_subsys = N_SUBSYS,
	.build_info_metric = "epcscf_build_info",
	.prepare = epcscf_prepare,
	.start = epcscf_start,
	.stop = epcscf_stop,
	.reload = epcscf_reload,
	.destroy = epcscf_destroy,
};

int main(int argc, char **argv)
{
	return daemon_main(&epcscf_ops, argc, argv);
}
